"""The pages a reader follows are executable: every console block of README.md,
docs/tutorial.md, docs/fr/tutoriel.md and docs/pki.md runs in the order written, one bash per
terminal the page names (each on a pseudo-terminal of its own, kept for the whole page), and
what the programs print must be what the page shows, but for the parts it marks as variable.
The conventions are in tests/e2e/mdrun.py and at the top of docs/tutorial.md.

SQUIRREL_DOC_TRANSCRIPTS=DIR keeps what each terminal showed, one file per terminal.

Each page runs in a network namespace of its own when the machine allows one (the tutorial
listens on 127.0.0.1:5683, which another run could hold), else on this machine's loopback if
its ports are free, else it is skipped with the reason.
"""
import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import BIN, REPO, WRAP
from mdrun import DocError, Runner, parse

PAGES = ["README.md", "docs/tutorial.md", "docs/fr/tutoriel.md", "docs/pki.md"]
PORTS = (5683, 5684)  # the tutorial's server and tap
# Programs the pages use beside ours: a page that needs a missing one is skipped, naming it.
PEERS = ("curl", "openssl", "certutil", "flask", "python3")

pytestmark = [
    pytest.mark.requires("pseudo-terminal"),
    pytest.mark.skipif(bool(WRAP), reason="the pages run the programs themselves, not under a "
                                          "wrapper such as valgrind"),
]


