/* fuzz target: `arp -an` output, as claw-ip reads it. The MAC is one the seeds hold. */
#include "fuzz.h"
#include "leases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mac m = { { 0x30, 0x03, 0xc8, 0xc3, 0x06, 0x59 } };
	char ip[64];
	char *s = fuzz_cstr(data, size);
	if (arp_find(s, &m, ip))
		FUZZ_CHECK(memchr(ip, '\0', sizeof ip));
	free(s);
	return 0;
}
