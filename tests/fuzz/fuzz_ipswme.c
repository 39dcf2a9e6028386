/* fuzz target: ipsw.me's answer for a device (GET /v4/device/VirtualMac2,1), as claw-resolve
 * reads it for a version, a build and the newest signed. */
#include "catalog.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const specs[] = { "26", "26.1", "25B78", "15.2", NULL };
	for (int i = 0; specs[i]; i++) {
		json_t *rec = NULL;
		if (ipswme_select((const char *)data, size, specs[i], &rec) == 0)
			json_decref(rec);
	}
	return 0;
}
