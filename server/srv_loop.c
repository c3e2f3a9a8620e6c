/*
 * The poll() loop. Slot i is pfd[1 + i]; a free slot has fd -1, which poll() skips. The
 * events each slot waits for are whatever conn_step() last returned, so interest is derived
 * from the connection's state and never stored twice.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/random.h>

#include "addr.h"
#include "clock.h"
#include "conn.h"
#include "listener.h"
#include "srv.h"

volatile sig_atomic_t srv_stop_requested, srv_reload_requested;

int
srv_listen(const char *hostport, int reuseport, int defer_s, char *err, size_t errlen)
{
	int fd = listener_open_hostport(hostport, reuseport ? LISTENER_REUSEPORT : 0, err, errlen);
	int zero = 0;

	if (fd < 0)
		return -1;
	/* Optimisations only: a kernel without them accepts all the same. */
	if (defer_s > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s));
	/* A new connection starts in quick-ACK mode, so its first request gets a bare ACK of
	 * its own, although our answer (or ServerHello) follows within microseconds and carries
	 * the ACK anyway. Accepted sockets inherit this from the listener (Linux): one packet
	 * less per connection, which the client's CPU pays for on loopback. The delayed-ACK
	 * timer still acks a request we are slow to answer, and leaves this mode when it fires. */
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
	return fd;
}

static void
slot_free(struct srv *s, int i)
{
	s->pfd[1 + i].fd = -1;
	s->pfd[1 + i].events = 0;
	s->pfd[1 + i].revents = 0;
	s->free_map[(unsigned)i / 64] |= UINT64_C(1) << ((unsigned)i % 64);
	if ((int)((unsigned)i / 64) < s->free_hint)
		s->free_hint = (int)((unsigned)i / 64);
	s->nfree++;
	s->nactive--;
	while (s->high > 0 && s->pfd[s->high].fd < 0)
		s->high--;
}

/* The lowest free slot, taken; -1 if none. */
static int
slot_take(struct srv *s)
{
	int words = (s->nslots + 63) / 64;

	for (int w = s->free_hint; w < words; w++) {
		if (s->free_map[w] != 0) {
			int i = w * 64 + __builtin_ctzll(s->free_map[w]);

			s->free_map[w] &= s->free_map[w] - 1;
			s->free_hint = w;
			s->nfree--;
			s->nactive++;
			if (s->nactive > s->trim_peak)
				s->trim_peak = s->nactive;
			if (1 + i > s->high)
				s->high = 1 + i;
			return i;
		}
	}
	return -1;
}

/* Record what conn_step() asked for; keep the count of TLS-pending slots exact. */
static void
set_events(struct srv *s, int i, short ev, int was_pending)
{
	s->npending += s->conns[i].pending - was_pending;
	if (ev == 0)
		slot_free(s, i);
	else
		s->pfd[1 + i].events = ev;
}

static void
step(struct srv *s, int i)
{
	int was = s->conns[i].pending;

	set_events(s, i, conn_step(s, &s->conns[i]), was);
}

/* Slots for as many connections as descriptors allow, with some kept in reserve. */
static int
slot_count(int wanted)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)wanted + SRV_FD_RESERVE > rl.rlim_cur)
			wanted = (int)rl.rlim_cur - SRV_FD_RESERVE;
	}
	return wanted;
}

