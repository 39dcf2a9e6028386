#!/usr/bin/env bats
# common/darwin/vz.c, claw's Virtualization.framework code, run for real on the model of the
# Objective-C runtime, GCD, Foundation and VZ (tests/darwin-model): claw-restore and claw-boot
# built against it (make darwin) on simulated macOS 14, 15 and 26 hosts and under Rosetta, every
# run read for the model's rule and leak lines (teardown); and for each of Apple's rules the model
# enforces, a copy of vz.c broken on purpose (model.mk's `variant`) that the model stops, saying
# which rule it broke.

load helpers/common

setup_file() {
	: "${CLAW_VZ_BIN:=$TOP/build/obj/vz/bin}"
	export CLAW_VZ_BIN
	[ -x "$CLAW_VZ_BIN/claw-boot" ] || skip "the model build is not there (make darwin)"
	model_env_clear
	# Machines restored once, copied by each test: a macOS 15.2 guest, and a 13.6 one.
	export TEMPLATES=$BATS_FILE_TMPDIR/templates
	template 15.2 24C101
	template 13.6 22G120
}

# Only the knobs a test sets: none from the caller's environment.
model_env_clear() {
	local v
	while read -r v; do
		unset "$v"
	done < <(env | sed -n 's/^\(CLAW_MODEL_[A-Z0-9_]*\)=.*/\1/p')
	# A quick installer and a short lock after it (the README's defaults are 200 and 300 ms).
	export CLAW_MODEL_INSTALL_MS=40 CLAW_MODEL_DISK_LOCK_MS=60
}

yml() { # yml CPU RAM: a claw.yml
	printf 'vm:\n  cpu: %s\n  ram: %s\n  disk: 64MB\n' "$1" "$2"
}

template() { # template VERSION BUILD: $TEMPLATES/VERSION.clawbundle, restored on the model
	local d=$TEMPLATES/$1
	mkdir -p "$d"
	yml 2 4GB >"$d/claw.yml"
	ipsw "$d/image.ipsw"
	CLAW_MODEL_IMAGE_VERSION=$1 CLAW_MODEL_IMAGE_BUILD=$2 CLAW_MODEL_REPORT=$d/model.report \
		"$CLAW_VZ_BIN/claw-restore" -q -b "$d/dev.clawbundle" -c "$d/claw.yml" --ipsw "$d/image.ipsw" ||
		return 1
	cp "$d/claw.yml" "$d/dev.clawbundle/claw.yml"
	[ ! -s "$d/model.report" ] || {
		cat "$d/model.report" >&2
		return 1
	}
}

ipsw() { printf 'PK\003\004claw-model-ipsw' >"$1"; } # what the model takes for a zip archive

setup() {
	common_setup
	model_env_clear
	export CLAW_MODEL_REPORT=$BATS_TEST_TMPDIR/model.report
	: >"$CLAW_MODEL_REPORT"
	V=$CLAW_VZ_BIN
	B=$CLAW_HOME/VMs/dev.clawbundle
	machine 15.2 dev
	yml 2 4GB >claw.yml
	ipsw image.ipsw
}

machine() { # machine VERSION NAME: a copy of a restored machine
	mkdir -p "$CLAW_HOME/VMs"
	cp -a "$TEMPLATES/$1/dev.clawbundle" "$CLAW_HOME/VMs/$2.clawbundle"
}

