/* fuzz target: launchd's overrides (private/var/db/com.apple.xpc.launchd/disabled.plist), as
 * claw-inject merges sshd and Screen Sharing into them. Its check: what it writes reads back. */
#include "fuzz.h"
#include "inject.h"
#include "plistx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml;
	size_t len;
	if (inject_launchd_overrides((const char *)data, size, "disabled.plist", "com.openssh.sshd", &xml, &len) < 0)
		return 0;
	plist_t p = plistx_parse(xml, len, "written");
	FUZZ_CHECK(p && plist_get_node_type(p) == PLIST_DICT && plist_dict_get_item(p, "com.openssh.sshd"));
	FUZZ_CHECK(!plist_dict_get_item(p, "com.claw.sshd"));
	plist_free(p);
	free(xml);
	return 0;
}
