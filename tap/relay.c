/*
 * relay: a small non-blocking poll() relay for squirrel-tap. See relay.h.
 *
 * A connection is two sockets (side 0 the client, side 1 the upstream server) and two pipes:
 * pipe[TAP_C2S] holds bytes read from the client and not yet written to the server,
 * pipe[TAP_S2C] the other way. Since a direction's source is side d and its destination side
 * 1 - d, the same code serves both. Poll interest is derived from the pipes each tick
 * (mongoose's mg_iotest): read a side while its pipe has room and it has not ended; write a
 * side while the opposite pipe holds bytes. A full pipe stops reading its source, which is
 * all the backpressure there is; nothing ever blocks.
 */
#include <errno.h>
#include <signal.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include "addr.h"
#include "relay.h"

#define SIDE_CLIENT 0
#define SIDE_SERVER 1

enum tap_state { TAP_FREE, TAP_CONNECTING, TAP_RELAYING };

/* One direction: open (reading its source), draining (source ended, bytes left to write),
 * done (everything written and the end forwarded with shutdown(SHUT_WR)). */
enum tap_flow { TAP_FLOW_OPEN, TAP_FLOW_DRAIN, TAP_FLOW_DONE };

struct tap_pipe {
	enum tap_flow flow;
	size_t off, len; /* pending bytes are buf[off .. off + len) */
	uint8_t buf[TAP_BUF_SIZE];
};

struct tap_conn {
	enum tap_state state;
	int fd[2];
	unsigned long id;
	/* TAP_CONNECTING: give up on the upstream at this time; TAP_RELAYING: close the
	 * connection as idle at this time, pushed back whenever something crosses (ms). */
	int64_t deadline;
	int first_end;     /* the side that ended its sending first, or -1 */
	uint64_t bytes[2]; /* read from each side */
	struct tap_pipe pipe[2];
};

struct tap_relay {
	int listen_fd;
	struct tap_addr upstream;
	struct tap_hooks hooks;
	int idle_ms;
	unsigned long next_id;
	int64_t accept_pause_until;
	/* When accepts first paused in the current run of failures, or -1: a pause is warned
	 * about once, and its end once, not at every retry. */
	int64_t accept_paused_at;
	/* The next client's upstream socket, made before it is accepted: a client is taken from
	 * the backlog only when both its descriptors can be had. -1 when none is held. */
	int spare_fd;
	size_t nfree;
	size_t free_slot[TAP_MAX_CONNS]; /* a stack of free slot numbers */
	/* Only the descriptors polled this tick, packed: poll() refuses more entries than
	 * RLIMIT_NOFILE (EINVAL), even ones with fd -1. owner[k] is 2 * slot + side, -1 for
	 * the listener, -2 for the caller's output (hooks.out_fd). */
	struct pollfd pfd[2 + 2 * TAP_MAX_CONNS];
	int owner[2 + 2 * TAP_MAX_CONNS];
	short rev[TAP_MAX_CONNS][2];
	struct tap_conn conn[TAP_MAX_CONNS];
};

static const char *const side_name[2] = {"client", "server"};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tap_addr_parse(struct tap_addr *a, const char *hostport, char *err, size_t errlen)
{
	char host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	struct addrinfo hints, *res = NULL, *pick;
	const char *why;
	int rc;

	if (addr_split(hostport, host, port, &why) != 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	if (res == NULL) {
		snprintf(err, errlen, "cannot resolve '%s': no address", host);
		return -1;
	}
	pick = res;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	if (pick->ai_addrlen > sizeof(a->ss)) {
		freeaddrinfo(res);
		snprintf(err, errlen, "cannot use the address of '%s'", host);
		return -1;
	}
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, pick->ai_addr, pick->ai_addrlen);
	a->len = pick->ai_addrlen;
	freeaddrinfo(res);
	addr_format((const struct sockaddr *)&a->ss, a->text);
	return 0;
}

