"""Faults: kill -9 mid-import, a full disk, concurrent importers and readers, Ctrl-C.

The loops have a fast setting for CI and a longer one for a local soak run:
``IRARCHIVE_SLOW=1 pytest tests/test_faults.py``. Each test prints what it did
(``-s`` shows it); docs/reliability.md records the figures of real runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from irarchive.errors import ArchiveError
from irarchive.sources import read as read_items
from irarchive.store import open_archive
from tests.conftest import archive_template, checkpoint, copy_of, run_cli, run_proc

SLOW = os.environ.get("IRARCHIVE_SLOW") == "1"
KILL_ROUNDS = 100 if SLOW else 30
#: The rounds are dealt to this many tests, so parallel workers (-n) share them.
KILL_PARTS = 3
#: The killed import's file. 4,000 records take a third of the time 12,000 did, and the
#: kill times scale with the measured full run, so they still spread over start-up,
#: reading, writing and commit. Files this small are normally read in-process, so the
#: killed imports force the reader process that big files get (``WORKER_ALWAYS``).
BIG_RECORDS = 40_000 if SLOW else 4_000
#: The Ctrl-C import must still be running up to 0.4 s after the archive opens.
SIGINT_RECORDS = 40_000 if SLOW else 12_000
#: Import processes each of the two concurrent importers runs (two new files each), while
#: four readers keep reading until both are done. A count, not a time: a slower machine
#: does the same work (it ran for 5 s before: 12 rounds on this 2-CPU machine).
CONCURRENT_ROUNDS = 40 if SLOW else 3
SIGINT_ROUNDS = 10 if SLOW else 3
SEED = int(os.environ.get("IRARCHIVE_FAULT_SEED", "20221101"))

# Every column but added_at (the import's own timestamp differs from run to run).
CONTENT = (
    "id, slug, title, date, date_start, date_end, excerpt, truncated, category, url, source, extra"
)


#: ``python -m irarchive`` with every import file read by a worker process, as a file of
#: ``ingest.PARALLEL_MIN_BYTES`` or more is: a kill -9 then also ends a reader mid-send.
WORKER_ALWAYS = [
    sys.executable,
    "-c",
    "import runpy, irarchive.ingest as ingest; ingest.PARALLEL_MIN_BYTES = 0; "
    "runpy.run_module('irarchive', run_name='__main__', alter_sys=True)",
]


def digest(db: Path) -> tuple[int, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(f"SELECT {CONTENT} FROM articles ORDER BY id").fetchall()
    finally:
        conn.close()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def write_records(path: Path, n: int, tag: str, *, per_line: bool = True) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            rec = {
                "title": f"{tag} record {i} on regional security and trade",
                "date": f"20{10 + i % 12}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "excerpt": "Central Asia energy corridor and water diplomacy " * 4,
                "category": tag,
                "url": f"https://example.invalid/{tag}/{i}",
                "serial": i,
            }
            f.write(json.dumps(rec) + "\n")


@pytest.fixture(scope="session")
def base_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded archive with a previous import in it: the 'previous content'."""
    folder = tmp_path_factory.mktemp("faults")
    write_records(folder / "previous.jsonl", 500, "Previous")
    return archive_template(folder, "import", str(folder / "previous.jsonl"))


@pytest.fixture
def base(base_template: Path, tmp_path: Path) -> Path:
    """A copy of the base archive for one test."""
    return copy_of(base_template, tmp_path / "base.db")


def assert_healthy(db: Path) -> None:
    r = run_cli("--db", str(db), "db", "check")
    assert (r.code, r.err) == (0, ""), r
    assert r.out == f"ok: {digest(db)[0]} articles, index consistent\n"


# ---- kill -9 during import -----------------------------------------------------------------


