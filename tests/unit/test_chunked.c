/*
 * The chunked decoder: bodies decoded whole, one byte per call, and split at every position,
 * with what follows the body handed back; and every malformation it must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "http.h"

struct ccase {
	const char *name;
	const char *in;
	const char *body; /* NULL: invalid */
	size_t after;     /* bytes that follow the body */
	const char *why;  /* invalid: the reason the decoder gives */
};

/* An extension that fills a size line to HTTP_MAX_CHUNK_LINE with "1;" and CR: the limit
 * holds for every size line, not only the first. */
#define LONG_EXT_10 "xxxxxxxxxx"
#define LONG_EXT_100                                                                               \
	LONG_EXT_10 LONG_EXT_10 LONG_EXT_10 LONG_EXT_10 LONG_EXT_10 LONG_EXT_10 LONG_EXT_10        \
		LONG_EXT_10 LONG_EXT_10 LONG_EXT_10
#define LONG_EXT_1000                                                                              \
	LONG_EXT_100 LONG_EXT_100 LONG_EXT_100 LONG_EXT_100 LONG_EXT_100 LONG_EXT_100 LONG_EXT_100 \
		LONG_EXT_100 LONG_EXT_100 LONG_EXT_100
#define LONG_EXT LONG_EXT_1000 LONG_EXT_10 LONG_EXT_10 "x" /* 1021 bytes */
static const struct ccase cases[] = {
	{.name = "one chunk", .in = "5\r\nhello\r\n0\r\n\r\n", .body = "hello"},
	{.name = "two chunks",
	 .in = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	 .body = "hello world"},
	{.name = "upper and lower hex",
	 .in = "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
	 .body = "0123456789abcdefghij"},
	{.name = "leading zeros", .in = "0005\r\nhello\r\n000\r\n\r\n", .body = "hello"},
	{.name = "extension",
	 .in = "5;name=value;x=\"q\"\r\nhello\r\n0;end\r\n\r\n",
	 .body = "hello"},
	{.name = "extension after space", .in = "5 ;a\r\nhello\r\n0\r\n\r\n", .body = "hello"},
	{.name = "whitespace before CRLF", .in = "5 \t\r\nhello\r\n0 \r\n\r\n", .body = "hello"},
	{.name = "longest size line twice",
	 .in = "1;" LONG_EXT "\r\na\r\n1;" LONG_EXT "\r\nb\r\n0\r\n\r\n",
	 .body = "ab"},
	{.name = "trailers",
	 .in = "5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Other: two\r\n\r\n",
	 .body = "hello"},
	{.name = "empty body", .in = "0\r\n\r\n", .body = ""},
	{.name = "next request follows",
	 .in = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
	 .body = "abc",
	 .after = 16},
	{.name = "CRLF inside data", .in = "4\r\n\r\n\r\n\r\n0\r\n\r\n", .body = "\r\n\r\n"},

	{.name = "not hex",
	 .in = "g\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size is not hexadecimal"},
	{.name = "empty size",
	 .in = "\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size is not hexadecimal"},
	{.name = "0x prefix",
	 .in = "0x5\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size followed by junk"},
	{.name = "negative",
	 .in = "-5\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size is not hexadecimal"},
	{.name = "leading space",
	 .in = " 5\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size is not hexadecimal"},
	{.name = "bare LF after size",
	 .in = "5\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size line without CRLF"},
	{.name = "bare CR after size",
	 .in = "5\rhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size line without CRLF"},
	{.name = "data longer than size",
	 .in = "5\r\nhelloX\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk data not followed by CRLF"},
	{.name = "data shorter than size",
	 .in = "5\r\nhell\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk data not followed by CRLF"},
	{.name = "bare LF after data",
	 .in = "5\r\nhello\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk data not followed by CRLF"},
	{.name = "16 hex digits",
	 .in = "0000000000000005\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size over 15 hex digits"},
	{.name = "control byte in extension",
	 .in = "5;a\x01\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "control byte in a chunk extension"},
	{.name = "control byte in trailer",
	 .in = "0\r\nX: \x01\r\n\r\n",
	 .body = NULL,
	 .why = "control byte in a trailer field"},
	{.name = "bare LF ending trailers",
	 .in = "0\r\n\n",
	 .body = NULL,
	 .why = "malformed trailer field name"},
	/* After the size only whitespace then ';' or CRLF: "5 6" is not 5 (a proxy may read 56). */
	{.name = "second number after space",
	 .in = "5 6\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size followed by junk"},
	{.name = "text after space",
	 .in = "5 xyz\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size followed by junk"},
	{.name = "trailer without colon",
	 .in = "0\r\nnot a field\r\n\r\n",
	 .body = NULL,
	 .why = "malformed trailer field name"},
	{.name = "trailer folded (obs-fold)",
	 .in = "0\r\nX: 1\r\n folded\r\n\r\n",
	 .body = NULL,
	 .why = "malformed trailer field name"},
	{.name = "size line a byte too long",
	 .in = "1;x" LONG_EXT "\r\na\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size line over 1024 bytes"},
	{.name = "trailer with empty name",
	 .in = "0\r\n: v\r\n\r\n",
	 .body = NULL,
	 .why = "malformed trailer field name"},
	{.name = "trailer space before colon",
	 .in = "0\r\nX : v\r\n\r\n",
	 .body = NULL,
	 .why = "malformed trailer field name"},
	/* A request whose first chunk size is one of these gets a 400 with this reason, whatever
	 * its method (RFC 9112 §7.1, §6.3; server/conn.c). */
	{.name = "zz",
	 .in = "zz\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size is not hexadecimal"},
	{.name = "17 hex digits",
	 .in = "11111111111111111\r\nhello\r\n0\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size over 15 hex digits"},
	{.name = "17 hex digits, zeros",
	 .in = "00000000000000000\r\n\r\n",
	 .body = NULL,
	 .why = "chunk size over 15 hex digits"},
};

static const char *why; /* the decoder's reason at the last HTTP_INVALID of feed() */

static size_t
feed(const struct ccase *c, size_t step, char *out, ssize_t *r)
{
	struct http_chunked d;
	size_t n = strlen(c->in), off = 0, got = 0;

	http_chunked_init(&d);
	*r = HTTP_PARTIAL;
	while (off < n && *r == HTTP_PARTIAL) {
		size_t k = n - off < step ? n - off : step;
		char *g = guard_dup(c->in + off, k);
		size_t len = k;

		*r = http_chunked_decode(&d, g, &len);
		if (*r != HTTP_INVALID) {
			memcpy(out + got, g, len);
			got += len;
		}
		if (*r >= 0) {
			/* The r bytes of this piece that follow the body sit right after the
			 * decoded bytes; the bytes not fed yet follow them too. */
			size_t tail = (size_t)*r;

			assert_true(tail <= k);
			assert_memory_equal(g + len, c->in + off + k - tail, tail);
			*r += (ssize_t)(n - off - k);
		}
		guard_free(g, k);
		off += k;
	}
	why = *r == HTTP_INVALID ? d.why : NULL;
	return got;
}

static void
run(size_t step)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ccase *c = &cases[i];
		char out[256];
		ssize_t r;
		size_t got = feed(c, step, out, &r);

		if (c->body == NULL) {
			if (r != HTTP_INVALID)
				fail_msg("%s (step %zu): accepted, got %zd", c->name, step, r);
			if (why == NULL || strcmp(why, c->why) != 0)
				fail_msg("%s (step %zu): why '%s', not '%s'", c->name, step,
					 why ? why : "(none)", c->why);
			continue;
		}
		if (r < 0)
			fail_msg("%s (step %zu): got %zd", c->name, step, r);
		assert_int_equal(got, strlen(c->body));
		assert_memory_equal(out, c->body, got);
		assert_int_equal((size_t)r, c->after);
	}
}

