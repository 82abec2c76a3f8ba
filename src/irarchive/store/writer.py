"""Writing: preparing articles and upserting them in batches, index in step.

``prepare`` is pure (no archive access), so big imports run it in a worker process
(see ``irarchive.ingest``); ``_BatchWriter`` runs inside ``Archive.import_items``'s
transaction.
"""

from __future__ import annotations

import functools
import json
import operator
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from irarchive.dates import date_range
from irarchive.model import Article, article_from_values, base_slug
from irarchive.store.chunks import rows_in
from irarchive.text import acronym_definitions, ascii_fold, fts_text, title_initials

BATCH = 1000
CONTENT = ("title", "date", "excerpt", "truncated", "category", "url", "extra", "authors", "doi")
_CONTENT = CONTENT
#: A record's values (``_BatchWriter._values``) in ``CONTENT`` order, by one C call:
#: the writer takes this for every record it imports.
_content_of = operator.itemgetter(*CONTENT)
#: ``date_range``, remembered: a million articles have some thousands of dates.
_date_range = functools.lru_cache(maxsize=1 << 16)(date_range)
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
    #: ``store.duplicates.title_hash`` of the title: the stored ``title_key`` column.
    title_key: int

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # An import's reader process sends millions of these: the article's field
        # values go as a plain tuple and both are rebuilt in one call (``_prepared_of``).
        return (_prepared_of, (tuple(self.article.__dict__.values()), *self[1:]))


def _prepared_of(values: tuple[Any, ...], *prepared: Any) -> Prepared:
    """A pickled ``Prepared`` rebuilt: its article from field values (``Article``'s own
    ``__reduce__``), the rest as they are."""
    return _tuple_new(Prepared, (article_from_values(values), *prepared))


_tuple_new = tuple.__new__


