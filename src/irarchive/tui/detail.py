"""The article full-screen (Enter); Esc goes back to the results."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from irarchive.tui import render


class DetailScreen(Screen[None]):
    """One article in full; o/y/b/r work here too (the app's bindings)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
    ]

    def __init__(self, article: dict[str, Any]) -> None:
        super().__init__()
        self.article = article

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(render.detail(self.article), id="detail-body")
        yield Footer()

    def action_scroll(self, direction: str) -> None:
        view = self.query_one("#detail", VerticalScroll)
        view.scroll_down() if direction == "down" else view.scroll_up()
