"""Related articles (``r``): the most distinctive words shared with the article."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from irarchive.output import cell


class RelatedScreen(ModalScreen[dict[str, Any] | None]):
    """Lists related articles; Enter dismisses with the chosen one (opened by the app)."""

    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("j", "down", show=False),
        Binding("k", "up", show=False),
    ]

    def __init__(self, article: dict[str, Any], related: list[Any]) -> None:
        super().__init__()
        self.article = article
        self.related = related

    def compose(self) -> ComposeResult:
        head = Text("Related to: ", style="bold")
        head.append(cell(self.article.get("title")))
        with Vertical(id="dialog", classes="wide"):
            yield Static(head)
            if not self.related:
                yield Static(
                    Text("No related articles: it shares no distinctive words with any other.")
                )
                return
            options = []
            for i, r in enumerate(self.related):
                line = Text(f"{cell(r.article.get('date')) or 'undated':<10} ", style="dim")
                line.append(cell(r.article.get("title")))
                line.append(f"  {r.score:.0f}", style="dim")
                options.append(Option(line, id=str(i)))
            yield OptionList(*options, id="related")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.related[int(event.option.id or 0)].article)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
