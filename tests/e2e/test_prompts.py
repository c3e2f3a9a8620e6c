"""Ctrl-C at every password prompt of every program ends it as Ctrl-C ends a program: at once,
by SIGINT (the shell shows $? = 130), with the terminal's echo back on and the cursor on a new
line. Typed through a real pseudo-terminal's line discipline, as a reader's Ctrl-C is."""
import os
import signal

import pytest

from conftest import WRAP, free_port, prog, run
from ptyterm import Term

TIMEOUT = 600 if WRAP else 20

pytestmark = pytest.mark.requires("pseudo-terminal")


def prompts(pki, tmp_path):
    """(name, argv, prompt shown before the Ctrl-C, answers typed before it)."""
    cert, key = pki.leaf("prompted", password="hazelnut")
    pw = tmp_path / "ca.pw"
    pw.write_text("acorn\n")
    ca_key, ca_cert, csr = tmp_path / "ca-key.pem", tmp_path / "ca.pem", tmp_path / "x.csr"
    for args in (["key", "--out", ca_key, "--type", "ec-p256", "--password-file", pw],
                 ["ca", "--key", ca_key, "--password-file", pw, "--out", ca_cert, "--cn", "ca"],
                 ["csr", "--key", key, "--password-file", os.path.join(pki.dir, "prompted-password"),
                  "--out", csr, "--cn", "x"]):
        r = run("squirrel-pki", *args)
        assert r.returncode == 0, r.stderr
    out = str(tmp_path / "out.pem")
    return [
        ("server", prog("squirrel-server") + ["--mode", "tls", "--cert", cert, "--key", key,
                                              "--listen", f"127.0.0.1:{free_port()}"],
         f"Enter PEM pass phrase for {key}: ", []),
        ("client", prog("squirrel-client") + ["--cert", cert, "--key", key,
                                              "https://127.0.0.1:1/"],
         f"Enter PEM pass phrase for {key}: ", []),
        ("pki key", prog("squirrel-pki") + ["key", "--out", out, "--type", "ec-p256"],
         "Password for the new key: ", []),
        ("pki key, again", prog("squirrel-pki") + ["key", "--out", out, "--type", "ec-p256"],
         "The same password again: ", [("Password for the new key: ", "hazelnut")]),
        ("pki ca", prog("squirrel-pki") + ["ca", "--key", key, "--out", out, "--cn", "x"],
         f"Password for {key}: ", []),
        ("pki csr", prog("squirrel-pki") + ["csr", "--key", key, "--out", out, "--cn", "x"],
         f"Password for {key}: ", []),
        ("pki sign", prog("squirrel-pki") + ["sign", "--csr", str(csr), "--ca-cert", str(ca_cert),
                                             "--ca-key", str(ca_key), "--out", out],
         f"Password for {ca_key}: ", []),
    ]


@pytest.fixture(scope="module")
def cases(pki, tmp_path_factory):
    return prompts(pki, tmp_path_factory.mktemp("prompts"))


@pytest.mark.parametrize("which", range(7), ids=["server", "client", "pki key", "pki key again",
                                                  "pki ca", "pki csr", "pki sign"])
def test_ctrl_c_at_the_prompt(cases, which, tmp_path):
    name, argv, prompt, answers = cases[which]
    t = Term(argv, cwd=str(tmp_path))
    try:
        at = 0
        for shown, typed in answers:
            at = t.expect(shown.encode(), at, timeout=TIMEOUT)
            t.wait_echo(False)
            t.send(typed.encode() + b"\n")
        at = t.expect(prompt.encode(), at, timeout=TIMEOUT)
        t.wait_echo(False)  # asking, with echo off
        t.send(b"\x03")     # Ctrl-C, through the line discipline: SIGINT to the program
        status = t.wait(TIMEOUT)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, \
            f"{name}: wait status {status:#x}, expected death by SIGINT:\n{t.text()!r}"
        assert t.echo(), f"{name}: echo left off"
        # As the terminal shows Ctrl-C with echo on; the shell then starts a new line.
        t.expect(b"^C", at)
        t.wait_quiet()
        assert t.text(at) == b"^C", f"{name}: {t.text(at)!r} after the prompt"
        assert not os.path.exists(tmp_path / "out.pem")
    finally:
        t.close()


def test_the_shell_reports_130(pki, tmp_path):
    """What a reader sees: the shell's $? after Ctrl-C at the server's prompt is 130, and the
    server never started (a password typed afterwards goes to the shell, not to a server)."""
    cert, key = pki.leaf("prompted-sh", password="hazelnut")
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PS1": "$ ", "HOME": str(tmp_path), "TERM": "dumb"}
    t = Term(["bash", "--norc", "--noprofile", "--noediting", "-i"], env=env, cwd=str(tmp_path))
    try:
        at = t.expect(b"$ ")
        t.send(" ".join(prog("squirrel-server") + ["--mode", "tls", "--cert", cert, "--key", key,
                                                   "--listen", f"127.0.0.1:{port}"]).encode()
               + b"\n")
        at = t.expect(f"Enter PEM pass phrase for {key}: ".encode(), at, timeout=TIMEOUT)
        t.wait_echo(False)
        t.send(b"\x03")
        at = t.expect(b"^C\r\n$ ", at, timeout=TIMEOUT)
        t.wait_echo(True)
        t.send(b"echo rc=$?\n")
        t.expect(b"rc=130", at)
    finally:
        t.close()
