/*
 * fuzz_response: http_parse_response and http_chunked_decode fed the way squirrel-client feeds
 * them (client/cli_fetch.c read_response): bytes arrive in pieces of random size, the head is
 * parsed again after each piece, interim 1xx responses are skipped, then the body is taken by
 * its framing, a chunked one decoded piece by piece in place.
 *
 * Input: byte 0 holds flags (bit 0: the request was HEAD), the rest is what the server sends.
 * The piece sizes come from a hash of the input, so a saved crash replays exactly.
 *
 * Invariants:
 *   - the head gives the same answer in pieces (each a copy ending at a guard page, at a new
 *     address every call) as whole; a split feed may only refuse earlier, never differently;
 *   - an accepted head: views inside it, a status of 100-599, version 1.0 or 1.1, a reason
 *     without CR or LF, and the framing and keep-alive the parser reports are the ones an
 *     independent reading of its fields (http_header_next) gives (RFC 9112 §6.3): never both
 *     Content-Length and Transfer-Encoding, chunked at most once over all Transfer-Encoding
 *     lines and no Transfer-Encoding in HTTP/1.0 (§6.1), no body for HEAD, 1xx, 204 and 304;
 *   - a chunked body decodes to the same bytes piece by piece as whole, never to more bytes
 *     than it was given, and agrees with the naive reference decoder (chunk_ref.h).
 */
#include <stdint.h>
#include <string.h>

#include "chunk_ref.h"
#include "fuzz.h"
#include "http.h"

#define MAX_PIECES 16
#define MAX_INTERIM 4

/* Read one Transfer-Encoding line into the list all its lines make (RFC 9110 §5.3): count the
 * chunked elements, and say whether the last non-empty element so far is chunked (RFC 9110
 * §5.6.1 has recipients ignore empty elements: "chunked, " is "chunked"). */
static void
te_line(const char *v, size_t n, size_t *chunked, int *last_chunked, size_t *other)
{
	size_t pos = 0, len;
	const char *el;

	while (fuzz_list_next(v, n, &pos, &el, &len)) {
		if (len > 0) {
			*last_chunked = fuzz_lower_eq(el, len, "chunked");
			*chunked += (size_t)*last_chunked;
			*other += (size_t) !*last_chunked;
		}
	}
}

struct outcome {
	int r;
	int status;
	size_t reason, reason_len, head, head_len;
	enum http_framing framing;
	uint64_t content_length;
	uint8_t version, keep_alive;
};

static void
outcome_of(const char *buf, int r, const struct http_response *res, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->r = r;
	if (r <= 0)
		return;
	o->status = res->status;
	o->reason = (size_t)(res->reason - buf);
	o->reason_len = res->reason_len;
	o->head = (size_t)(res->head - buf);
	o->head_len = res->head_len;
	o->framing = res->framing;
	o->content_length = res->content_length;
	o->version = res->version;
	o->keep_alive = res->keep_alive;
}

