#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "b64url.h"

/* Decode in slices so the standard-alphabet copy wolfCrypt needs is a small stack buffer. */
#define B64URL_SLICE 256

/* wolfCrypt's word32 lengths; nothing we encode comes near this. */
#define B64URL_MAX_IN 0x3fffffffu

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

/* One more than the 6-bit value of each URL-safe base64 character; 0 for anything else. For
 * b64url_check(), which says where text goes wrong; valid text is decoded through the next. */
static const unsigned char b64url_plus1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63,
	['_'] = 64,
};

#define B64URL_ALNUM(X)                                                                            \
	X('A') X('B') X('C') X('D') X('E') X('F') X('G') X('H') X('I') X('J') X('K') X('L') X('M') \
	X('N') X('O') X('P') X('Q') X('R') X('S') X('T') X('U') X('V') X('W') X('X') X('Y') X('Z') \
	X('a') X('b') X('c') X('d') X('e') X('f') X('g') X('h') X('i') X('j') X('k') X('l') X('m') \
	X('n') X('o') X('p') X('q') X('r') X('s') X('t') X('u') X('v') X('w') X('x') X('y') X('z') \
	X('0') X('1') X('2') X('3') X('4') X('5') X('6') X('7') X('8') X('9')

/*
 * For each URL-safe data character, B64URL_DATA | its spelling in the standard alphabet that
 * wolfCrypt decodes ('-' and '_' become '+' and '/'); 0 for anything else, '=' included. One
 * load per character translates and checks it: AND the entries together, and the flag
 * survives only if every character was data. That saves the separate checking pass: about
 * 1,000 instructions per token, 5% of a decrypt.
 */
#define B64URL_DATA 0x80u
static const unsigned char b64url_to_std[256] = {
#define B64URL_TO_STD(c) [c] = (c) | B64URL_DATA,
	B64URL_ALNUM(B64URL_TO_STD)
	['-'] = '+' | B64URL_DATA,
	['_'] = '/' | B64URL_DATA,
#undef B64URL_TO_STD
};

/* The way back, for what Base64_Encode_NoNl writes: one load per character, no branch. */
static const unsigned char b64url_from_std[256] = {
#define B64URL_SAME(c) [c] = (c),
	B64URL_ALNUM(B64URL_SAME)
	['+'] = '-',
	['/'] = '_',
	['='] = '=',
#undef B64URL_SAME
};

/* The 6-bit value of a URL-safe base64 character, or -1. */
static int
b64url_value(unsigned char ch)
{
	return (int)b64url_plus1[ch] - 1;
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
 * What b64url_check() asks beyond "data characters, then npad '='": a length that is a
 * multiple of 4, and (RFC 4648 §3.5) the unused bits of the last data character zero. A
 * character that is not data gives -1 here, whose low bits are set: refused, then diagnosed.
 */
static int
shape_ok(const char *in, size_t len, size_t npad)
{
	if (len % 4 != 0)
		return 0;
	if (npad == 1)
		return (b64url_value((unsigned char)in[len - 2]) & 0x03) == 0;
	if (npad == 2)
		return (b64url_value((unsigned char)in[len - 3]) & 0x0f) == 0;
	return 1;
}

/* Translate one character into *std; its table entry, for the caller to AND. */
static unsigned
to_std1(unsigned char ch, unsigned char *std)
{
	unsigned v = b64url_to_std[ch];

	*std = (unsigned char)(v & ~B64URL_DATA);
	return v;
}

/* Translate in[0..n) into std; B64URL_DATA if every character was a data character. */
static unsigned
to_std(const char *in, size_t n, unsigned char *std)
{
	const unsigned char *u = (const unsigned char *)in;
	unsigned all = B64URL_DATA;
	size_t i = 0;

	/* A group at a time, so the loop's own compare and branch are a small part of it. */
	for (; i + 4 <= n; i += 4)
		all &= to_std1(u[i], std + i) & to_std1(u[i + 1], std + i + 1) &
		       to_std1(u[i + 2], std + i + 2) & to_std1(u[i + 3], std + i + 3);
	for (; i < n; i++)
		all &= to_std1(u[i], std + i);
	return all;
}

/*
 * The answer for text the one pass did not take: the first problem b64url_check() finds (it
 * goes character by character, so its code is the one a person reading the text would give),
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

int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	unsigned char std[B64URL_SLICE], bin[B64URL_SLICE / 4 * 3];
	size_t npad = pad_count(in, len), ndata = len - npad, done = 0;
	int ret = 0;

	/* One pass for the usual case (checked while translated); the rare one is diagnosed. */
	if (!shape_ok(in, len, npad) || len > B64URL_MAX_IN || len / 4 * 3 - npad > cap)
		return decode_refused(in, len);
	for (size_t off = 0; off < len && ret == 0; off += B64URL_SLICE) {
		size_t n = len - off < B64URL_SLICE ? len - off : B64URL_SLICE;
		/* The '=' are the last npad characters, so all in the last slice (n >= 4 there). */
		size_t nd = ndata - off < n ? ndata - off : n;
		word32 got;

		if (to_std(in + off, nd, std) != B64URL_DATA) {
			ret = decode_refused(in, len);
			break;
		}
		memset(std + nd, '=', n - nd);
		/*
		 * wolfSSL 5.5.4 wants room for 3 bytes per group even when the group is padding,
		 * and writes a NUL after the data when it has room: decode into bin, copy what
		 * the text holds.
		 */
		got = (word32)(n / 4 * 3);
		if (Base64_Decode(std, (word32)n, bin, &got) != 0 || got != n / 4 * 3 - (n - nd))
			ret = B64URL_ECRYPTO;
		else
			memcpy(out + done, bin, got);
		done += got;
	}
	explicit_bzero(std, sizeof(std));
	explicit_bzero(bin, sizeof(bin));
	if (ret == 0)
		*outlen = done;
	return ret;
}

int
b64url_encode(const void *in, size_t len, char *out, size_t cap, size_t *outlen)
{
	size_t need;
	word32 got;

	if (len > B64URL_MAX_IN)
		return B64URL_ENOSPACE;
	need = B64URL_ENCODED_LEN(len);
	if (need > cap)
		return B64URL_ENOSPACE;
	if (len == 0) {
		*outlen = 0;
		return 0;
	}
	/* Exact room: with more, wolfCrypt writes a NUL after the text, past what was asked. */
	got = (word32)need;
	if (Base64_Encode_NoNl(in, (word32)len, (unsigned char *)out, &got) != 0 || got != need)
		return B64URL_ECRYPTO;
	for (size_t i = 0; i < need; i++)
		out[i] = (char)b64url_from_std[(unsigned char)out[i]];
	*outlen = need;
	return 0;
}
