"""``irarchive import OTHER.db``: merge another irarchive archive into this one.

Two researchers (or two machines) combine their archives: OTHER's articles go
through the import's matching (id, alias, url, title and date; see
``store.writer``), so an article both have is one article. OTHER's copy only adds
what this archive's lacks (a url, authors, a whole excerpt): neither side's work is
overwritten by the other's, and edits travel as edits. OTHER's annotations
follow them: tags unioned, notes added once (same ``created_at`` and text = same
note), reading lists merged (OTHER's items appended in its order, an article
already in the list stays where it is), aliases and edits carried where this
archive has none for them. All of it is one transaction (the import's own).

OTHER is opened read-only through ``open_archive(readonly=True, upgrade=False)``,
at whatever schema version it is (never newer than this irarchive knows): it is
never modified, not even migrated.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from irarchive.errors import ArchiveError, ImportFailed
from irarchive.migrations import APPLICATION_ID
from irarchive.model import Article
from irarchive.store.archive import Archive
from irarchive.store.chunks import rows_in
from irarchive.store.writer import ImportReport

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass
class CombineReport:
    """What ``import OTHER.db`` did (or would do, with --dry-run)."""

    articles: ImportReport = field(default_factory=ImportReport)
    tags: int = 0
    notes: int = 0
    lists: int = 0
    list_items: int = 0
    aliases: int = 0
    edits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.articles.to_dict(),
            "tags": self.tags,
            "notes": self.notes,
            "lists": self.lists,
            "list_items": self.list_items,
            "aliases": self.aliases,
            "edits": self.edits,
        }


def is_archive_file(path: str) -> bool:
    """Is ``path`` an SQLite file (by its header)? Then it is read as an archive.

    An SQLite file that is not an irarchive archive is refused by
    ``import_archive`` with a message; text files are never mistaken for one.
    """
    if path == "-" or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_HEADER
    except OSError:
        return False


def _application_id(path: str) -> int:
    with open(path, "rb") as f:
        head = f.read(72)
    return int.from_bytes(head[68:72], "big") if len(head) >= 72 else 0


def import_archive(
    archive: Archive,
    other_path: str,
    *,
    dry_run: bool = False,
    now: str | None = None,
) -> CombineReport:
    """Merge the archive at ``other_path`` into ``archive`` in one transaction."""
    from irarchive.store.opening import open_archive

    if _same_file(archive.path, other_path):
        raise ImportFailed(
            f"{other_path} is the archive being imported into; give another archive's file"
        )
    if _application_id(other_path) != APPLICATION_ID:
        raise ImportFailed(
            f"{other_path} is an SQLite database but not an irarchive archive; "
            "export its rows as JSON or CSV and import that"
        )
    try:
        other = open_archive(other_path, create=False, readonly=True, upgrade=False)
    except ArchiveError as exc:
        raise ImportFailed(str(exc)) from None
    try:
        report = CombineReport()
        reader = _Reader(other.conn)

        def annotations(_articles: ImportReport) -> None:
            c = archive.conn
            report.lists, report.list_items = _merge_lists(c, reader, now_or(now))
            report.aliases = _merge_aliases(c, reader)
            report.edits = _merge_edits(c, reader)
            report.tags = _count(c, "tags") - start[0]
            report.notes = _count(c, "notes") - start[1]

        start = (_count(archive.conn, "tags"), _count(archive.conn, "notes"))
        report.articles = archive.import_items(
            reader.articles(),
            dry_run=dry_run,
            now=now,
            before_commit=annotations,
            fill_only=True,
        )
        return report
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"cannot read {other_path} ({exc}); nothing was imported") from None
    finally:
        other.close()


def now_or(now: str | None) -> str:
    from datetime import datetime, timezone

    return now or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _count(c: sqlite3.Connection, table: str) -> int:
    return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


class _Reader:
    """OTHER's rows, whatever its schema version (older ones lack tables and columns)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn
        self.tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        self.columns = {r[1] for r in conn.execute("PRAGMA table_info(articles)")}

    def has(self, table: str) -> bool:
        return table in self.tables

    def articles(self) -> Iterator[Article]:
        import json

        tags: dict[str, list[str]] = {}
        notes: dict[str, list[tuple[str, str]]] = {}
        if self.has("tags"):
            for article_id, tag in self.c.execute(
                "SELECT article_id, tag FROM tags ORDER BY article_id, tag"
            ):
                tags.setdefault(article_id, []).append(tag)
        if self.has("notes"):
            for article_id, created_at, text in self.c.execute(
                "SELECT article_id, created_at, text FROM notes ORDER BY created_at, id"
            ):
                notes.setdefault(article_id, []).append((created_at, text))
        extra_cols = "authors, doi" if "authors" in self.columns else "NULL, NULL"
        rows = self.c.execute(
            "SELECT id, slug, title, date, excerpt, truncated, category, url, source, "
            f"added_at, extra, {extra_cols} FROM articles ORDER BY rowid"
        )
        for (
            article_id,
            slug,
            title,
            date,
            excerpt,
            truncated,
            category,
            url,
            source,
            added_at,
            extra,
            authors,
            doi,
        ) in rows:
            yield Article(
                title=title,
                date=date,
                excerpt=excerpt,
                truncated=bool(truncated),
                category=category,
                url=url,
                source=source,
                given_id=article_id,
                slug=slug,
                added_at=added_at,
                extra=json.loads(extra) if extra else {},
                authors=tuple(json.loads(authors)) if authors else (),
                doi=doi,
                tags=tuple(tags.get(article_id, ())),
                notes=tuple(notes.get(article_id, ())),
            )


