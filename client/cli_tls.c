#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "cli.h"
#include "fs.h"
#include "pass.h"
#include "pki.h"
#include "tls_policy.h"

static unsigned char file_buf[CLI_MAX_CAFILE];

void
cli_pick_cafile(struct cli_opts *o)
{
	static const char *const vars[] = {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"};

	if (o->cacert != NULL) {
		o->cacert_from = o->cacert;
		return;
	}
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && *v != '\0') {
			o->cacert = v;
			o->cacert_from = vars[i];
			return;
		}
	}
	o->cacert = CLI_SYSTEM_CA;
	o->cacert_from = "the system trust store";
}

static int
load_trust(WOLFSSL_CTX *ctx, const struct cli_opts *o, char *err, size_t errlen)
{
	size_t len;
	int rc = fs_read(o->cacert, file_buf, sizeof(file_buf), &len);

	if (rc < 0) {
		/* wolfSSL's own loader fails here without a useful reason (docs/wolfssl-notes.md). */
		snprintf(err, errlen, "cannot read the CA file %s%s%s: %s", o->cacert,
			 o->cacert_from != o->cacert ? " from " : "",
			 o->cacert_from != o->cacert ? o->cacert_from : "",
			 rc == -EFBIG ? "file too large" : strerror(-rc));
		return CLI_CAFILE;
	}
	/* A bundle may hold certificates this library cannot parse; take the rest. */
	if (wolfSSL_CTX_load_verify_buffer_ex(ctx, file_buf, (long)len, WOLFSSL_FILETYPE_PEM, 0,
					      WOLFSSL_LOAD_FLAG_IGNORE_ERR) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "the CA file %s holds no PEM certificate", o->cacert);
		return CLI_CAFILE;
	}
	return CLI_OK;
}

/* --cert: the client certificate chain into ctx. */
static int
load_cert_chain(WOLFSSL_CTX *ctx, const struct cli_opts *o, char *err, size_t errlen)
{
	size_t len;
	int rc = fs_read(o->cert, file_buf, sizeof(file_buf), &len);

	if (rc < 0) {
		snprintf(err, errlen, "--cert %s: cannot read: %s", o->cert, strerror(-rc));
		return CLI_CLIENT_CERT;
	}
	if (wolfSSL_CTX_use_certificate_chain_buffer(ctx, file_buf, (long)len) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "--cert %s: not a PEM certificate", o->cert);
		return CLI_CLIENT_CERT;
	}
	return CLI_OK;
}

/*
 * --key as DER into der (cap bytes), decrypted with --key-password-file's password, or with
 * one asked on the terminal when the key is encrypted. The password and the file's text are
 * wiped before returning.
 */
static int
load_key_der(const struct cli_opts *o, unsigned char *der, size_t cap, size_t *der_len, char *err,
	     size_t errlen)
{
	char password[PASS_MAX + 1], prompt[512];
	size_t len;
	int rc, have = 0;

	if (o->key_password_file != NULL) {
		rc = pass_read_file(o->key_password_file, password, sizeof(password));
		if (rc < 0) {
			snprintf(err, errlen, "--key-password-file %s: %s", o->key_password_file,
				 pass_strerror(rc));
			return CLI_CLIENT_CERT;
		}
		have = 1;
	}
	rc = fs_read(o->key, file_buf, sizeof(file_buf), &len);
	if (rc < 0) {
		explicit_bzero(password, sizeof(password));
		snprintf(err, errlen, "--key %s: cannot read: %s", o->key, strerror(-rc));
		return CLI_CLIENT_CERT;
	}
	if (!have && pki_key_is_encrypted(file_buf, len) == 1) {
		snprintf(prompt, sizeof(prompt), "Enter PEM pass phrase for %s: ", o->key);
		rc = pass_prompt(prompt, NULL, password, sizeof(password));
		if (rc < 0) {
			explicit_bzero(file_buf, len);
			snprintf(
				err, errlen,
				"--key %s: the key is encrypted: %s; give --key-password-file FILE",
				o->key, pass_strerror(rc));
			return CLI_CLIENT_CERT;
		}
		have = 1;
	}
	rc = pki_key_decode(file_buf, len, have ? password : NULL, der, cap, der_len);
	explicit_bzero(file_buf, len);
	explicit_bzero(password, sizeof(password));
	if (rc < 0) {
		snprintf(err, errlen, "--key %s: %s", o->key, pki_strerror(rc));
		return CLI_CLIENT_CERT;
	}
	return CLI_OK;
}

/* --cert and --key for mutual TLS; the key must belong to the certificate. */
static int
load_identity(WOLFSSL_CTX *ctx, const struct cli_opts *o, char *err, size_t errlen)
{
	unsigned char der[16384];
	size_t der_len = 0;
	int rc;

	rc = load_cert_chain(ctx, o, err, errlen);
	if (rc == CLI_OK)
		rc = load_key_der(o, der, sizeof(der), &der_len, err, errlen);
	if (rc != CLI_OK)
		return rc;
	rc = wolfSSL_CTX_use_PrivateKey_buffer(ctx, der, (long)der_len, WOLFSSL_FILETYPE_ASN1) ==
				     WOLFSSL_SUCCESS &&
			     wolfSSL_CTX_check_private_key(ctx) == WOLFSSL_SUCCESS
		     ? CLI_OK
		     : CLI_CLIENT_CERT;
	explicit_bzero(der, der_len);
	if (rc != CLI_OK)
		snprintf(err, errlen, "--key %s does not belong to --cert %s", o->key, o->cert);
	return rc;
}

/*
 * wolfSSL's own name check (wolfSSL_check_domain_name) compares text: it misses "::1" against
 * an IP entry it writes out in full, matches an address literal against DNS entries, and falls
 * back to the CN. So the leaf's names are checked here, once its chain has verified.
 */
static int
verify_host(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	struct cli_host_check *hc = store->userCtx;
	const unsigned char *der;
	int len = 0;

	if (!preverify)
		return 0;
	if (wolfSSL_X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	if (hc == NULL || hc->host == NULL)
		return 0; /* never unchecked: a session without cli_tls_expect_host fails */
	der = wolfSSL_X509_get_der(wolfSSL_X509_STORE_CTX_get_current_cert(store), &len);
	if (der != NULL && len > 0 && pki_cert_names_host(der, (size_t)len, hc->host) == 1)
		return 1;
	hc->mismatch = 1;
	wolfSSL_X509_STORE_CTX_set_error(store, DOMAIN_NAME_MISMATCH);
	return 0;
}

void
cli_tls_expect_host(WOLFSSL *ssl, struct cli_host_check *hc)
{
	hc->mismatch = 0;
	wolfSSL_SetCertCbCtx(ssl, hc);
}

int
cli_tls_ctx(const struct cli_opts *o, WOLFSSL_CTX **out, char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	int rc = CLI_OK;

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		return CLI_FAIL;
	}
	if (tls_policy_apply(ctx) < 0 || (o->tls12_only && tls_policy_max_tls12(ctx) < 0)) {
		snprintf(err, errlen, "cannot configure TLS versions, suites or groups");
		rc = CLI_FAIL;
	}
	if (rc == CLI_OK && !o->insecure)
		rc = load_trust(ctx, o, err, errlen);
	if (rc == CLI_OK && o->cert != NULL)
		rc = load_identity(ctx, o, err, errlen);
	if (rc != CLI_OK) {
		wolfSSL_CTX_free(ctx);
		return rc;
	}
	if (o->insecure)
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	else
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, verify_host);
	*out = ctx;
	return CLI_OK;
}
