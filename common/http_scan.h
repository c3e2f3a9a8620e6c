/*
 * http_scan: pieces shared by the request and response parsers. Internal to common/http*.c.
 */
#ifndef SQUIRREL_HTTP_SCAN_H
#define SQUIRREL_HTTP_SCAN_H

#include "http.h"

/* Byte classes (RFC 9110 §5.6.2 tchar, §5.5 field-vchar). */
enum { HC_CTL = 1, HC_TCHAR = 2, HC_VCHAR = 4, HC_DIGIT = 8 };
extern const uint8_t http_ctype[256];

#define HTTP_IS(c, cls) (http_ctype[(unsigned char)(c)] & (cls))

/*
 * Find the next complete line from s->pos. Returns 1 with the line at [*ls, *le) (without
 * CRLF or LF) and s->pos past its end; 0 when the line is incomplete (everything up to len
 * was checked); -1 with *why set on a bare CR or a control byte.
 */
int http_scan_line(const char *buf, size_t len, struct http_scan *s, size_t *ls, size_t *le,
		   const char **why);

/* What a head parser does with each part; the driver below does the rest. */
struct http_head_visitor {
	int (*start)(void *m, const char *buf, size_t ls, size_t le); /* 0, or -1 after fail */
	int (*field)(void *m, const struct http_header *h);           /* 0, or -1 after fail */
	int (*fail)(void *m, int status, const char *why);            /* returns HTTP_INVALID */
	const char *line_too_long;
};

/*
 * Drive a head parse from where s left off: skip empty lines before the start line, enforce
 * HTTP_MAX_LINE / HTTP_MAX_HEAD / HTTP_MAX_FIELDS, split fields and hand them over.
 * Returns 1 at the blank line that ends the head, HTTP_PARTIAL, or HTTP_INVALID.
 */
int http_scan_head(const char *buf, size_t len, struct http_scan *s,
		   const struct http_head_visitor *v, void *m);

/* Split a header line into name and trimmed value. Returns 0, or -1 with *why set
 * (obs-fold, no colon, empty name, whitespace or other non-tchar in the name). */
int http_split_field(const char *line, size_t n, struct http_header *h, const char **why);

/* Content-Length value: one or more digits, at most 18 of them. Returns 0 or -1. */
int http_parse_length(const char *v, size_t n, uint64_t *out);

/* Walk a comma-separated list: the next non-empty trimmed element from *pos (start at 0),
 * or 0 at the end. Empty elements are skipped (RFC 9110 §5.6.1). */
int http_list_next(const char *v, size_t n, size_t *pos, const char **el, size_t *el_len);

/* Does the comma-separated list in v contain token (lower-case literal)? */
int http_list_has(const char *v, size_t n, const char *token);

#endif