def _local_ids(c: sqlite3.Connection, ids: set[str]) -> dict[str, str]:
    """OTHER's article ids -> this archive's: the same id, else the one it is an alias of."""
    todo = list(ids)
    out = {r[0]: r[0] for r in rows_in(c, "SELECT id FROM articles WHERE id IN ({marks})", todo)}
    rest = [x for x in todo if x not in out]
    out.update(rows_in(c, "SELECT alias, article_id FROM aliases WHERE alias IN ({marks})", rest))
    return out


def _merge_lists(c: sqlite3.Connection, other: _Reader, now: str) -> tuple[int, int]:
    if not other.has("lists"):
        return 0, 0
    lists = other.c.execute("SELECT name, created_at, description FROM lists").fetchall()
    items = other.c.execute(
        "SELECT list, article_id, added_at FROM list_items ORDER BY list, position"
    ).fetchall()
    ids = _local_ids(c, {article_id for _, article_id, _ in items})
    new_lists = 0
    for name, created_at, description in lists:
        cur = c.execute(
            "INSERT OR IGNORE INTO lists(name, created_at, description) VALUES (?, ?, ?)",
            (name, created_at or now, description),
        )
        new_lists += cur.rowcount
    added = 0
    for name, article_id, added_at in items:
        local = ids.get(article_id)
        if local is None:
            continue
        cur = c.execute(
            "INSERT OR IGNORE INTO list_items(list, position, article_id, added_at) "
            "SELECT ?, coalesce((SELECT max(position) FROM list_items WHERE list = ?), 0) + 1, "
            "?, ?",
            (name, name, local, added_at or now),
        )
        added += cur.rowcount
    return new_lists, added


def _merge_aliases(c: sqlite3.Connection, other: _Reader) -> int:
    if not other.has("aliases"):
        return 0
    rows = other.c.execute("SELECT alias, article_id, kind, created_at FROM aliases").fetchall()
    ids = _local_ids(c, {r[1] for r in rows})
    added = 0
    for alias, article_id, kind, created_at in rows:
        local = ids.get(article_id)
        if local is None or alias == local:
            continue
        taken = c.execute(
            "SELECT 1 FROM articles WHERE id = ? OR slug = ?", (alias, alias)
        ).fetchone()
        if taken:
            continue  # an alias never hides an article of this archive
        cur = c.execute(
            "INSERT OR IGNORE INTO aliases(alias, article_id, kind, created_at) "
            "VALUES (?, ?, ?, ?)",
            (alias, local, kind, created_at),
        )
        added += cur.rowcount
    return added


def _merge_edits(c: sqlite3.Connection, other: _Reader) -> int:
    """OTHER's edits, for fields this archive has not edited: the article row already
    holds OTHER's edited value (it came with the article); the edit keeps saying so."""
    if not other.has("edits"):
        return 0
    rows = other.c.execute(
        "SELECT article_id, field, value, source_value, edited_at FROM edits"
    ).fetchall()
    from irarchive.store import indexing

    ids = _local_ids(c, {r[0] for r in rows})
    added = 0
    # The article rows change like another tool's change would: the m004 triggers
    # queue them for the index (the import's own marker is lifted meanwhile).
    c.execute("DELETE FROM irarchive_writing")
    for article_id, name, value, source_value, edited_at in rows:
        local = ids.get(article_id)
        if local is None or name not in _EDIT_COLUMNS:
            continue
        cur = c.execute(
            "INSERT OR IGNORE INTO edits(article_id, field, value, source_value, edited_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (local, name, value, source_value, edited_at),
        )
        if cur.rowcount:
            added += 1
            _apply_edit(c, local, name, value)
    indexing.sync(c)
    c.execute("INSERT OR IGNORE INTO irarchive_writing(one) VALUES (1)")
    return added


#: Fields an edit may name, as article columns.
_EDIT_COLUMNS = ("title", "date", "excerpt", "category", "url", "authors", "doi")


def _apply_edit(c: sqlite3.Connection, article_id: str, name: str, value: str | None) -> None:
    """Set an edited field as OTHER's researcher set it (a JSON value, as ``edits`` keeps)."""
    import json

    from irarchive.dates import date_range

    try:
        data = json.loads(value) if value is not None else None
    except ValueError:
        return
    if name == "authors":
        text = json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None
        c.execute("UPDATE articles SET authors = ? WHERE id = ?", (text, article_id))
    elif name == "date":
        start, end = date_range(data) if data else (None, None)
        c.execute(
            "UPDATE articles SET date = ?, date_start = ?, date_end = ? WHERE id = ?",
            (data, start, end, article_id),
        )
    elif data is None or isinstance(data, str):
        c.execute(f"UPDATE articles SET {name} = ? WHERE id = ?", (data, article_id))
