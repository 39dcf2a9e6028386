/* spawn: run a program from an argv vector with posix_spawnp — never a shell
 * string — feeding stdin from memory or /dev/null, capturing stdout/stderr,
 * with an optional timeout, in our environment less claw's secrets
 * (CLAW_PASSWORD, CLAW_VNC_PASSWORD, CLAW_REGISTRY_PASSWORD). Exit status follows execline: a child killed by
 * signal N reports 128+N. Never prints. */
#ifndef CLAW_SPAWN_H
#define CLAW_SPAWN_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct spawn_opts {
	const void *stdin_data; /* NULL: stdin is /dev/null */
	size_t stdin_len;
	bool capture_out;       /* else the child writes to our stdout */
	bool capture_err;       /* else the child writes to our stderr */
	bool quiet_err;         /* discard the child's stderr */
	int timeout_ms;         /* 0: none; on expiry SIGTERM, then SIGKILL after 2 s */
	/* With capture_out: hand each chunk of stdout here as it comes instead of keeping it. */
	void (*on_out)(const char *data, size_t len, void *arg);
	void *arg;
	size_t max_out;         /* captured stdout kept at most (0: no limit); the rest dropped */
};
#define SPAWN_OPTS_ZERO { NULL, 0, false, false, false, 0, NULL, NULL }

struct spawn_result {
	int status; /* exit code, or 128+signal */
	bool timed_out;
	bool truncated; /* stdout ran past max_out: out holds its start only */
	struct buf out, err;
};
#define SPAWN_RESULT_ZERO { 0, false, false, BUF_ZERO, BUF_ZERO }

/* Returns 0 when the child ran (whatever its status), -1 when it could not be started. */
int spawn_run(const char *const argv[], const struct spawn_opts *opts, struct spawn_result *res);
void spawn_result_free(struct spawn_result *res);

/* The first line of what the child said on stderr (captured), or fallback. Edits r->err. */
const char *spawn_err_line(struct spawn_result *r, const char *fallback);

/* Exit status of a waitpid() status word, as above. */
int spawn_exit_status(int wstatus);

#endif
