"""What a reader of docs/tutorial.md meets at the programs' edges: how they stop, what they say
when a step was skipped or mistyped, and the hints they print. Each case is one the tutorial
walked into (issue 18)."""
import os
import signal
import time

import pytest

from conftest import BIN, WRAP, free_port, prog, wait_port
from ptyterm import Term

TIMEOUT = 600 if WRAP else 20
needs_pty = pytest.mark.requires("pseudo-terminal")


@needs_pty
@pytest.mark.parametrize("argv", [
    ["squirrel-server"],
    ["squirrel-server", "--workers", "2"],
    ["squirrel-tap", "--upstream", "127.0.0.1:9"],
], ids=["server", "server --workers 2", "tap"])
def test_ctrl_c_stops_with_a_word(argv, tmp_path):
    """Ctrl-C in the program's terminal: a line saying it stopped, on a line of its own after
    the terminal's '^C', and exit 0 (a graceful stop)."""
    port = free_port()
    t = Term(prog(argv[0]) + argv[1:] + ["--listen", f"127.0.0.1:{port}"], cwd=str(tmp_path))
    try:
        wait_port(port, timeout=TIMEOUT)
        t.wait_quiet()
        at = len(t.text())
        t.send(b"\x03")
        status = t.wait(TIMEOUT)
        t.expect(f"\r\n{argv[0]}: stopped (Ctrl-C)\r\n".encode(), at)
        assert t.text(at) == f"^C\r\n{argv[0]}: stopped (Ctrl-C)\r\n".encode()
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, hex(status)
    finally:
        t.close()


def test_sigterm_stops_with_a_word(procs):
    port = free_port()
    p = procs.start(prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}"])
    wait_port(port, proc=p, timeout=TIMEOUT)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 0
    assert err.endswith("squirrel-server: stopped (SIGTERM)\n"), err


def test_a_refused_certificate_is_logged_in_words_for_every_client(start_server, pki, tmp_path):
    """curl, Python and openssl (OpenSSL clients) refuse our CA in TLS 1.3 with an alert sent in
    clear, which wolfSSL reports as 'parse error on header'; squirrel-client's alert is
    encrypted. The operator reads the same line for each."""
    import socket
    import ssl
    import subprocess
    from conftest import need, run
    need("curl")
    need("openssl")
    srv = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    url = f"https://localhost:{srv.port}/"
    env = dict(os.environ, SSL_CERT_FILE="/etc/ssl/certs/ca-certificates.crt")
    clients = {
        "curl": lambda: subprocess.run(["curl", "-s", url], env=env, timeout=30),
        "curl --tls-max 1.2": lambda: subprocess.run(["curl", "-s", "--tls-max", "1.2", url],
                                                     env=env, timeout=30),
        "openssl s_client": lambda: subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}", "-servername",
             "localhost", "-verify_return_error"], stdin=subprocess.DEVNULL,
            capture_output=True, timeout=30),
        "python ssl": lambda: python_connect(srv.port),
        "squirrel-client": lambda: run("squirrel-client", url, env={"SSL_CERT_FILE": ""}),
    }

    def python_connect(port):
        ctx = ssl.create_default_context()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with pytest.raises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(s, server_hostname="localhost")

    for name, connect in clients.items():
        before = srv.log_text().count("tls handshake failed")
        connect()
        deadline = time.monotonic() + 5
        while (log := srv.log_text()).count("tls handshake failed") == before:
            assert time.monotonic() < deadline, f"{name}: nothing logged:\n{log}"
            time.sleep(0.02)
        last = [l for l in log.splitlines() if "tls handshake failed" in l][-1]
        assert last.endswith("tls handshake failed: the peer sent a fatal alert: unknown_ca"), \
            f"{name}: {last}"


def test_a_connection_that_says_nothing_is_not_a_failure(start_server, pki):
    """A port probe, a health check or a browser's unused preconnection opens a connection
    and closes it without a byte: nothing failed, so nothing is logged. A client that stops
    in the middle of its ClientHello did fail, and the log says how in words."""
    import socket
    srv = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    socket.create_connection(("127.0.0.1", srv.port)).close()
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(b"\x16\x03\x01")
    deadline = time.monotonic() + TIMEOUT
    while "tls handshake failed" not in (log := srv.log_text()):
        assert time.monotonic() < deadline, f"nothing logged:\n{log}"
        time.sleep(0.02)
    failures = [l for l in log.splitlines() if "tls handshake failed" in l]
    assert len(failures) == 1, log
    assert failures[0].endswith("tls handshake failed: connection closed by peer"), log


