/*
 * What an exploit would try, from inside a running squirrel program: test_sandbox.py loads
 * this into the program (LD_PRELOAD), and on SIGUSR2 it makes one attempt, named by
 * $PROBE ("ACTION ARG"), and appends what happened to the file $PROBE_OUT, which it opens
 * at load time, before the program confines itself. No test hook is in the programs.
 *
 *   write PATH        open PATH for writing (appending, and nothing is written)
 *   create PATH       create PATH
 *   read PATH         open PATH and read a byte
 *   exec PATH         run /bin/sh -c 'echo pwned > PATH'
 *   connect PORT      open a TCP connection to 127.0.0.1:PORT
 *
 * The file gets "begin ACTION" before the attempt and "ACTION: ok" or "ACTION: errno N"
 * after it; a process the attempt ended leaves "begin" alone. Only async-signal-safe calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int out = -1;
static char action[16], arg[4096];

static void
say(const char *a, const char *b, const char *c)
{
	const char *parts[] = {a, b, c};

	for (int i = 0; i < 3; i++)
		if (parts[i] != NULL)
			(void)!write(out, parts[i], strlen(parts[i]));
}

static void
result(int ok, int e)
{
	char num[16];
	int n = sizeof(num) - 1;

	if (ok) {
		say(action, ": ok\n", NULL);
		return;
	}
	num[n] = '\0';
	do
		num[--n] = (char)('0' + e % 10);
	while ((e /= 10) > 0 && n > 0);
	say(action, ": errno ", num + n);
	say("\n", NULL, NULL);
}

static int
try_open(int flags)
{
	char c;
	int fd = open(arg, flags | O_CLOEXEC, 0666);

	if (fd < 0)
		return -1;
	if ((flags & O_ACCMODE) == O_RDONLY && read(fd, &c, 1) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static int
try_exec(void)
{
	static char cmd[4200];
	char *argv[] = {"sh", "-c", cmd, NULL};

	strcpy(cmd, "echo pwned > '");
	strcat(cmd, arg);
	strcat(cmd, "'");
	execve("/bin/sh", argv, NULL);
	return -1;
}

/* With the flags of squirrel-tap's own sockets, which its seccomp filter allows: what stops
 * this connection there is Landlock's port rule. */
static int
try_connect(void)
{
	struct sockaddr_in sin;
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc, e = 0;

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(arg));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (rc < 0 && errno == EINPROGRESS) {
		p.fd = fd;
		p.events = POLLOUT;
		rc = poll(&p, 1, 5000) == 1 &&
				     getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e == 0
			     ? 0
			     : -1;
		if (e != 0)
			errno = e;
	}
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static void
on_usr2(int sig)
{
	int rc = -1, saved = errno;

	(void)sig;
	say("begin ", action, "\n");
	errno = 0;
	if (strcmp(action, "write") == 0)
		rc = try_open(O_WRONLY | O_APPEND);
	else if (strcmp(action, "create") == 0)
		rc = try_open(O_WRONLY | O_CREAT | O_EXCL);
	else if (strcmp(action, "read") == 0)
		rc = try_open(O_RDONLY);
	else if (strcmp(action, "exec") == 0)
		rc = try_exec();
	else if (strcmp(action, "connect") == 0)
		rc = try_connect();
	result(rc == 0, errno);
	errno = saved;
}

__attribute__((constructor)) static void
probe_init(void)
{
	const char *probe = getenv("PROBE"), *path = getenv("PROBE_OUT"), *space;
	struct sigaction sa;

	if (probe == NULL || path == NULL || (space = strchr(probe, ' ')) == NULL ||
	    (size_t)(space - probe) >= sizeof(action) || strlen(space + 1) >= sizeof(arg))
		return;
	memcpy(action, probe, (size_t)(space - probe));
	strcpy(arg, space + 1);
	out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}
