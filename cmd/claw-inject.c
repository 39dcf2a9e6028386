/* claw-inject: write the user, SSH, auto-login, sudo and the Setup Assistant
 * bypass into a guest's Data volume, offline, before its first boot.
 *
 * By default it attaches the bundle's disk.img (hdiutil, or diskutil image for
 * ASIF), finds the guest's Data volume by what the attach newly mounted, enables
 * ownership on it, writes, and detaches — always: also on an error and on
 * SIGINT/SIGTERM. With --root DIR, DIR is the Data volume's root, already
 * mounted (a staging tree, Linux with an APFS driver, tests) and nothing is
 * attached; DIR must not be the running system. Each part is built from claw.yml
 * and what the guest already holds, so a second run leaves the same tree; every
 * path is checked before the first is written (no symbolic link, owners that
 * stick), files are written atomically with numeric owners read back. Writes
 * inject.json (every path, owner, mode; a digest only for files that hold no
 * secret) and ssh/known_hosts (the guest's host keys) into the bundle, 0700, then
 * gives the files it made there back to $SUDO_UID. Run by sudo, which resets the
 * environment, it takes the secrets the user's side resolved on --password-fd and
 * --vnc-password-fd (one descriptor for both: a line each), never on its argv.
 * Exit: 0; 64 usage, or --root is the running system; 65 a guest file is
 * malformed, no Data volume on the disk, or the guest's version unknown;
 * 66 not restored; 73/74 cannot write, attach or detach, or the volume ignores
 * ownership; 75 the VM is running; 77 not root; 78 bad config; 128+N interrupted
 * by signal N (detached first). */
#include "attach.h"
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "inject.h"
#include "log.h"
#include "run.h"
#include "spawn.h"
#include "util.h"
#include "vmconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-inject [-qv] -b BUNDLE [-c FILE] [--root DIR] [--only PARTS] [--dry-run]\n"
	"                   [--password-fd N] [--vnc-password-fd N]\n"
	"       claw-inject -h | --version\n";

enum { OPT_ROOT = OPT_FIRST_PRIVATE, OPT_ONLY, OPT_DRY, OPT_PASSWORD_FD, OPT_VNC_PASSWORD_FD };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	{ "password-fd", required_argument, NULL, OPT_PASSWORD_FD },
	{ "vnc-password-fd", required_argument, NULL, OPT_VNC_PASSWORD_FD },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static struct attach disk; /* attached for the whole run; detached on every way out */

_Noreturn static void leave(void)
{
	int code = fail_code();
	char *msg = xstrdup(fail_msg());
	if (attach_detach(&disk) < 0)
		warn("%s (detach it with: hdiutil detach %s)", fail_msg(), disk.disk);
	if (stop_signal) {
		warn("interrupted; %s detached", disk.disk ? disk.disk : "nothing was");
		exit(128 + stop_signal);
	}
	die(code, "%s", msg);
}

static void check_signal(void)
{
	if (stop_signal)
		leave();
}

/* Attach the bundle's disk and put its Data volume somewhere: the root to write into. */
static const char *attach_guest(struct bundle *b, bool dry)
{
	pid_t pid;
	struct vmconfig vc;
	if (run_alive(b, &pid))
		die(EX_TEMPFAIL, "'%s' is running (pid %ld); stop it before injecting into its disk", bundle_name(b), (long)pid);
	/* A saved state holds the disk as it was; written under it, the disk would no longer match. */
	if (bundle_has(b, BUNDLE_SAVED_STATE))
		die(EX_TEMPFAIL, "'%s' is suspended; start and stop it first (claw start, claw stop), or discard its "
				 "saved state (claw-boot --no-resume), before injecting into its disk",
		    bundle_name(b));
	if (!bundle_has(b, BUNDLE_VMCONFIG))
		die(EX_NOINPUT, "'%s' is not restored yet (no %s; run claw-restore -b %s)", bundle_path(b), BUNDLE_VMCONFIG,
		    bundle_path(b));
	if (vmconfig_read(b, &vc) < 0)
		die_err();
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	char *image = bundle_file(b, BUNDLE_DISK);
	int rc = attach_image(image, vc.disk_format, &disk);
	free(image);
	if (rc < 0 || attach_find_data(&disk) < 0 || (!dry && attach_enable_ownership(&disk) < 0))
		leave();
	check_signal();
	info("the guest's Data volume is %s at '%s'", disk.disk, disk.data);
	return disk.data;
}

/* What this run made in the bundle, the only files given back to the user. */
static const char *made[10];
static size_t nmade;

static void made_here(const char *name)
{
	if (nmade < sizeof made / sizeof made[0])
		made[nmade++] = name;
}

/* Run with sudo, the files it made in the bundle are the user's; nothing else changes hands. */
static void give_back(struct bundle *b)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	uint64_t u, g;
	if (geteuid() != 0 || !uid || !gid || parse_u64(uid, &u) < 0 || parse_u64(gid, &g) < 0)
		return;
	for (size_t i = 0; i < nmade; i++)
		if (bundle_chown(b, made[i], (uid_t)u, (gid_t)g) < 0)
			warn("%s", fail_msg());
}

/* The bundle holds the guest's disk and inject.json: its owner's alone. */
static void keep_private(struct bundle *b)
{
	struct stat st;
	if (fstat(bundle_dirfd(b), &st) == 0 && (st.st_mode & 077) && fchmod(bundle_dirfd(b), st.st_mode & 0700) < 0)
		warn("cannot make '%s' private (chmod 700): %s", bundle_path(b), strerror(errno));
}

