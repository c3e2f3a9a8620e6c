#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include "fernet.h"

#define FERNET_VERSION 0x80
#define FERNET_KEY_LEN 32
/* The shortest token: one block of ciphertext (PKCS#7 pads an empty message to 16 bytes). */
#define FERNET_MIN_RAW (FERNET_HEAD_LEN + FERNET_BLOCK + FERNET_MAC_LEN)
/* Largest decode of a token we accept; one more than FERNET_RAW_LEN(FERNET_MAX_MSG). */
#define FERNET_MAX_RAW (FERNET_MAX_TOKEN / 4 * 3)

static const char *const fernet_texts[] = {
#define FERNET_TEXT(name, value, text) [-(value)] = text,
	FERNET_ERRORS(FERNET_TEXT)
#undef FERNET_TEXT
};

static const char *const fernet_why_texts[] = {
#define FERNET_WHY_TEXT(name, value, text) [value] = text,
	FERNET_WHYS(FERNET_WHY_TEXT)
#undef FERNET_WHY_TEXT
};

const char *
fernet_strerror(int code)
{
	if (code < 0 && (size_t)-code < sizeof(fernet_texts) / sizeof(fernet_texts[0]) &&
	    fernet_texts[-code] != NULL)
		return fernet_texts[-code];
	return "unknown error";
}

const char *
fernet_why_str(int why)
{
	if (why >= 0 && (size_t)why < sizeof(fernet_why_texts) / sizeof(fernet_why_texts[0]) &&
	    fernet_why_texts[why] != NULL)
		return fernet_why_texts[why];
	return "unknown";
}

size_t
fernet_token_len(size_t len)
{
	return FERNET_TOKEN_LEN(len);
}

/* ---- keys --------------------------------------------------------------------------------- */

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void
trim(const char **text, size_t *len)
{
	while (*len > 0 && is_space((*text)[0])) {
		(*text)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*text)[*len - 1]))
		(*len)--;
}

/* "'+'" for a printable character, "byte 0x09" otherwise: never more of a key than that. */
static void
describe_char(char ch, char *buf, size_t cap)
{
	unsigned char u = (unsigned char)ch;

	if (u > 0x20 && u < 0x7f)
		snprintf(buf, cap, "('%c')", ch);
	else
		snprintf(buf, cap, "(byte 0x%02x)", u);
}

/* Why b64url_check refused the key text (ret, at pos), into err as key_parse words it.
 * Returns FERNET_EKEYBASE64. */
static int
base64_refused(int ret, const char *text, size_t len, size_t pos, const char *who, char *err,
	       size_t errlen)
{
	const char *sep = *who ? ": " : "";
	char what[24];

	if (errlen == 0)
		return FERNET_EKEYBASE64;
	switch (ret) {
	case B64URL_ECHAR:
		describe_char(text[pos], what, sizeof(what));
		snprintf(err, errlen,
			 "%s%scharacter %zu %s is not url-safe base64 (A-Z a-z 0-9 - _)", who, sep,
			 pos + 1, what);
		break;
	case B64URL_ELENGTH:
		snprintf(err, errlen,
			 "%s is %zu characters long, not a multiple of 4 (a fernet key is 44 "
			 "characters ending in '=')",
			 *who ? who : "the key", len);
		break;
	case B64URL_EPAD:
		snprintf(err, errlen, "%s%smisplaced '=' at character %zu", who, sep, pos + 1);
		break;
	default: /* B64URL_EBITS */
		snprintf(err, errlen,
			 "%s%scharacter %zu has unused bits set (not canonical base64)", who, sep,
			 pos + 1);
		break;
	}
	return FERNET_EKEYBASE64;
}

/*
 * Parse one trimmed-or-not key; on failure write "<who>..." into err. who is "" for a lone key
 * and "key 2 of 3: " / "key 2 of 3 " when there are several, so each message reads as one line.
 */
