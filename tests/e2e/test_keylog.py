"""Inside our own TLS: squirrel-client and squirrel-server write the session keys to
SSLKEYLOGFILE (or --keylog) in the NSS key log format, and every independent peer agrees with
them: openssl s_server, curl and Python write the same lines for the same connection, and
tshark decrypts a packet capture of a fetch with them.

TLS 1.3 keys need wolfSSL's secret callback, which only `make WOLFSSL=source` builds have;
under Debian's wolfSSL those tests are skipped with the reason, and the tests of what that
build says and does instead run."""
import os
import re
import socket
import ssl
import stat
import subprocess
import threading

import pytest

import test_capture
from conftest import BIN, free_port, need, requires, run, wait_port

SECRET = "fluffy tail"
LINE = re.compile(r"([A-Z0-9_]+) ([0-9a-f]{64}) ([0-9a-f]{64}|[0-9a-f]{96})")
TLS13_LABELS = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}
NO_TLS13 = ("Debian's wolfSSL 5.5.4 has no secret callback (HAVE_SECRET_CALLBACK), so TLS 1.3 "
            "keys cannot be exported: run these tests on a `make WOLFSSL=source` build")
CANNOT = ("this wolfSSL build cannot export TLS 1.3 secrets, so only TLS 1.2 connections are "
          "logged (make WOLFSSL=source builds one that can")

# The capture fixture of the capture tests: tcpdump on loopback, skipped where it cannot run.
capture = test_capture.capture


