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

/*
 * What pki_verify works from: the certificate file's chain (the leaf first, then the
 * intermediates), the leaf parsed, and the leaf's issuer when an input holds it (parsed from
 * issuerder or from chain[]).
 */
struct chain {
	unsigned char der[MAX_CHAIN][PKI_DER_MAX];
	size_t len[MAX_CHAIN];
	size_t n;
	struct pki_x509 leaf, issuer;
	unsigned char issuerder[PKI_DER_MAX];
	int have_issuer;
	int anchors_ca, anchors_no_ca; /* anchors that could have issued the top of the chain */
};

/* The certificate file: at least a leaf, at most MAX_CHAIN certificates. */
static int
read_chain(const unsigned char *cert, size_t certlen, struct chain *c, char *err, size_t errlen)
{
	size_t off = 0;
	int rc;

	for (;;) {
		if (c->n == MAX_CHAIN)
			return pki_fail(PKI_EBADCERT, err, errlen,
					"more than %d certificates in the chain", MAX_CHAIN);
		rc = pki_cert_next(cert, certlen, &off, c->der[c->n], sizeof(c->der[c->n]),
				   &c->len[c->n]);
		if (rc != 1)
			break;
		c->n++;
	}
	if (rc < 0 || c->n == 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "%s (expected PEM 'CERTIFICATE' or DER)",
				pki_strerror(rc < 0 ? rc : PKI_EBADCERT));
	if (pki_x509_parse(c->der[0], c->len[0], &c->leaf, NULL, 0) != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "%s", pki_strerror(PKI_EBADCERT));
	return 0;
}

/* The leaf's validity and names, for the messages whatever the outcome. */
static void
describe_leaf(const struct pki_x509 *leaf, struct pki_verify_result *r)
{
	char cn[PKI_NAME_MAX * 4 + 1];

	r->not_before = leaf->not_before;
	r->not_after = leaf->not_after;
	if (leaf->ext.san && pki_san_text(&leaf->ext.san_names, r->names, sizeof(r->names)) == 0)
		return;
	if (pki_name_cn(&leaf->subject, cn, sizeof(cn)) == 1)
		snprintf(r->names, sizeof(r->names), "no subjectAltName, only CN=%s", cn);
	else
		snprintf(r->names, sizeof(r->names), "no subjectAltName");
}

/* Count the anchor in c if it could have issued the top of the chain, by whether it says it
 * is no CA. A self-issued top (a self-signed certificate trusted as its own anchor) needs no
 * CA, and counts nothing. */
static void
note_top_issuer(struct chain *c, const unsigned char *der, size_t len)
{
	struct pki_x509 top, anchor;

	if (pki_x509_parse(c->der[c->n - 1], c->len[c->n - 1], &top, NULL, 0) != 0 ||
	    same_name(&top.issuer, &top.subject) ||
	    pki_x509_parse(der, len, &anchor, NULL, 0) != 0 ||
	    !same_name(&anchor.subject, &top.issuer))
		return;
	if (pki_x509_says_no_ca(&anchor))
		c->anchors_no_ca++;
	else
		c->anchors_ca++;
}

/*
 * Every certificate of the --ca input becomes a trust anchor of cm; the one named as the
 * leaf's issuer is kept in c. An anchor wolfSSL cannot use (malformed, unsupported key) is
 * the CA input's failure, in r.
 */
static int
load_anchors(WOLFSSL_CERT_MANAGER *cm, const unsigned char *ca, size_t calen, struct chain *c,
	     struct pki_verify_result *r, char *err, size_t errlen)
{
	unsigned char der[PKI_DER_MAX];
	size_t off = 0, len = 0;
	int rc, lr, nca = 0;

	while ((rc = pki_cert_next(ca, calen, &off, der, sizeof(der), &len)) == 1) {
		nca++;
		note_top_issuer(c, der, len);
		if (!c->have_issuer && pki_x509_parse(der, len, &c->issuer, NULL, 0) == 0 &&
		    same_name(&c->issuer.subject, &c->leaf.issuer)) {
			/* Parsed again from a copy that outlives this loop: its views point there. */
			memcpy(c->issuerder, der, len);
			c->have_issuer =
				pki_x509_parse(c->issuerder, len, &c->issuer, NULL, 0) == 0;
		}
		lr = wolfSSL_CertManagerLoadCABuffer(cm, der, (long)len, WOLFSSL_FILETYPE_ASN1);
		if (lr != WOLFSSL_SUCCESS && r->wolfssl_code == 0) {
			r->wolfssl_code = lr;
			r->ca_problem = 1;
		}
	}
	if (rc < 0 || nca == 0) {
		r->ca_problem = 1;
		return pki_fail(PKI_EBADCERT, err, errlen, "%s (expected PEM 'CERTIFICATE' or DER)",
				pki_strerror(rc < 0 ? rc : PKI_EBADCERT));
	}
	return 0;
}

