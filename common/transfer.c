/* transfer: pieces over curl multi, written with pwrite, hashed along the contiguous prefix
 * by a thread of its own: from a ring that curl's thread fills where bytes arrive at the
 * digest's frontier (a writer thread writes those meanwhile, past the page cache where the
 * file system allows), read back from the file where not (gathered per connection, so they
 * are written in large pieces). A fourth thread makes the file durable behind the digest,
 * so the end waits for little. Given a sink (claw-pull's decoder), one connection's bytes go
 * from the ring to the sink, in order, in place of any file. */
#include "transfer.h"
#include "http.h"
#include "atomic.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UNKNOWN_END INT64_MAX
#define MAX_CONNS 16
#define MIN_PIECE ((int64_t)4 << 20)
#define MAX_PIECE ((int64_t)256 << 20)
#define WRITEBACK_STEP ((int64_t)32 << 20)
#define DURABLE_STEP ((int64_t)64 << 20)
#define STEAL_MIN ((int64_t)256 << 10)
#define RING_SIZE ((int64_t)32 << 20)
#define RING_BATCH ((int64_t)1 << 20)
#define RING_ALIGN ((size_t)64 << 10) /* a page, on any machine */
#define STAGE_SIZE ((size_t)1 << 20)
#define STALL_RATE 1024L /* bytes a second: slower than this for stall_seconds is a stall */
#define ROOM_EVERY_MS 1000

enum { P_TODO, P_ACTIVE, P_DONE };

struct piece {
	int64_t start, end, written;
	int state, fails;
	long long retry_at;
};

struct xfer;

struct conn {
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *x;
	struct piece *p;
	int64_t asked;          /* the offset this request starts at */
	/* Bytes off the digest's frontier gather here, so that the page cache is written in
	 * large pieces, not in the socket's: staged of them, from the file's offset stage_at.
	 * Not in the piece's written yet: that counts what is in the file. */
	char *stage;
	int64_t stage_at;
	size_t staged;
	int64_t written_at_start;
	bool ranged;            /* asked for a Range, not the whole file */
	bool cut;               /* it sent past its piece: ended there, the piece's bytes kept */
	bool misplaced;         /* a 206 from where nothing can be taken: dropped, to be asked again */
	/* The answer's Content-Range (of its last status line: a redirect's headers come first). */
	struct http_range range;
	bool has_range, bad_range;
	bool checked, collapse, fatal;
	double rate;
	int64_t rate_bytes;
	long long rate_t;
};