static void
check_accepted(const char *buf, size_t len, int r, int head_request,
	       const struct http_response *res)
{
	size_t n = (size_t)r, pos = 0, cls = 0, tes = 0, chunked = 0, other = 0;
	int te_chunked = 0, close = 0, st = res->status;
	uint64_t cl = 0;
	struct http_header h;
	enum http_framing want;

	FUZZ_CHECK(n <= len);
	FUZZ_CHECK(fuzz_inside(res->head, res->head_len, buf, n));
	FUZZ_CHECK(res->head + res->head_len == buf + n);
	FUZZ_CHECK(res->head_len <= HTTP_MAX_HEAD);
	for (const char *p = buf; p < res->head; p++)
		FUZZ_CHECK(*p == '\r' || *p == '\n');
	FUZZ_CHECK(memcmp(res->head, "HTTP/1.", 7) == 0);
	FUZZ_CHECK(res->version == (res->head[7] == '1' ? 11 : 10));
	FUZZ_CHECK(res->head[7] == '0' || res->head[7] == '1');
	FUZZ_CHECK(st >= 100 && st <= 599);
	FUZZ_CHECK(st ==
		   (res->head[9] - '0') * 100 + (res->head[10] - '0') * 10 + (res->head[11] - '0'));
	/* The reason points into this call's buffer, even when the buffer moved between calls
	 * (tests/unit/test_regress_fuzz.c, response_reason_moved). */
	FUZZ_CHECK(fuzz_inside(res->reason, res->reason_len, res->head, res->head_len));
	for (size_t i = 0; i < res->reason_len; i++)
		FUZZ_CHECK(res->reason[i] != '\r' && res->reason[i] != '\n');

	while (http_header_next(res->head, res->head_len, &pos, &h)) {
		FUZZ_CHECK(fuzz_inside(h.name, h.name_len, res->head, res->head_len));
		FUZZ_CHECK(fuzz_inside(h.value, h.value_len, res->head, res->head_len));
		FUZZ_CHECK(h.name_len > 0 && h.name[h.name_len] == ':');
		for (size_t i = 0; i < h.value_len; i++)
			FUZZ_CHECK(h.value[i] != '\r' && h.value[i] != '\n' && h.value[i] != '\0');
		if (fuzz_lower_eq(h.name, h.name_len, "content-length")) {
			uint64_t v = 0;

			FUZZ_CHECK(h.value_len > 0 && h.value_len <= 18);
			for (size_t i = 0; i < h.value_len; i++) {
				FUZZ_CHECK(h.value[i] >= '0' && h.value[i] <= '9');
				v = v * 10 + (uint64_t)(h.value[i] - '0');
			}
			FUZZ_CHECK(cls == 0 || v == cl);
			cl = v;
			cls++;
		} else if (fuzz_lower_eq(h.name, h.name_len, "transfer-encoding")) {
			te_line(h.value, h.value_len, &chunked, &te_chunked, &other);
			tes++;
		} else if (fuzz_lower_eq(h.name, h.name_len, "connection")) {
			close |= fuzz_list_has(h.value, h.value_len, "close");
		}
	}
	/* RFC 9112 §6.3: never guess between two framings. §6.1: chunked is applied once. */
	FUZZ_CHECK(!(cls > 0 && tes > 0));
	FUZZ_CHECK(chunked <= 1);
	FUZZ_CHECK(!(tes > 0 && res->version == 10));
	if (head_request || st / 100 == 1 || st == 204 || st == 304)
		want = HTTP_BODY_NONE;
	else if (tes > 0)
		want = te_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
	else if (cls > 0)
		want = HTTP_BODY_LENGTH;
	else
		want = HTTP_BODY_CLOSE;
	/* "chunked,," is chunked: RFC 9110 §5.6.1 ignores empty list elements
	 * (tests/unit/test_regress_fuzz.c, te_empty_list_elements). */
	FUZZ_CHECK(res->framing == want);
	/* The client refuses codings it cannot undo (gzip bytes are not the secret). */
	FUZZ_CHECK(res->te_other == (other > 0));
	if (want == HTTP_BODY_LENGTH)
		FUZZ_CHECK(res->content_length == cl);
	FUZZ_CHECK(res->keep_alive == (res->version == 11 && !close && want != HTTP_BODY_CLOSE));
}

/* Parse the head at buf[0..len) whole. */
static int
head_whole(const char *buf, size_t len, int head_request, struct http_response *res)
{
	int r;

	http_response_init(res);
	r = http_parse_response(buf, len, head_request, res);
	FUZZ_CHECK(r > 0 || r == HTTP_PARTIAL || r == HTTP_INVALID);
	if (r > 0)
		check_accepted(buf, len, r, head_request, res);
	else if (r == HTTP_INVALID)
		FUZZ_CHECK(res->why != NULL && res->why[0] != '\0');
	return r;
}

