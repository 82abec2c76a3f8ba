"""Readers for the import formats. Each streams ``Article`` or ``Rejected`` items.

Only the file is read; nothing is stored here. Records are mapped onto article
fields through common aliases (``description`` -> excerpt, ``link`` -> url,
``pubDate`` -> date); every other field is kept in ``extra`` so nothing is dropped.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from irarchive.dates import parse_record_date
from irarchive.errors import ImportFailed
from irarchive.model import ID_PATTERN, Article
from irarchive.sources.decoding import safe_slug, unique_key

FORMATS = ("listing", "json", "jsonl", "csv", "tsv")

_EXTENSIONS = {
    ".txt": "listing",
    ".listing": "listing",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}

ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "name"),
    "excerpt": ("excerpt", "description", "summary", "abstract", "snippet", "content", "body"),
    "url": ("url", "link", "href", "permalink"),
    "date": (
        "date",
        "published",
        "pubdate",
        "pub_date",
        "published_at",
        "publication_date",
        "datetime",
        "issued",
    ),
    "category": ("category", "section", "topic"),
    "source_id": ("guid", "uuid", "source_id"),
}
TRUNCATION_MARKERS = ("[…]", "[...]", "…", "...")


@dataclass(frozen=True)
class Rejected:
    """A record that could not be imported, with where it is and why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


Item = Article | Rejected


def detect_format(name: str, head: str) -> str:
    """Pick a reader from the file name, else from the first characters."""
    ext = os.path.splitext(name)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first, _, rest = stripped.partition("\n")
        return (
            "jsonl"
            if first.rstrip().endswith("}") and (not rest.strip() or rest.lstrip().startswith("{"))
            else "json"
        )
    first_line = stripped.partition("\n")[0]
    if "\t" in first_line:
        return "tsv"
    if "," in first_line and "title" in first_line.lower():
        return "csv"
    return "listing"


