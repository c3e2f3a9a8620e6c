"""Stage 4, HTTPS: certificates from our own squirrel-pki; our server against curl, requests
and openssl s_client; our client against our server and against openssl s_server; every
verification failure in the words users know."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests

from conftest import BIN, Pki, free_port, need, preload, prog, read_head, run, wait_port

SECRET = "fluffy tail"


@pytest.fixture
def tls_server(start_server, pki):
    return start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)


def https(server, host="localhost"):
    return f"https://{host}:{server.port}/"


def test_client_without_ca_fails_with_the_tutorials_words(tls_server):
    r = run("squirrel-client", https(tls_server))
    assert r.returncode == 60
    assert ("squirrel-client: error: certificate verify failed: unable to get local issuer "
            "certificate") in r.stderr
    assert "--cacert" in r.stderr and len(r.stderr.splitlines()) == 1


def test_client_with_the_wrong_cacert_is_not_told_to_give_cacert(tls_server, tmp_path):
    """--cacert already given, but another CA's file: the hint names the file and what it
    lacks, rather than suggesting the option the user just used."""
    other = Pki(str(tmp_path), name="Other CA")
    r = run("squirrel-client", "--cacert", other.ca_cert, https(tls_server))
    assert r.returncode == 60
    assert r.stderr == ("squirrel-client: error: certificate verify failed: unable to get local "
                        f"issuer certificate ({other.ca_cert} does not hold the CA that issued "
                        "the server's certificate; give that CA's file to --cacert)\n")


def test_client_with_cacert_reads_the_secret(tls_server, pki):
    r = run("squirrel-client", "--cacert", pki.ca_cert, env={"SECRET_URL": https(tls_server)})
    assert (r.returncode, r.stdout) == (0, f"The secret message is: {SECRET}\n"), r.stderr


def test_ip_address_san(tls_server, pki):
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, https(tls_server, "127.0.0.1"))
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr


@pytest.mark.parametrize("var", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_ca_from_environment(tls_server, pki, var):
    r = run("squirrel-client", "--raw", https(tls_server), env={var: pki.ca_cert})
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr


def test_ca_order_cacert_then_env(tls_server, pki, tmp_path):
    other = Pki(str(tmp_path), name="Other CA")
    # --cacert wins over the environment; SSL_CERT_FILE wins over the rest.
    env = {"SSL_CERT_FILE": other.ca_cert, "REQUESTS_CA_BUNDLE": pki.ca_cert}
    assert run("squirrel-client", "--raw", "--cacert", pki.ca_cert, https(tls_server), env=env).returncode == 0
    r = run("squirrel-client", https(tls_server), env=env)
    assert r.returncode == 60 and "SSL_CERT_FILE" in r.stderr


def test_unreadable_ca_file_is_its_own_error(tls_server, tmp_path):
    r = run("squirrel-client", "--cacert", tmp_path / "missing.pem", https(tls_server))
    assert r.returncode == 77
    assert "cannot read the CA file" in r.stderr and "No such file" in r.stderr


def test_cacert_with_http_url_warns(start_server, pki):
    s = start_server()
    r = run("squirrel-client", "--cacert", pki.ca_cert, s.url)
    assert r.returncode == 0
    assert "no TLS is in use" in r.stderr


def test_insecure_warns_every_time(tls_server):
    for _ in range(2):
        r = run("squirrel-client", "-k", "--raw", https(tls_server))
        assert (r.returncode, r.stdout) == (0, SECRET)
        assert "warning: --insecure" in r.stderr


def test_verbose_shows_session_and_chain(tls_server, pki):
    r = run("squirrel-client", "-v", "--cacert", pki.ca_cert, https(tls_server))
    assert r.returncode == 0
    assert "* TLS TLSv1.3, cipher TLS_AES_128_GCM_SHA256, key exchange X25519," in r.stderr
    assert "I am localhost according to Squirrel Test CA" in r.stderr
    assert "< HTTP/1.1 200 OK" in r.stderr


def test_hostname_mismatch(start_server, pki):
    cert, key = pki.leaf("elsewhere.example", sans=("elsewhere.example",))
    s = start_server("--mode", "tls", "--cert", cert, "--key", key)
    r = run("squirrel-client", "--cacert", pki.ca_cert, https(s))
    assert r.returncode == 60
    assert "certificate is not valid for 'localhost'" in r.stderr


@pytest.mark.requires("ipv6-loopback")
def test_ipv6_address_san(start_server, pki):
    """"::1" matches the certificate's IP entry ::1 by value (wolfSSL's own check compared
    text with its written-out form and refused it), as curl and Python do."""
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key,
                     host="[::1]")
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, https(s, "[::1]"))
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, https(s, "[0:0:0:0:0:0:0:1]"))
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr


def openssl_leaf(pki, tmp_path, name, subj, ext):
    """A leaf from the test CA made by OpenSSL, for names squirrel-pki would not write."""
    key, csr, cert = (str(tmp_path / f"{name}.{x}") for x in ("key", "csr", "pem"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", subj], check=True, capture_output=True)
    (tmp_path / f"{name}.ext").write_text(ext)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
                    "-set_serial", "9", "-days", "2", "-extfile", str(tmp_path / f"{name}.ext"),
                    "-out", cert], check=True, capture_output=True)
    return cert, key


def test_names_match_only_their_own_kind(pki, tmp_path, procs):
    """An address in the URL matches IP entries only, a name DNS entries only, and the CN
    never: as curl, Python and browsers (wolfSSL's own check accepted both cases below)."""
    need("openssl")
    need("curl")
    cert, key = openssl_leaf(pki, tmp_path, "dnsip", "/CN=dnsip",
                             "subjectAltName=DNS:127.0.0.1\n")
    url = serve_openssl(procs, cert, key, tmp_path).replace("localhost", "127.0.0.1")
    r = run("squirrel-client", "--cacert", pki.ca_cert, url)
    assert r.returncode == 60 and "certificate is not valid for '127.0.0.1'" in r.stderr, r.stderr
    c = subprocess.run(["curl", "-sS", "--cacert", pki.ca_cert, url], capture_output=True,
                       text=True, timeout=20)
    assert c.returncode == 60, c.stderr
    cert, key = openssl_leaf(pki, tmp_path, "cnonly", "/CN=localhost",
                             "basicConstraints=CA:FALSE\n")
    r = run("squirrel-client", "--cacert", pki.ca_cert, serve_openssl(procs, cert, key, tmp_path))
    assert r.returncode == 60 and "certificate is not valid for 'localhost'" in r.stderr, r.stderr


def test_curl_and_requests_and_python_strict(tls_server, pki):
    need("curl")
    r = subprocess.run(["curl", "-sS", "--cacert", pki.ca_cert, https(tls_server)],
                       capture_output=True, text=True, timeout=10)
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr
    r = subprocess.run(["curl", "-sS", https(tls_server)], capture_output=True, text=True, timeout=10,
                       env={"PATH": os.environ["PATH"]})
    assert r.returncode == 60
    assert requests.get(https(tls_server), verify=pki.ca_cert, timeout=5).text == SECRET
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https(tls_server), verify=True, timeout=5)
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as c:
        with ctx.wrap_socket(c, server_hostname="localhost") as t:
            t.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            assert t.recv(4096).endswith(SECRET.encode())


