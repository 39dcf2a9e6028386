#!/usr/bin/env bats
# claw snapshot and claw rollback: a machine's state kept under snapshots/TAG and put back, holes
# kept, refused while it runs, and never half done: a snapshot or rollback killed at any moment
# leaves the old state or the new one (the next command that opens the bundle finishes a
# rollback past its journal). claw-restore is the fake's build (its disk is a sparse file).

load helpers/common
load helpers/vm

setup() {
	common_setup
	vm_setup
	# The driver finds its stages beside itself: the suite's, with the fake's restore and boot.
	mkdir -p bin
	for f in "$CLAW_BIN"/claw*; do ln -sf "$f" bin/; done
	ln -sf "$CLAW_FAKE_BIN/claw-restore" "$CLAW_FAKE_BIN/claw-boot" bin/
	export PATH=$BATS_TEST_TMPDIR/bin:$PATH
	printf 'vm:\n  disk: 1GB\n' >claw.yml
	fake_ipsw fake.ipsw version=15.2 build=24C101
	claw-restore -b dev -c claw.yml --ipsw fake.ipsw
	B=$CLAW_HOME/VMs/dev.clawbundle
	# Some data in the sparse disk, and the records of a machine made up to verify.
	put_data 7 "first"
	mkdir -p "$B/.stamps" "$B/ssh"
	for s in resolve fetch restore inject provision verify; do echo "$s-1" >"$B/.stamps/$s"; done
	echo '{"files": []}' >"$B/inject.json"
	echo '{"steps": []}' >"$B/provision.json"
	echo '{"tools": [1]}' >"$B/manifest.json"
	echo 'host keys 1' >"$B/ssh/known_hosts"
}

# put_data MB TEXT: TEXT written at MB megabytes into the disk, the rest left as it is.
put_data() {
	printf '%s' "$2" | dd of="$B/disk.img" bs=1M seek="$1" conv=notrunc status=none
}