def prepare(a: Article) -> Prepared:
    """Everything about one article that needs Python work but no archive access."""
    from irarchive.store.duplicates import key_hash

    title = a.title
    # Folded once: the id, the slug and the title key all start from it (this runs for
    # every record of an import).
    folded = ascii_fold(title)
    key = " ".join(folded.split())  # == duplicates.title_key(title)
    pairs = [
        pair
        for text in (title, a.excerpt)
        if text and "(" in text
        for pair in acronym_definitions(text)
    ]
    return Prepared(
        a, a.article_id(key), fts_title(title), base_slug(title, folded), pairs, key_hash(key)
    )


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
        #: Set by ``import OTHER.db``: every record only adds what the stored article lacks.
        self.fill_only = False
        self.acronyms: dict[tuple[str, str], int] = {}
        self.sources: dict[str, str | None] = {}  # stored article id -> its source
        self.new_aliases: list[tuple[str, str]] = []
        self.filled: set[int] = set()  # positions in the batch matched by url/title
        self.new_tags: list[tuple[str, str, str]] = []
        self.new_notes: list[tuple[str, str, str]] = []
        self.next_rowid = conn.execute(
            "SELECT coalesce(max(rowid), 0) + 1 FROM articles"
        ).fetchone()[0]
        #: Set for a bulk load whose id and slug indexes were dropped (see ``BulkKeys``).
        self.keys: BulkKeys | None = None

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
        cols = ", ".join(_CONTENT)
        if self.keys is not None:
            rowids = self.keys.rows("ids", ids, "id")
            if rowids is None:  # two ids share a hash: look them up by the index instead
                self._index_now()
            elif not rowids:
                return {}
        keys: list[Any] = ids if self.keys is None else rowids
        marks = ", ".join("?" * len(keys))
        by = "rowid" if self.keys is not None else "id"
        sql = f"SELECT rowid, id, {cols}, source FROM articles WHERE {by} IN ({marks})"
        found = {}
        for row in self.c.execute(sql, keys):
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
        if not self.bulk:
            self._match_others(keyed, existing)
            self._fill_merged(keyed, existing)
        self._keep_feed_data(keyed, existing)
        self._keep_edits(keyed, existing)
        # In a bulk load everything in the table was written by this run.
        touched = self._touched(list(existing))
        # Same identity but different content: look up the content-derived ids.
        differing = []
        for _a, k, values in keyed:
            row = existing.get(k)
            if row is not None and tuple(row[2:]) != _content_of(values):
                differing.append(_alt_id(k, values))
        if differing:
            existing.update(self._existing(differing))
            touched |= self._touched(differing)
        new: list[tuple[str, Prepared, dict[str, Any]]] = []
        fts_rows: list[tuple] = []
        written: list[str] = []
        for p, k, values in keyed:
            content = _content_of(values)
            row = existing.get(k)
            if row is not None and (tuple(row[2:]) == content or _display_copy(row[2:], content)):
                self.report.unchanged += 1
                self._annotate(k, p.article)
                continue
            if row is not None:
                alt = _alt_id(k, values)
                if alt in existing:
                    self.report.unchanged += 1
                    self._annotate(alt, p.article)
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
            self._annotate(k, p.article)
        if new:
            self._insert(new, fts_rows)
        self._flush_annotations()
        if fts_rows:
            index(c, fts_rows)
        if not self.bulk and written:
            c.executemany("INSERT OR IGNORE INTO run_ids(id) VALUES (?)", [(k,) for k in written])

    # ---- matching a record to the article it is, by url or by title and date ----------

    def _match_others(self, keyed: list, existing: dict[str, tuple]) -> None:
        """Records whose id is not stored: find the article they are, if any.

        In order: an alias of an article (a merged or re-identified id), the same
        normalised url, the same folded title with an overlapping date (unless both
        have urls that differ and come from different sources: a mirror is another
        article until ``dedupe`` says otherwise). Articles this import run wrote
        already are never matched: two records of one file stay two articles.
        Matched records take the stored article's id (their own becomes an alias)
        and fill in only what they bring: an empty field never erases a stored one.
        """
        from irarchive.store.duplicates import normal_url, url_key

        todo = [i for i, (_, k, _) in enumerate(keyed) if k not in existing]
        if not todo:
            return
        found: dict[int, str] = {}
        aliased = self._aliases([keyed[i][1] for i in todo])
        for i in todo:
            target = aliased.get(keyed[i][1])
            if target:
                found[i] = target
        rest = [i for i in todo if i not in found]
        by_url = [i for i in rest if keyed[i][0].article.url]
        url_rows: dict[str, list[tuple]] = {}
        if by_url:
            keys = list({url_key(keyed[i][0].article.url) for i in by_url})
            for row in self._candidates_by_url(keys):
                url_rows.setdefault(normal_url(row[3]) or "", []).append(row)
        # Per record: the stored articles it could be, best first (url, then title).
        options: dict[int, list[tuple[tuple, bool]]] = {}
        for i in rest:
            a = keyed[i][0].article
            hits = [(r, True) for r in url_rows.get(normal_url(a.url) or "", [])] if a.url else []
            hits += [(r, False) for r in self._same_title(keyed[i][0])]
            if hits:
                options[i] = hits
        ids = list({r[1] for hits in options.values() for r, _ in hits})
        touched: set[str] = set()
        for n in range(0, len(ids), 900):
            touched |= self._touched(ids[n : n + 900])
        for i, hits in options.items():
            a = keyed[i][0].article
            for row, by_link in hits:
                if row[1] in touched:
                    continue
                if (
                    not by_link
                    and a.url
                    and row[3]
                    and normal_url(a.url) != normal_url(row[3])
                    and a.source != row[4]
                ):
                    continue  # another link from another source: a mirror, kept apart
                found[i] = row[1]
                break
        if not found:
            return
        missing = [t for t in set(found.values()) if t not in existing]
        if missing:
            existing.update(self._existing(missing))
        for i, target in found.items():
            p, k, _ = keyed[i]
            if target not in existing:
                continue
            merged = self._merged(existing[target][2:], replace(p.article, given_id=target))
            keyed[i] = (prepare(merged), target, self._values(merged))
            if k != target:
                self.new_aliases.append((k, target))
            self.filled.add(i)

    def _fill_merged(self, keyed: list, existing: dict[str, tuple]) -> None:
        """An article other records were matched to (it has id aliases) is several
        sources' work: each of them, found by its id, also only adds what it brings, so
        re-importing the listing never erases the link a JSON file gave."""
        differing = {
            k: i
            for i, (_p, k, values) in enumerate(keyed)
            if i not in self.filled
            and (row := existing.get(k)) is not None
            and tuple(row[2:]) != _content_of(values)
        }
        self.filled = set()
        if not differing:
            return
        ids = list(differing)
        marks = ", ".join("?" * len(ids))
        merged_ids = (
            ids
            if self.fill_only
            else [
                r[0]
                for r in self.c.execute(
                    "SELECT DISTINCT article_id FROM aliases "
                    f"WHERE kind = 'id' AND article_id IN ({marks})",
                    ids,
                )
            ]
        )
        for k in merged_ids:
            i = differing[k]
            merged = self._merged(existing[k][2:], keyed[i][0].article)
            keyed[i] = (prepare(merged), k, self._values(merged))

    def _merged(self, stored: tuple, a: Article) -> Article:
        """A record for an article stored already: it adds what it brings (``_fill_from``)
        or, for ``import OTHER.db``, only what the stored one lacks (``_fill_gaps``)."""
        if self.fill_only:
            return replace(_fill_gaps(stored, a), given_id=a.given_id)
        return _fill_from(stored, a)

    def _aliases(self, ids: list[str]) -> dict[str, str]:
        sql = "SELECT alias, article_id FROM aliases WHERE kind = 'id' AND alias IN ({marks})"
        return dict(rows_in(self.c, sql, ids))

    def _candidates_by_url(self, keys: list[str]) -> list[tuple]:
        """(rowid, id, title, url, source) of articles whose url has one of these keys."""
        from irarchive.migrations import URL_KEY_SQL

        sql = (
            "SELECT rowid, id, title, url, source FROM articles "
            f"WHERE url IS NOT NULL AND {URL_KEY_SQL} IN ({{marks}}) ORDER BY rowid"
        )
        return list(rows_in(self.c, sql, keys))

    def _same_title(self, p: Prepared) -> list[tuple]:
        """(rowid, id, title, url, source) of the stored articles with the record's folded
        title whose dates overlap its date (the undated ones for an undated record), in
        rowid order. For a record with a url, only articles it may be are read: those
        without a url or from the same source (one with another url from elsewhere is a
        mirror).

        Found by the ``title_key`` index (m007), then the folded titles compared (a few
        titles share a key). Stored dates are a day, a month or a year, so an article
        overlapping a period starts inside it, or on the first day of its first day's
        month or year.
        """
        from irarchive.store.duplicates import title_key

        a = p.article
        sql = "SELECT rowid, id, title, url, source FROM articles WHERE title_key = ? AND "
        which = " AND (url IS NULL OR source IS ?)" if a.url else ""
        args: tuple = (a.source,) if a.url else ()
        # The unary + keeps the planner on the title_key index (a handful of rows)
        # instead of the date index (every article of the period).
        if not a.date:
            rows = self.c.execute(
                sql + f"+date_start IS NULL{which} ORDER BY rowid", (p.title_key, *args)
            )
        else:
            start, end = date_range(a.date)
            rows = self.c.execute(
                sql + "(+date_start BETWEEN ? AND ? AND date_end >= ? "
                f"OR +date_start IN (?, ?) AND date_end > date_start AND date_end >= ?){which} "
                "ORDER BY rowid",
                (
                    p.title_key,
                    start,
                    end,
                    start,
                    start[:8] + "01",
                    start[:5] + "01-01",
                    start,
                    *args,
                ),
            )
        key = title_key(a.title)
        return [row for row in rows if title_key(row[2]) == key]

    # ---- the researcher's work wins over a re-import ------------------------------------

    def _keep_edits(self, keyed: list, existing: dict[str, tuple]) -> None:
        """Fields edited here (the ``edits`` table) keep their edited value; what the
        source now says is kept as the edit's ``source_value`` (``edit --reset``)."""
        ids = [k for _, k, _ in keyed if k in existing]
        if not ids:
            return
        edits: dict[str, dict[str, str | None]] = {}
        sql = "SELECT article_id, field, source_value FROM edits WHERE article_id IN ({marks})"
        for article_id, name, source_value in rows_in(self.c, sql, ids):
            edits.setdefault(article_id, {})[name] = source_value
        if not edits:
            return
        for i, (p, k, _values) in enumerate(keyed):
            fields = edits.get(k)
            if not fields:
                continue
            stored = dict(zip(_CONTENT, existing[k][2:], strict=True))
            changes: dict[str, Any] = {}
            for name, source_value in fields.items():
                if name not in _EDITABLE:
                    continue
                incoming = getattr(p.article, name)
                said = json.dumps(
                    list(incoming) if isinstance(incoming, tuple) else incoming,
                    ensure_ascii=False,
                )
                if said != source_value:
                    self.c.execute(
                        "UPDATE edits SET source_value = ? WHERE article_id = ? AND field = ?",
                        (said, k, name),
                    )
                value = stored[name]
                changes[name] = tuple(json.loads(value)) if name == "authors" and value else value
                if name == "authors" and not value:
                    changes[name] = ()
                if name == "excerpt":
                    changes["truncated"] = bool(stored["truncated"])
            kept = replace(p.article, **changes)
            keyed[i] = (prepare(kept), k, self._values(kept))

    # ---- tags and notes a record carries (an irarchive export) -------------------------

    def _annotate(self, article_id: str, a: Article) -> None:
        for tag in a.tags:
            self.new_tags.append((article_id, tag, self.stamp))
        for created_at, text in a.notes:
            self.new_notes.append((article_id, created_at, text))

    def _flush_annotations(self) -> None:
        """Tags are unioned and notes added once (same time and text = same note):
        a re-import never removes or changes what was written here."""
        c = self.c
        if self.new_aliases:
            c.executemany(
                "INSERT OR IGNORE INTO aliases(alias, article_id, kind, created_at) "
                "SELECT ?, ?, 'id', ? WHERE NOT EXISTS (SELECT 1 FROM articles WHERE id = ?)",
                [(alias, target, self.stamp, alias) for alias, target in self.new_aliases],
            )
            self.new_aliases = []
        if self.new_tags:
            c.executemany(
                "INSERT OR IGNORE INTO tags(article_id, tag, added_at) VALUES (?, ?, ?)",
                self.new_tags,
            )
            self.new_tags = []
        if self.new_notes:
            c.executemany(
                "INSERT INTO notes(article_id, created_at, text) SELECT ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM notes WHERE article_id = ? "
                "AND created_at = ? AND text = ?)",
                [(*n, *n) for n in self.new_notes],
            )
            self.new_notes = []

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
            if (row := existing.get(k)) is not None and tuple(row[2:]) != _content_of(values)
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
            "truncated=?, category=?, url=?, extra=?, authors=?, doi=?, title_key=? "
            "WHERE rowid=?",
            (
                *_columns(a, values),
                values["extra"],
                values["authors"],
                values["doi"],
                p.title_key,
                rowid,
            ),
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
                    p.title_key,
                )
            )
            fts_rows.append((rowid, p.fts_title, fts_excerpt(a.excerpt)))
            self._learn(p)
        self.c.executemany(
            "INSERT INTO articles(rowid, id, slug, title, date, date_start, date_end, excerpt, "
            "truncated, category, url, source, added_at, extra, authors, doi, title_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if self.keys is not None:
            self.keys.add("ids", [(r[1], r[0]) for r in rows])
            self.keys.add("slugs", [(r[2], r[0]) for r in rows])
            if self.keys.count["ids"] > self.keys.LIMIT:
                self._index_now()
        self.report.added += len(rows)

    def _slugs(self, new: list[tuple[str, Prepared, dict[str, Any]]]) -> list[str]:
        """Unique slugs: the title's first words, else with the id's first digits added."""
        wants = [(p.article.slug or p.slug_base, p.slug_base, k) for k, p, _ in new]
        choices = [w for want, base, k in wants for w in (want, f"{base}-{k[:6]}")]
        if self.keys is not None:
            out = self._slugs_by_hash(wants, choices)
            if out is not None:
                return out
            self._index_now()  # two slugs share a hash: the real index decides
        sql = "SELECT slug FROM articles WHERE slug IN ({marks})"
        taken: set[str] = {r[0] for r in rows_in(self.c, sql, choices)}
        out = []
        for want, base, k in wants:
            for candidate in (want, f"{base}-{k[:6]}", f"{base}-{k}", k):
                if candidate not in taken:
                    break
            taken.add(candidate)
            out.append(candidate)
        return out

    def _slugs_by_hash(
        self, wants: list[tuple[str, str, str]], choices: list[str]
    ) -> list[str] | None:
        """``_slugs`` in a bulk load, by ``BulkKeys``: the same choices, but the second
        one (with id digits) is only looked up when the first is taken, as it rarely
        is. None when two slugs share a hash."""
        assert self.keys is not None
        first = [want for want, _, _ in wants]
        found = self.keys.rows("slugs", first, "slug")
        if found is None:
            return None
        stored = set(self.keys.values("slug", found))
        asked = set(first)
        # What the SQL path treats as taken: a slug stored and among the choices, or
        # given to an earlier record of the batch.
        choosable = set(choices)
        given: set[str] = set()
        out = []
        for want, base, k in wants:
            for candidate in (want, f"{base}-{k[:6]}", f"{base}-{k}", k):
                if candidate in given:
                    continue
                if candidate in choosable:
                    if candidate not in asked:
                        more = self.keys.rows("slugs", [candidate], "slug")
                        if more is None:
                            return None
                        stored.update(self.keys.values("slug", more))
                        asked.add(candidate)
                    if candidate in stored:
                        continue
                break
            given.add(candidate)
            out.append(candidate)
        return out

    def _index_now(self) -> None:
        """Leave the hashed look-ups for the archive's own unique indexes (built now)."""
        assert self.keys is not None
        restore_indexes(self.c, self.keys.indexes)
        self.keys.clear()
        self.keys = None

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


def drop_indexes(conn: sqlite3.Connection, names: Iterable[str]) -> dict[str, str]:
    """Drop these indexes of the articles table; returns name -> the SQL that made them."""
    names = list(names)
    marks = ", ".join("?" * len(names))
    saved = dict(
        conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
            names,
        ).fetchall()
    )
    for name in saved:
        conn.execute(f"DROP INDEX {name}")
    return saved


