/* claw-pull: a machine from an OCI registry, in tart's layout, into a bundle.
 *
 * Order of the work: read the manifest (an index is followed to its darwin/arm64 image)
 * and refuse what is not a tart VM; read tart's config and map it to claw's; then fetch
 * the blobs -j at a time through claw-fetch's transfer engine (each verified as it
 * arrives, a dropped connection continued at the byte), each disk chunk decoded at its
 * offset in pull/disk.img as it arrives (zero runs left as holes) and its uncompressed
 * digest checked; a rerun first skips the chunks already right. Only when every byte is verified do disk.img, aux.img, config.json and
 * image.json get their names; until then nothing in the bundle has one, and pull/ holds
 * what a rerun resumes from. Prints the image as pulled, pinned: HOST/REPO@sha256:....
 * Exit: 0 pulled (or already); 64 usage or a reference that does not parse; 65 not a
 * tart VM, or the registry sent bytes that do not match their digest; 66 no such image;
 * 69 the registry refused; 73 no room, or the bundle holds another machine; 74 I/O;
 * 75 network (a rerun resumes), running, or busy; 77 credentials missing or refused;
 * 128+N interrupted by signal N (a rerun resumes). */
#include "bundle.h"
#include "cli.h"
#include "diskchunk.h"
#include "log.h"
#include "oci.h"
#include "progress.h"
#include "run.h"
#include "tart.h"
#include "transfer.h"
#include "util.h"
#include "vmconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-pull [-qv] [-j N] [--insecure[=HOST]] -b BUNDLE REF\n"
	"       claw-pull -h | --version\n";

enum { OPT_INSECURE = OPT_FIRST_PRIVATE };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "insecure", optional_argument, NULL, OPT_INSECURE },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

#define PULL_DIR BUNDLE_PULL_DIR
#define PULL_DISK PULL_DIR "/" BUNDLE_DISK
#define PULL_AUX PULL_DIR "/" BUNDLE_AUX
#define CONFIG_MAX ((size_t)1 << 20)

static volatile sig_atomic_t stop_signal;
/* Set by a signal or by a worker's failure: every transfer and decoder stops at it. */
static volatile sig_atomic_t halt;

static void on_signal(int sig)
{
	stop_signal = sig;
	halt = 1;
}

/* The work: the NVRAM blob (item 0) and the disk chunks, taken in order by -j workers. */
static struct {
	struct bundle *b;
	struct oci *oci;
	struct tart_image img;
	int disk;    /* pull/disk.img */
	int ddisk;   /* the same, past the page cache (-1 where the file system has no such way) */
	bool fresh;  /* made by this run: its unwritten parts are zeros already */
	pthread_mutex_t mu;
	size_t next;
	int err_code;
	char err_msg[1024];
	int64_t done_bytes, *active; /* compressed bytes finished, and each worker's current */
	int64_t total;
	long long started;
} pull = { .mu = PTHREAD_MUTEX_INITIALIZER };

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first failure wins; the others stop. Under mu. */
static void record_failure(void)
{
	if (!pull.err_code) {
		pull.err_code = fail_code();
		snprintf(pull.err_msg, sizeof pull.err_msg, "%s", fail_msg());
	}
	halt = 1;
}

static void draw(void)
{
	int64_t done = pull.done_bytes;
	for (int i = 0; pull.active[i] >= 0; i++)
		done += pull.active[i];
	double secs = (double)(now_ms() - pull.started) / 1000.0;
	progress_line("pulling", done, pull.total, secs > 0 ? (double)done / secs : 0);
}

struct worker {
	int id;
	pthread_t t;
};

static void on_progress(const struct transfer_progress *p, void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&pull.mu);
	pull.active[w->id] = p->done;
	draw();
	pthread_mutex_unlock(&pull.mu);
}

/* Fetch layer k's blob, verified: into pull/K-HEX.part (chunks alike, zeros say, share a
 * blob, not a file), whose path it returns; or, given an unpacker, through it as it arrives
 * (the path returned is then only a name, its file gone). */
