/* The model's runtime, GCD, Foundation and host, driven through objc.h's SENDn as a
 * client drives them: t_runtime SCENARIO (tests/darwin-model.bats runs each). */
#include "client.h"

#include <math.h>
#include <pthread.h>

void claw_model_dump_selectors(FILE *out);

static int nil_messages(void)
{
	void *p = push();
	__block bool called = false;
	id none = nil;
	EXPECT(SEND0(long, none, "state") == 0, "a long from nil is not 0");
	EXPECT(SEND0(id, none, "description") == nil, "an object from nil is not nil");
	EXPECT(!SEND0(bool, none, "isSupported"), "a bool from nil is not NO");
	EXPECT(SEND0(double, none, "fractionCompleted") == 0.0, "a double from nil is not 0.0");
	SEND2(void, none, "loadFileURL:completionHandler:", id, file_url("/x.ipsw"), vz_image_block, ^(id i, id e) {
		(void)i;
		(void)e;
		called = true;
	});
	usleep(100 * 1000);
	EXPECT(!called, "a message to nil called its completion block");
	pop(p);
	return 0;
}

/* On an Intel build (or under Rosetta) the Mac classes are not there (VZ-API §12 item 12). */
static int x86_classes(void)
{
	EXPECT(!objc_getClass("VZMacOSRestoreImage"), "VZMacOSRestoreImage exists on x86_64");
	EXPECT(!objc_getClass("VZMacPlatformConfiguration"), "VZMacPlatformConfiguration exists on x86_64");
	EXPECT(!objc_getClass("VZMacOSInstaller"), "VZMacOSInstaller exists on x86_64");
	EXPECT(objc_getClass("VZMacGraphicsDeviceConfiguration"), "VZMacGraphicsDeviceConfiguration is missing");
	EXPECT(objc_getClass("VZVirtualMachineConfiguration"), "VZVirtualMachineConfiguration is missing");
	EXPECT(objc_getClass("VZMACAddress"), "VZMACAddress is missing");
	__block bool called = false;
	void *p = push();
	SEND2(void, CLASS("VZMacOSRestoreImage"), "loadFileURL:completionHandler:", id, file_url("/x.ipsw"), vz_image_block,
		^(id i, id e) {
			(void)i;
		(void)e;
			called = true;
		});
	pop(p);
	usleep(150 * 1000);
	EXPECT(!called, "loadFileURL: sent to Nil called back");
	return 0;
}

static int x86_save_validate(void)
{
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	id err = nil;
	SEND1(bool, config, "validateSaveRestoreSupportWithError:", id *, &err); /* arm64 only: raises */
	release(config);
	pop(p);
	return 0;
}

static int unrecognized(void)
{
	void *p = push();
	id o = make("NSObject");
	SEND0(void, o, "startWithCompletionHandlr");
	pop(p);
	return 0;
}

/* usbControllers is macOS 15: on 14 it is an unrecognized selector. */
static int above_host(void)
{
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	bool responds = class_respondsToSelector(objc_getClass("VZVirtualMachineConfiguration"), sel_registerName("usbControllers"));
	printf("responds %d\n", responds);
	fflush(stdout);
	id a = SEND0(id, config, "usbControllers");
	EXPECT(a && SEND0(unsigned long, a, "count") == 0, "usbControllers is not an empty array");
	release(config);
	pop(p);
	puts("ok");
	return 0;
}

static int prototype_int(void)
{
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	SEND1(void, config, "setCPUCount:", int, 4); /* the method takes an unsigned long */
	release(config);
	pop(p);
	return 0;
}

static int prototype_return(void)
{
	void *p = push();
	id u = file_url("/tmp");
	int yes = SEND0(int, u, "isFileURL"); /* BOOL is bool: "Do not cast a bool-returning method to an int prototype" */
	(void)yes;
	pop(p);
	return 0;
}

