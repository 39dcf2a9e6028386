#!/usr/bin/env bats
# claw create as a user who is not root, with the real sudo: its env_reset drops CLAW_PASSWORD
# on the way to claw-inject, so the driver hands the secrets over on inject's stdin; and an
# unattended run with no cached credential stops before it downloads anything. sudo reads an
# /etc/sudoers of the test's own, bind-mounted in a private mount namespace; hdiutil and
# diskutil are the fakes in tests/fakes/host (kept on sudo's secure_path, their state
# variables in env_keep: plumbing of the fakes, not secrets).

load helpers/common
load helpers/vm

SUDO_USER_NAME=clawsudo

setup_file() {
	command -v sudo >/dev/null || skip "no sudo"
	command -v setpriv >/dev/null || skip "no setpriv"
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	userdel -f "$SUDO_USER_NAME" 2>/dev/null || true
	useradd -M -N -s /bin/sh "$SUDO_USER_NAME" || skip "cannot add a user"
	# Where the user can reach: the programs, and a home of its own.
	others_copy
	export OPS
	OPS=$(mktemp -d /tmp/claw-sudo.XXXXXX)
	chmod 0755 "$OPS"
}

teardown_file() {
	userdel -f "$SUDO_USER_NAME" 2>/dev/null || true
	[ -z "${OPS:-}" ] || rm -rf "$OPS"
	others_remove
}

# sudoers RULE: the file sudo reads in the namespace.
sudoers() {
	sudoers_file "$BATS_TEST_TMPDIR/sudoers" "$TOP/tests/fakes/host:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$1"
}

setup() {
	common_setup
	vm_setup
	W=$OPS/$BATS_TEST_NUMBER
	mkdir -p "$W"
	# The user's home, as the password database says (what ~ means to a program run by sudo).
	usermod -d "$W" "$SUDO_USER_NAME"
	export CLAW_HOME=$W/claw-home
	export CLAW_FAKE_DISKS=$BATS_TEST_TMPDIR/disks CLAW_FAKE_VOLUMES=$BATS_TEST_TMPDIR/Volumes
	export CLAW_FAKE_GUEST_DATA=$BATS_TEST_TMPDIR/guest-data CLAW_FAKE_GUEST_SYSTEM=$BATS_TEST_TMPDIR/guest-system
	export HOST_DATA=$BATS_TEST_TMPDIR/host-data HOST_DATA2=$BATS_TEST_TMPDIR/host-data2
	mkdir -p "$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/users" "$CLAW_FAKE_GUEST_DATA/Users" \
		"$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/groups" \
		"$CLAW_FAKE_GUEST_SYSTEM/System/Library/CoreServices"
	python3 -c 'import plistlib,sys; plistlib.dump({"name":["admin"],"gid":["80"],"users":["root"]}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' \
		"$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/groups/admin.plist"
	echo '<plist><dict/></plist>' >"$CLAW_FAKE_GUEST_SYSTEM/System/Library/CoreServices/SystemVersion.plist"
	mkdir -p "$HOST_DATA/private/var/db" "$HOST_DATA2/private/var/db"
	ssh-keygen -q -t ed25519 -N '' -C me@host -f "$W/mykey"
	printf 'access:\n  username: dev\n  password: from-the-file\n  ssh_key: mykey.pub\nvm:\n  disk: 1GB\n' >"$W/claw.yml"
	fake_ipsw "$W/fake.ipsw"
	restore -b dev -c "$W/claw.yml" --ipsw "$W/fake.ipsw"
	B=$CLAW_HOME/VMs/dev.clawbundle
	chown -R "$SUDO_USER_NAME" "$W"
}

# as_user [VAR=value...] -- COMMAND...: COMMAND as the user, on a fake Mac whose sudo reads the
# test's sudoers, with no terminal.
as_user() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	with_sudoers "$BATS_TEST_TMPDIR/sudoers" env PATH="$TOP/tests/fakes/host:$PATH" "$TOP/tests/helpers/with-host-volumes" \
		setpriv --reuid="$SUDO_USER_NAME" --regid="$(id -g "$SUDO_USER_NAME")" --init-groups \
		env -i HOME="$W" PATH="$OTHERS/bin:/usr/bin:/bin" CLAW_HOME="$CLAW_HOME" \
		CLAW_FAKE_DISKS="$CLAW_FAKE_DISKS" CLAW_FAKE_VOLUMES="$CLAW_FAKE_VOLUMES" \
		CLAW_FAKE_GUEST_DATA="$CLAW_FAKE_GUEST_DATA" CLAW_FAKE_GUEST_SYSTEM="$CLAW_FAKE_GUEST_SYSTEM" \
		"${vars[@]}" "$@" </dev/null
}

