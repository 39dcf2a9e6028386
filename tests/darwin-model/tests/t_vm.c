/* VZVirtualMachine in the model, driven as a client drives it: t_vm SCENARIO DIR
 * (DIR: a private directory for the test's disk, aux and state files). */
#include "client.h"

#include <pthread.h>

static const char *DIR_;
static struct identity IDENT;
static dispatch_queue_t Q;

static id valid_config(const struct machine_opts *o)
{
	static bool made;
	if (!made) {
		IDENT = make_identity(DIR_);
		made = true;
	}
	return make_config(DIR_, &IDENT, o);
}

static id new_vm(id config)
{
	if (!Q)
		Q = dispatch_queue_create("test.vm", DISPATCH_QUEUE_SERIAL);
	return SEND2(id, alloc_of("VZVirtualMachine"), "initWithConfiguration:queue:", id, config, dispatch_queue_t, Q);
}

static void finish(id vm, id config)
{
	release(vm);
	release(config);
	drop_identity(&IDENT);
	if (Q)
		dispatch_release(Q);
	if (DLOG.stopped)
		dispatch_release(DLOG.stopped);
}

static void expect_ok(struct result r, const char *what)
{
	EXPECT(r.called && r.code == 0, "%s failed: %ld %s", what, r.code, r.text);
}

static void set_delegate(id vm, id d)
{
	dispatch_sync(Q, ^{
		SEND1(void, vm, "setDelegate:", id, d);
	});
}

static int lifecycle(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id err = nil;
	EXPECT(SEND1(bool, config, "validateWithError:", id *, &err), "validateWithError: %s", err ? err_text(err) : "");
	id vm = new_vm(config);
	id d = make_delegate();
	set_delegate(vm, d);
	__block bool can_start = false;
	dispatch_sync(Q, ^{
		can_start = SEND0(bool, vm, "canStart");
	});
	EXPECT(can_start && vm_state(Q, vm) == 0, "a new machine is not stopped");
	expect_ok(vm_op(Q, vm, "startWithCompletionHandler:", nil), "start");
	EXPECT(vm_state(Q, vm) == 1, "not running after start");
	expect_ok(vm_op(Q, vm, "pauseWithCompletionHandler:", nil), "pause");
	EXPECT(vm_state(Q, vm) == 2, "not paused");
	struct result again = vm_op(Q, vm, "pauseWithCompletionHandler:", nil);
	EXPECT(again.code == 4, "pause from paused gave %ld", again.code);
	expect_ok(vm_op(Q, vm, "resumeWithCompletionHandler:", nil), "resume");
	EXPECT(vm_state(Q, vm) == 1, "not running after resume");
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	EXPECT(vm_state(Q, vm) == 0, "not stopped after stop");
	struct result r = vm_op(Q, vm, "stopWithCompletionHandler:", nil);
	printf("stop again: %ld %s\n", r.code, r.text);
	r = vm_op(Q, vm, "resumeWithCompletionHandler:", nil);
	EXPECT(r.code == 4, "resume from stopped gave %ld", r.code);
	EXPECT(DLOG.guest_stops == 0 && DLOG.error_stops == 0, "the delegate was told of a stop the client asked for");
	release(d);
	finish(vm, config);
	puts("ok");
	return 0;
}

/* The issue's own example: start sent from the main thread, not the machine's queue. */
static int start_off_queue(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	void *p = push();
	SEND1(void, vm, "startWithCompletionHandler:", vz_error_block, ^(id e) {
		(void)e;
	});
	pop(p);
	return 0;
}

static int state_off_queue(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	SEND0(long, vm, "state");
	return 0;
}

static int sync_in_handler(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	dispatch_semaphore_t s = dispatch_semaphore_create(0);
	dispatch_async(Q, ^{
		void *p = push();
		SEND1(void, vm, "startWithCompletionHandler:", vz_error_block, ^(id e) {
			(void)e;
			dispatch_sync(Q, ^{
			});
			dispatch_semaphore_signal(s);
		});
		pop(p);
	});
	wait_ms(s, 3000);
	return 0;
}

