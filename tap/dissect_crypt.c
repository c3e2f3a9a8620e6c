/*
 * dissect_crypt: opening TLS records with the secrets of a key log, so the tap can show what
 * is inside them. See dissect.h.
 *
 * Keys, from wolfCrypt's primitives only:
 *   - TLS 1.3 (RFC 8446 §7.3): key = HKDF-Expand-Label(secret, "key", "", key length) and
 *     iv = HKDF-Expand-Label(secret, "iv", "", 12), wc_Tls13_HKDF_Expand_Label with the
 *     "tls13 " prefix of §7.1, over the suite's hash; a KeyUpdate's next secret is
 *     HKDF-Expand-Label(secret, "traffic upd", "", hash length) (§7.2).
 *   - TLS 1.2 (RFC 5246 §6.3): key_block = PRF(master_secret, "key expansion",
 *     server_random + client_random) with wc_PRF_TLS and the suite's hash, cut into the
 *     client and server write keys and IVs (no MAC keys for an AEAD suite). An extended
 *     master secret (RFC 7627) changes only how the master secret was made, which the key
 *     log already holds.
 * Records, with wc_AesGcmDecrypt or wc_ChaCha20Poly1305_Decrypt:
 *   - TLS 1.3 (§5.2, §5.3): nonce = iv XOR the 64-bit sequence number, the additional data is
 *     the record header; the plaintext ends with the real content type, then zero padding.
 *   - TLS 1.2 AES-GCM (RFC 5288 §3): nonce = the 4-byte implicit IV + the 8 explicit bytes
 *     that start the record; ChaCha20-Poly1305 (RFC 7905 §2): nonce = iv XOR sequence. The
 *     additional data is sequence, type, version and plaintext length (RFC 5246 §6.2.3.3).
 * Each direction counts its records from 0 at each new key. A TLS 1.3 direction moves from
 * its handshake keys to its application keys after the record that holds its Finished.
 *
 * The keys may come late: a client appends its handshake secrets to the key log only after
 * it has read the ServerHello, so the server's first encrypted records pass the tap before
 * the log has their keys. Such records are kept (CRYPT_HOLD bytes a direction) and tried
 * again each time the other side sends; after CRYPT_WAIT_SENDS of those, or when the
 * connection ends or room runs out, a record still without keys is shown as sealed. Nothing
 * is allocated: the caller gives dis_crypt_size() bytes per connection.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/kdf.h>

#include "dissect_int.h"

/* Records kept per direction while their keys are not in the key log yet: one largest record
 * (5 + 2^14 + 2,048 bytes) and then some; a server's first flight (EncryptedExtensions to
 * Finished) is 1 to 5 KiB with the certificates this project and its tests use. */
#define CRYPT_HOLD (24 * 1024)
#define AEAD_TAG 16
#define AEAD_NONCE 12
/* RFC 5288 §3: TLS 1.2 AES-GCM's explicit nonce starts each record; 4 bytes are implicit. */
#define GCM_EXPLICIT 8
#define GCM_IMPLICIT 4
#define NO_RECORD ((size_t)-1)
/* Turns of the other side (it sends after this side did) that a held record waits through.
 * One is enough for OpenSSL, curl and Python, which log TLS 1.3 secrets as they derive them,
 * before they next send; wolfSSL (squirrel-client and -server) logs TLS 1.2's master secret
 * when its handshake completes, after its own Finished has passed, and Chromium writes its
 * log from another thread. Turns, not reads: how a turn's bytes are cut must not matter. */
#define CRYPT_WAIT_SENDS 3

enum stage { STAGE_HANDSHAKE, STAGE_APP };
enum try_rc { TRY_OK, TRY_FAIL, TRY_MISSING };

struct keys {
	int ready;
	enum dis_aead aead;
	uint8_t key[32];
	size_t key_len;
	uint8_t iv[AEAD_NONCE];
	size_t iv_len; /* 12, or 4 for TLS 1.2 AES-GCM */
	int aes_on;    /* aes holds the key (wc_AesFree owed) */
	Aes aes;
};

