#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "pki_int.h"

/* ---- reading (RFC 2986) ---------------------------------------------------------------- */

/* The attributes of a CertificationRequestInfo: the PKCS#9 extensionRequest's extensions go
 * to r->ext; other attributes (challengePassword, ...) are skipped. */
static int
req_attributes(struct pki_der attrs, struct pki_req *r, char *err, size_t errlen)
{
	while (attrs.len > 0) {
		struct pki_tlv attr, oid, values, t;
		struct pki_der a, v;

		if (pki_der_get(&attrs, PKI_DER_SEQ, &attr) < 0)
			return pki_fail(PKI_EBADCSR, err, errlen, "unreadable attribute");
		a = attr.v;
		if (pki_der_get(&a, PKI_DER_OID, &oid) < 0 ||
		    pki_der_get(&a, PKI_DER_SET, &values) < 0)
			return pki_fail(PKI_EBADCSR, err, errlen, "unreadable attribute");
		if (!PKI_OID_EQ(&oid.v, PKI_OID_EXT_REQUEST))
			continue;
		/* PKCS#9 extensionRequest: one value, an Extensions SEQUENCE. */
		v = values.v;
		if (pki_der_get(&v, PKI_DER_SEQ, &t) < 0)
			return pki_fail(PKI_EBADCSR, err, errlen, "unreadable extension request");
		if (pki_exts_parse(&t.v, &r->ext, err, errlen) < 0)
			return PKI_EBADCSR;
	}
	return 0;
}

int
pki_req_parse(const unsigned char *der, size_t len, struct pki_req *r, char *err, size_t errlen)
{
	struct pki_der in = {der, len}, req, info;
	struct pki_tlv t, inf;

	memset(r, 0, sizeof(*r));
	r->ext.bc_pathlen = -1;
	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0 || in.len != 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "not a DER certificate signing request");
	r->all = t.all;
	req = t.v;
	if (pki_der_get(&req, PKI_DER_SEQ, &inf) < 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "no certificationRequestInfo");
	if (pki_der_get(&req, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "no signature algorithm");
	{
		struct pki_der a = t.v;

		if (pki_der_get(&a, PKI_DER_OID, &t) < 0)
			return pki_fail(PKI_EBADCSR, err, errlen, "no signature algorithm");
		r->sig_alg = t.v;
	}
	if (pki_der_get(&req, PKI_DER_BIT_STRING, &t) < 0 || req.len != 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "no signature");
	info = inf.v;
	if (pki_der_get(&info, PKI_DER_INTEGER, &t) < 0 || t.v.len != 1 || t.v.p[0] != 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "not a version 1 CSR");
	if (pki_der_get(&info, PKI_DER_SEQ, &t) < 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "no subject name");
	r->subject = t.all;
	if (pki_der_get(&info, PKI_DER_SEQ, &t) < 0 || pki_spki_parse(&t.all, &r->spki) < 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "unreadable public key");
	/* Attributes are required by the ASN.1 but some tools omit an empty set. */
	if (pki_der_get(&info, PKI_DER_CTX(0), &t) < 0)
		return info.len == 0 ? 0
				     : pki_fail(PKI_EBADCSR, err, errlen, "unreadable attributes");
	return req_attributes(t.v, r, err, errlen);
}

int
pki_req_verify(const unsigned char *der, size_t len)
{
	DecodedCert dc;
	int rc;

	/* wolfSSL checks a CSR's self-signature with its own public key when asked to VERIFY
	 * a CERTREQ_TYPE; we never re-implement signature checks. It reports a requested
	 * critical extension it does not know (ASN_CRIT_EXT_E) only once the signature has
	 * verified (ParseCertRelative): the CA decides the extensions, so that is no failure. */
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	rc = wc_ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL);
	wc_FreeDecodedCert(&dc);
	if (rc == 0 || rc == ASN_CRIT_EXT_E)
		return 0;
	if (rc == ASN_PARSE_E || rc == BUFFER_E || rc == ASN_INPUT_E || rc == ASN_OBJECT_ID_E ||
	    rc == ASN_EXPECT_0_E || rc == ASN_BITSTR_E || rc == ASN_UNKNOWN_OID_E)
		return PKI_EBADCSR;
	return PKI_ECSRSIG;
}

