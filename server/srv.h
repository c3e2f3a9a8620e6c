/*
 * srv: the squirrel server. One process (or one per worker), one poll() loop over
 * preallocated connection slots, one state machine per connection (conn.h).
 */
#ifndef SQUIRREL_SRV_H
#define SQUIRREL_SRV_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>

#include "alog.h"
#include "bufpool.h"
#include "fernet.h"
#include "resp.h"

/* Defaults and limits; every one of them is listed in squirrel-server(1) and docs/security.md. */
#define SRV_DEFAULT_LISTEN "127.0.0.1:5683"
#define SRV_DEFAULT_MESSAGE "fluffy tail"
/* Slots: enough for the 10,000-idle-connections test; capped by RLIMIT_NOFILE at start. */
#define SRV_MAX_CONNS 16384
/* A request head must arrive whole within this, however it is trickled (slowloris). */
#define SRV_HEADER_MS 10000
/* A TLS handshake must finish within this. */
#define SRV_HANDSHAKE_MS 10000
/*
 * A fresh connection reaches accept() once its first bytes have arrived, or after about this
 * many seconds if it stays silent (TCP_DEFER_ACCEPT). HTTP and TLS clients speak first, so the
 * request is then read at once instead of from the poll set; a silent peer waits in the
 * kernel's SYN queue, holding no slot, and starts its header or handshake timeout later.
 */
#define SRV_DEFER_ACCEPT_S 1
/* An idle keep-alive connection is closed after this. */
#define SRV_IDLE_MS 60000
/* A response that makes no progress for this long is abandoned (peer not reading). */
#define SRV_WRITE_MS 10000
/* After answering with a close, keep reading (and discarding) this long, so the peer gets
 * our answer instead of a reset caused by its unread bytes (nginx's lingering close). */
#define SRV_LINGER_MS 2000
/* SIGTERM/SIGINT: in-flight responses get this long to finish. */
#define SRV_STOP_MS 5000
/* Deadlines are checked at most this often: an O(connections) sweep, bounded in cost. The
 * loop sleeps until the earliest deadline, so idle connections cost nothing between. */
#define SRV_TICK_MS 250
/* After accept() fails for want of descriptors, wait this long before trying again,
 * instead of spinning on a listener that stays readable. */
#define SRV_ACCEPT_PAUSE_MS 100
/*
 * New work waits behind finished work. A TLS connection's first step answers its ClientHello,
 * which signs (RSA-2048: about 0.5 ms with the source build of wolfSSL, 2 ms with Debian's),
 * while a request on a connection whose handshake is done costs tens of microseconds. So each
 * loop turn first steps every connection poll() found ready, then accepts new connections and
 * steps the new handshakes, and stops starting new ones once they have taken this long: a
 * request that arrives meanwhile waits for at most about one signature, not for a queue of
 * them. At least one is started per turn, so a flood is still served at the signing rate.
 */
#define SRV_NEW_WORK_US 500
/* ...and at least this many times what the last poll() cost: with 10,000 connections open, a
 * poll() takes about 10 ms, and one handshake per poll() would cut the handshake rate tenfold. */
#define SRV_POLL_SHARE 4
/* At most this many connections accepted per turn, whatever they cost: plain ones are cheap,
 * and 32 still takes wrk's 50 in two turns. */
#define SRV_ACCEPT_BATCH 32
/* Announced request bodies up to this size are read and discarded; larger ones get 413. A
 * chunked body counts its bytes on the wire (size lines, extensions, CRLFs, trailers), and
 * the connection is closed when it passes this. */
#define SRV_MAX_BODY 65536
/* The secret itself; the Fernet token of it must fit in an output buffer. */
#define SRV_MAX_MESSAGE FERNET_MAX_MSG
/* Descriptors kept free for the listener, logs and files opened on SIGHUP. */
#define SRV_FD_RESERVE 16
/* After at least this many connections at once, memory goes back to the system once three
 * quarters of them have gone (a half-done TLS handshake holds about 50 KiB of wolfSSL heap,
 * which malloc would otherwise keep after a flood). */
