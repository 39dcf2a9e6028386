/* darwin-model/vz_vm: VZVirtualMachine — bound to its queue, its state machine,
 * its weak delegate, save and restore, the host's limit of two running macOS
 * guests, the locks VZ takes on the auxiliary storage and the disks, and a
 * simulated macOS guest that the tests steer (README.md: CLAW_MODEL_GUEST_*,
 * CLAW_MODEL_START_*).
 *
 * Sources: VZVirtualMachine.h (15.5 SDK: init's configuration "must be valid",
 * state transitions, stop "in either Running or Paused state", save and restore);
 * VZ-API.md §2 (queue), §7 (states, delegate, stopping a macOS guest), §9 (error
 * codes, the limit of two), §14 (save/restore); tart Run.swift (a macOS guest
 * answers requestStop with the shut-down dialog); Code-Hex/vz PR #149 (save and
 * restore raise without validateSaveRestoreSupportWithError:); tart #865 and
 * cirruslabs/packer-plugin-tart #116 ("Failed to lock auxiliary storage.", EAGAIN). */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct vm {
	struct objc_object o;
	dispatch_queue_t queue;
	struct cfg_snap *snap;
	long state;
	id delegate; /* weak: not retained */
	id devices[SNAP_USB + 1];
	int slot;
	int locks[17];
	size_t nlocks;
	bool installing;
	unsigned long generation; /* bumped whenever the guest goes down, so its old timers do nothing */
};
#define VM(o) ((struct vm *)(o))

struct balloon {
	struct objc_object o;
	id vm; /* weak */
	uint64_t target;
};

static const char *const STATE_NAMES[] = { "stopped", "running", "paused", "error", "starting", "pausing",
	"resuming", "stopping", "saving", "restoring" };

static long op_ms(void) { return env_long("CLAW_MODEL_OP_MS", 10); }

dispatch_queue_t vm_queue(id vm) { return VM(vm)->queue; }
long vm_state(id vm) { return VM(vm)->state; }
struct cfg_snap *vm_snap(id vm) { return VM(vm)->snap; }
void vm_installing(id vm, bool on) { VM(vm)->installing = on; }

static dispatch_queue_t vm_bound(id self) { return VM(self)->queue; }

static dispatch_queue_t balloon_bound(id self)
{
	id vm = ((struct balloon *)self)->vm;
	return vm && model_alive(vm) ? VM(vm)->queue : NULL;
}

/* ---------------------------------------------------------------- errors, completions */

struct errspec {
	const char *domain;
	long code;
	char failure[160];
	char reason[600];
	char description[300];
	int posix; /* an underlying NSPOSIXErrorDomain error, or 0 */
};

static struct errspec spec(long code, const char *failure, const char *reason)
{
	struct errspec e = { VZ_DOMAIN, code, "", "", "", 0 };
	snprintf(e.failure, sizeof e.failure, "%s", failure ? failure : "");
	snprintf(e.reason, sizeof e.reason, "%s", reason ? reason : "");
	return e;
}

static struct errspec no_error(void) { return (struct errspec){ NULL, 0, "", "", "", 0 }; }

/* VZ-API §7: the real log in Anka's docs reads NSLocalizedFailureReason = Transition from state
 * "stopped" to state "stopping" is invalid. */
static struct errspec transition(long from, const char *to)
{
	char r[160];
	snprintf(r, sizeof r, "Transition from state \"%s\" to state \"%s\" is invalid.", STATE_NAMES[from], to);
	return spec(VZ_INVALID_TRANSITION, "Invalid virtual machine state transition.", r);
}

static id make_error(const struct errspec *e)
{
	if (!e->domain)
		return nil;
	if (e->description[0])
		return ns_error_described(e->domain, e->code, e->description);
	return ns_error(e->domain, e->code, e->failure[0] ? e->failure : NULL, e->reason[0] ? e->reason : NULL,
		e->posix ? ns_error_posix(e->posix) : nil);
}

static void set_state(id vm, long state)
{
	if (VM(vm)->state == state)
		return;
	VM(vm)->state = state;
	model_trace("VZVirtualMachine %p is %s", (void *)vm, STATE_NAMES[state]);
	void *pool = model_pool_push(false);
	kvo_changed(vm, "state", ns_number(state));
	kvo_changed(vm, "canStart", ns_number(state == VM_STOPPED || state == VM_ERROR));
	kvo_changed(vm, "canStop", ns_number(state == VM_RUNNING || state == VM_PAUSED));
	kvo_changed(vm, "canPause", ns_number(state == VM_RUNNING));
	kvo_changed(vm, "canResume", ns_number(state == VM_PAUSED));
	kvo_changed(vm, "canRequestStop", ns_number(state == VM_RUNNING));
	model_pool_pop(pool);
}

void vm_set_state(id vm, long state) { set_state(vm, state); }

/* Hand the client its completion: on the machine's queue, the error (if any) autoreleased in a
 * pool of the framework's, which the client's own autoreleases must not use (VZ-API §1). */
static void complete(id vm, vz_error_block blk, struct errspec e)
{
	if (model_current_queue() != VM(vm)->queue)
		model_violation("model-internal", "completion off the machine's queue");
	void *pool = model_pool_push(false);
	id error = make_error(&e);
	model_pool_seal();
	blk(error);
	model_pool_pop(pool);
	Block_release(blk);
	model_drop(vm);
}

