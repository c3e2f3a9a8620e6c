/*
 * dissect_tls: TLS records and, while the handshake is in clear, its messages. See dissect.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"

#define TLS_CT_CCS 20
#define TLS_CT_APPDATA 23
#define TLS_CT_HEARTBEAT 24
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11
#define TLS_EXT_SNI 0
#define TLS_EXT_ALPN 16
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_VERSION_13 0x0304

/* ---- TLS --------------------------------------------------------------------------------- */

static const char *
tls_version_name(unsigned v, char *buf, size_t cap)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case 0x0301: return "TLS 1.0";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	}
	/* RFC 8701: GREASE values look like 0x?a?a with both bytes equal. */
	if ((v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff))
		return "GREASE";
	snprintf(buf, cap, "0x%04x", v);
	return buf;
}

struct name {
	unsigned code;
	const char *text;
};

/* RFC 8446 §4 and RFC 5246 §7.4; Wireshark's names without spaces. */
static const struct name handshake_names[] = {
	{0, "HelloRequest"},        {1, "ClientHello"},      {2, "ServerHello"},
	{3, "HelloVerifyRequest"},  {4, "NewSessionTicket"}, {5, "EndOfEarlyData"},
	{8, "EncryptedExtensions"}, {11, "Certificate"},     {12, "ServerKeyExchange"},
	{13, "CertificateRequest"}, {14, "ServerHelloDone"}, {15, "CertificateVerify"},
	{16, "ClientKeyExchange"},  {20, "Finished"},        {21, "CertificateURL"},
	{22, "CertificateStatus"},  {24, "KeyUpdate"},       {254, "MessageHash"},
};

/* RFC 8446 §6. */
static const struct name alert_names[] = {
	{0, "close_notify"},
	{10, "unexpected_message"},
	{20, "bad_record_mac"},
	{22, "record_overflow"},
	{40, "handshake_failure"},
	{42, "bad_certificate"},
	{43, "unsupported_certificate"},
	{44, "certificate_revoked"},
	{45, "certificate_expired"},
	{46, "certificate_unknown"},
	{47, "illegal_parameter"},
	{48, "unknown_ca"},
	{49, "access_denied"},
	{50, "decode_error"},
	{51, "decrypt_error"},
	{70, "protocol_version"},
	{71, "insufficient_security"},
	{80, "internal_error"},
	{86, "inappropriate_fallback"},
	{90, "user_canceled"},
	{109, "missing_extension"},
	{110, "unsupported_extension"},
	{112, "unrecognized_name"},
	{116, "certificate_required"},
	{120, "no_application_protocol"},
};

/* The suites wolfSSL, OpenSSL and Python offer by default; others are "unknown suite (0x....)". */
static const struct name suite_names[] = {
	{0x1301, "TLS_AES_128_GCM_SHA256"},
	{0x1302, "TLS_AES_256_GCM_SHA384"},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
};

#define LOOKUP(table, code, dflt) lookup(table, sizeof(table) / sizeof(table[0]), code, dflt)

static const char *
lookup(const struct name *table, size_t n, unsigned code, const char *dflt)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].text;
	return dflt;
}

/* A bounds-checked reader over the kept bytes of a handshake message. */
struct rd {
	const uint8_t *p;
	size_t n;
	int bad;
};

static unsigned
rd_u8(struct rd *r)
{
	if (r->bad || r->n < 1) {
		r->bad = 1;
		return 0;
	}
	r->n--;
	return *r->p++;
}

static unsigned
rd_u16(struct rd *r)
{
	unsigned hi = rd_u8(r);
	return hi << 8 | rd_u8(r);
}

static const uint8_t *
rd_take(struct rd *r, size_t len)
{
	const uint8_t *p = r->p;

	if (r->bad || r->n < len) {
		r->bad = 1;
		return NULL;
	}
	r->p += len;
	r->n -= len;
	return p;
}

