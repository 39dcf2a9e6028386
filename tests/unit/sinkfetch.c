/* sinkfetch URL SIZE OUT: claw-fetch's transfer engine with a sink, as claw-pull decodes a
 * blob while it arrives: the bytes the sink is given are written to OUT in the order it gets
 * them, and a restart (the server started over from byte 0) empties OUT. Prints the digest
 * of what came ("-" when it did not all come), how many restarts, and whether a .part or its
 * state is left; exits with the transfer's code, its message on stderr. FAIL_AT=N: the sink
 * refuses the byte at N (as a decoder refuses a stream), 65, or FAIL_CODE (74: as a full disk
 * would). Used by tests/claw-fetch.bats. */
#include "log.h"
#include "transfer.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct out {
	int fd;
	int64_t at, fail_at;
	int restarts, fail_code;
};

static int take(const char *buf, size_t len, void *arg)
{
	struct out *o = arg;
	if (o->fail_at >= 0 && o->at + (int64_t)len > o->fail_at)
		return fail(o->fail_code, "the sink refuses byte %lld", (long long)o->fail_at);
	if (pwrite_all(o->fd, buf, len, o->at) < 0)
		return fail_sys(EX_IOERR, "cannot write the output");
	o->at += (int64_t)len;
	return 0;
}

static void restart(void *arg)
{
	struct out *o = arg;
	o->restarts++;
	o->at = 0;
	if (ftruncate(o->fd, 0) < 0)
		die(EX_IOERR, "cannot truncate the output");
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	if (argc != 4)
		die(EX_USAGE, "usage: sinkfetch URL SIZE OUT");
	const char *fail_at = getenv("FAIL_AT");
	const char *code = getenv("FAIL_CODE");
	struct out o = { open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), 0, fail_at ? atoll(fail_at) : -1, 0,
			 code ? atoi(code) : EX_DATAERR };
	if (o.fd < 0)
		die(EX_CANTCREAT, "cannot create '%s'", argv[3]);
	char *part = xasprintf("%s.part", argv[3]), *state = xasprintf("%s.part.state", argv[3]);
	struct transfer_opts opts = { .url = argv[1], .part = part, .size = atoll(argv[2]), .alg = DIGEST_SHA256,
				      .connections = 1, .stall_seconds = 3, .retries = 5, .backoff_ms = 10,
				      .sink = take, .sink_restart = restart, .sink_arg = &o };
	struct transfer_result r;
	int rc = transfer_run(&opts, &r);
	printf("%s restarts=%d part=%s\n", r.hex[0] ? r.hex : "-", o.restarts,
	       access(part, F_OK) == 0 || access(state, F_OK) == 0 ? "left" : "none");
	fflush(stdout);
	if (rc != 0)
		die(rc == TRANSFER_INTERRUPTED ? EX_TEMPFAIL : fail_code(), "%s", fail_msg());
	return 0;
}