/* Run `then` on the machine's queue after ms; the machine and the block are kept until then. */
static void later(id vm, long ms, dispatch_block_t then)
{
	model_after(VM(vm)->queue, ms, then);
}

static vz_error_block take_handler(id vm, vz_error_block handler, SEL cmd)
{
	if (!handler)
		model_violation("invalid-argument", "-[VZVirtualMachine %s] with a NULL completion handler",
			model_sel_name(cmd));
	model_hold(vm);
	return Block_copy(handler);
}

static void complete_later(id vm, long ms, vz_error_block blk, struct errspec e)
{
	later(vm, ms, ^{
		complete(vm, blk, e);
	});
}

/* ---------------------------------------------------------------- locks, slots */

struct lingering {
	int fds[17];
	size_t n;
	uint64_t until;
	char what[PATH_MAX];
	struct lingering *next;
};

static pthread_mutex_t linger_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lingering *lingering;

static void release_locks(id vm)
{
	for (size_t i = 0; i < VM(vm)->nlocks; i++)
		close(VM(vm)->locks[i]);
	VM(vm)->nlocks = 0;
}

static bool lock_one(id vm, const char *path, bool shared, int *err)
{
	int fd = open(path, (shared ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return false;
	}
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		*err = errno;
		close(fd);
		return false;
	}
	VM(vm)->locks[VM(vm)->nlocks++] = fd;
	return true;
}

/* VZ locks the auxiliary storage and the disks while a machine runs or installs; a lock held by
 * someone else fails with "Failed to lock auxiliary storage." over POSIX EAGAIN (tart #865). */
bool vm_locks_take(id vm, id *error)
{
	struct cfg_snap *s = VM(vm)->snap;
	int err = 0;
	const char *aux = snap_aux(s);
	if (aux && !lock_one(vm, aux, false, &err)) {
		release_locks(vm);
		id e = ns_error(VZ_DOMAIN, VZ_INVALID_CONFIG, "Invalid virtual machine configuration.",
			"Failed to lock auxiliary storage.", ns_error_posix(err));
		ns_set_error(error, e);
		return false;
	}
	bool ro;
	const char *disk;
	for (size_t i = 0; (disk = snap_disk(s, i, &ro)); i++)
		if (!lock_one(vm, disk, ro, &err)) {
			release_locks(vm);
			ns_set_error(error, ns_error(VZ_DOMAIN, VZ_INVALID_CONFIG, "Invalid virtual machine configuration.",
				"Failed to lock disk image.", ns_error_posix(err)));
			return false;
		}
	return true;
}

static void *linger_end(void *arg)
{
	(void)arg;
	return NULL;
}

/* DESIGN.md: "After VZMacOSInstaller finishes, VZ keeps a lock on the disk for a few seconds". */
void vm_locks_keep_for(id vm, long ms)
{
	struct lingering *l = calloc(1, sizeof *l);
	memcpy(l->fds, VM(vm)->locks, sizeof l->fds);
	l->n = VM(vm)->nlocks;
	l->until = model_now_ns() + (uint64_t)ms * 1000000ull;
	bool ro;
	const char *disk = snap_disk(VM(vm)->snap, 0, &ro);
	snprintf(l->what, sizeof l->what, "%s", disk ? disk : snap_aux(VM(vm)->snap));
	VM(vm)->nlocks = 0;
	pthread_mutex_lock(&linger_mu);
	l->next = lingering;
	lingering = l;
	pthread_mutex_unlock(&linger_mu);
	(void)linger_end;
	model_elsewhere(ms, ^{
		pthread_mutex_lock(&linger_mu);
		for (struct lingering **p = &lingering; *p; p = &(*p)->next)
			if (*p == l) {
				*p = l->next;
				break;
			}
		pthread_mutex_unlock(&linger_mu);
		for (size_t i = 0; i < l->n; i++)
			close(l->fds[i]);
		free(l);
	});
}

/* Is the file VZ still locks the one its path names now? flock(2) locks an open file, not a
 * name: a file the client removed (an install it gave up) no later stage can find locked. */
static bool still_named(const struct lingering *l)
{
	struct stat named, held;
	for (size_t i = 0; i < l->n; i++)
		if (stat(l->what, &named) == 0 && fstat(l->fds[i], &held) == 0 && named.st_dev == held.st_dev &&
			named.st_ino == held.st_ino)
			return true;
	return false;
}

void model_lock_leaks(void (*report)(const char *line))
{
	pthread_mutex_lock(&linger_mu);
	uint64_t now = model_now_ns();
	for (struct lingering *l = lingering; l; l = l->next) {
		if (l->until <= now || !still_named(l))
			continue;
		char line[PATH_MAX + 300];
		snprintf(line, sizeof line, "rule disk-lock: the process exits while VZ still locks '%s' (%lu ms more): the "
			"next stage would find it locked; wait until the lock is free (DESIGN: after VZMacOSInstaller "
			"finishes, VZ keeps a lock on the disk for a few seconds)", l->what,
			(unsigned long)((l->until - now) / 1000000ull));
		report(line);
	}
	pthread_mutex_unlock(&linger_mu);
}

