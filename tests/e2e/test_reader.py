"""What a reader of docs/tutorial.md meets at the programs' edges: how they stop, what they say
when a step was skipped or mistyped, and the hints they print. Each case is one the tutorial
walked into (issue 18)."""
import os
import signal

import pytest

from conftest import WRAP, free_port, prog, wait_port
from ptyterm import Term, pty_available

TIMEOUT = 600 if WRAP else 20
needs_pty = pytest.mark.skipif(pty_available() is not None, reason=str(pty_available()))


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
