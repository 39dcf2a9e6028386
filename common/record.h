/* record: the resolve record — url, version, build, sha1, sha256, size, source —
 * what claw-resolve prints, ipsw.json holds and claw-fetch reads. As key=value
 * lines a POSIX shell can source (values quoted only when they must be), as
 * JSON, and parsed back from either. Unknown values are left out, never empty.
 * Never prints except where asked to write to a stream. */
#ifndef CLAW_RECORD_H
#define CLAW_RECORD_H

#include <jansson.h>
#include <stdio.h>

/* The keys in their one order. */
extern const char *const record_keys[];

/* Set a string key only when the value is non-empty. */
void record_set(json_t *rec, const char *key, const char *value);
/* key=value lines in record_keys order. */
int record_write_kv(json_t *rec, FILE *out);
/* Text that is either key=value lines or a JSON object, read alike: a url, size a number of
 * bytes, every other value text on one line; EX_DATAERR naming the line. */
int record_parse(const char *text, size_t len, const char *what, json_t **out);

#endif
