/*
 * The teaching toys: the tutorial's Caesar pair, round trips for every shift, frequency
 * analysis on English, and the X25519 + HKDF + Fernet exchange of dh-demo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fernet.h"
#include "teach_caesar.h"
#include "teach_dh.h"

static const char paragraph[] =
	"It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
	"age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was "
	"the season of Light, it was the season of Darkness, it was the spring of hope, it was the "
	"winter of despair.";

static void
test_tutorial_pair(void **state)
{
	char out[32];

	(void)state;
	teach_caesar_shift("fluffy tail", 11, TEACH_CAESAR_SHIFT, out);
	assert_memory_equal(out, "ekteex szhk", 11);
	teach_caesar_shift(out, 11, -TEACH_CAESAR_SHIFT, out);
	assert_memory_equal(out, "fluffy tail", 11);
	/* a -> z, b -> a, A -> Z: wrapping, case kept. */
	teach_caesar_shift("abAB zZ", 7, -1, out);
	assert_memory_equal(out, "zaZA yY", 7);
	teach_caesar_shift("Hello, World!", 13, 3, out);
	assert_memory_equal(out, "Khoor, Zruog!", 13);
}

static void
test_other_bytes_unchanged(void **state)
{
	char in[256], out[256];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	teach_caesar_shift(in, sizeof(in), 5, out);
	for (int i = 0; i < 256; i++) {
		int letter = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z');

		if (!letter)
			assert_int_equal((unsigned char)out[i], i);
		else
			assert_int_not_equal((unsigned char)out[i], i);
	}
	/* UTF-8 passes through untouched. */
	teach_caesar_shift("\xc3\xa9t\xc3\xa9", 5, 1, out);
	assert_memory_equal(out, "\xc3\xa9u\xc3\xa9", 5);
}

static void
test_round_trip_every_shift(void **state)
{
	char in[256], enc[256], dec[256];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	for (int s = -60; s <= 60; s++) {
		teach_caesar_shift(in, sizeof(in), s, enc);
		if (teach_caesar_norm(s) != 0)
			assert_memory_not_equal(enc, in, sizeof(in));
		teach_caesar_shift(enc, sizeof(enc), -s, dec);
		assert_memory_equal(dec, in, sizeof(in));
		/* Shifts 26 apart are the same cipher. */
		teach_caesar_shift(in, sizeof(in), s + 26, dec);
		assert_memory_equal(dec, enc, sizeof(enc));
	}
	assert_int_equal(teach_caesar_norm(-1), -1);
	assert_int_equal(teach_caesar_norm(25), -1);
	assert_int_equal(teach_caesar_norm(13), 13);
	assert_int_equal(teach_caesar_norm(14), -12);
	assert_int_equal(teach_caesar_norm(-26), 0);
	assert_int_equal(teach_caesar_norm(1000001), teach_caesar_norm(1000001 % 26));
}

/* Rank the 26 shifts of text, counted in two chunks split at cut, as the command reads
 * standard input. */
static unsigned long
rank(const char *text, size_t cut, struct teach_caesar_guess g[26])
{
	struct teach_caesar_counts c;
	size_t len = strlen(text);

	teach_caesar_counts_init(&c);
	cut = cut < len ? cut : len;
	teach_caesar_count(&c, text, cut);
	teach_caesar_count(&c, text + cut, len - cut);
	teach_caesar_count_end(&c);
	return teach_caesar_rank(&c, g);
}

static void
test_crack_finds_every_shift(void **state)
{
	char enc[sizeof(paragraph)];

	(void)state;
	for (int s = -12; s <= 13; s++) {
		struct teach_caesar_guess g[26];

		teach_caesar_shift(paragraph, sizeof(paragraph) - 1, s, enc);
		enc[sizeof(paragraph) - 1] = '\0';
		assert_true(rank(enc, 50, g) > 200);
		assert_int_equal(g[0].shift, s);
		/* Clearly ahead: a whole nat per letter over the runner-up. */
		assert_true(g[0].score > g[1].score + 1.0);
		for (int i = 1; i < 26; i++)
			assert_true(g[i - 1].score >= g[i].score);
	}
}

/* The tutorial's own examples come out first, short as they are: ten letters are too few for
 * letter frequencies (they ranked 'fluffy tail' 4th), not for letter pairs. */
static void
test_crack_the_tutorial(void **state)
{
	static const char *const plain[] = {
		"fluffy tail",
		"Fluffy tail lungs the old oak tree and had a fine dream",
		"the quick brown fox jumps over the lazy dog",
		"hello world",
		"secret squirrel",
	};
	struct teach_caesar_guess g[26];
	char enc[128];

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		for (int s = -12; s <= 13; s++) {
			size_t len = strlen(plain[i]);

			if (s == 0)
				continue;
			teach_caesar_shift(plain[i], len + 1, s, enc);
			for (size_t cut = 0; cut <= len; cut += 3) {
				rank(enc, cut, g);
				if (g[0].shift != s)
					fail_msg("'%s' shifted by %d: shift %d ranked first",
						 plain[i], s, g[0].shift);
			}
		}
	}
}