static int prototype_ok(void)
{
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	SEND1(void, config, "setCPUCount:", unsigned long, 4);
	SEND1(void, config, "setMemorySize:", uint64_t, 8ull << 30);
	EXPECT(SEND0(unsigned long, config, "CPUCount") == 4, "CPUCount");
	EXPECT(SEND0(uint64_t, config, "memorySize") == 8ull << 30, "memorySize");
	release(config);
	pop(p);
	puts("ok");
	return 0;
}

static int freed(void)
{
	id s = SEND1(id, alloc_of("NSString"), "initWithUTF8String:", const char *, "short-lived");
	release(s);
	SEND0(unsigned long, s, "length");
	return 0;
}

static int over_release(void)
{
	id o = make("NSObject");
	release(o);
	release(o);
	return 0;
}

static int leak(void)
{
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	(void)config; /* never released */
	id kept = retain(str("kept past its pool"));
	(void)kept;
	pop(p);
	puts("ok");
	return 0;
}

static int no_leak(void)
{
	void *p = push();
	id config = make("VZVirtualMachineConfiguration");
	id boot = make("VZMacOSBootLoader");
	SEND1(void, config, "setBootLoader:", id, boot);
	release(boot);
	id s = retain(str("kept, then given back"));
	release(s);
	release(config);
	dispatch_queue_t q = dispatch_queue_create("test.balanced", DISPATCH_QUEUE_SERIAL);
	dispatch_release(q);
	pop(p);
	puts("ok");
	return 0;
}

static int queue_leak(void)
{
	dispatch_queue_t q = dispatch_queue_create("test.forgotten", DISPATCH_QUEUE_SERIAL);
	(void)q;
	puts("ok");
	return 0;
}

static int no_pool(void)
{
	str("autoreleased with no pool");
	return 0;
}

static void *pop_elsewhere(void *token)
{
	pop(token);
	return NULL;
}

static int pool_other_thread(void)
{
	void *token = push();
	pthread_t t;
	pthread_create(&t, NULL, pop_elsewhere, token);
	pthread_join(t, NULL);
	return 0;
}

static int callback_pool(void)
{
	/* A completion handler that autoreleases without its own pool. */
	char dir[] = "/tmp/claw-model-XXXXXX";
	EXPECT(mkdtemp(dir), "mkdtemp");
	char ipsw[64];
	snprintf(ipsw, sizeof ipsw, "%s/a.ipsw", dir);
	make_ipsw(ipsw);
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	void *p = push();
	SEND2(void, CLASS("VZMacOSRestoreImage"), "loadFileURL:completionHandler:", id, file_url(ipsw), vz_image_block,
		^(id image, id error) {
			(void)image;
			(void)error;
			str("autoreleased in the framework's pool");
			dispatch_semaphore_signal(done);
		});
	pop(p);
	wait_ms(done, 2000);
	return 0;
}

static int uninitialized(void)
{
	void *p = push();
	id config = alloc_of("VZVirtualMachineConfiguration");
	SEND1(void, config, "setCPUCount:", unsigned long, 2);
	pop(p);
	return 0;
}

static int init_unavailable(void)
{
	void *p = push();
	id hw = make("VZMacHardwareModel"); /* init is NS_UNAVAILABLE: initWithDataRepresentation: */
	(void)hw;
	pop(p);
	return 0;
}

