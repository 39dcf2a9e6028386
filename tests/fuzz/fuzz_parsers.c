/* libFuzzer target for claw's parsers: the first byte picks one, the rest is its input.
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined). A crash,
 * a leak or a sanitizer report is a finding; the parsers' own errors are not. */
#include "applelz4.h"
#include "catalog.h"
#include "config.h"
#include "leases.h"
#include "plistx.h"
#include "record.h"
#include "shadowhash.h"
#include "tart.h"
#include "verify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int discard(const char *data, size_t len, void *arg)
{
	(void)data, (void)len, (void)arg;
	return 0;
}

static void ignore_bad(int line, const char *why, void *arg)
{
	(void)line, (void)why, (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	/* Parsers that want a C string get a NUL-terminated copy. */
	char *s = malloc(len + 1);
	memcpy(s, text, len);
	s[len] = '\0';
	json_t *j = NULL;
	struct claw_config *c = NULL;
	switch (data[0] % 11) {
	case 0:
		if (config_load_string(s, len, "fuzz.yml", &c) == 0)
			config_free(c);
		break;
	case 1:
		if (record_parse(s, len, "fuzz", &j) == 0)
			json_decref(j);
		break;
	case 2: {
		struct mac m = { { 0xee, 0xa7, 0x85, 0x09, 0x92, 0x39 } };
		struct lease_hit hit;
		char ip[64];
		leases_find(s, len, &m, 0, &hit, ignore_bad, NULL);
		arp_find(s, &m, ip);
		break;
	}
	case 3:
		if (catalog_latest(text, len, &j) == 0)
			json_decref(j);
		break;
	case 4:
		if (ipswme_select(text, len, "15", &j) == 0)
			json_decref(j);
		break;
	case 5: {
		bool match;
		shadowhash_verify(text, len, "pw", &match);
		break;
	}
	case 6: /* plist bytes from the guest or a tool: the binary bounds first, then libplist */
		plist_free(plistx_parse(text, len, "fuzz"));
		break;
	case 7: {
		static struct claw_config *tools;
		static const char yml[] = "tools:\n  homebrew: true\n  packages: [git, python3]\n  casks: [firefox]\n"
					  "  npm_global: [\"@s/x@1\", y]\n";
		if (!tools && config_load_string(yml, sizeof yml - 1, "fuzz.yml", &tools) < 0)
			break;
		if (verify_judge(tools, text, len, &j) == 0)
			json_decref(j);
		break;
	}
	case 8: { /* a disk layer from a registry: Apple's LZ4 stream, fed in two pieces */
		struct alz4_dec *d = alz4_dec_new(1 << 20, discard, NULL);
		if (alz4_dec_feed(d, text, len / 2) == 0 && alz4_dec_feed(d, text + len / 2, len - len / 2) == 0)
			alz4_dec_finish(d);
		alz4_dec_free(d);
		break;
	}
	case 9: { /* a manifest from a registry, read as tart's layout */
		struct tart_image img;
		if ((j = json_loadb(text, len, 0, NULL)) && tart_image_parse(j, &img) == 0)
			tart_image_free(&img);
		json_decref(j);
		break;
	}
	case 10: { /* a reference from the command line, and tart's config from a registry */
		struct oci_ref ref;
		struct vmconfig vc;
		oci_ref_parse(s, &ref);
		tart_config_to_claw(text, len, 1 << 20, &vc);
		break;
	}
	}
	free(s);
	return 0;
}
