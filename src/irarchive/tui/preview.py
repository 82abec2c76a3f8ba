"""The preview pane: the highlighted article's title, date, category, url and excerpt."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.widgets import Static

from irarchive.tui import render


class Preview(VerticalScroll, can_focus=False):
    """Shows one article; data is rendered literally (never markup)."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="preview-body")

    def show(self, article: dict[str, Any] | None, terms: list[str]) -> None:
        self.query_one("#preview-body", Static).update(render.preview(article, terms))
        self.scroll_home(animate=False)
