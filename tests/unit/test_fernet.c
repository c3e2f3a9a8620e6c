/*
 * Fernet and strict URL-safe base64: the fernet/spec vectors (generate, verify, invalid),
 * tokens made by Python cryptography 38.0.4, tampering with every bit and every character,
 * strict base64, keys and SECRET_KEY lists, MultiFernet, TTL and clock skew, limits, and the
 * same through prepared keys (struct fernet_ctx).
 *
 * Run from the repository root; SQUIRREL_VECTORS (default tests/vectors) holds
 * fernet/{generate,verify,invalid}.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "b64url.h"
#include "fernet.h"
#include "fs.h"

#define SPEC_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

/* ---- a reader for exactly the spec's JSON: an array of flat objects ------------------------ */

#define JCASES_MAX 16

struct jcase {
	char token[256], now[40], secret[64], src[64], desc[80];
	unsigned char iv[16];
	size_t niv;
	long ttl;
	int has_ttl;
};

struct jcur {
	const char *p, *end;
};

static void
j_ws(struct jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
		c->p++;
}

static int
j_eat(struct jcur *c, char ch)
{
	j_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A string with the escapes these files could hold; anything else fails the test. */
static int
j_string(struct jcur *c, char *buf, size_t cap)
{
	size_t n = 0;

	if (!j_eat(c, '"'))
		return 0;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;

		if (ch == '\\') {
			if (c->p >= c->end)
				return 0;
			ch = *c->p++;
			if (ch == 'n')
				ch = '\n';
			else if (ch != '"' && ch != '\\' && ch != '/')
				return 0;
		}
		if (n + 1 >= cap)
			return 0;
		buf[n++] = ch;
	}
	if (c->p >= c->end)
		return 0;
	c->p++;
	buf[n] = '\0';
	return 1;
}

static int
j_int(struct jcur *c, long *v)
{
	char *endp;

	j_ws(c);
	if (c->p >= c->end || !(*c->p == '-' || (*c->p >= '0' && *c->p <= '9')))
		return 0;
	*v = strtol(c->p, &endp, 10);
	if (endp > c->end)
		return 0;
	c->p = endp;
	return 1;
}

static int
j_case(struct jcur *c, struct jcase *jc)
{
	char key[32];

	memset(jc, 0, sizeof(*jc));
	if (!j_eat(c, '{'))
		return 0;
	do {
		if (!j_string(c, key, sizeof(key)) || !j_eat(c, ':'))
			return 0;
		if (strcmp(key, "token") == 0) {
			if (!j_string(c, jc->token, sizeof(jc->token)))
				return 0;
		} else if (strcmp(key, "now") == 0) {
			if (!j_string(c, jc->now, sizeof(jc->now)))
				return 0;
		} else if (strcmp(key, "secret") == 0) {
			if (!j_string(c, jc->secret, sizeof(jc->secret)))
				return 0;
		} else if (strcmp(key, "src") == 0) {
			if (!j_string(c, jc->src, sizeof(jc->src)))
				return 0;
		} else if (strcmp(key, "desc") == 0) {
			if (!j_string(c, jc->desc, sizeof(jc->desc)))
				return 0;
		} else if (strcmp(key, "ttl_sec") == 0) {
			if (!j_int(c, &jc->ttl))
				return 0;
			jc->has_ttl = 1;
		} else if (strcmp(key, "iv") == 0) {
			long v;

			if (!j_eat(c, '['))
				return 0;
			do {
				if (jc->niv >= 16 || !j_int(c, &v) || v < 0 || v > 255)
					return 0;
				jc->iv[jc->niv++] = (unsigned char)v;
			} while (j_eat(c, ','));
			if (!j_eat(c, ']'))
				return 0;
		} else {
			return 0;
		}
	} while (j_eat(c, ','));
	return j_eat(c, '}');
}

/* Load tests/vectors/fernet/<name> into cases; fails the test on any surprise. */
static size_t
load_cases(const char *name, struct jcase *cases)
{
	static char text[65536];
	const char *dir = getenv("SQUIRREL_VECTORS");
	char path[512];
	struct jcur c;
	size_t len = 0, n = 0;

	snprintf(path, sizeof(path), "%s/fernet/%s", dir && *dir ? dir : "tests/vectors", name);
	if (fs_read(path, text, sizeof(text), &len) != 0)
		fail_msg("cannot read %s (run from the repository root or set SQUIRREL_VECTORS)",
			 path);
	c.p = text;
	c.end = text + len;
	assert_true(j_eat(&c, '['));
	do {
		assert_true(n < JCASES_MAX);
		if (!j_case(&c, &cases[n]))
			fail_msg("%s: case %zu is not in the expected format", path, n + 1);
		n++;
	} while (j_eat(&c, ','));
	assert_true(j_eat(&c, ']'));
	j_ws(&c);
	assert_true(c.p == c.end);
	return n;
}

/* RFC 3339 "1985-10-26T01:20:00-07:00" to seconds since the epoch. */
static uint64_t
rfc3339(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, oh, om;
	char sign;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &y, &mo, &d, &h, &mi, &sec, &sign, &oh,
		   &om) != 9 ||
	    (sign != '+' && sign != '-'))
		fail_msg("bad time '%s'", s);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	t -= (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	return (uint64_t)t;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void
key_from(const char *text, struct fernet_key *k)
{
	assert_int_equal(fernet_key_parse(text, strlen(text), k), 0);
}

static int
open_token(const struct fernet_key *k, const char *tok, size_t len, uint64_t now, int64_t ttl,
	   int *why)
{
	unsigned char out[FERNET_MAX_MSG];
	struct fernet_detail d;
	size_t outlen = 0;
	int ret;

	ret = fernet_decrypt_detail(k, 1, tok, len, now, ttl, out, sizeof(out), &outlen, &d);
	if (why)
		*why = d.why;
	return ret;
}

/* ---- the fernet/spec vectors --------------------------------------------------------------- */

static void
test_spec_generate(void **state)
{
	struct jcase cases[JCASES_MAX];
	size_t n = load_cases("generate.json", cases);

	(void)state;
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		struct fernet_key k;
		char tok[512];
		size_t toklen = 0;

		assert_int_equal(cases[i].niv, 16);
		key_from(cases[i].secret, &k);
		assert_int_equal(fernet_encrypt(&k, rfc3339(cases[i].now), cases[i].iv,
						cases[i].src, strlen(cases[i].src), tok,
						sizeof(tok), &toklen),
				 0);
		assert_int_equal(toklen, strlen(cases[i].token));
		assert_memory_equal(tok, cases[i].token, toklen);
	}
}

static void
test_spec_verify(void **state)
{
	struct jcase cases[JCASES_MAX];
	size_t n = load_cases("verify.json", cases);

	(void)state;
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		struct fernet_key k;
		char out[64];
		size_t outlen = 0;

		assert_true(cases[i].has_ttl);
		key_from(cases[i].secret, &k);
		assert_int_equal(fernet_decrypt(&k, cases[i].token, strlen(cases[i].token),
						rfc3339(cases[i].now), cases[i].ttl, out,
						sizeof(out), &outlen),
				 0);
		assert_int_equal(outlen, strlen(cases[i].src));
		assert_memory_equal(out, cases[i].src, outlen);
	}
}

