#!/usr/bin/env bats
# claw-inject's attach path: disk.img attached with hdiutil (diskutil image for ASIF), the
# guest's Data volume found by diffing the mount table, ownership enabled, always detached.
# hdiutil and diskutil are the fakes in tests/fakes/host (real plist shapes, real tmpfs
# mounts) in a private mount namespace, on a host that already has its own
# "Macintosh HD - Data" and a "Data" volume, both holding private/var/db.

load helpers/common
load helpers/vm

setup() {
	common_setup
	vm_setup
	if ! unshare -m --propagation private true 2>/dev/null; then
		skip "cannot make a private mount namespace here"
	fi
	export CLAW_FAKE_DISKS=$BATS_TEST_TMPDIR/disks CLAW_FAKE_VOLUMES=$BATS_TEST_TMPDIR/Volumes
	export CLAW_FAKE_GUEST_DATA=$BATS_TEST_TMPDIR/guest-data CLAW_FAKE_GUEST_SYSTEM=$BATS_TEST_TMPDIR/guest-system
	export HOST_DATA=$BATS_TEST_TMPDIR/host-data HOST_DATA2=$BATS_TEST_TMPDIR/host-data2
	unset CLAW_FAKE_MOUNTDISK_SKIPS_DATA CLAW_FAKE_DETACH_BUSY CLAW_FAKE_SLOW CLAW_FAKE_MOUNT_LATE SUDO_UID SUDO_GID
	mkdir -p "$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/users" "$CLAW_FAKE_GUEST_DATA/Users" \
		"$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/groups"
	# A macOS Data volume has its admin group (binary, as opendirectoryd writes it).
	python3 -c 'import plistlib,sys; plistlib.dump({"name":["admin"],"gid":["80"],"users":["root"]}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' \
		"$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/groups/admin.plist"
	mkdir -p "$CLAW_FAKE_GUEST_SYSTEM/System/Library/CoreServices"
	echo '<plist><dict/></plist>' >"$CLAW_FAKE_GUEST_SYSTEM/System/Library/CoreServices/SystemVersion.plist"
	for h in "$HOST_DATA" "$HOST_DATA2"; do
		mkdir -p "$h/private/var/db/dslocal/nodes/Default/users" "$h/Users/owner"
		echo host-record >"$h/private/var/db/dslocal/nodes/Default/users/owner.plist"
	done
	snapshot >host-before
	ssh-keygen -q -t ed25519 -N '' -C me@host -f mykey
	printf 'access:\n  username: dev\n  password: secret\n  ssh_key: mykey.pub\nvm:\n  disk: 1GB\n' >claw.yml
	fake_ipsw fake.ipsw
	restore -b dev -c claw.yml --ipsw fake.ipsw
	B=$CLAW_HOME/VMs/dev.clawbundle
	U=private/var/db/dslocal/nodes/Default/users/dev.plist
}

# Every path, mode, owner and content hash of the host's two volumes.
snapshot() {
	(cd "$BATS_TEST_TMPDIR" && find host-data host-data2 -printf '%p %m %U:%G %s\n' | sort &&
		find host-data host-data2 -type f -exec sha256sum {} + | sort)
}

on_fake_mac() {
	unshare -m --propagation private env PATH="$TOP/tests/fakes/host:$PATH" "$TOP/tests/helpers/with-host-volumes" "$@"
}

calls() { cat "$CLAW_FAKE_DISKS/log"; }

# None of the guest's volumes is still mounted once claw-inject is done.
nothing_left_mounted() {
	if grep '^/dev/disk2' "$CLAW_FAKE_DISKS/mounted-after"; then
		fail "still mounted after claw-inject"
	fi
}

