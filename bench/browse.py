"""Keystroke latency, first paint and scrolling of ``irarchive browse`` on a big archive.

- First paint: ``irarchive browse`` started in a pseudo-terminal (100x30); time from
  starting the process to the first frame showing result rows, and to the first
  frame at all. Whole processes, ``--runs`` times.
- Keystrokes: the app in-process under Textual's headless driver (everything is laid
  out and rendered; only the write to a terminal is skipped). Each query is typed
  letter by letter, one key every ``--key-interval`` ms, as a fast typist would; a
  keystroke's latency is the time from the key to the first screen update showing
  results for that text or a later one (a newer keystroke supersedes a stale search).
  Once without a filter, once with ``--since``; reported overall and per class of
  query (one word, several words, typos), with the CPU time of each search and each
  count on the db thread and of the UI thread per keystroke (CPU time does not
  depend on the neighbours on a shared machine; wall time does). Each searched
  keystroke is also broken down: key to request sent (Textual's message and worker
  start), the search (request to answer, and its CPU in the search process), the
  hand-over (answer to the UI thread taking it), and the paint (results taken to on
  screen); and the frames Textual drew while typing, their time and how much of the
  screen each repainted.
- Scrolling: PgDn through the newest-first listing until the cursor is past row
  10,000; per key, the time from the key to the end of the frame that drew the row
  under the cursor loaded (the key goes to the app as Pilot sends it, without
  Pilot's waits for the process to be idle, which cost 40-60 ms a press), then a
  pause of ``--scroll-interval`` ms before the next key.
- Python's cyclic garbage collector in the browser's process (``gc.callbacks``): how
  many collections of each generation ran while typing and scrolling, their CPU
  time, and how many started between a key and its results on screen.

Writes a Markdown section between ``bench:browse`` markers of ``--out`` (or prints it).
Usage: python bench/browse.py --db bench/out/big.db --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import pty
import re
import select
import signal
import statistics
import struct
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

START = "<!-- bench:browse:start -->"
END = "<!-- bench:browse:end -->"

# (query, class): typed letter by letter; the class says what kind of query it becomes.
TYPED = [
    ("w", "one word"),
    ("war", "one word"),
    ("s", "one word"),
    ("sco", "one word"),
    ("shanghai cooperation", "several words"),
    ("shangai cooperaton", "typos"),
    ("samarkand summit", "several words"),
    ("iran nuclear deal", "several words"),
    ("iranian nucler dael", "typos"),
    ("nuclear", "one word"),
    ("energy security", "several words"),
    ("caspian gas pipeline", "several words"),
    ("turkmenistan russia gas", "several words"),
    ("tajik", "one word"),
    ("kazakh renewable", "several words"),
    ("belt and road", "several words"),
    ("turkiye turkic", "several words"),
    ("chisinau", "one word"),
    ("trans-caspian", "one word"),
    ("ceasefire", "one word"),
    ("uranium", "one word"),
    ("copper", "one word"),
    ("kazakstan electon", "typos"),
    ("uzbekstan", "typos"),
]
QUERIES = [q for q, _ in TYPED]
CLASSES = ["one word", "several words", "typos"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# ---- first paint ------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_paint(db: Path, runs: int) -> tuple[list[float], list[float]]:
    frames, rows = [], []
    for _ in range(runs):
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(
                sys.executable, [sys.executable, "-m", "irarchive", "--db", str(db), "browse"]
            )
        fcntl_winsize(fd)
        start = time.perf_counter()
        seen = b""
        first_frame = first_rows = None
        try:
            while first_rows is None and time.perf_counter() - start < 30:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                seen += os.read(fd, 65536)
                now = time.perf_counter()
                # Text only: styles split words ("S" under the cursor, then "earch").
                plain = _ESCAPES.sub(b"", seen)
                if first_frame is None and b"Search" in plain:
                    first_frame = now - start
                if b"archive: " in plain or b" articles" in plain:
                    first_rows = now - start
                    cpu.append(cpu_seconds(pid))
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)
        frames.append(first_frame or float("nan"))
        rows.append(first_rows or float("nan"))
    return frames, rows


PROCESS = True  # searches in the search process (``--thread``: on a thread of the app)
cpu: list[float] = []  # CPU seconds of each browse process at its first paint
_ESCAPES = re.compile(rb"\x1b\[[0-9;?$>]*[A-Za-z]|\x1b\][^\x07]*\x07")


def fcntl_winsize(fd: int) -> None:
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))


# ---- keystrokes and scrolling -----------------------------------------------------------


class Probe:
    """Timestamps of each keystroke's way to the screen, and the frames drawn.

    Wraps the app's ``start_query``, reader and ``show_results`` (instance attributes),
    the screen's frame (its update timer's callback: layout if needed, then the repaint
    of the dirty regions) and ``Compositor.render_update`` (how much is repainted), so
    nothing in the app is written for the benchmark.
    """

    def __init__(self, app) -> None:
        from textual._compositor import Compositor

        self.app = app
        self.steps: dict[int, dict[str, float]] = {}
        self.frames: list[tuple[float, float, float]] = []  # (start, seconds, share repainted)
        self.recording = False
        query, show = app.reader.query, app.show_results

        def timed_query(text, filters, generation, *args):
            asked = time.perf_counter()
            try:
                return query(text, filters, generation, *args)
            finally:
                step = self.steps.setdefault(generation, {})
                step["asked"], step["answered"] = asked, time.perf_counter()

        def timed_show(found):
            step = self.steps.setdefault(found.generation, {})
            step.setdefault("taken", time.perf_counter())
            try:
                return show(found)
            finally:
                step.setdefault("handled", time.perf_counter())

        app.reader.query, app.show_results = timed_query, timed_show
        # The screen's frame timer holds its bound method: swap the timer's callback.
        screen = app.screen
        timer = screen._update_timer
        on_timer_update, render_update = timer._callback, Compositor.render_update
        self._restore = lambda: (
            setattr(timer, "_callback", on_timer_update),
            setattr(Compositor, "render_update", render_update),
        )
        probe = self
        self._share = 0.0

        def frame() -> None:
            if not probe.recording:
                return on_timer_update()
            probe._share = -1.0
            started = time.perf_counter()
            on_timer_update()
            if probe._share >= 0:  # something was drawn (not only timers run)
                probe.frames.append((started, time.perf_counter() - started, probe._share))

        def update(compositor, full=False, screen_stack=None, simplify=False):
            region = compositor.size.region
            if full or region in compositor._dirty_regions:
                probe._share = 1.0
            else:
                dirty = sum(r.area for r in compositor._dirty_regions)
                probe._share = min(1.0, dirty / (region.area or 1))
            return render_update(compositor, full, screen_stack, simplify)

        timer._callback, Compositor.render_update = frame, update

        start_query = app.start_query

        def timed_start() -> None:
            start_query()
            self.steps.setdefault(app.generation, {})["typed"] = app._typed[app.generation][1]

        app.start_query = timed_start

    def close(self) -> None:
        self._restore()


class GcLog:
    """Each collection of the cyclic garbage collector while ``recording``: (start,
    generation, CPU seconds of the thread that ran it, objects collected)."""

    def __init__(self) -> None:
        import gc

        self.collections: list[tuple[float, int, float, int]] = []
        self.recording = False
        self._started = (0.0, 0.0)
        self._gc = gc
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if not self.recording:
            return
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
        else:
            start, cpu = self._started
            took = time.thread_time() - cpu
            self.collections.append((start, info["generation"], took, info["collected"]))

    def close(self) -> None:
        self._gc.callbacks.remove(self._callback)

    def summary(self, windows: list[tuple[float, float]] = ()) -> dict:
        out: dict = {}
        for gen in (0, 1, 2):
            took = [c[2] for c in self.collections if c[1] == gen]
            inside = sum(
                1
                for c in self.collections
                if c[1] == gen and any(a <= c[0] <= b for a, b in windows)
            )
            out[gen] = (len(took), sum(took), max(took, default=0.0), inside)
        return out


async def typing(db: Path, dates: str, interval: float) -> dict:
    """Type every query; per keystroke its latency, class and whether it was searched."""
    from irarchive.dates import resolve_filters
    from irarchive.store import Filters
    from irarchive.tui.app import BrowseApp

    period = resolve_filters(dates, None, None, today=date.today()) if dates else None
    app = BrowseApp(
        str(db), filters=Filters(period=period), dates_text=dates, search_process=PROCESS
    )
    keys: list[tuple[str, str, float]] = []  # (class, text, seconds)
    shown: dict[int, float] = {}  # generation -> when its results were on screen
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        probe = Probe(app)
        shown_at = app._shown

        def record_shown(generation: int, *args) -> None:
            # Stamped first: the garbage collection held back until the results are on
            # screen runs inside ``_shown`` (see tui/collector), after their frame.
            now = time.perf_counter()
            shown_at(generation, *args)
            if generation not in app._typed:  # done waiting: its results were drawn
                shown.setdefault(generation, now)

        app._shown = record_shown
        app.latencies.clear()
        first_gen = app.generation + 1
        measured: set[int] = set()
        ui_started = time.thread_time()
        probe.recording = True
        collector = GcLog()
        collector.recording = True
        try:
            for query in QUERIES:
                kind = dict(TYPED)[query]
                for ch in query:
                    await pilot.press("space" if ch == " " else ch)
                    measured.add(app.generation)
                    await asyncio.sleep(interval)
                await settle(app, pilot)
                keys += [(kind, text, t) for text, t in app.latencies]
                app.latencies.clear()
                probe.recording = collector.recording = False
                await pilot.press("ctrl+a", "ctrl+k")  # clear the box for the next query
                await settle(app, pilot)
                probe.recording = collector.recording = True
                app.latencies.clear()  # the cleared box is not a measured keystroke
        finally:
            probe.recording = collector.recording = False
            probe.close()
            collector.close()
        ui_cpu = time.thread_time() - ui_started
        typed = sum(len(q) for q in QUERIES)
        searched = [g for g in app.reader.query_cpu if g >= first_gen]
        steps = []
        for g in sorted(measured & set(app.reader.query_cpu)):
            step = probe.steps.get(g, {})
            if {"typed", "asked", "answered", "taken"} <= step.keys() and g in shown:
                steps.append(
                    {
                        "dispatch": step["asked"] - step["typed"],
                        "search_cpu": app.reader.query_cpu[g],
                        "search": step["answered"] - step["asked"],
                        "handover": step["taken"] - step["answered"],
                        "paint": shown[g] - step["taken"],
                        **frame_wait(probe.frames, step["handled"], shown[g]),
                        "handling": step["handled"] - step["taken"],
                    }
                )
        # Between a keystroke (its search started) and its results on screen.
        windows = [
            (probe.steps[g]["typed"], shown[g])
            for g in measured
            if "typed" in probe.steps.get(g, {}) and g in shown
        ]
        return {
            "gc": collector.summary(windows),
            "steps": steps,
            "frames": probe.frames,
            "keys": keys,
            "search_cpu": [app.reader.query_cpu[g] for g in searched],
            "count_cpu": [v for g, v in app.reader.count_cpu.items() if g >= first_gen],
            "ui_cpu_per_key": ui_cpu / typed,
            "typed": typed,
            # Keystrokes answered without a search: from the cache (a space, a text
            # seen before), or superseded by the next key before their search began.
            "searched": len(searched),
        }


def frame_wait(frames, handled: float, shown: float) -> dict[str, float]:
    """From the results handled to the frame that drew them, and that frame's time."""
    drawn = [f for f in frames if handled <= f[0] <= shown]
    if not drawn:
        return {}
    start, took, _ = drawn[-1]
    return {"to_frame": start - handled, "frame": took}


