/* config: claw.yml through libyaml's document API, checked against one schema table,
 * merged over the built-in default, finished with secrets from the environment or
 * files, and handed out as typed fields and as JSON. */
#include "config.h"
#include "bundle.h"
#include "log.h"
#include "shares.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

enum ftype { T_MAP, T_INT, T_SIZE, T_BOOL, T_STR, T_SECRET, T_PATH, T_BREWLIST, T_NPMLIST, T_CUSTOM, T_SHARES };

struct field {
	const char *key;
	enum ftype type;
	const struct field *children; /* T_MAP only */
};

static const struct field display_fields[] = {
	{ "width", T_INT, NULL }, { "height", T_INT, NULL }, { "dpi", T_INT, NULL }, { NULL, 0, NULL },
};
static const struct field vm_fields[] = {
	{ "cpu", T_INT, NULL },    { "ram", T_SIZE, NULL },   { "disk", T_SIZE, NULL },
	{ "macos", T_STR, NULL },  { "display", T_MAP, display_fields }, { "shares", T_SHARES, NULL },
	{ NULL, 0, NULL },
};
static const struct field share_fields[] = {
	{ "path", T_PATH, NULL }, { "name", T_STR, NULL }, { "read_only", T_BOOL, NULL }, { NULL, 0, NULL },
};
static const struct field share_entry = { "", T_MAP, share_fields };
static const struct field access_fields[] = {
	{ "username", T_STR, NULL },         { "password", T_SECRET, NULL },
	{ "password_file", T_PATH, NULL },   { "ssh_key", T_PATH, NULL },
	{ "vnc_password", T_SECRET, NULL },  { "vnc_password_file", T_PATH, NULL },
	{ "ssh_password_login", T_BOOL, NULL }, { NULL, 0, NULL },
};
static const struct field tools_fields[] = {
	{ "homebrew", T_BOOL, NULL },        { "packages", T_BREWLIST, NULL },
	{ "casks", T_BREWLIST, NULL },       { "npm_global", T_NPMLIST, NULL },
	{ "custom", T_CUSTOM, NULL },        { NULL, 0, NULL },
};
static const struct field root_fields[] = {
	{ "name", T_STR, NULL },    { "vm", T_MAP, vm_fields },       { "access", T_MAP, access_fields },
	{ "tools", T_MAP, tools_fields }, { NULL, 0, NULL },
};
static const struct field root = { "", T_MAP, root_fields };

static const char *const secret_keys[] = { "access.password", "access.vnc_password", NULL };

/* ---- where things are in the file ---- */

struct walk {
	const char *file;
	const char *base_dir;
	yaml_document_t *doc;
	json_t *marks;       /* dotted key -> "LINE:COL" of its value */
	json_t *share_marks; /* "LINE:COL" of each vm.shares entry, in order */
};

static int fail_at_mark(const char *file, const char *mark, const char *fmt, ...) CLAW_PRINTF(3, 4);
static int fail_at_mark(const char *file, const char *mark, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (mark)
		return fail(EX_CONFIG, "%s:%s: %s", file, mark, msg);
	return fail(EX_CONFIG, "%s: %s", file, msg);
}

static void mark_text(const yaml_node_t *n, char out[32])
{
	snprintf(out, 32, "%lu:%lu", (unsigned long)n->start_mark.line + 1,
		 (unsigned long)n->start_mark.column + 1);
}

static int fail_node(const struct walk *w, const yaml_node_t *n, const char *fmt, ...) CLAW_PRINTF(3, 4);
static int fail_node(const struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	char m[32], msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mark_text(n, m);
	return fail_at_mark(w->file, m, "%s", msg);
}

static const char *mark_of(const struct walk *w, const char *key)
{
	json_t *m = json_object_get(w->marks, key);
	return m ? json_string_value(m) : NULL;
}

/* ---- schema look-ups ---- */

static const struct field *field_find(const struct field *fields, const char *key, size_t keylen)
{
	for (const struct field *f = fields; f && f->key; f++)
		if (strlen(f->key) == keylen && memcmp(f->key, key, keylen) == 0)
			return f;
	return NULL;
}

static const struct field *field_by_path(const char *path)
{
	const struct field *f = &root;
	while (*path) {
		if (f->type != T_MAP)
			return NULL;
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		f = field_find(f->children, path, len);
		if (!f)
			return NULL;
		path += len + (dot ? 1 : 0);
		if (dot && !*path)
			return NULL;
	}
	return f;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof cur);
	}
	return prev[lb];
}

static const char *nearest_key(const struct field *fields, const char *key)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;
	for (const struct field *f = fields; f->key; f++) {
		size_t d = edit_distance(key, f->key);
		if (d < bestd)
			bestd = d, best = f->key;
	}
	/* A suggestion further away than a third of the word is noise. */
	size_t limit = strlen(key) / 3 + 1;
	return bestd <= limit ? best : NULL;
}

