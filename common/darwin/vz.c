/* darwin/vz: common/vm.h over Apple's Virtualization.framework, in plain C
 * through the Objective-C runtime (VZ-API.md beside it is the reference).
 *
 * Threading (VZ-API.md §2): the machine is bound to its own serial queue; every
 * call on it, and on its installer, is dispatched there, and VZ delivers its
 * completions and delegate callbacks there. The calling thread waits on a
 * semaphore, with a deadline, never dispatch_sync's from the queue itself;
 * events (install done, guest stopped, stopped with an error) reach vm_wait
 * through vmevents. A class that is Nil is an error before any message that
 * takes a completion handler: a message to Nil never calls it.
 * Memory: manual retain/release; an autorelease pool around every entry point
 * and every block or callback body. One machine per process (the delegate
 * finds it). */
#include "darwin/objc.h"
#include "log.h"
#include "util.h"
#include "vm.h"
#include "vmevents.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VZ_ERROR_TRANSITION 4 /* VZErrorInvalidVirtualMachineStateTransition */
#define VZ_ERROR_LIMIT 6 /* VZErrorVirtualMachineLimitExceeded */
#define VZ_ERROR_RESTORE 12 /* VZErrorRestore: the file cannot be restored into this machine */
#define VZ_STATE_STOPPED 0
#define VZ_STATE_ERROR 3
#define AUX_ALLOW_OVERWRITE 1UL
#define MIB (1ULL << 20)

/* How long a call waits for VZ's completion handler before it gives up (seconds). */
#ifndef VZ_DEADLINE_S
#define VZ_DEADLINE_S 120
#endif
#ifndef VZ_SAVE_DEADLINE_S
#define VZ_SAVE_DEADLINE_S 900 /* the guest's whole memory goes to or comes from the disk */
#endif

struct vm {
	dispatch_queue_t queue;
	id machine;   /* VZVirtualMachine, owned */
	id delegate;  /* owned: VZ holds it weakly */
	id installer; /* VZMacOSInstaller, owned while installing */
	struct vm_events events;
	bool savable;        /* validateSaveRestoreSupportWithError:'s answer */
	char unsavable[640]; /* and, when NO, why */
};

static struct vm *the_vm;

/* ---- Foundation helpers ------------------------------------------------ */

static id retain(id o) { return o ? SEND0(id, o, "retain") : o; }
static void release(id o)
{
	if (o)
		SEND0(void, o, "release");
}

/* alloc + init, owned. */
static id make(const char *cls)
{
	id c = CLASS(cls);
	return c ? SEND0(id, SEND0(id, c, "alloc"), "init") : nil;
}

static id alloc_of(const char *cls)
{
	return SEND0(id, CLASS(cls), "alloc");
}

static id ns_string(const char *s) { return SEND1(id, CLASS("NSString"), "stringWithUTF8String:", const char *, s); }
static id file_url(const char *path) { return SEND1(id, CLASS("NSURL"), "fileURLWithPath:", id, ns_string(path)); }

static id ns_data(const void *p, size_t n)
{
	return SEND2(id, CLASS("NSData"), "dataWithBytes:length:", const void *, p, unsigned long, n);
}

/* NSData into a fixed buffer; -1 when it does not fit. */
static int data_copy(id data, unsigned char *out, size_t max, size_t *len)
{
	if (!data)
		return -1;
	unsigned long n = SEND0(unsigned long, data, "length");
	if (n > max)
		return -1;
	memcpy(out, SEND0(const void *, data, "bytes"), n);
	*len = n;
	return 0;
}

static id array_of(id *objs, unsigned long n)
{
	return SEND2(id, CLASS("NSArray"), "arrayWithObjects:count:", id *, objs, unsigned long, n);
}

static void string_copy(id s, char *out, size_t size)
{
	const char *c = s ? SEND0(const char *, s, "UTF8String") : NULL;
	snprintf(out, size, "%s", c ? c : "");
}

/* One error as a line: "description[ reason] (domain code)". VZ's descriptions already
 * end with their reason (NSLocalizedFailure + NSLocalizedFailureReason); others may not. */
static long error_line(id err, char *out, size_t size)
{
	char what[400], why[400], domain[64];
	string_copy(SEND0(id, err, "localizedDescription"), what, sizeof what);
	string_copy(SEND0(id, err, "localizedFailureReason"), why, sizeof why);
	string_copy(SEND0(id, err, "domain"), domain, sizeof domain);
	long code = SEND0(long, err, "code");
	bool told = !*why || strstr(what, why);
	snprintf(out, size, "%s%s%s (%s %ld)", what, told ? "" : " ", told ? "" : why, domain, code);
	return code;
}

/* The error, and the one under it (NSUnderlyingErrorKey, whose value is "NSUnderlyingError"):
 * "Failed to lock auxiliary storage. (VZErrorDomain 2): Resource temporarily unavailable (...)".
 * Returns VZ's code, or -code - 1 for another domain. Read it before the pool it lives in pops. */
