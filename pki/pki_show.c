#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "pki_int.h"

static const char *const ku_names[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
				       "dataEncipherment", "keyAgreement",   "keyCertSign",
				       "cRLSign",          "encipherOnly",   "decipherOnly"};
/* In the order of the PKI_EKU_* bits. */
static const char *const eku_names[] = {"serverAuth", "clientAuth", "any", "others"};

/* ---- what is this file? ---------------------------------------------------------------- */

static const struct {
	const char *label;
	enum pki_kind kind;
} pem_kinds[] = {
	{.label = "CERTIFICATE", .kind = PKI_KIND_CERT},
	{.label = "X509 CERTIFICATE", .kind = PKI_KIND_CERT},
	{.label = "CERTIFICATE REQUEST", .kind = PKI_KIND_CSR},
	{.label = "NEW CERTIFICATE REQUEST", .kind = PKI_KIND_CSR},
	{.label = "ENCRYPTED PRIVATE KEY", .kind = PKI_KIND_ENCRYPTED_KEY},
	{.label = "PRIVATE KEY", .kind = PKI_KIND_KEY},
	{.label = "RSA PRIVATE KEY", .kind = PKI_KIND_KEY},
	{.label = "EC PRIVATE KEY", .kind = PKI_KIND_KEY},
};

enum pki_kind
pki_detect(const unsigned char *in, size_t len)
{
	const unsigned char *p = in, *end = in + len;
	struct pki_x509 x;
	struct pki_req r;
	struct pki_key k;
	int rc;

	if (pki_pem_legacy_encrypted(in, len))
		return PKI_KIND_ENCRYPTED_KEY;
	if (pki_pem_is(in, len)) {
		/* The first block we know decides; "EC PARAMETERS" and the like are skipped. */
		while ((p = memmem(p, (size_t)(end - p), "-----BEGIN ", 11)) != NULL) {
			const unsigned char *lab = p + 11;
			const unsigned char *dash = memmem(lab, (size_t)(end - lab), "-----", 5);

			if (dash == NULL)
				break;
			for (size_t i = 0; i < sizeof(pem_kinds) / sizeof(pem_kinds[0]); i++)
				if (strlen(pem_kinds[i].label) == (size_t)(dash - lab) &&
				    memcmp(pem_kinds[i].label, lab, (size_t)(dash - lab)) == 0)
					return pem_kinds[i].kind;
			p = dash;
		}
		return PKI_KIND_UNKNOWN;
	}
	if (pki_x509_parse(in, len, &x, NULL, 0) == 0)
		return PKI_KIND_CERT;
	if (pki_req_parse(in, len, &r, NULL, 0) == 0)
		return PKI_KIND_CSR;
	if (pki_key_is_encrypted(in, len))
		return PKI_KIND_ENCRYPTED_KEY;
	if (len <= PKI_DER_MAX) {
		rc = pki_key_load(in, len, &k);
		pki_key_free(&k);
		if (rc == 0)
			return PKI_KIND_KEY;
	}
	return PKI_KIND_UNKNOWN;
}

/* ---- pieces ---------------------------------------------------------------------------- */

static void
hex(char *out, size_t cap, size_t *used, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pki_appendf(out, cap, used, "%s%02X", i ? ":" : "", p[i]);
}

static void
when(char *out, size_t cap, size_t *used, time_t t, time_t now, int end)
{
	char s[32];
	long long d = ((long long)t - (long long)now) / 86400;

	pki_time_format(t, s, sizeof(s));
	pki_appendf(out, cap, used, "%s UTC", s);
	if (!end && t > now)
		pki_appendf(out, cap, used, " (NOT YET VALID: starts in %lld days)", d);
	if (end && t < now)
		pki_appendf(out, cap, used, " (EXPIRED %lld days ago)", -d);
	else if (end)
		pki_appendf(out, cap, used, " (%lld days left)", d);
}

/* label, then the names of the bits set ("(none)" if none), then suffix and a line end. */
static void
bits_line(char *out, size_t cap, size_t *used, const char *label, const char *const *names,
	  size_t n, unsigned bits, const char *suffix)
{
	int first = 1;

	pki_appendf(out, cap, used, "%s", label);
	for (size_t i = 0; i < n; i++)
		if (bits & (1u << i)) {
			pki_appendf(out, cap, used, "%s%s", first ? "" : ", ", names[i]);
			first = 0;
		}
	pki_appendf(out, cap, used, "%s%s\n", first ? "(none)" : "", suffix);
}

