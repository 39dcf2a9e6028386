/* Unit tests for the readers make fuzz drives that only live behind a tool or a socket:
 * HTTP response header lines, the plists hdiutil and diskutil print, launchd's overrides;
 * and, one test each, what make fuzz found (their inputs are under tests/fuzz/seeds/). */
#include "attach.h"
#include "catalog.h"
#include "dslocal.h"
#include "http.h"
#include "inject.h"
#include "log.h"
#include "plistx.h"
#include "record.h"
#include "shadowhash.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static char fixtures[512];

static bool fixture(const char *name, struct buf *out)
{
	char *path = xasprintf("%s/%s", fixtures, name);
	bool ok_ = file_read(path, 1 << 20, out) == 0;
	free(path);
	return ok_;
}

/* A header line as curl hands it over: the line's end included, no NUL after it. */
static int content_range(const char *line, struct http_range *r)
{
	size_t n = strlen(line);
	char *copy = xmalloc(n ? n : 1);
	memcpy(copy, line, n);
	int rc = http_header_content_range(copy, n, r);
	free(copy);
	return rc;
}

static void test_header_lines(void)
{
	struct http_range r = { 7, 7, 7 };
	ok(http_header_is_status("HTTP/1.1 206 Partial Content\r\n", 30), "a status line starts an answer's headers");
	ok(!http_header_is_status("HTTP", 4) && !http_header_is_status("X-HTTP/1.1: 1\r\n", 15), "nothing else does");
	is_int(content_range("Content-Range: bytes 0-99/1000\r\n", &r), 1, "a Content-Range line reads");
	ok(r.first == 0 && r.last == 99 && r.total == 1000, "as bytes 0-99 of 1000");
	is_int(content_range("content-RANGE:\tbytes */1000\r\n", &r), 1, "in any case, a 416's size only");
	ok(r.first == -1 && r.total == 1000, "its size is 1000");
	is_int(content_range("Content-Range: bytes 10-5/1000\r\n", &r), -1, "a range that cannot be does not read");
	is_int(r.total, 1000, "yet the size it gives is kept");
	r = (struct http_range){ 7, 7, 7 };
	is_int(content_range("Content-Length: 5\r\n", &r), 0, "another header is not one");
	ok(r.first == 7 && r.last == 7 && r.total == 7, "and leaves the range untouched");
	is_int(content_range("Content-Range:", &r), 0, "a name with no value is not one either");
	is_int(http_header_accept_ranges("Accept-Ranges: bytes\r\n", 22), 1, "Accept-Ranges: bytes");
	is_int(http_header_accept_ranges("accept-ranges:  none\r\n", 22), -1, "Accept-Ranges: none");
	is_int(http_header_accept_ranges("Accept-Ranges: bytes\r\n", 16), -1, "only the bytes handed over are read");
	/* The spaces run to the end of what was handed over: nothing past it may be read. */
	char *spaces = xmalloc(20);
	memcpy(spaces, "accept-ranges:      ", 20);
	is_int(http_header_accept_ranges(spaces, 20), -1, "a value of spaces alone, with no line end");
	free(spaces);
	is_int(http_header_accept_ranges("Content-Range: bytes 0-1/2\r\n", 28), 0, "another header is not one");
}

