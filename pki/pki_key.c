#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/pwdbased.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>

#include "pki_int.h"

/* PKCS#5 v2.1 (RFC 8018) parameters of the keys we write. */
#define PBE_SALT_LEN 16
#define AES256_KEY_LEN 32
#define AES_BLOCK 16

/* Scratch for a whole PEM key file; bigger than any RSA-4096 key in any form. */
#define KEY_SCRATCH (PKI_DER_MAX + 64)

static const struct {
	const char *name;
	enum pki_key_type type;
} key_types[] = {
	{.name = "rsa2048", .type = PKI_KEY_RSA2048},
	{.name = "rsa3072", .type = PKI_KEY_RSA3072},
	{.name = "rsa4096", .type = PKI_KEY_RSA4096},
	{.name = "ec-p256", .type = PKI_KEY_EC_P256},
};

int
pki_key_type_parse(const char *name, enum pki_key_type *type)
{
	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strcmp(name, key_types[i].name) == 0) {
			*type = key_types[i].type;
			return 0;
		}
	return -1;
}

/* ---- loading and checking -------------------------------------------------------------- */

/* kind of a PKCS#8 PrivateKeyInfo by its algorithm, or 0 when der is not PKCS#8. */
static int
pkcs8_kind(const unsigned char *der, size_t len)
{
	struct pki_der in = {der, len}, body;
	struct pki_tlv t, alg, oid;

	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0)
		return 0;
	body = t.v;
	if (pki_der_get(&body, PKI_DER_INTEGER, &t) < 0 ||
	    pki_der_get(&body, PKI_DER_SEQ, &alg) < 0)
		return 0;
	body = alg.v;
	if (pki_der_get(&body, PKI_DER_OID, &oid) < 0)
		return 0;
	if (PKI_OID_EQ(&oid.v, PKI_OID_RSA))
		return RSA_TYPE;
	if (PKI_OID_EQ(&oid.v, PKI_OID_EC))
		return ECC_TYPE;
	return -1;
}

void
pki_key_free(struct pki_key *k)
{
	if (k->kind == RSA_TYPE)
		wc_FreeRsaKey(&k->rsa);
	else if (k->kind == ECC_TYPE)
		wc_ecc_free(&k->ecc);
	k->kind = 0;
}

static int
load_rsa(const unsigned char *der, size_t len, struct pki_key *k)
{
	word32 idx = 0;

	if (wc_InitRsaKey(&k->rsa, NULL) != 0)
		return PKI_EINTERNAL;
	k->kind = RSA_TYPE;
	if (wc_RsaPrivateKeyDecode(der, &idx, &k->rsa, (word32)len) != 0)
		return PKI_EBADKEY;
	k->bits = wc_RsaEncryptSize(&k->rsa) * 8;
	return 0;
}

static int
load_ecc(const unsigned char *der, size_t len, struct pki_key *k)
{
	word32 idx = 0;

	if (wc_ecc_init(&k->ecc) != 0)
		return PKI_EINTERNAL;
	k->kind = ECC_TYPE;
	if (wc_EccPrivateKeyDecode(der, &idx, &k->ecc, (word32)len) != 0)
		return PKI_EBADKEY;
	if (k->ecc.dp == NULL)
		return PKI_EKEYTYPE;
	k->bits = k->ecc.dp->size * 8;
	/* P-521's field is 66 bytes; say 521 as everyone does. */
	if (k->ecc.dp->id == ECC_SECP521R1)
		k->bits = 521;
	return 0;
}

int
pki_key_load(const unsigned char *der, size_t len, struct pki_key *k)
{
	int kind = pkcs8_kind(der, len), rc;

	memset(k, 0, sizeof(*k));
	if (len == 0 || len > PKI_DER_MAX)
		return PKI_EBADKEY;
	if (kind < 0)
		return PKI_EKEYTYPE;
	if (kind == RSA_TYPE)
		return load_rsa(der, len, k);
	if (kind == ECC_TYPE)
		return load_ecc(der, len, k);
	/* Traditional forms carry no algorithm identifier: try each. */
	rc = load_rsa(der, len, k);
	if (rc == 0)
		return 0;
	pki_key_free(k);
	rc = load_ecc(der, len, k);
	return rc;
}

