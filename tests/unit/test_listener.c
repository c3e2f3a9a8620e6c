/*
 * listener: the sockets it opens (non-blocking, close-on-exec, SO_REUSEADDR, v6-only,
 * SO_REUSEPORT when asked) and the one sentence per failure that squirrel-server and
 * squirrel-tap print.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "listener.h"

static struct sockaddr_in
loopback4(unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	return a;
}

static int
opt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static unsigned short
port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static void
test_a_listener_is_nonblocking_and_closed_on_exec(void **state)
{
	struct sockaddr_in a = loopback4(0);
	char err[256] = "";
	int fd = listener_open((struct sockaddr *)&a, sizeof(a), 0, err, sizeof(err));

	(void)state;
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(opt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_not_equal(opt_int(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	assert_int_equal(opt_int(fd, SOL_SOCKET, SO_REUSEPORT), 0);
	close(fd);
}

static void
test_ipv6_listeners_are_v6_only(void **state)
{
	struct sockaddr_in6 a;
	char err[256] = "";
	int fd;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_any;
	fd = listener_open((struct sockaddr *)&a, sizeof(a), 0, err, sizeof(err));
	if (fd < 0)
		skip(); /* no IPv6 on this machine */
	assert_int_not_equal(opt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	close(fd);
}

static void
test_a_taken_port_is_refused_unless_both_share_it(void **state)
{
	struct sockaddr_in a = loopback4(0);
	char err[256] = "", want[256];
	int one, two;

	(void)state;
	one = listener_open((struct sockaddr *)&a, sizeof(a), 0, err, sizeof(err));
	assert_true(one >= 0);
	a.sin_port = htons(port_of(one));
	assert_int_equal(listener_open((struct sockaddr *)&a, sizeof(a), 0, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "cannot listen on 127.0.0.1:%u: address already in use (is another program "
		 "listening there? pick another port with --listen)",
		 port_of(one));
	assert_string_equal(err, want);
	close(one);

	/* --workers: every listener on the port asks for SO_REUSEPORT. */
	a.sin_port = htons(0);
	one = listener_open((struct sockaddr *)&a, sizeof(a), LISTENER_REUSEPORT, err, sizeof(err));
	assert_true(one >= 0);
	assert_int_not_equal(opt_int(one, SOL_SOCKET, SO_REUSEPORT), 0);
	a.sin_port = htons(port_of(one));
	two = listener_open((struct sockaddr *)&a, sizeof(a), LISTENER_REUSEPORT, err, sizeof(err));
	assert_true(two >= 0);
	close(one);
	close(two);
}

static void
test_hostport_names_the_address_as_written(void **state)
{
	char err[256] = "", hostport[32], want[256];
	unsigned short port;
	int one, fd;

	(void)state;
	fd = listener_open_hostport("127.0.0.1:0", 0, err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_string_equal(err, "cannot listen on 127.0.0.1:0: the port must be a number from 1 "
				 "to 65535");

	/* A port of our own, taken, then asked for again as text. */
	{
		struct sockaddr_in a = loopback4(0);

		one = listener_open((struct sockaddr *)&a, sizeof(a), 0, err, sizeof(err));
		assert_true(one >= 0);
	}
	port = port_of(one);
	snprintf(hostport, sizeof(hostport), "127.0.0.1:%u", port);
	fd = listener_open_hostport(hostport, 0, err, sizeof(err));
	assert_int_equal(fd, -1);
	snprintf(want, sizeof(want), "cannot listen on %s: address already in use", hostport);
	assert_memory_equal(err, want, strlen(want));
	close(one);

	fd = listener_open_hostport(hostport, 0, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(port_of(fd), port);
	close(fd);
}

static void
test_an_address_of_another_machine_is_refused(void **state)
{
	char err[256] = "";

	(void)state;
	/* 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no machine has it. */
	assert_int_equal(listener_open_hostport("192.0.2.1:5683", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot listen on 192.0.2.1:5683: not an address of this machine "
				 "(give one of its addresses, or 127.0.0.1)");
}

/* The first port only privileged processes may bind, from the kernel (containers often lower
 * it to 0). */
static long
first_unprivileged_port(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	long port = 1024;

	if (f != NULL) {
		if (fscanf(f, "%ld", &port) != 1)
			port = 1024;
		fclose(f);
	}
	return port;
}

/* Ports below 1024 without privileges: as root, in a child that has given them up. */
static void
test_a_privileged_port_says_so(void **state)
{
	int p[2], status;
	char err[256] = "";
	ssize_t n;
	pid_t pid;

	(void)state;
	if (first_unprivileged_port() <= 1)
		skip(); /* every port is open to everyone here */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		if (listener_open_hostport("127.0.0.1:1", 0, err, sizeof(err)) >= 0)
			_exit(3);
		n = write(p[1], err, strlen(err));
		_exit(n < 0 ? 4 : 0);
	}
	close(p[1]);
	n = read(p[0], err, sizeof(err) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(n > 0);
	err[n] = '\0';
	assert_string_equal(err,
			    "cannot listen on 127.0.0.1:1: permission denied (ports below 1024 "
			    "need privileges: pick one from 1024 up)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_listener_is_nonblocking_and_closed_on_exec),
		cmocka_unit_test(test_ipv6_listeners_are_v6_only),
		cmocka_unit_test(test_a_taken_port_is_refused_unless_both_share_it),
		cmocka_unit_test(test_hostport_names_the_address_as_written),
		cmocka_unit_test(test_an_address_of_another_machine_is_refused),
		cmocka_unit_test(test_a_privileged_port_says_so),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
