/*
 * transport: one read(2)-like interface over a plain socket and over a TLS session, so the
 * server's state machine and the client's loop are written once (Redis's connection.h).
 *
 * tr_read / tr_write return bytes (> 0), 0 on an orderly close (read only), or
 *   TR_WANT_READ / TR_WANT_WRITE   retry when poll() says the socket is ready for that;
 *                                   a TLS read may want a write and a write may want a read
 *   TR_ERROR                       the connection is unusable; tr_errstr() says why
 * Would-block is a value, never an error, and is never logged. Callers never look at errno
 * or at wolfSSL codes: this is the only code that calls wolfSSL_read/write/accept/connect.
 */
#ifndef SQUIRREL_TRANSPORT_H
#define SQUIRREL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	TR_ERROR = -1,
	TR_WANT_READ = -2,
	TR_WANT_WRITE = -3,
	TR_NOT_TLS = -4, /* tr_handshake (server): the peer's first byte is not a TLS record */
	/* tr_handshake (server): the peer closed before sending a byte, as a port probe, a
	 * health check or a browser's unused preconnection does: nothing failed. */
	TR_CLOSED_SILENT = -5,
};

struct WOLFSSL;
struct WOLFSSL_CTX;
struct tr_ops;

/* One per connection; small, embedded in the connection slot. */
struct tr {
	const struct tr_ops *ops;
	struct WOLFSSL *ssl; /* NULL for plain */
	int fd;
	int err; /* errno (plain, or TLS socket errors) or wolfSSL code of the last TR_ERROR */
	unsigned char server;
	unsigned char peeked; /* server: the first byte was checked for a TLS record */
	unsigned char
		last; /* plain: what is written now is followed by a close (see plain_write) */
	unsigned char drained; /* server: the socket was empty at our last read (see tr_read) */
	unsigned char sent;    /* server: bytes went to the socket since the caller cleared it */
	unsigned char cut;     /* TLS: the last read's 0 was a TCP close without close_notify */
	/* TLS server, until its handshake is done: the record arriving (RFC 8446 §5.1), so that
	 * an alert the client sends in clear is understood (see tr_errstr). */
	unsigned char watch;      /* still watching */
	unsigned char rec_hdr[5]; /* the record's header, rec_hdr_len bytes of it so far */
	unsigned char rec_hdr_len;
	unsigned short rec_left;    /* bytes of its body still to come */
	unsigned char rec_alert[2]; /* a clear alert record's body: level, description */
	unsigned char clear_alert;  /* description + 1 of a fatal alert received in clear, or 0 */
	unsigned char reset;  /* TLS client: the peer reset the connection (see tr_set_deadline) */
	unsigned char closed; /* TLS: a recv() read the peer's close (see tls_result) */
	int64_t deadline_ms;  /* TLS client: reads give up at this clock_ms(); 0: never */
};

struct tr_ops {
	ssize_t (*read)(struct tr *t, void *buf, size_t len);
	ssize_t (*write)(struct tr *t, const void *buf, size_t len);
	int (*handshake)(struct tr *t);
	int (*pending)(const struct tr *t);
	void (*shutdown)(struct tr *t);
	void (*release)(struct tr *t);
	void (*slim)(struct tr *t);
};

/*
 * A plain transport over fd (owned from now on: tr_close() closes it). server != 0 for a
 * server's connection (see tr_read).
 */
void tr_plain_init(struct tr *t, int fd, int server);

/* t holds no connection, and tr_close() on it closes nothing: a slot not in use. */
void tr_clear(struct tr *t);

/*
 * A TLS transport over fd with a new session from ctx. server != 0: accept, and answer
 * TR_NOT_TLS from tr_handshake when the peer speaks something else first. Client: host is
 * sent as SNI unless NULL or an address literal. Whether the certificate names the host is
 * the caller's to check (squirrel-client: cli_tls_expect_host, in a verify callback).
 * Returns 0, or TR_ERROR (fd is then still the caller's).
 */
int tr_tls_init(struct tr *t, int fd, struct WOLFSSL_CTX *ctx, int server, const char *host);

/*
 * A TLS client's reads end at deadline_ms (clock_ms(), common/clock.h): wolfSSL reads a record
 * in a loop inside one call while bytes keep coming, so a timeout armed per call would let a
 * server that sends a byte a second hold the client for as long as a 16 KB record takes.
 * Every receive wolfSSL asks for waits in poll() for what is left, and once nothing is left
 * the call answers TR_WANT_READ, which a blocking client takes as its timeout. A reset from
 * the peer is TR_ERROR (ECONNRESET), where wolfSSL alone reports it as an orderly close.
 */
void tr_set_deadline(struct tr *t, int64_t deadline_ms);

/*
 * On a server (t->server), a read that came back short means the socket was empty then: the
 * next read answers TR_WANT_READ without a system call, once, and poll() (level-triggered)
 * says when more has come. That saves the read that would only return EAGAIN after every
 * request. (The client never sets server: it reads until its deadline.)
 */
static inline ssize_t
tr_read(struct tr *t, void *buf, size_t len)
{
	return t->ops->read(t, buf, len);
}

static inline ssize_t
tr_write(struct tr *t, const void *buf, size_t len)
{
	return t->ops->write(t, buf, len);
}