def test_large_heads_over_tls(tls_server, pki):
    """Heads past the 2 KiB buffer every head starts in, over one keep-alive session:
    decrypted bytes move to the large buffer as plain ones do."""
    with requests.Session() as s:
        for size in (100, 3000, 12000, 100):
            r = s.get(https(tls_server), headers={"X-Fill": "f" * size}, verify=pki.ca_cert,
                      timeout=5)
            assert r.text == SECRET
        big = s.get(https(tls_server), headers={"X-Fill": "f" * 17000}, verify=pki.ca_cert,
                    timeout=5)
        assert big.status_code == 431


class TlsPipe:
    """A TLS connection driven through memory BIOs, so that several records can leave in one
    send(), as a pipelining client's do when the network bunches them."""

    def __init__(self, port, ctx):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.out.read())
                self.inc.write(self.sock.recv(65536))
        self.sock.sendall(self.out.read())

    def send_records(self, records):
        for r in records:
            self.obj.write(r)  # one TLS record each
        self.sock.sendall(self.out.read())

    def read_to_close(self):
        data = b""
        while True:
            try:
                chunk = self.obj.read(65536)
                if not chunk:
                    break
                data += chunk
            except ssl.SSLWantReadError:
                got = self.sock.recv(65536)
                if not got:
                    break
                self.inc.write(got)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
        self.sock.close()
        return data


