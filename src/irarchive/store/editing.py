"""Changing and removing articles by hand: ``edit``, ``rm`` and ``undo``.

Every change here is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on
any exception) that first records what it replaces in the undo log, then changes the
``articles`` rows with plain SQL (the m004 triggers queue them for the full-text
index) and replays the queue (``indexing.sync``) before committing.

An edited field is recorded in ``edits`` (one row per article and field), so a later
re-import keeps the researcher's value until ``edit --reset``. ``field`` is the
article column (``title``, ``date``, ``excerpt``, ``truncated``, ``category``,
``url``, ``authors``, ``doi``); ``value`` and ``source_value`` are JSON: a string or
null, ``true``/``false`` for ``truncated``, a list of CSL name objects for
``authors``. ``source_value`` is what the article held before its first edit (the
source's value), which ``--reset`` puts back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from irarchive.errors import ArchiveError, UsageError
from irarchive.store import indexing, undo
from irarchive.store.transactions import transaction

#: Fields ``edit --set`` accepts, in the order changes are reported.
EDITABLE = ("title", "authors", "date", "excerpt", "truncated", "category", "url", "doi")
#: Resetting one of these resets the others with it (an excerpt's marker sets truncated).
_TOGETHER = {"excerpt": ("excerpt", "truncated")}


@dataclass(frozen=True)
class Change:
    """One field of one article, before and after (values as ``show --json`` gives them)."""

    field: str
    old: Any
    new: Any
    reset: bool = False


@dataclass
class EditResult:
    """What ``edit`` changed (or would change, with ``dry_run``)."""

    article_id: str
    changes: list[Change] = field(default_factory=list)
    old_slug: str | None = None
    new_slug: str | None = None
    dry_run: bool = False


@dataclass
class RemoveResult:
    """What ``rm`` removed (or would remove): the articles and their annotations."""

    articles: list[dict[str, Any]]
    annotations: dict[str, int]
    dry_run: bool = False


def require_safe(archive: Any, what: str) -> None:
    """Refuse to change a read-only archive, or one with triggers irarchive did not create
    (they could change or delete articles when ours are changed, as for an import)."""
    archive._require_writable()
    if archive.foreign_triggers:
        names = ", ".join(f"'{n}'" for n in archive.foreign_triggers[:5])
        raise ArchiveError(
            f"{archive.path} has triggers irarchive did not create ({names}); they could "
            f"change or delete articles, so {what}: run 'irarchive db check'"
        )


# ---- values ---------------------------------------------------------------------------


def _text(value: str) -> str | None:
    text = value.strip()
    return text or None


def parse_value(name: str, raw: str, *, date_order: str | None = None) -> Any:
    """The value ``--set name=raw`` stores, read the way an import reads that field."""
    from irarchive.dates import parse_record_date
    from irarchive.sources.authors import parse_authors, parse_doi

    if name == "title":
        title = _text(raw)
        if title is None:
            raise UsageError("--set title: a title cannot be empty")
        return title
    if name == "date":
        try:
            return parse_record_date(raw, date_order)
        except ValueError as exc:
            message = str(exc).replace("use --date-order", "use edit --date-order")
            raise UsageError(f"--set date: {message}") from None
    if name == "authors":
        if not raw.strip():
            return []
        names = parse_authors(raw)
        if not names:
            raise UsageError(
                f"--set authors: no names in {raw!r}; write them as 'John Smith; Jane Doe' "
                "(or empty to remove the authors)"
            )
        return names
    if name == "doi":
        if not raw.strip():
            return None
        doi = parse_doi(raw)
        if doi is None:
            raise UsageError(
                f"--set doi: {raw.strip()!r} is not a DOI; give 10.NNNN/…, doi:10.… "
                "or https://doi.org/10.… (or empty to remove it)"
            )
        return doi
    if name == "truncated":
        word = raw.strip().lower()
        if word in ("1", "true", "yes", "y", "t"):
            return True
        if word in ("0", "false", "no", "n", "f", ""):
            return False
        raise UsageError(f"--set truncated: expected true or false, not {raw!r}")
    return _text(raw)  # excerpt (split below), category, url


def parse_sets(specs: list[str], *, date_order: str | None = None) -> dict[str, Any]:
    """``--set field=value`` options as {field: stored value}, checked."""
    from irarchive.sources import split_truncation

    out: dict[str, Any] = {}
    given: set[str] = set()
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip().lower()
        if not sep or name not in EDITABLE:
            raise UsageError(
                f"--set {spec!r}: expected FIELD=VALUE with FIELD one of: {', '.join(EDITABLE)}"
            )
        if name in given:
            raise UsageError(f"--set {name} is given twice; give each field once")
        given.add(name)
        if name == "excerpt":
            # As an import reads it: a trailing […] marks the excerpt as truncated
            # (an explicit --set truncated=… wins).
            excerpt, truncated = split_truncation(_text(raw))
            out["excerpt"] = excerpt
            if "truncated" not in given:
                out["truncated"] = truncated
            continue
        out[name] = parse_value(name, raw, date_order=date_order)
    return out


def _current(article: dict[str, Any], name: str) -> Any:
    value = article[name]
    if name == "authors":
        return list(value or [])
    if name == "truncated":
        return bool(value)
    return value


def _column(name: str, value: Any) -> Any:
    """A field's value as the ``articles`` column holds it."""
    if name == "authors":
        return json.dumps(list(value), ensure_ascii=False, sort_keys=True) if value else None
    if name == "truncated":
        return int(bool(value))
    return value


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# ---- edit -------------------------------------------------------------------------------


