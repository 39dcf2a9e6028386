#!/usr/bin/env bats
# share/claw/examples/fleet.sh against real OpenSSH: Macs that claw did not make, reached by
# the names in the user's own ~/.ssh/config. ssh reads ~/.ssh from the password database,
# so the fleet's operator is a temporary user whose home is a folder of this test's.
# (The example Makefile runs in claw-e2e.bats, where the whole suite is.)

load helpers/common
load helpers/servers
load helpers/guest

OPERATOR=clawfleet

setup_file() {
	command -v useradd >/dev/null || skip "no useradd"
	command -v setpriv >/dev/null || skip "no setpriv"
	sshd_start
	guest_fake brew "$GUEST/bin/brew"
	bottle ripgrep 14.1.1 rg
	# Poured before the fleet comes: its hosts, all this one guest, provision at once.
	in_guest brew install ripgrep >/dev/null
	# A home outside the suite's private temporary folders, which the operator cannot enter.
	export OPS
	OPS=$(mktemp -d /tmp/claw-fleet.XXXXXX)
	others_copy
	userdel -f "$OPERATOR" 2>/dev/null || true
	useradd -M -N -d "$OPS" -s /bin/sh "$OPERATOR" || skip "cannot add the operator"
	mkdir -p "$OPS/.ssh"
	cp "$CLIENT_KEY" "$OPS/.ssh/id_ed25519"
	cp "$KNOWN_HOSTS" "$OPS/.ssh/known_hosts"
	closed=$(free_port)
	cat >"$OPS/.ssh/config" <<CONF
Host mini-1 mini-2
	HostName 127.0.0.1
	Port $SSH_PORT
Host gone
	HostName 127.0.0.1
	Port $closed
	ConnectTimeout 2
CONF
	cat >"$OPS/fleet.yml" <<'YML'
tools:
  homebrew: false
  packages: [ripgrep]
  custom:
    - name: mark the host
      run: echo fleet >>fleet.txt
YML
	chown -R "$OPERATOR" "$OPS"
	chmod 0700 "$OPS/.ssh"
}

teardown_file() {
	sshd_stop
	userdel -f "$OPERATOR" 2>/dev/null || true
	[ -z "${OPS:-}" ] || rm -rf "$OPS"
	others_remove
}

# as_operator CMD...: in the operator's home, as the operator.
as_operator() {
	(cd "$OPS" && setpriv --reuid="$OPERATOR" --regid="$(id -g "$OPERATOR")" --init-groups \
		env HOME="$OPS" PATH="$OTHERS/bin:$PATH" "$@")
}

@test "fleet.sh: every host provisioned and verified, each with its log and manifest" {
	rm -f "$GUEST/home/fleet.txt"
	run as_operator sh "$OTHERS/share/claw/examples/fleet.sh" fleet.yml root mini-1 mini-2
	assert_success
	assert_line "mini-1: ok"
	assert_line "mini-2: ok"
	[ "$(cat "$GUEST/home/fleet.txt")" = "fleet
fleet" ]
	for h in mini-1 mini-2; do
		grep -q "STEP_COMPLETE" "$OPS/$h.log" || fail "$h.log: $(cat "$OPS/$h.log")"
		run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["vmName"], [(t["name"], t["installed"]) for t in d["tools"]])' "$OPS/$h.manifest.json"
		assert_output "$h [('ripgrep', True)]"
	done
}

@test "fleet.sh: a host that does not answer fails alone, named, and the run exits 1" {
	run as_operator env TIMEOUT=2 sh "$OTHERS/share/claw/examples/fleet.sh" fleet.yml root mini-1 gone
	assert_failure 1
	assert_line "mini-1: ok"
	assert_line "gone: provisioning failed (see gone.log)"
	run cat "$OPS/gone.log"
	assert_output --regexp "^claw-provision: cannot reach gone over SSH: ssh: connect to host 127\.0\.0\.1 port [0-9]+: Connection refused$"
}

@test "fleet.sh: usage without a config, a user and a host" {
	run sh "$TOP/share/claw/examples/fleet.sh" fleet.yml root
	assert_failure 64
	assert_output "usage: fleet.sh CONFIG USER HOST..."
}
