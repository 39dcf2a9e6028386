/* cache: $CLAW_HOME/Cache (or --cache DIR), where downloaded IPSWs live as
 * restore-VERSION-BUILD.ipsw, each with a memo NAME.digest that remembers its
 * digest keyed by size and mtime, so a cache hit costs no rehash. Also lists
 * the cache and prunes what claw-fetch made there and no bundle uses: never a
 * file without claw-fetch's memo or state beside it. Never prints. */
#ifndef CLAW_CACHE_H
#define CLAW_CACHE_H

#include "digest.h"

#include <jansson.h>
#include <stdbool.h>

char *cache_dir(const char *flag);
/* restore-VERSION-BUILD.ipsw when the record knows both, else the URL's own file name made safe. */
char *cache_name(json_t *rec);
/* The digest remembered for path, if the memo's size and mtime still match the file. */
bool cache_memo_get(const char *path, enum digest_alg alg, char hex[DIGEST_HEX_MAX]);
/* Remember path's digest, keyed by the size and mtime of file (NULL: path itself): a .part
 * about to be renamed to path gets its memo first, so no crash leaves a claw-made image
 * without one. */
int cache_memo_put(const char *path, const char *file, enum digest_alg alg, const char *hex, const char *url);
/* Is there a memo of claw-fetch's beside path, current or not? */
bool cache_memo_exists(const char *path);
/* The cache as JSON: [{name, size, version?, build?, sha256?, sha1?, used_by: [...]}]. */
int cache_list(const char *dir, json_t **out);
/* Remove what claw-fetch made in dir: images with a memo that still describes them and that
 * no bundle's restore.ipsw points at, partial downloads with their .state, and memos and
 * states left alone. The removed paths in *removed, every other file in *kept. Unless
 * dir is the default cache, refuses (EX_USAGE) a dir with no memo or state of claw's. */
int cache_prune(const char *dir, bool default_cache, json_t **removed, json_t **kept);

/* Hold DEST.lock while a download makes DEST, so two fetches of one image (make -j2,
 * two shells) do not both write its .part: the second waits, then finds a cache hit.
 * The holder removes the file when done (cache_unlock, also from exit paths); a waiter
 * that then wins a lock on a removed file takes the new one instead. */
int cache_lock(const char *dest);
void cache_unlock(void);
/* Only remove the lock file (async-signal-safe): for a signal's handler about to end the program. */
void cache_unlock_now(void);

#endif
