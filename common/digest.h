/* digest: SHA-256 and SHA-1 through OpenSSL's EVP, and HMAC-SHA256 with a key, streamed,
 * as lowercase hex.
 * Never prints; a failure of OpenSSL itself is EX_SOFTWARE for the caller. */
#ifndef CLAW_DIGEST_H
#define CLAW_DIGEST_H

#include <stddef.h>

enum digest_alg { DIGEST_SHA256, DIGEST_SHA1 };
#define DIGEST_HEX_MAX 65 /* 64 hex digits of SHA-256 and a NUL */

struct digest; /* opaque */

struct digest *digest_new(enum digest_alg alg);
/* HMAC-SHA256 under key: a digest of inputs that include a secret reveals nothing of it to
 * whoever lacks the key (an unsalted hash of a short password is the password). */
struct digest *digest_new_keyed(const unsigned char *key, size_t len);
void digest_update(struct digest *d, const void *data, size_t len);
/* Finish into hex (DIGEST_HEX_MAX bytes); the digest can be freed after. */
void digest_final_hex(struct digest *d, char hex[DIGEST_HEX_MAX]);
void digest_free(struct digest *d);
const char *digest_name(enum digest_alg alg);
size_t digest_hex_len(enum digest_alg alg);

/* One-shot over a buffer. */
void digest_hex(enum digest_alg alg, const void *data, size_t len, char hex[DIGEST_HEX_MAX]);
/* One-shot over a file's bytes. */
int digest_file_hex(enum digest_alg alg, const char *path, char hex[DIGEST_HEX_MAX]);

#endif
