/* transfer: one large download into NAME.part, hashed while it arrives.
 * Splits the file into pieces fetched over N ranged connections (curl multi);
 * the digest follows the contiguous prefix as pieces complete, so it is ready
 * the moment the last byte lands. NAME.part.state beside it marks the .part as
 * claw-fetch's and, when there are several pieces, records them. Resumes a
 * .part, retries transient failures with backoff, falls back to one connection
 * from the start when a server ignores Range, takes HTTP as servers send it (a
 * 206 past the piece or from elsewhere, a 416), refuses a server whose lengths
 * disagree, and stops at a cap when nothing says the size. Every failure leaves
 * a .part and its state to resume, or neither. Never prints; reports through a
 * callback. */
#ifndef CLAW_TRANSFER_H
#define CLAW_TRANSFER_H

#include "digest.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define TRANSFER_INTERRUPTED (-2)

struct transfer_conn {
	int64_t start, end, done; /* the piece a connection is working on */
	double rate;
};

struct transfer_progress {
	int64_t total;   /* -1 unknown */
	int64_t done;    /* bytes on disk */
	int64_t hashed;  /* bytes in the digest so far */
	double rate;     /* bytes/s, smoothed */
	int nconns;
	const struct transfer_conn *conns;
	bool checking;   /* re-reading a resumed .part */
};

struct transfer_opts {
	const char *url;
	const char *part;        /* the .part path; NAME.part.state beside it */
	int64_t size;            /* expected size, -1 unknown (then the server's, once it says) */
	int64_t max_size;        /* no larger than this; 0: no cap */
	enum digest_alg alg;
	int connections;         /* 1..16 */
	int stall_seconds;       /* no byte for this long: drop and retry */
	int retries;             /* consecutive failures without progress before giving up */
	int backoff_ms;          /* first retry delay, doubled each time */
	volatile sig_atomic_t *stop; /* set (to the signal) to stop, keeping the .part */
	void (*progress)(const struct transfer_progress *p, void *arg);
	void *arg;
	/* When set: called with each connection's libcurl handle (a CURL *) before it starts,
	 * to add what the server wants (an Authorization header, TLS roots). */
	void (*prepare)(void *curl, void *arg);
	void *prepare_arg;
	/* When set, the bytes go to sink, in order, on a thread of their own (beside the
	 * digest's) instead of into the .part: one connection, a dropped one continued at the
	 * byte, nothing kept for another run (no .part, no state). sink_restart is called when
	 * the server starts over from byte 0, before the bytes come again. A sink that fails
	 * says why with fail(): the rest is only hashed, and the transfer fails with the sink's
	 * message, the digest of the whole file in hex all the same (when it all came). */
	int (*sink)(const char *buf, size_t len, void *arg);
	void (*sink_restart)(void *arg);
	void *sink_arg;
};

struct transfer_result {
	char hex[DIGEST_HEX_MAX];
	int64_t size;
	bool range_ignored; /* the server ignored Range; the download restarted on one connection */
	bool resumed;       /* a .part was continued */
};

/* 0: the .part holds the whole file and hex its digest (its .state is the caller's to
 * remove, with transfer_discard, once the .part has its name). -1: failed (fail() says
 * why; the .part and its state stay for a retry, unless nothing in it is worth one).
 * TRANSFER_INTERRUPTED: *stop was set. */
int transfer_run(const struct transfer_opts *o, struct transfer_result *res);
/* Bytes a .part already holds toward the file (for the free-space check). */
int64_t transfer_part_bytes(const char *part);
/* A .part claw-fetch may resume or replace: none at all, or one with its .state beside it
 * (a NAME.part of someone else's, a browser's download, has none). */
bool transfer_part_ours(const char *part);
/* Remove a .part and its .state. */
void transfer_discard(const char *part);
/* Is there room beside part for size bytes (less what part holds), and is size within
 * max_size (0: no cap)? EX_CANTCREAT with both numbers when not. */
int transfer_check_room(const char *part, const char *url, int64_t size, int64_t max_size);

#endif