bool vm_slot_take(id vm, id *error)
{
	char why[200] = "";
	int slot = host_slot_take(snap_machine_id(VM(vm)->snap), why, sizeof why);
	if (slot == -1) {
		/* VZ-API §9, code 6: "The maximum supported number of active virtual machines has been reached." */
		ns_set_error(error, ns_error_described(VZ_DOMAIN, VZ_LIMIT,
			"The maximum supported number of active virtual machines has been reached."));
		return false;
	}
	if (slot == -2) {
		/* VZ-API §4: "two running VMs must not share a machine identifier". */
		ns_set_error(error, ns_error(VZ_DOMAIN, VZ_INVALID_CONFIG, "Invalid virtual machine configuration.",
			"The machine identifier is already in use by a running virtual machine.", nil));
		return false;
	}
	VM(vm)->slot = slot;
	return true;
}

void vm_slot_give(id vm)
{
	if (VM(vm)->slot >= 0)
		host_slot_give(VM(vm)->slot);
	VM(vm)->slot = -1;
}

/* The guest is gone (stopped, halted, crashed): its slot and locks go with it. */
static void guest_down(id vm, long state)
{
	VM(vm)->generation++;
	vm_slot_give(vm);
	release_locks(vm);
	set_state(vm, state);
}

/* An error another part of the model made, to be made again inside the completion's own pool. */
static struct errspec errspec_of(id error)
{
	struct errspec e = no_error();
	if (!error)
		return e;
	e.domain = VZ_DOMAIN;
	e.code = ns_error_code(error);
	const char *f = ns_error_string(error, "NSLocalizedFailure"), *r = ns_error_string(error, "NSLocalizedFailureReason"),
		   *d = ns_error_string(error, "NSLocalizedDescription");
	snprintf(e.failure, sizeof e.failure, "%s", f ? f : "");
	snprintf(e.reason, sizeof e.reason, "%s", r ? r : "");
	snprintf(e.description, sizeof e.description, "%s", d ? d : "");
	e.posix = (int)ns_error_underlying_code(error);
	return e;
}

/* ---------------------------------------------------------------- the delegate */

static void tell_delegate(id vm, const char *selname, struct errspec e)
{
	id d = VM(vm)->delegate;
	if (!d)
		return;
	/* VZ-API §1: "VZVirtualMachine.delegate is a weak property: claw must keep its own strong reference
	 * to the delegate object for as long as the VM lives." The real weak reference reads nil and the
	 * callback is lost; the model names it. */
	if (!model_alive(d))
		model_violation("delegate-weak", "-%s for VZVirtualMachine %p: its delegate %p was freed (the delegate "
			"property is weak; keep a strong reference for as long as the machine lives; VZ-API §1)", selname,
			(void *)vm, (void *)d);
	SEL sel = sel_registerName(selname);
	struct method *m;
	if (!model_find(d, sel, &m))
		return; /* all optional: VZ asks respondsToSelector: */
	const char *want = model_protocol_types("VZVirtualMachineDelegate", selname);
	if (!model_types_match(m->types, want))
		model_violation("delegate-signature", "the delegate's -%s is registered as \"%s\" but the protocol's "
			"method is \"%s\" (VZ-API §7)", selname, m->types, want);
	void *pool = model_pool_push(false);
	id error = make_error(&e);
	model_pool_seal();
	if (error)
		((void (*)(id, SEL, id, id))m->imp)(d, sel, vm, error);
	else
		((void (*)(id, SEL, id))m->imp)(d, sel, vm);
	model_pool_pop(pool);
}

static id vm_delegate(id self, SEL c)
{
	(void)c;
	id d = VM(self)->delegate;
	return d && model_alive(d) ? d : nil;
}

static void vm_set_delegate(id self, SEL c, id d)
{
	(void)c;
	model_check_object(d, "-[VZVirtualMachine setDelegate:]");
	VM(self)->delegate = d;
}

/* ---------------------------------------------------------------- the simulated guest */

/* A guest that shuts itself down (CLAW_MODEL_GUEST_HALT_MS) or dies (CLAW_MODEL_GUEST_CRASH_MS). */
static void guest_timers(id vm)
{
	unsigned long gen = VM(vm)->generation;
	long halt = env_long("CLAW_MODEL_GUEST_HALT_MS", -1), crash = env_long("CLAW_MODEL_GUEST_CRASH_MS", -1);
	if (halt >= 0)
		later(vm, halt, ^{
			if (!model_alive(vm) || VM(vm)->generation != gen || VM(vm)->state != VM_RUNNING)
				return;
			guest_down(vm, VM_STOPPED);
			tell_delegate(vm, "guestDidStopVirtualMachine:", no_error());
		});
	if (crash >= 0)
		later(vm, crash, ^{
			if (!model_alive(vm) || VM(vm)->generation != gen || VM(vm)->state != VM_RUNNING)
				return;
			guest_down(vm, VM_ERROR);
			tell_delegate(vm, "virtualMachine:didStopWithError:",
				spec(VZ_INTERNAL, "Internal Virtualization error.", "The virtual machine stopped unexpectedly."));
		});
}

