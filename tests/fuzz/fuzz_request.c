/*
 * fuzz_request: http_parse_request (common/http_request.c) on arbitrary bytes, as the server
 * feeds it: a connection's buffer holding one or more pipelined requests.
 *
 * Invariants, for every request in the buffer:
 *   - the same bytes give the same answer fed whole, one byte at a time, and in random pieces
 *     (each piece a fresh copy ending at a guard page: the buffer moves between calls, as the
 *     contract allows, and a read past the bytes given faults);
 *   - an accepted head: every view lies inside it, the request line re-reads as method SP
 *     target SP HTTP/1.x, the framing, Content-Length, Host and keep-alive the parser reports
 *     match what an independent reading of the header fields (http_header_next) says, and no
 *     ambiguous framing (CL + TE, TE in 1.0, differing CLs) is ever accepted;
 *   - a rejected head carries one of the documented statuses and a reason.
 * The body of an accepted request is skipped the way the server discards it (Content-Length
 * bytes, or http_chunked_decode), and the next request is parsed from what follows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

#define MAX_PIPELINE 8
#define MAX_PIECES 16
#define BYTEWISE_ONE_IN 8
#define BYTEWISE_ALWAYS 32

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The list v is exactly one non-empty element, token (RFC 9110 §5.6.1: empty elements, as in
 * "chunked," or ", chunked", are ignored). */
static int
list_is_only(const char *v, size_t n, const char *token)
{
	size_t pos = 0, len, found = 0, other = 0;
	const char *el;

	while (fuzz_list_next(v, n, &pos, &el, &len)) {
		if (len == 0)
			continue;
		if (fuzz_lower_eq(el, len, token))
			found++;
		else
			other++;
	}
	return found == 1 && other == 0;
}

/*
 * Content-Length read another way than http_parse_length (a copy of that loop here would
 * agree with it by construction): 1 to 18 digits, converted by strtoull.
 */
static int
digits_value(const char *v, size_t n, uint64_t *out)
{
	char text[19];

	if (n == 0 || n >= sizeof(text))
		return -1;
	memcpy(text, v, n);
	text[n] = '\0';
	if (strspn(text, "0123456789") != n)
		return -1;
	*out = strtoull(text, NULL, 10);
	return 0;
}

struct outcome {
	int r;
	uint16_t reject;
	/* Offsets from the buffer start, so results from different buffers compare. */
	size_t method, method_len, target, target_len, head, head_len;
	enum http_method meth;
	enum http_framing framing;
	uint64_t content_length;
	uint8_t version, keep_alive;
};

static void
outcome_of(const char *buf, int r, const struct http_request *q, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->r = r;
	if (r == HTTP_INVALID)
		o->reject = q->reject;
	if (r <= 0)
		return;
	o->method = (size_t)(q->method - buf);
	o->method_len = q->method_len;
	o->target = (size_t)(q->target - buf);
	o->target_len = q->target_len;
	o->head = (size_t)(q->head - buf);
	o->head_len = q->head_len;
	o->meth = q->meth;
	o->framing = q->framing;
	o->content_length = q->content_length;
	o->version = q->version;
	o->keep_alive = q->keep_alive;
}

