/* darwin-model/vz_config: Virtualization.framework's configuration side — the
 * Mac platform identity (hardware model, machine identifier, auxiliary storage),
 * the boot loader, every device configuration and attachment in the selector
 * list, VZVirtualMachineConfiguration with validateWithError: and
 * validateSaveRestoreSupportWithError:, and the snapshot a VZVirtualMachine takes
 * of it ("The configuration is copied by the initializer").
 *
 * These are plain data: any thread may build them (VZ-API §2). Setters raise
 * NSInvalidArgumentException for a wrong-typed or nil argument (VZ-API §1); here
 * that is the rule "invalid-argument". Validation reasons use VZ's own wording
 * where a source quotes it (named beside it) and VZ's form ("Invalid virtual
 * machine configuration." + a reason) elsewhere. */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define INVALID_CONFIG "Invalid virtual machine configuration."

/* One payload for the small VZ objects: a few references, numbers and flags. */
struct vz {
	struct objc_object o;
	id ref[4];
	long num[4];
	bool flag[2];
	void *ptr;
};
#define VZ(o) ((struct vz *)(o))

static void vz_dealloc(id self)
{
	for (int i = 0; i < 4; i++) {
		model_drop(VZ(self)->ref[i]);
		VZ(self)->ref[i] = nil;
	}
}

/* Every configuration array, with the class its elements must be (VZVirtualMachineConfiguration.h). */
enum { A_STORAGE, A_NETWORK, A_ENTROPY, A_BALLOON, A_SERIAL, A_SOCKET, A_GRAPHICS, A_KEYBOARD, A_POINTING,
	A_AUDIO, A_SHARES, A_CONSOLE, A_USB, NARRAYS };

static const struct {
	const char *get, *set, *base;
	int min;
} ARRAYS[NARRAYS] = {
	{ "storageDevices", "setStorageDevices:", "VZStorageDeviceConfiguration", V(11, 0) },
	{ "networkDevices", "setNetworkDevices:", "VZNetworkDeviceConfiguration", V(11, 0) },
	{ "entropyDevices", "setEntropyDevices:", "VZEntropyDeviceConfiguration", V(11, 0) },
	{ "memoryBalloonDevices", "setMemoryBalloonDevices:", "VZMemoryBalloonDeviceConfiguration", V(11, 0) },
	{ "serialPorts", "setSerialPorts:", "VZSerialPortConfiguration", V(11, 0) },
	{ "socketDevices", "setSocketDevices:", "VZSocketDeviceConfiguration", V(11, 0) },
	{ "graphicsDevices", "setGraphicsDevices:", "VZGraphicsDeviceConfiguration", V(12, 0) },
	{ "keyboards", "setKeyboards:", "VZKeyboardConfiguration", V(12, 0) },
	{ "pointingDevices", "setPointingDevices:", "VZPointingDeviceConfiguration", V(12, 0) },
	{ "audioDevices", "setAudioDevices:", "VZAudioDeviceConfiguration", V(12, 0) },
	{ "directorySharingDevices", "setDirectorySharingDevices:", "VZDirectorySharingDeviceConfiguration", V(12, 0) },
	{ "consoleDevices", "setConsoleDevices:", "VZConsoleDeviceConfiguration", V(13, 0) },
	{ "usbControllers", "setUsbControllers:", "VZUSBControllerConfiguration", V(15, 0) },
};

/* What a configuration and the machines made from it share: whether the client asked
 * validateSaveRestoreSupportWithError: (Code-Hex/vz PR #149). */
struct cfg_shared {
	long refs;
	bool save_validated;
};

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;

struct config {
	struct objc_object o;
	unsigned long cpu;
	uint64_t mem;
	id boot, platform;
	id arrays[NARRAYS];
	struct cfg_shared *sh;
};
#define CFG(o) ((struct config *)(o))

/* ---------------------------------------------------------------- argument checks */

static void want(id v, const char *cls, bool nullable, id self, SEL cmd)
{
	const char *what = model_sel_name(cmd);
	if (!v) {
		if (nullable)
			return;
		model_violation("invalid-argument", "-[%s %s] with nil (NSInvalidArgumentException; the argument is "
			"nonnull)", model_class_name(self), what);
	}
	model_check_object(v, what);
	if (!model_is_kind(v, cls))
		model_violation("invalid-argument", "-[%s %s] with a %s where a %s is needed (NSInvalidArgumentException)",
			model_class_name(self), what, model_class_name(v), cls);
}

static const char *file_path_of(id url, id self, SEL cmd)
{
	want(url, "NSURL", false, self, cmd);
	const char *p = ns_url_path(url);
	if (!p)
		model_violation("invalid-argument", "-[%s %s] needs a file URL, got '%s'", model_class_name(self),
			model_sel_name(cmd), ns_url_abs(url));
	return p;
}

static id config_error(const char *reason)
{
	return ns_error(VZ_DOMAIN, VZ_INVALID_CONFIG, INVALID_CONFIG, reason, nil);
}

static void hex(char *out, size_t outlen, const void *bytes, size_t n)
{
	const unsigned char *b = bytes;
	size_t i;
	for (i = 0; i < n && 2 * i + 2 < outlen; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * i] = 0;
}

/* ---------------------------------------------------------------- hardware model, machine identifier */

/* The real data representations are binary property lists (DataRepresentationVersion,
 * MinimumSupportedOS, PlatformVersion; ECID); the model writes the same keys as an XML plist. */
char *hw_model_data(int min_os, int platform)
{
	char *s = malloc(512);
	snprintf(s, 512,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
		"<key>DataRepresentationVersion</key><integer>1</integer>"
		"<key>MinimumSupportedOS</key><array><integer>%d</integer><integer>%d</integer><integer>0</integer></array>"
		"<key>PlatformVersion</key><integer>%d</integer></dict></plist>\n",
		min_os / 100, min_os % 100, platform);
	return s;
}

bool hw_model_parse(const void *bytes, size_t len, int *min_os, int *platform)
{
	char buf[600];
	if (!bytes || len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, bytes, len);
	buf[len] = 0;
	const char *a = strstr(buf, "<key>MinimumSupportedOS</key><array><integer>");
	const char *p = strstr(buf, "<key>PlatformVersion</key><integer>");
	int maj, min, plat;
	if (!strstr(buf, "<key>DataRepresentationVersion</key><integer>1</integer>") || !a || !p ||
		sscanf(a + strlen("<key>MinimumSupportedOS</key><array><integer>"), "%d</integer><integer>%d", &maj, &min) != 2 ||
		sscanf(p + strlen("<key>PlatformVersion</key><integer>"), "%d", &plat) != 1)
		return false;
	*min_os = V(maj, min);
	*platform = plat;
	return true;
}

static bool hw_supported(id hw)
{
	return VZ(hw)->num[1] == 2 && VZ(hw)->num[0] <= HOST.macos;
}

static id hw_init_data(id self, SEL c, id data)
{
	void *pool = model_pool_push(false);
	want(data, "NSData", false, self, c);
	size_t len;
	const void *b = ns_data_bytes(data, &len);
	int min_os, platform;
	if (!hw_model_parse(b, len, &min_os, &platform)) {
		model_pool_pop(pool);
		model_release(self); /* "An init… that fails returns nil and has already released the receiver" */
		return nil;
	}
	VZ(self)->ref[0] = model_hold(ns_data(b, len));
	VZ(self)->num[0] = min_os;
	VZ(self)->num[1] = platform;
	model_mark_init(self);
	model_pool_pop(pool);
	return self;
}

id hw_model_new(const void *bytes, size_t len)
{
	id hw = model_alloc(model_class_named("VZMacHardwareModel"));
	return hw_init_data(hw, sel_registerName("initWithDataRepresentation:"), ns_data(bytes, len));
}

static id hw_data(id self, SEL c)
{
	(void)c;
	return VZ(self)->ref[0];
}

static bool hw_is_supported(id self, SEL c)
{
	(void)c;
	return hw_supported(self);
}

static bool data_equal(id a, id b)
{
	size_t la, lb;
	const void *pa = ns_data_bytes(a, &la), *pb = ns_data_bytes(b, &lb);
	return a && b && la == lb && !memcmp(pa, pb, la);
}

static bool hw_is_equal(id self, SEL c, id other)
{
	(void)c;
	return other && model_alive(other) && model_is_kind(other, "VZMacHardwareModel") &&
		data_equal(VZ(self)->ref[0], VZ(other)->ref[0]);
}

static id mid_with_ecid(id self, uint64_t ecid)
{
	void *pool = model_pool_push(false);
	char s[256];
	snprintf(s, sizeof s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
		"<key>ECID</key><integer>%" PRIu64 "</integer></dict></plist>\n", ecid);
	VZ(self)->ref[0] = model_hold(ns_data(s, strlen(s)));
	VZ(self)->num[0] = (long)ecid;
	model_mark_init(self);
	model_pool_pop(pool);
	return self;
}

