"""The status line: how many results, the active filters, and the archive's size."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from irarchive.output import cell


class StatusLine(Static):
    """One line, e.g. ``27,043 of 1,000,000 articles · since 2020 · searching…``."""

    def say(
        self,
        *,
        count: int | None,
        total: int | None,
        query: str,
        filters: list[str],
        busy: bool = False,
        note: str = "",
    ) -> None:
        parts: list[str] = []
        noun = "result" if query.strip() else "article"
        if count is not None:
            parts.append(f"{count:,} {noun}{'' if count == 1 else 's'}")
        if total is not None:
            parts.append(f"archive: {total:,}")
        parts += filters
        if busy:
            parts.append("searching…")
        if note:
            parts.append(note)
        self.update(Text(cell(" · ".join(parts))))
