/* Restore images, auxiliary storage and VZMacOSInstaller in the model, driven as a
 * client drives them: t_install SCENARIO DIR. */
#include "client.h"

#include <pthread.h>
#include <time.h>

static const char *DIR_;
static pthread_t main_thread;

static void path_in(char *out, size_t len, const char *name) { snprintf(out, len, "%s/%s", DIR_, name); }

/* ---- restore images ---- */

static int image(void)
{
	char ipsw[1024];
	path_in(ipsw, sizeof ipsw, "image.ipsw");
	make_ipsw(ipsw);
	__block bool elsewhere = false;
	__block id kept = nil;
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	void *p = push();
	SEND2(void, CLASS("VZMacOSRestoreImage"), "loadFileURL:completionHandler:", id, file_url(ipsw), vz_image_block,
		^(id img, id error) {
			(void)error;
			elsewhere = !pthread_equal(pthread_self(), main_thread);
			kept = retain(img);
			dispatch_semaphore_signal(done);
		});
	pop(p);
	EXPECT(wait_ms(done, 3000), "no callback");
	p = push();
	EXPECT(kept, "no image");
	struct ns_os_version v = SEND0(struct ns_os_version, kept, "operatingSystemVersion");
	id req = SEND0(id, kept, "mostFeaturefulSupportedConfiguration");
	printf("callback on another thread: %s\n", elsewhere ? "yes" : "no");
	printf("version %ld.%ld.%ld build %s supported %d\n", v.major, v.minor, v.patch,
		utf8(SEND0(id, kept, "buildVersion")), SEND0(bool, kept, "isSupported"));
	if (req)
		printf("requirements: %lu CPUs, %llu bytes, hardware model supported %d\n",
			SEND0(unsigned long, req, "minimumSupportedCPUCount"),
			(unsigned long long)SEND0(uint64_t, req, "minimumSupportedMemorySize"),
			SEND0(bool, SEND0(id, req, "hardwareModel"), "isSupported"));
	else
		puts("requirements: none");
	printf("URL %s\n", utf8(SEND0(id, SEND0(id, kept, "URL"), "path")));
	release(kept);
	pop(p);
	dispatch_release(done);
	return 0;
}

static int image_error(const char *name, const char *contents)
{
	char ipsw[1024];
	path_in(ipsw, sizeof ipsw, name);
	if (contents)
		make_file(ipsw, 64, contents);
	struct loaded l = load_image(ipsw);
	void *p = push();
	printf("image %s, error %ld: %s\n", l.image ? "yes" : "no", l.error ? err_code(l.error) : 0L,
		l.error ? err_text(l.error) : "");
	release(l.error);
	release(l.image);
	pop(p);
	return 0;
}

static int image_missing(void) { return image_error("missing.ipsw", NULL); }
static int image_invalid(void) { return image_error("text.ipsw", "not a zip archive"); }

static int image_https(void)
{
	void *p = push();
	id url = SEND1(id, CLASS("NSURL"), "URLWithString:", id, str("https://example.com/UniversalMac.ipsw"));
	SEND2(void, CLASS("VZMacOSRestoreImage"), "loadFileURL:completionHandler:", id, url, vz_image_block,
		^(id i, id e) {
			(void)i;
			(void)e;
		});
	pop(p);
	return 0;
}

/* The image is autoreleased in the callback's pool: a client that keeps it without retaining it
 * holds a freed object. */
static int image_not_retained(void)
{
	char ipsw[1024];
	path_in(ipsw, sizeof ipsw, "image.ipsw");
	make_ipsw(ipsw);
	__block id borrowed = nil;
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	void *p = push();
	SEND2(void, CLASS("VZMacOSRestoreImage"), "loadFileURL:completionHandler:", id, file_url(ipsw), vz_image_block,
		^(id img, id error) {
			(void)error;
			borrowed = img;
			dispatch_semaphore_signal(done);
		});
	pop(p);
	wait_ms(done, 3000);
	usleep(50 * 1000);
	SEND0(id, borrowed, "buildVersion");
	return 0;
}