/* VZ-API §4: init "creates a new random identity". */
static id mid_init(id self, SEL c)
{
	(void)c;
	uint64_t ecid = 0;
	if (getrandom(&ecid, sizeof ecid, 0) != sizeof ecid)
		ecid = (uint64_t)model_now_ns() * 2654435761u;
	return mid_with_ecid(self, ecid >> 1);
}

static id mid_init_data(id self, SEL c, id data)
{
	want(data, "NSData", false, self, c);
	size_t len;
	const char *b = ns_data_bytes(data, &len);
	char buf[300];
	uint64_t ecid;
	if (len == 0 || len >= sizeof buf) {
		model_release(self);
		return nil;
	}
	memcpy(buf, b, len);
	buf[len] = 0;
	const char *k = strstr(buf, "<key>ECID</key><integer>");
	if (!k || sscanf(k + strlen("<key>ECID</key><integer>"), "%" SCNu64, &ecid) != 1) {
		model_release(self);
		return nil;
	}
	return mid_with_ecid(self, ecid);
}

/* ---------------------------------------------------------------- auxiliary storage */

#define AUX_MAGIC "claw-model-aux 1\n"

/* The aux file the model writes: its magic, then the hardware model it was made for. */
static char *aux_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(4096);
	size_t n = fread(buf, 1, 4095, f);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static bool aux_hw_matches(const char *path, id hw)
{
	size_t n;
	char *buf = aux_read(path, &n);
	if (!buf)
		return false;
	size_t hl;
	const void *hb = ns_data_bytes(VZ(hw)->ref[0], &hl);
	char want_line[1300], h[1200];
	hex(h, sizeof h, hb, hl);
	snprintf(want_line, sizeof want_line, "hardware-model %s\n", h);
	bool ok = !strncmp(buf, AUX_MAGIC, strlen(AUX_MAGIC)) && strstr(buf, want_line);
	free(buf);
	return ok;
}

static bool aux_valid(const char *path)
{
	size_t n;
	char *buf = aux_read(path, &n);
	bool ok = buf && !strncmp(buf, AUX_MAGIC, strlen(AUX_MAGIC));
	free(buf);
	return ok;
}

/* VZMacAuxiliaryStorage.h: initCreatingStorageAtURL:hardwareModel:options:error: fails on an
 * existing file unless VZMacAuxiliaryStorageInitializationOptionAllowOverwrite (1) is given.
 * The model reports that failure as POSIX EEXIST. */
static id aux_init_creating(id self, SEL c, id url, id hw, unsigned long options, id *error)
{
	const char *path = file_path_of(url, self, c);
	want(hw, "VZMacHardwareModel", false, self, c);
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | ((options & 1) ? O_TRUNC : O_EXCL);
	int fd = open(path, flags, 0666);
	if (fd < 0) {
		ns_set_error(error, ns_error_posix(errno));
		model_release(self);
		return nil;
	}
	size_t hl;
	const void *hb = ns_data_bytes(VZ(hw)->ref[0], &hl);
	char h[1200], body[1400];
	hex(h, sizeof h, hb, hl);
	int n = snprintf(body, sizeof body, "%shardware-model %s\n", AUX_MAGIC, h);
	bool ok = write(fd, body, (size_t)n) == n;
	int err = errno;
	close(fd);
	if (!ok) {
		ns_set_error(error, ns_error_posix(err));
		model_release(self);
		return nil;
	}
	VZ(self)->ref[0] = model_hold(url);
	model_mark_init(self);
	return self;
}

static id aux_init_url(id self, SEL c, id url)
{
	file_path_of(url, self, c);
	VZ(self)->ref[0] = model_hold(url);
	model_mark_init(self);
	return self;
}

static id ref0(id self, SEL c)
{
	(void)c;
	return VZ(self)->ref[0];
}

static id ref1(id self, SEL c)
{
	(void)c;
	return VZ(self)->ref[1];
}

static id ref2(id self, SEL c)
{
	(void)c;
	return VZ(self)->ref[2];
}

static bool flag0(id self, SEL c)
{
	(void)c;
	return VZ(self)->flag[0];
}

static bool flag1(id self, SEL c)
{
	(void)c;
	return VZ(self)->flag[1];
}

static long num0(id self, SEL c)
{
	(void)c;
	return VZ(self)->num[0];
}

static long num1(id self, SEL c)
{
	(void)c;
	return VZ(self)->num[1];
}

static long num2(id self, SEL c)
{
	(void)c;
	return VZ(self)->num[2];
}

static id plain_init(id self, SEL c)
{
	(void)c;
	model_mark_init(self);
	return self;
}

/* ---------------------------------------------------------------- platform, boot loader */

static void plat_set_hw(id self, SEL c, id hw)
{
	want(hw, "VZMacHardwareModel", false, self, c);
	model_set(&VZ(self)->ref[0], hw);
}

static void plat_set_mid(id self, SEL c, id mid)
{
	want(mid, "VZMacMachineIdentifier", false, self, c);
	model_set(&VZ(self)->ref[1], mid);
}

static void plat_set_aux(id self, SEL c, id aux)
{
	want(aux, "VZMacAuxiliaryStorage", true, self, c);
	model_set(&VZ(self)->ref[2], aux);
}

/* ---------------------------------------------------------------- storage */

/* VZDiskImageStorageDeviceAttachment.h: the URL must name an existing disk image; a missing
 * one fails with Cocoa's "no such file" error. */
static id disk_init(id self, SEL c, id url, bool ro, long caching, long sync, id *error)
{
	const char *path = file_path_of(url, self, c);
	if (caching < 0 || caching > 2)
		model_violation("invalid-argument", "-[VZDiskImageStorageDeviceAttachment %s] with caching mode %ld "
			"(VZDiskImageCachingMode is 0..2)", model_sel_name(c), caching);
	if (sync < 1 || sync > 3)
		model_violation("invalid-argument", "-[VZDiskImageStorageDeviceAttachment %s] with synchronization "
			"mode %ld (VZDiskImageSynchronizationMode is 1..3)", model_sel_name(c), sync);
	struct stat st;
	if (stat(path, &st) < 0 || access(path, ro ? R_OK : R_OK | W_OK) < 0) {
		int err = errno;
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		char msg[PATH_MAX + 128];
		if (err == ENOENT)
			snprintf(msg, sizeof msg, "The file “%s” couldn’t be opened because there is no such file.", base);
		else
			snprintf(msg, sizeof msg, "The file “%s” couldn’t be opened: %s.", base, strerror(err));
		id e = ns_error_described("NSCocoaErrorDomain", err == ENOENT ? 260 : 257, msg);
		ns_dict_set(ns_error_info(e), ns_string("NSUnderlyingError"), ns_error_posix(err));
		ns_set_error(error, e);
		model_release(self);
		return nil;
	}
	VZ(self)->ref[0] = model_hold(url);
	VZ(self)->flag[0] = ro;
	VZ(self)->num[0] = caching;
	VZ(self)->num[1] = sync;
	model_mark_init(self);
	return self;
}

static id disk_init3(id self, SEL c, id url, bool ro, id *error)
{
	return disk_init(self, c, url, ro, 0, 1, error);
}

static id block_init(id self, SEL c, id attachment)
{
	want(attachment, "VZStorageDeviceAttachment", false, self, c);
	VZ(self)->ref[0] = model_hold(attachment);
	model_mark_init(self);
	return self;
}

static bool block_id_valid(id s)
{
	const char *p = ns_utf8(s);
	size_t n = strlen(p);
	if (n == 0 || n > 20)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	return true;
}

/* VZ-API §6: "optional serial, ≤20 ASCII bytes; check with +validateBlockDeviceIdentifier:error:". */
static bool block_validate_id(id cls, SEL c, id ident, id *error)
{
	want(ident, "NSString", false, cls, c);
	if (block_id_valid(ident))
		return true;
	ns_set_error(error, config_error("The block device identifier is invalid."));
	return false;
}

static void block_set_id(id self, SEL c, id ident)
{
	want(ident, "NSString", false, self, c);
	if (!block_id_valid(ident))
		model_violation("invalid-argument", "-[VZVirtioBlockDeviceConfiguration setBlockDeviceIdentifier:] "
			"with '%s': not 1–20 ASCII bytes (validate it first with +validateBlockDeviceIdentifier:error:)",
			ns_utf8(ident));
	model_set(&VZ(self)->ref[1], ident);
}

static id block_get_id(id self, SEL c)
{
	(void)c;
	static id empty;
	if (!empty) {
		empty = ns_string_owned("");
		model_immortal(empty);
	}
	return VZ(self)->ref[1] ? VZ(self)->ref[1] : empty;
}

/* ---------------------------------------------------------------- network */

