/* bundle: open, lock, read and write NAME.clawbundle through one directory fd. */
#include "bundle.h"
#include "atomic.h"
#include "log.h"
#include "run.h"
#include "snapshot.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct bundle {
	char *path;
	char *name;
	int dirfd;
	int lockfd;
};

char *bundle_home(void)
{
	const char *h = getenv("CLAW_HOME");
	if (h && *h)
		return xstrdup(h);
	const char *home = getenv("HOME");
	return xasprintf("%s/ClawOS", home && *home ? home : ".");
}

char *bundle_vms_dir(void)
{
	char *home = bundle_home();
	char *vms = xasprintf("%s/VMs", home);
	free(home);
	return vms;
}

bool bundle_name_ok(const char *s)
{
	if (!isalnum((unsigned char)s[0]) || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!(isascii((unsigned char)*s) && (isalnum((unsigned char)*s) || strchr("._-", *s))))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_path(const char *s)
{
	return strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") || ends_with(s, BUNDLE_EXT) || ends_with(s, BUNDLE_EXT "/");
}

char *bundle_resolve(const char *arg)
{
	if (is_path(arg))
		return xstrdup(arg);
	char *vms = bundle_vms_dir();
	char *p = xasprintf("%s/%s%s", vms, arg, BUNDLE_EXT);
	free(vms);
	return p;
}

static char *name_of(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *start = path;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			start = path + i + 1;
	size_t len = (size_t)(path + n - start);
	size_t ext = strlen(BUNDLE_EXT);
	if (len > ext && strncmp(start + len - ext, BUNDLE_EXT, ext) == 0)
		len -= ext;
	return xstrndup(start, len);
}

/* The path without trailing slashes ends in .clawbundle. */
static bool named_as_bundle(const char *path)
{
	size_t n = strlen(path), m = strlen(BUNDLE_EXT);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return n > m && !strncmp(path + n - m, BUNDLE_EXT, m) && path[n - m - 1] != '/';
}

static int create_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		char *parent = xstrndup(path, (size_t)(slash - path));
		int rc = mkdir_p(parent, 0755);
		free(parent);
		if (rc < 0)
			return -1;
	}
	/* 0700: the disk holds the guest's password hash and its host keys' private halves. */
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return fail_sys(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create '%s'", path);
	return 0;
}

