"""Article data as rich ``Text``: always literal, never markup, never terminal controls.

Every string from the archive passes through ``irarchive.text`` (controls, escapes
and bidi overrides made visible) and lands in a ``Text`` object, which Textual shows
as is: ``[bold]x[/]`` in a title stays those characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console, Group
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from irarchive.output import cell
from irarchive.text import neutralise, strip_marks

MATCH_STYLE = "bold underline"  # readable on dark, light and NO_COLOR terminals
CATEGORY_WIDTH = 16
_WORD = re.compile(r"[^\W_]+")


def matched_spans(value: Any, terms: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Where in ``cell(value)`` the words the query matched are (what is highlighted)."""
    wanted = [t for t in terms if t]
    if not wanted:
        return ()
    spans = []
    for m in _WORD.finditer(cell(value)):
        folded = strip_marks(m.group()).casefold()
        if any(folded == t or (len(t) >= 3 and folded.startswith(t)) for t in wanted):
            spans.append((m.start(), m.end()))
    return tuple(spans)


def highlighted(value: Any, terms: Iterable[str]) -> Text:
    """A title with the words the query matched in bold underline."""
    return _highlighted(value, matched_spans(value, terms))


def _highlighted(value: Any, spans: Iterable[tuple[int, int]]) -> Text:
    text = Text(cell(value))
    for start, end in spans:
        text.stylize(MATCH_STYLE, start, end)
    return text


def row(article: dict[str, Any], spans: Iterable[tuple[int, int]], width: int) -> Text:
    """One result line: date, title (``spans`` of it highlighted: ``matched_spans``),
    category; fitted to ``width`` cells. ``row_segments`` draws the same, faster."""
    date = cell(article.get("date")) or "undated"
    category = cell(article.get("category"))
    line = Text(f"{date:<10} ", style="dim")
    cat_width = CATEGORY_WIDTH if width >= 70 else 0
    title_width = max(width - cell_len(line.plain) - (cat_width + 2 if cat_width else 0), 1)
    title = _highlighted(article.get("title"), spans)
    title.truncate(title_width, overflow="ellipsis", pad=True)
    line.append_text(title)
    if cat_width:
        cat = Text(category, style="italic")
        cat.truncate(cat_width, overflow="ellipsis", pad=True)
        line.append("  ")
        line.append_text(cat)
    line.truncate(width, overflow="ellipsis", pad=True)
    return line


_ROW = Style.parse("dim")
_ROW_MATCH = _ROW + Style.parse(MATCH_STYLE)
_ROW_CATEGORY = _ROW + Style.parse("italic")


def _fit(plain: str, width: int) -> str:
    """``plain`` cut to ``width`` cells with an ellipsis, or padded: as ``Text.truncate``
    (``overflow="ellipsis", pad=True``) does."""
    length = cell_len(plain)
    if length > width:
        return set_cell_size(plain, width - 1) + "…"
    return plain + " " * (width - length)


def row_segments(
    article: dict[str, Any], spans: tuple[tuple[int, int], ...], width: int, console: Console
) -> list[Segment]:
    """``row`` (with the title's ``matched_spans``) as segments, made directly: the same
    cells, styles and segments, in about a quarter of the time (a keystroke or a PgDn
    draws up to a screenful of new rows)."""
    head = f"{cell(article.get('date')) or 'undated':<10} "
    cat_width = CATEGORY_WIDTH if width >= 70 else 0
    title_width = width - cell_len(head) - (cat_width + 2 if cat_width else 0)
    if title_width < 1:  # too narrow for all its parts: cut as a whole, as Text does
        return list(row(article, spans, width).render(console, end=""))
    title = _fit(strip_control_codes(cell(article.get("title"))), title_width)
    pieces = [(head, _ROW)]
    done = 0
    for start, end in spans:
        if start >= len(title):
            break
        end = min(end, len(title))
        pieces += [(title[done:start], _ROW), (title[start:end], _ROW_MATCH)]
        done = end
    pieces.append((title[done:], _ROW))
    if cat_width:
        category = _fit(strip_control_codes(cell(article.get("category"))), cat_width)
        pieces += [("  ", _ROW), (category, _ROW_CATEGORY)]
    elif len(pieces) == 2:  # nothing highlighted, no category: Text.render leaves it
        return [Segment(head + title)]  # unstyled (its own style too), so this does
    # One segment per run of a style, as Text.render makes them.
    segments: list[Segment] = []
    for text, style in pieces:
        if not text:
            continue
        if segments and segments[-1].style is style:
            segments[-1] = Segment(segments[-1].text + text, style)
        else:
            segments.append(Segment(text, style))
    return segments


def meta(article: dict[str, Any], keys: Iterable[tuple[str, str]]) -> Text:
    out = Text()
    for label, key in keys:
        value = article.get(key)
        if value:
            out.append(f"{label}: ", style="dim")
            out.append(cell(value))
            out.append("\n")
    return out


def excerpt(article: dict[str, Any]) -> list[Text]:
    parts: list[Text] = []
    if article.get("excerpt"):
        parts.append(Text(neutralise(article["excerpt"], keep_newlines=True)))
    if article.get("truncated"):
        parts.append(
            Text("(excerpt truncated: the source shows only the beginning)", style="italic dim")
        )
    return parts


def extra(article: dict[str, Any]) -> list[Text]:
    """Tags, notes and any other stored extras, one line each."""
    found = article.get("extra") or {}
    if not isinstance(found, dict):
        return [Text("extra: " + cell(found), style="dim")]
    out = []
    for key, value in found.items():
        if isinstance(value, list):
            value = ", ".join(cell(v) for v in value)
        line = Text(f"{cell(key)}: ", style="dim")
        line.append(cell(value))
        out.append(line)
    return out


def annotations(article: dict[str, Any]) -> list[Text]:
    """The researcher's tags (one line) and notes (dated, in order), as literal text."""
    out: list[Text] = []
    tags = article.get("tags")
    if tags:
        line = Text("tags: ", style="dim")
        line.append(cell(", ".join(str(t) for t in tags)))
        out.append(line)
    for note in article.get("notes") or []:
        out.append(Text(f"note {cell(note.get('created_at'))}", style="dim"))
        out.append(Text(neutralise(note.get("text") or "", keep_newlines=True)))
    return out


def preview(article: dict[str, Any] | None, terms: Iterable[str] = ()) -> Group | Text:
    """The preview pane: title, date, category, url, tags, excerpt, notes."""
    if article is None:
        return Text("")
    title = highlighted(article.get("title"), terms)
    title.stylize("bold")
    keys = (("date", "date"), ("category", "category"), ("url", "url"))
    return Group(
        title, meta(article, keys), *excerpt(article), *annotations(article), *extra(article)
    )


def detail(article: dict[str, Any]) -> Group:
    """The full-screen article."""
    title = Text(cell(article.get("title")), style="bold")
    keys = (
        ("date", "date"),
        ("category", "category"),
        ("url", "url"),
        ("source", "source"),
        ("id", "id"),
        ("slug", "slug"),
    )
    return Group(
        title,
        Text(""),
        meta(article, keys),
        *excerpt(article),
        Text(""),
        *annotations(article),
        *extra(article),
    )
