/*
 * tls_policy: the one place where squirrel decides which TLS it speaks, for the server and
 * the client alike: TLS 1.2 and 1.3 only, ECDHE key exchange with AEAD suites only (fastest
 * first: the server's order wins), X25519 then P-256 then P-384.
 */
#ifndef SQUIRREL_TLS_POLICY_H
#define SQUIRREL_TLS_POLICY_H

struct WOLFSSL_CTX;

/* Apply the policy to ctx. 0, or -1 if wolfSSL refused a setting. */
int tls_policy_apply(struct WOLFSSL_CTX *ctx);

/* After tls_policy_apply: TLS 1.2 only (squirrel-client --tls-max 1.2). 0, or -1. */
int tls_policy_max_tls12(struct WOLFSSL_CTX *ctx);

#endif
