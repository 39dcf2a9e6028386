/* darwin-model/vz_image: restore images and the installer — VZMacOSRestoreImage
 * (loaded from a local .ipsw or "fetched" from the catalog, its metadata set by
 * the test), VZMacOSConfigurationRequirements, and VZMacOSInstaller (on the
 * machine's queue, a rising progress, a completion on that queue, and the lock
 * VZ keeps on the disk for a while after it).
 *
 * Sources: VZMacOSRestoreImage.h (14.5 SDK, arm64 only), VZ-API.md §2 ("call back
 * on an arbitrary thread"), §3, §8 (installer rules: VM queue, local file URL or
 * it raises, calling install twice raises, cancelling the progress before install
 * raises, code 9 when cancelled), §9 (10004–10007); DESIGN.md ("After
 * VZMacOSInstaller finishes, VZ keeps a lock on the disk for a few seconds"). */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct image {
	struct objc_object o;
	id url, build, requirements;
	struct ns_os_version version;
	bool supported;
};
#define IMG(o) ((struct image *)(o))

struct requirements {
	struct objc_object o;
	id hw;
	unsigned long cpu;
	uint64_t ram;
};
#define REQ(o) ((struct requirements *)(o))

struct installer {
	struct objc_object o;
	id vm, url, progress;
	bool started;
	vz_error_block done;
};
#define INS(o) ((struct installer *)(o))

/* ---------------------------------------------------------------- what the test says the image is */

struct image_meta {
	struct ns_os_version version;
	char version_text[32];
	char build[32];
	bool supported;
	unsigned long min_cpu;
	uint64_t min_ram;
};

static struct image_meta image_meta(void)
{
	struct image_meta m = { { 15, 2, 0 }, "", "", true, 0, 0 };
	const char *v = env_str("CLAW_MODEL_IMAGE_VERSION", "15.2");
	snprintf(m.version_text, sizeof m.version_text, "%s", v);
	if (sscanf(v, "%ld.%ld.%ld", &m.version.major, &m.version.minor, &m.version.patch) < 2)
		model_violation("model-setup", "CLAW_MODEL_IMAGE_VERSION='%s' is not a version (15.2, 15.2.1)", v);
	snprintf(m.build, sizeof m.build, "%s", env_str("CLAW_MODEL_IMAGE_BUILD", "24C101"));
	m.supported = env_long("CLAW_MODEL_IMAGE_SUPPORTED", 1) != 0;
	m.min_cpu = (unsigned long)env_long("CLAW_MODEL_IMAGE_MIN_CPU", 2);
	m.min_ram = (uint64_t)env_long("CLAW_MODEL_IMAGE_MIN_RAM", 4L << 30);
	return m;
}

static id requirements_new(const struct image_meta *m)
{
	id r = model_new("VZMacOSConfigurationRequirements");
	char *data = hw_model_data(V(12, 0), 2);
	REQ(r)->hw = model_hold(hw_model_new(data, strlen(data)));
	model_release(REQ(r)->hw);
	free(data);
	REQ(r)->cpu = m->min_cpu;
	REQ(r)->ram = m->min_ram;
	return r;
}

static id image_new(id url, const struct image_meta *m)
{
	id img = model_new("VZMacOSRestoreImage");
	IMG(img)->url = model_hold(url);
	IMG(img)->build = model_hold(ns_string(m->build));
	IMG(img)->version = m->version;
	IMG(img)->supported = m->supported;
	if (m->supported) {
		id r = requirements_new(m);
		IMG(img)->requirements = model_hold(r);
		model_release(r);
	}
	return img;
}

static void image_dealloc(id self)
{
	model_drop(IMG(self)->url);
	model_drop(IMG(self)->build);
	model_drop(IMG(self)->requirements);
	IMG(self)->url = IMG(self)->build = IMG(self)->requirements = nil;
}

static void requirements_dealloc(id self)
{
	model_drop(REQ(self)->hw);
	REQ(self)->hw = nil;
}

/* ---------------------------------------------------------------- loading */

/* Is this an IPSW at all? It is a zip archive: it starts with a local file header. */
static const char *ipsw_problem(const char *path, long *code)
{
	static char why[PATH_MAX + 64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*code = VZ_IMAGE_LOAD;
		snprintf(why, sizeof why, "The file “%s” couldn’t be opened: %s.",
			strrchr(path, '/') ? strrchr(path, '/') + 1 : path, strerror(errno));
		return why;
	}
	char magic[4] = "";
	ssize_t n = read(fd, magic, 4);
	close(fd);
	if (n != 4 || memcmp(magic, "PK\003\004", 4)) {
		*code = VZ_INVALID_IMAGE;
		return "The restore image is invalid.";
	}
	return NULL;
}

