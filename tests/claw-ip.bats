#!/usr/bin/env bats
# claw-ip: the real lease files and arp output from the fixtures, and hostile variants.

load helpers/common
load helpers/servers

setup() {
	common_setup
	export PATH="$TOP/tests/fakes:$PATH"
}

# A fixture's leases moved into the future, keeping their order: the real files have long expired.
fresh() {
	python3 - "$1" <<'PY'
import re, sys, time
text = open(sys.argv[1]).read()
leases = [int(x, 16) for x in re.findall(r"lease=0x([0-9a-fA-F]+)", text)]
delta = int(time.time()) + 3600 - min(leases)
print(re.sub(r"lease=0x([0-9a-fA-F]+)", lambda m: "lease=0x%x" % (int(m.group(1), 16) + delta), text), end="")
PY
}

lease() { # IP MAC-FIELD SECONDS-FROM-NOW
	printf '{\n\tname=vm\n\tip_address=%s\n\thw_address=%s\n\tidentifier=%s\n\tlease=0x%x\n}\n' "$1" "$2" "$2" $(($(date +%s) + $3))
}

@test "a MAC whose lease drops leading zeros is found, compared as bytes" {
	fresh "$FIXTURES/dhcpd_leases_xhyve-ruby.txt" >leases
	run claw-ip --leases leases --mac ea:28:0a:33:cf:32
	assert_success
	assert_output 192.168.64.4
	run claw-ip --leases leases --mac EA-28-A-33-CF-32
	assert_output 192.168.64.4
}

@test "the real files as they are: every lease has expired" {
	run claw-ip --leases "$FIXTURES/dhcpd_leases_xhyve-ruby.txt" --mac 9a:65:1b:12:cf:32
	assert_failure 1
	assert_output "claw-ip: 9a:65:1b:12:cf:32 has only expired leases in '$FIXTURES/dhcpd_leases_xhyve-ruby.txt'"
}

@test "a stale duplicate loses to the newest expiry, wherever it stands" {
	{ lease 192.168.64.9 1,ee:a7:85:9:92:39 7200; lease 192.168.64.7 1,ee:a7:85:9:92:39 600; } >leases
	run claw-ip --leases leases --mac ee:a7:85:09:92:39
	assert_output 192.168.64.9
}

@test "an expired newer-looking lease is dropped" {
	{ lease 192.168.64.7 1,ee:a7:85:9:92:39 600; lease 192.168.64.8 1,ee:a7:85:9:92:39 -60; } >leases
	run claw-ip --leases leases --mac ee:a7:85:09:92:39
	assert_output 192.168.64.7
}

@test "a client-id (DUID) entry is not a MAC, even when the MAC's bytes are inside it" {
	fresh "$FIXTURES/dhcpd_leases_samples_from_docs.txt" >leases
	# Sample (3): ff,2f:7d:f5:3a:... holds the tail of the guest's MAC 62:a8:2f:7d:f5:3a; it must not match.
	run claw-ip --leases leases --mac 62:a8:2f:7d:f5:3a
	assert_failure 1
	assert_output "claw-ip: no address for 62:a8:2f:7d:f5:3a yet (leases)"
	run claw-ip --leases leases --mac 52:54:00:eb:c4:07
	assert_output 192.168.64.22
}

@test "a differently ordered block (real qemu-driver file) is read the same" {
	fresh "$FIXTURES/dhcpd_leases_qemu-macos-driver.txt" >leases
	run claw-ip --leases leases --mac 16:9b:4b:17:34:4a
	assert_output 192.168.64.55
	run claw-ip --leases leases --mac 02:f8:c3:ce:56:a7
	assert_output 192.168.64.56
}

@test "a malformed lease file: each bad block reported with its line, the rest still used" {
	{
		lease 192.168.64.2 1,aa:bb:cc:dd:ee:1 3600
		printf '{\n\tname=broken\n\tip_address=192.168.64.66\n'
		printf 'garbage here\n'
		lease 192.168.64.3 1,aa:bb:cc:dd:ee:2 3600
		printf '{\n\tname=cut\n\tip_address=192.168.64.4\n\thw_address=1,aa:bb:cc:dd:ee:3\n'
	} >leases
	run claw-ip --leases leases --mac aa:bb:cc:dd:ee:02
	assert_success
	assert_line "claw-ip: leases:8: block not closed; skipped"
	assert_line "claw-ip: leases:11: expected key=value; skipped"
	assert_line "claw-ip: leases:19: block not closed (truncated file?); skipped"
	assert_line 192.168.64.3
}

@test "--wait notices a lease file that appears later" {
	(sleep 2 && lease 192.168.64.30 1,ee:a7:85:9:92:39 3600 >leases.tmp && mv leases.tmp leases) &
	run claw-ip --leases leases --mac ee:a7:85:09:92:39 --wait=20
	wait
	assert_success
	assert_output 192.168.64.30
}

