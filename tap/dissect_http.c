/*
 * dissect_http: HTTP/1.x request and status lines, headers and body framing, as the tap
 * shows them. See dissect.h.
 */
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"

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

void
dis_http_finish(const struct out *o, struct dis_http *h)
{
	char text[DIS_BODY_PREVIEW + 4];

	if (h->preview_state != 0 || h->preview_len == 0)
		return;
	h->preview_state = 1;
	if (!dis_layers(o))
		return;
	dis_printable(text, sizeof(text), h->preview, h->preview_len,
		      h->body_seen > h->preview_len);
	dis_say(o, "  HTTP body text: \"%s\"", text);
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
			dis_http_finish(o, h);
	}
	dis_token_byte(o, s, c);
}

void
dis_http_start(struct dis_http *h)
{
	h->what[0] = '\0';
	h->state = DIS_HTTP_START;
	h->body = DIS_BODY_NONE;
	h->left = 0;
	h->status = 0;
	h->preview_len = 0;
	h->preview_state = 0;
	h->body_seen = 0;
	h->names_len = 0;
	h->names_cut = 0;
}

/* DIS_BRIEF: keep a header line's name for the one line headers_end prints; names that do
 * not fit become one "...". */
static void
name_add(struct dis_http *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t len = colon != NULL ? (size_t)(colon - p) : n;
	size_t sep = h->names_len > 0 ? 2 : 0;

	if (h->names_cut)
		return;
	/* Room for the name, and for ", ..." after it should the next not fit. */
	if (h->names_len + sep + len + 5 > sizeof(h->names)) {
		memcpy(h->names + h->names_len, sep ? ", ..." : "...", sep ? 5 : 3);
		h->names_len += sep ? 5 : 3;
		h->names_cut = 1;
		return;
	}
	memcpy(h->names + h->names_len, ", ", sep);
	memcpy(h->names + h->names_len + sep, p, len);
	h->names_len += sep + len;
}

/* 1 when header lines are folded into one (DIS_BRIEF). */
static int
brief(const struct out *o)
{
	return (o->d->flags & DIS_BRIEF) != 0;
}

/* The message whose start line was seen is over: its event, with the start of its body. */
static void
message_event(const struct out *o, struct dis_http *h)
{
	char text[DIS_BODY_PREVIEW + 4], quoted[DIS_BODY_PREVIEW + 8];

	if (h->what[0] == '\0')
		return;
	if (h->body_seen > 0) {
		dis_printable(text, sizeof(text), h->preview, h->preview_len,
			      h->body_seen > h->preview_len);
		snprintf(quoted, sizeof(quoted), "\"%s\"", text);
	}
	dis_event(o, DIS_EV_HTTP, h->body_seen, h->what, h->body_seen > 0 ? quoted : NULL);
	h->what[0] = '\0';
}

static void
message_end(const struct out *o, struct dis_side *s)
{
	struct dis_http *h = &s->u.http;

	dis_http_finish(o, h);
	message_event(o, h);
	dis_token_end(o, s);
	dis_http_start(h);
}

void
dis_http_end(const struct out *o, struct dis_side *s)
{
	dis_http_finish(o, &s->u.http);
	message_event(o, &s->u.http);
}

