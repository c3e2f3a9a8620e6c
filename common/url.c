#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "url.h"

/* RFC 3986 §3.2.2 reg-name characters, plus '%' for pct-encoding. */
static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~%!$&'()*+,;=", c) != NULL;
}

static int
path_char(char c)
{
	/* Visible ASCII; spaces and controls must be percent-encoded by the user. */
	return c > ' ' && c < 0x7f;
}

int
url_parse(const char *s, struct url *u, const char **why)
{
	const char *p = s, *host, *host_end, *port = NULL, *port_end = NULL, *path;
	size_t hlen, plen;
	const char *sep = strstr(s, "://");

	memset(u, 0, sizeof(*u));
	if (*s == '\0') {
		*why = "empty URL";
		return -1;
	}
	if (sep != NULL && strcspn(s, "/?#") > (size_t)(sep - s)) {
		if ((size_t)(sep - s) == 4 && strncasecmp(s, "http", 4) == 0)
			u->tls = 0;
		else if ((size_t)(sep - s) == 5 && strncasecmp(s, "https", 5) == 0)
			u->tls = 1;
		else {
			*why = "unsupported scheme (use http:// or https://)";
			return -1;
		}
		p = sep + 3;
	} else {
		u->scheme_implied = 1;
	}
	host = p;
	host_end = p + strcspn(p, "/?#");
	if (memchr(host, '@', (size_t)(host_end - host)) != NULL) {
		*why = "user names and passwords in URLs are not supported";
		return -1;
	}
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(host_end - host));
		unsigned char a[16];
		char lit[INET6_ADDRSTRLEN];

		if (close == NULL || (size_t)(close - host - 1) >= sizeof(lit)) {
			*why = "malformed IPv6 address (expected [::1])";
			return -1;
		}
		memcpy(lit, host + 1, (size_t)(close - host - 1));
		lit[close - host - 1] = '\0';
		if (inet_pton(AF_INET6, lit, a) != 1) {
			*why = "malformed IPv6 address (expected [::1])";
			return -1;
		}
		u->ipv6 = 1;
		hlen = strlen(lit);
		memcpy(u->host, lit, hlen + 1);
		if (close + 1 < host_end && close[1] != ':') {
			*why = "unexpected text after the IPv6 address";
			return -1;
		}
		if (close + 1 < host_end)
			port = close + 2, port_end = host_end;
	} else {
		const char *colon = memchr(host, ':', (size_t)(host_end - host));
		const char *end = colon ? colon : host_end;

		hlen = (size_t)(end - host);
		if (hlen == 0) {
			*why = "no host name";
			return -1;
		}
		if (hlen >= sizeof(u->host)) {
			*why = "host name too long";
			return -1;
		}
		for (size_t i = 0; i < hlen; i++)
			if (!name_char(host[i])) {
				*why = "invalid character in host name";
				return -1;
			}
		memcpy(u->host, host, hlen);
		u->host[hlen] = '\0';
		if (colon)
			port = colon + 1, port_end = host_end;
	}
	if (port != NULL) {
		long v = 0;

		plen = (size_t)(port_end - port);
		if (plen == 0 || plen >= sizeof(u->port)) {
			*why = "the port must be a number from 1 to 65535";
			return -1;
		}
		for (size_t i = 0; i < plen; i++) {
			if (port[i] < '0' || port[i] > '9') {
				*why = "the port must be a number from 1 to 65535";
				return -1;
			}
			v = v * 10 + (port[i] - '0');
		}
		if (v < 1 || v > 65535) {
			*why = "the port must be a number from 1 to 65535";
			return -1;
		}
		memcpy(u->port, port, plen);
		u->port[plen] = '\0';
	} else {
		strcpy(u->port, u->tls ? "443" : "80");
	}
	/* The Host header carries the port only when the URL did (RFC 9110 §7.2). */
	strcpy(u->authority, u->ipv6 ? "[" : "");
	strcat(u->authority, u->host);
	strcat(u->authority, u->ipv6 ? "]" : "");
	if (port != NULL) {
		strcat(u->authority, ":");
		strcat(u->authority, u->port);
	}
	path = host_end;
	plen = strcspn(path, "#");
	if (plen + 2 > sizeof(u->path)) {
		*why = "path too long";
		return -1;
	}
	for (size_t i = 0; i < plen; i++)
		if (!path_char(path[i])) {
			*why = "spaces and control characters in the path must be percent-encoded";
			return -1;
		}
	if (plen == 0 || path[0] == '?')
		strcpy(u->path, "/");
	strncat(u->path, path, plen);
	return 0;
}
