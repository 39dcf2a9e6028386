/* bundle: NAME.clawbundle, the directory every stage reads and writes.
 * Owns every file name in it, where bundles live ($CLAW_HOME/VMs), the marker
 * that makes a directory a bundle (nothing writes into, or deletes, a directory
 * without it), the lock that keeps two processes from interleaving on one
 * bundle, atomic writes of files and JSON, and the stage stamps. Never prints;
 * errors go through fail(). */
#ifndef CLAW_BUNDLE_H
#define CLAW_BUNDLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BUNDLE_EXT ".clawbundle"
/* Written first into a new bundle, removed last from a deleted one: "claw-bundle FORMAT". */
#define BUNDLE_MARKER ".clawbundle"
#define BUNDLE_FORMAT 1
#define BUNDLE_CONFIG "claw.yml"
#define BUNDLE_IPSW_JSON "ipsw.json"
#define BUNDLE_IPSW "restore.ipsw"
#define BUNDLE_DISK "disk.img"
#define BUNDLE_AUX "aux.img"
#define BUNDLE_VMCONFIG "config.json"
#define BUNDLE_SSH_DIR "ssh"
#define BUNDLE_KNOWN_HOSTS "ssh/known_hosts"
#define BUNDLE_INJECT_JSON "inject.json"
#define BUNDLE_RUN_DIR "run"
#define BUNDLE_RUN_PID "run/pid"
#define BUNDLE_RUN_STATE "run/state"
#define BUNDLE_RUN_IP "run/ip"
#define BUNDLE_RUN_CONSOLE "run/console.log"
#define BUNDLE_RUN_SHARES "run/shares.json" /* the folders the running machine shares (shares.h) */
#define BUNDLE_RUN_SUSPEND "run/suspend" /* why the last SIGUSR1 did not save: "CODE message" */
#define BUNDLE_BOOT_LOG "boot.log"
#define BUNDLE_SAVED_STATE "state.vzvmsave"
#define BUNDLE_SAVED_SHARES "state.shares.json" /* the folders the saved state was made with (shares.h) */
#define BUNDLE_PROVISION_SH "provision.sh"
#define BUNDLE_PROVISION_LOG "provision.log"
#define BUNDLE_PROVISION_JSON "provision.json"
#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_STAMPS_DIR ".stamps"
#define BUNDLE_LOCK "lock"
#define BUNDLE_SNAPSHOTS_DIR "snapshots"
#define BUNDLE_IMAGE_JSON "image.json"
/* claw-pull's work in progress: the disk and auxiliary storage until verified, blobs in flight. */
#define BUNDLE_PULL_DIR "pull"

enum { BUNDLE_CREATE = 1 };

struct bundle; /* opaque */

/* $CLAW_HOME, or ~/ClawOS. */
char *bundle_home(void);
/* Where bundles given by name live: $CLAW_HOME/VMs. */
char *bundle_vms_dir(void);
/* A NAME (letters, digits, . _ -) or a path (holds a '/' or ends in .clawbundle). */
bool bundle_name_ok(const char *name);
/* NAME -> $CLAW_HOME/VMs/NAME.clawbundle; a path stays as it is. */
char *bundle_resolve(const char *name_or_path);

/* Open a bundle: a path ending in .clawbundle (or a NAME) whose directory holds the marker.
 * One made by an earlier claw (no marker, but its lock, config.json or ipsw.json) gets the
 * marker. With BUNDLE_CREATE a new one is made (0700, the marker first) where nothing is or
 * in an empty directory. Any other directory is refused before anything is written in it:
 * EX_NOINPUT, or EX_CANTCREAT with BUNDLE_CREATE. */
int bundle_open(const char *name_or_path, int flags, struct bundle **out);
void bundle_close(struct bundle *b);
const char *bundle_path(const struct bundle *b);
/* The name without directory and .clawbundle. */
const char *bundle_name(const struct bundle *b);
int bundle_dirfd(const struct bundle *b);
/* A new string: the bundle's path joined with a file name. */
char *bundle_file(const struct bundle *b, const char *name);
bool bundle_has(const struct bundle *b, const char *name);

/* Take the bundle's lock; with wait, block until the holder lets go, else fail
 * with EX_TEMPFAIL naming the holder's pid. Held until bundle_close or exit. */
int bundle_lock(struct bundle *b, bool wait);

/* Let go of the lock before bundle_close (for every process that shares it, a forked child too). */
void bundle_unlock(struct bundle *b);

/* Make a subdirectory (ssh, run, .stamps) if it is missing; one that is there must be a real
 * folder, not a symbolic link (EX_DATAERR). */
int bundle_mkdir(struct bundle *b, const char *name, mode_t mode);
int bundle_write(struct bundle *b, const char *name, const void *data, size_t len, mode_t mode);
int bundle_write_json(struct bundle *b, const char *name, json_t *obj, mode_t mode);
/* EX_NOINPUT when missing, EX_DATAERR when it is not a JSON object. */
int bundle_read_json(const struct bundle *b, const char *name, json_t **out);
int bundle_remove(struct bundle *b, const char *name);
/* Point name at target (a symbolic link), replacing what was there atomically. */
int bundle_symlink(struct bundle *b, const char *name, const char *target);

/* Delete a bundle and nothing else: a symbolic link loses the link only; a directory must hold
 * the marker, must not be /, $HOME, $CLAW_HOME, its VMs or the working directory, and must
 * not be running or locked (EX_TEMPFAIL). Only the entries the bundle layout names are
 * removed, never across a mount; anything else found in it is kept, listed in *kept
 * (newline-separated, the caller frees it), with the marker, and the call fails
 * (EX_DATAERR). */
int bundle_destroy(const char *name_or_path, char **kept);

/* Remove parent/name and all it holds, never following a symbolic link nor leaving
 * parent's file system; a missing one is no error. where names parent in messages. */
int bundle_remove_tree_at(int parent, const char *name, const char *where);

/* Give one file of the bundle ("." for the bundle itself) to uid:gid (a symbolic link
 * itself, never followed; a missing file is no error). */
int bundle_chown(const struct bundle *b, const char *name, uid_t uid, gid_t gid);

/* The key of claw's keyed digests ($CLAW_HOME/stamp.key, 32 random bytes, 0600, made on first
 * use): stamps digest inputs that include secrets, and must not reveal them. */
#define BUNDLE_STAMP_KEY "stamp.key"
#define BUNDLE_STAMP_KEY_LEN 32
int bundle_stamp_key(unsigned char key[BUNDLE_STAMP_KEY_LEN]);

/* Stage stamps: .stamps/STAGE holds the digest of the inputs the stage last
 * succeeded with. get returns 1 when there is none. */
int bundle_stamp_get(const struct bundle *b, const char *stage, char *hex, size_t size);
int bundle_stamp_set(struct bundle *b, const char *stage, const char *hex);
int bundle_stamp_clear(struct bundle *b, const char *stage);

#endif