def test_pipelined_records_on_many_connections(tls_server, pki):
    """Eight sessions, each sending its own sequence of requests as one record per request,
    all records of a session in one send(), sessions interleaved. The server reads a
    connection's records ahead in one buffer it shares between connections: every session
    must get exactly its own answers, in order."""
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    reqs = {200: b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 404: b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
            405: b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"}
    last = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    plans = [[(200, 404, 405)[(i * 7 + k * (i + 1)) % 3] for k in range(3 + i)] for i in range(8)]
    pipes = [TlsPipe(tls_server.port, ctx) for _ in plans]
    for pipe, plan in zip(pipes, plans):
        pipe.send_records([reqs[code] for code in plan] + [last])
    for pipe, plan in zip(pipes, plans):
        got = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", pipe.read_to_close())]
        assert got == plan + [200]


def s_client(port, *args, input=b"Q\n"):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                           "-servername", "localhost", *args], input=input,
                          capture_output=True, timeout=20)


def test_openssl_versions(tls_server, pki):
    need("openssl")
    r = s_client(tls_server.port, "-tls1_3", "-CAfile", pki.ca_cert, "-verify_return_error")
    assert b"New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256" in r.stdout and r.returncode == 0
    r = s_client(tls_server.port, "-tls1_2", "-CAfile", pki.ca_cert)
    assert b"New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in r.stdout
    for old in ("-tls1_1", "-tls1"):
        r = s_client(tls_server.port, old, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert r.returncode != 0 and b"Cipher is (NONE)" in r.stdout, r.stdout[-400:]
    # No CBC, no static RSA key exchange.
    r = s_client(tls_server.port, "-tls1_2", "-cipher", "AES128-SHA:AES256-SHA256:ECDHE-RSA-AES128-SHA")
    assert r.returncode != 0


def test_server_cipher_preference(tls_server):
    need("openssl")
    r = s_client(tls_server.port, "-tls1_2", "-cipher",
                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256")
    assert b"ECDHE-ECDSA-AES128-GCM-SHA256" in r.stdout


def test_session_resumption(tls_server, pki, tmp_path):
    need("openssl")
    sess = str(tmp_path / "sess.pem")
    # A request makes s_client read on, past the TLS 1.3 ticket that follows the handshake.
    req = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    for version in ("-tls1_2", "-tls1_3"):
        r1 = s_client(tls_server.port, version, "-sess_out", sess, "-ign_eof", input=req)
        assert r1.returncode == 0 and SECRET.encode() in r1.stdout
        r2 = s_client(tls_server.port, version, "-sess_in", sess, "-ign_eof", input=req)
        assert b"Reused, TLSv1." in r2.stdout, (version, r2.stdout[-600:])


def test_resumed_session_kept_while_idle(tls_server, pki):
    """A resumed session that waits for its request is slimmed like any other (tls_slim()
    gives the zero pages of wolfSSL's session block back): that must hold for the session a
    ticket restored, and the request after the wait must be answered. Under SAN=1, ASan
    checks the block tls_slim() measures with malloc_usable_size()."""
    req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.create_default_context(cafile=pki.ca_cert)
        ctx.minimum_version = ctx.maximum_version = version
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls_server.port), timeout=5),
                             server_hostname="localhost") as s1:
            s1.sendall(req)
            assert read_head(s1).startswith(b"HTTP/1.1 200 ")  # the ticket came before it
            session = s1.session
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls_server.port), timeout=5),
                             server_hostname="localhost", session=session) as s2:
            assert s2.session_reused, version
            time.sleep(0.6)  # idle past the sweep tick (SRV_TICK_MS, 250 ms) that slims it
            s2.sendall(req)
            assert read_head(s2).startswith(b"HTTP/1.1 200 "), version


