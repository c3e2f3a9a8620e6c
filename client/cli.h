/*
 * cli: squirrel-client's pieces. cli_fetch() is one blocking request over the shared codec
 * and transport; cli_tls builds the TLS context the way curl and requests choose trust.
 */
#ifndef SQUIRREL_CLI_H
#define SQUIRREL_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "url.h"

/* Exit codes: curl's wherever the failure is the same one, because scripts know them. */
enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,         /* anything else (out of memory) */
	CLI_USAGE = 2,        /* bad options, no URL */
	CLI_URL = 3,          /* malformed URL */
	CLI_RESOLVE = 6,      /* cannot resolve the host */
	CLI_CONNECT = 7,      /* cannot connect (refused, unreachable) */
	CLI_WEIRD = 8,        /* malformed response */
	CLI_HTTP = 22,        /* the server answered with a status other than 2xx */
	CLI_WRITE = 23,       /* the secret could not be written to standard output */
	CLI_TIMEOUT = 28,     /* --timeout passed */
	CLI_TLS = 35,         /* TLS handshake failed */
	CLI_SEND = 55,        /* the request could not be sent */
	CLI_EMPTY = 52,       /* the server closed without answering */
	CLI_RECV = 56,        /* the response could not be received whole */
	CLI_CLIENT_CERT = 58, /* our own certificate or key is unusable */
	CLI_VERIFY = 60,      /* the server's certificate is not trusted or not for this host */
	CLI_CODING = 61,      /* a transfer coding other than chunked (curl: unrecognized) */
	CLI_CAFILE = 77,      /* the CA file cannot be read */
	CLI_TOKEN = 100,      /* the body is not a Fernet token SECRET_KEY opens */
	CLI_KEY = 101,        /* SECRET_KEY is malformed (or --fernet without it) */
};

/* The secret is small; a body larger than this is not one and is refused. */
#define CLI_MAX_BODY (1024 * 1024)
/* CA bundles: the system one is about 220 KB. */
#define CLI_MAX_CAFILE (4 * 1024 * 1024)
#define CLI_DEFAULT_TIMEOUT_MS 10000
/* --timeout: a day, so that timeout_ms stays far inside an int. */
#define CLI_MAX_TIMEOUT_S 86400
/* --ttl: a year (and a leap day) is already far longer than a token should live. */
#define CLI_MAX_TTL_S (86400L * 366)
#define CLI_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct tr;
struct WOLFSSL_CTX;

struct cli_opts {
	int timeout_ms; /* for the whole fetch: connect, handshake, request, response */
	int verbose;
	int insecure;
	int tls12_only;                   /* --tls-max 1.2 */
	const char *cacert, *cacert_from; /* the CA file and where its name came from */
	const char *cert, *key, *key_password_file;
	/* Called after the TLS handshake (verbose output). */
	void (*on_handshake)(struct tr *t);
	/* Called with each message head sent or received (verbose output). */
	void (*on_head)(char dir, const char *head, size_t len);
	/* Called once connected, before the first byte is read (NULL: not called): confines
	 * the process. Non-zero fails the fetch with CLI_FAIL and err as it filled it. */
	int (*on_connected)(char *err, size_t errlen);
};

struct cli_result {
	int status;
	const char *reason;
	size_t reason_len;
	const char *body; /* into a static buffer, valid until the next cli_fetch() */
	size_t body_len;
	const char *location; /* a 3xx's Location field (NULL: none), in the same buffer */
	size_t location_len;
};

/*
 * GET u with o's settings and ctx (NULL for http://). Returns CLI_OK with res filled for any
 * status, or a CLI_* code with err holding one line (without the program name).
 */
int cli_fetch(const struct cli_opts *o, const struct url *u, struct WOLFSSL_CTX *ctx,
	      struct cli_result *res, char *err, size_t errlen);

/*
 * The client TLS context: TLS 1.2+ (1.2 only with o->tls12_only), AEAD suites, verification
 * on (off with o->insecure), trust from o->cacert, and o->cert/o->key for mutual TLS.
 * Returns CLI_OK with *out set, or CLI_CAFILE / CLI_CLIENT_CERT / CLI_FAIL with err filled.
 */
int cli_tls_ctx(const struct cli_opts *o, struct WOLFSSL_CTX **out, char *err, size_t errlen);

/* What a TLS session's certificate must name; mismatch is set when it did not. */
struct cli_host_check {
	const char *host;
	int mismatch;
};

/*
 * Check the server certificate of ssl against hc->host during the handshake (see
 * pki_cert_names_host: IP literals against IP entries, names against DNS entries, never the
 * CN). A context from cli_tls_ctx refuses every certificate of a session without this.
 */
struct WOLFSSL;
void cli_tls_expect_host(struct WOLFSSL *ssl, struct cli_host_check *hc);

/* Which CA file to trust, as requests and curl choose: --cacert, then SSL_CERT_FILE,
 * REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, then the system store. Sets o->cacert(_from). */
void cli_pick_cafile(struct cli_opts *o);

#endif