/* The bundle's own key pair, so claw can always log in; its public half is authorized. */
static char *bundle_key(struct bundle *b, bool dry)
{
	if (!bundle_has(b, "ssh/id_ed25519") && !dry) {
		if (!bundle_has(b, BUNDLE_SSH_DIR))
			made_here(BUNDLE_SSH_DIR);
		made_here("ssh/id_ed25519");
		made_here("ssh/id_ed25519.pub");
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
		if (json_is_true(json_object_get(it, "secret")))
			sha = "secret";
		if (!json_object_get(it, "mode")) {
			printf("%s %s\n", json_string_value(json_object_get(it, "type")), json_string_value(json_object_get(it, "path")));
			continue;
		}
		printf("%s %4s %3d:%-3d %.12s %s\n", json_string_value(json_object_get(it, "type")),
		       json_string_value(json_object_get(it, "mode")), (int)json_integer_value(json_object_get(it, "uid")),
		       (int)json_integer_value(json_object_get(it, "gid")), sha ? sha : "-",
		       json_string_value(json_object_get(it, "path")));
	}
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL, *root = NULL, *only = "user,ssh,vnc,autologin,sudo,setup,firstboot";
	bool dry = false;
	int opt, parts, password_fd = -1, vnc_fd = -1;
	uint64_t n;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_ROOT: root = optarg; break;
		case OPT_ONLY: only = optarg; break;
		case OPT_DRY: dry = true; break;
		case OPT_PASSWORD_FD:
		case OPT_VNC_PASSWORD_FD:
			if (parse_u64(optarg, &n) < 0 || n > 1024)
				cli_usage_error("%s takes a file descriptor, not '%s'",
						opt == OPT_PASSWORD_FD ? "--password-fd" : "--vnc-password-fd", optarg);
			*(opt == OPT_PASSWORD_FD ? &password_fd : &vnc_fd) = (int)n;
			break;
		default: cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg)
		cli_usage_error("-b BUNDLE is required");
	if (inject_parts(only, &parts) < 0)
		cli_usage_error("%s", fail_msg());
	struct stat st;
	if (root && (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)))
		die(EX_NOINPUT, "--root '%s' is not a folder", root);
	/* A typo must not give this machine an admin with a known password: asked before anything is written. */
	if (root && inject_refuse_host(root) < 0)
		die_err();
	if (geteuid() != 0 && (!dry || !root))
		die(EX_NOPERM, "needs root to %s (run it with sudo)",
		    root ? "give the guest's files their owners" : "attach the guest's disk");

	struct bundle *b;
	char *where = bundle_resolve(bundle_arg);
	if (stat(where, &st) < 0) {
		made_here(".");
		made_here(BUNDLE_MARKER);
	}
	free(where);
	if (bundle_open(bundle_arg, root ? BUNDLE_CREATE : 0, &b) < 0)
		die_err();
	if (!bundle_has(b, BUNDLE_LOCK))
		made_here(BUNDLE_LOCK);
	if (bundle_lock(b, true) < 0)
		die_err();
	struct claw_config *cfg;
	if (cli_load_config(config_path, b, &cfg) < 0 || config_secrets_from_fds(cfg, password_fd, vnc_fd) < 0)
		die_err();
	if (!dry)
		keep_private(b);
	struct inject_ctx c = { cfg, root, NULL, BUF_ZERO, NULL, NULL, !root, 0 };
	if (!root)
		c.root = root = attach_guest(b, dry);

	char *own_key = bundle_key(b, dry);
	c.pubkeys = own_key;
	json_t *os = guest_os(b);
	c.os_version = json_string_value(json_object_get(os, "version"));
	c.os_build = json_string_value(json_object_get(os, "build"));
	struct payload p = { NULL, 0 };
	if (inject_prepare(&c) < 0)
		leave();
	if (((parts & INJECT_USER) && inject_user(&c, &p) < 0) || ((parts & INJECT_SSH) && inject_ssh(&c, &p) < 0) ||
	    ((parts & INJECT_VNC) && inject_vnc(&c, &p) < 0) ||
	    ((parts & INJECT_AUTOLOGIN) && inject_autologin(&c, &p) < 0) || ((parts & INJECT_SUDO) && inject_sudo(&c, &p) < 0) ||
	    ((parts & INJECT_SETUP) && inject_setup(&c, &p) < 0) || ((parts & INJECT_FIRSTBOOT) && inject_firstboot(&c, &p) < 0))
		leave();
	check_signal();
	json_t *items = payload_describe(&p);
	if (dry) {
		print_dry_run(items);
	} else {
		if (payload_write(&p, root) < 0)
			leave();
		json_t *doc = json_pack("{s:s, s:O}", "root", disk.attached ? BUNDLE_DISK : root, "files", items);
		made_here(BUNDLE_INJECT_JSON);
		if (c.known_hosts.len)
			made_here(BUNDLE_KNOWN_HOSTS);
		if (bundle_write_json(b, BUNDLE_INJECT_JSON, doc, 0600) < 0 ||
		    (c.known_hosts.len && bundle_write(b, BUNDLE_KNOWN_HOSTS, c.known_hosts.data, c.known_hosts.len, 0644) < 0))
			leave();
		json_decref(doc);
		info("wrote %zu files into '%s'", p.n, root);
	}
	if (attach_detach(&disk) < 0)
		die(EX_IOERR, "%s (detach it with: hdiutil detach %s)", fail_msg(), disk.disk);
	check_signal();
	if (!dry)
		give_back(b);
	cli_flush_stdout();
	json_decref(items);
	payload_free(&p);
	buf_free(&c.known_hosts);
	free(own_key);
	json_decref(os);
	config_free(cfg);
	attach_free(&disk);
	bundle_close(b);
	return 0;
}