struct xfer {
	const struct transfer_opts *o;
	struct transfer_result *res;
	char *shown;  /* the URL without its user and password: for messages and the state file */
	char *dir;    /* where the .part is, for its free space */
	bool discard; /* a failure that leaves nothing worth resuming: no .part, no state */
	long long last_room_check;
	int fd;
	int dfd; /* the same file, written past the page cache (the writer's), or -1 */
	int64_t size;
	struct piece *pieces;
	size_t npieces, ready_idx;
	/* The digest runs on a thread of its own. ready is how far the contiguous prefix of
	 * what has arrived reaches, hashed how far the digest has got. Bytes that arrive at the
	 * digest's frontier are copied to the ring, [ring_lo, ring_hi) of the file: the writer
	 * thread writes them (up to ring_written) while the digest thread hashes them, each at
	 * its own pace, and a byte leaves the ring once both are done with it. The rest curl's
	 * thread writes, and the digest reads back once the prefix reaches it. All under mu. */
	struct digest *d;
	int64_t hashed, ready;
	char *ring;
	int64_t ring_lo, ring_hi, ring_written;
	/* How far the disk has been asked to write back: of what the digest read back (the
	 * digest thread's alone), and of what the writer wrote (the writer's alone). */
	int64_t synced, ring_synced;
	pthread_t hasher, writer;
	pthread_mutex_t mu;
	pthread_cond_t cv, wcv, ring_space;
	bool hasher_on, hasher_stop, hasher_drop;
	int read_errno, write_errno;
	/* The syncer thread makes the file durable behind the digest, a step at a time: it fsyncs
	 * when durable_want passes durable_done. Under mu. */
	pthread_t syncer;
	pthread_cond_t sync_cv;
	int64_t durable_want, durable_done;
	char *state_posted; /* the state file's text, for after the next fsync */
	int sync_errno;
	/* Why the sink failed, said on the writer's thread; the rest is then only hashed, so
	 * that the caller can tell a stream the sink could not take from bytes that are not
	 * the file. The writer's until it is joined. */
	int sink_code;
	char *sink_msg;
	bool no_range;
	CURLM *multi;
	struct conn conns[MAX_CONNS];
	char *stages[MAX_CONNS]; /* each connection slot's stage, kept across its requests */
	int nconns;
	long long last_state_save, last_progress;
	int64_t rate_bytes;
	long long rate_t;
	double rate;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *state_path(const char *part)
{
	return xasprintf("%s.state", part);
}

bool transfer_part_ours(const char *part)
{
	struct stat st;
	if (lstat(part, &st) < 0)
		return errno == ENOENT;
	char *s = state_path(part);
	bool ours = S_ISREG(st.st_mode) && lstat(s, &st) == 0 && S_ISREG(st.st_mode);
	free(s);
	return ours;
}

void transfer_discard(const char *part)
{
	char *s = state_path(part);
	unlink(part);
	unlink(s);
	free(s);
}

/* ---- pieces and their state file ---- */

/* No .part to keep (a sink takes the bytes): nothing to make durable. */
static bool scratch(const struct xfer *x)
{
	return x->o->sink;
}

static void add_piece(struct xfer *x, int64_t start, int64_t end, int64_t written)
{
	x->pieces = xrealloc(x->pieces, (x->npieces + 1) * sizeof *x->pieces);
	x->pieces[x->npieces++] = (struct piece){ start, end, written, written == end - start ? P_DONE : P_TODO, 0, 0 };
}

/* [0, prefix) is already on disk; split the rest for n connections. */
static void plan_pieces(struct xfer *x, int64_t prefix, int n)
{
	x->npieces = 0;
	if (x->size < 0) {
		add_piece(x, 0, UNKNOWN_END, prefix);
		x->pieces[0].state = P_TODO;
		return;
	}
	if (prefix > 0)
		add_piece(x, 0, prefix, prefix);
	int64_t rest = x->size - prefix;
	int64_t piece = n <= 1 ? rest : rest / (n * 4);
	if (n > 1 && piece < MIN_PIECE)
		piece = MIN_PIECE;
	if (n > 1 && piece > MAX_PIECE)
		piece = MAX_PIECE;
	for (int64_t at = prefix; at < x->size; at += piece)
		add_piece(x, at, at + piece < x->size ? at + piece : x->size, 0);
	if (x->npieces == 0)
		add_piece(x, 0, 0, 0);
}

static int load_state(struct xfer *x)
{
	char *path = state_path(x->o->part);
	json_t *j = json_load_file(path, 0, NULL);
	free(path);
	if (!j)
		return -1;
	json_t *pieces = json_object_get(j, "pieces");
	const char *url = json_string_value(json_object_get(j, "url"));
	int ok = url && !strcmp(url, x->shown) && json_integer_value(json_object_get(j, "size")) == x->size &&
		 json_is_array(pieces) && json_array_size(pieces) > 0;
	int64_t expect = 0;
	size_t i;
	json_t *p;
	x->npieces = 0;
	json_array_foreach(pieces, i, p) {
		int64_t s = json_integer_value(json_array_get(p, 0)), e = json_integer_value(json_array_get(p, 1)),
			w = json_integer_value(json_array_get(p, 2));
		/* Pieces must tile the file exactly; anything else is not ours to trust. */
		if (!ok || s != expect || e <= s || w < 0 || w > e - s) {
			ok = 0;
			break;
		}
		add_piece(x, s, e, w);
		expect = e;
	}
	json_decref(j);
	if (!ok || expect != x->size) {
		x->npieces = 0;
		return -1;
	}
	return 0;
}

static char *dump_state(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

/* The state file's text: each piece and how much of it is written. With one piece the
 * .part's length says how much, and the state only marks the .part as claw-fetch's (for
 * --prune), with no pieces to trust. Curl's thread. */
static char *state_text(struct xfer *x)
{
	if (x->size < 0)
		return dump_state(json_pack("{s:s}", "url", x->shown));
	if (x->npieces <= 1)
		return dump_state(json_pack("{s:s, s:I}", "url", x->shown, "size", (json_int_t)x->size));
	/* Bytes the writer has not written yet are not on disk: a piece counts up to them. */
	pthread_mutex_lock(&x->mu);
	int64_t lo = x->ring_written, hi = x->ring_hi;
	pthread_mutex_unlock(&x->mu);
	json_t *pieces = json_array();
	for (size_t i = 0; i < x->npieces; i++) {
		const struct piece *p = &x->pieces[i];
		int64_t written = p->written;
		if (hi > lo && p->start < hi && p->start + written > lo)
			written = lo > p->start ? lo - p->start : 0;
		json_array_append_new(pieces, json_pack("[I,I,I]", (json_int_t)p->start, (json_int_t)p->end,
							(json_int_t)written));
	}
	return dump_state(json_pack("{s:s, s:I, s:o}", "url", x->shown, "size", (json_int_t)x->size, "pieces", pieces));
}

/* Replace the state file with text (none: remove it). The caller has made the bytes it
 * counts durable first: a state file that claims what a power cut took would be trusted.
 * Best effort: without it a resume starts over, it never corrupts. */
static void write_state(const struct xfer *x, const char *text)
{
	char *path = state_path(x->o->part);
	if (!text)
		unlink(path);
	else if (atomic_write(path, text, strlen(text), 0644) < 0)
		info("cannot save '%s': %s", path, fail_msg());
	free(path);
}

/* Save the state now, on curl's thread: for an interrupted or failed run, once the threads
 * have stopped. After a failed sync nothing on disk can be vouched for. */
static void save_state(struct xfer *x)
{
	char *text = state_text(x);
	if (text && (x->sync_errno || fsync(x->fd) < 0)) {
		free(text);
		text = NULL;
	}
	write_state(x, text);
	free(text);
}

/* Hand the state to the syncer, which writes it after its next fsync of the .part: curl's
 * thread never waits for the disk, and the state never runs ahead of what is durable. */
static void post_state(struct xfer *x)
{
	if (x->size < 0 || x->npieces <= 1 || scratch(x))
		return; /* a mark, written once: nothing in it changes; or none until the end */
	char *text = state_text(x);
	pthread_mutex_lock(&x->mu);
	free(x->state_posted);
	x->state_posted = text;
	pthread_cond_signal(&x->sync_cv);
	pthread_mutex_unlock(&x->mu);
}

/* ---- the digest over the contiguous prefix, on its own thread ---- */

/* Hand the disk what is written, a step at a time, so the syncer's fsyncs find it on its
 * way: off curl's thread (sync_file_range can wait for a busy disk), from [*mark, upto). */
static void write_back(struct xfer *x, int64_t *mark, int64_t upto)
{
	if (!scratch(x) && upto - *mark >= WRITEBACK_STEP) {
		start_writeback(x->fd, *mark, upto - *mark);
		*mark = upto;
	}
}

/* Ask the syncer to make [0, hashed) durable once it is a step ahead. Called under mu. */
static void make_durable(struct xfer *x, int64_t hashed)
{
	if (!scratch(x) && hashed - x->durable_want >= DURABLE_STEP) {
		x->durable_want = hashed;
		pthread_cond_signal(&x->sync_cv);
	}
}

/* Writeback only hands the bytes to the disk; its write cache (or a VM host's page cache)
 * still holds them, and flushing that at the end can take as long as the download did. So
 * the file is fsynced a step at a time while the rest arrives, and the fsync at the end
 * waits for the last step only. A step that lands during a flush is taken by the next.
 * A posted state is written after an fsync, which covers every byte it counts. */
static void *sync_loop(void *arg)
{
	struct xfer *x = arg;
	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (!x->hasher_stop && x->durable_want <= x->durable_done && !x->state_posted)
			pthread_cond_wait(&x->sync_cv, &x->mu);
		if (x->hasher_stop)
			break; /* the fsync at the end takes what is left */
		int64_t want = x->durable_want;
		char *state = x->state_posted;
		x->state_posted = NULL;
		pthread_mutex_unlock(&x->mu);
		int rc = fsync(x->fd), e = errno;
		if (rc == 0 && state)
			write_state(x, state);
		free(state);
		pthread_mutex_lock(&x->mu);
		if (rc < 0) {
			/* Reported once per file: keep it for the end, whose fsync may not see it. */
			x->sync_errno = e;
			break;
		}
		x->durable_done = want;
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* The .part could not be written (errno): a full disk is 73, anything else 74. */
static int fail_write(const struct xfer *x)
{
	return fail_sys(errno == ENOSPC || errno == EDQUOT ? EX_CANTCREAT : EX_IOERR, "cannot write '%s'", x->o->part);
}

/* The digest is inside the ring: [hashed, ring_hi) waits there to be hashed. Under mu. */
static bool ring_unhashed(const struct xfer *x)
{
	return x->hashed >= x->ring_lo && x->hashed < x->ring_hi;
}

/* A byte leaves the ring once it is written and hashed. Under mu. */
static void ring_release(struct xfer *x)
{
	int64_t hashed = x->hashed < x->ring_hi ? x->hashed : x->ring_hi;
	x->ring_lo = x->ring_written < hashed ? x->ring_written : hashed;
	pthread_cond_signal(&x->ring_space);
}

/* [at, to) of the ring, cut where it wraps. */
static int64_t ring_span(int64_t at, int64_t to)
{
	return to - at > RING_SIZE - at % RING_SIZE ? at + RING_SIZE - at % RING_SIZE : to;
}

static char *ring_at(const struct xfer *x, int64_t off)
{
	return x->ring + off % RING_SIZE;
}

/* Hash the front of the ring. Called unlocked; returns locked. */
static void hash_ring(struct xfer *x, int64_t at, int64_t to)
{
	to = ring_span(at, to);
	digest_update(x->d, ring_at(x, at), (size_t)(to - at));
	pthread_mutex_lock(&x->mu);
	x->hashed = to;
	ring_release(x);
	make_durable(x, to);
}

static int64_t align_down(int64_t off)
{
	return off & ~(DIRECT_ALIGN - 1);
}

/* Write [at, to) of the ring: its whole blocks past the page cache where the file system
 * allows it, the ragged ends through the cache. Called unlocked. */
static int write_ring_span(struct xfer *x, int64_t at, int64_t to)
{
	if (x->o->sink) {
		if (!x->sink_msg && x->o->sink(ring_at(x, at), (size_t)(to - at), x->o->sink_arg) < 0) {
			x->sink_code = fail_code();
			x->sink_msg = xstrdup(fail_msg());
			/* Only a stream the sink cannot take needs the rest, for the digest to say whose
			 * fault it is; a sink that cannot write (a full disk) stops the download now. */
			if (x->sink_code != EX_DATAERR) {
				errno = EIO;
				return -1;
			}
		}
		return 0;
	}
	int64_t head = align_down(at + DIRECT_ALIGN - 1), tail = align_down(to);
	if (x->dfd >= 0 && head < tail) {
		if (pwrite_all(x->fd, ring_at(x, at), (size_t)(head - at), at) < 0)
			return -1;
		if (pwrite_all(x->dfd, ring_at(x, head), (size_t)(tail - head), head) == 0)
			return pwrite_all(x->fd, ring_at(x, tail), (size_t)(to - tail), tail);
		if (errno != EINVAL)
			return -1;
		/* Some file systems refuse only at the first write: the cache it is, from now on. */
		close(x->dfd);
		x->dfd = -1;
	}
	if (pwrite_all(x->fd, ring_at(x, at), (size_t)(to - at), at) < 0)
		return -1;
	write_back(x, &x->ring_synced, to);
	return 0;
}

/* Write the oldest unwritten bytes of the ring; while the ring still grows at its end
 * (growing), up to the last whole block, the rest waiting to be one. Called unlocked;
 * returns locked. */
static int write_ring(struct xfer *x, int64_t at, int64_t to, bool growing)
{
	to = ring_span(at, to);
	if (growing && align_down(to) > at)
		to = align_down(to);
	if (write_ring_span(x, at, to) < 0) {
		pthread_mutex_lock(&x->mu);
		x->write_errno = errno;
		return -1;
	}
	pthread_mutex_lock(&x->mu);
	x->ring_written = to;
	ring_release(x);
	return 0;
}

/* Hash what is on disk already: [at, to), read back. Called unlocked. */
static int hash_from_disk(struct xfer *x, char *buf, int64_t at, int64_t to)
{
	while (at < to) {
		size_t n = to - at < (1 << 20) ? (size_t)(to - at) : (size_t)1 << 20;
		if (pread_all(x->fd, buf, n, at) < 0) {
			pthread_mutex_lock(&x->mu);
			x->read_errno = errno;
			return -1;
		}
		digest_update(x->d, buf, n);
		at += (int64_t)n;
	}
	write_back(x, &x->synced, at);
	pthread_mutex_lock(&x->mu);
	x->hashed = at;
	make_durable(x, at);
	return 0;
}

/* Past cursor, the ring holds less than a batch of a piece still arriving (or nothing, once
 * the prefix has gone past the ring): waking a thread for less costs more than it saves. */
static bool ring_short(const struct xfer *x, int64_t cursor)
{
	return x->ring_hi - cursor < (x->ready <= x->ring_hi ? RING_BATCH : 1);
}

/* Nothing for the digest yet: a short ring, or, past the ring, nothing on disk is left to
 * hash. Under mu. */
static bool hasher_idle(const struct xfer *x)
{
	if (x->hasher_stop)
		return false;
	return ring_unhashed(x) ? ring_short(x, x->hashed) : x->hashed >= x->ready;
}

/* Nothing for the writer yet: a short ring of unwritten bytes. Under mu. */
static bool writer_idle(const struct xfer *x)
{
	return !x->hasher_stop && ring_short(x, x->ring_written);
}

static void *hash_loop(void *arg)
{
	struct xfer *x = arg;
	char *buf = xmalloc(1 << 20);
	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (hasher_idle(x))
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->hasher_drop)
			break;
		bool ring = ring_unhashed(x);
		int64_t at = x->hashed, to = ring ? x->ring_hi : x->ready;
		if (at >= to)
			break; /* stopped, with nothing left */
		pthread_mutex_unlock(&x->mu);
		if (ring)
			hash_ring(x, at, to);
		else if (hash_from_disk(x, buf, at, to) < 0)
			break;
	}
	pthread_cond_signal(&x->ring_space); /* curl's thread waiting for room must see the error */
	pthread_mutex_unlock(&x->mu);
	free(buf);
	return NULL;
}

static void *write_loop(void *arg)
{
	struct xfer *x = arg;
	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (writer_idle(x))
			pthread_cond_wait(&x->wcv, &x->mu);
		int64_t at = x->ring_written, to = x->ring_hi;
		if (x->hasher_drop || at >= to)
			break; /* dropped, or stopped with nothing left */
		bool growing = !x->hasher_stop && x->ready <= x->ring_hi;
		pthread_mutex_unlock(&x->mu);
		if (write_ring(x, at, to, growing) < 0)
			break;
	}
	pthread_cond_signal(&x->ring_space);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

static void hasher_start(struct xfer *x)
{
	x->hasher_stop = x->hasher_drop = false;
	x->durable_want = x->durable_done = 0;
	if (pthread_create(&x->hasher, NULL, hash_loop, x) != 0 ||
	    pthread_create(&x->writer, NULL, write_loop, x) != 0 ||
	    pthread_create(&x->syncer, NULL, sync_loop, x) != 0)
		die(EX_OSERR, "cannot start the hashing threads");
	x->hasher_on = true;
}

/* Stop the threads: after they have caught up (drain), or at once, dropping what is left
 * (the ring's unwritten bytes too: save_state counts only what reached the disk). */
static int hasher_stop(struct xfer *x, bool drain)
{
	if (!x->hasher_on)
		return 0;
	pthread_mutex_lock(&x->mu);
	x->hasher_stop = true;
	x->hasher_drop = !drain;
	pthread_cond_signal(&x->cv);
	pthread_cond_signal(&x->wcv);
	pthread_cond_signal(&x->sync_cv);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->hasher, NULL);
	pthread_join(x->writer, NULL);
	pthread_join(x->syncer, NULL);
	free(x->state_posted); /* older than the state the caller saves next, if any */
	x->state_posted = NULL;
	x->hasher_on = false;
	if (!drain)
		x->ready = x->hashed;
	if (x->write_errno) {
		errno = x->write_errno;
		return fail_write(x);
	}
	if (x->sync_errno) {
		errno = x->sync_errno;
		return fail_sys(EX_IOERR, "cannot sync '%s'", x->o->part);
	}
	if (x->read_errno) {
		errno = x->read_errno;
		return fail_sys(EX_IOERR, "cannot read '%s'", x->o->part);
	}
	return 0;
}

