/*
 * dissect_int: what the dissector's files share and nothing outside tap/dissect*.c may use.
 * The public interface is dissect.h.
 */
#ifndef SQUIRREL_TAP_DISSECT_INT_H
#define SQUIRREL_TAP_DISSECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dissect.h"
#include "termsafe.h"

/* "gAAAAA": version 0x80 and the top of a timestamp, how every Fernet token begins. */
#define FERNET_PREFIX "gAAAAA"
#define FERNET_PREFIX_LEN 6

/* RFC 8446 §5.1: the record content types a TLS stream can start with. */
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22

/* Where one dis_feed call sends its lines. */
struct out {
	struct dis_conn *d;
	dis_emit_fn emit;
	void *arg;
};

/* Emit one line, formatted, cut at DIS_LINE_MAX. */
__attribute__((format(printf, 2, 3))) void dis_say(const struct out *o, const char *fmt, ...);
/* 1 when the layers (what is recognised) are to be shown, else 0. */
int dis_layers(const struct out *o);
/* "" for 1, "s" otherwise. */
const char *dis_plural(uint64_t n);
/* How the dump shows bytes as text (termsafe.h): printable ASCII as it is, '.' for the rest,
 * one column a byte. */
#define DIS_TEXT (TERMSAFE_DOT | TERMSAFE_ASCII)

/* Copy n bytes into dst (cap >= 4) as DIS_TEXT; "..." when cut or when dst is full. */
void dis_printable(char *dst, size_t cap, const uint8_t *src, size_t n, int cut);
/* n bytes as lower-case hex into dst, as far as cap allows, NUL-terminated. */
void dis_hex(char *dst, size_t cap, const uint8_t *src, size_t n);
/* Stop following a protocol in this direction, saying why (unless why is NULL). */
void dis_raw_start(const struct out *o, struct dis_side *s, const char *why);

/* Fernet (dissect_fernet.c): look for tokens byte by byte; lay out the one being collected. */
void dis_token_byte(const struct out *o, struct dis_side *s, uint8_t c);
void dis_token_end(const struct out *o, struct dis_side *s);

/* HTTP (dissect_http.c): start a message, take one byte, show a body preview left over. */
void dis_http_start(struct dis_http *h);
void dis_http_byte(const struct out *o, struct dis_side *s, uint8_t c);
void dis_http_finish(const struct out *o, struct dis_http *h);

/* TLS (dissect_tls.c): take bytes of records; returns how many of the n were used. */
size_t dis_tls_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n);

#endif