static int hexval_c(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static uint64_t random_mac(void)
{
	unsigned char b[6];
	if (getrandom(b, sizeof b, 0) != sizeof b)
		memset(b, 0x5a, sizeof b);
	b[0] = (unsigned char)((b[0] | 0x02) & ~0x01); /* locally administered, unicast */
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | b[i];
	return v;
}

static id mac_new(uint64_t v)
{
	id m = model_new("VZMACAddress");
	VZ(m)->num[0] = (long)v;
	return m;
}

static id mac_random(id cls, SEL c)
{
	(void)cls, (void)c;
	return model_autorelease(mac_new(random_mac()));
}

/* "aa:bb:cc:dd:ee:ff" (ether_aton's form, one or two hex digits a byte) or nil. */
static id mac_init_string(id self, SEL c, id string)
{
	want(string, "NSString", false, self, c);
	const char *p = ns_utf8(string);
	uint64_t v = 0;
	for (int i = 0; i < 6; i++) {
		int digits = 0, byte = 0;
		while (digits < 2 && hexval_c(*p) >= 0) {
			byte = byte * 16 + hexval_c(*p++);
			digits++;
		}
		if (!digits || (i < 5 ? *p != ':' : *p != 0)) {
			model_release(self);
			return nil;
		}
		if (i < 5)
			p++;
		v = v << 8 | (uint64_t)byte;
	}
	VZ(self)->num[0] = (long)v;
	model_mark_init(self);
	return self;
}

static void mac_text(id mac, char out[18])
{
	uint64_t v = (uint64_t)VZ(mac)->num[0];
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(v >> 40) & 255, (unsigned)(v >> 32) & 255,
		(unsigned)(v >> 24) & 255, (unsigned)(v >> 16) & 255, (unsigned)(v >> 8) & 255, (unsigned)v & 255);
}

static id mac_string(id self, SEL c)
{
	(void)c;
	char s[18];
	mac_text(self, s);
	return ns_string(s);
}

static bool mac_local(id self, SEL c)
{
	(void)c;
	return ((uint64_t)VZ(self)->num[0] >> 40) & 2;
}

static bool mac_unicast(id self, SEL c)
{
	(void)c;
	return !(((uint64_t)VZ(self)->num[0] >> 40) & 1);
}

static id mac_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	return mac_new((uint64_t)VZ(self)->num[0]);
}

/* VZNetworkDeviceConfiguration: a new device gets a random locally administered address. */
static id net_init(id self, SEL c)
{
	void *pool = model_pool_push(false);
	(void)c;
	VZ(self)->ref[1] = model_hold(model_autorelease(mac_new(random_mac())));
	model_mark_init(self);
	model_pool_pop(pool);
	return self;
}

static void net_set_attachment(id self, SEL c, id a)
{
	want(a, "VZNetworkDeviceAttachment", true, self, c);
	model_set(&VZ(self)->ref[0], a);
}

static void net_set_mac(id self, SEL c, id mac)
{
	want(mac, "VZMACAddress", false, self, c);
	id copy = mac_copy(mac, c, NULL); /* copy property */
	model_set(&VZ(self)->ref[1], copy);
	model_release(copy);
}

static id vmnet_init(id self, SEL c, void *network)
{
	if (!network)
		model_violation("invalid-argument", "-[VZVmnetNetworkDeviceAttachment initWithNetwork:] with NULL");
	(void)c;
	VZ(self)->ptr = network;
	model_mark_init(self);
	return self;
}

static void *vmnet_network(id self, SEL c)
{
	(void)c;
	return VZ(self)->ptr;
}

/* ---------------------------------------------------------------- graphics, input, serial */

static id graphics_init(id self, SEL c)
{
	void *pool = model_pool_push(false);
	(void)c;
	VZ(self)->ref[0] = model_hold(ns_array(NULL, 0));
	model_mark_init(self);
	model_pool_pop(pool);
	return self;
}

static void graphics_set_displays(id self, SEL c, id displays)
{
	want(displays, "NSArray", false, self, c);
	for (size_t i = 0; i < ns_array_count(displays); i++)
		want(ns_array_at(displays, i), "VZMacGraphicsDisplayConfiguration", false, self, c);
	model_set(&VZ(self)->ref[0], displays);
}

static id display_init(id self, SEL c, long w, long h, long ppi)
{
	if (w <= 0 || h <= 0 || ppi <= 0)
		model_violation("invalid-argument", "-[VZMacGraphicsDisplayConfiguration %s] with %ldx%ld at %ld ppi",
			model_sel_name(c), w, h, ppi);
	VZ(self)->num[0] = w;
	VZ(self)->num[1] = h;
	VZ(self)->num[2] = ppi;
	model_mark_init(self);
	return self;
}

static void serial_set_attachment(id self, SEL c, id a)
{
	want(a, "VZSerialPortAttachment", true, self, c);
	model_set(&VZ(self)->ref[0], a);
}

static id fh_attachment_init(id self, SEL c, id in, id out)
{
	want(in, "NSFileHandle", true, self, c);
	want(out, "NSFileHandle", true, self, c);
	VZ(self)->ref[0] = model_hold(in);
	VZ(self)->ref[1] = model_hold(out);
	model_mark_init(self);
	return self;
}

static id file_attachment_init(id self, SEL c, id url, bool append, id *error)
{
	const char *path = file_path_of(url, self, c);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
	if (fd < 0) {
		ns_set_error(error, ns_error_posix(errno));
		model_release(self);
		return nil;
	}
	close(fd);
	VZ(self)->ref[0] = model_hold(url);
	VZ(self)->flag[0] = append;
	model_mark_init(self);
	return self;
}

/* ---------------------------------------------------------------- shared directories (VZ-API §13) */

static id shared_dir_init(id self, SEL c, id url, bool ro)
{
	file_path_of(url, self, c);
	VZ(self)->ref[0] = model_hold(url);
	VZ(self)->flag[0] = ro;
	model_mark_init(self);
	return self;
}

static id single_share_init(id self, SEL c, id dir)
{
	want(dir, "VZSharedDirectory", false, self, c);
	VZ(self)->ref[0] = model_hold(dir);
	model_mark_init(self);
	return self;
}

/* VZMultipleDirectoryShare.h: a name "must not be empty, have characters unsafe for file systems,
 * be longer than NAME_MAX, or other restrictions"; Apple's docs name "." and "..". */
static bool share_name_valid(const char *n)
{
	size_t len = strlen(n);
	return len > 0 && len <= NAME_MAX && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/') && !strchr(n, ':');
}

static bool multi_validate_name(id cls, SEL c, id name, id *error)
{
	want(name, "NSString", false, cls, c);
	if (share_name_valid(ns_utf8(name)))
		return true;
	ns_set_error(error, config_error("The directory share name is invalid."));
	return false;
}