/* The same head, arriving in pieces; returns the outcome of the last call. */
static void
head_pieces(const char *buf, size_t len, int head_request, struct fuzz_rng *rng, struct outcome *o)
{
	struct http_response res;
	size_t have = 0;
	int r = HTTP_PARTIAL, pieces = 0;

	http_response_init(&res);
	memset(o, 0, sizeof(*o));
	o->r = HTTP_PARTIAL;
	while (have < len && r == HTTP_PARTIAL) {
		char *copy;

		have += ++pieces < MAX_PIECES ? fuzz_split_next(rng, len - have) : len - have;
		copy = fuzz_guard_copy(buf, have);
		r = http_parse_response(copy, have, head_request, &res);
		outcome_of(copy, r, &res, o);
		if (r > 0)
			check_accepted(copy, have, r, head_request, &res);
	}
}

/* A chunked body as the client decodes it: each piece in place right after the data so far. */
static void
body_chunked(const uint8_t *body, size_t len, struct fuzz_rng *rng)
{
	static unsigned char dec[FUZZ_GUARD_MAX], ref[FUZZ_GUARD_MAX];
	struct http_chunked d;
	size_t off = 0, done = 0, rlen;
	long verdict = REF_PARTIAL, want;
	int pieces = 0;

	http_chunked_init(&d);
	while (off < len) {
		size_t piece = ++pieces < MAX_PIECES ? fuzz_split_next(rng, len - off) : len - off;
		char *buf = fuzz_guard_copy(body + off, piece);
		size_t n = piece;
		ssize_t left = http_chunked_decode(&d, buf, &n);

		if (left == HTTP_INVALID) {
			verdict = REF_INVALID;
			break;
		}
		FUZZ_CHECK(left == HTTP_PARTIAL || left >= 0);
		FUZZ_CHECK(n <= piece);
		memcpy(dec + done, buf, n);
		done += n;
		if (left >= 0) {
			FUZZ_CHECK((size_t)left <= piece - n);
			FUZZ_CHECK(memcmp(buf + n, body + off + piece - (size_t)left,
					  (size_t)left) == 0);
			verdict = (long)(off + piece - (size_t)left);
			break;
		}
		off += piece;
	}
	FUZZ_CHECK(done <= len);
	want = chunk_ref_decode(body, len, ref, &rlen);
	if (want == REF_UNSURE)
		return;
	if (want != verdict) {
		fprintf(stderr, "client decoder: %ld, reference: %ld\n", verdict, want);
		FUZZ_CHECK(!"the chunked response body decodes differently from the reference");
	}
	if (want != REF_INVALID)
		FUZZ_CHECK(rlen == done && memcmp(ref, dec, done) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *stream;
	size_t len, start = 0;
	struct fuzz_rng rng;
	int head_request, r = HTTP_PARTIAL;
	struct http_response res;

	if (size < 1 || size > FUZZ_GUARD_MAX)
		return 0;
	head_request = data[0] & 1;
	stream = (const char *)data + 1;
	len = size - 1;
	fuzz_rng_seed(&rng, data, size, 2);
	for (int interim = 0; interim <= MAX_INTERIM && start < len; interim++) {
		struct outcome whole, split;

		r = head_whole(stream + start, len - start, head_request, &res);
		outcome_of(stream + start, r, &res, &whole);
		head_pieces(stream + start, len - start, head_request, &rng, &split);
		if (memcmp(&whole, &split, sizeof(whole)) != 0) {
			fprintf(stderr, "whole: %d, pieces: %d\n", whole.r, split.r);
			FUZZ_CHECK(!"the same response head parses differently when split");
		}
		if (r <= 0)
			return 0;
		start += (size_t)r;
		/* Interim responses (100 Continue) precede the real one, as the client skips them. */
		if (!(res.status / 100 == 1 && res.status != 101))
			break;
	}
	if (r > 0 && res.framing == HTTP_BODY_CHUNKED)
		body_chunked((const uint8_t *)stream + start, len - start, &rng);
	return 0;
}
