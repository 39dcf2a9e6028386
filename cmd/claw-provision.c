/* claw-provision: install what claw.yml's tools: asks for, over SSH, step by step.
 *
 * Generates provision.sh (hostname, Command Line Tools, Homebrew, formulae,
 * casks, npm globals, each custom command, Screen Sharing, SSH hardening),
 * waits for the guest's first-boot marker, uploads the script as a file and
 * runs it with stdin from /dev/null over one master connection, streaming the
 * guest's output. Keeps provision.log and provision.json (each step's status
 * and seconds). Works on any Mac reachable by SSH with --host.
 * Exit: 0 all steps passed; 1 a step failed; 64 usage; 66 no address;
 * 75 the guest is not ready or the connection failed; 77 host key mismatch; 78 bad config. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "guest.h"
#include "log.h"
#include "progress.h"
#include "script.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-provision [-qv] (-b BUNDLE | --host HOST) [-c FILE] [--port PORT] [--user USER]\n"
	"                      [--print-script] [--from-step N] [--timeout SECONDS]\n"
	"       claw-provision -h | --version\n";

enum { OPT_PRINT = OPT_FIRST_PRIVATE, OPT_FROM, OPT_TIMEOUT };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	GUEST_OPTIONS,
	{ "print-script", no_argument, NULL, OPT_PRINT },
	{ "from-step", required_argument, NULL, OPT_FROM },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* The remote file the script is uploaded to, relative to the user's home: a constant. */
#define REMOTE_SCRIPT ".claw-provision.sh"

/* What the guest says, line by line: its output to stdout and the log, its markers into the steps. */
struct run {
	json_t *steps;
	int logfd;
	struct buf line;
	time_t began, started[1024];
};

static json_t *step_n(struct run *r, long n)
{
	return n >= 1 ? json_array_get(r->steps, (size_t)n - 1) : NULL;
}

static void on_line(struct run *r, const char *line)
{
	long n;
	char word[32];
	if (sscanf(line, "=== [%ld/", &n) == 1 && step_n(r, n)) {
		r->started[n % 1024] = time(NULL);
		json_object_set_new(step_n(r, n), "status", json_string("running"));
		/* Where it is and how long it has taken, on a terminal (or with -v): the guest's own output is on stdout. */
		if (progress_enabled() || log_level() >= LOG_VERBOSE)
			fprintf(stderr, "%s: [%ld/%zu] %s (%lds in)\n", log_prog(), n, json_array_size(r->steps),
				json_string_value(json_object_get(step_n(r, n), "title")), (long)(time(NULL) - r->began));
		return;
	}
	if (sscanf(line, "STEP_%31[A-Z] %ld/", word, &n) != 2 || !step_n(r, n))
		return;
	const char *status = !strcmp(word, "COMPLETE") ? "ok" : !strcmp(word, "FAILED") ? "failed" : "skipped";
	json_object_set_new(step_n(r, n), "status", json_string(status));
	if (r->started[n % 1024])
		json_object_set_new(step_n(r, n), "seconds", json_integer(time(NULL) - r->started[n % 1024]));
}

static void on_output(const char *data, size_t len, void *arg)
{
	struct run *r = arg;
	fwrite(data, 1, len, stdout);
	fflush(stdout);
	if (r->logfd >= 0 && write_all(r->logfd, data, len) < 0) {
		warn("cannot write provision.log: %s", strerror(errno));
		close(r->logfd);
		r->logfd = -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			buf_add(&r->line, data + i, 1);
			continue;
		}
		if (r->line.data)
			on_line(r, r->line.data);
		r->line.len = 0;
		if (r->line.data)
			r->line.data[0] = '\0';
	}
}

static int count_status(json_t *steps, const char *status)
{
	int n = 0;
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s)
		n += !strcmp(json_string_value(json_object_get(s, "status")), status);
	return n;
}

