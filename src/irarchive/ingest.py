"""Read an input file into prepared articles, on a second core when it pays.

Parsing, folding and id/slug derivation are pure Python and about as costly as
SQLite's own work on an import, so for a big regular file a worker process does
them while this process writes: the two overlap on a two-core machine. Small
files, stdin and systems without ``fork`` are read in-process (same results; the
tests check both paths give the same archive).

The worker only reads the file and sends batches through a pipe; it never touches
the archive. It is forked after the archive's SQLite connection is open, which
SQLite warns about only for a child that uses or closes that connection: this one
does neither, and multiprocessing ends it with ``os._exit`` (no finalizers run).
If the worker fails, the import fails and its transaction is rolled back.

The worker never outlives this process (a ``kill -9`` of an import must not leave
it blocked on a full pipe forever, holding the input open): it closes its copy of
the pipe's reading end, so once this process is gone its next send fails, and on
Linux it also asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from irarchive import sources
from irarchive.errors import ImportFailed
from irarchive.store import Prepared, prepare

#: Files smaller than this are read in-process: starting a worker costs ~10 ms.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
_BATCH = 1000


def read_prepared(
    path: str,
    *,
    stdin: IO[bytes] | None = None,
    opened: IO[bytes] | None = None,
    **options: Any,
) -> Iterator[Prepared | sources.Rejected]:
    """The file's records, prepared for ``Archive.import_items``, in file order.

    ``options`` are ``sources.read``'s (``fmt``, ``date_order``, ``rename``), passed on
    as they are, to the worker too. ``opened``: the file, opened by the caller, who can
    follow how far it has been read with ``os.lseek(opened.fileno(), 0, SEEK_CUR)``; a
    worker process reads it through the same open file, so the position is shared.
    """
    if _parallel(path):
        yield from _from_worker(path, options, opened)
        return
    yield from _prepared(sources.read(path, stdin=stdin, opened=opened, **options))


def _prepared(items: Iterator[sources.Item]) -> Iterator[Prepared | sources.Rejected]:
    for item in items:
        yield item if isinstance(item, sources.Rejected) else prepare(item)


def _parallel(path: str) -> bool:
    if path == "-" or not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return False
    try:
        return os.path.isfile(path) and os.path.getsize(path) >= PARALLEL_MIN_BYTES
    except OSError:
        return False


def _from_worker(path: str, options: dict[str, Any], opened: IO[bytes] | None) -> Iterator[Any]:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    worker = ctx.Process(
        target=_work,
        args=(receiver, sender, os.getpid(), path, options, opened),
        daemon=True,
    )
    worker.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise ImportFailed(f"{path}: the reader process stopped unexpectedly") from None
            if kind == "items":
                yield from payload
            elif kind == "done":
                return
            elif kind == "error":
                raise ImportFailed(payload)
            else:  # a bug in the reader: surface it as the in-process path would
                raise RuntimeError(f"the import reader failed:\n{payload}")
    finally:
        receiver.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _work(
    receiver: Any,
    sender: Any,
    parent: int,
    path: str,
    options: dict[str, Any],
    opened: IO[bytes] | None,
) -> None:
    """Worker process: parse and prepare, send batches; errors travel as messages."""
    import signal

    # The fork copied the reading end too. Kept open here, it would keep the pipe
    # alive after the writer died, and a send into the full pipe would block forever.
    receiver.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle
    _die_with(parent)
    try:
        batch: list[Any] = []
        for item in _prepared(sources.read(path, opened=opened, **options)):
            batch.append(item)
            if len(batch) >= _BATCH:
                if os.getppid() != parent:  # orphaned (where the signal below is missing)
                    return
                sender.send(("items", batch))
                batch = []
        sender.send(("items", batch))
        sender.send(("done", None))
    except ImportFailed as exc:
        _send_quietly(sender, ("error", str(exc)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the writer has gone: nothing to report to
    except Exception:  # noqa: BLE001 - re-raised in the writer with this traceback
        import traceback

        _send_quietly(sender, ("crash", traceback.format_exc()))
    finally:
        sender.close()


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux), or exit now if it has.

    Strictly the signal comes when the parent's forking thread ends; the import is
    read to its end (or closed) in that thread, so that is when the worker is done.
    """
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here: the failed send and the getppid() check still end the worker
    # The parent may have died between the fork and the prctl call: no signal then.
    if os.getppid() != parent:
        os._exit(0)


#: From <linux/prctl.h>: deliver a signal to this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def _send_quietly(sender: Any, message: tuple[str, Any]) -> None:
    try:
        sender.send(message)
    except (BrokenPipeError, ConnectionResetError):
        pass
