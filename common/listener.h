/*
 * listener: the one way a program here opens a listening TCP socket, and the one wording of
 * why it could not. redis's anet.c and quark's sock.c keep the same job in one file.
 *
 * Every listener is non-blocking and close-on-exec, has SO_REUSEADDR (a restarted program
 * does not wait for the TIME_WAIT connections of its last run), and on IPv6 is v6-only
 * ([::]:PORT is IPv6 alone, 0.0.0.0:PORT the IPv4 one, as nginx has it). Options only one
 * program wants (the server's TCP_DEFER_ACCEPT) are set by that program on the fd returned.
 *
 * A failure fills err with one sentence naming the address and what to do:
 *
 *   cannot listen on 127.0.0.1:5683: address already in use (is another program listening
 *   there? pick another port with --listen)
 */
#ifndef SQUIRREL_LISTENER_H
#define SQUIRREL_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

/* SO_REUSEPORT: several listeners share one port, and the kernel spreads connections over
 * them (squirrel-server --workers). Without it a second listener is EADDRINUSE. */
#define LISTENER_REUSEPORT 1

/*
 * Listen on sa (len bytes), with flags (0 or LISTENER_REUSEPORT). Returns the fd, or -1 with
 * err filled ("cannot listen on ADDR: reason (what to do)").
 */
int listener_open(const struct sockaddr *sa, socklen_t len, int flags, char *err, size_t errlen);

/*
 * Listen on "HOST:PORT" as a user wrote it (addr.h): each address HOST resolves to is tried
 * in getaddrinfo()'s order, and the first that takes the listener is kept. Returns the fd, or
 * -1 with err filled, naming hostport as written; the reason is the last address's.
 */
int listener_open_hostport(const char *hostport, int flags, char *err, size_t errlen);

/*
 * err gets why listening on where (as a user wrote it) failed with errno e, and what to do,
 * in the words above; for a program that finds the address taken by other means.
 */
void listener_say_why(char *err, size_t errlen, const char *where, int e);

#endif