static bool has_regular(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* A bundle an earlier claw made: the name, and a file only claw writes there. */
static bool made_by_earlier_claw(int dirfd)
{
	return has_regular(dirfd, BUNDLE_LOCK) || has_regular(dirfd, BUNDLE_VMCONFIG) ||
	       has_regular(dirfd, BUNDLE_IPSW_JSON);
}

static bool dir_is_empty(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	rewinddir(d);
	bool empty = true;
	for (struct dirent *e; empty && (e = readdir(d));)
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

static int write_marker(int dirfd, const char *path)
{
	char text[32];
	int n = snprintf(text, sizeof text, "claw-bundle %d\n", BUNDLE_FORMAT);
	int fd = openat(dirfd, BUNDLE_MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST && has_regular(dirfd, BUNDLE_MARKER))
		return 0;
	if (fd < 0)
		return fail_sys(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot mark '%s' as a bundle", path);
	int rc = 0;
	if (write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0)
		rc = fail_sys(EX_IOERR, "cannot write '%s/%s'", path, BUNDLE_MARKER);
	if (close(fd) < 0 && rc == 0)
		rc = fail_sys(EX_IOERR, "cannot write '%s/%s'", path, BUNDLE_MARKER);
	if (rc == 0 && fsync(dirfd) < 0 && errno != EINVAL)
		rc = fail_sys(EX_IOERR, "cannot sync '%s'", path);
	return rc;
}

/* Is the directory a bundle, or may it become one? Refuses before anything is written. */
static int claim_dir(int dirfd, const char *arg, const char *path, bool create)
{
	if (has_regular(dirfd, BUNDLE_MARKER))
		return 0;
	if (made_by_earlier_claw(dirfd) || (create && dir_is_empty(dirfd)))
		return write_marker(dirfd, path);
	return fail(create ? EX_CANTCREAT : EX_NOINPUT,
		    "'%s' is not a claw bundle (no %s marker in it); claw writes only into bundles it made", arg,
		    BUNDLE_MARKER);
}

/* A rollback killed after its journal was written is finished before anyone reads the
 * bundle (under its lock, which the killed process no longer holds). */
static int finish_rollback(int dirfd, const char *path)
{
	struct stat st;
	bool journal = has_regular(dirfd, SNAPSHOT_JOURNAL);
	if (!journal && fstatat(dirfd, SNAPSHOT_STAGING, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	int lock = openat(dirfd, BUNDLE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lock < 0)
		return journal ? fail_sys(EX_IOERR, "cannot lock '%s' to finish its rollback", path) : 0;
	int rc = 0;
	if (journal) {
		/* A rewrite in place can take minutes: whoever waits for it is told why. */
		bool held = flock(lock, LOCK_EX | LOCK_NB) == 0;
		if (!held)
			warn("waiting for the rollback of '%s' to finish", path);
		while (!held && rc == 0) {
			if (flock(lock, LOCK_EX) == 0)
				held = true;
			else if (errno != EINTR)
				rc = fail_sys(EX_IOERR, "cannot lock '%s'", path);
		}
		if (rc == 0)
			rc = snapshot_finish(dirfd, path);
	} else if (flock(lock, LOCK_EX | LOCK_NB) == 0 && !has_regular(dirfd, SNAPSHOT_JOURNAL)) {
		/* Staged files with no journal, and no one at work: a rollback killed before it began.
		 * Its copies can be a whole disk's worth; they go (a busy bundle keeps them). */
		bundle_remove_tree_at(dirfd, SNAPSHOT_STAGING, path);
	}
	close(lock);
	return rc;
}

int bundle_open(const char *arg, int flags, struct bundle **out)
{
	bool create = flags & BUNDLE_CREATE;
	if (!*arg)
		return fail(EX_USAGE, "empty bundle name");
	if (!is_path(arg) && !bundle_name_ok(arg))
		return fail(EX_USAGE, "'%s' is not a bundle name (letters, digits, '.', '_', '-') or a path", arg);
	if (!named_as_bundle(arg) && is_path(arg))
		return fail(create ? EX_CANTCREAT : EX_NOINPUT, "'%s' is not a bundle: a bundle's name ends in %s", arg,
			    BUNDLE_EXT);
	char *path = bundle_resolve(arg);
	if (create && create_dir(path) < 0) {
		free(path);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			fail(EX_NOINPUT, "no bundle '%s' (looked for '%s')", arg, path);
		else if (errno == ENOTDIR)
			fail(create ? EX_CANTCREAT : EX_NOINPUT, "'%s' is not a bundle (not a directory)", path);
		else
			fail_sys(EX_NOINPUT, "cannot open bundle '%s'", path);
		free(path);
		return -1;
	}
	if (claim_dir(fd, arg, path, create) < 0 || finish_rollback(fd, path) < 0) {
		close(fd);
		free(path);
		return -1;
	}
	struct bundle *b = xcalloc(1, sizeof *b);
	b->path = path;
	b->name = name_of(path);
	b->dirfd = fd;
	b->lockfd = -1;
	*out = b;
	return 0;
}

void bundle_close(struct bundle *b)
{
	if (!b)
		return;
	if (b->lockfd >= 0)
		close(b->lockfd);
	close(b->dirfd);
	free(b->path);
	free(b->name);
	free(b);
}

const char *bundle_path(const struct bundle *b) { return b->path; }
const char *bundle_name(const struct bundle *b) { return b->name; }
int bundle_dirfd(const struct bundle *b) { return b->dirfd; }

char *bundle_file(const struct bundle *b, const char *name)
{
	return xasprintf("%s/%s", b->path, name);
}

bool bundle_has(const struct bundle *b, const char *name)
{
	struct stat st;
	return fstatat(b->dirfd, name, &st, 0) == 0;
}

static long lock_holder(int fd)
{
	char buf[32] = { 0 };
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int bundle_lock(struct bundle *b, bool wait)
{
	if (b->lockfd >= 0)
		return 0;
	int fd = openat(b->dirfd, BUNDLE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return fail_sys(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create '%s/%s'", b->path, BUNDLE_LOCK);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			fail_sys(EX_IOERR, "cannot lock '%s'", b->path);
			close(fd);
			return -1;
		}
		long pid = lock_holder(fd);
		if (!wait) {
			close(fd);
			return fail(EX_TEMPFAIL, "bundle '%s' is busy (pid %ld holds its lock)", b->name, pid);
		}
		info("waiting for bundle '%s' (pid %ld holds its lock)", b->name, pid);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				fail_sys(EX_IOERR, "cannot lock '%s'", b->path);
				close(fd);
				return -1;
			}
		}
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		fail_sys(EX_IOERR, "cannot write '%s/%s'", b->path, BUNDLE_LOCK);
		close(fd);
		return -1;
	}
	b->lockfd = fd;
	return 0;
}

void bundle_unlock(struct bundle *b)
{
	if (b->lockfd < 0)
		return;
	flock(b->lockfd, LOCK_UN);
	close(b->lockfd);
	b->lockfd = -1;
}

int bundle_mkdir(struct bundle *b, const char *name, mode_t mode)
{
	if (mkdirat(b->dirfd, name, mode) < 0 && errno != EEXIST)
		return fail_sys(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create '%s/%s'", b->path, name);
	/* A link in its place (a bundle someone handed over) would send claw's writes elsewhere. */
	struct stat st;
	if (fstatat(b->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return fail(EX_DATAERR, "'%s/%s' is not a folder (a symbolic link?); claw writes only into its own", b->path,
			    name);
	return 0;
}

/* Files in subdirectories (ssh/known_hosts) are written through that directory's fd. */
static int with_parent(struct bundle *b, const char *name, int *dfd, char **where, const char **base)
{
	const char *slash = strrchr(name, '/');
	if (!slash) {
		*dfd = b->dirfd;
		*where = xstrdup(b->path);
		*base = name;
		return 0;
	}
	char *sub = xstrndup(name, (size_t)(slash - name));
	if (bundle_mkdir(b, sub, 0700) < 0) {
		free(sub);
		return -1;
	}
	*dfd = openat(b->dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	*where = xasprintf("%s/%s", b->path, sub);
	free(sub);
	*base = slash + 1;
	if (*dfd < 0) {
		fail_sys(EX_CANTCREAT, "cannot open '%s'", *where);
		free(*where);
		return -1;
	}
	return 0;
}

int bundle_write(struct bundle *b, const char *name, const void *data, size_t len, mode_t mode)
{
	int dfd;
	char *where;
	const char *base;
	if (with_parent(b, name, &dfd, &where, &base) < 0)
		return -1;
	int rc = atomic_write_at(dfd, where, base, data, len, mode);
	if (dfd != b->dirfd)
		close(dfd);
	free(where);
	return rc;
}

int bundle_write_json(struct bundle *b, const char *name, json_t *obj, mode_t mode)
{
	char *text = json_dumps(obj, JSON_INDENT(2));
	if (!text)
		return fail(EX_SOFTWARE, "cannot encode '%s' as JSON", name);
	struct buf out = BUF_ZERO;
	buf_adds(&out, text);
	buf_adds(&out, "\n");
	free(text);
	int rc = bundle_write(b, name, out.data, out.len, mode);
	buf_free(&out);
	return rc;
}

int bundle_read_json(const struct bundle *b, const char *name, json_t **out)
{
	int fd = openat(b->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s/%s'", b->path, name);
	json_error_t je;
	json_t *j = json_loadfd(fd, 0, &je);
	close(fd);
	if (!j)
		return fail(EX_DATAERR, "'%s/%s' is not valid JSON (line %d: %s)", b->path, name, je.line, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return fail(EX_DATAERR, "'%s/%s' is not a JSON object", b->path, name);
	}
	*out = j;
	return 0;
}

int bundle_remove(struct bundle *b, const char *name)
{
	if (unlinkat(b->dirfd, name, 0) < 0 && errno != ENOENT)
		return fail_sys(EX_IOERR, "cannot remove '%s/%s'", b->path, name);
	return 0;
}

int bundle_symlink(struct bundle *b, const char *name, const char *target)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, ".%s.%ld", name, (long)getpid());
	unlinkat(b->dirfd, tmp, 0);
	if (symlinkat(target, b->dirfd, tmp) < 0)
		return fail_sys(EX_CANTCREAT, "cannot create '%s/%s'", b->path, name);
	if (renameat(b->dirfd, tmp, b->dirfd, name) < 0) {
		int e = errno;
		unlinkat(b->dirfd, tmp, 0);
		errno = e;
		return fail_sys(EX_CANTCREAT, "cannot create '%s/%s'", b->path, name);
	}
	if (fsync(b->dirfd) < 0 && errno != EINVAL)
		return fail_sys(EX_IOERR, "cannot sync '%s'", b->path);
	return 0;
}

static int read_stamp_key(const char *path, unsigned char key[BUNDLE_STAMP_KEY_LEN])
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : fail_sys(EX_NOINPUT, "cannot read '%s'", path);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = fail(EX_DATAERR, "'%s' is not a key file", path);
	else if (st.st_uid != geteuid() || (st.st_mode & 077))
		rc = fail(EX_NOPERM, "'%s' is readable by others or not yours; chmod 600 it", path);
	else if (pread_all(fd, key, BUNDLE_STAMP_KEY_LEN, 0) < 0 || st.st_size != BUNDLE_STAMP_KEY_LEN)
		rc = fail(EX_DATAERR, "'%s' does not hold a %d-byte key", path, BUNDLE_STAMP_KEY_LEN);
	close(fd);
	return rc;
}

/* A new key beside its name, linked into place: of two processes making it, one key wins. */
static int make_stamp_key(const char *home, const char *path)
{
	unsigned char key[BUNDLE_STAMP_KEY_LEN];
	char *tmp = xasprintf("%s/.%s.%ld", home, BUNDLE_STAMP_KEY, (long)getpid());
	int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	int rc = rnd < 0 || pread_all(rnd, key, sizeof key, 0) < 0 ? fail_sys(EX_OSERR, "cannot read /dev/urandom") : 0;
	if (rnd >= 0)
		close(rnd);
	int fd = rc == 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
	if (rc == 0 && fd < 0)
		rc = fail_sys(EX_CANTCREAT, "cannot create '%s'", tmp);
	if (rc == 0 && (write_all(fd, key, sizeof key) < 0 || fsync(fd) < 0))
		rc = fail_sys(EX_IOERR, "cannot write '%s'", tmp);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = fail_sys(EX_IOERR, "cannot write '%s'", tmp);
	if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST)
		rc = fail_sys(EX_CANTCREAT, "cannot create '%s'", path);
	unlink(tmp);
	secure_zero(key, sizeof key);
	free(tmp);
	return rc;
}

int bundle_stamp_key(unsigned char key[BUNDLE_STAMP_KEY_LEN])
{
	char *home = bundle_home(), *path = xasprintf("%s/%s", home, BUNDLE_STAMP_KEY);
	int rc = read_stamp_key(path, key);
	if (rc == 1) {
		rc = mkdir_p(home, 0700) < 0 || make_stamp_key(home, path) < 0 ? -1 : read_stamp_key(path, key);
		if (rc == 1)
			rc = fail(EX_CANTCREAT, "cannot create '%s'", path);
	}
	free(home);
	free(path);
	return rc;
}

static bool stage_ok(const char *stage)
{
	return bundle_name_ok(stage) && !strchr(stage, '.');
}

int bundle_stamp_get(const struct bundle *b, const char *stage, char *hex, size_t size)
{
	if (!stage_ok(stage))
		return fail(EX_USAGE, "'%s' is not a stage name", stage);
	char *name = xasprintf("%s/%s", BUNDLE_STAMPS_DIR, stage);
	int fd = openat(b->dirfd, name, O_RDONLY | O_CLOEXEC);
	free(name);
	if (fd < 0)
		return errno == ENOENT ? 1 : fail_sys(EX_IOERR, "cannot read the %s stamp in '%s'", stage, b->path);
	ssize_t n = read(fd, hex, size - 1);
	close(fd);
	if (n < 0)
		return fail_sys(EX_IOERR, "cannot read the %s stamp in '%s'", stage, b->path);
	hex[n] = '\0';
	hex[strcspn(hex, "\n")] = '\0';
	return 0;
}

int bundle_stamp_set(struct bundle *b, const char *stage, const char *hex)
{
	if (!stage_ok(stage))
		return fail(EX_USAGE, "'%s' is not a stage name", stage);
	char *name = xasprintf("%s/%s", BUNDLE_STAMPS_DIR, stage);
	char *line = xasprintf("%s\n", hex);
	/* 0600: a stamp digests inputs that include secrets. */
	int rc = bundle_write(b, name, line, strlen(line), 0600);
	free(line);
	free(name);
	return rc;
}

int bundle_stamp_clear(struct bundle *b, const char *stage)
{
	if (!stage_ok(stage))
		return fail(EX_USAGE, "'%s' is not a stage name", stage);
	char *name = xasprintf("%s/%s", BUNDLE_STAMPS_DIR, stage);
	int rc = bundle_remove(b, name);
	free(name);
	return rc;
}

int bundle_chown(const struct bundle *b, const char *name, uid_t uid, gid_t gid)
{
	if (fchownat(b->dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
		return fail_sys(EX_NOPERM, "cannot give '%s/%s' back to uid %ld", b->path, name, (long)uid);
	return 0;
}

/* ---- deletion -------------------------------------------------------------------- */

/* What the layout names (claw-bundle(7)); anything else in a bundle is someone's. */
static const char *const layout[] = {
	BUNDLE_CONFIG,       BUNDLE_IPSW_JSON,   BUNDLE_IPSW,          BUNDLE_DISK,          BUNDLE_AUX,
	BUNDLE_VMCONFIG,     BUNDLE_SSH_DIR,     BUNDLE_INJECT_JSON,   BUNDLE_RUN_DIR,       BUNDLE_BOOT_LOG,
	BUNDLE_SAVED_STATE,  BUNDLE_SAVED_STATE ".part", BUNDLE_SAVED_SHARES, BUNDLE_PROVISION_SH, BUNDLE_PROVISION_LOG,
	BUNDLE_PROVISION_JSON, BUNDLE_MANIFEST, BUNDLE_STAMPS_DIR,  BUNDLE_SNAPSHOTS_DIR, BUNDLE_IMAGE_JSON,
	BUNDLE_LOCK,         SNAPSHOT_JOURNAL,   SNAPSHOT_STAGING,     BUNDLE_PULL_DIR,
};

/* An atomic write's temporary file: ".NAME.PID.N" for a NAME of the layout. */
static bool is_layout_name(const char *name)
{
	for (size_t i = 0; i < sizeof layout / sizeof *layout; i++) {
		size_t n = strlen(layout[i]);
		if (!strcmp(name, layout[i]) || (name[0] == '.' && !strncmp(name + 1, layout[i], n) && name[n + 1] == '.'))
			return true;
	}
	return false;
}

/* Remove name under dirfd without following a link or crossing onto another file system. */
/* Which mount a file is on: its mount's id where the kernel tells (a bind mount of the same
 * file system has the same st_dev), else its device. */
static int mount_of(int dirfd, const char *name, uint64_t *id)
{
#ifdef STATX_MNT_ID
	struct statx sx;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID)) {
		*id = sx.stx_mnt_id;
		return 0;
	}
#endif
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	*id = (uint64_t)st.st_dev;
	return 0;
}

static int remove_tree_at(int parent, const char *name, uint64_t mount, const char *where)
{
	struct stat st;
	uint64_t here;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || mount_of(parent, name, &here) < 0)
		return errno == ENOENT ? 0 : fail_sys(EX_IOERR, "cannot read '%s/%s'", where, name);
	if (here != mount)
		return fail(EX_DATAERR, "'%s/%s' is on another file system (a mount?); not removing it", where, name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return fail_sys(EX_IOERR, "cannot remove '%s/%s'", where, name);
		return 0;
	}
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return fail_sys(EX_IOERR, "cannot open '%s/%s'", where, name);
	}
	char *sub = xasprintf("%s/%s", where, name);
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = remove_tree_at(dirfd(d), e->d_name, mount, sub);
	closedir(d);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = fail_sys(EX_IOERR, "cannot remove '%s'", sub);
	free(sub);
	return rc;
}

int bundle_remove_tree_at(int parent, const char *name, const char *where)
{
	uint64_t mount;
	if (mount_of(parent, ".", &mount) < 0)
		return fail_sys(EX_IOERR, "cannot read '%s'", where);
	return remove_tree_at(parent, name, mount, where);
}

static bool same_file(const struct stat *st, const char *path)
{
	struct stat other;
	return path && *path && stat(path, &other) == 0 && other.st_dev == st->st_dev && other.st_ino == st->st_ino;
}

/* Never a bundle, whatever it is named: the places bundles and users live. */
static const char *protected_place(const struct stat *st)
{
	char *home = bundle_home(), *vms = bundle_vms_dir();
	const char *which = same_file(st, "/")		? "/"
			    : same_file(st, getenv("HOME")) ? "$HOME"
			    : same_file(st, home)		? "$CLAW_HOME"
			    : same_file(st, vms)		? "$CLAW_HOME/VMs"
			    : same_file(st, ".")		? "the working directory"
							: NULL;
	free(home);
	free(vms);
	return which;
}

/* The bundle may go: nobody runs it (run/pid locked) and no stage holds its lock. */
static int check_idle(struct bundle *b)
{
	pid_t pid;
	int running = run_alive(b, &pid);
	if (running < 0)
		return -1;
	if (running)
		return fail(EX_TEMPFAIL, "'%s' is running (pid %ld); stop it first", b->name, (long)pid);
	return bundle_lock(b, false);
}

/* Every entry of the layout, then the marker and the directory; someone else's files stay. */
static int remove_contents(struct bundle *b, uint64_t mount, char **kept)
{
	int fd = dup(b->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return fail_sys(EX_IOERR, "cannot read '%s'", b->path);
	}
	struct buf others = BUF_ZERO;
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, BUNDLE_MARKER) ||
		    !strcmp(e->d_name, BUNDLE_LOCK))
			continue;
		if (is_layout_name(e->d_name))
			rc = remove_tree_at(b->dirfd, e->d_name, mount, b->path);
		else
			buf_addf(&others, "%s%s", others.len ? "\n" : "", e->d_name);
	}
	closedir(d);
	if (rc == 0 && others.len) {
		*kept = others.data;
		return fail(EX_DATAERR, "kept '%s': it holds files claw did not make (remove them, then rm again)",
			    b->path);
	}
	buf_free(&others);
	if (rc < 0)
		return -1;
	/* The lock goes before the marker: a bundle without its marker is no bundle to anyone. */
	if (unlinkat(b->dirfd, BUNDLE_LOCK, 0) < 0 && errno != ENOENT)
		return fail_sys(EX_IOERR, "cannot remove '%s/%s'", b->path, BUNDLE_LOCK);
	if (unlinkat(b->dirfd, BUNDLE_MARKER, 0) < 0)
		return fail_sys(EX_IOERR, "cannot remove '%s/%s'", b->path, BUNDLE_MARKER);
	if (rmdir(b->path) < 0)
		return fail_sys(EX_IOERR, "cannot remove '%s'", b->path);
	return 0;
}

