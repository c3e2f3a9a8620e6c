/*
 * The TLS transport: wolfSSL on a (usually non-blocking) socket. Every call's real return
 * value goes to wolfSSL_get_error() (docs/wolfssl-notes.md: passing 0 can report stale state), and
 * one function maps the result to the transport's contract (curl's wssl_recv).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "clock.h"
#include "keylog.h"
#include "tls_names.h"
#include "tls_words.h"
#include "transport.h"

/* The first byte of every TLS handshake record (RFC 8446 §5.1, ContentType handshake). */
#define TLS_HANDSHAKE_RECORD 0x16
/* RFC 8446 §5.1 ContentType alert; §6: an alert is 2 bytes, level and description. */
#define TLS_ALERT_RECORD 0x15
#define TLS_ALERT_FATAL 2

/*
 * An OpenSSL client (curl, Python, openssl s_client) that refuses our certificate in TLS 1.3
 * sends its alert in clear: it judges the Certificate before it has its own handshake keys
 * (RFC 8446 §4.4.2.4 lets it abort there), while our side has switched to reading encrypted
 * records after sending its flight. wolfSSL 5.5.4 then fails on the record (PARSE_ERROR,
 * "parse error on header") and never reads the alert; newer wolfSSL only learned to skip such
 * alerts. So a server handshake watches the records it is given, as they pass: a 2-byte alert
 * record arriving in clear is remembered, and tr_errstr names it.
 */
static void
watch_records(struct tr *t, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t take;
		int alert;

		if (t->rec_hdr_len < sizeof(t->rec_hdr)) {
			t->rec_hdr[t->rec_hdr_len++] = *p++;
			n--;
			if (t->rec_hdr_len == sizeof(t->rec_hdr))
				t->rec_left = (unsigned short)(t->rec_hdr[3] << 8 | t->rec_hdr[4]);
		} else {
			/* A clear alert is a record of type 21 and length 2; an encrypted one is
			 * type 23 and longer, and wolfSSL reads that one itself. */
			alert = t->rec_hdr[0] == TLS_ALERT_RECORD && t->rec_hdr[3] == 0 &&
				t->rec_hdr[4] == 2;
			take = n < t->rec_left ? n : t->rec_left;
			for (size_t i = 0; alert && i < take; i++)
				t->rec_alert[2 - (t->rec_left - i)] = p[i];
			p += take;
			n -= take;
			t->rec_left = (unsigned short)(t->rec_left - take);
			if (alert && t->rec_left == 0 && t->rec_alert[0] == TLS_ALERT_FATAL)
				t->clear_alert = (unsigned char)(t->rec_alert[1] + 1);
		}
		if (t->rec_hdr_len == sizeof(t->rec_hdr) && t->rec_left == 0)
			t->rec_hdr_len = 0;
	}
}

/*
 * Server reads go through here, not through wolfSSL's own recv(). wolfSSL asks for exactly
 * what it needs, a 5-byte record header and then the record, so with its own recv() a request
 * costs three system calls, the last one finding the socket empty. Here one recv() fills a
 * buffer that the whole process shares (a server process is one thread), lent to one
 * connection until wolfSSL has taken its bytes; whatever remains counts in tls_pending(), so
 * the server steps that connection again without waiting for poll(). A connection that finds
 * the buffer lent to another reads exactly what wolfSSL asks. A short recv() sets t->drained,
 * as plain_read() does (see tr_read in transport.h). A request costs one recv().
 */
static struct {
	unsigned char data[16 * 1024 + 512]; /* a whole TLS record and the next header */
	size_t off, len;
	const struct tr *owner; /* NULL: nothing held */
} ahead;

/* Copy up to sz held bytes to buf (the caller owns them). */
static int
ahead_take(char *buf, int sz)
{
	size_t n = ahead.len - ahead.off < (size_t)sz ? ahead.len - ahead.off : (size_t)sz;

	memcpy(buf, ahead.data + ahead.off, n);
	ahead.off += n;
	if (ahead.off == ahead.len)
		ahead.owner = NULL;
	return (int)n;
}