static void console_says_hello(id vm)
{
	const char *text = getenv("CLAW_MODEL_CONSOLE");
	if (!text || !*text)
		return; /* VZ-API §6: "Expect little or no output from a macOS guest" */
	int fd = ns_file_handle_fd(snap_console_handle(VM(vm)->snap));
	bool append, own = false;
	const char *file = snap_console_file(VM(vm)->snap, &append);
	if (fd < 0 && file) {
		fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
		own = true;
	}
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0 || write(fd, "\n", 1) < 0)
		model_trace("the console could not be written: %s", strerror(errno));
	if (own)
		close(fd);
}

/* The macOS the installer put on the boot disk ("claw-model-macos VERSION BUILD"), as V(); 0
 * when the disk says none. */
static int guest_macos(id vm)
{
	bool ro;
	const char *disk = snap_disk(VM(vm)->snap, 0, &ro);
	char line[64] = "";
	FILE *f = disk ? fopen(disk, "r") : NULL;
	if (f) {
		if (!fgets(line, sizeof line, f))
			line[0] = '\0';
		fclose(f);
	}
	int major = 0, minor = 0;
	if (sscanf(line, "claw-model-macos %d.%d", &major, &minor) < 1)
		return 0;
	return V(major, minor);
}

/* CLAW_MODEL_GUEST_MOUNTS=FILE: what the guest sees once it runs, a line each
 * "MOUNT<TAB>HOST PATH<TAB>ro|rw". A macOS guest mounts shares from 13.0 on ("macOS guests
 * must be running macOS 13.0 (Ventura) or newer", tart --dir help; VZ-API §13): an older one
 * sees none, and neither does a disk the installer did not write. */
static void guest_mounts(id vm)
{
	const char *file = getenv("CLAW_MODEL_GUEST_MOUNTS");
	if (!file || !*file)
		return;
	FILE *f = fopen(file, "w");
	if (!f)
		model_violation("model-setup", "CLAW_MODEL_GUEST_MOUNTS: cannot write '%s': %s", file, strerror(errno));
	if (guest_macos(vm) >= V(13, 0))
		fputs(snap_guest_mounts(VM(vm)->snap), f);
	fclose(f);
}

/* ---------------------------------------------------------------- init, state, properties */

static id runtime_devices(const char *cls, size_t n, id vm)
{
	id items[16];
	n = n > 16 ? 16 : n;
	for (size_t i = 0; i < n; i++) {
		items[i] = model_new(cls);
		if (!strcmp(cls, "VZVirtioTraditionalMemoryBalloonDevice")) {
			((struct balloon *)items[i])->vm = vm;
			((struct balloon *)items[i])->target = snap_memory(VM(vm)->snap);
		}
	}
	id a = ns_array(items, n);
	for (size_t i = 0; i < n; i++)
		model_release(items[i]);
	return model_hold(a);
}

static id vm_init_common(id self, SEL c, id config, dispatch_queue_t q)
{
	if (!config || !model_alive(config) || !model_is_kind(config, "VZVirtualMachineConfiguration"))
		model_violation("invalid-argument", "-[VZVirtualMachine %s] needs a VZVirtualMachineConfiguration, got %s",
			model_sel_name(c), config ? model_class_name(config) : "nil");
	if (!q)
		model_violation("invalid-argument", "-[VZVirtualMachine %s] with a NULL queue", model_sel_name(c));
	/* VZ-API §2: "A concurrent queue gives undefined behaviour." */
	if (!model_queue_is_serial(q))
		model_violation("serial-queue", "-[VZVirtualMachine %s] with the concurrent queue '%s': the machine's "
			"queue must be serial (VZ-API §2)", model_sel_name(c), model_queue_label(q));
	/* VZVirtualMachine.h: "The configuration must be valid. Validation can be performed at runtime with
	 * [VZVirtualMachineConfiguration validateWithError:]." An invalid one raises. */
	const char *why = cfg_check(config);
	if (why)
		model_violation("config-invalid", "-[VZVirtualMachine %s] with a configuration that does not validate: "
			"Invalid virtual machine configuration. %s (VZVirtualMachine.h: \"The configuration must be valid\")",
			model_sel_name(c), why);
	VM(self)->snap = cfg_snapshot(config);
	VM(self)->queue = q;
	VM(self)->slot = -1;
	model_queue_retain(q, true);
	struct cfg_snap *s = VM(self)->snap;
	void *pool = model_pool_push(false);
	VM(self)->devices[SNAP_NET] = runtime_devices("VZVirtioNetworkDevice", snap_count(s, SNAP_NET), self);
	VM(self)->devices[SNAP_BALLOON] = runtime_devices("VZVirtioTraditionalMemoryBalloonDevice",
		snap_count(s, SNAP_BALLOON), self);
	VM(self)->devices[SNAP_SOCKET] = runtime_devices("VZVirtioSocketDevice", snap_count(s, SNAP_SOCKET), self);
	VM(self)->devices[SNAP_SHARE] = runtime_devices("VZVirtioFileSystemDevice", snap_count(s, SNAP_SHARE), self);
	VM(self)->devices[SNAP_CONSOLE] = runtime_devices("VZVirtioConsoleDevice", snap_count(s, SNAP_CONSOLE), self);
	VM(self)->devices[SNAP_GRAPHICS] = runtime_devices("VZMacGraphicsDevice", snap_count(s, SNAP_GRAPHICS), self);
	VM(self)->devices[SNAP_USB] = runtime_devices("VZUSBController", snap_count(s, SNAP_USB), self);
	model_pool_pop(pool);
	model_mark_init(self);
	return self;
}

