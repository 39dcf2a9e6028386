/* verify: the guest's sections read back, and every tool judged by its package manager. */
#include "verify.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the sections ---- */

struct section {
	char kind[24];
	unsigned long n;
	int status;
	const char *data;
	size_t len;
};

struct report {
	struct section *s;
	size_t n;
	json_t *npm_ls, *brew_info; /* parsed once, NULL when absent or not JSON */
};

#define HEADER "@claw "

/* One "@claw KIND N STATUS BYTES" line; false when the line is anything else. */
static bool header_parse(const char *line, size_t len, struct section *s)
{
	char text[128], kind[24], tail;
	size_t bytes;
	if (len >= sizeof text)
		return false;
	memcpy(text, line, len);
	text[len] = '\0';
	if (sscanf(text, HEADER "%23s %lu %d %zu%c", kind, &s->n, &s->status, &bytes, &tail) != 4)
		return false;
	snprintf(s->kind, sizeof s->kind, "%s", kind);
	s->len = bytes;
	return true;
}

/* Lines between sections (a login shell's chatter) are skipped; a section cut short is not. */
static int report_parse(const char *text, size_t len, struct report *r)
{
	size_t pos = 0, cap = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct section s;
		if (!nl || line_len < sizeof HEADER - 1 || memcmp(text + pos, HEADER, sizeof HEADER - 1) ||
		    !header_parse(text + pos, line_len, &s)) {
			pos += line_len + 1;
			continue;
		}
		pos += line_len + 1;
		if (s.len > len - pos)
			return fail(EX_DATAERR, "the guest's answer ends inside its '%s' section (%zu of %zu bytes)", s.kind,
				    len - pos, s.len);
		s.data = text + pos;
		pos += s.len;
		if (r->n == cap)
			r->s = xrealloc(r->s, (cap = cap ? cap * 2 : 16) * sizeof *r->s);
		r->s[r->n++] = s;
	}
	return 0;
}

static const struct section *find(const struct report *r, const char *kind, size_t n)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->s[i].kind, kind) && r->s[i].n == n)
			return &r->s[i];
	return NULL;
}

static json_t *section_json(const struct report *r, const char *kind, size_t n)
{
	const struct section *s = find(r, kind, n);
	return s ? json_loadb(s->data, s->len, 0, NULL) : NULL;
}

/* The next line of a section, from *pos on; false at its end. */
static bool next_line(const struct section *s, size_t *pos, const char **line, size_t *len)
{
	if (!s || *pos >= s->len)
		return false;
	const char *start = s->data + *pos, *nl = memchr(start, '\n', s->len - *pos);
	*line = start;
	*len = nl ? (size_t)(nl - start) : s->len - *pos;
	*pos += *len + 1;
	return true;
}

/* The first line of a section that exited 0, as a string; NULL for a failed or empty one. */
static char *first_line(const struct section *s)
{
	size_t pos = 0, len;
	const char *line;
	if (!s || s->status != 0 || !next_line(s, &pos, &line, &len) || !len)
		return NULL;
	return xstrndup(line, len);
}

/* ---- strings from the guest: data, made safe to print and to put in JSON ---- */

/* Control bytes become '?', and so does every byte above ASCII when the whole is not UTF-8. */
static json_t *safe_string(const char *s, size_t n)
{
	char *copy = xstrndup(s, n);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	json_t *j = json_string(copy);
	if (!j) {
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(copy);
	}
	free(copy);
	return j;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* A name a package gives one of its commands: a file name, nothing that climbs or hides. */
static bool command_name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/');
}

/* ---- a tool's record ---- */

static json_t *tool_new(const char *name, const char *kind)
{
	return json_pack("{s:s, s:n, s:b, s:s, s:{}, s:[]}", "name", name, "version", "installed", 0, "kind", kind,
			 "commands", "missing");
}

static void tool_installed(json_t *t, const char *version, size_t len)
{
	json_object_set_new(t, "installed", json_true());
	if (len)
		json_object_set_new(t, "version", safe_string(version, len));
}

