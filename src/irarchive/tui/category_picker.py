"""The category picker (``c``)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from irarchive.output import cell

ALL = "\x00all"


class CategoryPicker(ModalScreen[str | None]):
    """Dismisses with the chosen category, ALL for no filter, or None (cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, categories: list[str], current: str | None) -> None:
        super().__init__()
        self.categories = categories
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text("(all categories)", style="italic"), id=ALL)]
        options += [Option(Text(cell(c)), id=f"c{i}") for i, c in enumerate(self.categories)]
        with Vertical(id="dialog"):
            yield Static(Text("Category", style="bold"))
            yield OptionList(*options, id="categories")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        if self.current in self.categories:
            picker.highlighted = self.categories.index(self.current) + 1
        else:
            picker.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ALL
        self.dismiss(ALL if option_id == ALL else self.categories[int(option_id[1:])])

    def action_cancel(self) -> None:
        self.dismiss(None)
