/*
 * dissect: what squirrel-tap says about the bytes it relays, like Wireshark's middle pane
 * (what it recognises) above its bytes pane (a hex dump with offsets and printable text).
 *
 * Sans-IO: bytes and per-direction state come in, text lines go out through a callback. No
 * read/write, no malloc; every length field on the wire is bounds-checked, so any byte
 * sequence, split at any point, is safe to feed (it is fuzzed).
 *
 * It recognises, without any key:
 *   - HTTP/1.x request and status lines, headers, and how the body is framed;
 *   - Fernet tokens ("gAAAAA..." URL-safe base64) laid out into their fields;
 *   - TLS records (content type, version, length) and, while the handshake is in clear,
 *     the handshake messages (ClientHello with its SNI, ServerHello, Certificate, ...);
 *     after ChangeCipherSpec, or after a TLS 1.3 ServerHello, only what an eavesdropper
 *     sees: "application data, N bytes", "encrypted handshake message".
 * and, for --grep, whether a given text crossed the wire in clear in either direction.
 *
 * Lines it emits (no trailing newline; the caller adds it):
 *   conn 1: client -> server, 78 bytes              one per chunk fed (hex or layers on)
 *     HTTP request: GET / HTTP/1.1                   what it recognises, indented by two
 *     0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a   GET / HT TP/1.1..
 *   conn 1: 'fluffy tail' seen in clear (server -> client)      from dis_finish with --grep
 */
#ifndef SQUIRREL_TAP_DISSECT_H
#define SQUIRREL_TAP_DISSECT_H

#include <stddef.h>
#include <stdint.h>

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

/* Flags for dis_conn_init: what dis_feed prints. With neither, only --grep is tracked. */
#define DIS_HEX 1u    /* each chunk's "conn N: ..." line, then its hex dump */
#define DIS_LAYERS 2u /* each chunk's "conn N: ..." line, then what is recognised in it */
#define DIS_BRIEF 4u  /* with DIS_LAYERS: an HTTP message's header names on one line */

enum dis_dir { DIS_C2S = 0, DIS_S2C = 1 };

/* Receives each line, NUL-terminated, valid only during the call. */
typedef void (*dis_emit_fn)(void *arg, const char *line);

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
	size_t names_len; /* DIS_BRIEF: header names of this message so far, ", " between */
	int names_cut;    /* more names came than fit: names ends in "..." */
	char names[DIS_HTTP_NAMES_MAX];
};

enum dis_tls_state { DIS_TLS_HEADER, DIS_TLS_BODY };

struct dis_tls {
	enum dis_tls_state state;
	int encrypted;  /* this direction's records are protected from here on */
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
	struct dis_side side[2]; /* indexed by enum dis_dir */
};

/*
 * Build the matcher for text (len bytes, 1..DIS_GREP_MAX). Returns 0, or -1 if len is out of
 * range. g keeps its own copy of text.
 */
int dis_grep_init(struct dis_grep *g, const char *text, size_t len);

/* Start a connection's state. grep may be NULL; flags are DIS_HEX | DIS_LAYERS or 0. */
void dis_conn_init(struct dis_conn *d, unsigned long id, unsigned flags,
		   const struct dis_grep *grep);

/*
 * Take the next len bytes that crossed the wire in direction dir, in order, and emit what
 * the flags ask for. Chunks may be split anywhere; state carries over.
 */
void dis_feed(struct dis_conn *d, enum dis_dir dir, const uint8_t *buf, size_t len,
	      dis_emit_fn emit, void *arg);

/*
 * The connection ended: emit what was pending (a token at the very end of the stream, a
 * body preview, a record cut short). Emits nothing when flags are 0.
 */
void dis_finish(struct dis_conn *d, dis_emit_fn emit, void *arg);

/*
 * With --grep, emit the connection's verdict: "conn 3: 'fluffy tail' seen in clear
 * (server -> client)", "(both directions)", or "conn 3: 'fluffy tail' not seen". Without,
 * nothing. d may be reused after dis_conn_init.
 */
void dis_grep_report(const struct dis_conn *d, dis_emit_fn emit, void *arg);

/* 1 if the --grep text was seen in clear in direction dir so far, else 0. */
int dis_grep_seen(const struct dis_conn *d, enum dis_dir dir);

/* "client -> server" or "server -> client". */
const char *dis_dir_name(enum dis_dir dir);

#endif