/* Where cmd is: the first of `list`'s lines (full paths) whose file name is cmd. */
static char *where(const struct section *list, const char *cmd)
{
	size_t pos = 0, len;
	const char *line;
	size_t n = strlen(cmd);
	while (next_line(list, &pos, &line, &len))
		if (len > n && line[len - n - 1] == '/' && !memcmp(line + len - n, cmd, n))
			return xstrndup(line, len);
	return NULL;
}

static void tool_found(json_t *t, const char *cmd, const char *at)
{
	json_t *commands = json_object_get(t, "commands"), *key = safe_string(cmd, strlen(cmd));
	if (!json_object_get(commands, json_string_value(key)))
		json_object_set_new(commands, json_string_value(key), safe_string(at, strlen(at)));
	json_decref(key);
}

static void tool_missing(json_t *t, const char *cmd)
{
	json_t *missing = json_object_get(t, "missing"), *key = safe_string(cmd, strlen(cmd)), *m;
	size_t i;
	json_array_foreach(missing, i, m) {
		if (json_equal(m, key)) {
			json_decref(key);
			return;
		}
	}
	json_array_append_new(missing, key);
}

/* Record cmd as found (at the line of `list` that names it) or missing. */
static void tool_command(json_t *t, const struct section *list, const char *cmd)
{
	char *at = where(list, cmd);
	if (at)
		tool_found(t, cmd, at);
	else
		tool_missing(t, cmd);
	free(at);
}

static json_t *tool_done(json_t *t)
{
	bool ok = json_is_true(json_object_get(t, "installed")) && json_array_size(json_object_get(t, "missing")) == 0;
	json_object_set_new(t, "ok", json_boolean(ok));
	return t;
}

/* ---- Homebrew ---- */

static json_t *judge_brew(const struct report *r)
{
	json_t *t = tool_new("brew", "brew");
	char *line = first_line(find(r, VERIFY_BREW, 0));
	/* "Homebrew 4.4.9" */
	if (line && !strncmp(line, "Homebrew ", 9) && line[9]) {
		tool_installed(t, line + 9, strcspn(line + 9, " "));
		tool_command(t, find(r, VERIFY_PATH, 0), "brew");
	}
	free(line);
	return tool_done(t);
}

/* The line of a "NAME REST..." listing that names name, as a string; NULL when none does (or
 * the listing failed). */
static char *listed(const struct section *s, const char *name)
{
	size_t pos = 0, len, n = strlen(name);
	const char *line;
	if (!s || s->status != 0)
		return NULL;
	while (next_line(s, &pos, &line, &len))
		if (len >= n && !memcmp(line, name, n) && (len == n || line[n] == ' '))
			return xstrndup(line, len);
	return NULL;
}

static bool array_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* The line brew list --formula --versions gives a formula: by its name (a tap's prefix aside),
 * or, for an alias or an old name (python3), by the name brew info says it stands for. */
static char *formula_line(const struct report *r, const char *name)
{
	const struct section *list = find(r, VERIFY_FORMULAE, 0);
	char *line = listed(list, base_name(name));
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r->brew_info, "formulae"), i, f) {
		const char *own = json_string_value(json_object_get(f, "name"));
		if (line || !own)
			break;
		if (array_has(json_object_get(f, "aliases"), base_name(name)) ||
		    array_has(json_object_get(f, "oldnames"), base_name(name)))
			line = listed(list, own);
	}
	return line;
}

/* The formula brew info --json=v2 knows by this name (its rack's), or NULL. */
static json_t *info_formula(const struct report *r, const char *rack)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r->brew_info, "formulae"), i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		if (name && !strcmp(name, rack))
			return f;
	}
	return NULL;
}

