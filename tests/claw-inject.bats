#!/usr/bin/env bats
# claw-inject --root: every payload on a temporary tree, read back the way macOS would read it.

load helpers/common

setup() {
	common_setup
	G=$BATS_TEST_TMPDIR/guest
	mkdir -p "$G"
	ssh-keygen -q -t ed25519 -N '' -C me@host -f mykey
	cat >claw.yml <<YML
access:
  username: dev
  password: "p@ss w0rd;\$(x) 'q' \"dq\""
  ssh_key: mykey.pub
YML
	PW="p@ss w0rd;\$(x) 'q' \"dq\""
	B=$CLAW_HOME/VMs/dev.clawbundle
}

inject() { claw-inject -b dev -c claw.yml --root "$G" "$@"; }

plist() { # FILE EXPR -> python's reading of a (binary) plist
	python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); print(eval(sys.argv[2]))' "$1" "$2"
}

@test "every file lands with its owner and mode" {
	run inject
	assert_success
	cd "$G"
	check() { [ "$(stat -c '%a %u:%g' "$1")" = "$2" ] || fail "$1 is $(stat -c '%a %u:%g' "$1"), not $2"; }
	check private/var/db/dslocal/nodes/Default/users/dev.plist "600 0:0"
	check private/var/db/dslocal/nodes/Default/groups/admin.plist "600 0:0"
	check Users/dev "750 501:20"
	check Users/dev/.ssh "700 501:20"
	check Users/dev/.ssh/authorized_keys "600 501:20"
	check private/etc/ssh/ssh_host_ed25519_key "600 0:0"
	check private/etc/ssh/ssh_host_ed25519_key.pub "644 0:0"
	check private/etc/ssh/sshd_config.d/000-claw.conf "644 0:0"
	check private/etc/ssh/ssh_host_rsa_key "600 0:0"
	check private/var/db/com.apple.xpc.launchd/disabled.plist "644 0:0"
	check Library/LaunchDaemons/com.claw.sshd.plist "644 0:0"
	check private/etc/kcpassword "600 0:0"
	check Library/Preferences/com.apple.loginwindow.plist "644 0:0"
	check private/etc/sudoers.d/claw-dev "440 0:0"
}

@test "the user record: dslocal's array convention, and a ShadowHashData PBKDF2 recomputed independently" {
	inject
	u=$G/private/var/db/dslocal/nodes/Default/users/dev.plist
	head -c 8 "$u" | grep -q bplist00
	run plist "$u" '(d["name"], d["uid"], d["gid"], d["home"], d["shell"], d["passwd"], d["authentication_authority"], d["_writers_passwd"])'
	assert_output "(['dev'], ['501'], ['20'], ['/Users/dev'], ['/bin/zsh'], ['********'], [';ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>'], ['dev'])"
	run python3 - "$u" "$PW" <<'PY'
import hashlib, plistlib, sys
rec = plistlib.load(open(sys.argv[1], "rb"))
shd = plistlib.loads(rec["ShadowHashData"][0])["SALTED-SHA512-PBKDF2"]
assert len(shd["salt"]) == 32 and len(shd["entropy"]) == 128
ok = hashlib.pbkdf2_hmac("sha512", sys.argv[2].encode(), shd["salt"], shd["iterations"], 128) == shd["entropy"]
bad = hashlib.pbkdf2_hmac("sha512", b"wrong", shd["salt"], shd["iterations"], 128) == shd["entropy"]
print(ok, bad, len(rec["generateduid"][0]))
PY
	assert_output "True False 36"
}

@test "a bare tree gets the admin group as macOS ships it, with the user added once" {
	inject
	a=$G/private/var/db/dslocal/nodes/Default/groups/admin.plist
	uuid=$(plist "$G/private/var/db/dslocal/nodes/Default/users/dev.plist" 'd["generateduid"][0]')
	run plist "$a" '(d["gid"], d["users"], d["groupmembers"][1], d["generateduid"])'
	assert_output "(['80'], ['root', 'dev'], '$uuid', ['ABCDEFAB-CDEF-ABCD-EFAB-CDEF00000050'])"
}

