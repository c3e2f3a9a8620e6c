/*
 * libpki: the DER plumbing, names and SANs, keys (including the legacy-PEM wrong-password
 * trap), CA / CSR / sign, then verify what was signed, and every input cut short at every
 * length against a guard page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/md5.h>
#include <wolfssl/wolfcrypt/random.h>

#include "guard.h"
#include "pki.h"
#include "pki_der.h"
#include "pki_int.h"
#include "tls_words.h"

#define DAY 86400

/* Material made once per run and shared by the tests (EC keys: fast even under valgrind). */
static struct {
	char ca_key_pem[PKI_PEM_MAX], leaf_key_pem[PKI_PEM_MAX];
	unsigned char ca_key[PKI_DER_MAX], leaf_key[PKI_DER_MAX];
	size_t ca_key_len, leaf_key_len;
	char ca_pem[PKI_PEM_MAX], csr_pem[PKI_PEM_MAX], leaf_pem[PKI_PEM_MAX];
	time_t now;
} m;

static const struct pki_name ca_name = {.country = "US",
					.state = "Maryland",
					.locality = "Baltimore",
					.org = "My CA Company",
					.cn = "my-ca.com"};
static const struct pki_name leaf_name = {.country = "US",
					  .state = "Maryland",
					  .locality = "Baltimore",
					  .org = "My Company",
					  .cn = "my-site.com"};
static const char *const leaf_sans[] = {"localhost", "127.0.0.1", "::1", "my-site.com"};

static void
decode_key(const char *pem, const char *pw, unsigned char *der, size_t *len)
{
	size_t n = strlen(pem);
	char *g = guard_dup(pem, n);

	assert_int_equal(pki_key_decode((const unsigned char *)g, n, pw, der, PKI_DER_MAX, len), 0);
	guard_free(g, n);
}

static int
setup(void **state)
{
	size_t len;
	char err[256];

	(void)state;
	m.now = time(NULL);
	assert_int_equal(pki_key_generate(PKI_KEY_EC_P256, "ca secret", m.ca_key_pem,
					  sizeof(m.ca_key_pem), &len),
			 0);
	assert_int_equal(pki_key_generate(PKI_KEY_EC_P256, NULL, m.leaf_key_pem,
					  sizeof(m.leaf_key_pem), &len),
			 0);
	decode_key(m.ca_key_pem, "ca secret", m.ca_key, &m.ca_key_len);
	decode_key(m.leaf_key_pem, NULL, m.leaf_key, &m.leaf_key_len);
	assert_int_equal(pki_ca_create(m.ca_key, m.ca_key_len, &ca_name, m.now - 60,
				       m.now + 30 * DAY, m.ca_pem, sizeof(m.ca_pem), &len, err,
				       sizeof(err)),
			 0);
	assert_int_equal(pki_csr_create(m.leaf_key, m.leaf_key_len, &leaf_name, leaf_sans, 4,
					m.csr_pem, sizeof(m.csr_pem), &len, err, sizeof(err)),
			 0);
	return 0;
}

/* o with the request, the CA certificate and the CA key to sign with. */
static void
set_inputs(struct pki_sign_opts *o, const void *csr, size_t csrlen, const void *ca, size_t calen,
	   const unsigned char *key, size_t keylen)
{
	o->csr = csr;
	o->csrlen = csrlen;
	o->cacert = ca;
	o->cacertlen = calen;
	o->cakey = key;
	o->cakeylen = keylen;
	o->now = m.now;
}

/* ---- DER ------------------------------------------------------------------------------- */

static void
test_der_lengths(void **state)
{
	static unsigned char big[300];
	unsigned char buf[400];
	struct pki_der_w w;
	struct pki_der in;
	struct pki_tlv t;
	size_t len;

	(void)state;
	/* 0x7f fits the short form, 0x80 needs 0x81, 0x100 needs 0x82 (X.690 §8.1.3). */
	for (size_t n = 0x7e; n <= 0x101; n++) {
		pki_der_init(&w, buf, sizeof(buf));
		pki_der_begin(&w, PKI_DER_SEQ);
		pki_der_put(&w, PKI_DER_OCTET_STRING, big,
			    n - 2 - (n - 2 >= 0x80) - (n - 2 >= 0x100));
		pki_der_end(&w);
		assert_int_equal(pki_der_finish(&w, &len), 0);
		in.p = buf;
		in.len = len;
		assert_int_equal(pki_der_get(&in, PKI_DER_SEQ, &t), 0);
		assert_int_equal(in.len, 0);
		assert_int_equal(t.all.len, len);
	}
	pki_der_init(&w, buf, 4);
	pki_der_put(&w, PKI_DER_OCTET_STRING, big, 3);
	assert_int_equal(pki_der_finish(&w, &len), PKI_ESPACE);
	pki_der_init(&w, buf, sizeof(buf));
	pki_der_begin(&w, PKI_DER_SEQ);
	assert_int_equal(pki_der_finish(&w, &len), PKI_EINTERNAL);

	/* The reader refuses indefinite lengths, lengths past the end, and high tags. */
	{
		static const unsigned char indefinite[] = {0x30, 0x80, 0x00, 0x00};
		static const unsigned char overrun[] = {0x30, 0x05, 0x01};
		static const unsigned char hightag[] = {0x1f, 0x01, 0x00};
		static const unsigned char toolong[] = {0x30, 0x85, 1, 0, 0, 0, 0};

		in.p = indefinite, in.len = sizeof(indefinite);
		assert_int_equal(pki_der_next(&in, &t), -1);
		in.p = overrun, in.len = sizeof(overrun);
		assert_int_equal(pki_der_next(&in, &t), -1);
		in.p = hightag, in.len = sizeof(hightag);
		assert_int_equal(pki_der_next(&in, &t), -1);
		in.p = toolong, in.len = sizeof(toolong);
		assert_int_equal(pki_der_next(&in, &t), -1);
	}
}

static void
test_der_integers_and_bits(void **state)
{
	static const unsigned char zeros[] = {0, 0, 0x7f};
	static const unsigned char high[] = {0x80};
	unsigned char buf[64];
	struct pki_der_w w;
	size_t len;

	(void)state;
	pki_der_init(&w, buf, sizeof(buf));
	pki_der_uint(&w, zeros, sizeof(zeros)); /* 02 01 7f */
	pki_der_uint(&w, high, sizeof(high));   /* 02 02 00 80 */
	pki_der_small(&w, 0);                   /* 02 01 00 */
	pki_der_small(&w, 20000);               /* 02 02 4e 20 */
	/* keyUsage encodings as OpenSSL writes them. */
	pki_der_named_bits(&w, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN); /* 03 02 01 06 */
	pki_der_named_bits(&w,
			   PKI_KU_DIGITAL_SIGNATURE | PKI_KU_KEY_ENCIPHERMENT); /* 03 02 05 a0 */
	pki_der_named_bits(&w, PKI_KU_DIGITAL_SIGNATURE);                       /* 03 02 07 80 */
	pki_der_named_bits(&w, PKI_KU_DECIPHER_ONLY);                           /* 03 03 07 00 80 */
	assert_int_equal(pki_der_finish(&w, &len), 0);
	{
		static const unsigned char want[] = {0x02, 0x01, 0x7f, 0x02, 0x02, 0x00, 0x80, 0x02,
						     0x01, 0x00, 0x02, 0x02, 0x4e, 0x20, 0x03, 0x02,
						     0x01, 0x06, 0x03, 0x02, 0x05, 0xa0, 0x03, 0x02,
						     0x07, 0x80, 0x03, 0x03, 0x07, 0x00, 0x80};

		assert_int_equal(len, sizeof(want));
		assert_memory_equal(buf, want, sizeof(want));
	}
}

static void
test_der_times(void **state)
{
	static const struct {
		time_t t;
		unsigned char tag;
		const char *text;
	} cases[] = {
		{.t = 0, .tag = PKI_DER_UTCTIME, .text = "700101000000Z"},
		{.t = 2524607999,
		 .tag = PKI_DER_UTCTIME,
		 .text = "491231235959Z"}, /* the last UTCTime second */
		{.t = 2524608000,
		 .tag = PKI_DER_GENTIME,
		 .text = "20500101000000Z"}, /* RFC 5280: GeneralizedTime */
	};
	unsigned char buf[64];
	struct pki_der_w w;
	struct pki_der in;
	struct pki_tlv t;
	time_t back;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pki_der_init(&w, buf, sizeof(buf));
		pki_der_put_time(&w, cases[i].t);
		assert_int_equal(pki_der_finish(&w, &len), 0);
		in.p = buf;
		in.len = len;
		assert_int_equal(pki_der_next(&in, &t), 0);
		assert_int_equal(t.tag, cases[i].tag);
		assert_int_equal(t.v.len, strlen(cases[i].text));
		assert_memory_equal(t.v.p, cases[i].text, t.v.len);
		assert_int_equal(pki_der_time(&t, &back), 0);
		assert_true(back == cases[i].t);
	}
	/* 1950 is the first UTCTime year: "50" means 1950, "49" 2049. */
	{
		static const unsigned char y50[] = {0x17, 13,  '5', '0', '0', '1', '0', '1',
						    '0',  '0', '0', '0', '0', '0', 'Z'};
		static const unsigned char local[] = {0x17, 13,  '2', '4', '0', '1', '0', '1',
						      '0',  '0', '0', '0', '0', '0', '+'};
		in.p = y50, in.len = sizeof(y50);
		assert_int_equal(pki_der_next(&in, &t), 0);
		assert_int_equal(pki_der_time(&t, &back), 0);
		assert_true(back == (time_t)-631152000);
		in.p = local, in.len = sizeof(local);
		assert_int_equal(pki_der_next(&in, &t), 0);
		assert_int_equal(pki_der_time(&t, &back), -1);
	}
}

