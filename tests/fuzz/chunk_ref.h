/*
 * chunk_ref: a second, deliberately naive reading of the chunked transfer coding (RFC 9112
 * §7.1) with the same strictness as common/http_chunked.c, for differential fuzzing: the whole
 * body in one buffer, no state machine, no in-place tricks. Header-only (tests/fuzz only).
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = 1*15HEXDIG *( SP / HTAB ) [ ";" *(any byte but CTL, HTAB allowed) ] CRLF
 *                  chunk-data CRLF
 *   last-chunk   = 1*15("0") *( SP / HTAB ) [ extension ] CRLF
 *   trailer line = 1*tchar ":" *(any byte but CR and CTL, HTAB allowed) CRLF
 *
 * Where the decoder's bounds on line and trailer lengths could decide (a size line near
 * HTTP_MAX_CHUNK_LINE, trailers near HTTP_MAX_HEAD), the reference answers REF_UNSURE and the
 * harness does not compare.
 */
#ifndef SQUIRREL_CHUNK_REF_H
#define SQUIRREL_CHUNK_REF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

enum { REF_PARTIAL = -2, REF_INVALID = -1, REF_UNSURE = -3 };

static int
ref_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
ref_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ref_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * Decode in[0..n) into out (n bytes of room). Returns the bytes the body took (>= 0) when it is
 * complete, REF_PARTIAL (out holds the data so far), REF_INVALID or REF_UNSURE. *outlen gets
 * the data bytes decoded either way.
 */
static long
chunk_ref_decode(const unsigned char *in, size_t n, unsigned char *out, size_t *outlen)
{
	size_t pos = 0, o = 0, trailer_start;

	*outlen = 0;
	for (;;) {
		size_t line = pos;
		uint64_t size = 0;
		int digits = 0, v;

		while (pos < n && (v = ref_hex(in[pos])) >= 0) {
			if (++digits > 15)
				return REF_INVALID;
			size = size * 16 + (uint64_t)v;
			pos++;
		}
		if (pos - line > HTTP_MAX_CHUNK_LINE - 8)
			return REF_UNSURE;
		if (pos == n)
			return REF_PARTIAL;
		if (digits == 0)
			return REF_INVALID;
		while (pos < n && (in[pos] == ' ' || in[pos] == '\t')) {
			pos++;
			if (pos - line > HTTP_MAX_CHUNK_LINE - 8)
				return REF_UNSURE;
		}
		if (pos == n)
			return REF_PARTIAL;
		if (in[pos] == ';') {
			pos++;
			while (pos < n && in[pos] != '\r') {
				if (ref_ctl(in[pos]))
					return REF_INVALID;
				pos++;
				if (pos - line > HTTP_MAX_CHUNK_LINE - 8)
					return REF_UNSURE;
			}
			if (pos == n)
				return REF_PARTIAL;
		}
		if (in[pos] != '\r')
			return REF_INVALID;
		if (++pos == n)
			return REF_PARTIAL;
		if (in[pos++] != '\n')
			return REF_INVALID;
		if (size == 0)
			break;
		if (n - pos < size) {
			memcpy(out + o, in + pos, n - pos);
			*outlen = o + (n - pos);
			return REF_PARTIAL;
		}
		memcpy(out + o, in + pos, (size_t)size);
		o += (size_t)size;
		pos += (size_t)size;
		*outlen = o;
		if (pos == n)
			return REF_PARTIAL;
		if (in[pos++] != '\r')
			return REF_INVALID;
		if (pos == n)
			return REF_PARTIAL;
		if (in[pos++] != '\n')
			return REF_INVALID;
	}
	trailer_start = pos;
	for (;;) {
		if (pos - trailer_start > HTTP_MAX_HEAD - 64)
			return REF_UNSURE;
		if (pos == n)
			return REF_PARTIAL;
		if (in[pos] == '\r') {
			if (++pos == n)
				return REF_PARTIAL;
			if (in[pos] != '\n')
				return REF_INVALID;
			return (long)(pos + 1);
		}
		{
			size_t name = pos;

			while (pos < n && ref_tchar(in[pos])) {
				pos++;
				if (pos - trailer_start > HTTP_MAX_HEAD - 64)
					return REF_UNSURE;
			}
			if (pos == n)
				return REF_PARTIAL;
			if (pos == name || in[pos] != ':')
				return REF_INVALID;
		}
		while (pos < n && in[pos] != '\r') {
			if (ref_ctl(in[pos]))
				return REF_INVALID;
			pos++;
			if (pos - trailer_start > HTTP_MAX_HEAD - 64)
				return REF_UNSURE;
		}
		if (pos == n)
			return REF_PARTIAL;
		if (++pos == n)
			return REF_PARTIAL;
		if (in[pos++] != '\n')
			return REF_INVALID;
	}
}

#endif
