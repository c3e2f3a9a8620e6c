#include <stdio.h>
#include <string.h>

#include "pki.h"
#include "pki_der.h"

/* Object identifiers, as their DER contents octets (X.690 §8.19). */
const unsigned char PKI_OID_RSA[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
const unsigned char PKI_OID_EC[7] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
const unsigned char PKI_OID_P256[8] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const unsigned char PKI_OID_P384[5] = {0x2b, 0x81, 0x04, 0x00, 0x22};
const unsigned char PKI_OID_P521[5] = {0x2b, 0x81, 0x04, 0x00, 0x23};
const unsigned char PKI_OID_SHA256_RSA[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
const unsigned char PKI_OID_SHA256_ECDSA[8] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
const unsigned char PKI_OID_CN[3] = {0x55, 0x04, 0x03};
const unsigned char PKI_OID_C[3] = {0x55, 0x04, 0x06};
const unsigned char PKI_OID_L[3] = {0x55, 0x04, 0x07};
const unsigned char PKI_OID_ST[3] = {0x55, 0x04, 0x08};
const unsigned char PKI_OID_O[3] = {0x55, 0x04, 0x0a};
const unsigned char PKI_OID_OU[3] = {0x55, 0x04, 0x0b};
const unsigned char PKI_OID_EMAIL[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};
const unsigned char PKI_OID_BASIC_CONSTRAINTS[3] = {0x55, 0x1d, 0x13};
const unsigned char PKI_OID_KEY_USAGE[3] = {0x55, 0x1d, 0x0f};
const unsigned char PKI_OID_EXT_KEY_USAGE[3] = {0x55, 0x1d, 0x25};
const unsigned char PKI_OID_SAN[3] = {0x55, 0x1d, 0x11};
const unsigned char PKI_OID_SKI[3] = {0x55, 0x1d, 0x0e};
const unsigned char PKI_OID_AKI[3] = {0x55, 0x1d, 0x23};
const unsigned char PKI_OID_SERVER_AUTH[8] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
const unsigned char PKI_OID_CLIENT_AUTH[8] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
const unsigned char PKI_OID_ANY_EKU[4] = {0x55, 0x1d, 0x25, 0x00};
const unsigned char PKI_OID_EXT_REQUEST[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
const unsigned char PKI_OID_PBES2[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d};
const unsigned char PKI_OID_PBKDF2[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c};
const unsigned char PKI_OID_HMAC_SHA256[8] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09};
const unsigned char PKI_OID_HMAC_SHA1[8] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07};
const unsigned char PKI_OID_AES256_CBC[9] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a};
const unsigned char PKI_OID_AES128_CBC[9] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02};

static const unsigned char OID_SHA1_RSA[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05};
static const unsigned char OID_SHA384_RSA[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
						0x0d, 0x01, 0x01, 0x0c};
static const unsigned char OID_SHA512_RSA[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
						0x0d, 0x01, 0x01, 0x0d};
