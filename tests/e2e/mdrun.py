"""Run a Markdown page's commands as its reader would, and compare what the programs print
with what the page shows (tests/e2e/test_docs.py).

What a page means, stated at the top of docs/tutorial.md for its readers:

  ```console      a block of commands: a line "$ CMD" is typed (a line ending in a
                  backslash, or a here-document, goes on), the lines after it are what the
                  programs print; lines before any "$" are more of what a program still
                  running in that terminal prints
  Terminal N      a paragraph that starts so sends the blocks after it to terminal N
                  (one bash per terminal, kept for the whole page, as a reader's are)
  <name>          in printed lines, any text on that line (a date, a port, a key); the
                  value is remembered, and "<name>" in a later command stands for it
  ...             a line of its own: any number of lines
  PROMPT (type X) the program asks on the terminal: wait for PROMPT, type X and Enter
                  (in French: "(tapez X)")
  ^C              press Ctrl-C in that terminal (the byte 0x03, through its line discipline)
  CMD$            a command's last line ends with no newline: the shell's prompt follows

An HTML comment before a block changes what is done with it:

  <!-- doc-test: not run: REASON -->   the block is shown, not run (the test says so)
  <!-- doc-test: file NAME -->         the block's text is saved as NAME, as the page
                                       asks its reader to

A program a command starts keeps running while the page shows no prompt in its terminal:
a command is taken for one that keeps running (a server) when it is the last of its block
and the next block of its terminal begins with printed lines or ^C. ```sh blocks and other
shell blocks are refused unless marked not run: every command is a console block.
"""
import difflib
import os
import re
import time
from dataclasses import dataclass, field

from ptyterm import Term

TERMINAL = re.compile(r"^\**Terminal (\d+)\b")
FENCE = re.compile(r"^```(\S*)")
MARK = re.compile(r"^<!--\s*doc-test:\s*(not run|file)\s*:?\s*(.*?)\s*-->\s*$")
PLACEHOLDER = re.compile(r"<([a-z][a-z0-9-]*)>")
TYPED = re.compile(r"^(.*?)\s*\((?:type|tapez) (.+)\)\s*$")
HEREDOC = re.compile(r"<<-?\s*'?\"?([A-Za-z_]+)'?\"?")
SHELLS = {"sh", "bash", "shell", "zsh"}
PROMPT = "\x1b]squirrel-doc-prompt\x07"


class DocError(AssertionError):
    pass


@dataclass
class Cmd:
    text: str   # as typed, lines joined with "\n"
    line: int   # of its "$ " line in the page
    out: list = field(default_factory=list)  # (page line number, expected text)
    running: bool = False


@dataclass
class Block:
    path: str
    line: int         # of the opening fence
    terminal: int
    lead: list        # (line, text) printed before any command: a running program's
    cmds: list
    skip: str = None  # reason, for a block not run
    save: str = None  # file name, for a block saved as a file
    text: str = ""


def parse(path, text):
    """The page's blocks, in order."""
    blocks, terminal, mark = [], 1, None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = TERMINAL.match(line)
        if m:
            terminal = int(m.group(1))
        m = MARK.match(line)
        if m:
            mark = (m.group(1), m.group(2))
            i += 1
            continue
        m = FENCE.match(line)
        if not m:
            if line.strip():
                mark = None
            i += 1
            continue
        lang, start = m.group(1), i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        kind, arg = mark or (None, None)
        mark = None
        if kind == "file":
            blocks.append(Block(path, start, terminal, [], [], save=arg, text="\n".join(body) + "\n"))
            continue
        if lang != "console":
            if lang in SHELLS and kind != "not run":
                raise DocError(f"{path}:{start}: a ```{lang} block: write commands as a "
                               f"```console block ($ before each), or mark it "
                               f"<!-- doc-test: not run: REASON -->")
            continue
        if kind == "not run":
            blocks.append(Block(path, start, terminal, [], [], skip=arg or "no reason given"))
            continue
        blocks.append(console_block(path, start, terminal, body))
    mark_running(blocks)
    return blocks


def console_block(path, start, terminal, body):
    block = Block(path, start, terminal, [], [])
    j = 0
    while j < len(body):
        n = start + 1 + j
        line = body[j]
        if line.startswith("$ ") or line == "$":
            cmd = [line[2:]]
            heredoc = HEREDOC.search(line)
            while cmd[-1].endswith("\\") and j + 1 < len(body):
                j += 1
                cmd.append(body[j])
            if heredoc:
                end = heredoc.group(1)
                while j + 1 < len(body):
                    j += 1
                    cmd.append(body[j])
                    if body[j] == end:
                        break
            block.cmds.append(Cmd("\n".join(cmd), n))
        elif block.cmds:
            block.cmds[-1].out.append((n, line))
        else:
            block.lead.append((n, line))
        j += 1
    return block


