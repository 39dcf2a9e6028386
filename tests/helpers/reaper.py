#!/usr/bin/env python3
"""reaper REPORT COMMAND...: run COMMAND as a child subreaper, so that every process it
starts, daemons that fork away from their parent included (nginx, sshd, ssh's control
masters), stays our descendant. When COMMAND ends, whatever of it is still alive is a
process the tests left behind: each is written to REPORT ("PID ARGS", a line each),
then stopped (SIGTERM, then SIGKILL), so that a leak fails `make check` without
outliving it. Exits with COMMAND's status. Where prctl has no subreaper (not Linux),
REPORT stays empty and the leak check is the caller's to skip."""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]) if fields[0] != "Z" else None


def descendants(root):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = parent_of(int(entry))
            if ppid is not None:
                parents[int(entry)] = ppid
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return sorted(found)


def args_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip() or "?"
    except OSError:
        return "?"


def reap_zombies():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop(pids):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for _ in range(50):
            reap_zombies()
            if not [p for p in pids if os.path.exists(f"/proc/{p}") and parent_of(p) is not None]:
                return
            time.sleep(0.1)


def main():
    report, command = sys.argv[1], sys.argv[2:]
    watching = become_subreaper()
    child = subprocess.Popen(command)
    # Orphans are ours now: reap each as it dies, or a test that waits for one to be gone
    # would see a zombie that kill -0 still finds.
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child.pid:
            rc = os.waitstatus_to_exitcode(status)
            break
    if rc < 0:
        rc = 128 - rc
    left = []
    if watching:
        # A process that is still on its way out (its parent just stopped it) gets a moment.
        for _ in range(20):
            reap_zombies()
            left = descendants(os.getpid())
            if not left:
                break
            time.sleep(0.1)
    with open(report, "w") as f:
        for pid in left:
            f.write(f"{pid} {args_of(pid)}\n")
    stop(left)
    reap_zombies()
    sys.exit(rc)


if __name__ == "__main__":
    main()
