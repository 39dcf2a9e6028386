#!/usr/bin/env bats
# claw-provision against real OpenSSH: sshd on loopback is the guest (tests/helpers/guest-shell
# keeps it in a tree of its own). The config's steps are plain shell, so the mechanism runs here.

load helpers/common
load helpers/servers

setup_file() { sshd_start; }
teardown_file() { sshd_stop; }

setup() {
	common_setup
	B=$(guest_bundle dev)
	echo "PROVISIONING_READY" >"$GUEST/var/log/claw-firstboot.log"
	rm -f "$GUEST/home/"* "$GUEST/home/".claw-* /tmp/claw-pwned
	cat >"$B/claw.yml" <<'YML'
name: dev
tools:
  homebrew: false
  custom:
    - name: "first $(touch /tmp/claw-pwned) `touch /tmp/claw-pwned` ';' \"q\""
      run: echo one >>steps.txt
    - name: reads stdin
      run: |
        read -r line; echo "read:[$line]"
        echo two >>steps.txt
    - name: fails
      run: echo three >>steps.txt; exit 3
    - echo four >>steps.txt
YML
}

provision() { claw-provision -b dev --user root --port "$SSH_PORT" --timeout 5 "$@"; }

@test "--print-script: a script that passes shellcheck and bash -n, every value quoted" {
	run claw-provision -b dev --print-script
	assert_success
	printf '%s\n' "$output" >p.sh
	bash -n p.sh
	shellcheck -s bash -e SC2016 p.sh
	assert_output --partial "claw_step 2 'first \$(touch /tmp/claw-pwned) \`touch /tmp/claw-pwned\` '\\'';"
	assert_output --partial "step_custom 'echo one >>steps.txt'"
	refute_output --partial "set -euo pipefail"
	[ ! -e "$B/provision.sh" ]
}

@test "the steps run in order; a failing step does not stop the ones after it; exit 1" {
	run provision
	assert_failure 1
	assert_line "=== [1/7] hostname ==="
	assert_line "STEP_SKIPPED 1/7"
	assert_line "STEP_COMPLETE 2/7"
	assert_line "STEP_FAILED 4/7 (exit 3)"
	assert_line "STEP_COMPLETE 5/7"
	assert_line "STEP_SKIPPED 7/7"
	assert_line "=== provisioning finished: 1 failed ==="
	assert_line "claw-provision: 1 of 7 steps failed; see provision.log"
	[ "$(cat "$GUEST/home/steps.txt")" = "$(printf 'one\ntwo\nthree\nfour')" ]
	[ ! -e /tmp/claw-pwned ]
}

@test "provision.log and provision.json keep what happened" {
	run provision
	grep -qx "STEP_FAILED 4/7 (exit 3)" "$B/provision.log"
	cmp "$B/provision.sh" "$GUEST/home/.claw-provision.sh"
	[ "$(stat -c %a "$GUEST/home/.claw-provision.sh")" = 700 ]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["failed"]); print(" ".join(s["status"] for s in d["steps"])); print(all(isinstance(s["seconds"], int) for s in d["steps"])); print(d["steps"][2]["title"])' "$B/provision.json"
	assert_line --index 0 1
	assert_line --index 1 "skipped ok ok failed ok skipped skipped"
	assert_line --index 2 True
	assert_line --index 3 "reads stdin"
}

@test "names reach brew and npm after --, and one that starts with - is refused (78); ssh_password_login keeps passwords" {
	printf 'tools:\n  homebrew: false\n  packages: [jq]\n  casks: [iterm2]\n  npm_global: [pnpm]\n' >"$B/claw.yml"
	run claw-provision -b dev --print-script
	assert_success
	assert_line --partial 'brew install -- "$@"'
	assert_line --partial 'brew install --cask -- "$@"'
	assert_line --partial 'npm install -g -- "$@"'
	assert_line "claw_step 6 'SSH hardening (no password logins)' step_harden_ssh"
	for bad in '-g' '--registry=http://evil' '-x'; do
		printf 'tools:\n  npm_global: ["%s"]\n' "$bad" >"$B/claw.yml"
		run claw-provision -b dev --print-script
		assert_failure 78
		printf 'tools:\n  packages: ["%s"]\n' "$bad" >"$B/claw.yml"
		run claw-provision -b dev --print-script
		assert_failure 78
	done
	# Password logins asked for: provisioning does not turn them off again.
	printf 'access:\n  ssh_password_login: true\ntools:\n  homebrew: false\n' >"$B/claw.yml"
	run claw-provision -b dev --print-script
	assert_success
	run grep -c 'claw_step .* step_harden_ssh$' <<<"$output"
	assert_output 0
}

@test "-v says each step as it starts, on stderr" {
	run sh -c 'claw-provision -v -b dev --user root --port "$1" --timeout 5 2>err >/dev/null; cat err' _ "$SSH_PORT"
	assert_line --regexp '^claw-provision: \[3/7\] reads stdin \([0-9]+s in\)$'
}