@test "--wait runs out: exit 75, saying what was seen" {
	lease 192.168.64.30 1,ee:a7:85:9:92:39 3600 >leases
	run claw-ip --leases leases --mac 11:22:33:44:55:66 --wait=1
	assert_failure 75
	assert_output "claw-ip: no address for 11:22:33:44:55:66 yet (leases)"
	port=$(free_port)
	lease 127.0.0.1 1,ee:a7:85:9:92:39 3600 >leases
	run claw-ip --leases leases --mac ee:a7:85:09:92:39 --ssh --port "$port" --wait=1
	assert_failure 75
	assert_output "claw-ip: ee:a7:85:09:92:39 has 127.0.0.1 (dhcp) but nothing answers on port $port yet"
}

@test "--ssh waits until the port answers" {
	port=$(free_port)
	lease 127.0.0.1 1,ee:a7:85:9:92:39 3600 >leases
	(sleep 1.5 && exec python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); time.sleep(20)' "$port") 3>&- &
	listener=$!
	run claw-ip --leases leases --mac ee:a7:85:09:92:39 --ssh --port "$port" --wait=20 --json
	kill "$listener" 2>/dev/null || true
	assert_success
	run python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ip"], d["mac"], d["source"], d["ssh"])' <<<"$output"
	assert_output "127.0.0.1 ee:a7:85:09:92:39 dhcp True"
}

@test "-b: the MAC from config.json, the IP into run/ip" {
	d=$CLAW_HOME/VMs/dev.clawbundle
	mkdir -p "$d"
	echo '{"macAddress": "ee:a7:85:09:92:39"}' >"$d/config.json"
	lease 192.168.64.12 1,ee:a7:85:9:92:39 3600 >leases
	run claw-ip -b dev --leases leases
	assert_success
	assert_output 192.168.64.12
	[ "$(cat "$d/run/ip")" = 192.168.64.12 ]
}

@test "-b without config.json or macAddress is 66; a bad one is 65" {
	make_bundle "$CLAW_HOME/VMs/dev.clawbundle"
	run claw-ip -b dev
	assert_failure 66
	assert_output --partial "no MAC to look for (restore the bundle, or give --mac)"
	echo '{"cpuCount": 2}' >"$CLAW_HOME/VMs/dev.clawbundle/config.json"
	run claw-ip -b dev
	assert_failure 66
	echo '{"macAddress": "zz:zz"}' >"$CLAW_HOME/VMs/dev.clawbundle/config.json"
	run claw-ip -b dev
	assert_failure 65
}

@test "the arp fallback reads real arp output and skips (incomplete) entries" {
	export CLAW_FAKE_ARP=$FIXTURES/arp_a_macos_en0_bridge100_tp2.txt
	run claw-ip --resolver arp --mac 30:03:c8:c3:06:59
	assert_success
	assert_output 10.33.16.44
	run claw-ip --resolver any --leases nothing-here --mac 30:03:c8:c3:06:59 --json
	assert_output --partial '"source": "arp"'
	run claw-ip --resolver arp --mac 00:00:00:00:00:01
	assert_failure 1
}

@test "input past its cap is not read: a 16 MiB lease file, 4 MiB of arp output" {
	{
		cat "$FIXTURES/dhcpd_leases_xhyve-ruby.txt"
		head -c $((17 << 20)) /dev/zero | tr '\0' '#'
	} >huge-leases
	run claw-ip --leases huge-leases --mac ea:28:a:33:cf:32 -v
	assert_failure 1
	assert_line "claw-ip: 'huge-leases' is larger than 16777216 bytes"
	{
		cat "$FIXTURES/arp_a_macos_en0_bridge100_tp2.txt"
		yes '? (10.0.0.1) at 0:0:0:0:0:1 on en0 ifscope [ethernet]' | head -c $((5 << 20))
	} >huge-arp
	CLAW_FAKE_ARP=$BATS_TEST_TMPDIR/huge-arp run claw-ip --resolver arp --mac 30:03:c8:c3:06:59 -v
	assert_failure 1
	assert_line "claw-ip: arp printed more than 4 MiB; not read"
}

# in_netns COMMAND...: COMMAND in a network namespace of its own, where the host has a vmnet-like
# bridge100 (192.168.80.1/24, as in the arp fixture) and the guest's address 10.33.16.44 answers.
in_netns() {
	unshare -n sh -c '
		ip link set lo up && ip addr add 10.33.16.44/32 dev lo &&
			ip link add bridge100 type bridge && ip addr add 192.168.80.1/24 broadcast 192.168.80.255 dev bridge100 &&
			ip link set bridge100 up || exit 97
		exec "$@"' in_netns "$@"
}

netns_or_skip() {
	in_netns true || skip "cannot make a network namespace with a bridge here"
}

