#!/usr/bin/env bats
# Kill and rerun, whole: claw create on the fake hypervisor with the real resolve, fetch (from
# the test nginx), inject (through the fake attach), ip, provision and verify (against the test
# sshd), SIGKILLed at a random moment (seeded, the seed printed) — the driver, or the stage that
# runs — then run again to the end. After each round the bundle is what a clean run leaves:
# the same files, the disk by digest, every stamp up to date, no .part, no stale run/pid, and,
# once the machine is stopped, no process of ours. CLAW_CHAOS_ROUNDS (10) rounds, CLAW_CHAOS_SEED
# to replay one; `make chaos N=200` for long runs.

load helpers/common
load helpers/servers
load helpers/ipsw
load helpers/vm
load helpers/guest
load helpers/machine

setup_file() {
	machine_start 127.0.0.3 clawchaos
	# The reference: a clean run, and how long it takes (the kills fall inside that time).
	local t0 t1
	t0=$(date +%s%N)
	unshare -m --propagation private claw create ref -c claw.yml -q >"$M/ref.out" 2>&1 || {
		cat "$M/ref.out" >&2
		return 1
	}
	t1=$(date +%s%N)
	export CLEAN_MS=$(((t1 - t0) / 1000000))
	bundle_state "$CLAW_HOME/VMs/ref.clawbundle" >"$M/ref.state"
	claw stop ref
}

teardown_file() { machine_stop; }

setup() { machine_env; }

# What must be the same after any round as after a clean run: the files (not run/, which a
# running machine has), the disk by digest (the fake's install writes the image's path, which
# names the bundle, into its first block), the stamps' names. (The auxiliary storage and
# config.json hold the machine's own identity, new with every machine.)
bundle_state() {
	local name
	name=$(basename "$1" .clawbundle)
	(cd "$1" && find . -path ./run -prune -o -path ./lock -prune -o -print | LC_ALL=C sort &&
		stat -c '%s' disk.img && head -c 4096 disk.img | tr -d '\0' | sed "s/$name.clawbundle/NAME.clawbundle/g" &&
		tail -c +4097 disk.img | sha256sum | cut -c1-64 &&
		ls .stamps)
}

# Our processes: any with this file's folder in its command line (claw, its stages, and ssh,
# its masters' sockets being in our TMPDIR).
ours() { pgrep -af "$M/" | grep -v -e "sshd" -e nginx -e "bats" || true; }

@test "claw create killed at random moments, then run again: the bundle a clean run leaves" {
	local rounds=${CLAW_CHAOS_ROUNDS:-10} seed=${CLAW_CHAOS_SEED:-$RANDOM} b=$CLAW_HOME/VMs/chaos.clawbundle
	echo "# seed $seed, $rounds rounds, a clean run takes $CLEAN_MS ms" >&3
	RANDOM=$seed
	for round in $(seq "$rounds"); do
		local at=$((RANDOM % CLEAN_MS)) victim=$((RANDOM % 2)) pid target
		unshare -m --propagation private claw create chaos -c claw.yml -q >"$M/round.out" 2>&1 &
		pid=$!
		sleep "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))"
		# The driver itself, or whichever stage it runs now.
		target=$pid
		if [ "$victim" = 1 ]; then
			target=$(pgrep -P "$pid" -f 'claw-' | head -n 1)
			[ -n "$target" ] || target=$pid
		fi
		kill -KILL "$target" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run unshare -m --propagation private claw create chaos -c claw.yml -q
		[ "$status" -eq 0 ] || fail "round $round (seed $seed, killed $target after $at ms): the rerun failed: $output"
		# A third run finds everything up to date and runs nothing.
		run unshare -m --propagation private claw create chaos -c claw.yml -v
		refute_output --regexp '^==> [a-z]+$'
		[ "$(bundle_state "$b")" = "$(cat "$M/ref.state")" ] ||
			fail "round $round (seed $seed, killed $target after $at ms): $(diff <(bundle_state "$b") "$M/ref.state")"
		run find "$CLAW_HOME" -name '*.part' -o -name '*.part.state'
		assert_output ""
		[ "$(cat "$b/run/state")" = running ]
		run claw stop chaos
		assert_success
		[ ! -e "$b/run/pid" ]
		# A stage killed with SIGKILL cannot end its ssh master: idle, it ends itself in 5 s.
		for _ in $(seq 80); do [ -z "$(ours)" ] && break; sleep 0.1; done
		[ -z "$(ours)" ] || fail "round $round (seed $seed): left running: $(ours)"
		run claw rm chaos
		assert_success
	done
}
