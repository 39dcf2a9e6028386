/* payload: the files and folders a stage puts into a guest's tree, each with its
 * numeric owner and mode, and the files it takes away — checked before anything is
 * written (no symbolic link on the way, a volume that keeps owners), then written
 * under a root folder — files atomically, then owned, moded and read back — and
 * described for inject.json or a dry run: a secret file by path, owner and mode,
 * never by its digest. Never prints. */
#ifndef CLAW_PAYLOAD_H
#define CLAW_PAYLOAD_H

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

enum payload_kind { PAYLOAD_FILE, PAYLOAD_DIR, PAYLOAD_REMOVE };

struct payload_item {
	char *path; /* relative to the root */
	struct buf data;
	unsigned uid, gid, mode;
	enum payload_kind kind;
	bool secret; /* holds a password, its hash or a private key */
};

struct payload {
	struct payload_item *items;
	size_t n;
};

void payload_dir(struct payload *p, const char *path, unsigned uid, unsigned gid, unsigned mode);
void payload_file(struct payload *p, const char *path, const void *data, size_t len, unsigned uid, unsigned gid,
		  unsigned mode);
/* A file that holds a secret: written the same, described without a digest. */
void payload_secret(struct payload *p, const char *path, const void *data, size_t len, unsigned uid, unsigned gid,
		    unsigned mode);
/* Take away a file an earlier run wrote, if it is there (never through a link). */
void payload_remove(struct payload *p, const char *path);
/* The data a file item will hold, or NULL when there is none for path. */
const struct buf *payload_data(const struct payload *p, const char *path);
/* Before writing anything: every path is refused that goes through a symbolic link,
 * and a root whose volume does not keep the owners it is given (EX_IOERR). */
int payload_check(const struct payload *p, const char *root);
/* Write everything under root (parents that are missing are made root:wheel 0755);
 * every owner is read back after the chown. */
int payload_write(const struct payload *p, const char *root);
/* [{path, type, uid, gid, mode, sha256 | secret: true}] */
json_t *payload_describe(const struct payload *p);
void payload_free(struct payload *p);

#endif