static int fetch(void)
{
	__block id url_text = nil;
	__block long code = 0;
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	SEND1(void, CLASS("VZMacOSRestoreImage"), "fetchLatestSupportedWithCompletionHandler:", vz_image_block,
		^(id img, id error) {
			void *p = push();
			if (img)
				url_text = retain(SEND0(id, SEND0(id, img, "URL"), "absoluteString"));
			code = error ? err_code(error) : 0;
			pop(p);
			dispatch_semaphore_signal(done);
		});
	EXPECT(wait_ms(done, 3000), "no callback");
	printf("fetched: %s, error %ld\n", url_text ? utf8(url_text) : "nothing", code);
	release(url_text);
	dispatch_release(done);
	return 0;
}

/* ---- auxiliary storage ---- */

static int aux_exists(void)
{
	char aux[1024];
	path_in(aux, sizeof aux, "aux.img");
	struct identity ident = make_identity(DIR_); /* creates aux.img (with the overwrite option) */
	void *p = push();
	id err = nil;
	id again = SEND4(id, alloc_of("VZMacAuxiliaryStorage"), "initCreatingStorageAtURL:hardwareModel:options:error:", id,
		file_url(aux), id, ident.hw, unsigned long, 0, id *, &err);
	printf("without overwrite: %s (%s)\n", again ? "created" : "refused", err ? err_text(err) : "");
	release(again);
	err = nil;
	id over = SEND4(id, alloc_of("VZMacAuxiliaryStorage"), "initCreatingStorageAtURL:hardwareModel:options:error:", id,
		file_url(aux), id, ident.hw, unsigned long, 1, id *, &err);
	printf("with overwrite: %s\n", over ? "created" : err_text(err));
	release(over);
	pop(p);
	drop_identity(&ident);
	return 0;
}

/* ---- the installer ---- */

struct install {
	struct identity ident;
	id config, vm, installer;
	dispatch_queue_t q;
	char ipsw[1024], disk[1024];
};

static struct install prepare(void)
{
	struct install in;
	memset(&in, 0, sizeof in);
	in.ident = make_identity(DIR_);
	struct machine_opts o = { 0 };
	in.config = make_config(DIR_, &in.ident, &o);
	path_in(in.ipsw, sizeof in.ipsw, "test.ipsw");
	path_in(in.disk, sizeof in.disk, "disk.img");
	in.q = dispatch_queue_create("test.install", DISPATCH_QUEUE_SERIAL);
	in.vm = SEND2(id, alloc_of("VZVirtualMachine"), "initWithConfiguration:queue:", id, in.config, dispatch_queue_t, in.q);
	__block id installer = nil;
	id vm = in.vm;
	const char *ipsw = in.ipsw;
	dispatch_sync(in.q, ^{
		void *p = push();
		installer = SEND2(id, alloc_of("VZMacOSInstaller"), "initWithVirtualMachine:restoreImageURL:", id, vm, id,
			file_url(ipsw));
		pop(p);
	});
	in.installer = installer;
	return in;
}

static void dispose(struct install *in)
{
	release(in->installer);
	release(in->vm);
	release(in->config);
	drop_identity(&in->ident);
	dispatch_release(in->q);
}

/* Install on the machine's queue and wait for the completion, reading the progress on the queue
 * meanwhile (VZ-API §8's polling). */
