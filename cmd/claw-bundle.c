/* claw-bundle: make a bundle, or delete one, and never touch a directory that is not one.
 *
 * init makes BUNDLE (0700, its .clawbundle marker first) where nothing is or in an empty
 * directory, marks a bundle an earlier claw made, and with -c links its claw.yml to CONFIG;
 * it prints the bundle's path. rm deletes each BUNDLE: a link loses the link only; a
 * directory must hold the marker and be neither running nor locked, and only the files the
 * bundle layout names go (claw-bundle(7)); anything else is kept and listed.
 * Exit: 0 ok, 64 usage, 65 a bundle holds files claw did not make (kept), 66 not a bundle,
 * 73 cannot create, 74 I/O, 75 running or busy. */
#include "bundle.h"
#include "cli.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-bundle [-qv] init [-c CONFIG] BUNDLE\n"
	"       claw-bundle [-qv] rm BUNDLE...\n"
	"       claw-bundle -h | --version\n";

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
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
	int opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "+c:hqv", options, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else
			cli_common(opt);
	}
	if (optind >= argc)
		cli_usage_error("init or rm?");
	const char *verb = argv[optind++];
	/* -c may also follow the verb: claw-bundle init -c FILE BUNDLE. */
	while ((opt = getopt_long(argc, argv, "c:hqv", options, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else
			cli_common(opt);
	}
	char **args = argv + optind;
	int n = argc - optind;
	if (!strcmp(verb, "init")) {
		if (n != 1)
			cli_usage_error("init takes one BUNDLE");
		init(args[0], config);
	} else if (!strcmp(verb, "rm")) {
		if (config)
			cli_usage_error("-c is for init");
		if (n < 1)
			cli_usage_error("rm takes a BUNDLE");
		int rc = rm(args, n);
		if (rc)
			exit(rc);
	} else {
		cli_usage_error("unknown command '%s'; init or rm", verb);
	}
	cli_flush_stdout();
	return 0;
}
