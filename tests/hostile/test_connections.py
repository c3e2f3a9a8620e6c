"""Many connections: 10,000 idle ones, the --max-conns limit, and descriptor exhaustion.

Thresholds (issue 7): with 10,000 idle connections a good request is answered promptly (< 1 s);
at the connection limit new connections wait (in the listen backlog) or are refused, and the
server neither crashes nor spins (its CPU time over a quiet period stays near zero, read from
/proc/PID/stat); out of descriptors (ulimit -n 256, or a limit lowered under the running
server) it keeps serving as connections free up and does not spin while full; descriptors
come back to their start value once the clients are gone.
"""
import re
import resource
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (OBSERVE, Server, baseline, cpu_over, cpu_seconds, fd_count, free_port,
                      get, prog, raise_nofile, read_head, requires_descriptors, rss_kb, wait_for,
                      wait_port)

REQ = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
QUIET = 2.0
# Issue 8: at most 48 KiB per idle TLS connection. wolfSSL 5.5.4's session object alone is
# 37.5 KiB in Debian's build; without tr_slim() this measures about 59 KiB.
MAX_IDLE_TLS_KIB = 48
# "Near zero": a loop that waits in poll() uses a few milliseconds a second; a spinning one
# the whole second. It holds with 10,000 connections too: the loop sleeps until the earliest
# deadline. (When it swept every 250 ms instead, 10,000 idle connections cost 68 ms of CPU a
# second: every sweep and every poll() call walks all of them.)
MAX_QUIET_CPU = 0.10


def open_conns(port, n, timeout=10.0):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        s.close()
    socks.clear()


def start_limited(procs, tmp_path, nofile, *args):
    """A server started under RLIMIT_NOFILE = nofile (soft and hard), as `ulimit -n` does."""
    port = free_port()
    log = tmp_path / f"limited-{port}.log"

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with open(log, "w") as f:
        p = procs.start(prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}"] + OBSERVE
                        + list(args),
                        stdout=f, stderr=subprocess.STDOUT, preexec_fn=limit)
    wait_port(port, proc=p)
    return Server(p, port, log)


def test_ten_thousand_idle_connections(start_server, figures):
    n = 10000
    requires_descriptors(n + 100)
    server = start_server("--quiet")
    pid = server.proc.pid
    fds0, rss0 = baseline(server, getattr(server, "ctx", None))
    t0 = time.monotonic()
    socks = open_conns(server.port, n)
    try:
        # Each one asks once (keep-alive) and reads its answer: then it is idle between
        # requests, which must cost a slot and no buffer.
        for s in socks:
            s.sendall(REQ)
        for s in socks:
            data = b""
            while not data.endswith(b"fluffy tail"):
                b = s.recv(4096)
                assert b, "the server closed an idle keep-alive connection"
                data += b
        opened = time.monotonic() - t0
        assert wait_for(lambda: fd_count(pid) >= fds0 + n, 10)
        rss = rss_kb(pid)
        status, body, took = get(server.port, timeout=5)
        quiet = cpu_over(pid, QUIET)
        figures.add(f"{n} idle keep-alive connections opened and served in {opened:.1f} s; "
                    f"server RSS {rss0} kB before, {rss} kB with them (slots are preallocated, "
                    f"an idle connection holds no buffer)")
        figures.add(f"a good request with {n} idle connections: {status} in {took * 1000:.1f} ms;"
                    f" server CPU over {QUIET:.0f} s quiet: {quiet * 1000:.0f} ms")
        assert (status, body) == (200, b"fluffy tail")
        assert took < 1.0
        assert quiet <= MAX_QUIET_CPU
    finally:
        close_all(socks)
    assert wait_for(lambda: fd_count(pid) == fds0, 10), f"{fd_count(pid)} fds, started with {fds0}"
    assert server.proc.poll() is None