static void show_validation(const char *name, id config)
{
	id err = nil;
	void *p = push();
	bool ok = SEND1(bool, config, "validateWithError:", id *, &err);
	printf("%s: %s\n", name, ok ? "valid" : err_text(err));
	pop(p);
	release(config);
}

static int validation(void)
{
	struct machine_opts o = { 0 };
	show_validation("good", valid_config(&o));
	o = (struct machine_opts){ .cpu = 1000 };
	show_validation("too-many-cpus", valid_config(&o));
	o = (struct machine_opts){ .mem = (4ull << 30) + 4096 };
	show_validation("odd-memory", valid_config(&o));
	o = (struct machine_opts){ .mem = 64ull << 20 };
	show_validation("little-memory", valid_config(&o));
	o = (struct machine_opts){ .mem = 1ull << 40 };
	show_validation("much-memory", valid_config(&o));
	o = (struct machine_opts){ .no_boot = true };
	show_validation("no-boot-loader", valid_config(&o));
	o = (struct machine_opts){ .no_storage = true };
	show_validation("no-storage", valid_config(&o));
	/* a hardware model this host cannot run, as a config.json from a newer host would carry it */
	const char *newer = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
		"<key>DataRepresentationVersion</key><integer>1</integer><key>MinimumSupportedOS</key><array>"
		"<integer>99</integer><integer>0</integer><integer>0</integer></array><key>PlatformVersion</key>"
		"<integer>2</integer></dict></plist>\n";
	void *p = push();
	id data = SEND2(id, CLASS("NSData"), "dataWithBytes:length:", const void *, newer, unsigned long, strlen(newer));
	id hw = SEND1(id, alloc_of("VZMacHardwareModel"), "initWithDataRepresentation:", id, data);
	EXPECT(hw && !SEND0(bool, hw, "isSupported"), "the newer hardware model");
	id garbage = SEND2(id, CLASS("NSData"), "dataWithBytes:length:", const void *, "junk", unsigned long, 4);
	EXPECT(!SEND1(id, alloc_of("VZMacHardwareModel"), "initWithDataRepresentation:", id, garbage), "junk hardware model");
	pop(p);
	o = (struct machine_opts){ 0 };
	id config = valid_config(&o);
	SEND1(void, SEND0(id, config, "platform"), "setHardwareModel:", id, hw);
	release(hw);
	show_validation("unsupported-hardware", config);
	p = push();
	printf("bounds: cpu %lu..%lu memory %llu..%llu\n",
		SEND0(unsigned long, CLASS("VZVirtualMachineConfiguration"), "minimumAllowedCPUCount"),
		SEND0(unsigned long, CLASS("VZVirtualMachineConfiguration"), "maximumAllowedCPUCount"),
		(unsigned long long)SEND0(uint64_t, CLASS("VZVirtualMachineConfiguration"), "minimumAllowedMemorySize"),
		(unsigned long long)SEND0(uint64_t, CLASS("VZVirtualMachineConfiguration"), "maximumAllowedMemorySize"));
	pop(p);
	drop_identity(&IDENT);
	return 0;
}

static int unentitled(void)
{
	id config = make("VZVirtualMachineConfiguration");
	id boot = make("VZMacOSBootLoader");
	SEND1(void, config, "setBootLoader:", id, boot);
	release(boot);
	show_validation("any", config);
	return 0;
}

static int config_invalid(void)
{
	struct machine_opts o = { .cpu = 1000 };
	id config = valid_config(&o);
	new_vm(config);
	return 0;
}

static int guest_stops(bool keep_delegate)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	id d = make_delegate();
	set_delegate(vm, d);
	if (!keep_delegate)
		release(d); /* the machine holds it weakly: this was the last reference */
	expect_ok(vm_op(Q, vm, "startWithCompletionHandler:", nil), "start");
	EXPECT(wait_ms(DLOG.stopped, 3000), "the delegate never heard the guest stop");
	printf("guest stops %d, error stops %d (code %ld), state %ld\n", DLOG.guest_stops, DLOG.error_stops, DLOG.last_code,
		vm_state(Q, vm));
	if (keep_delegate)
		release(d);
	finish(vm, config);
	return 0;
}

