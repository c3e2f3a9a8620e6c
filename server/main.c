/*
 * squirrel-server: serves the club's secret in one of the tutorial's modes.
 * Parses options and the environment, opens the listener and TLS context, and runs the loop.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "addr.h"
#include "hint.h"
#include "keylog.h"
#include "msg.h"
#include "opt.h"
#include "pass.h"
#include "sandbox.h"
#include "srv.h"
#include "srv_tls.h"
#include "srv_workers.h"

/* Exit codes, listed in squirrel-server(1). */
enum {
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_LISTEN = 3,   /* cannot listen on the address */
	EXIT_TLSFILE = 4,  /* certificate or key unreadable, garbled, expired or mismatched */
	EXIT_PASSWORD = 5, /* the key's password is missing or wrong */
	EXIT_KEY = 6,      /* SECRET_KEY missing or malformed */
	EXIT_KEYLOG = 7,   /* the --keylog file cannot be opened */
};

static const char usage_text[] =
	"usage: squirrel-server [--mode plain|fernet|tls] [--listen HOST:PORT] [--message TEXT]\n"
	"                       [--quiet] [--cert FILE --key FILE [--key-password-file FILE]\n"
	"                       [--client-ca FILE] [--fernet]] [--workers N] [--max-conns N]\n"
	"                       [--header-timeout S] [--idle-timeout S] [--handshake-timeout S]\n"
	"                       [--defer-accept S] [--keylog FILE] [--user NAME] [--no-sandbox]\n"
	"\n"
	"  --mode plain     HTTP: anyone on the path reads the secret (default)\n"
	"  --mode fernet    HTTP with the body as a Fernet token; the key comes from SECRET_KEY\n"
	"  --mode tls       HTTPS with --cert and --key (add --fernet for a token inside TLS)\n"
	"  --listen         address to listen on (default 127.0.0.1:5683; [::1]:PORT, 0.0.0.0:PORT)\n"
	"  --message        the secret (default: $SECRET_MESSAGE, else 'fluffy tail')\n"
	"  --quiet          no access log\n"
	"  --keylog FILE    append TLS session keys to FILE, for Wireshark (else $SSLKEYLOGFILE;\n"
	"                   whoever reads FILE can decrypt every connection)\n"
	"  --user NAME      started as root: run as NAME once listening (default nobody)\n"
	"  --no-sandbox     do not confine the server after start-up (for debugging)\n"
	"\n"
	"See squirrel-server(1) for every option, limit and exit code.\n";

static void
on_stop(int sig)
{
	srv_stop_requested = sig;
}

