/* claw-inject: write the user, SSH, auto-login, sudo and the Setup Assistant
 * bypass into a guest's Data volume, offline, before its first boot.
 *
 * With --root DIR, DIR is the Data volume's root, already mounted (a staging
 * tree, Linux with an APFS driver, tests). Each part is built from claw.yml and
 * what the guest already holds, so a second run leaves the same tree; files are
 * written atomically with numeric owners. Writes inject.json (every path, owner,
 * mode, sha256) and ssh/known_hosts (the guest's host keys) into the bundle.
 * Exit: 0; 64 usage; 65 a guest file is malformed; 69 no --root (attaching
 * disk.img needs macOS); 73/74 cannot write; 77 not root; 78 bad config. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "inject.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-inject [-qv] -b BUNDLE [-c FILE] [--root DIR] [--only PARTS] [--dry-run]\n"
	"       claw-inject -h | --version\n";

enum { OPT_ROOT = OPT_FIRST_PRIVATE, OPT_ONLY, OPT_DRY };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* The bundle's own key pair, so claw can always log in; its public half is authorized. */
static char *bundle_key(struct bundle *b, bool dry)
{
	if (!bundle_has(b, "ssh/id_ed25519") && !dry) {
		if (bundle_mkdir(b, BUNDLE_SSH_DIR, 0700) < 0)
			die_err();
		char *key = bundle_file(b, "ssh/id_ed25519");
		const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "claw", "-f", key, NULL };
		struct spawn_opts o = SPAWN_OPTS_ZERO;
		struct spawn_result r;
		o.capture_out = o.capture_err = true;
		if (spawn_run(argv, &o, &r) < 0 || r.status != 0)
			die(EX_SOFTWARE, "ssh-keygen could not make the bundle's key");
		spawn_result_free(&r);
		free(key);
	}
	char *pub = bundle_file(b, "ssh/id_ed25519.pub");
	struct buf k = BUF_ZERO;
	char *out = access(pub, R_OK) == 0 && file_read(pub, 1 << 16, &k) == 0 ? k.data : NULL;
	free(pub);
	return out;
}

/* The guest's macOS, as restore recorded it (config.json os) or resolve found it (ipsw.json). */
static json_t *guest_os(struct bundle *b)
{
	json_t *j = NULL, *os;
	if (bundle_has(b, BUNDLE_VMCONFIG) && bundle_read_json(b, BUNDLE_VMCONFIG, &j) == 0 &&
	    (os = json_object_get(j, "os")) && json_is_object(os)) {
		json_incref(os);
		json_decref(j);
		return os;
	}
	json_decref(j);
	j = NULL;
	if (bundle_has(b, BUNDLE_IPSW_JSON) && bundle_read_json(b, BUNDLE_IPSW_JSON, &j) == 0)
		return j;
	return json_object();
}

static void print_dry_run(json_t *items)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		const char *sha = json_string_value(json_object_get(it, "sha256"));
		printf("%s %4s %3d:%-3d %.12s %s\n", json_string_value(json_object_get(it, "type")),
		       json_string_value(json_object_get(it, "mode")), (int)json_integer_value(json_object_get(it, "uid")),
		       (int)json_integer_value(json_object_get(it, "gid")), sha ? sha : "-",
		       json_string_value(json_object_get(it, "path")));
	}
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL, *root = NULL, *only = "user,ssh,autologin,sudo,setup,firstboot";
	bool dry = false;
	int opt, parts;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_ROOT: root = optarg; break;
		case OPT_ONLY: only = optarg; break;
		case OPT_DRY: dry = true; break;
		default: cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg)
		cli_usage_error("-b BUNDLE is required");
	if (inject_parts(only, &parts) < 0)
		cli_usage_error("%s", fail_msg());
	if (!root)
		die(EX_UNAVAILABLE, "attaching disk.img is not built yet; mount the guest's Data volume and give --root DIR");
	struct stat st;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		die(EX_NOINPUT, "--root '%s' is not a folder", root);
	if (!dry && geteuid() != 0)
		die(EX_NOPERM, "needs root to give the guest's files their owners (run it with sudo)");

	struct bundle *b;
	if (bundle_open(bundle_arg, BUNDLE_CREATE, &b) < 0 || bundle_lock(b, true) < 0)
		die_err();
	struct claw_config *cfg;
	if (cli_load_config(config_path, b, &cfg) < 0)
		die_err();

	char *own_key = bundle_key(b, dry);
	struct inject_ctx c = { cfg, root, own_key, BUF_ZERO, NULL, NULL };
	json_t *os = guest_os(b);
	c.os_version = json_string_value(json_object_get(os, "version"));
	c.os_build = json_string_value(json_object_get(os, "build"));
	struct payload p = { NULL, 0 };
	if (((parts & INJECT_USER) && inject_user(&c, &p) < 0) || ((parts & INJECT_SSH) && inject_ssh(&c, &p) < 0) ||
	    ((parts & INJECT_AUTOLOGIN) && inject_autologin(&c, &p) < 0) || ((parts & INJECT_SUDO) && inject_sudo(&c, &p) < 0) ||
	    ((parts & INJECT_SETUP) && inject_setup(&c, &p) < 0) || ((parts & INJECT_FIRSTBOOT) && inject_firstboot(&c, &p) < 0))
		die_err();
	json_t *items = payload_describe(&p);
	if (dry) {
		print_dry_run(items);
	} else {
		if (payload_write(&p, root) < 0)
			die_err();
		json_t *doc = json_pack("{s:s, s:O}", "root", root, "files", items);
		if (bundle_write_json(b, BUNDLE_INJECT_JSON, doc, 0644) < 0 ||
		    (c.known_hosts.len && bundle_write(b, BUNDLE_KNOWN_HOSTS, c.known_hosts.data, c.known_hosts.len, 0644) < 0))
			die_err();
		json_decref(doc);
		info("wrote %zu files into '%s'", p.n, root);
	}
	cli_flush_stdout();
	json_decref(items);
	payload_free(&p);
	buf_free(&c.known_hosts);
	free(own_key);
	json_decref(os);
	config_free(cfg);
	bundle_close(b);
	return 0;
}
