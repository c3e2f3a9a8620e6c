#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int
addr_split(const char *s, char host[ADDR_HOST_MAX], char port[ADDR_PORT_MAX], const char **why)
{
	const char *colon, *h = s;
	size_t hlen, plen;
	long p = 0;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':') {
			*why = "expected [IPv6]:PORT";
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			*why = "expected HOST:PORT";
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*why = "an IPv6 address needs brackets: [::1]:PORT";
			return -1;
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= ADDR_HOST_MAX) {
		*why = hlen == 0 ? "empty host" : "host name too long";
		return -1;
	}
	plen = strlen(colon + 1);
	if (plen == 0 || plen >= ADDR_PORT_MAX || strspn(colon + 1, "0123456789") != plen) {
		*why = "the port must be a number from 1 to 65535";
		return -1;
	}
	for (size_t i = 0; i < plen; i++)
		p = p * 10 + (colon[1 + i] - '0');
	if (p < 1 || p > 65535) {
		*why = "the port must be a number from 1 to 65535";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, colon + 1, plen + 1);
	return 0;
}

int
addr_ends_in_number(const char *host, size_t n)
{
	const char *label;
	size_t i = 0, len;

	if (n > 1 && host[n - 1] == '.')
		n--;
	label = memrchr(host, '.', n);
	label = label != NULL ? label + 1 : host;
	len = n - (size_t)(label - host);
	if (len > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
		for (i = 2; i < len && isxdigit((unsigned char)label[i]); i++)
			;
		return i == len;
	}
	for (; i < len && isdigit((unsigned char)label[i]); i++)
		;
	return len > 0 && i == len;
}

char *
addr_format(const struct sockaddr *sa, char out[ADDR_TEXT_MAX])
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, ADDR_TEXT_MAX, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, ADDR_TEXT_MAX, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, ADDR_TEXT_MAX, "?");
	}
	return out;
}
