/* claw-fetch: download an IPSW, verify it while it arrives, keep it in the cache.
 *
 * Input: a URL (http, https; file:// is used where it is), or a resolve record on
 * stdin (`claw-resolve latest | claw-fetch`), or the bundle's ipsw.json. A file
 * already at the destination whose digest matches is used as it is. Otherwise:
 * check the size and free space, download into NAME.part over -j connections
 * (resuming what an earlier run left), hash on the way, and only on a match
 * rename over the destination: what was there stays untouched until then. Memos
 * are kept in the cache only. Prints the verified file's path; with -b links the
 * bundle's restore.ipsw to it. --prune removes only what claw-fetch made.
 * Exit: 0; 64 usage; 65 digest or length mismatch; 66 no input; 69 HTTP 4xx or
 * a refused redirect; 73 no space, too large, or cannot create; 74 I/O; 75 network
 * (a rerun resumes); 128+N interrupted by signal N (a rerun resumes). */
#include "bundle.h"
#include "cache.h"
#include "cli.h"
#include "config.h"
#include "digest.h"
#include "http.h"
#include "log.h"
#include "progress.h"
#include "record.h"
#include "transfer.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-fetch [-qv] [-b BUNDLE] [-o PATH] [--cache DIR] [--sha256 HEX | --sha1 HEX] [-j N]\n"
	"                  [--max-size BYTES] [URL | -]\n"
	"       claw-fetch [-qv] [--cache DIR] [--json] --list\n"
	"       claw-fetch [-qv] [--cache DIR] --prune\n"
	"       claw-fetch -h | --version\n";

enum { OPT_CACHE = OPT_FIRST_PRIVATE, OPT_SHA256, OPT_SHA1, OPT_LIST, OPT_PRUNE, OPT_MAX_SIZE };

#define DEFAULT_MAX_SIZE ((uint64_t)64 << 30)

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "output", required_argument, NULL, 'o' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "sha1", required_argument, NULL, OPT_SHA1 },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_signal, transferring;

/* The paths this run works on, for its whole life (so an exit from any depth leaves nothing unowned). */
static struct {
	char *dir, *destdir, *dest, *part;
	char *shown;   /* the URL without user and password: what messages and memos show */
	bool in_cache; /* the destination is in claw's cache, where memos are kept */
} job;

/* While data arrives, a signal stops the transfer, which keeps what it has. Before then
 * (hashing a file already there, asking for the size) it ends the program at once, without
 * leaving the lock behind. */
