/* Unit tests for common/applelz4.c: Apple's LZ4 stream format, checked against its description
 * (libcompression's COMPRESSION_LZ4: "bv41" + decoded size + encoded size, both 32-bit
 * little-endian, then an LZ4 block; "bv4-" + size + the bytes; "bv4$" ends it; a block's
 * matches may reach 64 KiB back into the blocks before it). */
#include "applelz4.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#include <lz4.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sink {
	struct buf b;
	size_t calls;
	size_t stop_after; /* 0: never stop */
};

static int collect(const char *data, size_t len, void *arg)
{
	struct sink *s = arg;
	if (s->stop_after && s->calls == s->stop_after)
		return fail(EX_IOERR, "the sink is full");
	buf_add(&s->b, data, len);
	s->calls++;
	return 0;
}

static uint32_t le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static void put_le32(struct buf *b, uint32_t v)
{
	char x[4] = { (char)v, (char)(v >> 8), (char)(v >> 16), (char)(v >> 24) };
	buf_add(b, x, 4);
}

/* Decode a stream fed in pieces of step bytes (0: all at once); -1 when the decoder refuses it. */
static int decode(const char *s, size_t len, size_t step, struct sink *out)
{
	struct alz4_dec *d = alz4_dec_new(64 << 20, collect, out);
	int rc = 0;
	for (size_t at = 0; rc == 0 && at < len;) {
		size_t n = step && len - at > step ? step : len - at;
		rc = alz4_dec_feed(d, s + at, n);
		at += n;
	}
	if (rc == 0)
		rc = alz4_dec_finish(d);
	alz4_dec_free(d);
	return rc;
}

/* Data that compresses, with repeats that are only found across a 64 KiB block's edge:
 * random 4 KiB pieces, each said twice, the second time 6 KiB later. */
static char *test_data(size_t len)
{
	char *p = xmalloc(len);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p[i] = (char)x;
	}
	for (size_t at = 6144; at + 4096 <= len; at += 10240)
		memcpy(p + at, p + at - 6144, 4096);
	return p;
}

/* Walk a stream as the format describes it; returns the decoded size it declares, or -1. */
static long long walk(const char *s, size_t len, int *compressed, int *stored, int *linked)
{
	size_t at = 0;
	long long total = 0;
	*compressed = *stored = *linked = 0;
	while (at + 4 <= len) {
		if (!memcmp(s + at, "bv4$", 4))
			return at + 4 == len ? total : -1;
		if (!memcmp(s + at, "bv41", 4)) {
			uint32_t raw = le32(s + at + 4), enc = le32(s + at + 8);
			char *alone = xmalloc(raw ? raw : 1);
			/* A block that liblz4 cannot decode without what came before refers back into it. */
			if (LZ4_decompress_safe(s + at + 12, alone, (int)enc, (int)raw) != (int)raw)
				(*linked)++;
			free(alone);
			(*compressed)++;
			total += raw;
			at += 12 + enc;
		} else if (!memcmp(s + at, "bv4-", 4)) {
			uint32_t raw = le32(s + at + 4);
			(*stored)++;
			total += raw;
			at += 8 + raw;
		} else {
			return -1;
		}
	}
	return -1;
}

static void test_roundtrip(void)
{
	size_t len = 5 * ALZ4_BLOCK + 1234;
	char *data = test_data(len);
	char *enc = xmalloc(alz4_bound(len));
	size_t n = alz4_encode(data, len, enc);
	ok(n < len, "repeated data shrinks (%zu -> %zu)", len, n);
	int c, st, linked;
	is_int(walk(enc, n, &c, &st, &linked), (long long)len, "the blocks' declared sizes add up; bv4$ ends it");
	is_int(c + st, 6, "six blocks of at most 64 KiB");
	ok(c >= 5, "compressed where it shrinks: bv41");
	ok(linked >= 4, "blocks refer back into the block before them (%d of %d)", linked, c);
	size_t steps[] = { 0, 1, 7, 4096, 65536 + 13 };
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		struct sink s = { BUF_ZERO, 0, 0 };
		int rc = decode(enc, n, steps[i], &s);
		ok(rc == 0 && s.b.len == len && !memcmp(s.b.data, data, len), "decodes fed %zu bytes at a time", steps[i]);
		buf_free(&s.b);
	}
	free(enc);
	free(data);
}