static void
test_oid_text(void **state)
{
	struct pki_der d = {PKI_OID_SHA256_RSA, sizeof(PKI_OID_SHA256_RSA)};
	char buf[64];

	(void)state;
	assert_int_equal(pki_der_oid_text(&d, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.2.840.113549.1.1.11");
	assert_string_equal(pki_oid_name(&d), "sha256WithRSAEncryption");
	d.p = PKI_OID_P384;
	d.len = sizeof(PKI_OID_P384);
	assert_int_equal(pki_der_oid_text(&d, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.3.132.0.34");
	assert_int_equal(pki_der_oid_text(&d, buf, 5), -1);
}

/* ---- extensions ------------------------------------------------------------------------ */

/* One Extension: oid, critical (0/1), and the DER of its value. */
static void
put_ext(struct pki_der_w *w, const unsigned char *oid, size_t oidlen, int critical,
	const void *value, size_t len)
{
	static const unsigned char true_ = 0xff;

	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_put(w, PKI_DER_OID, oid, oidlen);
	if (critical)
		pki_der_put(w, PKI_DER_BOOLEAN, &true_, 1);
	pki_der_put(w, PKI_DER_OCTET_STRING, value, len);
	pki_der_end(w);
}

static int
parse_exts(const unsigned char *der, size_t len, struct pki_exts *e, char *err, size_t errlen)
{
	struct pki_der d = {der, len};

	return pki_exts_parse(&d, e, err, errlen);
}

static void
test_exts(void **state)
{
	static const unsigned char bc_ca3[] = {0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x03};
	static const unsigned char bc_leaf[] = {0x30, 0x00};
	static const unsigned char ku_sign[] = {0x03, 0x02, 0x01, 0x06}; /* keyCertSign, cRLSign */
	static const unsigned char eku[] = {0x30, 0x0f, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05,
					    0x07, 0x03, 0x01, 0x06, 0x03, 0x2a, 0x03, 0x04};
	static const unsigned char aki[] = {0x30, 0x04, 0x80, 0x02, 0xab, 0xcd};
	static const unsigned char ski[] = {0x04, 0x02, 0x12, 0x34};
	static const unsigned char unknown_oid[] = {0x2a, 0x03, 0x04};
	static const unsigned char octets[] = {0x04, 0x00};
	unsigned char buf[512];
	struct pki_der_w w;
	struct pki_exts e;
	char err[128];
	size_t len;

	(void)state;
	pki_der_init(&w, buf, sizeof(buf));
	put_ext(&w, PKI_OID_BASIC_CONSTRAINTS, sizeof(PKI_OID_BASIC_CONSTRAINTS), 1, bc_ca3,
		sizeof(bc_ca3));
	put_ext(&w, PKI_OID_KEY_USAGE, sizeof(PKI_OID_KEY_USAGE), 1, ku_sign, sizeof(ku_sign));
	put_ext(&w, PKI_OID_EXT_KEY_USAGE, sizeof(PKI_OID_EXT_KEY_USAGE), 0, eku, sizeof(eku));
	put_ext(&w, PKI_OID_SKI, sizeof(PKI_OID_SKI), 0, ski, sizeof(ski));
	put_ext(&w, PKI_OID_AKI, sizeof(PKI_OID_AKI), 0, aki, sizeof(aki));
	put_ext(&w, unknown_oid, sizeof(unknown_oid), 0, octets, sizeof(octets));
	/* A second basicConstraints is noted, not read: the first one stands. */
	put_ext(&w, PKI_OID_BASIC_CONSTRAINTS, sizeof(PKI_OID_BASIC_CONSTRAINTS), 0, bc_leaf,
		sizeof(bc_leaf));
	assert_int_equal(pki_der_finish(&w, &len), 0);
	assert_int_equal(parse_exts(buf, len, &e, err, sizeof(err)), 0);
	assert_true(e.bc && e.bc_crit && e.bc_ca);
	assert_int_equal(e.bc_pathlen, 3);
	assert_true(e.ku && e.ku_crit);
	assert_int_equal(e.ku_bits, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN);
	assert_true(e.eku && !e.eku_crit);
	assert_int_equal(e.eku_bits, PKI_EKU_SERVER | PKI_EKU_OTHER);
	assert_true(e.ski && e.ski_id.len == 2 && e.ski_id.p[0] == 0x12);
	assert_true(e.aki && e.aki_id.len == 2 && e.aki_id.p[1] == 0xcd);
	assert_false(e.san);
	assert_int_equal(e.unknown_crit, 0);
	assert_int_equal(e.duplicate, 1);

	/* Only an unknown critical extension counts as one. */
	pki_der_init(&w, buf, sizeof(buf));
	put_ext(&w, unknown_oid, sizeof(unknown_oid), 1, octets, sizeof(octets));
	assert_int_equal(pki_der_finish(&w, &len), 0);
	assert_int_equal(parse_exts(buf, len, &e, err, sizeof(err)), 0);
	assert_int_equal(e.unknown_crit, 1);
	assert_int_equal(e.bc_pathlen, -1);

	/* A known extension whose value is not its type: malformed, by name. */
	pki_der_init(&w, buf, sizeof(buf));
	put_ext(&w, PKI_OID_KEY_USAGE, sizeof(PKI_OID_KEY_USAGE), 1, octets, sizeof(octets));
	assert_int_equal(pki_der_finish(&w, &len), 0);
	assert_int_equal(parse_exts(buf, len, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "the keyUsage extension is malformed");

	/* A negative or huge path length is no constraint. */
	pki_der_init(&w, buf, sizeof(buf));
	put_ext(&w, PKI_OID_BASIC_CONSTRAINTS, sizeof(PKI_OID_BASIC_CONSTRAINTS), 1,
		"\x30\x06\x01\x01\xff\x02\x01\x80", 8);
	assert_int_equal(pki_der_finish(&w, &len), 0);
	assert_int_equal(parse_exts(buf, len, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "the basicConstraints extension is malformed");

	/* An extension with no value. */
	pki_der_init(&w, buf, sizeof(buf));
	pki_der_begin(&w, PKI_DER_SEQ);
	pki_der_put(&w, PKI_DER_OID, PKI_OID_SKI, sizeof(PKI_OID_SKI));
	pki_der_end(&w);
	assert_int_equal(pki_der_finish(&w, &len), 0);
	assert_int_equal(parse_exts(buf, len, &e, err, sizeof(err)), -1);
	assert_string_equal(err, "an extension has no value");
}

/* ---- PEM ------------------------------------------------------------------------------- */

static void
test_pem(void **state)
{
	static const char *const only_b[] = {"B", NULL};
	unsigned char der[300], out[300];
	char pem[2048];
	size_t pemlen, outlen, off = 0;
	int which;

	(void)state;
	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (unsigned char)(i * 7);
	/* Every length 0..299 gives every base64 padding case. */
	for (size_t n = 1; n < sizeof(der); n += 1) {
		assert_int_equal(pki_pem_encode(der, n, CERT_TYPE, pem, sizeof(pem), &pemlen), 0);
		assert_int_equal(pemlen, strlen(pem));
		off = 0;
		assert_int_equal(pki_pem_next((unsigned char *)pem, pemlen, &off, NULL, NULL, out,
					      sizeof(out), &outlen),
				 1);
		assert_int_equal(outlen, n);
		assert_memory_equal(out, der, n);
	}
	/* The NUL needs room too: one byte short of it is PKI_ESPACE, never an overflow. */
	assert_int_equal(pki_pem_encode(der, 100, CERTREQ_TYPE, pem, sizeof(pem), &pemlen), 0);
	assert_true(strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36) == 0);
	outlen = pemlen;
	memset(pem, 'x', sizeof(pem));
	assert_int_equal(pki_pem_encode(der, 100, CERTREQ_TYPE, pem, outlen, &pemlen), PKI_ESPACE);
	assert_int_equal(pem[outlen], 'x');
	assert_int_equal(pki_pem_encode(der, 100, CERTREQ_TYPE, pem, outlen + 1, &pemlen), 0);
	assert_int_equal(pemlen, outlen);
	assert_int_equal(pem[outlen], '\0');
	assert_int_equal(pki_pem_encode(der, 100, CERTREQ_TYPE, pem, 40, &pemlen), PKI_ESPACE);
	/* Blocks with other labels are skipped; CRLF line ends are fine. */
	snprintf(pem, sizeof(pem),
		 "junk\r\n-----BEGIN A-----\r\nAAEC\r\n-----END A-----\r\n"
		 "-----BEGIN B-----\r\nAwQF\r\n-----END B-----\r\n");
	off = 0;
	assert_int_equal(pki_pem_next((unsigned char *)pem, strlen(pem), &off, only_b, &which, out,
				      sizeof(out), &outlen),
			 1);
	assert_int_equal(which, 0);
	assert_int_equal(outlen, 3);
	assert_int_equal(out[0], 3);
	assert_int_equal(pki_pem_next((unsigned char *)pem, strlen(pem), &off, only_b, &which, out,
				      sizeof(out), &outlen),
			 0);
	/* Corrupt base64, missing END, a full output buffer. */
	snprintf(pem, sizeof(pem), "-----BEGIN A-----\nAA*C\n-----END A-----\n");
	off = 0;
	assert_int_equal(pki_pem_next((unsigned char *)pem, strlen(pem), &off, NULL, NULL, out,
				      sizeof(out), &outlen),
			 -1);
	snprintf(pem, sizeof(pem), "-----BEGIN A-----\nAAEC\n");
	off = 0;
	assert_int_equal(pki_pem_next((unsigned char *)pem, strlen(pem), &off, NULL, NULL, out,
				      sizeof(out), &outlen),
			 -1);
	snprintf(pem, sizeof(pem), "-----BEGIN A-----\nAAECAwQF\n-----END A-----\n");
	off = 0;
	assert_int_equal(
		pki_pem_next((unsigned char *)pem, strlen(pem), &off, NULL, NULL, out, 5, &outlen),
		PKI_ESPACE);
}

/* ---- names, SANs, time ----------------------------------------------------------------- */

static void
test_names(void **state)
{
	unsigned char buf[512];
	char text[256], err[128];
	struct pki_der_w w;
	struct pki_der d;
	size_t len;
	struct pki_name n = leaf_name;
	char longer[PKI_NAME_MAX + 2];

	(void)state;
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_name_encode(&n, &w, err, sizeof(err)), 0);
	assert_int_equal(pki_der_finish(&w, &len), 0);
	d.p = buf;
	d.len = len;
	assert_int_equal(pki_name_text(&d, text, sizeof(text)), 0);
	assert_string_equal(text, "C=US, ST=Maryland, L=Baltimore, O=My Company, CN=my-site.com");
	assert_int_equal(pki_name_cn(&d, text, sizeof(text)), 1);
	assert_string_equal(text, "my-site.com");
	assert_int_equal(pki_name_empty(&d), 0);
	/* The country is a PrintableString, the rest UTF8String (RFC 5280 §4.1.2.4). */
	assert_non_null(memmem(buf, len, "\x13\x02US", 4));
	assert_non_null(memmem(buf, len, "\x0c\x0bmy-site.com", 13));

	n.country = "USA";
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_name_encode(&n, &w, err, sizeof(err)), PKI_ENAME);
	assert_non_null(strstr(err, "two-letter"));
	n = leaf_name;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	n.cn = longer;
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_name_encode(&n, &w, err, sizeof(err)), PKI_ENAME);
	n.cn = "bad\nname";
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_name_encode(&n, &w, err, sizeof(err)), PKI_ENAME);
	n.cn = NULL;
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_name_encode(&n, &w, err, sizeof(err)), PKI_ENAME);
	/* Only a CN: the other attributes are optional. */
	n = (struct pki_name){.state = "", .cn = "solo"};
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_name_encode(&n, &w, err, sizeof(err)), 0);
	assert_int_equal(pki_der_finish(&w, &len), 0);
	d.len = len;
	assert_int_equal(pki_name_text(&d, text, sizeof(text)), 0);
	assert_string_equal(text, "CN=solo");
}

