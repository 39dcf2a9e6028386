#!/usr/bin/env bats
# Every ssh claw runs (common/ssh.c), against real OpenSSH: each command's master connection is
# its own and is gone when the command is, whichever way it ends; host keys stay pinned whatever
# the user's ssh_config says and whatever the bundle's path holds; nothing is forwarded.

load helpers/common
load helpers/servers

setup_file() { sshd_start; }
teardown_file() { sshd_stop; }

setup() {
	common_setup
	B=$(guest_bundle dev)
	echo "PROVISIONING_READY" >"$GUEST/var/log/claw-firstboot.log"
	rm -f "$GUEST/home/"*
	cat >"$B/claw.yml" <<'YML'
tools:
  homebrew: false
  custom:
    - echo ran >>steps.txt
YML
	# Masters are made in TMPDIR: a private one per test shows what each command left there.
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
}

provision() { claw-provision -b "${BNAME:-dev}" --user root --port "$SSH_PORT" --timeout 5 "$@"; }
verify() { claw-verify -b "${BNAME:-dev}" --user root --port "$SSH_PORT" "$@"; }

# No ssh of this test's is alive (its bundle, TMPDIR and config all lie under BATS_TEST_TMPDIR;
# a master shows as "ssh: SOCKET [mux]"), and no directory for one is left in TMPDIR.
assert_no_master() {
	local _
	for _ in $(seq 1 30); do
		pgrep -f "ssh.*$BATS_TEST_TMPDIR" >/dev/null || break
		sleep 0.1
	done
	run pgrep -af "ssh.*$BATS_TEST_TMPDIR"
	assert_output ""
	run find "$TMPDIR" -mindepth 1
	assert_output ""
}

# user_ssh_config: a stand-in ssh first on PATH that reads the config on stdin first, as ssh reads
# the user's ~/.ssh/config (which ssh finds through the password database, not $HOME).
user_ssh_config() {
	mkdir -p stand-in
	cat >user-ssh.conf
	printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(command -v ssh)" "$BATS_TEST_TMPDIR/user-ssh.conf" >stand-in/ssh
	chmod +x stand-in/ssh
	export PATH=$BATS_TEST_TMPDIR/stand-in:$PATH
}

@test "claw-provision and claw-verify each end their own master connection" {
	run provision
	assert_success
	assert_no_master
	run verify
	assert_success
	assert_no_master
	run claw-ip -b dev --mac ee:a7:85:09:92:39
	assert_failure 64
}

@test "a failing step and a refused key end the master too" {
	printf 'tools:\n  homebrew: false\n  custom:\n    - exit 3\n' >"$B/claw.yml"
	run provision
	assert_failure 1
	assert_no_master
	ssh-keygen -q -t ed25519 -N '' -f other
	cp "$B/ssh/known_hosts" known_hosts.good
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 other.pub)" >"$B/ssh/known_hosts"
	run verify
	assert_failure 77
	assert_no_master
}

@test "SIGTERM in the middle of a step ends the master with the command" {
	printf 'tools:\n  homebrew: false\n  custom:\n    - sleep 30 & echo $! >sleep.pid; touch started; wait\n' >"$B/claw.yml"
	claw-provision -b dev --user root --port "$SSH_PORT" --timeout 5 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		[ -e "$GUEST/home/started" ] && break
		sleep 0.1
	done
	[ -e "$GUEST/home/started" ]
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	# The step goes on in the guest (sshd does not hang it up): end it, as a reboot would.
	kill "$(cat "$GUEST/home/sleep.pid")"
	[ "$rc" -eq 143 ]
	assert_no_master
}

# restart_sshd_with_key KEYFILE: the guest's address and port answered by another key.
restart_sshd_with_key() {
	local dir=$BATS_FILE_TMPDIR/sshd
	kill "$(cat "$dir/sshd.pid")"
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null || break
		sleep 0.1
	done
	sed "s|^HostKey .*|HostKey $1|" "$dir/sshd_config" >"$dir/sshd_config.now"
	/usr/sbin/sshd -f "$dir/sshd_config.now" -E "$dir/sshd.log"
	wait_port "$SSH_PORT"
}

@test "--host: a host key changed between two runs a second apart is refused, not ridden over an old master" {
	cp "$KNOWN_HOSTS" user_known_hosts
	user_ssh_config <<CONF
Host *
	UserKnownHostsFile $BATS_TEST_TMPDIR/user_known_hosts
	IdentityFile $CLIENT_KEY
CONF
	run claw-verify -c "$B/claw.yml" --host 127.0.0.1 --user root --port "$SSH_PORT"
	assert_success
	ssh-keygen -q -t ed25519 -N '' -f other
	restart_sshd_with_key "$BATS_TEST_TMPDIR/other"
	sleep 1
	run claw-verify -c "$B/claw.yml" --host 127.0.0.1 --user root --port "$SSH_PORT"
	restart_sshd_with_key "$BATS_FILE_TMPDIR/sshd/host_key"
	assert_failure 77
	assert_output "claw-verify: 127.0.0.1: its host key is not in your known_hosts; refusing (ssh 127.0.0.1 once, or use a bundle)"
	assert_no_master
}