static void test_random_is_stored(void)
{
	size_t len = 2 * ALZ4_BLOCK;
	char *data = xmalloc(len);
	uint32_t x = 88172645u;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = (char)(x >> 7);
	}
	char *enc = xmalloc(alz4_bound(len));
	size_t n = alz4_encode(data, len, enc);
	int c, st, linked;
	is_int(walk(enc, n, &c, &st, &linked), (long long)len, "random data: a well-formed stream");
	is_int(st, 2, "random data goes in bv4- blocks, stored as it is");
	is_int(n, len + 2 * 8 + 4, "and costs only the headers");
	struct sink s = { BUF_ZERO, 0, 0 };
	ok(decode(enc, n, 1000, &s) == 0 && s.b.len == len && !memcmp(s.b.data, data, len), "stored blocks decode");
	buf_free(&s.b);
	free(enc);
	free(data);
	char empty[8];
	is_int(alz4_encode("", 0, empty), 4, "nothing encodes as the end marker alone");
	ok(!memcmp(empty, "bv4$", 4), "which is bv4$");
}

/* A stream put together by hand from the description: a stored block, then a compressed
 * block whose match copies from the stored block (offset 17 from its first byte). */
static void hand_made(struct buf *b, uint32_t raw_claim)
{
	buf_adds(b, "bv4-");
	put_le32(b, 16);
	buf_adds(b, "HELLOWORLD123456");
	/* token 0x10: one literal, a match of 4; 'X'; offset 17 (LE). Then 16 literals to end on. */
	const char seq[] = { 0x10, 'X', 17, 0, (char)0xf0, 1, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
			     'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p' };
	buf_adds(b, "bv41");
	put_le32(b, raw_claim);
	put_le32(b, sizeof seq);
	buf_add(b, seq, sizeof seq);
	buf_adds(b, "bv4$");
}

static void test_hand_made(void)
{
	struct buf b = BUF_ZERO;
	hand_made(&b, 21);
	struct sink s = { BUF_ZERO, 0, 0 };
	int rc = decode(b.data, b.len, 3, &s);
	is_int(rc, 0, "a hand-made stream decodes");
	ok(s.b.len == 37 && !memcmp(s.b.data, "HELLOWORLD123456XHELLabcdefghijklmnop", 37),
	   "its match reaches back into the stored block before it");
	char alone[21];
	ok(LZ4_decompress_safe(b.data + 24 + 12, alone, 22, 21) < 0, "the compressed block alone does not decode");
	buf_free(&s.b);
	buf_free(&b);

	hand_made(&b, 30);
	s = (struct sink){ BUF_ZERO, 0, 0 };
	ok(decode(b.data, b.len, 0, &s) < 0 && fail_code() == EX_DATAERR, "a block that decodes to another size: 65");
	buf_free(&s.b);
	buf_free(&b);
}

static void refused(const char *what, const char *s, size_t len, const char *msg)
{
	struct sink k = { BUF_ZERO, 0, 0 };
	int rc = decode(s, len, 0, &k);
	ok(rc < 0 && fail_code() == EX_DATAERR && strstr(fail_msg(), msg), "%s: refused (%s)", what, fail_msg());
	buf_free(&k.b);
}

