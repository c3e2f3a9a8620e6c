/*
 * tls_names: the IANA names squirrel prints for cipher suites agree with wolfSSL's own table of
 * IANA names wherever both have one, and every suite tls_policy lets a handshake choose has one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "tls_names.h"
#include "tls_policy.h"

static void
test_suites_agree_with_wolfssl(void **state)
{
	unsigned both = 0;

	(void)state;
	for (unsigned code = 0; code <= 0xffff; code++) {
		const char *ours = tls_suite_name(code);
		const char *theirs = wolfSSL_get_cipher_name_iana_from_suite(
			(unsigned char)(code >> 8), (unsigned char)code);

		if (ours == NULL || theirs == NULL || strcasecmp(theirs, "none") == 0)
			continue;
		if (strcmp(ours, theirs) != 0)
			fail_msg("0x%04x: ours %s, wolfSSL's %s", code, ours, theirs);
		both++;
	}
	/* Not vacuous: wolfSSL names most of the table. */
	assert_true(both >= 20);
}

static void
test_policy_suites_have_names(void **state)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	WOLF_STACK_OF(WOLFSSL_CIPHER) * suites;
	WOLFSSL *ssl;
	int n;

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(tls_policy_apply(ctx), 0);
	ssl = wolfSSL_new(ctx);
	assert_non_null(ssl);
	suites = wolfSSL_get_ciphers_compat(ssl);
	n = wolfSSL_sk_SSL_CIPHER_num(suites);
	assert_int_equal(n, 9);
	for (int i = 0; i < n; i++) {
		const char *name = wolfSSL_CIPHER_get_name(wolfSSL_sk_SSL_CIPHER_value(suites, i));
		unsigned char c0 = 0, c1 = 0;
		int flags = 0;

		assert_int_equal(wolfSSL_get_cipher_suite_from_name(name, &c0, &c1, &flags), 0);
		if (tls_suite_name((unsigned)c0 << 8 | c1) == NULL)
			fail_msg("%s (0x%02x%02x) has no IANA name in tls_names.c", name, c0, c1);
	}
	wolfSSL_free(ssl);
	wolfSSL_CTX_free(ctx);
}

static void
test_groups_and_alerts(void **state)
{
	(void)state;
	assert_string_equal(tls_group_name(0x001d), "X25519");
	assert_string_equal(tls_group_name(0x0017), "secp256r1");
	assert_string_equal(tls_group_name(0x11ec), "X25519MLKEM768");
	assert_null(tls_group_name(0x0a0a)); /* GREASE (RFC 8701) */
	assert_string_equal(tls_alert_name(48), "unknown_ca");
	assert_null(tls_alert_name(255));
}

/* What squirrel-tap names in a handshake beside the suite and the group. */
static void
test_handshakes_versions_signatures(void **state)
{
	(void)state;
	assert_string_equal(tls_handshake_name(1), "ClientHello");
	assert_string_equal(tls_handshake_name(8), "EncryptedExtensions");
	assert_null(tls_handshake_name(99));
	assert_string_equal(tls_version_name(0x0304), "TLS 1.3");
	assert_null(tls_version_name(0x7f1c));
	assert_string_equal(tls_sigalg_name(0x0804), "rsa_pss_rsae_sha256");
	assert_string_equal(tls_sigalg_name(0x0905), "mldsa65");
	assert_null(tls_sigalg_name(0x0a0a)); /* GREASE */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suites_agree_with_wolfssl),
		cmocka_unit_test(test_policy_suites_have_names),
		cmocka_unit_test(test_groups_and_alerts),
		cmocka_unit_test(test_handshakes_versions_signatures),
	};
	int rc;

	wolfSSL_Init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	wolfSSL_Cleanup();
	return rc;
}