int bundle_destroy(const char *arg, char **kept)
{
	*kept = NULL;
	if (!*arg)
		return fail(EX_USAGE, "empty bundle name");
	if (!is_path(arg) && !bundle_name_ok(arg))
		return fail(EX_USAGE, "'%s' is not a bundle name (letters, digits, '.', '_', '-') or a path", arg);
	if (is_path(arg) && !named_as_bundle(arg))
		return fail(EX_NOINPUT, "'%s' is not a bundle: a bundle's name ends in %s", arg, BUNDLE_EXT);
	char *path = bundle_resolve(arg);
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	struct stat st;
	int rc = 0;
	if (lstat(path, &st) < 0) {
		rc = errno == ENOENT ? fail(EX_NOINPUT, "no bundle '%s' (looked for '%s')", arg, path)
				     : fail_sys(EX_IOERR, "cannot read '%s'", path);
	} else if (S_ISLNK(st.st_mode)) {
		/* A link to a bundle is not the bundle: the link goes, what it points at stays. */
		if (unlink(path) < 0)
			rc = fail_sys(EX_IOERR, "cannot remove '%s'", path);
	} else if (!S_ISDIR(st.st_mode)) {
		rc = fail(EX_NOINPUT, "'%s' is not a bundle (not a directory)", path);
	} else if (protected_place(&st)) {
		rc = fail(EX_USAGE, "'%s' is %s, not a bundle; refusing to remove it", arg, protected_place(&st));
	} else {
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat now;
		if (fd < 0) {
			rc = fail_sys(EX_IOERR, "cannot open '%s'", path);
		} else if (fstat(fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
			close(fd);
			rc = fail(EX_TEMPFAIL, "'%s' changed while it was checked; try again", path);
		} else if (!has_regular(fd, BUNDLE_MARKER)) {
			close(fd);
			rc = fail(EX_NOINPUT,
				  "'%s' is not a claw bundle (no %s marker in it); claw rm deletes only bundles"
				  " ('claw ls' marks one an earlier claw made)",
				  arg, BUNDLE_MARKER);
		} else {
			struct bundle b = { path, name_of(path), fd, -1 };
			uint64_t mount;
			if (check_idle(&b) < 0)
				rc = -1;
			else if (mount_of(fd, ".", &mount) < 0)
				rc = fail_sys(EX_IOERR, "cannot read '%s'", path);
			else
				rc = remove_contents(&b, mount, kept);
			if (b.lockfd >= 0)
				close(b.lockfd);
			close(fd);
			free(b.name);
		}
	}
	free(path);
	return rc;
}
