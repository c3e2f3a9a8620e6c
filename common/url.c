#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "url.h"

static int
fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* RFC 3986 §3.2.2 reg-name characters, without pct-encoding (see host_check). */
static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~!$&'()*+,;=", c) != NULL;
}

/*
 * A host that is not a bracketed IPv6 literal: a name, or an IPv4 address as a dotted quad.
 * RFC 3696 §2: no top-level domain is numeric, so a host whose last label is a number is an
 * address. getaddrinfo() reads one with inet_aton(), which takes 127.1, 0x7f.1 and
 * 0177.0.0.1 for 127.0.0.1, while the certificate check (pki_cert_names_host) takes only the
 * dotted quad for an address and would match the others against DNS names: the two must not
 * disagree about what we connect to, so only the dotted quad passes (as pki refuses such
 * names in certificates). Percent-encoding is not decoded: getaddrinfo() would get the '%'.
 */
static int
host_check(const char *host, size_t n, char *err, size_t errlen)
{
	char quad[INET_ADDRSTRLEN], text[ADDR_HOST_MAX];
	unsigned char a[4];
	struct in_addr in;

	if (memchr(host, '%', n) != NULL)
		return fail(
			err, errlen,
			"'%' in the host name: write the name itself, without percent-encoding");
	for (size_t i = 0; i < n; i++)
		if (!name_char(host[i]))
			return fail(err, errlen, "invalid character in host name");
	memcpy(text, host, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, a) == 1 || !addr_ends_in_number(text, n))
		return 0;
	if (n > 1 && text[n - 1] == '.')
		text[n - 1] = '\0'; /* inet_aton() takes no absolute form: "127.0.0.1." */
	if (inet_aton(text, &in) == 0)
		return fail(err, errlen,
			    "not an IPv4 address (four decimal numbers from 0 to 255, like "
			    "127.0.0.1), and a host name cannot end in a number");
	inet_ntop(AF_INET, &in, quad, sizeof(quad));
	snprintf(err, errlen, "write the IPv4 address as four decimal numbers, %s", quad);
	return -1;
}

static int
path_char(char c)
{
	/* Visible ASCII; spaces and controls must be percent-encoded by the user. */
	return c > ' ' && c < 0x7f;
}

/* The scheme: sets u->tls or u->scheme_implied. Returns where the authority starts, or NULL
 * with err filled. */
static const char *
parse_scheme(const char *s, struct url *u, char *err, size_t errlen)
{
	const char *sep = strstr(s, "://");

	if (sep != NULL && strcspn(s, "/?#") > (size_t)(sep - s)) {
		if ((size_t)(sep - s) == 4 && strncasecmp(s, "http", 4) == 0) {
			u->tls = 0;
		} else if ((size_t)(sep - s) == 5 && strncasecmp(s, "https", 5) == 0) {
			u->tls = 1;
		} else {
			fail(err, errlen, "unsupported scheme (use http:// or https://)");
			return NULL;
		}
		return sep + 3;
	}
	if (strncasecmp(s, "http:", 5) == 0 || strncasecmp(s, "https:", 6) == 0) {
		/* "http:/host" is a typo for the scheme, not the host "http" with a port. */
		fail(err, errlen,
		     "the scheme needs two slashes: http://HOST:PORT/ or https://HOST:PORT/");
		return NULL;
	}
	if (strncasecmp(s, "http//", 6) == 0 || strncasecmp(s, "https//", 7) == 0) {
		/* "http//host": a scheme that lost its colon, not the host "http". */
		size_t scheme = strcspn(s, "/");

		snprintf(err, errlen, "it looks like a mistyped scheme; did you mean %.*s://%s?",
			 (int)scheme, s, s + scheme + 2);
		return NULL;
	}
	u->scheme_implied = 1;
	return s;
}

/* "[IPv6]" or "[IPv6]:port" in host[0, end): u->host and u->ipv6, and *port where the port
 * starts (NULL: none). 0 or -1 with err filled. */