struct crypt_dir {
	enum stage stage;
	unsigned gen;   /* TLS 1.3 KeyUpdates so far */
	uint64_t seq;   /* records under the current key */
	unsigned after; /* a handshake message of the record being read: Finished, KeyUpdate */
	uint8_t secret[SSLKEYS_SECRET_MAX]; /* TLS 1.3: the current traffic secret */
	size_t secret_len;
	struct keys k;
	unsigned long given_up; /* records shown sealed for want of keys */
	int told_missing, told_failed, told_unsupported;
	unsigned waited; /* turns of the other side the first held record has waited through */
	int announce;    /* say that held records follow, before the first one is read */
	size_t hold_len; /* bytes of hold in use: whole records, then the one being collected */
	size_t open_at;  /* where the record being collected starts, or NO_RECORD */
	struct dis_side inner; /* the application data's plaintext, as a stream */
	uint8_t hold[CRYPT_HOLD];
};

struct dis_crypt {
	dis_keys_fn keys;
	void *keys_arg;
	int last_dir; /* the direction of the last bytes fed, or -1 */
	struct crypt_dir dir[2];
	uint8_t plain[DIS_TLS_RECORD_MAX];
};

size_t
dis_crypt_size(void)
{
	size_t a = alignof(max_align_t);

	return (sizeof(struct dis_crypt) + a - 1) / a * a;
}

void
dis_conn_decrypt(struct dis_conn *d, struct dis_crypt *c, dis_keys_fn keys, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->keys = keys;
	c->keys_arg = arg;
	c->last_dir = -1;
	for (int i = 0; i < 2; i++) {
		c->dir[i].open_at = NO_RECORD;
		c->dir[i].inner.proto = DIS_PROTO_UNKNOWN;
	}
	d->crypt = c;
}

/* ---- keys -------------------------------------------------------------------------------- */

/* Not inlined: GCC 12 with -fsanitize=address, inlining it where a member was read just
 * before, takes that member for the object and fails the build (-Wstringop-overflow). */
__attribute__((noinline)) static void
keys_clear(struct keys *k)
{
	if (k->aes_on)
		wc_AesFree(&k->aes);
	explicit_bzero(k, sizeof(*k));
}

/* The AEAD's key is set: AES expands it once per key, ChaCha20 per record. */
static int
keys_arm(struct keys *k)
{
	if (k->aead != DIS_AEAD_CHACHA20_POLY1305) {
		if (wc_AesInit(&k->aes, NULL, INVALID_DEVID) != 0)
			return -1;
		k->aes_on = 1;
		if (wc_AesGcmSetKey(&k->aes, k->key, (word32)k->key_len) != 0)
			return -1;
	}
	k->ready = 1;
	return 0;
}

static size_t
aead_key_len(enum dis_aead aead)
{
	return aead == DIS_AEAD_AES_128_GCM ? 16 : 32;
}

static int
hash_type(const struct dis_suite *su)
{
	return su->hash_len == WC_SHA384_DIGEST_SIZE ? WC_SHA384 : WC_SHA256;
}

/* RFC 8446 §7.1: HKDF-Expand-Label(secret, label, "", len), the "tls13 " prefix added. */
static int
expand_label(uint8_t *out, size_t len, const struct dis_suite *su, const uint8_t *secret,
	     size_t secret_len, const char *label)
{
	static const uint8_t prefix[] = "tls13 ";

	return wc_Tls13_HKDF_Expand_Label(out, (word32)len, secret, (word32)secret_len, prefix,
					  sizeof(prefix) - 1, (const uint8_t *)label,
					  (word32)strlen(label), NULL, 0, hash_type(su));
}

static int
keys_tls13(struct keys *k, const struct dis_suite *su, const uint8_t *secret, size_t len)
{
	keys_clear(k);
	if (len != su->hash_len)
		return -1;
	k->aead = su->aead;
	k->key_len = aead_key_len(su->aead);
	k->iv_len = AEAD_NONCE;
	if (expand_label(k->key, k->key_len, su, secret, len, "key") != 0 ||
	    expand_label(k->iv, k->iv_len, su, secret, len, "iv") != 0)
		return -1;
	return keys_arm(k);
}

