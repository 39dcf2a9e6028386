/* kcpassword: /etc/kcpassword, the file loginwindow reads for automatic login —
 * the password's bytes, a NUL, zero padding to a multiple of 12, XORed with
 * Apple's 11-byte key. Never prints. */
#ifndef CLAW_KCPASSWORD_H
#define CLAW_KCPASSWORD_H

#include <stddef.h>

/* A new buffer (free with free after wiping) and its length. */
unsigned char *kcpassword_encode(const char *password, size_t *len);
/* The password back from a file's bytes; NULL when it is not one. */
char *kcpassword_decode(const unsigned char *data, size_t len);

#endif
