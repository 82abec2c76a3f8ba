"""One-command performance harness for irarchive.

Usage::

    python bench/run.py --sizes 10,100000,1000000 [--runs 10] [--out docs/benchmarks.md]
                        [--irarchive PATH] [--no-real] [--peers-only]

For every size it generates an archive with ``bench/gen.py`` (size 10 means the bundled seed
archive made by ``irarchive db init``), imports it with ``irarchive import``, and times whole
processes: median wall-clock time over ``--runs`` runs after ``--warmup`` warm-up runs, and
peak RSS (``ru_maxrss`` of the child from ``os.wait4``). Peers are ``sqlite-utils`` and
``fzf``. The largest size is the "big" archive that the targets are checked on. A Markdown
report is printed and, with ``--out``, written between the ``bench:perf`` markers of a file.
Generated inputs are cached in ``bench/out/`` by size and seed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_SEED, PLANTED, PLANTED_URL_PREFIX  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
REAL_ARCHIVE = Path("/work/shared/data/headlines.jsonl.gz")
SEED_SIZE = 10
START_MARKER = "<!-- bench:perf:start -->"
END_MARKER = "<!-- bench:perf:end -->"
MIB = 1024 * 1024

FUZZY_QUERY = "shangai cooperaton"
RANK_TITLE = PLANTED[0].title  # "Shanghai Cooperation Organization: History and Role ..."
SHOW_TITLE = "Iranian Nuclear Deal Crisis"
STARTUP_SINCE = "2022"
BIG_SINCE = "2025"
REAL_SINCE = "2016"
REAL_QUERY = "sydny olympcs"
ENV_OVERRIDES = {"COLUMNS": "120", "LINES": "50"}


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


# --------------------------------------------------------------------------- processes


@dataclass
class Measurement:
    """Wall-clock times (seconds) and peak RSS (bytes) of repeated runs of one command."""

    label: str
    times: list[float] = field(default_factory=list)
    peak_rss: int = 0

    @property
    def median(self) -> float:
        """Median wall-clock time in seconds."""
        return statistics.median(self.times)


@dataclass(frozen=True)
class Command:
    """A command line to run, optionally with a file on stdin."""

    argv: tuple[str, ...]
    stdin: Path | None = None

    def shell(self) -> str:
        """The command as a copy-pasteable shell string."""
        text = " ".join(shell_quote(arg) for arg in self.argv)
        return f"{text} < {shell_quote(str(self.stdin))}" if self.stdin else text


def shell_quote(arg: str) -> str:
    """Like ``shlex.quote`` but prefers double quotes for arguments holding single quotes."""
    if "'" in arg and not any(c in arg for c in '"$`\\!'):
        return f'"{arg}"'
    return shlex.quote(arg)


def child_env() -> dict[str, str]:
    """Environment for measured commands: the current one with a fixed terminal size."""
    env = {**os.environ, **ENV_OVERRIDES}
    # Measure irarchive as pip installs it, with bytecode: a shell that sets
    # PYTHONDONTWRITEBYTECODE would otherwise recompile an editable install each run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def precompile_irarchive() -> None:
    """Byte-compile the irarchive package the benchmark runs (pip does this on install)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("irarchive")
    if spec is not None and spec.origin:
        compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def run_once(command: Command, capture: bool = False) -> tuple[float, int, bytes]:
    """Run ``command`` once; return (wall seconds, peak RSS bytes, stdout if ``capture``).

    Raises ``BenchError`` with the tail of stderr if the command exits non-zero.
    """
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        stdin = open(command.stdin, "rb") if command.stdin else subprocess.DEVNULL
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(
                command.argv,
                stdin=stdin,
                stdout=out if capture else subprocess.DEVNULL,
                stderr=err,
                env=child_env(),
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        except OSError as exc:
            raise BenchError(f"cannot run {command.shell()}: {exc}") from exc
        finally:
            if command.stdin:
                stdin.close()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-15:]
            raise BenchError(
                f"command failed with exit code {code}:\n  $ {command.shell()}\n"
                + "\n".join(f"  | {line}" for line in tail)
            )
        out.seek(0)
        return wall, usage.ru_maxrss * 1024, out.read() if capture else b""