static long error_text(id err, char *out, size_t size)
{
	if (!err) {
		snprintf(out, size, "unknown error");
		return 0;
	}
	long code = error_line(err, out, size);
	id info = SEND0(id, err, "userInfo");
	id under = info ? SEND1(id, info, "objectForKey:", id, ns_string("NSUnderlyingError")) : nil;
	size_t n = strlen(out);
	if (under && n + 3 < size) {
		snprintf(out + n, size - n, ": ");
		error_line(under, out + n + 2, size - n - 2);
	}
	bool vz = SEND1(bool, SEND0(id, err, "domain"), "isEqualToString:", id, ns_string("VZErrorDomain"));
	return vz ? code : -code - 1;
}

/* A class this process does not have: VZ cannot run claw's machines here (an x86_64 process
 * sees no VZMac* class, VZ-API.md §12.12). */
static int nil_class(const char *name)
{
	return fail(EX_UNAVAILABLE, "Virtualization.framework has no %s in this process; claw %s", name, VM_NEEDS);
}

/* ---- waiting for a completion handler ---------------------------------- */

/* One call's answer, shared by the thread that waits for it and the handler that gives it,
 * each holding a reference: a wait that gives up must not leave the handler writing into a
 * stack that is gone. */
struct answer {
	atomic_int refs;
	dispatch_semaphore_t done;
	bool failed;
	long code; /* VZErrorDomain's, or negative for another domain */
	char text[1024];
	id image; /* what loadFileURL: handed over, owned */
};

static struct answer *answer_new(void)
{
	struct answer *a = xcalloc(1, sizeof *a);
	atomic_init(&a->refs, 2);
	a->done = dispatch_semaphore_create(0);
	return a;
}

static void answer_put(struct answer *a)
{
	if (atomic_fetch_sub(&a->refs, 1) != 1)
		return;
	dispatch_release(a->done);
	release(a->image);
	free(a);
}

/* The handler's side, in a pool of its own: keep what it says and wake the waiter. */
static void answer_give(struct answer *a, id err, id image)
{
	void *pool = objc_autoreleasePoolPush();
	if (image)
		a->image = retain(image);
	else if (err)
		a->failed = true, a->code = error_text(err, a->text, sizeof a->text);
	objc_autoreleasePoolPop(pool);
	dispatch_semaphore_signal(a->done);
	answer_put(a);
}

/* The waiter's side: false when no answer came within the deadline. */
static bool answer_wait(struct answer *a, int seconds)
{
	return dispatch_semaphore_wait(a->done, dispatch_time(DISPATCH_TIME_NOW,
							      (int64_t)seconds * 1000 * (int64_t)NSEC_PER_MSEC)) == 0;
}

/* ---- host -------------------------------------------------------------- */

const char *vm_host_version(void)
{
	static char version[32];
	size_t n = sizeof version;
	if (!version[0] && sysctlbyname("kern.osproductversion", version, &n, NULL, 0) < 0)
		snprintf(version, sizeof version, "unknown");
	return version;
}

/* Pure C on purpose: claw-boot -d asks before it forks, and nothing from
 * Foundation or VZ may run before a fork. An x86_64 build runs on Apple
 * silicon under Rosetta, where no VZMac* class exists (VZ-API.md §12.12):
 * said here, before a message to Nil could wait forever for its handler. */
int vm_host_check(void)
{
	int arm64 = 0, translated = 0;
	size_t n = sizeof arm64, m = sizeof translated;
	if (sysctlbyname("sysctl.proc_translated", &translated, &m, NULL, 0) == 0 && translated == 1)
		return fail(EX_UNAVAILABLE, VM_ROSETTA);
	if (sysctlbyname("hw.optional.arm64", &arm64, &n, NULL, 0) < 0 || !arm64 || atoi(vm_host_version()) < 14)
		return fail(EX_UNAVAILABLE, VM_NEEDS);
	return 0;
}

/* Once, for restore and boot: VZ takes memory in whole MiB, and both within the
 * class's minimum and maximum (VZ-API.md §5). */
void vm_fit(unsigned *cpu, uint64_t *ram)
{
	void *pool = objc_autoreleasePoolPush();
	id c = CLASS("VZVirtualMachineConfiguration");
	if (c) {
		unsigned long lo = SEND0(unsigned long, c, "minimumAllowedCPUCount"),
			      hi = SEND0(unsigned long, c, "maximumAllowedCPUCount");
		uint64_t mlo = SEND0(uint64_t, c, "minimumAllowedMemorySize"),
			 mhi = SEND0(uint64_t, c, "maximumAllowedMemorySize");
		*cpu = (unsigned)(*cpu < lo ? lo : *cpu > hi ? hi : *cpu);
		*ram = *ram < mlo ? (mlo + MIB - 1) / MIB * MIB : *ram > mhi ? mhi / MIB * MIB : *ram / MIB * MIB;
	}
	objc_autoreleasePoolPop(pool);
}

/* ---- restore image and identity --------------------------------------- */

