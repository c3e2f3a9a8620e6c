"""Clients that reset mid-request, mid-handshake and mid-response, clients that never read
their answers, and 100,000 connect/close cycles.

Thresholds (issue 7): no crash; memory bounded (the buffer pool keeps at most BUF_KEEP free
buffers and wolfSSL's sessions come and go, so RSS may grow once, but a third round of the
same abuse must not grow it beyond the first two); memory given back after a flood of
handshakes (no buffers are borrowed before a handshake completes, so what those 300
connections held must return to the system: SRV_TRIM_BURST);
nothing leaked (the descriptor count in /proc/PID/fd returns to its start value); good
clients keep being served meanwhile.
"""
import os
import select
import socket
import ssl
import threading
import time

import pytest

from conftest import (baseline, cpu_over, fd_count, get, preload, raise_nofile, rss_kb, rst_close,
                      wait_for)

ROUND = 300
ROUNDS = 3
# glibc's malloc returns memory to the system unevenly, even with the server's trim after a
# burst (pages stay touched; RSS moves by a few hundred kB between identical rounds), so the
# test is: the last round grows RSS no further than the worst round before it, give or take
# a few pages. A leak grows every round.
MAX_LAST_ROUND_GROWTH_KB = 2048
# 300 half-done handshakes hold about 16 MB of wolfSSL heap; after they are gone the server
# keeps at most this much of it (measured: 0.1-0.8 MB with the trim, 16 MB without).
MAX_HANDSHAKE_FLOOD_KEPT_KB = 4096
# Lingering close (SRV_LINGER_MS, 2 s) and the deadline sweep decide when the last fd goes.
SETTLE = 6.0


