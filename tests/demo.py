#!/usr/bin/python3
"""make demo: the tutorial's four stages in one run, with our programs alone.

Every command is printed as you would type it in one of the two terminals (the programs are
put first on PATH), then run exactly as printed. squirrel-tap sits between client and server
as the eavesdropper, so each stage also shows what crossed the wire. Everything happens in a
temporary folder on free loopback ports, and every process started here is stopped.
Exits non-zero if a stage does not behave as the tutorial says.
"""
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SQUIRREL_BIN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin")
SECRET = "fluffy tail"
TTY = sys.stdout.isatty()
procs = []
failures = []


def bold(s):
    return f"\033[1m{s}\033[0m" if TTY else s


def heading(title, why):
    print()
    print(bold(f"== {title}"))
    print(f"   {why}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"demo: a background command exited early:\n{proc.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"demo: nothing listens on port {port}")


def sh(cmd, where="terminal 2", expect=0, show=True):
    """Run cmd as printed; show what it printed; check its exit status."""
    print(f"  [{where}] $ {cmd}")
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
    out = (r.stdout + r.stderr).rstrip("\n")
    if show and out:
        for line in out.splitlines():
            print(f"      {line}")
    if expect is not None and r.returncode != expect:
        failures.append(f"{cmd!r} exited {r.returncode}, expected {expect}")
        print(f"      (exit status {r.returncode}; expected {expect})")
    elif r.returncode != 0:
        print(f"      (exit status {r.returncode}, as expected)")
    return r


def background(cmd, where):
    print(f"  [{where}] $ {cmd}")
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    return out


def wire(tap):
    """What the eavesdropper saw: the tap's --flow ladder of each connection, as it drew it."""
    out = stop(tap)
    print("  what squirrel-tap saw on the wire (--flow: client left, server right):")
    for line in out.splitlines():
        if not line.startswith("squirrel-tap: note:"):
            print(f"  {line}")  # two columns: an 80-column terminal shows the ladder whole
    return out


def stage(mode_args, client_env, url_scheme, title, why, extra=None, tap_args="", client_args="",
          after=None):
    port, tport = free_port(), free_port()
    server = background(f"squirrel-server --listen 127.0.0.1:{port} {mode_args}", "terminal 1")
    wait_port(port, server)
    tap = background(f"squirrel-tap --listen 127.0.0.1:{tport} --upstream 127.0.0.1:{port} "
                     f"--grep {shlex.quote(SECRET)} --flow{tap_args}", "eavesdropper")
    # Not a probe connection (the tap would show it): its start-up line says it listens.
    while "relaying" not in (tap.stdout.readline() or "relaying"):
        pass
    host = "localhost" if url_scheme == "https" else "127.0.0.1"
    url = f"{url_scheme}://{host}:{tport}"
    if extra:
        extra(url)
    r = sh(f"{client_env}SECRET_URL={url} squirrel-client" + (" --cacert ca-public-key.pem" if url_scheme == "https" else "")
           + client_args)
    if f"The secret message is: {SECRET}" not in r.stdout:
        failures.append(f"{title}: the client did not print the secret")
    seen = wire(tap)
    if after:
        after(port)
    stop(server)
    return seen


def capture_token(port):
    """A member fetches again past the eavesdropper's tap, whose default output shows the whole
    token (--flow cuts it to fit a line)."""
    tport = free_port()
    tap = background(f"squirrel-tap --listen 127.0.0.1:{tport} --upstream 127.0.0.1:{port}", "eavesdropper")
    while "relaying" not in (tap.stdout.readline() or "relaying"):
        pass
    sh(f"SECRET_URL=http://127.0.0.1:{tport} squirrel-client")
    seen = stop(tap)
    token = next((l.split('"')[1] for l in seen.splitlines() if "HTTP body text: \"gAAAA" in l), None)
    print(f"  the tap saw the token: {token}")
    return token


def replay(port):
    """The eavesdropper serves the token it captured, without the key; --ttl bounds it."""
    token = capture_token(port)
    if token is None:
        failures.append("stage 2: the tap showed no token to replay")
        return
    print("  The eavesdropper replays the captured token from a server of its own, without the key:")
    port = free_port()
    impostor = background(f"squirrel-server --listen 127.0.0.1:{port} --message {token}", "eavesdropper")
    wait_port(port, impostor)
    r = sh(f"SECRET_URL=http://127.0.0.1:{port} squirrel-client")
    if f"The secret message is: {SECRET}" not in r.stdout:
        failures.append("stage 2: the replayed token was not accepted")
    print("  Tokens carry the time they were made: --ttl refuses old ones (two seconds later):")
    time.sleep(2)
    sh(f"SECRET_URL=http://127.0.0.1:{port} squirrel-client --ttl 1", expect=100)
    stop(impostor)


def main():
    os.environ["PATH"] = os.path.abspath(BIN) + os.pathsep + os.environ["PATH"]
    for var in ("SECRET_URL", "SECRET_KEY", "SECRET_MESSAGE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    work = tempfile.mkdtemp(prefix="squirrel-demo-")
    os.chdir(work)
    started = time.monotonic()
    print(bold("Secret Squirrels: the tutorial \"Exploring HTTPS with Python\", with squirrel"))
    print(f"   working in {work}; programs from {os.path.abspath(BIN)}")
    print("   Terminal 1 runs the server, terminal 2 the client; squirrel-tap relays between them")
    print("   and shows what anyone on the path would see.")
    try:
        heading("Stage 1: plain HTTP", "The secret travels in clear: anyone on the path can read it.")
        seen = stage("", "", "http", "stage 1", "")
        if f"'{SECRET}' seen in clear" not in seen:
            failures.append("stage 1: the secret was not seen on the wire")

        heading("Stage 2: Fernet", "Server and members share SECRET_KEY; the wire carries only a token.")
        sh("squirrel-pki fernet-key > secret.key", "terminal 1")
        key = open("secret.key").read().strip()
        os.environ["SECRET_KEY"] = key
        print("  [both terminals] $ export SECRET_KEY=$(cat secret.key)")

        def wrong_key(url):
            print("  A member with the wrong key learns nothing:")
            sh(f"SECRET_KEY=$(squirrel-pki fernet-key) SECRET_URL={url} squirrel-client", expect=100)
            print("  With the right key:")

        seen = stage("--mode fernet", "", "http", "stage 2", "", extra=wrong_key, after=replay)
        if f"'{SECRET}' not seen" not in seen or "a Fernet token" not in seen:
            failures.append("stage 2: expected a token and no secret on the wire")
        del os.environ["SECRET_KEY"]

        heading("Stage 3: become a certificate authority",
                "Keys are password-encrypted PEM; the CA signs the server's CSR.")
        sh("echo 'secret_password' > ca-password && echo 'server_password' > server-password", "terminal 1")
        sh("squirrel-pki key --out ca-private-key.pem --password-file ca-password", "terminal 1")
        sh("squirrel-pki ca --key ca-private-key.pem --password-file ca-password --out ca-public-key.pem "
           "--country US --state Maryland --locality Baltimore --org 'My CA Company' --cn my-ca.com",
           "terminal 1")
        sh("squirrel-pki key --out server-private-key.pem --password-file server-password", "terminal 1")
        sh("squirrel-pki csr --key server-private-key.pem --password-file server-password "
           "--out server-csr.pem --country US --state Maryland --locality Baltimore --org 'My Company' "
           "--cn my-site.com --san localhost --san 127.0.0.1 --san ::1 --san my-site.com", "terminal 1")
        sh("squirrel-pki sign --csr server-csr.pem --ca-cert ca-public-key.pem --ca-key ca-private-key.pem "
           "--ca-password-file ca-password --out server-public-key.pem", "terminal 1")
        sh("squirrel-pki verify --ca ca-public-key.pem server-public-key.pem --host localhost --strict",
           "terminal 1")
        print("  Running a step again never overwrites a key:")
        sh("squirrel-pki key --out ca-private-key.pem --password-file ca-password", "terminal 1", expect=3)

        heading("Stage 4: HTTPS", "The server proves who it is with the certificate; the wire carries "
                "only TLS records.")

        def no_ca(url):
            print("  Without the CA file the client refuses the server:")
            sh(f"SECRET_URL={url} squirrel-client", expect=60)
            print("  Given the CA file, as requests' verify= does:")

        seen = stage("--mode tls --cert server-public-key.pem --key server-private-key.pem "
                     "--key-password-file server-password", "", "https", "stage 4", "", extra=no_ca)
        if f"'{SECRET}' not seen" not in seen or "names and sizes only" not in seen:
            failures.append("stage 4: expected TLS records and no secret on the wire")

        heading("Stage 4b: look inside your own TLS",
                "The client writes its session keys to a key log; whoever holds them reads the records.")
        print("  (Debian's wolfSSL can log TLS 1.2's keys only: the client is asked for TLS 1.2)")
        seen = stage("--mode tls --cert server-public-key.pem --key server-private-key.pem "
                     "--key-password-file server-password", "SSLKEYLOGFILE=keys.log ", "https",
                     "stage 4b", "", tap_args=" --keylog keys.log", client_args=" --tls-max 1.2")
        if f"'{SECRET}' seen only after decryption" not in seen or "[encrypted]" in seen:
            failures.append("stage 4b: expected every record opened with the key log")

        heading("Between the stages: the tutorial's two ideas, runnable",
                "A substitution cipher anyone can break, and a key exchange a spy cannot.")
        sh("squirrel-pki caesar encrypt 'fluffy tail'", "terminal 1")
        r = sh("squirrel-pki caesar crack --top 1 'ekteex szhk'", "terminal 1")
        if "fluffy tail" not in r.stdout:
            failures.append("caesar crack: 'fluffy tail' is not the first guess")
        sh("squirrel-pki caesar crack --top 1 'Ekteex szhk ktmfr sgd nkc nzj sqdd zmc gzc z ehmd cqdzl'",
           "terminal 1")
        r = sh("squirrel-pki dh-demo | grep -E 'secrets equal|opened with'", "terminal 1")
        if "yes" not in r.stdout.lower() and SECRET not in r.stdout:
            failures.append("dh-demo: the two sides did not agree")
    finally:
        for p in procs:
            stop(p)
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    print()
    print(bold("== What the eavesdropper saw"))
    print("   stage 1 plain: the secret in clear | stage 2 fernet: a token | stage 4 tls: TLS records only")
    print("   stage 4b: the same records, opened with the client's key log")
    print(f"   finished in {elapsed:.1f} s; every process stopped, {work} removed")
    if failures:
        print(bold("demo: FAILED"))
        for f in failures:
            print(f"   - {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