static id multi_canonical(id cls, SEL c, id name)
{
	want(name, "NSString", false, cls, c);
	char buf[NAME_MAX + 1];
	snprintf(buf, sizeof buf, "%s", ns_utf8(name));
	for (char *p = buf; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	return share_name_valid(buf) ? ns_string(buf) : nil;
}

static id multi_init(id self, SEL c)
{
	void *pool = model_pool_push(false);
	(void)c;
	VZ(self)->ref[0] = model_hold(ns_dict_empty());
	model_mark_init(self);
	model_pool_pop(pool);
	return self;
}

/* "The keys must be valid names or an exception will be raised." */
static id multi_init_dirs(id self, SEL c, id dict)
{
	want(dict, "NSDictionary", false, self, c);
	id copy = model_copy(dict);
	struct {
		struct objc_object o;
		id *keys, *vals;
		size_t n, cap;
	} *d = (void *)copy;
	for (size_t i = 0; i < d->n; i++) {
		if (!model_is_kind(d->keys[i], "NSString") || !share_name_valid(ns_utf8(d->keys[i])))
			model_violation("invalid-argument", "-[VZMultipleDirectoryShare initWithDirectories:] with the name "
				"'%s' (run +validateName:error: on every key first; VZ-API §13)",
				model_is_kind(d->keys[i], "NSString") ? ns_utf8(d->keys[i]) : model_class_name(d->keys[i]));
		want(d->vals[i], "VZSharedDirectory", false, self, c);
	}
	VZ(self)->ref[0] = model_hold(copy);
	model_release(copy);
	model_mark_init(self);
	return self;
}

static bool tag_valid(id tag) { return tag && strlen(ns_utf8(tag)) > 0 && strlen(ns_utf8(tag)) < 36; }

/* VZVirtioFileSystemDeviceConfiguration.h: the tag "must be non-empty and less than 36 bytes when
 * encoded in UTF-8". What initWithTag: does with a bad one is not documented (VZ-API Unconfirmed);
 * the model raises, so a client validates first as Code-Hex/vz does. */
static bool fs_validate_tag(id cls, SEL c, id tag, id *error)
{
	want(tag, "NSString", false, cls, c);
	if (tag_valid(tag))
		return true;
	ns_set_error(error, config_error("The tag is invalid."));
	return false;
}

static id fs_init_tag(id self, SEL c, id tag)
{
	want(tag, "NSString", false, self, c);
	if (!tag_valid(tag))
		model_violation("invalid-argument", "-[VZVirtioFileSystemDeviceConfiguration initWithTag:] with '%s' "
			"(1–35 UTF-8 bytes; +validateTag:error: first)", ns_utf8(tag));
	VZ(self)->ref[0] = model_hold(tag);
	model_mark_init(self);
	return self;
}

static void fs_set_tag(id self, SEL c, id tag)
{
	want(tag, "NSString", false, self, c);
	if (!tag_valid(tag))
		model_violation("invalid-argument", "-[VZVirtioFileSystemDeviceConfiguration setTag:] with '%s' "
			"(1–35 UTF-8 bytes; +validateTag:error: first)", ns_utf8(tag));
	model_set(&VZ(self)->ref[0], tag);
}

static void fs_set_share(id self, SEL c, id share)
{
	want(share, "VZDirectoryShare", true, self, c);
	model_set(&VZ(self)->ref[1], share);
}

static id automount_tag;

static id fs_automount(id cls, SEL c)
{
	(void)cls, (void)c;
	if (!automount_tag) {
		automount_tag = ns_string_owned("com.apple.virtio-fs.automount");
		model_immortal(automount_tag);
	}
	return automount_tag;
}

/* ---------------------------------------------------------------- start options, provisioning (27) */

static void so_set_recovery(id self, SEL c, bool on)
{
	(void)c;
	VZ(self)->flag[0] = on;
}

static void prov_set_string(id self, SEL c, id v, int slot)
{
	want(v, "NSString", false, self, c);
	id copy = model_copy(v);
	model_set(&VZ(self)->ref[slot], copy);
	model_release(copy);
}

static void prov_set_full(id self, SEL c, id v) { prov_set_string(self, c, v, 0); }
static void prov_set_user(id self, SEL c, id v) { prov_set_string(self, c, v, 1); }
static void prov_set_password(id self, SEL c, id v) { prov_set_string(self, c, v, 2); }

static void prov_set_autologin(id self, SEL c, bool on)
{
	(void)c;
	VZ(self)->flag[0] = on;
}

static void prov_set_ssh(id self, SEL c, bool on)
{
	(void)c;
	VZ(self)->flag[1] = on;
}

/* Codes 40001–40003 (VZ-API §9, §11). The exact name rules are not published; the model takes a
 * POSIX short name for the user name. */
static bool prov_validate(id self, SEL c, id *error)
{
	(void)c;
	const char *full = ns_utf8(VZ(self)->ref[0]), *user = ns_utf8(VZ(self)->ref[1]);
	bool user_ok = *user && strlen(user) <= 31 && ((*user >= 'a' && *user <= 'z') || *user == '_');
	for (const char *p = user; user_ok && *p; p++)
		user_ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.';
	long code = !*full ? VZ_PROVISION_FULLNAME : !user_ok ? VZ_PROVISION_USERNAME
		: !*ns_utf8(VZ(self)->ref[2]) ? VZ_PROVISION_PASSWORD : 0;
	if (!code)
		return true;
	ns_set_error(error, ns_error(VZ_DOMAIN, code, "Invalid guest provisioning options.",
		code == VZ_PROVISION_FULLNAME ? "The full name is invalid."
		: code == VZ_PROVISION_USERNAME ? "The user name is invalid." : "The password is invalid.", nil));
	return false;
}

static id so_provisioning(id self, SEL c)
{
	(void)c;
	return VZ(self)->ref[0];
}

static bool so_set_provisioning(id self, SEL c, id opts, id *error)
{
	want(opts, "VZGuestProvisioningOptions", true, self, c);
	if (opts && !prov_validate(opts, c, error))
		return false; /* "validates first, leaves old value on failure" */
	model_set(&VZ(self)->ref[0], opts);
	return true;
}

/* ---------------------------------------------------------------- VZVirtualMachineConfiguration */

static struct cfg_shared *shared_new(void)
{
	struct cfg_shared *s = calloc(1, sizeof *s);
	s->refs = 1;
	return s;
}

static void shared_put(struct cfg_shared *s)
{
	pthread_mutex_lock(&shared_mu);
	bool last = s && --s->refs == 0;
	pthread_mutex_unlock(&shared_mu);
	if (last)
		free(s);
}

static id cfg_init(id self, SEL c)
{
	void *pool = model_pool_push(false);
	(void)c;
	CFG(self)->cpu = 1;
	CFG(self)->mem = 128ull << 20;
	for (int i = 0; i < NARRAYS; i++)
		CFG(self)->arrays[i] = model_hold(ns_array(NULL, 0));
	CFG(self)->sh = shared_new();
	model_mark_init(self);
	model_pool_pop(pool);
	return self;
}

static void cfg_dealloc(id self)
{
	model_drop(CFG(self)->boot);
	model_drop(CFG(self)->platform);
	for (int i = 0; i < NARRAYS; i++)
		model_drop(CFG(self)->arrays[i]);
	shared_put(CFG(self)->sh);
	memset(&CFG(self)->cpu, 0, sizeof *CFG(self) - offsetof(struct config, cpu));
}

static id cfg_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	id n = model_new("VZVirtualMachineConfiguration");
	CFG(n)->cpu = CFG(self)->cpu;
	CFG(n)->mem = CFG(self)->mem;
	CFG(n)->boot = model_hold(CFG(self)->boot);
	CFG(n)->platform = model_hold(CFG(self)->platform);
	for (int i = 0; i < NARRAYS; i++)
		CFG(n)->arrays[i] = model_hold(CFG(self)->arrays[i]);
	CFG(n)->sh = shared_new();
	return n;
}

static unsigned long cfg_cpu(id self, SEL c)
{
	(void)c;
	return CFG(self)->cpu;
}

static void cfg_set_cpu(id self, SEL c, unsigned long n)
{
	(void)c;
	CFG(self)->cpu = n;
}

static uint64_t cfg_mem(id self, SEL c)
{
	(void)c;
	return CFG(self)->mem;
}

static void cfg_set_mem(id self, SEL c, uint64_t n)
{
	(void)c;
	CFG(self)->mem = n;
}

static id cfg_boot(id self, SEL c)
{
	(void)c;
	return CFG(self)->boot;
}

static void cfg_set_boot(id self, SEL c, id boot)
{
	want(boot, "VZBootLoader", true, self, c);
	model_set(&CFG(self)->boot, boot);
}

static id cfg_platform(id self, SEL c)
{
	(void)c;
	return CFG(self)->platform;
}

static void cfg_set_platform(id self, SEL c, id p)
{
	want(p, "VZPlatformConfiguration", false, self, c);
	model_set(&CFG(self)->platform, p);
}

static void cfg_set_array(id self, SEL c, int which, id array)
{
	want(array, "NSArray", false, self, c);
	for (size_t i = 0; i < ns_array_count(array); i++)
		want(ns_array_at(array, i), ARRAYS[which].base, false, self, c);
	id copy = model_copy(array);
	model_set(&CFG(self)->arrays[which], copy);
	model_release(copy);
}

#define ARRAY_ACCESSORS(i) \
	static id cfg_get_##i(id self, SEL c) \
	{ \
		(void)c; \
		return CFG(self)->arrays[i]; \
	} \
	static void cfg_set_##i(id self, SEL c, id a) { cfg_set_array(self, c, i, a); }
ARRAY_ACCESSORS(0)
ARRAY_ACCESSORS(1)
ARRAY_ACCESSORS(2)
ARRAY_ACCESSORS(3)
ARRAY_ACCESSORS(4)
ARRAY_ACCESSORS(5)
ARRAY_ACCESSORS(6)
ARRAY_ACCESSORS(7)
ARRAY_ACCESSORS(8)
ARRAY_ACCESSORS(9)
ARRAY_ACCESSORS(10)
ARRAY_ACCESSORS(11)
ARRAY_ACCESSORS(12)
static IMP const array_getters[NARRAYS] = { (IMP)cfg_get_0, (IMP)cfg_get_1, (IMP)cfg_get_2, (IMP)cfg_get_3,
	(IMP)cfg_get_4, (IMP)cfg_get_5, (IMP)cfg_get_6, (IMP)cfg_get_7, (IMP)cfg_get_8, (IMP)cfg_get_9,
	(IMP)cfg_get_10, (IMP)cfg_get_11, (IMP)cfg_get_12 };
static IMP const array_setters[NARRAYS] = { (IMP)cfg_set_0, (IMP)cfg_set_1, (IMP)cfg_set_2, (IMP)cfg_set_3,
	(IMP)cfg_set_4, (IMP)cfg_set_5, (IMP)cfg_set_6, (IMP)cfg_set_7, (IMP)cfg_set_8, (IMP)cfg_set_9,
	(IMP)cfg_set_10, (IMP)cfg_set_11, (IMP)cfg_set_12 };

/* The host's bounds. Apple documents only that the values must lie within them; the model takes
 * 1 CPU and 128 MiB as minimums and the host's CPUs and memory as maximums. */
