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
	*it = (struct payload_item){ it->path, BUF_ZERO, uid, gid, mode, PAYLOAD_DIR, false };
}

void payload_file(struct payload *p, const char *path, const void *data, size_t len, unsigned uid, unsigned gid,
		  unsigned mode)
{
	struct payload_item *it = add(p, path);
	*it = (struct payload_item){ it->path, BUF_ZERO, uid, gid, mode, PAYLOAD_FILE, false };
	buf_add(&it->data, data, len);
}

void payload_secret(struct payload *p, const char *path, const void *data, size_t len, unsigned uid, unsigned gid,
		    unsigned mode)
{
	struct payload_item *it = add(p, path);
	*it = (struct payload_item){ it->path, BUF_ZERO, uid, gid, mode, PAYLOAD_FILE, true };
	buf_add(&it->data, data, len);
}

void payload_remove(struct payload *p, const char *path)
{
	struct payload_item *it = add(p, path);
	*it = (struct payload_item){ it->path, BUF_ZERO, 0, 0, 0, PAYLOAD_REMOVE, false };
}

const struct buf *payload_data(const struct payload *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].kind == PAYLOAD_FILE && !strcmp(p->items[i].path, path))
			return &p->items[i].data;
	return NULL;
}

static int ownership_ignored(const char *full, const struct stat *st, unsigned uid, unsigned gid)
{
	return fail(EX_IOERR,
		    "'%s' is owned by %u:%u after a chown to %u:%u: the volume ignores ownership "
		    "(on macOS: diskutil enableOwnership on it); launchd and sshd refuse files owned so",
		    full, (unsigned)st->st_uid, (unsigned)st->st_gid, uid, gid);
}

/* Numeric ids: the guest's users are not this host's. The owner is read back: a volume
 * that ignores ownership says yes to the chown and keeps its own. */
static int own_at(int dfd, const char *name, const char *full, const struct payload_item *it)
{
	struct stat st;
	if (fchownat(dfd, name, it->uid, it->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_sys(errno == EPERM ? EX_NOPERM : EX_IOERR, "cannot chown '%s'", full);
	if (fchmodat(dfd, name, it->mode, 0) < 0)
		return fail_sys(EX_IOERR, "cannot chmod '%s'", full);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_sys(EX_IOERR, "cannot read back '%s'", full);
	if (st.st_uid != it->uid || st.st_gid != it->gid)
		return ownership_ignored(full, &st, it->uid, it->gid);
	if ((st.st_mode & 07777) != it->mode)
		return fail(EX_IOERR, "'%s' has mode %04o after a chmod to %04o", full, (unsigned)(st.st_mode & 07777),
			    it->mode);
	return 0;
}

static int refuse_link(const char *full)
{
	return fail(EX_DATAERR, "'%s' is a symbolic link in the guest; refusing to write through it", full);
}

/* The folder holding rel, opened one component at a time and never through a
 * symbolic link: a guest's absolute link would point into the host. Missing
 * folders are made (root:wheel 0755) when asked; else *out is -1 for a missing one. */
static int open_parent(const char *root, const char *rel, bool create, int *out)
{
	*out = -1;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(EX_NOINPUT, "cannot open '%s'", root);
	char *path = xstrdup(rel), *save = NULL;
	char *slash = strrchr(path, '/');
	int rc = 0;
	if (slash) {
		*slash = '\0';
		for (char *c = strtok_r(path, "/", &save); c && rc == 0 && fd >= 0; c = strtok_r(NULL, "/", &save)) {
			int next = -1;
			if (create && mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
				rc = fail_sys(EX_CANTCREAT, "cannot create '%s/%s'", root, rel);
			else if ((next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 &&
				 (create || errno != ENOENT))
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

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Nothing on the way to it is a link, nor the item itself (a link to be removed may be). */
static int check_item(const char *root, const struct payload_item *it)
{
	int dfd;
	if (open_parent(root, it->path, false, &dfd) < 0)
		return -1;
	if (dfd < 0)
		return 0;
	struct stat st;
	int rc = 0;
	if (it->kind != PAYLOAD_REMOVE && fstatat(dfd, base_of(it->path), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		char *full = xasprintf("%s/%s", root, it->path);
		rc = refuse_link(full);
		free(full);
	}
	close(dfd);
	return rc;
}

/* A file given the owner the payload needs, read back, and removed: a volume that
 * ignores ownership is found before the first file lands. */
static int probe_ownership(const char *root, unsigned uid, unsigned gid)
{
	char *probe = xasprintf("%s/.claw-owner-probe.%ld", root, (long)getpid());
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail_sys(EX_CANTCREAT, "cannot write into '%s'", root);
		free(probe);
		return -1;
	}
	struct stat st;
	int rc = 0;
	if (fchown(fd, uid, gid) < 0)
		rc = fail_sys(errno == EPERM ? EX_NOPERM : EX_IOERR, "cannot chown '%s'", probe);
	else if (fstat(fd, &st) < 0)
		rc = fail_sys(EX_IOERR, "cannot read back '%s'", probe);
	else if (st.st_uid != uid || st.st_gid != gid)
		rc = ownership_ignored(root, &st, uid, gid);
	close(fd);
	unlink(probe);
	free(probe);
	return rc;
}

int payload_check(const struct payload *p, const char *root)
{
	for (size_t i = 0; i < p->n; i++)
		if (check_item(root, &p->items[i]) < 0)
			return -1;
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].kind != PAYLOAD_REMOVE && p->items[i].uid != 0)
			return probe_ownership(root, p->items[i].uid, p->items[i].gid);
	return 0;
}

static int remove_item(const char *root, const struct payload_item *it)
{
	int dfd;
	if (open_parent(root, it->path, false, &dfd) < 0)
		return -1;
	if (dfd < 0)
		return 0;
	int rc = 0;
	struct stat st;
	const char *name = base_of(it->path);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) && unlinkat(dfd, name, 0) < 0) {
		char *full = xasprintf("%s/%s", root, it->path);
		rc = fail_sys(EX_IOERR, "cannot remove '%s'", full);
		free(full);
	}
	close(dfd);
	return rc;
}

static int write_item(const char *root, const struct payload_item *it)
{
	if (it->kind == PAYLOAD_REMOVE)
		return remove_item(root, it);
	char *full = xasprintf("%s/%s", root, it->path);
	const char *name = base_of(it->path);
	int dfd = -1, rc;
	if (open_parent(root, it->path, true, &dfd) < 0) {
		free(full);
		return -1;
	}
	struct stat st;
	bool is_link = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	if (is_link)
		rc = refuse_link(full);
	else if (it->kind == PAYLOAD_DIR)
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
	if (payload_check(p, root) < 0)
		return -1;
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
		if (it->kind == PAYLOAD_REMOVE) {
			json_array_append_new(arr, json_pack("{s:s, s:s}", "path", it->path, "type", "removed"));
			continue;
		}
		json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:s}", "path", it->path, "type",
				      it->kind == PAYLOAD_DIR ? "dir" : "file", "uid", (int)it->uid, "gid", (int)it->gid, "mode", mode);
		if (it->secret) {
			/* A digest of a short secret is the secret: a guess list finds it. */
			json_object_set_new(o, "secret", json_true());
		} else if (it->kind == PAYLOAD_FILE) {
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
