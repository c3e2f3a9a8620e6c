/*
 * The request parser: every rule of common/http_request.c, each case fed whole, one byte at
 * a time (with the buffer moving between calls, which the contract allows), and split in two
 * at every position; input always ends at a guard page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "http.h"

#define OK 0   /* expect a complete request */
#define PART 1 /* expect HTTP_PARTIAL at the end of the input */

struct rcase {
	const char *name;
	const char *in;
	int status; /* OK, PART, or the reject status */
	const char *method;
	const char *target;
	int version;
	enum http_framing framing;
	uint64_t length;
	int keep_alive;
	size_t consumed; /* head length when the input holds more; 0 = all of it */
	size_t len;      /* input length when it holds a NUL; 0 = strlen */
};

#define H11 "Host: example.com\r\n"

static const struct rcase cases[] = {
	{.name = "simple",
	 .in = "GET / HTTP/1.1\r\n" H11 "\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "head",
	 .in = "HEAD /x?y=1 HTTP/1.1\r\n" H11 "\r\n",
	 .status = OK,
	 .method = "HEAD",
	 .target = "/x?y=1",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "http/1.0 without host",
	 .in = "GET / HTTP/1.0\r\n\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 10},
	{.name = "http/1.0 keep-alive",
	 .in = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 10,
	 .keep_alive = 1},
	{.name = "connection close",
	 .in = "GET / HTTP/1.1\r\n" H11 "Connection: foo, close\r\n\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 11},
	{.name = "bare LF line ends",
	 .in = "GET / HTTP/1.1\n" H11 "\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "leading empty lines",
	 .in = "\r\n\r\nGET / HTTP/1.1\r\n" H11 "\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "absolute form",
	 .in = "GET http://example.com/ HTTP/1.1\r\n" H11 "\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "http://example.com/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "unknown method",
	 .in = "BREW /pot HTTP/1.1\r\n" H11 "\r\n",
	 .status = OK,
	 .method = "BREW",
	 .target = "/pot",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "content-length",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\n\r\nhello",
	 .status = OK,
	 .method = "POST",
	 .target = "/",
	 .version = 11,
	 .framing = HTTP_BODY_LENGTH,
	 .length = 5,
	 .keep_alive = 1,
	 .consumed = sizeof("POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\n\r\n") - 1},
	{.name = "content-length zero",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 0\r\n\r\n",
	 .status = OK,
	 .method = "POST",
	 .target = "/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "content-length repeated equal",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 3\r\ncontent-length: 003\r\n\r\n",
	 .status = OK,
	 .method = "POST",
	 .target = "/",
	 .version = 11,
	 .framing = HTTP_BODY_LENGTH,
	 .length = 3,
	 .keep_alive = 1},
	{.name = "chunked",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: Chunked\r\n\r\n",
	 .status = OK,
	 .method = "POST",
	 .target = "/",
	 .version = 11,
	 .framing = HTTP_BODY_CHUNKED,
	 .keep_alive = 1},
	{.name = "tab and obs-text in value",
	 .in = "GET / HTTP/1.1\r\n" H11 "X-A:\tb\xe9\xff c \t\r\n\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "host with port and ipv6",
	 .in = "GET / HTTP/1.1\r\nHost: [::1]:5683\r\n\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/",
	 .version = 11,
	 .keep_alive = 1},
	{.name = "pipelined",
	 .in = "GET /a HTTP/1.1\r\n" H11 "\r\nGET /b HTTP/1.1\r\n" H11 "\r\n",
	 .status = OK,
	 .method = "GET",
	 .target = "/a",
	 .version = 11,
	 .keep_alive = 1,
	 .consumed = sizeof("GET /a HTTP/1.1\r\n" H11 "\r\n") - 1},

	{.name = "incomplete request line", .in = "GET / HTTP/1.1", .status = PART},
	{.name = "incomplete head", .in = "GET / HTTP/1.1\r\n" H11, .status = PART},
	{.name = "incomplete after CR", .in = "GET / HTTP/1.1\r\n" H11 "\r", .status = PART},

	{.name = "no host in 1.1", .in = "GET / HTTP/1.1\r\n\r\n", .status = 400},
	{.name = "two hosts", .in = "GET / HTTP/1.1\r\n" H11 H11 "\r\n", .status = 400},
	{.name = "invalid host", .in = "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .status = 400},
	/* RFC 9110 §4.2.1: an http URI has a host; nginx refuses an empty Host too. */
	{.name = "empty host", .in = "GET / HTTP/1.1\r\nHost:\r\n\r\n", .status = 400},
	{.name = "empty host, spaces", .in = "GET / HTTP/1.1\r\nHost:  \t \r\n\r\n", .status = 400},
	{.name = "empty host in 1.0", .in = "GET / HTTP/1.0\r\nHost:\r\n\r\n", .status = 400},
	{.name = "CL then TE",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 400},
	{.name = "TE then CL",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	 .status = 400},
	{.name = "CL differing",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
	 .status = 400},
	{.name = "CL list",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 5, 5\r\n\r\n",
	 .status = 400},
	{.name = "CL plus sign",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: +5\r\n\r\n",
	 .status = 400},
	{.name = "CL negative",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: -1\r\n\r\n",
	 .status = 400},
	{.name = "CL hex",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 0x5\r\n\r\n",
	 .status = 400},
	{.name = "CL empty",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length:\r\n\r\n",
	 .status = 400},
	{.name = "CL inner space",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 1 0\r\n\r\n",
	 .status = 400},
	{.name = "CL huge",
	 .in = "POST / HTTP/1.1\r\n" H11 "Content-Length: 99999999999999999999\r\n\r\n",
	 .status = 400},
	{.name = "TE chunked not last",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n",
	 .status = 400},
	{.name = "TE gzip then chunked",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n",
	 .status = 501},
	{.name = "TE with empty elements",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: , chunked,, ,\r\n\r\n",
	 .status = OK,
	 .method = "POST",
	 .target = "/",
	 .version = 11,
	 .framing = HTTP_BODY_CHUNKED,
	 .keep_alive = 1},
	{.name = "TE chunked twice",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n",
	 .status = 400},
	{.name = "TE empty",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: \r\n\r\n",
	 .status = 400},
	{.name = "TE repeated",
	 .in = "POST / HTTP/1.1\r\n" H11
	       "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 400},
	{.name = "TE in 1.0",
	 .in = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 400},
	{.name = "TE with vertical tab",
	 .in = "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding:\x0b"
	       "chunked\r\n\r\n",
	 .status = 400},
	{.name = "obs-fold", .in = "GET / HTTP/1.1\r\n" H11 "X-A: b\r\n c\r\n\r\n", .status = 400},
	{.name = "obs-fold with tab",
	 .in = "GET / HTTP/1.1\r\n" H11 "X-A: b\r\n\tc\r\n\r\n",
	 .status = 400},
	{.name = "bare CR in value",
	 .in = "GET / HTTP/1.1\r\n" H11 "X-A: b\rc\r\n\r\n",
	 .status = 400},
	{.name = "bare CR in request line", .in = "GET /\r HTTP/1.1\r\n" H11 "\r\n", .status = 400},
	{.name = "NUL in value",
	 .in = "GET / HTTP/1.1\r\n" H11 "X-A: b\0c\r\n\r\n",
	 .status = 400,
	 .len = sizeof("GET / HTTP/1.1\r\n" H11 "X-A: b\0c\r\n\r\n") - 1},
	{.name = "control byte in value",
	 .in = "GET / HTTP/1.1\r\n" H11 "X-A: \x01\r\n\r\n",
	 .status = 400},
	{.name = "DEL in value", .in = "GET / HTTP/1.1\r\n" H11 "X-A: \x7f\r\n\r\n", .status = 400},
	{.name = "space before colon",
	 .in = "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n",
	 .status = 400},
	{.name = "tab before colon",
	 .in = "GET / HTTP/1.1\r\n" H11 "X-A\t: b\r\n\r\n",
	 .status = 400},
	{.name = "empty name", .in = "GET / HTTP/1.1\r\n" H11 ": b\r\n\r\n", .status = 400},
	{.name = "no colon", .in = "GET / HTTP/1.1\r\n" H11 "X-A b\r\n\r\n", .status = 400},
	{.name = "bad name byte", .in = "GET / HTTP/1.1\r\n" H11 "X(A): b\r\n\r\n", .status = 400},
	{.name = "http/2.0", .in = "GET / HTTP/2.0\r\n" H11 "\r\n", .status = 505},
	{.name = "http/1.2", .in = "GET / HTTP/1.2\r\n" H11 "\r\n", .status = 505},
	{.name = "http/0.9 version", .in = "GET / HTTP/0.9\r\n\r\n", .status = 505},
	{.name = "http/0.9 no version", .in = "GET /\r\n\r\n", .status = 400},
	{.name = "lowercase version", .in = "GET / http/1.1\r\n" H11 "\r\n", .status = 400},
	{.name = "short version", .in = "GET / HTTP/1\r\n" H11 "\r\n", .status = 400},
	{.name = "double space", .in = "GET  / HTTP/1.1\r\n" H11 "\r\n", .status = 400},
	{.name = "tab separator", .in = "GET\t/ HTTP/1.1\r\n" H11 "\r\n", .status = 400},
	{.name = "trailing space", .in = "GET / HTTP/1.1 \r\n" H11 "\r\n", .status = 400},
	{.name = "8-bit target", .in = "GET /\xc3\xa9 HTTP/1.1\r\n" H11 "\r\n", .status = 400},
	{.name = "empty method", .in = " / HTTP/1.1\r\n" H11 "\r\n", .status = 400},
	/* Rejected after the request line: method and target are still filled in, so the log
	 * names the request and a HEAD gets no body. */
	{.name = "no host, named",
	 .in = "HEAD /x HTTP/1.1\r\n\r\n",
	 .status = 400,
	 .method = "HEAD",
	 .target = "/x"},
	{.name = "CL and TE, named",
	 .in = "POST /y HTTP/1.1\r\n" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 400,
	 .method = "POST",
	 .target = "/y"},
	{.name = "http/2.0, named",
	 .in = "HEAD / HTTP/2.0\r\n" H11 "\r\n",
	 .status = 505,
	 .method = "HEAD",
	 .target = "/"},
	{.name = "tls client hello",
	 .in = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	 .status = 400},
	{.name = "binary garbage", .in = "\xff\xfe\xfd", .status = 400},
};

static void
check_complete(const struct rcase *c, const struct http_request *req, int r, const char *buf)
{
	size_t want = c->consumed ? c->consumed : strlen(c->in);

	if (r < 0)
		fail_msg("%s: got %d (reject %d: %s)", c->name, r, req->reject,
			 req->why ? req->why : "");
	assert_int_equal((size_t)r, want);
	assert_int_equal(req->method_len, strlen(c->method));
	assert_memory_equal(req->method, c->method, req->method_len);
	assert_int_equal(req->target_len, strlen(c->target));
	assert_memory_equal(req->target, c->target, req->target_len);
	assert_int_equal(req->version, c->version);
	assert_int_equal(req->framing, c->framing);
	if (c->framing == HTTP_BODY_LENGTH)
		assert_int_equal(req->content_length, c->length);
	assert_int_equal(req->keep_alive, c->keep_alive);
	assert_true(req->head >= buf && req->head + req->head_len <= buf + r);
}

static size_t case_len(const struct rcase *c);

static void
check(const struct rcase *c, const struct http_request *req, int r, const char *buf)
{
	if (c->status == OK) {
		check_complete(c, req, r, buf);
	} else if (c->status == PART) {
		if (r != HTTP_PARTIAL)
			fail_msg("%s: expected partial, got %d", c->name, r);
	} else {
		if (r != HTTP_INVALID)
			fail_msg("%s: expected %d, got %d", c->name, c->status, r);
		if (req->reject != c->status)
			fail_msg("%s: expected %d, got %d (%s)", c->name, c->status, req->reject,
				 req->why);
		assert_non_null(req->why);
		if (c->method != NULL) {
			assert_non_null(req->method);
			assert_int_equal(req->method_len, strlen(c->method));
			assert_memory_equal(req->method, c->method, req->method_len);
			assert_int_equal(req->target_len, strlen(c->target));
			assert_memory_equal(req->target, c->target, req->target_len);
			assert_true(req->method >= buf &&
				    req->target + req->target_len <= buf + case_len(c));
			assert_int_equal(req->meth == HTTP_HEAD, strcmp(c->method, "HEAD") == 0);
		}
	}
}

static size_t
case_len(const struct rcase *c)
{
	return c->len ? c->len : strlen(c->in);
}

static void
test_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		size_t n = case_len(c);
		char *g = guard_dup(c->in, n);
		struct http_request req;

		http_request_init(&req);
		check(c, &req, http_parse_request(g, n, &req), g);
		guard_free(g, n);
	}
}

/* One byte more per call, each time in a fresh copy: the buffer moves, the bytes do not. */
static void
test_byte_by_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		size_t n = case_len(c), k;
		struct http_request req;
		int r = HTTP_PARTIAL;
		char *g = NULL;

		http_request_init(&req);
		for (k = 1; k <= n; k++) {
			if (g)
				guard_free(g, k - 1);
			g = guard_dup(c->in, k);
			r = http_parse_request(g, k, &req);
			if (r != HTTP_PARTIAL)
				break;
		}
		if (k > n)
			k = n;
		check(c, &req, r, g);
		guard_free(g, k);
	}
}