static void test_attach_plists(void)
{
	struct buf b = BUF_ZERO;
	struct attach a = { 0 };
	ok(fixture("hdiutil_attach_plist_apfs_sparseimage_mounted.plist", &b), "the hdiutil attach fixture");
	is_int(attach_read_attach(&a, b.data, b.len, "hdiutil attach", "x.img"), 0, "hdiutil attach -plist reads");
	is_str(a.disk, "/dev/disk6", "the image's disk is the whole disk that is not a container");
	ok(a.ncontainers == 1 && !strcmp(a.containers[0], "/dev/disk9"), "the APFS container is /dev/disk9");
	is_int(a.ndevs, 4, "every device it reported is kept");
	buf_free(&b);

	char *dev = (char *)"unset";
	ok(fixture("diskutil_apfs_list_plist_macos11.1_applesilicon_mbp13.plist", &b), "the diskutil apfs list fixture");
	is_int(attach_read_apfs_list(&a, b.data, b.len, "diskutil apfs list", &dev), -1,
	       "no Data volume on containers not ours");
	ok(dev == NULL && fail_code() == EX_DATAERR, "none (65): %s", fail_msg());
	free(a.containers[0]);
	a.containers[0] = xstrdup("/dev/disk3");
	is_int(attach_read_apfs_list(&a, b.data, b.len, "diskutil apfs list", &dev), 0, "on disk3, ours");
	is_str(dev, "/dev/disk3s5", "the volume with the Data role");
	free(dev);
	attach_free(&a);
	buf_free(&b);

	ok(fixture("diskutil_info_plist_error_could_not_find_disk.plist", &b), "diskutil's error plist");
	ok(attach_read_attach(&a, b.data, b.len, "diskutil image attach", "x.asif") < 0 && fail_code() == EX_IOERR,
	   "an error plist is the tool's failure (74)");
	is_str(fail_msg(), "diskutil image attach failed: Could not find disk: /Volumes/SMB", "in diskutil's words");
	attach_free(&a);
	buf_free(&b);
	ok(attach_read_attach(&a, "<plist><dict/></plist>", 22, "hdiutil attach", "x.img") < 0 && fail_code() == EX_DATAERR,
	   "an answer with no disk is refused (65)");
	is_str(fail_msg(), "attaching 'x.img' gave no disk", "naming the image");
	attach_free(&a);
	ok(attach_read_attach(&a, "no plist", 8, "hdiutil attach", "x.img") < 0 && fail_code() == EX_DATAERR,
	   "nor is what is not a plist");
	attach_free(&a);
}

static void test_launchd_overrides(void)
{
	plist_t d = plist_new_dict();
	plist_dict_set_item(d, "com.apple.ftpd", plist_new_bool(1));
	plist_dict_set_item(d, "com.claw.sshd", plist_new_bool(0));
	size_t n, m;
	char *bin = plistx_to_bin(d, &n), *xml;
	plist_free(d);
	is_int(inject_launchd_overrides(bin, n, "disabled.plist", "com.openssh.sshd", &xml, &m), 0, "a binary override merges");
	free(bin);
	plist_t got = plistx_parse(xml, m, "merged");
	ok(got && plist_get_node_type(got) == PLIST_DICT, "into a dictionary");
	ok(xml && !strncmp(xml, "<?xml", 5), "written as XML, as launchd writes it");
	uint8_t on = 1, ftpd = 0;
	plist_t v = got ? plist_dict_get_item(got, "com.openssh.sshd") : NULL;
	if (v)
		plist_get_bool_val(v, &on);
	ok(v && !on, "sshd is enabled (false)");
	v = got ? plist_dict_get_item(got, "com.apple.ftpd") : NULL;
	if (v)
		plist_get_bool_val(v, &ftpd);
	ok(v && ftpd, "the guest's own key is kept");
	ok(got && !plist_dict_get_item(got, "com.claw.sshd"), "an earlier claw's second sshd is gone");
	plist_free(got);
	free(xml);

	is_int(inject_launchd_overrides(NULL, 0, "disabled.plist", "com.apple.screensharing", &xml, &m), 0, "none yet: a new one");
	ok(strstr(xml, "<key>com.apple.screensharing</key>") != NULL, "holding the label");
	free(xml);
	ok(inject_launchd_overrides("<plist><array/></plist>", 23, "disabled.plist", "x", &xml, &m) < 0 &&
	   fail_code() == EX_DATAERR, "an array is refused (65): %s", fail_msg());
	ok(inject_launchd_overrides("", 0, "disabled.plist", "x", &xml, &m) < 0 && fail_code() == EX_DATAERR,
	   "an empty file is refused (65): %s", fail_msg());
}

/* ---- what make fuzz found ---- */

/* An XML plist of one dict, {key: [string]}, the string's bytes as given (a NUL too). */
static char *xml_with(const char *key, const char *str, size_t strlen_, size_t *len)
{
	struct buf b = BUF_ZERO;
	buf_addf(&b, "<plist version=\"1.0\"><dict><key>%s</key><array><string>", key);
	buf_add(&b, str, strlen_);
	buf_adds(&b, "</string></array></dict></plist>");
	*len = b.len;
	return b.data;
}

/* fuzz-apfs: a NUL inside a string made libplist's plist_get_string_val abort the process
 * (its assertion length == strlen) when claw-inject looked for the Data role. */
