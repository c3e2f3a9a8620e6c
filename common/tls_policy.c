#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "tls_policy.h"

/* No CBC, no static RSA key exchange, no finite-field DH: forward secrecy and AEAD only. */
static const char ciphers[] = "TLS13-AES128-GCM-SHA256:"
			      "TLS13-AES256-GCM-SHA384:"
			      "TLS13-CHACHA20-POLY1305-SHA256:"
			      "ECDHE-ECDSA-AES128-GCM-SHA256:"
			      "ECDHE-RSA-AES128-GCM-SHA256:"
			      "ECDHE-ECDSA-AES256-GCM-SHA384:"
			      "ECDHE-RSA-AES256-GCM-SHA384:"
			      "ECDHE-ECDSA-CHACHA20-POLY1305:"
			      "ECDHE-RSA-CHACHA20-POLY1305";

int
tls_policy_apply(WOLFSSL_CTX *ctx)
{
	static int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};

	/* set_groups orders the TLS 1.3 key shares; set1_curves_list is what stops a TLS 1.2
	 * peer from choosing any other curve wolfSSL knows (secp256k1, brainpool, X448). */
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(ctx, ciphers) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set1_curves_list(ctx, "X25519:P-256:P-384") != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_groups(ctx, groups, (int)(sizeof(groups) / sizeof(groups[0]))) !=
		    WOLFSSL_SUCCESS)
		return -1;
	/* Debian builds wolfSSL with OPENSSL_COMPATIBLE_DEFAULTS, which turns SSL_MODE_AUTO_RETRY
	 * on: a handshake read that finds the socket empty is tried ten more times at once. On
	 * a non-blocking socket that is ten wasted system calls per flight; say WANT_READ at the
	 * first and let poll() wait. */
	wolfSSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	return 0;
}

int
tls_policy_max_tls12(WOLFSSL_CTX *ctx)
{
	return wolfSSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == WOLFSSL_SUCCESS ? 0 : -1;
}
