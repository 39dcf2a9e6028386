#!/usr/bin/env bats
# claw-boot: the real binary on Linux says it needs macOS; the test build, linked
# against the hypervisor fake, runs every line above the seam: states, detaching,
# signals, suspend and resume, the host's limit. Like a macOS guest, the fake's
# ignores the power button (SIGTERM's stop request): a signal stops it only after
# --stop-timeout, or at once when it is the second. (tests/darwin-vz.bats runs the
# real common/darwin/vz.c below the seam.)

load helpers/common
load helpers/vm

setup() {
	common_setup
	vm_setup
	fake_ipsw fake.ipsw version=15.3 build=24D60
	config <<'YML'
vm:
  cpu: 2
  ram: 4GB
  disk: 1GB
YML
	B=$CLAW_HOME/VMs/dev.clawbundle
	restore -b dev -c claw.yml --ipsw fake.ipsw
	cp claw.yml "$B/claw.yml"
	: >"$CLAW_FAKE_VM_LOG"
}

teardown() {
	[ -s "$B/run/pid" ] && kill -KILL "$(cat "$B/run/pid")" 2>/dev/null
	true
}

# The binary itself: a background function would be a subshell that takes the signals.
boot_bg() { "$CLAW_FAKE_BIN/claw-boot" "$@" 2>err & }
running() { [ "$(cat "$B/run/state" 2>/dev/null)" = running ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

@test "on Linux the real claw-boot says it needs macOS, exit 69" {
	[ "$(uname -s)" = Linux ] || skip "runs where Virtualization.framework is absent"
	run claw-boot -b dev
	assert_failure 69
	assert_output "claw-boot: needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
}

@test "a guest that shuts itself down: exit 0, states in order, run/ cleaned but for the console log" {
	CLAW_FAKE_VM_SHUTDOWN_AFTER=1 run boot -v -b dev
	assert_success
	assert_output "claw-boot: state: starting
claw-boot: state: running
claw-boot: the guest shut down
claw-boot: state: stopped"
	run ls -A "$B/run"
	assert_output console.log
	grep -q 'claw-fake guest: booting macOS' "$B/run/console.log"
	run vm_calls
	assert_output "host_check create start"
	grep -q '^create cpu=2 ram=4294967296 display=1920x1080@144 mac=' "$CLAW_FAKE_VM_LOG"
}

@test "-d returns once the machine runs, and the process is really there" {
	run boot -d -b dev --stop-timeout 0
	assert_success
	assert_output ""
	[ "$(cat "$B/run/state")" = running ]
	pid=$(cat "$B/run/pid")
	kill -0 "$pid"
	run claw-ls dev
	assert_line --index 1 --regexp '^dev +running '
	kill -TERM "$pid"
	wait_for gone "$pid"
	run vm_calls
	assert_output "host_check create start request_stop force_stop"
	[ ! -e "$B/run/pid" ]
	[ ! -e "$B/run/state" ]
	run claw-ls dev
	assert_line --index 1 --regexp '^dev +stopped '
}

@test "SIGTERM asks the guest, which shows a dialog nobody answers: forced off after --stop-timeout" {
	boot_bg -v -b dev --stop-timeout 1
	pid=$!
	wait_for running
	kill -TERM $pid
	wait_for grep -q stopping "$B/run/state"
	sleep 0.5
	kill -0 $pid # still waiting for the guest
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 0 ]
	run vm_calls
	assert_output "host_check create start request_stop force_stop"
	run cat err
	assert_line "claw-boot: state: stopping"
	assert_line "claw-boot: the guest did not shut down within 1 s; forcing it off"
}

@test "a second signal forces the machine off at once" {
	boot_bg -b dev
	pid=$!
	wait_for running
	kill -INT $pid
	wait_for grep -q stopping "$B/run/state"
	kill -INT $pid
	wait_for gone $pid
	run vm_calls
	assert_output "host_check create start request_stop force_stop"
	run cat err
	assert_output "claw-boot: stopped again: forcing the machine off"
}

@test "the host's limit of two macOS VMs: 69 with what to do" {
	CLAW_FAKE_VM_LIMIT=1 run boot -b dev
	assert_failure 69
	assert_output "claw-boot: the host already runs 2 macOS VMs (Apple's limit); stop one first (claw stop NAME)"
	[ ! -e "$B/run/pid" ]
	CLAW_FAKE_VM_LIMIT=1 run boot -d -b dev
	assert_failure 69
	assert_output "claw-boot: the host already runs 2 macOS VMs (Apple's limit); stop one first (claw stop NAME)"
}

@test "a second claw-boot on a running bundle is refused with the pid, 75" {
	boot -d -b dev --stop-timeout 0
	pid=$(cat "$B/run/pid")
	run boot -b dev
	assert_failure 75
	assert_output "claw-boot: 'dev' is already running (pid $pid)"
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "SIGUSR1 saves the machine into the bundle; the next boot resumes from it and removes it" {
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	[ -f "$B/state.vzvmsave" ]
	[ ! -e "$B/state.vzvmsave.part" ]
	run vm_calls
	assert_output "host_check create start pause save force_stop"
	: >"$CLAW_FAKE_VM_LOG"
	run boot -v -d -b dev --stop-timeout 0
	assert_success
	assert_line "claw-boot: resumed from the saved state"
	run vm_calls
	assert_output "host_check create restore resume"
	[ ! -e "$B/state.vzvmsave" ]
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "--no-resume discards a saved state and cold-boots; a state from another machine is discarded with a warning" {
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	: >"$CLAW_FAKE_VM_LOG"
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev --no-resume
	assert_success
	run vm_calls
	assert_output "host_check create start"
	[ ! -e "$B/state.vzvmsave" ]
	echo 'claw-fake-saved-state
someone else' >"$B/state.vzvmsave"
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev
	assert_success
	assert_output "claw-boot: cannot resume from the saved state (cannot restore '$B/state.vzvmsave': the saved state belongs to another machine); starting afresh and discarding it"
	[ ! -e "$B/state.vzvmsave" ]
}

@test "a saved state the host cannot take now (two machines run) is kept for the next boot; --recovery says it discards it" {
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	cp "$B/state.vzvmsave" saved
	CLAW_FAKE_VM_LIMIT=1 run boot -b dev
	assert_failure 69
	assert_output "claw-boot: cannot resume from the saved state: the host already runs 2 macOS VMs (Apple's limit); stop one first (claw stop NAME); it is kept for the next boot (--no-resume discards it)"
	cmp saved "$B/state.vzvmsave"
	[ ! -e "$B/run/pid" ]
	run boot -v -d -b dev --stop-timeout 0
	assert_success
	assert_line "claw-boot: resumed from the saved state"
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev --recovery
	assert_success
	assert_output "claw-boot: --recovery: discarding the saved state"
	[ ! -e "$B/state.vzvmsave" ]
}

@test "a machine that stops with an error: 70 with its message, state error until cleaned" {
	CLAW_FAKE_VM_CRASH_AFTER=0 run boot -v -b dev
	assert_failure 70
	assert_line "claw-boot: state: error"
	assert_line "claw-boot: the machine stopped with an error: The virtual machine stopped unexpectedly."
	[ ! -e "$B/run/pid" ]
}

@test "-d with a machine that fails to start: the parent exits with the child's error" {
	CLAW_FAKE_VM_INVALID="The number of CPUs is invalid." run boot -d -b dev
	assert_failure 78
	assert_output "claw-boot: invalid machine configuration: The number of CPUs is invalid."
	[ ! -e "$B/run/pid" ]
}

@test "cpu and ram are claw.yml's, fitted to the host and kept in config.json; a saved state resumes with its own" {
	CLAW_FAKE_VM_MAX_CPU=1 CLAW_FAKE_VM_MAX_RAM=3221225472 CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -v -b dev
	assert_success
	assert_line "claw-boot: cpu and ram from claw.yml: 1 and 3GB, from this boot on (config.json)"
	grep -q '^create cpu=1 ram=3221225472 ' "$CLAW_FAKE_VM_LOG"
	: >"$CLAW_FAKE_VM_LOG"
	sed -i 's/cpu: 2/cpu: 1/; s/ram: 4GB/ram: 6GB/' "$B/claw.yml"
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev
	assert_success
	assert_output ""
	grep -q '^create cpu=1 ram=6442450944 ' "$CLAW_FAKE_VM_LOG"
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["cpuCount"], d["memorySize"])' "$B/config.json"
	assert_output "1 6442450944"
	# Suspended with 1 and 6GB: claw.yml asking for more is told, and the state resumes as saved.
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	kill -USR1 "$pid"
	wait_for gone "$pid"
	sed -i 's/cpu: 1/cpu: 2/' "$B/claw.yml"
	: >"$CLAW_FAKE_VM_LOG"
	run boot -d -b dev --stop-timeout 0
	assert_success
	assert_output "claw-boot: claw.yml asks for vm.cpu 2 and vm.ram 6GB; the saved state was made with 1 and 6GB (config.json), and resumes with them"
	grep -q '^create cpu=1 ram=6442450944 ' "$CLAW_FAKE_VM_LOG"
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "a machine made from macOS 13 cannot be suspended: SIGUSR1 says why, and it runs on" {
	rm -rf "$B"
	fake_ipsw old.ipsw version=13.6 build=22G120
	restore -b dev -c claw.yml --ipsw old.ipsw
	cp claw.yml "$B/claw.yml"
	boot_bg -b dev --stop-timeout 0
	pid=$!
	wait_for running
	kill -USR1 $pid
	wait_for grep -q "runs on" err
	run cat err
	assert_output "claw-boot: cannot save the machine's state: a macOS 13.6 guest cannot be suspended (it needs macOS 14 or later): Unsupported entropy device in configuration.; it runs on"
	wait_for running
	[ ! -e "$B/state.vzvmsave" ]
	kill -TERM $pid
	wait_for gone $pid
}

@test "missing or corrupt config.json: 66 and 65, nothing started" {
	mv "$B/config.json" "$B/config.json.bak"
	run boot -b dev
	assert_failure 66
	assert_output "claw-boot: '$B' is not restored yet (no config.json; run claw-restore -b $B)"
	echo '{"version": 1, "hardwareModel": "!!"' >"$B/config.json"
	run boot -b dev
	assert_failure 65
	assert_output --partial "claw-boot: "
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["macAddress"]="zz"; json.dump(d, open(sys.argv[2],"w"))' "$B/config.json.bak" "$B/config.json"
	run boot -b dev
	assert_failure 65
	assert_output "claw-boot: '$B/config.json': macAddress is not a MAC address"
	run vm_calls
	assert_output "host_check host_check host_check"
	run boot -b nope
	assert_failure 66
}

@test "bad usage is 64" {
	run boot
	assert_failure 64
	assert_line --index 0 "claw-boot: -b BUNDLE is required"
	run boot -b dev --stop-timeout soon
	assert_failure 64
	assert_line --index 0 "claw-boot: --stop-timeout takes seconds (0 to 86400), not 'soon'"
}

@test "--recovery starts into macOS Recovery" {
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev --recovery
	assert_success
	grep -q '^start recovery=1$' "$CLAW_FAKE_VM_LOG"
	grep -q 'booting macOS Recovery' "$B/run/console.log"
}

@test "--shutdown: 69 when it is not running, 66 with no address to reach the guest at, 64 beside -d" {
	run claw-boot -b dev --shutdown # the real one: asking the guest needs no hypervisor
	assert_failure 69
	assert_output "claw-boot: 'dev' is not running"
	boot -d -b dev --stop-timeout 0
	pid=$(cat "$B/run/pid")
	run claw-boot -b dev --shutdown
	assert_failure 66
	assert_output "claw-boot: 'dev' has no address to reach its guest at (no run/ip; claw-ip -b dev --wait finds it)"
	run claw-boot -b dev --shutdown -d
	assert_failure 64
	assert_line --index 0 "claw-boot: --shutdown takes no -d, --dir, --recovery, --no-resume or --stop-timeout"
	run claw-boot -b dev --shutdown --dir /tmp
	assert_failure 64
	assert_line --index 0 "claw-boot: --shutdown takes no -d, --dir, --recovery, --no-resume or --stop-timeout"
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "claw stop: a guest that cannot be told over SSH gets the power button, then after --stop-timeout the plug" {
	boot -d -b dev --stop-timeout 1
	pid=$(cat "$B/run/pid")
	: >"$CLAW_FAKE_VM_LOG"
	run claw stop dev
	assert_success
	assert_output "" # why the guest could not be told is for -v: the stop went on
	wait_for gone "$pid"
	run vm_calls
	assert_output "request_stop force_stop"
	run cat "$B/boot.log"
	assert_output "claw-boot: the guest did not shut down within 1 s; forcing it off"
}

@test "claw stop -v says why the guest could not be told; a machine still starting or stopping is stopped too" {
	boot -d -b dev --stop-timeout 1
	pid=$(cat "$B/run/pid")
	run claw stop -v dev
	assert_success
	assert_line "claw-boot: 'dev' has no address to reach its guest at (no run/ip; claw-ip -b dev --wait finds it)"
	wait_for gone "$pid"
	# Already stopping (a claw start --stop-timeout 300's stop gave up): --force powers it off.
	boot -d -b dev --stop-timeout 300
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for grep -q stopping "$B/run/state"
	: >"$CLAW_FAKE_VM_LOG"
	run claw stop --force dev
	assert_success
	wait_for gone "$pid"
	run vm_calls
	assert_output "force_stop"
	run claw stop dev
	assert_success
	assert_output ""
}

@test "claw suspend: a machine that cannot be saved says why at once (69), and runs on; one that can is saved" {
	rm -rf "$B"
	fake_ipsw old.ipsw version=13.6 build=22G120
	restore -b dev -c claw.yml --ipsw old.ipsw
	cp claw.yml "$B/claw.yml"
	boot -d -b dev --stop-timeout 0
	pid=$(cat "$B/run/pid")
	run timeout 20 claw suspend dev
	assert_failure 69
	assert_output "claw: 'dev' was not suspended: cannot save the machine's state: a macOS 13.6 guest cannot be suspended (it needs macOS 14 or later): Unsupported entropy device in configuration.; it runs on"
	kill -0 "$pid"
	[ ! -e "$B/state.vzvmsave" ]
	kill -TERM "$pid"
	wait_for gone "$pid"
	rm -rf "$B"
	restore -b dev -c claw.yml --ipsw fake.ipsw
	cp claw.yml "$B/claw.yml"
	boot -d -b dev
	pid=$(cat "$B/run/pid")
	run claw suspend dev
	assert_success
	[ -f "$B/state.vzvmsave" ]
	[ ! -e "$B/run/suspend" ]
	run claw suspend dev
	assert_failure 75
}

# ---------------------------------------------------------------- shared folders

# shares_yml: the bundle's claw.yml with vm.shares (YAML lines on stdin, indented as list items).
shares_yml() {
	{
		printf 'vm:\n  cpu: 2\n  ram: 4GB\n  disk: 1GB\n  shares:\n'
		cat
	} >"$B/claw.yml"
}

# suspend_running: the detached dev suspended with claw suspend, and gone.
suspend_running() {
	local pid
	pid=$(cat "$B/run/pid")
	run timeout 20 claw suspend dev
	assert_success
	wait_for gone "$pid"
}

# The shares claw-ls --json shows for dev, one "name path ro|rw mount" line each; "none" when it shows none.
ls_shares() {
	claw-ls --json dev | python3 -c '
import json, sys
vm = json.load(sys.stdin)[0]
if "shares" not in vm:
    print("none")
for s in vm.get("shares", []):
    print(s["name"], s["path"], "ro" if s["read_only"] else "rw", s["mount"])'
}

@test "vm.shares and --dir: the machine is made with each folder, named, read-only where asked; claw ls --json shows them while it runs" {
	mkdir src data extra "with space"
	shares_yml <<YML
    - $PWD/src
    - {path: $PWD/data, name: d, read_only: true}
YML
	run boot -v -d -b dev --stop-timeout 0 --dir "x:$PWD/extra:ro" --dir "$PWD/with space"
	assert_success
	assert_line "claw-boot: sharing '$PWD/src' as /Volumes/My Shared Files/src"
	assert_line "claw-boot: sharing '$PWD/data' as /Volumes/My Shared Files/d (read-only)"
	run grep '^share ' "$CLAW_FAKE_VM_LOG"
	assert_output "share src $PWD/src rw
share d $PWD/data ro
share x $PWD/extra ro
share with space $PWD/with space rw"
	run ls_shares
	assert_output "src $PWD/src rw /Volumes/My Shared Files/src
d $PWD/data ro /Volumes/My Shared Files/d
x $PWD/extra ro /Volumes/My Shared Files/x
with space $PWD/with space rw /Volumes/My Shared Files/with space"
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for gone "$pid"
	[ ! -e "$B/run/shares.json" ]
	run ls_shares
	assert_output none
}

@test "a folder is shared by its real path; a link's name is the share's, and ~ is the home" {
	mkdir -p real home/proj
	ln -s "$PWD/real" link
	shares_yml <<<"    - ~/proj"
	HOME=$PWD/home CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev --dir "$PWD/link" --dir "here:."
	assert_success
	run grep '^share ' "$CLAW_FAKE_VM_LOG"
	assert_output "share proj $PWD/home/proj rw
share link $PWD/real rw
share here $PWD rw"
}

@test "bad --dir: no path, an unknown suffix, a bad or long name, a name taken: 64 before anything starts" {
	mkdir src
	for arg in "" "src:" ":ro" "src:$PWD/src:rw" "$PWD/src:rx" "a:b:c:d" ".:$PWD/src" "..:$PWD/src" ":$PWD/src" "/" \
		"$(printf 'n%.0s' $(seq 256)):$PWD/src"; do
		run boot -b dev --dir "$arg"
		assert_failure 64
		assert_line --index 0 --regexp "^claw-boot: --dir '"
		assert_line --index 1 --partial "usage: claw-boot"
	done
	run boot -b dev --dir "src:$PWD/src:rw"
	assert_line --index 0 "claw-boot: --dir 'src:$PWD/src:rw': unknown suffix ':rw' (only :ro, read-only, is known)"
	run boot -b dev --dir "src:"
	assert_line --index 0 "claw-boot: --dir 'src:' names no folder ([NAME:]PATH[:ro])"
	run boot -b dev --dir "$PWD/src" --dir "$PWD/src:ro"
	assert_failure 64
	assert_line --index 0 "claw-boot: --dir '$PWD/src:ro': the name 'src' is taken (--dir '$PWD/src'); give this one another: --dir OTHER:PATH"
	shares_yml <<<"    - {path: $PWD/src, name: code}"
	run boot -b dev --dir "code:/tmp"
	assert_failure 64
	assert_output "claw-boot: --dir 'code:/tmp': the name 'code' is taken ($B/claw.yml:6:7); give this one another: --dir OTHER:PATH"
	run vm_calls
	assert_output "host_check" # the one call before the config is read: the others never came
	[ ! -e "$B/run" ]
}

@test "a folder that is not there, or a file, is 66 naming it and where it was given; nothing starts" {
	touch afile
	run boot -b dev --dir "$PWD/missing"
	assert_failure 66
	assert_output "claw-boot: --dir '$PWD/missing': cannot share '$PWD/missing': No such file or directory"
	run boot -b dev --dir "f:$PWD/afile:ro"
	assert_failure 66
	assert_output "claw-boot: --dir 'f:$PWD/afile:ro': cannot share '$PWD/afile': not a folder"
	shares_yml <<<"    - path: $PWD/gone"
	run boot -b dev
	assert_failure 66
	assert_output "claw-boot: $B/claw.yml:6:7: cannot share '$PWD/gone': No such file or directory"
	run vm_calls
	assert_output "host_check host_check host_check"
	[ ! -e "$B/run/pid" ]
	[ ! -e "$B/run/shares.json" ]
}

@test "claw.yml: a bad name or one given twice is 78 with file, line and column" {
	mkdir a b
	for entry in "{path: $PWD/a, name: \".\"}" "{path: $PWD/a, name: a/b}" "{path: $PWD/a, name: \"\"}"; do
		shares_yml <<<"    - $entry"
		run boot -b dev
		assert_failure 78
		assert_output --regexp "^claw-boot: $B/claw.yml:6:[0-9]+: 'vm.shares"
	done
	shares_yml <<YML
    - $PWD/a
    - path: $PWD/b
      name: a
YML
	run boot -b dev
	assert_failure 78
	assert_output "claw-boot: $B/claw.yml:8:13: 'vm.shares': the name 'a' is taken (line 6); give one of them another 'name'"
	[ ! -e "$B/run/pid" ]
}

@test "a macOS 12 guest mounts no shares: 69 before anything starts; without shares it boots, and a macOS 13 guest takes them" {
	mkdir src
	rm -rf "$B"
	fake_ipsw v12.ipsw version=12.6 build=21G115
	restore -b dev -c claw.yml --ipsw v12.ipsw
	cp claw.yml "$B/claw.yml"
	: >"$CLAW_FAKE_VM_LOG"
	run boot -b dev --dir "$PWD/src"
	assert_failure 69
	assert_output "claw-boot: the guest runs macOS 12.6, which mounts no shared folders (macOS 13 or later does); boot it without vm.shares and --dir"
	[ ! -e "$B/run/pid" ]
	run vm_calls
	assert_output "host_check"
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev
	assert_success
	rm -rf "$B"
	fake_ipsw v13.ipsw version=13.0 build=22A380
	restore -b dev -c claw.yml --ipsw v13.ipsw
	cp claw.yml "$B/claw.yml"
	CLAW_FAKE_VM_SHUTDOWN_AFTER=0 run boot -b dev --dir "$PWD/src"
	assert_success
	grep -q "^share src $PWD/src rw$" "$CLAW_FAKE_VM_LOG"
}

@test "a boot killed with shares: claw ls --json shows none, and the next boot's record is its own" {
	mkdir src
	boot -d -b dev --dir "$PWD/src" --stop-timeout 0
	pid=$(cat "$B/run/pid")
	run ls_shares
	assert_output "src $PWD/src rw /Volumes/My Shared Files/src"
	kill -KILL "$pid"
	wait_for gone "$pid"
	[ -e "$B/run/shares.json" ] # left behind: nothing could remove it
	run ls_shares
	assert_output none
	run claw-ls dev
	assert_line --index 1 --regexp '^dev +stopped '
	boot -d -b dev --stop-timeout 0
	run ls_shares
	assert_output ""
	pid=$(cat "$B/run/pid")
	# A record some other claw-boot wrote, in the instant before this one rewrites it: not shown.
	python3 -c 'import json,sys; json.dump({"pid": 1, "shares": [{"name": "old", "path": "/", "read_only": False, "mount": "x"}]}, open(sys.argv[1], "w"))' "$B/run/shares.json"
	run ls_shares
	assert_output none
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "shares on a macOS 14 host cannot be saved: claw suspend says so (69) and nothing is paused; a macOS 15 host saves them" {
	mkdir src
	CLAW_FAKE_VM_HOST_VERSION=14.6 boot -d -b dev --dir "$PWD/src" --stop-timeout 0
	pid=$(cat "$B/run/pid")
	why="cannot save the machine's state: a machine with shared folders cannot be suspended on this host (macOS 14.6): Unsupported directory sharing device in configuration."
	run timeout 20 claw suspend dev
	assert_failure 69
	assert_output "claw: 'dev' was not suspended: $why; it runs on"
	run cat "$B/boot.log"
	assert_output "claw-boot: $why; it runs on"
	run vm_calls
	assert_output "host_check create share start"
	[ "$(cat "$B/run/state")" = running ]
	[ ! -e "$B/state.vzvmsave" ]
	kill -TERM "$pid"
	wait_for gone "$pid"
	: >"$CLAW_FAKE_VM_LOG"
	CLAW_FAKE_VM_HOST_VERSION=15.1 boot -d -b dev --dir "$PWD/src"
	pid=$(cat "$B/run/pid")
	run timeout 20 claw suspend dev
	assert_success
	[ -f "$B/state.vzvmsave" ]
	run vm_calls
	assert_output "host_check create share start pause save force_stop"
}

@test "a saved state resumes only with the folders it was saved with: others refused (64) before anything starts, the state kept" {
	mkdir src other
	boot -d -b dev --dir "$PWD/src:ro"
	suspend_running
	run python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shares"])' "$B/state.shares.json"
	assert_output "[{'name': 'src', 'path': '$PWD/src', 'read_only': True, 'mount': '/Volumes/My Shared Files/src'}]"
	[ "$(stat -c %a "$B/state.shares.json")" = 600 ]
	# Other folders, or none: refused before the hypervisor is asked anything.
	: >"$CLAW_FAKE_VM_LOG"
	why="it resumes only with exactly those (claw.yml's vm.shares and --dir together), or with --no-resume to start afresh"
	run boot -b dev --dir "$PWD/other"
	assert_failure 64
	assert_output "claw-boot: 'dev' was suspended sharing 'src:$PWD/src:ro'; $why"
	run boot -b dev
	assert_failure 64
	run boot -b dev --dir "$PWD/src"
	assert_failure 64
	shares_yml <<YML
    - $PWD/other
YML
	run boot -b dev --dir "$PWD/src:ro"
	assert_failure 64
	rm "$B/claw.yml"
	run vm_calls
	assert_output "host_check host_check host_check host_check"
	[ -f "$B/state.vzvmsave" ]
	[ -f "$B/state.shares.json" ]
	# Its folder gone: named, the state kept for when it is back.
	mv src src.away
	run boot -b dev --dir "$PWD/src:ro"
	assert_failure 66
	mv src.away src
	# The same ones: resumed; the state and its record go.
	: >"$CLAW_FAKE_VM_LOG"
	run boot -d -b dev --stop-timeout 0 --dir "$PWD/src:ro"
	assert_success
	run grep '^share \|^restore' "$CLAW_FAKE_VM_LOG"
	assert_output "share src $PWD/src ro
restore $B/state.vzvmsave"
	[ ! -e "$B/state.vzvmsave" ]
	[ ! -e "$B/state.shares.json" ]
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for gone "$pid"
	# Saved without shares: recorded so; a resume asking for some is refused.
	boot -d -b dev
	suspend_running
	run boot -b dev --dir "$PWD/other"
	assert_failure 64
	assert_output "claw-boot: 'dev' was suspended sharing no folders; $why"
	# --no-resume: the state and its record go, the machine starts with what it is given.
	: >"$CLAW_FAKE_VM_LOG"
	run boot -d -b dev --no-resume --stop-timeout 0 --dir "$PWD/other"
	assert_success
	[ ! -e "$B/state.vzvmsave" ]
	[ ! -e "$B/state.shares.json" ]
	run grep -c '^restore' "$CLAW_FAKE_VM_LOG"
	assert_output 0
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "a record of shares from someone else chooses no folder of this host: the resume is refused, nothing shared" {
	boot -d -b dev
	suspend_running
	printf '{"shares": [{"name": "root", "path": "/", "read_only": false}]}' >"$B/state.shares.json"
	: >"$CLAW_FAKE_VM_LOG"
	run boot -b dev
	assert_failure 64
	assert_output --partial "'dev' was suspended sharing 'root:/'"
	run grep -c '^share ' "$CLAW_FAKE_VM_LOG"
	assert_output 0
	# Nor a path the record makes relative, nor a record that is not one.
	for bad in '{"shares": [{"name": "x", "path": "rel", "read_only": false}]}' '{"shares": 7}' '[]'; do
		printf '%s' "$bad" >"$B/state.shares.json"
		run boot -b dev
		assert_failure 65
	done
	[ -f "$B/state.vzvmsave" ]
}

@test "a state saved before claw kept its shares resumes as asked; the fake refuses, as VZ does, other folders than it was saved with" {
	mkdir src other
	boot -d -b dev --dir "$PWD/src"
	suspend_running
	rm "$B/state.shares.json"
	run boot -d -b dev --stop-timeout 0 --dir "$PWD/other"
	assert_success
	assert_line --partial "cannot resume from the saved state (cannot restore '$B/state.vzvmsave': invalid argument"
	[ ! -e "$B/state.vzvmsave" ]
	suspend_running
	rm "$B/state.shares.json"
	: >"$CLAW_FAKE_VM_LOG"
	run boot -d -b dev --stop-timeout 0 --dir "$PWD/other"
	assert_success
	run grep -c '^restore' "$CLAW_FAKE_VM_LOG"
	assert_output 1
	[ ! -e "$B/state.vzvmsave" ]
	pid=$(cat "$B/run/pid")
	kill -TERM "$pid"
	wait_for gone "$pid"
}

@test "claw start NAME --dir passes each to claw-boot, which checks it before anything starts; a running machine takes none (75)" {
	mkdir -p drv src
	for f in "$CLAW_BIN"/claw*; do ln -s "$f" drv/; done
	ln -sf "$CLAW_FAKE_BIN/claw-boot" drv/
	run drv/claw start dev --dir "$PWD/missing"
	assert_failure 66
	assert_output "claw-boot: --dir '$PWD/missing': cannot share '$PWD/missing': No such file or directory"
	run drv/claw start dev --dir "src:"
	assert_failure 64
	assert_line --index 0 "claw-boot: --dir 'src:' names no folder ([NAME:]PATH[:ro])"
	run vm_calls
	assert_output "host_check"
	boot -d -b dev --stop-timeout 0
	pid=$(cat "$B/run/pid")
	run drv/claw start dev --dir "$PWD/src"
	assert_failure 75
	assert_output "claw: 'dev' is already running; '--dir $PWD/src' applies to a new boot only (claw stop dev first)"
	run grep -c '^share ' "$CLAW_FAKE_VM_LOG"
	assert_output 0
	kill -TERM "$pid"
	wait_for gone "$pid"
}