static void
exts_text(const struct pki_exts *e, int ca_expected, char *out, size_t cap, size_t *used)
{
	char sans[1024];

	if (e->san) {
		if (pki_san_text(&e->san_names, sans, sizeof(sans)) < 0)
			snprintf(sans, sizeof(sans), "(malformed)");
		pki_appendf(out, cap, used, "  names (SAN):   %s%s\n", sans,
			    e->san_crit ? " (critical)" : "");
	} else if (!ca_expected) {
		pki_appendf(out, cap, used,
			    "  names (SAN):   none (curl, Python and browsers match host names "
			    "only there)\n");
	}
	if (e->bc)
		pki_appendf(out, cap, used, "  CA:            %s (basicConstraints%s%s)\n",
			    e->bc_ca ? "yes" : "no", e->bc_ca ? " CA:TRUE" : " CA:FALSE",
			    e->bc_crit ? ", critical" : ", not critical");
	else
		pki_appendf(out, cap, used, "  CA:            not stated (no basicConstraints)\n");
	if (e->bc && e->bc_pathlen >= 0)
		pki_appendf(out, cap, used, "  path length:   %ld\n", e->bc_pathlen);
	if (e->ku)
		bits_line(out, cap, used, "  key usage:     ", ku_names,
			  sizeof(ku_names) / sizeof(ku_names[0]), e->ku_bits,
			  e->ku_crit ? " (critical)" : "");
	if (e->eku)
		bits_line(out, cap, used, "  ext key usage: ", eku_names,
			  sizeof(eku_names) / sizeof(eku_names[0]), e->eku_bits, "");
	if (e->ski) {
		pki_appendf(out, cap, used, "  subject key id:   ");
		hex(out, cap, used, e->ski_id.p, e->ski_id.len);
		pki_appendf(out, cap, used, "\n");
	}
	if (e->aki) {
		pki_appendf(out, cap, used, "  authority key id: ");
		hex(out, cap, used, e->aki_id.p, e->aki_id.len);
		pki_appendf(out, cap, used, "\n");
	}
	if (e->unknown_crit)
		pki_appendf(out, cap, used, "  warning:       %d unknown critical extension(s)\n",
			    e->unknown_crit);
	if (e->duplicate)
		pki_appendf(out, cap, used, "  warning:       an extension appears twice\n");
}

static void
sig_text(const struct pki_der *oid, char *out, size_t cap, size_t *used)
{
	const char *name = pki_oid_name(oid);
	char dotted[64];

	if (name == NULL && pki_der_oid_text(oid, dotted, sizeof(dotted)) == 0)
		name = dotted;
	pki_appendf(out, cap, used, "%s", name != NULL ? name : "unknown");
}

/* ---- certificates ---------------------------------------------------------------------- */

static int
describe_cert(const unsigned char *in, size_t len, time_t now, char *out, size_t cap, size_t *used,
	      char *err, size_t errlen)
{
	unsigned char der[PKI_DER_MAX], fp[WC_SHA256_DIGEST_SIZE];
	char text[1024], keydesc[96];
	size_t derlen = 0;
	struct pki_x509 x;
	int rc, rsa;

	rc = pki_cert_decode(in, len, der, sizeof(der), &derlen);
	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	if (pki_x509_parse(der, derlen, &x, text, sizeof(text)) != 0)
		return pki_fail(PKI_EBADCERT, err, errlen, "%s", text);
	pki_appendf(out, cap, used, "certificate (X.509 v%d)\n", x.version);
	pki_name_text(&x.subject, text, sizeof(text));
	pki_appendf(out, cap, used, "  subject:       %s\n", text);
	pki_name_text(&x.issuer, text, sizeof(text));
	pki_appendf(out, cap, used, "  issuer:        %s%s\n", text,
		    x.issuer.len == x.subject.len &&
				    memcmp(x.issuer.p, x.subject.p, x.issuer.len) == 0
			    ? " (self-signed)"
			    : "");
	pki_appendf(out, cap, used, "  serial:        ");
	hex(out, cap, used, x.serial.p, x.serial.len);
	pki_appendf(out, cap, used, "\n  valid from:    ");
	when(out, cap, used, x.not_before, now, 0);
	pki_appendf(out, cap, used, "\n  valid until:   ");
	when(out, cap, used, x.not_after, now, 1);
	pki_appendf(out, cap, used, "\n");
	pki_spki_summary(&x.spki, keydesc, sizeof(keydesc), &rsa);
	pki_appendf(out, cap, used, "  public key:    %s\n", keydesc);
	exts_text(&x.ext, x.ext.bc && x.ext.bc_ca, out, cap, used);
	pki_appendf(out, cap, used, "  signature:     ");
	sig_text(&x.sig_alg, out, cap, used);
	if (wc_Sha256Hash(der, (word32)derlen, fp) != 0)
		return pki_fail(PKI_EINTERNAL, err, errlen, "%s", pki_strerror(PKI_EINTERNAL));
	pki_appendf(out, cap, used, "\n  SHA-256 fingerprint: ");
	hex(out, cap, used, fp, sizeof(fp));
	pki_appendf(out, cap, used, "\n");
	if (pki_cert_sentence(der, derlen, text, sizeof(text)) == 0)
		pki_appendf(out, cap, used, "%s\n", text);
	return 0;
}