def keylines(path):
    """The lines of an NSS key log as (label, client random, secret); every line but a
    comment (Python starts its file with one) must be one."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if not line.startswith("#")]
    for line in lines:
        assert LINE.fullmatch(line), f"{path}: not a key log line: {line!r}"
    return [tuple(line.split(" ")) for line in lines]


def randoms(lines):
    return {r for _, r, _ in lines}


def flavour():
    """The wolfSSL the programs were linked with, as the Makefile recorded it (None: unknown)."""
    try:
        with open(os.path.join(BIN, ".flavor")) as f:
            return f.read().strip().split("-")[0]
    except OSError:
        return None


@pytest.fixture(scope="module")
def tls13_keys(tmp_path_factory):
    """Whether this build exports TLS 1.3 secrets, as the client says at start-up (it connects
    to a closed port after that); what it says must agree with the recorded flavour."""
    k = tmp_path_factory.mktemp("probe") / "k"
    r = run("squirrel-client", "--keylog", k, f"https://127.0.0.1:{free_port()}/")
    assert "writing TLS session keys to" in r.stderr, r.stderr
    cannot = CANNOT in r.stderr
    if flavour() is not None:
        assert cannot == (flavour() != "source"), (flavour(), r.stderr)
    return not cannot


@pytest.fixture
def tls_server(start_server, pki, tmp_path):
    """A TLS server writing its keys to tmp_path/server.keys."""
    def start(*args):
        s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key,
                         "--keylog", tmp_path / "server.keys", *args)
        s.keys = tmp_path / "server.keys"
        s.https = f"https://localhost:{s.port}/"
        return s
    return start


def fetch(url, pki, keys, *args):
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, *args, url,
            env={"SSLKEYLOGFILE": str(keys)})
    assert (r.returncode, r.stdout) == (0, SECRET), r.stderr
    return r


def openssl_server(procs, pki, tmp_path, *args):
    """openssl s_server serving secret.txt, writing its own key log; (URL, key log path)."""
    need("openssl")
    port = free_port()
    (tmp_path / "secret.txt").write_text(SECRET)
    keys = tmp_path / "s_server.keys"
    procs.start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", pki.server_cert,
                 "-key", pki.server_key, "-WWW", "-quiet", "-keylogfile", str(keys), *args],
                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return f"https://localhost:{port}/secret.txt", keys


# ---- squirrel-client against openssl s_server -----------------------------------------------

def test_client_tls13_keys_match_openssl(procs, pki, tmp_path, tls13_keys):
    if not tls13_keys:
        pytest.skip(NO_TLS13)
    url, theirs = openssl_server(procs, pki, tmp_path, "-tls1_3")
    ours = tmp_path / "client.keys"
    r = fetch(url, pki, ours, "-v")
    assert "* TLS TLSv1.3," in r.stderr
    lines = keylines(ours)
    assert {label for label, _, _ in lines} == TLS13_LABELS and len(lines) == 5, lines
    assert len(randoms(lines)) == 1
    assert set(lines) == set(keylines(theirs))


def test_client_tls12_keys_match_openssl(procs, pki, tmp_path):
    """A server that speaks TLS 1.2 only: one CLIENT_RANDOM line, in every build, equal to
    the one openssl writes for the same connection."""
    url, theirs = openssl_server(procs, pki, tmp_path, "-tls1_2")
    ours = tmp_path / "client.keys"
    fetch(url, pki, ours)
    lines = keylines(ours)
    assert [label for label, _, _ in lines] == ["CLIENT_RANDOM"]
    assert lines == keylines(theirs)


def test_client_without_tls13_keys_says_so_and_keeps_tls13(tls_server, pki, tmp_path,
                                                          tls13_keys):
    """Debian's build: one line says why TLS 1.3 is not logged and which build can; the fetch
    still speaks TLS 1.3 (no silent downgrade), and --tls-max 1.2 gets a connection whose keys
    are logged."""
    if tls13_keys:
        pytest.skip("this build exports TLS 1.3 keys (test_client_tls13_keys_match_openssl)")
    s = tls_server()
    keys = tmp_path / "client.keys"
    r = fetch(s.https, pki, keys, "-v")
    assert "* TLS TLSv1.3, cipher TLS_AES_128_GCM_SHA256" in r.stderr
    said = [line for line in r.stderr.splitlines() if "TLS 1.3" in line]
    assert said == [f"squirrel-client: warning: {CANNOT}; or fetch over TLS 1.2 with "
                    "--tls-max 1.2)"], r.stderr
    assert keylines(keys) == []
    r = fetch(s.https, pki, keys, "-v", "--tls-max", "1.2")
    assert "* TLS TLSv1.2, cipher TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" in r.stderr
    assert "TLS 1.3" not in r.stderr
    assert [label for label, _, _ in keylines(keys)] == ["CLIENT_RANDOM"]
    # Our server logged the same connection's key.
    assert keylines(keys) == keylines(s.keys)


def test_tls_max(tls_server, pki):
    s = tls_server()
    for bad, why in (("1.1", "speaks TLS 1.2 and 1.3 only"), ("2", "expected 1.2 or 1.3")):
        r = run("squirrel-client", "--tls-max", bad, s.https)
        assert r.returncode == 2 and why in r.stderr, r.stderr
    r = run("squirrel-client", "-v", "--tls-max", "1.3", "--cacert", pki.ca_cert, s.https)
    assert r.returncode == 0 and "* TLS TLSv1.3," in r.stderr


# ---- squirrel-server against curl and Python ---------------------------------------------------

@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_server_keys_match_curl(tls_server, pki, tmp_path, version, tls13_keys):
    need("curl")
    if version == "1.3" and not tls13_keys:
        pytest.skip(NO_TLS13)
    s = tls_server()
    theirs = tmp_path / "curl.keys"
    for _ in range(2):
        r = subprocess.run(["curl", "-sS", f"--tlsv{version}", "--tls-max", version, "--cacert",
                            pki.ca_cert, s.https], capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, SSLKEYLOGFILE=str(theirs)))
        assert r.stdout == SECRET, r.stderr
    ours = keylines(s.keys)
    assert len(randoms(ours)) == 2
    assert set(ours) == set(keylines(theirs))
    if version == "1.3":
        assert {label for label, _, _ in ours} == TLS13_LABELS and len(ours) == 10
    else:
        assert [label for label, _, _ in ours] == ["CLIENT_RANDOM"] * 2


def python_fetches(port, ca, keys, version, n=2):
    """n fetches with Python's ssl, each resuming the session of the one before."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.keylog_filename = str(keys)
    session, reused = None, []
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                assert data.endswith(SECRET.encode()), data
                reused.append(s.session_reused)
                session = s.session
    return reused


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["1.2", "1.3"])
def test_server_keys_match_python_across_resumption(tls_server, pki, tmp_path, version,
                                                    tls13_keys):
    """A resumed session is logged too: TLS 1.2 resumed from a ticket keeps its master secret
    where the session object has none (docs/wolfssl-notes.md)."""
    if version == ssl.TLSVersion.TLSv1_3 and not tls13_keys:
        pytest.skip(NO_TLS13)
    s = tls_server()
    theirs = tmp_path / "python.keys"
    assert python_fetches(s.port, pki.ca_cert, theirs, version) == [False, True]
    ours = keylines(s.keys)
    assert len(randoms(ours)) == 2
    # Python (OpenSSL) also logs TLS 1.3's early secrets when it offers a ticket.
    assert set(ours) <= set(keylines(theirs))
    assert {(label, r) for label, r, _ in keylines(theirs) if not label.startswith("EARLY")} \
        == {(label, r) for label, r, _ in ours}
    # A resumed TLS 1.2 session exchanges no key: no group.
    log = s.wait_log(" resumed")
    assert ("TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 - resumed\n"
            if version == ssl.TLSVersion.TLSv1_2
            else "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519 resumed\n") in log, log


