/*
 * pki: the tutorial's certificate authority on wolfSSL/wolfCrypt, as a library.
 *
 * Keys, CSRs and certificates go in and out as memory buffers (PEM or DER in, PEM or DER
 * out); nothing here prints, exits or touches a file: squirrel-pki's handlers in cmd_x509.c
 * read and write the files, and the TLS server and client call the decoders directly.
 *
 * Every function returns 0 (or a documented non-negative value) or one negative PKI_E* code
 * from the table below; pki_strerror() gives its text. Functions that can fail in ways a
 * person must understand (which SAN is malformed, which date is out of range) also fill
 * err[errlen] with a lower-case phrase; err may be NULL when errlen is 0.
 *
 * Buffers belong to the caller. Decoded private keys land in caller buffers: wipe them with
 * explicit_bzero() after use. No function keeps a pointer to its arguments.
 */
#ifndef SQUIRREL_PKI_H
#define SQUIRREL_PKI_H

#include <stddef.h>
#include <time.h>

/* Largest DER object we make or accept (an RSA-4096 PKCS#8 key is about 2.4 KiB, a
 * certificate with PKI_MAX_SANS names about 2 KiB). */
#define PKI_DER_MAX 8192
/* Largest PEM we make: base64 of PKI_DER_MAX plus line ends and armour. */
#define PKI_PEM_MAX 12288
/* subjectAltName entries per CSR: enough for any test or dev server, small enough to keep
 * the CSR and the certificate well under PKI_DER_MAX. */
#define PKI_MAX_SANS 32
/* Longest value of one name attribute, in bytes (RFC 5280 ub-common-name). */
#define PKI_NAME_MAX 64
/* Default validity of CA and leaf certificates, in days, as the tutorial. */
/* Smallest RSA key we sign with or for: OpenSSL's default security level (2), Python and
 * browsers refuse shorter ones (NIST SP 800-131A). */
#define PKI_RSA_MIN_BITS 2048
#define PKI_DEFAULT_DAYS 30
/*
 * PBKDF2-HMAC-SHA256 rounds for encrypted PKCS#8 keys: ten times OpenSSL 3's 2048 (about
 * 30 ms per unlock here), and below 32768, from which wolfSSL 5.5.4's own PKCS#8 encoder
 * writes the count as a negative INTEGER (docs/architecture.md, "Hand-written DER in pki/"):
 * we write the structure ourselves, and our keys stay readable by tools with that limit.
 */
#define PKI_PBKDF2_ITERATIONS 20000

#define PKI_ERRORS(X)                                                                              \
	X(PKI_EINTERNAL, -1, "internal error in the crypto library")                               \
	X(PKI_ESPACE, -2, "the result does not fit in the buffer")                                 \
	X(PKI_ERNG, -3, "the random number generator failed")                                      \
	X(PKI_EBADKEY, -4, "not a private key that can be read")                                   \
	X(PKI_EKEYTYPE, -5, "unsupported key type (RSA and EC P-256/P-384/P-521 are)")             \
	X(PKI_ENEEDPASS, -6, "the key is encrypted and needs a password")                          \
	X(PKI_EPASSWORD, -7, "wrong password")                                                     \
	X(PKI_EBADCERT, -8, "not a certificate that can be read")                                  \
	X(PKI_EBADCSR, -9, "not a certificate signing request that can be read")                   \
	X(PKI_ECSRSIG, -10, "the CSR's own signature does not verify")                             \
	X(PKI_EMISMATCH, -11, "the private key does not belong to the certificate")                \
	X(PKI_ENAME, -12, "invalid subject name")                                                  \
	X(PKI_ESAN, -13, "invalid subjectAltName")                                                 \
	X(PKI_EDATE, -14, "invalid validity period")                                               \
	X(PKI_EVERIFY, -15, "the certificate is not acceptable")                                   \
	X(PKI_EUNKNOWN, -16, "not a certificate, CSR or private key")

enum pki_error {
#define PKI_ENUM(name, value, text) name = value,
	PKI_ERRORS(PKI_ENUM)
#undef PKI_ENUM
};

/* Text for a PKI_E* code; "unknown pki error" for anything else. Static string. */
const char *pki_strerror(int code);

/* ---- keys (pki_key.c) ------------------------------------------------------------------ */

enum pki_key_type { PKI_KEY_RSA2048, PKI_KEY_RSA3072, PKI_KEY_RSA4096, PKI_KEY_EC_P256 };

/* "rsa2048", "rsa3072", "rsa4096", "ec-p256" -> *type. Returns 0 or -1 (unknown name). */
int pki_key_type_parse(const char *name, enum pki_key_type *type);