static void
test_sans(void **state)
{
	static const char *const good[] = {"localhost",
					   "127.0.0.1",
					   "::1",
					   "DNS:a-b.example",
					   "IP:10.1.2.3",
					   "*.example.com",
					   "xn--bcher-kva.example"};
	static const char *const bad[] = {"",
					  "-lead.example",
					  "trail-.example",
					  "a..b",
					  "*.com",
					  "foo.*.example",
					  "under_score.example",
					  "sp ace",
					  "IP:not-an-ip",
					  "b\xc3\xbc"
					  "cher.example",
					  "x.",
					  "*example.com"};
	unsigned char buf[1024];
	char text[512], err[256];
	struct pki_der_w w;
	struct pki_der in, names;
	struct pki_tlv t;
	size_t len;

	(void)state;
	pki_der_init(&w, buf, sizeof(buf));
	assert_int_equal(pki_san_encode(good, 7, &w, err, sizeof(err)), 0);
	assert_int_equal(pki_der_finish(&w, &len), 0);
	in.p = buf;
	in.len = len;
	assert_int_equal(pki_der_get(&in, PKI_DER_SEQ, &t), 0);
	names = t.v;
	assert_int_equal(pki_san_check(&names, err, sizeof(err)), 0);
	assert_int_equal(pki_san_text(&names, text, sizeof(text)), 0);
	assert_string_equal(text, "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:a-b.example, "
				  "IP:10.1.2.3, DNS:*.example.com, DNS:xn--bcher-kva.example");
	/* RFC 6125 matching: exact (any case), one leftmost wildcard label, IPs by value. */
	assert_true(pki_san_match(&names, "localhost"));
	assert_true(pki_san_match(&names, "LOCALHOST"));
	assert_true(pki_san_match(&names, "localhost."));
	assert_true(pki_san_match(&names, "127.0.0.1"));
	assert_true(pki_san_match(&names, "::1"));
	assert_true(pki_san_match(&names, "0:0:0:0:0:0:0:1"));
	assert_true(pki_san_match(&names, "www.example.com"));
	assert_false(pki_san_match(&names, "example.com"));
	assert_false(pki_san_match(&names, "a.b.example.com"));
	assert_false(pki_san_match(&names, "127.0.0.2"));
	assert_false(pki_san_match(&names, "::2"));
	assert_false(pki_san_match(&names, "localhost.example"));
	assert_false(pki_san_match(&names, "10.1.2"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pki_der_init(&w, buf, sizeof(buf));
		err[0] = '\0';
		assert_int_equal(pki_san_encode(&bad[i], 1, &w, err, sizeof(err)), PKI_ESAN);
		assert_non_null(strstr(err, bad[i]));
	}
}

static void
test_time_parse(void **state)
{
	const time_t now = 1700000000;
	time_t t;

	(void)state;
	assert_int_equal(pki_time_parse("now", now, &t), 0);
	assert_true(t == now);
	assert_int_equal(pki_time_parse("-2d", now, &t), 0);
	assert_true(t == now - 2 * DAY);
	assert_int_equal(pki_time_parse("+3h", now, &t), 0);
	assert_true(t == now + 3 * 3600);
	assert_int_equal(pki_time_parse("-90m", now, &t), 0);
	assert_true(t == now - 90 * 60);
	assert_int_equal(pki_time_parse("+30s", now, &t), 0);
	assert_true(t == now + 30);
	assert_int_equal(pki_time_parse("@86400", now, &t), 0);
	assert_true(t == 86400);
	assert_int_equal(pki_time_parse("2024-05-01", now, &t), 0);
	assert_true(t == 1714521600);
	assert_int_equal(pki_time_parse("2024-05-01T12:00:00Z", now, &t), 0);
	assert_true(t == 1714521600 + 12 * 3600);
	assert_int_equal(pki_time_parse("2024-05-01 12:00:01", now, &t), 0);
	assert_true(t == 1714521600 + 12 * 3600 + 1);
	assert_int_equal(pki_time_parse("yesterday", now, &t), -1);
	assert_int_equal(pki_time_parse("-2", now, &t), -1);
	assert_int_equal(pki_time_parse("-2dd", now, &t), -1);
	assert_int_equal(pki_time_parse("2024-05-01x", now, &t), -1);
	assert_int_equal(pki_time_parse("@", now, &t), -1);
	/* Days that do not exist were rolled over by timegm (2026-02-30 became March 2). */
	assert_int_equal(pki_time_parse("2026-02-30", now, &t), -1);
	assert_int_equal(pki_time_parse("2025-02-29", now, &t), -1);
	assert_int_equal(pki_time_parse("2026-04-31T00:00:00Z", now, &t), -1);
	assert_int_equal(pki_time_parse("2024-05-01T24:00:00Z", now, &t), -1);
	assert_int_equal(pki_time_parse("2024-02-29", now, &t), 0);
	assert_true(t == 1709164800);
	{
		char buf[32];

		pki_time_format(1714521600 + 12 * 3600, buf, sizeof(buf));
		assert_string_equal(buf, "2024-05-01 12:00:00");
	}
}

/* ---- keys ------------------------------------------------------------------------------ */

static void
test_key_roundtrip(void **state)
{
	unsigned char der[PKI_DER_MAX];
	const unsigned char *p = (const unsigned char *)m.ca_key_pem;
	size_t n = strlen(m.ca_key_pem), len;
	char summary[32];

	(void)state;
	assert_non_null(strstr(m.ca_key_pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	assert_non_null(strstr(m.leaf_key_pem, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(pki_key_is_encrypted(p, n), 1);
	assert_int_equal(
		pki_key_is_encrypted((const unsigned char *)m.leaf_key_pem, strlen(m.leaf_key_pem)),
		0);
	assert_int_equal(pki_key_decode(p, n, NULL, der, sizeof(der), &len), PKI_ENEEDPASS);
	assert_int_equal(pki_key_decode(p, n, "ca secreT", der, sizeof(der), &len), PKI_EPASSWORD);
	assert_int_equal(pki_key_decode(p, n, "", der, sizeof(der), &len), PKI_EPASSWORD);
	assert_int_equal(pki_key_decode(p, n, "ca secret", der, 10, &len), PKI_ESPACE);
	assert_int_equal(pki_key_summary(m.ca_key, m.ca_key_len, summary, sizeof(summary)), 0);
	assert_string_equal(summary, "EC P-256");
	/* The decoded form is PKCS#8 and decodes to itself (DER in, DER out). */
	assert_int_equal(pki_key_decode(m.ca_key, m.ca_key_len, NULL, der, sizeof(der), &len), 0);
	assert_int_equal(len, m.ca_key_len);
	assert_memory_equal(der, m.ca_key, len);
	/* A password for a key that has none is ignored. */
	assert_int_equal(pki_key_decode((const unsigned char *)m.leaf_key_pem,
					strlen(m.leaf_key_pem), "unused", der, sizeof(der), &len),
			 0);
}

static void
test_key_garbage(void **state)
{
	static const char *const inputs[] = {
		"",
		"hello",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
	};
	unsigned char der[PKI_DER_MAX];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		int rc = pki_key_decode((const unsigned char *)inputs[i], strlen(inputs[i]), "pw",
					der, sizeof(der), &len);

		assert_int_equal(rc, PKI_EBADKEY);
	}
}

/*
 * The tutorial's key format, made here with wolfCrypt's MD5 and AES exactly as OpenSSL's
 * PEM_write_*PrivateKey does: key = EVP_BytesToKey(MD5, salt = IV[0..8], password).
 */
static size_t
legacy_pem(const unsigned char *trad, size_t tradlen, const char *label, const char *pw,
	   const unsigned char iv[16], char *out, size_t cap)
{
	unsigned char key[32], d[16], ct[PKI_DER_MAX + 16], b64[PKI_PEM_MAX];
	size_t pad = 16 - tradlen % 16, used = 0;
	word32 b64len = sizeof(b64);
	wc_Md5 md5;
	Aes aes;

	for (size_t got = 0; got < sizeof(key); got += 16) {
		wc_InitMd5(&md5);
		if (got > 0)
			wc_Md5Update(&md5, d, 16);
		wc_Md5Update(&md5, (const byte *)pw, (word32)strlen(pw));
		wc_Md5Update(&md5, iv, 8);
		wc_Md5Final(&md5, d);
		memcpy(key + got, d, 16);
	}
	memcpy(ct, trad, tradlen);
	memset(ct + tradlen, (int)pad, pad);
	wc_AesInit(&aes, NULL, INVALID_DEVID);
	wc_AesSetKey(&aes, key, 32, iv, AES_ENCRYPTION);
	wc_AesCbcEncrypt(&aes, ct, ct, (word32)(tradlen + pad));
	wc_AesFree(&aes);
	assert_int_equal(Base64_Encode(ct, (word32)(tradlen + pad), b64, &b64len), 0);
	used += (size_t)snprintf(
		out, cap, "-----BEGIN %s-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,",
		label);
	for (int i = 0; i < 16; i++)
		used += (size_t)snprintf(out + used, cap - used, "%02X", iv[i]);
	used += (size_t)snprintf(out + used, cap - used, "\n\n%.*s-----END %s-----\n", (int)b64len,
				 (const char *)b64, label);
	return used;
}

static void
test_key_legacy_wrong_password(void **state)
{
	unsigned char trad[PKI_DER_MAX], der[PKI_DER_MAX], iv[16];
	char pem[PKI_PEM_MAX], pw[32];
	struct pki_key k;
	WC_RNG rng;
	size_t n, len;
	int tradlen, accepted = 0;

	(void)state;
	assert_int_equal(pki_key_load(m.leaf_key, m.leaf_key_len, &k), 0);
	tradlen = wc_EccKeyToDer(&k.ecc, trad, sizeof(trad));
	pki_key_free(&k);
	assert_true(tradlen > 0);
	assert_int_equal(wc_InitRng(&rng), 0);
	assert_int_equal(wc_RNG_GenerateBlock(&rng, iv, sizeof(iv)), 0);
	n = legacy_pem(trad, (size_t)tradlen, "EC PRIVATE KEY", "serverpassword", iv, pem,
		       sizeof(pem));
	assert_int_equal(pki_key_is_encrypted((unsigned char *)pem, n), 1);
	assert_int_equal(pki_key_decode((unsigned char *)pem, n, NULL, der, sizeof(der), &len),
			 PKI_ENEEDPASS);
	assert_int_equal(
		pki_key_decode((unsigned char *)pem, n, "serverpassword", der, sizeof(der), &len),
		0);
	assert_int_equal(len, m.leaf_key_len);
	assert_memory_equal(der, m.leaf_key, len);
	/* wolfSSL itself "decrypts" such a key under a wrong password; whatever garbage comes
	 * out, we must say "wrong password", every time. */
	for (int i = 0; i < 300; i++) {
		snprintf(pw, sizeof(pw), "wrong-%d", i);
		if (pki_key_decode((unsigned char *)pem, n, pw, der, sizeof(der), &len) !=
		    PKI_EPASSWORD)
			accepted++;
	}
	assert_int_equal(accepted, 0);
	wc_FreeRng(&rng);
}

static void
test_key_rsa(void **state)
{
	char pem[PKI_PEM_MAX], err[256], summary[32], text[8192];
	unsigned char key[PKI_DER_MAX];
	size_t pemlen, keylen;
	struct pki_sign_opts o = {.not_before = m.now, .not_after = m.now + DAY};
	struct pki_sign_notes notes;
	unsigned char der[PKI_DER_MAX];
	size_t derlen;
	struct pki_x509 x;

	(void)state;
	/* One RSA-2048 key (slow on Debian's wolfSSL): PKCS#8 round trip and keyEncipherment. */
	assert_int_equal(pki_key_generate(PKI_KEY_RSA2048, NULL, pem, sizeof(pem), &pemlen), 0);
	decode_key(pem, NULL, key, &keylen);
	assert_int_equal(pki_key_summary(key, keylen, summary, sizeof(summary)), 0);
	assert_string_equal(summary, "RSA 2048");
	assert_int_equal(pki_csr_create(key, keylen, &leaf_name, leaf_sans, 1, pem, sizeof(pem),
					&pemlen, err, sizeof(err)),
			 0);
	set_inputs(&o, pem, pemlen, m.ca_pem, strlen(m.ca_pem), m.ca_key, m.ca_key_len);
	assert_int_equal(pki_csr_sign(&o, &notes, text, sizeof(text), &pemlen, err, sizeof(err)),
			 0);
	assert_int_equal(pki_cert_decode((unsigned char *)text, pemlen, der, sizeof(der), &derlen),
			 0);
	assert_int_equal(pki_x509_parse(der, derlen, &x, err, sizeof(err)), 0);
	assert_int_equal(x.ext.ku_bits, PKI_KU_DIGITAL_SIGNATURE | PKI_KU_KEY_ENCIPHERMENT);
	assert_int_equal(pki_key_matches_cert(key, keylen, der, derlen), 0);
	assert_int_equal(pki_key_matches_cert(m.leaf_key, m.leaf_key_len, der, derlen),
			 PKI_EMISMATCH);
	explicit_bzero(key, sizeof(key));
}

/* ---- CA, CSR, sign --------------------------------------------------------------------- */

static void
test_ca(void **state)
{
	unsigned char der[PKI_DER_MAX], id[20];
	size_t derlen;
	struct pki_x509 x;
	char err[128], sentence[256];

	(void)state;
	assert_int_equal(pki_cert_decode((unsigned char *)m.ca_pem, strlen(m.ca_pem), der,
					 sizeof(der), &derlen),
			 0);
	assert_int_equal(pki_x509_parse(der, derlen, &x, err, sizeof(err)), 0);
	assert_int_equal(x.version, 3);
	assert_true(x.ext.bc && x.ext.bc_ca && x.ext.bc_crit);
	assert_int_equal(x.ext.bc_pathlen, -1);
	assert_true(x.ext.ku && x.ext.ku_crit);
	assert_int_equal(x.ext.ku_bits, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN);
	assert_true(x.ext.ski && !x.ext.ski_crit);
	assert_int_equal(pki_spki_key_id(&x.spki, id), 0);
	assert_int_equal(x.ext.ski_id.len, 20);
	assert_memory_equal(x.ext.ski_id.p, id, 20);
	assert_false(x.ext.aki || x.ext.san || x.ext.eku);
	assert_int_equal(x.issuer.len, x.subject.len);
	assert_memory_equal(x.issuer.p, x.subject.p, x.issuer.len);
	assert_true(PKI_OID_EQ(&x.sig_alg, PKI_OID_SHA256_ECDSA));
	/* Serial: positive, 16 bytes, top byte never zero (minimal encoding). */
	assert_int_equal(x.serial.len, 16);
	assert_true(x.serial.p[0] >= 0x40 && x.serial.p[0] < 0x80);
	assert_true(x.not_before == m.now - 60 && x.not_after == m.now + 30 * DAY);
	assert_int_equal(pki_key_matches_cert(m.ca_key, m.ca_key_len, der, derlen), 0);
	assert_int_equal(pki_key_matches_cert(m.leaf_key, m.leaf_key_len, der, derlen),
			 PKI_EMISMATCH);
	assert_int_equal(pki_cert_sentence(der, derlen, sentence, sizeof(sentence)), 0);
	assert_non_null(strstr(sentence, " I am my-ca.com according to my-ca.com"));
	assert_int_equal(strncmp(sentence, "From ", 5), 0);
	assert_int_equal(pki_cert_sentence(der, derlen, sentence, 20), PKI_ESPACE);
	assert_int_equal(pki_ca_create(m.ca_key, m.ca_key_len, &ca_name, m.now, m.now, sentence,
				       sizeof(sentence), &derlen, err, sizeof(err)),
			 PKI_EDATE);
}

static void
test_csr(void **state)
{
	unsigned char der[PKI_DER_MAX];
	size_t derlen;
	struct pki_req r;
	char err[256], text[256], pem[PKI_PEM_MAX];
	static const char *const one_bad[] = {"localhost", "bad_name"};

	(void)state;
	assert_non_null(strstr(m.csr_pem, "-----BEGIN CERTIFICATE REQUEST-----"));
	assert_int_equal(pki_csr_decode((unsigned char *)m.csr_pem, strlen(m.csr_pem), der,
					sizeof(der), &derlen),
			 0);
	assert_int_equal(pki_req_parse(der, derlen, &r, err, sizeof(err)), 0);
	assert_int_equal(pki_req_verify(der, derlen), 0);
	assert_true(r.ext.san);
	assert_int_equal(pki_san_text(&r.ext.san_names, text, sizeof(text)), 0);
	assert_string_equal(text, "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:my-site.com");
	/* One flipped bit anywhere in the signed part: the signature no longer verifies. */
	der[derlen / 2] ^= 0x01;
	assert_int_not_equal(pki_req_verify(der, derlen), 0);
	der[derlen / 2] ^= 0x01;
	der[derlen - 3] ^= 0x40;
	assert_int_not_equal(pki_req_verify(der, derlen), 0);
	assert_int_equal(pki_csr_create(m.leaf_key, m.leaf_key_len, &leaf_name, one_bad, 2, pem,
					sizeof(pem), &derlen, err, sizeof(err)),
			 PKI_ESAN);
	assert_non_null(strstr(err, "bad_name"));
}

static void
sign_ok(const char *csr_pem, struct pki_sign_opts *o, struct pki_sign_notes *notes,
	unsigned char *der, size_t *derlen)
{
	char pem[PKI_PEM_MAX], err[256];
	size_t pemlen;

	set_inputs(o, csr_pem, strlen(csr_pem), m.ca_pem, strlen(m.ca_pem), m.ca_key, m.ca_key_len);
	assert_int_equal(pki_csr_sign(o, notes, pem, sizeof(pem), &pemlen, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_decode((unsigned char *)pem, pemlen, der, PKI_DER_MAX, derlen),
			 0);
}

static void
test_sign(void **state)
{
	unsigned char der[PKI_DER_MAX], cader[PKI_DER_MAX], id[20];
	size_t derlen, caderlen;
	struct pki_sign_opts o = {.not_before = m.now, .not_after = m.now + 10 * DAY};
	struct pki_sign_notes notes;
	struct pki_x509 x, ca;
	char err[256], text[256];

	(void)state;
	sign_ok(m.csr_pem, &o, &notes, der, &derlen);
	assert_int_equal(notes.flags, 0);
	assert_string_equal(notes.cn, "my-site.com");
	assert_int_equal(pki_x509_parse(der, derlen, &x, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_decode((unsigned char *)m.ca_pem, strlen(m.ca_pem), cader,
					 sizeof(cader), &caderlen),
			 0);
	assert_int_equal(pki_x509_parse(cader, caderlen, &ca, err, sizeof(err)), 0);
	assert_true(x.ext.bc && !x.ext.bc_ca && x.ext.bc_crit);
	assert_true(x.ext.ku && x.ext.ku_crit);
	assert_int_equal(x.ext.ku_bits, PKI_KU_DIGITAL_SIGNATURE);
	assert_true(x.ext.eku);
	assert_int_equal(x.ext.eku_bits, PKI_EKU_SERVER);
	assert_true(x.ext.san && !x.ext.san_crit);
	assert_int_equal(pki_san_text(&x.ext.san_names, text, sizeof(text)), 0);
	assert_string_equal(text, "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:my-site.com");
	/* AKI is the CA's SKI; SKI is the leaf key's id. */
	assert_true(x.ext.aki && x.ext.ski);
	assert_int_equal(x.ext.aki_id.len, ca.ext.ski_id.len);
	assert_memory_equal(x.ext.aki_id.p, ca.ext.ski_id.p, ca.ext.ski_id.len);
	assert_int_equal(pki_spki_key_id(&x.spki, id), 0);
	assert_memory_equal(x.ext.ski_id.p, id, 20);
	assert_int_equal(x.issuer.len, ca.subject.len);
	assert_memory_equal(x.issuer.p, ca.subject.p, ca.subject.len);
	assert_true(x.not_before == m.now && x.not_after == m.now + 10 * DAY);
	assert_int_equal(pki_key_matches_cert(m.leaf_key, m.leaf_key_len, der, derlen), 0);

	/* --client; a validity ending after the CA's is cut to the CA's end (its start, even
	 * before the CA's, is kept); one starting after the CA's end is refused. */
	o.client = 1;
	o.not_before = m.now - 5 * DAY;
	o.not_after = m.now + 365 * DAY;
	sign_ok(m.csr_pem, &o, &notes, der, &derlen);
	assert_int_equal(notes.flags, PKI_SIGN_CLIPPED);
	assert_int_equal(pki_x509_parse(der, derlen, &x, err, sizeof(err)), 0);
	assert_int_equal(x.ext.eku_bits, PKI_EKU_CLIENT);
	assert_true(x.not_before == m.now - 5 * DAY && x.not_after == ca.not_after);
	o.not_before = m.now + 40 * DAY;
	o.not_after = m.now + 50 * DAY;
	{
		char pem[PKI_PEM_MAX];
		size_t pemlen;

		set_inputs(&o, m.csr_pem, strlen(m.csr_pem), m.ca_pem, strlen(m.ca_pem), m.ca_key,
			   m.ca_key_len);
		assert_int_equal(
			pki_csr_sign(&o, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)),
			PKI_EDATE);
		/* The CA key must belong to the CA certificate. */
		o.not_before = m.now;
		o.not_after = m.now + DAY;
		set_inputs(&o, m.csr_pem, strlen(m.csr_pem), m.ca_pem, strlen(m.ca_pem), m.leaf_key,
			   m.leaf_key_len);
		assert_int_equal(
			pki_csr_sign(&o, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)),
			PKI_EMISMATCH);
		/* A CSR is not a CA certificate, nor the other way round. */
		set_inputs(&o, m.csr_pem, strlen(m.csr_pem), m.csr_pem, strlen(m.csr_pem), m.ca_key,
			   m.ca_key_len);
		assert_int_equal(
			pki_csr_sign(&o, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)),
			PKI_EBADCERT);
		set_inputs(&o, m.ca_pem, strlen(m.ca_pem), m.ca_pem, strlen(m.ca_pem), m.ca_key,
			   m.ca_key_len);
		assert_int_equal(
			pki_csr_sign(&o, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)),
			PKI_EBADCSR);
	}
}

static void
test_sign_without_san(void **state)
{
	char csr[PKI_PEM_MAX], pem[PKI_PEM_MAX], err[256], text[128];
	unsigned char der[PKI_DER_MAX];
	size_t len, derlen;
	struct pki_sign_opts o = {.not_before = m.now, .not_after = m.now + DAY};
	struct pki_sign_notes notes;
	struct pki_name n = {.cn = "10.9.8.7"};
	struct pki_x509 x;

	(void)state;
	/* The CN becomes the only SAN, as an IP when it is one, and the caller is told. */
	assert_int_equal(pki_csr_create(m.leaf_key, m.leaf_key_len, &leaf_name, NULL, 0, csr,
					sizeof(csr), &len, err, sizeof(err)),
			 0);
	sign_ok(csr, &o, &notes, der, &derlen);
	assert_int_equal(notes.flags, PKI_SIGN_SAN_FROM_CN);
	assert_int_equal(pki_x509_parse(der, derlen, &x, err, sizeof(err)), 0);
	assert_int_equal(pki_san_text(&x.ext.san_names, text, sizeof(text)), 0);
	assert_string_equal(text, "DNS:my-site.com");
	assert_int_equal(pki_csr_create(m.leaf_key, m.leaf_key_len, &n, NULL, 0, csr, sizeof(csr),
					&len, err, sizeof(err)),
			 0);
	sign_ok(csr, &o, &notes, der, &derlen);
	assert_int_equal(pki_x509_parse(der, derlen, &x, err, sizeof(err)), 0);
	assert_int_equal(pki_san_text(&x.ext.san_names, text, sizeof(text)), 0);
	assert_string_equal(text, "IP:10.9.8.7");
	/* A CN that is no host name cannot stand in for a SAN. */
	n.cn = "My Web Server";
	assert_int_equal(pki_csr_create(m.leaf_key, m.leaf_key_len, &n, NULL, 0, csr, sizeof(csr),
					&len, err, sizeof(err)),
			 0);
	set_inputs(&o, csr, len, m.ca_pem, strlen(m.ca_pem), m.ca_key, m.ca_key_len);
	assert_int_equal(pki_csr_sign(&o, &notes, pem, sizeof(pem), &len, err, sizeof(err)),
			 PKI_ESAN);
	assert_non_null(strstr(err, "My Web Server"));
}

/* ---- verify ---------------------------------------------------------------------------- */

static int
verify(const unsigned char *ca, size_t calen, const unsigned char *der, size_t derlen,
       const char *host, int strict, struct pki_verify_result *r)
{
	struct pki_verify_opts vo = {.host = host, .strict = strict, .now = m.now};
	char err[256];

	return pki_verify(ca, calen, der, derlen, &vo, r, err, sizeof(err));
}

static void
test_verify(void **state)
{
	unsigned char der[PKI_DER_MAX];
	size_t derlen, calen = strlen(m.ca_pem);
	const unsigned char *ca = (const unsigned char *)m.ca_pem;
	struct pki_sign_opts o = {.not_before = m.now - 60, .not_after = m.now + 10 * DAY};
	struct pki_sign_notes notes;
	struct pki_verify_result r;
	char other_ca[PKI_PEM_MAX], err[256], bundle[2 * PKI_PEM_MAX];
	size_t len;

	(void)state;
	sign_ok(m.csr_pem, &o, &notes, der, &derlen);
	assert_int_equal(verify(ca, calen, der, derlen, "localhost", 1, &r), 0);
	assert_int_equal(r.ndefects, 0);
	assert_int_equal(r.nwarnings, 0);
	assert_string_equal(r.names, "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:my-site.com");
	assert_int_equal(verify(ca, calen, der, derlen, "::1", 1, &r), 0);
	assert_int_equal(verify(ca, calen, der, derlen, "example.com", 0, &r), PKI_EVERIFY);
	assert_int_equal(r.host_mismatch, DOMAIN_NAME_MISMATCH);
	assert_int_equal(r.wolfssl_code, 0);
	/* The CA verifies as its own anchor, strictly. */
	assert_int_equal(pki_cert_decode(ca, calen, der, sizeof(der), &derlen), 0);
	assert_int_equal(verify(ca, calen, der, derlen, NULL, 1, &r), 0);

	/* Another CA: no signer. */
	{
		static const struct pki_name other = {.cn = "Other CA"};

		assert_int_equal(pki_ca_create(m.leaf_key, m.leaf_key_len, &other, m.now - 60,
					       m.now + DAY, other_ca, sizeof(other_ca), &len, err,
					       sizeof(err)),
				 0);
	}
	sign_ok(m.csr_pem, &o, &notes, der, &derlen);
	assert_int_equal(verify((unsigned char *)other_ca, len, der, derlen, NULL, 0, &r),
			 PKI_EVERIFY);
	assert_int_equal(r.wolfssl_code, ASN_NO_SIGNER_E);
	assert_int_equal(r.ca_problem, 0);
	/* An impostor with the CA's very name but another key: wolfSSL finds it by name and the
	 * signature check fails (OpenSSL would say "unable to get local issuer certificate"). */
	{
		char impostor[PKI_PEM_MAX];
		size_t ilen;

		assert_int_equal(pki_ca_create(m.leaf_key, m.leaf_key_len, &ca_name, m.now - 60,
					       m.now + DAY, impostor, sizeof(impostor), &ilen, err,
					       sizeof(err)),
				 0);
		assert_int_equal(verify((unsigned char *)impostor, ilen, der, derlen, NULL, 0, &r),
				 PKI_EVERIFY);
		assert_true(r.wolfssl_code == ASN_NO_SIGNER_E ||
			    r.wolfssl_code == ASN_SIG_CONFIRM_E);
	}
	/* A bundle holding both CAs finds the right one. */
	snprintf(bundle, sizeof(bundle), "%s%s", other_ca, m.ca_pem);
	assert_int_equal(
		verify((unsigned char *)bundle, strlen(bundle), der, derlen, "localhost", 1, &r),
		0);

	/* Expired, and not yet valid. */
	o.not_before = m.now - 3 * DAY;
	o.not_after = m.now - 2 * DAY;
	{
		char oldca[PKI_PEM_MAX], pem[PKI_PEM_MAX];
		size_t oldlen, pemlen;

		assert_int_equal(pki_ca_create(m.ca_key, m.ca_key_len, &ca_name, m.now - 10 * DAY,
					       m.now + 10 * DAY, oldca, sizeof(oldca), &oldlen, err,
					       sizeof(err)),
				 0);
		set_inputs(&o, m.csr_pem, strlen(m.csr_pem), oldca, oldlen, m.ca_key, m.ca_key_len);
		assert_int_equal(
			pki_csr_sign(&o, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)), 0);
		assert_int_equal(verify((unsigned char *)oldca, oldlen, (unsigned char *)pem,
					pemlen, NULL, 0, &r),
				 PKI_EVERIFY);
		assert_int_equal(r.wolfssl_code, ASN_AFTER_DATE_E);
		o.not_before = m.now + 2 * DAY;
		o.not_after = m.now + 3 * DAY;
		set_inputs(&o, m.csr_pem, strlen(m.csr_pem), oldca, oldlen, m.ca_key, m.ca_key_len);
		assert_int_equal(
			pki_csr_sign(&o, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)), 0);
		assert_int_equal(verify((unsigned char *)oldca, oldlen, (unsigned char *)pem,
					pemlen, NULL, 0, &r),
				 PKI_EVERIFY);
		assert_int_equal(r.wolfssl_code, ASN_BEFORE_DATE_E);
		/* An expired CA is the CA's problem. */
		assert_int_equal(pki_ca_create(m.ca_key, m.ca_key_len, &ca_name, m.now - 10 * DAY,
					       m.now - DAY, oldca, sizeof(oldca), &oldlen, err,
					       sizeof(err)),
				 0);
		assert_int_equal(verify((unsigned char *)oldca, oldlen, (unsigned char *)pem,
					pemlen, NULL, 0, &r),
				 PKI_EVERIFY);
		assert_int_equal(r.wolfssl_code, ASN_AFTER_DATE_E);
		assert_int_equal(r.ca_problem, 1);
	}
	/* Garbage on either side is PKI_EBADCERT, with the side named. */
	assert_int_equal(verify((const unsigned char *)"junk", 4, der, derlen, NULL, 0, &r),
			 PKI_EBADCERT);
	assert_int_equal(r.ca_problem, 1);
	assert_int_equal(verify(ca, calen, (const unsigned char *)"junk", 4, NULL, 0, &r),
			 PKI_EBADCERT);
	assert_int_equal(r.ca_problem, 0);
}

