/* util: allocation that cannot return NULL, byte buffers, small file helpers. */
#include "util.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static _Noreturn void out_of_memory(void)
{
	die(EX_OSERR, "out of memory");
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory();
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int file_read(const char *path, size_t max, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_sys(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s'", path);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_sys(EX_IOERR, "cannot read '%s'", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			close(fd);
			return fail(EX_DATAERR, "'%s' is larger than %zu bytes", path, max);
		}
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	if (!out->data)
		buf_add(out, "", 0);
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pwrite_all(int fd, const void *buf, size_t len, int64_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int pread_all(int fd, void *buf, size_t len, int64_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the file ended before the bytes it should hold */
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sh_safe(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("_./:,+@%=-", c));
}

char *sh_quote(const char *s)
{
	int safe = *s != '\0';
	for (const char *p = s; *p; p++)
		safe = safe && sh_safe((unsigned char)*p);
	if (safe)
		return xstrdup(s);
	struct buf b = BUF_ZERO;
	buf_adds(&b, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			buf_adds(&b, "'\\''");
		else
			buf_add(&b, p, 1);
	}
	buf_adds(&b, "'");
	return b.data;
}

void secure_zero(void *p, size_t n)
{
	/* A volatile pointer keeps the compiler from dropping a store to memory about to be freed. */
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Whose ~: run by sudo, the user who ran it (sudo resets HOME to root's), else $HOME. */
static const char *home_dir(void)
{
	const char *uid = getenv("SUDO_UID");
	uint64_t u;
	if (geteuid() == 0 && uid && parse_u64(uid, &u) == 0) {
		struct passwd *pw = getpwuid((uid_t)u);
		if (pw && pw->pw_dir && *pw->pw_dir)
			return pw->pw_dir;
	}
	return getenv("HOME");
}

char *path_expand(const char *path, const char *base_dir)
{
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		const char *home = home_dir();
		return xasprintf("%s%s", home ? home : "", path + 1);
	}
	if (path[0] == '/' || !base_dir || !*base_dir)
		return xstrdup(path);
	return xasprintf("%s/%s", base_dir, path);
}

void size_format(uint64_t bytes, int exact, char out[32])
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
	int u = 0;
	if (exact) {
		while (u < 4 && bytes && bytes % ((uint64_t)1 << (10 * (u + 1))) == 0)
			u++;
		snprintf(out, 32, "%llu%s", (unsigned long long)(bytes >> (10 * u)), units[u]);
		return;
	}
	while (u < 4 && bytes >= ((uint64_t)1 << (10 * (u + 1))))
		u++;
	double v = (double)bytes / (double)((uint64_t)1 << (10 * u));
	if (u == 0 || v >= 100 || v == (double)(uint64_t)v)
		snprintf(out, 32, "%.0f%s", v, units[u]);
	else
		snprintf(out, 32, "%.1f%s", v, units[u]);
}

int host_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int zero_range(int fd, int64_t off, int64_t len)
{
#if defined(__linux__) && defined(FALLOC_FL_PUNCH_HOLE)
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
#elif defined(F_PUNCHHOLE)
	struct fpunchhole args = { 0, 0, (off_t)off, (off_t)len };
	if (fcntl(fd, F_PUNCHHOLE, &args) == 0)
		return 0;
#endif
	static const char zeros[64 << 10];
	for (int64_t n; len > 0; off += n, len -= n) {
		n = len < (int64_t)sizeof zeros ? len : (int64_t)sizeof zeros;
		if (pwrite_all(fd, zeros, (size_t)n, off) < 0)
			return -1;
	}
	return 0;
}

#ifdef __linux__
void start_writeback(int fd, int64_t off, int64_t len)
{
	(void)sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
}
#else
void start_writeback(int fd, int64_t off, int64_t len)
{
	(void)fd, (void)off, (void)len;
}
#endif

int fsync_full(int fd)
{
#ifdef F_FULLFSYNC
	if (fcntl(fd, F_FULLFSYNC) == 0)
		return 0;
	/* Not every file system has it (network and FAT volumes): fsync is all there is. */
#endif
	return fsync(fd);
}

int open_uncached(int fd, const char *path)
{
#ifdef O_DIRECT
	int d = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
#elif defined(F_NOCACHE)
	int d = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (d >= 0 && fcntl(d, F_NOCACHE, 1) < 0) {
		close(d);
		d = -1;
	}
#else
	int d = -1;
#endif
	if (d < 0)
		return -1;
	/* Opened by its name: it must still be fd's file. */
	struct stat a, b;
	if (fstat(fd, &a) < 0 || fstat(d, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(d);
		return -1;
	}
	return d;
}

int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
	close(fd);
	return rc;
}

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			fail_sys(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create '%s'", p);
			free(p);
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return 0;
}

int free_space(const char *dir, int64_t *out)
{
	struct statvfs sv;
	if (statvfs(dir, &sv) < 0)
		return fail_sys(EX_IOERR, "cannot read the free space of '%s'", dir);
	*out = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	return 0;
}
