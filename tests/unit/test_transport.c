/*
 * transport: the plain transport over a loopback TCP pair, through the tr_ calls the server
 * uses instead of touching struct tr's fields: the server's drained-socket shortcut, a cleared
 * slot's transport, TCP_NODELAY. (TLS is tested end to end, tests/e2e/test_tls.py.)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"
#include "transport.h"

/* A connected loopback pair: *ours non-blocking (as the server's), *theirs blocking. */
static void
tcp_pair(int *ours, int *theirs)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char err[256];
	int l;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = listener_open((struct sockaddr *)&a, sizeof(a), 0, err, sizeof(err));
	assert_true(l >= 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	*theirs = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(*theirs, (struct sockaddr *)&a, sizeof(a)), 0);
	*ours = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	assert_true(*ours >= 0);
	close(l);
}

static void
wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	assert_int_equal(poll(&p, 1, 5000), 1);
}

/* A short read on a server's transport means the socket is empty: the next read answers
 * TR_WANT_READ without looking, even though more has come meanwhile. A client's reads look. */
static void
test_server_reads_skip_a_drained_socket(void **state)
{
	char buf[64];
	struct tr t;
	int ours, theirs;

	(void)state;
	for (int server = 0; server <= 1; server++) {
		tcp_pair(&ours, &theirs);
		tr_plain_init(&t, ours, server);
		assert_false(tr_is_tls(&t));
		assert_int_equal(write(theirs, "GET", 3), 3);
		wait_readable(ours);
		assert_int_equal(tr_read(&t, buf, sizeof(buf)), 3);
		assert_int_equal(write(theirs, "more", 4), 4);
		wait_readable(ours);
		if (server)
			assert_int_equal(tr_read(&t, buf, sizeof(buf)), TR_WANT_READ);
		assert_int_equal(tr_read(&t, buf, sizeof(buf)), 4);
		assert_memory_equal(buf, "more", 4);
		tr_close(&t);
		close(theirs);
	}
}

/* A slot not in use: closing its transport must not close descriptor 0, which a zeroed
 * struct tr would name. */
static void
test_a_cleared_transport_closes_nothing(void **state)
{
	struct tr t;

	(void)state;
	if (fcntl(0, F_GETFD) < 0)
		skip(); /* no descriptor 0 to lose */
	memset(&t, 0xa5, sizeof(t));
	tr_clear(&t);
	assert_false(tr_is_tls(&t));
	tr_close(&t);
	assert_true(fcntl(0, F_GETFD) >= 0);
}

static void
test_nodelay(void **state)
{
	int ours, theirs, v = 0;
	socklen_t len = sizeof(v);
	struct tr t;

	(void)state;
	tcp_pair(&ours, &theirs);
	tr_plain_init(&t, ours, 1);
	assert_int_equal(getsockopt(ours, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	assert_int_equal(v, 0);
	tr_nodelay(&t);
	assert_int_equal(getsockopt(ours, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	assert_int_not_equal(v, 0);
	tr_close(&t);
	close(theirs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_reads_skip_a_drained_socket),
		cmocka_unit_test(test_a_cleared_transport_closes_nothing),
		cmocka_unit_test(test_nodelay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