int
srv_init(struct srv *s, const struct srv_config *cfg, int lfd, char *err, size_t errlen)
{
	size_t token_len = cfg->fernet ? fernet_token_len(cfg->message_len) : 0;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->lfd = lfd;
	s->nslots = slot_count(cfg->max_conns);
	if (s->nslots < 1) {
		snprintf(err, errlen, "too few file descriptors (raise 'ulimit -n')");
		return -1;
	}
	s->conns = calloc((size_t)s->nslots, sizeof(*s->conns));
	s->free_map = calloc((size_t)(s->nslots + 63) / 64, sizeof(*s->free_map));
	s->pfd = calloc((size_t)s->nslots + 1, sizeof(*s->pfd));
	if (s->conns == NULL || s->free_map == NULL || s->pfd == NULL) {
		snprintf(err, errlen, "out of memory for %d connection slots", s->nslots);
		return -1;
	}
	for (unsigned i = 0; i < (unsigned)s->nslots; i++) {
		s->free_map[i / 64] |= UINT64_C(1) << (i % 64);
		s->pfd[1 + i].fd = -1;
		tr_clear(&s->conns[i].t);
	}
	s->nfree = s->nslots;
	s->nactive = 0;
	bufpool_init(&s->small, BUF_SMALL);
	bufpool_init(&s->pool, BUF_SIZE);
	s->pfd[0].fd = lfd;
	s->pfd[0].events = POLLIN;
	if (cfg->fernet) {
		s->rng = wc_rng_new(NULL, 0, NULL);
		fernet_ivs_init(&s->ivs);
		if (s->rng == NULL) {
			snprintf(err, errlen, "cannot start the random number generator");
			return -1;
		}
	}
	if (resp_init(&s->resp, cfg->message, cfg->message_len, token_len, (int64_t)time(NULL)) <
	    0) {
		snprintf(err, errlen, "the message is too long (at most %d bytes)",
			 SRV_MAX_MESSAGE);
		return -1;
	}
	for (int id = 0; id < RESP_COUNT; id++)
		for (int cn = 0; cn < RESP_CONN_COUNT; cn++) {
			size_t len = s->resp.r[id][cn].len + (id == RESP_SECRET ? token_len : 0) +
				     (id == RESP_400 ? RESP_WHY_MAX + 8 : 0); /* resp_format_400 */

			if (len > s->max_response)
				s->max_response = len;
		}
	s->max_response += sizeof(RESP_CONTINUE) - 1; /* may precede an answer (conn.c) */
	alog_init(&s->log, STDERR_FILENO, cfg->quiet);
	s->now_ms = clock_ms();
	s->next_sweep_ms = INT64_MAX; /* nothing to sweep until a connection is armed */
	return 0;
}

/* The first accept after an episode of EMFILE (or the like) closes the episode in the log. */
static void
accept_resumed(struct srv *s)
{
	char what[64];
	int64_t ms = s->now_ms - s->accept_paused_ms;

	snprintf(what, sizeof(what), "accept resumed after %lld.%lld s", (long long)(ms / 1000),
		 (long long)(ms % 1000 / 100));
	alog_event(&s->log, (int64_t)time(NULL), "-", what, NULL);
	s->accept_paused_ms = 0;
}

/*
 * Accept one connection and step it at once: the request (or ClientHello) has usually come
 * with it (TCP_DEFER_ACCEPT), so a plain one is often answered and closed right here.
 * Returns 1 if there may be more to accept, 0 if not now.
 */
static int
accept_one(struct srv *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, i;

	fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			return 1;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* Out of descriptors: the listener stays readable, so polling it would spin.
		 * Pause accepts briefly; queued peers wait in the backlog. Said once per
		 * episode, not at every retry, or the log would fill itself. */
		s->accept_resume_ms = s->now_ms + SRV_ACCEPT_PAUSE_MS;
		if (!s->accept_paused_ms) {
			char why[160];

			snprintf(why, sizeof(why), "%s; new clients wait in the backlog",
				 strerror(errno));
			s->accept_paused_ms = s->now_ms;
			alog_event(&s->log, (int64_t)time(NULL), "-", "accept paused", why);
		}
		return 0;
	}
	if (s->accept_paused_ms)
		accept_resumed(s);
	i = slot_take(s);
	s->pfd[1 + i].fd = fd;
	s->pfd[1 + i].revents = 0;
	if (conn_open(s, &s->conns[i], fd, (struct sockaddr *)&ss, s->cfg->mode == SRV_TLS) < 0) {
		slot_free(s, i);
		return 1;
	}
	step(s, i);
	return 1;
}