/* A sub-reader over the next len bytes (a vector or an extension body). */
static struct rd
rd_sub(struct rd *r, size_t len)
{
	struct rd sub = {.p = NULL, .n = 0, .bad = 1};
	const uint8_t *p = rd_take(r, len);

	if (p != NULL) {
		sub.p = p;
		sub.n = len;
		sub.bad = 0;
	}
	return sub;
}

/* Append ", " + text to buf, or cut silently when full: the line is a summary. */
__attribute__((format(printf, 3, 4))) static void
add(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random. */
static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
				       0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
				       0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
				       0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ClientHello (RFC 8446 §4.1.2): the SNI, ALPN and versions an eavesdropper reads in clear. */
static void
client_hello(char *sum, size_t cap, struct rd *r)
{
	char vbuf[16], name[260];
	struct rd exts, e, list;
	unsigned suites;

	rd_take(r, 2 + 32);
	rd_take(r, rd_u8(r)); /* legacy_session_id */
	suites = rd_u16(r);
	rd_take(r, suites);
	rd_take(r, rd_u8(r)); /* compression methods */
	if (r->bad) {
		add(sum, cap, ", cut short");
		return;
	}
	add(sum, cap, ", %u cipher suites", suites / 2);
	if (r->n == 0)
		return; /* no extensions: an old client */
	exts = rd_sub(r, rd_u16(r));
	while (!exts.bad && exts.n > 0) {
		unsigned type = rd_u16(&exts);
		e = rd_sub(&exts, rd_u16(&exts));
		if (e.bad)
			break;
		if (type == TLS_EXT_SNI) {
			list = rd_sub(&e, rd_u16(&e));
			while (!list.bad && list.n > 0) {
				unsigned kind = rd_u8(&list);
				size_t len = rd_u16(&list);
				const uint8_t *host = rd_take(&list, len);
				if (host != NULL && kind == 0) {
					dis_printable(name, sizeof(name), host, len, 0);
					add(sum, cap, ", SNI %s", name);
				}
			}
		} else if (type == TLS_EXT_ALPN) {
			list = rd_sub(&e, rd_u16(&e));
			add(sum, cap, ", ALPN");
			while (!list.bad && list.n > 0) {
				size_t len = rd_u8(&list);
				const uint8_t *proto = rd_take(&list, len);
				if (proto != NULL) {
					dis_printable(name, sizeof(name), proto, len, 0);
					add(sum, cap, " %s", name);
				}
			}
		} else if (type == TLS_EXT_SUPPORTED_VERSIONS) {
			list = rd_sub(&e, rd_u8(&e));
			add(sum, cap, ", offers");
			while (!list.bad && list.n >= 2)
				add(sum, cap, " %s",
				    tls_version_name(rd_u16(&list), vbuf, sizeof(vbuf)));
		}
	}
}

/* ServerHello: the chosen version and suite. Returns the version chosen (0 if cut short) and
 * sets *hrr for a HelloRetryRequest. */
static unsigned
server_hello(char *sum, size_t cap, struct rd *r, int *hrr)
{
	char vbuf[16];
	unsigned version = rd_u16(r), suite, chosen;
	const uint8_t *random = rd_take(r, 32);
	struct rd exts, e;

	rd_take(r, rd_u8(r)); /* legacy_session_id_echo */
	suite = rd_u16(r);
	rd_u8(r); /* legacy_compression_method */
	if (r->bad || random == NULL) {
		add(sum, cap, ", cut short");
		return 0;
	}
	*hrr = memcmp(random, hrr_random, sizeof(hrr_random)) == 0;
	chosen = version;
	exts = rd_sub(r, r->n > 0 ? rd_u16(r) : 0);
	while (!exts.bad && exts.n > 0) {
		unsigned type = rd_u16(&exts);
		e = rd_sub(&exts, rd_u16(&exts));
		if (!e.bad && type == TLS_EXT_SUPPORTED_VERSIONS && e.n == 2)
			chosen = rd_u16(&e);
	}
	if (*hrr)
		add(sum, cap, " (HelloRetryRequest: the client must send a new ClientHello)");
	add(sum, cap, ", %s, cipher suite %s (0x%04x)",
	    tls_version_name(chosen, vbuf, sizeof(vbuf)),
	    LOOKUP(suite_names, suite, "unknown suite"), suite);
	return chosen;
}

static void
handshake_done(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	unsigned type = t->hs_hdr[0];
	const char *name = LOOKUP(handshake_names, type, NULL);
	size_t kept = t->hs_len < DIS_HS_KEEP ? t->hs_len : DIS_HS_KEEP;
	struct rd r = {.p = t->hs_keep, .n = kept, .bad = 0};
	char sum[DIS_LINE_MAX];
	int tls13 = 0, hrr = 0;

	if (name != NULL)
		snprintf(sum, sizeof(sum), "%s, %zu byte%s", name, t->hs_len,
			 dis_plural(t->hs_len));
	else
		snprintf(sum, sizeof(sum), "handshake type %u, %zu byte%s", type, t->hs_len,
			 dis_plural(t->hs_len));
	if (type == TLS_HS_CLIENT_HELLO)
		client_hello(sum, sizeof(sum), &r);
	else if (type == TLS_HS_SERVER_HELLO)
		tls13 = server_hello(sum, sizeof(sum), &r, &hrr) == TLS_VERSION_13;
	else if (type == TLS_HS_CERTIFICATE && t->hs_len <= DIS_HS_KEEP) {
		/* TLS 1.2 (RFC 5246 §7.4.2): a uint24 list of uint24-length certificates. */
		struct rd list;
		unsigned count = 0;
		size_t len = rd_u8(&r) << 16;
		len |= rd_u16(&r);
		list = rd_sub(&r, len);
		while (!list.bad && list.n > 0) {
			size_t one = rd_u8(&list) << 16;
			one |= rd_u16(&list);
			if (rd_take(&list, one) != NULL)
				count++;
		}
		if (!list.bad)
			add(sum, sizeof(sum), ", %u certificate%s", count, dis_plural(count));
	}
	if (dis_layers(o))
		dis_say(o, "    handshake: %s", sum);
	/* RFC 8446 §5.1: a TLS 1.3 record's header keeps legacy_record_version 0x0303, so that
	 * middleboxes that know TLS 1.2 let it pass; the version is in the ServerHello only. */
	if (tls13 && !hrr && !o->d->tls13 && dis_layers(o))
		dis_say(o, "    (TLS 1.3 from here: records are encrypted, and their headers go on "
			   "saying TLS 1.2 (0x0303), RFC 8446 §5.1's legacy_record_version)");
	if (tls13)
		o->d->tls13 = 1;
	if (tls13 && !hrr) {
		/* RFC 8446 §2: everything after the ServerHello is encrypted, both ways. */
		for (int i = 0; i < 2; i++)
			if (o->d->side[i].proto == DIS_PROTO_TLS)
				o->d->side[i].u.tls.encrypted = 1;
	}
}

/* Bytes of a clear handshake record: messages may span records and records hold several. */
static void
handshake_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n)
{
	struct dis_tls *t = &s->u.tls;

	while (n > 0 && !t->encrypted) {
		if (t->hs_hdr_len < 4) {
			t->hs_hdr[t->hs_hdr_len++] = *p++;
			n--;
			if (t->hs_hdr_len == 4) {
				t->hs_len = (size_t)t->hs_hdr[1] << 16 | (size_t)t->hs_hdr[2] << 8 |
					    t->hs_hdr[3];
				t->hs_got = 0;
			} else {
				continue;
			}
		} else {
			size_t take = t->hs_len - t->hs_got < n ? t->hs_len - t->hs_got : n;
			if (t->hs_got < DIS_HS_KEEP) {
				size_t keep = DIS_HS_KEEP - t->hs_got < take
						      ? DIS_HS_KEEP - t->hs_got
						      : take;
				memcpy(t->hs_keep + t->hs_got, p, keep);
			}
			t->hs_got += take;
			p += take;
			n -= take;
		}
		if (t->hs_got == t->hs_len) {
			handshake_done(o, s);
			t->hs_hdr_len = 0;
		}
	}
}