def measure(
    label: str,
    commands: Sequence[Command],
    runs: int,
    warmup: int = 0,
    setup: Callable[[], None] | None = None,
) -> Measurement:
    """Time ``commands`` run back to back (one sample = all of them), ``runs`` times.

    ``setup`` runs before every warm-up and timed run (untimed), e.g. to delete a database.
    """
    result = Measurement(label)
    for i in range(warmup + runs):
        if setup:
            setup()
        total = 0.0
        for command in commands:
            wall, rss, _ = run_once(command)
            total += wall
            result.peak_rss = max(result.peak_rss, rss)
        if i >= warmup:
            result.times.append(total)
    progress(f"{label}: median {fmt_time(result.median)}, peak RSS {fmt_rss(result.peak_rss)}")
    return result


def capture_json(command: Command) -> Any:
    """Run ``command`` once and parse its stdout as JSON."""
    _, _, stdout = run_once(command, capture=True)
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise BenchError(f"output is not JSON ({exc}):\n  $ {command.shell()}") from exc


def capture_text(command: Command) -> str:
    """Run ``command`` once and return its stdout as text."""
    return run_once(command, capture=True)[2].decode(errors="replace")


def progress(message: str) -> None:
    """Progress line on stderr (stdout is reserved for the report)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- formatting


def fmt_time(seconds: float) -> str:
    """Human-friendly duration."""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_rss(size: int) -> str:
    """Bytes as MiB."""
    return f"{size / MIB:.1f} MiB"


def fmt_size(size: int) -> str:
    """File size as MiB."""
    return f"{size / MIB:.1f} MiB"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- inputs


def is_fresh(path: Path, *sources: Path) -> bool:
    """True if ``path`` exists and is newer than every source."""
    if not path.exists():
        return False
    mtime = path.stat().st_mtime
    return all(mtime >= src.stat().st_mtime for src in sources)


def generated_inputs(size: int, seed: int) -> tuple[Path, Path]:
    """Generate (or reuse) the JSONL archive and titles file for ``size`` records."""
    jsonl = OUT_DIR / f"gen-{size}-s{seed}.jsonl"
    titles = OUT_DIR / f"gen-{size}-s{seed}.titles.txt"
    sources = (BENCH_DIR / "gen.py", BENCH_DIR / "common.py")
    if is_fresh(jsonl, *sources) and is_fresh(titles, *sources):
        return jsonl, titles
    progress(f"generating {size:,} records (seed {seed}) ...")
    tmp_jsonl, tmp_titles = jsonl.with_suffix(".tmp"), titles.with_suffix(".tmp")
    argv = [sys.executable, str(BENCH_DIR / "gen.py"), str(size), "-o", str(tmp_jsonl)]
    argv += ["--seed", str(seed), "--titles", str(tmp_titles)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"gen.py failed:\n{proc.stderr}")
    tmp_jsonl.replace(jsonl)
    tmp_titles.replace(titles)
    return jsonl, titles


def real_inputs() -> tuple[Path, Path]:
    """Gunzip (or reuse) the real archive and extract its titles, one per line."""
    jsonl = OUT_DIR / "headlines.jsonl"
    titles = OUT_DIR / "headlines.titles.txt"
    if is_fresh(jsonl, REAL_ARCHIVE) and is_fresh(titles, jsonl):
        return jsonl, titles
    if not REAL_ARCHIVE.exists():
        raise BenchError(f"real archive not found: {REAL_ARCHIVE} (use --no-real to skip)")
    progress(f"unpacking {REAL_ARCHIVE} ...")
    tmp = jsonl.with_suffix(".tmp")
    with gzip.open(REAL_ARCHIVE, "rb") as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(jsonl)
    tmp = titles.with_suffix(".tmp")
    with open(jsonl, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
        for line in src:
            title = json.loads(line)["title"] or ""
            dst.write(" ".join(title.split()) + "\n")
    tmp.replace(titles)
    return jsonl, titles


def db_files(db: Path) -> list[Path]:
    """The database file and its WAL/SHM companions."""
    return [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]


def remove_db(db: Path) -> None:
    """Delete a database and its companions if present."""
    for path in db_files(db):
        path.unlink(missing_ok=True)


def db_size(db: Path) -> int:
    """Bytes on disk of the database file plus its WAL."""
    return sum(p.stat().st_size for p in db_files(db)[:2] if p.exists())


# --------------------------------------------------------------------------- tools


@dataclass
class Tools:
    """Executables used by the benchmark."""

    irarchive: str | None
    sqlite_utils: str
    fzf: str

    def ira(self, db: Path, *args: str, no_seed: bool = False) -> Command:
        """An irarchive command line against archive ``db`` (``--no-seed``: start empty)."""
        if self.irarchive is None:
            raise BenchError("irarchive is needed for this step (not available)")
        seed_flag = ("--no-seed",) if no_seed else ()
        return Command((self.irarchive, "--db", str(db), *seed_flag, *args))


def find_tool(name: str, explicit: str | None) -> str | None:
    """Resolve an executable: explicit path, next to this Python, or on PATH."""
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BenchError(f"--{name} {explicit}: not an executable file")
        return str(path.resolve())
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def resolve_tools(args: argparse.Namespace) -> Tools:
    """Find irarchive, sqlite-utils and fzf, failing with a clear message."""
    irarchive = None if args.peers_only else find_tool("irarchive", args.irarchive)
    if not args.peers_only and irarchive is None:
        raise BenchError(
            "irarchive executable not found: install the package (pip install -e .) "
            "or pass --irarchive PATH (or --peers-only to time only the peers)"
        )
    sqlite_utils = find_tool("sqlite-utils", args.sqlite_utils)
    fzf = find_tool("fzf", args.fzf)
    if sqlite_utils is None or fzf is None:
        raise BenchError("sqlite-utils and fzf must be installed (peers)")
    return Tools(irarchive, sqlite_utils, fzf)


def tool_version(argv: Sequence[str]) -> str:
    """First line of a ``--version`` style command, or ``?``."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError:
        return "?"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else "?"


