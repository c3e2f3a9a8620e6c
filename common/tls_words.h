/*
 * tls_words: the words users already know (from curl, Python and OpenSSL) for the
 * certificate failures wolfSSL reports as numbers, and what to do about each. The client's
 * handshake errors and `squirrel-pki verify` both speak through this, so the same failure
 * reads the same way.
 */
#ifndef SQUIRREL_TLS_WORDS_H
#define SQUIRREL_TLS_WORDS_H

/*
 * Text for a wolfSSL or wolfCrypt error code seen while verifying a certificate, e.g.
 * "unable to get local issuer certificate" for ASN_NO_SIGNER_E. NULL when the code is not a
 * certificate-verification failure. The string is static.
 */
const char *tlsw_verify_text(int wolfssl_code);

/* Who reads a hint: the client, about the certificate a server sent; squirrel-pki verify,
 * about a certificate file and the CA given with --ca. */
enum tlsw_reader { TLSW_CLIENT, TLSW_PKI_VERIFY };

/*
 * What that reader can do about the failure, e.g. "is --ca the CA that issued it?", without
 * parentheses. NULL when there is nothing to add beyond tlsw_verify_text(). Static string.
 */
const char *tlsw_verify_hint(int wolfssl_code, enum tlsw_reader reader);

/* 1 if the code means the server's certificate was not trusted (curl's exit 60). */
int tlsw_is_verify_error(int wolfssl_code);

/* 1 if the code means no CA the reader trusts issued the certificate (no signer found, or it
 * signed itself): the answer is a CA file, not a new certificate. */
int tlsw_is_untrusted_issuer(int wolfssl_code);

/* 1 if the code means a certificate that signed another is no CA (NOT_CA_ERROR). */
int tlsw_is_not_a_ca(int wolfssl_code);

#endif
