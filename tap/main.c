/*
 * squirrel-tap: a TCP relay that shows what an eavesdropper sees. It sits between a client and
 * a server, forwards bytes unchanged, and prints every chunk (what it recognises: HTTP,
 * Fernet tokens, TLS records; with --hex the bytes too) on stdout. Errors go to stderr.
 *
 *   squirrel-tap --listen 127.0.0.1:5684 --upstream 127.0.0.1:5683 [--grep TEXT]
 *                [--quiet | --headers | --hex | --flow] [--keylog FILE] [--idle-timeout S]
 *                [--user NAME] [--no-sandbox]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "listener.h"
#include "msg.h"
#include "opt.h"
#include "dissect.h"
#include "flow.h"
#include "sslkeys.h"
#include "relay.h"
#include "sandbox.h"

#define EXIT_USAGE 2
#define EXIT_FAIL 1
#define EXIT_OUTPUT 3  /* standard output failed (a closed pipe, a full disk) */
#define EXIT_KEYLOG 26 /* --keylog cannot be read: curl's CURLE_READ_ERROR */

struct tap_ui {
	unsigned flags; /* DIS_LAYERS, with DIS_BRIEF or DIS_HEX, or 0 for --quiet and --flow */
	const struct dis_grep *grep;
	struct dis_conn *dis; /* one per relay slot */
	int out_errno;        /* why standard output failed, or 0 */
	/* --flow: a ladder per relay slot, drawn from the dissector's events. */
	struct flow *flows;
	struct flow_view view;
	const char *upstream_text;
	/* --keylog: the key log, and dis_crypt_size() bytes of decryption state per slot. */
	struct sslkeys_file *keylog;
	unsigned char *crypt;
};

static volatile sig_atomic_t stop_flag, stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
	stop_flag = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: squirrel-tap --listen HOST:PORT --upstream HOST:PORT [--grep TEXT]\n"
		"                    [--quiet | --headers | --hex | --flow] [--keylog FILE]\n"
		"                    [--idle-timeout S] [--user NAME] [--no-sandbox]\n"
		"\n"
		"Relay TCP connections from --listen to --upstream, unchanged, and print what an\n"
		"eavesdropper sees: the HTTP messages, Fernet tokens and TLS records of each chunk.\n"
		"\n"
		"  --listen HOST:PORT    where clients connect, e.g. 127.0.0.1:5684 or [::1]:5684\n"
		"  --upstream HOST:PORT  the real server, e.g. 127.0.0.1:5683\n"
		"  --grep TEXT           say per connection whether TEXT crossed the wire in clear\n"
		"  --headers             every HTTP header line, not only their names (also --summary)\n"
		"  --hex                 every header line, and each chunk as a hex dump\n"
		"  --quiet               only connections opening and closing, and --grep verdicts\n"
		"  --flow                each connection as a ladder: one line per message, client\n"
		"                        left, server right, then what an eavesdropper learned\n"
		"  --keylog FILE         decrypt TLS with the secrets in FILE (SSLKEYLOGFILE format,\n"
		"                        as curl, browsers and Python write it)\n"
		"  --idle-timeout S      close a connection when nothing crosses it for S seconds\n"
		"                        (default 60, at most 86400)\n"
		"  --user NAME           started as root: run as NAME once listening (default "
		"nobody)\n"
		"  --no-sandbox          do not confine the tap after start-up (for debugging)\n"
		"  -h, --help            this help\n"
		"\n"
		"example: squirrel-tap --listen 127.0.0.1:5684 --upstream 127.0.0.1:5683 "
		"--grep 'fluffy tail'\n"
		"         then SECRET_URL=http://127.0.0.1:5684 squirrel-client; see "
		"squirrel-tap(1)\n");
}

/*
 * Once listening, the tap needs its sockets, stdout, stderr, TCP connections to the
 * upstream's port (common/sandbox.h), and with --keylog the files of the key log's folder:
 * a client creates the key log, or replaces it, after the tap started, so no one file can be
 * named in advance.
 */
static int
confine(struct sandbox *sb, const struct tap_addr *upstream, const char *keylog_path)
{
	char err[256], dir[PATH_MAX];
	int rc;

	sb->role = SANDBOX_TAP;
	if (keylog_path != NULL) {
		if (fs_parent_of(keylog_path, dir, sizeof(dir)) < 0) {
			msg_error("--keylog %s: the name is too long; give a shorter path",
				  keylog_path);
			return -1;
		}
		sb->read_dir = dir;
	}
	sb->tcp_family = upstream->ss.ss_family;
	sb->tcp_port = ntohs(upstream->ss.ss_family == AF_INET6
				     ? ((const struct sockaddr_in6 *)&upstream->ss)->sin6_port
				     : ((const struct sockaddr_in *)&upstream->ss)->sin_port);
	rc = sandbox_enter(sb, err, sizeof(err));
	sb->read_dir = NULL; /* dir ends here; the sandbox took what it needed */
	if (rc < 0)
		msg_error("%s", err);
	return rc < 0 ? -1 : 0;
}

