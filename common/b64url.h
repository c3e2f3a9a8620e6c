/*
 * b64url: strict URL-safe base64 (RFC 4648 §5), for Fernet keys and tokens.
 *
 * "Strict" means one text per byte string: only A-Z a-z 0-9 - _, a length that is a multiple of
 * 4, '=' only as the last one or two characters and only where the length needs it, and the
 * unused low bits of the last data character zero. That is exactly what Python's
 * base64.urlsafe_b64encode() emits; the lenient variants Python's decoder also takes (+ and /,
 * whitespace, junk after the padding) are refused.
 *
 * Base64 is an encoding, not cryptography: Python's Fernet, too, leaves it to the standard
 * library rather than to OpenSSL. It is written here because wolfCrypt's Base64_Decode is
 * lenient (it skips spaces and line ends and stops at a NUL), uses the other alphabet, and
 * takes more time on a token than AES and HMAC together (58% of a decrypt's time).
 * Like wolfCrypt's, it is constant-time in the characters (a key passes through it).
 *
 * Pure functions: no allocation, no I/O; every buffer belongs to the caller.
 */
#ifndef SQUIRREL_B64URL_H
#define SQUIRREL_B64URL_H

#include <stddef.h>

/* Characters of the padded encoding of n bytes. A constant expression when n is. */
#define B64URL_ENCODED_LEN(n) (4 * (((n) + 2) / 3))

#define B64URL_ERRORS(X)                                                                           \
	X(B64URL_ELENGTH, -1, "the length is not a multiple of 4")                                 \
	X(B64URL_ECHAR, -2, "a character is not url-safe base64 (A-Z a-z 0-9 - _)")                \
	X(B64URL_EPAD, -3, "misplaced '=' padding")                                                \
	X(B64URL_EBITS, -4, "the last character has unused bits set (not canonical)")              \
	X(B64URL_ENOSPACE, -5, "the output buffer is too small")

enum b64url_error {
#define B64URL_ENUM(name, value, text) name = value,
	B64URL_ERRORS(B64URL_ENUM)
#undef B64URL_ENUM
};

/* Text for a B64URL_E* code; "unknown error" for anything else. Static storage. */
const char *b64url_strerror(int code);

/*
 * Check that in[0..len) is strict URL-safe base64 without decoding it. Returns 0 and sets
 * *declen to the number of bytes it decodes to, or a negative B64URL_E* code (ELENGTH, ECHAR,
 * EPAD, EBITS) and sets *pos to the offset of the first offending character (0 for ELENGTH).
 * pos may be NULL. The empty string is valid and decodes to 0 bytes.
 */
int b64url_check(const char *in, size_t len, size_t *declen, size_t *pos);

/*
 * Decode strict URL-safe base64 into out (cap bytes) and set *outlen. Returns 0 or a negative
 * B64URL_E* code; nothing is promised about out on failure. out is not NUL-terminated and
 * nothing past out[*outlen - 1] is written. No copy of the text or of the bytes is made
 * elsewhere, and no branch or table index depends on a character's value.
 */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *outlen);

/*
 * Encode len bytes of in as padded URL-safe base64 into out (cap chars) and set *outlen to
 * B64URL_ENCODED_LEN(len). Returns 0 or B64URL_ENOSPACE. out is not
 * NUL-terminated: exactly *outlen chars are written, nothing beyond them.
 */
int b64url_encode(const void *in, size_t len, char *out, size_t cap, size_t *outlen);

#endif
