/* snapshot: take, list, roll back to and remove snapshots/TAG/ in a bundle. */
#include "snapshot.h"
#include "atomic.h"
#include "bundle.h"
#include "fileclone.h"
#include "log.h"
#include "run.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A machine's state: what a snapshot holds, and what a rollback replaces or removes. The
 * stamps in .stamps/ belong to it too, whichever there are. */
static const char *const state_files[] = {
	BUNDLE_DISK,	   BUNDLE_AUX,		BUNDLE_VMCONFIG,      BUNDLE_SAVED_STATE, BUNDLE_IPSW_JSON, BUNDLE_INJECT_JSON,
	BUNDLE_SAVED_SHARES, BUNDLE_KNOWN_HOSTS, BUNDLE_PROVISION_SH, BUNDLE_PROVISION_LOG, BUNDLE_PROVISION_JSON, BUNDLE_MANIFEST,
};
#define NSTATE (sizeof state_files / sizeof *state_files)

bool snapshot_tag_ok(const char *tag)
{
	return bundle_name_ok(tag);
}

/* A name a snapshot or a journal may hold: one of the state files, or a stamp. Anything else
 * (an absolute path, a '..') in a bundle someone handed over is not claw's to touch. */
static bool state_name_ok(const char *rel)
{
	for (size_t i = 0; i < NSTATE; i++)
		if (!strcmp(rel, state_files[i]))
			return true;
	size_t n = strlen(BUNDLE_STAMPS_DIR);
	return !strncmp(rel, BUNDLE_STAMPS_DIR "/", n + 1) && bundle_name_ok(rel + n + 1) && !strchr(rel + n + 1, '/');
}

static int check_names(json_t *names, const char *what)
{
	size_t i;
	json_t *v;
	if (!json_is_array(names))
		return fail(EX_DATAERR, "%s has no list of files", what);
	json_array_foreach(names, i, v)
		if (!json_is_string(v) || !state_name_ok(json_string_value(v)))
			return fail(EX_DATAERR, "%s names '%s', not a file of a machine's state; refusing it",
				    what, json_is_string(v) ? json_string_value(v) : "?");
	return 0;
}

/* The folder rel lies in (dirfd itself, or a subfolder made if need be, never through a
 * symbolic link), and rel's last part in *base. -1 on failure. */
static int open_parent(int dirfd, const char *rel, bool make, const char **base)
{
	const char *slash = strchr(rel, '/');
	*base = slash ? slash + 1 : rel;
	if (!slash)
		return dup(dirfd);
	char *sub = xstrndup(rel, (size_t)(slash - rel));
	if (make && mkdirat(dirfd, sub, 0700) < 0 && errno != EEXIST) {
		free(sub);
		return -1;
	}
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(sub);
	return fd;
}

static bool is_regular_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static int open_dir_at(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The regular files in dirfd/sub (the stamps), each "sub/NAME". */
static json_t *files_in(int dirfd, const char *sub)
{
	json_t *names = json_array();
	int fd = open_dir_at(dirfd, sub);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return names;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue; /* a stamp's temporary, or . and .. */
		char *rel = xasprintf("%s/%s", sub, e->d_name);
		if (is_regular_at(dirfd, rel))
			json_array_append_new(names, json_string(rel));
		free(rel);
	}
	closedir(d);
	return names;
}

/* What of the state dirfd holds, as paths relative to it. */
static json_t *state_in(int dirfd)
{
	json_t *names = json_array();
	for (size_t i = 0; i < NSTATE; i++)
		if (is_regular_at(dirfd, state_files[i]))
			json_array_append_new(names, json_string(state_files[i]));
	json_t *stamps = files_in(dirfd, BUNDLE_STAMPS_DIR);
	json_array_extend(names, stamps);
	json_decref(stamps);
	return names;
}

static int mkdir_at(int dirfd, const char *name, const char *where)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return fail_sys(EX_CANTCREAT, "cannot create '%s/%s'", where, name);
	return 0;
}

