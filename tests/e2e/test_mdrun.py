"""The executable-doc runner itself (tests/e2e/mdrun.py), on small pages: it must fail, with
the page's line and a diff, when a page drifts from what the programs print."""

import pytest

from mdrun import DocError, Runner, match_lines, parse

pytestmark = pytest.mark.requires("pseudo-terminal")


def run_page(tmp_path, text, timeout=5):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "TERM": "dumb"}
    notes = []
    r = Runner("page.md", str(tmp_path), env, timeout=timeout, report=notes.append)
    try:
        r.run(parse("page.md", text))
    finally:
        r.close()
    return r, notes


def test_a_page_that_matches_passes(tmp_path):
    r, notes = run_page(tmp_path, """
Terminal 1:

```console
$ export WORD=acorn
$ echo "a $WORD at $(date +%s)"
a acorn at <time>
$ printf 'no newline'
no newline$
```

Terminal 2 (the environment is terminal 1's only):

```console
$ echo "word=${WORD:-unset} <time>"
word=unset <time>
```

<!-- doc-test: not run: it would format the disk -->
```console
$ mkfs /dev/sda
```
""")
    assert r.ran == 4 and notes == ["page.md:20: not run: it would format the disk"]
    assert r.caps["time"].isdigit()


def test_drift_fails_with_line_and_diff(tmp_path):
    with pytest.raises(DocError) as e:
        run_page(tmp_path, "text\n\n```console\n$ echo fluffy tail\nfluffy tale\n```\n")
    msg = str(e.value)
    assert msg.startswith("page.md:4: `echo fluffy tail` printed something else")
    assert "-fluffy tale" in msg and "+fluffy tail" in msg


def test_a_server_runs_until_ctrl_c(tmp_path):
    page = """
Terminal 1:

```console
$ sh -c 'echo listening; trap "echo; echo stopped; exit 0" INT; while :; do sleep 0.1; done'
listening
```

Terminal 2:

```console
$ echo meanwhile
meanwhile
```

Terminal 1:

```console
^C
stopped
```
"""
    r, _ = run_page(tmp_path, page)
    assert r.ran == 2
    # A page that never stops it: the command is taken for one that ends, and does not.
    with pytest.raises(DocError, match="page.md:5: .* did not end; if it runs on"):
        run_page(tmp_path, page[:page.index("Terminal 1:\n\n```console\n^C")], timeout=1)


def test_prompts_are_answered_with_echo_off(tmp_path):
    r, _ = run_page(tmp_path, """
```console
$ read -s -p "Password: " pw; echo; echo "got ${#pw} letters"
Password: (type hazelnut)
got 8 letters
```
""")
    assert r.ran == 1


def test_sh_blocks_must_be_console_or_marked():
    with pytest.raises(DocError, match=r"page.md:2: a ```sh block"):
        parse("page.md", "\n```sh\nls\n```\n")


def test_dots_and_placeholders():
    assert match_lines(["a", "...", "d <x>"], ["a", "b", "c", "d 42"]) == (4, {"x": "42"})
    assert match_lines(["a", "..."], ["a"]) == (1, {})
    assert match_lines(["a <x>"], ["b 1"]) is None
    assert match_lines(["x"], ["x", "y"], partial=True) == (1, {})