static int
recv_for(struct tr *t, char *buf, int sz)
{
	int lend;
	ssize_t n;

	if (ahead.owner == t)
		return ahead_take(buf, sz);
	if (t->drained) {
		t->drained = 0;
		return WOLFSSL_CBIO_ERR_WANT_READ;
	}
	lend = ahead.owner == NULL && (size_t)sz < sizeof(ahead.data);
	do
		n = lend ? recv(t->fd, ahead.data, sizeof(ahead.data), 0)
			 : recv(t->fd, buf, (size_t)sz, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		t->drained = (size_t)n < (lend ? sizeof(ahead.data) : (size_t)sz);
		if (!lend)
			return (int)n;
		ahead.owner = t;
		ahead.off = 0;
		ahead.len = (size_t)n;
		return ahead_take(buf, sz);
	}
	if (n == 0) {
		t->closed = 1;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	/* As wolfSSL's own callback; errno stays for tls_result() to report. */
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	if (errno == ECONNRESET)
		return WOLFSSL_CBIO_ERR_CONN_RST;
	if (errno == EPIPE || errno == ECONNABORTED)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	return WOLFSSL_CBIO_ERR_GENERAL;
}

static int
tls_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tr *t = ctx;
	int n = recv_for(t, buf, sz);

	(void)ssl;
	if (n > 0 && t->watch)
		watch_records(t, (const unsigned char *)buf, (size_t)n);
	return n;
}

/*
 * Client reads (blocking socket): wait for bytes no longer than the deadline allows, then one
 * recv(). See tr_set_deadline. A timeout is WANT_READ, as SO_RCVTIMEO's EAGAIN would be.
 */
static int
tls_client_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tr *t = ctx;
	struct pollfd p = {.fd = t->fd, .events = POLLIN};
	ssize_t n;

	(void)ssl;
	for (;;) {
		int64_t left = t->deadline_ms ? t->deadline_ms - clock_ms() : -1;
		int r;

		if (t->deadline_ms && left <= 0)
			return WOLFSSL_CBIO_ERR_WANT_READ;
		r = poll(&p, 1, left < 0 ? -1 : left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return WOLFSSL_CBIO_ERR_WANT_READ;
		n = recv(t->fd, buf, (size_t)sz, 0);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n > 0)
		return (int)n;
	if (n == 0) {
		t->closed = 1;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	if (errno == ECONNRESET) {
		t->reset = 1;
		return WOLFSSL_CBIO_ERR_CONN_RST;
	}
	if (errno == EPIPE || errno == ECONNABORTED)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	return WOLFSSL_CBIO_ERR_GENERAL;
}

void
tr_set_deadline(struct tr *t, int64_t deadline_ms)
{
	t->deadline_ms = deadline_ms;
}

/*
 * Server writes: wolfSSL's own send(), noting that bytes left. wolfSSL_write() reports a write
 * only once all of it is out, so a reader that takes a 20 KiB answer slowly would look like
 * one that takes nothing; t->sent lets the server see the progress a plain write would show.
 */
static int
tls_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tr *t = ctx;
	int n = EmbedSend(ssl, buf, sz, &t->fd);

	if (n > 0)
		t->sent = 1;
	return n;
}

/* Map a failed wolfSSL call. eof_ok: an orderly end is 0 (reads), not an error. */
static ssize_t
tls_result(struct tr *t, int ret, int eof_ok)
{
	int e = wolfSSL_get_error(t->ssl, ret);

	/* wolfSSL reports a reset as the peer closing (SOCKET_PEER_CLOSED_E, or 0 from a read):
	 * a reset can cut a message short, which a close between messages cannot. */
	if (t->reset && (e == SOCKET_PEER_CLOSED_E || e == SOCKET_ERROR_E ||
			 e == WOLFSSL_ERROR_ZERO_RETURN || e == WOLFSSL_ERROR_SYSCALL)) {
		t->err = ECONNRESET;
		return TR_ERROR;
	}
	switch (e) {
	case WOLFSSL_ERROR_WANT_READ: return TR_WANT_READ;
	case WOLFSSL_ERROR_WANT_WRITE: return TR_WANT_WRITE;
	case WOLFSSL_ERROR_ZERO_RETURN:
	case SOCKET_PEER_CLOSED_E:
		/* close_notify, or a TCP close: our messages are length-delimited, so a close
		 * between them truncates nothing. The client's close-delimited body is not, and
		 * asks tr_eof_cut() which it was. */
		if (eof_ok) {
			t->cut = e == SOCKET_PEER_CLOSED_E;
			return 0;
		}
		t->err = SOCKET_PEER_CLOSED_E;
		return TR_ERROR;
	case SOCKET_ERROR_E:
		/* The socket failed underneath: errno says how (reset, timeout, ...), unless
		 * recv() read the peer's close inside a record. errno may be left from a call
		 * that failed harmlessly inside wolfSSL's, so the close is told by the flag. */
		t->err = t->closed ? SOCKET_PEER_CLOSED_E : errno > 0 ? errno : e;
		return TR_ERROR;
	}
	t->err = e;
	return TR_ERROR;
}