@pytest.fixture(scope="module")
def kill_input(base_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The big file, and the reference outcome: the same import run to completion
    (made once, not once per part). Returns (file, digest after, seconds it took)."""
    folder = tmp_path_factory.mktemp("kill")
    big = folder / "big.jsonl"
    write_records(big, BIG_RECORDS, "Big")
    ref = folder / "ref.db"
    shutil.copy(base_template, ref)
    started = time.monotonic()
    done = subprocess.run(
        [*WORKER_ALWAYS, "--db", str(ref), "import", str(big)], capture_output=True, text=True
    )
    full_time = time.monotonic() - started
    assert done.returncode == 0, done
    return big, digest(ref), full_time


def kill_import(work: Path, big: Path, delay: float, *, after_open: bool = False) -> None:
    """Import ``big`` into ``work`` in a real process and SIGKILL it ``delay`` seconds
    after it starts (``after_open``: after it has opened the archive)."""
    p = subprocess.Popen(
        [*WORKER_ALWAYS, "--db", str(work), "import", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if after_open:
            wal = Path(f"{work}-wal")
            while not wal.exists() and p.poll() is None:
                time.sleep(0.002)
        time.sleep(delay)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


@pytest.mark.slow
@pytest.mark.waits
@pytest.mark.parametrize("part", range(KILL_PARTS))
def test_kill_9_during_import_loses_nothing(tmp_path, base, kill_input, part):
    big, after, full_time = kill_input
    before = digest(base)
    assert after[0] == before[0] + BIG_RECORDS

    outcomes = {"previous": 0, "previous+file": 0}
    loop_started = time.monotonic()
    rounds = range(part, KILL_ROUNDS, KILL_PARTS)  # every round runs in exactly one part
    for round_ in rounds:
        rng = random.Random(SEED + round_)  # a round's kill time does not depend on the split
        work = tmp_path / f"kill{round_}.db"
        shutil.copy(base, work)
        if round_ % 2:
            # Once the archive is open (main() is running): reading, writing, committing.
            kill_import(work, big, rng.uniform(0.0, full_time * 0.9), after_open=True)
        else:
            # Anywhere from start-up to just past the end of a normal run.
            kill_import(work, big, rng.uniform(0.0, full_time * 1.4))
        state = digest(work)  # it opens (and recovers from the hot WAL) ...
        assert state in (before, after), f"round {round_}: partial import {state[0]} rows"
        outcomes["previous" if state == before else "previous+file"] += 1
        assert_healthy(work)  # ... and passes db check
        assert digest(work) == state  # recovery by irarchive itself agrees
        for leftover in tmp_path.glob(f"kill{round_}.db*"):
            leftover.unlink()
    elapsed = time.monotonic() - loop_started
    print(
        f"\nkill -9: {len(rounds)} rounds in {elapsed:.1f}s (full import {full_time:.2f}s, "
        f"{BIG_RECORDS} records): {outcomes}, records lost: 0"
    )


@pytest.mark.slow
@pytest.mark.waits
def test_kill_9_during_a_bulk_load_into_an_empty_archive_loses_nothing(tmp_path, kill_input):
    """The bulk path (an empty archive) drops its indexes and triggers and builds them
    again before it commits: a kill anywhere leaves the empty archive, whole, or the
    file's articles, whole, and ``db check`` finds every index and trigger in place."""
    big, _after, full_time = kill_input
    empty = tmp_path / "empty.db"
    assert run_cli("--db", str(empty), "--no-seed", "db", "init").code == 0
    checkpoint(empty)
    loaded = tmp_path / "loaded.db"
    shutil.copy(empty, loaded)
    assert run_proc("--db", str(loaded), "import", str(big)).code == 0
    before, after = digest(empty), digest(loaded)
    assert (before[0], after[0]) == (0, BIG_RECORDS)
    outcomes = {"empty": 0, "file": 0}
    rounds = 10 if SLOW else 4
    for round_ in range(rounds):
        rng = random.Random(SEED + 1000 + round_)
        work = tmp_path / f"bulk{round_}.db"
        shutil.copy(empty, work)
        kill_import(work, big, rng.uniform(0.0, full_time * 1.2))
        state = digest(work)
        assert state in (before, after), f"round {round_}: partial import {state[0]} rows"
        outcomes["empty" if state == before else "file"] += 1
        r = run_cli("--db", str(work), "db", "check")
        assert (r.code, r.err) == (0, ""), r
    print(f"\nkill -9 of a bulk load: {rounds} rounds: {outcomes}")


# ---- disk full -----------------------------------------------------------------------------


def test_disk_full_during_import_in_process(tmp_path, base):
    """SQLite's max_page_count caps the file: the import must fail cleanly and roll back."""
    big = tmp_path / "big.jsonl"
    write_records(big, 3_000, "Full")
    before = digest(base)
    archive = open_archive(str(base))
    try:
        pages = archive.conn.execute("PRAGMA page_count").fetchone()[0]
        archive.conn.execute(f"PRAGMA max_page_count = {pages + 20}")
        with pytest.raises(ArchiveError) as raised:
            archive.import_items(read_items(str(big)))
        assert str(raised.value) == (
            f"the disk is full while writing {base}; the archive was not changed"
        )
        assert not archive.conn.in_transaction
        assert archive.check() == []
    finally:
        archive.close()
    assert digest(base) == before


def test_disk_full_through_the_cli(tmp_path, base, cli, monkeypatch):
    big = tmp_path / "big.jsonl"
    write_records(big, 3_000, "Full")
    before = digest(base)
    from irarchive.store import opening

    real_connect = opening._connect

    def tiny_disk(path: str, **kw):
        conn = real_connect(path, **kw)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 20}")
        return conn

    monkeypatch.setattr(opening, "_connect", tiny_disk)
    r = cli("--db", str(base), "import", str(big))
    assert (r.code, r.out) == (1, "")
    assert r.err == f"Error: the disk is full while writing {base}; the archive was not changed\n"
    monkeypatch.undo()
    assert digest(base) == before
    assert_healthy(base)