int
pki_rsa_strong(int bits, const char *whose, char *err, size_t errlen)
{
	if (bits >= PKI_RSA_MIN_BITS)
		return 0;
	return pki_fail(PKI_EKEYTYPE, err, errlen,
			"%s key is RSA %d, too weak: OpenSSL, Python and browsers refuse RSA keys "
			"under %d bits (make a new one with 'squirrel-pki key')",
			whose, bits, PKI_RSA_MIN_BITS);
}

/*
 * Is the private key consistent with its own public half? wolfSSL "decrypts" a legacy
 * (Proc-Type) key under a wrong password and sometimes the garbage even parses; a key whose
 * parts do not belong together fails here.
 */
static int
key_consistent(struct pki_key *k, WC_RNG *rng)
{
	if (k->kind == RSA_TYPE) {
		/* A private-key operation (CRT with p, q, dP, dQ, qInv) undone by the public
		 * one (n, e): only a key whose parts belong together gets the message back. */
		static const unsigned char msg[32] = "squirrel-pki key consistency";
		unsigned char sig[RSA_MAX_SIZE / 8], back[RSA_MAX_SIZE / 8];
		int n, m;

		if (k->bits < 1024 || k->bits > RSA_MAX_SIZE)
			return PKI_EKEYTYPE;
		n = wc_RsaSSL_Sign(msg, sizeof(msg), sig, sizeof(sig), &k->rsa, rng);
		if (n <= 0)
			return PKI_EBADKEY;
		m = wc_RsaSSL_Verify(sig, (word32)n, back, sizeof(back), &k->rsa);
		if (m != (int)sizeof(msg) || memcmp(back, msg, sizeof(msg)) != 0)
			return PKI_EBADKEY;
		return 0;
	}
	if (k->kind == ECC_TYPE) {
		ecc_point *pub;
		int rc = 0;

		if (k->ecc.type == ECC_PRIVATEKEY_ONLY) {
			/* SEC1 makes the public key optional; derive it. */
			if (wc_ecc_make_pub_ex(&k->ecc, NULL, rng) != 0)
				return PKI_EBADKEY;
			k->ecc.type = ECC_PRIVATEKEY;
		}
		if (wc_ecc_check_key(&k->ecc) != 0)
			return PKI_EBADKEY;
		pub = wc_ecc_new_point();
		if (pub == NULL)
			return PKI_EINTERNAL;
		if (wc_ecc_make_pub_ex(&k->ecc, pub, rng) != 0 ||
		    wc_ecc_cmp_point(pub, &k->ecc.pubkey) != MP_EQ)
			rc = PKI_EBADKEY;
		wc_ecc_del_point(pub);
		return rc;
	}
	return PKI_EKEYTYPE;
}

/* The key again, as unencrypted PKCS#8 PrivateKeyInfo (RFC 5958). */
static int
key_to_pkcs8(struct pki_key *k, unsigned char *out, size_t cap, size_t *outlen)
{
	unsigned char trad[PKI_DER_MAX];
	word32 sz = (word32)cap;
	int n, rc;

	if (k->kind == ECC_TYPE) {
		rc = wc_EccKeyToPKCS8(&k->ecc, out, &sz);
		if (rc <= 0)
			return rc == BUFFER_E ? PKI_ESPACE : PKI_EINTERNAL;
		*outlen = (size_t)rc;
		return 0;
	}
	n = wc_RsaKeyToDer(&k->rsa, trad, sizeof(trad));
	if (n <= 0)
		return PKI_EINTERNAL;
	rc = wc_CreatePKCS8Key(out, &sz, trad, (word32)n, RSAk, NULL, 0);
	explicit_bzero(trad, sizeof(trad));
	if (rc <= 0)
		return rc == BUFFER_E ? PKI_ESPACE : PKI_EINTERNAL;
	*outlen = (size_t)rc;
	return 0;
}

