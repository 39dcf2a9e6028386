/* claw-restore: install macOS from an IPSW into a new VM disk.
 *
 * Order of the work: read the image's requirements on this host; check claw.yml's
 * cpu and ram against them, fitted to what the host allows, and the disk's size
 * against the free space; make
 * the disk (RAW, or ASIF on macOS 26+), the auxiliary storage and a new
 * identity; install with progress; wait until the hypervisor lets go of the
 * disk; write config.json last — it is the mark of a finished restore.
 * A failed or interrupted restore removes what it made, so a rerun starts clean.
 * --reidentify gives a restored bundle a new machine identifier and MAC (clones).
 * Exit: 0 restored (or already); 64 usage; 65 bad config.json; 66 no IPSW;
 * 69 needs macOS / the image has nothing for this host; 70 the installer failed;
 * 73 no room; 75 running, or the disk stayed busy; 78 cpu/ram under the image's
 * minimum; 128+N interrupted by signal N. */
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "disk.h"
#include "log.h"
#include "progress.h"
#include "run.h"
#include "util.h"
#include "vm.h"
#include "vmconfig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-restore [-qv] -b BUNDLE [-c FILE] [--ipsw PATH] [--disk-format raw|asif] [--force]\n"
	"       claw-restore [-qv] -b BUNDLE --reidentify\n"
	"       claw-restore -h | --version\n";

enum { OPT_IPSW = OPT_FIRST_PRIVATE, OPT_FORMAT, OPT_FORCE, OPT_REIDENTIFY };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "ipsw", required_argument, NULL, OPT_IPSW },
	{ "disk-format", required_argument, NULL, OPT_FORMAT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "reidentify", no_argument, NULL, OPT_REIDENTIFY },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

#define RELEASE_TIMEOUT_MS 60000
#ifndef CANCEL_TIMEOUT_MS /* a test builds one with less */
#define CANCEL_TIMEOUT_MS 5000 /* how long a cancelled installer has to say it stopped */
#endif

static volatile sig_atomic_t stop_signal, signals;
static void on_signal(int sig)
{
	stop_signal = sig;
	signals++;
}

/* What this run has made, removed again unless it finishes. */
static struct bundle *made_in;
static bool made_disk, made_aux;

static void remove_what_was_made(void)
{
	if (made_disk)
		bundle_remove(made_in, BUNDLE_DISK);
	if (made_aux)
		bundle_remove(made_in, BUNDLE_AUX);
	made_disk = made_aux = false;
}

_Noreturn static void give_up(void)
{
	remove_what_was_made();
	if (stop_signal) {
		warn("interrupted; removed the partial disk");
		exit(128 + stop_signal);
	}
	die_err();
}

static void check_interrupt(void)
{
	if (stop_signal)
		give_up();
}

static int reidentify(struct bundle *b)
{
	struct vmconfig c;
	if (vmconfig_read(b, &c) < 0 || vm_identity_renew(&c.id) < 0)
		return -1;
	vmconfig_random_mac(c.mac);
	if (vmconfig_write(b, &c) < 0)
		return -1;
	info("new machine identifier and MAC %s", c.mac);
	return 0;
}

static char *ipsw_path(const struct bundle *b, const char *given)
{
	char *p = given ? xstrdup(given) : bundle_file(b, BUNDLE_IPSW);
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
		die(EX_NOINPUT, "no restore image at '%s' (run claw-fetch -b %s, or give --ipsw PATH)", p, bundle_path(b));
	return p;
}