static int sync_at(int dirfd, const char *name)
{
	int fd = open_dir_at(dirfd, name);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	int rc = fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
	close(fd);
	return rc;
}

/* A folder of state files, and the subfolders they can lie in, synced. */
static int sync_folders(int dirfd, const char *where)
{
	if (sync_at(dirfd, "ssh") < 0 || sync_at(dirfd, BUNDLE_STAMPS_DIR) < 0 || fsync(dirfd) < 0)
		return fail_sys(EX_IOERR, "cannot sync '%s'", where);
	return 0;
}

/* op(from's folder, its name, to's folder, its name, what to call it) on each relative path,
 * to's subfolder made first; the first failure stops it. */
static int each_pair(int from, int to, json_t *names, const char *where,
		     int (*op)(int, const char *, int, const char *, const char *))
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		const char *rel = json_string_value(v), *src, *dst;
		char *what = xasprintf("%s/%s", where, rel);
		int in = open_parent(from, rel, false, &src), out = open_parent(to, rel, true, &dst), rc;
		if (in < 0 || out < 0)
			rc = fail_sys(EX_IOERR, "cannot open the folder of '%s' (a symbolic link?)", what);
		else
			rc = op(in, src, out, dst, what);
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		free(what);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int copy_one(int srcdir, const char *src, int dstdir, const char *dst, const char *what)
{
	bool shared;
	return fileclone_at(srcdir, src, dstdir, dst, what, &shared);
}

/* Copy each relative path from one folder to another. */
static int copy_files(int from, int to, json_t *names, const char *where)
{
	return each_pair(from, to, names, where, copy_one) < 0 ? -1 : sync_folders(to, where);
}

static int check_stopped(struct bundle *b)
{
	pid_t pid;
	int running = run_alive(b, &pid);
	if (running < 0)
		return -1;
	if (running)
		return fail(EX_TEMPFAIL, "'%s' is running (pid %ld); stop or suspend it first", bundle_name(b), (long)pid);
	return 0;
}

/* Leftovers of a killed take or remove: dot-folders under snapshots/ (we hold the lock). */
static void sweep(int snaps, const char *where)
{
	int fd = dup(snaps);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d); /* a dup shares its offset with the descriptor it came from */
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			bundle_remove_tree_at(snaps, e->d_name, where);
	closedir(d);
}

static char *snaps_path(const struct bundle *b)
{
	return bundle_file(b, BUNDLE_SNAPSHOTS_DIR);
}

static int open_snaps(struct bundle *b, bool create)
{
	if (create && bundle_mkdir(b, BUNDLE_SNAPSHOTS_DIR, 0700) < 0)
		return -1;
	int fd = open_dir_at(bundle_dirfd(b), BUNDLE_SNAPSHOTS_DIR);
	if (fd < 0 && (create || errno != ENOENT))
		return fail_sys(EX_IOERR, "cannot open '%s/%s'", bundle_path(b), BUNDLE_SNAPSHOTS_DIR);
	return fd;
}

static char *default_tag(void)
{
	char tag[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(tag, sizeof tag, "%Y%m%d-%H%M%S", &tm);
	return xstrdup(tag);
}

static int write_meta(int dirfd, const char *where, const char *tag, const char *state, json_t *files)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *meta = json_pack("{s:s, s:s, s:s, s:O}", "tag", tag, "created", when, "state", state, "files", files);
	char *text = json_dumps(meta, JSON_INDENT(2));
	json_decref(meta);
	int rc = atomic_write_at(dirfd, where, SNAPSHOT_META, text, strlen(text), 0600);
	free(text);
	return rc;
}