# restored_before: the stamps a run that made the machine up to restore would have left (the
# setup restored it by hand), computed as the driver does, with the user's stamp key.
restored_before() {
	local d
	ln -sfn "$W/claw.yml" "$B/claw.yml"
	d=$(as_user -- claw-config -b "$B" digest vm.macos , "@$B/ipsw.json" , vm.disk "@$B/ipsw.json")
	mkdir -p "$B/.stamps"
	# shellcheck disable=SC2086 # three hex digests, a line each
	set -- $d
	echo "$1" >"$B/.stamps/resolve"
	echo "$2" >"$B/.stamps/fetch"
	echo "$3" >"$B/.stamps/restore"
	chown -R "$SUDO_USER_NAME" "$B/.stamps"
}

# The password the guest's login and auto-login hold: ShadowHashData's PBKDF2 recomputed, and
# kcpassword undone with its fixed key.
guest_password_is() {
	python3 - "$CLAW_FAKE_GUEST_DATA" "$1" <<'PY'
import hashlib, plistlib, sys
root, want = sys.argv[1], sys.argv[2].encode()
rec = plistlib.load(open(root + "/private/var/db/dslocal/nodes/Default/users/dev.plist", "rb"))
shd = plistlib.loads(rec["ShadowHashData"][0])["SALTED-SHA512-PBKDF2"]
assert hashlib.pbkdf2_hmac("sha512", want, shd["salt"], shd["iterations"], 128) == shd["entropy"], "ShadowHashData"
key = bytes.fromhex("7d895223d2bcddeaa3b91f")
kc = open(root + "/private/etc/kcpassword", "rb").read()
plain = bytes(b ^ key[i % len(key)] for i, b in enumerate(kc)).split(b"\0")[0]
assert plain == want, "kcpassword holds %r" % plain
PY
}

@test "CLAW_PASSWORD survives sudo: the guest's login and auto-login hold it, not the file's or the default" {
	sudoers "$SUDO_USER_NAME ALL=(root) NOPASSWD: ALL"
	run as_user CLAW_PASSWORD='given secret 9' CLAW_VNC_PASSWORD=vnc12345 -- claw create dev -c "$W/claw.yml" --from inject --to inject
	assert_success
	guest_password_is 'given secret 9'
	# inject ran as root, and gave what it made in the bundle back to the user.
	[ "$(stat -c %U "$B/inject.json")" = "$SUDO_USER_NAME" ]
	# No stamp reveals it: digests are keyed by the user's 0600 stamp.key.
	[ "$(stat -c '%a %U' "$CLAW_HOME/stamp.key")" = "600 $SUDO_USER_NAME" ]
	run grep -rl "$(printf %s 'given secret 9' | sha256sum | cut -c1-64)" "$B" "$CLAW_HOME"
	assert_failure
}

@test "a changed password reruns inject; the same one does not" {
	sudoers "$SUDO_USER_NAME ALL=(root) NOPASSWD: ALL"
	restored_before
	run as_user CLAW_PASSWORD=first-one -- claw create dev -c "$W/claw.yml" --to inject
	assert_success
	guest_password_is first-one
	run as_user CLAW_PASSWORD=first-one -- claw create dev -c "$W/claw.yml" --to inject -v
	assert_success
	assert_line "==> inject: up to date"
	run as_user CLAW_PASSWORD=second-one -- claw create dev -c "$W/claw.yml" --to inject
	assert_success
	assert_line "==> inject"
	guest_password_is second-one
}

@test "without CLAW_PASSWORD the file's password reaches the guest (its ~ read as the user's)" {
	sudoers "$SUDO_USER_NAME ALL=(root) NOPASSWD: ALL"
	printf 'pw-in-a-file\n' >"$W/pw"
	chmod 0600 "$W/pw"
	chown "$SUDO_USER_NAME" "$W/pw"
	printf 'access:\n  username: dev\n  password_file: ~/pw\n  ssh_key: mykey.pub\nvm:\n  disk: 1GB\n' >"$W/claw.yml"
	run as_user -- claw create dev -c "$W/claw.yml" --from inject --to inject
	assert_success
	guest_password_is pw-in-a-file
}

@test "unattended, with no cached sudo credential: 77 at once, before anything is downloaded" {
	sudoers "$SUDO_USER_NAME ALL=(root) ALL"
	printf 'vm:\n  macos: latest\n' >"$W/new.yml"
	run as_user CLAW_CATALOG_URL=http://127.0.0.1:9/never -- claw create fresh -c "$W/new.yml"
	assert_failure 77
	assert_output "claw: inject needs root, and sudo would ask for a password with no terminal to ask on; run 'sudo -v' first, then this again"
	[ ! -e "$CLAW_HOME/VMs/fresh.clawbundle/ipsw.json" ]
	[ ! -e "$CLAW_HOME/Cache" ]
	# A bundle already injected needs no root: nothing asked.
	sudoers "$SUDO_USER_NAME ALL=(root) NOPASSWD: ALL"
	restored_before
	run as_user -- claw create dev -c "$W/claw.yml" --to inject
	assert_success
	sudoers "$SUDO_USER_NAME ALL=(root) ALL"
	run as_user -- claw create dev -c "$W/claw.yml" --to inject
	assert_success
}
