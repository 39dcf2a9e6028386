/* vmconfig: config.json through jansson, base64 through OpenSSL. */
#include "vmconfig.h"
#include "bundle.h"
#include "leases.h"
#include "log.h"
#include "util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *base64_of(const unsigned char *data, size_t len)
{
	char *text = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	json_t *s = json_string(text);
	free(text);
	return s;
}

/* EVP_DecodeBlock counts the padding as zero bytes; take them off again. */
static int base64_to(const char *text, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(text);
	if (n == 0 || n % 4 || n / 4 * 3 > max)
		return -1;
	int got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
	if (got < 0)
		return -1;
	size_t pad = (text[n - 1] == '=') + (text[n - 2] == '=');
	*len = (size_t)got - pad;
	return 0;
}

void vmconfig_random_mac(char out[18])
{
	struct mac m;
	if (RAND_bytes(m.b, sizeof m.b) != 1)
		die(EX_OSERR, "cannot get random bytes for a MAC address");
	m.b[0] = (unsigned char)((m.b[0] & 0xfe) | 0x02); /* unicast, locally administered */
	mac_format(&m, out);
}

int vmconfig_mac_normal(const char *in, char out[18])
{
	struct mac m;
	if (!in || !mac_parse(in, &m))
		return -1;
	mac_format(&m, out);
	return 0;
}

int vmconfig_write(struct bundle *b, const struct vmconfig *c)
{
	json_t *o = json_pack("{s:i, s:o, s:o, s:s, s:I, s:I, s:{s:I, s:I, s:I}, s:s, s:I, s:{s:s, s:s}}",
			      "version", VMCONFIG_VERSION,
			      "hardwareModel", base64_of(c->id.hw_model, c->id.hw_model_len),
			      "machineIdentifier", base64_of(c->id.machine_id, c->id.machine_id_len),
			      "macAddress", c->mac,
			      "cpuCount", (json_int_t)c->cpu,
			      "memorySize", (json_int_t)c->ram,
			      "display", "width", (json_int_t)c->width, "height", (json_int_t)c->height,
			      "ppi", (json_int_t)c->ppi,
			      "diskFormat", c->disk_format,
			      "diskSize", (json_int_t)c->disk_size,
			      "os", "version", c->os_version, "build", c->os_build);
	if (!o)
		return fail(EX_SOFTWARE, "cannot encode %s", BUNDLE_VMCONFIG);
	int rc = bundle_write_json(b, BUNDLE_VMCONFIG, o, 0644);
	json_decref(o);
	return rc;
}

static int bad(const char *where, const char *what)
{
	return fail(EX_DATAERR, "%s: %s", where, what);
}

static int copy_string(const char *v, char *out, size_t size)
{
	if (!v || strlen(v) >= size)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int vmconfig_read(const struct bundle *b, struct vmconfig *c)
{
	json_t *o;
	if (bundle_read_json(b, BUNDLE_VMCONFIG, &o) < 0)
		return -1;
	char *where = xasprintf("'%s/%s'", bundle_path(b), BUNDLE_VMCONFIG);
	int rc = vmconfig_parse(o, where, c);
	free(where);
	json_decref(o);
	return rc;
}

/* claw.yml's bound on a number (common/config.c), kept here: a screen has both sides, and a
 * number past an unsigned's range would wrap. */
#define DISPLAY_MAX 1000000

static bool display_ok(json_int_t w, json_int_t h, json_int_t ppi)
{
	return w >= 1 && w <= DISPLAY_MAX && h >= 1 && h <= DISPLAY_MAX && ppi >= 0 && ppi <= DISPLAY_MAX;
}

int vmconfig_parse(json_t *o, const char *where, struct vmconfig *c)
{
	memset(c, 0, sizeof *c);
	const char *hw = NULL, *mid = NULL, *mac = NULL, *fmt = "raw", *ver = "", *build = "";
	json_int_t version = 0, cpu = 0, ram = 0, w = 0, h = 0, ppi = 0, disk = 0;
	json_error_t err;
	int rc = -1;
	if (json_unpack_ex(o, &err, 0, "{s:I, s:s, s:s, s:s, s:I, s:I, s?{s:I, s:I, s:I}, s?s, s?I, s?{s?s, s?s}}",
			   "version", &version, "hardwareModel", &hw, "machineIdentifier", &mid, "macAddress", &mac,
			   "cpuCount", &cpu, "memorySize", &ram, "display", "width", &w, "height", &h, "ppi", &ppi,
			   "diskFormat", &fmt, "diskSize", &disk, "os", "version", &ver, "build", &build) < 0)
		bad(where, err.text);
	else if (version != VMCONFIG_VERSION)
		bad(where, "a config.json version this claw does not know");
	else if (base64_to(hw, c->id.hw_model, sizeof c->id.hw_model, &c->id.hw_model_len) < 0)
		bad(where, "hardwareModel is not base64");
	else if (base64_to(mid, c->id.machine_id, sizeof c->id.machine_id, &c->id.machine_id_len) < 0)
		bad(where, "machineIdentifier is not base64");
	else if (vmconfig_mac_normal(mac, c->mac) < 0)
		bad(where, "macAddress is not a MAC address");
	else if (cpu < 1 || cpu > 1024 || ram < (1 << 20) || disk < 0)
		bad(where, "cpuCount, memorySize or diskSize out of range");
	else if (json_object_get(o, "display") && !display_ok(w, h, ppi))
		bad(where, "display out of range (width and height from 1 to 1000000)");
	else if ((strcmp(fmt, "raw") && strcmp(fmt, "asif")) || copy_string(fmt, c->disk_format, sizeof c->disk_format) < 0)
		bad(where, "diskFormat is neither raw nor asif");
	else if (copy_string(ver, c->os_version, sizeof c->os_version) < 0 ||
		 copy_string(build, c->os_build, sizeof c->os_build) < 0)
		bad(where, "os.version or os.build too long");
	else
		rc = 0;
	c->cpu = (unsigned)cpu;
	c->ram = (uint64_t)ram;
	c->width = (unsigned)w, c->height = (unsigned)h, c->ppi = (unsigned)ppi;
	c->disk_size = (uint64_t)disk;
	return rc;
}
