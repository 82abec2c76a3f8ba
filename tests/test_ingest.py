"""The parallel reader gives exactly what the in-process reader gives, errors included."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from irarchive import ingest
from tests.conftest import FIXTURES


def snapshot(db) -> list[tuple]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT id, slug, title, date, date_start, date_end, excerpt, truncated, category, url, "
        "source, extra FROM articles ORDER BY rowid"
    ).fetchall()
    rows += conn.execute("SELECT term, df FROM vocab ORDER BY term").fetchall()
    rows += conn.execute("SELECT * FROM acronyms ORDER BY 1, 2").fetchall()
    conn.close()
    return rows


@pytest.fixture
def big_input(tmp_path):
    """The realistic fixture plus rejected and duplicate records."""
    lines = (FIXTURES / "realistic.jsonl").read_text("utf-8").splitlines()
    lines += ['{"date": "2020"}', lines[0], '{"title": "Bad date", "date": "2020-13-01"}']
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_parallel_and_in_process_imports_are_identical(cli, tmp_path, big_input, monkeypatch):
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 10**12)
    serial = tmp_path / "serial.db"
    r1 = cli("--db", str(serial), "--no-seed", "import", str(big_input))
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    assert ingest._parallel(str(big_input))
    parallel = tmp_path / "parallel.db"
    r2 = cli("--db", str(parallel), "--no-seed", "import", str(big_input))
    assert (r1.code, r2.code) == (0, 0)
    assert r1.err.replace(str(serial), "") == r2.err.replace(str(parallel), "")
    assert "2 rejected" in r2.err
    assert snapshot(serial) == snapshot(parallel)


def test_parallel_reader_error_rolls_back_the_file(cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    good = [json.dumps({"title": f"Item {i}", "date": "2021"}) for i in range(2500)]
    path = tmp_path / "broken.json"
    path.write_text("[\n" + ",\n".join(good) + ",\n{broken}\n]\n", "utf-8")
    assert cli("--no-seed", "db", "init").code == 0
    r = cli("import", str(path))
    assert r.code == 1
    assert r.err == (
        f"Error: {path}:2502:2: invalid JSON: Expecting property name enclosed in double "
        "quotes; nothing from this file was imported\n"
    )
    assert json.loads(cli("list", "--json").out) == []


def test_small_files_and_stdin_stay_in_process(tmp_path):
    small = tmp_path / "s.jsonl"
    small.write_text('{"title": "x"}\n')
    assert not ingest._parallel(str(small))
    assert not ingest._parallel("-")
    assert not ingest._parallel(str(tmp_path))


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
    reason="the parallel reader runs only on Linux with two or more cores",
)
def test_a_killed_import_leaves_no_worker_behind(tmp_path):
    """kill -9 of an import whose worker is blocked on a full pipe: the worker ends too."""
    big = tmp_path / "big.jsonl"
    line = json.dumps({"title": "Worker {}", "date": "2021", "excerpt": "x" * 400})
    big.write_text("".join(line.replace("{}", str(i)) + "\n" for i in range(12_000)), "utf-8")
    assert ingest._parallel(str(big))
    proc = subprocess.Popen(
        [sys.executable, "-m", "irarchive", "--db", str(tmp_path / "a.db"), "--no-seed"]
        + ["import", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.005)
        assert workers, "the import never started its reader process"
        # The writer stops reading: the worker fills the pipe and blocks in send().
        os.kill(proc.pid, signal.SIGSTOP)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # It ends at once; the margin is for a machine too busy to schedule it.
        deadline = time.monotonic() + 30
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [w for w in workers if _alive(w)] == [], "the reader outlived the killed import"
    finally:
        for pid in [proc.pid, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # never leave one behind, even when failing
        proc.wait(timeout=30)
