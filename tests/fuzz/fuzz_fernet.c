/*
 * fuzz_fernet: the Fernet key and token readers (common/fernet.c, common/b64url.c): what the
 * client does with SECRET_KEY and with a body from a server it may not trust.
 *
 * Byte 0 of the input picks what the rest is:
 *   0  key text: fernet_key_parse and fernet_keys_parse. A key accepted is the canonical
 *      base64 of its 32 bytes (formatting it gives back the trimmed text); a failure leaves
 *      the keys zeroed and a one-line message without line breaks.
 *   1  token text, opened with a fixed key: an accepted token re-encrypts, with its own time
 *      and IV, to exactly the same text (only canonical tokens open), and every refusal is
 *      FERNET_EINVALID.
 *   2  the decoded token bytes (version, time, IV, ciphertext) with a correct HMAC appended
 *      by the harness, so the fuzzer gets past the MAC to the lengths, the padding check and
 *      the plaintext copy, which a forger can never reach but a holder of the key (or a bug
 *      in our own encoder) can. Same invariants, plus: the plaintext never exceeds cap.
 *   3  a plaintext: encrypt, decrypt (same bytes back), then alter one character of the token
 *      (position and value from the input): it must no longer open.
 *
 * Everywhere, the prepared-key calls (fernet_ctx_*, one ctx for the whole run) give exactly what
 * the one-shot calls give: return code, detail, bytes. And b64url_decode, which decides in one
 * pass, refuses exactly what b64url_check refuses, with the same code.
 */
#include <stdint.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "b64url.h"
#include "fernet.h"
#include "fuzz.h"

#define NOW 1700000000ULL

/* The fernet/spec example key, so corpus tokens made by Python with it open. */
static const char KEY_TEXT[] = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
static struct fernet_key key;
static struct fernet_ctx kctx;

static int
zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trimmed(const char **p, size_t *n)
{
	while (*n > 0 && is_space(**p))
		(*p)++, (*n)--;
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

/* The one-pass decoder and the diagnosing check agree on every text. */
static void
decode_agrees(const char *text, size_t len)
{
	static unsigned char out[FERNET_MAX_TOKEN];
	size_t declen = 0, outlen = 0;
	int want = b64url_check(text, len, &declen, NULL);
	int got = b64url_decode(text, len, out, sizeof(out), &outlen);

	if (want == 0 && declen > sizeof(out))
		want = B64URL_ENOSPACE;
	FUZZ_CHECK(got == want);
	FUZZ_CHECK(got != 0 || outlen == declen);
}

static void
keys_text(const uint8_t *data, size_t size)
{
	struct fernet_key k, keys[FERNET_MAX_KEYS];
	char out[FERNET_KEY_B64_LEN + 1], err[160], *text;
	const char *p = (const char *)data;
	size_t n = size, count = 0;
	int rc;

	decode_agrees(p, n);
	memset(&k, 0xa5, sizeof(k));
	rc = fernet_key_parse(p, n, &k);
	FUZZ_CHECK(rc == 0 || rc == FERNET_EKEYEMPTY || rc == FERNET_EKEYBASE64 ||
		   rc == FERNET_EKEYLENGTH);
	if (rc == 0) {
		fernet_key_format(&k, out);
		trimmed(&p, &n);
		FUZZ_CHECK(n == FERNET_KEY_B64_LEN && memcmp(out, p, n) == 0);
	} else {
		FUZZ_CHECK(zeroed(&k, sizeof(k)));
	}

	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(keys, 0xa5, sizeof(keys));
	memset(err, 0, sizeof(err));
	rc = fernet_keys_parse(text, keys, FERNET_MAX_KEYS, &count, err, sizeof(err));
	if (rc == 0) {
		const char *s = text;

		FUZZ_CHECK(count >= 1 && count <= FERNET_MAX_KEYS);
		/* Each comma-separated element is exactly the canonical text of its key. */
		for (size_t i = 0; i < count; i++) {
			const char *end = strchr(s, ',');
			size_t len = end ? (size_t)(end - s) : strlen(s);
			const char *e = s;

			trimmed(&e, &len);
			fernet_key_format(&keys[i], out);
			FUZZ_CHECK(len == FERNET_KEY_B64_LEN && memcmp(out, e, len) == 0);
			s = end ? end + 1 : s + strlen(s);
		}
	} else {
		FUZZ_CHECK(rc == FERNET_EKEYEMPTY || rc == FERNET_EKEYBASE64 ||
			   rc == FERNET_EKEYLENGTH || rc == FERNET_ETOOMANYKEYS);
		/* Every failure zeroes the keys, FERNET_ETOOMANYKEYS too
		 * (tests/unit/test_regress_fuzz.c, keys_parse_too_many_zeroes). */
		FUZZ_CHECK(zeroed(keys, sizeof(keys)));
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL);
	}
	free(text);
}

