# shellcheck shell=sh
# The stand-ins for macOS's tools in the simulated first boot: each records its argv,
# one line a call, in $CLAW_FAKE_LOG, and answers as the real tool would for the
# state the test sets (CLAW_FAKE_* variables; see each stand-in).
record() {
	printf '%s' "$(basename "$0")" >>"${CLAW_FAKE_LOG:?}"
	printf ' %s' "$@" >>"$CLAW_FAKE_LOG"
	printf '\n' >>"$CLAW_FAKE_LOG"
}