def test_idle_tls_connections_memory(tls_server, figures):
    n = 1000
    raise_nofile()
    server = tls_server("--quiet")
    pid = server.proc.pid
    fds0, rss0 = baseline(server, server.ctx)
    socks = []
    try:
        # Each one completes its handshake, asks once (keep-alive) and reads its answer.
        for _ in range(n):
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s = server.ctx.wrap_socket(raw, server_hostname="localhost")
            socks.append(s)
            s.sendall(REQ)
            data = b""
            while not data.endswith(b"fluffy tail"):
                b = s.recv(4096)
                assert b, "the server closed an idle keep-alive TLS connection"
                data += b
        assert wait_for(lambda: fd_count(pid) >= fds0 + n, 10)
        time.sleep(0.3)
        per = (rss_kb(pid) - rss0) / n
        status, body, took = get(server.port, server.ctx, timeout=5)
        figures.add(f"{n} idle TLS connections (handshake done, one request each): server RSS "
                    f"{rss0} kB before, {per:.1f} KiB more per connection; a new TLS request "
                    f"meanwhile: {status} in {took * 1000:.1f} ms")
        assert (status, body) == (200, b"fluffy tail")
        assert per <= MAX_IDLE_TLS_KIB
        # They still work after their idle wait (the pages given back read as zeros again).
        for s in socks[:50]:
            s.sendall(REQ)
            data = b""
            while not data.endswith(b"fluffy tail"):
                b = s.recv(4096)
                assert b
                data += b
    finally:
        close_all(socks)
    assert wait_for(lambda: fd_count(pid) == fds0, 10), f"{fd_count(pid)} fds, started with {fds0}"
    assert server.proc.poll() is None


def test_connection_limit_waits_without_spinning(start_server, figures):
    limit, extra = 1000, 300
    raise_nofile()
    server = start_server("--quiet", "--max-conns", str(limit), "--header-timeout", "60")
    pid = server.proc.pid
    fds0, _ = baseline(server)
    held = open_conns(server.port, limit)
    try:
        assert wait_for(lambda: fd_count(pid) == fds0 + limit, 10)
        # Beyond the limit: the kernel completes these handshakes into the listen backlog;
        # the server does not accept them while every slot is busy.
        waiting = open_conns(server.port, extra)
        time.sleep(0.5)
        at_limit = fd_count(pid) - fds0
        status, _, took = get(server.port, timeout=1.5)
        quiet = cpu_over(pid, QUIET)
        figures.add(f"--max-conns {limit}: {limit + extra} connections made, {at_limit} "
                    f"accepted; a new request at the limit: "
                    f"{'answered' if status else 'waited'} ({took:.1f} s); server CPU over "
                    f"{QUIET:.0f} s at the limit: {quiet * 1000:.0f} ms")
        assert at_limit == limit
        assert status == 0, "a connection beyond --max-conns was served"
        assert quiet <= MAX_QUIET_CPU
        assert server.proc.poll() is None
        # Free the slots: the waiting connections are accepted and served.
        close_all(held)
        for s in waiting:
            s.sendall(REQ)
        answered = 0
        for s in waiting:
            s.settimeout(5)
            if s.recv(4096).startswith(b"HTTP/1.1 200 "):
                answered += 1
        status, _, took = get(server.port, timeout=5)
        figures.add(f"after the held connections closed: {answered}/{extra} waiting "
                    f"connections served, a new request answered in {took * 1000:.1f} ms")
        assert answered == extra and status == 200
        close_all(waiting)
    finally:
        close_all(held)
    assert wait_for(lambda: fd_count(pid) == fds0, 10)


def test_descriptor_exhaustion(procs, tmp_path, figures):
    server = start_limited(procs, tmp_path, 256)
    pid = server.proc.pid
    fds0, _ = baseline(server)
    # 1. Started under ulimit -n 256: the server sizes its slots to fit (256 minus a reserve).
    held = open_conns(server.port, 300)
    try:
        assert wait_for(lambda: fd_count(pid) >= 200, 10)
        time.sleep(0.5)
        slots = fd_count(pid) - fds0
        status, _, _ = get(server.port, timeout=1.0)
        quiet = cpu_over(pid, QUIET)
        figures.add(f"ulimit -n 256: 300 connections, {slots} accepted, the rest wait; a new "
                    f"request {'answered' if status else 'waited'}; server CPU over "
                    f"{QUIET:.0f} s full: {quiet * 1000:.0f} ms")
        assert 200 <= slots < 256
        assert quiet <= MAX_QUIET_CPU
        # Connections free up: the waiting ones get their turn, and a new one is served.
        for s in held[:100]:
            s.close()
        del held[:100]
        status, body, took = get(server.port, timeout=5)
        assert (status, body) == (200, b"fluffy tail"), "no answer after connections freed up"
        figures.add(f"ulimit -n 256: after 100 closed, a new request answered in "
                    f"{took * 1000:.1f} ms")
    finally:
        close_all(held)
    assert wait_for(lambda: fd_count(pid) == fds0, 10)

    assert server.proc.poll() is None