static int guest_halt(void) { return guest_stops(true); }
static int delegate_weak(void) { return guest_stops(false); }

/* A delegate whose method is registered with the wrong type encoding (no argument). */
static int delegate_signature(void)
{
	Class c = objc_allocateClassPair(objc_getClass("NSObject"), "ClawBadDelegate", 0);
	class_addMethod(c, sel_registerName("guestDidStopVirtualMachine:"), (IMP)on_guest_stop, "v@:");
	objc_registerClassPair(c);
	DLOG.stopped = dispatch_semaphore_create(0);
	id d = SEND0(id, SEND0(id, (id)c, "alloc"), "init");
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	set_delegate(vm, d);
	vm_op(Q, vm, "startWithCompletionHandler:", nil);
	wait_ms(DLOG.stopped, 2000);
	return 0;
}

static int request_stop(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	id d = make_delegate();
	set_delegate(vm, d);
	__block bool asked = false;
	__block long code = 0;
	dispatch_sync(Q, ^{
		void *p = push();
		id err = nil;
		asked = SEND1(bool, vm, "requestStopWithError:", id *, &err);
		code = err ? err_code(err) : 0;
		pop(p);
	});
	printf("request on a stopped machine: %s, code %ld\n", asked ? "YES" : "NO", code);
	expect_ok(vm_op(Q, vm, "startWithCompletionHandler:", nil), "start");
	dispatch_sync(Q, ^{
		void *p = push();
		id err = nil;
		asked = SEND1(bool, vm, "requestStopWithError:", id *, &err);
		pop(p);
	});
	printf("request on a running machine: %s\n", asked ? "YES" : "NO");
	bool stopped = wait_ms(DLOG.stopped, 400);
	printf("guest %s (state %ld)\n", stopped ? "stopped" : "kept running", vm_state(Q, vm));
	if (!stopped)
		expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	release(d);
	finish(vm, config);
	return 0;
}

/* Three machines of their own (identity, aux, disk) at once on one host. */
static int limit(void)
{
	id vms[3], configs[3];
	struct identity ids[3];
	Q = dispatch_queue_create("test.vm", DISPATCH_QUEUE_SERIAL);
	for (int i = 0; i < 3; i++) {
		char dir[900];
		snprintf(dir, sizeof dir, "%s/m%d", DIR_, i);
		mkdir(dir, 0700);
		ids[i] = make_identity(dir);
		struct machine_opts o = { 0 };
		configs[i] = make_config(dir, &ids[i], &o);
		vms[i] = new_vm(configs[i]);
	}
	for (int i = 0; i < 3; i++) {
		struct result r = vm_op(Q, vms[i], "startWithCompletionHandler:", nil);
		printf("machine %d: %s\n", i + 1, r.code ? r.text : "running");
	}
	for (int i = 0; i < 3; i++) {
		if (vm_state(Q, vms[i]) == 1)
			expect_ok(vm_op(Q, vms[i], "stopWithCompletionHandler:", nil), "stop");
		release(vms[i]);
		release(configs[i]);
		drop_identity(&ids[i]);
	}
	dispatch_release(Q);
	return 0;
}

/* A machine that runs for ms milliseconds, for the host-wide count across processes. */
static int hold(const char *ms)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	struct result r = vm_op(Q, vm, "startWithCompletionHandler:", nil);
	printf("%s\n", r.code ? r.text : "running");
	fflush(stdout);
	if (!r.code) {
		usleep((useconds_t)atol(ms) * 1000);
		expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	}
	finish(vm, config);
	return 0;
}

static int lock_busy(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = new_vm(config);
	char aux[1024];
	snprintf(aux, sizeof aux, "%s/aux.img", DIR_);
	int fd = open(aux, O_RDONLY);
	EXPECT(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "cannot lock %s", aux);
	struct result r = vm_op(Q, vm, "startWithCompletionHandler:", nil);
	printf("start: %ld %s\n", r.code, r.text);
	close(fd);
	finish(vm, config);
	return 0;
}

