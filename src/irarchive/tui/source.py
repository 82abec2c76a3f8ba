"""What the browser reads, and the one thread it reads it on.

The archive is opened read-only in a single dedicated thread and every read runs
there, one at a time. Why one thread and not a connection per worker: Textual starts
a new thread for each thread worker, and SQLite connections may only be used on the
thread that made them, so per-worker connections would be reopened on every
keystroke and start with a cold page cache each time. One long-lived connection keeps
the cache warm; a search that has gone stale (the person typed another letter) is
aborted inside SQLite by a progress handler, so it never delays the next one.

The browser itself (``irarchive browse``) runs its searches, counts and result pages in
a search process instead (``searcher``, which runs this same ``Reader`` there): ranking
is pure Python and on a thread it would hold the UI thread's interpreter lock. Until
that process is up, or if it fails, they run here.

This module is also the thin adapter between the browser and the library: the
browser never sees SQL, only ``Results`` (a query's rows, loaded page by page).

What a keystroke costs is kept to what the screen needs:

- A keystroke searches for a screenful (``first`` rows, ``search(limit=first)``), not
  a whole page: ranking fewer candidates is most of the saving.
- The number of results is counted after the rows are on screen, as its own
  cancellable read (``search.count``); until then the status line says "≥ N".
- Texts already searched (a space typed, a letter deleted) are answered from a small
  cache of recent ``Results`` without reading the archive at all. Each ``Results``
  carries the archive's ``version`` it was read at; the cache is emptied when the
  archive changes (another program imported or edited articles).

Further search rows are loaded on demand, always extending the rows already shown:
rows ``n..end`` come from ``search(limit=end)`` minus the articles already listed, so
a row never appears twice nor moves once shown. A page of the newest-first listing is
``Archive.list_articles(limit=, offset=)``: SQLite skips the rows before it in the
date index alone, whose order (date, then id) is the listing's (since m009).
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from irarchive.errors import IrarchiveError
from irarchive.store import Filters

T = TypeVar("T")
PAGE = 200
# Search rows a keystroke asks for when the list's height is not known yet.
FIRST = 40
# How many SQLite VM steps between checks whether the running read is still wanted.
CHECK_EVERY = 1000
# Recent queries whose results are kept (the first rows, and any pages loaded since).
CACHED = 64


class Stale(Exception):
    """The read was abandoned because a newer one was asked for."""


@dataclass
class Results:
    """A query's result rows, loaded page by page.

    ``total`` is exact once ``counted``; before that it is a lower bound (the rows
    found so far), shown as "≥ N".
    """

    text: str
    filters: Filters
    total: int
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Words to highlight in each title (by article id), from the search's matches.
    terms: dict[str, list[str]] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    paged: bool = False
    generation: int = 0
    counted: bool = True
    # (reading process id, *Archive.version()) when read: the cache is emptied when the
    # archive changes. Versions only compare within one connection, hence the process id.
    version: tuple[int, int, int] | None = None
    # The search read the last word as unfinished (``search(typing=True)``): the
    # same text with a space after it is searched again, not taken from the cache.
    unfinished: bool = False

    @property
    def searched(self) -> bool:
        return bool(self.text.strip())

    def get(self, index: int) -> dict[str, Any] | None:
        return self.rows.get(index)

    def missing_page(self, index: int) -> tuple[int, int] | None:
        """Rows ``(start, end)`` to load so that ``index`` is, if it is not loaded yet.

        A search's rows always extend the rows loaded so far (they are a ranking), up
        to the end of the page holding ``index``; the listing loads that page alone.
        """
        if not self.paged or index in self.rows or not 0 <= index < self.total:
            return None
        if self.searched:
            start = len(self.rows)
            return start, max(start + PAGE, index - index % PAGE + PAGE)
        start = index - index % PAGE
        return start, start + PAGE

    def copy(self, generation: int) -> Results:
        return dataclasses.replace(
            self,
            rows=dict(self.rows),
            terms=dict(self.terms),
            suggestions=list(self.suggestions),
            generation=generation,
        )


@dataclass
class Page:
    """Rows loaded from ``start``; ``total`` is set when they are the last ones."""

    start: int
    rows: list[dict[str, Any]]
    terms: dict[str, list[str]] = field(default_factory=dict)
    total: int | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.rows)


def cache_key(text: str, filters: Filters) -> tuple[str, Filters]:
    # Whitespace only separates words: "war " finds what "war" found.
    return " ".join(text.split()), filters


class ResultCache:
    """The ``Results`` of recent queries, newest last; used on the UI thread only."""

    def __init__(self, size: int = CACHED) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, Filters], Results] = OrderedDict()

    def get(self, text: str, filters: Filters, generation: int) -> Results | None:
        """A copy of the cached results for this query, renumbered ``generation``."""
        key = cache_key(text, filters)
        found = self._entries.get(key)
        if found is None or (found.unfinished and text[-1:].isspace()):
            return None
        self._entries.move_to_end(key)
        hit = found.copy(generation)
        hit.text = text
        return hit

    def clear(self) -> None:
        self._entries.clear()

    def put(self, results: Results) -> None:
        key = cache_key(results.text, results.filters)
        self._entries[key] = results
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class Reader:
    """The archive at ``path``, read on one thread; stale reads are cancelled."""

    def __init__(self, path: str) -> None:
        self.path = path
        # Searches run in a process of their own once it is up (``start_process``);
        # reads are in-thread until then, and if it cannot start or dies.
        self.process: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="irarchive-db")
        self._archive: Any = None
        self._wanted = 0  # the newest generation asked for
        self._running: int | None = None  # generation of the read in progress
        self._lock = threading.Lock()
        # CPU seconds each finished query took on the db thread, by generation (for the
        # benchmark: on a busy machine wall time says more about the neighbours).
        self.query_cpu: dict[int, float] = {}
        self.count_cpu: dict[int, float] = {}

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
            if generation is not None and fn in (_query, _count):
                spent = self.query_cpu if fn is _query else self.count_cpu
                spent[generation] = time.thread_time() - started
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

    def start_process(self) -> bool:
        """Start the search process (``searcher``); False if it cannot start."""
        from irarchive.tui.searcher import SearchProcess

        try:
            self.process = SearchProcess(self.path)
        except OSError:
            return False
        return True

    def want(self, generation: int) -> None:
        """A newer query was typed: reads for older generations stop."""
        with self._lock:
            self._wanted = max(self._wanted, generation)
        if self.process is not None:
            self.process.want(generation)

    def close(self) -> None:
        self.want(self._wanted + 1)
        if self.process is not None:
            self.process.close()
        if self._archive is not None:
            self._pool.submit(self._archive.close)
        self._pool.shutdown(wait=True)

    # ---- reads (each runs on the db thread) -------------------------------------------

    def total(self) -> int:
        return self.run(lambda a: a.count())

    def version(self) -> tuple[int, int, int]:
        """The archive's version on the db thread's connection (see ``Results.version``)."""
        return self.run(_version)

    def _searched(self, op: str, generation: int, fn: Callable[..., T], *args: Any) -> T:
        """``fn(archive, *args)`` in the search process if it is up, else on the db thread."""
        process = self.process
        if process is not None and process.usable():
            from irarchive.tui.searcher import ProcessGone

            try:
                value = process.call(op, generation, *args)
            except ProcessGone:
                pass  # it died: read in-thread from now on
            else:
                spent = process.cpu[op].pop(generation, None) if op in process.cpu else None
                if spent is not None:
                    (self.query_cpu if op == "query" else self.count_cpu)[generation] = spent
                return value
        return self.run(fn, *args, generation=generation)

    def query(self, text: str, filters: Filters, generation: int, first: int = FIRST) -> Results:
        """The first ``first`` results for ``text``, or the newest articles if it is blank."""
        return self._searched("query", generation, _query, text, filters, generation, first)

    def count(self, results: Results) -> int:
        """How many articles the query of ``results`` finds (cancelled if it goes stale)."""
        return self._searched("count", results.generation, _count, results.text, results.filters)

    def page(self, results: Results, start: int, end: int) -> Page:
        return self._searched("page", results.generation, _page_for, results, start, end)

    def categories(self) -> list[str]:
        return self.run(lambda a: a.categories())

    def related(self, article: dict[str, Any], limit: int = 30) -> list[Any]:
        from irarchive import analysis

        return self.run(lambda a: analysis.related(a, article, limit=limit))

    def article(self, article_id: str) -> dict[str, Any]:
        return self.run(lambda a: a.get(article_id))


def _version(archive: Any) -> tuple[int, int, int]:
    return (os.getpid(), *archive.version())


def _page_for(archive: Any, results: Results, start: int, end: int) -> Page:
    if results.searched:
        return _search_page(archive, results, start, end)
    return Page(start, _page(archive, results.filters, start))


def _page(archive: Any, filters: Filters, start: int) -> list[dict[str, Any]]:
    return _noted(archive, list(archive.list_articles(filters, limit=PAGE, offset=start)))


def _noted(archive: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their notes, for the preview (one query a page; none without notes)."""
    from irarchive.store.annotations import with_notes

    return list(with_notes(archive.conn, rows))


