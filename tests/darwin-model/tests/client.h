/* darwin-model/tests/client: what the model's own tests share — a careful
 * client of Virtualization.framework written only against common/darwin/objc.h
 * (every message through SENDn, as claw's own code sends them), and a little
 * harness: each program runs the scenario named by argv[1] and prints "ok" when
 * it got what it expected, "FAIL: ..." (exit 1) when not. A scenario that breaks
 * a rule ends in the model's abort, which the bats suite checks. */
#ifndef CLAW_MODEL_CLIENT_H
#define CLAW_MODEL_CLIENT_H

#include "darwin/objc.h"

#include <Block.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT static __attribute__((unused))

CLIENT void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
CLIENT void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	_exit(1);
}

#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) \
			fail(__VA_ARGS__); \
	} while (0)

/* ---- Foundation, the way a client spells it ---- */
CLIENT id str(const char *s) { return SEND1(id, CLASS("NSString"), "stringWithUTF8String:", const char *, s); }
CLIENT const char *utf8(id s) { return SEND0(const char *, s, "UTF8String"); }
CLIENT id file_url(const char *p) { return SEND1(id, CLASS("NSURL"), "fileURLWithPath:", id, str(p)); }
CLIENT id alloc_of(const char *cls) { return SEND0(id, CLASS(cls), "alloc"); }
CLIENT id make(const char *cls) { return SEND0(id, alloc_of(cls), "init"); }
CLIENT void release(id o) { SEND0(void, o, "release"); }
CLIENT id retain(id o) { return SEND0(id, o, "retain"); }
CLIENT id array1(id o) { return SEND2(id, CLASS("NSArray"), "arrayWithObjects:count:", const id *, &o, unsigned long, 1); }
CLIENT id array0(void) { return SEND0(id, CLASS("NSArray"), "array"); }
CLIENT long err_code(id e) { return SEND0(long, e, "code"); }
CLIENT const char *err_text(id e) { return utf8(SEND0(id, e, "localizedDescription")); }
CLIENT void *push(void) { return objc_autoreleasePoolPush(); }
CLIENT void pop(void *p) { objc_autoreleasePoolPop(p); }

CLIENT bool wait_ms(dispatch_semaphore_t s, long ms)
{
	return dispatch_semaphore_wait(s, dispatch_time(DISPATCH_TIME_NOW, ms * (int64_t)NSEC_PER_MSEC)) == 0;
}

/* ---- files a test needs ---- */
CLIENT void make_file(const char *path, off_t size, const char *head)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	EXPECT(fd >= 0, "cannot create %s: %s", path, strerror(errno));
	if (head)
		EXPECT(write(fd, head, strlen(head)) == (ssize_t)strlen(head), "cannot write %s", path);
	EXPECT(ftruncate(fd, size) == 0, "cannot size %s", path);
	close(fd);
}

CLIENT void make_ipsw(const char *path) { make_file(path, 4096, "PK\003\004claw-model test ipsw"); }

/* ---- a restore image, loaded as claw does: wait for the callback, keep what it gives ---- */
struct loaded {
	id image; /* retained */
	id error; /* retained */
	bool on_calling_queue;
};

CLIENT struct loaded load_image(const char *ipsw)
{
	__block struct loaded out = { nil, nil, false };
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	dispatch_queue_t mine = dispatch_queue_create("test.loader", DISPATCH_QUEUE_SERIAL);
	void *p = push();
	SEND2(void, CLASS("VZMacOSRestoreImage"), "loadFileURL:completionHandler:", id, file_url(ipsw), vz_image_block,
		^(id image, id error) {
			void *inner = push();
			out.image = retain(image);
			out.error = retain(error);
			pop(inner);
			dispatch_semaphore_signal(done);
		});
	pop(p);
	EXPECT(wait_ms(done, 3000), "loadFileURL: never called back");
	dispatch_release(done);
	dispatch_release(mine);
	return out;
}

/* ---- a valid macOS machine, built as claw builds one ---- */
struct machine_opts {
	unsigned long cpu;
	uint64_t mem;
	bool entropy, usb_pointer, trackpad, mac_keyboard, share, no_storage, no_boot;
	const char *console; /* a file for a serial console, or NULL */
	const char *mac;
};

struct identity {
	id hw;  /* retained */
	id mid; /* retained */
};