static void
record_start(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	unsigned version = (unsigned)t->hdr[1] << 8 | t->hdr[2];
	size_t len = (size_t)t->hdr[3] << 8 | t->hdr[4];
	char vbuf[16], head[2 * sizeof(t->hdr) + 1], why[64];
	const char *what;

	t->type = t->hdr[0];
	if (t->type < TLS_CT_CCS || t->type > TLS_CT_HEARTBEAT || t->hdr[1] != 3 ||
	    len > DIS_TLS_RECORD_MAX) {
		dis_hex(head, sizeof(head), t->hdr, sizeof(t->hdr));
		snprintf(why, sizeof(why), "not a TLS record header (%s)", head);
		dis_raw_start(o, s, why);
		return;
	}
	switch (t->type) {
	case TLS_CT_CCS: what = "change cipher spec"; break;
	case TLS_CT_ALERT: what = t->encrypted ? "encrypted alert" : "alert"; break;
	case TLS_CT_HANDSHAKE:
		what = t->encrypted ? "encrypted handshake message" : "handshake";
		break;
	case TLS_CT_APPDATA: what = "application data"; break;
	default: what = "heartbeat"; break;
	}
	if (dis_layers(o))
		dis_say(o, "  TLS record: %s, %zu byte%s, %s (0x%04x)", what, len, dis_plural(len),
			tls_version_name(version, vbuf, sizeof(vbuf)), version);
	t->rec_left = len;
	t->alert_len = 0;
	t->state = DIS_TLS_BODY;
}

