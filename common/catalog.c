/* catalog: Apple's IPSW catalog and ipsw.me, read into resolve records. */
#include "catalog.h"
#include "log.h"
#include "plistx.h"
#include "record.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- specs, versions, builds ---- */

static bool is_version(const char *s)
{
	int parts = 0;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		parts++;
		if (*s == '.' && isdigit((unsigned char)s[1]))
			s++;
		else if (*s)
			return false;
	}
	return parts >= 1 && parts <= 3;
}

/* Apple builds: two digits (or one), a capital letter, digits, maybe a lowercase letter: 24C101, 25B78, 9A581, 23A5276g. */
static bool is_build(const char *s)
{
	const char *p = s;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s || p - s > 2 || !isupper((unsigned char)*p))
		return false;
	const char *d = ++p;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == d || p - d > 5)
		return false;
	if (islower((unsigned char)*p))
		p++;
	return *p == '\0';
}

enum spec_kind spec_classify(const char *s)
{
	if (!strcmp(s, "latest"))
		return SPEC_LATEST;
	/* A scheme is case-insensitive (RFC 3986): FILE:// is a local file too, never a URL. */
	if (!strncasecmp(s, "https://", 8) || !strncasecmp(s, "http://", 7))
		return SPEC_URL;
	if (strstr(s, "://") && strncasecmp(s, "file://", 7))
		return SPEC_BAD; /* ftp://, s3://: not a scheme claw fetches */
	if (!strncasecmp(s, "file://", 7) || s[0] == '/' || s[0] == '.' || strchr(s, '/'))
		return SPEC_FILE;
	size_t n = strlen(s);
	if (n > 5 && !strcasecmp(s + n - 5, ".ipsw"))
		return SPEC_FILE;
	if (is_version(s))
		return SPEC_VERSION;
	if (is_build(s))
		return SPEC_BUILD;
	return SPEC_BAD;
}

int version_compare(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10), y = strtoul(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!isdigit((unsigned char)*a) && !isdigit((unsigned char)*b))
			break;
	}
	return 0;
}

bool version_matches(const char *prefix, const char *version)
{
	size_t n = strlen(prefix);
	return !strncmp(prefix, version, n) && (version[n] == '\0' || version[n] == '.');
}

int build_compare(const char *a, const char *b)
{
	unsigned long ma = strtoul(a, (char **)&a, 10), mb = strtoul(b, (char **)&b, 10);
	if (ma != mb)
		return ma < mb ? -1 : 1;
	if (*a != *b)
		return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
	if (*a)
		a++, b++;
	unsigned long na = strtoul(a, (char **)&a, 10), nb = strtoul(b, (char **)&b, 10);
	if (na != nb)
		return na < nb ? -1 : 1;
	return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
}

static int newer(const char *va, const char *ba, const char *vb, const char *bb)
{
	int c = version_compare(va, vb);
	return c ? c > 0 : build_compare(ba, bb) > 0;
}

void record_guess_from_name(json_t *rec, const char *name)
{
	/* ..._26.1_25B78_Restore.ipsw: the version and build Apple puts in every restore image's name. */
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	char *copy = xstrdup(base), *save = NULL, *prev = NULL, *prevprev = NULL;
	for (char *tok = strtok_r(copy, "_", &save); tok; tok = strtok_r(NULL, "_", &save)) {
		if (!strncmp(tok, "Restore", 7) && prev && prevprev && is_version(prevprev) && is_build(prev)) {
			if (!json_object_get(rec, "version"))
				record_set(rec, "version", prevprev);
			if (!json_object_get(rec, "build"))
				record_set(rec, "build", prev);
			break;
		}
		prevprev = prev;
		prev = tok;
	}
	free(copy);
}

/* ---- Apple's catalog ---- */

struct restore {
	const char *version, *build, *url;
};

struct restore_walk {
	void (*fn)(plist_t restore, void *arg);
	void *arg;
};