static int
parse_ipv6_host(const char *host, const char *end, struct url *u, const char **port, char *err,
		size_t errlen)
{
	const char *close = memchr(host, ']', (size_t)(end - host));
	unsigned char a[16];
	char lit[INET6_ADDRSTRLEN];

	if (close != NULL && memchr(host, '%', (size_t)(close - host)) != NULL)
		/* RFC 6874: the zone names an interface of this machine, which neither the
		 * certificate check nor SNI can take. */
		return fail(err, errlen,
			    "IPv6 zone identifiers (%25eth0) are not supported: use a global or "
			    "loopback address, or a host name");
	if (close == NULL || (size_t)(close - host - 1) >= sizeof(lit))
		return fail(err, errlen, "malformed IPv6 address (expected [::1])");
	memcpy(lit, host + 1, (size_t)(close - host - 1));
	lit[close - host - 1] = '\0';
	if (inet_pton(AF_INET6, lit, a) != 1)
		return fail(err, errlen, "malformed IPv6 address (expected [::1])");
	u->ipv6 = 1;
	memcpy(u->host, lit, strlen(lit) + 1);
	if (close + 1 < end && close[1] != ':')
		return fail(err, errlen, "unexpected text after the IPv6 address");
	*port = close + 1 < end ? close + 2 : NULL;
	return 0;
}

/* "name" or "name:port" in host[0, end): u->host, and *port where the port starts (NULL:
 * none). 0 or -1 with err filled. */
static int
parse_name_host(const char *host, const char *end, struct url *u, const char **port, char *err,
		size_t errlen)
{
	const char *colon = memchr(host, ':', (size_t)(end - host));
	size_t hlen = (size_t)((colon ? colon : end) - host);

	if (hlen == 0)
		return fail(err, errlen, "no host name");
	if (hlen >= sizeof(u->host))
		return fail(err, errlen, "host name too long");
	if (host_check(host, hlen, err, errlen) < 0)
		return -1;
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	*port = colon ? colon + 1 : NULL;
	return 0;
}

/* The port in port[0, end) into u->port; without one (port NULL), the scheme's. */
static int
parse_port(const char *port, const char *end, struct url *u, char *err, size_t errlen)
{
	static const char why[] = "the port must be a number from 1 to 65535";
	size_t plen;
	long v = 0;

	if (port == NULL) {
		strcpy(u->port, u->tls ? "443" : "80");
		return 0;
	}
	plen = (size_t)(end - port);
	if (plen == 0 || plen >= sizeof(u->port))
		return fail(err, errlen, why);
	for (size_t i = 0; i < plen; i++) {
		if (port[i] < '0' || port[i] > '9')
			return fail(err, errlen, why);
		v = v * 10 + (port[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(err, errlen, why);
	memcpy(u->port, port, plen);
	u->port[plen] = '\0';
	return 0;
}

/* Path and query (the fragment dropped) into u->path, "/" when empty. */
static int
parse_path(const char *path, struct url *u, char *err, size_t errlen)
{
	size_t plen = strcspn(path, "#");

	if (plen + 2 > sizeof(u->path))
		return fail(err, errlen, "path too long");
	for (size_t i = 0; i < plen; i++)
		if (!path_char(path[i]))
			return fail(
				err, errlen,
				"spaces and control characters in the path must be percent-encoded");
	if (plen == 0 || path[0] == '?')
		strcpy(u->path, "/");
	strncat(u->path, path, plen);
	return 0;
}

int
url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	const char *host, *host_end, *port;
	int rc;

	memset(u, 0, sizeof(*u));
	if (*s == '\0')
		return fail(err, errlen, "empty URL");
	/* A URL pasted with a space or read with its newline: the error line would hide it. */
	if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1]))
		return fail(
			err, errlen,
			"white space before or after the URL: remove it (quote the URL as a whole)");
	host = parse_scheme(s, u, err, errlen);
	if (host == NULL)
		return -1;
	host_end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(host_end - host)) != NULL)
		return fail(err, errlen, "user names and passwords in URLs are not supported");
	if (*host == '[')
		rc = parse_ipv6_host(host, host_end, u, &port, err, errlen);
	else
		rc = parse_name_host(host, host_end, u, &port, err, errlen);
	if (rc < 0 || parse_port(port, host_end, u, err, errlen) < 0)
		return -1;
	/* The Host header carries the port only when the URL did (RFC 9110 §7.2). */
	snprintf(u->authority, sizeof(u->authority), u->ipv6 ? "[%s]%s%s" : "%s%s%s", u->host,
		 port != NULL ? ":" : "", port != NULL ? u->port : "");
	return parse_path(host_end, u, err, errlen);
}