/* The callback runs on a thread of its own (VZ-API §2, §12 item 3), the image and the error
 * autoreleased in the framework's pool: a client keeps the image by retaining it. */
static void deliver_image(vz_image_block blk, id url, long code, const char *why, bool fetched)
{
	char *reason = strdup(why ? why : "");
	model_elsewhere(env_long("CLAW_MODEL_LOAD_MS", 10), ^{
		void *pool = model_pool_push(false);
		id image = nil, error = nil;
		if (code)
			error = ns_error(VZ_DOMAIN, code, fetched ? "Failed to fetch the restore image catalog."
				: "Failed to load the restore image.", reason, nil);
		else {
			struct image_meta m = image_meta();
			image = model_autorelease(image_new(url, &m));
		}
		model_pool_seal();
		blk(image, error);
		model_pool_pop(pool);
		Block_release(blk);
		model_drop(url);
		free(reason);
	});
}

static void ri_load(id cls, SEL c, id url, vz_image_block handler)
{
	(void)cls;
	model_check_object(url, "+[VZMacOSRestoreImage loadFileURL:completionHandler:]");
	if (!url || !ns_url_is_file(url))
		model_violation("invalid-argument", "+[VZMacOSRestoreImage %s] needs a local file URL, got %s (VZ-API §3: "
			"fetchLatestSupported gives an https URL; download it first)", model_sel_name(c),
			url ? ns_url_abs(url) : "nil");
	if (!handler)
		model_violation("invalid-argument", "+[VZMacOSRestoreImage %s] with a NULL completion handler",
			model_sel_name(c));
	long code = 0;
	const char *why = NULL;
	if (!HOST.entitled) {
		code = VZ_IMAGE_LOAD;
		why = "The process doesn’t have the “com.apple.security.virtualization” entitlement.";
	} else
		why = ipsw_problem(ns_url_path(url), &code);
	deliver_image(Block_copy(handler), model_hold(url), code, why, false);
}

static void ri_fetch(id cls, SEL c, vz_image_block handler)
{
	(void)cls;
	if (!handler)
		model_violation("invalid-argument", "+[VZMacOSRestoreImage %s] with a NULL completion handler",
			model_sel_name(c));
	struct image_meta m = image_meta();
	char def[256];
	snprintf(def, sizeof def, "https://updates.cdn-apple.com/model/UniversalMac_%s_%s_Restore.ipsw", m.version_text,
		m.build);
	void *pool = model_pool_push(false);
	id string = ns_string(env_str("CLAW_MODEL_IMAGE_URL", def));
	IMP imp = model_find((id)model_class_named("NSURL"), sel_registerName("URLWithString:"), NULL);
	id url = ((id(*)(id, SEL, id))imp)((id)model_class_named("NSURL"), sel_registerName("URLWithString:"), string);
	model_hold(url);
	model_pool_pop(pool);
	bool fail = env_long("CLAW_MODEL_FETCH_FAIL", 0) != 0;
	deliver_image(Block_copy(handler), url, fail ? VZ_CATALOG_LOAD : 0,
		fail ? "The restore image catalog failed to load." : NULL, true);
}

static id ri_url(id self, SEL c)
{
	(void)c;
	return IMG(self)->url;
}

static id ri_build(id self, SEL c)
{
	(void)c;
	return IMG(self)->build;
}

static struct ns_os_version ri_version(id self, SEL c)
{
	(void)c;
	return IMG(self)->version;
}

static id ri_requirements(id self, SEL c)
{
	(void)c;
	return IMG(self)->requirements;
}

static bool ri_supported(id self, SEL c)
{
	(void)c;
	return IMG(self)->supported;
}

static id rq_hw(id self, SEL c)
{
	(void)c;
	return REQ(self)->hw;
}

static unsigned long rq_cpu(id self, SEL c)
{
	(void)c;
	return REQ(self)->cpu;
}

static uint64_t rq_ram(id self, SEL c)
{
	(void)c;
	return REQ(self)->ram;
}

/* ---------------------------------------------------------------- the installer */

static dispatch_queue_t installer_bound(id self)
{
	id vm = INS(self)->vm;
	return vm ? vm_queue(vm) : NULL;
}