static void restore_entry(const char *key, plist_t val, void *arg)
{
	struct restore_walk *w = arg;
	if (!strcmp(key, "Restore") && plist_get_node_type(val) == PLIST_DICT)
		w->fn(val, w->arg);
	else
		plistx_dict_foreach(val, restore_entry, w);
}

/* Every "Restore" dict under node, wherever it sits (Build/Restore or Build/Unknown/Universal/Restore). */
static void each_restore(plist_t node, void (*fn)(plist_t restore, void *arg), void *arg)
{
	struct restore_walk w = { fn, arg };
	plistx_dict_foreach(node, restore_entry, &w);
}

static void pick_newest(plist_t r, void *arg)
{
	struct restore *best = arg;
	struct restore c = { plistx_dict_string(r, "ProductVersion"), plistx_dict_string(r, "BuildVersion"),
			     plistx_dict_string(r, "FirmwareURL") };
	if (!c.version || !c.build || !c.url || !*c.url)
		return;
	if (!best->url || newer(c.version, c.build, best->version, best->build))
		*best = c;
}

struct sha_lookup {
	const char *url;
	const char *sha1;
};

static void find_sha1(plist_t r, void *arg)
{
	struct sha_lookup *l = arg;
	const char *url = plistx_dict_string(r, "FirmwareURL"), *sha = plistx_dict_string(r, "FirmwareSHA1");
	if (!l->sha1 && url && sha && strlen(sha) == 40 && !strcmp(url, l->url))
		l->sha1 = sha;
}

struct epoch {
	plist_t versions;
	long n;
};

static void newest_epoch(const char *key, plist_t val, void *arg)
{
	struct epoch *e = arg;
	long n = strtol(key, NULL, 10);
	plist_t v = plistx_dict_dict(val, "MobileDeviceSoftwareVersions");
	if (v && n > e->n)
		e->versions = v, e->n = n;
}

static plist_t catalog_versions(plist_t root)
{
	/* The newest epoch ("1", ...) holds the current list. */
	struct epoch e = { NULL, -1 };
	plistx_dict_foreach(plistx_dict_dict(root, "MobileDeviceSoftwareVersionsByVersion"), newest_epoch, &e);
	return e.versions;
}

/* The record for a restore the catalog lists, its SHA-1 found by URL wherever the catalog has one. */
static json_t *restore_record(plist_t versions, const struct restore *r)
{
	struct sha_lookup l = { r->url, NULL };
	each_restore(versions, find_sha1, &l);
	json_t *rec = json_object();
	record_set(rec, "url", r->url);
	record_set(rec, "version", r->version);
	record_set(rec, "build", r->build);
	if (l.sha1) {
		char *lower = xstrdup(l.sha1);
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		record_set(rec, "sha1", lower);
		free(lower);
	}
	record_set(rec, "source", "catalog");
	return rec;
}

static plist_t catalog_open(const char *data, size_t len, plist_t *root)
{
	*root = plistx_parse(data, len, "the catalog");
	if (!*root)
		return NULL;
	plist_t versions = catalog_versions(*root);
	if (!versions) {
		plist_free(*root);
		*root = NULL;
		fail(EX_DATAERR, "the catalog has no MobileDeviceSoftwareVersionsByVersion list");
	}
	return versions;
}

int catalog_latest(const char *data, size_t len, json_t **rec)
{
	plist_t root, versions = catalog_open(data, len, &root);
	if (!versions)
		return -1;
	struct restore best = { NULL, NULL, NULL };
	each_restore(plistx_dict_dict(versions, CATALOG_DEVICE), pick_newest, &best);
	if (!best.url) {
		plist_free(root);
		return fail(EX_DATAERR, "the catalog has no %s restore image", CATALOG_DEVICE);
	}
	*rec = restore_record(versions, &best);
	plist_free(root);
	return 0;
}

struct url_lookup {
	const char *url;
	struct restore found;
};

static void find_url(plist_t r, void *arg)
{
	struct url_lookup *l = arg;
	struct restore c = { plistx_dict_string(r, "ProductVersion"), plistx_dict_string(r, "BuildVersion"),
			     plistx_dict_string(r, "FirmwareURL") };
	if (!l->found.url && c.version && c.build && c.url && !strcmp(c.url, l->url))
		l->found = c;
}

