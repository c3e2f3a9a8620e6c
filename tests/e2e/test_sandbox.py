"""The sandbox (common/sandbox.c; docs/security.md, "Confinement"), proven by attempt: a
running server, a client in the middle of a slow fetch and a tap are made to try what an
exploit would (tests/e2e/sandbox_probe.c, preloaded, acting on SIGUSR2), and each attempt must
fail or end the process, while the same attempt succeeds with --no-sandbox. Tests that need
Landlock or seccomp first ask the kernel, and are skipped with the reason where it refuses."""
import ctypes
import errno
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import WRAP, Pki, free_port, need, preload, prog, read_head, requires, run

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "fluffy tail"
ROOT = os.geteuid() == 0
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nfluffy tail"


# ---- what the kernel offers ------------------------------------------------------------

def landlock_abi():
    """Landlock's ABI version, or a negative errno (landlock_create_ruleset is 444 on every
    architecture)."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return abi if abi >= 0 else -ctypes.get_errno()


def need_sandbox():
    """Skip unless the programs run confined here; returns the Landlock ABI."""
    if WRAP:
        pytest.skip("under valgrind the programs run with --no-sandbox (tests/e2e/conftest.py)")
    requires("landlock", "seccomp")
    return landlock_abi()


def status(pid):
    """/proc/PID/status as a dict."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


# ---- the places an exploit would go ----------------------------------------------------

@pytest.fixture
def world():
    """A folder every user may use (pytest's own are private to the test's user, and the
    programs drop to nobody when started by root): so a refusal below is the sandbox's, not
    the file permissions'."""
    d = tempfile.mkdtemp(prefix="squirrel-sandbox-")
    os.chmod(d, 0o777)
    with open(os.path.join(d, "other.txt"), "w") as f:
        f.write("not given to the program\n")
    os.chmod(os.path.join(d, "other.txt"), 0o666)
    yield d
    shutil.rmtree(d)


@pytest.fixture
def tls_files(world):
    """A CA, and a server certificate and key in the world folder (the key mode 0600)."""
    p = Pki(world)
    return p.leaf("localhost")


def attempts(world, listener_port, program):
    """The attempts, as PROBE values, with what sandbox_probe says for each."""
    target = "/etc/passwd" if ROOT else os.path.join(world, "other.txt")
    cases = {
        "write": f"write {target}",
        "read": f"read {os.path.join(world, 'other.txt')}",
        "exec": f"exec {os.path.join(world, 'pwned')}",
        "connect": f"connect {listener_port}",
    }
    if program == "server":
        cases["create"] = f"create {os.path.join(world, 'new-in-the-cert-folder')}"
    return cases


class Probe:
    """One program with sandbox_probe loaded; attempt() sends SIGUSR2 and reports."""

    def __init__(self, tmp_path, probe):
        self.out = tmp_path / "probe.out"
        with open(os.path.join(HERE, "sandbox_probe.c")) as f:
            self.env = preload(tmp_path, "sandbox_probe", f.read(), PROBE=probe,
                               PROBE_OUT=str(self.out))
        self.proc = None

    def attempt(self, timeout=10):
        """(result line or None, returncode or None): None and the code when it ended."""
        self.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.out.read_text() if self.out.exists() else ""
            done = [ln for ln in text.splitlines() if ": " in ln]
            if done:
                return done[0], None
            if self.proc.poll() is not None:
                return None, self.proc.returncode
            time.sleep(0.02)
        raise AssertionError(f"no result in {timeout} s: {self.out.read_text()!r}")


def start_probed_server(probe, tls_files, *extra):
    cert, key = tls_files
    port = free_port()
    log = open(probe.out.with_suffix(".log"), "w+")
    probe.proc = subprocess.Popen(prog("squirrel-server") + [
        "--mode", "tls", "--cert", cert, "--key", key, "--listen", f"127.0.0.1:{port}",
        *extra], env=dict(os.environ, **probe.env), stdout=log, stderr=subprocess.STDOUT,
        text=True)
    wait_for_text(log, "sandbox:", probe.proc)
    return log