async def settle(app, pilot) -> None:
    process = app.reader.process
    while process is not None and not process.ready.is_set() and not process.gone.is_set():
        await asyncio.sleep(0.01)
    while app._typed:
        await asyncio.sleep(0.005)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def scrolling(db: Path, target: int, interval: float) -> dict:
    """PgDn until the cursor is past row ``target``: per key, key to the frame that drew
    the cursor's row loaded."""
    from textual import events

    from irarchive.tui.app import BrowseApp

    app = BrowseApp(str(db), search_process=PROCESS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        widgets = len(app.results.children)
        await pilot.press("tab")
        await settle(app, pilot)
        results = app.results
        timer = app.screen._update_timer
        on_timer_update, render_line = timer._callback, results.render_line
        drew_cursor = False
        drawn: list[float] = []  # ends of the frames that drew the cursor's row loaded

        def line(y: int):
            nonlocal drew_cursor
            if results.scroll_offset.y + y == results.cursor and results.current is not None:
                drew_cursor = True
            return render_line(y)

        def frame() -> None:
            nonlocal drew_cursor
            drew_cursor = False
            on_timer_update()
            if drew_cursor:
                drawn.append(time.perf_counter())

        timer._callback, results.render_line = frame, line
        collector = GcLog()
        times: list[float] = []
        windows: list[tuple[float, float]] = []
        collector.recording = True
        ui_started = time.thread_time()
        try:
            while results.cursor < target:
                before = len(drawn)
                t0 = time.perf_counter()
                key = events.Key("pagedown", None)
                key.set_sender(app)
                app._driver.send_message(key)
                while len(drawn) == before:
                    if time.perf_counter() - t0 > 120:
                        raise SystemExit("scrolling: a page never arrived")
                    await asyncio.sleep(0.0005)
                times.append(drawn[-1] - t0)
                windows.append((t0, drawn[-1]))
                await asyncio.sleep(interval)
        finally:
            ui_cpu = time.thread_time() - ui_started
            collector.recording = False
            collector.close()
            timer._callback = on_timer_update
            del results.render_line
        return {
            "times": times,
            "widgets": (widgets, len(results.children)),
            "ui_cpu_per_key": ui_cpu / max(len(times), 1),
            "gc": collector.summary(windows),
        }


# ---- report -------------------------------------------------------------------------------


def ms(x: float) -> str:
    return f"{x * 1000:.0f}"


def report(args, frames, rows, typed, scroll, db_count) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        "## Browse (`irarchive browse`)",
        "",
        f"Generated by `python bench/browse.py --db {args.db} --out docs/benchmarks.md` on {now}, "
        f"{db_count:,} generated articles (`bench/gen.py`), Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs shared with other jobs (load average {load:.1f} at the end"
        + (
            "; **the machine was busy: wall-clock times are inflated, the CPU rows are the "
            "steadier measure**). "
            if load > os.cpu_count() / 2
            else "). "
        )
        + "A keystroke searches for a screenful of rows (`irarchive.search`, `limit=` the "
        "list's height + 5), draws them, and only then counts the results (`search.count`, "
        "cancelled by the next key); texts searched a moment ago come from a cache. So a "
        "keystroke's number is the library's search for ~40 rows plus drawing, and "
        "waiting for a stale search to stop.",
        "",
        "| measure | target | median | p95 | max | n | met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def row(name, target, values, limit_p95=None, limit_max=None, limit_median=None):
        values = [v for v in values if v == v]  # a run that never showed it (nan) is left out
        if not values:
            lines.append(f"| {name} | {target} | – | – | – | 0 | |")
            return
        med, p95, top = statistics.median(values), percentile(values, 95), max(values)
        met = all(
            (
                limit_p95 is None or p95 <= limit_p95,
                limit_max is None or top <= limit_max,
                limit_median is None or med <= limit_median,
            )
        )
        lines.append(
            f"| {name} | {target} | {ms(med)} ms | {ms(p95)} ms | {ms(top)} ms | "
            f"{len(values)} | {('yes' if met else '**no**') if target else ''} |"
        )

    row("first frame (process start to search box)", "", frames)
    row("first paint with results", "≤ 600 ms", rows, limit_median=0.6)
    row("CPU time of the process at first paint", "", cpu)
    for label, run in typed:
        values = [t for _, _, t in run["keys"]]
        row(f"keystroke to results, {label}", "p95 ≤ 50 ms, max ≤ 150 ms", values, 0.05, 0.15)
        for kind in CLASSES:
            part = [t for k, _, t in run["keys"] if k == kind]
            row(f"… {kind}, {label}", "", part)
    for label, run in typed:
        row(f"CPU time of each search that ran, {label}", "", run["search_cpu"])
        row(f"CPU time of each count (after the paint), {label}", "", run["count_cpu"])
    times = scroll["times"]
    before, after = scroll["widgets"]
    row("PgDn to the loaded row drawn, to row 10,000", "", times)
    lines += [
        "",
        "Where a searched keystroke's time goes (the keystrokes above that ran a search and "
        "whose own results were drawn; wall clock unless it says CPU):",
        "",
        "| step | median | p95 | max | n |",
        "|---|---:|---:|---:|---:|",
    ]
    steps = [
        ("dispatch", "key to request sent (key event, `Input.Changed`, worker start)"),
        ("search", "search: request to answer"),
        ("search_cpu", "… of which CPU in the search process"),
        ("handover", "hand-over: answer to the UI thread taking it"),
        ("paint", "paint: results taken to on screen"),
        ("handling", "… of which `show_results` (list, preview, status line)"),
        ("to_frame", "… of which waiting for the frame that drew them"),
        ("frame", "… of which that frame (layout if any, repaint)"),
    ]
    for label, run in typed:
        for key, name in steps:
            values = [s[key] for s in run["steps"] if key in s]
            if values:
                lines.append(
                    f"| {name}, {label} | {ms(statistics.median(values))} ms | "
                    f"{ms(percentile(values, 95))} ms | {ms(max(values))} ms | {len(values)} |"
                )
    lines.append("")
    for label, run in typed:
        frames = run["frames"]
        if not frames:
            continue
        took = [f[1] for f in frames]
        shares = [f[2] for f in frames]
        full = sum(1 for x in shares if x >= 0.999)
        lines.append(
            f"Frames with {label}: {len(frames) / run['typed']:.1f} drawn per keystroke "
            f"({len(frames)} for {run['typed']} keys), each {ms(statistics.median(took))} ms "
            f"median / {ms(percentile(took, 95))} ms p95 on the UI thread (layout if any, "
            f"then the repaint), repainting {statistics.median(shares):.0%} of the screen "
            f"at the median; {full} were whole-screen repaints."
        )
    runs = [(f"typing, {label}", run) for label, run in typed]
    if times:
        runs.append(("scrolling", scroll))
    for label, run in runs:
        gc = run["gc"]
        said = ", ".join(
            f"gen {gen}: {n} ({ms(total)} ms CPU, max {ms(top)} ms, {inside} in a key's wait)"
            for gen, (n, total, top, inside) in gc.items()
        )
        lines.append(f"Garbage collections in the browser's process, {label}: {said}.")
    lines += [
        "",
        f"Typing: {len(QUERIES)} queries letter by letter, one key every "
        f"{args.key_interval:.0f} ms: " + ", ".join(f"`{q}`" for q in QUERIES) + ".",
        f"Scrolling: {len(times)} PgDn presses through the newest-first listing, "
        f"{args.scroll_interval:.0f} ms after each press was drawn; the result "
        f"list had {before} child widgets at the start and {after} at row 10,000 (it is "
        "virtual: only the visible rows are drawn, pages of 200 rows are loaded on demand). "
        "A page at row k is read with an SQL OFFSET, which SQLite steps through in the "
        "date index (m009); the UI thread used "
        f"{ms(scroll.get('ui_cpu_per_key', 0))} ms of CPU per press.",
        "CPU rows: the process's CPU time (first paint) and the db thread's CPU time per "
        "search are what an idle machine would take; the wall-clock rows include waiting for "
        "the CPU on this shared machine.",
    ]
    for label, run in typed:
        lines.append(
            f"With {label}: {run['searched']} of {run['typed']} keystrokes ran a search (the "
            "rest were answered from the cache of recent queries, e.g. a space, or were "
            "superseded by the next key before their search began); the UI thread used "
            f"{ms(run['ui_cpu_per_key'])} ms of CPU per keystroke (drawing, and the test "
            "driver's own key presses)."
        )
    slow = sorted(((t, q) for _, run in typed for _, q, t in run["keys"]), reverse=True)[:5]
    if slow:
        lines.append("Slowest keystrokes: " + ", ".join(f"`{q}` {ms(t)} ms" for t, q in slow) + ".")
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{START}\n{text}{END}"
    if START in old and END in old:
        head, _, rest = old.partition(START)
        _, _, tail = rest.partition(END)
        new = head + block + tail
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + block + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a big archive (bench/gen.py)")
    parser.add_argument("--runs", type=int, default=5, help="first-paint runs (default 5)")
    parser.add_argument("--key-interval", type=float, default=120, help="ms between keys")
    parser.add_argument("--since", default="2020", help="the date filter of the second pass")
    parser.add_argument("--scroll-to", type=int, default=10_000)
    parser.add_argument(
        "--scroll-interval", type=float, default=50, help="ms from a PgDn drawn to the next"
    )
    parser.add_argument("--out", type=Path, help="Markdown file to update between markers")
    parser.add_argument(
        "--typing-only",
        action="store_true",
        help="only the keystrokes (no first paint, no scrolling): for quick comparisons",
    )
    parser.add_argument(
        "--thread", action="store_true", help="search on a thread of the app, not in a process"
    )
    args = parser.parse_args(argv)
    from irarchive.tui import FRAMES_PER_SECOND

    # As ``irarchive browse`` asks Textual (read when it is first imported).
    os.environ.setdefault("TEXTUAL_FPS", str(FRAMES_PER_SECOND))
    global PROCESS
    PROCESS = not args.thread
    from irarchive.store import open_archive

    archive = open_archive(str(args.db), create=False, readonly=True)
    db_count = archive.count()
    archive.close()
    if args.typing_only and args.out:
        parser.error("--typing-only is for quick comparisons; --out needs the whole run")
    frames, rows = first_paint(args.db, 0 if args.typing_only else args.runs)
    print(f"first frame {frames}, first rows {rows}", file=sys.stderr, flush=True)
    typed = []
    for label, since in (("no filter", ""), (f"--since {args.since}", args.since)):
        run = asyncio.run(typing(args.db, since, args.key_interval / 1000))
        typed.append((label, run))
        values = [t for _, _, t in run["keys"]]
        p95, top = percentile(values, 95), max(values)
        print(f"{label}: p95 {p95:.3f} max {top:.3f}", file=sys.stderr, flush=True)
    scroll: dict = {"times": [], "widgets": (0, 0)}
    if not args.typing_only:
        scroll = asyncio.run(scrolling(args.db, args.scroll_to, args.scroll_interval / 1000))
    text = report(args, frames, rows, typed, scroll, db_count)
    if args.out:
        write_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