#define SRV_TRIM_BURST 64

enum srv_mode { SRV_PLAIN, SRV_FERNET, SRV_TLS };

struct srv_config {
	enum srv_mode mode;
	int fernet; /* bodies are Fernet tokens (--mode fernet, or --mode tls --fernet) */
	const char *listen;
	const char *message;
	size_t message_len;
	int quiet;
	int max_conns;
	int header_ms, idle_ms, handshake_ms;
	int defer_accept_s; /* 0: accept at once (see SRV_DEFER_ACCEPT_S) */
	int workers;
	const char *cert, *key, *key_password_file, *client_ca;
	const char *keylog;     /* --keylog FILE (else $SSLKEYLOGFILE): TLS session keys go there */
	struct fernet_ctx fctx; /* the first key of SECRET_KEY, prepared once: it encrypts */
};

struct conn;
struct WOLFSSL_CTX;
struct WC_RNG;

struct srv {
	const struct srv_config *cfg;
	int lfd;
	int nslots;    /* slots allocated (cfg->max_conns, capped) */
	int nactive;   /* slots in use */
	int trim_peak; /* most slots in use at once since memory was last given back */
	int trim_tail; /* further trims owed to the rest of the last burst */
	int high;      /* highest slot index in use + 1: poll() looks no further */
	struct conn *conns;
	uint64_t *free_map; /* bit i set: slot i is free; the lowest free slot is taken first,
			     * so poll() looks at a prefix about as long as the connections */
	int free_hint;      /* no free slot in the words below this one */
	int nfree;
	int npending;             /* slots whose transport holds bytes poll() cannot see */
	int nfresh;               /* ready handshakes left for serve_new() this turn */
	int fresh_next;           /* where serve_new() looks for them first (round robin) */
	int more_new;             /* new work was left for the next turn: poll() must not sleep */
	int64_t poll_us;          /* what the last poll() that did not sleep took */
	struct pollfd *pfd;       /* [0] listener, [1 + i] slot i */
	int64_t now_ms;           /* monotonic clock, read once per loop */
	int64_t next_sweep_ms;    /* the earliest deadline, or a tick after the last sweep */
	int64_t last_sweep_ms;    /* the next sweep comes no sooner than a tick after this */
	int64_t accept_resume_ms; /* accept paused until then (EMFILE), 0 if not */
	int64_t accept_paused_ms; /* when accepts first failed in this episode, 0 if they work */
	int stopping;
	int64_t stop_deadline_ms;
	struct bufpool small; /* BUF_SMALL: where every request head starts */
	struct bufpool pool;  /* BUF_SIZE: heads that outgrew a small buffer, and answers */
	struct resp_table resp;
	struct alog log;
	struct WOLFSSL_CTX *ctx;          /* TLS mode: for new connections; replaced on SIGHUP */
	struct WC_RNG *rng;               /* Fernet IVs */
	struct fernet_ivs ivs;            /* drawn from rng in batches */
	void (*on_reload)(struct srv *s); /* SIGHUP, set by main() */
	size_t max_response; /* the largest answer: room kept free before parsing another */
	char scratch[4096];  /* bytes read only to be dropped (lingering close) */
};

/* Signals set these; the loop acts on them (handlers only set flags). srv_stop_requested
 * holds the signal that asked for the stop (SIGINT, SIGTERM), 0 until then. */
extern volatile sig_atomic_t srv_stop_requested, srv_reload_requested;

/* Allocate slots and buffers for s, listening on lfd. 0, or -1 with err filled. */
int srv_init(struct srv *s, const struct srv_config *cfg, int lfd, char *err, size_t errlen);
/* Run until stopped by a signal. Returns the exit status. */
int srv_loop(struct srv *s);
void srv_free(struct srv *s);

/*
 * Open the listening socket for "HOST:PORT" (listener.h; SO_REUSEPORT when reuseport), with
 * TCP_DEFER_ACCEPT of defer_s seconds (0: none) and quick ACKs off. fd, or -1 with err filled.
 */
int srv_listen(const char *hostport, int reuseport, int defer_s, char *err, size_t errlen);

#endif