int snapshot_take(struct bundle *b, const char *tag_arg, char **made)
{
	*made = NULL;
	char *tag = tag_arg ? xstrdup(tag_arg) : default_tag();
	if (!snapshot_tag_ok(tag)) {
		int rc = fail(EX_USAGE, "'%s' is not a snapshot tag (letters, digits, '.', '_', '-')", tag);
		free(tag);
		return rc;
	}
	if (check_stopped(b) < 0 || (!bundle_has(b, BUNDLE_VMCONFIG) &&
				      fail(EX_NOINPUT, "'%s' is not restored yet: nothing to snapshot", bundle_name(b)) < 0)) {
		free(tag);
		return -1;
	}
	char *where = snaps_path(b);
	int snaps = open_snaps(b, true), tmp = -1, rc = snaps < 0 ? -1 : 0;
	char *tmpname = xasprintf(".%s.%ld", tag, (long)getpid());
	struct stat st;
	if (rc == 0) {
		sweep(snaps, where);
		if (fstatat(snaps, tag, &st, AT_SYMLINK_NOFOLLOW) == 0)
			rc = fail(EX_CANTCREAT, "'%s' already has a snapshot '%s'", bundle_name(b), tag);
	}
	if (rc == 0 && (rc = mkdir_at(snaps, tmpname, where)) == 0 && (tmp = open_dir_at(snaps, tmpname)) < 0)
		rc = fail_sys(EX_IOERR, "cannot open '%s/%s'", where, tmpname);
	json_t *files = state_in(bundle_dirfd(b));
	const char *state = bundle_has(b, BUNDLE_SAVED_STATE) ? "suspended" : "stopped";
	char *named = xasprintf("%s/%s", where, tag);
	if (rc == 0)
		rc = copy_files(bundle_dirfd(b), tmp, files, named);
	free(named);
	if (rc == 0)
		rc = write_meta(tmp, where, tag, state, files);
	/* Finished, it gets its name at once: a killed take leaves only a dot-folder to sweep. */
	if (rc == 0 && (renameat(snaps, tmpname, snaps, tag) < 0 || fsync(snaps) < 0))
		rc = fail_sys(EX_IOERR, "cannot name the snapshot '%s/%s'", where, tag);
	if (rc < 0 && snaps >= 0)
		bundle_remove_tree_at(snaps, tmpname, where);
	json_decref(files);
	if (tmp >= 0)
		close(tmp);
	if (snaps >= 0)
		close(snaps);
	free(tmpname);
	free(where);
	if (rc == 0)
		*made = tag;
	else
		free(tag);
	return rc;
}

static int by_created(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "created")), json_string_value(json_object_get(y, "created")));
	return c ? c : strcmp(json_string_value(json_object_get(x, "tag")), json_string_value(json_object_get(y, "tag")));
}

static json_t *describe(int snaps, const char *tag)
{
	int fd = open_dir_at(snaps, tag);
	if (fd < 0)
		return NULL;
	json_error_t je;
	int mfd = openat(fd, SNAPSHOT_META, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	json_t *meta = mfd >= 0 ? json_loadfd(mfd, 0, &je) : NULL;
	if (mfd >= 0)
		close(mfd);
	json_t *row = NULL;
	if (json_is_object(meta) && json_is_string(json_object_get(meta, "created"))) {
		int64_t bytes = 0;
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(meta, "files"), i, v)
			if (json_is_string(v))
				bytes += fileclone_allocated(fd, json_string_value(v));
		row = json_pack("{s:s, s:O, s:O, s:I}", "tag", tag, "created", json_object_get(meta, "created"), "state",
				json_object_get(meta, "state"), "bytes", (json_int_t)bytes);
	}
	json_decref(meta);
	close(fd);
	return row;
}

