/* kcpassword: encode and decode loginwindow's auto-login password file. */
#include "kcpassword.h"
#include "util.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const unsigned char key[11] = { 0x7d, 0x89, 0x52, 0x23, 0xd2, 0xbc, 0xdd, 0xea, 0xa3, 0xb9, 0x1f };

unsigned char *kcpassword_encode(const char *password, size_t *len)
{
	size_t n = strlen(password);
	/* The terminator always goes in, so 11 bytes become 12, never a bare 11. */
	size_t total = (n + 1 + 11) / 12 * 12;
	unsigned char *out = xcalloc(total, 1);
	memcpy(out, password, n);
	for (size_t i = 0; i < total; i++)
		out[i] ^= key[i % sizeof key];
	*len = total;
	return out;
}

char *kcpassword_decode(const unsigned char *data, size_t len)
{
	if (len == 0 || len % 12)
		return NULL;
	char *out = xcalloc(len + 1, 1);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(data[i] ^ key[i % sizeof key]);
	if (strlen(out) == len) {
		secure_zero(out, len);
		free(out);
		return NULL;
	}
	return out;
}

void vncsettings_encode(const char *password, char out[34])
{
	static const unsigned char vnc_key[16] = { 0x17, 0x34, 0x51, 0x6e, 0x8b, 0xa8, 0xc5, 0xe2,
					       0xff, 0x1c, 0x39, 0x56, 0x73, 0x90, 0xad, 0xca };
	size_t n = strlen(password);
	for (size_t i = 0; i < 16; i++) {
		unsigned char c = i < 8 && i < n ? (unsigned char)password[i] : 0; /* VNC keeps 8 bytes */
		snprintf(out + 2 * i, 3, "%02X", c ^ vnc_key[i]);
	}
	out[32] = '\n';
	out[33] = '\0';
}