static int main_queue(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = SEND1(id, alloc_of("VZVirtualMachine"), "initWithConfiguration:", id, config);
	__block int done = 0;
	void *p = push();
	SEND1(void, vm, "startWithCompletionHandler:", vz_error_block, ^(id e) {
		done = e ? -1 : 1;
	});
	pop(p);
	for (int i = 0; i < 100 && !done; i++) {
		p = push();
		id until = SEND1(id, CLASS("NSDate"), "dateWithTimeIntervalSinceNow:", double, 0.05);
		SEND1(void, SEND0(id, CLASS("NSRunLoop"), "mainRunLoop"), "runUntilDate:", id, until);
		pop(p);
	}
	EXPECT(done == 1, "the main queue's machine did not start (%d)", done);
	EXPECT(SEND0(long, vm, "state") == 1, "not running");
	done = 0;
	p = push();
	SEND1(void, vm, "stopWithCompletionHandler:", vz_error_block, ^(id e) {
		done = e ? -1 : 1;
	});
	for (int i = 0; i < 100 && !done; i++)
		SEND1(void, SEND0(id, CLASS("NSRunLoop"), "mainRunLoop"), "runUntilDate:", id,
			SEND1(id, CLASS("NSDate"), "dateWithTimeIntervalSinceNow:", double, 0.05));
	pop(p);
	EXPECT(done == 1, "did not stop");
	release(vm);
	release(config);
	drop_identity(&IDENT);
	puts("ok");
	return 0;
}

static void *touch_vm(void *vm)
{
	SEND0(long, (id)vm, "state");
	return NULL;
}

static int main_queue_off(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	id vm = SEND1(id, alloc_of("VZVirtualMachine"), "initWithConfiguration:", id, config);
	pthread_t t;
	pthread_create(&t, NULL, touch_vm, vm);
	pthread_join(t, NULL);
	return 0;
}

/* ---- save and restore ---- */

static struct machine_opts savable_opts(void) { return (struct machine_opts){ .trackpad = true, .mac_keyboard = true }; }

static void save_to(id vm, const char *file)
{
	expect_ok(vm_op(Q, vm, "startWithCompletionHandler:", nil), "start");
	expect_ok(vm_op(Q, vm, "pauseWithCompletionHandler:", nil), "pause");
	void *p = push();
	struct result r = vm_op(Q, vm, "saveMachineStateToURL:completionHandler:", file_url(file));
	pop(p);
	printf("save: %s\n", r.code ? r.text : "saved");
}

static bool validate_save(id config, bool show)
{
	void *p = push();
	id err = nil;
	bool ok = SEND1(bool, config, "validateSaveRestoreSupportWithError:", id *, &err);
	if (show)
		printf("savable: %s\n", ok ? "yes" : err_text(err));
	pop(p);
	return ok;
}

static int save_restore_clean(void)
{
	struct machine_opts o = savable_opts();
	id config = valid_config(&o);
	validate_save(config, false);
	id vm = new_vm(config);
	char file[1024];
	snprintf(file, sizeof file, "%s/state.vzvmsave", DIR_);
	save_to(vm, file);
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	void *p = push();
	struct result r = vm_op(Q, vm, "restoreMachineStateFromURL:completionHandler:", file_url(file));
	printf("restore: %s, state %ld\n", r.code ? r.text : "restored", vm_state(Q, vm));
	r = vm_op(Q, vm, "restoreMachineStateFromURL:completionHandler:", file_url(file));
	printf("restore a paused machine: %ld %s\n", r.code, r.text);
	pop(p);
	expect_ok(vm_op(Q, vm, "resumeWithCompletionHandler:", nil), "resume");
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	finish(vm, config);
	return 0;
}

