/*
 * fernet: Fernet tokens (the fernet/spec format, as Python cryptography's Fernet and
 * MultiFernet make and read them), on wolfCrypt's AES-128-CBC, HMAC-SHA256, RNG and base64.
 *
 *   token = b64url( 0x80 | u64be seconds | IV[16] | AES-128-CBC(PKCS#7(msg)) | HMAC-SHA256 )
 *   key   = b64url( signing key[16] | encryption key[16] )
 *
 * Pure functions: the time and the IV come in as parameters (so the spec's fixed vectors are
 * testable and a server draws IVs from its own RNG), results go into caller buffers. No
 * allocation; wolfCrypt state lives on the stack or in the caller's struct fernet_ctx, and
 * what a call makes on the stack is wiped before it returns. Only fernet_key_generate() uses
 * an RNG.
 *
 * Two ways to use a key: the one-shot calls (fernet_encrypt, fernet_decrypt*) take a struct
 * fernet_key and prepare wolfCrypt's state for it on every call; a struct fernet_ctx, made
 * once with fernet_ctx_init(), keeps that state for many tokens (fernet_ctx_encrypt,
 * fernet_ctx_decrypt*), as a Python Fernet(key) object does. Both give the same tokens and
 * the same results; the one-shot calls are the ctx calls on a ctx of their own.
 */
#ifndef SQUIRREL_FERNET_H
#define SQUIRREL_FERNET_H

#include <stddef.h>
#include <stdint.h>

/* wolfCrypt's Aes and Hmac, for struct fernet_ctx; options.h first, as everywhere. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "b64url.h"

/* URL-safe base64 of 32 bytes, with its one '=' of padding. */
#define FERNET_KEY_B64_LEN 44

/* SECRET_KEY lists at most this many keys (newest first): enough for a rotation in progress. */
#define FERNET_MAX_KEYS 8

/*
 * Largest plaintext we encrypt. The secret is a short message; 4 KiB makes a 5,560-byte token,
 * which fits one response buffer and keeps decrypt's scratch on the stack.
 */
#define FERNET_MAX_MSG 4096
/*
 * Largest plaintext a token we accept can hold: tokens are accepted up to the length of one
 * for FERNET_MAX_MSG, and padding lets that length carry up to 15 bytes more. Size buffers
 * for fernet_decrypt with this, or a valid token from another encoder is FERNET_ENOSPACE.
 */
#define FERNET_MAX_OPEN (FERNET_MAX_MSG + FERNET_BLOCK - 1)

/* Tokens from the reference are at most 60 s ahead of our clock when a TTL is checked. */
#define FERNET_MAX_CLOCK_SKEW 60

/* version, timestamp, IV | ciphertext | HMAC */
#define FERNET_HEAD_LEN 25
#define FERNET_MAC_LEN 32
#define FERNET_BLOCK 16

/* Bytes of the decoded token for a message of n bytes (PKCS#7 always adds 1..16). */
#define FERNET_RAW_LEN(n)                                                                          \
	(FERNET_HEAD_LEN + ((n) / FERNET_BLOCK + 1) * FERNET_BLOCK + FERNET_MAC_LEN)
/* Characters of the token for a message of n bytes; a constant expression when n is. */
#define FERNET_TOKEN_LEN(n) B64URL_ENCODED_LEN(FERNET_RAW_LEN(n))
/* 5560: the longest token we make or accept. */
#define FERNET_MAX_TOKEN FERNET_TOKEN_LEN(FERNET_MAX_MSG)

/* Codes are never renumbered: scripts and other modules may keep them. */
#define FERNET_ERRORS(X)                                                                           \
	X(FERNET_EINVALID, -1, "invalid token")                                                    \
	X(FERNET_EKEYEMPTY, -2, "the key is empty")                                                \
	X(FERNET_EKEYBASE64, -3, "the key is not url-safe base64")                                 \
	X(FERNET_EKEYLENGTH, -4, "the key does not decode to 32 bytes")                            \
	X(FERNET_ETOOMANYKEYS, -5, "too many keys (at most 8)")                                    \
	X(FERNET_ETOOLONG, -6, "the message is longer than 4096 bytes")                            \
	X(FERNET_ENOSPACE, -7, "the output buffer is too small")                                   \
	X(FERNET_ECRYPTO, -8, "a wolfCrypt call failed")

enum fernet_error {
#define FERNET_ENUM(name, value, text) name = value,
	FERNET_ERRORS(FERNET_ENUM)
#undef FERNET_ENUM
};

/* Text for a FERNET_E* code; "unknown error" for anything else. Static storage. */
const char *fernet_strerror(int code);

