/*
 * fuzz_pki: libpki's readers (pki/pki_*.c) on an arbitrary file, as squirrel-pki show/verify/sign
 * and the TLS server and client read certificates, CSRs and keys: PEM (its own base64 and
 * armour parser) or DER (its own DER reader), then wolfCrypt for the key material.
 *
 * Every reader runs on every input. Invariants:
 *   - outputs stay inside their buffers and texts are NUL-terminated inside them (a small
 *     output buffer must give PKI_ESPACE, never an overflow);
 *   - every decoder is idempotent: what pki_cert_decode / pki_csr_decode / pki_key_decode
 *     return decodes again to the very same DER, and pki_detect recognises it for what it is;
 *   - pki_cert_next walks a bundle forwards only and ends;
 *   - pki_key_is_encrypted agrees with pki_key_decode asking for a password;
 *   - a certificate that decodes can be described, dated, matched against a key and verified
 *     against a fixed CA without breaking any of the above; return codes are documented ones.
 * Passwords are never given: an encrypted PKCS#8 file names its own PBKDF2 iteration count, so
 * decrypting fuzzed files would spend seconds in wolfCrypt per input and find nothing of ours.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "pki.h"

#define NOW ((time_t)1767225600) /* 2026-01-01 */

static unsigned char ca_pem[PKI_PEM_MAX], ca_key[PKI_DER_MAX];
static size_t ca_pem_len, ca_key_len;

static int
is_code(int rc)
{
	return rc <= 0 && rc >= PKI_EUNKNOWN;
}

static int
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* A CA to verify against and a key to match with, made once, in memory. */
static void
setup(void)
{
	static char pem[PKI_PEM_MAX];
	struct pki_name name = {.country = "US",
				.state = "Maryland",
				.locality = "Baltimore",
				.org = "Secret Squirrels",
				.cn = "Fuzz CA"};
	char err[256];
	size_t pemlen = 0;

	FUZZ_CHECK(pki_key_generate(PKI_KEY_EC_P256, NULL, pem, sizeof(pem), &pemlen) == 0);
	FUZZ_CHECK(pki_key_decode((const unsigned char *)pem, pemlen, NULL, ca_key, sizeof(ca_key),
				  &ca_key_len) == 0);
	FUZZ_CHECK(pki_ca_create(ca_key, ca_key_len, &name, NOW - 86400, NOW + 86400 * 365,
				 (char *)ca_pem, sizeof(ca_pem), &ca_pem_len, err,
				 sizeof(err)) == 0);
	explicit_bzero(pem, sizeof(pem));
}

static void
check_cert(const unsigned char *der, size_t len)
{
	static unsigned char again[PKI_DER_MAX];
	static char text[4096];
	struct pki_verify_result vr;
	struct pki_verify_opts vo = {.host = "localhost", .strict = 1, .now = NOW};
	char err[256];
	size_t alen = 0;
	time_t nb, na;
	int rc;

	FUZZ_CHECK(pki_cert_decode(der, len, again, sizeof(again), &alen) == 0);
	FUZZ_CHECK(alen == len && memcmp(again, der, len) == 0);
	/* "Proc-Type: 4,ENCRYPTED" in a DER subject does not make a certificate an encrypted
	 * key (tests/unit/test_regress_fuzz.c, detect_proc_type_in_der). */
	FUZZ_CHECK(pki_detect(der, len) == PKI_KIND_CERT);
	FUZZ_CHECK(pki_cert_validity(der, len, &nb, &na) == 0);
	rc = pki_cert_sentence(der, len, text, sizeof(text));
	FUZZ_CHECK(rc == 0 || rc == PKI_ESPACE);
	if (rc == 0)
		FUZZ_CHECK(terminated(text, sizeof(text)) && strncmp(text, "From ", 5) == 0);
	rc = pki_cert_sentence(der, len, text, 24);
	FUZZ_CHECK(rc == 0 || rc == PKI_ESPACE);
	FUZZ_CHECK(terminated(text, 24));
	rc = pki_key_matches_cert(ca_key, ca_key_len, der, len);
	FUZZ_CHECK(rc == 0 || rc == PKI_EMISMATCH || rc == PKI_EBADCERT || rc == PKI_EBADKEY ||
		   rc == PKI_EKEYTYPE || rc == PKI_ESPACE);
	memset(&vr, 0, sizeof(vr));
	err[0] = '\0';
	rc = pki_verify(ca_pem, ca_pem_len, der, len, &vo, &vr, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == PKI_EVERIFY || rc == PKI_EBADCERT || rc == PKI_EINTERNAL);
	FUZZ_CHECK(vr.ndefects <= PKI_VERIFY_MAX_DEFECTS && vr.nwarnings <= PKI_VERIFY_MAX_DEFECTS);
	for (size_t i = 0; i < vr.ndefects; i++)
		FUZZ_CHECK(vr.defect[i] != NULL && vr.defect[i][0] != '\0');
	FUZZ_CHECK(terminated(vr.names, sizeof(vr.names)) && terminated(err, sizeof(err)));
}