# A user's ssh_config that turns on everything claw must not let through.
hostile_ssh() {
	local fwd
	fwd=$(free_port)
	echo "$fwd" >fwd.port
	user_ssh_config <<CONF
Host *
	ForwardAgent yes
	ForwardX11 yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	UpdateHostKeys yes
	PermitLocalCommand yes
	LocalCommand touch $BATS_TEST_TMPDIR/local-command-ran
	LocalForward 127.0.0.1:$fwd 127.0.0.1:$SSH_PORT
	KnownHostsCommand /bin/sh -c 'touch $BATS_TEST_TMPDIR/known-hosts-command-ran; cat $KNOWN_HOSTS'
	VerifyHostKeyDNS yes
CONF
}

@test "a hostile ssh_config can neither unpin the host key nor forward anything to the guest" {
	hostile_ssh
	fwd=$(cat fwd.port)
	eval "$(ssh-agent -s)" >/dev/null
	cat >"$B/claw.yml" <<YML
tools:
  homebrew: false
  custom:
    - echo "agent:\${SSH_AUTH_SOCK:-none} display:\${DISPLAY:-none}" >>seen.txt
    - if (exec 3<>/dev/tcp/127.0.0.1/$fwd) 2>/dev/null; then echo forward:open; else echo forward:closed; fi >>seen.txt
YML
	run provision
	kill "$SSH_AGENT_PID"
	assert_success
	run cat "$GUEST/home/seen.txt"
	assert_output "agent:none display:none
forward:closed"
	[ ! -e local-command-ran ]
	assert_no_master
	# StrictHostKeyChecking no and UserKnownHostsFile /dev/null would take any key.
	ssh-keygen -q -t ed25519 -N '' -f other
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 other.pub)" >"$B/ssh/known_hosts"
	run verify
	assert_failure 77
	[ ! -e local-command-ran ]
	# A KnownHostsCommand that vouches for the real key is not asked.
	[ ! -e known-hosts-command-ran ]
}

@test "--host with no known key for the host is refused whatever ssh_config says" {
	hostile_ssh
	run claw-verify -c "$B/claw.yml" --host 127.0.0.1 --user root --port "$SSH_PORT"
	assert_failure 77
	assert_output "claw-verify: 127.0.0.1: its host key is not in your known_hosts; refusing (ssh 127.0.0.1 once, or use a bundle)"
	[ ! -e local-command-ran ]
}

@test "a bundle under a folder with a space and a '%': the pinned key is its known_hosts, not a decoy beside it" {
	export CLAW_HOME="$BATS_TEST_TMPDIR/My VMs%d"
	export TMPDIR="$BATS_TEST_TMPDIR/tmp dir%h"
	mkdir -p "$TMPDIR"
	BNAME=spaced
	b=$(guest_bundle spaced)
	cp "$B/claw.yml" "$b/claw.yml"
	run verify
	assert_success
	assert_no_master
	# Split on its space, the path would also name '.../My': the guest's real key there, a wrong one
	# in the bundle, must be refused.
	cp "$b/ssh/known_hosts" "$BATS_TEST_TMPDIR/My"
	ssh-keygen -q -t ed25519 -N '' -f other
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 other.pub)" >"$b/ssh/known_hosts"
	run verify
	assert_failure 77
	assert_no_master
}

@test "run/ip holding an ssh option instead of an address is refused by every reader; nothing runs" {
	echo "-oProxyCommand=touch $BATS_TEST_TMPDIR/pwned" >"$B/run/ip"
	run provision
	assert_failure 65
	assert_output "claw-provision: '$B/run/ip' does not hold an IP address; run claw-ip -b dev --wait again"
	run verify
	assert_failure 65
	printf '{"macAddress": "ee:a7:85:09:92:39", "version": 1}\n' >"$B/config.json"
	: >leases
	pretend_running "$B"
	CLAW_LEASES=$BATS_TEST_TMPDIR/leases run claw ssh dev true
	kill $!
	assert_failure 75
	assert_output "claw: 'dev' has no address; is it running? (claw start NAME)"
	[ ! -e pwned ]
	assert_no_master
}

@test "claw's secrets in the environment reach no child: ssh sees neither password" {
	mkdir -p stand-in
	printf '#!/bin/sh\nenv >>%s\nexec %s "$@"\n' "$BATS_TEST_TMPDIR/ssh-env" "$(command -v ssh)" >stand-in/ssh
	chmod +x stand-in/ssh
	CLAW_PASSWORD=hunter2-secret CLAW_VNC_PASSWORD=vncsecr PATH=$BATS_TEST_TMPDIR/stand-in:$PATH run provision
	assert_success
	grep -q '^PATH=' ssh-env
	run grep -c 'hunter2-secret\|vncsecr' ssh-env
	assert_output 0
}
