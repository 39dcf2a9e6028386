/* cache: names, memos, free space, listing and pruning of downloaded IPSWs. */
#include "cache.h"
#include "atomic.h"
#include "bundle.h"
#include "http.h"
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
	/* The path's last part: never the query, nor a user or password before the host. */
	char *name = url ? http_url_file_name(url) : NULL;
	if (!name)
		name = xstrdup("download");
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

int cache_memo_put(const char *path, const char *file, enum digest_alg alg, const char *hex, const char *url)
{
	struct stat st;
	if (stat(file ? file : path, &st) < 0)
		return fail_sys(EX_IOERR, "cannot stat '%s'", file ? file : path);
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

/* Is the JSON file at path one claw-fetch wrote: a memo (its digests, keyed by size and
 * mtime) or a .part's state (its URL)? */
static bool claw_record(const char *path, const char *key)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		return false;
	json_t *j = json_load_file(path, 0, NULL);
	bool ok = json_is_object(j) && json_object_get(j, key);
	json_decref(j);
	return ok;
}

static bool is_memo(const char *path)
{
	return claw_record(path, "mtime_ns");
}

bool cache_memo_exists(const char *path)
{
	char *mp = memo_path(path);
	bool ok = is_memo(mp);
	free(mp);
	return ok;
}

static bool is_state(const char *path)
{
	return claw_record(path, "url");
}

static bool regular(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* What claw-fetch made in dir, if anything: a file and the record beside it that says so. */
enum made { NOT_OURS, OUR_RECORD, OUR_IMAGE, OUR_PARTIAL, OUR_LEFTOVER };

static enum made made_by_us(const char *dir, const char *n)
{
	char *path = xasprintf("%s/%s", dir, n), *rec = NULL;
	enum made m = NOT_OURS;
	if (ends_with(n, ".ipsw")) {
		rec = memo_path(path);
		if (regular(path) && is_memo(rec)) {
			char hex[DIGEST_HEX_MAX];
			/* The memo must still describe the file: one changed since is no longer ours. */
			if (cache_memo_get(path, DIGEST_SHA256, hex) || cache_memo_get(path, DIGEST_SHA1, hex))
				m = OUR_IMAGE;
		}
	} else if (ends_with(n, ".part")) {
		rec = xasprintf("%s.state", path);
		m = regular(path) && is_state(rec) ? OUR_PARTIAL : NOT_OURS;
	} else if (ends_with(n, ".ipsw.digest")) {
		char *image = xstrndup(path, strlen(path) - strlen(".digest"));
		/* A memo goes with its image; alone, it is left over. */
		m = is_memo(path) ? (access(image, F_OK) == 0 ? OUR_RECORD : OUR_LEFTOVER) : NOT_OURS;
		free(image);
	} else if (ends_with(n, ".part.state")) {
		char *part = xstrndup(path, strlen(path) - strlen(".state"));
		m = is_state(path) ? (access(part, F_OK) == 0 ? OUR_RECORD : OUR_LEFTOVER) : NOT_OURS;
		free(part);
	} else if (ends_with(n, ".lock")) {
		struct stat st;
		/* A running fetch's, which removes it. */
		m = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 ? OUR_RECORD : NOT_OURS;
	}
	free(rec);
	free(path);
	return m;
}

/* Any memo or state of claw-fetch's in dir? */
static bool holds_ours(const char *dir)
{
	DIR *d = opendir(dir);
	bool found = false;
	for (struct dirent *e; d && !found && (e = readdir(d));) {
		char *path = xasprintf("%s/%s", dir, e->d_name);
		found = (ends_with(e->d_name, ".ipsw.digest") && is_memo(path)) ||
			(ends_with(e->d_name, ".part.state") && is_state(path));
		free(path);
	}
	if (d)
		closedir(d);
	return found;
}

static int remove_ours(const char *path, const char *suffix, json_t *gone)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return fail_sys(EX_IOERR, "cannot remove '%s'", path);
	json_array_append_new(gone, json_string(path));
	char *rec = xasprintf("%s%s", path, suffix);
	int rc = 0;
	if (*suffix && unlink(rec) < 0 && errno != ENOENT)
		rc = fail_sys(EX_IOERR, "cannot remove '%s'", rec);
	free(rec);
	return rc;
}

int cache_prune(const char *dir, bool default_cache, json_t **removed, json_t **kept)
{
	DIR *d;
	if (open_cache(dir, &d) < 0)
		return -1;
	*removed = json_array();
	*kept = json_array();
	if (d && !default_cache && !holds_ours(dir)) {
		closedir(d);
		return fail(EX_USAGE, "'%s' holds nothing claw-fetch made (no .digest memo, no .part.state): not a cache to prune",
			    dir);
	}
	json_t *used = users();
	int rc = 0;
	for (struct dirent *e; d && (e = readdir(d)) && rc == 0;) {
		const char *n = e->d_name;
		struct stat st;
		char *path = xasprintf("%s/%s", dir, n);
		if (!strcmp(n, ".") || !strcmp(n, "..") || lstat(path, &st) < 0) { /* gone with what it went with */
			free(path);
			continue;
		}
		char *real = realpath(path, NULL);
		switch (made_by_us(dir, n)) {
		case OUR_IMAGE:
			if (!real || !json_object_get(used, real))
				rc = remove_ours(path, ".digest", *removed);
			break;
		case OUR_PARTIAL:
			rc = remove_ours(path, ".state", *removed);
			break;
		case OUR_LEFTOVER:
			rc = remove_ours(path, "", *removed);
			break;
		case OUR_RECORD:
			break; /* goes, or stays, with what it describes */
		case NOT_OURS:
			json_array_append_new(*kept, json_string(path));
			break;
		}
		free(real);
		free(path);
	}
	if (d)
		closedir(d);
	json_decref(used);
	return rc;
}

static char *lock_path;
static int lock_fd = -1;

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* A lock file is claw-fetch's when it is empty and regular: another file of that name is
 * not to be taken, nor removed at the end. */
static bool lock_ours(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

int cache_lock(const char *dest)
{
	char *path = xasprintf("%s.lock", dest);
	bool told = false;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
		if (fd < 0 || !lock_ours(fd)) {
			if (fd < 0)
				fail_sys(EX_CANTCREAT, "cannot create '%s'", path);
			else
				fail(EX_CANTCREAT, "'%s' is there and is not claw-fetch's lock; move it away", path);
			if (fd >= 0)
				close(fd);
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
	char *path = lock_path;
	lock_path = NULL; /* first: a signal's handler may look */
	unlink(path);
	close(lock_fd);
	free(path);
	lock_fd = -1;
}

void cache_unlock_now(void)
{
	const char *path = lock_path;
	if (path)
		unlink(path);
}
