"""Stage 2, Fernet: the body on the wire is a token; our tokens and the reference's
(Python cryptography) are interchangeable in both directions."""
import base64
import http.server
import subprocess
import threading
import time

import pytest
import requests
from cryptography.fernet import Fernet, InvalidToken

from conftest import need, run

SECRET = "fluffy tail"


def new_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def key():
    return new_key()


@pytest.fixture
def fernet_server(start_server, key):
    return start_server("--mode", "fernet", env={"SECRET_KEY": key})


def test_wire_shows_only_a_token(fernet_server, key):
    need("curl")
    body = subprocess.run(["curl", "-s", fernet_server.url], capture_output=True,
                          timeout=10).stdout
    assert body.startswith(b"gAAAAA")
    assert SECRET.encode() not in body
    assert Fernet(key.encode()).decrypt(body, ttl=60).decode() == SECRET


def test_every_response_is_a_fresh_token(fernet_server, key):
    tokens = {requests.get(fernet_server.url, timeout=5).content for _ in range(5)}
    assert len(tokens) == 5
    f = Fernet(key.encode())
    for t in tokens:
        assert f.decrypt(t).decode() == SECRET
        # Version 0x80, then the timestamp: now.
        raw = base64.urlsafe_b64decode(t)
        assert raw[0] == 0x80
        assert abs(int.from_bytes(raw[1:9], "big") - time.time()) < 5


def test_our_client_decrypts(fernet_server, key):
    r = run("squirrel-client", fernet_server.url, env={"SECRET_KEY": key})
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"The secret message is: {SECRET}\n"


def test_wrong_key_fails_clearly(fernet_server):
    r = run("squirrel-client", fernet_server.url, env={"SECRET_KEY": new_key()})
    assert r.returncode == 100
    assert r.stderr == ("squirrel-client: error: invalid token: the response could not be "
                        "decrypted with SECRET_KEY (a key other than the server's)\n")
    assert r.stdout == ""


def test_wrong_key_fails_in_python_too(fernet_server):
    token = requests.get(fernet_server.url, timeout=5).content
    with pytest.raises(InvalidToken):
        Fernet(new_key().encode()).decrypt(token)


def test_plain_server_with_a_key_is_refused(start_server, key):
    s = start_server()
    r = run("squirrel-client", s.url, env={"SECRET_KEY": key})
    assert r.returncode == 100 and "invalid token" in r.stderr


def test_head_in_fernet_mode(fernet_server):
    r = requests.head(fernet_server.url, timeout=5)
    assert r.status_code == 200 and r.content == b""
    token = requests.get(fernet_server.url, timeout=5).content
    assert int(r.headers["Content-Length"]) == len(token)


def test_server_refuses_to_start_without_key():
    r = run("squirrel-server", "--mode", "fernet", "--listen", "127.0.0.1:1", env={"SECRET_KEY": ""})
    assert r.returncode == 6
    assert "squirrel-pki fernet-key" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize("bad", ["abc", "x" * 44, Fernet.generate_key().decode()[:-4] + "AAAA" * 2,
                                 "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,nope"],
                         ids=["short", "not-base64url", "48-characters", "second-of-two"])
def test_server_refuses_malformed_key(bad):
    r = run("squirrel-server", "--mode", "fernet", "--listen", "127.0.0.1:1", env={"SECRET_KEY": bad})
    assert r.returncode == 6
    assert r.stderr.startswith("squirrel-server: error: SECRET_KEY: ")
    assert bad not in r.stderr  # the key is never echoed


def test_client_reports_malformed_key_before_connecting():
    r = run("squirrel-client", "http://127.0.0.1:1/", env={"SECRET_KEY": "not-a-key"})
    assert r.returncode == 101
    assert "SECRET_KEY" in r.stderr and "connection refused" not in r.stderr


def test_key_rotation(start_server):
    old, new = new_key(), new_key()
    # Members learn the new key first (newest first), the server still uses the old one...
    s = start_server("--mode", "fernet", env={"SECRET_KEY": old})
    assert run("squirrel-client", "--raw", s.url, env={"SECRET_KEY": f"{new},{old}"}).stdout == SECRET
    # ...then the server switches; members who have both keep working.
    s2 = start_server("--mode", "fernet", env={"SECRET_KEY": f"{new},{old}"})
    assert run("squirrel-client", "--raw", s2.url, env={"SECRET_KEY": f"{new},{old}"}).stdout == SECRET
    assert run("squirrel-client", "--raw", s2.url, env={"SECRET_KEY": new}).stdout == SECRET
    # A member who only has the old key is locked out, as intended.
    assert run("squirrel-client", s2.url, env={"SECRET_KEY": old}).returncode == 100


class TokenHandler(http.server.BaseHTTPRequestHandler):
    """Serves a token made by Python's reference implementation."""
    token = b""
    chunked = False

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(self.token) // 2
            for part in (self.token[:half], self.token[half:] + b"\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            body = self.token + b"\n"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def python_server(token, chunked=False):
    handler = type("H", (TokenHandler,), {"token": token, "chunked": chunked,
                                          "protocol_version": "HTTP/1.1"})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.parametrize("chunked", [False, True])
def test_our_client_decrypts_python_tokens(key, chunked):
    token = Fernet(key.encode()).encrypt(SECRET.encode())
    srv = python_server(token, chunked)
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/"
        r = run("squirrel-client", url, env={"SECRET_KEY": key})
        assert (r.returncode, r.stdout) == (0, f"The secret message is: {SECRET}\n"), r.stderr
        r = run("squirrel-client", url, env={"SECRET_KEY": new_key()})
        assert r.returncode == 100
    finally:
        srv.shutdown()


@pytest.mark.parametrize("size", [4096, 4100, 4111])
def test_longest_messages_from_python(key, size):
    """A token's length allows up to 15 bytes of message beyond our own 4096-byte limit
    (padding): Python's tokens for them open, not "wrong key" as they did."""
    msg = bytes(97 + i % 26 for i in range(size))
    srv = python_server(Fernet(key.encode()).encrypt(msg))
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/"
        r = run("squirrel-client", "--raw", url, env={"SECRET_KEY": key})
        assert (r.returncode, r.stdout) == (0, msg.decode()), r.stderr
    finally:
        srv.shutdown()


def test_too_long_token_says_so(key):
    srv = python_server(Fernet(key.encode()).encrypt(b"x" * 4112))
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/"
        r = run("squirrel-client", url, env={"SECRET_KEY": key})
        assert r.returncode == 100 and "longer than the 5560-character tokens" in r.stderr
        assert "wrong key" not in r.stderr
    finally:
        srv.shutdown()


def test_ttl(key):
    old = Fernet(key.encode()).encrypt_at_time(SECRET.encode(), int(time.time()) - 3600)
    srv = python_server(old)
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/"
        assert run("squirrel-client", "--raw", url, env={"SECRET_KEY": key}).stdout == SECRET
        r = run("squirrel-client", "--ttl", "60", url, env={"SECRET_KEY": key})
        assert r.returncode == 100 and "older than 60 seconds (--ttl 60)" in r.stderr
    finally:
        srv.shutdown()


def test_key_from_pki_works_end_to_end(start_server):
    r = run("squirrel-pki", "fernet-key")
    assert r.returncode == 0
    k = r.stdout.strip()
    s = start_server("--mode", "fernet", env={"SECRET_KEY": k})
    assert run("squirrel-client", "--raw", s.url, env={"SECRET_KEY": k}).stdout == SECRET
    assert k not in s.log_text()
