"""Shell completion: REF and --category complete from the archive, without heavy imports.

Run as the shell runs it: a subprocess with Typer's completion variables set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Calls the console-script entry point like the installed ``irarchive`` does, then
# reports on stderr which heavy modules the completion run imported.
SCRIPT = """
import sys
from irarchive.cli import main
try:
    main()
finally:
    heavy = [m for m in ("rich", "rapidfuzz", "datasette", "sqlite_utils") if m in sys.modules]
    sys.stderr.write("imported: " + " ".join(heavy))
"""


@pytest.fixture
def archive_path(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seeded archive, passed to completion through IRARCHIVE_DB by ``complete``."""
    monkeypatch.delenv("IRARCHIVE_DB")
    return seeded


def complete(
    tmp_path: Path, shell: str, words: str, db: Path | None = None
) -> tuple[list[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IRARCHIVE", "_IRARCHIVE"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        _IRARCHIVE_COMPLETE=f"complete_{shell}",
    )
    if db is not None:
        env["IRARCHIVE_DB"] = str(db)
    if shell == "bash":
        env["COMP_WORDS"] = words
        env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    else:
        env["_TYPER_COMPLETE_ARGS"] = words
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, "irarchive"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line], proc.stderr


def test_show_completes_slugs_without_heavy_imports(tmp_path: Path, archive_path: Path) -> None:
    out, err = complete(tmp_path, "bash", "irarchive show sh", archive_path)
    assert out == ["shanghai-cooperation-organization-history-role"]
    assert err == "imported: "


def test_related_completes_ids_and_keeps_typed_case(tmp_path: Path, archive_path: Path) -> None:
    assert complete(tmp_path, "bash", "irarchive related a51", archive_path)[0] == [
        "a510295c9c3d6635"
    ]
    assert complete(tmp_path, "bash", "irarchive related A51", archive_path)[0] == [
        "A510295c9c3d6635"
    ]


def test_category_completes_any_case(tmp_path: Path, archive_path: Path) -> None:
    # Quoted for bash, which inserts candidates verbatim (a space would split it).
    assert complete(tmp_path, "bash", "irarchive list --category inter", archive_path)[0] == [
        "'international Relations'"
    ]
    out, err = complete(tmp_path, "bash", "irarchive stats -c ", archive_path)
    assert (out, err) == (["'International Relations'"], "imported: ")


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("zsh", ["_arguments '*: :((\"2022-sco-summit-samarkand-key\"))'"]),
        ("fish", ["2022-sco-summit-samarkand-key"]),
    ],
)
def test_zsh_and_fish(tmp_path: Path, archive_path: Path, shell: str, expected: list[str]) -> None:
    out, err = complete(tmp_path, shell, "irarchive show 2022-sco", archive_path)
    assert (out, err) == (expected, "imported: ")


def test_global_db_option_is_honoured(tmp_path: Path, archive_path: Path) -> None:
    out, _ = complete(tmp_path, "bash", f"irarchive --db {archive_path} show post")
    assert out == ["post-pandemic-india-central-asia"]


def test_missing_archive_completes_nothing_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "archive.db"
    out, _ = complete(tmp_path, "bash", "irarchive show sh", missing)
    assert out == []
    assert not missing.parent.exists()
    assert not (tmp_path / "data").exists()
