"""Reliability by class: archives in folders this process cannot write.

Members: a WAL-mode archive whose -wal holds changes with and without a -shm file,
and one whose WAL is empty. Every read must show the current data, never the
stale main file alone. Made read-only with chattr +i (root) or chmod (others).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def _lock(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)


def _unlock(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o755)


@pytest.mark.parametrize("with_wal_changes", [0, 1, 25])
@pytest.mark.parametrize("with_shm", [False, True])
def test_a_read_only_folder_shows_current_data(tmp_path, with_wal_changes, with_shm):
    from irarchive.store import open_archive

    src = tmp_path / "src"
    src.mkdir()
    db = src / "a.db"
    archive = open_archive(str(db), seed=None)
    archive.conn.execute("PRAGMA wal_autocheckpoint = 0")  # keep the changes in the -wal
    archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    from irarchive.model import Article

    archive.import_items([Article(title=f"In the WAL {i}") for i in range(with_wal_changes)])
    ro = tmp_path / "ro"
    ro.mkdir()
    for suffix in ("", "-wal") + (("-shm",) if with_shm else ()):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", ro / f"a.db{suffix}")
    archive.close()
    _lock(ro)
    try:
        # The -shm file is SQLite's shared memory: readers may write it; the data may not.
        before = {p.name: p.read_bytes() for p in ro.iterdir() if p.suffix != ".db-shm"}
        proc = subprocess.run(
            [sys.executable, "-m", "irarchive", "--db", str(ro / "a.db"), "list", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert len(json.loads(proc.stdout)) == with_wal_changes
        assert {p.name: p.read_bytes() for p in ro.iterdir() if p.suffix != ".db-shm"} == before
    finally:
        _unlock(ro)
    assert sqlite3.connect(ro / "a.db").execute("SELECT count(*) FROM articles").fetchone()