int snapshot_list(struct bundle *b, json_t **out)
{
	json_t *rows = json_array();
	*out = rows;
	int snaps = open_snaps(b, false);
	if (snaps < 0)
		return errno == ENOENT ? 0 : -1;
	char *where = snaps_path(b);
	sweep(snaps, where);
	free(where);
	DIR *d = fdopendir(snaps);
	if (!d) {
		close(snaps);
		return fail_sys(EX_IOERR, "cannot read '%s/%s'", bundle_path(b), BUNDLE_SNAPSHOTS_DIR);
	}
	size_t n = 0, cap = 0;
	json_t **all = NULL;
	rewinddir(d);
	for (struct dirent *e; (e = readdir(d));) {
		json_t *row = e->d_name[0] == '.' ? NULL : describe(dirfd(d), e->d_name);
		if (!row)
			continue;
		if (n == cap)
			all = xrealloc(all, (cap = cap ? 2 * cap : 8) * sizeof *all);
		all[n++] = row;
	}
	closedir(d);
	qsort(all, n, sizeof *all, by_created);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, all[i]);
	free(all);
	return 0;
}

/* ---- rollback: staged, journaled, then moved in --------------------------------- */

/* Each file of the snapshot made ready: its blocks shared into staging where the file system
 * can (listed in staged); else, when the machine has the file, rewritten in place once the
 * journal is written (listed in over, *need growing by the room that takes), since a copy
 * and the freeing of the file it replaces cost twice what a rewrite does; else copied into
 * staging. */
static int stage_files(int from, int staging, int dirfd, json_t *files, const char *where, json_t *staged,
		       json_t *over, int64_t *need)
{
	size_t i;
	json_t *v;
	json_array_foreach(files, i, v) {
		const char *rel = json_string_value(v), *src, *dst, *now;
		char *what = xasprintf("%s/%s", where, rel);
		int in = open_parent(from, rel, false, &src), out = open_parent(staging, rel, true, &dst);
		int live = open_parent(dirfd, rel, false, &now), rc;
		int64_t more = 0;
		bool in_place = false, shared;
		if (in < 0 || out < 0)
			rc = fail_sys(EX_IOERR, "cannot open the folder of '%s' (a symbolic link?)", what);
		else
			rc = fileclone_share_at(in, src, out, dst, what);
		if (rc == 1 && live >= 0 && (rc = fileclone_over_check(in, src, live, now, what, &more)) == 0)
			in_place = true;
		if (rc == 1)
			rc = fileclone_at(in, src, out, dst, what, &shared);
		if (rc == 0) {
			json_array_append(in_place ? over : staged, v);
			*need += more;
		}
		free(what);
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		if (live >= 0)
			close(live);
		if (rc < 0)
			return -1;
	}
	return sync_folders(staging, where);
}

/* Move every staged file into place and remove what the snapshot lacks: each step is a
 * rename or an unlink that a second run finds done, so a killed run is finished by the next. */
static int move_in(int staging, int dirfd, const char *rel, const char *path)
{
	const char *from_base, *to_base;
	int from = open_parent(staging, rel, false, &from_base), to = open_parent(dirfd, rel, true, &to_base), rc = 0;
	if (to < 0)
		rc = fail_sys(EX_IOERR, "cannot open the folder of '%s/%s' (a symbolic link?)", path, rel);
	else if (from >= 0 && renameat(from, from_base, to, to_base) < 0 && errno != ENOENT)
		rc = fail_sys(EX_IOERR, "cannot move '%s' into '%s'", rel, path);
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	return rc;
}

static int remove_one(int dirfd, const char *rel, const char *path)
{
	const char *base;
	int parent = open_parent(dirfd, rel, false, &base), rc = 0;
	if (parent < 0 && errno != ENOENT)
		rc = fail_sys(EX_IOERR, "cannot open the folder of '%s/%s' (a symbolic link?)", path, rel);
	else if (parent >= 0 && unlinkat(parent, base, 0) < 0 && errno != ENOENT)
		rc = fail_sys(EX_IOERR, "cannot remove '%s/%s'", path, rel);
	if (parent >= 0)
		close(parent);
	return rc;
}

/* The files rewritten in place, from the snapshot itself: each rewrite is whole again when
 * repeated, so a killed one is done over by the next run. */
