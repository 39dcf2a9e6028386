/* shares: the host folders a machine shares with its guest (VirtioFS) — claw.yml's vm.shares
 * and claw-boot's --dir [NAME:]PATH[:ro] — checked before anything starts, and their record
 * in run/shares.json while the machine runs.
 * Owns a share's name (the rules VZMultipleDirectoryShare documents; VZ may refuse more, and
 * vz.c asks it), its default (the folder's base name), that names are unique, that each folder
 * is one, and that the guest mounts shares at all (macOS 13 on). Never prints; fail() on errors. */
#ifndef CLAW_SHARES_H
#define CLAW_SHARES_H

#include "vm.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bundle;
struct claw_config;

/* Where a macOS guest mounts the folders of a device with the automount tag, one per name. */
#define SHARES_GUEST_DIR "/Volumes/My Shared Files"
/* macOS guests mount shares from this release on (tart --dir; Code-Hex/vz wiki: VZ-API.md §13). */
#define SHARES_MIN_GUEST 13

struct share_list {
	struct vm_share *items; /* names and paths owned by the list */
	char **origins;         /* where each was given, for messages: "claw.yml:7:9", "--dir 'src:~/src'" */
	size_t n;
};
#define SHARE_LIST_ZERO { NULL, NULL, 0 }

/* Why name cannot name a share, or NULL when it can: empty, "." or "..", a '/' or NUL in it,
 * longer than NAME_MAX bytes, or not UTF-8. */
const char *share_name_problem(const char *name, size_t len);
/* A folder's base name ("~/src/" -> "src"; "." -> the current folder's), a new string; "" when
 * it has none ("/"). */
char *share_default_name(const char *path);

/* Add claw.yml's vm.shares (already checked by config_load: names, unique). */
void shares_add_config(struct share_list *l, const struct claw_config *cfg);
/* Add one --dir [NAME:]PATH[:ro]: EX_USAGE for no path, an unknown suffix, a bad name, or a
 * name already taken. */
int shares_add_dir(struct share_list *l, const char *arg);
/* Move more's shares (--dir's) after l's (claw.yml's): EX_USAGE, and nothing moved, when a
 * name is taken. A per-boot share adds to claw.yml's; it never silently replaces one. */
int shares_add_list(struct share_list *l, struct share_list *more);
/* Before the machine is built: every folder is there and is a folder (EX_NOINPUT, naming it),
 * and each path becomes its real one; a guest older than SHARES_MIN_GUEST (config.json's
 * os.version; "" when unknown) is refused with EX_UNAVAILABLE. */
int shares_check(struct share_list *l, const char *guest_version);
void shares_free(struct share_list *l);

/* The same folders under the same names, read-only alike (in any order). */
bool shares_same(const struct share_list *a, const struct share_list *b);
/* The shares a saved state was made with, {"shares": [...]} in the bundle's file name
 * (BUNDLE_SAVED_SHARES):
 * written with the state, read back to resume it with exactly those. Reading a bundle without
 * the file gives none (a state saved without shares). EX_DATAERR for a file that is not one. */
int shares_save(struct bundle *b, const char *name, const struct share_list *l);
int shares_load(struct bundle *b, const char *name, struct share_list *l);
/* The shares as --dir takes them, "'NAME:PATH[:ro]', ..." ("no folders"), a new string. */
char *shares_as_dirs(const struct share_list *l);

/* [{name, path, read_only, mount}] (a new reference). */
json_t *shares_json(const struct share_list *l);
/* run/shares.json: {"pid": PID, "shares": [...]}, for claw-ls while pid runs the machine;
 * run_release removes it with run/. */
int shares_record(struct bundle *b, const struct share_list *l, pid_t pid);
/* The shares of the machine pid runs (a new reference), or NULL: no record, or one a boot that
 * died left behind. */
json_t *shares_running(const struct bundle *b, pid_t pid);

#endif
