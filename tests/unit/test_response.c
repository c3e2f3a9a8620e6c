/*
 * The response parser, for the client: framing decisions (RFC 9112 §6.3) and the responses a
 * broken or hostile server might send; each fed whole and byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "http.h"

struct scase {
	const char *name;
	const char *in;
	int head_request;
	int status; /* 0: invalid */
	enum http_framing framing;
	uint64_t length;
	int keep_alive;
	const char *reason;
};

static const struct scase cases[] = {
	{.name = "length",
	 .in = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_LENGTH,
	 .length = 11,
	 .keep_alive = 1,
	 .reason = "OK"},
	{.name = "chunked",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CHUNKED,
	 .keep_alive = 1,
	 .reason = "OK"},
	{.name = "until close",
	 .in = "HTTP/1.1 200 OK\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CLOSE,
	 .reason = "OK"},
	{.name = "http/1.0",
	 .in = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_LENGTH,
	 .length = 2,
	 .reason = "OK"},
	{.name = "connection close",
	 .in = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_LENGTH,
	 .length = 2,
	 .reason = "OK"},
	{.name = "head request",
	 .in = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
	 .head_request = 1,
	 .status = 200,
	 .keep_alive = 1,
	 .reason = "OK"},
	{.name = "204",
	 .in = "HTTP/1.1 204 No Content\r\n\r\n",
	 .status = 204,
	 .keep_alive = 1,
	 .reason = "No Content"},
	{.name = "304",
	 .in = "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
	 .status = 304,
	 .keep_alive = 1,
	 .reason = "Not Modified"},
	{.name = "100 continue",
	 .in = "HTTP/1.1 100 Continue\r\n\r\n",
	 .status = 100,
	 .keep_alive = 1,
	 .reason = "Continue"},
	{.name = "no reason",
	 .in = "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
	 .status = 404,
	 .framing = HTTP_BODY_LENGTH,
	 .keep_alive = 1,
	 .reason = ""},
	{.name = "empty reason",
	 .in = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
	 .status = 404,
	 .framing = HTTP_BODY_LENGTH,
	 .keep_alive = 1,
	 .reason = ""},
	{.name = "gzip coding",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CLOSE,
	 .reason = "OK"},
	{.name = "chunked with empty list elements",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,, ,\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CHUNKED,
	 .keep_alive = 1,
	 .reason = "OK"},
	{.name = "bare LF",
	 .in = "HTTP/1.1 200 OK\nContent-Length: 1\n\n",
	 .status = 200,
	 .framing = HTTP_BODY_LENGTH,
	 .length = 1,
	 .keep_alive = 1,
	 .reason = "OK"},
	/* Transfer-Encoding lines make one list (RFC 9110 §5.3): chunked must end all of it. */
	{.name = "TE gzip then chunked lines",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CHUNKED,
	 .keep_alive = 1,
	 .reason = "OK"},
	{.name = "TE chunked then gzip lines",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CLOSE,
	 .reason = "OK"},
	{.name = "TE chunked then an empty line",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n",
	 .status = 200,
	 .framing = HTTP_BODY_CHUNKED,
	 .keep_alive = 1,
	 .reason = "OK"},

	{.name = "http/2", .in = "HTTP/2 200 OK\r\n\r\n", .status = 0, .reason = NULL},
	{.name = "http/1.2", .in = "HTTP/1.2 200 OK\r\n\r\n", .status = 0, .reason = NULL},
	{.name = "not http", .in = "SSH-2.0-OpenSSH_9.2\r\n\r\n", .status = 0, .reason = NULL},
	{.name = "two-digit status", .in = "HTTP/1.1 20 OK\r\n\r\n", .status = 0, .reason = NULL},
	{.name = "status 600", .in = "HTTP/1.1 600 Odd\r\n\r\n", .status = 0, .reason = NULL},
	{.name = "CL and TE",
	 .in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	/* RFC 9112 §6.1: a sender MUST NOT apply chunked more than once; decoding it once would
	 * hand the body's inner chunk framing over as data. */
	{.name = "TE chunked twice",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "TE chunked on two lines",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "TE chunked twice, not last",
	 .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked, gzip\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "TE chunked twice, 204",
	 .in = "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked,chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	/* RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing, even with a
	 * Content-Length (1.0 has no transfer codings: a 1.1 proxy may have passed it on). */
	{.name = "TE in 1.0",
	 .in = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "TE gzip in 1.0",
	 .in = "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "CL then TE in 1.0",
	 .in = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "TE in a 1.0 304",
	 .in = "HTTP/1.0 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "CL differing",
	 .in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "CL junk",
	 .in = "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "obs-fold",
	 .in = "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	 .status = 0,
	 .reason = NULL},
	{.name = "NUL", .in = "HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n", .status = 0, .reason = NULL},
	{.name = "TLS alert on a plain connection",
	 .in = "\x15\x03\x01\x00\x02\x02\x46",
	 .status = 0,
	 .reason = NULL},
};

static void
check(const struct scase *c, const struct http_response *res, int r)
{
	if (c->status == 0) {
		if (r != HTTP_INVALID)
			fail_msg("%s: accepted (%d)", c->name, r);
		assert_non_null(res->why);
		return;
	}
	if (r <= 0)
		fail_msg("%s: got %d (%s)", c->name, r, res->why ? res->why : "");
	assert_int_equal((size_t)r, strlen(c->in));
	assert_int_equal(res->status, c->status);
	assert_int_equal(res->framing, c->framing);
	if (c->framing == HTTP_BODY_LENGTH)
		assert_int_equal(res->content_length, c->length);
	assert_int_equal(res->keep_alive, c->keep_alive);
	assert_int_equal(res->reason_len, strlen(c->reason));
	assert_memory_equal(res->reason, c->reason, res->reason_len);
}

static void
test_whole_and_byte_by_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scase *c = &cases[i];
		size_t n = strlen(c->in);
		char *g = guard_dup(c->in, n);
		struct http_response res;
		int r = HTTP_PARTIAL;

		http_response_init(&res);
		check(c, &res, http_parse_response(g, n, c->head_request, &res));
		http_response_init(&res);
		for (size_t k = 1; k <= n && r == HTTP_PARTIAL; k++)
			r = http_parse_response(g, k, c->head_request, &res);
		check(c, &res, r);
		guard_free(g, n);
	}
}

static void
test_endless_header_refused(void **state)
{
	static char big[HTTP_MAX_HEAD + 100];
	struct http_response res;
	size_t n = sizeof(big);

	(void)state;
	memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
	for (size_t i = 17; i + 8 <= n; i += 8)
		memcpy(big + i, "X: yy\r\n\0", 8);
	for (size_t i = 17; i < n; i++)
		if (big[i] == 0)
			big[i] = 'z';
	http_response_init(&res);
	assert_int_equal(http_parse_response(big, n, 0, &res), HTTP_INVALID);
	assert_non_null(res.why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_byte_by_byte),
		cmocka_unit_test(test_endless_header_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