static struct result install(struct install *in, bool cancel_midway, double *fractions, int *nfractions)
{
	__block struct result r = { false, 0, "", false };
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	id installer = in->installer;
	dispatch_async(in->q, ^{
		void *p = push();
		SEND1(void, installer, "installWithCompletionHandler:", vz_error_block, ^(id error) {
			void *inner = push();
			r.called = true;
			r.code = error ? err_code(error) : 0;
			snprintf(r.text, sizeof r.text, "%s", error ? err_text(error) : "");
			pop(inner);
			dispatch_semaphore_signal(done);
		});
		pop(p);
	});
	int n = 0;
	__block id progress = nil;
	dispatch_sync(in->q, ^{
		progress = retain(SEND0(id, installer, "progress"));
	});
	while (!wait_ms(done, 20)) {
		__block double f = 0;
		dispatch_sync(in->q, ^{
			f = SEND0(double, SEND0(id, installer, "progress"), "fractionCompleted");
		});
		if (fractions && n < 64)
			fractions[n++] = f;
		if (cancel_midway && f >= 0.3)
			SEND0(void, progress, "cancel"); /* NSProgress is thread-safe */
	}
	release(progress);
	if (nfractions)
		*nfractions = n;
	dispatch_release(done);
	return r;
}

static bool disk_locked(const char *disk)
{
	int fd = open(disk, O_RDWR);
	if (fd < 0)
		return false;
	bool locked = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return locked;
}