def test_server_without_tls13_keys_says_so(tls_server, pki, tmp_path, tls13_keys):
    if tls13_keys:
        pytest.skip("this build exports TLS 1.3 keys (test_server_keys_match_curl)")
    s = tls_server()
    log = s.wait_log("serving the secret")
    assert f"squirrel-server: warning: {CANNOT})\n" in log
    fetch(s.https, pki, tmp_path / "client.keys")
    s.wait_log('"GET /" 200')
    assert keylines(s.keys) == []


# ---- the independent proof: tshark decrypts a capture --------------------------------------------

def test_tshark_decrypts_the_capture_with_the_key_log(tls_server, pki, tmp_path, capture,
                                                      tls13_keys):
    requires("tshark")
    start, stop = capture
    s = tls_server()
    p, pcap = start(s.port)
    keys = tmp_path / "client.keys"
    # Debian's build can log TLS 1.2 only: ask for it, as its warning says.
    r = fetch(s.https, pki, keys, "-v", *([] if tls13_keys else ["--tls-max", "1.2"]))
    stop(p)
    assert f"* TLS TLSv1.{'3' if tls13_keys else '2'}," in r.stderr

    def bodies(*opts):
        t = subprocess.run(["tshark", "-r", str(pcap), "-d", f"tcp.port=={s.port},tls", *opts,
                            "-Y", "http", "-T", "fields", "-e", "http.file_data"],
                           capture_output=True, text=True, timeout=60)
        assert t.returncode == 0, t.stderr
        return t.stdout

    assert SECRET in bodies("-o", f"tls.keylog_file:{keys}")
    assert SECRET in bodies("-o", f"tls.keylog_file:{s.keys}")
    assert SECRET not in bodies()


# ---- the file: its mode, appending, links, one warning, and no secret anywhere else ------------

def test_new_file_is_0600_whatever_the_umask(tls_server, pki, tmp_path):
    s = tls_server()
    keys = tmp_path / "new.keys"
    old = os.umask(0)
    try:
        r = fetch(s.https, pki, keys, "--tls-max", "1.2")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(s.keys).st_mode) == 0o600
    assert r.stderr.count("writing TLS session keys to") == 1
    assert (f"squirrel-client: warning: writing TLS session keys to {keys} (SSLKEYLOGFILE): "
            "whoever can read it can decrypt these connections\n") in r.stderr


