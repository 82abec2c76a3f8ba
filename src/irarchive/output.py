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
from collections.abc import Iterable, Sequence
from typing import IO, Any

from irarchive.errors import UsageError
from irarchive.model import FIELDS
from irarchive.text import lazy_re, neutralise, one_line, strip_marks

FORMATS = ("table", "json", "jsonl", "csv", "tsv", "markdown")
SEARCH_FIELDS = ("rank", "score", "matched", *FIELDS)
DEFAULT_TABLE_FIELDS = ("id", "date", "title", "category")
DEFAULT_SEARCH_TABLE_FIELDS = ("rank", "score", "date", "title", "category")

_JSON_UNSAFE = lazy_re("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


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
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _project(rec: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    if fields is None:
        return rec
    return {f: rec.get(f) for f in fields}


def write_json(
    records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str] | None
) -> int:
    """A JSON array, streamed one object per line; ``[]`` when empty."""
    n = 0
    for rec in records:
        out.write(("[\n" if n == 0 else ",\n") + dumps(_project(rec, fields)))
        n += 1
    out.write("[]\n" if n == 0 else "\n]\n")
    return n


def write_json_one(rec: dict[str, Any], out: IO[str], fields: Sequence[str] | None) -> None:
    out.write(dumps(_project(rec, fields), indent=2) + "\n")


def write_jsonl(
    records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str] | None
) -> int:
    n = 0
    for rec in records:
        out.write(dumps(_project(rec, fields)) + "\n")
        n += 1
    return n


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


def write_tsv(records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str]) -> int:
    """Tab-separated lines without a header (for ``cut``/``awk``), one article a line."""
    n = 0
    for rec in records:
        out.write("\t".join(cell(rec.get(f)) for f in fields) + "\n")
        n += 1
    return n


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str]) -> int:
    """CSV with a header row; control characters made visible (CSV cannot escape them).

    Re-importing such a file leaves the archive unchanged: the import recognises its
    own neutralised rendering of a stored article (see store.writer). JSON and JSONL
    are the exact formats."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    n = 0
    for rec in records:
        writer.writerow([_csv_value(rec.get(f)) for f in fields])
        n += 1
    return n


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        # JSON text with C1/bidi characters escaped as in dumps(): terminal-safe, and
        # it still reads back as exactly the same value on re-import.
        text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
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


_MD_SPECIAL = lazy_re(r"([\\`*_\[\]<>|#!])")


def md_escape(value: Any) -> str:
    return _MD_SPECIAL.sub(r"\\\1", cell(value))


def write_markdown(records: Iterable[dict[str, Any]], out: IO[str], fields: Sequence[str]) -> int:
    out.write("| " + " | ".join(fields) + " |\n")
    out.write("|" + "|".join("---" for _ in fields) + "|\n")
    n = 0
    for rec in records:
        out.write("| " + " | ".join(md_escape(rec.get(f)) for f in fields) + " |\n")
        n += 1
    return n


def write_records(
    records: Iterable[dict[str, Any]],
    fmt: str,
    out: IO[str],
    *,
    fields: Sequence[str] | None,
    default_fields: Sequence[str],
) -> int:
    """Write a listing in a machine or text format; returns how many were written."""
    if fmt == "json":
        return write_json(records, out, fields)
    if fmt == "jsonl":
        return write_jsonl(records, out, fields)
    chosen = list(fields or default_fields)
    if fmt == "tsv":
        return write_tsv(records, out, chosen)
    if fmt == "csv":
        return write_csv(records, out, fields or FIELDS)
    if fmt == "markdown":
        return write_markdown(records, out, chosen)
    raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


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
) -> Any:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", expand=False)
    for f in fields:
        if f == "title":
            table.add_column(f, ratio=3, overflow="fold", min_width=20)
        elif f in ("excerpt",):
            table.add_column(f, ratio=4, overflow="fold")
        elif f in ("score", "rank"):
            table.add_column(f, justify="right", no_wrap=True)
        elif f in ("id", "date"):
            table.add_column(f, no_wrap=True, style="cyan" if f == "id" else "green")
        else:
            table.add_column(f, overflow="fold")
    for rec in records:
        row = []
        for f in fields:
            if f == "title" and highlight_terms is not None:
                title = clip(rec.get("title") or "", TABLE_CELL_MAX_CHARS)[0]
                row.append(highlighted(title, highlight_terms.get(rec["id"], [])))
            elif f == "matched":
                row.append(safe_text(_matched_words(rec.get("matched"))))
            else:
                row.append(safe_text(rec.get(f), limit=TABLE_CELL_MAX_CHARS))
        table.add_row(*row)
    return table


def _matched_words(matched: Any) -> str:
    if not isinstance(matched, dict):
        return ""
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in matched.items() if v)


def render_panel(rec: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    meta = Text()
    for label, key in (
        ("date", "date"),
        ("category", "category"),
        ("url", "url"),
        ("source", "source"),
        ("id", "id"),
        ("slug", "slug"),
    ):
        if rec.get(key):
            meta.append(f"{label}: ", style="dim")
            meta.append(cell(rec[key]))
            meta.append("\n")
    parts: list[Any] = [meta]
    left_out = 0
    if rec.get("excerpt"):
        excerpt, left_out = clip(rec["excerpt"])
        parts.append(Text(neutralise(excerpt, keep_newlines=True)))
    if rec.get("truncated"):
        parts.append(
            Text("(excerpt truncated: the source shows only the beginning)", style="italic dim")
        )
    if rec.get("extra"):
        extra, more = clip(cell(rec["extra"]))
        left_out += more
        parts.append(Text("extra: " + extra, style="dim"))
    title = rec.get("title") or ""
    left_out += max(0, len(title) - TABLE_CELL_MAX_CHARS)
    if left_out:
        parts.append(
            Text(
                f"({left_out:,} more characters not shown here: "
                f"irarchive show {rec.get('id')} --json, or pipe it, shows all)",
                style="italic dim",
            )
        )
    return Panel(
        Group(*parts),
        title=safe_text(title, "bold", limit=TABLE_CELL_MAX_CHARS),
        title_align="left",
        expand=True,
    )


def plain_article(rec: dict[str, Any]) -> str:
    """``show`` on a pipe: the article as plain text blocks."""
    lines = [cell(rec.get("title"))]
    for key in ("date", "category", "url", "source", "id", "slug"):
        if rec.get(key):
            lines.append(f"{key}: {cell(rec[key])}")
    if rec.get("truncated"):
        lines.append("truncated: true")
    if rec.get("excerpt"):
        lines += ["", neutralise(rec["excerpt"], keep_newlines=True)]
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
