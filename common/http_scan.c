#include <string.h>

#include "http_scan.h"

#define C HC_CTL
#define T (HC_TCHAR | HC_VCHAR)
#define V HC_VCHAR
#define D (HC_DIGIT | HC_TCHAR | HC_VCHAR)
/* obs-text (0x80-0xff) is allowed in field values, so it counts as VCHAR here; request
 * targets check for it separately. */
const uint8_t http_ctype[256] = {
	C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, /* 0x00 */
	C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, /* 0x10 */
	0, T, V, T, T, T, T, T, V, V, T, T, V, T, T, V, /*  !"#$%&'()*+,-./ */
	D, D, D, D, D, D, D, D, D, D, V, V, V, V, V, V, /* 0-9:;<=>? */
	V, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, /* @A-O */
	T, T, T, T, T, T, T, T, T, T, T, V, V, V, T, T, /* P-Z[\]^_ */
	T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, /* `a-o */
	T, T, T, T, T, T, T, T, T, T, T, V, T, V, T, C, /* p-z{|}~ DEL */
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
};
#undef C
#undef T
#undef V
#undef D

int
http_scan_line(const char *buf, size_t len, struct http_scan *s, size_t *ls, size_t *le,
	       const char **why)
{
	size_t i;

	for (i = s->pos; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			/* RFC 9112 §2.2: a bare LF may be taken as a line end; a bare CR may not. */
			*ls = s->line;
			*le = i - s->cr;
			s->cr = 0;
			s->pos = (uint32_t)(i + 1);
			s->line = s->pos;
			return 1;
		}
		if (s->cr) {
			*why = "bare CR";
			return -1;
		}
		if (c == '\r') {
			s->cr = 1;
		} else if (c >= 0x80 && s->ascii && !s->in_head) {
			*why = "8-bit byte in request line";
			return -1;
		} else if ((http_ctype[c] & HC_CTL) && c != '\t') {
			/* NUL and other controls have no place in a head; refusing them here also
			 * rejects a TLS ClientHello sent to a plain port at its first byte. */
			*why = c == 0 ? "NUL byte in head" : "control byte in head";
			return -1;
		}
	}
	s->pos = (uint32_t)len;
	return 0;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int
http_split_field(const char *line, size_t n, struct http_header *h, const char **why)
{
	const char *colon;
	size_t i;

	if (is_ows(line[0])) {
		/* RFC 9112 §5.2: obs-fold; a server rejects it rather than guess. */
		*why = "obsolete line folding";
		return -1;
	}
	colon = memchr(line, ':', n);
	if (colon == NULL) {
		*why = "header line without a colon";
		return -1;
	}
	if (colon == line) {
		*why = "empty header name";
		return -1;
	}
	for (i = 0; line + i < colon; i++) {
		if (!HTTP_IS(line[i], HC_TCHAR)) {
			/* RFC 9112 §5.1: no whitespace between name and colon; a proxy that trims
			 * it and one that does not would see different headers. */
			*why = is_ows(line[i]) ? "whitespace before colon"
					       : "invalid byte in header name";
			return -1;
		}
	}
	h->name = line;
	h->name_len = (size_t)(colon - line);
	h->value = colon + 1;
	h->value_len = n - h->name_len - 1;
	while (h->value_len > 0 && is_ows(h->value[0])) {
		h->value++;
		h->value_len--;
	}
	while (h->value_len > 0 && is_ows(h->value[h->value_len - 1]))
		h->value_len--;
	return 0;
}

int
http_parse_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	/* 18 digits stay below 2^63: no overflow check needed, and no body is that large. */
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

int
http_name_is(const char *p, size_t n, const char *lower)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + ('a' - 'A'));
		if (lower[i] == '\0' || c != lower[i])
			return 0;
	}
	return lower[i] == '\0';
}

int
http_list_next(const char *v, size_t n, size_t *pos, const char **el, size_t *el_len)
{
	while (*pos < n) {
		size_t i = *pos, end = i;

		while (end < n && v[end] != ',')
			end++;
		*pos = end + 1;
		while (i < end && is_ows(v[i]))
			i++;
		while (end > i && is_ows(v[end - 1]))
			end--;
		if (end > i) {
			*el = v + i;
			*el_len = end - i;
			return 1;
		}
	}
	return 0;
}

int
http_list_has(const char *v, size_t n, const char *token)
{
	size_t pos = 0, len;
	const char *el;

	while (http_list_next(v, n, &pos, &el, &len))
		if (http_name_is(el, len, token))
			return 1;
	return 0;
}

int
http_header_next(const char *head, size_t head_len, size_t *pos, struct http_header *h)
{
	size_t i = *pos;

	if (i == 0) {
		/* Skip the start line. */
		const char *nl = memchr(head, '\n', head_len);

		if (nl == NULL)
			return 0;
		i = (size_t)(nl - head) + 1;
	}
	while (i < head_len) {
		const char *nl = memchr(head + i, '\n', head_len - i);
		size_t end = nl ? (size_t)(nl - head) : head_len;
		size_t n = end - i;
		const char *why;

		if (n > 0 && head[end - 1] == '\r')
			n--;
		*pos = end + 1;
		if (n == 0)
			return 0;
		if (http_split_field(head + i, n, h, &why) == 0)
			return 1;
		i = end + 1;
	}
	*pos = head_len;
	return 0;
}

int
http_scan_head(const char *buf, size_t len, struct http_scan *s, const struct http_head_visitor *v,
	       void *m)
{
	struct http_header h;
	size_t ls, le;
	const char *why = NULL;
	int r;

	while ((r = http_scan_line(buf, len, s, &ls, &le, &why)) == 1) {
		if (!s->in_head) {
			if (le == ls) {
				/* RFC 9112 §2.2: ignore empty lines before the start line. */
				if (s->pos > HTTP_MAX_LINE)
					return v->fail(m, 400, "too many empty lines");
				s->start = s->pos;
				continue;
			}
			if (le - ls > HTTP_MAX_LINE)
				return v->fail(m, 414, v->line_too_long);
			if (v->start(m, buf, ls, le) < 0)
				return HTTP_INVALID;
			s->in_head = 1;
			continue;
		}
		/* From the buffer's start: skipped empty lines count too, so a message never
		 * outgrows a buffer of HTTP_MAX_HEAD plus room to spare. */
		if (s->pos > HTTP_MAX_HEAD)
			return v->fail(m, 431, "header section too large");
		if (le == ls)
			return 1;
		if (++s->nfields > HTTP_MAX_FIELDS)
			return v->fail(m, 431, "too many header fields");
		if (http_split_field(buf + ls, le - ls, &h, &why) < 0)
			return v->fail(m, 400, why);
		if (v->field(m, &h) < 0)
			return HTTP_INVALID;
	}
	if (r < 0)
		return v->fail(m, 400, why);
	/* Incomplete: refuse as soon as a limit is passed, not when the head finally ends. */
	/* A CR already received belongs to the line end, not to the line. */
	if (!s->in_head && len - s->line - s->cr > HTTP_MAX_LINE)
		return v->fail(m, 414, v->line_too_long);
	if (len > HTTP_MAX_HEAD)
		return v->fail(m, 431, "header section too large");
	return HTTP_PARTIAL;
}
