/* mounts: one reader per host, the diff shared. */
#include "mounts.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#ifdef __APPLE__
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/ucred.h>
#else
#include <mntent.h>
#include <stdio.h>
#endif

static void add(struct mount_table *t, const char *dev, const char *dir)
{
	t->e = xrealloc(t->e, (t->n + 1) * sizeof *t->e);
	t->e[t->n].dev = xstrdup(dev);
	t->e[t->n].dir = xstrdup(dir);
	t->n++;
}

#ifdef __APPLE__
int mounts_read(struct mount_table *t)
{
	memset(t, 0, sizeof *t);
	struct statfs *fs;
	int n = getmntinfo(&fs, MNT_NOWAIT);
	if (n <= 0)
		return fail_sys(EX_OSERR, "cannot read the mount table");
	for (int i = 0; i < n; i++)
		add(t, fs[i].f_mntfromname, fs[i].f_mntonname);
	return 0;
}
#else
int mounts_read(struct mount_table *t)
{
	memset(t, 0, sizeof *t);
	FILE *f = setmntent("/proc/self/mounts", "r");
	if (!f)
		return fail_sys(EX_OSERR, "cannot read the mount table");
	struct mntent *m;
	while ((m = getmntent(f))) /* getmntent undoes the \040 escapes */
		add(t, m->mnt_fsname, m->mnt_dir);
	endmntent(f);
	return 0;
}
#endif

void mounts_free(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].dev);
		free(t->e[i].dir);
	}
	free(t->e);
	memset(t, 0, sizeof *t);
}

static bool has(const struct mount_table *t, const struct mount_entry *e)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].dev, e->dev) && !strcmp(t->e[i].dir, e->dir))
			return true;
	return false;
}

void mounts_added(const struct mount_table *before, const struct mount_table *after, struct mount_table *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < after->n; i++)
		if (!has(before, &after->e[i]))
			add(out, after->e[i].dev, after->e[i].dir);
}