static void
test_spec_invalid(void **state)
{
	/* What each case is about, so a token refused for the wrong reason is noticed. */
	static const struct {
		const char *desc;
		int why;
	} expect[] = {
		{.desc = "incorrect mac", .why = FERNET_WHY_MAC},
		{.desc = "too short", .why = FERNET_WHY_LENGTH},
		{.desc = "invalid base64", .why = FERNET_WHY_BASE64},
		{.desc = "payload size not multiple of block size", .why = FERNET_WHY_LENGTH},
		{.desc = "payload padding error", .why = FERNET_WHY_PADDING},
		{.desc = "far-future TS (unacceptable clock skew)", .why = FERNET_WHY_FUTURE},
		{.desc = "expired TTL", .why = FERNET_WHY_EXPIRED},
		{.desc = "incorrect IV (causes padding error)", .why = FERNET_WHY_PADDING},
	};
	struct jcase cases[JCASES_MAX];
	size_t n = load_cases("invalid.json", cases);

	(void)state;
	assert_int_equal(n, sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < n; i++) {
		struct fernet_key k;
		int why = -1;
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(cases[i].desc, expect[j].desc) == 0)
				break;
		if (j == n)
			fail_msg("unexpected case '%s'", cases[i].desc);
		key_from(cases[i].secret, &k);
		assert_int_equal(open_token(&k, cases[i].token, strlen(cases[i].token),
					    rfc3339(cases[i].now), cases[i].ttl, &why),
				 FERNET_EINVALID);
		if (why != expect[j].why)
			fail_msg("'%s': refused as '%s', expected '%s'", cases[i].desc,
				 fernet_why_str(why), fernet_why_str(expect[j].why));
	}
}

/* ---- tokens made by the reference ---------------------------------------------------------- */

/*
 * Python cryptography 38.0.4, Fernet(urlsafe_b64encode(bytes(range(32))))._encrypt_from_parts(
 * msg, 1700000000, bytes(range(0xf0, 0x100))) with msg[i] = (i * 37 + 11) & 0xff: every
 * padding class of the base64 ("==", "=", none) and of PKCS#7 (1 byte to a whole block).
 */
#define REF_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define REF_TIME 1700000000u
static const struct {
	size_t len;
	const char *token;
} ref_tokens[] = {
	{.len = 0,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-_7YjB8BYCkvuVQR6H0hcrNrWl5DmffpV_bxouaz4FgS2UX1criHyX5bJ"
		 "gJutH7FF9A=="},
	{.len = 1,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-_ywbkFLPgPWnq0-aD0WxwSGjmpci0PqaumuBvoBQg0pIsKH3gzNEDJuH"
		 "oIJSUpB0dw=="},
	{.len = 2,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-_7_XaZ-bUXNfZN_L_Yl8C-dVAsKuUEACT0l1uEk7nRmAy-1fWxKMD1bZ"
		 "7vG2zlAiuA=="},
	{.len = 15,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-_44KGvF1gPfkCEWS6e-uR0_TNF01nrEdS771JGrnltrpLBeoZDLet6L_"
		 "baI3KfocVw=="},
	{.len = 16,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iXBfGkRUeXzcZTBgbc0GHsZX7ixpJHiBKOW"
		 "ysSsnDoM6QhATNAXocI5FN_fXCMPkGE="},
	{.len = 17,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iUZbb0vBbbCRb4070vOBXGuGCjIR8CW03Kq"
		 "JAMJtr2-Smyx-xQi2_dAajzC3Xfl7_c="},
	{.len = 31,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iUgNY5l7mzJtRtc3YZ5XDsrTBCMRAYaAmJD"
		 "Wk0vz5ARawheaDgqTo_PSTRidrl2rhw="},
	{.len = 32,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iXwLdnJRHhSx8r0ylmcMdZ1ih8uZi91HF1p"
		 "9LkuuAE-MAb_agYxNUFX6zOaqQhpw0DPaQHQ0fyUq1DlDdzAyUqu"},
	{.len = 33,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iXwLdnJRHhSx8r0ylmcMdZ1PqYhRDxeJfDq"
		 "kv486kFmpnWGH9HuQYcDazxQJwD5h7wiCGpdCyVnz3-YClwZIhLF"},
	{.len = 47,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iXwLdnJRHhSx8r0ylmcMdZ1Je3LMkc3_NLW"
		 "Dz8DHSbkBHphfBJi4LaA1rjxypziwFyFLN4gdZvFd6YveN9o8Vj0"},
	{.len = 48,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iXwLdnJRHhSx8r0ylmcMdZ17B5ec8lSGH6U"
		 "7XPtl-WTU8g4Ku_xy6ZFOrd8BQ60tgD8A_ig__RLMCMAxKvPhLdlJNHRFEIZK0wPWguZu2LKMQ=="},
	{.len = 49,
	 .token =
		 "gAAAAABlU_EA8PHy8_T19vf4-fr7_P3-__r16-zzD4LOgoylyone4iXwLdnJRHhSx8r0ylmcMdZ17B5ec8lSGH6U"
		 "7XPtl-WTU1Jmjtiyxz2RGCcAlTde9F-oZsa_dldGepBztqHmnUhE0wcCvYRm-3PMLqhSc90Qtw=="},
};

static const unsigned char ref_iv[16] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
					 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff};

static void
ref_msg(unsigned char *msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		msg[i] = (unsigned char)((i * 37 + 11) & 0xff);
}

static void
test_reference_tokens(void **state)
{
	struct fernet_key k;

	(void)state;
	key_from(REF_KEY, &k);
	for (size_t i = 0; i < sizeof(ref_tokens) / sizeof(ref_tokens[0]); i++) {
		const char *ref = ref_tokens[i].token;
		unsigned char msg[64], out[64];
		char tok[256];
		size_t len = ref_tokens[i].len, toklen = 0, outlen = 0;

		ref_msg(msg, len);
		assert_int_equal(fernet_token_len(len), strlen(ref));
		assert_int_equal(
			fernet_encrypt(&k, REF_TIME, ref_iv, msg, len, tok, sizeof(tok), &toklen),
			0);
		assert_int_equal(toklen, strlen(ref));
		assert_memory_equal(tok, ref, toklen);
		assert_int_equal(fernet_decrypt(&k, ref, strlen(ref), REF_TIME + 30, 60, out,
						sizeof(out), &outlen),
				 0);
		assert_int_equal(outlen, len);
		if (len)
			assert_memory_equal(out, msg, len);
	}
}

/* ---- tampering ----------------------------------------------------------------------------- */

static void
test_tamper_every_bit(void **state)
{
	struct fernet_key k;
	unsigned char raw[256];
	char tok[512];
	size_t rawlen = 0, toklen = 0;

	(void)state;
	key_from(REF_KEY, &k);
	for (size_t t = 0; t < sizeof(ref_tokens) / sizeof(ref_tokens[0]); t += 5) {
		const char *ref = ref_tokens[t].token;

		assert_int_equal(b64url_decode(ref, strlen(ref), raw, sizeof(raw), &rawlen), 0);
		for (size_t i = 0; i < rawlen; i++) {
			for (int bit = 0; bit < 8; bit++) {
				int why = -1;

				raw[i] ^= (unsigned char)(1u << bit);
				assert_int_equal(
					b64url_encode(raw, rawlen, tok, sizeof(tok), &toklen), 0);
				/* No ttl: a changed timestamp must be caught by the MAC too. */
				assert_int_equal(open_token(&k, tok, toklen, REF_TIME, 0, &why),
						 FERNET_EINVALID);
				assert_int_equal(why, i == 0 ? FERNET_WHY_VERSION : FERNET_WHY_MAC);
				raw[i] ^= (unsigned char)(1u << bit);
			}
		}
	}
}

