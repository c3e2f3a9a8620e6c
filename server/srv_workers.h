/*
 * srv_workers: run n worker processes and supervise them (see srv_workers.c).
 */
#ifndef SQUIRREL_SRV_WORKERS_H
#define SQUIRREL_SRV_WORKERS_H

/*
 * What the supervisor asks of its caller, for worker i (0 <= i < n):
 *   run(i, arg)       in the forked worker: serve; returns its exit status
 *   listen(i, arg)    in the parent, before each fork of worker i: make sure its listener is
 *                     open (it is closed after a failed fork); 0, or -1 after saying why
 *                     (tried again after the restart backoff)
 *   unlisten(i, arg)  in the parent, when worker i could not be started: close its listener,
 *                     so the kernel routes no connection to a queue that nobody accepts from
 *   on_hup(arg)       SIGHUP in the parent, before it is forwarded; may be NULL
 */
struct srv_worker_ops {
	int (*run)(int i, void *arg);
	int (*listen)(int i, void *arg);
	void (*unlisten)(int i, void *arg);
	void (*on_hup)(void *arg);
};

/*
 * Fork n workers and supervise them. Restart any that dies (or could not be forked) while the
 * server runs, after RESTART_BACKOFF_MS if it was young; on SIGHUP call on_hup(arg), then
 * forward it; on SIGTERM/SIGINT forward it and wait for all. Returns 0 if every worker
 * stopped cleanly.
 */
int srv_supervise(int n, const struct srv_worker_ops *ops, void *arg);

/*
 * Before the workers bind the port with SO_REUSEPORT, make sure no one else serves it: two
 * --workers servers of one user would both bind, and the kernel would split the clients
 * between them. Returns a descriptor to keep open while the server runs (the claim), or -1
 * with err saying why ("127.0.0.1:5683: address already in use ...").
 */
int srv_claim_port(const char *hostport, char *err, size_t errlen);

#endif