# Counts the server's reads that find the socket empty (recv() with no flags: wolfSSL's
# reads through tls_recv; peeks do not count), in the file named by EMPTY_READS_FILE.
EMPTY_READS_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, void *, size_t, int);
	static unsigned long empty;
	ssize_t n;
	int e;
	FILE *f;

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
	n = real(fd, buf, len, flags);
	if (n >= 0 || flags != 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		return n;
	e = errno;
	f = fopen(getenv("EMPTY_READS_FILE"), "w");
	if (f) {
		fprintf(f, "%lu\n", ++empty);
		fclose(f);
	}
	errno = e;
	return n;
}
"""


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls1.2", "tls1.3"])
def test_handshake_waits_in_poll_not_in_read_retries(start_server, pki, tmp_path, version):
    """Debian's wolfSSL is built with OPENSSL_COMPATIBLE_DEFAULTS, which turns on
    SSL_MODE_AUTO_RETRY: a handshake read that finds the socket empty is retried ten times at
    once before wolfSSL says WANT_READ. On a non-blocking server that is ten wasted system
    calls for every flight a client does not answer within microseconds. The client here
    answers the server's flight 0.2 s late; the server must read once (or not at all: the
    read before came back short) and go back to poll(). Before the fix: 11 reads, 11 empty."""
    count = tmp_path / "empty-reads"
    # --no-sandbox: the shim writes its count to a file, which the sandbox forbids.
    server = start_server("--no-sandbox", "--mode", "tls", "--cert", pki.server_cert,
                          "--key", pki.server_key,
                          env=preload(tmp_path, "emptyreads", EMPTY_READS_C,
                                      EMPTY_READS_FILE=str(count)))
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    ctx.minimum_version = ctx.maximum_version = version
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            s.sendall(out.read())  # the ClientHello
        done = False
        while not done:
            inc.write(s.recv(65536))
            try:
                tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                pass
            if out.pending:
                time.sleep(0.2)  # the server has sent its flight and waits for ours
                s.sendall(out.read())
        tls.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        s.sendall(out.read())
        answer = b""
        while b"fluffy tail" not in answer:
            data = s.recv(65536)
            if not data:
                break
            inc.write(data)
            try:
                answer += tls.read(65536)
            except ssl.SSLWantReadError:
                pass
    assert b"HTTP/1.1 200 " in answer and b"fluffy tail" in answer
    empty = int(count.read_text()) if count.exists() else 0
    assert empty <= 2, f"{empty} reads found the socket empty during one handshake"


def test_plain_http_on_tls_port(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        out = c.recv(4096)
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"plain HTTP request was sent to HTTPS port" in out
    r = run("squirrel-client", f"http://localhost:{tls_server.port}/")
    assert r.returncode == 22 and "HTTPS port" in r.stderr


def test_plain_head_on_tls_port_gets_no_body(tls_server):
    """Issue 19: the request on the TLS port is read as HTTP, so a HEAD gets its 400 without
    a body (RFC 9110 §9.3.2), and the log names it. It got the body, unread."""
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as c:
        c.sendall(b"HEAD /x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        out = b"".join(iter(lambda: c.recv(4096), b""))
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n"), out
    assert out.endswith(b"\r\n\r\n") and b"\r\nConnection: close\r\n" in out, out
    tls_server.wait_log('"HEAD /x" 400 0 ')


def test_https_to_plain_servers(start_server):
    s = start_server()
    r = run("squirrel-client", f"https://localhost:{s.port}/")
    assert r.returncode == 35 and "for plain HTTP use http://" in r.stderr


def test_our_client_against_openssl_s_server(pki, tmp_path, procs):
    need("openssl")
    (tmp_path / "secret.txt").write_text(SECRET)
    port = free_port()
    procs.start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", pki.server_cert,
                 "-key", pki.server_key, "-WWW", "-quiet"], cwd=tmp_path)
    wait_port(port)
    r = run("squirrel-client", "--cacert", pki.ca_cert, f"https://localhost:{port}/secret.txt")
    assert (r.returncode, r.stdout) == (0, f"The secret message is: {SECRET}\n"), r.stderr


def serve_openssl(procs, cert, key, tmp_path):
    port = free_port()
    (tmp_path / "secret.txt").write_text(SECRET)
    procs.start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key,
                 "-WWW", "-quiet"], cwd=tmp_path)
    wait_port(port)
    return f"https://localhost:{port}/secret.txt"


def test_expired_and_not_yet_valid(pki, tmp_path, procs):
    need("openssl")
    cert, key = pki.leaf("expired", days=1, not_before="-3d")
    r = run("squirrel-client", "--cacert", pki.ca_cert, serve_openssl(procs, cert, key, tmp_path))
    assert r.returncode == 60 and "certificate has expired (the server needs a new" in r.stderr
    cert, key = pki.leaf("future", days=1, not_before="+3d")
    r = run("squirrel-client", "--cacert", pki.ca_cert, serve_openssl(procs, cert, key, tmp_path))
    assert r.returncode == 60 and "certificate is not yet valid (check this" in r.stderr


def test_client_certificate_served_as_a_server_one(pki, tmp_path, procs):
    """A certificate issued with --client has extendedKeyUsage clientAuth only: refused as
    curl refuses it (60, "unsuitable certificate purpose"), saying where it came from."""
    need("openssl")
    need("curl")
    cert, key = pki.leaf("alice", client=True)
    url = serve_openssl(procs, cert, key, tmp_path)
    r = run("squirrel-client", "--cacert", pki.ca_cert, url)
    assert r.returncode == 60, r.stderr
    assert "certificate verify failed: unsuitable certificate purpose" in r.stderr
    assert "squirrel-pki sign --client" in r.stderr and len(r.stderr.splitlines()) == 1
    c = subprocess.run(["curl", "-sS", "--cacert", pki.ca_cert, url], capture_output=True,
                       text=True, timeout=20)
    assert c.returncode == 60 and "unsuitable certificate purpose" in c.stderr, c.stderr


def test_self_signed_leaf(tmp_path, procs):
    need("openssl")
    key, cert = str(tmp_path / "ss.key"), str(tmp_path / "ss.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    r = run("squirrel-client", serve_openssl(procs, cert, key, tmp_path))
    assert r.returncode == 60 and "self-signed certificate" in r.stderr, r.stderr


def test_server_refuses_bad_files(pki, tmp_path):
    expired, expired_key = pki.leaf("old", days=1, not_before="-3d")
    other_cert, _ = pki.leaf("other")
    cases = [
        (["--cert", expired, "--key", expired_key], 4, "certificate has expired"),
        (["--cert", other_cert, "--key", pki.server_key], 4, "does not belong"),
        (["--cert", tmp_path / "nope.pem", "--key", pki.server_key], 4, "cannot read"),
        (["--cert", pki.server_key, "--key", pki.server_key], 4, "not a certificate"),
    ]
    for args, code, words in cases:
        r = run("squirrel-server", "--mode", "tls", "--listen", f"127.0.0.1:{free_port()}", *args)
        assert r.returncode == code, (args, r.stderr)
        assert words in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


def test_encrypted_key(start_server, pki, tmp_path):
    cert, key = pki.leaf("locked", password="acorns 4 all")
    with open(key) as f:
        assert "ENCRYPTED PRIVATE KEY" in f.read()
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("acorns 4 all\n")
    bad.write_text("walnuts\n")
    s = start_server("--mode", "tls", "--cert", cert, "--key", key, "--key-password-file", good)
    assert run("squirrel-client", "--raw", "--cacert", pki.ca_cert, https(s)).stdout == SECRET
    r = run("squirrel-server", "--mode", "tls", "--cert", cert, "--key", key,
            "--key-password-file", bad, "--listen", f"127.0.0.1:{free_port()}")
    assert r.returncode == 5 and "wrong password" in r.stderr
    # No terminal to ask on (a new session has none), no password file: a clear refusal.
    p = subprocess.run(prog("squirrel-server") + ["--mode", "tls", "--cert", cert, "--key", key,
                       "--listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True,
                       start_new_session=True, stdin=subprocess.DEVNULL, timeout=30)
    assert p.returncode == 5 and "--key-password-file" in p.stderr


def test_tutorials_own_files_from_python(start_server, tmp_path):
    """The tutorial's pki_helpers.py way: RSA keys in encrypted traditional PEM, a CA without
    extensions. Our server and client must take them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    import datetime
    import ipaddress

    def key_pem(k, pw):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.BestAvailableEncryption(pw))

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.utcnow()
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (x509.CertificateBuilder().subject_name(name("My CA Company")).issuer_name(name("My CA Company"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
          .sign(ca_key, hashes.SHA256()))
    srv_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(srv_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca-public-key.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server-public-key.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server-private-key.pem").write_bytes(key_pem(srv_key, b"secret_password"))
    (tmp_path / "pw").write_text("secret_password\n")
    (tmp_path / "wrong").write_text("not_the_password\n")
    assert b"Proc-Type: 4,ENCRYPTED" in (tmp_path / "server-private-key.pem").read_bytes()
    s = start_server("--mode", "tls", "--cert", tmp_path / "server-public-key.pem",
                     "--key", tmp_path / "server-private-key.pem", "--key-password-file", tmp_path / "pw")
    r = run("squirrel-client", "--cacert", tmp_path / "ca-public-key.pem", https(s))
    assert (r.returncode, r.stdout) == (0, f"The secret message is: {SECRET}\n"), r.stderr
    # The legacy format "decrypts" under a wrong password in wolfSSL: we must still say so.
    r = run("squirrel-server", "--mode", "tls", "--cert", tmp_path / "server-public-key.pem",
            "--key", tmp_path / "server-private-key.pem", "--key-password-file", tmp_path / "wrong",
            "--listen", f"127.0.0.1:{free_port()}")
    assert r.returncode == 5 and "wrong password" in r.stderr, r.stderr


def test_mutual_tls(start_server, pki, tmp_path):
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key,
                     "--client-ca", pki.ca_cert)
    ccert, ckey = pki.leaf("member", sans=("member",), client=True)
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, "--cert", ccert, "--key", ckey, https(s))
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr
    r = run("squirrel-client", "--cacert", pki.ca_cert, https(s))
    assert r.returncode == 35 and "certificate_required" in r.stderr, r.stderr
    assert "--cert FILE --key FILE" in r.stderr
    other = Pki(str(tmp_path), name="Rogue CA")
    rcert, rkey = other.leaf("rogue", sans=("rogue",), client=True)
    r = run("squirrel-client", "--cacert", pki.ca_cert, "--cert", rcert, "--key", rkey, https(s))
    assert r.returncode == 35, r.stderr
    s.wait_log("tls handshake failed")


def test_sighup_reloads_for_new_connections(start_server, pki, tmp_path):
    cert, key = str(tmp_path / "live.pem"), str(tmp_path / "live-key.pem")
    a_cert, a_key = pki.leaf("localhost-a", sans=("localhost",))
    b_cert, b_key = pki.leaf("localhost-b", sans=("localhost",))
    shutil.copy(a_cert, cert)
    shutil.copy(a_key, key)
    s = start_server("--mode", "tls", "--cert", cert, "--key", key)
    sess = requests.Session()
    assert sess.get(https(s), verify=pki.ca_cert, timeout=5).text == SECRET
    shutil.copy(b_cert, cert)
    shutil.copy(b_key, key)
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("reloaded")
    r = run("squirrel-client", "-v", "--cacert", pki.ca_cert, https(s))
    assert "I am localhost-b according to" in r.stderr
    # The connection opened before the reload still works.
    assert sess.get(https(s), verify=pki.ca_cert, timeout=5).text == SECRET
    # Bad new files: the old certificate stays, and the log says why.
    with open(cert, "w") as f:
        f.write("garbage")
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("reload failed, keeping the old certificate")
    r = run("squirrel-client", "-v", "--cacert", pki.ca_cert, https(s))
    assert r.returncode == 0 and "I am localhost-b according to" in r.stderr


def test_fernet_inside_tls(start_server, pki):
    from cryptography.fernet import Fernet
    k = Fernet.generate_key().decode()
    s = start_server("--mode", "tls", "--fernet", "--cert", pki.server_cert, "--key", pki.server_key,
                     env={"SECRET_KEY": k})
    body = requests.get(https(s), verify=pki.ca_cert, timeout=5).text
    assert body.startswith("gAAAAA")
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, https(s), env={"SECRET_KEY": k})
    assert (r.returncode, r.stdout) == (0, SECRET)


