"""make demo runs every stage, both instructive failures, and stops everything it started.
Its time is printed by the demo itself; a timed assertion here would fail on a slow machine
for no defect (the timeout only catches a hang)."""
import os
import re
import subprocess
import sys

from conftest import BIN, REPO, WRAP

import pytest


@pytest.mark.skipif(bool(WRAP), reason="the demo runs the programs itself, not under valgrind")
def test_demo_runs_all_stages():
    r = subprocess.run([sys.executable, os.path.join(REPO, "tests", "demo.py")], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, SQUIRREL_BIN=BIN))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    out = r.stdout
    for heading in ("Stage 1: plain HTTP", "Stage 2: Fernet", "Stage 3: become a certificate authority",
                    "Stage 4: HTTPS"):
        assert heading in out
    assert "'fluffy tail' seen in clear" in out.split("Stage 2")[0]
    assert "seen in clear" not in out.split("Stage 2")[1]
    assert "invalid token" in out and "unable to get local issuer certificate" in out
    assert "a Fernet token, not the secret inside it" in out and "ClientHello (SNI localhost" in out
    # Each stage's wire is drawn as a ladder (squirrel-tap --flow), within 80 columns.
    assert "|-- GET / ---" in out and "[encrypted]" in out
    # Stage 4b: the client's key log opens the same records.
    assert "Stage 4b: look inside your own TLS" in out
    assert "'fluffy tail' seen only after decryption (server -> client)" in out.split("Stage 4b")[1]
    assert "[decrypted] 200 OK, 11 B: \"fluffy tail\"" in out.split("Stage 4b")[1]
    assert max(len(line) for line in out.splitlines() if line.startswith("  |")) <= 80
    # Nothing left behind: no program of ours still runs in this demo's folder (another
    # demo may be running on the machine, in a folder of its own).
    work = re.search(r"working in (\S+);", out).group(1)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("squirrel-") and cwd.startswith(work):
            left.append((pid, comm, cwd))
    assert left == []
