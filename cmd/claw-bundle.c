/* claw-bundle: make a bundle, or delete one, and never touch a directory that is not one.
 *
 * init makes BUNDLE (0700, its .clawbundle marker first) where nothing is or in an empty
 * directory, marks a bundle an earlier claw made, and with -c links its claw.yml to CONFIG;
 * it prints the bundle's path. rm deletes each BUNDLE: a link loses the link only; a
 * directory must hold the marker and be neither running nor locked, and only the files the
 * bundle layout names go (claw-bundle(7)); anything else is kept and listed.
 * snapshot copies a stopped or suspended machine's state into snapshots/TAG (sharing
 * blocks where the file system can), lists (--list) or removes (--rm) them; rollback
 * puts one back, atomically: the old state or the new, never a mix.
 * Exit: 0 ok, 64 usage, 65 a bundle holds files claw did not make (kept), 66 not a bundle
 * or no such snapshot, 73 cannot create (or no room), 74 I/O, 75 running or busy. */
#include "bundle.h"
#include "cli.h"
#include "log.h"
#include "snapshot.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-bundle [-qv] init [-c CONFIG] BUNDLE\n"
	"       claw-bundle [-qv] rm BUNDLE...\n"
	"       claw-bundle [-qv] snapshot BUNDLE [TAG]\n"
	"       claw-bundle [-qv] snapshot --list [--json] BUNDLE\n"
	"       claw-bundle [-qv] snapshot --rm BUNDLE TAG\n"
	"       claw-bundle [-qv] rollback BUNDLE TAG\n"
	"       claw-bundle -h | --version\n";

enum { OPT_LIST = OPT_FIRST_PRIVATE, OPT_RM };

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "rm", no_argument, NULL, OPT_RM },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* The configuration the machine is made from, by absolute path, so that editing it is seen. */
static void link_config(struct bundle *b, const char *config)
{
	if (access(config, R_OK) < 0)
		die(EX_NOINPUT, "cannot read config '%s'", config);
	char *abs = config[0] == '/' ? xstrdup(config) : NULL;
	if (!abs) {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			die(EX_OSERR, "cannot tell the working directory");
		abs = xasprintf("%s/%s", cwd, config);
		free(cwd);
	}
	if (bundle_symlink(b, BUNDLE_CONFIG, abs) < 0)
		die_err();
	free(abs);
}

static void init(const char *arg, const char *config)
{
	struct bundle *b;
	if (bundle_open(arg, BUNDLE_CREATE, &b) < 0 || bundle_lock(b, true) < 0)
		die_err();
	if (config)
		link_config(b, config);
	puts(bundle_path(b));
	bundle_close(b);
}

/* An existing bundle, locked for the whole of the work. */
static struct bundle *open_locked(const char *arg)
{
	struct bundle *b;
	if (bundle_open(arg, 0, &b) < 0 || bundle_lock(b, true) < 0)
		die_err();
	return b;
}

static void print_snapshots(json_t *rows, bool json)
{
	if (json) {
		cli_print_json(rows);
		return;
	}
	size_t i;
	json_t *r;
	if (json_array_size(rows))
		printf("%-24s %-20s %-10s %s\n", "TAG", "CREATED", "STATE", "SIZE");
	json_array_foreach(rows, i, r) {
		char size[32];
		size_format((uint64_t)json_integer_value(json_object_get(r, "bytes")), 0, size);
		printf("%-24s %-20s %-10s %s\n", json_string_value(json_object_get(r, "tag")),
		       json_string_value(json_object_get(r, "created")), json_string_value(json_object_get(r, "state")), size);
	}
}

static void snapshot(char **args, int n, bool list, bool remove, bool json)
{
	if (list + remove > 1 || (json && !list))
		cli_usage_error("--list and --rm are two things; --json goes with --list");
	if (n < 1 || n > 2 || (list && n != 1) || (remove && n != 2))
		cli_usage_error(list ? "snapshot --list takes one BUNDLE" : remove ? "snapshot --rm takes BUNDLE TAG"
										 : "snapshot takes BUNDLE [TAG]");
	struct bundle *b = open_locked(args[0]);
	json_t *rows;
	char *made = NULL;
	if (list) {
		if (snapshot_list(b, &rows) < 0)
			die_err();
		print_snapshots(rows, json);
		json_decref(rows);
	} else if (remove) {
		if (snapshot_remove(b, args[1]) < 0)
			die_err();
	} else {
		if (snapshot_take(b, n == 2 ? args[1] : NULL, &made) < 0)
			die_err();
		puts(made);
		free(made);
	}
	bundle_close(b);
}

static void rollback(char **args, int n)
{
	if (n != 2)
		cli_usage_error("rollback takes BUNDLE TAG");
	struct bundle *b = open_locked(args[0]);
	if (snapshot_rollback(b, args[1]) < 0)
		die_err();
	bundle_close(b);
}

/* Each one in turn; a refusal names its bundle and the rest are still tried. */
static int rm(char **args, int n)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char *kept = NULL;
		if (bundle_destroy(args[i], &kept) < 0) {
			warn("%s", fail_msg());
			if (kept)
				for (char *line = strtok(kept, "\n"); line; line = strtok(NULL, "\n"))
					warn("  kept: %s", line);
			if (!rc)
				rc = fail_code();
		} else {
			info("removed '%s'", args[i]);
		}
		free(kept);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	bool list = false, remove = false, json = false;
	int opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "+c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case OPT_LIST: list = true; break;
		case OPT_RM: remove = true; break;
		case OPT_JSON: json = true; break;
		default: cli_common(opt);
		}
	}
	if (optind >= argc)
		cli_usage_error("init, rm, snapshot or rollback?");
	const char *verb = argv[optind++];
	/* Options may also follow the verb: claw-bundle init -c FILE BUNDLE. */
	while ((opt = getopt_long(argc, argv, "c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case OPT_LIST: list = true; break;
		case OPT_RM: remove = true; break;
		case OPT_JSON: json = true; break;
		default: cli_common(opt);
		}
	}
	if (config && strcmp(verb, "init"))
		cli_usage_error("-c is for init");
	if ((list || remove || json) && strcmp(verb, "snapshot"))
		cli_usage_error("--list, --rm and --json are for snapshot");
	char **args = argv + optind;
	int n = argc - optind;
	if (!strcmp(verb, "init")) {
		if (n != 1)
			cli_usage_error("init takes one BUNDLE");
		init(args[0], config);
	} else if (!strcmp(verb, "snapshot")) {
		snapshot(args, n, list, remove, json);
	} else if (!strcmp(verb, "rollback")) {
		rollback(args, n);
	} else if (!strcmp(verb, "rm")) {
		if (n < 1)
			cli_usage_error("rm takes a BUNDLE");
		int rc = rm(args, n);
		if (rc)
			exit(rc);
	} else {
		cli_usage_error("unknown command '%s'; init, rm, snapshot or rollback", verb);
	}
	cli_flush_stdout();
	return 0;
}
