/* record: the resolve record in its two spellings, key=value and JSON. */
#include "record.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

const char *const record_keys[] = { "url", "version", "build", "sha1", "sha256", "size", "source", NULL };

void record_set(json_t *rec, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(rec, key, json_string(value));
}

static int safe_char(int c)
{
	return isalnum(c) || strchr("_./:,+@%=-", c);
}

int record_write_kv(json_t *rec, FILE *out)
{
	for (int i = 0; record_keys[i]; i++) {
		json_t *v = json_object_get(rec, record_keys[i]);
		if (json_is_integer(v)) {
			fprintf(out, "%s=%" JSON_INTEGER_FORMAT "\n", record_keys[i], json_integer_value(v));
		} else if (json_is_string(v)) {
			char *q = sh_quote(json_string_value(v));
			fprintf(out, "%s=%s\n", record_keys[i], q);
			free(q);
		}
	}
	return ferror(out) ? -1 : 0;
}

/* One value: bare up to the end of the line, or single-quoted pieces ('\'' for a quote). */
static int unquote(const char *v, struct buf *out)
{
	while (*v) {
		if (*v == '\'') {
			const char *end = strchr(v + 1, '\'');
			if (!end)
				return -1;
			buf_add(out, v + 1, (size_t)(end - v - 1));
			v = end + 1;
		} else if (*v == '\\' && v[1]) {
			buf_add(out, v + 1, 1);
			v += 2;
		} else if (safe_char((unsigned char)*v)) {
			buf_add(out, v, 1);
			v++;
		} else {
			return -1;
		}
	}
	if (!out->data)
		buf_add(out, "", 0);
	return 0;
}

static int parse_kv_line(json_t *rec, char *line, int lineno, const char *what)
{
	char *eq = strchr(line, '=');
	if (!eq || eq == line)
		return fail(EX_DATAERR, "%s: line %d: expected key=value", what, lineno);
	*eq = '\0';
	for (char *p = line; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return fail(EX_DATAERR, "%s: line %d: '%s' is not a key", what, lineno, line);
	struct buf v = BUF_ZERO;
	if (unquote(eq + 1, &v) < 0) {
		buf_free(&v);
		return fail(EX_DATAERR, "%s: line %d: cannot read the value of '%s'", what, lineno, line);
	}
	if (!strcmp(line, "size")) {
		uint64_t n;
		if (parse_u64(v.data, &n) < 0 || n > (uint64_t)1 << 52) {
			buf_free(&v);
			return fail(EX_DATAERR, "%s: line %d: size must be a number of bytes", what, lineno);
		}
		json_object_set_new(rec, "size", json_integer((json_int_t)n));
	} else {
		record_set(rec, line, v.data);
	}
	buf_free(&v);
	return 0;
}

/* A value key=value lines can hold: text on one line. */
static bool one_line(const char *s)
{
	return !strpbrk(s, "\r\n");
}

/* JSON read as key=value lines are: a url, a number of bytes for size, and every other
 * value of a record key text on one line, an empty one left out; else EX_DATAERR. */
static int check_json(json_t *j, const char *what)
{
	for (int i = 0; record_keys[i]; i++) {
		const char *key = record_keys[i];
		json_t *v = json_object_get(j, key);
		if (!v)
			continue;
		if (!strcmp(key, "size")) {
			json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
			if (n < 0 || n > (json_int_t)1 << 52)
				return fail(EX_DATAERR, "%s: size must be a number of bytes", what);
		} else if (!json_is_string(v) || !one_line(json_string_value(v))) {
			return fail(EX_DATAERR, "%s: %s must be text on one line", what, key);
		} else if (!*json_string_value(v)) {
			json_object_del(j, key);
		}
	}
	return json_object_get(j, "url") ? 0 : fail(EX_DATAERR, "%s: no url", what);
}

static int parse_json(const char *text, size_t len, const char *what, json_t **out)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return fail(EX_DATAERR, "%s: not a JSON object (line %d: %s)", what, je.line, j ? "not an object" : je.text);
	}
	if (check_json(j, what) < 0) {
		json_decref(j);
		return -1;
	}
	*out = j;
	return 0;
}

int record_parse(const char *text, size_t len, const char *what, json_t **out)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (i < len && text[i] == '{')
		return parse_json(text, len, what, out);
	json_t *rec = json_object();
	char *copy = xstrndup(text, len), *line = copy;
	int lineno = 0, rc = 0;
	while (line && rc == 0) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (*line && *line != '#')
			rc = parse_kv_line(rec, line, lineno, what);
		line = next;
	}
	free(copy);
	if (rc == 0 && !json_object_get(rec, "url"))
		rc = fail(EX_DATAERR, "%s: no url", what);
	if (rc < 0) {
		json_decref(rec);
		return -1;
	}
	*out = rec;
	return 0;
}