/* An accepted token must be exactly what our encoder makes of its plaintext, time and IV. */
static void
check_opened(const char *token, size_t toklen, const unsigned char *pt, size_t ptlen)
{
	static unsigned char raw[FERNET_MAX_TOKEN];
	static char again[FERNET_MAX_TOKEN + 4];
	size_t rawlen = 0, againlen = 0;
	uint64_t ts = 0;

	FUZZ_CHECK(ptlen <= FERNET_MAX_MSG);
	FUZZ_CHECK(b64url_decode(token, toklen, raw, sizeof(raw), &rawlen) == 0);
	FUZZ_CHECK(rawlen == FERNET_RAW_LEN(ptlen) && raw[0] == 0x80);
	for (int i = 1; i <= 8; i++)
		ts = ts << 8 | raw[i];
	FUZZ_CHECK(fernet_encrypt(&key, ts, raw + 9, pt, ptlen, again, sizeof(again), &againlen) ==
		   0);
	FUZZ_CHECK(againlen == toklen && memcmp(again, token, toklen) == 0);
	FUZZ_CHECK(fernet_ctx_encrypt(&kctx, ts, raw + 9, pt, ptlen, again, sizeof(again),
				      &againlen) == 0);
	FUZZ_CHECK(againlen == toklen && memcmp(again, token, toklen) == 0);
}

static void
open_token(const char *token, size_t toklen, int64_t ttl, size_t cap)
{
	static unsigned char out[FERNET_MAX_MSG + 64], out2[FERNET_MAX_MSG + 64];
	struct fernet_detail d, d2;
	size_t outlen = (size_t)-1, outlen2 = (size_t)-1;
	int rc, rc2;

	FUZZ_CHECK(cap <= sizeof(out));
	rc = fernet_decrypt_detail(&key, 1, token, toklen, NOW, ttl, out, cap, &outlen, &d);
	FUZZ_CHECK(rc == 0 || rc == FERNET_EINVALID || rc == FERNET_ENOSPACE);
	FUZZ_CHECK((rc == 0 || rc == FERNET_ENOSPACE) == (d.why == FERNET_WHY_OK));
	rc2 = fernet_ctx_decrypt_detail(&kctx, 1, token, toklen, NOW, ttl, out2, cap, &outlen2,
					&d2);
	FUZZ_CHECK(rc2 == rc && d2.why == d.why && d2.key == d.key && d2.timestamp == d.timestamp);
	if (rc == 0) {
		FUZZ_CHECK(outlen <= cap);
		FUZZ_CHECK(outlen2 == outlen && memcmp(out2, out, outlen) == 0);
		check_opened(token, toklen, out, outlen);
	}
	decode_agrees(token, toklen);
	if (d.why != FERNET_WHY_BASE64 && d.why != FERNET_WHY_LENGTH) {
		size_t declen = 0;

		FUZZ_CHECK(b64url_check(token, toklen, &declen, NULL) == 0);
	}
}

