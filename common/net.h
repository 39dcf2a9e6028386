/* net: is anything listening? A TCP connect with a deadline, nothing more.
 * Never prints. */
#ifndef CLAW_NET_H
#define CLAW_NET_H

#include <stdbool.h>

/* True when s is an IPv4 or IPv6 address as inet_pton reads it: nothing else (no name, no
 * option) may stand where an address read from a file is passed on. */
bool ip_address_ok(const char *s);
/* True when host:port accepts a TCP connection within timeout_ms. */
bool tcp_probe(const char *host, int port, int timeout_ms);

#endif