def test_secret_key_left_set_meets_a_plain_answer(start_server):
    """Stage 2's export is still set in stage 4: the client refuses plain text (a downgrade),
    says what came back and what to do."""
    from conftest import run
    srv = start_server()
    key = run("squirrel-pki", "fernet-key").stdout.strip()
    r = run("squirrel-client", srv.url, env={"SECRET_KEY": key})
    assert r.returncode == 100 and r.stdout == ""
    assert r.stderr == (
        "squirrel-client: error: invalid token: SECRET_KEY is set, but the server answered in "
        "plain text (\"fluffy tail\"), not with a Fernet token; if it is meant to (plain or https "
        "mode), run: unset SECRET_KEY\n")


def test_a_token_without_a_key_is_named(start_server):
    from conftest import run
    key = run("squirrel-pki", "fernet-key").stdout.strip()
    srv = start_server("--mode", "fernet", env={"SECRET_KEY": key})
    r = run("squirrel-client", srv.url)
    assert r.returncode == 0 and r.stdout.startswith("The secret message is: gAAAAA")
    assert r.stderr.startswith("squirrel-client: note: that is a Fernet token, made 20"), r.stderr
    assert r.stderr.endswith(" UTC, not the message: to open it, export SECRET_KEY with the "
                             "server's key\n"), r.stderr
    # A scripted fetch (--raw) gets the token alone.
    r = run("squirrel-client", "--raw", srv.url)
    assert r.returncode == 0 and r.stderr == ""


def test_plain_http_to_the_tls_port_says_it_once(start_server, pki):
    from conftest import run
    srv = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    r = run("squirrel-client", f"http://127.0.0.1:{srv.port}/")
    assert r.returncode == 22
    assert r.stderr == ("squirrel-client: error: the server answered 400 Bad Request: the plain "
                        "HTTP request was sent to HTTPS port; use https://\n")


def test_a_scheme_without_its_colon():
    from conftest import run
    r = run("squirrel-client", env={"SECRET_URL": "http//127.0.0.1:5683"})
    assert r.returncode == 3
    assert r.stderr == ("squirrel-client: error: http//127.0.0.1:5683: malformed URL: it looks "
                        "like a mistyped scheme; did you mean http://127.0.0.1:5683?\n")


def start_hint(procs, folder, cert, key, listen="127.0.0.1"):
    """Start a TLS server in folder; return (its two start-up lines, port)."""
    port = free_port()
    p = procs.start(prog("squirrel-server") + ["--mode", "tls", "--cert", cert, "--key", key,
                                               "--listen", f"{listen}:{port}"], cwd=str(folder))
    lines = [p.stderr.readline(), p.stderr.readline()]
    wait_port(port, proc=p, timeout=TIMEOUT)
    return lines, port


def follow(line, folder):
    """Run the second terminal's command exactly as the server printed it."""
    import subprocess
    cmd = line.split("in a second terminal: ", 1)[1]
    env = dict(os.environ, PATH=os.path.abspath(BIN) + ":" + os.environ["PATH"])
    return subprocess.run(["bash", "-c", cmd], cwd=str(folder), env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def test_the_start_hint_works_as_printed(procs, pki):
    """The tutorial's layout: the CA's certificate beside the server's."""
    cert, key = pki.leaf("hinted")
    lines, port = start_hint(procs, pki.dir, os.path.basename(cert), os.path.basename(key))
    assert lines[0] == (f"squirrel-server: serving the secret over HTTPS on https://localhost:"
                        f"{port}/ with hinted.pem\n")
    assert lines[1] == (f"squirrel-server: in a second terminal: SECRET_URL=https://localhost:"
                        f"{port} squirrel-client --cacert ca-public-key.pem\n")
    r = follow(lines[1], pki.dir)
    assert (r.returncode, r.stdout) == (0, "The secret message is: fluffy tail\n"), r.stderr


def test_the_start_hint_takes_a_name_the_certificate_has(procs, pki):
    cert, key = pki.leaf("by-address", sans=("127.0.0.1",))
    lines, port = start_hint(procs, pki.dir, cert, key)
    assert f"SECRET_URL=https://127.0.0.1:{port} squirrel-client --cacert " \
           f"{pki.ca_cert}\n" in lines[1]
    r = follow(lines[1], pki.dir)
    assert r.returncode == 0, r.stderr


def test_no_command_for_a_certificate_that_names_elsewhere(procs, pki):
    cert, key = pki.leaf("my-site.com", sans=("my-site.com",))
    lines, port = start_hint(procs, pki.dir, cert, key)
    assert "in a second terminal" not in "".join(lines)
    assert lines[1] == (f"squirrel-server: note: {cert} names DNS:my-site.com, and none of them "
                        f"leads to this server: clients will refuse it unless they reach it by "
                        f"one of those names (squirrel-pki csr --san localhost --san 127.0.0.1 "
                        f"makes a certificate for this machine)\n")


def test_an_unknown_ca_is_named_not_guessed(procs, pki, tmp_path):
    import shutil
    cert, key = pki.leaf("elsewhere")
    for f in (cert, key):
        shutil.copy(f, tmp_path)
    lines, port = start_hint(procs, tmp_path, "elsewhere.pem", "elsewhere-key.pem")
    assert lines[1] == (f"squirrel-server: in a second terminal: SECRET_URL=https://localhost:"
                        f"{port} squirrel-client --cacert CA-FILE (CA-FILE: the certificate of "
                        f"Squirrel Test CA, which signed elsewhere.pem)\n")
    r = follow(lines[1].replace("CA-FILE (", f"{pki.ca_cert} #"), tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("first,second", [(2, 2), (1, 2), (2, 1), (3, 3)],
                         ids=["workers 2 then 2", "1 then 2", "2 then 1", "3 then 3"])
def test_a_second_server_on_a_served_port_exits_3(procs, first, second):
    """SO_REUSEPORT lets two --workers servers of one user bind the same port, and the kernel
    then splits the clients between them: the second must refuse to start instead."""
    import subprocess
    import requests
    port = free_port()
    key = subprocess.run(prog("squirrel-pki") + ["fernet-key"], capture_output=True, text=True,
                         check=True).stdout.strip()
    a = procs.start(prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}",
                                               "--workers", str(first)])
    wait_port(port, proc=a, timeout=TIMEOUT)
    b = procs.start(prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}", "--mode",
                                               "fernet", "--workers", str(second)],
                    env={"SECRET_KEY": key})
    _, err = b.communicate(timeout=TIMEOUT)
    assert b.returncode == 3, err
    assert err.endswith(f"squirrel-server: error: cannot listen on 127.0.0.1:{port}: address "
                        f"already in use (is another program listening there? pick another "
                        f"port with --listen)\n"), err
    for _ in range(20):  # every client still gets the first server's plain answer
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=TIMEOUT).text == "fluffy tail"


