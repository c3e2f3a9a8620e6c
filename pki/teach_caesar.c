#include <stdlib.h>

#include "teach_caesar.h"

/*
 * Relative frequencies of letters in English text, percent: the commonly quoted table
 * (Wikipedia "Letter frequency", after Lewand, Cryptological Mathematics, 2000). Any table of
 * English would do; chi-squared only needs the shape (e, t, a, o high; j, q, x, z rare).
 */
static const double english[26] = {
	8.167, 1.492, 2.782, 4.253, 12.702, 2.228, 2.015, 6.094, 6.966, 0.153, 0.772, 4.025, 2.406,
	6.749, 7.507, 1.929, 0.095, 5.987,  6.327, 9.056, 2.758, 0.978, 2.360, 0.150, 1.974, 0.074,
};

static int
mod26(int shift)
{
	int r = shift % 26;

	return r < 0 ? r + 26 : r;
}

int
teach_caesar_norm(int shift)
{
	int r = mod26(shift);

	return r > 13 ? r - 26 : r;
}

void
teach_caesar_shift(const char *in, size_t len, int shift, char *out)
{
	int s = mod26(shift);

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		/* Compare with ranges, not isalpha(): locale-free, and bytes >= 0x80 stay put. */
		if (ch >= 'a' && ch <= 'z')
			ch = (char)('a' + (ch - 'a' + s) % 26);
		else if (ch >= 'A' && ch <= 'Z')
			ch = (char)('A' + (ch - 'A' + s) % 26);
		out[i] = ch;
	}
}

void
teach_caesar_count(const char *in, size_t len, unsigned long counts[26])
{
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (ch >= 'a' && ch <= 'z')
			counts[ch - 'a']++;
		else if (ch >= 'A' && ch <= 'Z')
			counts[ch - 'A']++;
	}
}

static int
guess_cmp(const void *a, const void *b)
{
	const struct teach_caesar_guess *x = a, *y = b;

	if (x->chi2 != y->chi2)
		return x->chi2 < y->chi2 ? -1 : 1;
	if (abs(x->shift) != abs(y->shift))
		return abs(x->shift) - abs(y->shift);
	return x->shift - y->shift;
}

unsigned long
teach_caesar_rank(const unsigned long counts[26], struct teach_caesar_guess out[26])
{
	unsigned long total = 0;

	for (int i = 0; i < 26; i++)
		total += counts[i];
	for (int s = 0; s < 26; s++) {
		double chi2 = 0;

		/* If shift s made the ciphertext, plaintext letter i shows up as letter i + s. */
		for (int i = 0; i < 26 && total > 0; i++) {
			double expect = (double)total * english[i] / 100.0;
			double diff = (double)counts[(i + s) % 26] - expect;

			chi2 += diff * diff / expect;
		}
		out[s].shift = teach_caesar_norm(s);
		out[s].chi2 = chi2;
	}
	qsort(out, 26, sizeof(out[0]), guess_cmp);
	return total;
}