/* Two calls, split at every position. */
static void
test_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		size_t n = case_len(c);
		char *g = guard_dup(c->in, n);

		for (size_t cut = 0; cut <= n; cut++) {
			struct http_request req;
			int r;

			http_request_init(&req);
			r = http_parse_request(g, cut, &req);
			if (r == HTTP_PARTIAL)
				r = http_parse_request(g, n, &req);
			check(c, &req, r, g);
		}
		guard_free(g, n);
	}
}

static void
test_pipelined_sequence(void **state)
{
	const char *in = "GET /a HTTP/1.1\r\n" H11 "\r\n"
			 "HEAD /b HTTP/1.1\r\n" H11 "Connection: close\r\n\r\n"
			 "GET /c HTTP/1.0\r\n\r\n";
	const char *targets[] = {"/a", "/b", "/c"};
	size_t n = strlen(in), off = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct http_request req;
		int r;

		http_request_init(&req);
		r = http_parse_request(in + off, n - off, &req);
		assert_true(r > 0);
		assert_int_equal(req.target_len, 2);
		assert_memory_equal(req.target, targets[i], 2);
		assert_int_equal(req.keep_alive, i == 0);
		off += (size_t)r;
	}
	assert_int_equal(off, n);
}

static void
test_headers_iterate(void **state)
{
	const char *in = "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-A:  v 1 \r\n\r\n";
	struct http_request req;
	struct http_header h;
	size_t pos = 0;

	(void)state;
	http_request_init(&req);
	assert_true(http_parse_request(in, strlen(in), &req) > 0);
	assert_true(http_header_next(req.head, req.head_len, &pos, &h));
	assert_true(http_name_is(h.name, h.name_len, "host"));
	assert_int_equal(h.value_len, 1);
	assert_true(http_header_next(req.head, req.head_len, &pos, &h));
	assert_int_equal(h.value_len, 0);
	assert_true(http_header_next(req.head, req.head_len, &pos, &h));
	assert_int_equal(h.value_len, 3);
	assert_memory_equal(h.value, "v 1", 3);
	assert_false(http_header_next(req.head, req.head_len, &pos, &h));
}

