/* claw-fetch: download an IPSW, verify it while it arrives, keep it in the cache.
 *
 * Input: a URL, or a resolve record on stdin (`claw-resolve latest | claw-fetch`),
 * or the bundle's ipsw.json. A cached copy whose remembered digest still matches
 * is used as it is. Otherwise: check free space, download into NAME.part over
 * -j connections (resuming what an earlier run left), hash on the way, and only
 * on a match rename into place. Prints the verified file's path; with -b links
 * the bundle's restore.ipsw to it.
 * Exit: 0; 64 usage; 65 digest or length mismatch; 66 no input; 69 HTTP 4xx;
 * 73 no space or cannot create; 74 I/O; 75 network (a rerun resumes);
 * 128+N interrupted by signal N (a rerun resumes). */
#include "bundle.h"
#include "cache.h"
#include "cli.h"
#include "digest.h"
#include "http.h"
#include "log.h"
#include "progress.h"
#include "record.h"
#include "transfer.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-fetch [-qv] [-b BUNDLE] [-o PATH] [--cache DIR] [--sha256 HEX | --sha1 HEX] [-j N] [URL | -]\n"
	"       claw-fetch [-qv] [--cache DIR] [--json] --list\n"
	"       claw-fetch [-qv] [--cache DIR] --prune\n"
	"       claw-fetch -h | --version\n";

enum { OPT_CACHE = OPT_FIRST_PRIVATE, OPT_SHA256, OPT_SHA1, OPT_LIST, OPT_PRUNE };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "output", required_argument, NULL, 'o' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "sha1", required_argument, NULL, OPT_SHA1 },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_signal;

