/*
 * test_tap_sslkeys: the NSS key log reader of squirrel-tap --keylog: lines as curl, Python,
 * OpenSSL and browsers write them, split anywhere; what is skipped and what is refused; and
 * the file, read again when it grows (a client appends as it connects).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sslkeys.h"

#define R1 "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
#define R2 "0000000000000000000000000000000000000000000000000000000000000001"
#define S32 "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
#define S48                                                                                        \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567" \
	"89abcdef"

static const char text[] = "# a comment, as NSS allows\n"
			   "\n"
			   "CLIENT_RANDOM " R2 " " S48 "\n"
			   "CLIENT_HANDSHAKE_TRAFFIC_SECRET " R1 " " S32 "\r\n"
			   "SERVER_HANDSHAKE_TRAFFIC_SECRET " R1 " " S32 "\n"
			   "EXPORTER_SECRET " R1 " " S32 "\n"
			   "CLIENT_TRAFFIC_SECRET_0 " R1 " " S32 "\n"
			   "SERVER_TRAFFIC_SECRET_0 " R1 " " S32 "\n"
			   "CLIENT_TRAFFIC_SECRET_N " R1 " " S32 "\n"
			   "CLIENT_RANDOM " R1 "\n"               /* no secret */
			   "CLIENT_RANDOM 1234 " S48 "\n"         /* random too short */
			   "CLIENT_RANDOM " R1 " xyz0\n"          /* not hex */
			   "CLIENT_RANDOM " R1 " " S48 " extra\n" /* a fourth field */
			   "NOT_A_LABEL " R1 " " S32 "\n"
			   "SERVER_TRAFFIC_SECRET_0 " R2 " " S32; /* the last line, no '\n' */