def test_accept_pauses_on_emfile(procs, tmp_path, figures):
    """accept() failing with EMFILE (the listener stays readable) must pause accepting, not
    spin. Slots are sized from the limit at start, so the test lowers the limit under the
    running server, just above what poll() needs for the slots in use."""
    server = start_limited(procs, tmp_path, 256)
    pid = server.proc.pid
    fds0, _ = baseline(server)
    held = open_conns(server.port, 100)
    try:
        assert wait_for(lambda: fd_count(pid) == fds0 + 100, 10)
        # The next descriptor would be number fd_count: refuse it, keep poll()'s nfds legal.
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (fd_count(pid), 256))
        held += open_conns(server.port, 20)
        assert wait_for(lambda: "accept paused" in server.log_text(), 5), server.log_text()[-2000:]
        n0 = server.log_text().count("accept paused")
        quiet = cpu_over(pid, QUIET)
        pauses = server.log_text().count("accept paused") - n0
        figures.add(f"EMFILE: {fd_count(pid) - fds0} of 120 accepted, {pauses} more 'accept "
                    f"paused' lines in {QUIET:.0f} s, server CPU {quiet * 1000:.0f} ms")
        assert fd_count(pid) - fds0 == 100
        assert quiet <= MAX_QUIET_CPU
        # Retried every SRV_ACCEPT_PAUSE_MS, but said once: 10 lines a second would let
        # whoever holds the descriptors fill the log.
        assert n0 == 1 and pauses == 0, server.log_text()[-2000:]
        # Descriptors come back: accepting resumes and everyone waiting is served.
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (256, 256))
        for s in held:
            s.sendall(REQ)
        answered = sum(1 for s in held if s.recv(4096).startswith(b"HTTP/1.1 200 "))
        figures.add(f"EMFILE: limit restored, {answered}/120 connections served")
        assert answered == 120
        # Logged in the loop turn that accepted them, written at its end: maybe after the
        # answers reached us.
        log = server.wait_log(" accept resumed after ")
        assert re.search(r" accept resumed after \d+\.\d s\n", log), log[-2000:]
    finally:
        close_all(held)
    assert wait_for(lambda: fd_count(pid) == fds0, 10)
    assert server.proc.poll() is None


def test_limit_lowered_after_churn_keeps_serving(procs, tmp_path, figures):
    """Known bug (reported): srv_loop() passes poll() nfds = high + 1, where high is the highest
    slot index in use; free slots are reused last-freed-first, so after some churn a few
    connections can sit in high slots. If RLIMIT_NOFILE is then below nfds (lowered with
    prlimit, as an operator may do), poll() fails with EINVAL and the server exits with
    "poll failed: Invalid argument" instead of pausing accepts as it does for EMFILE."""
    server = start_limited(procs, tmp_path, 256)
    pid = server.proc.pid
    churn = open_conns(server.port, 200)
    assert wait_for(lambda: fd_count(pid) >= 200, 10)
    close_all(churn)
    assert wait_for(lambda: fd_count(pid) < 10, 10)
    held = open_conns(server.port, 10)
    try:
        time.sleep(0.3)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, 256))
        held += open_conns(server.port, 5)
        time.sleep(0.5)
        alive = server.proc.poll() is None
        figures.add("limit lowered to 64 after churn: server "
                    + ("kept running" if alive else f"exited ({server.log_text().strip().splitlines()[-1]})"))
        assert alive, server.log_text()[-500:]
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (256, 256))
        status, _, _ = get(server.port, timeout=5)
        assert status == 200
    finally:
        close_all(held)


