#include <stdint.h>
#include <string.h>

#include "b64url.h"

static const char *const b64url_texts[] = {
#define B64URL_TEXT(name, value, text) [-(value)] = text,
	B64URL_ERRORS(B64URL_TEXT)
#undef B64URL_TEXT
};

const char *
b64url_strerror(int code)
{
	if (code < 0 && (size_t)-code < sizeof(b64url_texts) / sizeof(b64url_texts[0]) &&
	    b64url_texts[-code] != NULL)
		return b64url_texts[-code];
	return "unknown error";
}

/*
 * The alphabet as lane-wise arithmetic on 16 characters at a time, not as a table: keys pass
 * through here, so no load and no branch depends on a character's value (wolfCrypt's
 * Base64_Decode takes the same care). GCC's and clang's vector extension becomes SSE2 on
 * x86-64 and NEON on arm64. A comparison gives 0xff in the lanes where it holds, 0 elsewhere.
 */
typedef uint8_t lanes __attribute__((vector_size(16)));
#define LANES ((size_t)sizeof(lanes))

/* The 6-bit value of each URL-safe base64 character in c; *data gets 0xff in the lanes that
 * hold one and 0 in the others. */
static lanes
lanes_decode(lanes c, lanes *data)
{
	lanes upper = (lanes)((c >= 'A') & (c <= 'Z'));
	lanes lower = (lanes)((c >= 'a') & (c <= 'z'));
	lanes digit = (lanes)((c >= '0') & (c <= '9'));
	lanes dash = (lanes)(c == '-');
	lanes under = (lanes)(c == '_');

	*data = upper | lower | digit | dash | under;
	return (upper & (c - 'A')) | (lower & (c - ('a' - 26))) | (digit & (c + (52 - '0'))) |
	       (dash & 62) | (under & 63);
}

/* The URL-safe base64 character of each 6-bit value in v: 'A' + v, moved on to the next run
 * of the alphabet at 26 ('a'), 52 ('0'), 62 ('-') and 63 ('_'). Lanes wrap modulo 256. */
static lanes
lanes_encode(lanes v)
{
	return v + 'A' + ((lanes)(v >= 26) & ('a' - 26 - 'A')) -
	       ((lanes)(v >= 52) & ('a' - 26 - ('0' - 52))) -
	       ((lanes)(v >= 62) & (('0' - 52) - ('-' - 62))) +
	       ((lanes)(v >= 63) & (('_' - 63) - ('-' - 62)));
}

/* The 6-bit value of a URL-safe base64 character, or -1. */
static int
b64url_value(unsigned char ch)
{
	lanes c = {ch}, data, v = lanes_decode(c, &data);

	return data[0] ? v[0] : -1;
}

int
b64url_check(const char *in, size_t len, size_t *declen, size_t *pos)
{
	size_t first_pad = len, npad;
	size_t dummy;

	if (pos == NULL)
		pos = &dummy;
	*pos = 0;
	/* Bad characters first: "'+' at 12" tells a person more than "wrong length". */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '=') {
			if (first_pad == len)
				first_pad = i;
			continue;
		}
		if (b64url_value(ch) < 0) {
			*pos = i;
			return B64URL_ECHAR;
		}
		if (first_pad != len) {
			*pos = first_pad;
			return B64URL_EPAD;
		}
	}
	if (len % 4 != 0)
		return B64URL_ELENGTH;
	npad = len - first_pad;
	if (npad > 2) {
		*pos = first_pad;
		return B64URL_EPAD;
	}
	/*
	 * RFC 4648 §3.5: the bits of the last character that carry no data must be zero. Decoders
	 * that ignore them accept four spellings of one token; we accept the one encoders emit.
	 */
	if (npad == 1 && (b64url_value((unsigned char)in[len - 2]) & 0x03) != 0) {
		*pos = len - 2;
		return B64URL_EBITS;
	}
	if (npad == 2 && (b64url_value((unsigned char)in[len - 3]) & 0x0f) != 0) {
		*pos = len - 3;
		return B64URL_EBITS;
	}
	*declen = len / 4 * 3 - npad;
	return 0;
}

/* The '=' ending in[0..len): 0, 1 or 2 (a third one is a misplaced '=' among the data). */
static size_t
pad_count(const char *in, size_t len)
{
	size_t n = 0;

	while (n < 2 && n < len && in[len - 1 - n] == '=')
		n++;
	return n;
}

/*
 * Why the one pass refused in[0..len): the first problem b64url_check() finds (it goes
 * character by character, so its answer is the one a person reading the text would give),
 * else B64URL_ENOSPACE. The pass takes exactly what b64url_check() accepts, given room, so
 * valid text only comes here for want of room (tests/unit and fuzz_fernet check they agree).
 */
