/* fuzz target: tart's config.json from a registry, read as claw's config (common/tart.h).
 * Its check: a config that reads, written back as tart's, reads as the same machine. */
#include "fuzz.h"
#include "tart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmconfig vc, again;
	if (tart_config_to_claw((const char *)data, size, 1 << 30, &vc) < 0)
		return 0;
	/* What claw's config.json carries as tart does: the identity, base64 as it came. */
	json_t *t = json_loadb((const char *)data, size, 0, NULL);
	json_t *cj = json_pack("{s:O, s:O}", "machineIdentifier", json_object_get(t, "ecid"), "hardwareModel",
			       json_object_get(t, "hardwareModel"));
	FUZZ_CHECK(cj);
	char *s = tart_config_from_claw(&vc, cj);
	FUZZ_CHECK(tart_config_to_claw(s, strlen(s), 1 << 30, &again) == 0);
	FUZZ_CHECK(vc.cpu == again.cpu && vc.ram == again.ram && !strcmp(vc.mac, again.mac) &&
		   !strcmp(vc.disk_format, again.disk_format) && vc.disk_size == again.disk_size);
	FUZZ_CHECK(!vc.width || (vc.width == again.width && vc.height == again.height && vc.ppi == again.ppi));
	free(s);
	json_decref(cj);
	json_decref(t);
	return 0;
}