static int overwrite(int dirfd, const char *path, const char *tag, json_t *names)
{
	int code;
	char *why;
	if (!json_array_size(names))
		return 0;
	if (!tag || !snapshot_tag_ok(tag))
		return fail(EX_DATAERR, "the rollback journal in '%s' names no snapshot; remove it by hand", path);
	int snaps = open_dir_at(dirfd, BUNDLE_SNAPSHOTS_DIR), from = snaps >= 0 ? open_dir_at(snaps, tag) : -1;
	int rc = from < 0 ? fail_sys(EX_NOINPUT, "cannot finish the rollback of '%s' to '%s'", path, tag)
			  : each_pair(from, dirfd, names, path, fileclone_over);
	if (from >= 0)
		close(from);
	if (snaps >= 0)
		close(snaps);
	if (rc < 0 && from >= 0) {
		/* Every command that opens the bundle stops here until it is done: say what to do. */
		code = fail_code(), why = xstrdup(fail_msg());
		fail(code, "cannot finish the rollback of '%s' to '%s': %s; once that is mended, any claw command on "
			   "the machine finishes it (claw-bundle rm removes the machine)",
		     path, tag, why);
		free(why);
	}
	return rc;
}

static int replay(int dirfd, const char *path, json_t *journal)
{
	/* "staged" was "restore" before files were rewritten in place: a claw that knows only
	 * "restore" refuses a journal it cannot finish, rather than drop "overwrite". */
	json_t *restore = json_object_get(journal, "staged"), *remove = json_object_get(journal, "remove");
	json_t *over = json_object_get(journal, "overwrite");
	if (!restore)
		restore = json_object_get(journal, "restore");
	if (check_names(restore, "the rollback journal") < 0 || check_names(remove, "the rollback journal") < 0 ||
	    (over && check_names(over, "the rollback journal") < 0))
		return -1;
	if (overwrite(dirfd, path, json_string_value(json_object_get(journal, "tag")), over) < 0)
		return -1;
	int staging = open_dir_at(dirfd, SNAPSHOT_STAGING), rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach(restore, i, v)
		if (rc == 0 && staging >= 0)
			rc = move_in(staging, dirfd, json_string_value(v), path);
	json_array_foreach(remove, i, v)
		if (rc == 0)
			rc = remove_one(dirfd, json_string_value(v), path);
	if (staging >= 0)
		close(staging);
	if (rc < 0 || sync_folders(dirfd, path) < 0)
		return -1;
	/* Done: the journal goes last, then what is left of the staging folder. */
	if (unlinkat(dirfd, SNAPSHOT_JOURNAL, 0) < 0 && errno != ENOENT)
		return fail_sys(EX_IOERR, "cannot remove '%s/%s'", path, SNAPSHOT_JOURNAL);
	fsync(dirfd);
	return bundle_remove_tree_at(dirfd, SNAPSHOT_STAGING, path);
}

