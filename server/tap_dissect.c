/*
 * tap_dissect: a keyless, sans-IO dissector for what squirrel-tap relays. See tap_dissect.h.
 *
 * Every protocol is followed byte by byte (or span by span for TLS record bodies) with its
 * state kept per direction, so a chunk boundary can fall anywhere. Nothing here trusts a
 * length read from the wire: each one is checked against what is actually held.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "tap_dissect.h"

#define FERNET_PREFIX "gAAAAA"
#define FERNET_PREFIX_LEN 6
/* Fernet spec: version (1) | timestamp (8) | IV (16) | ciphertext (16n, n >= 1) | HMAC (32). */
#define FERNET_FIXED_LEN (1 + 8 + 16 + 32)
#define FERNET_MIN_LEN (FERNET_FIXED_LEN + 16)
/* 9999-12-31 23:59:59 UTC: later timestamps cannot be printed as a four-digit year. */
#define DIS_MAX_TIME 253402300799ULL

#define TLS_CT_CCS 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPDATA 23
#define TLS_CT_HEARTBEAT 24
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11
#define TLS_EXT_SNI 0
#define TLS_EXT_ALPN 16
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_VERSION_13 0x0304

struct out {
	struct dis_conn *d;
	dis_emit_fn emit;
	void *arg;
};

