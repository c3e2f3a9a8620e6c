"""squirrel-tap --keylog and --flow end to end, with real peers writing their session keys
(SSLKEYLOGFILE): curl and openssl s_client (OpenSSL), Python's ssl (keylog_filename) and
headless Chromium, fetching the secret through the tap from openssl s_server and from our own
squirrel-server. With the key log the secret must show inside decrypted records, without it
nowhere; the key exchange is named; --flow draws each stage's fetch as a ladder.
"""
import os
import re
import socket
import ssl
import subprocess

import pytest

from conftest import browser, need, prog, requires, run
from test_tap import SECRET, Tap, s_server

# (curl options, the suite the tap must name): every AEAD suite of both versions.
CURL_SUITES = {
    "tls1.3-aes128": (["--tls13-ciphers", "TLS_AES_128_GCM_SHA256"], "TLS_AES_128_GCM_SHA256"),
    "tls1.3-aes256": (["--tls13-ciphers", "TLS_AES_256_GCM_SHA384"], "TLS_AES_256_GCM_SHA384"),
    "tls1.3-chacha20": (["--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"],
                        "TLS_CHACHA20_POLY1305_SHA256"),
    "tls1.2-aes128": (["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"],
                      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    "tls1.2-aes256": (["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"],
                      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    "tls1.2-chacha20": (["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-CHACHA20-POLY1305"],
                        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
}


def curl(port, cafile, keylog, *args):
    need("curl")
    env = dict(os.environ)
    if keylog is not None:
        env["SSLKEYLOGFILE"] = str(keylog)
    r = subprocess.run(["curl", "-sS", "--cacert", str(cafile), *args,
                        f"https://localhost:{port}/secret.txt"],
                       env=env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("case", CURL_SUITES)
def test_keylog_opens_curl_fetch(procs, tmp_path, case):
    args, suite = CURL_SUITES[case]
    port, cert = s_server(procs, tmp_path)
    keys = tmp_path / "keys.log"
    tap = Tap(procs, tmp_path, port, "--summary", "--keylog", keys, "--grep", "fluffy tail")
    assert curl(tap.port, cert, keys, *args) == SECRET
    out = tap.wait_text("conn 1: 'fluffy tail' seen only after decryption (server -> client)")
    assert re.search(rf"    handshake: ServerHello, \d+ bytes, TLS 1\.[23], cipher suite {suite} ",
                     out)
    assert "  [decrypted] HTTP request: GET /secret.txt HTTP/1.1\n" in out
    assert '  [decrypted] HTTP body text: "fluffy tail"\n' in out
    assert "    [decrypted] alert: warning, close_notify (0)\n" in out
    assert "not decrypted" not in out
    if case.startswith("tls1.3"):
        for message in ("EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"):
            assert f"    [decrypted] handshake: {message}, " in out
        assert "records kept until the key log had their keys:" in out
    else:
        assert "    handshake: Certificate, " in out  # in clear in TLS 1.2
        assert "    [decrypted] handshake: Finished, 12 bytes\n" in out
    # The same fetch, the key log still written, but the tap not given it: records only.
    plain = Tap(procs, tmp_path, port, "--summary", "--grep", "fluffy tail")
    assert curl(plain.port, cert, keys, *args) == SECRET
    out = plain.wait_text("conn 1: 'fluffy tail' not seen")
    assert "[decrypted]" not in out and "HTTP request" not in out
    assert re.search(r"  TLS record: application data, \d+ bytes", out)


def test_keylog_opens_our_server_for_python(procs, tmp_path, start_server, pki):
    """Python's ssl writes the key log, squirrel-server (wolfSSL) answers: TLS 1.3 and 1.2."""
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    keys = tmp_path / "python.keys"
    tap = Tap(procs, tmp_path, s.port, "--summary", "--keylog", keys, "--grep", "fluffy tail")
    for conn, top in ((1, ssl.TLSVersion.TLSv1_3), (2, ssl.TLSVersion.TLSv1_2)):
        ctx = ssl.create_default_context(cafile=pki.ca_cert)
        ctx.keylog_filename = str(keys)
        ctx.maximum_version = top
        with socket.create_connection(("127.0.0.1", tap.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                t.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                body = b""
                while b"fluffy tail" not in body:
                    chunk = t.recv(4096)
                    if not chunk:
                        break
                    body += chunk
        assert body.endswith(SECRET)
        out = tap.wait_text(f"conn {conn}: 'fluffy tail' seen only after decryption "
                            "(server -> client)")
    assert "  [decrypted] HTTP response: HTTP/1.1 200 OK\n" in out
    assert out.count('  [decrypted] HTTP body text: "fluffy tail"\n') == 2
    assert "TLS 1.2, cipher suite TLS_ECDHE_ECDSA_WITH_" in out
    assert "not decrypted" not in out


def test_keylog_opens_our_own_client(procs, tmp_path, start_server, pki):
    """squirrel-client --keylog, TLS 1.2 (what Debian's wolfSSL can log): wolfSSL writes the
    master secret when its handshake is done, after its Finished and the server's have
    passed the tap; both are kept until then and opened, nothing stays sealed."""
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    keys = tmp_path / "ours.keys"
    tap = Tap(procs, tmp_path, s.port, "--flow", "--keylog", keys, "--grep", "fluffy tail")
    r = run("squirrel-client", "--cacert", pki.ca_cert, "--keylog", keys, "--tls-max", "1.2",
            env={"SECRET_URL": f"https://localhost:{tap.port}"})
    assert r.returncode == 0 and "fluffy tail" in r.stdout, r.stderr
    out = tap.wait_text("conn 1: 'fluffy tail' seen only after decryption (server -> client)")
    steps = ladder(out)
    assert sum("[decrypted] Finished, 12 B" in step for step in steps) == 2, out
    assert any(re.match(r'\|<-+ \[decrypted\] 200 OK, 11 B: "fluffy tail" --\|$', step)
               for step in steps), out
    assert "[encrypted]" not in out


def test_keylog_written_after_the_tap_started(procs, tmp_path):
    """openssl s_client -keylogfile creates the key log as it connects; the tap, started
    first, is told the file is not there yet and reads it when a connection needs it."""
    need("openssl")
    port, cert = s_server(procs, tmp_path)
    keys = tmp_path / "later.keys"
    tap = Tap(procs, tmp_path, port, "--summary", "--keylog", keys)
    assert f"--keylog {keys}: no such file yet" in tap.err()
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{tap.port}",
                        "-servername", "localhost", "-CAfile", cert, "-keylogfile", keys,
                        "-quiet", "-ign_eof"],
                       input=b"GET /secret.txt HTTP/1.0\r\n\r\n", capture_output=True,
                       timeout=20)
    assert r.stdout.endswith(SECRET), r.stderr
    out = tap.wait_text("conn 1: closed")
    assert '  [decrypted] HTTP body text: "fluffy tail"\n' in out


def test_key_exchange_named_for_chromium(procs, tmp_path, start_server, pki):
    """A current Chromium offers the post-quantum hybrid X25519MLKEM768 (codepoint 0x11ec)
    beside X25519; squirrel-server's wolfSSL 5.5.4 has no ML-KEM and chooses X25519."""
    requires("browser")
    exe = browser()
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    tap = Tap(procs, tmp_path, s.port, "--flow")
    layers = Tap(procs, tmp_path, s.port, "--summary")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    for t in (tap, layers):
        # Our CA is not in Chromium's store (an NSS database): the certificate check is not
        # what this test is about, the ClientHello is.
        r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-quic", "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={profile}", "--ignore-certificate-errors",
                            "--dump-dom", f"https://localhost:{t.port}/"],
                           capture_output=True, timeout=90)
        assert b"fluffy tail" in r.stdout, r.stderr[-2000:]
    flow = tap.wait_text("an eavesdropper learned")
    assert re.search(r"^\|-- ClientHello \(SNI localhost, offers X25519MLKEM768 X25519 \.\.\.\)",
                     flow, re.M)
    assert re.search(r"ServerHello \(TLS 1\.3, TLS_AES_\w+, X25519\)", flow)
    out = layers.wait_text("key share: X25519 (32 bytes), the group the server chose")
    assert re.search(r"^      groups: GREASE X25519MLKEM768 X25519 secp256r1", out, re.M)
    assert re.search(r"^      key shares: GREASE \(1 byte\), X25519MLKEM768 \(1216 bytes\), "
                     r"X25519 \(32 bytes\)$", out, re.M)


# ---- --flow ------------------------------------------------------------------------------

def ladder(out):
    return [line for line in out.splitlines() if line.startswith("|")]


def test_flow_tls_fetch_is_a_short_ladder(procs, tmp_path, start_server, pki):
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    tap = Tap(procs, tmp_path, s.port, "--flow", "--grep", "fluffy tail")
    r = run("squirrel-client", "--cacert", pki.ca_cert,
            env={"SECRET_URL": f"https://localhost:{tap.port}"})
    assert r.returncode == 0 and "fluffy tail" in r.stdout, r.stderr
    out = tap.wait_text("conn 1: 'fluffy tail' not seen")
    lines = out.splitlines()
    assert len(lines) <= 20, out
    assert max(len(line) for line in lines) <= 80
    assert "fluffy tail\"" not in out
    steps = ladder(out)
    assert steps[0].startswith("|-- ClientHello (SNI localhost, offers X25519 ")
    assert steps[0].endswith("->|")
    assert re.match(r"\|<-+ ServerHello \(TLS 1\.3, TLS_AES_128_GCM_SHA256, X25519\), \d+ B --\|",
                    steps[1])
    assert re.match(r"\|<-+ \[encrypted\] \d+ records, \d+ B --\|", steps[2])
    assert "conn 1: an eavesdropper learned names and sizes only" in lines


def test_flow_plain_fetch_puts_the_secret_on_an_arrow(procs, tmp_path, start_server):
    s = start_server()
    tap = Tap(procs, tmp_path, s.port, "--flow", "--grep", "fluffy tail")
    r = run("squirrel-client", env={"SECRET_URL": f"http://127.0.0.1:{tap.port}"})
    assert r.returncode == 0, r.stderr
    out = tap.wait_text("conn 1: 'fluffy tail' seen in clear (server -> client)")
    steps = ladder(out)
    assert steps[0].startswith("|-- GET / ---")
    assert re.match(r'\|<-+ 200 OK, 11 B: "fluffy tail" --\|$', steps[1])
    assert "conn 1: an eavesdropper learned the secret: it crossed in clear" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_flow_with_keylog_marks_what_it_opened(procs, tmp_path):
    port, cert = s_server(procs, tmp_path)
    keys = tmp_path / "keys.log"
    tap = Tap(procs, tmp_path, port, "--flow", "--keylog", keys, "--grep", "fluffy tail")
    assert curl(tap.port, cert, keys, "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256") == SECRET
    out = tap.wait_text("seen only after decryption")
    steps = ladder(out)
    for message in ("EncryptedExtensions", "Certificate (1 certificate)", "Finished",
                    "GET /secret.txt"):
        assert any(f"[decrypted] {message}" in step for step in steps), out
    assert any(re.match(r'\|<-+ \[decrypted\] 200 ok, 11 B: "fluffy tail" --\|$', step)
               for step in steps), out
    assert "[encrypted]" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("args, code, text", [
    (["--keylog", "/"], 26, "--keylog /: not a regular file (give the file a client writes "
                            "with SSLKEYLOGFILE)"),
    (["--keylog", ""], 2, "--keylog wants a file name"),
    (["--flow", "--summary"], 2, "--summary and --flow cannot be used together"),
    (["--flow", "--quiet"], 2, "--quiet and --flow cannot be used together"),
])
def test_bad_keylog_and_flow_options(args, code, text):
    r = run("squirrel-tap", "--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:2", *args)
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith("squirrel-tap: error: ") and text in r.stderr
    assert r.stderr.count("\n") == 1 and r.stdout == ""


def test_help_names_keylog_and_flow():
    r = subprocess.run(prog("squirrel-tap") + ["--help"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0 and "--keylog FILE" in r.stdout and "--flow" in r.stdout
