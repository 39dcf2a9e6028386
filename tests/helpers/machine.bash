# A whole machine for claw create, faking only what cannot exist on Linux: Apple's catalog
# and a small IPSW served by the test nginx; claw-restore and claw-boot from the fake's build
# (its guest takes a DHCP lease on boot); hdiutil and diskutil the fakes that attach a folder
# standing in for the guest's Data volume; the guest OpenSSH's sshd on IP:22, with the host key
# claw-inject keeps and the authorized_keys it writes, answering the first-boot marker.
# shellcheck shell=bash

# machine_start IP USER: everything in $BATS_FILE_TMPDIR (as $M); skips when it cannot be had.
machine_start() {
	local ip=$1 user=$2
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	command -v useradd >/dev/null || skip "no useradd"
	export M=$BATS_FILE_TMPDIR M_IP=$ip M_USER=$user M_KEYS_CMD=
	mkdir -p "$M/www"
	printf 'claw-fake-ipsw\nversion=26.6\nbuild=25G72\nmin_cpu=2\nmin_ram=4294967296\n' >"$M/www/fake.ipsw"
	nginx_start "$M/www"
	local sha1
	sha1=$(sha1sum <"$M/www/fake.ipsw" | cut -d' ' -f1)
	sed -e "s|$MESU_URL|$NGINX_URL/fake.ipsw|g" -e "s|$MESU_SHA1|$sha1|g" "$MESU" >"$M/www/catalog.xml"
	export DATA=$M/guest-data GUEST=$M/guest
	guest_data_volume "$DATA"
	mkdir -p "$GUEST/var/log" "$GUEST/home" "$GUEST/bin" "$GUEST/Applications"
	guest_fake brew "$GUEST/bin/brew"
	bottle ripgrep 14.1.1 rg
	echo PROVISIONING_READY >"$GUEST/var/log/claw-firstboot.log"
	# Another run that owns the address and the user while it listens is left alone.
	if (exec 3<>"/dev/tcp/$ip/22") 2>/dev/null; then
		skip "something already listens on $ip:22"
	fi
	# sshd knows users by name: the guest's user, an alias of root (the guest shell needs root
	# for its private mounts), removed again by machine_stop.
	userdel -f "$user" 2>/dev/null || true
	useradd -o -u 0 -g 0 -M -N -p '*' -d "$GUEST/home" -s /bin/sh "$user" || skip "cannot add the guest's user"
	export M_USER_ADDED=1
	mkdir -p "$M/sshd" /run/sshd
	# sshd runs an AuthorizedKeysCommand only from a path no one else can write: not under /tmp.
	M_KEYS_CMD=/run/sshd/claw-machine-keys.$$
	install -m 0755 "$TOP/tests/helpers/e2e-keys" "$M_KEYS_CMD"
	cat >"$M/sshd/sshd_config" <<CONF
Port 22
ListenAddress $ip
HostKey $DATA/private/etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile none
AuthorizedKeysCommand $M_KEYS_CMD %u $DATA $M/home/VMs
AuthorizedKeysCommandUser root
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $M/sshd/sshd.pid
ForceCommand $TOP/tests/helpers/guest-shell $GUEST
CONF
	"$(command -v sshd || echo /usr/sbin/sshd)" -f "$M/sshd/sshd_config" -E "$M/sshd/sshd.log" ||
		skip "cannot run sshd on $ip:22"
	# The suite's own programs, with claw-restore and claw-boot from the fake's build.
	mkdir -p "$M/bin"
	local f
	for f in "$CLAW_BIN"/claw*; do ln -sf "$f" "$M/bin/"; done
	ln -sf "$CLAW_FAKE_BIN/claw-restore" "$CLAW_FAKE_BIN/claw-boot" "$M/bin/"
	ssh-keygen -q -t ed25519 -N '' -C me -f "$M/mykey"
	cat >"$M/claw.yml" <<YML
name: machine
vm:
  cpu: 2
  ram: 4GB
  disk: 1GB
access:
  username: $user
  password: machine-secret
  ssh_key: mykey.pub
tools:
  homebrew: false
  packages: [ripgrep]
  custom:
    - name: mark the guest
      run: echo provisioned >>provisioned.txt
YML
	machine_env
}

# machine_env: what each test's commands need to reach the machine.
machine_env() {
	export CLAW_HOME=$M/home HOME=$M/user TMPDIR=$M/tmp
	mkdir -p "$HOME" "$TMPDIR"
	export CLAW_CATALOG_URL=$NGINX_URL/catalog.xml CLAW_LEASES=$M/dhcpd_leases
	export CLAW_FAKE_VM_LEASES=$M/dhcpd_leases CLAW_FAKE_VM_IP=$M_IP CLAW_FAKE_VM_LOG=$M/vm.log
	export CLAW_FAKE_VM_HALT_FILE=$GUEST/halt # what the guest makes of claw stop's shutdown
	export CLAW_FAKE_DISKS=$M/disks CLAW_FAKE_VOLUMES=$M/Volumes CLAW_FAKE_GUEST_DATA=$DATA
	export PATH="$M/bin:$TOP/tests/fakes/host:$PATH"
	cd "$M" || return 1
}

# machine_stop: every machine it ran, sshd, nginx, the user.
machine_stop() {
	[ -n "${M:-}" ] || return 0
	local b
	for b in "$M"/home/VMs/*.clawbundle; do
		if [ -s "$b/run/pid" ]; then kill -KILL "$(cat "$b/run/pid")" 2>/dev/null || true; fi
	done
	if [ -f "$M/sshd/sshd.pid" ]; then kill "$(cat "$M/sshd/sshd.pid")" 2>/dev/null || true; fi
	nginx_stop
	rm -f "${M_KEYS_CMD:-}"
	[ -z "${M_USER_ADDED:-}" ] || userdel -f "$M_USER" 2>/dev/null || true
}
