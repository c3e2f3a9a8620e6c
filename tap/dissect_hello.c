/*
 * dissect_hello: TLS handshake messages, read from their kept bytes: the hellos (SNI, ALPN,
 * versions, the key exchange offered and chosen, signature schemes), ServerKeyExchange's
 * curve, and, once decrypted, EncryptedExtensions, Certificate, CertificateVerify,
 * NewSessionTicket and KeyUpdate. Each message becomes one summary line, a few detail lines
 * below it, and one event. See dissect.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"

#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_NEW_SESSION_TICKET 4
#define TLS_HS_ENCRYPTED_EXTENSIONS 8
#define TLS_HS_CERTIFICATE 11
#define TLS_HS_SERVER_KEY_EXCHANGE 12
#define TLS_HS_CERTIFICATE_VERIFY 15
#define TLS_HS_KEY_UPDATE 24
#define TLS_EXT_SNI 0
#define TLS_EXT_SUPPORTED_GROUPS 10
#define TLS_EXT_SIGNATURE_ALGORITHMS 13
#define TLS_EXT_ALPN 16
#define TLS_EXT_EARLY_DATA 42
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_EXT_KEY_SHARE 51
#define TLS_VERSION_13 0x0304
/* RFC 8422 §5.4: ECParameters.curve_type for a named curve. */
#define TLS_EC_NAMED_CURVE 3
/* Groups named in an event's detail before "...": the line below a hello has them all. */
#define BRIEF_GROUPS 2
/* Signature schemes the default output names before "... (N in all)". */
#define BRIEF_SIGALGS 4

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

static size_t
rd_u24(struct rd *r)
{
	size_t hi = rd_u8(r);
	return hi << 16 | rd_u16(r);
}

