/*
 * The invariants the fuzz harnesses of tests/fuzz check, pinned here on the inputs that once
 * broke them, so that `make test` guards them without a fuzzer. Each test names the harness,
 * the reproducer under tests/fuzz/regress/, and the rule it holds the code to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/options.h>

#include "fernet.h"
#include "http.h"
#include "pki.h"
#include "pki_int.h"

static int
inside(const void *p, size_t n, const void *base, size_t len)
{
	const char *a = p, *b = base;

	return a >= b && n <= len && (size_t)(a - b) <= len - n;
}

/*
 * fuzz_response, tests/fuzz/regress/response/reason-after-move: the contract of
 * http_parse_response (common/http.h) lets the buffer move between calls for one message, and
 * views are filled in when the parser completes. So res->reason points into the buffer of the
 * call that completed the head, not of the call that read the status line (freed, in a
 * caller that reallocates).
 */
static void
test_response_reason_moved(void **state)
{
	static const char first[] = "HTTP/1.1 200 OK\r\n";
	static const char whole[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct http_response res;
	char *a = malloc(sizeof(whole)), *b = malloc(sizeof(whole));
	int r;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	http_response_init(&res);
	memcpy(a, first, sizeof(first) - 1);
	assert_int_equal(http_parse_response(a, sizeof(first) - 1, 0, &res), HTTP_PARTIAL);
	/* The rest arrives; the caller moved its bytes to a bigger buffer and reused the old. */
	memcpy(b, whole, sizeof(whole) - 1);
	memset(a, 'X', sizeof(whole));
	r = http_parse_response(b, sizeof(whole) - 1, 0, &res);
	assert_int_equal(r, (int)(sizeof(whole) - 1));
	assert_int_equal(res.status, 200);
	assert_true(inside(res.reason, res.reason_len, b, (size_t)r));
	assert_int_equal(res.reason_len, 2);
	assert_memory_equal(res.reason, "OK", 2);
	free(a);
	free(b);
}

/* Leave a recognisable pattern where the next call's locals will live. */
static void __attribute__((noinline)) dirty_stack(void)
{
	volatile unsigned char junk[16384];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0x41;
}

/*
 * fuzz_pki, tests/fuzz/regress/pki/spki-param-uninitialised.der: pki_spki_parse
 * (pki/pki_key.c) on an AlgorithmIdentifier whose second OID tag has a bad length. s->param
 * must be a view inside the input or empty, never the garbage of an uninitialised local,
 * which pki_spki_summary would read (pki_describe prints it as the curve name; ASan reports
 * stack-use-after-scope in pki_der_oid_text).
 */
static void
test_spki_param_uninitialised(void **state)
{
	/* SEQUENCE { SEQUENCE { OID id-ecPublicKey, 06 f8 (a bad length) }, BIT STRING } */
	static const unsigned char spki[] = {
		0x30, 0x15, 0x30, 0x0b, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
		0x01, 0x06, 0xf8, 0x03, 0x06, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04,
	};
	struct pki_der all = {.p = spki, .len = sizeof(spki)};
	struct pki_spki s;
	int rc;

	(void)state;
	dirty_stack();
	rc = pki_spki_parse(&all, &s);
	/* Refusing the key is right; accepting it with an empty or in-bounds parameter too. */
	if (rc == 0)
		assert_true(s.param.len == 0 || inside(s.param.p, s.param.len, spki, sizeof(spki)));
}

/*
 * fuzz_pki: pki_detect (pki/pki_show.c) and the legacy-encryption test of pki_key_decode /
 * pki_key_is_encrypted (is_legacy_encrypted, pki/pki_key.c) look for "Proc-Type: 4,ENCRYPTED"
 * only in a PEM block's header lines, where it belongs. A DER certificate or CSR whose subject
 * (or key bytes) hold that text is what it is, not an encrypted private key for which
 * `squirrel-pki show` would ask a password.
 */
static void
test_detect_proc_type_in_der(void **state)
{
	static char pem[PKI_PEM_MAX], csrpem[PKI_PEM_MAX];
	static unsigned char key[PKI_DER_MAX], der[PKI_DER_MAX], out[PKI_DER_MAX];
	struct pki_name name = {.country = "US", .cn = "Proc-Type: 4,ENCRYPTED"};
	const char *sans[] = {"localhost"};
	size_t pemlen = 0, keylen = 0, csrlen = 0, derlen = 0, outlen = 0;
	char err[256];

	(void)state;
	assert_int_equal(pki_key_generate(PKI_KEY_EC_P256, NULL, pem, sizeof(pem), &pemlen), 0);
	assert_int_equal(
		pki_key_decode((const unsigned char *)pem, pemlen, NULL, key, sizeof(key), &keylen),
		0);
	assert_int_equal(pki_csr_create(key, keylen, &name, sans, 1, csrpem, sizeof(csrpem),
					&csrlen, err, sizeof(err)),
			 0);
	assert_int_equal(
		pki_csr_decode((const unsigned char *)csrpem, csrlen, der, sizeof(der), &derlen),
		0);
	assert_int_equal(pki_detect(der, derlen), PKI_KIND_CSR);
	assert_int_equal(pki_key_is_encrypted(der, derlen), 0);
	assert_int_equal(pki_key_decode(der, derlen, NULL, out, sizeof(out), &outlen), PKI_EBADKEY);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(pem, sizeof(pem));
}

/*
 * fuzz_fernet, tests/fuzz/regress/fernet/too-many-keys-not-zeroed: fernet_keys_parse
 * (common/fernet.c) promises that keys[] is zeroed on failure, FERNET_ETOOMANYKEYS included,
 * so keys[] never keeps what it held (older keys, when a caller reuses the array).
 */
static void
test_keys_parse_too_many_zeroes(void **state)
{
	static const char k[] = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
	struct fernet_key keys[FERNET_MAX_KEYS], zero[FERNET_MAX_KEYS];
	char text[(sizeof(k) + 1) * (FERNET_MAX_KEYS + 1)] = "", err[160];
	size_t n = 0;

	(void)state;
	for (int i = 0; i <= FERNET_MAX_KEYS; i++) {
		strcat(text, i ? "," : "");
		strcat(text, k);
	}
	memset(keys, 0xa5, sizeof(keys));
	memset(zero, 0, sizeof(zero));
	assert_int_equal(fernet_keys_parse(text, keys, FERNET_MAX_KEYS, &n, err, sizeof(err)),
			 FERNET_ETOOMANYKEYS);
	assert_memory_equal(keys, zero, sizeof(keys));
}

/*
 * fuzz_response, tests/fuzz/regress/response/te-empty-elements: http_list_last()
 * (common/http_scan.c) skips every empty element at the end of a list ("chunked,",
 * "chunked,,", "chunked, ,"), as RFC 9110 §5.6.1 says a recipient does. Taking an empty one
 * for the last coding, the client would read that chunked body as close-delimited and print
 * the chunk framing as the secret.
 */
static void
test_te_empty_list_elements(void **state)
{
	static const char *const values[] = {"chunked,", "chunked,,", "chunked, ,", ", chunked"};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[128];
		struct http_response res;
		int n = snprintf(buf, sizeof(buf),
				 "HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n", values[i]);

		http_response_init(&res);
		assert_int_equal(http_parse_response(buf, (size_t)n, 0, &res), n);
		if (res.framing != HTTP_BODY_CHUNKED)
			fail_msg("Transfer-Encoding: %s is not read as chunked", values[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_reason_moved),
		cmocka_unit_test(test_spki_param_uninitialised),
		cmocka_unit_test(test_detect_proc_type_in_der),
		cmocka_unit_test(test_keys_parse_too_many_zeroes),
		cmocka_unit_test(test_te_empty_list_elements),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