# listen_and_find PORT CLAW-IP-ARGS...: a listener on the guest's port while claw-ip looks (a file
# of its own: it runs inside in_netns).
listen_and_find() {
	cat >listen_and_find <<'SH'
port=$1
shift
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("10.33.16.44", int(sys.argv[1]))); s.listen(5); time.sleep(30)' "$port" 3>&- &
listener=$!
claw-ip "$@"
rc=$?
kill "$listener"
wait "$listener" 2>/dev/null
exit "$rc"
SH
	in_netns sh listen_and_find "$@"
}

@test "--wait with no lease turns to ARP by itself: one broadcast ping on the bridge's subnet, arp -an by MAC, then port 22" {
	netns_or_skip
	export CLAW_FAKE_ARP=$BATS_TEST_TMPDIR/arp-table CLAW_FAKE_PING_ARP=$FIXTURES/arp_a_macos_en0_bridge100_tp2.txt
	export CLAW_FAKE_PING_LOG=$BATS_TEST_TMPDIR/ping.log
	start=$(date +%s)
	run listen_and_find 2222 --mac 30:03:c8:c3:06:59 --leases leases --wait=20 --ssh --port 2222 --arp-after 1 --json -v
	assert_success
	[ $(($(date +%s) - start)) -ge 1 ]
	assert_line "claw-ip: no lease for 30:03:c8:c3:06:59 after 1 s; asking ARP too"
	run python3 -c 'import json,sys; d=json.loads("".join(l for l in sys.stdin if not l.startswith("claw-ip:"))); print(d["ip"], d["source"], d["ssh"])' <<<"$output"
	assert_output "10.33.16.44 arp True"
	run cat "$CLAW_FAKE_PING_LOG"
	assert_output "ping -c 1 -t 1 192.168.80.255"
}

@test "ARP knows nothing of the MAC either: --wait runs out naming both places, having pinged once" {
	netns_or_skip
	export CLAW_FAKE_ARP=$BATS_TEST_TMPDIR/arp-table CLAW_FAKE_PING_ARP=$FIXTURES/arp_a_macos_en0_bridge100_tp2.txt
	export CLAW_FAKE_PING_LOG=$BATS_TEST_TMPDIR/ping.log
	run in_netns claw-ip --mac 00:00:00:00:00:01 --leases leases --wait=3 --arp-after 1
	assert_failure 75
	assert_output "claw-ip: no address for 00:00:00:00:00:01 yet (leases, arp)"
	run cat "$CLAW_FAKE_PING_LOG"
	assert_output "ping -c 1 -t 1 192.168.80.255"
}

@test "a lease in time, or --resolver dhcp: no ping, no ARP" {
	netns_or_skip
	export CLAW_FAKE_ARP=$BATS_TEST_TMPDIR/arp-table CLAW_FAKE_PING_ARP=$FIXTURES/arp_a_macos_en0_bridge100_tp2.txt
	export CLAW_FAKE_PING_LOG=$BATS_TEST_TMPDIR/ping.log
	run in_netns claw-ip --mac 30:03:c8:c3:06:59 --leases leases --resolver dhcp --wait=2 --arp-after 1
	assert_failure 75
	assert_output "claw-ip: no address for 30:03:c8:c3:06:59 yet (leases)"
	(sleep 0.5 && lease 192.168.64.30 1,30:3:c8:c3:6:59 3600 >leases.tmp && mv leases.tmp leases) &
	run in_netns claw-ip --mac 30:03:c8:c3:06:59 --leases leases --wait=5 --arp-after 2
	wait
	assert_success
	assert_output 192.168.64.30
	[ ! -e "$CLAW_FAKE_PING_LOG" ]
}

@test "without a bridge there is nothing to ping; arp -an is still asked" {
	export CLAW_FAKE_ARP=$BATS_TEST_TMPDIR/arp-table CLAW_FAKE_PING_LOG=$BATS_TEST_TMPDIR/ping.log
	cp "$FIXTURES/arp_a_macos_en0_bridge100_tp2.txt" "$CLAW_FAKE_ARP"
	run unshare -n claw-ip --mac 30:03:c8:c3:06:59 --leases leases --wait=5 --arp-after 0
	if [ "$status" -eq 1 ] && [[ $output == *unshare* ]]; then skip "cannot make a network namespace here"; fi
	assert_success
	assert_output 10.33.16.44
	[ ! -e "$CLAW_FAKE_PING_LOG" ]
}

@test "usage errors are 64" {
	run claw-ip
	assert_failure 64
	run claw-ip -b x --mac 1:2:3:4:5:6
	assert_failure 64
	run claw-ip --mac nonsense
	assert_failure 64
	run claw-ip --mac 1:2:3:4:5:6 --resolver dns
	assert_failure 64
	run claw-ip --mac 1:2:3:4:5:6 --wait=soon
	assert_failure 64
	run claw-ip --mac 1:2:3:4:5:6 --wait --arp-after soon
	assert_failure 64
}