static uint32_t
rd_u32(struct rd *r)
{
	uint32_t hi = rd_u16(r);
	return hi << 16 | rd_u16(r);
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

/* What one message says: its summary line, detail lines, and its event's detail. */
struct hs_text {
	char sum[DIS_LINE_MAX];
	char groups[DIS_LINE_MAX]; /* detail lines, in this order, "" when absent */
	char shares[DIS_LINE_MAX];
	char sigalgs[DIS_LINE_MAX];
	char sigalgs_brief[DIS_LINE_MAX]; /* the same, the first few: the tap's default output */
	char other[DIS_LINE_MAX];
	char brief[DIS_LINE_MAX];
	char offers[DIS_LINE_MAX]; /* the ClientHello's first groups, for the brief */
	const char *what; /* the event's name, when not the message's (HelloRetryRequest) */
};

/* Append to buf, or cut silently when full: the line is a summary. */
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

#define ADD(buf, ...) add(buf, sizeof(buf), __VA_ARGS__)

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random. */
static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
				       0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
				       0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
				       0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ALPN (RFC 7301 §3.1): a list of length-prefixed names, " h2 http/1.1" onto buf. */
static void
alpn_names(char *buf, size_t cap, struct rd *e)
{
	struct rd list = rd_sub(e, rd_u16(e));
	char name[260];

	while (!list.bad && list.n > 0) {
		size_t len = rd_u8(&list);
		const uint8_t *proto = rd_take(&list, len);
		if (proto != NULL) {
			dis_printable(name, sizeof(name), proto, len, 0);
			add(buf, cap, " %s", name);
		}
	}
}

/* SNI (RFC 6066 §3): the host_name entries. */
static void
client_sni(struct hs_text *h, struct dis_tls_facts *f, struct rd *e)
{
	struct rd list = rd_sub(e, rd_u16(e));
	char name[260];

	while (!list.bad && list.n > 0) {
		unsigned kind = rd_u8(&list);
		size_t len = rd_u16(&list);
		const uint8_t *host = rd_take(&list, len);
		if (host != NULL && kind == 0) {
			dis_printable(name, sizeof(name), host, len, 0);
			ADD(h->sum, ", SNI %s", name);
			/* Kept for the summary; a longer name is cut there. */
			dis_printable(f->sni, sizeof(f->sni), host, len, 0);
		}
	}
}

/* supported_groups (RFC 8446 §4.2.7): every group in order; the first few in the brief. */
static void
client_groups(struct hs_text *h, struct rd *e)
{
	struct rd list = rd_sub(e, rd_u16(e));
	char gbuf[8];
	unsigned named = 0;

	ADD(h->groups, "groups:");
	while (!list.bad && list.n >= 2) {
		unsigned g = rd_u16(&list);
		const char *name = dis_group_name(g, gbuf, sizeof(gbuf));

		ADD(h->groups, " %s", name);
		if (dis_is_grease(g))
			continue;
		if (named++ < BRIEF_GROUPS)
			ADD(h->offers, " %s", name);
		else if (named == BRIEF_GROUPS + 1)
			ADD(h->offers, " ...");
	}
}

/* key_share (RFC 8446 §4.2.8): each share's group and its key's size. */
static void
client_shares(struct hs_text *h, struct rd *e)
{
	struct rd list = rd_sub(e, rd_u16(e));
	char gbuf[8];
	int first = 1;

	ADD(h->shares, "key shares:");
	while (!list.bad && list.n > 0) {
		unsigned g = rd_u16(&list);
		size_t len = rd_u16(&list);

		if (rd_take(&list, len) == NULL)
			break;
		ADD(h->shares, "%s %s (%zu byte%s)", first ? "" : ",",
		    dis_group_name(g, gbuf, sizeof(gbuf)), len, dis_plural(len));
		first = 0;
	}
}

/* signature_algorithms (RFC 8446 §4.2.3): the schemes the client accepts, in order; the
 * first few for the default output, where a browser's dozen would fill three lines. */
static void
sigalg_list(struct hs_text *h, struct rd *e)
{
	struct rd list = rd_sub(e, rd_u16(e));
	char sbuf[8];
	unsigned n = 0;

	ADD(h->sigalgs, "signature algorithms:");
	ADD(h->sigalgs_brief, "signature algorithms:");
	while (!list.bad && list.n >= 2) {
		const char *name = dis_sigalg_name(rd_u16(&list), sbuf, sizeof(sbuf));

		ADD(h->sigalgs, " %s", name);
		if (n++ < BRIEF_SIGALGS)
			ADD(h->sigalgs_brief, " %s", name);
	}
	if (n > BRIEF_SIGALGS)
		ADD(h->sigalgs_brief, " ... (%u in all; --headers shows each)", n);
}

/* ClientHello (RFC 8446 §4.1.2): what an eavesdropper reads in clear. */
static void
client_hello(struct hs_text *h, struct rd *r, struct dis_tls_facts *f)
{
	const uint8_t *random;
	char vbuf[8];
	struct rd exts, e, list;
	unsigned suites;

	rd_take(r, 2);
	random = rd_take(r, 32);
	rd_take(r, rd_u8(r)); /* legacy_session_id */
	suites = rd_u16(r);
	rd_take(r, suites);
	rd_take(r, rd_u8(r)); /* compression methods */
	if (r->bad || random == NULL) {
		ADD(h->sum, ", cut short");
		return;
	}
	/* RFC 8446 §4.1.2: the random stays the same in a second ClientHello. */
	memcpy(f->client_random, random, sizeof(f->client_random));
	f->have_client_random = 1;
	ADD(h->sum, ", %u cipher suites", suites / 2);
	if (r->n == 0)
		return; /* no extensions: an old client */
	exts = rd_sub(r, rd_u16(r));
	while (!exts.bad && exts.n > 0) {
		unsigned type = rd_u16(&exts);
		e = rd_sub(&exts, rd_u16(&exts));
		if (e.bad)
			break;
		switch (type) {
		case TLS_EXT_SNI: client_sni(h, f, &e); break;
		case TLS_EXT_ALPN:
			ADD(h->sum, ", ALPN");
			alpn_names(h->sum, sizeof(h->sum), &e);
			break;
		case TLS_EXT_SUPPORTED_VERSIONS:
			list = rd_sub(&e, rd_u8(&e));
			ADD(h->sum, ", offers");
			while (!list.bad && list.n >= 2)
				ADD(h->sum, " %s",
				    dis_version_name(rd_u16(&list), vbuf, sizeof(vbuf)));
			break;
		case TLS_EXT_SUPPORTED_GROUPS: client_groups(h, &e); break;
		case TLS_EXT_KEY_SHARE: client_shares(h, &e); break;
		case TLS_EXT_SIGNATURE_ALGORITHMS: sigalg_list(h, &e); break;
		default: break;
		}
	}
	/* The brief in one order whatever the extensions' (Chromium shuffles them). */
	if (f->sni[0] != '\0')
		ADD(h->brief, "SNI %s", f->sni);
	if (h->offers[0] != '\0')
		ADD(h->brief, "%soffers%s", h->brief[0] ? ", " : "", h->offers);
}

/* The ServerHello's key_share: one share, the group chosen (RFC 8446 §4.2.8); in a
 * HelloRetryRequest only the group the server wants a share for, returned in *asked. */
static void
server_share(struct hs_text *h, struct rd *e, int hrr, struct dis_tls_facts *f, unsigned *asked)
{
	char gbuf[8];
	unsigned g = rd_u16(e);
	const char *name = dis_group_name(g, gbuf, sizeof(gbuf));
	size_t len;

	if (e->bad)
		return;
	if (hrr) {
		ADD(h->shares, "key share: none yet; the server asks for %s", name);
		*asked = g;
		return;
	}
	len = rd_u16(e);
	if (rd_take(e, len) == NULL)
		return;
	ADD(h->shares, "key share: %s (%zu byte%s), the group the server chose", name, len,
	    dis_plural(len));
	f->group = g;
}

/* The ServerHello's extensions: the version first, as the key_share is read as it says. */
static unsigned
server_extensions(struct hs_text *h, const struct rd *r, int hrr, struct dis_tls_facts *f,
		  unsigned *asked)
{
	unsigned chosen = 0;

	for (int pass = 0; pass < 2; pass++) {
		struct rd rest = *r, exts, e;

		exts = rd_sub(&rest, rest.n > 0 ? rd_u16(&rest) : 0);
		while (!exts.bad && exts.n > 0) {
			unsigned type = rd_u16(&exts);
			e = rd_sub(&exts, rd_u16(&exts));
			if (e.bad)
				break;
			if (pass == 0 && type == TLS_EXT_SUPPORTED_VERSIONS && e.n == 2)
				chosen = rd_u16(&e);
			else if (pass == 1 && type == TLS_EXT_KEY_SHARE)
				server_share(h, &e, hrr, f, asked);
			else if (pass == 1 && type == TLS_EXT_ALPN) {
				ADD(h->other, "ALPN:");
				alpn_names(h->other, sizeof(h->other), &e);
			}
		}
	}
	return chosen;
}

/* ServerHello: the chosen version, suite and group. Returns 1 for a HelloRetryRequest. */
static int
server_hello(struct hs_text *h, struct rd *r, struct dis_tls_facts *f)
{
	char vbuf[8], gbuf[8];
	unsigned version = rd_u16(r), suite, chosen, asked = 0;
	const uint8_t *random = rd_take(r, 32);
	int hrr;

	rd_take(r, rd_u8(r)); /* legacy_session_id_echo */
	suite = rd_u16(r);
	rd_u8(r); /* legacy_compression_method */
	if (r->bad || random == NULL) {
		ADD(h->sum, ", cut short");
		return 0;
	}
	hrr = memcmp(random, hrr_random, sizeof(hrr_random)) == 0;
	chosen = server_extensions(h, r, hrr, f, &asked);
	if (chosen == 0)
		chosen = version;
	if (hrr)
		ADD(h->sum, " (HelloRetryRequest: the client must send a new ClientHello)");
	ADD(h->sum, ", %s, cipher suite %s (0x%04x)", dis_version_name(chosen, vbuf, sizeof(vbuf)),
	    dis_suite_name(suite), suite);
	ADD(h->brief, "%s", dis_version_name(chosen, vbuf, sizeof(vbuf)));
	if (hrr) {
		h->what = "HelloRetryRequest";
		if (asked != 0)
			ADD(h->brief, ", asks for %s", dis_group_name(asked, gbuf, sizeof(gbuf)));
		return 1;
	}
	memcpy(f->server_random, random, sizeof(f->server_random));
	f->have_server_random = 1;
	f->version = chosen;
	f->suite = suite;
	ADD(h->brief, ", %s", dis_suite_name(suite));
	if (f->group != 0 && chosen == TLS_VERSION_13)
		ADD(h->brief, ", %s", dis_group_name(f->group, gbuf, sizeof(gbuf)));
	return 0;
}

/* TLS 1.2's ServerKeyExchange (RFC 8422 §5.4, RFC 5246 §7.4.3): the curve or the prime. */
static void
server_key_exchange(struct hs_text *h, struct rd *r, struct dis_tls_facts *f)
{
	enum dis_kx kx = dis_suite_kx(f->suite);
	char gbuf[8], sbuf[8];
	unsigned g, scheme;
	size_t len;

	if (kx != DIS_KX_ECDHE && kx != DIS_KX_DHE)
		return;
	if (kx == DIS_KX_DHE) {
		len = rd_u16(r);
		while (len > 0 && r->n > 0 && r->p[0] == 0) {
			len--; /* leading zeros of dh_p do not count */
			rd_take(r, 1);
		}
		if (rd_take(r, len) != NULL)
			ADD(h->other, "key exchange: DHE, a %zu-bit prime", 8 * len);
		return;
	}
	if (rd_u8(r) != TLS_EC_NAMED_CURVE)
		return;
	g = rd_u16(r);
	len = rd_u8(r);
	if (rd_take(r, len) == NULL)
		return;
	f->group = g;
	ADD(h->other, "key exchange: ECDHE, %s (%zu-byte public key)",
	    dis_group_name(g, gbuf, sizeof(gbuf)), len);
	ADD(h->brief, "%s", dis_group_name(g, gbuf, sizeof(gbuf)));
	scheme = rd_u16(r);
	if (!r->bad) {
		ADD(h->other, ", signed with %s", dis_sigalg_name(scheme, sbuf, sizeof(sbuf)));
		ADD(h->brief, ", signed with %s", dis_sigalg_name(scheme, sbuf, sizeof(sbuf)));
	}
}

/* Certificate: TLS 1.2 (RFC 5246 §7.4.2) a uint24 list of uint24-length certificates; TLS 1.3
 * (RFC 8446 §4.4.2) a request context first and extensions after each certificate. Counted
 * only when the whole message was kept. */
static void
certificate(struct hs_text *h, struct rd *r, int tls13)
{
	struct rd list;
	unsigned count = 0;

	if (tls13)
		rd_take(r, rd_u8(r));
	list = rd_sub(r, rd_u24(r));
	while (!list.bad && list.n > 0) {
		size_t one = rd_u24(&list);
		if (rd_take(&list, one) == NULL)
			break;
		if (tls13)
			rd_take(&list, rd_u16(&list));
		if (!list.bad)
			count++;
	}
	if (!list.bad) {
		ADD(h->sum, ", %u certificate%s", count, dis_plural(count));
		ADD(h->brief, "%u certificate%s", count, dis_plural(count));
	}
}

/* EncryptedExtensions (RFC 8446 §4.3.1): what the server answers to the ClientHello's
 * extensions, now sealed: the ALPN protocol, an accepted SNI or early data. */
static void
encrypted_extensions(struct hs_text *h, struct rd *r)
{
	struct rd exts = rd_sub(r, rd_u16(r)), e;

	while (!exts.bad && exts.n > 0) {
		unsigned type = rd_u16(&exts);
		e = rd_sub(&exts, rd_u16(&exts));
		if (e.bad)
			break;
		if (type == TLS_EXT_ALPN) {
			ADD(h->sum, ", ALPN");
			alpn_names(h->sum, sizeof(h->sum), &e);
			ADD(h->brief, "ALPN");
			alpn_names(h->brief, sizeof(h->brief), &e);
		} else if (type == TLS_EXT_SNI) {
			ADD(h->sum, ", SNI acknowledged");
		} else if (type == TLS_EXT_EARLY_DATA) {
			ADD(h->sum, ", early data accepted");
		}
	}
}

static void
certificate_verify(struct hs_text *h, struct rd *r)
{
	char sbuf[8];
	unsigned scheme = rd_u16(r);
	size_t len = rd_u16(r);

	if (rd_take(r, len) == NULL)
		return;
	ADD(h->sum, ", %s, %zu-byte signature", dis_sigalg_name(scheme, sbuf, sizeof(sbuf)), len);
	ADD(h->brief, "%s", dis_sigalg_name(scheme, sbuf, sizeof(sbuf)));
}

/* NewSessionTicket: RFC 8446 §4.6.1 (lifetime, age_add, nonce, ticket) or RFC 5077 §3.3. */
static void
new_session_ticket(struct hs_text *h, struct rd *r, int tls13)
{
	uint32_t lifetime = rd_u32(r);
	size_t len;

	if (tls13) {
		rd_u32(r);
		rd_take(r, rd_u8(r));
	}
	len = rd_u16(r);
	if (rd_take(r, len) == NULL)
		return;
	ADD(h->sum, ", lifetime %lu s, %zu-byte ticket", (unsigned long)lifetime, len);
	ADD(h->brief, "lifetime %lu s", (unsigned long)lifetime);
}

static void
key_update(struct hs_text *h, struct rd *r)
{
	unsigned req = rd_u8(r);

	if (!r->bad) {
		ADD(h->sum, ", %s", req == 1 ? "update_requested" : "update_not_requested");
		ADD(h->brief, "%s", req == 1 ? "update_requested" : "update_not_requested");
	}
}

static void
say_details(const struct out *o, const struct hs_text *h)
{
	const char *const lines[] = {h->groups, h->shares,
				     o->d->flags & DIS_BRIEF ? h->sigalgs_brief : h->sigalgs,
				     h->other};

	dis_say(o, "    handshake: %s", h->sum);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (lines[i][0] != '\0')
			dis_say(o, "      %s", lines[i]);
}

int
dis_hs_message(const struct out *o, unsigned type, const uint8_t *body, size_t kept, size_t len)
{
	struct hs_text h;
	struct dis_tls_facts *f = &o->d->facts;
	const char *name = dis_handshake_name(type);
	struct rd r = {.p = body, .n = kept, .bad = 0};
	char what[32];
	int hrr = 0;

	memset(&h, 0, sizeof(h));
	if (name == NULL) {
		snprintf(what, sizeof(what), "handshake type %u", type);
		name = what;
	}
	snprintf(h.sum, sizeof(h.sum), "%s, %zu byte%s", name, len, dis_plural(len));
	switch (type) {
	case TLS_HS_CLIENT_HELLO: client_hello(&h, &r, f); break;
	case TLS_HS_SERVER_HELLO: hrr = server_hello(&h, &r, f); break;
	case TLS_HS_SERVER_KEY_EXCHANGE: server_key_exchange(&h, &r, f); break;
	case TLS_HS_ENCRYPTED_EXTENSIONS: encrypted_extensions(&h, &r); break;
	case TLS_HS_CERTIFICATE:
		if (len <= kept)
			certificate(&h, &r, o->d->tls13);
		break;
	case TLS_HS_CERTIFICATE_VERIFY: certificate_verify(&h, &r); break;
	case TLS_HS_NEW_SESSION_TICKET: new_session_ticket(&h, &r, o->d->tls13); break;
	case TLS_HS_KEY_UPDATE: key_update(&h, &r); break;
	default: break;
	}
	if (dis_layers(o))
		say_details(o, &h);
	dis_event(o, DIS_EV_TLS, len, h.what != NULL ? h.what : name, h.brief);
	if (type != TLS_HS_SERVER_HELLO || r.bad)
		return 0;
	return hrr                            ? DIS_HELLO_RETRY
	       : f->version == TLS_VERSION_13 ? DIS_HELLO_TLS13
					      : DIS_HELLO_TLS12;
}