int
pki_key_spki(struct pki_key *k, unsigned char *out, size_t cap, size_t *len)
{
	int n;

	if (k->kind == RSA_TYPE)
		n = wc_RsaKeyToPublicDer(&k->rsa, out, (word32)cap);
	else if (k->kind == ECC_TYPE)
		n = wc_EccPublicKeyToDer(&k->ecc, out, (word32)cap, 1);
	else
		return PKI_EKEYTYPE;
	if (n <= 0)
		return n == BUFFER_E ? PKI_ESPACE : PKI_EINTERNAL;
	*len = (size_t)n;
	return 0;
}

void
pki_key_sig_alg(const struct pki_key *k, struct pki_der_w *w)
{
	/* RFC 4055 §5: RSA signature algorithms carry a NULL parameter; RFC 5758 §3.2: ECDSA
	 * ones carry none. wolfSSL's AddSignature writes the same outer form. */
	pki_der_begin(w, PKI_DER_SEQ);
	if (k->kind == RSA_TYPE) {
		pki_der_put(w, PKI_DER_OID, PKI_OID_SHA256_RSA, sizeof(PKI_OID_SHA256_RSA));
		pki_der_put(w, PKI_DER_NULL, NULL, 0);
	} else {
		pki_der_put(w, PKI_DER_OID, PKI_OID_SHA256_ECDSA, sizeof(PKI_OID_SHA256_ECDSA));
	}
	pki_der_end(w);
}

int
pki_key_sign(struct pki_key *k, unsigned char *buf, size_t bodylen, size_t cap, WC_RNG *rng,
	     size_t *len)
{
	int n;

	if (k->kind == RSA_TYPE)
		n = wc_SignCert_ex((int)bodylen, CTC_SHA256wRSA, buf, (word32)cap, RSA_TYPE,
				   &k->rsa, rng);
	else if (k->kind == ECC_TYPE)
		n = wc_SignCert_ex((int)bodylen, CTC_SHA256wECDSA, buf, (word32)cap, ECC_TYPE,
				   &k->ecc, rng);
	else
		return PKI_EKEYTYPE;
	if (n <= 0)
		return n == BUFFER_E ? PKI_ESPACE : PKI_EINTERNAL;
	*len = (size_t)n;
	return 0;
}

/* ---- public keys ----------------------------------------------------------------------- */

int
pki_spki_parse(const struct pki_der *all, struct pki_spki *s)
{
	struct pki_der in = *all, body, alg;
	struct pki_tlv t, a, oid, bits;

	memset(s, 0, sizeof(*s));
	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0)
		return -1;
	s->all = t.all;
	body = t.v;
	if (pki_der_get(&body, PKI_DER_SEQ, &a) < 0 ||
	    pki_der_get(&body, PKI_DER_BIT_STRING, &bits) < 0)
		return -1;
	alg = a.v;
	if (pki_der_get(&alg, PKI_DER_OID, &oid) < 0)
		return -1;
	s->alg = oid.v;
	if (pki_der_peek(&alg) == PKI_DER_OID) {
		struct pki_tlv param;

		/* A curve OID that does not parse makes the key unreadable: s->param is
		 * either a view of this SPKI's bytes or empty, never left unset. */
		if (pki_der_get(&alg, PKI_DER_OID, &param) < 0)
			return -1;
		s->param = param.v;
	}
	if (bits.v.len < 2 || bits.v.p[0] != 0)
		return -1;
	s->bits.p = bits.v.p + 1;
	s->bits.len = bits.v.len - 1;
	return 0;
}

static int
curve_id(const struct pki_der *param)
{
	if (PKI_OID_EQ(param, PKI_OID_P256))
		return ECC_SECP256R1;
	if (PKI_OID_EQ(param, PKI_OID_P384))
		return ECC_SECP384R1;
	if (PKI_OID_EQ(param, PKI_OID_P521))
		return ECC_SECP521R1;
	return -1;
}

