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

/* One more than the 6-bit value of each URL-safe base64 character; 0 for anything else. A
 * lookup per character on the path every token takes (a quarter of a decrypt, with branches). */
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

/*
 * The standard-alphabet spelling wolfCrypt decodes: '-' and '_' become '+' and '/', the rest of
 * the alphabet and '=' stay. Only text b64url_check() accepted is translated, so the other
 * entries are never used. A load per character instead of two compares (a tenth of a decrypt).
 */
static const unsigned char b64url_to_std[256] = {
#define B64URL_SAME(c) [c] = c
	B64URL_SAME('A'), B64URL_SAME('B'), B64URL_SAME('C'), B64URL_SAME('D'), B64URL_SAME('E'),
	B64URL_SAME('F'), B64URL_SAME('G'), B64URL_SAME('H'), B64URL_SAME('I'), B64URL_SAME('J'),
	B64URL_SAME('K'), B64URL_SAME('L'), B64URL_SAME('M'), B64URL_SAME('N'), B64URL_SAME('O'),
	B64URL_SAME('P'), B64URL_SAME('Q'), B64URL_SAME('R'), B64URL_SAME('S'), B64URL_SAME('T'),
	B64URL_SAME('U'), B64URL_SAME('V'), B64URL_SAME('W'), B64URL_SAME('X'), B64URL_SAME('Y'),
	B64URL_SAME('Z'), B64URL_SAME('a'), B64URL_SAME('b'), B64URL_SAME('c'), B64URL_SAME('d'),
	B64URL_SAME('e'), B64URL_SAME('f'), B64URL_SAME('g'), B64URL_SAME('h'), B64URL_SAME('i'),
	B64URL_SAME('j'), B64URL_SAME('k'), B64URL_SAME('l'), B64URL_SAME('m'), B64URL_SAME('n'),
	B64URL_SAME('o'), B64URL_SAME('p'), B64URL_SAME('q'), B64URL_SAME('r'), B64URL_SAME('s'),
	B64URL_SAME('t'), B64URL_SAME('u'), B64URL_SAME('v'), B64URL_SAME('w'), B64URL_SAME('x'),
	B64URL_SAME('y'), B64URL_SAME('z'), B64URL_SAME('0'), B64URL_SAME('1'), B64URL_SAME('2'),
	B64URL_SAME('3'), B64URL_SAME('4'), B64URL_SAME('5'), B64URL_SAME('6'), B64URL_SAME('7'),
	B64URL_SAME('8'), B64URL_SAME('9'), B64URL_SAME('='), ['-'] = '+', ['_'] = '/',
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

int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	unsigned char std[B64URL_SLICE], bin[B64URL_SLICE / 4 * 3];
	size_t need, done = 0;
	int ret = 0;

	if ((ret = b64url_check(in, len, &need, NULL)) != 0)
		return ret;
	if (need > cap)
		return B64URL_ENOSPACE;
	if (len > B64URL_MAX_IN)
		return B64URL_ENOSPACE;
	for (size_t off = 0; off < len && ret == 0; off += B64URL_SLICE) {
		size_t n = len - off < B64URL_SLICE ? len - off : B64URL_SLICE;
		size_t npad = 0;
		word32 got;

		for (size_t i = 0; i < n; i++)
			std[i] = b64url_to_std[(unsigned char)in[off + i]];
		/* b64url_check() allowed '=' only at the end of the text, so only in the last slice. */
		while (npad < n && in[off + n - 1 - npad] == '=')
			npad++;
		/*
		 * wolfSSL 5.5.4 wants room for 3 bytes per group even when the group is padding,
		 * and writes a NUL after the data when it has room: decode into bin, copy what
		 * the text holds.
		 */
		got = (word32)(n / 4 * 3);
		if (Base64_Decode(std, (word32)n, bin, &got) != 0 || got != n / 4 * 3 - npad)
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
	for (size_t i = 0; i < need; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	*outlen = need;
	return 0;
}