@test "the guest gets everything, the host's volumes are untouched, and the disk is detached" {
	run on_fake_mac claw-inject -v -b dev -c claw.yml
	assert_success
	assert_line "claw-inject: the guest's Data volume is /dev/disk20 at '$CLAW_FAKE_VOLUMES/Data 1'"
	[ "$(stat -c '%a %u:%g' "$CLAW_FAKE_GUEST_DATA/$U")" = "600 0:0" ]
	[ "$(stat -c '%a %u:%g' "$CLAW_FAKE_GUEST_DATA/Users/dev/.ssh/authorized_keys")" = "600 501:20" ]
	[ -f "$CLAW_FAKE_GUEST_DATA/Library/LaunchDaemons/com.claw.firstboot.plist" ]
	[ ! -e "$CLAW_FAKE_GUEST_SYSTEM/Users" ] # nothing went to the System volume
	snapshot >host-after
	diff host-before host-after
	run calls
	assert_output "hdiutil attach -owners on -nomount -plist $B/disk.img
diskutil mountDisk /dev/disk21
diskutil mountDisk /dev/disk22
diskutil mountDisk /dev/disk23
diskutil enableOwnership $CLAW_FAKE_VOLUMES/Data 1
hdiutil detach /dev/disk20"
	nothing_left_mounted
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["root"])' "$B/inject.json"
	assert_output disk.img
	[ -s "$B/ssh/known_hosts" ]
}

@test "a Data volume mountDisk left alone is found by its APFS role and mounted" {
	CLAW_FAKE_MOUNTDISK_SKIPS_DATA=1 run on_fake_mac claw-inject -b dev -c claw.yml
	assert_success
	run calls
	assert_line "diskutil apfs list -plist"
	assert_line "diskutil mount /dev/disk23s5"
	assert_line "diskutil enableOwnership $CLAW_FAKE_VOLUMES/Data 1"
	assert_line --index 7 "hdiutil detach /dev/disk20"
	[ -f "$CLAW_FAKE_GUEST_DATA/$U" ]
	snapshot >host-after
	diff host-before host-after
}

@test "an injection failing midway still detaches, and leaves the host alone" {
	rmdir "$CLAW_FAKE_GUEST_DATA/Users"
	mkdir outside
	# An absolute link in the guest points into the host once mounted: never written through.
	ln -s "$BATS_TEST_TMPDIR/outside" "$CLAW_FAKE_GUEST_DATA/Users"
	run on_fake_mac claw-inject -b dev -c claw.yml
	assert_failure 65
	assert_output "claw-inject: '$CLAW_FAKE_VOLUMES/Data 1/Users/dev' goes through a symbolic link in the guest; refusing to write through it"
	[ -z "$(ls -A outside)" ]
	run calls
	assert_line "hdiutil detach /dev/disk20"
	nothing_left_mounted
	snapshot >host-after
	diff host-before host-after
}

@test "SIGTERM while attached: detached, nothing written, exit 143" {
	CLAW_FAKE_SLOW=2 on_fake_mac claw-inject -b dev -c claw.yml 2>err &
	wait_for grep -q enableOwnership "$CLAW_FAKE_DISKS/log"
	kill -TERM "$(cat "$CLAW_FAKE_DISKS/pid")"
	rc=0
	wait $! || rc=$?
	[ "$rc" = 143 ] || fail "exit $rc: $(cat err)"
	run cat err
	assert_output "claw-inject: interrupted; /dev/disk20 detached"
	run calls
	assert_line --index 5 "hdiutil detach /dev/disk20"
	[ ! -e "$CLAW_FAKE_GUEST_DATA/$U" ]
	[ ! -e "$B/inject.json" ]
	nothing_left_mounted
}

@test "a Data volume that mounts a moment after mountDisk returns is waited for, not looked up by role" {
	CLAW_FAKE_MOUNT_LATE=1 run on_fake_mac claw-inject -b dev -c claw.yml
	assert_success
	run calls
	refute_line "diskutil apfs list -plist"
	assert_line "diskutil enableOwnership $CLAW_FAKE_VOLUMES/Data 1"
	[ -f "$CLAW_FAKE_GUEST_DATA/$U" ]
	nothing_left_mounted
}

@test "a Data volume without the admin group is not a macOS Data volume: 65, nothing written, detached" {
	rm -rf "$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/groups"
	run on_fake_mac claw-inject -b dev -c claw.yml
	assert_failure 65
	assert_output "claw-inject: '$CLAW_FAKE_VOLUMES/Data 1' has no private/var/db/dslocal/nodes/Default/groups/admin.plist: not a macOS Data volume"
	[ ! -e "$CLAW_FAKE_GUEST_DATA/$U" ]
	[ ! -e "$CLAW_FAKE_GUEST_DATA/private/var/db/dslocal/nodes/Default/groups" ]
	run calls
	assert_line "hdiutil detach /dev/disk20"
	nothing_left_mounted
}

