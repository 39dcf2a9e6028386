/* attach: the conversation with hdiutil and diskutil that puts a guest's Data
 * volume under a path, and takes it away again. Every answer is read as the
 * plist the tool prints, through libplist; every tool is spawned with an argv.
 *
 * Finding the Data volume: the mount table before and after mounting the
 * image's APFS containers is diffed, and a new mount holding private/var/db is
 * the one. Scanning /Volumes instead would find the host's own "Macintosh HD -
 * Data". When the diff does not decide (nothing new, or more than one), the
 * container's volume with the Data role from `diskutil apfs list -plist` is. */
#include "attach.h"
#include "log.h"
#include "mounts.h"
#include "plistx.h"
#include "spawn.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The GUID of an APFS container; text output truncates it, plists do not. */
#define APFS_CONTAINER_HINT "EF57347C-0000-11AA-AA11"
#define TOOL_TIMEOUT_MS 120000
#define ATTACH_SETTLE_MS 10000 /* how long the Data volume may take to show up after mountDisk */
#define ATTACH_POLL_MS 200

static void list_add(char ***list, size_t *n, const char *s)
{
	*list = xrealloc(*list, (*n + 1) * sizeof **list);
	(*list)[(*n)++] = xstrdup(s);
}

static void list_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* A tool's answer as a plist: NULL and fail() when it is not one, or when it is diskutil's
 * report of an error ({Error = true; ErrorMessage = ...}). */
static plist_t answer_plist(const char *out, size_t len, const char *what)
{
	plist_t p = plistx_parse(out, len, what);
	const char *msg = p ? plistx_dict_string(p, "ErrorMessage") : NULL;
	if (msg) {
		fail(EX_IOERR, "%s failed: %s", what, msg);
		plist_free(p);
		p = NULL;
	}
	return p;
}

/* Run a tool for its answer on stdout: a plist, or an error when it failed without one. */
static int tool_output(const char *const argv[], const char *what, struct spawn_result *r)
{
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	o.capture_out = o.capture_err = true;
	o.timeout_ms = TOOL_TIMEOUT_MS;
	if (spawn_run(argv, &o, r) < 0)
		return -1;
	if (r->status != 0 && (!r->out.len || !strstr(r->out.data, "<plist"))) {
		fail(EX_IOERR, "%s failed: %s", what, spawn_err_line(r, "no reason given"));
		spawn_result_free(r);
		return -1;
	}
	return 0;
}

static int tool_run(const char *const argv[], const char *what)
{
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	o.capture_out = o.capture_err = true;
	o.timeout_ms = TOOL_TIMEOUT_MS;
	struct spawn_result r;
	if (spawn_run(argv, &o, &r) < 0)
		return -1;
	int rc = r.status == 0 ? 0 : fail(EX_IOERR, "%s failed: %s", what, spawn_err_line(&r, "no reason given"));
	spawn_result_free(&r);
	return rc;
}

/* "/dev/disk21s1" -> is it "/dev/disk21" or a slice of it? */
static bool on_disk(const char *dev, const char *disk)
{
	size_t n = strlen(disk);
	return !strncmp(dev, disk, n) && (dev[n] == '\0' || dev[n] == 's');
}

static bool is_whole_disk(const char *dev)
{
	const char *p = strncmp(dev, "/dev/disk", 9) ? NULL : dev + 9;
	if (!p || !*p)
		return false;
	return strspn(p, "0123456789") == strlen(p);
}

static void read_entities(struct attach *a, plist_t top)
{
	plist_t ents = plist_dict_get_item(top, "system-entities");
	uint32_t n = plist_get_node_type(ents) == PLIST_ARRAY ? plist_array_get_size(ents) : 0;
	for (uint32_t i = 0; i < n; i++) {
		plist_t e = plist_array_get_item(ents, i);
		const char *dev = plistx_dict_string(e, "dev-entry"), *hint = plistx_dict_string(e, "content-hint");
		if (!dev)
			continue;
		list_add(&a->devs, &a->ndevs, dev);
		if (!is_whole_disk(dev))
			continue;
		if (hint && !strncmp(hint, APFS_CONTAINER_HINT, strlen(APFS_CONTAINER_HINT)))
			list_add(&a->containers, &a->ncontainers, dev);
		else if (!a->disk)
			a->disk = xstrdup(dev); /* the image's own disk, the one to detach */
	}
}

