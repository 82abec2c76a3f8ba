"""The preview pane: the highlighted article's title, date, category, url and excerpt.

A Line API widget: the article is rendered to lines once per width and only the
lines on screen are drawn. A new article changes the lines and the scroll range,
never the pane's size, so the cursor moving (every keystroke moves it to a new first
result) repaints the pane without laying out the whole screen, as a ``Static`` in a
scrolling container would.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from irarchive.tui import render


class Preview(ScrollView, can_focus=False):
    """Shows one article; data is rendered literally (never markup)."""

    DEFAULT_CSS = """
    Preview {
        overflow-x: hidden;
        overflow-y: auto;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.article: dict[str, Any] | None = None
        self._terms: list[str] = []
        self._content: RenderableType = Text("")
        self._lines: list[Strip] = []
        self._width = -1  # the width self._lines were rendered at

    def show(self, article: dict[str, Any] | None, terms: list[str]) -> None:
        if article == self.article and terms == self._terms and self._width >= 0:
            # The same article, highlighted alike (a keystroke that kept the first
            # result; a new search's copy of it is equal, not the same object).
            return
        # The lines on screen before, if they can be compared line by line.
        before = self._lines if self._width >= 0 and self.scroll_offset.y == 0 else None
        self.article, self._terms = article, list(terms)
        self._content = render.preview(article, terms)
        self._width = -1
        self.scroll_to(y=0, animate=False, immediate=True)
        self._measure()
        if before is None:
            self.refresh()
            return
        # Only the lines that look different go through Textual's line pipeline again
        # (about 40 us a line): the blank ones below a short article, "category:
        # Politics" from one article to the next.
        blank = None
        for y in range(self.scrollable_content_region.height):
            old = before[y] if y < len(before) else blank
            new = self._lines[y] if y < len(self._lines) else blank
            if old != new:
                self.refresh_line(y)

    @property
    def text(self) -> str:
        """What the pane shows, as plain text (one line per row)."""
        self._measure()
        return "\n".join(line.text.rstrip() for line in self._lines)

    def _measure(self) -> None:
        """Render the article at the pane's width; the scroll range follows its height."""
        width = self.scrollable_content_region.width
        if width == self._width:
            return
        self._width = width
        if width <= 0:
            self._lines = []
        else:
            console = self.app.console
            options = console.options.update(width=width, height=None, highlight=False)
            style = self.rich_style
            lines = console.render_lines(self._content, options, style=style, pad=False)
            self._lines = [Strip(line).adjust_cell_length(width, style) for line in lines]
        size = Size(width, len(self._lines))
        if size != self.virtual_size:
            # Not a layout reactive's set: only the scroll range and scrollbar change (a
            # scrollbar appearing or going still lays the pane out, via Textual).
            self.set_reactive(Preview.virtual_size, size)
            self._scroll_update(size)

    def render_line(self, y: int) -> Strip:
        self._measure()
        index = self.scroll_offset.y + y
        if index < len(self._lines):
            return self._lines[index]
        return Strip.blank(self.scrollable_content_region.width, self.rich_style)

    def on_resize(self, event: events.Resize) -> None:
        self._width = -1
        self._measure()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._width = -1  # the theme changed the colours
