/* tart: the layout tart gives a macOS VM in an OCI registry, so that claw pulls what tart
 * pushes and tart pulls what claw pushes. An OCI image manifest whose layers are, in order:
 * the VM config (application/vnd.cirruslabs.tart.config.v1, tart's config.json), the disk in
 * chunks (application/vnd.cirruslabs.tart.disk.v2, each an Apple LZ4 stream of at most
 * 512 MiB of disk, annotated with its uncompressed size and digest), and the auxiliary
 * storage (application/vnd.cirruslabs.tart.nvram.v1). Maps tart's config to claw's
 * config.json and back. Never prints; EX_DATAERR for anything else. */
#ifndef CLAW_TART_H
#define CLAW_TART_H

#include "oci.h"
#include "vmconfig.h"

#include <jansson.h>
#include <stdint.h>

#define TART_CONFIG_TYPE "application/vnd.cirruslabs.tart.config.v1"
#define TART_DISK_TYPE "application/vnd.cirruslabs.tart.disk.v2"
#define TART_DISK_V1_TYPE "application/vnd.cirruslabs.tart.disk.v1"
#define TART_NVRAM_TYPE "application/vnd.cirruslabs.tart.nvram.v1"
#define TART_UNCOMPRESSED_SIZE "org.cirruslabs.tart.uncompressed-size"
#define TART_UNCOMPRESSED_DIGEST "org.cirruslabs.tart.uncompressed-content-digest"
#define TART_DISK_SIZE "org.cirruslabs.tart.uncompressed-disk-size"
#define TART_UPLOAD_TIME "org.cirruslabs.tart.upload-time"
#define TART_DISK_FORMAT_LABEL "org.cirruslabs.tart.disk.format"
#define TART_CHUNK ((uint64_t)512 << 20)

struct tart_blob {
	char digest[OCI_DIGEST_MAX];
	uint64_t size;
};

struct tart_chunk {
	struct tart_blob blob;
	uint64_t offset, length;         /* where it goes in the disk */
	char raw_digest[OCI_DIGEST_MAX]; /* of those bytes */
};

struct tart_image {
	struct tart_blob config, nvram;
	struct tart_chunk *chunks;
	size_t nchunks;
	uint64_t disk_size, compressed_size;
};

/* Read a manifest as tart's layout: what is not one is refused, naming what is missing. */
int tart_image_parse(json_t *manifest, struct tart_image *out);
void tart_image_free(struct tart_image *img);

/* tart's config.json (bytes) as claw's vmconfig, for a disk of disk_size bytes. */
int tart_config_to_claw(const char *text, size_t len, uint64_t disk_size, struct vmconfig *out);
/* claw's config.json (as written, base64 kept as it is) as tart's (a new string). */
char *tart_config_from_claw(const struct vmconfig *c, json_t *claw_json);

/* tart's manifest for these blobs, and the stub OCI config registries want (new strings). */
char *tart_oci_config(const char *disk_format);
char *tart_manifest(const struct tart_blob *oci_config, const struct tart_image *img, const char *upload_time);

#endif
