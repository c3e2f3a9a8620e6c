#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fs.h"
#include "msg.h"
#include "pass.h"
#include "sig.h"

const char *
pass_strerror(int code)
{
	switch (code) {
#define PASS_TEXT(name, value, text)                                                               \
	case name: return text;
		PASS_ERRORS(PASS_TEXT)
#undef PASS_TEXT
	}
	return "unknown password error";
}

/*
 * Cut at the first '\n'; the result must be non-empty and fit. A '\r' before it stays: OpenSSL
 * 3's -passin file: cuts at '\n' alone, and a key made here must open there with the same file.
 */
static int
take_line(char *buf, size_t n, size_t cap)
{
	size_t i = 0;

	while (i < n && buf[i] != '\n')
		i++;
	if (i > PASS_MAX || i >= cap) {
		explicit_bzero(buf, n);
		return PASS_ETOOLONG;
	}
	explicit_bzero(buf + i, n - i);
	buf[i] = '\0';
	return i == 0 ? PASS_EEMPTY : 0;
}

int
pass_read_file(const char *path, char *buf, size_t cap)
{
	char tmp[PASS_MAX + 3];
	size_t n = 0;
	int rc = fs_read(path, tmp, sizeof(tmp), &n);

	/* A password file may hold more than one line (OpenSSL reads the first); only the
	 * first line has to fit. */
	if (rc == -EFBIG) {
		n = sizeof(tmp);
		if (memchr(tmp, '\n', n) == NULL) {
			explicit_bzero(tmp, sizeof(tmp));
			return PASS_ETOOLONG;
		}
	} else if (rc < 0) {
		errno = -rc;
		return PASS_EREAD;
	}
	rc = take_line(tmp, n, sizeof(tmp));
	n = rc == 0 ? strlen(tmp) : 0;
	if (rc == 0 && n == 0)
		rc = PASS_EEMPTY; /* a NUL first: empty as a C string, as OpenSSL reads it too */
	if (rc == 0 && n >= cap)
		rc = PASS_ETOOLONG;
	if (rc == 0) {
		memcpy(buf, tmp, n + 1);
		/* As OpenSSL keeps it, but rarely meant: say so, lest "wrong password" baffle. */
		if (tmp[n - 1] == '\r')
			msg_warn(
				"%s: the password ends in a carriage return (a Windows line end); it "
				"is part of the password, as OpenSSL reads it",
				path);
	}
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}

int
pass_have_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/*
 * A signal that ends the process while echo is off must not leave the terminal that way (the
 * shell would stay silent after Ctrl-C). While ask() has echo off, the four signals that end a
 * program restore the terminal first and then end it (sig.h), even in a program that handles
 * them itself: Ctrl-C at a prompt is an answer, "stop", and must not wait for the password.
 */
static int quiet_fd = -1;
static struct termios quiet_saved;

static void
on_quiet_signal(int sig)
{
	int saved_errno = errno;

	/* Async-signal-safe calls only: tcsetattr, write, raise (POSIX.1-2008 §2.4.3). */
	tcsetattr(quiet_fd, TCSAFLUSH, &quiet_saved);
	/* With echo on, the terminal itself shows Ctrl-C as "^C" and the shell then starts a new
	 * line (bash does so for every job that SIGINT ended): show the same. Other signals
	 * come from elsewhere, and just end the prompt's line. */
	if (sig == SIGINT)
		(void)!write(quiet_fd, "^C", 2);
	else
		(void)!write(quiet_fd, "\n", 1);
	/* SA_RESETHAND made the action the default one; it is delivered once we return. */
	raise(sig);
	errno = saved_errno;
}

static int
ask(int fd, const char *prompt, char *buf, size_t cap)
{
	struct sig_saved old_actions;
	struct termios old, quiet;
	size_t n = 0;
	int rc = 0;

	if (tcgetattr(fd, &old) < 0)
		return PASS_ENOTTY;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	quiet_fd = fd;
	quiet_saved = old;
	sig_catch_interrupt(on_quiet_signal, &old_actions);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		sig_restore(&old_actions);
		return PASS_ENOTTY;
	}
	(void)!write(fd, prompt, strlen(prompt));
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n' || ch == '\r')
			break;
		if (n + 1 < cap && n < PASS_MAX)
			buf[n] = ch;
		else
			rc = PASS_ETOOLONG;
		n++;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	sig_restore(&old_actions);
	(void)!write(fd, "\n", 1);
	if (rc == 0 && n == 0)
		rc = PASS_EEMPTY;
	if (rc != 0)
		explicit_bzero(buf, cap);
	else
		buf[n] = '\0';
	return rc;
}

int
pass_prompt(const char *prompt, const char *confirm, char *buf, size_t cap)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return PASS_ENOTTY;
	rc = ask(fd, prompt, buf, cap);
	if (rc == 0 && confirm != NULL) {
		char again[PASS_MAX + 1];

		rc = ask(fd, confirm, again, sizeof(again));
		if (rc == 0 && strcmp(buf, again) != 0)
			rc = PASS_EMISMATCH;
		explicit_bzero(again, sizeof(again));
		if (rc != 0)
			explicit_bzero(buf, cap);
	}
	close(fd);
	return rc;
}