static void list_keys(const struct field *fields, char *out, size_t size)
{
	out[0] = '\0';
	for (const struct field *f = fields; f->key; f++) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", n ? ", " : "", f->key);
	}
}

/* ---- YAML nodes to JSON, one schema type at a time ---- */

static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

static int scalar_text(struct walk *w, const yaml_node_t *n, const char *key, const char *what, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail_node(w, n, "'%s' must be %s, not %s", key, what, kind_name(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return fail_node(w, n, "'%s' contains a NUL byte", key);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static json_t *to_int(struct walk *w, const yaml_node_t *n, const char *key)
{
	const char *s = NULL;
	if (scalar_text(w, n, key, "a positive integer", &s) < 0)
		return NULL;
	const char *digits = s[0] == '+' ? s + 1 : s;
	uint64_t v;
	if (s[0] == '-' || (parse_u64(digits, &v) == 0 && v == 0))
		return fail_node(w, n, "'%s' must be greater than zero, not '%s'", key, s), NULL;
	if (parse_u64(digits, &v) < 0)
		return fail_node(w, n, "'%s' must be a positive integer, not '%s'", key, s), NULL;
	if (v > 1000000)
		return fail_node(w, n, "'%s' is out of range: %s", key, s), NULL;
	return json_integer((json_int_t)v);
}

static json_t *to_size(struct walk *w, const yaml_node_t *n, const char *key)
{
	const char *s = NULL;
	if (scalar_text(w, n, key, "a size like 8GB", &s) < 0)
		return NULL;
	uint64_t v;
	if (s[0] == '-' || (config_parse_size(s, &v) == 0 && v == 0))
		return fail_node(w, n, "'%s' must be greater than zero, not '%s'", key, s), NULL;
	if (config_parse_size(s, &v) < 0)
		return fail_node(w, n, "'%s' must be a size like 8GB (units KB, MB, GB, TB), not '%s'", key, s), NULL;
	if (v > (uint64_t)1 << 50)
		return fail_node(w, n, "'%s' is out of range: %s", key, s), NULL;
	return json_integer((json_int_t)v);
}

static json_t *to_bool(struct walk *w, const yaml_node_t *n, const char *key)
{
	static const char *const yes[] = { "true", "yes", "on", NULL }, *const no[] = { "false", "no", "off", NULL };
	const char *s = NULL;
	if (scalar_text(w, n, key, "true or false", &s) < 0)
		return NULL;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (int i = 0; yes[i]; i++)
			if (!strcasecmp(s, yes[i]))
				return json_true();
		for (int i = 0; no[i]; i++)
			if (!strcasecmp(s, no[i]))
				return json_false();
	}
	return fail_node(w, n, "'%s' must be true or false, not '%s'", key, s), NULL;
}

static json_t *to_string(struct walk *w, const yaml_node_t *n, const char *key)
{
	const char *s = NULL;
	if (scalar_text(w, n, key, "a string", &s) < 0)
		return NULL;
	if (!*s)
		return fail_node(w, n, "'%s' must not be empty", key), NULL;
	json_t *j = json_string(s);
	if (!j)
		return fail_node(w, n, "'%s' is not valid UTF-8", key), NULL;
	return j;
}

static json_t *to_path(struct walk *w, const yaml_node_t *n, const char *key)
{
	json_t *j = to_string(w, n, key);
	if (!j)
		return NULL;
	char *p = path_expand(json_string_value(j), w->base_dir);
	json_decref(j);
	j = json_string(p);
	free(p);
	return j;
}

static json_t *to_name_list(struct walk *w, const yaml_node_t *n, const char *key, bool (*ok)(const char *),
			    const char *what)
{
	json_t *arr = json_array();
	if (is_null(n))
		return arr;
	if (n->type != YAML_SEQUENCE_NODE) {
		json_decref(arr);
		return fail_node(w, n, "'%s' must be a list, not %s", key, kind_name(n)), NULL;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(w->doc, *it);
		json_t *s = to_string(w, item, key);
		if (s && !ok(json_string_value(s))) {
			fail_node(w, item, "'%s': '%s' is not a valid %s name", key, json_string_value(s), what);
			json_decref(s);
			s = NULL;
		}
		if (!s) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, s);
	}
	return arr;
}

static json_t *to_custom_step(struct walk *w, const yaml_node_t *item, const char *key)
{
	if (item->type == YAML_SCALAR_NODE) {
		json_t *run = to_string(w, item, key);
		return run ? json_pack("{s:o}", "run", run) : NULL;
	}
	if (item->type != YAML_MAPPING_NODE)
		return fail_node(w, item, "'%s' entries must be a command or a mapping with name and run, not %s",
			       key, kind_name(item)), NULL;
	json_t *step = json_object();
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const char *ks = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
		if (strcmp(ks, "name") && strcmp(ks, "run")) {
			json_decref(step);
			return fail_node(w, k, "unknown key '%s' in a '%s' entry (expected name, run)", ks, key), NULL;
		}
		if (json_object_get(step, ks)) {
			json_decref(step);
			return fail_node(w, k, "duplicate key '%s' in a '%s' entry", ks, key), NULL;
		}
		json_t *s = to_string(w, v, key);
		if (!s) {
			json_decref(step);
			return NULL;
		}
		json_object_set_new(step, ks, s);
	}
	if (!json_object_get(step, "run")) {
		json_decref(step);
		return fail_node(w, item, "a '%s' entry needs 'run', the command to run", key), NULL;
	}
	return step;
}

