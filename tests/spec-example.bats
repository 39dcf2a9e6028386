#!/usr/bin/env bats
# The spec's own example configuration, verbatim but for its comments, from `claw config check`
# to a verified machine, as tests/claw-e2e.bats runs claw create: the catalog and the image from
# the test nginx, the hypervisor fake, the fake hdiutil and diskutil, OpenSSH's sshd on
# 127.0.0.2:22 as the guest. The guest's brew and npm are the stand-ins (tests/fakes/guest), which
# install the spec's formulae, casks and npm packages from "bottles" and a "registry" written
# here; the custom steps clone and build with stand-in git and pnpm from those packages.

load helpers/common
load helpers/servers
load helpers/ipsw
load helpers/guest

SPEC_USER="admin" # the spec's access.username

setup_file() {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	command -v useradd >/dev/null || skip "no useradd"
	# Another suite owns the address (and its user) while it listens: leave both alone.
	if (exec 3<>/dev/tcp/127.0.0.2/22) 2>/dev/null; then
		skip "something already listens on 127.0.0.2:22"
	fi
	if id "$SPEC_USER" >/dev/null 2>&1; then
		skip "this machine has a user '$SPEC_USER' of its own"
	fi
	export SPEC=$BATS_FILE_TMPDIR KEYS_CMD=
	# The spec's 100GB disk: claw-restore wants that much free space first, more than a test
	# machine may have. A tmpfs that size costs only what is written (the disk is sparse).
	mkdir -p "$SPEC/home"
	mount -t tmpfs -o size=256g,mode=0755 claw-spec "$SPEC/home" || skip "cannot mount a tmpfs for the 100GB disk"
	export SPEC_MOUNTED=1
	mkdir -p "$SPEC/www"
	printf 'claw-fake-ipsw\nversion=26.6\nbuild=25G72\nmin_cpu=2\nmin_ram=4294967296\n' >"$SPEC/www/fake.ipsw"
	nginx_start "$SPEC/www"
	sha1=$(sha1sum <"$SPEC/www/fake.ipsw" | cut -d' ' -f1)
	sed -e "s|$MESU_URL|$NGINX_URL/fake.ipsw|g" -e "s|$MESU_SHA1|$sha1|g" "$MESU" >"$SPEC/www/catalog.xml"
	export DATA=$SPEC/guest-data GUEST=$SPEC/guest
	guest_data_volume "$DATA"
	mkdir -p "$GUEST/var/log" "$GUEST/home" "$GUEST/bin" "$GUEST/Applications"
	echo PROVISIONING_READY >"$GUEST/var/log/claw-firstboot.log"
	guest_tools
	useradd -o -u 0 -g 0 -M -N -p '*' -d "$GUEST/home" -s /bin/sh "$SPEC_USER" || skip "cannot add the guest's user"
	export SPEC_USER_ADDED=1
	mkdir -p "$SPEC/sshd" /run/sshd
	KEYS_CMD=/run/sshd/claw-spec-keys.$$
	install -m 0755 "$TOP/tests/helpers/e2e-keys" "$KEYS_CMD"
	cat >"$SPEC/sshd/sshd_config" <<CONF
Port 22
ListenAddress 127.0.0.2
HostKey $DATA/private/etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile none
AuthorizedKeysCommand $KEYS_CMD %u $DATA $SPEC/home/VMs
AuthorizedKeysCommandUser root
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $SPEC/sshd/sshd.pid
ForceCommand $TOP/tests/helpers/guest-shell $GUEST
CONF
	"$(command -v sshd || echo /usr/sbin/sshd)" -f "$SPEC/sshd/sshd_config" -E "$SPEC/sshd/sshd.log" ||
		skip "cannot run sshd on 127.0.0.2:22"
	mkdir -p "$SPEC/bin"
	for f in "$CLAW_BIN"/claw*; do ln -sf "$f" "$SPEC/bin/"; done
	ln -sf "$CLAW_FAKE_BIN/claw-restore" "$CLAW_FAKE_BIN/claw-boot" "$SPEC/bin/"
	export CLAW_HOME=$SPEC/home HOME=$SPEC/user
	mkdir -p "$HOME/.ssh"
	ssh-keygen -q -t ed25519 -N '' -C me -f "$HOME/.ssh/id_ed25519"
	# The spec's example, verbatim apart from its comments.
	cat >"$SPEC/claw.yml" <<'YML'
vm: {cpu: 4, ram: 8GB, disk: 100GB, macos: latest, display: {width: 1920, height: 1080, dpi: 144}}
access: {username: admin, password: admin, ssh_key: ~/.ssh/id_ed25519.pub, vnc_password: clawos}
tools:
  homebrew: true
  packages: [git, node, python3, wget]
  casks: [visual-studio-code, google-chrome]
  npm_global: ["@anthropic-ai/claude-code", "@google/generative-ai", "@openai/codex", "openclaw@latest", "pnpm"]
  custom:
    - "git clone https://github.com/openclaw/openclaw.git ~/openclaw"
    - "cd ~/openclaw && pnpm install --frozen-lockfile"
    - "cd ~/openclaw && pnpm build"
YML
}

