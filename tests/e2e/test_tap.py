"""squirrel-tap end to end: the relay in front of real upstreams (Python's http.server, raw
Python sockets, openssl s_server), with real clients (http.client, raw sockets, Python ssl,
openssl s_client). Byte-exact relaying under load, resets, half-close, an upstream that is
down, --grep, and what the dissector says about each stage's wire.
"""
import base64
import concurrent.futures
import hashlib
import http.client
import os
import random
import re
import resource
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import OBSERVE, REPO, WRAP, free_port, need, prog, run

SECRET = b"fluffy tail"


def max_conns():
    """TAP_MAX_CONNS, read from the header so the test follows the constant."""
    with open(os.path.join(REPO, "tap", "relay.h")) as f:
        return int(re.search(r"#define TAP_MAX_CONNS (\d+)", f.read()).group(1))


def payload(n, seed):
    return random.Random(seed).randbytes(n)


# ---- upstreams --------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def reply(self, body, ctype="application/octet-stream"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            n, seed = self.path[len("/bytes/"):].split("/")
            self.reply(payload(int(n), int(seed)))
        else:
            self.reply(self.server.secret, "text/plain; charset=utf-8")

    def do_POST(self):
        n = int(self.headers["Content-Length"])
        data = self.rfile.read(n)
        self.reply(f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode())


