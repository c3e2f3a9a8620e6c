/*
 * http: a sans-IO HTTP/1.1 codec (RFC 9112). It never reads, writes or allocates: the caller
 * owns every buffer, and parsed fields are views into it.
 *
 * Parsers are incremental. Call again with the same buffer after appending bytes; the state
 * in the message struct remembers how far it got, so bytes trickled in one at a time cost
 * O(new bytes), not a re-scan. Between calls for one message the caller may only append
 * (the buffer may move, its contents may not). Views are filled in when the parser
 * completes and live as long as the buffer is unchanged.
 *
 * Return values, as picohttpparser's:
 *   > 0            complete: the head is that many bytes long
 *   HTTP_PARTIAL   need more bytes
 *   HTTP_INVALID   reject; req->reject holds the status to answer with (400, 413, 414, 431,
 *                  501 or 505), and req->why / res->why a short static reason for logs.
 *                  If the request line was split before the fault, req->method, target
 *                  and meth are filled in too (NULL otherwise), pointing into buf.
 */
#ifndef SQUIRREL_HTTP_H
#define SQUIRREL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits, with nginx-like sizes: generous for real clients, small enough that a slot's
 * buffer is bounded. A request line longer than HTTP_MAX_LINE is 414; a head longer than
 * HTTP_MAX_HEAD (counting any empty lines before it) or with more than HTTP_MAX_FIELDS
 * fields is 431. */
#define HTTP_MAX_LINE 8192
#define HTTP_MAX_HEAD 16384
#define HTTP_MAX_FIELDS 100
/* Largest chunk-size line (digits plus extensions): anything longer is an attack. */
#define HTTP_MAX_CHUNK_LINE 1024

enum { HTTP_INVALID = -1, HTTP_PARTIAL = -2 };

/* The methods of RFC 9110 §9 and PATCH (RFC 5789); anything else is HTTP_OTHER. */
enum http_method {
	HTTP_OTHER,
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_CONNECT,
	HTTP_OPTIONS,
	HTTP_TRACE,
	HTTP_PATCH
};

/* How a message body is delimited (RFC 9112 §6.3). */
enum http_framing { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_CLOSE };

/* Where a parser is in the head. Private, but small and embedded so that a connection
 * waiting for the rest of a head costs a few bytes. */
struct http_scan {
	uint32_t pos;     /* bytes examined */
	uint32_t line;    /* start of the current line */
	uint32_t start;   /* start of the start line (after leading empty lines) */
	uint16_t nfields; /* header fields seen */
	uint8_t cr;       /* the previous byte was CR */
	uint8_t in_head;  /* the start line is done */
	uint8_t ascii;    /* the start line must be ASCII (requests) */
};

struct http_request {
	/* Filled in when complete. */
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	const char *head; /* the whole head, for http_header_next() */
	size_t head_len;
	enum http_method meth;
	enum http_framing framing; /* NONE, LENGTH or CHUNKED */
	uint64_t content_length;   /* with HTTP_BODY_LENGTH */
	uint8_t version;           /* 10 or 11 */
	uint8_t keep_alive;        /* the connection may carry another request */
	uint8_t expect_continue;   /* Expect: 100-continue in HTTP/1.1 (RFC 9110 §10.1.1) */
	/* Set on HTTP_INVALID. */
	uint16_t reject;
	const char *why;
	/* Private. */
	struct http_scan s;
	uint32_t method_off, target_off, target_end;
	uint8_t has_host, has_cl, has_te, conn_close, conn_keep;
};

struct http_response {
	/* Filled in when complete. */
	int status;
	const char *reason;
	size_t reason_len;
	const char *head;
	size_t head_len;
	enum http_framing framing; /* LENGTH, CHUNKED, CLOSE, or NONE (HEAD, 1xx, 204, 304) */
	uint64_t content_length;
	uint8_t version;
	uint8_t te_other; /* a transfer coding other than chunked (gzip...) is applied */
	uint8_t keep_alive;
	/* Set on HTTP_INVALID. */
	const char *why;
	/* Private. */
	struct http_scan s;
	uint32_t reason_off; /* views are made at completion: the buffer may have moved */
	uint8_t has_cl, has_te, conn_close;
	uint8_t te_chunked, te_chunked_last; /* chunked seen; the last coding so far is chunked */
};

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* without surrounding whitespace */
	size_t value_len;
};

/* Reset before parsing a new message. */
void http_request_init(struct http_request *req);
void http_response_init(struct http_response *res);

/* Parse a request head at buf[0..len). See the top of this file for the contract. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/*
 * Parse a response head at buf[0..len). head_request tells that the request was HEAD, so the
 * response has no body whatever it announces. Interim 1xx responses are returned like any
 * other; the caller skips them and parses again after them.
 */
int http_parse_response(const char *buf, size_t len, int head_request, struct http_response *res);

/*
 * Iterate over the header fields of a head that a parser accepted: *pos starts at 0.
 * Returns 1 and fills h, or 0 at the end.
 */
int http_header_next(const char *head, size_t head_len, size_t *pos, struct http_header *h);

/* Case-insensitive comparison of a view with a lower-case literal. */
int http_name_is(const char *p, size_t n, const char *lower);

/*
 * Chunked transfer coding, decoded in place (RFC 9112 §7.1). Chunk extensions are skipped
 * and trailer fields discarded; every line must end in CRLF.
 */
struct http_chunked {
	const char *why;    /* on HTTP_INVALID: what was wrong, a short static text */
	uint64_t remaining; /* data bytes left in the current chunk */
	uint32_t line;      /* bytes of the current size or trailer line */
	uint32_t trailer;   /* bytes of trailer section so far */
	uint8_t state;
	uint8_t digits;
};

void http_chunked_init(struct http_chunked *d);

/*
 * Decode buf[0..*len) in place. On return the decoded body bytes are at buf[0..*len).
 * Returns HTTP_PARTIAL when the body continues, HTTP_INVALID on a malformed chunk (d->why
 * says what was wrong), or, once
 * the body (with its trailers) is complete, the number of bytes that follow it, which are at
 * buf + *len (the next message, for a pipelining peer).
 */
ssize_t http_chunked_decode(struct http_chunked *d, char *buf, size_t *len);

/* The reason phrase of a status code ("Not Found"), or "Unknown". */
const char *http_reason(int status);

/*
 * Write a response head into buf: status line, Date (29 bytes, IMF-fixdate, from date),
 * Server, Content-Type (omitted when NULL), Content-Length, the Connection field that
 * conn asks for ("close", "keep-alive", or NULL for none), extra (zero or more complete
 * "Name: value\r\n" lines, or NULL), and the blank line. Returns the length, or -1 if it
 * does not fit in cap.
 */
int http_format_head(char *buf, size_t cap, int status, const char *date, const char *content_type,
		     uint64_t content_length, const char *conn, const char *extra);

/* Format t (seconds since the epoch) as an IMF-fixdate, exactly 29 bytes plus NUL. */
void http_format_date(char out[30], int64_t t);
#define HTTP_DATE_LEN 29

#endif