static const char *const csr_labels[] = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST", NULL};

int
pki_csr_decode(const unsigned char *in, size_t len, unsigned char *der, size_t cap, size_t *derlen)
{
	struct pki_req r;
	size_t off = 0;
	int rc;

	if (pki_pem_is(in, len)) {
		rc = pki_pem_next(in, len, &off, csr_labels, NULL, der, cap, derlen);
		if (rc == PKI_ESPACE)
			return rc;
		if (rc != 1)
			return PKI_EBADCSR;
	} else {
		if (len > cap)
			return PKI_ESPACE;
		memcpy(der, in, len);
		*derlen = len;
	}
	return pki_req_parse(der, *derlen, &r, NULL, 0) == 0 ? 0 : PKI_EBADCSR;
}

/* ---- making ---------------------------------------------------------------------------- */

/*
 * RFC 2986 §4.1 CertificationRequestInfo: version 0, the subject, the key, and attributes: an
 * extensionRequest (RFC 2985 §5.4.2) holding one subjectAltName when there are sans.
 */
static int
write_request_info(struct pki_der_w *w, const struct pki_name *name, const unsigned char *spki,
		   size_t spkilen, const char *const *sans, size_t nsans, char *err, size_t errlen)
{
	int rc;

	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_small(w, 0);
	rc = pki_name_encode(name, w, err, errlen);
	if (rc != 0)
		return rc;
	pki_der_raw(w, spki, spkilen);
	pki_der_begin(w, PKI_DER_CTX(0));
	if (nsans > 0) {
		pki_der_begin(w, PKI_DER_SEQ);
		pki_der_put(w, PKI_DER_OID, PKI_OID_EXT_REQUEST, sizeof(PKI_OID_EXT_REQUEST));
		pki_der_begin(w, PKI_DER_SET);
		pki_der_begin(w, PKI_DER_SEQ);
		pki_der_begin(w, PKI_DER_SEQ);
		pki_der_put(w, PKI_DER_OID, PKI_OID_SAN, sizeof(PKI_OID_SAN));
		pki_der_begin(w, PKI_DER_OCTET_STRING);
		rc = pki_san_encode(sans, nsans, w, err, errlen);
		if (rc != 0)
			return rc;
		for (int i = 0; i < 5;
		     i++) /* OCTET STRING, Extension, Extensions, SET, Attribute */
			pki_der_end(w);
	}
	pki_der_end(w); /* [0] attributes */
	pki_der_end(w); /* CertificationRequestInfo */
	return 0;
}

int
pki_csr_create(const unsigned char *key, size_t keylen, const struct pki_name *name,
	       const char *const *sans, size_t nsans, char *pem, size_t cap, size_t *pemlen,
	       char *err, size_t errlen)
{
	unsigned char buf[PKI_DER_MAX], spki[PKI_DER_MAX];
	size_t len = 0, spkilen = 0, derlen = 0;
	struct pki_der_w w;
	struct pki_key k;
	WC_RNG rng;
	int rc;

	rc = pki_key_load(key, keylen, &k);
	if (rc == 0 && k.kind == RSA_TYPE &&
	    (rc = pki_rsa_strong(k.bits, "the", err, errlen)) != 0) {
		pki_key_free(&k);
		return rc;
	}
	if (rc == 0)
		rc = pki_key_spki(&k, spki, sizeof(spki), &spkilen);
	if (rc != 0) {
		pki_key_free(&k);
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	}
	pki_der_init(&w, buf, sizeof(buf));
	rc = write_request_info(&w, name, spki, spkilen, sans, nsans, err, errlen);
	if (rc == 0 && (rc = pki_der_finish(&w, &len)) != 0)
		pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	if (rc == 0 && wc_InitRng(&rng) != 0)
		rc = pki_fail(PKI_ERNG, err, errlen, "%s", pki_strerror(PKI_ERNG));
	else if (rc == 0) {
		rc = pki_key_sign(&k, buf, len, sizeof(buf), &rng, &derlen);
		wc_FreeRng(&rng);
		if (rc == 0)
			rc = pki_pem_encode(buf, derlen, CERTREQ_TYPE, pem, cap, pemlen);
		if (rc != 0)
			pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	}
	pki_key_free(&k);
	return rc;
}
