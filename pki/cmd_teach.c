/*
 * The tutorial's teaching toys: squirrel-pki caesar (substitution cipher and frequency
 * analysis) and squirrel-pki dh-demo (an X25519 key exchange, step by step). The work is in
 * teach_caesar.c and teach_dh.c; this file parses arguments and prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "fernet.h"
#include "msg.h"
#include "teach_caesar.h"
#include "teach_dh.h"

/* Standard input is read and written in pieces this size: any length of text works. */
#define CAESAR_CHUNK 4096
/* How much of the text crack shows, decrypted, beside each guess. */
#define CAESAR_PREVIEW 60
/* --shift beyond this is a typo, not a cipher (any value is the same as one in -12..13). */
#define CAESAR_MAX_SHIFT 1000000
#define CAESAR_TOP_DEFAULT 5

/* ---- caesar ------------------------------------------------------------------------------- */

static void
caesar_usage(FILE *f)
{
	cmd_fprintf(
		f,
		"usage: squirrel-pki caesar encrypt [--shift N] [TEXT...]\n"
		"       squirrel-pki caesar decrypt [--shift N] [TEXT...]\n"
		"       squirrel-pki caesar crack [--top N] [TEXT...]\n"
		"\n"
		"The tutorial's substitution cipher: every letter moves N places along the alphabet\n"
		"(negative N: back; default -1, so 'fluffy tail' becomes 'ekteex szhk'). Case is "
		"kept;\n"
		"other characters are unchanged. The words of TEXT are joined with spaces; without\n"
		"TEXT, standard input is read to its end.\n"
		"\n"
		"crack ranks all 26 shifts by how English each decryption reads, letter pair by letter\n"
		"pair (the mean log-probability of each letter after the one before it, or a word's\n"
		"start, in English prose; higher is closer) and prints the best N guesses (default\n"
		"5): rank, the shift that encrypted the text, its score, and the start of the\n"
		"decryption.\n"
		"\n"
		"  --shift N   places to move each letter when encrypting (decrypt moves them back)\n"
		"  --top N     crack: how many guesses to print (1-26)\n"
		"  --          the rest is TEXT, even if it starts with '-'\n");
}

/* A whole number in [lo, hi]; 0 or -1 (with a message naming the option). */
static int
parse_int(const char *opt, const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || *v < lo || *v > hi) {
		msg_error("caesar: %s wants a whole number from %ld to %ld, not '%s'", opt, lo, hi,
			  s ? s : "");
		return -1;
	}
	return 0;
}

/* Shift TEXT words (joined by spaces, then a newline) or all of stdin (as is) to stdout. */
static int
caesar_apply(char **words, int nwords, int shift)
{
	char buf[CAESAR_CHUNK];
	size_t n;

	if (nwords > 0) {
		for (int i = 0; i < nwords; i++) {
			const char *w = words[i];
			size_t len = strlen(w);

			if (i > 0 && cmd_write(" ", 1) != 0)
				goto write_fail;
			for (size_t off = 0; off < len; off += n) {
				n = len - off < sizeof(buf) ? len - off : sizeof(buf);
				teach_caesar_shift(w + off, n, shift, buf);
				if (cmd_write(buf, n) != 0)
					goto write_fail;
			}
		}
		if (cmd_write("\n", 1) != 0)
			goto write_fail;
	} else {
		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
			teach_caesar_shift(buf, n, shift, buf);
			if (cmd_write(buf, n) != 0)
				goto write_fail;
		}
		if (ferror(stdin)) {
			msg_error("caesar: cannot read standard input: %s", strerror(errno));
			return PKI_EXIT_READ;
		}
	}
	return PKI_EXIT_OK;
write_fail:
	/* No use reading more; main() says why the write failed. */
	return PKI_EXIT_WRITE;
}

/* Keep the first CAESAR_PREVIEW bytes of the text seen so far (plus one, to know there is more). */
static void
preview_add(char *pv, size_t *pvlen, const char *s, size_t len)
{
	size_t room = CAESAR_PREVIEW + 1 - *pvlen;
	size_t n = len < room ? len : room;

	memcpy(pv + *pvlen, s, n);
	*pvlen += n;
}

