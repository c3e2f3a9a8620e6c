/*
 * The request parser (RFC 9112 §2-§6), strict where leniency lets two parsers disagree about
 * where a message ends: that disagreement is request smuggling.
 */
#include <string.h>

#include "http_scan.h"

void
http_request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	/* Refuse binary junk at its first 8-bit byte, not after a line's worth of it. */
	req->s.ascii = 1;
}

static int
reject(struct http_request *req, int status, const char *why)
{
	req->reject = (uint16_t)status;
	req->why = why;
	return HTTP_INVALID;
}

static enum http_method
method_of(const char *m, size_t n)
{
	/* Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET. */
	static const struct {
		const char *name;
		enum http_method m;
	} known[] = {
		{.name = "GET", .m = HTTP_GET},         {.name = "HEAD", .m = HTTP_HEAD},
		{.name = "POST", .m = HTTP_POST},       {.name = "PUT", .m = HTTP_PUT},
		{.name = "DELETE", .m = HTTP_DELETE},   {.name = "CONNECT", .m = HTTP_CONNECT},
		{.name = "OPTIONS", .m = HTTP_OPTIONS}, {.name = "TRACE", .m = HTTP_TRACE},
		{.name = "PATCH", .m = HTTP_PATCH},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == n && memcmp(known[i].name, m, n) == 0)
			return known[i].m;
	return HTTP_OTHER;
}

/* request-line = method SP request-target SP HTTP-version, single spaces only. */
static int
request_line(const char *buf, size_t ls, size_t le, struct http_request *req)
{
	size_t p = ls, q;
	const char *v;

	while (p < le && HTTP_IS(buf[p], HC_TCHAR))
		p++;
	if (p == ls || p == le || buf[p] != ' ')
		return reject(req, 400, "malformed request line");
	req->method_off = (uint32_t)ls;
	q = ++p;
	/* The target is visible ASCII; raw spaces, controls and 8-bit bytes are refused. */
	while (q < le && buf[q] > ' ' && buf[q] < 0x7f)
		q++;
	if (q == p || q == le || buf[q] != ' ')
		return reject(req, 400,
			      q == le ? "request line without HTTP version"
				      : "malformed request target");
	req->target_off = (uint32_t)p;
	req->target_end = (uint32_t)q;
	v = buf + q + 1;
	if (le - q - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || !HTTP_IS(v[5], HC_DIGIT) ||
	    v[6] != '.' || !HTTP_IS(v[7], HC_DIGIT))
		return reject(req, 400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return reject(req, 505, "unsupported HTTP version");
	req->version = v[7] == '1' ? 11 : 10;
	return 0;
}

static int
valid_host(const char *v, size_t n)
{
	/* uri-host [":" port]: reg-name, IPv4 or an IP-literal in brackets. */
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!(HTTP_IS(c, HC_TCHAR) || c == ':' || c == '[' || c == ']' || c == '(' ||
		      c == ')' || c == ',' || c == ';' || c == '=') ||
		    c == '"' || c == '\\' || c == '|' || c == '^' || c == '`')
			return 0;
	}
	return 1;
}

