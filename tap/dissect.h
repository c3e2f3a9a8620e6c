/*
 * dissect: what squirrel-tap says about the bytes it relays, like Wireshark's middle pane
 * (what it recognises) above its bytes pane (a hex dump with offsets and printable text).
 *
 * Sans-IO: bytes and per-direction state come in, text lines and events go out through
 * callbacks. No read/write, no malloc; every length field on the wire is bounds-checked, so
 * any byte sequence, split at any point, is safe to feed (it is fuzzed).
 *
 * It recognises, without any key:
 *   - HTTP/1.x request and status lines, headers, and how the body is framed;
 *   - Fernet tokens ("gAAAAA..." URL-safe base64) laid out into their fields;
 *   - TLS records (content type, version, length) and, while the handshake is in clear,
 *     the handshake messages: the ClientHello with its SNI, offered groups, key shares and
 *     signature schemes, the ServerHello with the version, suite and group chosen, TLS 1.2's
 *     Certificate and ServerKeyExchange; after ChangeCipherSpec, or after a TLS 1.3
 *     ServerHello, only what an eavesdropper sees: "application data, N bytes".
 * With a key log (dis_conn_decrypt), it also opens the records of the connections whose
 * secrets the log holds (TLS 1.3, and TLS 1.2 with an AEAD suite) and shows what is inside
 * them the same way, each line marked "[decrypted]".
 * And, for --grep, whether a given text crossed the wire in clear in either direction.
 *
 * Lines it emits (no trailing newline; the caller adds it):
 *   conn 1: client -> server, 78 bytes              one per chunk fed (hex or layers on)
 *     HTTP request: GET / HTTP/1.1                   what it recognises, indented by two
 *     [decrypted] HTTP request: GET / HTTP/1.1       the same, inside a decrypted record
 *     0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a   GET / HT TP/1.1..
 *   conn 1: 'fluffy tail' seen in clear (server -> client)      from dis_grep_report
 *
 * Events (dis_conn_events) say the same as data, one per message: the --flow ladder is drawn
 * from them.
 */
#ifndef SQUIRREL_TAP_DISSECT_H
#define SQUIRREL_TAP_DISSECT_H

#include <stddef.h>
#include <stdint.h>

#include "sslkeys.h"

/* One emitted line, NUL included: a hex line is 75 characters; longer texts are cut. */
#define DIS_LINE_MAX 512
/* HTTP start and header lines are shown up to this length, then cut with "..."; the parser
 * keeps following the framing regardless (a long line costs nothing but display). */
#define DIS_HTTP_LINE_MAX 384
/* The header names of one HTTP message, as DIS_BRIEF lists them; more are "...". */
#define DIS_HTTP_NAMES_MAX 160
/* Start of an HTTP body shown as text: enough for the tutorial's secret or a Fernet token. */
#define DIS_BODY_PREVIEW 160
/* Longest Fernet token laid out, in base64 characters: 3 KiB of ciphertext, far more than the
 * tutorial's message. A longer token is reported with its length only. */
#define DIS_TOKEN_MAX 4096
/* First bytes of a TLS handshake message kept to read its fields. A ClientHello is 200 to
 * 600 bytes from OpenSSL and wolfSSL (about 1,800 with post-quantum key shares); the rest of a
 * longer message (a Certificate) is counted, not kept. */
#define DIS_HS_KEEP 4096
/* RFC 8446 §5.2 / RFC 5246 §6.2.3: a record is at most 2^14 bytes plus 2,048 of expansion.
 * A longer length field means the stream is not TLS. */
#define DIS_TLS_RECORD_MAX (16384 + 2048)
/* Longest --grep text: a phrase, not a document (the matcher's table is this size). */
#define DIS_GREP_MAX 256

/* Flags for dis_conn_init: what dis_feed prints. With neither, only --grep is tracked (and
 * events and decryption, when asked for). */
#define DIS_HEX 1u    /* each chunk's "conn N: ..." line, then its hex dump */
#define DIS_LAYERS 2u /* each chunk's "conn N: ..." line, then what is recognised in it */
#define DIS_BRIEF 4u  /* with DIS_LAYERS: an HTTP message's header names on one line */

/* An HTTP message's start line as an event names it ("GET /", "200 OK"), cut at this. */
#define DIS_WHAT_MAX 80

enum dis_dir { DIS_C2S = 0, DIS_S2C = 1 };

/* Receives each line, NUL-terminated, valid only during the call. */
typedef void (*dis_emit_fn)(void *arg, const char *line);

/* What an event is about. Every event has a direction; size and texts depend on the kind. */
enum dis_ev {
	DIS_EV_TLS,    /* a TLS handshake message (what "ClientHello", size its length),
			* "ChangeCipherSpec" or "Alert" (detail "fatal, handshake_failure") */
	DIS_EV_SEALED, /* a TLS record read no further (no keys): size its bytes on the wire */
	DIS_EV_HTTP,   /* an HTTP message, once it ended: what "GET /" or "200 OK", size the
			* body's length, detail the start of the body quoted ("\"fluffy tail\"") */
	DIS_EV_TOKEN,  /* a Fernet token: size its length in characters */
	DIS_EV_DATA    /* bytes of no protocol the tap knows: size how many */
};

