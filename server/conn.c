/*
 * The connection state machine. Each state's function either moves the connection on
 * (STEP_AGAIN), asks poll() for an event (POLLIN/POLLOUT), or closes it (0).
 */
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/random.h>

#include "addr.h"
#include "clock.h"
#include "conn.h"
#include "srv.h"

#define STEP_AGAIN (-1)
/* answer_held: the bytes held end inside a head; read more. */
#define NEED_BYTES (-2)
/* Bytes a closing connection may still send us before we stop listening (lingering close). */
#define LINGER_MAX (256 * 1024)

static int64_t
wall_sec(void)
{
	return (int64_t)time(NULL);
}

/* The access log's microseconds count from here; a quiet server reads no clock for them. */
static void
mark_request_start(const struct srv *s, struct conn *c)
{
	if (!s->log.quiet)
		c->req_start_us = clock_us();
}

static const char *
peer_text(const struct conn *c, char out[ADDR_TEXT_MAX])
{
	return addr_format(&c->peer.sa, out);
}

/* The pool b came from (buffers know their size). */
static struct bufpool *
pool_of(struct srv *s, const struct buf *b)
{
	return b->cap == BUF_SMALL ? &s->small : &s->pool;
}

static void
release_buffers(struct srv *s, struct conn *c)
{
	if (c->in != NULL && c->in_off == c->in_len) {
		bufpool_put(pool_of(s, c->in), c->in);
		c->in = NULL;
		c->in_off = c->in_len = 0;
	}
	if (c->out != NULL && c->out_off == c->out_len) {
		bufpool_put(&s->pool, c->out);
		c->out = NULL;
		c->out_off = c->out_len = 0;
	}
}

void
conn_close(struct srv *s, struct conn *c, const char *reason)
{
	if (reason != NULL && !s->log.quiet) {
		char peer[ADDR_TEXT_MAX];

		alog_event(&s->log, wall_sec(), peer_text(c, peer), reason, NULL);
	}
	tr_close(&c->t);
	c->in_off = c->in_len = 0;
	c->out_off = c->out_len = 0;
	release_buffers(s, c);
	c->state = CONN_CLOSED;
}

/* Close for a transport failure, saying what the transport saw. */
static int
close_failed(struct srv *s, struct conn *c, const char *what)
{
	char detail[160], line[256];

	snprintf(line, sizeof(line), "%s: %s", what, tr_errstr(&c->t, detail, sizeof(detail)));
	conn_close(s, c, line);
	return 0;
}

/*
 * c must be dealt with `ms` from now. The loop sleeps until the earliest deadline rather than
 * ticking, so 10,000 idle connections cost no CPU; but it sweeps at most once a tick, so a
 * flood of short deadlines costs one sweep a tick at most. A TLS connection that waits for a
 * request gets a sweep within a tick, which hands its session's zero pages back (tr_slim).
 */
static void
arm(struct srv *s, struct conn *c, int64_t ms)
{
	int64_t wake = s->now_ms + ms;

	c->deadline_ms = wake;
	if (conn_wants_slim(c))
		wake = s->now_ms + SRV_TICK_MS;
	if (wake < s->next_sweep_ms)
		s->next_sweep_ms = wake > s->last_sweep_ms + SRV_TICK_MS
					   ? wake
					   : s->last_sweep_ms + SRV_TICK_MS;
}

int
conn_open(struct srv *s, struct conn *c, int fd, const struct sockaddr *peer, int tls)
{
	memset(c, 0, sizeof(*c));
	if (peer->sa_family == AF_INET6)
		memcpy(&c->peer.in6, peer, sizeof(c->peer.in6));
	else
		memcpy(&c->peer.in4, peer, sizeof(c->peer.in4));
	if (tls) {
		if (tr_tls_init(&c->t, fd, s->ctx, 1, NULL) < 0) {
			tr_plain_init(&c->t, fd, 1);
			conn_close(s, c, "cannot start a TLS session (out of memory)");
			return -1;
		}
		c->state = CONN_HANDSHAKE;
		arm(s, c, s->cfg->handshake_ms);
	} else {
		tr_plain_init(&c->t, fd, 1);
		c->state = CONN_READ_HEAD;
		arm(s, c, s->cfg->header_ms);
	}
	http_request_init(&c->req);
	return 0;
}

