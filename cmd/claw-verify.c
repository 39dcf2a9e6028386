/* claw-verify: prove every tool in claw.yml is there, and write manifest.json.
 *
 * One generated script, uploaded and run in one SSH session, checks every tool:
 * formulae by their binary and brew's version, app casks by /Applications/X.app
 * and its CFBundleShortVersionString, other casks through brew, npm CLIs by their
 * binary, npm libraries by npm list -g. How a tool maps to a binary or an .app is
 * share/claw/tools.tsv (compiled in), extended by $CLAW_HOME/tools.tsv.
 * Exit: 0 all there; 1 something is missing; 64 usage; 66 no address;
 * 75 the connection failed; 77 host key mismatch; 78 bad config. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "guest.h"
#include "log.h"
#include "script.h"
#include "util.h"

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

extern const char claw_tools_table[];

/* Upload and run in one session: the file is written, then run with stdin from /dev/null. */
#define REMOTE_VERIFY "umask 077 && cat > .claw-verify.sh && bash .claw-verify.sh </dev/null"

static char *tools_table(void)
{
	struct buf t = BUF_ZERO;
	buf_adds(&t, claw_tools_table);
	char *home = bundle_home(), *user = xasprintf("%s/tools.tsv", home);
	struct buf extra = BUF_ZERO;
	if (file_read(user, 1 << 20, &extra) == 0) {
		buf_adds(&t, "\n");
		buf_add(&t, extra.data, extra.len);
	}
	buf_free(&extra);
	free(user);
	free(home);
	return t.data;
}

/* "name<TAB>kind<TAB>0|1<TAB>version" lines into manifest tools. */
static json_t *parse_report(char *out)
{
	json_t *tools = json_array();
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { line, NULL, NULL, NULL };
		for (int i = 1; i < 4; i++) {
			char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
			if (tab)
				*tab = '\0', f[i] = tab + 1;
		}
		if (!f[3])
			continue;
		json_t *t = json_pack("{s:s, s:s, s:b, s:s}", "name", f[0], "version", f[3], "installed", f[2][0] == '1',
				      "kind", f[1]);
		if (!*f[3])
			json_object_set_new(t, "version", json_null());
		json_array_append_new(tools, t);
	}
	return tools;
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
	char *table = tools_table();
	char *script = script_verify(cfg, table);

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

	char none[1] = "";
	json_t *tools = parse_report(r.out.data ? r.out.data : none);
	char ts[32];
	time_t now = time(NULL);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_t *manifest = json_pack("{s:O, s:s, s:s}", "tools", tools, "timestamp", ts, "vmName", b ? bundle_name(b) : t.host);
	if (b && bundle_write_json(b, BUNDLE_MANIFEST, manifest, 0644) < 0)
		die_err();
	int missing = 0;
	size_t i;
	json_t *tool;
	if (!json)
		printf("%-32s %-6s %-20s %s\n", "TOOL", "KIND", "VERSION", "STATUS");
	json_array_foreach(tools, i, tool) {
		bool ok = json_is_true(json_object_get(tool, "installed"));
		missing += !ok;
		const char *v = json_string_value(json_object_get(tool, "version"));
		if (!json)
			printf("%-32s %-6s %-20s %s\n", json_string_value(json_object_get(tool, "name")),
			       json_string_value(json_object_get(tool, "kind")), v ? v : "-", ok ? "ok" : "MISSING");
	}
	if (json) {
		cli_print_json(manifest);
	}
	cli_flush_stdout();
	if (missing)
		die(1, "%d of %zu tools missing", missing, json_array_size(tools));
	json_decref(manifest);
	json_decref(tools);
	spawn_result_free(&r);
	ssh_target_free(&t);
	free(script);
	free(table);
	config_free(cfg);
	bundle_close(b);
	return 0;
}