def _query(archive: Any, text: str, filters: Filters, generation: int, first: int) -> Results:
    found = _first_rows(archive, text, filters, generation, first)
    found.version = _version(archive)
    return found


def _first_rows(archive: Any, text: str, filters: Filters, generation: int, first: int) -> Results:
    if not text.strip():
        rows = dict(enumerate(_page(archive, filters, 0)))
        # A short first page is the whole listing; a full one is counted after the paint.
        counted = len(rows) < PAGE
        return Results(
            text, filters, len(rows), rows, paged=True, generation=generation, counted=counted
        )
    from irarchive.search import search

    try:
        result = search(archive, text, filters=filters, limit=first, typing=True)
    except IrarchiveError:
        return Results(text, filters, 0, generation=generation)
    rows = dict(enumerate(_noted(archive, [h.article for h in result.hits])))
    return Results(
        text,
        filters,
        len(rows),
        rows,
        terms=_highlights(result, result.hits),
        suggestions=result.suggestions,
        paged=True,
        generation=generation,
        unfinished=result.query.unfinished,
        # Fewer than asked for: the ranking ran out, this is every result.
        counted=len(rows) < first,
    )


def _highlights(result: Any, hits: list[Any]) -> dict[str, list[str]]:
    """The words to highlight in each hit's title: those it matched, then the query's
    own (a prefix being typed), each once."""
    words = [t.word for t in result.query.terms]
    return {h.article["id"]: list(dict.fromkeys([*h.matched["title"], *words])) for h in hits}


def _count(archive: Any, text: str, filters: Filters) -> int:
    # After the paint, while the person reads: the next keystrokes' searches then
    # test their matches against the filter's kept rowids (see Archive.keep_filter).
    archive.keep_filter(filters)
    if not text.strip():
        return archive.count_articles(filters)
    from irarchive.search import count

    try:
        return count(archive, text, filters=filters, typing=True)
    except IrarchiveError:
        return 0


def _search_page(archive: Any, results: Results, start: int, end: int) -> Page:
    """Search rows ``start..end``: the best ``end`` results not among the first ``start``.

    The first rows came from a smaller search, whose ranking can differ a little from
    a bigger one's; leaving out what is already listed keeps every article once.
    """
    from irarchive.search import search

    result = search(archive, results.text, filters=results.filters, limit=end, typing=True)
    shown = {results.rows[i]["id"] for i in range(start) if i in results.rows}
    hits = [h for h in result.hits if h.article["id"] not in shown][: end - start]
    page = Page(start, _noted(archive, [h.article for h in hits]), _highlights(result, hits))
    if len(result.hits) < end:
        page.total = start + len(hits)  # the ranking ran out: these are the last rows
    return page
