/* payload: owned, moded files under a root folder, written atomically. */
#include "payload.h"
#include "atomic.h"
#include "digest.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct payload_item *add(struct payload *p, const char *path)
{
	/* A later item for the same path replaces the earlier one. */
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->items[i].path, path)) {
			buf_free(&p->items[i].data);
			return &p->items[i];
		}
	p->items = xrealloc(p->items, (p->n + 1) * sizeof *p->items);
	struct payload_item *it = &p->items[p->n++];
	memset(it, 0, sizeof *it);
	it->path = xstrdup(path);
	return it;
}

void payload_dir(struct payload *p, const char *path, unsigned uid, unsigned gid, unsigned mode)
{
	struct payload_item *it = add(p, path);
	*it = (struct payload_item){ it->path, BUF_ZERO, uid, gid, mode, true };
}

void payload_file(struct payload *p, const char *path, const void *data, size_t len, unsigned uid, unsigned gid,
		  unsigned mode)
{
	struct payload_item *it = add(p, path);
	*it = (struct payload_item){ it->path, BUF_ZERO, uid, gid, mode, false };
	buf_add(&it->data, data, len);
}

static int own(const char *full, const struct payload_item *it)
{
	/* Numeric ids: the guest's users are not this host's. */
	if (lchown(full, it->uid, it->gid) < 0)
		return fail_sys(errno == EPERM ? EX_NOPERM : EX_IOERR, "cannot chown '%s'", full);
	if (chmod(full, it->mode) < 0)
		return fail_sys(EX_IOERR, "cannot chmod '%s'", full);
	return 0;
}

static int write_item(const char *root, const struct payload_item *it)
{
	char *full = xasprintf("%s/%s", root, it->path);
	char *parent = xstrdup(full);
	*strrchr(parent, '/') = '\0';
	int rc = mkdir_p(parent, 0755);
	if (rc == 0 && it->dir) {
		if (mkdir(full, it->mode) < 0 && errno != EEXIST)
			rc = fail_sys(EX_CANTCREAT, "cannot create '%s'", full);
	} else if (rc == 0) {
		struct stat st;
		if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode))
			rc = fail(EX_DATAERR, "'%s' is a symbolic link in the guest; refusing to write through it", full);
		else
			rc = atomic_write(full, it->data.data ? it->data.data : "", it->data.len, it->mode);
	}
	if (rc == 0)
		rc = own(full, it);
	free(parent);
	free(full);
	return rc;
}

int payload_write(const struct payload *p, const char *root)
{
	for (size_t i = 0; i < p->n; i++)
		if (write_item(root, &p->items[i]) < 0)
			return -1;
	return 0;
}

json_t *payload_describe(const struct payload *p)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct payload_item *it = &p->items[i];
		char mode[8];
		snprintf(mode, sizeof mode, "%04o", it->mode);
		json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:s}", "path", it->path, "type", it->dir ? "dir" : "file", "uid",
				      (int)it->uid, "gid", (int)it->gid, "mode", mode);
		if (!it->dir) {
			char hex[DIGEST_HEX_MAX];
			digest_hex(DIGEST_SHA256, it->data.data ? it->data.data : "", it->data.len, hex);
			json_object_set_new(o, "sha256", json_string(hex));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

void payload_free(struct payload *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->items[i].data.data)
			secure_zero(p->items[i].data.data, p->items[i].data.len); /* kcpassword, private keys */
		buf_free(&p->items[i].data);
		free(p->items[i].path);
	}
	free(p->items);
	p->items = NULL;
	p->n = 0;
}
