"""squirrel-client against hostile servers (small Python servers on loopback): garbage,
endless headers, a Content-Length larger than the body, endless bodies, stalls, trickles.

Thresholds (issue 7): each gives its documented exit code (squirrel-client(1): 8 malformed or
too large, 28 timeout, 52 empty reply, 56 receive failure) and exactly one line on stderr,
within bounded time (the --timeout budget covers the whole fetch) and bounded memory (the
client's maximum RSS, measured by GNU time, stays small however much the server sends).
"""
import shutil
import socket
import ssl
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


def reset(h, c):
    rst(c)


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
    ("reset without answering", reset, {56}, "connection reset"),
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


# ---- over TLS: the deadline holds for the whole fetch, and a reset is a reset ---------------

TLS_TIMEOUT = 5  # issue 19: --timeout 5 exits 28 within 6 s
TLS_MAX_SECONDS = TLS_TIMEOUT + 1


class TlsHostile(Hostile):
    """A loopback TLS server on Python's ssl over memory BIOs, so that every byte it sends
    goes through behaviour(h, c, tls), which decides when (and whether) it leaves."""

    def __init__(self, pki, behaviour):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server_cert, pki.server_key)
        super().__init__(behaviour)

    def one(self, c):
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.ctx.wrap_bio(inc, out, server_side=True)
        tls.inc, tls.out = inc, out
        try:
            c.settimeout(10)
            self.behaviour(self, c, tls)
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()

    def feed(self, c, tls):
        """Bytes from the client into the TLS object; False at its close."""
        data = c.recv(65536)
        if data:
            tls.inc.write(data)
        return bool(data)

    def handshake(self, c, tls):
        """Run the handshake at full speed."""
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                c.sendall(tls.out.read())
                if not self.feed(c, tls):
                    raise OSError("closed during the handshake")
        c.sendall(tls.out.read())

    def request(self, c, tls):
        """The request head, decrypted."""
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                data += tls.read(65536)
            except ssl.SSLWantReadError:
                c.sendall(tls.out.read())  # session tickets
                if not self.feed(c, tls):
                    raise OSError("closed before the request")
        return data

    def trickle(self, c, data):
        """One byte a second until stopped."""
        for b in data:
            if self.stop.is_set():
                return
            c.sendall(bytes([b]))
            time.sleep(1)


def tls_trickle_handshake(h, c, tls):
    h.feed(c, tls)  # the ClientHello
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    h.trickle(c, tls.out.read())


def tls_trickle_record(h, c, tls):
    h.handshake(c, tls)
    h.request(c, tls)
    # One record of about 16 KB: wolfSSL needs all of it before it returns a byte.
    tls.write(b"HTTP/1.1 200 OK\r\nContent-Length: 16000\r\n\r\n" + b"z" * 16000)
    h.trickle(c, tls.out.read())


def tls_reset_after_hello(h, c, tls):
    h.feed(c, tls)
    rst(c)


def tls_reset_after_request(h, c, tls):
    h.handshake(c, tls)
    h.request(c, tls)
    rst(c)


def tls_reset_mid_body(h, c, tls):
    h.handshake(c, tls)
    h.request(c, tls)
    tls.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfluffy")
    c.sendall(tls.out.read())
    time.sleep(0.3)
    rst(c)


def rst(c):
    """Close with a reset (SO_LINGER 0)."""
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()


TLS_CASES = [
    # name, behaviour, exit code, words expected in the message, --timeout
    ("handshake answer at one byte a second", tls_trickle_handshake, 28, "timed out", TLS_TIMEOUT),
    ("a 16 KB record at one byte a second", tls_trickle_record, 28, "timed out", TLS_TIMEOUT),
    ("reset after the ClientHello", tls_reset_after_hello, 35, "connection reset", 10),
    ("reset after the request", tls_reset_after_request, 56, "connection reset", 10),
    ("reset in the middle of the body", tls_reset_mid_body, 56, "connection reset", 10),
]


@pytest.mark.parametrize("name,behaviour,code,words,timeout", TLS_CASES,
                         ids=[c[0] for c in TLS_CASES])
def test_client_against_hostile_tls_server(pki, name, behaviour, code, words, timeout, figures):
    h = TlsHostile(pki, behaviour)
    try:
        t0 = time.monotonic()
        p = subprocess.run(prog("squirrel-client") + ["--timeout", str(timeout), "--cacert",
                                                      pki.ca_cert,
                                                      f"https://127.0.0.1:{h.port}/"],
                           capture_output=True, timeout=30)
        took = time.monotonic() - t0
    finally:
        h.close()
    lines = p.stderr.decode(errors="replace").strip().splitlines()
    figures.add(f"{name}: exit {p.returncode} in {took:.2f} s: "
                f"{lines[-1] if lines else '(no message)'}")
    assert p.returncode == code, p.stderr
    assert len(lines) == 1, f"not one line: {lines}"
    assert words in lines[0].lower()
    assert p.stdout == b""
    if code == 28:
        assert took <= TLS_MAX_SECONDS
