/* fuzz target: an image reference from the command line (common/oci.h). Its check: a
 * reference that reads, written out, reads back as the same one. */
#include "fuzz.h"
#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct oci_ref ref, again;
	if (oci_ref_parse(s, &ref) == 0) {
		char *out = oci_ref_string(&ref);
		FUZZ_CHECK(oci_ref_parse(out, &again) == 0);
		FUZZ_CHECK(!strcmp(ref.host, again.host) && !strcmp(ref.repo, again.repo) &&
			   !strcmp(ref.tag, again.tag) && !strcmp(ref.digest, again.digest));
		FUZZ_CHECK(!*ref.digest || oci_digest_ok(ref.digest));
		free(out);
	}
	free(s);
	return 0;
}
