#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/random.h>

#include "fs.h"
#include "pass.h"
#include "pki.h"
#include "srv.h"
#include "srv_tls.h"
#include "tls_policy.h"

/* Certificate chains and keys are a few KiB; anything near this is not one. */
#define TLS_FILE_MAX (256 * 1024)

/*
 * Session tickets are sealed with a key drawn once per server, before workers are forked, so
 * a ticket opens whichever worker gets the resumed connection, and across SIGHUP reloads
 * (wolfSSL's default ticket key belongs to one context). The key lives as long as the server.
 */
static unsigned char ticket_name[WOLFSSL_TICKET_NAME_SZ];
static unsigned char ticket_key[CHACHA20_POLY1305_AEAD_KEYSIZE];
static WC_RNG ticket_rng;
static int ticket_rng_ready;

int
srv_tls_ticket_init(void)
{
	WC_RNG rng;
	int rc;

	if (wc_InitRng(&rng) != 0)
		return -1;
	rc = wc_RNG_GenerateBlock(&rng, ticket_name, sizeof(ticket_name)) |
	     wc_RNG_GenerateBlock(&rng, ticket_key, sizeof(ticket_key));
	wc_FreeRng(&rng);
	return rc == 0 ? srv_tls_after_fork() : -1;
}

int
srv_tls_after_fork(void)
{
	/* Nonces must never repeat under the shared key: each process seeds its own generator. */
	if (ticket_rng_ready)
		wc_FreeRng(&ticket_rng);
	ticket_rng_ready = wc_InitRng(&ticket_rng) == 0;
	return ticket_rng_ready ? 0 : -1;
}

void
srv_tls_ticket_wipe(void)
{
	explicit_bzero(ticket_key, sizeof(ticket_key));
	if (ticket_rng_ready)
		wc_FreeRng(&ticket_rng);
	ticket_rng_ready = 0;
}

/* Seal (enc) or open a ticket in place with ChaCha20-Poly1305; the key name is the AAD. */
static int
ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
	  unsigned char iv[WOLFSSL_TICKET_IV_SZ], unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
	  unsigned char *ticket, int in_len, int *out_len, void *arg)
{
	(void)ssl;
	(void)arg;
	if (in_len < 0)
		return WOLFSSL_TICKET_RET_FATAL;
	if (enc) {
		if (!ticket_rng_ready ||
		    wc_RNG_GenerateBlock(&ticket_rng, iv, WOLFSSL_TICKET_IV_SZ) != 0)
			return WOLFSSL_TICKET_RET_FATAL;
		memcpy(name, ticket_name, WOLFSSL_TICKET_NAME_SZ);
		memset(mac, 0, WOLFSSL_TICKET_MAC_SZ);
		if (wc_ChaCha20Poly1305_Encrypt(ticket_key, iv, name, WOLFSSL_TICKET_NAME_SZ,
						ticket, (word32)in_len, ticket, mac) != 0)
			return WOLFSSL_TICKET_RET_FATAL;
	} else {
		/* Not ours (another server, an older key), or forged: a full handshake instead. */
		if (memcmp(name, ticket_name, WOLFSSL_TICKET_NAME_SZ) != 0 ||
		    wc_ChaCha20Poly1305_Decrypt(ticket_key, iv, name, WOLFSSL_TICKET_NAME_SZ,
						ticket, (word32)in_len, mac, ticket) != 0)
			return WOLFSSL_TICKET_RET_REJECT;
	}
	*out_len = in_len;
	return WOLFSSL_TICKET_RET_OK;
}

static char kept_password[PASS_MAX + 1];
static int have_kept_password;

void
srv_tls_keep_password(const char *password)
{
	have_kept_password = password != NULL;
	if (password)
		snprintf(kept_password, sizeof(kept_password), "%s", password);
}

void
srv_tls_forget_password(void)
{
	explicit_bzero(kept_password, sizeof(kept_password));
	have_kept_password = 0;
}

/* Static: a key and a chain are read once at start and once per SIGHUP, never concurrently. */
static unsigned char file_buf[TLS_FILE_MAX];
static unsigned char key_der[16384];
static unsigned char cert_der[16384];

static int
read_file(const char *path, const char *what, size_t *len, char *err, size_t errlen)
{
	int rc = fs_read(path, file_buf, sizeof(file_buf), len);

	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read the %s: %s", path, what,
			 rc == -EFBIG ? "file too large" : strerror(-rc));
		return SRV_TLS_EFILE;
	}
	return 0;
}

int
srv_tls_key_encrypted(const char *path)
{
	size_t len;
	char err[256];
	int enc;

	if (read_file(path, "key", &len, err, sizeof(err)) < 0)
		return 0; /* srv_tls_ctx reports the problem */
	enc = pki_key_is_encrypted(file_buf, len);
	explicit_bzero(file_buf, len);
	return enc == 1;
}

