"""The undo log primitive (``store.undo``): record before a change, restore exactly."""

from __future__ import annotations

import sqlite3

from irarchive.store import indexing, open_archive, undo


def _everything(conn: sqlite3.Connection, article_id: str) -> dict:
    return {
        "article": conn.execute(
            "SELECT rowid, * FROM articles WHERE id = ?", (article_id,)
        ).fetchall(),
        **{
            table: conn.execute(
                f"SELECT * FROM {table} WHERE article_id = ? ORDER BY 1, 2", (article_id,)
            ).fetchall()
            for table in ("tags", "notes", "list_items", "aliases", "edits")
        },
    }


def _annotate(conn: sqlite3.Connection, article_id: str) -> None:
    conn.execute("INSERT INTO tags VALUES (?, 'energy', '2026-01-01')", (article_id,))
    conn.execute(
        "INSERT INTO notes(article_id, created_at, text) VALUES (?, '2026-01-02', 'read again')",
        (article_id,),
    )
    conn.execute("INSERT INTO lists VALUES ('thesis', '2026-01-01', NULL)")
    conn.execute("INSERT INTO list_items VALUES ('thesis', 3, ?, '2026-01-03')", (article_id,))
    conn.execute("INSERT INTO aliases VALUES ('old-slug', ?, 'slug', '2026-01-04')", (article_id,))
    conn.execute(
        "INSERT INTO edits VALUES (?, 'title', '\"Mine\"', '\"Theirs\"', '2026-01-05')",
        (article_id,),
    )


def test_a_deleted_article_comes_back_byte_identical_with_its_annotations(seeded):
    archive = open_archive(str(seeded))
    c = archive.conn
    try:
        article_id = c.execute("SELECT id FROM articles ORDER BY rowid LIMIT 1").fetchone()[0]
        _annotate(c, article_id)
        before = _everything(c, article_id)
        c.execute("BEGIN IMMEDIATE")
        undo.record(c, "rm", "deleted 1 article", [article_id], now="2026-02-01T00:00:00Z")
        for table in ("tags", "notes", "list_items", "aliases", "edits"):
            c.execute(f"DELETE FROM {table} WHERE article_id = ?", (article_id,))
        c.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        indexing.sync(c)
        c.execute("COMMIT")
        assert _everything(c, article_id)["article"] == []
        assert [(e.action, e.articles) for e in undo.entries(c)] == [("rm", 1)]
        c.execute("BEGIN IMMEDIATE")
        entry = undo.restore_last(c)
        c.execute("COMMIT")
        assert entry is not None and entry.summary == "deleted 1 article"
        assert _everything(c, article_id) == before
        assert undo.entries(c) == []
        assert archive.check() == []
        c.execute("BEGIN IMMEDIATE")
        assert undo.restore_last(c) is None
        c.execute("ROLLBACK")
    finally:
        archive.close()


def test_an_edited_article_is_restored_and_rows_the_change_added_are_dropped(seeded):
    archive = open_archive(str(seeded))
    c = archive.conn
    try:
        article_id = c.execute("SELECT id FROM articles ORDER BY rowid LIMIT 1").fetchone()[0]
        before = _everything(c, article_id)
        c.execute("BEGIN IMMEDIATE")
        undo.record(c, "edit", "edited title", [article_id], now="2026-02-01T00:00:00Z")
        c.execute("UPDATE articles SET title = 'Changed' WHERE id = ?", (article_id,))
        c.execute("INSERT INTO aliases VALUES ('merged-away', ?, 'id', 'x')", (article_id,))
        indexing.sync(c)
        undo.restore_last(c)
        c.execute("COMMIT")
        assert _everything(c, article_id) == before
        assert archive.check() == []
    finally:
        archive.close()


def test_only_the_newest_entries_are_kept(seeded):
    archive = open_archive(str(seeded))
    c = archive.conn
    try:
        article_id = c.execute("SELECT id FROM articles LIMIT 1").fetchone()[0]
        c.execute("BEGIN IMMEDIATE")
        for n in range(undo.KEEP + 5):
            undo.record(c, "edit", f"change {n}", [article_id], now="t")
        c.execute("COMMIT")
        kept = undo.entries(c, limit=1000)
        assert len(kept) == undo.KEEP >= 20
        assert kept[0].summary == f"change {undo.KEEP + 4}"
        assert kept[-1].summary == "change 5"
    finally:
        archive.close()