static void test_hostile(void)
{
	size_t len = 3 * ALZ4_BLOCK;
	char *data = test_data(len);
	char *enc = xmalloc(alz4_bound(len) + 16);
	size_t n = alz4_encode(data, len, enc);
	refused("empty", enc, 0, "before its end marker");
	refused("truncated in a header", enc, 6, "before its end marker");
	refused("truncated in a block", enc, 100, "before its end marker");
	refused("without its end marker", enc, n - 4, "before its end marker");
	memcpy(enc + n, "junk", 4);
	refused("data after the end", enc, n + 4, "after the end marker");
	refused("not a stream", "\x04\x22\x4d\x18 lz4 frame", 14, "no block magic");
	char save[16];
	memcpy(save, enc + 12, 16);
	memset(enc + 12, 0, 16); /* a match at offset 0, before anything */
	refused("a corrupt block", enc, n, "does not decode");
	memcpy(enc + 12, save, 16);

	struct buf b = BUF_ZERO;
	buf_adds(&b, "bv41");
	put_le32(&b, 100);
	put_le32(&b, 100000);
	refused("an encoded size no block needs", b.data, b.len, "larger than its data");
	buf_free(&b);
	buf_adds(&b, "bv4-");
	put_le32(&b, 0x7fffffff);
	refused("a block over the limit", b.data, b.len, "larger than allowed");
	buf_free(&b);

	struct sink k = { BUF_ZERO, 0, 2 };
	ok(decode(enc, n, 0, &k) < 0 && fail_code() == EX_IOERR, "the consumer's failure stops the decoder with its code");
	is_int(k.b.len, 2 * ALZ4_BLOCK, "after the blocks it took");
	buf_free(&k.b);
	free(enc);
	free(data);
}

/* Stored blocks, a whole 64 KiB one and a short one, then a compressed block whose match
 * reaches 1500 bytes back: across the short block into the whole one. Stored bytes are handed
 * on from where they lie; what the match finds is the window they leave. */
static void test_window_after_stored(void)
{
	size_t short_len[] = { 1000, 10 };
	for (size_t k = 0; k < 2; k++) {
		struct buf b = BUF_ZERO;
		char *whole = test_data(ALZ4_BLOCK), *part = test_data(short_len[k] + 7) + 7;
		buf_adds(&b, "bv4-");
		put_le32(&b, (uint32_t)ALZ4_BLOCK);
		buf_add(&b, whole, ALZ4_BLOCK);
		buf_adds(&b, "bv4-");
		put_le32(&b, (uint32_t)short_len[k]);
		buf_add(&b, part, short_len[k]);
		/* token 0x04: no literal, a match of 8 at offset 1500 (LE); then five literals. */
		const char seq[] = { 0x04, (char)(1500 & 0xff), (char)(1500 >> 8), 0x50, 'A', 'B', 'C', 'D', 'E' };
		buf_adds(&b, "bv41");
		put_le32(&b, 13);
		put_le32(&b, sizeof seq);
		buf_add(&b, seq, sizeof seq);
		buf_adds(&b, "bv4$");
		size_t before = ALZ4_BLOCK + short_len[k];
		char want[13];
		memcpy(want, whole + (before - 1500), 8); /* 1500 back: inside the whole block */
		memcpy(want + 8, "ABCDE", 5);
		size_t steps[] = { 0, 5 };
		for (size_t i = 0; i < 2; i++) {
			struct sink s = { BUF_ZERO, 0, 0 };
			int rc = decode(b.data, b.len, steps[i], &s);
			ok(rc == 0 && s.b.len == before + 13 && !memcmp(s.b.data + before, want, 13),
			   "after stored blocks of 64 KiB and %zu bytes, a match finds what lay 1500 bytes back (fed %zu at a time)",
			   short_len[k], steps[i]);
			buf_free(&s.b);
		}
		free(whole);
		free(part - 7);
		buf_free(&b);
	}
}

int main(void)
{
	log_init("test_applelz4");
	test_roundtrip();
	test_random_is_stored();
	test_hand_made();
	test_window_after_stored();
	test_hostile();
	return tap_done();
}