def client_hello():
    """The first flight of a real TLS client (Python's), as bytes."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def abuse_round(kind, port, ctx):
    """ROUND connections abused the same way, all open at once, then reset."""
    socks = []
    hello = client_hello() if kind.startswith("handshake") else b""
    for i in range(ROUND):
        s = connect(port)
        if kind == "request":
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Ag")
        elif kind == "handshake-partial":
            s.sendall(hello[: 1 + i % (len(hello) - 1)])
        elif kind == "handshake-hello":
            s.sendall(hello)
        elif kind == "tls-request":
            s = ctx.wrap_socket(s, server_hostname="localhost")
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Ag")
        elif kind == "response":
            # Pipelined requests whose answers overflow the socket buffers: the server is
            # still writing when the reset comes.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            if ctx:
                s = ctx.wrap_socket(s, server_hostname="localhost")
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * 400)
        socks.append(s)
    time.sleep(0.3)
    for s in socks:
        try:
            rst_close(s)
        except OSError:
            s.close()


@pytest.mark.parametrize("mode,kinds", [
    ("plain", ["request", "response"]),
    ("tls", ["handshake-partial", "handshake-hello", "tls-request", "response"]),
])
def test_resets(mode, kinds, start_server, tls_server, figures):
    server = tls_server("--quiet") if mode == "tls" else start_server("--quiet")
    ctx = getattr(server, "ctx", None)
    pid = server.proc.pid
    fds0, rss0 = baseline(server, getattr(server, "ctx", None))
    for kind in kinds:
        rss = []
        for _ in range(ROUNDS):
            abuse_round(kind, server.port, ctx)
            status, _, took = get(server.port, ctx, timeout=5)
            assert status == 200, f"not served after resets {kind}"
            assert wait_for(lambda: fd_count(pid) == fds0, SETTLE), \
                f"{kind}: {fd_count(pid)} fds, started with {fds0}"
            rss.append(rss_kb(pid))
        figures.add(f"{mode}: {ROUNDS} x {ROUND} resets {kind}: fds back to {fds0} each time, "
                    f"RSS {rss0} -> {' -> '.join(map(str, rss))} kB, a good request after: "
                    f"{took * 1000:.1f} ms")
        assert rss[-1] <= max(rss[:-1]) + MAX_LAST_ROUND_GROWTH_KB
        if kind.startswith("handshake"):
            assert max(rss) - rss0 <= MAX_HANDSHAKE_FLOOD_KEPT_KB, \
                f"{kind}: memory of the flood not given back ({rss0} -> {max(rss)} kB)"
    assert server.proc.poll() is None


def send_until_blocked(s, chunk, stall=2.0, limit=64 << 20):
    """Send chunk after chunk (a blocking socket; partial sends resumed, so the stream stays
    whole requests) until the peer takes nothing for `stall` seconds. Returns the bytes sent."""
    s.settimeout(stall)
    sent = 0
    try:
        while sent < limit:
            off = sent % len(chunk)
            sent += s.send(chunk[off:])
    except OSError:
        pass
    return sent


def test_clients_that_never_read(start_server, figures):
    """Pipelined requests from clients that never read their answers: once the answers back
    up (through the kernel's socket buffers too), the server stops taking requests (one input
    and one output buffer per connection), does not spin, keeps serving others, and drops them
    at the write deadline (SRV_WRITE_MS, 10 s). Small socket buffers, set before connect, keep
    the kernel from absorbing tens of megabytes first."""
    clients = 10
    server = start_server("--quiet")
    pid = server.proc.pid
    fds0, rss0 = baseline(server, getattr(server, "ctx", None))
    req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * 100
    socks, sent = [], [0] * clients
    for _ in range(clients):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        s.connect(("127.0.0.1", server.port))
        socks.append(s)
    try:
        def send(i):
            sent[i] = send_until_blocked(socks[i], req)

        ts = [threading.Thread(target=send, args=(i,)) for i in range(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        t_blocked = time.monotonic()
        rss = rss_kb(pid)
        quiet = cpu_over(pid, 2.0)
        status, _, took = get(server.port, timeout=5)
        figures.add(f"{clients} clients pipelining without reading: each blocked after "
                    f"{min(sent) // 35}-{max(sent) // 35} requests; server RSS {rss0} -> {rss} kB;"
                    f" CPU over 2 s blocked {quiet * 1000:.0f} ms; a good request meanwhile: "
                    f"{took * 1000:.1f} ms")
        assert max(sent) < 64 << 20, "a client that never reads was never stopped"
        assert status == 200 and took < 1.0
        assert quiet <= 0.10
        assert rss - rss0 < clients * 2 * 21 + 4096, "more than two buffers per connection"
        # The write deadline drops them 10 s after their last progress.
        assert wait_for(lambda: fd_count(pid) == fds0, 15.0), f"{fd_count(pid) - fds0} left"
        figures.add(f"non-reading clients all dropped by the write deadline (10 s without "
                    f"progress), the last {time.monotonic() - t_blocked + 2.0:.1f} s after their "
                    f"last successful send")
    finally:
        for s in socks:
            s.close()
    assert server.proc.poll() is None


@pytest.mark.parametrize("mode", ["plain", "tls"])
def test_write_deadline_starts_with_the_answer(mode, start_server, tls_server, figures):
    """A client that sends a batch of requests at a time and never reads. The answer that
    first finds the socket full must get the whole write deadline (SRV_WRITE_MS, 10 s without
    progress), not what its request left of the header deadline (--header-timeout 2 here).
    Over TLS this is every blocked answer: wolfSSL reports a write as done only when all of
    it is sent, so the first attempt never shows progress. Over plain TCP the kernel takes
    part of a write as a rule, which refreshes the deadline anyway."""
    server = (tls_server if mode == "tls" else start_server)("--quiet", "--header-timeout", "2")
    ctx = getattr(server, "ctx", None)
    pid = server.proc.pid
    fds0, _ = baseline(server, ctx)
    batch = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * 200
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    s = ctx.wrap_socket(raw, server_hostname="localhost") if ctx else raw
    s.settimeout(0.5)
    t0 = time.monotonic()
    sent = 0
    try:
        # Each batch is answered before the next comes, so each starts a header deadline.
        # The answers fill the kernel's buffers (about 4 MB with autotuning) within about
        # 1 s; after that the server reads no more, and once its socket's receive buffer
        # is full too our send times out and we stop (or fails: the server closed).
        while time.monotonic() - t0 < 3.0:
            try:
                s.sendall(batch)
            except OSError:
                break
            sent += 1
            time.sleep(0.005)
        gone = wait_for(lambda: fd_count(pid) == fds0, 20.0)
        took = time.monotonic() - t0
    finally:
        raw.close()
    figures.add(f"{mode}: 200 requests at a time, never read ({sent} batches sent): dropped "
                f"{took:.1f} s after the first")
    assert gone, "never dropped"
    # The server's last progress came after t0, so the write deadline cannot fire before
    # t0 + 10 s; the header deadline would drop it about 2 s after the buffers filled.
    assert took >= 9.5, f"dropped {took:.1f} s after the first request: not a 10 s write deadline"


# A slow link, made steady: accepted sockets get a small fixed send buffer, and no send()
# hands the kernel more than 2 KiB, so an answer leaves a few KiB at a time, whenever the
# reader has made room. (Over loopback the kernel would otherwise take a whole TLS record
# at once, whatever its buffer.)
SLOW_LINK_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	int n = 1, c; /* the kernel raises it to its minimum, about 4.5 KiB */

	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
	c = real(fd, sa, len, flags);
	if (c >= 0)
		setsockopt(c, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
	return c;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
	return real(fd, buf, len > 1024 ? 1024 : len, flags);
}
"""