static id vm_init_queue(id self, SEL c, id config, dispatch_queue_t q) { return vm_init_common(self, c, config, q); }

/* VZ-API §2: initWithConfiguration: binds the machine to the main queue. */
static id vm_init_main(id self, SEL c, id config) { return vm_init_common(self, c, config, model_main_queue()); }

static void vm_dealloc(id self)
{
	if (VM(self)->queue) {
		vm_slot_give(self);
		release_locks(self);
		model_queue_release(VM(self)->queue, true);
		VM(self)->queue = NULL;
	}
	cfg_snap_free(VM(self)->snap);
	VM(self)->snap = NULL;
	for (int i = 0; i <= SNAP_USB; i++) {
		model_drop(VM(self)->devices[i]);
		VM(self)->devices[i] = nil;
	}
}

static dispatch_queue_t vm_get_queue(id self, SEL c)
{
	(void)c;
	return VM(self)->queue;
}

static bool vm_is_supported(id cls, SEL c)
{
	(void)cls, (void)c;
	return HOST.virtualization;
}

static long vm_get_state(id self, SEL c)
{
	(void)c;
	return VM(self)->state;
}

static bool can_start(id self, SEL c)
{
	(void)c;
	return !VM(self)->installing && (VM(self)->state == VM_STOPPED || VM(self)->state == VM_ERROR);
}

static bool can_pause(id self, SEL c)
{
	(void)c;
	return !VM(self)->installing && VM(self)->state == VM_RUNNING;
}

static bool can_resume(id self, SEL c)
{
	(void)c;
	return VM(self)->state == VM_PAUSED;
}

static bool can_request_stop(id self, SEL c)
{
	(void)c;
	return !VM(self)->installing && VM(self)->state == VM_RUNNING;
}

static bool can_stop(id self, SEL c)
{
	(void)c;
	return !VM(self)->installing && (VM(self)->state == VM_RUNNING || VM(self)->state == VM_PAUSED);
}

static id device_getter(id self, int which)
{
	return VM(self)->devices[which];
}

static id vm_nets(id self, SEL c) { (void)c; return device_getter(self, SNAP_NET); }
static id vm_balloons(id self, SEL c) { (void)c; return device_getter(self, SNAP_BALLOON); }
static id vm_sockets(id self, SEL c) { (void)c; return device_getter(self, SNAP_SOCKET); }
static id vm_shares(id self, SEL c) { (void)c; return device_getter(self, SNAP_SHARE); }
static id vm_consoles(id self, SEL c) { (void)c; return device_getter(self, SNAP_CONSOLE); }
static id vm_graphics(id self, SEL c) { (void)c; return device_getter(self, SNAP_GRAPHICS); }
static id vm_usb(id self, SEL c) { (void)c; return device_getter(self, SNAP_USB); }

/* VZ-API §8: "Do not pause/stop the VM during installation (undefined)." */
static void not_installing(id self, SEL c)
{
	if (VM(self)->installing)
		model_violation("installer-busy", "-[VZVirtualMachine %s] while its VZMacOSInstaller is installing "
			"(VZ-API §8: do not start, pause or stop the machine during installation)", model_sel_name(c));
}

/* ---------------------------------------------------------------- start */

static void start_common(id self, SEL c, id options, vz_error_block handler)
{
	not_installing(self, c);
	if (options && !model_is_kind(options, "VZVirtualMachineStartOptions"))
		model_violation("invalid-argument", "-[VZVirtualMachine %s] with a %s for options", model_sel_name(c),
			model_class_name(options));
	vz_error_block blk = take_handler(self, handler, c);
	long st = VM(self)->state;
	if (st != VM_STOPPED && st != VM_ERROR) {
		complete_later(self, 0, blk, transition(st, "starting"));
		return;
	}
	set_state(self, VM_STARTING);
	later(self, env_long("CLAW_MODEL_START_MS", 20), ^{
		void *pool = model_pool_push(false);
		id error = nil;
		const char *fail = getenv("CLAW_MODEL_START_FAIL");
		struct errspec e = no_error();
		if (!vm_slot_take(self, &error))
			e = errspec_of(error);
		else if (!vm_locks_take(self, &error)) {
			vm_slot_give(self);
			e = errspec_of(error);
		} else if (fail && *fail) {
			vm_slot_give(self);
			release_locks(self);
			e = spec(VZ_INTERNAL, "Internal Virtualization error.", fail);
		}
		model_pool_pop(pool);
		if (e.domain) {
			set_state(self, fail && *fail && e.code == VZ_INTERNAL ? VM_ERROR : VM_STOPPED);
			complete(self, blk, e);
			return;
		}
		VM(self)->generation++;
		set_state(self, VM_RUNNING);
		console_says_hello(self);
		guest_mounts(self);
		guest_timers(self);
		complete(self, blk, no_error());
	});
}

