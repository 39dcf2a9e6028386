/* cache: names, memos, free space, listing and pruning of downloaded IPSWs. */
#include "cache.h"
#include "atomic.h"
#include "bundle.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *cache_dir(const char *flag)
{
	if (flag)
		return xstrdup(flag);
	char *home = bundle_home();
	char *d = xasprintf("%s/Cache", home);
	free(home);
	return d;
}

static bool name_safe(const char *s)
{
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("._-,", *s)))
			return false;
	return true;
}

char *cache_name(json_t *rec)
{
	const char *v = json_string_value(json_object_get(rec, "version")),
		   *b = json_string_value(json_object_get(rec, "build"));
	if (v && b && name_safe(v) && name_safe(b))
		return xasprintf("restore-%s-%s.ipsw", v, b);
	const char *url = json_string_value(json_object_get(rec, "url"));
	const char *base = url ? strrchr(url, '/') : NULL;
	base = base ? base + 1 : "download";
	size_t n = strcspn(base, "?#");
	char *name = xstrndup(base, n);
	for (char *p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("._-,", *p)))
			*p = '_';
	if (!*name || name[0] == '.') {
		free(name);
		name = xstrdup("download.ipsw");
	}
	return name;
}

static char *memo_path(const char *path)
{
	return xasprintf("%s.digest", path);
}

static long long mtime_ns(const struct stat *st)
{
#ifdef __APPLE__
	return (long long)st->st_mtimespec.tv_sec * 1000000000LL + st->st_mtimespec.tv_nsec;
#else
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
#endif
}

bool cache_memo_get(const char *path, enum digest_alg alg, char hex[DIGEST_HEX_MAX])
{
	struct stat st;
	if (stat(path, &st) < 0)
		return false;
	char *mp = memo_path(path);
	json_t *m = json_load_file(mp, 0, NULL);
	free(mp);
	const char *h = json_string_value(json_object_get(m, digest_name(alg)));
	bool ok = m && h && strlen(h) == digest_hex_len(alg) &&
		  json_integer_value(json_object_get(m, "size")) == (json_int_t)st.st_size &&
		  json_integer_value(json_object_get(m, "mtime_ns")) == (json_int_t)mtime_ns(&st);
	if (ok)
		snprintf(hex, DIGEST_HEX_MAX, "%s", h);
	json_decref(m);
	return ok;
}

int cache_memo_put(const char *path, enum digest_alg alg, const char *hex, const char *url)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return fail_sys(EX_IOERR, "cannot stat '%s'", path);
	char *mp = memo_path(path);
	json_t *old = json_load_file(mp, 0, NULL);
	json_t *m = json_object();
	json_object_set_new(m, "size", json_integer((json_int_t)st.st_size));
	json_object_set_new(m, "mtime_ns", json_integer((json_int_t)mtime_ns(&st)));
	/* Keep the other digest if the file is the same one it was computed on. */
	enum digest_alg other = alg == DIGEST_SHA1 ? DIGEST_SHA256 : DIGEST_SHA1;
	if (json_integer_value(json_object_get(old, "size")) == (json_int_t)st.st_size &&
	    json_integer_value(json_object_get(old, "mtime_ns")) == (json_int_t)mtime_ns(&st) &&
	    json_object_get(old, digest_name(other)))
		json_object_set(m, digest_name(other), json_object_get(old, digest_name(other)));
	json_object_set_new(m, digest_name(alg), json_string(hex));
	if (url)
		json_object_set_new(m, "url", json_string(url));
	char *text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = atomic_write(mp, text, strlen(text), 0644);
	free(text);
	json_decref(m);
	json_decref(old);
	free(mp);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Which bundles' restore.ipsw point at each cached file: {realpath: [bundle, ...]}. */
