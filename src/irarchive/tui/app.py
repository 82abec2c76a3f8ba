"""The browser: a search box, the result list, a preview pane and a status line.

Every keystroke in the search box starts a search in an exclusive thread worker, so
a newer keystroke cancels the stale search (in SQLite too, see ``source``) and the
UI never waits for the archive. A keystroke asks only for a screenful of rows; the
results are counted once they are on screen, and a text searched a moment ago
(a space typed, a letter deleted) is shown again from a cache without a search.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Footer, Input

from irarchive.errors import IrarchiveError
from irarchive.store import Filters
from irarchive.tui.category_picker import ALL, CategoryPicker
from irarchive.tui.collector import QuietCollector
from irarchive.tui.date_dialog import DateDialog, parse_filter
from irarchive.tui.detail import DetailScreen
from irarchive.tui.help import HelpScreen
from irarchive.tui.preview import Preview
from irarchive.tui.related import RelatedScreen
from irarchive.tui.results import END_JUMP, ResultList
from irarchive.tui.search_bar import SearchBar
from irarchive.tui.source import FIRST, Page, Reader, ResultCache, Results, Stale
from irarchive.tui.status import StatusLine

# Actions about the highlighted article: not while a dialog is open.
ARTICLE_ACTIONS = {"open_url", "copy_id", "copy_bibtex", "related"}
# A damaged or vanished archive: said on the status line, the browser stays up.
READ_ERRORS = (IrarchiveError, sqlite3.DatabaseError)
T = TypeVar("T")
MAIN_ACTIONS = {"focus_search", "dates", "category", "help"}
# Seconds a search may take before the status line says "searching…".
BUSY_AFTER = 0.15
# Refreshes the results' arrival waits for one that drew them (see ``_shown``).
SHOWN_WAITS = 4
# Seconds between looks at whether another program changed the archive.
CHECK_CHANGES_EVERY = 2.0


class BrowseApp(App[dict[str, Any] | None]):
    """``irarchive browse``: returns the chosen article in pick mode, else None."""

    CSS_PATH = "browse.tcss"
    TITLE = "irarchive browse"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+c", "quit_or_cancel", "Quit", priority=True),
        Binding("ctrl+f", "focus_search", "Search", priority=True, show=False),
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("o", "open_url", "Open url"),
        Binding("y", "copy_id", "Copy id"),
        Binding("b", "copy_bibtex", "BibTeX"),
        Binding("r", "related", "Related"),
        Binding("d", "dates", "Dates"),
        Binding("c", "category", "Category"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit_or_cancel", "Quit", show=False),
        Binding("escape", "escape", "Back", show=False),
    ]

    def __init__(
        self,
        path: str,
        *,
        query: str = "",
        filters: Filters | None = None,
        dates_text: str = "",
        pick: bool = False,
        search_process: bool = False,
        today: date | None = None,
        open_url: Callable[[str], Any] | None = None,
        light: bool = False,
    ) -> None:
        super().__init__()
        self.archive_path = path
        self.search_process = search_process
        self.reader = Reader(path)
        self.cache = ResultCache()
        self.collector = QuietCollector()
        self.initial_query = query
        self.filters = filters or Filters()
        self.dates_text = dates_text
        self.pick = pick
        self.today = today or date.today()
        self._open_url = open_url
        self.generation = 0
        self.total: int | None = None
        # The archive's version when last read, by reading process (see Results.version).
        self.versions: dict[int, tuple[int, int, int]] = {}
        self._categories: list[str] | None = None
        # Keystroke timings for the benchmark: generation -> when it was typed, and
        # (query, seconds until results for it or a later keystroke were on screen).
        self._typed: dict[int, tuple[str, float]] = {}
        self.latencies: list[tuple[str, float]] = []
        self.first_results_at: float | None = None
        self._end_note: tuple[int, int, str] | None = None  # (generation, row, note)
        if light:
            self.theme = "textual-light"

    # ---- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SearchBar(self.initial_query)
        with Horizontal(id="body"):
            yield ResultList(id="results")
            yield Preview(id="preview")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        if self.search_process:
            # From the main thread: the kernel's "kill it when its parent dies" is tied
            # to the thread that started it.
            self.reader.start_process()
        self.query_one(SearchBar).focus()
        self.start_query()
        self.load_total()
        self.set_interval(CHECK_CHANGES_EVERY, self._tick)

    def _tick(self) -> None:
        self.collector.limit()
        self.check_changes()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            # No garbage collection from a key to the frame that shows what it did
            # (see ``collector``); a key that searches holds it until its results.
            self._hold_until_drawn()
        await super().on_event(event)

    def _hold_until_drawn(self) -> None:
        self.collector.hold()
        self.call_after_refresh(self._drawn, self.results.drawn)

    def _drawn(self, before: int, waits: int = 0) -> None:
        # As in ``_shown``: the first refresh may come before the list's repaint.
        if self.results.drawn == before and waits < SHOWN_WAITS and self.results.region:
            self.call_after_refresh(self._drawn, before, waits + 1)
        elif not self._typed:  # no keystroke is waiting for its results (see ``_shown``)
            self.collector.release()

    def on_unmount(self) -> None:
        self.reader.close()
        self.collector.close()

    @property
    def results(self) -> ResultList:
        return self.query_one(ResultList)

    @property
    def query_text(self) -> str:
        return self.query_one(SearchBar).value

    # ---- searching -----------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.start_query()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.results.action_choose()

    def start_query(self) -> None:
        self.generation += 1
        self.reader.want(self.generation)
        self._typed[self.generation] = (self.query_text, time.perf_counter())
        self.collector.hold()
        cached = self.cache.get(self.query_text, self.filters, self.generation)
        if cached is not None:
            self.show_results(cached)
            return
        # "searching…" only if it takes a while: a flash of it on every keystroke would
        # cost a redraw each time and tell nobody anything.
        self.set_timer(BUSY_AFTER, functools.partial(self._busy, self.generation))
        self.run_query(self.query_text, self.filters, self.generation, self.rows_wanted())

    def rows_wanted(self) -> int:
        """Search rows a keystroke asks for: a screenful and a few more (the rest on demand)."""
        return max(FIRST, self.results.size.height + 5)

    def _read(
        self,
        read: Callable[[], T],
        then: Callable[[T], Any],
        *,
        failed: Callable[[str], Any] | None = None,
        quiet: bool = False,
    ) -> None:
        """From a worker thread: ``read()`` from the archive, and hand its answer to
        ``then`` on the app's thread.

        A stale read (a newer keystroke took its place, or the app is quitting) is
        dropped, and so is an answer that arrives once the app has begun to close (its
        widgets may be gone). A failed one is said, ``Error: …``, by ``failed`` (by
        default in the status line), unless ``quiet``.
        """
        try:
            value = read()
        except Stale:
            return
        except READ_ERRORS as exc:
            if not quiet:
                self.call_from_thread(self._if_open, failed or self._say_error, f"Error: {exc}")
            return
        self.call_from_thread(self._if_open, then, value)

    def _if_open(self, callback: Callable[..., Any], *args: Any) -> None:
        """``callback(*args)``, unless the app has begun to close: a worker thread's answer
        can come while the widgets it would change are being removed."""
        if self.is_running:  # False from the moment the app starts to close
            callback(*args)

    def _say_error(self, note: str) -> None:
        self.say(note=note)

    @work(exclusive=True, thread=True, group="query")
    def run_query(self, text: str, filters: Filters, generation: int, first: int) -> None:
        self._read(
            lambda: self.reader.query(text, filters, generation, first),
            self.show_results,
            failed=self._query_failed,
        )

    def _query_failed(self, note: str) -> None:
        self._typed.clear()  # no results are coming for the keystrokes waiting
        self.collector.release()
        self.say(note=note)

    def _busy(self, generation: int) -> None:
        if generation != self.generation or not self.query(ResultList):
            return  # a newer keystroke, or the app is closing (its widgets are gone)
        if self.results.results.generation != generation:
            self.say(busy=True)

    def show_results(self, found: Results) -> None:
        if found.generation != self.generation:
            return  # a newer keystroke is being searched
        if found.version is not None:
            self._seen_version(found.version)
        self.cache.put(found)
        # The rows, the preview and the status line change here, together, so one
        # frame draws them all: the preview following the list's Highlighted message
        # instead came a message later, often a frame later.
        self.results.show(found)
        self.show_preview()
        self.say()
        self.call_after_refresh(self._shown, found.generation)
        if not found.counted:
            self.call_after_refresh(self.run_count, found)

    # A fixed description: Textual's default is the repr of the arguments, every row
    # loaded so far (35 ms on the UI thread for a page at row 10,000).
    @work(exclusive=True, thread=True, group="count", description="count the results")
    def run_count(self, found: Results) -> None:
        """Count the results once the first rows are on screen (cancelled by a keystroke)."""
        self._read(lambda: self.reader.count(found), lambda total: self._counted(found, total))

    def _counted(self, found: Results, total: int) -> None:
        self.results.counted(found, total)
        if found is self.results.results:
            self.say()

    def _shown(self, generation: int, waits: int = 0) -> None:
        # A widget's repaint reaches the screen as a message: the first refresh after
        # show_results may be one that did not draw the list yet (a cached text is
        # answered before the key's own echo is drawn). Wait for the frame that did.
        if self.results.painted < generation and waits < SHOWN_WAITS and self.results.region:
            self.call_after_refresh(self._shown, generation, waits + 1)
            return
        now = time.perf_counter()
        if self.first_results_at is None:
            self.first_results_at = now
            self.collector.settle()
        if generation == self.generation:
            self.collector.release()
        for gen in [g for g in self._typed if g <= generation]:
            text, typed_at = self._typed.pop(gen)
            self.latencies.append((text, now - typed_at))

    def on_result_list_end_capped(self, event: ResultList.EndCapped) -> None:
        more = "" if self.results.results.counted else "≥ "
        note = f"End: row {event.row + 1:,} of {more}{event.total:,} (End again: {END_JUMP:,} on)"
        # Kept while the cursor stays there: the page's arrival redraws the status line.
        self._end_note = (self.results.results.generation, event.row, note)
        self.say()

    def on_result_list_need_page(self, event: ResultList.NeedPage) -> None:
        self.load_page(event.results, event.start, event.end)

    @work(thread=True, group="pages", description="load a page of results")
    def load_page(self, found: Results, start: int, end: int) -> None:
        self._read(
            lambda: self.reader.page(found, start, end), lambda page: self._loaded(found, page)
        )

    def _loaded(self, found: Results, page: Page) -> None:
        self._hold_until_drawn()
        self.results.loaded(found, page)
        if found is self.results.results:
            self.say()

    @work(thread=True, exclusive=True, group="changes")
    def check_changes(self) -> None:
        """Look whether another program changed the archive (see ``_seen_version``)."""
        # An error is said by the next search, which meets the same one.
        self._read(self.reader.version, self._seen_version, quiet=True)

    def _seen_version(self, version: tuple[int, int, int]) -> None:
        """Cached results and categories from before a change are stale: forget them,
        recount the archive."""
        last = self.versions.get(version[0])
        if last is not None and version != last:
            self.cache.clear()
            self._categories = None
            self.load_total()
        self.versions[version[0]] = version

    @work(thread=True, group="total")
    def load_total(self) -> None:
        self._read(self.reader.total, self._set_total)

    def _set_total(self, total: int) -> None:
        self.total = total
        self.say()

    def say(self, *, busy: bool = False, note: str = "") -> None:
        filters = []
        if self.dates_text:  # a lone date is "since": say so with the range form
            shown = self.dates_text if ".." in self.dates_text else self.dates_text + ".."
            filters.append(f"dates: {shown}")
        if self.filters.undated:
            filters.append("undated")
        if self.filters.categories:
            filters.append("category: " + ", ".join(self.filters.categories))
        if self.filters.tags or self.filters.without_tags:
            tags = [*self.filters.tags, *("-" + t for t in self.filters.without_tags)]
            filters.append("tag: " + ", ".join(tags))
        found = self.results.results
        current = found.generation == self.generation
        if not found.total and current and found.text.strip() and found.suggestions:
            note = note or "did you mean: " + " ".join(found.suggestions)
        if self._end_note is not None and not note:
            generation, row, end_note = self._end_note
            if generation == found.generation and row == self.results.cursor:
                note = end_note
        self.query_one(StatusLine).say(
            count=found.total if current else None,
            more=current and not found.counted,
            total=self.total,
            query=self.query_text,
            filters=filters,
            busy=busy,
            note=note,
        )

    # ---- the highlighted article ---------------------------------------------------------

    def on_result_list_highlighted(self, event: ResultList.Highlighted) -> None:
        self.query_one(Preview).show(event.article, self.results.terms(event.article))

    def show_preview(self) -> None:
        """The highlighted article in the preview (drawn again only if it changed)."""
        article = self.results.current
        self.query_one(Preview).show(article, self.results.terms(article))

    def on_result_list_chosen(self, event: ResultList.Chosen) -> None:
        self.choose(event.article)

    def choose(self, article: dict[str, Any]) -> None:
        if self.pick:
            self.exit(article)
        else:
            self.push_screen(DetailScreen(article))

    @property
    def article(self) -> dict[str, Any] | None:
        """The article the keys act on: the one open full-screen, else the highlighted one."""
        if isinstance(self.screen, DetailScreen):
            return self.screen.article
        return self.results.current

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        modal = isinstance(self.screen, ModalScreen)
        if action in ARTICLE_ACTIONS:
            return not modal
        if action in MAIN_ACTIONS:
            return not modal and not isinstance(self.screen, DetailScreen)
        return True

    def _need_article(self) -> dict[str, Any] | None:
        article = self.article
        if article is None:
            self.notify("No article highlighted", severity="warning", markup=False)
        return article

    def action_open_url(self) -> None:
        article = self._need_article()
        if article is None:
            return
        url = article.get("url")
        if not url:
            self.notify("This article has no url", severity="warning", markup=False)
            return
        if self._open_url is None:
            import webbrowser

            self._open_url = webbrowser.open
        self._open_url(url)
        self.notify(f"Opened in the web browser: {url}", markup=False)

    def action_copy_id(self) -> None:
        article = self._need_article()
        if article is not None:
            self.copy_to_clipboard(article["id"])
            self.notify(f"Copied the id {article['id']}", markup=False)

    def action_copy_bibtex(self) -> None:
        article = self._need_article()
        if article is not None:
            from irarchive.citations import bibtex

            self.copy_to_clipboard("".join(bibtex([article])))
            self.notify("Copied the BibTeX entry", markup=False)

    def action_related(self) -> None:
        article = self._need_article()
        if article is not None:
            self.say(note="finding related articles…")
            self.load_related(article)

    @work(thread=True, exclusive=True, group="related")
    def load_related(self, article: dict[str, Any]) -> None:
        self._read(
            lambda: self.reader.related(article), lambda found: self._show_related(article, found)
        )

    def _show_related(self, article: dict[str, Any], found: list[Any]) -> None:
        self.say()

        def opened(chosen: dict[str, Any] | None) -> None:
            if chosen is not None:
                self.choose(chosen)

        self.push_screen(RelatedScreen(article, found), opened)

    # ---- filters ---------------------------------------------------------------------------

    def action_dates(self) -> None:
        def chosen(answer: Any) -> None:
            if answer is None:
                return
            period, text = answer
            self.dates_text = text
            # Keeps the categories and tags (--tag) chosen.
            self.filters = replace(self.filters, period=period, undated=False)
            self.start_query()

        self.push_screen(
            DateDialog(self.dates_text, lambda text: parse_filter(text, today=self.today)), chosen
        )

    def action_category(self) -> None:
        if self._categories is not None:  # read before, and the archive has not changed
            self._pick_category(self._categories)
            return
        self.say(note="reading the categories…")
        self.load_categories()

    @work(thread=True, exclusive=True, group="categories")
    def load_categories(self) -> None:
        self._read(self.reader.categories, self._got_categories)

    def _got_categories(self, categories: list[str]) -> None:
        self._categories = categories
        self._pick_category(categories)

    def _pick_category(self, categories: list[str]) -> None:
        self.say()
        current = self.filters.categories[0] if len(self.filters.categories) == 1 else None

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            cats = () if answer == ALL else (answer,)
            self.filters = replace(self.filters, categories=cats)
            self.start_query()

        self.push_screen(CategoryPicker(categories, current), chosen)

    # ---- moving around ---------------------------------------------------------------------

    def action_focus_search(self) -> None:
        if isinstance(self.screen, ModalScreen | DetailScreen):
            return
        self.query_one(SearchBar).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.archive_path))

    def action_escape(self) -> None:
        if self.pick:
            self.exit(None)
        elif self.focused is self.query_one(SearchBar):
            self.results.focus()

    def action_quit_or_cancel(self) -> None:
        self.exit(None)
