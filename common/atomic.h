/* atomic: replace a file so that readers see the old one or the new one, never half.
 * Temporary name in the same directory (O_EXCL), write, fsync, checked close,
 * rename, fsync the directory; the temporary is unlinked on any error. */
#ifndef CLAW_ATOMIC_H
#define CLAW_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/* dirfd: the directory holding name; where: the directory's path, for messages. */
int atomic_write_at(int dirfd, const char *where, const char *name,
		    const void *data, size_t len, mode_t mode);
/* Same for a path. */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode);

#endif
