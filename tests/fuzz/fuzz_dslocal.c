/* fuzz target: a guest's dslocal records, as claw-inject merges into them: the user's
 * record (its ShadowHashData, authentication_authority, generateduid...) and the admin
 * group. Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, PBKDF2 runs one round (see
 * shadowhash.c): the records are what is fuzzed here. Its check: what claw writes reads back. */
#include "dslocal.h"
#include "fuzz.h"
#include "plistx.h"

static void reads_back(const char *out, size_t len)
{
	plist_t p = plistx_parse(out, len, "written");
	FUZZ_CHECK(p && plist_get_node_type(p) == PLIST_DICT);
	plist_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out, uuid[37];
	size_t len;
	if (dslocal_user("fuzz", "pw", 501, (const char *)data, size, &out, &len, uuid) == 0) {
		FUZZ_CHECK(strlen(uuid) == 36);
		reads_back(out, len);
		free(out);
	}
	if (dslocal_admin_group((const char *)data, size, "fuzz", "ABCDEFAB-CDEF-ABCD-EFAB-CDEF00000050", &out, &len) == 0) {
		reads_back(out, len);
		free(out);
	}
	return 0;
}
