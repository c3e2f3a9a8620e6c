#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "pki_int.h"

/* Intermediates we accept after the leaf in one file; more is never a real chain. */
#define MAX_CHAIN 8

static void
defect(struct pki_verify_result *r, const char *what)
{
	if (r->ndefects < PKI_VERIFY_MAX_DEFECTS)
		r->defect[r->ndefects++] = what;
}

static void
warning(struct pki_verify_result *r, const char *what)
{
	if (r->nwarnings < PKI_VERIFY_MAX_DEFECTS)
		r->warning[r->nwarnings++] = what;
}

static int
same_name(const struct pki_der *a, const struct pki_der *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/*
 * Whether a certificate from the chain file may sign the one below it: basicConstraints
 * CA:TRUE, and keyCertSign if it has a keyUsage. This is what wolfSSL asks of the chain a
 * server sends (our client), while its certificate manager trusts whatever it is handed as a
 * CA: without this check a server's own certificate could issue one for any name, and verify
 * would say OK. Anchors from --ca are trusted as they are, as the client trusts its --cacert
 * (the tutorial's CA has no extensions at all).
 */
static int
may_issue(const struct pki_x509 *x)
{
	return x->ext.bc && x->ext.bc_ca && (!x->ext.ku || (x->ext.ku_bits & PKI_KU_KEY_CERT_SIGN));
}

/*
 * What OpenSSL's X509_V_FLAG_X509_STRICT (Python's VERIFY_X509_STRICT) and RFC 5280 demand of
 * a CA certificate, beyond what wolfSSL checks.
 */
static void
strict_ca(const struct pki_x509 *ca, struct pki_verify_result *r)
{
	if (ca->version != 3)
		defect(r, "CA certificate: not X.509 version 3, so it cannot carry the extensions "
			  "a CA needs");
	if (!ca->ext.bc)
		defect(r, "CA certificate: no basicConstraints extension (strict verifiers need "
			  "CA:TRUE, marked critical)");
	else if (!ca->ext.bc_ca)
		defect(r, "CA certificate: basicConstraints does not say CA:TRUE");
	else if (!ca->ext.bc_crit)
		defect(r, "CA certificate: basicConstraints is not marked critical");
	if (!ca->ext.ku)
		defect(r,
		       "CA certificate: no keyUsage extension (strict verifiers need keyCertSign)");
	else if (!(ca->ext.ku_bits & PKI_KU_KEY_CERT_SIGN))
		defect(r, "CA certificate: keyUsage lacks keyCertSign");
	else if (!ca->ext.ku_crit)
		warning(r,
			"CA certificate: keyUsage is not marked critical (RFC 5280 says it should be)");
	if (!ca->ext.ski)
		defect(r, "CA certificate: no subjectKeyIdentifier extension");
	else if (ca->ext.ski_crit)
		defect(r, "CA certificate: subjectKeyIdentifier is marked critical");
	if (ca->ext.duplicate)
		defect(r, "CA certificate: an extension appears twice");
}

static void
strict_leaf(const struct pki_x509 *leaf, const struct pki_x509 *ca, struct pki_verify_result *r)
{
	int self = same_name(&leaf->issuer, &leaf->subject);

	if (leaf->version != 3)
		defect(r, "certificate: not X.509 version 3 (it has no extensions)");
	if (!self && !leaf->ext.aki)
		defect(r, "certificate: no authorityKeyIdentifier extension");
	else if (leaf->ext.aki && leaf->ext.aki_crit)
		defect(r, "certificate: authorityKeyIdentifier is marked critical");
	else if (leaf->ext.aki && ca != NULL && ca->ext.ski &&
		 (leaf->ext.aki_id.len != ca->ext.ski_id.len ||
		  memcmp(leaf->ext.aki_id.p, ca->ext.ski_id.p, leaf->ext.aki_id.len) != 0))
		defect(r, "certificate: authorityKeyIdentifier does not match the CA's "
			  "subjectKeyIdentifier");
	if (!leaf->ext.san)
		defect(r,
		       "certificate: no subjectAltName extension (host names are matched only there)");
	else if (pki_san_check(&leaf->ext.san_names, NULL, 0) != 0)
		defect(r, "certificate: the subjectAltName extension is empty or malformed");
	if (leaf->ext.ku && (leaf->ext.ku_bits & PKI_KU_KEY_CERT_SIGN) &&
	    !(leaf->ext.bc && leaf->ext.bc_ca))
		defect(r, "certificate: keyUsage keyCertSign on a certificate that is not a CA");
	if (leaf->ext.eku &&
	    !(leaf->ext.eku_bits & (PKI_EKU_SERVER | PKI_EKU_CLIENT | PKI_EKU_ANY)))
		defect(r, "certificate: extendedKeyUsage allows neither serverAuth nor clientAuth");
	if (leaf->ext.ski && leaf->ext.ski_crit)
		defect(r, "certificate: subjectKeyIdentifier is marked critical");
	if (leaf->ext.duplicate)
		defect(r, "certificate: an extension appears twice");
	if (leaf->ext.unknown_crit)
		defect(r, "certificate: carries a critical extension verifiers do not know");
	if (!leaf->ext.ski)
		warning(r, "certificate: no subjectKeyIdentifier extension (RFC 5280 says it "
			   "should have one)");
	if (!leaf->ext.ku)
		warning(r, "certificate: no keyUsage extension");
	if (!leaf->ext.eku)
		warning(r, "certificate: no extendedKeyUsage extension");
	if (!leaf->ext.bc)
		warning(r, "certificate: no basicConstraints extension (CA:FALSE is implied)");
}

/* wolfSSL's answer for one DER certificate against what cm trusts so far: 0 or its code. */
static int
cm_verify(WOLFSSL_CERT_MANAGER *cm, const unsigned char *der, size_t len)
{
	int rc = wolfSSL_CertManagerVerifyBuffer(cm, der, (long)len, WOLFSSL_FILETYPE_ASN1);

	return rc == WOLFSSL_SUCCESS ? 0 : rc;
}

int
pki_verify(const unsigned char *ca, size_t calen, const unsigned char *cert, size_t certlen,
	   const struct pki_verify_opts *opts, struct pki_verify_result *r, char *err,
	   size_t errlen)
{
	unsigned char chain[MAX_CHAIN][PKI_DER_MAX], cader[PKI_DER_MAX], issuerder[PKI_DER_MAX];
	size_t chainlen[MAX_CHAIN], n = 0, off = 0, calen1 = 0;
	struct pki_x509 leaf, issuer, tmp;
	WOLFSSL_CERT_MANAGER *cm;
	int rc, have_issuer = 0, nca = 0;

	memset(r, 0, sizeof(*r));
	for (;;) {
		if (n == MAX_CHAIN)
			return pki_fail(PKI_EBADCERT, err, errlen,
					"more than %d certificates in the chain", MAX_CHAIN);
		rc = pki_cert_next(cert, certlen, &off, chain[n], sizeof(chain[n]), &chainlen[n]);
		if (rc != 1)
			break;
		n++;
	}
	if (rc < 0 || n == 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "%s (expected PEM 'CERTIFICATE' or DER)",
				pki_strerror(rc < 0 ? rc : PKI_EBADCERT));
	if (pki_x509_parse(chain[0], chainlen[0], &leaf, NULL, 0) != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "%s", pki_strerror(PKI_EBADCERT));
	r->not_before = leaf.not_before;
	r->not_after = leaf.not_after;
	if (!leaf.ext.san || pki_san_text(&leaf.ext.san_names, r->names, sizeof(r->names)) < 0) {
		char cn[PKI_NAME_MAX * 4 + 1];

		if (pki_name_cn(&leaf.subject, cn, sizeof(cn)) == 1)
			snprintf(r->names, sizeof(r->names), "no subjectAltName, only CN=%s", cn);
		else
			snprintf(r->names, sizeof(r->names), "no subjectAltName");
	}

	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	cm = wolfSSL_CertManagerNew();
	if (cm == NULL) {
		wolfSSL_Cleanup();
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	}
	off = 0;
	rc = 0;
	while (rc == 0 &&
	       (rc = pki_cert_next(ca, calen, &off, cader, sizeof(cader), &calen1)) == 1) {
		int lr;

		rc = 0;
		nca++;
		if (!have_issuer && pki_x509_parse(cader, calen1, &issuer, NULL, 0) == 0 &&
		    same_name(&issuer.subject, &leaf.issuer)) {
			/* Keep the issuer's DER: its views must outlive this loop. */
			memcpy(issuerder, cader, calen1);
			(void)pki_x509_parse(issuerder, calen1, &issuer, NULL,
					     0); /* parsed above */
			have_issuer = 1;
		}
		lr = wolfSSL_CertManagerLoadCABuffer(cm, cader, (long)calen1,
						     WOLFSSL_FILETYPE_ASN1);
		if (lr != WOLFSSL_SUCCESS && r->wolfssl_code == 0) {
			/* An anchor wolfSSL cannot use (malformed, unsupported key). */
			r->wolfssl_code = lr;
			r->ca_problem = 1;
		}
	}
	if (rc < 0 || nca == 0) {
		wolfSSL_CertManagerFree(cm);
		wolfSSL_Cleanup();
		r->ca_problem = 1;
		return pki_fail(PKI_EBADCERT, err, errlen, "%s (expected PEM 'CERTIFICATE' or DER)",
				pki_strerror(rc < 0 ? rc : PKI_EBADCERT));
	}
	/* Intermediates from the top down, each trusted only once it verifies and may issue. */
	for (size_t i = n; r->wolfssl_code == 0 && i-- > 1;) {
		rc = cm_verify(cm, chain[i], chainlen[i]);
		if (rc != 0) {
			r->wolfssl_code = rc;
			r->ca_problem = 1;
			break;
		}
		if (pki_x509_parse(chain[i], chainlen[i], &tmp, NULL, 0) != 0 || !may_issue(&tmp)) {
			/* The chain file's fault, not the CA's. */
			r->wolfssl_code = NOT_CA_ERROR;
			break;
		}
		wolfSSL_CertManagerLoadCABuffer(cm, chain[i], (long)chainlen[i],
						WOLFSSL_FILETYPE_ASN1);
		if (!have_issuer && same_name(&tmp.subject, &leaf.issuer)) {
			issuer = tmp;
			have_issuer = 1;
		}
	}
	if (r->wolfssl_code == 0)
		r->wolfssl_code = cm_verify(cm, chain[0], chainlen[0]);
	wolfSSL_CertManagerFree(cm);
	wolfSSL_Cleanup();
	/* wolfSSL trusts an anchor outside its validity and blames the leaf (whose end sign
	 * keeps within the CA's anyway); OpenSSL blames the CA, at depth 1, and so do we. */
	if (have_issuer && (opts->now > issuer.not_after || opts->now < issuer.not_before) &&
	    (r->wolfssl_code == 0 || r->wolfssl_code == ASN_AFTER_DATE_E ||
	     r->wolfssl_code == ASN_BEFORE_DATE_E)) {
		r->wolfssl_code =
			opts->now > issuer.not_after ? ASN_AFTER_DATE_E : ASN_BEFORE_DATE_E;
		r->ca_problem = 1;
	}

	if (opts->host != NULL && opts->host[0] != '\0')
		if (!leaf.ext.san || !pki_san_match(&leaf.ext.san_names, opts->host))
			r->host_mismatch = DOMAIN_NAME_MISMATCH;
	if (opts->strict) {
		if (have_issuer && !same_name(&leaf.issuer, &leaf.subject))
			strict_ca(&issuer, r);
		if (leaf.ext.bc && leaf.ext.bc_ca)
			strict_ca(&leaf, r);
		else
			strict_leaf(&leaf, have_issuer ? &issuer : NULL, r);
	}
	return r->wolfssl_code != 0 || r->host_mismatch || r->ndefects > 0 ? PKI_EVERIFY : 0;
}

int
pki_cert_names_host(const unsigned char *der, size_t len, const char *host)
{
	struct pki_x509 x;

	return pki_x509_parse(der, len, &x, NULL, 0) == 0 && x.ext.san &&
	       pki_san_match(&x.ext.san_names, host);
}