def mark_running(blocks):
    """A block's last command keeps running when its terminal's next block opens with printed
    lines (or ^C), not with a command."""
    for k, b in enumerate(blocks):
        if b.skip or b.save or not b.cmds:
            continue
        for later in blocks[k + 1:]:
            if later.skip or later.save or later.terminal != b.terminal:
                continue
            b.cmds[-1].running = bool(later.lead)
            break


# ---- matching --------------------------------------------------------------------------

def line_pattern(text):
    """A regular expression for one printed line of the page: <name> is any text, captured."""
    parts, pos = [], 0
    for m in PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[pos:m.start()]))
        parts.append(f"(?P<{m.group(1).replace('-', '_')}__{len(parts)}>.+?)")
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return "".join(parts)


def match_lines(expected, actual, partial=False):
    """Match page lines against printed lines ("..." is any number of lines). Returns
    (number of printed lines matched, {name: value}) or None. With partial, printed lines
    may go on after the match."""
    def go(ei, ai, caps):
        if ei == len(expected):
            return (ai, caps) if partial or ai == len(actual) else None
        if expected[ei] == "...":
            for k in range(ai, len(actual) + 1):
                r = go(ei + 1, k, caps)
                if r is not None:
                    return r
            return None
        if ai == len(actual):
            return None
        m = re.fullmatch(line_pattern(expected[ei]), actual[ai])
        if m is None:
            return None
        new = dict(caps)
        for k, v in m.groupdict().items():
            new[k.split("__")[0].replace("_", "-")] = v
        return go(ei + 1, ai + 1, new)
    return go(0, 0, {})


SGR = re.compile(r"\x1b\[[0-9;]*m")


def clean(text):
    """Printed bytes as lines: CRLF to LF, colours and trailing blanks dropped (a page shows
    neither; Flask colours its warnings on a terminal)."""
    text = SGR.sub("", text)
    return [l.rstrip() for l in text.replace("\r", "").split("\n")]


# ---- running ---------------------------------------------------------------------------