def host_ports_free():
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class Netns:
    """A network namespace with its loopback up, held by a sleeping process; enter is the
    argv prefix that runs a command in it."""

    def __init__(self):
        self.holder, self.enter, self.why = None, None, None
        if shutil.which("unshare") is None or shutil.which("nsenter") is None:
            self.why = "no unshare or nsenter (util-linux)"
            return
        if shutil.which("ip") is None:
            self.why = "no ip (iproute2) to bring the namespace's loopback up"
            return
        ways = [(["unshare", "--net"], ["--net"])]
        if os.geteuid() != 0:
            ways.append((["unshare", "--user", "--map-root-user", "--net"],
                         ["--preserve-credentials", "--user", "--net"]))
        reasons = []
        for make, join in ways:
            p = subprocess.Popen(make + ["sh", "-c", "ip link set lo up && echo up && exec sleep "
                                         "3600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            if p.stdout.readline().strip() == "up":
                self.holder = p
                self.enter = ["nsenter", "-t", str(p.pid)] + join
                return
            p.kill()
            reasons.append(p.communicate()[1].strip().splitlines()[-1:] or ["refused"])
        self.why = "cannot make a network namespace: " + "; ".join(r[0] for r in reasons)

    def close(self):
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written(page, tmp_path, request, capsys):
    path = os.path.join(REPO, page)
    with open(path, encoding="utf-8") as f:
        blocks = parse(page, f.read())
    path_dirs = "/usr/bin:/bin:/usr/sbin:/sbin"
    for tool in PEERS:
        used = any(re.search(rf"(^|[\s;|&(]){tool}\s", c.text) for b in blocks for c in b.cmds)
        if used and shutil.which(tool, path=path_dirs) is None:
            pytest.skip(f"{page} uses {tool}, which is not installed (sh .ci/deps test)")
    ns = Netns()
    try:
        if ns.enter is None and not host_ports_free():
            pytest.skip(f"{ns.why}, and ports {PORTS} are taken on this machine")
        home, work = tmp_path / "home", tmp_path / "work"
        home.mkdir()
        work.mkdir()
        env = {"PATH": f"{os.path.abspath(BIN)}:{path_dirs}",
               "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb", "USER": "reader"}
        reporter = request.config.pluginmanager.getplugin("terminalreporter")
        notes = []
        runner = Runner(page, str(work), env, enter=ns.enter, report=notes.append)
        failure = None
        try:
            runner.run(blocks)
        except DocError as e:
            failure = str(e)
        finally:
            keep = os.environ.get("SQUIRREL_DOC_TRANSCRIPTS")
            if keep:  # what each terminal showed, for a person to read
                os.makedirs(keep, exist_ok=True)
                for n, t in runner.terms.items():
                    name = page.replace("/", "_") + f".terminal{n}.txt"
                    with open(os.path.join(keep, name), "wb") as f:
                        f.write(t.text().replace(b"\x1b]squirrel-doc-prompt\x07", b"$ "))
            runner.close()
        # What was not run, and why, shown even when the page passes.
        where = "in a network namespace" if ns.enter else "on this machine's loopback"
        notes.insert(0, f"{page}: ran {runner.ran} command(s) {where}")
        request.node.user_properties.extend(("doc-test", n) for n in notes)
        with capsys.disabled():
            if reporter is not None:
                reporter.write("\n")
                for n in notes:
                    reporter.write_line(n)
        if failure:
            pytest.fail(failure, pytrace=False)
    finally:
        ns.close()


# ---- the diagrams ------------------------------------------------------------------------
#
# Each stage of the tutorial draws its exchange as a Mermaid sequence diagram, next to what
# `squirrel-tap --flow` printed for the same stage (test_page_runs_as_written checks that the
# page's --flow block is what the tap prints). Here the picture must name the same messages,
# in the same order for each direction. A message is named by its label up to the first
# comma, parenthesis or colon; records shown only as encrypted are one "[encrypted]" run per
# direction, since how they are grouped depends on how they were sent. A stage whose exchange
# is files, not packets (stage 3), must name files its commands make.

TUTORIALS = ["docs/tutorial.md", "docs/fr/tutoriel.md"]
STAGE = re.compile(r"^## (?:Stage|Étape) (\d)\b")
ARROW = re.compile(r"^\s*(\w+)\s*-\)?>>?\+?-?\s*(\w+)\s*:\s*(.+)$")
LADDER = re.compile(r"^\|(?:-- (.+?) -*>|<-+ (.+?) --)\|$")


def blocks_by_stage(text):
    """{stage number: [(fence language, [lines])]} for the page's level-2 stage sections."""
    out, stage, fence, body = {}, None, None, []
    for line in text.split("\n"):
        if fence is None:
            m = STAGE.match(line)
            if line.startswith("## "):
                stage = int(m.group(1)) if m else None
            elif line.startswith("```"):
                fence, body = line[3:].strip(), []
            continue
        if line.startswith("```"):
            if stage is not None:
                out.setdefault(stage, []).append((fence, body))
            fence = None
        else:
            body.append(line)
    return out


def message_name(label):
    name = re.split(r",| \(|:", label, maxsplit=1)[0].strip()
    name = re.sub(r"\s+\d+ B$", "", name)
    return "[encrypted]" if name.startswith("[encrypted]") else name


def per_direction(messages):
    """{"c2s": [...], "s2c": [...]}, each direction's names with runs of [encrypted] as one."""
    out = {"c2s": [], "s2c": []}
    for direction, name in messages:
        names = out[direction]
        if not (name == "[encrypted]" and names and names[-1] == name):
            names.append(name)
    return out


def diagram_messages(body):
    """(direction, name) of each message of a sequence diagram; the first participant
    declared is the client side."""
    participants = [ln.split()[1] for ln in body if ln.strip().startswith("participant ")]
    assert body and body[0].strip() == "sequenceDiagram" and len(participants) >= 2, body
    out = []
    for ln in body:
        m = ARROW.match(ln)
        if m:
            src, dst, label = m.groups()
            direction = ("c2s" if participants.index(src) < participants.index(dst)
                         else "s2c")
            out.append((direction, message_name(label), label))
    return out


def ladder_messages(body):
    """(direction, name) of each arrow of a --flow block. A "..." once records are encrypted
    stands for more of them, both ways (the page leaves out what varies from run to run)."""
    out = []
    for ln in body:
        if ln == "..." and any(name == "[encrypted]" for _, name in out):
            out += [("c2s", "[encrypted]"), ("s2c", "[encrypted]")]
        m = LADDER.match(ln)
        if m:
            direction = "c2s" if m.group(1) is not None else "s2c"
            out.append((direction, message_name(m.group(1) or m.group(2))))
    return out


@pytest.mark.parametrize("page", TUTORIALS)
def test_each_stage_draws_what_the_tap_prints(page):
    with open(os.path.join(REPO, page), encoding="utf-8") as f:
        stages = blocks_by_stage(f.read())
    assert sorted(stages) == [1, 2, 3, 4], f"{page}: stage sections {sorted(stages)}"
    for n, blocks in stages.items():
        diagrams = [diagram_messages(b) for lang, b in blocks if lang == "mermaid"]
        assert len(diagrams) == 1, f"{page}: stage {n} has {len(diagrams)} sequence diagrams"
        drawn = diagrams[0]
        ladders = [ladder_messages(b) for lang, b in blocks if lang == "console"]
        ladders = [lad for lad in ladders if lad]
        if n == 3:
            assert not ladders, f"{page}: stage 3 exchanges files, not packets"
            commands = "\n".join(ln for lang, b in blocks if lang == "console" for ln in b
                                 if ln.startswith(("$ ", "      ")))
            for _, name, label in drawn:
                made = re.findall(r"[\w-]+\.pem", label)
                assert made and all(f in commands for f in made), \
                    f"{page}: stage 3 draws {label!r}, a file none of its commands names"
            continue
        assert len(ladders) == 1, f"{page}: stage {n} shows {len(ladders)} --flow ladders"
        assert per_direction((d, m) for d, m, _ in drawn) == per_direction(ladders[0]), \
            f"{page}: stage {n}: the diagram names {drawn}, the tap printed {ladders[0]}"
