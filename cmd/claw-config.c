/* claw-config: read claw.yml for programs and people.
 *
 * check validates; get prints one value; dump prints the effective config with
 * defaults filled in and secrets masked; digest prints one HMAC-SHA256, under the key in
 * $CLAW_HOME/stamp.key, over some keys' values (secrets included, in the digest only) and
 * some files' bytes, a line for each comma-separated group: what the driver's stamps and a
 * Makefile compare, and which reveals no secret to whoever lacks the key. secrets prints the
 * password and the VNC password, a line each, into a pipe (never a terminal): what the
 * driver hands to sudo claw-inject, whose environment sudo resets. Without -c (or -b), the
 * built-in default.
 * Exit: 0 ok, 1 the key is unset, 64 usage, 66 no such file, 73 no stamp key, 78 bad config. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "digest.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-config [-qv] [-b BUNDLE | -c FILE] check\n"
	"       claw-config [-qv] [-b BUNDLE | -c FILE] get [--json] KEY\n"
	"       claw-config [-qv] [-b BUNDLE | -c FILE] dump [--json]\n"
	"       claw-config [-qv] [-b BUNDLE | -c FILE] digest KEY|@FILE... [, KEY|@FILE...]...\n"
	"       claw-config [-qv] [-b BUNDLE | -c FILE] secrets\n"
	"       claw-config -h | --version\n";

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static void print_json(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
	if (!s)
		die(EX_SOFTWARE, "cannot encode JSON");
	puts(s);
	free(s);
}

/* Scalars as text, lists one item a line, anything structured as compact JSON. */
static void print_value(json_t *v)
{
	if (json_is_string(v))
		puts(json_string_value(v));
	else if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_boolean(v))
		puts(json_is_true(v) ? "true" : "false");
	else if (json_is_array(v)) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (json_is_string(item))
				puts(json_string_value(item));
			else
				print_json(item, JSON_COMPACT);
		}
	} else
		print_json(v, JSON_COMPACT);
}

static int do_get(const struct claw_config *cfg, const char *key, int json)
{
	json_t *v;
	int rc = config_lookup(cfg, key, &v);
	if (rc < 0)
		cli_usage_error("%s", fail_msg());
	if (rc == 1)
		return 1;
	if (json)
		cli_print_json(v);
	else
		print_value(v);
	json_decref(v);
	return 0;
}

static int do_dump(const struct claw_config *cfg, int json)
{
	if (json) {
		json_t *t = config_json(cfg, true);
		cli_print_json(t);
		json_decref(t);
		return 0;
	}
	char *text;
	size_t len;
	if (config_yaml(cfg, &text, &len) < 0)
		die_err();
	fwrite(text, 1, len, stdout);
	free(text);
	return 0;
}

/* Feed one KEY or @FILE to a digest: its name, then its value (a secret's in clear, so that
 * changing it changes the digest). */
static void digest_item(struct digest *d, const struct claw_config *cfg, const char *item)
{
	char hex[DIGEST_HEX_MAX];
	json_t *v;
	digest_update(d, item, strlen(item) + 1);
	if (item[0] == '@') {
		/* A file's own digest stands for it; a missing one is its own distinct input. */
		if (digest_file_hex(DIGEST_SHA256, item + 1, hex) < 0)
			snprintf(hex, sizeof hex, "missing");
		digest_update(d, hex, strlen(hex) + 1);
		return;
	}
	int rc = config_value(cfg, item, &v);
	if (rc < 0)
		cli_usage_error("%s", fail_msg());
	char *text = rc == 0 ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	if (rc == 0)
		json_decref(v);
	digest_update(d, text ? text : "unset", strlen(text ? text : "unset") + 1);
	if (text)
		secure_zero(text, strlen(text));
	free(text);
}

/* One digest a group, one line each; a lone "," starts the next group, so a caller that
 * needs several (the driver, one per stage) pays for one process. */
static int do_digest(const struct claw_config *cfg, char **items, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(items[i], ",") && (i == 0 || i == n - 1 || !strcmp(items[i - 1], ",")))
			cli_usage_error("an empty group: a ',' needs keys or @files on both sides");
	unsigned char key[BUNDLE_STAMP_KEY_LEN];
	if (bundle_stamp_key(key) < 0)
		die_err();
	for (int i = 0; i < n; i++) {
		struct digest *d = digest_new_keyed(key, sizeof key);
		for (; i < n && strcmp(items[i], ","); i++)
			digest_item(d, cfg, items[i]);
		char hex[DIGEST_HEX_MAX];
		digest_final_hex(d, hex);
		digest_free(d);
		puts(hex);
	}
	secure_zero(key, sizeof key);
	return 0;
}

/* The secrets as this user's environment and files resolve them, for a process on the other
 * side of sudo (claw-inject --password-fd 0 --vnc-password-fd 0): the password, then the VNC
 * password, an empty line for one not set. */
static int do_secrets(const struct claw_config *cfg)
{
	if (isatty(STDOUT_FILENO))
		die(EX_USAGE, "secrets are printed into a pipe, never on a terminal");
	const char *pw = cfg->access.password ? cfg->access.password : "";
	const char *vnc = cfg->access.vnc_password ? cfg->access.vnc_password : "";
	if (strchr(pw, '\n') || strchr(vnc, '\n'))
		die(EX_CONFIG, "a password holds a line break; claw cannot hand it on");
	printf("%s\n%s\n", pw, vnc);
	return 0;
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL;
	int json = 0, opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_JSON: json = 1; break;
		default: cli_common(opt);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage_error("missing command: check, get or dump");
	const char *cmd = argv[0];
	if (bundle_arg && config_path)
		cli_usage_error("-b and -c both name a config; give one");
	bool digest = !strcmp(cmd, "digest"), secrets = !strcmp(cmd, "secrets");
	if (strcmp(cmd, "check") && strcmp(cmd, "get") && strcmp(cmd, "dump") && !digest && !secrets)
		cli_usage_error("unknown command '%s'", cmd);
	if (digest ? argc < 2 : !strcmp(cmd, "get") ? argc != 2 : argc != 1)
		cli_usage_error(digest ? "digest takes KEY or @FILE arguments" :
				!strcmp(cmd, "get") ? "get takes one KEY" : "too many arguments");
	if (json && (!strcmp(cmd, "check") || digest || secrets))
		cli_usage_error("--json goes with get or dump");

	struct bundle *b = NULL;
	if (bundle_arg && bundle_open(bundle_arg, 0, &b) < 0)
		die_err();
	struct claw_config *cfg;
	if (cli_load_config(config_path, b, &cfg) < 0)
		die_err();
	int rc = 0;
	if (!strcmp(cmd, "get"))
		rc = do_get(cfg, argv[1], json);
	else if (!strcmp(cmd, "dump"))
		rc = do_dump(cfg, json);
	else if (digest)
		rc = do_digest(cfg, argv + 1, argc - 1);
	else if (secrets)
		rc = do_secrets(cfg);
	else if (cfg->vm.cpu != cfg->vm.cpu_requested)
		info("vm.cpu %d is more than this host's %d cores; %d will be used", cfg->vm.cpu_requested, cfg->vm.cpu,
		     cfg->vm.cpu);
	config_free(cfg);
	bundle_close(b);
	cli_flush_stdout();
	return rc;
}
