/*
 * transcript: the TLS transcripts of tests/vectors/tls/ (SOURCE.txt there says what each is),
 * for the tests of squirrel-tap's dissector and ladder: the bytes each side sent, in order,
 * and the key log that opens them.
 */
#ifndef SQUIRREL_TEST_TRANSCRIPT_H
#define SQUIRREL_TEST_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "dissect.h"
#include "sslkeys.h"

#define TRANSCRIPT_STEPS 64
#define TRANSCRIPT_BYTES (64 * 1024)

/* Bytes that crossed one way at once. */
struct step {
	enum dis_dir dir;
	const void *p;
	size_t n;
};

struct transcript {
	struct step st[TRANSCRIPT_STEPS];
	size_t n;
	size_t used;
	uint8_t bytes[TRANSCRIPT_BYTES];
};

/*
 * Load $SQUIRREL_VECTORS/tls/NAME.txt: its chunks into t (pointing into t), its key log lines
 * into k (initialised here). Returns 0, or -1 when SQUIRREL_VECTORS is not set (the test is
 * skipped then). A file that is missing or does not parse aborts.
 */
int transcript_load(const char *name, struct transcript *t, struct sslkeys *k);

/* A key lookup (dissect.h's dis_keys_fn) over a struct sslkeys given as arg. */
size_t transcript_keys(void *arg, enum sslkeys_label label,
		       const uint8_t random[SSLKEYS_RANDOM_LEN], uint8_t out[SSLKEYS_SECRET_MAX]);

#endif
