#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "keylog.h"
#include "msg.h"

/* RFC 8446 §4.1.2 and RFC 5246 §7.4.1.2: 32 random bytes in every ClientHello. */
#define KEYLOG_RANDOM_LEN 32
/* TLS 1.2's master secret (RFC 5246 §8.1). */
#define KEYLOG_MASTER_LEN 48
/* A TLS 1.3 secret is one hash long: at most SHA-384's 48 bytes in TLS 1.3's suites. */
#define KEYLOG_SECRET_MAX 48
/* The longest label, CLIENT_HANDSHAKE_TRAFFIC_SECRET, the hex and three separators. */
#define KEYLOG_LINE_MAX (32 + 2 * KEYLOG_RANDOM_LEN + 2 * KEYLOG_SECRET_MAX + 3)

static int keylog_fd = -1;
static const char *keylog_path;
static unsigned long lost; /* lines that could not be written or made */
static int lost_errno;     /* why the last write failed (0: no secret to write) */

int
keylog_can_tls13(void)
{
#ifdef HAVE_SECRET_CALLBACK
	return 1;
#else
	return 0;
#endif
}

/*
 * Open path for appending keys: fd, or -1 with *why saying what is wrong. O_NONBLOCK: a FIFO
 * must not hang start-up until someone reads it; it is refused, as every non-regular file.
 */
static int
open_keylog(const char *path, struct stat *st, const char **why)
{
	int fd =
		open(path,
		     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
		     0600);

	if (fd < 0 && errno == ELOOP)
		*why = "it is a symbolic link (key logs are not written through links: give the file "
		       "itself)";
	else if (fd < 0 && errno == ENXIO)
		*why = "it is not a regular file";
	else if (fd < 0)
		*why = strerror(errno);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		*why = "it is not a regular file";
		close(fd);
		return -1;
	}
	return fd;
}

int
keylog_start(const char *opt, int tls13, const char *tls12_hint)
{
	const char *env = getenv("SSLKEYLOGFILE");
	const char *path = opt, *from = "--keylog";
	const char *why = NULL;
	struct stat st;
	int fd;

	if (path == NULL && env != NULL && *env != '\0')
		path = env, from = "SSLKEYLOGFILE";
	if (path == NULL)
		return 0;
	fd = open_keylog(path, &st, &why);
	if (fd < 0 && opt != NULL) {
		msg_error("--keylog %s: cannot open: %s", path, why);
		return -1;
	}
	if (fd < 0) {
		msg_warn("SSLKEYLOGFILE=%s: cannot open: %s; no session keys are written", path,
			 why);
		return 0;
	}
	keylog_fd = fd;
	keylog_path = path;
	msg_warn("writing TLS session keys to %s (%s): whoever can read it can decrypt these "
		 "connections",
		 path, from);
	if (st.st_mode & (S_IRGRP | S_IROTH))
		msg_warn("%s is readable by others (mode %04o): chmod 600 %s", path,
			 (unsigned)(st.st_mode & 07777), path);
	if (tls13 && !keylog_can_tls13())
		msg_warn("this wolfSSL build cannot export TLS 1.3 secrets, so only TLS 1.2 "
			 "connections are logged (make WOLFSSL=source builds one that can%s%s)",
			 tls12_hint != NULL ? "; " : "", tls12_hint != NULL ? tls12_hint : "");
	return 0;
}

static char *
put_hex(char *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		*out++ = hex[p[i] >> 4];
		*out++ = hex[p[i] & 15];
	}
	return out;
}

/* One line, one write(2): appends of different processes never mix inside it. */
static void
write_line(const char *label, const unsigned char *random, const unsigned char *secret, size_t len)
{
	char line[KEYLOG_LINE_MAX + 1], *p = line;
	size_t n = strlen(label);
	ssize_t w;

	memcpy(p, label, n);
	p += n;
	*p++ = ' ';
	p = put_hex(p, random, KEYLOG_RANDOM_LEN);
	*p++ = ' ';
	p = put_hex(p, secret, len);
	*p++ = '\n';
	do
		w = write(keylog_fd, line, (size_t)(p - line));
	while (w < 0 && errno == EINTR);
	if (w != p - line) {
		lost++;
		lost_errno = w < 0 ? errno : ENOSPC;
	}
	explicit_bzero(line, sizeof(line));
}

