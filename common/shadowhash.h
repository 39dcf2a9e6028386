/* shadowhash: the ShadowHashData of a dslocal user record — a binary plist
 * {SALTED-SHA512-PBKDF2: {entropy (128 bytes), iterations, salt (32 bytes)}}
 * where entropy is PBKDF2-HMAC-SHA512(password, salt, iterations). Made and
 * checked with OpenSSL. Never prints. */
#ifndef CLAW_SHADOWHASH_H
#define CLAW_SHADOWHASH_H

#include <stdbool.h>
#include <stddef.h>

#define SHADOWHASH_ITERATIONS 45000
#define SHADOWHASH_KEY "SALTED-SHA512-PBKDF2"
/* The rounds a record may ask for: over 20 times what claw writes (macOS writes tens of
 * thousands). A million is a second or two of PBKDF2: a guest's record cannot hold
 * claw-inject for long. */
#define SHADOWHASH_MAX_ITERATIONS 1000000

/* A new binary plist (free with free). */
int shadowhash_make(const char *password, unsigned iterations, char **out, size_t *len);
/* Does this ShadowHashData (binary or XML plist) hold this password? EX_DATAERR if it is not one. */
int shadowhash_verify(const char *data, size_t len, const char *password, bool *match);

#endif
