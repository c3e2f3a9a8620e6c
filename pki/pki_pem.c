#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "pki_int.h"

const char *
pki_strerror(int code)
{
	switch (code) {
#define PKI_TEXT(name, value, text)                                                                \
	case name: return text;
		PKI_ERRORS(PKI_TEXT)
#undef PKI_TEXT
	}
	return "unknown pki error";
}

int
pki_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

void
pki_appendf(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, cap - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *used)
		*used = cap;
	else
		*used += (size_t)n;
}

/* ---- PEM (RFC 7468) -------------------------------------------------------------------- */

static const unsigned char *
find(const unsigned char *p, size_t n, const char *s)
{
	return memmem(p, n, s, strlen(s));
}

int
pki_pem_is(const unsigned char *in, size_t len)
{
	return find(in, len, "-----BEGIN ") != NULL;
}

int
pki_pem_legacy_encrypted(const unsigned char *in, size_t len)
{
	static const char hdr[] = "Proc-Type: 4,ENCRYPTED";
	const unsigned char *p = in, *end = in + len;

	while ((p = find(p, (size_t)(end - p), "-----BEGIN ")) != NULL) {
		/* Headers follow the BEGIN line, each "Name: value", up to a blank line. */
		const unsigned char *line = memchr(p, '\n', (size_t)(end - p));

		while (line != NULL && ++line < end) {
			const unsigned char *eol = memchr(line, '\n', (size_t)(end - line));
			size_t n = (size_t)((eol ? eol : end) - line);

			if (n > 0 && line[n - 1] == '\r')
				n--;
			if (n == 0 || memchr(line, ':', n) == NULL)
				break;
			if (n >= sizeof(hdr) - 1 && memcmp(line, hdr, sizeof(hdr) - 1) == 0)
				return 1;
			line = eol;
		}
		p += 11;
	}
	return 0;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Base64 with line ends in between, straight into the caller's buffer. Strict: only the
 * standard alphabet, whitespace, and '=' padding at the very end; wolfSSL's Base64_Decode
 * drops a tail of one to three characters and whatever follows a '=' without an error
 * (docs/architecture.md, "Hand-written DER in pki/").
 */
static int
b64_decode(const unsigned char *p, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
	unsigned acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int v;

		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')
			continue;
		if (p[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value(p[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return PKI_ESPACE;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6 || acc != 0)
		return -1;
	*outlen = o;
	return 0;
}

int
pki_pem_next(const unsigned char *in, size_t len, size_t *offset, const char *const *labels,
	     int *which, unsigned char *der, size_t cap, size_t *derlen)
{
	size_t off = *offset;

	while (off < len) {
		const unsigned char *b = find(in + off, len - off, "-----BEGIN ");
		const unsigned char *lab, *dash, *body, *end, *stop;
		char endline[96];
		size_t lablen;
		int idx = -1, rc;

		if (b == NULL)
			break;
		lab = b + 11;
		dash = find(lab, (size_t)(in + len - lab), "-----");
		if (dash == NULL)
			return -1;
		lablen = (size_t)(dash - lab);
		if (lablen == 0 || lablen > 64 || memchr(lab, '\n', lablen) != NULL)
			return -1;
		snprintf(endline, sizeof(endline), "-----END %.*s-----", (int)lablen,
			 (const char *)lab);
		body = dash + 5;
		end = find(body, (size_t)(in + len - body), endline);
		if (end == NULL)
			return -1;
		stop = end + strlen(endline);
		if (labels == NULL) {
			idx = 0;
		} else {
			for (int i = 0; labels[i] != NULL; i++)
				if (strlen(labels[i]) == lablen &&
				    memcmp(labels[i], lab, lablen) == 0) {
					idx = i;
					break;
				}
		}
		if (idx < 0) {
			off = (size_t)(stop - in);
			continue;
		}
		rc = b64_decode(body, (size_t)(end - body), der, cap, derlen);
		if (rc < 0)
			return rc;
		*offset = (size_t)(stop - in);
		if (which != NULL)
			*which = idx;
		return 1;
	}
	*offset = len;
	return 0;
}

int
pki_pem_encode(const unsigned char *der, size_t len, int type, char *pem, size_t cap,
	       size_t *pemlen)
{
	int n;

	if (cap == 0 || len > PKI_DER_MAX)
		return PKI_ESPACE;
	/* RFC 7468 §2: the armour, 64-column base64 and a line end after each line; wolfSSL
	 * writes no NUL, so room is kept for ours. Too small an output is BAD_FUNC_ARG, or
	 * BUFFER_E from the base64 encoder. */
	n = wc_DerToPem(der, (word32)len, (byte *)pem, (word32)(cap - 1), type);
	if (n == BAD_FUNC_ARG || n == BUFFER_E)
		return PKI_ESPACE;
	if (n <= 0)
		return PKI_EINTERNAL;
	pem[n] = '\0';
	*pemlen = (size_t)n;
	return 0;
}