static void image_facts(id image, struct vm_image *out)
{
	string_copy(SEND0(id, image, "buildVersion"), out->build, sizeof out->build);
	struct ns_os_version v = SEND0(struct ns_os_version, image, "operatingSystemVersion");
	if (v.patch)
		snprintf(out->version, sizeof out->version, "%ld.%ld.%ld", v.major, v.minor, v.patch);
	else
		snprintf(out->version, sizeof out->version, "%ld.%ld", v.major, v.minor);
	id req = SEND0(id, image, "mostFeaturefulSupportedConfiguration");
	id hw = req ? SEND0(id, req, "hardwareModel") : nil;
	if (!hw || !SEND0(bool, hw, "isSupported") ||
	    data_copy(SEND0(id, hw, "dataRepresentation"), out->hw_model, sizeof out->hw_model, &out->hw_model_len) < 0)
		return;
	out->supported = true;
	out->min_cpu = (unsigned)SEND0(unsigned long, req, "minimumSupportedCPUCount");
	out->min_ram = SEND0(uint64_t, req, "minimumSupportedMemorySize");
}

int vm_image_load(const char *ipsw, struct vm_image *out)
{
	memset(out, 0, sizeof *out);
	id cls = CLASS("VZMacOSRestoreImage");
	if (!cls)
		return nil_class("VZMacOSRestoreImage");
	void *pool = objc_autoreleasePoolPush();
	struct answer *a = answer_new();
	/* The handler runs on an arbitrary thread (no machine exists yet). */
	SEND2(void, cls, "loadFileURL:completionHandler:", id, file_url(ipsw), vz_image_block, ^(id img, id err) {
		answer_give(a, err, img);
	});
	int rc = 0;
	if (!answer_wait(a, VZ_DEADLINE_S))
		rc = fail(EX_SOFTWARE, "cannot load the restore image '%s': Virtualization.framework did not answer within %d s",
			  ipsw, VZ_DEADLINE_S);
	else if (a->image)
		image_facts(a->image, out);
	else
		rc = fail(EX_DATAERR, "cannot load the restore image '%s': %s", ipsw, a->text);
	answer_put(a);
	objc_autoreleasePoolPop(pool);
	return rc;
}

static id hardware_model(const unsigned char *data, size_t len)
{
	return SEND1(id, alloc_of("VZMacHardwareModel"), "initWithDataRepresentation:", id, ns_data(data, len));
}

static int new_machine_id(struct vm_identity *id_out)
{
	id mid = make("VZMacMachineIdentifier");
	int rc = data_copy(mid ? SEND0(id, mid, "dataRepresentation") : nil, id_out->machine_id,
			   sizeof id_out->machine_id, &id_out->machine_id_len);
	release(mid);
	return rc < 0 ? fail(EX_SOFTWARE, "cannot make a machine identifier") : 0;
}

int vm_identity_create(const struct vm_image *img, const char *aux, struct vm_identity *out)
{
	void *pool = objc_autoreleasePoolPush();
	int rc = -1;
	id hw = hardware_model(img->hw_model, img->hw_model_len), err = nil;
	if (!hw) {
		fail(EX_DATAERR, "the image's hardware model is not valid");
	} else if (new_machine_id(out) == 0) {
		id storage = SEND4(id, alloc_of("VZMacAuxiliaryStorage"), "initCreatingStorageAtURL:hardwareModel:options:error:",
				   id, file_url(aux), id, hw, unsigned long, AUX_ALLOW_OVERWRITE, id *, &err);
		char why[512];
		if (storage) {
			memcpy(out->hw_model, img->hw_model, img->hw_model_len);
			out->hw_model_len = img->hw_model_len;
			rc = 0;
		} else {
			error_text(err, why, sizeof why);
			fail(EX_CANTCREAT, "cannot create the auxiliary storage '%s': %s", aux, why);
		}
		release(storage);
	}
	release(hw);
	objc_autoreleasePoolPop(pool);
	return rc;
}

int vm_identity_renew(struct vm_identity *ident)
{
	void *pool = objc_autoreleasePoolPush();
	int rc = new_machine_id(ident);
	objc_autoreleasePoolPop(pool);
	return rc;
}

/* ---- the machine's configuration -------------------------------------- */

static void release_all(id *objs, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		release(objs[i]);
}

/* Set an owned object, then let go of it (setters retain). Macros, so that the
 * selector stays a literal at the call, where darwin-check.sh can read it. */
#define SET_OWNED(target, sel, value)                   \
	do {                                            \
		id owned_ = (value);                    \
		SEND1(void, (target), sel, id, owned_); \
		release(owned_);                        \
	} while (0)

/* Set an array of owned devices (the setter copies the array). */
#define SET_DEVICES(target, sel, devices, n)                              \
	do {                                                              \
		SEND1(void, (target), sel, id, array_of((devices), (n))); \
		release_all((devices), (n));                              \
	} while (0)

