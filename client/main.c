/*
 * squirrel-client: fetch the club's secret from SECRET_URL (or the URL argument), over HTTP
 * or HTTPS, and decrypt it with SECRET_KEY when the server sends a Fernet token.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "cli.h"
#include "fernet.h"
#include "keylog.h"
#include "msg.h"
#include "opt.h"
#include "pki.h"
#include "termsafe.h"
#include "sandbox.h"
#include "transport.h"

static const char usage_text[] =
	"usage: squirrel-client [options] [URL]\n"
	"\n"
	"Fetches the secret from URL, else from $SECRET_URL, and prints it.\n"
	"  --raw                print the body alone (for scripts)\n"
	"  --timeout SECONDS    limit for the whole fetch (default 10, at most 86400)\n"
	"  --fernet             the body is a Fernet token: decrypt it with $SECRET_KEY\n"
	"                       (on by itself when SECRET_KEY is set)\n"
	"  --ttl SECONDS        refuse tokens older than this\n"
	"  --cacert FILE        trust this CA file alone (else SSL_CERT_FILE, REQUESTS_CA_BUNDLE,\n"
	"                       CURL_CA_BUNDLE, then the system store)\n"
	"  --cert FILE --key FILE [--key-password-file FILE]   a client certificate (mutual TLS)\n"
	"  -k, --insecure       do not verify the server's certificate (warns every time)\n"
	"  --tls-max VERSION    1.2: speak TLS 1.2 at most (default: 1.3)\n"
	"  --keylog FILE        append the TLS session keys to FILE, for Wireshark (else\n"
	"                       $SSLKEYLOGFILE; whoever reads FILE can decrypt the fetch)\n"
	"  -v, --verbose        show the TLS session, the certificates and the HTTP heads\n"
	"  --user NAME          started as root: run as NAME once connected (default nobody)\n"
	"  --no-sandbox         do not confine the client once connected (for debugging)\n"
	"\n"
	"See squirrel-client(1) for the exit codes.\n";

enum {
	OPT_RAW = 256,
	OPT_TIMEOUT,
	OPT_FERNET,
	OPT_TTL,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_KEY_PASSWORD_FILE,
	OPT_TLS_MAX,
	OPT_KEYLOG,
	OPT_USER,
	OPT_NO_SANDBOX,
};

static const struct option long_opts[] = {
	{"raw", no_argument, NULL, OPT_RAW},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"fernet", no_argument, NULL, OPT_FERNET},
	{"ttl", required_argument, NULL, OPT_TTL},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"key-password-file", required_argument, NULL, OPT_KEY_PASSWORD_FILE},
	{"user", required_argument, NULL, OPT_USER},
	{"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
	{"insecure", no_argument, NULL, 'k'},
	{"tls-max", required_argument, NULL, OPT_TLS_MAX},
	{"keylog", required_argument, NULL, OPT_KEYLOG},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Filled by the options; the client confines itself once connected (confine()). */
static struct sandbox client_sandbox = {.role = SANDBOX_CLIENT, .quiet = 1};

struct args {
	struct cli_opts o;
	const char *url;
	const char *keylog; /* --keylog FILE */
	int raw, fernet;
	long ttl;
};

