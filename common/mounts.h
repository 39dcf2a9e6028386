/* mounts: the system's mount table as a list of (device, mount point), read
 * the way each host keeps it — getmntinfo(3) on macOS, /proc/self/mounts
 * elsewhere — so that what an attach mounted is found by a before/after diff. */
#ifndef CLAW_MOUNTS_H
#define CLAW_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

struct mount_entry {
	char *dev; /* "/dev/disk21s1" */
	char *dir; /* "/Volumes/Data 1" */
};

struct mount_table {
	struct mount_entry *e;
	size_t n;
};

int mounts_read(struct mount_table *t);
void mounts_free(struct mount_table *t);
/* The entries of after that are not in before (same device on the same point). */
void mounts_added(const struct mount_table *before, const struct mount_table *after, struct mount_table *out);

#endif
