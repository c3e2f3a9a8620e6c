/*
 * Chunked transfer coding (RFC 9112 §7.1), decoded in place. A strict decoder: a chunk size
 * that is not hex, too long, or followed by anything but optional whitespace and then ';' or
 * CRLF is refused ("5 6" is not 5), and so is a trailer line that is not "name:", because a
 * decoder that guesses differently from a proxy in front of it is how chunked smuggling works.
 */
#include <string.h>

#include "http_scan.h"

enum {
	CH_SIZE,    /* hex digits of the chunk size */
	CH_SIZE_WS, /* whitespace after them (BWS): only ';' or CR may follow */
	CH_EXT,     /* chunk extension after its ';', skipped up to CR */
	CH_SIZE_LF, /* the LF after the size line's CR */
	CH_DATA,    /* chunk data */
	CH_DATA_CR, /* the CRLF after chunk data */
	CH_DATA_LF,
	CH_TRAILER,      /* start of a trailer line, or the final CRLF */
	CH_TRAILER_NAME, /* a trailer field's name, up to its ':' */
	CH_TRAILER_TXT,  /* a trailer field's value */
	CH_TRAILER_LF,   /* the LF ending a trailer line */
	CH_END_LF,       /* the LF ending the chunked body */
	CH_DONE,
};

/* 15 hex digits: 2^60 bytes is more than anyone sends, and cannot overflow. */
#define CH_MAX_DIGITS 15

static ssize_t
invalid(struct http_chunked *d, const char *why)
{
	d->why = why;
	return HTTP_INVALID;
}

void
http_chunked_init(struct http_chunked *d)
{
	memset(d, 0, sizeof(*d));
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t
http_chunked_decode(struct http_chunked *d, char *buf, size_t *len)
{
	size_t i = 0, o = 0, n = *len;

	while (i < n && d->state != CH_DONE) {
		unsigned char c = (unsigned char)buf[i];

		switch (d->state) {
		case CH_SIZE:
			if (hexval(c) >= 0) {
				if (++d->digits > CH_MAX_DIGITS)
					return invalid(d, "chunk size over 15 hex digits");
				d->remaining = d->remaining * 16 + (uint64_t)hexval(c);
			} else if (d->digits > 0 && c == ';') {
				d->state = CH_EXT;
			} else if (d->digits > 0 && (c == ' ' || c == '\t')) {
				d->state = CH_SIZE_WS;
			} else if (d->digits > 0 && c == '\r') {
				d->state = CH_SIZE_LF;
			} else {
				return invalid(d, d->digits == 0 ? "chunk size is not hexadecimal"
						  : c == '\n'    ? "chunk size line without CRLF"
								 : "chunk size followed by junk");
			}
			break;
		case CH_SIZE_WS:
			if (c == ';')
				d->state = CH_EXT;
			else if (c == '\r')
				d->state = CH_SIZE_LF;
			else if (c != ' ' && c != '\t')
				return invalid(d, c == '\n' ? "chunk size line without CRLF"
							    : "chunk size followed by junk");
			break;
		case CH_EXT:
			if (c == '\r')
				d->state = CH_SIZE_LF;
			else if (HTTP_IS(c, HC_CTL) && c != '\t')
				return invalid(d, "control byte in a chunk extension");
			break;
		case CH_SIZE_LF:
			if (c != '\n')
				return invalid(d, "chunk size line without CRLF");
			d->line = 0;
			d->digits = 0;
			d->state = d->remaining > 0 ? CH_DATA : CH_TRAILER;
			i++;
			continue;
		case CH_DATA: {
			size_t take = n - i;

			if (take > d->remaining)
				take = (size_t)d->remaining;
			memmove(buf + o, buf + i, take);
			o += take;
			i += take;
			d->remaining -= take;
			if (d->remaining == 0)
				d->state = CH_DATA_CR;
			continue;
		}
		case CH_DATA_CR:
			if (c != '\r')
				return invalid(d, "chunk data not followed by CRLF");
			d->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (c != '\n')
				return invalid(d, "chunk data not followed by CRLF");
			d->line = 0;
			d->state = CH_SIZE;
			i++;
			continue;
		case CH_TRAILER:
			if (c == '\r') {
				d->state = CH_END_LF;
				break;
			}
			d->state = CH_TRAILER_NAME;
			/* FALLTHROUGH */
		case CH_TRAILER_NAME:
			/* No whitespace first (obs-fold) or before the colon, and a name. */
			if (c == ':' && d->line > 0)
				d->state = CH_TRAILER_TXT;
			else if (!HTTP_IS(c, HC_TCHAR))
				return invalid(d, "malformed trailer field name");
			break;
		case CH_TRAILER_TXT:
			if (c == '\r')
				d->state = CH_TRAILER_LF;
			else if (HTTP_IS(c, HC_CTL) && c != '\t')
				return invalid(d, "control byte in a trailer field");
			break;
		case CH_TRAILER_LF:
			if (c != '\n')
				return invalid(d, "trailer field without CRLF");
			d->line = 0;
			d->state = CH_TRAILER;
			i++;
			continue;
		case CH_END_LF:
			if (c != '\n')
				return invalid(d, "chunked body not ended by CRLF");
			d->state = CH_DONE;
			break;
		}
		i++;
		/* Size and trailer lines are bounded; data is not counted here. */
		if (++d->line > HTTP_MAX_CHUNK_LINE && d->state <= CH_SIZE_LF)
			return invalid(d, "chunk size line over 1024 bytes");
		if (d->state >= CH_TRAILER && ++d->trailer > HTTP_MAX_HEAD)
			return invalid(d, "trailer section over 16384 bytes");
	}
	if (d->state != CH_DONE) {
		*len = o;
		return HTTP_PARTIAL;
	}
	/* Move what follows the body next to the decoded bytes, where the caller looks. */
	memmove(buf + o, buf + i, n - i);
	*len = o;
	return (ssize_t)(n - i);
}
