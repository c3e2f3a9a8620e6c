/*
 * srv_workers: run n worker processes and supervise them (see srv_workers.c).
 */
#ifndef SQUIRREL_SRV_WORKERS_H
#define SQUIRREL_SRV_WORKERS_H

/*
 * Fork n workers, each running run(i, arg) and exiting with its result. Restart any that dies
 * while the server runs; on SIGHUP call on_hup(arg) in the parent, then forward it; on
 * SIGTERM/SIGINT forward it and wait for all. Returns 0 if every worker stopped cleanly.
 */
int srv_supervise(int n, int (*run)(int i, void *arg), void (*on_hup)(void *arg), void *arg);

#endif