/* The paths this run works on, for its whole life (so an exit from any depth leaves nothing unowned). */
static struct {
	char *dir, *destdir, *dest, *part;
} job;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int env_int(const char *name, int fallback, int lo, int hi)
{
	const char *v = getenv(name);
	uint64_t n;
	if (!v || parse_u64(v, &n) < 0 || n < (uint64_t)lo || n > (uint64_t)hi)
		return fallback;
	return (int)n;
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/* The record: the URL argument, stdin ('-', or a pipe), or the bundle's ipsw.json. */
static json_t *read_record(const char *arg, struct bundle *b)
{
	json_t *rec = NULL;
	if (arg && strcmp(arg, "-")) {
		rec = json_object();
		record_set(rec, "url", arg);
		return rec;
	}
	if (arg || !isatty(0)) {
		struct buf in = BUF_ZERO;
		if (file_read("/dev/stdin", 1 << 20, &in) < 0)
			die_err();
		bool blank = true;
		for (size_t i = 0; i < in.len; i++)
			blank = blank && isspace((unsigned char)in.data[i]);
		if (!blank && record_parse(in.data, in.len, "standard input", &rec) < 0)
			die_err();
		buf_free(&in);
		if (rec)
			return rec;
		if (arg || !b)
			die(EX_NOINPUT, "nothing on standard input; expected a URL or a claw-resolve record");
	}
	if (!b)
		cli_usage_error("no URL: give one, pipe a claw-resolve record, or -b a resolved bundle");
	if (bundle_read_json(b, BUNDLE_IPSW_JSON, &rec) < 0)
		die(fail_code(), "%s (run claw-resolve -b %s first)", fail_msg(), bundle_name(b));
	return rec;
}

static const char *rstr(json_t *rec, const char *k)
{
	return json_string_value(json_object_get(rec, k));
}

static char *local_path(const char *url)
{
	if (strncmp(url, "file://", 7))
		return NULL;
	char *p = curl_easy_unescape(NULL, url + 7, 0, NULL);
	char *r = xstrdup(p);
	curl_free(p);
	return r;
}

static void check_digest(const char *hex, enum digest_alg alg, const char *want, json_t *rec, const char *what)
{
	if (want && strcasecmp(hex, want))
		die(EX_DATAERR, "%s mismatch for '%s': got %s, expected %s (from %s)", digest_name(alg), what, hex, want,
		    rstr(rec, "source") ? rstr(rec, "source") : "the command line");
	if (want)
		info("verified %s %s%s", digest_name(alg), hex, alg == DIGEST_SHA1 ? " (SHA-1 is all the source gives)" : "");
}

/* A cached file is a hit when its remembered digest (or, if the memo is stale, a fresh one) matches. */
static bool cache_hit(const char *dest, enum digest_alg alg, const char *want, json_t *rec)
{
	char hex[DIGEST_HEX_MAX];
	if (access(dest, F_OK) < 0)
		return false;
	if (!cache_memo_get(dest, alg, hex)) {
		info("checking '%s'", dest);
		if (digest_file_hex(alg, dest, hex) < 0)
			die_err();
		if (cache_memo_put(dest, alg, hex, rstr(rec, "url")) < 0)
			warn("%s", fail_msg());
	}
	if (want && strcasecmp(hex, want)) {
		warn("'%s' does not match its %s; downloading it again", dest, digest_name(alg));
		if (unlink(dest) < 0)
			die(EX_IOERR, "cannot remove '%s': %s", dest, strerror(errno));
		return false;
	}
	info("cache hit: '%s'", dest);
	return true;
}

static int64_t learn_size(json_t *rec, const char *url)
{
	json_t *s = json_object_get(rec, "size");
	int64_t want = json_is_integer(s) ? (int64_t)json_integer_value(s) : -1;
	struct http_head h;
	if (http_head(url, &h) < 0) {
		if (h.status != 405 && h.status != 501)
			die_err();
		/* A server that refuses HEAD: the record's size, or none; the GET will say the rest. */
		info("HEAD refused (%s); going on without it", fail_msg());
		return want;
	}
	if (want >= 0 && h.size >= 0 && h.size != want)
		die(EX_DATAERR, "'%s' is %" PRId64 " bytes on the server; the record says %" PRId64, url, h.size, want);
	return want >= 0 ? want : h.size;
}

static void check_space(const char *dir, int64_t size, const char *part)
{
	int64_t free_bytes;
	if (size < 0)
		return;
	if (free_space(dir, &free_bytes) < 0)
		die_err();
	int64_t need = size - transfer_part_bytes(part);
	if (need > free_bytes) {
		char n[32], f[32];
		size_format((uint64_t)need, 0, n);
		size_format((uint64_t)free_bytes, 0, f);
		die(EX_CANTCREAT, "not enough space in '%s': need %s, %s free", dir, n, f);
	}
}

static void show_progress(const struct transfer_progress *p, void *arg)
{
	(void)arg;
	progress_line(p->checking ? "checking" : "fetching", p->checking ? p->hashed : p->done, p->total, p->rate);
	for (int i = 0; i < p->nconns; i++) {
		char r[32];
		size_format((uint64_t)p->conns[i].rate, 0, r);
		progress_detail("[%d] %" PRId64 "-%" PRId64 " %3d%% %s/s", i + 1, p->conns[i].start, p->conns[i].end,
				(int)(p->conns[i].done * 100 / (p->conns[i].end - p->conns[i].start + !(p->conns[i].end - p->conns[i].start))), r);
	}
}

static void download(const char *url, const char *part, int64_t size, enum digest_alg alg, int jobs, char hex[DIGEST_HEX_MAX])
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct transfer_opts o = { url, part, size, alg, jobs, env_int("CLAW_FETCH_STALL", 30, 1, 3600),
				   env_int("CLAW_FETCH_RETRIES", 10, 0, 1000), 250, &stop_signal, show_progress, NULL };
	struct transfer_result r;
	int rc = transfer_run(&o, &r);
	progress_end();
	if (rc == TRANSFER_INTERRUPTED) {
		char kept[32];
		size_format((uint64_t)transfer_part_bytes(part), 0, kept);
		warn("interrupted; %s kept in '%s', run again to resume", kept, part);
		exit(128 + stop_signal);
	}
	if (rc < 0)
		die_err();
	if (r.range_ignored)
		info("the server ignored Range requests; the download used one connection");
	memcpy(hex, r.hex, DIGEST_HEX_MAX);
}

