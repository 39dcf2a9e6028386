/* applelz4: the framing is ours, the blocks are liblz4's. The decoder keeps the last
 * ALZ4_WINDOW bytes it produced right in front of the next block's room, so that liblz4
 * decodes each block with them as its prefix dictionary. */
#include "applelz4.h"
#include "log.h"
#include "util.h"

#include <lz4.h>
#include <stdlib.h>
#include <string.h>

static const char magic_compressed[4] = { 'b', 'v', '4', '1' };
static const char magic_stored[4] = { 'b', 'v', '4', '-' };
static const char magic_end[4] = { 'b', 'v', '4', '$' };

enum { S_MAGIC, S_SIZES, S_BODY, S_END };
enum { K_COMPRESSED, K_STORED };

struct alz4_dec {
	uint64_t max_block, total, offset; /* offset: bytes of the stream taken so far */
	alz4_out_fn out;
	void *arg;
	int state, kind;
	unsigned char head[8];
	size_t head_len, head_want;
	uint32_t raw, enc;
	/* A block's encoded bytes when they come in pieces. */
	char *in;
	size_t in_len, in_cap;
	/* [window | block]: the last bytes decoded, then room for the next block. */
	char *buf;
	size_t window, cap;
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

struct alz4_dec *alz4_dec_new(uint64_t max_block, alz4_out_fn out, void *arg)
{
	struct alz4_dec *d = xcalloc(1, sizeof *d);
	d->max_block = max_block < LZ4_MAX_INPUT_SIZE ? max_block : LZ4_MAX_INPUT_SIZE;
	d->out = out;
	d->arg = arg;
	d->head_want = 4;
	d->cap = ALZ4_WINDOW + ALZ4_BLOCK;
	d->buf = xmalloc(d->cap);
	return d;
}

void alz4_dec_free(struct alz4_dec *d)
{
	if (!d)
		return;
	free(d->in);
	free(d->buf);
	free(d);
}

uint64_t alz4_dec_total(const struct alz4_dec *d)
{
	return d->total;
}

static int bad(const struct alz4_dec *d, const char *why)
{
	return fail(EX_DATAERR, "not an Apple LZ4 stream at byte %llu: %s", (unsigned long long)d->offset, why);
}

/* Room for a block of n bytes behind the window. */
static char *block_room(struct alz4_dec *d, size_t n)
{
	if (ALZ4_WINDOW + n > d->cap) {
		d->cap = ALZ4_WINDOW + n;
		char *nb = xmalloc(d->cap);
		memcpy(nb + ALZ4_WINDOW - d->window, d->buf + ALZ4_WINDOW - d->window, d->window);
		free(d->buf);
		d->buf = nb;
	}
	return d->buf + ALZ4_WINDOW;
}

/* A block decoded, handed on from where it lies (the room, or a stored block in the stream):
 * then the window is the last ALZ4_WINDOW bytes of itself and the block. */
static int block_done(struct alz4_dec *d, const char *block, size_t n)
{
	if (n == 0)
		return 0;
	if (d->out(block, n, d->arg) < 0)
		return -1;
	d->total += n;
	size_t keep = d->window + n < ALZ4_WINDOW ? d->window + n : ALZ4_WINDOW;
	size_t take = n < keep ? n : keep, old = keep - take;
	memmove(d->buf + ALZ4_WINDOW - keep, d->buf + ALZ4_WINDOW - old, old);
	memcpy(d->buf + ALZ4_WINDOW - take, block + n - take, take);
	d->window = keep;
	return 0;
}

static int decode_block(struct alz4_dec *d, const char *src)
{
	/* Stored bytes need no room of their own: a disk's incompressible half is copied once less. */
	if (d->kind == K_STORED)
		return block_done(d, src, d->raw);
	char *dst = block_room(d, d->raw);
	int got = LZ4_decompress_safe_usingDict(src, dst, (int)d->enc, (int)d->raw, dst - d->window, (int)d->window);
	if (got < 0)
		return bad(d, "a compressed block does not decode");
	if ((uint32_t)got != d->raw)
		return bad(d, "a compressed block decodes to another size than its header says");
	return block_done(d, dst, d->raw);
}

/* A block header is complete: check its sizes. */
static int take_sizes(struct alz4_dec *d)
{
	d->raw = le32(d->head);
	d->enc = d->kind == K_STORED ? d->raw : le32(d->head + 4);
	if (d->raw > d->max_block)
		return bad(d, "a block larger than allowed");
	if (d->kind == K_COMPRESSED && (d->enc == 0 ? d->raw != 0 : d->enc > (uint32_t)LZ4_compressBound((int)d->raw)))
		return bad(d, "a compressed block larger than its data could ever need");
	d->in_len = 0;
	d->state = S_BODY;
	return 0;
}

static int take_magic(struct alz4_dec *d)
{
	if (!memcmp(d->head, magic_end, 4)) {
		d->state = S_END;
		return 0;
	}
	if (!memcmp(d->head, magic_compressed, 4))
		d->kind = K_COMPRESSED, d->head_want = 8;
	else if (!memcmp(d->head, magic_stored, 4))
		d->kind = K_STORED, d->head_want = 4;
	else
		return bad(d, "no block magic (bv41, bv4-, bv4$)");
	d->state = S_SIZES;
	return 0;
}

/* Take header bytes; returns how many it used. */
static size_t take_head(struct alz4_dec *d, const unsigned char *p, size_t len)
{
	size_t n = d->head_want - d->head_len < len ? d->head_want - d->head_len : len;
	memcpy(d->head + d->head_len, p, n);
	d->head_len += n;
	return n;
}

static void next_block(struct alz4_dec *d)
{
	d->state = S_MAGIC;
	d->head_want = 4;
}

/* Take body bytes, decoding in place when the whole body is there; returns how many it used or -1. */
static long long take_body(struct alz4_dec *d, const char *p, size_t len)
{
	if (d->in_len == 0 && len >= d->enc) {
		if (decode_block(d, p) < 0)
			return -1;
		next_block(d);
		return d->enc;
	}
	size_t n = d->enc - d->in_len < len ? d->enc - d->in_len : len;
	if (d->in_cap < d->enc) {
		d->in_cap = d->enc;
		d->in = xrealloc(d->in, d->in_cap);
	}
	memcpy(d->in + d->in_len, p, n);
	d->in_len += n;
	if (d->in_len == d->enc) {
		if (decode_block(d, d->in) < 0)
			return -1;
		next_block(d);
	}
	return (long long)n;
}

/* Take header bytes; -1 on a bad header. */
static long long take_header(struct alz4_dec *d, const unsigned char *p, size_t len)
{
	size_t n = take_head(d, p, len);
	if (d->head_len < d->head_want)
		return (long long)n;
	d->head_len = 0;
	if (d->state == S_MAGIC ? take_magic(d) < 0 : take_sizes(d) < 0)
		return -1;
	/* An empty block has no body to wait for. */
	if (d->state == S_BODY && d->enc == 0) {
		if (block_done(d, NULL, 0) < 0)
			return -1;
		next_block(d);
	}
	return (long long)n;
}

int alz4_dec_feed(struct alz4_dec *d, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		if (d->state == S_END)
			return bad(d, "data after the end marker");
		long long used = d->state == S_BODY ? take_body(d, (const char *)p, len) : take_header(d, p, len);
		if (used < 0)
			return -1;
		p += used;
		len -= (size_t)used;
		d->offset += (uint64_t)used;
	}
	return 0;
}