def test_existing_file_is_appended_and_keeps_its_mode(tls_server, pki, tmp_path):
    s = tls_server()
    keys = tmp_path / "shared.keys"
    keys.write_text("# keys from before\n")
    os.chmod(keys, 0o644)
    r = fetch(s.https, pki, keys, "--tls-max", "1.2")
    assert f"{keys} is readable by others (mode 0644): chmod 600 {keys}" in r.stderr
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o644
    fetch(s.https, pki, keys, "--tls-max", "1.2")
    text = keys.read_text()
    assert text.startswith("# keys from before\nCLIENT_RANDOM ")
    assert text.count("CLIENT_RANDOM ") == 2


def test_links_and_bad_paths(tls_server, pki, tmp_path):
    s = tls_server()
    target = tmp_path / "target"
    target.write_text("")
    link = tmp_path / "link"
    link.symlink_to(target)
    r = run("squirrel-client", "--keylog", link, "--cacert", pki.ca_cert, s.https)
    assert r.returncode == 23
    assert r.stderr == (f"squirrel-client: error: --keylog {link}: cannot open: it is a symbolic "
                        "link (key logs are not written through links: give the file itself)\n")
    # The environment may be meant for other programs: a warning, and the fetch goes on.
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, s.https,
            env={"SSLKEYLOGFILE": str(tmp_path / "no" / "such" / "dir")})
    assert (r.returncode, r.stdout) == (0, SECRET)
    assert "SSLKEYLOGFILE=" in r.stderr and "No such file or directory; no session keys" in r.stderr
    assert target.read_text() == ""
    # --keylog wins over SSLKEYLOGFILE.
    chosen, ignored = tmp_path / "chosen", tmp_path / "ignored"
    r = run("squirrel-client", "--keylog", chosen, "--tls-max", "1.2", "--cacert", pki.ca_cert,
            s.https, env={"SSLKEYLOGFILE": str(ignored)})
    assert r.returncode == 0 and len(keylines(chosen)) == 1 and not ignored.exists()
    # The server: a file it cannot open is its own exit code; --keylog needs TLS.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, why in ((tmp_path, "Is a directory"), (fifo, "it is not a regular file")):
        r = run("squirrel-server", "--mode", "tls", "--cert", pki.server_cert, "--key",
                pki.server_key, "--keylog", path, "--listen", f"127.0.0.1:{free_port()}",
                timeout=10)
        assert r.returncode == 7 and f"--keylog {path}: cannot open: {why}\n" in r.stderr
    r = run("squirrel-server", "--keylog", tmp_path / "k")
    assert r.returncode == 2 and "--keylog need --mode tls" in r.stderr, r.stderr


def test_no_secret_in_the_server_log(tls_server, pki, tmp_path, tls13_keys):
    """The key log is the only place secrets go: not one of them, in any case or split, is in
    the server's log, while the log does name each connection's exchange."""
    need("curl")
    s = tls_server()
    for max_version in ("1.2", "1.3"):
        subprocess.run(["curl", "-sS", "--tls-max", max_version, "--cacert", pki.ca_cert,
                        s.https], capture_output=True, timeout=20, check=True)
    python_fetches(s.port, pki.ca_cert, tmp_path / "python.keys", ssl.TLSVersion.TLSv1_2)
    log = s.wait_log(" resumed").lower()
    lines = keylines(s.keys)
    assert len(lines) == (3 + 5 if tls13_keys else 3)
    for _, _, secret in lines:
        assert secret not in log and secret[:16] not in log and secret[-16:] not in log


def test_workers_share_the_file_whole_lines(tls_server, pki, tmp_path):
    """Two workers append to one file: every line whole, one per connection."""
    s = tls_server("--workers", "2")
    n, errors = 40, []

    def one():
        try:
            python_fetches(s.port, pki.ca_cert, tmp_path / "python.keys",
                           ssl.TLSVersion.TLSv1_2, n=1)
        except Exception as e:  # reported below, with the rest
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    s.wait_log('"GET /" 200')
    lines = keylines(s.keys)
    assert len(lines) == n and len(randoms(lines)) == n
    assert set(lines) == set(keylines(tmp_path / "python.keys"))
