#!/bin/sh
# fleet.sh: provision and verify a list of Macs reachable by SSH (physical or made by
# any tool) from one claw.yml, a few at a time, and say which ones failed.
#   fleet.sh CONFIG USER HOST...        e.g. fleet.sh fleet.yml admin mini-1 mini-2 studio
# Each host's output goes to HOST.log; each manifest to HOST.manifest.json.
# JOBS (default 4) machines at once; a host that does not answer SSH for TIMEOUT seconds
# (default 120: long enough for a reboot) fails.
set -u
[ $# -ge 3 ] || {
	echo "usage: fleet.sh CONFIG USER HOST..." >&2
	exit 64
}
config=$1 user=$2
shift 2
jobs=${JOBS:-4} timeout=${TIMEOUT:-120}
failed=0

one() { # HOST: provision, then verify; the exit status says which failed
	claw-provision -c "$config" --host "$1" --user "$user" --timeout "$timeout" >"$1.log" 2>&1 || return 1
	claw-verify -c "$config" --host "$1" --user "$user" --json >"$1.manifest.json" 2>>"$1.log" || return 2
}

pids='' started=0
reap() { # wait for every host started so far, remembering a failure
	for pid in $pids; do wait "$pid" || failed=1; done
	pids='' started=0
}
for host in "$@"; do
	(
		one "$host"
		case $? in
		0) echo "$host: ok" ;;
		1) echo "$host: provisioning failed (see $host.log)" && exit 1 ;;
		*) echo "$host: a tool is missing (see $host.manifest.json)" && exit 1 ;;
		esac
	) &
	pids="$pids $!" started=$((started + 1))
	[ "$started" -lt "$jobs" ] || reap
done
reap
exit $failed