/* What the message's event calls it: "GET /" (without the version), "200 OK". */
static void
set_what(struct dis_http *h, const char *p, size_t n, int request, int cut)
{
	if (request && !cut)
		n -= sizeof(" HTTP/1.1") - 1; /* is_request_line saw " HTTP/d.d" at the end */
	else if (!request) {
		p += 9; /* after "HTTP/d.d " */
		n -= 9;
	}
	dis_printable(h->what, sizeof(h->what), (const uint8_t *)p, n, cut);
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

	if (brief(o) && dis_layers(o) && h->names_len > 0) {
		char text[DIS_HTTP_NAMES_MAX + 4];

		dis_printable(text, sizeof(text), (const uint8_t *)h->names, h->names_len, 0);
		dis_say(o, "  HTTP headers: %s", text);
	}

	/* RFC 9112 §6.3: these responses end with their headers, whatever they announce. */
	if (h->status != 0 && (head || interim || h->status == 204 || h->status == 304)) {
		h->body = DIS_BODY_NONE;
		if (head && dis_layers(o))
			dis_say(o, "  HTTP body: none (a response to HEAD)");
	} else if (h->body == DIS_BODY_NONE && h->status != 0) {
		h->body = DIS_BODY_CLOSE;
	}
	switch (h->body) {
	case DIS_BODY_NONE: message_end(o, s); break;
	case DIS_BODY_LENGTH:
		if (dis_layers(o))
			dis_say(o, "  HTTP body: %llu byte%s (Content-Length)",
				(unsigned long long)h->left, dis_plural(h->left));
		if (h->left == 0)
			message_end(o, s);
		else
			h->state = DIS_HTTP_BODY_LEN;
		break;
	case DIS_BODY_CHUNKED:
		if (dis_layers(o))
			dis_say(o, "  HTTP body: chunked");
		h->state = DIS_HTTP_CHUNK_SIZE;
		break;
	case DIS_BODY_CLOSE:
		if (dis_layers(o))
			dis_say(o, "  HTTP body: until the connection closes");
		h->state = DIS_HTTP_BODY_CLOSE;
		break;
	case DIS_BODY_BAD:
		dis_raw_start(o, s, "HTTP: cannot tell where the body ends (bad Content-Length)");
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
		dis_raw_start(o, s, "HTTP: bad chunk size line");
		return;
	}
	if (v == 0) {
		/* The body ended; what follows (trailers) is not part of a token in it. */
		dis_http_finish(o, h);
		dis_token_end(o, s);
		h->state = DIS_HTTP_TRAILERS;
		return;
	}
	h->left = v;
	h->state = DIS_HTTP_CHUNK_DATA;
}

/* A request or status line (text is p[0, n) as shown). Anything else ends the HTTP view. */
static void
start_line(const struct out *o, struct dis_side *s, const char *p, size_t n, int cut,
	   const char *text)
{
	struct dis_http *h = &s->u.http;

	if (n == 0 && !cut)
		return; /* RFC 9112 §2.2: empty lines before a request line are ignored */
	if ((h->status = status_of(p, n)) != 0) {
		if (dis_layers(o))
			dis_say(o, "  HTTP response: %s", text);
		set_what(h, p, n, 0, cut);
	} else if (is_request_line(p, n, cut)) {
		if (dis_layers(o))
			dis_say(o, "  HTTP request: %s", text);
		set_what(h, p, n, 1, cut);
		request_seen(o->d, p, n);
	} else {
		dis_raw_start(o, s, "not an HTTP request or status line");
		return;
	}
	h->state = DIS_HTTP_HEADERS;
}

/* A header line, or the empty line that ends the head. The framing fields are read. */
static void
header_line(const struct out *o, struct dis_side *s, const char *p, size_t n, int cut,
	    const char *text)
{
	struct dis_http *h = &s->u.http;

	if (n == 0) {
		headers_end(o, s);
		return;
	}
	if (dis_layers(o) && brief(o))
		name_add(h, p, n);
	else if (dis_layers(o))
		dis_say(o, "  HTTP header: %s", text);
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
}

/* One whole line (or its first DIS_HTTP_LINE_MAX bytes, cut), by the state it comes in. */
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
	dis_printable(text, sizeof(text), (const uint8_t *)p, n, cut);

	switch (h->state) {
	case DIS_HTTP_START: start_line(o, s, p, n, cut, text); return;
	case DIS_HTTP_HEADERS: header_line(o, s, p, n, cut, text); return;
	case DIS_HTTP_CHUNK_SIZE: chunk_size_line(o, s, p, n); return;
	case DIS_HTTP_CHUNK_CRLF:
		if (n != 0)
			dis_raw_start(o, s, "HTTP: chunk data longer than its size");
		else
			h->state = DIS_HTTP_CHUNK_SIZE;
		return;
	case DIS_HTTP_TRAILERS:
		if (n == 0)
			message_end(o, s);
		else if (dis_layers(o))
			dis_say(o, "  HTTP trailer: %s", text);
		return;
	default: return;
	}
}

void
dis_http_byte(const struct out *o, struct dis_side *s, uint8_t c)
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
		dis_token_byte(o, s, c);
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