/* The contiguous prefix has grown: tell the thread. */
static void advance_ready(struct xfer *x)
{
	while (x->ready_idx < x->npieces && x->pieces[x->ready_idx].end != UNKNOWN_END &&
	       x->pieces[x->ready_idx].written == x->pieces[x->ready_idx].end - x->pieces[x->ready_idx].start)
		x->ready_idx++;
	int64_t ready = x->ready_idx < x->npieces ? x->pieces[x->ready_idx].start + x->pieces[x->ready_idx].written
						  : x->size;
	pthread_mutex_lock(&x->mu);
	if (ready > x->ready) {
		x->ready = ready;
		if (!hasher_idle(x))
			pthread_cond_signal(&x->cv);
		if (!writer_idle(x))
			pthread_cond_signal(&x->wcv);
	}
	pthread_mutex_unlock(&x->mu);
}

/* Bytes that land exactly at the digest's frontier go to the ring, for the writer and the
 * digest while curl's thread goes on receiving: that is every byte of one connection, and
 * the prefix piece of several. Returns 1 when taken, 0 when they are for curl's thread to
 * write, -1 when the writer could not write (errno set). */
static int ring_take(struct xfer *x, const char *buf, int64_t off, size_t len)
{
	pthread_mutex_lock(&x->mu);
	bool ours = x->hasher_on && !x->write_errno && !x->read_errno &&
		    (x->ring_hi > x->ring_lo ? off == x->ring_hi : off == x->hashed && off == x->ready);
	if (ours && x->ring_hi == x->ring_lo)
		x->ring_lo = x->ring_hi = x->ring_written = off;
	while (ours && x->ring_hi + (int64_t)len - x->ring_lo > RING_SIZE && !x->write_errno && !x->read_errno)
		pthread_cond_wait(&x->ring_space, &x->mu);
	ours = ours && !x->read_errno; /* the digest is gone: curl's thread writes, the error comes at the end */
	int err = x->write_errno;
	pthread_mutex_unlock(&x->mu);
	if (err) {
		errno = err;
		return -1;
	}
	if (!ours)
		return 0;
	/* Past ring_hi the ring is this thread's alone. */
	size_t first = (size_t)(RING_SIZE - off % RING_SIZE) < len ? (size_t)(RING_SIZE - off % RING_SIZE) : len;
	memcpy(ring_at(x, off), buf, first);
	memcpy(x->ring, buf + first, len - first);
	pthread_mutex_lock(&x->mu);
	x->ring_hi = off + (int64_t)len;
	if (!hasher_idle(x))
		pthread_cond_signal(&x->cv);
	if (!writer_idle(x))
		pthread_cond_signal(&x->wcv);
	pthread_mutex_unlock(&x->mu);
	return 1;
}