static void
on_hup(int sig)
{
	(void)sig;
	srv_reload_requested = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() must return so the loop sees the flag at once. */
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* A whole number of seconds in [1, max], as milliseconds. */
static int
parse_seconds(const char *opt, const char *v, int max, int *ms)
{
	long n;

	if (opt_number(opt, v, 1, max, &n) < 0)
		return -1;
	*ms = (int)n * 1000;
	return 0;
}

static int
parse_count(const char *opt, const char *v, int max, int *out)
{
	long n;

	if (opt_number(opt, v, 1, max, &n) < 0)
		return -1;
	*out = (int)n;
	return 0;
}

enum {
	OPT_MESSAGE = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_KEY_PASSWORD_FILE,
	OPT_CLIENT_CA,
	OPT_FERNET,
	OPT_WORKERS,
	OPT_MAX_CONNS,
	OPT_HEADER_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_DEFER_ACCEPT,
	OPT_KEYLOG,
	OPT_USER,
	OPT_NO_SANDBOX,
};

static const struct option long_opts[] = {
	{"mode", required_argument, NULL, 'm'},
	{"listen", required_argument, NULL, 'l'},
	{"message", required_argument, NULL, OPT_MESSAGE},
	{"quiet", no_argument, NULL, 'q'},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"key-password-file", required_argument, NULL, OPT_KEY_PASSWORD_FILE},
	{"client-ca", required_argument, NULL, OPT_CLIENT_CA},
	{"fernet", no_argument, NULL, OPT_FERNET},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
	{"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	{"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
	{"defer-accept", required_argument, NULL, OPT_DEFER_ACCEPT},
	{"keylog", required_argument, NULL, OPT_KEYLOG},
	{"user", required_argument, NULL, OPT_USER},
	{"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int
parse_mode(const char *arg, enum srv_mode *mode)
{
	if (strcmp(arg, "plain") == 0)
		*mode = SRV_PLAIN;
	else if (strcmp(arg, "fernet") == 0)
		*mode = SRV_FERNET;
	else if (strcmp(arg, "tls") == 0)
		*mode = SRV_TLS;
	else {
		msg_error("--mode: expected plain, fernet or tls, got '%s'", arg);
		return -1;
	}
	return 0;
}

/* Option ch with its argument into cfg (--fernet into *tls_fernet). 0, or -1 after a message. */
static int
take_option(int ch, const char *arg, struct srv_config *cfg, int *tls_fernet, struct sandbox *sb)
{
	long n;

	switch (ch) {
	case 'm': return parse_mode(arg, &cfg->mode);
	case 'l': cfg->listen = arg; break;
	case OPT_MESSAGE: cfg->message = arg; break;
	case 'q': cfg->quiet = 1; break;
	case OPT_CERT: cfg->cert = arg; break;
	case OPT_KEY: cfg->key = arg; break;
	case OPT_KEY_PASSWORD_FILE: cfg->key_password_file = arg; break;
	case OPT_CLIENT_CA: cfg->client_ca = arg; break;
	case OPT_KEYLOG: cfg->keylog = arg; break;
	case OPT_FERNET: *tls_fernet = 1; break;
	case OPT_WORKERS: return parse_count("--workers", arg, 64, &cfg->workers);
	case OPT_MAX_CONNS: return parse_count("--max-conns", arg, 1 << 20, &cfg->max_conns);
	case OPT_HEADER_TIMEOUT:
		return parse_seconds("--header-timeout", arg, 3600, &cfg->header_ms);
	case OPT_IDLE_TIMEOUT: return parse_seconds("--idle-timeout", arg, 86400, &cfg->idle_ms);
	case OPT_HANDSHAKE_TIMEOUT:
		return parse_seconds("--handshake-timeout", arg, 3600, &cfg->handshake_ms);
	case OPT_DEFER_ACCEPT:
		if (opt_number("--defer-accept", arg, 0, 60, &n) < 0)
			return -1;
		cfg->defer_accept_s = (int)n;
		break;
	case OPT_USER: sb->user = arg; break;
	case OPT_NO_SANDBOX: sb->off = 1; break;
	}
	return 0;
}

/* The options that go together, checked together. 0, or -1 after a message. */
static int
check_config(struct srv_config *cfg, int tls_fernet)
{
	char host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	const char *why;

	if (addr_split(cfg->listen, host, port, &why) < 0) {
		msg_error("--listen %s: %s", cfg->listen, why);
		return -1;
	}
	if (cfg->mode == SRV_TLS && (cfg->cert == NULL || cfg->key == NULL)) {
		msg_error(
			"--mode tls needs --cert FILE and --key FILE (make them with squirrel-pki)");
		return -1;
	}
	if (cfg->mode != SRV_TLS && (cfg->cert || cfg->key || cfg->key_password_file ||
				     cfg->client_ca || tls_fernet || cfg->keylog)) {
		msg_error("--cert, --key, --key-password-file, --client-ca, --fernet and --keylog "
			  "need --mode tls");
		return -1;
	}
	cfg->fernet = cfg->mode == SRV_FERNET || tls_fernet;
	return 0;
}

static int
parse_args(int argc, char **argv, struct srv_config *cfg, struct sandbox *sb)
{
	int ch, tls_fernet = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:l:qh", long_opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (ch == '?' || ch == ':')
			return opt_unknown(argv, ch);
		if (take_option(ch, optarg, cfg, &tls_fernet, sb) < 0)
			return -1;
	}
	if (optind < argc) {
		msg_error("unexpected argument '%s' (try --help)", argv[optind]);
		return -1;
	}
	return check_config(cfg, tls_fernet);
}

static int
load_secret_key(struct srv_config *cfg)
{
	struct fernet_key keys[FERNET_MAX_KEYS];
	const char *text = getenv("SECRET_KEY");
	char err[256];
	size_t n = 0;
	int rc;

	if (text == NULL || *text == '\0') {
		msg_error(
			"SECRET_KEY is not set; make a key with: export SECRET_KEY=$(squirrel-pki "
			"fernet-key)");
		return -1;
	}
	if (fernet_keys_parse(text, keys, FERNET_MAX_KEYS, &n, err, sizeof(err)) < 0) {
		msg_error("SECRET_KEY: %s; make a key with: squirrel-pki fernet-key", err);
		return -1;
	}
	/* Newest first: the first key encrypts; clients may still hold older ones. */
	rc = fernet_ctx_init(&cfg->fctx, &keys[0]);
	explicit_bzero(keys, sizeof(keys));
	if (rc != 0) {
		msg_error("SECRET_KEY: %s", fernet_strerror(rc));
		return -1;
	}
	return 0;
}

static int
key_password(const struct srv_config *cfg, char *buf, size_t cap, int *have)
{
	int rc;

	*have = 0;
	if (cfg->key_password_file != NULL) {
		rc = pass_read_file(cfg->key_password_file, buf, cap);
		if (rc < 0) {
			msg_error("%s: %s%s%s", cfg->key_password_file, pass_strerror(rc),
				  rc == PASS_EREAD ? ": " : "",
				  rc == PASS_EREAD ? strerror(errno) : "");
			return -1;
		}
		*have = 1;
		return 0;
	}
	if (!srv_tls_key_encrypted(cfg->key))
		return 0;
	/* As uWSGI and OpenSSL do for the tutorial's encrypted key: ask on the terminal. */
	char prompt[PATH_MAX + 64];

	snprintf(prompt, sizeof(prompt), "Enter PEM pass phrase for %s: ", cfg->key);
	rc = pass_prompt(prompt, NULL, buf, cap);
	if (rc == PASS_ENOTTY) {
		msg_error("%s: the key is encrypted and there is no terminal to ask for its "
			  "password; give --key-password-file FILE",
			  cfg->key);
		return -1;
	}
	if (rc < 0) {
		msg_error("%s: %s", cfg->key, pass_strerror(rc));
		return -1;
	}
	*have = 1;
	return 0;
}

static void
reload(struct srv *s)
{
	const char *files[] = {s->cfg->cert, s->cfg->key, s->cfg->client_ca};
	char err[512];
	int refused = 0;

	if (s->cfg->mode != SRV_TLS) {
		msg_note("SIGHUP: nothing to reload in %s mode",
			 s->cfg->mode == SRV_PLAIN ? "plain" : "fernet");
		return;
	}
	alog_flush(&s->log);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !refused; i++)
		refused = files[i] != NULL && sandbox_may_read(files[i], err, sizeof(err)) < 0;
	if (refused || srv_tls_reload(s, err, sizeof(err)) < 0)
		msg_error("reload failed, keeping the old certificate: %s", err);
	else
		msg_info("reloaded %s and %s for new connections", s->cfg->cert, s->cfg->key);
}

/*
 * TLS: a command only when it works as printed: a host the certificate names, and --cacert
 * only with a file that signed it (none when the system store trusts it).
 */
static void
banner_tls(const struct srv_config *cfg, const char *listen_host, const char *h, const char *port)
{
	struct srv_hint hint;
	char url[ADDR_TEXT_MAX + 16];

	if (srv_hint_tls(cfg->cert, listen_host, &hint) < 0)
		hint.host[0] = '\0';
	if (hint.host[0] != '\0')
		h = hint.host;
	snprintf(url, sizeof(url), "https://%s%s%s:%s", strchr(h, ':') ? "[" : "", h,
		 strchr(h, ':') ? "]" : "", port);
	msg_info("serving the secret over HTTPS on %s/ with %s%s", url, cfg->cert,
		 cfg->fernet ? " (body as a Fernet token)" : "");
	if (hint.host[0] == '\0') {
		msg_note("%s names %s, and none of them leads to this server: clients will refuse "
			 "it unless they reach it by one of those names (squirrel-pki csr --san "
			 "localhost --san 127.0.0.1 makes a certificate for this machine)",
			 cfg->cert, hint.names);
		return;
	}
	if (hint.trust == HINT_TRUST_UNKNOWN)
		msg_info("in a second terminal%s: SECRET_URL=%s squirrel-client --cacert CA-FILE "
			 "(CA-FILE: the certificate of %s, which signed %s)",
			 cfg->fernet ? ", with the same SECRET_KEY exported" : "", url, hint.issuer,
			 cfg->cert);
	else
		msg_info("in a second terminal%s: SECRET_URL=%s squirrel-client%s%s",
			 cfg->fernet ? ", with the same SECRET_KEY exported" : "", url,
			 hint.trust == HINT_TRUST_FILE ? " --cacert " : "",
			 hint.trust == HINT_TRUST_FILE ? hint.cacert : "");
}

/* The exact command for the second terminal, as the tutorial's reader needs it. */
static void
banner(const struct srv_config *cfg)
{
	char host[ADDR_HOST_MAX], port[ADDR_PORT_MAX], url[ADDR_TEXT_MAX + 16];
	const char *why, *h;
	int v6;

	if (addr_split(cfg->listen, host, port, &why) < 0)
		return;
	h = host;
	if (strcmp(host, "0.0.0.0") == 0)
		h = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		h = "::1";
	v6 = strchr(h, ':') != NULL;
	snprintf(url, sizeof(url), "%s://%s%s%s:%s", cfg->mode == SRV_TLS ? "https" : "http",
		 v6 ? "[" : "", h, v6 ? "]" : "", port);
	switch (cfg->mode) {
	case SRV_PLAIN:
		msg_info(
			"serving the secret over plain HTTP on %s/ (anyone on the path can read it)",
			url);
		msg_info("in a second terminal: SECRET_URL=%s squirrel-client", url);
		break;
	case SRV_FERNET:
		msg_info("serving the secret as a Fernet token on %s/ (only SECRET_KEY holders can "
			 "read it)",
			 url);
		msg_info("in a second terminal, with the same SECRET_KEY exported: SECRET_URL=%s "
			 "squirrel-client",
			 url);
		break;
	case SRV_TLS: banner_tls(cfg, host, h, port); break;
	}
}

/* Private keys and the Fernet key live in this process: keep them out of core files. */
static void
no_core_dumps(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Confine the server (common/sandbox.h) once its listeners, keys and files are in hand. With
 * --workers the supervisor confines itself before forking, and each worker inherits that. */
static int
confine(const struct srv_config *cfg, struct sandbox *sb)
{
	char host[ADDR_HOST_MAX], port[ADDR_PORT_MAX], err[512];
	const char *why;

	sb->role = cfg->workers > 1 ? SANDBOX_SUPERVISOR : SANDBOX_SERVER;
	if (cfg->mode == SRV_TLS) {
		/* What SIGHUP re-reads (the password is kept in memory). */
		sb->reads[0] = cfg->cert;
		sb->reads[1] = cfg->key;
		sb->reads[2] = cfg->client_ca;
	}
	if (addr_split(cfg->listen, host, port, &why) == 0)
		sb->tcp_port = (int)strtol(port, NULL, 10);
	if (sandbox_enter(sb, err, sizeof(err)) < 0) {
		msg_error("%s", err);
		return -1;
	}
	return 0;
}

/* What each worker needs; in a forked worker these are its own copies. */
struct workers {
	const struct srv_config *cfg;
	WOLFSSL_CTX *ctx;
	int *lfds;
	int n;
	int claim; /* --workers: the supervisor's claim on the port (srv_claim_port), or -1 */
};

static int
run_worker(int i, void *arg)
{
	struct workers *w = arg;
	char err[512];
	struct srv s;
	int rc;

	if (w->n > 1) {
		/* A forked worker: the other workers' listeners are theirs. */
		for (int j = 0; j < w->n; j++)
			if (j != i && w->lfds[j] >= 0)
				close(w->lfds[j]);
		if (w->cfg->mode == SRV_TLS && srv_tls_after_fork() < 0) {
			msg_error("worker %d: cannot seed its random generator", i);
			return EXIT_RUNTIME;
		}
	}
	if (srv_init(&s, w->cfg, w->lfds[i], err, sizeof(err)) < 0) {
		msg_error("%s", err);
		return EXIT_RUNTIME;
	}
	s.ctx = w->ctx;
	s.on_reload = reload;
	rc = srv_loop(&s);
	srv_free(&s);
	srv_tls_forget_password();
	srv_tls_ticket_wipe();
	keylog_finish();
	return rc == 0 ? 0 : EXIT_RUNTIME;
}

/* Before forking worker i: its listener, again if a failed fork closed it. */
static int
listen_worker(int i, void *arg)
{
	struct workers *w = arg;
	char err[512];

	if (w->lfds[i] >= 0)
		return 0;
	w->lfds[i] = srv_listen(w->cfg->listen, 1, w->cfg->defer_accept_s, err, sizeof(err));
	if (w->lfds[i] < 0) {
		msg_error("cannot start worker %d: %s; trying again in a second", i, err);
		return -1;
	}
	return 0;
}

/* Worker i could not be started: nobody would accept on its listener. */
static void
unlisten_worker(int i, void *arg)
{
	struct workers *w = arg;

	if (w->lfds[i] >= 0)
		close(w->lfds[i]);
	w->lfds[i] = -1;
}

/* SIGHUP in the supervisor: workers started from now on get the new certificate too. */
static void
reload_parent(void *arg)
{
	struct workers *w = arg;
	WOLFSSL_CTX *ctx;
	char err[512];

	if (w->cfg->mode != SRV_TLS)
		return;
	/* The workers say what they did; a failure here leaves new workers the old files. */
	if (srv_tls_rebuild(w->cfg, &ctx, err, sizeof(err)) == 0) {
		wolfSSL_CTX_free(w->ctx);
		w->ctx = ctx;
	}
}

static const struct srv_worker_ops worker_ops = {
	.run = run_worker,
	.listen = listen_worker,
	.unlisten = unlisten_worker,
	.on_hup = reload_parent,
};

/* The secret: --message, else SECRET_MESSAGE, else the default. 0, or -1 after a message. */
static int
take_message(struct srv_config *cfg)
{
	if (cfg->message == NULL)
		cfg->message = getenv("SECRET_MESSAGE");
	if (cfg->message == NULL)
		cfg->message = SRV_DEFAULT_MESSAGE;
	cfg->message_len = strlen(cfg->message);
	if (cfg->message_len > SRV_MAX_MESSAGE) {
		msg_error("the message is %zu bytes; at most %d are served", cfg->message_len,
			  SRV_MAX_MESSAGE);
		return -1;
	}
	return 0;
}

/* The TLS context (*ctx), the key's password kept for SIGHUP, the ticket key. 0 or an exit
 * code after a message. */
static int
start_tls(const struct srv_config *cfg, WOLFSSL_CTX **ctx)
{
	char err[512], password[PASS_MAX + 1];
	int rc, have_password = 0;

	/* Opened here, once: workers inherit the descriptor and only write to it. */
	if (keylog_start(cfg->keylog, 1, NULL) < 0)
		return EXIT_KEYLOG;
	if (key_password(cfg, password, sizeof(password), &have_password) < 0)
		return EXIT_PASSWORD;
	rc = srv_tls_ctx(cfg, have_password ? password : NULL, ctx, err, sizeof(err));
	if (rc < 0) {
		explicit_bzero(password, sizeof(password));
		msg_error("%s", err);
		return rc == SRV_TLS_EPASSWORD ? EXIT_PASSWORD : EXIT_TLSFILE;
	}
	/* Kept for SIGHUP, which re-reads the same (possibly encrypted) key. */
	srv_tls_keep_password(have_password ? password : NULL);
	explicit_bzero(password, sizeof(password));
	if (srv_tls_ticket_init() < 0) {
		msg_error("cannot draw a session ticket key");
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * Start-up: keys, signals, the TLS context, one listener per worker, all on the same port
 * (SO_REUSEPORT when there are several). 0 with w filled, or an exit code after a message.
 */
static int
start_up(struct srv_config *cfg, struct workers *w)
{
	char err[512];
	int rc;

	if (cfg->fernet || cfg->mode == SRV_TLS)
		no_core_dumps();
	if (cfg->fernet && load_secret_key(cfg) < 0)
		return EXIT_KEY;
	install_signals();
	wolfSSL_Init();
	if (cfg->mode == SRV_TLS && (rc = start_tls(cfg, &w->ctx)) != 0)
		return rc;
	/* One listener per worker, all on the same port (SO_REUSEPORT when there are several),
	 * once the port is known to be ours alone. */
	if (cfg->workers > 1 && (w->claim = srv_claim_port(cfg->listen, err, sizeof(err))) < 0) {
		msg_error("%s", err);
		return EXIT_LISTEN;
	}
	for (w->n = 0; w->n < cfg->workers; w->n++) {
		w->lfds[w->n] = srv_listen(cfg->listen, cfg->workers > 1, cfg->defer_accept_s, err,
					   sizeof(err));
		if (w->lfds[w->n] < 0) {
			msg_error("%s", err);
			return EXIT_LISTEN;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct srv_config cfg = {
		.mode = SRV_PLAIN,
		.listen = SRV_DEFAULT_LISTEN,
		.max_conns = SRV_MAX_CONNS,
		.header_ms = SRV_HEADER_MS,
		.idle_ms = SRV_IDLE_MS,
		.handshake_ms = SRV_HANDSHAKE_MS,
		.defer_accept_s = SRV_DEFER_ACCEPT_S,
		.workers = 1,
	};
	int lfds[64], rc;
	struct sandbox sb = {0};
	struct workers w = {.cfg = &cfg, .ctx = NULL, .lfds = lfds, .n = 0, .claim = -1};

	msg_init("squirrel-server");
	if (parse_args(argc, argv, &cfg, &sb) < 0 || take_message(&cfg) < 0)
		return EXIT_USAGE;
	rc = start_up(&cfg, &w);
	if (rc != 0)
		return rc;
	/* The banner's start hint reads the certificate's folder: before confinement. */
	banner(&cfg);
	if (confine(&cfg, &sb) < 0)
		return EXIT_RUNTIME;
	/* From here on no message may wait for stderr: a reader that stopped must not stop
	 * the loop (the access log keeps the same rule) or the supervisor. */
	msg_nowait();
	if (cfg.workers == 1)
		rc = run_worker(0, &w);
	else
		rc = srv_supervise(cfg.workers, &worker_ops, &w) == 0 ? 0 : EXIT_RUNTIME;
	if (srv_stop_requested)
		msg_stopped(srv_stop_requested);
	if (cfg.workers > 1) {
		for (int i = 0; i < w.n; i++)
			if (lfds[i] >= 0)
				close(lfds[i]);
		if (w.ctx != NULL)
			wolfSSL_CTX_free(w.ctx);
		srv_tls_forget_password();
		srv_tls_ticket_wipe();
		close(w.claim);
	}
	fernet_ctx_free(&cfg.fctx);
	keylog_finish();
	wolfSSL_Cleanup();
	return rc;
}
