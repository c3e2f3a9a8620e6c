#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "pki_int.h"

/* ---- time ------------------------------------------------------------------------------ */

int
pki_time_parse(const char *s, time_t now, time_t *out)
{
	struct tm tm, want, back;
	const char *end;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '@' || s[0] == '+' || s[0] == '-') {
		char *e;
		long long v;

		errno = 0;
		v = strtoll(s + 1, &e, 10);
		if (e == s + 1 || errno != 0 || v < 0 || v > 100LL * 366 * 86400 * 100)
			return -1;
		if (s[0] == '@') {
			if (*e != '\0')
				return -1;
			*out = (time_t)v;
			return 0;
		}
		switch (*e) {
		case 'd': v *= 86400; break;
		case 'h': v *= 3600; break;
		case 'm': v *= 60; break;
		case 's': break;
		default: return -1;
		}
		if (e[1] != '\0')
			return -1;
		*out = s[0] == '+' ? now + (time_t)v : now - (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end == NULL)
			return -1;
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0')
		return -1;
	/* strptime takes any day from 1 to 31 and timegm rolls it over (2026-02-30 would be
	 * March 2): a day the month does not have comes back different, and is refused. */
	want = tm;
	*out = timegm(&tm);
	if (gmtime_r(out, &back) == NULL || back.tm_year != want.tm_year ||
	    back.tm_mon != want.tm_mon || back.tm_mday != want.tm_mday)
		return -1;
	return 0;
}

void
pki_time_format(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, cap, "@%lld", (long long)t);
}

/* ---- names (RFC 5280 §4.1.2.4) --------------------------------------------------------- */

#define ATTR_LABEL(o, n)                                                                           \
	{                                                                                          \
		.oid = (o), .len = sizeof(o), .label = (n)                                         \
	}

static const struct {
	const unsigned char *oid;
	size_t len;
	const char *label;
} attr_labels[] = {
	ATTR_LABEL(PKI_OID_C, "C"),
	ATTR_LABEL(PKI_OID_ST, "ST"),
	ATTR_LABEL(PKI_OID_L, "L"),
	ATTR_LABEL(PKI_OID_O, "O"),
	ATTR_LABEL(PKI_OID_OU, "OU"),
	ATTR_LABEL(PKI_OID_CN, "CN"),
	ATTR_LABEL(PKI_OID_EMAIL, "emailAddress"),
};

#undef ATTR_LABEL

/* Bytes a person may type into a name: printable ASCII and UTF-8 sequences; no controls. */
static int
value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int
put_attr(struct pki_der_w *w, const unsigned char *oid, size_t oidlen, unsigned char strtag,
	 const char *label, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n > PKI_NAME_MAX)
		return pki_fail(PKI_ENAME, err, errlen, "%s is longer than %d bytes", label,
				PKI_NAME_MAX);
	if (!value_ok(v))
		return pki_fail(PKI_ENAME, err, errlen, "%s holds control characters", label);
	pki_der_begin(w, PKI_DER_SET);
	pki_der_begin(w, PKI_DER_SEQ);
	pki_der_put(w, PKI_DER_OID, oid, oidlen);
	pki_der_put(w, strtag, v, n);
	pki_der_end(w);
	pki_der_end(w);
	return 0;
}

