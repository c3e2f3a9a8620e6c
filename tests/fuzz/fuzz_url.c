/*
 * fuzz_url: url_parse (common/url.c), which reads the client's argument or SECRET_URL, and
 * addr_split (common/addr.c), which reads the server's --listen, on the same NUL-terminated
 * text.
 *
 * Invariants:
 *   - url_parse: on success every field is NUL-terminated inside its array; the host is
 *     non-empty (an IPv6 literal that inet_pton reads, or reg-name characters without '%'); a
 *     host whose last label is a number (digits, or 0x and hex digits) is a dotted quad that
 *     inet_pton reads, never a form only inet_aton reads (127.1, 0x7f.1); the port is
 *     1-65535; the path starts with '/', holds only visible ASCII and no '#'; the authority is
 *     exactly host (bracketed for IPv6) plus ":port" when one was given; and the URL rebuilt
 *     from the fields parses back to the very same fields (so what the client sends in its
 *     Host header and request line is what the user meant, and parsing is idempotent). On
 *     failure, a reason is given, inside the buffer.
 *   - addr_split: on success host and port are NUL-terminated, the port is 1-65535 in digits,
 *     and "host:port" (bracketed when the host holds a ':') splits back to the same pair.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"
#include "url.h"

static int
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static long
port_value(const char *p)
{
	long v = 0;
	size_t n = strlen(p);

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Is the last label of host (before one trailing dot) a number inet_aton() would read? */
static int
last_label_numeric(const char *host)
{
	size_t n = strlen(host), s, i;

	if (n > 1 && host[n - 1] == '.')
		n--;
	for (s = n; s > 0 && host[s - 1] != '.'; s--)
		;
	if (n - s > 2 && host[s] == '0' && (host[s + 1] == 'x' || host[s + 1] == 'X')) {
		for (i = s + 2; i < n; i++)
			if (!strchr("0123456789abcdefABCDEF", host[i]))
				return 0;
		return 1;
	}
	for (i = s; i < n; i++)
		if (host[i] < '0' || host[i] > '9')
			return 0;
	return n > s;
}

static void
check_url(const char *s)
{
	static struct url u, again;
	static char rebuilt[sizeof(u.authority) + sizeof(u.path) + 16];
	char err[256];
	long port;

	memset(err, 0x55, sizeof(err));
	if (url_parse(s, &u, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0' && terminated(err, sizeof(err)));
		return;
	}
	FUZZ_CHECK(terminated(u.host, sizeof(u.host)) && terminated(u.port, sizeof(u.port)));
	FUZZ_CHECK(terminated(u.authority, sizeof(u.authority)) &&
		   terminated(u.path, sizeof(u.path)));
	FUZZ_CHECK(u.host[0] != '\0');
	FUZZ_CHECK(u.tls == 0 || u.tls == 1);
	FUZZ_CHECK(!(u.tls && u.scheme_implied));
	port = port_value(u.port);
	FUZZ_CHECK(port >= 1 && port <= 65535);
	if (u.ipv6) {
		unsigned char a[16];

		FUZZ_CHECK(inet_pton(AF_INET6, u.host, a) == 1);
	} else {
		unsigned char a[4];

		for (const char *p = u.host; *p; p++)
			FUZZ_CHECK(*p > ' ' && *p < 0x7f && !strchr(":/?#@[]%", *p));
		/* 0x7f.1 and 127.1 must not reach getaddrinfo(), which reads them as 127.0.0.1,
		 * while the certificate check takes them for names. */
		if (last_label_numeric(u.host))
			FUZZ_CHECK(inet_pton(AF_INET, u.host, a) == 1);
	}
	FUZZ_CHECK(u.path[0] == '/');
	for (const char *p = u.path; *p; p++)
		FUZZ_CHECK(*p > ' ' && *p < 0x7f && *p != '#');
	/* The authority is what the Host header carries: host, brackets for IPv6, the port only
	 * when the URL named one (RFC 9110 §7.2). */
	{
		char want[sizeof(u.authority) + 8];
		size_t hl = strlen(u.host);
		int n = snprintf(want, sizeof(want), "%s%s%s", u.ipv6 ? "[" : "", u.host,
				 u.ipv6 ? "]" : "");

		FUZZ_CHECK(n > 0 && (size_t)n < sizeof(want));
		FUZZ_CHECK(strncmp(u.authority, want, (size_t)n) == 0);
		FUZZ_CHECK(u.authority[n] == '\0' ||
			   (u.authority[n] == ':' && strcmp(u.authority + n + 1, u.port) == 0));
		FUZZ_CHECK(hl < sizeof(u.host));
		if (u.authority[n] == '\0')
			FUZZ_CHECK(strcmp(u.port, u.tls ? "443" : "80") == 0);
	}
	snprintf(rebuilt, sizeof(rebuilt), "%s://%s%s", u.tls ? "https" : "http", u.authority,
		 u.path);
	FUZZ_CHECK(url_parse(rebuilt, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(again.tls == u.tls && again.ipv6 == u.ipv6 && !again.scheme_implied);
	FUZZ_CHECK(strcmp(again.host, u.host) == 0 && strcmp(again.port, u.port) == 0);
	FUZZ_CHECK(strcmp(again.authority, u.authority) == 0 && strcmp(again.path, u.path) == 0);
}

static void
check_addr(const char *s)
{
	static char rebuilt[ADDR_HOST_MAX + ADDR_PORT_MAX + 4];
	char host[ADDR_HOST_MAX], port[ADDR_PORT_MAX], host2[ADDR_HOST_MAX], port2[ADDR_PORT_MAX];
	const char *why = NULL;
	long p;

	memset(host, 0x55, sizeof(host));
	memset(port, 0x55, sizeof(port));
	if (addr_split(s, host, port, &why) < 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		return;
	}
	FUZZ_CHECK(terminated(host, sizeof(host)) && terminated(port, sizeof(port)));
	FUZZ_CHECK(host[0] != '\0');
	p = port_value(port);
	FUZZ_CHECK(p >= 1 && p <= 65535);
	/* Brackets when the host holds a ':' or starts with '[' (addr_split takes any bracketed
	 * host, "[localhost]:80" too; getaddrinfo judges it later). */
	snprintf(rebuilt, sizeof(rebuilt),
		 strchr(host, ':') || host[0] == '[' ? "[%s]:%s" : "%s:%s", host, port);
	FUZZ_CHECK(addr_split(rebuilt, host2, port2, &why) == 0);
	FUZZ_CHECK(strcmp(host, host2) == 0 && strcmp(port, port2) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	check_url(s);
	check_addr(s);
	free(s);
	return 0;
}
