/* Unit tests for the injection building blocks: kcpassword against the vectors in
 * tests/fixtures, ShadowHashData against the real dslocal records with known passwords. */
#include "kcpassword.h"
#include "log.h"
#include "plistx.h"
#include "shadowhash.h"
#include "tap.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A binary plist by hand: objects (each given as its bytes), 4-byte offsets and references. */
struct bp {
	struct buf b;
	uint32_t offs[PLISTX_MAX_DEPTH + 8];
	unsigned n;
};

static void bp_begin(struct bp *p)
{
	memset(p, 0, sizeof *p);
	buf_add(&p->b, "bplist00", 8);
}

static void be32(struct buf *b, uint64_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v };
	buf_add(b, c, 4);
}

static void be64(struct buf *b, uint64_t v)
{
	be32(b, v >> 32);
	be32(b, v & 0xffffffffu);
}

/* An array of n references, all to ref (or to the next object when ref is -1). */
static void bp_array(struct bp *p, uint64_t n, long ref)
{
	p->offs[p->n] = (uint32_t)p->b.len;
	unsigned char head[2] = { 0xaf, 0x12 };
	if (n < 15) {
		head[0] = (unsigned char)(0xa0 | n);
		buf_add(&p->b, head, 1);
	} else {
		buf_add(&p->b, head, 2);
		be32(&p->b, n);
	}
	for (uint64_t i = 0; i < n; i++)
		be32(&p->b, ref < 0 ? p->n + 1 : (uint64_t)ref);
	p->n++;
}

static void bp_string(struct bp *p)
{
	p->offs[p->n++] = (uint32_t)p->b.len;
	buf_add(&p->b, "\x51x", 2);
}

static void bp_end(struct bp *p)
{
	size_t table = p->b.len;
	for (unsigned i = 0; i < p->n; i++)
		be32(&p->b, p->offs[i]);
	unsigned char t[8] = { 0, 0, 0, 0, 0, 0, 4, 4 };
	buf_add(&p->b, t, 8);
	be64(&p->b, p->n);
	be64(&p->b, 0);
	be64(&p->b, table);
}

static bool parses(struct bp *p)
{
	plist_t x = plistx_parse(p->b.data, p->b.len, "the plist");
	plist_free(x);
	return x != NULL;
}

static void test_plist_bounds(void)
{
	struct bp p;
	/* 64 arrays each referring twice to the next: 2^65 nodes once libplist expands them. */
	bp_begin(&p);
	for (int i = 0; i < 63; i++)
		bp_array(&p, 2, -1);
	bp_array(&p, 0, 0);
	bp_end(&p);
	ok(p.b.len < 1024, "the bomb is %zu bytes", p.b.len);
	ok(!parses(&p) && fail_code() == EX_DATAERR, "it is refused (65): %s", fail_msg());
	ok(strstr(fail_msg(), "expands to more than") != NULL, "saying it expands too far");
	buf_free(&p.b);

	/* At the limit: one array of MAX-1 references to one string is MAX nodes. */
	bp_begin(&p);
	bp_array(&p, PLISTX_MAX_NODES - 1, 1);
	bp_string(&p);
	bp_end(&p);
	ok(parses(&p), "%u nodes exactly parse", PLISTX_MAX_NODES);
	buf_free(&p.b);
	bp_begin(&p);
	bp_array(&p, PLISTX_MAX_NODES, 1);
	bp_string(&p);
	bp_end(&p);
	ok(!parses(&p) && fail_code() == EX_DATAERR, "one more is refused: %s", fail_msg());
	buf_free(&p.b);

	/* Nesting: the limit is the walker's and libplist's stack. */
	for (unsigned depth = PLISTX_MAX_DEPTH; depth <= PLISTX_MAX_DEPTH + 1; depth++) {
		bp_begin(&p);
		for (unsigned i = 0; i + 1 < depth; i++)
			bp_array(&p, 1, -1);
		bp_array(&p, 0, 0);
		bp_end(&p);
		bool ok_ = parses(&p);
		ok(depth == PLISTX_MAX_DEPTH ? ok_ : !ok_ && strstr(fail_msg(), "nested") != NULL, "%u arrays deep: %s", depth,
		   ok_ ? "parsed" : fail_msg());
		buf_free(&p.b);
	}

	/* An array that holds itself, a reference past the objects, a table past the end. */
	bp_begin(&p);
	bp_array(&p, 1, 0);
	bp_end(&p);
	ok(!parses(&p) && strstr(fail_msg(), "contains itself") != NULL, "a cycle is refused: %s", fail_msg());
	buf_free(&p.b);
	bp_begin(&p);
	bp_array(&p, 1, 7);
	bp_end(&p);
	ok(!parses(&p) && strstr(fail_msg(), "past its objects") != NULL, "a stray reference is refused: %s", fail_msg());
	buf_free(&p.b);
	bp_begin(&p);
	bp_array(&p, 0, 0);
	bp_end(&p);
	p.b.data[p.b.len - 1] = (char)0xff;
	ok(!parses(&p) && fail_code() == EX_DATAERR, "a table past the end is refused: %s", fail_msg());
	ok(plistx_bin_bounded("bplist00", 8, "eight bytes") < 0, "a bare header is refused");
	buf_free(&p.b);

	/* What libplist itself writes passes, shared strings and all. */
	plist_t d = plist_new_dict();
	for (int i = 0; i < 100; i++) {
		char k[16];
		snprintf(k, sizeof k, "com.example.%d", i);
		plist_dict_set_item(d, k, plist_new_bool(i & 1));
	}
	size_t n;
	char *bin = plistx_to_bin(d, &n);
	ok(plistx_bin_bounded(bin, n, "libplist's own") == 0, "libplist's own binary plist passes");
	ok(plistx_bin_bounded("<plist/>", 8, "xml") == 0, "XML is not the binary check's to judge");
	free(bin);
	plist_free(d);
}

int main(void)
{
	const char *f = getenv("CLAW_FIXTURES");
	snprintf(fixtures, sizeof fixtures, "%s", f ? f : "tests/fixtures");
	test_kcpassword();
	test_fixture_record();
	test_make();
	test_plist_bounds();
	return tap_done();
}
