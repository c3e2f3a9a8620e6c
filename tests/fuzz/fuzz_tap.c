/*
 * fuzz_tap: squirrel-tap's dissector (tap/dissect*.c), which reads whatever crosses the
 * wire in both directions: HTTP, TLS records and handshakes, Fernet tokens, or garbage.
 *
 * Input: byte 0 is the --grep text's length g (1 + byte % 32), the next g bytes are the text,
 * then segments: a 2-byte header (bit 15: direction, low 15 bits: length) and that many bytes
 * (cut short at the end of the input). The segments are fed three times:
 *   A. each segment whole, with DIS_LAYERS (and DIS_BRIEF when bit 7 of byte 0 is set, the
 *      tap's default);
 *   B. each segment cut in random pieces (sizes from a hash of the input), with A's flags;
 *   C. each segment whole, with DIS_HEX | DIS_LAYERS (the hex dump paths).
 * Invariants:
 *   - every line emitted is NUL-terminated and shorter than DIS_LINE_MAX, without line breaks;
 *   - what the dissector recognises does not depend on how the bytes were cut: A and B emit
 *     the same lines, once the per-chunk "conn N: ..." headers are left out;
 *   - --grep: dis_grep_seen says the text was seen in a direction exactly when a naive search
 *     of everything sent that way finds it (the KMP matcher carries matches across chunks).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "dissect.h"

#define MAX_PIECES 64
#define MAX_LINES 8192

struct sink {
	int compare;   /* keep lines for comparison */
	size_t nlines; /* lines kept */
	size_t used;
	int overflow; /* more output than the store holds: skip the comparison */
	char store[1 << 20];
	size_t off[MAX_LINES];
};

static struct sink a, b, c;

static void
emit(void *arg, const char *line)
{
	struct sink *s = arg;
	const char *nul = memchr(line, '\0', DIS_LINE_MAX);
	size_t n;

	FUZZ_CHECK(nul != NULL);
	n = (size_t)(nul - line);
	FUZZ_CHECK(memchr(line, '\n', n) == NULL && memchr(line, '\r', n) == NULL);
	if (!s->compare || strncmp(line, "conn ", 5) == 0)
		return;
	if (s->nlines == MAX_LINES || s->used + n + 1 > sizeof(s->store)) {
		s->overflow = 1;
		return;
	}
	s->off[s->nlines++] = s->used;
	memcpy(s->store + s->used, line, n + 1);
	s->used += n + 1;
}

static void
sink_reset(struct sink *s, int compare)
{
	s->compare = compare;
	s->nlines = s->used = 0;
	s->overflow = 0;
}

struct seg {
	enum dis_dir dir;
	const uint8_t *p;
	size_t n;
};

static size_t
segments(const uint8_t *data, size_t size, struct seg *seg, size_t max)
{
	size_t n = 0, off = 0;

	while (off + 2 <= size && n < max) {
		unsigned h = (unsigned)data[off] << 8 | data[off + 1];
		size_t len = h & 0x7fff;

		off += 2;
		if (len > size - off)
			len = size - off;
		seg[n].dir = (h & 0x8000) ? DIS_S2C : DIS_C2S;
		seg[n].p = data + off;
		seg[n].n = len;
		n++;
		off += len;
	}
	return n;
}

static void
feed(const struct seg *seg, size_t nseg, unsigned flags, const struct dis_grep *g,
     struct fuzz_rng *rng, struct sink *s, struct dis_conn *d)
{
	dis_conn_init(d, 1, flags, g);
	for (size_t i = 0; i < nseg; i++) {
		if (rng == NULL) {
			/* Each chunk is a fresh exact copy ending at a guard page. */
			dis_feed(d, seg[i].dir,
				 (const uint8_t *)fuzz_guard_copy(seg[i].p, seg[i].n), seg[i].n,
				 emit, s);
			continue;
		}
		for (size_t off = 0, k = 0; off < seg[i].n; k++) {
			size_t piece = k + 1 < MAX_PIECES ? fuzz_split_next(rng, seg[i].n - off)
							  : seg[i].n - off;

			dis_feed(d, seg[i].dir,
				 (const uint8_t *)fuzz_guard_copy(seg[i].p + off, piece), piece,
				 emit, s);
			off += piece;
		}
	}
	dis_finish(d, emit, s);
	dis_grep_report(d, emit, s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seg seg[4096];
	static struct dis_conn da, db, dc;
	static uint8_t stream[2][FUZZ_GUARD_MAX];
	struct dis_grep g;
	struct fuzz_rng rng;
	size_t glen, nseg, slen[2] = {0, 0};

	if (size < 1 || size > FUZZ_GUARD_MAX)
		return 0;
	glen = 1 + data[0] % 32;
	if (size < 1 + glen)
		return 0;
	FUZZ_CHECK(dis_grep_init(&g, (const char *)data + 1, glen) == 0);
	nseg = segments(data + 1 + glen, size - 1 - glen, seg, sizeof(seg) / sizeof(seg[0]));
	fuzz_rng_seed(&rng, data, size, 4);

	sink_reset(&a, 1);
	sink_reset(&b, 1);
	sink_reset(&c, 0);
	feed(seg, nseg, DIS_LAYERS | (data[0] & 0x80 ? DIS_BRIEF : 0), &g, NULL, &a, &da);
	feed(seg, nseg, DIS_LAYERS | (data[0] & 0x80 ? DIS_BRIEF : 0), &g, &rng, &b, &db);
	feed(seg, nseg, DIS_HEX | DIS_LAYERS, &g, NULL, &c, &dc);

	if (!a.overflow && !b.overflow) {
		size_t i;

		for (i = 0; i < a.nlines && i < b.nlines; i++)
			if (strcmp(a.store + a.off[i], b.store + b.off[i]) != 0)
				break;
		if (i < a.nlines || i < b.nlines) {
			fprintf(stderr, "line %zu: whole: '%s'\n          split: '%s'\n", i,
				i < a.nlines ? a.store + a.off[i] : "(none)",
				i < b.nlines ? b.store + b.off[i] : "(none)");
			FUZZ_CHECK(!"the dissector's layers depend on how the bytes were cut");
		}
	}

	for (size_t i = 0; i < nseg; i++) {
		memcpy(stream[seg[i].dir] + slen[seg[i].dir], seg[i].p, seg[i].n);
		slen[seg[i].dir] += seg[i].n;
	}
	for (int dir = 0; dir < 2; dir++) {
		int want = memmem(stream[dir], slen[dir], data + 1, glen) != NULL;

		FUZZ_CHECK(dis_grep_seen(&da, (enum dis_dir)dir) == want);
		FUZZ_CHECK(dis_grep_seen(&db, (enum dis_dir)dir) == want);
		FUZZ_CHECK(dis_grep_seen(&dc, (enum dis_dir)dir) == want);
	}
	return 0;
}