# Nothing left running, and no run broke a rule or leaked (a test that breaks one on purpose
# reads the report and empties it).
teardown() {
	local b
	for b in "$CLAW_HOME"/VMs/*.clawbundle; do
		[ -s "$b/run/pid" ] && kill -KILL "$(cat "$b/run/pid")" 2>/dev/null
	done
	[ -z "${HOLDER:-}" ] || kill "$HOLDER" 2>/dev/null
	run cat "$CLAW_MODEL_REPORT"
	assert_output ""
}

# The report's lines, read and then forgotten (for the tests that break a rule on purpose).
report() {
	cat "$CLAW_MODEL_REPORT"
	: >"$CLAW_MODEL_REPORT"
}

restore() { "$V/claw-restore" "$@"; }
boot() { "$V/claw-boot" "$@"; }
# The binary itself in the background, so that the signals reach it.
boot_bg() { "$V/claw-boot" "$@" 2>"$BATS_TEST_TMPDIR/err" & }
state_is() { [ "$(cat "$B/run/state" 2>/dev/null)" = "$1" ]; }
# A daemon's exit: gone, or a zombie its new parent has not reaped yet.
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# A second signal forces the machine off at once; the first must have been seen.
force_off() { # force_off NAME
	local b=$CLAW_HOME/VMs/$1.clawbundle pid
	pid=$(cat "$b/run/pid")
	kill -INT "$pid"
	wait_for grep -q stopping "$b/run/state"
	kill -INT "$pid"
	wait_for gone "$pid"
}

# wait_for CONDITION...: up to 10 s.
wait_for() {
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# A copy of vz.c to break (broken, then edit OLD NEW), built into $V with the rest (build).
broken() { # broken: the copy to edit, and V pointing at what will be built from it
	mkdir -p variant
	cp "$TOP/common/darwin/vz.c" variant/vz.c
	V=$BATS_TEST_TMPDIR/variant
}

edit() { # edit OLD NEW [FILE]: OLD must be in FILE (the copy of vz.c) exactly once
	python3 - "$1" "$2" "${3:-variant/vz.c}" <<'PY'
import sys
old, new, path = sys.argv[1:4]
s = open(path).read()
if s.count(old) != 1:
    sys.exit("edit: %d matches of %r in %s" % (s.count(old), old, path))
open(path, "w").write(s.replace(old, new))
PY
}

build() { # build [CFLAGS...]: a broken copy may warn; what the compiler said shows only when it fails
	sh "$TOP/tests/helpers/vz-variant" variant -O0 -Wno-error "$@" >variant/build.log 2>&1 || {
		cat variant/build.log
		return 1
	}
}

# ---------------------------------------------------------------- restore

@test "claw-restore on macOS 14, 15 and 26 hosts: the installed disk, aux storage and config.json" {
	for host in 14.6 15.5 26.1; do
		rm -rf "$CLAW_HOME/VMs/new.clawbundle"
		CLAW_MODEL_MACOS=$host run restore -v -b new -c claw.yml --ipsw image.ipsw --disk-format raw
		assert_success
		assert_line "claw-restore: installing macOS 15.2 (24C101) from 'image.ipsw'"
		assert_line --regexp "^claw-restore: the disk was released [0-9]+ ms after the installer finished$"
		refute_output --partial claw-model
		n=$CLAW_HOME/VMs/new.clawbundle
		run head -c 32 "$n/disk.img"
		assert_output "claw-model-macos 15.2 24C101"
		run json "$n/config.json" 'd["cpuCount"], d["memorySize"], d["os"]["version"]'
		assert_output "(2, 4294967296, '15.2')"
		[ "$(stat -c %a "$n/aux.img")" = 600 ]
	done
}

@test "the installer's progress, read on the machine's queue, rises" {
	CLAW_MODEL_INSTALL_MS=1000 run restore -v -b new -c claw.yml --ipsw image.ipsw
	assert_success
	run sh -c 'grep -o "installing macOS: [0-9]*%" | tr -dc "0-9\n"' <<<"$output"
	# each figure at least the one before, and more than one of them, the last above 50
	run awk 'NR > 1 && $1 < last { bad = 1 } NR == 1 { first = $1 } { last = $1 } END { exit bad || last <= 50 || last == first }' <<<"$output"
	assert_success
}

@test "restore fits cpu and ram to what VZ allows: whole MiB, no more than the host's maximum" {
	yml 2 4194305KB >odd.yml # 4 GiB and 1 KiB
	CLAW_MODEL_NCPU=1 CLAW_MODEL_IMAGE_MIN_CPU=1 run restore -v -b new -c odd.yml --ipsw image.ipsw
	assert_success
	assert_line "claw-restore: vm.cpu 2 and vm.ram 4194305KB do not fit this host; the machine gets 1 and 4GB"
	run json "$CLAW_HOME/VMs/new.clawbundle/config.json" 'd["cpuCount"], d["memorySize"]'
	assert_output "(1, 4294967296)"
}

@test "restore: an image with nothing for this host is 69; cpu or ram under the image's minimum is 78" {
	CLAW_MODEL_IMAGE_SUPPORTED=0 run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 69
	assert_output "claw-restore: macOS 15.2 (24C101) has no configuration this host can run (host: macOS 15.5)"
	CLAW_MODEL_IMAGE_MIN_CPU=4 run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 78
	assert_output "claw-restore: vm.cpu is 2 but macOS 15.2 needs at least 4"
	[ ! -e "$CLAW_HOME/VMs/new.clawbundle/disk.img" ]
}

@test "restore: a file that is not a restore image is 65 with VZ's words" {
	echo 'not a zip' >bad.ipsw
	run restore -b new -c claw.yml --ipsw bad.ipsw
	assert_failure 65
	assert_output "claw-restore: cannot load the restore image 'bad.ipsw': Failed to load the restore image. The restore image is invalid. (VZErrorDomain 10005)"
}

@test "Ctrl-C during the install cancels it: 130, nothing left that looks restored" {
	CLAW_MODEL_INSTALL_MS=3000 "$V/claw-restore" -b new -c claw.yml --ipsw image.ipsw 2>err &
	pid=$!
	n=$CLAW_HOME/VMs/new.clawbundle
	wait_for test -e "$n/aux.img"
	sleep 0.3
	kill -INT $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 130 ]
	run cat err
	assert_output "claw-restore: interrupted; removed the partial disk"
	[ ! -e "$n/disk.img" ]
	[ ! -e "$n/aux.img" ]
	[ ! -e "$n/config.json" ]
}

@test "a second Ctrl-C ends an install whose cancel has not come back yet" {
	# 20 steps of 3 s: the installer notices a cancel up to 3 s late.
	CLAW_MODEL_INSTALL_MS=60000 "$V/claw-restore" -b new -c claw.yml --ipsw image.ipsw 2>err &
	pid=$!
	wait_for test -e "$CLAW_HOME/VMs/new.clawbundle/aux.img"
	sleep 0.3
	kill -INT $pid
	sleep 0.3 # the cancel is on its way, not answered (it will be, within 3 s)
	kill -INT $pid
	wait_for gone $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 130 ]
	run cat err
	assert_line "claw-restore: interrupted again: not waiting for the installer to stop"
	[ ! -e "$CLAW_HOME/VMs/new.clawbundle/disk.img" ]
}

@test "an installer that does not answer a cancel is given up (after 5 s; 1 s in this build)" {
	broken
	cp "$TOP/cmd/claw-restore.c" variant/
	build -DCANCEL_TIMEOUT_MS=1000
	CLAW_MODEL_INSTALL_MS=400000 "$V/claw-restore" -b new -c claw.yml --ipsw image.ipsw 2>err &
	pid=$!
	wait_for test -e "$CLAW_HOME/VMs/new.clawbundle/aux.img"
	kill -INT $pid
	sleep 0.5
	kill -0 $pid # still waiting for the installer
	wait_for gone $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 130 ]
	run cat err
	assert_output "claw-restore: the installer did not stop within 1 s of the cancel; giving up
claw-restore: interrupted; removed the partial disk"
	[ ! -e "$CLAW_HOME/VMs/new.clawbundle/disk.img" ]
}

# ---------------------------------------------------------------- boot

@test "boot on macOS 14, 15 and 26 hosts: a guest that shuts itself down, states in order, the console" {
	for host in 14.6 15.5 26.1; do
		CLAW_MODEL_MACOS=$host CLAW_MODEL_GUEST_HALT_MS=100 CLAW_MODEL_CONSOLE="hello from $host" run boot -v -b dev
		assert_success
		assert_output "claw-boot: state: starting
claw-boot: state: running
claw-boot: the guest shut down
claw-boot: state: stopped"
		run ls -A "$B/run"
		assert_output console.log
		grep -q "^hello from $host\$" "$B/run/console.log"
	done
}

@test "-d returns once it runs; SIGTERM asks the guest, whose dialog nobody answers: forced off after --stop-timeout" {
	run boot -d -b dev --stop-timeout 1
	assert_success
	assert_output ""
	state_is running
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for state_is stopping
	sleep 0.5
	kill -0 "$pid"
	wait_for gone "$pid"
	run cat "$B/boot.log"
	assert_output "claw-boot: the guest did not shut down within 1 s; forcing it off"
	[ ! -e "$B/run/pid" ]
}

@test "SIGTERM to a guest that honours the request: it shuts down, nothing forced" {
	CLAW_MODEL_GUEST_STOP=honor boot_bg -v -b dev --stop-timeout 10
	pid=$!
	wait_for state_is running
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 0 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line "claw-boot: state: stopping"
	assert_line "claw-boot: the guest shut down"
	refute_output --partial forcing
}

@test "a second signal forces the machine off at once" {
	boot_bg -b dev
	pid=$!
	wait_for state_is running
	kill -INT $pid
	wait_for state_is stopping
	kill -INT $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 0 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output "claw-boot: stopped again: forcing the machine off"
}

@test "a guest that stops itself just as the forced stop comes: 0, not 70" {
	# Before the stop is sent: it shut down while it started, and a signal came meanwhile.
	CLAW_MODEL_START_MS=300 CLAW_MODEL_GUEST_HALT_MS=0 boot_bg -b dev
	pid=$!
	wait_for state_is starting
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ""
	[ "$rc" = 0 ]
	# While the stop is on its way, which VZ answers with code 4.
	CLAW_MODEL_GUEST_HALT_AT_STOP=1 boot_bg -b dev
	pid=$!
	wait_for state_is running
	kill -TERM $pid
	wait_for state_is stopping
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output "claw-boot: stopped again: forcing the machine off"
	[ "$rc" = 0 ]
}

@test "a machine that dies: 70 with VZ's words" {
	CLAW_MODEL_GUEST_CRASH_MS=50 run boot -b dev
	assert_failure 70
	assert_output "claw-boot: the machine stopped with an error: Internal Virtualization error. The virtual machine stopped unexpectedly. (VZErrorDomain 1)"
	[ ! -e "$B/run/pid" ]
}

@test "a start that fails: 70 with VZ's words" {
	CLAW_MODEL_START_FAIL="The guest would not boot." run boot -b dev
	assert_failure 70
	assert_output "claw-boot: cannot start the machine: Internal Virtualization error. The guest would not boot. (VZErrorDomain 1)"
}

@test "a disk someone else holds: the error says what VZ said, and what it was underneath" {
	flock -x "$B/aux.img" sleep 30 &
	HOLDER=$!
	wait_for sh -c '! flock -n -x "$1" true' _ "$B/aux.img"
	run boot -b dev
	assert_failure 70
	assert_output "claw-boot: cannot start the machine: Invalid virtual machine configuration. Failed to lock auxiliary storage. (VZErrorDomain 2): Resource temporarily unavailable (NSPOSIXErrorDomain 11)"
}

@test "--recovery starts into macOS Recovery" {
	CLAW_MODEL_GUEST_HALT_MS=50 CLAW_MODEL_TRACE=1 run boot -b dev --recovery
	assert_success
	assert_line --partial "startWithOptions:completionHandler:"
}

@test "boot takes cpu and ram from claw.yml, fitted to the host, into config.json; with no claw.yml, config.json's" {
	yml 1 5GB >"$B/claw.yml"
	CLAW_MODEL_GUEST_HALT_MS=50 run boot -v -b dev
	assert_success
	assert_line "claw-boot: cpu and ram from claw.yml: 1 and 5GB, from this boot on (config.json)"
	run json "$B/config.json" 'd["cpuCount"], d["memorySize"]'
	assert_output "(1, 5368709120)"
	rm "$B/claw.yml"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["cpuCount"]=4; json.dump(d, open(sys.argv[1],"w"))' "$B/config.json"
	CLAW_MODEL_NCPU=2 CLAW_MODEL_GUEST_HALT_MS=50 run boot -v -b dev
	assert_success
	assert_line "claw-boot: config.json's cpu 4 and ram 5GB do not fit this host; the machine gets 2 and 5GB"
	run json "$B/config.json" 'd["cpuCount"]'
	assert_output 4
}

@test "the host's limit of two macOS VMs: the third claw-boot is 69, with what to do" {
	export CLAW_MODEL_HOST_DIR=$BATS_TEST_TMPDIR/host
	mkdir -p "$CLAW_MODEL_HOST_DIR"
	for m in a b c; do
		machine 15.2 "$m"
		restore -q -b "$m" --reidentify # each its own machine identifier
	done
	boot -d -b a
	boot -d -b b
	run boot -b c
	assert_failure 69
	assert_output "claw-boot: the host already runs 2 macOS VMs (Apple's limit); stop one first (claw stop NAME)"
	run boot -d -b c
	assert_failure 69
	force_off a
	force_off b
}

@test "two machines with one machine identifier cannot run at once" {
	export CLAW_MODEL_HOST_DIR=$BATS_TEST_TMPDIR/host
	mkdir -p "$CLAW_MODEL_HOST_DIR"
	machine 15.2 twin
	boot -d -b dev
	run boot -b twin
	assert_failure 70
	assert_output "claw-boot: cannot start the machine: Invalid virtual machine configuration. The machine identifier is already in use by a running virtual machine. (VZErrorDomain 2)"
	force_off dev
}

# ---------------------------------------------------------------- hosts

@test "x86_64 under Rosetta: 69 naming Rosetta at once, from restore and boot, -d too" {
	export CLAW_MODEL_ARCH=x86_64
	msg="this is an x86_64 build running under Rosetta, where Virtualization.framework runs no macOS guest; use an arm64 build (make builds one on a Mac)"
	run timeout -k 1 10 "$V/claw-restore" -b new -c claw.yml --ipsw image.ipsw
	assert_failure 69
	assert_output "claw-restore: $msg"
	run timeout -k 1 10 "$V/claw-boot" -b dev
	assert_failure 69
	assert_output "claw-boot: $msg"
	run timeout -k 1 10 "$V/claw-boot" -d -b dev
	assert_failure 69
	assert_output "claw-boot: $msg"
}

@test "an Intel Mac, and a macOS 13 host: 69, needs macOS 14 on Apple silicon" {
	CLAW_MODEL_ARCH=x86_64 CLAW_MODEL_CPU=intel run boot -b dev
	assert_failure 69
	assert_output "claw-boot: needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
	CLAW_MODEL_MACOS=13.6 run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 69
	assert_output "claw-restore: needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
}

# hardware_model_of_platform N: the machine's hardware model says platform version N.
hardware_model_of_platform() {
	python3 - "$B/config.json" "$1" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
hw = base64.b64decode(d["hardwareModel"]).decode().replace("<integer>12</integer><integer>0</integer>", "<integer>%s</integer><integer>0</integer>" % sys.argv[2])
d["hardwareModel"] = base64.b64encode(hw.encode()).decode()
json.dump(d, open(sys.argv[1], "w"))
PY
}

@test "a hardware model this host cannot run: 69" {
	hardware_model_of_platform 30
	run boot -b dev
	assert_failure 69
	assert_output "claw-boot: this host cannot run the machine's hardware model (host: macOS 15.5)"
}

@test "a disk VZ cannot attach: 78 with the validation's words" {
	truncate -s 1000 "$B/disk.img"
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: invalid machine configuration: Invalid virtual machine configuration. The storage device attachment is invalid. (VZErrorDomain 2)"
}

# ---------------------------------------------------------------- suspend and resume

suspend_and_resume() { # on the host CLAW_MODEL_MACOS names
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	[ -f "$B/state.vzvmsave" ]
	[ ! -e "$B/state.vzvmsave.part" ]
	[ "$(stat -c %a "$B/state.vzvmsave")" = 600 ]
	run cat "$B/boot.log"
	assert_output ""
	[ ! -e "$B/run/pid" ]
	run boot -v -d -b dev
	assert_success
	assert_line "claw-boot: resumed from the saved state"
	[ ! -e "$B/state.vzvmsave" ]
	state_is running
	force_off dev
	rm -f "$B/boot.log"
}

@test "SIGUSR1 saves the machine on macOS 14, 15 and 26 hosts; the next boot restores it and resumes" {
	for host in 14.6 15.5 26.1; do
		CLAW_MODEL_MACOS=$host suspend_and_resume
	done
}

@test "a machine made from a macOS 13 image cannot be saved: SIGUSR1 says why, and it runs on" {
	rm -rf "$B"
	machine 13.6 dev
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for grep -q "runs on" "$B/boot.log"
	run cat "$B/boot.log"
	assert_output "claw-boot: cannot save the machine's state: a macOS 13.6 guest cannot be suspended (it needs macOS 14 or later): Invalid virtual machine configuration. Unsupported entropy device in configuration. (VZErrorDomain 2); it runs on"
	wait_for state_is running
	kill -0 "$pid"
	[ ! -e "$B/state.vzvmsave" ]
	[ ! -e "$B/state.vzvmsave.part" ]
	force_off dev
}

@test "a saved state resumes though claw.yml's cpu and ram changed: the machine's own are used" {
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	yml 1 5GB >"$B/claw.yml"
	run boot -v -d -b dev
	assert_success
	assert_line "claw-boot: claw.yml asks for vm.cpu 1 and vm.ram 5GB; the saved state was made with 2 and 4GB (config.json), and resumes with them"
	assert_line "claw-boot: resumed from the saved state"
	force_off dev
}

@test "a saved state from another host, or for another MAC, is discarded with VZ's reason and the machine starts afresh" {
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	cp "$B/state.vzvmsave" saved
	CLAW_MODEL_HOST_ID=another-mac CLAW_MODEL_GUEST_HALT_MS=50 run boot -b dev
	assert_success
	assert_line "claw-boot: cannot resume from the saved state (cannot restore the machine's state: Failed to restore the virtual machine state. Permission denied (VZErrorDomain 12)); starting afresh and discarding it"
	[ ! -e "$B/state.vzvmsave" ]
	cp saved "$B/state.vzvmsave"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["macAddress"]="ee:a7:85:09:92:39"; json.dump(d, open(sys.argv[1],"w"))' "$B/config.json"
	CLAW_MODEL_GUEST_HALT_MS=50 run boot -b dev
	assert_success
	assert_line "claw-boot: cannot resume from the saved state (cannot restore the machine's state: Failed to restore the virtual machine state. Invalid argument (VZErrorDomain 12)); starting afresh and discarding it"
	[ ! -e "$B/state.vzvmsave" ]
}

@test "a saved state the host cannot take now (two other machines run) is kept, and resumes once one stops" {
	export CLAW_MODEL_HOST_DIR=$BATS_TEST_TMPDIR/host
	mkdir -p "$CLAW_MODEL_HOST_DIR"
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	cp "$B/state.vzvmsave" saved
	for m in a b; do
		machine 15.2 "$m"
		restore -q -b "$m" --reidentify
		boot -d -b "$m"
	done
	run boot -b dev
	assert_failure 69
	assert_output "claw-boot: cannot resume from the saved state: the host already runs 2 macOS VMs (Apple's limit); stop one first (claw stop NAME); it is kept for the next boot (--no-resume discards it)"
	cmp saved "$B/state.vzvmsave"
	force_off a
	run boot -v -d -b dev
	assert_success
	assert_line "claw-boot: resumed from the saved state"
	force_off dev
	force_off b
}

@test "Ctrl-C while a saved state is being restored: stopped before it runs, the state kept, exit 0" {
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	cp "$B/state.vzvmsave" saved
	CLAW_MODEL_OP_MS=1500 boot_bg -v -b dev
	pid=$!
	wait_for state_is starting
	sleep 0.3 # inside the restore
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line "claw-boot: stopped before it resumed: the saved state is kept"
	refute_line "claw-boot: resumed from the saved state"
	cmp saved "$B/state.vzvmsave"
	run boot -v -d -b dev
	assert_success
	assert_line "claw-boot: resumed from the saved state"
	force_off dev
}

@test "when the stop after a save fails, the saved file is removed and the guest runs on" {
	CLAW_MODEL_STOP_FAIL="The machine would not stop." boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for grep -q "runs on" "$B/boot.log"
	run cat "$B/boot.log"
	assert_output "claw-boot: saved the machine's state but cannot stop it (cannot stop the machine: Internal Virtualization error. The machine would not stop. (VZErrorDomain 1)): the saved state is removed; it runs on"
	[ ! -e "$B/state.vzvmsave" ]
	[ ! -e "$B/state.vzvmsave.part" ]
	wait_for state_is running
	kill -0 "$pid"
	kill -KILL "$pid" # its stop would fail again
}

# ---------------------------------------------------------------- shared folders

@test "shares on macOS 14, 15 and 26 hosts: the guest mounts each at /Volumes/My Shared Files/NAME by itself, read-only as asked" {
	mkdir src data
	{
		yml 2 4GB
		printf '  shares:\n    - %s/src\n    - {path: %s/data, name: "Data Set", read_only: true}\n' "$PWD" "$PWD"
	} >"$B/claw.yml"
	for host in 14.6 15.5 26.1; do
		CLAW_MODEL_MACOS=$host CLAW_MODEL_GUEST_HALT_MS=100 CLAW_MODEL_GUEST_MOUNTS=$PWD/mounts run boot -b dev --dir "tmp:/tmp:ro"
		assert_success
		run cat mounts
		assert_output "/Volumes/My Shared Files/src	$PWD/src	rw
/Volumes/My Shared Files/Data Set	$PWD/data	ro
/Volumes/My Shared Files/tmp	/tmp	ro"
	done
	# No shares, no device: the guest mounts nothing.
	CLAW_MODEL_GUEST_HALT_MS=100 CLAW_MODEL_GUEST_MOUNTS=$PWD/mounts run boot -b dev -c claw.yml
	assert_success
	[ ! -s mounts ]
	# A macOS 13 guest mounts them too (its input devices are the older set).
	rm -rf "$B"
	machine 13.6 dev
	CLAW_MODEL_GUEST_HALT_MS=100 CLAW_MODEL_GUEST_MOUNTS=$PWD/mounts run boot -b dev --dir "$PWD/src"
	assert_success
	run cat mounts
	assert_output "/Volumes/My Shared Files/src	$PWD/src	rw"
}

@test "a name VZ refuses (the model's ':'): 78 in VZ's words, from +validateName:error:; without it, initWithDirectories: raises" {
	{
		yml 2 4GB
		printf '  shares:\n    - {path: /tmp, name: "a:b"}\n'
	} >"$B/claw.yml"
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: cannot share '/tmp' as 'a:b': Invalid virtual machine configuration. The directory share name is invalid. (VZErrorDomain 2)"
	[ ! -e "$B/run/pid" ]
	broken
	edit 'if (!SEND2(bool, share_class, "validateName:error:", id, name, id *, &err)) {' 'if (0) {'
	build
	run boot -b dev
	assert_failure 134
	run report
	assert_output "claw-model: rule invalid-argument: -[VZMultipleDirectoryShare initWithDirectories:] with the name 'a:b' (run +validateName:error: on every key first; VZ-API §13)"
}

@test "the automount tag: asked of the class, validated first; a tag VZ refuses is said, and without validateTag: initWithTag: raises" {
	broken
	edit 'id tag = SEND0(id, fs_class, "macOSGuestAutomountTag"), err = nil;' 'id tag = ns_string("com.apple.virtio-fs.automount/far-too-long"), err = nil;'
	build
	run boot -b dev --dir /tmp
	assert_failure 70
	assert_output "claw-boot: Virtualization.framework's automount tag 'com.apple.virtio-fs.automount/far-too-long' does not validate: Invalid virtual machine configuration. The tag is invalid. (VZErrorDomain 2)"
	edit 'if (!SEND2(bool, fs_class, "validateTag:error:", id, tag, id *, &err)) {' 'if (0) {'
	build
	run boot -b dev --dir /tmp
	assert_failure 134
	run report
	assert_output "claw-model: rule invalid-argument: -[VZVirtioFileSystemDeviceConfiguration initWithTag:] with 'com.apple.virtio-fs.automount/far-too-long' (1–35 UTF-8 bytes; +validateTag:error: first)"
}

@test "a host older than macOS 13 has no automount tag: a clean 69; asked anyway, the selector is unrecognized" {
	rm -rf "$B"
	machine 13.6 dev
	broken # a copy that would run on macOS 12, which claw-boot refuses at once
	edit 'atoi(vm_host_version()) < 14' 'atoi(vm_host_version()) < 12'
	build
	CLAW_MODEL_MACOS=12.6 run boot -b dev --dir /tmp
	assert_failure 69
	assert_output "claw-boot: shared folders need a macOS 13 or later host (this one runs macOS 12.6)"
	edit 'if (!SEND1(bool, fs_class, "respondsToSelector:", SEL, sel_registerName("macOSGuestAutomountTag"))) {' 'if (0) {'
	build
	CLAW_MODEL_MACOS=12.6 run boot -b dev --dir /tmp
	assert_failure 134
	run report
	assert_output --regexp '^claw-model: rule unrecognized-selector: \+\[VZVirtioFileSystemDeviceConfiguration macOSGuestAutomountTag\]: unrecognized selector sent to class 0x[0-9a-f]+ \(macOS 12.6 arm64\)$'
}

@test "shares on a macOS 14 host: SIGUSR1 says VZ cannot save them, pauses nothing, and it runs on; a macOS 15 host saves and resumes them" {
	mkdir src
	CLAW_MODEL_MACOS=14.6 boot -d -b dev --dir "$PWD/src"
	pid=$(cat "$B/run/pid")
	why="cannot save the machine's state: a machine with shared folders cannot be suspended on this host (macOS 14.6): Invalid virtual machine configuration. Unsupported directory sharing device in configuration. (VZErrorDomain 2)"
	kill -USR1 "$pid"
	wait_for grep -q "runs on" "$B/boot.log"
	run cat "$B/boot.log"
	assert_output "claw-boot: $why; it runs on"
	run cat "$B/run/suspend"
	assert_output "69 $why"
	state_is running
	[ ! -e "$B/state.vzvmsave" ]
	force_off dev
	rm -f "$B/boot.log"
	CLAW_MODEL_MACOS=15.5 boot -d -b dev --dir "$PWD/src"
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	[ -f "$B/state.vzvmsave" ]
	CLAW_MODEL_MACOS=15.5 run boot -v -d -b dev --dir "$PWD/src"
	assert_success
	assert_line "claw-boot: resumed from the saved state"
	force_off dev
}

# ---------------------------------------------------------------- Apple's rules, broken on purpose
# Each test copies vz.c, breaks one rule in the copy (edit OLD NEW), builds claw-restore and
# claw-boot from it (tests/helpers/vz-variant), and shows the model stopping it with the rule's
# line — or, where VZ answers with an error rather than an exception, claw saying VZ's words.

@test "rule queue-affinity: the machine's methods off its queue" {
	broken
	edit '	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		id err = nil;' '	((void (^)(void))^{
		void *p = objc_autoreleasePoolPush();
		id err = nil;'
	edit '		objc_autoreleasePoolPop(p);
	});
	return ok ? 0' '		objc_autoreleasePoolPop(p);
	})();
	return ok ? 0'
	build
	boot_bg -b dev
	pid=$!
	wait_for state_is running
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 134 ]
	run report
	assert_output "claw-model: rule queue-affinity: -[VZVirtualMachine canRequestStop] called off the machine's queue 'claw.vm' (on com.apple.main-thread) (VZ-API §2)"
}

@test "rule queue-affinity: the installer made off the machine's queue" {
	broken
	edit '	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		vm->installer' '	((void (^)(void))^{
		void *p = objc_autoreleasePoolPush();
		vm->installer'
	edit '		objc_autoreleasePoolPop(p);
	});
	objc_autoreleasePoolPop(pool);
	return vm->installer' '		objc_autoreleasePoolPop(p);
	})();
	objc_autoreleasePoolPop(pool);
	return vm->installer'
	build
	run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 134
	run report
	assert_output "claw-model: rule queue-affinity: -[VZMacOSInstaller initWithVirtualMachine:restoreImageURL:] called off the machine's queue 'claw.vm' (VZ-API §8)"
}

@test "rule dispatch-sync-deadlock: a completion handler runs on the machine's queue" {
	broken
	edit '			answer_give(a, err, nil);' '			dispatch_sync(vm->queue, ^{
			});
			answer_give(a, err, nil);'
	build
	run boot -b dev
	assert_failure 134
	run report
	assert_output "claw-model: rule dispatch-sync-deadlock: dispatch_sync onto queue 'claw.vm' from a block running on it deadlocks (dispatch/queue.h; VZ-API §2)"
}

@test "rule serial-queue: a machine on a concurrent queue" {
	broken
	edit 'dispatch_queue_create("claw.vm", DISPATCH_QUEUE_SERIAL)' 'dispatch_queue_create("claw.vm", (dispatch_queue_attr_t)&vm)'
	build
	run boot -b dev
	assert_failure 134
	run report
	assert_output --partial "claw-model: rule serial-queue: -[VZVirtualMachine initWithConfiguration:queue:] with the concurrent queue 'claw.vm'"
}

@test "rule delegate-weak: VZ holds the delegate weakly; a delegate claw let go of is caught" {
	broken
	edit '			SEND1(void, vm->machine, "setDelegate:", id, vm->delegate);' '			SEND1(void, vm->machine, "setDelegate:", id, vm->delegate);
		release(vm->delegate);
		vm->delegate = nil;'
	build
	CLAW_MODEL_GUEST_HALT_MS=100 run boot -b dev
	assert_failure 134
	run report
	assert_output --regexp "^claw-model: rule delegate-weak: -guestDidStopVirtualMachine: for VZVirtualMachine 0x[0-9a-f]+: its delegate 0x[0-9a-f]+ was freed"
}

@test "rule delegate-signature: a delegate method with types other than the protocol's" {
	broken
	edit '(IMP)guest_did_stop, "v@:@");' '(IMP)guest_did_stop, "v@:@@");'
	build
	CLAW_MODEL_GUEST_HALT_MS=100 run boot -b dev
	assert_failure 134
	run report
	assert_output "claw-model: rule delegate-signature: the delegate's -guestDidStopVirtualMachine: is registered as \"v@:@@\" but the protocol's method is \"v@:@\" (VZ-API §7)"
}

@test "rule unrecognized-selector: a selector newer than the host (queue: macOS 26)" {
	broken
	edit '			SEND1(void, vm->machine, "setDelegate:", id, vm->delegate);' '			SEND1(void, vm->machine, "setDelegate:", id, vm->delegate);
		if (vm->machine)
			(void)SEND0(dispatch_queue_t, vm->machine, "queue");'
	build
	CLAW_MODEL_MACOS=26.1 CLAW_MODEL_GUEST_HALT_MS=50 run boot -b dev
	assert_success
	CLAW_MODEL_MACOS=15.5 run boot -b dev
	assert_failure 134
	run report
	assert_output --regexp '^claw-model: rule unrecognized-selector: -\[VZVirtualMachine queue\]: unrecognized selector sent to instance 0x[0-9a-f]+ \(macOS 15.5 arm64\)$'
}

@test "x86_64: every VZMac class is Nil; without the Rosetta check that is an error, and without that a deadline ends the wait" {
	export CLAW_MODEL_ARCH=x86_64
	broken
	edit 'translated == 1)' 'translated == 2)'
	build
	run timeout -k 1 10 "$V/claw-restore" -b new -c claw.yml --ipsw image.ipsw
	assert_failure 69
	assert_output "claw-restore: Virtualization.framework has no VZMacOSRestoreImage in this process; claw needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
	run timeout -k 1 10 "$V/claw-boot" -b dev
	assert_failure 69
	assert_output "claw-boot: Virtualization.framework has no VZMacPlatformConfiguration in this process; claw needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
	# A message to Nil never calls its completion handler: only the deadline (1 s here) ends the wait.
	edit '	if (!cls)
		return nil_class("VZMacOSRestoreImage");' ''
	build -DVZ_DEADLINE_S=1
	# (what is left for a handler that never comes is a leak the model reports; LeakSanitizer too)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 CLAW_MODEL_LEAKS=report run timeout -k 1 10 "$V/claw-restore" -b new -c claw.yml --ipsw image.ipsw
	assert_failure 70
	assert_line --index 0 "claw-restore: cannot load the restore image 'image.ipsw': Virtualization.framework did not answer within 1 s"
	run report
	assert_output --regexp '^claw-model: leak: dispatch semaphore 0x[0-9a-f]+: created and never released \(dispatch_release\)$'
}

@test "rule prototype: a send through a prototype other than the method's" {
	broken
	edit '"setCPUCount:", unsigned long, (unsigned long)s->cpu' '"setCPUCount:", int, (int)s->cpu'
	build
	run boot -b dev
	assert_failure 134
	run report
	assert_output "claw-model: rule prototype: -[VZVirtualMachineConfiguration setCPUCount:] is void (*)(id, SEL, long) but was sent through void (*)(id, SEL, int) (VZ-API §1: cast objc_msgSend to the exact prototype; long stands for any 64-bit integer)"
}

@test "rule freed-object, and leaks: one release too many, and one too few" {
	broken
	edit '	release(config); /* the machine copied it */' '	release(config); /* the machine copied it */
	release(config);'
	build
	run boot -b dev
	assert_failure 134
	run report
	assert_output --regexp '^claw-model: rule freed-object: -\[VZVirtualMachineConfiguration release\] sent to a freed object 0x[0-9a-f]+$'
	broken
	edit 'release(owned_); ' '(void)owned_;    '
	build
	CLAW_MODEL_GUEST_HALT_MS=50 run boot -b dev
	assert_failure 99
	run report
	assert_line --regexp '^claw-model: leak: VZMacPlatformConfiguration 0x[0-9a-f]+: 1 reference never released \(made by \+\[VZMacPlatformConfiguration alloc\]\)$'
}

