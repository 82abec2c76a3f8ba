"""Writing: preparing articles and upserting them in batches, index in step.

``prepare`` is pure (no archive access), so big imports run it in a worker process
(see ``irarchive.ingest``); ``_BatchWriter`` runs inside ``Archive.import_items``'s
transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from irarchive.dates import date_range
from irarchive.errors import ArchiveError
from irarchive.model import Article, base_slug
from irarchive.text import acronym_definitions, fts_text, title_initials

BATCH = 1000
CONTENT = ("title", "date", "excerpt", "truncated", "category", "url", "extra", "authors", "doi")
_CONTENT = CONTENT
#: The content an article had before authors and doi existed: ids of duplicate-identity
#: records (``_alt_id``) hash only these unless the record has authors or a doi.
_CONTENT_V1 = CONTENT[:7]


@dataclass
class ImportReport:
    """What an import did (or would do, with --dry-run)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: The first ``KEEP_REJECTIONS`` rejections, word for word; ``rejected_count``
    #: counts them all (a file of a million bad lines must not be kept in memory).
    rejected: list[str] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, what: str) -> None:
        from irarchive.sources.decoding import KEEP_REJECTIONS

        self.rejected_count += 1
        if len(self.rejected) < KEEP_REJECTIONS:
            self.rejected.append(what)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected_count,
            "rejections": list(self.rejected),
        }


def fts_title(title: str) -> str:
    """Title text as indexed: the words as written, then joined forms and acronym initials.

    The index keeps word positions (migration m005), so the words as written stay in
    order for phrase queries; everything added goes after them (see ``text.fts_text``).
    """
    initials = title_initials(title)
    text = fts_text(title)
    return text + (" " + " ".join(initials) if initials else "")


class Prepared(NamedTuple):
    """An article with the costly derived values computed (possibly in a worker process)."""

    article: Article
    id: str
    fts_title: str
    slug_base: str
    acronyms: list[tuple[str, str]]


def prepare(a: Article) -> Prepared:
    """Everything about one article that needs Python work but no archive access."""
    pairs = [
        pair
        for text in (a.title, a.excerpt)
        if text and "(" in text
        for pair in acronym_definitions(text)
    ]
    return Prepared(a, a.article_id(), fts_title(a.title), base_slug(a.title), pairs)


def fts_excerpt(excerpt: str | None) -> str:
    """Excerpt text as indexed: as it is.

    The tokenizer already folds case and accents. The extra rewrites titles get
    (joined hyphen compounds, dotted abbreviations, apostrophes) are skipped for
    excerpts: they were over half of all import time for a small gain on the
    weaker field.
    """
    return excerpt or ""


def index(conn: sqlite3.Connection, rows: list[tuple[int, str, str]]) -> None:
    """Add (rowid, fts_title, fts_excerpt) rows to the full-text indexes."""
    conn.executemany("INSERT INTO articles_fts(rowid, title, excerpt) VALUES (?, ?, ?)", rows)
    conn.executemany("INSERT INTO titles_fts(rowid, title) VALUES (?, ?)", [r[:2] for r in rows])


def unindex(conn: sqlite3.Connection, rowid: int, title: str, excerpt: str | None) -> None:
    """Remove an article from the full-text indexes, given its stored title and excerpt.

    Both indexes are told the text they were given (FTS5 removes exactly those words).
    """
    indexed = fts_title(title)
    conn.execute(
        "INSERT INTO articles_fts(articles_fts, rowid, title, excerpt) VALUES('delete', ?, ?, ?)",
        (rowid, indexed, fts_excerpt(excerpt)),
    )
    conn.execute(
        "INSERT INTO titles_fts(titles_fts, rowid, title) VALUES('delete', ?, ?)", (rowid, indexed)
    )