/* ---- describe -------------------------------------------------------------------------- */

static void
test_describe(void **state)
{
	static char out[16384];
	char err[256];

	(void)state;
	assert_int_equal(pki_detect((unsigned char *)m.ca_pem, strlen(m.ca_pem)), PKI_KIND_CERT);
	assert_int_equal(pki_detect((unsigned char *)m.csr_pem, strlen(m.csr_pem)), PKI_KIND_CSR);
	assert_int_equal(pki_detect((unsigned char *)m.ca_key_pem, strlen(m.ca_key_pem)),
			 PKI_KIND_ENCRYPTED_KEY);
	assert_int_equal(pki_detect((unsigned char *)m.leaf_key_pem, strlen(m.leaf_key_pem)),
			 PKI_KIND_KEY);
	assert_int_equal(pki_detect(m.leaf_key, m.leaf_key_len), PKI_KIND_KEY);
	assert_int_equal(pki_detect((const unsigned char *)"text", 4), PKI_KIND_UNKNOWN);

	assert_int_equal(pki_describe((unsigned char *)m.ca_pem, strlen(m.ca_pem), NULL, m.now, out,
				      sizeof(out), err, sizeof(err)),
			 0);
	assert_non_null(strstr(out, "CA:            yes (basicConstraints CA:TRUE, critical)"));
	assert_non_null(strstr(out, "key usage:     keyCertSign, cRLSign (critical)"));
	assert_non_null(strstr(out, "(self-signed)"));
	assert_non_null(strstr(out, "SHA-256 fingerprint: "));
	assert_non_null(strstr(out, "I am my-ca.com according to my-ca.com\n"));
	assert_int_equal(pki_describe((unsigned char *)m.csr_pem, strlen(m.csr_pem), NULL, m.now,
				      out, sizeof(out), err, sizeof(err)),
			 0);
	assert_non_null(strstr(out, "(verifies)"));
	assert_int_equal(pki_describe((unsigned char *)m.ca_key_pem, strlen(m.ca_key_pem), NULL,
				      m.now, out, sizeof(out), err, sizeof(err)),
			 0);
	assert_non_null(strstr(out, "PBKDF2-hmacWithSHA256, 20000 iterations, AES-256-CBC"));
	assert_non_null(strstr(out, "unknown until decrypted"));
	assert_int_equal(pki_describe((unsigned char *)m.ca_key_pem, strlen(m.ca_key_pem),
				      "ca secret", m.now, out, sizeof(out), err, sizeof(err)),
			 0);
	assert_non_null(strstr(out, "type:          EC P-256"));
	assert_int_equal(pki_describe((unsigned char *)m.ca_key_pem, strlen(m.ca_key_pem), "nope",
				      m.now, out, sizeof(out), err, sizeof(err)),
			 PKI_EPASSWORD);
	assert_int_equal(pki_describe((const unsigned char *)"text", 4, NULL, m.now, out,
				      sizeof(out), err, sizeof(err)),
			 PKI_EUNKNOWN);
	assert_int_equal(pki_describe((unsigned char *)m.ca_pem, strlen(m.ca_pem), NULL, m.now, out,
				      40, err, sizeof(err)),
			 PKI_ESPACE);
}

