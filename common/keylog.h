/*
 * keylog: a TLS session's secrets, written for Wireshark and tshark in the NSS key log format
 * that curl, browsers and Python write to $SSLKEYLOGFILE, one line per secret:
 *
 *   CLIENT_RANDOM <client random> <master secret>                          (TLS 1.2)
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET <client random> <secret>               (TLS 1.3, with
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 and
 *   EXPORTER_SECRET)
 *
 * in hex. Whoever reads the file can decrypt every connection it names, so it is off unless
 * asked for, created 0600, and nothing else (the server's log included) ever holds a secret.
 *
 * The file is opened once, at start-up, and only written to afterwards (a confined process may
 * open nothing later). Each line is one write(2) to a descriptor opened with O_APPEND, so the
 * lines of a server's workers, which share it, never interleave.
 *
 * TLS 1.3 secrets need wolfSSL's secret callback (HAVE_SECRET_CALLBACK), which Debian's build
 * lacks and `make WOLFSSL=source` enables; TLS 1.2's master secret comes from the session in
 * every build (docs/wolfssl-notes.md).
 */
#ifndef SQUIRREL_KEYLOG_H
#define SQUIRREL_KEYLOG_H

struct WOLFSSL;

/*
 * Start writing keys if asked: to opt (--keylog FILE; NULL when not given), else to
 * $SSLKEYLOGFILE (empty counts as unset). Opens the file, appending, never truncating,
 * without following a final symbolic link; a new file is created 0600. Says on stderr that
 * keys are written and where, warns when an existing file is readable by others, and, if the
 * program may speak TLS 1.3 (tls13), when this build cannot export its secrets (tls12_hint, if
 * not NULL, ends that warning: how to get a TLS 1.2 connection instead). Returns 0, also when
 * no key log is wanted or $SSLKEYLOGFILE cannot be opened (a warning then says so: the
 * variable may be meant for other programs), or -1 after an error line about --keylog.
 */
int keylog_start(const char *opt, int tls13, const char *tls12_hint);

/* 1 if this wolfSSL build can export TLS 1.3 secrets. */
int keylog_can_tls13(void);

/*
 * For the transport: ssl is new and its handshake has not started (registers the TLS 1.3
 * secret callback); ssl's handshake has just completed (writes TLS 1.2's CLIENT_RANDOM line).
 * Both do nothing unless keylog_start() opened a file. A line that cannot be written is
 * counted, never fails the connection.
 */
void keylog_session_new(struct WOLFSSL *ssl);
void keylog_handshake_done(struct WOLFSSL *ssl);

/* Before exit: a warning if lines could not be written (how many, and why); closes the file. */
void keylog_finish(void);

#endif
