/* fuzz target: ShadowHashData (binary or XML), as claw-inject checks whether a guest's user
 * record still holds the password. PBKDF2 runs one round in fuzz builds (see shadowhash.c). */
#include "fuzz.h"
#include "shadowhash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool match = false;
	shadowhash_verify((const char *)data, size, "vagrant", &match);
	return 0;
}