static int
caesar_crack(char **words, int nwords, long top)
{
	struct teach_caesar_counts counts;
	struct teach_caesar_guess g[26];
	unsigned long total;
	char pv[CAESAR_PREVIEW + 1], line[CAESAR_PREVIEW + 1];
	size_t pvlen = 0, shown;
	int more;

	teach_caesar_counts_init(&counts);
	if (nwords > 0) {
		for (int i = 0; i < nwords; i++) {
			if (i > 0) {
				preview_add(pv, &pvlen, " ", 1);
				teach_caesar_count(&counts, " ", 1);
			}
			preview_add(pv, &pvlen, words[i], strlen(words[i]));
			teach_caesar_count(&counts, words[i], strlen(words[i]));
		}
	} else {
		char buf[CAESAR_CHUNK];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
			preview_add(pv, &pvlen, buf, n);
			teach_caesar_count(&counts, buf, n);
		}
		if (ferror(stdin)) {
			msg_error("caesar: cannot read standard input: %s", strerror(errno));
			return PKI_EXIT_READ;
		}
	}
	teach_caesar_count_end(&counts);
	total = teach_caesar_rank(&counts, g);
	if (total == 0) {
		msg_error("caesar: crack: the text has no letters to count (give it some English)");
		return PKI_EXIT_INPUT;
	}

	more = pvlen > CAESAR_PREVIEW;
	shown = more ? CAESAR_PREVIEW : pvlen;
	/* Don't cut a UTF-8 character in half. */
	while (more && shown > 0 && ((unsigned char)pv[shown] & 0xc0) == 0x80)
		shown--;
	/* One line per guess: line ends and tabs in the text become spaces. */
	for (size_t i = 0; i < shown; i++)
		if ((unsigned char)pv[i] < 0x20 || pv[i] == 0x7f)
			pv[i] = ' ';

	cmd_printf("# %lu letter%s; score: how English each decryption reads, by letter pairs "
		   "(higher is closer)\n",
		   total, total == 1 ? "" : "s");
	cmd_printf("rank  shift  score  text (decrypted with -shift)\n");
	for (long i = 0; i < top; i++) {
		teach_caesar_shift(pv, shown, -g[i].shift, line);
		cmd_printf("%4ld  %5d  %5.2f  %.*s%s\n", i + 1, g[i].shift, g[i].score, (int)shown,
			   line, more ? "..." : "");
	}
	return PKI_EXIT_OK;
}

int
cmd_caesar(int argc, char **argv)
{
	enum { ENCRYPT, DECRYPT, CRACK } mode;
	long shift = TEACH_CAESAR_SHIFT, top = CAESAR_TOP_DEFAULT;
	int i;

	if (argc < 2) {
		caesar_usage(stderr);
		return PKI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		caesar_usage(stdout);
		return PKI_EXIT_OK;
	}
	if (strcmp(argv[1], "encrypt") == 0) {
		mode = ENCRYPT;
	} else if (strcmp(argv[1], "decrypt") == 0) {
		mode = DECRYPT;
	} else if (strcmp(argv[1], "crack") == 0) {
		mode = CRACK;
	} else {
		msg_error("caesar: '%s' is not encrypt, decrypt or crack (try 'squirrel-pki caesar "
			  "--help')",
			  argv[1]);
		return PKI_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			caesar_usage(stdout);
			return PKI_EXIT_OK;
		}
		if (strncmp(a, "--shift", 7) == 0 && (a[7] == '\0' || a[7] == '=') &&
		    mode != CRACK) {
			val = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
			if (parse_int("--shift", val, -CAESAR_MAX_SHIFT, CAESAR_MAX_SHIFT,
				      &shift) != 0)
				return PKI_EXIT_USAGE;
			continue;
		}
		if (strncmp(a, "--top", 5) == 0 && (a[5] == '\0' || a[5] == '=') && mode == CRACK) {
			val = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
			if (parse_int("--top", val, 1, 26, &top) != 0)
				return PKI_EXIT_USAGE;
			continue;
		}
		/* "-3" is text, not an option; "--shift" after crack is a mistake worth naming. */
		if (a[0] == '-' && a[1] == '-') {
			msg_error(
				"caesar: %s takes no option '%s' (try 'squirrel-pki caesar --help')",
				argv[1], a);
			return PKI_EXIT_USAGE;
		}
		break;
	}
	if (mode == CRACK)
		return caesar_crack(argv + i, argc - i, top);
	return caesar_apply(argv + i, argc - i, (int)(mode == ENCRYPT ? shift : -shift));
}

/* ---- dh-demo ------------------------------------------------------------------------------ */