def test_stalled_handshakes_do_not_delay_others(start_server, pki):
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key,
                     "--handshake-timeout", "1")
    stalled = []
    for i in range(50):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" if i % 2 else b"\x16")
        stalled.append(c)
    t0 = time.monotonic()
    assert requests.get(https(s), verify=pki.ca_cert, timeout=5).text == SECRET
    assert time.monotonic() - t0 < 1.0
    # Their own deadline closes them.
    time.sleep(1.6)
    for c in stalled:
        c.settimeout(2)
        try:
            assert c.recv(100) == b""
        except ConnectionResetError:
            pass
        c.close()
    s.wait_log("tls handshake not finished in time")


def test_hostile_bytes_over_tls(tls_server, pki):
    junk = [b"\x16\x03\x03\x00\x05hello", b"\x16\x03\x01\xff\xff" + b"A" * 100, os.urandom(300),
            b"\x17\x03\x03\x00\x10" + b"B" * 16]
    for j in junk:
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as c:
            c.sendall(j)
            c.settimeout(3)
            try:
                c.recv(4096)
            except (socket.timeout, ConnectionResetError):
                pass
    for _ in range(20):
        c = socket.create_connection(("127.0.0.1", tls_server.port))
        c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
    assert requests.get(https(tls_server), verify=pki.ca_cert, timeout=5).text == SECRET