class Runner:
    """One page: a bash per terminal in a shared folder, environment and network."""

    def __init__(self, path, cwd, env, enter=None, timeout=30.0, report=print):
        self.path, self.cwd, self.env, self.enter = path, cwd, env, enter
        self.timeout, self.report = timeout, report
        self.terms, self.pos, self.running, self.caps = {}, {}, {}, {}
        self.skipped = []
        self.ran = 0

    def term(self, n):
        if n not in self.terms:
            argv = (self.enter or []) + ["bash", "--norc", "--noprofile", "--noediting", "-i"]
            env = dict(self.env, PS1=PROMPT, PS2="")
            t = Term(argv, env=env, cwd=self.cwd)
            self.terms[n] = t
            self.pos[n] = t.expect(PROMPT.encode(), 0, timeout=self.timeout)
            self.running[n] = None
        return self.terms[n]

    def close(self):
        for t in self.terms.values():
            t.close()

    def expect(self, n, needle, start, where, what):
        """Wait for needle in terminal n; a DocError naming the page's line otherwise."""
        try:
            return self.terms[n].expect(needle, start, timeout=self.timeout)
        except AssertionError:
            shown = self.terms[n].text(start).decode(errors="replace")
            self.fail(where, f"{what} (waited {self.timeout:g} s); terminal {n} showed:\n"
                             f"{shown[-2000:]}")

    def fail(self, where, what, expected=None, actual=None):
        msg = f"{self.path}:{where}: {what}"
        if expected is not None:
            # A page line that matches the printed line beside it is shown as printed, so the
            # diff shows only what differs, not every <placeholder>.
            shown = [a if i < len(actual) and e != "..." and
                     re.fullmatch(line_pattern(e), actual[i]) else e
                     for i, e in enumerate(expected) for a in [actual[i] if i < len(actual)
                                                                else None]]
            diff = difflib.unified_diff(shown, actual, "the page shows", "the programs print",
                                        lineterm="")
            msg += "\n" + "\n".join(diff)
        raise DocError(msg)

    def run(self, blocks):
        for b in blocks:
            if b.skip:
                self.skipped.append((b.line, b.skip))
                self.report(f"{self.path}:{b.line}: not run: {b.skip}")
                continue
            if b.save:
                with open(os.path.join(self.cwd, b.save), "w") as f:
                    f.write(b.text)
                continue
            self.block(b)
        for n, cmd in self.running.items():
            if cmd is not None:
                self.fail(cmd.line, f"`{cmd.text}` still runs in terminal {n} at the end of the "
                                    f"page: say how to stop it (^C)")

    def block(self, b):
        t = self.term(b.terminal)
        if b.lead:
            self.lead(b, t)
        for cmd in b.cmds:
            if self.running[b.terminal] is not None:
                self.fail(cmd.line, f"terminal {b.terminal} is busy with "
                                    f"`{self.running[b.terminal].text}` (line "
                                    f"{self.running[b.terminal].line}): stop it (^C) first")
            self.command(b.terminal, t, cmd)

    def substitute(self, cmd):
        def value(m):
            if m.group(1) not in self.caps:
                self.fail(cmd.line, f"<{m.group(1)}> in `{cmd.text}` was never shown before")
            return self.caps[m.group(1)]
        return PLACEHOLDER.sub(value, cmd.text)

    def lead(self, b, t):
        """Lines a running program prints, then perhaps ^C and its last lines."""
        n = b.terminal
        lines = [text for _, text in b.lead]
        where = b.lead[0][0]
        if "^C" in lines:
            k = lines.index("^C")
            before, after = lines[:k], lines[k + 1:]
        else:
            before, after = lines, None
        if self.running[n] is None:
            self.fail(where, f"printed lines shown in terminal {n}, where nothing runs")
        # "..." right before ^C: whatever the program printed until then.
        rest = ["..."] if before and before[-1] == "..." else []
        if rest:
            before = before[:-1]
        if before:
            self.pos[n] = self.wait_match(n, t, before, where)
        if after is not None:
            t.send(b"\x03")
            end = self.expect(n, PROMPT.encode(), self.pos[n], where,
                              f"`{self.running[n].text}` did not stop at ^C")
            got = t.text(self.pos[n])[:end - self.pos[n] - len(PROMPT)].decode(errors="replace")
            actual = clean(got)
            if actual and actual[-1] == "":
                actual.pop()
            self.compare(where, "^C", rest + ["^C"] + after, actual)
            self.pos[n] = end
            self.running[n] = None

    def wait_match(self, n, t, expected, where):
        deadline = time.monotonic() + self.timeout
        while True:
            got = t.text(self.pos[n]).decode(errors="replace")
            whole = got[:got.rfind("\n") + 1] if "\n" in got else ""
            actual = clean(whole)[:-1] if whole else []
            r = match_lines(expected, actual, partial=True)
            if r is not None:
                used, caps = r
                self.caps.update(caps)
                taken = "\n".join(whole.split("\n")[:used]) + ("\n" if used else "")
                return self.pos[n] + len(taken.encode())
            if time.monotonic() > deadline:
                self.fail(where, f"terminal {n} did not print what the page shows",
                          expected, actual)
            time.sleep(0.02)

    def command(self, n, t, cmd):
        self.ran += 1
        typed = self.substitute(cmd)
        start = self.pos[n]
        t.send(typed.encode() + b"\n")
        at = self.expect(n, (typed.replace("\n", "\r\n") + "\r\n").encode(), start, cmd.line,
                         f"`{cmd.text}` was not echoed")
        expected = []
        for line_no, text in cmd.out:
            m = TYPED.match(text)
            if m:
                at = self.expect(n, m.group(1).encode(), at, line_no,
                                 f"`{cmd.text}` did not ask '{m.group(1)}'")
                t.wait_echo(False, timeout=self.timeout)
                t.send(m.group(2).encode() + b"\n")
                expected.append(m.group(1))
            else:
                expected.append(text)
        out_start = start + len((typed.replace("\n", "\r\n") + "\r\n").encode())
        if cmd.running:
            self.pos[n] = out_start
            self.pos[n] = self.wait_match(n, t, expected, cmd.line)
            self.running[n] = cmd
            return
        end = self.expect(n, PROMPT.encode(), at, cmd.line,
                          f"`{cmd.text}` did not end; if it runs on, the next block of terminal "
                          f"{n} must begin with what it prints, or ^C")
        got = t.text(out_start)[:end - out_start - len(PROMPT)].decode(errors="replace")
        self.pos[n] = end
        actual = clean(got)
        if got.endswith("\n") or got == "":
            actual.pop()
        elif expected and expected[-1].endswith("$"):
            # No newline at the end: the prompt follows on the same line, as the page shows.
            expected = expected[:-1] + [expected[-1][:-1].rstrip()]
        else:
            actual[-1] += "$"  # what the reader sees: the prompt right after it
        self.compare(cmd.line, cmd.text, expected, actual)

    def compare(self, where, what, expected, actual):
        r = match_lines(expected, actual)
        if r is None:
            self.fail(where, f"`{what}` printed something else", expected, actual)
        self.caps.update(r[1])
