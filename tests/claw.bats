#!/usr/bin/env bats
# The claw driver (dispatch, help) and claw-ls (listing bundles from their files).

load helpers/common

setup() { common_setup; }

vm() { # NAME [config.json body] -> a bundle under CLAW_HOME
	local d="$CLAW_HOME/VMs/$1.clawbundle"
	make_bundle "$d"
	[ -z "${2:-}" ] || printf '%s\n' "$2" >"$d/config.json"
	echo "$d"
}

@test "claw with no arguments prints the usage and exits 64" {
	run claw
	assert_failure 64
	assert_line --index 0 "usage: claw [-h] [--version] COMMAND [ARGS...]"
}

@test "claw -h and claw help print the usage on stdout" {
	run claw -h
	assert_success
	assert_line --index 0 --partial "usage: claw"
	run claw help
	assert_success
	assert_line --index 0 --partial "usage: claw"
}

@test "claw --version" {
	run claw --version
	assert_output --regexp '^claw [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "claw STAGE ARGS runs claw-STAGE ARGS, exit code and all" {
	run claw config get vm.macos
	assert_success
	assert_output latest
	run claw config get vm.nope
	assert_failure 64
	printf 'vm: [\n' >bad.yml
	run claw config -c bad.yml check
	assert_failure 78
	assert_output --partial "claw-config: bad.yml:2:1: YAML syntax"
}

@test "claw help COMMAND prints that command's usage" {
	run claw help config
	assert_success
	assert_line --index 0 --partial "usage: claw-config"
}

@test "an unknown command, or one that tries to leave the bin folder, is 64" {
	for c in frobnicate ../claw-config 'config;id' '-x' 'A'; do
		run claw "$c"
		assert_failure 64
	done
	run claw frobnicate
	assert_output "claw: unknown command 'frobnicate'; 'claw help' lists them"
}

@test "claw finds a stage beside itself before PATH" {
	mkdir -p fakebin
	printf '#!/bin/sh\necho impostor\n' >fakebin/claw-config
	chmod +x fakebin/claw-config
	PATH="$PWD/fakebin:$PATH" run "$CLAW_BIN/claw" config get vm.macos
	assert_output latest
}

@test "claw-ls: nothing to list prints nothing" {
	run claw ls
	assert_success
	assert_output ""
	run claw ls --json
	assert_output "[]"
}

@test "claw-ls: bundles sorted by name, with what config.json says" {
	vm zeta >/dev/null
	vm alpha '{"cpuCount": 4, "memorySize": 8589934592, "diskSize": 68719476736, "os": {"version": "15.2", "build": "24C101"}}' >/dev/null
	truncate -s 64G "$CLAW_HOME/VMs/alpha.clawbundle/disk.img"
	run claw ls
	assert_success
	assert_line --index 0 --regexp '^NAME +STATE +MACOS +CPU +RAM +DISK +IP$'
	assert_line --index 1 --regexp '^alpha +stopped +15\.2 +4 +8GB +0B/64GB +-$'
	assert_line --index 2 --regexp '^zeta +incomplete +- +- +- +-/- +-$'
	run claw ls --json
	assert_success
	run python3 -c 'import json,sys; d=json.load(sys.stdin); a=d[0]; print(a["name"], a["state"], a["macos"], a["build"], a["cpu"], a["ram"], a["disk_size"], a["disk_used"], "ip" in a, d[1]["state"], "macos" in d[1])' <<<"$output"
	assert_output "alpha stopped 15.2 24C101 4 8589934592 68719476736 0 False incomplete False"
}

@test "claw-ls: a running VM shows its state and IP; once its claim on run/pid is gone it shows stopped" {
	d=$(vm dev '{"cpuCount": 2}')
	pretend_running "$d"
	echo running >"$d/run/state"
	echo 192.168.64.5 >"$d/run/ip"
	run claw ls dev
	assert_line --index 1 --regexp '^dev +running +- +2 .* 192\.168\.64\.5$'
	kill $!
	wait || true
	run claw ls dev
	assert_line --index 1 --regexp '^dev +stopped '
	refute_output --partial 192.168.64.5
}

@test "claw-ls: a named bundle that does not exist is 66; a path works" {
	run claw ls nope
	assert_failure 66
	assert_output "claw-ls: no bundle 'nope' (looked for '$CLAW_HOME/VMs/nope.clawbundle')"
	make_bundle elsewhere/x.clawbundle
	run claw ls elsewhere/x.clawbundle
	assert_success
	assert_line --index 1 --regexp '^x +incomplete'
}

@test "claw-ls: a corrupt config.json is 65 and named" {
	vm broken '{"cpuCount": ' >/dev/null
	run claw ls
	assert_failure 65
	assert_output --partial "claw-ls: '$CLAW_HOME/VMs/broken.clawbundle/config.json' is not valid JSON"
}

@test "claw vnc: the screen's URL (the user, never a password; an IPv6 address in brackets); not running is 75" {
	d=$(vm dev '{"cpuCount": 2, "os": {"version": "15.2"}}')
	printf 'access:\n  username: dev\n  vnc_password: s3cr3t\n' >"$d/claw.yml"
	run claw vnc dev
	assert_failure 75
	assert_output "claw: 'dev' is not running, or has no address yet; claw start dev"
	pretend_running "$d"
	echo 192.168.64.7 >"$d/run/ip"
	run claw vnc dev
	assert_success
	assert_output "vnc://dev@192.168.64.7"
	echo fd00::7 >"$d/run/ip"
	run claw vnc dev
	assert_output "vnc://dev@[fd00::7]"
	# Not an address: never put in a URL, nor handed to open(1).
	echo '-a Terminal' >"$d/run/ip"
	run claw vnc dev
	kill $!
	assert_failure 75
	run claw vnc
	assert_failure 64
	assert_output "claw: usage: claw vnc NAME"
	run claw restart
	assert_failure 64
	run claw restart dev --now
	assert_failure 64
	assert_output "claw: restart: unknown option '--now'"
}

@test "claw ssh hands ssh no secret: CLAW_PASSWORD and CLAW_VNC_PASSWORD stay with the stages" {
	d=$(vm dev '{"cpuCount": 2}')
	printf 'access:\n  username: dev\n' >"$d/claw.yml"
	pretend_running "$d"
	echo 192.168.64.7 >"$d/run/ip"
	mkdir -p stand-in
	printf '#!/bin/sh\nenv\n' >stand-in/ssh
	chmod +x stand-in/ssh
	CLAW_PASSWORD=hunter2-pw CLAW_VNC_PASSWORD=vncsecr PATH=$BATS_TEST_TMPDIR/stand-in:$PATH run claw ssh dev true
	kill $!
	assert_success
	assert_line --regexp '^PATH='
	refute_output --partial hunter2-pw
	refute_output --partial vncsecr
}

@test "claw rm and claw stop take one NAME: a second one is refused (64), never silently the last" {
	vm a >/dev/null
	vm b >/dev/null
	run claw rm a b
	assert_failure 64
	assert_output "claw: rm: one NAME at a time, not 'a' and 'b'"
	run claw stop a b
	assert_failure 64
	assert_output "claw: stop: one NAME at a time, not 'a' and 'b'"
	[ -d "$CLAW_HOME/VMs/a.clawbundle" ]
	[ -d "$CLAW_HOME/VMs/b.clawbundle" ]
}
