"""Every output format. Machine formats are written with the stdlib straight to the
stream; rich is imported only for terminal tables and panels.

Article text is data, never markup: tables and panels wrap it in ``rich.text.Text``
after neutralising control characters, and the text formats neutralise too. JSON
keeps the data exact but escapes C1 controls and bidi overrides as ``\\uXXXX`` so
even JSON shown on a terminal cannot drive it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from irarchive.errors import UsageError
from irarchive.model import FIELDS, authors_text
from irarchive.text import JSON_UNSAFE, markdown_escape, neutralise, one_line, strip_marks

if TYPE_CHECKING:
    from irarchive.formats import OutputFormat

SEARCH_FIELDS = ("rank", "score", "matched", *FIELDS)
RELATED_FIELDS = ("rank", "score", "shared", *FIELDS)
#: Short columns (table, markdown, lines on a pipe): the id first, so ``cut -f1`` gives refs.
ARTICLE_COLUMNS = ("id", "date", "title", "category")
RANKED_COLUMNS = ("id", "rank", "score", "date", "title", "category")


def parse_fields(spec: str | None, available: Sequence[str]) -> list[str] | None:
    """``--fields a,b`` as a list, rejecting unknown names with the valid ones."""
    if spec is None:
        return None
    names = [n.strip().lower() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--fields is empty; choose from: {', '.join(available)}")
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(
            f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"choose from: {', '.join(available)}"
        )
    return list(dict.fromkeys(names))


def dumps(obj: Any, indent: int | None = None) -> str:
    """JSON text: UTF-8 (no \\u escapes for ordinary text), terminal-safe."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _project(rec: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    if fields is None:
        return rec
    return {f: rec.get(f) for f in fields}


def write_json(
    records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str] | None
) -> None:
    """A JSON array, streamed one object per line; ``[]`` when empty."""
    first = True
    for rec in records:
        out.write(("[\n" if first else ",\n") + dumps(_project(rec, fields)))
        first = False
    out.write("[]\n" if first else "\n]\n")


def write_jsonl(
    records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str] | None
) -> None:
    """One JSON object per line."""
    for rec in records:
        out.write(dumps(_project(rec, fields)) + "\n")


def cell(value: Any) -> str:
    """A value as one line of plain text: no controls, no newlines."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, (dict, list)):
        return one_line(json.dumps(value, ensure_ascii=False, sort_keys=True)) if value else ""
    return one_line(str(value))


def field_cell(rec: dict[str, Any], f: str) -> str:
    """One field of a record as one line of text; authors as ``A Smith; B Jones``."""
    if f == "authors":
        return one_line(authors_text(rec.get(f)))
    if f == "tags" and isinstance(rec.get(f), list):
        return one_line(", ".join(str(t) for t in rec[f]))
    return cell(rec.get(f))


def write_tsv(records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str]) -> None:
    """Tab-separated lines without a header (for ``cut``/``awk``), one article a line."""
    for rec in records:
        out.write("\t".join(field_cell(rec, f) for f in fields) + "\n")


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str]) -> None:
    """CSV with a header row; control characters made visible (CSV cannot escape them).

    Re-importing such a file leaves the archive unchanged: the import recognises its
    own neutralised rendering of a stored article (see store.writer). JSON and JSONL
    are the exact formats."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for rec in records:
        writer.writerow([_csv_value(rec.get(f)) for f in fields])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        # JSON text with C1/bidi characters escaped as in dumps(): terminal-safe, and
        # it still reads back as exactly the same value on re-import.
        text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        return JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return formula_safe(neutralise(str(value), keep_newlines=True))