def move_to_slot_zero(server, ctx):
    """A TLS connection kept alive in slot 99, alone, then moved to slot 0: 100 connections
    answered once, the first 99 closed, the limit lowered below poll()'s array (EINVAL) and
    the loop woken. Returns the moved connection."""
    pid = server.proc.pid
    conns = []
    for _ in range(100):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=5),
                            server_hostname="localhost")
        s.sendall(REQ)
        assert read_head(s).startswith(b"HTTP/1.1 200 ")
        conns.append(s)
    moved = conns.pop()
    fds = fd_count(pid)
    close_all(conns)
    assert wait_for(lambda: fd_count(pid) <= fds - 99, 10)
    refused = server.log_text().count("poll() refused the slot array")
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, 256))
    socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    assert wait_for(lambda: server.log_text().count("poll() refused the slot array") > refused, 5)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (256, 256))
    return moved


def test_tls_connection_moved_to_another_slot(procs, tmp_path, pki, figures):
    """fit_descriptor_limit() moves connections down when the limit is lowered. A TLS one
    carries its wolfSSL session, whose read callback was given the old slot's transport:
    before the fix the moved connection read descriptor -1 (no answer), or, once a new
    connection took its old slot, that connection's socket (the loop spun, and one session
    decrypted the other's records)."""
    server = start_limited(procs, tmp_path, 256, "--mode", "tls", "--cert", pki.server_cert,
                           "--key", pki.server_key)
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    pid = server.proc.pid
    a = move_to_slot_zero(server, ctx)
    held = [a]
    try:
        a.sendall(REQ)
        assert read_head(a).startswith(b"HTTP/1.1 200 "), "the moved connection got no answer"
        # Once more, then a new connection in the slot the moved one left.
        b = move_to_slot_zero(server, ctx)
        held.append(b)
        held += [ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=5),
                                 server_hostname="localhost") for _ in range(99)]
        x = held[-1]
        time.sleep(0.3)
        before = cpu_seconds(pid)
        b.sendall(REQ)
        assert read_head(b).startswith(b"HTTP/1.1 200 "), "the moved connection got no answer"
        x.sendall(REQ)
        assert read_head(x).startswith(b"HTTP/1.1 200 "), "the connection in its old slot got no answer"
        b.sendall(REQ)
        assert read_head(b).startswith(b"HTTP/1.1 200 ")
        quiet = cpu_over(pid, 1.0)
        figures.add(f"tls, moved slot: both connections answered; server CPU "
                    f"{(cpu_seconds(pid) - before) * 1000:.0f} ms over the exchange and 1 s after")
        assert quiet <= MAX_QUIET_CPU
    finally:
        close_all(held)
    log = server.log_text()
    assert "read failed" not in log and "write failed" not in log, log[-2000:]


@pytest.mark.parametrize("mode", ["plain", "tls"])
def test_pipelining_client_that_never_reads(mode, start_server, tls_server, figures):
    """A client pipelines a few thousand requests and reads no answer. The server answers
    until the socket is full, then must sleep in poll() until the write deadline, although
    requests it has not read yet wait in its TLS session. (Before the fix it stepped that
    connection again at once, forever: a whole core, 2.00 s of CPU over 2 s.)"""
    server = tls_server("--quiet") if mode == "tls" else start_server("--quiet")
    ctx = getattr(server, "ctx", None)
    pid = server.proc.pid
    baseline(server, ctx)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s = ctx.wrap_socket(raw, server_hostname="localhost") if ctx else raw
    try:
        s.settimeout(0.5)
        batch, sent = REQ * 400, 0
        for _ in range(100):
            try:
                s.sendall(batch)
                sent += 400
            except (socket.timeout, ssl.SSLWantWriteError):
                break
        time.sleep(0.5)
        quiet = cpu_over(pid, QUIET)
        status, _, took = get(server.port, ctx, timeout=5)
        figures.add(f"{mode}: {sent} pipelined requests, no answer read: server CPU over "
                    f"{QUIET:.0f} s {quiet * 1000:.0f} ms; another client answered in "
                    f"{took * 1000:.1f} ms")
        assert sent >= 400
        assert quiet <= MAX_QUIET_CPU
        assert status == 200
    finally:
        s.close()