@test "rule autorelease-pool: a completion handler, here or on another thread, needs a pool of its own" {
	broken
	edit '	void *pool = objc_autoreleasePoolPush();
	if (image)' '	void *pool = NULL;
	if (image)'
	edit '	objc_autoreleasePoolPop(pool);
	dispatch_semaphore_signal(a->done);' '	(void)pool;
	dispatch_semaphore_signal(a->done);'
	build
	CLAW_MODEL_START_FAIL="no" run boot -b dev
	assert_failure 134
	run report
	assert_output --partial "claw-model: rule autorelease-pool: NSString"
	assert_output --partial "autoreleased in a completion handler or delegate callback without a pool of its own"
	echo 'not a zip' >bad.ipsw
	run restore -b new -c claw.yml --ipsw bad.ipsw # loadFileURL: calls back on a thread of its own
	assert_failure 134
	run report
	assert_output --partial "autoreleased in a completion handler or delegate callback without a pool of its own"
}

@test "loadFileURL: calls back on another thread, later: a copy that does not wait finds no image" {
	broken
	edit '	if (!answer_wait(a, VZ_DEADLINE_S))
		rc = fail' '	if (0)
		rc = fail'
	build
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 CLAW_MODEL_LEAKS=report run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 65
	assert_line --index 0 "claw-restore: cannot load the restore image 'image.ipsw': "
	run report # the answer the handler will give, which nobody waits for
	assert_output --regexp '^claw-model: leak: dispatch semaphore 0x[0-9a-f]+: created and never released \(dispatch_release\)$'
}