static int class_pair(void)
{
	void *p = push();
	id d = make_delegate();
	Class c = objc_getClass("ClawTestDelegate");
	EXPECT(c, "the registered class is not found");
	EXPECT(class_respondsToSelector(c, sel_registerName("guestDidStopVirtualMachine:")), "class_respondsToSelector");
	EXPECT(!class_respondsToSelector(c, sel_registerName("virtualMachine:networkDevice:attachmentWasDisconnectedWithError:")),
		"responds to a method it does not have");
	EXPECT(SEND1(bool, d, "respondsToSelector:", SEL, sel_registerName("virtualMachine:didStopWithError:")),
		"-respondsToSelector:");
	EXPECT(SEND1(bool, d, "isKindOfClass:", Class, objc_getClass("NSObject")), "isKindOfClass: NSObject");
	EXPECT(!objc_allocateClassPair(objc_getClass("NSObject"), "ClawTestDelegate", 0), "a second class of the same name");
	EXPECT(!class_addMethod(c, sel_registerName("guestDidStopVirtualMachine:"), (IMP)on_guest_stop, "v@:@"),
		"class_addMethod twice");
	EXPECT(objc_getProtocol("VZVirtualMachineDelegate"), "no VZVirtualMachineDelegate protocol");
	EXPECT(!class_addProtocol(c, objc_getProtocol("VZVirtualMachineDelegate")), "the protocol added twice");
	EXPECT(SEND0(unsigned long, d, "retainCount") == 1, "retainCount of a new object");
	release(d);
	dispatch_release(DLOG.stopped);
	pop(p);
	puts("ok");
	return 0;
}

static int sysctls(void)
{
	int v = -1;
	size_t len = sizeof v;
	int rc = sysctlbyname("hw.optional.arm64", &v, &len, NULL, 0);
	printf("hw.optional.arm64 %s\n", rc ? (errno == ENOENT ? "ENOENT" : "error") : (v ? "1" : "0"));
	len = sizeof v;
	rc = sysctlbyname("sysctl.proc_translated", &v, &len, NULL, 0);
	printf("sysctl.proc_translated %s\n", rc ? (errno == ENOENT ? "ENOENT" : "error") : (v ? "1" : "0"));
	len = sizeof v;
	sysctlbyname("hw.ncpu", &v, &len, NULL, 0);
	printf("hw.ncpu %d\n", v);
	int64_t mem = 0;
	len = sizeof mem;
	sysctlbyname("hw.memsize", &mem, &len, NULL, 0);
	printf("hw.memsize %lld\n", (long long)mem);
	char ver[32];
	len = sizeof ver;
	sysctlbyname("kern.osproductversion", ver, &len, NULL, 0);
	printf("kern.osproductversion %s\n", ver);
	len = 2;
	EXPECT(sysctlbyname("kern.osproductversion", ver, &len, NULL, 0) < 0 && errno == ENOMEM, "a short buffer");
	len = sizeof v;
	EXPECT(sysctlbyname("no.such.key", &v, &len, NULL, 0) < 0 && errno == ENOENT, "an unknown key");
	void *p = push();
	struct ns_os_version os = SEND0(struct ns_os_version, SEND0(id, CLASS("NSProcessInfo"), "processInfo"),
		"operatingSystemVersion");
	printf("NSProcessInfo %ld.%ld.%ld\n", os.major, os.minor, os.patch);
	struct ns_os_version want = { 14, 0, 0 };
	printf("atLeast14 %d\n", SEND1(bool, SEND0(id, CLASS("NSProcessInfo"), "processInfo"),
		"isOperatingSystemAtLeastVersion:", struct ns_os_version, want));
	printf("isSupported %d\n", SEND0(bool, CLASS("VZVirtualMachine"), "isSupported"));
	pop(p);
	return 0;
}

static int dispatch(void)
{
	dispatch_queue_t q = dispatch_queue_create("test.serial", DISPATCH_QUEUE_SERIAL);
	static int order[5];
	__block int n = 0;
	for (int i = 0; i < 5; i++)
		dispatch_async(q, ^{
			usleep(1000 * (5 - i));
			order[n++] = i;
		});
	__block bool ran = false;
	dispatch_sync(q, ^{
		ran = true;
	});
	EXPECT(ran && n == 5, "dispatch_sync ran before the queue's earlier blocks (%d)", n);
	for (int i = 0; i < 5; i++)
		EXPECT(order[i] == i, "serial order broken at %d", i);
	dispatch_semaphore_t s = dispatch_semaphore_create(0);
	EXPECT(!wait_ms(s, 50), "a wait on an empty semaphore succeeded");
	dispatch_async(q, ^{
		dispatch_semaphore_signal(s);
	});
	EXPECT(wait_ms(s, 2000), "the signal did not arrive");
	EXPECT(dispatch_semaphore_wait(s, DISPATCH_TIME_NOW) != 0, "DISPATCH_TIME_NOW did not time out at once");
	dispatch_release(s);
	dispatch_release(q);
	puts("ok");
	return 0;
}