static void
test_strerror(void **state)
{
	(void)state;
	for (int code = -1; code >= -16; code--) {
		assert_non_null(pki_strerror(code));
		assert_string_not_equal(pki_strerror(code), "unknown pki error");
	}
	assert_string_equal(pki_strerror(-17), "unknown pki error");
	assert_string_equal(pki_strerror(1), "unknown pki error");
	assert_string_equal(pki_strerror(PKI_EPASSWORD), "wrong password");
}

/* ---- wolfSSL 5.5.4's own encoders and decoders ---------------------------------------- */

/*
 * Why pki/ encodes and parses DER itself (docs/architecture.md, "Hand-written DER in pki/,
 * part by part"): each test below runs wolfSSL 5.5.4's own call on the case that shows its
 * defect, next to ours on the same case. Should a wolfSSL update fix one, its test fails:
 * that part can then move onto wolfSSL.
 */

/* Made with OpenSSL 3.0: an EC CA whose O is a BMPString ("Caf\u0100", so its DER holds 0x00
 * bytes), basicConstraints CA:TRUE and keyUsage critical, valid until 2126; and its key. */
static const char bmp_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBjTCCATSgAwIBAgIUeG+t0prpOA1TwnsaPTRjDIpgUpEwCgYIKoZIzj0EAwIw\n"
	"JDERMA8GA1UECh4IAEMAYQBmAQAxDzANBgNVBAMTBmJtcC1jYTAgFw0yNjEyMDQx\n"
	"MjQ3MjVaGA8yMTI2MTExMDEyNDcyNVowJDERMA8GA1UECh4IAEMAYQBmAQAxDzAN\n"
	"BgNVBAMTBmJtcC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMs9wC4Og/f9\n"
	"G8MBvdhR99lMG5qOIdggXiuOVrCjedD9T6R5z4T1HSrmfAbWMzViLB87pVsdZhJ5\n"
	"ZiBUnK1+WnmjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0G\n"
	"A1UdDgQWBBTDnJZrh256I1FqJHj1+F3O5CALvDAKBggqhkjOPQQDAgNHADBEAiBg\n"
	"qS7TUO3dgteDC/iJzrUixHyeLXLrwoy+nEL841YgqgIgdQIuk5UzyBOxfoICequ5\n"
	"l8lmScv/XLelrzbBjOd/hDs=\n"
	"-----END CERTIFICATE-----\n";