static char *fetch_blob(struct worker *w, size_t k, const struct tart_blob *blob, struct diskchunk_unpacker *u)
{
	char *name = xasprintf(PULL_DIR "/%zu-%s.part", k, blob->digest + 7);
	char *part = bundle_file(pull.b, name);
	free(name);
	char *url = oci_blob_url(pull.oci, blob->digest);
	struct transfer_opts o = { .url = url, .part = part, .size = (int64_t)blob->size, .alg = DIGEST_SHA256,
				   .connections = u ? 1 : 2, .stall_seconds = 30, .retries = 10, .backoff_ms = 250,
				   .stop = &halt, .progress = on_progress, .arg = w, .prepare = oci_prepare_handle,
				   .prepare_arg = pull.oci };
	if (u) {
		o.sink = diskchunk_feed;
		o.sink_restart = diskchunk_restart;
		o.sink_arg = u;
	}
	struct transfer_result r;
	int rc = transfer_run(&o, &r);
	free(url);
	/* Bytes that are not the blob, whether or not they decoded: the registry's fault. */
	if (rc != TRANSFER_INTERRUPTED && r.hex[0] && strcmp(r.hex, blob->digest + 7)) {
		/* A wrong blob never waits to be resumed. */
		transfer_discard(part);
		rc = fail(EX_DATAERR, "the registry lies: blob %s hashes to sha256:%s", blob->digest, r.hex);
	}
	if (rc != 0) {
		if (rc == TRANSFER_INTERRUPTED) {
			fail(EX_TEMPFAIL, "interrupted");
		} else if (u && r.hex[0] && !strcmp(r.hex, blob->digest + 7)) {
			/* The right bytes that do not decode: the image's fault, named. */
			char *why = xstrdup(fail_msg());
			fail(fail_code(), "blob %s: %s", blob->digest, why);
			free(why);
		}
		free(part);
		return NULL;
	}
	return part;
}

static int pull_nvram(struct worker *w)
{
	char *part = fetch_blob(w, 0, &pull.img.nvram, NULL);
	if (!part)
		return -1;
	char *aux = bundle_file(pull.b, PULL_AUX);
	/* The auxiliary storage is the machine's own, like its disk: its owner's alone. */
	int rc = chmod(part, 0600) < 0 || rename(part, aux) < 0 ? fail_sys(EX_IOERR, "cannot rename '%s'", part) : 0;
	transfer_discard(part);
	free(aux);
	free(part);
	return rc;
}

static int pull_chunk(struct worker *w, size_t k, const struct tart_chunk *c)
{
	bool there = false;
	if (!pull.fresh && diskchunk_matches(pull.disk, c->offset, c->length, c->raw_digest, &there) < 0)
		return -1;
	if (there) {
		info("chunk at %" PRIu64 " is already on disk", c->offset);
		return 0;
	}
	/* Decoded as it arrives: the blob is never on disk, so a chunk cut short is fetched
	 * again whole by the next run, which keeps every chunk already right. */
	struct diskchunk_unpacker *u = diskchunk_unpacker_new(pull.disk, pull.ddisk, c->offset, c->length, pull.fresh);
	char *part = fetch_blob(w, k, &c->blob, u);
	int rc = part ? diskchunk_finish(u, c->raw_digest) : -1;
	diskchunk_unpacker_free(u);
	/* The disk starts writing the chunk now, so that the fsync at the end waits for little. */
	if (rc == 0)
		start_writeback(pull.disk, (int64_t)c->offset, (int64_t)c->length);
	free(part);
	return rc;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		pthread_mutex_lock(&pull.mu);
		size_t k = pull.next++;
		bool stop = halt || k > pull.img.nchunks;
		pthread_mutex_unlock(&pull.mu);
		if (stop)
			break;
		const struct tart_blob *blob = k == 0 ? &pull.img.nvram : &pull.img.chunks[k - 1].blob;
		int rc = k == 0 ? pull_nvram(w) : pull_chunk(w, k, &pull.img.chunks[k - 1]);
		pthread_mutex_lock(&pull.mu);
		if (rc < 0)
			record_failure();
		pull.active[w->id] = 0;
		pull.done_bytes += (int64_t)blob->size;
		pthread_mutex_unlock(&pull.mu);
	}
	return NULL;
}

