/*
 * dissect_fernet: Fernet tokens ("gAAAAA..." URL-safe base64) found in any byte stream, laid
 * out into their fields without the key. See dissect.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "b64url.h"
#include "dissect_int.h"
#include "fernet.h"

/* The fixed part of a token: version, timestamp and IV before the ciphertext, HMAC after. */
#define TOKEN_FIXED_LEN (FERNET_HEAD_LEN + FERNET_MAC_LEN)
#define TOKEN_MIN_LEN (TOKEN_FIXED_LEN + FERNET_BLOCK)
/* 9999-12-31 23:59:59 UTC: later timestamps cannot be printed as a four-digit year. */
#define DIS_MAX_TIME 253402300799ULL

/* ---- Fernet tokens ----------------------------------------------------------------------- */

static int
is_b64url(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Decode a token's text into out (cap bytes). Returns the length, or -1 with *why set. A token
 * cut from a URL may have lost its padding, so missing '=' are added before the strict decoder
 * the Fernet code uses (b64url) takes it.
 */
static long
token_decode(const char *text, size_t len, uint8_t *out, size_t cap, const char **why)
{
	char padded[DIS_TOKEN_MAX + 3];
	size_t body = len, pad, outlen;
	int rc;

	while (body > 0 && text[body - 1] == '=')
		body--;
	pad = len - body;
	for (size_t i = 0; i < body; i++) {
		if (!is_b64url((uint8_t)text[i])) {
			*why = "'=' inside the base64 text";
			return -1;
		}
	}
	if (body % 4 == 1 || pad > 2 || (pad > 0 && len % 4 != 0)) {
		*why = "its base64 length is impossible";
		return -1;
	}
	/* The sizes first: a token cut short is "too short", not "not canonical". */
	if (body * 6 / 8 < TOKEN_MIN_LEN) {
		*why = "too short for version, timestamp, IV, one block and HMAC";
		return -1;
	}
	if ((body * 6 / 8 - TOKEN_FIXED_LEN) % FERNET_BLOCK != 0) {
		*why = "its ciphertext is not whole 16-byte blocks";
		return -1;
	}
	memcpy(padded, text, body);
	memcpy(padded + body, "===", (4 - body % 4) % 4);
	body += (4 - body % 4) % 4;
	rc = b64url_decode(padded, body, out, cap, &outlen);
	if (rc != 0) {
		*why = b64url_strerror(rc);
		return -1;
	}
	return (long)outlen;
}

static void
token_show(const struct out *o, const struct dis_token *t)
{
	uint8_t raw[DIS_TOKEN_MAX / 4 * 3];
	char text[2 * 32 + 1];
	const char *why = NULL;
	uint64_t ts = 0;
	long n;

	if (t->len > DIS_TOKEN_MAX) {
		dis_say(o,
			"  Fernet token? %zu characters starting gAAAAA: longer than %d, not laid out",
			t->len, DIS_TOKEN_MAX);
		return;
	}
	n = token_decode(t->text, t->len, raw, sizeof(raw), &why);
	if (n < 0) {
		dis_say(o, "  Fernet token? %zu characters starting gAAAAA, but %s", t->len, why);
		return;
	}
	for (int i = 1; i <= 8; i++)
		ts = ts << 8 | raw[i];
	dis_say(o, "  Fernet token: %zu characters, %ld bytes", t->len, n);
	dis_say(o, "    version     0x%02x", raw[0]);
	if (ts <= DIS_MAX_TIME) {
		time_t tt = (time_t)ts;
		struct tm tm;
		char date[64];

		if (gmtime_r(&tt, &tm) != NULL &&
		    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
			dis_say(o, "    timestamp   %llu (%s)", (unsigned long long)ts, date);
		else
			dis_say(o, "    timestamp   %llu", (unsigned long long)ts);
	} else {
		dis_say(o, "    timestamp   %llu (after the year 9999)", (unsigned long long)ts);
	}
	dis_hex(text, sizeof(text), raw + 9, FERNET_BLOCK);
	dis_say(o, "    IV          %s", text);
	dis_say(o, "    ciphertext  %ld bytes (%ld AES-128-CBC block%s)", n - TOKEN_FIXED_LEN,
		(n - TOKEN_FIXED_LEN) / FERNET_BLOCK,
		dis_plural((uint64_t)(n - TOKEN_FIXED_LEN) / FERNET_BLOCK));
	dis_hex(text, sizeof(text), raw + n - FERNET_MAC_LEN, FERNET_MAC_LEN);
	dis_say(o, "    HMAC        %s", text);
}

/* The token (if one was being collected) ended: lay it out and look for the next. */
void
dis_token_end(const struct out *o, struct dis_side *s)
{
	struct dis_token *t = &s->token;

	if (t->prefix == FERNET_PREFIX_LEN) {
		if (dis_layers(o))
			token_show(o, t);
		dis_event(o, DIS_EV_TOKEN, t->len, "Fernet token", NULL);
	}
	t->prefix = 0;
	t->len = 0;
}

void
dis_token_byte(const struct out *o, struct dis_side *s, uint8_t c)
{
	struct dis_token *t = &s->token;

	if (t->prefix == FERNET_PREFIX_LEN) {
		if (is_b64url(c) || c == '=') {
			if (t->len < DIS_TOKEN_MAX)
				t->text[t->len] = (char)c;
			t->len++;
			return;
		}
		dis_token_end(o, s);
	}
	/* 'g' occurs only first in the prefix, so a mismatch restarts at 'g' or nothing. */
	if (c == (uint8_t)FERNET_PREFIX[t->prefix]) {
		if (++t->prefix == FERNET_PREFIX_LEN) {
			memcpy(t->text, FERNET_PREFIX, FERNET_PREFIX_LEN);
			t->len = FERNET_PREFIX_LEN;
		}
	} else {
		t->prefix = c == 'g';
	}
}