#: What a spreadsheet takes as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """A CSV cell a spreadsheet will not run: ``'`` before a leading ``= + - @``, tab, CR.

    Text that already starts with quotes before such a character gets one more, so
    ``formula_unsafe`` (used when a CSV is imported) gives back exactly the text.
    """
    return "'" + text if text.lstrip("'")[:1] in FORMULA_START and text else text


def formula_unsafe(text: str) -> str:
    """The inverse of ``formula_safe``."""
    if text[:1] == "'" and text[1:].lstrip("'")[:1] in FORMULA_START and text[1:]:
        return text[1:]
    return text


def md_escape(value: Any) -> str:
    """A value as one line of Markdown text, every special escaped."""
    return markdown_escape(cell(value))


def write_markdown(records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str]) -> None:
    """A Markdown table; cell text is escaped so data never becomes markup."""
    out.write("| " + " | ".join(fields) + " |\n")
    out.write("|" + "|".join("---" for _ in fields) + "|\n")
    for rec in records:
        out.write("| " + " | ".join(md_escape(field_cell(rec, f)) for f in fields) + " |\n")


class _Counted:
    """An iterable that counts what passes through it (writers stream, never list)."""

    def __init__(self, items: Iterable[dict[str, Any]]) -> None:
        self.items = items
        self.n = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for item in self.items:
            self.n += 1
            yield item


def write(
    fmt: OutputFormat,
    records: Iterable[dict[str, Any]],
    out: IO[str],
    *,
    fields: Sequence[str] | None,
    publisher: str | None = None,
    single: bool = False,
) -> int:
    """Write records in a file format (any but the terminal table); returns how many.

    ``fields`` are the columns (``None``: the whole record, for JSON); ``publisher``
    is for citations; ``single`` writes one JSON object instead of an array.
    """
    from irarchive import formats

    counted = _Counted(records)
    writer = fmt.load()
    if fmt.kind == "citations":
        for chunk in writer(counted, publisher=publisher):
            out.write(chunk)
    elif single and fmt is formats.JSON:
        for rec in counted:
            out.write(dumps(_project(rec, fields), indent=2) + "\n")
    else:
        writer(counted, out, fields)
    return counted.n


@dataclass(frozen=True)
class View:
    """How one command presents its records.

    ``fields`` are every field its records have (the ``--fields`` choices, in JSON
    order; csv and tsv write them all, the id first); ``columns`` the short set a
    person reads: the table, markdown and the lines written to a pipe by default.
    ``table`` draws the terminal table (default ``render_table``); ``text``, when
    set, is the command's plain-text form on a pipe when no format is chosen.
    """

    fields: tuple[str, ...]
    columns: tuple[str, ...]
    table: Callable[..., Any] | None = None
    text: Callable[[list[dict[str, Any]]], str] | None = None

    def fields_for(
        self, fmt: OutputFormat, chosen: Sequence[str] | None, *, explicit: bool = True
    ) -> list[str] | None:
        """The columns ``fmt`` writes: those chosen, else its default for this view.

        ``explicit`` is False for the default on a pipe, which has the short columns.
        """
        from irarchive import formats

        if chosen:
            return list(chosen)
        if not explicit or fmt.default_fields == formats.COLUMNS:
            return list(self.columns)
        if fmt.default_fields == formats.DATA:
            return [f for f in self.fields if f == "id"] + [f for f in self.fields if f != "id"]
        return None

    def render(
        self,
        records: Sequence[dict[str, Any]],
        fields: Sequence[str] | None,
        *,
        highlight: dict[str, list[str]] | None = None,
    ) -> Any:
        """The terminal table for ``records``."""
        if self.table is not None:
            return self.table(records, fields)
        columns = fields or with_tags_column(records, with_authors_column(records, self.columns))
        return render_table(records, columns, highlight_terms=highlight, fit=not fields)


# ---- rich renderables (terminal) -----------------------------------------------------


def console(file: IO[str], *, force_terminal: bool | None = None, width: int | None = None) -> Any:
    from rich.console import Console

    return Console(
        file=file,
        force_terminal=force_terminal,
        width=width,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


#: What a terminal shows of one field: enough to read, bounded so a 200 MB article
#: renders at once. The whole text is in --json and in plain text on a pipe.
TERMINAL_MAX_CHARS = 20_000
TERMINAL_MAX_LINES = 400
TABLE_CELL_MAX_CHARS = 2_000


def clip(text: str, limit: int = TERMINAL_MAX_CHARS) -> tuple[str, int]:
    """``text`` cut to ``limit`` characters and ``TERMINAL_MAX_LINES`` lines, and how
    many characters were left out (0 if none)."""
    cut = text[:limit]
    if cut.count("\n") > TERMINAL_MAX_LINES:
        cut = "\n".join(cut.split("\n", TERMINAL_MAX_LINES + 1)[:TERMINAL_MAX_LINES])
    return cut, len(text) - len(cut)


def safe_text(value: Any, style: str = "", *, limit: int | None = None) -> Any:
    """A rich Text holding the value literally (markup is not interpreted)."""
    from rich.text import Text

    text = cell(value if limit is None or not isinstance(value, str) else value[: limit + 1])
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text, style=style)


def highlighted(value: str, terms: Iterable[str]) -> Any:
    """Title text with words matching the query terms in bold; never parses markup."""
    from rich.text import Text

    text = Text(cell(value))
    wanted = [t for t in terms if t]
    if not wanted:
        return text
    for m in re.finditer(r"[^\W_]+", text.plain):
        folded = strip_marks(m.group()).casefold()
        if any(folded == t or (len(t) >= 3 and folded.startswith(t)) for t in wanted):
            text.stylize("bold yellow", m.start(), m.end())
    return text


def render_table(
    records: Sequence[dict[str, Any]],
    fields: Sequence[str],
    *,
    highlight_terms: dict[str, list[str]] | None = None,
    fit: bool = True,
) -> Any:
    """A table that fits the console width when printed (see ``FittedTable``).

    ``fit`` lets it drop columns by priority (the short columns a person reads by
    default); columns chosen with ``--fields`` are only shortened, never dropped.
    """
    return FittedTable(records, fields, highlight_terms=highlight_terms, droppable=fit)


#: Short ids in narrow tables: a prefix ``show`` accepts (ids are 16 hex digits).
SHORT_ID = 8
#: The title keeps at least this many cells before other columns are dropped.
TITLE_GOAL = 32
#: A category column that has to give way keeps this many cells (then an ellipsis).
CATEGORY_CAP = 14


#: Columns of short values that keep their width (the category is cut instead).
FIXED = frozenset({"id", "date", "rank", "score", "category", "truncated", "position", "count"})
#: How much of the free room each text column gets, relative to the others.
WEIGHT = {"title": 3, "excerpt": 3, "authors": 2}


class FittedTable:
    """Records as a table exactly as wide as the console allows, the title given the room.

    The widths are chosen when rich renders it (the console width is known then).
    While the title would wrap, a category every row shares is hidden and the id
    shortens to ``SHORT_ID`` digits (still a prefix ``show`` accepts); while it would
    get fewer than ``TITLE_GOAL`` cells, the category is cut (with an ellipsis), then
    score, rank, category and id are hidden. The date is always kept; a border is never clipped.
    """

    def __init__(
        self,
        records: Sequence[dict[str, Any]],
        fields: Sequence[str],
        *,
        highlight_terms: dict[str, list[str]] | None = None,
        droppable: bool = True,
    ) -> None:
        self.records = records
        self.fields = list(fields)
        self.highlight_terms = highlight_terms
        self.droppable = droppable

    def _text(self, rec: dict[str, Any], f: str) -> Any:
        if f == "title" and self.highlight_terms is not None:
            title = clip(rec.get("title") or "", TABLE_CELL_MAX_CHARS)[0]
            return highlighted(title, self.highlight_terms.get(rec["id"], []))
        if f == "matched":
            return safe_text(_matched_words(rec.get("matched")))
        return safe_text(field_cell(rec, f), limit=TABLE_CELL_MAX_CHARS)

    def layout(self, width: int) -> tuple[list[str], dict[str, int]]:
        """The columns shown at ``width`` cells and the width of each."""
        from rich.cells import cell_len

        cols = list(self.fields)
        natural = {
            f: max([cell_len(f)] + [cell_len(self._text(r, f).plain) for r in self.records])
            for f in cols
        }
        widths = dict(natural)
        # Free text shares what the fixed columns leave; the title and excerpt most.
        flexible = [f for f in cols if f not in FIXED] or (
            [max(cols, key=lambda f: natural[f])] if cols else []
        )

        def room() -> int:
            fixed = sum(widths[f] for f in cols if f not in flexible)
            return width - fixed - 3 * len(cols) - 1

        def goal() -> int:
            return min(TITLE_GOAL, whole())

        def short_id() -> None:
            if "id" in cols:
                widths["id"] = min(widths["id"], SHORT_ID)

        def drop(f: str, when: bool = True) -> Callable[[], None]:
            def step() -> None:
                if f in cols and when and len(cols) > 1:
                    cols.remove(f)

            return step

        def cap_category() -> None:
            if "category" in cols:
                widths["category"] = min(widths["category"], CATEGORY_CAP)

        def whole() -> int:
            return sum(natural[f] for f in flexible if f in cols)

        cats = {cell(r.get("category")) for r in self.records}
        # While the title would wrap: these cost the reader nothing.
        for step in (drop("category", self.droppable and len(cats) <= 1), short_id):
            if room() < whole():
                step()
        # While it would be cramped: these do.
        steps: list[Callable[[], None]] = [cap_category]
        if self.droppable:
            steps += [drop("score"), drop("rank"), drop("category"), drop("id")]
        for step in steps:
            if room() >= goal():
                break
            step()
        # Every other column wider than its share gives way too (chosen --fields).
        least = sum(max(len(f), 8) for f in flexible if f in cols)
        while room() < least and any(
            widths[f] > 4 for f in cols if f not in flexible and f != "date"
        ):
            widest = max((f for f in cols if f not in flexible and f != "date"), key=widths.get)
            widths[widest] = max(4, widths[widest] - 1)
        # The flexible columns share the rest: the narrow ones whole, the others evenly.
        shown_flex = sorted(
            (f for f in flexible if f in cols), key=lambda f: natural[f] / WEIGHT.get(f, 1)
        )
        spare = max(room(), len(shown_flex))
        weight = sum(WEIGHT.get(f, 1) for f in shown_flex)
        for f in shown_flex:
            share = spare * WEIGHT.get(f, 1) // weight
            widths[f] = max(len(f), min(natural[f], share))
            spare -= widths[f]
            weight -= WEIGHT.get(f, 1)
        return cols, widths

    def build(self, width: int) -> Any:
        from rich.table import Table

        cols, widths = self.layout(width)
        table = Table(show_header=True, header_style="bold", expand=False)
        for f in cols:
            w = widths[f]
            if f == "id":
                table.add_column(f, width=w, no_wrap=True, overflow="crop", style="cyan")
            elif f == "date":
                table.add_column(f, width=w, no_wrap=True, style="green")
            elif f in ("score", "rank", "position", "count"):
                table.add_column(f, width=w, justify="right", no_wrap=True)
            elif f == "category":
                table.add_column(f, width=w, no_wrap=True, overflow="ellipsis")
            else:
                table.add_column(f, width=w, overflow="fold")
        for rec in self.records:
            table.add_row(*(self._text(rec, f) for f in cols))
        return table

    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield self.build(options.max_width)


def with_authors_column(records: Sequence[dict[str, Any]], fields: Sequence[str]) -> list[str]:
    """A table's default columns, plus ``authors`` after the title when any row has some."""
    fields = list(fields)
    if "authors" in fields or "title" not in fields or not any(r.get("authors") for r in records):
        return fields
    fields.insert(fields.index("title") + 1, "authors")
    return fields