int catalog_by_url(const char *data, size_t len, const char *url, json_t **rec)
{
	plist_t root, versions = catalog_open(data, len, &root);
	if (!versions)
		return -1;
	struct url_lookup l = { url, { NULL, NULL, NULL } };
	each_restore(versions, find_url, &l);
	if (!l.found.url) {
		plist_free(root);
		return fail(EX_UNAVAILABLE, "the catalog does not list '%s'", url);
	}
	*rec = restore_record(versions, &l.found);
	plist_free(root);
	return 0;
}

bool catalog_record_newer(json_t *a, json_t *b)
{
	const char *va = json_string_value(json_object_get(a, "version")), *ba = json_string_value(json_object_get(a, "build"));
	const char *vb = json_string_value(json_object_get(b, "version")), *bb = json_string_value(json_object_get(b, "build"));
	return va && ba && vb && bb && newer(va, ba, vb, bb);
}

/* ---- ipsw.me ---- */

static bool firmware_ok(json_t *fw)
{
	return json_is_string(json_object_get(fw, "url")) && json_is_string(json_object_get(fw, "version")) &&
	       json_is_string(json_object_get(fw, "buildid"));
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *firmware_record(json_t *fw)
{
	json_t *r = json_object();
	record_set(r, "url", jstr(fw, "url"));
	record_set(r, "version", jstr(fw, "version"));
	record_set(r, "build", jstr(fw, "buildid"));
	record_set(r, "sha1", jstr(fw, "sha1sum"));
	record_set(r, "sha256", jstr(fw, "sha256sum"));
	json_t *size = json_object_get(fw, "filesize");
	if (json_is_integer(size) && json_integer_value(size) > 0)
		json_object_set_new(r, "size", json_integer(json_integer_value(size)));
	record_set(r, "source", "ipswme");
	return r;
}

static void list_available(json_t *fws, struct buf *b)
{
	size_t i, shown = 0;
	json_t *fw;
	json_array_foreach(fws, i, fw) {
		if (!firmware_ok(fw) || !json_is_true(json_object_get(fw, "signed")))
			continue;
		buf_addf(b, "%s%s (%s)", shown ? ", " : "", jstr(fw, "version"), jstr(fw, "buildid"));
		if (++shown == 12)
			break;
	}
	if (!shown)
		buf_adds(b, "none");
}

int ipswme_select(const char *data, size_t len, const char *spec, json_t **rec)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, 0, &je);
	if (!root)
		return fail(EX_DATAERR, "ipsw.me answered with invalid JSON (line %d: %s)", je.line, je.text);
	json_t *fws = json_object_get(root, "firmwares");
	if (!json_is_array(fws)) {
		json_decref(root);
		return fail(EX_DATAERR, "ipsw.me answered without a firmwares list");
	}
	bool by_build = spec_classify(spec) == SPEC_BUILD;
	json_t *best = NULL;
	size_t i;
	json_t *fw;
	json_array_foreach(fws, i, fw) {
		if (!firmware_ok(fw))
			continue;
		if (by_build ? !strcmp(jstr(fw, "buildid"), spec)
			     : json_is_true(json_object_get(fw, "signed")) && version_matches(spec, jstr(fw, "version"))) {
			if (!best || newer(jstr(fw, "version"), jstr(fw, "buildid"), jstr(best, "version"), jstr(best, "buildid")))
				best = fw;
		}
	}
	if (!best) {
		struct buf avail = BUF_ZERO;
		list_available(fws, &avail);
		fail(EX_UNAVAILABLE, "no %s%s IPSW matches '%s'; signed ones: %s", by_build ? "" : "signed ",
		     CATALOG_DEVICE, spec, avail.data);
		buf_free(&avail);
		json_decref(root);
		return -1;
	}
	*rec = firmware_record(best);
	if (!json_is_true(json_object_get(best, "signed")))
		json_object_set_new(*rec, "signed", json_false());
	json_decref(root);
	return 0;
}