/* Intermediates from the top down, each trusted only once it verifies and may issue; then
 * the leaf. The first failure is wolfSSL's code in r. */
static void
verify_chain(WOLFSSL_CERT_MANAGER *cm, struct chain *c, struct pki_verify_result *r)
{
	struct pki_x509 mid;
	int rc;

	for (size_t i = c->n; r->wolfssl_code == 0 && i-- > 1;) {
		rc = cm_verify(cm, c->der[i], c->len[i]);
		if (rc != 0) {
			r->wolfssl_code = rc;
			r->ca_problem = 1;
			return;
		}
		if (pki_x509_parse(c->der[i], c->len[i], &mid, NULL, 0) != 0 || !may_issue(&mid)) {
			/* The chain file's fault, not the CA's. */
			r->wolfssl_code = NOT_CA_ERROR;
			return;
		}
		wolfSSL_CertManagerLoadCABuffer(cm, c->der[i], (long)c->len[i],
						WOLFSSL_FILETYPE_ASN1);
		if (!c->have_issuer && same_name(&mid.subject, &c->leaf.issuer)) {
			c->issuer = mid;
			c->have_issuer = 1;
		}
	}
	if (r->wolfssl_code == 0)
		r->wolfssl_code = cm_verify(cm, c->der[0], c->len[0]);
}

/* wolfSSL's signature and date checks of the chain against the anchors in ca. */
static int
check_chain(const unsigned char *ca, size_t calen, struct chain *c, struct pki_verify_result *r,
	    char *err, size_t errlen)
{
	WOLFSSL_CERT_MANAGER *cm;
	int rc;

	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	cm = wolfSSL_CertManagerNew();
	if (cm == NULL) {
		wolfSSL_Cleanup();
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	}
	rc = load_anchors(cm, ca, calen, c, r, err, errlen);
	if (rc == 0)
		verify_chain(cm, c, r);
	wolfSSL_CertManagerFree(cm);
	wolfSSL_Cleanup();
	return rc;
}

/* wolfSSL trusts whatever it is handed as an anchor, even a certificate that says it is no CA:
 * a server's certificate given as --ca would vouch for anything signed with its key. OpenSSL
 * refuses that chain (invalid CA certificate, -partial_chain or not), as curl and Python do,
 * and so do we. */
static void
refuse_anchor_no_ca(const struct chain *c, struct pki_verify_result *r)
{
	if (r->wolfssl_code == 0 && c->anchors_no_ca > 0 && c->anchors_ca == 0) {
		r->wolfssl_code = NOT_CA_ERROR;
		r->ca_problem = 1;
	}
}

/* wolfSSL trusts an anchor outside its validity and blames the leaf (whose end sign keeps
 * within the CA's anyway); OpenSSL blames the CA, at depth 1, and so do we. */
static void
blame_dated_issuer(const struct chain *c, time_t now, struct pki_verify_result *r)
{
	int outside = now > c->issuer.not_after || now < c->issuer.not_before;

	if (c->have_issuer && outside &&
	    (r->wolfssl_code == 0 || r->wolfssl_code == ASN_AFTER_DATE_E ||
	     r->wolfssl_code == ASN_BEFORE_DATE_E)) {
		r->wolfssl_code = now > c->issuer.not_after ? ASN_AFTER_DATE_E : ASN_BEFORE_DATE_E;
		r->ca_problem = 1;
	}
}

int
pki_verify(const unsigned char *ca, size_t calen, const unsigned char *cert, size_t certlen,
	   const struct pki_verify_opts *opts, struct pki_verify_result *r, char *err,
	   size_t errlen)
{
	struct chain c;
	const struct pki_x509 *leaf = &c.leaf;
	int rc;

	memset(r, 0, sizeof(*r));
	c.n = 0;
	c.have_issuer = 0;
	c.anchors_ca = c.anchors_no_ca = 0;
	if ((rc = read_chain(cert, certlen, &c, err, errlen)) != 0)
		return rc;
	describe_leaf(leaf, r);
	if ((rc = check_chain(ca, calen, &c, r, err, errlen)) != 0)
		return rc;
	refuse_anchor_no_ca(&c, r);
	blame_dated_issuer(&c, opts->now, r);
	/* An empty name matches nothing: it must not mean "no name to check". */
	if (opts->host != NULL)
		if (!leaf->ext.san || !pki_san_match(&leaf->ext.san_names, opts->host))
			r->host_mismatch = DOMAIN_NAME_MISMATCH;
	if (opts->strict) {
		if (c.have_issuer && !same_name(&leaf->issuer, &leaf->subject))
			strict_ca(&c.issuer, r);
		if (leaf->ext.bc && leaf->ext.bc_ca)
			strict_ca(leaf, r);
		else
			strict_leaf(leaf, c.have_issuer ? &c.issuer : NULL, r);
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