def restore_indexes(conn: sqlite3.Connection, saved: dict[str, str]) -> None:
    """Build again, exactly as they were, the indexes ``drop_indexes`` dropped."""
    for name, sql in saved.items():
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone():
            conn.execute(sql)


#: FTS5 settings for a bulk load: a bigger in-memory buffer (fewer, larger segments)
#: and no merging as it goes (a crisis merge still bounds the segment count); the
#: load ends with one 'optimize'. About a third less index work than merging batch
#: by batch. Name -> (value for the load, FTS5's default).
BULK_FTS_SETTINGS = {
    "hashsize": (8 * 1024 * 1024, 1024 * 1024),
    "automerge": (0, 4),
    "crisismerge": (64, 16),
}
FTS_TABLES = ("articles_fts", "titles_fts")


def tune_fts_for_bulk(conn: sqlite3.Connection) -> dict[str, list[tuple[str, Any]]]:
    """Apply ``BULK_FTS_SETTINGS``; returns what each index's config table held for them."""
    saved: dict[str, list[tuple[str, Any]]] = {}
    names = list(BULK_FTS_SETTINGS)
    marks = ", ".join("?" * len(names))
    for table in FTS_TABLES:
        saved[table] = conn.execute(
            f"SELECT k, v FROM {table}_config WHERE k IN ({marks})", names
        ).fetchall()
        for name, (value, _default) in BULK_FTS_SETTINGS.items():
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES(?, ?)", (name, value))
    return saved


