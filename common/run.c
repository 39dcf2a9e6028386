/* run: run/pid is opened in place (never renamed over) so its flock means
 * "alive"; a claimant that locked a file someone just unlinked retries. */
#include "run.h"
#include "bundle.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_CONSOLE "console.log"

static int claimed_fd = -1; /* one machine per process */

static pid_t pid_in(int fd)
{
	char buf[32] = { 0 };
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
	return pid > 0 ? (pid_t)pid : 0;
}

/* The lock is only good if the path still names the file we locked. */
static int still_linked(const struct bundle *b, int fd)
{
	struct stat a, p;
	return fstat(fd, &a) == 0 && fstatat(bundle_dirfd(b), BUNDLE_RUN_PID, &p, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_ino == p.st_ino && a.st_dev == p.st_dev;
}

int run_claim(struct bundle *b)
{
	if (claimed_fd >= 0)
		return 0;
	if (bundle_mkdir(b, BUNDLE_RUN_DIR, 0755) < 0)
		return -1;
	for (;;) {
		int fd = openat(bundle_dirfd(b), BUNDLE_RUN_PID, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return fail_sys(EX_CANTCREAT, "cannot create '%s/%s'", bundle_path(b), BUNDLE_RUN_PID);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			pid_t pid = pid_in(fd);
			close(fd);
			if (e == EWOULDBLOCK)
				return fail(EX_TEMPFAIL, "'%s' is already running (pid %ld)", bundle_name(b), (long)pid);
			errno = e;
			return fail_sys(EX_IOERR, "cannot lock '%s/%s'", bundle_path(b), BUNDLE_RUN_PID);
		}
		if (still_linked(b, fd)) {
			claimed_fd = fd;
			return run_set_pid(b, getpid());
		}
		close(fd); /* the last owner removed it between our open and lock */
	}
}

int run_set_pid(struct bundle *b, pid_t pid)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%ld\n", (long)pid);
	if (claimed_fd < 0 || ftruncate(claimed_fd, 0) < 0 || pwrite(claimed_fd, text, (size_t)n, 0) != n)
		return fail_sys(EX_IOERR, "cannot write '%s/%s'", bundle_path(b), BUNDLE_RUN_PID);
	return 0;
}

int run_alive(const struct bundle *b, pid_t *pid)
{
	*pid = 0;
	int fd = openat(bundle_dirfd(b), BUNDLE_RUN_PID, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (alive)
		*pid = pid_in(fd);
	close(fd);
	return alive;
}

int run_set_state(struct bundle *b, const char *state)
{
	char line[32];
	int n = snprintf(line, sizeof line, "%s\n", state);
	info("state: %s", state);
	return bundle_write(b, BUNDLE_RUN_STATE, line, (size_t)n, 0644);
}

void run_release(struct bundle *b)
{
	int dfd = openat(bundle_dirfd(b), BUNDLE_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d) {
		struct dirent *e;
		/* Files only, pid last: a claimant waits on its lock, not on a half-clean directory. */
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, RUN_CONSOLE) &&
			    strcmp(e->d_name, "pid"))
				unlinkat(dfd, e->d_name, 0);
		closedir(d);
	} else if (dfd >= 0) {
		close(dfd);
	}
	if (claimed_fd >= 0) {
		unlinkat(bundle_dirfd(b), BUNDLE_RUN_PID, 0);
		close(claimed_fd);
		claimed_fd = -1;
	}
}
