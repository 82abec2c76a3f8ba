"""The result list: a virtual list that renders only the rows on screen.

It holds a ``Results`` (the rows loaded so far of a search or of the newest-first
listing) and asks for missing rows with a ``NeedPage`` message, so a million-article
listing never becomes a million widgets or rows in memory.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from irarchive.store import Filters
from irarchive.tui import render
from irarchive.tui.source import Page, Results

# Drawn rows kept (a few screens' worth of a 200-row-high terminal), across queries:
# typing a query letter by letter mostly shows the same articles highlighted alike.
STRIPS = 250
# How far End goes past the search rows loaded so far: ranking costs time in proportion
# to the rows ranked (all 31,316 of "war" on a million articles: about 6 s), so End
# goes on this far at a time, and says so, instead of freezing the list.
END_JUMP = 1000


class ResultList(ScrollView, can_focus=True):
    """Dated results, one per line; the cursor row is previewed."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "choose", "Open", show=False),
    ]
    COMPONENT_CLASSES = {"result-list--cursor", "result-list--loading"}
    cursor = reactive(0, always_update=True, init=False, repaint=False)

    class Highlighted(Message):
        """The cursor moved to another article (None: nothing there, or not loaded)."""

        def __init__(self, article: dict[str, Any] | None) -> None:
            super().__init__()
            self.article = article

    class Chosen(Message):
        """Enter (or a click on the highlighted row) on an article."""

        def __init__(self, article: dict[str, Any]) -> None:
            super().__init__()
            self.article = article

    class NeedPage(Message):
        """Rows ``start..end`` are wanted on screen but not loaded."""

        def __init__(self, results: Results, start: int, end: int) -> None:
            super().__init__()
            self.results = results
            self.start = start
            self.end = end

    class EndCapped(Message):
        """End stopped at row ``row`` (0-based) of ``total``, short of the last."""

        def __init__(self, row: int, total: int) -> None:
            super().__init__()
            self.row = row
            self.total = total

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = Results("", Filters(), 0)
        # The generation of the results last drawn (the browser's "on screen"), and
        # how many lines have been drawn (a key's frame has drawn when it grows).
        self.painted = -1
        self.drawn = 0
        self._asked: set[tuple[int, int]] = set()
        # Drawn rows by what they show: (id, date, title, category, where the title is
        # highlighted, width, cursor row). Typing changes the query's words with every
        # key but mostly not which words are highlighted, nor the articles shown: a
        # keystroke's new results draw only the rows that look different.
        self._strips: dict[tuple[Any, ...], Strip] = {}
        # Each row's key in ``_strips`` by (index, cursor row, width), for these results.
        self._keys: dict[tuple[int, bool, int], tuple[Any, ...]] = {}
        # What each line of the list on screen shows (its key), as last drawn.
        self._shown: dict[int, tuple[Any, ...]] = {}

    # ---- data ---------------------------------------------------------------------------

    def show(self, results: Results) -> None:
        """Replace the rows (a new query), cursor on the first."""
        shown = dict(self._shown)
        whole = self.scroll_offset.y != 0 or len(shown) != self.scrollable_content_region.height
        self.results = results
        self._asked.clear()
        self._keys.clear()
        self._set_length(self._length())
        self.scroll_to(y=0, animate=False, immediate=True)
        self.cursor = 0
        if whole:
            self.refresh()
            return
        # Only the lines that look different are drawn again (typing mostly keeps the
        # rows and how they are highlighted); the first line always, so the frame
        # that shows these results draws the list and says so (``painted``).
        for y, key in shown.items():
            if y == 0 or self._key(y) != key:
                self.refresh_line(y)

    def loaded(self, results: Results, page: Page) -> None:
        """A page arrived (ignored if the query changed meanwhile)."""
        if results is not self.results:
            return
        for i, article in enumerate(page.rows, page.start):
            results.rows[i] = article
        results.terms.update(page.terms)
        self._keys.clear()
        if page.total is not None:
            # A search's count is "about N": the last page says where it really ends.
            results.total, results.counted = page.total, True
        elif results.searched and not results.counted:
            results.total = max(results.total, len(results.rows))
        self.resized()
        top = self.scroll_offset.y
        if page.start < top + self.scrollable_content_region.height and page.end > top:
            self.refresh()  # else a page read ahead, off screen: nothing to draw yet
        if page.start <= self.cursor < page.start + len(page.rows):
            self.post_message(self.Highlighted(self.current))

    def counted(self, results: Results, total: int) -> None:
        """The count arrived: the list grows to it (pages load as they come on screen)."""
        if results.counted:
            return  # the last page already said where the results end
        before = results.total
        results.total = max(total, len(results.rows)) if results.searched else total
        results.counted = True
        if results is self.results:
            self.resized()
            # Only the scrollbar changes, unless the list ended on screen.
            if before < self.scroll_offset.y + self.scrollable_content_region.height:
                self.refresh()

    def resized(self) -> None:
        """The list's length follows ``results.total``; the cursor stays on a row."""
        if self.virtual_size.height != self._length():
            self._set_length(self._length())
            if self.results.total and self.cursor >= self.results.total:
                self.cursor = self.results.total - 1

    def _length(self) -> int:
        """The scroll range: the results' length, and until they are counted no less
        than it was. A keystroke's first rows are a screenful (``≥ 45``), counted a
        moment later: the scrollbar would jump from the last count to a screenful and
        back on every keystroke, and each jump redraws it (2-3 ms a frame). Lines past
        the rows found are blank meanwhile, and the cursor stays on the rows."""
        found = self.results
        return found.total if found.counted else max(found.total, self.virtual_size.height)

    def _set_length(self, rows: int) -> None:
        """The list is ``rows`` long: new scroll range and scrollbar, and no layout.

        Setting ``virtual_size`` would lay out the whole screen (it is a layout
        reactive) on every keystroke and count, but the list's own size never depends
        on its length (``height: 1fr``, a scrollbar always there), so the scroll range
        and the scrollbar are all that change.
        """
        size = Size(self.size.width, rows)
        if size == self.virtual_size:
            return
        before = self._thumb(self.virtual_size.height)
        self.set_reactive(ResultList.virtual_size, size)
        if before is not None and before == self._thumb(rows):
            # The scrollbar looks the same (its thumb at its smallest, at the top, for
            # 31,316 results as for 27,043): its range changes, it is not redrawn.
            self.vertical_scrollbar.set_reactive(ScrollBar.window_virtual_size, rows)
        else:
            self._scroll_update(size)

    def _thumb(self, rows: int) -> tuple[int, int] | None:
        """Where the scrollbar's thumb is for a list ``rows`` long, in eighths of a cell,
        as Textual's ``ScrollBarRender`` places it (None: no thumb, or not laid out)."""
        bar = self.vertical_scrollbar
        size, window, position = bar.size.height, bar.window_size, bar.position
        if not (size and window and rows and size != rows and rows != window):
            return None
        thumb = max(1, window / (rows / size))
        start = int((size - thumb) * (position / (rows - window)) * 8)
        return start, start + ceil(thumb * 8)

    @property
    def current(self) -> dict[str, Any] | None:
        return self.results.get(self.cursor)

    def terms(self, article: dict[str, Any] | None) -> list[str]:
        return self.results.terms.get(article["id"], []) if article else []

    # ---- drawing --------------------------------------------------------------------------

    def _key(self, y: int) -> tuple[Any, ...]:
        """What line ``y`` of the list shows: a row's key in ``_strips``, or a blank
        or loading line."""
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if index >= self.results.total:
            return ("blank", width)
        article = self.results.get(index)
        if article is None:
            return ("loading", width)
        # Drawn rows are kept by what they show until the focus or the theme change:
        # a redraw for the status line, the cursor or the next keystroke's results
        # then costs a lookup per row that looks the same.
        cursor = index == self.cursor
        place = (index, cursor, width)
        key = self._keys.get(place)
        if key is None:
            title = article.get("title")
            spans = render.matched_spans(title, self.terms(article))
            key = (article.get("id"), article.get("date"), title, article.get("category"))
            key += (spans, width, cursor)
            if len(self._keys) >= STRIPS:
                self._keys.clear()
            self._keys[place] = key
        return key

    def render_line(self, y: int) -> Strip:
        self.painted = self.results.generation
        self.drawn += 1
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        key = self._key(y)
        self._shown[y] = key
        if key[0] == "blank":
            return Strip.blank(width, self.rich_style)
        if key[0] == "loading":
            self._ask(index)
            style = self.rich_style + self.get_component_rich_style("result-list--loading")
            return Strip([Segment("  loading…".ljust(width), style)], width)
        strip = self._strips.get(key)
        if strip is None:
            article = self.results.get(index)
            strip = self._draw(article, key[-3], width, key[-1])
            if len(self._strips) >= STRIPS:
                del self._strips[next(iter(self._strips))]  # the oldest drawn
            self._strips[key] = strip
        return strip

    def _draw(
        self, article: dict[str, Any], spans: tuple[tuple[int, int], ...], width: int, cursor: bool
    ) -> Strip:
        segments = render.row_segments(article, spans, width, self.app.console)
        style = self.rich_style
        if cursor:
            style = style + self.get_component_rich_style("result-list--cursor")
        strip = Strip(segments)
        if strip.cell_length != width:
            strip = strip.crop_extend(0, width, None)
        return strip.apply_style(style) if style else strip

    def forget_drawn(self) -> None:
        self._strips.clear()
        self._keys.clear()
        self._shown.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.forget_drawn()  # the theme or the focus changed the colours

    def on_focus(self) -> None:
        self.forget_drawn()  # the cursor row is coloured by whether the list has focus

    def on_blur(self) -> None:
        self.forget_drawn()

    def _ask(self, index: int) -> None:
        wanted = self.results.missing_page(index)
        if wanted is None or (self.results.generation, wanted[0]) in self._asked:
            return
        self._asked.add((self.results.generation, wanted[0]))
        # Not posted from here: render_line runs in the screen's context, and a message
        # made there counts the screen as its sender and stops bubbling at the screen.
        self.call_later(self._request, self.results, *wanted)

    def _request(self, results: Results, start: int, end: int) -> None:
        self.post_message(self.NeedPage(results, start, end))

    def on_resize(self, event: events.Resize) -> None:
        self.forget_drawn()
        self._set_length(self._length())

    # ---- moving ---------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        height = max(self.scrollable_content_region.height, 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        if self.scroll_offset.y != top:
            self.refresh()
        else:  # only the two rows the cursor left and came to look different
            self.refresh_line(old)
            self.refresh_line(new)
        self.post_message(self.Highlighted(self.current))

    def _move(self, to: int) -> None:
        if self.results.total:
            self.cursor = max(0, min(to, self.results.total - 1))
            self._read_ahead()

    def _read_ahead(self) -> None:
        """Ask for the rows up to two screens above and below the view, so that moving
        on (PgDn held down, say) finds them loaded instead of drawing "loading…" and
        waiting for a page (20-55 ms from the search process at row 4,000 of a million).
        Only as the person moves: a keystroke's first rows never ask for more."""
        height = max(self.scrollable_content_region.height, 1)
        top = self.scroll_offset.y
        # A search's rows load in one run from the last one loaded (see missing_page),
        # so the rows above the view come with those on it.
        above = range(top if self.results.searched else max(top - 2 * height, 0), top)
        below = range(top + height, min(top + 3 * height, self.results.total))
        for index in (*reversed(above), *below):  # nearest first
            if index not in self.results.rows:
                self._ask(index)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(self.scrollable_content_region.height - 1, 1))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(self.scrollable_content_region.height - 1, 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        results = self.results
        if results.searched and results.paged:
            # Rows are ranked in order: End ranks END_JUMP more than are loaded (or are
            # being loaded: a second End while a page is on its way goes on from there).
            reach = max(len(results.rows), self.cursor + 1) + END_JUMP
            if reach < results.total:
                self._move(reach - 1)
                self.post_message(self.EndCapped(reach - 1, results.total))
                return
        self._move(results.total - 1)

    def action_choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if index >= self.results.total:
            return
        if index == self.cursor or event.chain > 1:
            self.cursor = index
            self.action_choose()
        else:
            self.cursor = index
