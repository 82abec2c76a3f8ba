"""What the browser reads, and the one thread it reads it on.

The archive is opened read-only in a single dedicated thread and every read runs
there, one at a time. Why one thread and not a connection per worker: Textual starts
a new thread for each thread worker, and SQLite connections may only be used on the
thread that made them, so per-worker connections would be reopened on every
keystroke and start with a cold page cache each time. One long-lived connection keeps
the cache warm; a search that has gone stale (the person typed another letter) is
aborted inside SQLite by a progress handler, so it never delays the next one.

This module is also the thin adapter between the browser and the library: the
browser never sees SQL, only ``Results`` (a query's rows, loaded page by page).
Search results are loaded a page at a time (``search(limit=PAGE, offset=...)``, the
same bounded ranking as ``irarchive search``), with ``search.count`` for the total.
Paging the newest-first listing uses ``Archive.list_articles(limit=...)`` and skips
the rows before the page (the listing API has no offset), so a listing page costs
time in proportion to its offset.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from irarchive.errors import IrarchiveError
from irarchive.store import Filters

T = TypeVar("T")
PAGE = 200
# How many SQLite VM steps between checks whether the running read is still wanted.
CHECK_EVERY = 1000


class Stale(Exception):
    """The read was abandoned because a newer one was asked for."""


@dataclass
class Results:
    """A query's result rows: all of them (search) or loaded page by page (listing)."""

    text: str
    filters: Filters
    total: int
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Words to highlight in each title (by article id), from the search's matches.
    terms: dict[str, list[str]] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    paged: bool = False
    generation: int = 0

    def get(self, index: int) -> dict[str, Any] | None:
        return self.rows.get(index)

    def missing_page(self, index: int) -> int | None:
        """The first row of the page holding ``index`` if it is not loaded yet."""
        if not self.paged or index in self.rows or not 0 <= index < self.total:
            return None
        return index - index % PAGE


class Reader:
    """The archive at ``path``, read on one thread; stale reads are cancelled."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="irarchive-db")
        self._archive: Any = None
        self._wanted = 0  # the newest generation asked for
        self._running: int | None = None  # generation of the read in progress
        self._lock = threading.Lock()
        # CPU seconds each finished query took on the db thread, by generation (for the
        # benchmark: on a busy machine wall time says more about the neighbours).
        self.query_cpu: dict[int, float] = {}

    # ---- the db thread --------------------------------------------------------------

    def _still_wanted(self) -> int:
        running = self._running
        return 1 if running is not None and running != self._wanted else 0

    def _open(self) -> Any:
        if self._archive is None:
            from irarchive.store import open_archive

            self._archive = open_archive(self.path, create=False, readonly=True)
            self._archive.conn.set_progress_handler(self._still_wanted, CHECK_EVERY)
        return self._archive

    def _call(self, generation: int | None, fn: Callable[..., T], *args: Any) -> T:
        if generation is not None and generation != self._wanted:
            raise Stale
        archive = self._open()
        self._running = generation
        started = time.thread_time()
        try:
            result = fn(archive, *args)
            if fn is _query and generation is not None:
                self.query_cpu[generation] = time.thread_time() - started
            return result
        except sqlite3.OperationalError as exc:
            if generation is not None and "interrupted" in str(exc):
                raise Stale from None
            raise
        finally:
            self._running = None

    def run(self, fn: Callable[..., T], *args: Any, generation: int | None = None) -> T:
        """Run ``fn(archive, *args)`` on the db thread; with a generation, it is cancellable."""
        try:
            future = self._pool.submit(self._call, generation, fn, *args)
        except RuntimeError:  # closed: the app is quitting, nobody wants the answer
            raise Stale from None
        return future.result()

    # ---- called from the UI thread ----------------------------------------------------

    def want(self, generation: int) -> None:
        """A newer query was typed: reads for older generations stop."""
        with self._lock:
            self._wanted = max(self._wanted, generation)

    def close(self) -> None:
        self.want(self._wanted + 1)
        if self._archive is not None:
            self._pool.submit(self._archive.close)
        self._pool.shutdown(wait=True)

    # ---- reads (each runs on the db thread) -------------------------------------------

    def total(self) -> int:
        return self.run(lambda a: a.count())

    def query(self, text: str, filters: Filters, generation: int) -> Results:
        """Search results for ``text``, or the newest articles (first page) if it is blank."""
        return self.run(_query, text, filters, generation, generation=generation)

    def page(self, results: Results, start: int, generation: int) -> list[dict[str, Any]]:
        if results.text.strip():
            return self.run(_search_page, results, start, generation=generation)
        return self.run(_page, results.filters, start, generation=generation)

    def categories(self) -> list[str]:
        return self.run(lambda a: a.categories())

    def related(self, article: dict[str, Any], limit: int = 30) -> list[Any]:
        from irarchive import analysis

        return self.run(lambda a: analysis.related(a, article, limit=limit))

    def article(self, article_id: str) -> dict[str, Any]:
        return self.run(lambda a: a.get(article_id))


def _page(archive: Any, filters: Filters, start: int) -> list[dict[str, Any]]:
    # No offset in the current listing API: read up to the page's end and skip the rest.
    rows = archive.list_articles(filters, limit=start + PAGE)
    return _noted(archive, list(islice(rows, start, None)))


def _noted(archive: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their notes, for the preview (one query a page; none without notes)."""
    from irarchive.store.annotations import with_notes

    return list(with_notes(archive.conn, rows))


def _query(archive: Any, text: str, filters: Filters, generation: int) -> Results:
    if not text.strip():
        total = archive.count_articles(filters)
        first = _page(archive, filters, 0)
        rows = dict(enumerate(first))
        return Results(text, filters, total, rows, paged=True, generation=generation)
    from irarchive.search import count, search

    try:
        result = search(archive, text, filters=filters, limit=PAGE)
    except IrarchiveError:
        return Results(text, filters, 0, generation=generation)
    rows = dict(enumerate(_noted(archive, [h.article for h in result.hits])))
    words = [t.word for t in result.query.terms]
    terms = {h.article["id"]: h.matched["title"] + words for h in result.hits}
    total = len(rows)
    if total == PAGE:
        # More pages may follow: the count of articles with every word is cheap, and
        # paging stops by itself where the ranking runs out.
        total = max(total, count(archive, text, filters=filters))
    return Results(
        text,
        filters,
        total,
        rows,
        terms=terms,
        suggestions=result.suggestions,
        paged=True,
        generation=generation,
    )


def _search_page(archive: Any, results: Results, start: int) -> list[dict[str, Any]]:
    """Rows ``start..start+PAGE`` of a search, with the words to highlight recorded."""
    from irarchive.search import search

    result = search(archive, results.text, filters=results.filters, limit=PAGE, offset=start)
    words = [t.word for t in result.query.terms]
    for h in result.hits:
        results.terms[h.article["id"]] = h.matched["title"] + words
    if len(result.hits) < PAGE:
        results.total = start + len(result.hits)  # the ranking ran out before the count
    return _noted(archive, [h.article for h in result.hits])
