/* fuzz target: an OCI manifest from a registry, read as tart's layout (common/tart.h). Its
 * check: a manifest that reads has a config, a disk that its chunks cover without a gap,
 * and digests claw may put in a URL and a file name. */
#include "fuzz.h"
#include "oci.h"
#include "tart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct tart_image img;
	if (j && tart_image_parse(j, &img) == 0) {
		FUZZ_CHECK(oci_digest_ok(img.config.digest) && oci_digest_ok(img.nvram.digest));
		uint64_t at = 0;
		for (size_t i = 0; i < img.nchunks; i++) {
			FUZZ_CHECK(img.chunks[i].offset == at && oci_digest_ok(img.chunks[i].blob.digest));
			at += img.chunks[i].length;
		}
		FUZZ_CHECK(at == img.disk_size);
		tart_image_free(&img);
	}
	json_decref(j);
	return 0;
}