static ssize_t
tls_read(struct tr *t, void *buf, size_t len)
{
	int n;

	/* SOCKET_ERROR_E reports through errno: never let a stale value speak for it. */
	errno = 0;
	n = wolfSSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	return n > 0 ? n : tls_result(t, n, 1);
}

static ssize_t
tls_write(struct tr *t, const void *buf, size_t len)
{
	/* After a WANT, wolfSSL requires the same buffer and length again; callers keep their
	 * output unchanged until it is written, so this holds. */
	int n;

	errno = 0;
	n = wolfSSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	return n > 0 ? n : tls_result(t, n, 0);
}

/* Server: is the first byte a TLS record? A plain request deserves a plain answer. */
static int
peek_first(struct tr *t)
{
	unsigned char b;

	for (;;) {
		ssize_t n = recv(t->fd, &b, 1, MSG_PEEK);

		if (n == 1) {
			t->peeked = 1;
			return b == TLS_HANDSHAKE_RECORD ? 0 : TR_NOT_TLS;
		}
		if (n == 0)
			return TR_CLOSED_SILENT;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TR_WANT_READ;
		t->err = errno;
		return TR_ERROR;
	}
}

/*
 * wolfSSL refuses a clear alert at its header, before asking for the body: the two bytes that
 * say which alert still wait, read ahead or in the socket. Look at them without taking them.
 */
static void
watch_rest_of_alert(struct tr *t)
{
	unsigned char rest[2];
	ssize_t n;

	if (t->rec_hdr_len != sizeof(t->rec_hdr) || t->rec_hdr[0] != TLS_ALERT_RECORD ||
	    t->rec_left == 0 || t->rec_left > sizeof(rest))
		return;
	if (ahead.owner == t) {
		n = (ssize_t)(ahead.len - ahead.off);
		if (n > t->rec_left)
			n = t->rec_left;
		memcpy(rest, ahead.data + ahead.off, (size_t)n);
	} else {
		n = recv(t->fd, rest, t->rec_left, MSG_PEEK | MSG_DONTWAIT);
	}
	if (n > 0)
		watch_records(t, rest, (size_t)n);
}

static int
tls_handshake(struct tr *t)
{
	int ret;

	if (t->server && !t->peeked) {
		ret = peek_first(t);
		if (ret != 0)
			return ret;
	}
	errno = 0;
	ret = t->server ? wolfSSL_accept(t->ssl) : wolfSSL_connect(t->ssl);
	if (ret == WOLFSSL_SUCCESS) {
		keylog_handshake_done(t->ssl);
		t->watch = 0;
		/* The client sends its request right behind its Finished, so it has often come
		 * since that short read: look, rather than wait a whole poll() round for it. */
		t->drained = 0;
		return 1;
	}
	ret = (int)tls_result(t, ret, 0);
	if (ret == TR_ERROR && t->watch)
		watch_rest_of_alert(t);
	return ret;
}

static int
tls_pending(const struct tr *t)
{
	/* Decrypted bytes, whole records wolfSSL holds, bytes we read ahead: none wakes poll(). */
	return ahead.owner == t || wolfSSL_pending(t->ssl) > 0 || wolfSSL_has_pending(t->ssl);
}

static void
tls_shutdown(struct tr *t)
{
	/* One attempt: close_notify goes out if the socket takes it; nobody waits for the
	 * peer's reply (RFC 8446 §6.1 allows closing without it). */
	wolfSSL_shutdown(t->ssl);
}

static void
tls_release(struct tr *t)
{
	if (t->ssl)
		wolfSSL_free(t->ssl);
	t->ssl = NULL;
	/* What this connection's peer sent dies with it, never reaching the next one here. */
	if (ahead.owner == t)
		ahead.owner = NULL;
}

/* 1 if the page at p holds only zero bytes. */
static int
page_is_zero(const unsigned char *p, size_t page)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	uint64_t any = 0;

	for (size_t i = 0; i < page / sizeof(*w); i++)
		any |= w[i];
	return any == 0;
}

/*
 * wolfSSL 5.5.4 gives every WOLFSSL its own session object, allocated and zeroed at
 * wolfSSL_new(): 37.5 KiB in Debian's build (SESSION_CERTS keeps room for a 9-certificate peer
 * chain), which a server without client certificates leaves almost all zero. The pages of it
 * that still hold only zeros go back to the kernel (MADV_DONTNEED on private anonymous memory:
 * they read as zeros again, and a later write faults in a fresh page), so an idle connection
 * keeps what it uses. Only for wolfSSL 5.5.4, whose source shows that wolfSSL_get_session() on
 * a server is that object, a block of its own from malloc().
 */