def with_tags_column(records: Sequence[dict[str, Any]], fields: Sequence[str]) -> list[str]:
    """A table's default columns, plus ``tags`` after the title when any row has some."""
    fields = list(fields)
    if "tags" in fields or "title" not in fields or not any(r.get("tags") for r in records):
        return fields
    after = "authors" if "authors" in fields else "title"
    fields.insert(fields.index(after) + 1, "tags")
    return fields


def _matched_words(matched: Any) -> str:
    if not isinstance(matched, dict):
        return ""
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in matched.items() if v)


#: The fields ``show`` lists under the title, in order.
_SHOWN = ("authors", "date", "category", "tags", "url", "doi", "source", "id", "slug")


def safe_link(url: Any) -> str | None:
    """The url as a hyperlink target, or None when it is not a plain http(s) address.

    Built from the data, never from markup in it: a target with spaces, controls or
    another scheme (``file:``, ``javascript:``) is shown as text only.
    """
    if not isinstance(url, str):
        return None
    if not re.fullmatch(r"https?://[!-~]+", url) or len(url) > 2000:
        return None
    return url


def link_text(url: Any) -> Any:
    """The url as text, clickable (OSC 8) where the terminal supports it."""
    from rich.style import Style
    from rich.text import Text

    target = safe_link(url)
    return Text(cell(url), style=Style(link=target) if target else "")