int
pki_name_encode(const struct pki_name *n, struct pki_der_w *w, char *err, size_t errlen)
{
	int rc = 0;

	if (n->cn == NULL || n->cn[0] == '\0')
		return pki_fail(PKI_ENAME, err, errlen, "the common name (CN) is required");
	if (n->country != NULL && n->country[0] != '\0' &&
	    (strlen(n->country) != 2 || !isalpha((unsigned char)n->country[0]) ||
	     !isalpha((unsigned char)n->country[1])))
		return pki_fail(PKI_ENAME, err, errlen,
				"country '%s' is not a two-letter ISO 3166 code such as US",
				n->country);
	/* The tutorial's order, which is also the conventional big-endian one. Country is a
	 * PrintableString (RFC 5280 Appendix A), everything else UTF8String (§4.1.2.4). */
	pki_der_begin(w, PKI_DER_SEQ);
	if (n->country != NULL && n->country[0] != '\0')
		rc = put_attr(w, PKI_OID_C, sizeof(PKI_OID_C), PKI_DER_PRINTABLE, "country",
			      n->country, err, errlen);
	if (rc == 0 && n->state != NULL && n->state[0] != '\0')
		rc = put_attr(w, PKI_OID_ST, sizeof(PKI_OID_ST), PKI_DER_UTF8, "state", n->state,
			      err, errlen);
	if (rc == 0 && n->locality != NULL && n->locality[0] != '\0')
		rc = put_attr(w, PKI_OID_L, sizeof(PKI_OID_L), PKI_DER_UTF8, "locality",
			      n->locality, err, errlen);
	if (rc == 0 && n->org != NULL && n->org[0] != '\0')
		rc = put_attr(w, PKI_OID_O, sizeof(PKI_OID_O), PKI_DER_UTF8, "organization", n->org,
			      err, errlen);
	if (rc == 0)
		rc = put_attr(w, PKI_OID_CN, sizeof(PKI_OID_CN), PKI_DER_UTF8, "common name", n->cn,
			      err, errlen);
	pki_der_end(w);
	return rc;
}

/* Printable copy of a string value: ASCII and UTF-8 bytes as they are, others as \xNN.
 * BMPString (UCS-2) is narrowed when it is ASCII. */
static void
value_text(unsigned char tag, const struct pki_der *v, char *buf, size_t cap, size_t *used)
{
	if (tag == PKI_DER_BMP && v->len % 2 == 0) {
		for (size_t i = 0; i < v->len; i += 2) {
			unsigned c = (unsigned)v->p[i] << 8 | v->p[i + 1];

			if (c >= 0x20 && c < 0x7f)
				pki_appendf(buf, cap, used, "%c", (char)c);
			else
				pki_appendf(buf, cap, used, "\\u%04x", c);
		}
		return;
	}
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = v->p[i];
		int utf8 = tag == PKI_DER_UTF8 && c >= 0x80;

		if ((c >= 0x20 && c < 0x7f && c != '\\') || utf8)
			pki_appendf(buf, cap, used, "%c", (char)c);
		else
			pki_appendf(buf, cap, used, "\\x%02x", c);
	}
}

/* A walk over a Name's attributes (RDNs and the AttributeTypeAndValues inside each), in order. */
struct name_walk {
	struct pki_der rdns, atvs;
};

static int
name_start(const struct pki_der *name, struct name_walk *w)
{
	struct pki_der in = *name;
	struct pki_tlv t;

	if (pki_der_get(&in, PKI_DER_SEQ, &t) < 0)
		return -1;
	w->rdns = t.v;
	w->atvs.p = NULL;
	w->atvs.len = 0;
	return 0;
}

/* 1 with the next attribute's type and value, 0 at the end, -1 on malformed DER. */
static int
name_next(struct name_walk *w, struct pki_tlv *oid, struct pki_tlv *val)
{
	struct pki_tlv set, atv;
	struct pki_der a;

	while (w->atvs.len == 0) {
		if (w->rdns.len == 0)
			return 0;
		if (pki_der_get(&w->rdns, PKI_DER_SET, &set) < 0)
			return -1;
		w->atvs = set.v;
	}
	if (pki_der_get(&w->atvs, PKI_DER_SEQ, &atv) < 0)
		return -1;
	a = atv.v;
	if (pki_der_get(&a, PKI_DER_OID, oid) < 0 || pki_der_next(&a, val) < 0)
		return -1;
	return 1;
}

