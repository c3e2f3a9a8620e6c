/*
 * fuzz_tap: squirrel-tap's dissector (tap/dissect*.c), which reads whatever crosses the
 * wire in both directions: HTTP, TLS records and handshakes, Fernet tokens, or garbage; and,
 * with a key log, what is inside the TLS records it can open.
 *
 * Input: byte 0 holds the --grep text's length g (1 + low 5 bits % 32) and, in its top three
 * bits, a prelude: 0 or 7 none; 1..3 a TLS 1.3 ClientHello and ServerHello choosing
 * TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 or TLS_CHACHA20_POLY1305_SHA256; 4..6 a
 * TLS 1.2 ClientHello, ServerHello and both ChangeCipherSpecs choosing
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, _AES_256_GCM_SHA384 or _CHACHA20_POLY1305_SHA256.
 * The next g bytes are the text, then segments: a 2-byte header (bit 15: direction; bit 14:
 * sealed; low 14 bits: length) and that many bytes (cut short at the end of the input). A
 * sealed segment is encrypted here into one record under the prelude's application keys, as
 * its sender would (TLS 1.3: the bytes are the inner plaintext, content type and padding
 * included; TLS 1.2: the first byte picks alert, handshake or application data), so the
 * fuzzer chooses what the decryption hands to the dissector. Every connection decrypts with
 * one fixed key log (key_log below: RFC 8448 §3's secrets, and the prelude's).
 *
 * The stream is fed three times:
 *   A. each segment whole, with DIS_LAYERS (and DIS_BRIEF, the tap's default, when the
 *      text's first byte is odd);
 *   B. each segment cut in random pieces (sizes from a hash of the input), with A's flags;
 *   C. each segment whole, with DIS_HEX | DIS_LAYERS (the hex dump paths), drawn by --flow.
 * Invariants:
 *   - every line emitted is NUL-terminated and shorter than DIS_LINE_MAX, without line breaks;
 *     every --flow line fits FLOW_WIDTH;
 *   - what the dissector recognises does not depend on how the bytes were cut: A and B emit
 *     the same lines and the same events, once the per-chunk "conn N: ..." headers and the
 *     events for unknown bytes (one per chunk) are left out;
 *   - --grep: dis_grep_seen says the text was seen in a direction exactly when a naive search
 *     of everything sent that way finds it (the KMP matcher carries matches across chunks).
 */
#include <stdint.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/kdf.h>

#include "fuzz.h"
#include "dissect.h"
#include "flow.h"
#include "sslkeys.h"

#define MAX_PIECES 64
#define MAX_LINES 8192
#define MAX_SEGS 4096
#define SEG_DIR 0x8000u
#define SEG_SEALED 0x4000u
#define SEG_LEN 0x3fffu

struct sink {
	int compare;   /* keep lines for comparison */
	size_t nlines; /* lines kept */
	size_t used;
	int overflow; /* more output than the store holds: skip the comparison */
	char store[1 << 20];
	size_t off[MAX_LINES];
};

static struct sink a, b, c;

static void
keep(struct sink *s, const char *line, size_t n)
{
	if (s->nlines == MAX_LINES || s->used + n + 1 > sizeof(s->store)) {
		s->overflow = 1;
		return;
	}
	s->off[s->nlines++] = s->used;
	memcpy(s->store + s->used, line, n + 1);
	s->used += n + 1;
}

static void
emit(void *arg, const char *line)
{
	struct sink *s = arg;
	const char *nul = memchr(line, '\0', DIS_LINE_MAX);
	size_t n;

	FUZZ_CHECK(nul != NULL);
	n = (size_t)(nul - line);
	FUZZ_CHECK(memchr(line, '\n', n) == NULL && memchr(line, '\r', n) == NULL);
	if (!s->compare || strncmp(line, "conn ", 5) == 0)
		return;
	keep(s, line, n);
}

/* Events as lines among the others, so A and B compare them too. One event per chunk of
 * unknown bytes depends on the chunks: those are left out. */