def extra_lines(extra: Any) -> list[tuple[str, str]]:
    """``extra`` as (key, value) pairs to read: nested values as one line of JSON."""
    if not isinstance(extra, dict):
        return [("extra", cell(extra))] if extra else []
    return [(cell(k), cell(v)) for k, v in extra.items()]


class ArticlePanel:
    """``show`` on a terminal: the whole title inside a panel, then the details.

    The url stays one piece: inside the panel when it fits the line, else under the
    panel on its own, unbordered line, so it is never cut into bordered fragments.
    """

    LABELS = (
        ("authors", "authors"),
        ("date", "date"),
        ("category", "category"),
        ("tags", "tags"),
        ("doi", "doi"),
        ("source", "source"),
        ("id", "id"),
        ("slug", "slug"),
    )

    def __init__(self, rec: dict[str, Any]) -> None:
        self.rec = rec

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.cells import cell_len
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        rec = self.rec
        inner = options.max_width - 4  # border and padding on each side
        meta = Text()
        url = rec.get("url")
        url_inside = bool(url) and cell_len("url: " + cell(url)) <= inner
        for label, key in self.LABELS:
            if rec.get(key):
                meta.append(f"{label}: ", style="dim")
                meta.append(field_cell(rec, key))
                meta.append("\n")
            if key == "category" and url_inside:
                meta.append("url: ", style="dim")
                meta.append_text(link_text(url))
                meta.append("\n")
        # A terminal shows a bounded amount of each field (a 200 MB excerpt would take
        # minutes to lay out); --json and pipes always give the whole text.
        left_out = 0
        for key, value in extra_lines(rec.get("extra")):
            value, more = clip(value, TABLE_CELL_MAX_CHARS)
            left_out += more
            meta.append(f"{key}: ", style="dim")
            meta.append(value)
            meta.append("\n")
        meta.rstrip()
        title, more = clip(rec.get("title") or "(untitled)", TABLE_CELL_MAX_CHARS)
        left_out += more
        parts: list[Any] = [safe_text(title, "bold"), meta]
        if rec.get("excerpt"):
            excerpt, more = clip(rec["excerpt"])
            left_out += more
            parts += [Text(), Text(neutralise(excerpt, keep_newlines=True))]
        if rec.get("truncated"):
            parts.append(
                Text("(excerpt truncated: the source shows only the beginning)", style="italic dim")
            )
        for note in rec.get("notes") or []:
            text, more = clip(note.get("text") or "", TABLE_CELL_MAX_CHARS)
            left_out += more
            parts += [
                Text(),
                Text(f"note {cell(note.get('created_at'))}", style="dim"),
                Text(neutralise(text, keep_newlines=True)),
            ]
        if left_out:
            parts.append(
                Text(
                    f"({left_out:,} more characters not shown here: "
                    f"irarchive show {cell(rec.get('id'))} --json, or pipe it, shows all)",
                    style="italic dim",
                )
            )
        yield Panel(Group(*parts), expand=True)
        if url and not url_inside:
            # Segments, not Text: rich passes them on unwrapped and the terminal wraps
            # the line itself, so the url copies and clicks as one piece.
            from rich.segment import Segment
            from rich.style import Style

            text = link_text(url)
            yield Segment("url: ", Style(dim=True))
            yield Segment(text.plain, text.style if isinstance(text.style, Style) else None)
            yield Segment.line()