def edits_of(conn: sqlite3.Connection, article_id: str) -> dict[str, tuple[Any, Any, str]]:
    """The fields edited here: field -> (value, source's value, edited_at)."""
    rows = conn.execute(
        "SELECT field, value, source_value, edited_at FROM edits WHERE article_id = ?",
        (article_id,),
    )
    return {f: (_load(v), _load(s), at) for f, v, s, at in rows}


def _load(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def edit(
    conn: sqlite3.Connection,
    article: dict[str, Any],
    sets: dict[str, Any],
    resets: list[str],
    *,
    now: str,
    dry_run: bool = False,
) -> EditResult:
    """Change ``article``'s fields to ``sets`` and put ``resets`` back to the source's.

    ``resets`` may be ``["all"]``. The id stays; a changed title gives a new slug and
    keeps the old one as an alias, so it still resolves.
    """
    article_id = article["id"]
    if dry_run:
        return _plan(conn, article, sets, resets, dry_run=True)
    with transaction(conn):
        fresh = _reload(conn, article_id)
        result = _plan(conn, fresh, sets, resets, dry_run=False)
        if not result.changes:
            return result
        summary = (
            f"edit {', '.join(c.field for c in result.changes)} of {article_id} "
            f"({_short(fresh['title'])})"
        )
        entry = undo.record(conn, "edit", summary, [article_id], now=now)
        _apply(conn, fresh, result, now)
        indexing.sync(conn)
        undo.seal(conn, entry)
    return result


def _short(title: str, limit: int = 50) -> str:
    """A title for an undo summary: one line, at most ``limit`` characters."""
    text = " ".join(str(title).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reload(conn: sqlite3.Connection, article_id: str) -> dict[str, Any]:
    from irarchive.store.archive import _COLUMNS, _row_to_dict

    row = conn.execute(f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise ArchiveError(f"article {article_id} was removed meanwhile; nothing was changed")
    return _row_to_dict(row)


def _plan(
    conn: sqlite3.Connection,
    article: dict[str, Any],
    sets: dict[str, Any],
    resets: list[str],
    *,
    dry_run: bool,
) -> EditResult:
    from irarchive.model import base_slug

    edited = edits_of(conn, article["id"])
    wanted: dict[str, tuple[Any, bool]] = {}
    names = [r.strip().lower() for r in resets]
    for name in names:
        if name != "all" and name not in EDITABLE:
            raise UsageError(f"--reset {name!r}: expected all or one of: {', '.join(EDITABLE)}")
        if name in sets:
            raise UsageError(f"{name} is both --set and --reset; give one of them")
    for name in names:
        group = _TOGETHER.get(name, (name,))
        if name != "all" and not any(n in edited for n in group):
            raise UsageError(
                f"{name} of {article['id']} was not edited here, so there is nothing to reset "
                "(irarchive edit REF --set FIELD=VALUE changes it)"
            )
    if "all" in names:
        names = list(edited)
    else:
        names = [n for group in names for n in _TOGETHER.get(group, (group,))]
    for name in names:
        if name in edited:
            wanted[name] = (edited[name][1], True)
    for name, value in sets.items():
        wanted[name] = (value, False)
    result = EditResult(article["id"], old_slug=article["slug"], dry_run=dry_run)
    for name in EDITABLE:
        if name not in wanted:
            continue
        value, is_reset = wanted[name]
        old = _current(article, name)
        if not _same(old, value):
            result.changes.append(Change(name, old, value, is_reset))
        elif is_reset:
            result.changes.append(Change(name, old, value, True))  # drops the edit
    title = next((c.new for c in result.changes if c.field == "title"), None)
    if title is not None and base_slug(title) != article["slug"]:
        result.new_slug = indexing.free_slug(conn, base_slug(title), article["id"])
    return result


def _apply(conn: sqlite3.Connection, article: dict[str, Any], result: EditResult, now: str) -> None:
    from irarchive.dates import date_range

    article_id = article["id"]
    edited = edits_of(conn, article_id)
    columns: dict[str, Any] = {}
    for change in result.changes:
        columns[change.field] = _column(change.field, change.new)
        if change.field == "date":
            start, end = date_range(change.new) if change.new else (None, None)
            columns["date_start"], columns["date_end"] = start, end
        source = edited[change.field][1] if change.field in edited else change.old
        if change.reset or _same(change.new, source):
            conn.execute(
                "DELETE FROM edits WHERE article_id = ? AND field = ?", (article_id, change.field)
            )
        else:
            conn.execute(
                "INSERT INTO edits(article_id, field, value, source_value, edited_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(article_id, field) DO UPDATE SET "
                "value = excluded.value, edited_at = excluded.edited_at",
                (
                    article_id,
                    change.field,
                    json.dumps(change.new, ensure_ascii=False),
                    json.dumps(source, ensure_ascii=False),
                    now,
                ),
            )
    if result.new_slug and result.new_slug != result.old_slug:
        columns["slug"] = result.new_slug
        conn.execute(
            "DELETE FROM aliases WHERE alias = ? AND article_id = ?", (result.new_slug, article_id)
        )
        if result.old_slug:
            conn.execute(
                "INSERT OR REPLACE INTO aliases(alias, article_id, kind, created_at) "
                "VALUES (?, ?, 'slug', ?)",
                (result.old_slug, article_id, now),
            )
    if columns:
        assigns = ", ".join(f"{name} = ?" for name in columns)
        conn.execute(f"UPDATE articles SET {assigns} WHERE id = ?", [*columns.values(), article_id])
    _learn_acronyms(conn, [c.new for c in result.changes if c.field in ("title", "excerpt")])


def _learn_acronyms(conn: sqlite3.Connection, texts: list[Any]) -> None:
    """Acronyms defined in new text ("… Organization (SCO)") are learned as an import would."""
    from irarchive.text import acronym_definitions

    for text in texts:
        if isinstance(text, str) and "(" in text:
            for acronym, expansion in acronym_definitions(text):
                conn.execute(
                    "INSERT INTO acronyms(acronym, expansion, count) VALUES (?, ?, 1) "
                    "ON CONFLICT(acronym, expansion) DO UPDATE SET count = count + 1",
                    (acronym, expansion),
                )


# ---- rm --------------------------------------------------------------------------------

#: What ``rm`` removes with an article, and how it is counted in the report.
ANNOTATIONS = ("tags", "notes", "list_items", "aliases", "edits")


def _chunks(ids: list[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    for i in range(0, len(ids), size):
        chunk = ids[i : i + size]
        yield chunk, ", ".join("?" * len(chunk))


def annotation_counts(conn: sqlite3.Connection, ids: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(ANNOTATIONS, 0)
    for chunk, marks in _chunks(ids):
        for table in ANNOTATIONS:
            counts[table] += conn.execute(
                f"SELECT count(*) FROM {table} WHERE article_id IN ({marks})", chunk
            ).fetchone()[0]
    return counts


def remove(
    conn: sqlite3.Connection, articles: list[dict[str, Any]], *, now: str, dry_run: bool = False
) -> RemoveResult:
    """Delete these articles with their tags, notes, reading-list places, aliases and
    edits, all kept in one undo entry."""
    unique = list({a["id"]: a for a in articles}.values())
    ids = [a["id"] for a in unique]
    if dry_run:
        return RemoveResult(unique, annotation_counts(conn, ids), dry_run=True)
    with transaction(conn):
        present = set()
        for chunk, marks in _chunks(ids):
            present |= {
                r[0] for r in conn.execute(f"SELECT id FROM articles WHERE id IN ({marks})", chunk)
            }
        unique = [a for a in unique if a["id"] in present]
        ids = [a["id"] for a in unique]
        counts = annotation_counts(conn, ids)
        n = len(ids)
        if not n:
            return RemoveResult([], counts)  # removed meanwhile by someone else
        first = unique[0]
        summary = (
            f"rm {first['id']} ({_short(first['title'])})" if n == 1 else f"rm {n:,} articles"
        ) + _annotation_words(counts, prefix=" with ")
        entry = undo.record(conn, "rm", summary, ids, now=now)
        for chunk, marks in _chunks(ids):
            for table in ANNOTATIONS:
                conn.execute(f"DELETE FROM {table} WHERE article_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk)
        indexing.sync(conn)
        undo.seal(conn, entry)
    return RemoveResult(unique, counts)


_WORDS = {
    "tags": ("tag", "tags"),
    "notes": ("note", "notes"),
    "list_items": ("reading-list place", "reading-list places"),
    "aliases": ("alias", "aliases"),
    "edits": ("edited field", "edited fields"),
}


def _annotation_words(counts: dict[str, int], *, prefix: str = "") -> str:
    parts = [f"{n:,} {_WORDS[t][n != 1]}" for t, n in counts.items() if n]
    return prefix + ", ".join(parts) if parts else ""


def annotation_words(counts: dict[str, int]) -> str:
    """``2 tags, 1 note`` (empty when there are none)."""
    return _annotation_words(counts)


# ---- undo --------------------------------------------------------------------------------


def undo_last(conn: sqlite3.Connection, *, force: bool) -> undo.Entry | None:
    """Restore the newest undo entry in one transaction; None when there is none.

    Refuses (``LaterChanges``) when the entry's articles changed after it was made,
    unless ``force``: undoing would throw that later work away too.
    """
    with transaction(conn):
        entries = undo.entries(conn, limit=1)
        if not entries:
            return None
        if not force and undo.changed_since(conn):
            raise LaterChanges(entries[0])
        return undo.restore_last(conn)


class LaterChanges(UsageError):
    """Undoing the newest entry would also undo changes made after it."""

    def __init__(self, entry: undo.Entry) -> None:
        super().__init__(
            f"the last change ({entry.summary}, {entry.at}) was followed by other changes "
            "to its articles; undoing it would throw those away too: run "
            "'irarchive undo --yes' to do it anyway"
        )
        self.entry = entry


# ---- orphans -------------------------------------------------------------------------------


def orphans(conn: sqlite3.Connection) -> dict[str, int]:
    """Annotations (tags, notes, list places, edits) of ids no article or alias has.

    They are kept: re-importing the article (same id) finds them again.
    """
    out: dict[str, int] = {}
    for table in ("tags", "notes", "list_items", "edits"):
        n = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.id = t.article_id) AND NOT EXISTS "
            "(SELECT 1 FROM aliases s WHERE s.alias = t.article_id)"
        ).fetchone()[0]
        if n:
            out[table] = n
    return out
