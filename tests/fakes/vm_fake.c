/* vm_fake: the hypervisor seam (common/vm.h) as a scriptable fake, so every line
 * of claw-restore and claw-boot above the seam runs in the tests on Linux.
 * It stands in for Virtualization.framework only; the files it touches (disk,
 * aux, saved state, console) are real, and its threads deliver events the way
 * VZ's queue does: later, from elsewhere.
 *
 * The environment scripts it (all optional):
 *   CLAW_FAKE_VM_LOG=FILE           append one line per call the command makes
 *   CLAW_FAKE_VM_HOST_VERSION=V     the host's macOS version (default 15.1)
 *   CLAW_FAKE_VM_MAX_CPU=N, _MAX_RAM=BYTES   the host's limits (default 8, 32 GiB)
 *   CLAW_FAKE_VM_LATEST_URL=URL     the newest image this host runs, as fetchLatestSupported
 *                                   names it (unset: no answer, EX_UNAVAILABLE, as off a Mac)
 *   CLAW_FAKE_VM_LATEST_FAIL=TEXT   fetchLatestSupported fails with TEXT
 *   CLAW_FAKE_VM_UNSUPPORTED=1      the image has no configuration for this host
 *   CLAW_FAKE_VM_INVALID=TEXT       validation fails with TEXT
 *   CLAW_FAKE_VM_INSTALL_STEPS=N, _INSTALL_MS=MS   progress steps and their length
 *   CLAW_FAKE_VM_INSTALL_FAIL_AT=PCT  the installer fails at PCT percent
 *   CLAW_FAKE_VM_DISK_HOLD_MS=MS    the disk stays locked this long after install
 *   CLAW_FAKE_VM_LIMIT=1            start and restore fail: the host's two-VM limit
 *   CLAW_FAKE_VM_HALT_FILE=FILE     the guest shuts down when FILE appears (the test guest's
 *                                   `sudo shutdown -h now`: tests/helpers/guest-shell)
 *   CLAW_FAKE_VM_SHUTDOWN_AFTER=S   the guest shuts itself down after S seconds
 *   CLAW_FAKE_VM_CRASH_AFTER=S      the machine stops with an error after S seconds
 *   CLAW_FAKE_VM_LEASES=FILE, CLAW_FAKE_VM_IP=ADDR   on start, the guest gets a DHCP
 *                                   lease in FILE as macOS's bootpd writes one
 * The log has a "share NAME PATH ro|rw" line for each shared folder the machine is made with.
 * An .ipsw whose first line is "claw-fake-ipsw" may carry version=, build=,
 * min_cpu=, min_ram= lines; any other file reads as macOS 15.2 (24C101).
 *
 * It refuses what VZ refuses (tests/darwin-model enforces the rules on vz.c itself):
 * saving a machine whose devices cannot be saved (one made from macOS 13 or
 * earlier, vz.c's choice; one with shared folders on a macOS 14 host, VZ-API.md §14),
 * restoring into a machine that is not stopped or not made as the saved one was (its
 * shared folders: "invalid argument", §14), and a
 * forced stop of a machine that is not running — but for one whose guest has
 * just shut down, which vz.c takes as off. Like a macOS guest, which answers the
 * power button with its shut-down dialog, the guest ignores a stop request. */
#include "vm.h"
#include "log.h"
#include "util.h"
#include "vmevents.h"
#include "atomic.h"
#include "leases.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define FAKE_HW "claw-fake-hardware-model VirtualMac2,1"

enum fake_state { F_STOPPED, F_RUNNING, F_PAUSED, F_INSTALLING };

struct vm {
	struct vm_events events;
	struct vm_spec spec;
	struct vm_identity id;
	pthread_mutex_t mu;
	enum fake_state state;
	bool guest_stopped;  /* the guest itself stopped it (a shutdown, a crash) */
	unsigned generation; /* bumped on every stop, so a stale timer does nothing */
	atomic_int progress; /* per mille */
	atomic_bool cancel;
	int disk_fd;         /* holds the disk's flock while in use, as VZ does */
	char ipsw[4096];
	/* The shared folders, as a saved state records its configuration: one line each, by name
	 * (a VZMultipleDirectoryShare is a dictionary), so a restore into other ones is refused. */
	char shares[8192];
};