# What the guest's brew and npm can install: the spec's formulae, casks and packages, with a git
# that clones without a network and a pnpm that installs and builds what it was given.
guest_tools() {
	guest_fake brew "$GUEST/bin/brew"
	bottle git 2.47.1 git git-shell scalar
	cat >"$GUEST/brew-bottles/git/2.47.1/bin/git" <<'SH'
#!/bin/sh
# git clone URL DIR, with no network: DIR becomes a checkout with a package.json and a lockfile.
if [ "$1" != clone ] || [ -z "$3" ]; then
	echo "stand-in git: clone URL DIR only" >&2
	exit 129
fi
echo "Cloning into '$3'..."
mkdir -p "$3" && printf '{"name": "openclaw", "private": true}\n' >"$3/package.json" && : >"$3/pnpm-lock.yaml"
SH
	bottle node 23.4.0 node npm npx corepack
	guest_fake npm "$GUEST/brew-bottles/node/23.4.0/bin/npm"
	bottle python@3.13 3.13.1 python3 python3.13 pip3 pip3.13
	ln -s python@3.13 "$GUEST/brew-bottles/python3"
	bottle wget 1.25.0 wget
	cask visual-studio-code 1.96.2 "Visual Studio Code.app"
	cask google-chrome 131.0.6778.205 "Google Chrome.app"
	package @anthropic-ai/claude-code 0.2.9 '{"claude": "cli.js"}'
	package @google/generative-ai 0.21.0
	package @openai/codex 0.1.2504 '{"codex": "bin/codex.js"}'
	package openclaw 2026.1.5 '"openclaw.mjs"'
	package pnpm 9.15.1 '{"pnpm": "bin/pnpm.cjs", "pnpx": "bin/pnpx.cjs"}'
	cat >"$GUEST/npm-registry/pnpm/bin/pnpm.cjs" <<'SH'
#!/bin/sh
# pnpm install --frozen-lockfile needs the lockfile; pnpm build needs what install made.
case $1 in
install) [ -f pnpm-lock.yaml ] || { echo "ERR_PNPM_NO_LOCKFILE" >&2; exit 1; }; mkdir -p node_modules ;;
build) [ -d node_modules ] || exit 1; mkdir -p dist && echo built >dist/index.js ;;
*) exit 1 ;;
esac
SH
}

