/*
 * test_tap_flow: squirrel-tap --flow, the ladder drawn from the dissector's events: what each
 * stage of the tutorial looks like, line for line, and that every line fits FLOW_WIDTH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dissect.h"
#include "flow.h"
#include "sslkeys.h"
#include "transcript.h"

static char out[1 << 16];
static size_t out_len;
static unsigned out_lines;

static void
collect(void *arg, const char *line)
{
	size_t n = strlen(line);

	(void)arg;
	assert_true(n <= FLOW_WIDTH);
	assert_true(out_len + n + 2 < sizeof(out));
	memcpy(out + out_len, line, n);
	out[out_len + n] = '\n';
	out_len += n + 1;
	out[out_len] = '\0';
	out_lines++;
}

static void
reset(void)
{
	out_len = 0;
	out_lines = 0;
	out[0] = '\0';
}

static struct flow_view view = {collect, NULL, 0};
static struct dis_crypt *crypt_mem;

/* One connection through the dissector (its events into a ladder), as the tap's hooks do. */
static void
draw(const struct step *st, size_t n, struct sslkeys *keys, const struct dis_grep *g)
{
	static struct dis_conn d;
	static struct flow f;
	uint64_t bytes[2] = {0, 0};

	dis_conn_init(&d, 1, 0, g);
	if (keys != NULL) {
		if (crypt_mem == NULL)
			crypt_mem = malloc(dis_crypt_size());
		assert_non_null(crypt_mem);
		dis_conn_decrypt(&d, crypt_mem, transcript_keys, keys);
	}
	view.last = 0;
	flow_open(&f, &view, 1, "127.0.0.1:40312", "127.0.0.1:5683");
	dis_conn_events(&d, flow_event, &f);
	for (size_t i = 0; i < n; i++) {
		dis_feed(&d, st[i].dir, st[i].p, st[i].n, collect, NULL);
		bytes[st[i].dir] += st[i].n;
	}
	dis_finish(&d, collect, NULL);
	flow_close(&f, &d, "server closed first", bytes);
	dis_grep_report(&d, collect, NULL);
}

/* The tutorial's secret as the --grep text, and a fresh output. */
static const struct dis_grep *
secret_grep(void)
{
	static struct dis_grep g;

	assert_int_equal(dis_grep_init(&g, "fluffy tail", 11), 0);
	reset();
	return &g;
}

#define STEP(dir, lit)                                                                             \
	{                                                                                          \
		dir, lit, sizeof(lit) - 1                                                          \
	}

/* Stage 1: the secret is on an arrow, and the closing line says so. */
static void
test_flow_plain(void **state)
{
	struct step st[] = {
		STEP(DIS_C2S, "GET / HTTP/1.1\r\nHost: 127.0.0.1:5684\r\n\r\n"),
		STEP(DIS_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
			      "fluffy tail"),
	};

	(void)state;
	draw(st, 2, NULL, secret_grep());
	assert_string_equal(
		out,
		"conn 1: client 127.0.0.1:40312                           server 127.0.0.1:5683\n"
		"|-- GET / ------------------------------------------------------------------>|\n"
		"|<-------------------------------------------- 200 OK, 11 B: \"fluffy tail\" --|\n"
		"conn 1: closed, server closed first (40 B ->, 69 B <-)\n"
		"conn 1: an eavesdropper learned the secret: it crossed in clear\n"
		"conn 1: 'fluffy tail' seen in clear (server -> client)\n");
}

/* Stage 2: a token crosses, its message does not. */
static void
test_flow_fernet(void **state)
{
	struct step st[] = {
		STEP(DIS_C2S, "GET / HTTP/1.1\r\n\r\n"),
		STEP(DIS_S2C,
		     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
		     "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7J"
		     "cbmrR64jVmpU4IwqDA=="),
	};

	(void)state;
	draw(st, 2, NULL, secret_grep());
	assert_string_equal(
		out,
		"conn 1: client 127.0.0.1:40312                           server 127.0.0.1:5683\n"
		"|-- GET / ------------------------------------------------------------------>|\n"
		"|<- 200 OK, 100 B: \"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM... --|\n"
		"conn 1: closed, server closed first (18 B ->, 140 B <-)\n"
		"conn 1: an eavesdropper learned a Fernet token, not the secret inside it\n"
		"conn 1: 'fluffy tail' not seen\n");
}