/*
 * Flush what the hooks printed. The first failure (the reader of the pipe is gone, as with
 * '| head -3'; the disk is full) stops the relay: the dump is the tap's whole point, and tee
 * and tcpdump stop the same way rather than carry on unseen. SIGPIPE is ignored, so a closed
 * pipe is an EPIPE here, at the next line after the reader left.
 */
static void
out_flush(struct tap_ui *ui)
{
	if (ui->out_errno != 0)
		return;
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	ui->out_errno = errno != 0 ? errno : EIO;
	stop_flag = 1;
}

static void
emit_line(void *arg, const char *line)
{
	const struct tap_ui *ui = arg;

	if (ui->out_errno != 0)
		return;
	fputs(line, stdout);
	fputc('\n', stdout);
}

static void
emit_none(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void
on_open(void *arg, size_t slot, unsigned long id, const char *peer)
{
	struct tap_ui *ui = arg;
	struct dis_conn *d = &ui->dis[slot];

	dis_conn_init(d, id, ui->flags, ui->grep);
	if (ui->keylog != NULL)
		dis_conn_decrypt(d, (struct dis_crypt *)(ui->crypt + slot * dis_crypt_size()),
				 sslkeys_file_lookup, ui->keylog);
	if (ui->out_errno != 0)
		return;
	if (ui->flows != NULL) {
		flow_open(&ui->flows[slot], &ui->view, id, peer, ui->upstream_text);
		dis_conn_events(d, flow_event, &ui->flows[slot]);
	} else {
		printf("conn %lu: open, from %s\n", id, peer);
	}
	out_flush(ui);
}

static void
on_data(void *arg, size_t slot, unsigned long id, enum tap_dir dir, const uint8_t *buf, size_t len)
{
	struct tap_ui *ui = arg;

	(void)id;
	if (ui->out_errno != 0)
		return;
	dis_feed(&ui->dis[slot], (enum dis_dir)dir, buf, len, emit_line, ui);
	/* Per chunk, so a reader of a pipe (the demo, a test) sees the wire live. */
	out_flush(ui);
}

static void
on_close(void *arg, size_t slot, unsigned long id, enum tap_end end, const char *reason,
	 const uint64_t bytes[2])
{
	struct tap_ui *ui = arg;

	if (end == TAP_END_UPSTREAM_DOWN)
		msg_warn("conn %lu: %s", id, reason);
	if (ui->out_errno != 0) {
		dis_finish(&ui->dis[slot], emit_none, NULL); /* wipes the keys */
		return;
	}
	dis_finish(&ui->dis[slot], emit_line, ui);
	if (ui->flows != NULL)
		flow_close(&ui->flows[slot], &ui->dis[slot], reason, bytes);
	else
		printf("conn %lu: closed, %s (%llu bytes client -> server, %llu bytes server -> "
		       "client)\n",
		       id, reason, (unsigned long long)bytes[TAP_C2S],
		       (unsigned long long)bytes[TAP_S2C]);
	dis_grep_report(&ui->dis[slot], emit_line, ui);
	out_flush(ui);
}

static void
on_warn(void *arg, const char *text)
{
	(void)arg;
	msg_warn("%s", text);
}

/* stdout failed while the tap had nothing to print: a pipe's reader left (POLLERR), a
 * terminal hung up (POLLHUP), it was never open (POLLNVAL). Stop as a failed write would,
 * with the errno that write would have met. */
static void
on_out_gone(void *arg, short revents)
{
	struct tap_ui *ui = arg;

	if (ui->out_errno == 0)
		ui->out_errno = (revents & POLLNVAL) ? EBADF : (revents & POLLERR) ? EPIPE : EIO;
	stop_flag = 1;
}

/* The command line, as given. */
struct tap_args {
	const char *listen_text, *upstream_text, *grep_text, *keylog_path;
	int quiet, hex, flow, idle_ms;
	const char *headers; /* "--headers" or "--summary" as given, or NULL */
	struct sandbox sb;   /* --user, --no-sandbox */
};

/* Options into a; 0, or EXIT_USAGE after a message. --help prints and exits. */
static int
parse_args(int argc, char **argv, struct tap_args *a)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"upstream", required_argument, NULL, 'u'},
		{"grep", required_argument, NULL, 'g'},
		{"quiet", no_argument, NULL, 'q'},
		{"summary", no_argument, NULL, 'S'},
		{"headers", no_argument, NULL, 's'},
		{"hex", no_argument, NULL, 'x'},
		{"flow", no_argument, NULL, 'F'},
		{"keylog", required_argument, NULL, 'k'},
		{"idle-timeout", required_argument, NULL, 'i'},
		{"user", required_argument, NULL, 'U'},
		{"no-sandbox", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long idle_s;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l': a->listen_text = optarg; break;
		case 'u': a->upstream_text = optarg; break;
		case 'g': a->grep_text = optarg; break;
		case 'q': a->quiet = 1; break;
		case 's': a->headers = "--headers"; break;
		case 'S': a->headers = "--summary"; break;
		case 'x': a->hex = 1; break;
		case 'F': a->flow = 1; break;
		case 'k': a->keylog_path = optarg; break;
		case 'i':
			if (opt_number("--idle-timeout", optarg, 1, TAP_IDLE_MAX_S, &idle_s) < 0)
				return EXIT_USAGE;
			a->idle_ms = (int)idle_s * 1000;
			break;
		case 'U': a->sb.user = optarg; break;
		case 'N': a->sb.off = 1; break;
		case 'h': usage(stdout); exit(0);
		default:
			/* The same words as squirrel-server's and squirrel-client's. */
			opt_unknown(argv, opt);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		msg_error("unexpected argument '%s' (try --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/* At most one of the options that choose what is printed; -1 after naming two of them. */
static int
views_chosen(const struct tap_args *a)
{
	const char *given[4];
	int n = 0;

	if (a->quiet)
		given[n++] = "--quiet";
	if (a->headers != NULL)
		given[n++] = a->headers;
	if (a->hex)
		given[n++] = "--hex";
	if (a->flow)
		given[n++] = "--flow";
	if (n < 2)
		return 0;
	msg_error("%s and %s cannot be used together (each chooses what is printed)", given[0],
		  given[1]);
	return -1;
}

/* The options checked together, and the addresses resolved. 0, or EXIT_USAGE after a
 * message. */
static int
check_args(const struct tap_args *a, struct tap_addr *listen_addr, struct tap_addr *upstream,
	   struct dis_grep *grep)
{
	char err[256];

	if (a->listen_text == NULL || a->upstream_text == NULL) {
		msg_error("missing %s (e.g. squirrel-tap --listen 127.0.0.1:5684 --upstream "
			  "127.0.0.1:5683)",
			  a->listen_text == NULL ? "--listen HOST:PORT" : "--upstream HOST:PORT");
		return EXIT_USAGE;
	}
	if (views_chosen(a) < 0)
		return EXIT_USAGE;
	if (a->keylog_path != NULL && a->keylog_path[0] == '\0') {
		msg_error("--keylog wants a file name (the SSLKEYLOGFILE a client writes)");
		return EXIT_USAGE;
	}
	if (a->grep_text != NULL && dis_grep_init(grep, a->grep_text, strlen(a->grep_text)) != 0) {
		msg_error("--grep wants a text of 1 to %d bytes", DIS_GREP_MAX);
		return EXIT_USAGE;
	}
	if (tap_addr_parse(listen_addr, a->listen_text, err, sizeof(err)) != 0) {
		msg_error("--listen %s: %s", a->listen_text, err);
		return EXIT_USAGE;
	}
	if (tap_addr_parse(upstream, a->upstream_text, err, sizeof(err)) != 0) {
		msg_error("--upstream %s: %s", a->upstream_text, err);
		return EXIT_USAGE;
	}
	if (tap_addr_is_self(listen_addr, upstream)) {
		msg_error("--upstream %s: is the tap's own --listen address, so it would relay to "
			  "itself (give the server's address, e.g. 127.0.0.1:5683)",
			  a->upstream_text);
		return EXIT_USAGE;
	}
	return 0;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* No SA_RESTART: poll() must return EINTR so the loop sees the flag. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
on_keylog_warn(void *arg, const char *text)
{
	(void)arg;
	msg_warn("--keylog %s", text);
}

/*
 * --flow and --keylog: a ladder per slot, the key log read, decryption state per slot (one
 * allocation each, at start). 0, or EXIT_FAIL / EXIT_KEYLOG after a message.
 */
static int
views_start(const struct tap_args *a, const struct tap_addr *upstream, struct tap_ui *ui)
{
	char err[512];
	int missing;

	ui->upstream_text = upstream->text;
	if (a->flow) {
		ui->view.emit = emit_line;
		ui->view.arg = ui;
		ui->flows = calloc(TAP_MAX_CONNS, sizeof(*ui->flows));
		if (ui->flows == NULL) {
			msg_error("out of memory for %d connections", TAP_MAX_CONNS);
			return EXIT_FAIL;
		}
	}
	if (a->keylog_path == NULL)
		return 0;
	ui->keylog = calloc(1, sizeof(*ui->keylog));
	ui->crypt = calloc(TAP_MAX_CONNS, dis_crypt_size());
	if (ui->keylog == NULL || ui->crypt == NULL) {
		msg_error("out of memory for %d connections' decryption", TAP_MAX_CONNS);
		return EXIT_FAIL;
	}
	if (sslkeys_file_open(ui->keylog, a->keylog_path, &missing, on_keylog_warn, NULL, err,
			      sizeof(err)) != 0) {
		msg_error("--keylog %s", err);
		return EXIT_KEYLOG;
	}
	if (missing)
		msg_note("--keylog %s: no such file yet; read when a connection needs its keys "
			 "(a client creates it as it connects)",
			 a->keylog_path);
	return 0;
}

static void
views_stop(struct tap_ui *ui)
{
	if (ui->keylog != NULL)
		sslkeys_file_close(ui->keylog);
	if (ui->crypt != NULL)
		explicit_bzero(ui->crypt, TAP_MAX_CONNS * dis_crypt_size());
	free(ui->keylog);
	free(ui->crypt);
	free(ui->flows);
}

/*
 * Start-up: the listener on listen_addr, a dissector per slot (ui->dis) and the relay to
 * upstream. 0 with *fd and *r set, or EXIT_FAIL after a message.
 */
static int
start_up(const struct tap_addr *listen_addr, const struct tap_addr *upstream, int idle_ms,
	 struct tap_ui *ui, const struct tap_hooks *hooks, int *fd, struct tap_relay **r)
{
	char err[256];

	*fd = listener_open((const struct sockaddr *)&listen_addr->ss, listen_addr->len, 0, err,
			    sizeof(err));
	if (*fd < 0) {
		msg_error("%s", err);
		return EXIT_FAIL;
	}
	ui->dis = calloc(TAP_MAX_CONNS, sizeof(*ui->dis));
	*r = ui->dis != NULL ? tap_relay_new(*fd, upstream, idle_ms, hooks) : NULL;
	if (*r == NULL) {
		msg_error("out of memory for %d connections", TAP_MAX_CONNS);
		free(ui->dis);
		close(*fd);
		return EXIT_FAIL;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct tap_args a = {.idle_ms = TAP_IDLE_MS};
	struct tap_addr listen_addr, upstream;
	static struct dis_grep grep;
	struct tap_ui ui = {.flags = DIS_LAYERS | DIS_BRIEF};
	const struct tap_hooks hooks = {.arg = &ui,
					.open = on_open,
					.data = on_data,
					.close = on_close,
					.warn = on_warn,
					.out_fd = STDOUT_FILENO,
					.out_gone = on_out_gone};
	struct tap_relay *r;
	char err[256];
	int fd, rc;

	msg_init("squirrel-tap");
	if (parse_args(argc, argv, &a) != 0 || check_args(&a, &listen_addr, &upstream, &grep) != 0)
		return EXIT_USAGE;
	ui.flags = a.quiet || a.flow ? 0
		   : a.hex           ? DIS_HEX | DIS_LAYERS
		   : a.headers       ? DIS_LAYERS
				     : DIS_LAYERS | DIS_BRIEF;
	ui.grep = a.grep_text != NULL ? &grep : NULL;
	rc = views_start(&a, &upstream, &ui);
	if (rc != 0) {
		views_stop(&ui);
		return rc;
	}
	catch_signals();
	if (start_up(&listen_addr, &upstream, a.idle_ms, &ui, &hooks, &fd, &r) != 0) {
		views_stop(&ui);
		return EXIT_FAIL;
	}
	if (confine(&a.sb, &upstream, a.keylog_path) < 0) {
		tap_relay_free(r);
		free(ui.dis);
		views_stop(&ui);
		close(fd);
		return EXIT_FAIL;
	}
	msg_note("relaying %s -> %s; stop with Ctrl-C", listen_addr.text, upstream.text);
	rc = tap_relay_run(r, &stop_flag, err, sizeof(err));
	if (rc != 0)
		msg_error("%s", err);
	tap_relay_free(r);
	free(ui.dis);
	views_stop(&ui);
	close(fd);
	out_flush(&ui);
	if (stop_signal != 0)
		msg_stopped(stop_signal);
	if (ui.out_errno != 0) {
		msg_error(
			"cannot write to standard output: %s; stopped and closed every connection",
			strerror(ui.out_errno));
		return EXIT_OUTPUT;
	}
	return rc != 0 ? EXIT_FAIL : 0;
}