static void test_found_nul_in_string(void)
{
	size_t n;
	char *x;
	struct buf b = BUF_ZERO;
	buf_adds(&b, "<plist><dict><key>Containers</key><array><dict><key>ContainerReference</key><string>disk3</string>"
		     "<key>Volumes</key><array><dict><key>DeviceIdentifier</key><string>disk3s5</string><key>Roles</key>"
		     "<array><string>Da");
	buf_add(&b, "\0", 1);
	buf_adds(&b, "ta</string></array></dict></array></dict></array></dict></plist>");
	char *containers[] = { (char *)"/dev/disk3" };
	struct attach a = { .disk = (char *)"/dev/disk2", .containers = containers, .ncontainers = 1 };
	char *dev = NULL;
	ok(attach_read_apfs_list(&a, b.data, b.len, "diskutil apfs list", &dev) < 0 && fail_code() == EX_DATAERR,
	   "a Roles string with a NUL in it is refused (65), not an abort: %s", fail_msg());
	ok(dev == NULL, "and no volume is named");
	buf_free(&b);
	x = xml_with("k", "a\0b", 3, &n);
	ok(!plistx_parse(x, n, "nul") && strstr(fail_msg(), "not UTF-8 text"), "plistx_parse refuses a NUL in a string");
	free(x);
}

/* fuzz-dslocal: a string in the guest's user record that is not UTF-8 came back from libplist's
 * writer as garbage (an empty string): the record claw wrote lost an authority entry. */
static void test_found_record_not_utf8(void)
{
	size_t n;
	const char *authority = "\xbcKerberosv5;;vagrant@LKDC:SHA1.4A24";
	char *x = xml_with("authentication_authority", authority, strlen(authority), &n);
	char *out = NULL, uuid[37];
	size_t len;
	int rc = dslocal_user("vagrant", "pw", 501, x, n, &out, &len, uuid);
	ok(rc < 0 && fail_code() == EX_DATAERR, "a user record holding a string that is not UTF-8 is refused (65): %s",
	   rc < 0 ? fail_msg() : "it was merged");
	free(out);
	free(x);
	static const char *const bad[] = { "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff", NULL };
	for (int i = 0; bad[i]; i++) {
		x = xml_with("k", bad[i], strlen(bad[i]), &n);
		ok(!plistx_parse(x, n, "bad"), "refused: an overlong, a UTF-16 half, past U+10FFFF, cut short, 0xff (%d)", i);
		free(x);
	}
	x = xml_with("k\xff", "v", 1, &n);
	ok(!plistx_parse(x, n, "key") && strstr(fail_msg(), "key"), "a key that is not UTF-8 is refused too");
	free(x);
	const char *good = "\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf";
	x = xml_with("k", good, strlen(good), &n);
	plist_t p = plistx_parse(x, n, "good");
	ok(p != NULL, "UTF-8 of one to four bytes reads");
	plist_free(p);
	free(x);
}

/* fuzz-catalog: a FirmwareURL that is not UTF-8 made a record with no url (jansson refuses the
 * string, and record_set dropped it): claw-resolve printed a record claw-fetch cannot use. */
static void test_found_catalog_not_utf8(void)
{
	struct buf b = BUF_ZERO;
	buf_adds(&b, "<plist><dict><key>MobileDeviceSoftwareVersionsByVersion</key><dict><key>1</key><dict>"
		     "<key>MobileDeviceSoftwareVersions</key><dict><key>VirtualMac2,1</key><dict><key>25G72</key><dict>"
		     "<key>Restore</key><dict><key>BuildVersion</key><string>25G72</string><key>ProductVersion</key>"
		     "<string>26.6</string><key>FirmwareURL</key><string>https://h/\xff.ipsw</string>"
		     "</dict></dict></dict></dict></dict></dict></dict></plist>");
	json_t *rec = NULL;
	int rc = catalog_latest(b.data, b.len, &rec);
	ok(rc < 0 && fail_code() == EX_DATAERR, "a catalog whose URL is not UTF-8 is refused (65): %s",
	   rc < 0 ? fail_msg() : "a record was made");
	json_decref(rec);
	buf_free(&b);
}

