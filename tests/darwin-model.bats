#!/usr/bin/env bats
# tests/darwin-model: the model of the Objective-C runtime, GCD, Foundation and
# Virtualization.framework that common/darwin runs on here. Each rule: a careful client
# passes, and a client that breaks it is stopped with the rule's one line (abort, 134).
# The programs (tests/darwin-model/tests/t_*.c) talk to the model only through objc.h.

load helpers/common

setup() {
	common_setup
	: "${CLAW_MODEL_BIN:=$TOP/build/obj/model/tests}"
	[ -x "$CLAW_MODEL_BIN/t_runtime" ] || skip "the model is not built (make model)"
	while read -r v; do
		[ "$v" = CLAW_MODEL_BIN ] || unset "$v"
	done < <(env | sed -n 's/^\(CLAW_MODEL_[A-Z0-9_]*\)=.*/\1/p')
	D=$BATS_TEST_TMPDIR/vm
	mkdir -p "$D"
}

rt() { run "$CLAW_MODEL_BIN/t_runtime" "$@"; }
vm() { run "$CLAW_MODEL_BIN/t_vm" "$1" "$D" "${@:2}"; }
inst() { run "$CLAW_MODEL_BIN/t_install" "$1" "$D" "${@:2}"; }

# ---------------------------------------------------------------- the runtime

@test "the model implements exactly the selectors vz-selectors.txt lists, with their arguments and minimum macOS" {
	"$CLAW_MODEL_BIN/t_runtime" dump | sort >model.txt
	sort "$TOP/common/darwin/vz-selectors.txt" >list.txt
	[ "$(wc -l <model.txt)" -gt 200 ]
	run diff list.txt model.txt
	assert_success
	assert_output ""
}

@test "a message to nil returns zero and never calls its completion block" {
	rt nil
	assert_success
	assert_output ""
}

@test "rule unrecognized-selector: a selector the class does not have stops the process" {
	rt unrecognized
	assert_failure 134
	assert_output --regexp '^claw-model: rule unrecognized-selector: -\[NSObject startWithCompletionHandlr\]: unrecognized selector sent to instance 0x[0-9a-f]+ \(macOS 15.5 arm64\)$'
}

@test "a selector newer than the host's macOS is unrecognized there (usbControllers: 15.0)" {
	CLAW_MODEL_MACOS=15.0 rt above-host
	assert_success
	assert_output "responds 1
ok"
	CLAW_MODEL_MACOS=14.6 rt above-host
	assert_failure 134
	assert_line --index 0 "responds 0"
	assert_line --index 1 --partial "claw-model: rule unrecognized-selector: -[VZVirtualMachineConfiguration usbControllers]"
	assert_line --index 1 --partial "(macOS 14.6 arm64)"
}

@test "on x86_64 the Mac classes are Nil and the arm64-only methods are unrecognized" {
	CLAW_MODEL_ARCH=x86_64 rt x86
	assert_success
	CLAW_MODEL_ARCH=arm64 rt x86
	assert_failure 1
	assert_output "FAIL: VZMacOSRestoreImage exists on x86_64"
	CLAW_MODEL_ARCH=x86_64 rt x86-save-validate
	assert_failure 134
	assert_output --partial "rule unrecognized-selector: -[VZVirtualMachineConfiguration validateSaveRestoreSupportWithError:]"
}

@test "rule prototype: a send through a prototype that does not match the method's types stops" {
	rt prototype-ok
	assert_success
	assert_output ok
	rt prototype-int
	assert_failure 134
	assert_output "claw-model: rule prototype: -[VZVirtualMachineConfiguration setCPUCount:] is void (*)(id, SEL, long) but was sent through void (*)(id, SEL, int) (VZ-API §1: cast objc_msgSend to the exact prototype; long stands for any 64-bit integer)"
	rt prototype-return
	assert_failure 134
	assert_output --partial "rule prototype: -[NSURL isFileURL] is bool (*)(id, SEL) but was sent through int (*)(id, SEL)"
}

