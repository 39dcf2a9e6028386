/* Unit tests for the injection building blocks: kcpassword against the vectors in
 * tests/fixtures, ShadowHashData against the real dslocal records with known passwords. */
#include "kcpassword.h"
#include "log.h"
#include "plistx.h"
#include "shadowhash.h"
#include "tap.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdlib.h>

static char fixtures[512];

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_kcpassword(void)
{
	static const char *const vec[][2] = {
		{ "vagrant", "0be83551b3d2a9eaa3b91f7d" },
		{ "admin", "1ced3f4abcbcddeaa3b91f7d" },
		{ "12345678901", "4cbb6117e78aead29a892e7d" },
		{ "clawos", "1ee53354bdcfddeaa3b91f7d" },
		{ "p@ss w0rd;$(x)", "0dc92150f2cbed98c7823b55f17b23d2bcddeaa3b91f7d89" },
	};
	/* The vectors file is the oracle: check that ours are the ones it lists. */
	char *path = xasprintf("%s/kcpassword_vectors.txt", fixtures);
	struct buf f = BUF_ZERO;
	int have = file_read(path, 1 << 16, &f) == 0;
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		size_t n;
		unsigned char *enc = kcpassword_encode(vec[i][0], &n);
		char h[256];
		hex(enc, n, h);
		is_str(h, vec[i][1], "kcpassword '%s'", vec[i][0]);
		ok(!have || strstr(f.data, vec[i][1]), "the vector for '%s' is the fixture's", vec[i][0]);
		char *dec = kcpassword_decode(enc, n);
		is_str(dec, vec[i][0], "decodes back");
		free(dec);
		free(enc);
	}
	ok(have, "the fixture file was read (%s)", path);
	buf_free(&f);
	free(path);
	size_t n;
	unsigned char *enc = kcpassword_encode("", &n);
	is_int(n, 12, "an empty password is one padded block");
	free(enc);
	ok(kcpassword_decode((const unsigned char *)"abc", 3) == NULL, "a length not a multiple of 12 is not a kcpassword");
}

static void test_fixture_record(void)
{
	/* The real 10.9 record: its ShadowHashData array holds one binary plist; "vagrant" is its password. */
	char *path = xasprintf("%s/dslocal_user_vagrant_macos10.9.plist", fixtures);
	struct buf f = BUF_ZERO;
	ok(file_read(path, 1 << 20, &f) == 0, "read %s", path);
	plist_t rec = f.data ? plistx_parse(f.data, f.len, "record") : NULL;
	plist_t arr = rec ? plist_dict_get_item(rec, "ShadowHashData") : NULL;
	plist_t first = arr && plist_get_node_type(arr) == PLIST_ARRAY ? plist_array_get_item(arr, 0) : NULL;
	uint64_t len = 0;
	const char *shd = first ? plist_get_data_ptr(first, &len) : NULL;
	ok(shd && len > 0, "the record has ShadowHashData");
	bool match = false;
	ok(shd && shadowhash_verify(shd, len, "vagrant", &match) == 0 && match, "'vagrant' verifies against the real record");
	match = true;
	ok(shd && shadowhash_verify(shd, len, "vagrant ", &match) == 0 && !match, "'vagrant ' does not");
	plist_free(rec);
	buf_free(&f);
	free(path);
	/* The decoded XML form of the same data, as the fixture gives it. */
	path = xasprintf("%s/dslocal_user_vagrant_macos10.9_ShadowHashData_decoded.plist", fixtures);
	ok(file_read(path, 1 << 20, &f) == 0, "read the decoded ShadowHashData");
	match = false;
	ok(f.data && shadowhash_verify(f.data, f.len, "vagrant", &match) == 0 && match, "and it verifies in XML too");
	buf_free(&f);
	free(path);
}

static void test_make(void)
{
	char *bp;
	size_t len;
	ok(shadowhash_make("s3cret \"$(x)\" é", 1000, &bp, &len) == 0, "make ShadowHashData");
	ok(len > 8 && !memcmp(bp, "bplist00", 8), "a binary plist, as macOS writes it");
	bool match = false;
	ok(shadowhash_verify(bp, len, "s3cret \"$(x)\" é", &match) == 0 && match, "it verifies");
	ok(shadowhash_verify(bp, len, "s3cret", &match) == 0 && !match, "a wrong password does not");
	plist_t root = plistx_parse(bp, len, "x");
	plist_t inner = plistx_dict_dict(root, SHADOWHASH_KEY);
	uint64_t el = 0, sl = 0;
	plist_get_data_ptr(plist_dict_get_item(inner, "entropy"), &el);
	plist_get_data_ptr(plist_dict_get_item(inner, "salt"), &sl);
	is_int(el, 128, "entropy is 128 bytes");
	is_int(sl, 32, "salt is 32 bytes");
	plist_free(root);
	char *bp2;
	size_t len2;
	shadowhash_make("s3cret \"$(x)\" é", 1000, &bp2, &len2);
	ok(len != len2 || memcmp(bp, bp2, len), "a fresh salt each time");
	free(bp);
	free(bp2);
	ok(shadowhash_verify("nope", 4, "x", &match) < 0 && fail_code() == EX_DATAERR, "garbage is 65");
}

int main(void)
{
	const char *f = getenv("CLAW_FIXTURES");
	snprintf(fixtures, sizeof fixtures, "%s", f ? f : "tests/fixtures");
	test_kcpassword();
	test_fixture_record();
	test_make();
	return tap_done();
}