/* RFC 5246 §6.3: client key, server key, client IV, server IV, from the key block. */
static int
keys_tls12(struct keys *k, const struct dis_suite *su, const uint8_t *master, size_t len,
	   const struct dis_tls_facts *f, enum dis_dir dir)
{
	static const uint8_t label[] = "key expansion";
	uint8_t seed[2 * SSLKEYS_RANDOM_LEN], block[2 * 32 + 2 * AEAD_NONCE];
	size_t kl = aead_key_len(su->aead);
	size_t il = su->aead == DIS_AEAD_CHACHA20_POLY1305 ? AEAD_NONCE : GCM_IMPLICIT;
	int rc;

	keys_clear(k);
	if (len != 48 || !f->have_server_random)
		return -1;
	memcpy(seed, f->server_random, SSLKEYS_RANDOM_LEN);
	memcpy(seed + SSLKEYS_RANDOM_LEN, f->client_random, SSLKEYS_RANDOM_LEN);
	rc = wc_PRF_TLS(block, (word32)(2 * kl + 2 * il), master, (word32)len, label,
			sizeof(label) - 1, seed, sizeof(seed), 1,
			su->hash_len == 48 ? sha384_mac : sha256_mac, NULL, INVALID_DEVID);
	if (rc == 0) {
		k->aead = su->aead;
		k->key_len = kl;
		k->iv_len = il;
		memcpy(k->key, block + (dir == DIS_C2S ? 0 : kl), kl);
		memcpy(k->iv, block + 2 * kl + (dir == DIS_C2S ? 0 : il), il);
		rc = keys_arm(k);
	}
	explicit_bzero(block, sizeof(block));
	return rc;
}

static enum sslkeys_label
label_of(const struct dis_conn *d, enum dis_dir dir, enum stage st)
{
	if (!d->tls13)
		return SSLKEYS_CLIENT_RANDOM;
	if (st == STAGE_HANDSHAKE)
		return dir == DIS_C2S ? SSLKEYS_CLIENT_HANDSHAKE : SSLKEYS_SERVER_HANDSHAKE;
	return dir == DIS_C2S ? SSLKEYS_CLIENT_TRAFFIC_0 : SSLKEYS_SERVER_TRAFFIC_0;
}

/* The keys of dir at stage, from the key log, into k (and the secret, for a KeyUpdate). */
static enum try_rc
keys_load(const struct dis_conn *d, enum dis_dir dir, enum stage st, struct keys *k,
	  uint8_t secret[SSLKEYS_SECRET_MAX], size_t *secret_len)
{
	const struct dis_suite *su = dis_suite_find(d->facts.suite);
	size_t n = d->crypt->keys(d->crypt->keys_arg, label_of(d, dir, st), d->facts.client_random,
				  secret);
	int rc;

	if (n == 0)
		return TRY_MISSING;
	*secret_len = n;
	rc = d->tls13 ? keys_tls13(k, su, secret, n) : keys_tls12(k, su, secret, n, &d->facts, dir);
	return rc == 0 ? TRY_OK : TRY_FAIL;
}

/* ---- records ----------------------------------------------------------------------------- */

/* Open one record (header hdr, body of blen bytes) into out. Returns the plaintext's length,
 * or -1 if the key does not open it. */
static long
open_record(struct keys *k, int tls13, uint64_t seq, const uint8_t *hdr, const uint8_t *body,
	    size_t blen, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE], aad[13];
	size_t aad_len = 5, skip = 0, ctlen;
	int rc;

	if (k->aead == DIS_AEAD_AES_128_GCM || k->aead == DIS_AEAD_AES_256_GCM)
		skip = tls13 ? 0 : GCM_EXPLICIT;
	if (blen < skip + AEAD_TAG)
		return -1;
	ctlen = blen - skip - AEAD_TAG;
	if (k->iv_len == AEAD_NONCE) {
		memcpy(nonce, k->iv, AEAD_NONCE);
		for (int i = 0; i < 8; i++)
			nonce[AEAD_NONCE - 1 - i] ^= (uint8_t)(seq >> (8 * i));
	} else {
		memcpy(nonce, k->iv, GCM_IMPLICIT);
		memcpy(nonce + GCM_IMPLICIT, body, GCM_EXPLICIT);
	}
	if (tls13) {
		memcpy(aad, hdr, 5);
	} else {
		for (int i = 0; i < 8; i++)
			aad[i] = (uint8_t)(seq >> (56 - 8 * i));
		memcpy(aad + 8, hdr, 3);
		aad[11] = (uint8_t)(ctlen >> 8);
		aad[12] = (uint8_t)ctlen;
		aad_len = 13;
	}
	if (k->aead == DIS_AEAD_CHACHA20_POLY1305)
		rc = wc_ChaCha20Poly1305_Decrypt(k->key, nonce, aad, (word32)aad_len, body + skip,
						 (word32)ctlen, body + skip + ctlen, out);
	else
		rc = wc_AesGcmDecrypt(&k->aes, out, body + skip, (word32)ctlen, nonce, AEAD_NONCE,
				      body + skip + ctlen, AEAD_TAG, aad, (word32)aad_len);
	return rc == 0 ? (long)ctlen : -1;
}

