#!/usr/bin/env bats
# make install puts programs, man pages, completions and share/claw where a packager expects.

load helpers/common

setup() { common_setup; }

@test "make install DESTDIR=... PREFIX=... installs everything, runnable from there" {
	run make -C "$TOP" -s install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/opt/claw
	assert_success
	r="$BATS_TEST_TMPDIR/root/opt/claw"
	for f in bin/claw bin/claw-config bin/claw-ls share/man/man1/claw.1 share/man/man1/claw-config.1 \
		share/man/man5/claw.yml.5 share/man/man7/claw-bundle.7 share/claw/claw.yml \
		share/bash-completion/completions/claw share/zsh/site-functions/_claw \
		share/fish/vendor_completions.d/claw-config.fish share/fish/vendor_functions.d/__claw_bundles.fish; do
		[ -e "$r/$f" ] || fail "missing $f"
	done
	[ "$(stat -c %a "$r/bin/claw-config")" = 755 ]
	[ "$(stat -c %a "$r/share/man/man1/claw.1")" = 644 ]
	run env PATH=/usr/bin:/bin "$r/bin/claw" config get vm.macos
	assert_output latest
	run "$r/bin/claw" --version
	assert_output --regexp '^claw [0-9]+\.[0-9]+\.[0-9]+$'
}