@test "an existing admin group keeps its members" {
	mkdir -p "$G/private/var/db/dslocal/nodes/Default/groups"
	python3 -c 'import plistlib,sys; plistlib.dump({"name":["admin"],"gid":["80"],"users":["root","other"],"groupmembers":["U1"]}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' "$G/private/var/db/dslocal/nodes/Default/groups/admin.plist"
	inject
	run plist "$G/private/var/db/dslocal/nodes/Default/groups/admin.plist" 'd["users"]'
	assert_output "['root', 'other', 'dev']"
}

@test "a second run leaves the same tree, and lists the user once" {
	inject
	cp "$B/inject.json" first.json
	cp "$B/ssh/known_hosts" first_known
	inject
	cmp first.json "$B/inject.json"
	cmp first_known "$B/ssh/known_hosts"
	run plist "$G/private/var/db/dslocal/nodes/Default/groups/admin.plist" 'd["users"].count("dev")'
	assert_output 1
}

@test "sshd is enabled without clobbering launchd's other overrides" {
	mkdir -p "$G/private/var/db/com.apple.xpc.launchd"
	python3 -c 'import plistlib,sys; plistlib.dump({"com.apple.ftpd": True, "com.openssh.sshd": True}, open(sys.argv[1],"wb"))' "$G/private/var/db/com.apple.xpc.launchd/disabled.plist"
	inject
	run plist "$G/private/var/db/com.apple.xpc.launchd/disabled.plist" 'sorted(d.items())'
	assert_output "[('com.apple.ftpd', True), ('com.openssh.sshd', False)]"
}

@test "host keys: their public halves are the bundle's known_hosts; keys authorized" {
	inject
	run wc -l <"$B/ssh/known_hosts"
	assert_output 3
	for t in rsa ecdsa ed25519; do
		grep -qF "$(cut -d' ' -f1,2 "$G/private/etc/ssh/ssh_host_${t}_key.pub")" "$B/ssh/known_hosts"
	done
	ssh-keygen -l -f "$B/ssh/known_hosts" >/dev/null
	grep -qF "$(cut -d' ' -f2 mykey.pub)" "$G/Users/dev/.ssh/authorized_keys"
	grep -qF "$(cut -d' ' -f2 "$B/ssh/id_ed25519.pub")" "$G/Users/dev/.ssh/authorized_keys"
	[ "$(stat -c %a "$B/ssh/id_ed25519")" = 600 ]
}

@test "auto-login: kcpassword by the vectors' rule, and loginwindow's autoLoginUser" {
	printf 'access:\n  username: dev\n  password: admin\n' >claw.yml
	inject --only autologin
	[ "$(od -An -v -tx1 "$G/private/etc/kcpassword" | tr -d ' \n')" = 1ced3f4abcbcddeaa3b91f7d ]
	grep -q "'admin' *1ced3f4abcbcddeaa3b91f7d" "$FIXTURES/kcpassword_vectors.txt"
	run plist "$G/Library/Preferences/com.apple.loginwindow.plist" 'd["autoLoginUser"]'
	assert_output dev
}

@test "sudo: a NOPASSWD rule that visudo accepts" {
	inject --only sudo
	run cat "$G/private/etc/sudoers.d/claw-dev"
	assert_line "dev ALL=(ALL) NOPASSWD: ALL"
	if command -v visudo >/dev/null; then visudo -c -f "$G/private/etc/sudoers.d/claw-dev"; fi
	run ls -A "$G/private/etc"
	assert_output sudoers.d
}

@test "setup: all six offline layers, for the guest's version" {
	make_bundle "$B"
	echo '{"os": {"version": "15.2", "build": "24C101"}}' >"$B/config.json"
	inject --only setup
	cd "$G"
	[ "$(stat -c '%a %u:%g %s' private/var/db/.AppleSetupDone)" = "400 0:0 0" ]
	[ -e Library/Receipts/.SetupRegComplete ]
	[ -e "Library/User Template/English.lproj/.skipbuddy" ]
	[ -e "Library/User Template/Non_localized/.skipbuddy" ]
	[ "$(stat -c '%a %u:%g' Users/dev/Library/Preferences/com.apple.SetupAssistant.plist)" = "600 501:20" ]
	run plist Users/dev/Library/Preferences/com.apple.SetupAssistant.plist '(d["DidSeeCloudSetup"], d["DidSeePrivacy"], d["LastSeenCloudProductVersion"], d["LastSeenBuddyBuildVersion"], d["MiniBuddyLaunchedPostMigration"])'
	assert_output "(True, True, '15.2', '24C101', True)"
	run plist Library/Preferences/com.apple.SetupAssistant.managed.plist '(d["SkipCloudSetup"], d["SkipSiriSetup"], len(d["SkipSetupItems"]))'
	assert_output "(True, True, 18)"
	run plist Library/Preferences/com.apple.SetupAssistant.plist 'd["DidSeeScreenTime"]'
	assert_output True
}

