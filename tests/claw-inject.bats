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
	mkdir -p "$B"
	echo '{"version": "15.2", "build": "24C101"}' >"$B/ipsw.json"
}

# Every path under DIR with its type, mode, owner and content digest.
tree_snapshot() {
	(cd "$1" && find . -printf '%p %y %m %U:%G\n' | sort && find . -type f -exec sha256sum {} + | sort)
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
	check private/etc/kcpassword "600 0:0"
	check Library/Preferences/com.apple.loginwindow.plist "644 0:0"
	check private/etc/sudoers.d/claw-dev "440 0:0"
	check Library/LaunchDaemons/com.claw.firstboot.plist "644 0:0"
	check Library/Scripts/claw-firstboot.sh "700 0:0"
	[ ! -e Library/LaunchDaemons/com.claw.sshd.plist ] # the second sshd is gone for good
	# The bundle: its owner's alone; inject.json holds no digest of a secret.
	[ "$(stat -c %a "$B")" = 700 ]
	[ "$(stat -c %a "$B/inject.json")" = 600 ]
	[ "$(stat -c %a "$B/ssh")" = 700 ]
	run python3 - "$B/inject.json" <<'PY'
import json, sys
files = {f["path"]: f for f in json.load(open(sys.argv[1]))["files"]}
for p in ("private/etc/kcpassword", "private/var/db/dslocal/nodes/Default/users/dev.plist",
          "private/etc/ssh/ssh_host_ed25519_key", "private/etc/ssh/ssh_host_rsa_key"):
    f = files[p]
    assert f["secret"] is True and "sha256" not in f and f["mode"] == "0600" and f["uid"] == 0, f
assert all("sha256" in f for f in files.values() if f["type"] == "file" and not f.get("secret")), files
print(sum(1 for f in files.values() if f.get("secret")))
PY
	assert_output 5
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

@test "sshd is enabled without clobbering launchd's other overrides; an earlier claw's second sshd goes" {
	mkdir -p "$G/private/var/db/com.apple.xpc.launchd" "$G/Library/LaunchDaemons"
	python3 -c 'import plistlib,sys; plistlib.dump({"com.apple.ftpd": True, "com.openssh.sshd": True, "com.claw.sshd": False}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' "$G/private/var/db/com.apple.xpc.launchd/disabled.plist"
	echo old >"$G/Library/LaunchDaemons/com.claw.sshd.plist"
	inject
	f=$G/private/var/db/com.apple.xpc.launchd/disabled.plist
	run plist "$f" 'sorted(d.items())'
	assert_output "[('com.apple.ftpd', True), ('com.openssh.sshd', False)]"
	head -c 5 "$f" | grep -q '<?xml' # as launchd writes it
	[ ! -e "$G/Library/LaunchDaemons/com.claw.sshd.plist" ]
	run python3 -c 'import json,sys; print([f["type"] for f in json.load(open(sys.argv[1]))["files"] if f["path"].endswith("com.claw.sshd.plist")])' "$B/inject.json"
	assert_output "['removed']"
}

@test "a disabled.plist that expands to 2^64 nodes is refused at once (65), and the guest is left as it was" {
	mkdir -p "$G/private/var/db/com.apple.xpc.launchd"
	# 64 arrays, each referring twice to the next: a few hundred bytes, 2^65 nodes in libplist.
	python3 - "$G/private/var/db/com.apple.xpc.launchd/disabled.plist" <<'PY'
import plistlib, sys
a = []
for _ in range(64):
    a = [a, a]
open(sys.argv[1], "wb").write(plistlib.dumps(a, fmt=plistlib.FMT_BINARY))
PY
	[ "$(stat -c %s "$G/private/var/db/com.apple.xpc.launchd/disabled.plist")" -lt 1024 ]
	tree_snapshot "$G" >before
	run timeout 20 claw-inject -b dev -c claw.yml --root "$G"
	assert_failure 65
	assert_output "claw-inject: private/var/db/com.apple.xpc.launchd/disabled.plist is a binary plist that expands to more than 262144 nodes; refusing it"
	tree_snapshot "$G" >after
	diff before after
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

# sudo -l -U USER as the real sudo answers it, in a private mount namespace whose /etc/sudoers
# includes only the guest's sudoers.d and whose /etc/passwd knows USER.
sudo_list() { # USER
	printf 'Defaults !lecture\nroot ALL=(ALL) ALL\n#includedir %s\n' "$G/private/etc/sudoers.d" >sudoers
	chmod 0440 sudoers
	{ cat /etc/passwd; printf '%s:x:501:20::/nonexistent:/bin/sh\n' "$1"; } >passwd
	unshare -m sh -c 'mount --bind "$1" /etc/sudoers && mount --bind "$2" /etc/passwd && sudo -l -U "$3"' _ \
		"$BATS_TEST_TMPDIR/sudoers" "$BATS_TEST_TMPDIR/passwd" "$1"
}

@test "sudo: visudo accepts the rule, and a real sudo grants NOPASSWD: ALL through #includedir" {
	command -v sudo >/dev/null || skip "no sudo (make deps installs it)"
	inject --only sudo
	run cat "$G/private/etc/sudoers.d/claw-dev"
	assert_line "dev ALL=(ALL) NOPASSWD: ALL"
	visudo -c -f "$G/private/etc/sudoers.d/claw-dev"
	run ls -A "$G/private/etc"
	assert_output sudoers.d
	run sudo_list dev
	assert_success
	assert_line --regexp '^ +\(ALL\) NOPASSWD: ALL$'
}

@test "sudo: a dotted username gets a file sudo reads (no dot in its name), and the dotted one an earlier claw wrote goes" {
	command -v sudo >/dev/null || skip "no sudo (make deps installs it)"
	sed -i 's/username: dev/username: first.last/' claw.yml
	mkdir -p "$G/private/etc/sudoers.d"
	printf 'first.last ALL=(ALL) NOPASSWD: ALL\n' >"$G/private/etc/sudoers.d/claw-first.last"
	chmod 0440 "$G/private/etc/sudoers.d/claw-first.last"
	# What the old name gave: sudo skips a file with a dot in its name, without a word.
	run sudo_list first.last
	refute_line --partial NOPASSWD
	inject --only sudo
	run ls "$G/private/etc/sudoers.d"
	assert_output claw-first_last
	visudo -c -f "$G/private/etc/sudoers.d/claw-first_last"
	run sudo_list first.last
	assert_success
	assert_line --regexp '^ +\(ALL\) NOPASSWD: ALL$'
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
	assert_output "(True, True, 23)"
	run plist Library/Preferences/com.apple.SetupAssistant.plist 'd["DidSeeScreenTime"]'
	assert_output True
}

@test "setup: SkipSetupItems is every key Apple's list marks available on macOS, inheritance read as the list says" {
	inject --only setup
	# A key with no macOS entry of its own takes the payload's: macOS 10.9 (supportedOS at the top).
	run python3 - "$G/Library/Preferences/com.apple.SetupAssistant.managed.plist" "$FIXTURES/apple_device-management_skipkeys.yaml" <<'PY'
import plistlib, sys, yaml
ours = plistlib.load(open(sys.argv[1], "rb"))["SkipSetupItems"]
doc = yaml.safe_load(open(sys.argv[2]))
top = doc["payload"]["supportedOS"]["macOS"]
apple = {k["key"]: (k.get("supportedOS") or {}).get("macOS", top).get("introduced", "n/a") for k in doc["payloadkeys"]}
bad = [k for k in ours if apple.get(k, "n/a") == "n/a"]
missing = [k for k, v in apple.items() if v != "n/a" and k not in ours]
assert not bad and not missing, (bad, missing)
print(" ".join(k for k in ("AppleID", "Diagnostics", "TOS", "Restore") if k in ours))
PY
	assert_success
	assert_output "AppleID Diagnostics TOS Restore"
}

@test "setup: LastSeen* from ipsw.json when config.json has no version; unknown or hostile versions refused (65), nothing written" {
	inject --only setup
	run plist "$G/Users/dev/Library/Preferences/com.apple.SetupAssistant.plist" '(d["LastSeenCloudProductVersion"], d["LastSeenBuddyBuildVersion"])'
	assert_output "('15.2', '24C101')"
	rm -rf "${G:?}"/* "$B/ipsw.json"
	run inject --only setup
	assert_failure 65
	assert_output "claw-inject: the guest's macOS version is unknown; the Setup Assistant part needs it: claw-restore records it in config.json (os.version), or claw-resolve -b BUNDLE VERSION writes ipsw.json"
	[ -z "$(ls -A "$G")" ]
	echo '{"version": "15.2'"'"'; rm -rf /"}' >"$B/ipsw.json"
	run inject
	assert_failure 65
	assert_output --partial "the guest's macOS version is '15.2'; rm -rf /', not a version"
	[ -z "$(ls -A "$G")" ]
}

@test "--dry-run lists every path, owner, mode and digest, and writes nothing" {
	run inject --dry-run
	assert_success
	assert_line --regexp '^file 0600   0:0   secret private/var/db/dslocal/nodes/Default/users/dev.plist$'
	assert_line --regexp '^file 0644   0:0   [0-9a-f]{12} private/etc/ssh/sshd_config.d/000-claw.conf$'
	assert_line 'removed Library/LaunchDaemons/com.claw.sshd.plist'
	assert_line --regexp '^dir 0750 501:20  - Users/dev$'
	[ -z "$(ls -A "$G")" ]
	[ ! -e "$B/inject.json" ]
}

@test "the password is in no file in clear" {
	inject
	run grep -rlF "p@ss w0rd" "$G" "$B"
	assert_failure 1
}

@test "a symbolic link planted in the guest is not written through, and nothing is written at all" {
	mkdir -p "$G/private/etc"
	ln -s /etc/passwd "$G/private/etc/kcpassword"
	tree_snapshot "$G" >before
	run inject
	assert_failure 65
	assert_output "claw-inject: '$G/private/etc/kcpassword' is a symbolic link in the guest; refusing to write through it"
	[ "$(head -c 5 /etc/passwd)" = "root:" ]
	tree_snapshot "$G" >after
	diff before after
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
	rm -rf "$B"
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

@test "firstboot: the script passes sh -n and shellcheck, holds the values as data and no password" {
	inject --only firstboot
	f=$G/Library/Scripts/claw-firstboot.sh
	[ "$(stat -c '%a %u:%g' "$f")" = "700 0:0" ]
	shellcheck -s sh "$f"
	sh -n "$f"
	run grep -E "^(user|uid|version|sudoers)=" "$f"
	assert_output "user='dev'
uid='501'
version='15.2'
sudoers='claw-dev'"
	run grep -c "p@ss" "$f"
	assert_output 0
}

@test "every LaunchDaemon plist passes launchd's rules: Label is the file name, ProgramArguments strings, root:wheel 0644" {
	inject
	n=0
	for f in "$G"/Library/LaunchDaemons/*.plist; do
		n=$((n + 1))
		[ "$(stat -c '%u:%g' "$f")" = 0:0 ]
		[ "$(stat -c %a "$f")" = 644 ]
		run find "$f" "$(dirname "$f")" -maxdepth 0 -perm /022
		assert_output ""
		run python3 - "$f" <<'PY'
import os, plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
assert d["Label"] == os.path.basename(sys.argv[1])[:-len(".plist")], d["Label"]
args = d["ProgramArguments"]
assert isinstance(args, list) and args and all(isinstance(a, str) for a in args), args
assert isinstance(d.get("RunAtLoad", False), bool)
print("ok")
PY
		assert_output ok
	done
	[ "$n" = 1 ]
}

# The first boot, simulated: the guest's Data volume as / in a private root (its private/
# firmlinked as etc, var, tmp, as macOS has it), the host's /usr for sh and coreutils, a
# User Template, and stand-ins for the macOS tools first on PATH, each recording its call.
first_boot() { # [VAR=value...] for the stand-ins
	R=$BATS_TEST_TMPDIR/root
	cp -a "$G" "$R"
	mkdir -p "$R/usr" "$R/dev" "$R/private/tmp" "$R/System/Library/User Template/Non_localized/Library/Preferences" \
		"$R/System/Library/User Template/English.lproj/Desktop" "$R/private/var/log"
	for l in bin lib lib64 sbin; do ln -s "usr/$l" "$R/$l"; done
	for l in etc var tmp; do ln -s "private/$l" "$R/$l"; done
	# macOS's own /etc/passwd and /etc/group hold root and wheel (visudo looks itself up).
	printf 'root:*:0:0:System Administrator:/var/root:/bin/sh\n' >"$R/private/etc/passwd"
	printf 'wheel:*:0:root\nstaff:*:20:root\nadmin:*:80:root\n' >"$R/private/etc/group"
	echo template >"$R/System/Library/User Template/Non_localized/Library/Preferences/.GlobalPreferences.plist"
	echo template >"$R/System/Library/User Template/English.lproj/Desktop/.localized"
	echo "from the template" >"$R/System/Library/User Template/Non_localized/.ssh-not-this"
	mkdir -p "$R/System/Library/User Template/Non_localized/.ssh"
	echo "template's own" >"$R/System/Library/User Template/Non_localized/.ssh/authorized_keys"
	cp -R "$TOP/tests/fakes/macos" "$R/standins"
	run unshare -m sh -c 'R=$1 && shift && mount --bind /usr "$R/usr" && mount --rbind /dev "$R/dev" &&
		chroot "$R" env -i PATH=/standins:/usr/bin:/bin:/usr/sbin:/sbin CLAW_FAKE_LOG=/calls "$@" \
			/bin/sh /Library/Scripts/claw-firstboot.sh; echo "exit $?"' _ "$R" "$@"
	export R
}

@test "first boot: bootstraps sshd, waits for port 22, says ready before it boots itself out; the home from the User Template" {
	inject
	first_boot CLAW_FAKE_PORT_AFTER=3
	assert_output "exit 0"
	run cat "$R/calls"
	assert_line "launchctl bootstrap system /System/Library/LaunchDaemons/ssh.plist"
	assert_line "dscl . -create /Users/dev UniqueID 501"
	assert_line "dseditgroup -o edit -a dev -t user admin"
	assert_line "sudo -l -U dev"
	assert_line "launchctl bootout system/com.claw.firstboot (the log says ready)"
	refute_line --partial systemsetup
	refute_line --partial kickstart
	refute_line --partial pkill # the console never was the user's: no kill
	# It asked for port 22 until it opened: three refusals, then yes.
	run grep -c '^nc -z -G 2 127.0.0.1 22$' "$R/calls"
	assert_output 5
	run grep -n -e '^launchctl bootstrap system /System/Library/LaunchDaemons/ssh.plist$' -e '^nc ' "$R/calls"
	assert_line --index 0 --regexp '^[0-9]+:launchctl bootstrap'
	run cat "$R/private/var/log/claw-firstboot.log"
	assert_line "claw first boot: sshd listens on port 22"
	assert_line "claw first boot: sudo: dev may run anything without a password"
	assert_line PROVISIONING_READY
	refute_line --partial PROVISIONING_FAILED
	refute_line --partial warning
	[ ! -e "$R/Library/Scripts/claw-firstboot.sh" ]
	[ ! -e "$R/Library/LaunchDaemons/com.claw.firstboot.plist" ]
	# The home: the template's files under claw's, never over them, all the user's.
	[ "$(cat "$R/Users/dev/Library/Preferences/.GlobalPreferences.plist")" = template ]
	[ "$(cat "$R/Users/dev/Desktop/.localized")" = template ]
	grep -q "claw" "$R/Users/dev/.ssh/authorized_keys"
	run find "$R/Users/dev" ! -user 501 -print
	assert_output ""
	[ "$(stat -c %a "$R/Users/dev/.ssh")" = 700 ]
	# No password anywhere on the disk in clear.
	run grep -rlF "p@ss w0rd" "$R/private" "$R/Users" "$R/Library"
	assert_failure 1
}

@test "first boot: a port 22 that never opens gives a PROVISIONING_FAILED line, no READY, and it stays for the next boot" {
	inject
	first_boot CLAW_FAKE_PORT_NEVER=1
	assert_output "exit 1"
	run cat "$R/private/var/log/claw-firstboot.log"
	assert_line "claw first boot: PROVISIONING_FAILED: sshd is not listening on port 22 after 60 s (launchctl print system/com.openssh.sshd)"
	refute_line PROVISIONING_READY
	run cat "$R/calls"
	refute_line --partial bootout
	[ -e "$R/Library/Scripts/claw-firstboot.sh" ]
}

@test "first boot: a refused bootstrap falls back to kickstart; Setup Assistant is ended once, only in the user's session" {
	inject
	first_boot CLAW_FAKE_BOOTSTRAP_FAILS=1 CLAW_FAKE_CONSOLE_USER=dev CLAW_FAKE_SETUP_RUNNING=1 CLAW_FAKE_USER_EXISTS=1 CLAW_FAKE_SW_VERS=15.3
	assert_output "exit 0"
	run cat "$R/calls"
	assert_line "launchctl kickstart -k system/com.openssh.sshd"
	assert_line "pkill -x Setup Assistant"
	refute_line --partial "dscl . -create"
	run grep -c '^pkill' "$R/calls"
	assert_output 1
	run cat "$R/private/var/log/claw-firstboot.log"
	assert_line "claw first boot: warning: claw-inject wrote the Setup Assistant layers for macOS 15.2, this is 15.3"
	assert_line PROVISIONING_READY
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
	run python3 -c 'import json,sys; print([f.get("secret") for f in json.load(open(sys.argv[1]))["files"] if f["path"].endswith("VNCSettings.txt")])' "$B/inject.json"
	assert_output "[True]"
}

@test "vnc: nothing when claw.yml has no VNC password; one over 8 characters is refused (78)" {
	run inject --only vnc
	assert_success
	[ ! -e "$G/Library/Preferences/com.apple.VNCSettings.txt" ]
	CLAW_VNC_PASSWORD=longerthan8 run inject --only vnc
	assert_failure 78
}

# sshd -T: the configuration sshd would run with, from the macOS sshd_config (its Include
# pointed at the guest's folder) with Apple's 100-macos.conf beside claw's drop-in.
sshd_t() {
	d=$G/private/etc/ssh/sshd_config.d
	cp "$FIXTURES/macos_etc_ssh_sshd_config.d_100-macos.conf.txt" "$d/100-macos.conf"
	sed "s|^Include /etc/ssh/sshd_config.d/\*|Include $d/*|" "$FIXTURES/macos_etc_ssh_sshd_config_default_ventura-sonoma.txt" >sshd_config
	grep -q "^Include $d/\*" sshd_config
	mkdir -p /run/sshd
	/usr/sbin/sshd -T -f sshd_config -h "$G/private/etc/ssh/ssh_host_ed25519_key"
}

@test "ssh: key-only under sshd -T with macOS's sshd_config; the same file the hardening step replaces" {
	run inject --only ssh
	assert_success
	run sshd_t
	assert_success
	assert_line "passwordauthentication no"
	assert_line "kbdinteractiveauthentication no"
	assert_line "pubkeyauthentication yes"
	assert_line "usepam yes" # Apple's own file still read after claw's
	[ ! -e "$G/private/etc/ssh/sshd_config" ] # Apple's own file is not touched
	run claw-provision -b dev --print-script
	assert_output --partial "/etc/ssh/sshd_config.d/000-claw.conf"
}

@test "ssh: access.ssh_password_login: true turns passwords on, and only then" {
	printf '  ssh_password_login: true\n' >>claw.yml
	run inject --only ssh
	assert_success
	run sshd_t
	assert_line "passwordauthentication yes"
	assert_line "kbdinteractiveauthentication yes"
	printf 'access:\n  username: dev\n  ssh_password_login: "yes please"\n' >bad.yml
	run claw-inject -b dev -c bad.yml --root "$G" --only ssh
	assert_failure 78
	assert_output --partial "ssh_password_login"
}

@test "every plist parses with libplist and holds the types the real samples hold" {
	command -v plistutil >/dev/null || skip "no plistutil (libplist-utils)"
	CLAW_VNC_PASSWORD=vncpass1 inject
	run find "$G" -name '*.plist' -type f
	for f in "${lines[@]}"; do
		plistutil -i "$f" -o /dev/null || fail "libplist cannot read $f"
	done
	[ "${#lines[@]}" -ge 8 ]
	# The user record against the real 10.9 record: every attribute an array, of the same item type.
	run python3 - "$G/private/var/db/dslocal/nodes/Default/users/dev.plist" "$FIXTURES/dslocal_user_vagrant_macos10.9.plist" \
		"$G/private/var/db/dslocal/nodes/Default/groups/admin.plist" "$G/Library/Preferences/com.apple.SetupAssistant.managed.plist" \
		"$FIXTURES/apple_device-management_com.apple.SetupAssistant.managed.yaml" "$G/Library/Preferences/com.apple.loginwindow.plist" <<'PY'
import plistlib, sys, yaml
ours, real = (plistlib.load(open(p, "rb")) for p in sys.argv[1:3])
common = set(ours) & set(real)
assert {"name", "uid", "gid", "home", "shell", "ShadowHashData", "authentication_authority", "generateduid"} <= common, common
for k in common:
    assert isinstance(ours[k], list) and isinstance(real[k], list), k
    assert {type(v) for v in ours[k]} == {type(v) for v in real[k]}, (k, ours[k], real[k])
group = plistlib.load(open(sys.argv[3], "rb"))
assert all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in group.values()), group
managed = plistlib.load(open(sys.argv[4], "rb"))
types = {k["key"]: k["type"] for k in yaml.safe_load(open(sys.argv[5]))["payloadkeys"]}
want = {"<boolean>": bool, "<array>": list, "<string>": str}
for k, v in managed.items():
    assert isinstance(v, want[types[k]]), (k, v, types[k])
assert all(isinstance(s, str) for s in managed["SkipSetupItems"])
lw = plistlib.load(open(sys.argv[6], "rb"))
assert isinstance(lw["autoLoginUser"], str) and isinstance(lw["autoLoginUserScreenLocked"], bool)
print(len(common))
PY
	assert_success
}

@test "the user: a rerun merges into the record (SecureToken, KerberosKeys, picture kept); the uid is the record's own" {
	mkdir -p "$G/private/var/db/dslocal/nodes/Default/users" "$G/private/var/db/dslocal/nodes/Default/groups"
	python3 - "$G/private/var/db/dslocal/nodes/Default/users" <<'PY'
import plistlib, sys
d = sys.argv[1]
def rec(name, uid, **extra):
    r = {"name": [name], "uid": [str(uid)], "gid": ["20"], "home": ["/Users/" + name], "shell": ["/bin/bash"],
         "realname": ["Old Name"], "generateduid": ["11111111-2222-3333-4444-555555555555"]}
    r.update(extra)
    plistlib.dump(r, open(f"{d}/{name}.plist", "wb"), fmt=plistlib.FMT_BINARY)
rec("dev", 503, authentication_authority=[";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2,SRP-RFC5054-4096-SHA512-PBKDF2>", ";SecureToken;", ";Kerberosv5;;dev@LKDC:SHA1.X;LKDC:SHA1.X;"],
    KerberosKeys=[b"kk"], LinkedIdentity=[b"li"], accountPolicyData=[b"apd"], picture=["/Library/User Pictures/x.heic"])
PY
	python3 -c 'import plistlib,sys; plistlib.dump({"name":["admin"],"gid":["80"],"users":["root"],"groupmembers":["U1"]}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' "$G/private/var/db/dslocal/nodes/Default/groups/admin.plist"
	inject
	run plist "$G/private/var/db/dslocal/nodes/Default/users/dev.plist" '(d["uid"], d["shell"], d["realname"], d["generateduid"], d["KerberosKeys"], d["LinkedIdentity"], d["accountPolicyData"], d["picture"], d["authentication_authority"])'
	assert_output "(['503'], ['/bin/zsh'], ['dev'], ['11111111-2222-3333-4444-555555555555'], [b'kk'], [b'li'], [b'apd'], ['/Library/User Pictures/x.heic'], [';ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>', ';SecureToken;', ';Kerberosv5;;dev@LKDC:SHA1.X;LKDC:SHA1.X;'])"
	[ "$(stat -c %u:%g "$G/Users/dev/.ssh/authorized_keys")" = 503:20 ]
	grep -qx "uid='503'" "$G/Library/Scripts/claw-firstboot.sh"
}

@test "the user: a new one gets the lowest uid from 501 no record holds; a malformed record of another is refused (65)" {
	mkdir -p "$G/private/var/db/dslocal/nodes/Default/users"
	for u in other:501 third:502 far:600; do
		python3 -c 'import plistlib,sys; plistlib.dump({"name":[sys.argv[2]],"uid":[sys.argv[3]]}, open(sys.argv[1]+"/"+sys.argv[2]+".plist","wb"), fmt=plistlib.FMT_BINARY)' \
			"$G/private/var/db/dslocal/nodes/Default/users" "${u%%:*}" "${u#*:}"
	done
	inject
	run plist "$G/private/var/db/dslocal/nodes/Default/users/dev.plist" 'd["uid"]'
	assert_output "['503']"
	[ "$(stat -c %u "$G/Users/dev")" = 503 ]
	rm -rf "$G"
	mkdir -p "$G/private/var/db/dslocal/nodes/Default/users"
	echo 'not a plist' >"$G/private/var/db/dslocal/nodes/Default/users/other.plist"
	tree_snapshot "$G" >before
	run inject
	assert_failure 65
	assert_output "claw-inject: $G/private/var/db/dslocal/nodes/Default/users/other.plist is not a property list"
	tree_snapshot "$G" >after
	diff before after
}

@test "a volume that ignores ownership is refused (74) before anything is written" {
	command -v bindfs >/dev/null || skip "no bindfs (make deps installs it)"
	mkdir -p real
	run unshare -m sh -c 'bindfs --chown-ignore --chgrp-ignore "$1" "$2" && claw-inject -b dev -c claw.yml --root "$2"; rc=$?; fusermount -u "$2"; exit $rc' _ \
		"$BATS_TEST_TMPDIR/real" "$G"
	assert_failure 74
	assert_output "claw-inject: '$G' is owned by 0:0 after a chown to 501:20: the volume ignores ownership (on macOS: diskutil enableOwnership on it); launchd and sshd refuse files owned so"
	run ls -A real
	assert_output ""
}

@test "--root tree full of files claw did not make: each is byte for byte as before" {
	mkdir -p "$G/private/etc/ssh/sshd_config.d" "$G/Library/Preferences" "$G/Users/other/.ssh" "$G/private/var/db/dslocal/nodes/Default/users" \
		"$G/private/etc/sudoers.d" "$G/Library/LaunchDaemons"
	for f in private/etc/hosts private/etc/ssh/sshd_config private/etc/ssh/sshd_config.d/100-macos.conf Library/Preferences/com.example.plist \
		Users/other/.ssh/authorized_keys Users/other/.zshrc private/etc/sudoers.d/someone Library/LaunchDaemons/com.example.agent.plist; do
		head -c 777 /dev/urandom >"$G/$f"
	done
	chmod 0640 "$G/private/etc/hosts"
	chown 777:77 "$G/Users/other/.zshrc"
	tree_snapshot "$G" >before
	inject
	ours=$(python3 -c 'import json,sys; print("\n".join(f["path"] for f in json.load(open(sys.argv[1]))["files"]))' "$B/inject.json")
	tree_snapshot "$G" >after
	# Every line of before that names a path claw did not write is in after unchanged.
	while read -r line; do
		p=${line#* }
		p=${p%% *}
		case $line in ./*) p=${line%% *} ;; esac
		p=${p#./}
		grep -qxF "$p" <<<"$ours" && continue
		grep -qxF "$line" after || fail "changed: $line"
	done <before
	[ "$(wc -l <before)" -gt 20 ]
}

@test "--root / is refused (64) and nothing is written, in a private root with tmpfs over /private, /Users and /Library" {
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$R"
	# A root of its own: even a regression writes into tmpfs, never the host.
	run unshare -m sh -c '
		R=$1; bin=$2; shift 2
		mount -t tmpfs root "$R" && mkdir -p "$R/usr" "$R/dev" "$R/private" "$R/Users" "$R/Library" "$R/claw" "$R/home" \
			"$R/System/Volumes/Data" "$R/elsewhere/private/var/db/dslocal" &&
		mount --bind /usr "$R/usr" && mount --rbind /dev "$R/dev" && mount --bind "$bin" "$R/claw" &&
		for l in bin lib lib64 sbin; do ln -s "usr/$l" "$R/$l"; done &&
		for d in private Users Library; do mount -t tmpfs "$d" "$R/$d"; done &&
		mkdir -p "$R/private/var/db/dslocal" && mount --bind "$R/private/var/db/dslocal" "$R/elsewhere/private/var/db/dslocal" &&
		mount --bind "$R" "$R/System/Volumes/Data" &&
		for dir in / /System/Volumes/Data /elsewhere; do
			chroot "$R" env -i PATH=/claw:/usr/bin:/bin HOME=/home CLAW_HOME=/home/claw CLAW_PASSWORD=pw /claw/claw-inject -b dev --root "$dir"
			echo "exit $?"
		done
		find "$R/private" "$R/Users" "$R/Library" "$R/home" -mindepth 1 ! -path "$R/private/var" ! -path "$R/private/var/db" ! -path "$R/private/var/db/dslocal"
	' _ "$R" "$CLAW_BIN"
	assert_output "claw-inject: --root '/' is the running system's '/'; claw-inject writes into a guest's Data volume, never into this machine
exit 64
claw-inject: --root '/System/Volumes/Data' is the running system's '/'; claw-inject writes into a guest's Data volume, never into this machine
exit 64
claw-inject: --root '/elsewhere' holds the running system's /private/var/db/dslocal; claw-inject writes into a guest's Data volume, never into this machine
exit 64"
}

@test "--password-fd and --vnc-password-fd: secrets from a descriptor win over the config's; bad ones refused" {
	run sh -c 'printf "from the fd\nvnc12345\n" | claw-inject -b dev -c claw.yml --root "$1" --password-fd 0 --vnc-password-fd 0' _ "$G"
	assert_success
	run python3 - "$G/private/var/db/dslocal/nodes/Default/users/dev.plist" <<'PY'
import hashlib, plistlib, sys
rec = plistlib.load(open(sys.argv[1], "rb"))
shd = plistlib.loads(rec["ShadowHashData"][0])["SALTED-SHA512-PBKDF2"]
print(hashlib.pbkdf2_hmac("sha512", b"from the fd", shd["salt"], shd["iterations"], 128) == shd["entropy"])
PY
	assert_output True
	# Two descriptors, one each.
	run sh -c 'printf "pw-three\n" | claw-inject -b dev -c claw.yml --root "$1" --password-fd 0 --vnc-password-fd 3 3<<VNC
vncpw
VNC' _ "$G"
	assert_success
	# An empty line leaves the configuration's own.
	run sh -c 'printf "\n\n" | claw-inject -b dev -c claw.yml --root "$1" --password-fd 0 --vnc-password-fd 0' _ "$G"
	assert_success
	# Nothing at all on the descriptor (the handing side failed): refused, not the default.
	run sh -c 'claw-inject -b dev -c claw.yml --root "$1" --password-fd 0 --vnc-password-fd 0 </dev/null' _ "$G"
	assert_failure 65
	assert_output "claw-inject: no line for the VNC password on descriptor 0"
	run sh -c 'printf "pw\nmuch-too-long\n" | claw-inject -b dev -c claw.yml --root "$1" --password-fd 0 --vnc-password-fd 0' _ "$G"
	assert_failure 78
	assert_output "claw-inject: the VNC password given is 13 characters; VNC allows at most 8"
	run inject --password-fd x
	assert_failure 64
	assert_line --index 0 "claw-inject: --password-fd takes a file descriptor, not 'x'"
}

@test "a guest plist nested megabytes deep (however its tags are written) is refused (65), not a crash" {
	mkdir -p "$G/Library/Preferences"
	python3 -c 'import sys; n=200000; open(sys.argv[1], "w").write("<plist><dict><key>A</key>" + "<array >" * n + "</array>" * n + "</dict></plist>")' \
		"$G/Library/Preferences/com.apple.loginwindow.plist"
	run inject
	assert_failure 65
	assert_output --partial "nests containers more than 256 deep"
}