static void
dh_usage(FILE *f)
{
	cmd_fprintf(
		f,
		"usage: squirrel-pki dh-demo\n"
		"\n"
		"Run a real X25519 Diffie-Hellman exchange between you and the secret squirrel and\n"
		"print each step in the tutorial's paint-mixing terms: the public agreement, both\n"
		"private and public keys, both computed shared secrets, a Fernet key derived from\n"
		"each with HKDF-SHA256, and a token of 'fluffy tail' made with your key and opened\n"
		"with the squirrel's. Every run makes new keys. Exit status 0 only when the two\n"
		"secrets are equal and the token opens.\n");
}

/* "  label:<pad> value" with the values in one column; labels are stable for scripts. */
static void
dh_hex(const char *label, const unsigned char *b, size_t len)
{
	cmd_printf("  %-27s ", label);
	for (size_t i = 0; i < len; i++)
		cmd_printf("%02x", b[i]);
	cmd_printf("\n");
}

static void
dh_text(const char *label, const char *s, size_t len)
{
	cmd_printf("  %-27s %.*s\n", label, (int)len, s);
}

static void
dh_print(const struct teach_dh *d, int ret)
{
	char key[FERNET_KEY_B64_LEN + 1];

	cmd_printf(
		"Diffie-Hellman key exchange (X25519): you and the secret squirrel agree on a key\n"
		"while a spy reads everything you send each other. Paint mixing: each side mixes a\n"
		"secret colour into a common one and sends the mix; each then mixes its own secret\n"
		"colour into the other's mix, and both end with the same colour the spy cannot make.\n"
		"\n");
	cmd_printf("1. the public agreement (the common colour: known to everyone, the spy too)\n");
	dh_text("curve:", "X25519 (Curve25519, RFC 7748)", strlen("X25519 (Curve25519, RFC 7748)"));
	dh_text("base point:", "u = 9", 5);
	cmd_printf(
		"2. private keys (each side's secret colour: never sent; shown only because this is "
		"a demo)\n");
	dh_hex("your private key:", d->your_private, sizeof(d->your_private));
	dh_hex("squirrel private key:", d->squirrel_private, sizeof(d->squirrel_private));
	cmd_printf(
		"3. public keys (secret colour mixed into the common one: sent in the open, the spy "
		"sees them)\n");
	dh_hex("your public key:", d->your_public, sizeof(d->your_public));
	dh_hex("squirrel public key:", d->squirrel_public, sizeof(d->squirrel_public));
	cmd_printf(
		"4. shared secrets (your secret colour into the squirrel's mix, and the squirrel's "
		"into yours)\n");
	dh_hex("your shared secret:", d->your_secret, sizeof(d->your_secret));
	dh_hex("squirrel shared secret:", d->squirrel_secret, sizeof(d->squirrel_secret));
	dh_text("secrets equal:", ret == TEACH_DH_EMISMATCH ? "no" : "yes",
		ret == TEACH_DH_EMISMATCH ? 2 : 3);
	if (ret == TEACH_DH_EMISMATCH)
		return;
	cmd_printf("5. a Fernet key from each shared secret (HKDF-SHA256, no salt, info \"%s\")\n",
		   TEACH_DH_INFO);
	fernet_key_format(&d->your_key, key);
	dh_text("your fernet key:", key, strlen(key));
	fernet_key_format(&d->squirrel_key, key);
	dh_text("squirrel fernet key:", key, strlen(key));
	explicit_bzero(key, sizeof(key));
	cmd_printf("6. you send the secret as a Fernet token made with your key (the spy sees only "
		   "this)\n");
	dh_text("token:", d->token, d->token_len);
	if (ret == 0)
		dh_text("opened with squirrel key:", d->opened, d->opened_len);
	else
		dh_text("opened with squirrel key:", "(failed)", 8);
	cmd_printf(
		"\nThe spy saw the common colour, both public keys and the token, never a private\n"
		"key or the shared secret. This is how TLS gets a symmetric key that is never sent.\n");
}

int
cmd_dh_demo(int argc, char **argv)
{
	struct teach_dh d;
	time_t now = time(NULL);
	int ret;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			dh_usage(stdout);
			return PKI_EXIT_OK;
		}
		msg_error("dh-demo: unexpected argument '%s' (try 'squirrel-pki dh-demo --help')",
			  argv[1]);
		return PKI_EXIT_USAGE;
	}
	ret = teach_dh_run(&d, now < 0 ? 0 : (uint64_t)now);
	if (ret != TEACH_DH_ECRYPTO)
		dh_print(&d, ret);
	teach_dh_wipe(&d);
	if (ret != 0) {
		msg_error("dh-demo: %s", teach_dh_strerror(ret));
		return PKI_EXIT_FAIL;
	}
	return PKI_EXIT_OK;
}
