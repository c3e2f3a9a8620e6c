/*
 * teach_caesar: the tutorial's substitution cipher (every letter moved a fixed number of places
 * along the alphabet) and the frequency analysis that breaks it.
 *
 * Pure functions on caller buffers: no printing, no allocation. Only the ASCII letters A-Z and
 * a-z move (case kept); every other byte, UTF-8 included, passes through unchanged.
 */
#ifndef SQUIRREL_TEACH_CAESAR_H
#define SQUIRREL_TEACH_CAESAR_H

#include <stddef.h>

/* The tutorial's cipher: each letter one place back ("fluffy tail" -> "ekteex szhk"). */
#define TEACH_CAESAR_SHIFT (-1)

/*
 * Move each letter of in[0..len) shift places forward (negative: back), wrapping around the
 * alphabet, into out (len bytes; out may be in). Any int works: it is taken modulo 26.
 * Decrypting is shifting by -shift.
 */
void teach_caesar_shift(const char *in, size_t len, int shift, char *out);

/* A word's start or end, where a letter pair has a non-letter on one side. */
#define TEACH_CAESAR_BOUNDARY 26

/*
 * What crack counts of a text, chunk by chunk: each pair of neighbouring symbols, a symbol
 * being a letter (case folded) or a boundary (any run of other bytes, and the text's ends).
 * "ab c" counts ^a, ab, b$, ^c, c$. Zero it with teach_caesar_counts_init.
 */
struct teach_caesar_counts {
	unsigned long pairs[27][27]; /* [before][after], 26 is TEACH_CAESAR_BOUNDARY */
	unsigned long letters;
	int prev; /* the symbol before the next byte */
};

void teach_caesar_counts_init(struct teach_caesar_counts *c);

/* Add in[0..len) to c; a text may come in any number of chunks, split anywhere. */
void teach_caesar_count(struct teach_caesar_counts *c, const char *in, size_t len);

/* The text has ended (closes its last word). */
void teach_caesar_count_end(struct teach_caesar_counts *c);

/* The shift as people write it: -12..13 (25 is -1, "one place back"). */
int teach_caesar_norm(int shift);

struct teach_caesar_guess {
	int shift;    /* the shift that made the ciphertext, -12..13; decrypt with -shift */
	double score; /* how English the decryption reads: the mean natural log of each letter's
		       * probability after the symbol before it; 0 is certain, higher is closer */
};

/*
 * Rank the 26 possible shifts of a ciphertext counted in c, best (highest score) first; ties
 * keep the smaller |shift| first. A letter pair's probability comes from English prose (see
 * teach_caesar.py), so a short text ("ekteex szhk") is read by its pairs, "fl", "lu", "il",
 * where single letter frequencies need hundreds of letters. Returns the number of letters
 * counted: with 0, every score is 0 and the order means nothing.
 */
unsigned long teach_caesar_rank(const struct teach_caesar_counts *c,
				struct teach_caesar_guess out[26]);

#endif