/* A keg's file that is a command: PREFIX/Cellar/RACK/VERSION/bin/NAME, nothing deeper. */
static const char *keg_command(const char *path, const char *rack)
{
	char *needle = xasprintf("/Cellar/%s/", rack);
	const char *at = strstr(path, needle), *cmd = NULL;
	if (at) {
		const char *version_end = strchr(at + strlen(needle), '/');
		if (version_end && !strncmp(version_end, "/bin/", 5) && command_name_ok(version_end + 5))
			cmd = version_end + 5;
	}
	free(needle);
	return cmd;
}

static int by_command(const void *a, const void *b)
{
	return strcmp(base_name(*(char *const *)a), base_name(*(char *const *)b));
}

/* The keg's bin/ files, full paths, sorted by command (the listing comes in find's order). */
static size_t keg_commands(const struct section *keg, const char *rack, char ***out)
{
	size_t pos = 0, len, n = 0;
	const char *line;
	char **paths = NULL;
	while (next_line(keg, &pos, &line, &len)) {
		char *path = xstrndup(line, len);
		if (keg_command(path, rack)) {
			paths = xrealloc(paths, (n + 1) * sizeof *paths);
			paths[n++] = path;
		} else {
			free(path);
		}
	}
	if (n)
		qsort(paths, n, sizeof *paths, by_command);
	*out = paths;
	return n;
}

static json_t *judge_formula(const struct report *r, const char *name, size_t i)
{
	json_t *t = tool_new(name, "brew");
	/* "RACK V1 V2 ...": the rack is the formula's own name, the last version listed is the one. */
	char *line = formula_line(r, name);
	if (!line)
		return tool_done(t);
	size_t rack_len = strcspn(line, " ");
	const char *version = strrchr(line, ' ') ? strrchr(line, ' ') + 1 : line + rack_len;
	tool_installed(t, version, strlen(version));
	char *rack = xstrndup(line, rack_len);
	free(line);
	/* A keg-only formula's commands are kept off PATH on purpose: in the keg is where they belong. */
	bool keg_only = json_is_true(json_object_get(info_formula(r, rack), "keg_only"));
	if (keg_only)
		json_object_set_new(t, "keg_only", json_true());
	const struct section *kegs = find(r, VERIFY_KEGS, 0);
	if (!kegs || kegs->status != 0)
		kegs = find(r, VERIFY_KEG, i);
	char **paths;
	size_t n = keg_commands(kegs, rack, &paths);
	for (size_t k = 0; k < n; k++) {
		const char *cmd = base_name(paths[k]);
		if (keg_only)
			tool_found(t, cmd, paths[k]);
		else
			tool_command(t, find(r, VERIFY_PATH, 0), cmd);
		free(paths[k]);
	}
	free(paths);
	free(rack);
	return tool_done(t);
}

static json_t *info_cask(const struct report *r, const char *token)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(r->brew_info, "casks"), i, c) {
		const char *tok = json_string_value(json_object_get(c, "token"));
		const char *full = json_string_value(json_object_get(c, "full_token"));
		if ((tok && !strcmp(tok, token)) || (full && !strcmp(full, token)))
			return c;
	}
	return NULL;
}

/* An artifact's installed name: its target's, else its source's ["Foo.app", {"target": "Bar.app"}]. */
static const char *artifact_name(json_t *args)
{
	const char *source = json_string_value(json_array_get(args, 0));
	const char *target = json_string_value(json_object_get(json_array_get(args, 1), "target"));
	const char *name = target ? target : source;
	return name && command_name_ok(base_name(name)) ? base_name(name) : NULL;
}

/* A cask's .apps must be in the applications folders, its binaries on PATH. */
static void cask_artifacts(const struct report *r, json_t *t, json_t *cask)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(cask, "artifacts"), i, a) {
		json_t *app = json_object_get(a, "app"), *bin = json_object_get(a, "binary");
		if (app && artifact_name(app))
			tool_command(t, find(r, VERIFY_APPS, 0), artifact_name(app));
		if (bin && artifact_name(bin))
			tool_command(t, find(r, VERIFY_PATH, 0), artifact_name(bin));
	}
}