static unsigned long min_cpu(void) { return 1; }
static unsigned long max_cpu(void) { return (unsigned long)HOST.ncpu; }
static uint64_t min_mem(void) { return 128ull << 20; }
static uint64_t max_mem(void) { return HOST.memsize; }

static unsigned long cfg_min_cpu(id cls, SEL c)
{
	(void)cls, (void)c;
	return min_cpu();
}

static unsigned long cfg_max_cpu(id cls, SEL c)
{
	(void)cls, (void)c;
	return max_cpu();
}

static uint64_t cfg_min_mem(id cls, SEL c)
{
	(void)cls, (void)c;
	return min_mem();
}

static uint64_t cfg_max_mem(id cls, SEL c)
{
	(void)cls, (void)c;
	return max_mem();
}

static size_t count_kind(id config, int which, const char *cls)
{
	size_t n = 0;
	id a = CFG(config)->arrays[which];
	for (size_t i = 0; i < ns_array_count(a); i++)
		n += model_is_kind(ns_array_at(a, i), cls);
	return n;
}

static const char *check_platform(id config)
{
	id p = CFG(config)->platform;
	if (!p || !model_is_kind(p, "VZMacPlatformConfiguration"))
		return "A macOS boot loader requires a Mac platform configuration.";
	id hw = VZ(p)->ref[0], mid = VZ(p)->ref[1], aux = VZ(p)->ref[2];
	if (!hw)
		return "The Mac platform configuration has no hardware model.";
	if (!mid)
		return "The Mac platform configuration has no machine identifier.";
	if (!aux)
		return "The Mac platform configuration has no auxiliary storage.";
	if (!hw_supported(hw))
		return "The hardware model is not supported on the current host.";
	const char *ap = ns_url_path(VZ(aux)->ref[0]);
	if (!ap || !aux_valid(ap))
		return "The auxiliary storage is invalid.";
	if (!aux_hw_matches(ap, hw))
		return "The auxiliary storage was created for a different hardware model.";
	return NULL;
}