int attach_read_attach(struct attach *a, const char *out, size_t len, const char *what, const char *image)
{
	plist_t p = answer_plist(out, len, what);
	if (!p)
		return -1;
	read_entities(a, p);
	plist_free(p);
	if (!a->disk && a->ncontainers)
		a->disk = xstrdup(a->containers[0]);
	if (!a->disk)
		return fail(EX_DATAERR, "attaching '%s' gave no disk", image);
	return 0;
}

int attach_image(const char *image, const char *format, struct attach *a)
{
	memset(a, 0, sizeof *a);
	/* -owners on: without it the image's volumes mount with ownership ignored. */
	const char *hdi[] = { "hdiutil", "attach", "-owners", "on", "-nomount", "-plist", image, NULL };
	const char *asif[] = { "diskutil", "image", "attach", "-nomount", "-plist", image, NULL };
	bool is_asif = format && !strcmp(format, "asif");
	const char *what = is_asif ? "diskutil image attach" : "hdiutil attach";
	struct spawn_result r;
	if (tool_output(is_asif ? asif : hdi, what, &r) < 0)
		return -1;
	int rc = attach_read_attach(a, r.out.data ? r.out.data : "", r.out.len, what, image);
	spawn_result_free(&r);
	if (rc == 0)
		a->attached = true;
	return rc;
}

static bool ours(const struct attach *a, const char *dev)
{
	for (size_t i = 0; i < a->ncontainers; i++)
		if (on_disk(dev, a->containers[i]))
			return true;
	return on_disk(dev, a->disk);
}

static bool looks_like_data(const char *dir)
{
	char *p = xasprintf("%s/private/var/db", dir);
	struct stat st;
	bool yes = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return yes;
}

/* Exactly one new mount of ours that holds private/var/db; else NULL. */
static const char *data_by_diff(const struct attach *a, const struct mount_table *added)
{
	const char *found = NULL;
	for (size_t i = 0; i < added->n; i++) {
		if (!ours(a, added->e[i].dev) || !looks_like_data(added->e[i].dir))
			continue;
		if (found)
			return NULL;
		found = added->e[i].dir;
	}
	return found;
}

static bool has_role(plist_t vol, const char *role)
{
	plist_t roles = plist_dict_get_item(vol, "Roles");
	uint32_t n = plist_get_node_type(roles) == PLIST_ARRAY ? plist_array_get_size(roles) : 0;
	for (uint32_t i = 0; i < n; i++) {
		char *s = NULL;
		plist_t r = plist_array_get_item(roles, i);
		if (plist_get_node_type(r) == PLIST_STRING)
			plist_get_string_val(r, &s);
		bool match = s && !strcmp(s, role);
		free(s);
		if (match)
			return true;
	}
	return false;
}

int attach_read_apfs_list(const struct attach *a, const char *out, size_t len, const char *what, char **dev)
{
	*dev = NULL;
	plist_t p = answer_plist(out, len, what);
	if (!p)
		return -1;
	plist_t conts = plist_dict_get_item(p, "Containers");
	uint32_t n = plist_get_node_type(conts) == PLIST_ARRAY ? plist_array_get_size(conts) : 0;
	for (uint32_t i = 0; i < n && !*dev; i++) {
		plist_t c = plist_array_get_item(conts, i);
		const char *ref = plistx_dict_string(c, "ContainerReference");
		char *cdev = ref ? xasprintf("/dev/%s", ref) : NULL;
		if (cdev && ours(a, cdev)) {
			plist_t vols = plist_dict_get_item(c, "Volumes");
			uint32_t m = plist_get_node_type(vols) == PLIST_ARRAY ? plist_array_get_size(vols) : 0;
			for (uint32_t j = 0; j < m && !*dev; j++) {
				plist_t v = plist_array_get_item(vols, j);
				const char *id = plistx_dict_string(v, "DeviceIdentifier");
				if (id && has_role(v, "Data"))
					*dev = xasprintf("/dev/%s", id);
			}
		}
		free(cdev);
	}
	plist_free(p);
	return *dev ? 0 : fail(EX_DATAERR, "no volume with the Data role on %s", a->disk);
}

