#!/usr/bin/env bats
# claw-restore: the real binary on Linux says it needs macOS; the test build, linked
# against the hypervisor fake, runs every line above the seam.

load helpers/common
load helpers/vm

setup() {
	common_setup
	vm_setup
	fake_ipsw fake.ipsw version=15.3 build=24D60 min_cpu=2 min_ram=4294967296
	config <<'YML'
vm:
  cpu: 2
  ram: 4GB
  disk: 1GB
YML
	B=$CLAW_HOME/VMs/dev.clawbundle
}

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

@test "on Linux the real claw-restore says it needs macOS, exit 69" {
	[ "$(uname -s)" = Linux ] || skip "runs where Virtualization.framework is absent"
	run claw-restore -b dev --ipsw fake.ipsw
	assert_failure 69
	assert_output "claw-restore: needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
	[ ! -e "$B" ]
}

@test "a restore leaves disk, aux and config.json, written last" {
	run restore -v -b dev -c claw.yml --ipsw fake.ipsw
	assert_success
	assert_line "claw-restore: installing macOS 15.3 (24D60) from 'fake.ipsw'"
	assert_line --regexp "^claw-restore: restored macOS 15.3 \(24D60\) into '.*/dev.clawbundle'$"
	[ "$(stat -c %s "$B/disk.img")" = 1073741824 ]
	[ "$(stat -c %b "$B/disk.img")" -lt 100 ] # sparse
	grep -q '^claw-fake-disk installed from fake.ipsw' "$B/disk.img"
	[ -s "$B/aux.img" ]
	run json "$B/config.json" 'd["version"], d["cpuCount"], d["memorySize"], d["diskFormat"], d["diskSize"], d["os"], d["display"]'
	assert_output "(1, 2, 4294967296, 'raw', 1073741824, {'version': '15.3', 'build': '24D60'}, {'width': 1920, 'height': 1080, 'ppi': 144})"
	run json "$B/config.json" 'bytes.fromhex(d["macAddress"].replace(":",""))[0] & 3'
	assert_output 2 # locally administered, unicast
	run json "$B/config.json" '__import__("base64").b64decode(d["hardwareModel"]).decode()'
	assert_output "claw-fake-hardware-model VirtualMac2,1"
	# config.json came after the installer and after the disk was released
	run vm_calls
	assert_output "host_check image_load identity_create create install"
}

@test "without --ipsw it takes the bundle's restore.ipsw; with neither it says where it looked" {
	run restore -b dev
	assert_failure 66
	assert_output "claw-restore: no bundle 'dev' (looked for '$B')"
	make_bundle "$B"
	run restore -b dev
	assert_failure 66
	assert_output "claw-restore: no restore image at '$B/restore.ipsw' (run claw-fetch -b $B, or give --ipsw PATH)"
	ln -s "$PWD/fake.ipsw" "$B/restore.ipsw"
	run restore -b dev -c claw.yml
	assert_success
	[ -f "$B/config.json" ]
}

@test "a second run is a no-op; --force starts over with a new identity" {
	restore -b dev -c claw.yml --ipsw fake.ipsw
	before=$(cat "$B/config.json")
	: >"$CLAW_FAKE_VM_LOG"
	run restore -v -b dev -c claw.yml --ipsw fake.ipsw
	assert_success
	assert_output "claw-restore: 'dev' is already restored (--force to start over)"
	[ "$(cat "$B/config.json")" = "$before" ]
	[ ! -s "$CLAW_FAKE_VM_LOG" ] || [ "$(vm_calls)" = host_check ]
	run restore -b dev -c claw.yml --ipsw fake.ipsw --force
	assert_success
	[ "$(json "$B/config.json" 'd["machineIdentifier"]')" != "$(echo "$before" | python3 -c 'import json,sys; print(json.load(sys.stdin)["machineIdentifier"])')" ]
}

@test "an installer failing at 40% leaves nothing that looks finished, and a rerun succeeds" {
	CLAW_FAKE_VM_INSTALL_FAIL_AT=40 run restore -b dev -c claw.yml --ipsw fake.ipsw
	assert_failure 70
	assert_output "claw-restore: installation failed: A software update is required to complete the installation."
	[ ! -e "$B/config.json" ]
	[ ! -e "$B/disk.img" ]
	[ ! -e "$B/aux.img" ]
	run restore -b dev -c claw.yml --ipsw fake.ipsw
	assert_success
	[ -f "$B/config.json" ]
}

@test "SIGINT mid-install cancels the installer, removes the partial disk, exits 130; a rerun succeeds" {
	# The binary itself in the background, not a function (a subshell would take the signal).
	CLAW_FAKE_VM_INSTALL_STEPS=100 CLAW_FAKE_VM_INSTALL_MS=50 "$CLAW_FAKE_BIN/claw-restore" -b dev -c claw.yml --ipsw fake.ipsw 2>err &
	pid=$!
	wait_for grep -q '^install ' "$CLAW_FAKE_VM_LOG"
	sleep 0.3
	kill -INT $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 130 ] || fail "exit $rc: $(cat err)"
	grep -q '^install_cancel$' "$CLAW_FAKE_VM_LOG"
	run cat err
	assert_output "claw-restore: interrupted; removed the partial disk"
	[ ! -e "$B/config.json" ]
	[ ! -e "$B/disk.img" ]
	[ ! -e "$B/aux.img" ]
	run restore -b dev -c claw.yml --ipsw fake.ipsw
	assert_success
}

