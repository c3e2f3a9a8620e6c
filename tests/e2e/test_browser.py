"""A real browser as a client: the tutorial sends its reader to one three times. Headless
Chromium (Debian's chromium), driven over the DevTools protocol on a pipe, against
squirrel-server:

  stage 1   http:// shows the secret
  stage 2   http:// shows a Fernet token (that Python's cryptography opens with the key)
  stage 4   https:// is refused with ERR_CERT_AUTHORITY_INVALID while the CA is unknown, and
            served once the CA is in the browser's NSS database (certutil, as the tutorial
            shows), by name (localhost) and by address (127.0.0.1)

Each browser gets a new empty profile and a HOME of its own, whose ~/.pki/nssdb is the CA
store Chromium reads on Linux.
"""
import fcntl
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import WRAP, browser, run

SECRET = "fluffy tail"
TIMEOUT = 60 if WRAP else 20
CHROMIUM = browser()

pytestmark = pytest.mark.requires("browser")


class Browser:
    """Headless Chromium with DevTools on fds 3 (its input) and 4 (its output): messages are
    JSON, each ended by a NUL byte (--remote-debugging-pipe)."""

    def __init__(self, home, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Above 3 and 4, so that moving them there in the child cannot clobber one another.
        hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
        hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        argv = [CHROMIUM, "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-pipe",
                "about:blank"]
        if os.geteuid() == 0:
            argv.insert(2, "--no-sandbox")  # Chromium refuses to run as root with it
        env = {"HOME": str(home), "PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(argv, env=env, preexec_fn=fds, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(hi_r)
        os.close(hi_w)
        self.next_id, self.buf, self.events = 0, b"", []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"],
                                 flatten=True)["sessionId"]
        self.call("Page.enable", session=self.session)

    def message(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("chromium did not answer over DevTools")
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise AssertionError("chromium closed its DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self.message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def visit(self, url):
        """Load url; return (net error or None, the page's text)."""
        self.events.clear()
        r = self.call("Page.navigate", session=self.session, url=url)
        if r.get("errorText"):
            return r["errorText"], None
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self.message(deadline))
        text = self.call("Runtime.evaluate", session=self.session,
                         expression="document.body.innerText", returnByValue=True)
        return None, text["result"].get("value")

    def close(self):
        """Stop it and every process it started (renderers, zygotes: one session)."""
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for fd in (self.to_chrome, self.from_chrome):
            os.close(fd)


def launch(folder, trusting=None):
    """A browser whose HOME is in folder and whose NSS store trusts the CA file trusting."""
    nssdb = folder / "home" / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    if trusting is not None:
        if shutil.which("certutil") is None:
            pytest.skip("certutil not found (libnss3-tools)")
        # The tutorial's command, into this HOME.
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n",
                        "squirrel-test-ca", "-i", str(trusting)], check=True, timeout=30)
    return Browser(folder / "home", folder / "profile")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One browser for the module's pages (a start costs seconds): it trusts no CA of ours."""
    b = launch(tmp_path_factory.mktemp("browser"))
    yield b
    b.close()


def test_stage1_the_page_is_the_secret(start_server, browser):
    srv = start_server()
    error, text = browser.visit(f"http://127.0.0.1:{srv.port}/")
    assert error is None and text == SECRET
    srv.wait_log('"GET /" 200 11')


def test_stage2_the_page_is_a_token(start_server, browser):
    from cryptography.fernet import Fernet
    key = run("squirrel-pki", "fernet-key").stdout.strip()
    srv = start_server("--mode", "fernet", env={"SECRET_KEY": key})
    error, text = browser.visit(f"http://localhost:{srv.port}/")
    assert error is None and text.startswith("gAAAAA")
    assert Fernet(key.encode()).decrypt(text.encode()).decode() == SECRET


def test_stage4_refused_without_the_ca_then_served_with_it(start_server, browser, pki,
                                                           tmp_path):
    srv = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    for host in ("localhost", "127.0.0.1"):
        error, _ = browser.visit(f"https://{host}:{srv.port}/")
        assert error == "net::ERR_CERT_AUTHORITY_INVALID", (host, error)
    # The operator reads why in the server's log, as for curl and Python (BoringSSL's word).
    srv.wait_log("tls handshake failed: the peer sent a fatal alert: certificate_unknown")
    b = launch(tmp_path, trusting=pki.ca_cert)
    try:
        for host in ("localhost", "127.0.0.1"):
            error, text = b.visit(f"https://{host}:{srv.port}/")
            assert (error, text) == (None, SECRET), host
    finally:
        b.close()
