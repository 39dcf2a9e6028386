/* fuzz target: the guest's answer to claw-verify (framed sections of brew's and npm's output),
 * judged against a claw.yml that asks for formulae, casks and npm packages. */
#include "config.h"
#include "fuzz.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct claw_config *cfg;
	static const char yml[] = "tools:\n  homebrew: true\n  packages: [git, python3, openjdk, hashicorp/tap/terraform]\n"
				  "  casks: [visual-studio-code, fonts-only]\n  npm_global: [\"@scope/x@1.2\", typescript]\n";
	if (!cfg && config_load_string(yml, sizeof yml - 1, "fuzz.yml", &cfg) < 0)
		abort();
	json_t *tools = NULL;
	if (verify_judge(cfg, (const char *)data, size, &tools) == 0) {
		FUZZ_CHECK(json_is_array(tools));
		json_decref(tools);
	}
	return 0;
}