def open_text(path: str, stdin: IO[bytes] | None = None) -> tuple[IO[str], str]:
    """Open a file (or stdin for ``-``) as text, honouring a UTF-8/UTF-16 BOM.

    Returns the stream and its first 64 KiB for format detection. Decoding is
    strict: invalid bytes stop the import of that file with the position.
    """
    if path == "-":
        raw: IO[bytes] = stdin if stdin is not None else io.BytesIO()
    else:
        if os.path.isdir(path):
            raise ImportFailed(f"{path} is a directory; give the files inside it instead")
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the wrapper
        except FileNotFoundError:
            raise ImportFailed(f"{path}: no such file") from None
        except OSError as exc:
            raise ImportFailed(f"{path}: cannot read ({exc.strerror})") from None
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    start = buffered.peek(65536)[:65536]
    if start.startswith(codecs.BOM_UTF16_LE) or start.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
        head = start.decode("utf-16", errors="ignore")
    else:
        encoding = "utf-8-sig"
        if b"\x00" in start:
            raise ImportFailed(
                f"{display_name(path)} looks like a binary file (it has NUL bytes); "
                "give a listing, JSON, JSONL, CSV or TSV file"
            )
        head = start.decode("utf-8-sig", errors="ignore")
    # newline="": the csv module must see quoted line breaks as they are (it handles
    # \r\n itself); the other readers strip line endings.
    stream = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
    return stream, head


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def read(
    path: str,
    *,
    fmt: str | None = None,
    date_order: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[Item]:
    """Stream the articles of one input file."""
    from irarchive.sources import csvfile, jsonfile, listing

    stream, head = open_text(path, stdin)
    name = display_name(path)
    fmt = fmt or detect_format("" if path == "-" else path, head)
    source = os.path.basename(path) if path != "-" else "stdin"
    try:
        if fmt == "listing":
            yield from listing.read(stream, name=name, source=source, date_order=date_order)
        elif fmt == "json":
            for line, rec in jsonfile.read_json(stream, name=name):
                yield record_to_article(
                    rec, name=name, line=line, source=source, date_order=date_order
                )
        elif fmt == "jsonl":
            for line, rec in jsonfile.read_jsonl(stream, name=name):
                yield record_to_article(
                    rec, name=name, line=line, source=source, date_order=date_order
                )
        elif fmt in ("csv", "tsv"):
            for line, rec in csvfile.read(
                stream, name=name, delimiter="\t" if fmt == "tsv" else ","
            ):
                yield record_to_article(
                    rec, name=name, line=line, source=source, date_order=date_order
                )
        else:
            raise ImportFailed(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"{name} is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}); "
            "convert it, e.g. iconv -f latin1 -t utf-8"
        ) from None
    finally:
        if path != "-":
            stream.close()


def split_truncation(excerpt: str | None) -> tuple[str | None, bool]:
    """Drop a trailing ``[…]`` marker and report that the excerpt was truncated."""
    if excerpt is None:
        return None, False
    text = excerpt.rstrip()
    for marker in TRUNCATION_MARKERS[:2]:
        if text.endswith(marker):
            # An excerpt that was only the marker is no excerpt (None, not "").
            return text[: -len(marker)].rstrip() or None, True
    return text, False


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    text = str(value).strip()
    return text or None


def _is_text_like(value: Any) -> bool:
    """A scalar, or a list of scalars (joined with commas), can be a text field."""
    if isinstance(value, dict):
        return False
    if isinstance(value, (list, tuple)):
        return all(not isinstance(v, (dict, list, tuple)) for v in value)
    return True


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(value)


def record_to_article(
    rec: Any, *, name: str, line: int, source: str, date_order: str | None
) -> Item:
    """Map one JSON/CSV record onto an Article, or say why it is rejected."""
    if isinstance(rec, Rejected):
        return rec
    if not isinstance(rec, dict):
        return Rejected(name, line, f"expected an object with a title, got {type(rec).__name__}")
    lowered: dict[str, str] = {}
    for key in rec:
        lowered.setdefault(str(key).lower(), key)
    used: set[str] = set()

    def take(field: str) -> Any:
        for alias in ALIASES[field]:
            key = lowered.get(alias)
            if key is None or key in used or not _is_text_like(rec[key]):
                continue  # an object is never turned into text: it stays in extra
            used.add(key)  # an empty alias is consumed too, not kept as an extra
            if rec[key] not in (None, ""):
                return rec[key]
        return None

    title = _text(take("title"))
    if not title:
        return Rejected(name, line, "record has no title (expected a 'title' field)")
    try:
        date = parse_record_date(_text(take("date")), date_order)
    except ValueError as exc:
        return Rejected(name, line, f"bad date: {exc}")
    category = _text(take("category"))
    url = _text(take("url"))
    raw_excerpt = take("excerpt")
    said_truncated = "truncated" in lowered and _truthy(rec[lowered["truncated"]])
    if "truncated" in lowered:
        used.add(lowered["truncated"])
    if said_truncated:
        # The record says so itself (as irarchive's own exports do): its excerpt is
        # kept as it is, so re-importing an export never strips a second marker.
        excerpt, truncated = _text(raw_excerpt), True
    else:
        excerpt, truncated = split_truncation(_text(raw_excerpt))
    given_id = None
    source_id = None
    if "id" in lowered:
        used.add(lowered["id"])
        raw_id = _text(rec[lowered["id"]])
        if raw_id and ID_PATTERN.fullmatch(raw_id):
            given_id = raw_id
        else:
            source_id = raw_id
    source_id = source_id or _text(take("source_id"))
    extra: dict[str, Any] = {}
    kept = {}
    for own in ("slug", "added_at", "source"):
        if own == "slug" and own in lowered and not safe_slug(rec[lowered[own]]):
            continue  # regenerated from the title; the value given stays in extra
        if own in lowered:
            used.add(lowered[own])
            kept[own] = _text(rec[lowered[own]])
    # Only an object is the extras object (CSV's JSON text is decoded by its reader);
    # any other "extra" value is an ordinary field. Colliding names get a suffix.
    raw_extra = rec[lowered["extra"]] if "extra" in lowered else None
    if isinstance(raw_extra, dict):
        used.add(lowered["extra"])
        extra.update(raw_extra)
    for key, value in rec.items():
        if key not in used:
            extra[unique_key(extra, str(key))] = value
    return Article(
        title=title,
        date=date,
        excerpt=excerpt,
        truncated=truncated,
        category=category,
        url=url,
        source=kept.get("source") or source,
        source_id=source_id,
        given_id=given_id,
        slug=kept.get("slug"),
        added_at=kept.get("added_at"),
        extra=extra,
    )
