/* diskchunk: SHA-256 through digest.c, the stream through applelz4.c, holes through
 * zero_range (util.h). */
#include "diskchunk.h"
#include "applelz4.h"
#include "digest.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNIT ((size_t)4096)          /* the smallest hole kept: a file system block */
#define PENDING_MAX ((size_t)4 << 20) /* bytes gathered before one pwrite */
#define READ_STEP ((size_t)4 << 20)

static void sha256_name(struct digest *d, char out[OCI_DIGEST_MAX])
{
	char hex[DIGEST_HEX_MAX];
	digest_final_hex(d, hex);
	snprintf(out, OCI_DIGEST_MAX, "sha256:%s", hex);
}

static void hash_zeros(struct digest *d, uint64_t n)
{
	static const char zeros[64 << 10];
	for (; n > 0; n -= n < sizeof zeros ? n : sizeof zeros)
		digest_update(d, zeros, n < sizeof zeros ? (size_t)n : sizeof zeros);
}

/* The digest of len zero bytes. Most of a disk is chunks of zeros, all of one size: that
 * size is hashed once a run, not once a chunk (512 MiB of SHA-256 is a quarter second). */
static void zeros_digest(uint64_t len, char out[OCI_DIGEST_MAX])
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t known_len;
	static char known[OCI_DIGEST_MAX];
	pthread_mutex_lock(&mu);
	if (!known[0] || known_len != len) {
		struct digest *d = digest_new(DIGEST_SHA256);
		hash_zeros(d, len);
		sha256_name(d, known);
		digest_free(d);
		known_len = len;
	}
	memcpy(out, known, OCI_DIGEST_MAX);
	pthread_mutex_unlock(&mu);
}

/* [off, off+len) of fd is a hole: it reads as zeros. */
static bool is_hole(int fd, uint64_t off, uint64_t len)
{
	off_t data = lseek(fd, (off_t)off, SEEK_DATA);
	return (data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= off + len);
}

int diskchunk_matches(int fd, uint64_t off, uint64_t len, const char *want, bool *yes)
{
	if (len > 0 && is_hole(fd, off, len)) {
		char got[OCI_DIGEST_MAX];
		zeros_digest(len, got);
		*yes = !strcmp(got, want);
		return 0;
	}
	char *buf = xmalloc(READ_STEP);
	struct digest *d = digest_new(DIGEST_SHA256);
	int rc = 0;
	for (uint64_t at = 0; at < len && rc == 0;) {
		size_t n = len - at < READ_STEP ? (size_t)(len - at) : READ_STEP;
		if (pread_all(fd, buf, n, (int64_t)(off + at)) < 0)
			rc = fail_sys(EX_IOERR, "cannot read the disk");
		digest_update(d, buf, n);
		at += n;
	}
	char got[OCI_DIGEST_MAX];
	sha256_name(d, got);
	digest_free(d);
	free(buf);
	*yes = rc == 0 && !strcmp(got, want);
	return rc;
}

/* ---- unpacking: the decoder's blocks into the file, zero runs as holes ---- */

#define NBUF 3 /* one filling, the others queued for the writer or being written */

struct sink {
	int fd, dfd; /* the disk, and the same file past the page cache (-1: none) */
	bool fresh;
	uint64_t base, len, at; /* the chunk's offset and length, and how far it is written */
	struct digest *d;
	char *pend;            /* non-zero bytes waiting to be written at pend_at */
	size_t plen;
	uint64_t pend_at;
	uint64_t zero_at, zero_len; /* a zero run waiting for its hole */
	uint64_t zero_lead; /* zeros the chunk starts with, not hashed yet (zeros_digest) */
	bool any_data;      /* past the zeros it starts with: hashed as it comes */
	/* A thread of its own writes full buffers, in order, while the next one fills: a
	 * write past the page cache waits for the disk, and the decoder need not. Under mu. */
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queued {
		char *buf;
		size_t len;
		uint64_t at;
	} queue[NBUF];
	int qhead, qlen;
	char *spare[NBUF];
	int nspare;
	int werr; /* errno of a write that failed: every later flush reports it */
	bool quit;
};