static void
on_event(void *arg, const struct dis_event *ev)
{
	char line[2 * DIS_LINE_MAX];
	int n;

	FUZZ_CHECK(ev->what != NULL && ev->detail != NULL);
	FUZZ_CHECK(strlen(ev->what) < DIS_LINE_MAX && strlen(ev->detail) < DIS_LINE_MAX);
	if (ev->kind == DIS_EV_DATA)
		return;
	n = snprintf(line, sizeof(line), "event %d %d %d %llu %s|%s", ev->kind, ev->dir,
		     ev->decrypted, (unsigned long long)ev->size, ev->what, ev->detail);
	keep(arg, line, (size_t)n);
}

static void
flow_line(void *arg, const char *line)
{
	(void)arg;
	FUZZ_CHECK(strlen(line) <= FLOW_WIDTH);
}

static void
sink_reset(struct sink *s, int compare)
{
	s->compare = compare;
	s->nlines = s->used = 0;
	s->overflow = 0;
}

struct seg {
	enum dis_dir dir;
	const uint8_t *p;
	size_t n;
};

/* ---- the fixed key log, and sealing as a peer would ------------------------------------- */

/* RFC 8448 §3's four secrets, and for each prelude a client random (its first byte the
 * prelude's number) with the application secrets (TLS 1.3) or the master secret (1.2). */
static char key_log[4096];
static struct sslkeys keys;

static const unsigned prelude_suite[7] = {0, 0x1301, 0x1302, 0x1303, 0xc02f, 0xc030, 0xcca8};

static void
secret_of(unsigned prelude, int dir, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(prelude * 31 + (unsigned)dir * 7 + i * 13);
}

static void
hex_into(char *dst, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(dst + 2 * i, "%02x", p[i]);
}

static void
keys_init(void)
{
	static const char rfc8448[] =
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET "
		"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
		"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
		"SERVER_HANDSHAKE_TRAFFIC_SECRET "
		"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
		"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
		"CLIENT_TRAFFIC_SECRET_0 "
		"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
		"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
		"SERVER_TRAFFIC_SECRET_0 "
		"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
		"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";
	uint8_t random[32] = {0}, secret[48];
	char rhex[65], shex[97];
	size_t used = 0;

	memcpy(key_log, rfc8448, sizeof(rfc8448) - 1);
	used = sizeof(rfc8448) - 1;
	for (unsigned p = 1; p <= 6; p++) {
		size_t len = p <= 3 ? (p == 2 ? 48 : 32) : 48;

		random[0] = (uint8_t)p;
		hex_into(rhex, random, 32);
		for (int dir = 0; dir < 2; dir++) {
			if (p >= 4 && dir == 1)
				break;
			secret_of(p, dir, secret, len);
			hex_into(shex, secret, len);
			used += (size_t)snprintf(key_log + used, sizeof(key_log) - used,
						 "%s %s %s\n",
						 p >= 4     ? "CLIENT_RANDOM"
						 : dir == 0 ? "CLIENT_TRAFFIC_SECRET_0"
							    : "SERVER_TRAFFIC_SECRET_0",
						 rhex, shex);
		}
	}
	sslkeys_init(&keys);
	sslkeys_feed(&keys, key_log, used);
	FUZZ_CHECK(keys.bad == 0 && keys.n == 4 + 3 * 2 + 3);
}

static size_t
find_key(void *arg, enum sslkeys_label label, const uint8_t random[SSLKEYS_RANDOM_LEN],
	 uint8_t out[SSLKEYS_SECRET_MAX])
{
	return sslkeys_find(arg, label, random, out);
}

/* What a sealing peer keeps per direction. */
struct sealer {
	int tls13, chacha;
	uint8_t key[32], iv[12];
	size_t key_len, iv_len;
	uint64_t seq;
};