def render_panel(rec: dict[str, Any]) -> Any:
    return ArticlePanel(rec)


def plain_article(rec: dict[str, Any]) -> str:
    """``show`` on a pipe: the article as plain text blocks."""
    lines = [cell(rec.get("title"))]
    for key in _SHOWN:
        if rec.get(key):
            lines.append(f"{key}: {field_cell(rec, key)}")
    if rec.get("truncated"):
        lines.append("truncated: true")
    lines += [f"{k}: {v}" for k, v in extra_lines(rec.get("extra"))]
    if rec.get("excerpt"):
        lines += ["", neutralise(rec["excerpt"], keep_newlines=True)]
    for note in rec.get("notes") or []:
        lines += ["", f"note {cell(note.get('created_at'))}"]
        lines.append(neutralise(note.get("text") or "", keep_newlines=True))
    return "\n".join(lines) + "\n"


# ---- charts (stats) -------------------------------------------------------------------

_SPARKS = "▁▂▃▄▅▆▇█"
_EIGHTHS = " ▏▎▍▌▋▊▉"


def sparkline(values: Sequence[int]) -> str:
    """One character per value, ▁ (zero or least) to █ (most)."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return _SPARKS[0] * len(values)
    # Zero keeps the lowest block so gaps stay visible; any count above zero shows.
    return "".join(
        _SPARKS[0] if v <= 0 else _SPARKS[max(1, round(v / top * (len(_SPARKS) - 1)))]
        for v in values
    )


def bar(value: int, top: int, width: int) -> str:
    """A horizontal bar ``width`` cells long at ``top``, drawn in eighths of a cell."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def render_stats(rows: Sequence[dict[str, Any]], key: str, *, bar_width: int = 40) -> Any:
    """A table of counts with a bar column; for a time series, a sparkline under it."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=True, header_style="bold", pad_edge=False, expand=False)
    table.add_column(key, no_wrap=key == "period", overflow="fold", style="green")
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, style="cyan")
    top = max((r["count"] for r in rows), default=0)
    for r in rows:
        label = r.get(key)
        table.add_row(
            safe_text("(none)" if label is None else label),
            Text(f"{r['count']:,}"),
            Text(bar(r["count"], top, bar_width)),
        )
    total = sum(r["count"] for r in rows)
    parts: list[Any] = [table]
    if key == "period" and len(rows) > 1:
        line = Text(f"{cell(rows[0][key])}..{cell(rows[-1][key])}  ", style="dim")
        line.append(sparkline([r["count"] for r in rows]), style="cyan")
        parts.append(line)
    parts.append(Text(f"total: {total:,}", style="dim"))
    return Group(*parts)


# ---- views: how each command presents its records ----------------------------------


def render_cards(records: Sequence[dict[str, Any]], fields: Sequence[str] | None) -> Any:
    """``show`` on a terminal: a panel per article, or a table of the chosen fields."""
    if fields:
        return render_table(records, fields, fit=False)
    from rich.console import Group

    return Group(*(render_panel(r) for r in records))


def plain_articles(records: list[dict[str, Any]]) -> str:
    """``show`` on a pipe: plain text blocks separated by a blank line."""
    return "\n".join(plain_article(r) for r in records)


class StatsChart:
    """``render_stats`` with its bars as long as the console width leaves room for."""

    def __init__(self, rows: Sequence[dict[str, Any]], key: str) -> None:
        self.rows = rows
        self.key = key

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.cells import cell_len

        labels = [cell("(none)" if r.get(self.key) is None else r[self.key]) for r in self.rows]
        label = max([cell_len(self.key), *map(cell_len, labels)])
        count = max([5, *(len(f"{r['count']:,}") for r in self.rows)])
        # Three columns: four borders and, without edge padding, four cells of padding.
        room = options.max_width - label - count - 8
        yield render_stats(self.rows, self.key, bar_width=max(1, min(40, room)))


def _stats_table(key: str, rows: Sequence[dict[str, Any]], fields: Sequence[str] | None) -> Any:
    return StatsChart(rows, key)


ARTICLES = View(FIELDS, ARTICLE_COLUMNS)
#: ``show`` also carries the notes (JSON), after the tags.
SHOW_FIELDS = tuple(x for f in FIELDS for x in ((f, "notes") if f == "tags" else (f,)))
CARDS = View(SHOW_FIELDS, SHOW_FIELDS, table=render_cards, text=plain_articles)
SEARCH_RESULTS = View(SEARCH_FIELDS, RANKED_COLUMNS)
RELATED = View(RELATED_FIELDS, RANKED_COLUMNS)
#: ``export``: data formats carry every field by default (JSON Lines the notes too).
EXPORTED = View(FIELDS, FIELDS)
#: ``tags``: each tag with how many articles have it.
TAG_COUNTS = View(("tag", "count"), ("tag", "count"))
#: ``note REF --list``: an article's notes in the order written.
NOTES = View(("created_at", "text"), ("created_at", "text"))
#: ``lists show NAME``: the list's articles with their place on it.
LISTED = View(("position", *FIELDS), ("position", *ARTICLE_COLUMNS))
#: ``lists``: every reading list with its size.
LIST_COUNTS = View(("name", "count", "created_at"), ("name", "count", "created_at"))
#: ``dedupe``: one row per article of each group of likely duplicates, the kept one first.
DEDUPE_FIELDS = ("group", "score", "reason", "keep", *FIELDS)
DUPLICATES = View(DEDUPE_FIELDS, ("group", "score", "reason", "id", "date", "title"))


def stats_view(key: str) -> View:
    """``stats`` rows: the period (or category) and its count, drawn as a bar chart."""
    return View((key, "count"), (key, "count"), table=partial(_stats_table, key))