@pytest.mark.requires("pseudo-terminal")
def test_server_asks_for_the_key_password_on_a_terminal(pki, tmp_path):
    """As uWSGI and OpenSSL do for the tutorial: the prompt names the key, input is not echoed."""
    import pty
    import select
    from conftest import free_port, wait_port
    cert, key = pki.leaf("prompted", password="hazelnut")
    port = free_port()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(os.path.join(BIN, "squirrel-server"),
                 ["squirrel-server", "--mode", "tls", "--cert", cert, "--key", key,
                  "--listen", f"127.0.0.1:{port}", "--quiet"])
    try:
        seen = b""
        deadline = time.monotonic() + 20
        while b"pass phrase" not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 1024)
        assert f"Enter PEM pass phrase for {key}: ".encode() in seen
        os.write(fd, b"hazelnut\n")
        wait_port(port, timeout=20)
        r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, f"https://localhost:{port}/")
        assert (r.returncode, r.stdout) == (0, SECRET)
        time.sleep(0.2)
        while select.select([fd], [], [], 0.1)[0]:
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break
        assert b"hazelnut" not in seen  # never echoed
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_only_the_policy_curves(tls_server, version):
    """X25519, P-256, P-384 only: testssl found secp256k1, brainpool and X448 accepted once."""
    need("openssl")
    for group in ("secp256k1", "brainpoolP256r1", "X448", "secp521r1"):
        r = s_client(tls_server.port, version, "-groups", group)
        assert b"Cipher is (NONE)" in r.stdout, (group, r.stdout[-300:])
    # With an ECDSA P-256 certificate, a TLS 1.2 client must list P-256 too.
    r = s_client(tls_server.port, version, "-groups", "P-256")
    assert b"Server Temp Key: ECDH, prime256v1" in r.stdout