/* cpu and ram as the machine will have them: fitted to this host, and enough for the image. */
static void fit_hardware(const struct vm_image *img, const struct claw_config *cfg, unsigned *cpu, uint64_t *ram)
{
	char a[32], b[32];
	if (!img->supported)
		die(EX_UNAVAILABLE, "macOS %s (%s) has no configuration this host can run (host: macOS %s)", img->version,
		    img->build, vm_host_version());
	if ((unsigned)cfg->vm.cpu < img->min_cpu)
		die(EX_CONFIG, "vm.cpu is %d but macOS %s needs at least %u", cfg->vm.cpu, img->version, img->min_cpu);
	if (cfg->vm.ram < img->min_ram) {
		size_format(cfg->vm.ram, 0, a);
		size_format(img->min_ram, 0, b);
		die(EX_CONFIG, "vm.ram is %s but macOS %s needs at least %s", a, img->version, b);
	}
	*cpu = (unsigned)cfg->vm.cpu;
	*ram = cfg->vm.ram;
	vm_fit(cpu, ram);
	size_format(cfg->vm.ram, 1, a);
	size_format(*ram, 1, b);
	if (*cpu != (unsigned)cfg->vm.cpu || *ram != cfg->vm.ram)
		info("vm.cpu %d and vm.ram %s do not fit this host; the machine gets %u and %s", cfg->vm.cpu, a, *cpu, b);
	if (*cpu < img->min_cpu || *ram < img->min_ram)
		die(EX_UNAVAILABLE, "this host allows %u CPUs and %s, less than macOS %s needs", *cpu, b, img->version);
}

