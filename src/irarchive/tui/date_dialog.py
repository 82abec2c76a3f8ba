"""The date filter dialog (``d``): the same date forms as ``--since``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from irarchive.errors import IrarchiveError


class DateDialog(ModalScreen[Any]):
    """Asks for SINCE, SINCE..UNTIL or ..UNTIL; bad dates are shown, not fatal.

    Dismisses with the parsed ``Period`` (None clears the filter) and the text typed.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self.current = current
        self.parse = parse

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Date filter", style="bold"))
            yield Static(
                Text(
                    "2022 · 2022-03 · 'March 2022' · 7d · 3m · 1y · today (= since); "
                    "2021..2022-06 (a range); ..2021 (until); empty: no filter",
                    style="dim",
                )
            )
            yield Input(value=self.current, id="date-input")
            yield Static(id="date-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        try:
            period = self.parse(text)
        except IrarchiveError as exc:
            self.query_one("#date-error", Static).update(Text(f"Error: {exc}", style="bold red"))
            return
        self.dismiss((period, text))

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_filter(text: str, *, today: Any) -> Any:
    """``SINCE``, ``SINCE..UNTIL`` or ``..UNTIL`` (``--since`` forms) as a Period; blank: None."""
    from irarchive.dates import resolve_filters

    text = text.strip()
    if not text:
        return None
    if ".." in text:
        since, _, until = text.partition("..")
        return resolve_filters(since.strip() or None, until.strip() or None, None, today=today)
    return resolve_filters(text, None, None, today=today)
