"""Import matching at scale: a fresh import, a re-import, and new records into a big archive.

Usage::

    python bench/matching.py BIG.jsonl --new NEW.jsonl [--reimport N] [--db PATH]

Times (wall clock, one run each, in a subprocess of ``python -m irarchive``):
a fresh import of BIG.jsonl into an empty archive, a re-import of its first N
records (all unchanged), and an import of NEW.jsonl (records the archive does not
have, so every one goes through url and title+date matching). Prints one markdown
table row per step and the archive's size, with the bytes the url index takes
(from SQLite's dbstat) when there is one. Run it with the code to measure on
PYTHONPATH; it is used for docs/benchmarks.md's "Import matching" section.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(db: Path, *args: str) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of one irarchive run, and its stderr.

    CPU time is reported because the machine may be shared: it moves far less with
    the load than the wall clock does.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "irarchive", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"irarchive {' '.join(args)} failed: {proc.stderr}")
    return elapsed, cpu, proc.stderr.strip()


def index_bytes(db: Path, name: str) -> int | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (name,)).fetchone()
        return row[0]
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("big", type=Path)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--reimport", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="irarchive-matching-"))
    try:
        measure(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(args: argparse.Namespace, folder: Path) -> None:
    db = args.db or folder / "big.db"
    part = folder / "part.jsonl"
    with args.big.open(encoding="utf-8") as src, part.open("w", encoding="utf-8") as out:
        out.writelines(itertools.islice(src, args.reimport))
    run(db, "--no-seed", "db", "init")
    print("| step | wall s | CPU s | result |")
    print("|---|---:|---:|---|")
    for label, path in (
        ("fresh import", args.big),
        (f"re-import of {args.reimport:,}", part),
        ("new records into it", args.new),
    ):
        seconds, cpu, said = run(db, "import", str(path))
        result = said.splitlines()[-1].split(": ", 1)[-1]
        print(f"| {label} | {seconds:.1f} | {cpu:.1f} | {result} |", flush=True)
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    url_index = index_bytes(db, "articles_url")
    said = "none" if url_index is None else f"{url_index:,} bytes"
    print(f"\narchive: {size:,} bytes; url index: {said}")


if __name__ == "__main__":
    main()