def sandbox_line(text):
    """The start-up line that says how the program is confined (it follows the banner)."""
    return next(line for line in text.splitlines() if " sandbox: " in line)


def wait_for_text(f, text, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f.seek(0)
        content = f.read()
        if text in content:
            return content
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    f.seek(0)
    raise AssertionError(f"{text!r} never came; the program said:\n{f.read()}")


class SlowServer:
    """Accepts one connection, reads its request, and answers only when release() is called:
    the client is then waiting for the server's first byte, confined."""

    def __init__(self):
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.srv.settimeout(30)
        self.port = self.srv.getsockname()[1]
        self.asked, self.go = threading.Event(), threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        with self.srv:
            c, _ = self.srv.accept()
            with c:
                read_head(c)
                self.asked.set()
                self.go.wait(30)
                try:
                    c.sendall(RESPONSE)
                except OSError:
                    pass

    def release(self):
        self.go.set()


def start_probed_client(probe, *extra):
    slow = SlowServer()
    err = open(probe.out.with_suffix(".err"), "w+")
    probe.proc = subprocess.Popen(prog("squirrel-client") + [
        "--timeout", "30", *extra, f"http://127.0.0.1:{slow.port}/"],
        env=dict(os.environ, **probe.env), stdout=subprocess.PIPE, stderr=err, text=True)
    assert slow.asked.wait(10), "the client never sent its request"
    return err, slow


def start_probed_tap(probe, upstream_port, *extra):
    err = open(probe.out.with_suffix(".err"), "w+")
    probe.proc = subprocess.Popen(prog("squirrel-tap") + [
        "--listen", f"127.0.0.1:{free_port()}", "--upstream", f"127.0.0.1:{upstream_port}",
        "--quiet", *extra], env=dict(os.environ, **probe.env), stdout=subprocess.DEVNULL,
        stderr=err, text=True)
    wait_for_text(err, "relaying", probe.proc)
    return err


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


# ---- proof by attempt ----------------------------------------------------------------------

# What stops each attempt in the sandbox: the system call seccomp refuses (the process ends),
# or the errno Landlock returns. openat for writing and socket() are not on the allow-lists.
KILLED_BY = {"write": "openat", "create": "openat", "exec": "execve", "connect": "socket"}


# Only the server has a certificate folder to create a file in.
PROGRAM_ACTIONS = [(p, a) for p in ("server", "client", "tap")
                   for a in ("write", "create", "read", "exec", "connect")
                   if a != "create" or p == "server"]


@pytest.mark.parametrize("program,action", PROGRAM_ACTIONS,
                         ids=[f"{a}-{p}" for p, a in PROGRAM_ACTIONS])
@pytest.mark.parametrize("sandbox", ["on", "off"])
def test_attempt(program, action, sandbox, tmp_path, world, tls_files):
    abi = need_sandbox()
    listener = socket.create_server(("127.0.0.1", 0))
    upstream = socket.create_server(("127.0.0.1", 0))
    cases = attempts(world, listener.getsockname()[1], program)
    if program == "tap" and action == "connect" and sandbox == "on" and abi < 4:
        pytest.skip(f"Landlock ABI {abi} cannot restrict TCP connect (ABI 4 can)")
    probe = Probe(tmp_path, cases[action])
    extra = ["--no-sandbox"] if sandbox == "off" else []
    slow = None
    with listener, upstream:
        if program == "server":
            out = start_probed_server(probe, tls_files, *extra)
        elif program == "client":
            out, slow = start_probed_client(probe, *extra)
        else:
            out = start_probed_tap(probe, upstream.getsockname()[1], *extra)
        line, code = probe.attempt()
        if slow is not None:
            slow.release()  # the client reads its answer and ends by itself
            code = probe.proc.wait(timeout=30)
        elif code is None:
            code = stop(probe.proc)
    out.seek(0)
    said = out.read()
    out.close()
    marker = os.path.join(world, "pwned")
    if sandbox == "off":
        if action == "exec":
            # The program became sh, which wrote the marker and ended.
            assert open(marker).read() == "pwned\n", said
        else:
            assert line == f"{action}: ok", (line, code, said)
        return
    assert not os.path.exists(marker)
    assert not os.path.exists(os.path.join(world, "new-in-the-cert-folder"))
    if program == "tap" and action == "connect":
        # The tap may open sockets (to its upstream); Landlock refuses any other port.
        assert line == f"connect: errno {errno.EACCES}", (line, said)
    elif action == "read":
        assert line == f"read: errno {errno.EACCES}", (line, said)
    else:
        call = KILLED_BY[action]
        assert line is None and code == -signal.SIGSYS, (line, code, said)
        assert f"error: sandbox: system call {call} (" in said, said
        assert said.count("is not allowed") == 1, said
    if line is not None:
        assert code == 0, said  # refused, and the program carried on and stopped cleanly


# ---- what /proc shows, and the start-up line ---------------------------------------------

def test_proc_status_of_each_running_program(tmp_path, world, tls_files):
    """NoNewPrivs: 1 and Seccomp: 2 (filter mode) for a running server (and its workers), a
    client during a slow fetch and a tap; 0 and 0 with --no-sandbox."""
    abi = need_sandbox()
    with socket.create_server(("127.0.0.1", 0)) as upstream:
        for extra, want in (([], ("1", "2")), (["--no-sandbox"], ("0", "0"))):
            probe = Probe(tmp_path, "read /nonexistent")
            log = start_probed_server(probe, tls_files, "--workers", "2", *extra)
            # A worker shows in /proc before its fork() has returned in it, that is, before
            # it has added its own filter: wait for the filter, or the deadline.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                pids = [probe.proc.pid] + children(probe.proc.pid)
                seen = {pid: status(pid) for pid in pids}
                if len(pids) == 3 and (extra or all(st["Seccomp_filters"] == "2"
                                                    for st in list(seen.values())[1:])):
                    break
                time.sleep(0.05)
            assert stop(probe.proc) == 0
            for pid, st in seen.items():
                assert (st["NoNewPrivs"], st["Seccomp"]) == want, (pid, st)
            if not extra:
                # Each worker adds its own, narrower filter to the supervisor's.
                assert [st["Seccomp_filters"] for st in seen.values()] == ["1", "2", "2"]
                log.seek(0)
                line = sandbox_line(log.read())
                assert line.startswith("squirrel-server: sandbox: no new privileges, no core dumps, ")
                assert f"Landlock ABI {abi} (no writes, no exec, no reads but its 2 files and " \
                    "/dev/urandom;" in line
                assert "seccomp (" in line
                if ROOT:
                    assert "runs as nobody" in line
                    assert all(st["Uid"].split()[0] == str(pwd.getpwnam("nobody").pw_uid)
                               for st in seen.values())
            probe = Probe(tmp_path, "read /nonexistent")
            err, slow = start_probed_client(probe, "-v", *extra)
            st = status(probe.proc.pid)
            slow.release()
            assert probe.proc.wait(timeout=30) == 0
            assert (st["NoNewPrivs"], st["Seccomp"]) == want, st
            err.seek(0)
            assert ("squirrel-client: sandbox: no new privileges" in err.read()) == (not extra)
            probe = Probe(tmp_path, "read /nonexistent")
            err = start_probed_tap(probe, upstream.getsockname()[1], *extra)
            st = status(probe.proc.pid)
            assert stop(probe.proc) == 0
            assert (st["NoNewPrivs"], st["Seccomp"]) == want, st
            err.seek(0)
            said = err.read()
            if not extra and abi >= 4:
                assert f"TCP connect to port {upstream.getsockname()[1]} only" in said


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def test_client_says_nothing_of_its_sandbox_without_v(world):
    """A fetch prints the secret; its confinement is for -v."""
    need_sandbox()
    slow = SlowServer()
    slow.release()
    r = run("squirrel-client", f"http://127.0.0.1:{slow.port}/")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"The secret message is: {SECRET}\n", "")