static id in_init(id self, SEL c, id vm, id url)
{
	if (!vm || !model_alive(vm) || !model_is_kind(vm, "VZVirtualMachine"))
		model_violation("invalid-argument", "-[VZMacOSInstaller %s] needs a VZVirtualMachine, got %s",
			model_sel_name(c), vm ? model_class_name(vm) : "nil");
	/* VZ-API §8: "call on VM queue". */
	if (model_current_queue() != vm_queue(vm))
		model_violation("queue-affinity", "-[VZMacOSInstaller %s] called off the machine's queue '%s' (VZ-API §8)",
			model_sel_name(c), model_queue_label(vm_queue(vm)));
	if (!cfg_has_mac_platform(vm_snap(vm)))
		model_violation("installer-platform", "-[VZMacOSInstaller %s]: the machine has no Mac platform and macOS "
			"boot loader (VZ-API §8: \"VM must use a Mac platform\")", model_sel_name(c));
	model_check_object(url, "-[VZMacOSInstaller initWithVirtualMachine:restoreImageURL:]");
	if (!ns_url_is_file(url))
		model_violation("invalid-argument", "-[VZMacOSInstaller %s] with %s: the URL must be a local file or it "
			"raises (VZ-API §8)", model_sel_name(c), url ? ns_url_abs(url) : "nil");
	INS(self)->vm = model_hold(vm);
	INS(self)->url = model_hold(url);
	/* The installer's own: held as the model's, so that an installer still running when the
	 * process ends (the client gave it up) is not the client's leak; installer_dealloc drops it. */
	INS(self)->progress = model_hold(ns_progress_new(1000));
	model_release(INS(self)->progress);
	ns_progress_on_cancel(INS(self)->progress, ^{
	});
	model_mark_init(self);
	return self;
}

static void installer_dealloc(id self)
{
	model_drop(INS(self)->vm);
	model_drop(INS(self)->url);
	if (INS(self)->progress)
		ns_progress_on_cancel(INS(self)->progress, NULL);
	model_drop(INS(self)->progress);
	INS(self)->vm = INS(self)->url = INS(self)->progress = nil;
}

