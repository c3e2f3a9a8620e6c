#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "pki_int.h"

/* Random serial bytes: RFC 5280 §4.1.2.2 allows 20; the CA/Browser Forum wants 64 random
 * bits. 16 bytes with the top two bits fixed to 01: a positive, minimally encoded 127-bit
 * number carrying 126 random bits. */
#define SERIAL_LEN 16

/* ---- extensions (RFC 5280 §4.2) -------------------------------------------------------- */

/* 1 if a BOOLEAN's contents say TRUE (DER: 0xff; any non-zero is read as TRUE). */
static int
boolean_true(const struct pki_tlv *t)
{
	return t->v.len == 1 && t->v.p[0] != 0;
}

/* §4.2.1.9 BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPT } */
static int
parse_bc(struct pki_der v, struct pki_exts *e)
{
	struct pki_der bc;
	struct pki_tlv t;

	if (pki_der_get(&v, PKI_DER_SEQ, &t) < 0)
		return -1;
	bc = t.v;
	if (pki_der_get(&bc, PKI_DER_BOOLEAN, &t) == 0)
		e->bc_ca = boolean_true(&t);
	if (pki_der_get(&bc, PKI_DER_INTEGER, &t) == 0) {
		/* A path length over 32767 (two octets) is no real constraint: refused. */
		if (t.v.len > 2 || (t.v.p[0] & 0x80))
			return -1;
		e->bc_pathlen = 0;
		for (size_t i = 0; i < t.v.len; i++)
			e->bc_pathlen = e->bc_pathlen << 8 | t.v.p[i];
	}
	return 0;
}

/* §4.2.1.3 KeyUsage ::= BIT STRING, nine named bits (so at most two octets after the
 * unused-bits count). */
static int
parse_ku(struct pki_der v, struct pki_exts *e)
{
	struct pki_tlv t;

	if (pki_der_get(&v, PKI_DER_BIT_STRING, &t) < 0 || t.v.len < 1 || t.v.len > 3)
		return -1;
	for (size_t i = 0; i + 1 < t.v.len; i++)
		for (int b = 0; b < 8; b++)
			if (t.v.p[1 + i] & (0x80 >> b))
				e->ku_bits |= 1u << (i * 8 + (size_t)b);
	return 0;
}

/* §4.2.1.12 ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId (OIDs) */
static int
parse_eku(struct pki_der v, struct pki_exts *e)
{
	struct pki_der list;
	struct pki_tlv t;

	if (pki_der_get(&v, PKI_DER_SEQ, &t) < 0)
		return -1;
	list = t.v;
	while (list.len > 0) {
		if (pki_der_get(&list, PKI_DER_OID, &t) < 0)
			return -1;
		if (PKI_OID_EQ(&t.v, PKI_OID_SERVER_AUTH))
			e->eku_bits |= PKI_EKU_SERVER;
		else if (PKI_OID_EQ(&t.v, PKI_OID_CLIENT_AUTH))
			e->eku_bits |= PKI_EKU_CLIENT;
		else if (PKI_OID_EQ(&t.v, PKI_OID_ANY_EKU))
			e->eku_bits |= PKI_EKU_ANY;
		else
			e->eku_bits |= PKI_EKU_OTHER;
	}
	return 0;
}

/* §4.2.1.6 GeneralNames ::= SEQUENCE OF GeneralName (each checked by pki_san_check) */
static int
parse_san(struct pki_der v, struct pki_exts *e)
{
	struct pki_tlv t;

	if (pki_der_get(&v, PKI_DER_SEQ, &t) < 0)
		return -1;
	e->san_names = t.v;
	return 0;
}

/* §4.2.1.2 SubjectKeyIdentifier ::= OCTET STRING */
static int
parse_ski(struct pki_der v, struct pki_exts *e)
{
	struct pki_tlv t;

	if (pki_der_get(&v, PKI_DER_OCTET_STRING, &t) < 0)
		return -1;
	e->ski_id = t.v;
	return 0;
}

/* §4.2.1.1 AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, ... } */
static int
parse_aki(struct pki_der v, struct pki_exts *e)
{
	struct pki_der aki;
	struct pki_tlv t;

	if (pki_der_get(&v, PKI_DER_SEQ, &t) < 0)
		return -1;
	aki = t.v;
	if (pki_der_get(&aki, PKI_DER_CTXP(0), &t) == 0)
		e->aki_id = t.v;
	return 0;
}