/* curl's --tls-max: the highest version to offer. squirrel speaks nothing below 1.2. */
static int
parse_tls_max(const char *v, struct cli_opts *o)
{
	if (strcmp(v, "1.2") == 0 || strcmp(v, "1.3") == 0 || strcmp(v, "default") == 0) {
		o->tls12_only = strcmp(v, "1.2") == 0;
		return 0;
	}
	if (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0)
		msg_error("--tls-max %s: squirrel-client speaks TLS 1.2 and 1.3 only", v);
	else
		msg_error("--tls-max: expected 1.2 or 1.3, got '%s'", v);
	return -1;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	long secs;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":kvh", long_opts, NULL)) != -1) {
		switch (ch) {
		case OPT_RAW: a->raw = 1; break;
		case OPT_TIMEOUT:
			if (opt_number("--timeout", optarg, 1, CLI_MAX_TIMEOUT_S, &secs) < 0)
				return -1;
			a->o.timeout_ms = (int)(secs * 1000);
			break;
		case OPT_FERNET: a->fernet = 1; break;
		case OPT_TTL:
			if (opt_number("--ttl", optarg, 1, CLI_MAX_TTL_S, &a->ttl) < 0)
				return -1;
			break;
		case OPT_CACERT: a->o.cacert = optarg; break;
		case OPT_CERT: a->o.cert = optarg; break;
		case OPT_KEY: a->o.key = optarg; break;
		case OPT_KEY_PASSWORD_FILE: a->o.key_password_file = optarg; break;
		case OPT_USER: client_sandbox.user = optarg; break;
		case OPT_NO_SANDBOX: client_sandbox.off = 1; break;
		case 'k': a->o.insecure = 1; break;
		case OPT_TLS_MAX:
			if (parse_tls_max(optarg, &a->o) < 0)
				return -1;
			break;
		case OPT_KEYLOG: a->keylog = optarg; break;
		case 'v': a->o.verbose = 1; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return opt_unknown(argv, ch);
		}
	}
	if (optind < argc)
		a->url = argv[optind++];
	if (optind < argc) {
		msg_error("one URL at a time; unexpected '%s'", argv[optind]);
		return -1;
	}
	if ((a->o.cert == NULL) != (a->o.key == NULL)) {
		msg_error("--cert and --key go together");
		return -1;
	}
	return 0;
}

/* Bytes a server chose, made harmless for a terminal (termsafe.h). */
static void
write_escaped(FILE *f, const char *p, size_t n, unsigned rule)
{
	char piece[4096];

	while (n > 0) {
		size_t took = termsafe_copy(piece, sizeof(piece), p, n, rule, NULL);

		fputs(piece, f);
		p += took;
		n -= took;
	}
}

/* A message head, each line after prefix, its CRLF ending as a newline. */
static void
print_line(FILE *f, const char *prefix, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t line = nl != NULL ? (size_t)(nl - p) + 1 : n;
		size_t text = nl != NULL ? line - 1 : n;

		if (text > 0 && p[text - 1] == '\r')
			text--;
		fputs(prefix, f);
		write_escaped(f, p, text, TERMSAFE_HEX);
		fputc('\n', f);
		p += line;
		n -= line;
	}
}

static void
show_head(char dir, const char *head, size_t len)
{
	print_line(stderr, dir == '>' ? "> " : "< ", head, len);
}

static void
show_tls(struct tr *t)
{
	struct tr_info info;
	const unsigned char *der;
	char sentence[512];
	int len;

	if (tr_tls_info(t, &info) == 0)
		fprintf(stderr, "* TLS %s, cipher %s, key exchange %s, session %s\n", info.version,
			info.cipher, info.group, info.resumed ? "resumed" : "new (full handshake)");
	for (int i = 0; tr_tls_peer_cert(t, i, &der, &len); i++) {
		if (pki_cert_sentence(der, (size_t)len, sentence, sizeof(sentence)) == 0)
			fprintf(stderr, "* certificate %d: %s\n", i, sentence);
		else
			fprintf(stderr, "* certificate %d: (cannot be described)\n", i);
	}
}

/* Once connected, with every file read and name resolved, the client needs only its socket,
 * stdout and stderr (common/sandbox.h). Its line is for -v only: a fetch prints the secret. */
static int
confine(char *err, size_t errlen)
{
	return sandbox_enter(&client_sandbox, err, errlen);
}

static int
load_keys(struct fernet_key *keys, size_t *n)
{
	const char *text = getenv("SECRET_KEY");
	char err[256];

	if (text == NULL || *text == '\0') {
		msg_error("--fernet needs SECRET_KEY, the key the server uses (export "
			  "SECRET_KEY=...)");
		return -1;
	}
	if (fernet_keys_parse(text, keys, FERNET_MAX_KEYS, n, err, sizeof(err)) < 0) {
		msg_error("SECRET_KEY: %s (make one with: squirrel-pki fernet-key)", err);
		return -1;
	}
	return 0;
}