@test "setup: every SkipSetupItems key is one Apple's list marks as available on macOS" {
	inject --only setup
	python3 - "$G/Library/Preferences/com.apple.SetupAssistant.managed.plist" "$FIXTURES/apple_device-management_skipkeys.yaml" <<'PY'
import plistlib, sys, yaml
ours = plistlib.load(open(sys.argv[1], "rb"))["SkipSetupItems"]
apple = {k["key"]: k.get("supportedOS", {}).get("macOS", {}).get("introduced", "n/a") for k in yaml.safe_load(open(sys.argv[2]))["payloadkeys"]}
bad = [k for k in ours if apple.get(k, "n/a") == "n/a"]
missing = [k for k, v in apple.items() if v != "n/a" and k not in ours]
assert not bad and not missing, (bad, missing)
PY
}

@test "--dry-run lists every path, owner, mode and digest, and writes nothing" {
	run inject --dry-run
	assert_success
	assert_line --regexp '^file 0600   0:0   [0-9a-f]{12} private/var/db/dslocal/nodes/Default/users/dev.plist$'
	assert_line --regexp '^dir 0750 501:20  - Users/dev$'
	[ -z "$(ls -A "$G")" ]
	[ ! -e "$B/inject.json" ]
}

@test "the password is in no file in clear" {
	inject
	run grep -rlF "p@ss w0rd" "$G" "$B"
	assert_failure 1
}

@test "a symbolic link planted in the guest is not written through" {
	mkdir -p "$G/private/etc"
	ln -s /etc/passwd "$G/private/etc/kcpassword"
	run inject
	assert_failure 65
	assert_output "claw-inject: '$G/private/etc/kcpassword' is a symbolic link in the guest; refusing to write through it"
	[ "$(head -c 5 /etc/passwd)" = "root:" ]
}

@test "not root: 77 with a hint" {
	command -v setpriv >/dev/null || skip "no setpriv"
	others_copy
	g2=$(mktemp -d /tmp/claw-nonroot.XXXXXX)
	chmod 755 "$g2"
	run setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$OTHERS/bin:$PATH" HOME=/tmp CLAW_HOME=/tmp/x "$OTHERS/bin/claw-inject" -b dev --root "$g2"
	rmdir "$g2"
	others_remove
	assert_failure 77
	assert_output "claw-inject: needs root to give the guest's files their owners (run it with sudo)"
}

@test "bad input: no --root on a bundle not restored, unknown part, a config macOS would reject" {
	run claw-inject -b dev -c claw.yml
	assert_failure 66
	assert_output "claw-inject: no bundle 'dev' (looked for '$CLAW_HOME/VMs/dev.clawbundle')"
	run inject --only user,vnc2
	assert_failure 64
	assert_line --index 0 "claw-inject: unknown part 'vnc2' (parts: user, ssh, vnc, autologin, sudo, setup, firstboot)"
	printf 'access:\n  username: "a;b"\n' >bad.yml
	run claw-inject -b dev -c bad.yml --root "$G"
	assert_failure 78
	[ -z "$(ls -A "$G")" ]
	run claw-inject -b dev --root "$G" --root-typo 2>/dev/null
	assert_failure 64
}

@test "firstboot: a script that passes shellcheck, and a LaunchDaemon that runs it" {
	inject --only firstboot
	f=$G/Library/Scripts/claw-firstboot.sh
	[ "$(stat -c '%a %u:%g' "$f")" = "700 0:0" ]
	[ "$(stat -c '%a %u:%g' "$G/Library/LaunchDaemons/com.claw.firstboot.plist")" = "644 0:0" ]
	shellcheck -s sh "$f"
	sh -n "$f"
	run plist "$G/Library/LaunchDaemons/com.claw.firstboot.plist" '(d["Label"], d["ProgramArguments"], d["RunAtLoad"])'
	assert_output "('com.claw.firstboot', ['/bin/sh', '/Library/Scripts/claw-firstboot.sh'], True)"
	run grep -c "p@ss" "$f"
	assert_output 0
}

