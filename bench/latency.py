"""Search latency on the committed query set (``bench/queries.py``), in-process and whole-process.

Usage::

    python bench/latency.py --db GEN.db [--real-db REAL.db] [--runs 5] [--out docs/benchmarks.md]

For each archive: every query of the set (plain and with each filter) runs once to
warm caches, then ``--runs`` times in one process through
``irarchive.search.search(limit=20)``; the query's latency is the median of its
runs. The table gives p50 / p99 / max of those per class and overall, against the
targets p50 <= 10 ms, p99 <= 50 ms, max <= 100 ms. Whole-process: median of
``--process-runs`` runs of ``irarchive --db DB search Q [filter] --json`` against
``irarchive --db DB list --limit 20 --json`` (target <= 1.6x for every query).
The report goes between the ``bench:latency`` markers of ``--out``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "src"))

from queries import FILTERS, QUERIES  # noqa: E402

START = "<!-- bench:latency:start -->"
END = "<!-- bench:latency:end -->"
TARGETS = {"p50": 10.0, "p99": 50.0, "max": 100.0}
PROCESS_RATIO = 1.6


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def filters_for(args: tuple[str, ...]):
    from datetime import date

    from irarchive.dates import resolve_filters
    from irarchive.store import Filters

    opts = dict(zip(args[::2], args[1::2], strict=True))
    period = resolve_filters(opts.get("--since"), None, opts.get("--on"), today=date(2026, 11, 27))
    cats = (opts["--category"],) if "--category" in opts else ()
    return Filters(period=period, categories=cats)


def in_process(db: str, runs: int) -> list[tuple[str, str, str, float, int]]:
    """(class, query, filter, median ms, hits) for every query of the set."""
    from irarchive.search import search
    from irarchive.store import open_archive

    archive = open_archive(db, create=False)
    out = []
    for cls, query in QUERIES:
        for fname, fargs in FILTERS:
            filters = filters_for(fargs)
            hits = len(search(archive, query, filters=filters, limit=20).hits)  # warm-up
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                search(archive, query, filters=filters, limit=20)
                times.append((time.perf_counter() - start) * 1000)
            out.append((cls, query, fname, statistics.median(times), hits))
    archive.close()
    return out


def run_process(argv: list[str], runs: int) -> float:
    times = []
    env = {**os.environ, "COLUMNS": "120"}
    # As after `pip install` (bytecode compiled): PYTHONDONTWRITEBYTECODE would
    # otherwise recompile an editable install on every run (as bench/run.py does).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True
        )
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def whole_process(db: str, runs: int) -> tuple[float, list[tuple[str, str, str, float]]]:
    exe = str(Path(sys.executable).with_name("irarchive"))
    base = run_process([exe, "--db", db, "list", "--limit", "20", "--json"], runs)
    rows = []
    for cls, query in QUERIES:
        for fname, fargs in FILTERS:
            ms = run_process([exe, "--db", db, "search", query, *fargs, "--json"], runs)
            rows.append((cls, query, fname, ms))
    return base, rows


def table(name: str, rows, procs) -> list[str]:
    by_class: dict[str, list[float]] = defaultdict(list)
    for cls, _q, _f, ms, _n in rows:
        by_class[cls].append(ms)
    proc_by_class: dict[str, list[float]] = defaultdict(list)
    base = None
    if procs:
        base, prow = procs
        for cls, _q, _f, ms in prow:
            proc_by_class[cls].append(ms / base)
    head = "| class | queries | p50 ms | p99 ms | max ms |"
    sep = "|---|---:|---:|---:|---:|"
    if procs:
        head += " worst whole-process ratio |"
        sep += "---:|"
    lines = [f"#### {name}", "", head, sep]
    every = [ms for _c, _q, _f, ms, _n in rows]
    for cls in [*dict.fromkeys(c for c, *_ in rows), "all"]:
        vals = every if cls == "all" else by_class[cls]
        label = "**all**" if cls == "all" else cls
        cells = [f"{percentile(vals, 50):.1f}", f"{percentile(vals, 99):.1f}", f"{max(vals):.1f}"]
        line = f"| {label} | {len(vals)} | " + " | ".join(cells) + " |"
        if procs:
            ratios = (
                [r for v in proc_by_class.values() for r in v]
                if cls == "all"
                else (proc_by_class[cls])
            )
            line += f" {max(ratios):.2f}× |"
        lines.append(line)
    verdicts = []
    for key, limit in TARGETS.items():
        got = percentile(every, 50 if key == "p50" else 99) if key != "max" else max(every)
        verdicts.append(f"{key} {got:.1f} ms (≤ {limit:g}: {'PASS' if got <= limit else 'FAIL'})")
    lines += ["", "In-process: " + "; ".join(verdicts) + "."]
    if procs:
        worst = max(prow, key=lambda r: r[3])
        ratio = worst[3] / base
        lines.append(
            f"Whole process: `list --limit 20 --json` {base:.0f} ms; slowest search "
            f"`{worst[1]}` {worst[2]} {worst[3]:.0f} ms = {ratio:.2f}× "
            f"(≤ {PROCESS_RATIO}: {'PASS' if ratio <= PROCESS_RATIO else 'FAIL'})."
        )
    slow = sorted(rows, key=lambda r: -r[3])[:5]
    lines.append(
        "Slowest in-process: "
        + "; ".join(f"`{q}` {f or 'plain'} {ms:.1f} ms" for _c, q, f, ms, _n in slow)
        + "."
    )
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="the generated archive (1M articles)")
    ap.add_argument("--real-db", help="the real headlines archive")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--process-runs", type=int, default=3)
    ap.add_argument("--no-process", action="store_true", help="skip whole-process timing")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    parts = [
        "## Search latency",
        "",
        f"{len(QUERIES) * len(FILTERS)} queries ({len(QUERIES)} in "
        f"{len(dict.fromkeys(c for c, _ in QUERIES))} classes, each plain and with "
        + ", ".join(f"`{' '.join(a)}`" for _, a in FILTERS if a)
        + ") from `bench/queries.py`; median of "
        f"{args.runs} in-process runs per query after a warm-up, `limit=20`.",
        "",
    ]
    for name, db in (("generated", args.db), ("real headlines", args.real_db)):
        if not db:
            continue
        from irarchive.store import open_archive

        a = open_archive(db, create=False)
        n = a.count()
        a.close()
        print(f"{name}: in-process", file=sys.stderr)
        rows = in_process(db, args.runs)
        procs = None if args.no_process else whole_process(db, args.process_runs)
        parts += table(f"{name} ({n:,} articles)", rows, procs)
    end = os.getloadavg()[0]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts += [
        f"Run {now}; load average (1 min) {load:.2f} at start, {end:.2f} at end, on "
        f"{os.cpu_count()} CPUs shared with other work: a load above the CPU count "
        "inflates every number.",
        "",
        "Command: `python bench/latency.py " + shlex.join(argv or sys.argv[1:]) + "`",
        "",
    ]
    body = "\n".join(parts)
    print(body)
    if args.out:
        text = args.out.read_text("utf-8") if args.out.exists() else "# Benchmarks\n"
        block = f"{START}\n{body}{END}"
        if START in text and END in text:
            head, rest = text.split(START, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        args.out.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
