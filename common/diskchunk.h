/* diskchunk: a VM disk cut in chunks the way tart cuts it — each chunk a run of the disk,
 * its SHA-256, and an Apple LZ4 stream of it. Unpacking writes a chunk at its offset and
 * leaves its zero runs as holes (punched where the file held something), so a pulled disk
 * stays sparse; packing reads a chunk and compresses it. Never prints; fail(): 65 a
 * stream or digest that is not what the manifest says, 73 no space, 74 I/O. */
#ifndef CLAW_DISKCHUNK_H
#define CLAW_DISKCHUNK_H

#include "oci.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Is [off, off+len) of fd the bytes whose digest is want ("sha256:...")? */
int diskchunk_matches(int fd, uint64_t off, uint64_t len, const char *want, bool *yes);

/* An Apple LZ4 stream decoded into fd at off as it comes: exactly len bytes, written as they
 * decode (a chunk is never held whole). dfd: the same file opened past the page cache
 * (open_uncached), for its whole blocks, or -1. fresh: the file holds only zeros there (made
 * by ftruncate), so zero runs need no hole punched. */
struct diskchunk_unpacker;
struct diskchunk_unpacker *diskchunk_unpacker_new(int fd, int dfd, uint64_t off, uint64_t len, bool fresh);
/* The next bytes of the stream (arg: the unpacker; the shape of transfer's sink). */
int diskchunk_feed(const char *buf, size_t len, void *arg);
/* The stream starts over from its first byte (transfer's sink_restart). */
void diskchunk_restart(void *arg);
/* The stream has ended: the rest written, the length and the digest (want, "sha256:...")
 * checked. */
int diskchunk_finish(struct diskchunk_unpacker *u, const char *want);
void diskchunk_unpacker_free(struct diskchunk_unpacker *u);

struct diskchunk_packed {
	char *data; /* the stream, malloc'd */
	size_t size;
	char digest[OCI_DIGEST_MAX];     /* of the stream */
	char raw_digest[OCI_DIGEST_MAX]; /* of the chunk */
};

/* Read [off, off+len) of fd and compress it. */
int diskchunk_pack(int fd, const char *path, uint64_t off, uint64_t len, struct diskchunk_packed *out);
void diskchunk_packed_free(struct diskchunk_packed *p);

#endif