CLIENT struct identity make_identity(const char *dir)
{
	char ipsw[1024], aux[1024];
	snprintf(ipsw, sizeof ipsw, "%s/test.ipsw", dir);
	snprintf(aux, sizeof aux, "%s/aux.img", dir);
	make_ipsw(ipsw);
	struct loaded l = load_image(ipsw);
	void *p = push();
	EXPECT(l.image && !l.error, "the test image did not load: %s", l.error ? err_text(l.error) : "?");
	id req = SEND0(id, l.image, "mostFeaturefulSupportedConfiguration");
	EXPECT(req, "the test image is not supported here");
	struct identity id_ = { retain(SEND0(id, req, "hardwareModel")), make("VZMacMachineIdentifier") };
	id err = nil;
	id storage = SEND4(id, alloc_of("VZMacAuxiliaryStorage"), "initCreatingStorageAtURL:hardwareModel:options:error:",
		id, file_url(aux), id, id_.hw, unsigned long, 1, id *, &err);
	EXPECT(storage, "aux storage: %s", err ? err_text(err) : "?");
	release(storage);
	release(l.image);
	pop(p);
	return id_;
}

CLIENT id make_config(const char *dir, const struct identity *ident, const struct machine_opts *o)
{
	char disk[1024], aux[1024];
	snprintf(disk, sizeof disk, "%s/disk.img", dir);
	snprintf(aux, sizeof aux, "%s/aux.img", dir);
	struct stat st;
	if (stat(disk, &st) < 0)
		make_file(disk, 64 << 20, NULL);
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	SEND1(void, config, "setCPUCount:", unsigned long, o->cpu ? o->cpu : 2);
	SEND1(void, config, "setMemorySize:", uint64_t, o->mem ? o->mem : 4ull << 30);
	id platform = make("VZMacPlatformConfiguration");
	SEND1(void, platform, "setHardwareModel:", id, ident->hw);
	SEND1(void, platform, "setMachineIdentifier:", id, ident->mid);
	id storage = SEND1(id, alloc_of("VZMacAuxiliaryStorage"), "initWithURL:", id, file_url(aux));
	SEND1(void, platform, "setAuxiliaryStorage:", id, storage);
	release(storage);
	SEND1(void, config, "setPlatform:", id, platform);
	release(platform);
	if (!o->no_boot) {
		id boot = make("VZMacOSBootLoader");
		SEND1(void, config, "setBootLoader:", id, boot);
		release(boot);
	}
	if (!o->no_storage) {
		id err = nil;
		id att = SEND3(id, alloc_of("VZDiskImageStorageDeviceAttachment"), "initWithURL:readOnly:error:", id,
			file_url(disk), bool, false, id *, &err);
		EXPECT(att, "disk attachment: %s", err ? err_text(err) : "?");
		id blk = SEND1(id, alloc_of("VZVirtioBlockDeviceConfiguration"), "initWithAttachment:", id, att);
		SEND1(void, config, "setStorageDevices:", id, array1(blk));
		release(blk);
		release(att);
	}
	id net = make("VZVirtioNetworkDeviceConfiguration");
	id nat = make("VZNATNetworkDeviceAttachment");
	SEND1(void, net, "setAttachment:", id, nat);
	release(nat);
	id mac = SEND1(id, alloc_of("VZMACAddress"), "initWithString:", id, str(o->mac ? o->mac : "ee:a7:85:09:92:39"));
	EXPECT(mac, "MAC address refused");
	SEND1(void, net, "setMACAddress:", id, mac);
	release(mac);
	SEND1(void, config, "setNetworkDevices:", id, array1(net));
	release(net);
	id gfx = make("VZMacGraphicsDeviceConfiguration");
	id display = SEND3(id, alloc_of("VZMacGraphicsDisplayConfiguration"), "initWithWidthInPixels:heightInPixels:pixelsPerInch:",
		long, 1920, long, 1200, long, 80);
	SEND1(void, gfx, "setDisplays:", id, array1(display));
	release(display);
	SEND1(void, config, "setGraphicsDevices:", id, array1(gfx));
	release(gfx);
	id kbd = make(o->mac_keyboard ? "VZMacKeyboardConfiguration" : "VZUSBKeyboardConfiguration");
	SEND1(void, config, "setKeyboards:", id, array1(kbd));
	release(kbd);
	id pointer = make(o->usb_pointer ? "VZUSBScreenCoordinatePointingDeviceConfiguration" : "VZMacTrackpadConfiguration");
	SEND1(void, config, "setPointingDevices:", id, array1(pointer));
	release(pointer);
	if (o->entropy) {
		id e = make("VZVirtioEntropyDeviceConfiguration");
		SEND1(void, config, "setEntropyDevices:", id, array1(e));
		release(e);
	}
	if (o->console) {
		id err = nil;
		id att = SEND3(id, alloc_of("VZFileSerialPortAttachment"), "initWithURL:append:error:", id, file_url(o->console),
			bool, true, id *, &err);
		EXPECT(att, "serial attachment: %s", err ? err_text(err) : "?");
		id port = make("VZVirtioConsoleDeviceSerialPortConfiguration");
		SEND1(void, port, "setAttachment:", id, att);
		release(att);
		SEND1(void, config, "setSerialPorts:", id, array1(port));
		release(port);
	}
	if (o->share) {
		id shdir = SEND2(id, alloc_of("VZSharedDirectory"), "initWithURL:readOnly:", id, file_url(dir), bool, true);
		id single = SEND1(id, alloc_of("VZSingleDirectoryShare"), "initWithDirectory:", id, shdir);
		id tag = SEND0(id, CLASS("VZVirtioFileSystemDeviceConfiguration"), "macOSGuestAutomountTag");
		id fs = SEND1(id, alloc_of("VZVirtioFileSystemDeviceConfiguration"), "initWithTag:", id, tag);
		SEND1(void, fs, "setShare:", id, single);
		SEND1(void, config, "setDirectorySharingDevices:", id, array1(fs));
		release(fs);
		release(single);
		release(shdir);
	}
	pop(p);
	return config;
}

