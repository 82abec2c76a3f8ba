"""The status line: how many results, the active filters, and the archive's size."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from irarchive.output import cell


class StatusLine(Static):
    """One line, e.g. ``27,043 results · archive: 1,000,000 · dates: 2020..``.

    While the results are still being counted the count reads ``≥ 40 results``.
    """

    def say(
        self,
        *,
        count: int | None,
        more: bool = False,
        total: int | None,
        query: str,
        filters: list[str],
        busy: bool = False,
        note: str = "",
    ) -> None:
        parts: list[str] = []
        noun = "result" if query.strip() else "article"
        if count is not None:
            plural = "" if count == 1 and not more else "s"
            parts.append(f"{'≥ ' if more else ''}{count:,} {noun}{plural}")
        if total is not None:
            parts.append(f"archive: {total:,}")
        parts += filters
        if busy:
            parts.append("searching…")
        if note:
            parts.append(note)
        # One line, always: no layout pass for the whole screen on every keystroke.
        self.update(Text(cell(" · ".join(parts))), layout=False)