static void vm_start(id self, SEL c, vz_error_block handler) { start_common(self, c, nil, handler); }

static void vm_start_options(id self, SEL c, id options, vz_error_block handler)
{
	model_check_object(options, "-[VZVirtualMachine startWithOptions:completionHandler:]");
	start_common(self, c, options, handler);
}

/* ---------------------------------------------------------------- pause, resume, stop */

static void simple_transition(id self, SEL c, vz_error_block handler, long from1, long from2, long during,
	long after, const char *to_name)
{
	not_installing(self, c);
	vz_error_block blk = take_handler(self, handler, c);
	long st = VM(self)->state;
	if (st != from1 && st != from2) {
		complete_later(self, 0, blk, transition(st, to_name));
		return;
	}
	set_state(self, during);
	later(self, op_ms(), ^{
		if (after == VM_STOPPED)
			guest_down(self, VM_STOPPED);
		else
			set_state(self, after);
		complete(self, blk, no_error());
	});
}

static void vm_pause(id self, SEL c, vz_error_block h)
{
	simple_transition(self, c, h, VM_RUNNING, VM_RUNNING, VM_PAUSING, VM_PAUSED, "pausing");
}

static void vm_resume(id self, SEL c, vz_error_block h)
{
	simple_transition(self, c, h, VM_PAUSED, VM_PAUSED, VM_RESUMING, VM_RUNNING, "resuming");
}

/* VZVirtualMachine.h: stop is "a destructive operation" valid "in either Running or Paused state";
 * the delegate is not told (it stopped because the client asked). */
static void vm_stop(id self, SEL c, vz_error_block h)
{
	/* CLAW_MODEL_STOP_FAIL: a stop that fails, error 1 with the test's words, the state left as it
	 * was. The model's choice: Apple documents no failure of a valid stop, but one can happen. */
	const char *fail = getenv("CLAW_MODEL_STOP_FAIL");
	long st = VM(self)->state;
	if (fail && *fail && (st == VM_RUNNING || st == VM_PAUSED)) {
		not_installing(self, c);
		complete_later(self, op_ms(), take_handler(self, h, c), spec(VZ_INTERNAL, "Internal Virtualization error.", fail));
		return;
	}
	/* CLAW_MODEL_GUEST_HALT_AT_STOP: the guest shuts itself down while the stop is on its way —
	 * the delegate hears it, and the stop, finding the machine stopped, answers code 4 (VZ-API §7:
	 * "treat code 4 after a race (the guest powered off meanwhile) as already stopped"). */
	if (env_long("CLAW_MODEL_GUEST_HALT_AT_STOP", 0) && st == VM_RUNNING) {
		vz_error_block blk = take_handler(self, h, c);
		later(self, 0, ^{
			guest_down(self, VM_STOPPED);
			tell_delegate(self, "guestDidStopVirtualMachine:", no_error());
		});
		complete_later(self, op_ms(), blk, transition(VM_STOPPED, "stopping"));
		return;
	}
	simple_transition(self, c, h, VM_RUNNING, VM_PAUSED, VM_STOPPING, VM_STOPPED, "stopping");
}

/* VZ-API §7: requestStopWithError: is the power button. YES only says the machine could be asked;
 * a macOS guest shows its shut-down dialog and keeps running (tart Run.swift) unless the test says
 * the guest honours it (CLAW_MODEL_GUEST_STOP=honor), and then guestDidStopVirtualMachine: follows. */
static bool vm_request_stop(id self, SEL c, id *error)
{
	not_installing(self, c);
	if (VM(self)->state != VM_RUNNING) {
		ns_set_error(error, ns_error(VZ_DOMAIN, VZ_INVALID_STATE, "Invalid virtual machine state.",
			"The virtual machine is not running.", nil));
		return false;
	}
	const char *mode = env_str("CLAW_MODEL_GUEST_STOP", "dialog");
	if (strcmp(mode, "dialog") && strcmp(mode, "honor"))
		model_violation("model-setup", "CLAW_MODEL_GUEST_STOP='%s' is neither dialog nor honor", mode);
	if (!strcmp(mode, "honor")) {
		unsigned long gen = VM(self)->generation;
		id vm = self;
		later(self, env_long("CLAW_MODEL_GUEST_STOP_MS", 50), ^{
			if (!model_alive(vm) || VM(vm)->generation != gen || VM(vm)->state != VM_RUNNING)
				return;
			guest_down(vm, VM_STOPPED);
			tell_delegate(vm, "guestDidStopVirtualMachine:", no_error());
		});
	}
	return true;
}

/* ---------------------------------------------------------------- save and restore (VZ-API §14) */

#define SAVE_MAGIC "claw-model vzvmsave 1\n"

/* Code-Hex/vz PR #149: "an NSException will occur if not handled" — save or restore of a
 * configuration that cannot be saved raises unless validateSaveRestoreSupportWithError: was asked. */
