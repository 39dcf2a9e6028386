/* kcpassword: the two passwords macOS keeps merely obfuscated in a file —
 * /etc/kcpassword, which loginwindow reads for automatic login (the password's
 * bytes, a NUL, zero padding to a multiple of 12, XORed with Apple's 11-byte
 * key), and com.apple.VNCSettings.txt, which Screen Sharing reads for VNC
 * clients (at most 8 bytes, zero-padded to 16, XORed with the 16-byte key ARD
 * uses, as 32 upper-case hex digits). Never prints. */
#ifndef CLAW_KCPASSWORD_H
#define CLAW_KCPASSWORD_H

#include <stddef.h>

/* A new buffer (free with free after wiping) and its length. */
unsigned char *kcpassword_encode(const char *password, size_t *len);
/* The password back from a file's bytes; NULL when it is not one. */
char *kcpassword_decode(const unsigned char *data, size_t len);

/* The line com.apple.VNCSettings.txt holds: 32 hex digits and a newline. */
void vncsettings_encode(const char *password, char out[34]);

#endif
