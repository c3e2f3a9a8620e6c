/*
 * dissect: a keyless, sans-IO dissector for what squirrel-tap relays. See dissect.h.
 *
 * Every protocol is followed byte by byte (or span by span for TLS record bodies) with its
 * state kept per direction, so a chunk boundary can fall anywhere. Nothing here trusts a
 * length read from the wire: each one is checked against what is actually held. This file
 * holds what all protocols share (the output, the hex dump, --grep) and the chunk loop;
 * dissect_http.c, dissect_fernet.c and dissect_tls.c each follow one protocol.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"

void
dis_say(const struct out *o, const char *fmt, ...)
{
	char line[DIS_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->emit(o->arg, line);
}

int
dis_layers(const struct out *o)
{
	return (o->d->flags & DIS_LAYERS) != 0;
}

const char *
dis_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

void
dis_printable(char *dst, size_t cap, const uint8_t *src, size_t n, int cut)
{
	size_t len;

	/* cap - 3 leaves room for "..." after the text and its NUL. */
	if (termsafe_copy(dst, cap - 3, src, n, DIS_TEXT, &len) < n || cut)
		memcpy(dst + len, "...", 4);
}

void
dis_hex(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < cap; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * i] = '\0';
}

/* ---- hex dump, as Wireshark's bytes pane lays it out ------------------------------------ */

/* Bytes as the text column shows them, one column each. Returns the length written. */
static size_t
text_column(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t len;

	termsafe_copy(dst, cap, src, n, DIS_TEXT, &len);
	return len;
}

static void
hexdump(const struct out *o, const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t at = 0; at < len; at += 16) {
		char line[DIS_LINE_MAX];
		size_t n = len - at < 16 ? len - at : 16;
		int w = snprintf(line, sizeof(line), "  %04zx  ", at);
		size_t p = w > 0 ? (size_t)w : 0;

		for (size_t i = 0; i < 16; i++) {
			if (i == 8)
				line[p++] = ' ';
			if (i < n) {
				line[p++] = digits[buf[at + i] >> 4];
				line[p++] = digits[buf[at + i] & 15];
			} else {
				line[p++] = ' ';
				line[p++] = ' ';
			}
			line[p++] = ' ';
		}
		line[p++] = ' ';
		line[p++] = ' ';
		/* The text column, split after 8 bytes as the hex is. */
		p += text_column(line + p, sizeof(line) - p, buf + at, n < 8 ? n : 8);
		if (n > 8) {
			line[p++] = ' ';
			text_column(line + p, sizeof(line) - p, buf + at + 8, n - 8);
		}
		o->emit(o->arg, line);
	}
}

/* ---- --grep ------------------------------------------------------------------------------ */

int
dis_grep_init(struct dis_grep *g, const char *text, size_t len)
{
	size_t k = 0;

	if (len == 0 || len > DIS_GREP_MAX)
		return -1;
	memcpy(g->text, text, len);
	g->len = len;
	g->fail[0] = 0;
	for (size_t i = 1; i < len; i++) {
		while (k > 0 && g->text[i] != g->text[k])
			k = g->fail[k - 1];
		if (g->text[i] == g->text[k])
			k++;
		g->fail[i] = (uint16_t)k;
	}
	return 0;
}

static void
grep_bytes(const struct dis_grep *g, struct dis_side *s, const uint8_t *buf, size_t len)
{
	size_t m = s->grep_m;

	for (size_t i = 0; i < len && !s->grep_seen; i++) {
		while (m > 0 && g->text[m] != buf[i])
			m = g->fail[m - 1];
		if (g->text[m] == buf[i])
			m++;
		if (m == g->len)
			s->grep_seen = 1;
	}
	s->grep_m = m;
}

/* ---- plain bytes ------------------------------------------------------------------------- */

void
dis_raw_start(const struct out *o, struct dis_side *s, const char *why)
{
	if (dis_layers(o) && why != NULL)
		dis_say(o, "  %s; showing bytes only from here", why);
	s->proto = DIS_PROTO_RAW;
}

/* ---- the chunk ------------------------------------------------------------------------- */