/*
 * Make a new private key (RSA with e = 65537, or EC P-256) and write it as PEM into pem:
 * with a password, encrypted PKCS#8 "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-HMAC-SHA256 with
 * PKI_PBKDF2_ITERATIONS rounds and a random 16-byte salt, AES-256-CBC), the form OpenSSL 3
 * writes; with password NULL, plain PKCS#8 "PRIVATE KEY". pem is NUL-terminated; *pemlen
 * excludes the NUL. Returns 0, PKI_ESPACE, PKI_ERNG or PKI_EINTERNAL. RSA-4096 takes seconds.
 */
int pki_key_generate(enum pki_key_type type, const char *password, char *pem, size_t cap,
		     size_t *pemlen);

/* 1 if in (PEM or DER) is an encrypted private key (PKCS#8 or legacy Proc-Type), else 0. */
int pki_key_is_encrypted(const unsigned char *in, size_t len);

/*
 * Decode a private key PEM (or DER) of any supported form: PKCS#8 encrypted (PBES2),
 * legacy encrypted (Proc-Type: 4,ENCRYPTED / DEK-Info), plain PKCS#8, PKCS#1 RSA, SEC1 EC.
 * Writes the unencrypted key as PKCS#8 PrivateKeyInfo DER (which
 * wolfSSL_CTX_use_PrivateKey_buffer(..., WOLFSSL_FILETYPE_ASN1) takes) into der.
 * The key is always checked for consistency (RSA: a private-key signature verifies under its
 * public half; EC: the public point is d*G), because wolfSSL "decrypts" a legacy key under a
 * wrong password without complaint.
 * Returns 0; PKI_ENEEDPASS when the key is encrypted and password is NULL; PKI_EPASSWORD for
 * a wrong password; PKI_EKEYTYPE for a key that is neither RSA nor EC; PKI_EBADKEY for
 * garbage; PKI_ESPACE. The caller wipes der.
 */
int pki_key_decode(const unsigned char *in, size_t len, const char *password, unsigned char *der,
		   size_t cap, size_t *derlen);

/*
 * A short description of a decoded key (pki_key_decode output): "RSA 2048", "EC P-256".
 * Returns 0, PKI_EBADKEY or PKI_EKEYTYPE.
 */
int pki_key_summary(const unsigned char *der, size_t len, char *buf, size_t cap);

/* 0 if the private key (decoded DER) belongs to the certificate (PEM or DER), PKI_EMISMATCH
 * otherwise; PKI_EBADKEY / PKI_EBADCERT for unreadable input. */
int pki_key_matches_cert(const unsigned char *keyder, size_t keylen, const unsigned char *cert,
			 size_t certlen);

/* ---- names and validity (pki_name.c) --------------------------------------------------- */

/* A subject: the tutorial's five attributes. NULL or "" leaves one out; cn is required. */
struct pki_name {
	const char *country; /* two letters, ISO 3166 (US) */
	const char *state;
	const char *locality;
	const char *org;
	const char *cn;
};

/*
 * Parse a time given on the command line: "now", "-2d", "+3h", "-90m", "+30s" (relative to
 * now), "@1700000000" (seconds since the epoch), "2024-05-01", "2024-05-01T12:00:00Z" or
 * "2024-05-01 12:00:00" (UTC). Returns 0 or -1.
 */
int pki_time_parse(const char *s, time_t now, time_t *out);

/* "2024-05-01 12:00:00" (UTC), as Python prints a datetime. buf needs 20 bytes. */
void pki_time_format(time_t t, char *buf, size_t cap);

/* ---- certificates and CSRs (pki_cert.c, pki_csr.c) ------------------------------------- */

/*
 * The first certificate of in (PEM or DER) as DER. Returns 0, PKI_EBADCERT or PKI_ESPACE.
 */
int pki_cert_decode(const unsigned char *in, size_t len, unsigned char *der, size_t cap,
		    size_t *derlen);

/*
 * Iterate over the certificates of a PEM bundle (or one DER certificate): start with
 * *offset = 0; each call decodes the next one into der and advances *offset. Returns 1 for a
 * certificate, 0 when there are no more, PKI_EBADCERT or PKI_ESPACE.
 */
int pki_cert_next(const unsigned char *in, size_t len, size_t *offset, unsigned char *der,
		  size_t cap, size_t *derlen);

/* The validity of a certificate (DER). Returns 0 or PKI_EBADCERT. */
int pki_cert_validity(const unsigned char *der, size_t len, time_t *not_before, time_t *not_after);

