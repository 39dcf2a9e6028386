/* plistx: libplist, the same on every version we build with (2.2 returns void
 * where 2.3+ returns an error code): parse XML or binary, serialise, walk.
 * Never prints. */
#ifndef CLAW_PLISTX_H
#define CLAW_PLISTX_H

#include <plist/plist.h>
#include <stddef.h>

/* Parse XML or binary plist bytes; NULL (and EX_DATAERR recorded, naming what) if it is not one. */
plist_t plistx_parse(const char *data, size_t len, const char *what);
/* Serialise; free the result with free(). */
char *plistx_to_xml(plist_t p, size_t *len);
char *plistx_to_bin(plist_t p, size_t *len);
/* The string at a dict key, or NULL when missing or not a string. Borrowed. */
const char *plistx_dict_string(plist_t dict, const char *key);
/* A dict at a dict key, or NULL. Borrowed. */
plist_t plistx_dict_dict(plist_t dict, const char *key);

/* Call fn for each key and value of a dict (nothing for a non-dict). Keys are borrowed for the call. */
void plistx_dict_foreach(plist_t dict, void (*fn)(const char *key, plist_t val, void *arg), void *arg);

#endif