static const char *
content_name(unsigned type)
{
	switch (type) {
	case TLS_CT_CCS: return "change cipher spec";
	case TLS_CT_ALERT: return "alert";
	case TLS_CT_HANDSHAKE: return "handshake";
	case TLS_CT_APPDATA: return "application data";
	default: return "content";
	}
}

/* Where a record of dir starts in its hold, and its length there. */
static size_t
held_len(const struct crypt_dir *cd)
{
	return 5 + ((size_t)cd->hold[3] << 8 | cd->hold[4]);
}

/* The first held record is whole (not the one still being collected). */
static int
front_whole(const struct crypt_dir *cd)
{
	size_t end = cd->open_at == NO_RECORD ? cd->hold_len : cd->open_at;

	return end >= 5 && held_len(cd) <= end;
}

static void
pop_front(struct crypt_dir *cd)
{
	size_t n = held_len(cd);

	memmove(cd->hold, cd->hold + n, cd->hold_len - n);
	cd->hold_len -= n;
	cd->waited = 0;
	if (cd->open_at != NO_RECORD)
		cd->open_at -= n;
}

/* The key changes that the record just read asked for (RFC 8446 §4.4.4, §4.6.3). */
static void
apply_after(const struct dis_conn *d, struct crypt_dir *cd)
{
	const struct dis_suite *su = dis_suite_find(d->facts.suite);
	uint8_t next[SSLKEYS_SECRET_MAX];

	if (cd->after == TLS_HS_FINISHED && cd->stage == STAGE_HANDSHAKE) {
		keys_clear(&cd->k);
		cd->stage = STAGE_APP;
		cd->gen = 0;
		cd->seq = 0;
	} else if (cd->after == TLS_HS_KEY_UPDATE_TYPE && cd->stage == STAGE_APP && cd->k.ready &&
		   su != NULL && cd->secret_len == su->hash_len &&
		   expand_label(next, su->hash_len, su, cd->secret, cd->secret_len,
				"traffic upd") == 0) {
		memcpy(cd->secret, next, su->hash_len);
		explicit_bzero(next, sizeof(next));
		if (keys_tls13(&cd->k, su, cd->secret, cd->secret_len) == 0) {
			cd->gen++;
			cd->seq = 0;
		}
	}
	cd->after = 0;
}

/* A record's plaintext: its line, then its content as the dissector reads a clear one. */
static void
deliver(const struct out *o, struct crypt_dir *cd, unsigned type, const uint8_t *p, size_t n)
{
	struct out in = *o;
	const char *who = o->dir == DIS_C2S ? "client" : "server";

	in.decrypted = 1;
	if (o->d->tls13) {
		/* RFC 8446 §5.4: the real type is the last byte that is not padding. */
		while (n > 0 && p[n - 1] == 0)
			n--;
		if (n == 0) {
			if (dis_layers(o))
				dis_say(&in, "    no content type (only padding): not TLS 1.3");
			return;
		}
		type = p[--n];
	}
	if (dis_layers(o))
		dis_say(&in, "    %s, %zu byte%s (%s %s key%s, record %llu)", content_name(type), n,
			dis_plural(n), who,
			!o->d->tls13                   ? "write"
			: cd->stage == STAGE_HANDSHAKE ? "handshake"
						       : "application",
			cd->gen > 0 ? " after a KeyUpdate" : "", (unsigned long long)cd->seq);
	o->d->decrypted++;
	if (n > TLS_PLAIN_MAX) {
		if (dis_layers(o))
			dis_say(&in, "    longer than a record may be (RFC 8446 §5.2); not read");
		return;
	}
	dis_tls_plain(&in, type, p, n);
}

/* Records kept for their keys are read now: a line says so, before the first of them. */
static void
announce(const struct out *o, struct crypt_dir *cd)
{
	if (cd->announce && dis_layers(o))
		dis_say(o, "conn %lu: %s, records kept until the key log had their keys:", o->d->id,
			dis_dir_name(o->dir));
	cd->announce = 0;
}

