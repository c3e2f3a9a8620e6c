/*
 * termsafe: the one rule for bytes others chose, under each caller's flags. Every caller's
 * output is pinned here: the client's heads, error lines and bodies, the access log's
 * fields, the tap's text columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termsafe.h"

#define CLIENT_LINE TERMSAFE_HEX
#define CLIENT_BODY (TERMSAFE_HEX | TERMSAFE_LINES)
#define ACCESS_LOG (TERMSAFE_HEX | TERMSAFE_ASCII | TERMSAFE_QUOTES)
#define TAP_TEXT (TERMSAFE_DOT | TERMSAFE_ASCII)

/* Every kind of byte the rule tells apart: C0 controls, tab and newline, the quote and the
 * backslash, DEL, and UTF-8 ("é" is c3 a9). */
#define MIXED "a\x1b]0;t\x07\r\n\tb\"c\\d\x7f\xc3\xa9\x00"

struct tcase {
	const char *in;
	size_t n;
	unsigned rule;
	const char *out;
};

#define CASE(s, r, o)                                                                              \
	{                                                                                          \
		.in = (s), .n = sizeof(s) - 1, .rule = (r), .out = (o)                             \
	}

static const struct tcase cases[] = {
	CASE(MIXED, CLIENT_LINE, "a\\x1b]0;t\\x07\\x0d\\x0a\\x09b\"c\\d\\x7f\xc3\xa9\\x00"),
	CASE(MIXED, CLIENT_BODY, "a\\x1b]0;t\\x07\\x0d\n\tb\"c\\d\\x7f\xc3\xa9\\x00"),
	CASE(MIXED, ACCESS_LOG, "a\\x1b]0;t\\x07\\x0d\\x0a\\x09b\\x22c\\x5cd\\x7f\\xc3\\xa9\\x00"),
	CASE(MIXED, TAP_TEXT, "a.]0;t....b\"c\\d...."),
	CASE("", CLIENT_LINE, ""),
	CASE(" ~", ACCESS_LOG, " ~"),
	CASE("\x1f\x20\x7e\x7f\x80\xff", CLIENT_LINE, "\\x1f \x7e\\x7f\\x80\\xff"),
	/* UTF-8 text passes: U+00A0, U+20AC, U+1F43F (2, 3 and 4 bytes); a C1 control does not
	 * (U+009B, CSI), nor what is not well-formed UTF-8: a lone 0x9b, an overlong '/', a
	 * surrogate, a code point past U+10FFFF, a character cut short by the end. */
	CASE("\xc2\xa0\xe2\x82\xac\xf0\x9f\x90\xbf", CLIENT_BODY,
	     "\xc2\xa0\xe2\x82\xac\xf0\x9f\x90\xbf"),
	CASE("\xc2\x9b"
	     "31m",
	     CLIENT_BODY,
	     "\\xc2\\x9b"
	     "31m"),
	CASE("\x9b"
	     "31m",
	     CLIENT_LINE,
	     "\\x9b"
	     "31m"),
	CASE("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", CLIENT_LINE,
	     "\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80"),
	CASE("a\xe2\x82", CLIENT_LINE, "a\\xe2\\x82"),
	CASE("\x1f\x20\x7e\x7f\x80\xff", TAP_TEXT, ". ~..."),
};

static void
test_each_rule(void **state)
{
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 99, took;

		took = termsafe_copy(out, sizeof(out), cases[i].in, cases[i].n, cases[i].rule,
				     &len);
		assert_int_equal(took, cases[i].n);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(len, strlen(cases[i].out));
	}
}

/* How many of the 256 byte values each rule lets through, and the edges. */
static void
test_which_bytes_pass(void **state)
{
	static const struct {
		unsigned rule;
		int count;
	} rules[] = {
		{.rule = CLIENT_LINE, .count = 95 + 128},
		{.rule = CLIENT_BODY, .count = 95 + 128 + 2},
		{.rule = ACCESS_LOG, .count = 95 - 2},
		{.rule = TAP_TEXT, .count = 95},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		int count = 0;

		for (int c = 0; c < 256; c++)
			count += termsafe_passes((unsigned char)c, rules[i].rule);
		assert_int_equal(count, rules[i].count);
		assert_false(termsafe_passes(0x1b, rules[i].rule));
		assert_false(termsafe_passes(0x7f, rules[i].rule));
		assert_false(termsafe_passes('\r', rules[i].rule));
		assert_true(termsafe_passes(' ', rules[i].rule));
		assert_true(termsafe_passes('~', rules[i].rule));
	}
}

/* Output that does not fit stops before the byte whose text would be cut: the client writes a
 * long body piece by piece, each piece ending on a whole escape. */
static void
test_a_full_buffer_never_cuts_an_escape(void **state)
{
	static const char in[] = "ab\x1b"
				 "c";
	char out[6];
	size_t len;

	(void)state;
	assert_int_equal(termsafe_copy(out, sizeof(out), in, 4, CLIENT_LINE, &len), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(termsafe_copy(out, sizeof(out), in + 2, 2, CLIENT_LINE, &len), 2);
	assert_string_equal(out, "\\x1bc");
	assert_int_equal(len, 5);
	assert_int_equal(termsafe_copy(out, 1, in, 4, CLIENT_LINE, NULL), 0);
	assert_string_equal(out, "");
	/* Nor a UTF-8 character: "a" and "\xc3\xa9" ("é") need 4 bytes with the NUL. */
	assert_int_equal(termsafe_copy(out, 3, "a\xc3\xa9", 3, CLIENT_BODY, &len), 1);
	assert_string_equal(out, "a");
	assert_int_equal(termsafe_copy(out, 3, in, 4, TAP_TEXT, &len), 2);
	assert_string_equal(out, "ab");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_rule),
		cmocka_unit_test(test_which_bytes_pass),
		cmocka_unit_test(test_a_full_buffer_never_cuts_an_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
