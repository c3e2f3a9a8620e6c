/*
 * msg: the one shape of every message a program prints for a person.
 *
 *   squirrel-client: error: connection refused by 127.0.0.1:5683 (is squirrel-server running?)
 *   squirrel-pki: warning: the CSR has no subjectAltName; using its CN 'localhost'
 *
 * Only main() and the command handlers print; libraries return codes and fill err buffers.
 * Messages go to stderr, lower-case, one line, no trailing period.
 */
#ifndef SQUIRREL_MSG_H
#define SQUIRREL_MSG_H

#include <stdarg.h>

#define MSG_FMT(a, b) __attribute__((format(printf, a, b)))

/*
 * Set the program name that prefixes every message (usually "squirrel-xxx"). First thing in
 * main(): it also makes sure descriptors 0-2 are taken (a closed one becomes /dev/null,
 * read-only), so no socket or file can take the place of stdout or stderr.
 */
void msg_init(const char *prog);
const char *msg_prog(void);

/*
 * From now on a message never waits for stderr: one stderr cannot take at once is lost, as
 * the access log's are. For a server's loops and its supervisor, after start-up.
 */
void msg_nowait(void);

void msg_error(const char *fmt, ...) MSG_FMT(1, 2);
void msg_warn(const char *fmt, ...) MSG_FMT(1, 2);
void msg_note(const char *fmt, ...) MSG_FMT(1, 2);
/* "prog: text": information that is neither a problem nor a note (start-up banners). */
void msg_info(const char *fmt, ...) MSG_FMT(1, 2);

/*
 * "prog: stopped (Ctrl-C)", or "(SIGTERM)": a program that a signal asked to stop says so as
 * it ends. After Ctrl-C on a terminal the line starts on a line of its own, after the "^C"
 * the terminal showed.
 */
void msg_stopped(int sig);

#endif
