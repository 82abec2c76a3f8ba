"""Reliability by class: the standard streams failing or missing, and odd encodings.

Each member runs a real process (the failure only shows there): stdout on a full
disk, stdin/stdout/stderr closed, ASCII-only stdout, an ASCII locale with
non-ASCII data and arguments, arguments that are not valid UTF-8. Each ends with
the documented exit code and at most one ``Error:`` line, never a traceback, and
the archive is unchanged and healthy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import digest


@pytest.fixture
def archive(tmp_path, seeded_template) -> Path:
    """A seeded archive (what ``irarchive db init`` makes), copied from the session's."""
    db = tmp_path / "a.db"
    shutil.copyfile(seeded_template, db)
    return db


def run(db: Path, args: list, *, close=(), env=None, stdout=None, stdin=None):
    def prepare() -> None:
        for fd in close:
            os.close(fd)

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "irarchive", "--db", str(db), *args],
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        env=full_env,
        preexec_fn=prepare,
        timeout=120,
    )


def one_error(proc, code: int, *needles: str) -> None:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for needle in needles:
        assert needle in lines[0], err


COMMANDS = [
    ["list"],
    ["list", "--json"],
    ["show", "iranian-nuclear-deal-crisis"],
    ["search", "turkiye", "--json"],
    ["stats"],
    ["export", "-f", "bibtex"],
    ["db", "info"],
    ["db", "path"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_stdout_on_a_full_disk(archive, args):
    before = digest(archive)
    with open("/dev/full", "wb") as full:
        proc = run(archive, args, stdout=full)
    one_error(proc, 1, "No space left on device")
    assert digest(archive) == before


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_stdout_closed(archive, args):
    before = digest(archive)
    proc = run(archive, args, close=(1,))
    one_error(proc, 1, "standard output is closed")
    assert digest(archive) == before


def test_closed_stdout_never_lands_in_the_archive(archive, tmp_path):
    """With fd 1 closed the archive could be opened as fd 1; a write to 'stdout' then
    goes into the database. The summary is on stderr; the archive stays healthy."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"title": "Closed stdout"}\n')
    proc = run(archive, ["import", str(src), "--json"], close=(1,))
    err = proc.stderr.decode().splitlines()
    assert proc.returncode == 1 and err[0].endswith("1 added, 0 updated, 0 unchanged, 0 rejected")
    assert err[1:] == ["Error: cannot write the output: standard output is closed"]
    check = run(archive, ["db", "check"])
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    "args, code", [(["list", "--bogus"], 2), (["show", "nothing-like-this"], 1), (["list"], 0)]
)
def test_stderr_closed(archive, args, code):
    proc = run(archive, args, close=(2,))
    assert proc.returncode == code


def test_stdin_closed(archive):
    before = digest(archive)
    proc = run(archive, ["import", "-"], close=(0,))
    one_error(proc, 1, "standard input is closed")
    assert digest(archive) == before


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "ascii"},
        {"PYTHONIOENCODING": "latin-1"},
        {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
    ],
    ids=["ascii", "latin-1", "C-locale"],
)
def test_non_ascii_data_on_narrow_encodings(archive, args, env):
    proc = run(archive, args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    if "--json" in args:
        import json

        json.loads(proc.stdout.decode("ascii", "replace"))  # \\u escapes keep it JSON


@pytest.mark.parametrize(
    "args",
    [
        ["search", "türkiye"],
        ["search", b"\xff\xfe"],
        ["list", "--category", "КАТЕГОРИЯ"],
        ["list", "--category", b"caf\xe9"],
        ["show", b"\xff"],
        ["show", "Türkiye"],
    ],
    ids=repr,
)
@pytest.mark.parametrize(
    "env",
    [{}, {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}],
    ids=["utf8", "C-locale"],
)
def test_arguments_that_are_not_text_in_the_locale(archive, args, env):
    before = digest(archive)
    proc = run(archive, args, env=env)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1, 2), err
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 4  # an ambiguous title lists its candidates
    assert digest(archive) == before


def test_debug_shows_the_traceback_of_a_backstop_error(archive):
    with open("/dev/full", "wb") as full:
        proc = run(archive, ["list"], stdout=full, env={"IRARCHIVE_DEBUG": "1"})
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "Traceback" in err and err.splitlines()[-1].startswith("Error: ")