/* Build a request whose request line, head, or field count is exactly at a limit (+ extra). */
static char *
build(size_t line_len, size_t fields, size_t head_len, size_t *n)
{
	size_t cap = HTTP_MAX_HEAD * 2 + HTTP_MAX_LINE * 2, len = 0;
	char *b = malloc(cap);
	size_t target = line_len - strlen("GET  HTTP/1.1");

	assert_non_null(b);
	len += (size_t)sprintf(b, "GET /");
	memset(b + len, 'a', target - 1);
	len += target - 1;
	len += (size_t)sprintf(b + len, " HTTP/1.1\r\nHost: h\r\n");
	for (size_t i = 1; i < fields; i++)
		len += (size_t)sprintf(b + len, "X-%03zu: v\r\n", i);
	if (head_len) {
		/* Pad one field so the whole head, final CRLF included, is head_len bytes. */
		size_t pad = head_len - len - strlen("X-Pad: \r\n\r\n");

		len += (size_t)sprintf(b + len, "X-Pad: ");
		memset(b + len, 'p', pad);
		len += pad;
		len += (size_t)sprintf(b + len, "\r\n");
	}
	len += (size_t)sprintf(b + len, "\r\n");
	*n = len;
	return b;
}

static int
parse_all_ways(const char *in, size_t n, int *status)
{
	char *g = guard_dup(in, n);
	struct http_request req;
	int whole, r = HTTP_PARTIAL;

	http_request_init(&req);
	whole = http_parse_request(g, n, &req);
	*status = req.reject;
	/* Byte by byte in one buffer: same verdict, same status. */
	http_request_init(&req);
	for (size_t k = 1; k <= n && r == HTTP_PARTIAL; k++)
		r = http_parse_request(g, k, &req);
	assert_int_equal(r, whole);
	assert_int_equal(req.reject, *status);
	guard_free(g, n);
	return whole;
}