/* Everything an accepted head promises, re-derived without the parser's own helpers. */
static void
check_accepted(const char *buf, size_t len, int r, const struct http_request *q)
{
	size_t n = (size_t)r, pos = 0, fields = 0, hosts = 0, cls = 0, tes = 0;
	int close = 0, keep = 0, te_chunked = 0;
	uint64_t cl = 0;
	struct http_header h;

	FUZZ_CHECK(n <= len);
	FUZZ_CHECK(fuzz_inside(q->head, q->head_len, buf, n));
	FUZZ_CHECK(q->head + q->head_len == buf + n);
	FUZZ_CHECK(q->head_len <= HTTP_MAX_HEAD);
	/* Only empty lines may precede the request line (RFC 9112 §2.2). */
	for (const char *p = buf; p < q->head; p++)
		FUZZ_CHECK(*p == '\r' || *p == '\n');
	FUZZ_CHECK(q->method == q->head);
	FUZZ_CHECK(fuzz_inside(q->method, q->method_len, q->head, q->head_len));
	FUZZ_CHECK(fuzz_inside(q->target, q->target_len, q->head, q->head_len));
	FUZZ_CHECK(q->method_len > 0 && q->target_len > 0);
	for (size_t i = 0; i < q->method_len; i++)
		FUZZ_CHECK(is_tchar((unsigned char)q->method[i]));
	FUZZ_CHECK(q->method + q->method_len + 1 == q->target && q->method[q->method_len] == ' ');
	for (size_t i = 0; i < q->target_len; i++)
		FUZZ_CHECK(q->target[i] > ' ' && q->target[i] < 0x7f);
	FUZZ_CHECK(q->version == 10 || q->version == 11);
	{
		const char *v = q->target + q->target_len;
		const char *want = q->version == 11 ? " HTTP/1.1" : " HTTP/1.0";

		FUZZ_CHECK(fuzz_inside(v, 10, q->head, q->head_len));
		FUZZ_CHECK(memcmp(v, want, 9) == 0);
		FUZZ_CHECK(v[9] == '\n' || (v[9] == '\r' && v[10] == '\n'));
	}
	if (q->method_len == 3 && memcmp(q->method, "GET", 3) == 0)
		FUZZ_CHECK(q->meth == HTTP_GET);
	else if (q->method_len == 4 && memcmp(q->method, "HEAD", 4) == 0)
		FUZZ_CHECK(q->meth == HTTP_HEAD);
	else if (q->method_len == 4 && memcmp(q->method, "POST", 4) == 0)
		FUZZ_CHECK(q->meth == HTTP_POST);

	while (http_header_next(q->head, q->head_len, &pos, &h)) {
		fields++;
		FUZZ_CHECK(fields <= HTTP_MAX_FIELDS);
		FUZZ_CHECK(fuzz_inside(h.name, h.name_len, q->head, q->head_len));
		FUZZ_CHECK(fuzz_inside(h.value, h.value_len, q->head, q->head_len));
		FUZZ_CHECK(h.name_len > 0 && h.name + h.name_len < h.value + 1);
		FUZZ_CHECK(h.name[h.name_len] == ':');
		for (size_t i = 0; i < h.name_len; i++)
			FUZZ_CHECK(is_tchar((unsigned char)h.name[i]));
		for (size_t i = 0; i < h.value_len; i++) {
			unsigned char c = (unsigned char)h.value[i];

			FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
		if (h.value_len > 0) {
			FUZZ_CHECK(h.value[0] != ' ' && h.value[0] != '\t');
			FUZZ_CHECK(h.value[h.value_len - 1] != ' ' &&
				   h.value[h.value_len - 1] != '\t');
		}
		if (fuzz_lower_eq(h.name, h.name_len, "host")) {
			hosts++;
		} else if (fuzz_lower_eq(h.name, h.name_len, "content-length")) {
			uint64_t v;

			FUZZ_CHECK(digits_value(h.value, h.value_len, &v) == 0);
			FUZZ_CHECK(cls == 0 || v == cl);
			cl = v;
			cls++;
		} else if (fuzz_lower_eq(h.name, h.name_len, "transfer-encoding")) {
			tes++;
			te_chunked = list_is_only(h.value, h.value_len, "chunked");
		} else if (fuzz_lower_eq(h.name, h.name_len, "connection")) {
			close |= fuzz_list_has(h.value, h.value_len, "close");
			keep |= fuzz_list_has(h.value, h.value_len, "keep-alive");
		}
	}
	/* Header fields end at the blank line that ends the head. */
	FUZZ_CHECK(pos <= q->head_len);
	FUZZ_CHECK(hosts <= 1);
	if (q->version == 11)
		FUZZ_CHECK(hosts == 1);
	/* No ambiguous framing is ever accepted (RFC 9112 §6.1, §6.3). */
	FUZZ_CHECK(!(cls > 0 && tes > 0));
	FUZZ_CHECK(tes <= 1);
	switch (q->framing) {
	case HTTP_BODY_CHUNKED: FUZZ_CHECK(tes == 1 && te_chunked && q->version == 11); break;
	case HTTP_BODY_LENGTH:
		FUZZ_CHECK(tes == 0 && cls > 0 && cl == q->content_length && cl > 0);
		break;
	case HTTP_BODY_NONE: FUZZ_CHECK(tes == 0 && (cls == 0 || cl == 0)); break;
	default: FUZZ_CHECK(!"request framing is NONE, LENGTH or CHUNKED");
	}
	FUZZ_CHECK(q->keep_alive == (!close && (q->version == 11 || keep)));
}

static void
check_rejected(const struct http_request *q)
{
	FUZZ_CHECK(q->reject == 400 || q->reject == 413 || q->reject == 414 || q->reject == 431 ||
		   q->reject == 501 || q->reject == 505);
	FUZZ_CHECK(q->why != NULL && q->why[0] != '\0');
}

static int
parse_whole(const char *buf, size_t len, struct http_request *q)
{
	http_request_init(q);
	return http_parse_request(buf, len, q);
}

/* One byte more per call, as a slowloris sender delivers it. */
static int
parse_bytewise(const char *buf, size_t len, struct http_request *q)
{
	int r = HTTP_PARTIAL;

	http_request_init(q);
	for (size_t i = 1; i <= len && r == HTTP_PARTIAL; i++)
		r = http_parse_request(buf, i, q);
	return r;
}

/* Random pieces, each call on a fresh exact-size copy of what has arrived so far. */
static int
parse_pieces(const char *buf, size_t len, struct fuzz_rng *rng, struct http_request *q,
	     struct outcome *o)
{
	size_t have = 0;
	int r = HTTP_PARTIAL, pieces = 0;

	http_request_init(q);
	memset(o, 0, sizeof(*o));
	o->r = HTTP_PARTIAL;
	while (have < len && r == HTTP_PARTIAL) {
		size_t piece =
			++pieces < MAX_PIECES ? fuzz_split_next(rng, len - have) : len - have;
		char *copy;

		have += piece;
		copy = fuzz_guard_copy(buf, have);
		r = http_parse_request(copy, have, q);
		outcome_of(copy, r, q, o);
		if (r > 0)
			check_accepted(copy, have, r, q);
	}
	return r;
}

/*
 * The same bytes must give the same answer however they arrive, with one exception: a split
 * feed may refuse earlier with 414 or 431, because a line or head that has already passed its
 * limit is refused before the rest arrives, while the whole buffer shows the error that comes
 * first in it (a bad byte after the limit, say). Both close the connection.
 */
static void
compare(const struct outcome *whole, const struct outcome *split, const char *how)
{
	if (whole->r == HTTP_INVALID && split->r == HTTP_INVALID &&
	    (split->reject == 414 || split->reject == 431))
		return;
	if (memcmp(whole, split, sizeof(*whole)) != 0) {
		fprintf(stderr, "whole: %d (status %u), %s: %d (status %u)\n", whole->r,
			whole->reject, how, split->r, split->reject);
		FUZZ_CHECK(!"the same bytes parse differently when split");
	}
}

/* Skip an accepted request's body as the server does. Returns the bytes it took, or -1 when
 * the rest of the buffer is (or ends inside) that body. */
static long
skip_body(const char *buf, size_t len, const struct http_request *q)
{
	if (q->framing == HTTP_BODY_LENGTH)
		return q->content_length <= len ? (long)q->content_length : -1;
	if (q->framing == HTTP_BODY_CHUNKED) {
		struct http_chunked d;
		char *copy = fuzz_guard_copy(buf, len);
		size_t n = len;
		ssize_t left;

		http_chunked_init(&d);
		left = http_chunked_decode(&d, copy, &n);
		/* Decoding never produces more than it was given. */
		FUZZ_CHECK(n <= len);
		if (left >= 0) {
			FUZZ_CHECK((size_t)left <= len - n);
			/* What follows the body is moved next to the decoded bytes, unchanged. */
			FUZZ_CHECK(memcmp(copy + n, buf + len - (size_t)left, (size_t)left) == 0);
		}
		return left >= 0 ? (long)(len - (size_t)left) : -1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct fuzz_rng rng;
	size_t off = 0;

	fuzz_rng_seed(&rng, data, size, 0);
	for (int k = 0; k < MAX_PIPELINE && off < size; k++) {
		const char *p = buf + off;
		size_t len = size - off;
		struct http_request whole, bytewise, pieces;
		struct outcome ow, ob, op;
		int r;
		long body;

		r = parse_whole(p, len, &whole);
		outcome_of(p, r, &whole, &ow);
		FUZZ_CHECK(r > 0 || r == HTTP_PARTIAL || r == HTTP_INVALID);
		if (r > 0)
			check_accepted(p, len, r, &whole);
		else if (r == HTTP_INVALID)
			check_rejected(&whole);

		/* One input in BYTEWISE_ONE_IN is also fed a byte per call: that costs a call per
		 * byte, so doing it every time would cut the executions per second tenfold. */
		if ((fuzz_rng_next(&rng) % BYTEWISE_ONE_IN) == 0 || len <= BYTEWISE_ALWAYS) {
			outcome_of(p, parse_bytewise(p, len, &bytewise), &bytewise, &ob);
			compare(&ow, &ob, "bytewise");
		}
		parse_pieces(p, len, &rng, &pieces, &op);
		compare(&ow, &op, "pieces");
		if (r <= 0)
			break;
		off += (size_t)r;
		body = skip_body(buf + off, size - off, &whole);
		if (body < 0)
			break;
		off += (size_t)body;
	}
	return 0;
}
