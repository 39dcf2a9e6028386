/* leases: where a MAC address is on the network, from macOS's DHCP server's
 * lease file (/var/db/dhcpd_leases: blocks of key=value) and from `arp -an`.
 * MACs are compared as bytes, since both drop leading zeros (ee:a7:85:9:92:39).
 * Never prints: malformed blocks are handed to a callback with their line. */
#ifndef CLAW_LEASES_H
#define CLAW_LEASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LEASES_DEFAULT "/var/db/dhcpd_leases"

struct mac {
	unsigned char b[6];
};

/* "ee:a7:85:9:92:39" or "ee:a7:85:09:92:39" (also '-' separated). */
bool mac_parse(const char *s, struct mac *out);
void mac_format(const struct mac *m, char out[18]);

struct lease_hit {
	char ip[64];
	time_t expiry;
	bool found;
	int expired; /* leases for this MAC that had run out */
};

/* The newest unexpired lease for mac; bad(line, why, arg) for each malformed block. */
void leases_find(const char *text, size_t len, const struct mac *mac, time_t now, struct lease_hit *hit,
		 void (*bad)(int line, const char *why, void *arg), void *arg);
/* The IP that `arp -an` output gives for mac, skipping (incomplete) entries. */
bool arp_find(const char *text, const struct mac *mac, char ip[64]);

/* What is read of each at most: more is refused (no network has that many machines). */
#define LEASES_MAX_SIZE (16 << 20)
#define ARP_MAX_OUTPUT (4 << 20)

#endif
