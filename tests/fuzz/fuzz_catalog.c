/* fuzz target: Apple's macOS IPSW catalog (the mesu plist), as claw-resolve reads it for
 * "latest" and for the URL the host's Virtualization.framework names. */
#include "catalog.h"
#include "fuzz.h"

#define URL "https://updates.cdn-apple.com/2026SummerFCS/fullrestores/140-65618/10445B26-DE2C-43EC-9149-0A831602E74B/UniversalMac_26.6_25G72_Restore.ipsw"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = NULL;
	if (catalog_latest((const char *)data, size, &rec) == 0) {
		FUZZ_CHECK(json_is_string(json_object_get(rec, "url")));
		json_decref(rec);
	}
	rec = NULL;
	if (catalog_by_url((const char *)data, size, URL, &rec) == 0) {
		FUZZ_CHECK(!strcmp(json_string_value(json_object_get(rec, "url")), URL));
		json_decref(rec);
	}
	return 0;
}
