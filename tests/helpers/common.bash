# Shared by every bats suite: the built binaries first on PATH, a private
# CLAW_HOME and HOME per test, bats-support and bats-assert.
# shellcheck shell=bash

for lib in /usr/lib/bats /usr/local/lib/bats /opt/homebrew/lib /usr/local/lib; do
	if [ -f "$lib/bats-support/load.bash" ]; then
		load "$lib/bats-support/load.bash"
		load "$lib/bats-assert/load.bash"
		break
	fi
done

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export FIXTURES
FIXTURES=$TOP/tests/fixtures
: "${CLAW_BIN:=$TOP/bin}"
export PATH="$CLAW_BIN:$PATH"

common_setup() {
	export CLAW_HOME="$BATS_TEST_TMPDIR/claw-home"
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	unset CLAW_PASSWORD CLAW_VNC_PASSWORD
	cd "$BATS_TEST_TMPDIR" || return 1
}

# others_copy: the built programs and share/ copied where any user can read and run them, for a
# test that runs as another user (a clone may sit in a 0700 home); sets OTHERS. others_remove ends it.
others_copy() {
	export OTHERS
	OTHERS=$(mktemp -d /tmp/claw-others.XXXXXX) || return 1
	cp -R "$CLAW_BIN" "$OTHERS/bin" && cp -R "$TOP/share" "$OTHERS/share" && chmod -R a+rX "$OTHERS"
}

others_remove() {
	[ -z "${OTHERS:-}" ] || rm -rf "$OTHERS"
}

# make_bundle PATH...: bundles as claw makes them (the .clawbundle marker first).
make_bundle() {
	local d
	for d in "$@"; do
		claw-bundle init "$d" >/dev/null || return 1
	done
}

# A config file from stdin, named claw.yml in the test's directory unless $1 says otherwise.
config() {
	cat >"${1:-$BATS_TEST_TMPDIR/claw.yml}"
}

# pretend_running BUNDLE: hold run/pid under an flock, as claw-boot does while its machine runs,
# until the holder ($! afterwards) is killed.
pretend_running() {
	mkdir -p "$1/run"
	(
		flock 9
		echo "$BASHPID" >&9
		exec sleep 30
	) 9>"$1/run/pid" &
	for _ in $(seq 50); do
		[ -s "$1/run/pid" ] && return 0
		sleep 0.1
	done
	return 1
}

# sudoers_file FILE SECURE_PATH [RULE...]: FILE as a Mac admin's sudo reads /etc/sudoers
# (env_reset, every secret dropped), the programs on SECURE_PATH, the fakes' plumbing kept;
# root may do anything, and each RULE is a line of its own.
sudoers_file() {
	local file=$1 path=$2
	shift 2
	{
		echo 'Defaults env_reset'
		echo "Defaults secure_path=\"$path\""
		echo 'Defaults env_keep += "CLAW_FAKE_DISKS CLAW_FAKE_VOLUMES CLAW_FAKE_GUEST_DATA CLAW_FAKE_GUEST_SYSTEM"'
		echo 'Defaults !lecture'
		echo 'root ALL=(ALL:ALL) ALL'
		printf '%s\n' "$@"
	} >"$file"
	chmod 0440 "$file"
}

# with_sudoers FILE CMD...: CMD where the real sudo reads FILE as /etc/sudoers (a private
# mount namespace: the machine's own sudoers is never touched).
with_sudoers() {
	local file=$1
	shift
	# shellcheck disable=SC2016 # $1 and $@ are the inner sh's
	unshare -m --propagation private sh -c 'mount --bind "$1" /etc/sudoers && shift && exec "$@"' _ "$file" "$@"
}
