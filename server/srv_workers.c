/*
 * The supervisor for --workers N: N processes, each with its own poll() loop and its own
 * SO_REUSEPORT listener (the kernel spreads connections; nobody is woken for nothing). The
 * parent accepts nothing: it forwards signals, and restarts a worker that dies, on the same
 * listener, so connections queued for it are served by its successor. A worker that cannot
 * be forked (EAGAIN: a full process table, RLIMIT_NPROC, memory) has no successor on the
 * way, perhaps for long: its listener is closed, so the kernel sends new connections to the
 * workers that run, and a fresh one is opened when the fork is tried again.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "listener.h"
#include "msg.h"
#include "srv.h"
#include "srv_workers.h"

/* A worker that dies sooner than this after its start is restarted only after this long,
 * so a worker that cannot start does not become a fork loop. */
#define RESTART_BACKOFF_MS 1000
/* After SIGTERM, workers get their own stop time plus this before SIGKILL. */
#define KILL_GRACE_MS 3000

struct worker {
	pid_t pid;
	int64_t started_ms;
	int64_t restart_ms; /* 0: none pending */
};

static pid_t
spawn(int i, const sigset_t *child_mask, const struct srv_worker_ops *ops, void *arg)
{
	pid_t pid, parent = getpid();

	if (ops->listen(i, arg) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		/* A worker whose supervisor died (SIGKILL, a crash) stops as on SIGTERM: left
		 * behind, it would go on serving the port with nobody to stop it, beside any
		 * server started next with SO_REUSEPORT. It may have died before this call. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		sigprocmask(SIG_SETMASK, child_mask, NULL);
		_exit(ops->run(i, arg));
	}
	if (pid < 0)
		msg_error("cannot start worker %d: %s; trying again in %d s", i, strerror(errno),
			  RESTART_BACKOFF_MS / 1000);
	return pid;
}

/* Start worker i now, or, if that fails, schedule another try as after a crash. */
static void
start(struct worker *w, int i, const sigset_t *child_mask, const struct srv_worker_ops *ops,
      void *arg)
{
	w->restart_ms = 0;
	w->pid = spawn(i, child_mask, ops, arg);
	w->started_ms = clock_ms();
	if (w->pid > 0)
		return;
	ops->unlisten(i, arg);
	w->pid = 0;
	w->restart_ms = w->started_ms + RESTART_BACKOFF_MS;
}

/*
 * The supervisor learns of deaths from SIGCHLD and waitpid(). SIGCHLD ignored (or with
 * SA_NOCLDWAIT) survives exec, from a daemon or a script's `trap '' CHLD`: the kernel would
 * then reap workers itself and send no signal, so a dead worker would never be restarted and
 * SIGTERM would wait forever for workers it could not see stop.
 */
static void
default_sigchld(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

/* How long to wait for a signal: until the next restart or kill is due (0 if overdue), or
 * -1 for as long as it takes. */
static int64_t
wait_for(const struct worker *w, int n, int stopping, int64_t kill_ms, int64_t now)
{
	int64_t due = INT64_MAX;

	for (int i = 0; i < n && !stopping; i++)
		if (w[i].restart_ms && w[i].restart_ms < due)
			due = w[i].restart_ms;
	if (stopping && kill_ms < due)
		due = kill_ms;
	if (due == INT64_MAX)
		return -1;
	/* A restart falls due while another worker is being forked: it is overdue now, and
	 * a negative wait would mean "no timeout" below. */
	return due > now ? due - now : 0;
}

static void
forward(struct worker *w, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (w[i].pid > 0)
			kill(w[i].pid, sig);
}

static void
describe_exit(int i, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		msg_warn("worker %d (pid %d) was killed by signal %d; restarting it", i, (int)pid,
			 WTERMSIG(status));
	else
		msg_warn("worker %d (pid %d) exited with status %d; restarting it", i, (int)pid,
			 WEXITSTATUS(status));
}

/* The supervisor's state between signals. */
struct supervisor {
	struct worker *w;
	int n;
	const struct srv_worker_ops *ops;
	void *arg;
	sigset_t set;    /* the signals it takes, one at a time, with sigtimedwait() */
	sigset_t old;    /* the mask it started with, which workers get back */
	int stopping;    /* SIGTERM or SIGINT came: workers are told, none is restarted */
	int failed;      /* a worker stopped badly, or had to be killed */
	int64_t kill_ms; /* stopping: when workers still alive get SIGKILL */
};

/* The next signal, or 0 (or -1) when a restart or kill falls due first. */
static int
next_signal(const struct supervisor *sv)
{
	int64_t wait_ms = wait_for(sv->w, sv->n, sv->stopping, sv->kill_ms, clock_ms());
	struct timespec ts;
	siginfo_t info;

	if (wait_ms < 0)
		return sigwaitinfo(&sv->set, &info);
	ts.tv_sec = (time_t)(wait_ms / 1000);
	ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
	return sigtimedwait(&sv->set, &info, &ts);
}

static void
on_signal(struct supervisor *sv, int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		if (!sv->stopping) {
			sv->stopping = 1;
			srv_stop_requested = sig;
			sv->kill_ms = clock_ms() + SRV_STOP_MS + KILL_GRACE_MS;
			forward(sv->w, sv->n, SIGTERM);
		}
	} else if (sig == SIGHUP && !sv->stopping) {
		if (sv->ops->on_hup != NULL)
			sv->ops->on_hup(sv->arg);
		forward(sv->w, sv->n, SIGHUP);
	}
}

/* Collect the workers that died: note a bad stop, or schedule a restart (later if young). */
static void
reap(struct supervisor *sv)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < sv->n; i++) {
			struct worker *w = &sv->w[i];

			if (w->pid != pid)
				continue;
			w->pid = 0;
			if (sv->stopping) {
				sv->failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
				break;
			}
			describe_exit(i, pid, status);
			w->restart_ms = clock_ms() - w->started_ms < RESTART_BACKOFF_MS
						? clock_ms() + RESTART_BACKOFF_MS
						: clock_ms();
		}
	}
}