static bool all_zero(const char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

static int write_fail(void)
{
	return fail_sys(errno == ENOSPC || errno == EDQUOT ? EX_CANTCREAT : EX_IOERR, "cannot write the disk");
}

/* Whole blocks go past the page cache where the file system takes them: a pulled disk is
 * gigabytes written once and not read soon, and filling the cache with it costs more than
 * the copy (on a VM, each new page of it is a fault in the host too). The writer's. */
static int write_out(struct sink *s, const struct queued *q)
{
	bool direct = s->dfd >= 0 && q->at % DIRECT_ALIGN == 0 && q->len % DIRECT_ALIGN == 0;
	if (direct && pwrite_all(s->dfd, q->buf, q->len, (int64_t)q->at) < 0) {
		if (errno != EINVAL)
			return -1;
		s->dfd = -1; /* refused at the first write, as some file systems do: the cache it is */
		direct = false;
	}
	return direct ? 0 : pwrite_all(s->fd, q->buf, q->len, (int64_t)q->at);
}

static void *write_loop(void *arg)
{
	struct sink *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->qlen && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->qlen)
			break;
		struct queued q = s->queue[s->qhead];
		pthread_mutex_unlock(&s->mu);
		int rc = s->werr ? 0 : write_out(s, &q), e = errno;
		pthread_mutex_lock(&s->mu);
		if (rc < 0 && !s->werr)
			s->werr = e;
		s->spare[s->nspare++] = q.buf;
		s->qhead = (s->qhead + 1) % NBUF;
		s->qlen--;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* A failed write, reported on the decoder's thread. Under mu; returns unlocked. */
static int report_werr(struct sink *s)
{
	errno = s->werr;
	pthread_mutex_unlock(&s->mu);
	return write_fail();
}

/* The filled buffer to the writer, and a spare one to fill. */
static int flush_pending(struct sink *s)
{
	if (!s->plen)
		return 0;
	pthread_mutex_lock(&s->mu);
	if (s->werr)
		return report_werr(s);
	s->queue[(s->qhead + s->qlen) % NBUF] = (struct queued){ s->pend, s->plen, s->pend_at };
	s->qlen++;
	pthread_cond_broadcast(&s->cv);
	while (!s->nspare)
		pthread_cond_wait(&s->cv, &s->mu);
	s->pend = s->spare[--s->nspare];
	s->plen = 0;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Every queued buffer written. */
static int drain(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->qlen)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->werr)
		return report_werr(s);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int flush_zeros(struct sink *s)
{
	if (s->zero_len && !s->fresh && zero_range(s->fd, (int64_t)s->zero_at, (int64_t)s->zero_len) < 0)
		return write_fail();
	s->zero_len = 0;
	return 0;
}

static int take_unit(struct sink *s, const char *p, size_t n)
{
	if (all_zero(p, n)) {
		if (flush_pending(s) < 0)
			return -1;
		if (!s->zero_len)
			s->zero_at = s->at;
		s->zero_len += n;
	} else {
		if (flush_zeros(s) < 0)
			return -1;
		if (s->plen == PENDING_MAX && flush_pending(s) < 0)
			return -1;
		if (!s->plen)
			s->pend_at = s->at;
		memcpy(s->pend + s->plen, p, n);
		s->plen += n;
	}
	s->at += n;
	return 0;
}

static int on_block(const char *data, size_t len, void *arg)
{
	struct sink *s = arg;
	if (s->at - s->base + len > s->len)
		return fail(EX_DATAERR, "a disk layer decodes to more than its %llu bytes", (unsigned long long)s->len);
	if (!s->any_data && all_zero(data, len)) {
		s->zero_lead += len;
	} else {
		if (!s->any_data)
			hash_zeros(s->d, s->zero_lead);
		s->any_data = true;
		digest_update(s->d, data, len);
	}
	/* Units are the file's own blocks: cut where the offset crosses a multiple of UNIT. */
	while (len > 0) {
		size_t n = UNIT - (size_t)(s->at % UNIT);
		if (n > len)
			n = len;
		if (take_unit(s, data, n) < 0)
			return -1;
		data += n;
		len -= n;
	}
	return 0;
}

struct diskchunk_unpacker {
	struct sink s;
	struct alz4_dec *dec;
};

static void unpacker_begin(struct diskchunk_unpacker *u)
{
	u->s.at = u->s.base;
	u->s.plen = 0;
	u->s.werr = 0;
	u->s.zero_len = 0;
	u->s.zero_lead = 0;
	u->s.any_data = false;
	u->s.d = digest_new(DIGEST_SHA256);
	u->dec = alz4_dec_new(u->s.len, on_block, &u->s);
}

static void unpacker_end(struct diskchunk_unpacker *u)
{
	digest_free(u->s.d);
	alz4_dec_free(u->dec);
}

struct diskchunk_unpacker *diskchunk_unpacker_new(int fd, int dfd, uint64_t off, uint64_t len, bool fresh)
{
	struct diskchunk_unpacker *u = xcalloc(1, sizeof *u);
	struct sink *s = &u->s;
	*s = (struct sink){ .fd = fd, .dfd = dfd, .fresh = fresh, .base = off, .len = len };
	for (int i = 0; i < NBUF; i++)
		if (!(s->spare[s->nspare++] = aligned_alloc((size_t)DIRECT_ALIGN, PENDING_MAX)))
			die(EX_OSERR, "out of memory");
	s->pend = s->spare[--s->nspare];
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->writer, NULL, write_loop, s) != 0)
		die(EX_OSERR, "cannot start a writer thread");
	unpacker_begin(u);
	return u;
}