/* The body without surrounding whitespace: a server may end a token with a newline. */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && strchr(" \t\r\n", **p) != NULL)
		(*p)++, (*n)--;
	while (*n > 0 && strchr(" \t\r\n", (*p)[*n - 1]) != NULL)
		(*n)--;
}

/* 1 if a body without surrounding whitespace has the shape of a Fernet token (url-safe
 * base64, version 0x80, whole blocks): its HMAC needs a key, its shape does not. *ts gets
 * its time. */
static int
looks_like_token(const char *body, size_t len, uint64_t *ts)
{
	struct fernet_detail d;
	char none[1];
	size_t n;
	int rc;

	rc = fernet_decrypt_detail(NULL, 0, body, len, (uint64_t)time(NULL), 0, none, 0, &n, &d);
	*ts = d.timestamp;
	/* With no key to try, a token of the right shape fails at its HMAC. */
	return rc == FERNET_EINVALID && (d.why == FERNET_WHY_MAC || d.why == FERNET_WHY_FUTURE);
}

static int
decrypt(const struct fernet_key *keys, size_t nkeys, long ttl, const char *body, size_t len,
	char *out, size_t cap, size_t *outlen)
{
	struct fernet_detail d;
	char shown[4 * 40 + 1];
	uint64_t ts;
	int rc;

	trim(&body, &len);
	rc = fernet_decrypt_detail(keys, nkeys, body, len, (uint64_t)time(NULL), ttl, out, cap,
				   outlen, &d);
	if (rc == 0)
		return 0;
	if (rc == FERNET_ENOSPACE || (d.why == FERNET_WHY_LENGTH && len > FERNET_MAX_TOKEN))
		msg_error(
			"invalid token: it is longer than the %d-character tokens squirrel-client "
			"opens (messages up to %d bytes)",
			FERNET_MAX_TOKEN, FERNET_MAX_OPEN);
	else if (d.why == FERNET_WHY_EXPIRED)
		msg_error("invalid token: the token is older than %ld second%s (--ttl %ld)", ttl,
			  ttl == 1 ? "" : "s", ttl);
	else if (d.why == FERNET_WHY_FUTURE)
		msg_error("invalid token: the token is dated in the future (are the clocks set?)");
	else if (!looks_like_token(body, len, &ts)) {
		/* A downgrade is refused: a key-holder never takes plain text for the secret. */
		size_t took = termsafe_copy(shown, sizeof(shown), body, len < 40 ? len : 40,
					    TERMSAFE_HEX, NULL);

		msg_error("invalid token: SECRET_KEY is set, but the server answered in plain text "
			  "(\"%s%s\"), not with a Fernet token; if it is meant to (plain or https "
			  "mode), run: unset SECRET_KEY",
			  shown, took < len ? "..." : "");
	} else
		msg_error("invalid token: the response could not be decrypted with SECRET_KEY "
			  "(a key other than the server's)");
	return -1;
}

/* Printed as it came, without SECRET_KEY: say what it is, lest it pass for the secret. */
static void
note_token(const char *body, size_t len)
{
	char date[32] = "";
	struct tm tm;
	uint64_t ts;
	time_t t;

	trim(&body, &len);
	if (!looks_like_token(body, len, &ts))
		return;
	t = (time_t)ts;
	if ((uint64_t)t == ts && gmtime_r(&t, &tm) != NULL)
		strftime(date, sizeof(date), ", made %Y-%m-%d %H:%M:%S UTC", &tm);
	msg_note("that is a Fernet token%s, not the message: to open it, export SECRET_KEY with "
		 "the server's key",
		 date);
}

/* A body that begins with its own status ("400 Bad Request: the plain HTTP request...", as
 * nginx and squirrel-server word their errors) is shown without it: the line says it once. */
