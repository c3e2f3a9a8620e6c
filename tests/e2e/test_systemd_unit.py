"""docs/squirrel-server.service: systemd's own confinement of the server, checked with
systemd-analyze (verify, and the exposure score of `security --offline=true`, at most 2.0).
Skipped, with the reason, where systemd-analyze is missing or cannot run."""
import os
import subprocess

import pytest

from conftest import BIN, need

UNIT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "docs", "squirrel-server.service")
MAX_EXPOSURE = 2.0


def systemd_analyze(*args):
    need("systemd-analyze")
    r = subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=120)
    if "Failed to initialize manager" in r.stderr or "Failed to connect to bus" in r.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {r.stderr.strip()[:200]}")
    return r


def unit_copy(tmp_path):
    """The unit with ExecStart= naming this build's server (verify checks that the program
    exists and is executable)."""
    text = open(UNIT).read()
    assert "ExecStart=/usr/local/bin/squirrel-server " in text
    text = text.replace("/usr/local/bin/squirrel-server", os.path.join(BIN, "squirrel-server"))
    out = tmp_path / "squirrel-server.service"
    out.write_text(text)
    return str(out)


def test_unit_verifies(tmp_path):
    # --man=no: Documentation= names a man page that only `make install` puts in place.
    r = systemd_analyze("verify", "--man=no", unit_copy(tmp_path))
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


def test_unit_exposure(tmp_path):
    r = systemd_analyze("security", "--offline=true", "--no-pager", unit_copy(tmp_path))
    assert r.returncode == 0, r.stderr
    # "→ Overall exposure level for squirrel-server.service: 1.0 OK 🙂"
    last = r.stdout.strip().splitlines()[-1]
    assert "Overall exposure level for squirrel-server.service: " in last, r.stdout[-2000:]
    score = float(last.split(": ")[1].split()[0])
    print(f"exposure {score}")
    assert score <= MAX_EXPOSURE, r.stdout
