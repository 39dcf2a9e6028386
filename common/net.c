/* net: a TCP connect with a deadline. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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