static void
test_limits_at_the_edge(void **state)
{
	size_t n;
	int status;
	char *b;

	(void)state;
	b = build(HTTP_MAX_LINE, 1, 0, &n);
	assert_true(parse_all_ways(b, n, &status) > 0);
	free(b);
	b = build(HTTP_MAX_LINE + 1, 1, 0, &n);
	assert_int_equal(parse_all_ways(b, n, &status), HTTP_INVALID);
	assert_int_equal(status, 414);
	free(b);

	b = build(100, HTTP_MAX_FIELDS, 0, &n);
	assert_true(parse_all_ways(b, n, &status) > 0);
	free(b);
	b = build(100, HTTP_MAX_FIELDS + 1, 0, &n);
	assert_int_equal(parse_all_ways(b, n, &status), HTTP_INVALID);
	assert_int_equal(status, 431);
	free(b);

	b = build(100, 1, HTTP_MAX_HEAD, &n);
	assert_int_equal(n, HTTP_MAX_HEAD);
	assert_int_equal(parse_all_ways(b, n, &status), (int)n);
	free(b);
	b = build(100, 1, HTTP_MAX_HEAD + 1, &n);
	assert_int_equal(parse_all_ways(b, n, &status), HTTP_INVALID);
	assert_int_equal(status, 431);
	free(b);
}