static void on_signal(int sig)
{
	stop_signal = sig;
	if (transferring)
		return;
	cache_unlock_now();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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

/* The record given: the URL argument, or stdin ('-', or a pipe). Read before the bundle is
 * opened: in `claw-resolve -b B | claw-fetch -b B` the record comes from the stage that holds
 * B's lock until it has printed it. NULL when nothing was given and the bundle's record will do. */
static json_t *given_record(const char *arg, bool bundle_given)
{
	json_t *rec = NULL;
	if (arg && strcmp(arg, "-")) {
		rec = json_object();
		record_set(rec, "url", arg);
		return rec;
	}
	if (!arg && isatty(0))
		return NULL;
	struct buf in = BUF_ZERO;
	if (file_read("/dev/stdin", 1 << 20, &in) < 0)
		die_err();
	bool blank = true;
	for (size_t i = 0; i < in.len; i++)
		blank = blank && isspace((unsigned char)in.data[i]);
	if (!blank && record_parse(in.data, in.len, "standard input", &rec) < 0)
		die_err();
	buf_free(&in);
	if (!rec && (arg || !bundle_given))
		die(EX_NOINPUT, "nothing on standard input; expected a URL or a claw-resolve record");
	return rec;
}

/* Nothing given: the bundle's ipsw.json. */
static json_t *bundle_record(struct bundle *b)
{
	json_t *rec = NULL;
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

/* A file:// URL (any case: curl's schemes are) names a file used where it is; NULL for a
 * web URL; anything else is refused, before curl could be handed it. */
static char *local_path(const char *url)
{
	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8))
		return NULL;
	if (strncasecmp(url, "file://", 7))
		die(EX_USAGE, "'%s': claw-fetch takes http, https and file:// URLs", job.shown);
	const char *path = url + 7;
	if (!strncasecmp(path, "localhost/", 10))
		path += 9;
	if (path[0] != '/')
		die(EX_USAGE, "'%s': a file:// URL names a file on this machine, from '/'", job.shown);
	char *p = curl_easy_unescape(NULL, path, 0, NULL);
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

/* -o PATH: a regular file, or nothing yet. Anything else is not claw-fetch's to replace. */
static void check_output(const char *out)
{
	struct stat st;
	size_t n = strlen(out);
	if (n == 0 || out[n - 1] == '/')
		die(EX_CANTCREAT, "-o '%s': give the path of a file", out);
	if (lstat(out, &st) < 0) {
		if (errno != ENOENT)
			die(EX_CANTCREAT, "cannot use '%s': %s", out, strerror(errno));
		return;
	}
	const char *what = S_ISDIR(st.st_mode) ? "a directory" : S_ISLNK(st.st_mode) ? "a symbolic link"
			   : S_ISREG(st.st_mode) ? NULL : "a device or other special file";
	if (what)
		die(EX_CANTCREAT, "-o '%s' is %s; claw-fetch replaces only a regular file", out, what);
}

/* Is the destination's directory claw's cache? Only there is a memo kept beside a file. */
static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The file already at dest will do when its digest (remembered in the cache, else computed)
 * matches, or when no digest is known at all. It is never removed here: a download that
 * fails must leave it as it was. Only a memo of claw's is renewed: a file claw-fetch did not
 * make never gets one, so --prune never takes it for its own. */
static bool dest_current(const char *dest, enum digest_alg alg, const char *want)
{
	char hex[DIGEST_HEX_MAX];
	struct stat st;
	if (lstat(dest, &st) < 0)
		return false;
	if (!S_ISREG(st.st_mode))
		die(EX_CANTCREAT, "'%s' is not a regular file; claw-fetch replaces only a regular file", dest);
	if (!job.in_cache || !cache_memo_get(dest, alg, hex)) {
		if (!want) {
			info("'%s' is there and no digest says what it should hold: used as it is", dest);
			return true;
		}
		info("checking '%s'", dest);
		if (digest_file_hex(alg, dest, hex) < 0)
			die_err();
		if (job.in_cache && cache_memo_exists(dest) && cache_memo_put(dest, NULL, alg, hex, job.shown) < 0)
			warn("%s", fail_msg());
	}
	if (want && strcasecmp(hex, want)) {
		warn("'%s' does not match its %s; downloading it again (it stays until the new one is verified)", dest,
		     digest_name(alg));
		return false;
	}
	info("%s: '%s'", job.in_cache ? "cache hit" : "already there", dest);
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
		die(EX_DATAERR, "'%s' is %" PRId64 " bytes on the server; the record says %" PRId64, job.shown, h.size, want);
	return want >= 0 ? want : h.size;
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

static void download(const char *url, const char *part, int64_t size, int64_t max_size, enum digest_alg alg, int jobs,
		     char hex[DIGEST_HEX_MAX])
{
	struct transfer_opts o = { url, part, size, max_size, alg, jobs, env_int("CLAW_FETCH_STALL", 30, 1, 3600),
				   env_int("CLAW_FETCH_RETRIES", 10, 0, 1000), 250, &stop_signal, show_progress, NULL };
	struct transfer_result r;
	transferring = 1;
	int rc = transfer_run(&o, &r);
	progress_end();
	if (rc == TRANSFER_INTERRUPTED) {
		char kept[32];
		size_format((uint64_t)transfer_part_bytes(part), 0, kept);
		if (access(part, F_OK) == 0)
			warn("interrupted; %s kept in '%s', run again to resume", kept, part);
		else
			warn("interrupted before any byte arrived");
		exit(128 + stop_signal);
	}
	if (rc < 0)
		die_err();
	if (r.resumed)
		info("resumed what an earlier run left in '%s'", part);
	if (r.range_ignored)
		info("the server ignored Range requests; the download used one connection");
	memcpy(hex, r.hex, DIGEST_HEX_MAX);
}

static int list_or_prune(const char *dir, bool prune, bool json, bool default_cache)
{
	json_t *out, *kept = NULL;
	if ((prune ? cache_prune(dir, default_cache, &out, &kept) : cache_list(dir, &out)) < 0)
		die_err();
	size_t k;
	json_t *path;
	json_array_foreach(kept, k, path)
		warn("left alone, not made by claw-fetch: '%s'", json_string_value(path));
	json_decref(kept);
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

/* --max-size: bytes, or a size as claw.yml writes one (64GB). */
static int64_t parse_max_size(const char *s)
{
	uint64_t v;
	if ((parse_u64(s, &v) < 0 && config_parse_size(s, &v) < 0) || v == 0 || v > INT64_MAX)
		cli_usage_error("--max-size takes a size in bytes, or with KB, MB, GB or TB; not '%s'", s);
	return (int64_t)v;
}

/* Download into dest (through dest.part beside it), verified, and give it its name. */
static void fetch_to(json_t *rec, const char *url, enum digest_alg alg, const char *want, int jobs, int64_t max_size)
{
	char hex[DIGEST_HEX_MAX];
	char *destdir = job.destdir = xstrdup(job.dest);
	char *slash = strrchr(destdir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(destdir, ".");
	catch_signals();
	if (mkdir_p(destdir, 0755) < 0 || cache_lock(job.dest) < 0)
		die(fail_code(), "%s", fail_msg());
	atexit(cache_unlock); /* every way out, die() included, lets the next fetch in */
	job.in_cache = same_dir(destdir, job.dir);
	if (dest_current(job.dest, alg, want))
		return;
	job.part = xasprintf("%s.part", job.dest);
	/* Outside the cache a NAME.part may be anyone's (browsers keep theirs so): resumed or
	 * replaced only when claw's .state beside it says it is claw-fetch's own. */
	if (!job.in_cache && !transfer_part_ours(job.part))
		die(EX_CANTCREAT, "'%s' is there and is not a partial download of claw-fetch's (no .state beside it); "
				  "move it away", job.part);
	int64_t size = learn_size(rec, url);
	if (size >= 0 && transfer_check_room(job.part, url, size, max_size) < 0)
		die_err();
	if (!want)
		warn("no digest known for '%s'; %s", job.shown,
		     job.in_cache ? "its sha256 is recorded, but nothing checks it" : "nothing checks it");
	download(url, job.part, size, max_size, alg, jobs, hex);
	if (want && strcasecmp(hex, want))
		transfer_discard(job.part); /* a wrong file never reaches its name, nor waits to be resumed */
	check_digest(hex, alg, want, rec, job.shown);
	if (!want)
		info("sha256 %s", hex);
	if (job.in_cache && cache_memo_put(job.dest, job.part, alg, hex, job.shown) < 0)
		warn("%s", fail_msg());
	/* Only now does what was at dest give way, in one rename. */
	if (rename(job.part, job.dest) < 0 || fsync_dir(destdir) < 0)
		die(EX_IOERR, "cannot rename '%s': %s", job.part, strerror(errno));
	transfer_discard(job.part); /* its state */
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *out = NULL, *cache_flag = NULL, *sha256 = NULL, *sha1 = NULL;
	int jobs = 4, opt;
	int64_t max_size = (int64_t)DEFAULT_MAX_SIZE;
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
		case OPT_MAX_SIZE: max_size = parse_max_size(optarg); break;
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
	if (out)
		check_output(out);
	job.dir = cache_dir(cache_flag);
	if (list || prune) {
		char *home_cache = cache_dir(NULL);
		bool default_cache = !cache_flag || !strcmp(cache_flag, home_cache) || same_dir(cache_flag, home_cache);
		free(home_cache);
		return list_or_prune(job.dir, prune, json, default_cache);
	}

	json_t *rec = given_record(optind < argc ? argv[optind] : NULL, bundle_arg);
	struct bundle *b = NULL;
	if (bundle_arg && (bundle_open(bundle_arg, BUNDLE_CREATE, &b) < 0 || bundle_lock(b, true) < 0))
		die_err();
	if (!rec)
		rec = bundle_record(b);
	const char *url = rstr(rec, "url");
	if (!url)
		die(EX_DATAERR, "the record has no url");
	job.shown = http_redact(url);
	const char *want = sha256 ? sha256 : sha1 ? sha1 : rstr(rec, "sha256") ? rstr(rec, "sha256") : rstr(rec, "sha1");
	enum digest_alg alg = sha1 || (!sha256 && !rstr(rec, "sha256") && rstr(rec, "sha1")) ? DIGEST_SHA1 : DIGEST_SHA256;

	char *local = local_path(url);
	if (local) {
		/* A local IPSW is used where it is: verified, never copied. */
		job.dest = realpath(local, NULL);
		if (!job.dest)
			die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s': %s", local, strerror(errno));
		if (want) {
			char hex[DIGEST_HEX_MAX];
			if (digest_file_hex(alg, job.dest, hex) < 0)
				die_err();
			check_digest(hex, alg, want, rec, job.dest);
		}
	} else {
		char *name = cache_name(rec);
		job.dest = out ? xstrdup(out) : xasprintf("%s/%s", job.dir, name);
		free(name);
		fetch_to(rec, url, alg, want, jobs, max_size);
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
	free(job.shown);
	free(local);
	free(job.dir);
	json_decref(rec);
	bundle_close(b);
	return 0;
}
