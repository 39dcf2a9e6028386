/* fileclone: a copy of a file that costs nothing where the file system can share blocks
 * (APFS clonefile(2) on macOS, FICLONE on Linux's btrfs and XFS), else a copy that keeps
 * holes holes (SEEK_DATA/SEEK_HOLE) after checking there is room for the data. The copy
 * is synced before the call returns; it never follows a symbolic link at either end, and
 * never replaces an existing file. Never prints; errors go through fail(). */
#ifndef CLAW_FILECLONE_H
#define CLAW_FILECLONE_H

#include <stdbool.h>
#include <stdint.h>

/* Copy srcdir/src to dstdir/dst (which must not exist), with src's mode. *shared says
 * whether the blocks were shared (nothing copied). where names dst in messages. */
int fileclone_at(int srcdir, const char *src, int dstdir, const char *dst, const char *where, bool *shared);

/* The bytes a file really holds on disk (its allocated blocks). */
int64_t fileclone_allocated(int dirfd, const char *name);

#endif