@test "rule freed-object: a message to a freed object names it, and so does one release too many" {
	rt freed
	assert_failure 134
	assert_output --regexp '^claw-model: rule freed-object: -\[NSString length\] sent to a freed object 0x[0-9a-f]+$'
	rt over-release
	assert_failure 134
	assert_output --partial "rule freed-object: -[NSObject release] sent to a freed object"
}

@test "leaks: what the client made and never released is reported at exit, and the exit status says so" {
	rt no-leak
	assert_success
	assert_output ok
	rt leak
	assert_failure 99
	assert_line --regexp '^claw-model: leak: VZVirtualMachineConfiguration 0x[0-9a-f]+: 1 reference never released \(made by \+\[VZVirtualMachineConfiguration alloc\]\)$'
	assert_line --partial "claw-model: leak: NSString"
	assert_line --partial "(made by +[NSString stringWithUTF8String:])"
	CLAW_MODEL_LEAKS=report rt leak
	assert_success
	assert_line --partial "claw-model: leak: VZVirtualMachineConfiguration"
	CLAW_MODEL_LEAK_STATUS=7 rt leak
	assert_failure 7
	rt queue-leak
	assert_failure 99
	assert_line "claw-model: leak: dispatch queue 'test.forgotten': created and never released (dispatch_release)"
}

@test "CLAW_MODEL_REPORT collects the lines a test can read besides stderr" {
	CLAW_MODEL_REPORT=$BATS_TEST_TMPDIR/report rt freed
	assert_failure 134
	run cat "$BATS_TEST_TMPDIR/report"
	assert_output --partial "claw-model: rule freed-object: -[NSString length]"
}

@test "rule autorelease-pool: no pool, a pool popped on another thread, a callback without its own pool" {
	rt no-pool
	assert_failure 134
	assert_output --partial "rule autorelease-pool: NSString"
	assert_output --partial "autoreleased with no pool in place"
	rt pool-other-thread
	assert_failure 134
	assert_output --partial "rule autorelease-pool: objc_autoreleasePoolPop with a pool pushed on another thread"
	rt callback-pool
	assert_failure 134
	assert_output --partial "autoreleased in a completion handler or delegate callback without a pool of its own"
}

@test "rules uninitialized-object and unavailable: alloc needs the class's own initializer" {
	rt uninitialized
	assert_failure 134
	assert_output --partial "rule uninitialized-object: -[VZVirtualMachineConfiguration setCPUCount:]"
	rt init-unavailable
	assert_failure 134
	assert_output --partial "rule unavailable: -[VZMacHardwareModel init] is unavailable"
}

@test "a delegate class made at run time: objc_allocateClassPair, class_addMethod, protocols, respondsToSelector:" {
	rt class-pair
	assert_success
	assert_output ok
}

@test "sysctlbyname answers as the simulated host: Apple silicon, Rosetta, Intel" {
	CLAW_MODEL_NCPU=10 CLAW_MODEL_MEMSIZE=34359738368 CLAW_MODEL_MACOS=26.1 rt sysctl
	assert_success
	assert_line "hw.optional.arm64 1"
	assert_line "sysctl.proc_translated 0"
	assert_line "hw.ncpu 10"
	assert_line "hw.memsize 34359738368"
	assert_line "kern.osproductversion 26.1"
	assert_line "NSProcessInfo 26.1.0"
	CLAW_MODEL_ARCH=x86_64 rt sysctl
	assert_line "sysctl.proc_translated 1"
	CLAW_MODEL_ARCH=x86_64 CLAW_MODEL_CPU=intel CLAW_MODEL_MACOS=13.6.1 rt sysctl
	assert_line "hw.optional.arm64 ENOENT"
	assert_line "sysctl.proc_translated ENOENT"
	assert_line "atLeast14 0"
	CLAW_MODEL_VIRTUALIZATION=0 rt sysctl
	assert_line "isSupported 0"
}