# ---- where a layer is missing ------------------------------------------------------------

@pytest.fixture(scope="module")
def without(tmp_path_factory):
    need("cc")
    out = str(tmp_path_factory.mktemp("without") / "sandbox_without")
    subprocess.run(["cc", "-o", out, os.path.join(HERE, "sandbox_without.c"), "-lseccomp"],
                   check=True, timeout=60)
    return out


@pytest.mark.parametrize("layer", ["landlock", "seccomp"])
def test_a_missing_layer_is_named_and_the_others_stay(layer, without, tmp_path, world, tls_files):
    """On a kernel without Landlock (or without seccomp) the program says which, in its
    start-up line, and confines itself with the rest: without seccomp, Landlock alone still
    refuses execve (EACCES instead of the end of the process)."""
    need_sandbox()
    probe = Probe(tmp_path, f"exec {os.path.join(world, 'pwned')}")
    cert, key = tls_files
    port = free_port()
    log = open(tmp_path / "server.log", "w+")
    probe.proc = subprocess.Popen([without, layer] + prog("squirrel-server") + [
        "--mode", "tls", "--cert", cert, "--key", key, "--listen", f"127.0.0.1:{port}"],
        env=dict(os.environ, **probe.env), stdout=log, stderr=subprocess.STDOUT, text=True)
    said = wait_for_text(log, "sandbox:", probe.proc)
    st = status(probe.proc.pid)
    line, code = probe.attempt()
    if code is None:
        code = stop(probe.proc)
    first = sandbox_line(said)
    assert first.startswith("squirrel-server: warning: sandbox: no new privileges, "), first
    if layer == "landlock":
        assert first.endswith("not available here, so left out: Landlock (Function not "
                              "implemented)"), first
        assert "seccomp (" in first and "Landlock ABI" not in first
        assert (line, code) == (None, -signal.SIGSYS)
    else:
        assert first.endswith("not available here, so left out: seccomp (Invalid argument)"), first
        assert "Landlock ABI" in first and "seccomp (" not in first.split("; not available")[0]
        assert st["Seccomp_filters"] == "1"  # sandbox_without's own, nothing of ours
        assert (line, code) == (f"exec: errno {errno.EACCES}", 0)
    assert not os.path.exists(os.path.join(world, "pwned"))


