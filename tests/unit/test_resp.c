/*
 * Routing: which answer each method and target gets (RFC 9110 §9.1, §15.5.6, §15.6.2), from
 * requests parsed by the codec as the server parses them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "resp.h"

struct route_case {
	const char *request_line;
	enum resp_id want;
};

static const struct route_case cases[] = {
	{.request_line = "GET / HTTP/1.1", .want = RESP_SECRET},
	{.request_line = "HEAD / HTTP/1.1", .want = RESP_SECRET},
	{.request_line = "GET /?q=1 HTTP/1.1", .want = RESP_SECRET},
	{.request_line = "GET http://example.com/ HTTP/1.1", .want = RESP_SECRET},
	{.request_line = "GET /other HTTP/1.1", .want = RESP_404},
	/* Known methods we do not allow: 405 with Allow: GET, HEAD. */
	{.request_line = "POST / HTTP/1.1", .want = RESP_405},
	{.request_line = "PUT / HTTP/1.1", .want = RESP_405},
	{.request_line = "DELETE / HTTP/1.1", .want = RESP_405},
	{.request_line = "PATCH / HTTP/1.1", .want = RESP_405},
	{.request_line = "OPTIONS / HTTP/1.1", .want = RESP_405},
	{.request_line = "OPTIONS * HTTP/1.1", .want = RESP_405},
	{.request_line = "TRACE / HTTP/1.1", .want = RESP_405},
	{.request_line = "CONNECT example.com:443 HTTP/1.1", .want = RESP_405},
	{.request_line = "POST /other HTTP/1.1", .want = RESP_404},
	/* Methods we do not know: 501 whatever the target; methods are case-sensitive. */
	{.request_line = "BREW / HTTP/1.1", .want = RESP_501_METHOD},
	{.request_line = "BREW /pot HTTP/1.1", .want = RESP_501_METHOD},
	{.request_line = "get / HTTP/1.1", .want = RESP_501_METHOD},
	{.request_line = "PROPFIND / HTTP/1.1", .want = RESP_501_METHOD},
	/* A target no method can use stays a 400. */
	{.request_line = "BREW * HTTP/1.1", .want = RESP_400},
	{.request_line = "GET example.com:443 HTTP/1.1", .want = RESP_400},
};

static void
test_routes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[256];
		struct http_request req;
		const char *why;
		int n = snprintf(buf, sizeof(buf), "%s\r\nHost: example.com\r\n\r\n",
				 cases[i].request_line);
		enum resp_id got;

		http_request_init(&req);
		assert_int_equal(http_parse_request(buf, (size_t)n, &req), n);
		got = resp_route(&req, &why);
		if (got != cases[i].want)
			fail_msg("%s: answer %d, not %d", cases[i].request_line, (int)got,
				 (int)cases[i].want);
		assert_true((got == RESP_400) == (why != NULL));
	}
}

/* 405 names what is allowed; an unknown method's 501 keeps the connection, a 501 for a
 * transfer coding we cannot undo does not (its body cannot be framed). */
static void
test_answers(void **state)
{
	static struct resp_table t;

	(void)state;
	assert_int_equal(resp_init(&t, "fluffy tail", 11, 0, 0), 0);
	assert_non_null(strstr(t.r[RESP_405][RESP_KEEP].bytes, "\r\nAllow: GET, HEAD\r\n"));
	assert_int_equal(t.r[RESP_501_METHOD][RESP_KEEP].status, 501);
	assert_false(resp_closes(RESP_501_METHOD));
	assert_true(resp_closes(RESP_501));
	assert_false(resp_closes(RESP_405));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