@test "rule config-invalid: a machine made from a configuration that does not validate" {
	truncate -s 1000 "$B/disk.img"
	broken
	edit 'if (!SEND1(bool, config, "validateWithError:", id *, &err)) {' 'if (0 && !SEND1(bool, config, "validateWithError:", id *, &err)) {'
	build
	run boot -b dev
	assert_failure 134
	run report
	assert_output "claw-model: rule config-invalid: -[VZVirtualMachine initWithConfiguration:queue:] with a configuration that does not validate: Invalid virtual machine configuration. The storage device attachment is invalid. (VZVirtualMachine.h: \"The configuration must be valid\")"
}

@test "validateWithError: refuses, in VZ's words: CPUs over the maximum, memory not whole MiB, no boot loader, no platform, no disk, a model the host cannot run" {
	broken
	edit '		*cpu = (unsigned)(*cpu < lo ? lo : *cpu > hi ? hi : *cpu);' ''
	edit '*ram > mhi ? mhi / MIB * MIB : *ram / MIB * MIB;' '*ram;'
	build
	CLAW_MODEL_NCPU=1 CLAW_MODEL_IMAGE_MIN_CPU=1 run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 78
	assert_output "claw-restore: invalid machine configuration: Invalid virtual machine configuration. The CPU count is greater than the maximum allowed. (VZErrorDomain 2)"
	yml 2 4194305KB >odd.yml
	run restore -b new -c odd.yml --ipsw image.ipsw
	assert_failure 78
	assert_output "claw-restore: invalid machine configuration: Invalid virtual machine configuration. The memory size must be a multiple of 1 MB. (VZErrorDomain 2)"
	broken
	edit '	SET_OWNED(config, "setBootLoader:", make("VZMacOSBootLoader"));' ''
	build
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: invalid machine configuration: Invalid virtual machine configuration. A boot loader must be specified. (VZErrorDomain 2)"
	broken
	edit '	SET_OWNED(config, "setPlatform:", p);' '	release(p);'
	build
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: invalid machine configuration: Invalid virtual machine configuration. A macOS boot loader requires a Mac platform configuration. (VZErrorDomain 2)"
	broken
	edit '	SET_DEVICES(config, "setStorageDevices:", &disk, 1);' '	release(disk);'
	build
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: invalid machine configuration: Invalid virtual machine configuration. A macOS guest needs a storage device to boot from (the first storage device is the boot disk). (VZErrorDomain 2)"
	broken
	edit '	if (!SEND0(bool, hw, "isSupported")) {' '	if (0) {'
	build
	hardware_model_of_platform 30
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: invalid machine configuration: Invalid virtual machine configuration. The hardware model is not supported on the current host. (VZErrorDomain 2)"
}