@test "a bad knob is refused by name" {
	CLAW_MODEL_MACOS=tahoe rt nil
	assert_failure 134
	assert_output "claw-model: rule model-setup: CLAW_MODEL_MACOS='tahoe' is not a macOS version (14, 15.5, 26.1...)"
}

@test "GCD: serial order, dispatch_sync, semaphores and their timeouts" {
	rt dispatch
	assert_success
	assert_output ok
}

@test "rule dispatch-sync-deadlock: dispatch_sync onto the queue running the block" {
	rt dispatch-sync-self
	assert_failure 134
	assert_output "claw-model: rule dispatch-sync-deadlock: dispatch_sync onto queue 'test.self' from a block running on it deadlocks (dispatch/queue.h; VZ-API §2)"
}

@test "rule semaphore-in-use: releasing a semaphore below its initial value (libdispatch crashes)" {
	rt semaphore-in-use
	assert_failure 134
	assert_output --partial "rule semaphore-in-use: dispatch_release of a semaphore whose value (0) is below the one it was created with (1)"
}

@test "Foundation: strings, URLs, base64, arrays, dictionaries, file handles" {
	rt foundation
	assert_success
	assert_output ok
	rt range
	assert_failure 134
	assert_output "claw-model: rule range: -[NSArray objectAtIndex:]: index 0 beyond bounds for empty array"
	rt nil-insert
	assert_failure 134
	assert_output "claw-model: rule invalid-argument: +[NSArray arrayWithObjects:count:]: attempt to insert nil object from objects[1]"
}

# ---------------------------------------------------------------- VZVirtualMachine

@test "a machine's life: start, pause, resume, stop on its queue; a wrong transition is error 4" {
	vm lifecycle
	assert_success
	assert_output 'stop again: 4 Invalid virtual machine state transition. Transition from state "stopped" to state "stopping" is invalid.
ok'
}

@test "rule queue-affinity: a machine's methods and properties off its queue" {
	vm start-off-queue
	assert_failure 134
	assert_output "claw-model: rule queue-affinity: -[VZVirtualMachine startWithCompletionHandler:] called off the machine's queue 'test.vm' (on com.apple.main-thread) (VZ-API §2)"
	vm state-off-queue
	assert_failure 134
	assert_output --partial "rule queue-affinity: -[VZVirtualMachine state] called off the machine's queue"
}

@test "a machine on the main queue runs from the main thread's run loop, and from no other thread" {
	vm main-queue
	assert_success
	assert_output ok
	vm main-queue-off
	assert_failure 134
	assert_output "claw-model: rule queue-affinity: -[VZVirtualMachine state] called off the machine's queue 'com.apple.main-thread' (on a thread of no queue) (VZ-API §2)"
}

@test "dispatch_sync onto the machine's queue from its own completion handler deadlocks" {
	vm sync-in-handler
	assert_failure 134
	assert_output --partial "rule dispatch-sync-deadlock: dispatch_sync onto queue 'test.vm'"
}

@test "validateWithError: in VZ's words: CPUs, memory, boot loader, storage, hardware model" {
	vm validation
	assert_success
	assert_line "good: valid"
	assert_line "too-many-cpus: Invalid virtual machine configuration. The CPU count is greater than the maximum allowed."
	assert_line "odd-memory: Invalid virtual machine configuration. The memory size must be a multiple of 1 MB."
	assert_line "little-memory: Invalid virtual machine configuration. The memory size is less than the minimum allowed."
	assert_line "much-memory: Invalid virtual machine configuration. The memory size is greater than the maximum allowed."
	assert_line "no-boot-loader: Invalid virtual machine configuration. A boot loader must be specified."
	assert_line --partial "no-storage: Invalid virtual machine configuration. A macOS guest needs a storage device"
	assert_line "unsupported-hardware: Invalid virtual machine configuration. The hardware model is not supported on the current host."
	assert_line "bounds: cpu 1..8 memory 134217728..17179869184"
	vm unentitled
	assert_output --partial "any: Invalid virtual machine configuration. A macOS boot loader requires a Mac platform"
	CLAW_MODEL_ENTITLED=0 vm unentitled
	# shellcheck disable=SC1112 # VZ's and Cocoa's own typographic quotes
	assert_output 'any: Invalid virtual machine configuration. The process doesn’t have the “com.apple.security.virtualization” entitlement.'
}

