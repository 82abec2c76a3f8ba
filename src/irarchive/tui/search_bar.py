"""The search box: typing here searches as you type; arrows move the result list."""

from __future__ import annotations

from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SearchBar(Input):
    """A one-line query input that forwards list movement keys to the results."""

    # The text's width, set by Input on every keystroke. Textual's own ``virtual_size``
    # lays out the whole screen when it changes, but the box's size never depends on
    # its text (one line, the full width): only the horizontal scroll range does, and
    # that is read straight from this value.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    BINDINGS = [
        Binding("up", "move('cursor_up')", show=False),
        Binding("down", "move('cursor_down')", show=False),
        Binding("pageup", "move('page_up')", show=False),
        Binding("pagedown", "move('page_down')", show=False),
    ]

    def __init__(self, value: str = "") -> None:
        super().__init__(
            value=value,
            placeholder='Search: words, typos welcome; "a phrase"; -exclude  (empty: newest)',
            id="search",
            select_on_focus=False,
        )
        # A steady cursor, as in fzf: a blinking one redraws the line twice a second
        # forever (traffic over ssh, and a terminal that never goes quiet).
        self.cursor_blink = False

    def action_move(self, action: str) -> None:
        from irarchive.tui.results import ResultList

        results = self.screen.query_one(ResultList)
        getattr(results, f"action_{action}")()