int
tap_addr_is_self(const struct tap_addr *listen, const struct tap_addr *upstream)
{
	if (listen->ss.ss_family != upstream->ss.ss_family)
		return 0;
	if (listen->ss.ss_family == AF_INET) {
		const struct sockaddr_in *l = (const struct sockaddr_in *)&listen->ss;
		const struct sockaddr_in *u = (const struct sockaddr_in *)&upstream->ss;

		return l->sin_port == u->sin_port &&
		       (l->sin_addr.s_addr == u->sin_addr.s_addr ||
			(l->sin_addr.s_addr == htonl(INADDR_ANY) &&
			 (ntohl(u->sin_addr.s_addr) >> 24) == IN_LOOPBACKNET));
	}
	if (listen->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)&listen->ss;
		const struct sockaddr_in6 *u = (const struct sockaddr_in6 *)&upstream->ss;

		return l->sin6_port == u->sin6_port &&
		       (IN6_ARE_ADDR_EQUAL(&l->sin6_addr, &u->sin6_addr) ||
			(IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr) &&
			 IN6_IS_ADDR_LOOPBACK(&u->sin6_addr)));
	}
	return 0;
}

struct tap_relay *
tap_relay_new(int listen_fd, const struct tap_addr *upstream, int idle_ms,
	      const struct tap_hooks *hooks)
{
	/* One allocation for every slot and buffer, at start-up; nothing is allocated later. */
	struct tap_relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->listen_fd = listen_fd;
	r->spare_fd = -1;
	r->accept_paused_at = -1;
	r->idle_ms = idle_ms;
	r->upstream = *upstream;
	r->hooks = *hooks;
	for (size_t i = 0; i < TAP_MAX_CONNS; i++) {
		r->conn[i].state = TAP_FREE;
		r->conn[i].fd[0] = r->conn[i].fd[1] = -1;
		r->free_slot[i] = TAP_MAX_CONNS - 1 - i;
	}
	r->nfree = TAP_MAX_CONNS;
	return r;
}

static size_t
slot_of(const struct tap_relay *r, const struct tap_conn *c)
{
	return (size_t)(c - r->conn);
}

