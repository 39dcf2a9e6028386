# The hypervisor fake (tests/fakes/vm_fake.c) for the suites that run claw-restore
# and claw-boot: the test builds linked against it, a fake IPSW, and its call log.
# shellcheck shell=bash

: "${CLAW_FAKE_BIN:=$TOP/build/obj/fake/bin}"
export CLAW_FAKE_BIN

vm_setup() {
	export CLAW_FAKE_VM_LOG="$BATS_TEST_TMPDIR/vm.log"
	: >"$CLAW_FAKE_VM_LOG"
	unset CLAW_FAKE_VM_HOST_VERSION CLAW_FAKE_VM_MAX_CPU CLAW_FAKE_VM_MAX_RAM CLAW_FAKE_VM_UNSUPPORTED \
		CLAW_FAKE_VM_INVALID CLAW_FAKE_VM_INSTALL_STEPS CLAW_FAKE_VM_INSTALL_MS CLAW_FAKE_VM_INSTALL_FAIL_AT \
		CLAW_FAKE_VM_DISK_HOLD_MS CLAW_FAKE_VM_LIMIT CLAW_FAKE_VM_HALT_FILE CLAW_FAKE_VM_SHUTDOWN_AFTER \
		CLAW_FAKE_VM_CRASH_AFTER
}

# fake_ipsw PATH [key=value...]: an image the fake reads its version and minimums from.
fake_ipsw() {
	local path=$1
	shift
	{
		echo claw-fake-ipsw
		printf '%s\n' "$@"
	} >"$path"
}

restore() { "$CLAW_FAKE_BIN/claw-restore" "$@"; }
boot() { "$CLAW_FAKE_BIN/claw-boot" "$@"; }

# The calls the command made to the hypervisor, one word each.
vm_calls() { awk '{print $1}' "$CLAW_FAKE_VM_LOG" | tr '\n' ' ' | sed 's/ $//'; }

# gone PID: the process has ended.
gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_for CONDITION...: up to 5 s, polling every 50 ms.
wait_for() {
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