int alz4_dec_finish(struct alz4_dec *d)
{
	if (d->state != S_END)
		return bad(d, "the stream ends before its end marker");
	return 0;
}

size_t alz4_bound(size_t len)
{
	size_t blocks = (len + ALZ4_BLOCK - 1) / ALZ4_BLOCK;
	return blocks * (12 + (size_t)LZ4_compressBound((int)ALZ4_BLOCK)) + 4;
}

size_t alz4_encode(const void *in, size_t len, char *out)
{
	LZ4_stream_t *s = LZ4_createStream();
	if (!s)
		die(EX_OSERR, "out of memory");
	const char *src = in;
	size_t at = 0;
	for (size_t off = 0; off < len; off += ALZ4_BLOCK) {
		int n = (int)(len - off < ALZ4_BLOCK ? len - off : ALZ4_BLOCK);
		/* The input stays where it is, so the block before is there for the stream to refer to. */
		int got = LZ4_compress_fast_continue(s, src + off, out + at + 12, n, LZ4_compressBound(n), 1);
		if (got > 0 && got < n) {
			memcpy(out + at, magic_compressed, 4);
			put_le32(out + at + 4, (uint32_t)n);
			put_le32(out + at + 8, (uint32_t)got);
			at += 12 + (size_t)got;
		} else {
			memcpy(out + at, magic_stored, 4);
			put_le32(out + at + 4, (uint32_t)n);
			memcpy(out + at + 8, src + off, (size_t)n);
			at += 8 + (size_t)n;
		}
	}
	memcpy(out + at, magic_end, 4);
	LZ4_freeStream(s);
	return at + 4;
}