static void pull_layers(int jobs)
{
	struct worker *ws = xcalloc((size_t)jobs, sizeof *ws);
	pull.active = xcalloc((size_t)jobs + 1, sizeof *pull.active);
	pull.active[jobs] = -1;
	pull.total = (int64_t)(pull.img.compressed_size + pull.img.nvram.size);
	pull.started = now_ms();
	for (int i = 0; i < jobs; i++) {
		ws[i].id = i;
		if (pthread_create(&ws[i].t, NULL, work, &ws[i]) != 0)
			die(EX_OSERR, "cannot start a worker thread");
	}
	for (int i = 0; i < jobs; i++)
		pthread_join(ws[i].t, NULL);
	progress_end();
	free(ws);
	if (stop_signal) {
		warn("interrupted; run again to resume");
		exit(128 + stop_signal);
	}
	if (pull.err_code)
		die(pull.err_code, "%s", pull.err_msg);
}

/* pull/disk.img at the disk's size: made now (fresh), or what an earlier run left. */
static void open_disk(void)
{
	if (bundle_mkdir(pull.b, PULL_DIR, 0700) < 0)
		die_err();
	char *path = bundle_file(pull.b, PULL_DISK);
	struct stat st;
	pull.fresh = stat(path, &st) < 0;
	pull.disk = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (pull.disk < 0)
		die(EX_CANTCREAT, "cannot create '%s': %s", path, strerror(errno));
	if (ftruncate(pull.disk, (off_t)pull.img.disk_size) < 0)
		die(errno == EFBIG || errno == ENOSPC ? EX_CANTCREAT : EX_IOERR, "cannot size '%s': %s", path, strerror(errno));
	pull.ddisk = open_uncached(pull.disk, path);
	if (!pull.fresh)
		info("resuming the pull in '%s'", path);
	free(path);
}

static void check_space(void)
{
	int64_t avail;
	if (free_space(bundle_path(pull.b), &avail) < 0)
		die_err();
	/* The compressed blobs at the least; the disk itself is sparse and may need as much again. */
	int64_t need = (int64_t)(pull.img.compressed_size + pull.img.nvram.size);
	if (need > avail) {
		char n[32], f[32];
		size_format((uint64_t)need, 0, n);
		size_format((uint64_t)avail, 0, f);
		die(EX_CANTCREAT, "not enough space in '%s': need %s at least, %s free", bundle_path(pull.b), n, f);
	}
}

/* Where a bundle stands: 0 to pull, 1 when it holds this image already. */
static int bundle_state(const char *digest)
{
	if (bundle_has(pull.b, PULL_DIR))
		return 0;
	json_t *img = NULL;
	if (bundle_has(pull.b, BUNDLE_IMAGE_JSON) && bundle_read_json(pull.b, BUNDLE_IMAGE_JSON, &img) == 0) {
		const char *d = json_string_value(json_object_get(img, "digest"));
		bool same = d && !strcmp(d, digest) && bundle_has(pull.b, BUNDLE_DISK) && bundle_has(pull.b, BUNDLE_VMCONFIG);
		json_decref(img);
		if (same)
			return 1;
	}
	if (bundle_has(pull.b, BUNDLE_DISK) || bundle_has(pull.b, BUNDLE_VMCONFIG))
		die(EX_CANTCREAT, "'%s' already holds a machine; pull into a new bundle (or claw rm it first)",
		    bundle_path(pull.b));
	return 0;
}

static void write_image_json(const struct oci_ref *ref, const char *digest)
{
	char date[32];
	time_t t = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	char *name = oci_ref_string(ref);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "ref", name, "registry", ref->host,
			      "repository", ref->repo, "digest", digest, "diskSize", (json_int_t)pull.img.disk_size,
			      "compressedSize", (json_int_t)pull.img.compressed_size, "format", "tart", "date", date);
	if (*ref->tag)
		json_object_set_new(o, "tag", json_string(ref->tag));
	if (bundle_write_json(pull.b, BUNDLE_IMAGE_JSON, o, 0644) < 0)
		die_err();
	json_decref(o);
	free(name);
}

