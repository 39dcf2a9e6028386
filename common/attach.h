/* attach: a VM's disk image attached on the host (hdiutil for RAW, diskutil
 * image for ASIF), its guest Data volume found and mounted, ownership enabled,
 * and detached again (forced if it must be). macOS only in use; the tests drive
 * it with tests/fakes/hdiutil and diskutil. Never prints; fail() on errors. */
#ifndef CLAW_ATTACH_H
#define CLAW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

struct attach {
	char *disk;        /* "/dev/disk20": the image's disk, what detach takes */
	char **containers; /* its APFS containers, "/dev/disk21" */
	size_t ncontainers;
	char **devs;       /* every device the attach reported */
	size_t ndevs;
	char *data;        /* where the guest's Data volume is mounted */
	bool attached;
};

int attach_image(const char *image, const char *format, struct attach *a);
int attach_find_data(struct attach *a);
int attach_enable_ownership(const struct attach *a);
/* Safe to call twice, and before a successful attach. */
int attach_detach(struct attach *a);
void attach_free(struct attach *a);

#endif
