"""The browser's searches, run in a process of their own.

Ranking is pure Python. Run on a thread of the browser, it holds the interpreter lock
for tens of milliseconds at a time and the UI thread (drawing the previous keystroke's
results, reading the next key) waits for it. In a second process the two run side by
side, on two cores when there are two.

``SearchProcess`` starts a Python running ``main(FD PATH PARENT_PID)`` of this module: the
child opens the archive read-only through the same ``Reader`` the browser uses in-thread
(one db thread, a progress handler that aborts a read gone stale) and answers requests
sent as pickled tuples over a socket pair:

- ``(id, generation, op, args)``: run ``op`` (``query``, ``count``, ``page``) and answer
  ``(id, "ok", value, cpu)``, ``(id, "stale", None, None)`` if a newer generation was asked
  for before or while it ran, or ``(id, "error", message, None)``.
- ``("want", generation)``: a newer keystroke (answered from the browser's cache, say);
  reads of older generations stop. Every request also carries its generation, and the
  child reads requests as they come while the db thread works, so queued stale
  requests are answered "stale" without being run: only the newest is searched.
- ``(id, "stats")``: answered ``(id, "stats", {...}, None)`` once the work queued before
  it is done (``SearchProcess.stats``, the garbage collection below).

The child never outlives the browser: it exits when the socket closes (the browser quit
or died: the kernel closes its end), and on Linux the kernel also kills it when its
parent dies (``PR_SET_PDEATHSIG``, as the import reader does; see ``irarchive.ingest``).
If the process cannot start, or dies, the ``Reader`` reads in-thread instead.

Garbage: Python's cyclic collector would run whenever enough objects had been made,
that is in the middle of some search, and a full collection walks every object the
child holds (the searches' caches, the modules): tens of milliseconds added to a
random keystroke. Cycles are rare here (a few hundred objects over hundreds of
searches), so the child turns automatic collection off, freezes what it holds at
start-up (``gc.freeze``: the modules a search uses, imported before "ready", are never
walked again), and collects on the db thread, between searches: when no request has
come for ``idle`` seconds, and at the latest after ``every`` requests (a person who
never pauses). ``SearchProcess.stats`` says how many collections ran and what they cost.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any

from irarchive.tui.source import Stale

# The child's program. Not ``-m``: that would put the working directory first on the
# module path, and a folder named irarchive there would be imported instead.
CHILD = "import sys; del sys.path[0]; from irarchive.tui.searcher import main; main(sys.argv[1:])"
# Seconds ``close`` waits for the child to exit after closing its socket, before killing it.
EXIT_WAIT = 2.0
# The child collects garbage after this many seconds without a request, and at the
# latest after this many requests (see the module docstring).
COLLECT_IDLE = 0.5
COLLECT_EVERY = 500


class ProcessGone(Exception):
    """The search process has exited; read in-thread instead."""


class SearchProcess:
    """A child process answering the browser's searches (see the module docstring)."""

    def __init__(
        self, path: str, *, collect_idle: float = COLLECT_IDLE, collect_every: int = COLLECT_EVERY
    ) -> None:
        ours, theirs = socket.socketpair()
        argv = [str(theirs.fileno()), path, str(os.getpid()), str(collect_idle), str(collect_every)]
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, *argv],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # Its tracebacks must not draw over the browser's screen.
                stderr=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        from multiprocessing.connection import Connection

        self._conn = Connection(ours.detach())
        self._send_lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count(1)
        self.ready = threading.Event()
        self.gone = threading.Event()
        # Requests answered with rows (not "stale"), for tests and the benchmark.
        self.answered = 0
        self.cpu: dict[str, dict[int, float]] = {"query": {}, "count": {}}
        self._receiver = threading.Thread(
            target=self._receive, name="irarchive-searcher", daemon=True
        )
        self._receiver.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def usable(self) -> bool:
        return self.ready.is_set() and not self.gone.is_set()

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            with self._send_lock:
                self._conn.send(message)
        except (OSError, ValueError):  # closed or broken: the child has gone
            self._lost()
            raise ProcessGone from None

    def want(self, generation: int) -> None:
        try:
            self._send(("want", generation))
        except ProcessGone:
            pass

    def call(self, op: str, generation: int, *args: Any) -> Any:
        """``op(*args)`` in the child; raises ``Stale`` if it went stale, ``ProcessGone``."""
        return self._ask((generation, op, args))

    def stats(self) -> dict[str, Any]:
        """The child's garbage collection: ``automatic`` (whether Python's collector runs
        by itself), ``frozen`` objects, ``collections`` run, ``collected`` objects found
        unreachable, their ``seconds`` of CPU. Answered after the work queued before it;
        it makes no search stale."""
        return self._ask(("stats",))

    def _ask(self, message: tuple[Any, ...]) -> Any:
        if not self.usable():
            raise ProcessGone
        future: Future[Any] = Future()
        request = next(self._ids)
        self._pending[request] = future
        if self.gone.is_set():  # it went while this was being asked: nobody would answer
            self._pending.pop(request, None)
            raise ProcessGone
        self._send((request, *message))
        return future.result()

    def _receive(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError, ValueError):
                break
            if message == ("ready",):
                self.ready.set()
                continue
            request, outcome, value, cpu = message
            future = self._pending.pop(request, None)
            if future is None:
                continue
            if outcome == "ok":
                self.answered += 1
                future.set_result(value)
            elif outcome == "stats":
                future.set_result(value)
            elif outcome == "stale":
                future.set_exception(Stale())
            else:
                from irarchive.errors import IrarchiveError

                future.set_exception(IrarchiveError(value))
            if cpu is not None:
                self.cpu[cpu[0]][cpu[1]] = cpu[2]
        self._lost()

    def _lost(self) -> None:
        self.gone.set()
        for request in list(self._pending):
            future = self._pending.pop(request, None)
            if future is not None and not future.done():
                future.set_exception(ProcessGone())

    def close(self) -> None:
        """Stop the child: it exits when its socket closes; killed if it does not."""
        self.gone.set()
        with self._send_lock:
            if not self._conn.closed:
                # Closing alone does not end the receiving thread's recv (nor tell the
                # child) while that thread still uses the socket; shutting it down does.
                with socket.fromfd(self._conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.shutdown(socket.SHUT_RDWR)
                self._conn.close()
        try:
            self.proc.wait(EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._receiver.join(EXIT_WAIT)
        self._lost()


# ---- the child ------------------------------------------------------------------------


class _Collector:
    """Cyclic garbage collection between searches, on the db thread (module docstring)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.requests = 0  # since the last collection was queued
        self.collections = 0
        self.collected = 0
        self.seconds = 0.0

    def request(self) -> bool:
        """One more request; whether a collection is due anyway (``every`` of them).
        (Counted on the main thread only.)"""
        self.requests += 1
        return self.requests >= self.every

    def queue(self, pool: Any) -> None:
        """Collect on the db thread, once the work queued before is done."""
        self.requests = 0
        pool.submit(self.collect)

    def collect(self) -> None:
        import gc

        started = time.thread_time()
        self.collected += gc.collect()
        self.seconds += time.thread_time() - started
        self.collections += 1

    def stats(self) -> dict[str, Any]:
        import gc

        return {
            "automatic": gc.isenabled(),
            "frozen": gc.get_freeze_count(),
            "collections": self.collections,
            "collected": self.collected,
            "seconds": self.seconds,
        }


def _warm_up() -> None:
    """Import what a search imports, so that it is frozen with the rest."""
    import rapidfuzz.distance.OSA  # noqa: F401
    import rapidfuzz.fuzz  # noqa: F401
    import rapidfuzz.process  # noqa: F401

    import irarchive.search  # noqa: F401
    import irarchive.store.annotations  # noqa: F401


def serve(
    fd: int, path: str, parent: int, idle: float = COLLECT_IDLE, every: int = COLLECT_EVERY
) -> None:
    """Answer requests on the socket ``fd`` until it closes (see the module docstring)."""
    import gc

    gc.disable()
    from multiprocessing.connection import Connection

    from irarchive.ingest import _die_with
    from irarchive.tui import source

    _die_with(parent)
    conn = Connection(fd)
    reader = source.Reader(path)
    ops = {"query": source._query, "count": source._count, "page": source._page_for}
    send_lock = threading.Lock()

    def answer(request: int, generation: int, op: str, future: Future[Any]) -> None:
        cpu = None
        try:
            value = future.result()
            outcome = "ok"
            spent = reader.query_cpu if op == "query" else reader.count_cpu
            if op in ("query", "count") and generation in spent:
                cpu = (op, generation, spent.pop(generation))
        except Stale:
            outcome, value = "stale", None
        except Exception as exc:  # noqa: BLE001 - travels to the browser, which says it
            outcome, value = "error", str(exc) or type(exc).__name__
        try:
            with send_lock:
                conn.send((request, outcome, value, cpu))
        except OSError:
            os._exit(0)  # the browser has gone

    def stats(request: int) -> None:
        try:
            with send_lock:
                conn.send((request, "stats", collector.stats(), None))
        except OSError:
            os._exit(0)  # the browser has gone

    try:
        reader.run(lambda archive: None)  # open the archive before saying ready
        _warm_up()
    except Exception:  # noqa: BLE001 - the browser reads in-thread and reports the error
        os._exit(1)
    collector = _Collector(every)
    # What is held now (modules, the archive) lives as long as the process: never
    # walked by a collection again.
    gc.collect()
    gc.freeze()
    conn.send(("ready",))
    busy = time.monotonic()  # when the last search or keystroke came
    while True:
        try:
            if collector.requests:
                wait = busy + idle - time.monotonic()
                if wait <= 0 or not conn.poll(wait):
                    # Idle: collect between this keystroke's search and the next one's.
                    collector.queue(reader._pool)
                    continue
            message = conn.recv()
        except (EOFError, OSError, RuntimeError):
            os._exit(0)  # the browser quit or died: a running search is not wanted
        if message[0] == "want":
            busy = time.monotonic()
            reader.want(message[1])
            continue
        if message[1:] == ("stats",):
            try:
                reader._pool.submit(stats, message[0])
            except RuntimeError:
                os._exit(0)
            continue
        request, generation, op, args = message
        busy = time.monotonic()
        reader.want(generation)
        try:
            future = reader._pool.submit(reader._call, generation, ops[op], *args)
            if collector.request():  # never idle: after this search, before the next
                collector.queue(reader._pool)
        except RuntimeError:
            os._exit(0)
        future.add_done_callback(lambda done, r=request, g=generation, o=op: answer(r, g, o, done))


def main(argv: list[str]) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the browser's
    fd, path, parent, idle, every = argv
    serve(int(fd), path, int(parent), float(idle), int(every))


if __name__ == "__main__":
    main(sys.argv[1:])
