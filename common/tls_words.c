#include <stddef.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "tls_words.h"

/* The hints of each failure the client (a server's certificate) and squirrel-pki verify (a
 * file and its --ca) can say something useful about. */
#define EXPIRED_CLIENT "the server needs a new certificate, or this machine's clock is wrong"
#define EXPIRED_PKI "issue a new one with 'squirrel-pki sign'"
#define NOT_YET_CLIENT "check this machine's clock, or when the certificate starts"
#define NOT_YET_PKI "check the clock, or its --not-before"
#define PURPOSE_CLIENT                                                                             \
	"its extendedKeyUsage does not allow a server: it was issued for a client, with "          \
	"squirrel-pki sign --client"
#define SIGNATURE_CLIENT "it was altered, or not signed by the CA it names"
#define SIGNATURE_PKI "it was altered, or another key signed it"

static const struct tlsw_entry {
	int code;
	const char *text;
	const char *client_hint;
	const char *pki_hint;
} entries[] = {
	{.code = ASN_NO_SIGNER_E,
	 .text = "unable to get local issuer certificate",
	 .pki_hint = "is --ca the CA that issued it?"},
	{.code = ASN_AFTER_DATE_E,
	 .text = "certificate has expired",
	 .client_hint = EXPIRED_CLIENT,
	 .pki_hint = EXPIRED_PKI},
	{.code = ASN_BEFORE_DATE_E,
	 .text = "certificate is not yet valid",
	 .client_hint = NOT_YET_CLIENT,
	 .pki_hint = NOT_YET_PKI},
	{.code = ASN_SELF_SIGNED_E,
	 .text = "self-signed certificate",
	 .pki_hint = "a self-signed certificate is trusted only when it is itself in --ca"},
	{.code = ASN_SIG_CONFIRM_E,
	 .text = "certificate signature failure",
	 .client_hint = SIGNATURE_CLIENT,
	 .pki_hint = SIGNATURE_PKI},
	{.code = ASN_SIG_OID_E,
	 .text = "certificate signature failure",
	 .client_hint = SIGNATURE_CLIENT,
	 .pki_hint = SIGNATURE_PKI},
	{.code = ASN_SIG_KEY_E,
	 .text = "certificate signature failure",
	 .client_hint = SIGNATURE_CLIENT,
	 .pki_hint = SIGNATURE_PKI},
	{.code = ASN_CRIT_EXT_E, .text = "unsupported critical extension in certificate"},
	{.code = ASN_NAME_INVALID_E, .text = "permitted subtree violation"},
	{.code = EXTKEYUSE_AUTH_E,
	 .text = "unsuitable certificate purpose",
	 .client_hint = PURPOSE_CLIENT},
	{.code = KEYUSE_SIGNATURE_E,
	 .text = "unsuitable certificate purpose",
	 .client_hint = PURPOSE_CLIENT},
	{.code = KEYUSE_ENCIPHER_E,
	 .text = "unsuitable certificate purpose",
	 .client_hint = PURPOSE_CLIENT},
	{.code = NOT_CA_ERROR,
	 .text = "invalid CA certificate",
	 .pki_hint = "a certificate in it signs another but is no CA: it lacks basicConstraints "
		     "CA:TRUE or keyUsage keyCertSign"},
	{.code = ASN_PATHLEN_SIZE_E, .text = "path length constraint exceeded"},
	{.code = ASN_PATHLEN_INV_E, .text = "path length constraint exceeded"},
	{.code = CRL_CERT_REVOKED, .text = "certificate revoked"},
	{.code = DOMAIN_NAME_MISMATCH, .text = "hostname mismatch"},
	{.code = ASN_PARSE_E, .text = "malformed certificate"},
};

static const struct tlsw_entry *
lookup(int code)
{
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (entries[i].code == code)
			return &entries[i];
	return NULL;
}

const char *
tlsw_verify_text(int code)
{
	const struct tlsw_entry *e = lookup(code);

	return e != NULL ? e->text : NULL;
}

const char *
tlsw_verify_hint(int code, enum tlsw_reader reader)
{
	const struct tlsw_entry *e = lookup(code);

	if (e == NULL)
		return NULL;
	return reader == TLSW_CLIENT ? e->client_hint : e->pki_hint;
}

int
tlsw_is_verify_error(int code)
{
	return tlsw_verify_text(code) != NULL || code == VERIFY_CERT_ERROR;
}

int
tlsw_is_untrusted_issuer(int wolfssl_code)
{
	return wolfssl_code == ASN_NO_SIGNER_E || wolfssl_code == ASN_SELF_SIGNED_E;
}

int
tlsw_is_not_a_ca(int wolfssl_code)
{
	return wolfssl_code == NOT_CA_ERROR;
}
