/* claw-ls: list the bundles under $CLAW_HOME/VMs (or the ones named) — name,
 * state, macOS version, cpu, ram, disk used/size, IP while running.
 *
 * Reads bundle files only and takes no lock, so it answers while a stage runs.
 * Exit: 0, 64 usage, 66 a named bundle does not exist, 74 a bundle is unreadable. */
#include "bundle.h"
#include "cli.h"
#include "log.h"
#include "util.h"
#include "vmstate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: claw-ls [-qv] [--json] [BUNDLE ...]\n"
	"       claw-ls -h | --version\n";

static const struct option options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The bundle names in $CLAW_HOME/VMs, sorted; none when the folder is missing. */
static char **list_bundle_dir(size_t *n)
{
	char *dir = bundle_vms_dir();
	char **names = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			die(EX_IOERR, "cannot read '%s': %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	size_t ext = strlen(BUNDLE_EXT);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= ext || strcmp(e->d_name + len - ext, BUNDLE_EXT))
			continue;
		names = xrealloc(names, (*n + 1) * sizeof *names);
		names[(*n)++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	free(dir);
	qsort(names, *n, sizeof *names, by_name);
	return names;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static void fmt_bytes(json_t *o, const char *k, char out[32])
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		size_format((uint64_t)json_integer_value(v), 0, out);
	else
		strcpy(out, "-");
}

static void print_row(json_t *vm)
{
	char ram[32], used[32], size[32], disk[72], cpu[16] = "-";
	fmt_bytes(vm, "ram", ram);
	fmt_bytes(vm, "disk_used", used);
	fmt_bytes(vm, "disk_size", size);
	snprintf(disk, sizeof disk, "%s/%s", used, size);
	if (json_is_integer(json_object_get(vm, "cpu")))
		snprintf(cpu, sizeof cpu, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(vm, "cpu")));
	printf("%-20s %-11s %-8s %-4s %-7s %-17s %s\n", str(vm, "name"), str(vm, "state"), str(vm, "macos"), cpu, ram,
	       disk, str(vm, "ip"));
}

int main(int argc, char **argv)
{
	int json = 0, opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "hqv", options, NULL)) != -1) {
		if (opt == OPT_JSON)
			json = 1;
		else
			cli_common(opt);
	}
	argc -= optind;
	argv += optind;

	size_t n = (size_t)argc;
	char **names = argc ? argv : list_bundle_dir(&n);
	json_t *all = json_array();
	for (size_t i = 0; i < n; i++) {
		struct bundle *b;
		json_t *vm;
		if (bundle_open(names[i], 0, &b) < 0) {
			/* Listing $CLAW_HOME/VMs: a folder that only looks like a bundle is passed over. */
			if (argc || fail_code() != EX_NOINPUT)
				die_err();
			warn("%s (skipped)", fail_msg());
			continue;
		}
		if (vmstate_read(b, &vm) < 0)
			die_err();
		json_array_append_new(all, vm);
		bundle_close(b);
	}
	if (json) {
		cli_print_json(all);
	} else {
		if (n)
			printf("%-20s %-11s %-8s %-4s %-7s %-17s %s\n", "NAME", "STATE", "MACOS", "CPU", "RAM", "DISK", "IP");
		size_t i;
		json_t *vm;
		json_array_foreach(all, i, vm)
			print_row(vm);
	}
	json_decref(all);
	if (!argc) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	cli_flush_stdout();
	return 0;
}
