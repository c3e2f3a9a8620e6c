"""--workers N: several processes on one port, supervised; TLS sessions resume whichever
worker answers."""
import os
import signal
import subprocess
import time

import requests

from conftest import OBSERVE, children, free_port, need, preload, prog, wait_port

SECRET = "fluffy tail"


def wait_children(pid, n, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(pid)
        if len(kids) == n:
            return kids
        time.sleep(0.05)
    raise AssertionError(f"expected {n} workers, have {children(pid)}")


def test_workers_serve_and_are_restarted(start_server):
    s = start_server("--workers", "3")
    kids = wait_children(s.proc.pid, 3)
    # A connection each, so SO_REUSEPORT spreads them over the workers.
    for _ in range(30):
        assert requests.get(s.url, timeout=5).text == SECRET
    os.kill(kids[0], signal.SIGKILL)
    s.wait_log("was killed by signal 9; restarting it")
    new = wait_children(s.proc.pid, 3)
    assert kids[0] not in new
    for _ in range(10):
        assert requests.get(s.url, timeout=5).text == SECRET


def test_sigterm_stops_every_worker(start_server):
    s = start_server("--workers", "2")
    kids = wait_children(s.proc.pid, 2)
    assert s.stop(signal.SIGTERM) == 0
    for k in kids:
        assert not os.path.exists(f"/proc/{k}/status") or "zombie" in open(f"/proc/{k}/status").read()


def test_workers_stop_when_the_supervisor_dies(procs):
    """SIGKILL to the supervisor: its workers must not serve on unsupervised (and beside the
    next server, with SO_REUSEPORT); they stop as on SIGTERM (PR_SET_PDEATHSIG)."""
    port = free_port()
    p = procs.start(prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}", "--workers", "2"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc=p)
    kids = wait_children(p.pid, 2)
    p.kill()
    p.wait()
    deadline = time.monotonic() + 8  # SRV_STOP_MS (5 s) at most for open connections
    alive = kids
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [k for k in kids if os.path.exists(f"/proc/{k}/status")
                 and "zombie" not in open(f"/proc/{k}/status").read()]
    assert not alive, f"workers {alive} still run after their supervisor was killed"


def test_tickets_resume_across_workers(start_server, pki, tmp_path):
    need("openssl")
    s = start_server("--workers", "2", "--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    wait_children(s.proc.pid, 2)
    sess = str(tmp_path / "sess.pem")
    req = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

    def s_client(*args):
        return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{s.port}",
                               "-servername", "localhost", "-ign_eof", *args], input=req,
                              capture_output=True, timeout=20)

    for version in ("-tls1_3", "-tls1_2"):
        first = s_client(version, "-sess_out", sess)
        assert SECRET.encode() in first.stdout
        # SO_REUSEPORT spreads connections by source port: over 12 tries both workers answer.
        reused = [b"Reused, TLSv1." in s_client(version, "-sess_in", sess).stdout for _ in range(12)]
        assert all(reused), (version, reused)