static void
sealer_init(struct sealer *sl, unsigned prelude, int dir)
{
	unsigned suite = prelude_suite[prelude];
	int sha384 = suite == 0x1302 || suite == 0xc030;
	uint8_t secret[48];
	static const uint8_t prefix[] = "tls13 ";

	memset(sl, 0, sizeof(*sl));
	sl->tls13 = prelude <= 3;
	sl->chacha = suite == 0x1303 || suite == 0xcca8;
	sl->key_len = suite == 0x1301 || suite == 0xc02f ? 16 : 32;
	if (sl->tls13) {
		sl->iv_len = 12;
		secret_of(prelude, dir, secret, sha384 ? 48 : 32);
		FUZZ_CHECK(wc_Tls13_HKDF_Expand_Label(sl->key, (word32)sl->key_len, secret,
						      sha384 ? 48 : 32, prefix, 6,
						      (const uint8_t *)"key", 3, NULL, 0,
						      sha384 ? WC_SHA384 : WC_SHA256) == 0);
		FUZZ_CHECK(wc_Tls13_HKDF_Expand_Label(sl->iv, 12, secret, sha384 ? 48 : 32, prefix,
						      6, (const uint8_t *)"iv", 2, NULL, 0,
						      sha384 ? WC_SHA384 : WC_SHA256) == 0);
	} else {
		uint8_t seed[64] = {0}, block[2 * 32 + 2 * 12];
		static const uint8_t label[] = "key expansion";

		sl->iv_len = sl->chacha ? 12 : 4;
		secret_of(prelude, 0, secret, 48);
		seed[0] = 0x55; /* server random first, then the client's */
		seed[32] = (uint8_t)prelude;
		FUZZ_CHECK(wc_PRF_TLS(block, (word32)(2 * sl->key_len + 2 * sl->iv_len), secret, 48,
				      label, sizeof(label) - 1, seed, 64, 1,
				      sha384 ? sha384_mac : sha256_mac, NULL, INVALID_DEVID) == 0);
		memcpy(sl->key, block + (dir == 0 ? 0 : sl->key_len), sl->key_len);
		memcpy(sl->iv, block + 2 * sl->key_len + (dir == 0 ? 0 : sl->iv_len), sl->iv_len);
	}
}

/* One record holding p[0..n) (TLS 1.2: the first byte picks the type), written at out.
 * Returns its length. */
static size_t
seal(struct sealer *sl, const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t nonce[12], aad[13], type = 23;
	size_t aad_len = 5, explicit = 0, body;
	Aes aes;

	if (!sl->tls13 && n > 0) {
		type = (uint8_t)(21 + p[0] % 3);
		p++;
		n--;
	}
	if (!sl->tls13 && !sl->chacha)
		explicit = 8;
	body = explicit + n + 16;
	out[0] = type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	if (sl->iv_len == 12) {
		memcpy(nonce, sl->iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[11 - i] ^= (uint8_t)(sl->seq >> (8 * i));
	} else {
		memcpy(nonce, sl->iv, 4);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] = out[5 + i] = (uint8_t)(sl->seq >> (56 - 8 * i));
	}
	if (sl->tls13) {
		memcpy(aad, out, 5);
	} else {
		for (int i = 0; i < 8; i++)
			aad[i] = (uint8_t)(sl->seq >> (56 - 8 * i));
		memcpy(aad + 8, out, 3);
		aad[11] = (uint8_t)(n >> 8);
		aad[12] = (uint8_t)n;
		aad_len = 13;
	}
	if (sl->chacha) {
		FUZZ_CHECK(wc_ChaCha20Poly1305_Encrypt(sl->key, nonce, aad, (word32)aad_len, p,
						       (word32)n, out + 5 + explicit,
						       out + 5 + explicit + n) == 0);
	} else {
		FUZZ_CHECK(wc_AesInit(&aes, NULL, INVALID_DEVID) == 0);
		FUZZ_CHECK(wc_AesGcmSetKey(&aes, sl->key, (word32)sl->key_len) == 0);
		FUZZ_CHECK(wc_AesGcmEncrypt(&aes, out + 5 + explicit, p, (word32)n, nonce, 12,
					    out + 5 + explicit + n, 16, aad, (word32)aad_len) == 0);
		wc_AesFree(&aes);
	}
	sl->seq++;
	return 5 + body;
}

/* ---- the stream ------------------------------------------------------------------------- */

/* Bytes the harness writes itself: hellos, ChangeCipherSpecs, sealed records. */
static uint8_t made[3 * FUZZ_GUARD_MAX];
static size_t made_len;

static const uint8_t *
make(const uint8_t *p, size_t n)
{
	uint8_t *at = made + made_len;

	FUZZ_CHECK(made_len + n <= sizeof(made));
	memcpy(at, p, n);
	made_len += n;
	return at;
}

