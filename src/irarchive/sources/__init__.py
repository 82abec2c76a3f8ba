"""Reading input: open a file, let the format's reader yield raw records, map them once.

Readers (``listing``, ``jsonfile``, ``csvfile``, registered in ``formats``) only
parse a text stream into raw records with their line numbers; ``to_articles`` is
the one place records become articles, so a new source (a feed fetched over HTTP)
plugs in as retrieval in front of the same readers. Nothing is stored here.
Records are mapped onto article fields through common aliases (``description`` ->
excerpt, ``link`` -> url, ``pubDate`` -> date, ``author``/``dc:creator`` -> authors,
see ``sources.authors``); every other field is kept in ``extra`` so nothing is dropped.
"""

from __future__ import annotations

import codecs
import functools
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from irarchive.dates import parse_record_date
from irarchive.errors import ImportFailed
from irarchive.model import ID_PATTERN, Article
from irarchive.sources.authors import move_from_extra, take_authors_doi
from irarchive.sources.decoding import safe_slug, unique_key

if TYPE_CHECKING:
    from irarchive.formats import InputFormat

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
_BRACKETED = TRUNCATION_MARKERS[:2]


@dataclass(frozen=True)
class Rejected:
    """A record that could not be imported, with where it is and why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


Item = Article | Rejected
#: What readers yield: a record with the line it starts on, or a rejection.
Raw = tuple[int, Any] | Rejected


def open_text(
    path: str, stdin: IO[bytes] | None = None, opened: IO[bytes] | None = None
) -> tuple[IO[str], str]:
    """Open a file (or stdin for ``-``) as text, honouring a UTF-8/UTF-16 BOM.

    ``opened`` is the file already opened by the caller (who watches how far it has
    been read). Returns the stream and its first 64 KiB for format detection.
    Decoding is strict: invalid bytes stop the import of that file with the position.
    """
    if path == "-":
        raw: IO[bytes] = stdin if stdin is not None else io.BytesIO()
    elif opened is not None:
        raw = opened
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
    rename: dict[str, str] | None = None,
    opened: IO[bytes] | None = None,
) -> Iterator[Item]:
    """Stream the articles of one input file: open, read raw records, map each once.

    ``rename`` maps input keys onto article fields (``--map category_guess=category``).
    """
    from irarchive import formats

    name = display_name(path)
    if fmt:
        _refuse_document(formats.input_format(fmt), name)
    stream, head = open_text(path, stdin, opened)
    source = os.path.basename(path) if path != "-" else "stdin"
    try:
        in_fmt = (
            formats.input_format(fmt)
            if fmt
            else formats.detect_input("" if path == "-" else path, head)
        )
        _refuse_document(in_fmt, name)
        raw = records(stream, in_fmt, name=name, date_order=date_order)
        yield from to_articles(
            renamed(raw, rename) if rename else raw,
            name=name,
            source=source,
            date_order=date_order,
        )
    finally:
        if path != "-":
            stream.close()


def _refuse_document(fmt: InputFormat, name: str) -> None:
    """A whole-document format (a saved feed) has its own importer; it is never line-read."""
    if fmt.document:
        raise ImportFailed(
            f"{name}: {fmt.name} input ({fmt.help}) is read whole, not line by line; "
            "import the file itself (irarchive import -f feed FILE)"
        )


def records(
    stream: IO[str], fmt: InputFormat, *, name: str, date_order: str | None = None
) -> Iterator[Raw]:
    """The raw records of a text stream in ``fmt``, each with its line (or a Rejected).

    Where bytes come from (a file, stdin, a feed fetched over HTTP) is the caller's
    business: readers only parse.
    """
    reader = fmt.load()
    try:
        yield from reader(stream, name=name, date_order=date_order, **dict(fmt.options))
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"{name} is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}); "
            "convert it, e.g. iconv -f latin1 -t utf-8"
        ) from None


def renamed(raw: Iterable[Raw], rename: dict[str, str]) -> Iterator[Raw]:
    """Records with keys renamed onto article fields (keys matched ignoring case).

    A renamed key with a value wins over a key already named like the field; that
    key's value is kept as ``original_<field>`` (an extra), never lost.
    """
    wanted = {src.lower(): dst for src, dst in rename.items()}
    for entry in raw:
        if isinstance(entry, Rejected) or not isinstance(entry[1], dict):
            yield entry
            continue
        line, rec = entry
        out: dict[Any, Any] = {}
        mapped: dict[str, Any] = {}
        for key, value in rec.items():
            dst = wanted.get(str(key).lower())
            if dst is not None and value not in (None, ""):
                mapped[dst] = value
            else:
                out[key] = value
        for dst, value in mapped.items():
            for key in [k for k in out if str(k).lower() == dst]:
                out[f"original_{dst}"] = out.pop(key)
            out[dst] = value
        yield line, out


def to_articles(
    raw: Iterable[Raw], *, name: str, source: str, date_order: str | None
) -> Iterator[Item]:
    """Map raw records onto articles: the one place a record becomes an Article."""
    for entry in raw:
        if isinstance(entry, Rejected):
            yield entry
            continue
        line, rec = entry
        if isinstance(rec, Rejected):  # a reader's bound, reported at its line
            yield rec
        else:
            yield record_to_article(rec, name=name, line=line, source=source, date_order=date_order)


def split_truncation(excerpt: str | None) -> tuple[str | None, bool]:
    """Drop a trailing ``[…]`` marker and report that the excerpt was truncated."""
    if excerpt is None:
        return None, False
    text = excerpt.rstrip()
    if not text.endswith(_BRACKETED):
        return text, False
    for marker in _BRACKETED:
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


@functools.lru_cache(maxsize=16384)
def _record_date(text: str | None, date_order: str | None) -> str | None:
    """``parse_record_date``, remembered: an archive has far fewer dates than articles."""
    return parse_record_date(text, date_order)


_Plan = tuple[dict[str, Any], dict[str, list[Any]], bool]
_PLANS: dict[tuple[Any, ...], _Plan] = {}
_TEXT_ONLY = frozenset({str})
#: Keys that need no alias resolution and leave nothing for ``extra``.
_PLAIN_ORDER = ("title", "date", "excerpt", "category", "url")
_PLAIN = frozenset(_PLAIN_ORDER)


def _key_plan(keys: tuple[Any, ...]) -> _Plan:
    """For a record's keys: lower-cased name -> key, each field's keys in alias order,
    and whether they are all plain article fields (as the listing reader writes them).

    Records of one file nearly always share their keys, so this is worked out once
    per key set instead of once per record (a tenth of the mapping's cost).
    """
    plan = _PLANS.get(keys)
    if plan is None:
        lowered: dict[str, Any] = {}
        for key in keys:
            lowered.setdefault(str(key).lower(), key)
        present = {
            field: [lowered[a] for a in aliases if a in lowered]
            for field, aliases in ALIASES.items()
        }
        if len(_PLANS) >= 256:  # hostile input with ever-new keys: stay bounded
            _PLANS.clear()
        plain = all(key in _PLAIN for key in keys)
        plan = _PLANS[keys] = (lowered, present, plain)
    return plan


def _plain_article(
    rec: dict[str, Any], *, name: str, line: int, source: str, date_order: str | None
) -> Item:
    """``record_to_article`` for a record of plain article fields only: no aliases to
    resolve, nothing left for ``extra`` (the same result, at a third of the cost)."""
    # ``_text`` of each field, inline for text (one call per record, not five).
    title, date, excerpt, category, url = [
        (v.strip() or None) if type(v) is str else _text(v) for v in map(rec.get, _PLAIN_ORDER)
    ]
    if not title:
        return Rejected(name, line, "record has no title (expected a 'title' field)")
    try:
        date = _record_date(date, date_order)
    except ValueError as exc:
        return Rejected(name, line, f"bad date: {exc}")
    excerpt, truncated = split_truncation(excerpt)
    return Article.plain(title, date, excerpt, truncated, category, url, source)


def record_to_article(
    rec: Any, *, name: str, line: int, source: str, date_order: str | None
) -> Item:
    """Map one raw record (from any reader) onto an Article, or say why it is rejected."""
    if not isinstance(rec, dict):
        return Rejected(name, line, f"expected an object with a title, got {type(rec).__name__}")
    lowered, present, plain = _key_plan(tuple(rec))
    if plain and (
        _TEXT_ONLY.issuperset(map(type, rec.values()))  # the usual case, by a C loop
        or all(_is_text_like(v) for v in rec.values())
    ):
        return _plain_article(rec, name=name, line=line, source=source, date_order=date_order)
    used: set[str] = set()

    def take(field: str) -> Any:
        keys = present[field]
        if len(keys) == 1 and keys[0] not in used and _is_text_like(rec[keys[0]]):
            used.add(keys[0])  # the usual case, kept quick
            value = rec[keys[0]]
            return None if value == "" else value
        for key in keys:
            if key in used or not _is_text_like(rec[key]):
                continue  # an object is never turned into text: it stays in extra
            used.add(key)  # an empty alias is consumed too, not kept as an extra
            if rec[key] not in (None, ""):
                return rec[key]
        return None

    title = _text(take("title"))
    if not title:
        return Rejected(name, line, "record has no title (expected a 'title' field)")
    try:
        date = _record_date(_text(take("date")), date_order)
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
    authors, doi = take_authors_doi(rec, lowered, used)
    # Only irarchive's own exports (a record with an irarchive id) carry annotations: a
    # "tags" field of other data stays in extra, as it always did.
    tags, notes = _annotations(rec, lowered, used) if given_id else ((), ())
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
    if raw_extra and isinstance(raw_extra, dict):
        authors, doi = move_from_extra(extra, authors, doi)
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
        authors=tuple(authors),
        doi=doi,
        tags=tags,
        notes=notes,
    )


def _annotations(
    rec: dict[str, Any], lowered: dict[str, Any], used: set[str]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``tags`` and ``notes`` as irarchive's exports write them (records with an id):
    lists in JSON, their JSON text in CSV (an empty cell: none).

    Taken only when every member is valid (tags: strings that are valid tags; notes:
    objects with text ``created_at`` and ``text``); anything else stays in ``extra``
    exactly as it was, so nothing is dropped.
    """
    import json

    def listed(name: str) -> list[Any] | None:
        key = lowered.get(name)
        if key is None:
            return None
        value = rec[key]
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except ValueError:
                return None
        return value if isinstance(value, list) else None

    tags: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()
    raw_tags = listed("tags")
    if raw_tags is not None:
        from irarchive.model import tag_or_none

        found = [tag_or_none(t) for t in raw_tags]
        if all(found):
            tags = tuple(sorted(set(found)))  # type: ignore[arg-type]
            used.add(lowered["tags"])
    raw_notes = listed("notes")
    if raw_notes is not None and all(
        isinstance(n, dict)
        and set(n) == {"created_at", "text"}
        and isinstance(n["created_at"], str)
        and isinstance(n["text"], str)
        and n["text"].strip()
        for n in raw_notes
    ):
        notes = tuple(dict.fromkeys((n["created_at"], n["text"]) for n in raw_notes))
        used.add(lowered["notes"])
    return tags, notes