int diskchunk_feed(const char *buf, size_t len, void *arg)
{
	struct diskchunk_unpacker *u = arg;
	return alz4_dec_feed(u->dec, buf, len);
}

void diskchunk_restart(void *arg)
{
	struct diskchunk_unpacker *u = arg;
	/* The first go's writes land before the second's holes. A failed one is forgotten:
	 * the bytes come again. */
	drain(&u->s);
	unpacker_end(u);
	/* What the first go wrote is there now: zeros must be punched from here on. */
	u->s.fresh = false;
	unpacker_begin(u);
}

int diskchunk_finish(struct diskchunk_unpacker *u, const char *want)
{
	if (alz4_dec_finish(u->dec) < 0 || flush_pending(&u->s) < 0 || flush_zeros(&u->s) < 0 || drain(&u->s) < 0)
		return -1;
	char got[OCI_DIGEST_MAX];
	if (u->s.any_data)
		sha256_name(u->s.d, got);
	else
		zeros_digest(u->s.zero_lead, got);
	if (u->s.at - u->s.base != u->s.len)
		return fail(EX_DATAERR, "a disk layer decodes to %llu bytes; the manifest says %llu",
			    (unsigned long long)(u->s.at - u->s.base), (unsigned long long)u->s.len);
	if (strcmp(got, want))
		return fail(EX_DATAERR, "a disk layer decodes to %s; the manifest says %s", got, want);
	return 0;
}

void diskchunk_unpacker_free(struct diskchunk_unpacker *u)
{
	if (!u)
		return;
	struct sink *s = &u->s;
	pthread_mutex_lock(&s->mu);
	s->quit = true; /* after what is queued: a chunk cut short is still written as far as it got */
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->writer, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	unpacker_end(u);
	free(s->pend);
	for (int i = 0; i < s->nspare; i++)
		free(s->spare[i]);
	free(u);
}

/* ---- packing ---- */

int diskchunk_pack(int fd, const char *path, uint64_t off, uint64_t len, struct diskchunk_packed *out)
{
	memset(out, 0, sizeof *out);
	/* Mapped, not read: the holes of a sparse disk cost no I/O, and nothing is copied. */
	long page = sysconf(_SC_PAGESIZE);
	uint64_t lead = off % (uint64_t)page;
	void *map = mmap(NULL, (size_t)(len + lead), PROT_READ, MAP_SHARED, fd, (off_t)(off - lead));
	if (map == MAP_FAILED)
		return fail_sys(EX_IOERR, "cannot read '%s'", path);
	const char *p = (const char *)map + lead;
	madvise(map, (size_t)(len + lead), MADV_SEQUENTIAL);
	struct digest *d = digest_new(DIGEST_SHA256);
	digest_update(d, p, (size_t)len);
	sha256_name(d, out->raw_digest);
	digest_free(d);
	out->data = xmalloc(alz4_bound((size_t)len));
	out->size = alz4_encode(p, (size_t)len, out->data);
	munmap(map, (size_t)(len + lead));
	d = digest_new(DIGEST_SHA256);
	digest_update(d, out->data, out->size);
	sha256_name(d, out->digest);
	digest_free(d);
	return 0;
}

void diskchunk_packed_free(struct diskchunk_packed *p)
{
	free(p->data);
	p->data = NULL;
}
