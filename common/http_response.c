/*
 * The response parser, for the client (RFC 9112 §4, §6.3). Any server may answer the client,
 * so it is as careful with a response as the server is with a request.
 */
#include <string.h>

#include "http_scan.h"

void
http_response_init(struct http_response *res)
{
	memset(res, 0, sizeof(*res));
}

static int
fail(struct http_response *res, const char *why)
{
	res->why = why;
	return HTTP_INVALID;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] */
static int
status_line(const char *buf, size_t ls, size_t le, struct http_response *res)
{
	const char *p = buf + ls;
	size_t n = le - ls;

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !HTTP_IS(p[7], HC_DIGIT) || p[8] != ' ')
		return fail(res, n >= 5 && memcmp(p, "HTTP/", 5) == 0 ? "unsupported HTTP version"
								      : "not an HTTP response");
	if (p[7] != '0' && p[7] != '1')
		return fail(res, "unsupported HTTP version");
	if (!HTTP_IS(p[9], HC_DIGIT) || !HTTP_IS(p[10], HC_DIGIT) || !HTTP_IS(p[11], HC_DIGIT) ||
	    p[9] < '1' || p[9] > '5')
		return fail(res, "malformed status code");
	/* Be liberal in the one place that carries no meaning: the reason may be missing. */
	if (n > 12 && p[12] != ' ')
		return fail(res, "malformed status line");
	res->version = p[7] == '1' ? 11 : 10;
	res->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	res->reason_off = (uint32_t)(n > 13 ? ls + 13 : ls + n);
	res->reason_len = n > 13 ? n - 13 : 0;
	return 0;
}

static int
response_field(struct http_response *res, const struct http_header *h)
{
	const char *v = h->value;
	size_t vl = h->value_len;

	if (http_name_is(h->name, h->name_len, "content-length")) {
		uint64_t len;

		if (http_parse_length(v, vl, &len) < 0)
			return fail(res, "invalid Content-Length");
		if (res->has_cl && len != res->content_length)
			return fail(res, "conflicting Content-Length values");
		res->has_cl = 1;
		res->content_length = len;
	} else if (http_name_is(h->name, h->name_len, "transfer-encoding")) {
		const char *el;
		size_t pos = 0, len;

		/* Field lines are one list (RFC 9110 §5.3): "chunked" on two lines is chunked
		 * twice, which a sender MUST NOT do (RFC 9112 §6.1). Decoded once, the inner
		 * chunk framing would be taken for the body. */
		res->has_te = 1;
		/* RFC 9112 §6.1: HTTP/1.0 has no transfer codings, so a client MUST treat the
		 * framing of a 1.0 message with Transfer-Encoding as faulty, even with a
		 * Content-Length: some hop in between did not understand it. */
		if (res->version == 10)
			return fail(res, "Transfer-Encoding in an HTTP/1.0 response");
		while (http_list_next(v, vl, &pos, &el, &len)) {
			res->te_chunked_last = http_name_is(el, len, "chunked");
			if (res->te_chunked_last && res->te_chunked)
				return fail(res, "chunked applied more than once");
			res->te_chunked |= res->te_chunked_last;
			/* Framed all the same (§6.3); whether to undo it is the caller's call. */
			res->te_other |= !res->te_chunked_last;
		}
	} else if (http_name_is(h->name, h->name_len, "connection")) {
		if (http_list_has(v, vl, "close"))
			res->conn_close = 1;
	}
	return 0;
}

static int
finish(const char *buf, int head_request, struct http_response *res)
{
	int st = res->status;

	if (res->has_cl && res->has_te)
		return fail(res, "both Transfer-Encoding and Content-Length");
	res->reason = buf + res->reason_off;
	res->head = buf + res->s.start;
	res->head_len = res->s.pos - res->s.start;
	if (head_request || st / 100 == 1 || st == 204 || st == 304)
		res->framing = HTTP_BODY_NONE;
	/* Chunked last: chunked. Otherwise the body runs to the close (§6.3 item 4). */
	else if (res->has_te)
		res->framing = res->te_chunked_last ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
	else if (res->has_cl)
		res->framing = HTTP_BODY_LENGTH;
	else
		res->framing = HTTP_BODY_CLOSE;
	res->keep_alive = res->version == 11 && !res->conn_close && res->framing != HTTP_BODY_CLOSE;
	return (int)res->s.pos;
}

static int
visit_fail(void *m, int status, const char *why)
{
	(void)status;
	return fail(m, why);
}

static int
visit_start(void *m, const char *buf, size_t ls, size_t le)
{
	return status_line(buf, ls, le, m);
}

static int
visit_field(void *m, const struct http_header *h)
{
	return response_field(m, h);
}

static const struct http_head_visitor response_visitor = {
	visit_start,
	visit_field,
	visit_fail,
	"status line too long",
};

int
http_parse_response(const char *buf, size_t len, int head_request, struct http_response *res)
{
	int r = http_scan_head(buf, len, &res->s, &response_visitor, res);

	return r == 1 ? finish(buf, head_request, res) : r;
}
