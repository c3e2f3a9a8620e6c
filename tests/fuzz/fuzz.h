/*
 * fuzz: what the libFuzzer harnesses of tests/fuzz share. Header-only, so each harness is one
 * translation unit plus the sources it exercises (tests/fuzz/run.sh compiles them together).
 *
 * A harness checks invariants, not just "no crash": FUZZ_CHECK aborts with the file, line and
 * the failed condition, which libFuzzer reports as a crash and saves the input for.
 */
#ifndef SQUIRREL_FUZZ_H
#define SQUIRREL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * An invariant that a known, reported bug breaks is written FUZZ_CHECK_BUG(cond), next to a
 * comment naming the bug. It is as strict as FUZZ_CHECK by default, so `make fuzz` fails until
 * the bug is fixed (then the macro becomes FUZZ_CHECK again). Built with
 * FUZZ_CFLAGS=-DFUZZ_SKIP_KNOWN_BUGS it is skipped, so a harness can look for other bugs
 * meanwhile.
 */
#ifdef FUZZ_SKIP_KNOWN_BUGS
#define FUZZ_KNOWN_BUGS_SKIPPED 1
#else
#define FUZZ_KNOWN_BUGS_SKIPPED 0
#endif
#define FUZZ_CHECK_BUG(cond)                                                                       \
	do {                                                                                       \
		if (!FUZZ_KNOWN_BUGS_SKIPPED)                                                      \
			FUZZ_CHECK(cond);                                                          \
	} while (0)

/* A view [p, p + n) lies inside [base, base + len). */
static inline int
fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
	const char *a = p, *b = base;

	return a >= b && n <= len && (size_t)(a - b) <= len - n;
}

/*
 * Split points derived from the input itself (so a saved crash replays exactly): a small
 * xorshift generator seeded with a hash of the bytes. fuzz_split_next() returns the size of
 * the next piece, 1..max, biased towards tiny pieces, which is where incremental parsers break.
 */
struct fuzz_rng {
	uint64_t s;
};

static inline void
fuzz_rng_seed(struct fuzz_rng *r, const uint8_t *data, size_t size, uint64_t salt)
{
	/* FNV-1a over the input; mixing in the salt lets one input give several split plans. */
	uint64_t h = 1469598103934665603ULL ^ salt;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	r->s = h ? h : 1;
}

static inline uint64_t
fuzz_rng_next(struct fuzz_rng *r)
{
	uint64_t x = r->s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return x;
}

static inline size_t
fuzz_split_next(struct fuzz_rng *r, size_t max)
{
	uint64_t x = fuzz_rng_next(r);
	size_t n;

	if (max <= 1)
		return 1;
	switch (x & 3) {
	case 0: n = 1; break;
	case 1: n = 1 + (size_t)((x >> 8) % 8); break;
	default: n = 1 + (size_t)((x >> 8) % max); break;
	}
	return n > max ? max : n;
}

/*
 * Copies of input that end exactly at a PROT_NONE page, alternating between two regions so the
 * buffer moves on every call (as the parsers' contract allows between calls): a read one byte
 * past the bytes given faults at once. Cheaper than a heap copy per call under ASan, which
 * matters when a harness makes sixteen of them per input. n is at most FUZZ_GUARD_MAX.
 */
#define FUZZ_GUARD_MAX (64 * 1024)

static inline char *
fuzz_guard_copy(const void *p, size_t n)
{
	static char *region[2];
	static int flip;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *end;

	FUZZ_CHECK(n <= FUZZ_GUARD_MAX);
	flip ^= 1;
	if (region[flip] == NULL) {
		char *r = mmap(NULL, FUZZ_GUARD_MAX + page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		FUZZ_CHECK(r != MAP_FAILED);
		FUZZ_CHECK(mprotect(r + FUZZ_GUARD_MAX, page, PROT_NONE) == 0);
		region[flip] = r;
	}
	end = region[flip] + FUZZ_GUARD_MAX;
	if (n)
		memcpy(end - n, p, n);
	return end - n;
}

/* An exact-size heap copy, so AddressSanitizer sees a read one byte past it. */
static inline char *
fuzz_dup(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	FUZZ_CHECK(c != NULL);
	if (n)
		memcpy(c, p, n);
	return c;
}

/*
 * A second, deliberately naive reading of comma-separated header lists, for harnesses to
 * check the parser against (so it must not share the parser's code).
 */

/* p[0..n) equals the lower-case literal, ignoring ASCII case. */
static inline int
fuzz_lower_eq(const char *p, size_t n, const char *lower)
{
	if (strlen(lower) != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return 0;
	}
	return 1;
}

/* The next element of the list v[0..n) from *pos (start at 0), trimmed of SP and HTAB; empty
 * elements included. Returns 0 after the last. */
static inline int
fuzz_list_next(const char *v, size_t n, size_t *pos, const char **el, size_t *len)
{
	size_t i = *pos, s, e;

	if (i > n)
		return 0;
	s = i;
	while (i < n && v[i] != ',')
		i++;
	e = i;
	while (s < e && (v[s] == ' ' || v[s] == '\t'))
		s++;
	while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	*el = v + s;
	*len = e - s;
	*pos = i + 1;
	return 1;
}

/* Does the list contain token (case-insensitive)? */
static inline int
fuzz_list_has(const char *v, size_t n, const char *token)
{
	size_t pos = 0, len;
	const char *el;

	while (fuzz_list_next(v, n, &pos, &el, &len))
		if (fuzz_lower_eq(el, len, token))
			return 1;
	return 0;
}

#endif