static json_t *users(void)
{
	json_t *map = json_object();
	char *vms = bundle_vms_dir();
	DIR *d = opendir(vms);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!ends_with(e->d_name, BUNDLE_EXT))
			continue;
		char *link = xasprintf("%s/%s/%s", vms, e->d_name, BUNDLE_IPSW);
		char *target = realpath(link, NULL);
		if (target) {
			json_t *list = json_object_get(map, target);
			if (!list) {
				list = json_array();
				json_object_set_new(map, target, list);
			}
			json_array_append_new(list, json_stringn(e->d_name, strlen(e->d_name) - strlen(BUNDLE_EXT)));
			free(target);
		}
		free(link);
	}
	if (d)
		closedir(d);
	free(vms);
	return map;
}

static int open_cache(const char *dir, DIR **d)
{
	*d = opendir(dir);
	if (!*d && errno != ENOENT)
		return fail_sys(EX_IOERR, "cannot read '%s'", dir);
	return 0;
}

int cache_list(const char *dir, json_t **out)
{
	DIR *d;
	if (open_cache(dir, &d) < 0)
		return -1;
	json_t *arr = json_array(), *used = users();
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.' || !ends_with(e->d_name, ".ipsw"))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0) {
			json_t *it = json_pack("{s:s, s:I}", "name", e->d_name, "size", (json_int_t)st.st_size);
			char hex[DIGEST_HEX_MAX];
			if (cache_memo_get(path, DIGEST_SHA256, hex))
				json_object_set_new(it, "sha256", json_string(hex));
			if (cache_memo_get(path, DIGEST_SHA1, hex))
				json_object_set_new(it, "sha1", json_string(hex));
			char *real = realpath(path, NULL);
			json_t *u = real ? json_object_get(used, real) : NULL;
			json_object_set_new(it, "used_by", u ? json_incref(u) : json_array());
			free(real);
			json_array_append_new(arr, it);
		}
		free(path);
	}
	if (d)
		closedir(d);
	json_decref(used);
	*out = arr;
	return 0;
}

int cache_prune(const char *dir, json_t **removed)
{
	DIR *d;
	if (open_cache(dir, &d) < 0)
		return -1;
	json_t *gone = json_array(), *used = users();
	int rc = 0;
	for (struct dirent *e; d && (e = readdir(d)) && rc == 0;) {
		const char *n = e->d_name;
		bool partial = ends_with(n, ".part") || ends_with(n, ".part.state");
		bool ipsw = ends_with(n, ".ipsw") && n[0] != '.';
		if (!partial && !ipsw)
			continue;
		char *path = xasprintf("%s/%s", dir, n);
		char *real = realpath(path, NULL);
		if (partial || !real || !json_object_get(used, real)) {
			if (unlink(path) < 0)
				rc = fail_sys(EX_IOERR, "cannot remove '%s'", path);
			else
				json_array_append_new(gone, json_string(path));
			if (ipsw) {
				char *mp = memo_path(path);
				unlink(mp);
				free(mp);
			}
		}
		free(real);
		free(path);
	}
	if (d)
		closedir(d);
	json_decref(used);
	*removed = gone;
	return rc;
}

static char *lock_path;
static int lock_fd = -1;

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int cache_lock(const char *dest)
{
	char *path = xasprintf("%s.lock", dest);
	bool told = false;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fail_sys(EX_CANTCREAT, "cannot create '%s'", path);
			free(path);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (!told)
				info("waiting for another claw-fetch of '%s'", dest);
			told = true;
			if (flock(fd, LOCK_EX) < 0) { /* EINTR: a signal the caller acts on */
				fail_sys(EX_TEMPFAIL, "cannot lock '%s'", path);
				close(fd);
				free(path);
				return -1;
			}
		}
		if (same_file(fd, path)) {
			lock_path = path;
			lock_fd = fd;
			return fd;
		}
		close(fd); /* the holder finished and removed it: lock the one there now */
	}
}

void cache_unlock(void)
{
	if (lock_fd < 0)
		return;
	unlink(lock_path);
	close(lock_fd);
	free(lock_path);
	lock_fd = -1;
	lock_path = NULL;
}
