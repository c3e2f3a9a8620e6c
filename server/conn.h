/*
 * conn: one connection slot and its state machine. conn_step() is the only code that moves a
 * connection between states; the poll loop calls it when the socket is ready (or TLS holds
 * bytes), and asks poll() for whatever it returns.
 *
 *   HANDSHAKE -> READ_HEAD <-> READ_BODY
 *                    |  ^
 *                    v  | keep-alive
 *                   WRITE -> LINGER -> CLOSED
 */
#ifndef SQUIRREL_CONN_H
#define SQUIRREL_CONN_H

#include <netinet/in.h>
#include <stdint.h>

#include "bufpool.h"
#include "http.h"
#include "transport.h"

enum conn_state {
	CONN_CLOSED,    /* free slot */
	CONN_HANDSHAKE, /* TLS handshake in progress */
	CONN_READ_HEAD, /* waiting for (the rest of) a request head */
	CONN_READ_BODY, /* discarding an announced request body */
	CONN_WRITE,     /* writing queued responses */
	CONN_LINGER,    /* answered and closing: draining what the peer still sends */
};

struct srv;

struct conn {
	struct tr t; /* the socket, and its TLS session */
	enum conn_state state;
	uint8_t close_after;  /* close once the queued responses are written */
	uint8_t silent;       /* close without an answer (a TLS hello on the plain port) */
	uint8_t pending;      /* the transport holds bytes poll() cannot see */
	uint8_t idle;         /* between requests: the deadline is the idle timeout */
	uint8_t body_chunked; /* discarding a chunked body */
	uint8_t linger;       /* the answer closes on an error: the peer may still be sending */
	uint8_t nodelay;      /* TCP_NODELAY is set (on the first keep-alive wait) */
	uint8_t slimmed;      /* tr_slim() has run (see conn_wants_slim) */
	uint8_t plain_on_tls; /* plain HTTP came to the TLS port: every request gets a 400 */
	int64_t deadline_ms;
	int64_t req_start_us;    /* when the current request's first byte arrived */
	struct buf *in, *out;    /* borrowed from the pool while needed */
	uint32_t in_off, in_len; /* current request starts at in_off; bytes end at in_len */
	uint32_t out_off, out_len;
	uint64_t body_left; /* HTTP_BODY_LENGTH: bytes of body still to discard */
	uint32_t body_seen; /* chunked body bytes (as on the wire), or lingering bytes, so far */
	struct http_request req;
	struct http_chunked chunked;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} peer;
};

/* Start a connection accepted on fd (already non-blocking). 0, or -1 (fd closed). */
int conn_open(struct srv *s, struct conn *c, int fd, const struct sockaddr *peer, int tls);

/*
 * Advance c as far as it goes without blocking. Returns the poll events it now waits for
 * (POLLIN, POLLOUT), or 0 when it has closed (the slot is free again).
 */
short conn_step(struct srv *s, struct conn *c);

/* Its deadline passed: answer 408 if a request was under way, then close. Returns like conn_step. */
short conn_expire(struct srv *s, struct conn *c);

/* Close now, for reason (logged unless NULL), and return the slot's resources. */
void conn_close(struct srv *s, struct conn *c, const char *reason);

/* Idle between requests, holding nothing: safe to close when the server stops. */
int conn_is_idle(const struct conn *c);

/* A TLS connection waiting for a request whose session memory has not been slimmed yet: the
 * next deadline sweep calls tr_slim() on it, and arm() makes that sweep come within a tick. */
static inline int
conn_wants_slim(const struct conn *c)
{
	return c->state == CONN_READ_HEAD && tr_is_tls(&c->t) && !c->slimmed;
}

/* A TLS handshake that has not answered the ClientHello yet: its next step may sign, the
 * costly part of a handshake, so the loop runs it after cheaper work (srv.h: SRV_NEW_WORK_US).
 * Nothing goes to the peer before that answer, so tr_sent() is still 0. */
static inline int
conn_is_fresh_handshake(const struct conn *c)
{
	return c->state == CONN_HANDSHAKE && !tr_sent(&c->t);
}

#endif