/* "/dev/diskN" of the volume with the Data role in one of our containers. */
static char *data_by_role(const struct attach *a)
{
	const char *argv[] = { "diskutil", "apfs", "list", "-plist", NULL };
	struct spawn_result r;
	char *dev = NULL;
	if (tool_output(argv, "diskutil apfs list", &r) < 0)
		return NULL;
	attach_read_apfs_list(a, r.out.data ? r.out.data : "", r.out.len, "diskutil apfs list", &dev);
	spawn_result_free(&r);
	return dev;
}

static const char *mounted_at(const struct mount_table *t, const char *dev)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].dev, dev))
			return t->e[i].dir;
	return NULL;
}

static int mount_all(const struct attach *a)
{
	for (size_t i = 0; i < (a->ncontainers ? a->ncontainers : 1); i++) {
		const char *dev = a->ncontainers ? a->containers[i] : a->disk;
		const char *argv[] = { "diskutil", "mountDisk", dev, NULL };
		/* A container with a volume that will not mount still mounts the others. */
		tool_run(argv, "diskutil mountDisk");
	}
	return 0;
}

/* The Data volume by role, mounted if mountDisk left it alone. */
static int find_by_role(struct attach *a, struct mount_table *now)
{
	char *dev = data_by_role(a);
	if (!dev)
		return -1;
	const char *dir = mounted_at(now, dev);
	if (!dir) {
		const char *argv[] = { "diskutil", "mount", dev, NULL };
		if (tool_run(argv, "diskutil mount") < 0 || (mounts_free(now), mounts_read(now)) < 0) {
			free(dev);
			return -1;
		}
		dir = mounted_at(now, dev);
	}
	if (dir)
		a->data = xstrdup(dir);
	else
		fail(EX_DATAERR, "the Data volume %s did not mount", dev);
	free(dev);
	return a->data ? 0 : -1;
}

/* The mount table now, and the Data volume by the diff against before (NULL if none yet). */
static const char *diff_now(const struct attach *a, const struct mount_table *before, struct mount_table *after,
			    struct mount_table *added)
{
	if (mounts_read(after) < 0)
		return NULL;
	mounts_added(before, after, added);
	return data_by_diff(a, added);
}

int attach_find_data(struct attach *a)
{
	struct mount_table before, after = { 0 }, added = { 0 };
	if (mounts_read(&before) < 0)
		return -1;
	mount_all(a);
	/* mountDisk can return before diskarbitrationd has mounted every volume: poll a while. */
	const char *dir = NULL;
	for (int waited = 0;; waited += ATTACH_POLL_MS) {
		mounts_free(&after);
		mounts_free(&added);
		dir = diff_now(a, &before, &after, &added);
		if (dir || waited >= ATTACH_SETTLE_MS)
			break;
		struct timespec t = { 0, ATTACH_POLL_MS * 1000000L };
		nanosleep(&t, NULL);
	}
	int rc = 0;
	if (dir)
		a->data = xstrdup(dir);
	else
		rc = find_by_role(a, &after);
	mounts_free(&before);
	mounts_free(&after);
	mounts_free(&added);
	return rc;
}

int attach_enable_ownership(const struct attach *a)
{
	const char *argv[] = { "diskutil", "enableOwnership", a->data, NULL };
	/* Without it every chown on the volume is silently ignored. */
	return tool_run(argv, "diskutil enableOwnership");
}

/* Force every volume of the image off, the containers first, so a last detach can go. */
static void unmount_forced(const struct attach *a)
{
	for (size_t i = 0; i <= a->ncontainers; i++) {
		const char *dev = i < a->ncontainers ? a->containers[i] : a->disk;
		const char *argv[] = { "diskutil", "unmountDisk", "force", dev, NULL };
		tool_run(argv, "diskutil unmountDisk force");
	}
}

int attach_detach(struct attach *a)
{
	if (!a->attached)
		return 0;
	const char *argv[] = { "hdiutil", "detach", a->disk, NULL };
	const char *force[] = { "hdiutil", "detach", "-force", a->disk, NULL };
	if (tool_run(argv, "hdiutil detach") < 0 && tool_run(force, "hdiutil detach -force") < 0) {
		unmount_forced(a);
		if (tool_run(force, "hdiutil detach -force") < 0)
			return -1;
	}
	a->attached = false;
	return 0;
}

void attach_free(struct attach *a)
{
	free(a->disk);
	free(a->data);
	list_free(a->devs, a->ndevs);
	list_free(a->containers, a->ncontainers);
	memset(a, 0, sizeof *a);
}