static int save_running(void)
{
	struct machine_opts o = savable_opts();
	id config = valid_config(&o);
	validate_save(config, false);
	id vm = new_vm(config);
	expect_ok(vm_op(Q, vm, "startWithCompletionHandler:", nil), "start");
	char file[1024];
	snprintf(file, sizeof file, "%s/state.vzvmsave", DIR_);
	void *p = push();
	struct result r = vm_op(Q, vm, "saveMachineStateToURL:completionHandler:", file_url(file));
	pop(p);
	printf("save a running machine: %ld %s\n", r.code, r.text);
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	finish(vm, config);
	return 0;
}

static int save_unsavable(bool validate)
{
	struct machine_opts o = { .entropy = true, .usb_pointer = true };
	id config = valid_config(&o);
	if (validate)
		validate_save(config, true);
	id vm = new_vm(config);
	char file[1024];
	snprintf(file, sizeof file, "%s/state.vzvmsave", DIR_);
	save_to(vm, file);
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	finish(vm, config);
	return 0;
}

static int save_unvalidated(void) { return save_unsavable(false); }
static int save_refused(void) { return save_unsavable(true); }

static int savable(void)
{
	struct machine_opts cases[] = { savable_opts(), { .entropy = true, .trackpad = true, .mac_keyboard = true },
		{ .usb_pointer = true, .mac_keyboard = true }, { .share = true, .trackpad = true, .mac_keyboard = true } };
	const char *names[] = { "mac-input", "entropy", "usb-pointer", "share" };
	for (int i = 0; i < 4; i++) {
		id config = valid_config(&cases[i]);
		printf("%s ", names[i]);
		validate_save(config, true);
		release(config);
	}
	drop_identity(&IDENT);
	return 0;
}

/* Save in one process, restore in another: the identity travels as base64 of its data
 * representations (as config.json carries it). */
static void write_b64(const char *name, id data)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", DIR_, name);
	void *p = push();
	FILE *f = fopen(path, "w");
	EXPECT(f, "cannot write %s", path);
	fputs(utf8(SEND1(id, data, "base64EncodedStringWithOptions:", unsigned long, 0)), f);
	fclose(f);
	pop(p);
}

static id read_b64(const char *name)
{
	char path[1024], buf[4096] = "";
	snprintf(path, sizeof path, "%s/%s", DIR_, name);
	FILE *f = fopen(path, "r");
	EXPECT(f && fgets(buf, sizeof buf, f), "cannot read %s", path);
	fclose(f);
	return SEND2(id, alloc_of("NSData"), "initWithBase64EncodedString:options:", id, str(buf), unsigned long, 0);
}

static int save_then_exit(void)
{
	struct machine_opts o = savable_opts();
	id config = valid_config(&o);
	validate_save(config, false);
	write_b64("hw.b64", SEND0(id, IDENT.hw, "dataRepresentation"));
	write_b64("mid.b64", SEND0(id, IDENT.mid, "dataRepresentation"));
	id vm = new_vm(config);
	char file[1024];
	snprintf(file, sizeof file, "%s/state.vzvmsave", DIR_);
	save_to(vm, file);
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	finish(vm, config);
	return 0;
}

static int restore_from(const char *mac)
{
	void *p = push();
	id hwd = read_b64("hw.b64"), midd = read_b64("mid.b64");
	IDENT.hw = SEND1(id, alloc_of("VZMacHardwareModel"), "initWithDataRepresentation:", id, hwd);
	IDENT.mid = SEND1(id, alloc_of("VZMacMachineIdentifier"), "initWithDataRepresentation:", id, midd);
	EXPECT(IDENT.hw && IDENT.mid, "the identity did not come back from its data representations");
	release(hwd);
	release(midd);
	pop(p);
	struct machine_opts o = savable_opts();
	o.mac = mac;
	id config = make_config(DIR_, &IDENT, &o);
	validate_save(config, false);
	id vm = new_vm(config);
	char file[1024];
	snprintf(file, sizeof file, "%s/state.vzvmsave", DIR_);
	p = push();
	struct result r = vm_op(Q, vm, "restoreMachineStateFromURL:completionHandler:", file_url(file));
	pop(p);
	printf("restore: %s, state %ld\n", r.code ? r.text : "restored", vm_state(Q, vm));
	if (vm_state(Q, vm) == 2)
		expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	finish(vm, config);
	return 0;
}

