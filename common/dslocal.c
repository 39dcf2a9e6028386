/* dslocal: user and admin group records, through libplist. */
#include "dslocal.h"
#include "log.h"
#include "plistx.h"
#include "shadowhash.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
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

/* The record's uid as a number; false when it has none that parses. */
static bool record_uid(plist_t rec, unsigned *uid)
{
	const char *s = first_string(rec, "uid");
	uint64_t v;
	if (!s || parse_u64(s, &v) < 0 || v > 0x7fffffff)
		return false;
	*uid = (unsigned)v;
	return true;
}

static bool ends_with_plist(const char *name)
{
	size_t n = strlen(name);
	return n > 6 && !strcmp(name + n - 6, ".plist");
}

int dslocal_pick_uid(const char *users_dir, const char *name, unsigned *uid)
{
	*uid = DSLOCAL_FIRST_UID;
	DIR *d = opendir(users_dir);
	if (!d)
		return errno == ENOENT ? 0 : fail_sys(EX_IOERR, "cannot read '%s'", users_dir);
	unsigned *taken = NULL, own = 0;
	size_t n = 0;
	bool has_own = false;
	int rc = 0;
	char *mine = xasprintf("%s.plist", name);
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.' || !ends_with_plist(e->d_name))
			continue;
		char *path = xasprintf("%s/%s", users_dir, e->d_name);
		struct buf b = BUF_ZERO;
		plist_t rec = NULL;
		unsigned u;
		if (file_read(path, 16 << 20, &b) < 0 || !(rec = plistx_parse(b.data, b.len, path)))
			rc = -1;
		else if (record_uid(rec, &u)) {
			if (!strcmp(e->d_name, mine))
				own = u, has_own = true;
			taken = xrealloc(taken, (n + 1) * sizeof *taken);
			taken[n++] = u;
		}
		plist_free(rec);
		buf_free(&b);
		free(path);
	}
	closedir(d);
	free(mine);
	if (rc == 0 && has_own)
		*uid = own;
	for (bool moved = rc == 0 && !has_own; moved;) {
		moved = false;
		for (size_t i = 0; i < n; i++)
			if (taken[i] == *uid)
				(*uid)++, moved = true;
	}
	free(taken);
	return rc;
}

static void set_strings(plist_t r, const char *key, const char *value)
{
	plist_dict_set_item(r, key, strings(value, NULL));
}

static void set_missing(plist_t r, const char *key, const char *value)
{
	if (!first_string(r, key))
		set_strings(r, key, value);
}

/* authentication_authority with claw's ShadowHash entry in place of any other; the
 * rest (;SecureToken;, ;Kerberosv5;...) kept in order. A kept hash keeps its entry. */
static void set_authority(plist_t r, bool hash_kept)
{
	static const char shadow[] = ";ShadowHash;";
	plist_t old = plist_dict_get_item(r, "authentication_authority");
	plist_t a = plist_new_array();
	bool placed = false;
	uint32_t n = old && plist_get_node_type(old) == PLIST_ARRAY ? plist_array_get_size(old) : 0;
	for (uint32_t i = 0; i < n; i++) {
		plist_t v = plist_array_get_item(old, i);
		const char *s = plist_get_node_type(v) == PLIST_STRING ? plist_get_string_ptr(v, NULL) : NULL;
		if (s && !strncmp(s, shadow, strlen(shadow))) {
			if (!placed)
				plist_array_append_item(a, plist_new_string(hash_kept ? s : ";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>"));
			placed = true;
		} else {
			plist_array_append_item(a, plist_copy(v));
		}
	}
	if (!placed)
		plist_array_append_item(a, plist_new_string(";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>"));
	plist_dict_set_item(r, "authentication_authority", a);
}

int dslocal_user(const char *name, const char *password, unsigned uid, const char *old, size_t oldlen, char **out,
		 size_t *len, char uuid_out[37])
{
	plist_t r = old ? plistx_parse(old, oldlen, "the existing user record") : plist_new_dict();
	if (!r)
		return -1;
	if (plist_get_node_type(r) != PLIST_DICT) {
		plist_free(r);
		return fail(EX_DATAERR, "the existing user record is not a dictionary");
	}
	const char *uuid = first_string(r, "generateduid");
	if (uuid && strlen(uuid) == 36)
		snprintf(uuid_out, 37, "%s", uuid);
	else
		new_uuid(uuid_out);
	plist_t hash = kept_hash(r, password);
	bool hash_kept = hash != NULL;
	if (!hash) {
		char *bp;
		size_t bl;
		if (shadowhash_make(password, SHADOWHASH_ITERATIONS, &bp, &bl) < 0) {
			plist_free(r);
			return -1;
		}
		hash = plist_new_array();
		plist_array_append_item(hash, plist_new_data(bp, bl));
		free(bp);
	}
	char num[16], *home = xasprintf("/Users/%s", name);
	set_strings(r, "name", name);
	set_strings(r, "realname", name);
	set_strings(r, "home", home);
	set_strings(r, "shell", "/bin/zsh");
	snprintf(num, sizeof num, "%u", uid);
	set_missing(r, "uid", num);
	snprintf(num, sizeof num, "%d", DSLOCAL_STAFF_GID);
	set_missing(r, "gid", num);
	set_strings(r, "generateduid", uuid_out);
	set_missing(r, "passwd", "********");
	plist_dict_set_item(r, "ShadowHashData", hash);
	set_authority(r, hash_kept);
	static const char *const writers[] = { "_writers_passwd", "_writers_hint", "_writers_jpegphoto", "_writers_picture",
					       "_writers_realname", "_writers_UserCertificate", NULL };
	for (int i = 0; writers[i]; i++)
		set_missing(r, writers[i], name);
	*out = plistx_to_bin(r, len);
	plist_free(r);
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
