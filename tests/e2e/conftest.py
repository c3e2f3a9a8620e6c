"""Shared fixtures for the end-to-end tests: our programs, free ports, processes that are
always stopped, and what this machine can do (requires()). Run with /usr/bin/python3 -m pytest
(Debian's pytest, requests, cryptography).

Environment (set by `make check-e2e`):
  SQUIRREL_BIN         folder holding squirrel-server, -client, -pki, -tap (default: <repo>/bin)
  SQUIRREL_WRAP        a command prefix for our programs, e.g. "valgrind --error-exitcode=99 ..."
  SQUIRREL_UNIT_SKIPS  a file of the unit tests' skips ("binary: test: reason" lines), listed
                       with this run's own at its end (make test sets it)
"""
import collections
import functools
import os
import select
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
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


# ---- what this machine can do ----------------------------------------------------------------
#
# A test that needs more than an ordinary process (a namespace, packet capture, a browser,
# Landlock or seccomp, a terminal, a privileged port, another user) calls requires("name", ...)
# first, or is marked @pytest.mark.requires("name", ...). Each capability's probe does the real
# thing once per session, and where the machine refuses it the test is skipped with the probe's
# own words: chroots, containers, non-root users and older kernels each refuse different
# things. A probe only decides whether a test runs; a test that runs proves everything itself,
# and fails if the program is wrong. docs/testing.md lists the capabilities and their tests.

def _probe_run(argv, want=None, timeout=60):
    """None if argv exits 0 (having printed want, if given), else why not, in its own words."""
    if shutil.which(argv[0]) is None:
        return f"{argv[0]} not found"
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"{os.path.basename(argv[0])} did not finish in {timeout} s"
    if r.returncode == 0 and (want is None or want in r.stdout):
        return None
    said = (r.stderr.strip() or r.stdout.strip()).splitlines()
    if argv[0] == sys.executable:  # a probe in Python says why in its exit message
        return said[-1] if said else f"the probe exited {r.returncode}"
    return f"{os.path.basename(argv[0])} exited {r.returncode}" + (f": {said[-1][:200]}" if said
                                                                     else "")


def _probe_mount_namespace():
    """A bind mount in a private mount namespace of its own (refused in a chroot, whose root
    is no mount point, and in containers under the default seccomp profile)."""
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        with open(a, "w") as f:
            f.write("bound\n")
        open(b, "w").close()
        return _probe_run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                           'mount --bind "$0" "$1" && cat "$1"', a, b], want="bound")


def _probe_user_namespace():
    """A user namespace of its own, whose root is this user (refused in a chroot, and where
    unprivileged user namespaces are turned off)."""
    return _probe_run(["unshare", "--user", "--map-root-user", "id", "-u"], want="0")


def _probe_network_namespace():
    """A network namespace of its own, which holds only a loopback device."""
    return _probe_run(["unshare", "--net", "cat", "/proc/net/dev"], want="lo:")


def _probe_packet_capture():
    """tcpdump on the loopback device catches one datagram sent there."""
    if shutil.which("tcpdump") is None:
        return "tcpdump not found (apt-get install tcpdump)"
    with tempfile.TemporaryDirectory() as d, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        pcap = os.path.join(d, "probe.pcap")
        p = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-c", "1", "-w", pcap,
                              f"udp port {port}"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while p.poll() is None and time.monotonic() < deadline:
            u.sendto(b"probe", ("127.0.0.1", port))
            time.sleep(0.1)
        if p.poll() is None:
            p.kill()
        said = p.communicate()[1].strip().splitlines()
        if p.returncode != 0:
            return f"tcpdump exited {p.returncode}" + (f": {said[-1][:200]}" if said else "")
        return None if os.path.getsize(pcap) > 24 else "tcpdump caught nothing on lo"


def _probe_tshark():
    """tshark reads a capture of one UDP datagram and names its destination port."""
    udp = struct.pack(">HHHH", 40000, 5683, 13, 0) + b"probe"
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
    if shutil.which("tshark") is None:
        return "tshark not found (apt-get install tshark)"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "probe.pcap")
        with open(path, "wb") as f:  # classic pcap, link type 101: raw IP
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
            f.write(struct.pack("<IIII", 0, 0, len(ip), len(ip)) + ip)
        return _probe_run(["tshark", "-r", path, "-T", "fields", "-e", "udp.dstport"],
                          want="5683")


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser():
    """The path of a headless-capable browser (Chromium, under any of its names), or None."""
    return next(filter(None, map(shutil.which, BROWSERS)), None)


def _probe_browser():
    """Headless Chromium loads a page and prints its DOM."""
    exe = browser()
    if exe is None:
        return "no browser found (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as d:
        return _probe_run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                           f"--user-data-dir={d}", "--dump-dom", "data:text/html,<p>squirrel</p>"],
                          want="<p>squirrel</p>", timeout=120)


# Run in a child, so the probing process stays unconfined. The system call numbers are the
# same on every Linux architecture (444 landlock_create_ruleset, 446 landlock_restrict_self).
_LANDLOCK_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def refused(call):
    sys.exit(f"{call}: {os.strerror(ctypes.get_errno())}")
class Attr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]
attr = Attr(1 << 2)  # LANDLOCK_ACCESS_FS_READ_FILE, and no rule allowing it anywhere
fd = libc.syscall(444, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0)
if fd < 0:
    refused("landlock_create_ruleset")
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    refused("prctl(PR_SET_NO_NEW_PRIVS)")
if libc.syscall(446, fd, 0) != 0:
    refused("landlock_restrict_self")
try:
    open(sys.executable, "rb").close()