static int list_or_prune(const char *dir, bool prune, bool json)
{
	json_t *out;
	if ((prune ? cache_prune(dir, &out) : cache_list(dir, &out)) < 0)
		die_err();
	size_t i;
	json_t *it;
	if (json) {
		cli_print_json(out);
	} else {
		json_array_foreach(out, i, it) {
			if (prune) {
				puts(json_string_value(it));
				continue;
			}
			char size[32];
			size_format((uint64_t)json_integer_value(json_object_get(it, "size")), 0, size);
			json_t *u = json_object_get(it, "used_by");
			printf("%-40s %8s %-7s %s\n", rstr(it, "name"), size,
			       rstr(it, "sha256") ? "sha256" : rstr(it, "sha1") ? "sha1" : "-",
			       json_array_size(u) ? json_string_value(json_array_get(u, 0)) : "-");
		}
	}
	json_decref(out);
	return 0;
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *out = NULL, *cache_flag = NULL, *sha256 = NULL, *sha1 = NULL;
	int jobs = 4, opt;
	bool list = false, prune = false, json = false;
	uint64_t n;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:o:j:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'o': out = optarg; break;
		case 'j':
			if (parse_u64(optarg, &n) < 0 || n < 1 || n > 16)
				cli_usage_error("-j takes 1 to 16 connections, not '%s'", optarg);
			jobs = (int)n;
			break;
		case OPT_CACHE: cache_flag = optarg; break;
		case OPT_SHA256: sha256 = optarg; break;
		case OPT_SHA1: sha1 = optarg; break;
		case OPT_LIST: list = true; break;
		case OPT_PRUNE: prune = true; break;
		case OPT_JSON: json = true; break;
		default: cli_common(opt);
		}
	}
	if (argc - optind > 1)
		cli_usage_error("one URL at most");
	if (sha256 && sha1)
		cli_usage_error("--sha256 and --sha1 both name the digest; give one");
	if (sha256 && !is_hex(sha256, 64))
		cli_usage_error("--sha256 takes 64 hex digits");
	if (sha1 && !is_hex(sha1, 40))
		cli_usage_error("--sha1 takes 40 hex digits");
	if ((list || prune) && (list == prune || optind < argc || bundle_arg || out))
		cli_usage_error("--list and --prune stand alone");
	job.dir = cache_dir(cache_flag);
	if (list || prune)
		return list_or_prune(job.dir, prune, json);

	struct bundle *b = NULL;
	if (bundle_arg && (bundle_open(bundle_arg, BUNDLE_CREATE, &b) < 0 || bundle_lock(b, true) < 0))
		die_err();
	json_t *rec = read_record(optind < argc ? argv[optind] : NULL, b);
	const char *url = rstr(rec, "url");
	if (!url)
		die(EX_DATAERR, "the record has no url");
	const char *want = sha256 ? sha256 : sha1 ? sha1 : rstr(rec, "sha256") ? rstr(rec, "sha256") : rstr(rec, "sha1");
	enum digest_alg alg = sha1 || (!sha256 && !rstr(rec, "sha256") && rstr(rec, "sha1")) ? DIGEST_SHA1 : DIGEST_SHA256;

	char hex[DIGEST_HEX_MAX];
	char *local = local_path(url);
	if (local) {
		/* A local IPSW is used where it is: verified, never copied. */
		job.dest = realpath(local, NULL);
		if (!job.dest)
			die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s': %s", local, strerror(errno));
		if (want) {
			if (digest_file_hex(alg, job.dest, hex) < 0)
				die_err();
			check_digest(hex, alg, want, rec, job.dest);
		}
	} else {
		char *name = cache_name(rec);
		job.dest = out ? xstrdup(out) : xasprintf("%s/%s", job.dir, name);
		free(name);
		char *destdir = job.destdir = xstrdup(job.dest);
		char *slash = strrchr(destdir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(destdir, ".");
		if (mkdir_p(destdir, 0755) < 0 || cache_lock(job.dest) < 0)
			die(stop_signal ? 128 + stop_signal : fail_code(), "%s", fail_msg());
		atexit(cache_unlock); /* every way out, die() included, lets the next fetch in */
		if (!cache_hit(job.dest, alg, want, rec)) {
			job.part = xasprintf("%s.part", job.dest);
			int64_t size = learn_size(rec, url);
			check_space(destdir, size, job.part);
			if (!want)
				warn("no digest known for '%s'; its sha256 is recorded, but nothing checks it", url);
			download(url, job.part, size, alg, jobs, hex);
			if (want && strcasecmp(hex, want))
				transfer_discard(job.part); /* a wrong file never reaches its name, nor waits to be resumed */
			check_digest(hex, alg, want, rec, url);
			if (rename(job.part, job.dest) < 0 || fsync_dir(destdir) < 0)
				die(EX_IOERR, "cannot rename '%s': %s", job.part, strerror(errno));
			if (cache_memo_put(job.dest, alg, hex, url) < 0)
				warn("%s", fail_msg());
		}

		char *abs = realpath(job.dest, NULL);
		free(job.dest);
		job.dest = abs;
	}
	if (b && bundle_symlink(b, BUNDLE_IPSW, job.dest) < 0)
		die_err();
	puts(job.dest);
	cli_flush_stdout();
	free(job.dest);
	free(job.part);
	free(job.destdir);
	free(local);
	free(job.dir);
	json_decref(rec);
	bundle_close(b);
	return 0;
}
