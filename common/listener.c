#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "listener.h"

/* A listening socket on sa: the fd, or -errno. */
static int
open_one(const struct sockaddr *sa, socklen_t len, int flags)
{
	int fd, one = 1, e;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (flags & LISTENER_REUSEPORT)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, len) == 0 && listen(fd, SOMAXCONN) == 0)
		return fd;
	e = errno;
	close(fd);
	return -e;
}

void
listener_say_why(char *err, size_t errlen, const char *where, int e)
{
	if (e == EADDRINUSE)
		snprintf(err, errlen,
			 "cannot listen on %s: address already in use (is another program "
			 "listening there? pick another port with --listen)",
			 where);
	else if (e == EACCES)
		snprintf(err, errlen,
			 "cannot listen on %s: permission denied (ports below 1024 need "
			 "privileges: pick one from 1024 up)",
			 where);
	else if (e == EADDRNOTAVAIL)
		snprintf(err, errlen,
			 "cannot listen on %s: not an address of this machine (give one of its "
			 "addresses, or 127.0.0.1)",
			 where);
	else
		snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(e));
}

int
listener_open(const struct sockaddr *sa, socklen_t len, int flags, char *err, size_t errlen)
{
	char where[ADDR_TEXT_MAX];
	int fd = open_one(sa, len, flags);

	if (fd >= 0)
		return fd;
	listener_say_why(err, errlen, addr_format(sa, where), -fd);
	return -1;
}

int
listener_open_hostport(const char *hostport, int flags, char *err, size_t errlen)
{
	char host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	struct addrinfo hints, *res, *ai;
	const char *why;
	int fd = -EADDRNOTAVAIL, rc;

	if (addr_split(hostport, host, port, &why) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", hostport, why);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s: cannot resolve '%s': %s", hostport,
			 host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = open_one(ai->ai_addr, ai->ai_addrlen, flags);
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	listener_say_why(err, errlen, hostport, -fd);
	return -1;
}