/*
 * Expire what is due and slim what waits; then sleep until the earliest deadline left, but
 * no sooner than a tick: the sweep is O(connections), so it runs at most once a tick however
 * many deadlines fall in between (conn.c's arm() keeps to the same rule).
 */
static void
sweep(struct srv *s)
{
	s->last_sweep_ms = s->now_ms;
	s->next_sweep_ms = INT64_MAX;
	for (int i = 0; i < s->high; i++) {
		struct conn *c = &s->conns[i];

		if (s->pfd[1 + i].fd < 0)
			continue;
		if (c->deadline_ms <= s->now_ms) {
			int was = c->pending;

			c->pending = 0;
			set_events(s, i, conn_expire(s, c), was);
			if (s->pfd[1 + i].fd < 0)
				continue;
		} else if (conn_wants_slim(c)) {
			/* Waiting for a request, handshake done: it may wait long (idle, slowloris).
			 * Here, not at every wait, so a connection that lives a millisecond never
			 * pays for it. */
			tr_slim(&c->t);
			c->slimmed = 1;
		}
		if (c->deadline_ms < s->next_sweep_ms)
			s->next_sweep_ms = c->deadline_ms;
	}
	if (s->next_sweep_ms < s->now_ms + SRV_TICK_MS)
		s->next_sweep_ms = s->now_ms + SRV_TICK_MS;
}

/*
 * Give freed memory back to the system once a burst of connections is mostly gone. glibc
 * returns only the top of the heap by itself, so one allocation that outlives a flood of
 * handshakes would pin the whole flood's memory. A trim comes when three quarters of the
 * connections seen since the last one have closed; a burst earns three more, for the
 * stragglers, so it is given back down to the last connection in O(log n) trims.
 */
static void
trim_after_burst(struct srv *s)
{
	if ((s->trim_peak >= SRV_TRIM_BURST || s->trim_tail > 0) &&
	    s->nactive <= s->trim_peak / 4) {
		malloc_trim(0);
		s->trim_tail = s->trim_peak >= SRV_TRIM_BURST ? 3 : s->trim_tail - 1;
		if (s->nactive == 0)
			s->trim_tail = 0;
		s->trim_peak = s->nactive;
	}
}

static void
begin_stop(struct srv *s)
{
	s->stopping = 1;
	s->stop_deadline_ms = s->now_ms + SRV_STOP_MS;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	s->pfd[0].fd = -1;
	for (int i = 0; i < s->high; i++) {
		struct conn *c = &s->conns[i];

		if (s->pfd[1 + i].fd >= 0 && (conn_is_idle(c) || c->state == CONN_HANDSHAKE)) {
			s->npending -= c->pending;
			c->pending = 0;
			conn_close(s, c, NULL);
			slot_free(s, i);
		}
	}
}

/*
 * poll() refuses more entries than RLIMIT_NOFILE (EINVAL): the limit was lowered under us
 * (prlimit). Move connections down into free slots so the array is as short as the number
 * of connections; if they alone exceed the limit, close the highest ones.
 */