/* An extension libpki reads: its OID, its name in messages, its flags in struct pki_exts. */
struct ext_kind {
	const unsigned char *oid;
	size_t oidlen;
	const char *name;
	size_t seen, crit; /* offsetof the "present" and "critical" ints */
	int (*parse)(struct pki_der v, struct pki_exts *e);
};

#define EXT_KIND(o, n, flag, fn)                                                                   \
	{                                                                                          \
		.oid = o, .oidlen = sizeof(o), .name = n, .seen = offsetof(struct pki_exts, flag), \
		.crit = offsetof(struct pki_exts, flag##_crit), .parse = fn                        \
	}

static const struct ext_kind ext_kinds[] = {
	EXT_KIND(PKI_OID_BASIC_CONSTRAINTS, "basicConstraints", bc, parse_bc),
	EXT_KIND(PKI_OID_KEY_USAGE, "keyUsage", ku, parse_ku),
	EXT_KIND(PKI_OID_EXT_KEY_USAGE, "extendedKeyUsage", eku, parse_eku),
	EXT_KIND(PKI_OID_SAN, "subjectAltName", san, parse_san),
	EXT_KIND(PKI_OID_SKI, "subjectKeyIdentifier", ski, parse_ski),
	EXT_KIND(PKI_OID_AKI, "authorityKeyIdentifier", aki, parse_aki),
};

#undef EXT_KIND

static int *
ext_flag(struct pki_exts *e, size_t offset)
{
	return (int *)(void *)((char *)e + offset);
}

/* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET
 * STRING }: the next one of in. 0 or -1 (err says what is wrong). */
static int
ext_next(struct pki_der *in, struct pki_tlv *oid, int *critical, struct pki_der *value, char *err,
	 size_t errlen)
{
	struct pki_tlv ext, crit, val;
	struct pki_der body;

	if (pki_der_get(in, PKI_DER_SEQ, &ext) < 0)
		return pki_fail(-1, err, errlen, "an extension is not DER");
	body = ext.v;
	if (pki_der_get(&body, PKI_DER_OID, oid) < 0)
		return pki_fail(-1, err, errlen, "an extension has no OID");
	*critical = pki_der_get(&body, PKI_DER_BOOLEAN, &crit) == 0 && boolean_true(&crit);
	if (pki_der_get(&body, PKI_DER_OCTET_STRING, &val) < 0 || body.len != 0)
		return pki_fail(-1, err, errlen, "an extension has no value");
	*value = val.v;
	return 0;
}

int
pki_exts_parse(const struct pki_der *exts, struct pki_exts *e, char *err, size_t errlen)
{
	struct pki_der in = *exts;

	memset(e, 0, sizeof(*e));
	e->bc_pathlen = -1;
	while (in.len > 0) {
		const struct ext_kind *kind = NULL;
		struct pki_tlv oid;
		struct pki_der value;
		int critical = 0;

		if (ext_next(&in, &oid, &critical, &value, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(ext_kinds) / sizeof(ext_kinds[0]); i++)
			if (pki_der_oid_eq(&oid.v, ext_kinds[i].oid, ext_kinds[i].oidlen))
				kind = &ext_kinds[i];
		if (kind == NULL) {
			e->unknown_crit += critical;
			continue;
		}
		/* §4.2: an extension appears at most once; a second copy is only noted. */
		if (*ext_flag(e, kind->seen)) {
			e->duplicate = 1;
			continue;
		}
		*ext_flag(e, kind->crit) = critical;
		if (kind->parse(value, e) < 0)
			return pki_fail(-1, err, errlen, "the %s extension is malformed",
					kind->name);
		*ext_flag(e, kind->seen) = 1;
	}
	return 0;
}

/* ---- certificates ---------------------------------------------------------------------- */

/* RFC 5280 §4.1.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue }. *tbs gets the TBSCertificate's contents. */
static int
x509_outer(const unsigned char *der, size_t len, struct pki_x509 *x, struct pki_der *tbs, char *err,
	   size_t errlen)
{
	struct pki_der in = {der, len}, cert, alg;
	struct pki_tlv t;

	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0 || in.len != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "not a DER certificate");
	x->all = t.all;
	cert = t.v;
	if (pki_der_get(&cert, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no tbsCertificate");
	x->tbs = t.all;
	*tbs = t.v;
	if (pki_der_get(&cert, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no signature algorithm");
	alg = t.v;
	if (pki_der_get(&alg, PKI_DER_OID, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no signature algorithm");
	x->sig_alg = t.v;
	if (pki_der_get(&cert, PKI_DER_BIT_STRING, &t) < 0 || cert.len != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no signature");
	return 0;
}

/* RFC 5280 §4.1.2: version [0], serial, signature, issuer, validity: what comes before the
 * subject. */
static int
x509_head(struct pki_der *tbs, struct pki_x509 *x, char *err, size_t errlen)
{
	struct pki_der v;
	struct pki_tlv t;

	x->version = 1;
	if (pki_der_get(tbs, PKI_DER_CTX(0), &t) == 0) {
		v = t.v;
		if (pki_der_get(&v, PKI_DER_INTEGER, &t) < 0 || t.v.len != 1 || t.v.p[0] > 2)
			return pki_fail(PKI_EBADCERT, err, errlen, "bad version");
		x->version = t.v.p[0] + 1;
	}
	if (pki_der_get(tbs, PKI_DER_INTEGER, &t) < 0 || t.v.len == 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no serial number");
	x->serial = t.v;
	if (pki_der_get(tbs, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no signature algorithm in the body");
	x->tbs_sig = t.all;
	if (pki_der_get(tbs, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no issuer name");
	x->issuer = t.all;
	if (pki_der_get(tbs, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no validity");
	v = t.v;
	if (pki_der_next(&v, &t) < 0 || pki_der_time(&t, &x->not_before) < 0 ||
	    pki_der_next(&v, &t) < 0 || pki_der_time(&t, &x->not_after) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "unreadable validity dates");
	return 0;
}

int
pki_x509_parse(const unsigned char *der, size_t len, struct pki_x509 *x, char *err, size_t errlen)
{
	struct pki_der tbs, v;
	struct pki_tlv t;
	int rc;

	memset(x, 0, sizeof(*x));
	x->ext.bc_pathlen = -1;
	if ((rc = x509_outer(der, len, x, &tbs, err, errlen)) != 0 ||
	    (rc = x509_head(&tbs, x, err, errlen)) != 0)
		return rc;
	if (pki_der_get(&tbs, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "no subject name");
	x->subject = t.all;
	if (pki_der_get(&tbs, PKI_DER_SEQ, &t) < 0 || pki_spki_parse(&t.all, &x->spki) < 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "unreadable public key");
	/* issuerUniqueID [1] and subjectUniqueID [2] are optional and unused: skip them if there. */
	(void)pki_der_get(&tbs, PKI_DER_CTXP(1), &t);
	(void)pki_der_get(&tbs, PKI_DER_CTXP(2), &t);
	if (pki_der_get(&tbs, PKI_DER_CTX(3), &t) == 0) {
		v = t.v;
		if (pki_der_get(&v, PKI_DER_SEQ, &t) < 0)
			return pki_fail(PKI_EBADCERT, err, errlen, "unreadable extensions");
		if (pki_exts_parse(&t.v, &x->ext, err, errlen) < 0)
			return PKI_EBADCERT;
	}
	if (tbs.len != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "trailing data in the body");
	return 0;
}

static const char *const cert_labels[] = {"CERTIFICATE", "X509 CERTIFICATE", NULL};

int
pki_cert_next(const unsigned char *in, size_t len, size_t *offset, unsigned char *der, size_t cap,
	      size_t *derlen)
{
	struct pki_x509 x;
	int rc;

	if (!pki_pem_is(in, len)) {
		if (*offset >= len)
			return 0;
		*offset = len;
		if (len > cap)
			return PKI_ESPACE;
		if (pki_x509_parse(in, len, &x, NULL, 0) != 0)
			return PKI_EBADCERT;
		memcpy(der, in, len);
		*derlen = len;
		return 1;
	}
	rc = pki_pem_next(in, len, offset, cert_labels, NULL, der, cap, derlen);
	if (rc == PKI_ESPACE)
		return rc;
	if (rc < 0)
		return PKI_EBADCERT;
	if (rc == 1 && pki_x509_parse(der, *derlen, &x, NULL, 0) != 0)
		return PKI_EBADCERT;
	return rc;
}

int
pki_cert_decode(const unsigned char *in, size_t len, unsigned char *der, size_t cap, size_t *derlen)
{
	size_t off = 0;
	int rc = pki_cert_next(in, len, &off, der, cap, derlen);

	return rc == 1 ? 0 : rc == 0 ? PKI_EBADCERT : rc;
}

int
pki_cert_validity(const unsigned char *der, size_t len, time_t *not_before, time_t *not_after)
{
	struct pki_x509 x;

	if (pki_x509_parse(der, len, &x, NULL, 0) != 0)
		return PKI_EBADCERT;
	*not_before = x.not_before;
	*not_after = x.not_after;
	return 0;
}

/* The CN of a name, or the whole name when it has none. */
static void
who(const struct pki_der *name, char *buf, size_t cap)
{
	if (pki_name_cn(name, buf, cap) != 1 && pki_name_text(name, buf, cap) < 0)
		snprintf(buf, cap, "(unreadable name)");
}

int
pki_cert_sentence(const unsigned char *der, size_t len, char *buf, size_t cap)
{
	struct pki_x509 x;
	char nb[32], na[32], subject[PKI_NAME_MAX * 4 + 1], issuer[PKI_NAME_MAX * 4 + 1];
	int n;

	if (pki_x509_parse(der, len, &x, NULL, 0) != 0)
		return PKI_EBADCERT;
	pki_time_format(x.not_before, nb, sizeof(nb));
	pki_time_format(x.not_after, na, sizeof(na));
	who(&x.subject, subject, sizeof(subject));
	who(&x.issuer, issuer, sizeof(issuer));
	n = snprintf(buf, cap, "From %s to %s I am %s according to %s", nb, na, subject, issuer);
	return n < 0 || (size_t)n >= cap ? PKI_ESPACE : 0;
}

/* ---- making certificates --------------------------------------------------------------- */

static void
ext_begin(struct pki_der_w *w, const unsigned char *oid, size_t oidlen, int critical)
{
	static const unsigned char true_ = 0xff;

	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_put(w, PKI_DER_OID, oid, oidlen);
	if (critical)
		pki_der_put(w, PKI_DER_BOOLEAN, &true_, 1);
	pki_der_begin(w, PKI_DER_OCTET_STRING);
}

static void
ext_end(struct pki_der_w *w)
{
	pki_der_end(w); /* OCTET STRING */
	pki_der_end(w); /* Extension */
}

static int
make_serial(WC_RNG *rng, unsigned char serial[SERIAL_LEN])
{
	if (wc_RNG_GenerateBlock(rng, serial, SERIAL_LEN) != 0)
		return PKI_ERNG;
	serial[0] = (unsigned char)((serial[0] & 0x3f) | 0x40);
	return 0;
}

/*
 * RFC 5280 §4.1: open a v3 TBSCertificate and write all that comes before its extensions
 * (version, serial, signature algorithm, issuer, validity, subject, public key), then open
 * the [3] extensions SEQUENCE. The caller writes extensions, then tbs_end_sign() closes it.
 */
static void
tbs_begin(struct pki_der_w *w, const unsigned char serial[SERIAL_LEN], const struct pki_key *k,
	  const unsigned char *issuer, size_t issuerlen, time_t not_before, time_t not_after,
	  const unsigned char *subject, size_t subjectlen, const unsigned char *spki,
	  size_t spkilen)
{
	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_begin(w, PKI_DER_CTX(0));
	pki_der_small(w, 2);
	pki_der_end(w);
	pki_der_uint(w, serial, SERIAL_LEN);
	pki_key_sig_alg(k, w);
	pki_der_raw(w, issuer, issuerlen);
	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_put_time(w, not_before);
	pki_der_put_time(w, not_after);
	pki_der_end(w);
	pki_der_raw(w, subject, subjectlen);
	pki_der_raw(w, spki, spkilen);
	pki_der_begin(w, PKI_DER_CTX(3));
	pki_der_begin(w, PKI_DER_SEQ);
}

/*
 * The signer: the issuer's key and an RNG (for the serial and, with ECDSA, the signature).
 * 0, or the error described in err with nothing left to free.
 */
static int
signer_open(const unsigned char *key, size_t keylen, struct pki_key *k, WC_RNG *rng, char *err,
	    size_t errlen)
{
	int rc = pki_key_load(key, keylen, k);

	if (rc == 0 && k->kind == RSA_TYPE &&
	    (rc = pki_rsa_strong(k->bits, "the signing", err, errlen)) != 0) {
		pki_key_free(k);
		return rc;
	}
	if (rc == 0 && wc_InitRng(rng) != 0)
		rc = PKI_ERNG;
	if (rc != 0) {
		pki_key_free(k);
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	}
	return 0;
}

/*
 * Close the three levels tbs_begin() left open (the extensions SEQUENCE, [3], the
 * TBSCertificate), sign with k, and write the certificate as PEM. Then release the signer,
 * whatever happened; rc is what came before (0 to go on). Failures are described in err.
 */
static int
tbs_end_sign(struct pki_der_w *w, int rc, struct pki_key *k, WC_RNG *rng, char *pem, size_t pemcap,
	     size_t *pemlen, char *err, size_t errlen)
{
	size_t tbslen = 0, derlen = 0;

	if (rc == 0) {
		pki_der_end(w);
		pki_der_end(w);
		pki_der_end(w);
		rc = pki_der_finish(w, &tbslen);
	}
	if (rc == 0)
		rc = pki_key_sign(k, w->buf, tbslen, w->cap, rng, &derlen);
	if (rc == 0)
		rc = pki_pem_encode(w->buf, derlen, CERT_TYPE, pem, pemcap, pemlen);
	wc_FreeRng(rng);
	pki_key_free(k);
	if (rc != 0)
		pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	return rc;
}

int
pki_ca_create(const unsigned char *key, size_t keylen, const struct pki_name *name,
	      time_t not_before, time_t not_after, char *pem, size_t cap, size_t *pemlen, char *err,
	      size_t errlen)
{
	static const unsigned char bc_ca[] = {0x30, 0x03, 0x01, 0x01, 0xff}; /* CA:TRUE */
	unsigned char namebuf[1024], spki[PKI_DER_MAX], tbs[PKI_DER_MAX], serial[SERIAL_LEN],
		id[20];
	size_t namelen = 0, spkilen = 0;
	struct pki_der_w w;
	struct pki_der d;
	struct pki_spki s;
	struct pki_key k;
	WC_RNG rng;
	int rc;

	if (not_after <= not_before)
		return pki_fail(PKI_EDATE, err, errlen,
				"the certificate would end before it starts");
	pki_der_init(&w, namebuf, sizeof(namebuf));
	rc = pki_name_encode(name, &w, err, errlen);
	if (rc == 0 && pki_der_finish(&w, &namelen) != 0)
		rc = pki_fail(PKI_ENAME, err, errlen, "the name is too long");
	if (rc != 0)
		return rc;
	rc = signer_open(key, keylen, &k, &rng, err, errlen);
	if (rc != 0)
		return rc;
	rc = pki_key_spki(&k, spki, sizeof(spki), &spkilen);
	d.p = spki;
	d.len = spkilen;
	if (rc == 0 && pki_spki_parse(&d, &s) < 0)
		rc = PKI_EINTERNAL;
	if (rc == 0)
		rc = pki_spki_key_id(&s, id);
	if (rc == 0)
		rc = make_serial(&rng, serial);
	if (rc == 0) {
		/* Self-signed: issuer == subject. */
		pki_der_init(&w, tbs, sizeof(tbs));
		tbs_begin(&w, serial, &k, namebuf, namelen, not_before, not_after, namebuf, namelen,
			  spki, spkilen);
		/* §4.2.1.9: CA:TRUE, critical (wolfSSL's own encoder leaves it non-critical,
		 * which OpenSSL's X509_STRICT and Python's VERIFY_X509_STRICT refuse). */
		ext_begin(&w, PKI_OID_BASIC_CONSTRAINTS, sizeof(PKI_OID_BASIC_CONSTRAINTS), 1);
		pki_der_raw(&w, bc_ca, sizeof(bc_ca));
		ext_end(&w);
		/* §4.2.1.3: a CA key signs certificates and CRLs, nothing else. */
		ext_begin(&w, PKI_OID_KEY_USAGE, sizeof(PKI_OID_KEY_USAGE), 1);
		pki_der_named_bits(&w, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN);
		ext_end(&w);
		/* §4.2.1.2: "MUST appear in all conforming CA certificates". */
		ext_begin(&w, PKI_OID_SKI, sizeof(PKI_OID_SKI), 0);
		pki_der_put(&w, PKI_DER_OCTET_STRING, id, sizeof(id));
		ext_end(&w);
	}
	return tbs_end_sign(&w, rc, &k, &rng, pem, cap, pemlen, err, errlen);
}

int
pki_cn_is_host(const char *cn)
{
	unsigned char ip[16];

	return inet_pton(AF_INET, cn, ip) == 1 || inet_pton(AF_INET6, cn, ip) == 1 ||
	       pki_dns_name_ok(cn, strlen(cn));
}

/* The SAN for a CSR that has none: its CN as a DNS name or an IP address. */
static int
san_from_cn(const char *cn, struct pki_der_w *w, char *err, size_t errlen)
{
	unsigned char ip[16];

	/* The one test, shared with csr's warning: what csr promises, sign does. */
	if (!pki_cn_is_host(cn))
		return pki_fail(PKI_ESAN, err, errlen,
				"the CSR has no subjectAltName and its CN '%s' is not a host name "
				"(make the CSR again with --san NAME)",
				cn);
	pki_der_begin(w, PKI_DER_SEQ);
	if (inet_pton(AF_INET, cn, ip) == 1)
		pki_der_put(w, PKI_DER_CTXP(7), ip, 4);
	else if (inet_pton(AF_INET6, cn, ip) == 1)
		pki_der_put(w, PKI_DER_CTXP(7), ip, 16);
	else
		pki_der_put(w, PKI_DER_CTXP(2), cn, strlen(cn));
	pki_der_end(w);
	return 0;
}

/* What pki_csr_sign works from: the request and the CA, parsed (views into the DER buffers),
 * and the pieces of the certificate worked out before anything is signed. */
struct issue {
	unsigned char reqder[PKI_DER_MAX], cader[PKI_DER_MAX], san[PKI_DER_MAX];
	struct pki_req req;
	struct pki_x509 ca;
	int rsa_bits; /* the request's RSA key size, 0 for EC */
	size_t sanlen;
	unsigned char ski[20], cakid[20];
	const unsigned char *aki;
	size_t akilen;
};

/* The request: decoded, parsed, its own signature checked, its key one we sign for. */
static int
read_request(const struct pki_sign_opts *o, struct issue *is, char *err, size_t errlen)
{
	char keydesc[64], detail[160];
	size_t len = 0;
	int rc = pki_csr_decode(o->csr, o->csrlen, is->reqder, sizeof(is->reqder), &len);

	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	if (pki_req_parse(is->reqder, len, &is->req, detail, sizeof(detail)) != 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "%s", detail);
	rc = pki_req_verify(is->reqder, len);
	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	if (pki_spki_summary(&is->req.spki, keydesc, sizeof(keydesc), &is->rsa_bits) != 0)
		return pki_fail(PKI_EKEYTYPE, err, errlen, "the CSR's key is %s", keydesc);
	if (is->rsa_bits > 0)
		return pki_rsa_strong(is->rsa_bits, "the CSR's", err, errlen);
	return 0;
}

/*
 * The CA certificate: readable, the pair of the CA key, and not one that says it is no CA.
 * Notes a CA that says nothing (the tutorial's) and one outside its validity at o->now.
 */
static int
check_ca(const struct pki_sign_opts *o, struct issue *is, struct pki_sign_notes *notes, char *err,
	 size_t errlen)
{
	const struct pki_exts *e = &is->ca.ext;
	char detail[160];
	size_t len = 0;
	int rc = pki_cert_decode(o->cacert, o->cacertlen, is->cader, sizeof(is->cader), &len);

	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s (expected PEM 'CERTIFICATE' or DER)",
				pki_strerror(rc));
	if (pki_x509_parse(is->cader, len, &is->ca, detail, sizeof(detail)) != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "not a certificate that can be read: %s",
				detail);
	rc = pki_key_matches_cert(o->cakey, o->cakeylen, is->cader, len);
	if (rc == PKI_EMISMATCH)
		return pki_fail(rc, err, errlen,
				"the CA key does not belong to the CA certificate");
	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	/* A certificate that says it is no CA issues nothing OpenSSL, curl or Python accept
	 * (wolfSSL refuses CA:FALSE too); only the tutorial's CA, which has no basicConstraints
	 * at all, is given the benefit of the doubt (a warning). */
	if (pki_x509_says_no_ca(&is->ca))
		return pki_fail(PKI_EBADCERT, err, errlen,
				"this certificate says it is no CA (%s), so nothing it signs would "
				"verify (give the CA certificate made by 'squirrel-pki ca')",
				e->bc && !e->bc_ca ? "basicConstraints CA:FALSE"
						   : "keyUsage without keyCertSign");
	if (!e->bc)
		notes->flags |= PKI_SIGN_ISSUER_NOT_CA;
	if (o->now < is->ca.not_before || o->now > is->ca.not_after)
		notes->flags |= PKI_SIGN_CA_EXPIRED;
	return 0;
}

/*
 * Nothing issued outlives its issuer: a certificate valid after its CA expired would only
 * fail later, and more confusingly. The start is left alone (RFC 5280 does not nest
 * validities, nor do verifiers), so a backdated, already expired certificate can be made
 * under a fresh CA for tests.
 */
static int
clip_validity(const struct pki_sign_opts *o, const struct pki_x509 *ca,
	      struct pki_sign_notes *notes, char *err, size_t errlen)
{
	char end[32];

	notes->not_before = o->not_before;
	notes->not_after = o->not_after;
	if (notes->not_after > ca->not_after) {
		notes->not_after = ca->not_after;
		notes->flags |= PKI_SIGN_CLIPPED;
	}
	if (notes->not_after > notes->not_before)
		return 0;
	pki_time_format(ca->not_after, end, sizeof(end));
	/* No option can help then: the CA file is what must change. */
	if (o->now > ca->not_after)
		return pki_fail(
			PKI_EBADCERT, err, errlen,
			"the CA certificate expired on %s UTC, so nothing it signs now can be "
			"valid (make a new one from the same key with 'squirrel-pki ca --key "
			"CAKEY', give it to the clients, and sign with it)",
			end);
	return pki_fail(PKI_EDATE, err, errlen,
			"the requested validity starts after the CA certificate ends (%s UTC)",
			end);
}

/* The certificate's GeneralNames: the request's, checked, or else its CN (noted). */
static int
build_san(struct issue *is, struct pki_sign_notes *notes, char *err, size_t errlen)
{
	struct pki_der_w w;
	char detail[160];
	int rc;

	if (pki_name_cn(&is->req.subject, notes->cn, sizeof(notes->cn)) < 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "unreadable subject name");
	pki_der_init(&w, is->san, sizeof(is->san));
	if (is->req.ext.san) {
		if (pki_san_check(&is->req.ext.san_names, detail, sizeof(detail)) != 0)
			return pki_fail(PKI_ESAN, err, errlen, "%s", detail);
		pki_der_put(&w, PKI_DER_SEQ, is->req.ext.san_names.p, is->req.ext.san_names.len);
	} else {
		if (notes->cn[0] == '\0')
			return pki_fail(
				PKI_ESAN, err, errlen,
				"the CSR has neither a subjectAltName nor a CN (make it again "
				"with --san NAME)");
		rc = san_from_cn(notes->cn, &w, err, errlen);
		if (rc != 0)
			return rc;
		notes->flags |= PKI_SIGN_SAN_FROM_CN;
	}
	if (pki_der_finish(&w, &is->sanlen) != 0)
		return pki_fail(PKI_ESAN, err, errlen, "the subjectAltName is too long");
	return 0;
}

/* §4.2.1.2 the subject's key identifier; §4.2.1.1 the AKI names the issuer's key by its SKI,
 * and a CA without one (the tutorial's) gets the method (1) hash its SKI would have had. */
static int
key_ids(struct issue *is, char *err, size_t errlen)
{
	if (pki_spki_key_id(&is->req.spki, is->ski) != 0)
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	if (is->ca.ext.ski && is->ca.ext.ski_id.len > 0) {
		is->aki = is->ca.ext.ski_id.p;
		is->akilen = is->ca.ext.ski_id.len;
		return 0;
	}
	if (pki_spki_key_id(&is->ca.spki, is->cakid) != 0)
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	is->aki = is->cakid;
	is->akilen = sizeof(is->cakid);
	return 0;
}

/* A leaf's extensions (RFC 5280 §4.2), into the open extensions SEQUENCE. */
static void
put_leaf_extensions(struct pki_der_w *w, const struct issue *is, int client)
{
	/* §4.2.1.3; RSA key exchange (TLS 1.2 RSA suites) needs keyEncipherment too. */
	unsigned ku = PKI_KU_DIGITAL_SIGNATURE | (is->rsa_bits > 0 ? PKI_KU_KEY_ENCIPHERMENT : 0);

	/* §4.2.1.9: CA:FALSE is the empty SEQUENCE (DEFAULT FALSE is not encoded). */
	ext_begin(w, PKI_OID_BASIC_CONSTRAINTS, sizeof(PKI_OID_BASIC_CONSTRAINTS), 1);
	pki_der_put(w, PKI_DER_SEQ, NULL, 0);
	ext_end(w);
	ext_begin(w, PKI_OID_KEY_USAGE, sizeof(PKI_OID_KEY_USAGE), 1);
	pki_der_named_bits(w, ku);
	ext_end(w);
	ext_begin(w, PKI_OID_EXT_KEY_USAGE, sizeof(PKI_OID_EXT_KEY_USAGE), 0);
	pki_der_begin(w, PKI_DER_SEQ);
	if (client)
		pki_der_put(w, PKI_DER_OID, PKI_OID_CLIENT_AUTH, sizeof(PKI_OID_CLIENT_AUTH));
	else
		pki_der_put(w, PKI_DER_OID, PKI_OID_SERVER_AUTH, sizeof(PKI_OID_SERVER_AUTH));
	pki_der_end(w);
	ext_end(w);
	/* §4.2.1.6: critical only when the subject is empty. */
	ext_begin(w, PKI_OID_SAN, sizeof(PKI_OID_SAN), pki_name_empty(&is->req.subject));
	pki_der_raw(w, is->san, is->sanlen);
	ext_end(w);
	ext_begin(w, PKI_OID_SKI, sizeof(PKI_OID_SKI), 0);
	pki_der_put(w, PKI_DER_OCTET_STRING, is->ski, sizeof(is->ski));
	ext_end(w);
	ext_begin(w, PKI_OID_AKI, sizeof(PKI_OID_AKI), 0);
	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_put(w, PKI_DER_CTXP(0), is->aki, is->akilen);
	pki_der_end(w);
	ext_end(w);
}

int
pki_csr_sign(const struct pki_sign_opts *o, struct pki_sign_notes *notes, char *pem, size_t cap,
	     size_t *pemlen, char *err, size_t errlen)
{
	struct issue is;
	unsigned char tbs[PKI_DER_MAX], serial[SERIAL_LEN];
	struct pki_der_w w;
	struct pki_key k;
	WC_RNG rng;
	int rc;

	memset(notes, 0, sizeof(*notes));
	memset(&is, 0, sizeof(is));
	if ((rc = read_request(o, &is, err, errlen)) != 0 ||
	    (rc = check_ca(o, &is, notes, err, errlen)) != 0 ||
	    (rc = clip_validity(o, &is.ca, notes, err, errlen)) != 0 ||
	    (rc = build_san(&is, notes, err, errlen)) != 0 ||
	    (rc = key_ids(&is, err, errlen)) != 0 ||
	    (rc = signer_open(o->cakey, o->cakeylen, &k, &rng, err, errlen)) != 0)
		return rc;
	rc = make_serial(&rng, serial);
	if (rc == 0) {
		pki_der_init(&w, tbs, sizeof(tbs));
		/* The names are copied byte for byte: chain building compares them. */
		tbs_begin(&w, serial, &k, is.ca.subject.p, is.ca.subject.len, notes->not_before,
			  notes->not_after, is.req.subject.p, is.req.subject.len, is.req.spki.all.p,
			  is.req.spki.all.len);
		put_leaf_extensions(&w, &is, o->client);
	}
	return tbs_end_sign(&w, rc, &k, &rng, pem, cap, pemlen, err, errlen);
}