@pytest.mark.parametrize("mode", ["plain", "tls"])
def test_slow_reader_is_kept_while_bytes_move(mode, start_server, tls_server, tmp_path, figures):
    """A client that reads, but slowly (800 bytes a second), must keep its connection: the
    write deadline (SRV_WRITE_MS, 10 s) is for writes that make no progress. Each write here
    is an output buffer of four 4,000-byte answers; wolfSSL_write() reports it only once all
    of it is out, which at this rate takes about 20 s, so the server must see the bytes leave
    as they go. Before the fix it dropped the TLS reader (the client then read what the
    kernel still held, and met the end 20.5 s in) and kept the plain one."""
    env = preload(tmp_path, "slowlink", SLOW_LINK_C)
    server = (tls_server if mode == "tls" else start_server)("--quiet", "--message", "x" * 4000,
                                                            env=env)
    ctx = getattr(server, "ctx", None)
    pid = server.proc.pid
    fds0, _ = baseline(server, ctx)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    s = ctx.wrap_socket(raw, server_hostname="localhost") if ctx else raw
    got, seconds = 0, 16.0
    try:
        # 400 KB of answers: more than this reader takes in the test.
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * 100)
        # Read the socket itself, under TLS, whose reads would take whole records at once.
        fd = s.fileno()
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(0.5)
            got += len(os.read(fd, 400))
        # The server may have closed while the kernel still held bytes for us: ask it.
        held = fd_count(pid) > fds0
    finally:
        s.close()
    figures.add(f"{mode}: a reader taking 800 bytes/s read {got} bytes in {seconds:.0f} s; "
                + ("still connected" if held else "dropped by the server"))
    assert held, f"dropped by the server though it read {got} bytes in {seconds:.0f} s"
    assert got >= 10000


def test_hundred_thousand_connect_close_cycles(start_server, figures):
    total, threads, budget = 100_000, 8, 60.0
    raise_nofile()
    server = start_server("--quiet")
    pid = server.proc.pid
    fds0, rss0 = baseline(server, getattr(server, "ctx", None))
    done = [0] * threads
    errors = []
    deadline = time.monotonic() + budget

    def worker(i):
        n = 0
        try:
            while n < total // threads and time.monotonic() < deadline:
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                # Half close politely, half reset: both kinds of goodbye, and no TIME_WAIT
                # pile-up on the client side for the resets.
                if n % 2:
                    rst_close(s)
                else:
                    s.close()
                n += 1
        except OSError as e:
            errors.append(repr(e))
        done[i] = n

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - t0
    n = sum(done)
    status, _, _ = get(server.port, timeout=5)
    settled = wait_for(lambda: fd_count(pid) == fds0, SETTLE)
    rss = rss_kb(pid)
    figures.add(f"{n} connect/close cycles in {took:.1f} s ({n / took:.0f}/s, {threads} "
                f"threads); fds {fds0} -> {fd_count(pid)}; RSS {rss0} -> {rss} kB")
    assert not errors, errors[:3]
    assert n == total, f"only {n} cycles within {budget:.0f} s"
    assert status == 200
    assert settled, f"{fd_count(pid)} fds, started with {fds0}"
    assert rss - rss0 < 25 * 1024
    assert server.proc.poll() is None