static int
key_parse(const char *text, size_t len, struct fernet_key *k, const char *who, char *err,
	  size_t errlen)
{
	unsigned char raw[FERNET_KEY_LEN];
	size_t declen = 0, pos = 0, got;
	int ret;

	memset(k, 0, sizeof(*k));
	if (err == NULL)
		errlen = 0;
	trim(&text, &len);
	if (len == 0) {
		if (errlen)
			snprintf(err, errlen, "%s is empty", *who ? who : "the key");
		return FERNET_EKEYEMPTY;
	}
	ret = b64url_check(text, len, &declen, &pos);
	if (ret != 0)
		return base64_refused(ret, text, len, pos, who, err, errlen);
	if (declen != FERNET_KEY_LEN) {
		if (errlen)
			snprintf(err, errlen, "%s decodes to %zu bytes instead of 32",
				 *who ? who : "the key", declen);
		return FERNET_EKEYLENGTH;
	}
	if (b64url_decode(text, len, raw, sizeof(raw), &got) != 0 || got != FERNET_KEY_LEN) {
		explicit_bzero(raw, sizeof(raw));
		if (errlen)
			snprintf(err, errlen, "%s%sbase64 decoding failed", who, *who ? ": " : "");
		return FERNET_EKEYBASE64;
	}
	memcpy(k->sign, raw, 16);
	memcpy(k->enc, raw + 16, 16);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int
fernet_key_parse(const char *text, size_t len, struct fernet_key *k)
{
	return key_parse(text, len, k, "", NULL, 0);
}

int
fernet_keys_parse(const char *text, struct fernet_key *keys, size_t max, size_t *n, char *err,
		  size_t errlen)
{
	size_t count = 1, i = 0;
	const char *p = text;
	int ret = 0;

	for (const char *c = text; *c; c++)
		count += *c == ',';
	if (count > max) {
		/* The promise holds on every failure: nothing of an earlier use is left. */
		explicit_bzero(keys, max * sizeof(*keys));
		*n = 0;
		if (err && errlen)
			snprintf(err, errlen, "%zu keys given; at most %zu are allowed", count,
				 max);
		return FERNET_ETOOMANYKEYS;
	}
	for (i = 0; i < count; i++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char who[64] = "";

		if (count > 1)
			snprintf(who, sizeof(who), "key %zu of %zu", i + 1, count);
		if ((ret = key_parse(p, len, &keys[i], who, err, errlen)) != 0)
			break;
		if (end != NULL)
			p = end + 1;
	}
	if (ret != 0) {
		explicit_bzero(keys, max * sizeof(*keys));
		return ret;
	}
	*n = count;
	return 0;
}

int
fernet_key_generate(struct fernet_key *k)
{
	unsigned char raw[FERNET_KEY_LEN];
	WC_RNG rng;
	int ret = FERNET_ECRYPTO;

	memset(k, 0, sizeof(*k));
	if (wc_InitRng(&rng) != 0)
		return FERNET_ECRYPTO;
	if (wc_RNG_GenerateBlock(&rng, raw, sizeof(raw)) == 0) {
		memcpy(k->sign, raw, 16);
		memcpy(k->enc, raw + 16, 16);
		ret = 0;
	}
	wc_FreeRng(&rng);
	explicit_bzero(raw, sizeof(raw));
	return ret;
}

void
fernet_key_format(const struct fernet_key *k, char out[FERNET_KEY_B64_LEN + 1])
{
	unsigned char raw[FERNET_KEY_LEN];
	size_t len = 0;

	memcpy(raw, k->sign, 16);
	memcpy(raw + 16, k->enc, 16);
	/* Cannot fail: 32 bytes always encode to 44 characters, and out has room for them. */
	if (b64url_encode(raw, sizeof(raw), out, FERNET_KEY_B64_LEN, &len) != 0)
		len = 0;
	out[len] = '\0';
	explicit_bzero(raw, sizeof(raw));
}

/* ---- prepared keys ------------------------------------------------------------------------ */

/*
 * Every token works on a copy of the ctx's wolfCrypt state, made by plain struct assignment,
 * so the ctx stays read-only. wolfSSL 5.5.4 has no wc_HmacCopy; its own deep copy
 * (wolfSSL_HmacCopy in src/ssl.c, behind HMAC_CTX_copy) copies the fields and calls
 * wc_Sha256Copy: a memcpy, a WC_HASH_FLAG_ISCOPY flag nothing in 5.5.4 reads, and fix-ups only
 * for builds whose hash or cipher state owns something (a heap buffer, a device handle, a file
 * descriptor): those named below. Debian's build (and `make WOLFSSL=source`) has none of them,
 * so an assigned copy is the same state and owns nothing: it is wiped after use, never given
 * to wc_HmacFree or wc_AesFree (wc_AesFree only wipes, here). The copy keeps Hmac.keyRaw
 * (WOLF_CRYPTO_CB), which points at fc->key and is read only by a crypto device (devId is
 * INVALID_DEVID here). Where those facts would not hold, refuse to build.
 */
#if defined(WOLFSSL_ASYNC_CRYPT) || defined(WOLFSSL_SMALL_STACK_CACHE) ||                          \
	defined(WOLFSSL_HASH_KEEP) || defined(WOLFSSL_PIC32MZ_HASH) ||                             \
	defined(WOLFSSL_DEVCRYPTO) || defined(WOLFSSL_AFALG) || defined(WOLFSSL_AFALG_HASH) ||     \
	defined(WOLFSSL_KCAPI_HASH) || defined(WOLFSSL_KCAPI_HMAC) ||                              \
	defined(WOLFSSL_KCAPI_AES) || defined(WOLFSSL_MAXQ108X) ||                                 \
	defined(WOLFSSL_MAXQ10XX_CRYPTO) || defined(WOLFSSL_SE050) ||                              \
	defined(WOLFSSL_IMXRT_DCP) || defined(WOLFSSL_SILABS_SE_ACCEL) ||                          \
	defined(WOLFSSL_HAVE_PSA)
#error "fernet.c copies keyed Hmac and Aes structs, which this wolfSSL build gives resources"
#endif

/* What ctx_setup() prepares: the one-shot calls need one AES direction only. */
#define CTX_ENC 1u
#define CTX_DEC 2u

static int
aes_prepare(Aes *aes, const unsigned char key[16], int dir)
{
	return wc_AesSetKey(aes, key, 16, NULL, dir) == 0 ? 0 : FERNET_ECRYPTO;
}

/*
 * Key h with the signing key and hash its inner pad now: wolfCrypt does that in the first
 * wc_HmacUpdate after wc_HmacSetKey (innerHashKeyed), and wc_HmacFinal undoes it, so a keyed
 * Hmac reused in turn pays one SHA-256 block per token for it; a copy of this one does not.
 */
static int
hmac_prepare(Hmac *h, const unsigned char key[16])
{
	if (wc_HmacSetKey(h, WC_SHA256, key, 16) != 0 || wc_HmacUpdate(h, key, 0) != 0)
		return FERNET_ECRYPTO;
	return 0;
}

/*
 * Fill fc for k. An AES direction not named in what gets wc_AesInit but no key schedule: only
 * the one-shot calls leave one out, on a ctx of their own that never uses it.
 */
static int
ctx_setup(struct fernet_ctx *fc, const struct fernet_key *k, unsigned what)
{
	int ret = 0;

	fc->key = *k;
	/* Hmac first: wc_HmacInit zeroes it (it fails only for NULL), so fernet_ctx_free() may
	 * follow any failure. */
	if (wc_HmacInit(&fc->mac, NULL, INVALID_DEVID) != 0 ||
	    wc_AesInit(&fc->enc, NULL, INVALID_DEVID) != 0 ||
	    wc_AesInit(&fc->dec, NULL, INVALID_DEVID) != 0)
		ret = FERNET_ECRYPTO;
	if (ret == 0 && (what & CTX_ENC) != 0)
		ret = aes_prepare(&fc->enc, fc->key.enc, AES_ENCRYPTION);
	if (ret == 0 && (what & CTX_DEC) != 0)
		ret = aes_prepare(&fc->dec, fc->key.enc, AES_DECRYPTION);
	if (ret == 0)
		ret = hmac_prepare(&fc->mac, fc->key.sign);
	if (ret != 0)
		fernet_ctx_free(fc);
	return ret;
}

int
fernet_ctx_init(struct fernet_ctx *fc, const struct fernet_key *k)
{
	return ctx_setup(fc, k, CTX_ENC | CTX_DEC);
}

/* No padding, so wiping the parts wipes every byte of the ctx. */
_Static_assert(sizeof(struct fernet_ctx) ==
		       sizeof(struct fernet_key) + 2 * sizeof(Aes) + sizeof(Hmac),
	       "struct fernet_ctx has padding");

void
fernet_ctx_free(struct fernet_ctx *fc)
{
	/* On a zeroed ctx these do nothing: devCtx is NULL and macType WC_HASH_TYPE_NONE. */
	wc_HmacFree(&fc->mac);
	wc_AesFree(&fc->dec);
	wc_AesFree(&fc->enc);
	/*
	 * Part by part: each is under 2 KiB, where glibc's memset switches to rep stosb, which
	 * callgrind (our instruction count) charges a byte at a time; the one-shot calls free a
	 * ctx per token.
	 */
	explicit_bzero(&fc->mac, sizeof(fc->mac));
	explicit_bzero(&fc->dec, sizeof(fc->dec));
	explicit_bzero(&fc->enc, sizeof(fc->enc));
	explicit_bzero(&fc->key, sizeof(fc->key));
}

/* ---- tokens ------------------------------------------------------------------------------- */

static void
put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* HMAC-SHA256 with fc's signing key over data[0..len) into mac. 0 or FERNET_ECRYPTO. */
static int
mac_compute(const struct fernet_ctx *fc, const unsigned char *data, size_t len,
	    unsigned char mac[FERNET_MAC_LEN])
{
	Hmac h = fc->mac;
	int ret = FERNET_ECRYPTO;

	if (wc_HmacUpdate(&h, data, (word32)len) == 0 && wc_HmacFinal(&h, mac) == 0)
		ret = 0;
	explicit_bzero(&h, sizeof(h));
	return ret;
}

/* AES-128-CBC over whole blocks with a copy of the schedule sched (of direction dir). */
static int
cbc_run(const Aes *sched, const unsigned char iv[16], int dir, unsigned char *out,
	const unsigned char *in, size_t len)
{
	Aes aes = *sched;
	int ret;

	ret = wc_AesSetIV(&aes, iv);
	if (ret == 0 && dir == AES_ENCRYPTION)
		ret = wc_AesCbcEncrypt(&aes, out, in, (word32)len);
	else if (ret == 0)
		ret = wc_AesCbcDecrypt(&aes, out, in, (word32)len);
	explicit_bzero(&aes, sizeof(aes));
	return ret == 0 ? 0 : FERNET_ECRYPTO;
}

int
fernet_ctx_encrypt(const struct fernet_ctx *fc, uint64_t now, const unsigned char iv[16],
		   const void *msg, size_t len, char *out, size_t cap, size_t *outlen)
{
	unsigned char raw[FERNET_RAW_LEN(FERNET_MAX_MSG)];
	unsigned char pt[FERNET_MAX_MSG + FERNET_BLOCK];
	size_t padded, rawlen;
	int ret;

	if (len > FERNET_MAX_MSG)
		return FERNET_ETOOLONG;
	if (cap < fernet_token_len(len))
		return FERNET_ENOSPACE;
	padded = (len / FERNET_BLOCK + 1) * FERNET_BLOCK;
	rawlen = FERNET_HEAD_LEN + padded + FERNET_MAC_LEN;

	raw[0] = FERNET_VERSION;
	put_be64(raw + 1, now);
	memcpy(raw + 9, iv, 16);
	if (len > 0)
		memcpy(pt, msg, len);
	/* PKCS#7: n bytes of value n, 1 <= n <= 16, so a whole block when len is a multiple. */
	memset(pt + len, (int)(padded - len), padded - len);
	ret = cbc_run(&fc->enc, iv, AES_ENCRYPTION, raw + FERNET_HEAD_LEN, pt, padded);
	explicit_bzero(pt, padded);
	if (ret == 0)
		ret = mac_compute(fc, raw, FERNET_HEAD_LEN + padded,
				  raw + FERNET_HEAD_LEN + padded);
	if (ret == 0 && b64url_encode(raw, rawlen, out, cap, outlen) != 0)
		ret = FERNET_ECRYPTO;
	return ret;
}

int
fernet_encrypt(const struct fernet_key *k, uint64_t now, const unsigned char iv[16],
	       const void *msg, size_t len, char *out, size_t cap, size_t *outlen)
{
	struct fernet_ctx fc;
	int ret;

	if ((ret = ctx_setup(&fc, k, CTX_ENC)) != 0)
		return ret;
	ret = fernet_ctx_encrypt(&fc, now, iv, msg, len, out, cap, outlen);
	fernet_ctx_free(&fc);
	return ret;
}

/* 1 if a < b, else 0, without a branch (a, b < 2^32). */
static unsigned
ct_lt(uint32_t a, uint32_t b)
{
	return (unsigned)(((uint64_t)a - (uint64_t)b) >> 63);
}

/*
 * Check PKCS#7 padding of the last block of pt[0..len) (len >= 16) in constant time: the same
 * loads and operations whatever the bytes hold. Returns the pad length (1..16) or 0 if bad.
 * This runs only after the HMAC matched, so it is defence in depth, not an oracle guard.
 */
static unsigned
pad_check(const unsigned char *pt, size_t len)
{
	uint32_t pad = pt[len - 1];
	unsigned bad = ct_lt(pad, 1) | ct_lt(FERNET_BLOCK, pad);

	for (uint32_t i = 0; i < FERNET_BLOCK; i++) {
		uint32_t diff = pt[len - 1 - i] ^ pad;

		bad |= ct_lt(i, pad) & ct_lt(0, diff);
	}
	return pad & (0u - (bad ^ 1u));
}

/*
 * The checks that need no key: strict base64, version, length and, with a ttl, the time.
 * Decodes token into raw[FERNET_MAX_RAW] and sets *rawlen. Returns 0 or FERNET_EINVALID with
 * d->why set. d->key is 0 and d->timestamp the token's time once it is known.
 */
static int
token_parse(const char *token, size_t toklen, uint64_t now, int64_t ttl, unsigned char *raw,
	    size_t *rawlen, struct fernet_detail *d)
{
	uint64_t ts;

	d->why = FERNET_WHY_LENGTH;
	d->key = 0;
	d->timestamp = 0;
	if (toklen > FERNET_MAX_TOKEN)
		return FERNET_EINVALID;
	if (b64url_decode(token, toklen, raw, FERNET_MAX_RAW, rawlen) != 0) {
		d->why = FERNET_WHY_BASE64;
		return FERNET_EINVALID;
	}
	if (*rawlen < 1 || raw[0] != FERNET_VERSION) {
		d->why = FERNET_WHY_VERSION;
		return FERNET_EINVALID;
	}
	if (*rawlen < FERNET_MIN_RAW || (*rawlen - FERNET_MIN_RAW) % FERNET_BLOCK != 0)
		return FERNET_EINVALID;
	ts = get_be64(raw + 1);
	d->timestamp = ts;
	/*
	 * As cryptography.fernet: with a ttl, "timestamp + ttl < now" is expired and "now + 60 <
	 * timestamp" is from the future; written so neither sum can wrap.
	 */
	if (ttl > 0) {
		if ((uint64_t)ttl <= now && ts < now - (uint64_t)ttl) {
			d->why = FERNET_WHY_EXPIRED;
			return FERNET_EINVALID;
		}
		if (now <= UINT64_MAX - FERNET_MAX_CLOCK_SKEW && ts > now + FERNET_MAX_CLOCK_SKEW) {
			d->why = FERNET_WHY_FUTURE;
			return FERNET_EINVALID;
		}
	}
	return 0;
}

/* 1 if the HMAC at the end of raw[0..rawlen) is fc's, 0 if not, or FERNET_ECRYPTO. */
static int
mac_matches(const struct fernet_ctx *fc, const unsigned char *raw, size_t rawlen)
{
	unsigned char mac[FERNET_MAC_LEN];
	int same;

	if (mac_compute(fc, raw, rawlen - FERNET_MAC_LEN, mac) != 0)
		return FERNET_ECRYPTO;
	/* Constant time. Never NULL arguments here: wolfSSL_CRYPTO_memcmp calls NULL "equal". */
	same = wolfSSL_CRYPTO_memcmp(mac, raw + rawlen - FERNET_MAC_LEN, FERNET_MAC_LEN) == 0;
	explicit_bzero(mac, sizeof(mac));
	return same;
}

/*
 * Decrypt and unpad a token whose MAC fc has checked. The plaintext goes to out only when it
 * is whole and fits; the scratch copy is wiped whatever happens. Sets d->why.
 */
static int
token_open(const struct fernet_ctx *fc, const unsigned char *raw, size_t rawlen, void *out,
	   size_t cap, size_t *outlen, struct fernet_detail *d)
{
	unsigned char pt[FERNET_MAX_MSG + FERNET_BLOCK];
	size_t ctlen = rawlen - FERNET_HEAD_LEN - FERNET_MAC_LEN;
	unsigned pad;
	int ret;

	if (cbc_run(&fc->dec, raw + 9, AES_DECRYPTION, pt, raw + FERNET_HEAD_LEN, ctlen) != 0) {
		explicit_bzero(pt, ctlen);
		return FERNET_ECRYPTO;
	}
	pad = pad_check(pt, ctlen);
	if (pad == 0) {
		explicit_bzero(pt, ctlen);
		d->why = FERNET_WHY_PADDING;
		return FERNET_EINVALID;
	}
	d->why = FERNET_WHY_OK;
	if (ctlen - pad > cap) {
		ret = FERNET_ENOSPACE;
	} else {
		if (ctlen > pad)
			memcpy(out, pt, ctlen - pad);
		*outlen = ctlen - pad;
		ret = 0;
	}
	explicit_bzero(pt, ctlen);
	return ret;
}

/*
 * Both decrypt forms: keys come prepared (fcs, the ctx calls) or raw (keys, the one-shot calls,
 * each prepared on the stack in turn, HMAC and decryption schedule only, and wiped before the
 * next). Exactly one of fcs and keys is non-NULL.
 */
static int
decrypt_detail(const struct fernet_ctx *fcs, const struct fernet_key *keys, size_t n,
	       const char *token, size_t toklen, uint64_t now, int64_t ttl, void *out, size_t cap,
	       size_t *outlen, struct fernet_detail *d)
{
	unsigned char raw[FERNET_MAX_RAW];
	struct fernet_detail dummy;
	struct fernet_ctx own;
	const struct fernet_ctx *fc = NULL;
	size_t rawlen = 0, i;
	int ret;

	if (d == NULL)
		d = &dummy;
	/* Cheap, public checks first: the token's shape says nothing about any key. */
	if ((ret = token_parse(token, toklen, now, ttl, raw, &rawlen, d)) != 0)
		return ret;
	/* The MAC, in constant time, before a single byte is decrypted (Fernet spec, step 5). */
	for (i = 0; i < n; i++) {
		if (fcs != NULL)
			fc = &fcs[i];
		else if (ctx_setup(&own, &keys[i], CTX_DEC) == 0)
			fc = &own;
		else
			return FERNET_ECRYPTO;
		if ((ret = mac_matches(fc, raw, rawlen)) != 0)
			break;
		if (fc == &own)
			fernet_ctx_free(&own);
	}
	if (i == n) {
		d->why = FERNET_WHY_MAC;
		return FERNET_EINVALID;
	}
	if (ret > 0) {
		ret = token_open(fc, raw, rawlen, out, cap, outlen, d);
		if (d->why == FERNET_WHY_OK)
			d->key = i;
	}
	if (fc == &own)
		fernet_ctx_free(&own);
	return ret;
}

int
fernet_ctx_decrypt_detail(const struct fernet_ctx *fcs, size_t n, const char *token, size_t toklen,
			  uint64_t now, int64_t ttl, void *out, size_t cap, size_t *outlen,
			  struct fernet_detail *d)
{
	return decrypt_detail(fcs, NULL, n, token, toklen, now, ttl, out, cap, outlen, d);
}

int
fernet_ctx_decrypt(const struct fernet_ctx *fc, const char *token, size_t toklen, uint64_t now,
		   int64_t ttl, void *out, size_t cap, size_t *outlen)
{
	return decrypt_detail(fc, NULL, 1, token, toklen, now, ttl, out, cap, outlen, NULL);
}

int
fernet_decrypt_detail(const struct fernet_key *keys, size_t n, const char *token, size_t toklen,
		      uint64_t now, int64_t ttl, void *out, size_t cap, size_t *outlen,
		      struct fernet_detail *d)
{
	return decrypt_detail(NULL, keys, n, token, toklen, now, ttl, out, cap, outlen, d);
}

int
fernet_decrypt_any(const struct fernet_key *keys, size_t n, const char *token, size_t toklen,
		   uint64_t now, int64_t ttl, void *out, size_t cap, size_t *outlen)
{
	return fernet_decrypt_detail(keys, n, token, toklen, now, ttl, out, cap, outlen, NULL);
}

int
fernet_decrypt(const struct fernet_key *k, const char *token, size_t toklen, uint64_t now,
	       int64_t ttl, void *out, size_t cap, size_t *outlen)
{
	return fernet_decrypt_detail(k, 1, token, toklen, now, ttl, out, cap, outlen, NULL);
}

void
fernet_ivs_init(struct fernet_ivs *p)
{
	p->next = FERNET_IV_BATCH;
}

int
fernet_iv_next(struct fernet_ivs *p, WC_RNG *rng, unsigned char iv[16])
{
	if (p->next >= FERNET_IV_BATCH) {
		if (wc_RNG_GenerateBlock(rng, &p->iv[0][0], (word32)sizeof(p->iv)) != 0)
			return FERNET_ECRYPTO;
		p->next = 0;
	}
	memcpy(iv, p->iv[p->next], 16);
	/* Used once: nothing of it stays for a later reader. */
	explicit_bzero(p->iv[p->next], 16);
	p->next++;
	return 0;
}
