/* payload: owned, moded files under a root folder, written atomically. */
#include "payload.h"
#include "atomic.h"
#include "digest.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
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

/* Numeric ids: the guest's users are not this host's. */
static int own_at(int dfd, const char *name, const char *full, const struct payload_item *it)
{
	if (fchownat(dfd, name, it->uid, it->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_sys(errno == EPERM ? EX_NOPERM : EX_IOERR, "cannot chown '%s'", full);
	if (fchmodat(dfd, name, it->mode, 0) < 0)
		return fail_sys(EX_IOERR, "cannot chmod '%s'", full);
	return 0;
}

static int refuse_link(const char *full)
{
	return fail(EX_DATAERR, "'%s' is a symbolic link in the guest; refusing to write through it", full);
}

/* The folder holding rel, opened one component at a time and never through a
 * symbolic link: a guest's absolute link would point into the host. Missing
 * folders are made (root:wheel 0755). */
static int open_parent(const char *root, const char *rel, int *out)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(EX_NOINPUT, "cannot open '%s'", root);
	char *path = xstrdup(rel), *save = NULL;
	char *slash = strrchr(path, '/');
	int rc = 0;
	if (slash) {
		*slash = '\0';
		for (char *c = strtok_r(path, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save)) {
			int next = -1;
			if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
				rc = fail_sys(EX_CANTCREAT, "cannot create '%s/%s'", root, rel);
			else if ((next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				rc = errno == ELOOP || errno == ENOTDIR
					     ? fail(EX_DATAERR, "'%s/%s' goes through a symbolic link in the guest; refusing to write through it",
						    root, rel)
					     : fail_sys(EX_IOERR, "cannot open '%s/%s'", root, rel);
			close(fd);
			fd = next;
		}
	}
	free(path);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*out = fd;
	return 0;
}

static int write_item(const char *root, const struct payload_item *it)
{
	char *full = xasprintf("%s/%s", root, it->path);
	const char *name = strrchr(it->path, '/') ? strrchr(it->path, '/') + 1 : it->path;
	int dfd = -1, rc;
	if (open_parent(root, it->path, &dfd) < 0) {
		free(full);
		return -1;
	}
	struct stat st;
	bool is_link = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	if (is_link)
		rc = refuse_link(full);
	else if (it->dir)
		rc = mkdirat(dfd, name, it->mode) < 0 && errno != EEXIST ? fail_sys(EX_CANTCREAT, "cannot create '%s'", full) : 0;
	else {
		char *where = xstrndup(full, (size_t)(name - it->path) + strlen(root));
		rc = atomic_write_at(dfd, where, name, it->data.data ? it->data.data : "", it->data.len, it->mode);
		free(where);
	}
	if (rc == 0)
		rc = own_at(dfd, name, full, it);
	close(dfd);
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
