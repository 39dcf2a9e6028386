/* claw-resolve: which IPSW a version spec means.
 *
 * SPEC (default: claw.yml's vm.macos) is `latest`, a version or a build
 * (ipsw.me), an http(s) URL, or a local .ipsw. `latest` is the newest macOS this
 * host can run: on a Mac, Virtualization.framework names it (common/vm.h) and
 * Apple's catalog gives its version, build and digest, found by URL; where there
 * is no such framework, the catalog's newest. A catalog with a newer macOS than
 * the host runs is noted on stderr. Prints the resolve record as key=value lines
 * (or --json); with -b also writes ipsw.json.
 * Exit: 0, 64 bad SPEC or usage, 65 a malformed answer, 66 no such file,
 * 69 nothing matches, 73/74 cannot write the bundle, 75 an endpoint is unreachable,
 * 78 bad config. */
#include "bundle.h"
#include "catalog.h"
#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "record.h"
#include "util.h"
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char usage[] =
	"usage: claw-resolve [-qv] [-b BUNDLE] [-c FILE] [--json] [--catalog-url URL] [--ipswme-url URL] [SPEC]\n"
	"       claw-resolve -h | --version\n";

enum { OPT_CATALOG = OPT_FIRST_PRIVATE, OPT_IPSWME };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "catalog-url", required_argument, NULL, OPT_CATALOG },
	{ "ipswme-url", required_argument, NULL, OPT_IPSWME },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static const char *endpoint(const char *flag, const char *env, const char *fallback)
{
	const char *e = getenv(env);
	return flag ? flag : e && *e ? e : fallback;
}

static json_t *resolve_url(const char *url);

/* What this host's hypervisor says it can run, as a catalog record; NULL where it cannot say
 * (no Virtualization.framework: then the catalog's newest is the answer). */
static json_t *host_latest(const char *doc, size_t len)
{
	char url[4096];
	json_t *rec;
	if (vm_latest_supported(url, sizeof url) < 0) {
		if (fail_code() != EX_UNAVAILABLE)
			warn("%s; taking the catalog's newest", fail_msg());
		return NULL;
	}
	info("Virtualization.framework: this host runs %s at newest", url);
	if (catalog_by_url(doc, len, url, &rec) == 0)
		return rec;
	warn("%s, the newest this host runs; no digest to check it by", fail_msg());
	return resolve_url(url);
}

static json_t *resolve_latest(const char *catalog_url)
{
	struct buf doc = BUF_ZERO;
	json_t *newest;
	info("reading %s", catalog_url);
	if (http_get(catalog_url, 32 << 20, &doc) < 0 || catalog_latest(doc.data, doc.len, &newest) < 0)
		die_err();
	json_t *rec = host_latest(doc.data, doc.len);
	buf_free(&doc);
	if (!rec)
		return newest;
	if (catalog_record_newer(newest, rec))
		warn("the catalog has macOS %s (%s), newer than this host supports; resolving %s (%s)",
		     json_string_value(json_object_get(newest, "version")), json_string_value(json_object_get(newest, "build")),
		     json_string_value(json_object_get(rec, "version")), json_string_value(json_object_get(rec, "build")));
	json_decref(newest);
	return rec;
}

static json_t *resolve_ipswme(const char *base, const char *spec)
{
	char *url = xasprintf("%s/device/%s", base, CATALOG_DEVICE);
	struct buf doc = BUF_ZERO;
	json_t *rec;
	info("reading %s", url);
	if (http_get(url, 32 << 20, &doc) < 0 || ipswme_select(doc.data, doc.len, spec, &rec) < 0)
		die_err();
	if (json_object_get(rec, "signed")) {
		warn("build %s is no longer signed by Apple; a restore from it may be refused", spec);
		json_object_del(rec, "signed");
	}
	buf_free(&doc);
	free(url);
	return rec;
}

static json_t *resolve_url(const char *url)
{
	json_t *rec = json_object();
	record_set(rec, "url", url);
	record_guess_from_name(rec, url);
	record_set(rec, "source", "url");
	return rec;
}

/* A local IPSW: its absolute path as a file:// URL, its size, what its name says. */
static json_t *resolve_file(const char *spec)
{
	const char *path = strncasecmp(spec, "file://", 7) ? spec : spec + 7;
	char *decoded = curl_easy_unescape(NULL, path, 0, NULL);
	char *abs = decoded ? realpath(decoded, NULL) : NULL;
	struct stat st;
	if (!abs || stat(abs, &st) < 0)
		die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s': %s", decoded ? decoded : path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die(EX_NOINPUT, "'%s' is not a file", abs);
	struct buf url = BUF_ZERO;
	buf_adds(&url, "file://");
	for (char *save = NULL, *seg = strtok_r(abs, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		char *esc = curl_easy_escape(NULL, seg, 0);
		buf_addf(&url, "/%s", esc);
		curl_free(esc);
	}
	json_t *rec = json_object();
	record_set(rec, "url", url.data);
	record_guess_from_name(rec, decoded);
	json_object_set_new(rec, "size", json_integer((json_int_t)st.st_size));
	record_set(rec, "source", "file");
	buf_free(&url);
	free(abs);
	curl_free(decoded);
	return rec;
}

/* Keys in the record's one order, whatever order they were found in. */
static json_t *ordered(json_t *rec)
{
	json_t *o = json_object();
	for (int i = 0; record_keys[i]; i++) {
		json_t *v = json_object_get(rec, record_keys[i]);
		if (v)
			json_object_set(o, record_keys[i], v);
	}
	json_decref(rec);
	return o;
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL, *catalog_flag = NULL, *ipswme_flag = NULL;
	int json = 0, opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_CATALOG: catalog_flag = optarg; break;
		case OPT_IPSWME: ipswme_flag = optarg; break;
		default: cli_common(opt);
		}
	}
	if (argc - optind > 1)
		cli_usage_error("one SPEC at most");

	struct bundle *b = NULL;
	if (bundle_arg && (bundle_open(bundle_arg, BUNDLE_CREATE, &b) < 0 || bundle_lock(b, true) < 0))
		die_err();
	struct claw_config *cfg = NULL;
	const char *spec = optind < argc ? argv[optind] : NULL;
	if (!spec) {
		if (cli_load_config(config_path, b, &cfg) < 0)
			die_err();
		spec = cfg->vm.macos;
	}

	json_t *rec = NULL;
	switch (spec_classify(spec)) {
	case SPEC_LATEST: rec = resolve_latest(endpoint(catalog_flag, "CLAW_CATALOG_URL", CATALOG_URL_DEFAULT)); break;
	case SPEC_VERSION:
	case SPEC_BUILD: rec = resolve_ipswme(endpoint(ipswme_flag, "CLAW_IPSWME_URL", IPSWME_URL_DEFAULT), spec); break;
	case SPEC_URL: rec = resolve_url(spec); break;
	case SPEC_FILE: rec = resolve_file(spec); break;
	case SPEC_BAD:
		cli_usage_error("'%s' is not a macOS spec: latest, a version (15, 15.2), a build (24C101), a URL or a .ipsw", spec);
	}
	rec = ordered(rec);

	if (b && bundle_write_json(b, BUNDLE_IPSW_JSON, rec, 0644) < 0)
		die_err();
	if (json) {
		cli_print_json(rec);
	} else {
		record_write_kv(rec, stdout);
	}
	cli_flush_stdout();
	json_decref(rec);
	config_free(cfg);
	bundle_close(b);
	return 0;
}