static int dispatch_sync_self(void)
{
	dispatch_queue_t q = dispatch_queue_create("test.self", DISPATCH_QUEUE_SERIAL);
	dispatch_sync(q, ^{
		dispatch_sync(q, ^{
		});
	});
	return 0;
}

static int semaphore_in_use(void)
{
	dispatch_semaphore_t s = dispatch_semaphore_create(1);
	dispatch_semaphore_wait(s, DISPATCH_TIME_FOREVER);
	dispatch_release(s);
	return 0;
}

static int foundation(void)
{
	void *p = push();
	id s = str("héllo 🙂");
	EXPECT(SEND0(unsigned long, s, "length") == 8, "UTF-16 length %lu", SEND0(unsigned long, s, "length"));
	EXPECT(SEND1(bool, s, "isEqualToString:", id, str("héllo 🙂")), "isEqualToString:");
	EXPECT(!str("\xff\xfe"), "invalid UTF-8 gave a string");
	id u = SEND1(id, CLASS("NSURL"), "fileURLWithPath:", id, str("/tmp/a b/c.img"));
	EXPECT(!strcmp(utf8(SEND0(id, u, "path")), "/tmp/a b/c.img"), "path %s", utf8(SEND0(id, u, "path")));
	EXPECT(!strcmp(utf8(SEND0(id, u, "absoluteString")), "file:///tmp/a%20b/c.img"), "absoluteString %s",
		utf8(SEND0(id, u, "absoluteString")));
	EXPECT(SEND0(bool, u, "isFileURL"), "isFileURL");
	id w = SEND1(id, CLASS("NSURL"), "URLWithString:", id, str("https://example.com/x/UniversalMac.ipsw"));
	EXPECT(w && !SEND0(bool, w, "isFileURL"), "https URL");
	EXPECT(!strcmp(utf8(SEND0(id, w, "path")), "/x/UniversalMac.ipsw"), "https path");
	EXPECT(!SEND1(id, CLASS("NSURL"), "URLWithString:", id, str("not a url")), "a URL with spaces");
	id appended = SEND1(id, u, "URLByAppendingPathComponent:", id, str("d"));
	EXPECT(!strcmp(utf8(SEND0(id, appended, "path")), "/tmp/a b/c.img/d"), "appended path");
	const unsigned char bytes[] = { 0, 1, 2, 250, 251, 252, 253 };
	id d = SEND2(id, CLASS("NSData"), "dataWithBytes:length:", const void *, bytes, unsigned long, sizeof bytes);
	id b64 = SEND1(id, d, "base64EncodedStringWithOptions:", unsigned long, 0);
	EXPECT(!strcmp(utf8(b64), "AAEC+vv8/Q=="), "base64 %s", utf8(b64));
	id back = SEND2(id, alloc_of("NSData"), "initWithBase64EncodedString:options:", id, b64, unsigned long, 0);
	EXPECT(back && SEND0(unsigned long, back, "length") == sizeof bytes &&
		!memcmp(SEND0(const void *, back, "bytes"), bytes, sizeof bytes), "base64 round trip");
	release(back);
	EXPECT(!SEND2(id, alloc_of("NSData"), "initWithBase64EncodedString:options:", id, str("AAE*"), unsigned long, 0),
		"invalid base64 gave data");
	EXPECT(!SEND2(id, alloc_of("NSData"), "initWithBase64EncodedString:options:", id, str("AA\nEC"), unsigned long, 0),
		"a line break in strict base64 gave data");
	id lenient = SEND2(id, alloc_of("NSData"), "initWithBase64EncodedString:options:", id, str("AA\nEC"), unsigned long, 1);
	EXPECT(lenient && SEND0(unsigned long, lenient, "length") == 3, "ignoring unknown characters");
	release(lenient);
	EXPECT(!SEND2(id, alloc_of("NSData"), "initWithBase64EncodedString:options:", id, str("AAE"), unsigned long, 0),
		"unpadded base64 gave data");
	id objs[2] = { str("a"), str("b") };
	id arr = SEND2(id, CLASS("NSArray"), "arrayWithObjects:count:", const id *, objs, unsigned long, 2);
	EXPECT(SEND0(unsigned long, arr, "count") == 2, "count");
	EXPECT(SEND0(id, arr, "firstObject") == objs[0], "firstObject");
	EXPECT(SEND1(id, arr, "objectAtIndex:", unsigned long, 1) == objs[1], "objectAtIndex:");
	id keys[2] = { str("k1"), str("k2") };
	id dict = SEND3(id, CLASS("NSDictionary"), "dictionaryWithObjects:forKeys:count:", const id *, objs, const id *, keys,
		unsigned long, 2);
	EXPECT(dict, "dictionaryWithObjects:forKeys:count:");
	id m = SEND0(id, CLASS("NSMutableDictionary"), "dictionary");
	SEND2(void, m, "setObject:forKey:", id, objs[0], id, keys[0]);
	id fh = SEND1(id, CLASS("NSFileHandle"), "fileHandleForWritingAtPath:", id, str("/nonexistent/file"));
	EXPECT(!fh, "a handle for a missing file");
	fh = SEND0(id, CLASS("NSFileHandle"), "fileHandleWithNullDevice");
	EXPECT(SEND0(int, fh, "fileDescriptor") >= 0, "null device descriptor");
	id copy = SEND0(id, s, "copy");
	EXPECT(copy == s, "an immutable string's copy is itself");
	release(copy);
	pop(p);
	puts("ok");
	return 0;
}