int snapshot_finish(int dirfd, const char *path)
{
	int fd = openat(dirfd, SNAPSHOT_JOURNAL, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_sys(EX_IOERR, "cannot read '%s/%s'", path, SNAPSHOT_JOURNAL);
	json_error_t je;
	json_t *journal = json_loadfd(fd, 0, &je);
	close(fd);
	if (!json_is_object(journal)) {
		json_decref(journal);
		return fail(EX_DATAERR, "'%s/%s' is not a rollback journal; remove it by hand", path, SNAPSHOT_JOURNAL);
	}
	int rc = replay(dirfd, path, journal);
	json_decref(journal);
	return rc;
}

int snapshot_rollback(struct bundle *b, const char *tag)
{
	if (!snapshot_tag_ok(tag))
		return fail(EX_USAGE, "'%s' is not a snapshot tag (letters, digits, '.', '_', '-')", tag);
	if (check_stopped(b) < 0)
		return -1;
	int dirfd = bundle_dirfd(b), snaps = open_snaps(b, false), from = -1, staging = -1, rc = 0;
	if (snaps >= 0)
		from = open_dir_at(snaps, tag);
	json_t *meta = NULL, *live = NULL, *journal = NULL;
	json_error_t je;
	int mfd = from >= 0 ? openat(from, SNAPSHOT_META, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (mfd >= 0) {
		meta = json_loadfd(mfd, 0, &je);
		close(mfd);
	}
	json_t *files = json_object_get(meta, "files");
	if (!json_is_array(files))
		rc = fail(EX_NOINPUT, "'%s' has no snapshot '%s' (claw snapshot --list %s)", bundle_name(b), tag, bundle_name(b));
	else
		rc = check_names(files, "the snapshot's snapshot.json");
	/* A staging folder without a journal is a rollback killed before it began: start over. */
	if (rc == 0 && (rc = bundle_remove_tree_at(dirfd, SNAPSHOT_STAGING, bundle_path(b))) == 0 &&
	    (rc = mkdir_at(dirfd, SNAPSHOT_STAGING, bundle_path(b))) == 0 && (staging = open_dir_at(dirfd, SNAPSHOT_STAGING)) < 0)
		rc = fail_sys(EX_IOERR, "cannot open '%s/%s'", bundle_path(b), SNAPSHOT_STAGING);
	char *where = bundle_file(b, SNAPSHOT_STAGING);
	json_t *staged = json_array(), *over = json_array();
	int64_t need = 0;
	if (rc == 0)
		rc = stage_files(from, staging, dirfd, files, where, staged, over, &need);
	if (rc == 0)
		rc = fileclone_room(dirfd, need, bundle_path(b));
	if (rc == 0) {
		/* What the machine has now and the snapshot lacks goes: a saved state, later stamps. */
		live = state_in(dirfd);
		json_t *gone = json_array();
		size_t i, j;
		json_t *v, *w;
		json_array_foreach(live, i, v) {
			bool kept = false;
			json_array_foreach(files, j, w)
				kept = kept || json_equal(v, w);
			if (!kept)
				json_array_append(gone, v);
		}
		journal = json_pack("{s:s, s:O, s:O, s:o}", "tag", tag, "staged", staged, "overwrite", over, "remove", gone);
		char *text = json_dumps(journal, JSON_INDENT(2));
		/* The moment of commitment: from here on every command that opens the bundle finishes it. */
		rc = atomic_write_at(dirfd, bundle_path(b), SNAPSHOT_JOURNAL, text, strlen(text), 0600);
		free(text);
	}
	if (rc == 0)
		rc = replay(dirfd, bundle_path(b), journal);
	else if (staging >= 0)
		bundle_remove_tree_at(dirfd, SNAPSHOT_STAGING, bundle_path(b));
	free(where);
	json_decref(staged);
	json_decref(over);
	json_decref(journal);
	json_decref(live);
	json_decref(meta);
	if (staging >= 0)
		close(staging);
	if (from >= 0)
		close(from);
	if (snaps >= 0)
		close(snaps);
	return rc;
}

int snapshot_remove(struct bundle *b, const char *tag)
{
	if (!snapshot_tag_ok(tag))
		return fail(EX_USAGE, "'%s' is not a snapshot tag (letters, digits, '.', '_', '-')", tag);
	int snaps = open_snaps(b, false);
	struct stat st;
	if (snaps < 0 || fstatat(snaps, tag, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
		if (snaps >= 0)
			close(snaps);
		return fail(EX_NOINPUT, "'%s' has no snapshot '%s'", bundle_name(b), tag);
	}
	char *where = snaps_path(b), *doomed = xasprintf(".%s.rm.%ld", tag, (long)getpid());
	/* Gone from the list at once; the folder's removal can be killed and swept later. */
	int rc = renameat(snaps, tag, snaps, doomed) < 0 || fsync(snaps) < 0
			 ? fail_sys(EX_IOERR, "cannot remove '%s/%s'", where, tag)
			 : bundle_remove_tree_at(snaps, doomed, where);
	free(doomed);
	free(where);
	close(snaps);
	return rc;
}
