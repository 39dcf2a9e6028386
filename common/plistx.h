/* plistx: libplist, the same on every version we build with (2.2 returns void
 * where 2.3+ returns an error code): parse XML or binary, serialise, walk.
 * Never prints. */
#ifndef CLAW_PLISTX_H
#define CLAW_PLISTX_H

#include <plist/plist.h>
#include <stddef.h>

/* libplist expands every shared reference of a binary plist into a node of its own,
 * so 296 bytes of arrays that each refer twice to the next become 2^64 nodes. */
#define PLISTX_MAX_OBJECTS (1u << 18) /* objects in the file */
#define PLISTX_MAX_NODES (1u << 18)   /* nodes once every reference is expanded */
#define PLISTX_MAX_DEPTH 256          /* containers inside containers */

/* Bytes that are not a binary plist pass (0). A binary plist passes when its
 * trailer, offset table and references are sound, it has no cycle, no dictionary key
 * holds a NUL, and it stays within the limits above; else -1 and EX_DATAERR naming
 * what. Reads only the offset table, the containers' references and the keys: it
 * never builds a node. */
int plistx_bin_bounded(const char *data, size_t len, const char *what);
/* XML: containers nested at most PLISTX_MAX_DEPTH deep (libplist recurses on them). */
int plistx_xml_bounded(const char *data, size_t len, const char *what);
/* Parse XML or binary plist bytes (checked by plistx_bin_bounded or _xml_bounded first);
 * NULL (and EX_DATAERR recorded, naming what) if it is not one, if a string or key in it
 * is not UTF-8 text (or holds a NUL), or if a dictionary in it has a key twice. */
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
