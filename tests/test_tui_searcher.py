"""irarchive browse's search process: used, never shows a stale answer, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.test_tui import IRAN, SAMARKAND, Browser, ids, run_async, settle, shown, type_text

pytest.importorskip("textual")

from irarchive.store import Filters  # noqa: E402
from irarchive.tui import source  # noqa: E402
from irarchive.tui.source import Reader, Stale  # noqa: E402


def exited(pid: int, within: float = 10.0) -> bool:
    """Whether process ``pid`` has exited (or is a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def in_thread_reads(reader: Reader) -> list[object]:
    """Record every function the reader runs on its own db thread (not in the process)."""
    ran: list[object] = []
    real = reader.run

    def run(fn, *args, generation=None):
        ran.append(fn)
        return real(fn, *args, generation=generation)

    reader.run = run
    return ran


async def ready(app) -> None:
    process = app.reader.process
    assert process is not None
    for _ in range(1000):
        if process.ready.is_set():
            return
        await asyncio_sleep(0.01)
    raise AssertionError("the search process never said it was ready")


async def asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


@run_async
async def test_browse_searches_in_the_process_and_it_exits_on_quit(tui_db):
    b = Browser(tui_db, search_process=True)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await ready(b.app)
        process = b.app.reader.process
        ran = in_thread_reads(b.app.reader)
        await type_text(pilot, "samarknd sumit")
        await settle(pilot)
        assert ids(b.app)[0] == SAMARKAND
        # Searched and counted in the process, none of it on the app's db thread.
        assert process.answered >= 2
        assert source._query not in ran and source._count not in ran
        assert b.app.results.results.total == len(ids(b.app))
        await pilot.press("q")
    assert exited(process.pid, within=5)
    assert process.proc.returncode == 0


def test_stale_requests_are_answered_stale_without_searching(tui_db):
    reader = Reader(str(tui_db))
    assert reader.start_process()
    try:
        assert reader.process.ready.wait(30)
        reader.want(5)
        for stale in (3, 4):
            with pytest.raises(Stale):
                reader.query("samarkand", Filters(), stale, 40)
        assert reader.process.answered == 0
        found = reader.query("samarkand", Filters(), 5, 40)
        assert found.generation == 5 and found.rows[0]["id"] == SAMARKAND
        assert reader.process.answered == 1
        # The same rows as a search on the app's own thread.
        reader.process.close()
        assert reader.query("samarkand", Filters(), 5, 40).rows == found.rows
    finally:
        reader.close()


@run_async
async def test_a_stale_answer_from_the_process_is_never_shown(tui_db):
    b = Browser(tui_db, search_process=True)
    late = threading.Event()
    real = b.app.reader.query

    def query(text, filters, generation, first=40):
        found = real(text, filters, generation, first)
        if text == "iran":  # answered by the process, then held until a newer one is shown
            late.wait(10)
        return found

    b.app.reader.query = query
    async with b.app.run_test(size=(120, 30)) as pilot:
        await ready(b.app)
        await type_text(pilot, "iran")
        await pilot.pause()
        await type_text(pilot, "ian nuclear")
        await shown(pilot, "iranian nuclear")
        newer = ids(b.app)
        late.set()
        await settle(pilot)
        assert b.app.reader.process.answered >= 1
        assert b.app.results.results.text == "iranian nuclear"
        assert ids(b.app) == newer and newer[0] == IRAN


@run_async
async def test_when_the_process_dies_searches_go_on_in_thread(tui_db):
    b = Browser(tui_db, search_process=True)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await ready(b.app)
        process = b.app.reader.process
        os.kill(process.pid, signal.SIGKILL)
        assert process.gone.wait(10)
        await type_text(pilot, "samarkand")
        await settle(pilot)
        assert ids(b.app)[0] == SAMARKAND


@run_async
async def test_when_the_process_cannot_start_searches_run_in_thread(tui_db, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tui_db.parent / "no-such-python"))
    b = Browser(tui_db, search_process=True)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await type_text(pilot, "samarkand")
        await settle(pilot)
        assert b.app.reader.process is None
        assert ids(b.app)[0] == SAMARKAND


KILLED_PARENT = """
import sys, time
from irarchive.tui.source import Reader
reader = Reader(sys.argv[1])
assert reader.start_process() and reader.process.ready.wait(30)
print(reader.process.pid, flush=True)
time.sleep(60)
"""


def test_the_process_exits_when_the_browser_is_killed(tui_db):
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT, str(tui_db)], stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(parent.stdout.readline())
        assert not exited(child, within=0)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    assert exited(child)


def collections_reach(process, n: int, within: float = 10.0) -> dict:
    """The child's garbage-collection stats once it has run ``n`` collections (or the
    deadline passed)."""
    deadline = time.monotonic() + within
    while True:
        stats = process.stats()
        if stats["collections"] >= n or time.monotonic() >= deadline:
            return stats
        time.sleep(0.05)


def test_the_process_collects_garbage_between_searches_when_idle(tui_db):
    from irarchive.tui.searcher import SearchProcess

    process = SearchProcess(str(tui_db), collect_idle=0.2, collect_every=1000)
    try:
        assert process.ready.wait(30)
        before = process.stats()
        # Never in the middle of a search: Python's own collector is off, and what the
        # process held at start-up (the modules a search uses) is frozen.
        assert before["automatic"] is False
        assert before["frozen"] > 1000
        assert before["collections"] == 0
        found = process.call("query", 1, "samarkand", Filters(), 1, 40)
        assert found.rows[0]["id"] == SAMARKAND
        # Idle after a search: it collects once, on its own.
        after = collections_reach(process, 1)
        assert after["collections"] == 1 and after["seconds"] >= 0
        time.sleep(0.6)  # three idle periods without a request: nothing to collect
        assert process.stats()["collections"] == 1
        process.call("query", 2, "iranian nuclear", Filters(), 2, 40)
        assert collections_reach(process, 2)["collections"] == 2
    finally:
        process.close()


def test_the_process_collects_after_so_many_requests_if_never_idle(tui_db):
    from irarchive.tui.searcher import SearchProcess

    process = SearchProcess(str(tui_db), collect_idle=3600, collect_every=3)
    try:
        assert process.ready.wait(30)
        for generation, text in enumerate(["s", "sa", "sam", "sama", "samar"], 1):
            process.call("query", generation, text, Filters(), generation, 40)
            # Answered after the work queued before it: the collection due after the
            # third request has run by then, the next one is not due yet.
            assert process.stats()["collections"] == generation // 3
        assert process.stats()["automatic"] is False
    finally:
        process.close()