/* Stage 4 without keys: the hellos named, the rest runs of sealed records with their sizes,
 * at most 20 lines, the secret nowhere. */
static void
test_flow_tls_sealed(void **state)
{
	static struct transcript t;
	static struct sslkeys k;

	(void)state;
	if (transcript_load("tls13-aes256", &t, &k) != 0)
		skip();
	draw(t.st, t.n, NULL, secret_grep());
	assert_true(out_lines <= 20);
	assert_null(strstr(out, "fluffy tail\""));
	assert_string_equal(
		out,
		"conn 1: client 127.0.0.1:40312                           server 127.0.0.1:5683\n"
		"|-- ClientHello (SNI localhost, offers X25519 secp256r1 ...), 508 B -------->|\n"
		"|<----------- ServerHello (TLS 1.3, TLS_AES_256_GCM_SHA384, X25519), 118 B --|\n"
		"|<------------------------------ ChangeCipherSpec (dummy, for middleboxes) --|\n"
		"|<------------------------------------------- [encrypted] 4 records, 644 B --|\n"
		"|-- ChangeCipherSpec (dummy, for middleboxes) ------------------------------>|\n"
		"|-- [encrypted] 74 B ------------------------------------------------------->|\n"
		"|<------------------------------------------------------ [encrypted] 255 B --|\n"
		"|-- [encrypted] 50 B ------------------------------------------------------->|\n"
		"|<------------------------------------------- [encrypted] 2 records, 102 B --|\n"
		"conn 1: closed, server closed first (647 B ->, 1134 B <-)\n"
		"conn 1: in clear: SNI localhost, TLS 1.3, X25519\n"
		"conn 1: an eavesdropper learned names and sizes only\n"
		"conn 1: 'fluffy tail' not seen\n");
}

/* With the key log: every message named where it crossed, marked, the secret on its arrow. */
static void
test_flow_tls_decrypted(void **state)
{
	static struct transcript t;
	static struct sslkeys k;
	static struct dis_grep g;

	(void)state;
	if (transcript_load("rfc8448-1rtt", &t, &k) != 0)
		skip();
	assert_int_equal(dis_grep_init(&g, "\x01\x02\x03", 3), 0);
	reset();
	draw(t.st, t.n, &k, &g);
	assert_string_equal(
		out,
		"conn 1: client 127.0.0.1:40312                           server 127.0.0.1:5683\n"
		"|-- ClientHello (SNI server, offers X25519 secp256r1 ...), 192 B ----------->|\n"
		"|<------------ ServerHello (TLS 1.3, TLS_AES_128_GCM_SHA256, X25519), 86 B --|\n"
		"|<---------------------------------- [decrypted] EncryptedExtensions, 36 B --|\n"
		"|<------------------------- [decrypted] Certificate (1 certificate), 441 B --|\n"
		"|<------------- [decrypted] CertificateVerify (rsa_pss_rsae_sha256), 132 B --|\n"
		"|<--------------------------------------------- [decrypted] Finished, 32 B --|\n"
		"|-- [decrypted] Finished, 32 B --------------------------------------------->|\n"
		"|<-------------------- [decrypted] NewSessionTicket (lifetime 30 s), 201 B --|\n"
		"|-- [decrypted] 50 B of data ----------------------------------------------->|\n"
		"|<----------------------------------------------- [decrypted] 50 B of data --|\n"
		"|-- [decrypted] Alert (warning, close_notify) ------------------------------>|\n"
		"|<------------------------------ [decrypted] Alert (warning, close_notify) --|\n"
		"conn 1: closed, server closed first (355 B ->, 1097 B <-)\n"
		"conn 1: in clear: SNI server, TLS 1.3, X25519\n"
		"conn 1: an eavesdropper learned names and sizes only\n"
		"conn 1: the key log opened 7 records\n"
		"conn 1: '...' seen only after decryption (both directions)\n");
}

