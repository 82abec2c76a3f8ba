"""The archive's reads, checks and the import transaction. All SQL lives in this package.

Uses the standard library's sqlite3 only, so the read path (list, show, search)
never pays for importing sqlite-utils.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from irarchive.dates import Period
from irarchive.errors import ArchiveError, ImportFailed, NotFound, UsageError
from irarchive.model import FIELDS, ID_PATTERN
from irarchive.store import indexing
from irarchive.store.transactions import transaction
from irarchive.store.writer import (
    BATCH,
    BulkKeys,
    ImportReport,
    Prepared,
    _BatchWriter,
    drop_indexes,
    prepare,
    restore_fts_settings,
    restore_indexes,
    tune_fts_for_bulk,
)

#: Secondary indexes a bulk load drops and builds once, sorted, at the end.
BULK_INDEXES = ("articles_date", "articles_category", "articles_url", "articles_title_key")


def _drop_queue_triggers(c: sqlite3.Connection) -> list[str]:
    """Drop the triggers that do nothing while ``irarchive_writing`` holds a row (the
    m004 queue triggers); returns the SQL that makes them again."""
    rows = c.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles' "
        "AND sql LIKE '%NOT EXISTS (SELECT 1 FROM irarchive_writing)%'"
    ).fetchall()
    for name, _sql in rows:
        c.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


EXPECTED_COLUMNS: dict[str, type] = {
    "id": str,
    "slug": str,
    "title": str,
    "date": str,
    "date_start": str,
    "date_end": str,
    "excerpt": str,
    "truncated": int,
    "category": str,
    "url": str,
    "source": str,
    "added_at": str,
    "extra": str,
    "authors": str,
    "doi": str,
    "title_key": int,
}


def _select_list(table: str = "articles", *, tags: bool = True) -> str:
    """The article columns in the order of model.FIELDS (``_row_to_dict`` zips them).

    ``tags`` comes from the tags table: a JSON array, one seek of its primary key
    (article_id, tag) per article; with ``tags=False`` (no article has a tag) NULL.
    """
    cols = [f"{table}.rowid"]
    for f in FIELDS:
        if f != "tags":
            cols.append(f"{table}.{f}")
        elif tags:
            cols.append(
                f"(SELECT json_group_array(tag) FROM tags WHERE tags.article_id = {table}.id)"
            )
        else:
            cols.append("NULL")
    return ", ".join(cols)


_COLUMNS = _select_list()
_UNTAGGED_COLUMNS = _select_list(tags=False)
#: Filters selecting at most this many articles are applied inside the full-text
#: query (a posting-list seek per article); wider ones by looking matches up.
FILTER_FIRST = 3000
#: ``keep_filter`` keeps the rowids of filters selecting at most this many articles
#: (wider ones pass most matches anyway: reading their rows costs little more).
KEPT_FILTER = 400_000
#: Article rows the full-text passes read that are kept for the next search (browse
#: searches on every key, and most candidates recur from one key to the next).
KEPT_ROWS = 4096
#: A tag on more articles than this is checked article by article (see ``_where``).
COMMON_TAG = 20_000


@dataclass(frozen=True)
class Filters:
    """Which articles a listing covers."""

    period: Period | None = None
    undated: bool = False
    categories: tuple[str, ...] = ()
    #: Normalised tags (``annotations.normalise_tag``) every article must have ...
    tags: tuple[str, ...] = ()
    #: ... and those it must not have (``--tag -T``).
    without_tags: tuple[str, ...] = ()


def _bounded(limit: int) -> int:
    """A LIMIT SQLite accepts: any limit beyond 2**62 rows already means "all"."""
    return max(0, min(int(limit), 2**62))


#: Left out when sorting by title, so “Second Life” sorts under S (SQL-quoted).
_TITLE_LEADING = " \"'“”‘’„‚«»‹›([{¿¡*_#.,:;!?…-–—".replace("'", "''")


def _order(sort: str, reverse: bool) -> str:
    """ORDER BY for a listing: by date (newest first) or by title.

    The date order follows the date index; ``list_articles`` puts undated articles
    last by reading them separately, which keeps ``ORDER BY ... LIMIT`` on the index.
    """
    if sort == "title":
        direction = "DESC" if reverse else "ASC"
        key = f"ltrim(title, '{_TITLE_LEADING}') COLLATE NOCASE"
        return f"{key} {direction}, date_start DESC, id"
    direction = "ASC" if reverse else "DESC"
    return f"date_start {direction}, date_end {direction}, id {direction}"


def _row_to_dict(row: sqlite3.Row | tuple) -> dict[str, Any]:
    values = dict(zip(("rowid", *FIELDS), row, strict=False))
    values.pop("rowid")
    values["truncated"] = bool(values["truncated"])
    values["extra"] = json.loads(values["extra"]) if values["extra"] else {}
    values["authors"] = json.loads(values["authors"]) if values["authors"] else []
    values["tags"] = sorted(json.loads(values["tags"])) if values["tags"] else []
    return values


class Archive:
    """An open archive. Create with ``open_archive``."""

    def __init__(self, conn: sqlite3.Connection, path: str, *, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self.created = False
        #: Triggers irarchive did not create (see ``open_archive``): imports refuse
        #: to run them.
        self.foreign_triggers: list[str] = []
        self._filtered_cache: tuple[tuple, list[int] | None] | None = None
        # (key, rowids) of the filter ``keep_filter`` keeps; None rowids: too many.
        self._kept: tuple[tuple, frozenset[int] | None] | None = None
        self._kept_function = False
        # ((data_version, total_changes), {rowid: row}) of ``_with_articles``.
        self._rows: tuple[tuple[int, int], dict[int, tuple]] = ((-1, -1), {})
        #: Why replaying other tools' changes into the index failed on opening (a
        #: damaged index), or None; ``db check --repair`` rebuilds it.
        self.index_error: str | None = None
        self._tag_sizes: dict[str, int] = {}
        #: An import into an empty archive loads in bulk (indexes built at the end);
        #: False makes it take the path of any other import (the tests compare them).
        self.bulk_loads = True

    def close(self) -> None:
        self.conn.close()

    # ---- reading ---------------------------------------------------------------

    def _columns(self, table: str = "articles") -> str:
        """The select list for articles; the tags subquery only when some article has
        a tag (about a third of a full listing's time at a million articles)."""
        tagged = self.conn.execute("SELECT EXISTS (SELECT 1 FROM tags)").fetchone()[0] == 1
        if table == "articles":
            return _COLUMNS if tagged else _UNTAGGED_COLUMNS
        return _select_list(table, tags=tagged)

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    def version(self) -> tuple[int, int]:
        """Changes whenever the archive does: another connection's commit, or this one's."""
        return (
            self.conn.execute("PRAGMA data_version").fetchone()[0],
            self.conn.total_changes,
        )

    def _where(
        self, filters: Filters, alias: str = "", *, drive: bool = False
    ) -> tuple[list[str], list[Any]]:
        """SQL conditions for ``filters``; ``drive``: a count over all that match, where
        reading a tag's articles from the tag index beats checking every row."""
        a = alias + "." if alias else ""
        clauses: list[str] = []
        params: list[Any] = []
        if filters.undated:
            clauses.append(f"{a}date_start IS NULL")
        elif filters.period is not None:
            start, end = filters.period.start, filters.period.end
            # Overlap test; the extra lower bound on date_start (a stored date spans
            # at most a year) lets SQLite range-scan the date index.
            lower = start - timedelta(days=366) if start > date(1, 12, 31) else start
            clauses.append(f"{a}date_start >= ? AND {a}date_start <= ? AND {a}date_end >= ?")
            params += [lower.isoformat(), end.isoformat(), start.isoformat()]
        if filters.categories:
            marks = ", ".join("?" * len(filters.categories))
            if all(c.isascii() for c in filters.categories):
                clauses.append(f"{a}category COLLATE NOCASE IN ({marks})")  # uses the index
                params += list(filters.categories)
            else:
                # NOCASE folds ASCII only: КАТЕГОРИЯ must match категория too.
                clauses.append(f"casefold({a}category) IN ({marks})")
                params += [c.casefold() for c in filters.categories]
        for tag in filters.tags:
            if drive or not self._common_tag(tag):
                # The tag's articles are one range of the tags(tag, article_id) index:
                # read them and seek each article (the query is as big as the tag).
                clauses.append(f"{a}id IN (SELECT article_id FROM tags WHERE tag = ?)")
            else:
                # A tag on very many articles: checked row by row through the tags
                # primary key, so "newest 20" stops early on the date index instead
                # of sorting all of the tag's articles.
                clauses.append(
                    f"EXISTS (SELECT 1 FROM tags WHERE tags.article_id = {a or 'articles.'}id "
                    "AND tags.tag = ?)"
                )
            params.append(tag)
        for tag in filters.without_tags:
            if drive:
                # Counting over everything: one set of the tag's rowids, checked
                # against the date index's rowids (no table row read per article).
                clauses.append(
                    f"+{a}rowid NOT IN (SELECT t2.rowid FROM tags "
                    "JOIN articles t2 ON t2.id = tags.article_id WHERE tags.tag = ?)"
                )
            else:
                clauses.append(
                    f"NOT EXISTS (SELECT 1 FROM tags WHERE tags.article_id = {a or 'articles.'}id "
                    "AND tags.tag = ?)"
                )
            params.append(tag)
        return clauses, params

    def _common_tag(self, tag: str) -> bool:
        """Whether more than ``COMMON_TAG`` articles have ``tag`` (an index range count,
        stopped there; remembered while the archive is open)."""
        known = self._tag_sizes.get(tag)
        if known is None:
            known = self.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM tags WHERE tag = ? LIMIT ?)",
                (tag, COMMON_TAG + 1),
            ).fetchone()[0]
            self._tag_sizes[tag] = known
        return known > COMMON_TAG

    def list_articles(
        self,
        filters: Filters = Filters(),
        *,
        match: str | None = None,
        sort: str = "date",
        reverse: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Articles matching ``filters``: newest first (or by title), undated last.

        ``match`` (an FTS5 expression) keeps only the articles it matches, every one
        of them, not a top-N as search does. ``offset``: leave out that many first
        (a page further down: SQLite skips them itself, no Python row is made for them).
        """
        # "The newest 20" walks the date index; a whole listing reads the tag's range.
        clauses, params = self._where_matching(filters, match, drive=limit is None)
        order = _order(sort, reverse)
        if sort != "date" or filters.period is not None or filters.undated:
            yield from self._select(clauses, params, order, limit, offset)
            return
        # Dated articles in index order, then undated ones: keeps "ORDER BY ... LIMIT"
        # on the index instead of sorting the whole table to put NULLs last.
        dated = [*clauses, "date_start IS NOT NULL"]
        shown = 0
        for row in self._select(dated, params, order, limit, offset):
            shown += 1
            yield row
        if limit is None or shown < limit:
            rest = None if limit is None else limit - shown
            if shown or not offset:
                skip = 0  # the offset ended among the dated articles
            else:  # past them all: into the undated ones by what is left of it
                skip = max(0, offset - self._count(dated, params))
            yield from self._select([*clauses, "date_start IS NULL"], params, "id", rest, skip)

    def _select(
        self,
        clauses: list[str],
        params: list[Any],
        order: str,
        limit: int | None,
        offset: int = 0,
    ) -> Iterator[dict[str, Any]]:
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        sql = f"SELECT {self._columns()} FROM articles{where} ORDER BY {order}"
        if limit is not None or offset:
            sql += f" LIMIT {-1 if limit is None else _bounded(limit)}"
        if offset:
            sql += f" OFFSET {_bounded(offset)}"
        for row in self.conn.execute(sql, params):
            yield _row_to_dict(row)

    def _count(self, clauses: list[str], params: list[Any]) -> int:
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return self.conn.execute(f"SELECT count(*) FROM articles{where}", params).fetchone()[0]

    def count_articles(self, filters: Filters = Filters()) -> int:
        return self._count(*self._where(filters, drive=True))

    def get(self, ref: str) -> dict[str, Any]:
        """Resolve an id, slug, unique id prefix or exact title (no fuzzy matching here)."""
        ref = ref.strip()
        if not ref:
            raise UsageError("empty article reference; give an id, slug or title")
        sql = f"SELECT {self._columns()} FROM articles WHERE "
        lowered = ref.lower()
        if ID_PATTERN.fullmatch(lowered):
            row = self.conn.execute(sql + "id = ?", (lowered,)).fetchone()
            if row:
                return _row_to_dict(row)
        row = self.conn.execute(sql + "slug = ?", (lowered,)).fetchone()
        if row:
            return _row_to_dict(row)
        aliased = self._by_alias(lowered)
        if aliased is not None:
            return aliased
        if 4 <= len(lowered) < 16 and all(c in "0123456789abcdef" for c in lowered):
            rows = self.conn.execute(
                sql + "id >= ? AND id < ? ORDER BY id LIMIT 11", (lowered, lowered + "g")
            ).fetchall()
            if not rows:
                # The prefix of an id merged into another article (an alias of kind 'id').
                merged = self._alias_prefix(lowered)
                if merged is not None:
                    return merged
            if len(rows) == 1:
                return _row_to_dict(rows[0])
            if len(rows) > 1:
                from irarchive.errors import Ambiguous

                found = [_row_to_dict(r) for r in rows]
                raise Ambiguous(
                    f"id prefix {ref!r} matches {len(rows)}{'+' if len(rows) > 10 else ''} "
                    "articles; type more of the id",
                    found[:10],
                )
        exact = self.title_matches(ref, limit=11)
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            from irarchive.errors import Ambiguous

            raise Ambiguous(
                f"{len(exact)} articles are titled {ref!r}; use an id or slug", exact[:10]
            )
        raise NotFound(ref)

    def _by_alias(self, ref: str) -> dict[str, Any] | None:
        """The article an old slug (changed by ``edit``) or a merged-away id now names.

        Aliases may chain (an article merged into one later merged again): followed
        a few steps, never in a loop.
        """
        seen: set[str] = set()
        name = ref
        for _ in range(8):
            if name in seen:
                return None
            seen.add(name)
            try:
                hit = self.conn.execute(
                    "SELECT article_id FROM aliases WHERE alias = ?", (name,)
                ).fetchone()
            except sqlite3.OperationalError:  # an archive older than schema 4 has none
                return None
            if hit is None:
                return None
            row = self.conn.execute(
                f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (hit[0],)
            ).fetchone()
            if row:
                return _row_to_dict(row)
            name = hit[0]
        return None

    def _alias_prefix(self, prefix: str) -> dict[str, Any] | None:
        try:
            hits = self.conn.execute(
                "SELECT alias FROM aliases WHERE alias >= ? AND alias < ? AND kind = 'id' LIMIT 2",
                (prefix, prefix + "g"),
            ).fetchall()
        except sqlite3.OperationalError:
            return None
        return self._by_alias(hits[0][0]) if len(hits) == 1 else None

    def title_matches(self, title: str, *, limit: int) -> list[dict[str, Any]]:
        """Articles whose title equals ``title`` (case-insensitive), found through the index."""
        from irarchive.text import plain_tokens

        words = plain_tokens(title)
        if not words:
            return []
        phrase = "(" + " AND ".join(f'"{w}"' for w in words) + ")"
        rows = self.conn.execute(
            f"SELECT {self._columns('a')} FROM articles_fts f "
            "JOIN articles a ON a.rowid = f.rowid WHERE articles_fts MATCH ? "
            "ORDER BY f.rank LIMIT 200",
            (f"title : {phrase}",),
        ).fetchall()
        want = " ".join(title.casefold().split())
        hits = [_row_to_dict(r) for r in rows if " ".join(r[3].casefold().split()) == want]
        return hits[:limit]

    # ---- search support ----------------------------------------------------------

    def fts_candidates(
        self, match: str, filters: Filters, limit: int, *, window: int | None = None
    ) -> list[tuple[dict[str, Any], float]]:
        """Top articles for an FTS5 expression by weighted bm25, with their rank.

        With ``window``, only that many matches are ranked: the most recently added
        ones that pass ``filters`` (see ``_window``). Ranking is what costs at a
        million articles (each ranked row reads its document size), while walking a
        posting list in rowid order is cheap, so a common word costs a bounded
        amount of work instead of one lookup per article that has it.
        """
        return self.fts_ranked(match, filters, limit, window=window)[0]

    def fts_ranked(
        self,
        match: str,
        filters: Filters,
        limit: int,
        *,
        window: int | None = None,
        limit_if_cut: int | None = None,
        titles: bool = False,
    ) -> tuple[list[tuple[dict[str, Any], float]], bool]:
        """``fts_candidates`` plus whether the window cut (more matches were not ranked).

        ``limit_if_cut``: return only that many when the window cut (a bounded slice
        of a common word has no single best, so fewer are worth reading).
        ``titles``: ask the title-only index (``match`` may name only the title
        column): its posting lists are a fifth as long.
        """
        table = "titles_fts" if titles else "articles_fts"
        ranked, cut = self._ranked(match, filters, _bounded(limit), window, table)
        if cut and limit_if_cut is not None:
            ranked = ranked[: _bounded(limit_if_cut)]
        return self._with_articles(ranked), cut

    def fts_count(self, match: str, filters: Filters = Filters()) -> int:
        """How many articles match an FTS5 expression (and ``filters``).

        Without filters this walks posting lists only (about a millisecond for a
        word in 30,000 articles); filters add one row lookup per match, unless
        their rowids are kept (``keep_filter``: ``nuclear --since 2020`` on a million
        articles, 15,000 matches, 150 -> 27 ms).
        """
        clauses, params = self._where(filters, "a")
        try:
            if not clauses:
                sql = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
                return self.conn.execute(sql, (match,)).fetchone()[0]
            if self._kept_rowids(filters):
                sql = (
                    "SELECT count(*) FROM articles_fts "
                    "WHERE articles_fts MATCH ? AND irarchive_kept(rowid)"
                )
                return self.conn.execute(sql, (match,)).fetchone()[0]
            small = self._filtered_rowids(filters, FILTER_FIRST)
            if small is not None:
                allowed = set(small)
                sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
                return sum(1 for (r,) in self.conn.execute(sql, (match,)) if r in allowed)
            sql = (
                "SELECT count(*) FROM articles_fts f JOIN articles a ON a.rowid = f.rowid "
                "WHERE articles_fts MATCH ?" + "".join(" AND " + c for c in clauses)
            )
            return self.conn.execute(sql, [match, *params]).fetchone()[0]
        except sqlite3.OperationalError as exc:  # a bug in query building, not user input
            raise ArchiveError(f"search failed: {exc}") from None

    def _filtered_rowids(self, filters: Filters, cap: int) -> list[int] | None:
        """Rowids of the articles ``filters`` select, if at most ``cap`` (else None).

        An index range scan stopped at ``cap + 1`` rows: a day or a month of a big
        archive is a few hundred rows, "since 2000" is most of it.
        """
        clauses, params = self._where(filters)
        if not clauses:
            return None
        # One search asks the same question once per pass (up to seven): the
        # answer is kept until the archive changes (data_version counts other
        # connections' commits, total_changes this one's writes).
        state = (
            self.conn.execute("PRAGMA data_version").fetchone()[0],
            self.conn.total_changes,
        )
        key = (tuple(clauses), tuple(params), cap, state)
        if self._filtered_cache is not None and self._filtered_cache[0] == key:
            return self._filtered_cache[1]
        sql = f"SELECT rowid FROM articles WHERE {' AND '.join(clauses)} LIMIT {cap + 1}"
        rows = [r[0] for r in self.conn.execute(sql, params)]
        found = rows if len(rows) <= cap else None
        self._filtered_cache = (key, found)
        return found

    def _filter_key(self, clauses: list[str], params: list[Any]) -> tuple:
        # data_version counts other connections' commits, total_changes this one's.
        state = (
            self.conn.execute("PRAGMA data_version").fetchone()[0],
            self.conn.total_changes,
        )
        return (tuple(clauses), tuple(params), state)

    def keep_filter(self, filters: Filters) -> None:
        """Read once which articles ``filters`` select, for the searches that follow.

        For a browser searching with the same filter on every key: a search then
        checks each full-text match against the kept rowids instead of reading its
        row to test the filter (``war --since 2020`` on a million articles reads
        3,000 rows for its 600 newest matches). Reading them is a scan of the date
        or category index (about 0.3 s for 185,000 articles), kept until the
        archive changes; filters selecting more than ``KEPT_FILTER`` are not kept.
        """
        clauses, params = self._where(filters)
        if not clauses or any("tags" in c for c in clauses):
            return
        key = self._filter_key(clauses, params)
        if self._kept is not None and self._kept[0] == key:
            return
        sql = f"SELECT rowid FROM articles WHERE {' AND '.join(clauses)} LIMIT {KEPT_FILTER + 1}"
        rows = frozenset(r for (r,) in self.conn.execute(sql, params))
        self._kept = (key, rows if len(rows) <= KEPT_FILTER else None)

    def _kept_rowids(self, filters: Filters) -> bool:
        """Whether the rowids of ``filters`` are kept (``keep_filter``) and current;
        then ``irarchive_kept(rowid)`` tests a rowid against them."""
        if self._kept is None or self._kept[1] is None:
            return False
        clauses, params = self._where(filters)
        if self._kept[0] != self._filter_key(clauses, params):
            return False
        if not self._kept_function:

            def is_kept(rowid: int) -> bool:
                return self._kept is not None and rowid in (self._kept[1] or ())

            # Not deterministic: the same rowid answers differently once another
            # filter is kept.
            self.conn.create_function("irarchive_kept", 1, is_kept)
            self._kept_function = True
        return True

    def _ranked(
        self,
        match: str,
        filters: Filters,
        limit: int,
        window: int | None,
        table: str = "articles_fts",
    ) -> tuple[list[tuple[int, float]], bool]:
        """(rowid, bm25 rank) of the best ``limit`` matches, best first; and if cut.

        With a ``window``, only the newest ``window`` matches passing ``filters`` are
        ranked: the posting lists are walked newest first (FTS5 gives rowid order
        and stops at the LIMIT), each row's bm25 computed on the way, and the window
        sorted by it here. Narrow filters (a day, a month: a few thousand
        articles) are intersected in Python with the match rowids, newest first;
        those are not ranked by bm25 (rank 0: the reranker scores them all).
        Seeking rowids inside FTS5 (``rowid IN (...)``) was measured: it redoes
        the whole query per rowid, seconds for a common word.
        """
        clauses, params = self._where(filters, "a")
        where = "".join(" AND " + c for c in clauses)
        join = f"{table} f JOIN articles a ON a.rowid = f.rowid"
        try:
            if window is not None and clauses:
                small = self._filtered_rowids(filters, FILTER_FIRST)
                if small is not None:
                    allowed = set(small)
                    keep = min(window, limit)
                    picked: list[int] = []
                    rows = self.conn.execute(
                        f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid DESC",
                        (match,),
                    )
                    for (rowid,) in rows:
                        if rowid in allowed:
                            picked.append(rowid)
                            if len(picked) > keep:
                                break
                    return [(r, 0.0) for r in picked[:keep]], len(picked) > keep
            if window is None:
                sql = (
                    f"SELECT f.rowid, f.rank FROM {join} WHERE {table} MATCH ?{where} "
                    f"ORDER BY f.rank LIMIT {limit}"
                )
                return self.conn.execute(sql, [match, *params]).fetchall(), False
            source = join if clauses else f"{table} f"
            if clauses and self._kept_rowids(filters):
                # The same rows, tested against the kept rowids: no row read per match
                # (bm25 is computed only for the matches that pass).
                source, where, params = f"{table} f", " AND irarchive_kept(f.rowid)", []
            # One walk, newest first, ranking as it goes (bm25 of one row is a
            # docsize lookup); sorting the window by rank here is cheaper than a
            # second, rank-ordered query, which reads the posting lists again.
            walk = (
                f"SELECT f.rowid, f.rank FROM {source} WHERE {table} MATCH ?{where} "
                f"ORDER BY f.rowid DESC LIMIT {window + 1}"
            )
            rows = self.conn.execute(walk, [match, *params]).fetchall()
            cut = len(rows) > window
            ranked = sorted(rows[:window], key=lambda r: (r[1], -r[0]))
            return ranked[:limit], cut
        except sqlite3.OperationalError as exc:  # a bug in query building, not user input
            raise ArchiveError(f"search failed: {exc}") from None

    def _with_articles(self, ranked: list[tuple[int, float]]) -> list[tuple[dict[str, Any], float]]:
        """The articles for (rowid, rank) pairs, in the same order.

        Rows read are kept (``KEPT_ROWS``, as plain tuples: nothing for the garbage
        collector to walk) until the archive changes: reading the candidates' rows was
        a sixth of the time of the browse bench's typed searches, and three in four
        recur from one key to the next.
        """
        if not ranked:
            return []
        state = (
            self.conn.execute("PRAGMA data_version").fetchone()[0],
            self.conn.total_changes,
        )
        if self._rows[0] != state:
            self._rows = (state, {})
        rows = self._rows[1]
        missing = [r for r, _ in ranked if r not in rows]
        if len(rows) + len(missing) > KEPT_ROWS:
            rows.clear()
            missing = [r for r, _ in ranked]
        if missing:
            sql = (
                f"SELECT {self._columns()} FROM articles "
                "WHERE rowid IN (SELECT value FROM json_each(?))"
            )
            rows.update((r[0], tuple(r)) for r in self.conn.execute(sql, (json.dumps(missing),)))
        return [(_row_to_dict(rows[r]), rank) for r, rank in ranked if r in rows]

    def has_notes(self) -> bool:
        """Whether any article has a note (one index probe; search skips notes if not)."""
        return self.conn.execute("SELECT EXISTS (SELECT 1 FROM notes)").fetchone()[0] == 1

    def note_candidates(
        self, match: str, filters: Filters, limit: int
    ) -> list[tuple[dict[str, Any], list[str]]]:
        """Articles with a note matching an FTS5 expression over ``notes_fts``, and
        the text of their matching notes; best bm25 first, at most ``limit``."""
        clauses, params = self._where(filters, "a")
        where = "".join(" AND " + c for c in clauses)
        sql = (
            f"SELECT {self._columns('a')}, json_group_array(n.text) FROM notes_fts "
            "JOIN notes n ON n.id = notes_fts.rowid JOIN articles a ON a.id = n.article_id "
            f"WHERE notes_fts MATCH ?{where} GROUP BY a.id ORDER BY min(notes_fts.rank) "
            f"LIMIT {_bounded(limit)}"
        )
        try:
            rows = self.conn.execute(sql, [match, *params]).fetchall()
        except sqlite3.OperationalError as exc:  # a bug in query building, not user input
            raise ArchiveError(f"search failed: {exc}") from None
        return [(_row_to_dict(r[:-1]), json.loads(r[-1])) for r in rows]

    def vocab_lookup(self, terms: Iterable[str]) -> dict[str, int]:
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        marks = ", ".join("?" * len(terms))
        return dict(self.conn.execute(f"SELECT term, df FROM vocab WHERE term IN ({marks})", terms))

    def vocab_has_prefix(self, prefix: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM vocab WHERE term >= ? AND term < ? LIMIT 1", (prefix, prefix + "\uffff")
        ).fetchone()
        return row is not None

    def vocab_completions(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` commonest vocabulary words that begin with ``prefix`` (not
        ``prefix`` itself), commonest first."""
        return self.conn.execute(
            "SELECT term, df FROM vocab WHERE term > ? AND term < ? ORDER BY df DESC, term LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        ).fetchall()

    def vocab_near(
        self, word: str, max_len_diff: int, *, min_df: int = 1, lead: int = 1
    ) -> list[tuple[str, int]]:
        """Vocabulary terms that could be a typo away from ``word``.

        The same first ``lead`` letters (the common case), or the same second and
        third letters (a typo in the first letter); bounded by length, so it reads a
        small slice of the table. ``min_df`` skips rarer words.
        """
        lo, hi = max(1, len(word) - max_len_diff), len(word) + max_len_diff
        # Lengths as an IN list, so the indexes (m007) seek each length in turn.
        lengths = ", ".join(str(n) for n in range(lo, hi + 1))
        start = word[: max(1, lead)]
        if min_df >= 2:
            # "df >= 2" as written lets SQLite use the partial index of such words.
            rows = self.conn.execute(
                "SELECT term, df FROM vocab "
                f"WHERE df >= 2 AND length(term) IN ({lengths}) "
                "AND term >= ? AND term < ? AND df >= ?",
                (start, start + "\uffff", min_df),
            ).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT term, df FROM vocab "
                f"WHERE term >= ? AND term < ? AND length(term) IN ({lengths}) AND df >= ?",
                (start, start + "\uffff", min_df),
            ).fetchall()
        if len(word) >= 4:
            rows += self.conn.execute(
                "SELECT term, df FROM vocab "
                f"WHERE substr(term, 2, 2) = ? AND length(term) IN ({lengths}) AND df >= ?",
                (word[1:3], min_df),
            ).fetchall()
        return rows

    def expansions(self, acronym: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT expansion FROM acronyms WHERE acronym = ? "
            "ORDER BY count DESC, expansion LIMIT 3",
            (acronym,),
        ).fetchall()
        return [r[0] for r in rows]

    def total_docs(self) -> int:
        """About how many articles there are, for idf weights: the largest rowid.

        An index seek, where ``count(*)`` reads the whole table (0.1 s at 1M articles).
        """
        row = self.conn.execute("SELECT max(rowid) FROM articles").fetchone()
        return row[0] or 0

    # ---- information and checks ------------------------------------------------

    def info(self) -> dict[str, Any]:
        c = self.conn
        count = self.count()
        first, last = c.execute(
            "SELECT min(date_start), max(date_end) FROM articles WHERE date_start IS NOT NULL"
        ).fetchone()
        undated = c.execute("SELECT count(*) FROM articles WHERE date_start IS NULL").fetchone()[0]
        cats = c.execute(
            "SELECT coalesce(category, ''), count(*) FROM articles "
            "GROUP BY category COLLATE NOCASE "
            "ORDER BY count(*) DESC, category"
        ).fetchall()
        size = sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))
        return {
            "path": os.path.abspath(self.path),
            "articles": count,
            "first_date": first,
            "last_date": last,
            "undated": undated,
            "categories": [{"category": k or None, "count": n} for k, n in cats],
            "schema_version": c.execute("PRAGMA user_version").fetchone()[0],
            "size_bytes": size,
        }

    def check(self) -> list[str]:
        """Integrity problems found (empty list: the archive is healthy)."""
        try:
            return self._check()
        except sqlite3.DatabaseError as exc:
            # Damage bad enough that SQLite cannot finish its own checks is the finding.
            return [f"sqlite: {exc}"]

    def _check(self) -> list[str]:
        problems: list[str] = []
        c = self.conn
        for (msg,) in c.execute("PRAGMA integrity_check"):
            if msg != "ok":
                problems.append(f"sqlite: {msg}")
        try:
            c.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES('integrity-check', 0)")
        except sqlite3.DatabaseError:
            # Older SQLite compares against the content table, which holds unfolded
            # text by design; fall back to the document-set comparison below.
            pass
        try:
            c.execute("INSERT INTO titles_fts(titles_fts, rank) VALUES('integrity-check', 0)")
        except sqlite3.DatabaseError as exc:
            # A read-only archive cannot run the check (it is an INSERT); the
            # document-set comparison below still runs.
            if "corrupt" in str(exc).lower():
                problems.append(f"title index: {exc}")
        try:
            # Reads every term and document list of the index: damage to its data
            # (rows deleted from articles_fts_data, say) shows here, not in the
            # document counts below. About a second at a million articles.
            c.execute("SELECT count(*), sum(doc) FROM articles_fts_vocab").fetchone()
        except sqlite3.DatabaseError as exc:
            problems.append(
                f"full-text index: damaged ({exc}); irarchive db check --repair rebuilds it"
            )
        try:
            if self.readonly:  # the check below counts as a write: only load the index
                c.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'a' LIMIT 1")
            else:
                # The notes index holds the notes' own text, so FTS5 can check it whole.
                c.execute("INSERT INTO notes_fts(notes_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(
                f"notes index: damaged ({exc}); irarchive db check --repair rebuilds it"
            )
        if c.execute("SELECT EXISTS (SELECT 1 FROM irarchive_writing)").fetchone()[0]:
            problems.append(
                "irarchive_writing holds a committed row, so changes other tools make skip "
                "the index queue: delete it (irarchive db check --repair)"
            )
        queued = indexing.pending(c)
        if queued:
            changes = (
                "change made by another tool is"
                if queued == 1
                else "changes made by another tool are"
            )
            problems.append(
                f"full-text index: {queued} {changes} not indexed yet; "
                "open the archive once with write access (irarchive db check --repair)"
            )
        for table, name in (("articles_fts", "full-text index"), ("titles_fts", "title index")):
            if queued:
                break  # the queue explains the differences until it is replayed
            missing = c.execute(
                f"SELECT count(*) FROM articles WHERE rowid NOT IN (SELECT id FROM {table}_docsize)"
            ).fetchone()[0]
            orphans = c.execute(
                f"SELECT count(*) FROM {table}_docsize WHERE id NOT IN (SELECT rowid FROM articles)"
            ).fetchone()[0]
            if missing:
                problems.append(f"{name}: {missing} articles are not indexed")
            if orphans:
                problems.append(f"{name}: {orphans} entries have no article")
        stale = 0 if queued else len(indexing.stale_title_keys(c))
        if stale:
            problems.append(
                f"title keys: {stale} articles have a stale key, so an import cannot match "
                "records to them by title (irarchive db check --repair sets them)"
            )
        nulls = c.execute("SELECT count(*) FROM articles WHERE slug IS NULL").fetchone()[0]
        if nulls:
            problems.append(f"{nulls} articles have no slug")
        problems += self._check_shape()
        problems += self._check_schema()
        return problems

    def _check_schema(self) -> list[str]:
        """Every object in the file that irarchive did not make, or made differently."""
        from irarchive.store.opening import schema_differences

        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        said = {
            "foreign": "not made by irarchive",
            "changed": "differs from the one irarchive made",
            "missing": "is missing",
        }
        return [
            f"schema: {kind} '{name}' {said[what]}"
            for what, kind, name in schema_differences(self.conn, version)
        ]

    def _check_shape(self) -> list[str]:
        """Compare the articles table's columns with the schema this version expects.

        sqlite-utils' introspection is used here (``db check`` is not a hot path).
        """
        import sqlite_utils

        db = sqlite_utils.Database(self.conn)
        if "articles" not in db.table_names():
            return ["the articles table is missing"]
        got = db["articles"].columns_dict
        if got != EXPECTED_COLUMNS:
            return [f"articles table columns differ from the schema: {sorted(got)}"]
        return []

    # ---- analyst queries -------------------------------------------------------

    def _where_matching(
        self, filters: Filters, match: str | None, *, drive: bool = True
    ) -> tuple[list[str], list[Any]]:
        """``_where`` plus an optional FTS5 expression, as a rowid sub-select.

        A sub-select (not a join) keeps the whole match set, with no rank or
        candidate cap, so counts and exports are complete. ``drive`` as in ``_where``.
        """
        clauses, params = self._where(filters, drive=drive)
        if match is not None:
            clauses.append("rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            params.append(match)
        return clauses, params

    def _fetch_all(self, sql: str, params: list[Any]) -> list[tuple]:
        """All rows of a query built here; SQLite refusing it is a bug, said as such."""
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # a bug in query building, not user input
            raise ArchiveError(f"query failed: {exc}") from None

    def period_counts(
        self, filters: Filters, by: str, *, match: str | None = None
    ) -> tuple[list[tuple[str, int]], int, int]:
        """Dated articles per year or month, plus (undated, too coarse) counts.

        Grouped in SQL over the date index, so a million articles never reach
        Python. An article dated only to a year has no month: with ``by="month"``
        it is counted as too coarse rather than put in January.
        """
        if by == "year":
            key = "substr(date_start, 1, 4)"
        else:
            key = (
                "CASE WHEN substr(date_start, 1, 7) = substr(date_end, 1, 7) "
                "THEN substr(date_start, 1, 7) END"
            )
        clauses, params = self._where_matching(filters, match)
        where = " AND ".join(["date_start IS NOT NULL", *clauses])
        rows = self._fetch_all(
            f"SELECT {key} AS p, count(*) FROM articles WHERE {where} GROUP BY p ORDER BY p",
            params,
        )
        coarse = sum(n for p, n in rows if p is None)
        series = [(p, n) for p, n in rows if p is not None]
        undated = 0
        if filters.period is None:
            from dataclasses import replace

            clauses, params = self._where_matching(replace(filters, period=None), match)
            where = " AND ".join(["date_start IS NULL", *clauses])
            rows = self._fetch_all(f"SELECT count(*) FROM articles WHERE {where}", params)
            undated = rows[0][0]
        return series, undated, coarse

    def category_counts(
        self, filters: Filters, *, match: str | None = None
    ) -> list[tuple[str | None, int]]:
        """Articles per category (case-insensitive), largest first; None = no category."""
        clauses, params = self._where_matching(filters, match)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return self._fetch_all(
            f"SELECT category, count(*) FROM articles{where} "
            "GROUP BY category COLLATE NOCASE "
            "ORDER BY count(*) DESC, category COLLATE NOCASE",
            params,
        )

    def known_acronyms(self, candidates: Iterable[str]) -> set[str]:
        """Those of ``candidates`` the archive has seen defined, as in "Union (EU)"."""
        terms = list(dict.fromkeys(candidates))
        found: set[str] = set()
        for i in range(0, len(terms), 500):
            chunk = terms[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT acronym FROM acronyms WHERE acronym IN ({marks})", chunk
                )
            )
        return found

    def ref_completions(self, prefix: str, limit: int = 50) -> list[str]:
        """Slugs and ids starting with ``prefix`` (shell completion): index range scans."""
        prefix = prefix.strip().lower()
        out = [
            r[0]
            for r in self.conn.execute(
                "SELECT slug FROM articles WHERE slug >= ? AND slug < ? ORDER BY slug LIMIT ?",
                (prefix, prefix + "\uffff", limit),
            )
        ]
        if prefix and len(out) < limit and all(c in "0123456789abcdef" for c in prefix):
            out += [
                r[0]
                for r in self.conn.execute(
                    "SELECT id FROM articles WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                    (prefix, prefix + "g", limit - len(out)),
                )
            ]
        return out

    def tag_completions(self, prefix: str, limit: int = 50) -> list[str]:
        """Tags in use starting with ``prefix`` (shell completion), over the tag index.

        A ``-`` or ``+`` typed first (``--tag -ene``) is kept on the completions.
        """
        sign = prefix[:1] if prefix[:1] in "+-" else ""
        start = " ".join(prefix[len(sign) :].casefold().split())
        rows = self.conn.execute(
            "SELECT DISTINCT tag FROM tags WHERE tag >= ? AND tag < ? ORDER BY tag LIMIT ?",
            (start, start + "\uffff", limit),
        )
        return [sign + r[0] for r in rows]

    def categories(self) -> list[str]:
        """Every distinct category, sorted (the browser's category picker)."""
        rows = self.conn.execute(
            "SELECT DISTINCT category FROM articles WHERE category IS NOT NULL ORDER BY 1"
        )
        return [r[0] for r in rows]

    def category_completions(self, prefix: str, limit: int = 50) -> list[str]:
        """Distinct categories starting with ``prefix``, any case (shell completion)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.conn.execute(
            "SELECT DISTINCT category FROM articles "
            "WHERE category LIKE ? ESCAPE '\\' ORDER BY category LIMIT ?",
            (escaped + "%", limit),
        )
        return [r[0] for r in rows]

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the main file, so immutable readers see everything.

        Datasette opens the archive with ``immutable=1``, which ignores a ``-wal`` file.
        """
        if not self.readonly:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ---- writing ---------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.readonly:
            raise ArchiveError(
                f"{self.path} is read-only here; reading works, but to change it "
                "make the file and its folder writable or copy it elsewhere"
            )

    def import_items(
        self,
        items: Iterable[Any],
        *,
        dry_run: bool = False,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
        now: str | None = None,
        before_commit: Callable[[ImportReport], None] | None = None,
        fill_only: bool = False,
    ) -> ImportReport:
        """Import one file's articles in one transaction: all of it or none of it.

        ``before_commit`` runs inside the transaction once every item is written
        (feeds record which articles their items became there).
        """
        if self.readonly and dry_run:
            return self._dry_run_on_a_copy(items, strict=strict, progress=progress, now=now)
        self._require_writable()
        if self.foreign_triggers:
            names = ", ".join(f"'{n}'" for n in self.foreign_triggers[:5])
            raise ArchiveError(
                f"{self.path} has triggers irarchive did not create ({names}); they could "
                "change or delete articles, so nothing was imported: run 'irarchive db check'"
            )
        report = ImportReport()
        stamp = now or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        c = self.conn
        # A bulk load (into an empty archive) keeps the ids and slugs it wrote in an
        # in-memory database (writer.BulkKeys); ATTACH cannot run inside a transaction.
        attached = (
            self.bulk_loads
            and c.execute("SELECT NOT EXISTS (SELECT 1 FROM articles)").fetchone()[0] == 1
        )
        if attached and BulkKeys.SCHEMA not in {r[1] for r in c.execute("PRAGMA database_list")}:
            c.execute(f"ATTACH DATABASE ':memory:' AS {BulkKeys.SCHEMA}")
        try:
            bulk = self._import_in_transaction(
                items, report, stamp, attached, dry_run, strict, progress, before_commit, fill_only
            )
        except sqlite3.IntegrityError as exc:
            raise ImportFailed(f"import failed: {exc}; the archive was not changed") from None
        finally:
            if attached:
                with contextlib.suppress(sqlite3.OperationalError):  # kept for the next one
                    c.execute(f"DETACH DATABASE {BulkKeys.SCHEMA}")
        if not dry_run and (report.added or report.updated) and (bulk or report.added > 50_000):
            try:
                c.execute("PRAGMA analysis_limit=1000")
                c.execute("PRAGMA optimize")
            except sqlite3.OperationalError:
                pass
        return report

    def _import_in_transaction(
        self,
        items: Iterable[Any],
        report: ImportReport,
        stamp: str,
        attached: bool,
        dry_run: bool,
        strict: bool,
        progress: Callable[[int], None] | None,
        before_commit: Callable[[ImportReport], None] | None,
        fill_only: bool,
    ) -> bool:
        """The body of ``import_items``: one transaction; returns whether it was a bulk load."""
        from irarchive.sources import Rejected

        c = self.conn
        with transaction(c, path=self.path, dry_run=dry_run):
            # Changes other tools made since the archive was opened reach the index
            # first: the writer below tells the index what it holds for a row.
            indexing.sync(c)
            c.execute("INSERT INTO irarchive_writing(one) VALUES (1)")
            bulk = (
                self.bulk_loads
                and c.execute("SELECT NOT EXISTS (SELECT 1 FROM articles)").fetchone()[0] == 1
            )
            # The m004 triggers skip every row this transaction writes (irarchive_writing),
            # but testing that costs as much as writing the row: they are set aside and
            # made again, exactly as they were, before anything else may change articles.
            triggers = _drop_queue_triggers(c)
            dropped: dict[str, str] = {}
            if bulk:
                # Building secondary indexes once at the end is far cheaper than
                # updating them row by row (about 9x for a million articles).
                dropped = drop_indexes(c, BULK_INDEXES)
                fts_settings = tune_fts_for_bulk(c)
            else:
                c.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS run_ids(id TEXT PRIMARY KEY) WITHOUT ROWID"
                )
                c.execute("DELETE FROM run_ids")
            writer = _BatchWriter(c, stamp, report, bulk=bulk)
            writer.fill_only = fill_only
            if bulk and attached:
                unique = drop_indexes(c, ("articles_id", "articles_slug"))
                dropped.update(unique)
                writer.keys = BulkKeys(c, unique)
            batch: list[Prepared] = []
            seen = 0
            for item in items:
                if isinstance(item, Rejected):
                    if strict:
                        raise ImportFailed(
                            f"{item} (--strict: nothing from this file was imported)"
                        )
                    report.reject(str(item))
                    continue
                batch.append(item if isinstance(item, Prepared) else prepare(item))
                if len(batch) >= BATCH:
                    writer.write(batch)
                    seen += len(batch)
                    batch = []
                    if progress:
                        progress(seen)
            if batch:
                writer.write(batch)
                seen += len(batch)
                if progress:
                    progress(seen)
            for sql in triggers:
                c.execute(sql)
            if bulk:
                restore_indexes(c, dropped)
                # The segments written batch by batch, merged into one b-tree per index.
                restore_fts_settings(c, fts_settings)
            if report.added or report.updated:
                writer.flush_acronyms()
                self._rebuild_vocab()
            if before_commit is not None:
                before_commit(report)
            c.execute("DELETE FROM irarchive_writing")
        return bulk

    def _dry_run_on_a_copy(self, items: Iterable[Any], **options: Any) -> ImportReport:
        """A dry run needs a writable transaction: run it on a temporary copy.

        The copy is made with SQLite's backup API (consistent, WAL included) in the
        temporary folder and removed afterwards; the archive itself is only read.
        """
        import tempfile

        with tempfile.TemporaryDirectory(prefix="irarchive-dry-run-") as folder:
            copy = sqlite3.connect(os.path.join(folder, "copy.db"), isolation_level=None)
            try:
                self.conn.backup(copy)
                scratch = Archive(copy, self.path, readonly=False)
                scratch.foreign_triggers = self.foreign_triggers
                return scratch.import_items(items, dry_run=True, **options)
            finally:
                copy.close()

    def _rebuild_vocab(self) -> None:
        """Refresh the term list used for typo correction from the full-text index.

        One pass over the index's term table (about a second for a million
        articles), instead of tokenising every article again in Python.
        """
        indexing.refresh_vocab(self.conn, None)