@test "the disk is waited for until the hypervisor lets go of it, not slept on" {
	CLAW_FAKE_VM_DISK_HOLD_MS=700 run restore -v -b dev -c claw.yml --ipsw fake.ipsw
	assert_success
	ms=$(echo "$output" | sed -n 's/.*disk was released \([0-9]*\) ms after.*/\1/p')
	[ "$ms" -ge 600 ]
	[ "$ms" -lt 1500 ]
	CLAW_FAKE_VM_DISK_HOLD_MS=0 run restore -v -b dev -c claw.yml --ipsw fake.ipsw --force
	ms=$(echo "$output" | sed -n 's/.*disk was released \([0-9]*\) ms after.*/\1/p')
	[ "$ms" -lt 300 ]
}

@test "cpu or ram under the image's minimum: 78 naming both numbers, nothing made" {
	fake_ipsw big.ipsw version=26.1 build=25B78 min_cpu=4 min_ram=8589934592
	run restore -b dev -c claw.yml --ipsw big.ipsw
	assert_failure 78
	assert_output "claw-restore: vm.cpu is 2 but macOS 26.1 needs at least 4"
	fake_ipsw big.ipsw version=26.1 build=25B78 min_cpu=1 min_ram=8589934592
	run restore -b dev -c claw.yml --ipsw big.ipsw
	assert_failure 78
	assert_output "claw-restore: vm.ram is 4GB but macOS 26.1 needs at least 8GB"
	[ ! -e "$B/disk.img" ]
}

@test "an image with nothing this host can run: 69 naming both versions" {
	CLAW_FAKE_VM_UNSUPPORTED=1 CLAW_FAKE_VM_HOST_VERSION=14.6 run restore -b dev -c claw.yml --ipsw fake.ipsw
	assert_failure 69
	assert_output "claw-restore: macOS 15.3 (24D60) has no configuration this host can run (host: macOS 14.6)"
}

@test "an invalid machine configuration is 78 with the hypervisor's words, nothing left" {
	CLAW_FAKE_VM_INVALID="The storage device attachment is invalid." run restore -b dev -c claw.yml --ipsw fake.ipsw
	assert_failure 78
	assert_output "claw-restore: invalid machine configuration: The storage device attachment is invalid."
	[ ! -e "$B/disk.img" ]
	[ ! -e "$B/aux.img" ]
}

@test "not enough space for the disk: 73 with both numbers, before anything is made" {
	mkdir -p small
	mount -t tmpfs -o size=8m tmpfs small 2>/dev/null || skip "cannot mount a tmpfs here"
	run restore -b small/dev.clawbundle -c claw.yml --ipsw fake.ipsw
	ls -A small/dev.clawbundle >listing
	umount small
	assert_failure 73
	assert_output --regexp "^claw-restore: not enough space in 'small/dev.clawbundle' for the disk: need 1GB, [0-9.]+MB free$"
	run cat listing
	refute_output --partial disk.img
	refute_output --partial config.json
}

@test "--reidentify gives a new machine identifier and MAC and changes nothing else" {
	restore -b dev -c claw.yml --ipsw fake.ipsw
	cp "$B/config.json" before.json
	disk=$(sha256sum <"$B/disk.img")
	run restore -b dev --reidentify
	assert_success
	run python3 - before.json "$B/config.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
print(changed)
PY
	assert_output "['macAddress', 'machineIdentifier']"
	[ "$(sha256sum <"$B/disk.img")" = "$disk" ]
	run restore -b nope --reidentify
	assert_failure 66
	make_bundle "$CLAW_HOME/VMs/bare.clawbundle"
	run restore -b bare --reidentify
	assert_failure 66
	assert_output --partial "config.json"
}

@test "a running machine is not restored over" {
	restore -b dev -c claw.yml --ipsw fake.ipsw
	pretend_running "$B"
	run restore -b dev --force
	assert_failure 75
	assert_output --regexp "^claw-restore: 'dev' is running \(pid [0-9]+\); stop it first \(claw stop dev\)$"
	run restore -b dev --reidentify
	kill $!
	assert_failure 75
}

@test "bad usage is 64" {
	run restore
	assert_failure 64
	assert_line --index 0 "claw-restore: -b BUNDLE is required"
	run restore -b dev --disk-format qcow2
	assert_failure 64
	assert_line --index 0 "claw-restore: --disk-format is raw or asif, not 'qcow2'"
	run restore -b dev --reidentify --force
	assert_failure 64
	run restore -b dev extra
	assert_failure 64
}

@test "ASIF needs a macOS 26 host; older hosts default to RAW" {
	run restore -b dev -c claw.yml --ipsw fake.ipsw --disk-format asif
	assert_failure 69
	assert_output "claw-restore: ASIF disks need macOS 26 or later (host: macOS 15.1); use --disk-format raw"
	CLAW_FAKE_VM_HOST_VERSION=26.1 run restore -b dev -c claw.yml --ipsw fake.ipsw --disk-format raw
	assert_success
	[ "$(json "$B/config.json" 'd["diskFormat"]')" = raw ]
}
