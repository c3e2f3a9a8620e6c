"""Shared fixtures for the end-to-end tests: our programs, free ports, and processes that are
always stopped. Run with /usr/bin/python3 -m pytest (Debian's pytest, requests, cryptography).

Environment (set by `make check-e2e`):
  SQUIRREL_BIN   folder holding squirrel-server, -client, -pki, -tap (default: <repo>/bin)
  SQUIRREL_WRAP  a command prefix for our programs, e.g. "valgrind --error-exitcode=99 ..."
"""
import os
import shlex
import shutil
import socket
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SQUIRREL_BIN") or os.path.join(REPO, "bin")
WRAP = shlex.split(os.environ.get("SQUIRREL_WRAP", ""))

# Trust settings leak in from the machine (CI images set them); each test sets what it needs.
for _var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_DIR",
             "SECRET_KEY", "SECRET_URL", "SECRET_MESSAGE"):
    os.environ.pop(_var, None)


# valgrind cannot run a confined program: the seccomp filter and the Landlock rules bind
# valgrind's own system calls and files as well as the program's. Under SQUIRREL_WRAP the
# programs that confine themselves run with --no-sandbox (test_sandbox.py is skipped).
SANDBOXED = ("squirrel-server", "squirrel-client", "squirrel-tap")


def prog(name):
    """argv prefix that runs one of our programs (wrapped under valgrind when asked)."""
    return WRAP + [os.path.join(BIN, name)] + (["--no-sandbox"] if WRAP and name in SANDBOXED else [])


def read_head(s):
    """Bytes from socket s up to the end of an answer's head (and whatever came with it), or
    up to the close."""
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    return data


def children(pid):
    """The pids of a process's children (a supervisor's workers)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def preload(tmp_path, name, source, **env):
    """Build a shim and return the environment that preloads it into our program."""
    need("cc")
    src, so = tmp_path / f"{name}.c", tmp_path / f"{name}.so"
    src.write_text(source)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src), "-ldl"], check=True,
                   timeout=60)
    # A sanitizer runtime wants to come first; the shims wrap a libc call or two.
    asan = os.environ.get("ASAN_OPTIONS", "")
    return dict(env, LD_PRELOAD=str(so),
                ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")


# Started by root, our programs become nobody once started, and confined they are not
# dumpable, so their /proc/PID/fd belongs to root. A test that looks at a running program
# from outside (/proc/PID/fd; prlimit, which another user's process allows only with
# CAP_SYS_RESOURCE, withheld in containers), or whose shim looks at the test's files from
# inside it (pytest's folders are private to their user), passes OBSERVE: as root, the program
# stays root (its other sandbox layers stay on); as any other user, --no-sandbox.
OBSERVE = ["--user", "root"] if os.geteuid() == 0 else ["--no-sandbox"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(tool):
    """Skip (never pass) a test whose real peer is missing, saying which."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not found")


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on {host}:{port} after {timeout}s")


# What AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer and valgrind print.
SANITIZER_SIGNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "definitely lost in", "Invalid read of", "Invalid write of",
                   "uninitialised value", "Conditional jump or move depends")


def assert_no_sanitizer_report(text, what):
    for sign in SANITIZER_SIGNS:
        if sign in text:
            raise AssertionError(f"{what}: sanitizer/valgrind report:\n{text[-4000:]}")


