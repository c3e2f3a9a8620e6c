#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nowait.h"

enum nowait_kind
nowait_kind_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
			return NOWAIT_FILE;
		if (S_ISSOCK(st.st_mode))
			return NOWAIT_SOCKET;
		if (S_ISFIFO(st.st_mode))
			return NOWAIT_PIPE;
	}
	return NOWAIT_POLLED;
}

ssize_t
nowait_write(int fd, enum nowait_kind *kind, char *p, size_t n, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	ssize_t w;

	/* A pipe takes a write that never waits, so poll() only to wait for room. */
	if (*kind != NOWAIT_FILE && (*kind != NOWAIT_PIPE || ms > 0)) {
		if (poll(&pfd, 1, ms) <= 0)
			return 0;
		if (pfd.revents & (POLLERR | POLLNVAL))
			return -1;
		if (!(pfd.revents & POLLOUT))
			return 0;
	}
	if (*kind == NOWAIT_SOCKET) {
		w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else if (*kind == NOWAIT_PIPE) {
		/* Not write() after poll(): processes share stderr, and two that see the same
		 * room would both write, the second then waiting for the reader. RWF_NOWAIT
		 * (Linux 5.8 and later for pipes) fails that one with EAGAIN; on older kernels,
		 * poll as for a terminal. */
		struct iovec v = {.iov_base = p, .iov_len = n};

		w = pwritev2(fd, &v, 1, -1, RWF_NOWAIT);
		if (w < 0 && errno == EOPNOTSUPP) {
			*kind = NOWAIT_POLLED;
			return nowait_write(fd, kind, p, n, ms);
		}
	} else {
		/* POLLOUT on a pipe or terminal means room for PIPE_BUF bytes at least, so this
		 * write does not wait. A terminal that is stopped (Ctrl-S) reports no room; one
		 * that is slow takes it at its speed. */
		w = write(fd, p, n);
	}
	if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return w > 0 ? w : -1;
}
