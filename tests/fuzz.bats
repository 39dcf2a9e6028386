#!/usr/bin/env bats
# make fuzz's targets, replayed without libFuzzer over their seeds (tests/fuzz/seeds/TARGET/,
# which keep every input a fuzzer once found) and the fixtures tests/fuzz/targets seeds them
# from: no crash, no failed check of the target's own, and, under make check SANITIZE=1, no
# sanitizer report. Each finding also has a test of its own where its reader is tested.

load helpers/common

setup() { common_setup; }

# replay TARGET: every input of its, through build/.../unit/replay-TARGET.
replay() {
	local t=$1 line f g
	local -a files=()
	line=$(grep -v '^#' "$TOP/tests/fuzz/targets" | awk -v t="$t" '$1 == t')
	[ -n "$line" ] || fail "no target '$t' in tests/fuzz/targets"
	set -f
	# shellcheck disable=SC2086 # the line's words: the name, max_len, dictionaries, the fixtures
	set -- $line
	set +f
	shift 3
	for g in "$@"; do
		for f in "$TOP"/$g; do
			[ -f "$f" ] && files+=("$f")
		done
	done
	for f in "$TOP/tests/fuzz/seeds/$t"/*; do
		[ -f "$f" ] && files+=("$f")
	done
	[ "${#files[@]}" -gt 0 ] || fail "no seeds for '$t'"
	run "$CLAW_UNIT/replay-$t" "${files[@]}"
	assert_success
	assert_line "1..${#files[@]}"
	refute_line --partial "not ok"
}

@test "every target in tests/fuzz/targets has its source, and every source is a target" {
	run sh -c "grep -v '^#' '$TOP/tests/fuzz/targets' | awk '{ print \$1 }' | sort"
	assert_success
	local listed=$output
	run sh -c "cd '$TOP/tests/fuzz' && ls fuzz_*.c | sed 's/^fuzz_//; s/\\.c\$//' | sort"
	assert_success
	assert_equal "$output" "$listed"
	# and every target is replayed below: a target with no test of its own here is never run.
	run sh -c "grep -o '{ replay [a-z0-9]*; }' '$BATS_TEST_FILENAME' | awk '{ print \$3 }' | tr -d ';' | sort"
	assert_success
	assert_equal "$output" "$listed"
}

@test "fuzz target config: claw.yml" { replay config; }
@test "fuzz target record: the resolve record" { replay record; }
@test "fuzz target catalog: Apple's IPSW catalog" { replay catalog; }
@test "fuzz target ipswme: ipsw.me's device answer" { replay ipswme; }
@test "fuzz target leases: dhcpd_leases" { replay leases; }
@test "fuzz target arp: arp -an" { replay arp; }
@test "fuzz target dslocal: the user record and the admin group" { replay dslocal; }
@test "fuzz target shadowhash: ShadowHashData" { replay shadowhash; }
@test "fuzz target disabled: launchd's overrides" { replay disabled; }
@test "fuzz target hdiutil: hdiutil attach -plist" { replay hdiutil; }
@test "fuzz target apfs: diskutil apfs list -plist" { replay apfs; }
@test "fuzz target plist: plistx_parse and its bounds" { replay plist; }
@test "fuzz target verify: the guest's answer to claw-verify" { replay verify; }
@test "fuzz target http: Content-Range and the other response headers" { replay http; }
@test "fuzz target lz4: a disk layer in Apple's LZ4 stream" { replay lz4; }
@test "fuzz target manifest: a registry's manifest, read as tart's layout" { replay manifest; }
@test "fuzz target tartconfig: tart's config.json" { replay tartconfig; }
@test "fuzz target ref: an image reference" { replay ref; }
