/* claw-boot: run a restored VM until its guest stops.
 *
 * Order of the work: read config.json (the hardware) and claw.yml's vm: (cpu and
 * ram, but for a resume: config.json's; the display; the shared folders, to which
 * each --dir adds one: all checked before anything starts); claim the bundle
 * (run/pid, so a second boot is refused); with -d fork — before any hypervisor
 * call — and let the parent go once the machine runs; build the machine; resume
 * from a saved state if there is one, else start it; then supervise: SIGTERM/
 * SIGINT press the power button (a macOS guest answers with a dialog) and force
 * it off after --stop-timeout (a second signal forces at once); SIGUSR1 saves the
 * machine's state into the bundle and stops, so the next boot resumes.
 * A saved state resumes only with the shared folders it was saved with (state.shares.json):
 * other ones asked for are refused before anything starts.
 * run/state follows every change, and run/shares.json says what the machine shares;
 * run/ is cleaned on exit but for the console log.
 * --shutdown asks a running machine's guest, over SSH, to shut itself down: what
 * `claw stop` tries first.
 * Exit: 0 the guest stopped (or was stopped, or was saved; or was asked to);
 * 64 usage (a bad --dir, or one whose name is taken, or shares a saved state was not
 * made with); 65 bad config.json or state.shares.json; 66 not
 * restored, or no address, or a shared folder that is not there; 69 needs macOS, or
 * the host runs 2 macOS VMs, or not running, or a guest too old to mount shared
 * folders; 70 the machine stopped with an
 * error; 75 already running, or the guest cannot be reached; 77 its host key is
 * not the bundle's; 78 invalid machine. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "guest.h"
#include "log.h"
#include "run.h"
#include "shares.h"
#include "spawn.h"
#include "util.h"
#include "vm.h"
#include "vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-boot [-dqv] -b BUNDLE [-c FILE] [--dir [NAME:]PATH[:ro]]... [--recovery] [--no-resume]\n"
	"                 [--stop-timeout SECONDS]\n"
	"       claw-boot [-qv] -b BUNDLE [-c FILE] --shutdown\n"
	"       claw-boot -h | --version\n";

enum { OPT_RECOVERY = OPT_FIRST_PRIVATE, OPT_NO_RESUME, OPT_STOP_TIMEOUT, OPT_SHUTDOWN, OPT_DIR };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "detach", no_argument, NULL, 'd' },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "recovery", no_argument, NULL, OPT_RECOVERY },
	{ "no-resume", no_argument, NULL, OPT_NO_RESUME },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "shutdown", no_argument, NULL, OPT_SHUTDOWN },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_signals, suspend_signal;

static void on_stop(int sig)
{
	(void)sig;
	stop_signals++;
}

static void on_suspend(int sig)
{
	(void)sig;
	suspend_signal = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_suspend;
	sigaction(SIGUSR1, &sa, NULL);
}

static int parent_pipe = -1; /* with -d: tells the waiting parent the machine runs */

/* The parent waits for one byte ("running") or for the child to exit with its error. */
_Noreturn static void wait_for_child(pid_t child, int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n == 1)
		exit(0);
	int ws;
	while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
		;
	exit(spawn_exit_status(ws));
}

/* A daemon must not hold its caller's descriptors (a test runner's fd 3, a pipe
 * someone waits on to close). Everything claw-boot itself opened is close-on-exec;
 * what is not was inherited, and goes. */
static void close_inherited(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) {
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			close(fd);
	}
}

