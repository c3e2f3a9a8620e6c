#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"

void
alog_init(struct alog *l, int fd, int quiet)
{
	l->fd = fd;
	l->quiet = quiet;
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

/* Append s, escaping anything a terminal or a log parser could misread. */
static size_t
escape(char *out, size_t cap, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (s == NULL)
		s = "-", n = 1;
	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

static void
append(struct alog *l, const char *line, size_t n)
{
	if (l->len + n > sizeof(l->buf))
		alog_flush(l);
	if (n > sizeof(l->buf))
		n = sizeof(l->buf);
	memcpy(l->buf + l->len, line, n);
	l->len += n;
}

void
alog_request(struct alog *l, int64_t now_sec, const char *peer, const char *method,
	     size_t method_len, const char *target, size_t target_len, int status, size_t bytes,
	     int64_t usec, const char *why)
{
	char m[64], t[ALOG_TARGET_MAX * 4 + 8], line[sizeof(m) + sizeof(t) + 256];
	int n;

	if (l->quiet)
		return;
	stamp(l, now_sec);
	escape(m, sizeof(m), method, method_len, 15);
	escape(t, sizeof(t), target, target_len, ALOG_TARGET_MAX);
	n = snprintf(line, sizeof(line), "%s %s \"%s %s\" %d %zu %lldus%s%s%s\n", l->stamp, peer,
		     m, t, status, bytes, (long long)usec, why ? " (" : "", why ? why : "",
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
	n = snprintf(line, sizeof(line), "%s %s %s%s%s\n", l->stamp, peer, what,
		     detail ? ": " : "", detail ? detail : "");
	if (n > 0)
		append(l, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void
alog_flush(struct alog *l)
{
	size_t off = 0;

	while (off < l->len) {
		/* Workers share stderr: writes of at most PIPE_BUF bytes that end at a line end
		 * reach a pipe whole, so lines of different workers never mix. */
		size_t n = l->len - off;
		ssize_t w;

		if (n > PIPE_BUF) {
			const char *nl = memrchr(l->buf + off, '\n', PIPE_BUF);

			n = nl ? (size_t)(nl - (l->buf + off)) + 1 : PIPE_BUF;
		}
		w = write(l->fd, l->buf + off, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* stderr is gone: drop the log rather than fail the server */
		off += (size_t)w;
	}
	l->len = 0;
}