def tls_one_answer(pki, data, close_notify):
    """A TLS server (Python's ssl) that answers one request with data, then ends the session
    with close_notify, or closes the TCP connection without it; returns its URL."""
    import threading

    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)

    def serve():
        with srv:
            c, _ = srv.accept()
            try:
                s = ctx.wrap_socket(c, server_side=True)
                if b"\r\n\r\n" not in read_head(s):
                    return
                s.sendall(data)
                if close_notify:
                    s.unwrap().close()
                else:
                    socket.socket(fileno=s.detach()).close()
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    return f"https://localhost:{srv.getsockname()[1]}/"


CLOSE_DELIMITED = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nfluffy tail"


def test_close_delimited_body_needs_close_notify(pki):
    """A body that runs to the close is whole over TLS only when close_notify ends it: a TCP
    close without it may be an attacker's cut (RFC 8446 §6.1; curl says "unexpected eof while
    reading", exit 56). With close_notify the same answer is the secret."""
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert,
            tls_one_answer(pki, CLOSE_DELIMITED, close_notify=True))
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert,
            tls_one_answer(pki, CLOSE_DELIMITED, close_notify=False))
    assert (r.returncode, r.stdout) == (56, ""), r.stderr
    assert r.stderr == ("squirrel-client: error: the server closed the connection without "
                        "close_notify, so the body may have been cut short (a TLS server "
                        "ends its session with close_notify, or sends a Content-Length)\n")