/*
 * The tutorial's sentence for a certificate (DER):
 * "From 2024-05-01 12:00:00 to 2024-05-31 12:00:00 I am my-site.com according to my-ca.com".
 * A name without a CN is given in full. Returns 0, PKI_EBADCERT or PKI_ESPACE.
 */
int pki_cert_sentence(const unsigned char *der, size_t len, char *buf, size_t cap);

/*
 * A self-signed CA certificate (the tutorial's generate_public_key, made strict): key is a
 * decoded private key (pki_key_decode), SHA-256 signature, a random positive 127-bit serial,
 * validity [not_before, not_after], basicConstraints CA:TRUE (critical), keyUsage
 * keyCertSign + cRLSign (critical), subjectKeyIdentifier. PEM out, NUL-terminated.
 * Returns 0, PKI_ENAME, PKI_EDATE, PKI_EBADKEY, PKI_EKEYTYPE, PKI_ERNG, PKI_ESPACE or
 * PKI_EINTERNAL, with detail in err.
 */
int pki_ca_create(const unsigned char *key, size_t keylen, const struct pki_name *name,
		  time_t not_before, time_t not_after, char *pem, size_t cap, size_t *pemlen,
		  char *err, size_t errlen);

/*
 * A CSR (the tutorial's generate_csr): subject from name, the key's public half, and the
 * sans (DNS names, IPv4 or IPv6 addresses; "DNS:" and "IP:" prefixes accepted) in a
 * subjectAltName extension request; SHA-256 signature by key. PEM out, NUL-terminated.
 * Returns 0, PKI_ENAME, PKI_ESAN (err names the entry), PKI_EBADKEY, PKI_EKEYTYPE,
 * PKI_ESPACE or PKI_EINTERNAL.
 */
int pki_csr_create(const unsigned char *key, size_t keylen, const struct pki_name *name,
		   const char *const *sans, size_t nsans, char *pem, size_t cap, size_t *pemlen,
		   char *err, size_t errlen);

/*
 * 1 if cn can name a host: a DNS name, an IPv4 or an IPv6 address. pki_csr_sign() makes such
 * a CN the subjectAltName of a CSR that has none, and refuses the CSR (PKI_ESAN) otherwise.
 */
int pki_cn_is_host(const char *cn);

/* A CSR (PEM "CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST", or DER) as DER.
 * Returns 0, PKI_EBADCSR or PKI_ESPACE. The signature is not checked here. */
int pki_csr_decode(const unsigned char *in, size_t len, unsigned char *der, size_t cap,
		   size_t *derlen);

/* What pki_csr_sign issues from; the buffers belong to the caller. */
struct pki_sign_opts {
	const unsigned char *csr; /* the request, PEM or DER */
	size_t csrlen;
	const unsigned char *cacert; /* the CA's certificate, PEM or DER */
	size_t cacertlen;
	const unsigned char *cakey; /* the CA's private key, decoded (pki_key_decode) */
	size_t cakeylen;
	time_t not_before; /* wanted validity; its end is cut to the CA's end */
	time_t not_after;
	int client; /* extendedKeyUsage clientAuth instead of serverAuth */
	time_t now; /* decides PKI_SIGN_CA_EXPIRED */
};

/* What pki_csr_sign did that a person should hear about (pki_sign_notes.flags). */
#define PKI_SIGN_SAN_FROM_CN 0x1   /* the CSR had no SAN: its CN became the only name */
#define PKI_SIGN_CLIPPED 0x2       /* the validity was cut to end with the CA's */
#define PKI_SIGN_ISSUER_NOT_CA 0x4 /* the CA certificate does not say CA:TRUE (tutorial's) */
#define PKI_SIGN_CA_EXPIRED 0x8    /* the CA certificate is outside its validity now */

struct pki_sign_notes {
	unsigned flags;
	time_t not_before; /* the validity actually issued */
	time_t not_after;
	char cn[PKI_NAME_MAX * 4 + 1]; /* the subject CN, printable */
};

/*
 * Issue a certificate for a CSR (the tutorial's sign_csr, made strict). The CSR's own
 * signature is checked first (PKI_ECSRSIG). The CA key must belong to the CA certificate
 * (PKI_EMISMATCH), which must not say it is no CA (CA:FALSE, or keyUsage without
 * keyCertSign: PKI_EBADCERT). Subject and public key come from the CSR, issuer from the CA's
 * subject, subjectAltName from the CSR (its other requested extensions are ignored: the CA
 * decides them): basicConstraints CA:FALSE (critical), keyUsage digitalSignature (+
 * keyEncipherment for RSA keys) (critical), extendedKeyUsage serverAuth or clientAuth,
 * authorityKeyIdentifier (the CA's SKI, else the SHA-1 of its key) and
 * subjectKeyIdentifier. PEM out, NUL-terminated; notes says what a person should hear.
 * Returns 0, PKI_EBADCSR, PKI_ECSRSIG, PKI_EKEYTYPE, PKI_ESAN, PKI_EBADCERT, PKI_EMISMATCH,
 * PKI_EDATE, PKI_EBADKEY, PKI_ERNG, PKI_ESPACE or PKI_EINTERNAL, with detail in err.
 */
