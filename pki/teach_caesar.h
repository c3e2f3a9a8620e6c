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

/* Add the letters of in[0..len) to counts['a'..'z'] (case folded). Call once per chunk. */
void teach_caesar_count(const char *in, size_t len, unsigned long counts[26]);

/* The shift as people write it: -12..13 (25 is -1, "one place back"). */
int teach_caesar_norm(int shift);

struct teach_caesar_guess {
	int shift;   /* the shift that made the ciphertext, -12..13; decrypt with -shift */
	double chi2; /* chi-squared distance from English letter frequencies; lower is better */
};

/*
 * Rank the 26 possible shifts of a ciphertext whose letter counts are counts, best (lowest
 * chi-squared) first; ties keep the smaller |shift| first. Returns the number of letters
 * counted: with 0, every chi2 is 0 and the order means nothing.
 */
unsigned long teach_caesar_rank(const unsigned long counts[26], struct teach_caesar_guess out[26]);

#endif
