/* atomic: write-to-temporary-then-rename, with every step checked. */
#include "atomic.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_temp_at(int dirfd, const char *name, mode_t mode, char *tmp, size_t tmpsz)
{
	for (int tries = 0; tries < 100; tries++) {
		snprintf(tmp, tmpsz, ".%s.%ld.%d", name, (long)getpid(), rand() % 100000);
		int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

static int io_code(int e)
{
	return e == EACCES || e == EPERM ? EX_NOPERM : e == ENOSPC || e == EDQUOT ? EX_CANTCREAT : EX_IOERR;
}

int atomic_write_at(int dirfd, const char *where, const char *name,
		    const void *data, size_t len, mode_t mode)
{
	char tmp[512];
	int fd = open_temp_at(dirfd, name, mode, tmp, sizeof tmp);
	if (fd < 0)
		return fail_sys(io_code(errno), "cannot create '%s/%s'", where, name);
	/* The umask must not loosen or tighten what the caller asked for. */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return fail_sys(io_code(e), "cannot write '%s/%s'", where, name);
	}
	if (close(fd) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return fail_sys(io_code(e), "cannot write '%s/%s'", where, name);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return fail_sys(io_code(e), "cannot rename into '%s/%s'", where, name);
	}
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return fail_sys(EX_IOERR, "cannot sync '%s'", where);
	return 0;
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path))) : xstrdup(".");
	const char *name = slash ? slash + 1 : path;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fail_sys(errno == ENOENT ? EX_CANTCREAT : io_code(errno), "cannot open '%s'", dir);
		free(dir);
		return -1;
	}
	int rc = atomic_write_at(dfd, dir, name, data, len, mode);
	close(dfd);
	free(dir);
	return rc;
}