static void
random_of(const char *hex, uint8_t out[SSLKEYS_RANDOM_LEN])
{
	for (int i = 0; i < SSLKEYS_RANDOM_LEN; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void
check_table(const struct sslkeys *k)
{
	uint8_t r1[SSLKEYS_RANDOM_LEN], r2[SSLKEYS_RANDOM_LEN], s[SSLKEYS_SECRET_MAX];

	random_of(R1, r1);
	random_of(R2, r2);
	assert_int_equal(sslkeys_find(k, SSLKEYS_CLIENT_RANDOM, r2, s), 48);
	assert_int_equal(s[0], 0x01);
	assert_int_equal(s[47], 0xef);
	assert_int_equal(sslkeys_find(k, SSLKEYS_CLIENT_HANDSHAKE, r1, s), 32);
	assert_int_equal(s[0], 0xb3);
	assert_int_equal(s[31], 0x21);
	assert_int_equal(sslkeys_find(k, SSLKEYS_SERVER_HANDSHAKE, r1, s), 32);
	assert_int_equal(sslkeys_find(k, SSLKEYS_CLIENT_TRAFFIC_0, r1, s), 32);
	assert_int_equal(sslkeys_find(k, SSLKEYS_SERVER_TRAFFIC_0, r1, s), 32);
	assert_int_equal(sslkeys_find(k, SSLKEYS_SERVER_TRAFFIC_0, r2, s), 32);
	assert_int_equal(sslkeys_find(k, SSLKEYS_CLIENT_RANDOM, r1, s), 0);
	assert_int_equal(sslkeys_find(k, SSLKEYS_CLIENT_HANDSHAKE, r2, s), 0);
	/* Five lines not understood; comments, blank lines and others' labels are not that. */
	assert_int_equal(k->bad, 5);
	assert_int_equal(k->n, 6);
}

static void
test_keylog_lines(void **state)
{
	static struct sslkeys k;

	(void)state;
	sslkeys_init(&k);
	sslkeys_feed(&k, text, strlen(text));
	sslkeys_flush(&k);
	check_table(&k);
	sslkeys_wipe(&k);
	assert_int_equal(k.n, 0);
}

/* A client appends as it goes: the text may be cut at any byte between two reads. */
static void
test_keylog_split_anywhere(void **state)
{
	static struct sslkeys k;
	size_t n = strlen(text);

	(void)state;
	for (size_t cut = 0; cut <= n; cut++) {
		sslkeys_init(&k);
		sslkeys_feed(&k, text, cut);
		sslkeys_feed(&k, text + cut, n - cut);
		sslkeys_flush(&k);
		check_table(&k);
	}
}

/* The newest line for a connection wins; past SSLKEYS_MAX the oldest are forgotten. A line
 * longer than a key log line is refused whole, not read from its middle. */
static void
test_keylog_newest_and_bounded(void **state)
{
	static struct sslkeys k;
	static char longline[SSLKEYS_LINE_MAX * 2];
	uint8_t r[SSLKEYS_RANDOM_LEN] = {0}, s[SSLKEYS_SECRET_MAX];
	char line[256];

	(void)state;
	sslkeys_init(&k);
	for (unsigned i = 0; i < SSLKEYS_MAX + 10; i++) {
		snprintf(line, sizeof(line), "CLIENT_RANDOM %064x %096x\n", i % (SSLKEYS_MAX + 5),
			 i);
		sslkeys_feed(&k, line, strlen(line));
	}
	assert_int_equal(k.n, SSLKEYS_MAX);
	/* Random 3 came twice (i = 3 and SSLKEYS_MAX + 8): the second secret is found. */
	r[31] = 3;
	assert_int_equal(sslkeys_find(&k, SSLKEYS_CLIENT_RANDOM, r, s), 48);
	assert_int_equal(s[47], (SSLKEYS_MAX + 8) & 0xff);
	/* Random 7 (i = 7) was pushed out by the last ten. */
	r[31] = 7;
	assert_int_equal(sslkeys_find(&k, SSLKEYS_CLIENT_RANDOM, r, s), 0);
	/* A valid line after SSLKEYS_LINE_MAX bytes of something else is still that line. */
	memset(longline, 'X', SSLKEYS_LINE_MAX + 10);
	snprintf(longline + SSLKEYS_LINE_MAX + 10, sizeof(longline) - SSLKEYS_LINE_MAX - 10,
		 "CLIENT_RANDOM " R1 " " S48 "\n");
	sslkeys_init(&k);
	sslkeys_feed(&k, longline, strlen(longline));
	assert_int_equal(k.bad, 1);
	assert_int_equal(k.n, 0);
}

/* ---- the file ---------------------------------------------------------------------------- */

static char warned[1024];

static void
warn(void *arg, const char *msg)
{
	(void)arg;
	snprintf(warned, sizeof(warned), "%s", msg);
}

static void
append(const char *path, const char *s)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void
test_keylog_file_grows(void **state)
{
	static struct sslkeys_file f;
	char dir[] = "/tmp/keylog-test-XXXXXX", path[256], err[256];
	uint8_t r1[SSLKEYS_RANDOM_LEN], s[SSLKEYS_SECRET_MAX];
	int missing = -1;

	(void)state;
	random_of(R1, r1);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	/* Not there yet: fine, said so, looked for at each miss. */
	assert_int_equal(sslkeys_file_open(&f, path, &missing, warn, NULL, err, sizeof(err)), 0);
	assert_int_equal(missing, 1);
	assert_int_equal(sslkeys_file_lookup(&f, SSLKEYS_CLIENT_HANDSHAKE, r1, s), 0);
	/* The client creates it and writes half a line, then the rest. */
	append(path, "CLIENT_HANDSHAKE_TRAFFIC_SECRET " R1 " b3eddb");
	assert_int_equal(sslkeys_file_lookup(&f, SSLKEYS_CLIENT_HANDSHAKE, r1, s), 0);
	append(path, S32 + 6);
	append(path, "\n");
	assert_int_equal(sslkeys_file_lookup(&f, SSLKEYS_CLIENT_HANDSHAKE, r1, s), 32);
	assert_int_equal(s[0], 0xb3);
	/* More lines later, one of them not a key log line: one warning says how many. */
	append(path, "SERVER_TRAFFIC_SECRET_0 " R1 " " S32 "\ngarbage\n");
	assert_int_equal(sslkeys_file_lookup(&f, SSLKEYS_SERVER_TRAFFIC_0, r1, s), 32);
	assert_non_null(strstr(warned, ": 1 line not understood, skipped"));
	/* Written anew (truncated, shorter): read from its top again. */
	assert_int_equal(truncate(path, 0), 0);
	append(path, "CLIENT_RANDOM " R1 " " S48 "\n");
	assert_int_equal(sslkeys_file_lookup(&f, SSLKEYS_CLIENT_RANDOM, r1, s), 48);
	sslkeys_file_close(&f);
	/* Open reads what is there; a directory is refused with a reason. */
	assert_int_equal(sslkeys_file_open(&f, path, &missing, warn, NULL, err, sizeof(err)), 0);
	assert_int_equal(missing, 0);
	assert_int_equal(sslkeys_find(&f.log, SSLKEYS_CLIENT_RANDOM, r1, s), 48);
	sslkeys_file_close(&f);
	assert_int_equal(sslkeys_file_open(&f, dir, &missing, warn, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": not a regular file"));
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keylog_lines),
		cmocka_unit_test(test_keylog_split_anywhere),
		cmocka_unit_test(test_keylog_newest_and_bounded),
		cmocka_unit_test(test_keylog_file_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