static json_t *to_custom(struct walk *w, const yaml_node_t *n, const char *key)
{
	json_t *arr = json_array();
	if (is_null(n))
		return arr;
	if (n->type != YAML_SEQUENCE_NODE) {
		json_decref(arr);
		return fail_node(w, n, "'%s' must be a list, not %s", key, kind_name(n)), NULL;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		json_t *step = to_custom_step(w, yaml_document_get_node(w->doc, *it), key);
		if (!step) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, step);
	}
	return arr;
}

static json_t *walk_map(struct walk *w, const yaml_node_t *n, const struct field *f, const char *prefix);

/* The value node of key in a mapping node, or NULL. */
static yaml_node_t *map_value(const struct walk *w, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(w->doc, p->value);
	}
	return NULL;
}

/* One vm.shares entry: a folder's path, or a mapping with path, name, read_only. The name is
 * the folder's base name unless given, and must be one VZ takes (shares.h). */
static json_t *to_share(struct walk *w, yaml_node_t *item, const char *key)
{
	json_t *e;
	if (item->type == YAML_SCALAR_NODE) {
		json_t *path = to_path(w, item, key);
		e = path ? json_pack("{s:o}", "path", path) : NULL;
	} else if (item->type == YAML_MAPPING_NODE) {
		e = walk_map(w, item, &share_entry, key);
	} else {
		return fail_node(w, item, "'%s' entries must be a folder or a mapping with path, name, read_only, not %s", key,
			       kind_name(item)), NULL;
	}
	if (!e)
		return NULL;
	if (!json_object_get(e, "path")) {
		json_decref(e);
		return fail_node(w, item, "a '%s' entry needs 'path', the folder to share", key), NULL;
	}
	yaml_node_t *name_node = item->type == YAML_MAPPING_NODE ? map_value(w, item, "name") : NULL;
	if (!json_object_get(e, "name")) {
		char *name = share_default_name(json_string_value(json_object_get(e, "path")));
		json_object_set_new(e, "name", json_string(name));
		if (!json_object_get(e, "name") || !*name) {
			fail_node(w, item, "'%s': '%s' has no name of its own to share it under; give it a 'name'", key,
				  json_string_value(json_object_get(e, "path")));
			free(name);
			json_decref(e);
			return NULL;
		}
		free(name);
	}
	if (!json_object_get(e, "read_only"))
		json_object_set_new(e, "read_only", json_false());
	json_t *name = json_object_get(e, "name");
	const char *why = share_name_problem(json_string_value(name), json_string_length(name));
	if (why) {
		fail_node(w, name_node ? name_node : item, "'%s': the name '%s' %s", key, json_string_value(name), why);
		json_decref(e);
		return NULL;
	}
	return e;
}

static json_t *to_shares(struct walk *w, const yaml_node_t *n, const char *key)
{
	json_t *arr = json_array(), *first_line = json_object();
	if (!is_null(n) && n->type != YAML_SEQUENCE_NODE) {
		json_decref(arr);
		json_decref(first_line);
		return fail_node(w, n, "'%s' must be a list, not %s", key, kind_name(n)), NULL;
	}
	json_array_clear(w->share_marks);
	for (yaml_node_item_t *it = is_null(n) ? NULL : n->data.sequence.items.start;
	     it && it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(w->doc, *it);
		json_t *e = to_share(w, item, key);
		const char *name = e ? json_string_value(json_object_get(e, "name")) : NULL;
		json_t *taken = name ? json_object_get(first_line, name) : NULL;
		if (taken) {
			yaml_node_t *at = item->type == YAML_MAPPING_NODE && map_value(w, item, "name") ? map_value(w, item, "name") : item;
			fail_node(w, at, "'%s': the name '%s' is taken (line %" JSON_INTEGER_FORMAT "); give one of them another 'name'",
				  key, name, json_integer_value(taken));
			json_decref(e);
			e = NULL;
		}
		if (!e) {
			json_decref(arr);
			json_decref(first_line);
			return NULL;
		}
		char m[32];
		mark_text(item, m);
		json_array_append_new(w->share_marks, json_string(m));
		json_object_set_new(first_line, name, json_integer((json_int_t)item->start_mark.line + 1));
		json_array_append_new(arr, e);
	}
	json_decref(first_line);
	return arr;
}

