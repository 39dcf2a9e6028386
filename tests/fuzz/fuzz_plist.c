/* fuzz target: any plist claw reads (from a guest's disk, a tool or the catalog), through
 * plistx_parse: the binary bounds (plistx_bin_bounded), the XML nesting bound
 * (plistx_xml_bounded), then libplist. Its check: what libplist writes of what it read
 * passes the binary bounds itself. */
#include "fuzz.h"
#include "plistx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	plistx_bin_bounded(text, size, "fuzz");
	plistx_xml_bounded(text, size, "fuzz");
	plist_t p = plistx_parse(text, size, "fuzz");
	if (!p)
		return 0;
	size_t len;
	char *bin = plistx_to_bin(p, &len);
	FUZZ_CHECK(bin && plistx_bin_bounded(bin, len, "written") == 0);
	free(bin);
	plist_free(p);
	return 0;
}