static void
format_day(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Load the certificate chain; check its dates; leave its first certificate in cert_der. */
static int
load_chain(WOLFSSL_CTX *ctx, const char *path, size_t *cert_len, char *err, size_t errlen)
{
	size_t len, off = 0;
	time_t nb, na, now = time(NULL);
	char when[40];
	int rc = read_file(path, "certificate", &len, err, errlen);

	if (rc < 0)
		return rc;
	if (pki_cert_next(file_buf, len, &off, cert_der, sizeof(cert_der), cert_len) != 1) {
		snprintf(err, errlen, "%s: not a certificate (expected PEM or DER)", path);
		return SRV_TLS_EFILE;
	}
	if (pki_cert_validity(cert_der, *cert_len, &nb, &na) == 0) {
		if (now < nb) {
			format_day(nb, when, sizeof(when));
			snprintf(err, errlen, "%s: certificate is not yet valid (from %s)", path,
				 when);
			return SRV_TLS_ECERT;
		}
		if (now > na) {
			format_day(na, when, sizeof(when));
			snprintf(err, errlen,
				 "%s: certificate has expired (on %s); issue a new one with "
				 "squirrel-pki sign",
				 path, when);
			return SRV_TLS_ECERT;
		}
	}
	rc = off > 0 && memchr(file_buf, '-', len) != NULL
		     ? wolfSSL_CTX_use_certificate_chain_buffer(ctx, file_buf, (long)len)
		     : wolfSSL_CTX_use_certificate_buffer(ctx, cert_der, (long)*cert_len,
							  WOLFSSL_FILETYPE_ASN1);
	if (rc != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: the TLS library refused the certificate chain", path);
		return SRV_TLS_EFILE;
	}
	return 0;
}

static int
load_key(WOLFSSL_CTX *ctx, const struct srv_config *cfg, const char *password, size_t cert_len,
	 char *err, size_t errlen)
{
	size_t len, der_len = 0;
	int rc = read_file(cfg->key, "key", &len, err, errlen);

	if (rc < 0)
		return rc;
	rc = pki_key_decode(file_buf, len, password, key_der, sizeof(key_der), &der_len);
	explicit_bzero(file_buf, len);
	if (rc == PKI_ENEEDPASS || rc == PKI_EPASSWORD) {
		snprintf(err, errlen, "%s: %s", cfg->key,
			 rc == PKI_EPASSWORD
				 ? "wrong password for the key (check --key-password-file)"
				 : "the key is encrypted: give --key-password-file FILE");
		return SRV_TLS_EPASSWORD;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", cfg->key, pki_strerror(rc));
		return SRV_TLS_EFILE;
	}
	rc = 0;
	if (pki_key_matches_cert(key_der, der_len, cert_der, cert_len) != 0) {
		snprintf(err, errlen, "%s: the key does not belong to the certificate %s", cfg->key,
			 cfg->cert);
		rc = SRV_TLS_ECERT;
	} else if (wolfSSL_CTX_use_PrivateKey_buffer(ctx, key_der, (long)der_len,
						     WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
		   wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: the TLS library refused the key", cfg->key);
		rc = SRV_TLS_ECERT;
	}
	explicit_bzero(key_der, der_len);
	return rc;
}

static int
load_client_ca(WOLFSSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	size_t len;
	int rc = read_file(path, "client CA file", &len, err, errlen);

	if (rc < 0)
		return rc;
	if (wolfSSL_CTX_load_verify_buffer(ctx, file_buf, (long)len, WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: not a PEM CA certificate", path);
		return SRV_TLS_EFILE;
	}
	/* Mutual TLS: no certificate, or one not from this CA, ends the handshake. */
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       NULL);
	return 0;
}

int
srv_tls_ctx(const struct srv_config *cfg, const char *password, WOLFSSL_CTX **out, char *err,
	    size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
	size_t cert_len = 0;
	int rc;

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		return SRV_TLS_EINTERNAL;
	}
	if (tls_policy_apply(ctx) < 0) {
		snprintf(err, errlen, "cannot configure TLS versions, suites or groups");
		wolfSSL_CTX_free(ctx);
		return SRV_TLS_EINTERNAL;
	}
	wolfSSL_CTX_set_options(ctx, WOLFSSL_OP_CIPHER_SERVER_PREFERENCE);
	wolfSSL_CTX_set_TicketEncCb(ctx, ticket_cb);
	rc = load_chain(ctx, cfg->cert, &cert_len, err, errlen);
	if (rc == 0)
		rc = load_key(ctx, cfg, password, cert_len, err, errlen);
	if (rc == 0 && cfg->client_ca != NULL)
		rc = load_client_ca(ctx, cfg->client_ca, err, errlen);
	if (rc < 0) {
		wolfSSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int
srv_tls_rebuild(const struct srv_config *cfg, WOLFSSL_CTX **out, char *err, size_t errlen)
{
	return srv_tls_ctx(cfg, have_kept_password ? kept_password : NULL, out, err, errlen);
}

int
srv_tls_reload(struct srv *s, char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx;

	if (srv_tls_rebuild(s->cfg, &ctx, err, errlen) < 0)
		return -1;
	/* Sessions hold a reference to their context: open connections keep the old one. */
	wolfSSL_CTX_free(s->ctx);
	s->ctx = ctx;
	return 0;
}