static json_t *to_value(struct walk *w, const yaml_node_t *n, const struct field *f, const char *key)
{
	switch (f->type) {
	case T_MAP: return walk_map(w, n, f, key);
	case T_INT: return to_int(w, n, key);
	case T_SIZE: return to_size(w, n, key);
	case T_BOOL: return to_bool(w, n, key);
	case T_STR:
	case T_SECRET: return to_string(w, n, key);
	case T_PATH: return to_path(w, n, key);
	case T_BREWLIST: return to_name_list(w, n, key, config_brew_name_ok, "Homebrew");
	case T_NPMLIST: return to_name_list(w, n, key, config_npm_name_ok, "npm package");
	case T_CUSTOM: return to_custom(w, n, key);
	case T_SHARES: return to_shares(w, n, key);
	}
	return NULL;
}

static int check_key(struct walk *w, const yaml_node_t *map, const yaml_node_pair_t *pair,
		     const struct field *f, const char *prefix, const struct field **child)
{
	yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	if (k->type != YAML_SCALAR_NODE)
		return fail_node(w, k, "keys must be plain words, not %s", kind_name(k));
	const char *ks = (const char *)k->data.scalar.value;
	*child = field_find(f->children, ks, strlen(ks));
	if (!*child) {
		const char *near = nearest_key(f->children, ks);
		char known[256];
		list_keys(f->children, known, sizeof known);
		const char *in = *prefix ? " in '" : "", *in_end = *prefix ? "'" : "";
		if (near)
			return fail_node(w, k, "unknown key '%s'%s%s%s (did you mean '%s'?)", ks, in, prefix, in_end, near);
		return fail_node(w, k, "unknown key '%s'%s%s%s (expected one of: %s)", ks, in, prefix, in_end, known);
	}
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
		yaml_node_t *qk = yaml_document_get_node(w->doc, q->key);
		if (qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, ks))
			return fail_node(w, k, "duplicate key '%s'%s%s%s (first at line %lu)", ks, *prefix ? " in '" : "",
				       prefix, *prefix ? "'" : "", (unsigned long)qk->start_mark.line + 1);
	}
	return 0;
}

static json_t *walk_map(struct walk *w, const yaml_node_t *n, const struct field *f, const char *prefix)
{
	json_t *obj = json_object();
	if (is_null(n))
		return obj;
	if (n->type != YAML_MAPPING_NODE) {
		json_decref(obj);
		if (!*prefix)
			return fail_node(w, n, "expected a mapping with vm, access, tools, not %s", kind_name(n)), NULL;
		return fail_node(w, n, "'%s' must be a mapping, not %s", prefix, kind_name(n)), NULL;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const struct field *child;
		if (check_key(w, n, p, f, prefix, &child) < 0) {
			json_decref(obj);
			return NULL;
		}
		char *key = *prefix ? xasprintf("%s.%s", prefix, child->key) : xstrdup(child->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		char m[32];
		mark_text(v, m);
		json_object_set_new(w->marks, key, json_string(m));
		json_t *val = to_value(w, v, child, key);
		free(key);
		if (!val) {
			json_decref(obj);
			return NULL;
		}
		json_object_set_new(obj, child->key, val);
	}
	return obj;
}

/* ---- the document ---- */

#define CONFIG_MAX_DEPTH 16

static const unsigned char *event_anchor(const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_SCALAR_EVENT: return e->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT: return e->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT: return e->data.mapping_start.anchor;
	default: return NULL;
	}
}

/* Before libyaml builds the document: no anchor or alias (a few KB of aliases expand to
 * gigabytes as the tree is walked) and no nesting past CONFIG_MAX_DEPTH (deep nesting takes
 * libyaml's document loader minutes). The events stream, so a hostile file stops early. */
static int check_shape(const struct walk *w, const char *text, size_t len)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return fail(EX_SOFTWARE, "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int depth = 0, rc = 0;
	for (bool done = false; !done && rc == 0;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&parser, &e))
			break; /* the loader reports syntax errors, with their context */
		char m[32];
		snprintf(m, sizeof m, "%lu:%lu", (unsigned long)e.start_mark.line + 1, (unsigned long)e.start_mark.column + 1);
		if (e.type == YAML_ALIAS_EVENT || event_anchor(&e))
			rc = fail_at_mark(w->file, m, "YAML anchors and aliases ('&', '*') are not taken in claw.yml; write the value out");
		else if ((e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT) && ++depth > CONFIG_MAX_DEPTH)
			rc = fail_at_mark(w->file, m, "nested more than %d deep; claw.yml is never that deep", CONFIG_MAX_DEPTH);
		else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT)
			depth--;
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* libyaml notices an unclosed bracket or quote only where the next thing begins, often lines
 * later; its context mark is where the unclosed thing began: the line the user has to fix. */