static int
decode_refused(const char *in, size_t len)
{
	size_t need = 0;
	int ret = b64url_check(in, len, &need, NULL);

	return ret != 0 ? ret : B64URL_ENOSPACE;
}

/* Four 6-bit values into three bytes. */
static void
group_pack(const uint8_t v[4], unsigned char out[3])
{
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)(v[1] << 4 | v[2] >> 2);
	out[2] = (unsigned char)(v[2] << 6 | v[3]);
}

/* Three bytes into four 6-bit values. */
static void
group_split(const unsigned char in[3], uint8_t v[4])
{
	v[0] = (uint8_t)(in[0] >> 2);
	v[1] = (uint8_t)((in[0] & 0x03) << 4 | in[1] >> 4);
	v[2] = (uint8_t)((in[1] & 0x0f) << 2 | in[2] >> 6);
	v[3] = (uint8_t)(in[2] & 0x3f);
}

/* 1 if every lane of m is 0xff. */
static int
lanes_all(lanes m)
{
	uint64_t w[2];

	memcpy(w, &m, sizeof(w));
	return (w[0] & w[1]) == UINT64_MAX;
}

/*
 * One pass that decodes and checks at once, a block of 16 characters at a time (a short last
 * block is filled with 'A', which is data and is not packed). Groups of 4 never straddle a
 * block. The text is read once more only when refused, to say why. '=' is not data, and
 * pad_count() takes at most two at the end, so a misplaced one is refused as data.
 */
int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t npad = pad_count(in, len), ndata = len - npad, o = 0;
	lanes c, data, ok;
	uint8_t v[LANES];
	unsigned char last[3];
	unsigned unused = 0;
	int ret = 0;

	if (len % 4 != 0 || len / 4 * 3 - npad > cap)
		return decode_refused(in, len);
	memset(&ok, 0xff, sizeof(ok));
	for (size_t i = 0; i < ndata; i += LANES) {
		size_t n = ndata - i < LANES ? ndata - i : LANES, j = 0;

		memset(&c, 'A', sizeof(c));
		memcpy(&c, in + i, n);
		c = lanes_decode(c, &data);
		ok &= data;
		memcpy(v, &c, sizeof(v));
		for (; j + 4 <= n; j += 4, o += 3)
			group_pack(v + j, out + o);
		/* The last group: 2 or 3 characters (the 'A' filler after them decodes to 0), whose
		 * unused low bits must be zero. */
		if (n - j >= 2) {
			group_pack(v + j, last);
			memcpy(out + o, last, n - j - 1);
			o += n - j - 1;
			unused = n - j == 2 ? v[j + 1] & 0x0f : v[j + 2] & 0x03;
		}
	}
	if (!lanes_all(ok) || unused != 0)
		ret = decode_refused(in, len);
	else
		*outlen = o;
	explicit_bzero(v, sizeof(v));
	explicit_bzero(&c, sizeof(c));
	explicit_bzero(last, sizeof(last));
	return ret;
}

int
b64url_encode(const void *in, size_t len, char *out, size_t cap, size_t *outlen)
{
	const unsigned char *p = in;
	size_t o = 0;
	uint8_t v[LANES];
	unsigned char tail[3];
	lanes c;

	if (len / 3 >= SIZE_MAX / 4 - 1 || B64URL_ENCODED_LEN(len) > cap)
		return B64URL_ENOSPACE;
	/* 12 bytes make the 16 values of one block; a short last block ends in a partial group. */
	for (size_t i = 0; i < len; i += LANES / 4 * 3) {
		size_t take = len - i < LANES / 4 * 3 ? len - i : LANES / 4 * 3, j = 0, n = 0;

		for (; j + 3 <= take; j += 3, n += 4)
			group_split(p + i + j, v + n);
		if (take - j > 0) {
			/* 1 or 2 bytes left: 2 or 3 characters, the missing bits zero. */
			memset(tail, 0, sizeof(tail));
			memcpy(tail, p + i + j, take - j);
			group_split(tail, v + n);
			n += take - j + 1;
		}
		memset(v + n, 0, sizeof(v) - n);
		memcpy(&c, v, sizeof(c));
		c = lanes_encode(c);
		memcpy(out + o, &c, n);
		o += n;
	}
	while (o % 4 != 0)
		out[o++] = '=';
	explicit_bzero(v, sizeof(v));
	explicit_bzero(&c, sizeof(c));
	explicit_bzero(tail, sizeof(tail));
	*outlen = o;
	return 0;
}