static void save_restore_allowed(id self, SEL c)
{
	const char *why;
	if (!snap_unsavable(VM(self)->snap, &why) || cfg_save_validated(VM(self)->snap))
		return;
	model_violation(!strncmp(model_sel_name(c), "save", 4) ? "save-unvalidated" : "restore-unvalidated",
		"-[VZVirtualMachine %s] of a configuration that cannot be saved (%s) without asking "
		"validateSaveRestoreSupportWithError: first raises an NSException (Code-Hex/vz PR #149; VZ-API §14)",
		model_sel_name(c), why);
}

static bool write_state(const char *path, struct cfg_snap *s, int *err)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		*err = errno;
		return false;
	}
	fprintf(f, "%shost %s\nmacos %d.%d\n%s", SAVE_MAGIC, HOST.host_id, HOST.macos / 100, HOST.macos % 100,
		snap_canon(s));
	bool ok = !ferror(f);
	*err = errno;
	return fclose(f) == 0 && ok;
}

static void vm_save(id self, SEL c, id url, vz_error_block handler)
{
	not_installing(self, c);
	save_restore_allowed(self, c);
	if (!ns_url_is_file(url))
		model_violation("invalid-argument", "-[VZVirtualMachine %s] needs a file URL", model_sel_name(c));
	vz_error_block blk = take_handler(self, handler, c);
	if (VM(self)->state != VM_PAUSED) {
		char r[200];
		snprintf(r, sizeof r, "The virtual machine must be paused to be saved (it is %s).",
			STATE_NAMES[VM(self)->state]);
		complete_later(self, 0, blk, spec(VZ_INVALID_STATE, "Invalid virtual machine state.", r));
		return;
	}
	const char *why;
	if (snap_unsavable(VM(self)->snap, &why)) {
		/* Validated and told NO: "the caller should expect future calls to saveMachineStateToURL:
		 * completionHandler: to fail" (header) — code 11, nothing changes. */
		complete_later(self, 0, blk, spec(VZ_SAVE, "Failed to save the virtual machine state.", why));
		return;
	}
	char *path = strdup(ns_url_path(url));
	set_state(self, VM_SAVING);
	later(self, op_ms(), ^{
		int err = 0;
		struct errspec e = no_error();
		if (!write_state(path, VM(self)->snap, &err)) {
			unlink(path);
			e = spec(VZ_SAVE, "Failed to save the virtual machine state.", strerror(err));
			e.posix = err;
		}
		free(path);
		set_state(self, VM_PAUSED);
		complete(self, blk, e);
	});
}

/* What restoring from this file would answer: "" when it fits, else the failure reason (VZ-API §14
 * step 5: another host gives "permission denied"; another configuration or a newer OS gives
 * "invalid argument"). */
static const char *check_state_file(const char *path, struct cfg_snap *s, char *buf, size_t buflen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strerror(errno);
	size_t n = fread(buf, 1, buflen - 1, f);
	fclose(f);
	buf[n] = 0;
	if (strncmp(buf, SAVE_MAGIC, strlen(SAVE_MAGIC)))
		return "The file is not a saved virtual machine state.";
	char *host = buf + strlen(SAVE_MAGIC), *nl = strchr(host, '\n');
	if (!nl || strncmp(host, "host ", 5))
		return "The file is not a saved virtual machine state.";
	*nl = 0;
	if (strcmp(host + 5, HOST.host_id))
		return "Permission denied";
	int maj, min;
	char *mac = nl + 1, *nl2 = strchr(mac, '\n');
	if (!nl2 || sscanf(mac, "macos %d.%d", &maj, &min) != 2)
		return "The file is not a saved virtual machine state.";
	if (V(maj, min) > HOST.macos)
		return "Invalid argument";
	if (strcmp(nl2 + 1, snap_canon(s)))
		return "Invalid argument";
	return "";
}

static void vm_restore(id self, SEL c, id url, vz_error_block handler)
{
	not_installing(self, c);
	save_restore_allowed(self, c);
	if (!ns_url_is_file(url))
		model_violation("invalid-argument", "-[VZVirtualMachine %s] needs a file URL", model_sel_name(c));
	vz_error_block blk = take_handler(self, handler, c);
	long st = VM(self)->state;
	if (st != VM_STOPPED) {
		complete_later(self, 0, blk, transition(st, "restoring"));
		return;
	}
	char *path = strdup(ns_url_path(url));
	set_state(self, VM_RESTORING);
	later(self, op_ms(), ^{
		char buf[16384];
		const char *why = check_state_file(path, VM(self)->snap, buf, sizeof buf);
		free(path);
		struct errspec e = no_error();
		if (*why)
			e = spec(VZ_RESTORE, "Failed to restore the virtual machine state.", why);
		else {
			void *pool = model_pool_push(false);
			id error = nil;
			if (!vm_slot_take(self, &error))
				e = errspec_of(error);
			else if (!vm_locks_take(self, &error)) {
				vm_slot_give(self);
				e = errspec_of(error);
			}
			model_pool_pop(pool);
		}
		if (e.domain) {
			set_state(self, VM_STOPPED); /* "On failure the state is unchanged" */
			complete(self, blk, e);
			return;
		}
		VM(self)->generation++;
		set_state(self, VM_PAUSED);
		complete(self, blk, no_error());
	});
}

/* ---------------------------------------------------------------- the balloon device */