static int platform(id config, const struct vm_spec *s)
{
	id hw = hardware_model(s->id->hw_model, s->id->hw_model_len);
	id mid = SEND1(id, alloc_of("VZMacMachineIdentifier"), "initWithDataRepresentation:", id,
		       ns_data(s->id->machine_id, s->id->machine_id_len));
	if (!hw || !mid) {
		release(hw);
		release(mid);
		return fail(EX_DATAERR, "config.json's hardware model or machine identifier is not one VZ accepts");
	}
	if (!SEND0(bool, hw, "isSupported")) {
		release(hw);
		release(mid);
		return fail(EX_UNAVAILABLE, "this host cannot run the machine's hardware model (host: macOS %s)",
			    vm_host_version());
	}
	id cls = CLASS("VZMacAuxiliaryStorage");
	id aux = class_respondsToSelector((Class)cls, sel_registerName("initWithURL:"))
			 ? SEND1(id, alloc_of("VZMacAuxiliaryStorage"), "initWithURL:", id, file_url(s->aux))
			 : SEND1(id, alloc_of("VZMacAuxiliaryStorage"), "initWithContentsOfURL:", id, file_url(s->aux));
	id p = make("VZMacPlatformConfiguration");
	SET_OWNED(p, "setHardwareModel:", hw);
	SET_OWNED(p, "setMachineIdentifier:", mid);
	SET_OWNED(p, "setAuxiliaryStorage:", aux);
	SET_OWNED(config, "setPlatform:", p);
	SET_OWNED(config, "setBootLoader:", make("VZMacOSBootLoader"));
	return 0;
}

static int storage(id config, const struct vm_spec *s)
{
	id err = nil;
	id att = SEND3(id, alloc_of("VZDiskImageStorageDeviceAttachment"), "initWithURL:readOnly:error:", id,
		       file_url(s->disk), bool, false, id *, &err);
	if (!att) {
		char why[512];
		error_text(err, why, sizeof why);
		return fail(EX_NOINPUT, "cannot attach the disk '%s': %s", s->disk, why);
	}
	id disk = SEND1(id, alloc_of("VZVirtioBlockDeviceConfiguration"), "initWithAttachment:", id, att);
	release(att);
	SET_DEVICES(config, "setStorageDevices:", &disk, 1);
	return 0;
}

static int network(id config, const struct vm_spec *s)
{
	id mac = SEND1(id, alloc_of("VZMACAddress"), "initWithString:", id, ns_string(s->mac));
	if (!mac)
		return fail(EX_DATAERR, "'%s' is not a MAC address VZ accepts", s->mac);
	id nic = make("VZVirtioNetworkDeviceConfiguration");
	SET_OWNED(nic, "setAttachment:", make("VZNATNetworkDeviceAttachment"));
	SET_OWNED(nic, "setMACAddress:", mac);
	SET_DEVICES(config, "setNetworkDevices:", &nic, 1);
	return 0;
}

/* Screen Sharing needs a display even headless. A macOS 14 or later guest gets the Mac keyboard
 * and trackpad only, the devices a saved state can hold (tart's suspendable set; the USB pointer
 * cannot be saved: UTM #5815); an older one, which has no use for the Mac keyboard (UTM #5814),
 * the USB keyboard, and the USB pointer beside the trackpad (VZ-API.md §6, §14). */
static void human_interface(id config, const struct vm_spec *s, bool mac_devices)
{
	id display = SEND3(id, alloc_of("VZMacGraphicsDisplayConfiguration"), "initWithWidthInPixels:heightInPixels:pixelsPerInch:",
			   long, (long)s->width, long, (long)s->height, long, (long)s->ppi);
	id gfx = make("VZMacGraphicsDeviceConfiguration");
	SET_DEVICES(gfx, "setDisplays:", &display, 1);
	SET_DEVICES(config, "setGraphicsDevices:", &gfx, 1);
	id keyboard = mac_devices ? make("VZMacKeyboardConfiguration") : make("VZUSBKeyboardConfiguration");
	SET_DEVICES(config, "setKeyboards:", &keyboard, 1);
	id pointers[2];
	unsigned long n = 0;
	pointers[n++] = make("VZMacTrackpadConfiguration");
	if (!mac_devices)
		pointers[n++] = make("VZUSBScreenCoordinatePointingDeviceConfiguration");
	SET_DEVICES(config, "setPointingDevices:", pointers, n);
}

static int console(id config, const struct vm_spec *s)
{
	if (!s->console)
		return 0;
	id err = nil;
	id att = SEND3(id, alloc_of("VZFileSerialPortAttachment"), "initWithURL:append:error:", id, file_url(s->console),
		       bool, true, id *, &err);
	if (!att) {
		char why[512];
		error_text(err, why, sizeof why);
		return fail(EX_CANTCREAT, "cannot open the console log '%s': %s", s->console, why);
	}
	id port = make("VZVirtioConsoleDeviceSerialPortConfiguration");
	SET_OWNED(port, "setAttachment:", att);
	SET_DEVICES(config, "setSerialPorts:", &port, 1);
	return 0;
}

/* ---- shared folders (VZ-API.md §13) ----------------------------------- */

