#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

static ssize_t
plain_read(struct tr *t, void *buf, size_t len)
{
	if (t->drained) {
		t->drained = 0;
		return TR_WANT_READ;
	}
	for (;;) {
		/* recv, not read: a socket needs none of read()'s file layer (permission hook,
		 * fsnotify), about 1% of a keep-alive request's kernel time. */
		ssize_t n = recv(t->fd, buf, len, 0);

		if (n >= 0) {
			t->drained = t->server && n > 0 && (size_t)n < len;
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TR_WANT_READ;
		t->err = errno;
		return TR_ERROR;
	}
}

static ssize_t
plain_write(struct tr *t, const void *buf, size_t len)
{
	for (;;) {
		/*
		 * MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE. MSG_MORE
		 * before a close: the kernel holds the last partial segment, and the close or
		 * shutdown that follows at once sends it with the FIN, one packet fewer for both
		 * ends of a connection-per-request client.
		 */
		ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL | (t->last ? MSG_MORE : 0));

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TR_WANT_WRITE;
		t->err = errno;
		return TR_ERROR;
	}
}

static int
plain_handshake(struct tr *t)
{
	(void)t;
	return 1;
}

static int
plain_pending(const struct tr *t)
{
	(void)t;
	return 0;
}

static void
plain_shutdown(struct tr *t)
{
	shutdown(t->fd, SHUT_WR);
}

static void
plain_release(struct tr *t)
{
	(void)t;
}

static void
plain_slim(struct tr *t)
{
	/* A plain connection holds nothing beyond its slot while it waits. */
	(void)t;
}

static const struct tr_ops plain_ops = {
	.read = plain_read,
	.write = plain_write,
	.handshake = plain_handshake,
	.pending = plain_pending,
	.shutdown = plain_shutdown,
	.release = plain_release,
	.slim = plain_slim,
};

void
tr_plain_init(struct tr *t, int fd, int server)
{
	memset(t, 0, sizeof(*t));
	t->ops = &plain_ops;
	t->fd = fd;
	t->server = (unsigned char)(server != 0);
}

void
tr_clear(struct tr *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

void
tr_downgrade(struct tr *t)
{
	int fd = t->fd, server = t->server;

	t->ops->release(t);
	tr_plain_init(t, fd, server);
}

void
tr_nodelay(struct tr *t)
{
	int one = 1;

	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
tr_unread(struct tr *t)
{
	char b;

	/* Drained: nothing was there at the last read, and a look now costs a system call for
	 * the rare peer that sends after its request (a connection-per-request client). */
	return tr_pending(t) || (!t->drained && recv(t->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0);
}

void
tr_drain(struct tr *t)
{
	char junk[4096];

	/* Bounded: a peer that keeps sending is not ours to wait for. */
	for (int i = 0; i < 16; i++)
		if (recv(t->fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
}

void
tr_close(struct tr *t)
{
	if (t->ops)
		t->ops->release(t);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->ssl = NULL;
}