int
pki_spki_canonical(const struct pki_spki *s, unsigned char *out, size_t cap, size_t *len)
{
	word32 idx = 0;
	int n = -1;

	if (PKI_OID_EQ(&s->alg, PKI_OID_RSA)) {
		RsaKey rsa;

		if (wc_InitRsaKey(&rsa, NULL) != 0)
			return PKI_EINTERNAL;
		if (wc_RsaPublicKeyDecode(s->all.p, &idx, &rsa, (word32)s->all.len) == 0)
			n = wc_RsaKeyToPublicDer(&rsa, out, (word32)cap);
		wc_FreeRsaKey(&rsa);
	} else if (PKI_OID_EQ(&s->alg, PKI_OID_EC) && curve_id(&s->param) > 0) {
		ecc_key ecc;

		if (wc_ecc_init(&ecc) != 0)
			return PKI_EINTERNAL;
		if (wc_EccPublicKeyDecode(s->all.p, &idx, &ecc, (word32)s->all.len) == 0)
			n = wc_EccPublicKeyToDer(&ecc, out, (word32)cap, 1);
		wc_ecc_free(&ecc);
	} else {
		return PKI_EKEYTYPE;
	}
	if (n <= 0)
		return PKI_EBADKEY;
	*len = (size_t)n;
	return 0;
}

int
pki_spki_summary(const struct pki_spki *s, char *buf, size_t cap, int *rsa_bits)
{
	const char *name;
	char dotted[64];

	*rsa_bits = 0;
	if (PKI_OID_EQ(&s->alg, PKI_OID_RSA)) {
		RsaKey key;
		word32 idx = 0;
		int bits = -1;

		if (wc_InitRsaKey(&key, NULL) != 0)
			return PKI_EINTERNAL;
		if (wc_RsaPublicKeyDecode(s->all.p, &idx, &key, (word32)s->all.len) == 0)
			bits = wc_RsaEncryptSize(&key) * 8;
		wc_FreeRsaKey(&key);
		if (bits <= 0)
			return PKI_EBADKEY;
		snprintf(buf, cap, "RSA %d", bits);
		*rsa_bits = bits;
		return 0;
	}
	if (PKI_OID_EQ(&s->alg, PKI_OID_EC)) {
		name = pki_oid_name(&s->param);
		if (name != NULL && curve_id(&s->param) > 0) {
			snprintf(buf, cap, "EC %s", name);
			return 0;
		}
		if (pki_der_oid_text(&s->param, dotted, sizeof(dotted)) < 0)
			snprintf(dotted, sizeof(dotted), "explicit parameters");
		snprintf(buf, cap, "EC on curve %s (unsupported)", dotted);
		return PKI_EKEYTYPE;
	}
	name = pki_oid_name(&s->alg);
	if (name == NULL && pki_der_oid_text(&s->alg, dotted, sizeof(dotted)) == 0)
		name = dotted;
	snprintf(buf, cap, "%s (unsupported)", name != NULL ? name : "unknown algorithm");
	return PKI_EKEYTYPE;
}

int
pki_spki_key_id(const struct pki_spki *s, unsigned char id[20])
{
	/* SHA-1 here names a key; it is no security boundary (RFC 5280 §4.2.1.2, RFC 7093). */
	return wc_ShaHash(s->bits.p, (word32)s->bits.len, id) == 0 ? 0 : PKI_EINTERNAL;
}

int
pki_key_summary(const unsigned char *der, size_t len, char *buf, size_t cap)
{
	struct pki_key k;
	int rc = pki_key_load(der, len, &k);

	if (rc == 0) {
		if (k.kind == RSA_TYPE)
			snprintf(buf, cap, "RSA %d", k.bits);
		else
			snprintf(buf, cap, "EC %s",
				 k.ecc.dp->id == ECC_SECP256R1   ? "P-256"
				 : k.ecc.dp->id == ECC_SECP384R1 ? "P-384"
				 : k.ecc.dp->id == ECC_SECP521R1 ? "P-521"
								 : k.ecc.dp->name);
	}
	pki_key_free(&k);
	return rc;
}

/* ---- encrypted PKCS#8 ------------------------------------------------------------------ */

/* EncryptedPrivateKeyInfo around ct: PBES2 { PBKDF2 { salt, PKI_PBKDF2_ITERATIONS,
 * hmacWithSHA256 }, aes256-CBC { iv } } (RFC 8018 §A.2, §A.4, §C). */
