/*
 * teach_dh: the tutorial's Diffie-Hellman key exchange, for real, with X25519 (RFC 7748) from
 * wolfCrypt: you and the secret squirrel each make a key pair, swap only the public halves,
 * compute the same shared secret, derive a Fernet key from it with HKDF-SHA256 (RFC 5869), and
 * a token made with your key opens with the squirrel's. No printing: cmd_teach.c shows it.
 */
#ifndef SQUIRREL_TEACH_DH_H
#define SQUIRREL_TEACH_DH_H

#include <stddef.h>
#include <stdint.h>

#include "fernet.h"

#define TEACH_DH_MESSAGE "fluffy tail"
/* HKDF "info": binds the derived key to this use (RFC 5869 §3.2). Salt: none (zeros). */
#define TEACH_DH_INFO "squirrel dh-demo fernet key"
#define TEACH_DH_KEY_LEN 32

#define TEACH_DH_ERRORS(X)                                                                         \
	X(TEACH_DH_ECRYPTO, -1, "a wolfCrypt call failed")                                         \
	X(TEACH_DH_EMISMATCH, -2, "the two shared secrets differ")                                 \
	X(TEACH_DH_EOPEN, -3, "the squirrel's key did not open your token")

enum teach_dh_error {
#define TEACH_DH_ENUM(name, value, text) name = value,
	TEACH_DH_ERRORS(TEACH_DH_ENUM)
#undef TEACH_DH_ENUM
};

/* Text for a TEACH_DH_E* code; "unknown error" for anything else. Static storage. */
const char *teach_dh_strerror(int code);

/* Every value of one run. X25519 values are the RFC 7748 little-endian bytes (as OpenSSL's). */
struct teach_dh {
	unsigned char your_private[TEACH_DH_KEY_LEN], your_public[TEACH_DH_KEY_LEN];
	unsigned char squirrel_private[TEACH_DH_KEY_LEN], squirrel_public[TEACH_DH_KEY_LEN];
	unsigned char your_secret[TEACH_DH_KEY_LEN], squirrel_secret[TEACH_DH_KEY_LEN];
	struct fernet_key your_key, squirrel_key; /* HKDF-SHA256 of each side's secret */
	uint64_t now;                             /* the token's timestamp */
	char token[FERNET_TOKEN_LEN(sizeof(TEACH_DH_MESSAGE) - 1)];
	size_t token_len;
	char opened[sizeof(TEACH_DH_MESSAGE) - 1]; /* the token, opened with the squirrel's key */
	size_t opened_len;
};

/*
 * Run one exchange at time now. Returns 0 when both secrets are equal and the token opened
 * with the squirrel's key gives TEACH_DH_MESSAGE; else TEACH_DH_ECRYPTO, TEACH_DH_EMISMATCH
 * or TEACH_DH_EOPEN. *d holds whatever was computed either way; the caller wipes it with
 * teach_dh_wipe().
 */
int teach_dh_run(struct teach_dh *d, uint64_t now);

/* HKDF-SHA256 (no salt, info TEACH_DH_INFO) of a 32-byte secret into a Fernet key. */
int teach_dh_derive(const unsigned char secret[TEACH_DH_KEY_LEN], struct fernet_key *k);

/* explicit_bzero the whole of *d. */
void teach_dh_wipe(struct teach_dh *d);

#endif
