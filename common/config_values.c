/* config_values: what a value in claw.yml may be, checked the same wherever it is read:
 * sizes with units, macOS user names, Homebrew and npm package names. */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int config_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *unit; unsigned shift; } units[] = {
		{ "b", 0 },   { "kb", 10 },  { "mb", 20 },  { "gb", 30 },  { "tb", 40 },
		{ "kib", 10 }, { "mib", 20 }, { "gib", 30 }, { "tib", 40 },
	};
	const char *p = s;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	uint64_t whole = 0, frac = 0, scale = 1;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale >= 1000000)
				return -1; /* more precision than any size needs */
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(p, units[i].unit) != 0)
			continue;
		unsigned sh = units[i].shift;
		if (sh && whole > (UINT64_MAX >> sh))
			return -1;
		if (!sh && frac)
			return -1; /* a fraction of a byte */
		uint64_t v = whole << sh, f = (frac << sh) / scale;
		if (v > UINT64_MAX - f)
			return -1;
		*out = v + f;
		return 0;
	}
	return -1;
}

bool config_username_ok(const char *name)
{
	static const char *const reserved[] = { "root", "daemon", "nobody", "wheel", "admin_", "guest", NULL };
	size_t n = strlen(name);
	if (n == 0 || n > 31 || !isalpha((unsigned char)name[0]) || !isascii((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!(isascii((unsigned char)*p) && (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')))
			return false;
	for (size_t i = 0; reserved[i]; i++)
		if (strcasecmp(name, reserved[i]) == 0)
			return false;
	return true;
}

static bool all_of(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!(isascii((unsigned char)*s) && (isalnum((unsigned char)*s) || strchr(extra, *s))))
			return false;
	return true;
}

bool config_brew_name_ok(const char *name)
{
	/* formula, or tap/formula, or user/tap/formula: what brew itself accepts. */
	char *copy = xstrdup(name);
	int parts = 0;
	bool ok = *name != '\0';
	for (char *save = NULL, *tok = strtok_r(copy, "/", &save); tok && ok; tok = strtok_r(NULL, "/", &save)) {
		parts++;
		ok = isalnum((unsigned char)tok[0]) && all_of(tok, "@._+-");
	}
	ok = ok && parts >= 1 && parts <= 3 && name[strlen(name) - 1] != '/' && !strstr(name, "//");
	free(copy);
	return ok;
}

bool config_npm_name_ok(const char *name)
{
	/* [@scope/]name[@version]: npm's rules, lowercase, URL-safe, no leading . or _ */
	const char *p = name;
	if (*p == '@') {
		const char *slash = strchr(p, '/');
		if (!slash || slash == p + 1)
			return false;
		for (const char *q = p + 1; q < slash; q++)
			if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) || strchr("-._~", *q)))
				return false;
		p = slash + 1;
	}
	/* A leading '-' would reach npm as an option. */
	if (!*p || *p == '.' || *p == '_' || *p == '-')
		return false;
	const char *at = strchr(p, '@');
	size_t len = at ? (size_t)(at - p) : strlen(p);
	if (len == 0 || len > 214)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)p[i]) || isdigit((unsigned char)p[i]) || strchr("-._~", p[i])))
			return false;
	return !at || (at[1] && all_of(at + 1, ".-+~^<>=*x"));
}