/* The tag a macOS guest mounts by itself, from the class (never spelled out here): macOS 13 on. */
static id automount_tag(id fs_class)
{
	if (!SEND1(bool, fs_class, "respondsToSelector:", SEL, sel_registerName("macOSGuestAutomountTag"))) {
		fail(EX_UNAVAILABLE, "shared folders need a macOS 13 or later host (this one runs macOS %s)", vm_host_version());
		return nil;
	}
	id tag = SEND0(id, fs_class, "macOSGuestAutomountTag"), err = nil;
	if (!SEND2(bool, fs_class, "validateTag:error:", id, tag, id *, &err)) {
		char why[512], text[64];
		error_text(err, why, sizeof why);
		string_copy(tag, text, sizeof text);
		fail(EX_SOFTWARE, "Virtualization.framework's automount tag '%s' does not validate: %s", text, why);
		return nil;
	}
	return tag;
}

/* A share's name as an NSString VZ takes as a key: initWithDirectories: raises on one it does
 * not, so each is asked first. */
static id share_name(id share_class, const struct vm_share *sh)
{
	id name = ns_string(sh->name), err = nil;
	if (!name) {
		fail(EX_CONFIG, "cannot share '%s' as '%s': the name is not UTF-8", sh->path, sh->name);
		return nil;
	}
	if (!SEND2(bool, share_class, "validateName:error:", id, name, id *, &err)) {
		char why[512];
		error_text(err, why, sizeof why);
		fail(EX_CONFIG, "cannot share '%s' as '%s': %s", sh->path, sh->name, why);
		return nil;
	}
	return name;
}

/* One Virtio file-system device with the automount tag and every folder under its name: the
 * guest sees them in "/Volumes/My Shared Files" with nothing to do inside it. */
static int shares(id config, const struct vm_spec *s)
{
	if (!s->nshares)
		return 0;
	id fs_class = CLASS("VZVirtioFileSystemDeviceConfiguration"), share_class = CLASS("VZMultipleDirectoryShare");
	if (!fs_class)
		return nil_class("VZVirtioFileSystemDeviceConfiguration");
	if (!share_class)
		return nil_class("VZMultipleDirectoryShare");
	id tag = automount_tag(fs_class);
	if (!tag)
		return -1;
	id *names = xcalloc(s->nshares, sizeof *names), *dirs = xcalloc(s->nshares, sizeof *dirs);
	int rc = 0;
	for (size_t i = 0; i < s->nshares && rc == 0; i++) {
		const struct vm_share *sh = &s->shares[i];
		names[i] = share_name(share_class, sh);
		dirs[i] = names[i] ? SEND2(id, alloc_of("VZSharedDirectory"), "initWithURL:readOnly:", id, file_url(sh->path),
					   bool, sh->read_only)
				   : nil;
		if (!names[i])
			rc = -1;
		else if (!dirs[i])
			rc = fail(EX_CONFIG, "cannot share '%s': Virtualization.framework does not take it", sh->path);
	}
	if (rc == 0) {
		id map = SEND3(id, CLASS("NSDictionary"), "dictionaryWithObjects:forKeys:count:", const id *, dirs, const id *,
			       names, unsigned long, (unsigned long)s->nshares);
		id share = SEND1(id, alloc_of("VZMultipleDirectoryShare"), "initWithDirectories:", id, map);
		id fs = SEND1(id, alloc_of("VZVirtioFileSystemDeviceConfiguration"), "initWithTag:", id, tag);
		SET_OWNED(fs, "setShare:", share);
		SET_DEVICES(config, "setDirectorySharingDevices:", &fs, 1);
	}
	release_all(dirs, (unsigned long)s->nshares);
	free(dirs);
	free(names);
	return rc;
}

/* Does this guest get the devices a saved state can hold? Decided from config.json's
 * os.version, so that every boot of a machine builds the same configuration. */
static bool savable_guest(const struct vm_spec *s)
{
	return s->os_version && atoi(s->os_version) >= 14;
}

/* An owned, validated VZVirtualMachineConfiguration, or nil (and fail()). */
static id configuration(const struct vm_spec *s)
{
	id config = make("VZVirtualMachineConfiguration");
	SEND1(void, config, "setCPUCount:", unsigned long, (unsigned long)s->cpu);
	SEND1(void, config, "setMemorySize:", uint64_t, s->ram);
	if (platform(config, s) < 0 || storage(config, s) < 0 || network(config, s) < 0 || console(config, s) < 0 ||
	    shares(config, s) < 0) {
		release(config);
		return nil;
	}
	/* A machine that can be saved gets tart's suspendable set and nothing else: no entropy device,
	 * which cannot be saved (tart --suspendable; UTM #5659), and no memory balloon, which tart never
	 * configures and no source says can be (VZ-API.md §14, Unconfirmed); claw never inflates it. */
	if (!savable_guest(s)) {
		id entropy = make("VZVirtioEntropyDeviceConfiguration");
		SET_DEVICES(config, "setEntropyDevices:", &entropy, 1);
		id balloon = make("VZVirtioTraditionalMemoryBalloonDeviceConfiguration");
		SET_DEVICES(config, "setMemoryBalloonDevices:", &balloon, 1);
	}
	human_interface(config, s, savable_guest(s));
	id err = nil;
	if (!SEND1(bool, config, "validateWithError:", id *, &err)) {
		char why[512];
		error_text(err, why, sizeof why);
		release(config);
		fail(EX_CONFIG, "invalid machine configuration: %s", why);
		return nil;
	}
	return config;
}