static int
request_field(struct http_request *req, const struct http_header *h)
{
	const char *n = h->name, *v = h->value;
	size_t nl = h->name_len, vl = h->value_len;

	if (http_name_is(n, nl, "content-length")) {
		uint64_t len;

		if (req->has_te)
			return reject(req, 400, "both Transfer-Encoding and Content-Length");
		if (http_parse_length(v, vl, &len) < 0)
			return reject(req, 400, "invalid Content-Length");
		if (req->has_cl && len != req->content_length)
			return reject(req, 400, "conflicting Content-Length values");
		req->has_cl = 1;
		req->content_length = len;
	} else if (http_name_is(n, nl, "transfer-encoding")) {
		const char *el;
		size_t pos = 0, len, chunked = 0, others = 0, last_chunked = 0;

		/* RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing;
		 * with Content-Length too it is ambiguous. Either is a smuggling attempt. */
		if (req->has_cl)
			return reject(req, 400, "both Transfer-Encoding and Content-Length");
		if (req->has_te)
			return reject(req, 400, "repeated Transfer-Encoding");
		if (req->version == 10)
			return reject(req, 400, "Transfer-Encoding in an HTTP/1.0 request");
		req->has_te = 1;
		while (http_list_next(v, vl, &pos, &el, &len)) {
			last_chunked = http_name_is(el, len, "chunked");
			chunked += last_chunked;
			others += !last_chunked;
		}
		/* Chunked exactly once and last is the only framing a server can trust (§6.1);
		 * chunked after a coding we lack is 501, anything else is unframed: 400. */
		if (chunked == 1 && last_chunked && others == 0)
			return 0;
		if (chunked == 1 && last_chunked)
			return reject(req, 501, "unsupported transfer coding");
		return reject(req, 400,
			      chunked > 1 ? "chunked applied more than once"
					  : "chunked is not the final transfer coding");
	} else if (http_name_is(n, nl, "host")) {
		/* RFC 9112 §3.2: more than one Host, or an invalid one, is a 400. */
		if (req->has_host)
			return reject(req, 400, "more than one Host");
		/* An http(s) URI has a host, and one without is invalid (RFC 9110 §4.2.1,
		 * §4.2.2); nginx refuses an empty Host too. */
		if (vl == 0)
			return reject(req, 400, "empty Host");
		if (!valid_host(v, vl))
			return reject(req, 400, "invalid Host");
		req->has_host = 1;
	} else if (http_name_is(n, nl, "expect")) {
		/* RFC 9110 §10.1.1: the value is case-insensitive; HTTP/1.0 ignores it. */
		if (req->version == 11 && http_list_has(v, vl, "100-continue"))
			req->expect_continue = 1;
	} else if (http_name_is(n, nl, "connection")) {
		if (http_list_has(v, vl, "close"))
			req->conn_close = 1;
		if (http_list_has(v, vl, "keep-alive"))
			req->conn_keep = 1;
	}
	return 0;
}

/* Method and target views, once the request line has been split. */
static void
request_views(const char *buf, struct http_request *req)
{
	req->method = buf + req->method_off;
	req->method_len = req->target_off - 1 - req->method_off;
	req->meth = method_of(req->method, req->method_len);
	req->target = buf + req->target_off;
	req->target_len = req->target_end - req->target_off;
}

static int
finish(const char *buf, struct http_request *req)
{
	if (req->version == 11 && !req->has_host)
		return reject(req, 400, "HTTP/1.1 request without Host");
	request_views(buf, req);
	req->head = buf + req->s.start;
	req->head_len = req->s.pos - req->s.start;
	req->framing = req->has_te                              ? HTTP_BODY_CHUNKED
		       : req->has_cl && req->content_length > 0 ? HTTP_BODY_LENGTH
								: HTTP_BODY_NONE;
	/* RFC 9112 §9.3: 1.1 persists unless closed; 1.0 only when it asks to. */
	req->keep_alive = !req->conn_close && (req->version == 11 || req->conn_keep);
	return (int)req->s.pos;
}

static int
visit_fail(void *m, int status, const char *why)
{
	return reject(m, status, why);
}

static int
visit_start(void *m, const char *buf, size_t ls, size_t le)
{
	return request_line(buf, ls, le, m);
}

static int
visit_field(void *m, const struct http_header *h)
{
	return request_field(m, h);
}

static const struct http_head_visitor request_visitor = {
	visit_start,
	visit_field,
	visit_fail,
	"request line too long",
};

int
http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	int r = http_scan_head(buf, len, &req->s, &request_visitor, req);

	if (r == 1)
		r = finish(buf, req);
	/* A request refused after its line was split is still named: the log says which, and
	 * a HEAD is answered without a body (RFC 9110 §9.3.2). */
	if (r == HTTP_INVALID && req->target_end != 0)
		request_views(buf, req);
	return r;
}