static const char bmp_ca_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgY5ngi9s+/XOEIzY4\n"
	"0gzaj0y7VspNq+/1R+V03rUWlcWhRANCAATLPcAuDoP3/RvDAb3YUffZTBuajiHY\n"
	"IF4rjlawo3nQ/U+kec+E9R0q5nwG1jM1YiwfO6VbHWYSeWYgVJytflp5\n"
	"-----END PRIVATE KEY-----\n";
/* Made with OpenSSL 3.0 (-addext 1.2.3.4=critical,DER:0500): a certificate and a CSR that
 * carry a critical extension nobody knows. */
static const char crit_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgjCCASmgAwIBAgIUEVg45PQq55qSZa+p6kic5CNAw7swCgYIKoZIzj0EAwIw\n"
	"DzENMAsGA1UEAwwEY3JpdDAgFw0yNjEyMDQxMjQ3MjVaGA8yMTI2MTExMDEyNDcy\n"
	"NVowDzENMAsGA1UEAwwEY3JpdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMs9\n"
	"wC4Og/f9G8MBvdhR99lMG5qOIdggXiuOVrCjedD9T6R5z4T1HSrmfAbWMzViLB87\n"
	"pVsdZhJ5ZiBUnK1+WnmjYTBfMB0GA1UdDgQWBBTDnJZrh256I1FqJHj1+F3O5CAL\n"
	"vDAfBgNVHSMEGDAWgBTDnJZrh256I1FqJHj1+F3O5CALvDAPBgNVHRMBAf8EBTAD\n"
	"AQH/MAwGAyoDBAEB/wQCBQAwCgYIKoZIzj0EAwIDRwAwRAIgEptmIyEmwWEnDhys\n"
	"ETs8WFXLOfqCieLtBSNQ0bw+dLECIF1TCGLyQnzjxYmRZqq/wS5NZ6wXn/cbikAs\n"
	"UxhaMGBF\n"
	"-----END CERTIFICATE-----\n";
static const char crit_csr_pem[] =
	"-----BEGIN CERTIFICATE REQUEST-----\n"
	"MIIBAzCBqwIBADAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggq\n"
	"hkjOPQMBBwNCAATLPcAuDoP3/RvDAb3YUffZTBuajiHYIF4rjlawo3nQ/U+kec+E\n"
	"9R0q5nwG1jM1YiwfO6VbHWYSeWYgVJytflp5oDUwMwYJKoZIhvcNAQkOMSYwJDAU\n"
	"BgNVHREEDTALgglsb2NhbGhvc3QwDAYDKgMEAQH/BAIFADAKBggqhkjOPQQDAgNH\n"
	"ADBEAiBnHVJpKmHBde9cbR1gF8YTpUjZ8DeRs7xh/NtbwvQJqAIgDP9DLPCHFGLn\n"
	"Z1W9hLRpDD6zf79n1hi4YFpcdyoEdA8=\n"
	"-----END CERTIFICATE REQUEST-----\n";

/* A certificate of wolfSSL's encoder, signed by key: Cert filled by the caller. */
static size_t
wolfssl_cert(Cert *c, ecc_key *subject_key, ecc_key *signer, unsigned char *der, size_t cap)
{
	WC_RNG rng;
	int n;

	assert_int_equal(wc_InitRng(&rng), 0);
	c->sigType = CTC_SHA256wECDSA;
	assert_true(wc_MakeCert_ex(c, der, (word32)cap, ECC_TYPE, subject_key, &rng) > 0);
	n = wc_SignCert_ex(c->bodySz, c->sigType, der, (word32)cap, ECC_TYPE, signer, &rng);
	wc_FreeRng(&rng);
	assert_true(n > 0);
	return (size_t)n;
}

/* 1 if der holds an element with this tag and length (a cheap look at the encoding). */
static int
has_tlv(const unsigned char *der, size_t len, unsigned char tag, unsigned char n)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (der[i] == tag && der[i + 1] == n)
			return 1;
	return 0;
}

/* (a) certificates: wc_MakeCert_ex writes a CA's basicConstraints without the critical flag,
 * dates from now - 1 day as GeneralizedTime, and copies a raw issuer with strlen(). */
