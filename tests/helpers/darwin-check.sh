#!/bin/sh
# The Darwin compile check, run by `make check` on any host:
#  1. common/darwin/*.c compiles with clang -fblocks -fsyntax-only -Wall -Wextra -Werror
#     (objc.h declares the runtime where Apple's headers are absent);
#  2. every message it sends, preprocessed so helpers' selectors show at their calls, names a
#     selector listed in common/darwin/vz-selectors.txt, sent through a prototype with as
#     many arguments as the selector has colons; every class it looks up is listed too;
#  3. objc_msgSend is never called except through objc.h's typed SENDn macros.
# Prints what is wrong, one line each; exit 1 if anything is.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 70
list=${CLAW_VZ_SELECTORS:-$top/common/darwin/vz-selectors.txt}
[ -f "$list" ] || { echo "darwin-check: no selector list at '$list'"; exit 1; }
clang=${CLANG:-clang}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/claw-darwin.XXXXXX") || exit 73
trap 'rm -rf "$tmp"' EXIT
src=${CLAW_DARWIN_SRC:-common/darwin} # the tests point this at a broken copy
bad=0
flags="-std=c11 -fblocks -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -iquote common"
for f in "$src"/*.c; do
	# shellcheck disable=SC2086
	$clang $flags -fsyntax-only "$f" || bad=1
	# shellcheck disable=SC2086
	$clang $flags -DCLAW_SELECTOR_CHECK -E -P "$f" >"$tmp/$(basename "$f").i" || bad=1
	if grep -n 'objc_msgSend' "$f" >/dev/null; then
		echo "$f: calls objc_msgSend directly; send through SENDn in objc.h"
		bad=1
	fi
done

# Sends: claw_send_N("selector", ...). A selector that is not a literal shows as claw_send_N(name.
cat "$tmp"/*.i | grep -o 'claw_send_[0-9]([^,)]*' | sed 's/^claw_send_\([0-9]\)(/\1 /' >"$tmp/sends"
# Classes and selectors named in the source itself (class lookups, the delegate's methods).
cat "$src"/*.c | grep -o '\(CLASS\|make\|alloc_of\|objc_getClass\)("[^"]*")' |
	sed 's/^[a-zA-Z_]*("\([^"]*\)")$/\1/' | sort -u >"$tmp/classes"
cat "$src"/*.c | grep -o 'objc_allocateClassPair([^;]*"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort -u >"$tmp/own"
cat "$src"/*.c | grep -o 'sel_registerName("[^"]*")' | sed 's/^sel_registerName("\([^"]*\)")$/\1/' |
	sort -u >"$tmp/named"

awk -F '\t' -v sends="$tmp/sends" -v classes="$tmp/classes" -v own="$tmp/own" -v named="$tmp/named" '
	FILENAME == ARGV[1] { colons[$3] = $4; known[$1] = 1; next }
	END {
		bad = 0
		while ((getline line < sends) > 0) {
			n = substr(line, 1, 1); sel = substr(line, 3)
			if (sel !~ /^".*"$/) { print "a send whose selector is not a literal: " sel; bad = 1; continue }
			gsub(/"/, "", sel)
			if (!(sel in colons)) { print "selector not in vz-selectors.txt: " sel; bad = 1; continue }
			if (colons[sel] != n) {
				print "selector " sel " takes " colons[sel] " arguments but is sent through a prototype with " n
				bad = 1
			}
			sent++
		}
		while ((getline c < own) > 0) mine[c] = 1
		while ((getline c < classes) > 0)
			if (!(c in known) && !(c in mine)) { print "class not in vz-selectors.txt: " c; bad = 1 }
		while ((getline s < named) > 0)
			if (!(s in colons)) { print "selector not in vz-selectors.txt: " s; bad = 1 }
		if (sent == 0) { print "no sends found: the check reads nothing"; bad = 1 }
		exit bad
	}' "$list" /dev/null || bad=1
exit $bad