/* ---- CSRs ------------------------------------------------------------------------------ */

static int
describe_csr(const unsigned char *in, size_t len, char *out, size_t cap, size_t *used, char *err,
	     size_t errlen)
{
	unsigned char der[PKI_DER_MAX];
	char text[1024], keydesc[96];
	size_t derlen = 0;
	struct pki_req r;
	int rc, rsa;

	rc = pki_csr_decode(in, len, der, sizeof(der), &derlen);
	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	if (pki_req_parse(der, derlen, &r, text, sizeof(text)) != 0)
		return pki_fail(PKI_EBADCSR, err, errlen, "%s", text);
	pki_appendf(out, cap, used, "certificate signing request\n");
	pki_name_text(&r.subject, text, sizeof(text));
	pki_appendf(out, cap, used, "  subject:       %s\n", text);
	if (r.ext.san) {
		if (pki_san_text(&r.ext.san_names, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "(malformed)");
		pki_appendf(out, cap, used, "  names (SAN):   %s\n", text);
	} else {
		pki_appendf(out, cap, used,
			    "  names (SAN):   none (squirrel-pki sign will use the CN)\n");
	}
	pki_spki_summary(&r.spki, keydesc, sizeof(keydesc), &rsa);
	pki_appendf(out, cap, used, "  public key:    %s\n", keydesc);
	pki_appendf(out, cap, used, "  signature:     ");
	sig_text(&r.sig_alg, out, cap, used);
	rc = pki_req_verify(der, derlen);
	pki_appendf(out, cap, used, "%s\n",
		    rc == 0 ? " (verifies)"
			    : " (DOES NOT VERIFY: the CSR was altered or is broken)");
	return 0;
}

/* ---- keys ------------------------------------------------------------------------------ */

/* The envelope of an encrypted PKCS#8 key: which KDF, PRF, rounds and cipher. */
static void
pkcs8_envelope(const unsigned char *der, size_t len, char *out, size_t cap, size_t *used)
{
	struct pki_der in = {der, len}, d, params;
	struct pki_tlv t, oid;
	const char *prf = "hmacWithSHA1", *cipher = "an unknown cipher";
	unsigned long iter = 0;

	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0)
		goto unknown;
	d = t.v;
	if (pki_der_get(&d, PKI_DER_SEQ, &t) < 0)
		goto unknown;
	d = t.v;
	if (pki_der_get(&d, PKI_DER_OID, &oid) < 0)
		goto unknown;
	if (!PKI_OID_EQ(&oid.v, PKI_OID_PBES2)) {
		pki_appendf(out, cap, used, "PKCS#8, PBES1 (an old scheme)");
		return;
	}
	if (pki_der_get(&d, PKI_DER_SEQ, &t) < 0)
		goto unknown;
	params = t.v;
	if (pki_der_get(&params, PKI_DER_SEQ, &t) < 0)
		goto unknown;
	d = t.v;
	if (pki_der_get(&d, PKI_DER_OID, &oid) < 0 || !PKI_OID_EQ(&oid.v, PKI_OID_PBKDF2) ||
	    pki_der_get(&d, PKI_DER_SEQ, &t) < 0)
		goto unknown;
	d = t.v;
	if (pki_der_get(&d, PKI_DER_OCTET_STRING, &t) < 0 ||
	    pki_der_get(&d, PKI_DER_INTEGER, &t) < 0 || t.v.len > 4)
		goto unknown;
	for (size_t i = 0; i < t.v.len; i++)
		iter = iter << 8 | t.v.p[i];
	/* The optional keyLength INTEGER says nothing the cipher does not: skip it if there. */
	(void)pki_der_get(&d, PKI_DER_INTEGER, &t);
	if (pki_der_get(&d, PKI_DER_SEQ, &t) == 0) {
		struct pki_der p = t.v;

		if (pki_der_get(&p, PKI_DER_OID, &oid) == 0)
			prf = pki_oid_name(&oid.v) != NULL ? pki_oid_name(&oid.v)
							   : "an unknown PRF";
	}
	if (pki_der_get(&params, PKI_DER_SEQ, &t) == 0) {
		struct pki_der c = t.v;

		if (pki_der_get(&c, PKI_DER_OID, &oid) == 0 && pki_oid_name(&oid.v) != NULL)
			cipher = pki_oid_name(&oid.v);
	}
	pki_appendf(out, cap, used, "PKCS#8, PBES2: PBKDF2-%s, %lu iterations, %s", prf, iter,
		    cipher);
	return;
unknown:
	pki_appendf(out, cap, used, "PKCS#8, unreadable parameters");
}