static void
detect(struct dis_side *s, uint8_t first)
{
	/* A TLS stream starts with a handshake (ClientHello, ServerHello) or an alert record;
	 * HTTP/1.x with an upper-case method or "HTTP/". Anything else is shown as bytes. */
	if (first == TLS_CT_HANDSHAKE || first == TLS_CT_ALERT) {
		memset(&s->u.tls, 0, sizeof(s->u.tls));
		s->u.tls.state = DIS_TLS_HEADER;
		s->proto = DIS_PROTO_TLS;
	} else if (first >= 'A' && first <= 'Z') {
		memset(&s->u.http, 0, sizeof(s->u.http));
		dis_http_start(&s->u.http);
		s->proto = DIS_PROTO_HTTP;
	} else {
		s->proto = DIS_PROTO_RAW;
	}
}

void
dis_conn_init(struct dis_conn *d, unsigned long id, unsigned flags, const struct dis_grep *grep)
{
	d->id = id;
	d->flags = flags;
	d->grep = grep;
	d->heads = 0;
	d->pending = 0;
	d->tls13 = 0;
	for (int i = 0; i < 2; i++) {
		d->side[i].proto = DIS_PROTO_UNKNOWN;
		d->side[i].offset = 0;
		d->side[i].grep_m = 0;
		d->side[i].grep_seen = 0;
		d->side[i].token.prefix = 0;
		d->side[i].token.len = 0;
	}
}

void
dis_feed(struct dis_conn *d, enum dis_dir dir, const uint8_t *buf, size_t len, dis_emit_fn emit,
	 void *arg)
{
	struct dis_side *s = &d->side[dir];
	struct out o = {.d = d, .emit = emit, .arg = arg};
	size_t i = 0;

	if (d->grep != NULL)
		grep_bytes(d->grep, s, buf, len);
	if ((d->flags & (DIS_HEX | DIS_LAYERS)) == 0 || len == 0) {
		s->offset += len;
		return;
	}
	dis_say(&o, "conn %lu: %s, %zu byte%s", d->id, dis_dir_name(dir), len, dis_plural(len));
	if (s->proto == DIS_PROTO_UNKNOWN)
		detect(s, buf[0]);
	while (i < len) {
		switch (s->proto) {
		case DIS_PROTO_TLS: i += dis_tls_bytes(&o, s, buf + i, len - i); break;
		case DIS_PROTO_HTTP: dis_http_byte(&o, s, buf[i++]); break;
		default: dis_token_byte(&o, s, buf[i++]); break;
		}
	}
	if (d->flags & DIS_HEX)
		hexdump(&o, buf, len);
	s->offset += len;
}

void
dis_finish(struct dis_conn *d, dis_emit_fn emit, void *arg)
{
	for (int i = 0; i < 2; i++) {
		struct dis_side *s = &d->side[i];
		struct out o = {.d = d, .emit = emit, .arg = arg};

		if (s->proto == DIS_PROTO_HTTP)
			dis_http_finish(&o, &s->u.http);
		else if (s->proto == DIS_PROTO_TLS && dis_layers(&o) &&
			 s->u.tls.state == DIS_TLS_BODY)
			dis_say(&o, "conn %lu: %s ended inside a TLS record (%zu byte%s missing)",
				d->id, dis_dir_name((enum dis_dir)i), s->u.tls.rec_left,
				dis_plural(s->u.tls.rec_left));
		if (s->token.prefix == FERNET_PREFIX_LEN && dis_layers(&o))
			dis_say(&o, "conn %lu: %s ended with a token:", d->id,
				dis_dir_name((enum dis_dir)i));
		dis_token_end(&o, s);
	}
}

void
dis_grep_report(const struct dis_conn *d, dis_emit_fn emit, void *arg)
{
	if (d->grep != NULL) {
		char text[DIS_GREP_MAX + 4], line[DIS_LINE_MAX];
		int c2s = d->side[DIS_C2S].grep_seen, s2c = d->side[DIS_S2C].grep_seen;

		dis_printable(text, sizeof(text), d->grep->text, d->grep->len, 0);
		snprintf(line, sizeof(line), "conn %lu: '%s' %s", d->id, text,
			 c2s && s2c ? "seen in clear (both directions)"
			 : c2s      ? "seen in clear (client -> server)"
			 : s2c      ? "seen in clear (server -> client)"
				    : "not seen");
		emit(arg, line);
	}
}

int
dis_grep_seen(const struct dis_conn *d, enum dis_dir dir)
{
	return d->side[dir].grep_seen;
}

const char *
dis_dir_name(enum dis_dir dir)
{
	return dir == DIS_C2S ? "client -> server" : "server -> client";
}
