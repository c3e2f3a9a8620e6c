#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alog.h"
#include "clock.h"
#include "termsafe.h"
#include "transport.h"

void
alog_init(struct alog *l, int fd, int quiet)
{
	l->fd = fd;
	l->quiet = quiet;
	l->kind = nowait_kind_of(fd);
	l->dropped = 0;
	l->len = 0;
	l->stamp_sec = -1;
}

static void
stamp(struct alog *l, int64_t sec)
{
	if (sec != l->stamp_sec) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(l->stamp, sizeof(l->stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		l->stamp_sec = sec;
	}
}

/*
 * Client-chosen text for the log: escaped (termsafe.h) so that it can neither act on a
 * terminal nor break the line's quoted fields, and cut after max bytes with "...". NULL is
 * "-". out has room for max escaped bytes, "..." and the NUL.
 */
static void
escape(char *out, size_t cap, const char *s, size_t n, size_t max)
{
	size_t o;

	if (s == NULL)
		s = "-", n = 1;
	termsafe_copy(out, cap - 3, s, n < max ? n : max,
		      TERMSAFE_HEX | TERMSAFE_ASCII | TERMSAFE_QUOTES, &o);
	if (n > max)
		memcpy(out + o, "...", 4);
}

/* Put the count of dropped lines in the buffer, where they went missing, if it fits. */
static void
note_dropped(struct alog *l)
{
	char line[160];
	int n;

	if (l->dropped == 0)
		return;
	stamp(l, (int64_t)time(NULL));
	n = snprintf(line, sizeof(line),
		     "%s - %llu log lines dropped: standard error was not being read\n", l->stamp,
		     (unsigned long long)l->dropped);
	if (n > 0 && (size_t)n < sizeof(line) && l->len + (size_t)n <= sizeof(l->buf)) {
		memcpy(l->buf + l->len, line, (size_t)n);
		l->len += (size_t)n;
		l->dropped = 0;
	}
}

static void
append(struct alog *l, const char *line, size_t n)
{
	if (l->len + n > sizeof(l->buf))
		alog_flush(l);
	note_dropped(l);
	if (l->dropped > 0 || l->len + n > sizeof(l->buf)) {
		/* stderr is not being read: lose this line, not the server's time. */
		l->dropped++;
		return;
	}
	memcpy(l->buf + l->len, line, n);
	l->len += n;
}

void
alog_request(struct alog *l, int64_t now_sec, const char *peer, const char *method,
	     size_t method_len, const char *target, size_t target_len, int status, size_t bytes,
	     int64_t usec, const struct tr_info *tls, const char *why)
{
	/* The TLS fields are static names (tr_tls_info), at most about 90 bytes in all. */
	char m[64], t[ALOG_TARGET_MAX * 4 + 8], line[sizeof(m) + sizeof(t) + 384];
	const char *sp = tls ? " " : "";
	int n;

	if (l->quiet)
		return;
	stamp(l, now_sec);
	escape(m, sizeof(m), method, method_len, 15);
	escape(t, sizeof(t), target, target_len, ALOG_TARGET_MAX);
	n = snprintf(line, sizeof(line), "%s %s \"%s %s\" %d %zu %lldus%s%s%s%s%s%s%s%s%s%s\n",
		     l->stamp, peer, m, t, status, bytes, (long long)usec, sp,
		     tls ? tls->version : "", sp, tls ? tls->cipher : "", sp, tls ? tls->group : "",
		     tls && tls->resumed ? " resumed" : "", why ? " (" : "", why ? why : "",
		     why ? ")" : "");
	if (n > 0)
		append(l, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void
alog_event(struct alog *l, int64_t now_sec, const char *peer, const char *what, const char *detail)
{
	char line[512];
	int n;

	if (l->quiet)
		return;
	stamp(l, now_sec);
	n = snprintf(line, sizeof(line), "%s %s %s%s%s\n", l->stamp, peer, what, detail ? ": " : "",
		     detail ? detail : "");
	if (n > 0)
		append(l, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Write whole lines until stderr takes no more or until_ms (0: never wait) has passed. */
static void
flush_until(struct alog *l, int64_t until_ms)
{
	size_t off = 0;

	for (;;) {
		size_t n = l->len - off;
		int ms = 0;
		ssize_t w;

		if (n == 0 && l->dropped > 0) {
			l->len = off = 0;
			note_dropped(l);
			n = l->len;
		}
		if (n == 0)
			break;
		if (until_ms > 0) {
			int64_t left = until_ms - clock_ms();

			if (left <= 0)
				break;
			ms = (int)left;
		}
		/* Workers share stderr: writes of at most PIPE_BUF bytes that end at a line end
		 * reach a pipe whole, so lines of different workers never mix. */
		if (n > PIPE_BUF) {
			const char *nl = memrchr(l->buf + off, '\n', PIPE_BUF);

			n = nl ? (size_t)(nl - (l->buf + off)) + 1 : PIPE_BUF;
		}
		w = nowait_write(l->fd, &l->kind, l->buf + off, n, ms);
		if (w < 0) {
			/* stderr is gone: drop the log rather than fail the server */
			off = l->len;
			l->dropped = 0;
			break;
		}
		if (w == 0)
			break;
		off += (size_t)w;
	}
	memmove(l->buf, l->buf + off, l->len - off);
	l->len -= off;
	note_dropped(l);
}

void
alog_flush(struct alog *l)
{
	if (l->len > 0 || l->dropped > 0)
		flush_until(l, 0);
}

void
alog_flush_final(struct alog *l)
{
	if (l->len > 0 || l->dropped > 0)
		flush_until(l, clock_ms() + ALOG_EXIT_MS);
}
