/* net: is anything listening? A TCP connect with a deadline, nothing more.
 * Never prints. */
#ifndef CLAW_NET_H
#define CLAW_NET_H

#include <stdbool.h>

/* True when host:port accepts a TCP connection within timeout_ms. */
bool tcp_probe(const char *host, int port, int timeout_ms);

#endif
