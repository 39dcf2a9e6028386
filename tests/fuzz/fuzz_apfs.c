/* fuzz target: what `diskutil apfs list -plist` prints, as claw-inject reads it for the Data
 * volume of the image it attached. The image's disks are ones the seeds name. */
#include "attach.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *containers[] = { (char *)"/dev/disk1", (char *)"/dev/disk3" };
	struct attach a = { .disk = (char *)"/dev/disk0", .containers = containers, .ncontainers = 2 };
	char *dev = NULL;
	if (attach_read_apfs_list(&a, (const char *)data, size, "diskutil apfs list", &dev) == 0)
		FUZZ_CHECK(dev && !strncmp(dev, "/dev/", 5));
	free(dev);
	return 0;
}
