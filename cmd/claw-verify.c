/* claw-verify: prove every tool in claw.yml is there, and write manifest.json.
 *
 * One generated script, uploaded and run in one SSH session, asks the guest's
 * package managers, once each, what they installed (brew list, npm ls -g --json, brew info
 * --json=v2) and lists what is on PATH; the answers come back as sections, and
 * common/verify.c judges each tool here: installed when its package manager
 * lists it, its commands the ones its package declares, each found on PATH.
 * No command is guessed from a tool's name.
 * Exit: 0 all there; 1 something is missing; 64 usage; 65 a garbled answer;
 * 66 no address; 75 the connection failed; 77 host key mismatch; 78 bad config. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "guest.h"
#include "log.h"
#include "script.h"
#include "util.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: claw-verify [-qv] (-b BUNDLE | --host HOST) [-c FILE] [--port PORT] [--user USER] [--json]\n"
	"       claw-verify -h | --version\n";

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	GUEST_OPTIONS,
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* Upload and run in one session: the file is written, then run with stdin from /dev/null. */
#define REMOTE_VERIFY "umask 077 && cat > .claw-verify.sh && bash .claw-verify.sh </dev/null"

/* What a tool's commands say in the table: the ones found, then the ones that are not. */
static char *commands_text(json_t *tool)
{
	struct buf b = BUF_ZERO;
	const char *name;
	json_t *v;
	size_t i;
	json_object_foreach(json_object_get(tool, "commands"), name, v) buf_addf(&b, "%s%s", b.len ? " " : "", name);
	json_array_foreach(json_object_get(tool, "missing"), i, v) {
		buf_addf(&b, "%s%s", i ? " " : b.len ? "; missing: " : "missing: ", json_string_value(v));
	}
	return b.data ? b.data : xstrdup("-");
}

static const char *status_word(json_t *tool)
{
	if (!json_is_true(json_object_get(tool, "installed")))
		return "MISSING";
	return json_is_true(json_object_get(tool, "ok")) ? "ok" : "INCOMPLETE";
}

static void print_table(json_t *tools)
{
	size_t i;
	json_t *tool;
	printf("%-32s %-5s %-16s %-10s %s\n", "TOOL", "KIND", "VERSION", "STATUS", "COMMANDS");
	json_array_foreach(tools, i, tool) {
		const char *v = json_string_value(json_object_get(tool, "version"));
		char *cmds = commands_text(tool);
		printf("%-32s %-5s %-16s %-10s %s\n", json_string_value(json_object_get(tool, "name")),
		       json_string_value(json_object_get(tool, "kind")), v ? v : "-", status_word(tool), cmds);
		free(cmds);
	}
}

static int count_not_ok(json_t *tools)
{
	int bad = 0;
	size_t i;
	json_t *tool;
	json_array_foreach(tools, i, tool) bad += !json_is_true(json_object_get(tool, "ok"));
	return bad;
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL;
	struct guest_args ga = { NULL, NULL, 0 };
	bool json = false;
	int opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_JSON: json = true; break;
		default:
			if (!guest_option(opt, optarg, &ga))
				cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg && !ga.host)
		cli_usage_error("give -b BUNDLE or --host HOST");

	struct bundle *b = NULL;
	if (bundle_arg && (bundle_open(bundle_arg, 0, &b) < 0 || bundle_lock(b, true) < 0))
		die_err();
	struct claw_config *cfg;
	if (cli_load_config(config_path, b, &cfg) < 0)
		die_err();
	char *script = script_verify(cfg);

	struct ssh_target t;
	if (guest_target(&ga, b, cfg, &t) < 0)
		die_err();
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.stdin_data = script;
	o.stdin_len = strlen(script);
	o.capture_out = true;
	o.capture_err = true;
	o.timeout_ms = 300000;
	if (ssh_run(&t, REMOTE_VERIFY, &o, &r) < 0)
		die_err();
	ssh_close(&t);
	if (r.status != 0 && ssh_key_refused(&r)) {
		guest_host_key_refused(&t);
		die_err();
	}
	if (r.status != 0)
		die(r.status == 255 ? EX_TEMPFAIL : EX_SOFTWARE, "cannot run the checks on %s: %s", t.host, ssh_first_line(&r));

	json_t *tools;
	if (verify_judge(cfg, r.out.data ? r.out.data : "", r.out.len, &tools) < 0)
		die_err();
	char ts[32];
	time_t now = time(NULL);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_t *manifest = json_pack("{s:O, s:s, s:s}", "tools", tools, "timestamp", ts, "vmName", b ? bundle_name(b) : t.host);
	if (b && bundle_write_json(b, BUNDLE_MANIFEST, manifest, 0644) < 0)
		die_err();
	if (json)
		cli_print_json(manifest);
	else
		print_table(tools);
	cli_flush_stdout();
	int bad = count_not_ok(tools);
	if (bad)
		die(1, "%d of %zu tools missing or incomplete", bad, json_array_size(tools));
	json_decref(manifest);
	json_decref(tools);
	spawn_result_free(&r);
	ssh_target_free(&t);
	free(script);
	config_free(cfg);
	bundle_close(b);
	return 0;
}