/*
 * Why a token was refused. Never shown to the person at the other end (every failure is
 * FERNET_EINVALID, "invalid token", as in the reference); kept for tests and debug logs.
 */
#define FERNET_WHYS(X)                                                                             \
	X(FERNET_WHY_OK, 0, "valid")                                                               \
	X(FERNET_WHY_BASE64, 1, "not strict url-safe base64")                                      \
	X(FERNET_WHY_VERSION, 2, "the version byte is not 0x80")                                   \
	X(FERNET_WHY_LENGTH, 3, "too short, too long, or not whole cipher blocks")                 \
	X(FERNET_WHY_EXPIRED, 4, "older than the ttl")                                             \
	X(FERNET_WHY_FUTURE, 5, "more than 60 s in the future")                                    \
	X(FERNET_WHY_MAC, 6, "the hmac does not match (wrong key, or altered)")                    \
	X(FERNET_WHY_PADDING, 7, "bad PKCS#7 padding")

enum fernet_why {
#define FERNET_WHY_ENUM(name, value, text) name = value,
	FERNET_WHYS(FERNET_WHY_ENUM)
#undef FERNET_WHY_ENUM
};

/* Text for a FERNET_WHY_* value; "unknown" for anything else. Static storage. */
const char *fernet_why_str(int why);

struct fernet_key {
	unsigned char sign[16], enc[16];
};

/* Size of the token for a message of len bytes: FERNET_TOKEN_LEN(len). */
size_t fernet_token_len(size_t len);

/*
 * Parse one key from text[0..len) (need not be NUL-terminated). Surrounding spaces, tabs, CR
 * and LF are ignored; what remains must be strict URL-safe base64 (see b64url.h) of exactly 32
 * bytes. Returns 0 or FERNET_EKEYEMPTY, FERNET_EKEYBASE64, FERNET_EKEYLENGTH. On failure *k is
 * zeroed. For a message that says which character or how many bytes, use fernet_keys_parse().
 */
int fernet_key_parse(const char *text, size_t len, struct fernet_key *k);

/*
 * Parse SECRET_KEY: one key, or several separated by commas, newest first (key rotation: the
 * server encrypts with keys[0], the client tries each, as MultiFernet does). Each key may have
 * whitespace around it. NUL-terminated text; keys[max]; *n gets the count (>= 1).
 * Returns 0, FERNET_EKEYEMPTY, FERNET_EKEYBASE64, FERNET_EKEYLENGTH or FERNET_ETOOMANYKEYS
 * (more than max keys). On failure, err (errlen bytes, may be NULL) gets one lower-case
 * sentence naming the bad key when there are several, e.g.
 *   "key 2 of 3 decodes to 16 bytes instead of 32"
 *   "character 12 ('+') is not url-safe base64 (A-Z a-z 0-9 - _)"
 * and keys[] is zeroed. The text never contains key material beyond one offending character.
 */
int fernet_keys_parse(const char *text, struct fernet_key *keys, size_t max, size_t *n, char *err,
		      size_t errlen);

/* Fill *k from wolfCrypt's RNG. Returns 0 or FERNET_ECRYPTO (k zeroed). */
int fernet_key_generate(struct fernet_key *k);

/*
 * IVs for a server that makes a token per response. One DRBG call costs about the same for
 * 16 bytes as for 1 KiB, so IVs are drawn FERNET_IV_BATCH at a time: a third of the cost of
 * an encryption saved. They stay unpredictable: drawn from the CSPRNG, kept only in this
 * process's memory, each used once.
 */
#define FERNET_IV_BATCH 64
struct WC_RNG;
struct fernet_ivs {
	unsigned char iv[FERNET_IV_BATCH][16];
	unsigned next; /* FERNET_IV_BATCH: empty */
};

/* Start empty. */
void fernet_ivs_init(struct fernet_ivs *p);

/* The next IV, refilling from rng when empty. Returns 0 or FERNET_ECRYPTO. */
int fernet_iv_next(struct fernet_ivs *p, struct WC_RNG *rng, unsigned char iv[16]);

/* Format *k as its 44-character URL-safe base64 text, NUL-terminated. */
void fernet_key_format(const struct fernet_key *k, char out[FERNET_KEY_B64_LEN + 1]);

/*
 * Make the token for msg[0..len) at time now (seconds since the epoch) with the given IV,
 * which must be fresh random bytes for every token (the caller's RNG draws them). Writes
 * exactly fernet_token_len(len) characters to out (cap bytes; not NUL-terminated, nothing
 * written past them) and sets *outlen. msg may be NULL when len is 0.
 * Returns 0, FERNET_ETOOLONG (len > FERNET_MAX_MSG), FERNET_ENOSPACE or FERNET_ECRYPTO.
 */
