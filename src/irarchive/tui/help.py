"""The key help (``?``)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from irarchive.output import cell

KEYS = [
    ("/  Ctrl-F", "search (type to search as you type; empty shows the newest)"),
    ("↑ ↓  j k", "move (arrows also work while typing)"),
    ("PgUp PgDn Home End", "move by a page, to the first or last"),
    ("Tab  Esc", "from the search box to the list"),
    ("Enter", "open the article full-screen (Esc back); in --pick mode: choose it"),
    ("o", "open the article's url in the web browser"),
    ("y", "copy the article id"),
    ("b", "copy the BibTeX entry"),
    ("r", "related articles"),
    ("d", "date filter: 2022, 2022-03..2022-06, ..2021, 7d (empty clears)"),
    ("c", "category filter"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit (in --pick mode Esc also cancels)"),
    ("mouse", "click a row to highlight it, click again to open; wheel scrolls"),
]


class HelpScreen(ModalScreen[None]):
    """The keys, and which archive is open."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, archive_path: str) -> None:
        super().__init__()
        self.archive_path = archive_path

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        where = Text("archive: ", style="dim")
        where.append(cell(self.archive_path))
        with VerticalScroll(id="help"):
            yield Static(Text("irarchive browse: keys", style="bold"))
            yield Static(where, id="help-archive")
            yield Static(table)
            yield Static(Text("Esc closes this help", style="dim"))
