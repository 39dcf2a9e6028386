/* net: a TCP connect with a deadline; the vmnet bridges and a ping across them. */
#include "net.h"
#include "spawn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool ip_address_ok(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static bool connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return false;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	bool ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
	if (!ok && errno == EINPROGRESS) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int err = 0;
		socklen_t len = sizeof err;
		ok = poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
	close(fd);
	return ok;
}

bool tcp_probe(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints, *res = NULL;
	char service[16];
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return false;
	bool ok = false;
	for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next)
		ok = connect_one(ai, timeout_ms);
	freeaddrinfo(res);
	return ok;
}

size_t net_bridge_broadcasts(char out[][NET_ADDR_MAX], size_t max)
{
	struct ifaddrs *list, *i;
	size_t n = 0;
	if (getifaddrs(&list) < 0)
		return 0;
	for (i = list; i && n < max; i = i->ifa_next) {
		/* ifa_broadaddr is ifa_dstaddr's union twin: meaningful only with IFF_BROADCAST. */
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
		    !(i->ifa_flags & IFF_BROADCAST) || !i->ifa_broadaddr ||
		    strncmp(i->ifa_name, NET_BRIDGE_PREFIX, strlen(NET_BRIDGE_PREFIX)))
			continue;
		const struct sockaddr_in *b = (const struct sockaddr_in *)(const void *)i->ifa_broadaddr;
		if (inet_ntop(AF_INET, &b->sin_addr, out[n], NET_ADDR_MAX))
			n++;
	}
	freeifaddrs(list);
	return n;
}

void net_ping_once(const char *addr)
{
	/* macOS's ping: -c count, -t a timeout in seconds; a broadcast address needs no flag there. */
	const char *argv[] = { "ping", "-c", "1", "-t", "1", addr, NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.capture_out = true;
	o.quiet_err = true;
	o.timeout_ms = 3000;
	spawn_run(argv, &o, &r); /* no ping, or no answer: arp -an still says what it knows */
	spawn_result_free(&r);
}