@test "a step that reads stdin gets nothing, and eats nothing of the script" {
	run provision
	assert_line "read:[]"
	assert_line "STEP_COMPLETE 3/7"
	assert_line "=== [4/7] fails ==="
}

@test "--from-step resumes after a failure" {
	sed -i 's/exit 3/true/' "$B/claw.yml"
	run provision --from-step 4
	assert_success
	assert_line "STEP_SKIPPED 1/7 (before --from-step)"
	assert_line "STEP_SKIPPED 3/7 (before --from-step)"
	assert_line "STEP_COMPLETE 4/7"
	[ "$(cat "$GUEST/home/steps.txt")" = "$(printf 'three\nfour')" ]
	run provision --from-step 8
	assert_failure 64
}

@test "a host key that is not the guest's is refused, and nothing runs" {
	ssh-keygen -q -t ed25519 -N '' -f other
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 other.pub)" >"$B/ssh/known_hosts"
	run provision
	assert_failure 77
	assert_output "claw-provision: 127.0.0.1: the host key does not match the bundle's known_hosts; refusing"
	[ ! -e "$GUEST/home/steps.txt" ]
}

@test "a key the guest refuses: ssh's reason once, then 75 with it when the time is up" {
	ssh-keygen -q -t ed25519 -N '' -f other
	cp other "$B/ssh/id_ed25519"
	run provision --timeout 3
	assert_failure 75
	assert_output --regexp "^claw-provision: cannot reach 127\.0\.0\.1 over SSH: .*Permission denied \(publickey\)\.$"
	# With -v, said when it first happens (not once a second), and again in the error.
	run provision --timeout 3 -v
	assert_failure 75
	[ "$(grep -c 'Permission denied' <<<"$output")" -eq 2 ] || fail "$output"
	assert_line --regexp "^claw-provision: 127\.0\.0\.1: .*Permission denied.*; trying again until 3 s have passed$"
	[ ! -e "$GUEST/home/steps.txt" ]
}

@test "a claw guest whose first boot has not finished: wait, then 75" {
	echo "first boot running" >"$GUEST/var/log/claw-firstboot.log"
	run provision --timeout 1
	assert_failure 75
	assert_output "claw-provision: 127.0.0.1 is not ready: /var/log/claw-firstboot.log has no PROVISIONING_READY yet"
	rm "$GUEST/var/log/claw-firstboot.log"
	run provision --timeout 1
	assert_failure 75
	assert_output "claw-provision: 127.0.0.1 has no /var/log/claw-firstboot.log: is it a claw guest? (give --host for other Macs)"
	[ ! -e "$GUEST/home/steps.txt" ]
}

@test "first boot's failure is this boot's: 69 with its reason; an earlier boot's is not held against this one" {
	log=$GUEST/var/log/claw-firstboot.log
	printf 'tools:\n  homebrew: false\n  custom:\n    - echo ok\n' >"$B/claw.yml"
	printf 'claw first boot: started 1\nclaw first boot: PROVISIONING_FAILED: sshd is not listening on port 22 after 60 s\n' >"$log"
	run provision --timeout 5
	assert_failure 69
	assert_output "claw-provision: 127.0.0.1: first boot failed: sshd is not listening on port 22 after 60 s"
	# The next boot tries again: its own lines, then READY a moment later.
	printf 'claw first boot: started 2\n' >>"$log"
	(sleep 2 && echo PROVISIONING_READY >>"$log") &
	run provision --timeout 10
	assert_success
	assert_line --partial "STEP_COMPLETE"
}

@test "--host: any Mac reachable by SSH, no first-boot log needed" {
	rm "$GUEST/var/log/claw-firstboot.log"
	cat >fleet.yml <<'YML'
tools:
  homebrew: false
  custom: ["echo fleet >>steps.txt"]
YML
	run claw-provision -c fleet.yml --host 127.0.0.1 --port "$SSH_PORT" --user root
	# Without a bundle there is no known_hosts or key of claw's: ssh's own apply, so give them.
	assert_failure 77
	assert_output "claw-provision: 127.0.0.1: its host key is not in your known_hosts; refusing (ssh 127.0.0.1 once, or use a bundle)"
	# With a bundle for its keys, --host still needs no first-boot log (ssh reads ~/.ssh from the
	# password database, not $HOME, so a test cannot hand it a known_hosts of its own).
	rm "$B/run/ip"
	run claw-provision -b dev -c fleet.yml --host 127.0.0.1 --port "$SSH_PORT" --user root
	assert_success
	assert_line "STEP_COMPLETE 2/4"
	[ "$(cat "$GUEST/home/steps.txt")" = fleet ]
}

@test "no address: 66 with a hint" {
	rm "$B/run/ip"
	run provision
	assert_failure 66
	assert_output "claw-provision: no address for 'dev': run claw-ip -b dev --wait first, or give --host"
}

@test "usage errors are 64" {
	run claw-provision
	assert_failure 64
	run claw-provision -b dev --from-step 0
	assert_failure 64
	run claw-provision -b dev --port 70000
	assert_failure 64
	run claw-provision -b dev extra
	assert_failure 64
}
