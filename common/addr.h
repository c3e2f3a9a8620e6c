/*
 * addr: "HOST:PORT" as users write it (127.0.0.1:5683, localhost:5683, [::1]:5683,
 * 0.0.0.0:5683), split for getaddrinfo(), and peers formatted back the same way.
 */
#ifndef SQUIRREL_ADDR_H
#define SQUIRREL_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_HOST_MAX 256 /* a DNS name is at most 253 bytes */
#define ADDR_PORT_MAX 6   /* "65535" */
#define ADDR_TEXT_MAX (ADDR_HOST_MAX + ADDR_PORT_MAX + 3)

/*
 * Split s into host (brackets removed) and port (1-65535, digits only). A port is required.
 * Returns 0, or -1 with *why set to a static reason.
 */
int addr_split(const char *s, char host[ADDR_HOST_MAX], char port[ADDR_PORT_MAX], const char **why);

/*
 * Does host (n bytes) end in a number: is its last label, one trailing dot aside, all digits,
 * or 0x and hex digits? URL parsers (WHATWG) and inet_aton() then read the host as an IPv4
 * address, never a name (RFC 3696 §2: no top-level domain is numeric). The client refuses such
 * a host unless it is a dotted quad; squirrel-pki refuses it as a DNS name in a certificate.
 */
int addr_ends_in_number(const char *host, size_t n);

/* Format a socket address as "1.2.3.4:80" or "[::1]:80". Returns out. */
char *addr_format(const struct sockaddr *sa, char out[ADDR_TEXT_MAX]);

#endif
