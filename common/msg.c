#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "msg.h"
#include "nowait.h"

static const char *prog = "squirrel";
static int nowait;
static enum nowait_kind stderr_kind;

void
msg_init(const char *name)
{
	prog = name;
	/* A descriptor among 0-2 that came closed (2>&-, a service manager) would go to the
	 * first socket or file we open, and what we print there with it: a server's access log
	 * to a client. Fill the gap with /dev/null opened read-only, so each number is taken
	 * and every write to it still fails (EBADF), as on the closed descriptor. open() takes
	 * the lowest free number, which is fd here because the ones below it are open. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDONLY) != fd)
			_exit(EXIT_FAILURE); /* no /dev/null: there is no safe way on, nor anyone to tell */
}

void
msg_nowait(void)
{
	fflush(stderr);
	stderr_kind = nowait_kind_of(STDERR_FILENO);
	nowait = 1;
}

const char *
msg_prog(void)
{
	return prog;
}

static void
emit(const char *lead, const char *what, const char *fmt, va_list ap)
{
	/* One write per line keeps lines whole when several processes share stderr. */
	char line[2048], out[PIPE_BUF];
	int n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = snprintf(out, sizeof(out), "%s%s: %s%s\n", lead, prog, what, line);
	if (n >= (int)sizeof(out)) {
		n = (int)sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	if (n <= 0)
		return;
	if (nowait)
		nowait_write(STDERR_FILENO, &stderr_kind, out, (size_t)n, 0); /* or lost: unread */
	else
		fputs(out, stderr);
}

#define MSG_FN(name, kind)                                                                         \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit("", kind, fmt, ap);                                                           \
		va_end(ap);                                                                        \
	}

MSG_FN(msg_error, "error: ")
MSG_FN(msg_warn, "warning: ")
MSG_FN(msg_note, "note: ")
MSG_FN(msg_info, "")

/* The stop line has no format of its own to check; emit() takes a va_list. */
static void
stopped_line(const char *lead, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(lead, "", fmt, ap);
	va_end(ap);
}

void
msg_stopped(int sig)
{
	/* Ctrl-C: the terminal has shown "^C" where the cursor was, and no newline (bash adds
	 * one only after a program that SIGINT ended, and this one exits): start a line. */
	const char *lead = sig == SIGINT && isatty(STDERR_FILENO) ? "\n" : "";

	if (sig == SIGINT)
		stopped_line(lead, "stopped (Ctrl-C)");
	else
		stopped_line(lead, "stopped (%s)", sig == SIGTERM ? "SIGTERM" : "signal");
}