/* Raw token bytes from the fuzzer, with the HMAC a key holder would append. */
static void
forged(const uint8_t *data, size_t size)
{
	static unsigned char raw[FERNET_MAX_TOKEN];
	static char token[FERNET_MAX_TOKEN + 8];
	size_t toklen = 0, cap;
	int64_t ttl;
	Hmac h;

	if (size < 2 || size - 2 + 32 > FERNET_MAX_TOKEN / 4 * 3)
		return;
	/* data[0]: ttl (0: none); data[1]: the room for the plaintext, in 32-byte steps. */
	ttl = data[0] & 0x80 ? (int64_t)(data[0] & 0x7f) * 1000 : 0;
	cap = (size_t)data[1] * 32;
	if (cap > FERNET_MAX_MSG + 64)
		cap = FERNET_MAX_MSG + 64;
	memcpy(raw, data + 2, size - 2);
	FUZZ_CHECK(wc_HmacInit(&h, NULL, INVALID_DEVID) == 0);
	FUZZ_CHECK(wc_HmacSetKey(&h, WC_SHA256, key.sign, 16) == 0);
	FUZZ_CHECK(wc_HmacUpdate(&h, raw, (word32)(size - 2)) == 0);
	FUZZ_CHECK(wc_HmacFinal(&h, raw + size - 2) == 0);
	wc_HmacFree(&h);
	FUZZ_CHECK(b64url_encode(raw, size - 2 + 32, token, sizeof(token), &toklen) == 0);
	open_token(token, toklen, ttl, cap);
}

static void
roundtrip(const uint8_t *data, size_t size)
{
	static char token[FERNET_MAX_TOKEN + 8], token2[FERNET_MAX_TOKEN + 8];
	static unsigned char out[FERNET_MAX_MSG];
	static const unsigned char iv[16] = "0123456789abcdef";
	struct fuzz_rng rng;
	size_t toklen = 0, outlen = 0, at;
	char was, now;

	if (size > FERNET_MAX_MSG)
		return;
	FUZZ_CHECK(fernet_encrypt(&key, NOW, iv, data, size, token, sizeof(token), &toklen) == 0);
	FUZZ_CHECK(toklen == fernet_token_len(size));
	FUZZ_CHECK(fernet_ctx_encrypt(&kctx, NOW, iv, data, size, token2, sizeof(token2),
				      &outlen) == 0);
	FUZZ_CHECK(outlen == toklen && memcmp(token2, token, toklen) == 0);
	FUZZ_CHECK(fernet_decrypt(&key, token, toklen, NOW, 60, out, sizeof(out), &outlen) == 0);
	FUZZ_CHECK(outlen == size && (size == 0 || memcmp(out, data, size) == 0));
	FUZZ_CHECK(fernet_ctx_decrypt(&kctx, token, toklen, NOW, 60, out, sizeof(out), &outlen) ==
		   0);
	FUZZ_CHECK(outlen == size && (size == 0 || memcmp(out, data, size) == 0));
	fuzz_rng_seed(&rng, data, size, 3);
	at = (size_t)(fuzz_rng_next(&rng) % toklen);
	was = token[at];
	now = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="[fuzz_rng_next(
											  &rng) %
										  65];
	if (now == was)
		return;
	token[at] = now;
	FUZZ_CHECK(fernet_decrypt(&key, token, toklen, NOW, 0, out, sizeof(out), &outlen) ==
		   FERNET_EINVALID);
	FUZZ_CHECK(fernet_ctx_decrypt(&kctx, token, toklen, NOW, 0, out, sizeof(out), &outlen) ==
		   FERNET_EINVALID);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		FUZZ_CHECK(fernet_key_parse(KEY_TEXT, sizeof(KEY_TEXT) - 1, &key) == 0);
		/* Never freed: it lives as long as the process, as the server's does. */
		FUZZ_CHECK(fernet_ctx_init(&kctx, &key) == 0);
		ready = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0: keys_text(data + 1, size - 1); break;
	case 1:
		open_token((const char *)data + 1, size - 1, data[0] & 4 ? 60 : 0, FERNET_MAX_MSG);
		break;
	case 2: forged(data + 1, size - 1); break;
	default: roundtrip(data + 1, size - 1); break;
	}
	return 0;
}
