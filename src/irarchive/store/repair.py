"""``db check --repair``: rebuild everything that is derived from the articles.

What can be derived is rebuilt: the full-text index and the typo vocabulary
(``indexing.rebuild``), missing or duplicate slugs, the notes index, the acronym
table, and irarchive's own indexes and triggers when they are missing or changed.
Articles and annotations (tags, notes, reading lists, aliases, edits, the undo log,
followed sources) are never touched: they are the data, not derived from anything.
All of it is one transaction.
"""

from __future__ import annotations

import sqlite3

from irarchive.store import indexing
from irarchive.store.transactions import transaction


def repair(conn: sqlite3.Connection) -> list[str]:
    """Rebuild the derived parts of the archive; returns one line per thing repaired."""
    done: list[str] = []
    with transaction(conn):
        if conn.execute("DELETE FROM irarchive_writing").rowcount:
            done.append(
                "index queue: removed a committed writer mark (other tools' changes queue again)"
            )
        with indexing.writing(conn):
            missing, duplicate = _repair_slugs(conn)
        if missing:
            done.append(f"slugs: gave {missing:,} article{_s(missing)} a slug")
        if duplicate:
            done.append(f"slugs: gave {duplicate:,} article{_s(duplicate)} a unique slug")
        done += _recreate_schema(conn)
        for name in ("articles_fts", "titles_fts", "notes_fts"):
            _empty_index(conn, name)
        n = indexing.rebuild(conn)
        done.append(f"search index and vocabulary: rebuilt from {n:,} article{_s(n)}")
        with indexing.writing(conn):
            stale = indexing.refresh_title_keys(conn)
        if stale:
            done.append(f"title keys: set {stale:,} stale key{_s(stale)}")
        conn.execute("INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')")
        notes = conn.execute("SELECT count(*) FROM notes").fetchone()[0]
        done.append(f"notes index: rebuilt from {notes:,} note{_s(notes)}")
        pairs = _relearn_acronyms(conn)
        done.append(f"acronyms: {pairs:,} definition{_s(pairs)} re-learned from the articles")
    return done


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _repair_slugs(conn: sqlite3.Connection) -> tuple[int, int]:
    """Give a slug to articles without one and a unique one to all but the first of a
    duplicate (possible only once the unique index was dropped by another tool)."""
    from irarchive.model import base_slug

    missing = conn.execute(
        "SELECT rowid, id, title FROM articles WHERE slug IS NULL OR slug = '' ORDER BY rowid"
    ).fetchall()
    duplicate = conn.execute(
        "SELECT rowid, id, title FROM articles a WHERE slug IS NOT NULL AND slug != '' "
        "AND EXISTS (SELECT 1 FROM articles b WHERE b.slug = a.slug AND b.rowid < a.rowid) "
        "ORDER BY rowid"
    ).fetchall()
    for rowid, article_id, title in [*duplicate, *missing]:
        conn.execute("UPDATE articles SET slug = NULL WHERE rowid = ?", (rowid,))
        slug = indexing.free_slug(conn, base_slug(title or ""), article_id or str(rowid))
        conn.execute("UPDATE articles SET slug = ? WHERE rowid = ?", (slug, rowid))
    return len(missing), len(duplicate)


def _recreate_schema(conn: sqlite3.Connection) -> list[str]:
    """irarchive's own indexes and triggers, put back when missing or changed.

    Tables are data and are never recreated; objects irarchive did not make are left
    for ``db check`` to report. A unique index that the data now contradicts (two
    articles with one id) cannot be made; ``db check`` keeps reporting it.
    """
    from irarchive.store.opening import expected_schema, schema_differences

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    want = expected_schema(version)
    done: list[str] = []
    for what, kind, name in schema_differences(conn, version):
        if kind not in ("index", "trigger") or what == "foreign" or not want[name][2]:
            continue
        try:
            conn.execute("SAVEPOINT recreate")
            if what == "changed":
                conn.execute(f'DROP {kind.upper()} "{name}"')
            conn.execute(want[name][2])
            conn.execute("RELEASE recreate")
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK TO recreate")
            conn.execute("RELEASE recreate")
            continue
        done.append(f"schema: {kind} '{name}' {'recreated' if what == 'missing' else 'restored'}")
    return done


def _empty_index(conn: sqlite3.Connection, name: str) -> None:
    """Reset an FTS5 table's stored index to that of a freshly made, empty table.

    Its own 'delete-all' and 'rebuild' commands need the table to load first, which
    fails once another tool has deleted its structure record ("vtable constructor
    failed"); writing the shadow tables directly works whatever is left of them. The
    fresh rows come from the same table made in memory by this SQLite, so their
    format is the one it reads. The table's settings (``%_config``) are kept.
    """
    from irarchive.store.opening import expected_schema

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    schema = expected_schema(version)
    if name not in schema:
        return
    memory = sqlite3.connect(":memory:")
    try:
        memory.execute(schema[name][2])
        fresh = memory.execute(f"SELECT id, block FROM {name}_data").fetchall()
    finally:
        memory.close()
    for shadow in ("data", "idx", "docsize"):
        if f"{name}_{shadow}" in schema:
            conn.execute(f"DELETE FROM {name}_{shadow}")
    conn.executemany(f"INSERT INTO {name}_data(id, block) VALUES (?, ?)", fresh)


def _relearn_acronyms(conn: sqlite3.Connection) -> int:
    """The acronym table as importing the articles as they are now would make it."""
    from irarchive.text import acronym_definitions

    counts: dict[tuple[str, str], int] = {}
    rows = conn.execute(
        "SELECT title, excerpt FROM articles WHERE instr(title, '(') OR instr(excerpt, '(')"
    )
    for title, excerpt in rows:
        for text in (title, excerpt):
            if text and "(" in text:
                for pair in acronym_definitions(text):
                    counts[pair] = counts.get(pair, 0) + 1
    conn.execute("DELETE FROM acronyms")
    conn.executemany(
        "INSERT INTO acronyms(acronym, expansion, count) VALUES (?, ?, ?)",
        [(a, e, n) for (a, e), n in counts.items()],
    )
    return len(counts)