static int fail_syntax(const struct walk *w, const yaml_parser_t *p)
{
	char m[32], began[80] = "";
	snprintf(m, sizeof m, "%lu:%lu", (unsigned long)p->problem_mark.line + 1, (unsigned long)p->problem_mark.column + 1);
	if (p->context && (p->context_mark.line != p->problem_mark.line || p->context_mark.column != p->problem_mark.column))
		snprintf(began, sizeof began, " that began at line %lu, column %lu", (unsigned long)p->context_mark.line + 1,
			 (unsigned long)p->context_mark.column + 1);
	return fail_at_mark(w->file, m, "YAML syntax: %s%s%s%s", p->problem ? p->problem : "error", p->context ? " " : "",
			    p->context ? p->context : "", began);
}

static int parse_document(struct walk *w, const char *text, size_t len, json_t **out)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (check_shape(w, text, len) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser))
		return fail(EX_SOFTWARE, "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int rc = fail_syntax(w, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	int rc = 0;
	yaml_node_t *top = yaml_document_get_root_node(&doc);
	if (!top || is_null(top)) {
		rc = fail_at_mark(w->file, NULL, "empty file; expected a mapping with vm, access, tools");
	} else {
		yaml_document_t extra;
		/* A second document would be silently ignored: say so instead. */
		if (yaml_parser_load(&parser, &extra)) {
			if (yaml_document_get_root_node(&extra)) {
				char m[32];
				mark_text(yaml_document_get_root_node(&extra), m);
				rc = fail_at_mark(w->file, m, "a second YAML document; claw.yml holds one");
			}
			yaml_document_delete(&extra);
		}
		if (rc == 0) {
			w->doc = &doc;
			*out = walk_map(w, top, &root, "");
			rc = *out ? 0 : -1;
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static void merge_into(json_t *base, json_t *over)
{
	const char *k;
	json_t *v;
	json_object_foreach(over, k, v) {
		json_t *b = json_object_get(base, k);
		if (json_is_object(b) && json_is_object(v))
			merge_into(b, v);
		else
			json_object_set(base, k, v);
	}
}

static json_t *tree_get(json_t *tree, const char *path)
{
	char *copy = xstrdup(path), *save = NULL;
	json_t *cur = tree;
	for (char *tok = strtok_r(copy, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
		cur = json_is_object(cur) ? json_object_get(cur, tok) : NULL;
	free(copy);
	return cur;
}

static void tree_set(json_t *tree, const char *section, const char *key, json_t *val)
{
	json_t *obj = json_object_get(tree, section);
	if (!obj) {
		obj = json_object();
		json_object_set_new(tree, section, obj);
	}
	json_object_set_new(obj, key, val);
}

/* ---- secrets and files named by the config ---- */

static int read_secret_file(const struct walk *w, const char *key, const char *path, char **out)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return fail_at_mark(w->file, mark_of(w, key), "'%s': cannot read '%s': %s", key, path, strerror(errno));
	if (st.st_mode & 077)
		return fail_at_mark(w->file, mark_of(w, key), "'%s': '%s' is readable by others; chmod 600 it", key, path);
	struct buf b = BUF_ZERO;
	if (file_read(path, 4096, &b) < 0) {
		int rc = fail_at_mark(w->file, mark_of(w, key), "'%s': %s", key, fail_msg());
		buf_free(&b);
		return rc;
	}
	size_t n = strcspn(b.data, "\r\n");
	*out = xstrndup(b.data, n);
	secure_zero(b.data, b.len);
	buf_free(&b);
	if (!**out)
		return free(*out), fail_at_mark(w->file, mark_of(w, key), "'%s': '%s' is empty", key, path);
	return 0;
}

/* A secret can come from the config, a *_file key, or the environment, which wins. */
static int resolve_secret(struct walk *w, json_t *tree, json_t *user, const char *name, const char *env)
{
	char key[64], filekey[64], fkey[64];
	snprintf(key, sizeof key, "access.%s", name);
	snprintf(fkey, sizeof fkey, "%s_file", name);
	snprintf(filekey, sizeof filekey, "access.%s_file", name);
	json_t *uacc = json_object_get(user, "access");
	if (json_object_get(uacc, name) && json_object_get(uacc, fkey))
		return fail_at_mark(w->file, mark_of(w, filekey), "set either '%s' or '%s', not both", key, filekey);
	const char *file = json_string_value(tree_get(tree, filekey));
	if (file) {
		char *secret = NULL;
		if (read_secret_file(w, filekey, file, &secret) < 0)
			return -1;
		tree_set(tree, "access", name, json_string(secret));
		secure_zero(secret, strlen(secret));
		free(secret);
	}
	const char *e = getenv(env);
	if (e && *e) {
		json_t *s = json_string(e);
		if (!s)
			return fail(EX_CONFIG, "%s is not valid UTF-8", env);
		tree_set(tree, "access", name, s);
	}
	return 0;
}

static int check_vnc(const struct walk *w, json_t *tree)
{
	const char *v = json_string_value(tree_get(tree, "access.vnc_password"));
	if (!v || strlen(v) <= CONFIG_VNC_MAX)
		return 0;
	const char *env = getenv("CLAW_VNC_PASSWORD");
	if (env && *env)
		return fail(EX_CONFIG, "CLAW_VNC_PASSWORD is %zu characters; VNC allows at most %d", strlen(v), CONFIG_VNC_MAX);
	const char *key = mark_of(w, "access.vnc_password_file") ? "access.vnc_password_file" : "access.vnc_password";
	return fail_at_mark(w->file, mark_of(w, key), "'access.vnc_password' is %zu characters; VNC allows at most %d",
			    strlen(v), CONFIG_VNC_MAX);
}

static int check_username(const struct walk *w, json_t *tree)
{
	const char *u = json_string_value(tree_get(tree, "access.username"));
	if (!u || config_username_ok(u))
		return 0;
	return fail_at_mark(w->file, mark_of(w, "access.username"),
			    "'access.username' '%s' is not a name macOS accepts (a letter, then letters, digits, "
			    "'_', '.', '-'; at most 31; not a system account)", u);
}

static int check_name(const struct walk *w, json_t *tree)
{
	const char *n = json_string_value(tree_get(tree, "name"));
	if (!n || bundle_name_ok(n))
		return 0;
	return fail_at_mark(w->file, mark_of(w, "name"),
			    "'name' '%s' must start with a letter or digit and hold only letters, digits, '.', '_', '-' (at most 64)", n);
}

static bool line_is_public_key(const char *line)
{
	static const char *const types[] = { "ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com ",
					     "sk-ecdsa-sha2-", "ssh-dss ", NULL };
	for (int i = 0; types[i]; i++)
		if (!strncmp(line, types[i], strlen(types[i])))
			return true;
	return false;
}

static int read_ssh_key(const struct walk *w, json_t *tree, char **pubkey)
{
	*pubkey = NULL;
	const char *path = json_string_value(tree_get(tree, "access.ssh_key"));
	if (!path)
		return 0;
	const char *m = mark_of(w, "access.ssh_key");
	struct buf b = BUF_ZERO;
	if (file_read(path, 64 * 1024, &b) < 0) {
		buf_free(&b);
		return fail_at_mark(w->file, m, "'access.ssh_key': %s", fail_msg());
	}
	int rc = 0;
	if (strstr(b.data, "PRIVATE KEY-----"))
		rc = fail_at_mark(w->file, m, "'access.ssh_key': '%s' is a private key; name its .pub", path);
	for (char *save = NULL, *line = strtok_r(b.data, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		if (*line && *line != '#' && !line_is_public_key(line))
			rc = fail_at_mark(w->file, m, "'access.ssh_key': '%s' is not an OpenSSH public key", path);
	}
	buf_free(&b);
	if (rc == 0 && file_read(path, 64 * 1024, &b) == 0)
		*pubkey = xstrdup(b.data);
	buf_free(&b);
	return rc;
}

/* ---- the typed view ---- */

static char *dup_or_null(json_t *tree, const char *path)
{
	const char *s = json_string_value(tree_get(tree, path));
	return s ? xstrdup(s) : NULL;
}

static json_int_t int_at(json_t *tree, const char *path)
{
	return json_integer_value(tree_get(tree, path));
}

static void fill_list(json_t *tree, const char *path, struct config_list *l)
{
	json_t *arr = tree_get(tree, path);
	l->n = json_array_size(arr);
	l->items = xcalloc(l->n + 1, sizeof *l->items);
	for (size_t i = 0; i < l->n; i++)
		l->items[i] = xstrdup(json_string_value(json_array_get(arr, i)));
}

static void fill_struct(struct claw_config *c, json_t *t)
{
	c->name = dup_or_null(t, "name");
	c->vm.cpu_requested = (int)int_at(t, "vm.cpu");
	c->vm.cpu = c->vm.cpu_requested < host_cpu_count() ? c->vm.cpu_requested : host_cpu_count();
	c->vm.ram = (uint64_t)int_at(t, "vm.ram");
	c->vm.disk = (uint64_t)int_at(t, "vm.disk");
	c->vm.macos = dup_or_null(t, "vm.macos");
	c->vm.width = (int)int_at(t, "vm.display.width");
	c->vm.height = (int)int_at(t, "vm.display.height");
	c->vm.dpi = (int)int_at(t, "vm.display.dpi");
	c->access.username = dup_or_null(t, "access.username");
	c->access.password = dup_or_null(t, "access.password");
	c->access.ssh_key = dup_or_null(t, "access.ssh_key");
	c->access.vnc_password = dup_or_null(t, "access.vnc_password");
	c->access.ssh_password_login = json_is_true(tree_get(t, "access.ssh_password_login"));
	c->tools.homebrew = json_is_true(tree_get(t, "tools.homebrew"));
	fill_list(t, "tools.packages", &c->tools.packages);
	fill_list(t, "tools.casks", &c->tools.casks);
	fill_list(t, "tools.npm_global", &c->tools.npm_global);
	json_t *custom = tree_get(t, "tools.custom");
	c->tools.ncustom = json_array_size(custom);
	c->tools.custom = xcalloc(c->tools.ncustom + 1, sizeof *c->tools.custom);
	for (size_t i = 0; i < c->tools.ncustom; i++) {
		json_t *s = json_array_get(custom, i);
		c->tools.custom[i].name = dup_or_null(s, "name");
		c->tools.custom[i].run = dup_or_null(s, "run");
	}
	json_t *shares = tree_get(t, "vm.shares");
	c->vm.nshares = json_array_size(shares);
	c->vm.shares = xcalloc(c->vm.nshares + 1, sizeof *c->vm.shares);
	for (size_t i = 0; i < c->vm.nshares; i++) {
		json_t *s = json_array_get(shares, i);
		c->vm.shares[i].name = dup_or_null(s, "name");
		c->vm.shares[i].path = dup_or_null(s, "path");
		c->vm.shares[i].read_only = json_is_true(json_object_get(s, "read_only"));
	}
	/* cpu is clamped in the tree too, so dump and get say what will be used. */
	json_object_set_new(json_object_get(t, "vm"), "cpu", json_integer(c->vm.cpu));
}

static int load_defaults(json_t **out)
{
	struct walk w = { CONFIG_BUILTIN, NULL, NULL, json_object(), json_array() };
	int rc = parse_document(&w, claw_default_config, strlen(claw_default_config), out);
	json_decref(w.marks);
	json_decref(w.share_marks);
	return rc;
}

static int finish(struct walk *w, json_t *user, struct claw_config **out)
{
	json_t *tree;
	if (load_defaults(&tree) < 0)
		return -1;
	merge_into(tree, user);
	char *pubkey = NULL;
	if (resolve_secret(w, tree, user, "password", "CLAW_PASSWORD") < 0 ||
	    resolve_secret(w, tree, user, "vnc_password", "CLAW_VNC_PASSWORD") < 0 || check_vnc(w, tree) < 0 ||
	    check_username(w, tree) < 0 || check_name(w, tree) < 0 || read_ssh_key(w, tree, &pubkey) < 0) {
		json_decref(tree);
		return -1;
	}
	struct claw_config *c = xcalloc(1, sizeof *c);
	c->path = xstrdup(w->file);
	c->tree = tree;
	fill_struct(c, tree);
	for (size_t i = 0; i < c->vm.nshares; i++) {
		const char *m = json_string_value(json_array_get(w->share_marks, i));
		c->vm.shares[i].where = m ? xasprintf("%s:%s", w->file, m) : xasprintf("%s: vm.shares", w->file);
	}
	c->access.ssh_pubkey = pubkey;
	*out = c;
	return 0;
}

int config_load_string(const char *text, size_t len, const char *name, struct claw_config **out)
{
	const char *orig_name = name; /* messages name the file as the user gave it */
	/* Paths in the config are relative to its own folder, stored absolute for every later reader.
	 * A symbolic link to a config (a bundle's claw.yml) means the folder of the file it names. */
	char *real = realpath(name, NULL);
	if (real)
		name = real;
	const char *slash = strrchr(name, '/');
	char *rel = slash ? (slash == name ? xstrdup("/") : xstrndup(name, (size_t)(slash - name))) : xstrdup(".");
	char *dir = realpath(rel, NULL);
	if (!dir)
		dir = rel;
	else
		free(rel);
	if (real)
		name = orig_name;
	struct walk w = { name, dir, NULL, json_object(), json_array() };
	json_t *user = NULL;
	int rc = parse_document(&w, text, len, &user);
	if (rc == 0)
		rc = finish(&w, user, out);
	json_decref(user);
	json_decref(w.marks);
	json_decref(w.share_marks);
	free(dir);
	free(real);
	return rc;
}

int config_load(const char *path, struct claw_config **out)
{
	if (!path)
		return config_load_string(claw_default_config, strlen(claw_default_config), CONFIG_BUILTIN, out);
	struct buf b = BUF_ZERO;
	if (file_read(path, 1 << 20, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	int rc = config_load_string(b.data, b.len, path, out);
	buf_free(&b);
	return rc;
}

static void free_list(struct config_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

static void free_secret(char *s)
{
	if (s)
		secure_zero(s, strlen(s));
	free(s);
}

void config_free(struct claw_config *c)
{
	if (!c)
		return;
	for (int i = 0; secret_keys[i]; i++) {
		json_t *s = tree_get(c->tree, secret_keys[i]);
		if (json_is_string(s))
			secure_zero((char *)json_string_value(s), json_string_length(s));
	}
	json_decref(c->tree);
	free(c->path);
	free(c->name);
	free(c->vm.macos);
	for (size_t i = 0; i < c->vm.nshares; i++) {
		free(c->vm.shares[i].name);
		free(c->vm.shares[i].path);
		free(c->vm.shares[i].where);
	}
	free(c->vm.shares);
	free(c->access.username);
	free_secret(c->access.password);
	free(c->access.ssh_key);
	free(c->access.ssh_pubkey);
	free_secret(c->access.vnc_password);
	free_list(&c->tools.packages);
	free_list(&c->tools.casks);
	free_list(&c->tools.npm_global);
	for (size_t i = 0; i < c->tools.ncustom; i++) {
		free(c->tools.custom[i].name);
		free(c->tools.custom[i].run);
	}
	free(c->tools.custom);
	free(c);
}

/* ---- views for people and programs ---- */

bool config_key_is_size(const char *key)
{
	const struct field *f = field_by_path(key);
	return f && f->type == T_SIZE;
}

json_t *config_json(const struct claw_config *c, bool mask)
{
	json_t *copy = json_deep_copy(c->tree);
	for (int i = 0; mask && secret_keys[i]; i++) {
		const char *dot = strchr(secret_keys[i], '.');
		json_t *section = json_object_get(copy, "access");
		if (json_object_get(section, dot + 1))
			json_object_set_new(section, dot + 1, json_string(CONFIG_MASK));
	}
	return copy;
}

int config_value(const struct claw_config *c, const char *key, json_t **out)
{
	if (*key && !field_by_path(key))
		return fail(EX_USAGE, "unknown key '%s'", key);
	json_t *v = *key ? tree_get(c->tree, key) : c->tree;
	if (!v)
		return 1;
	*out = json_incref(v);
	return 0;
}

int config_lookup(const struct claw_config *c, const char *key, json_t **out)
{
	json_t *clear;
	int rc = config_value(c, key, &clear);
	if (rc != 0)
		return rc;
	json_decref(clear);
	json_t *masked = config_json(c, true);
	json_t *v = *key ? tree_get(masked, key) : masked;
	if (!v) {
		json_decref(masked);
		return 1;
	}
	*out = json_incref(v);
	json_decref(masked);
	return 0;
}

/* ---- secrets handed over by a descriptor ---- */

static int set_secret(struct claw_config *c, const char *name, const char *value)
{
	bool vnc = !strcmp(name, "vnc_password");
	if (vnc && strlen(value) > CONFIG_VNC_MAX)
		return fail(EX_CONFIG, "the VNC password given is %zu characters; VNC allows at most %d", strlen(value),
			    CONFIG_VNC_MAX);
	json_t *s = json_string(value);
	if (!s)
		return fail(EX_DATAERR, "the %s given is not valid UTF-8", vnc ? "VNC password" : "password");
	json_t *old = tree_get(c->tree, vnc ? "access.vnc_password" : "access.password");
	if (json_is_string(old))
		secure_zero((char *)json_string_value(old), json_string_length(old));
	tree_set(c->tree, "access", name, s);
	char **field = vnc ? &c->access.vnc_password : &c->access.password;
	free_secret(*field);
	*field = xstrdup(value);
	return 0;
}

/* Everything on fd (a pipe from the user's side of sudo), split into lines in place. */
static int read_lines(int fd, struct buf *b, char *lines[2])
{
	char chunk[4096];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_sys(EX_IOERR, "cannot read secrets from descriptor %d", fd);
		if (b->len + (size_t)n > 64 * 1024)
			return fail(EX_DATAERR, "more than 64 KiB of secrets on descriptor %d", fd);
		buf_add(b, chunk, (size_t)n);
	}
	secure_zero(chunk, sizeof chunk);
	buf_adds(b, "");
	lines[0] = b->data, lines[1] = NULL;
	char *nl = strchr(b->data, '\n');
	if (nl) {
		*nl = '\0';
		lines[1] = nl + 1;
		lines[1][strcspn(lines[1], "\n")] = '\0';
	}
	return 0;
}

int config_secrets_from_fds(struct claw_config *c, int password_fd, int vnc_fd)
{
	struct buf a = BUF_ZERO, b = BUF_ZERO;
	char *la[2] = { NULL, NULL }, *lb[2] = { NULL, NULL };
	int rc = 0;
	if (password_fd >= 0)
		rc = read_lines(password_fd, &a, la);
	if (rc == 0 && vnc_fd >= 0 && vnc_fd != password_fd)
		rc = read_lines(vnc_fd, &b, lb);
	const char *pw = la[0];
	/* One descriptor for both: the password on its first line, the VNC password on its second. */
	const char *vnc = vnc_fd < 0 ? NULL : vnc_fd == password_fd ? la[1] : lb[0];
	if (rc == 0 && vnc_fd >= 0 && !vnc)
		rc = fail(EX_DATAERR, "no line for the VNC password on descriptor %d", vnc_fd);
	/* An empty line gives nothing: the configuration's own stands. */
	if (rc == 0 && pw && *pw)
		rc = set_secret(c, "password", pw);
	if (rc == 0 && vnc && *vnc)
		rc = set_secret(c, "vnc_password", vnc);
	if (a.data)
		secure_zero(a.data, a.len);
	if (b.data)
		secure_zero(b.data, b.len);
	buf_free(&a);
	buf_free(&b);
	return rc;
}