static void write_results(struct bundle *b, struct run *r)
{
	if (!b)
		return;
	char ts[32];
	time_t now = time(NULL);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_t *j = json_pack("{s:O, s:i, s:s}", "steps", r->steps, "failed", count_status(r->steps, "failed"), "timestamp", ts);
	if (bundle_write_json(b, BUNDLE_PROVISION_JSON, j, 0644) < 0)
		warn("%s", fail_msg());
	json_decref(j);
}

static int open_log(struct bundle *b)
{
	if (!b)
		return -1;
	int fd = openat(bundle_dirfd(b), BUNDLE_PROVISION_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		die(EX_CANTCREAT, "cannot create '%s/%s': %s", bundle_path(b), BUNDLE_PROVISION_LOG, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL;
	struct guest_args ga = { NULL, NULL, 0 };
	bool print_only = false;
	int from = 1, timeout = 600, opt;
	uint64_t n;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_PRINT: print_only = true; break;
		case OPT_FROM:
			if (parse_u64(optarg, &n) < 0 || n < 1 || n > 999)
				cli_usage_error("--from-step takes a step number, not '%s'", optarg);
			from = (int)n;
			break;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, &n) < 0 || n > 86400)
				cli_usage_error("--timeout takes seconds, not '%s'", optarg);
			timeout = (int)n;
			break;
		default:
			if (!guest_option(opt, optarg, &ga))
				cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg && !ga.host && !print_only)
		cli_usage_error("give -b BUNDLE or --host HOST");

	struct bundle *b = NULL;
	if (bundle_arg && (bundle_open(bundle_arg, 0, &b) < 0 || (!print_only && bundle_lock(b, true) < 0)))
		die_err();
	struct claw_config *cfg;
	if (cli_load_config(config_path, b, &cfg) < 0)
		die_err();
	json_t *steps;
	char *script = script_provision(cfg, &steps);
	if (print_only) {
		fputs(script, stdout);
		free(script);
		json_decref(steps);
		config_free(cfg);
		bundle_close(b);
		cli_flush_stdout();
		return 0;
	}
	if ((size_t)from > json_array_size(steps))
		cli_usage_error("--from-step %d: there are %zu steps", from, json_array_size(steps));
	if (b && bundle_write(b, BUNDLE_PROVISION_SH, script, strlen(script), 0644) < 0)
		die_err();

	struct ssh_target t;
	if (guest_target(&ga, b, cfg, &t) < 0 || guest_wait_ready(&t, timeout, ga.host == NULL) < 0 ||
	    ssh_upload(&t, REMOTE_SCRIPT, script, strlen(script)) < 0)
		die_err();

	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s)
		json_object_set_new(s, "status", json_string("not run"));
	struct run r = { steps, open_log(b), BUF_ZERO, time(NULL), { 0 } };
	char remote[64];
	snprintf(remote, sizeof remote, "bash " REMOTE_SCRIPT " %d", from);
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result res;
	o.capture_out = true;
	o.on_out = on_output;
	o.arg = &r;
	if (ssh_run(&t, remote, &o, &res) < 0)
		die_err();
	if (r.line.len)
		on_output("\n", 1, &r);
	if (r.logfd >= 0 && close(r.logfd) < 0)
		warn("cannot write provision.log: %s", strerror(errno));
	write_results(b, &r);
	ssh_close(&t);
	int failed = count_status(steps, "failed");
	if (res.status == 255)
		die(EX_TEMPFAIL, "lost the SSH connection to %s; rerun with --from-step to go on", t.host);
	if (failed)
		die(1, "%d of %zu steps failed; see %s", failed, json_array_size(steps), b ? BUNDLE_PROVISION_LOG : "the output");
	if (res.status != 0)
		die(1, "the provisioning script exited %d", res.status);
	spawn_result_free(&res);
	buf_free(&r.line);
	json_decref(steps);
	free(script);
	ssh_target_free(&t);
	config_free(cfg);
	bundle_close(b);
	return 0;
}