static void
tls_slim(struct tr *t)
{
#if LIBWOLFSSL_VERSION_HEX >= 0x05005000 && LIBWOLFSSL_VERSION_HEX < 0x05006000
	WOLFSSL_SESSION *sess;
	uintptr_t lo, hi, run = 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!t->server || wolfSSL_lib_version_hex() != LIBWOLFSSL_VERSION_HEX)
		return;
	sess = wolfSSL_get_session(t->ssl);
	if (sess == NULL)
		return;
	lo = ((uintptr_t)sess + page - 1) & ~(uintptr_t)(page - 1);
	hi = ((uintptr_t)sess + malloc_usable_size(sess)) & ~(uintptr_t)(page - 1);
	for (uintptr_t p = lo; p <= hi; p += page) {
		if (p < hi && page_is_zero((const unsigned char *)p, page)) {
			if (run == 0)
				run = p;
			continue;
		}
		if (run != 0)
			madvise((void *)run, p - run, MADV_DONTNEED);
		run = 0;
	}
#else
	(void)t;
#endif
}

static const struct tr_ops tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.handshake = tls_handshake,
	.pending = tls_pending,
	.shutdown = tls_shutdown,
	.release = tls_release,
	.slim = tls_slim,
};

static int
is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int
tr_tls_init(struct tr *t, int fd, struct WOLFSSL_CTX *ctx, int server, const char *host)
{
	WOLFSSL *ssl = wolfSSL_new(ctx);

	if (ssl == NULL)
		return TR_ERROR;
	if (wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS)
		goto fail;
	keylog_session_new(ssl);
	if (!server && host != NULL) {
		/* RFC 6066 §3: SNI carries names, never address literals. */
		if (!is_ip_literal(host) &&
		    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, host,
				   (unsigned short)strlen(host)) != WOLFSSL_SUCCESS)
			goto fail;
	}
	/* release() has taken it back already; this only makes sure that a new session in this
	 * slot can never be handed an old one's bytes. */
	if (ahead.owner == t)
		ahead.owner = NULL;
	memset(t, 0, sizeof(*t));
	t->ops = &tls_ops;
	t->ssl = ssl;
	t->fd = fd;
	t->server = server != 0;
	t->watch = t->server;
	if (server) {
		wolfSSL_SSLSetIORecv(ssl, tls_recv);
		wolfSSL_SetIOReadCtx(ssl, t);
		wolfSSL_SSLSetIOSend(ssl, tls_send);
		wolfSSL_SetIOWriteCtx(ssl, t);
	} else {
		wolfSSL_SSLSetIORecv(ssl, tls_client_recv);
		wolfSSL_SetIOReadCtx(ssl, t);
	}
	return 0;
fail:
	wolfSSL_free(ssl);
	return TR_ERROR;
}

void
tr_moved(struct tr *t, const struct tr *old)
{
	if (t->ssl == NULL)
		return;
	if (t->server) {
		wolfSSL_SetIOReadCtx(t->ssl, t);
		wolfSSL_SetIOWriteCtx(t->ssl, t);
	}
	if (ahead.owner == old)
		ahead.owner = t;
}

const char *
tr_errstr(const struct tr *t, char *buf, size_t cap)
{
	int e = t->err;
	const char *w;

	/* The alert explains the failure, whatever error reading past it gave. */
	if (t->clear_alert != 0 && tls_alert_name(t->clear_alert - 1U) != NULL) {
		snprintf(buf, cap, "the peer sent a fatal alert: %s",
			 tls_alert_name(t->clear_alert - 1U));
		return buf;
	}
	if (e > 0)
		return strerror(e);
	w = tlsw_verify_text(e);
	if (w != NULL)
		return w;
	switch (e) {
	case 0: return "no error";
	case LENGTH_ERROR:
		/* What a TLS client reads when an HTTP server answers (OpenSSL's words). */
		return "wrong version number (the peer does not speak TLS)";
	case VERSION_ERROR: return "unsupported protocol version";
	case MATCH_SUITE_ERROR: return "no protocol version or cipher suite in common";
	case NO_PEER_CERT: return "the peer sent no certificate";
	case FATAL_ERROR:
	case SOCKET_PEER_CLOSED_E:
		if (t->ssl != NULL) {
			WOLFSSL_ALERT_HISTORY h;

			/* A history with nothing received reads as code 0, close_notify. */
			if (wolfSSL_get_alert_history(t->ssl, &h) == WOLFSSL_SUCCESS &&
			    h.last_rx.code > 0 &&
			    tls_alert_name((unsigned)h.last_rx.code) != NULL) {
				snprintf(buf, cap, "the peer sent a fatal alert: %s",
					 tls_alert_name((unsigned)h.last_rx.code));
				return buf;
			}
		}
		return e == FATAL_ERROR ? "the peer sent a fatal alert"
					: "connection closed by peer";
	}
	snprintf(buf, cap, "%s (wolfSSL error %d)",
		 wolfSSL_ERR_reason_error_string((unsigned long)e), e);
	return buf;
}