static void
fit_descriptor_limit(struct srv *s)
{
	struct rlimit rl;
	int limit = INT32_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)INT32_MAX)
		limit = (int)rl.rlim_cur;
	for (int i = s->high - 1; i >= 0; i--) {
		int j;

		if (s->pfd[1 + i].fd < 0)
			continue;
		j = slot_take(s);
		if (j < 0 || j >= i) {
			if (j >= 0)
				slot_free(s, j);
			break;
		}
		/* A connection is plain data, except that its transport is known by address to
		 * its TLS session and the read-ahead buffer: tr_moved() points them at the copy.
		 * The old slot is wiped, so nothing can reach the session through it. */
		s->conns[j] = s->conns[i];
		tr_moved(&s->conns[j].t, &s->conns[i].t);
		s->pfd[1 + j] = s->pfd[1 + i];
		memset(&s->conns[i], 0, sizeof(s->conns[i]));
		tr_clear(&s->conns[i].t);
		slot_free(s, i);
	}
	while (s->high + 1 > limit && s->high > 0) {
		int i = s->high - 1;

		s->npending -= s->conns[i].pending;
		conn_close(s, &s->conns[i], "closed: the descriptor limit was lowered below it");
		slot_free(s, i);
	}
	alog_event(&s->log, (int64_t)time(NULL), "-", "poll() refused the slot array",
		   "connections moved to fit the lowered descriptor limit");
}

/* How long poll() may sleep: until the next sweep, accept retry or stop deadline. */
static int
poll_timeout(struct srv *s)
{
	int64_t at = INT64_MAX;

	if (s->npending > 0 || s->more_new)
		return 0;
	if (s->nactive > 0)
		at = s->next_sweep_ms;
	if (s->accept_resume_ms && s->accept_resume_ms < at)
		at = s->accept_resume_ms;
	if (s->stopping && s->stop_deadline_ms < at)
		at = s->stop_deadline_ms;
	/* stderr is not in the poll set: lines it did not take are offered again a tick later. */
	if (alog_pending(&s->log) && s->now_ms + SRV_TICK_MS < at)
		at = s->now_ms + SRV_TICK_MS;
	if (at == INT64_MAX)
		return -1;
	if (at <= s->now_ms)
		return 0;
	return at - s->now_ms > INT_MAX ? INT_MAX : (int)(at - s->now_ms);
}

/*
 * The start of a loop turn: the clock, the stop and reload flags, the listener's interest,
 * and the log. Returns 1 when the server has stopped (every connection gone, or the stop
 * deadline passed).
 */
static int
turn_begins(struct srv *s)
{
	s->now_ms = clock_ms();
	if (srv_stop_requested && !s->stopping)
		begin_stop(s);
	if (srv_reload_requested) {
		srv_reload_requested = 0;
		if (s->on_reload != NULL)
			s->on_reload(s);
	}
	if (s->stopping && (s->nactive == 0 || s->now_ms >= s->stop_deadline_ms))
		return 1;
	if (s->accept_resume_ms && s->now_ms >= s->accept_resume_ms)
		s->accept_resume_ms = 0;
	s->pfd[0].events = (s->nfree > 0 && !s->accept_resume_ms) ? POLLIN : 0;
	alog_flush(&s->log);
	return 0;
}

/* ppoll() until the next deadline, with the stop and reload signals let in (waiting). One
 * that cannot sleep tells what a poll() costs (serve_new's budget). */
static int
wait_events(struct srv *s, const sigset_t *waiting)
{
	int timeout = poll_timeout(s), n;
	int64_t start = timeout == 0 ? clock_us() : 0;
	struct timespec ts;

	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000;
	n = ppoll(s->pfd, (nfds_t)s->high + 1, timeout < 0 ? NULL : &ts, waiting);
	if (timeout == 0)
		s->poll_us = clock_us() - start;
	return n;
}

/*
 * The turn's cheap work: step every slot poll() found ready (n of them), and every one whose
 * transport holds bytes, except handshakes that have not answered their ClientHello yet
 * (counted in s->nfresh): those sign, and wait for serve_new().
 */
static void
serve_ready(struct srv *s, int n)
{
	s->nfresh = 0;
	/* Stop once every ready slot is seen, unless TLS holds bytes somewhere: the scan costs
	 * what poll() reported, not the number of connections. */
	for (int i = 0, high = s->high; i < high && (n > 0 || s->npending > 0); i++) {
		struct conn *c = &s->conns[i];

		if (s->pfd[1 + i].fd < 0)
			continue;
		if (s->pfd[1 + i].revents) {
			n--;
			if (conn_is_fresh_handshake(c))
				s->nfresh++;
			else
				step(s, i);
		} else if (c->pending) {
			step(s, i);
		}
	}
}

