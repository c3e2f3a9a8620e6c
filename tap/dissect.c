/*
 * dissect: a sans-IO dissector for what squirrel-tap relays. See dissect.h.
 *
 * Every protocol is followed byte by byte (or span by span for TLS record bodies) with its
 * state kept per direction, so a chunk boundary can fall anywhere. Nothing here trusts a
 * length read from the wire: each one is checked against what is actually held. This file
 * holds what all protocols share (the output, the hex dump, --grep) and the chunk loop;
 * dissect_http.c, dissect_fernet.c, dissect_tls.c and dissect_hello.c each follow one
 * protocol, dissect_crypt.c opens TLS records with a key log's secrets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"

void
dis_say(const struct out *o, const char *fmt, ...)
{
	char text[DIS_LINE_MAX], line[DIS_LINE_MAX];
	size_t indent;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!o->decrypted) {
		o->emit(o->arg, text);
		return;
	}
	indent = strspn(text, " ");
	snprintf(line, sizeof(line), "%.*s[decrypted] %s", (int)indent, text, text + indent);
	o->emit(o->arg, line);
}

void
dis_event(const struct out *o, enum dis_ev kind, uint64_t size, const char *what,
	  const char *detail)
{
	struct dis_event ev;

	if (o->d->event == NULL)
		return;
	ev.kind = kind;
	ev.dir = o->dir;
	ev.decrypted = o->decrypted;
	ev.size = size;
	ev.what = what;
	ev.detail = detail != NULL ? detail : "";
	o->d->event(o->d->event_arg, &ev);
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

void
dis_grep_bytes(const struct dis_grep *g, struct dis_side *s, const uint8_t *buf, size_t len)
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
detect(struct dis_side *s, uint8_t first, int allow_tls)
{
	/* A TLS stream starts with a handshake (ClientHello, ServerHello) or an alert record;
	 * HTTP/1.x with an upper-case method or "HTTP/". Anything else is shown as bytes. */
	if (allow_tls && (first == TLS_CT_HANDSHAKE || first == TLS_CT_ALERT)) {
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
dis_stream(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n, int allow_tls)
{
	size_t i = 0, raw = 0;

	if (n == 0)
		return;
	if (s->proto == DIS_PROTO_UNKNOWN)
		detect(s, p[0], allow_tls);
	while (i < n) {
		switch (s->proto) {
		case DIS_PROTO_TLS: i += dis_tls_bytes(o, s, p + i, n - i); break;
		case DIS_PROTO_HTTP: dis_http_byte(o, s, p[i++]); break;
		default:
			dis_token_byte(o, s, p[i++]);
			raw++;
			break;
		}
	}
	if (raw > 0)
		dis_event(o, DIS_EV_DATA, raw, "", NULL);
}

static void
side_init(struct dis_side *s)
{
	s->proto = DIS_PROTO_UNKNOWN;
	s->offset = 0;
	s->grep_m = 0;
	s->grep_seen = 0;
	s->token.prefix = 0;
	s->token.len = 0;
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
	memset(&d->facts, 0, sizeof(d->facts));
	d->event = NULL;
	d->event_arg = NULL;
	d->crypt = NULL;
	d->grep_decrypted[0] = d->grep_decrypted[1] = 0;
	d->decrypted = 0;
	side_init(&d->side[DIS_C2S]);
	side_init(&d->side[DIS_S2C]);
}

void
dis_conn_events(struct dis_conn *d, dis_event_fn fn, void *arg)
{
	d->event = fn;
	d->event_arg = arg;
}

void
dis_feed(struct dis_conn *d, enum dis_dir dir, const uint8_t *buf, size_t len, dis_emit_fn emit,
	 void *arg)
{
	struct dis_side *s = &d->side[dir];
	struct out o = {.d = d, .emit = emit, .arg = arg, .dir = dir};
	int lines = (d->flags & (DIS_HEX | DIS_LAYERS)) != 0;

	if (d->grep != NULL)
		dis_grep_bytes(d->grep, s, buf, len);
	if (len == 0 || (!lines && d->event == NULL && d->crypt == NULL)) {
		s->offset += len;
		return;
	}
	dis_crypt_retry_other(&o);
	if (lines)
		dis_say(&o, "conn %lu: %s, %zu byte%s", d->id, dis_dir_name(dir), len,
			dis_plural(len));
	dis_stream(&o, s, buf, len, 1);
	if (d->flags & DIS_HEX)
		hexdump(&o, buf, len);
	s->offset += len;
}

void
dis_finish(struct dis_conn *d, dis_emit_fn emit, void *arg)
{
	for (int i = 0; i < 2; i++) {
		struct dis_side *s = &d->side[i];
		struct out o = {.d = d, .emit = emit, .arg = arg, .dir = (enum dis_dir)i};

		if (s->proto == DIS_PROTO_HTTP)
			dis_http_end(&o, s);
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
	dis_crypt_finish(d, emit, arg);
}

void
dis_grep_report(const struct dis_conn *d, dis_emit_fn emit, void *arg)
{
	static const char *const where[4] = {NULL, "(client -> server)", "(server -> client)",
					     "(both directions)"};
	char text[DIS_GREP_MAX + 4], line[DIS_LINE_MAX];
	int clear, dec;

	if (d->grep == NULL)
		return;
	clear = dis_grep_seen(d, DIS_C2S) | dis_grep_seen(d, DIS_S2C) << 1;
	dec = dis_grep_seen_decrypted(d, DIS_C2S) | dis_grep_seen_decrypted(d, DIS_S2C) << 1;
	dis_printable(text, sizeof(text), d->grep->text, d->grep->len, 0);
	if (clear != 0)
		snprintf(line, sizeof(line), "conn %lu: '%s' seen in clear %s", d->id, text,
			 where[clear]);
	else if (dec != 0)
		snprintf(line, sizeof(line), "conn %lu: '%s' seen only after decryption %s", d->id,
			 text, where[dec]);
	else
		snprintf(line, sizeof(line), "conn %lu: '%s' not seen", d->id, text);
	emit(arg, line);
}

int
dis_grep_seen(const struct dis_conn *d, enum dis_dir dir)
{
	return d->side[dir].grep_seen;
}

int
dis_grep_seen_decrypted(const struct dis_conn *d, enum dis_dir dir)
{
	return d->grep_decrypted[dir];
}

unsigned long
dis_decrypted_records(const struct dis_conn *d)
{
	return d->decrypted;
}

int
dis_tls_summary(const struct dis_conn *d, char *buf, size_t cap)
{
	const struct dis_tls_facts *f = &d->facts;
	char vbuf[8], gbuf[8];
	size_t used = 0;

	buf[0] = '\0';
	if (d->side[DIS_C2S].proto != DIS_PROTO_TLS && d->side[DIS_S2C].proto != DIS_PROTO_TLS)
		return -1;
	if (f->sni[0] != '\0')
		used += (size_t)snprintf(buf, cap, "SNI %s", f->sni);
	if (f->version != 0 && used < cap)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
					 dis_version_name(f->version, vbuf, sizeof(vbuf)));
	if (f->group != 0 && used < cap)
		snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
			 dis_group_name(f->group, gbuf, sizeof(gbuf)));
	return 0;
}

const char *
dis_dir_name(enum dis_dir dir)
{
	return dir == DIS_C2S ? "client -> server" : "server -> client";
}
