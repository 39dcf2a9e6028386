#!/usr/bin/env bats
# tests/helpers/darwin-check.sh, the check that keeps common/darwin/ honest without a Mac:
# it passes on the tree, and each kind of mistake in a copy makes it fail, saying which.

load helpers/common

setup() {
	common_setup
	mkdir -p broken
	cp "$TOP"/common/darwin/*.c broken/
}

check() { CLAW_DARWIN_SRC="$BATS_TEST_TMPDIR/broken" sh "$TOP/tests/helpers/darwin-check.sh"; }

@test "the tree passes" {
	run sh "$TOP/tests/helpers/darwin-check.sh"
	assert_success
	assert_output ""
}

@test "a selector Apple does not have fails" {
	sed -i 's/"setHardwareModel:"/"setHardwareModle:"/' broken/vz.c
	run check
	assert_failure
	assert_output "selector not in vz-selectors.txt: setHardwareModle:"
}

@test "a prototype with the wrong number of arguments fails" {
	# initWithString: takes one argument; send it through a two-argument prototype.
	sed -i 's/SEND1(id, alloc_of("VZMACAddress"), "initWithString:", id, ns_string(s->mac))/SEND2(id, alloc_of("VZMACAddress"), "initWithString:", id, ns_string(s->mac), id, nil)/' broken/vz.c
	grep -q 'SEND2(id, alloc_of("VZMACAddress")' broken/vz.c
	run check
	assert_failure
	assert_output "selector initWithString: takes 1 arguments but is sent through a prototype with 2"
}

@test "a class Apple does not have fails" {
	sed -i 's/make("VZMacOSBootLoader")/make("VZMacOSBootLoadr")/' broken/vz.c
	run check
	assert_failure
	assert_output "class not in vz-selectors.txt: VZMacOSBootLoadr"
}

@test "objc_msgSend called around the typed macros fails" {
	echo 'static void bad(id o) { ((void (*)(id, SEL))objc_msgSend)(o, sel_registerName("release")); }' >>broken/vz.c
	run check
	assert_failure
	assert_line --partial "calls objc_msgSend directly"
}

@test "code that does not compile fails" {
	echo 'static int oops(void) { return undeclared_thing; }' >>broken/vz.c
	run check
	assert_failure
	assert_output --partial "undeclared_thing"
}