@test "rule config-invalid: a machine made from a configuration that does not validate" {
	vm config-invalid
	assert_failure 134
	assert_output --partial "rule config-invalid: -[VZVirtualMachine initWithConfiguration:queue:] with a configuration that does not validate: Invalid virtual machine configuration. The CPU count is greater than the maximum allowed."
}

@test "a guest that shuts itself down tells the delegate on the machine's queue; one that crashes says error 1" {
	CLAW_MODEL_GUEST_HALT_MS=30 vm guest-halt
	assert_success
	assert_output "guest stops 1, error stops 0 (code 0), state 0"
	CLAW_MODEL_GUEST_CRASH_MS=30 vm guest-halt
	assert_success
	assert_output "guest stops 0, error stops 1 (code 1), state 3"
}

@test "rule delegate-weak: the delegate was released before its callback" {
	CLAW_MODEL_GUEST_HALT_MS=30 vm delegate-weak
	assert_failure 134
	assert_output --regexp '^claw-model: rule delegate-weak: -guestDidStopVirtualMachine: for VZVirtualMachine 0x[0-9a-f]+: its delegate 0x[0-9a-f]+ was freed'
}

@test "rule delegate-signature: a delegate method registered with types other than the protocol's" {
	CLAW_MODEL_GUEST_HALT_MS=30 vm delegate-signature
	assert_failure 134
	assert_output "claw-model: rule delegate-signature: the delegate's -guestDidStopVirtualMachine: is registered as \"v@:\" but the protocol's method is \"v@:@\" (VZ-API §7)"
}

@test "requestStopWithError: on a macOS guest brings up a dialog; only a guest told to honour it stops" {
	vm request-stop
	assert_success
	assert_output "request on a stopped machine: NO, code 3
request on a running machine: YES
guest kept running (state 1)"
	CLAW_MODEL_GUEST_STOP=honor vm request-stop
	assert_success
	assert_line "guest stopped (state 0)"
}

@test "the host runs two macOS guests at once; the third start is error 6" {
	vm limit
	assert_success
	assert_output "machine 1: running
machine 2: running
machine 3: The maximum supported number of active virtual machines has been reached."
}

@test "the limit of two holds across processes sharing CLAW_MODEL_HOST_DIR" {
	export CLAW_MODEL_HOST_DIR=$BATS_TEST_TMPDIR/host
	mkdir -p "$CLAW_MODEL_HOST_DIR" "$D/a" "$D/b" "$D/c"
	"$CLAW_MODEL_BIN/t_vm" hold "$D/a" 1500 >a.out &
	a=$!
	"$CLAW_MODEL_BIN/t_vm" hold "$D/b" 1500 >b.out &
	b=$!
	for _ in $(seq 100); do
		if [ -s a.out ] && [ -s b.out ]; then
			break
		fi
		sleep 0.05
	done
	run "$CLAW_MODEL_BIN/t_vm" hold "$D/c" 10
	wait "$a" "$b"
	assert_output "The maximum supported number of active virtual machines has been reached."
	run cat a.out b.out
	assert_output "running
running"
	run "$CLAW_MODEL_BIN/t_vm" hold "$D/c" 10
	assert_output running
}

@test "a disk or aux file locked by someone else: start fails with VZ's lock error" {
	vm lock-busy
	assert_success
	assert_output "start: 2 Invalid virtual machine configuration. Failed to lock auxiliary storage."
}