/* Restart what is due; when stopping, kill what outlived its grace. 1 once all are gone. */
static int
tend(struct supervisor *sv)
{
	int64_t now = clock_ms();
	int alive = 0;

	for (int i = 0; i < sv->n && !sv->stopping; i++) {
		if (sv->w[i].pid == 0 && sv->w[i].restart_ms && sv->w[i].restart_ms <= now)
			start(&sv->w[i], i, &sv->old, sv->ops, sv->arg);
	}
	for (int i = 0; i < sv->n; i++)
		alive += sv->w[i].pid > 0;
	if (sv->stopping && alive == 0)
		return 1;
	if (sv->stopping && now >= sv->kill_ms) {
		msg_warn("workers did not stop in time; killing them");
		forward(sv->w, sv->n, SIGKILL);
		sv->failed = 1;
		sv->kill_ms = now + KILL_GRACE_MS;
	}
	return 0;
}

int
srv_supervise(int n, const struct srv_worker_ops *ops, void *arg)
{
	struct supervisor sv = {.n = n, .ops = ops, .arg = arg};

	sv.w = calloc((size_t)n, sizeof(*sv.w));
	if (sv.w == NULL) {
		msg_error("out of memory for %d workers", n);
		return 1;
	}
	default_sigchld();
	sigemptyset(&sv.set);
	sigaddset(&sv.set, SIGCHLD);
	sigaddset(&sv.set, SIGTERM);
	sigaddset(&sv.set, SIGINT);
	sigaddset(&sv.set, SIGHUP);
	/* Blocked here, taken one at a time with sigtimedwait(): no handler races. */
	sigprocmask(SIG_BLOCK, &sv.set, &sv.old);
	for (int i = 0; i < n; i++)
		start(&sv.w[i], i, &sv.old, ops, arg);
	do {
		on_signal(&sv, next_signal(&sv));
		reap(&sv);
	} while (!tend(&sv));
	sigprocmask(SIG_SETMASK, &sv.old, NULL);
	free(sv.w);
	return sv.failed;
}

/*
 * Two checks, for the two ways a second server can arrive. A listener already there: a bind
 * with SO_REUSEADDR and without SO_REUSEPORT fails on any listening socket of the port, as a
 * single-process server's own bind does (srv_listen with reuseport 0; closed at once).
 * Another --workers server starting at the same moment: both such probes could pass before
 * either binds, so the supervisor first takes a name in the abstract unix socket namespace,
 * which the kernel gives to one socket at a time and takes back when the process ends,
 * however it ends. Abstract names belong to the network namespace, as ports do.
 */
int
srv_claim_port(const char *hostport, char *err, size_t errlen)
{
	struct sockaddr_un a;
	int claim, probe, n;

	claim = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (claim < 0) {
		snprintf(err, errlen, "%s: cannot claim the port: %s", hostport, strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "squirrel-server %s", hostport);
	if (n >= (int)sizeof(a.sun_path) - 1)
		n = (int)sizeof(a.sun_path) - 2;
	if (bind(claim, (struct sockaddr *)&a,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		if (errno == EADDRINUSE)
			listener_say_why(err, errlen, hostport, EADDRINUSE);
		else
			snprintf(err, errlen, "%s: cannot claim the port: %s", hostport,
				 strerror(errno));
		close(claim);
		return -1;
	}
	probe = srv_listen(hostport, 0, 0, err, errlen);
	if (probe < 0) {
		close(claim);
		return -1;
	}
	close(probe);
	return claim;
}
