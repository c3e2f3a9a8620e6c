/*
 * dissect_int: what the dissector's files share and nothing outside tap/dissect*.c may use.
 * The public interface is dissect.h.
 */
#ifndef SQUIRREL_TAP_DISSECT_INT_H
#define SQUIRREL_TAP_DISSECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dissect.h"
#include "termsafe.h"

/* "gAAAAA": version 0x80 and the top of a timestamp, how every Fernet token begins. */
#define FERNET_PREFIX "gAAAAA"
#define FERNET_PREFIX_LEN 6

/* RFC 8446 §5.1: the record content types. */
#define TLS_CT_CCS 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPDATA 23
#define TLS_CT_HEARTBEAT 24
#define TLS_HS_FINISHED 20
#define TLS_HS_KEY_UPDATE_TYPE 24
/* RFC 8446 §5.2: a record's plaintext is at most 2^14 bytes. */
#define TLS_PLAIN_MAX 16384

/* Where one dis_feed call sends its lines and events, and what they are about. */
struct out {
	struct dis_conn *d;
	dis_emit_fn emit;
	void *arg;
	enum dis_dir dir;
	int decrypted; /* lines get "[decrypted] " after their indent; events say so */
};

/* Emit one line, formatted, cut at DIS_LINE_MAX. */
__attribute__((format(printf, 2, 3))) void dis_say(const struct out *o, const char *fmt, ...);
/* Send an event (when the conn wants them); detail may be NULL. */
void dis_event(const struct out *o, enum dis_ev kind, uint64_t size, const char *what,
	       const char *detail);
/* 1 when the layers (what is recognised) are to be shown, else 0. */
int dis_layers(const struct out *o);
/* "" for 1, "s" otherwise. */
const char *dis_plural(uint64_t n);
/* How the dump shows bytes as text (termsafe.h): printable ASCII as it is, '.' for the rest,
 * one column a byte. */
#define DIS_TEXT (TERMSAFE_DOT | TERMSAFE_ASCII)

/* Copy n bytes into dst (cap >= 4) as DIS_TEXT; "..." when cut or when dst is full. */
void dis_printable(char *dst, size_t cap, const uint8_t *src, size_t n, int cut);
/* n bytes as lower-case hex into dst, as far as cap allows, NUL-terminated. */
void dis_hex(char *dst, size_t cap, const uint8_t *src, size_t n);
/* Stop following a protocol in this direction, saying why (unless why is NULL). */
void dis_raw_start(const struct out *o, struct dis_side *s, const char *why);
/* Bytes of one stream (a direction, or the plaintext inside its records), in order. The
 * protocol is told from the first byte; TLS only when allow_tls (not inside TLS). */
void dis_stream(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n, int allow_tls);
/* The --grep matcher over bytes of side s. */
void dis_grep_bytes(const struct dis_grep *g, struct dis_side *s, const uint8_t *p, size_t n);

/* Fernet (dissect_fernet.c): look for tokens byte by byte; lay out the one being collected. */
void dis_token_byte(const struct out *o, struct dis_side *s, uint8_t c);
void dis_token_end(const struct out *o, struct dis_side *s);

/* HTTP (dissect_http.c): start a message, take one byte, show a body preview left over;
 * at the end of the stream, finish the message in progress (its event). */
void dis_http_start(struct dis_http *h);
void dis_http_byte(const struct out *o, struct dis_side *s, uint8_t c);
void dis_http_finish(const struct out *o, struct dis_http *h);
void dis_http_end(const struct out *o, struct dis_side *s);

/* TLS (dissect_tls.c): take bytes of records; returns how many of the n were used. */
size_t dis_tls_bytes(const struct out *o, struct dis_side *s, const uint8_t *p, size_t n);
/* The content of a record the key log opened (o->decrypted): type is the real one. */
void dis_tls_plain(const struct out *o, unsigned type, const uint8_t *p, size_t n);

/* Handshake messages (dissect_hello.c): lines, event and facts for one message whose first
 * kept bytes (of len) are body. Returns what a ServerHello chose, else 0. */
#define DIS_HELLO_TLS12 1
#define DIS_HELLO_TLS13 2
#define DIS_HELLO_RETRY 3
int dis_hs_message(const struct out *o, unsigned type, const uint8_t *body, size_t kept,
		   size_t len);

/* Names (dissect_names.c, from common/tls_names.c). Those with buf write an unknown code
 * there as "0x1234", and GREASE values as "GREASE". */
enum dis_kx { DIS_KX_TLS13, DIS_KX_ECDHE, DIS_KX_DHE, DIS_KX_RSA };
enum dis_aead { DIS_AEAD_AES_128_GCM, DIS_AEAD_AES_256_GCM, DIS_AEAD_CHACHA20_POLY1305 };
/* A suite the tap decrypts. */
struct dis_suite {
	unsigned code;
	enum dis_kx kx;
	enum dis_aead aead;
	unsigned hash_len; /* 32 (SHA-256) or 48 (SHA-384): the PRF's or HKDF's hash */
};
int dis_is_grease(unsigned v);
const char *dis_version_name(unsigned v, char *buf, size_t cap);
const char *dis_handshake_name(unsigned type); /* NULL if unknown */
const char *dis_alert_name(unsigned code);     /* "unknown" if unknown */
const char *dis_suite_name(unsigned code);     /* "unknown suite" if unknown */
const char *dis_group_name(unsigned code, char *buf, size_t cap);
const char *dis_sigalg_name(unsigned code, char *buf, size_t cap);
/* The suite if the tap decrypts it, else NULL. */
const struct dis_suite *dis_suite_find(unsigned code);
/* How a suite's keys are agreed (known for every suite that has a name). */
enum dis_kx dis_suite_kx(unsigned code);

/* Decryption (dissect_crypt.c), all no-ops without a key log. */
/* The record of type whose header just came is protected: keep it for decryption? */
int dis_crypt_wants(const struct out *o, unsigned type);
/* A protected record (its 5-byte header hdr, len bytes of body to come). */
void dis_crypt_record_start(const struct out *o, const uint8_t hdr[5], size_t len);
void dis_crypt_record_bytes(const struct out *o, const uint8_t *p, size_t n);
/* The record is whole: decrypt it now, or keep it until its keys come. */
void dis_crypt_record_end(const struct out *o);
/* Bytes came in direction o->dir: records of the other direction still waiting for their
 * keys are tried again (a peer writes its keys before, or soon after, it sends again). */
void dis_crypt_retry_other(const struct out *o);
/* Records in dir are protected from here on: a TLS 1.3 ServerHello (both directions) or a
 * TLS 1.2 ChangeCipherSpec (its direction). */
void dis_crypt_begin(struct dis_conn *d, enum dis_dir dir);
/* A decrypted handshake message that changes keys after its record: Finished, KeyUpdate. */
void dis_crypt_after(const struct out *o, unsigned hs_type);
/* The side that reads the plaintext of o->dir's application data. */
struct dis_side *dis_crypt_inner(const struct out *o);
/* The end: records still waiting are given up, inner streams finished, keys wiped. */
void dis_crypt_finish(struct dis_conn *d, dis_emit_fn emit, void *arg);

#endif
