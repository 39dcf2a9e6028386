/* run: the bundle's run/ directory while a machine runs — who runs it (run/pid,
 * held under an flock for the process's life, so a crashed claw-boot never looks
 * alive), what state it is in (run/state), and cleaning up after it.
 * Never prints; errors go through fail(). */
#ifndef CLAW_RUN_H
#define CLAW_RUN_H

#include <sys/types.h>

struct bundle;

/* Claim the bundle for this process: run/pid locked and holding our pid.
 * EX_TEMPFAIL "already running (pid N)" when another process holds it.
 * The lock is inherited across fork; call run_set_pid in the child. */
int run_claim(struct bundle *b);
int run_set_pid(struct bundle *b, pid_t pid);
/* Does a process run the bundle's machine? Its pid in *pid (0 in the instant
 * between its claim and its pid being written). */
int run_alive(const struct bundle *b, pid_t *pid);
/* run/state, atomically: starting running paused saving stopping stopped error. */
int run_set_state(struct bundle *b, const char *state);
/* Remove run/'s files except the console log, then let go of the claim. */
void run_release(struct bundle *b);

#endif
