/* snapshot: named copies of a stopped or suspended machine, kept in its bundle under
 * snapshots/TAG/ — the disk, the auxiliary storage, config.json, the saved state when
 * there is one, ssh/known_hosts, the records (ipsw.json, inject.json, provision.*,
 * manifest.json) and the stage stamps, so that after a rollback claw create reruns
 * exactly what the rolled-back state lacks. Copies share blocks where the file system
 * can (fileclone.h). Taking one is a rename of a finished folder; a rollback stages its
 * files, writes a journal and only then moves them in, and an interrupted one is finished
 * by the next command that opens the bundle: either the old state or the new, never a mix.
 * The caller holds the bundle's lock. Never prints; errors go through fail(). */
#ifndef CLAW_SNAPSHOT_H
#define CLAW_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>

struct bundle;

#define SNAPSHOT_META "snapshot.json"
#define SNAPSHOT_JOURNAL ".rollback"
#define SNAPSHOT_STAGING ".rollback.d"

/* A tag: letters, digits, '.', '_', '-', starting with a letter or digit, at most 64. */
bool snapshot_tag_ok(const char *tag);
/* TAG defaults (NULL) to the time, YYYYMMDD-HHMMSS. The machine must not run (75) and must be
 * restored (66); an existing TAG is 73. The new tag in *made (the caller frees it). */
int snapshot_take(struct bundle *b, const char *tag, char **made);
/* [{tag, created, state, bytes}] oldest first; bytes is what the copies hold on disk. */
int snapshot_list(struct bundle *b, json_t **out);
int snapshot_rollback(struct bundle *b, const char *tag);
int snapshot_remove(struct bundle *b, const char *tag);
/* Finish a rollback a killed process left half done (its journal is there). */
int snapshot_finish(int dirfd, const char *path);

#endif