CLIENT void drop_identity(struct identity *i)
{
	release(i->hw);
	release(i->mid);
}

/* ---- the delegate, as a client registers it ---- */
struct delegate_log {
	int guest_stops, error_stops;
	long last_code;
	dispatch_semaphore_t stopped;
};

static struct delegate_log DLOG;

static void on_guest_stop(id self, SEL cmd, id vm)
{
	(void)self, (void)cmd, (void)vm;
	void *p = push();
	DLOG.guest_stops++;
	pop(p);
	dispatch_semaphore_signal(DLOG.stopped);
}

static void on_error_stop(id self, SEL cmd, id vm, id error)
{
	(void)self, (void)cmd, (void)vm;
	void *p = push();
	DLOG.error_stops++;
	DLOG.last_code = err_code(error);
	pop(p);
	dispatch_semaphore_signal(DLOG.stopped);
}

CLIENT id make_delegate(void)
{
	Class c = objc_getClass("ClawTestDelegate");
	if (!c) {
		c = objc_allocateClassPair(objc_getClass("NSObject"), "ClawTestDelegate", 0);
		class_addMethod(c, sel_registerName("guestDidStopVirtualMachine:"), (IMP)on_guest_stop, "v@:@");
		class_addMethod(c, sel_registerName("virtualMachine:didStopWithError:"), (IMP)on_error_stop, "v@:@@");
		Protocol *p = objc_getProtocol("VZVirtualMachineDelegate");
		if (p)
			class_addProtocol(c, p);
		objc_registerClassPair(c);
	}
	if (!DLOG.stopped)
		DLOG.stopped = dispatch_semaphore_create(0);
	return SEND0(id, SEND0(id, (id)c, "alloc"), "init");
}

/* ---- running things on the machine's queue and waiting for their completion ---- */
struct result {
	bool called;
	long code;
	char text[512];
	bool on_queue;
};

CLIENT void run_sync(dispatch_queue_t q, dispatch_block_t b) { dispatch_sync(q, b); }

/* Send a completion-handler message on q and wait for its completion (which must come on q). */
CLIENT struct result vm_op(dispatch_queue_t q, id vm, const char *sel, id arg)
{
	__block struct result r = { false, 0, "", false };
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	vz_error_block handler = ^(id error) {
		void *p = push();
		r.called = true;
		r.code = error ? err_code(error) : 0;
		snprintf(r.text, sizeof r.text, "%s", error ? err_text(error) : "");
		pop(p);
		dispatch_semaphore_signal(done);
	};
	dispatch_async(q, ^{
		void *p = push();
		if (arg)
			SEND2(void, vm, sel, id, arg, vz_error_block, handler);
		else
			SEND1(void, vm, sel, vz_error_block, handler);
		pop(p);
	});
	EXPECT(wait_ms(done, 5000), "%s: the completion handler never ran", sel);
	dispatch_release(done);
	return r;
}

CLIENT long vm_state(dispatch_queue_t q, id vm)
{
	__block long s = -1;
	dispatch_sync(q, ^{
		s = SEND0(long, vm, "state");
	});
	return s;
}

CLIENT void vm_release(dispatch_queue_t q, id vm)
{
	(void)q;
	release(vm);
}

#endif
