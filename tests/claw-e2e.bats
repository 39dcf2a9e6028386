#!/usr/bin/env bats
# claw create, for real, from start to finish, faking only what cannot exist on Linux:
# Apple's catalog and a small IPSW are served by the test nginx; claw-restore and claw-boot
# are the test builds against the hypervisor fake (whose guest takes a DHCP lease on boot,
# as bootpd writes them); hdiutil and diskutil are the fakes that attach a folder standing
# in for the guest's Data volume; the guest is OpenSSH's sshd on 127.0.0.2:22, with the host
# key claw-inject keeps and the authorized_keys it writes, answering the first-boot marker;
# told `sudo shutdown -h now` (claw stop), it halts the fake's guest (tests/helpers/guest-shell).
# The tests run in order, each on what the one before left.

load helpers/common
load helpers/servers
load helpers/ipsw
load helpers/vm
load helpers/guest

E2E_USER=clawe2e

setup_file() {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	command -v useradd >/dev/null || skip "no useradd"
	export E2E=$BATS_FILE_TMPDIR KEYS_CMD=
	# The machine's image, served with a catalog that names it, its digest looked up by URL.
	mkdir -p "$E2E/www"
	printf 'claw-fake-ipsw\nversion=26.6\nbuild=25G72\nmin_cpu=2\nmin_ram=4294967296\n' >"$E2E/www/fake.ipsw"
	nginx_start "$E2E/www"
	sha1=$(sha1sum <"$E2E/www/fake.ipsw" | cut -d' ' -f1)
	sed -e "s|$MESU_URL|$NGINX_URL/fake.ipsw|g" -e "s|$MESU_SHA1|$sha1|g" "$MESU" >"$E2E/www/catalog.xml"
	# The guest's Data volume as restore leaves it, with the host keys sshd serves.
	export DATA=$E2E/guest-data GUEST=$E2E/guest
	guest_data_volume "$DATA"
	mkdir -p "$GUEST/var/log" "$GUEST/home" "$GUEST/bin" "$GUEST/Applications"
	guest_fake brew "$GUEST/bin/brew"
	bottle ripgrep 14.1.1 rg
	bottle zoxide 0.9.6 zoxide
	echo PROVISIONING_READY >"$GUEST/var/log/claw-firstboot.log"
	# sshd knows users by name: the guest's user, as an alias of root here (the guest shell
	# needs root for its private mounts), removed again in teardown_file.
	# Another run of this suite owns the address and the user while it listens: leave both alone.
	if (exec 3<>/dev/tcp/127.0.0.2/22) 2>/dev/null; then
		skip "something already listens on 127.0.0.2:22"
	fi
	userdel -f "$E2E_USER" 2>/dev/null || true
	useradd -o -u 0 -g 0 -M -N -p '*' -d "$GUEST/home" -s /bin/sh "$E2E_USER" || skip "cannot add the guest's user"
	export E2E_USER_ADDED=1
	mkdir -p "$E2E/sshd" /run/sshd
	# sshd runs an AuthorizedKeysCommand only from a path no one else can write: not under /tmp.
	KEYS_CMD=/run/sshd/claw-e2e-keys.$$
	install -m 0755 "$TOP/tests/helpers/e2e-keys" "$KEYS_CMD"
	cat >"$E2E/sshd/sshd_config" <<CONF
Port 22
ListenAddress 127.0.0.2
HostKey $DATA/private/etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile none
AuthorizedKeysCommand $KEYS_CMD %u $DATA $E2E/home/VMs
AuthorizedKeysCommandUser root
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $E2E/sshd/sshd.pid
ForceCommand $TOP/tests/helpers/guest-shell $GUEST
CONF
	"$(command -v sshd || echo /usr/sbin/sshd)" -f "$E2E/sshd/sshd_config" -E "$E2E/sshd/sshd.log" ||
		skip "cannot run sshd on 127.0.0.2:22"
	# The suite's own programs, with claw-restore and claw-boot from the fake's build.
	mkdir -p "$E2E/bin"
	for f in "$CLAW_BIN"/claw*; do ln -sf "$f" "$E2E/bin/"; done
	ln -sf "$CLAW_FAKE_BIN/claw-restore" "$CLAW_FAKE_BIN/claw-boot" "$E2E/bin/"
	export CLAW_HOME=$E2E/home HOME=$E2E/user
	mkdir -p "$HOME"
	ssh-keygen -q -t ed25519 -N '' -C me -f "$E2E/mykey"
	cat >"$E2E/claw.yml" <<YML
name: e2e
vm:
  cpu: 2
  ram: 4GB
  disk: 1GB
access:
  username: $E2E_USER
  password: e2e-secret
  ssh_key: mykey.pub
tools:
  homebrew: false
  packages: [ripgrep]
  custom:
    - name: mark the guest
      run: echo provisioned >>provisioned.txt
YML
}