struct dis_event {
	enum dis_ev kind;
	enum dis_dir dir;
	int decrypted;      /* 1 if read inside a record the key log opened */
	uint64_t size;      /* see enum dis_ev */
	const char *what;   /* "" for SEALED and DATA */
	const char *detail; /* "" when there is none: "SNI localhost, offers X25519 ..." */
};

/* Receives each event; the event and its texts are valid only during the call. */
typedef void (*dis_event_fn)(void *arg, const struct dis_event *ev);

/*
 * Where the secrets come from: copy into out the secret labelled label for the connection
 * whose ClientHello.random is random and return its length (1..SSLKEYS_SECRET_MAX), or 0 if it
 * is not known (yet: it is asked again later). sslkeys_file_lookup() is one.
 */
typedef size_t (*dis_keys_fn)(void *arg, enum sslkeys_label label,
			      const uint8_t random[SSLKEYS_RANDOM_LEN],
			      uint8_t out[SSLKEYS_SECRET_MAX]);

/* The --grep text and its matcher table (Knuth-Morris-Pratt, so a match split across chunks
 * is found with one state integer per direction). Built once, shared read-only by all
 * connections. */
struct dis_grep {
	uint8_t text[DIS_GREP_MAX];
	uint16_t fail[DIS_GREP_MAX];
	size_t len;
};

enum dis_proto { DIS_PROTO_UNKNOWN, DIS_PROTO_HTTP, DIS_PROTO_TLS, DIS_PROTO_RAW };

enum dis_http_state {
	DIS_HTTP_START,      /* before a request or status line */
	DIS_HTTP_HEADERS,    /* header lines until the empty line */
	DIS_HTTP_BODY_LEN,   /* Content-Length bytes left */
	DIS_HTTP_BODY_CLOSE, /* a response body that ends with the connection */
	DIS_HTTP_CHUNK_SIZE, /* RFC 9112 §7.1: hex size line */
	DIS_HTTP_CHUNK_DATA,
	DIS_HTTP_CHUNK_CRLF, /* the CRLF after chunk data */
	DIS_HTTP_TRAILERS    /* trailer lines after the last chunk */
};

enum dis_body { DIS_BODY_NONE, DIS_BODY_LENGTH, DIS_BODY_CHUNKED, DIS_BODY_CLOSE, DIS_BODY_BAD };

struct dis_http {
	enum dis_http_state state;
	enum dis_body body; /* framing announced by the headers being read */
	uint64_t left;      /* body or chunk bytes still to come */
	int status;         /* of the response being read; 0 for a request */
	size_t line_len;    /* bytes kept in line */
	size_t line_total;  /* bytes of the line seen, kept or not */
	char line[DIS_HTTP_LINE_MAX];
	size_t preview_len; /* body bytes kept in preview */
	int preview_state;  /* 0 collecting, 1 shown */
	uint64_t body_seen;
	uint8_t preview[DIS_BODY_PREVIEW];
	char what[DIS_WHAT_MAX]; /* the message's event name; "" before its start line */
	size_t names_len;        /* DIS_BRIEF: header names of this message so far, ", " between */
	int names_cut;           /* more names came than fit: names ends in "..." */
	char names[DIS_HTTP_NAMES_MAX];
};

enum dis_tls_state { DIS_TLS_HEADER, DIS_TLS_BODY };

struct dis_tls {
	enum dis_tls_state state;
	int encrypted;  /* this direction's records are protected from here on */
	int collect;    /* the current record goes to the decryption (a key log is on) */
	int sealed;     /* the current record came protected (decided at its header) */
	uint8_t hdr[5]; /* record header being collected */
	size_t hdr_len;
	uint8_t type; /* current record */
	size_t rec_left;
	uint8_t alert[2]; /* a clear alert's level and description */
	size_t alert_len;
	uint8_t hs_hdr[4]; /* handshake message header being collected (type, uint24 length) */
	size_t hs_hdr_len;
	size_t hs_len; /* current handshake message body length */
	size_t hs_got; /* bytes of it seen so far */
	uint8_t hs_keep[DIS_HS_KEEP];
};

/* A run of base64url characters that began with "gAAAAA" (version 0x80, then a timestamp). */
struct dis_token {
	unsigned prefix; /* characters of "gAAAAA" matched; 6 means collecting */
	size_t len;      /* characters collected, kept or not */
	char text[DIS_TOKEN_MAX];
};

struct dis_side {
	enum dis_proto proto;
	uint64_t offset; /* bytes seen in this direction before the current chunk */
	size_t grep_m;   /* characters of the --grep text matched at the end of the last chunk */
	int grep_seen;
	struct dis_token token;
	union {
		struct dis_http http;
		struct dis_tls tls;
	} u;
};