/* c's staged bytes are in the file, or in the ring: they count as written. */
static void stage_taken(struct xfer *x, struct conn *c)
{
	c->p->written += (int64_t)c->staged;
	c->staged = 0;
	advance_ready(x);
}

/* Bytes that land at the digest's frontier go to the ring: c's stage first, once the
 * digest has caught up with it (after a resumed prefix, or a piece before it). 1 when
 * taken, 0 when not, -1 as ring_take. */
static int ring_take_conn(struct xfer *x, struct conn *c, const char *buf, int64_t off, size_t len)
{
	if (c->staged) {
		int taken = ring_take(x, c->stage, c->stage_at, c->staged);
		if (taken <= 0)
			return taken;
		stage_taken(x, c);
	}
	return ring_take(x, buf, off, len);
}

/* Write what c has staged. Curl's thread. */
static int flush_stage(struct xfer *x, struct conn *c)
{
	if (c->staged == 0)
		return 0;
	if (pwrite_all(x->fd, c->stage, c->staged, c->stage_at) < 0)
		return -1;
	stage_taken(x, c);
	return 0;
}

/* Bytes for c's stage, written as it fills, and all of it once the piece is complete. */
static int stage_bytes(struct xfer *x, struct conn *c, const char *buf, int64_t off, size_t len)
{
	while (len > 0) {
		if (c->staged == 0)
			c->stage_at = off;
		size_t n = len < STAGE_SIZE - c->staged ? len : STAGE_SIZE - c->staged;
		memcpy(c->stage + c->staged, buf, n);
		c->staged += n;
		buf += n;
		off += (int64_t)n;
		len -= n;
		if (c->staged == STAGE_SIZE && flush_stage(x, c) < 0)
			return -1;
	}
	if (c->p->end != UNKNOWN_END && c->stage_at + (int64_t)c->staged == c->p->end)
		return flush_stage(x, c);
	return 0;
}

static int64_t hashed_so_far(struct xfer *x)
{
	pthread_mutex_lock(&x->mu);
	int64_t h = x->hashed;
	pthread_mutex_unlock(&x->mu);
	return h;
}

static void reset_digest(struct xfer *x)
{
	hasher_stop(x, false);
	if (x->o->sink_restart) {
		/* The writer is stopped: the sink is ours, to start over with a clean slate. */
		x->o->sink_restart(x->o->sink_arg);
		free(x->sink_msg);
		x->sink_msg = NULL;
	}
	digest_free(x->d);
	x->d = digest_new(x->o->alg);
	x->hashed = x->ready = x->synced = x->ring_synced = x->ring_lo = x->ring_hi = x->ring_written = 0;
	x->ready_idx = 0;
	x->read_errno = x->write_errno = x->sync_errno = 0;
	hasher_start(x);
}