/* Ask once, before anything is saved or restored, and keep the answer: saving a configuration
 * VZ cannot save raises an NSException instead of failing (Code-Hex/vz PR #149; VZ-API.md §14). */
static void save_support(struct vm *vm, id config, const struct vm_spec *s)
{
	char why[512];
	id err = nil;
	vm->savable = SEND1(bool, config, "validateSaveRestoreSupportWithError:", id *, &err);
	if (vm->savable)
		return;
	error_text(err, why, sizeof why);
	if (savable_guest(s) && s->nshares) /* what a macOS 14 host refuses (VZ-API.md §14) */
		snprintf(vm->unsavable, sizeof vm->unsavable, "a machine with shared folders cannot be suspended on this host (macOS %s): %s",
			 vm_host_version(), why);
	else if (savable_guest(s))
		snprintf(vm->unsavable, sizeof vm->unsavable, "%s", why);
	else
		snprintf(vm->unsavable, sizeof vm->unsavable, "a macOS %s guest cannot be suspended (it needs macOS 14 or later): %s",
			 s->os_version && *s->os_version ? s->os_version : "(unknown)", why);
}

/* ---- the delegate ------------------------------------------------------ */

static void guest_did_stop(id self, SEL cmd, id machine)
{
	(void)self, (void)cmd, (void)machine;
	vm_events_post(&the_vm->events, VM_EV_GUEST_STOPPED, true, NULL);
}

static void did_stop_with_error(id self, SEL cmd, id machine, id err)
{
	(void)self, (void)cmd, (void)machine;
	void *pool = objc_autoreleasePoolPush();
	char why[512];
	error_text(err, why, sizeof why);
	objc_autoreleasePoolPop(pool);
	vm_events_post(&the_vm->events, VM_EV_STOPPED_ERROR, false, why);
}

static id make_delegate(void)
{
	Class c = (Class)objc_getClass("ClawVMDelegate");
	if (!c) {
		c = objc_allocateClassPair((Class)objc_getClass("NSObject"), "ClawVMDelegate", 0);
		class_addMethod(c, sel_registerName("guestDidStopVirtualMachine:"), (IMP)guest_did_stop, "v@:@");
		class_addMethod(c, sel_registerName("virtualMachine:didStopWithError:"), (IMP)did_stop_with_error, "v@:@@");
		Protocol *p = objc_getProtocol("VZVirtualMachineDelegate");
		if (p)
			class_addProtocol(c, p);
		objc_registerClassPair(c);
	}
	return make("ClawVMDelegate");
}

/* ---- the machine ------------------------------------------------------- */

int vm_create(const struct vm_spec *spec, struct vm **out)
{
	*out = NULL;
	if (!CLASS("VZVirtualMachine"))
		return nil_class("VZVirtualMachine");
	if (!CLASS("VZMacPlatformConfiguration"))
		return nil_class("VZMacPlatformConfiguration");
	void *pool = objc_autoreleasePoolPush();
	id config = configuration(spec);
	if (!config) {
		objc_autoreleasePoolPop(pool);
		return -1;
	}
	struct vm *vm = xcalloc(1, sizeof *vm);
	save_support(vm, config, spec);
	vm_events_init(&vm->events);
	vm->queue = dispatch_queue_create("claw.vm", DISPATCH_QUEUE_SERIAL);
	vm->delegate = make_delegate();
	the_vm = vm;
	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		vm->machine = SEND2(id, alloc_of("VZVirtualMachine"), "initWithConfiguration:queue:", id, config,
				    dispatch_queue_t, vm->queue);
		if (vm->machine)
			SEND1(void, vm->machine, "setDelegate:", id, vm->delegate);
		objc_autoreleasePoolPop(p);
	});
	release(config); /* the machine copied it */
	objc_autoreleasePoolPop(pool);
	if (!vm->machine) {
		vm_destroy(vm);
		return fail(EX_SOFTWARE, "cannot create the virtual machine");
	}
	*out = vm;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		if (vm->machine)
			SEND1(void, vm->machine, "setDelegate:", id, nil);
		release(vm->installer);
		release(vm->machine);
		objc_autoreleasePoolPop(p);
	});
	release(vm->delegate);
	dispatch_release(vm->queue);
	vm_events_destroy(&vm->events);
	if (the_vm == vm)
		the_vm = NULL;
	free(vm);
}

typedef void (^vz_op)(id machine, vz_error_block done);