static void
certs(const unsigned char *in, size_t len)
{
	static unsigned char der[PKI_DER_MAX];
	size_t off = 0, prev = 0, derlen = 0;
	int rc;

	rc = pki_cert_decode(in, len, der, sizeof(der), &derlen);
	FUZZ_CHECK(rc == 0 || rc == PKI_EBADCERT || rc == PKI_ESPACE);
	if (rc == 0) {
		FUZZ_CHECK(derlen > 0 && derlen <= sizeof(der));
		check_cert(der, derlen);
	}
	/* A bundle: forwards only, and to its end. */
	for (int i = 0; i < 64; i++) {
		rc = pki_cert_next(in, len, &off, der, sizeof(der), &derlen);
		FUZZ_CHECK(rc == 1 || rc == 0 || rc == PKI_EBADCERT || rc == PKI_ESPACE);
		FUZZ_CHECK(off <= len);
		if (rc != 1)
			break;
		FUZZ_CHECK(off > prev || (prev == 0 && off > 0));
		FUZZ_CHECK(derlen > 0 && derlen <= sizeof(der));
		prev = off;
	}
	/* Too small a buffer is PKI_ESPACE, never an overflow. */
	rc = pki_cert_decode(in, len, der, 16, &derlen);
	FUZZ_CHECK(rc == 0 || rc == PKI_EBADCERT || rc == PKI_ESPACE);
	if (rc == 0)
		FUZZ_CHECK(derlen <= 16);
}

static void
csrs(const unsigned char *in, size_t len)
{
	static unsigned char der[PKI_DER_MAX], again[PKI_DER_MAX];
	size_t derlen = 0, alen = 0;
	int rc = pki_csr_decode(in, len, der, sizeof(der), &derlen);

	FUZZ_CHECK(rc == 0 || rc == PKI_EBADCSR || rc == PKI_ESPACE);
	if (rc != 0)
		return;
	FUZZ_CHECK(derlen > 0 && derlen <= sizeof(der));
	FUZZ_CHECK(pki_csr_decode(der, derlen, again, sizeof(again), &alen) == 0);
	FUZZ_CHECK(alen == derlen && memcmp(again, der, derlen) == 0);
	FUZZ_CHECK(pki_detect(der, derlen) == PKI_KIND_CSR);
}

static void
keys(const unsigned char *in, size_t len)
{
	static unsigned char der[PKI_DER_MAX], again[PKI_DER_MAX];
	char sum[64];
	size_t derlen = 0, alen = 0;
	int enc = pki_key_is_encrypted(in, len);
	int rc = pki_key_decode(in, len, NULL, der, sizeof(der), &derlen);

	FUZZ_CHECK(enc == 0 || enc == 1);
	FUZZ_CHECK(rc == 0 || rc == PKI_ENEEDPASS || rc == PKI_EBADKEY || rc == PKI_EKEYTYPE ||
		   rc == PKI_ESPACE || rc == PKI_ERNG || rc == PKI_EINTERNAL);
	if (rc == PKI_ENEEDPASS)
		FUZZ_CHECK(enc == 1);
	if (enc)
		FUZZ_CHECK(rc == PKI_ENEEDPASS || rc == PKI_EBADKEY || rc == PKI_ESPACE);
	if (rc != 0)
		return;
	FUZZ_CHECK(derlen > 0 && derlen <= sizeof(der));
	/* The decoded key is canonical PKCS#8: decoding it again changes nothing. */
	FUZZ_CHECK(pki_key_decode(der, derlen, NULL, again, sizeof(again), &alen) == 0);
	FUZZ_CHECK(alen == derlen && memcmp(again, der, derlen) == 0);
	FUZZ_CHECK(pki_key_is_encrypted(der, derlen) == 0);
	FUZZ_CHECK(pki_detect(der, derlen) == PKI_KIND_KEY);
	FUZZ_CHECK(pki_key_summary(der, derlen, sum, sizeof(sum)) == 0);
	FUZZ_CHECK(terminated(sum, sizeof(sum)));
	FUZZ_CHECK(strncmp(sum, "RSA ", 4) == 0 || strncmp(sum, "EC P-", 5) == 0);
	explicit_bzero(der, sizeof(der));
	explicit_bzero(again, sizeof(again));
}

static void
describe(const unsigned char *in, size_t len)
{
	static char out[16384];
	char err[256];
	enum pki_kind kind = pki_detect(in, len);
	int rc;

	FUZZ_CHECK(kind >= PKI_KIND_UNKNOWN && kind <= PKI_KIND_ENCRYPTED_KEY);
	out[0] = err[0] = '\0';
	rc = pki_describe(in, len, NULL, NOW, out, sizeof(out), err, sizeof(err));
	FUZZ_CHECK(is_code(rc));
	FUZZ_CHECK(terminated(out, sizeof(out)) && terminated(err, sizeof(err)));
	if (rc == 0)
		FUZZ_CHECK(strlen(out) > 0 && kind != PKI_KIND_UNKNOWN);
	/* The same with a tiny output buffer: cut short, never past it. */
	memset(out, 'x', 64);
	rc = pki_describe(in, len, NULL, NOW, out, 48, err, sizeof(err));
	FUZZ_CHECK(is_code(rc));
	FUZZ_CHECK(out[48] == 'x' && out[63] == 'x');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size > 3 * PKI_PEM_MAX)
		return 0;
	certs(data, size);
	csrs(data, size);
	keys(data, size);
	describe(data, size);
	return 0;
}