__attribute__((format(printf, 2, 3))) static void
relay_warn(struct tap_relay *r, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (r->hooks.warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->hooks.warn(r->hooks.arg, text);
}

/*
 * End the connection and free its slot. With reset, the sockets are closed with SO_LINGER 0,
 * which sends RST: a reset on one side is passed on to the other, as a wire would.
 */
static void
conn_end(struct tap_relay *r, struct tap_conn *c, enum tap_end end, int reset, const char *reason)
{
	for (int side = 0; side < 2; side++) {
		if (c->fd[side] < 0)
			continue;
		if (reset) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(c->fd[side], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c->fd[side]);
		c->fd[side] = -1;
	}
	if (r->hooks.close != NULL)
		r->hooks.close(r->hooks.arg, slot_of(r, c), c->id, end, reason, c->bytes);
	c->state = TAP_FREE;
	r->free_slot[r->nfree++] = slot_of(r, c);
}

static void
conn_fail(struct tap_relay *r, struct tap_conn *c, int side, int e)
{
	char reason[160];
	int reset = e == ECONNRESET || e == EPIPE;

	if (reset && c->first_end == side)
		/* The end of many TLS connections: the server answers and closes, the client's
		 * close_notify follows, and a closed socket answers bytes with a reset. */
		snprintf(reason, sizeof(reason),
			 "%s reset the connection after closing its side (the %s sent more, as "
			 "TLS's close_notify does, to a closed socket)",
			 side_name[side], side_name[!side]);
	else if (reset)
		snprintf(reason, sizeof(reason), "%s reset the connection", side_name[side]);
	else if (e == ETIMEDOUT)
		snprintf(reason, sizeof(reason), "%s timed out", side_name[side]);
	else
		snprintf(reason, sizeof(reason), "%s: %s", side_name[side], strerror(e));
	conn_end(r, c, TAP_END_RESET, 1, reason);
}

/* Nothing crossed for the idle timeout: close both sides and free the slot for others. */
static void
conn_idle(struct tap_relay *r, struct tap_conn *c)
{
	char reason[160];
	size_t held = c->pipe[TAP_C2S].len + c->pipe[TAP_S2C].len;

	if (held == 0) {
		snprintf(reason, sizeof(reason),
			 "no traffic either way for %g s; the tap closed both sides",
			 r->idle_ms / 1000.0);
		conn_end(r, c, TAP_END_IDLE, 0, reason);
		return;
	}
	/* A side stopped reading with bytes still held here. They are lost, and a reset says
	 * so, where a FIN would pass the cut stream off as a whole one. */
	snprintf(reason, sizeof(reason),
		 "no traffic either way for %g s; the tap reset both sides, %zu bytes "
		 "undelivered (a side stopped reading)",
		 r->idle_ms / 1000.0, held);
	conn_end(r, c, TAP_END_IDLE, 1, reason);
}

/* Something crossed: the idle clock starts again. While connecting, the connect deadline
 * stands; the idle clock starts when the upstream answers. */
static void
conn_touch(const struct tap_relay *r, struct tap_conn *c, int64_t now)
{
	if (c->state == TAP_RELAYING)
		c->deadline = now + r->idle_ms;
}

/* The upstream could not be reached (e: an errno, ETIMEDOUT for our own deadline). */
static void
upstream_down(struct tap_relay *r, struct tap_conn *c, int e)
{
	char reason[ADDR_TEXT_MAX + 160];

	if (e == ECONNREFUSED)
		snprintf(reason, sizeof(reason),
			 "cannot connect to upstream %s: connection refused "
			 "(is the server running?); closed the client",
			 r->upstream.text);
	else if (e == ETIMEDOUT)
		snprintf(reason, sizeof(reason),
			 "cannot connect to upstream %s: no answer within "
			 "%d s; closed the client",
			 r->upstream.text, TAP_CONNECT_MS / 1000);
	else
		snprintf(reason, sizeof(reason),
			 "cannot connect to upstream %s: %s; closed the client", r->upstream.text,
			 strerror(e));
	conn_end(r, c, TAP_END_UPSTREAM_DOWN, 0, reason);
}

static int
upstream_socket(const struct tap_relay *r)
{
	return socket(r->upstream.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void
upstream_start(struct tap_relay *r, struct tap_conn *c, int64_t now)
{
	int fd = r->spare_fd, one = 1;

	r->spare_fd = -1;
	if (fd < 0)
		fd = upstream_socket(r);
	if (fd < 0) {
		upstream_down(r, c, errno);
		return;
	}
	c->fd[SIDE_SERVER] = fd;
	/* The tap must not change the timing it shows: forward each chunk as it comes. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&r->upstream.ss, r->upstream.len) == 0) {
		c->state = TAP_RELAYING;
		c->deadline = now + r->idle_ms;
	} else if (errno == EINPROGRESS) {
		c->state = TAP_CONNECTING;
		c->deadline = now + TAP_CONNECT_MS;
	} else {
		upstream_down(r, c, errno);
	}
}

static int
out_of_descriptors(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/* Out of descriptors (e): stop accepting for TAP_ACCEPT_PAUSE_MS, saying so once a run. */
static void
accept_pause(struct tap_relay *r, int e, int64_t now)
{
	/* The listener stays readable, so retry later rather than spin; connections keep
	 * waiting in the backlog meanwhile. */
	r->accept_pause_until = now + TAP_ACCEPT_PAUSE_MS;
	if (r->accept_paused_at >= 0)
		return;
	r->accept_paused_at = now;
	relay_warn(r, "accept paused: %s; new clients wait in the backlog", strerror(e));
}

/* accept() got a descriptor again (a client, or EAGAIN: none is waiting any more). */
static void
accept_resume(struct tap_relay *r, int64_t now)
{
	if (r->accept_paused_at < 0)
		return;
	relay_warn(r, "accept resumed after %.1f s", (double)(now - r->accept_paused_at) / 1000);
	r->accept_paused_at = -1;
}

static void
accept_all(struct tap_relay *r, volatile sig_atomic_t *stop, int64_t now)
{
	while (r->nfree > 0 && !*stop) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct tap_conn *c;
		char peer[ADDR_TEXT_MAX];
		int fd = -1, one = 1;

		/* The upstream socket first: out of descriptors, a client waits in the backlog
		 * instead of being accepted only to be closed. Any other failure is reported
		 * with the client, by upstream_start. */
		if (r->spare_fd < 0)
			r->spare_fd = upstream_socket(r);
		if (r->spare_fd >= 0 || !out_of_descriptors(errno))
			fd = accept4(r->listen_fd, (struct sockaddr *)&ss, &len,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* accept4() takes a descriptor before it looks at the backlog, so EAGAIN
			 * too says descriptors are back. */
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				accept_resume(r, now);
				return;
			}
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM */
			accept_pause(r, errno, now);
			return;
		}
		accept_resume(r, now);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = &r->conn[r->free_slot[--r->nfree]];
		for (int d = 0; d < 2; d++) {
			c->pipe[d].flow = TAP_FLOW_OPEN;
			c->pipe[d].off = c->pipe[d].len = 0;
			c->bytes[d] = 0;
		}
		c->fd[SIDE_CLIENT] = fd;
		c->fd[SIDE_SERVER] = -1;
		c->id = ++r->next_id;
		c->first_end = -1;
		c->state = TAP_CONNECTING;
		addr_format((const struct sockaddr *)&ss, peer);
		if (r->hooks.open != NULL)
			r->hooks.open(r->hooks.arg, slot_of(r, c), c->id, peer);
		upstream_start(r, c, now);
	}
}

/* Poll events wanted on one side, derived from the state and the pipes. */
static short
conn_events(const struct tap_conn *c, int side)
{
	const struct tap_pipe *in = &c->pipe[side], *out = &c->pipe[1 - side];
	short ev = 0;

	if (c->state == TAP_FREE)
		return 0;
	if (c->state == TAP_CONNECTING && side == SIDE_SERVER)
		return POLLOUT;
	/* While connecting, the client may already send: its bytes wait in pipe[TAP_C2S]. */
	if (in->flow == TAP_FLOW_OPEN && in->len < TAP_BUF_SIZE)
		ev |= POLLIN;
	if (c->state == TAP_RELAYING && out->len > 0)
		ev |= POLLOUT;
	return ev;
}

/* Read once from side into its pipe. Returns -1 if the connection ended. */
static int
pipe_read(struct tap_relay *r, struct tap_conn *c, int side, int64_t now)
{
	struct tap_pipe *p = &c->pipe[side];
	uint8_t *at;
	ssize_t n;

	if (p->flow != TAP_FLOW_OPEN || p->len == TAP_BUF_SIZE)
		return 0;
	if (p->off + p->len == TAP_BUF_SIZE) {
		memmove(p->buf, p->buf + p->off, p->len);
		p->off = 0;
	}
	at = p->buf + p->off + p->len;
	n = recv(c->fd[side], at, TAP_BUF_SIZE - p->off - p->len, 0);
	if (n > 0) {
		if (r->hooks.data != NULL)
			r->hooks.data(r->hooks.arg, slot_of(r, c), c->id, (enum tap_dir)side, at,
				      (size_t)n);
		p->len += (size_t)n;
		c->bytes[side] += (uint64_t)n;
		conn_touch(r, c, now);
	} else if (n == 0) {
		p->flow = TAP_FLOW_DRAIN;
		if (c->first_end < 0)
			c->first_end = side;
		conn_touch(r, c, now);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_fail(r, c, side, errno);
		return -1;
	}
	return 0;
}

/* Write what pipe dir holds to its destination; forward its end once it is empty. */
static int
pipe_flush(struct tap_relay *r, struct tap_conn *c, int dir, int64_t now)
{
	struct tap_pipe *p = &c->pipe[dir];
	int dst = 1 - dir;

	while (p->len > 0) {
		/* MSG_NOSIGNAL: a peer gone mid-write is an EPIPE here, never a SIGPIPE. */
		ssize_t n = send(c->fd[dst], p->buf + p->off, p->len, MSG_NOSIGNAL);
		if (n > 0) {
			p->off += (size_t)n;
			p->len -= (size_t)n;
			conn_touch(r, c, now);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			conn_fail(r, c, dst, n < 0 ? errno : EPIPE);
			return -1;
		}
	}
	if (p->len == 0)
		p->off = 0;
	if (p->flow == TAP_FLOW_DRAIN && p->len == 0) {
		/* Half-close: the destination learns that this direction ended, and may still
		 * answer (an HTTP/1.0 client that shuts down after its request). */
		shutdown(c->fd[dst], SHUT_WR);
		p->flow = TAP_FLOW_DONE;
	}
	return 0;
}

static void
conn_step(struct tap_relay *r, struct tap_conn *c, const short rev[2], int64_t now)
{
	char reason[64];

	if (c->state == TAP_CONNECTING && rev[SIDE_SERVER] != 0) {
		int e = 0;
		socklen_t len = sizeof(e);

		if (getsockopt(c->fd[SIDE_SERVER], SOL_SOCKET, SO_ERROR, &e, &len) != 0)
			e = errno;
		if (e != 0) {
			upstream_down(r, c, e);
			return;
		}
		c->state = TAP_RELAYING;
		c->deadline = now + r->idle_ms;
	}
	for (int side = 0; side < 2; side++)
		if ((rev[side] & (POLLIN | POLLHUP | POLLERR)) && (conn_events(c, side) & POLLIN))
			if (pipe_read(r, c, side, now) < 0)
				return;
	if (c->state != TAP_RELAYING)
		return;
	for (int dir = 0; dir < 2; dir++)
		if (pipe_flush(r, c, dir, now) < 0)
			return;
	if (c->pipe[TAP_C2S].flow == TAP_FLOW_DONE && c->pipe[TAP_S2C].flow == TAP_FLOW_DONE) {
		snprintf(reason, sizeof(reason), "%s closed first", side_name[c->first_end]);
		conn_end(r, c, TAP_END_CLOSED, 0, reason);
	}
}

/*
 * While accepts are paused they are retried every TAP_ACCEPT_PAUSE_MS, whether or not a
 * client waits, so that their resuming is seen (and timed) when descriptors come back, not
 * when the next client happens to come. Not while every slot is busy: then there is nothing
 * to accept into, and a due retry would make poll() spin.
 */
static int
accept_retry_wanted(const struct tap_relay *r)
{
	return r->accept_paused_at >= 0 && r->nfree > 0;
}

static int
poll_timeout(const struct tap_relay *r, int64_t now)
{
	int64_t next = -1;

	if (r->accept_pause_until > now || accept_retry_wanted(r))
		next = r->accept_pause_until;
	/* XXX: O(TAP_MAX_CONNS) per tick; fine for 128 slots, as Redis notes of its timers.
	 * Every connection has a deadline: the connect's, or the idle timeout's. */
	for (size_t i = 0; i < TAP_MAX_CONNS; i++)
		if (r->conn[i].state != TAP_FREE && (next < 0 || r->conn[i].deadline < next))
			next = r->conn[i].deadline;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* The caller's output failed underneath it: say so once, and watch it no more (POLLERR and
 * POLLHUP stay set, so polling it again would spin). */
static void
out_check(struct tap_relay *r, short revents)
{
	if (!(revents & (POLLERR | POLLHUP | POLLNVAL)))
		return;
	r->hooks.out_fd = -1;
	if (r->hooks.out_gone)
		r->hooks.out_gone(r->hooks.arg, revents);
}

/* Fill r->pfd with what to poll this tick, interest derived from state. Returns the count. */
static nfds_t
build_pollset(struct tap_relay *r, int64_t now)
{
	nfds_t nfds = 0;

	if (r->nfree > 0 && now >= r->accept_pause_until) {
		r->pfd[nfds] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
		r->owner[nfds++] = -1;
	}
	if (r->hooks.out_fd >= 0) {
		/* No events asked: poll() still reports POLLERR and POLLHUP. */
		r->pfd[nfds] = (struct pollfd){.fd = r->hooks.out_fd, .events = 0};
		r->owner[nfds++] = -2;
	}
	for (size_t i = 0; i < TAP_MAX_CONNS; i++)
		for (int side = 0; side < 2; side++) {
			short ev = conn_events(&r->conn[i], side);
			/* A side we want nothing from is left out: a hung-up socket would
			 * otherwise report POLLHUP on every tick, a busy loop. */
			if (ev == 0)
				continue;
			r->pfd[nfds] = (struct pollfd){.fd = r->conn[i].fd[side], .events = ev};
			r->owner[nfds++] = (int)(2 * i) + side;
		}
	return nfds;
}

/* Hand poll()'s answers to their owners: r->rev per connection side, the output's failure to
 * out_check. Returns 1 if the listener has a client waiting. */
static int
sort_revents(struct tap_relay *r, nfds_t nfds)
{
	int listener_ready = 0;

	memset(r->rev, 0, sizeof(r->rev));
	for (nfds_t k = 0; k < nfds; k++) {
		if (r->owner[k] == -1)
			listener_ready = (r->pfd[k].revents & POLLIN) != 0;
		else if (r->owner[k] == -2)
			out_check(r, r->pfd[k].revents);
		else
			r->rev[r->owner[k] / 2][r->owner[k] % 2] = r->pfd[k].revents;
	}
	return listener_ready;
}

/* Step every connection poll() found ready, and end those past their deadline. */
static void
step_all(struct tap_relay *r, volatile sig_atomic_t *stop, int64_t now)
{
	/* A hook may set *stop (the tap's stdout failed): then step no other connection and
	 * accept no one, only to close them all after. */
	for (size_t i = 0; i < TAP_MAX_CONNS && !*stop; i++) {
		struct tap_conn *c = &r->conn[i];

		if (c->state == TAP_FREE)
			continue;
		if (r->rev[i][0] != 0 || r->rev[i][1] != 0)
			conn_step(r, c, r->rev[i], now);
		if (c->state == TAP_CONNECTING && now >= c->deadline)
			upstream_down(r, c, ETIMEDOUT);
		else if (c->state == TAP_RELAYING && now >= c->deadline)
			conn_idle(r, c);
	}
}

int
tap_relay_run(struct tap_relay *r, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	sigset_t stop_signals, waiting;
	int rc = 0;

	/* SIGINT/SIGTERM are unblocked only inside ppoll(): one landing after the check of
	 * *stop cannot leave the relay asleep with no timeout (squirrel-server does the same). */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	while (!*stop) {
		int64_t now = now_ms();
		nfds_t nfds = build_pollset(r, now);
		int n, timeout = poll_timeout(r, now), listener_ready;
		struct timespec ts = {.tv_sec = timeout / 1000,
				      .tv_nsec = (long)(timeout % 1000) * 1000000};

		n = ppoll(r->pfd, nfds, timeout < 0 ? NULL : &ts, &waiting);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		listener_ready = sort_revents(r, nfds);
		now = now_ms();
		step_all(r, stop, now);
		if (listener_ready || (accept_retry_wanted(r) && now >= r->accept_pause_until))
			accept_all(r, stop, now);
	}
	for (size_t i = 0; i < TAP_MAX_CONNS; i++)
		if (r->conn[i].state != TAP_FREE)
			conn_end(r, &r->conn[i], TAP_END_STOPPED, 0, "the tap is stopping");
	sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
	return rc;
}

void
tap_relay_free(struct tap_relay *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < TAP_MAX_CONNS; i++)
		for (int side = 0; side < 2; side++)
			if (r->conn[i].fd[side] >= 0)
				close(r->conn[i].fd[side]);
	if (r->spare_fd >= 0)
		close(r->spare_fd);
	free(r);
}
