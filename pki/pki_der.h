/*
 * pki_der: the DER plumbing inside libpki (not for other modules).
 *
 * wolfSSL 5.5.4's own encoders and decoders for certificates, CSRs, PEM and encrypted PKCS#8
 * get parts of each wrong for us (a CA's basicConstraints not critical, names cut at a 0x00,
 * no PRF and no padding block in PKCS#8, certificates with an unknown critical extension
 * refused outright: docs/architecture.md, "Hand-written DER in pki/, part by part"). So libpki
 * writes and reads those structures itself and leaves every cryptographic operation (hashes,
 * signatures, PBKDF2, AES) to wolfCrypt. The reader is small: views into the caller's bytes,
 * no allocation.
 */
#ifndef SQUIRREL_PKI_DER_H
#define SQUIRREL_PKI_DER_H

#include <stddef.h>
#include <time.h>

#define PKI_DER_BOOLEAN 0x01
#define PKI_DER_INTEGER 0x02
#define PKI_DER_BIT_STRING 0x03
#define PKI_DER_OCTET_STRING 0x04
#define PKI_DER_NULL 0x05
#define PKI_DER_OID 0x06
#define PKI_DER_UTF8 0x0c
#define PKI_DER_PRINTABLE 0x13
#define PKI_DER_T61 0x14
#define PKI_DER_IA5 0x16
#define PKI_DER_UTCTIME 0x17
#define PKI_DER_GENTIME 0x18
#define PKI_DER_BMP 0x1e
#define PKI_DER_SEQ 0x30
#define PKI_DER_SET 0x31
#define PKI_DER_CTX(n) (0xa0 | (n))  /* [n] constructed */
#define PKI_DER_CTXP(n) (0x80 | (n)) /* [n] primitive (IMPLICIT) */

/* Nesting the writer supports: a CSR's extension request is 8 deep. */
#define PKI_DER_DEPTH 12

/* A view of bytes owned by someone else. */
struct pki_der {
	const unsigned char *p;
	size_t len;
};

/* One element: tag, its contents, and the whole encoding (header + contents). */
struct pki_tlv {
	unsigned char tag;
	struct pki_der v;
	struct pki_der all;
};

/* Read the next element of in and advance in past it. Definite lengths only, single-byte
 * tags, lengths must fit. Returns 0 or -1. */
int pki_der_next(struct pki_der *in, struct pki_tlv *t);

/* As pki_der_next, but the element must carry tag. Returns 0 or -1. */
int pki_der_get(struct pki_der *in, unsigned char tag, struct pki_tlv *t);

/* The tag of the next element of in, or -1 when in is empty. */
int pki_der_peek(const struct pki_der *in);

/* 1 if the OID contents v equal oid[n]. */
int pki_der_oid_eq(const struct pki_der *v, const unsigned char *oid, size_t n);
#define PKI_OID_EQ(v, arr) pki_der_oid_eq((v), (arr), sizeof(arr))

/* Dotted text of an OID's contents ("1.2.840.113549.1.1.11"). Returns 0 or -1. */
int pki_der_oid_text(const struct pki_der *v, char *buf, size_t cap);

/* A UTCTime or GeneralizedTime element (RFC 5280 §4.1.2.5 forms, Z only) as time_t.
 * Returns 0 or -1. */
int pki_der_time(const struct pki_tlv *t, time_t *out);

/* A writer appending DER to buf; constructed elements are begun and ended like brackets.
 * Errors stick: check once with pki_der_finish. */
struct pki_der_w {
	unsigned char *buf;
	size_t cap;
	size_t len;
	size_t open[PKI_DER_DEPTH];
	int depth;
	int err;
};

void pki_der_init(struct pki_der_w *w, unsigned char *buf, size_t cap);
/* Begin a constructed element (SEQUENCE, SET, [n]); its length is filled in by pki_der_end. */
void pki_der_begin(struct pki_der_w *w, unsigned char tag);
void pki_der_end(struct pki_der_w *w);
/* A primitive element with the given contents. */
void pki_der_put(struct pki_der_w *w, unsigned char tag, const void *p, size_t n);
/* Bytes that are already DER. */
void pki_der_raw(struct pki_der_w *w, const void *p, size_t n);
/* An INTEGER from an unsigned big-endian magnitude (leading zeros dropped, 0x00 added when the
 * top bit is set). */
void pki_der_uint(struct pki_der_w *w, const unsigned char *mag, size_t n);
/* A small non-negative INTEGER. */
void pki_der_small(struct pki_der_w *w, unsigned long v);
/* UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
void pki_der_put_time(struct pki_der_w *w, time_t t);
/* A BIT STRING of named bits (bit 0 first), minimally encoded (X.690 §11.2.2). */
void pki_der_named_bits(struct pki_der_w *w, unsigned bits);
/* 0 and the total length, or PKI_ESPACE (overflow) / PKI_EINTERNAL (unbalanced). */
int pki_der_finish(struct pki_der_w *w, size_t *len);

/* ---- object identifiers (contents octets) ---------------------------------------------- */
extern const unsigned char PKI_OID_RSA[9];
extern const unsigned char PKI_OID_EC[7];
extern const unsigned char PKI_OID_P256[8];
extern const unsigned char PKI_OID_P384[5];
extern const unsigned char PKI_OID_P521[5];
extern const unsigned char PKI_OID_SHA256_RSA[9];
extern const unsigned char PKI_OID_SHA256_ECDSA[8];
extern const unsigned char PKI_OID_CN[3];
extern const unsigned char PKI_OID_C[3];
extern const unsigned char PKI_OID_L[3];
extern const unsigned char PKI_OID_ST[3];
extern const unsigned char PKI_OID_O[3];
extern const unsigned char PKI_OID_OU[3];
extern const unsigned char PKI_OID_EMAIL[9];
extern const unsigned char PKI_OID_BASIC_CONSTRAINTS[3];
extern const unsigned char PKI_OID_KEY_USAGE[3];
extern const unsigned char PKI_OID_EXT_KEY_USAGE[3];
extern const unsigned char PKI_OID_SAN[3];
extern const unsigned char PKI_OID_SKI[3];
extern const unsigned char PKI_OID_AKI[3];
extern const unsigned char PKI_OID_SERVER_AUTH[8];
extern const unsigned char PKI_OID_CLIENT_AUTH[8];
extern const unsigned char PKI_OID_ANY_EKU[4];
extern const unsigned char PKI_OID_EXT_REQUEST[9];
extern const unsigned char PKI_OID_PBES2[9];
extern const unsigned char PKI_OID_PBKDF2[9];
extern const unsigned char PKI_OID_HMAC_SHA256[8];
extern const unsigned char PKI_OID_HMAC_SHA1[8];
extern const unsigned char PKI_OID_AES256_CBC[9];
extern const unsigned char PKI_OID_AES128_CBC[9];

/* A well-known name for an OID ("sha256WithRSAEncryption", "prime256v1"), or NULL. */
const char *pki_oid_name(const struct pki_der *v);

#endif