int fernet_encrypt(const struct fernet_key *k, uint64_t now, const unsigned char iv[16],
		   const void *msg, size_t len, char *out, size_t cap, size_t *outlen);

/*
 * Open token[0..toklen) with key k at time now. ttl > 0: refuse tokens made more than ttl
 * seconds before now, or more than FERNET_MAX_CLOCK_SKEW seconds after it; ttl <= 0: the
 * timestamp is not checked at all (both rules as in cryptography.fernet). The token must be
 * exactly what an encoder emits: no surrounding whitespace (trim an HTTP body first).
 * The plaintext goes to out (cap bytes, not NUL-terminated), its length to *outlen.
 * Returns 0, FERNET_EINVALID (any problem with the token), FERNET_ENOSPACE (valid token,
 * plaintext longer than cap) or FERNET_ECRYPTO. On failure out holds nothing of the plaintext.
 */
int fernet_decrypt(const struct fernet_key *k, const char *token, size_t toklen, uint64_t now,
		   int64_t ttl, void *out, size_t cap, size_t *outlen);

/* MultiFernet: as fernet_decrypt, trying keys[0..n) in order; the first that opens it wins. */
int fernet_decrypt_any(const struct fernet_key *keys, size_t n, const char *token, size_t toklen,
		       uint64_t now, int64_t ttl, void *out, size_t cap, size_t *outlen);

/* What fernet_decrypt_detail() found, whatever it returned. */
struct fernet_detail {
	int why;            /* FERNET_WHY_*; FERNET_WHY_OK when the token opened */
	size_t key;         /* index of the key that opened it (valid when why == OK) */
	uint64_t timestamp; /* the token's time; 0 when it was not even decodable */
};

/* fernet_decrypt_any, also reporting why a token failed and which key opened it. d may be NULL. */
int fernet_decrypt_detail(const struct fernet_key *keys, size_t n, const char *token, size_t toklen,
			  uint64_t now, int64_t ttl, void *out, size_t cap, size_t *outlen,
			  struct fernet_detail *d);

/*
 * A key prepared for many tokens: both AES-128 key schedules, and the HMAC-SHA256 state keyed
 * with the signing key and with its inner pad already hashed (one SHA-256 block of the four
 * an HMAC of a short message takes). A short token then costs a fifth fewer instructions than
 * with the one-shot calls (docs/benchmarks.md).
 *
 * The fields belong to fernet.c. The ctx is read-only after fernet_ctx_init(): each call works
 * on stack copies of its state, so one ctx may serve several threads at once. It holds the
 * key: free it with fernet_ctx_free(), which wipes it. Do not copy a ctx (assignment, memcpy):
 * the HMAC state points at the key inside it; init another one from the key instead.
 */
struct fernet_ctx {
	struct fernet_key key; /* wolfCrypt's Hmac keeps a pointer to its key: it lives here */
	Aes enc, dec;          /* key schedules; a token copies one and sets its own IV */
	Hmac mac;              /* keyed, inner pad hashed; a token copies it (see fernet.c) */
};

/*
 * Prepare fc for key k (which the caller may wipe afterwards). Returns 0 or FERNET_ECRYPTO,
 * and then *fc is zeroed.
 */
int fernet_ctx_init(struct fernet_ctx *fc, const struct fernet_key *k);

/* Release and wipe fc (every byte zero). Harmless on a zeroed ctx or after a failed init. */
void fernet_ctx_free(struct fernet_ctx *fc);

/* fernet_encrypt() with a prepared key: same arguments otherwise, same results. */
int fernet_ctx_encrypt(const struct fernet_ctx *fc, uint64_t now, const unsigned char iv[16],
		       const void *msg, size_t len, char *out, size_t cap, size_t *outlen);

/* fernet_decrypt() with a prepared key: same arguments otherwise, same results. */
int fernet_ctx_decrypt(const struct fernet_ctx *fc, const char *token, size_t toklen, uint64_t now,
		       int64_t ttl, void *out, size_t cap, size_t *outlen);

/*
 * fernet_decrypt_detail() with prepared keys fcs[0..n), tried in order (MultiFernet);
 * d->key is the index into fcs. d may be NULL.
 */
int fernet_ctx_decrypt_detail(const struct fernet_ctx *fcs, size_t n, const char *token,
			      size_t toklen, uint64_t now, int64_t ttl, void *out, size_t cap,
			      size_t *outlen, struct fernet_detail *d);

#endif
