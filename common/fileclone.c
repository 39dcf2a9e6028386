/* fileclone: shared blocks where the file system has them, else a sparse copy. */
#include "fileclone.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/clonefile.h>
#elif defined(__linux__)
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif

#define COPY_CHUNK (8u << 20)

/* A regular file of ours, opened without waiting on a FIFO or following a link; -1 with
 * errno EINVAL for anything else (a device, a FIFO, a file linked from elsewhere: a second
 * name a bundle's owner gave to someone else's file is neither read into the bundle nor
 * written through). */
static int open_regular(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Why open_regular failed, as one line and an exit code. */
static int open_failed(const char *what, const char *where)
{
	if (errno == EINVAL)
		return fail(EX_DATAERR, "cannot %s '%s': not a regular file of its own; refusing it", what, where);
	return fail_sys(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot %s '%s'", what, where);
}

int64_t fileclone_allocated(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (int64_t)st.st_blocks * 512 : 0;
}

#if defined(__APPLE__)
/* APFS makes the clone itself, with src's mode; 1 when the volume cannot. */
static int clone_whole(int srcdir, const char *src, int dstdir, const char *dst, int srcfd, int *dstfd)
{
	(void)srcfd;
	if (clonefileat(srcdir, src, dstdir, dst, CLONE_NOFOLLOW) < 0)
		return errno == ENOTSUP || errno == EXDEV ? 1 : -1;
	*dstfd = openat(dstdir, dst, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	return *dstfd < 0 ? -1 : 0;
}
#else
/* A new file that shares src's blocks (FICLONE), or is left empty for a copy; 1 then. */
static int clone_whole(int srcdir, const char *src, int dstdir, const char *dst, int srcfd, int *dstfd)
{
	(void)srcdir, (void)src;
	struct stat st;
	if (fstat(srcfd, &st) < 0)
		return -1;
	*dstfd = openat(dstdir, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
	if (*dstfd < 0)
		return -1;
#ifdef FICLONE
	if (ioctl(*dstfd, FICLONE, srcfd) == 0)
		return 0;
#endif
	return 1;
}
#endif

/* Through our memory: what any system can do. */
static ssize_t copy_through(int in, int out, int64_t off, size_t len)
{
	static char buf[1 << 20];
	size_t n = len < sizeof buf ? len : sizeof buf;
	ssize_t r = pread(in, buf, n, (off_t)off);
	if (r <= 0)
		return r;
	return pwrite_all(out, buf, (size_t)r, off) < 0 ? -1 : r;
}

#if defined(__linux__)
/* In the kernel where it can (not across file systems on older kernels, nor on some). */
static ssize_t copy_range(int in, int out, int64_t off, size_t len)
{
	static bool unable;
	if (!unable) {
		off_t ioff = (off_t)off, ooff = (off_t)off;
		ssize_t n = copy_file_range(in, &ioff, out, &ooff, len, 0);
		if (n >= 0 || (errno != EXDEV && errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL))
			return n;
		unable = true;
	}
	return copy_through(in, out, off, len);
}
#else
static ssize_t copy_range(int in, int out, int64_t off, size_t len)
{
	return copy_through(in, out, off, len);
}
#endif

/* The next run of data at or after off, as [*start, *end); false when only a hole is left. */
static int next_data(int fd, int64_t off, int64_t size, int64_t *start, int64_t *end)
{
	if (off >= size)
		return 0;
	off_t data = lseek(fd, (off_t)off, SEEK_DATA);
	if (data < 0)
		return errno == ENXIO ? 0 : -1;
	if (data >= size)
		return 0;
	off_t hole = lseek(fd, data, SEEK_HOLE);
	if (hole < 0)
		return -1;
	*start = data;
	*end = hole < size ? hole : size;
	return 1;
}

/* Copy [off, end) of in to the same place in out. */
static int copy_run(int in, int out, int64_t off, int64_t end, const char *where)
{
	while (off < end) {
		size_t want = (size_t)(end - off) < COPY_CHUNK ? (size_t)(end - off) : COPY_CHUNK;
		ssize_t n = copy_range(in, out, off, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail_sys(n == 0 ? EX_IOERR : errno == ENOSPC ? EX_CANTCREAT : EX_IOERR, "cannot write '%s'", where);
		off += n;
	}
	return 0;
}

/* Only the data: holes stay holes, so a 64 GiB disk holding 2 GiB copies 2 GiB. */
static int copy_sparse(int in, int out, const char *where)
{
	struct stat st;
	if (fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0)
		return fail_sys(EX_IOERR, "cannot size '%s'", where);
	int64_t off = 0, start, end;
	int more;
	while ((more = next_data(in, off, st.st_size, &start, &end)) > 0) {
		if (copy_run(in, out, start, end, where) < 0)
			return -1;
		off = end;
	}
	return more < 0 ? fail_sys(EX_IOERR, "cannot read the file for '%s'", where) : 0;
}

int fileclone_room(int dstdir, int64_t need, const char *where)
{
	struct statvfs sv;
	if (fstatvfs(dstdir, &sv) < 0)
		return 0; /* cannot tell: the write will say */
	int64_t room = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	if (room < need)
		return fail(EX_CANTCREAT, "not enough room for '%s': it needs %lld MB, %lld MB are free", where,
			    (long long)(need >> 20), (long long)(room >> 20));
	return 0;
}

/* A copy's end, whatever it was: with src's mode (when set_mode), synced and closed if all went
 * well (rc 0), closed anyway. The first failure is rc. */
static int finish_out(int out, int rc, bool set_mode, mode_t mode, const char *where)
{
	if (rc == 0 && set_mode && fchmod(out, mode & 07777) < 0)
		rc = fail_sys(EX_IOERR, "cannot set the mode of '%s'", where);
	if (rc == 0 && fsync_full(out) < 0)
		rc = fail_sys(EX_IOERR, "cannot sync '%s'", where);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = fail_sys(EX_IOERR, "cannot write '%s'", where);
	return rc;
}

int fileclone_at(int srcdir, const char *src, int dstdir, const char *dst, const char *where, bool *shared)
{
	*shared = false;
	int in = open_regular(srcdir, src, O_RDONLY), out = -1;
	if (in < 0)
		return open_failed("read the file for", where);
	int rc = clone_whole(srcdir, src, dstdir, dst, in, &out);
	bool copied = rc == 1;
	struct stat st = { 0 };
	if (rc < 0) {
		rc = fail_sys(errno == EEXIST ? EX_CANTCREAT : EX_IOERR, "cannot create '%s'", where);
	} else if (rc == 0) {
		*shared = true;
	} else {
		if (out < 0)
			out = openat(dstdir, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		rc = out < 0 ? fail_sys(EX_CANTCREAT, "cannot create '%s'", where) : fstat(in, &st) < 0 ? -1 : 0;
		if (rc == 0)
			rc = fileclone_room(dstdir, (int64_t)st.st_blocks * 512, where);
		if (rc == 0)
			rc = copy_sparse(in, out, where);
	}
	bool made = out >= 0;
	rc = finish_out(out, rc, copied, st.st_mode, where);
	if (rc < 0 && made)
		unlinkat(dstdir, dst, 0);
	close(in);
	return rc;
}

int fileclone_share_at(int srcdir, const char *src, int dstdir, const char *dst, const char *where)
{
	int in = open_regular(srcdir, src, O_RDONLY), out = -1;
	if (in < 0)
		return open_failed("read the file for", where);
	int rc = clone_whole(srcdir, src, dstdir, dst, in, &out);
	if (rc < 0)
		rc = fail_sys(errno == EEXIST ? EX_CANTCREAT : EX_IOERR, "cannot create '%s'", where);
	bool made = out >= 0;
	rc = finish_out(out, rc, false, 0, where);
	if (rc != 0 && made)
		unlinkat(dstdir, dst, 0);
	close(in);
	return rc;
}

/* Call fn on each run where x holds data and y a hole, up to size. */
static int each_gap(int x, int y, int64_t size, int (*fn)(int64_t, int64_t, void *), void *arg, const char *where)
{
	int64_t off = 0, start, end, ys, ye;
	int more, in_y;
	while ((more = next_data(x, off, size, &start, &end)) > 0) {
		for (int64_t pos = start; pos < end; pos = in_y ? ye : end) {
			if ((in_y = next_data(y, pos, end, &ys, &ye)) < 0)
				return fail_sys(EX_IOERR, "cannot read the files for '%s'", where);
			int64_t stop = in_y ? ys : end;
			if (stop > pos && fn(pos, stop, arg) < 0)
				return -1;
		}
		off = end;
	}
	return more < 0 ? fail_sys(EX_IOERR, "cannot read the files for '%s'", where) : 0;
}

static int count_run(int64_t start, int64_t end, void *arg)
{
	*(int64_t *)arg += end - start;
	return 0;
}

int fileclone_over_check(int srcdir, const char *src, int dstdir, const char *dst, const char *where, int64_t *need)
{
	struct stat st;
	if (fstatat(dstdir, dst, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		return 1;
	int in = open_regular(srcdir, src, O_RDONLY), out = open_regular(dstdir, dst, O_RDONLY);
	int rc = in < 0 || out < 0 ? open_failed("read the files for", where) : 0;
	if (rc == 0 && fstat(in, &st) < 0)
		rc = fail_sys(EX_IOERR, "cannot read the files for '%s'", where);
	*need = 0;
	if (rc == 0)
		rc = each_gap(in, out, st.st_size, count_run, need, where);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

struct clearing {
	int fd;
	const char *where;
};

static int clear_run(int64_t start, int64_t end, void *arg)
{
	const struct clearing *c = arg;
	return zero_range(c->fd, start, end - start) < 0 ? fail_sys(EX_IOERR, "cannot write '%s'", c->where) : 0;
}

int fileclone_over(int srcdir, const char *src, int dstdir, const char *dst, const char *where)
{
	int in = open_regular(srcdir, src, O_RDONLY);
	if (in < 0)
		return open_failed("read the file for", where);
	int out = open_regular(dstdir, dst, O_WRONLY), rc = 0;
	struct stat st = { 0 };
	if (out < 0)
		rc = open_failed("rewrite", where);
	else if (fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0)
		rc = fail_sys(EX_IOERR, "cannot size '%s'", where);
	/* What dst holds over src's holes becomes a hole, then src's data goes over the rest:
	 * no block is freed or taken that both hold, and nothing else is read. */
	struct clearing c = { out, where };
	if (rc == 0)
		rc = each_gap(out, in, st.st_size, clear_run, &c, where);
	if (rc == 0)
		rc = copy_sparse(in, out, where);
	rc = finish_out(out, rc, true, st.st_mode, where);
	close(in);
	return rc;
}
