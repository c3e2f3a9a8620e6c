/*
 * bench_floor: the least a poll() HTTP server can spend per request, the floor row of make bench
 * (rows a and b). Row a's goal is squirrel-server's CPU per request within 1.05x of this one's.
 *
 *   bench_floor PORT        listen on 127.0.0.1:PORT until killed
 *
 * One process, one poll() loop over at most FLOOR_MAX_CONNS connections: accept, read, and for
 * each request head (everything up to its empty line) write one prebuilt answer. Nothing else:
 * no parsing beyond the head's end and a "Connection: close", no timeouts, no log, a Date that
 * never moves. The answer has the same headers and body as squirrel-server's answer to GET /.
 * It sets the kernel options squirrel-server sets by default, which any poll() server can have for
 * free, so that the two differ only in the work done between the system calls:
 *   - TCP_DEFER_ACCEPT (1 s): the kernel hands over a connection with its request, which is
 *     answered at once, without entering the poll set;
 *   - TCP_QUICKACK off on the listener (accepted sockets inherit it on Linux): no bare ACK for a
 *     request whose answer follows within microseconds;
 *   - MSG_MORE on an answer that a close follows: it leaves with the FIN, in one segment;
 *   - TCP_NODELAY on a connection kept open after its first answer.
 * One recv() per readable event and one send() per answer: poll() is level-triggered, so bytes
 * left in the socket show at the next turn, and a recv() that finds nothing is never made.
 *
 * Only for tests/bench/bench.py, which bounds every load and stops this program: a client that
 * sends FLOOR_HEAD_MAX bytes without an empty line, or that does not read its answers, is closed.
 * Exit 2 on a usage error, 1 if it cannot listen or poll() fails.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"

#define FLOOR_MAX_CONNS 4096 /* wrk -c50 in every row; room for more without a bigger poll set */
#define FLOOR_HEAD_MAX 2048  /* wrk's GET head is about 60 bytes */
#define FLOOR_DEFER_S 1      /* squirrel-server's default --defer-accept */

/* squirrel-server's head for GET / (as `curl -i` shows it), with a fixed Date of the same length,
 * so both send the same number of bytes; bench.py checks that they do. */
#define FLOOR_HEAD                                                                                 \
	"HTTP/1.1 200 OK\r\nDate: Fri, 04 Dec 2026 12:00:00 GMT\r\nServer: squirrel\r\n"           \
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\n"
static const char floor_keep[] = FLOOR_HEAD "\r\nfluffy tail";
static const char floor_close[] = FLOOR_HEAD "Connection: close\r\n\r\nfluffy tail";

struct floor_conn {
	size_t len;
	char in[FLOOR_HEAD_MAX];
};

/* pfd[0] is the listener; pfd[1 + i] belongs to conns[i], for i < nconns. */
static struct pollfd pfd[1 + FLOOR_MAX_CONNS];
static struct floor_conn conns[FLOOR_MAX_CONNS];
static int nconns;

/* Does this head (which ends with its empty line) carry "Connection: close"? Checks the one
 * token wrk and the harness send, not a list of them. */
static int
floor_wants_close(const char *head, size_t len)
{
	static const char name[] = "\r\nconnection:";
	const size_t nlen = sizeof name - 1;

	for (size_t i = 0; i + nlen < len; i++) {
		if (strncasecmp(head + i, name, nlen) != 0)
			continue;
		size_t v = i + nlen;
		while (v < len && (head[v] == ' ' || head[v] == '\t'))
			v++;
		return len - v >= 5 && strncasecmp(head + v, "close", 5) == 0;
	}
	return 0;
}

/* One recv(), then one answer per complete head in the buffer. Returns 0 to keep the connection,
 * -1 to close it (the peer closed, an error, a full buffer, or an answer before a close). */
static int
floor_serve(struct floor_conn *c, int fd)
{
	ssize_t n = recv(fd, c->in + c->len, sizeof c->in - c->len, 0);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	c->len += (size_t)n;
	size_t start = 0;
	const char *end;
	while ((end = memmem(c->in + start, c->len - start, "\r\n\r\n", 4)) != NULL) {
		size_t head = (size_t)(end + 4 - (c->in + start));
		int last = floor_wants_close(c->in + start, head);
		const char *answer = last ? floor_close : floor_keep;
		size_t alen = last ? sizeof floor_close - 1 : sizeof floor_keep - 1;
		if (send(fd, answer, alen, MSG_NOSIGNAL | (last ? MSG_MORE : 0)) != (ssize_t)alen ||
		    last)
			return -1;
		start += head;
	}
	memmove(c->in, c->in + start, c->len - start);
	c->len -= start;
	return c->len == sizeof c->in ? -1 : 0;
}

/* Closes connection i and moves the last one into its place (with this turn's revents). */
static void
floor_drop(int i)
{
	close(pfd[1 + i].fd);
	nconns--;
	if (i != nconns) {
		pfd[1 + i] = pfd[1 + nconns];
		conns[i].len = conns[nconns].len;
		memcpy(conns[i].in, conns[nconns].in, conns[nconns].len);
	}
}

/* Accepts until the backlog is empty or every slot is taken; each new connection is served at
 * once (deferred accept: its request is there) and joins the poll set only if it stays open. */
static void
floor_accept(int lfd)
{
	while (nconns < FLOOR_MAX_CONNS) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct floor_conn *c = &conns[nconns];
		c->len = 0;
		if (floor_serve(c, fd) < 0) {
			close(fd);
			continue;
		}
		/* Kept open: an answer may now follow one not yet acknowledged, which Nagle would
		 * hold back (squirrel-server sets this at the same point). */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pfd[1 + nconns].fd = fd;
		pfd[1 + nconns].events = POLLIN;
		pfd[1 + nconns].revents = 0;
		nconns++;
	}
}

static int
floor_listen(int port)
{
	struct sockaddr_in sa;
	int one = 1, zero = 0, defer = FLOOR_DEFER_S;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
	return fd;
}

int
main(int argc, char **argv)
{
	char *end = NULL;
	long port = argc == 2 ? strtol(argv[1], &end, 10) : 0;

	msg_init("bench_floor");
	if (argc != 2 || end == argv[1] || *end != '\0' || port < 1 || port > 65535) {
		msg_error("usage: bench_floor PORT (listens on 127.0.0.1:PORT)");
		return 2;
	}
	int lfd = floor_listen((int)port);
	if (lfd < 0) {
		msg_error("127.0.0.1:%ld: cannot listen: %s", port, strerror(errno));
		return 1;
	}
	pfd[0].events = POLLIN;
	for (;;) {
		/* At FLOOR_MAX_CONNS, new connections wait in the backlog until a slot frees. */
		pfd[0].fd = nconns < FLOOR_MAX_CONNS ? lfd : -1;
		if (poll(pfd, (nfds_t)(1 + nconns), -1) < 0) {
			if (errno == EINTR)
				continue;
			msg_error("poll: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < nconns;) {
			if (pfd[1 + i].revents != 0 && floor_serve(&conns[i], pfd[1 + i].fd) < 0) {
				floor_drop(i);
				continue;
			}
			i++;
		}
		if (pfd[0].revents & POLLIN)
			floor_accept(lfd);
	}
}
