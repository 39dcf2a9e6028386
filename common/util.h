/* util: memory that never comes back NULL, and small string and file helpers.
 * Running out of memory is the one failure common/ does not return: it prints
 * "prog: out of memory" and exits 71 (EX_OSERR), because no caller could do better. */
#ifndef CLAW_UTIL_H
#define CLAW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len, cap;
};
#define BUF_ZERO { NULL, 0, 0 }
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Read a whole file (at most max bytes; larger is an error EX_DATAERR). */
int file_read(const char *path, size_t max, struct buf *out);
/* Write all of buf to fd, retrying short writes and EINTR. */
int write_all(int fd, const void *buf, size_t len);
/* The same at an offset, with pwrite. */
int pwrite_all(int fd, const void *buf, size_t len, int64_t off);
/* pread until len bytes are read; a file that ends first is EIO. */
int pread_all(int fd, void *buf, size_t len, int64_t off);

/* A word a POSIX shell reads back as exactly s: s itself when every byte is safe, else single-quoted. */
char *sh_quote(const char *s);

/* Wipe a secret before its memory is freed. */
void secure_zero(void *p, size_t n);

/* Parse a decimal unsigned integer; all of s must be digits, no overflow. */
int parse_u64(const char *s, uint64_t *out);

/* "~/x" and "~" expand with $HOME (run by sudo, which resets HOME to root's: the home of the
 * user who ran it); relative paths are taken relative to base_dir (NULL: the current
 * directory). Returns a new string. */
char *path_expand(const char *path, const char *base_dir);

/* Bytes in the largest unit of 1024 that fits: "8GB", "1.5GB"; exact: only a unit that divides. */
void size_format(uint64_t bytes, int exact, char out[32]);

/* Host facts. */
int host_cpu_count(void);

/* Make [off, off+len) of fd read as zeros: a hole where the file system punches one
 * (fallocate on Linux, F_PUNCHHOLE on macOS), else zeros written. -1 with errno. */
int zero_range(int fd, int64_t off, int64_t len);

/* Ask the kernel to start writing [off, off+len) of fd to disk now, without
 * waiting, so a final fsync has little left to do. A no-op where unsupported. */
void start_writeback(int fd, int64_t off, int64_t len);

/* fsync, and on macOS past the drive's own cache too (F_FULLFSYNC): there fsync(2)
 * stops at the drive, which may lose what it holds at a power cut. */
int fsync_full(int fd);

/* A second descriptor for the file open as fd, writing to the disk past the page cache
 * (O_DIRECT; F_NOCACHE on macOS): offsets, lengths and buffers aligned to DIRECT_ALIGN.
 * -1 where the system or the file system has no such thing. */
#define DIRECT_ALIGN ((int64_t)4096)
int open_uncached(int fd, const char *path);

/* fsync a directory, so a rename in it survives a crash. */
int fsync_dir(const char *path);

/* Create a directory and its parents (mode for the ones it creates). */
int mkdir_p(const char *path, mode_t mode);

/* Bytes an unprivileged writer may still use on dir's file system. */
int free_space(const char *dir, int64_t *out);

#endif