static void
test_wolfssl_cert_encoder(void **state)
{
	unsigned char der[PKI_DER_MAX], ca[PKI_DER_MAX], key[PKI_DER_MAX];
	char pem[PKI_PEM_MAX], err[256];
	size_t len, calen, keylen, pemlen;
	struct pki_verify_opts vo = {.strict = 1, .now = m.now};
	struct pki_verify_result r;
	struct pki_sign_opts so = {.not_before = m.now, .not_after = m.now + DAY};
	struct pki_sign_notes notes;
	struct pki_x509 x, cax;
	struct pki_key k;
	Cert c;
	int defect = 0;

	(void)state;
	assert_int_equal(pki_key_load(m.ca_key, m.ca_key_len, &k), 0);
	assert_int_equal(wc_InitCert(&c), 0);
	strcpy(c.subject.commonName, "wolfssl-ca");
	c.isCA = 1;
	c.selfSigned = 1;
	c.daysValid = 30;
	assert_int_equal(wc_SetKeyUsage(&c, "keyCertSign,cRLSign"), 0);
	len = wolfssl_cert(&c, &k.ecc, &k.ecc, der, sizeof(der));
	assert_int_equal(pki_x509_parse(der, len, &x, err, sizeof(err)), 0);
	assert_true(x.ext.bc && x.ext.bc_ca && x.ext.ku && x.ext.ku_crit);
	assert_false(x.ext.bc_crit);
	assert_int_equal(pki_verify(der, len, der, len, &vo, &r, err, sizeof(err)), PKI_EVERIFY);
	for (size_t i = 0; i < r.ndefects; i++)
		defect |= strcmp(r.defect[i],
				 "CA certificate: basicConstraints is not marked critical") == 0;
	assert_true(defect);
	/* RFC 5280 §4.1.2.5: UTCTime through 2049; and the start is not ours to choose. */
	assert_true(has_tlv(der, len, PKI_DER_GENTIME, 15));
	assert_true(x.not_before < m.now - DAY / 2);
	/* Ours: critical, UTCTime, the start asked for. */
	assert_int_equal(pki_cert_decode((const unsigned char *)m.ca_pem, strlen(m.ca_pem), der,
					 sizeof(der), &len),
			 0);
	assert_int_equal(pki_x509_parse(der, len, &x, err, sizeof(err)), 0);
	assert_true(x.ext.bc_crit && !has_tlv(der, len, PKI_DER_GENTIME, 15));
	assert_int_equal(x.not_before, m.now - 60);

	/* A leaf under a CA whose name holds 0x00 bytes: wolfSSL's issuer is not the CA's
	 * subject, so no chain; ours is, byte for byte. */
	assert_int_equal(pki_cert_decode((const unsigned char *)bmp_ca_pem, strlen(bmp_ca_pem), ca,
					 sizeof(ca), &calen),
			 0);
	assert_int_equal(pki_x509_parse(ca, calen, &cax, err, sizeof(err)), 0);
	assert_int_equal(wc_InitCert(&c), 0);
	strcpy(c.subject.commonName, "localhost");
	c.daysValid = 1;
	assert_int_equal(wc_SetIssuerBuffer(&c, ca, (int)calen), 0);
	len = wolfssl_cert(&c, &k.ecc, &k.ecc, der, sizeof(der));
	pki_key_free(&k);
	assert_int_equal(pki_x509_parse(der, len, &x, err, sizeof(err)), 0);
	assert_false(x.issuer.len == cax.subject.len &&
		     memcmp(x.issuer.p, cax.subject.p, x.issuer.len) == 0);
	decode_key(bmp_ca_key_pem, NULL, key, &keylen);
	set_inputs(&so, m.csr_pem, strlen(m.csr_pem), bmp_ca_pem, strlen(bmp_ca_pem), key, keylen);
	assert_int_equal(pki_csr_sign(&so, &notes, pem, sizeof(pem), &pemlen, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_decode((unsigned char *)pem, pemlen, der, sizeof(der), &len), 0);
	assert_int_equal(pki_x509_parse(der, len, &x, err, sizeof(err)), 0);
	assert_memory_equal(x.issuer.p, cax.subject.p, cax.subject.len);
	assert_int_equal(verify((const unsigned char *)bmp_ca_pem, strlen(bmp_ca_pem),
				(unsigned char *)pem, pemlen, "localhost", 1, &r),
			 0);
}

/* (b) CSRs: wc_MakeCertReq_ex writes the version wc_InitCert leaves (2: no CSR version) and
 * takes names from CertName fields of CTC_NAME_SIZE (64) bytes with their NUL, so a 64-byte
 * value (RFC 5280's upper bound for a CN) runs into the next field. */
static void
test_wolfssl_csr_encoder(void **state)
{
	unsigned char der[PKI_DER_MAX];
	char cn64[PKI_NAME_MAX + 1], text[4 * PKI_NAME_MAX + 1], pem[PKI_PEM_MAX], err[256];
	struct pki_name name = {.cn = cn64};
	struct pki_req req;
	struct pki_key k;
	size_t len;
	WC_RNG rng;
	Cert c;
	int n;

	(void)state;
	memset(cn64, 'a', PKI_NAME_MAX);
	cn64[PKI_NAME_MAX] = '\0';
	assert_int_equal(pki_key_load(m.leaf_key, m.leaf_key_len, &k), 0);
	assert_int_equal(wc_InitRng(&rng), 0);
	for (int version = 2; version >= 0; version -= 2) {
		assert_int_equal(wc_InitCert(&c), 0);
		if (version == 0)
			c.version = 0;
		memcpy(c.subject.commonName, cn64, CTC_NAME_SIZE);
		c.sigType = CTC_SHA256wECDSA;
		assert_true(wc_MakeCertReq_ex(&c, der, sizeof(der), ECC_TYPE, &k.ecc) > 0);
		n = wc_SignCert_ex(c.bodySz, c.sigType, der, sizeof(der), ECC_TYPE, &k.ecc, &rng);
		assert_true(n > 0);
		if (version == 2) {
			assert_int_equal(pki_req_parse(der, (size_t)n, &req, err, sizeof(err)),
					 PKI_EBADCSR);
			assert_string_equal(err, "not a version 1 CSR");
			continue;
		}
		assert_int_equal(pki_req_parse(der, (size_t)n, &req, err, sizeof(err)), 0);
		assert_int_equal(pki_name_cn(&req.subject, text, sizeof(text)), 1);
		assert_string_not_equal(text, cn64);
	}
	wc_FreeRng(&rng);
	pki_key_free(&k);
	/* Ours: the 64 bytes, and nothing else. */
	assert_int_equal(pki_csr_create(m.leaf_key, m.leaf_key_len, &name, NULL, 0, pem,
					sizeof(pem), &len, err, sizeof(err)),
			 0);
	assert_int_equal(pki_csr_decode((unsigned char *)pem, len, der, sizeof(der), &len), 0);
	assert_int_equal(pki_req_parse(der, len, &req, err, sizeof(err)), 0);
	assert_int_equal(pki_name_cn(&req.subject, text, sizeof(text)), 1);
	assert_string_equal(text, cn64);
}

/* (c), (d) reading: wc_ParseCert refuses, even with NO_VERIFY, a certificate or a CSR that
 * carries a critical extension it does not know; show exists to describe such files. */
static void
test_wolfssl_decoder(void **state)
{
	static const struct {
		const char *pem;
		int type;
		const char *shown;
	} cases[] = {
		{.pem = crit_cert_pem,
		 .type = CERT_TYPE,
		 .shown = "  warning:       1 unknown critical extension(s)\n"},
		{.pem = crit_csr_pem,
		 .type = CERTREQ_TYPE,
		 .shown = "  names (SAN):   DNS:localhost\n"},
	};
	unsigned char der[PKI_DER_MAX];
	char out[4096], err[256];
	size_t len, off;
	DecodedCert dc;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off = 0;
		assert_int_equal(pki_pem_next((const unsigned char *)cases[i].pem,
					      strlen(cases[i].pem), &off, NULL, NULL, der,
					      sizeof(der), &len),
				 1);
		wc_InitDecodedCert(&dc, der, (word32)len, NULL);
		assert_int_equal(wc_ParseCert(&dc, cases[i].type, NO_VERIFY, NULL), ASN_CRIT_EXT_E);
		wc_FreeDecodedCert(&dc);
		assert_int_equal(
			pki_describe(der, len, NULL, m.now, out, sizeof(out), err, sizeof(err)), 0);
		assert_non_null(strstr(out, cases[i].shown));
	}
}

/* (e) reading PEM: wolfSSL knows one label per type, and its base64 reader drops a short
 * tail and whatever follows '=' without an error. */
static void
test_wolfssl_pem_reader(void **state)
{
	static const struct {
		const char *pem;
		int wolfssl_rc;
		size_t wolfssl_len; /* bytes wolfSSL decodes */
		int ours;           /* pki_pem_next */
		size_t ours_len;
	} cases[] = {
		{.pem = "-----BEGIN CERTIFICATE-----\nAAECAw\n-----END CERTIFICATE-----\n",
		 .wolfssl_len = 3,
		 .ours = 1,
		 .ours_len = 4},
		{.pem = "-----BEGIN CERTIFICATE-----\nAA==AAEC\n-----END CERTIFICATE-----\n",
		 .wolfssl_len = 1,
		 .ours = -1},
		{.pem = "-----BEGIN X509 CERTIFICATE-----\nAAEC\n-----END X509 CERTIFICATE-----\n",
		 .wolfssl_rc = ASN_NO_PEM_HEADER,
		 .ours = 1,
		 .ours_len = 3},
	};
	unsigned char der[64], csr[PKI_DER_MAX];
	char pem[PKI_PEM_MAX];
	DerBuffer *d;
	size_t len, off;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = NULL;
		assert_int_equal(wc_PemToDer((const unsigned char *)cases[i].pem,
					     (long)strlen(cases[i].pem), CERT_TYPE, &d, NULL, NULL,
					     NULL),
				 cases[i].wolfssl_rc);
		if (d != NULL)
			assert_int_equal(d->length, cases[i].wolfssl_len);
		wc_FreeDer(&d);
		off = 0;
		assert_int_equal(pki_pem_next((const unsigned char *)cases[i].pem,
					      strlen(cases[i].pem), &off, NULL, NULL, der,
					      sizeof(der), &len),
				 cases[i].ours);
		if (cases[i].ours == 1)
			assert_int_equal(len, cases[i].ours_len);
	}
	/* The other old label, on a real CSR: OpenSSL and we read it, wolfSSL does not. */
	snprintf(pem, sizeof(pem),
		 "-----BEGIN NEW CERTIFICATE REQUEST-----\n%.*s"
		 "-----END NEW CERTIFICATE REQUEST-----\n",
		 (int)(strstr(m.csr_pem, "-----END") - strchr(m.csr_pem, '\n') - 1),
		 strchr(m.csr_pem, '\n') + 1);
	d = NULL;
	assert_int_equal(wc_PemToDer((const unsigned char *)pem, (long)strlen(pem), CERTREQ_TYPE,
				     &d, NULL, NULL, NULL),
			 ASN_NO_PEM_HEADER);
	assert_int_equal(
		pki_csr_decode((const unsigned char *)pem, strlen(pem), csr, sizeof(csr), &len), 0);
}