static json_t *judge_cask(const struct report *r, const char *name)
{
	json_t *t = tool_new(name, "cask");
	/* "TOKEN VERSION" */
	char *line = listed(find(r, VERIFY_CASKS, 0), base_name(name));
	if (line) {
		size_t token_len = strcspn(line, " ");
		const char *version = line[token_len] ? line + token_len + 1 : line + token_len;
		tool_installed(t, version, strlen(version));
		line[token_len] = '\0';
		cask_artifacts(r, t, info_cask(r, line));
	}
	free(line);
	return tool_done(t);
}

/* ---- npm ---- */

char *verify_npm_package(const char *spec)
{
	const char *from = *spec == '@' && strchr(spec, '/') ? strchr(spec, '/') : spec;
	const char *at = strchr(from, '@');
	return at ? xstrndup(spec, (size_t)(at - spec)) : xstrdup(spec);
}

/* A package's commands as npm links them: "bin" a string is one command named for the package
 * (without its scope); an object maps names to files; either way the name's last part counts. */
static void npm_commands(const struct report *r, json_t *t, json_t *pkg_json, const char *pkg)
{
	json_t *bin = json_object_get(pkg_json, "bin");
	const struct section *path = find(r, VERIFY_PATH, 0);
	if (json_is_string(bin)) {
		const char *own = json_string_value(json_object_get(pkg_json, "name"));
		const char *cmd = base_name(own ? own : pkg);
		if (command_name_ok(cmd))
			tool_command(t, path, cmd);
		return;
	}
	const char *key;
	json_t *file;
	json_object_foreach(bin, key, file) {
		if (json_is_string(file) && command_name_ok(base_name(key)))
			tool_command(t, path, base_name(key));
	}
}

static json_t *judge_npm(const struct report *r, const char *spec, size_t i)
{
	json_t *t = tool_new(spec, "npm");
	char *pkg = verify_npm_package(spec);
	if (strcmp(pkg, spec))
		json_object_set_new(t, "package", json_string(pkg));
	/* {"name": "lib", "dependencies": {"NAME": {"version": "1.2.3", "overridden": false}}}: a folder
	 * left without its package.json is listed with no version, and is no package. */
	json_t *dep = json_object_get(json_object_get(r->npm_ls, "dependencies"), pkg);
	const char *v = json_string_value(json_object_get(dep, "version"));
	if (v && *v && !json_is_true(json_object_get(dep, "missing"))) {
		tool_installed(t, v, strlen(v));
		json_t *pkg_json = section_json(r, VERIFY_NPM_PKG, i);
		npm_commands(r, t, pkg_json, pkg);
		json_decref(pkg_json);
	}
	free(pkg);
	return tool_done(t);
}

/* ---- all of it ---- */

int verify_judge(const struct claw_config *cfg, const char *text, size_t len, json_t **out)
{
	struct report r = { NULL, 0, NULL, NULL };
	if (report_parse(text, len, &r) < 0) {
		free(r.s);
		return -1;
	}
	r.npm_ls = section_json(&r, VERIFY_NPM_LS, 0);
	r.brew_info = section_json(&r, VERIFY_BREW_INFO, 0);
	json_t *tools = json_array();
	if (cfg->tools.homebrew)
		json_array_append_new(tools, judge_brew(&r));
	for (size_t i = 0; i < cfg->tools.packages.n; i++)
		json_array_append_new(tools, judge_formula(&r, cfg->tools.packages.items[i], i));
	for (size_t i = 0; i < cfg->tools.casks.n; i++)
		json_array_append_new(tools, judge_cask(&r, cfg->tools.casks.items[i]));
	for (size_t i = 0; i < cfg->tools.npm_global.n; i++)
		json_array_append_new(tools, judge_npm(&r, cfg->tools.npm_global.items[i], i));
	json_decref(r.npm_ls);
	json_decref(r.brew_info);
	free(r.s);
	*out = tools;
	return 0;
}