@test "states: start only from Stopped, stop only from Running or Paused, in VZ's words" {
	broken
	edit '"resume the machine", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
		SEND1(void, m, "resumeWithCompletionHandler:", vz_error_block, done);' '"resume the machine", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
		SEND1(void, m, "startWithCompletionHandler:", vz_error_block, done);'
	build
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	CLAW_MODEL_GUEST_HALT_MS=50 run boot -b dev
	assert_failure 70
	assert_output "claw-boot: cannot resume from the saved state: cannot resume the machine: Invalid virtual machine state transition. Transition from state \"paused\" to state \"starting\" is invalid. (VZErrorDomain 4); it is kept for the next boot (--no-resume discards it)"
	[ -f "$B/state.vzvmsave" ]
	broken
	edit '				done(off ? nil : err);' '				done(off ? err : err);'
	build
	CLAW_MODEL_GUEST_HALT_AT_STOP=1 boot_bg -b dev
	pid=$!
	wait_for state_is running
	kill -TERM $pid
	wait_for state_is stopping
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 70 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line "claw-boot: cannot stop the machine: Invalid virtual machine state transition. Transition from state \"stopped\" to state \"stopping\" is invalid. (VZErrorDomain 4)"
}

@test "save only while Paused, restore only into a machine that has not run: VZ's words" {
	broken
	edit '		SEND1(void, m, "pauseWithCompletionHandler:", vz_error_block, done);' '		done(nil);'
	build
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for grep -q "runs on" "$B/boot.log"
	run cat "$B/boot.log"
	assert_line --index 0 "claw-boot: cannot save the machine's state: cannot save the machine's state: Invalid virtual machine state. The virtual machine must be paused to be saved (it is running). (VZErrorDomain 3); it runs on"
	kill -KILL "$pid"
	wait_for gone "$pid"
	broken
	edit '	int rc = on_queue(vm, "restore the machine' '	vm_start(vm, false);
	int rc = on_queue(vm, "restore the machine'
	build
	: >"$B/state.vzvmsave"
	run boot -b dev
	assert_failure 70
	assert_line --index 0 "claw-boot: cannot resume from the saved state: cannot restore the machine's state: Invalid virtual machine state transition. Transition from state \"running\" to state \"restoring\" is invalid. (VZErrorDomain 4); it is kept for the next boot (--no-resume discards it)"
}

@test "rules save-unvalidated and restore-unvalidated: saving or restoring without asking VZ first" {
	rm -rf "$B"
	machine 13.6 dev
	broken
	edit '	vm->savable = SEND1(bool, config, "validateSaveRestoreSupportWithError:", id *, &err);' '	vm->savable = true;
	(void)err;'
	build
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	run report
	assert_output "claw-model: rule save-unvalidated: -[VZVirtualMachine saveMachineStateToURL:completionHandler:] of a configuration that cannot be saved (Unsupported entropy device in configuration.) without asking validateSaveRestoreSupportWithError: first raises an NSException (Code-Hex/vz PR #149; VZ-API §14)"
	rm -rf "$B/run" "$B/state.vzvmsave.part"
	echo 'a state file' >"$B/state.vzvmsave"
	run boot -b dev
	assert_failure 134
	run report
	assert_output --partial "claw-model: rule restore-unvalidated: -[VZVirtualMachine restoreMachineStateFromURL:completionHandler:] of a configuration that cannot be saved"
}

@test "the aux storage is made over a file already there: only with the overwrite option" {
	broken
	edit '	id hw = hardware_model(img->hw_model, img->hw_model_len), err = nil;' '	close(open(aux, O_CREAT | O_WRONLY, 0600)); /* as if one were left over */
	id hw = hardware_model(img->hw_model, img->hw_model_len), err = nil;'
	sed -i '1i #include <fcntl.h>\n#include <unistd.h>' variant/vz.c
	build
	run restore -b new -c claw.yml --ipsw image.ipsw
	assert_success
	edit 'unsigned long, AUX_ALLOW_OVERWRITE' 'unsigned long, 0UL'
	build
	run restore -b new2 -c claw.yml --ipsw image.ipsw
	assert_failure 73
	assert_output "claw-restore: cannot create the auxiliary storage '$CLAW_HOME/VMs/new2.clawbundle/aux.img': File exists (NSPOSIXErrorDomain 17)"
}

@test "rule disk-lock: a restore that leaves before VZ lets go of the installed disk" {
	broken
	cp "$TOP/cmd/claw-restore.c" variant/
	edit '	int waited = disk_wait_released(disk, RELEASE_TIMEOUT_MS);' '	int waited = 0;' variant/claw-restore.c
	build
	CLAW_MODEL_DISK_LOCK_MS=2000 run restore -b new -c claw.yml --ipsw image.ipsw
	assert_failure 99
	run report
	assert_output --regexp "^claw-model: rule disk-lock: the process exits while VZ still locks '$CLAW_HOME/VMs/new.clawbundle/disk.img' \([0-9]+ ms more\)"
}