static int by_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void describe_shares(struct vm *vm, const struct vm_share *sh, size_t n)
{
	char **lines = xcalloc(n ? n : 1, sizeof *lines);
	for (size_t i = 0; i < n; i++)
		lines[i] = xasprintf("share %s %s %s\n", sh[i].name, sh[i].path, sh[i].read_only ? "ro" : "rw");
	qsort(lines, n, sizeof *lines, by_line);
	vm->shares[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strncat(vm->shares, lines[i], sizeof vm->shares - strlen(vm->shares) - 1);
		free(lines[i]);
	}
	free(lines);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void fake_log(const char *fmt, ...) CLAW_PRINTF(1, 2);
static void fake_log(const char *fmt, ...)
{
	const char *path = getenv("CLAW_FAKE_VM_LOG");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

const char *vm_host_version(void)
{
	const char *v = getenv("CLAW_FAKE_VM_HOST_VERSION");
	return v && *v ? v : "15.1";
}

int vm_host_check(void)
{
	fake_log("host_check");
	return 0;
}

/* As VZ takes them: whole MiB, within the host's bounds (1 CPU and 128 MiB at least). */
void vm_fit(unsigned *cpu, uint64_t *ram)
{
	unsigned max_cpu = (unsigned)env_long("CLAW_FAKE_VM_MAX_CPU", 8);
	uint64_t max_ram = (uint64_t)env_long("CLAW_FAKE_VM_MAX_RAM", 32L << 30), mib = 1 << 20;
	*cpu = *cpu < 1 ? 1 : *cpu > max_cpu ? max_cpu : *cpu;
	*ram = *ram < 128 * mib ? 128 * mib : *ram > max_ram ? max_ram / mib * mib : *ram / mib * mib;
}

int vm_latest_supported(char *url, size_t size)
{
	fake_log("latest_supported");
	const char *why = getenv("CLAW_FAKE_VM_LATEST_FAIL"), *u = getenv("CLAW_FAKE_VM_LATEST_URL");
	if (why && *why)
		return fail(EX_TEMPFAIL, "Virtualization.framework cannot say which macOS this host runs: %s", why);
	if (!u || !*u)
		return fail(EX_UNAVAILABLE, VM_NEEDS);
	snprintf(url, size, "%s", u);
	return 0;
}

static void image_line(struct vm_image *img, const char *line)
{
	const char *eq = strchr(line, '=');
	if (!eq)
		return;
	size_t k = (size_t)(eq - line);
	const char *v = eq + 1;
	if (k == 7 && !strncmp(line, "version", k))
		snprintf(img->version, sizeof img->version, "%s", v);
	else if (k == 5 && !strncmp(line, "build", k))
		snprintf(img->build, sizeof img->build, "%s", v);
	else if (k == 7 && !strncmp(line, "min_cpu", k))
		img->min_cpu = (unsigned)strtoul(v, NULL, 10);
	else if (k == 7 && !strncmp(line, "min_ram", k))
		img->min_ram = strtoull(v, NULL, 10);
}

int vm_image_load(const char *ipsw, struct vm_image *img)
{
	fake_log("image_load %s", ipsw);
	memset(img, 0, sizeof *img);
	snprintf(img->version, sizeof img->version, "15.2");
	snprintf(img->build, sizeof img->build, "24C101");
	img->min_cpu = 2;
	img->min_ram = 4ULL << 30;
	struct buf b = BUF_ZERO;
	if (file_read(ipsw, 64 << 10, &b) < 0)
		return fail(EX_DATAERR, "cannot load the restore image '%s': %s", ipsw, fail_msg());
	if (b.len > 15 && !memcmp(b.data, "claw-fake-ipsw\n", 15)) {
		for (char *save = NULL, *l = strtok_r((char *)b.data + 15, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			image_line(img, l);
	}
	buf_free(&b);
	img->supported = !getenv("CLAW_FAKE_VM_UNSUPPORTED");
	img->hw_model_len = sizeof FAKE_HW - 1;
	memcpy(img->hw_model, FAKE_HW, img->hw_model_len);
	return 0;
}

static void new_machine_id(struct vm_identity *id)
{
	static unsigned counter;
	id->machine_id_len = (size_t)snprintf((char *)id->machine_id, sizeof id->machine_id,
					      "claw-fake-machine-id %ld-%ld-%u", (long)getpid(), (long)time(NULL), ++counter);
}

int vm_identity_create(const struct vm_image *img, const char *aux, struct vm_identity *id)
{
	fake_log("identity_create %s", aux);
	memcpy(id->hw_model, img->hw_model, img->hw_model_len);
	id->hw_model_len = img->hw_model_len;
	new_machine_id(id);
	static const char header[] = "claw-fake-aux\n";
	return atomic_write(aux, header, sizeof header - 1, 0644);
}

int vm_identity_renew(struct vm_identity *id)
{
	fake_log("identity_renew");
	new_machine_id(id);
	return 0;
}

int vm_create(const struct vm_spec *spec, struct vm **out)
{
	*out = NULL;
	fake_log("create cpu=%u ram=%llu display=%ux%u@%u mac=%s", spec->cpu, (unsigned long long)spec->ram, spec->width,
		 spec->height, spec->ppi, spec->mac);
	const char *invalid = getenv("CLAW_FAKE_VM_INVALID");
	if (invalid && *invalid)
		return fail(EX_CONFIG, "invalid machine configuration: %s", invalid);
	if (spec->id->hw_model_len != sizeof FAKE_HW - 1 || memcmp(spec->id->hw_model, FAKE_HW, sizeof FAKE_HW - 1))
		return fail(EX_CONFIG, "invalid machine configuration: the hardware model is not supported on this host");
	static struct vm the_vm; /* one machine per process; timer threads may outlive vm_destroy */
	struct vm *vm = &the_vm;
	memset(vm, 0, sizeof *vm);
	vm_events_init(&vm->events);
	pthread_mutex_init(&vm->mu, NULL);
	vm->spec = *spec;
	vm->id = *spec->id;
	vm->spec.id = &vm->id;
	for (size_t i = 0; i < spec->nshares; i++)
		fake_log("share %s %s %s", spec->shares[i].name, spec->shares[i].path, spec->shares[i].read_only ? "ro" : "rw");
	describe_shares(vm, spec->shares, spec->nshares);
	vm->spec.shares = NULL; /* the caller's; nothing after vm_create needs them but their count */
	vm->disk_fd = -1;
	*out = vm;
	return 0;
}

/* VZ keeps the disk open (and locked) while it uses it. */
static int hold_disk(struct vm *vm)
{
	if (vm->disk_fd >= 0)
		return 0;
	vm->disk_fd = open(vm->spec.disk, O_RDWR | O_CLOEXEC);
	if (vm->disk_fd < 0 || flock(vm->disk_fd, LOCK_EX | LOCK_NB) < 0) {
		if (vm->disk_fd >= 0)
			close(vm->disk_fd);
		vm->disk_fd = -1;
		return fail_sys(EX_SOFTWARE, "the disk image '%s' is in use", vm->spec.disk);
	}
	return 0;
}

static void release_disk(struct vm *vm)
{
	if (vm->disk_fd >= 0)
		close(vm->disk_fd);
	vm->disk_fd = -1;
}

static void *install_thread(void *arg)
{
	struct vm *vm = arg;
	long steps = env_long("CLAW_FAKE_VM_INSTALL_STEPS", 10), ms = env_long("CLAW_FAKE_VM_INSTALL_MS", 20);
	long fail_at = env_long("CLAW_FAKE_VM_INSTALL_FAIL_AT", -1);
	for (long i = 1; i <= steps; i++) {
		sleep_ms(ms);
		const char *why = NULL;
		if (atomic_load(&vm->cancel))
			why = "The operation was cancelled.";
		else if (fail_at >= 0 && i * 100 / steps >= fail_at)
			why = "A software update is required to complete the installation.";
		if (why) {
			pthread_mutex_lock(&vm->mu);
			release_disk(vm);
			vm->state = F_STOPPED;
			pthread_mutex_unlock(&vm->mu);
			vm_events_post(&vm->events, VM_EV_INSTALLED, false, why);
			return NULL;
		}
		atomic_store(&vm->progress, (int)(i * 1000 / steps));
	}
	char text[256];
	int n = snprintf(text, sizeof text, "claw-fake-disk installed from %s\n", vm->ipsw);
	if (pwrite(vm->disk_fd, text, (size_t)n, 0) != n)
		fake_log("install: cannot write the disk");
	/* Like VZ, keep the disk a little after saying it is done, even past vm_destroy. */
	pthread_mutex_lock(&vm->mu);
	int held = vm->disk_fd;
	vm->disk_fd = -1;
	vm->state = F_STOPPED;
	pthread_mutex_unlock(&vm->mu);
	vm_events_post(&vm->events, VM_EV_INSTALLED, true, NULL);
	sleep_ms(env_long("CLAW_FAKE_VM_DISK_HOLD_MS", 300));
	close(held);
	return NULL;
}

int vm_install_begin(struct vm *vm, const char *ipsw)
{
	fake_log("install %s", ipsw);
	snprintf(vm->ipsw, sizeof vm->ipsw, "%s", ipsw);
	if (hold_disk(vm) < 0)
		return -1;
	vm->state = F_INSTALLING;
	pthread_t th;
	if (pthread_create(&th, NULL, install_thread, vm) != 0)
		return fail(EX_OSERR, "cannot start the installer");
	pthread_detach(th);
	return 0;
}

double vm_install_progress(struct vm *vm) { return atomic_load(&vm->progress) / 1000.0; }

void vm_install_cancel(struct vm *vm)
{
	fake_log("install_cancel");
	atomic_store(&vm->cancel, true);
}

/* The guest went down by itself; with vm->mu held. */
static void guest_down(struct vm *vm)
{
	vm->state = F_STOPPED;
	vm->guest_stopped = true;
	vm->generation++;
	release_disk(vm);
}

struct timer {
	struct vm *vm;
	unsigned generation;
	long ms;
	enum vm_event_kind kind;
	const char *message;
};

/* Deliver an event later, unless the machine stopped (or restarted) meanwhile. */
static void *timer_thread(void *arg)
{
	struct timer *t = arg;
	sleep_ms(t->ms);
	struct vm *vm = t->vm;
	pthread_mutex_lock(&vm->mu);
	bool live = vm->generation == t->generation && vm->state == F_RUNNING;
	if (live)
		guest_down(vm);
	pthread_mutex_unlock(&vm->mu);
	if (live)
		vm_events_post(&vm->events, t->kind, t->kind == VM_EV_GUEST_STOPPED, t->message);
	free(t);
	return NULL;
}

static void after(struct vm *vm, long ms, enum vm_event_kind kind, const char *message)
{
	struct timer *t = xcalloc(1, sizeof *t);
	*t = (struct timer){ vm, vm->generation, ms, kind, message };
	pthread_t th;
	if (pthread_create(&th, NULL, timer_thread, t) == 0)
		pthread_detach(th);
	else
		free(t);
}

static void console_line(struct vm *vm, const char *line)
{
	if (!vm->spec.console)
		return;
	int fd = open(vm->spec.console, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write_all(fd, line, strlen(line)) < 0)
			fake_log("console: cannot write");
		close(fd);
	}
}

/* What bootpd appends when a guest asks for an address: the MAC without leading zeros. */
static void dhcp_lease(const struct vm *vm)
{
	const char *file = getenv("CLAW_FAKE_VM_LEASES"), *ip = getenv("CLAW_FAKE_VM_IP");
	struct mac m;
	if (!file || !ip || !mac_parse(vm->spec.mac, &m))
		return;
	char hw[32];
	snprintf(hw, sizeof hw, "%x:%x:%x:%x:%x:%x", m.b[0], m.b[1], m.b[2], m.b[3], m.b[4], m.b[5]);
	FILE *f = fopen(file, "a");
	if (!f)
		return;
	fprintf(f, "{\n\tname=claw-guest\n\tip_address=%s\n\thw_address=1,%s\n\tidentifier=1,%s\n\tlease=0x%lx\n}\n", ip,
		hw, hw, (unsigned long)time(NULL) + 86400);
	fclose(f);
}

/* While it runs, the guest shuts down once CLAW_FAKE_VM_HALT_FILE appears. */
static void *halt_watch(void *arg)
{
	struct timer *t = arg;
	struct vm *vm = t->vm;
	const char *file = getenv("CLAW_FAKE_VM_HALT_FILE");
	for (;;) {
		sleep_ms(50);
		pthread_mutex_lock(&vm->mu);
		bool live = vm->generation == t->generation && vm->state == F_RUNNING, halt = live && unlink(file) == 0;
		if (halt)
			guest_down(vm);
		pthread_mutex_unlock(&vm->mu);
		if (halt)
			vm_events_post(&vm->events, VM_EV_GUEST_STOPPED, true, NULL);
		if (!live || halt)
			break;
	}
	free(t);
	return NULL;
}

static void arm_guest_timers(struct vm *vm)
{
	const char *halt = getenv("CLAW_FAKE_VM_HALT_FILE");
	if (halt && *halt) {
		struct timer *t = xcalloc(1, sizeof *t);
		*t = (struct timer){ vm, vm->generation, 0, VM_EV_GUEST_STOPPED, NULL };
		pthread_t th;
		if (pthread_create(&th, NULL, halt_watch, t) == 0)
			pthread_detach(th);
		else
			free(t);
	}
	long shutdown = env_long("CLAW_FAKE_VM_SHUTDOWN_AFTER", -1), crash = env_long("CLAW_FAKE_VM_CRASH_AFTER", -1);
	if (shutdown >= 0)
		after(vm, shutdown * 1000, VM_EV_GUEST_STOPPED, NULL);
	if (crash >= 0)
		after(vm, crash * 1000, VM_EV_STOPPED_ERROR, "The virtual machine stopped unexpectedly.");
}

int vm_start(struct vm *vm, bool recovery)
{
	fake_log("start recovery=%d", recovery);
	if (getenv("CLAW_FAKE_VM_LIMIT"))
		return fail(EX_UNAVAILABLE, VM_LIMIT_MESSAGE);
	if (vm->state != F_STOPPED)
		return fail(EX_SOFTWARE, "cannot start: the machine is not stopped");
	if (hold_disk(vm) < 0)
		return -1;
	pthread_mutex_lock(&vm->mu);
	vm->state = F_RUNNING;
	vm->guest_stopped = false;
	pthread_mutex_unlock(&vm->mu);
	console_line(vm, recovery ? "claw-fake guest: booting macOS Recovery\n" : "claw-fake guest: booting macOS\n");
	dhcp_lease(vm);
	arm_guest_timers(vm);
	return 0;
}

int vm_request_stop(struct vm *vm)
{
	fake_log("request_stop");
	if (vm->state != F_RUNNING)
		return fail(EX_SOFTWARE, "cannot request a stop: the machine is not running");
	return 0; /* a macOS guest shows its shut-down dialog, and runs on */
}

int vm_force_stop(struct vm *vm)
{
	fake_log("force_stop");
	pthread_mutex_lock(&vm->mu);
	bool off = vm->state == F_STOPPED, ok = !off || vm->guest_stopped;
	vm->state = F_STOPPED;
	vm->generation++;
	release_disk(vm);
	pthread_mutex_unlock(&vm->mu);
	return ok ? 0 : fail(EX_SOFTWARE, "cannot stop the machine: Transition from state \"stopped\" to state \"stopping\" is invalid.");
}

static int transition(struct vm *vm, enum fake_state from, enum fake_state to, const char *what)
{
	fake_log("%s", what);
	pthread_mutex_lock(&vm->mu);
	bool ok = vm->state == from;
	if (ok)
		vm->state = to;
	pthread_mutex_unlock(&vm->mu);
	return ok ? 0 : fail(EX_SOFTWARE, "cannot %s: the machine is in the wrong state", what);
}

int vm_pause(struct vm *vm) { return transition(vm, F_RUNNING, F_PAUSED, "pause"); }

int vm_resume(struct vm *vm)
{
	if (transition(vm, F_PAUSED, F_RUNNING, "resume") < 0)
		return -1;
	arm_guest_timers(vm);
	return 0;
}

/* vz.c gives a guest older than macOS 14 devices a saved state cannot hold. */
static bool savable_guest(const struct vm *vm)
{
	return vm->spec.os_version && atoi(vm->spec.os_version) >= 14;
}

/* A macOS 14 host saves no directory sharing device (VZ-API.md §14). */
static bool savable(const struct vm *vm)
{
	return savable_guest(vm) && (!vm->spec.nshares || atoi(vm_host_version()) >= 15);
}

static int unsavable(const struct vm *vm)
{
	if (savable_guest(vm))
		return fail(EX_UNAVAILABLE, "a machine with shared folders cannot be suspended on this host (macOS %s): "
					    "Unsupported directory sharing device in configuration.", vm_host_version());
	return fail(EX_UNAVAILABLE, "a macOS %s guest cannot be suspended (it needs macOS 14 or later): Unsupported entropy device in configuration.",
		    vm->spec.os_version ? vm->spec.os_version : "(unknown)");
}

int vm_can_save(struct vm *vm) { return savable(vm) ? 0 : unsavable(vm); }

int vm_save(struct vm *vm, const char *path)
{
	fake_log("save %s", path);
	if (!savable(vm))
		return unsavable(vm);
	if (vm->state != F_PAUSED)
		return fail(EX_SOFTWARE, "cannot save: the machine is not paused");
	struct buf b = BUF_ZERO;
	buf_adds(&b, "claw-fake-saved-state\n");
	buf_add(&b, vm->id.machine_id, vm->id.machine_id_len);
	buf_adds(&b, vm->shares);
	int rc = atomic_write(path, b.data, b.len, 0600);
	buf_free(&b);
	return rc;
}

int vm_restore(struct vm *vm, const char *path)
{
	fake_log("restore %s", path);
	if (!savable(vm))
		return unsavable(vm);
	if (vm->state != F_STOPPED)
		return fail(EX_SOFTWARE, "cannot restore the machine's state: the machine is not stopped");
	if (getenv("CLAW_FAKE_VM_LIMIT"))
		return fail(EX_UNAVAILABLE, VM_LIMIT_MESSAGE);
	struct buf b = BUF_ZERO;
	if (file_read(path, 1 << 20, &b) < 0) /* VZErrorRestore, as for any file it cannot use */
		return fail(EX_DATAERR, "cannot restore the machine's state: %s", fail_msg());
	size_t head = 22 + vm->id.machine_id_len;
	bool mine = b.len >= head && !memcmp(b.data, "claw-fake-saved-state\n", 22) &&
		    !memcmp(b.data + 22, vm->id.machine_id, vm->id.machine_id_len);
	/* VZ: "incompatible configuration" is VZErrorRestore with "invalid argument" (VZ-API.md §14). */
	bool same_shares = mine && b.len - head == strlen(vm->shares) && !memcmp(b.data + head, vm->shares, b.len - head);
	buf_free(&b);
	if (!mine)
		return fail(EX_DATAERR, "cannot restore '%s': the saved state belongs to another machine", path);
	if (!same_shares)
		return fail(EX_DATAERR, "cannot restore '%s': invalid argument (the machine's shared folders are not the ones it "
					"was saved with)", path);
	if (hold_disk(vm) < 0)
		return -1;
	vm->state = F_PAUSED;
	vm->guest_stopped = false;
	return 0;
}

void vm_wait(struct vm *vm, int timeout_ms, struct vm_event *ev)
{
	vm_events_wait(&vm->events, timeout_ms, ev);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	/* Timer threads may still hold the pointer: a new generation makes them harmless. */
	pthread_mutex_lock(&vm->mu);
	vm->generation++;
	vm->state = F_STOPPED;
	release_disk(vm);
	pthread_mutex_unlock(&vm->mu);
}
