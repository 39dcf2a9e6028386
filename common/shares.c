/* shares: a list of folders, from claw.yml and --dir, checked on the host before VZ sees them.
 * The name rules are those VZMultipleDirectoryShare.h and Apple's docs state (VZ-API.md §13);
 * whatever else VZ refuses, vz.c hears from +validateName:error: before initWithDirectories:. */
#include "shares.h"
#include "bundle.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STRING_(x) #x
#define STRING(x) STRING_(x)

const char *share_name_problem(const char *name, size_t len)
{
	if (len == 0)
		return "is empty";
	if (memchr(name, '\0', len))
		return "has a NUL byte in it";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is reserved (it names a folder itself or its parent)";
	if (strchr(name, '/'))
		return "has a '/' in it";
	if (len > NAME_MAX)
		return "is longer than a file name may be (" STRING(NAME_MAX) " bytes)";
	json_t *utf8 = json_stringn(name, len); /* jansson takes valid UTF-8 only */
	if (!utf8)
		return "is not UTF-8";
	json_decref(utf8);
	return NULL;
}

/* The last part of path, its trailing '/'s aside: "" for "/" and "". */
static char *last_part(const char *path)
{
	size_t end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return xstrndup(path + start, end - start);
}

char *share_default_name(const char *path)
{
	char *name = last_part(path);
	if (*name && strcmp(name, ".") && strcmp(name, ".."))
		return name;
	/* "." or "..": the folder they name ("/" has no name of its own). */
	free(name);
	char *real = realpath(path, NULL);
	name = real ? last_part(real) : xstrdup("");
	free(real);
	return name;
}

/* EX_USAGE when l has a share named name already: only --dir's come after claw.yml's. */
static int name_free(const struct share_list *l, const char *name, const char *origin)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].name, name))
			return fail(EX_USAGE, "%s: the name '%s' is taken (%s); give this one another: --dir OTHER:PATH", origin,
				    name, l->origins[i]);
	return 0;
}

static void add(struct share_list *l, char *name, char *path, bool read_only, char *origin)
{
	l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
	l->origins = xrealloc(l->origins, (l->n + 1) * sizeof *l->origins);
	l->items[l->n] = (struct vm_share){ name, path, read_only };
	l->origins[l->n++] = origin;
}

void shares_add_config(struct share_list *l, const struct claw_config *cfg)
{
	for (size_t i = 0; i < cfg->vm.nshares; i++) {
		const struct config_share *s = &cfg->vm.shares[i];
		add(l, xstrdup(s->name), xstrdup(s->path), s->read_only, xstrdup(s->where));
	}
}

/* "[NAME:]PATH[:ro]": ':' splits it. Two parts are PATH:ro, or NAME:PATH — unless the first
 * holds a '/', which no name does: then the second was meant as a suffix. */
static int split_dir(const char *arg, char **name, char **path, bool *ro)
{
	size_t colons = 0;
	for (const char *c = arg; (c = strchr(c, ':')); c++)
		colons++;
	if (colons > 2)
		return fail(EX_USAGE, "--dir '%s': more ':' than [NAME:]PATH[:ro] has (a folder with ':' in its path goes in "
				      "claw.yml's vm.shares)", arg);
	char *parts[3] = { NULL }, *copy = xstrdup(arg), *p = copy;
	size_t n = 0;
	for (char *colon; (colon = strchr(p, ':')); p = colon + 1) {
		*colon = '\0';
		parts[n++] = p;
	}
	parts[n++] = p;
	const char *suffix = NULL;
	if (n == 3 || (n == 2 && (!strcmp(parts[1], "ro") || strchr(parts[0], '/'))))
		suffix = parts[--n];
	int rc = 0;
	if (suffix && strcmp(suffix, "ro"))
		rc = fail(EX_USAGE, "--dir '%s': unknown suffix ':%s' (only :ro, read-only, is known)", arg, suffix);
	else if (!*parts[n - 1])
		rc = fail(EX_USAGE, "--dir '%s' names no folder ([NAME:]PATH[:ro])", arg);
	if (rc == 0) {
		*ro = suffix != NULL;
		*name = n == 2 ? xstrdup(parts[0]) : NULL;
		*path = path_expand(parts[n - 1], NULL);
	}
	free(copy);
	return rc;
}

int shares_add_dir(struct share_list *l, const char *arg)
{
	char *name = NULL, *path = NULL, *origin = xasprintf("--dir '%s'", arg);
	bool ro = false;
	const char *why;
	int rc = split_dir(arg, &name, &path, &ro);
	if (rc == 0 && !name && !*(name = share_default_name(path)))
		rc = fail(EX_USAGE, "%s: the folder has no name of its own to share it under; give it one: --dir NAME:%s", origin,
			  arg);
	else if (rc == 0 && (why = share_name_problem(name, strlen(name))))
		rc = fail(EX_USAGE, "%s: the share's name '%s' %s", origin, name, why);
	else if (rc == 0)
		rc = name_free(l, name, origin);
	if (rc < 0) {
		free(name);
		free(path);
		free(origin);
		return -1;
	}
	add(l, name, path, ro, origin);
	return 0;
}

int shares_add_list(struct share_list *l, struct share_list *more)
{
	for (size_t i = 0; i < more->n; i++)
		if (name_free(l, more->items[i].name, more->origins[i]) < 0)
			return -1;
	for (size_t i = 0; i < more->n; i++)
		add(l, more->items[i].name, more->items[i].path, more->items[i].read_only, more->origins[i]);
	free(more->items);
	free(more->origins);
	*more = (struct share_list)SHARE_LIST_ZERO;
	return 0;
}

