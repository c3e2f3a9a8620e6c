#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include "teach_dh.h"

static const char *const teach_dh_texts[] = {
#define TEACH_DH_TEXT(name, value, text) [-(value)] = text,
	TEACH_DH_ERRORS(TEACH_DH_TEXT)
#undef TEACH_DH_TEXT
};

const char *
teach_dh_strerror(int code)
{
	if (code < 0 && (size_t)-code < sizeof(teach_dh_texts) / sizeof(teach_dh_texts[0]) &&
	    teach_dh_texts[-code] != NULL)
		return teach_dh_texts[-code];
	return "unknown error";
}

int
teach_dh_derive(const unsigned char secret[TEACH_DH_KEY_LEN], struct fernet_key *k)
{
	unsigned char okm[32];

	/* No salt: RFC 5869 §2.2 then uses a string of zeros, as Python's HKDF(salt=None). */
	if (wc_HKDF(WC_SHA256, secret, TEACH_DH_KEY_LEN, NULL, 0,
		    (const unsigned char *)TEACH_DH_INFO, sizeof(TEACH_DH_INFO) - 1, okm,
		    sizeof(okm)) != 0) {
		explicit_bzero(okm, sizeof(okm));
		return TEACH_DH_ECRYPTO;
	}
	memcpy(k->sign, okm, 16);
	memcpy(k->enc, okm + 16, 16);
	explicit_bzero(okm, sizeof(okm));
	return 0;
}

/* Make a key pair in *key and export both halves as RFC 7748 bytes. */
static int
make_pair(WC_RNG *rng, curve25519_key *key, unsigned char priv[32], unsigned char pub[32])
{
	word32 privlen = 32, publen = 32;

	if (wc_curve25519_make_key(rng, 32, key) != 0 ||
	    wc_curve25519_export_private_raw_ex(key, priv, &privlen, EC25519_LITTLE_ENDIAN) != 0 ||
	    wc_curve25519_export_public_ex(key, pub, &publen, EC25519_LITTLE_ENDIAN) != 0 ||
	    privlen != 32 || publen != 32)
		return TEACH_DH_ECRYPTO;
	return 0;
}

/*
 * One side's view: its own key pair, and the other side's public key as it arrived over the
 * wire (bytes only, imported fresh), mixed into the shared secret.
 */
static int
mix(curve25519_key *mine, const unsigned char their_pub[32], unsigned char secret[32])
{
	curve25519_key theirs;
	word32 len = 32;
	int ret = TEACH_DH_ECRYPTO;

	if (wc_curve25519_init(&theirs) != 0)
		return TEACH_DH_ECRYPTO;
	if (wc_curve25519_import_public_ex(their_pub, 32, &theirs, EC25519_LITTLE_ENDIAN) == 0 &&
	    wc_curve25519_shared_secret_ex(mine, &theirs, secret, &len, EC25519_LITTLE_ENDIAN) ==
		    0 &&
	    len == 32)
		ret = 0;
	wc_curve25519_free(&theirs);
	return ret;
}

int
teach_dh_run(struct teach_dh *d, uint64_t now)
{
	curve25519_key you, squirrel;
	unsigned char iv[16];
	WC_RNG rng;
	int ret = TEACH_DH_ECRYPTO;

	memset(d, 0, sizeof(*d));
	d->now = now;
	if (wc_InitRng(&rng) != 0)
		return TEACH_DH_ECRYPTO;
	if (wc_curve25519_init(&you) != 0) {
		wc_FreeRng(&rng);
		return TEACH_DH_ECRYPTO;
	}
	if (wc_curve25519_init(&squirrel) != 0) {
		wc_curve25519_free(&you);
		wc_FreeRng(&rng);
		return TEACH_DH_ECRYPTO;
	}
	if (make_pair(&rng, &you, d->your_private, d->your_public) != 0 ||
	    make_pair(&rng, &squirrel, d->squirrel_private, d->squirrel_public) != 0 ||
	    mix(&you, d->squirrel_public, d->your_secret) != 0 ||
	    mix(&squirrel, d->your_public, d->squirrel_secret) != 0 ||
	    teach_dh_derive(d->your_secret, &d->your_key) != 0 ||
	    teach_dh_derive(d->squirrel_secret, &d->squirrel_key) != 0 ||
	    wc_RNG_GenerateBlock(&rng, iv, sizeof(iv)) != 0)
		goto out;
	if (wolfSSL_CRYPTO_memcmp(d->your_secret, d->squirrel_secret, TEACH_DH_KEY_LEN) != 0) {
		ret = TEACH_DH_EMISMATCH;
		goto out;
	}
	if (fernet_encrypt(&d->your_key, now, iv, TEACH_DH_MESSAGE, sizeof(TEACH_DH_MESSAGE) - 1,
			   d->token, sizeof(d->token), &d->token_len) != 0)
		goto out;
	if (fernet_decrypt(&d->squirrel_key, d->token, d->token_len, now, 60, d->opened,
			   sizeof(d->opened), &d->opened_len) != 0 ||
	    d->opened_len != sizeof(TEACH_DH_MESSAGE) - 1 ||
	    memcmp(d->opened, TEACH_DH_MESSAGE, d->opened_len) != 0) {
		ret = TEACH_DH_EOPEN;
		goto out;
	}
	ret = 0;
out:
	wc_curve25519_free(&you);
	wc_curve25519_free(&squirrel);
	explicit_bzero(&you, sizeof(you));
	explicit_bzero(&squirrel, sizeof(squirrel));
	wc_FreeRng(&rng);
	return ret;
}

void
teach_dh_wipe(struct teach_dh *d)
{
	explicit_bzero(d, sizeof(*d));
}
