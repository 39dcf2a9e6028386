/* net: is anything listening, and which networks a guest may be on. A TCP connect
 * with a deadline; the host's vmnet bridges; one ping to wake a subnet's ARP
 * entries. Never prints. */
#ifndef CLAW_NET_H
#define CLAW_NET_H

#include <stdbool.h>
#include <stddef.h>

#define NET_BRIDGE_PREFIX "bridge" /* macOS names its vmnet bridges bridge100, bridge101, ... */
#define NET_ADDR_MAX 64

/* True when s is an IPv4 or IPv6 address as inet_pton reads it: nothing else (no name, no
 * option) may stand where an address read from a file is passed on. */
bool ip_address_ok(const char *s);
/* True when host:port accepts a TCP connection within timeout_ms. */
bool tcp_probe(const char *host, int port, int timeout_ms);

/* The IPv4 broadcast addresses of the interfaces that are up and named bridge*: the
 * subnets macOS shares with its guests. Returns how many were written (at most max). */
size_t net_bridge_broadcasts(char out[][NET_ADDR_MAX], size_t max);

/* One ping to addr, waiting a second at most, so that the hosts on its subnet answer and
 * the ARP table learns them. Whether any answered is for `arp -an` to say. */
void net_ping_once(const char *addr);

#endif