class _BatchWriter:
    """Upserts batches of articles, keeping the full-text index in step.

    Rows get explicit rowids (the import holds the write lock, so max(rowid) + 1
    is ours) and their final slug at insert time: one ``executemany`` per batch,
    and no later UPDATE that would grow rows and split pages.
    """

    def __init__(
        self, conn: sqlite3.Connection, stamp: str, report: ImportReport, *, bulk: bool
    ) -> None:
        self.c = conn
        self.stamp = stamp
        self.report = report
        self.bulk = bulk
        self.acronyms: dict[tuple[str, str], int] = {}
        self.sources: dict[str, str | None] = {}  # stored article id -> its source
        self.next_rowid = conn.execute(
            "SELECT coalesce(max(rowid), 0) + 1 FROM articles"
        ).fetchone()[0]

    @staticmethod
    def _values(a: Article) -> dict[str, Any]:
        extra = json.dumps(a.extra, ensure_ascii=False, sort_keys=True) if a.extra else None
        return {
            "title": a.title,
            "date": a.date,
            "excerpt": a.excerpt,
            "truncated": int(a.truncated),
            "category": a.category,
            "url": a.url,
            "extra": extra,
            "authors": (
                json.dumps(list(a.authors), ensure_ascii=False, sort_keys=True)
                if a.authors
                else None
            ),
            "doi": a.doi,
        }

    def _existing(self, ids: Iterable[str]) -> dict[str, tuple]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        cols = ", ".join(_CONTENT)
        sql = f"SELECT rowid, id, {cols}, source FROM articles WHERE id IN ({marks})"
        found = {}
        for row in self.c.execute(sql, ids):
            self.sources[row[1]] = row[-1]
            found[row[1]] = row[:-1]
        return found

    def _touched(self, ids: list[str]) -> set[str]:
        """Ids already written by this import run."""
        if self.bulk or not ids:
            return set(ids) if self.bulk else set()
        marks = ", ".join("?" * len(ids))
        return {r[0] for r in self.c.execute(f"SELECT id FROM run_ids WHERE id IN ({marks})", ids)}

    def write(self, batch: list[Prepared]) -> None:
        c = self.c
        keyed = [(p, p.id, self._values(p.article)) for p in batch]
        self.sources = {}  # per batch: a re-import of a million articles keeps no map of them
        existing = self._existing(k for _, k, _ in keyed)
        self._keep_feed_data(keyed, existing)
        # In a bulk load everything in the table was written by this run.
        touched = self._touched(list(existing))
        # Same identity but different content: look up the content-derived ids.
        differing = []
        for _a, k, values in keyed:
            row = existing.get(k)
            if row is not None and tuple(row[2:]) != tuple(values[f] for f in _CONTENT):
                differing.append(_alt_id(k, values))
        if differing:
            existing.update(self._existing(differing))
            touched |= self._touched(differing)
        new: list[tuple[str, Prepared, dict[str, Any]]] = []
        fts_rows: list[tuple] = []
        written: list[str] = []
        for p, k, values in keyed:
            content = tuple(values[f] for f in _CONTENT)
            row = existing.get(k)
            if row is not None and (tuple(row[2:]) == content or _display_copy(row[2:], content)):
                self.report.unchanged += 1
                continue
            if row is not None:
                alt = _alt_id(k, values)
                if alt in existing:
                    self.report.unchanged += 1
                    continue
                if k in touched:
                    # Same identity, different content, both in this import: keep both.
                    k, row = alt, None
            if row is None:
                new.append((k, p, values))
                existing[k] = (None, k, *content)
            else:
                self._update(row, p, values, fts_rows)
                existing[k] = (row[0], k, *content)
            touched.add(k)
            written.append(k)
        if new:
            self._insert(new, fts_rows)
        if fts_rows:
            index(c, fts_rows)
        if not self.bulk and written:
            c.executemany("INSERT OR IGNORE INTO run_ids(id) VALUES (?)", [(k,) for k in written])

    def _keep_feed_data(self, keyed: list, existing: dict[str, tuple]) -> None:
        """Same article from another source, one of them a feed: only fill in gaps.

        The listing text never erases the link and authors a feed gave, and a feed
        never rewrites an article the listing (or another feed) stored first. Between
        files the rule stays "a changed record updates its article".
        """
        from irarchive.store.sources import is_feed_source

        candidates = [
            (i, k)
            for i, (p, k, values) in enumerate(keyed)
            if (row := existing.get(k)) is not None
            and tuple(row[2:]) != tuple(values[f] for f in _CONTENT)
        ]
        if not candidates:
            return
        fed = self._from_feeds([k for _, k in candidates])
        for i, k in candidates:
            p = keyed[i][0]
            incoming = p.article.source
            if is_feed_source(incoming):
                other = self.sources.get(k) != incoming
            else:
                other = k in fed
            if other:
                merged = replace(_fill_gaps(existing[k][2:], p.article), given_id=k)
                keyed[i] = (prepare(merged), k, self._values(merged))

    def _from_feeds(self, ids: list[str]) -> set[str]:
        """Which of these articles a feed delivered (``source_items``, migration m003)."""
        marks = ", ".join("?" * len(ids))
        return {
            r[0]
            for r in self.c.execute(
                f"SELECT article_id FROM source_items WHERE article_id IN ({marks})", ids
            )
        }

    def _update(self, row: tuple, p: Prepared, values: dict[str, Any], fts_rows: list) -> None:
        a = p.article
        rowid = row[0]
        old = dict(zip(_CONTENT, row[2:], strict=True))
        unindex(self.c, rowid, old["title"], old["excerpt"])
        self.c.execute(
            "UPDATE articles SET title=?, date=?, date_start=?, date_end=?, excerpt=?, "
            "truncated=?, category=?, url=?, extra=?, authors=?, doi=? WHERE rowid=?",
            (*_columns(a, values), values["extra"], values["authors"], values["doi"], rowid),
        )
        fts_rows.append((rowid, p.fts_title, fts_excerpt(a.excerpt)))
        self.report.updated += 1
        self._learn(p)

    def _insert(self, new: list[tuple[str, Prepared, dict[str, Any]]], fts_rows: list) -> None:
        slugs = self._slugs(new)
        rows = []
        for (k, p, values), slug in zip(new, slugs, strict=True):
            a = p.article
            rowid = self.next_rowid
            self.next_rowid += 1
            rows.append(
                (
                    rowid,
                    k,
                    slug,
                    *_columns(a, values),
                    a.source,
                    a.added_at or self.stamp,
                    values["extra"],
                    values["authors"],
                    values["doi"],
                )
            )
            fts_rows.append((rowid, p.fts_title, fts_excerpt(a.excerpt)))
            self._learn(p)
        self.c.executemany(
            "INSERT INTO articles(rowid, id, slug, title, date, date_start, date_end, excerpt, "
            "truncated, category, url, source, added_at, extra, authors, doi) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.report.added += len(rows)

    def _slugs(self, new: list[tuple[str, Prepared, dict[str, Any]]]) -> list[str]:
        """Unique slugs: the title's first words, else with the id's first digits added."""
        wants = [(p.article.slug or p.slug_base, p.slug_base, k) for k, p, _ in new]
        choices = [w for want, base, k in wants for w in (want, f"{base}-{k[:6]}")]
        taken = set()
        for i in range(0, len(choices), 900):
            chunk = choices[i : i + 900]
            marks = ", ".join("?" * len(chunk))
            taken |= {
                r[0]
                for r in self.c.execute(f"SELECT slug FROM articles WHERE slug IN ({marks})", chunk)
            }
        out = []
        for want, base, k in wants:
            for candidate in (want, f"{base}-{k[:6]}", f"{base}-{k}", k):
                if candidate not in taken:
                    break
            taken.add(candidate)
            out.append(candidate)
        return out

    def _learn(self, p: Prepared) -> None:
        for pair in p.acronyms:
            self.acronyms[pair] = self.acronyms.get(pair, 0) + 1

    def flush_acronyms(self) -> None:
        self.c.executemany(
            "INSERT INTO acronyms(acronym, expansion, count) VALUES (?, ?, ?) "
            "ON CONFLICT(acronym, expansion) DO UPDATE SET count = count + excluded.count",
            [(a, e, n) for (a, e), n in self.acronyms.items()],
        )
        self.acronyms.clear()


def _columns(a: Article, values: dict[str, Any]) -> tuple[Any, ...]:
    """title, date, date_start, date_end, excerpt, truncated, category, url: as stored."""
    start, end = date_range(a.date) if a.date else (None, None)
    return (
        values["title"],
        values["date"],
        start,
        end,
        values["excerpt"],
        values["truncated"],
        values["category"],
        values["url"],
    )


def _fill_gaps(stored: tuple, a: Article) -> Article:
    """The stored article (content in ``CONTENT`` order) with its empty fields taken from ``a``."""
    old = dict(zip(_CONTENT, stored, strict=True))
    changes: dict[str, Any] = {}
    for f in _CONTENT:
        value = old[f]
        if f == "truncated":
            continue  # goes with the excerpt, below
        if f == "extra":
            kept = json.loads(value) if value else {}
            changes[f] = {**a.extra, **kept}
        elif value in (None, ""):
            continue
        elif isinstance(getattr(a, f, None), tuple):  # JSON lists (authors)
            changes[f] = tuple(json.loads(value))
        else:
            changes[f] = value
    if old["excerpt"] not in (None, ""):
        changes["truncated"] = bool(old["truncated"])
    return replace(a, **changes)


def _display_copy(stored: tuple, incoming: tuple) -> bool:
    """Is the incoming record our own CSV/TSV rendering of the stored one?

    Those formats show control characters visibly (ESC as ``^[``), so re-importing
    an export of such an article must not overwrite the exact stored text.
    """
    from irarchive.text import neutralise

    for old, new in zip(stored, incoming, strict=True):
        if old == new:
            continue
        if not (isinstance(old, str) and isinstance(new, str)):
            return False
        if neutralise(old, keep_newlines=True) != new:
            return False
    return True


def _alt_id(key_id: str, values: dict[str, Any]) -> str:
    """Id for a second record with the same identity but different content in one file."""
    import hashlib

    fields = _CONTENT if values["authors"] or values["doi"] else _CONTENT_V1
    blob = json.dumps([key_id, *(values[f] for f in fields)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _write_error(path: str, exc: sqlite3.OperationalError) -> ArchiveError:
    msg = str(exc)
    if "full" in msg:
        return ArchiveError(f"the disk is full while writing {path}; the archive was not changed")
    if "locked" in msg or "busy" in msg:
        return ArchiveError(
            f"{path} is busy: another irarchive is writing to it; try again when it finishes"
        )
    if "readonly" in msg or "read-only" in msg:
        return ArchiveError(f"{path} is read-only; make it writable or use another --db")
    return ArchiveError(f"cannot write {path}: {msg}; the archive was not changed")