static uint64_t balloon_target(id self, SEL c)
{
	(void)c;
	return ((struct balloon *)self)->target;
}

static void balloon_set_target(id self, SEL c, uint64_t bytes)
{
	(void)c;
	uint64_t max = ((struct balloon *)self)->vm ? snap_memory(VM(((struct balloon *)self)->vm)->snap) : bytes;
	bytes -= bytes % (1ull << 20); /* rounded to whole MiB */
	((struct balloon *)self)->target = bytes > max ? max : bytes;
}

/* ---------------------------------------------------------------- the classes */

void vz_vm_classes(void)
{
	static const struct mdef vm_i[] = {
		MD("initWithConfiguration:", "@@:@", vm_init_main, V(11, 0)),
		MD("initWithConfiguration:queue:", "@@:@@", vm_init_queue, V(11, 0)),
		MD("state", "q@:", vm_get_state, V(11, 0)),
		MD("delegate", "@@:", vm_delegate, V(11, 0)),
		MD("setDelegate:", "v@:@", vm_set_delegate, V(11, 0)),
		MD("canStart", "B@:", can_start, V(11, 0)),
		MD("canPause", "B@:", can_pause, V(11, 0)),
		MD("canResume", "B@:", can_resume, V(11, 0)),
		MD("canRequestStop", "B@:", can_request_stop, V(11, 0)),
		MD("startWithCompletionHandler:", "v@:@?", vm_start, V(11, 0)),
		MD("pauseWithCompletionHandler:", "v@:@?", vm_pause, V(11, 0)),
		MD("resumeWithCompletionHandler:", "v@:@?", vm_resume, V(11, 0)),
		MD("requestStopWithError:", "B@:^@", vm_request_stop, V(11, 0)),
		MD("memoryBalloonDevices", "@@:", vm_balloons, V(11, 0)),
		MD("socketDevices", "@@:", vm_sockets, V(11, 0)),
		MD("canStop", "B@:", can_stop, V(12, 0)),
		MD("stopWithCompletionHandler:", "v@:@?", vm_stop, V(12, 0)),
		MD("networkDevices", "@@:", vm_nets, V(12, 0)),
		MD("directorySharingDevices", "@@:", vm_shares, V(12, 0)),
		MD("startWithOptions:completionHandler:", "v@:@@?", vm_start_options, V(13, 0)),
		MD("consoleDevices", "@@:", vm_consoles, V(13, 0)),
		MDF("saveMachineStateToURL:completionHandler:", "v@:@@?", vm_save, V(14, 0), M_ARM64),
		MDF("restoreMachineStateFromURL:completionHandler:", "v@:@@?", vm_restore, V(14, 0), M_ARM64),
		MD("graphicsDevices", "@@:", vm_graphics, V(14, 0)),
		MD("usbControllers", "@@:", vm_usb, V(15, 0)),
		MDF("queue", "@@:", vm_get_queue, V(26, 0), M_ANYQ),
		MDEF_END,
	};
	static const struct mdef vm_c[] = {
		MD("isSupported", "B@:", vm_is_supported, V(11, 0)),
		MDEF_END,
	};
	Class vm = model_class("VZVirtualMachine", "NSObject", sizeof(struct vm), V(11, 0), C_NOINIT, vm_dealloc, vm_i, vm_c);
	vm->bound_queue = vm_bound;

	static const struct mdef balloon_i[] = {
		MD("targetVirtualMachineMemorySize", "Q@:", balloon_target, V(11, 0)),
		MD("setTargetVirtualMachineMemorySize:", "v@:Q", balloon_set_target, V(11, 0)),
		MDEF_END,
	};
	Class b = model_class("VZVirtioTraditionalMemoryBalloonDevice", "NSObject", sizeof(struct balloon), V(11, 0),
		C_NOINIT, NULL, balloon_i, NULL);
	b->bound_queue = balloon_bound;
	/* The other runtime devices a machine lists; their own methods are not in the selector list. */
	model_class("VZVirtioNetworkDevice", "NSObject", 0, V(12, 0), C_NOINIT, NULL, NULL, NULL);
	model_class("VZVirtioSocketDevice", "NSObject", 0, V(11, 0), C_NOINIT, NULL, NULL, NULL);
	model_class("VZVirtioFileSystemDevice", "NSObject", 0, V(12, 0), C_NOINIT, NULL, NULL, NULL);
	model_class("VZVirtioConsoleDevice", "NSObject", 0, V(13, 0), C_NOINIT, NULL, NULL, NULL);
	model_class("VZMacGraphicsDevice", "NSObject", 0, V(14, 0), C_NOINIT, NULL, NULL, NULL);
	model_class("VZUSBController", "NSObject", 0, V(15, 0), C_NOINIT, NULL, NULL, NULL);

	static const struct mdef delegate[] = {
		MD("guestDidStopVirtualMachine:", "v@:@", NULL, V(11, 0)),
		MD("virtualMachine:didStopWithError:", "v@:@@", NULL, V(11, 0)),
		MD("virtualMachine:networkDevice:attachmentWasDisconnectedWithError:", "v@:@@@", NULL, V(12, 0)),
		MDEF_END,
	};
	model_protocol("VZVirtualMachineDelegate", delegate);
}