/* The cipher named by a legacy PEM's "DEK-Info: AES-256-CBC,<iv>" header, if it is sane. */
static const char *
dek_cipher(const unsigned char *in, size_t len)
{
	static const char *const known[] = {"AES-256-CBC", "AES-192-CBC", "AES-128-CBC",
					    "DES-EDE3-CBC", "DES-CBC"};
	const unsigned char *dek = memmem(in, len, "DEK-Info: ", 10);

	for (size_t i = 0; dek != NULL && i < sizeof(known) / sizeof(known[0]); i++) {
		size_t n = strlen(known[i]);

		if ((size_t)(in + len - dek) > 10 + n && memcmp(dek + 10, known[i], n) == 0 &&
		    dek[10 + n] == ',')
			return known[i];
	}
	return "an unknown cipher";
}

/* "private key, encrypted (...)": how an encrypted key is wrapped, read without the
 * password. */
static void
envelope_line(const unsigned char *in, size_t len, char *out, size_t cap, size_t *used)
{
	static const char *const labels[] = {"ENCRYPTED PRIVATE KEY", NULL};
	unsigned char der[PKI_DER_MAX];
	size_t derlen = 0, off = 0;

	pki_appendf(out, cap, used, "private key, encrypted (");
	if (pki_pem_legacy_encrypted(in, len))
		pki_appendf(out, cap, used, "legacy OpenSSL PEM, %s; the tutorial's format",
			    dek_cipher(in, len));
	else if (!pki_pem_is(in, len))
		pkcs8_envelope(in, len, out, cap, used);
	else if (pki_pem_next(in, len, &off, labels, NULL, der, sizeof(der), &derlen) == 1)
		pkcs8_envelope(der, derlen, out, cap, used);
	pki_appendf(out, cap, used, ")\n");
}

static int
describe_key(const unsigned char *in, size_t len, const char *password, char *out, size_t cap,
	     size_t *used, char *err, size_t errlen)
{
	unsigned char der[PKI_DER_MAX], spki[PKI_DER_MAX], id[20];
	size_t derlen = 0, spkilen = 0;
	char desc[96];
	struct pki_key k;
	struct pki_spki s;
	struct pki_der d;
	int enc = pki_key_is_encrypted(in, len), rc, rsa;

	if (enc) {
		envelope_line(in, len, out, cap, used);
		if (password == NULL) {
			pki_appendf(
				out, cap, used,
				"  type:          unknown until decrypted (give --password-file)\n");
			return 0;
		}
	} else {
		pki_appendf(out, cap, used,
			    "private key, not encrypted (anyone who can read the file "
			    "can use it)\n");
	}
	rc = pki_key_decode(in, len, password, der, sizeof(der), &derlen);
	if (rc != 0) {
		explicit_bzero(der, sizeof(der));
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	}
	rc = pki_key_load(der, derlen, &k);
	if (rc == 0)
		rc = pki_key_spki(&k, spki, sizeof(spki), &spkilen);
	pki_key_free(&k);
	explicit_bzero(der, sizeof(der));
	d.p = spki;
	d.len = spkilen;
	if (rc == 0 && (pki_spki_parse(&d, &s) < 0 || pki_spki_key_id(&s, id) != 0))
		rc = PKI_EINTERNAL;
	if (rc != 0)
		return pki_fail(rc, err, errlen, "%s", pki_strerror(rc));
	pki_spki_summary(&s, desc, sizeof(desc), &rsa);
	pki_appendf(out, cap, used, "  type:          %s\n", desc);
	/* The SKI a certificate for this key carries: match keys to certificates by eye. */
	pki_appendf(out, cap, used, "  key id:        ");
	hex(out, cap, used, id, sizeof(id));
	pki_appendf(out, cap, used, "\n");
	return 0;
}

int
pki_describe(const unsigned char *in, size_t len, const char *password, time_t now, char *out,
	     size_t cap, char *err, size_t errlen)
{
	size_t used = 0;
	int rc;

	if (cap == 0)
		return PKI_ESPACE;
	out[0] = '\0';
	switch (pki_detect(in, len)) {
	case PKI_KIND_CERT: rc = describe_cert(in, len, now, out, cap, &used, err, errlen); break;
	case PKI_KIND_CSR: rc = describe_csr(in, len, out, cap, &used, err, errlen); break;
	case PKI_KIND_KEY:
	case PKI_KIND_ENCRYPTED_KEY:
		rc = describe_key(in, len, password, out, cap, &used, err, errlen);
		break;
	default: return pki_fail(PKI_EUNKNOWN, err, errlen, "%s", pki_strerror(PKI_EUNKNOWN));
	}
	if (rc == 0 && used >= cap)
		return pki_fail(PKI_ESPACE, err, errlen, "%s", pki_strerror(PKI_ESPACE));
	return rc;
}
