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

from irarchive.migrations import VOCAB_INDEXES

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
    from irarchive.store.duplicates import title_hash
    from irarchive.store.writer import fts_excerpt, fts_title, index, unindex

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
            with writing(conn):
                refresh_title_keys(conn)
                _fill_slugs(conn)
            return len(first)
    texts: list[str] = []
    with writing(conn):
        for row, (old_title, old_excerpt, was_indexed) in first.items():
            if was_indexed:
                unindex(conn, row, old_title or "", old_excerpt)
                texts += [fts_title(old_title or ""), fts_excerpt(old_excerpt)]
            current = conn.execute(
                "SELECT title, excerpt, title_key FROM articles WHERE rowid = ?", (row,)
            ).fetchone()
            if current is None:
                continue
            title, excerpt, stored_key = current
            key = title_hash(title)
            if stored_key != key:
                conn.execute("UPDATE articles SET title_key = ? WHERE rowid = ?", (key, row))
            indexed = (row, fts_title(title or ""), fts_excerpt(excerpt))
            index(conn, [indexed])
            texts += indexed[1:]
        conn.execute("DELETE FROM index_queue WHERE seq <= ?", (last_seq,))
        _fill_slugs(conn)
        refresh_vocab(conn, None if len(first) > VOCAB_REBUILD_AT else _terms(conn, texts))
    return len(first)


def _fill_slugs(conn: sqlite3.Connection) -> None:
    """Give rows another tool inserted without a slug one made from their title."""
    from irarchive.model import base_slug

    for row, title, article_id in conn.execute(
        "SELECT rowid, title, id FROM articles WHERE slug IS NULL"
    ).fetchall():
        slug = free_slug(conn, base_slug(title or ""), article_id or str(row))
        conn.execute("UPDATE articles SET slug = ? WHERE rowid = ?", (slug, row))


def free_slug(conn: sqlite3.Connection, base: str, article_id: str) -> str:
    """A slug no other article has, as its slug or as an alias: the base, else with id digits."""
    for candidate in (base, f"{base}-{article_id[:6]}", f"{base}-{article_id}", article_id):
        taken = conn.execute(
            "SELECT 1 FROM articles WHERE slug = ? AND id IS NOT ? "
            "UNION ALL SELECT 1 FROM aliases WHERE alias = ? AND article_id != ?",
            (candidate, article_id, candidate, article_id),
        ).fetchone()
        if not taken:
            return candidate
    return f"{base}-{article_id}-{conn.execute('SELECT max(rowid) FROM articles').fetchone()[0]}"


def _terms(conn: sqlite3.Connection, texts: list[str]) -> set[str]:
    """The terms the index's own tokenizer makes of these texts (Python's word split
    differs on marks, superscripts and unassigned code points), via a temporary table."""
    from irarchive.migrations import FTS_TOKENIZE

    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.irarchive_terms "
        f"USING fts5(text, tokenize='{FTS_TOKENIZE}')"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.irarchive_terms_vocab "
        "USING fts5vocab(temp, irarchive_terms, 'row')"
    )
    conn.execute("DELETE FROM temp.irarchive_terms")
    conn.executemany(
        "INSERT INTO temp.irarchive_terms(text) VALUES (?)", [(t,) for t in texts if t]
    )
    terms = {r[0] for r in conn.execute("SELECT term FROM temp.irarchive_terms_vocab")}
    conn.execute("DELETE FROM temp.irarchive_terms")
    return terms


def refresh_vocab(conn: sqlite3.Connection, terms: set[str] | None) -> None:
    """Bring the typo vocabulary's document counts in line with the index.

    ``terms=None`` rebuilds it whole; otherwise only those terms are looked up.
    """
    if terms is None:
        # Built without its indexes, then indexed: sorting once beats keeping two
        # indexes in step with 700,000 inserts.
        names = [sql.split()[2] for sql in VOCAB_INDEXES]
        for name in names:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("DELETE FROM vocab")
        conn.execute(
            "INSERT INTO vocab(term, df) SELECT term, doc FROM articles_fts_vocab "
            "WHERE length(term) BETWEEN 2 AND 40"
        )
        for sql in VOCAB_INDEXES:
            conn.execute(sql)
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


def stale_title_keys(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(right key, rowid) of the articles whose ``title_key`` (m008) is not their title's
    (other tools change titles without knowing the key; ``sync`` fixes the ones it
    sees queued)."""
    from irarchive.store.duplicates import title_hash

    return [
        (key, row)
        for row, title, stored in conn.execute("SELECT rowid, title, title_key FROM articles")
        if stored != (key := title_hash(title))
    ]


def refresh_title_keys(conn: sqlite3.Connection) -> int:
    """Set every stale ``title_key``; returns how many were."""
    wrong = stale_title_keys(conn)
    conn.executemany("UPDATE articles SET title_key = ? WHERE rowid = ?", wrong)
    return len(wrong)
