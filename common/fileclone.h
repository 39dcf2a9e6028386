/* fileclone: a copy of a file that costs nothing where the file system can share blocks
 * (APFS clonefile(2) on macOS, FICLONE on Linux's btrfs and XFS), else a copy that keeps
 * holes holes (SEEK_DATA/SEEK_HOLE) after checking there is room for the data. The copy
 * is synced before the call returns; it never follows a symbolic link at either end, and
 * never replaces an existing file, but for fileclone_over, which rewrites one in place.
 * Never prints; errors go through fail(). */
#ifndef CLAW_FILECLONE_H
#define CLAW_FILECLONE_H

#include <stdbool.h>
#include <stdint.h>

/* Copy srcdir/src to dstdir/dst (which must not exist), with src's mode. *shared says
 * whether the blocks were shared (nothing copied). where names dst in messages. */
int fileclone_at(int srcdir, const char *src, int dstdir, const char *dst, const char *where, bool *shared);

/* Share srcdir/src's blocks as dstdir/dst (which must not exist): 0 when done, 1 when the
 * file system cannot (nothing is left behind), -1 on failure. */
int fileclone_share_at(int srcdir, const char *src, int dstdir, const char *dst, const char *where);

/* Whether dstdir/dst can be made to hold what srcdir/src holds in place (fileclone_over): 1
 * when it cannot (absent, not a regular file, or linked from elsewhere); else 0, with *need the
 * bytes the rewrite takes that dst does not hold now (src's data over dst's holes). */
int fileclone_over_check(int srcdir, const char *src, int dstdir, const char *dst, const char *where, int64_t *need);

/* Rewrite dstdir/dst in place to hold what srcdir/src holds, holes as holes, and sync it:
 * dst's data over src's holes is punched out, src's data copied over. Nothing is freed and
 * allocated again where both hold data, so a rollback of a big disk costs its data's copy.
 * Not atomic: a caller that needs all or nothing journals it and repeats it. */
int fileclone_over(int srcdir, const char *src, int dstdir, const char *dst, const char *where);

/* 0 when dstdir's file system has need bytes free, else fail(EX_CANTCREAT) naming where. */
int fileclone_room(int dstdir, int64_t need, const char *where);

/* The bytes a file really holds on disk (its allocated blocks). */
int64_t fileclone_allocated(int dirfd, const char *name);

#endif