class Upstream(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the tap opens hundreds of upstream connections at once

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.secret = SECRET
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def upstream():
    u = Upstream()
    yield u
    u.stop()


class RawUpstream:
    """A TCP upstream whose behaviour per connection is a Python function (on a thread)."""

    def __init__(self, behave):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.behave = behave
        self.results = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        c.settimeout(10)
        try:
            self.results.append(self.behave(c))
        except Exception as e:  # recorded for the test to assert on
            self.results.append(e)
        finally:
            c.close()

    def stop(self):
        self.sock.close()


def rst_close(s):
    """Close with RST instead of FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def recv_all(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


# ---- the tap ----------------------------------------------------------------------------

class Tap:
    def __init__(self, procs, tmp_path, upstream_port, *extra, listen_host="127.0.0.1",
                 upstream_host="127.0.0.1"):
        self.port = free_port()
        fmt = "[{}]:{}" if ":" in listen_host else "{}:{}"
        ufmt = "[{}]:{}" if ":" in upstream_host else "{}:{}"
        self.out_path = tmp_path / f"tap-{self.port}.out"
        self.err_path = tmp_path / f"tap-{self.port}.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = procs.start(
                prog("squirrel-tap") + ["--listen", fmt.format(listen_host, self.port),
                                        "--upstream", ufmt.format(upstream_host, upstream_port),
                                        *extra],
                stdout=out, stderr=err)
        # Not wait_port(): a probe connection would be relayed and numbered like the rest.
        self.wait_text("relaying", self.err_path)

    def wait_text(self, text, path=None, timeout=10.0):
        """Wait until the tap has written text (to stdout, or to path)."""
        path = path or self.out_path
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            content = path.read_text(errors="replace")
            if text in content:
                return content
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"tap never wrote {text!r}; stdout:\n{self.out()[-3000:]}\n"
                             f"stderr:\n{self.err()}")

    def out(self):
        return self.out_path.read_text(errors="replace")

    def err(self):
        return self.err_path.read_text(errors="replace")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0, self.err()
        return self.out()

    def connect(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


def fetch(port, path, timeout=20):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def post(port, data, timeout=20):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/echo", body=data)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# ---- byte-exact relaying ----------------------------------------------------------------

def test_sequential_1000_fetches_byte_exact(procs, tmp_path, upstream):
    tap = Tap(procs, tmp_path, upstream.port, "--hex")
    for i in range(1000):
        n = (i * 7919) % 3000
        status, body = fetch(tap.port, f"/bytes/{n}/{i}")
        assert status == 200 and body == payload(n, i), f"fetch {i} differs"
    out = tap.stop()
    assert out.count(": closed, ") == 1000
    assert "conn 1000: closed, " in out
    # The dump is there too: request lines, and hex with offsets.
    assert "  HTTP request: GET /bytes/0/0 HTTP/1.1" in out
    assert re.search(r"^  0000  47 45 54 20 2f 62 79 74  65 73 2f ", out, re.M)


def test_concurrent_100_fetches_and_1mib_both_ways(procs, tmp_path, upstream):
    tap = Tap(procs, tmp_path, upstream.port, "--summary")
    big_up = payload(1 << 20, 4242)

    def one(i):
        if i == 0:
            return post(tap.port, big_up) == (
                200, f"{len(big_up)} {hashlib.sha256(big_up).hexdigest()}".encode())
        n = (1 << 20) if i == 1 else random.Random(i).randrange(0, 65536)
        return fetch(tap.port, f"/bytes/{n}/{i}") == (200, payload(n, i))

    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        results = list(ex.map(one, range(100)))
    assert all(results), [i for i, ok in enumerate(results) if not ok]
    out = tap.stop()
    assert out.count(": closed, ") == 100
    assert not re.search(r"^  0000  ", out, re.M)  # --summary: no hex dump
    assert re.search(r"closed, \w+ closed first \(1048\d{3} bytes client -> server", out)
    assert re.search(r"closed, \w+ closed first \(\d+ bytes client -> server, 1048\d{3} bytes "
                     r"server -> client\)", out)


def test_large_transfer_with_hex_dump(procs, tmp_path, upstream):
    tap = Tap(procs, tmp_path, upstream.port, "--hex")
    big = payload(1 << 20, 7)
    assert fetch(tap.port, f"/bytes/{1 << 20}/7") == (200, big)
    assert post(tap.port, big)[1] == f"{len(big)} {hashlib.sha256(big).hexdigest()}".encode()
    out = tap.stop()
    # Every relayed byte appears once in the dump: rebuild the download from the hex lines.
    dumped = bytearray()
    in_conn1_s2c = False
    for line in out.splitlines():
        if line.startswith("conn "):
            in_conn1_s2c = line.startswith("conn 1: server -> client, ")
        elif in_conn1_s2c and re.match(r"^  [0-9a-f]{4}  ", line):
            dumped += bytes.fromhex(line[8:57].replace("  ", " "))
    assert dumped.endswith(big) and len(dumped) - len(big) < 512  # headers, then the body


def test_a_stalled_reader_blocks_no_one_else(procs, tmp_path, upstream):
    tap = Tap(procs, tmp_path, upstream.port, "--quiet")
    n = 8 << 20  # far more than the socket buffers and the tap's pipe hold
    stalled = tap.connect()
    stalled.sendall(f"GET /bytes/{n}/3 HTTP/1.0\r\n\r\n".encode())
    time.sleep(0.3)  # the tap has filled its pipe and stopped reading that upstream
    start = time.monotonic()
    for i in range(50):
        assert fetch(tap.port, f"/bytes/{i * 100}/{i}", timeout=5) == (200, payload(i * 100, i))
    assert time.monotonic() - start < 5
    got = recv_all(stalled)  # backpressure lost nothing
    stalled.close()
    assert got.endswith(payload(n, 3)) and len(got) - n < 512


def test_more_clients_than_slots_wait_in_the_backlog(procs, tmp_path, upstream):
    limit = max_conns()
    tap = Tap(procs, tmp_path, upstream.port, "--quiet")
    idle = [tap.connect() for _ in range(limit)]
    tap.wait_text(f"conn {limit}: open")
    late = tap.connect()
    late.sendall(b"GET /bytes/5/1 HTTP/1.0\r\n\r\n")
    late.settimeout(0.5)
    with pytest.raises(socket.timeout):
        late.recv(1)  # every slot is busy: it waits, accepted by the kernel only
    idle.pop().close()
    late.settimeout(10)
    assert recv_all(late).endswith(payload(5, 1))
    late.close()
    for s in idle:
        s.close()
    # Past the limit, a burst of clients all get through as slots free up.
    with concurrent.futures.ThreadPoolExecutor(2 * limit + 44) as ex:
        ok = list(ex.map(lambda i: fetch(tap.port, f"/bytes/{i}/{i}") == (200, payload(i, i)),
                         range(2 * limit + 44)))
    assert all(ok)
    out = tap.stop()
    assert out.count(": closed, ") == limit + 1 + 2 * limit + 44


def test_out_of_descriptors_clients_wait_in_the_backlog(procs, tmp_path, upstream):
    """With one descriptor left, a client could be accepted but given no upstream socket. It
    must wait in the backlog, as when accept() itself runs out, and not be closed (before,
    every waiting client was accepted and closed in turn). Each time accepts pause, stderr
    says so once, and once when they resume (before, the warning came every 100 ms)."""
    if WRAP:
        pytest.skip("valgrind holds descriptors of its own")
    tap = Tap(procs, tmp_path, upstream.port, "--quiet", *OBSERVE)
    pid = tap.proc.pid
    idle = [tap.connect() for _ in range(2)]
    tap.wait_text("conn 2: open")
    fds = sorted(int(f) for f in os.listdir(f"/proc/{pid}/fd"))
    assert fds == list(range(len(fds))), fds  # no holes: the limit leaves exactly one free
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (len(fds) + 1, hard))
    paused = ("squirrel-tap: warning: accept paused: Too many open files; new clients wait "
              "in the backlog\n")
    resumed = re.compile(r"^squirrel-tap: warning: accept resumed after \d+\.\d s$", re.M)

    def episodes():
        """The pause lines, checked to alternate: each pause said once, then its end once."""
        lines = [ln for ln in tap.err().splitlines() if "accept" in ln]
        for i, ln in enumerate(lines):
            if i % 2 == 0:
                assert ln + "\n" == paused, tap.err()
            else:
                assert resumed.match(ln), tap.err()
        return lines

    try:
        late = [tap.connect() for _ in range(3)]
        for s in late:
            s.sendall(b"GET /bytes/5/1 HTTP/1.0\r\n\r\n")
        time.sleep(0.5)  # five retries, at TAP_ACCEPT_PAUSE_MS apart
        assert tap.proc.poll() is None
        assert len(episodes()) == 1  # said once, not at each retry
        for s in idle:
            s.close()
        for s in late:
            s.settimeout(10)
            assert recv_all(s).endswith(payload(5, 1))  # answered, never closed unanswered
            s.close()
        # Resumed; more pauses may follow as the last descriptors are taken and given back.
        first = re.search(r"accept resumed after (\d+\.\d) s", tap.err())
        assert first and float(first.group(1)) >= 0.4, tap.err()  # timed from the pause
        # Another episode: hold connections until accepts pause again, then free them.
        idle = []
        before = tap.err().count(paused)
        while tap.err().count(paused) == before and len(idle) < 10:
            idle.append(tap.connect())
            time.sleep(0.2)
        assert tap.err().count(paused) > before, tap.err()
        late = tap.connect()
        late.sendall(b"GET /bytes/7/2 HTTP/1.0\r\n\r\n")
        time.sleep(0.5)
        for s in idle:
            s.close()
        late.settimeout(10)
        assert recv_all(late).endswith(payload(7, 2))
        late.close()
        deadline = time.monotonic() + 5  # retried each TAP_ACCEPT_PAUSE_MS, idle or not
        while len(episodes()) % 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
    out = tap.stop()
    assert "cannot connect to upstream" not in out
    lines = episodes()
    assert len(lines) % 2 == 0 and tap.err().count(paused) >= 2, tap.err()


# ---- idle connections -------------------------------------------------------------------

def test_silent_clients_are_closed_after_the_idle_timeout(procs, tmp_path, upstream):
    """A client that connected and said nothing held its slot for ever, so TAP_MAX_CONNS
    silent clients locked the tap. Now a connection over which nothing crosses for
    --idle-timeout seconds is closed on both sides, and the clients waiting get through."""
    limit = max_conns()
    tap = Tap(procs, tmp_path, upstream.port, "--quiet", "--idle-timeout", "1")
    silent = [tap.connect() for _ in range(limit)]
    tap.wait_text(f"conn {limit}: open")
    start = time.monotonic()
    late = tap.connect()
    late.sendall(b"GET /bytes/5/1 HTTP/1.0\r\n\r\n")
    late.settimeout(10)
    assert recv_all(late).endswith(payload(5, 1))
    late.close()
    assert time.monotonic() - start > 0.5  # it did wait for a slot
    for s in silent:
        s.settimeout(10)
        assert s.recv(1) == b""  # closed by the tap, with a clean end
        s.close()
    out = tap.wait_text(f"conn {limit}: closed, ")
    assert out.count(": closed, no traffic either way for 1 s; the tap closed both sides "
                     "(0 bytes client -> server, 0 bytes server -> client)") == limit
    tap.stop()


def test_traffic_one_way_keeps_a_connection_open(procs, tmp_path):
    """The idle clock restarts whenever a byte crosses, in either direction: a server that
    streams to a client that never speaks is not idle."""
    def trickle(c):
        for _ in range(6):
            c.sendall(b"tick")
            time.sleep(0.4)
        return c.recv(100)  # b"" once the tap closes its side

    up = RawUpstream(trickle)
    tap = Tap(procs, tmp_path, up.port, "--idle-timeout", "1")
    s = tap.connect()
    s.settimeout(10)
    start = time.monotonic()
    assert recv_all(s) == b"tick" * 6  # all of it, then the idle close
    took = time.monotonic() - start
    assert 2.5 < took < (30 if WRAP else 5), took
    s.close()
    tap.wait_text("conn 1: closed, no traffic either way for 1 s; the tap closed both sides")
    deadline = time.monotonic() + 5
    while not up.results and time.monotonic() < deadline:
        time.sleep(0.02)
    assert up.results == [b""]  # the upstream saw the tap's close too
    up.stop()


def test_idle_with_bytes_held_resets_both_sides(procs, tmp_path, upstream):
    """A client that stops reading leaves bytes in the tap when the idle timeout ends its
    connection. They are lost, so the client gets a reset rather than an end that would
    pass the cut stream off as whole."""
    tap = Tap(procs, tmp_path, upstream.port, "--quiet", "--idle-timeout", "1")
    s = tap.connect()
    s.sendall(f"GET /bytes/{8 << 20}/3 HTTP/1.0\r\n\r\n".encode())
    out = tap.wait_text("conn 1: closed, ")
    assert re.search(r"conn 1: closed, no traffic either way for 1 s; the tap reset both "
                     r"sides, \d+ bytes undelivered \(a side stopped reading\)", out), out
    s.settimeout(10)
    with pytest.raises(ConnectionResetError):
        recv_all(s)
    s.close()


# ---- closing, half-closing, resetting ---------------------------------------------------

def test_half_close_is_forwarded(procs, tmp_path):
    def count_until_eof(c):
        data = recv_all(c)  # returns only when the client's FIN came through the tap
        c.sendall(b"got %d bytes" % len(data))
        return data

    up = RawUpstream(count_until_eof)
    tap = Tap(procs, tmp_path, up.port)
    s = tap.connect()
    s.sendall(b"x" * 100000)
    s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == b"got 100000 bytes"
    s.close()
    assert tap.wait_text("conn 1: closed, client closed first (100000 bytes client -> "
                         "server, 16 bytes server -> client)")
    up.stop()


def test_client_reset_resets_the_upstream(procs, tmp_path):
    def read_until_error(c):
        try:
            return recv_all(c)
        except ConnectionResetError as e:
            return e

    up = RawUpstream(read_until_error)
    tap = Tap(procs, tmp_path, up.port)
    s = tap.connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    tap.wait_text("conn 1: client -> server")
    rst_close(s)
    tap.wait_text("conn 1: closed, client reset the connection")
    deadline = time.monotonic() + 5
    while not up.results and time.monotonic() < deadline:
        time.sleep(0.02)
    assert up.results and isinstance(up.results[0], ConnectionResetError), up.results
    up.stop()


def test_server_reset_resets_the_client(procs, tmp_path):
    def answer_then_reset(c):
        c.recv(100)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        time.sleep(0.2)
        rst_close(c)

    up = RawUpstream(answer_then_reset)
    tap = Tap(procs, tmp_path, up.port)
    s = tap.connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    with pytest.raises(ConnectionResetError):
        while True:
            b = s.recv(100)
            assert b, "the client saw a clean EOF, not the reset"
            got += b
    assert got.endswith(b"partial")
    s.close()
    tap.wait_text("conn 1: closed, server reset the connection")
    up.stop()


def test_reset_after_the_server_closed_says_why(procs, tmp_path):
    """The end of every TLS fetch through the tap: the server sends its answer and closes,
    the client then sends its close_notify, and the closed socket answers with a reset. The
    tap says so, rather than leave a learner to think the server failed."""
    def answer_and_close(c):
        c.recv(100)
        c.sendall(b"answer")

    up = RawUpstream(answer_and_close)
    tap = Tap(procs, tmp_path, up.port)
    s = tap.connect()
    s.sendall(b"question")
    assert recv_all(s) == b"answer"
    s.sendall(b"goodbye")  # as a close_notify: bytes after the server closed...
    time.sleep(0.3)  # ...which the server's kernel answers with a reset, and then more
    s.sendall(b"!")
    tap.wait_text("conn 1: closed, server reset the connection after closing its side (the "
                  "client sent more, as TLS's close_notify does, to a closed socket)")
    s.close()
    up.stop()


def test_upstream_down_closes_the_client_with_a_clear_line(procs, tmp_path, upstream):
    dead = free_port()
    tap = Tap(procs, tmp_path, dead)
    s = tap.connect()
    s.settimeout(5)
    assert s.recv(100) == b""  # closed, promptly
    s.close()
    why = (f"cannot connect to upstream 127.0.0.1:{dead}: connection refused (is the server "
           "running?); closed the client")
    tap.wait_text(f"conn 1: closed, {why} (0 bytes client -> server, 0 bytes server -> client)")
    assert f"squirrel-tap: warning: conn 1: {why}\n" in tap.err()
    # The tap itself carries on: the next client gets through once a server is there.
    tap2 = Tap(procs, tmp_path, upstream.port)
    assert fetch(tap2.port, "/") == (200, SECRET)
    assert tap.proc.poll() is None


def test_sigint_and_sigterm_stop_cleanly(procs, tmp_path, upstream):
    for sig in (signal.SIGINT, signal.SIGTERM):
        tap = Tap(procs, tmp_path, upstream.port)
        s = tap.connect()  # left open: the tap closes it on the way out
        tap.wait_text("conn 1: open")
        tap.proc.send_signal(sig)
        assert tap.proc.wait(timeout=10) == 0
        assert "conn 1: closed, the tap is stopping" in tap.out()
        s.close()


def test_closed_stdout_stops_the_tap(procs, tmp_path, upstream):
    """squirrel-tap ... | head -3: once the reader of the dump is gone, the tap stops, as tee
    and tcpdump do, instead of relaying on with its output lost. It watches its stdout, so it
    stops at once, not at the next line it would print (before, with --quiet and no client
    coming or going, it ran on). Every connection is closed, nothing more is accepted, stderr
    says why in one line, and the exit code is 3."""
    port = free_port()
    rfd, wfd = os.pipe()
    err_path = tmp_path / "tap.err"
    with open(err_path, "w") as err:
        p = procs.start(prog("squirrel-tap") + ["--listen", f"127.0.0.1:{port}", "--upstream",
                                                f"127.0.0.1:{upstream.port}", "--quiet"],
                        stdout=wfd, stderr=err)
    os.close(wfd)
    deadline = time.monotonic() + 10
    while "relaying" not in err_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    with os.fdopen(rfd, "rb") as reader:
        assert reader.readline().startswith(b"conn 1: open, from ")
    # The reader is gone; the tap has nothing to print until a client comes or goes.
    try:
        code = p.wait(timeout=30 if WRAP else 5)
    except subprocess.TimeoutExpired:
        raise AssertionError("the tap relays on with its standard output closed")
    assert code == 3, err_path.read_text()
    assert err_path.read_text().endswith(
        "squirrel-tap: error: cannot write to standard output: Broken pipe; stopped and "
        "closed every connection\n"), err_path.read_text()
    assert err_path.read_text().count("standard output") == 1
    assert held.recv(100) == b""
    held.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


@pytest.mark.requires("dev-full")
def test_stdout_on_a_full_disk_stops_the_tap(procs, tmp_path, upstream):
    """Any failed write counts, not only a closed pipe: /dev/full fails every write with
    ENOSPC, as a full disk does."""
    port = free_port()
    err_path = tmp_path / "tap.err"
    with open(err_path, "w") as err, open("/dev/full", "w") as full:
        p = procs.start(prog("squirrel-tap") + ["--listen", f"127.0.0.1:{port}", "--upstream",
                                                f"127.0.0.1:{upstream.port}"],
                        stdout=full, stderr=err)
    deadline = time.monotonic() + 10
    while "relaying" not in err_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            code = p.wait(timeout=30 if WRAP else 5)
        except subprocess.TimeoutExpired:
            raise AssertionError("the tap relays on with every write to its output failing")
        assert s.recv(100) == b""
    assert code == 3
    assert "squirrel-tap: error: cannot write to standard output: No space left on device; " \
        in err_path.read_text()


# ---- --grep and the three stages' wire ---------------------------------------------------

def test_grep_plain_stage_secret_in_clear(procs, tmp_path, upstream):
    tap = Tap(procs, tmp_path, upstream.port, "--grep", "fluffy tail")
    assert fetch(tap.port, "/") == (200, SECRET)
    out = tap.wait_text("conn 1: 'fluffy tail' seen in clear (server -> client)")
    assert '  HTTP body text: "fluffy tail"' in out
    assert "  HTTP response: HTTP/1.0 200 OK" in out
    # The secret split across two chunks on the wire is still found.
    up = RawUpstream(lambda c: (c.recv(100), c.sendall(b"fluffy t"), time.sleep(0.2),
                                c.sendall(b"ail")))
    tap2 = Tap(procs, tmp_path, up.port, "--grep", "fluffy tail")
    s = tap2.connect()
    s.sendall(b"hi")
    assert recv_all(s) == SECRET
    s.close()
    out2 = tap2.wait_text("conn 1: 'fluffy tail' seen in clear (server -> client)")
    assert out2.count("conn 1: server -> client, ") == 2
    up.stop()


def test_grep_fernet_stage_token_only(procs, tmp_path, upstream):
    from cryptography.fernet import Fernet
    token = Fernet(Fernet.generate_key()).encrypt(SECRET)
    upstream.secret = token
    tap = Tap(procs, tmp_path, upstream.port, "--grep", "fluffy tail")
    assert fetch(tap.port, "/") == (200, token)
    out = tap.wait_text("conn 1: 'fluffy tail' not seen")
    raw = base64.urlsafe_b64decode(token)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC",
                         time.gmtime(int.from_bytes(raw[1:9], "big")))
    assert f"  Fernet token: {len(token)} characters, {len(raw)} bytes\n" in out
    assert "    version     0x80\n" in out
    assert f"    timestamp   {int.from_bytes(raw[1:9], 'big')} ({when})\n" in out
    assert f"    IV          {raw[9:25].hex()}\n" in out
    assert "    ciphertext  16 bytes (1 AES-128-CBC block)\n" in out
    assert f"    HMAC        {raw[-32:].hex()}\n" in out


def make_cert(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return key, cert


def s_server(procs, tmp_path):
    """openssl s_server serving files from a folder holding the secret, over TLS."""
    need("openssl")
    key, cert = make_cert(tmp_path)
    www = tmp_path / "www"
    www.mkdir()
    (www / "secret.txt").write_bytes(SECRET)
    port = free_port()
    p = procs.start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert,
                     "-key", key, "-WWW", "-quiet"], cwd=www,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert p.poll() is None, "openssl s_server exited"
        time.sleep(0.05)
    return port, cert


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_tls_stage_records_only(procs, tmp_path, version):
    port, cert = s_server(procs, tmp_path)
    # The probe above reached s_server directly; the tap starts now, so its conn 1 is ours.
    tap = Tap(procs, tmp_path, port, "--grep", "fluffy tail")
    r = subprocess.run(["openssl", "s_client", version, "-connect", f"127.0.0.1:{tap.port}",
                        "-servername", "localhost", "-CAfile", cert, "-verify_return_error",
                        "-quiet", "-ign_eof"],
                       input=b"GET /secret.txt HTTP/1.0\r\n\r\n", capture_output=True,
                       timeout=20)
    assert r.stdout.endswith(SECRET), r.stderr  # the client did get the secret
    out = tap.wait_text("conn 1: 'fluffy tail' not seen")
    assert re.search(r"    handshake: ClientHello, \d+ bytes, \d+ cipher suites, SNI localhost",
                     out)
    hello = "TLS 1.3" if version == "-tls1_3" else "TLS 1.2"
    assert re.search(rf"    handshake: ServerHello, \d+ bytes, {hello}, cipher suite ", out)
    assert re.search(r"  TLS record: application data, \d+ bytes", out)
    if version == "-tls1_2":
        assert "    handshake: Certificate, " in out  # in clear before TLS 1.3
        assert re.search(r"  TLS record: encrypted handshake message, \d+ bytes", out)
    else:
        assert "handshake: Certificate" not in out  # encrypted in TLS 1.3
    # After the handshake nothing is recognised but records: no HTTP, no clear text.
    assert "HTTP request" not in out and "HTTP response" not in out
    assert "secret.txt" not in out


def test_tls_python_client(procs, tmp_path):
    port, cert = s_server(procs, tmp_path)
    tap = Tap(procs, tmp_path, port, "--grep", "fluffy tail", "--summary")
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", tap.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET /secret.txt HTTP/1.0\r\n\r\n")
            body = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                body += b
    assert body.endswith(SECRET)
    out = tap.wait_text("conn 1: 'fluffy tail' not seen")
    assert "SNI localhost" in out and "application data" in out


# ---- command line -----------------------------------------------------------------------

@pytest.mark.parametrize("args, text", [
    ([], "missing --listen"),
    (["--listen", "127.0.0.1:1"], "missing --upstream"),
    (["--listen", "127.0.0.1", "--upstream", "127.0.0.1:1"], "expected HOST:PORT"),
    (["--listen", "127.0.0.1:99999", "--upstream", "127.0.0.1:1"], "65535"),
    (["--listen", "::1:80", "--upstream", "127.0.0.1:1"], "brackets"),
    (["--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:2", "--quiet", "--summary"],
     "cannot be used together"),
    (["--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:2", "--grep", ""], "--grep"),
    (["--bogus"], "unknown option '--bogus' (try --help)"),
    (["-x"], "unknown option '-x' (try --help)"),
    (["--listen"], "option '--listen' needs a value (try --help)"),
    (["--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:2", "extra"], "unexpected argument"),
    (["--idle-timeout", "soon"], "--idle-timeout: expected a whole number from 1 to 86400, "
                                 "got 'soon'"),
    (["--idle-timeout", "0"], "--idle-timeout: expected a whole number from 1 to 86400"),
    (["--idle-timeout", "86401"], "--idle-timeout: expected a whole number from 1 to 86400"),
    (["--idle-timeout", "1x"], "--idle-timeout: expected a whole number"),
    (["--idle-timeout"], "option '--idle-timeout' needs a value"),
])
def test_usage_errors_exit_2(args, text):
    r = run("squirrel-tap", *args)
    assert r.returncode == 2
    assert r.stderr.startswith("squirrel-tap: error: ") and text in r.stderr
    assert r.stderr.count("\n") == 1 and r.stdout == ""


@pytest.mark.parametrize("listen, upstream", [
    ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("127.0.0.1", "localhost")])
def test_upstream_that_is_the_tap_itself_exits_2(listen, upstream):
    """A tap relaying to its own --listen address connected to itself until every slot was
    taken, then stalled without a word."""
    port = free_port()
    r = run("squirrel-tap", "--listen", f"{listen}:{port}", "--upstream", f"{upstream}:{port}",
            timeout=10)
    assert r.returncode == 2
    assert r.stderr.startswith(f"squirrel-tap: error: --upstream {upstream}:{port}: ")
    assert "--listen" in r.stderr and r.stderr.count("\n") == 1


def test_help_exits_0():
    r = run("squirrel-tap", "--help")
    assert r.returncode == 0 and "--listen HOST:PORT" in r.stdout and "--grep" in r.stdout
    assert "--idle-timeout S" in r.stdout


def test_address_in_use_exits_1():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = run("squirrel-tap", "--listen", f"127.0.0.1:{port}", "--upstream", "127.0.0.1:1")
    assert r.returncode == 1
    assert f"squirrel-tap: error: cannot listen on 127.0.0.1:{port}: address already in use" \
        in r.stderr


@pytest.mark.requires("ipv6-loopback")
def test_ipv6_loopback(procs, tmp_path, upstream):
    tap = Tap(procs, tmp_path, upstream.port, "--quiet", listen_host="::1")
    with socket.create_connection(("::1", tap.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert recv_all(s).endswith(SECRET)
    assert re.search(r"conn 1: open, from \[::1\]:\d+", tap.wait_text("conn 1: closed"))