static long ms_since(struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int install_ok(void)
{
	struct install in = prepare();
	double fractions[64];
	int n = 0;
	struct result r = install(&in, false, fractions, &n);
	EXPECT(r.called && r.code == 0, "install failed: %s", r.text);
	bool rising = n > 1;
	for (int i = 1; i < n; i++)
		rising &= fractions[i] >= fractions[i - 1];
	printf("progress read %d times, never fell: %s, rose: %s\n", n, rising ? "yes" : "no",
		n > 1 && fractions[n - 1] > fractions[0] ? "yes" : "no");
	__block double final = 0;
	__block bool finished = false;
	__block long state = -1;
	dispatch_sync(in.q, ^{
		id progress = SEND0(id, in.installer, "progress");
		final = SEND0(double, progress, "fractionCompleted");
		finished = SEND0(bool, progress, "isFinished");
		state = SEND0(long, in.vm, "state");
	});
	printf("final %.2f finished %d machine state %ld\n", final, finished, state);
	/* DESIGN: wait for VZ's lock on the disk, do not sleep blindly. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool was_locked = disk_locked(in.disk);
	while (disk_locked(in.disk) && ms_since(&t0) < 5000)
		usleep(10 * 1000);
	printf("disk locked after completion: %s; free after about %ld ms\n", was_locked ? "yes" : "no",
		ms_since(&t0) / 100 * 100);
	char head[64] = "";
	int fd = open(in.disk, O_RDONLY);
	EXPECT(fd >= 0 && read(fd, head, sizeof head - 1) > 0, "cannot read the disk");
	close(fd);
	*strchr(head, '\n') = 0;
	printf("disk: %s\n", head);
	dispose(&in);
	return 0;
}

static int install_exit_early(void)
{
	struct install in = prepare();
	struct result r = install(&in, false, NULL, NULL);
	printf("install: %s\n", r.code ? r.text : "done");
	dispose(&in);
	return 0; /* without waiting for the disk lock */
}

static int start_too_soon(void)
{
	struct install in = prepare();
	struct result r = install(&in, false, NULL, NULL);
	EXPECT(r.code == 0, "install failed: %s", r.text);
	r = vm_op(in.q, in.vm, "startWithCompletionHandler:", nil);
	printf("start right after install: %ld %s\n", r.code, r.text);
	while (disk_locked(in.disk))
		usleep(10 * 1000);
	dispose(&in);
	return 0;
}

static int install_error(bool cancel)
{
	struct install in = prepare();
	struct result r = install(&in, cancel, NULL, NULL);
	printf("install: %ld %s\n", r.code, r.text);
	while (disk_locked(in.disk))
		usleep(10 * 1000);
	dispose(&in);
	return 0;
}

static int install_fail(void) { return install_error(false); }
static int install_cancel(void) { return install_error(true); }

static int cancel_before(void)
{
	struct install in = prepare();
	dispatch_sync(in.q, ^{
		SEND0(void, SEND0(id, in.installer, "progress"), "cancel");
	});
	return 0;
}

static int install_twice(void)
{
	struct install in = prepare();
	install(&in, false, NULL, NULL);
	install(&in, false, NULL, NULL);
	return 0;
}

static int installer_off_queue(void)
{
	struct install in = prepare();
	void *p = push();
	SEND2(id, alloc_of("VZMacOSInstaller"), "initWithVirtualMachine:restoreImageURL:", id, in.vm, id, file_url(in.ipsw));
	pop(p);
	return 0;
}

static int stop_during_install(void)
{
	struct install in = prepare();
	dispatch_async(in.q, ^{
		void *p = push();
		SEND1(void, in.installer, "installWithCompletionHandler:", vz_error_block, ^(id e) {
			(void)e;
		});
		SEND1(void, in.vm, "stopWithCompletionHandler:", vz_error_block, ^(id e) {
			(void)e;
		});
		pop(p);
	});
	sleep(2);
	return 0;
}

/* KVO from C (VZ-API §8): an observer of fractionCompleted hears the progress rise, on whatever
 * thread updates it, and removes itself before it is freed. */
static int kvo_calls;

static void observe(id self, SEL cmd, id key, id obj, id change, void *ctx)
{
	(void)self, (void)cmd, (void)key, (void)obj, (void)change, (void)ctx;
	__atomic_add_fetch(&kvo_calls, 1, __ATOMIC_SEQ_CST);
}

static id make_observer(void)
{
	Class c = objc_allocateClassPair(objc_getClass("NSObject"), "ClawTestObserver", 0);
	class_addMethod(c, sel_registerName("observeValueForKeyPath:ofObject:change:context:"), (IMP)observe, "v@:@@@^v");
	objc_registerClassPair(c);
	return SEND0(id, SEND0(id, (id)c, "alloc"), "init");
}

static int kvo(bool remove)
{
	struct install in = prepare();
	id observer = make_observer();
	dispatch_sync(in.q, ^{
		void *p = push();
		SEND4(void, SEND0(id, in.installer, "progress"), "addObserver:forKeyPath:options:context:", id, observer, id,
			str("fractionCompleted"), unsigned long, 1, void *, NULL);
		pop(p);
	});
	if (!remove)
		release(observer); /* freed while still registered */
	struct result r = install(&in, false, NULL, NULL);
	EXPECT(r.code == 0, "install failed: %s", r.text);
	printf("observer notified: %s\n", kvo_calls > 3 ? "yes" : "no");
	if (remove) {
		dispatch_sync(in.q, ^{
			void *p = push();
			SEND2(void, SEND0(id, in.installer, "progress"), "removeObserver:forKeyPath:", id, observer, id,
				str("fractionCompleted"));
			pop(p);
		});
		release(observer);
	}
	while (disk_locked(in.disk))
		usleep(10 * 1000);
	dispose(&in);
	return 0;
}

static int kvo_ok(void) { return kvo(true); }
static int kvo_freed(void) { return kvo(false); }

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} scenarios[] = {
		{ "image", image }, { "image-missing", image_missing }, { "image-invalid", image_invalid },
		{ "image-https", image_https }, { "image-not-retained", image_not_retained }, { "fetch", fetch },
		{ "aux-exists", aux_exists }, { "install", install_ok }, { "install-exit-early", install_exit_early },
		{ "start-too-soon", start_too_soon }, { "install-fail", install_fail }, { "install-cancel", install_cancel },
		{ "cancel-before", cancel_before }, { "install-twice", install_twice },
		{ "installer-off-queue", installer_off_queue }, { "stop-during-install", stop_during_install },
		{ "kvo", kvo_ok }, { "kvo-freed", kvo_freed },
	};
	if (argc < 3) {
		fprintf(stderr, "usage: t_install SCENARIO DIR\n");
		return 64;
	}
	DIR_ = argv[2];
	main_thread = pthread_self();
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return scenarios[i].fn();
	fprintf(stderr, "t_install: no scenario %s\n", argv[1]);
	return 64;
}