# ---- concurrency ---------------------------------------------------------------------------


@pytest.mark.slow
def test_two_importers_and_four_readers(tmp_path, base):
    """Separate processes; readers must never see a half-imported file or a lock error."""
    per_file = 200
    start_count = digest(base)[0]
    importers_done = threading.Event()
    problems: list[str] = []
    stats = {"imports": 0, "files": 0, "reads": 0, "counts": set()}
    lock = threading.Lock()

    def importer(w: int) -> None:
        # One process per round, two new files each, then one more round re-imports
        # the first files (all unchanged).
        k = 0
        for _round in range(CONCURRENT_ROUNDS):
            batch = []
            for _ in range(2):
                f = tmp_path / f"w{w}-{k}.jsonl"
                write_records(f, per_file, f"W{w}F{k}")
                batch.append(str(f))
                k += 1
            r = run_proc("--db", str(base), "import", *batch)
            with lock:
                stats["imports"] += 1
                stats["files"] += len(batch)
                summary = "".join(
                    f"{f}: {per_file} added, 0 updated, 0 unchanged, 0 rejected\n" for f in batch
                )
                if (r.code, r.err) != (0, summary):  # not locked out, no traceback
                    problems.append(f"importer {w}: {r.code} {r.err[-300:]}")
                    return
        r = run_proc("--db", str(base), "import", str(tmp_path / f"w{w}-0.jsonl"))
        if r.code != 0 or "0 added, 0 updated, 200 unchanged" not in r.err:
            with lock:
                problems.append(f"re-import {w}: {r.code} {r.err[-300:]}")

    def reader(kind: int) -> None:
        commands = [
            ["list", "--format", "json", "--limit", "0", "--fields", "id"],
            ["search", "--format", "json", "--limit", "0", "regional security"],
            ["db", "info", "--json"],
            ["list", "--format", "tsv", "--category", "W0F1", "--limit", "0"],
        ]
        turn = kind
        while not importers_done.is_set():
            args = commands[turn % len(commands)]
            r = run_proc("--db", str(base), *args)
            with lock:
                stats["reads"] += 1
                # search -n 0 may add its one documented line on how many more exist.
                note = args[0] == "search" and r.err.endswith("narrow the query or the dates\n")
                if r.code != 0 or (r.err and not (note and r.err.count("\n") == 1)):
                    # locked out, a traceback, or any other message
                    problems.append(f"reader {kind}: {r.code} {r.err[-300:]}")
                    return
                if turn % len(commands) == 0:
                    n = len(json.loads(r.out))
                    stats["counts"].add(n)
                    # Whole files only: a reader never sees part of a file's records.
                    if (n - start_count) % per_file:
                        problems.append(f"reader saw {n} articles: part of a file")
                elif turn % len(commands) == 3:
                    n = len([x for x in r.out.splitlines() if x])
                    if n not in (0, per_file):
                        problems.append(f"reader saw {n} of file W0F1's {per_file} records")
            turn += 1

    threads = [threading.Thread(target=importer, args=(w,)) for w in (0, 1)]
    threads += [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads[:2]:
        t.join(timeout=600)
    importers_done.set()
    for t in threads[2:]:
        t.join(timeout=300)
    elapsed = time.monotonic() - started
    assert problems == []
    assert stats["imports"] == 2 * CONCURRENT_ROUNDS
    assert stats["reads"] >= 4  # the readers did read while the imports ran
    assert digest(base)[0] == start_count + stats["files"] * per_file
    assert_healthy(base)
    print(
        f"\nconcurrency: 2 importers + 4 readers for {elapsed:.1f}s: {stats['imports'] + 2} "
        f"import processes ({stats['files']} files, {stats['files'] * per_file} records), "
        f"{stats['reads']} reader processes, {len(stats['counts'])} distinct counts seen, "
        "records lost: 0"
    )


def test_readers_and_an_importer_in_one_process_use_the_busy_timeout(tmp_path, base):
    """A second writer waits for the first instead of failing with 'database is locked'."""
    a = open_archive(str(base))
    f1, f2 = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    write_records(f1, 300, "One")
    write_records(f2, 300, "Two")
    results: list[object] = []

    def second() -> None:
        b = open_archive(str(base))
        try:
            results.append(b.import_items(read_items(str(f2))).added)
        except Exception as exc:  # noqa: BLE001 - reported through the assertion below
            results.append(exc)
        finally:
            b.close()

    try:
        a.conn.execute("BEGIN IMMEDIATE")
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.5)  # b is now waiting on the write lock
        assert results == []
        a.conn.execute("COMMIT")
        t.join(timeout=60)
        assert a.import_items(read_items(str(f1))).added == 300
        assert results == [300]
    finally:
        a.close()