/* The folder there, a folder, and from now on named by its real path (no link VZ would follow
 * somewhere else later, and what run/shares.json says). */
static int check_folder(struct vm_share *s, const char *origin)
{
	char *real = realpath(s->path, NULL);
	struct stat st;
	if (!real)
		return fail_sys(EX_NOINPUT, "%s: cannot share '%s'", origin, s->path);
	if (stat(real, &st) < 0) {
		free(real);
		return fail_sys(EX_NOINPUT, "%s: cannot share '%s'", origin, s->path);
	}
	if (!S_ISDIR(st.st_mode)) {
		free(real);
		return fail(EX_NOINPUT, "%s: cannot share '%s': not a folder", origin, s->path);
	}
	free(s->path);
	s->path = real;
	return 0;
}

int shares_check(struct share_list *l, const char *guest_version)
{
	if (l->n && guest_version && *guest_version && atoi(guest_version) < SHARES_MIN_GUEST)
		return fail(EX_UNAVAILABLE,
			    "the guest runs macOS %s, which mounts no shared folders (macOS %d or later does); boot it without "
			    "vm.shares and --dir", guest_version, SHARES_MIN_GUEST);
	for (size_t i = 0; i < l->n; i++)
		if (check_folder(&l->items[i], l->origins[i]) < 0)
			return -1;
	return 0;
}

void shares_free(struct share_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].path);
		free(l->origins[i]);
	}
	free(l->items);
	free(l->origins);
	*l = (struct share_list)SHARE_LIST_ZERO;
}

json_t *shares_json(const struct share_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct vm_share *s = &l->items[i];
		char *mount = xasprintf("%s/%s", SHARES_GUEST_DIR, s->name);
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s}", "name", s->name, "path", s->path, "read_only",
						   s->read_only, "mount", mount));
		free(mount);
	}
	return a;
}

static const struct vm_share *find(const struct share_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].name, name))
			return &l->items[i];
	return NULL;
}

bool shares_same(const struct share_list *a, const struct share_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct vm_share *s = &a->items[i], *t = find(b, s->name);
		if (!t || strcmp(s->path, t->path) || s->read_only != t->read_only)
			return false;
	}
	return true;
}

int shares_save(struct bundle *b, const char *name, const struct share_list *l)
{
	json_t *o = json_pack("{s:o}", "shares", shares_json(l));
	/* The paths are the user's folders: theirs alone to read, as the state itself is. */
	int rc = bundle_write_json(b, name, o, 0600);
	json_decref(o);
	return rc;
}

int shares_load(struct bundle *b, const char *name, struct share_list *l)
{
	*l = (struct share_list)SHARE_LIST_ZERO;
	if (!bundle_has(b, name))
		return 0;
	json_t *o, *v;
	if (bundle_read_json(b, name, &o) < 0)
		return -1;
	json_t *a = json_object_get(o, "shares");
	size_t i;
	int rc = json_is_array(a) ? 0 : -1;
	json_array_foreach(a, i, v) {
		const char *n = json_string_value(json_object_get(v, "name")), *p = json_string_value(json_object_get(v, "path"));
		json_t *ro = json_object_get(v, "read_only");
		if (rc < 0 || !n || !p || p[0] != '/' || !json_is_boolean(ro) || share_name_problem(n, strlen(n)) || find(l, n)) {
			rc = -1;
			break;
		}
		add(l, xstrdup(n), xstrdup(p), json_is_true(ro), xasprintf("the saved state's '%s'", n));
	}
	json_decref(o);
	if (rc < 0) {
		shares_free(l);
		return fail(EX_DATAERR, "'%s/%s' is not a list of shared folders; --no-resume discards the saved state",
			    bundle_path(b), name);
	}
	return 0;
}

char *shares_as_dirs(const struct share_list *l)
{
	if (!l->n)
		return xstrdup("no folders");
	struct buf b = BUF_ZERO;
	for (size_t i = 0; i < l->n; i++)
		buf_addf(&b, "%s'%s:%s%s'", i ? ", " : "", l->items[i].name, l->items[i].path, l->items[i].read_only ? ":ro" : "");
	return b.data; /* the buffer's, now the caller's */
}

int shares_record(struct bundle *b, const struct share_list *l, pid_t pid)
{
	json_t *o = json_pack("{s:I, s:o}", "pid", (json_int_t)pid, "shares", shares_json(l));
	if (!o)
		return fail(EX_SOFTWARE, "cannot encode %s", BUNDLE_RUN_SHARES);
	int rc = bundle_write_json(b, BUNDLE_RUN_SHARES, o, 0644);
	json_decref(o);
	return rc;
}

json_t *shares_running(const struct bundle *b, pid_t pid)
{
	json_t *o;
	if (pid <= 0 || !bundle_has(b, BUNDLE_RUN_SHARES) || bundle_read_json(b, BUNDLE_RUN_SHARES, &o) < 0)
		return NULL;
	json_t *shares = json_object_get(o, "shares");
	/* A record by another pid was left by a boot that died before it could remove it. */
	bool mine = json_integer_value(json_object_get(o, "pid")) == (json_int_t)pid && json_is_array(shares);
	json_t *out = mine ? json_incref(shares) : NULL;
	json_decref(o);
	return out;
}
