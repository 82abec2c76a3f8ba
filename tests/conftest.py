"""Shared fixtures: every test runs with its own HOME, data dir and archive path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real home, data dir or archive; rich output is 100 columns."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("IRARCHIVE_DB", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("IRARCHIVE_TODAY", "2026-11-27")
    return home


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A path for a fresh archive, also exported as IRARCHIVE_DB."""
    path = tmp_path / "archive.db"
    monkeypatch.setenv("IRARCHIVE_DB", str(path))
    return path


class Run:
    """Result of running the CLI in-process through cli.main (exit-code mapping included)."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out[:300]!r}, err={self.err[:300]!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Call ``irarchive ARGS`` in-process; returns a Run with exit code, stdout, stderr."""
    from irarchive.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def seeded(db_path: Path, cli) -> Path:
    """An archive holding the bundled seed (10 articles)."""
    result = cli("db", "init")
    assert result.code == 0, result
    return db_path


@pytest.fixture
def archive_path(seeded: Path) -> Path:
    """The seeded archive's path (also in IRARCHIVE_DB)."""
    return seeded


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``irarchive ARGS`` in-process: (exit code, stdout, stderr)."""
    from irarchive.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def run_subprocess(
    *args: str, env: dict[str, str] | None = None, input: bytes | None = None, timeout: float = 60
):
    """Run ``python -m irarchive ARGS`` as a real process."""
    import subprocess

    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "irarchive", *args],
        capture_output=True,
        env=full_env,
        input=input,
        timeout=timeout,
    )