# ---- Ctrl-C --------------------------------------------------------------------------------


# ``python -m irarchive`` with Ctrl-C restored: a process started with SIGINT ignored
# (nohup, a background job) would otherwise pass that on and never be interrupted.
INTERRUPTIBLE = [
    sys.executable,
    "-c",
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('irarchive', run_name='__main__', alter_sys=True)",
]


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > end:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.01)


def _default_sigint() -> None:
    """In the child: Ctrl-C does what it does at a terminal, even when the suite runs
    with SIGINT ignored (nohup, a background job), which the child would inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_during_import(tmp_path, base):
    big = tmp_path / "big.jsonl"
    write_records(big, SIGINT_RECORDS, "Sigint")
    before = digest(base)
    rng = random.Random(SEED + 1)
    codes = []
    for round_ in range(SIGINT_ROUNDS):
        work = tmp_path / f"int{round_}.db"
        shutil.copy(base, work)
        p = subprocess.Popen(
            [*INTERRUPTIBLE, "--db", str(work), "import", str(big)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        try:
            _wait_for(Path(f"{work}-wal"))  # the archive is open: main() is running
            time.sleep(rng.uniform(0.05, 0.4))
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=120)
        finally:
            p.kill()  # a no-op once it has ended; never leave it running
            p.wait()
        codes.append(p.returncode)
        assert (p.returncode, out, err) == (130, "", "Interrupted\n")  # no traceback
        assert digest(work) == before  # the file's transaction was rolled back
        assert_healthy(work)
    print(f"\nctrl-c during import: {SIGINT_ROUNDS} rounds, exit codes {codes}, records lost: 0")


def test_ctrl_c_during_a_long_listing(tmp_path, base, cli):
    big = tmp_path / "big.jsonl"
    write_records(big, 5_000, "Listing")
    assert cli("--db", str(base), "import", str(big)).code == 0
    before = digest(base)
    p = subprocess.Popen(
        [*INTERRUPTIBLE, "--db", str(base), "list", "--format", "jsonl", "--limit", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )
    try:
        # Nobody reads stdout yet: once the pipe is full the listing is stuck mid-write.
        assert p.stdout is not None
        first = p.stdout.read(100)
        assert first.startswith(b'{"id": "')
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        out, err_b = p.communicate(timeout=60)
    finally:
        p.kill()  # a no-op once it has ended; never leave it running
        p.wait()
    assert (p.returncode, err_b) == (130, b"Interrupted\n")  # no traceback
    assert out.count(b"\n") < 5_510
    assert digest(base) == before
    assert_healthy(base)