/* Whether the turn's new work has had its share (srv.h: SRV_NEW_WORK_US). */
static int
new_work_done(const struct srv *s, int64_t start_us, int started)
{
	int64_t budget = SRV_NEW_WORK_US;

	if (budget < SRV_POLL_SHARE * s->poll_us)
		budget = SRV_POLL_SHARE * s->poll_us;
	return started > 0 && clock_us() - start_us >= budget;
}

/*
 * The turn's expensive work, after the cheap: the handshakes serve_ready() left (from where
 * the last turn stopped, so none waits for ever behind lower slots), then new connections,
 * each stepped at once, until the turn's budget is spent. What is left stays ready in poll().
 */
static void
serve_new(struct srv *s, int listener_ready)
{
	int64_t start = clock_us();
	int started = 0, high = s->high;

	s->more_new = 0;
	for (int k = 0; s->nfresh > 0 && k < high; k++) {
		int i = (s->fresh_next + k) % high;

		if (s->pfd[1 + i].fd < 0 || !s->pfd[1 + i].revents ||
		    !conn_is_fresh_handshake(&s->conns[i]))
			continue;
		if (new_work_done(s, start, started)) {
			s->fresh_next = i;
			s->more_new = 1;
			return;
		}
		s->pfd[1 + i].revents = 0;
		s->nfresh--;
		step(s, i);
		started++;
	}
	for (int taken = 0; listener_ready && s->nfree > 0 && taken < SRV_ACCEPT_BATCH; taken++) {
		if (new_work_done(s, start, started)) {
			s->more_new = 1;
			return;
		}
		if (!accept_one(s))
			return;
		started++;
	}
}

int
srv_loop(struct srv *s)
{
	sigset_t stop_signals, waiting;
	int n, listener, rc = 0;

	/*
	 * The stop and reload signals stay blocked except inside ppoll(), which unblocks them
	 * atomically: a signal that lands after the flags were checked cannot leave poll()
	 * sleeping with an infinite timeout.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_signals, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGHUP);
	while (!turn_begins(s)) {
		n = wait_events(s, &waiting);
		if (n < 0 && errno == EINVAL) {
			fit_descriptor_limit(s);
			continue;
		}
		if (n < 0 && errno != EINTR) {
			alog_event(&s->log, (int64_t)time(NULL), "-", "poll failed",
				   strerror(errno));
			rc = 1;
			break;
		}
		s->now_ms = clock_ms();
		resp_tick(&s->resp, (int64_t)time(NULL));
		/* Finished work first, then new work: srv.h, SRV_NEW_WORK_US. */
		listener = n > 0 && s->pfd[0].fd >= 0 && (s->pfd[0].revents & POLLIN);
		serve_ready(s, n - listener);
		serve_new(s, listener);
		if (s->now_ms >= s->next_sweep_ms)
			sweep(s);
		trim_after_burst(s);
	}
	alog_flush(&s->log);
	sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
	return rc;
}

void
srv_free(struct srv *s)
{
	for (int i = 0; i < s->high; i++)
		if (s->pfd != NULL && s->pfd[1 + i].fd >= 0)
			conn_close(s, &s->conns[i], NULL);
	alog_flush_final(&s->log);
	if (s->lfd >= 0)
		close(s->lfd);
	bufpool_free(&s->small);
	bufpool_free(&s->pool);
	if (s->rng != NULL)
		wc_rng_free(s->rng);
	if (s->ctx != NULL)
		wolfSSL_CTX_free(s->ctx);
	free(s->conns);
	free(s->free_map);
	free(s->pfd);
	s->conns = NULL;
	s->pfd = NULL;
	s->free_map = NULL;
}