static void
skip_status_echo(const struct cli_result *res, const char **p, size_t *n)
{
	char status[8];
	int k = snprintf(status, sizeof(status), "%d ", res->status);
	size_t len = (size_t)k + res->reason_len;

	if (*n < len || memcmp(*p, status, (size_t)k) != 0 ||
	    memcmp(*p + k, res->reason, res->reason_len) != 0)
		return;
	*p += len;
	*n -= len;
	if (*n > 0 && **p == ':')
		(*p)++, (*n)--;
	trim(p, n);
}

/*
 * The URL as error lines show it: a user name and password (refused, but typed) become ***,
 * as messages end up in logs. Authority found as url_parse finds it.
 */
static const char *
shown_url(const char *url, char *out, size_t cap)
{
	const char *sep = strstr(url, "://"), *p = url, *at = NULL;
	size_t n;

	if (sep != NULL && strcspn(url, "/?#") > (size_t)(sep - url))
		p = sep + 3;
	n = strcspn(p, "/?#");
	for (size_t i = 0; i < n; i++)
		if (p[i] == '@')
			at = p + i;
	if (at == NULL)
		return url;
	snprintf(out, cap, "%.*s***%s", (int)(p - url), url, at);
	return out;
}

/*
 * Start-up after the options: the URL (argument or SECRET_URL) parsed into u, SECRET_KEY's
 * keys when the body is a token, the verbose hooks. CLI_OK, or the exit code after a message.
 */
static int
start_up(struct args *a, struct url *u, struct fernet_key *keys, size_t *nkeys)
{
	const char *secret_key = getenv("SECRET_KEY");
	char err[1024];

	if (a->url == NULL)
		a->url = getenv("SECRET_URL");
	if (a->url == NULL || *a->url == '\0') {
		msg_error("no URL: give one, or set SECRET_URL, e.g. "
			  "SECRET_URL=http://127.0.0.1:5683 squirrel-client");
		return CLI_USAGE;
	}
	if (url_parse(a->url, u, err, sizeof(err)) < 0) {
		char shown[URL_PATH_MAX + 64];

		msg_error("%s: malformed URL: %s", shown_url(a->url, shown, sizeof(shown)), err);
		return CLI_URL;
	}
	if (u->scheme_implied)
		msg_note("'%s' has no scheme; assuming http://%s", a->url, a->url);
	if (a->fernet || (secret_key != NULL && *secret_key != '\0')) {
		if (load_keys(keys, nkeys) < 0)
			return CLI_KEY;
		a->fernet = 1;
	}
	if (a->o.verbose) {
		a->o.on_handshake = show_tls;
		a->o.on_head = show_head;
		client_sandbox.quiet = 0;
	}
	a->o.on_connected = confine;
	return CLI_OK;
}

/* The TLS context for an https:// URL (*ctx stays NULL for http://). CLI_OK or an exit code. */
static int
tls_context(struct args *a, const struct url *u, WOLFSSL_CTX **ctx)
{
	char err[1024];
	int rc;

	if (u->tls) {
		cli_pick_cafile(&a->o);
		if (a->o.insecure)
			msg_warn(
				"--insecure: the server's certificate is not checked; anyone on the "
				"path can pose as it");
		if (keylog_start(a->keylog, !a->o.tls12_only,
				 "or fetch over TLS 1.2 with --tls-max 1.2") < 0)
			return CLI_WRITE;
		rc = cli_tls_ctx(&a->o, ctx, err, sizeof(err));
		if (rc != CLI_OK)
			msg_error("%s", err);
		return rc;
	}
	if (a->o.cacert != NULL || a->o.cert != NULL || a->o.insecure || a->keylog != NULL ||
	    a->o.tls12_only)
		/* The tutorial itself passes verify= with an http:// URL: nothing is verified. */
		msg_warn("%s is http://: no TLS is in use, so --cacert/--cert/--insecure/--keylog/"
			 "--tls-max do nothing (did you mean https://?)",
			 a->url);
	return CLI_OK;
}