except PermissionError:
    sys.exit(0)
sys.exit("Landlock is on, but a file outside its rules could still be read")
"""

# A one-instruction filter (BPF_RET | BPF_K, SECCOMP_RET_ALLOW) installed with PR_SET_SECCOMP,
# then seen by the kernel in /proc/self/status.
_SECCOMP_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]
prog = Prog(1, (Insn * 1)(Insn(0x06, 0, 0, 0x7fff0000)))
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    sys.exit("prctl(PR_SET_NO_NEW_PRIVS): " + os.strerror(ctypes.get_errno()))
if libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
    sys.exit("prctl(PR_SET_SECCOMP): " + os.strerror(ctypes.get_errno()))
with open("/proc/self/status") as f:
    on = any(line.split() == ["Seccomp:", "2"] for line in f)
sys.exit(0 if on else "a seccomp filter was accepted but is not in force")
"""

# What a program started as root does to become someone else: nobody (65534).
_ROOT_PROBE = """
import os, sys
try:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
except OSError as e:
    sys.exit(f"cannot become another user (setgid/setuid 65534): {e.strerror}")
"""


def _probe_pseudo_terminal():
    """A pseudo-terminal carries a line from its slave side to its master side."""
    try:
        master, slave = os.openpty()
    except OSError as e:
        return f"openpty: {e.strerror}"
    try:
        os.write(slave, b"probe\n")
        got = os.read(master, 64) if select.select([master], [], [], 5)[0] else b""
    finally:
        os.close(master)
        os.close(slave)
    return None if b"probe" in got else "a line written to a pseudo-terminal did not come out"


def _probe_privileged_port():
    """A socket binds a loopback port below 1024 (root, CAP_NET_BIND_SERVICE, or a lowered
    net.ipv4.ip_unprivileged_port_start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for port in range(1023, 511, -1):
            try:
                s.bind(("127.0.0.1", port))
                return None
            except PermissionError as e:
                return f"binding 127.0.0.1:{port}: {e.strerror}"
            except OSError:
                continue
    return "every loopback port from 512 to 1023 is taken"


def _probe_ipv6_loopback():
    """A connection to a listener on ::1."""
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6) as srv, \
                socket.create_connection(("::1", srv.getsockname()[1]), timeout=5):
            return None
    except OSError as e:
        return f"::1: {e.strerror or e}"


def _probe_dev_full():
    """/dev/full refuses a write with ENOSPC, the failing output tests point programs at."""
    try:
        with open("/dev/full", "wb", buffering=0) as f:
            f.write(b"x")
    except OSError as e:
        return None if e.errno == 28 else f"/dev/full: {e.strerror}"  # 28: ENOSPC
    return "/dev/full took a write"


CAPABILITIES = {
    "mount-namespace": _probe_mount_namespace,
    "network-namespace": _probe_network_namespace,
    "user-namespace": _probe_user_namespace,
    "packet-capture": _probe_packet_capture,
    "tshark": _probe_tshark,
    "browser": _probe_browser,
    "landlock": lambda: _probe_run([sys.executable, "-c", _LANDLOCK_PROBE]),
    "seccomp": lambda: _probe_run([sys.executable, "-c", _SECCOMP_PROBE]),
    "root": lambda: _probe_run([sys.executable, "-c", _ROOT_PROBE]),
    "pseudo-terminal": _probe_pseudo_terminal,
    "privileged-port": _probe_privileged_port,
    "ipv6-loopback": _probe_ipv6_loopback,
    "dev-full": _probe_dev_full,
}


@functools.lru_cache(maxsize=None)
def refusal(capability):
    """None if this machine can do capability (a key of CAPABILITIES), else the reason it
    cannot. Each probe runs once per session, when a test first asks."""
    return CAPABILITIES[capability]()


def requires(*capabilities):
    """Skip the calling test unless this machine can do each capability, naming the first
    it refuses and why."""
    for cap in capabilities:
        why = refusal(cap)
        if why is not None:
            pytest.skip(f"needs {cap}: {why}")


def pytest_configure(config):
    config.addinivalue_line("markers", "requires(*capabilities): run only where this machine "
                            "can do each (conftest.CAPABILITIES); skipped with the reason otherwise")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("requires"):
        requires(*mark.args)


def skipped_lines(terminalreporter):
    """(reason, test) for every test this run skipped, the unit tests' included when make
    test names their file in SQUIRREL_UNIT_SKIPS."""
    out = []
    unit = os.environ.get("SQUIRREL_UNIT_SKIPS")
    if unit and os.path.exists(unit):
        with open(unit) as f:
            for line in f:
                test, _, why = line.rstrip("\n").partition("\t")
                out.append((why, test))
    for rep in terminalreporter.stats.get("skipped", []):
        why = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        out.append((why.removeprefix("Skipped: "), rep.nodeid))
    return out


def pytest_terminal_summary(terminalreporter):
    """The run's last words: what it skipped and why, grouped by reason, or that it skipped
    nothing, so a reader knows what it did not cover. (Nothing after --collect-only.)"""
    stats = terminalreporter.stats
    if not any(stats.get(k) for k in ("passed", "failed", "skipped", "error")):
        return
    by_reason = collections.defaultdict(list)
    for why, test in skipped_lines(terminalreporter):
        by_reason[why].append(test)
    count = sum(map(len, by_reason.values()))
    terminalreporter.section(f"skipped: {count}, what this run did not cover" if count
                             else "skipped: none")
    for why, tests in by_reason.items():
        terminalreporter.write_line(why)
        for test in tests:
            terminalreporter.write_line(f"    {test}")


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
