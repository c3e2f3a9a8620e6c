/*
 * alog: the access log's line, and what it makes of the method and target a client chose
 * (escaped as termsafe.h's access-log rule says, cut with "...").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alog.h"

static struct alog lg;

/* The one line logged for a request with this method and target. */
static const char *
line_for(const char *method, size_t mlen, const char *target, size_t tlen)
{
	static char line[ALOG_BUF + 1];

	alog_init(&lg, -1, 0);
	alog_request(&lg, 0, "127.0.0.1:4242", method, mlen, target, tlen, 400, 0, 12, NULL, "why");
	assert_true(lg.len < sizeof(line));
	memcpy(line, lg.buf, lg.len);
	line[lg.len] = '\0';
	return line;
}

static void
test_fields_are_escaped(void **state)
{
	static const char m[] = "G\"ET", t[] = "/a\x1b[31m\\b\xc3\xa9\r\n";

	(void)state;
	assert_string_equal(
		line_for(m, sizeof(m) - 1, t, sizeof(t) - 1),
		"1970-01-01T00:00:00Z 127.0.0.1:4242 "
		"\"G\\x22ET /a\\x1b[31m\\x5cb\\xc3\\xa9\\x0d\\x0a\" 400 0 12us (why)\n");
	assert_string_equal(line_for(NULL, 0, NULL, 0),
			    "1970-01-01T00:00:00Z 127.0.0.1:4242 \"- -\" 400 0 12us (why)\n");
}

static void
test_long_fields_are_cut(void **state)
{
	char t[ALOG_TARGET_MAX + 50], want[4 * ALOG_TARGET_MAX + 128];
	static const char m[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	int n;

	(void)state;
	memset(t, 0x1b, sizeof(t));
	n = snprintf(want, sizeof(want),
		     "1970-01-01T00:00:00Z 127.0.0.1:4242 \"ABCDEFGHIJKLMNO... ");
	for (int i = 0; i < ALOG_TARGET_MAX; i++)
		n += snprintf(want + n, sizeof(want) - (size_t)n, "\\x1b");
	snprintf(want + n, sizeof(want) - (size_t)n, "...\" 400 0 12us (why)\n");
	assert_string_equal(line_for(m, sizeof(m) - 1, t, sizeof(t)), want);
	/* Exactly the limit: nothing is cut. */
	memset(t, 'a', sizeof(t));
	n = snprintf(want, sizeof(want), "1970-01-01T00:00:00Z 127.0.0.1:4242 \"ABCDEFGHIJKLMNO ");
	memset(want + n, 'a', ALOG_TARGET_MAX);
	snprintf(want + n + ALOG_TARGET_MAX, sizeof(want) - (size_t)n - ALOG_TARGET_MAX,
		 "\" 400 0 12us (why)\n");
	assert_string_equal(line_for(m, 15, t, ALOG_TARGET_MAX), want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_are_escaped),
		cmocka_unit_test(test_long_fields_are_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
