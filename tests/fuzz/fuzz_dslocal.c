/* fuzz target: a guest's dslocal records, as claw-inject reads them: the user's record for
 * its uid (dslocal_pick_uid, from a folder of records) and merged into (its ShadowHashData,
 * authentication_authority, generateduid...), and the admin group. Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, PBKDF2 runs one round (see shadowhash.c): the
 * records are what is fuzzed here. Its checks: a uid is one macOS can have, and what claw
 * writes reads back. */
#include "dslocal.h"
#include "fuzz.h"
#include "plistx.h"
#include "util.h"

#include <fcntl.h>
#include <unistd.h>

static char users[] = "/tmp/claw-fuzz-dslocal.XXXXXX", *record;

static void remove_users(void)
{
	unlink(record);
	rmdir(users);
}

/* The input as users/fuzz.plist, the record of the user claw makes. */
static void write_record(const uint8_t *data, size_t size)
{
	if (!record) {
		FUZZ_CHECK(mkdtemp(users));
		record = xasprintf("%s/fuzz.plist", users);
		atexit(remove_users);
	}
	int fd = open(record, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0 && write_all(fd, data, size) == 0 && close(fd) == 0);
}

static void reads_back(const char *out, size_t len)
{
	plist_t p = plistx_parse(out, len, "written");
	FUZZ_CHECK(p && plist_get_node_type(p) == PLIST_DICT);
	plist_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned uid;
	write_record(data, size);
	if (dslocal_pick_uid(users, "fuzz", &uid) == 0)
		FUZZ_CHECK(uid <= 0x7fffffff);
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
