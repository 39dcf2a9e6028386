/* applelz4: Apple's LZ4 stream format (libcompression's COMPRESSION_LZ4), the one tart
 * stores disk layers in, over liblz4's block coder. A stream is a run of blocks, each
 * behind a 4-byte magic: "bv41" (decoded size, encoded size, both 32-bit little-endian,
 * then an LZ4 block whose matches may reach 64 KiB back into what came before it),
 * "bv4-" (size, then the bytes stored as they are), and "bv4$", the end, after which
 * nothing may follow. Never prints; fail() says what is wrong (EX_DATAERR). */
#ifndef CLAW_APPLELZ4_H
#define CLAW_APPLELZ4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALZ4_BLOCK ((size_t)64 << 10) /* what the encoder puts in a block */
#define ALZ4_WINDOW ((size_t)64 << 10) /* how far back a match may reach */

/* ---- decoding, fed in pieces of any size ---- */

struct alz4_dec; /* opaque */

/* Each decoded block is handed to out in order; out returns -1 (having called fail()) to stop.
 * A block that says it decodes to more than max_block bytes is refused. */
typedef int (*alz4_out_fn)(const char *data, size_t len, void *arg);
struct alz4_dec *alz4_dec_new(uint64_t max_block, alz4_out_fn out, void *arg);
/* Feed the next len bytes of the stream. -1 on a malformed stream or when out stopped. */
int alz4_dec_feed(struct alz4_dec *d, const void *data, size_t len);
/* The stream is over: -1 unless its end marker came. */
int alz4_dec_finish(struct alz4_dec *d);
/* Bytes decoded so far. */
uint64_t alz4_dec_total(const struct alz4_dec *d);
void alz4_dec_free(struct alz4_dec *d);

/* ---- encoding a buffer held in memory ---- */

/* The most alz4_encode can write for len bytes. */
size_t alz4_bound(size_t len);
/* len bytes of in as a stream into out (alz4_bound(len) bytes): ALZ4_BLOCK blocks, each
 * compressed with the block before it as dictionary, or stored when compressing would not
 * shrink it, then the end marker. Returns the stream's length. */
size_t alz4_encode(const void *in, size_t len, char *out);

#endif
