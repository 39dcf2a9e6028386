/* fuzz target: claw.yml, as config_load_string reads it (libyaml, then claw's own checks). */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct claw_config *c = NULL;
	if (config_load_string((const char *)data, size, "fuzz.yml", &c) == 0)
		config_free(c);
	return 0;
}
