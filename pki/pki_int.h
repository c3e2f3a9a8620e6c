/*
 * pki_int: what the files of libpki share with each other (not for other modules): parsed
 * certificates and CSRs as views into the caller's DER, loaded keys, names, SANs, PEM.
 */
#ifndef SQUIRREL_PKI_INT_H
#define SQUIRREL_PKI_INT_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "pki.h"
#include "pki_der.h"

/* Copy a phrase into err (a no-op when err is NULL); always returns code. */
int pki_fail(int code, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- extensions ------------------------------------------------------------------------ */

/* keyUsage bits, RFC 5280 §4.2.1.3 (bit 0 first). */
#define PKI_KU_DIGITAL_SIGNATURE 0x001u
#define PKI_KU_NON_REPUDIATION 0x002u
#define PKI_KU_KEY_ENCIPHERMENT 0x004u
#define PKI_KU_DATA_ENCIPHERMENT 0x008u
#define PKI_KU_KEY_AGREEMENT 0x010u
#define PKI_KU_KEY_CERT_SIGN 0x020u
#define PKI_KU_CRL_SIGN 0x040u
#define PKI_KU_ENCIPHER_ONLY 0x080u
#define PKI_KU_DECIPHER_ONLY 0x100u

/* extendedKeyUsage purposes we name. */
#define PKI_EKU_SERVER 0x1u
#define PKI_EKU_CLIENT 0x2u
#define PKI_EKU_ANY 0x4u
#define PKI_EKU_OTHER 0x8u

/* The extensions libpki understands; "present" flags are 0/1. */
struct pki_exts {
	int bc, bc_crit, bc_ca;
	long bc_pathlen; /* -1 when absent */
	int ku, ku_crit;
	unsigned ku_bits;
	int eku, eku_crit;
	unsigned eku_bits;
	int san, san_crit;
	struct pki_der san_names; /* GeneralNames contents */
	int ski, ski_crit;
	struct pki_der ski_id;
	int aki, aki_crit;
	struct pki_der aki_id; /* keyIdentifier, empty when the AKI has none */
	int unknown_crit;      /* critical extensions we do not know */
	int duplicate;         /* an extension appears twice (RFC 5280 §4.2 forbids it) */
};

/* Parse the contents of an Extensions SEQUENCE. Returns 0 or -1 (err says which). */
int pki_exts_parse(const struct pki_der *exts, struct pki_exts *e, char *err, size_t errlen);

/* ---- public keys, certificates, CSRs --------------------------------------------------- */

struct pki_spki {
	struct pki_der all;   /* the whole SubjectPublicKeyInfo */
	struct pki_der alg;   /* algorithm OID contents */
	struct pki_der param; /* curve OID contents for EC, else empty */
	struct pki_der bits;  /* subjectPublicKey without its unused-bits octet */
};

int pki_spki_parse(const struct pki_der *all, struct pki_spki *s);

struct pki_x509 {
	struct pki_der all;
	struct pki_der tbs;     /* the signed bytes */
	int version;            /* 1, 2 or 3 */
	struct pki_der serial;  /* INTEGER contents */
	struct pki_der tbs_sig; /* signature AlgorithmIdentifier inside the TBS (whole) */
	struct pki_der sig_alg; /* outer signature algorithm OID contents */
	struct pki_der issuer;  /* whole Name */
	struct pki_der subject; /* whole Name */
	time_t not_before, not_after;
	struct pki_spki spki;
	struct pki_exts ext;
};

/* The certificate says it is no CA: basicConstraints CA:FALSE, or a keyUsage without
 * keyCertSign. One without either (the tutorial's CA has no extensions) does not say so. */
static inline int
pki_x509_says_no_ca(const struct pki_x509 *x)
{
	return (x->ext.bc && !x->ext.bc_ca) ||
	       (x->ext.ku && !(x->ext.ku_bits & PKI_KU_KEY_CERT_SIGN));
}

/* Parse a certificate's DER. Returns 0 or PKI_EBADCERT (err says what is wrong). */
int pki_x509_parse(const unsigned char *der, size_t len, struct pki_x509 *x, char *err,
		   size_t errlen);

struct pki_req {
	struct pki_der all;
	struct pki_der subject; /* whole Name */
	struct pki_spki spki;
	struct pki_der sig_alg; /* OID contents */
	struct pki_exts ext;    /* from the extensionRequest attribute */
};

/* Parse a CSR's DER (no signature check). Returns 0 or PKI_EBADCSR. */
int pki_req_parse(const unsigned char *der, size_t len, struct pki_req *r, char *err,
		  size_t errlen);
/* Check a CSR's own signature with wolfSSL. Returns 0, PKI_ECSRSIG or PKI_EBADCSR. */
int pki_req_verify(const unsigned char *der, size_t len);

/* ---- keys ------------------------------------------------------------------------------ */

/* A private key loaded into wolfCrypt. kind is RSA_TYPE or ECC_TYPE (asn_public.h). */
struct pki_key {
	int kind;
	int bits;
	RsaKey rsa;
	ecc_key ecc;
};

/* Load a decoded private key (PKCS#8 or traditional DER). Returns 0, PKI_EBADKEY or
 * PKI_EKEYTYPE; free with pki_key_free in every case. */
int pki_key_load(const unsigned char *der, size_t len, struct pki_key *k);
void pki_key_free(struct pki_key *k);
/* PKI_EKEYTYPE, with whose key and why in err, for an RSA key under PKI_RSA_MIN_BITS bits;
 * 0 otherwise. */
int pki_rsa_strong(int bits, const char *whose, char *err, size_t errlen);
/* The key's public half as SubjectPublicKeyInfo DER. */
int pki_key_spki(struct pki_key *k, unsigned char *out, size_t cap, size_t *len);
/* The AlgorithmIdentifier of a SHA-256 signature by this key, appended to w. */
void pki_key_sig_alg(const struct pki_key *k, struct pki_der_w *w);
/*
 * Sign buf[0..bodylen) (a TBSCertificate or CertificationRequestInfo) with SHA-256 and turn
 * buf into the signed object: SEQUENCE { body, algorithm, signature }. Returns 0 with *len,
 * PKI_ESPACE or PKI_EINTERNAL.
 */
int pki_key_sign(struct pki_key *k, unsigned char *buf, size_t bodylen, size_t cap, WC_RNG *rng,
		 size_t *len);

/*
 * EncryptedPrivateKeyInfo (RFC 5958 §3) for a PKCS#8 key: PBES2 with PBKDF2-HMAC-SHA256
 * (PKI_PBKDF2_ITERATIONS rounds, a random 16-byte salt) and AES-256-CBC, PKCS#7 padding (a
 * whole block when len is a multiple of 16). Returns 0, PKI_ERNG, PKI_ESPACE or PKI_EINTERNAL.
 */
int pki_pkcs8_encrypt(const unsigned char *pk8, size_t len, const char *password, WC_RNG *rng,
		      unsigned char *out, size_t cap, size_t *outlen);
/* A public key re-encoded canonically from an SPKI, for comparing keys by value. */
int pki_spki_canonical(const struct pki_spki *s, unsigned char *out, size_t cap, size_t *len);
/* "RSA 2048" / "EC P-256"; *rsa_bits is the RSA modulus size, 0 for any other key. Returns 0
 * or PKI_EKEYTYPE. */
int pki_spki_summary(const struct pki_spki *s, char *buf, size_t cap, int *rsa_bits);
/* RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits, 20 bytes. */
int pki_spki_key_id(const struct pki_spki *s, unsigned char id[20]);

/* ---- names and SANs -------------------------------------------------------------------- */

/* Append a Name for n (C as PrintableString, the rest UTF8String, RFC 5280 §4.1.2.4).
 * Returns 0 or PKI_ENAME with err naming the attribute. */
int pki_name_encode(const struct pki_name *n, struct pki_der_w *w, char *err, size_t errlen);
/* "C=US, ST=Maryland, O=My Company, CN=my-site.com"; non-printable bytes as \xNN. */
int pki_name_text(const struct pki_der *name, char *buf, size_t cap);
/* The (last) CN, printable; 1 if found, 0 if the name has no CN, -1 if unreadable. */
int pki_name_cn(const struct pki_der *name, char *buf, size_t cap);
/* 1 if the Name has no attributes (RFC 5280 then wants a critical SAN). */
int pki_name_empty(const struct pki_der *name);

/* Append a GeneralNames SEQUENCE for sans. Returns 0 or PKI_ESAN naming the entry. */
int pki_san_encode(const char *const *sans, size_t n, struct pki_der_w *w, char *err,
		   size_t errlen);
/* Check every GeneralName parses (DNS names are IA5, IP addresses 4 or 16 bytes). */
int pki_san_check(const struct pki_der *names, char *err, size_t errlen);
/* "DNS:localhost, IP:127.0.0.1, IP:::1". Returns 0 or -1. */
int pki_san_text(const struct pki_der *names, char *buf, size_t cap);
/* 1 if host (a DNS name or an IP literal) matches an entry (RFC 6125: one leftmost "*"
 * label for DNS, exact bytes for IPs), else 0. */
int pki_san_match(const struct pki_der *names, const char *host);
/* 1 if s is a host name we accept in a DNS SAN (LDH labels, optional leading "*."). */
int pki_dns_name_ok(const char *s, size_t len);

/* ---- PEM ------------------------------------------------------------------------------- */

/*
 * Find the next PEM block at or after *offset whose label is one of labels (NULL-terminated
 * list; NULL list = any label) and decode its base64 into der. *offset moves past the block;
 * *which gets the index of the label matched. Returns 1 (found), 0 (none), -1 (a block was
 * found but is corrupt) or PKI_ESPACE.
 */
int pki_pem_next(const unsigned char *in, size_t len, size_t *offset, const char *const *labels,
		 int *which, unsigned char *der, size_t cap, size_t *derlen);
/* 1 if in looks like PEM (has a "-----BEGIN " line). */
int pki_pem_is(const unsigned char *in, size_t len);
/* 1 if a PEM block of in carries "Proc-Type: 4,ENCRYPTED" among its RFC 1421 header lines
 * (the legacy encrypted key format); the same bytes elsewhere (a DER subject) do not count. */
int pki_pem_legacy_encrypted(const unsigned char *in, size_t len);
/*
 * Wrap DER as PEM (wc_DerToPem): type is wolfSSL's CERT_TYPE ("CERTIFICATE"), CERTREQ_TYPE
 * ("CERTIFICATE REQUEST"), PKCS8_PRIVATEKEY_TYPE ("PRIVATE KEY") or PKCS8_ENC_PRIVATEKEY_TYPE
 * ("ENCRYPTED PRIVATE KEY"); 64-column lines, NUL-terminated, *pemlen without the NUL.
 * Returns 0, PKI_ESPACE or PKI_EINTERNAL.
 */
int pki_pem_encode(const unsigned char *der, size_t len, int type, char *pem, size_t cap,
		   size_t *pemlen);

/* Append printf output to buf[cap] at *used; sets *used to cap on overflow. */
void pki_appendf(char *buf, size_t cap, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
