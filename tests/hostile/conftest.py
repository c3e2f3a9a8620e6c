"""Fixtures for the hostile-load tests (make hostile): bounded, loopback only.

The programs, ports, processes, certificates and capability probes (requires()) come from
the end-to-end fixtures in tests/e2e/conftest.py (loaded here under another module name, not
copied). This file adds what load tests need: /proc readings of the server (CPU time, RSS,
descriptors), a probe for many descriptors, a TLS context for the test CA, one-shot GET
probes, and a figures table printed at the end of the run, so `make hostile` shows its
numbers without -s, followed by what the run skipped and why.
"""
import functools
import importlib.util
import os
import resource
import socket
import ssl
import sys
import time

import pytest

_E2E = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e",
                    "conftest.py")
_spec = importlib.util.spec_from_file_location("e2e_conftest", _E2E)
e2e = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = e2e
_spec.loader.exec_module(e2e)

# Re-exported: the e2e fixtures (pytest finds fixtures among a conftest's globals) and helpers.
procs = e2e.procs
start_server = e2e.start_server
pki = e2e.pki
prog, run, free_port, wait_port, need, Server = (e2e.prog, e2e.run, e2e.free_port, e2e.wait_port,
                                                 e2e.need, e2e.Server)
read_head = e2e.read_head
OBSERVE = e2e.OBSERVE
children = e2e.children
preload = e2e.preload
requires = e2e.requires
# The e2e hooks, so @pytest.mark.requires works here too.
pytest_configure = e2e.pytest_configure
pytest_runtest_setup = e2e.pytest_runtest_setup

SECRET = b"fluffy tail"
TICKS = os.sysconf("SC_CLK_TCK")

# ---- the figures table ----------------------------------------------------------------------

_FIGURES = []


class Figures:
    def __init__(self, test):
        self.test = test

    def add(self, text):
        """Record one figure (also printed, for runs with -s)."""
        print(f"[{self.test}] {text}")
        _FIGURES.append((self.test, text))


@pytest.fixture
def figures(request):
    return Figures(request.node.name)


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("hostile-load figures")
        for test, text in _FIGURES:
            terminalreporter.write_line(f"{test}: {text}")
    e2e.pytest_terminal_summary(terminalreporter)


# ---- the server seen through /proc ----------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except PermissionError:
        # Confined (or holding keys), the server is not dumpable, and its /proc/PID/fd
        # belongs to root; start_limited's servers pass OBSERVE, the others cannot.
        pytest.skip("the server's /proc/PID/fd is closed to this user (not dumpable under "
                    "its sandbox): run make hostile as root")


def cpu_over(pid, seconds):
    """CPU seconds the process used during a quiet period of the given length."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def wait_for(predicate, timeout, step=0.05):
    """Poll until predicate() is true; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def baseline(server, ctx=None):
    """The server's descriptor count and RSS once it is fully up: it listens before it has
    set up its slots, so one answered request first, then a moment for that connection to go."""
    status, _, _ = get(server.port, ctx, timeout=5)
    assert status == 200, "the server does not answer"
    pid = server.proc.pid
    time.sleep(0.2)
    fds = fd_count(pid)
    wait_for(lambda: fd_count(pid) <= fds, 3)
    return fd_count(pid), rss_kb(pid)


def raise_nofile(want=None):
    """Raise this process's descriptor limit to want (default: the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if want is None else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@functools.lru_cache(maxsize=None)
def _descriptors_refusal(n):
    limit = raise_nofile()
    if limit < n:
        return f"the hard descriptor limit (ulimit -Hn) is {limit}"
    held = []
    try:
        with open(os.devnull) as f:
            for _ in range(n - fd_count(os.getpid())):
                held.append(os.dup(f.fileno()))
    except OSError as e:
        return f"opening descriptor {fd_count(os.getpid()) + 1} failed: {e.strerror}"
    finally:
        for fd in held:
            os.close(fd)
    return None


def requires_descriptors(n):
    """Raise this process's descriptor limit to its hard limit (the servers it starts inherit
    it), and skip the calling test unless about n descriptors really open here."""
    why = _descriptors_refusal(n)
    if why is not None:
        pytest.skip(f"needs {n} descriptors: {why}")


# ---- clients ----------------------------------------------------------------------------------

def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def get(port, ctx=None, timeout=5.0, host="127.0.0.1"):
    """One GET / with Connection: close. Returns (status, body, seconds); status 0 when the
    server closed or timed out without a whole answer."""
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            s = ctx.wrap_socket(raw, server_hostname="localhost") if ctx else raw
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
    except (OSError, ssl.SSLError):
        return 0, b"", time.monotonic() - t0
    took = time.monotonic() - t0
    if not data.startswith(b"HTTP/1.1 "):
        return 0, data, took
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body, took


def rst_close(s):
    """Close with a reset (SO_LINGER 0), as a crashing or hostile peer does."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


@pytest.fixture
def tls_server(start_server, pki):
    """start(*args) -> a --mode tls server with the test CA's localhost certificate."""
    def start(*args, **kw):
        s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key,
                         *args, **kw)
        s.ctx = tls_context(pki.ca_cert)
        return s
    return start