def test_full_buffer_is_answered_not_dropped(start_server, figures):
    """Known bug (reported): RFC 9112 §2.2 empty lines before a request line are skipped and
    not counted in the head limit, so up to HTTP_MAX_LINE (8 KiB) of them plus a head under
    HTTP_MAX_HEAD (16 KiB) exceed the connection buffer (BUF_SIZE, 20 KiB). With the parser
    still undecided, step_read_head() (server/conn.c) calls tr_read() with no room left, takes
    its 0 for the peer closing, logs "closed by the peer mid-request" and resets the connection:
    no 431 (or 400) is sent, even for a head the parser would accept."""
    server = start_server()
    head = b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(
        b"X-%03d: %s\r\n" % (i, b"v" * 120) for i in range(99))
    payload = b"\r\n" * 4000 + head + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(payload)
        data = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        except OSError as e:
            data += f"<{e.strerror}>".encode()
    figures.add(f"{len(payload)}-byte request (8000 bytes of empty lines first): answer "
                f"{data[:40]!r}")
    assert data.startswith(b"HTTP/1.1 "), data[:200]


FLOOD = 400


def rsa_server_and_kept_client(start_server, pki, flood):
    """A TLS server with an RSA-2048 key (the costly signature), room for a flood, and a
    keep-alive client whose handshake is done: (server, client socket, its request)."""
    raise_nofile(flood + 256)
    cert, key = pki.leaf("flood", key_type="rsa2048")
    server = start_server("--mode", "tls", "--cert", cert, "--key", key, "--max-conns", "1000")
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    kept = ctx.wrap_socket(connect(server.port), server_hostname="localhost")
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    kept.sendall(request)
    assert b"fluffy tail" in kept.recv(4096)
    return server, kept, request


def test_handshake_flood_does_not_stall_open_connections(start_server, pki, figures):
    """400 ClientHellos queued at once with an RSA-2048 key (about 2 ms of signing each with
    Debian's wolfSSL): a keep-alive client already connected is answered long before the
    whole flood. Counted, not timed: when its answer arrives, fewer than half of the flood
    may have their ServerHello. (Accepting until the backlog was empty: all 400 had theirs
    first.)"""
    server, kept, request = rsa_server_and_kept_client(start_server, pki, FLOOD)
    hello = client_hello()
    flood = [connect(server.port) for _ in range(FLOOD)]
    for s in flood:
        s.sendall(hello)
    kept.sendall(request)
    assert b"fluffy tail" in kept.recv(4096)
    p = select.poll()
    for s in flood:
        p.register(s, select.POLLIN)
    before = len(p.poll(0))
    # Every one of them is served in the end.
    served = 0
    for s in flood:
        s.settimeout(60)
        try:
            served += len(s.recv(1)) > 0
        except OSError:
            pass
    for s in flood:
        rst_close(s)
    kept.close()
    figures.add(f"handshake flood of {FLOOD}: {before} had their ServerHello when the open "
                f"connection was answered")
    assert served == FLOOD, f"{FLOOD - served} flood connections got no ServerHello"
    assert before < FLOOD // 2, f"{before} of {FLOOD} handshakes went first"


def test_finished_work_goes_before_new_handshakes(start_server, pki, figures):
    """A request on a connection whose handshake is done is served before the server starts
    more new handshakes (SRV_NEW_WORK_US): sent while 300 ClientHellos wait, its answer comes
    after at most a few more ServerHellos. Counted, not timed. (When each loop turn accepted
    and stepped a batch of 32 new connections before the ready ones, 32 to 64 came first.)"""
    flood_n = 300
    server, kept, request = rsa_server_and_kept_client(start_server, pki, flood_n)
    hello = client_hello()
    flood = [connect(server.port) for _ in range(flood_n)]
    p = select.poll()
    for s in flood:
        p.register(s, select.POLLIN)
    for s in flood:
        s.sendall(hello)
    # The server is busy with the flood when the request goes.
    assert wait_for(lambda: len(p.poll(0)) > 0, 30), "no ServerHello at all"
    before = len(p.poll(0))
    kept.sendall(request)
    assert b"fluffy tail" in kept.recv(4096)
    after = len(p.poll(0))
    for s in flood:
        rst_close(s)
    kept.close()
    figures.add(f"{after - before} new handshakes answered between a ready request and its "
                f"answer ({before} of {flood_n} done when it was sent)")
    assert before < flood_n - 64, "the flood was over before the request was sent"
    assert after - before <= 8, f"{after - before} new handshakes went before a ready request"