/* A binary plist {key: true, key: false}: one dictionary naming one key object twice. */
static size_t dup_key_plist(const char *key, char *out)
{
	size_t k = strlen(key), n = 13;
	memcpy(out, "bplist00\xd2\x01\x01\x02\x03", n);
	if (k < 15) {
		out[n++] = (char)(0x50 | k); /* an ASCII string, its length in the marker */
	} else {
		out[n++] = 0x5f; /* or in the one-byte int after it */
		out[n++] = 0x10;
		out[n++] = (char)k;
	}
	memcpy(out + n, key, k);
	n += k;
	size_t t = n;
	out[n++] = 0x09;
	out[n++] = 0x08;
	const unsigned char offsets[] = { 8, 13, (unsigned char)t, (unsigned char)(t + 1) };
	memcpy(out + n, offsets, 4);
	unsigned char trailer[32] = { [6] = 1, [7] = 1, [15] = 4, [31] = (unsigned char)(n) };
	memcpy(out + n + 4, trailer, 32);
	return n + 4 + 32;
}

/* fuzz-disabled: a binary disabled.plist with a key twice kept both (libplist's binary reader
 * keeps them; its look-ups see the first, macOS the last): the merge set or removed one and
 * left the other, so sshd stayed disabled, or the second root sshd stayed enabled. */
static void test_found_duplicate_keys(void)
{
	char bin[128], *xml = NULL;
	size_t m;
	static const char *const keys[] = { "com.claw.sshd", "com.openssh.sshd" };
	for (int i = 0; i < 2; i++) {
		size_t n = dup_key_plist(keys[i], bin);
		int rc = inject_launchd_overrides(bin, n, "disabled.plist", "com.openssh.sshd", &xml, &m);
		ok(rc < 0 && fail_code() == EX_DATAERR, "a disabled.plist with '%s' twice is refused (65): %s", keys[i],
		   rc < 0 ? fail_msg() : xml);
		free(xml);
		xml = NULL;
	}
	ok(strstr(fail_msg(), "has the key 'com.openssh.sshd' twice in one dictionary") != NULL, "naming the key");
	const char *x = "<plist><dict><key>a</key><true/><key>a</key><false/></dict></plist>";
	plist_t p = plistx_parse(x, strlen(x), "xml");
	ok(p && plist_dict_get_size(p) == 1, "XML with a key twice reads as macOS reads it: the last wins");
	plist_free(p);
}

/* fuzz-http: the header line's value was cut at 127 bytes before it was read: a Content-Range
 * with junk after a run of spaces read as good, one after a run of leading spaces as bad. */
static void test_found_long_header_value(void)
{
	struct buf b = BUF_ZERO;
	struct http_range r;
	buf_addf(&b, "Content-Range: bytes 0-1/18%130sjunk\r\n", "");
	is_int(http_header_content_range(b.data, b.len, &r), -1, "junk after 130 spaces makes a bad Content-Range");
	buf_free(&b);
	buf_addf(&b, "Content-Range:%130sbytes 5-9/18\r\n", "");
	is_int(http_header_content_range(b.data, b.len, &r), 1, "a good one after 130 spaces reads");
	ok(r.first == 5 && r.last == 9 && r.total == 18, "as bytes 5-9 of 18");
	buf_free(&b);
	buf_addf(&b, "Accept-Ranges:%130sbytes\r\n", "");
	is_int(http_header_accept_ranges(b.data, b.len), 1, "Accept-Ranges: bytes after 130 spaces");
	buf_free(&b);
}

/* fuzz-record: a JSON record was taken with no url, a negative size, a number for a version,
 * a value across lines, none of which its key=value lines (what claw-resolve prints) can say. */