def run(name, *args, env=None, input=None, timeout=60, check=False):
    """Run one of our programs to completion; returns CompletedProcess with text output.
    A sanitizer or valgrind report fails the test, whatever the exit code."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    if WRAP:
        timeout *= 10
    r = subprocess.run(prog(name) + [str(a) for a in args], env=full_env, input=input,
                       capture_output=True, text=True, timeout=timeout, check=check)
    assert_no_sanitizer_report(r.stderr, f"{name} {' '.join(str(a) for a in args)}")
    if WRAP and r.returncode == 99:
        raise AssertionError(f"valgrind found errors in {name}:\n{r.stderr[-4000:]}")
    return r


class Procs:
    """Background processes started by a test; all are stopped at its end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, env=None, **kw):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(argv, env=full_env, stdout=kw.pop("stdout", subprocess.PIPE),
                             stderr=kw.pop("stderr", subprocess.PIPE), text=True, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.stop_all()


class Server:
    """A squirrel-server on a free loopback port; its log goes to a file (never a pipe that
    could fill and stall it)."""

    def __init__(self, proc, port, log, host="127.0.0.1"):
        self.proc, self.port, self.log, self.host = proc, port, log, host

    @property
    def url(self):
        return f"http://{self.host}:{self.port}/"

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, text, timeout=5.0):
        """The log is written once per loop iteration: wait until text shows up in it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log_text()
            if text in log:
                return log
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not in the server log:\n{self.log_text()}")

    def stop(self, sig=None):
        import signal as _signal
        if self.proc.poll() is None:
            self.proc.send_signal(sig or _signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def start_server(procs, tmp_path):
    """start_server(*args, env={}, host=...) -> Server, already listening. At the end of the
    test every server is stopped with SIGTERM and must exit 0 with a clean log: a graceful
    stop that crashes, leaks or trips a sanitizer fails the test that ran it."""
    count = [0]
    servers = []

    def start(*args, env=None, host="127.0.0.1", wait=True, stdin=None, preexec_fn=None):
        count[0] += 1
        port = free_port()
        log = tmp_path / f"server{count[0]}.log"
        argv = prog("squirrel-server") + ["--listen", f"{host}:{port}"] + [str(a) for a in args]
        f = open(log, "w")
        p = procs.start(argv, env=env, stdout=f, stderr=subprocess.STDOUT, stdin=stdin,
                        preexec_fn=preexec_fn)
        f.close()
        s = Server(p, port, log, host=host)
        servers.append(s)
        if wait:
            wait_port(port, host=host.strip("[]"), proc=p, timeout=60 if WRAP else 10)
        return s

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.proc.send_signal(15)
    for s in servers:
        try:
            code = s.proc.wait(timeout=60 if WRAP else 20)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            raise AssertionError(f"squirrel-server did not stop on SIGTERM:\n{s.log_text()[-2000:]}")
        assert_no_sanitizer_report(s.log_text(), "squirrel-server")
        assert code == 0, f"squirrel-server exited {code}:\n{s.log_text()[-3000:]}"


class Pki:
    """A certificate authority made with our own squirrel-pki, in a folder of the test's."""

    SUBJECT = ["--country", "US", "--state", "Maryland", "--locality", "Baltimore",
               "--org", "Secret Squirrels"]

    def __init__(self, folder, name="Squirrel Test CA"):
        self.dir = folder
        self.ca_key = os.path.join(folder, "ca-private-key.pem")
        self.ca_cert = os.path.join(folder, "ca-public-key.pem")
        self._pki("key", "--out", self.ca_key, "--type", "ec-p256", "--no-password")
        # Backdated, so tests can also issue certificates that have already expired.
        self._pki("ca", "--key", self.ca_key, "--out", self.ca_cert, "--cn", name, *self.SUBJECT,
                  "--not-before", "-10d", "--days", "60")

    def _pki(self, *args):
        r = run("squirrel-pki", *args)
        assert r.returncode == 0, f"squirrel-pki {args[0]} failed: {r.stderr}"
        return r

    def leaf(self, name, sans=("localhost", "127.0.0.1", "::1"), client=False, days=None,
             not_before=None, password=None, key_type="ec-p256"):
        """Key and certificate for name; returns (cert, key) paths."""
        key = os.path.join(self.dir, f"{name}-key.pem")
        csr = os.path.join(self.dir, f"{name}.csr")
        cert = os.path.join(self.dir, f"{name}.pem")
        if password is None:
            self._pki("key", "--out", key, "--type", key_type, "--no-password", "--force")
            pw = []
        else:
            pwfile = os.path.join(self.dir, f"{name}-password")
            with open(pwfile, "w") as f:
                f.write(password + "\n")
            self._pki("key", "--out", key, "--type", key_type, "--password-file", pwfile, "--force")
            pw = ["--password-file", pwfile]
        sans_args = [a for s in sans for a in ("--san", s)]
        self._pki("csr", "--key", key, "--out", csr, "--cn", name, *sans_args, *self.SUBJECT,
                  *pw, "--force")
        extra = (["--client"] if client else []) + (["--days", str(days)] if days is not None else []) \
            + (["--not-before", not_before] if not_before else [])
        self._pki("sign", "--csr", csr, "--ca-cert", self.ca_cert, "--ca-key", self.ca_key,
                  "--out", cert, "--force", *extra)
        return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    p = Pki(str(d))
    p.server_cert, p.server_key = p.leaf("localhost")
    return p