static const char *check_storage(id config)
{
	id a = CFG(config)->arrays[A_STORAGE];
	if (!ns_array_count(a))
		return "A macOS guest needs a storage device to boot from (the first storage device is the boot disk).";
	for (size_t i = 0; i < ns_array_count(a); i++) {
		id att = VZ(ns_array_at(a, i))->ref[0];
		if (!model_is_kind(att, "VZDiskImageStorageDeviceAttachment"))
			continue;
		struct stat st;
		const char *p = ns_url_path(VZ(att)->ref[0]);
		/* crc-org/vfkit PR #373: "Invalid virtual machine configuration. The storage device attachment
		 * is invalid." VZ-API §6: a RAW image's size is a multiple of 512. */
		if (!p || stat(p, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % 512)
			return "The storage device attachment is invalid.";
	}
	return NULL;
}

static const char *check_shares(id config)
{
	id a = CFG(config)->arrays[A_SHARES];
	for (size_t i = 0; i < ns_array_count(a); i++) {
		id share = VZ(ns_array_at(a, i))->ref[1];
		id dirs[64];
		size_t n = 0;
		if (share && model_is_kind(share, "VZSingleDirectoryShare"))
			dirs[n++] = VZ(share)->ref[0];
		else if (share) {
			struct {
				struct objc_object o;
				id *keys, *vals;
				size_t n, cap;
			} *d = (void *)VZ(share)->ref[0];
			for (size_t j = 0; j < d->n && n < 64; j++)
				dirs[n++] = d->vals[j];
		}
		for (size_t j = 0; j < n; j++) {
			struct stat st;
			const char *p = ns_url_path(VZ(dirs[j])->ref[0]);
			/* VZSharedDirectory.h: "The URL must point to an existing directory path in the host file system." */
			if (!p || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
				return "The shared directory does not exist.";
		}
	}
	return NULL;
}

const char *cfg_check(id config)
{
	/* VZVirtualMachineConfiguration: "A configuration object is invalid if your app doesn’t have the
	 * com.apple.security.virtualization entitlement"; VZ-API §5: "or the host cannot virtualize". */
	if (!HOST.entitled)
		return "The process doesn’t have the “com.apple.security.virtualization” entitlement.";
	if (!HOST.virtualization)
		return "Virtualization is not available on this hardware.";
	/* "The smallest valid configuration includes a value for the bootLoader property." */
	if (!CFG(config)->boot)
		return "A boot loader must be specified.";
	/* cpuCount, memorySize: within the class's minimum/maximumAllowed values; "The value of this
	 * property must be a multiple of 1 MB." */
	if (CFG(config)->cpu < min_cpu())
		return "The CPU count is less than the minimum allowed.";
	if (CFG(config)->cpu > max_cpu())
		return "The CPU count is greater than the maximum allowed.";
	if (CFG(config)->mem % (1ull << 20))
		return "The memory size must be a multiple of 1 MB.";
	if (CFG(config)->mem < min_mem())
		return "The memory size is less than the minimum allowed.";
	if (CFG(config)->mem > max_mem())
		return "The memory size is greater than the maximum allowed.";
	const char *why;
	if (model_is_kind(CFG(config)->boot, "VZMacOSBootLoader")) {
		if ((why = check_platform(config)) || (why = check_storage(config)))
			return why;
	}
	return check_shares(config);
}

static bool cfg_validate(id self, SEL c, id *error)
{
	(void)c;
	const char *why = cfg_check(self);
	if (why)
		ns_set_error(error, config_error(why));
	return !why;
}

/* VZ-API §14's table: what a macOS 14 host refuses to save; consoles and shares are accepted from
 * macOS 15 (tart PR #1082, tart commit 1cbc1e2). Reasons as tart #803 and tart PR #540 quote them. */
const char *cfg_unsavable(id config)
{
	if (count_kind(config, A_ENTROPY, "VZEntropyDeviceConfiguration"))
		return "Unsupported entropy device in configuration.";
	if (count_kind(config, A_POINTING, "VZUSBScreenCoordinatePointingDeviceConfiguration"))
		return "Unsupported pointing device in configuration.";
	if (ns_array_count(CFG(config)->arrays[A_AUDIO]))
		return "Unsupported audio device in configuration.";
	if (HOST.macos < V(15, 0) && ns_array_count(CFG(config)->arrays[A_CONSOLE]))
		return "Unsupported console device in configuration.";
	if (HOST.macos < V(15, 0) && ns_array_count(CFG(config)->arrays[A_SHARES]))
		return "Unsupported directory sharing device in configuration.";
	return NULL;
}

static bool cfg_validate_save(id self, SEL c, id *error)
{
	(void)c;
	pthread_mutex_lock(&shared_mu);
	CFG(self)->sh->save_validated = true;
	pthread_mutex_unlock(&shared_mu);
	const char *why = cfg_check(self);
	if (!why)
		why = cfg_unsavable(self);
	if (why)
		ns_set_error(error, config_error(why));
	return !why;
}

/* ---------------------------------------------------------------- the snapshot a machine keeps */

struct cfg_snap {
	struct cfg_shared *sh;
	bool mac;
	char aux[PATH_MAX];
	char machine_id[64];
	char *disks[16];
	bool ro[16];
	size_t ndisks;
	size_t counts[SNAP_USB + 1];
	uint64_t mem;
	id console_handle;
	char console_file[PATH_MAX];
	bool console_append;
	const char *unsavable;
	char *canon;
	char *mounts; /* what a macOS 13+ guest mounts by itself: "MOUNT\tPATH\tro|rw\n" each */
};

static void canon_add(char **canon, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void canon_add(char **canon, size_t *len, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	*canon = realloc(*canon, *len + (size_t)n + 1);
	memcpy(*canon + *len, line, (size_t)n + 1);
	*len += (size_t)n;
}

/* Everything that makes two configurations "configured compatibly" for save and restore (VZ-API
 * §14 step 4: same hardware model, machine identifier, aux file, disks, MAC, device list). */
static void snap_canonical(struct cfg_snap *s, id config)
{
	size_t len = 0;
	char h[1200];
	canon_add(&s->canon, &len, "cpu %lu\nmemory %" PRIu64 "\n", CFG(config)->cpu, CFG(config)->mem);
	id p = CFG(config)->platform;
	if (s->mac) {
		size_t n;
		const void *b = ns_data_bytes(VZ(VZ(p)->ref[0])->ref[0], &n);
		hex(h, sizeof h, b, n);
		canon_add(&s->canon, &len, "hardware-model %s\nmachine-id %s\naux %s\n", h, s->machine_id, s->aux);
	}
	for (size_t i = 0; i < s->ndisks; i++)
		canon_add(&s->canon, &len, "disk %s %s\n", s->disks[i], s->ro[i] ? "ro" : "rw");
	id nets = CFG(config)->arrays[A_NETWORK];
	for (size_t i = 0; i < ns_array_count(nets); i++) {
		char mac[18];
		mac_text(VZ(ns_array_at(nets, i))->ref[1], mac);
		canon_add(&s->canon, &len, "network %s %s\n", mac, model_class_name(VZ(ns_array_at(nets, i))->ref[0]));
	}
	for (int a = 0; a < NARRAYS; a++) {
		if (a == A_STORAGE || a == A_NETWORK)
			continue;
		id arr = CFG(config)->arrays[a];
		for (size_t i = 0; i < ns_array_count(arr); i++)
			canon_add(&s->canon, &len, "%s %s\n", ARRAYS[a].get, model_class_name(ns_array_at(arr, i)));
	}
}

/* The folders of every device whose tag is the automount tag: "is automatically mounted in a
 * macOS guest" (Apple docs, macOSGuestAutomountTag); "to "/Volumes/My Shared Files"", each name
 * of a multiple share a folder there (tart Run.swift --dir help; VZ-API §13). Where a single
 * share appears is not documented (VZ-API Unconfirmed): the model's choice is the folder itself. */
static void snap_mounts(struct cfg_snap *s, id config)
{
	size_t len = 0;
	id a = CFG(config)->arrays[A_SHARES];
	for (size_t i = 0; i < ns_array_count(a); i++) {
		id fs = ns_array_at(a, i), share = VZ(fs)->ref[1];
		if (!share || !VZ(fs)->ref[0] || strcmp(ns_utf8(VZ(fs)->ref[0]), "com.apple.virtio-fs.automount"))
			continue;
		if (model_is_kind(share, "VZSingleDirectoryShare")) {
			id dir = VZ(share)->ref[0];
			canon_add(&s->mounts, &len, "/Volumes/My Shared Files\t%s\t%s\n", ns_url_path(VZ(dir)->ref[0]),
				VZ(dir)->flag[0] ? "ro" : "rw");
			continue;
		}
		struct {
			struct objc_object o;
			id *keys, *vals;
			size_t n, cap;
		} *d = (void *)VZ(share)->ref[0];
		for (size_t j = 0; j < d->n; j++)
			canon_add(&s->mounts, &len, "/Volumes/My Shared Files/%s\t%s\t%s\n", ns_utf8(d->keys[j]),
				ns_url_path(VZ(d->vals[j])->ref[0]), VZ(d->vals[j])->flag[0] ? "ro" : "rw");
	}
}

struct cfg_snap *cfg_snapshot(id config)
{
	struct cfg_snap *s = calloc(1, sizeof *s);
	pthread_mutex_lock(&shared_mu);
	s->sh = CFG(config)->sh;
	s->sh->refs++;
	pthread_mutex_unlock(&shared_mu);
	s->mem = CFG(config)->mem;
	id p = CFG(config)->platform;
	s->mac = p && model_is_kind(p, "VZMacPlatformConfiguration") && CFG(config)->boot &&
		model_is_kind(CFG(config)->boot, "VZMacOSBootLoader");
	if (s->mac) {
		snprintf(s->aux, sizeof s->aux, "%s", ns_url_path(VZ(VZ(p)->ref[2])->ref[0]));
		snprintf(s->machine_id, sizeof s->machine_id, "%lu", (unsigned long)VZ(VZ(p)->ref[1])->num[0]);
	}
	id disks = CFG(config)->arrays[A_STORAGE];
	for (size_t i = 0; i < ns_array_count(disks) && s->ndisks < 16; i++) {
		id att = VZ(ns_array_at(disks, i))->ref[0];
		if (!model_is_kind(att, "VZDiskImageStorageDeviceAttachment"))
			continue;
		s->disks[s->ndisks] = strdup(ns_url_path(VZ(att)->ref[0]));
		s->ro[s->ndisks++] = VZ(att)->flag[0];
	}
	s->counts[SNAP_NET] = ns_array_count(CFG(config)->arrays[A_NETWORK]);
	s->counts[SNAP_BALLOON] = ns_array_count(CFG(config)->arrays[A_BALLOON]);
	s->counts[SNAP_SOCKET] = ns_array_count(CFG(config)->arrays[A_SOCKET]);
	s->counts[SNAP_SHARE] = ns_array_count(CFG(config)->arrays[A_SHARES]);
	s->counts[SNAP_CONSOLE] = ns_array_count(CFG(config)->arrays[A_CONSOLE]);
	s->counts[SNAP_GRAPHICS] = ns_array_count(CFG(config)->arrays[A_GRAPHICS]);
	s->counts[SNAP_USB] = ns_array_count(CFG(config)->arrays[A_USB]);
	id ports = CFG(config)->arrays[A_SERIAL];
	for (size_t i = 0; i < ns_array_count(ports); i++) {
		id att = VZ(ns_array_at(ports, i))->ref[0];
		if (att && model_is_kind(att, "VZFileHandleSerialPortAttachment") && VZ(att)->ref[1] && !s->console_handle)
			s->console_handle = model_hold(VZ(att)->ref[1]);
		else if (att && model_is_kind(att, "VZFileSerialPortAttachment") && !s->console_file[0]) {
			snprintf(s->console_file, sizeof s->console_file, "%s", ns_url_path(VZ(att)->ref[0]));
			s->console_append = VZ(att)->flag[0];
		}
	}
	s->unsavable = cfg_unsavable(config);
	snap_canonical(s, config);
	snap_mounts(s, config);
	return s;
}

void cfg_snap_free(struct cfg_snap *s)
{
	if (!s)
		return;
	shared_put(s->sh);
	for (size_t i = 0; i < s->ndisks; i++)
		free(s->disks[i]);
	model_drop(s->console_handle);
	free(s->canon);
	free(s->mounts);
	free(s);
}

bool cfg_save_validated(struct cfg_snap *s)
{
	pthread_mutex_lock(&shared_mu);
	bool v = s->sh->save_validated;
	pthread_mutex_unlock(&shared_mu);
	return v;
}

bool cfg_has_mac_platform(struct cfg_snap *s) { return s->mac; }
const char *snap_canon(struct cfg_snap *s) { return s->canon; }
const char *snap_guest_mounts(struct cfg_snap *s) { return s->mounts ? s->mounts : ""; }
const char *snap_aux(struct cfg_snap *s) { return s->mac ? s->aux : NULL; }
const char *snap_machine_id(struct cfg_snap *s) { return s->machine_id; }
uint64_t snap_memory(struct cfg_snap *s) { return s->mem; }
id snap_console_handle(struct cfg_snap *s) { return s->console_handle; }
size_t snap_count(struct cfg_snap *s, int which) { return s->counts[which]; }

unsigned long snap_unsavable(struct cfg_snap *s, const char **reason)
{
	*reason = s->unsavable;
	return s->unsavable != NULL;
}

const char *snap_console_file(struct cfg_snap *s, bool *append)
{
	*append = s->console_append;
	return s->console_file[0] ? s->console_file : NULL;
}

const char *snap_disk(struct cfg_snap *s, size_t i, bool *ro)
{
	if (i >= s->ndisks)
		return NULL;
	*ro = s->ro[i];
	return s->disks[i];
}

/* ---------------------------------------------------------------- the classes */

static void abstract(const char *name, const char *super, int min, unsigned flags)
{
	model_class(name, super, sizeof(struct vz), min, flags | C_ABSTRACT | C_NOINIT, vz_dealloc, NULL, NULL);
}

void vz_config_classes(void)
{
	const unsigned ARM = C_ARM64;
	/* Abstract bases: not in the selector list (a client never names them), but real classes. */
	abstract("VZBootLoader", "NSObject", V(11, 0), 0);
	abstract("VZPlatformConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZStorageDeviceAttachment", "NSObject", V(11, 0), 0);
	abstract("VZNetworkDeviceAttachment", "NSObject", V(11, 0), 0);
	abstract("VZSerialPortAttachment", "NSObject", V(11, 0), 0);
	abstract("VZGraphicsDeviceConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZGraphicsDisplayConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZKeyboardConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZPointingDeviceConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZEntropyDeviceConfiguration", "NSObject", V(11, 0), 0);
	abstract("VZMemoryBalloonDeviceConfiguration", "NSObject", V(11, 0), 0);
	abstract("VZSocketDeviceConfiguration", "NSObject", V(11, 0), 0);
	abstract("VZDirectorySharingDeviceConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZConsoleDeviceConfiguration", "NSObject", V(13, 0), 0);
	abstract("VZAudioDeviceConfiguration", "NSObject", V(12, 0), 0);
	abstract("VZUSBControllerConfiguration", "NSObject", V(15, 0), 0);
	abstract("VZDirectoryShare", "NSObject", V(12, 0), 0);

	static const struct mdef hw_i[] = {
		MD("initWithDataRepresentation:", "@@:@", hw_init_data, V(12, 0)),
		MD("dataRepresentation", "@@:", hw_data, V(12, 0)),
		MD("isSupported", "B@:", hw_is_supported, V(12, 0)),
		MDF("isEqual:", "B@:@", hw_is_equal, 0, M_OVERRIDE),
		MDEF_END,
	};
	model_class("VZMacHardwareModel", "NSObject", sizeof(struct vz), V(12, 0), ARM | C_NOINIT, vz_dealloc, hw_i, NULL);

	static const struct mdef mid_i[] = {
		MD("init", "@@:", mid_init, V(12, 0)),
		MD("initWithDataRepresentation:", "@@:@", mid_init_data, V(12, 0)),
		MD("dataRepresentation", "@@:", ref0, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMacMachineIdentifier", "NSObject", sizeof(struct vz), V(12, 0), ARM, vz_dealloc, mid_i, NULL);

	static const struct mdef aux_i[] = {
		MD("initCreatingStorageAtURL:hardwareModel:options:error:", "@@:@@Q^@", aux_init_creating, V(12, 0)),
		MD("initWithContentsOfURL:", "@@:@", aux_init_url, V(12, 0)),
		MD("URL", "@@:", ref0, V(12, 0)),
		MD("initWithURL:", "@@:@", aux_init_url, V(13, 0)),
		MDEF_END,
	};
	model_class("VZMacAuxiliaryStorage", "NSObject", sizeof(struct vz), V(12, 0), ARM | C_NOINIT, vz_dealloc, aux_i, NULL);

	static const struct mdef plat_i[] = {
		MD("init", "@@:", plain_init, V(12, 0)),
		MD("hardwareModel", "@@:", ref0, V(12, 0)),
		MD("setHardwareModel:", "v@:@", plat_set_hw, V(12, 0)),
		MD("machineIdentifier", "@@:", ref1, V(12, 0)),
		MD("setMachineIdentifier:", "v@:@", plat_set_mid, V(12, 0)),
		MD("auxiliaryStorage", "@@:", ref2, V(12, 0)),
		MD("setAuxiliaryStorage:", "v@:@", plat_set_aux, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMacPlatformConfiguration", "VZPlatformConfiguration", sizeof(struct vz), V(12, 0), ARM, vz_dealloc,
		plat_i, NULL);

	static const struct mdef boot_i[] = { MD("init", "@@:", plain_init, V(12, 0)), MDEF_END };
	model_class("VZMacOSBootLoader", "VZBootLoader", sizeof(struct vz), V(12, 0), ARM, vz_dealloc, boot_i, NULL);

	struct mdef cfg_i[2 * NARRAYS + 16];
	size_t n = 0;
	cfg_i[n++] = (struct mdef)MD("init", "@@:", cfg_init, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("CPUCount", "Q@:", cfg_cpu, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("setCPUCount:", "v@:Q", cfg_set_cpu, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("memorySize", "Q@:", cfg_mem, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("setMemorySize:", "v@:Q", cfg_set_mem, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("bootLoader", "@@:", cfg_boot, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("setBootLoader:", "v@:@", cfg_set_boot, V(11, 0));
	cfg_i[n++] = (struct mdef)MD("platform", "@@:", cfg_platform, V(12, 0));
	cfg_i[n++] = (struct mdef)MD("setPlatform:", "v@:@", cfg_set_platform, V(12, 0));
	cfg_i[n++] = (struct mdef)MD("validateWithError:", "B@:^@", cfg_validate, V(11, 0));
	cfg_i[n++] = (struct mdef)MDF("validateSaveRestoreSupportWithError:", "B@:^@", cfg_validate_save, V(14, 0), M_ARM64);
	cfg_i[n++] = (struct mdef)MDF("copyWithZone:", "@@:^v", cfg_copy, 0, M_INTERNAL);
	for (int i = 0; i < NARRAYS; i++) {
		cfg_i[n++] = (struct mdef){ ARRAYS[i].get, "@@:", array_getters[i], ARRAYS[i].min, 0 };
		cfg_i[n++] = (struct mdef){ ARRAYS[i].set, "v@:@", array_setters[i], ARRAYS[i].min, 0 };
	}
	cfg_i[n] = (struct mdef)MDEF_END;
	static const struct mdef cfg_c[] = {
		MD("minimumAllowedCPUCount", "Q@:", cfg_min_cpu, V(11, 0)),
		MD("maximumAllowedCPUCount", "Q@:", cfg_max_cpu, V(11, 0)),
		MD("minimumAllowedMemorySize", "Q@:", cfg_min_mem, V(11, 0)),
		MD("maximumAllowedMemorySize", "Q@:", cfg_max_mem, V(11, 0)),
		MDEF_END,
	};
	model_class("VZVirtualMachineConfiguration", "NSObject", sizeof(struct config), V(11, 0), 0, cfg_dealloc, cfg_i, cfg_c);

	static const struct mdef disk_i[] = {
		MD("initWithURL:readOnly:error:", "@@:@B^@", disk_init3, V(11, 0)),
		MD("URL", "@@:", ref0, V(11, 0)),
		MD("isReadOnly", "B@:", flag0, V(11, 0)),
		MD("initWithURL:readOnly:cachingMode:synchronizationMode:error:", "@@:@Bqq^@", disk_init, V(12, 0)),
		MD("cachingMode", "q@:", num0, V(12, 0)),
		MD("synchronizationMode", "q@:", num1, V(12, 0)),
		MDEF_END,
	};
	model_class("VZDiskImageStorageDeviceAttachment", "VZStorageDeviceAttachment", sizeof(struct vz), V(11, 0), C_NOINIT,
		vz_dealloc, disk_i, NULL);

	static const struct mdef storage_i[] = { MD("attachment", "@@:", ref0, V(11, 0)), MDEF_END };
	model_class("VZStorageDeviceConfiguration", "NSObject", sizeof(struct vz), V(11, 0), C_ABSTRACT | C_NOINIT, vz_dealloc,
		storage_i, NULL);
	static const struct mdef block_i[] = {
		MD("initWithAttachment:", "@@:@", block_init, V(11, 0)),
		MD("blockDeviceIdentifier", "@@:", block_get_id, V(12, 3)),
		MD("setBlockDeviceIdentifier:", "v@:@", block_set_id, V(12, 3)),
		MDEF_END,
	};
	static const struct mdef block_c[] = {
		MD("validateBlockDeviceIdentifier:error:", "B@:@^@", block_validate_id, V(12, 3)),
		MDEF_END,
	};
	model_class("VZVirtioBlockDeviceConfiguration", "VZStorageDeviceConfiguration", 0, V(11, 0), C_NOINIT, NULL,
		block_i, block_c);

	static const struct mdef netcfg_i[] = {
		MD("attachment", "@@:", ref0, V(11, 0)),
		MD("setAttachment:", "v@:@", net_set_attachment, V(11, 0)),
		MD("MACAddress", "@@:", ref1, V(11, 0)),
		MD("setMACAddress:", "v@:@", net_set_mac, V(11, 0)),
		MDEF_END,
	};
	model_class("VZNetworkDeviceConfiguration", "NSObject", sizeof(struct vz), V(11, 0), C_ABSTRACT | C_NOINIT,
		vz_dealloc, netcfg_i, NULL);
	static const struct mdef virtio_net_i[] = { MD("init", "@@:", net_init, V(11, 0)), MDEF_END };
	model_class("VZVirtioNetworkDeviceConfiguration", "VZNetworkDeviceConfiguration", 0, V(11, 0), 0, NULL,
		virtio_net_i, NULL);
	static const struct mdef nat_i[] = { MD("init", "@@:", plain_init, V(11, 0)), MDEF_END };
	model_class("VZNATNetworkDeviceAttachment", "VZNetworkDeviceAttachment", 0, V(11, 0), 0, NULL, nat_i, NULL);
	static const struct mdef vmnet_i[] = {
		MD("initWithNetwork:", "@@:^v", vmnet_init, V(26, 0)),
		MD("network", "^v@:", vmnet_network, V(26, 0)),
		MDEF_END,
	};
	model_class("VZVmnetNetworkDeviceAttachment", "VZNetworkDeviceAttachment", 0, V(26, 0), C_NOINIT, NULL, vmnet_i, NULL);

	static const struct mdef mac_i[] = {
		MD("initWithString:", "@@:@", mac_init_string, V(11, 0)),
		MD("string", "@@:", mac_string, V(11, 0)),
		MD("isLocallyAdministeredAddress", "B@:", mac_local, V(11, 0)),
		MD("isUnicastAddress", "B@:", mac_unicast, V(11, 0)),
		MDF("copyWithZone:", "@@:^v", mac_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	static const struct mdef mac_c[] = {
		MD("randomLocallyAdministeredAddress", "@@:", mac_random, V(11, 0)),
		MDEF_END,
	};
	model_class("VZMACAddress", "NSObject", sizeof(struct vz), V(11, 0), C_NOINIT, vz_dealloc, mac_i, mac_c);

	static const struct mdef gfx_i[] = {
		MD("init", "@@:", graphics_init, V(12, 0)),
		MD("displays", "@@:", ref0, V(12, 0)),
		MD("setDisplays:", "v@:@", graphics_set_displays, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMacGraphicsDeviceConfiguration", "VZGraphicsDeviceConfiguration", 0, V(12, 0), 0, NULL, gfx_i, NULL);
	static const struct mdef display_i[] = {
		MD("initWithWidthInPixels:heightInPixels:pixelsPerInch:", "@@:qqq", display_init, V(12, 0)),
		MD("widthInPixels", "q@:", num0, V(12, 0)),
		MD("heightInPixels", "q@:", num1, V(12, 0)),
		MD("pixelsPerInch", "q@:", num2, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMacGraphicsDisplayConfiguration", "VZGraphicsDisplayConfiguration", 0, V(12, 0), C_NOINIT, NULL,
		display_i, NULL);

	static const struct mdef usbkbd_i[] = { MD("init", "@@:", plain_init, V(12, 0)), MDEF_END };
	model_class("VZUSBKeyboardConfiguration", "VZKeyboardConfiguration", 0, V(12, 0), 0, NULL, usbkbd_i, NULL);
	static const struct mdef mackbd_i[] = { MD("init", "@@:", plain_init, V(14, 0)), MDEF_END };
	model_class("VZMacKeyboardConfiguration", "VZKeyboardConfiguration", 0, V(14, 0), ARM, NULL, mackbd_i, NULL);
	static const struct mdef usbptr_i[] = { MD("init", "@@:", plain_init, V(12, 0)), MDEF_END };
	model_class("VZUSBScreenCoordinatePointingDeviceConfiguration", "VZPointingDeviceConfiguration", 0, V(12, 0), 0, NULL,
		usbptr_i, NULL);
	static const struct mdef trackpad_i[] = { MD("init", "@@:", plain_init, V(13, 0)), MDEF_END };
	model_class("VZMacTrackpadConfiguration", "VZPointingDeviceConfiguration", 0, V(13, 0), ARM, NULL, trackpad_i, NULL);
	static const struct mdef entropy_i[] = { MD("init", "@@:", plain_init, V(11, 0)), MDEF_END };
	model_class("VZVirtioEntropyDeviceConfiguration", "VZEntropyDeviceConfiguration", 0, V(11, 0), 0, NULL, entropy_i, NULL);
	static const struct mdef balloon_i[] = { MD("init", "@@:", plain_init, V(11, 0)), MDEF_END };
	model_class("VZVirtioTraditionalMemoryBalloonDeviceConfiguration", "VZMemoryBalloonDeviceConfiguration", 0, V(11, 0),
		0, NULL, balloon_i, NULL);

	static const struct mdef serial_i[] = {
		MD("attachment", "@@:", ref0, V(11, 0)),
		MD("setAttachment:", "v@:@", serial_set_attachment, V(11, 0)),
		MDEF_END,
	};
	model_class("VZSerialPortConfiguration", "NSObject", sizeof(struct vz), V(11, 0), C_ABSTRACT | C_NOINIT, vz_dealloc,
		serial_i, NULL);
	static const struct mdef console_port_i[] = { MD("init", "@@:", plain_init, V(11, 0)), MDEF_END };
	model_class("VZVirtioConsoleDeviceSerialPortConfiguration", "VZSerialPortConfiguration", 0, V(11, 0), 0, NULL,
		console_port_i, NULL);
	static const struct mdef fh_att_i[] = {
		MD("initWithFileHandleForReading:fileHandleForWriting:", "@@:@@", fh_attachment_init, V(11, 0)),
		MD("fileHandleForReading", "@@:", ref0, V(11, 0)),
		MD("fileHandleForWriting", "@@:", ref1, V(11, 0)),
		MDEF_END,
	};
	model_class("VZFileHandleSerialPortAttachment", "VZSerialPortAttachment", 0, V(11, 0), C_NOINIT, NULL, fh_att_i, NULL);
	static const struct mdef file_att_i[] = {
		MD("initWithURL:append:error:", "@@:@B^@", file_attachment_init, V(11, 0)),
		MD("URL", "@@:", ref0, V(11, 0)),
		MD("append", "B@:", flag0, V(11, 0)),
		MDEF_END,
	};
	model_class("VZFileSerialPortAttachment", "VZSerialPortAttachment", 0, V(11, 0), C_NOINIT, NULL, file_att_i, NULL);

	static const struct mdef shdir_i[] = {
		MD("initWithURL:readOnly:", "@@:@B", shared_dir_init, V(12, 0)),
		MD("URL", "@@:", ref0, V(12, 0)),
		MD("isReadOnly", "B@:", flag0, V(12, 0)),
		MDEF_END,
	};
	model_class("VZSharedDirectory", "NSObject", sizeof(struct vz), V(12, 0), C_NOINIT, vz_dealloc, shdir_i, NULL);
	static const struct mdef single_i[] = {
		MD("initWithDirectory:", "@@:@", single_share_init, V(12, 0)),
		MD("directory", "@@:", ref0, V(12, 0)),
		MDEF_END,
	};
	model_class("VZSingleDirectoryShare", "VZDirectoryShare", 0, V(12, 0), C_NOINIT, NULL, single_i, NULL);
	static const struct mdef multi_i[] = {
		MD("initWithDirectories:", "@@:@", multi_init_dirs, V(12, 0)),
		MD("directories", "@@:", ref0, V(12, 0)),
		MDF("init", "@@:", multi_init, V(12, 0), M_OVERRIDE), /* VZ-API §13: keeps init (empty share) */
		MDEF_END,
	};
	static const struct mdef multi_c[] = {
		MD("validateName:error:", "B@:@^@", multi_validate_name, V(12, 0)),
		MD("canonicalizedNameFromName:", "@@:@", multi_canonical, V(12, 0)),
		MDEF_END,
	};
	model_class("VZMultipleDirectoryShare", "VZDirectoryShare", 0, V(12, 0), 0, NULL, multi_i, multi_c);
	static const struct mdef fs_i[] = {
		MD("initWithTag:", "@@:@", fs_init_tag, V(12, 0)),
		MD("tag", "@@:", ref0, V(12, 0)),
		MD("setTag:", "v@:@", fs_set_tag, V(12, 0)),
		MD("share", "@@:", ref1, V(12, 0)),
		MD("setShare:", "v@:@", fs_set_share, V(12, 0)),
		MDEF_END,
	};
	static const struct mdef fs_c[] = {
		MD("validateTag:error:", "B@:@^@", fs_validate_tag, V(12, 0)),
		MD("macOSGuestAutomountTag", "@@:", fs_automount, V(13, 0)),
		MDEF_END,
	};
	model_class("VZVirtioFileSystemDeviceConfiguration", "VZDirectorySharingDeviceConfiguration", 0, V(12, 0), C_NOINIT,
		NULL, fs_i, fs_c);

	static const struct mdef so_i[] = { MD("init", "@@:", plain_init, V(13, 0)), MDEF_END };
	model_class("VZVirtualMachineStartOptions", "NSObject", sizeof(struct vz), V(13, 0), 0, vz_dealloc, so_i, NULL);
	static const struct mdef macso_i[] = {
		MD("init", "@@:", plain_init, V(13, 0)),
		MD("startUpFromMacOSRecovery", "B@:", flag0, V(13, 0)),
		MD("setStartUpFromMacOSRecovery:", "v@:B", so_set_recovery, V(13, 0)),
		MD("guestProvisioningOptions", "@@:", so_provisioning, V(27, 0)),
		MD("setGuestProvisioningOptions:error:", "B@:@^@", so_set_provisioning, V(27, 0)),
		MDEF_END,
	};
	model_class("VZMacOSVirtualMachineStartOptions", "VZVirtualMachineStartOptions", 0, V(13, 0), ARM, NULL, macso_i, NULL);

	static const struct mdef gpo_i[] = { MD("validateWithError:", "B@:^@", prov_validate, V(27, 0)), MDEF_END };
	model_class("VZGuestProvisioningOptions", "NSObject", sizeof(struct vz), V(27, 0), C_NOINIT, vz_dealloc, gpo_i, NULL);
	static const struct mdef mgpo_i[] = {
		MD("init", "@@:", plain_init, V(27, 0)),
		MD("fullName", "@@:", ref0, V(27, 0)),
		MD("setFullName:", "v@:@", prov_set_full, V(27, 0)),
		MD("username", "@@:", ref1, V(27, 0)),
		MD("setUsername:", "v@:@", prov_set_user, V(27, 0)),
		MD("password", "@@:", ref2, V(27, 0)),
		MD("setPassword:", "v@:@", prov_set_password, V(27, 0)),
		MD("logsInAutomatically", "B@:", flag0, V(27, 0)),
		MD("setLogsInAutomatically:", "v@:B", prov_set_autologin, V(27, 0)),
		MD("enablesRemoteLogin", "B@:", flag1, V(27, 0)),
		MD("setEnablesRemoteLogin:", "v@:B", prov_set_ssh, V(27, 0)),
		MDEF_END,
	};
	model_class("VZMacGuestProvisioningOptions", "VZGuestProvisioningOptions", 0, V(27, 0), ARM, NULL, mgpo_i, NULL);
}