/* The parts of an EncryptedPrivateKeyInfo that tell PBES2 writers apart. */
struct pbes2 {
	int has_prf;              /* PBKDF2's prf AlgorithmIdentifier is written */
	struct pki_der iter;      /* the iteration count's INTEGER contents */
	struct pki_der encrypted; /* the ciphertext */
};

static void
read_pbes2(const unsigned char *der, size_t len, struct pbes2 *p)
{
	struct pki_der in = {der, len}, epki, alg, params, kdf, kdfp;
	struct pki_tlv t;

	assert_int_equal(pki_der_get(&in, PKI_DER_SEQ, &t), 0);
	epki = t.v;
	assert_int_equal(pki_der_get(&epki, PKI_DER_SEQ, &t), 0);
	alg = t.v;
	assert_int_equal(pki_der_get(&epki, PKI_DER_OCTET_STRING, &t), 0);
	p->encrypted = t.v;
	assert_int_equal(pki_der_get(&alg, PKI_DER_OID, &t), 0);
	assert_true(PKI_OID_EQ(&t.v, PKI_OID_PBES2));
	assert_int_equal(pki_der_get(&alg, PKI_DER_SEQ, &t), 0);
	params = t.v;
	assert_int_equal(pki_der_get(&params, PKI_DER_SEQ, &t), 0);
	kdf = t.v;
	assert_int_equal(pki_der_get(&kdf, PKI_DER_OID, &t), 0);
	assert_int_equal(pki_der_get(&kdf, PKI_DER_SEQ, &t), 0);
	kdfp = t.v;
	assert_int_equal(pki_der_get(&kdfp, PKI_DER_OCTET_STRING, &t), 0);
	assert_int_equal(pki_der_get(&kdfp, PKI_DER_INTEGER, &t), 0);
	p->iter = t.v;
	p->has_prf = pki_der_get(&kdfp, PKI_DER_SEQ, &t) == 0;
}

/* (f) encrypted PKCS#8: wc_EncryptPKCS8Key writes no PRF (so PBKDF2-HMAC-SHA1, RFC 8018
 * §A.2), no padding block for input that fills whole AES blocks (RFC 8018 §6.1.1 wants
 * one), and a count of 32768 or more as a negative INTEGER. OpenSSL refuses the last two. */
static void
test_wolfssl_pkcs8_encoder(void **state)
{
	unsigned char key[64], out[512], back[512];
	word32 outlen = sizeof(out);
	size_t len;
	struct pbes2 p;
	WC_RNG rng;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	assert_int_equal(wc_InitRng(&rng), 0);
	n = wc_EncryptPKCS8Key(key, sizeof(key), out, &outlen, "pw", 2, PKCS5, PBES2, AES256CBCb,
			       NULL, 0, 60000, &rng, NULL);
	assert_true(n > 0);
	read_pbes2(out, (size_t)n, &p);
	assert_false(p.has_prf);
	assert_int_equal(p.encrypted.len, sizeof(key));
	assert_true(p.iter.len == 2 && (p.iter.p[0] & 0x80));
	/* Ours, on the same 64 bytes: hmacWithSHA256, a padding block, a positive count. */
	assert_int_equal(pki_pkcs8_encrypt(key, sizeof(key), "pw", &rng, out, sizeof(out), &len),
			 0);
	read_pbes2(out, len, &p);
	assert_true(p.has_prf);
	assert_int_equal(p.encrypted.len, sizeof(key) + 16);
	assert_true(p.iter.len == 2 && !(p.iter.p[0] & 0x80));
	assert_int_equal(p.iter.p[0] << 8 | p.iter.p[1], PKI_PBKDF2_ITERATIONS);
	/* And on a real key, wolfSSL's reader gives it back. */
	assert_int_equal(
		pki_pkcs8_encrypt(m.leaf_key, m.leaf_key_len, "pw", &rng, back, sizeof(back), &len),
		0);
	wc_FreeRng(&rng);
	assert_int_equal(wc_DecryptPKCS8Key(back, (word32)len, "pw", 2), (int)m.leaf_key_len);
	assert_memory_equal(back, m.leaf_key, m.leaf_key_len);
}

/* got is want, or both are NULL. */
static void
assert_text(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* The words and hints verify and the client print for wolfSSL's verification codes. */
static void
test_verify_words(void **state)
{
	static const struct {
		int code;
		const char *text, *client_hint, *pki_hint;
	} cases[] = {
		{.code = ASN_NO_SIGNER_E,
		 .text = "unable to get local issuer certificate",
		 .pki_hint = "is --ca the CA that issued it?"},
		{.code = ASN_AFTER_DATE_E,
		 .text = "certificate has expired",
		 .client_hint =
			 "the server needs a new certificate, or this machine's clock is wrong",
		 .pki_hint = "issue a new one with 'squirrel-pki sign'"},
		{.code = ASN_BEFORE_DATE_E,
		 .text = "certificate is not yet valid",
		 .client_hint = "check this machine's clock, or when the certificate starts",
		 .pki_hint = "check the clock, or its --not-before"},
		{.code = ASN_SELF_SIGNED_E,
		 .text = "self-signed certificate",
		 .pki_hint = "a self-signed certificate is trusted only when it is itself in --ca"},
		{.code = ASN_SIG_OID_E,
		 .text = "certificate signature failure",
		 .client_hint = "it was altered, or not signed by the CA it names",
		 .pki_hint = "it was altered, or another key signed it"},
		{.code = KEYUSE_ENCIPHER_E,
		 .text = "unsuitable certificate purpose",
		 .client_hint = "its extendedKeyUsage does not allow a server: it was issued for a "
				"client, with squirrel-pki sign --client"},
		{.code = NOT_CA_ERROR,
		 .text = "invalid CA certificate",
		 .pki_hint = "a certificate in it signs another but is no CA: it lacks "
			     "basicConstraints CA:TRUE or keyUsage keyCertSign"},
		{.code = DOMAIN_NAME_MISMATCH, .text = "hostname mismatch"},
		{.code = 0},
		{.code = MEMORY_E},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = tlsw_verify_text(cases[i].code);
		const char *client = tlsw_verify_hint(cases[i].code, TLSW_CLIENT);
		const char *pki = tlsw_verify_hint(cases[i].code, TLSW_PKI_VERIFY);

		assert_text(text, cases[i].text);
		assert_text(client, cases[i].client_hint);
		assert_text(pki, cases[i].pki_hint);
	}
}

/* ---- cut short ------------------------------------------------------------------------- */

/* Every prefix of a valid input, placed against a guard page: no reader may read past its
 * end or accept a truncated object. */
static void
prefixes(const unsigned char *p, size_t n, int pem)
{
	static char out[16384];
	unsigned char der[PKI_DER_MAX];
	struct pki_verify_result r;
	char err[256];
	size_t len, off;

	for (size_t cut = 0; cut < n; cut++) {
		char *g = guard_dup(p, cut);
		const unsigned char *u = (const unsigned char *)g;

		pki_detect(u, cut);
		pki_describe(u, cut, NULL, m.now, out, sizeof(out), err, sizeof(err));
		if (!pem) {
			/* DER cut short is never a valid object. */
			assert_int_not_equal(pki_cert_decode(u, cut, der, sizeof(der), &len), 0);
			assert_int_not_equal(pki_csr_decode(u, cut, der, sizeof(der), &len), 0);
			assert_int_not_equal(pki_key_decode(u, cut, NULL, der, sizeof(der), &len),
					     0);
		} else {
			pki_cert_decode(u, cut, der, sizeof(der), &len);
			pki_csr_decode(u, cut, der, sizeof(der), &len);
			pki_key_decode(u, cut, NULL, der, sizeof(der), &len);
			off = 0;
			while (pki_cert_next(u, cut, &off, der, sizeof(der), &len) == 1)
				;
			pki_key_is_encrypted(u, cut);
		}
		if (cut % 7 == 0)
			verify((const unsigned char *)m.ca_pem, strlen(m.ca_pem), u, cut,
			       "localhost", 1, &r);
		guard_free(g, cut);
	}
}

static void
test_truncated(void **state)
{
	unsigned char der[PKI_DER_MAX];
	size_t len;

	(void)state;
	assert_int_equal(pki_cert_decode((unsigned char *)m.ca_pem, strlen(m.ca_pem), der,
					 sizeof(der), &len),
			 0);
	prefixes(der, len, 0);
	assert_int_equal(pki_csr_decode((unsigned char *)m.csr_pem, strlen(m.csr_pem), der,
					sizeof(der), &len),
			 0);
	prefixes(der, len, 0);
	prefixes(m.leaf_key, m.leaf_key_len, 0);
	prefixes((unsigned char *)m.ca_pem, strlen(m.ca_pem), 1);
	prefixes((unsigned char *)m.csr_pem, strlen(m.csr_pem), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_der_lengths),
		cmocka_unit_test(test_der_integers_and_bits),
		cmocka_unit_test(test_der_times),
		cmocka_unit_test(test_oid_text),
		cmocka_unit_test(test_exts),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sans),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_key_roundtrip),
		cmocka_unit_test(test_key_garbage),
		cmocka_unit_test(test_key_legacy_wrong_password),
		cmocka_unit_test(test_key_rsa),
		cmocka_unit_test(test_ca),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_sign_without_san),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_verify_words),
		cmocka_unit_test(test_wolfssl_cert_encoder),
		cmocka_unit_test(test_wolfssl_csr_encoder),
		cmocka_unit_test(test_wolfssl_decoder),
		cmocka_unit_test(test_wolfssl_pem_reader),
		cmocka_unit_test(test_wolfssl_pkcs8_encoder),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
