/*
 * alog: the access log, one line per request (and one per connection that fails before a
 * request), on stderr. Lines are gathered in a buffer and written once per loop iteration,
 * so logging costs no system call per request; a line is never split.
 *
 *   2026-11-28T10:41:47Z 127.0.0.1:40112 "GET /" 200 11 41us
 *   2026-11-28T10:41:48Z 127.0.0.1:40114 "- -" 400 0 12us (bare CR)
 *   2026-11-28T10:41:49Z 127.0.0.1:40116 tls handshake failed: unknown_ca
 *   2026-11-28T10:41:50Z 127.0.0.1:40118 "GET /" 200 11 52us TLSv1.3 TLS_AES_128_GCM_SHA256 X25519
 *
 * Client-controlled text (method, target) is escaped and cut short: no log injection. The
 * body is never logged, so neither is the secret.
 *
 * The loop never waits for stderr: a pipe nobody drains, or a terminal paused with Ctrl-S,
 * would stop every connection. Lines wait in the buffer until stderr takes them; when it is
 * full, new lines are dropped whole and counted, and once there is room again one line says
 * "N log lines dropped: standard error was not being read". stderr's file description is
 * shared with whoever started us, so it is never made non-blocking: a pipe or terminal is
 * asked with poll() first, a socket is written with MSG_DONTWAIT, a file is just written.
 */
#ifndef SQUIRREL_ALOG_H
#define SQUIRREL_ALOG_H

#include <stddef.h>
#include <stdint.h>

#include "nowait.h"

#define ALOG_BUF 65536
/* At exit, how long in all the last lines may wait for stderr to take them. */
#define ALOG_EXIT_MS 1000
/* Longest target written to the log; the rest is replaced by "...". */
#define ALOG_TARGET_MAX 200

struct alog {
	int fd;
	int quiet;
	enum nowait_kind kind;
	uint64_t dropped; /* lines dropped since the last note saying so */
	size_t len;
	int64_t stamp_sec;
	char stamp[24];
	char buf[ALOG_BUF];
};

void alog_init(struct alog *l, int fd, int quiet);

struct tr_info;

/* A request: method and target as received (may be NULL for "-"), status, body bytes,
 * microseconds from its first byte to its answer, its TLS session (NULL for plain HTTP:
 * version, IANA suite name, key exchange group, and "resumed" for a resumed session), and a
 * reason for rejections (or NULL). */
void alog_request(struct alog *l, int64_t now_sec, const char *peer, const char *method,
		  size_t method_len, const char *target, size_t target_len, int status,
		  size_t bytes, int64_t usec, const struct tr_info *tls, const char *why);

/* Something that happened to a connection outside a request. */
void alog_event(struct alog *l, int64_t now_sec, const char *peer, const char *what,
		const char *detail);

/* Write what stderr takes now, without waiting; keep the rest. Once per loop iteration. */
void alog_flush(struct alog *l);

/* 1 if lines wait for stderr to take them: the loop then tries again within a tick. */
static inline int
alog_pending(const struct alog *l)
{
	return l->len > 0 || l->dropped > 0;
}

/* Before exit: write what is left, waiting at most ALOG_EXIT_MS in all; drop the rest. */
void alog_flush_final(struct alog *l);

#endif
