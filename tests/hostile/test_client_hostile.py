"""squirrel-client against hostile servers (small Python servers on loopback): garbage,
endless headers, a Content-Length larger than the body, endless bodies, stalls, trickles.

Thresholds (issue 7): each gives its documented exit code (squirrel-client(1): 8 malformed or
too large, 28 timeout, 52 empty reply, 56 receive failure) and exactly one line on stderr,
within bounded time (the --timeout budget covers the whole fetch) and bounded memory (the
client's maximum RSS, measured by GNU time, stays small however much the server sends).
"""
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import prog, read_head

TIMEOUT = 2  # --timeout for every fetch
MAX_SECONDS = TIMEOUT + 1.5
MAX_RSS_KB = 16 * 1024


class Hostile:
    """A loopback server that reads the request, then runs behaviour(conn) on each connection."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            c.settimeout(10)
            if b"\r\n\r\n" not in read_head(c):
                return
            self.behaviour(self, c)
        except OSError:
            pass
        finally:
            c.close()

    def send(self, c, data):
        c.sendall(data)
        self.sent += len(data)

    def close(self):
        self.stop.set()
        self.sock.close()


def garbage(h, c):
    h.send(c, b"garbage, not HTTP at all\r\n\r\n")


def endless_headers(h, c):
    h.send(c, b"HTTP/1.1 200 OK\r\n")
    while not h.stop.is_set():
        h.send(c, b"X-Filler: " + b"a" * 100 + b"\r\n")


def endless_header_line(h, c):
    h.send(c, b"HTTP/1.1 200 OK\r\nX-Filler: ")
    while not h.stop.is_set():
        h.send(c, b"a" * 4096)


def short_body(h, c):
    h.send(c, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfluffy")


def endless_chunked(h, c):
    h.send(c, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"400\r\n" + b"z" * 1024 + b"\r\n"
    while not h.stop.is_set():
        h.send(c, chunk * 16)


def endless_close_delimited(h, c):
    h.send(c, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while not h.stop.is_set():
        h.send(c, b"z" * 16384)


def huge_length(h, c):
    h.send(c, b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\nfluffy tail")
    time.sleep(TIMEOUT + 1)


def stall(h, c):
    time.sleep(TIMEOUT + 2)


def trickle(h, c):
    for b in b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfluffy tail":
        if h.stop.is_set():
            return
        h.send(c, bytes([b]))
        time.sleep(0.1)


def empty(h, c):
    pass


CASES = [
    # name, behaviour, exit codes allowed, words expected in the message
    ("garbage", garbage, {8}, "malformed"),
    ("endless headers", endless_headers, {8}, "malformed"),
    ("one endless header line", endless_header_line, {8}, "malformed"),
    ("Content-Length larger than the body", short_body, {56}, "closed"),
    ("endless chunked body", endless_chunked, {8, 56}, "large"),
    ("endless close-delimited body", endless_close_delimited, {8, 56}, "large"),
    ("Content-Length of a terabyte", huge_length, {8}, "large"),
    ("stall after the request", stall, {28}, "timed out"),
    ("one byte every 100 ms", trickle, {28}, "timed out"),
    ("close without answering", empty, {52}, "empty reply"),
]


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_client(port, tmp_path):
    """Run squirrel-client against port; returns (exit code, stdout, stderr, seconds, max RSS
    in kB or None). The RSS comes from GNU time (Debian's `time`), which forks the client from
    its own small image: rusage taken in this process would count the pytest image the child
    had before exec."""
    out, err, rss = tmp_path / "out", tmp_path / "err", tmp_path / "rss"
    argv = prog("squirrel-client") + ["--timeout", str(TIMEOUT), f"http://127.0.0.1:{port}/"]
    if TIME:
        argv = [TIME, "-q", "-f", "%M", "-o", str(rss)] + argv
    with open(out, "wb") as fo, open(err, "wb") as fe:
        t0 = time.monotonic()
        p = subprocess.run(argv, stdout=fo, stderr=fe, timeout=30)
        took = time.monotonic() - t0
    maxrss = int(rss.read_text().split()[-1]) if TIME and rss.exists() else None
    return p.returncode, out.read_bytes(), err.read_bytes(), took, maxrss


@pytest.mark.parametrize("name,behaviour,codes,words", CASES, ids=[c[0] for c in CASES])
def test_client_against_hostile_server(name, behaviour, codes, words, tmp_path, figures):
    h = Hostile(behaviour)
    try:
        code, out, err, took, rss = run_client(h.port, tmp_path)
    finally:
        h.close()
    lines = err.decode(errors="replace").strip().splitlines()
    figures.add(f"{name}: exit {code} in {took:.2f} s, client max RSS {rss} kB, server sent "
                f"{h.sent} bytes: {lines[-1] if lines else '(no message)'}")
    assert code in codes, err
    assert len(lines) == 1, f"not one line: {lines}"
    assert lines[0].startswith("squirrel-client: ")
    assert words in lines[0].lower()
    assert out == b""
    assert took <= MAX_SECONDS
    if rss is not None:
        assert rss <= MAX_RSS_KB