static void
record_end(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;

	if (t->type == TLS_CT_ALERT && !t->encrypted && dis_layers(o)) {
		if (t->alert_len == 2)
			dis_say(o, "    alert: %s, %s (%u)", t->alert[0] == 2 ? "fatal" : "warning",
				LOOKUP(alert_names, t->alert[1], "unknown"), t->alert[1]);
		else
			dis_say(o, "    alert: %zu byte%s, not 2", t->alert_len,
				dis_plural(t->alert_len));
	}
	/* RFC 5246 §7.1: records after ChangeCipherSpec are under the new keys; not in TLS 1.3,
	 * whose dummy one may come before a second ClientHello in clear (RFC 8446 §D.4). */
	if (t->type == TLS_CT_CCS && !o->d->tls13)
		t->encrypted = 1;
	t->state = DIS_TLS_HEADER;
	t->hdr_len = 0;
}

/* Returns bytes consumed; fewer than n only if the stream turned out not to be TLS. */
size_t
dis_tls_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n)
{
	struct dis_tls *t = &s->u.tls;
	size_t used = 0;

	while (used < n) {
		if (t->state == DIS_TLS_HEADER) {
			t->hdr[t->hdr_len++] = p[used++];
			if (t->hdr_len < sizeof(t->hdr))
				continue;
			record_start(o, s);
			if (s->proto != DIS_PROTO_TLS)
				return used;
		} else {
			size_t take = n - used < t->rec_left ? n - used : t->rec_left;
			if (t->type == TLS_CT_HANDSHAKE && !t->encrypted)
				handshake_bytes(o, s, p + used, take);
			else if (t->type == TLS_CT_ALERT)
				for (size_t i = 0; i < take && t->alert_len < sizeof(t->alert); i++)
					t->alert[t->alert_len++] = p[used + i];
			used += take;
			t->rec_left -= take;
		}
		if (t->state == DIS_TLS_BODY && t->rec_left == 0)
			record_end(o, s);
	}
	return used;
}