static void check_space(const struct bundle *b, uint64_t need)
{
	int64_t have;
	if (free_space(bundle_path(b), &have) < 0)
		die_err();
	if ((uint64_t)have < need) {
		char h[32], n[32];
		size_format((uint64_t)have, 0, h);
		size_format(need, 0, n);
		die(EX_CANTCREAT, "not enough space in '%s' for the disk: need %s, %s free", bundle_path(b), n, h);
	}
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait for the installer, drawing progress. A signal cancels it; then it has CANCEL_TIMEOUT_MS
 * to say it stopped, and a second signal does not wait for it at all. */
static int install(struct vm *vm, const char *ipsw)
{
	if (vm_install_begin(vm, ipsw) < 0)
		return -1;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int told = -1;
	long long cancelled = 0;
	for (;;) {
		struct vm_event ev;
		vm_wait(vm, 250, &ev);
		if (ev.kind == VM_EV_INSTALLED) {
			progress_end();
			return ev.ok ? 0 : fail(EX_SOFTWARE, "installation failed: %s", ev.message);
		}
		if (stop_signal && !cancelled) {
			vm_install_cancel(vm);
			cancelled = now_ms();
		}
		if (cancelled && signals > 1) {
			progress_end();
			warn("interrupted again: not waiting for the installer to stop");
			return -1;
		}
		if (cancelled && now_ms() - cancelled >= CANCEL_TIMEOUT_MS) {
			progress_end();
			warn("the installer did not stop within %d s of the cancel; giving up", CANCEL_TIMEOUT_MS / 1000);
			return -1;
		}
		double f = vm_install_progress(vm);
		progress_fraction("installing macOS", f, seconds_since(&t0));
		if (!progress_enabled() && (int)(f * 10) != told) {
			told = (int)(f * 10);
			info("installing macOS: %d%%", told * 10);
		}
	}
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *config_path = NULL, *ipsw_arg = NULL, *format = NULL;
	bool force = false, renew = false;
	int opt;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:c:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_IPSW: ipsw_arg = optarg; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_FORCE: force = true; break;
		case OPT_REIDENTIFY: renew = true; break;
		default: cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg)
		cli_usage_error("-b BUNDLE is required");
	if (format && strcmp(format, "raw") && strcmp(format, "asif"))
		cli_usage_error("--disk-format is raw or asif, not '%s'", format);
	if (renew && (force || ipsw_arg || format))
		cli_usage_error("--reidentify takes no --ipsw, --disk-format or --force");
	if (vm_host_check() < 0)
		die_err();

	struct bundle *b;
	if (bundle_open(bundle_arg, ipsw_arg ? BUNDLE_CREATE : 0, &b) < 0 || bundle_lock(b, true) < 0)
		die_err();
	if (bundle_has(b, BUNDLE_VMCONFIG) && !force && !renew) {
		info("'%s' is already restored (--force to start over)", bundle_name(b));
		bundle_close(b);
		return 0;
	}
	pid_t pid;
	if (run_alive(b, &pid))
		die(EX_TEMPFAIL, "'%s' is running (pid %ld); stop it first (claw stop %s)", bundle_name(b), (long)pid,
		    bundle_name(b));
	if (renew) {
		if (reidentify(b) < 0)
			die_err();
		bundle_close(b);
		return 0;
	}
	struct claw_config *cfg;
	if (cli_load_config(config_path, b, &cfg) < 0)
		die_err();
	if (!format)
		format = disk_default_format(vm_host_version());
	else if (!disk_format_ok(vm_host_version(), format))
		die(EX_UNAVAILABLE, "ASIF disks need macOS 26 or later (host: macOS %s); use --disk-format raw",
		    vm_host_version());
	char *ipsw = ipsw_path(b, ipsw_arg);

	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct vm_image img;
	if (vm_image_load(ipsw, &img) < 0)
		die_err();
	check_interrupt();
	unsigned cpu;
	uint64_t ram;
	fit_hardware(&img, cfg, &cpu, &ram);
	/* From here on a crash must not leave anything that looks finished. */
	if (bundle_remove(b, BUNDLE_VMCONFIG) < 0 || bundle_remove(b, BUNDLE_DISK) < 0 || bundle_remove(b, BUNDLE_AUX) < 0)
		die_err();
	check_space(b, cfg->vm.disk);

	char *disk = bundle_file(b, BUNDLE_DISK), *aux = bundle_file(b, BUNDLE_AUX);
	struct vmconfig c = { .cpu = cpu, .ram = ram, .width = (unsigned)cfg->vm.width,
			      .height = (unsigned)cfg->vm.height, .ppi = (unsigned)cfg->vm.dpi, .disk_size = cfg->vm.disk };
	snprintf(c.disk_format, sizeof c.disk_format, "%s", format);
	snprintf(c.os_version, sizeof c.os_version, "%s", img.version);
	snprintf(c.os_build, sizeof c.os_build, "%s", img.build);
	vmconfig_random_mac(c.mac);
	made_in = b;
	made_disk = disk_create(disk, format, cfg->vm.disk) == 0;
	if (!made_disk)
		give_up();
	made_aux = true; /* the hypervisor may leave a partial one even when it fails */
	/* The hypervisor makes it with the umask; it is the guest's NVRAM, the user's alone. */
	if (vm_identity_create(&img, aux, &c.id) < 0 || (chmod(aux, 0600) < 0 && fail_sys(EX_IOERR, "cannot chmod '%s'", aux)))
		give_up();
	check_interrupt();

	struct vm_spec spec = { .id = &c.id, .aux = aux, .disk = disk, .mac = c.mac, .os_version = c.os_version, .cpu = c.cpu,
				.ram = c.ram, .width = c.width, .height = c.height, .ppi = c.ppi };
	struct vm *vm;
	if (vm_create(&spec, &vm) < 0)
		give_up();
	info("installing macOS %s (%s) from '%s'", img.version, img.build, ipsw);
	int rc = install(vm, ipsw);
	vm_destroy(vm);
	if (rc < 0)
		give_up();
	check_interrupt();
	int waited = disk_wait_released(disk, RELEASE_TIMEOUT_MS);
	if (waited < 0)
		give_up();
	info("the disk was released %d ms after the installer finished", waited);
	check_interrupt();
	if (vmconfig_write(b, &c) < 0)
		give_up();
	made_disk = made_aux = false;
	info("restored macOS %s (%s) into '%s'", img.version, img.build, bundle_path(b));

	free(disk);
	free(aux);
	free(ipsw);
	config_free(cfg);
	bundle_close(b);
	return 0;
}