# ---- SIGHUP under the sandbox ------------------------------------------------------------

def https_subject(port, ca):
    r = run("squirrel-client", "-v", "--cacert", ca, f"https://localhost:{port}/")
    assert r.returncode == 0, r.stderr
    return r.stderr


def test_reload_reads_the_same_files_and_refuses_others(tmp_path, start_server):
    """Landlock lets the server read again exactly the files it started with, as files: new
    contents written into them reload; a file renamed over one is another file, refused with
    a line that says what to do, and the old certificate stays. When started by root, with
    the files readable by root only, the reload works as nobody (CAP_DAC_READ_SEARCH, which
    Landlock bounds to those files)."""
    need_sandbox()
    d = tmp_path / "tls"
    d.mkdir(mode=0o700)
    p = Pki(str(d))
    a_cert, a_key = p.leaf("localhost-a", sans=("localhost",))
    b_cert, b_key = p.leaf("localhost-b", sans=("localhost",))
    cert, key = str(d / "live.pem"), str(d / "live-key.pem")
    shutil.copy(a_cert, cert)
    shutil.copy(a_key, key)
    os.chmod(key, 0o600)
    s = start_server("--mode", "tls", "--cert", cert, "--key", key)
    assert "I am localhost-a according to" in https_subject(s.port, p.ca_cert)
    with open(cert, "wb") as f:
        f.write(open(b_cert, "rb").read())
    with open(key, "wb") as f:
        f.write(open(b_key, "rb").read())
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("reloaded")
    assert "I am localhost-b according to" in https_subject(s.port, p.ca_cert)
    if ROOT:
        assert status(s.proc.pid)["Uid"].split()[0] == str(pwd.getpwnam("nobody").pw_uid)
    # A new file under the old name (mv, as certbot re-points its links): refused.
    shutil.copy(a_cert, cert + ".new")
    os.replace(cert + ".new", cert)
    s.proc.send_signal(signal.SIGHUP)
    log = s.wait_log("reload failed")
    assert (f"squirrel-server: error: reload failed, keeping the old certificate: {cert}: now "
            "another file than at start-up (replaced by a rename, or a link pointed "
            "elsewhere), and the sandbox lets the server read only the files it started "
            "with; write new contents into the same file (cp, not mv), or restart\n") in log
    assert "I am localhost-b according to" in https_subject(s.port, p.ca_cert)


