#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "tls_words.h"

const char *
tlsw_verify_text(int code)
{
	switch (code) {
	case ASN_NO_SIGNER_E: return "unable to get local issuer certificate";
	case ASN_AFTER_DATE_E: return "certificate has expired";
	case ASN_BEFORE_DATE_E: return "certificate is not yet valid";
	case ASN_SELF_SIGNED_E: return "self-signed certificate";
	case ASN_SIG_CONFIRM_E:
	case ASN_SIG_OID_E:
	case ASN_SIG_KEY_E: return "certificate signature failure";
	case ASN_CRIT_EXT_E: return "unsupported critical extension in certificate";
	case ASN_NAME_INVALID_E: return "permitted subtree violation";
	case EXTKEYUSE_AUTH_E:
	case KEYUSE_SIGNATURE_E:
	case KEYUSE_ENCIPHER_E: return "unsuitable certificate purpose";
	case NOT_CA_ERROR: return "invalid CA certificate";
	case ASN_PATHLEN_SIZE_E:
	case ASN_PATHLEN_INV_E: return "path length constraint exceeded";
	case CRL_CERT_REVOKED: return "certificate revoked";
	case DOMAIN_NAME_MISMATCH: return "hostname mismatch";
	case ASN_PARSE_E: return "malformed certificate";
	}
	return NULL;
}

int
tlsw_is_verify_error(int code)
{
	return tlsw_verify_text(code) != NULL || code == VERIFY_CERT_ERROR;
}