/* The prelude's hellos: a ClientHello with its client random, a ServerHello choosing the
 * version and suite (RFC 8446 §4.1.2, §4.1.3), and in TLS 1.2 both ChangeCipherSpecs. */
static size_t
prelude(unsigned p, struct seg *seg)
{
	unsigned suite = prelude_suite[p];
	int tls13 = p <= 3;
	uint8_t ch[5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + 7] = {22, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3},
						    sh[5 + 4 + 2 + 32 + 1 + 2 + 1 + 2 + 6] = {
							    22, 3, 3, 0, 0, 2, 0, 0, 0, 3, 3};
	static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
	size_t chn = sizeof(ch) - (tls13 ? 0 : 9), shn = sizeof(sh) - (tls13 ? 0 : 8), at;

	ch[11] = (uint8_t)p; /* client random */
	at = 11 + 32;
	ch[at++] = 0; /* session id */
	ch[at++] = 0;
	ch[at++] = 2;
	ch[at++] = (uint8_t)(suite >> 8);
	ch[at++] = (uint8_t)suite;
	ch[at++] = 1;
	ch[at++] = 0;
	if (tls13) {
		static const uint8_t sv[9] = {0, 7, 0, 43, 0, 3, 2, 3, 4};
		memcpy(ch + at, sv, sizeof(sv));
	}
	ch[3] = (uint8_t)((chn - 5) >> 8);
	ch[4] = (uint8_t)(chn - 5);
	ch[8] = (uint8_t)(chn - 9);
	sh[11] = 0x55; /* server random */
	at = 11 + 32;
	sh[at++] = 0;
	sh[at++] = (uint8_t)(suite >> 8);
	sh[at++] = (uint8_t)suite;
	sh[at++] = 0;
	if (tls13) {
		static const uint8_t sv[8] = {0, 6, 0, 43, 0, 2, 3, 4};
		memcpy(sh + at, sv, sizeof(sv));
	}
	sh[3] = (uint8_t)((shn - 5) >> 8);
	sh[4] = (uint8_t)(shn - 5);
	sh[8] = (uint8_t)(shn - 9);
	seg[0] = (struct seg){DIS_C2S, make(ch, chn), chn};
	seg[1] = (struct seg){DIS_S2C, make(sh, shn), shn};
	if (tls13)
		return 2;
	seg[2] = (struct seg){DIS_C2S, make(ccs, sizeof(ccs)), sizeof(ccs)};
	seg[3] = (struct seg){DIS_S2C, make(ccs, sizeof(ccs)), sizeof(ccs)};
	return 4;
}

static size_t
segments(const uint8_t *data, size_t size, unsigned p, struct seg *seg, size_t max)
{
	static struct sealer sl[2];
	static uint8_t rec[SEG_LEN + 64];
	size_t n = 0, off = 0;

	made_len = 0;
	if (p >= 1 && p <= 6) {
		n = prelude(p, seg);
		sealer_init(&sl[0], p, 0);
		sealer_init(&sl[1], p, 1);
	}
	while (off + 2 <= size && n < max) {
		unsigned h = (unsigned)data[off] << 8 | data[off + 1];
		size_t len = h & SEG_LEN;
		int dir = (h & SEG_DIR) ? 1 : 0;

		off += 2;
		if (len > size - off)
			len = size - off;
		seg[n].dir = (enum dis_dir)dir;
		seg[n].p = data + off;
		seg[n].n = len;
		if ((h & SEG_SEALED) && p >= 1 && p <= 6) {
			seg[n].n = seal(&sl[dir], data + off, len, rec);
			seg[n].p = make(rec, seg[n].n);
		}
		n++;
		off += len;
	}
	return n;
}

static void
feed(const struct seg *seg, size_t nseg, unsigned flags, const struct dis_grep *g,
     struct fuzz_rng *rng, struct sink *s, struct dis_conn *d, struct dis_crypt *cr)
{
	static struct flow_view view = {flow_line, NULL, 0};
	static struct flow f;
	uint64_t bytes[2] = {0, 0};

