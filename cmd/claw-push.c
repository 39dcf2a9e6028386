/* claw-push: a stopped machine to an OCI registry, in tart's layout, so that claw and
 * tart can pull it.
 *
 * Order of the work: check the bundle (restored, not running) and read its config.json;
 * push tart's config; cut disk.img in chunks of 512 MiB, compress them -j at a time (all
 * cores by default) as Apple LZ4 streams and upload each the registry does not hold yet
 * (HEAD first); then the auxiliary storage and the OCI config, and last the manifest with
 * tart's annotations, under every REF's tag. Nothing is written in the bundle; a rerun
 * uploads only what the registry is missing. Prints the pushed image, pinned:
 * HOST/REPO@sha256:....
 * Exit: 0 pushed; 64 usage or a reference that does not parse; 65 a bad config.json;
 * 66 no such bundle, or it is not restored; 69 the registry refused; 74 I/O; 75 network,
 * running, or busy; 77 credentials missing or refused. */
#include "bundle.h"
#include "cli.h"
#include "digest.h"
#include "diskchunk.h"
#include "log.h"
#include "oci.h"
#include "progress.h"
#include "run.h"
#include "tart.h"
#include "util.h"
#include "vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-push [-qv] [-j N] [--insecure[=HOST]] -b BUNDLE REF...\n"
	"       claw-push -h | --version\n";

enum { OPT_INSECURE = OPT_FIRST_PRIVATE };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "insecure", optional_argument, NULL, OPT_INSECURE },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

#define AUX_MAX ((size_t)1 << 30)

static struct {
	struct oci *oci;
	struct tart_image img;
	int disk;
	const char *disk_path;
	pthread_mutex_t mu;
	size_t next;
	bool failed;
	int err_code;
	char err_msg[1024];
	uint64_t done;
	long uploaded, skipped;
	long long started;
} push = { .mu = PTHREAD_MUTEX_INITIALIZER };

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void blob_name(const void *data, size_t len, struct tart_blob *out)
{
	char hex[DIGEST_HEX_MAX];
	digest_hex(DIGEST_SHA256, data, len, hex);
	snprintf(out->digest, sizeof out->digest, "sha256:%s", hex);
	out->size = len;
}

/* Upload a blob unless the registry holds it. */
static int ensure_blob(const struct tart_blob *b, const void *data)
{
	bool there;
	if (oci_blob_exists(push.oci, b->digest, &there) < 0)
		return -1;
	pthread_mutex_lock(&push.mu);
	there ? push.skipped++ : push.uploaded++;
	pthread_mutex_unlock(&push.mu);
	if (there) {
		info("%s is in the registry already", b->digest);
		return 0;
	}
	return oci_blob_put(push.oci, b->digest, data, (size_t)b->size);
}

static int push_chunk(struct tart_chunk *c)
{
	struct diskchunk_packed p;
	if (diskchunk_pack(push.disk, push.disk_path, c->offset, c->length, &p) < 0)
		return -1;
	strcpy(c->raw_digest, p.raw_digest);
	strcpy(c->blob.digest, p.digest);
	c->blob.size = p.size;
	int rc = ensure_blob(&c->blob, p.data);
	diskchunk_packed_free(&p);
	return rc;
}

static void *work(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&push.mu);
		size_t k = push.next++;
		bool stop = push.failed || k >= push.img.nchunks;
		pthread_mutex_unlock(&push.mu);
		if (stop)
			break;
		int rc = push_chunk(&push.img.chunks[k]);
		pthread_mutex_lock(&push.mu);
		if (rc < 0 && !push.failed) {
			push.failed = true;
			push.err_code = fail_code();
			snprintf(push.err_msg, sizeof push.err_msg, "%s", fail_msg());
		}
		push.done += push.img.chunks[k].length;
		double secs = (double)(now_ms() - push.started) / 1000.0;
		progress_line("pushing", (int64_t)push.done, (int64_t)push.img.disk_size, secs > 0 ? (double)push.done / secs : 0);
		pthread_mutex_unlock(&push.mu);
	}
	return NULL;
}

/* The chunk size: tart's 512 MiB; CLAW_PUSH_CHUNK (bytes, a multiple of 4096) for tests. */
static uint64_t chunk_size(void)
{
	const char *v = getenv("CLAW_PUSH_CHUNK");
	uint64_t n;
	if (v && parse_u64(v, &n) == 0 && n >= 4096 && n % 4096 == 0 && n <= TART_CHUNK)
		return n;
	return TART_CHUNK;
}

static void push_disk(uint64_t size, int jobs)
{
	uint64_t step = chunk_size();
	push.img.nchunks = size ? (size_t)((size + step - 1) / step) : 0;
	push.img.chunks = xcalloc(push.img.nchunks ? push.img.nchunks : 1, sizeof *push.img.chunks);
	for (size_t i = 0; i < push.img.nchunks; i++) {
		push.img.chunks[i].offset = i * step;
		push.img.chunks[i].length = size - i * step < step ? size - i * step : step;
	}
	push.img.disk_size = size;
	push.started = now_ms();
	pthread_t *ts = xcalloc((size_t)jobs, sizeof *ts);
	for (int i = 0; i < jobs; i++)
		if (pthread_create(&ts[i], NULL, work, NULL) != 0)
			die(EX_OSERR, "cannot start a worker thread");
	for (int i = 0; i < jobs; i++)
		pthread_join(ts[i], NULL);
	progress_end();
	free(ts);
	if (push.failed)
		die(push.err_code, "%s", push.err_msg);
}