# The machine's state as a rollback must leave it: every state file and stamp with its digest.
state() {
	(cd "$B" && for f in disk.img aux.img config.json state.vzvmsave ipsw.json inject.json provision.json \
		provision.sh provision.log manifest.json ssh/known_hosts .stamps/*; do
		[ -f "$f" ] && printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-16)"
	done)
}

# The start of a script for a private mount namespace (sh -c SCRIPT _ DIR BUNDLE): BUNDLE
# copied as $b onto a 40 MB tmpfs at DIR/small, 12 MB of data in its snapshot base, all of it a
# hole on its disk since, and DIR/small/filler leaving less than that free.
# shellcheck disable=SC2016 # expanded by that shell, not this one
SMALL_MACHINE='
		set -e
		mkdir -p "$1/small"
		mount -t tmpfs -o size=40m tmpfs "$1/small"
		cp -a "$2" "$1/small/m.clawbundle"
		b=$1/small/m.clawbundle
		head -c $((12 << 20)) /dev/urandom | dd of="$b/disk.img" bs=1M seek=50 conv=notrunc status=none
		claw-bundle snapshot "$b" base >/dev/null
		fallocate --punch-hole --offset $((50 << 20)) --length $((12 << 20)) "$b/disk.img"
		head -c $((20 << 20)) /dev/zero >"$1/small/filler"'

@test "a snapshot keeps the state, a rollback puts it back: later records and stamps go, holes stay holes" {
	run claw snapshot dev clean
	assert_success
	assert_output clean
	before=$(state)
	# The machine moves on: new data, a verify that found something else, a saved state.
	put_data 300 "second"
	echo '{"tools": [2]}' >"$B/manifest.json"
	echo 'verify-2' >"$B/.stamps/verify"
	rm "$B/.stamps/provision"
	echo saved >"$B/state.vzvmsave"
	echo 'a later stage' >"$B/.stamps/boot"
	[ "$(state)" != "$before" ]
	run claw rollback dev clean
	assert_success
	[ "$(state)" = "$before" ]
	[ ! -e "$B/state.vzvmsave" ]
	[ ! -e "$B/.stamps/boot" ]
	# 1 GB of disk holding two megabytes of data: the copies hold the data, not the size.
	[ "$(stat -c %s "$B/snapshots/clean/disk.img")" = "$(stat -c %s "$B/disk.img")" ]
	[ "$(du -k "$B/snapshots/clean/disk.img" | cut -f1)" -lt 4096 ]
	[ "$(du -k "$B/disk.img" | cut -f1)" -lt 4096 ]
	# The snapshot itself is untouched by the rollback, and can be rolled back to again.
	put_data 7 "third"
	run claw rollback dev clean
	assert_success
	[ "$(state)" = "$before" ]
}

@test "a rollback without shared blocks rewrites the disk in place: data written since goes, holes come back" {
	claw snapshot dev base >/dev/null
	before=$(state)
	inode=$(stat -c %i "$B/disk.img")
	used=$(du -k "$B/disk.img" | cut -f1)
	# The machine writes 8 MB where the snapshot has a hole, and over data it has.
	head -c $((8 << 20)) /dev/urandom | dd of="$B/disk.img" bs=1M seek=600 conv=notrunc status=none
	put_data 7 "changed"
	[ "$(du -k "$B/disk.img" | cut -f1)" -ge $((used + 8192)) ]
	run claw rollback dev base
	assert_success
	[ "$(state)" = "$before" ]
	# The same file, holding what it held: no copy of the disk was made and swapped in.
	[ "$(stat -c %i "$B/disk.img")" = "$inode" ]
	[ "$(du -k "$B/disk.img" | cut -f1)" -le "$used" ]
	[ ! -e "$B/.rollback" ]
	[ ! -e "$B/.rollback.d" ]
	# A disk grown since is cut back to the snapshot's size.
	truncate -s 2G "$B/disk.img"
	run claw rollback dev base
	assert_success
	[ "$(state)" = "$before" ]
	# A file rewritten in place gets the snapshot's mode back too.
	echo 'step 1' >"$B/provision.sh"
	chmod 755 "$B/provision.sh"
	claw snapshot dev with-script >/dev/null
	chmod 600 "$B/provision.sh"
	echo 'step 2' >"$B/provision.sh"
	run claw rollback dev with-script
	assert_success
	[ "$(stat -c %a "$B/provision.sh")" = 755 ]
	[ "$(cat "$B/provision.sh")" = "step 1" ]
}

@test "a rollback killed while it rewrites the disk is finished from the snapshot by the next command" {
	claw snapshot dev base >/dev/null
	before=$(state)
	# What a rollback leaves when killed past its journal, halfway through the disk: the
	# journal, and a disk holding some of each.
	head -c $((8 << 20)) /dev/urandom | dd of="$B/disk.img" bs=1M seek=600 conv=notrunc status=none
	put_data 7 "half"
	printf '{"tag": "base", "staged": [], "overwrite": ["disk.img"], "remove": []}' >"$B/.rollback"
	run claw ls dev
	assert_success
	[ "$(state)" = "$before" ]
	[ ! -e "$B/.rollback" ]
	# One whose snapshot is gone cannot be finished: every command says so, the journal stays.
	put_data 7 "half"
	printf '{"tag": "gone", "staged": [], "overwrite": ["disk.img"], "remove": []}' >"$B/.rollback"
	run claw ls dev
	assert_failure 66
	assert_output --regexp "^claw-ls: cannot finish the rollback of '.*/dev.clawbundle' to 'gone': No such file or directory$"
	[ -e "$B/.rollback" ]
}

@test "a rollback that runs out of room past its journal: every command says how it ends; with room, the next one finishes it" {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	# The room went after the check: what a rollback past its journal meets.
	run unshare -m --propagation private sh -c "$SMALL_MACHINE"'
		want=$(sha256sum <"$b/snapshots/base/disk.img")
		printf "{\"tag\": \"base\", \"staged\": [], \"overwrite\": [\"disk.img\"], \"remove\": []}" >"$b/.rollback"
		claw-bundle snapshot --list "$b" >/dev/null 2>"$1/err" && exit 3
		cat "$1/err"
		rm "$1/small/filler"
		claw-bundle snapshot --list "$b" >/dev/null
		[ "$(sha256sum <"$b/disk.img")" = "$want" ] && echo finished
		[ ! -e "$b/.rollback" ] && echo "no journal"' _ "$BATS_TEST_TMPDIR" "$B"
	assert_success
	assert_line --index 0 --regexp "^claw-bundle: cannot finish the rollback of '.*/small/m.clawbundle' to 'base': cannot write '.*/small/m.clawbundle/disk.img': No space left on device; once that is mended, any claw command on the machine finishes it \(claw-bundle rm removes the machine\)$"
	assert_line finished
	assert_line "no journal"
}

@test "a command that finds a rollback under way says it waits; a journal of an older claw ('restore') is finished too" {
	claw snapshot dev base >/dev/null
	before=$(state)
	put_data 7 "later"
	printf '{"tag": "base", "restore": [], "overwrite": ["disk.img"], "remove": []}' >"$B/.rollback"
	(flock 9 && exec sleep 1) 9>"$B/lock" &
	holder=$!
	sleep 0.2
	run claw ls dev
	wait "$holder" || true
	assert_success
	assert_line --index 0 --regexp "^claw-ls: waiting for the rollback of '.*/dev.clawbundle' to finish$"
	[ "$(state)" = "$before" ]
	[ ! -e "$B/.rollback" ]
}

@test "a rollback that cannot fit its rewrite is refused before it changes anything" {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	run unshare -m --propagation private sh -c "$SMALL_MACHINE"'
		sum=$(sha256sum <"$b/disk.img")
		rc=0; claw-bundle rollback "$b" base || rc=$?
		[ "$sum" = "$(sha256sum <"$b/disk.img")" ] || echo "the disk changed"
		[ ! -e "$b/.rollback" ] || echo "a journal was left"
		[ ! -e "$b/.rollback.d" ] || echo "staging was left"
		exit $rc' _ "$BATS_TEST_TMPDIR" "$B"
	assert_failure 73
	assert_output --regexp "^claw-bundle: not enough room for '.*/small/m.clawbundle': it needs 12 MB, [0-9] MB are free$"
}

@test "on a file system with reflinks (XFS): a snapshot and a rollback share blocks, whatever the disk's size" {
	command -v mkfs.xfs >/dev/null || skip "no mkfs.xfs (make deps installs xfsprogs)"
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	truncate -s 2G xfs.img
	mkfs.xfs -q -m reflink=1 xfs.img
	mkdir xfs
	# 64 GiB of disk holding 48 MiB: a copy would take the data's room and time, a clone neither.
	run unshare -m --propagation private sh -c '
		set -e
		mount -o loop xfs.img xfs 2>/dev/null || exit 99
		cp -a "$1" xfs/m.clawbundle
		b=$PWD/xfs/m.clawbundle
		truncate -s 64G "$b/disk.img"
		head -c $((48 << 20)) /dev/urandom | dd of="$b/disk.img" bs=1M seek=30000 conv=notrunc status=none
		sync
		used() { df --output=used -k xfs | tail -1; }
		before=$(used)
		claw-bundle snapshot "$b" base >/dev/null
		echo "snapshot took $(( $(used) - before )) KiB"
		sum=$(sha256sum <"$b/disk.img")
		inode=$(stat -c %i "$b/disk.img")
		head -c $((8 << 20)) /dev/urandom | dd of="$b/disk.img" bs=1M seek=100 conv=notrunc status=none
		claw-bundle rollback "$b" base
		[ "$(sha256sum <"$b/disk.img")" = "$sum" ] && echo "rolled back"
		[ "$(stat -c %i "$b/disk.img")" != "$inode" ] && echo "a clone moved in"
		sync
		echo "both hold $(( $(used) - before )) KiB more"
		umount xfs' _ "$B"
	[ "$status" != 99 ] || skip "cannot mount a loop device here"
	assert_success
	# The metadata of a clone, not 48 MiB of data.
	[ "$(echo "${lines[0]}" | tr -dc 0-9)" -lt 4096 ]
	assert_line "rolled back"
	assert_line "a clone moved in"
	[ "$(echo "${lines[3]}" | tr -dc 0-9)" -lt 8192 ]
}

@test "--list, --json and --rm; the default tag is the time; a suspended machine's saved state is kept with it" {
	echo saved >"$B/state.vzvmsave"
	run claw snapshot dev
	assert_success
	assert_output --regexp '^[0-9]{8}-[0-9]{6}$'
	auto=$output
	rm "$B/state.vzvmsave"
	run claw snapshot dev stopped.1
	assert_success
	run claw snapshot --list dev
	assert_success
	assert_line --index 0 --regexp '^TAG +CREATED +STATE +SIZE$'
	assert_line --index 1 --regexp "^$auto +[0-9-]+T[0-9:]+Z +suspended +[0-9.]+[KM]B$"
	assert_line --index 2 --regexp '^stopped\.1 +.* stopped '
	run claw snapshot --list dev --json
	run python3 -c 'import json,sys; print([(s["tag"] == sys.argv[1], s["state"], s["bytes"] > 0) for s in json.load(sys.stdin)])' "$auto" <<<"$output"
	assert_output "[(True, 'suspended', True), (False, 'stopped', True)]"
	run claw rollback dev "$auto"
	assert_success
	[ "$(cat "$B/state.vzvmsave")" = saved ]
	run claw snapshot --rm dev "$auto"
	assert_success
	run claw snapshot --list dev
	refute_output --partial "$auto"
	run claw snapshot --rm dev "$auto"
	assert_failure 66
	assert_output "claw-bundle: 'dev' has no snapshot '$auto'"
}

@test "bad input: a running machine (75), a missing tag (66), a tag twice (73), a bad tag (64), not restored (66)" {
	pretend_running "$B"
	run claw snapshot dev x
	assert_failure 75
	assert_output --regexp "^claw-bundle: 'dev' is running \(pid [0-9]+\); stop or suspend it first$"
	kill $!
	wait || true
	run claw snapshot dev x
	assert_success
	pretend_running "$B"
	run claw rollback dev x
	kill $!
	assert_failure 75
	run claw rollback dev nope
	assert_failure 66
	assert_output "claw-bundle: 'dev' has no snapshot 'nope' (claw snapshot --list dev)"
	run claw snapshot dev x
	assert_failure 73
	assert_output "claw-bundle: 'dev' already has a snapshot 'x'"
	for bad in '../x' '.hidden' 'a b' "\$(touch pwned)"; do
		run claw snapshot dev "$bad"
		assert_failure 64
	done
	[ ! -e pwned ]
	run claw snapshot dev x y
	assert_failure 64
	make_bundle "$CLAW_HOME/VMs/bare.clawbundle"
	run claw snapshot bare
	assert_failure 66
	assert_output "claw-bundle: 'bare' is not restored yet: nothing to snapshot"
	run claw snapshot --list --rm dev
	assert_failure 64
}

@test "a snapshot that cannot fit is refused before it fills the disk, and leaves nothing" {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	head -c $((20 << 20)) /dev/urandom | dd of="$B/disk.img" bs=1M seek=50 conv=notrunc status=none
	run unshare -m --propagation private sh -c '
		mount -t tmpfs -o size=16m tmpfs "$1/snapshots" 2>/dev/null || { mkdir -p "$1/snapshots" && mount -t tmpfs -o size=16m tmpfs "$1/snapshots"; } || exit 99
		claw snapshot dev big; rc=$?
		find "$1/snapshots" -mindepth 1 | wc -l
		exit $rc' _ "$B"
	assert_failure 73
	assert_line --regexp "^claw-bundle: not enough room for '.*/snapshots/big/disk.img': it needs [0-9]+ MB, [0-9]+ MB are free$"
	assert_line 0
}

@test "a clone leaves the source's snapshots behind unless --snapshots" {
	claw snapshot dev kept >/dev/null
	run claw clone dev plain
	assert_success
	[ ! -e "$CLAW_HOME/VMs/plain.clawbundle/snapshots" ]
	run claw clone --snapshots dev full
	assert_success
	run claw snapshot --list full
	assert_line --index 1 --regexp '^kept '
}

# killed_at SECONDS CMD...: CMD in the background, SIGKILLed after SECONDS (if still running).
killed_at() {
	local t=$1
	shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$t"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

@test "snapshot and rollback killed at random moments: the old state or the new, never a mix" {
	# Enough data that a copy takes a while to kill in the middle of.
	head -c $((96 << 20)) /dev/urandom | dd of="$B/disk.img" bs=1M seek=100 conv=notrunc status=none
	claw snapshot dev base >/dev/null
	old=$(state)
	put_data 500 "moved on"
	echo '{"tools": [3]}' >"$B/manifest.json"
	rm "$B/.stamps/verify"
	new=$(state)
	seed=${CLAW_CHAOS_SEED:-$RANDOM}
	echo "# seed $seed" >&3
	RANDOM=$seed
	for round in 1 2 3 4 5 6; do
		delay=$(printf '0.%03d' $((RANDOM % 400)))
		current=$(state)
		killed_at "$delay" claw-bundle rollback "$B" base
		# Whatever opens the bundle next finishes a rollback that got past its journal.
		claw ls dev >/dev/null
		after=$(state)
		[ "$after" = "$old" ] || [ "$after" = "$current" ] ||
			fail "round $round (seed $seed, killed after $delay s): a mix of states: $(diff <(echo "$current") <(echo "$after"))"
		[ ! -e "$B/.rollback" ]
		[ ! -e "$B/.rollback.d" ] || [ "$after" = "$current" ]
		# Back to the moved-on state for the next round.
		if [ "$after" = "$old" ]; then
			put_data 500 "moved on"
			echo '{"tools": [3]}' >"$B/manifest.json"
			rm -f "$B/.stamps/verify"
		fi
		[ "$(state)" = "$new" ]
		killed_at "$delay" claw-bundle snapshot "$B" "s$round"
		run claw snapshot --list dev
		if [ -e "$B/snapshots/s$round" ]; then
			# A snapshot that has its name is whole.
			[ "$(sha256sum <"$B/snapshots/s$round/disk.img")" = "$(sha256sum <"$B/disk.img")" ]
		fi
		run find "$B/snapshots" -maxdepth 1 -name '.*' -newer "$B/snapshots/base"
		assert_output ""
	done
}

@test "claw-boot waits for the bundle's lock: a rollback, snapshot or inject under way finds the machine stopped throughout" {
	# What holds the lock stands for the rollback in progress.
	(flock 9 && exec sleep 30) 9>"$B/lock" &
	holder=$!
	sleep 0.2
	claw-boot -b dev -d &
	boot=$!
	sleep 1
	# Not started while the lock is held: no claim on run/pid yet.
	run claw ls dev
	assert_line --index 1 --regexp '^dev +stopped '
	kill "$holder"
	wait "$boot"
	run claw ls dev
	assert_line --index 1 --regexp '^dev +running '
	pid=$(cat "$B/run/pid")
	# A second signal forces the machine off at once, whatever its guest does with the first.
	kill -TERM "$pid"
	sleep 0.2
	kill -TERM "$pid" 2>/dev/null || true
	wait_for gone "$pid"
}

@test "a bundle someone handed over cannot steer claw outside it: journal and snapshot names, linked folders" {
	mkdir -p elsewhere
	echo precious >elsewhere/file
	ln -sf "$BATS_TEST_TMPDIR/elsewhere/file" victim-link
	# A journal naming a path outside: refused by every command that opens the bundle.
	printf '{"tag": "x", "restore": [], "remove": ["%s/elsewhere/file"]}' "$BATS_TEST_TMPDIR" >"$B/.rollback"
	run claw ls dev
	assert_failure 65
	assert_output "claw-ls: the rollback journal names '$BATS_TEST_TMPDIR/elsewhere/file', not a file of a machine's state; refusing it"
	printf '{"tag": "x", "restore": ["../../../elsewhere/file"], "remove": []}' >"$B/.rollback"
	run claw ls dev
	assert_failure 65
	printf '{"tag": "../../../elsewhere", "staged": [], "overwrite": ["disk.img"], "remove": []}' >"$B/.rollback"
	run claw ls dev
	assert_failure 65
	assert_output "claw-ls: the rollback journal in '$B' names no snapshot; remove it by hand"
	rm "$B/.rollback"
	# A disk that is a second name of someone's file is not written through.
	claw snapshot dev h >/dev/null
	mv "$B/disk.img" elsewhere/disk
	ln elsewhere/disk "$B/disk.img"
	printf '{"tag": "h", "staged": [], "overwrite": ["disk.img"], "remove": []}' >"$B/.rollback"
	sum=$(sha256sum <elsewhere/disk)
	run claw ls dev
	assert_failure 65
	assert_output "claw-ls: cannot finish the rollback of '$B' to 'h': cannot rewrite '$B/disk.img': not a regular file of its own; refusing it; once that is mended, any claw command on the machine finishes it (claw-bundle rm removes the machine)"
	[ "$(sha256sum <elsewhere/disk)" = "$sum" ]
	rm "$B/.rollback" "$B/disk.img"
	mv elsewhere/disk "$B/disk.img"
	# Nor is a snapshot's file that is a second name of someone's read into the machine.
	echo secret >elsewhere/secret
	rm "$B/snapshots/h/aux.img"
	ln elsewhere/secret "$B/snapshots/h/aux.img"
	run claw rollback dev h
	assert_failure 65
	assert_output --partial "not a regular file of its own; refusing it"
	[ "$(cat "$B/aux.img")" != secret ]
	claw snapshot --rm dev h
	rm elsewhere/secret
	[ "$(cat elsewhere/file)" = precious ]
	# A snapshot whose list names a file outside.
	claw snapshot dev s >/dev/null
	python3 - "$B/snapshots/s/snapshot.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["files"].append("../../elsewhere/file"); json.dump(m, open(sys.argv[1], "w"))
PY
	run claw rollback dev s
	assert_failure 65
	assert_output "claw-bundle: the snapshot's snapshot.json names '../../elsewhere/file', not a file of a machine's state; refusing it"
	# .stamps, ssh and run as links to a folder of someone's: written into by nothing.
	rm -rf "$B/.stamps"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$B/.stamps"
	# Nothing is read through the link either: the snapshot holds no stamps.
	run claw snapshot dev t
	assert_success
	[ ! -e "$B/snapshots/t/.stamps" ]
	run claw-config -b dev digest vm.cpu
	assert_success
	run claw create dev --from resolve --to resolve
	assert_failure 65
	assert_output "claw: '$B/.stamps' is not a folder claw made (a symbolic link?); refusing to write stamps there"
	rm "$B/.stamps"
	rm -rf "$B/run"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$B/run"
	run claw-boot -b dev -d
	assert_failure 65
	assert_output "claw-boot: '$B/run' is not a folder (a symbolic link?); claw writes only into its own"
	run ls elsewhere
	assert_output file
	[ "$(cat elsewhere/file)" = precious ]
}

@test "the copies of a rollback killed before its journal are swept by the next command that opens the bundle" {
	claw snapshot dev base >/dev/null
	mkdir -p "$B/.rollback.d"
	head -c 1M /dev/urandom >"$B/.rollback.d/disk.img"
	run claw ls dev
	assert_success
	[ ! -e "$B/.rollback.d" ]
	# While a rollback holds the lock, its staging folder is its own.
	mkdir -p "$B/.rollback.d"
	(flock 9 && exec sleep 30) 9>"$B/lock" &
	holder=$!
	sleep 0.2
	run claw ls dev
	kill "$holder"
	[ -d "$B/.rollback.d" ]
}
