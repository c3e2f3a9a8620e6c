/*
 * bench_crypto: the wolfCrypt operations that bound a TLS server, in one process, so Debian's
 * wolfSSL (no assembly) and the `make WOLFSSL=source` build (SP x86-64 assembly, AES-NI) can be
 * compared with each other and with `openssl speed` in the same run.
 *
 *   bench_crypto [SECONDS [rsa]]   default 1 second per operation; `rsa`: RSA-2048 sign only
 *                                  (row d's crypto ceiling, measured between its wrk runs)
 *
 * Prints one `name value` line per figure (the form tests/bench/bench.py reads):
 *   wolfssl_sp_asm 0|1, wolfssl_aesni 0|1       what this binary was linked with
 *   rsa2048_sign_ops_per_s, ecdsa_p256_sign_ops_per_s, ecdh_p256_ops_per_s, x25519_ops_per_s
 *   aes128gcm_1k_mb_per_s, aes128gcm_16k_mb_per_s  (MB = 10^6 bytes, as openssl speed counts)
 * Exit 0, or 1 with one message if wolfCrypt refuses an operation.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"

#define BENCH_GCM_MAX 16384 /* the largest TLS record payload: what keep-alive bulk looks like */

static double bench_seconds = 1.0;
static unsigned char bench_in[BENCH_GCM_MAX];
static unsigned char bench_out[BENCH_GCM_MAX];

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs op until bench_seconds have passed; returns operations per second, or -1 on the first
 * failure (ret of op saved in *why). Checks the clock every `batch` operations so that the clock
 * costs nothing next to AES on 1 KiB. */
static double
bench_run(int (*op)(void *), void *arg, unsigned batch, int *why)
{
	double start = now_s();
	double end = start + bench_seconds;
	double t;
	unsigned long n = 0;
	do {
		for (unsigned i = 0; i < batch; i++) {
			int ret = op(arg);
			if (ret < 0) {
				*why = ret;
				return -1;
			}
		}
		n += batch;
		t = now_s();
	} while (t < end);
	return (double)n / (t - start);
}

struct rsa_ctx {
	RsaKey key;
	WC_RNG *rng;
};

static int
op_rsa_sign(void *arg)
{
	struct rsa_ctx *r = arg;
	word32 len = sizeof bench_out;
	/* 51 bytes: a DigestInfo for SHA-256, what a TLS 1.2 RSA signature pads and signs. */
	return wc_RsaSSL_Sign(bench_in, 51, bench_out, len, &r->key, r->rng);
}

struct ecc_ctx {
	ecc_key key;
	ecc_key peer;
	WC_RNG *rng;
};

static int
op_ecdsa_sign(void *arg)
{
	struct ecc_ctx *e = arg;
	word32 len = sizeof bench_out;
	return wc_ecc_sign_hash(bench_in, 32, bench_out, &len, e->rng, &e->key);
}

static int
op_ecdh(void *arg)
{
	struct ecc_ctx *e = arg;
	word32 len = sizeof bench_out;
	return wc_ecc_shared_secret(&e->key, &e->peer, bench_out, &len);
}

struct x25519_ctx {
	curve25519_key key;
	curve25519_key peer;
};

static int
op_x25519(void *arg)
{
	struct x25519_ctx *x = arg;
	word32 len = sizeof bench_out;
	return wc_curve25519_shared_secret(&x->key, &x->peer, bench_out, &len);
}

struct gcm_ctx {
	Aes aes;
	word32 len;
	unsigned char iv[12];
	unsigned char tag[16];
};

static int
op_gcm(void *arg)
{
	struct gcm_ctx *g = arg;
	g->iv[11]++;
	return wc_AesGcmEncrypt(&g->aes, bench_out, bench_in, g->len, g->iv, sizeof g->iv, g->tag,
				sizeof g->tag, NULL, 0);
}

static int
fail(const char *what, int ret)
{
	msg_error("%s failed: wolfCrypt error %d", what, ret);
	return 1;
}

static int
bench_rsa(WC_RNG *rng)
{
	static struct rsa_ctx r;
	int ret, why = 0, status = 0;
	double v;

	r.rng = rng;
	if ((ret = wc_InitRsaKey(&r.key, NULL)) != 0 ||
	    (ret = wc_MakeRsaKey(&r.key, 2048, WC_RSA_EXPONENT, rng)) != 0 ||
	    (ret = wc_RsaSetRNG(&r.key, rng)) != 0)
		status = fail("rsa-2048 key generation", ret);
	else if ((v = bench_run(op_rsa_sign, &r, 1, &why)) < 0)
		status = fail("rsa-2048 sign", why);
	else
		printf("rsa2048_sign_ops_per_s %.0f\n", v);
	wc_FreeRsaKey(&r.key);
	explicit_bzero(&r, sizeof r);
	fflush(stdout);
	return status;
}