	dis_conn_init(d, 1, flags, g);
	dis_conn_decrypt(d, cr, find_key, &keys);
	if (s->compare) {
		dis_conn_events(d, on_event, s);
	} else {
		flow_open(&f, &view, 1, "127.0.0.1:40312", "127.0.0.1:5683");
		dis_conn_events(d, flow_event, &f);
	}
	for (size_t i = 0; i < nseg; i++) {
		bytes[seg[i].dir] += seg[i].n;
		if (rng == NULL) {
			/* Each chunk is a fresh exact copy ending at a guard page. */
			dis_feed(d, seg[i].dir,
				 (const uint8_t *)fuzz_guard_copy(seg[i].p, seg[i].n), seg[i].n,
				 emit, s);
			continue;
		}
		for (size_t off = 0, k = 0; off < seg[i].n; k++) {
			size_t piece = k + 1 < MAX_PIECES ? fuzz_split_next(rng, seg[i].n - off)
							  : seg[i].n - off;

			dis_feed(d, seg[i].dir,
				 (const uint8_t *)fuzz_guard_copy(seg[i].p + off, piece), piece,
				 emit, s);
			off += piece;
		}
	}
	dis_finish(d, emit, s);
	FUZZ_CHECK(d->crypt == NULL);
	if (!s->compare)
		flow_close(&f, d, "the input ended", bytes);
	dis_grep_report(d, emit, s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seg seg[MAX_SEGS];
	static struct dis_conn da, db, dc;
	static struct dis_crypt *cr;
	static uint8_t stream[2][sizeof(made) + FUZZ_GUARD_MAX];
	struct dis_grep g;
	struct fuzz_rng rng;
	size_t glen, nseg, slen[2] = {0, 0};
	unsigned brief;

	if (size < 1 || size > FUZZ_GUARD_MAX)
		return 0;
	if (cr == NULL) {
		keys_init();
		cr = malloc(dis_crypt_size());
		FUZZ_CHECK(cr != NULL);
	}
	glen = 1 + data[0] % 32;
	if (size < 1 + glen)
		return 0;
	FUZZ_CHECK(dis_grep_init(&g, (const char *)data + 1, glen) == 0);
	brief = data[1] & 1 ? DIS_BRIEF : 0;
	nseg = segments(data + 1 + glen, size - 1 - glen, data[0] >> 5, seg, MAX_SEGS);
	fuzz_rng_seed(&rng, data, size, 4);

	sink_reset(&a, 1);
	sink_reset(&b, 1);
	sink_reset(&c, 0);
	feed(seg, nseg, brief | DIS_LAYERS, &g, NULL, &a, &da, cr);
	feed(seg, nseg, brief | DIS_LAYERS, &g, &rng, &b, &db, cr);
	feed(seg, nseg, DIS_HEX | DIS_LAYERS, &g, NULL, &c, &dc, cr);

	if (!a.overflow && !b.overflow) {
		size_t i;

		for (i = 0; i < a.nlines && i < b.nlines; i++)
			if (strcmp(a.store + a.off[i], b.store + b.off[i]) != 0)
				break;
		if (i < a.nlines || i < b.nlines) {
			fprintf(stderr, "line %zu: whole: '%s'\n          split: '%s'\n", i,
				i < a.nlines ? a.store + a.off[i] : "(none)",
				i < b.nlines ? b.store + b.off[i] : "(none)");
			FUZZ_CHECK(!"the dissector's layers depend on how the bytes were cut");
		}
	}

	for (size_t i = 0; i < nseg; i++) {
		memcpy(stream[seg[i].dir] + slen[seg[i].dir], seg[i].p, seg[i].n);
		slen[seg[i].dir] += seg[i].n;
	}
	for (int dir = 0; dir < 2; dir++) {
		int want = memmem(stream[dir], slen[dir], data + 1, glen) != NULL;

		FUZZ_CHECK(dis_grep_seen(&da, (enum dis_dir)dir) == want);
		FUZZ_CHECK(dis_grep_seen(&db, (enum dis_dir)dir) == want);
		FUZZ_CHECK(dis_grep_seen(&dc, (enum dis_dir)dir) == want);
		FUZZ_CHECK(dis_grep_seen_decrypted(&da, (enum dis_dir)dir) ==
			   dis_grep_seen_decrypted(&db, (enum dis_dir)dir));
	}
	return 0;
}
