/* libFuzzer target for claw's parsers: the first byte picks one, the rest is its input.
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined). A crash,
 * a leak or a sanitizer report is a finding; the parsers' own errors are not. */
#include "catalog.h"
#include "config.h"
#include "leases.h"
#include "plistx.h"
#include "record.h"
#include "shadowhash.h"
#include "verify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	switch (data[0] % 8) {
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
	}
	free(s);
	return 0;
}