static void
test_crack_counts(void **state)
{
	struct teach_caesar_counts c;
	struct teach_caesar_guess g[26];
	int seen[26] = {0};

	(void)state;
	teach_caesar_counts_init(&c);
	teach_caesar_count(&c, "AaZz 123 \xc3\xa9", 11);
	teach_caesar_count_end(&c);
	assert_int_equal(c.letters, 4);
	/* One word: ^a aa az zz z$, and nothing for the rest, which is all boundary. */
	assert_int_equal(c.pairs[TEACH_CAESAR_BOUNDARY][0], 1);
	assert_int_equal(c.pairs[0][0], 1);
	assert_int_equal(c.pairs[0][25], 1);
	assert_int_equal(c.pairs[25][25], 1);
	assert_int_equal(c.pairs[25][TEACH_CAESAR_BOUNDARY], 1);
	assert_int_equal(c.pairs[TEACH_CAESAR_BOUNDARY][TEACH_CAESAR_BOUNDARY], 0);
	assert_int_equal(teach_caesar_rank(&c, g), 4);
	/* Every shift appears once. */
	for (int i = 0; i < 26; i++) {
		assert_in_range(g[i].shift + 12, 0, 25);
		seen[g[i].shift + 12]++;
	}
	for (int i = 0; i < 26; i++)
		assert_int_equal(seen[i], 1);
	teach_caesar_counts_init(&c);
	assert_int_equal(teach_caesar_rank(&c, g), 0);
}

static void
test_dh_run(void **state)
{
	static struct teach_dh a, b;
	char out[32];
	size_t outlen = 0;

	(void)state;
	assert_int_equal(teach_dh_run(&a, 1700000000), 0);
	assert_int_equal(teach_dh_run(&b, 1700000000), 0);
	/* Within a run the two sides agree; across runs nothing repeats. */
	assert_memory_equal(a.your_secret, a.squirrel_secret, 32);
	assert_memory_equal(&a.your_key, &a.squirrel_key, sizeof(a.your_key));
	assert_memory_not_equal(a.your_secret, b.your_secret, 32);
	assert_memory_not_equal(a.your_private, b.your_private, 32);
	assert_memory_not_equal(a.your_private, a.squirrel_private, 32);
	assert_memory_not_equal(a.your_public, a.squirrel_public, 32);
	assert_memory_not_equal(a.token, b.token, a.token_len);
	/* The secret is not a public key, and the key is not the raw secret. */
	assert_memory_not_equal(a.your_secret, a.your_public, 32);
	assert_memory_not_equal(a.your_secret, a.squirrel_public, 32);
	assert_memory_not_equal(&a.your_key, a.your_secret, 32);
	/* The token is a real Fernet token of the message, at the given time. */
	assert_int_equal(a.token_len, fernet_token_len(strlen(TEACH_DH_MESSAGE)));
	assert_int_equal(a.opened_len, strlen(TEACH_DH_MESSAGE));
	assert_memory_equal(a.opened, TEACH_DH_MESSAGE, a.opened_len);
	assert_int_equal(fernet_decrypt(&a.squirrel_key, a.token, a.token_len, 1700000000, 60, out,
					sizeof(out), &outlen),
			 0);
	assert_memory_equal(out, TEACH_DH_MESSAGE, outlen);
	assert_int_equal(fernet_decrypt(&b.squirrel_key, a.token, a.token_len, 1700000000, 60, out,
					sizeof(out), &outlen),
			 FERNET_EINVALID);
	teach_dh_wipe(&a);
	{
		static const struct teach_dh zero;

		assert_memory_equal(&a, &zero, sizeof(a));
	}
}

static void
test_dh_derive(void **state)
{
	/* Python: HKDF(SHA256(), 32, salt=None, info=b"squirrel dh-demo fernet key")
	 * .derive(bytes(range(32))) */
	static const unsigned char want[32] = {
		0x90, 0xa4, 0x70, 0xb5, 0x87, 0x6c, 0x19, 0x06, 0x64, 0x23, 0x68,
		0xaa, 0x78, 0xab, 0x70, 0xc5, 0x8e, 0xe4, 0x6e, 0xb7, 0x03, 0xd0,
		0x09, 0xf7, 0x49, 0x87, 0xd3, 0x3e, 0x11, 0xf9, 0x90, 0x73,
	};
	unsigned char secret[32];
	struct fernet_key k;

	(void)state;
	for (int i = 0; i < 32; i++)
		secret[i] = (unsigned char)i;
	assert_int_equal(teach_dh_derive(secret, &k), 0);
	assert_memory_equal(k.sign, want, 16);
	assert_memory_equal(k.enc, want + 16, 16);
	assert_string_equal(teach_dh_strerror(TEACH_DH_EMISMATCH), "the two shared secrets differ");
	assert_string_equal(teach_dh_strerror(0), "unknown error");
	assert_string_equal(teach_dh_strerror(-4), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tutorial_pair),
		cmocka_unit_test(test_other_bytes_unchanged),
		cmocka_unit_test(test_round_trip_every_shift),
		cmocka_unit_test(test_crack_finds_every_shift),
		cmocka_unit_test(test_crack_the_tutorial),
		cmocka_unit_test(test_crack_counts),
		cmocka_unit_test(test_dh_run),
		cmocka_unit_test(test_dh_derive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