teardown_file() {
	[ -n "${E2E:-}" ] || return 0
	for b in "$E2E"/home/VMs/*.clawbundle; do
		if [ -s "$b/run/pid" ]; then kill -KILL "$(cat "$b/run/pid")" 2>/dev/null || true; fi
	done
	if [ -f "$E2E/sshd/sshd.pid" ]; then kill "$(cat "$E2E/sshd/sshd.pid")" 2>/dev/null || true; fi
	nginx_stop
	rm -f "${KEYS_CMD:-}"
	[ -z "${E2E_USER_ADDED:-}" ] || userdel -f "$E2E_USER" 2>/dev/null || true
}

setup() {
	export CLAW_HOME=$E2E/home HOME=$E2E/user
	export CLAW_CATALOG_URL=$NGINX_URL/catalog.xml CLAW_LEASES=$E2E/dhcpd_leases
	export CLAW_FAKE_VM_LEASES=$E2E/dhcpd_leases CLAW_FAKE_VM_IP=127.0.0.2 CLAW_FAKE_VM_LOG=$E2E/vm.log
	export CLAW_FAKE_VM_HALT_FILE=$GUEST/halt
	export CLAW_FAKE_DISKS=$E2E/disks CLAW_FAKE_VOLUMES=$E2E/Volumes CLAW_FAKE_GUEST_DATA=$DATA
	export PATH="$E2E/bin:$TOP/tests/fakes/host:$PATH"
	B=$CLAW_HOME/VMs/e2e.clawbundle
	cd "$E2E" || return 1
}

# Every create runs where the fake disks can mount: a private mount namespace.
create() { unshare -m --propagation private claw create "$@"; }

stages_run() { # the stages a run started, from its headers
	printf '%s\n' "$output" | sed -n 's/^==> \([a-z]*\)$/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

gone() { ! kill -0 "$1" 2>/dev/null; }

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

@test "claw create: from a YAML file to a provisioned, verified machine" {
	run create -c claw.yml
	assert_success
	[ "$(stages_run)" = "resolve fetch restore inject boot ip provision verify" ] || fail "stages: $(stages_run)
$output"
	assert_line "ready: claw ssh e2e"
	assert_line "  ip:       127.0.0.2"
	assert_line "  screen:   claw vnc e2e  (vnc://$E2E_USER@127.0.0.2)"
	# Every file claw-bundle(7) lists.
	for f in claw.yml ipsw.json restore.ipsw disk.img aux.img config.json ssh/known_hosts ssh/id_ed25519 \
		inject.json run/pid run/state run/ip run/console.log provision.sh provision.log provision.json \
		manifest.json lock .stamps/resolve .stamps/fetch .stamps/restore .stamps/inject .stamps/provision \
		.stamps/verify; do
		[ -e "$B/$f" ] || fail "the bundle has no $f"
	done
	[ "$(readlink "$B/claw.yml")" = "$E2E/claw.yml" ]
	[ "$(cat "$B/run/state")" = running ]
	[ "$(json "$B/ipsw.json" 'd["version"], d["build"], d["source"]')" = "('26.6', '25G72', 'catalog')" ]
	# inject's files landed in the guest's Data volume, through the fake attach and detach.
	[ "$(stat -c '%a %u:%g' "$DATA/private/var/db/dslocal/nodes/Default/users/$E2E_USER.plist")" = "600 0:0" ]
	grep -q 'claw$' "$DATA/Users/$E2E_USER/.ssh/authorized_keys"
	# provision ran the config's custom step in the guest.
	[ "$(cat "$GUEST/home/provisioned.txt")" = provisioned ]
	run json "$B/manifest.json" 'd["vmName"], [(t["name"], t["version"], t["installed"]) for t in d["tools"]], bool(d["timestamp"])'
	assert_output "('e2e', [('ripgrep', '14.1.1', True)], True)"
}

@test "claw ssh logs in as the bundle's user, the host key checked strictly" {
	run claw ssh e2e echo hello from the guest
	assert_success
	assert_output "hello from the guest"
	run claw ls e2e
	assert_line --index 1 --regexp '^e2e +running +26\.6 +2 +4GB .* 127\.0\.0\.2$'
}

@test "claw vnc gives the screen's address; claw restart shuts the machine down and brings it back" {
	run claw vnc e2e
	assert_success
	assert_output "vnc://$E2E_USER@127.0.0.2"
	pid=$(cat "$B/run/pid")
	run claw restart e2e
	assert_success
	assert_output 127.0.0.2
	wait_for gone "$pid"
	[ "$(cat "$B/run/pid")" != "$pid" ]
	[ "$(cat "$B/run/state")" = running ]
}

@test "a second claw create does nothing" {
	before=$(stat -c %Y "$B/manifest.json" "$B/provision.json" "$B/inject.json")
	sleep 1
	run create e2e -v
	assert_success
	[ "$(stages_run)" = "" ] || fail "stages: $(stages_run)
$output"
	for s in resolve fetch restore inject provision verify; do assert_line "==> $s: up to date"; done
	assert_line "==> boot: running"
	[ "$(stat -c %Y "$B/manifest.json" "$B/provision.json" "$B/inject.json")" = "$before" ]
}

@test "a changed tools: list reruns only provision and verify" {
	sed -i 's/packages: \[ripgrep\]/packages: [ripgrep, zoxide]/' claw.yml
	run create e2e
	assert_success
	[ "$(stages_run)" = "provision verify" ] || fail "stages: $(stages_run)
$output"
	run json "$B/manifest.json" '[t["name"] for t in d["tools"]]'
	assert_output "['ripgrep', 'zoxide']"
}

@test "a failing provisioning step stops the run there; the rerun resumes at provision" {
	cp claw.yml claw.yml.good
	printf '    - exit 7\n' >>claw.yml
	run create e2e
	assert_failure 1
	[ "$(stages_run)" = "provision" ] || fail "stages: $(stages_run)
$output"
	assert_line "claw: provision failed (exit 1); 'claw create e2e' resumes there"
	[ ! -e "$B/.stamps/provision" ]
	[ -e "$B/.stamps/inject" ]
	cp claw.yml.good claw.yml
	run create e2e
	assert_success
	[ "$(stages_run)" = "provision verify" ] || fail "stages: $(stages_run)
$output"
}

@test "--from inject reruns inject and what follows, stopping the running machine first" {
	: >"$E2E/vm.log"
	run create e2e --from inject
	assert_success
	[ "$(stages_run)" = "stop inject boot ip provision verify" ] || fail "stages: $(stages_run)
$output"
	run vm_calls # the guest was told over SSH: no power button, no plug
	assert_output "host_check create start"
	[ "$(cat "$B/run/state")" = running ]
}

@test "claw stop, claw ls, claw clone, claw rm" {
	pid=$(cat "$B/run/pid")
	: >"$E2E/vm.log"
	run claw stop e2e
	assert_success
	assert_output ""
	wait_for gone "$pid"
	run vm_calls # shut down by its guest, told over SSH
	assert_output ""
	[ ! -e "$GUEST/halt" ]
	run claw ls e2e
	assert_line --index 1 --regexp '^e2e +stopped '
	run claw clone e2e e2e2
	assert_success
	[ "$(json "$B/config.json" 'd["machineIdentifier"]')" != "$(json "$CLAW_HOME/VMs/e2e2.clawbundle/config.json" 'd["machineIdentifier"]')" ]
	[ "$(json "$B/config.json" 'd["macAddress"]')" != "$(json "$CLAW_HOME/VMs/e2e2.clawbundle/config.json" 'd["macAddress"]')" ]
	cmp "$B/disk.img" "$CLAW_HOME/VMs/e2e2.clawbundle/disk.img"
	run claw ls
	assert_line --regexp '^e2e2 +stopped +26\.6 '
	run claw rm e2e2
	assert_success
	[ ! -e "$CLAW_HOME/VMs/e2e2.clawbundle" ]
	run claw start e2e
	assert_success
	assert_output 127.0.0.2
	run claw rm e2e
	assert_failure 75
	assert_output "claw: 'e2e' is running; stop it first, or rm -f"
	pid=$(cat "$B/run/pid")
	run claw rm -f e2e
	assert_success
	wait_for gone "$pid"
	[ ! -e "$B" ]
	run claw stop e2e
	assert_failure 66
	assert_output "claw: no bundle 'e2e' (looked for '$B')"
}

@test "share/claw/examples/Makefile: two machines under make -j2; an edited tools: list reruns only provision and verify" {
	touch "$E2E/allow-bundle-keys" # see tests/helpers/e2e-keys
	unset MAKEFLAGS MFLAGS MAKELEVEL # not the outer `make -s check`'s: the recipes must echo
	mkdir -p mk
	cd mk
	sed 's/^name: e2e/name: dev/; s|ssh_key: mykey.pub|ssh_key: ../mykey.pub|' ../claw.yml >dev.yml
	sed 's/^name: e2e/name: ci/; s|ssh_key: mykey.pub|ssh_key: ../mykey.pub|' ../claw.yml >ci.yml
	# Under umask 077, as a careful user runs it.
	run unshare -m --propagation private sh -c 'umask 077 && exec make -j2 -f "$1"' _ "$TOP/share/claw/examples/Makefile"
	assert_success
	[ "$(stat -c %a in/dev.access)" = 600 ]
	for m in dev ci; do
		[ -f "$CLAW_HOME/VMs/$m.clawbundle/manifest.json" ] || fail "no manifest for $m: $output"
		[ "$(cat "$CLAW_HOME/VMs/$m.clawbundle/run/state")" = running ]
	done
	# Both machines, one download: a single IPSW in the cache.
	[ "$(find "$CLAW_HOME/Cache" -name '*.ipsw' | wc -l)" = 1 ]
	run unshare -m --propagation private make -f "$TOP/share/claw/examples/Makefile"
	assert_success
	refute_output --partial claw-
	sed -i 's/echo provisioned/echo provisioned again/' dev.yml # a custom step: part of tools:
	run unshare -m --propagation private make -f "$TOP/share/claw/examples/Makefile"
	assert_success
	made=$output
	run grep -o '^claw-[a-z]* -b [^ ]*' <<<"$output"
	assert_output "claw-provision -b $CLAW_HOME/VMs/dev.clawbundle
claw-verify -b $CLAW_HOME/VMs/dev.clawbundle" || fail "make said: $made; dev.yml: $(cat dev.yml)"
	# One sshd stands in for both guests: told to shut down, it cannot say whose guest it is.
	for m in dev ci; do claw stop --force "$m"; done
}

@test "share/claw/examples/pipe.sh: the stages by hand, the secrets through the real sudo on inject's stdin" {
	command -v sudo >/dev/null || skip "no sudo"
	touch "$E2E/allow-bundle-keys" # see tests/helpers/e2e-keys
	mkdir -p pipe
	cd pipe
	sed 's/^name: e2e/name: piped/; s|ssh_key: mykey.pub|ssh_key: ../mykey.pub|' ../claw.yml >piped.yml
	# sudo as a Mac's admin meets it: env_reset (CLAW_HOME and every secret dropped), the
	# programs on its secure_path as an installed claw's are; the fakes' plumbing kept.
	sudoers_file sudoers "$E2E/bin:$TOP/tests/fakes/host:/usr/sbin:/usr/bin:/sbin:/bin"
	run with_sudoers "$PWD/sudoers" sh "$TOP/share/claw/examples/pipe.sh" piped piped.yml
	assert_success
	assert_line "piped is at 127.0.0.2"
	b=$CLAW_HOME/VMs/piped.clawbundle
	[ -f "$b/manifest.json" ]
	[ -f "$b/inject.json" ]
	[ "$(cat "$b/run/state")" = running ]
	# The password reached the guest from claw.yml, though sudo dropped the environment (the
	# one folder stands in for every guest's Data volume: piped's inject ran last).
	python3 - "$DATA/private/var/db/dslocal/nodes/Default/users/$E2E_USER.plist" e2e-secret <<'PY'
import hashlib, plistlib, sys
rec = plistlib.load(open(sys.argv[1], "rb"))
shd = plistlib.loads(rec["ShadowHashData"][0])["SALTED-SHA512-PBKDF2"]
assert hashlib.pbkdf2_hmac("sha512", sys.argv[2].encode(), shd["salt"], shd["iterations"], 128) == shd["entropy"]
PY
	# and no record of claw's holds it.
	run grep -rl e2e-secret "$b"
	assert_failure
	claw stop --force piped
	# No NAME, no CONFIG: a usage line, nothing made.
	run sh "$TOP/share/claw/examples/pipe.sh" nothing
	assert_failure
	assert_output --partial "usage: pipe.sh NAME CONFIG"
	[ ! -e "$CLAW_HOME/VMs/nothing.clawbundle" ]
	# A config that is not there: stopped at the first stage, nothing running.
	run with_sudoers "$PWD/sudoers" sh "$TOP/share/claw/examples/pipe.sh" lost missing.yml
	assert_failure
	[ ! -e "$CLAW_HOME/VMs/lost.clawbundle/run/pid" ]
	[ ! -e "$CLAW_HOME/VMs/lost.clawbundle/disk.img" ]
}
