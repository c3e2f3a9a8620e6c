/*
 * alog: the access log, one line per request (and one per connection that fails before a
 * request), on stderr. Lines are gathered in a buffer and written once per loop iteration,
 * so logging costs no system call per request; a line is never split.
 *
 *   2026-11-28T10:41:47Z 127.0.0.1:40112 "GET /" 200 11 41us
 *   2026-11-28T10:41:48Z 127.0.0.1:40114 "- -" 400 0 12us (bare CR)
 *   2026-11-28T10:41:49Z 127.0.0.1:40116 tls handshake failed: unknown_ca
 *
 * Client-controlled text (method, target) is escaped and cut short: no log injection. The
 * body is never logged, so neither is the secret.
 */
#ifndef SQUIRREL_ALOG_H
#define SQUIRREL_ALOG_H

#include <stddef.h>
#include <stdint.h>

#define ALOG_BUF 65536
/* Longest target written to the log; the rest is replaced by "...". */
#define ALOG_TARGET_MAX 200

struct alog {
	int fd;
	int quiet;
	size_t len;
	int64_t stamp_sec;
	char stamp[24];
	char buf[ALOG_BUF];
};

void alog_init(struct alog *l, int fd, int quiet);

/* A request: method and target as received (may be NULL for "-"), status, body bytes,
 * microseconds from its first byte to its answer, and a reason for rejections (or NULL). */
void alog_request(struct alog *l, int64_t now_sec, const char *peer, const char *method,
		  size_t method_len, const char *target, size_t target_len, int status,
		  size_t bytes, int64_t usec, const char *why);

/* Something that happened to a connection outside a request. */
void alog_event(struct alog *l, int64_t now_sec, const char *peer, const char *what,
		const char *detail);

/* Write what was gathered. Called once per loop iteration and before exit. */
void alog_flush(struct alog *l);

#endif