@test "save while paused and restore into a stopped machine with the same configuration" {
	vm save-restore
	assert_success
	assert_output 'save: saved
restore: restored, state 2
restore a paused machine: 4 Invalid virtual machine state transition. Transition from state "paused" to state "restoring" is invalid.'
	run head -n 1 "$D/state.vzvmsave"
	assert_output "claw-model vzvmsave 1"
}

@test "save a running machine: error 3, nothing written" {
	vm save-running
	assert_success
	assert_output "save a running machine: 3 Invalid virtual machine state. The virtual machine must be paused to be saved (it is running)."
	[ ! -e "$D/state.vzvmsave" ]
}

@test "rule save-unvalidated: saving an unsavable configuration without validateSaveRestoreSupportWithError: raises" {
	vm save-unvalidated
	assert_failure 134
	assert_output --partial "claw-model: rule save-unvalidated: -[VZVirtualMachine saveMachineStateToURL:completionHandler:] of a configuration that cannot be saved (Unsupported entropy device in configuration.)"
	vm save-refused
	assert_success
	assert_output "savable: Invalid virtual machine configuration. Unsupported entropy device in configuration.
save: Failed to save the virtual machine state. Unsupported entropy device in configuration."
}

@test "what can be saved: no entropy, no USB pointer; shares not on a macOS 14 host" {
	CLAW_MODEL_MACOS=15.5 vm savable
	assert_success
	assert_output "mac-input savable: yes
entropy savable: Invalid virtual machine configuration. Unsupported entropy device in configuration.
usb-pointer savable: Invalid virtual machine configuration. Unsupported pointing device in configuration.
share savable: yes"
	CLAW_MODEL_MACOS=14.6 vm savable
	assert_line "share savable: Invalid virtual machine configuration. Unsupported directory sharing device in configuration."
}

@test "a share with the automount tag: a macOS 13 or later guest mounts it by itself, an older one or an unknown disk does not" {
	for v in 13.0 15.2; do
		vm guest-mounts "$v"
		assert_success
		assert_output "macOS $v mounts: /Volumes/My Shared Files	$D	ro"
	done
	vm guest-mounts 12.6
	assert_success
	assert_output "macOS 12.6 mounts:"
	vm guest-mounts ""
	assert_success
	assert_output "macOS (none) mounts:"
}

@test "restore in another process: same host and configuration restore; another host, MAC or newer OS is error 12" {
	vm save-then-exit
	assert_success
	assert_output "save: saved"
	vm restore-from
	assert_output "restore: restored, state 2"
	CLAW_MODEL_HOST_ID=another-mac vm restore-from
	assert_output "restore: Failed to restore the virtual machine state. Permission denied, state 0"
	vm restore-from 02:00:00:00:00:01
	assert_output "restore: Failed to restore the virtual machine state. Invalid argument, state 0"
	CLAW_MODEL_MACOS=14.6 vm restore-from
	assert_output "restore: Failed to restore the virtual machine state. Invalid argument, state 0"
	echo garbage >"$D/state.vzvmsave"
	vm restore-from
	assert_output "restore: Failed to restore the virtual machine state. The file is not a saved virtual machine state., state 0"
}

@test "a machine's memory balloon device is set on its queue, in whole MiB" {
	vm balloon
	assert_success
	assert_output "balloon target 2147483648"
}

# ---------------------------------------------------------------- restore images, aux, installer

@test "loadFileURL: calls back on another thread with the image the test describes" {
	CLAW_MODEL_IMAGE_VERSION=15.3.1 CLAW_MODEL_IMAGE_BUILD=24D70 CLAW_MODEL_IMAGE_MIN_CPU=4 inst image
	assert_success
	assert_line "callback on another thread: yes"
	assert_line "version 15.3.1 build 24D70 supported 1"
	assert_line "requirements: 4 CPUs, 4294967296 bytes, hardware model supported 1"
	CLAW_MODEL_IMAGE_SUPPORTED=0 inst image
	assert_line "requirements: none"
	assert_line --partial "supported 0"
}

