"""Shared test harness: one environment, one in-process runner, one subprocess runner.

* ``isolated_env`` (autouse): every test gets its own HOME and XDG dirs, no
  IRARCHIVE_DB, no colour variables, 100 columns and a fixed "today".
* ``cli`` runs ``irarchive ARGS`` in-process through ``cli.main`` (which owns the
  exit-code mapping) and returns a ``Result``; an exception that escapes ``main``
  is kept in ``Result.exception`` (a real process would print a traceback).
* ``bounded`` stops an in-process run that loops or grows without end (time and
  memory), as a process with a timeout would, without the cost of a process.
* ``run_proc`` runs ``python -m irarchive ARGS`` as a real process, for what only a
  process shows: start-up imports, signals, pipes, terminals, tracebacks.
* ``seeded``, ``empty``, ``tui_db`` (at ``db_path`` or in ``tmp_path``): copies of
  archives built once per session (``archive_template``, ``copy_of``).
* No test leaves a process behind: a session check fails the run if a process
  still names this session's temporary folder when the tests end.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The command line of the installed tool, run from this interpreter.
IRARCHIVE = [sys.executable, "-m", "irarchive"]
#: "today" for every test: relative dates (7d, 1y, yesterday) are reproducible.
TODAY = "2026-11-27"
#: Hypothesis loads its plugins' entry points when it is first imported. The only one here
#: is trio's (trio comes with selenium): it imports trio (86 ms a worker) and makes
#: Hypothesis warn that trio's random generator may be garbage collected, a warning in
#: every run's summary. No test runs on trio. Set before a test module imports hypothesis.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")


_PYCACHE: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    """With PYTHONDONTWRITEBYTECODE set (this machine sets it), every process of the
    run compiles what it imports from source: each ``python -m irarchive`` a test
    starts (0.22 s of CPU instead of 0.10 s, hundreds of times a run) and each xdist
    worker (its test modules: 4 s instead of 2 s). The run's processes share a
    bytecode cache instead: in pytest's cache folder (``.pytest_cache``, kept
    between runs) or, with ``-p no:cacheprovider``, in a temporary folder removed
    at the end. Nothing is written next to the sources either way.
    """
    if not sys.dont_write_bytecode or os.environ.get("PYTHONPYCACHEPREFIX"):
        return  # bytecode is written as usual, or already shared (an xdist worker)
    cache = getattr(config, "cache", None)
    if cache is not None:
        folder, _PYCACHE["temporary"] = str(cache.mkdir("pycache")), None
    else:
        import tempfile

        folder = _PYCACHE["temporary"] = tempfile.mkdtemp(prefix="irarchive-tests-pycache-")
    _PYCACHE["PYTHONDONTWRITEBYTECODE"] = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    _one_last_collection()
    if "PYTHONDONTWRITEBYTECODE" not in _PYCACHE:
        return  # pytest_configure changed nothing
    os.environ.pop("PYTHONPYCACHEPREFIX", None)
    if (value := _PYCACHE.pop("PYTHONDONTWRITEBYTECODE")) is not None:
        os.environ["PYTHONDONTWRITEBYTECODE"] = value
    if (folder := _PYCACHE.pop("temporary")) is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _one_last_collection() -> None:
    """One full garbage collection at the end of a test process, not five.

    After this hook pytest collects garbage five times over (its unraisable-exception
    plugin, so that a finaliser's exception in garbage left by the last tests is still
    reported). Each walks every object the tests left behind: 0.2-0.4 s each in an
    xdist worker, 1-2 s a worker, all workers at once when the run ends (profiled: the
    workers were busy in it for up to 1.8 s after their last test). One collection here
    runs the finalisers of what is garbage (reported as before); freezing what lives
    on leaves the five passes nothing to walk.
    """
    import gc

    gc.collect()
    gc.freeze()


def auto_workers(cpus: int) -> int:
    """How many xdist workers ``-n auto`` starts on ``cpus`` CPUs: one more than the CPUs.

    Some of a test's time is waiting, not computing: for a child process it started
    (a real ``irarchive``, a killed import, Chromium, a program on a terminal), for a
    local HTTP server's deliberate stall. One worker a CPU leaves a CPU idle through
    those waits (the run used 1.35 of 2 CPUs); one extra worker fills them. Two a CPU
    paid while Textual's Pilot slept 20 ms a key (see ``_quicker_pilot``); with that
    gone, the fourth worker on 2 CPUs only added its start-up and contention: 3
    workers took 100.6 and 102.9 s, 4 took 106.8 and 109.5 s (alternated, one machine).
    """
    return max(1, cpus + 1)


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # an xdist hook, like the one below
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: see :func:`auto_workers`. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` and
    ``-n logical`` keep their pytest-xdist meaning (None: xdist's own hook decides)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or config.option.numprocesses == "logical":
        return None
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return auto_workers(cpus)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Less of the cyclic garbage collector's time in a test process.

    Measured per xdist worker over a whole run: 1,200-2,200 young collections, 100-200
    middle ones and 11-17 full ones (up to 0.29 s each, walking 270,000 objects), 2-3 s
    of CPU a worker; the four test files of the most objects spent 3.5-4.5 s of 30 s
    in it. So: freeze what the collection made (the imported modules and collected
    tests live as long as the run; full collections no longer walk them), and collect
    the young generation every 10,000 allocations, not 700, and the older ones every
    20 of the previous (1.5-2 s less on those four files). Cyclic garbage still goes,
    later; nothing of the code under test depends on when.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    _quicker_pilot()


#: How long Textual's Pilot sleeps between its looks for an idle process (its own: 1/50 s).
PILOT_IDLE_STEP = 0.002


def _quicker_pilot() -> None:
    """Textual's Pilot waits for the app after every key and ``pause()``: it sleeps in
    steps of 1/50 s until a step passes with (almost) no CPU used, at least one step a
    key (two, with the ``pause`` in ``press``). Those sleeps were 36 s of the 52 s the
    106 browser tests took in one process, and they ran last in the run, leaving the
    CPUs 30-50 % idle for its last 20 s. In steps of 2 ms the wait still ends only on
    a step with no CPU used; the tests themselves wait for the app's workers
    (``settle``). Only a module the tests already imported is changed (Textual's
    private ``_wait``); if it is not there, or differs, nothing is done.
    """
    wait = sys.modules.get("textual._wait")
    if wait is not None and isinstance(getattr(wait, "SLEEP_GRANULARITY", None), float):
        wait.SLEEP_GRANULARITY = PILOT_IDLE_STEP


@pytest.hookimpl(optionalhook=True)  # an xdist hook, like the one below
def pytest_xdist_setupnodes(config: pytest.Config, specs) -> None:
    """Controller, before the workers start: rewrite and compile the test modules once.

    pytest caches each test module's assertion-rewritten bytecode beside it. On a fresh
    clone there is none yet, so every worker rewrote and compiled every module itself,
    at the same time: 2 s of CPU a worker (a cold run of the suite took 6 s longer).
    Written here once, the workers read it. This uses pytest's own rewriting (private
    functions): if they change, nothing is done and the workers compile as before.
    """
    if sys.dont_write_bytecode or "PYTHONDONTWRITEBYTECODE" in _PYCACHE:
        return  # no bytecode next to the sources (see pytest_configure)
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
        for source in sorted(Path(__file__).parent.glob("*.py")):
            if not source.name.startswith(("test_", "conftest")):
                continue
            folder = rewrite.get_cache_dir(source)
            pyc = folder / (source.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(source, pyc) is not None or not rewrite.try_makedirs(folder):
                continue
            stat, code = rewrite._rewrite_test(source, config)
            rewrite._write_pyc(state, code, stat, pyc)
    except Exception:  # noqa: BLE001 - an optimisation only
        return


@pytest.hookimpl(optionalhook=True)  # an xdist hook: pytest without xdist must not reject it
def pytest_configure_node(node) -> None:
    """Controller side (pytest-xdist): tell each worker how tests are dealt out."""
    node.workerinput["irarchive_dist"] = node.config.option.dist


@pytest.hookimpl(trylast=True)  # after -k/-m have deselected: the list xdist deals out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the long tests first on every worker, so parallel workers finish together.

    pytest-xdist hands each worker a contiguous share of this list at the start
    (``--dist worksteal``: len/N each; ``--dist load``: a quarter of that), and
    stealing takes from the end of a share. Putting every long test at the front
    of the list would give them all to the first worker; instead they are dealt in
    turn to the start of each worker's first share (``deal_long_tests``). Tests
    marked ``together`` (one browser and one server for the module) follow the first
    worker's long tests, where no other worker steals them.
    """
    waits = [item for item in items if item.get_closest_marker("waits")]
    slow = [item for item in items if item.get_closest_marker("slow") and item not in waits]
    long = set(waits + slow)
    together = [i for i in items if i.get_closest_marker("together") and i not in long]
    if not long and not together:
        return
    rest = together + [i for i in items if i not in long and i not in together]
    worker = getattr(config, "workerinput", {})
    workers = int(worker.get("workercount", 1))
    starts = _first_shares(len(items), workers, worker.get("irarchive_dist", "no"))
    if workers < 2 or starts is None:
        items[:] = deal_long_tests(waits, slow, 1)[0] + rest
        return
    others = iter(rest)
    ordered: list[pytest.Item] = []
    for start, share in zip(starts, deal_long_tests(waits, slow, workers), strict=True):
        while len(ordered) < start:
            ordered.append(next(others))
        ordered += share
    items[:] = ordered + list(others)