/* ---- the file's size, and room for it ---- */

static int64_t done_bytes(const struct xfer *x)
{
	int64_t done = 0;
	for (size_t i = 0; i < x->npieces; i++)
		done += x->pieces[i].written;
	return done;
}

/* May the file be that large? */
static int check_cap(const char *shown, int64_t size, int64_t max_size)
{
	char n[32], m[32];
	if (max_size <= 0 || size <= max_size)
		return 0;
	size_format((uint64_t)size, 0, n);
	size_format((uint64_t)max_size, 0, m);
	return fail(EX_CANTCREAT, "'%s' is %s, more than the %s --max-size allows", shown, n, m);
}

/* Is there room for what of size is not on disk yet (have is)? */
static int check_room(const char *dir, int64_t size, int64_t have, bool again)
{
	char n[32], f[32];
	int64_t free_bytes;
	if (free_space(dir, &free_bytes) < 0)
		return -1;
	int64_t need = size - have;
	if (need <= free_bytes)
		return 0;
	size_format((uint64_t)need, 0, n);
	size_format((uint64_t)free_bytes, 0, f);
	return fail(EX_CANTCREAT, "not enough space %sin '%s': need %s%s, %s free", again ? "left " : "", dir, n,
		    again ? " more" : "", f);
}

int transfer_check_room(const char *part, const char *url, int64_t size, int64_t max_size)
{
	char *dir = xstrdup(part), *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	char *shown = http_redact(url);
	int rc = check_cap(shown, size, max_size);
	if (rc == 0)
		rc = check_room(dir, size, transfer_part_bytes(part), false);
	free(shown);
	free(dir);
	return rc;
}

/* The server has said how large the file is, where nothing else had: the one piece ends
 * there, and from now on free connections can take halves of it. */
static int learn_size(struct xfer *x, struct piece *p, int64_t size)
{
	if (p->start + p->written > size)
		return fail(EX_DATAERR, "'%s': the server says the file is %" PRId64 " bytes; '%s' holds more", x->shown, size,
			    x->o->part);
	if (check_cap(x->shown, size, x->o->max_size) < 0) {
		x->discard = true; /* a resume would meet the same */
		return -1;
	}
	if (check_room(x->dir, size, done_bytes(x), false) < 0)
		return -1;
	x->size = size;
	p->end = size;
	return 0;
}

/* As data arrives, someone else may fill the disk: stop while the .part can still be resumed. */
static int recheck_room(struct xfer *x)
{
	long long now = now_ms();
	if (x->size < 0 || x->o->sink || now - x->last_room_check < ROOM_EVERY_MS)
		return 0;
	x->last_room_check = now;
	return check_room(x->dir, x->size, done_bytes(x), true);
}

/* ---- one connection ---- */

static void split_piece(struct xfer *x, size_t i, int64_t at);

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n;
	if (http_header_is_status(p, len))
		c->has_range = c->bad_range = false;
	int r = http_header_content_range(p, len, &c->range);
	if (r) {
		c->has_range = r > 0;
		c->bad_range = r < 0;
	}
	return len;
}

/* The server ignored Range: with one piece, start it over from byte 0 in place. */
static int restart_single(struct xfer *x, struct conn *c)
{
	reset_digest(x); /* first: the hashing thread must not read the file while it is cut */
	if (ftruncate(x->fd, 0) < 0)
		return fail_sys(EX_IOERR, "cannot truncate '%s'", x->o->part);
	c->p->written = 0;
	c->asked = 0;
	x->no_range = true;
	x->res->range_ignored = true;
	return 0;
}

/* A 206 that starts elsewhere than asked (at): taken from there if that is inside c's piece
 * and not yet written (the bytes before it left to another connection), else dropped to be
 * asked again. */
static int take_from_elsewhere(struct xfer *x, struct conn *c, int64_t at)
{
	struct piece *p = c->p;
	/* A sink takes the bytes in order only. */
	if (x->o->sink || at <= c->asked || p->end == UNKNOWN_END || at >= p->end) {
		c->misplaced = true;
		return -1;
	}
	size_t i = (size_t)(p - x->pieces);
	split_piece(x, i, at);
	x->pieces[i].state = P_TODO;
	c->p = &x->pieces[i + 1];
	c->p->state = P_ACTIVE;
	c->asked = at;
	c->written_at_start = 0;
	return 0;
}

/* A 206: the file's size, as the server gives it, and where the bytes start. */
static int check_partial(struct xfer *x, struct conn *c)
{
	int64_t total = c->has_range || c->bad_range ? c->range.total : -1;
	if (total >= 0 && x->size >= 0 && total != x->size) {
		c->fatal = true;
		return fail(EX_DATAERR, "'%s': the server says the file is %" PRId64 " bytes; expected %" PRId64, x->shown,
			    total, x->size);
	}
	if (c->bad_range) {
		c->misplaced = true;
		return -1;
	}
	if (!c->has_range)
		return 0; /* nothing says otherwise: from where it was asked, and the digest will tell */
	if (total >= 0 && x->size < 0 && learn_size(x, c->p, total) < 0) {
		c->fatal = true;
		return -1;
	}
	return c->range.first == c->asked ? 0 : take_from_elsewhere(x, c, c->range.first);
}

/* A 200: the whole file, from its first byte. */
static int check_whole(struct xfer *x, struct conn *c)
{
	if (c->ranged) {
		if (x->npieces > 1) {
			c->collapse = true;
			return -1;
		}
		if (restart_single(x, c) < 0) {
			c->fatal = true;
			return -1;
		}
	}
	curl_off_t cl = -1;
	curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (x->size >= 0 && cl >= 0 && cl != x->size) {
		c->fatal = true;
		return fail(EX_DATAERR, "'%s': the server says the file is %" PRId64 " bytes; expected %" PRId64, x->shown,
			    (int64_t)cl, x->size);
	}
	if (x->size < 0 && cl >= 0 && learn_size(x, c->p, (int64_t)cl) < 0) {
		c->fatal = true;
		return -1;
	}
	return 0;
}

/* First body bytes: is this the answer to what we asked? */
static int check_response(struct conn *c)
{
	long status = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300)
		return -1; /* an error page: not file content; on_done reports the status */
	return status == 206 ? check_partial(c->x, c) : check_whole(c->x, c);
}