/* Empty lines before the request line count toward the head limit: 8 KiB of them and a
 * 12 KiB head would otherwise overflow a buffer sized for one head. */
static void
test_leading_empty_lines_count(void **state)
{
	size_t n;
	char *b = build(100, 1, 12288, &n);
	char *in = malloc(8000 + n);
	int status;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < 4000; i++)
		memcpy(in + 2 * i, "\r\n", 2);
	memcpy(in + 8000, b, n);
	assert_int_equal(parse_all_ways(in, 8000 + n, &status), HTTP_INVALID);
	assert_int_equal(status, 431);
	free(b);
	free(in);
}

/* A head that never ends is refused once it passes the limit, not when the peer stops. */
static void
test_endless_head_refused_early(void **state)
{
	size_t n = HTTP_MAX_HEAD + 64;
	char *b = malloc(n);
	struct http_request req;
	int r = HTTP_PARTIAL;
	size_t k;

	(void)state;
	assert_non_null(b);
	memcpy(b, "GET / HTTP/1.1\r\nX-Long: ", 24);
	memset(b + 24, 'x', n - 24);
	http_request_init(&req);
	for (k = 1; k <= n && r == HTTP_PARTIAL; k++)
		r = http_parse_request(b, k, &req);
	assert_int_equal(r, HTTP_INVALID);
	assert_int_equal(req.reject, 431);
	assert_int_equal(k - 1, HTTP_MAX_HEAD + 1);
	free(b);
}

/* Expect: 100-continue, case-insensitive, in HTTP/1.1 only (RFC 9110 §10.1.1). */
static void
test_expect_continue(void **state)
{
	static const struct {
		const char *in;
		int want;
	} expects[] = {
		{.in = "POST / HTTP/1.1\r\n" H11 "Expect: 100-continue\r\n\r\n", .want = 1},
		{.in = "POST / HTTP/1.1\r\n" H11 "expect: 100-Continue \r\n\r\n", .want = 1},
		{.in = "POST / HTTP/1.1\r\n" H11 "\r\n", .want = 0},
		{.in = "POST / HTTP/1.1\r\n" H11 "Expect: 200-ok\r\n\r\n", .want = 0},
		{.in = "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", .want = 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		size_t n = strlen(expects[i].in);
		char *g = guard_dup(expects[i].in, n);
		struct http_request req;

		http_request_init(&req);
		assert_int_equal(http_parse_request(g, n, &req), (int)n);
		if (req.expect_continue != expects[i].want)
			fail_msg("%s: expect_continue %d", expects[i].in, req.expect_continue);
		guard_free(g, n);
	}
}

static void
test_format(void **state)
{
	char date[30], buf[512];
	int n;

	(void)state;
	/* RFC 9110 §5.6.7's example. */
	http_format_date(date, 784111777);
	assert_string_equal(date, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(strlen(date), HTTP_DATE_LEN);
	n = http_format_head(buf, sizeof(buf), 405, date, "text/plain", 19, "close",
			     "Allow: GET, HEAD\r\n");
	assert_string_equal(buf, "HTTP/1.1 405 Method Not Allowed\r\n"
				 "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
				 "Server: squirrel\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 19\r\n"
				 "Connection: close\r\n"
				 "Allow: GET, HEAD\r\n"
				 "\r\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(http_format_head(buf, 40, 200, date, NULL, 0, NULL, NULL), -1);
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(999), "Unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_pipelined_sequence),
		cmocka_unit_test(test_headers_iterate),
		cmocka_unit_test(test_limits_at_the_edge),
		cmocka_unit_test(test_endless_head_refused_early),
		cmocka_unit_test(test_leading_empty_lines_count),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