def deal_long_tests(waits: list, computes: list, workers: int) -> list[list]:
    """Each worker's long tests: its turn of each kind, alternating between a test that
    mostly waits (``waits``: a child process, a stalled server, a terminal) and another
    ``slow`` one, which computes. Every other worker starts with the other kind, so that
    while one worker waits the others compute. Dealt in file order instead, the kill -9
    loops, the stalled servers and the terminals of all workers came at the same moments
    and left the CPUs up to three-quarters idle for seconds.
    """
    shares = []
    for k in range(workers):
        first, second = waits[k::workers], computes[k::workers]
        if k % 2:
            first, second = second, first
        share = []
        for pair in itertools.zip_longest(first, second):
            share += [test for test in pair if test is not None]
        shares.append(share)
    return shares


def _first_shares(count: int, workers: int, dist: str) -> list[int] | None:
    """Where each worker's first share starts in the collected list, as xdist deals it."""
    if dist == "worksteal":
        starts, left = [], count
        for k in range(workers):
            starts.append(count - left)
            left -= left // (workers - k)
        return starts
    if dist == "load" and count >= 2 * workers:
        chunk = max((count // workers) // 4, 2)
        return [k * chunk for k in range(workers)]
    return None


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real home, data dir or archive; rich output is 100 columns."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in ("IRARCHIVE_DB", "IRARCHIVE_DEBUG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("IRARCHIVE_TODAY", TODAY)
    return home


@dataclass
class Result:
    """What one run of irarchive did: exit code, stdout, stderr, escaped exception."""

    code: int
    out: str
    err: str
    exception: BaseException | None = None

    def __repr__(self) -> str:
        return (
            f"Result(code={self.code}, out={self.out[:300]!r}, err={self.err[-600:]!r}, "
            f"exception={self.exception!r})"
        )


def _stream(data: bytes = b"") -> io.TextIOWrapper:
    """A text stream over bytes, like a real stdin/stdout (it has ``.buffer``)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="", write_through=True)


def run_cli(*args: str, stdin: bytes = b"") -> Result:
    """``irarchive ARGS`` in-process, with its own stdin, stdout and stderr."""
    from irarchive.cli import main

    fake_in, out, err = _stream(stdin), _stream(), _stream()
    code, escaped = 0, None
    # No gc.collect() here: the CLI closes the archive when the command ends
    # (ctx.call_on_close), and test_formats checks that it does.
    with (
        _built_once(),
        _swap_stdin(fake_in),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # noqa: BLE001 - what a real process shows as a traceback
            code, escaped = 1, exc
            err.write("".join(traceback.format_exception(exc)))
    return Result(code, _text(out), _text(err), escaped)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8", "surrogateescape")  # type: ignore[attr-defined]


_BUILT: dict[int, tuple[object, object]] = {}


@contextlib.contextmanager
def _built_once():
    """``cli.main`` builds the click command from the Typer app on every call (a
    process calls it once): ~10-40 ms, most of an in-process run. Build it once per
    app here, as a process does; click commands are made to be invoked repeatedly
    (click's own CliRunner does). Callbacks look up the module's globals when they
    run, so a monkeypatched helper in ``irarchive.cli`` still takes effect.
    """
    import typer.main

    build = typer.main.get_command

    def get_command(app):
        built = _BUILT.get(id(app))
        if built is None or built[0] is not app:
            built = _BUILT[id(app)] = (app, build(app))
        return built[1]

    typer.main.get_command = get_command
    try:
        yield
    finally:
        typer.main.get_command = build


@contextlib.contextmanager
def _swap_stdin(stream: io.TextIOWrapper):
    old, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = old


@pytest.fixture
def cli():
    """Call ``irarchive ARGS`` in-process: ``cli(*args, stdin=b"")`` returns a Result."""
    return run_cli


@pytest.fixture(scope="session")
def tui_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The browser tests' small archive (``tests/tui_data.py``), imported once per
    session; copy it, never change it."""
    from tests.tui_data import write_jsonl

    folder = tmp_path_factory.mktemp("tui-template")
    return archive_template(folder, "--no-seed", "import", str(write_jsonl(folder / "a.jsonl")))


@pytest.fixture
def tui_db(tmp_path: Path, tui_template: Path) -> Path:
    """A copy of the browser tests' archive for one test (25 ms less than an import)."""
    return copy_of(tui_template, tmp_path / "tui.db")


def archive_template(folder: Path, *args: str) -> Path:
    """The archive ``irarchive --db FOLDER/archive.db ARGS`` makes (run in-process), its
    WAL folded into the main file: a template built once, to copy for each test."""
    db = folder / "archive.db"
    r = run_cli("--db", str(db), *args)
    assert r.code == 0, r
    checkpoint(db)
    return db


def copy_of(template: Path, path: Path) -> Path:
    """A copy of a template archive at ``path`` (the template itself never changes)."""
    shutil.copyfile(template, path)
    return path


class Runaway(BaseException):
    """An in-process run went past its time or memory budget (``bounded``).

    A BaseException, so that no ``except Exception`` in the code under test (nor
    ``run_cli``) can swallow it: the test fails with this message.
    """


@contextlib.contextmanager
def bounded(seconds: float = 20.0, grow_mib: int = 500):
    """Fail with ``Runaway`` if the block runs longer than ``seconds`` of wall time or
    its process grows by more than ``grow_mib`` MiB (a loop that never ends, or one
    that fills memory): checked ten times a second by SIGALRM in the main thread.
    """
    assert threading.current_thread() is threading.main_thread(), "SIGALRM needs the main thread"
    page = resource.getpagesize()
    statm = Path("/proc/self/statm")

    def rss() -> int:
        return int(statm.read_text().split()[1]) * page if statm.exists() else 0

    start, base = time.monotonic(), rss()

    def check(signum, frame) -> None:
        elapsed, grown = time.monotonic() - start, (rss() - base) >> 20
        if elapsed > seconds or grown > grow_mib:
            signal.setitimer(signal.ITIMER_REAL, 0)
            raise Runaway(f"still running after {elapsed:.1f}s, {grown} MiB more memory")

    old = signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_proc(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = 120,
) -> Result:
    """``python -m irarchive ARGS`` as a real process (its environment plus ``env``)."""
    proc = subprocess.run(
        [*IRARCHIVE, *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    decode = lambda b: b.decode("utf-8", "surrogateescape")  # noqa: E731
    return Result(proc.returncode, decode(proc.stdout), decode(proc.stderr))


def on_a_terminal(
    argv: list[str], *, env: dict[str, str], cwd: Path | None = None, size=(30, 100)
) -> tuple[subprocess.Popen, int]:
    """Start ``argv`` on a new pseudo-terminal: its stdin, stdout and stderr, and its
    controlling terminal (so ``/dev/tty`` and Ctrl-C work as in a real terminal).

    Returns the process and the terminal's other end (read what it draws, write keys;
    close it when done). Like ``pty.fork()``, without forking this Python, which has
    threads (a forked copy of a threaded interpreter can hang, and Python 3.12+ warns):
    ``setsid --ctty`` (util-linux) makes the program a session leader whose
    controlling terminal is its stdin. ``size`` is (rows, columns).
    """
    import fcntl
    import struct
    import termios

    ours, theirs = os.openpty()
    try:
        fcntl.ioctl(theirs, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
        proc = subprocess.Popen(
            ["setsid", "--ctty", *argv],
            stdin=theirs,
            stdout=theirs,
            stderr=theirs,
            env=env,
            cwd=cwd,
        )
    except BaseException:
        os.close(ours)
        raise
    finally:
        os.close(theirs)
    return proc, ours


def checkpoint(db: Path) -> None:
    """Fold the WAL into the main file, so the main file alone holds everything."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled seed as an archive, built once per session; copy it, never change it."""
    from irarchive.seed import load_seed
    from irarchive.store import open_archive

    path = tmp_path_factory.mktemp("template") / "seeded.db"
    open_archive(str(path), seed=load_seed).close()
    checkpoint(path)
    return path


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A path for a fresh archive, also exported as IRARCHIVE_DB."""
    path = tmp_path / "archive.db"
    monkeypatch.setenv("IRARCHIVE_DB", str(path))
    return path


@pytest.fixture
def seeded(db_path: Path, seeded_template: Path) -> Path:
    """An archive holding the bundled seed (10 articles), at ``db_path``."""
    return copy_of(seeded_template, db_path)


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive with no articles (``db init --no-seed``), built once per session."""
    return archive_template(tmp_path_factory.mktemp("template"), "--no-seed", "db", "init")


@pytest.fixture
def empty(db_path: Path, empty_template: Path) -> Path:
    """An archive with no articles, at ``db_path``."""
    return copy_of(empty_template, db_path)


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind(tmp_path_factory: pytest.TempPathFactory):
    """Fail the session if a process started by a test outlives the tests.

    Every process a test starts works on files under the session's temporary
    folder, so a leftover one names it on its command line (Linux /proc).
    """
    base = str(tmp_path_factory.getbasetemp()) + os.sep  # not pytest-1 in pytest-12
    yield
    if not Path("/proc/self/cmdline").exists():
        return
    deadline = time.monotonic() + 5
    while (left := _processes_naming(base)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # leave the machine clean, then report
    assert not left, f"processes left behind by the tests: {left}"


def _processes_naming(text: str) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.name == str(os.getpid()):
                continue
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in args and state != "Z":
            found[int(entry.name)] = args.strip()
    return found


def digest(db: Path) -> str:
    """Content digest of every article row, in id order (read-only: it changes nothing)."""
    import hashlib
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT * FROM articles ORDER BY id").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest()


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture
def server():
    """A local feed server on 127.0.0.1 (tests/feedserver.py), closed after the test."""
    from tests.feedserver import FeedServer

    s = FeedServer()
    yield s
    s.close()