static void
test_tamper_every_char(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_=+/ \n.";
	struct fernet_key k;

	(void)state;
	key_from(REF_KEY, &k);
	for (size_t t = 0; t < sizeof(ref_tokens) / sizeof(ref_tokens[0]); t++) {
		char tok[256];
		size_t len = strlen(ref_tokens[t].token);

		memcpy(tok, ref_tokens[t].token, len);
		assert_int_equal(open_token(&k, tok, len, REF_TIME, 0, NULL), 0);
		for (size_t i = 0; i < len; i++) {
			char orig = tok[i];

			for (const char *a = alphabet; *a; a++) {
				if (*a == orig)
					continue;
				tok[i] = *a;
				assert_int_equal(open_token(&k, tok, len, REF_TIME, 0, NULL),
						 FERNET_EINVALID);
			}
			tok[i] = orig;
		}
		/* Every proper prefix, and one character more. */
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(open_token(&k, tok, cut, REF_TIME, 0, NULL),
					 FERNET_EINVALID);
		for (const char *a = alphabet; *a; a++) {
			tok[len] = *a;
			assert_int_equal(open_token(&k, tok, len + 1, REF_TIME, 0, NULL),
					 FERNET_EINVALID);
		}
	}
}

/* Make a token whose plaintext (already block-aligned) carries whatever padding we like. */
static size_t
forge(const struct fernet_key *k, const unsigned char *pt, size_t len, char *tok, size_t cap)
{
	unsigned char raw[256];
	size_t toklen = 0;
	Aes aes;
	Hmac h;

	assert_true(len % 16 == 0 && len + 57 <= sizeof(raw));
	memset(raw, 0, 9);
	raw[0] = 0x80;
	raw[8] = 1;
	memcpy(raw + 9, ref_iv, 16);
	assert_int_equal(wc_AesInit(&aes, NULL, INVALID_DEVID), 0);
	assert_int_equal(wc_AesSetKey(&aes, k->enc, 16, ref_iv, AES_ENCRYPTION), 0);
	assert_int_equal(wc_AesCbcEncrypt(&aes, raw + 25, pt, (word32)len), 0);
	wc_AesFree(&aes);
	assert_int_equal(wc_HmacInit(&h, NULL, INVALID_DEVID), 0);
	assert_int_equal(wc_HmacSetKey(&h, WC_SHA256, k->sign, 16), 0);
	assert_int_equal(wc_HmacUpdate(&h, raw, (word32)(25 + len)), 0);
	assert_int_equal(wc_HmacFinal(&h, raw + 25 + len), 0);
	wc_HmacFree(&h);
	assert_int_equal(b64url_encode(raw, 25 + len + 32, tok, cap, &toklen), 0);
	return toklen;
}

static void
test_padding(void **state)
{
	struct fernet_key k;
	unsigned char pt[32], out[32];
	char tok[256];
	size_t toklen, outlen = 0;
	int why = -1;

	(void)state;
	key_from(REF_KEY, &k);
	/* Valid: pad 1, pad 16 (a whole block), pad 5. */
	for (unsigned pad = 1; pad <= 16; pad++) {
		memset(pt, 'x', sizeof(pt));
		memset(pt + 32 - pad, (int)pad, pad);
		toklen = forge(&k, pt, 32, tok, sizeof(tok));
		assert_int_equal(fernet_decrypt(&k, tok, toklen, 1, 0, out, sizeof(out), &outlen),
				 0);
		assert_int_equal(outlen, 32 - pad);
	}
	/* Invalid: last byte 0, 17, 255; one wrong byte anywhere inside a long pad. */
	for (unsigned last = 0; last < 256; last++) {
		if (last >= 1 && last <= 16)
			continue;
		memset(pt, 'x', sizeof(pt));
		pt[31] = (unsigned char)last;
		toklen = forge(&k, pt, 32, tok, sizeof(tok));
		assert_int_equal(open_token(&k, tok, toklen, 1, 0, &why), FERNET_EINVALID);
		assert_int_equal(why, FERNET_WHY_PADDING);
	}
	for (unsigned pad = 2; pad <= 16; pad++) {
		for (unsigned wrong = 1; wrong < pad; wrong++) {
			memset(pt, 'x', sizeof(pt));
			memset(pt + 32 - pad, (int)pad, pad);
			pt[31 - wrong] ^= 0x40;
			toklen = forge(&k, pt, 32, tok, sizeof(tok));
			assert_int_equal(open_token(&k, tok, toklen, 1, 0, &why), FERNET_EINVALID);
			assert_int_equal(why, FERNET_WHY_PADDING);
		}
	}
}

/* ---- strict base64 ------------------------------------------------------------------------- */

