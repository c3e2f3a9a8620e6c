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
	{"length", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 0, 200, HTTP_BODY_LENGTH, 11, 1,
	 "OK"},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 200,
	 HTTP_BODY_CHUNKED, 0, 1, "OK"},
	{"until close", "HTTP/1.1 200 OK\r\n\r\n", 0, 200, HTTP_BODY_CLOSE, 0, 0, "OK"},
	{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", 0, 200, HTTP_BODY_LENGTH, 2, 0,
	 "OK"},
	{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n", 0,
	 200, HTTP_BODY_LENGTH, 2, 0, "OK"},
	{"head request", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 1, 200, HTTP_BODY_NONE, 0,
	 1, "OK"},
	{"204", "HTTP/1.1 204 No Content\r\n\r\n", 0, 204, HTTP_BODY_NONE, 0, 1, "No Content"},
	{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0, 304, HTTP_BODY_NONE, 0,
	 1, "Not Modified"},
	{"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", 0, 100, HTTP_BODY_NONE, 0, 1, "Continue"},
	{"no reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0, 404, HTTP_BODY_LENGTH, 0, 1,
	 ""},
	{"empty reason", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", 0, 404, HTTP_BODY_LENGTH, 0,
	 1, ""},
	{"gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 200,
	 HTTP_BODY_CLOSE, 0, 0, "OK"},
	{"chunked with empty list elements",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,, ,\r\n\r\n", 0, 200, HTTP_BODY_CHUNKED, 0,
	 1, "OK"},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 1\n\n", 0, 200, HTTP_BODY_LENGTH, 1, 1, "OK"},
	/* Transfer-Encoding lines make one list (RFC 9110 §5.3): chunked must end all of it. */
	{"TE gzip then chunked lines",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 200,
	 HTTP_BODY_CHUNKED, 0, 1, "OK"},
	{"TE chunked then gzip lines",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 200,
	 HTTP_BODY_CLOSE, 0, 0, "OK"},
	{"TE chunked then an empty line",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n", 0, 200,
	 HTTP_BODY_CHUNKED, 0, 1, "OK"},

	{"http/2", "HTTP/2 200 OK\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"http/1.2", "HTTP/1.2 200 OK\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"not http", "SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"status 600", "HTTP/1.1 600 Odd\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	/* RFC 9112 §6.1: a sender MUST NOT apply chunked more than once; decoding it once would
	 * hand the body's inner chunk framing over as data. */
	{"TE chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	{"TE chunked on two lines",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"TE chunked twice, not last",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked, gzip\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	{"TE chunked twice, 204",
	 "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked,chunked\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	/* RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing, even with a
	 * Content-Length (1.0 has no transfer codings: a 1.1 proxy may have passed it on). */
	{"TE in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, HTTP_BODY_NONE,
	 0, 0, NULL},
	{"TE gzip in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	{"CL then TE in 1.0",
	 "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	{"TE in a 1.0 304", "HTTP/1.0 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	{"CL differing", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 0,
	 HTTP_BODY_NONE, 0, 0, NULL},
	{"CL junk", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0,
	 NULL},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"NUL", "HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n", 0, 0, HTTP_BODY_NONE, 0, 0, NULL},
	{"TLS alert on a plain connection", "\x15\x03\x01\x00\x02\x02\x46", 0, 0, HTTP_BODY_NONE, 0,
	 0, NULL},
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