__attribute__((format(printf, 2, 3))) static void
say(const struct out *o, const char *fmt, ...)
{
	char line[DIS_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->emit(o->arg, line);
}

static int
layers(const struct out *o)
{
	return (o->d->flags & DIS_LAYERS) != 0;
}

static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Copy n bytes as text a terminal can show: bytes outside printable ASCII become '.'. */
static void
printable(char *dst, size_t cap, const uint8_t *src, size_t n, int cut)
{
	size_t i, room = cap - 4; /* "..." and NUL */

	for (i = 0; i < n && i < room; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '.';
	if (cut || i < n) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

static void
hex(char *dst, size_t cap, const uint8_t *src, size_t n)
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
		for (size_t i = 0; i < n; i++) {
			uint8_t c = buf[at + i];
			if (i == 8)
				line[p++] = ' ';
			line[p++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
		}
		line[p] = '\0';
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

/* ---- Fernet tokens ----------------------------------------------------------------------- */

static int
is_b64url(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Decode a base64url token into out (cap bytes). Returns the length, or -1 with *why set.
 * wolfSSL's Base64_Decode (5.5.4) silently drops a trailing group without its padding, so
 * the padding is checked and completed here first.
 */
static long
token_decode(const char *text, size_t len, uint8_t *out, size_t cap, const char **why)
{
	char std[DIS_TOKEN_MAX + 3];
	size_t body = len, pad;
	word32 outlen = (word32)cap;

	while (body > 0 && text[body - 1] == '=')
		body--;
	pad = len - body;
	for (size_t i = 0; i < body; i++) {
		if (!is_b64url((uint8_t)text[i])) {
			*why = "'=' inside the base64 text";
			return -1;
		}
		std[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
	}
	if (body % 4 == 1 || pad > 2 || (pad > 0 && len % 4 != 0)) {
		*why = "its base64 length is impossible";
		return -1;
	}
	memcpy(std + body, "===", (4 - body % 4) % 4);
	body += (4 - body % 4) % 4;
	if (Base64_Decode((const byte *)std, (word32)body, out, &outlen) != 0) {
		*why = "it is not valid base64";
		return -1;
	}
	return (long)outlen;
}

static void
token_show(const struct out *o, const struct dis_token *t)
{
	/* Base64_Decode wants room for whole groups: 3 bytes per 4 characters, rounded up. */
	uint8_t raw[DIS_TOKEN_MAX / 4 * 3 + 3];
	char text[2 * 32 + 1];
	const char *why = NULL;
	uint64_t ts = 0;
	long n;

	if (t->len > DIS_TOKEN_MAX) {
		say(o,
		    "  Fernet token? %zu characters starting gAAAAA: longer than %d, not laid out",
		    t->len, DIS_TOKEN_MAX);
		return;
	}
	n = token_decode(t->text, t->len, raw, sizeof(raw), &why);
	if (n >= 0 && n < FERNET_MIN_LEN)
		why = "too short for version, timestamp, IV, one block and HMAC";
	else if (n >= 0 && (n - FERNET_FIXED_LEN) % 16 != 0)
		why = "its ciphertext is not whole 16-byte blocks";
	if (why != NULL) {
		say(o, "  Fernet token? %zu characters starting gAAAAA, but %s", t->len, why);
		return;
	}
	for (int i = 1; i <= 8; i++)
		ts = ts << 8 | raw[i];
	say(o, "  Fernet token: %zu characters, %ld bytes", t->len, n);
	say(o, "    version     0x%02x", raw[0]);
	if (ts <= DIS_MAX_TIME) {
		time_t tt = (time_t)ts;
		struct tm tm;
		char date[64];

		if (gmtime_r(&tt, &tm) != NULL &&
		    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
			say(o, "    timestamp   %llu (%s)", (unsigned long long)ts, date);
		else
			say(o, "    timestamp   %llu", (unsigned long long)ts);
	} else {
		say(o, "    timestamp   %llu (after the year 9999)", (unsigned long long)ts);
	}
	hex(text, sizeof(text), raw + 9, 16);
	say(o, "    IV          %s", text);
	say(o, "    ciphertext  %ld bytes (%ld AES-128-CBC block%s)", n - FERNET_FIXED_LEN,
	    (n - FERNET_FIXED_LEN) / 16, plural((uint64_t)(n - FERNET_FIXED_LEN) / 16));
	hex(text, sizeof(text), raw + n - 32, 32);
	say(o, "    HMAC        %s", text);
}

/* The token (if one was being collected) ended: lay it out and look for the next. */
static void
token_end(const struct out *o, struct dis_side *s)
{
	struct dis_token *t = &s->token;

	if (t->prefix == FERNET_PREFIX_LEN && layers(o))
		token_show(o, t);
	t->prefix = 0;
	t->len = 0;
}

static void
token_byte(const struct out *o, struct dis_side *s, uint8_t c)
{
	struct dis_token *t = &s->token;

	if (t->prefix == FERNET_PREFIX_LEN) {
		if (is_b64url(c) || c == '=') {
			if (t->len < DIS_TOKEN_MAX)
				t->text[t->len] = (char)c;
			t->len++;
			return;
		}
		token_end(o, s);
	}
	/* 'g' occurs only first in the prefix, so a mismatch restarts at 'g' or nothing. */
	if (c == (uint8_t)FERNET_PREFIX[t->prefix]) {
		if (++t->prefix == FERNET_PREFIX_LEN) {
			memcpy(t->text, FERNET_PREFIX, FERNET_PREFIX_LEN);
			t->len = FERNET_PREFIX_LEN;
		}
	} else {
		t->prefix = c == 'g';
	}
}

/* ---- plain bytes ------------------------------------------------------------------------- */

static void
raw_start(const struct out *o, struct dis_side *s, const char *why)
{
	if (layers(o) && why != NULL)
		say(o, "  %s; showing bytes only from here", why);
	s->proto = DIS_PROTO_RAW;
}

/* ---- HTTP/1.x ---------------------------------------------------------------------------- */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/d.d" at p (n bytes available). */
static int
is_version(const char *p, size_t n)
{
	return n >= 8 && memcmp(p, "HTTP/", 5) == 0 && is_digit(p[5]) && p[6] == '.' &&
	       is_digit(p[7]);
}

/* method SP target SP HTTP/d.d (RFC 9112 §3), methods as upper-case tokens. */
static int
is_request_line(const char *p, size_t n, int cut)
{
	size_t i = 0, t;

	while (i < n && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return 0;
	if (cut)
		return 1;
	t = ++i;
	while (i < n && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i == t || i >= n || p[i] != ' ')
		return 0;
	i++;
	return n - i == 8 && is_version(p + i, n - i);
}

/* HTTP/d.d SP 3DIGIT [SP reason] (RFC 9112 §4). Returns the status or 0. */
static int
status_of(const char *p, size_t n)
{
	if (n < 12 || !is_version(p, n) || p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) ||
	    !is_digit(p[11]) || (n > 12 && p[12] != ' '))
		return 0;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

static int
name_is(const char *line, size_t n, const char *name)
{
	size_t len = strlen(name);

	if (n <= len || line[len] != ':')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = line[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return 0;
	}
	return 1;
}

static int
contains_nocase(const char *p, size_t n, const char *word)
{
	size_t len = strlen(word);

	for (size_t i = 0; i + len <= n; i++) {
		size_t k = 0;
		while (k < len && (p[i + k] | 0x20) == word[k])
			k++;
		if (k == len)
			return 1;
	}
	return 0;
}

static void
body_preview_show(const struct out *o, struct dis_http *h)
{
	char text[DIS_BODY_PREVIEW + 4];

	if (h->preview_state != 0 || h->preview_len == 0)
		return;
	h->preview_state = 1;
	if (!layers(o))
		return;
	printable(text, sizeof(text), h->preview, h->preview_len, h->body_seen > h->preview_len);
	say(o, "  HTTP body text: \"%s\"", text);
}

/* The preview is shown when the body ends, or at the first byte that does not fit. */
static void
body_byte(const struct out *o, struct dis_side *s, uint8_t c)
{
	struct dis_http *h = &s->u.http;

	h->body_seen++;
	if (h->preview_state == 0) {
		if (h->preview_len < DIS_BODY_PREVIEW)
			h->preview[h->preview_len++] = c;
		else
			body_preview_show(o, h);
	}
	token_byte(o, s, c);
}

static void
message_start(struct dis_http *h)
{
	h->state = DIS_HTTP_START;
	h->body = DIS_BODY_NONE;
	h->left = 0;
	h->status = 0;
	h->preview_len = 0;
	h->preview_state = 0;
	h->body_seen = 0;
}

static void
message_end(const struct out *o, struct dis_side *s)
{
	struct dis_http *h = &s->u.http;

	body_preview_show(o, h);
	token_end(o, s);
	message_start(h);
}

/* Content-Length: 1*DIGIT (RFC 9110 §8.6). Returns 0 or -1. */
static int
parse_length(const char *p, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || !is_digit(p[i]))
		return -1;
	for (; i < n && is_digit(p[i]); i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i != n)
		return -1;
	*out = v;
	return 0;
}

/* A request line was read: remember, in order, whether its response will have a body. */
static void
request_seen(struct dis_conn *d, const char *p, size_t n)
{
	if (d->pending == DIS_PIPELINE_MAX)
		return;
	if (n >= 5 && memcmp(p, "HEAD ", 5) == 0)
		d->heads |= UINT64_C(1) << d->pending;
	d->pending++;
}

/* A final response ends its request's wait. Returns 1 if that request was HEAD. */
static int
response_to_head(struct dis_conn *d)
{
	int head;

	if (d->pending == 0)
		return 0;
	head = (int)(d->heads & 1);
	d->heads >>= 1;
	d->pending--;
	return head;
}

static void
headers_end(const struct out *o, struct dis_side *s)
{
	struct dis_http *h = &s->u.http;
	int interim = h->status >= 100 && h->status < 200;
	int head = h->status >= 200 && response_to_head(o->d);

	/* RFC 9112 §6.3: these responses end with their headers, whatever they announce. */
	if (h->status != 0 && (head || interim || h->status == 204 || h->status == 304)) {
		h->body = DIS_BODY_NONE;
		if (head && layers(o))
			say(o, "  HTTP body: none (a response to HEAD)");
	} else if (h->body == DIS_BODY_NONE && h->status != 0) {
		h->body = DIS_BODY_CLOSE;
	}
	switch (h->body) {
	case DIS_BODY_NONE: message_end(o, s); break;
	case DIS_BODY_LENGTH:
		if (layers(o))
			say(o, "  HTTP body: %llu byte%s (Content-Length)",
			    (unsigned long long)h->left, plural(h->left));
		if (h->left == 0)
			message_end(o, s);
		else
			h->state = DIS_HTTP_BODY_LEN;
		break;
	case DIS_BODY_CHUNKED:
		if (layers(o))
			say(o, "  HTTP body: chunked");
		h->state = DIS_HTTP_CHUNK_SIZE;
		break;
	case DIS_BODY_CLOSE:
		if (layers(o))
			say(o, "  HTTP body: until the connection closes");
		h->state = DIS_HTTP_BODY_CLOSE;
		break;
	case DIS_BODY_BAD:
		raw_start(o, s, "HTTP: cannot tell where the body ends (bad Content-Length)");
		break;
	}
}

static void
chunk_size_line(const struct out *o, struct dis_side *s, const char *p, size_t n)
{
	struct dis_http *h = &s->u.http;
	uint64_t v = 0;
	size_t i = 0;

	for (; i < n; i++) {
		int c = p[i] | 0x20, d;
		if (is_digit(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (v >> 60)
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0 || (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t')) {
		raw_start(o, s, "HTTP: bad chunk size line");
		return;
	}
	if (v == 0) {
		/* The body ended; what follows (trailers) is not part of a token in it. */
		body_preview_show(o, h);
		token_end(o, s);
		h->state = DIS_HTTP_TRAILERS;
		return;
	}
	h->left = v;
	h->state = DIS_HTTP_CHUNK_DATA;
}

static void
http_line(const struct out *o, struct dis_side *s)
{
	struct dis_http *h = &s->u.http;
	int cut = h->line_total > h->line_len;
	size_t n = h->line_len;
	const char *p = h->line;
	char text[DIS_HTTP_LINE_MAX + 4];

	if (!cut && n > 0 && p[n - 1] == '\r')
		n--;
	printable(text, sizeof(text), (const uint8_t *)p, n, cut);

	switch (h->state) {
	case DIS_HTTP_START:
		if (n == 0 && !cut)
			return; /* RFC 9112 §2.2: empty lines before a request line are ignored */
		if ((h->status = status_of(p, n)) != 0) {
			if (layers(o))
				say(o, "  HTTP response: %s", text);
		} else if (is_request_line(p, n, cut)) {
			if (layers(o))
				say(o, "  HTTP request: %s", text);
			request_seen(o->d, p, n);
		} else {
			raw_start(o, s, "not an HTTP request or status line");
			return;
		}
		h->state = DIS_HTTP_HEADERS;
		return;
	case DIS_HTTP_HEADERS:
		if (n == 0) {
			headers_end(o, s);
			return;
		}
		if (layers(o))
			say(o, "  HTTP header: %s", text);
		if (name_is(p, n, "transfer-encoding")) {
			if (contains_nocase(p, n, "chunked"))
				h->body = DIS_BODY_CHUNKED;
		} else if (name_is(p, n, "content-length") && h->body != DIS_BODY_CHUNKED) {
			size_t name = sizeof("content-length:") - 1;
			if (cut || parse_length(p + name, n - name, &h->left) != 0)
				h->body = DIS_BODY_BAD;
			else if (h->body != DIS_BODY_BAD)
				h->body = DIS_BODY_LENGTH;
		}
		return;
	case DIS_HTTP_CHUNK_SIZE: chunk_size_line(o, s, p, n); return;
	case DIS_HTTP_CHUNK_CRLF:
		if (n != 0)
			raw_start(o, s, "HTTP: chunk data longer than its size");
		else
			h->state = DIS_HTTP_CHUNK_SIZE;
		return;
	case DIS_HTTP_TRAILERS:
		if (n == 0)
			message_end(o, s);
		else if (layers(o))
			say(o, "  HTTP trailer: %s", text);
		return;
	default: return;
	}
}

static void
http_byte(const struct out *o, struct dis_side *s, uint8_t c)
{
	struct dis_http *h = &s->u.http;

	switch (h->state) {
	case DIS_HTTP_BODY_LEN:
		body_byte(o, s, c);
		if (--h->left == 0)
			message_end(o, s);
		return;
	case DIS_HTTP_BODY_CLOSE: body_byte(o, s, c); return;
	case DIS_HTTP_CHUNK_DATA:
		body_byte(o, s, c);
		if (--h->left == 0)
			h->state = DIS_HTTP_CHUNK_CRLF;
		return;
	case DIS_HTTP_START:
	case DIS_HTTP_HEADERS:
	case DIS_HTTP_TRAILERS:
		/* A token split by chunk framing stays whole: size lines are not scanned. */
		token_byte(o, s, c);
		/* FALLTHROUGH */
	case DIS_HTTP_CHUNK_SIZE:
	case DIS_HTTP_CHUNK_CRLF:
		if (c == '\n') {
			http_line(o, s);
			h->line_len = 0;
			h->line_total = 0;
			return;
		}
		if (h->line_len < sizeof(h->line))
			h->line[h->line_len++] = (char)c;
		h->line_total++;
		return;
	}
}

/* ---- TLS --------------------------------------------------------------------------------- */

static const char *
tls_version_name(unsigned v, char *buf, size_t cap)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case 0x0301: return "TLS 1.0";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	}
	/* RFC 8701: GREASE values look like 0x?a?a with both bytes equal. */
	if ((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff))
		return "GREASE";
	snprintf(buf, cap, "0x%04x", v);
	return buf;
}

struct name {
	unsigned code;
	const char *text;
};

/* RFC 8446 §4 and RFC 5246 §7.4; Wireshark's names without spaces. */
static const struct name handshake_names[] = {
	{0, "HelloRequest"},        {1, "ClientHello"},      {2, "ServerHello"},
	{3, "HelloVerifyRequest"},  {4, "NewSessionTicket"}, {5, "EndOfEarlyData"},
	{8, "EncryptedExtensions"}, {11, "Certificate"},     {12, "ServerKeyExchange"},
	{13, "CertificateRequest"}, {14, "ServerHelloDone"}, {15, "CertificateVerify"},
	{16, "ClientKeyExchange"},  {20, "Finished"},        {21, "CertificateURL"},
	{22, "CertificateStatus"},  {24, "KeyUpdate"},       {254, "MessageHash"},
};

/* RFC 8446 §6. */
static const struct name alert_names[] = {
	{0, "close_notify"},
	{10, "unexpected_message"},
	{20, "bad_record_mac"},
	{22, "record_overflow"},
	{40, "handshake_failure"},
	{42, "bad_certificate"},
	{43, "unsupported_certificate"},
	{44, "certificate_revoked"},
	{45, "certificate_expired"},
	{46, "certificate_unknown"},
	{47, "illegal_parameter"},
	{48, "unknown_ca"},
	{49, "access_denied"},
	{50, "decode_error"},
	{51, "decrypt_error"},
	{70, "protocol_version"},
	{71, "insufficient_security"},
	{80, "internal_error"},
	{86, "inappropriate_fallback"},
	{90, "user_canceled"},
	{109, "missing_extension"},
	{110, "unsupported_extension"},
	{112, "unrecognized_name"},
	{116, "certificate_required"},
	{120, "no_application_protocol"},
};

/* The suites wolfSSL, OpenSSL and Python offer by default; others are "unknown suite (0x....)". */
static const struct name suite_names[] = {
	{0x1301, "TLS_AES_128_GCM_SHA256"},
	{0x1302, "TLS_AES_256_GCM_SHA384"},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
};

#define LOOKUP(table, code, dflt) lookup(table, sizeof(table) / sizeof(table[0]), code, dflt)

static const char *
lookup(const struct name *table, size_t n, unsigned code, const char *dflt)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].text;
	return dflt;
}

/* A bounds-checked reader over the kept bytes of a handshake message. */
struct rd {
	const uint8_t *p;
	size_t n;
	int bad;
};

static unsigned
rd_u8(struct rd *r)
{
	if (r->bad || r->n < 1) {
		r->bad = 1;
		return 0;
	}
	r->n--;
	return *r->p++;
}

static unsigned
rd_u16(struct rd *r)
{
	unsigned hi = rd_u8(r);
	return hi << 8 | rd_u8(r);
}

static const uint8_t *
rd_take(struct rd *r, size_t len)
{
	const uint8_t *p = r->p;

	if (r->bad || r->n < len) {
		r->bad = 1;
		return NULL;
	}
	r->p += len;
	r->n -= len;
	return p;
}

/* A sub-reader over the next len bytes (a vector or an extension body). */
static struct rd
rd_sub(struct rd *r, size_t len)
{
	struct rd sub = {NULL, 0, 1};
	const uint8_t *p = rd_take(r, len);

	if (p != NULL) {
		sub.p = p;
		sub.n = len;
		sub.bad = 0;
	}
	return sub;
}

/* Append ", " + text to buf, or cut silently when full: the line is a summary. */
__attribute__((format(printf, 3, 4))) static void
add(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random. */
static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
				       0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
				       0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
				       0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ClientHello (RFC 8446 §4.1.2): the SNI, ALPN and versions an eavesdropper reads in clear. */
static void
client_hello(char *sum, size_t cap, struct rd *r)
{
	char vbuf[16], name[260];
	struct rd exts, e, list;
	unsigned suites;

	rd_take(r, 2 + 32);
	rd_take(r, rd_u8(r)); /* legacy_session_id */
	suites = rd_u16(r);
	rd_take(r, suites);
	rd_take(r, rd_u8(r)); /* compression methods */
	if (r->bad) {
		add(sum, cap, ", cut short");
		return;
	}
	add(sum, cap, ", %u cipher suites", suites / 2);
	if (r->n == 0)
		return; /* no extensions: an old client */
	exts = rd_sub(r, rd_u16(r));
	while (!exts.bad && exts.n > 0) {
		unsigned type = rd_u16(&exts);
		e = rd_sub(&exts, rd_u16(&exts));
		if (e.bad)
			break;
		if (type == TLS_EXT_SNI) {
			list = rd_sub(&e, rd_u16(&e));
			while (!list.bad && list.n > 0) {
				unsigned kind = rd_u8(&list);
				size_t len = rd_u16(&list);
				const uint8_t *host = rd_take(&list, len);
				if (host != NULL && kind == 0) {
					printable(name, sizeof(name), host, len, 0);
					add(sum, cap, ", SNI %s", name);
				}
			}
		} else if (type == TLS_EXT_ALPN) {
			list = rd_sub(&e, rd_u16(&e));
			add(sum, cap, ", ALPN");
			while (!list.bad && list.n > 0) {
				size_t len = rd_u8(&list);
				const uint8_t *proto = rd_take(&list, len);
				if (proto != NULL) {
					printable(name, sizeof(name), proto, len, 0);
					add(sum, cap, " %s", name);
				}
			}
		} else if (type == TLS_EXT_SUPPORTED_VERSIONS) {
			list = rd_sub(&e, rd_u8(&e));
			add(sum, cap, ", offers");
			while (!list.bad && list.n >= 2)
				add(sum, cap, " %s",
				    tls_version_name(rd_u16(&list), vbuf, sizeof(vbuf)));
		}
	}
}

/* ServerHello: the chosen version and suite. Returns the version chosen (0 if cut short) and
 * sets *hrr for a HelloRetryRequest. */
static unsigned
server_hello(char *sum, size_t cap, struct rd *r, int *hrr)
{
	char vbuf[16];
	unsigned version = rd_u16(r), suite, chosen;
	const uint8_t *random = rd_take(r, 32);
	struct rd exts, e;

	rd_take(r, rd_u8(r)); /* legacy_session_id_echo */
	suite = rd_u16(r);
	rd_u8(r); /* legacy_compression_method */
	if (r->bad || random == NULL) {
		add(sum, cap, ", cut short");
		return 0;
	}
	*hrr = memcmp(random, hrr_random, sizeof(hrr_random)) == 0;
	chosen = version;
	exts = rd_sub(r, r->n > 0 ? rd_u16(r) : 0);
	while (!exts.bad && exts.n > 0) {
		unsigned type = rd_u16(&exts);
		e = rd_sub(&exts, rd_u16(&exts));
		if (!e.bad && type == TLS_EXT_SUPPORTED_VERSIONS && e.n == 2)
			chosen = rd_u16(&e);
	}
	if (*hrr)
		add(sum, cap, " (HelloRetryRequest: the client must send a new ClientHello)");
	add(sum, cap, ", %s, cipher suite %s (0x%04x)",
	    tls_version_name(chosen, vbuf, sizeof(vbuf)),
	    LOOKUP(suite_names, suite, "unknown suite"), suite);
	return chosen;
}

static void
handshake_done(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	unsigned type = t->hs_hdr[0];
	const char *name = LOOKUP(handshake_names, type, NULL);
	size_t kept = t->hs_len < DIS_HS_KEEP ? t->hs_len : DIS_HS_KEEP;
	struct rd r = {t->hs_keep, kept, 0};
	char sum[DIS_LINE_MAX];
	int tls13 = 0, hrr = 0;

	if (name != NULL)
		snprintf(sum, sizeof(sum), "%s, %zu byte%s", name, t->hs_len, plural(t->hs_len));
	else
		snprintf(sum, sizeof(sum), "handshake type %u, %zu byte%s", type, t->hs_len,
			 plural(t->hs_len));
	if (type == TLS_HS_CLIENT_HELLO)
		client_hello(sum, sizeof(sum), &r);
	else if (type == TLS_HS_SERVER_HELLO)
		tls13 = server_hello(sum, sizeof(sum), &r, &hrr) == TLS_VERSION_13;
	else if (type == TLS_HS_CERTIFICATE && t->hs_len <= DIS_HS_KEEP) {
		/* TLS 1.2 (RFC 5246 §7.4.2): a uint24 list of uint24-length certificates. */
		struct rd list;
		unsigned count = 0;
		size_t len = rd_u8(&r) << 16;
		len |= rd_u16(&r);
		list = rd_sub(&r, len);
		while (!list.bad && list.n > 0) {
			size_t one = rd_u8(&list) << 16;
			one |= rd_u16(&list);
			if (rd_take(&list, one) != NULL)
				count++;
		}
		if (!list.bad)
			add(sum, sizeof(sum), ", %u certificate%s", count, plural(count));
	}
	if (layers(o))
		say(o, "    handshake: %s", sum);
	if (tls13)
		o->d->tls13 = 1;
	if (tls13 && !hrr) {
		/* RFC 8446 §2: everything after the ServerHello is encrypted, both ways. */
		for (int i = 0; i < 2; i++)
			if (o->d->side[i].proto == DIS_PROTO_TLS)
				o->d->side[i].u.tls.encrypted = 1;
	}
}

/* Bytes of a clear handshake record: messages may span records and records hold several. */
static void
handshake_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n)
{
	struct dis_tls *t = &s->u.tls;

	while (n > 0 && !t->encrypted) {
		if (t->hs_hdr_len < 4) {
			t->hs_hdr[t->hs_hdr_len++] = *p++;
			n--;
			if (t->hs_hdr_len == 4) {
				t->hs_len = (size_t)t->hs_hdr[1] << 16 | (size_t)t->hs_hdr[2] << 8 |
					    t->hs_hdr[3];
				t->hs_got = 0;
			} else {
				continue;
			}
		} else {
			size_t take = t->hs_len - t->hs_got < n ? t->hs_len - t->hs_got : n;
			if (t->hs_got < DIS_HS_KEEP) {
				size_t keep = DIS_HS_KEEP - t->hs_got < take
						      ? DIS_HS_KEEP - t->hs_got
						      : take;
				memcpy(t->hs_keep + t->hs_got, p, keep);
			}
			t->hs_got += take;
			p += take;
			n -= take;
		}
		if (t->hs_got == t->hs_len) {
			handshake_done(o, s);
			t->hs_hdr_len = 0;
		}
	}
}

static void
record_start(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	unsigned version = (unsigned)t->hdr[1] << 8 | t->hdr[2];
	size_t len = (size_t)t->hdr[3] << 8 | t->hdr[4];
	char vbuf[16], head[2 * sizeof(t->hdr) + 1], why[64];
	const char *what;

	t->type = t->hdr[0];
	if (t->type < TLS_CT_CCS || t->type > TLS_CT_HEARTBEAT || t->hdr[1] != 3 ||
	    len > DIS_TLS_RECORD_MAX) {
		hex(head, sizeof(head), t->hdr, sizeof(t->hdr));
		snprintf(why, sizeof(why), "not a TLS record header (%s)", head);
		raw_start(o, s, why);
		return;
	}
	switch (t->type) {
	case TLS_CT_CCS: what = "change cipher spec"; break;
	case TLS_CT_ALERT: what = t->encrypted ? "encrypted alert" : "alert"; break;
	case TLS_CT_HANDSHAKE:
		what = t->encrypted ? "encrypted handshake message" : "handshake";
		break;
	case TLS_CT_APPDATA: what = "application data"; break;
	default: what = "heartbeat"; break;
	}
	if (layers(o))
		say(o, "  TLS record: %s, %zu byte%s, %s (0x%04x)", what, len, plural(len),
		    tls_version_name(version, vbuf, sizeof(vbuf)), version);
	t->rec_left = len;
	t->alert_len = 0;
	t->state = DIS_TLS_BODY;
}

static void
record_end(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;

	if (t->type == TLS_CT_ALERT && !t->encrypted && layers(o)) {
		if (t->alert_len == 2)
			say(o, "    alert: %s, %s (%u)", t->alert[0] == 2 ? "fatal" : "warning",
			    LOOKUP(alert_names, t->alert[1], "unknown"), t->alert[1]);
		else
			say(o, "    alert: %zu byte%s, not 2", t->alert_len, plural(t->alert_len));
	}
	/* RFC 5246 §7.1: records after ChangeCipherSpec are under the new keys; not in TLS 1.3,
	 * whose dummy one may come before a second ClientHello in clear (RFC 8446 §D.4). */
	if (t->type == TLS_CT_CCS && !o->d->tls13)
		t->encrypted = 1;
	t->state = DIS_TLS_HEADER;
	t->hdr_len = 0;
}

/* Returns bytes consumed; fewer than n only if the stream turned out not to be TLS. */
static size_t
tls_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n)
{
	struct dis_tls *t = &s->u.tls;
	size_t used = 0;

	while (used < n) {
		if (t->state == DIS_TLS_HEADER) {
			t->hdr[t->hdr_len++] = p[used++];
			if (t->hdr_len < sizeof(t->hdr))
				continue;
			record_start(o, s);
			if (s->proto != DIS_PROTO_TLS)
				return used;
		} else {
			size_t take = n - used < t->rec_left ? n - used : t->rec_left;
			if (t->type == TLS_CT_HANDSHAKE && !t->encrypted)
				handshake_bytes(o, s, p + used, take);
			else if (t->type == TLS_CT_ALERT)
				for (size_t i = 0; i < take && t->alert_len < sizeof(t->alert); i++)
					t->alert[t->alert_len++] = p[used + i];
			used += take;
			t->rec_left -= take;
		}
		if (t->state == DIS_TLS_BODY && t->rec_left == 0)
			record_end(o, s);
	}
	return used;
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
		message_start(&s->u.http);
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
	struct out o = {d, emit, arg};
	size_t i = 0;

	if (d->grep != NULL)
		grep_bytes(d->grep, s, buf, len);
	if ((d->flags & (DIS_HEX | DIS_LAYERS)) == 0 || len == 0) {
		s->offset += len;
		return;
	}
	say(&o, "conn %lu: %s, %zu byte%s", d->id, dis_dir_name(dir), len, plural(len));
	if (s->proto == DIS_PROTO_UNKNOWN)
		detect(s, buf[0]);
	while (i < len) {
		switch (s->proto) {
		case DIS_PROTO_TLS: i += tls_bytes(&o, s, buf + i, len - i); break;
		case DIS_PROTO_HTTP: http_byte(&o, s, buf[i++]); break;
		default: token_byte(&o, s, buf[i++]); break;
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
		struct out o = {d, emit, arg};

		if (s->proto == DIS_PROTO_HTTP)
			body_preview_show(&o, &s->u.http);
		else if (s->proto == DIS_PROTO_TLS && layers(&o) && s->u.tls.state == DIS_TLS_BODY)
			say(&o, "conn %lu: %s ended inside a TLS record (%zu byte%s missing)",
			    d->id, dis_dir_name((enum dis_dir)i), s->u.tls.rec_left,
			    plural(s->u.tls.rec_left));
		if (s->token.prefix == FERNET_PREFIX_LEN && layers(&o))
			say(&o, "conn %lu: %s ended with a token:", d->id,
			    dis_dir_name((enum dis_dir)i));
		token_end(&o, s);
	}
}

void
dis_grep_report(const struct dis_conn *d, dis_emit_fn emit, void *arg)
{
	if (d->grep != NULL) {
		char text[DIS_GREP_MAX + 4], line[DIS_LINE_MAX];
		int c2s = d->side[DIS_C2S].grep_seen, s2c = d->side[DIS_S2C].grep_seen;

		printable(text, sizeof(text), d->grep->text, d->grep->len, 0);
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