static int balloon(void)
{
	struct machine_opts o = { 0 };
	id config = valid_config(&o);
	void *p = push();
	id b = make("VZVirtioTraditionalMemoryBalloonDeviceConfiguration");
	SEND1(void, config, "setMemoryBalloonDevices:", id, array1(b));
	release(b);
	pop(p);
	id vm = new_vm(config);
	__block uint64_t target = 0;
	dispatch_sync(Q, ^{
		id dev = SEND1(id, SEND0(id, vm, "memoryBalloonDevices"), "objectAtIndex:", unsigned long, 0);
		SEND1(void, dev, "setTargetVirtualMachineMemorySize:", uint64_t, (2ull << 30) + 12345);
		target = SEND0(uint64_t, dev, "targetVirtualMachineMemorySize");
	});
	printf("balloon target %llu\n", (unsigned long long)target);
	finish(vm, config);
	return 0;
}

/* What the guest mounts by itself (CLAW_MODEL_GUEST_MOUNTS) from a share with the automount tag,
 * its boot disk saying it is macOS VERSION as the installer leaves it ("" for a disk it never
 * wrote): t_vm guest-mounts DIR VERSION. */
static int guest_mounts(const char *version)
{
	char disk[1024], mounts[1024], head[64], line[2048];
	snprintf(disk, sizeof disk, "%s/disk.img", DIR_);
	snprintf(mounts, sizeof mounts, "%s/mounts", DIR_);
	snprintf(head, sizeof head, "claw-model-macos %s 00A000\n", version);
	make_file(disk, 64 << 20, *version ? head : NULL);
	setenv("CLAW_MODEL_GUEST_MOUNTS", mounts, 1);
	struct machine_opts o = { .share = true };
	id config = valid_config(&o);
	id vm = new_vm(config);
	expect_ok(vm_op(Q, vm, "startWithCompletionHandler:", nil), "start");
	FILE *f = fopen(mounts, "r");
	EXPECT(f, "the guest wrote no %s", mounts);
	printf("macOS %s mounts:", *version ? version : "(none)");
	while (fgets(line, sizeof line, f))
		printf(" %s", line);
	printf("\n");
	fclose(f);
	expect_ok(vm_op(Q, vm, "stopWithCompletionHandler:", nil), "stop");
	finish(vm, config);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} scenarios[] = {
		{ "lifecycle", lifecycle }, { "start-off-queue", start_off_queue }, { "state-off-queue", state_off_queue },
		{ "sync-in-handler", sync_in_handler }, { "validation", validation }, { "unentitled", unentitled }, { "config-invalid", config_invalid },
		{ "guest-halt", guest_halt }, { "delegate-weak", delegate_weak },
		{ "delegate-signature", delegate_signature }, { "request-stop", request_stop },
		{ "limit", limit }, { "lock-busy", lock_busy }, { "main-queue", main_queue },
		{ "main-queue-off", main_queue_off }, { "save-restore", save_restore_clean }, { "save-running", save_running },
		{ "save-unvalidated", save_unvalidated }, { "save-refused", save_refused }, { "savable", savable },
		{ "save-then-exit", save_then_exit }, { "balloon", balloon },
	};
	if (argc < 3) {
		fprintf(stderr, "usage: t_vm SCENARIO DIR [ARG]\n");
		return 64;
	}
	DIR_ = argv[2];
	if (!strcmp(argv[1], "hold"))
		return hold(argc > 3 ? argv[3] : "500");
	if (!strcmp(argv[1], "guest-mounts"))
		return guest_mounts(argc > 3 ? argv[3] : "");
	if (!strcmp(argv[1], "restore-from"))
		return restore_from(argc > 3 ? argv[3] : NULL);
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return scenarios[i].fn();
	fprintf(stderr, "t_vm: no scenario %s\n", argv[1]);
	return 64;
}
