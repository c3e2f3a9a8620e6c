/*
 * relay: the TCP relay under squirrel-tap. Each client that connects to the listener gets
 * its own connection to the upstream, and bytes are forwarded unchanged both ways through a
 * non-blocking poll() loop; a callback sees every chunk as it passes.
 *
 * Its own small loop (not the server's): one slot per client with a fixed buffer per
 * direction, allocated once. Partial writes are resumed, a half-close is forwarded with
 * shutdown(SHUT_WR), a reset on one side resets the other, a side whose peer is slow is
 * not read from until its buffer drains (backpressure), and no connection ever waits on
 * another. Beyond TAP_MAX_CONNS clients, new connections wait in the listen backlog; a
 * connection over which nothing crosses for the idle timeout is closed, so silent clients
 * cannot hold the slots for ever.
 *
 * The relay never prints: it reports through struct tap_hooks, and fills err buffers.
 */
#ifndef SQUIRREL_TAP_RELAY_H
#define SQUIRREL_TAP_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

/* Connections relayed at once: the tests' 100 concurrent fetches fit, and the dissector state
 * (about 17 KiB a connection) plus two buffers stay under 8 MiB. Later clients wait in the
 * kernel's listen backlog (SOMAXCONN) until a slot frees. */
#define TAP_MAX_CONNS 128
/* Bytes held per direction: one full TLS record (16 KiB plus header), so a reader of the dump
 * sees records whole more often; also the largest chunk the dissector gets at once. */
#define TAP_BUF_SIZE (16384 + 5)
/* An upstream that neither accepts nor refuses (a firewall dropping SYNs) is given up on. */
#define TAP_CONNECT_MS 10000
/* A relayed connection over which no byte (nor an end) crosses for this long, either way, is
 * closed on both sides: without it, TAP_MAX_CONNS clients that connect and say nothing lock
 * the tap. 60 s is squirrel-server's idle timeout too; a person typing into a raw connection
 * (nc through the tap) has a minute between lines. --idle-timeout changes it, up to
 * TAP_IDLE_MAX_S. */
#define TAP_IDLE_MS 60000
#define TAP_IDLE_MAX_S 86400
/* After accept() (or the socket for the next upstream) fails for lack of descriptors or
 * memory, wait this long before retrying, instead of spinning on a listener that stays
 * readable. While paused, retry this often even with no client waiting, to see the end. */
#define TAP_ACCEPT_PAUSE_MS 100

enum tap_dir { TAP_C2S = 0, TAP_S2C = 1 };

/* Why a connection ended; the text passed along says it in words. */
enum tap_end {
	TAP_END_CLOSED,        /* both sides finished sending */
	TAP_END_RESET,         /* a side reset the connection or failed; the other was reset */
	TAP_END_UPSTREAM_DOWN, /* the upstream refused or did not answer; the client was closed */
	TAP_END_IDLE,          /* nothing crossed for the idle timeout; both sides were closed */
	TAP_END_STOPPED        /* the tap itself is stopping */
};

struct tap_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[ADDR_TEXT_MAX]; /* as written back: "127.0.0.1:5683", "[::1]:5683" */
};

/*
 * The relay's reports. slot (0..TAP_MAX_CONNS-1) lets the caller keep its own per-connection
 * state in an array; id numbers connections from 1 in the order they were accepted. Each
 * connection gets one open, any number of data, then one close. Pointers passed in are valid
 * only during the call. Any member may be NULL.
 */
struct tap_hooks {
	void *arg;
	void (*open)(void *arg, size_t slot, unsigned long id, const char *peer);
	void (*data)(void *arg, size_t slot, unsigned long id, enum tap_dir dir, const uint8_t *buf,
		     size_t len);
	/* bytes[TAP_C2S] and bytes[TAP_S2C]: what was read from each side. */
	void (*close)(void *arg, size_t slot, unsigned long id, enum tap_end end,
		      const char *reason, const uint64_t bytes[2]);
	/* Not tied to one connection: accepts pausing for lack of descriptors (said once a
	 * pause, not at each retry) and resuming. The relay carries on. */
	void (*warn)(void *arg, const char *text);
	/* The caller's output (the dump on stdout), or -1. It is polled for nothing but its
	 * failure: a pipe whose reader has gone (POLLERR), a terminal hung up (POLLHUP). Then
	 * out_gone is called once with the revents and the fd is not watched again; a caller
	 * that cannot go on sets *stop there. So a tap whose reader left stops at once, not at
	 * the next line it prints. */
	int out_fd;
	void (*out_gone)(void *arg, short revents);
};

struct tap_relay;

/*
 * Parse "HOST:PORT": an IPv4 literal, "[IPv6]" in brackets, or a name (resolved now; IPv4
 * preferred, as the tutorial's servers listen on 127.0.0.1). Returns 0, or -1 with a reason
 * in err ("port must be 1-65535", ...).
 */
int tap_addr_parse(struct tap_addr *a, const char *hostport, char *err, size_t errlen);

/*
 * 1 if connecting to upstream reaches the tap's own listen address: the same address and
 * port, or the same port on a loopback address while listen is the wildcard (0.0.0.0, [::]).
 * Relaying there, each client's upstream connection would be another client, until every
 * slot is taken. Else 0.
 */
int tap_addr_is_self(const struct tap_addr *listen, const struct tap_addr *upstream);

/*
 * A relay from listen_fd (non-blocking, listening; still the caller's to close) to upstream.
 * A relayed connection idle for idle_ms (> 0; TAP_IDLE_MS by default) is closed. upstream
 * and hooks are copied. Returns NULL when out of memory. Free with tap_relay_free().
 */
struct tap_relay *tap_relay_new(int listen_fd, const struct tap_addr *upstream, int idle_ms,
				const struct tap_hooks *hooks);

/*
 * Relay until *stop becomes non-zero, then close every connection (reported with
 * TAP_END_STOPPED). Set it from a signal handler (poll() returns EINTR), or from a hook: no
 * other connection is then stepped and no client accepted before the closing. Returns 0, or
 * -1 with a reason in err if poll() itself fails.
 */
int tap_relay_run(struct tap_relay *r, volatile sig_atomic_t *stop, char *err, size_t errlen);

/* Close anything still open, without reports, and free r. NULL is fine. */
void tap_relay_free(struct tap_relay *r);

#endif