def test_sighup_reaches_every_worker(start_server, pki):
    s = start_server("--workers", "2", "--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    wait_children(s.proc.pid, 2)
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while s.log_text().count("reloaded") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.log_text().count("reloaded") == 2


def wait_replaced(pid, n, dead, timeout=10):
    """Wait until pid has n workers and none of them is in dead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(pid)
        if len(kids) == n and not set(kids) & set(dead):
            return kids
        time.sleep(0.05)
    raise AssertionError(f"expected {n} workers other than {dead}, have {children(pid)}")


def stop_within(s, seconds):
    s.proc.send_signal(signal.SIGTERM)
    try:
        return s.proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the supervisor did not stop within {seconds} s of SIGTERM")


def test_sigchld_ignored_by_the_parent_process(start_server):
    """SIGCHLD ignored is inherited across exec (a daemon, a script's `trap '' CHLD`). The
    supervisor then got no SIGCHLD and waitpid() found no child: a dead worker was never
    restarted and SIGTERM never ended the supervisor."""
    s = start_server("--workers", "2",
                     preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    kids = wait_children(s.proc.pid, 2)
    os.kill(kids[0], signal.SIGKILL)
    s.wait_log("was killed by signal 9; restarting it")
    new = wait_replaced(s.proc.pid, 2, kids[:1])
    for _ in range(10):
        assert requests.get(s.url, timeout=5).text == SECRET
    assert stop_within(s, 10) == 0
    for k in new:
        assert not os.path.exists(f"/proc/{k}/status") or "zombie" in open(f"/proc/{k}/status").read()


# LD_PRELOAD shims, built per run: fork() as a loaded machine may give it.
FAILFORK_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
/* fork() fails with EAGAIN (RLIMIT_NPROC, memory) while the file $FAILFORK_FLAG exists.
 * Looked for with stat(), which the sandboxed supervisor may call (access() it may not). */
pid_t fork(void)
{
	const char *flag = getenv("FAILFORK_FLAG");
	struct stat st;
	if (flag != NULL && stat(flag, &st) == 0) {
		errno = EAGAIN;
		return -1;
	}
	return ((pid_t (*)(void))dlsym(RTLD_NEXT, "fork"))();
}
"""

SLOWFORK_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
/* The parent returns from fork() $SLOWFORK_MS late (a big process on a loaded machine). */
pid_t fork(void)
{
	pid_t pid = ((pid_t (*)(void))dlsym(RTLD_NEXT, "fork"))();
	if (pid > 0) {
		long ms = atol(getenv("SLOWFORK_MS") ? getenv("SLOWFORK_MS") : "0");
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	return pid;
}
"""


def answered(url, n, timeout):
    ok = 0
    for _ in range(n):
        try:
            ok += requests.get(url, timeout=timeout).text == SECRET
        except requests.RequestException:
            pass
    return ok


def test_failed_fork_is_retried_and_its_listener_closed(start_server, tmp_path):
    """fork() failing (EAGAIN) used to leave the worker's entry with no restart scheduled,
    forever, while its SO_REUSEPORT listener stayed open in the supervisor: the kernel kept
    routing a share of new connections to a queue nobody accepted from."""
    flag = tmp_path / "failfork"
    s = start_server("--workers", "2", "--quiet", *OBSERVE,
                     env=preload(tmp_path, "failfork", FAILFORK_C, FAILFORK_FLAG=str(flag)))
    kids = wait_children(s.proc.pid, 2)
    time.sleep(1.2)  # older than the restart backoff: restarted at once, and that fork fails
    flag.touch()
    os.kill(kids[0], signal.SIGKILL)
    s.wait_log("cannot start worker")
    assert children(s.proc.pid) == kids[1:]
    # Every connection reaches the worker that runs.
    assert answered(s.url, 20, timeout=1.5) == 20
    flag.unlink()
    wait_replaced(s.proc.pid, 2, kids[:1], timeout=5)
    assert answered(s.url, 20, timeout=5) == 20


def test_restart_that_falls_due_during_another_is_not_lost(start_server, tmp_path):
    """Two young workers die a few milliseconds apart: both restarts are due a second later.
    Starting the first takes longer than that gap (a fork slowed to 0.3 s), so the second is
    overdue when the supervisor next waits: a negative wait, which meant "until a signal
    comes", perhaps forever. (Deterministic: the gap is the test's reaction time.)"""
    s = start_server("--workers", "2", "--quiet",
                     env=preload(tmp_path, "slowfork", SLOWFORK_C, SLOWFORK_MS="300"))
    kids = wait_children(s.proc.pid, 2)
    os.kill(kids[0], signal.SIGKILL)
    s.wait_log(f"(pid {kids[0]}) was killed")
    os.kill(kids[1], signal.SIGKILL)
    s.wait_log(f"(pid {kids[1]}) was killed")
    # Restarts due a second after each death, each fork 0.3 s: 2 s is plenty; no signal
    # reaches the supervisor meanwhile (children() reads /proc).
    wait_replaced(s.proc.pid, 2, kids, timeout=4)