@test "a disk that will not detach even forced: diskutil unmountDisk force, then hdiutil detach -force again" {
	CLAW_FAKE_DETACH_BUSY=2 run on_fake_mac claw-inject -b dev -c claw.yml
	assert_success
	run calls
	assert_line --index 5 "hdiutil detach /dev/disk20"
	assert_line --index 6 "hdiutil detach -force /dev/disk20"
	assert_line --index 7 "diskutil unmountDisk force /dev/disk21"
	assert_line --index 8 "diskutil unmountDisk force /dev/disk22"
	assert_line --index 9 "diskutil unmountDisk force /dev/disk23"
	assert_line --index 10 "diskutil unmountDisk force /dev/disk20"
	assert_line --index 11 "hdiutil detach -force /dev/disk20"
	[ -f "$CLAW_FAKE_GUEST_DATA/$U" ]
	nothing_left_mounted
}

@test "a busy disk is detached with -force" {
	CLAW_FAKE_DETACH_BUSY=1 run on_fake_mac claw-inject -b dev -c claw.yml
	assert_success
	run calls
	assert_line --index 5 "hdiutil detach /dev/disk20"
	assert_line --index 6 "hdiutil detach -force /dev/disk20"
	[ -f "$CLAW_FAKE_GUEST_DATA/$U" ]
}

@test "an ASIF disk is attached with diskutil image, detached with hdiutil" {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["diskFormat"]="asif"; json.dump(d, open(sys.argv[1],"w"))' "$B/config.json"
	run on_fake_mac claw-inject -b dev -c claw.yml
	assert_success
	run calls
	assert_line --index 0 "diskutil image attach -nomount -plist $B/disk.img"
	assert_line "hdiutil detach /dev/disk20"
}

@test "no Data volume on the disk: 65, detached" {
	rm -rf "$CLAW_FAKE_GUEST_DATA"
	run on_fake_mac claw-inject -b dev -c claw.yml
	assert_failure 65
	assert_output "claw-inject: the Data volume /dev/disk23s5 did not mount"
	run calls
	assert_line "hdiutil detach /dev/disk20"
}

@test "run with sudo, only the files claw-inject made in the bundle are given back to the user" {
	ln -s /etc/hostname "$B/a-link-of-the-users"
	SUDO_UID=4321 SUDO_GID=4322 run on_fake_mac claw-inject -b dev -c claw.yml
	assert_success
	run sh -c 'find "$1" -user 4321 -printf "%P\n" | sort' _ "$B"
	assert_output "inject.json
ssh
ssh/id_ed25519
ssh/id_ed25519.pub
ssh/known_hosts"
	[ "$(stat -c %g "$B/inject.json")" = 4322 ]
	# What restore made, and what the user had, keep their owners.
	[ "$(stat -c %u "$B/disk.img")" = 0 ]
	[ "$(stat -c %u "$B/config.json")" = 0 ]
	[ "$(stat -c %u "$B")" = 0 ]
	[ "$(stat -c %u /etc/hostname)" = 0 ]
	[ "$(stat -c %a "$B")" = 700 ]
	[ "$(stat -c %a "$B/disk.img")" = 600 ]
	[ "$(stat -c %a "$B/aux.img")" = 600 ]
}

@test "not restored is 66; a running machine is 75; not root is 77" {
	make_bundle "$CLAW_HOME/VMs/bare.clawbundle"
	run claw-inject -b bare -c claw.yml
	assert_failure 66
	assert_output "claw-inject: '$CLAW_HOME/VMs/bare.clawbundle' is not restored yet (no config.json; run claw-restore -b $CLAW_HOME/VMs/bare.clawbundle)"
	pretend_running "$B"
	run claw-inject -b dev -c claw.yml
	kill $!
	assert_failure 75
	assert_output --regexp "^claw-inject: 'dev' is running \(pid [0-9]+\); stop it before injecting into its disk$"
	[ ! -e "$CLAW_FAKE_DISKS/log" ]
	command -v setpriv >/dev/null || skip "no setpriv"
	others_copy
	run setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$OTHERS/bin:$PATH" HOME=/tmp CLAW_HOME=/tmp/x "$OTHERS/bin/claw-inject" -b dev
	others_remove
	assert_failure 77
	assert_output "claw-inject: needs root to attach the guest's disk (run it with sudo)"
}
