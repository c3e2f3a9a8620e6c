/*
 * nowait: write to stderr (or any descriptor we share with others) without ever waiting for
 * its reader longer than we choose. A supervisor that hung, `| less` left in the background,
 * a terminal paused with Ctrl-S: none of them may stop a server's loop or its supervisor.
 */
#ifndef SQUIRREL_NOWAIT_H
#define SQUIRREL_NOWAIT_H

#include <stddef.h>
#include <sys/types.h>

enum nowait_kind {
	NOWAIT_PIPE,   /* pwritev2(RWF_NOWAIT): processes sharing it never wait for each other */
	NOWAIT_POLLED, /* terminal, anything else: poll() for room, then write */
	NOWAIT_SOCKET, /* send(MSG_DONTWAIT) */
	NOWAIT_FILE,   /* regular file or block device: a write never waits for a reader */
};

enum nowait_kind nowait_kind_of(int fd);

/*
 * Write p[0..n) or a first part of it, waiting at most ms for fd to take it. Returns bytes
 * written, 0 if fd takes nothing now, or -1 if it is gone. Callers keep n <= PIPE_BUF and
 * end it at a line end, so lines of processes sharing a pipe never mix. *kind may change
 * (a kernel without RWF_NOWAIT for pipes).
 */
ssize_t nowait_write(int fd, enum nowait_kind *kind, char *p, size_t n, int ms);

#endif