@test "a missing or broken .ipsw is error 10004 or 10005; an https URL raises" {
	inst image-missing
	# shellcheck disable=SC1112 # VZ's and Cocoa's own typographic quotes
	assert_output 'image no, error 10004: Failed to load the restore image. The file “missing.ipsw” couldn’t be opened: No such file or directory.'
	inst image-invalid
	assert_output "image no, error 10005: Failed to load the restore image. The restore image is invalid."
	inst image-https
	assert_failure 134
	assert_output --partial "rule invalid-argument: +[VZMacOSRestoreImage loadFileURL:completionHandler:] needs a local file URL"
}

@test "the image a completion handler hands over is gone unless retained" {
	inst image-not-retained
	assert_failure 134
	assert_output --partial "rule freed-object: -[VZMacOSRestoreImage buildVersion] sent to a freed object"
}

@test "fetchLatestSupported gives an https URL, or the catalog error" {
	inst fetch
	assert_output "fetched: https://updates.cdn-apple.com/model/UniversalMac_15.2_24C101_Restore.ipsw, error 0"
	CLAW_MODEL_FETCH_FAIL=1 inst fetch
	assert_output "fetched: nothing, error 10001"
}

@test "initCreatingStorageAtURL: refuses an existing file unless told to overwrite it" {
	inst aux-exists
	assert_success
	assert_output "without overwrite: refused (File exists)
with overwrite: created"
}

@test "install: on the machine's queue, the progress rises, the disk stays locked a while after" {
	CLAW_MODEL_DISK_LOCK_MS=400 inst install
	assert_success
	# about ten reads; how many exactly depends on the machine's load
	assert_line --regexp '^progress read [0-9]+ times, never fell: yes, rose: yes$'
	assert_line "final 1.00 finished 1 machine state 0"
	assert_line --regexp '^disk locked after completion: yes; free after about [34]00 ms$'
	assert_line "disk: claw-model-macos 15.2 24C101"
}

@test "rule disk-lock: a process that exits before VZ lets the disk go is caught" {
	inst install-exit-early
	assert_failure 99
	assert_line "install: done"
	assert_line --partial "claw-model: rule disk-lock: the process exits while VZ still locks '$D/disk.img'"
}

@test "starting the machine right after the install meets VZ's lock on the auxiliary storage (tart #865)" {
	inst start-too-soon
	assert_success
	assert_output "start right after install: 2 Invalid virtual machine configuration. Failed to lock auxiliary storage."
}

@test "an install that fails is error 10007 with the test's words; a cancelled one is error 9" {
	CLAW_MODEL_INSTALL_FAIL="The disk is too small." inst install-fail
	assert_success
	assert_output "install: 10007 Installation failed. The disk is too small."
	inst install-cancel
	assert_success
	assert_output "install: 9 The operation was cancelled. The installation was cancelled."
}

@test "installer rules: its queue, cancel before install, install twice, stop during install" {
	inst installer-off-queue
	assert_failure 134
	assert_output "claw-model: rule queue-affinity: -[VZMacOSInstaller initWithVirtualMachine:restoreImageURL:] called off the machine's queue 'test.install' (VZ-API §8)"
	inst cancel-before
	assert_failure 134
	assert_output --partial "rule installer-cancel: -[NSProgress cancel] on a VZMacOSInstaller's progress before installWithCompletionHandler: raises"
	inst install-twice
	assert_failure 134
	assert_output --partial "rule installer-twice"
	inst stop-during-install
	assert_failure 134
	assert_output --partial "rule installer-busy: -[VZVirtualMachine stopWithCompletionHandler:] while its VZMacOSInstaller is installing"
}

@test "KVO of the install's progress; an observer freed while registered is caught" {
	inst kvo
	assert_success
	assert_output "observer notified: yes"
	inst kvo-freed
	assert_failure 134
	assert_output --partial "rule kvo-observer-freed: a change of 'fractionCompleted' of NSProgress"
}
