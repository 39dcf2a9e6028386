/* config_yaml: the effective configuration written back as YAML that reads back in as the
 * same configuration: secrets masked, sizes with their units, strings quoted where YAML
 * would take them for another type. */
#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

static bool looks_like_other_type(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "null", "~", NULL };
	if (!*s)
		return true;
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	char *end;
	errno = 0;
	(void)strtod(s, &end);
	return *end == '\0';
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, bool force_quote)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = force_quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
	return emit(e, &ev);
}

/* key: the dotted path of v in the configuration, NULL inside lists. */
static int emit_json(yaml_emitter_t *e, json_t *v, const char *key)
{
	yaml_event_t ev;
	if (json_is_object(v)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (emit(e, &ev) < 0)
			return -1;
		const char *k;
		json_t *child;
		json_object_foreach(v, k, child) {
			char *path = key ? (*key ? xasprintf("%s.%s", key, k) : xstrdup(k)) : NULL;
			int rc = emit_scalar(e, k, false) < 0 || emit_json(e, child, path) < 0 ? -1 : 0;
			free(path);
			if (rc < 0)
				return -1;
		}
		yaml_mapping_end_event_initialize(&ev);
		return emit(e, &ev);
	}
	if (json_is_array(v)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     json_array_size(v) ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
		if (emit(e, &ev) < 0)
			return -1;
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
			if (emit_json(e, child, NULL) < 0)
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return emit(e, &ev);
	}
	if (json_is_string(v))
		return emit_scalar(e, json_string_value(v), looks_like_other_type(json_string_value(v)));
	char num[32];
	/* Sizes go back out with their unit, so a dump reads back in as the same config. */
	if (json_is_integer(v) && key && config_key_is_size(key))
		size_format((uint64_t)json_integer_value(v), 1, num);
	else if (json_is_integer(v))
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
	return emit_scalar(e, num, false);
}

static int yaml_write_handler(void *data, unsigned char *buffer, size_t size)
{
	buf_add(data, buffer, size);
	return 1;
}

int config_yaml(const struct claw_config *c, char **out, size_t *len)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	struct buf b = BUF_ZERO;
	json_t *masked = config_json(c, true);
	if (!yaml_emitter_initialize(&e))
		return json_decref(masked), fail(EX_SOFTWARE, "cannot start the YAML emitter");
	yaml_emitter_set_output(&e, yaml_write_handler, &b);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	int rc = emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	rc = rc < 0 ? rc : emit(&e, &ev);
	rc = rc < 0 ? rc : emit_json(&e, masked, "");
	yaml_document_end_event_initialize(&ev, 1);
	rc = rc < 0 ? rc : emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	rc = rc < 0 ? rc : emit(&e, &ev);
	if (rc < 0)
		fail(EX_SOFTWARE, "YAML emitter: %s", e.problem ? e.problem : "error");
	yaml_emitter_delete(&e);
	json_decref(masked);
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}
