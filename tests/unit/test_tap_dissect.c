/*
 * test_tap_dissect: the tap's dissector, fed whole, byte by byte and split at every position
 * (http-parser's test_scan), with inputs placed just before a PROT_NONE page so an overread
 * faults even without ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "dissect.h"
#include "sslkeys.h"
#include "transcript.h"

#define SINK_MAX (1 << 18)
#define SPLIT_WHOLE 0
#define SPLIT_BYTES ((size_t)-1)

/* What the dissector emitted, one line per '\n'. */
struct sink {
	int keep_chunks; /* keep the "conn N: dir, K bytes" lines (they differ per split) */
	size_t len;
	char buf[SINK_MAX];
};

static struct sink whole, part;

static void
collect(void *arg, const char *line)
{
	struct sink *s = arg;
	size_t n = strlen(line);

	assert_true(n < DIS_LINE_MAX);
	if (!s->keep_chunks && strncmp(line, "conn ", 5) == 0 &&
	    (strstr(line, "client -> server, ") != NULL ||
	     strstr(line, "server -> client, ") != NULL))
		return;
	assert_true(s->len + n + 1 < sizeof(s->buf));
	memcpy(s->buf + s->len, line, n);
	s->buf[s->len + n] = '\n';
	s->len += n + 1;
	s->buf[s->len] = '\0';
}

static void
sink_reset(struct sink *s, int keep_chunks)
{
	s->keep_chunks = keep_chunks;
	s->len = 0;
	s->buf[0] = '\0';
}

/* Largest input a test feeds at once. */
#define GUARD_SPAN (64 * 1024)

/*
 * A copy of p that ends exactly at a PROT_NONE page. Like guard.h's guard_dup(), but one
 * mapping reused: the split and per-byte runs feed some 100,000 pieces, and a mapping each
 * would make the test take seconds (12 s under valgrind).
 */