def restore_fts_settings(conn: sqlite3.Connection, saved: dict[str, list[tuple[str, Any]]]) -> None:
    """Merge each index into one segment and put its settings back as they were: a
    setting it did not have is set to FTS5's default (for this connection) and its row
    removed, so the config table is as before."""
    for table, rows in saved.items():
        conn.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")
        had = dict(rows)
        for name, (_value, default) in BULK_FTS_SETTINGS.items():
            conn.execute(
                f"INSERT INTO {table}({table}, rank) VALUES(?, ?)", (name, had.get(name, default))
            )
            if name not in had:
                conn.execute(f"DELETE FROM {table}_config WHERE k = ?", (name,))


class BulkKeys:
    """The ids and slugs a bulk load has written, by hash, in an in-memory database.

    A million random inserts into the archive's unique id and slug b-trees cost more
    than everything else an import writes (the pages no longer fit the cache and spill
    to the WAL again and again). A bulk load drops those indexes and builds them, sorted,
    at the end; meanwhile the ids and slugs it wrote are found here: a 64-bit hash of
    the text (Python's, stable within the process) -> the article's rowid, in the
    database ``irarchive_bulk`` attached as ``:memory:`` (about 25 bytes an article).
    Every hit is checked against the article's stored text; two texts with one hash
    make the writer build the real indexes at once and use them (``rows`` says None).
    """

    SCHEMA = "irarchive_bulk"
    #: Articles past which a load goes on with the real indexes: the in-memory tables
    #: take about 50 MB a million, and an import's memory must stay bounded.
    LIMIT = 1_200_000
    #: How a text is hashed (the tests make every text collide to exercise the fallback).
    hash_text = staticmethod(hash)

    def __init__(self, conn: sqlite3.Connection, indexes: dict[str, str]) -> None:
        self.c = conn
        #: The unique id and slug indexes dropped for the load (name -> SQL).
        self.indexes = indexes
        self.count: dict[str, int] = {}
        for table in ("ids", "slugs"):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.SCHEMA}.{table}"
                "(hash INTEGER PRIMARY KEY, row INTEGER NOT NULL)"
            )
            conn.execute(f"DELETE FROM {self.SCHEMA}.{table}")

    def add(self, table: str, pairs: list[tuple[str, int]]) -> None:
        self.count[table] = self.count.get(table, 0) + len(pairs)
        self.c.executemany(
            f"INSERT INTO {self.SCHEMA}.{table}(hash, row) VALUES (?, ?)",
            [(self.hash_text(text), row) for text, row in pairs],
        )

    def clear(self) -> None:
        for table in ("ids", "slugs"):
            self.c.execute(f"DROP TABLE {self.SCHEMA}.{table}")

    def rows(self, table: str, texts: list[str], column: str) -> list[int] | None:
        """Rowids of the articles whose ``column`` is one of ``texts``; None if a hash
        was shared by another text (then only the real index can tell)."""
        wanted = {self.hash_text(t): t for t in texts}
        if len(wanted) < len(set(texts)):
            return None
        sql = f"SELECT row, hash FROM {self.SCHEMA}.{table} WHERE hash IN ({{marks}})"
        found: dict[int, int] = dict(rows_in(self.c, sql, list(wanted)))
        if not found:
            return []
        stored = dict(zip(found, self.values(column, list(found)), strict=True))
        if any(stored[row] != wanted[h] for row, h in found.items()):
            return None
        return list(found)

    def values(self, column: str, rowids: list[int]) -> list[str]:
        """``column`` of these articles, in the order given."""
        sql = f"SELECT rowid, {column} FROM articles WHERE rowid IN ({{marks}})"
        out: dict[int, str] = dict(rows_in(self.c, sql, rowids))
        return [out[r] for r in rowids]


