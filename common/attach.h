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

/* The tools' answers, as they print them (what names the tool in errors; diskutil's own
 * error plist is EX_IOERR with its message). From `hdiutil attach -plist` or `diskutil image
 * attach -plist`: every device into a->devs, each whole disk with an APFS container's hint
 * into a->containers, the first other whole disk (else the first container) as a->disk;
 * EX_DATAERR naming image when there is none. */
int attach_read_attach(struct attach *a, const char *out, size_t len, const char *what, const char *image);
/* From `diskutil apfs list -plist`: "/dev/diskNsM" of the volume with the Data role in one
 * of a's containers (or on a->disk) into *dev (free it); EX_DATAERR when none has it. */
int attach_read_apfs_list(const struct attach *a, const char *out, size_t len, const char *what, char **dev);

#endif