/* len bytes at off for c's piece p: as many as it holds, and where they must stop. */
static int fit_piece(struct xfer *x, struct conn *c, int64_t off, size_t *len)
{
	const struct piece *p = c->p;
	if (x->size >= 0 && off + (int64_t)*len > x->size) {
		c->fatal = true;
		return fail(EX_DATAERR, "'%s': the server sent more bytes than the file holds", x->shown);
	}
	if (p->end == UNKNOWN_END && x->o->max_size > 0 && off + (int64_t)*len > x->o->max_size) {
		char m[32];
		size_format((uint64_t)x->o->max_size, 0, m);
		c->fatal = x->discard = true;
		return fail(EX_CANTCREAT, "'%s' sent more than %s and never said its size; stopped (--max-size)", x->shown, m);
	}
	if (p->end != UNKNOWN_END && off + (int64_t)*len > p->end) {
		/* Past the piece: another connection's bytes, or (a server that sends to the end
		 * of the file) none asked for. Keep the piece's, then end this one. */
		*len = (size_t)(p->end - off);
		c->cut = true;
	}
	return 0;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	struct xfer *x = c->x;
	size_t len = size * n;
	if (!c->checked) {
		if (check_response(c) < 0)
			return 0;
		c->checked = true;
	}
	struct piece *p = c->p;
	int64_t off = p->start + p->written + (int64_t)c->staged;
	size_t asked = len;
	if (fit_piece(x, c, off, &len) < 0)
		return 0;
	int taken = ring_take_conn(x, c, buf, off, len);
	if (taken == 0 && x->o->sink) {
		c->misplaced = true; /* not where the sink is: asked again from there */
		return 0;
	}
	if (taken < 0 || (taken == 0 && stage_bytes(x, c, buf, off, len) < 0)) {
		c->fatal = true;
		fail_write(x);
		return 0;
	}
	if (taken) {
		p->written += (int64_t)len;
		advance_ready(x);
	}
	c->rate_bytes += (int64_t)len;
	x->rate_bytes += (int64_t)len;
	return len < asked ? 0 : len;
}

static int start_conn(struct xfer *x, struct conn *c, struct piece *p)
{
	memset(c, 0, sizeof *c);
	c->x = x;
	c->p = p;
	size_t slot = (size_t)(c - x->conns);
	if (!x->stages[slot])
		x->stages[slot] = xmalloc(STAGE_SIZE);
	c->stage = x->stages[slot];
	if (x->no_range && p->written > 0 && restart_single(x, c) < 0)
		return -1;
	c->asked = p->start + p->written;
	c->written_at_start = p->written;
	c->rate_t = now_ms();
	c->h = http_handle(x->o->url, 0, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, 512L * 1024);
	/* A drip is a stall too: a server that holds a connection open at a few bytes a second
	 * would hold up the end for ever. */
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT, STALL_RATE);
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME, (long)x->o->stall_seconds);
	if (x->o->prepare)
		x->o->prepare(c->h, x->o->prepare_arg);
	c->ranged = !(c->asked == 0 && (p->end == UNKNOWN_END || p->end == x->size));
	if (c->ranged) {
		char range[64];
		if (p->end == UNKNOWN_END)
			snprintf(range, sizeof range, "%" PRId64 "-", c->asked);
		else
			snprintf(range, sizeof range, "%" PRId64 "-%" PRId64, c->asked, p->end - 1);
		curl_easy_setopt(c->h, CURLOPT_RANGE, range);
	}
	p->state = P_ACTIVE;
	curl_multi_add_handle(x->multi, c->h);
	x->nconns++;
	return 0;
}

static void stop_conn(struct xfer *x, struct conn *c)
{
	if (!c->h)
		return;
	curl_multi_remove_handle(x->multi, c->h);
	curl_easy_cleanup(c->h);
	c->h = NULL;
	c->staged = 0; /* not counted as written: a resume fetches it again */
	if (c->p->state == P_ACTIVE)
		c->p->state = P_TODO;
	x->nconns--;
}

static void stop_all(struct xfer *x)
{
	for (int i = 0; i < MAX_CONNS; i++)
		stop_conn(x, &x->conns[i]);
}

/* Every piece back to one, from the start: for servers that ignore Range. */
static int collapse(struct xfer *x)
{
	stop_all(x);
	x->npieces = 0;
	add_piece(x, 0, x->size, 0);
	x->pieces[0].state = P_TODO;
	reset_digest(x); /* before the file is cut, as in restart_single */
	if (ftruncate(x->fd, 0) < 0)
		return fail_sys(EX_IOERR, "cannot truncate '%s'", x->o->part);
	x->no_range = true;
	x->res->range_ignored = true;
	save_state(x);
	return 0;
}

static bool piece_complete(const struct xfer *x, const struct piece *p)
{
	return p->end == UNKNOWN_END || p->written == p->end - p->start || (x->size == 0);
}

/* A piece of a file whose size nobody said, longer than the file: from its first byte again. */
static int start_over_single(struct xfer *x, struct piece *p)
{
	reset_digest(x); /* before the file is cut, as in restart_single */
	if (ftruncate(x->fd, 0) < 0)
		return fail_sys(EX_IOERR, "cannot truncate '%s'", x->o->part);
	p->written = 0;
	p->retry_at = 0;
	return 0;
}

/* A 416: the server finds nothing at what was asked. 1 when that is the news (the file
 * changed size, or the .part holds it all already), 0 when worth asking again. */
static int on_unsatisfiable(struct xfer *x, struct conn *c, int *r)
{
	struct piece *p = c->p;
	int64_t total = c->has_range ? c->range.total : -1, have = p->start + p->written;
	*r = 0;
	if (total < 0)
		return 0;
	if (x->size >= 0 && total != x->size)
		*r = fail(EX_DATAERR, "'%s': the server says the file is %" PRId64 " bytes; expected %" PRId64, x->shown,
			  total, x->size);
	else if (x->size < 0 && total == have)
		x->size = p->end = total, p->state = P_DONE;
	else if (x->size < 0 && total < have)
		*r = start_over_single(x, p);
	else
		return 0;
	stop_conn(x, c);
	return 1;
}

