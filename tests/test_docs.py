"""The documentation cannot go stale: its examples run, and the API reference lists every public name.

Runnable fenced blocks of README.md and docs/*.md (issue 13, "README examples are run"):

- ```` ```python ```` blocks with ``>>>`` prompts are doctests; the blocks of one file share one
  namespace, in order, as a reader runs them;
- ```` ```console ```` blocks: each line ``$ rntk ARGS`` runs ``rntk_sym.cli.main(ARGS)`` in a temporary
  directory, and the lines up to the next ``$`` are its expected standard output.

Expected output matches with ``...`` standing for any text (timings must be written so) and
whitespace runs equal. Other blocks (```` ```bash ````, ```` ```text ````) are shown, not run.

``RNTK_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`` rewrites the expected output of every
console command that no longer matches with what it prints now; review the diff, and write ``...``
again where a timing appears.
"""
from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
from pathlib import Path

import pytest

import rntk_sym
from rntk_sym import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```\s*(\S*)\s*$")  # ```python, ```console, ```{toctree}...
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def fenced_blocks(path: Path):
    """(language, first line number of the body (1-based), body lines) for each fenced block."""
    lines, blocks, open_at = path.read_text().splitlines(), [], None
    for i, line in enumerate(lines):
        m = FENCE.match(line)
        if m and open_at is None:
            open_at, lang = i, m.group(1)
        elif line.strip() == "```" and open_at is not None:
            blocks.append((lang, open_at + 2, lines[open_at + 1:i]))
            open_at = None
    assert open_at is None, f"{path.name}: unclosed code fence at line {open_at + 1}"
    return blocks


def _last_place(literal: str) -> float:
    """One unit in the last printed digit of a decimal literal such as 0.00150019 or 2.5e-19."""
    mantissa, _, exponent = literal.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


class Checker(doctest.OutputChecker):
    """doctest's check, then a numeric one: the texts equal outside their numbers, the integers equal, and
    each decimal within one unit of its last printed digit (float64 results may move by a few ulps
    between machines' libm, which can flip the last digit printed, never two)."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        want_n, got_n = " ".join(want.split()), " ".join(got.split())
        a, b = NUMBER.findall(want_n), NUMBER.findall(got_n)
        if NUMBER.sub("#", want_n) != NUMBER.sub("#", got_n) or len(a) != len(b):
            return False
        for x, y in zip(a, b):
            exact = not re.search(r"[.eE]", x)
            if exact and x != y or not exact and abs(float(x) - float(y)) > 1.01 * _last_place(x):
                return False
        return True


def _doctest_pages():
    for path in PAGES:
        blocks = [b for b in fenced_blocks(path) if b[0] == "python" and any(s.lstrip().startswith(">>>")
                                                                           for s in b[2])]
        if blocks:
            yield pytest.param(path, blocks, id=path.name)


def _console_commands():
    for path in PAGES:
        for lang, start, body in fenced_blocks(path):
            if lang != "console":
                continue
            cmd = None
            for k, line in enumerate(body):
                if line.startswith("$ "):
                    if cmd:
                        yield cmd
                    cmd = [path, start + k, line[2:], []]
                elif cmd is not None:
                    cmd[3].append(line)
            if cmd:
                yield cmd


@pytest.mark.parametrize("path, blocks", list(_doctest_pages()))
def test_python_examples(path, blocks, tmp_path, monkeypatch):
    """README/docs: every >>> example prints what the page says (doctest, with the Checker above)."""
    for module in sorted(set(re.findall(r"^>>> (?:from|import) (sklearn|dask)\b", "\n".join(
            line.lstrip() for _, _, body in blocks for line in body), re.M))):
        pytest.importorskip(module)  # optional extras: the page's examples need them
    monkeypatch.chdir(tmp_path)
    parser, globs = doctest.DocTestParser(), {}
    runner = doctest.DocTestRunner(checker=Checker(), optionflags=FLAGS)
    report = io.StringIO()
    for _, start, body in blocks:
        test = parser.get_doctest("\n".join(body) + "\n", globs, f"{path.name}:{start}", str(path), start - 1)
        runner.run(test, out=report.write, clear_globs=False)
        globs.update(test.globs)  # DocTest copies the namespace it is given: carry it to the next block
    assert runner.failures == 0, report.getvalue()


@pytest.mark.parametrize("path, line, command, want",
                         [pytest.param(*c, id=f"{c[0].name}:{c[1]}") for c in _console_commands()])
def test_console_examples(path, line, command, want, tmp_path, monkeypatch):
    """README/docs: every `$ rntk ...` example exits 0 and prints what the page says."""
    argv = shlex.split(command, comments=True)
    assert argv[0] == "rntk", f"{path.name}:{line}: console examples run rntk only, got {argv[0]!r}"
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(argv[1:])
    got, want_text = out.getvalue(), "\n".join(want) + "\n"
    if not Checker().check_output(want_text, got, FLAGS) and os.environ.get("RNTK_UPDATE_DOCS") == "1":
        _rewrite(path, line, command, got)
        pytest.skip(f"{path.name}:{line}: expected output rewritten")
    assert status == 0, f"{path.name}:{line}: exit status {status}"
    assert Checker().check_output(want_text, got, FLAGS), (
        f"{path.name}:{line}: `{command}` printed\n{got}\nthe page says\n{want_text}")


def _rewrite(path: Path, line: int, command: str, got: str) -> None:
    """Replace the expected output of `$ command` (the occurrence nearest to `line`, since earlier rewrites
    may have moved it) up to the next `$ ` line or the end of its block by `got`."""
    lines = path.read_text().split("\n")
    at = min((i for i, s in enumerate(lines) if s == "$ " + command), key=lambda i: abs(i + 1 - line))
    end = at + 1
    while not (lines[end].startswith("$ ") or lines[end].strip() == "```"):
        end += 1
    new = got.rstrip("\n").split("\n")
    if len(new) == end - at - 1:  # keep the page's line (with its ...) wherever it still matches
        new = [w if Checker().check_output(w + "\n", g + "\n", FLAGS) else g for w, g in zip(lines[at + 1:end], new)]
    lines[at + 1:end] = new
    path.write_text("\n".join(lines))


def test_api_reference_lists_every_public_name():
    """Issue 13: every name of rntk_sym.__all__ has an autodoc directive in the API reference (docs/api.rst),
    so a name added to __all__ without documentation fails here."""
    source = "\n".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.rst")))
    missing = [name for name in rntk_sym.__all__
               if not re.search(rf"^\.\. auto\w+:: rntk_sym\.{re.escape(name)}\s*$", source, re.M)]
    assert not missing, f"add `.. autofunction:: rntk_sym.NAME` (or autoclass, autodata) to docs/api.rst: {missing}"


def test_checker_tolerates_only_the_last_digit():
    """The numeric comparison above can fail: two units in the last digit, a changed integer, changed text."""
    c = Checker()
    assert c.check_output("array([-0.00150019, 0.5])\n", "array([-0.0015002, 0.5])\n", FLAGS)
    assert not c.check_output("x 0.00150019\n", "x 0.00150021\n", FLAGS)
    assert not c.check_output("11 passed\n", "10 passed\n", FLAGS)
    assert not c.check_output("value 0.25\n", "error 0.25\n", FLAGS)
    assert c.check_output("method recursion, ... s\n", "method recursion, 0.0608 s\n", FLAGS)