static int
all_zero(const unsigned char *p, size_t n)
{
	unsigned char any = 0;

	for (size_t i = 0; i < n; i++)
		any |= p[i];
	return any == 0;
}

#ifdef HAVE_SECRET_CALLBACK
/* The NSS key log's label for each secret wolfSSL reports (RFC 8446 §7.1). */
static const char *
tls13_label(int id)
{
	switch (id) {
	case CLIENT_EARLY_TRAFFIC_SECRET: return "CLIENT_EARLY_TRAFFIC_SECRET";
	case CLIENT_HANDSHAKE_TRAFFIC_SECRET: return "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
	case SERVER_HANDSHAKE_TRAFFIC_SECRET: return "SERVER_HANDSHAKE_TRAFFIC_SECRET";
	case CLIENT_TRAFFIC_SECRET: return "CLIENT_TRAFFIC_SECRET_0";
	case SERVER_TRAFFIC_SECRET: return "SERVER_TRAFFIC_SECRET_0";
	case EARLY_EXPORTER_SECRET: return "EARLY_EXPORTER_SECRET";
	case EXPORTER_SECRET: return "EXPORTER_SECRET";
	}
	return NULL;
}

/* Called inside the handshake as each secret is derived; the ClientHello's random is known. */
static int
on_tls13_secret(WOLFSSL *ssl, int id, const unsigned char *secret, int len, void *ctx)
{
	unsigned char random[KEYLOG_RANDOM_LEN];
	const char *label = tls13_label(id);

	(void)ctx;
	if (label == NULL || len <= 0 || len > KEYLOG_SECRET_MAX ||
	    wolfSSL_get_client_random(ssl, random, sizeof(random)) != sizeof(random)) {
		lost++;
		lost_errno = 0;
		return 0;
	}
	write_line(label, random, secret, (size_t)len);
	return 0; /* a key that cannot be logged never fails the handshake */
}
#endif

void
keylog_session_new(WOLFSSL *ssl)
{
	if (keylog_fd < 0)
		return;
	/* wolfSSL_get_client_random() reads the handshake's arrays, which a build may free when
	 * the handshake ends unless asked to keep them (Debian's keeps them anyway). */
	wolfSSL_KeepArrays(ssl);
#ifdef HAVE_SECRET_CALLBACK
	wolfSSL_set_tls13_secret_cb(ssl, on_tls13_secret, NULL);
#endif
}

void
keylog_handshake_done(WOLFSSL *ssl)
{
	unsigned char *master, *server_random, *client_random;
	unsigned int master_len, server_len, client_len;

	/* TLS 1.3's secrets went out during the handshake, or cannot go out in this build. */
	if (keylog_fd < 0 || wolfSSL_version(ssl) != TLS1_2_VERSION)
		return;
	/*
	 * The handshake's own master secret and ClientHello random, from the arrays kept for this.
	 * Not wolfSSL_SESSION_get_master_key(): a server's session holds zeros there after a
	 * resumption by ticket, which puts the secret in the arrays only (docs/wolfssl-notes.md).
	 */
	if (wolfSSL_get_keys(ssl, &master, &master_len, &server_random, &server_len, &client_random,
			     &client_len) != WOLFSSL_SUCCESS ||
	    master_len != KEYLOG_MASTER_LEN || client_len != KEYLOG_RANDOM_LEN ||
	    all_zero(master, master_len)) {
		lost++;
		lost_errno = 0;
		return;
	}
	write_line("CLIENT_RANDOM", client_random, master, master_len);
}

void
keylog_finish(void)
{
	if (keylog_fd < 0)
		return;
	if (lost > 0)
		msg_warn("%s: %lu session key%s could not be written%s%s", keylog_path, lost,
			 lost == 1 ? "" : "s", lost_errno ? ": " : " (the TLS library gave none)",
			 lost_errno ? strerror(lost_errno) : "");
	close(keylog_fd);
	keylog_fd = -1;
}
