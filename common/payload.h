/* payload: the files and folders a stage puts into a guest's tree, each with its
 * numeric owner and mode, written under a root folder — files atomically, then
 * owned and moded — and described for inject.json or a dry run. Never prints. */
#ifndef CLAW_PAYLOAD_H
#define CLAW_PAYLOAD_H

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

struct payload_item {
	char *path; /* relative to the root */
	struct buf data;
	unsigned uid, gid, mode;
	bool dir;
};

struct payload {
	struct payload_item *items;
	size_t n;
};

void payload_dir(struct payload *p, const char *path, unsigned uid, unsigned gid, unsigned mode);
void payload_file(struct payload *p, const char *path, const void *data, size_t len, unsigned uid, unsigned gid,
		  unsigned mode);
/* Write everything under root (parents that are missing are made root:wheel 0755). */
int payload_write(const struct payload *p, const char *root);
/* [{path, type, uid, gid, mode, sha256}] */
json_t *payload_describe(const struct payload *p);
void payload_free(struct payload *p);

#endif