/* The first held record will not be opened: say why (once a kind), count it as sealed. */
static void
give_up(const struct out *o, struct crypt_dir *cd, enum try_rc why, const char *unsupported)
{
	char rnd[9];
	size_t len = held_len(cd);

	announce(o, cd);
	dis_hex(rnd, sizeof(rnd), o->d->facts.client_random, 4);
	if (unsupported != NULL && !cd->told_unsupported && dis_layers(o)) {
		cd->told_unsupported = 1;
		dis_say(o, "    not decrypted: %s", unsupported);
	} else if (why == TRY_MISSING && !cd->told_missing && dis_layers(o)) {
		cd->told_missing = 1;
		dis_say(o, "    not decrypted: the key log has no %s for client random %s...",
			sslkeys_label_name(label_of(o->d, o->dir, cd->stage)), rnd);
	} else if (why == TRY_FAIL && !cd->told_failed && dis_layers(o)) {
		cd->told_failed = 1;
		dis_say(o,
			"    not decrypted: the key log's %s for client random %s... does not "
			"open this record",
			sslkeys_label_name(label_of(o->d, o->dir, cd->stage)), rnd);
	}
	if (why == TRY_MISSING)
		cd->seq++; /* it was under the key we lack, so it took a number */
	cd->given_up++;
	dis_event(o, DIS_EV_SEALED, len, "", NULL);
}

/* Try the current keys, then (TLS 1.3 handshake keys failing) the application keys. */
static enum try_rc
try_open(const struct out *o, struct crypt_dir *cd, long *n)
{
	struct dis_crypt *c = o->d->crypt;
	const uint8_t *hdr = cd->hold, *body = cd->hold + 5;
	size_t blen = held_len(cd) - 5;
	enum try_rc rc = TRY_OK, alt;
	struct keys k2;
	uint8_t s2[SSLKEYS_SECRET_MAX];
	size_t s2_len = 0;

	if (!cd->k.ready)
		rc = keys_load(o->d, o->dir, cd->stage, &cd->k, cd->secret, &cd->secret_len);
	if (rc == TRY_OK &&
	    (*n = open_record(&cd->k, o->d->tls13, cd->seq, hdr, body, blen, c->plain)) >= 0)
		return TRY_OK;
	if (rc == TRY_OK)
		rc = TRY_FAIL;
	if (!o->d->tls13 || cd->stage != STAGE_HANDSHAKE)
		return rc;
	/* The handshake keys missing or failing, the Finished may have gone by unseen. */
	memset(&k2, 0, sizeof(k2));
	alt = keys_load(o->d, o->dir, STAGE_APP, &k2, s2, &s2_len);
	if (alt == TRY_OK && (*n = open_record(&k2, 1, 0, hdr, body, blen, c->plain)) >= 0) {
		keys_clear(&cd->k);
		cd->k = k2;
		memcpy(cd->secret, s2, s2_len);
		cd->secret_len = s2_len;
		cd->stage = STAGE_APP;
		cd->seq = 0;
		explicit_bzero(s2, sizeof(s2));
		return TRY_OK;
	}
	keys_clear(&k2);
	explicit_bzero(s2, sizeof(s2));
	return rc == TRY_MISSING || alt == TRY_MISSING ? TRY_MISSING : TRY_FAIL;
}

/* Read the first held record. Returns 0 when it must wait for its keys, else 1 (read or
 * given up; it can be popped). */
static int
read_front(const struct out *o, struct crypt_dir *cd, int last_chance)
{
	const struct dis_suite *su = dis_suite_find(o->d->facts.suite);
	char why[160];
	enum try_rc rc;
	long n = 0;

	if (su == NULL || !o->d->facts.have_client_random) {
		snprintf(why, sizeof(why),
			 "the tap decrypts AES-GCM and ChaCha20-Poly1305 suites, not %s",
			 dis_suite_name(o->d->facts.suite));
		give_up(o, cd, TRY_FAIL, why);
		return 1;
	}
	rc = try_open(o, cd, &n);
	if (rc == TRY_MISSING && !last_chance)
		return 0;
	if (rc != TRY_OK) {
		give_up(o, cd, rc, NULL);
		return 1;
	}
	cd->after = 0;
	announce(o, cd);
	deliver(o, cd, cd->hold[0], o->d->crypt->plain, (size_t)n);
	explicit_bzero(o->d->crypt->plain, (size_t)n);
	cd->seq++;
	apply_after(o->d, cd);
	return 1;
}