int
pki_name_text(const struct pki_der *name, char *buf, size_t cap)
{
	struct name_walk w;
	struct pki_tlv oid, val;
	size_t used = 0;
	int first = 1, r;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	if (name_start(name, &w) < 0)
		return -1;
	while ((r = name_next(&w, &oid, &val)) == 1) {
		const char *label = NULL;
		char dotted[64];

		for (size_t i = 0; i < sizeof(attr_labels) / sizeof(attr_labels[0]); i++)
			if (pki_der_oid_eq(&oid.v, attr_labels[i].oid, attr_labels[i].len))
				label = attr_labels[i].label;
		if (label == NULL) {
			if (pki_der_oid_text(&oid.v, dotted, sizeof(dotted)) < 0)
				return -1;
			label = dotted;
		}
		pki_appendf(buf, cap, &used, "%s%s=", first ? "" : ", ", label);
		value_text(val.tag, &val.v, buf, cap, &used);
		first = 0;
	}
	if (r < 0)
		return -1;
	if (used >= cap) {
		buf[cap - 1] = '\0';
		return -1;
	}
	return 0;
}

int
pki_name_cn(const struct pki_der *name, char *buf, size_t cap)
{
	struct name_walk w;
	struct pki_tlv oid, val;
	int found = 0, r;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	if (name_start(name, &w) < 0)
		return -1;
	while ((r = name_next(&w, &oid, &val)) == 1) {
		if (PKI_OID_EQ(&oid.v, PKI_OID_CN)) {
			size_t used = 0;

			/* RFC 6125 §6.4.4: the most specific CN is the last one. */
			buf[0] = '\0';
			value_text(val.tag, &val.v, buf, cap, &used);
			if (used >= cap)
				buf[cap - 1] = '\0';
			found = 1;
		}
	}
	return r < 0 ? -1 : found;
}

int
pki_name_empty(const struct pki_der *name)
{
	struct pki_der in = *name;
	struct pki_tlv t;

	return pki_der_get(&in, PKI_DER_SEQ, &t) == 0 && t.v.len == 0;
}

/* ---- subjectAltName (RFC 5280 §4.2.1.6) ------------------------------------------------ */

#define GN_DNS PKI_DER_CTXP(2)
#define GN_IP PKI_DER_CTXP(7)
#define GN_EMAIL PKI_DER_CTXP(1)
#define GN_URI PKI_DER_CTXP(6)

