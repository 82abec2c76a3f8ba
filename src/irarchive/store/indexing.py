"""Keeping the full-text index in step with the articles table.

irarchive's import writes the index itself, row by row, inside ``writing()``. Any
other change to ``articles`` (``sqlite3``, ``sqlite-utils``, or irarchive's own
``edit``/``rm``/merge, which simply change rows) is queued by the m004 triggers with
the title and excerpt it replaced, and ``sync`` replays the queue: the index is told
to forget exactly what it was given for a row and to learn the row as it is now.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

#: Above this many queued rows, the typo vocabulary is rebuilt in one pass over the
#: index (about a second at 1M articles) instead of term by term.
VOCAB_REBUILD_AT = 2000
#: Above this many queued rows, and when they are a quarter of the archive or more,
#: the whole index is rebuilt instead of replayed row by row.
REBUILD_AT = 10_000


@contextmanager
def writing(conn: sqlite3.Connection) -> Iterator[None]:
    """Mark the open transaction as irarchive's own index-keeping writer.

    The row is inserted and deleted inside the caller's transaction, so no other
    connection ever sees it, and a killed process leaves nothing behind.
    """
    conn.execute("INSERT OR IGNORE INTO irarchive_writing(one) VALUES (1)")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("DELETE FROM irarchive_writing")


def pending(conn: sqlite3.Connection) -> int:
    """How many queued changes the index has not seen yet (0 on a healthy archive)."""
    return conn.execute("SELECT count(*) FROM index_queue").fetchone()[0]


def has_pending(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM index_queue)").fetchone()[0] == 1


def sync(conn: sqlite3.Connection) -> int:
    """Replay the queue inside the caller's transaction; returns the rows re-indexed.

    Per row only its first queued entry matters: it holds what the index was given
    (nothing, for a row inserted by another tool). Slugs missing on rows another tool
    inserted are filled in, and the typo vocabulary follows the changed terms.
    """
    from irarchive.model import base_slug
    from irarchive.store.writer import fts_excerpt, fts_title, index, unindex
    from irarchive.text import tokens

    first: dict[int, tuple[str | None, str | None, int]] = {}
    last_seq = 0
    for seq, row, old_title, old_excerpt, was_indexed in conn.execute(
        "SELECT seq, row, old_title, old_excerpt, was_indexed FROM index_queue ORDER BY seq"
    ):
        first.setdefault(row, (old_title, old_excerpt, was_indexed))
        last_seq = seq
    if not first:
        return 0
    if len(first) > REBUILD_AT:
        total = conn.execute("SELECT max(rowid) FROM articles").fetchone()[0] or 0
        if len(first) * 4 > total:
            # A quarter of the archive or more (a bulk DELETE or UPDATE by another
            # tool): one pass over the articles beats a delete and insert per row.
            rebuild(conn)
            return len(first)
    terms: set[str] = set()
    with writing(conn):
        for row, (old_title, old_excerpt, was_indexed) in first.items():
            if was_indexed:
                unindex(conn, row, old_title or "", old_excerpt)
                terms.update(tokens(fts_title(old_title or "")), tokens(old_excerpt))
            current = conn.execute(
                "SELECT title, excerpt, slug, id FROM articles WHERE rowid = ?", (row,)
            ).fetchone()
            if current is None:
                continue
            title, excerpt, slug, article_id = current
            index(conn, [(row, fts_title(title or ""), fts_excerpt(excerpt))])
            terms.update(tokens(fts_title(title or "")), tokens(excerpt))
            if not slug:
                conn.execute(
                    "UPDATE articles SET slug = ? WHERE rowid = ?",
                    (_free_slug(conn, base_slug(title or ""), article_id or str(row)), row),
                )
        conn.execute("DELETE FROM index_queue WHERE seq <= ?", (last_seq,))
        refresh_vocab(conn, None if len(first) > VOCAB_REBUILD_AT else terms)
    return len(first)


def _free_slug(conn: sqlite3.Connection, base: str, article_id: str) -> str:
    for candidate in (base, f"{base}-{article_id[:6]}", f"{base}-{article_id}"):
        if not conn.execute("SELECT 1 FROM articles WHERE slug = ?", (candidate,)).fetchone():
            return candidate
    return f"{base}-{article_id}-{conn.execute('SELECT max(rowid) FROM articles').fetchone()[0]}"


def refresh_vocab(conn: sqlite3.Connection, terms: set[str] | None) -> None:
    """Bring the typo vocabulary's document counts in line with the index.

    ``terms=None`` rebuilds it whole; otherwise only those terms are looked up.
    """
    if terms is None:
        conn.execute("DELETE FROM vocab")
        conn.execute(
            "INSERT INTO vocab(term, df) SELECT term, doc FROM articles_fts_vocab "
            "WHERE length(term) BETWEEN 2 AND 40"
        )
        return
    for term in terms:
        if not 2 <= len(term) <= 40:
            continue
        row = conn.execute("SELECT doc FROM articles_fts_vocab WHERE term = ?", (term,)).fetchone()
        if row and row[0]:
            conn.execute(
                "INSERT INTO vocab(term, df) VALUES (?, ?) "
                "ON CONFLICT(term) DO UPDATE SET df = excluded.df",
                (term, row[0]),
            )
        else:
            conn.execute("DELETE FROM vocab WHERE term = ?", (term,))


def rebuild(conn: sqlite3.Connection) -> int:
    """Rebuild the whole index and vocabulary from the articles (``db check --repair``).

    Inside the caller's transaction. Returns the number of articles indexed.
    """
    from irarchive.store.writer import fts_excerpt, fts_title, index

    with writing(conn):
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('delete-all')")
        conn.execute("INSERT INTO titles_fts(titles_fts) VALUES ('delete-all')")
        n = 0
        batch: list[tuple[int, str, str]] = []
        for row, title, excerpt in conn.execute("SELECT rowid, title, excerpt FROM articles"):
            batch.append((row, fts_title(title or ""), fts_excerpt(excerpt)))
            if len(batch) >= 1000:
                index(conn, batch)
                n += len(batch)
                batch = []
        if batch:
            index(conn, batch)
            n += len(batch)
        conn.execute("DELETE FROM index_queue")
        refresh_vocab(conn, None)
    return n