static int
write_pbes2(unsigned char *out, size_t cap, const unsigned char salt[PBE_SALT_LEN],
	    const unsigned char iv[AES_BLOCK], const unsigned char *ct, size_t ctlen,
	    size_t *outlen)
{
	struct pki_der_w w;

	pki_der_init(&w, out, cap);
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_put(&w, PKI_DER_OID, PKI_OID_PBES2, sizeof(PKI_OID_PBES2));
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_put(&w, PKI_DER_OID, PKI_OID_PBKDF2, sizeof(PKI_OID_PBKDF2));
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_put(&w, PKI_DER_OCTET_STRING, salt, PBE_SALT_LEN);
	pki_der_small(&w, PKI_PBKDF2_ITERATIONS);
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_put(&w, PKI_DER_OID, PKI_OID_HMAC_SHA256, sizeof(PKI_OID_HMAC_SHA256));
	pki_der_put(&w, PKI_DER_NULL, NULL, 0);
	pki_der_end(&w);
	pki_der_end(&w);
	pki_der_end(&w);
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_put(&w, PKI_DER_OID, PKI_OID_AES256_CBC, sizeof(PKI_OID_AES256_CBC));
	pki_der_put(&w, PKI_DER_OCTET_STRING, iv, AES_BLOCK);
	pki_der_end(&w);
	pki_der_end(&w);
	pki_der_end(&w);
	pki_der_put(&w, PKI_DER_OCTET_STRING, ct, ctlen);
	pki_der_end(&w);
	return pki_der_finish(&w, outlen);
}

/*
 * EncryptedPrivateKeyInfo (RFC 5958 §3) with PBES2 (RFC 8018 §6.2): PBKDF2 with
 * hmacWithSHA256 and AES-256-CBC, the parameters OpenSSL 3 uses, so `openssl pkey` and
 * Python's cryptography read it. wolfCrypt does the PBKDF2 and the AES; the padding is
 * PKCS#7's, a whole block when the input is aligned.
 */