def test_reload_of_a_renamed_file_works_without_the_sandbox(tmp_path, start_server, pki):
    """The refusal above is the sandbox's: with --no-sandbox the same rename reloads."""
    need_sandbox()
    cert, key = str(tmp_path / "live.pem"), str(tmp_path / "live-key.pem")
    b_cert, b_key = pki.leaf("localhost-b", sans=("localhost",))
    shutil.copy(pki.server_cert, cert)
    shutil.copy(pki.server_key, key)
    s = start_server("--no-sandbox", "--mode", "tls", "--cert", cert, "--key", key)
    shutil.copy(b_cert, cert + ".new")
    os.replace(cert + ".new", cert)
    shutil.copy(b_key, key + ".new")
    os.replace(key + ".new", key)
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("reloaded")
    assert "I am localhost-b according to" in https_subject(s.port, pki.ca_cert)


# ---- --user ------------------------------------------------------------------------------

def test_root_of_a_user_namespace_goes_on_without_the_switch(tmp_path):
    """Root of a user namespace (unshare -r) holds no privilege outside it, and cannot become
    nobody there (setgroups is denied, nobody is not mapped): the switch is named as left
    out, and the other layers are in place."""
    need_sandbox()
    requires("user-namespace")
    port = free_port()
    log = open(tmp_path / "server.log", "w+")
    p = subprocess.Popen(["unshare", "--user", "--map-root-user"] + prog("squirrel-server") +
                         ["--listen", f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    said = wait_for_text(log, "sandbox:", p)
    st = status(p.pid)
    assert stop(p) == 0
    first = sandbox_line(said)
    assert first.startswith("squirrel-server: warning: sandbox: no new privileges, "), first
    assert "; not available here, so left out: the switch to nobody (" in first, first
    assert "Landlock ABI" in first and "seccomp (" in first
    assert (st["NoNewPrivs"], st["Seccomp"]) == ("1", "2")


def test_user_option(tmp_path):
    need_sandbox()
    port = free_port()
    r = run("squirrel-server", "--listen", f"127.0.0.1:{port}", "--user", "no-such-user-here")
    if ROOT:
        assert r.returncode == 1
        assert r.stderr.endswith("squirrel-server: error: --user no-such-user-here: no such "
                                 "user (name an existing unprivileged user)\n"), r.stderr
    else:
        assert r.returncode == 1
        assert "only a program started as root can switch users" in r.stderr, r.stderr


# ---- what a refused call leaves behind -----------------------------------------------------

def test_a_confined_client_names_a_close_during_the_handshake(start_server, pki):
    """A TLS 1.2 server sends its first flight, with the certificate the client checks against
    the clock, then closes before its Finished. Inside wolfSSL's call a confined process may
    fail a call harmlessly (glibc opening /etc/localtime), and errno keeps that: the client must
    still say that the server closed the connection, not name a file it was refused."""
    need_sandbox()
    srv = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]

    def middle():
        c, _ = lsock.accept()
        with c, socket.create_connection(("127.0.0.1", srv.port)) as u:
            u.sendall(c.recv(65536))  # ClientHello
            u.settimeout(0.5)
            try:
                while True:  # ServerHello .. ServerHelloDone, however it is cut
                    chunk = u.recv(65536)
                    if not chunk:
                        break
                    c.sendall(chunk)
            except socket.timeout:
                pass
            c.recv(65536)  # ClientKeyExchange .. Finished: dropped, and both closed

    t = threading.Thread(target=middle, daemon=True)
    t.start()
    r = run("squirrel-client", "--cacert", pki.ca_cert, "--tls-max", "1.2",
            f"https://localhost:{port}/")
    t.join(10)
    lsock.close()
    assert r.returncode == 35, r.stderr
    assert "closed the connection during the TLS handshake" in r.stderr, r.stderr