static void detach(struct bundle *b)
{
	int p[2];
	if (pipe(p) < 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0)
		die(EX_OSERR, "cannot make a pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		die(EX_OSERR, "cannot fork: %s", strerror(errno));
	if (child > 0) {
		close(p[1]);
		wait_for_child(child, p[0]);
	}
	close(p[0]);
	parent_pipe = p[1];
	close_inherited();
	setsid();
	if (run_set_pid(b, getpid()) < 0)
		die_err();
}

/* Running: free the parent, and from now on log into the bundle, not its terminal. */
static void detached_and_running(struct bundle *b)
{
	if (parent_pipe < 0)
		return;
	char *log = bundle_file(b, BUNDLE_BOOT_LOG);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	free(log);
	if (write(parent_pipe, "R", 1) != 1)
		warn("cannot tell the parent the machine runs: %s", strerror(errno));
	close(parent_pipe);
	parent_pipe = -1;
}

/* A saved state resumes only with the cpu and ram it was saved with: config.json's, claw.yml
 * asking for others is said, not done. Otherwise a claw.yml's (given, or the bundle's; not the
 * built-in defaults) are the machine's from this boot on, written into config.json. Either way
 * fitted to this host. */
static void spec_from(struct bundle *b, struct vmconfig *c, const struct claw_config *cfg, bool yml_given,
		      bool resuming, struct vm_spec *s)
{
	unsigned yml_cpu = (unsigned)cfg->vm.cpu;
	uint64_t yml_ram = cfg->vm.ram;
	char a[32], m[32];
	vm_fit(&yml_cpu, &yml_ram); /* what claw-restore would make of claw.yml here */
	if (yml_given && (yml_cpu != c->cpu || yml_ram != c->ram) && resuming) {
		size_format(cfg->vm.ram, 1, a);
		size_format(c->ram, 1, m);
		warn("claw.yml asks for vm.cpu %d and vm.ram %s; the saved state was made with %u and %s (config.json), "
		     "and resumes with them", cfg->vm.cpu, a, c->cpu, m);
	} else if (yml_given && (yml_cpu != c->cpu || yml_ram != c->ram)) {
		size_format(yml_ram, 1, a);
		info("cpu and ram from claw.yml: %u and %s, from this boot on (config.json)", yml_cpu, a);
		c->cpu = yml_cpu;
		c->ram = yml_ram;
		if (vmconfig_write(b, c) < 0)
			warn("%s", fail_msg());
	}
	s->cpu = c->cpu;
	s->ram = c->ram;
	vm_fit(&s->cpu, &s->ram);
	if (s->cpu != c->cpu || s->ram != c->ram) {
		size_format(c->ram, 1, a);
		size_format(s->ram, 1, m);
		info("config.json's cpu %u and ram %s do not fit this host; the machine gets %u and %s", c->cpu, a, s->cpu, m);
	}
	s->width = (unsigned)cfg->vm.width;
	s->height = (unsigned)cfg->vm.height;
	s->ppi = (unsigned)cfg->vm.dpi;
	s->id = &c->id;
	s->mac = c->mac;
	s->os_version = c->os_version;
}

enum { RESUMED, START_FRESH, STOPPED_PAUSED };

/* The folders the machine is made with: what a saved state is saved with. */
static const struct share_list *machine_shares;

/* A saved state goes with the record of its shares. */
static int discard_saved(struct bundle *b)
{
	return bundle_remove(b, BUNDLE_SAVED_SHARES) < 0 ? -1 : bundle_remove(b, BUNDLE_SAVED_STATE);
}

/* A saved state matches only the disk it was saved with: once the machine has run without it,
 * it is stale and goes. Until then it is the user's session: only a file the hypervisor says
 * cannot be restored into this machine (EX_DATAERR) is discarded; any other failure (two
 * machines already running, a locked disk) leaves it for the next boot. */
static int resume_saved(struct vm *vm, struct bundle *b, const char *discard_flag)
{
	if (!bundle_has(b, BUNDLE_SAVED_STATE))
		return START_FRESH;
	if (discard_flag) {
		/* --no-resume asks for exactly this; --recovery is told, since it costs the session. */
		if (!strcmp(discard_flag, "--recovery"))
			warn("%s: discarding the saved state", discard_flag);
		else
			info("%s: discarding the saved state", discard_flag);
		return discard_saved(b) < 0 ? -1 : START_FRESH;
	}
	char *path = bundle_file(b, BUNDLE_SAVED_STATE);
	int rc = vm_restore(vm, path);
	free(path);
	if (rc < 0 && fail_code() == EX_DATAERR) {
		warn("cannot resume from the saved state (%s); starting afresh and discarding it", fail_msg());
		return discard_saved(b) < 0 ? -1 : START_FRESH;
	}
	if (rc == 0 && stop_signals) {
		/* Stopped before the guest ran a cycle: the disk is still the one the state was saved with. */
		info("stopped before it resumed: the saved state is kept");
		return vm_force_stop(vm) < 0 ? -1 : STOPPED_PAUSED;
	}
	if (rc == 0 && vm_resume(vm) == 0) {
		info("resumed from the saved state");
		return discard_saved(b) < 0 ? -1 : RESUMED;
	}
	char *why = xstrdup(fail_msg());
	int code = fail_code();
	if (rc == 0)
		vm_force_stop(vm); /* restored, not resumed: it never ran */
	fail(code, "cannot resume from the saved state: %s; it is kept for the next boot (--no-resume discards it)", why);
	free(why);
	return -1;
}

/* A suspend that did not happen: said, and kept in run/suspend for whoever sent the signal
 * (claw suspend), with its exit code. The machine runs on. */
static void suspend_failed(struct bundle *b, const char *fmt, ...)
{
	char why[1024], line[1100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	warn("%s; it runs on", why);
	int n = snprintf(line, sizeof line, "%d %s\n", fail_code(), why);
	bundle_write(b, BUNDLE_RUN_SUSPEND, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, 0644);
}

/* The state file whole under its name and the machine off, or neither: a saved state beside a
 * guest that runs on would one day resume it into its past. */
static int save_and_stop(struct vm *vm, struct bundle *b, const char *tmp, const char *path)
{
	int rc = vm_save(vm, tmp);
	/* The saved memory holds whatever the guest held: the user's alone. */
	if (rc == 0 && chmod(tmp, 0600) < 0)
		rc = fail_sys(EX_IOERR, "cannot chmod '%s'", tmp);
	/* The shares first (none too): a state under its name always has its record beside it. */
	if (rc == 0)
		rc = shares_save(b, BUNDLE_SAVED_SHARES, machine_shares);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = fail_sys(EX_IOERR, "cannot rename '%s'", tmp);
	if (rc < 0) {
		unlink(tmp);
		bundle_remove(b, BUNDLE_SAVED_SHARES);
		suspend_failed(b, "cannot save the machine's state: %s", fail_msg());
		return -1;
	}
	if (vm_force_stop(vm) < 0) {
		unlink(path);
		bundle_remove(b, BUNDLE_SAVED_SHARES);
		suspend_failed(b, "saved the machine's state but cannot stop it (%s): the saved state is removed", fail_msg());
		return -1;
	}
	return 0;
}

/* SIGUSR1: pause, save beside the disk, power off. On failure it runs on; a machine the
 * hypervisor cannot save (shared folders on a macOS 14 host, an old guest) is not even paused. */
static int suspend(struct vm *vm, struct bundle *b)
{
	bundle_remove(b, BUNDLE_RUN_SUSPEND);
	if (vm_can_save(vm) < 0) {
		suspend_failed(b, "cannot save the machine's state: %s", fail_msg());
		return -1;
	}
	char *tmp = bundle_file(b, BUNDLE_SAVED_STATE ".part"), *path = bundle_file(b, BUNDLE_SAVED_STATE);
	int rc = -1;
	run_set_state(b, "paused");
	if (vm_pause(vm) == 0) {
		run_set_state(b, "saving");
		rc = save_and_stop(vm, b, tmp, path);
		if (rc < 0)
			vm_resume(vm);
	} else {
		suspend_failed(b, "cannot pause the machine: %s", fail_msg());
	}
	if (rc < 0)
		run_set_state(b, "running");
	else
		info("saved the machine's state; the next claw-boot resumes it");
	free(tmp);
	free(path);
	return rc;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Until the guest stops, or signals stop it. */
static int supervise(struct vm *vm, struct bundle *b, long stop_timeout_s)
{
	long long deadline = 0;
	sig_atomic_t seen = 0;
	for (;;) {
		struct vm_event ev;
		vm_wait(vm, 100, &ev);
		if (ev.kind == VM_EV_GUEST_STOPPED) {
			info("the guest shut down");
			return 0;
		}
		if (ev.kind == VM_EV_STOPPED_ERROR) {
			run_set_state(b, "error");
			return fail(EX_SOFTWARE, "the machine stopped with an error: %s", ev.message);
		}
		if (suspend_signal) {
			suspend_signal = 0;
			if (!deadline && suspend(vm, b) == 0)
				return 0;
		}
		if (stop_signals != seen && !deadline) {
			seen = stop_signals;
			run_set_state(b, "stopping");
			deadline = now_ms() + stop_timeout_s * 1000;
			if (vm_request_stop(vm) < 0) {
				warn("%s; forcing it off", fail_msg());
				deadline = now_ms();
			}
		}
		if (deadline && (now_ms() >= deadline || stop_signals != seen)) {
			warn(stop_signals != seen ? "stopped again: forcing the machine off"
						  : "the guest did not shut down within %ld s; forcing it off", stop_timeout_s);
			return vm_force_stop(vm);
		}
	}
}

/* A saved state resumes only into the machine it was saved from, shared folders and all: VZ
 * refuses any other, and the state would be lost. So the folders asked for now (claw.yml's and
 * --dir's) must be the ones it was saved with, or nothing starts. They are never taken from
 * the record alone: a bundle from someone else would choose which of this host's folders its
 * guest sees. A state saved before claw kept the record has none: resumed as asked. */
static int resume_shares(struct bundle *b, const struct share_list *l)
{
	if (!bundle_has(b, BUNDLE_SAVED_SHARES))
		return 0;
	struct share_list saved;
	if (shares_load(b, BUNDLE_SAVED_SHARES, &saved) < 0)
		return -1;
	int rc = 0;
	if (!shares_same(l, &saved)) {
		char *was = shares_as_dirs(&saved);
		rc = fail(EX_USAGE, "'%s' was suspended sharing %s; it resumes only with exactly those (claw.yml's vm.shares "
				    "and --dir together), or with --no-resume to start afresh",
			  bundle_name(b), was);
		free(was);
	}
	shares_free(&saved);
	return rc;
}

/* claw.yml's shares and --dir's, checked before anything starts. */
static int gather_shares(struct bundle *b, struct share_list *l, const struct claw_config *cfg, struct share_list *dirs,
			 const struct vmconfig *c, bool resuming)
{
	shares_add_config(l, cfg);
	if (shares_add_list(l, dirs) < 0 || shares_check(l, c->os_version) < 0)
		return -1;
	if (resuming && resume_shares(b, l) < 0)
		return -1;
	if (l->n && !*c->os_version)
		warn("config.json does not say which macOS the guest runs; a macOS guest mounts shared folders from %d on",
		     SHARES_MIN_GUEST);
	for (size_t i = 0; i < l->n; i++)
		info("sharing '%s' as %s/%s%s", l->items[i].path, SHARES_GUEST_DIR, l->items[i].name,
		     l->items[i].read_only ? " (read-only)" : "");
	return 0;
}

static int boot(struct bundle *b, struct vmconfig *c, const struct claw_config *cfg, bool yml_given,
		const struct share_list *shares, bool recovery, bool no_resume, long stop_timeout)
{
	char *disk = bundle_file(b, BUNDLE_DISK), *aux = bundle_file(b, BUNDLE_AUX), *console = bundle_file(b, BUNDLE_RUN_CONSOLE);
	struct vm_spec spec = { .disk = disk, .aux = aux, .console = console, .shares = shares->items, .nshares = shares->n };
	machine_shares = shares;
	spec_from(b, c, cfg, yml_given, bundle_has(b, BUNDLE_SAVED_STATE) && !no_resume && !recovery, &spec);
	struct vm *vm = NULL;
	int rc = run_set_state(b, "starting");
	if (rc == 0)
		rc = shares_record(b, shares, getpid());
	if (rc == 0)
		rc = vm_create(&spec, &vm);
	int how = rc == 0 ? resume_saved(vm, b, recovery ? "--recovery" : no_resume ? "--no-resume" : NULL) : -1;
	if (how == START_FRESH)
		rc = vm_start(vm, recovery);
	else if (how < 0)
		rc = -1;
	if (how == STOPPED_PAUSED) {
		rc = 0;
	} else if (rc == 0 && !stop_signals) {
		run_set_state(b, "running");
		detached_and_running(b);
		rc = supervise(vm, b, stop_timeout);
	} else if (rc == 0) {
		rc = vm_force_stop(vm); /* stopped while it started */
	}
	vm_destroy(vm);
	free(disk);
	free(aux);
	free(console);
	return rc;
}

/* --shutdown: the guest itself is told, over SSH with the bundle's key and known_hosts; the
 * claw-boot that runs the machine then sees it stop, as with any guest that shuts down. */
static int shutdown_guest(const char *bundle_arg, const char *config_path)
{
	struct bundle *b;
	struct claw_config *cfg;
	struct ssh_target t;
	struct guest_args by_bundle = { 0 };
	pid_t pid;
	if (bundle_open(bundle_arg, 0, &b) < 0)
		die_err();
	if (!run_alive(b, &pid))
		die(EX_UNAVAILABLE, "'%s' is not running", bundle_name(b));
	if (!bundle_has(b, BUNDLE_RUN_IP))
		die(EX_NOINPUT, "'%s' has no address to reach its guest at (no %s; claw-ip -b %s --wait finds it)",
		    bundle_name(b), BUNDLE_RUN_IP, bundle_name(b));
	if (cli_load_config(config_path, b, &cfg) < 0 || guest_target(&by_bundle, b, cfg, &t) < 0 || guest_shutdown(&t) < 0)
		die_err();
	ssh_close(&t);
	info("asked the guest to shut down (%s)", GUEST_SHUTDOWN);
	ssh_target_free(&t);
	config_free(cfg);
	bundle_close(b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL;
	bool detached = false, recovery = false, no_resume = false, shutdown = false, timeout_given = false;
	uint64_t stop_timeout = 60;
	struct share_list dirs = SHARE_LIST_ZERO, shares = SHARE_LIST_ZERO;
	int opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:dhqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case 'd': detached = true; break;
		case OPT_DIR:
			if (shares_add_dir(&dirs, optarg) < 0)
				cli_usage_error("%s", fail_msg());
			break;
		case OPT_RECOVERY: recovery = true; break;
		case OPT_NO_RESUME: no_resume = true; break;
		case OPT_STOP_TIMEOUT:
			if (parse_u64(optarg, &stop_timeout) < 0 || stop_timeout > 86400)
				cli_usage_error("--stop-timeout takes seconds (0 to 86400), not '%s'", optarg);
			timeout_given = true;
			break;
		case OPT_SHUTDOWN: shutdown = true; break;
		default: cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg)
		cli_usage_error("-b BUNDLE is required");
	if (shutdown && (detached || dirs.n || recovery || no_resume || timeout_given))
		cli_usage_error("--shutdown takes no -d, --dir, --recovery, --no-resume or --stop-timeout");
	if (shutdown) /* the guest is asked; no hypervisor is needed for that */
		return shutdown_guest(bundle_arg, config_path);
	if (vm_host_check() < 0)
		die_err();

	struct bundle *b;
	struct vmconfig c;
	struct claw_config *cfg;
	if (bundle_open(bundle_arg, 0, &b) < 0)
		die_err();
	if (!bundle_has(b, BUNDLE_VMCONFIG))
		die(EX_NOINPUT, "'%s' is not restored yet (no %s; run claw-restore -b %s)", bundle_path(b), BUNDLE_VMCONFIG,
		    bundle_path(b));
	/* Under the bundle's lock while it claims run/pid: a snapshot, rollback, inject, restore or
	 * rm in progress holds the lock and finds the machine stopped throughout. */
	if (bundle_lock(b, true) < 0 || vmconfig_read(b, &c) < 0 || cli_load_config(config_path, b, &cfg) < 0 ||
	    gather_shares(b, &shares, cfg, &dirs, &c, bundle_has(b, BUNDLE_SAVED_STATE) && !no_resume && !recovery) < 0 ||
	    run_claim(b) < 0)
		die_err();
	bundle_unlock(b);
	if (detached)
		detach(b);
	catch_signals();

	int rc = boot(b, &c, cfg, config_path || bundle_has(b, BUNDLE_CONFIG), &shares, recovery, no_resume,
		      (long)stop_timeout);
	run_set_state(b, rc < 0 ? "error" : "stopped");
	run_release(b);
	shares_free(&shares);
	config_free(cfg);
	bundle_close(b);
	if (rc < 0)
		die_err();
	return 0;
}