/* Run op on the machine's queue and wait, up to seconds, for its completion handler. */
static int on_queue(struct vm *vm, const char *what, int seconds, vz_op op)
{
	struct answer *a = answer_new();
	dispatch_async(vm->queue, ^{
		void *pool = objc_autoreleasePoolPush();
		op(vm->machine, ^(id err) {
			answer_give(a, err, nil);
		});
		objc_autoreleasePoolPop(pool);
	});
	int rc = 0;
	if (!answer_wait(a, seconds))
		rc = fail(EX_SOFTWARE, "cannot %s: Virtualization.framework did not answer within %d s", what, seconds);
	else if (a->failed && a->code == VZ_ERROR_LIMIT)
		rc = fail(EX_UNAVAILABLE, VM_LIMIT_MESSAGE);
	else if (a->failed && a->code == VZ_ERROR_RESTORE)
		rc = fail(EX_DATAERR, "cannot %s: %s", what, a->text);
	else if (a->failed)
		rc = fail(EX_SOFTWARE, "cannot %s: %s", what, a->text);
	answer_put(a);
	return rc;
}

int vm_install_begin(struct vm *vm, const char *ipsw)
{
	void *pool = objc_autoreleasePoolPush();
	id url = file_url(ipsw);
	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		vm->installer = SEND2(id, alloc_of("VZMacOSInstaller"), "initWithVirtualMachine:restoreImageURL:", id,
				      vm->machine, id, url);
		if (vm->installer)
			SEND1(void, vm->installer, "installWithCompletionHandler:", vz_error_block, ^(id err) {
				void *q = objc_autoreleasePoolPush();
				char why[512] = "";
				if (err)
					error_text(err, why, sizeof why);
				objc_autoreleasePoolPop(q);
				vm_events_post(&vm->events, VM_EV_INSTALLED, err == nil, why);
			});
		objc_autoreleasePoolPop(p);
	});
	objc_autoreleasePoolPop(pool);
	return vm->installer ? 0 : fail(EX_SOFTWARE, "cannot make an installer for '%s'", ipsw);
}

double vm_install_progress(struct vm *vm)
{
	__block double f = 0;
	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		if (vm->installer)
			f = SEND0(double, SEND0(id, vm->installer, "progress"), "fractionCompleted");
		objc_autoreleasePoolPop(p);
	});
	return f;
}

void vm_install_cancel(struct vm *vm)
{
	dispatch_async(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		if (vm->installer)
			SEND0(void, SEND0(id, vm->installer, "progress"), "cancel");
		objc_autoreleasePoolPop(p);
	});
}

int vm_start(struct vm *vm, bool recovery)
{
	void *pool = objc_autoreleasePoolPush();
	int rc;
	if (recovery) {
		id opts = make("VZMacOSVirtualMachineStartOptions");
		SEND1(void, opts, "setStartUpFromMacOSRecovery:", bool, true);
		rc = on_queue(vm, "start the machine in recovery", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
			SEND2(void, m, "startWithOptions:completionHandler:", id, opts, vz_error_block, done);
		});
		release(opts);
	} else {
		rc = on_queue(vm, "start the machine", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
			SEND1(void, m, "startWithCompletionHandler:", vz_error_block, done);
		});
	}
	objc_autoreleasePoolPop(pool);
	return rc;
}

int vm_request_stop(struct vm *vm)
{
	__block bool ok = false;
	char why[512] = "";
	char *whyp = why;
	dispatch_sync(vm->queue, ^{
		void *p = objc_autoreleasePoolPush();
		id err = nil;
		bool can = SEND0(bool, vm->machine, "canRequestStop");
		ok = can && SEND1(bool, vm->machine, "requestStopWithError:", id *, &err);
		if (!can)
			snprintf(whyp, 512, "the machine is not running (canRequestStop is NO)");
		else if (!ok)
			error_text(err, whyp, 512);
		objc_autoreleasePoolPop(p);
	});
	return ok ? 0 : fail(EX_SOFTWARE, "the guest cannot be asked to stop: %s", why);
}

/* Is the machine off (Stopped, or Error after it died)? On its queue. */
static bool machine_off(id m)
{
	long state = SEND0(long, m, "state");
	return state == VZ_STATE_STOPPED || state == VZ_STATE_ERROR;
}

/* A machine already off — its guest shut down a moment ago, or it died — is what a forced stop
 * wants, whether it was off before the stop was sent or went off while the stop was on its way:
 * VZ answers that one with code 4, "Transition from state "stopped" to state "stopping" is
 * invalid" (VZ-API.md §7). Both decided on the queue, where the state changes. */
int vm_force_stop(struct vm *vm)
{
	return on_queue(vm, "stop the machine", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
		if (machine_off(m))
			done(nil);
		else
			SEND1(void, m, "stopWithCompletionHandler:", vz_error_block, ^(id err) {
				void *p = objc_autoreleasePoolPush();
				bool off = err && SEND0(long, err, "code") == VZ_ERROR_TRANSITION && machine_off(m);
				objc_autoreleasePoolPop(p);
				done(off ? nil : err);
			});
	});
}