int
pki_dns_name_ok(const char *s, size_t len)
{
	size_t label = 0, i = 0;

	if (len == 0 || len > 253)
		return 0;
	/* A wildcard only as the whole leftmost label, followed by at least two labels
	 * (RFC 6125 §6.4.3 and what browsers accept). */
	if (len > 2 && s[0] == '*' && s[1] == '.') {
		if (memchr(s + 2, '.', len - 2) == NULL)
			return 0;
		i = 2;
	}
	for (; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-') || (c & 0x80))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	/* "256.1.1.1", "1.2.3" and "a.0x1" are broken addresses, not names: clients parse them
	 * as addresses and never match (addr_ends_in_number, which our client applies too). */
	return label > 0 && s[len - 1] != '-' && !addr_ends_in_number(s, len);
}

int
pki_san_encode(const char *const *sans, size_t n, struct pki_der_w *w, char *err, size_t errlen)
{
	if (n > PKI_MAX_SANS)
		return pki_fail(PKI_ESAN, err, errlen, "more than %d names", PKI_MAX_SANS);
	pki_der_begin(w, PKI_DER_SEQ);
	for (size_t i = 0; i < n; i++) {
		const char *s = sans[i];
		unsigned char ip[16];
		int force_dns = 0, force_ip = 0;

		if (strncmp(s, "DNS:", 4) == 0) {
			s += 4;
			force_dns = 1;
		} else if (strncmp(s, "IP:", 3) == 0) {
			s += 3;
			force_ip = 1;
		}
		if (!force_dns && inet_pton(AF_INET, s, ip) == 1) {
			pki_der_put(w, GN_IP, ip, 4);
		} else if (!force_dns && inet_pton(AF_INET6, s, ip) == 1) {
			pki_der_put(w, GN_IP, ip, 16);
		} else if (force_ip) {
			return pki_fail(PKI_ESAN, err, errlen,
					"'%s' is not an IPv4 or IPv6 address", sans[i]);
		} else if (pki_dns_name_ok(s, strlen(s))) {
			pki_der_put(w, GN_DNS, s, strlen(s));
		} else {
			return pki_fail(PKI_ESAN, err, errlen,
					"'%s' is neither a host name (letters, digits, '-', dots, "
					"no number at the end; xn-- for non-ASCII) nor an IP "
					"address",
					sans[i]);
		}
	}
	pki_der_end(w);
	return 0;
}

int
pki_san_check(const struct pki_der *names, char *err, size_t errlen)
{
	struct pki_der in = *names;
	size_t count = 0;

	while (in.len > 0) {
		struct pki_tlv gn;

		if (pki_der_next(&in, &gn) < 0)
			return pki_fail(-1, err, errlen, "subjectAltName entry %zu is not DER",
					count + 1);
		count++;
		if (gn.tag == GN_IP && gn.v.len != 4 && gn.v.len != 16)
			return pki_fail(-1, err, errlen,
					"subjectAltName entry %zu is an IP address of %zu bytes",
					count, gn.v.len);
		if (gn.tag == GN_DNS && !pki_dns_name_ok((const char *)gn.v.p, gn.v.len))
			return pki_fail(
				-1, err, errlen,
				"subjectAltName entry %zu, DNS name '%.*s', is not a host name",
				count, (int)(gn.v.len > 64 ? 64 : gn.v.len), (const char *)gn.v.p);
	}
	if (count == 0)
		return pki_fail(-1, err, errlen, "the subjectAltName extension is empty");
	return 0;
}

int
pki_san_text(const struct pki_der *names, char *buf, size_t cap)
{
	struct pki_der in = *names;
	size_t used = 0;
	int first = 1;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	while (in.len > 0) {
		struct pki_tlv gn;
		char ip[INET6_ADDRSTRLEN];
		const char *sep = first ? "" : ", ";

		if (pki_der_next(&in, &gn) < 0)
			return -1;
		first = 0;
		if (gn.tag == GN_DNS || gn.tag == GN_EMAIL || gn.tag == GN_URI) {
			const char *kind = gn.tag == GN_DNS     ? "DNS"
					   : gn.tag == GN_EMAIL ? "email"
								: "URI";

			pki_appendf(buf, cap, &used, "%s%s:", sep, kind);
			value_text(PKI_DER_IA5, &gn.v, buf, cap, &used);
		} else if (gn.tag == GN_IP && (gn.v.len == 4 || gn.v.len == 16)) {
			inet_ntop(gn.v.len == 4 ? AF_INET : AF_INET6, gn.v.p, ip, sizeof(ip));
			pki_appendf(buf, cap, &used, "%sIP:%s", sep, ip);
		} else {
			pki_appendf(buf, cap, &used, "%s[%u]", sep, gn.tag & 0x1fu);
		}
	}
	if (used >= cap) {
		buf[cap - 1] = '\0';
		return -1;
	}
	return 0;
}

static int
dns_match(const unsigned char *pat, size_t plen, const char *host)
{
	size_t hlen = strlen(host);

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (plen == hlen && strncasecmp((const char *)pat, host, hlen) == 0)
		return 1;
	/* "*.example.com" matches exactly one label in front of example.com (RFC 6125
	 * §6.4.3), never a partial label and never an IP literal. */
	if (plen > 2 && pat[0] == '*' && pat[1] == '.') {
		const char *dot = memchr(host, '.', hlen);

		if (dot == NULL || dot == host)
			return 0;
		return (size_t)(host + hlen - dot) == plen - 1 &&
		       strncasecmp((const char *)pat + 1, dot, plen - 1) == 0;
	}
	return 0;
}

int
pki_san_match(const struct pki_der *names, const char *host)
{
	struct pki_der in = *names;
	unsigned char ip[16];
	size_t iplen = 0;

	if (inet_pton(AF_INET, host, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		iplen = 16;
	while (in.len > 0) {
		struct pki_tlv gn;

		if (pki_der_next(&in, &gn) < 0)
			return 0;
		if (iplen > 0 && gn.tag == GN_IP && gn.v.len == iplen &&
		    memcmp(gn.v.p, ip, iplen) == 0)
			return 1;
		if (iplen == 0 && gn.tag == GN_DNS && dns_match(gn.v.p, gn.v.len, host))
			return 1;
	}
	return 0;
}