static const uint8_t *
guarded(const void *p, size_t n)
{
	static uint8_t *base;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (base == NULL) {
		base = mmap(NULL, GUARD_SPAN + page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(base != MAP_FAILED);
		assert_int_equal(mprotect(base + GUARD_SPAN, page, PROT_NONE), 0);
	}
	assert_true(n <= GUARD_SPAN);
	memcpy(base + GUARD_SPAN - n, p, n);
	return base + GUARD_SPAN - n;
}

/* When set, play() decrypts with the secrets of this key log, found by play_find. */
static struct sslkeys *play_keys;
static dis_keys_fn play_find = transcript_keys;
static struct dis_crypt *play_crypt;

/* Feed every step (each split at split, or byte by byte), then finish and report. */
static void
play(struct sink *s, unsigned flags, const struct dis_grep *g, const struct step *st, size_t nst,
     size_t split)
{
	static struct dis_conn d;

	dis_conn_init(&d, 1, flags, g);
	if (play_keys != NULL) {
		if (play_crypt == NULL)
			play_crypt = malloc(dis_crypt_size());
		assert_non_null(play_crypt);
		/* Whatever was there must not matter: dis_conn_decrypt starts it afresh. */
		memset(play_crypt, 0xa5, dis_crypt_size());
		dis_conn_decrypt(&d, play_crypt, play_find, play_keys);
	}
	for (size_t i = 0; i < nst; i++) {
		const uint8_t *p = st[i].p;
		size_t n = st[i].n;

		/* Each piece is copied next to the guard page just before it is fed. */
		if (split == SPLIT_BYTES) {
			for (size_t k = 0; k < n; k++)
				dis_feed(&d, st[i].dir, guarded(p + k, 1), 1, collect, s);
		} else if (split == SPLIT_WHOLE || split >= n) {
			dis_feed(&d, st[i].dir, guarded(p, n), n, collect, s);
		} else {
			dis_feed(&d, st[i].dir, guarded(p, split), split, collect, s);
			dis_feed(&d, st[i].dir, guarded(p + split, n - split), n - split, collect,
				 s);
		}
	}
	dis_finish(&d, collect, s);
	dis_grep_report(&d, collect, s);
}

/* The layers seen must not depend on how the bytes were chunked. */
static void
check_all_splits(unsigned flags, const struct dis_grep *g, const struct step *st, size_t nst)
{
	size_t longest = 0;

	sink_reset(&whole, 0);
	play(&whole, flags, g, st, nst, SPLIT_WHOLE);
	sink_reset(&part, 0);
	play(&part, flags, g, st, nst, SPLIT_BYTES);
	assert_string_equal(part.buf, whole.buf);
	for (size_t i = 0; i < nst; i++)
		if (st[i].n > longest)
			longest = st[i].n;
	/* Every position in short inputs; in long ones, every position near the ends and a
	 * prime stride between (a 4 KiB token need not be split 4,000 times). */
	for (size_t k = 1; k < longest; k += (k < 600 || longest - k < 64) ? 1 : 61) {
		sink_reset(&part, 0);
		play(&part, flags, g, st, nst, k);
		if (strcmp(part.buf, whole.buf) != 0) {
			fprintf(stderr, "split at %zu differs:\n%s\n--- whole:\n%s", k, part.buf,
				whole.buf);
			fail();
		}
	}
}

#define STEP(d, lit)                                                                               \
	{                                                                                          \
		.dir = (d), .p = (lit), .n = sizeof(lit) - 1                                       \
	}

/* ---- hex dump ---------------------------------------------------------------------------- */

static void
test_hexdump_layout(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	struct step st[] = {STEP(DIS_C2S, req)};

	(void)state;
	sink_reset(&whole, 1);
	play(&whole, DIS_HEX, NULL, st, 1, SPLIT_WHOLE);
	assert_string_equal(
		whole.buf,
		"conn 1: client -> server, 18 bytes\n"
		"  0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a   GET / HT TP/1.1..\n"
		"  0010  0d 0a                                              ..\n");
}

/* Bytes a terminal would act on, and any byte outside ASCII, are shown as '.' in the dump's
 * text column and in the layers' text (termsafe.h's DOT | ASCII rule). */
static void
test_text_is_ascii_with_dots(void **state)
{
	static const char raw[] = "\x1b[2J\x07\x7f\x80\xc3\xa9ok\"\\\r\n";
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	static const char res[] = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n\x1b[31m\xff"
				  "a\x07\x7f";
	struct step dump[] = {STEP(DIS_C2S, raw)},
		    http[] = {STEP(DIS_C2S, req), STEP(DIS_S2C, res)};

	(void)state;
	sink_reset(&whole, 1);
	play(&whole, DIS_HEX, NULL, dump, 1, SPLIT_WHOLE);
	assert_string_equal(
		whole.buf,
		"conn 1: client -> server, 15 bytes\n"
		"  0000  1b 5b 32 4a 07 7f 80 c3  a9 6f 6b 22 5c 0d 0a      .[2J.... .ok\"\\..\n");
	sink_reset(&whole, 1);
	play(&whole, DIS_LAYERS, NULL, http, 2, SPLIT_WHOLE);
	assert_string_equal(whole.buf, "conn 1: client -> server, 18 bytes\n"
				       "  HTTP request: GET / HTTP/1.1\n"
				       "conn 1: server -> client, 47 bytes\n"
				       "  HTTP response: HTTP/1.1 200 OK\n"
				       "  HTTP header: Content-Length: 9\n"
				       "  HTTP body: 9 bytes (Content-Length)\n"
				       "  HTTP body text: \".[31m.a..\"\n");
}

/* ---- HTTP -------------------------------------------------------------------------------- */

/* Two pipelined requests, GET and HEAD, and their answers. */
static const char exchange_req[] = "GET /secret HTTP/1.1\r\nHost: 127.0.0.1:5683\r\n\r\n"
				   "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
static const char exchange_res[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
				   "Content-Length: 11\r\n\r\nfluffy tail"
				   "HTTP/1.1 204 No Content\r\n\r\n";

static void
test_http_exchange(void **state)
{
	struct step st[] = {STEP(DIS_C2S, exchange_req), STEP(DIS_S2C, exchange_res)};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_string_equal(whole.buf, "  HTTP request: GET /secret HTTP/1.1\n"
				       "  HTTP header: Host: 127.0.0.1:5683\n"
				       "  HTTP request: HEAD / HTTP/1.1\n"
				       "  HTTP header: Host: x\n"
				       "  HTTP response: HTTP/1.1 200 OK\n"
				       "  HTTP header: Content-Type: text/plain; charset=utf-8\n"
				       "  HTTP header: Content-Length: 11\n"
				       "  HTTP body: 11 bytes (Content-Length)\n"
				       "  HTTP body text: \"fluffy tail\"\n"
				       "  HTTP response: HTTP/1.1 204 No Content\n"
				       "  HTTP body: none (a response to HEAD)\n");
}

/* The default of squirrel-tap (DIS_BRIEF): an HTTP message's header names on one line. A
 * message with more names than fit ends its list with "...". */
static void
test_http_brief(void **state)
{
	char many[2048] = "GET / HTTP/1.1\r\n";
	struct step st[] = {STEP(DIS_C2S, exchange_req), STEP(DIS_S2C, exchange_res)};
	struct step st2[1];
	const char *list;

	(void)state;
	check_all_splits(DIS_LAYERS | DIS_BRIEF, NULL, st, 2);
	assert_string_equal(whole.buf, "  HTTP request: GET /secret HTTP/1.1\n"
				       "  HTTP headers: Host\n"
				       "  HTTP request: HEAD / HTTP/1.1\n"
				       "  HTTP headers: Host\n"
				       "  HTTP response: HTTP/1.1 200 OK\n"
				       "  HTTP headers: Content-Type, Content-Length\n"
				       "  HTTP body: 11 bytes (Content-Length)\n"
				       "  HTTP body text: \"fluffy tail\"\n"
				       "  HTTP response: HTTP/1.1 204 No Content\n"
				       "  HTTP body: none (a response to HEAD)\n");
	for (int i = 0; i < 40; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "X-Name-%02d: v\r\n", i);
	strcat(many, "\r\n");
	st2[0] = (struct step){DIS_C2S, many, strlen(many)};
	check_all_splits(DIS_LAYERS | DIS_BRIEF, NULL, st2, 1);
	list = strstr(whole.buf, "  HTTP headers: X-Name-00, X-Name-01, ");
	assert_non_null(list);
	assert_true(strlen(list) <= strlen("  HTTP headers: \n") + DIS_HTTP_NAMES_MAX);
	assert_non_null(strstr(list, ", ...\n"));
}

/*
 * A response to HEAD announces the length of the body GET would get and has none: the tap
 * pairs responses with the requests it saw, so the next pipelined response is not taken for
 * that body. A 304 with Content-Length and a 100 Continue have none either.
 */
static void
test_http_head_response_has_no_body(void **state)
{
	static const char req[] = "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET / HTTP/1.1\r\nIf-None-Match: \"a\"\r\n\r\n"
				  "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char res[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
				  "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfluffy tail"
				  "HTTP/1.1 304 Not Modified\r\nContent-Length: 11\r\n\r\n"
				  "HTTP/1.1 100 Continue\r\n\r\n"
				  "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntail";
	struct step st[] = {STEP(DIS_C2S, req), STEP(DIS_S2C, res)};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_non_null(strstr(whole.buf, "  HTTP response: HTTP/1.1 200 OK\n"
					  "  HTTP header: Content-Length: 11\n"
					  "  HTTP body: none (a response to HEAD)\n"
					  "  HTTP response: HTTP/1.1 200 OK\n"
					  "  HTTP header: Content-Length: 11\n"
					  "  HTTP body: 11 bytes (Content-Length)\n"
					  "  HTTP body text: \"fluffy tail\"\n"
					  "  HTTP response: HTTP/1.1 304 Not Modified\n"
					  "  HTTP header: Content-Length: 11\n"
					  "  HTTP response: HTTP/1.1 100 Continue\n"
					  "  HTTP response: HTTP/1.1 200 OK\n"
					  "  HTTP header: Content-Length: 4\n"
					  "  HTTP body: 4 bytes (Content-Length)\n"
					  "  HTTP body text: \"tail\"\n"));
}

static void
test_http_body_until_close(void **state)
{
	static const char res[] = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nthe end";
	struct step st[] = {STEP(DIS_S2C, res)};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 1);
	assert_string_equal(whole.buf, "  HTTP response: HTTP/1.0 200 OK\n"
				       "  HTTP header: Server: x\n"
				       "  HTTP body: until the connection closes\n"
				       "  HTTP body text: \"the end\"\n");
}

static void
test_http_not_http(void **state)
{
	static const char junk[] = "Hello there\r\nHTTP/1.1 200 OK\r\n\r\n";
	static const char badlen[] = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nabc";
	struct step st[] = {STEP(DIS_C2S, junk), STEP(DIS_S2C, badlen)};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_string_equal(whole.buf,
			    "  not an HTTP request or status line; showing bytes only from here\n"
			    "  HTTP response: HTTP/1.1 200 OK\n"
			    "  HTTP header: Content-Length: 1x\n"
			    "  HTTP: cannot tell where the body ends (bad Content-Length); showing "
			    "bytes only from here\n");
}

static void
test_http_long_line_cut(void **state)
{
	static char req[2048];
	char want[DIS_LINE_MAX];
	struct step st[] = {{.dir = DIS_C2S, .p = req, .n = 0}};
	int n;

	(void)state;
	n = snprintf(req, sizeof(req), "GET /%0900d HTTP/1.1\r\nX-Long: %0500d\r\n\r\n", 7, 8);
	st[0].n = (size_t)n;
	check_all_splits(DIS_LAYERS, NULL, st, 1);
	snprintf(want, sizeof(want), "  HTTP request: %.*s...\n", DIS_HTTP_LINE_MAX, req);
	assert_true(strncmp(whole.buf, want, strlen(want)) == 0);
	assert_non_null(strstr(whole.buf, "  HTTP header: X-Long: 0000"));
	assert_null(strstr(whole.buf, "showing bytes only"));
}

/* ---- Fernet ------------------------------------------------------------------------------ */

/* The first case of the Fernet spec's generate.json (tests/vectors/fernet/): version 0x80,
 * now 1985-10-26T01:20:00-07:00, IV 00..0f, src "hello". */
static const char spec_token[] =
	"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVm"
	"pU4IwqDA==";

static const char spec_layout[] =
	"  Fernet token: 100 characters, 73 bytes\n"
	"    version     0x80\n"
	"    timestamp   499162800 (1985-10-26 08:20:00 UTC)\n"
	"    IV          000102030405060708090a0b0c0d0e0f\n"
	"    ciphertext  16 bytes (1 AES-128-CBC block)\n"
	"    HMAC        c5ff9095f5d38f9ab86e5543e02686f03b3ec971b9ab47ae23566a54e08c2a0c\n";

static void
test_fernet_vector_is_the_spec_one(void **state)
{
	const char *dir = getenv("SQUIRREL_VECTORS");
	char path[512], text[8192];
	size_t n;
	FILE *f;

	(void)state;
	if (dir == NULL) {
		print_message("SKIP: SQUIRREL_VECTORS is not set (make check-unit sets it)\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/fernet/generate.json", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, spec_token));
}

static void
test_fernet_in_body(void **state)
{
	static char res[512];
	char want[2048];
	struct step st[] = {{.dir = DIS_S2C, .p = res, .n = 0}};

	(void)state;
	st[0].n = (size_t)snprintf(res, sizeof(res),
				   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
				   strlen(spec_token), spec_token);
	check_all_splits(DIS_LAYERS, NULL, st, 1);
	snprintf(want, sizeof(want),
		 "  HTTP response: HTTP/1.1 200 OK\n"
		 "  HTTP header: Content-Length: 100\n"
		 "  HTTP body: 100 bytes (Content-Length)\n"
		 "  HTTP body text: \"%s\"\n%s",
		 spec_token, spec_layout);
	assert_string_equal(whole.buf, want);
}

/* A token split by chunked framing is still one token: size lines are not part of it. */
static void
test_fernet_chunked(void **state)
{
	static char res[512];
	struct step st[] = {{.dir = DIS_S2C, .p = res, .n = 0}};

	(void)state;
	st[0].n = (size_t)snprintf(res, sizeof(res),
				   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "20\r\n%.32s\r\n44;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n",
				   spec_token, spec_token + 32);
	check_all_splits(DIS_LAYERS, NULL, st, 1);
	assert_non_null(strstr(whole.buf, "  HTTP body: chunked\n"));
	assert_non_null(strstr(whole.buf, spec_layout));
	assert_non_null(strstr(whole.buf, "  HTTP trailer: X-Trailer: 1\n"));
}

/* In a stream that is not HTTP, a token that ends the stream is laid out at the close. */
static void
test_fernet_raw_at_close(void **state)
{
	struct step st[] = {{.dir = DIS_C2S, .p = "\x01token=", .n = 7},
			    {.dir = DIS_C2S, .p = spec_token, .n = sizeof(spec_token) - 1}};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_non_null(strstr(whole.buf, "conn 1: client -> server ended with a token:\n"));
	assert_non_null(strstr(whole.buf, spec_layout));
}

static void
test_fernet_not_tokens(void **state)
{
	static char big[DIS_TOKEN_MAX + 100];
	static const char bad[] =
		"\x01gAAAAAxyz gAAAAA==AAAA gAAAAAB\n"
		"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVU"
		"PgJobwOz7JcbmrR64jVmpU4IwqDAB.";
	struct step st[] = {STEP(DIS_C2S, bad), {.dir = DIS_S2C, .p = big, .n = sizeof(big)}};

	(void)state;
	big[0] = '\x02';
	memcpy(big + 1, "gAAAAA", 6);
	memset(big + 7, 'A', sizeof(big) - 8);
	big[sizeof(big) - 1] = ' ';
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_string_equal(
		whole.buf,
		"  Fernet token? 9 characters starting gAAAAA, but its base64 length is impossible\n"
		"  Fernet token? 12 characters starting gAAAAA, but '=' inside the base64 text\n"
		"  Fernet token? 7 characters starting gAAAAA, but too short for version, timestamp, "
		"IV, one block and HMAC\n"
		"  Fernet token? 99 characters starting gAAAAA, but its ciphertext is not whole "
		"16-byte blocks\n"
		"  Fernet token? 4194 characters starting gAAAAA: longer than 4096, not laid out\n");
}

/* ---- TLS --------------------------------------------------------------------------------- */

/* A ClientHello recorded from `openssl s_client -connect 127.0.0.1:PORT -servername localhost
 * -alpn http/1.1` (OpenSSL 3.0.x, Debian 12): public bytes only, its key share included. */
static const uint8_t openssl_client_hello[] = {
	0x16, 0x03, 0x01, 0x01, 0x45, 0x01, 0x00, 0x01, 0x41, 0x03, 0x03, 0xab, 0xfe, 0xee, 0x3f,
	0xb0, 0x49, 0x6e, 0xe4, 0xcb, 0x94, 0x3a, 0x8e, 0x86, 0xbb, 0xed, 0xfc, 0xa7, 0xd1, 0x6d,
	0x19, 0x68, 0xaa, 0x1c, 0x27, 0xe9, 0x93, 0x3b, 0x68, 0x6c, 0xbf, 0xa7, 0x72, 0x20, 0xc3,
	0x0c, 0x1a, 0xa3, 0x43, 0x85, 0x8d, 0xdb, 0x4d, 0x59, 0xb0, 0x16, 0x70, 0x08, 0x15, 0xe5,
	0x7f, 0x47, 0x67, 0x59, 0x22, 0xf9, 0xdb, 0x10, 0xe3, 0xe9, 0x3f, 0x3b, 0x3a, 0x77, 0x8f,
	0xcc, 0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f,
	0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0,
	0x28, 0x00, 0x6b, 0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39,
	0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00,
	0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xba, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c,
	0x00, 0x00, 0x09, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x0b, 0x00,
	0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17,
	0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01,
	0x04, 0x00, 0x23, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0b, 0x00, 0x09, 0x08, 0x68, 0x74, 0x74,
	0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d,
	0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08,
	0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01,
	0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00,
	0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02, 0x03, 0x01, 0x00, 0x2d, 0x00,
	0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0x1a, 0x65,
	0xfa, 0x2e, 0x20, 0xe2, 0xd0, 0x5f, 0x54, 0x3b, 0x5c, 0xe5, 0xb8, 0x47, 0x42, 0x38, 0x3f,
	0xbe, 0xd3, 0x49, 0x18, 0x68, 0x71, 0x16, 0x18, 0x16, 0x5f, 0xaa, 0xc7, 0x48, 0xea, 0x05,
};

static void
test_tls_openssl_client_hello(void **state)
{
	struct step st[] = {
		{.dir = DIS_C2S, .p = openssl_client_hello, .n = sizeof(openssl_client_hello)}};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 1);
	assert_string_equal(
		whole.buf,
		"  TLS record: handshake, 325 bytes, TLS 1.0 (0x0301)\n"
		"    handshake: ClientHello, 321 bytes, 31 cipher suites, SNI localhost, "
		"ALPN http/1.1, offers TLS 1.3 TLS 1.2 TLS 1.1 TLS 1.0\n"
		"      groups: X25519 secp256r1 X448 secp521r1 secp384r1 ffdhe2048 ffdhe3072 "
		"ffdhe4096 ffdhe6144 ffdhe8192\n"
		"      key shares: X25519 (32 bytes)\n"
		"      signature algorithms: ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 "
		"ecdsa_secp521r1_sha512 ed25519 ed448 rsa_pss_pss_sha256 rsa_pss_pss_sha384 "
		"rsa_pss_pss_sha512 rsa_pss_rsae_sha256 rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 "
		"rsa_pkcs1_sha256 rsa_pkcs1_sha384 rsa_pkcs1_sha512 ecdsa_sha224 rsa_pkcs1_sha224 "
		"dsa_sha224 dsa_sha256 dsa_sha384 dsa_sha512\n");
}

/* A little writer for crafted handshakes. */
struct wr {
	uint8_t b[4096];
	size_t n;
};

static void
put(struct wr *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
put8(struct wr *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(w, &b, 1);
}

static void
put16(struct wr *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void
put24(struct wr *w, size_t v)
{
	put8(w, (unsigned)(v >> 16));
	put16(w, (unsigned)(v & 0xffff));
}

static void
record(struct wr *w, unsigned type, const void *p, size_t n)
{
	put8(w, type);
	put16(w, 0x0303);
	put16(w, (unsigned)n);
	put(w, p, n);
}

/* A handshake message (type, uint24 length, body). */
static void
message(struct wr *w, unsigned type, const struct wr *body)
{
	put8(w, type);
	put24(w, body->n);
	put(w, body->b, body->n);
}

static void
client_hello(struct wr *out, const char *sni)
{
	static struct wr ch, ext, msg;
	static const uint8_t random[32] = {1, 2, 3};

	ch.n = ext.n = msg.n = 0;
	put16(&ch, 0x0303);
	put(&ch, random, sizeof(random));
	put8(&ch, 0);  /* session id */
	put16(&ch, 6); /* three suites */
	put16(&ch, 0x1301);
	put16(&ch, 0xc02f);
	put16(&ch, 0x3a3a);
	put8(&ch, 1);
	put8(&ch, 0);
	put16(&ext, 0); /* server_name */
	put16(&ext, (unsigned)strlen(sni) + 5);
	put16(&ext, (unsigned)strlen(sni) + 3);
	put8(&ext, 0);
	put16(&ext, (unsigned)strlen(sni));
	put(&ext, sni, strlen(sni));
	put16(&ext, 16); /* ALPN */
	put16(&ext, 14);
	put16(&ext, 12);
	put8(&ext, 2);
	put(&ext, "h2", 2);
	put8(&ext, 8);
	put(&ext, "http/1.1", 8);
	put16(&ext, 43); /* supported_versions, GREASE first */
	put16(&ext, 7);
	put8(&ext, 6);
	put16(&ext, 0x7a7a);
	put16(&ext, 0x0304);
	put16(&ext, 0x0303);
	put16(&ch, (unsigned)ext.n);
	put(&ch, ext.b, ext.n);
	message(&msg, 1, &ch);
	out->n = 0;
	record(out, 22, msg.b, msg.n);
}

static void
server_hello(struct wr *out, unsigned version, const uint8_t *random)
{
	static struct wr sh, msg;

	sh.n = msg.n = 0;
	put16(&sh, 0x0303);
	put(&sh, random, 32);
	put8(&sh, 0);
	put16(&sh, 0x1301);
	put8(&sh, 0);
	put16(&sh, 6);
	put16(&sh, 43);
	put16(&sh, 2);
	put16(&sh, version);
	message(&msg, 2, &sh);
	out->n = 0;
	record(out, 22, msg.b, msg.n);
}

static void
test_tls13_handshake(void **state)
{
	static struct wr ch, sh, s2, c2;
	static const uint8_t random[32] = {9, 9, 9};
	static const uint8_t sealed[40] = {0x17};
	static const uint8_t ccs[1] = {1};
	struct step st[] = {{.dir = DIS_C2S, .p = NULL, .n = 0},
			    {.dir = DIS_S2C, .p = NULL, .n = 0},
			    {.dir = DIS_C2S, .p = NULL, .n = 0}};

	(void)state;
	client_hello(&ch, "localhost");
	server_hello(&sh, 0x0304, random);
	s2 = sh;
	record(&s2, 20, ccs, 1);
	record(&s2, 23, sealed, sizeof(sealed));
	/* A record typed handshake after a TLS 1.3 ServerHello is still sealed. */
	record(&s2, 22, sealed, 33);
	c2.n = 0;
	record(&c2, 20, ccs, 1);
	record(&c2, 23, sealed, 17);
	st[0].p = ch.b;
	st[0].n = ch.n;
	st[1].p = s2.b;
	st[1].n = s2.n;
	st[2].p = c2.b;
	st[2].n = c2.n;
	check_all_splits(DIS_LAYERS, NULL, st, 3);
	assert_string_equal(
		whole.buf,
		"  TLS record: handshake, 98 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ClientHello, 94 bytes, 3 cipher suites, SNI localhost, ALPN h2 "
		"http/1.1, offers GREASE TLS 1.3 TLS 1.2\n"
		"  TLS record: handshake, 50 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ServerHello, 46 bytes, TLS 1.3, cipher suite TLS_AES_128_GCM_SHA256 "
		"(0x1301)\n"
		"    (TLS 1.3 from here: records are encrypted, and their headers go on saying TLS "
		"1.2 (0x0303), RFC 8446 \xc2\xa7"
		"5.1's legacy_record_version)\n"
		"  TLS record: change cipher spec, 1 byte, TLS 1.2 (0x0303)\n"
		"  TLS record: application data, 40 bytes, TLS 1.2 (0x0303)\n"
		"  TLS record: encrypted handshake message, 33 bytes, TLS 1.2 (0x0303)\n"
		"  TLS record: change cipher spec, 1 byte, TLS 1.2 (0x0303)\n"
		"  TLS record: application data, 17 bytes, TLS 1.2 (0x0303)\n");
}

/* RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hrr[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
				0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
				0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* RFC 8446 §4.1.3: a HelloRetryRequest keeps the handshake in clear. */
static void
test_tls13_hello_retry(void **state)
{
	static struct wr ch, sh, ch2;
	struct step st[3];

	(void)state;
	server_hello(&sh, 0x0304, hrr);
	client_hello(&ch, "a");
	client_hello(&ch2, "b");
	st[0] = (struct step){.dir = DIS_C2S, .p = ch.b, .n = ch.n};
	st[1] = (struct step){.dir = DIS_S2C, .p = sh.b, .n = sh.n};
	st[2] = (struct step){.dir = DIS_C2S, .p = ch2.b, .n = ch2.n};
	check_all_splits(DIS_LAYERS, NULL, st, 3);
	assert_non_null(strstr(whole.buf, "ServerHello, 46 bytes (HelloRetryRequest"));
	assert_non_null(strstr(whole.buf, "ClientHello, 86 bytes, 3 cipher suites, SNI b,"));
}

/*
 * RFC 8446 §D.4 (middlebox compatibility, OpenSSL's default): after a HelloRetryRequest the
 * server sends a ChangeCipherSpec, and the client one before its second ClientHello. In
 * TLS 1.3 these start nothing: the second ClientHello (its SNI) and the ServerHello are in
 * clear, as openssl s_client -groups X25519:P-384 against s_server -groups P-384 shows.
 */
static void
test_tls13_hello_retry_compat_ccs(void **state)
{
	static const uint8_t random[32] = {5, 5, 5};
	static const uint8_t ccs[1] = {1}, sealed[30] = {0x17};
	static struct wr ch, s1, c2, s2, tmp;
	struct step st[4];

	(void)state;
	client_hello(&ch, "a");
	server_hello(&s1, 0x0304, hrr);
	record(&s1, 20, ccs, 1);
	c2.n = 0;
	record(&c2, 20, ccs, 1);
	client_hello(&tmp, "b");
	put(&c2, tmp.b, tmp.n);
	server_hello(&s2, 0x0304, random);
	record(&s2, 22, sealed, sizeof(sealed));
	st[0] = (struct step){.dir = DIS_C2S, .p = ch.b, .n = ch.n};
	st[1] = (struct step){.dir = DIS_S2C, .p = s1.b, .n = s1.n};
	st[2] = (struct step){.dir = DIS_C2S, .p = c2.b, .n = c2.n};
	st[3] = (struct step){.dir = DIS_S2C, .p = s2.b, .n = s2.n};
	check_all_splits(DIS_LAYERS, NULL, st, 4);
	assert_string_equal(
		whole.buf,
		"  TLS record: handshake, 90 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ClientHello, 86 bytes, 3 cipher suites, SNI a, ALPN h2 http/1.1, "
		"offers GREASE TLS 1.3 TLS 1.2\n"
		"  TLS record: handshake, 50 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ServerHello, 46 bytes (HelloRetryRequest: the client must send a new "
		"ClientHello), TLS 1.3, cipher suite TLS_AES_128_GCM_SHA256 (0x1301)\n"
		"  TLS record: change cipher spec, 1 byte, TLS 1.2 (0x0303)\n"
		"  TLS record: change cipher spec, 1 byte, TLS 1.2 (0x0303)\n"
		"  TLS record: handshake, 90 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ClientHello, 86 bytes, 3 cipher suites, SNI b, ALPN h2 http/1.1, "
		"offers GREASE TLS 1.3 TLS 1.2\n"
		"  TLS record: handshake, 50 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ServerHello, 46 bytes, TLS 1.3, cipher suite TLS_AES_128_GCM_SHA256 "
		"(0x1301)\n"
		"    (TLS 1.3 from here: records are encrypted, and their headers go on saying TLS "
		"1.2 (0x0303), RFC 8446 \xc2\xa7"
		"5.1's legacy_record_version)\n"
		"  TLS record: encrypted handshake message, 30 bytes, TLS 1.2 (0x0303)\n");
}

/* An extension: type, then its body. */
static void
extension(struct wr *w, unsigned type, const struct wr *body)
{
	put16(w, type);
	put16(w, (unsigned)body->n);
	put(w, body->b, body->n);
}

/* A hello: its fixed fields in body, then the extensions, as one handshake record. */
static void
hello_record(struct wr *out, unsigned type, struct wr *body, const struct wr *exts)
{
	static struct wr msg;

	put16(body, (unsigned)exts->n);
	put(body, exts->b, exts->n);
	msg.n = 0;
	message(&msg, type, body);
	out->n = 0;
	record(out, 22, msg.b, msg.n);
}

/* A ClientHello as a current Chromium sends it: GREASE, the post-quantum hybrid
 * X25519MLKEM768 (codepoint 0x11ec, a 1,216-byte share) beside X25519. */
static void
client_hello_pq(struct wr *out)
{
	static struct wr ch, exts, e;
	static const uint8_t random[32] = {4, 4, 4};

	ch.n = exts.n = 0;
	put16(&ch, 0x0303);
	put(&ch, random, sizeof(random));
	put8(&ch, 0);
	put16(&ch, 2);
	put16(&ch, 0x1301);
	put8(&ch, 1);
	put8(&ch, 0);
	e.n = 0; /* supported_groups */
	put16(&e, 8);
	put16(&e, 0x2a2a);
	put16(&e, 0x11ec);
	put16(&e, 0x001d);
	put16(&e, 0x0017);
	extension(&exts, 10, &e);
	e.n = 0; /* key_share */
	put16(&e, 4 + 1 + 4 + 1216 + 4 + 32);
	put16(&e, 0x2a2a);
	put16(&e, 1);
	put8(&e, 0);
	put16(&e, 0x11ec);
	put16(&e, 1216);
	for (int i = 0; i < 1216; i++)
		put8(&e, (unsigned)i);
	put16(&e, 0x001d);
	put16(&e, 32);
	for (int i = 0; i < 32; i++)
		put8(&e, 0x20);
	extension(&exts, 51, &e);
	e.n = 0; /* signature_algorithms */
	put16(&e, 8);
	put16(&e, 0x0403);
	put16(&e, 0x0804);
	put16(&e, 0x0401);
	put16(&e, 0x1234);
	extension(&exts, 13, &e);
	e.n = 0; /* server_name, last: Chromium shuffles its extensions */
	put16(&e, 12);
	put8(&e, 0);
	put16(&e, 9);
	put(&e, "localhost", 9);
	extension(&exts, 0, &e);
	hello_record(out, 1, &ch, &exts);
}

/* A ServerHello with a key_share: a group and a key, or (a HelloRetryRequest) the group. */
static void
server_hello_share(struct wr *out, const uint8_t *random, unsigned group, size_t keylen)
{
	static struct wr sh, exts, e;

	sh.n = exts.n = e.n = 0;
	put16(&sh, 0x0303);
	put(&sh, random, 32);
	put8(&sh, 0);
	put16(&sh, 0x1301);
	put8(&sh, 0);
	put16(&e, 0x0304);
	extension(&exts, 43, &e);
	e.n = 0;
	put16(&e, group);
	if (keylen > 0) {
		put16(&e, (unsigned)keylen);
		for (size_t i = 0; i < keylen; i++)
			put8(&e, 9);
	}
	extension(&exts, 51, &e);
	hello_record(out, 2, &sh, &exts);
}

/* The last TLS event's text, as the --flow ladder gets it. */
static char last_event[DIS_LINE_MAX];

static void
keep_event(void *arg, const struct dis_event *ev)
{
	(void)arg;
	if (ev->kind == DIS_EV_TLS)
		snprintf(last_event, sizeof(last_event), "%s (%s), %llu", ev->what, ev->detail,
			 (unsigned long long)ev->size);
}

/* What an eavesdropper reads of the key exchange: the groups offered and their shares, the
 * signature schemes, the group the server chose or asks for. */
static void
test_key_exchange_named(void **state)
{
	static const uint8_t random[32] = {3, 1, 4};
	static struct wr ch, sh, hrr_sh;
	static struct dis_conn d;
	struct step st[2];

	(void)state;
	client_hello_pq(&ch);
	/* The event names the server first whatever the order of the extensions. */
	dis_conn_init(&d, 1, 0, NULL);
	dis_conn_events(&d, keep_event, NULL);
	dis_feed(&d, DIS_C2S, ch.b, ch.n, collect, &whole);
	assert_string_equal(last_event,
			    "ClientHello (SNI localhost, offers X25519MLKEM768 X25519 ...), 1356");
	server_hello_share(&sh, random, 0x001d, 32);
	st[0] = (struct step){DIS_C2S, ch.b, ch.n};
	st[1] = (struct step){DIS_S2C, sh.b, sh.n};
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_string_equal(
		whole.buf,
		"  TLS record: handshake, 1360 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ClientHello, 1356 bytes, 1 cipher suites, SNI localhost\n"
		"      groups: GREASE X25519MLKEM768 X25519 secp256r1\n"
		"      key shares: GREASE (1 byte), X25519MLKEM768 (1216 bytes), X25519 (32 bytes)\n"
		"      signature algorithms: ecdsa_secp256r1_sha256 rsa_pss_rsae_sha256 "
		"rsa_pkcs1_sha256 0x1234\n"
		"  TLS record: handshake, 90 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ServerHello, 86 bytes, TLS 1.3, cipher suite TLS_AES_128_GCM_SHA256 "
		"(0x1301)\n"
		"      key share: X25519 (32 bytes), the group the server chose\n"
		"    (TLS 1.3 from here: records are encrypted, and their headers go on saying TLS "
		"1.2 (0x0303), RFC 8446 \xc2\xa7"
		"5.1's legacy_record_version)\n");
	/* RFC 8446 §4.2.8: a HelloRetryRequest names the group it wants a share for. */
	server_hello_share(&hrr_sh, hrr, 0x0018, 0);
	st[1] = (struct step){DIS_S2C, hrr_sh.b, hrr_sh.n};
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_non_null(strstr(whole.buf, "      key share: none yet; the server asks for "
					  "secp384r1\n"));
}

/* TLS 1.2 (RFC 8422 §5.4): the curve is in the ServerKeyExchange, with the signature. */
static void
test_tls12_server_key_exchange(void **state)
{
	static const uint8_t random[32] = {2, 7};
	static struct wr sh, ske, msgs, s1;
	struct step st[1];

	(void)state;
	server_hello(&sh, 0x0303, random);
	sh.b[5 + 4 + 2 + 32 + 1] = 0xc0; /* suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	sh.b[5 + 4 + 2 + 32 + 2] = 0x2f;
	ske.n = msgs.n = 0;
	put8(&ske, 3);
	put16(&ske, 0x001d);
	put8(&ske, 32);
	for (int i = 0; i < 32; i++)
		put8(&ske, 0x55);
	put16(&ske, 0x0804);
	put16(&ske, 256);
	for (int i = 0; i < 256; i++)
		put8(&ske, 0x66);
	message(&msgs, 12, &ske);
	s1 = sh;
	record(&s1, 22, msgs.b, msgs.n);
	st[0] = (struct step){DIS_S2C, s1.b, s1.n};
	check_all_splits(DIS_LAYERS, NULL, st, 1);
	assert_non_null(strstr(whole.buf,
			       "    handshake: ServerKeyExchange, 296 bytes\n"
			       "      key exchange: ECDHE, X25519 (32-byte public key), signed "
			       "with rsa_pss_rsae_sha256\n"));
}

/* TLS 1.2: several messages in one record, one message across two records, ChangeCipherSpec,
 * then the Finished as "encrypted handshake message", and a clear alert. */
static void
test_tls12_flow(void **state)
{
	static struct wr sh, msgs, body, cert, s1, s2, c1;
	static const uint8_t random[32] = {7};
	static const uint8_t ccs[1] = {1}, fin[40] = {0}, alert[2] = {2, 40};
	struct step st[3];

	(void)state;
	server_hello(&sh, 0x0303, random);
	cert.n = body.n = msgs.n = 0;
	put24(&cert, 2 * (3 + 100));
	for (int i = 0; i < 2; i++) {
		put24(&cert, 100);
		for (int k = 0; k < 100; k++)
			put8(&cert, 0x30);
	}
	message(&msgs, 11, &cert);
	body.n = 0;
	put8(&body, 3);
	put(&body, "abc", 3);
	message(&msgs, 12, &body);
	body.n = 0;
	message(&msgs, 14, &body);
	s1 = sh;
	record(&s1, 22, msgs.b, 150);
	record(&s1, 22, msgs.b + 150, msgs.n - 150);
	record(&s1, 20, ccs, 1);
	record(&s1, 22, fin, sizeof(fin));
	record(&s1, 23, fin, 29);
	c1.n = 0;
	record(&c1, 21, alert, 2);
	s2.n = 0;
	record(&s2, 21, fin, 26);
	st[0] = (struct step){.dir = DIS_S2C, .p = s1.b, .n = s1.n};
	st[1] = (struct step){.dir = DIS_C2S, .p = c1.b, .n = c1.n};
	st[2] = (struct step){.dir = DIS_S2C, .p = s2.b, .n = s2.n};
	check_all_splits(DIS_LAYERS, NULL, st, 3);
	assert_string_equal(
		whole.buf,
		"  TLS record: handshake, 50 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ServerHello, 46 bytes, TLS 1.2, cipher suite TLS_AES_128_GCM_SHA256 "
		"(0x1301)\n"
		"  TLS record: handshake, 150 bytes, TLS 1.2 (0x0303)\n"
		"  TLS record: handshake, 75 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: Certificate, 209 bytes, 2 certificates\n"
		"    handshake: ServerKeyExchange, 4 bytes\n"
		"    handshake: ServerHelloDone, 0 bytes\n"
		"  TLS record: change cipher spec, 1 byte, TLS 1.2 (0x0303)\n"
		"  TLS record: encrypted handshake message, 40 bytes, TLS 1.2 (0x0303)\n"
		"  TLS record: application data, 29 bytes, TLS 1.2 (0x0303)\n"
		"  TLS record: alert, 2 bytes, TLS 1.2 (0x0303)\n"
		"    alert: fatal, handshake_failure (40)\n"
		"  TLS record: encrypted alert, 26 bytes, TLS 1.2 (0x0303)\n");
}

static void
test_tls_not_tls(void **state)
{
	static const uint8_t toolong[] = {0x16, 0x03, 0x01, 0xff, 0xff, 0x01};
	static const uint8_t badtype[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01,
					  0x00, 0x47, 0x45, 0x54, 0x20, 0x2f};
	static const uint8_t hugehs[] = {0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0xff,
					 0xff, 0xff, 1,    2,    3,    4};
	struct step st[] = {{.dir = DIS_C2S, .p = toolong, .n = sizeof(toolong)},
			    {.dir = DIS_S2C, .p = badtype, .n = sizeof(badtype)}};
	struct step st2[] = {{.dir = DIS_C2S, .p = hugehs, .n = sizeof(hugehs)}};

	(void)state;
	check_all_splits(DIS_LAYERS, NULL, st, 2);
	assert_string_equal(
		whole.buf,
		"  not a TLS record header (160301ffff); showing bytes only from here\n"
		"  TLS record: alert, 2 bytes, TLS 1.2 (0x0303)\n"
		"    alert: warning, close_notify (0)\n"
		"  not a TLS record header (474554202f); showing bytes only from here\n");
	/* A 16 MiB handshake message announced in an 8-byte record: counted, never read past. */
	check_all_splits(DIS_LAYERS, NULL, st2, 1);
	assert_string_equal(whole.buf, "  TLS record: handshake, 8 bytes, TLS 1.0 (0x0301)\n");
}

/* ---- decryption with a key log ----------------------------------------------------------- */

static struct transcript tr;
static struct sslkeys tr_keys;

/* tests/vectors/tls/NAME.txt into tr and tr_keys, or skip the test without the vectors. */
static void
load_transcript(const char *name)
{
	if (transcript_load(name, &tr, &tr_keys) != 0)
		skip();
}

/* RFC 8448 §3 decrypted, every message of the trace named with the sizes the RFC gives. */
static void
test_decrypt_rfc8448(void **state)
{
	static const char want[] =
		"  TLS record: handshake, 196 bytes, TLS 1.0 (0x0301)\n"
		"    handshake: ClientHello, 192 bytes, 3 cipher suites, SNI server, offers TLS 1.3\n"
		"      groups: X25519 secp256r1 secp384r1 secp521r1 ffdhe2048 ffdhe3072 ffdhe4096 "
		"ffdhe6144 ffdhe8192\n"
		"      key shares: X25519 (32 bytes)\n"
		"      signature algorithms: ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384 "
		"ecdsa_secp521r1_sha512 ecdsa_sha1 rsa_pss_rsae_sha256 rsa_pss_rsae_sha384 "
		"rsa_pss_rsae_sha512 rsa_pkcs1_sha256 rsa_pkcs1_sha384 rsa_pkcs1_sha512 rsa_pkcs1_sha1 "
		"dsa_sha256 dsa_sha384 dsa_sha512 dsa_sha1\n"
		"  TLS record: handshake, 90 bytes, TLS 1.2 (0x0303)\n"
		"    handshake: ServerHello, 86 bytes, TLS 1.3, cipher suite TLS_AES_128_GCM_SHA256 "
		"(0x1301)\n"
		"      key share: X25519 (32 bytes), the group the server chose\n"
		"    (TLS 1.3 from here: records are encrypted, and their headers go on saying TLS "
		"1.2 (0x0303), RFC 8446 \xc2\xa7"
		"5.1's legacy_record_version)\n"
		"  TLS record: application data, 674 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] handshake, 657 bytes (server handshake key, record 0)\n"
		"    [decrypted] handshake: EncryptedExtensions, 36 bytes, SNI acknowledged\n"
		"    [decrypted] handshake: Certificate, 441 bytes, 1 certificate\n"
		"    [decrypted] handshake: CertificateVerify, 132 bytes, rsa_pss_rsae_sha256, "
		"128-byte signature\n"
		"    [decrypted] handshake: Finished, 32 bytes\n"
		"  TLS record: application data, 53 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] handshake, 36 bytes (client handshake key, record 0)\n"
		"    [decrypted] handshake: Finished, 32 bytes\n"
		"  TLS record: application data, 222 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] handshake, 205 bytes (server application key, record 0)\n"
		"    [decrypted] handshake: NewSessionTicket, 201 bytes, lifetime 30 s, 178-byte "
		"ticket\n"
		"  TLS record: application data, 67 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] application data, 50 bytes (client application key, record 0)\n"
		"  TLS record: application data, 67 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] application data, 50 bytes (server application key, record 1)\n"
		"  TLS record: application data, 19 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] alert, 2 bytes (client application key, record 1)\n"
		"    [decrypted] alert: warning, close_notify (0)\n"
		"  TLS record: application data, 19 bytes, TLS 1.2 (0x0303)\n"
		"    [decrypted] alert, 2 bytes (server application key, record 2)\n"
		"    [decrypted] alert: warning, close_notify (0)\n";

	(void)state;
	load_transcript("rfc8448-1rtt");
	play_keys = &tr_keys;
	check_all_splits(DIS_LAYERS, NULL, tr.st, tr.n);
	play_keys = NULL;
	assert_string_equal(whole.buf, want);
	/* Without the key log: the same records, nothing inside them. */
	check_all_splits(DIS_LAYERS, NULL, tr.st, tr.n);
	assert_null(strstr(whole.buf, "[decrypted]"));
	assert_non_null(strstr(whole.buf, "  TLS record: application data, 674 bytes, TLS 1.2 "
					  "(0x0303)\n  TLS record: application data, 53 bytes"));
}

/* Real peers' connections (OpenSSL's server; Python's and OpenSSL's clients wrote the key
 * logs): every suite the tap decrypts, both versions, and a KeyUpdate. */
static void
test_decrypt_recorded(void **state)
{
	static const char *const names[] = {"tls13-aes256", "tls13-chacha", "tls12-aes128",
					    "tls12-aes256", "tls12-chacha", "tls13-keyupdate"};
	static const char *const suites[] = {
		"TLS_AES_256_GCM_SHA384 (0x1302)",
		"TLS_CHACHA20_POLY1305_SHA256 (0x1303)",
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xc02b)",
		"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xc02c)",
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xcca9)",
		"TLS_AES_128_GCM_SHA256 (0x1301)"};
	static struct dis_grep g;

	(void)state;
	assert_int_equal(dis_grep_init(&g, "fluffy tail", 11), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int tls13 = strncmp(names[i], "tls13", 5) == 0;

		load_transcript(names[i]);
		play_keys = &tr_keys;
		check_all_splits(DIS_LAYERS, &g, tr.st, tr.n);
		play_keys = NULL;
		assert_non_null(strstr(whole.buf, suites[i]));
		assert_non_null(strstr(whole.buf,
				       "  [decrypted] HTTP request: GET /secret.txt HTTP/1.0\n"));
		assert_non_null(
			strstr(whole.buf, "  [decrypted] HTTP body text: \"fluffy tail\"\n"));
		assert_non_null(strstr(whole.buf, "conn 1: 'fluffy tail' seen only after "
						  "decryption (server -> client)\n"));
		assert_non_null(
			strstr(whole.buf, "[decrypted] alert: warning, close_notify (0)\n"));
		assert_non_null(strstr(whole.buf, "    [decrypted] handshake: Finished, "));
		assert_null(strstr(whole.buf, "not decrypted"));
		if (tls13) {
			const char *cert =
				strstr(whole.buf, "    [decrypted] handshake: Certificate, ");
			assert_non_null(cert);
			assert_true(strncmp(strchr(cert, '\n') - 15, ", 1 certificate", 15) == 0);
		} else
			assert_non_null(strstr(whole.buf, "(server write key, record 0)\n"));
		/* Without the key log the secret is nowhere. */
		check_all_splits(DIS_LAYERS, &g, tr.st, tr.n);
		assert_null(strstr(whole.buf, "[decrypted]"));
		assert_non_null(strstr(whole.buf, "conn 1: 'fluffy tail' not seen\n"));
	}
	/* RFC 8446 §4.6.3: the client's records after its KeyUpdate are under the next key,
	 * which the tap derives ("traffic upd"): OpenSSL's own _N line is not read. */
	load_transcript("tls13-keyupdate");
	play_keys = &tr_keys;
	check_all_splits(DIS_LAYERS, &g, tr.st, tr.n);
	play_keys = NULL;
	assert_non_null(strstr(whole.buf,
			       "    [decrypted] handshake: KeyUpdate, 1 byte, "
			       "update_not_requested\n"
			       "  TLS record: application data, 45 bytes, TLS 1.2 (0x0303)\n"
			       "    [decrypted] application data, 28 bytes (client application "
			       "key after a KeyUpdate, record 0)\n"));
}

/* A key log whose server handshake secret is wrong: those records are shown sealed with the
 * reason, and the application keys still open what comes after the Finished. */
static void
test_decrypt_wrong_secret(void **state)
{
	static char bad[] = "SERVER_HANDSHAKE_TRAFFIC_SECRET "
			    "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
			    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad39\n";

	(void)state;
	load_transcript("rfc8448-1rtt");
	sslkeys_feed(&tr_keys, bad, strlen(bad)); /* the newest line wins */
	play_keys = &tr_keys;
	check_all_splits(DIS_LAYERS, NULL, tr.st, tr.n);
	play_keys = NULL;
	assert_non_null(strstr(
		whole.buf, "  TLS record: application data, 674 bytes, TLS 1.2 (0x0303)\n"
			   "    not decrypted: the key log's SERVER_HANDSHAKE_TRAFFIC_SECRET for "
			   "client random cb34ecb1... does not open this record\n"
			   "  TLS record: application data, 53 bytes"));
	assert_null(strstr(whole.buf, "EncryptedExtensions"));
	assert_non_null(strstr(whole.buf, "    [decrypted] handshake, 205 bytes (server "
					  "application key, record 0)\n"));
	assert_non_null(strstr(whole.buf, "conn 1: 1 server -> client record not decrypted\n"));
}

/* Keys that a client writes only after the tap has relayed the records they open. */
static int late_keys_on;

static size_t
late_keys(void *arg, enum sslkeys_label label, const uint8_t random[SSLKEYS_RANDOM_LEN],
	  uint8_t out[SSLKEYS_SECRET_MAX])
{
	return late_keys_on ? sslkeys_find(arg, label, random, out) : 0;
}

static void
feed_with(struct sink *s, int keys_when, size_t nst)
{
	static struct dis_conn d;

	dis_conn_init(&d, 1, DIS_LAYERS, NULL);
	if (play_crypt == NULL)
		play_crypt = malloc(dis_crypt_size());
	assert_non_null(play_crypt);
	dis_conn_decrypt(&d, play_crypt, late_keys, &tr_keys);
	late_keys_on = 0;
	for (size_t i = 0; i < nst; i++) {
		if ((int)i == keys_when)
			late_keys_on = 1;
		dis_feed(&d, tr.st[i].dir, guarded(tr.st[i].p, tr.st[i].n), tr.st[i].n, collect, s);
	}
	dis_finish(&d, collect, s);
}

static void
test_decrypt_keys_late(void **state)
{
	(void)state;
	load_transcript("rfc8448-1rtt");
	/* The keys appear in the log once the client has read the server's flight, before it
	 * answers (step 2): the flight is kept, then opened when the client's bytes come. */
	sink_reset(&whole, 1);
	feed_with(&whole, 2, tr.n);
	assert_non_null(
		strstr(whole.buf,
		       "  TLS record: application data, 674 bytes, TLS 1.2 (0x0303)\n"
		       "conn 1: server -> client, records kept until the key log had their "
		       "keys:\n"
		       "    [decrypted] handshake, 657 bytes (server handshake key, record 0)\n"));
	assert_non_null(strstr(whole.buf, "    [decrypted] handshake: Finished, 32 bytes\n"
					  "conn 1: client -> server, 58 bytes\n"));
	assert_null(strstr(whole.buf, "not decrypted"));
	/* Never: each direction says once why, then how many records stayed sealed. */
	sink_reset(&whole, 1);
	feed_with(&whole, -1, tr.n);
	assert_non_null(strstr(whole.buf, "    not decrypted: the key log has no "
					  "SERVER_HANDSHAKE_TRAFFIC_SECRET for client random "
					  "cb34ecb1...\n"));
	assert_non_null(strstr(whole.buf, "conn 1: 3 client -> server records not decrypted\n"));
	assert_non_null(strstr(whole.buf, "conn 1: 4 server -> client records not decrypted\n"));
	assert_null(strstr(whole.buf, "[decrypted]"));
	/* wolfSSL (squirrel-client) logs TLS 1.2's master secret once its handshake is done,
	 * after its own Finished has passed and the server's too: both wait, and open when the
	 * client sends its request (step 4). */
	load_transcript("tls12-aes128");
	sink_reset(&whole, 1);
	feed_with(&whole, 4, tr.n);
	assert_null(strstr(whole.buf, "not decrypted"));
	assert_non_null(strstr(whole.buf,
			       "conn 1: server -> client, records kept until the key log "
			       "had their keys:\n"
			       "    [decrypted] handshake, 16 bytes (server write key, "
			       "record 0)\n"));
	assert_non_null(strstr(whole.buf, "    [decrypted] handshake, 16 bytes (client write key, "
					  "record 0)\n"));
	assert_non_null(strstr(whole.buf, "  [decrypted] HTTP body text: \"fluffy tail\"\n"));
}

/* Records waiting for keys that never come are given up after the same turns of the
 * conversation however the bytes are cut: a wait counted in reads made the fuzzer's whole and
 * split runs differ. */
static void
test_decrypt_wait_counts_turns(void **state)
{
	static const char *const names[] = {"tls12-aes128", "rfc8448-1rtt"};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		load_transcript(names[i]);
		late_keys_on = 0;
		play_keys = &tr_keys;
		play_find = late_keys;
		check_all_splits(DIS_LAYERS, NULL, tr.st, tr.n);
		play_find = transcript_keys;
		play_keys = NULL;
		assert_non_null(strstr(whole.buf, "records not decrypted\n"));
	}
}

/* Records held for keys that never come fill the hold: the oldest are given up, sealed, and
 * nothing is held past CRYPT_HOLD (24 KiB). */
static void
test_decrypt_hold_is_bounded(void **state)
{
	static uint8_t big[3 * (5 + 10000)];
	static struct dis_conn d;
	static struct wr ch, sh;
	struct step st[3];

	(void)state;
	client_hello(&ch, "localhost");
	server_hello(&sh, 0x0304, (const uint8_t[32]){1});
	for (int i = 0; i < 3; i++) {
		uint8_t *r = big + i * (5 + 10000);
		r[0] = 23;
		r[1] = 3;
		r[2] = 3;
		r[3] = 10000 >> 8;
		r[4] = 10000 & 0xff;
		memset(r + 5, 0x40 + i, 10000);
	}
	st[0] = (struct step){DIS_C2S, ch.b, ch.n};
	st[1] = (struct step){DIS_S2C, sh.b, sh.n};
	st[2] = (struct step){DIS_S2C, big, sizeof(big)};
	sslkeys_init(&tr_keys);
	dis_conn_init(&d, 1, DIS_LAYERS, NULL);
	dis_conn_decrypt(&d, play_crypt, late_keys, &tr_keys);
	late_keys_on = 1;
	sink_reset(&whole, 1);
	for (int i = 0; i < 3; i++)
		dis_feed(&d, st[i].dir, guarded(st[i].p, st[i].n), st[i].n, collect, &whole);
	/* The third record needed room: the first was given up at once. */
	assert_non_null(strstr(whole.buf, "  TLS record: application data, 10000 bytes, TLS 1.2 "
					  "(0x0303)\n    not decrypted: the key log has no "
					  "SERVER_HANDSHAKE_TRAFFIC_SECRET for client random "
					  "01020300...\n"));
	dis_finish(&d, collect, &whole);
	assert_non_null(strstr(whole.buf, "conn 1: 3 server -> client records not decrypted\n"));
}

/* With a key log, every mutation of the sealed records is refused by the AEAD: shown sealed,
 * never read. */
static void
test_decrypt_tampered(void **state)
{
	static uint8_t buf[2048];
	size_t flight;

	(void)state;
	load_transcript("rfc8448-1rtt");
	flight = tr.st[1].n;
	assert_true(flight <= sizeof(buf));
	memcpy(buf, tr.st[1].p, flight);
	tr.st[1].p = buf;
	play_keys = &tr_keys;
	/* Past the ServerHello (95 bytes): the sealed record's header, body and tag. */
	for (size_t i = 95; i < flight; i += 7) {
		buf[i] ^= 0x01;
		sink_reset(&whole, 0);
		play(&whole, DIS_LAYERS, NULL, tr.st, 2, SPLIT_WHOLE);
		assert_null(strstr(whole.buf, "EncryptedExtensions"));
		buf[i] ^= 0x01;
	}
	play_keys = NULL;
}

/* ---- --grep ------------------------------------------------------------------------------ */

static void
test_grep_split_everywhere(void **state)
{
	static struct dis_grep g;
	static const char res[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfluffy tail";
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	struct step st[] = {STEP(DIS_C2S, req), STEP(DIS_S2C, res)};

	(void)state;
	assert_int_equal(dis_grep_init(&g, "fluffy tail", 11), 0);
	check_all_splits(0, &g, st, 2);
	assert_string_equal(whole.buf, "conn 1: 'fluffy tail' seen in clear (server -> client)\n");
	check_all_splits(DIS_LAYERS, &g, st, 2);
	assert_non_null(
		strstr(whole.buf, "conn 1: 'fluffy tail' seen in clear (server -> client)\n"));

	st[0] = (struct step)STEP(DIS_C2S,
				  "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nfluffy tail");
	check_all_splits(0, &g, st, 2);
	assert_string_equal(whole.buf, "conn 1: 'fluffy tail' seen in clear (both directions)\n");

	st[1] = (struct step)STEP(DIS_S2C, "fluffy-tail fluffy tai");
	check_all_splits(0, &g, st, 2);
	assert_string_equal(whole.buf, "conn 1: 'fluffy tail' seen in clear (client -> server)\n");

	st[0] = (struct step)STEP(DIS_C2S, "fluffy  tail");
	check_all_splits(0, &g, st, 2);
	assert_string_equal(whole.buf, "conn 1: 'fluffy tail' not seen\n");
}

/* Overlapping prefixes are where a naive matcher restarts too late (KMP's reason). */
static void
test_grep_overlaps(void **state)
{
	static struct dis_grep g;
	static char big[DIS_GREP_MAX + 1];
	struct step st[] = {STEP(DIS_S2C, "aaabaabaaabaabaabaaabaaab")};
	static struct dis_conn d;

	(void)state;
	assert_int_equal(dis_grep_init(&g, "aabaabaaab", 10), 0);
	check_all_splits(0, &g, st, 1);
	assert_string_equal(whole.buf, "conn 1: 'aabaabaaab' seen in clear (server -> client)\n");
	dis_conn_init(&d, 5, 0, &g);
	dis_feed(&d, DIS_C2S, (const uint8_t *)"aabaabaab", 9, collect, &whole);
	assert_int_equal(dis_grep_seen(&d, DIS_C2S), 0);
	dis_feed(&d, DIS_C2S, (const uint8_t *)"aab", 3, collect, &whole);
	assert_int_equal(dis_grep_seen(&d, DIS_C2S), 0);
	dis_feed(&d, DIS_C2S, (const uint8_t *)"aabaaab", 7, collect, &whole);
	assert_int_equal(dis_grep_seen(&d, DIS_C2S), 1);
	assert_int_equal(dis_grep_seen(&d, DIS_S2C), 0);

	memset(big, 'x', sizeof(big));
	assert_int_equal(dis_grep_init(&g, big, 0), -1);
	assert_int_equal(dis_grep_init(&g, big, DIS_GREP_MAX + 1), -1);
	assert_int_equal(dis_grep_init(&g, big, DIS_GREP_MAX), 0);
}

/* ---- never crash ------------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void
discard(void *arg, const char *line)
{
	(void)arg;
	assert_true(strlen(line) < DIS_LINE_MAX);
}

/* Every byte of a real ClientHello changed to a few values, and random streams that start
 * like each protocol, fed in random pieces: lengths on the wire must never be trusted. */
static void
test_mutations_never_crash(void **state)
{
	static const char *const starts[] = {
		"",
		"\x16\x03\x01",
		"\x16\x03\x03\x00\x30\x02",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
		"gAAAAA"};
	static const uint8_t values[] = {0x00, 0x80, 0xff};
	static uint8_t buf[4096];
	static struct dis_conn d;
	static struct dis_grep g;

	(void)state;
	assert_int_equal(dis_grep_init(&g, "\x16\x03", 2), 0);
	for (size_t i = 0; i < sizeof(openssl_client_hello); i++)
		for (size_t v = 0; v < sizeof(values); v++) {
			memcpy(buf, openssl_client_hello, sizeof(openssl_client_hello));
			buf[i] = values[v];
			dis_conn_init(&d, 1, DIS_LAYERS, &g);
			dis_feed(&d, DIS_C2S, guarded(buf, sizeof(openssl_client_hello)),
				 sizeof(openssl_client_hello), discard, NULL);
			dis_feed(&d, DIS_S2C, guarded(buf, sizeof(openssl_client_hello)),
				 sizeof(openssl_client_hello), discard, NULL);
			dis_finish(&d, discard, NULL);
			dis_grep_report(&d, discard, NULL);
		}
	for (int round = 0; round < 1200; round++) {
		const char *start = starts[round % 6];
		size_t n = strlen(start), len = 1 + next_rand() % 1024, at = 0;

		memcpy(buf, start, n < len ? n : len);
		for (size_t k = n; k < len; k++)
			buf[k] = round % 3 == 0 ? (uint8_t) "gAAAAA0123-_=\r\n "[next_rand() % 16]
						: (uint8_t)next_rand();
		dis_conn_init(&d, (unsigned long)round, round % 4 == 0 ? 0 : DIS_LAYERS | DIS_HEX,
			      &g);
		while (at < len) {
			size_t piece = 1 + next_rand() % (len - at);
			dis_feed(&d, (enum dis_dir)(round & 1), guarded(buf + at, piece), piece,
				 discard, NULL);
			at += piece;
		}
		dis_finish(&d, discard, NULL);
		dis_grep_report(&d, discard, NULL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hexdump_layout),
		cmocka_unit_test(test_text_is_ascii_with_dots),
		cmocka_unit_test(test_http_exchange),
		cmocka_unit_test(test_http_brief),
		cmocka_unit_test(test_http_head_response_has_no_body),
		cmocka_unit_test(test_http_body_until_close),
		cmocka_unit_test(test_http_not_http),
		cmocka_unit_test(test_http_long_line_cut),
		cmocka_unit_test(test_fernet_vector_is_the_spec_one),
		cmocka_unit_test(test_fernet_in_body),
		cmocka_unit_test(test_fernet_chunked),
		cmocka_unit_test(test_fernet_raw_at_close),
		cmocka_unit_test(test_fernet_not_tokens),
		cmocka_unit_test(test_tls_openssl_client_hello),
		cmocka_unit_test(test_tls13_handshake),
		cmocka_unit_test(test_tls13_hello_retry),
		cmocka_unit_test(test_tls13_hello_retry_compat_ccs),
		cmocka_unit_test(test_key_exchange_named),
		cmocka_unit_test(test_tls12_server_key_exchange),
		cmocka_unit_test(test_tls12_flow),
		cmocka_unit_test(test_tls_not_tls),
		cmocka_unit_test(test_decrypt_rfc8448),
		cmocka_unit_test(test_decrypt_recorded),
		cmocka_unit_test(test_decrypt_wrong_secret),
		cmocka_unit_test(test_decrypt_keys_late),
		cmocka_unit_test(test_decrypt_wait_counts_turns),
		cmocka_unit_test(test_decrypt_hold_is_bounded),
		cmocka_unit_test(test_decrypt_tampered),
		cmocka_unit_test(test_grep_split_everywhere),
		cmocka_unit_test(test_grep_overlaps),
		cmocka_unit_test(test_mutations_never_crash),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(play_crypt);
	return rc;
}