/* A finished request: done, retry later, or give up. */
static int on_done(struct xfer *x, struct conn *c, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (c->collapse) {
		info("the server ignores Range; downloading again with one connection");
		return collapse(x);
	}
	if (c->fatal) {
		stop_conn(x, c);
		return -1;
	}
	/* What it received counts, even from a request that failed later. */
	if (flush_stage(x, c) < 0) {
		int r = fail_write(x);
		stop_conn(x, c);
		return r;
	}
	/* A 206 with no body at all is checked now: what it says of the file's size counts. */
	if (!c->checked && status == 206 && check_partial(x, c) < 0 && c->fatal) {
		stop_conn(x, c);
		return -1;
	}
	int r;
	if (status == 416 && on_unsatisfiable(x, c, &r))
		return r;
	struct piece *p = c->p; /* (after the check above, which may split it) */
	if (status >= 300)
		rc = CURLE_OK; /* the write callback refused an error page: the status is the news */
	if (c->cut && rc == CURLE_WRITE_ERROR && piece_complete(x, p))
		rc = CURLE_OK; /* it stopped itself at its piece's end */
	bool ok = rc == CURLE_OK && status < 300;
	if (ok && piece_complete(x, p)) {
		p->state = P_DONE;
		if (p->end == UNKNOWN_END)
			x->size = p->written, p->end = p->written;
		stop_conn(x, c);
		return 0;
	}
	/* Answers worth asking again for, though curl sees nothing wrong with them. */
	const char *why = status == 416 ? "HTTP 416, nothing at the range asked for"
			  : c->misplaced ? "a piece that starts elsewhere than asked" : NULL;
	if (ok) /* the body ended before the range did */
		rc = CURLE_PARTIAL_FILE;
	if (p->written > c->written_at_start)
		p->fails = 0;
	p->fails++;
	if (!(why || http_transient(rc, status)) || p->fails > x->o->retries) {
		if (why)
			r = fail(status == 416 ? EX_UNAVAILABLE : EX_DATAERR, "'%s': the server kept answering with %s (%d tries)",
				 x->shown, why, p->fails);
		else if (ok || rc == CURLE_PARTIAL_FILE)
			r = fail(EX_TEMPFAIL, "'%s': the connection kept closing early (%d tries)", x->shown, p->fails);
		else
			r = http_fail(c->h, rc, x->o->url, c->errbuf);
		stop_conn(x, c);
		return r;
	}
	long long delay = (long long)x->o->backoff_ms << (p->fails - 1 < 6 ? p->fails - 1 : 6);
	info("'%s': %s; retrying in %lld ms", x->shown, why ? why : *c->errbuf ? c->errbuf : curl_easy_strerror(rc), delay);
	p->retry_at = now_ms() + (delay < 15000 ? delay : 15000);
	stop_conn(x, c);
	return 0;
}

/* ---- the loop ---- */

static struct conn *free_slot(struct xfer *x)
{
	int limit = x->no_range || x->o->sink ? 1 : x->o->connections; /* a sink takes bytes in order */
	if (x->nconns >= limit)
		return NULL;
	for (int i = 0; i < MAX_CONNS; i++)
		if (!x->conns[i].h)
			return &x->conns[i];
	return NULL;
}

/* A new piece [at, the end of piece i) right after piece i, which now ends at at. The array
 * may move: every connection's piece is found again by its index. */
static void split_piece(struct xfer *x, size_t i, int64_t at)
{
	size_t idx[MAX_CONNS];
	for (int k = 0; k < MAX_CONNS; k++)
		idx[k] = x->conns[k].h ? (size_t)(x->conns[k].p - x->pieces) : 0;
	x->pieces = xrealloc(x->pieces, (x->npieces + 1) * sizeof *x->pieces);
	memmove(&x->pieces[i + 2], &x->pieces[i + 1], (x->npieces - i - 1) * sizeof *x->pieces);
	x->npieces++;
	x->pieces[i + 1] = (struct piece){ at, x->pieces[i].end, 0, P_TODO, 0, 0 };
	x->pieces[i].end = at;
	for (int k = 0; k < MAX_CONNS; k++)
		if (x->conns[k].h)
			x->conns[k].p = &x->pieces[idx[k] + (idx[k] > i)];
}

/* Nothing left to start but a connection is free: take the second half of the piece with
 * the most left to fetch, so that one slow connection does not hold up the end. */
static struct piece *steal_half(struct xfer *x)
{
	struct conn *slowest = NULL;
	int64_t most = 2 * STEAL_MIN - 1;
	for (int k = 0; k < MAX_CONNS; k++) {
		struct conn *c = &x->conns[k];
		if (!c->h || c->p->end == UNKNOWN_END || c->fatal || c->collapse)
			continue;
		int64_t left = c->p->end - c->p->start - c->p->written - (int64_t)c->staged;
		if (left > most)
			most = left, slowest = c;
	}
	if (!slowest)
		return NULL;
	size_t i = (size_t)(slowest->p - x->pieces);
	/* Past what it has received, staged or not. */
	split_piece(x, i, x->pieces[i].start + x->pieces[i].written + (int64_t)slowest->staged + most / 2);
	return &x->pieces[i + 1];
}

static int fill_slots(struct xfer *x)
{
	long long now = now_ms();
	bool waiting = false;
	for (size_t i = 0; i < x->npieces; i++) {
		struct piece *p = &x->pieces[i];
		if (p->state != P_TODO)
			continue;
		if (p->retry_at > now) {
			waiting = true;
			continue;
		}
		struct conn *c = free_slot(x);
		if (!c)
			return 0;
		if (start_conn(x, c, p) < 0)
			return -1;
	}
	/* Pieces waiting out a backoff are left to it; otherwise every free connection helps. */
	struct conn *c;
	struct piece *half;
	while (!waiting && !x->no_range && (c = free_slot(x)) && (half = steal_half(x)))
		if (start_conn(x, c, half) < 0)
			return -1;
	return 0;
}

static bool all_done(const struct xfer *x)
{
	for (size_t i = 0; i < x->npieces; i++)
		if (x->pieces[i].state != P_DONE)
			return false;
	return true;
}

static void report(struct xfer *x, bool checking, bool force)
{
	long long now = now_ms();
	if (!x->o->progress || (!force && now - x->last_progress < 200))
		return;
	if (now - x->rate_t >= 1000) {
		double inst = (double)x->rate_bytes * 1000.0 / (double)(now - x->rate_t);
		x->rate = x->rate > 0 ? 0.7 * x->rate + 0.3 * inst : inst;
		x->rate_bytes = 0;
		x->rate_t = now;
	}
	struct transfer_conn tc[MAX_CONNS];
	int n = 0;
	int64_t done = 0;
	for (size_t i = 0; i < x->npieces; i++)
		done += x->pieces[i].written;
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &x->conns[i];
		if (!c->h)
			continue;
		if (now - c->rate_t >= 1000) {
			c->rate = (double)c->rate_bytes * 1000.0 / (double)(now - c->rate_t);
			c->rate_bytes = 0;
			c->rate_t = now;
		}
		tc[n++] = (struct transfer_conn){ c->p->start, c->p->end, c->p->written, c->rate };
	}
	struct transfer_progress pr = { x->size, done, hashed_so_far(x), x->rate, n, tc, checking };
	x->o->progress(&pr, x->o->arg);
	x->last_progress = now;
}