int
pki_pkcs8_encrypt(const unsigned char *pk8, size_t len, const char *password, WC_RNG *rng,
		  unsigned char *out, size_t cap, size_t *outlen)
{
	unsigned char salt[PBE_SALT_LEN], iv[AES_BLOCK], key[AES256_KEY_LEN];
	unsigned char ct[PKI_DER_MAX + AES_BLOCK];
	size_t pad = AES_BLOCK - len % AES_BLOCK, ctlen = len + pad;
	Aes aes;
	int rc = 0;

	if (ctlen > sizeof(ct))
		return PKI_ESPACE;
	if (wc_RNG_GenerateBlock(rng, salt, sizeof(salt)) != 0 ||
	    wc_RNG_GenerateBlock(rng, iv, sizeof(iv)) != 0)
		return PKI_ERNG;
	if (wc_PBKDF2(key, (const byte *)password, (int)strlen(password), salt, sizeof(salt),
		      PKI_PBKDF2_ITERATIONS, sizeof(key), WC_SHA256) != 0)
		return PKI_EINTERNAL;
	memcpy(ct, pk8, len);
	memset(ct + len, (int)pad, pad);
	if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
		rc = PKI_EINTERNAL;
	else {
		if (wc_AesSetKey(&aes, key, sizeof(key), iv, AES_ENCRYPTION) != 0 ||
		    wc_AesCbcEncrypt(&aes, ct, ct, (word32)ctlen) != 0)
			rc = PKI_EINTERNAL;
		wc_AesFree(&aes);
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(&aes, sizeof(aes));
	if (rc != 0) {
		explicit_bzero(ct, sizeof(ct));
		return rc;
	}
	rc = write_pbes2(out, cap, salt, iv, ct, ctlen, outlen);
	explicit_bzero(ct, sizeof(ct));
	return rc;
}

int
pki_key_generate(enum pki_key_type type, const char *password, char *pem, size_t cap,
		 size_t *pemlen)
{
	unsigned char pk8[PKI_DER_MAX], enc[PKI_DER_MAX + 256];
	size_t pk8len = 0, enclen = 0;
	struct pki_key k;
	WC_RNG rng;
	int rc = 0, bits = 0;

	memset(&k, 0, sizeof(k));
	switch (type) {
	case PKI_KEY_RSA2048: bits = 2048; break;
	case PKI_KEY_RSA3072: bits = 3072; break;
	case PKI_KEY_RSA4096: bits = 4096; break;
	case PKI_KEY_EC_P256: break;
	default: return PKI_EKEYTYPE;
	}
	if (wc_InitRng(&rng) != 0)
		return PKI_ERNG;
	if (bits > 0) {
		if (wc_InitRsaKey(&k.rsa, NULL) != 0)
			rc = PKI_EINTERNAL;
		else {
			k.kind = RSA_TYPE;
			/* e = 65537, as the tutorial and every modern tool. */
			if (wc_MakeRsaKey(&k.rsa, bits, WC_RSA_EXPONENT, &rng) != 0)
				rc = PKI_EINTERNAL;
		}
	} else {
		if (wc_ecc_init(&k.ecc) != 0)
			rc = PKI_EINTERNAL;
		else {
			k.kind = ECC_TYPE;
			if (wc_ecc_make_key_ex(&rng, 32, &k.ecc, ECC_SECP256R1) != 0)
				rc = PKI_EINTERNAL;
		}
	}
	if (rc == 0)
		rc = key_to_pkcs8(&k, pk8, sizeof(pk8), &pk8len);
	pki_key_free(&k);
	if (rc == 0 && password != NULL) {
		rc = pki_pkcs8_encrypt(pk8, pk8len, password, &rng, enc, sizeof(enc), &enclen);
		if (rc == 0)
			rc = pki_pem_encode(enc, enclen, PKCS8_ENC_PRIVATEKEY_TYPE, pem, cap,
					    pemlen);
	} else if (rc == 0) {
		rc = pki_pem_encode(pk8, pk8len, PKCS8_PRIVATEKEY_TYPE, pem, cap, pemlen);
	}
	explicit_bzero(pk8, sizeof(pk8));
	wc_FreeRng(&rng);
	return rc;
}

/* ---- decoding -------------------------------------------------------------------------- */

static const char *const key_labels[] = {"ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY",
					 "EC PRIVATE KEY", NULL};
#define LABEL_ENCRYPTED 0

/* Legacy OpenSSL encryption (RFC 1421 headers inside the PEM block), as the tutorial's
 * Python writes with TraditionalOpenSSL + BestAvailableEncryption. */
static int
is_legacy_encrypted(const unsigned char *in, size_t len)
{
	return pki_pem_legacy_encrypted(in, len);
}

/* EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }, while a
 * PrivateKeyInfo starts with its INTEGER version. */
static int
der_is_encrypted_pkcs8(const unsigned char *der, size_t len)
{
	struct pki_der in = {der, len}, body;
	struct pki_tlv t;

	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0)
		return 0;
	body = t.v;
	return pki_der_get(&body, PKI_DER_SEQ, &t) == 0 &&
	       pki_der_get(&body, PKI_DER_OCTET_STRING, &t) == 0 && body.len == 0;
}

int
pki_key_is_encrypted(const unsigned char *in, size_t len)
{
	unsigned char der[KEY_SCRATCH];
	size_t off = 0, dlen = 0;
	int which = -1, rc;

	if (is_legacy_encrypted(in, len))
		return 1;
	if (!pki_pem_is(in, len))
		return der_is_encrypted_pkcs8(in, len);
	rc = pki_pem_next(in, len, &off, key_labels, &which, der, sizeof(der), &dlen);
	explicit_bzero(der, sizeof(der));
	return rc == 1 && which == LABEL_ENCRYPTED;
}

/* Load, check and re-encode a decrypted key; bad_code is what a failure means here
 * (a wrong password after decryption, garbage otherwise). */
static int
finish_key(const unsigned char *plain, size_t plen, int bad_code, unsigned char *der, size_t cap,
	   size_t *derlen)
{
	struct pki_key k;
	WC_RNG rng;
	int rc;

	rc = pki_key_load(plain, plen, &k);
	if (rc == PKI_EBADKEY)
		rc = bad_code;
	if (rc == 0) {
		if (wc_InitRng(&rng) != 0) {
			rc = PKI_ERNG;
		} else {
			rc = key_consistent(&k, &rng);
			wc_FreeRng(&rng);
			if (rc == PKI_EBADKEY)
				rc = bad_code;
		}
	}
	if (rc == 0)
		rc = key_to_pkcs8(&k, der, cap, derlen);
	pki_key_free(&k);
	return rc;
}

