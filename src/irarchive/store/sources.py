"""Followed sources (``sources`` table) and matching feed items to stored articles.

All SQL about feeds lives here. Matching decides which stored article a feed item
is, so the same item read from a feed and from the listing text (or a JSON export)
is one article, never two:

1. an item whose link a feed delivered before is that article (``source_items``),
   even if its title was edited since;
2. else the article a JSON/CSV record with the same link and title became (the id
   ``Article.key`` gives ``url + title``);
3. else the article with the same title and date (the listing text's identity,
   ``title + date``), unless that article has a different link: two items with
   different links are never merged because they share a title and date;
4. else a new article, under the listing text's id when that is free, so that a
   later import of the listing text finds it instead of adding a duplicate.

When the matched article came from another source, the writer only fills in what
it lacks, and a file record (the listing text) arriving for an article a feed
delivered does the same (see ``_BatchWriter._keep_feed_data``): nothing a richer
source stored is overwritten.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from irarchive.errors import IrarchiveError, UsageError
from irarchive.model import Article

SOURCE_FIELDS = (
    "name",
    "url",
    "feed_url",
    "feed_type",
    "title",
    "category",
    "etag",
    "last_modified",
    "added_at",
    "checked_at",
    "new_item_at",
    "last_error",
    "failures",
)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Source:
    """One followed feed or site."""

    name: str
    url: str
    feed_url: str | None = None
    feed_type: str | None = None
    title: str | None = None
    category: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    added_at: str = ""
    checked_at: str | None = None
    new_item_at: str | None = None
    last_error: str | None = None
    failures: int = 0
    items: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in (*SOURCE_FIELDS, "items")}


def _conn(archive: Any) -> sqlite3.Connection:
    return archive.conn


def list_sources(archive: Any) -> list[Source]:
    """Every followed source, by name, with how many articles each delivered."""
    cols = ", ".join(f"s.{f}" for f in SOURCE_FIELDS)
    rows = _conn(archive).execute(
        f"SELECT {cols}, (SELECT count(*) FROM source_items i WHERE i.feed_url = s.feed_url) "
        "FROM sources s ORDER BY s.name COLLATE NOCASE"
    )
    return [Source(*row[:-1], items=row[-1]) for row in rows]


def get_source(archive: Any, name: str) -> Source:
    for s in list_sources(archive):
        if s.name == name:
            return s
    names = [s.name for s in list_sources(archive)]
    hint = f"; followed: {', '.join(names)}" if names else "; none is followed yet"
    raise IrarchiveError(f"no source named {name!r}{hint} (see: irarchive sources list)")


def add_source(
    archive: Any, *, name: str, url: str, category: str | None = None, now: str | None = None
) -> Source:
    """Follow ``url`` under ``name``; names and URLs are unique."""
    archive._require_writable()
    name = " ".join(name.split())
    if not name:
        raise UsageError("a source name cannot be empty; give --name NAME")
    c = _conn(archive)
    clash = c.execute("SELECT name FROM sources WHERE url = ? OR name = ?", (url, name)).fetchone()
    if clash:
        what = "URL" if clash[0] != name else "name"
        raise IrarchiveError(
            f"a source with this {what} is already followed ({clash[0]!r}); "
            "see: irarchive sources list"
        )
    c.execute(
        "INSERT INTO sources(name, url, category, added_at) VALUES (?, ?, ?, ?)",
        (name, url, category, now or utc_now()),
    )
    return get_source(archive, name)


def remove_source(archive: Any, name: str) -> Source:
    """Stop following a source. Its articles stay in the archive, and so do the links
    its items had (``source_items``), which still match them if the feed comes back."""
    archive._require_writable()
    source = get_source(archive, name)
    _conn(archive).execute("DELETE FROM sources WHERE name = ?", (name,))
    return source


def record_check(
    archive: Any,
    name: str,
    *,
    now: str,
    feed_url: str | None = None,
    feed_type: str | None = None,
    title: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    new_items: bool = False,
    error: str | None = None,
) -> None:
    """Note the outcome of one check of a source (in its own small transaction)."""
    c = _conn(archive)
    if error is not None:
        c.execute(
            "UPDATE sources SET checked_at = ?, last_error = ?, failures = failures + 1 "
            "WHERE name = ?",
            (now, error, name),
        )
        return
    c.execute(
        "UPDATE sources SET checked_at = ?, last_error = NULL, failures = 0, "
        "feed_url = coalesce(?, feed_url), feed_type = coalesce(?, feed_type), "
        "title = coalesce(?, title), etag = ?, last_modified = ?, "
        "new_item_at = CASE WHEN ? THEN ? ELSE new_item_at END WHERE name = ?",
        (now, feed_url, feed_type, title, etag, last_modified, new_items, now, name),
    )


# ---- matching feed items to articles ----------------------------------------------------


def _listing_id(a: Article) -> str:
    """The id the listing text gives an article with this title and date."""
    return Article(title=a.title, date=a.date).article_id()


def _url_id(a: Article) -> str:
    return Article(title=a.title, url=a.url).article_id()


def match_items(archive: Any, feed_url: str, articles: Iterable[Any]) -> Iterator[Any]:
    """Give each feed article the id of the stored article it is (see the module doc).

    A generator: run inside the import transaction (``Archive.import_items`` iterates
    it after ``BEGIN``), so no other writer can change the answer in between.
    Non-articles (rejections) pass through.
    """
    c = _conn(archive)
    for a in articles:
        if not isinstance(a, Article):
            yield a
            continue
        if a.url and _removed_here(c, a.url):
            continue  # 'irarchive rm' took it out: a feed does not bring it back
        yield replace(a, given_id=_match_one(c, feed_url, a))


def _removed_here(c: sqlite3.Connection, url: str) -> bool:
    """A feed delivered this link before and its article is gone (removed with ``rm``
    or another tool), not merged into another (a merge leaves an alias)."""
    return (
        c.execute(
            "SELECT 1 FROM source_items i WHERE i.url = ? "
            "AND NOT EXISTS (SELECT 1 FROM articles WHERE id = i.article_id) "
            "AND NOT EXISTS (SELECT 1 FROM aliases WHERE alias = i.article_id) "
            "AND NOT EXISTS (SELECT 1 FROM source_items j JOIN articles a ON a.id = j.article_id "
            "WHERE j.url = i.url) LIMIT 1",
            (url,),
        ).fetchone()
        is not None
    )


def _match_one(c: sqlite3.Connection, feed_url: str, a: Article) -> str:
    if a.url:
        row = c.execute(
            "SELECT i.article_id FROM source_items i JOIN articles a ON a.id = i.article_id "
            "WHERE i.url = ? ORDER BY i.feed_url = ? DESC LIMIT 1",
            (a.url, feed_url),
        ).fetchone()
        if row:
            return row[0]
        url_id = _url_id(a)
        if c.execute("SELECT 1 FROM articles WHERE id = ?", (url_id,)).fetchone():
            return url_id
    listing_id = _listing_id(a)
    row = c.execute("SELECT url FROM articles WHERE id = ?", (listing_id,)).fetchone()
    if row is None or not a.url or not row[0] or row[0] == a.url:
        return listing_id
    return _url_id(a)


def known_count(archive: Any, feed_url: str, articles: Iterable[Article]) -> int:
    """How many of these feed articles are in the archive already (for --backfill)."""
    c = _conn(archive)
    return sum(
        1
        for a in articles
        if c.execute(
            "SELECT 1 FROM articles WHERE id = ?", (_match_one(c, feed_url, a),)
        ).fetchone()
    )


def remember_items(archive: Any, feed_url: str, articles: Iterable[Article]) -> None:
    """Record which articles a feed's items became (inside the import transaction)."""
    _conn(archive).executemany(
        "INSERT INTO source_items(feed_url, article_id, url) VALUES (?, ?, ?) "
        "ON CONFLICT(feed_url, article_id) DO UPDATE SET url = excluded.url",
        [(feed_url, a.given_id, a.url) for a in articles if a.given_id],
    )


def is_feed_source(source: str | None) -> bool:
    """Articles imported from a feed have its URL as their ``source``."""
    return bool(source) and source.startswith(("http://", "https://"))  # type: ignore[union-attr]