def test_two_servers_started_at_once_one_wins(procs):
    port = free_port()
    argv = prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}", "--workers", "2"]
    for _ in range(5):
        a, b = procs.start(argv), procs.start(argv)
        wait_port(port, timeout=TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while a.poll() is None and b.poll() is None:  # one must give up, however slow
            assert time.monotonic() < deadline, "both servers run on one port"
            time.sleep(0.02)
        time.sleep(0.2)  # and the other must not follow it
        codes = [a.poll(), b.poll()]
        assert codes.count(3) == 1 and codes.count(None) == 1, codes
        running = a if a.poll() is None else b
        running.send_signal(signal.SIGTERM)
        running.wait(timeout=TIMEOUT)


def test_a_restart_right_after_serving_is_no_clash(procs):
    """Connections the last run served are in TIME_WAIT on the port: no reason to refuse."""
    import requests
    port = free_port()
    argv = prog("squirrel-server") + ["--listen", f"127.0.0.1:{port}", "--workers", "2"]
    for _ in range(2):
        p = procs.start(argv)
        wait_port(port, proc=p, timeout=TIMEOUT)
        for _ in range(10):
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=TIMEOUT).text == "fluffy tail"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=TIMEOUT) == 0


def test_one_plain_fetch_through_the_tap_fits_a_screen(start_server, procs, tmp_path):
    """The tutorial's stage 1 with the tap's default options: at most 15 lines, from its start
    to its stop, and the secret among them. The bytes are one option away (--hex)."""
    import subprocess
    from conftest import run
    srv = start_server()
    port = free_port()
    out = tmp_path / "tap.out"
    with open(out, "w") as f:
        tap = procs.start(prog("squirrel-tap") + ["--listen", f"127.0.0.1:{port}", "--upstream",
                                                  f"127.0.0.1:{srv.port}", "--grep",
                                                  "fluffy tail"],
                          stdout=f, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + TIMEOUT
    while "relaying" not in out.read_text():
        assert time.monotonic() < deadline and tap.poll() is None, out.read_text()
        time.sleep(0.02)
    r = run("squirrel-client", env={"SECRET_URL": f"http://127.0.0.1:{port}"})
    assert r.stdout == "The secret message is: fluffy tail\n"
    deadline = time.monotonic() + TIMEOUT
    while "seen in clear" not in out.read_text():
        assert time.monotonic() < deadline, out.read_text()
        time.sleep(0.02)
    tap.send_signal(signal.SIGINT)
    assert tap.wait(timeout=TIMEOUT) == 0
    lines = out.read_text().splitlines()
    assert len(lines) <= 15, "\n".join(lines)
    assert '  HTTP body text: "fluffy tail"' in lines
    assert "conn 1: 'fluffy tail' seen in clear (server -> client)" in lines
    assert lines[-1] == "squirrel-tap: stopped (Ctrl-C)"