int
conn_is_idle(const struct conn *c)
{
	return c->state == CONN_READ_HEAD && c->in_off == c->in_len && c->out_off == c->out_len;
}

/* An answer is queued: it gets the whole write deadline, however little of the header
 * deadline its request left. From here only progress re-arms it (step_write). */
static int
start_write(struct srv *s, struct conn *c)
{
	c->state = CONN_WRITE;
	arm(s, c, SRV_WRITE_MS);
	return STEP_AGAIN;
}

/* Whether answering the current request with id ends the connection. */
static int
answer_closes(const struct srv *s, const struct conn *c, enum resp_id id)
{
	return resp_closes(id) || !c->req.keep_alive || s->stopping;
}

/* Whether the answer keeps the connection open: the Connection field it carries. */
static enum resp_conn
answer_conn(const struct srv *s, struct conn *c, enum resp_id id)
{
	const struct http_request *q = &c->req;

	if (answer_closes(s, c, id)) {
		c->close_after = 1;
		/* After an error the peer's bytes were not all read: close gently. */
		c->linger |= resp_closes(id);
		return RESP_CLOSE;
	}
	return q->version == 10 ? RESP_KEEP10 : RESP_KEEP;
}

/* The output buffer, borrowed if need be. 0, or -1 (closed). */
static int
have_output(struct srv *s, struct conn *c)
{
	if (c->out != NULL)
		return 0;
	c->out = bufpool_get(&s->pool);
	if (c->out == NULL) {
		conn_close(s, c, "out of memory for a response");
		return -1;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Fernet mode: the secret's body, a fresh token after the prebuilt head. 0, or -1 when c
 * was closed. */
static int
append_token(struct srv *s, struct conn *c)
{
	unsigned char iv[16];
	size_t tlen = 0;

	/* A fresh IV and timestamp per response, as Fernet requires. */
	if (fernet_iv_next(&s->ivs, s->rng, iv) != 0 ||
	    fernet_ctx_encrypt(&s->cfg->fctx, (uint64_t)wall_sec(), iv, s->cfg->message,
			       s->cfg->message_len, c->out->data + c->out_len,
			       BUF_SIZE - c->out_len, &tlen) < 0 ||
	    tlen != s->resp.body_len) {
		conn_close(s, c, "cannot make a Fernet token");
		return -1;
	}
	c->out_len += (uint32_t)tlen;
	return 0;
}

/* Queue the answer to the current request (or rejection) and log it. */
static int
answer(struct srv *s, struct conn *c, enum resp_id id, const char *why)
{
	const struct http_request *q = &c->req;
	enum resp_conn cn = answer_conn(s, c, id);
	int head_only = q->method != NULL && q->meth == HTTP_HEAD;
	const struct resp *r = &s->resp.r[id][cn];
	size_t len = head_only ? r->head_len : r->len, body;

	if (have_output(s, c) < 0)
		return -1;
	if (id == RESP_400 && why != NULL) {
		int n = resp_format_400(&s->resp, cn, why, head_only, c->out->data + c->out_len,
					BUF_SIZE - c->out_len, &body);

		if (n < 0) {
			conn_close(s, c, "no room for a response");
			return -1;
		}
		c->out_len += (uint32_t)n;
	} else {
		memcpy(c->out->data + c->out_len, r->bytes, len);
		c->out_len += (uint32_t)len;
		body = len - r->head_len;
	}
	if (id == RESP_SECRET && s->cfg->fernet && !head_only) {
		if (append_token(s, c) < 0)
			return -1;
		body = s->resp.body_len;
	}
	if (!s->log.quiet) {
		char peer[ADDR_TEXT_MAX];
		struct tr_info tls;

		alog_request(&s->log, wall_sec(), peer_text(c, peer), q->method, q->method_len,
			     q->target, q->target_len, r->status, body,
			     clock_us() - c->req_start_us,
			     tr_tls_info(&c->t, &tls) == 0 ? &tls : NULL, why);
	}
	return 0;
}

/*
 * Take what the buffer holds of an announced body, which is discarded. Returns 0, or the
 * status it deserves with *why: 400 for broken chunked framing (the decoder's reason), 413
 * for a chunked body over SRV_MAX_BODY.
 */
static int
take_body(struct conn *c, const char **why)
{
	size_t avail = c->in_len - c->in_off;

	if (avail == 0)
		return 0;
	if (c->body_chunked) {
		size_t n = avail;
		ssize_t r = http_chunked_decode(&c->chunked, c->in->data + c->in_off, &n);

		if (r == HTTP_INVALID) {
			*why = c->chunked.why;
			return 400;
		}
		/* The limit bounds what we read, so it counts wire bytes: size lines,
		 * extensions, CRLFs and trailers too. Counting data alone would let one-byte
		 * chunks with 1 KiB extensions through by the million. */
		c->body_seen += (uint32_t)(r >= 0 ? avail - (size_t)r : avail);
		if (c->body_seen > SRV_MAX_BODY) {
			*why = "chunked request body too large";
			return 413;
		}
		if (r >= 0) {
			/* Done: what followed the body sits right after the decoded bytes. */
			c->in_off += (uint32_t)n;
			c->in_len = c->in_off + (uint32_t)r;
			c->body_chunked = 0;
		} else {
			c->in_off = c->in_len;
		}
	} else if (c->body_left > 0) {
		size_t take = avail < c->body_left ? avail : (size_t)c->body_left;

		c->in_off += (uint32_t)take;
		c->body_left -= take;
	}
	return 0;
}

/* A complete head is at in[in_off - n, in_off). Route it, queue the answer, arrange the body. */
static int
on_request(struct srv *s, struct conn *c)
{
	const struct http_request *q = &c->req;
	const char *why, *body_why = NULL;
	enum resp_id id = resp_route(q, &why);
	int status, body_here = c->in_len > c->in_off;

	if (q->framing == HTTP_BODY_LENGTH && q->content_length > SRV_MAX_BODY) {
		id = RESP_413;
		why = "request body too large";
	} else if (q->framing == HTTP_BODY_LENGTH) {
		c->body_left = q->content_length;
	} else if (q->framing == HTTP_BODY_CHUNKED) {
		http_chunked_init(&c->chunked);
		c->body_chunked = 1;
		c->body_seen = 0;
	}
	/* The part of the body that came with the head is read before answering: a malformed
	 * chunked body makes the whole request an error, whatever its method (RFC 9112 §7.1,
	 * §6.3), as nginx answers it. One that comes later closes the connection. */
	status = take_body(c, &body_why);
	if (status != 0) {
		id = resp_for_status(status);
		why = body_why;
	}
	if (c->plain_on_tls) {
		id = RESP_400_PLAIN_ON_TLS;
		why = "plain HTTP sent to the HTTPS port";
	}
	/*
	 * A client that asked for 100-continue waits (curl: a second) before it sends its body
	 * (RFC 9110 §10.1.1). Tell it to go on, as nginx does, when the connection stays open:
	 * a client that took our final answer as a refusal of its body would send its next
	 * request where we wait for that body. An answer that closes needs no 100.
	 */
	if (q->expect_continue && !body_here && (c->body_left || c->body_chunked) &&
	    !answer_closes(s, c, id)) {
		if (have_output(s, c) < 0)
			return 0;
		memcpy(c->out->data + c->out_len, RESP_CONTINUE, sizeof(RESP_CONTINUE) - 1);
		c->out_len += sizeof(RESP_CONTINUE) - 1;
	}
	if (answer(s, c, id, why) < 0)
		return 0;
	if (c->close_after) {
		/* Closing without reading the rest of an announced body: it may still be on its
		 * way, and its arrival at a closed socket would send a reset that can destroy our
		 * answer. */
		if (c->body_left || c->body_chunked)
			c->linger = 1;
		c->body_left = 0;
		c->body_chunked = 0;
	}
	return STEP_AGAIN;
}

static int
on_reject(struct srv *s, struct conn *c)
{
	/* A TLS ClientHello on the plain port: there is no answer it could read. */
	if (c->req.s.start == 0 && (unsigned char)c->in->data[c->in_off] == 0x16) {
		conn_close(s, c, "closed: a TLS handshake arrived on the plain HTTP port");
		return 0;
	}
	if (answer(s, c, resp_for_status(c->req.reject), c->req.why) < 0)
		return 0;
	/* Framing is lost: nothing after this can be trusted to be a request. */
	c->in_off = c->in_len;
	return start_write(s, c);
}

/* Stop sending and drain what the peer still sends for a while, then close: our last
 * words (a response, a TLS alert) then arrive instead of being destroyed by a reset. */
static int
start_linger(struct srv *s, struct conn *c)
{
	tr_shutdown(&c->t);
	c->in_off = c->in_len = 0;
	c->out_off = c->out_len = 0;
	release_buffers(s, c);
	c->state = CONN_LINGER;
	c->body_seen = 0; /* from here it counts what lingering drains, not an earlier body */
	arm(s, c, SRV_LINGER_MS);
	return STEP_AGAIN;
}

static int
step_handshake(struct srv *s, struct conn *c)
{
	int r = tr_handshake(&c->t);

	if (r == TR_WANT_READ)
		return POLLIN;
	if (r == TR_WANT_WRITE)
		return POLLOUT;
	if (r == TR_CLOSED_SILENT) {
		conn_close(s, c, NULL);
		return 0;
	}
	if (r == TR_NOT_TLS) {
		/* Plain HTTP on the TLS port: read the request and answer it in plain text, as
		 * nginx does; a HEAD then gets its 400 without a body (on_request). */
		tr_downgrade(&c->t);
		c->plain_on_tls = 1;
		c->state = CONN_READ_HEAD;
		arm(s, c, s->cfg->header_ms);
		return STEP_AGAIN;
	}
	if (r < 0) {
		char detail[160];

		if (!s->log.quiet) {
			char peer[ADDR_TEXT_MAX];

			alog_event(&s->log, wall_sec(), peer_text(c, peer), "tls handshake failed",
				   tr_errstr(&c->t, detail, sizeof(detail)));
		}
		/* wolfSSL has sent its alert; the session is unusable, the socket is not. */
		tr_downgrade(&c->t);
		return start_linger(s, c);
	}
	c->state = CONN_READ_HEAD;
	arm(s, c, s->cfg->header_ms);
	return STEP_AGAIN;
}

/* A head that outgrew its small buffer moves, unparsed part only, to a large one. */
static int
grow_input(struct srv *s, struct conn *c)
{
	struct buf *big = bufpool_get(&s->pool);
	uint32_t held = c->in_len - c->in_off;

	if (big == NULL) {
		conn_close(s, c, "out of memory for a request");
		return -1;
	}
	memcpy(big->data, c->in->data + c->in_off, held);
	bufpool_put(&s->small, c->in);
	c->in = big;
	c->in_off = 0;
	c->in_len = held;
	return 0;
}

/*
 * Answer every complete request held in c->in. Returns NEED_BYTES when what is held ends
 * inside a head (or nothing is), else what a step returns.
 */
static int
answer_held(struct srv *s, struct conn *c)
{
	while (c->in_len > c->in_off) {
		int r = http_parse_request(c->in->data + c->in_off, c->in_len - c->in_off, &c->req);

		if (r == HTTP_INVALID)
			return on_reject(s, c);
		if (r <= 0)
			break;
		c->in_off += (uint32_t)r;
		if (on_request(s, c) == 0)
			return 0;
		/* Keep batching pipelined answers while they fit in one write. */
		if (c->close_after || c->body_left || c->body_chunked ||
		    BUF_SIZE - c->out_len < s->max_response)
			return start_write(s, c);
		http_request_init(&c->req);
		mark_request_start(s, c);
	}
	return NEED_BYTES;
}

/* Room to read the rest of a head into: unparsed bytes moved to the front of a full
 * buffer, a small buffer swapped for a large one. The room, or -1 when c was closed. */
static ssize_t
input_room(struct srv *s, struct conn *c)
{
	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
	} else if (c->in_len == c->in->cap) {
		/* The parser may resume on moved bytes; only their content must stay. */
		memmove(c->in->data, c->in->data + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == c->in->cap && c->in->cap < BUF_SIZE && grow_input(s, c) < 0)
		return -1;
	return (ssize_t)(c->in->cap - c->in_len);
}

/* n bytes of a head came: the first of a request starts its clock and, after an idle wait,
 * the head deadline; later bytes never extend it. */
static void
head_bytes_came(struct srv *s, struct conn *c, size_t n)
{
	if (c->in_len == c->in_off) {
		mark_request_start(s, c);
		if (c->idle) {
			c->idle = 0;
			arm(s, c, s->cfg->header_ms);
		}
	}
	c->in_len += (uint32_t)n;
}

/* Parse and answer every complete request in the buffer; read when one is incomplete. */
static int
step_read_head(struct srv *s, struct conn *c)
{
	if (c->in == NULL) {
		c->in = bufpool_get(&s->small);
		if (c->in == NULL) {
			conn_close(s, c, "out of memory for a request");
			return 0;
		}
		c->in_off = c->in_len = 0;
	}
	for (;;) {
		int r = answer_held(s, c);
		ssize_t room, n;

		if (r != NEED_BYTES)
			return r;
		if (c->out_len > c->out_off)
			return start_write(s, c);
		room = input_room(s, c);
		if (room < 0)
			return 0;
		if (room == 0) {
			/* Cannot happen while the parser decides within HTTP_MAX_HEAD; if it ever
			 * does, answer rather than mistake a zero-byte read for the peer leaving. */
			c->req.reject = 431;
			return on_reject(s, c);
		}
		n = tr_read(&c->t, c->in->data + c->in_len, (size_t)room);
		if (n > 0) {
			head_bytes_came(s, c, (size_t)n);
			continue;
		}
		if (n == 0) {
			conn_close(s, c,
				   c->in_len > c->in_off ? "closed by the peer mid-request" : NULL);
			return 0;
		}
		if (n == TR_WANT_READ || n == TR_WANT_WRITE) {
			release_buffers(s, c);
			return n == TR_WANT_READ ? POLLIN : POLLOUT;
		}
		return close_failed(s, c, "read failed");
	}
}

/*
 * Answered, and any body discarded: wait for the next request, the one way every path takes.
 * Bytes already here (pipelined) are a head under way, on the header deadline; otherwise the
 * idle timeout runs, and the first byte to come starts the header deadline (step_read_head).
 */
static int
await_request(struct srv *s, struct conn *c)
{
	if (s->stopping && c->in_off == c->in_len) {
		conn_close(s, c, NULL);
		return 0;
	}
	http_request_init(&c->req);
	c->state = CONN_READ_HEAD;
	if (c->in_off < c->in_len) {
		c->idle = 0;
		arm(s, c, s->cfg->header_ms);
		mark_request_start(s, c);
	} else {
		c->idle = 1;
		arm(s, c, s->cfg->idle_ms);
	}
	if (!c->nodelay) {
		/* Kept alive: from now on a response may follow one not yet acknowledged, which
		 * Nagle would hold back. One-shot connections never pay for this call. */
		tr_nodelay(&c->t);
		c->nodelay = 1;
	}
	return STEP_AGAIN;
}

/* Discard an announced body: it must never be mistaken for the next request. */
static int
step_read_body(struct srv *s, struct conn *c)
{
	for (;;) {
		const char *why;
		char reason[128];
		int status = take_body(c, &why);

		if (status != 0) {
			snprintf(reason, sizeof(reason), "closed: %s%s",
				 status == 400 ? "malformed chunked request body: " : "", why);
			conn_close(s, c, reason);
			return 0;
		}
		if (!c->body_chunked && c->body_left == 0)
			return await_request(s, c);
		if (c->in_off == c->in_len)
			c->in_off = c->in_len = 0;
		ssize_t n = tr_read(&c->t, c->in->data + c->in_len, c->in->cap - c->in_len);

		if (n > 0) {
			c->in_len += (uint32_t)n;
			continue;
		}
		if (n == 0) {
			conn_close(s, c, "closed by the peer mid-body");
			return 0;
		}
		if (n == TR_WANT_READ || n == TR_WANT_WRITE)
			return n == TR_WANT_READ ? POLLIN : POLLOUT;
		return close_failed(s, c, "read failed");
	}
}

static int
step_write(struct srv *s, struct conn *c)
{
	/* Every path after the last byte of a closing answer ends in shutdown() or close(). */
	tr_set_last(&c->t, c->close_after);
	tr_sent_clear(&c->t);
	while (c->out_off < c->out_len) {
		ssize_t n = tr_write(&c->t, c->out->data + c->out_off, c->out_len - c->out_off);

		if (n > 0) {
			c->out_off += (uint32_t)n;
			arm(s, c, SRV_WRITE_MS);
			continue;
		}
		if (n == TR_WANT_WRITE || n == TR_WANT_READ) {
			/* A TLS write that wants more may have sent part of it all the same:
			 * progress, as a plain write's short count is. */
			if (tr_sent(&c->t))
				arm(s, c, SRV_WRITE_MS);
			return n == TR_WANT_WRITE ? POLLOUT : POLLIN;
		}
		return close_failed(s, c, "write failed");
	}
	c->out_off = c->out_len = 0;
	if (c->close_after) {
		/* As nginx: linger only when the peer may still be sending (an error answer, a
		 * body we did not read, or bytes waiting); otherwise close now, which saves four
		 * system calls per connection-per-request client. */
		if (c->linger || c->in_off != c->in_len || tr_unread(&c->t))
			return start_linger(s, c);
		if (tr_is_tls(&c->t))
			tr_shutdown(&c->t);
		conn_close(s, c, NULL);
		return 0;
	}
	if (c->body_left || c->body_chunked) {
		c->state = CONN_READ_BODY;
		arm(s, c, s->cfg->header_ms);
		return STEP_AGAIN;
	}
	return await_request(s, c);
}

/* Answered and closing: read and drop what the peer still sends, so our answer is not
 * destroyed by a reset before it is read. */
static int
step_linger(struct srv *s, struct conn *c)
{
	for (;;) {
		ssize_t n = tr_read(&c->t, s->scratch, sizeof(s->scratch));

		if (n > 0) {
			c->body_seen += (uint32_t)n;
			if (c->body_seen > LINGER_MAX)
				break;
			continue;
		}
		if (n == TR_WANT_READ)
			return POLLIN;
		if (n == TR_WANT_WRITE)
			return POLLOUT;
		break;
	}
	conn_close(s, c, NULL);
	return 0;
}

short
conn_step(struct srv *s, struct conn *c)
{
	int r;

	do {
		switch (c->state) {
		case CONN_HANDSHAKE: r = step_handshake(s, c); break;
		case CONN_READ_HEAD: r = step_read_head(s, c); break;
		case CONN_READ_BODY: r = step_read_body(s, c); break;
		case CONN_WRITE: r = step_write(s, c); break;
		case CONN_LINGER: r = step_linger(s, c); break;
		case CONN_CLOSED:
		default: return 0;
		}
	} while (r == STEP_AGAIN);
	/* Held bytes matter only to a connection that waits to read: one that waits to write
	 * (its peer reads nothing while pipelining requests) must sleep in poll(). Stepped again
	 * at once, it would spin the loop at full CPU for as long as the peer liked. */
	c->pending = r == POLLIN && tr_pending(&c->t);
	return (short)r;
}

short
conn_expire(struct srv *s, struct conn *c)
{
	switch (c->state) {
	case CONN_HANDSHAKE:
		conn_close(s, c, "closed: tls handshake not finished in time");
		return 0;
	case CONN_READ_HEAD:
		if (c->idle) {
			conn_close(s, c, NULL);
			return 0;
		}
		if (c->in_len == c->in_off) {
			conn_close(s, c, "closed: no request arrived in time");
			return 0;
		}
		/* Part of a head arrived, too slowly: say so, then close. */
		http_request_init(&c->req);
		c->in_off = c->in_len;
		if (answer(s, c, RESP_408, "request head not complete in time") < 0)
			return 0;
		start_write(s, c);
		return conn_step(s, c);
	case CONN_READ_BODY:
		conn_close(s, c, "closed: request body not complete in time");
		return 0;
	case CONN_WRITE:
		conn_close(s, c, "closed: the peer stopped reading its response");
		return 0;
	case CONN_LINGER:
	case CONN_CLOSED: break;
	}
	conn_close(s, c, NULL);
	return 0;
}