/* On the machine's queue: hand the client the result, let the machine go, keep the disk locked. */
static void install_finish(id self, long code, const char *failure, const char *reason)
{
	id vm = INS(self)->vm;
	vz_error_block blk = INS(self)->done;
	INS(self)->done = NULL;
	if (!code) {
		struct image_meta m = image_meta();
		bool ro;
		const char *disk = snap_disk(vm_snap(vm), 0, &ro);
		char mark[128];
		int n = snprintf(mark, sizeof mark, "claw-model-macos %s %s\n", m.version_text, m.build);
		int fd = disk ? open(disk, O_WRONLY | O_CLOEXEC) : -1;
		if (fd < 0 || pwrite(fd, mark, (size_t)n, 0) != n)
			model_trace("the installer could not write the disk: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	vm_slot_give(vm);
	vm_locks_keep_for(vm, env_long("CLAW_MODEL_DISK_LOCK_MS", 300));
	vm_installing(vm, false);
	vm_set_state(vm, VM_STOPPED);
	ns_progress_finish(INS(self)->progress);
	void *pool = model_pool_push(false);
	id error = code ? ns_error(VZ_DOMAIN, code, failure, reason, nil) : nil;
	model_pool_seal();
	blk(error);
	model_pool_pop(pool);
	Block_release(blk);
	model_drop(self);
}

/* The install itself runs elsewhere and reports progress from there, as NSProgress updates reach
 * KVO observers "on whatever thread updates the progress" (VZ-API §8). */
static void install_run(id self)
{
	long total = env_long("CLAW_MODEL_INSTALL_MS", 200);
	const char *fail = getenv("CLAW_MODEL_INSTALL_FAIL");
	dispatch_queue_t q = vm_queue(INS(self)->vm);
	model_elsewhere(0, ^{
		long code = 0;
		const char *failure = NULL, *reason = NULL;
		for (int step = 1; step <= 20; step++) {
			model_sleep_ms(total / 20);
			if (ns_progress_cancelled(INS(self)->progress)) {
				code = VZ_CANCELLED;
				failure = "The operation was cancelled.";
				reason = "The installation was cancelled.";
				break;
			}
			if (fail && *fail && step == 10) {
				code = VZ_INSTALL_FAILED;
				failure = "Installation failed.";
				reason = fail;
				break;
			}
			ns_progress_set(INS(self)->progress, step * 50);
		}
		char *r = strdup(reason ? reason : "");
		dispatch_async(q, ^{
			install_finish(self, code, failure, code ? r : NULL);
			free(r);
		});
	});
}

static void in_install(id self, SEL c, vz_error_block handler)
{
	if (!handler)
		model_violation("invalid-argument", "-[VZMacOSInstaller %s] with a NULL completion handler", model_sel_name(c));
	if (INS(self)->started)
		model_violation("installer-twice", "-[VZMacOSInstaller %s] called a second time raises (VZ-API §8)",
			model_sel_name(c));
	INS(self)->started = true;
	ns_progress_started(INS(self)->progress);
	INS(self)->done = Block_copy(handler);
	model_hold(self);
	id vm = INS(self)->vm;
	long code = 0;
	const char *failure = NULL, *reason = NULL;
	void *pool = model_pool_push(false);
	id error = nil;
	if (vm_state(vm) != VM_STOPPED) {
		code = VZ_INVALID_STATE;
		failure = "Invalid virtual machine state.";
		reason = "The virtual machine must be stopped to install macOS.";
	} else if ((reason = ipsw_problem(ns_url_path(INS(self)->url), &code))) {
		failure = "Failed to load the restore image.";
	} else if (!image_meta().supported) {
		code = VZ_REQUIRES_UPDATE;
		failure = "Installation requires a software update.";
		reason = "This restore image is not supported on this host.";
	} else if (!vm_slot_take(vm, &error) || !vm_locks_take(vm, &error)) {
		vm_slot_give(vm);
		code = ns_error_code(error);
		failure = ns_error_string(error, "NSLocalizedFailure");
		reason = ns_error_string(error, "NSLocalizedFailureReason");
		if (!reason)
			reason = ns_error_string(error, "NSLocalizedDescription");
	}
	char *why = strdup(reason ? reason : ""), *fail_text = strdup(failure ? failure : "");
	model_pool_pop(pool);
	if (code) {
		dispatch_queue_t q = vm_queue(vm);
		model_after(q, 0, ^{
			id v = INS(self)->vm;
			vz_error_block blk = INS(self)->done;
			INS(self)->done = NULL;
			ns_progress_finish(INS(self)->progress);
			void *p = model_pool_push(false);
			id e = ns_error(VZ_DOMAIN, code, fail_text, why, nil);
			model_pool_seal();
			blk(e);
			model_pool_pop(p);
			Block_release(blk);
			(void)v;
			free(why);
			free(fail_text);
			model_drop(self);
		});
		return;
	}
	free(why);
	free(fail_text);
	vm_installing(vm, true);
	vm_set_state(vm, VM_RUNNING);
	install_run(self);
}

static id in_progress(id self, SEL c)
{
	(void)c;
	return INS(self)->progress;
}

static id in_vm(id self, SEL c)
{
	(void)c;
	return INS(self)->vm;
}

static id in_url(id self, SEL c)
{
	(void)c;
	return INS(self)->url;
}

/* ---------------------------------------------------------------- the classes */

void vz_image_classes(void)
{
	static const struct mdef ri_i[] = {
		MD("URL", "@@:", ri_url, V(12, 0)),
		MD("buildVersion", "@@:", ri_build, V(12, 0)),
		MD("operatingSystemVersion", "{NSOperatingSystemVersion=qqq}@:", ri_version, V(12, 0)),
		MD("mostFeaturefulSupportedConfiguration", "@@:", ri_requirements, V(12, 0)),
		MD("isSupported", "B@:", ri_supported, V(13, 0)),
		MDEF_END,
	};
	static const struct mdef ri_c[] = {
		MD("loadFileURL:completionHandler:", "v@:@@?", ri_load, V(12, 0)),
		MD("fetchLatestSupportedWithCompletionHandler:", "v@:@?", ri_fetch, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMacOSRestoreImage", "NSObject", sizeof(struct image), V(12, 0), C_ARM64 | C_NOINIT, image_dealloc,
		ri_i, ri_c);

	static const struct mdef rq_i[] = {
		MD("hardwareModel", "@@:", rq_hw, V(12, 0)),
		MD("minimumSupportedCPUCount", "Q@:", rq_cpu, V(12, 0)),
		MD("minimumSupportedMemorySize", "Q@:", rq_ram, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMacOSConfigurationRequirements", "NSObject", sizeof(struct requirements), V(12, 0),
		C_ARM64 | C_NOINIT, requirements_dealloc, rq_i, NULL);

	static const struct mdef in_i[] = {
		MD("initWithVirtualMachine:restoreImageURL:", "@@:@@", in_init, V(12, 0)),
		MD("installWithCompletionHandler:", "v@:@?", in_install, V(12, 0)),
		MD("progress", "@@:", in_progress, V(12, 0)),
		MD("virtualMachine", "@@:", in_vm, V(12, 0)),
		MD("restoreImageURL", "@@:", in_url, V(12, 0)),
		MDEF_END,
	};
	Class in = model_class("VZMacOSInstaller", "NSObject", sizeof(struct installer), V(12, 0), C_ARM64 | C_NOINIT,
		installer_dealloc, in_i, NULL);
	in->bound_queue = installer_bound;
}