# --------------------------------------------------------------------------- archives


def items_of(payload: Any) -> list[dict[str, Any]]:
    """The list of articles in a JSON payload (a list, or a dict wrapping one)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("results", "items", "articles", "data"):
            if isinstance(payload.get(key), list):
                return payload[key]
    raise BenchError(f"unexpected JSON shape: {str(payload)[:200]}")


def article_ref(tools: Tools, db: Path, title: str) -> str:
    """The id of the article titled ``title`` in ``db``, found with ``irarchive search``."""
    command = tools.ira(db, "search", title, "--json", "--limit", "1")
    items = items_of(capture_json(command))
    if not items or items[0].get("title") != title:
        got = items[0].get("title") if items else "no result"
        raise BenchError(
            f"{title!r} not found first in {db.name} ({got!r}):\n  $ {command.shell()}"
        )
    ref = items[0].get("id")
    if ref is None:
        raise BenchError(f"search result has no 'id' key: {items[0]}")
    return str(ref)


def articles_table(db: Path) -> str:
    """Name of the table holding articles (has ``title`` and ``date`` columns)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "select name from sqlite_master where type = 'table' and sql not like "
                "'%VIRTUAL TABLE%' order by name"
            )
        ]
        for name in names:
            columns = {row[1] for row in conn.execute(f"pragma table_info([{name}])")}
            if {"title", "date"} <= columns:
                return name
    raise BenchError(f"no table with title and date columns in {db}")


def peer_sql(db: Path, since: str) -> str:
    """The peer query equivalent to ``irarchive list --since SINCE --json``."""
    table = articles_table(db)
    return f"select * from [{table}] where date >= '{since}' order by date desc"


