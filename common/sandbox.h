/*
 * sandbox: what a long-running program gives up once it has started, in one call made after
 * its listeners are bound, its certificates read, its keys decrypted and SECRET_KEY parsed.
 * In this order (each later layer relies on the earlier ones being in place):
 *
 *   1. PR_SET_NO_NEW_PRIVS: no exec can ever raise privileges (and unprivileged seccomp);
 *   2. no core dumps: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0 (a core would hold the key);
 *   3. started as root: switch to --user (default nobody) and drop every capability;
 *   4. Landlock: no writes anywhere, no execution, reads only of the files given here and of
 *      /dev/urandom (wolfCrypt seeds each TLS session from it); TCP bind and connect only
 *      to the ports given here (ABI 4 and later); no signals or abstract UNIX sockets out of
 *      the sandbox (ABI 6 and later);
 *   5. seccomp: an allow-list of the system calls the program's loop makes; any other ends
 *      the process by SIGSYS, after one line on stderr naming the call.
 *
 * A layer the kernel lacks is named in the start-up line, and the others still apply.
 * docs/security.md says what each layer stops and what is still possible inside it.
 */
#ifndef SQUIRREL_SANDBOX_H
#define SQUIRREL_SANDBOX_H

#include <stddef.h>

/* Files a program may read again once confined: the server's certificate, key and client
 * CA, each re-read on SIGHUP. */
#define SANDBOX_MAX_READS 4

/* Which allow-list of system calls a program gets: what its loop does after start-up. */
enum sandbox_role {
	SANDBOX_CLIENT,     /* one connected socket, stdout and stderr */
	SANDBOX_SERVER,     /* accepts on its listener */
	SANDBOX_SUPERVISOR, /* the server's --workers parent: forks, waits for and signals its
			     * workers, and opens a listener again; each worker it forks narrows
			     * its own filter to SANDBOX_SERVER's at once */
	SANDBOX_TAP,        /* accepts, and connects to its upstream */
};

struct sandbox {
	enum sandbox_role role;
	int off;          /* --no-sandbox: nothing is given up, and the start-up line says so */
	const char *user; /* --user NAME: whom to become when started as root (NULL: nobody) */
	int quiet;        /* print nothing (the client without -v); errors still go to err */
	const char *reads[SANDBOX_MAX_READS]; /* files it may read again; NULL ends the list */
	const char *read_dir; /* or NULL: a folder whose files it may read (the tap's key log's) */
	int tcp_family;       /* SANDBOX_TAP: AF_INET or AF_INET6, the upstream's */
	int tcp_port;         /* SANDBOX_TAP: the upstream's port, the one it may connect to;
			   * SANDBOX_SUPERVISOR: the listening port, the one it may bind */
};

/*
 * Confine the calling process (and what it forks from now on) as sb says, and print the
 * start-up line naming each layer (msg_info, or msg_warn when the kernel lacks a layer).
 * Returns 0, or -1 with err filled when a layer the kernel offers could not be put in place
 * (an unknown --user, --user without root): the program must then stop. Call once, from a
 * single-threaded process.
 */
int sandbox_enter(const struct sandbox *sb, char *err, size_t errlen);

/*
 * Whether path may still be read under the sandbox: 0 if it is one of the files given to
 * sandbox_enter (the same file, not only the same name), or if no Landlock layer is in
 * place; -1 with err saying why not (the name now leads to another file: replaced by a
 * rename, or a symbolic link pointed elsewhere). For a reload to refuse in words what
 * Landlock would refuse as "Permission denied".
 */
int sandbox_may_read(const char *path, char *err, size_t errlen);

#endif