int
pki_key_decode(const unsigned char *in, size_t len, const char *password, unsigned char *der,
	       size_t cap, size_t *derlen)
{
	unsigned char buf[KEY_SCRATCH];
	size_t blen = 0, off = 0;
	int which = -1, rc, n;

	if (len == 0)
		return PKI_EBADKEY;
	if (is_legacy_encrypted(in, len)) {
		if (password == NULL)
			return PKI_ENEEDPASS;
		if (len > (size_t)0x7fffffff)
			return PKI_EBADKEY;
		/* wolfSSL parses the DEK-Info header and derives the key (OpenSSL's
		 * EVP_BytesToKey); it does not notice a wrong password, finish_key does. */
		n = wc_KeyPemToDer(in, (int)len, buf, sizeof(buf), password);
		if (n <= 0)
			rc = n == BUFFER_E ? PKI_ESPACE : PKI_EPASSWORD;
		else
			rc = finish_key(buf, (size_t)n, PKI_EPASSWORD, der, cap, derlen);
		explicit_bzero(buf, sizeof(buf));
		return rc;
	}
	if (pki_pem_is(in, len)) {
		rc = pki_pem_next(in, len, &off, key_labels, &which, buf, sizeof(buf), &blen);
		if (rc != 1) {
			explicit_bzero(buf, sizeof(buf));
			return rc == PKI_ESPACE ? PKI_ESPACE : PKI_EBADKEY;
		}
	} else {
		if (len > sizeof(buf))
			return PKI_EBADKEY;
		memcpy(buf, in, len);
		blen = len;
		which = der_is_encrypted_pkcs8(buf, blen) ? LABEL_ENCRYPTED : 1;
	}
	if (which == LABEL_ENCRYPTED) {
		if (!der_is_encrypted_pkcs8(buf, blen))
			rc = PKI_EBADKEY;
		else if (password == NULL)
			rc = PKI_ENEEDPASS;
		else {
			/* Decrypts in place (PBES1/PBES2, any PRF wolfSSL knows); a wrong
			 * password leaves garbage that fails to parse (ASN_PARSE_E). */
			n = wc_DecryptPKCS8Key(buf, (word32)blen, password, (int)strlen(password));
			if (n <= 0)
				rc = PKI_EPASSWORD;
			else
				rc = finish_key(buf, (size_t)n, PKI_EPASSWORD, der, cap, derlen);
		}
	} else {
		rc = finish_key(buf, blen, PKI_EBADKEY, der, cap, derlen);
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* ---- keys and certificates ------------------------------------------------------------- */

int
pki_key_matches_cert(const unsigned char *keyder, size_t keylen, const unsigned char *cert,
		     size_t certlen)
{
	unsigned char certder[PKI_DER_MAX], spki[PKI_DER_MAX], a[PKI_DER_MAX], b[PKI_DER_MAX];
	size_t certderlen = 0, spkilen = 0, alen = 0, blen = 0;
	struct pki_x509 x;
	struct pki_spki s;
	struct pki_der d;
	struct pki_key k;
	int rc;

	rc = pki_cert_decode(cert, certlen, certder, sizeof(certder), &certderlen);
	if (rc != 0)
		return rc;
	if (pki_x509_parse(certder, certderlen, &x, NULL, 0) != 0)
		return PKI_EBADCERT;
	rc = pki_key_load(keyder, keylen, &k);
	if (rc == 0)
		rc = pki_key_spki(&k, spki, sizeof(spki), &spkilen);
	pki_key_free(&k);
	if (rc != 0)
		return rc;
	d.p = spki;
	d.len = spkilen;
	if (pki_spki_parse(&d, &s) < 0 || pki_spki_canonical(&s, a, sizeof(a), &alen) != 0)
		return PKI_EBADKEY;
	rc = pki_spki_canonical(&x.spki, b, sizeof(b), &blen);
	if (rc == PKI_EKEYTYPE)
		return PKI_EMISMATCH;
	if (rc != 0)
		return PKI_EBADCERT;
	return alen == blen && memcmp(a, b, alen) == 0 ? 0 : PKI_EMISMATCH;
}