static int run_loop(struct xfer *x)
{
	while (!all_done(x)) {
		if (x->o->stop && *x->o->stop) {
			stop_all(x);
			return TRANSFER_INTERRUPTED;
		}
		if (fill_slots(x) < 0)
			return -1;
		int running = 0;
		if (curl_multi_perform(x->multi, &running) != CURLM_OK)
			return fail(EX_SOFTWARE, "libcurl's multi interface failed");
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(x->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct conn *c = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			if (on_done(x, c, m->data.result) < 0) {
				stop_all(x);
				return -1;
			}
		}
		report(x, false, false);
		if (all_done(x))
			break; /* with no transfer left, a poll would sleep its whole timeout */
		if (recheck_room(x) < 0) {
			stop_all(x);
			return -1;
		}
		if (now_ms() - x->last_state_save > 1000) {
			post_state(x);
			x->last_state_save = now_ms();
		}
		curl_multi_poll(x->multi, NULL, 0, 100, NULL);
	}
	report(x, false, true);
	return 0;
}

int64_t transfer_part_bytes(const char *part)
{
	struct stat st;
	if (stat(part, &st) < 0)
		return 0;
	/* A sparse .part from parallel pieces holds what its blocks hold, not its length. */
	int64_t blocks = (int64_t)st.st_blocks * 512;
	return blocks < (int64_t)st.st_size ? blocks : (int64_t)st.st_size;
}

static int prepare(struct xfer *x)
{
	struct stat st;
	if (fstat(x->fd, &st) < 0)
		return fail_sys(EX_IOERR, "cannot stat '%s'", x->o->part);
	if (x->o->sink) {
		/* Nothing to continue: what a sink was given went with the run that gave it. */
		if (ftruncate(x->fd, 0) < 0)
			return fail_sys(EX_IOERR, "cannot truncate '%s'", x->o->part);
		plan_pieces(x, 0, 1);
		return 0;
	}
	if (x->size >= 0 && load_state(x) == 0) {
		x->res->resumed = true;
		return 0;
	}
	int64_t have = st.st_size;
	/* Longer than the file can be, or with holes (pieces written in parallel, whose record
	 * is gone): its length is not a prefix to continue. */
	if ((x->size >= 0 && have > x->size) || lseek(x->fd, 0, SEEK_HOLE) < have) {
		if (ftruncate(x->fd, 0) < 0)
			return fail_sys(EX_IOERR, "cannot truncate '%s'", x->o->part);
		have = 0;
	}
	x->res->resumed = have > 0;
	plan_pieces(x, have, x->o->connections);
	return 0;
}

int transfer_run(const struct transfer_opts *o, struct transfer_result *res)
{
	struct xfer x = { 0 };
	memset(res, 0, sizeof *res);
	x.o = o;
	x.res = res;
	x.size = o->size;
	x.fd = open(o->part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (x.fd < 0)
		return fail_sys(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create '%s'", o->part);
	struct stat st;
	if (fstat(x.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(x.fd);
		return fail(EX_CANTCREAT, "'%s' is not a regular file; claw-fetch writes only its own", o->part);
	}
	x.shown = http_redact(o->url);
	x.dir = xstrdup(o->part);
	char *slash = strrchr(x.dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(x.dir, ".");
	x.d = digest_new(o->alg);
	x.rate_t = now_ms();
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	pthread_cond_init(&x.wcv, NULL);
	pthread_cond_init(&x.ring_space, NULL);
	pthread_cond_init(&x.sync_cv, NULL);
	/* The ring's whole blocks go to the disk past the page cache: a durable file then costs
	 * no writeback and no flush of it at the end, and the cache is left to the rest of the
	 * machine. Their buffers must be aligned as their offsets are. */
	x.dfd = scratch(&x) ? -1 : open_uncached(x.fd, o->part);
	x.ring = aligned_alloc(RING_ALIGN, (size_t)RING_SIZE);
	if (!x.ring)
		die(EX_OSERR, "out of memory");
	int rc = prepare(&x);
	if (rc == 0) {
		if (!o->sink)
			save_state(&x); /* from the start: the .part is claw-fetch's, and --prune may know it */
		/* A resumed .part is hashed while the rest downloads. */
		hasher_start(&x);
		advance_ready(&x);
		report(&x, true, true);
	}
	if (rc == 0) {
		http_init();
		x.multi = curl_multi_init();
		curl_multi_setopt(x.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_CONNS);
		rc = run_loop(&x);
		curl_multi_cleanup(x.multi);
	}
	if (hasher_stop(&x, rc == 0) < 0 && rc == 0)
		rc = -1;
	if (x.sink_msg && rc == 0 && x.hashed == x.size)
		digest_final_hex(x.d, res->hex); /* the bytes' digest, whatever the sink made of them */
	if (x.sink_msg && rc != TRANSFER_INTERRUPTED)
		rc = fail(x.sink_code, "%s", x.sink_msg);
	if (rc == 0 && x.hashed != x.size)
		rc = fail(EX_SOFTWARE, "hashed %" PRId64 " of %" PRId64 " bytes", x.hashed, x.size);
	/* The cache trusts a file by its size and mtime from now on: all of it must be on disk. */
	if (rc == 0 && !scratch(&x) && fsync_full(x.fd) < 0)
		rc = fail_sys(EX_IOERR, "cannot sync '%s'", o->part);
	if (rc == 0) {
		digest_final_hex(x.d, res->hex);
		res->size = x.size;
	} else if (o->sink || x.discard || (fstat(x.fd, &st) == 0 && st.st_size == 0)) {
		transfer_discard(o->part); /* nothing worth a resume: nothing left */
	} else {
		/* The state is saved as best it can be (on a full disk, not at all): the error to
		 * report is still the one that stopped the transfer. */
		int code = fail_code();
		char *why = xstrdup(fail_msg());
		save_state(&x);
		fail(code, "%s", why);
		free(why);
	}
	if (x.dfd >= 0)
		close(x.dfd);
	if (close(x.fd) < 0 && rc == 0)
		rc = fail_sys(EX_IOERR, "cannot write '%s'", o->part);
	pthread_mutex_destroy(&x.mu);
	pthread_cond_destroy(&x.cv);
	pthread_cond_destroy(&x.wcv);
	pthread_cond_destroy(&x.ring_space);
	pthread_cond_destroy(&x.sync_cv);
	digest_free(x.d);
	free(x.ring);
	for (int i = 0; i < MAX_CONNS; i++)
		free(x.stages[i]);
	free(x.pieces);
	free(x.shown);
	free(x.dir);
	free(x.sink_msg);
	if (o->sink)
		transfer_discard(o->part); /* it held nothing */
	return rc;
}