static void test_found_record_json(void)
{
	static const char *const bad[][2] = {
		{ "{\"erl\": \"https://h/x.ipsw\"}", "no url" },
		{ "{\"url\": \"https://h/x.ipsw\", \"size\": -5}", "size must be a number of bytes" },
		{ "{\"url\": \"https://h/x.ipsw\", \"size\": 4503599627370497}", "size must be a number of bytes" },
		{ "{\"url\": \"https://h/x.ipsw\", \"version\": 26}", "version must be text on one line" },
		{ "{\"url\": \"https://h/x.ipsw\\nsha256=0\"}", "url must be text on one line" },
		{ "{\"url\": null}", "url must be text on one line" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = NULL;
		char *want = xasprintf("t: %s", bad[i][1]);
		ok(record_parse(bad[i][0], strlen(bad[i][0]), "t", &j) < 0 && fail_code() == EX_DATAERR, "refused (65): %s",
		   bad[i][0]);
		is_str(fail_msg(), want, "saying why");
		free(want);
		json_decref(j);
	}
	const char *good = "{\"url\": \"https://h/x.ipsw\", \"version\": \"\", \"size\": 4503599627370496, \"extra\": [1]}";
	json_t *j = NULL;
	ok(record_parse(good, strlen(good), "t", &j) == 0, "a record at the largest size reads");
	ok(j && !json_object_get(j, "version"), "an empty value is left out, as key=value lines leave it");
	json_decref(j);
}

/* Found measuring fuzz-shadowhash's inputs (fuzz builds run PBKDF2 one round, so the fuzzer
 * cannot see it): a record could ask for 10 million rounds, 16 s of PBKDF2 here, before
 * claw-inject went on. The cap is now SHADOWHASH_MAX_ITERATIONS. */
static void test_found_shadowhash_rounds(void)
{
	char entropy[128] = { 0 }, salt[32] = { 1 };
	plist_t inner = plist_new_dict();
	plist_dict_set_item(inner, "entropy", plist_new_data(entropy, sizeof entropy));
	plist_dict_set_item(inner, "iterations", plist_new_uint(SHADOWHASH_MAX_ITERATIONS + 1));
	plist_dict_set_item(inner, "salt", plist_new_data(salt, sizeof salt));
	plist_t root = plist_new_dict();
	plist_dict_set_item(root, SHADOWHASH_KEY, inner);
	size_t n;
	char *bin = plistx_to_bin(root, &n);
	plist_free(root);
	bool match = true;
	int rc = shadowhash_verify(bin, n, "pw", &match);
	ok(rc < 0 && fail_code() == EX_DATAERR, "ShadowHashData asking for %d rounds is refused (65) before any: %s",
	   SHADOWHASH_MAX_ITERATIONS + 1, rc < 0 ? fail_msg() : "it was derived");
	ok(SHADOWHASH_MAX_ITERATIONS >= 20 * SHADOWHASH_ITERATIONS, "yet the cap is far above what macOS writes");
	free(bin);
}

static void count_key(const char *key, plist_t val, void *arg)
{
	(void)key, (void)val;
	(*(int *)arg)++;
}

/* Every fuzz target that reads a binary plist: a dictionary key in UTF-16 holding U+0000 made
 * libplist abort the process (plist_get_key_val asserts its length is its strlen) as soon as
 * claw walked the dictionary: claw-resolve on such a catalog, claw-inject on such a record. */
static void test_found_nul_in_key(void)
{
	static const char utf16[] = "bplist00\xd1\x01\x02" "\x62\x00\x61\x00\x00" "\x09" "\x08\x0b\x10"
				    "\0\0\0\0\0\0\x01\x01" "\0\0\0\0\0\0\0\x03" "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\x11";
	static const char ascii[] = "bplist00\xd1\x01\x02" "\x53\x61\x00\x62" "\x09" "\x08\x0b\x0f"
				    "\0\0\0\0\0\0\x01\x01" "\0\0\0\0\0\0\0\x03" "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\x10";
	const char *const plists[] = { utf16, ascii };
	const size_t lens[] = { sizeof utf16 - 1, sizeof ascii - 1 };
	for (int i = 0; i < 2; i++) {
		plist_t p = plistx_parse(plists[i], lens[i], "keys");
		ok(!p && fail_code() == EX_DATAERR, "a %s key holding a NUL is refused (65): %s", i ? "ASCII" : "UTF-16",
		   p ? "it was read" : fail_msg());
		int n = 0;
		plistx_dict_foreach(p, count_key, &n); /* what claw's walks do: libplist aborted here */
		plist_free(p);
	}
	is_str(fail_msg(), "keys is a binary plist with a NUL in a key", "saying so");
	ok(plistx_bin_bounded(utf16, sizeof utf16 - 1, "keys") < 0, "the binary bounds refuse it, before libplist reads it");
}

int main(void)
{
	const char *f = getenv("CLAW_FIXTURES");
	snprintf(fixtures, sizeof fixtures, "%s", f ? f : "tests/fixtures");
	test_header_lines();
	test_attach_plists();
	test_launchd_overrides();
	test_found_nul_in_string();
	test_found_record_not_utf8();
	test_found_catalog_not_utf8();
	test_found_duplicate_keys();
	test_found_long_header_value();
	test_found_record_json();
	test_found_shadowhash_rounds();
	test_found_nul_in_key();
	return tap_done();
}
