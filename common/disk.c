/* disk: RAW is ftruncate on a new file; ASIF has no API, only diskutil. */
#include "disk.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long major_of(const char *version)
{
	return version ? strtol(version, NULL, 10) : 0;
}

const char *disk_default_format(const char *host_version)
{
	return major_of(host_version) >= 26 ? "asif" : "raw";
}

bool disk_format_ok(const char *host_version, const char *format)
{
	return !strcmp(format, "raw") || (!strcmp(format, "asif") && major_of(host_version) >= 26);
}

static int create_raw(const char *path, uint64_t size)
{
	/* 0600: the disk will hold the guest's password hash and host private keys. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail_sys(EX_CANTCREAT, "cannot create '%s'", path);
	if (ftruncate(fd, (off_t)size) < 0) {
		fail_sys(errno == EFBIG || errno == ENOSPC ? EX_CANTCREAT : EX_IOERR, "cannot size '%s'", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0)
		return fail_sys(EX_IOERR, "cannot write '%s'", path);
	return 0;
}

/* diskutil reads sizes with binary suffixes; whole MiB are exact enough for a disk. */
static int create_asif(const char *path, uint64_t size)
{
	char sz[32];
	snprintf(sz, sizeof sz, "%lluM", (unsigned long long)(size >> 20));
	const char *argv[] = { "diskutil", "image", "create", "blank", "--fs", "none", "--format", "ASIF",
			       "--size", sz, path, NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	o.capture_out = true;
	struct spawn_result r;
	if (spawn_run(argv, &o, &r) < 0)
		return -1;
	int status = r.status;
	spawn_result_free(&r);
	if (status != 0)
		return fail(EX_CANTCREAT, "diskutil could not create the ASIF image '%s' (exit %d)", path, status);
	if (chmod(path, 0600) < 0)
		return fail_sys(EX_IOERR, "cannot chmod '%s'", path);
	return 0;
}

int disk_create(const char *path, const char *format, uint64_t size)
{
	size = (size + 511) / 512 * 512;
	return strcmp(format, "asif") ? create_raw(path, size) : create_asif(path, size);
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int disk_wait_released(const char *path, int timeout_ms)
{
	long long start = now_ms();
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail_sys(EX_NOINPUT, "cannot open '%s'", path);
		int got = flock(fd, LOCK_EX | LOCK_NB) == 0;
		close(fd);
		long long waited = now_ms() - start;
		if (got)
			return (int)waited;
		if (waited >= timeout_ms)
			return fail(EX_TEMPFAIL, "'%s' is still in use after %d s", path, timeout_ms / 1000);
		struct timespec t = { 0, 100 * 1000000L };
		nanosleep(&t, NULL);
	}
}