/* Lines of two connections interleaved say whose they are; a long text is cut to fit. */
static void
test_flow_interleaved_and_cut(void **state)
{
	static char longreq[600];
	static struct dis_conn d1, d2;
	static struct flow f1, f2;
	const uint64_t bytes[2] = {1, 2};
	int n = snprintf(longreq, sizeof(longreq), "GET /%0300d HTTP/1.1\r\n\r\n", 7);

	(void)state;
	reset();
	view.last = 0;
	dis_conn_init(&d1, 1, 0, NULL);
	dis_conn_init(&d2, 2, 0, NULL);
	flow_open(&f1, &view, 1, "[::1]:40312", "[::1]:5683");
	dis_conn_events(&d1, flow_event, &f1);
	flow_open(&f2, &view, 2, "[::1]:40313", "[::1]:5683");
	dis_conn_events(&d2, flow_event, &f2);
	dis_feed(&d1, DIS_C2S, (const uint8_t *)longreq, (size_t)n, collect, NULL);
	dis_feed(&d2, DIS_C2S, (const uint8_t *)"\x01\x02", 2, collect, NULL);
	dis_feed(&d2, DIS_C2S, (const uint8_t *)"\x03", 1, collect, NULL);
	dis_finish(&d1, collect, NULL);
	dis_finish(&d2, collect, NULL);
	flow_close(&f2, &d2, "client closed first", bytes);
	flow_close(&f1, &d1, "client closed first", bytes);
	assert_string_equal(
		out,
		"conn 1: client [::1]:40312                                   server [::1]:5683\n"
		"conn 2: client [::1]:40313                                   server [::1]:5683\n"
		"conn 1:\n"
		"|-- GET /00000000000000000000000000000000000000000000000000000000000000... ->|\n"
		"conn 2:\n"
		"|-- 3 B of data ------------------------------------------------------------>|\n"
		"conn 2: closed, client closed first (1 B ->, 2 B <-)\n"
		"conn 2: an eavesdropper learned every byte (no protocol the tap knows)\n"
		"conn 1:\n"
		"conn 1: closed, client closed first (1 B ->, 2 B <-)\n"
		"conn 1: an eavesdropper learned everything: the HTTP crossed in clear\n");
}

/* The events say the same whatever the chunks: the ladder of a transcript fed byte by byte
 * is the ladder of it fed whole (runs of unknown bytes are merged either way). */
static void
test_flow_same_whatever_the_split(void **state)
{
	static struct transcript t;
	static struct sslkeys k;
	static struct step one[TRANSCRIPT_BYTES];
	static char whole[sizeof(out)];
	size_t m = 0;

	(void)state;
	if (transcript_load("tls12-chacha", &t, &k) != 0)
		skip();
	reset();
	draw(t.st, t.n, &k, NULL);
	memcpy(whole, out, out_len + 1);
	for (size_t i = 0; i < t.n; i++)
		for (size_t j = 0; j < t.st[i].n; j++)
			one[m++] = (struct step){t.st[i].dir, (const uint8_t *)t.st[i].p + j, 1};
	reset();
	draw(one, m, &k, NULL);
	assert_string_equal(out, whole);
	assert_non_null(strstr(whole, "[decrypted] 200 ok, 11 B: \"fluffy tail\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_plain),
		cmocka_unit_test(test_flow_fernet),
		cmocka_unit_test(test_flow_tls_sealed),
		cmocka_unit_test(test_flow_tls_decrypted),
		cmocka_unit_test(test_flow_interleaved_and_cut),
		cmocka_unit_test(test_flow_same_whatever_the_split),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(crypt_mem);
	return rc;
}