int pki_csr_sign(const struct pki_sign_opts *opts, struct pki_sign_notes *notes, char *pem,
		 size_t cap, size_t *pemlen, char *err, size_t errlen);

/* ---- describing files (pki_show.c) ----------------------------------------------------- */

enum pki_kind {
	PKI_KIND_UNKNOWN,
	PKI_KIND_CERT,
	PKI_KIND_CSR,
	PKI_KIND_KEY,           /* a private key in the clear */
	PKI_KIND_ENCRYPTED_KEY, /* PKCS#8 encrypted or legacy Proc-Type encrypted */
};

/* What in (PEM or DER) holds, judged by its PEM label or DER shape. */
enum pki_kind pki_detect(const unsigned char *in, size_t len);

/*
 * A multi-line, human summary of a certificate, CSR or private key into out (lines end with
 * '\n', NUL-terminated): subject, issuer, validity (judged against now), SANs, key type and
 * size, CA flag, key usages, key identifiers, SHA-256 fingerprint, and for certificates the
 * tutorial's sentence. An encrypted key is described from its envelope unless password is
 * given. Returns 0, PKI_EUNKNOWN, PKI_EBADCERT, PKI_EBADCSR, PKI_EBADKEY, PKI_EPASSWORD or
 * PKI_ESPACE, with detail in err.
 */
int pki_describe(const unsigned char *in, size_t len, const char *password, time_t now, char *out,
		 size_t cap, char *err, size_t errlen);

/* ---- verification (pki_verify.c) ------------------------------------------------------- */

/* Most strict-mode defects reported at once. */
#define PKI_VERIFY_MAX_DEFECTS 16

struct pki_verify_opts {
	const char *host; /* DNS name or IP literal to match against the SANs, or NULL */
	int strict; /* also check what OpenSSL's X509_STRICT / Python's VERIFY_X509_STRICT demand */
	time_t now; /* for the wording of date failures (wolfSSL checks against the clock) */
};

struct pki_verify_result {
	int wolfssl_code;  /* 0, or the wolfSSL error of the chain/date check (tlsw_verify_text) */
	int ca_problem;    /* 1 if the failure (wolfssl_code, or PKI_EBADCERT) concerns the CA
	                    * input or an intermediate, not the leaf */
	int host_mismatch; /* 0, or wolfSSL's DOMAIN_NAME_MISMATCH when opts.host matched no name */
	size_t ndefects;   /* strict-mode defects, each a static one-line phrase */
	const char *defect[PKI_VERIFY_MAX_DEFECTS];
	size_t nwarnings; /* things strict verifiers accept but that are worth fixing */
	const char *warning[PKI_VERIFY_MAX_DEFECTS];
	time_t not_before; /* the leaf's validity */
	time_t not_after;
	char names[512]; /* the leaf's SANs, "DNS:localhost, IP:127.0.0.1", for messages */
};

/*
 * Verify cert (PEM or DER; a PEM bundle's first certificate is the leaf and the rest are
 * intermediates) against the trust anchors in ca (PEM bundle or DER) with wolfSSL's
 * certificate manager (signature chain, validity dates), then the host name, then (strict)
 * the extensions strict verifiers demand. Returns 0 when acceptable, PKI_EVERIFY with r
 * saying why, PKI_EBADCERT (r->ca_problem says which input) or PKI_EINTERNAL.
 */
int pki_verify(const unsigned char *ca, size_t calen, const unsigned char *cert, size_t certlen,
	       const struct pki_verify_opts *opts, struct pki_verify_result *r, char *err,
	       size_t errlen);

/*
 * Whether the certificate (DER) is for host: an IP address literal must equal one of its
 * subjectAltName IP addresses (byte for byte, so "::1" and its long form are one), any other
 * host one of its DNS names (a "*." name stands for exactly one label). The CN is never used,
 * as curl, Python and browsers do not use it. Returns 1 or 0 (also for a malformed DER).
 */
int pki_cert_names_host(const unsigned char *der, size_t len, const char *host);

#endif