@test "firstboot: run with fake macOS tools, it writes PROVISIONING_READY before it removes itself" {
	inject --only firstboot
	mkdir -p fakebin varlog
	cp "$TOP"/tests/fakes/macos/* fakebin/
	printf '#!/bin/sh\nexit 0\n' >fakebin/sleep
	chmod +x fakebin/*
	cp "$G/Library/Scripts/claw-firstboot.sh" fb.sh
	export CLAW_FAKE_LOG=$BATS_TEST_TMPDIR/calls
	run unshare -m sh -c 'mount --bind "$1" /var/log && PATH="$2:$PATH" sh "$3"; cat /var/log/claw-firstboot.log' _ \
		"$BATS_TEST_TMPDIR/varlog" "$BATS_TEST_TMPDIR/fakebin" "$BATS_TEST_TMPDIR/fb.sh"
	assert_success
	assert_line "PROVISIONING_READY"
	[ ! -e fb.sh ]
	run cat calls
	assert_line "dscl . -create /Users/dev UniqueID 501"
	assert_line "dseditgroup -o edit -a dev -t user admin"
	assert_line "systemsetup -setremotelogin on"
	assert_line "launchctl bootout system/com.claw.firstboot"
}

@test "vnc: Screen Sharing on with the VNC password, launchd's other overrides kept" {
	mkdir -p "$G/private/var/db/com.apple.xpc.launchd"
	python3 -c 'import plistlib,sys; plistlib.dump({"com.example.kept": True}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' \
		"$G/private/var/db/com.apple.xpc.launchd/disabled.plist"
	CLAW_VNC_PASSWORD=vncpass1 run inject
	assert_success
	f=$G/Library/Preferences/com.apple.VNCSettings.txt
	[ "$(stat -c '%a %u:%g' "$f")" = "600 0:0" ]
	# Decoded here independently: the first 8 bytes, zero-padded to 16, XOR the ARD key.
	run python3 -c '
import sys
k = bytes.fromhex("1734516E8BA8C5E2FF1C39567390ADCA")
line = open(sys.argv[1]).read()
assert line.endswith("\n") and len(line) == 33, repr(line)
print(bytes(a ^ b for a, b in zip(bytes.fromhex(line.strip()), k)).rstrip(b"\0").decode())' "$f"
	assert_output vncpass1
	run plist "$G/Library/Preferences/com.apple.RemoteManagement.plist" 'd["VNCLegacyConnectionsEnabled"], d["ScreenSharingReqPermEnabled"]'
	assert_output "(True, False)"
	run plist "$G/private/var/db/com.apple.xpc.launchd/disabled.plist" 'sorted(d.items())'
	assert_output "[('com.apple.screensharing', False), ('com.example.kept', True), ('com.openssh.sshd', False)]"
	grep -q 'launchctl enable system/com.apple.screensharing' "$G/Library/Scripts/claw-firstboot.sh"
}

@test "vnc: nothing when claw.yml has no VNC password; one over 8 characters is refused (78)" {
	run inject --only vnc
	assert_success
	[ ! -e "$G/Library/Preferences/com.apple.VNCSettings.txt" ]
	CLAW_VNC_PASSWORD=longerthan8 run inject --only vnc
	assert_failure 78
}

@test "ssh: password logins stay on until provisioning hardens them, through the file the hardening step replaces" {
	run inject --only ssh
	assert_success
	f=$G/private/etc/ssh/sshd_config.d/000-claw.conf
	grep -qx 'PasswordAuthentication yes' "$f"
	grep -qx 'PubkeyAuthentication yes' "$f"
	[ ! -e "$G/private/etc/ssh/sshd_config" ] # Apple's own file is not touched
	# The hardening step of claw-provision writes the same path.
	run claw-provision -b dev --print-script
	assert_output --partial "/etc/ssh/sshd_config.d/000-claw.conf"
}