teardown_file() {
	[ -n "${SPEC:-}" ] || return 0
	for b in "$SPEC"/home/VMs/*.clawbundle; do
		if [ -s "$b/run/pid" ]; then kill -KILL "$(cat "$b/run/pid")" 2>/dev/null || true; fi
	done
	if [ -f "$SPEC/sshd/sshd.pid" ]; then kill "$(cat "$SPEC/sshd/sshd.pid")" 2>/dev/null || true; fi
	nginx_stop
	rm -f "${KEYS_CMD:-}"
	[ -z "${SPEC_USER_ADDED:-}" ] || userdel -f "$SPEC_USER" 2>/dev/null || true
	[ -z "${SPEC_MOUNTED:-}" ] || umount -l "$SPEC/home" || true
}

setup() {
	export CLAW_HOME=$SPEC/home HOME=$SPEC/user
	export CLAW_CATALOG_URL=$NGINX_URL/catalog.xml CLAW_LEASES=$SPEC/dhcpd_leases
	export CLAW_FAKE_VM_LEASES=$SPEC/dhcpd_leases CLAW_FAKE_VM_IP=127.0.0.2 CLAW_FAKE_VM_LOG=$SPEC/vm.log
	export CLAW_FAKE_VM_HALT_FILE=$GUEST/halt # what the guest makes of claw stop's shutdown
	export CLAW_FAKE_DISKS=$SPEC/disks CLAW_FAKE_VOLUMES=$SPEC/Volumes CLAW_FAKE_GUEST_DATA=$DATA
	export PATH="$SPEC/bin:$TOP/tests/fakes/host:$PATH"
	cd "$SPEC" || return 1
}

stages_run() { printf '%s\n' "$output" | sed -n 's/^==> \([a-z]*\)$/\1/p' | tr '\n' ' ' | sed 's/ $//'; }

@test "claw config check passes the spec's example" {
	run claw config -c claw.yml check
	assert_success
}

@test "claw create with the spec's example: all eight stages, every tool judged by its package manager" {
	run unshare -m --propagation private claw create -c claw.yml
	assert_success
	[ "$(stages_run)" = "resolve fetch restore inject boot ip provision verify" ] || fail "stages: $(stages_run)
$output"
	assert_line --partial "ready: claw ssh "
	b=$(find "$CLAW_HOME/VMs" -maxdepth 1 -name '*.clawbundle')
	# The custom steps ran in order, in the guest: cloned, installed with the lockfile, built.
	[ "$(cat "$GUEST/home/openclaw/dist/index.js")" = built ]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print(t["name"], t["version"], t["installed"], t["ok"], " ".join(t["commands"]), t["missing"]) for t in d["tools"]]' "$b/manifest.json"
	assert_output "brew 4.4.9 True True brew []
git 2.47.1 True True git git-shell scalar []
node 23.4.0 True True corepack node npm npx []
python3 3.13.1 True True pip3 pip3.13 python3 python3.13 []
wget 1.25.0 True True wget []
visual-studio-code 1.96.2 True True Visual Studio Code.app []
google-chrome 131.0.6778.205 True True Google Chrome.app []
@anthropic-ai/claude-code 0.2.9 True True claude []
@google/generative-ai 0.21.0 True True  []
@openai/codex 0.1.2504 True True codex []
openclaw@latest 2026.1.5 True True openclaw []
pnpm 9.15.1 True True pnpm pnpx []"
}

@test "a command the guest loses stops verify with it named; the rerun runs verify alone" {
	b=$(find "$CLAW_HOME/VMs" -maxdepth 1 -name '*.clawbundle')
	name=$(basename "$b" .clawbundle)
	rm "$GUEST/bin/claude"
	run unshare -m --propagation private claw create "$name" --from verify
	assert_failure 1
	[ "$(stages_run)" = "verify" ] || fail "stages: $(stages_run)
$output"
	assert_line --regexp '^@anthropic-ai/claude-code +npm +0\.2\.9 +INCOMPLETE +missing: claude$'
	ln -s ../lib/node_modules/@anthropic-ai/claude-code/cli.js "$GUEST/bin/claude"
	run unshare -m --propagation private claw create "$name"
	assert_success
	[ "$(stages_run)" = "verify" ] || fail "stages: $(stages_run)
$output"
	claw stop "$name"
}