/* A run killed between writing a chunk and discarding its blob leaves the .part (and its
 * state) behind; the rerun finds the chunk on disk and never fetches that blob again. pull/
 * is claw-pull's own staging and holds only such files once the disk and aux have moved. */
static void sweep_pull_dir(int dfd)
{
	int fd = openat(dfd, PULL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
}

/* Everything verified: give the files their names, config.json and image.json last. */
static void finish(const struct oci_ref *ref, const char *digest, const struct vmconfig *vc)
{
	if (pull.ddisk >= 0)
		close(pull.ddisk);
	if (fsync_full(pull.disk) < 0 || close(pull.disk) < 0)
		die(EX_IOERR, "cannot write '%s/%s': %s", bundle_path(pull.b), PULL_DISK, strerror(errno));
	int dfd = bundle_dirfd(pull.b);
	if (renameat(dfd, PULL_DISK, dfd, BUNDLE_DISK) < 0 || renameat(dfd, PULL_AUX, dfd, BUNDLE_AUX) < 0)
		die(EX_IOERR, "cannot rename into '%s': %s", bundle_path(pull.b), strerror(errno));
	if (fsync_dir(bundle_path(pull.b)) < 0 || vmconfig_write(pull.b, vc) < 0)
		die_err();
	write_image_json(ref, digest);
	sweep_pull_dir(dfd);
	if (unlinkat(dfd, PULL_DIR, AT_REMOVEDIR) < 0)
		warn("cannot remove '%s/%s': %s", bundle_path(pull.b), PULL_DIR, strerror(errno));
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *insecure = NULL;
	int jobs = 4, opt;
	uint64_t n;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:j:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'j':
			if (parse_u64(optarg, &n) < 0 || n < 1 || n > 16)
				cli_usage_error("-j takes 1 to 16 blobs at once, not '%s'", optarg);
			jobs = (int)n;
			break;
		case OPT_INSECURE: insecure = optarg ? optarg : ""; break;
		default: cli_common(opt);
		}
	}
	if (argc - optind != 1)
		cli_usage_error("one image reference");
	if (!bundle_arg)
		cli_usage_error("-b BUNDLE names where the machine goes");
	struct oci_ref ref;
	if (oci_ref_parse(argv[optind], &ref) < 0 || (insecure && oci_insecure_check(insecure, ref.host) < 0))
		cli_usage_error("%s", fail_msg());

	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (bundle_open(bundle_arg, BUNDLE_CREATE, &pull.b) < 0 || bundle_lock(pull.b, true) < 0)
		die_err();
	pid_t pid;
	if (run_alive(pull.b, &pid))
		die(EX_TEMPFAIL, "'%s' is running (pid %ld)", bundle_name(pull.b), (long)pid);

	pull.oci = oci_open(&ref, insecure != NULL);
	json_t *manifest;
	char digest[OCI_DIGEST_MAX];
	if (oci_manifest_get(pull.oci, *ref.digest ? ref.digest : ref.tag, &manifest, digest) < 0 ||
	    tart_image_parse(manifest, &pull.img) < 0)
		die_err();
	json_decref(manifest);
	char *pinned = xasprintf("%s/%s@%s", ref.host, ref.repo, digest);
	if (bundle_state(digest) == 1) {
		info("'%s' already holds %s", bundle_name(pull.b), pinned);
	} else {
		struct buf cfg = BUF_ZERO;
		struct vmconfig vc;
		if (oci_blob_get(pull.oci, pull.img.config.digest, CONFIG_MAX, &cfg) < 0 ||
		    tart_config_to_claw(cfg.data, cfg.len, pull.img.disk_size, &vc) < 0)
			die_err();
		buf_free(&cfg);
		check_space();
		open_disk();
		pull_layers(jobs);
		finish(&ref, digest, &vc);
	}
	puts(pinned);
	cli_flush_stdout();
	free(pinned);
	tart_image_free(&pull.img);
	oci_close(pull.oci);
	bundle_close(pull.b);
	return 0;
}