/* A status other than 2xx, in one error line. The reason, the Location and the body's first
 * line are escaped: the server chose them. Returns CLI_HTTP. */
static int
status_error(const struct cli_result *res)
{
	char reason[4 * 200 + 1], line[4 * 200 + 1];
	const char *p = res->body;
	size_t n = res->body_len, first = 0;

	trim(&p, &n);
	skip_status_echo(res, &p, &n);
	while (first < n && first < 200 && p[first] != '\r' && p[first] != '\n')
		first++;
	termsafe_copy(reason, sizeof(reason), res->reason, res->reason_len, TERMSAFE_HEX, NULL);
	if (res->location != NULL) {
		termsafe_copy(line, sizeof(line), res->location,
			      res->location_len < 200 ? res->location_len : 200, TERMSAFE_HEX,
			      NULL);
		msg_error("the server answered %d %s, pointing to %s (squirrel-client does not "
			  "follow redirects: fetch that URL instead)",
			  res->status, reason, line);
		return CLI_HTTP;
	}
	termsafe_copy(line, sizeof(line), p, first, TERMSAFE_HEX, NULL);
	msg_error("the server answered %d %s%s%s", res->status, reason, first ? ": " : "", line);
	return CLI_HTTP;
}

/* The secret on stdout: the body, opened as a Fernet token with a->fernet. */
static int
print_secret(const struct args *a, const struct fernet_key *keys, size_t nkeys,
	     const struct cli_result *res)
{
	char plain[FERNET_MAX_OPEN + 1];
	const char *body = res->body;
	size_t body_len = res->body_len;
	int rc = CLI_OK;

	if (a->fernet) {
		if (decrypt(keys, nkeys, a->ttl, body, body_len, plain, sizeof(plain) - 1,
			    &body_len) < 0)
			return CLI_TOKEN;
		body = plain;
	}
	/* On a terminal the body is escaped, as the server chose its bytes (curl refuses binary
	 * output there); --raw, pipes and files get the bytes as they came. */
	if (!a->raw)
		fputs("The secret message is: ", stdout);
	if (!a->raw && isatty(STDOUT_FILENO))
		write_escaped(stdout, body, body_len, TERMSAFE_HEX | TERMSAFE_LINES);
	else
		fwrite(body, 1, body_len, stdout);
	if (!a->raw)
		fputc('\n', stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("cannot write the secret to standard output: %s", strerror(errno));
		rc = CLI_WRITE;
	} else if (!a->fernet && !a->raw) {
		note_token(body, body_len);
	}
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

int
main(int argc, char **argv)
{
	struct args a = {.o = {.timeout_ms = CLI_DEFAULT_TIMEOUT_MS}};
	struct fernet_key keys[FERNET_MAX_KEYS];
	size_t nkeys = 0;
	struct cli_result res;
	WOLFSSL_CTX *ctx = NULL;
	char err[1024];
	struct url u;
	int rc;

	msg_init("squirrel-client");
	/* As curl: a reader of stdout that has gone (| head -c1) is a write error, reported with
	 * its reason and exit 23, not a silent death by signal; a server gone mid-request is an
	 * error from send() (plain sends have MSG_NOSIGNAL; wolfSSL's may not). */
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &a) < 0)
		return CLI_USAGE;
	rc = start_up(&a, &u, keys, &nkeys);
	if (rc != CLI_OK)
		return rc;
	wolfSSL_Init();
	rc = tls_context(&a, &u, &ctx);
	if (rc == CLI_OK) {
		rc = cli_fetch(&a.o, &u, ctx, &res, err, sizeof(err));
		if (rc != CLI_OK)
			msg_error("%s", err);
	}
	if (rc == CLI_OK)
		rc = res.status / 100 != 2 ? status_error(&res)
					   : print_secret(&a, keys, nkeys, &res);
	explicit_bzero(keys, sizeof(keys));
	if (ctx != NULL)
		wolfSSL_CTX_free(ctx);
	keylog_finish();
	wolfSSL_Cleanup();
	return rc;
}