static void
drain(const struct out *o, struct crypt_dir *cd, int last_chance)
{
	while (cd->hold_len > 0 && front_whole(cd) && read_front(o, cd, last_chance))
		pop_front(cd);
}

/* ---- from the record layer --------------------------------------------------------------- */

int
dis_crypt_wants(const struct out *o, unsigned type)
{
	if (o->d->crypt == NULL || o->decrypted || type == TLS_CT_CCS)
		return 0;
	/* RFC 8446 §5.2: every protected TLS 1.3 record says "application data" outside. */
	return !o->d->tls13 || type == TLS_CT_APPDATA;
}

void
dis_crypt_record_start(const struct out *o, const uint8_t hdr[5], size_t len)
{
	struct crypt_dir *cd = &o->d->crypt->dir[o->dir];

	/* Room for the whole record: the oldest held records get their last try. */
	while (cd->hold_len + 5 + len > sizeof(cd->hold) && cd->hold_len > 0) {
		read_front(o, cd, 1);
		pop_front(cd);
	}
	memcpy(cd->hold + cd->hold_len, hdr, 5);
	cd->open_at = cd->hold_len;
	cd->hold_len += 5;
}

void
dis_crypt_record_bytes(const struct out *o, const uint8_t *p, size_t n)
{
	struct crypt_dir *cd = &o->d->crypt->dir[o->dir];

	/* record_start made room for the length its header gave, which bounds n. */
	memcpy(cd->hold + cd->hold_len, p, n);
	cd->hold_len += n;
}

void
dis_crypt_record_end(const struct out *o)
{
	struct crypt_dir *cd = &o->d->crypt->dir[o->dir];

	cd->open_at = NO_RECORD;
	drain(o, cd, 0);
}

/* Another try for the records held in o->dir (the last one when last is set), under a line
 * saying what they are if any is read. */
static void
drain_held(const struct out *o, struct crypt_dir *cd, int last)
{
	if (cd->hold_len == 0 || !front_whole(cd))
		return;
	cd->announce = 1;
	drain(o, cd, last);
	cd->announce = 0;
}

void
dis_crypt_retry_other(const struct out *o)
{
	struct out other = *o;
	struct crypt_dir *cd;

	if (o->d->crypt == NULL)
		return;
	other.dir = o->dir == DIS_C2S ? DIS_S2C : DIS_C2S;
	cd = &o->d->crypt->dir[other.dir];
	if (o->d->crypt->last_dir != (int)o->dir && cd->hold_len > 0 && front_whole(cd))
		cd->waited++;
	o->d->crypt->last_dir = (int)o->dir;
	drain_held(&other, cd, cd->waited >= CRYPT_WAIT_SENDS);
}

void
dis_crypt_begin(struct dis_conn *d, enum dis_dir dir)
{
	struct crypt_dir *cd;

	if (d->crypt == NULL)
		return;
	cd = &d->crypt->dir[dir];
	keys_clear(&cd->k);
	cd->stage = d->tls13 ? STAGE_HANDSHAKE : STAGE_APP;
	cd->gen = 0;
	cd->seq = 0;
}

void
dis_crypt_after(const struct out *o, unsigned hs_type)
{
	if (o->d->crypt != NULL && o->d->tls13)
		o->d->crypt->dir[o->dir].after = hs_type;
}

struct dis_side *
dis_crypt_inner(const struct out *o)
{
	return &o->d->crypt->dir[o->dir].inner;
}

void
dis_crypt_finish(struct dis_conn *d, dis_emit_fn emit, void *arg)
{
	struct dis_crypt *c = d->crypt;

	if (c == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		struct crypt_dir *cd = &c->dir[i];
		struct out o = {.d = d, .emit = emit, .arg = arg, .dir = (enum dis_dir)i};

		cd->open_at = NO_RECORD; /* a record cut short is not opened */
		drain_held(&o, cd, 1);
		o.decrypted = 1;
		if (cd->inner.proto == DIS_PROTO_HTTP)
			dis_http_end(&o, &cd->inner);
		dis_token_end(&o, &cd->inner);
		o.decrypted = 0;
		if (cd->given_up > 0 && dis_layers(&o))
			dis_say(&o, "conn %lu: %lu %s record%s not decrypted", d->id, cd->given_up,
				dis_dir_name((enum dis_dir)i), dis_plural(cd->given_up));
		keys_clear(&cd->k);
	}
	explicit_bzero(c, sizeof(*c));
	d->crypt = NULL;
}
