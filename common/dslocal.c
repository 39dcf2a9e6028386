/* dslocal: user and admin group records, through libplist. */
#include "dslocal.h"
#include "log.h"
#include "plistx.h"
#include "shadowhash.h"
#include "util.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static plist_t strings(const char *first, ...)
{
	plist_t a = plist_new_array();
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		plist_array_append_item(a, plist_new_string(s));
	va_end(ap);
	return a;
}

static const char *first_string(plist_t rec, const char *key)
{
	plist_t a = rec ? plist_dict_get_item(rec, key) : NULL;
	plist_t v = a && plist_get_node_type(a) == PLIST_ARRAY ? plist_array_get_item(a, 0) : NULL;
	return v && plist_get_node_type(v) == PLIST_STRING ? plist_get_string_ptr(v, NULL) : NULL;
}

static void new_uuid(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		die(EX_SOFTWARE, "OpenSSL has no randomness for a UUID");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1], b[2], b[3],
		 b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The existing ShadowHashData, if it still holds this password. */
static plist_t kept_hash(plist_t old, const char *password)
{
	plist_t a = old ? plist_dict_get_item(old, "ShadowHashData") : NULL;
	plist_t d = a && plist_get_node_type(a) == PLIST_ARRAY ? plist_array_get_item(a, 0) : NULL;
	uint64_t len = 0;
	const char *data = d && plist_get_node_type(d) == PLIST_DATA ? plist_get_data_ptr(d, &len) : NULL;
	bool match = false;
	if (data && shadowhash_verify(data, len, password, &match) == 0 && match)
		return plist_copy(a);
	return NULL;
}

int dslocal_user(const char *name, const char *password, const char *old, size_t oldlen, char **out, size_t *len,
		 char uuid_out[37])
{
	plist_t prev = old ? plistx_parse(old, oldlen, "the existing user record") : NULL;
	const char *uuid = first_string(prev, "generateduid");
	if (uuid && strlen(uuid) == 36)
		snprintf(uuid_out, 37, "%s", uuid);
	else
		new_uuid(uuid_out);
	plist_t hash = kept_hash(prev, password);
	if (!hash) {
		char *bp;
		size_t bl;
		if (shadowhash_make(password, SHADOWHASH_ITERATIONS, &bp, &bl) < 0) {
			plist_free(prev);
			return -1;
		}
		hash = plist_new_array();
		plist_array_append_item(hash, plist_new_data(bp, bl));
		free(bp);
	}
	char uid[16], gid[16], *home = xasprintf("/Users/%s", name);
	snprintf(uid, sizeof uid, "%d", DSLOCAL_UID);
	snprintf(gid, sizeof gid, "%d", DSLOCAL_STAFF_GID);
	plist_t r = plist_new_dict();
	plist_dict_set_item(r, "name", strings(name, NULL));
	plist_dict_set_item(r, "realname", strings(name, NULL));
	plist_dict_set_item(r, "uid", strings(uid, NULL));
	plist_dict_set_item(r, "gid", strings(gid, NULL));
	plist_dict_set_item(r, "home", strings(home, NULL));
	plist_dict_set_item(r, "shell", strings("/bin/zsh", NULL));
	plist_dict_set_item(r, "generateduid", strings(uuid_out, NULL));
	plist_dict_set_item(r, "passwd", strings("********", NULL));
	plist_dict_set_item(r, "ShadowHashData", hash);
	plist_dict_set_item(r, "authentication_authority", strings(";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>", NULL));
	static const char *const writers[] = { "_writers_passwd", "_writers_hint", "_writers_jpegphoto", "_writers_picture",
					       "_writers_realname", "_writers_UserCertificate", NULL };
	for (int i = 0; writers[i]; i++)
		plist_dict_set_item(r, writers[i], strings(name, NULL));
	*out = plistx_to_bin(r, len);
	plist_free(r);
	plist_free(prev);
	free(home);
	return *out ? 0 : fail(EX_SOFTWARE, "libplist cannot write the user record");
}

static plist_t shipped_admin(void)
{
	/* The admin group as macOS ships it (dscl . read /groups/admin on a fresh system). */
	plist_t g = plist_new_dict();
	plist_dict_set_item(g, "name", strings("admin", "BUILTIN\\Administrators", NULL));
	plist_dict_set_item(g, "gid", strings("80", NULL));
	plist_dict_set_item(g, "realname", strings("Administrators", NULL));
	plist_dict_set_item(g, "generateduid", strings("ABCDEFAB-CDEF-ABCD-EFAB-CDEF00000050", NULL));
	plist_dict_set_item(g, "smb_sid", strings("S-1-5-32-544", NULL));
	plist_dict_set_item(g, "passwd", strings("*", NULL));
	plist_dict_set_item(g, "users", strings("root", NULL));
	plist_dict_set_item(g, "groupmembers", strings("FFFFEEEE-DDDD-CCCC-BBBB-AAAA00000000", NULL));
	return g;
}

/* Add s to the array at key (made if missing) unless it is there already. */
static void add_once(plist_t g, const char *key, const char *s)
{
	plist_t a = plist_dict_get_item(g, key);
	if (!a || plist_get_node_type(a) != PLIST_ARRAY) {
		a = plist_new_array();
		plist_dict_set_item(g, key, a);
	}
	for (uint32_t i = 0; i < plist_array_get_size(a); i++) {
		plist_t v = plist_array_get_item(a, i);
		if (plist_get_node_type(v) == PLIST_STRING && !strcmp(plist_get_string_ptr(v, NULL), s))
			return;
	}
	plist_array_append_item(a, plist_new_string(s));
}

int dslocal_admin_group(const char *old, size_t oldlen, const char *name, const char *uuid, char **out, size_t *len)
{
	plist_t g = old ? plistx_parse(old, oldlen, "the admin group") : shipped_admin();
	if (!g)
		return -1;
	if (plist_get_node_type(g) != PLIST_DICT) {
		plist_free(g);
		return fail(EX_DATAERR, "the admin group record is not a dictionary");
	}
	add_once(g, "users", name);
	add_once(g, "groupmembers", uuid);
	*out = plistx_to_bin(g, len);
	plist_free(g);
	return *out ? 0 : fail(EX_SOFTWARE, "libplist cannot write the admin group");
}
