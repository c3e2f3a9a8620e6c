/*
 * bench_fernet: Fernet encrypt and decrypt operations per second, in one process, for the
 * tutorial's message "fluffy tail". Prints two machine-readable lines:
 *
 *   fernet_encrypt_ops_per_s N
 *   fernet_decrypt_ops_per_s N
 *
 * The key is prepared once (fernet_ctx_init), as Python's Fernet(key) object is and as the
 * server's key is at start-up. Each encrypt draws a fresh IV from wolfCrypt's RNG and reads the
 * clock, as the server does per response (and as Python's Fernet.encrypt does); each decrypt
 * checks no TTL, as Fernet.decrypt(token) without one. tests/bench/fernet_py.py measures Python
 * the same way.
 *
 *   bench_fernet [--quick]    about 2 s per operation, or 0.5 s with --quick
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/random.h>

#include "fernet.h"
#include "msg.h"

#define BENCH_MSG "fluffy tail"
/* Read the clock once per this many operations, so timing costs nothing measurable. */
#define BENCH_BATCH 64

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double seconds = 2.0, start, elapsed;
	char tok[FERNET_TOKEN_LEN(sizeof(BENCH_MSG) - 1)];
	unsigned char iv[16];
	char out[sizeof(BENCH_MSG)];
	size_t toklen = 0, outlen = 0;
	unsigned long ops;
	struct fernet_key k;
	struct fernet_ctx fc;
	struct fernet_ivs ivs;
	WC_RNG rng;

	msg_init("bench_fernet");
	if (argc == 2 && strcmp(argv[1], "--quick") == 0) {
		seconds = 0.5;
	} else if (argc != 1) {
		fprintf(stderr, "usage: bench_fernet [--quick]\n");
		return 2;
	}
	if (fernet_key_generate(&k) != 0 || wc_InitRng(&rng) != 0) {
		msg_error("cannot set up wolfCrypt's RNG");
		return 1;
	}
	if (fernet_ctx_init(&fc, &k) != 0) {
		msg_error("cannot prepare the key");
		return 1;
	}

	fernet_ivs_init(&ivs);
	ops = 0;
	start = now_s();
	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			/* An IV the way squirrel-server gets one: from a batch drawn from the DRBG. */
			if (fernet_iv_next(&ivs, &rng, iv) != 0 ||
			    fernet_ctx_encrypt(&fc, (uint64_t)time(NULL), iv, BENCH_MSG,
					       sizeof(BENCH_MSG) - 1, tok, sizeof(tok),
					       &toklen) != 0) {
				msg_error("encrypt failed");
				return 1;
			}
		}
		ops += BENCH_BATCH;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	printf("fernet_encrypt_ops_per_s %.0f\n", (double)ops / elapsed);

	ops = 0;
	start = now_s();
	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			if (fernet_ctx_decrypt(&fc, tok, toklen, (uint64_t)time(NULL), 0, out,
					       sizeof(out), &outlen) != 0 ||
			    outlen != sizeof(BENCH_MSG) - 1) {
				msg_error("decrypt failed");
				return 1;
			}
		}
		ops += BENCH_BATCH;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	printf("fernet_decrypt_ops_per_s %.0f\n", (double)ops / elapsed);

	wc_FreeRng(&rng);
	fernet_ctx_free(&fc);
	explicit_bzero(&k, sizeof(k));
	return fflush(stdout) == 0 ? 0 : 1;
}