static void
test_strict_token_base64(void **state)
{
	const char *ref = ref_tokens[0].token; /* ends "==" and holds both '-' and '_' */
	const char *one = ref_tokens[4].token; /* ends "=" */
	struct fernet_key k;
	char tok[300];
	size_t len = strlen(ref);
	int why = -1;

	(void)state;
	key_from(REF_KEY, &k);
	assert_non_null(strchr(ref, '-'));
	assert_non_null(strchr(ref, '_'));

	/* The standard alphabet, which Python's urlsafe_b64decode also takes. */
	for (size_t i = 0; i < len; i++)
		tok[i] = ref[i] == '-' ? '+' : ref[i] == '_' ? '/' : ref[i];
	assert_int_equal(open_token(&k, tok, len, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);

	/* Padding dropped, doubled, or followed by junk. */
	assert_int_equal(open_token(&k, ref, len - 2, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);
	snprintf(tok, sizeof(tok), "%s==", ref);
	assert_int_equal(open_token(&k, tok, len + 2, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);
	snprintf(tok, sizeof(tok), "%sAAAA", ref);
	assert_int_equal(open_token(&k, tok, len + 4, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);

	/* Whitespace around or inside, a NUL inside. */
	snprintf(tok, sizeof(tok), "%s\n", ref);
	assert_int_equal(open_token(&k, tok, len + 1, REF_TIME, 0, &why), FERNET_EINVALID);
	snprintf(tok, sizeof(tok), " %s", ref);
	assert_int_equal(open_token(&k, tok, len + 1, REF_TIME, 0, &why), FERNET_EINVALID);
	snprintf(tok, sizeof(tok), "%.40s\n%s", ref, ref + 40);
	assert_int_equal(open_token(&k, tok, len + 1, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);
	memcpy(tok, ref, len);
	tok[60] = '\0';
	assert_int_equal(open_token(&k, tok, len, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);

	/* Non-canonical: unused low bits of the last data character set ("A==" -> "B=="). */
	memcpy(tok, ref, len);
	assert_int_equal(tok[len - 3], 'A');
	tok[len - 3] = 'B';
	assert_int_equal(open_token(&k, tok, len, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);
	len = strlen(one);
	memcpy(tok, one, len);
	assert_int_equal(tok[len - 2], 'E');
	tok[len - 2] = 'F';
	assert_int_equal(open_token(&k, tok, len, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_BASE64);

	/* Empty. */
	assert_int_equal(open_token(&k, "", 0, REF_TIME, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_VERSION);
}

/* The token ends exactly at a PROT_NONE page: any read past its end crashes the test. */
static void
test_guard_page(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *ref = ref_tokens[5].token;
	size_t len = strlen(ref);
	struct fernet_key k;
	char *map;

	(void)state;
	key_from(REF_KEY, &k);
	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (size_t cut = 0; cut <= len; cut++) {
		char *at = map + page - cut;

		memcpy(at, ref, cut);
		assert_int_equal(open_token(&k, at, cut, REF_TIME, 60, NULL),
				 cut == len ? 0 : FERNET_EINVALID);
	}
	munmap(map, (size_t)page * 2);
}

static void
test_b64url_rfc4648_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} rfc4648[] = {
		{.in = "", .out = ""},
		{.in = "f", .out = "Zg=="},
		{.in = "fo", .out = "Zm8="},
		{.in = "foo", .out = "Zm9v"},
		{.in = "foob", .out = "Zm9vYg=="},
		{.in = "fooba", .out = "Zm9vYmE="},
		{.in = "foobar", .out = "Zm9vYmFy"},
		{.in = "\xfb\xff", .out = "-_8="},
	};
	unsigned char back[16];
	char text[16];
	size_t n = 0, m = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		size_t len = strlen(rfc4648[i].in);

		memset(text, '#', sizeof(text));
		assert_int_equal(b64url_encode(rfc4648[i].in, len, text, sizeof(text), &n), 0);
		assert_int_equal(n, strlen(rfc4648[i].out));
		assert_memory_equal(text, rfc4648[i].out, n);
		assert_int_equal(text[n], '#');
		memset(back, 0xaa, sizeof(back));
		assert_int_equal(b64url_decode(text, n, back, sizeof(back), &m), 0);
		assert_int_equal(m, len);
		assert_memory_equal(back, rfc4648[i].in, len);
		assert_int_equal(back[m], 0xaa);
	}
}

/* Round trips across wolfCrypt's slices (256 characters) and every padding class. */
static void
test_b64url_round_trips(void **state)
{
	unsigned char bin[800], back[801];
	char text[1100];
	size_t n = 0, m = 0;

	(void)state;
	for (size_t len = 0; len <= sizeof(bin); len += len < 70 ? 1 : 37) {
		for (size_t i = 0; i < len; i++)
			bin[i] = (unsigned char)(i * 131 + len);
		memset(text, '#', sizeof(text));
		assert_int_equal(b64url_encode(bin, len, text, sizeof(text), &n), 0);
		assert_int_equal(n, B64URL_ENCODED_LEN(len));
		assert_int_equal(text[n], '#');
		assert_null(memchr(text, '+', n));
		assert_null(memchr(text, '/', n));
		memset(back, 0xaa, sizeof(back));
		assert_int_equal(b64url_decode(text, n, back, len, &m), 0);
		assert_int_equal(m, len);
		if (len)
			assert_memory_equal(back, bin, len);
		assert_int_equal(back[len], 0xaa);
		if (len > 0)
			assert_int_equal(b64url_decode(text, n, back, len - 1, &m),
					 B64URL_ENOSPACE);
		if (len > 0)
			assert_int_equal(b64url_encode(bin, len, text, n - 1, &m), B64URL_ENOSPACE);
	}
}

static void
test_b64url_check_and_strerror(void **state)
{
	size_t n = 0, pos = 0;

	(void)state;
	assert_int_equal(b64url_check("Zm9v", 4, &n, &pos), 0);
	assert_int_equal(n, 3);
	assert_int_equal(b64url_check("Zm9", 3, &n, &pos), B64URL_ELENGTH);
	assert_int_equal(b64url_check("Zm+v", 4, &n, &pos), B64URL_ECHAR);
	assert_int_equal(pos, 2);
	assert_int_equal(b64url_check("Zm9v\n", 5, &n, &pos), B64URL_ECHAR);
	assert_int_equal(pos, 4);
	assert_int_equal(b64url_check("Zg==Zg==", 8, &n, &pos), B64URL_EPAD);
	assert_int_equal(pos, 2);
	assert_int_equal(b64url_check("Z===", 4, &n, &pos), B64URL_EPAD);
	assert_int_equal(b64url_check("====", 4, &n, &pos), B64URL_EPAD);
	assert_int_equal(b64url_check("Zh==", 4, &n, &pos), B64URL_EBITS);
	assert_int_equal(pos, 1);
	assert_int_equal(b64url_check("Zm9=", 4, &n, &pos), B64URL_EBITS);
	assert_int_equal(b64url_check("Zm8=", 4, &n, &pos), 0);
	assert_int_equal(n, 2);
	assert_string_equal(b64url_strerror(B64URL_EBITS),
			    "the last character has unused bits set (not canonical)");
	assert_string_equal(b64url_strerror(0), "unknown error");
	assert_string_equal(b64url_strerror(-100), "unknown error");
}

/*
 * wolfCrypt's base64, with the alphabet swapped, as an independent reference, both ways:
 * pseudo-random bytes of every length from 0 to 300 (every padding class, across the
 * 16-character blocks).
 */
static void
test_b64url_matches_wolfcrypt(void **state)
{
	unsigned char bin[300], back[300], ref[300];
	char text[B64URL_ENCODED_LEN(300) + 1];
	unsigned char std[sizeof(text)];
	uint32_t x = 12345;
	size_t n = 0, m = 0;

	(void)state;
	for (size_t len = 0; len <= sizeof(bin); len++) {
		word32 got = (word32)B64URL_ENCODED_LEN(len), reflen = sizeof(ref);

		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			bin[i] = (unsigned char)(len < 256 && i == len / 2 ? len : x >> 24);
		}
		assert_int_equal(b64url_encode(bin, len, text, sizeof(text), &n), 0);
		if (len == 0)
			continue;
		assert_int_equal(Base64_Encode_NoNl(bin, (word32)len, std, &got), 0);
		assert_int_equal(got, n);
		for (size_t i = 0; i < n; i++) {
			unsigned char want = std[i] == '+' ? '-' : std[i] == '/' ? '_' : std[i];

			if ((unsigned char)text[i] != want)
				fail_msg("length %zu, character %zu: '%c', wolfCrypt '%c'", len, i,
					 text[i], want);
		}
		assert_int_equal(b64url_decode(text, n, back, sizeof(back), &m), 0);
		assert_int_equal(Base64_Decode(std, got, ref, &reflen), 0);
		assert_int_equal(m, len);
		assert_int_equal(reflen, len);
		assert_memory_equal(back, bin, len);
		assert_memory_equal(ref, bin, len);
	}
}

/* ---- keys ---------------------------------------------------------------------------------- */

static void
test_key_parse(void **state)
{
	static const char *const spaced[] = {
		SPEC_KEY "\n",
		" " SPEC_KEY,
		"\t" SPEC_KEY " \r\n",
		"\r\n\r\n" SPEC_KEY "\n\n",
	};
	struct fernet_key want, k;

	(void)state;
	key_from(SPEC_KEY, &want);
	for (size_t i = 0; i < sizeof(spaced) / sizeof(spaced[0]); i++) {
		memset(&k, 0xee, sizeof(k));
		assert_int_equal(fernet_key_parse(spaced[i], strlen(spaced[i]), &k), 0);
		assert_memory_equal(&k, &want, sizeof(k));
	}
	/* Not NUL-terminated: only len counts. */
	assert_int_equal(fernet_key_parse(SPEC_KEY "XXXX", 44, &k), 0);
	assert_memory_equal(&k, &want, sizeof(k));

	/* Only space, tab, CR and LF are trimmed. */
	assert_int_equal(fernet_key_parse("+" SPEC_KEY, 45, &k), FERNET_EKEYBASE64);
	assert_int_equal(fernet_key_parse(SPEC_KEY "\v", 45, &k), FERNET_EKEYBASE64);
	assert_int_equal(fernet_key_parse(SPEC_KEY "\0", 45, &k), FERNET_EKEYBASE64);
	assert_int_equal(fernet_key_parse("", 0, &k), FERNET_EKEYEMPTY);
	assert_int_equal(fernet_key_parse(" \n\t\r", 4, &k), FERNET_EKEYEMPTY);
	/* Unpadded (Python refuses it too), the standard alphabet, whitespace inside. */
	assert_int_equal(fernet_key_parse(SPEC_KEY, 43, &k), FERNET_EKEYBASE64);
	assert_int_equal(fernet_key_parse("cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4=", 44, &k),
			 FERNET_EKEYBASE64);
	assert_int_equal(fernet_key_parse("cw_0x689RpI-jtRR7oE8h _eQsKImvJapLeSbXpwF4e4=", 45, &k),
			 FERNET_EKEYBASE64);
	/* "4=" -> "5=": unused bits set. */
	assert_int_equal(fernet_key_parse("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e5=", 44, &k),
			 FERNET_EKEYBASE64);
	/* 16 and 48 bytes. */
	assert_int_equal(fernet_key_parse("AAECAwQFBgcICQoLDA0ODw==", 24, &k), FERNET_EKEYLENGTH);
	assert_int_equal(fernet_key_parse(SPEC_KEY SPEC_KEY, 88, &k), FERNET_EKEYBASE64);
	assert_int_equal(
		fernet_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
				 "LS4v",
				 64, &k),
		FERNET_EKEYLENGTH);
	/* A failed parse leaves no key behind. */
	{
		static const struct fernet_key zero;

		assert_memory_equal(&k, &zero, sizeof(k));
	}
}

/* SECRET_KEY texts and the one message each gets. */
static const struct {
	const char *text;
	int ret;
	const char *err;
} key_messages[] = {
	{.text = "", .ret = FERNET_EKEYEMPTY, .err = "the key is empty"},
	{.text = "  \n", .ret = FERNET_EKEYEMPTY, .err = "the key is empty"},
	{.text = SPEC_KEY ",", .ret = FERNET_EKEYEMPTY, .err = "key 2 of 2 is empty"},
	{.text = SPEC_KEY ",," SPEC_KEY, .ret = FERNET_EKEYEMPTY, .err = "key 2 of 3 is empty"},
	{.text = "AAECAwQFBgcICQoLDA0ODw==",
	 .ret = FERNET_EKEYLENGTH,
	 .err = "the key decodes to 16 bytes instead of 32"},
	{.text = SPEC_KEY ", AAECAwQFBgcICQoLDA0ODw==",
	 .ret = FERNET_EKEYLENGTH,
	 .err = "key 2 of 2 decodes to 16 bytes instead of 32"},
	{.text = "cw/0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
	 .ret = FERNET_EKEYBASE64,
	 .err = "character 3 ('/') is not url-safe base64 (A-Z a-z 0-9 - _)"},
	{.text = SPEC_KEY ",cw_0x\t",
	 .ret = FERNET_EKEYBASE64,
	 .err = "key 2 of 2 is 5 characters long, not a multiple of 4 (a fernet key is 44 characters "
		"ending in '=')"},
	{.text = "cw_0x689RpI-jtRR7oE8h_eQsKI\x01vJapLeSbXpwF4e4=",
	 .ret = FERNET_EKEYBASE64,
	 .err = "character 28 (byte 0x01) is not url-safe base64 (A-Z a-z 0-9 - _)"},
	{.text = SPEC_KEY "," SPEC_KEY, .ret = 0, .err = ""},
	{.text = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e5=",
	 .ret = FERNET_EKEYBASE64,
	 .err = "character 43 has unused bits set (not canonical base64)"},
	{.text = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpw=F4e4",
	 .ret = FERNET_EKEYBASE64,
	 .err = "misplaced '=' at character 40"},
	{.text = "a,b,c,d,e,f,g,h,i",
	 .ret = FERNET_ETOOMANYKEYS,
	 .err = "9 keys given; at most 8 are allowed"},
};

static void
test_keys_parse_messages(void **state)
{
	struct fernet_key keys[FERNET_MAX_KEYS];

	(void)state;
	for (size_t i = 0; i < sizeof(key_messages) / sizeof(key_messages[0]); i++) {
		char err[200] = "";
		size_t n = 0;

		assert_int_equal(fernet_keys_parse(key_messages[i].text, keys, FERNET_MAX_KEYS, &n,
						   err, sizeof(err)),
				 key_messages[i].ret);
		assert_string_equal(err, key_messages[i].err);
		/* No key material in any message: nothing longer than one character of it. */
		assert_null(strstr(err, "cw_0"));
	}
	/* err may be NULL. */
	{
		size_t n;

		assert_int_equal(fernet_keys_parse("x", keys, FERNET_MAX_KEYS, &n, NULL, 0),
				 FERNET_EKEYBASE64);
	}
}

static void
test_keys_rotation(void **state)
{
	struct fernet_key keys[FERNET_MAX_KEYS], k1, k2, k3;
	char list[4 * (FERNET_KEY_B64_LEN + 4)], t1[FERNET_KEY_B64_LEN + 1],
		t2[FERNET_KEY_B64_LEN + 1], t3[FERNET_KEY_B64_LEN + 1];
	char tok[256], out[64];
	size_t n = 0, toklen = 0, outlen = 0;
	struct fernet_detail d;

	(void)state;
	assert_int_equal(fernet_key_generate(&k1), 0);
	assert_int_equal(fernet_key_generate(&k2), 0);
	assert_int_equal(fernet_key_generate(&k3), 0);
	fernet_key_format(&k1, t1);
	fernet_key_format(&k2, t2);
	fernet_key_format(&k3, t3);
	snprintf(list, sizeof(list), " %s ,\n%s,%s\n", t1, t2, t3);
	assert_int_equal(fernet_keys_parse(list, keys, FERNET_MAX_KEYS, &n, NULL, 0), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(&keys[0], &k1, sizeof(k1));
	assert_memory_equal(&keys[1], &k2, sizeof(k2));
	assert_memory_equal(&keys[2], &k3, sizeof(k3));

	/* A token from a member still on the old key opens with the list; d.key says which. */
	assert_int_equal(
		fernet_encrypt(&k2, 100, ref_iv, "fluffy tail", 11, tok, sizeof(tok), &toklen), 0);
	assert_int_equal(
		fernet_decrypt_detail(keys, n, tok, toklen, 100, 60, out, sizeof(out), &outlen, &d),
		0);
	assert_int_equal(d.key, 1);
	assert_int_equal(d.why, FERNET_WHY_OK);
	assert_int_equal(d.timestamp, 100);
	assert_int_equal(outlen, 11);
	assert_memory_equal(out, "fluffy tail", 11);
	assert_int_equal(
		fernet_decrypt_any(keys, n, tok, toklen, 100, 0, out, sizeof(out), &outlen), 0);
	/* Without that key: refused; with the old key only: opened. */
	keys[1] = k3;
	assert_int_equal(
		fernet_decrypt_detail(keys, 2, tok, toklen, 100, 0, out, sizeof(out), &outlen, &d),
		FERNET_EINVALID);
	assert_int_equal(d.why, FERNET_WHY_MAC);
	assert_int_equal(fernet_decrypt_any(&k2, 1, tok, toklen, 100, 0, out, sizeof(out), &outlen),
			 0);
	assert_int_equal(
		fernet_decrypt_any(keys, 0, tok, toklen, 100, 0, out, sizeof(out), &outlen),
		FERNET_EINVALID);
	/* Exactly FERNET_MAX_KEYS is fine. */
	snprintf(list, sizeof(list), "%s,%s,%s,%s", t1, t1, t1, t1);
	assert_int_equal(fernet_keys_parse(list, keys, 4, &n, NULL, 0), 0);
	assert_int_equal(n, 4);
	assert_int_equal(fernet_keys_parse(list, keys, 3, &n, NULL, 0), FERNET_ETOOMANYKEYS);
}

static void
test_key_generate_format(void **state)
{
	struct fernet_key a, b, back;
	char ta[FERNET_KEY_B64_LEN + 1], tb[FERNET_KEY_B64_LEN + 1];

	(void)state;
	assert_int_equal(fernet_key_generate(&a), 0);
	assert_int_equal(fernet_key_generate(&b), 0);
	assert_memory_not_equal(&a, &b, sizeof(a));
	fernet_key_format(&a, ta);
	fernet_key_format(&b, tb);
	assert_int_equal(strlen(ta), FERNET_KEY_B64_LEN);
	assert_int_equal(ta[43], '=');
	assert_int_equal(
		strspn(ta, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(ta, tb);
	assert_int_equal(fernet_key_parse(ta, strlen(ta), &back), 0);
	assert_memory_equal(&back, &a, sizeof(a));
	key_from(SPEC_KEY, &back);
	fernet_key_format(&back, ta);
	assert_string_equal(ta, SPEC_KEY);
}

/* ---- time ---------------------------------------------------------------------------------- */

static void
test_ttl_and_skew(void **state)
{
	const uint64_t t = 1000000;
	struct fernet_key k;
	char tok[256];
	size_t toklen = 0;
	int why = -1;

	(void)state;
	key_from(SPEC_KEY, &k);
	assert_int_equal(fernet_encrypt(&k, t, ref_iv, "x", 1, tok, sizeof(tok), &toklen), 0);
	/* Expired only when timestamp + ttl < now. */
	assert_int_equal(open_token(&k, tok, toklen, t + 60, 60, NULL), 0);
	assert_int_equal(open_token(&k, tok, toklen, t + 61, 60, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_EXPIRED);
	/* Up to 60 s in the future is clock skew; 61 s is refused. */
	assert_int_equal(open_token(&k, tok, toklen, t - 60, 60, NULL), 0);
	assert_int_equal(open_token(&k, tok, toklen, t - 61, 60, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_FUTURE);
	assert_int_equal(open_token(&k, tok, toklen, t - 61, 3600, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_FUTURE);
	/* ttl <= 0: no time check at all, as the reference without a ttl. */
	assert_int_equal(open_token(&k, tok, toklen, t + 100000000, 0, NULL), 0);
	assert_int_equal(open_token(&k, tok, toklen, 0, 0, NULL), 0);
	assert_int_equal(open_token(&k, tok, toklen, 0, -5, NULL), 0);
	/* An expired token with a bad MAC is still "expired": time is checked first, as there. */
	tok[toklen - 5] = tok[toklen - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(open_token(&k, tok, toklen, t + 61, 60, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_EXPIRED);

	/* Extremes: no sum may wrap. */
	assert_int_equal(fernet_encrypt(&k, UINT64_MAX, ref_iv, "x", 1, tok, sizeof(tok), &toklen),
			 0);
	assert_int_equal(open_token(&k, tok, toklen, 1000, 60, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_FUTURE);
	assert_int_equal(open_token(&k, tok, toklen, UINT64_MAX, INT64_MAX, NULL), 0);
	assert_int_equal(open_token(&k, tok, toklen, UINT64_MAX - 60, 60, NULL), 0);
	assert_int_equal(fernet_encrypt(&k, 0, ref_iv, "x", 1, tok, sizeof(tok), &toklen), 0);
	assert_int_equal(open_token(&k, tok, toklen, UINT64_MAX, INT64_MAX, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_EXPIRED);
	assert_int_equal(open_token(&k, tok, toklen, 5, INT64_MAX, NULL), 0);
}

/* ---- limits -------------------------------------------------------------------------------- */

static void
test_limits(void **state)
{
	static unsigned char msg[FERNET_MAX_MSG + 1], out[FERNET_MAX_MSG + 1];
	static char tok[FERNET_MAX_TOKEN + 16];
	struct fernet_key k;
	size_t toklen = 0, outlen = 0;
	int why = -1;

	(void)state;
	key_from(SPEC_KEY, &k);
	assert_int_equal(FERNET_MAX_TOKEN, 5560);
	assert_int_equal(fernet_token_len(0), 100);
	assert_int_equal(fernet_token_len(11), 100);
	assert_int_equal(fernet_token_len(16), 120);
	for (size_t len = 0; len <= 64; len++) {
		assert_int_equal(fernet_encrypt(&k, 1, ref_iv, msg, len, tok, sizeof(tok), &toklen),
				 0);
		assert_int_equal(toklen, fernet_token_len(len));
	}
	memset(msg, 'm', sizeof(msg));
	memset(tok, '#', sizeof(tok));
	assert_int_equal(
		fernet_encrypt(&k, 1, ref_iv, msg, FERNET_MAX_MSG, tok, FERNET_MAX_TOKEN, &toklen),
		0);
	assert_int_equal(toklen, FERNET_MAX_TOKEN);
	assert_int_equal(tok[FERNET_MAX_TOKEN], '#');
	assert_int_equal(fernet_decrypt(&k, tok, toklen, 1, 0, out, FERNET_MAX_MSG, &outlen), 0);
	assert_int_equal(outlen, FERNET_MAX_MSG);
	assert_memory_equal(out, msg, FERNET_MAX_MSG);
	/* A valid token, a buffer one byte short. */
	assert_int_equal(fernet_decrypt(&k, tok, toklen, 1, 0, out, FERNET_MAX_MSG - 1, &outlen),
			 FERNET_ENOSPACE);

	assert_int_equal(
		fernet_encrypt(&k, 1, ref_iv, msg, FERNET_MAX_MSG + 1, tok, sizeof(tok), &toklen),
		FERNET_ETOOLONG);
	memset(tok, '#', sizeof(tok));
	assert_int_equal(fernet_encrypt(&k, 1, ref_iv, msg, 11, tok, 99, &toklen), FERNET_ENOSPACE);
	assert_int_equal(tok[0], '#');
	/* Longer than any token we make: refused before decoding. */
	memset(tok, 'A', sizeof(tok));
	memcpy(tok, "gAAAAAAA", 8);
	assert_int_equal(open_token(&k, tok, FERNET_MAX_TOKEN + 4, 1, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_LENGTH);
	/* 5560 characters, but decoding to 4170 bytes: not whole blocks. */
	assert_int_equal(open_token(&k, tok, FERNET_MAX_TOKEN, 1, 0, &why), FERNET_EINVALID);
	assert_int_equal(why, FERNET_WHY_LENGTH);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(fernet_strerror(FERNET_EINVALID), "invalid token");
	assert_string_equal(fernet_strerror(FERNET_EKEYLENGTH),
			    "the key does not decode to 32 bytes");
	for (int code = -1; code >= FERNET_ECRYPTO; code--)
		assert_string_not_equal(fernet_strerror(code), "unknown error");
	assert_string_equal(fernet_strerror(0), "unknown error");
	assert_string_equal(fernet_strerror(-9), "unknown error");
	assert_string_equal(fernet_strerror(1), "unknown error");
	for (int why = FERNET_WHY_OK; why <= FERNET_WHY_PADDING; why++)
		assert_string_not_equal(fernet_why_str(why), "unknown");
	assert_string_equal(fernet_why_str(8), "unknown");
	assert_string_equal(fernet_why_str(-1), "unknown");
}

/* IVs from the batch: all different over several refills, and each batch slot wiped when used. */
static void
test_iv_batches(void **state)
{
	static unsigned char seen[3 * FERNET_IV_BATCH][16];
	struct fernet_ivs p;
	WC_RNG rng;

	(void)state;
	assert_int_equal(wc_InitRng(&rng), 0);
	fernet_ivs_init(&p);
	for (size_t i = 0; i < 3 * FERNET_IV_BATCH; i++) {
		assert_int_equal(fernet_iv_next(&p, &rng, seen[i]), 0);
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(seen[i], seen[j], 16);
		if (p.next > 0) {
			static const unsigned char zero[16];

			assert_memory_equal(p.iv[p.next - 1], zero, 16);
		}
	}
	wc_FreeRng(&rng);
}

/* ---- prepared keys (struct fernet_ctx) ----------------------------------------------------- */

static void
ctx_from(const char *text, struct fernet_ctx *fc)
{
	struct fernet_key k;

	key_from(text, &k);
	assert_int_equal(fernet_ctx_init(fc, &k), 0);
	explicit_bzero(&k, sizeof(k));
}

/* Every fernet/spec vector through the ctx calls. */
static void
test_ctx_spec_generate(void **state)
{
	struct jcase cases[JCASES_MAX];
	size_t n;

	(void)state;
	n = load_cases("generate.json", cases);
	for (size_t i = 0; i < n; i++) {
		struct fernet_ctx fc;
		char tok[512];
		size_t toklen = 0;

		ctx_from(cases[i].secret, &fc);
		assert_int_equal(fernet_ctx_encrypt(&fc, rfc3339(cases[i].now), cases[i].iv,
						    cases[i].src, strlen(cases[i].src), tok,
						    sizeof(tok), &toklen),
				 0);
		assert_int_equal(toklen, strlen(cases[i].token));
		assert_memory_equal(tok, cases[i].token, toklen);
		fernet_ctx_free(&fc);
	}
}

static void
test_ctx_spec_verify(void **state)
{
	struct jcase cases[JCASES_MAX];
	size_t n;

	(void)state;
	n = load_cases("verify.json", cases);
	for (size_t i = 0; i < n; i++) {
		struct fernet_ctx fc;
		char out[64];
		size_t outlen = 0;

		ctx_from(cases[i].secret, &fc);
		assert_int_equal(fernet_ctx_decrypt(&fc, cases[i].token, strlen(cases[i].token),
						    rfc3339(cases[i].now), cases[i].ttl, out,
						    sizeof(out), &outlen),
				 0);
		assert_int_equal(outlen, strlen(cases[i].src));
		assert_memory_equal(out, cases[i].src, outlen);
		fernet_ctx_free(&fc);
	}
}

/* Refused for the same reason as the one-shot call (test_spec_invalid checks which). */
static void
test_ctx_spec_invalid(void **state)
{
	struct jcase cases[JCASES_MAX];
	size_t n;

	(void)state;
	n = load_cases("invalid.json", cases);
	for (size_t i = 0; i < n; i++) {
		struct fernet_detail d;
		struct fernet_ctx fc;
		char out[64];
		size_t outlen = 0;
		int why = -1;

		ctx_from(cases[i].secret, &fc);
		assert_int_equal(fernet_ctx_decrypt_detail(&fc, 1, cases[i].token,
							   strlen(cases[i].token),
							   rfc3339(cases[i].now), cases[i].ttl, out,
							   sizeof(out), &outlen, &d),
				 FERNET_EINVALID);
		assert_int_equal(fernet_ctx_decrypt(&fc, cases[i].token, strlen(cases[i].token),
						    rfc3339(cases[i].now), cases[i].ttl, out,
						    sizeof(out), &outlen),
				 FERNET_EINVALID);
		fernet_ctx_free(&fc);
		{
			struct fernet_key k;

			key_from(cases[i].secret, &k);
			assert_int_equal(open_token(&k, cases[i].token, strlen(cases[i].token),
						    rfc3339(cases[i].now), cases[i].ttl, &why),
					 FERNET_EINVALID);
		}
		if (d.why != why)
			fail_msg("'%s': ctx refused it as '%s', the one-shot call as '%s'",
				 cases[i].desc, fernet_why_str(d.why), fernet_why_str(why));
	}
}

/*
 * One ctx for 1,000 tokens in a row, encrypt and decrypt interleaved: each token is exactly
 * the one-shot call's, opens to its message with both, and the ctx's bytes never change.
 * Each token works on a copy of the ctx's keyed HMAC (inner pad already hashed) and AES
 * schedules; a copy that shared or consumed state would break a later token, or the ctx.
 */
/* Token number t through fc and through the one-shot calls with k: the same token, the same
 * message back; every tenth one also refused once with a broken MAC. */
static void
ctx_round(const struct fernet_ctx *fc, const struct fernet_key *k, unsigned t)
{
	unsigned char msg[80], out[80], iv[16];
	char tok[256], want[256];
	size_t toklen = 0, wantlen = 0, outlen = 0, len = t % sizeof(msg);
	uint64_t now = REF_TIME + t;

	for (size_t i = 0; i < len; i++)
		msg[i] = (unsigned char)(t * 7 + i * 13);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (unsigned char)(t ^ (i * 29));
	assert_int_equal(fernet_ctx_encrypt(fc, now, iv, msg, len, tok, sizeof(tok), &toklen), 0);
	assert_int_equal(fernet_encrypt(k, now, iv, msg, len, want, sizeof(want), &wantlen), 0);
	assert_int_equal(toklen, wantlen);
	assert_memory_equal(tok, want, toklen);
	assert_int_equal(fernet_ctx_decrypt(fc, tok, toklen, now, 60, out, sizeof(out), &outlen),
			 0);
	assert_int_equal(outlen, len);
	if (len)
		assert_memory_equal(out, msg, len);
	assert_int_equal(fernet_decrypt(k, tok, toklen, now, 60, out, sizeof(out), &outlen), 0);
	/* A wrong MAC in between must not disturb the next token. */
	if (t % 10 == 0) {
		tok[toklen - 6] = tok[toklen - 6] == 'A' ? 'B' : 'A';
		assert_int_equal(
			fernet_ctx_decrypt(fc, tok, toklen, now, 0, out, sizeof(out), &outlen),
			FERNET_EINVALID);
	}
}

static void
test_ctx_many_tokens(void **state)
{
	static struct fernet_ctx fc, snapshot;
	struct fernet_key k;
	unsigned char msg[80], out[80];
	char tok[256];
	size_t toklen = 0, outlen = 0;

	(void)state;
	key_from(REF_KEY, &k);
	assert_int_equal(fernet_ctx_init(&fc, &k), 0);
	/* The inner pad is hashed once, here, not by every token. */
	assert_int_not_equal(fc.mac.innerHashKeyed, 0);
	memcpy(&snapshot, &fc, sizeof(fc));
	for (unsigned t = 0; t < 1000; t++)
		ctx_round(&fc, &k, t);
	/* The reference's tokens, after all that. */
	for (size_t i = 0; i < sizeof(ref_tokens) / sizeof(ref_tokens[0]); i++) {
		const char *ref = ref_tokens[i].token;

		ref_msg(msg, ref_tokens[i].len);
		assert_int_equal(fernet_ctx_encrypt(&fc, REF_TIME, ref_iv, msg, ref_tokens[i].len,
						    tok, sizeof(tok), &toklen),
				 0);
		assert_int_equal(toklen, strlen(ref));
		assert_memory_equal(tok, ref, toklen);
		assert_int_equal(fernet_ctx_decrypt(&fc, ref, strlen(ref), REF_TIME, 0, out,
						    sizeof(out), &outlen),
				 0);
		assert_int_equal(outlen, ref_tokens[i].len);
	}
	assert_memory_equal(&fc, &snapshot, sizeof(fc));
	fernet_ctx_free(&fc);
	explicit_bzero(&snapshot, sizeof(snapshot));
}

/* Every bit of a token flipped, through the ctx: the same refusals as the one-shot call. */
static void
test_ctx_tamper(void **state)
{
	const char *ref = ref_tokens[6].token;
	struct fernet_ctx fc;
	unsigned char raw[256], out[64];
	char tok[512];
	size_t rawlen = 0, toklen = 0, outlen = 0;

	(void)state;
	ctx_from(REF_KEY, &fc);
	assert_int_equal(b64url_decode(ref, strlen(ref), raw, sizeof(raw), &rawlen), 0);
	for (size_t i = 0; i < rawlen; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct fernet_detail d;

			raw[i] ^= (unsigned char)(1u << bit);
			assert_int_equal(b64url_encode(raw, rawlen, tok, sizeof(tok), &toklen), 0);
			assert_int_equal(fernet_ctx_decrypt_detail(&fc, 1, tok, toklen, REF_TIME, 0,
								   out, sizeof(out), &outlen, &d),
					 FERNET_EINVALID);
			assert_int_equal(d.why, i == 0 ? FERNET_WHY_VERSION : FERNET_WHY_MAC);
			raw[i] ^= (unsigned char)(1u << bit);
		}
	}
	fernet_ctx_free(&fc);
}

static void
test_ctx_keys(void **state)
{
	struct fernet_key k1, k2, k3;
	struct fernet_ctx fcs[3];
	struct fernet_detail d;
	char tok[256], out[64];
	size_t toklen = 0, outlen = 0;

	(void)state;
	assert_int_equal(fernet_key_generate(&k1), 0);
	assert_int_equal(fernet_key_generate(&k2), 0);
	assert_int_equal(fernet_key_generate(&k3), 0);
	assert_int_equal(fernet_ctx_init(&fcs[0], &k3), 0);
	assert_int_equal(fernet_ctx_init(&fcs[1], &k1), 0);
	assert_int_equal(fernet_ctx_init(&fcs[2], &k2), 0);
	assert_int_equal(
		fernet_encrypt(&k1, 100, ref_iv, "fluffy tail", 11, tok, sizeof(tok), &toklen), 0);

	/* Wrong key: refused for its MAC, and nothing of the plaintext in out. */
	memset(out, '#', sizeof(out));
	assert_int_equal(fernet_ctx_decrypt_detail(&fcs[0], 1, tok, toklen, 100, 0, out,
						   sizeof(out), &outlen, &d),
			 FERNET_EINVALID);
	assert_int_equal(d.why, FERNET_WHY_MAC);
	assert_int_equal(d.timestamp, 100);
	assert_int_equal(out[0], '#');
	assert_int_equal(
		fernet_ctx_decrypt(&fcs[2], tok, toklen, 100, 0, out, sizeof(out), &outlen),
		FERNET_EINVALID);

	/* MultiFernet: tried in order; d.key says which one opened it. */
	assert_int_equal(fernet_ctx_decrypt_detail(fcs, 3, tok, toklen, 100, 60, out, sizeof(out),
						   &outlen, &d),
			 0);
	assert_int_equal(d.why, FERNET_WHY_OK);
	assert_int_equal(d.key, 1);
	assert_int_equal(outlen, 11);
	assert_memory_equal(out, "fluffy tail", 11);
	assert_int_equal(fernet_ctx_decrypt_detail(fcs, 0, tok, toklen, 100, 0, out, sizeof(out),
						   &outlen, &d),
			 FERNET_EINVALID);
	assert_int_equal(d.why, FERNET_WHY_MAC);
	assert_int_equal(
		fernet_ctx_decrypt_detail(fcs, 3, tok, toklen, 100, 0, out, 10, &outlen, NULL),
		FERNET_ENOSPACE);

	/* The ctx calls keep the one-shot calls' limits. */
	assert_int_equal(fernet_ctx_encrypt(&fcs[0], 1, ref_iv, "x", FERNET_MAX_MSG + 1, tok,
					    sizeof(tok), &toklen),
			 FERNET_ETOOLONG);
	assert_int_equal(
		fernet_ctx_encrypt(&fcs[0], 1, ref_iv, "fluffy tail", 11, tok, 99, &toklen),
		FERNET_ENOSPACE);
	for (int i = 0; i < 3; i++)
		fernet_ctx_free(&fcs[i]);
}

/* fernet_ctx_free leaves every byte zero; it is harmless on a zeroed or freed ctx. */
static void
test_ctx_free_wipes(void **state)
{
	static const struct fernet_ctx zero;
	static struct fernet_ctx fc;
	struct fernet_key k;
	char tok[256];
	size_t toklen = 0;

	(void)state;
	key_from(SPEC_KEY, &k);
	assert_int_equal(fernet_ctx_init(&fc, &k), 0);
	assert_memory_not_equal(&fc, &zero, sizeof(fc));
	assert_int_equal(
		fernet_ctx_encrypt(&fc, 1, ref_iv, "fluffy tail", 11, tok, sizeof(tok), &toklen),
		0);
	fernet_ctx_free(&fc);
	assert_memory_equal(&fc, &zero, sizeof(fc));
	fernet_ctx_free(&fc);
	assert_memory_equal(&fc, &zero, sizeof(fc));
}

/*
 * b64url_decode decides in one pass and asks b64url_check only why it refused: its answer
 * must be b64url_check's for every text, whatever character sits wherever.
 */
static void
decode_agrees(const char *text, size_t len)
{
	unsigned char out[700];
	size_t declen = 0, outlen = 0;
	int want = b64url_check(text, len, &declen, NULL);
	int got = b64url_decode(text, len, out, sizeof(out), &outlen);

	if (got != want)
		fail_msg("'%.*s': b64url_decode says %d, b64url_check %d", (int)len, text, got,
			 want);
	if (want == 0) {
		assert_int_equal(outlen, declen);
		if (declen > 0)
			assert_int_equal(b64url_decode(text, len, out, declen - 1, &outlen),
					 B64URL_ENOSPACE);
	} else {
		/* An invalid text is invalid whatever the room. */
		assert_int_equal(b64url_decode(text, len, out, 0, &outlen), want);
	}
}

static void
test_b64url_decode_refusals(void **state)
{
	static const char *const bases[] = {"Zm9vYmFy", "Zm9vYmE=", "Zm9vYg==", "Zg==", "-_8="};
	static const char *const odd[] = {
		"=",        "==",   "===",  "====",   "Z===",  "Zg=",  "Zg===",
		"Zg==Zg==", "Zm=v", "Z=9v", "=m9v",   "Zm9v=", "Zh==", "Zm9=",
		"Zm8=",     "Zm+v", "Zm/v", "Zm9v\n", " Zm9",  "A",
	};
	char text[900];

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		decode_agrees(odd[i], strlen(odd[i]));
	/* Every byte value at every position of texts with 0, 1 and 2 '='. */
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		size_t len = strlen(bases[b]);

		for (size_t at = 0; at < len; at++) {
			for (unsigned ch = 0; ch < 256; ch++) {
				memcpy(text, bases[b], len);
				text[at] = (char)ch;
				decode_agrees(text, len);
			}
		}
	}
	/* Past the first 256-character slice: a bad character in the second one. */
	memset(text, 'A', 800);
	decode_agrees(text, 800);
	for (size_t at = 250; at < 800; at += 61) {
		text[at] = '*';
		decode_agrees(text, 800);
		text[at] = '=';
		decode_agrees(text, 800);
		text[at] = 'A';
	}
	memcpy(text + 796, "AA==", 4);
	decode_agrees(text, 800);
	memcpy(text + 796, "AB==", 4);
	decode_agrees(text, 800);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iv_batches),
		cmocka_unit_test(test_spec_generate),
		cmocka_unit_test(test_spec_verify),
		cmocka_unit_test(test_spec_invalid),
		cmocka_unit_test(test_reference_tokens),
		cmocka_unit_test(test_tamper_every_bit),
		cmocka_unit_test(test_tamper_every_char),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_strict_token_base64),
		cmocka_unit_test(test_guard_page),
		cmocka_unit_test(test_b64url_rfc4648_vectors),
		cmocka_unit_test(test_b64url_round_trips),
		cmocka_unit_test(test_b64url_check_and_strerror),
		cmocka_unit_test(test_b64url_matches_wolfcrypt),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_keys_parse_messages),
		cmocka_unit_test(test_keys_rotation),
		cmocka_unit_test(test_key_generate_format),
		cmocka_unit_test(test_ttl_and_skew),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_ctx_spec_generate),
		cmocka_unit_test(test_ctx_spec_verify),
		cmocka_unit_test(test_ctx_spec_invalid),
		cmocka_unit_test(test_ctx_many_tokens),
		cmocka_unit_test(test_ctx_tamper),
		cmocka_unit_test(test_ctx_keys),
		cmocka_unit_test(test_ctx_free_wipes),
		cmocka_unit_test(test_b64url_decode_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