static int range(void)
{
	void *p = push();
	id arr = array0();
	SEND1(id, arr, "objectAtIndex:", unsigned long, 0);
	pop(p);
	return 0;
}

static int nil_insert(void)
{
	void *p = push();
	id objs[2] = { str("a"), nil };
	SEND2(id, CLASS("NSArray"), "arrayWithObjects:count:", const id *, objs, unsigned long, 2);
	pop(p);
	return 0;
}

static int dump(void)
{
	claw_model_dump_selectors(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} scenarios[] = {
		{ "nil", nil_messages }, { "x86", x86_classes }, { "x86-save-validate", x86_save_validate },
		{ "unrecognized", unrecognized }, { "above-host", above_host }, { "prototype-int", prototype_int },
		{ "prototype-return", prototype_return }, { "prototype-ok", prototype_ok }, { "freed", freed },
		{ "over-release", over_release }, { "leak", leak }, { "no-leak", no_leak }, { "queue-leak", queue_leak },
		{ "no-pool", no_pool }, { "pool-other-thread", pool_other_thread }, { "callback-pool", callback_pool },
		{ "uninitialized", uninitialized }, { "init-unavailable", init_unavailable }, { "class-pair", class_pair },
		{ "sysctl", sysctls }, { "dispatch", dispatch }, { "dispatch-sync-self", dispatch_sync_self },
		{ "semaphore-in-use", semaphore_in_use }, { "foundation", foundation }, { "range", range },
		{ "nil-insert", nil_insert }, { "dump", dump },
	};
	for (size_t i = 0; argc > 1 && i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return scenarios[i].fn();
	fprintf(stderr, "usage: t_runtime SCENARIO\n");
	return 64;
}