def _columns(a: Article, values: dict[str, Any]) -> tuple[Any, ...]:
    """title, date, date_start, date_end, excerpt, truncated, category, url: as stored."""
    start, end = _date_range(a.date) if a.date else (None, None)
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


#: Fields ``irarchive edit`` can set: an edited one is never overwritten by an import.
_EDITABLE = ("title", "date", "excerpt", "category", "url", "authors", "doi")


def _fill_from(stored: tuple, a: Article) -> Article:
    """A record matched by url or title and date: what it brings wins, but an empty
    field never erases a stored one, and a truncated excerpt never replaces a whole
    one."""
    old = dict(zip(_CONTENT, stored, strict=True))
    changes: dict[str, Any] = {}
    for f in ("title", "date", "category", "url", "doi"):
        if getattr(a, f) in (None, "") and old[f] not in (None, ""):
            changes[f] = old[f]
    if not a.authors and old["authors"]:
        changes["authors"] = tuple(json.loads(old["authors"]))
    if old["excerpt"] not in (None, "") and (
        a.excerpt in (None, "") or (a.truncated and not old["truncated"])
    ):
        changes["excerpt"] = old["excerpt"]
        changes["truncated"] = bool(old["truncated"])
    if old["extra"]:
        changes["extra"] = {**json.loads(old["extra"]), **a.extra}
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
