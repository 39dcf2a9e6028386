/* fuzz target: what `hdiutil attach -plist` (or `diskutil image attach -plist`) prints, as
 * claw-inject reads it for the image's disk and APFS containers. */
#include "attach.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attach a = { 0 };
	if (attach_read_attach(&a, (const char *)data, size, "hdiutil attach", "fuzz.img") == 0)
		FUZZ_CHECK(a.disk && !strncmp(a.disk, "/dev/disk", 9));
	attach_free(&a);
	return 0;
}
