/*
 * url: the http:// and https:// URLs the client accepts (RFC 3986, the subset a browser bar
 * takes): scheme, host (name, IPv4 as a dotted quad, or [IPv6]), optional port, path and
 * query. Userinfo, other schemes, other forms of IPv4 address (127.1, 0x7f.1) and
 * percent-encoded hosts are refused; the fragment is dropped, as clients never send it.
 */
#ifndef SQUIRREL_URL_H
#define SQUIRREL_URL_H

#include <stddef.h>

#include "addr.h"

/* Longest path and query we send; the server's request line limit is larger. */
#define URL_PATH_MAX 4096

struct url {
	int tls;            /* https */
	int scheme_implied; /* no scheme was given: http:// was assumed (the tutorial's habit) */
	int ipv6;           /* host is an IPv6 literal (brackets in authority, not in host) */
	char host[ADDR_HOST_MAX];
	char port[ADDR_PORT_MAX];
	char authority[ADDR_HOST_MAX + ADDR_PORT_MAX + 3]; /* for the Host header */
	char path[URL_PATH_MAX];                           /* "/" when empty */
};

/*
 * Parse s into u. Returns 0, or -1 with err holding one line of reason ("unsupported scheme
 * ...", "write the IPv4 address as four decimal numbers, 127.0.0.1"), cut to errlen.
 */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

#endif