/* Requests whose responses the tap remembers, in order: enough for any real pipeline. */
#define DIS_PIPELINE_MAX 64
/* The server name kept for a connection's summary (dis_tls_summary); a longer one is cut. */
#define DIS_SNI_MAX 64

/* What the hellos said, in clear: enough to find the keys and to sum the connection up. */
struct dis_tls_facts {
	uint8_t client_random[SSLKEYS_RANDOM_LEN];
	uint8_t server_random[SSLKEYS_RANDOM_LEN];
	int have_client_random, have_server_random;
	unsigned version; /* chosen by the ServerHello; 0 before one */
	unsigned suite;
	unsigned group; /* the key exchange group the server chose; 0 if not seen */
	char sni[DIS_SNI_MAX];
};

/* Per-connection decryption state: opaque, dis_crypt_size() bytes, the caller's memory. */
struct dis_crypt;

struct dis_conn {
	unsigned long id;
	unsigned flags;
	const struct dis_grep *grep; /* NULL without --grep; must outlive the conn */
	/* Requests seen and not yet answered, oldest in bit 0: bit set for HEAD, whose response
	 * has no body whatever its headers announce (RFC 9110 §9.3.2). Beyond DIS_PIPELINE_MAX
	 * requests are not remembered, and their responses are read as GET's. */
	uint64_t heads;
	unsigned pending;
	/* A ServerHello (or HelloRetryRequest) chose TLS 1.3: from then on a ChangeCipherSpec is
	 * the middlebox-compatibility dummy (RFC 8446 §D.4) and starts no encryption. */
	int tls13;
	struct dis_tls_facts facts;
	dis_event_fn event; /* NULL: no events */
	void *event_arg;
	struct dis_crypt *crypt; /* NULL: no key log */
	int grep_decrypted[2];   /* the --grep text was seen inside decrypted records */
	unsigned long decrypted; /* records decrypted */
	struct dis_side side[2]; /* indexed by enum dis_dir */
};

/*
 * Build the matcher for text (len bytes, 1..DIS_GREP_MAX). Returns 0, or -1 if len is out of
 * range. g keeps its own copy of text.
 */
int dis_grep_init(struct dis_grep *g, const char *text, size_t len);

/* Start a connection's state. grep may be NULL; flags are DIS_HEX | DIS_LAYERS or 0. No
 * events and no decryption until asked for below. */
void dis_conn_init(struct dis_conn *d, unsigned long id, unsigned flags,
		   const struct dis_grep *grep);

/* Send d's events to fn (after dis_conn_init). */
void dis_conn_events(struct dis_conn *d, dis_event_fn fn, void *arg);

/* Bytes of memory a struct dis_crypt takes (a multiple of the largest alignment). */
size_t dis_crypt_size(void);

/*
 * Decrypt d's TLS records with the secrets keys finds (after dis_conn_init). c is
 * dis_crypt_size() bytes of the caller's memory, d's until dis_finish, which wipes it.
 */
void dis_conn_decrypt(struct dis_conn *d, struct dis_crypt *c, dis_keys_fn keys, void *arg);

/*
 * Take the next len bytes that crossed the wire in direction dir, in order, and emit what
 * the flags ask for. Chunks may be split anywhere; state carries over.
 */
void dis_feed(struct dis_conn *d, enum dis_dir dir, const uint8_t *buf, size_t len,
	      dis_emit_fn emit, void *arg);

/*
 * The connection ended: emit what was pending (a token at the very end of the stream, a
 * body preview, a record cut short, records still waiting for their keys). Emits no lines
 * when flags are 0. Wipes the decryption state.
 */
void dis_finish(struct dis_conn *d, dis_emit_fn emit, void *arg);

/*
 * With --grep, emit the connection's verdict: "conn 3: 'fluffy tail' seen in clear
 * (server -> client)", "(both directions)", "conn 3: 'fluffy tail' seen only after
 * decryption (server -> client)", or "conn 3: 'fluffy tail' not seen". Without, nothing.
 * d may be reused after dis_conn_init.
 */
void dis_grep_report(const struct dis_conn *d, dis_emit_fn emit, void *arg);

/* 1 if the --grep text was seen in clear in direction dir so far, else 0. */
int dis_grep_seen(const struct dis_conn *d, enum dis_dir dir);

/* 1 if the --grep text was seen in direction dir inside decrypted records, else 0. */
int dis_grep_seen_decrypted(const struct dis_conn *d, enum dis_dir dir);

/*
 * What TLS showed in clear, in a few words: "SNI localhost, TLS 1.3, X25519" (only what was
 * seen), into buf (NUL-terminated, cut to cap). Returns 0, or -1 (buf "") if d saw no TLS.
 */
int dis_tls_summary(const struct dis_conn *d, char *buf, size_t cap);

/* Records of d (both directions) that were decrypted so far. */
unsigned long dis_decrypted_records(const struct dis_conn *d);

/* "client -> server" or "server -> client". */
const char *dis_dir_name(enum dis_dir dir);

#endif
