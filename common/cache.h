/* cache: $CLAW_HOME/Cache (or --cache DIR), where downloaded IPSWs live as
 * restore-VERSION-BUILD.ipsw, each with a memo NAME.digest that remembers its
 * digest keyed by size and mtime, so a cache hit costs no rehash. Also lists
 * the cache and prunes what no bundle uses. Never prints. */
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
int cache_memo_put(const char *path, enum digest_alg alg, const char *hex, const char *url);
/* The cache as JSON: [{name, size, version?, build?, sha256?, sha1?, used_by: [...]}]. */
int cache_list(const char *dir, json_t **out);
/* Remove partial downloads and IPSWs no bundle's restore.ipsw points at; the removed paths in *removed. */
int cache_prune(const char *dir, json_t **removed);

/* Hold DEST.lock while a download makes DEST, so two fetches of one image (make -j2,
 * two shells) do not both write its .part: the second waits, then finds a cache hit.
 * The holder removes the file when done (cache_unlock, also from exit paths); a waiter
 * that then wins a lock on a removed file takes the new one instead. */
int cache_lock(const char *dest);
void cache_unlock(void);

#endif