static void push_small(const char *what, const void *data, size_t len, struct tart_blob *out)
{
	blob_name(data, len, out);
	if (ensure_blob(out, data) < 0)
		die(fail_code(), "%s: %s", what, fail_msg());
}

static void check_refs(int n, char **args, struct oci_ref *refs, const char *insecure)
{
	for (int i = 0; i < n; i++) {
		if (oci_ref_parse(args[i], &refs[i]) < 0)
			cli_usage_error("%s", fail_msg());
		if (*refs[i].digest)
			cli_usage_error("'%s': a push names tags, not a digest", args[i]);
		if (strcmp(refs[i].host, refs[0].host) || strcmp(refs[i].repo, refs[0].repo))
			cli_usage_error("'%s' and '%s' name different repositories; push to one at a time", args[0], args[i]);
	}
	if (insecure && oci_insecure_check(insecure, refs[0].host) < 0)
		cli_usage_error("%s", fail_msg());
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *insecure = NULL;
	int jobs = host_cpu_count(), opt;
	uint64_t n;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:j:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'j':
			if (parse_u64(optarg, &n) < 0 || n < 1 || n > 64)
				cli_usage_error("-j takes 1 to 64 chunks at once, not '%s'", optarg);
			jobs = (int)n;
			break;
		case OPT_INSECURE: insecure = optarg ? optarg : ""; break;
		default: cli_common(opt);
		}
	}
	if (!bundle_arg)
		cli_usage_error("-b BUNDLE names the machine to push");
	if (optind == argc)
		cli_usage_error("at least one image reference");
	struct oci_ref *refs = xcalloc((size_t)(argc - optind), sizeof *refs);
	check_refs(argc - optind, argv + optind, refs, insecure);
	if (jobs < 1)
		jobs = 1;
	if (jobs > 8)
		jobs = 8; /* each holds a compressed chunk in memory */

	struct bundle *b;
	if (bundle_open(bundle_arg, 0, &b) < 0 || bundle_lock(b, true) < 0)
		die_err();
	pid_t pid;
	if (run_alive(b, &pid))
		die(EX_TEMPFAIL, "'%s' is running (pid %ld); stop it first (claw stop %s)", bundle_name(b), (long)pid,
		    bundle_name(b));
	struct vmconfig vc;
	json_t *cj;
	if (!bundle_has(b, BUNDLE_VMCONFIG))
		die(EX_NOINPUT, "'%s' holds no machine yet (no %s)", bundle_path(b), BUNDLE_VMCONFIG);
	if (vmconfig_read(b, &vc) < 0 || bundle_read_json(b, BUNDLE_VMCONFIG, &cj) < 0)
		die_err();
	char *disk = bundle_file(b, BUNDLE_DISK), *aux = bundle_file(b, BUNDLE_AUX);
	struct stat st;
	push.disk_path = disk;
	push.disk = open(disk, O_RDONLY | O_CLOEXEC);
	if (push.disk < 0 || fstat(push.disk, &st) < 0)
		die(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open '%s': %s", disk, strerror(errno));
	struct buf nvram = BUF_ZERO;
	if (file_read(aux, AUX_MAX, &nvram) < 0)
		die_err();

	push.oci = oci_open(&refs[0], insecure != NULL);
	char *config = tart_config_from_claw(&vc, cj);
	push_small("tart's config", config, strlen(config), &push.img.config);
	push_disk((uint64_t)st.st_size, jobs);
	push_small("the auxiliary storage", nvram.data ? nvram.data : "", nvram.len, &push.img.nvram);
	char *oci_config = tart_oci_config(vc.disk_format);
	struct tart_blob oci_blob;
	push_small("the OCI config", oci_config, strlen(oci_config), &oci_blob);

	char date[32];
	time_t t = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	char *manifest = tart_manifest(&oci_blob, &push.img, date);
	for (int i = 0; i < argc - optind; i++)
		if (oci_manifest_put(push.oci, refs[i].tag, manifest, strlen(manifest)) < 0)
			die_err();
	char hex[DIGEST_HEX_MAX];
	digest_hex(DIGEST_SHA256, manifest, strlen(manifest), hex);
	info("%ld blobs uploaded, %ld in the registry already", push.uploaded, push.skipped);
	printf("%s/%s@sha256:%s\n", refs[0].host, refs[0].repo, hex);
	cli_flush_stdout();

	free(manifest);
	free(oci_config);
	free(config);
	buf_free(&nvram);
	close(push.disk);
	free(disk);
	free(aux);
	json_decref(cj);
	tart_image_free(&push.img);
	oci_close(push.oci);
	free(refs);
	bundle_close(b);
	return 0;
}