int
tr_err_is_verify(const struct tr *t)
{
	return t->err < 0 && tlsw_is_verify_error(t->err);
}

int
tr_err_not_tls(const struct tr *t)
{
	return t->err == LENGTH_ERROR || t->err == VERSION_ERROR;
}

int
tr_err_closed(const struct tr *t)
{
	return t->err == SOCKET_PEER_CLOSED_E || t->err == SOCKET_ERROR_E || t->err == ECONNRESET ||
	       t->err == EPIPE;
}

int
tr_err_reset(const struct tr *t)
{
	return t->err == ECONNRESET;
}

int
tr_err_peer_refused_cert(const struct tr *t)
{
	WOLFSSL_ALERT_HISTORY h;

	/* In TLS 1.3 the client's handshake is over before the server judges its certificate:
	 * the refusal arrives as an alert on the first read or write, whatever error that saw. */
	if (t->ssl == NULL || wolfSSL_get_alert_history(t->ssl, &h) != WOLFSSL_SUCCESS ||
	    h.last_rx.level != 2 /* fatal */)
		return 0;
	switch (h.last_rx.code) {
	case 42: /* bad_certificate */
	case 43: /* unsupported_certificate */
	case 46: /* certificate_unknown */
	case 48: /* unknown_ca */
	case 116: /* certificate_required */ return 1;
	}
	return 0;
}

/*
 * The group of the key exchange, from wolfSSL's name for it (its ECC curve names, or X25519 and
 * X448), as a registry code. 5.5.4 has no call that returns the code itself; these are the
 * groups tls_policy allows and the other curves wolfSSL names.
 */
static unsigned
group_code(const char *wolfssl_name)
{
	static const struct {
		const char *name;
		unsigned code;
	} names[] = {
		{"X25519", 0x001d},
		{"SECP256R1", 0x0017},
		{"SECP384R1", 0x0018},
		{"SECP521R1", 0x0019},
		{"X448", 0x001e},
		{"SECP256K1", 0x0016},
		{"BRAINPOOLP256R1", 0x001a},
		{"BRAINPOOLP384R1", 0x001b},
		{"BRAINPOOLP512R1", 0x001c},
	};

	for (size_t i = 0; wolfssl_name != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, wolfssl_name) == 0)
			return names[i].code;
	return 0;
}

int
tr_tls_info(struct tr *t, struct tr_info *info)
{
	int suite;

	if (t->ssl == NULL)
		return -1;
	suite = wolfSSL_get_current_cipher_suite(t->ssl);
	info->version = wolfSSL_get_version(t->ssl);
	info->suite_code = (unsigned)suite & 0xffff;
	info->cipher = tls_suite_name(info->suite_code);
	if (info->cipher == NULL)
		info->cipher = wolfSSL_get_cipher_name(t->ssl);
	/* A resumed TLS 1.2 session exchanges no key: wolfSSL then names no group. */
	info->group_code = group_code(wolfSSL_get_curve_name(t->ssl));
	info->group = tls_group_name(info->group_code);
	if (info->group == NULL)
		info->group = "-";
	info->resumed = wolfSSL_session_reused(t->ssl);
	return 0;
}

int
tr_tls_peer_cert(struct tr *t, int idx, const unsigned char **der, int *len)
{
	WOLFSSL_X509_CHAIN *chain = t->ssl ? wolfSSL_get_peer_chain(t->ssl) : NULL;

	if (chain == NULL || idx < 0 || idx >= wolfSSL_get_chain_count(chain))
		return 0;
	*der = wolfSSL_get_chain_cert(chain, idx);
	*len = wolfSSL_get_chain_length(chain, idx);
	return *der != NULL;
}