/* 1 when the handshake is done (at once for plain), or TR_WANT_*, TR_NOT_TLS,
 * TR_CLOSED_SILENT, TR_ERROR. */
static inline int
tr_handshake(struct tr *t)
{
	return t->ops->handshake(t);
}

/* Bytes the transport holds that poll() cannot see (TLS records already received). */
static inline int
tr_pending(const struct tr *t)
{
	return t->ops->pending(t);
}

/* Say goodbye (TLS close_notify; plain: shutdown(SHUT_WR)), best effort, never blocks long. */
static inline void
tr_shutdown(struct tr *t)
{
	t->ops->shutdown(t);
}

/*
 * The connection waits (for a request, say): give back memory it does not need meanwhile
 * (TLS: the pages of wolfSSL's session object that hold only zeros). A few microseconds, once
 * per connection that lives long enough; nothing changes for the caller.
 */
static inline void
tr_slim(struct tr *t)
{
	t->ops->slim(t);
}

/*
 * t is a copy of old, which is dead from now on (a server moved the connection to another
 * slot). A TLS session was told where its transport lives (its I/O callbacks' context) and
 * bytes read ahead belong to a transport by address: both follow the copy here. Never call
 * tr_close() on old afterwards; the caller forgets it.
 */
void tr_moved(struct tr *t, const struct tr *old);

/* 1 for a TLS session, 0 for a plain socket. */
static inline int
tr_is_tls(const struct tr *t)
{
	return t->ssl != NULL;
}

/*
 * last != 0: what is written from now on ends the connection. A plain socket then keeps the
 * last partial segment back (MSG_MORE), so the close or shutdown that follows at once sends
 * it with the FIN: one packet fewer. Writes that will be followed by more pass 0.
 */
static inline void
tr_set_last(struct tr *t, int last)
{
	t->last = (unsigned char)(last != 0);
}

/*
 * Server: tr_sent() says whether bytes went to the socket since tr_sent_clear(). A TLS write
 * that answers TR_WANT_* may have sent part of its records all the same: progress, as a
 * plain write's short count is.
 */
static inline void
tr_sent_clear(struct tr *t)
{
	t->sent = 0;
}

static inline int
tr_sent(const struct tr *t)
{
	return t->sent;
}

/* Send every write at once, never held back waiting for an ACK (TCP_NODELAY: no Nagle). */
void tr_nodelay(struct tr *t);

/* Free the session and close the socket. The tr may be initialised again afterwards. */
void tr_close(struct tr *t);

/* 1 if bytes from the peer wait unread, in the socket or inside the TLS session. */
int tr_unread(struct tr *t);

/*
 * Before closing: drop whatever already waits in the socket (the peer's close_notify), without
 * waiting for more. Closing with unread bytes makes the kernel send a reset instead of a FIN.
 */
void tr_drain(struct tr *t);

/* Turn a TLS transport whose peer sent plain text into a plain one (to answer it in kind). */
void tr_downgrade(struct tr *t);

/*
 * Why the last call failed, in words users know ("unable to get local issuer certificate",
 * "connection reset by peer"). buf is used when the text must be built; returns buf or a
 * static string.
 */
const char *tr_errstr(const struct tr *t, char *buf, size_t cap);

/* 1 if the last TR_ERROR was the peer's certificate failing verification. */
int tr_err_is_verify(const struct tr *t);

/* 1 if the last TR_ERROR means the peer does not speak TLS at all (an HTTP server). */
int tr_err_not_tls(const struct tr *t);

/*
 * 1 if the end that tr_read() reported with 0 came without TLS's close_notify: a plain TCP
 * close, which anyone on the path can forge. Harmless between length-delimited messages; a
 * body that runs to the close may have been cut short (RFC 8446 §6.1). Always 0 for plain.
 */
static inline int
tr_eof_cut(const struct tr *t)
{
	return t->cut;
}

/* 1 if the last TR_ERROR was the peer closing or resetting the connection. */
int tr_err_closed(const struct tr *t);

/* 1 if the last TR_ERROR was the peer resetting the connection (TCP RST). */
int tr_err_reset(const struct tr *t);

/* 1 if the last TR_ERROR was a fatal alert from the peer about our certificate
 * (certificate_required, bad_certificate, unknown_ca, ...): mutual TLS refused us. */
int tr_err_peer_refused_cert(const struct tr *t);

/*
 * After a TLS handshake: the protocol ("TLSv1.3"), the cipher suite by its IANA name
 * ("TLS_AES_128_GCM_SHA256", see tls_names.h) and the key exchange group ("X25519"; "-" for a
 * resumed TLS 1.2 session, which exchanges no key), with their registry codes (0: none), and
 * whether the session was resumed. The strings are static. 0, or -1 for a plain transport.
 * A few field reads and table lookups: cheap enough for every access-log line.
 */
struct tr_info {
	const char *version;
	const char *cipher;
	const char *group;
	unsigned suite_code, group_code;
	int resumed;
};
int tr_tls_info(struct tr *t, struct tr_info *info);

/* The peer's certificate number idx (0 = its own) as DER, valid until tr_close(). 1 or 0. */
int tr_tls_peer_cert(struct tr *t, int idx, const unsigned char **der, int *len);

#endif