int vm_pause(struct vm *vm)
{
	return on_queue(vm, "pause the machine", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
		SEND1(void, m, "pauseWithCompletionHandler:", vz_error_block, done);
	});
}

int vm_resume(struct vm *vm)
{
	return on_queue(vm, "resume the machine", VZ_DEADLINE_S, ^(id m, vz_error_block done) {
		SEND1(void, m, "resumeWithCompletionHandler:", vz_error_block, done);
	});
}

/* Save and restore exist from macOS 14, the oldest host claw runs on; only for a configuration
 * VZ said it can save (vm_create asked). */
int vm_can_save(struct vm *vm)
{
	return vm->savable ? 0 : fail(EX_UNAVAILABLE, "%s", vm->unsavable);
}

int vm_save(struct vm *vm, const char *path)
{
	if (vm_can_save(vm) < 0)
		return -1;
	void *pool = objc_autoreleasePoolPush();
	id url = file_url(path);
	int rc = on_queue(vm, "save the machine's state", VZ_SAVE_DEADLINE_S, ^(id m, vz_error_block done) {
		SEND2(void, m, "saveMachineStateToURL:completionHandler:", id, url, vz_error_block, done);
	});
	objc_autoreleasePoolPop(pool);
	return rc;
}

int vm_restore(struct vm *vm, const char *path)
{
	if (vm_can_save(vm) < 0)
		return -1;
	void *pool = objc_autoreleasePoolPush();
	id url = file_url(path);
	int rc = on_queue(vm, "restore the machine's state", VZ_SAVE_DEADLINE_S, ^(id m, vz_error_block done) {
		SEND2(void, m, "restoreMachineStateFromURL:completionHandler:", id, url, vz_error_block, done);
	});
	objc_autoreleasePoolPop(pool);
	return rc;
}

void vm_wait(struct vm *vm, int timeout_ms, struct vm_event *ev)
{
	vm_events_wait(&vm->events, timeout_ms, ev);
}

/* ---- the newest image this host runs ----------------------------------- */

#define LATEST_WAIT_S 120 /* Apple's catalog over the network: long enough, never forever */

enum { LATEST_PENDING, LATEST_ANSWERED, LATEST_ABANDONED };

/* Shared by the waiter and the handler. Whoever comes second frees it: the waiter once it was
 * answered (the handler touches nothing after its signal), the handler when the waiter gave up. */
struct latest {
	dispatch_semaphore_t done;
	int state;
	bool found;
	char url[4096], why[512];
};

static void latest_free(struct latest *l)
{
	dispatch_release(l->done);
	free(l);
}

int vm_latest_supported(char *url, size_t size)
{
	/* Nil off Apple silicon (the class is arm64-only), where no completion would ever come. */
	id image_class = CLASS("VZMacOSRestoreImage");
	if (!image_class)
		return fail(EX_UNAVAILABLE, VM_NEEDS);
	struct latest *l = xcalloc(1, sizeof *l);
	l->done = dispatch_semaphore_create(0);
	void *pool = objc_autoreleasePoolPush();
	/* The handler runs on an arbitrary thread (no machine exists); the image's URL is read there,
	 * before the handler's pool pops. */
	SEND1(void, image_class, "fetchLatestSupportedWithCompletionHandler:", vz_image_block, ^(id image, id err) {
		void *p = objc_autoreleasePoolPush();
		id u = image ? SEND0(id, image, "URL") : nil;
		if (u) {
			string_copy(SEND0(id, u, "absoluteString"), l->url, sizeof l->url);
			l->found = l->url[0] != '\0';
		} else {
			error_text(err, l->why, sizeof l->why);
		}
		objc_autoreleasePoolPop(p);
		if (__atomic_exchange_n(&l->state, LATEST_ANSWERED, __ATOMIC_ACQ_REL) == LATEST_ABANDONED)
			latest_free(l);
		else
			dispatch_semaphore_signal(l->done);
	});
	objc_autoreleasePoolPop(pool);
	dispatch_time_t deadline = dispatch_time(DISPATCH_TIME_NOW, (int64_t)LATEST_WAIT_S * 1000 * (int64_t)NSEC_PER_MSEC);
	if (dispatch_semaphore_wait(l->done, deadline) != 0) {
		if (__atomic_exchange_n(&l->state, LATEST_ABANDONED, __ATOMIC_ACQ_REL) == LATEST_PENDING)
			return fail(EX_TEMPFAIL, "Virtualization.framework did not say which macOS this host runs within %d s",
				    LATEST_WAIT_S);
		dispatch_semaphore_wait(l->done, DISPATCH_TIME_FOREVER); /* answered as the wait ran out: its signal is on its way */
	}
	int rc = 0;
	if (!l->found)
		rc = fail(EX_TEMPFAIL, "Virtualization.framework cannot say which macOS this host runs: %s", l->why);
	else if ((size_t)snprintf(url, size, "%s", l->url) >= size)
		rc = fail(EX_SOFTWARE, "the restore image's URL is longer than %zu bytes", size);
	latest_free(l);
	return rc;
}
