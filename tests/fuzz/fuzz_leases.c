/* fuzz target: macOS's DHCP lease file (/var/db/dhcpd_leases), as claw-ip reads it. The MAC
 * is one the seeds hold, so that a match is within a mutation's reach. */
#include "fuzz.h"
#include "leases.h"

static void bad(int line, const char *why, void *arg)
{
	FUZZ_CHECK(line >= 1 && why && *why);
	(*(int *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mac m = { { 0xea, 0x28, 0x0a, 0x33, 0xcf, 0x32 } };
	struct lease_hit hit;
	int nbad = 0;
	leases_find((const char *)data, size, &m, 0x5653f000, &hit, bad, &nbad);
	FUZZ_CHECK(!hit.found || memchr(hit.ip, '\0', sizeof hit.ip));
	return 0;
}