static int
bench_ecc(WC_RNG *rng)
{
	static struct ecc_ctx e;
	int ret, why = 0, status = 0;
	double v;

	e.rng = rng;
	if ((ret = wc_ecc_init(&e.key)) != 0 || (ret = wc_ecc_init(&e.peer)) != 0 ||
	    (ret = wc_ecc_make_key_ex(rng, 32, &e.key, ECC_SECP256R1)) != 0 ||
	    (ret = wc_ecc_make_key_ex(rng, 32, &e.peer, ECC_SECP256R1)) != 0 ||
	    (ret = wc_ecc_set_rng(&e.key, rng)) != 0) {
		status = fail("p-256 key generation", ret);
	} else {
		if ((v = bench_run(op_ecdsa_sign, &e, 1, &why)) < 0)
			status = fail("ecdsa p-256 sign", why);
		else
			printf("ecdsa_p256_sign_ops_per_s %.0f\n", v);
		if ((v = bench_run(op_ecdh, &e, 1, &why)) < 0)
			status = fail("ecdh p-256", why);
		else
			printf("ecdh_p256_ops_per_s %.0f\n", v);
	}
	wc_ecc_free(&e.key);
	wc_ecc_free(&e.peer);
	explicit_bzero(&e, sizeof e);
	fflush(stdout);
	return status;
}

static int
bench_x25519(WC_RNG *rng)
{
	static struct x25519_ctx x;
	int ret, why = 0, status = 0;
	double v;

	if ((ret = wc_curve25519_init(&x.key)) != 0 || (ret = wc_curve25519_init(&x.peer)) != 0 ||
	    (ret = wc_curve25519_make_key(rng, CURVE25519_KEYSIZE, &x.key)) != 0 ||
	    (ret = wc_curve25519_make_key(rng, CURVE25519_KEYSIZE, &x.peer)) != 0)
		status = fail("x25519 key generation", ret);
	else if ((v = bench_run(op_x25519, &x, 1, &why)) < 0)
		status = fail("x25519", why);
	else
		printf("x25519_ops_per_s %.0f\n", v);
	wc_curve25519_free(&x.key);
	wc_curve25519_free(&x.peer);
	explicit_bzero(&x, sizeof x);
	fflush(stdout);
	return status;
}

static int
bench_gcm(void)
{
	static struct gcm_ctx g;
	static const word32 sizes[] = {1024, BENCH_GCM_MAX};
	static const char *const names[] = {"aes128gcm_1k_mb_per_s", "aes128gcm_16k_mb_per_s"};
	int ret, why = 0, status = 0;
	double v;

	if ((ret = wc_AesInit(&g.aes, NULL, INVALID_DEVID)) != 0 ||
	    (ret = wc_AesGcmSetKey(&g.aes, bench_in, 16)) != 0) {
		status = fail("aes-128-gcm key setup", ret);
	} else {
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			g.len = sizes[i];
			if ((v = bench_run(op_gcm, &g, 16, &why)) < 0) {
				status = fail("aes-128-gcm", why);
				break;
			}
			printf("%s %.1f\n", names[i], v * g.len / 1e6);
		}
	}
	wc_AesFree(&g.aes);
	explicit_bzero(&g, sizeof g);
	return status;
}

int
main(int argc, char **argv)
{
	msg_init("bench_crypto");
	int rsa_only = argc == 3 && strcmp(argv[2], "rsa") == 0;
	if (argc > 3 || (argc == 3 && !rsa_only) ||
	    (argc >= 2 && (bench_seconds = strtod(argv[1], NULL)) <= 0)) {
		msg_error("usage: bench_crypto [SECONDS [rsa]]");
		return 2;
	}
#if defined(WOLFSSL_SP_X86_64_ASM) && defined(WOLFSSL_HAVE_SP_RSA)
	printf("wolfssl_sp_asm 1\n");
#else
	printf("wolfssl_sp_asm 0\n");
#endif
#ifdef WOLFSSL_AESNI
	printf("wolfssl_aesni 1\n");
#else
	printf("wolfssl_aesni 0\n");
#endif
	fflush(stdout);

	WC_RNG rng;
	int ret = wc_InitRng(&rng);
	if (ret != 0)
		return fail("wc_InitRng", ret);
	for (size_t i = 0; i < sizeof bench_in; i++)
		bench_in[i] = (unsigned char)i;
	int status = bench_rsa(&rng);
	if (!rsa_only) {
		status |= bench_ecc(&rng);
		status |= bench_x25519(&rng);
		status |= bench_gcm();
	}
	wc_FreeRng(&rng);
	return status;
}