static void
test_whole(void **state)
{
	(void)state;
	run(4096);
}

static void
test_byte_by_byte(void **state)
{
	(void)state;
	run(1);
}

static void
test_every_step(void **state)
{
	(void)state;
	for (size_t step = 2; step < 40; step++)
		run(step);
}

static void
test_partial_then_done(void **state)
{
	char a[] = "5\r\nhel";
	char b[] = "lo\r\n0\r\n\r\n";
	struct http_chunked d;
	size_t len = strlen(a);

	(void)state;
	http_chunked_init(&d);
	assert_int_equal(http_chunked_decode(&d, a, &len), HTTP_PARTIAL);
	assert_int_equal(len, 3);
	assert_memory_equal(a, "hel", 3);
	len = strlen(b);
	assert_int_equal(http_chunked_decode(&d, b, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(b, "lo", 2);
}

/* An extension that never ends, or endless trailers, are refused at their limits. */
static void
test_endless_lines(void **state)
{
	size_t n = HTTP_MAX_CHUNK_LINE + 16;
	char *b = malloc(HTTP_MAX_HEAD + 64);
	struct http_chunked d;
	size_t len;

	(void)state;
	assert_non_null(b);
	b[0] = '5';
	b[1] = ';';
	memset(b + 2, 'x', n - 2);
	len = n;
	http_chunked_init(&d);
	assert_int_equal(http_chunked_decode(&d, b, &len), HTTP_INVALID);

	memcpy(b, "0\r\nX: ", 6);
	memset(b + 6, 'y', HTTP_MAX_HEAD + 58);
	len = HTTP_MAX_HEAD + 64;
	http_chunked_init(&d);
	assert_int_equal(http_chunked_decode(&d, b, &len), HTTP_INVALID);
	free(b);
}

/* A large chunk size is accepted and counted down without overflow. */
static void
test_large_size(void **state)
{
	char in[] = "fffffffffffffff\r\nabc";
	struct http_chunked d;
	size_t len = strlen(in);

	(void)state;
	http_chunked_init(&d);
	assert_int_equal(http_chunked_decode(&d, in, &len), HTTP_PARTIAL);
	assert_int_equal(len, 3);
	assert_true(d.remaining == 0xfffffffffffffffULL - 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),         cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_every_step),    cmocka_unit_test(test_partial_then_done),
		cmocka_unit_test(test_endless_lines), cmocka_unit_test(test_large_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