static const unsigned char OID_RSA_PSS[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const unsigned char OID_SHA384_ECDSA[8] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const unsigned char OID_SHA512_ECDSA[8] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const unsigned char OID_ED25519[3] = {0x2b, 0x65, 0x70};

#define OID_NAME(o, n)                                                                             \
	{                                                                                          \
		.oid = (o), .len = sizeof(o), .name = (n)                                          \
	}

static const struct {
	const unsigned char *oid;
	size_t len;
	const char *name;
} oid_names[] = {
	OID_NAME(PKI_OID_RSA, "rsaEncryption"),
	OID_NAME(PKI_OID_EC, "id-ecPublicKey"),
	OID_NAME(PKI_OID_P256, "P-256"),
	OID_NAME(PKI_OID_P384, "P-384"),
	OID_NAME(PKI_OID_P521, "P-521"),
	OID_NAME(PKI_OID_SHA256_RSA, "sha256WithRSAEncryption"),
	OID_NAME(PKI_OID_SHA256_ECDSA, "ecdsa-with-SHA256"),
	OID_NAME(OID_SHA1_RSA, "sha1WithRSAEncryption"),
	OID_NAME(OID_SHA384_RSA, "sha384WithRSAEncryption"),
	OID_NAME(OID_SHA512_RSA, "sha512WithRSAEncryption"),
	OID_NAME(OID_RSA_PSS, "rsassaPss"),
	OID_NAME(OID_SHA384_ECDSA, "ecdsa-with-SHA384"),
	OID_NAME(OID_SHA512_ECDSA, "ecdsa-with-SHA512"),
	OID_NAME(OID_ED25519, "ED25519"),
	OID_NAME(PKI_OID_HMAC_SHA256, "hmacWithSHA256"),
	OID_NAME(PKI_OID_HMAC_SHA1, "hmacWithSHA1"),
	OID_NAME(PKI_OID_AES256_CBC, "AES-256-CBC"),
	OID_NAME(PKI_OID_AES128_CBC, "AES-128-CBC"),
};

#undef OID_NAME

const char *
pki_oid_name(const struct pki_der *v)
{
	for (size_t i = 0; i < sizeof(oid_names) / sizeof(oid_names[0]); i++)
		if (pki_der_oid_eq(v, oid_names[i].oid, oid_names[i].len))
			return oid_names[i].name;
	return NULL;
}

/* ---- reader ---------------------------------------------------------------------------- */

int
pki_der_next(struct pki_der *in, struct pki_tlv *t)
{
	const unsigned char *p = in->p;
	size_t n = in->len, hdr = 2, len;

	if (n < 2)
		return -1;
	/* High tag numbers (0x1f) never occur in the structures we read. */
	if ((p[0] & 0x1f) == 0x1f)
		return -1;
	len = p[1];
	if (len & 0x80) {
		size_t k = len & 0x7f;

		/* 0x80 is BER's indefinite length; more than 4 length bytes is never real. */
		if (k == 0 || k > 4 || n < 2 + k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = (len << 8) | p[2 + i];
		hdr += k;
	}
	if (len > n - hdr)
		return -1;
	t->tag = p[0];
	t->v.p = p + hdr;
	t->v.len = len;
	t->all.p = p;
	t->all.len = hdr + len;
	in->p += hdr + len;
	in->len -= hdr + len;
	return 0;
}

int
pki_der_get(struct pki_der *in, unsigned char tag, struct pki_tlv *t)
{
	struct pki_der save = *in;

	if (pki_der_next(in, t) < 0 || t->tag != tag) {
		*in = save;
		return -1;
	}
	return 0;
}

int
pki_der_peek(const struct pki_der *in)
{
	return in->len > 0 ? in->p[0] : -1;
}

int
pki_der_oid_eq(const struct pki_der *v, const unsigned char *oid, size_t n)
{
	return v->len == n && memcmp(v->p, oid, n) == 0;
}

int
pki_der_oid_text(const struct pki_der *v, char *buf, size_t cap)
{
	size_t used = 0;
	unsigned long long arc = 0;
	int first = 1;

	if (v->len == 0 || cap == 0)
		return -1;
	for (size_t i = 0; i < v->len; i++) {
		int w;

		if (arc > (~0ULL >> 8))
			return -1;
		arc = (arc << 7) | (v->p[i] & 0x7f);
		if (v->p[i] & 0x80)
			continue;
		if (first) {
			/* X.690 §8.19.4: the first subidentifier packs the first two arcs. */
			unsigned long long a = arc < 80 ? arc / 40 : 2, b = arc - a * 40;

			w = snprintf(buf + used, cap - used, "%llu.%llu", a, b);
			first = 0;
		} else {
			w = snprintf(buf + used, cap - used, ".%llu", arc);
		}
		if (w < 0 || (size_t)w >= cap - used)
			return -1;
		used += (size_t)w;
		arc = 0;
	}
	return (v->p[v->len - 1] & 0x80) ? -1 : 0;
}

static int
digits(const unsigned char *p, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int
pki_der_time(const struct pki_tlv *t, time_t *out)
{
	const unsigned char *p = t->v.p;
	struct tm tm;
	int year, y2;
	size_t ylen;

	/* RFC 5280 §4.1.2.5: YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, seconds present, UTC. */
	if (t->tag == PKI_DER_UTCTIME && t->v.len == 13)
		ylen = 2;
	else if (t->tag == PKI_DER_GENTIME && t->v.len == 15)
		ylen = 4;
	else
		return -1;
	if (p[t->v.len - 1] != 'Z' || digits(p, ylen, &year) < 0)
		return -1;
	if (ylen == 2)
		year += year >= 50 ? 1900 : 2000;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	if (digits(p + ylen, 2, &y2) < 0)
		return -1;
	tm.tm_mon = y2 - 1;
	if (digits(p + ylen + 2, 2, &tm.tm_mday) < 0 || digits(p + ylen + 4, 2, &tm.tm_hour) < 0 ||
	    digits(p + ylen + 6, 2, &tm.tm_min) < 0 || digits(p + ylen + 8, 2, &tm.tm_sec) < 0)
		return -1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* ---- writer ---------------------------------------------------------------------------- */

void
pki_der_init(struct pki_der_w *w, unsigned char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
}

static size_t
len_size(size_t len)
{
	size_t n = 1;

	if (len < 0x80)
		return 1;
	while (len > 0) {
		n++;
		len >>= 8;
	}
	return n;
}

static void
put_len(unsigned char *p, size_t len, size_t n)
{
	if (n == 1) {
		p[0] = (unsigned char)len;
		return;
	}
	p[0] = (unsigned char)(0x80 | (n - 1));
	for (size_t i = n - 1; i >= 1; i--) {
		p[i] = (unsigned char)len;
		len >>= 8;
	}
}

void
pki_der_raw(struct pki_der_w *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (n > w->cap - w->len) {
		w->err = PKI_ESPACE;
		return;
	}
	if (n > 0)
		memmove(w->buf + w->len, p, n);
	w->len += n;
}

void
pki_der_begin(struct pki_der_w *w, unsigned char tag)
{
	if (w->err)
		return;
	if (w->depth == PKI_DER_DEPTH) {
		w->err = PKI_EINTERNAL;
		return;
	}
	pki_der_raw(w, &tag, 1);
	w->open[w->depth++] = w->len;
}

void
pki_der_end(struct pki_der_w *w)
{
	size_t start, content, n;

	if (w->err)
		return;
	if (w->depth == 0) {
		w->err = PKI_EINTERNAL;
		return;
	}
	/* The contents were written right after the tag; slide them over to make room for the
	 * length, now that it is known. Objects are a few KiB, so the copy costs nothing. */
	start = w->open[--w->depth];
	content = w->len - start;
	n = len_size(content);
	if (n > w->cap - w->len) {
		w->err = PKI_ESPACE;
		return;
	}
	memmove(w->buf + start + n, w->buf + start, content);
	put_len(w->buf + start, content, n);
	w->len += n;
}

void
pki_der_put(struct pki_der_w *w, unsigned char tag, const void *p, size_t n)
{
	unsigned char hdr[6];
	size_t k = len_size(n);

	hdr[0] = tag;
	put_len(hdr + 1, n, k);
	pki_der_raw(w, hdr, 1 + k);
	pki_der_raw(w, p, n);
}

void
pki_der_uint(struct pki_der_w *w, const unsigned char *mag, size_t n)
{
	static const unsigned char zero = 0;

	while (n > 1 && mag[0] == 0) {
		mag++;
		n--;
	}
	if (n == 0) {
		pki_der_put(w, PKI_DER_INTEGER, &zero, 1);
		return;
	}
	if (mag[0] & 0x80) {
		unsigned char hdr[7];
		size_t k = len_size(n + 1);

		hdr[0] = PKI_DER_INTEGER;
		put_len(hdr + 1, n + 1, k);
		hdr[1 + k] = 0;
		pki_der_raw(w, hdr, 2 + k);
		pki_der_raw(w, mag, n);
		return;
	}
	pki_der_put(w, PKI_DER_INTEGER, mag, n);
}

void
pki_der_small(struct pki_der_w *w, unsigned long v)
{
	unsigned char mag[sizeof(v)];

	for (size_t i = 0; i < sizeof(v); i++)
		mag[sizeof(v) - 1 - i] = (unsigned char)(v >> (8 * i));
	pki_der_uint(w, mag, sizeof(mag));
}

void
pki_der_put_time(struct pki_der_w *w, time_t t)
{
	struct tm tm;
	char s[20];
	int n;

	if (gmtime_r(&t, &tm) == NULL) {
		if (!w->err)
			w->err = PKI_EDATE;
		return;
	}
	if (tm.tm_year + 1900 >= 1950 && tm.tm_year + 1900 <= 2049) {
		n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		pki_der_put(w, PKI_DER_UTCTIME, s, (size_t)n);
	} else if (tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999) {
		n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		pki_der_put(w, PKI_DER_GENTIME, s, (size_t)n);
	} else if (!w->err) {
		w->err = PKI_EDATE;
	}
}

void
pki_der_named_bits(struct pki_der_w *w, unsigned bits)
{
	unsigned char v[3] = {0, 0, 0};
	int last = -1;

	for (int i = 0; i < 16; i++)
		if (bits & (1u << i)) {
			v[1 + i / 8] |= (unsigned char)(0x80 >> (i % 8));
			last = i;
		}
	if (last < 0) {
		pki_der_put(w, PKI_DER_BIT_STRING, v, 1);
		return;
	}
	/* X.690 §11.2.2: trailing zero bits are dropped and counted in the first octet. */
	v[0] = (unsigned char)(7 - last % 8);
	pki_der_put(w, PKI_DER_BIT_STRING, v, (size_t)(2 + last / 8));
}

int
pki_der_finish(struct pki_der_w *w, size_t *len)
{
	if (w->err)
		return w->err;
	if (w->depth != 0)
		return PKI_EINTERNAL;
	*len = w->len;
	return 0;
}