def rank_of(titles: Sequence[str], title: str) -> int | None:
    """1-based position of ``title`` in ``titles``, or None."""
    try:
        return titles.index(title) + 1
    except ValueError:
        return None


# --------------------------------------------------------------------------- scenarios


@dataclass
class Results:
    """Everything measured, keyed by scope ('seed', a size, or 'real') and row name."""

    rows: dict[tuple[str, str], Measurement] = field(default_factory=dict)
    facts: dict[tuple[str, str], str] = field(default_factory=dict)
    commands: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, scope: str, name: str, measurement: Measurement, command: str) -> None:
        """Record a measurement and the command that produced it."""
        self.rows[(scope, name)] = measurement
        self.commands[(scope, name)] = command

    def get(self, scope: str, name: str) -> Measurement | None:
        """A measurement, if it was taken."""
        return self.rows.get((scope, name))


@dataclass
class Bench:
    """Runs the scenarios and collects ``Results``."""

    tools: Tools
    runs: int
    warmup: int
    import_runs: int
    seed: int
    results: Results = field(default_factory=Results)

    def timed(self, scope: str, name: str, command: Command) -> Measurement:
        """Measure a query-style command with warm-ups."""
        m = measure(f"{scope} {name}", [command], self.runs, self.warmup)
        self.results.add(scope, name, m, command.shell())
        return m

    # ---- seed archive and start-up

    def seed_archive(self) -> Path:
        """Create the seed archive (``irarchive db init``) or, peers-only, a stand-in."""
        db = OUT_DIR / "seed.db"
        remove_db(db)
        if self.tools.irarchive is None:
            jsonl, _ = generated_inputs(SEED_SIZE, self.seed)
            for command in self.peer_import_commands(db, jsonl, ()):
                run_once(command)
        else:
            run_once(self.tools.ira(db, "db", "init"))
        return db

    def startup(self, seed_db: Path) -> None:
        """Row 1: start-up commands on the seed archive vs ``sqlite-utils query``."""
        sql = peer_sql(seed_db, STARTUP_SINCE)
        self.timed(
            "seed", "peer query", Command((self.tools.sqlite_utils, "query", str(seed_db), sql))
        )
        if self.tools.irarchive is None:
            return
        self.timed("seed", "version", Command((self.tools.irarchive, "--version")))
        self.timed(
            "seed", "list", self.tools.ira(seed_db, "list", "--since", STARTUP_SINCE, "--json")
        )
        self.timed("seed", "list big-query", self.list_command(seed_db, BIG_SINCE, "--json"))
        ref = article_ref(self.tools, seed_db, SHOW_TITLE)
        self.timed("seed", "show", self.tools.ira(seed_db, "show", ref, "--json"))

    def list_command(self, db: Path, since: str, *fmt: str) -> Command:
        """``irarchive list --since SINCE --limit 20`` with an output format."""
        return self.tools.ira(db, "list", "--since", since, "--limit", "20", *fmt)

    # ---- imports

    def irarchive_import(self, scope: str, jsonl: Path) -> Path:
        """Row 6/7: import ``jsonl`` into a fresh archive (timed) and record its size."""
        db = OUT_DIR / f"irarchive-{scope}.db"
        command = self.tools.ira(db, "import", str(jsonl), no_seed=True)
        m = measure(f"{scope} import", [command], self.import_runs, setup=lambda: remove_db(db))
        self.results.add(scope, "import", m, command.shell())
        self.record_size(scope, "size", db, jsonl)
        return db

    def peer_import_commands(
        self, db: Path, jsonl: Path, fts_columns: Sequence[str]
    ) -> list[Command]:
        """``sqlite-utils insert --nl`` and, if ``fts_columns``, ``enable-fts`` on them."""
        su = self.tools.sqlite_utils
        commands = [Command((su, "insert", str(db), "articles", str(jsonl), "--nl"))]
        if fts_columns:
            commands.append(Command((su, "enable-fts", str(db), "articles", *fts_columns)))
        return commands

    def timed_peer_import(self, scope: str, jsonl: Path, text_column: str = "excerpt") -> None:
        """Row 6 peer: sqlite-utils insert + enable-fts, timed together."""
        db = OUT_DIR / f"peer-{scope}.db"
        commands = self.peer_import_commands(db, jsonl, ("title", text_column))
        m = measure(f"{scope} peer import", commands, self.import_runs, setup=lambda: remove_db(db))
        self.results.add(scope, "peer import", m, " && ".join(c.shell() for c in commands))
        self.record_size(scope, "peer size", db, jsonl)
        remove_db(db)

    def record_size(self, scope: str, name: str, db: Path, jsonl: Path) -> None:
        """Store archive size / JSONL size as a fact."""
        size, source = db_size(db), jsonl.stat().st_size
        self.results.facts[(scope, name)] = (
            f"{fmt_size(size)} / {fmt_size(source)} = {size / source:.2f}×"
        )
        self.results.facts[(scope, name + " ratio")] = f"{size / source:.4f}"

    # ---- queries on an imported archive

    def fuzzy_peer(self, scope: str, titles: Path, query: str) -> None:
        """Row 4 peer: ``fzf --filter`` over the same titles; note its first hit."""
        command = Command((self.tools.fzf, "--filter", query), stdin=titles)
        self.timed(scope, "fzf", command)
        hits = capture_text(command).splitlines()
        self.results.facts[(scope, "fzf top")] = hits[0] if hits else "(no match)"
        if query == FUZZY_QUERY:
            rank = rank_of(hits, RANK_TITLE)
            self.results.facts[(scope, "fzf planted rank")] = str(rank) if rank else "not found"

    def fuzzy_search(self, scope: str, db: Path, query: str) -> None:
        """Row 4: ``irarchive search`` with a misspelt query; check the planted rank."""
        command = self.tools.ira(db, "search", query, "--json")
        self.timed(scope, "search", command)
        items = items_of(capture_json(command))
        titles = [str(item.get("title")) for item in items]
        facts = self.results.facts
        facts[(scope, "search top")] = titles[0] if titles else "(no result)"
        if query != FUZZY_QUERY:
            return
        rank = rank_of(titles, RANK_TITLE)
        if rank is None:  # Not on the first page: find out how far down it is.
            unlimited = self.tools.ira(db, "search", query, "--json", "--limit", "0")
            everything = [str(item.get("title")) for item in items_of(capture_json(unlimited))]
            deep = rank_of(everything, RANK_TITLE)
            facts[(scope, "search planted rank")] = (
                f"{deep} (below the default limit)"
                if deep
                else f"none: not among all {len(everything)} results of --limit 0"
            )
        else:
            facts[(scope, "search planted rank")] = str(rank)
        planted = [i for i in items if str(i.get("url", "")).startswith(PLANTED_URL_PREFIX)]
        facts[(scope, "planted articles among search results")] = str(len(planted))

    def queries(self, scope: str, db: Path, since: str, show_title: str | None) -> None:
        """Rows 2, 3 and 5 on one archive; ``show`` targets ``show_title`` or the newest."""
        self.timed(scope, "list", self.list_command(db, since, "--json"))
        self.timed(scope, "table", self.list_command(db, since, "--format", "table"))
        if show_title:
            ref = article_ref(self.tools, db, show_title)
        else:
            ref = self.newest_ref(db, since)
        self.timed(scope, "show", self.tools.ira(db, "show", ref, "--json"))

    def newest_ref(self, db: Path, since: str) -> str:
        """Id of the first article listed since ``since`` (a show target for real data)."""
        items = items_of(capture_json(self.list_command(db, since, "--json")))
        if not items or "id" not in items[0]:
            raise BenchError(f"no articles (with an id) since {since} in {db}")
        return str(items[0]["id"])

    # ---- scenarios

    def generated(self, size: int) -> None:
        """All rows for one generated archive size."""
        scope = str(size)
        jsonl, titles = generated_inputs(size, self.seed)
        self.fuzzy_peer(scope, titles, FUZZY_QUERY)
        self.timed_peer_import(scope, jsonl)
        if self.tools.irarchive is None:
            return
        db = self.irarchive_import(scope, jsonl)
        self.queries(scope, db, BIG_SINCE, SHOW_TITLE)
        self.fuzzy_search(scope, db, FUZZY_QUERY)

    def real(self) -> None:
        """Rows for the real archive of news headlines."""
        jsonl, titles = real_inputs()
        self.fuzzy_peer("real", titles, REAL_QUERY)
        self.timed_peer_import("real", jsonl, "description")
        if self.tools.irarchive is None:
            return
        db = self.irarchive_import("real", jsonl)
        self.queries("real", db, REAL_SINCE, None)
        self.fuzzy_search("real", db, REAL_QUERY)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A ratio target: numerator row / denominator row <= limit."""

    key: str
    what: str
    num: tuple[str, str]
    den: tuple[str, str]
    limit: float
    note: str = ""


STARTUP_TARGETS = (
    Target("1a", "`irarchive --version`", ("seed", "version"), ("seed", "peer query"), 0.5,
           "≈75 ms"),
    Target("1b", f"`list --since {STARTUP_SINCE} --json` (seed)", ("seed", "list"),
           ("seed", "peer query"), 0.5, "≈75 ms"),
)  # fmt: skip


def archive_targets(scope: str) -> list[Target]:
    """The ratio targets checked on one imported archive (a size as string, or 'real')."""
    return [
        Target("2", "`list --since … --limit 20 --json` vs same on seed",
               (scope, "list"), ("seed", "list big-query"), 1.2),
        Target("3", "`show REF --json` vs same on seed", (scope, "show"), ("seed", "show"), 1.2),
        Target("4", "`search QUERY --json` vs `fzf --filter QUERY`", (scope, "search"),
               (scope, "fzf"), 0.25),
        Target("5", "`list … --format table` vs row 2", (scope, "table"), (scope, "list"), 1.6),
        Target("6", "`import` (all indexes) vs sqlite-utils insert+enable-fts",
               (scope, "import"), (scope, "peer import"), 0.5),
    ]  # fmt: skip


def verdict(ok: bool | None) -> str:
    """PASS / FAIL / n/a."""
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def ratio_row(results: Results, t: Target) -> list[str]:
    """One table row for a ratio target."""
    num, den = results.rows.get(t.num), results.rows.get(t.den)
    ratio = num.median / den.median if num and den else None
    return [
        t.key,
        t.what,
        fmt_time(num.median) if num else "—",
        f"{fmt_time(den.median)} ({den.label})" if den else "—",
        f"{ratio:.2f}×" if ratio is not None else "—",
        f"≤{t.limit}×" + (f", {t.note}" if t.note else ""),
        verdict(None if ratio is None else ratio <= t.limit),
    ]


def target_rows(results: Results, scope: str, startup: bool = True) -> list[list[str]]:
    """Rows of a targets table for one archive (plus the start-up rows if ``startup``)."""
    targets = [*STARTUP_TARGETS] if startup else []
    rows = [ratio_row(results, t) for t in targets + archive_targets(scope)]
    rows += rss_rows(results, scope)
    if (scope, "search planted rank") in results.facts:
        rows.append(rank_row(results, scope))
    rows.append(size_row(results, scope))
    rows.sort(key=lambda row: row[0])
    return rows


def rss_rows(results: Results, scope: str) -> list[list[str]]:
    """Peak-RSS targets for search (row 4) and import (row 6)."""
    rows = []
    for key, name, limit, peer in (
        ("4m", "search", 120, "fzf"),
        ("6m", "import", 200, "peer import"),
    ):
        m, p = results.get(scope, name), results.get(scope, peer)
        rows.append([
            key,
            f"peak RSS of `{name}`",
            fmt_rss(m.peak_rss) if m else "—",
            f"{fmt_rss(p.peak_rss)} ({peer})" if p else "—",
            "",
            f"≤{limit} MiB",
            verdict(None if m is None else m.peak_rss <= limit * MIB),
        ])  # fmt: skip
    return rows


def rank_row(results: Results, scope: str) -> list[str]:
    """Row 4r: is the planted article the first search result?"""
    facts = results.facts
    rank = facts.get((scope, "search planted rank"))
    return [
        "4r",
        f"planted “{RANK_TITLE}” ranked first",
        f"rank {rank}, first: “{facts.get((scope, 'search top'), '—')}”" if rank else "—",
        f"fzf: rank {facts.get((scope, 'fzf planted rank'), '—')}, first: "
        f"“{facts.get((scope, 'fzf top'), '—')}”",
        "",
        "rank 1",
        verdict(None if rank is None else rank == "1"),
    ]


def size_row(results: Results, scope: str) -> list[str]:
    """Row 7: archive size on disk relative to the JSONL it was imported from."""
    facts = results.facts
    ratio = facts.get((scope, "size ratio"))
    return [
        "7",
        "archive size (file + -wal) vs JSONL",
        facts.get((scope, "size"), "—"),
        f"{facts.get((scope, 'peer size'), '—')} (sqlite-utils)",
        f"{float(ratio):.2f}×" if ratio else "—",
        "≤1.8×",
        verdict(None if ratio is None else float(ratio) <= 1.8),
    ]


# --------------------------------------------------------------------------- report


def measurement_rows(results: Results) -> list[list[str]]:
    """Every measurement, in the order taken."""
    rows = []
    for (scope, name), m in results.rows.items():
        spread = f"{fmt_time(min(m.times))} … {fmt_time(max(m.times))}"
        rows.append([
            scope, name, fmt_time(m.median), spread, str(len(m.times)), fmt_rss(m.peak_rss),
            f"`{shorten(results.commands[(scope, name)])}`",
        ])  # fmt: skip
    return rows


def shorten(command: str) -> str:
    """Make a command readable in a table: drop directories of bench files and tools."""
    for prefix in (str(OUT_DIR) + "/", str(Path(sys.executable).parent) + "/", "/usr/bin/"):
        command = command.replace(prefix, "")
    return command


def fact_lines(results: Results) -> list[str]:
    """Free-form facts (sizes, top hits) as Markdown bullets."""
    return [
        f"- {scope} · {name}: {value}"
        for (scope, name), value in results.facts.items()
        if not name.endswith("ratio")
    ]


def machine_info(tools: Tools) -> list[str]:
    """Lines describing the machine and tool versions."""
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = tool_version(["nproc"])
    irarchive = tool_version([tools.irarchive, "--version"]) if tools.irarchive else "not run"
    return [
        f"- Machine: {nproc} CPUs (`nproc`), {cpu}, {platform.system()} {platform.release()}",
        f"- Python: {tool_version([sys.executable, '-V'])}; SQLite {sqlite3.sqlite_version} "
        f"(Python module), {tool_version(['sqlite3', '--version']).split(' ')[0]} (CLI)",
        f"- irarchive: {irarchive}; "
        f"sqlite-utils: {tool_version([tools.sqlite_utils, '--version'])}; "
        f"fzf: {tool_version([tools.fzf, '--version'])}",
    ]


def load_note(load_at_start: float) -> str:
    """Load average at start and end, flagged when the machine was busy."""
    cpus = os.cpu_count() or 1
    end = os.getloadavg()[0]
    busy = max(load_at_start, end) > 0.5 * cpus
    flag = " — **machine was busy: timings are inflated**" if busy else ""
    return f"- Load average (1 min): {load_at_start:.2f} at start, {end:.2f} at end{flag}"


def render(args: argparse.Namespace, tools: Tools, results: Results, big: str | None) -> str:
    """The Markdown section (without markers)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python bench/run.py " + shlex.join(sys.argv[1:])
    parts = [
        "## Performance",
        "",
        f"Generated by `{command}` on {now}.",
        "",
        *machine_info(tools),
        load_note(args.load_at_start),
        f"- Method: whole-process wall time, median of {args.runs} run(s) after {args.warmup} "
        f"warm-up(s) ({args.import_runs} run(s) for imports, no warm-up); peak RSS = max "
        "`ru_maxrss` of the process (`os.wait4`); generated archives use seed "
        f"{args.seed}; env {' '.join(f'{k}={v}' for k, v in ENV_OVERRIDES.items())}.",
        "",
    ]
    header = ["#", "Measurement", "irarchive", "Baseline", "Ratio", "Target", "Result"]
    if big is not None:
        parts += [
            f"### Targets (big archive = {int(big):,} generated articles)",
            "",
            f"Fuzzy query: `{FUZZY_QUERY}`; `list --since {BIG_SINCE}`; "
            f"show REF = planted “{SHOW_TITLE}”.",
            "",
            md_table(header, target_rows(results, big)),
            "",
        ]
    if results.get("real", "import"):
        parts += [
            "### Real archive (146,778 news headlines, for information)",
            "",
            f"Fuzzy query: `{REAL_QUERY}`; `list --since {REAL_SINCE}`; show REF = newest "
            "listed article.",
            "",
            md_table(header, target_rows(results, "real", startup=False)),
            "",
        ]
    parts += [
        "### All measurements",
        "",
        "Scope: `seed` = bundled seed archive, a number = generated archive of that size, "
        "`real` = the 146,778 real headlines.",
        "",
        md_table(
            ["Scope", "Row", "Median", "Min … max", "Runs", "Peak RSS", "Command"],
            measurement_rows(results),
        ),
        "",
        *fact_lines(results),
    ]
    return "\n".join(parts).rstrip() + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace the text between the perf markers of ``path`` (creating the file if needed)."""
    block = f"{START_MARKER}\n{section}{END_MARKER}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Benchmarks\n\n{block}\n", encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start == -1 or end == -1 or end < start:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    else:
        text = text[:start] + block + text[end + len(END_MARKER) :]
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- main


def parse_sizes(text: str) -> list[int]:
    """Comma-separated positive sizes, sorted and de-duplicated."""
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad --sizes {text!r}") from exc
    if not sizes or sizes[0] <= 0:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description="Benchmark irarchive against sqlite-utils and fzf.",
        epilog=f"Size {SEED_SIZE} means the bundled seed archive (irarchive db init).",
    )
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("10,100000,1000000"))
    parser.add_argument("--runs", type=int, default=10, help="timed runs per command (10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up runs per command (2)")
    parser.add_argument("--import-runs", type=int, default=1, help="timed runs per import (1)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed (42)")
    parser.add_argument("--out", type=Path, help="Markdown file to update between markers")
    parser.add_argument("--irarchive", help="irarchive executable (default: venv or PATH)")
    parser.add_argument("--sqlite-utils", help="sqlite-utils executable")
    parser.add_argument("--fzf", help="fzf executable")
    parser.add_argument(
        "--real",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also benchmark the real archive {REAL_ARCHIVE} (default: on)",
    )
    parser.add_argument(
        "--peers-only", action="store_true", help="time only sqlite-utils and fzf (no irarchive)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.import_runs < 1:
        parser.error("--runs and --import-runs must be >= 1, --warmup >= 0")
    return args


def run(args: argparse.Namespace) -> int:
    """Run every scenario and publish the report."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tools = resolve_tools(args)
    precompile_irarchive()
    args.load_at_start = os.getloadavg()[0]
    if args.load_at_start > 0.5 * (os.cpu_count() or 1):
        progress(f"warning: load average is {args.load_at_start:.2f}; timings will be noisy")
    bench = Bench(tools, args.runs, args.warmup, args.import_runs, args.seed)
    bench.startup(bench.seed_archive())
    generated = [size for size in args.sizes if size != SEED_SIZE]
    for size in generated:
        bench.generated(size)
    if args.real:
        bench.real()
    big = str(generated[-1]) if generated else None
    section = render(args, tools, bench.results, big)
    print(section)
    if args.out:
        write_section(args.out, section)
        progress(f"wrote {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; turns ``BenchError`` into a one-paragraph message and exit code 2."""
    args = parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench/run.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
