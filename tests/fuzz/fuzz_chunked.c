/*
 * fuzz_chunked: http_chunked_decode (common/http_chunked.c), the in-place decoder that both
 * the client (response bodies) and the server (request bodies it discards) run.
 *
 * The input is a chunked body, possibly followed by more bytes (a pipelined message).
 * Invariants:
 *   - decoding never yields more bytes than it was given, and the data it yields lie at the
 *     front of the buffer it was given (each call works on a copy ending at a guard page, so
 *     a read or write past the bytes given faults);
 *   - fed in random pieces (as reads deliver them) it gives exactly the same data, the same
 *     verdict and the same end of body as fed whole;
 *   - the bytes after a complete body come back unchanged, right after the decoded data;
 *   - the verdict and the data agree with a naive second reading of RFC 9112 §7.1
 *     (chunk_ref.h), except where a length limit could decide.
 */
#include <stdint.h>
#include <string.h>

#include "chunk_ref.h"
#include "fuzz.h"
#include "http.h"

#define MAX_PIECES 32

struct result {
	long verdict; /* bytes the body took, REF_PARTIAL or REF_INVALID */
	size_t outlen;
};

/* Decode data in pieces; the decoded bytes are appended to out. */
static void
decode_pieces(const uint8_t *data, size_t size, struct fuzz_rng *rng, int whole, unsigned char *out,
	      struct result *res)
{
	struct http_chunked d;
	size_t off = 0;
	int pieces = 0;

	http_chunked_init(&d);
	res->verdict = REF_PARTIAL;
	res->outlen = 0;
	while (off < size) {
		size_t piece = whole ? size
				     : (++pieces < MAX_PIECES ? fuzz_split_next(rng, size - off)
							      : size - off);
		char *buf = fuzz_guard_copy(data + off, piece);
		size_t n = piece;
		ssize_t left = http_chunked_decode(&d, buf, &n);

		FUZZ_CHECK(left == HTTP_PARTIAL || left == HTTP_INVALID || left >= 0);
		if (left == HTTP_INVALID) {
			res->verdict = REF_INVALID;
			return;
		}
		FUZZ_CHECK(n <= piece);
		memcpy(out + res->outlen, buf, n);
		res->outlen += n;
		if (left >= 0) {
			size_t used = piece - (size_t)left;

			FUZZ_CHECK((size_t)left <= piece - n);
			/* What follows the body sits right after the decoded bytes, unchanged. */
			FUZZ_CHECK(memcmp(buf + n, data + off + used, (size_t)left) == 0);
			res->verdict = (long)(off + used);
			return;
		}
		off += piece;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char a[FUZZ_GUARD_MAX], b[FUZZ_GUARD_MAX], r[FUZZ_GUARD_MAX];
	struct fuzz_rng rng;
	struct result whole, split;
	size_t rlen;
	long ref;

	if (size > FUZZ_GUARD_MAX)
		return 0;
	fuzz_rng_seed(&rng, data, size, 1);
	decode_pieces(data, size, &rng, 1, a, &whole);
	decode_pieces(data, size, &rng, 0, b, &split);
	FUZZ_CHECK(whole.outlen <= size);
	/* After a refusal the bytes yielded so far are of no use to anyone: compare the verdict. */
	if (whole.verdict != split.verdict ||
	    (whole.verdict != REF_INVALID &&
	     (whole.outlen != split.outlen || memcmp(a, b, whole.outlen) != 0))) {
		fprintf(stderr, "whole: %ld (%zu bytes), pieces: %ld (%zu bytes)\n", whole.verdict,
			whole.outlen, split.verdict, split.outlen);
		FUZZ_CHECK(!"the same chunked body decodes differently when split");
	}
	ref = chunk_ref_decode(data, size, r, &rlen);
	if (ref == REF_UNSURE)
		return 0;
	if (ref != whole.verdict) {
		fprintf(stderr, "decoder: %ld, reference: %ld\n", whole.verdict, ref);
		FUZZ_CHECK(!"the decoder and the reference disagree on the chunked body");
	}
	if (ref != REF_INVALID)
		FUZZ_CHECK(rlen == whole.outlen && memcmp(r, a, rlen) == 0);
	return 0;
}
