/*
 * tls_words: the words users already know (from curl, Python and OpenSSL) for the
 * certificate failures wolfSSL reports as numbers. The client's handshake errors and
 * `squirrel-pki verify` both speak through this, so the same failure reads the same way.
 */
#ifndef SQUIRREL_TLS_WORDS_H
#define SQUIRREL_TLS_WORDS_H

/*
 * Text for a wolfSSL or wolfCrypt error code seen while verifying a certificate, e.g.
 * "unable to get local issuer certificate" for ASN_NO_SIGNER_E. NULL when the code is not a
 * certificate-verification failure. The string is static.
 */
const char *tlsw_verify_text(int wolfssl_code);

/* 1 if the code means the server's certificate was not trusted (curl's exit 60). */
int tlsw_is_verify_error(int wolfssl_code);

#endif
