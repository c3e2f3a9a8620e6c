/*
 * dissect_tls: TLS records and the handshake messages inside them, in clear or, with a key
 * log, decrypted (dissect_crypt.c opens the records and hands their content back here).
 * See dissect.h.
 */
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"

/* ---- handshake messages ------------------------------------------------------------------ */

static void
handshake_done(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	struct dis_conn *d = o->d;
	unsigned type = t->hs_hdr[0];
	size_t kept = t->hs_len < DIS_HS_KEEP ? t->hs_len : DIS_HS_KEEP;
	int chose = dis_hs_message(o, type, t->hs_keep, kept, t->hs_len);

	if (o->decrypted) {
		dis_crypt_after(o, type);
		return;
	}
	/* RFC 8446 §5.1: a TLS 1.3 record's header keeps legacy_record_version 0x0303, so that
	 * middleboxes that know TLS 1.2 let it pass; the version is in the ServerHello only. */
	if (chose == DIS_HELLO_TLS13 && dis_layers(o))
		dis_say(o, "    (TLS 1.3 from here: records are encrypted, and their headers go on "
			   "saying TLS 1.2 (0x0303), RFC 8446 §5.1's legacy_record_version)");
	if (chose == DIS_HELLO_TLS13 || chose == DIS_HELLO_RETRY)
		d->tls13 = 1;
	if (chose == DIS_HELLO_TLS13) {
		/* RFC 8446 §2: everything after the ServerHello is encrypted, both ways. */
		for (int i = 0; i < 2; i++)
			if (d->side[i].proto == DIS_PROTO_TLS) {
				d->side[i].u.tls.encrypted = 1;
				d->side[i].u.tls.hs_hdr_len = 0;
			}
		dis_crypt_begin(d, DIS_C2S);
		dis_crypt_begin(d, DIS_S2C);
	}
}

/*
 * Bytes of handshake messages, from a clear record or a decrypted one: messages may span
 * records and records hold several. In clear, nothing after a TLS 1.3 ServerHello is read
 * as a message: it would be sealed.
 */
static void
handshake_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n)
{
	struct dis_tls *t = &s->u.tls;

	while (n > 0 && (o->decrypted || !t->encrypted)) {
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

/* ---- alerts ------------------------------------------------------------------------------ */

static void
alert_done(const struct out *o, const uint8_t *alert, size_t len)
{
	char detail[64];

	if (len != 2) {
		if (dis_layers(o))
			dis_say(o, "    alert: %zu byte%s, not 2", len, dis_plural(len));
		dis_event(o, DIS_EV_TLS, len, "Alert", "not 2 bytes");
		return;
	}
	snprintf(detail, sizeof(detail), "%s, %s", alert[0] == 2 ? "fatal" : "warning",
		 dis_alert_name(alert[1]));
	if (dis_layers(o))
		dis_say(o, "    alert: %s (%u)", detail, alert[1]);
	dis_event(o, DIS_EV_TLS, 2, "Alert", detail);
}

/* ---- decrypted content ------------------------------------------------------------------- */

void
dis_tls_plain(const struct out *o, unsigned type, const uint8_t *p, size_t n)
{
	struct dis_side *s = &o->d->side[o->dir];

	switch (type) {
	case TLS_CT_HANDSHAKE: handshake_bytes(o, s, p, n); break;
	case TLS_CT_ALERT:
		/* RFC 8446 §6.1: close_notify ends the sender's data, and a body that runs
		 * until the close with it. */
		if (n == 2 && p[1] == 0 && dis_crypt_inner(o)->proto == DIS_PROTO_HTTP)
			dis_http_end(o, dis_crypt_inner(o));
		alert_done(o, p, n);
		break;
	case TLS_CT_APPDATA: {
		struct dis_side *inner = dis_crypt_inner(o);

		if (o->d->grep != NULL) {
			dis_grep_bytes(o->d->grep, inner, p, n);
			o->d->grep_decrypted[o->dir] |= inner->grep_seen;
		}
		dis_stream(o, inner, p, n, 0);
		break;
	}
	default:
		if (dis_layers(o))
			dis_say(o, "    content type %u, %zu byte%s", type, n, dis_plural(n));
		break;
	}
}

/* ---- records ----------------------------------------------------------------------------- */

static void
record_start(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	unsigned version = (unsigned)t->hdr[1] << 8 | t->hdr[2];
	size_t len = (size_t)t->hdr[3] << 8 | t->hdr[4];
	char vbuf[8], head[2 * sizeof(t->hdr) + 1], why[64];
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
			dis_version_name(version, vbuf, sizeof(vbuf)), version);
	t->rec_left = len;
	t->alert_len = 0;
	t->state = DIS_TLS_BODY;
	t->sealed = t->encrypted && t->type != TLS_CT_CCS;
	t->collect = t->sealed && dis_crypt_wants(o, t->type);
	if (t->collect)
		dis_crypt_record_start(o, t->hdr, len);
}

static void
record_end(const struct out *o, struct dis_side *s)
{
	struct dis_tls *t = &s->u.tls;
	size_t len = (size_t)t->hdr[3] << 8 | t->hdr[4];

	if (t->collect)
		dis_crypt_record_end(o);
	else if (t->type == TLS_CT_CCS)
		/* RFC 8446 §D.4: in TLS 1.3 it changes nothing, middleboxes expect to see one. */
		dis_event(o, DIS_EV_TLS, len, "ChangeCipherSpec",
			  o->d->tls13 ? "dummy, for middleboxes" : NULL);
	else if (t->sealed || t->type == TLS_CT_APPDATA || t->type == TLS_CT_HEARTBEAT)
		dis_event(o, DIS_EV_SEALED, sizeof(t->hdr) + len, "", NULL);
	else if (t->type == TLS_CT_ALERT)
		alert_done(o, t->alert, t->alert_len);
	/* RFC 5246 §7.1: records after ChangeCipherSpec are under the new keys; not in TLS 1.3,
	 * whose dummy one may come before a second ClientHello in clear (RFC 8446 §D.4). */
	if (t->type == TLS_CT_CCS && !o->d->tls13 && !t->encrypted) {
		t->encrypted = 1;
		t->hs_hdr_len = 0;
		dis_crypt_begin(o->d, o->dir);
	}
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
			if (t->collect)
				dis_crypt_record_bytes(o, p + used, take);
			else if (t->type == TLS_CT_HANDSHAKE && !t->encrypted)
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
