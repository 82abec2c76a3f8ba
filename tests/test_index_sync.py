"""Other tools change articles; the search index follows (m004's queue and ``indexing.sync``)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irarchive import migrations
from irarchive.store import indexing, open_archive
from irarchive.store.duplicates import title_hash

from .conftest import FIXTURES


def _vocab(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT term, doc, cnt FROM articles_fts_vocab ORDER BY term").fetchall()


def _fresh_vocab(path: Path, tmp_path: Path) -> list[tuple]:
    """The index's terms as a full rebuild from the articles makes them."""
    copy = tmp_path / "rebuilt.db"
    src = sqlite3.connect(path)
    dst = sqlite3.connect(copy, isolation_level=None)
    src.backup(dst)
    src.close()
    dst.execute("BEGIN")
    indexing.rebuild(dst)
    dst.execute("COMMIT")
    try:
        return _vocab(dst)
    finally:
        dst.close()


def _ids(result_json: list[dict]) -> list[str]:
    return [a["id"] for a in result_json]


def test_rows_inserted_by_sqlite3_are_indexed_and_slugged(cli, seeded, tmp_path):
    conn = sqlite3.connect(seeded)
    conn.execute(
        "INSERT INTO articles(id, title, excerpt, added_at) "
        "VALUES ('00000000000000aa', 'Quokka Diplomacy in Ashgabat', 'Marsupial envoys.', 'x')"
    )
    conn.commit()
    conn.close()
    r = cli("search", "quokka", "--json")
    assert r.code == 0, r.err
    found = [(a["id"], a["slug"]) for a in __import__("json").loads(r.out)]
    assert found == [("00000000000000aa", "quokka-diplomacy-ashgabat")]
    assert cli("db", "check").code == 0
    conn = sqlite3.connect(seeded)
    assert indexing.pending(conn) == 0
    assert _vocab(conn) == _fresh_vocab(seeded, tmp_path)


def test_rows_updated_and_deleted_by_sqlite3_never_break_search(cli, seeded, tmp_path):
    """Deleting with sqlite3 used to leave "database disk image is malformed" behind."""
    import json

    first = json.loads(cli("list", "--json").out)
    victim, renamed = first[0], first[1]
    conn = sqlite3.connect(seeded)
    conn.execute("DELETE FROM articles WHERE id = ?", (victim["id"],))
    conn.execute("UPDATE articles SET title = 'Zebra Summit' WHERE id = ?", (renamed["id"],))
    conn.commit()
    conn.close()
    word = victim["title"].split()[0]
    hits = json.loads(cli("search", victim["title"], "--json").out)
    assert victim["id"] not in _ids(hits), word
    assert _ids(json.loads(cli("search", "zebra", "--json").out)) == [renamed["id"]]
    # The old title is forgotten: a search for it matches the article's excerpt at most.
    for hit in json.loads(cli("search", renamed["title"], "--json").out):
        if hit["id"] == renamed["id"]:
            assert hit["matched"]["title"] == []
    r = cli("db", "check")
    assert (r.code, r.err) == (0, "")
    assert _vocab(sqlite3.connect(seeded)) == _fresh_vocab(seeded, tmp_path)


def test_rows_changed_with_sqlite_utils_are_indexed(cli, seeded):
    import json

    import sqlite_utils

    db = sqlite_utils.Database(seeded)
    table = db["articles"]
    table.insert({"id": "00000000000000bb", "title": "Okapi Corridor Talks", "added_at": "x"})
    table.update(table.last_pk, {"title": "Okapi Corridor Deal"})
    doomed = table.get(1)["id"]
    table.delete(1)
    db.close()
    hits = json.loads(cli("search", "okapi deal", "--json").out)
    assert [(a["id"], a["title"]) for a in hits] == [("00000000000000bb", "Okapi Corridor Deal")]
    assert "00000000000000bb" not in _ids(json.loads(cli("search", "talks", "--json").out))
    assert doomed not in _ids(json.loads(cli("list", "--json").out))
    assert cli("db", "check").code == 0


def test_a_read_only_archive_reports_changes_it_cannot_index_yet(cli, seeded):
    """The queue is replayed only by a writer; a reader says what is pending and how to fix it."""
    import json

    first = json.loads(cli("list", "--json").out)[0]
    conn = sqlite3.connect(seeded)
    conn.execute("DELETE FROM articles WHERE id = ?", (first["id"],))
    conn.commit()
    conn.close()
    archive = open_archive(str(seeded), readonly=True)
    try:
        assert archive.check() == [
            "full-text index: 1 change made by another tool is not indexed yet; "
            "open the archive once with write access (irarchive db check --repair)"
        ]
    finally:
        archive.close()
    assert cli("db", "check").code == 0  # writable: replayed on open
    assert indexing.pending(sqlite3.connect(seeded)) == 0


def test_import_replays_changes_made_while_the_archive_was_open(seeded, tmp_path):
    """A change committed by another tool between open and import reaches the index first."""

    archive = open_archive(str(seeded))
    try:
        other = sqlite3.connect(seeded)
        row = other.execute("SELECT id, title FROM articles ORDER BY rowid LIMIT 1").fetchone()
        other.execute("UPDATE articles SET title = 'Narwhal Pact' WHERE id = ?", (row[0],))
        other.commit()
        other.close()
        from irarchive.model import Article

        # The same article again, changed: the writer tells the index to forget the
        # row as the index holds it, which is only right once the queue is replayed.
        report = archive.import_items(
            [Article(title="Narwhal Pact Signed", given_id=row[0], excerpt="Changed.")]
        )
        assert (report.added, report.updated) == (0, 1)
        assert indexing.pending(archive.conn) == 0
    finally:
        archive.close()
    assert _vocab(sqlite3.connect(seeded)) == _fresh_vocab(seeded, tmp_path)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "update", "delete", "rowid", "excerpt"]),
        st.integers(0, 15),
        st.sampled_from(
            [
                "Aral Sea",
                "U.S.–China talks",
                "Turkey’s grain",
                "indo-pacific",
                "",
                "km² 0² x\u0378y 5\u0301",
            ]
        ),
    ),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_any_sequence_of_foreign_changes_leaves_the_index_as_a_rebuild(
    seeded_template, tmp_path_factory, ops
):
    tmp = tmp_path_factory.mktemp("ops")
    path = tmp / "a.db"
    shutil.copyfile(seeded_template, path)
    open_archive(str(path)).close()  # migrated, WAL
    conn = sqlite3.connect(path)
    for n, (op, pick, text) in enumerate(ops):
        rowids = [r[0] for r in conn.execute("SELECT rowid FROM articles ORDER BY rowid")]
        target = rowids[pick % len(rowids)] if rowids else None
        if op == "insert" or target is None:
            conn.execute(
                "INSERT INTO articles(id, title, excerpt, added_at) VALUES (?, ?, ?, 'x')",
                (f"{n:016x}", text or "Untitled", text),
            )
        elif op == "update":
            conn.execute("UPDATE articles SET title = ? WHERE rowid = ?", (text or "T", target))
        elif op == "excerpt":
            conn.execute("UPDATE articles SET excerpt = ? WHERE rowid = ?", (text or None, target))
        elif op == "rowid":
            conn.execute(
                "UPDATE articles SET rowid = (SELECT max(rowid) + 1 FROM articles) WHERE rowid = ?",
                (target,),
            )
        else:
            conn.execute("DELETE FROM articles WHERE rowid = ?", (target,))
    conn.commit()
    conn.close()
    archive = open_archive(str(path))
    try:
        assert indexing.pending(archive.conn) == 0
        assert archive.check() == []
        got = _vocab(archive.conn)
        vocab = archive.conn.execute("SELECT term, df FROM vocab ORDER BY term").fetchall()
    finally:
        archive.close()
    assert got == _fresh_vocab(path, tmp)
    fresh = sqlite3.connect(tmp / "rebuilt.db")
    assert vocab == fresh.execute("SELECT term, df FROM vocab ORDER BY term").fetchall()


def test_upgrade_from_the_released_schema_keeps_everything(tmp_path, cli, monkeypatch):
    """archive-v3.db was written by the released irarchive (schema 3, before curation)."""
    import json

    path = tmp_path / "v3.db"
    shutil.copyfile(FIXTURES / "archive-v3.db", path)
    before = sqlite3.connect(path)
    cursor = before.execute("SELECT * FROM articles ORDER BY rowid")
    rows = cursor.fetchall()
    columns = ", ".join(d[0] for d in cursor.description)
    sources = before.execute("SELECT * FROM sources").fetchall()
    before.close()
    archive = open_archive(str(path))
    try:
        assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
        got = archive.conn.execute(f"SELECT {columns} FROM articles ORDER BY rowid").fetchall()
        assert got == rows
        # m008 gave every article its title key.
        keys = archive.conn.execute("SELECT title, title_key FROM articles").fetchall()
        assert keys and all(key == title_hash(title) for title, key in keys)
        assert archive.conn.execute("SELECT * FROM sources").fetchall() == sources
        assert archive.check() == []
    finally:
        archive.close()
    monkeypatch.setenv("IRARCHIVE_DB", str(path))
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM articles WHERE title = 'Energy Notes'")
    conn.commit()
    conn.close()
    hits = json.loads(cli("search", "energy notes", "--json").out)
    assert "Energy Notes" not in [a["title"] for a in hits]
    assert cli("db", "check").code == 0


@pytest.mark.parametrize("version", [1, 3])
def test_every_released_schema_upgrades_to_one_with_the_triggers(tmp_path, version):
    name = {1: "archive-v1.db", 3: "archive-v3.db"}[version]
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    open_archive(str(path)).close()
    conn = sqlite3.connect(path)
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert {"articles_queue_insert", "articles_queue_delete", "articles_queue_update"} <= triggers
    assert conn.execute("SELECT count(*) FROM irarchive_writing").fetchone()[0] == 0


@pytest.mark.parametrize("deleted", [8, 9])
def test_a_bulk_change_by_another_tool_is_rebuilt_in_one_pass(
    seeded, monkeypatch, deleted, tmp_path
):
    """Above REBUILD_AT queued rows (and a quarter of the archive) the index is rebuilt."""
    calls = []
    real = indexing.rebuild
    monkeypatch.setattr(indexing, "REBUILD_AT", 8)
    monkeypatch.setattr(indexing, "rebuild", lambda conn: calls.append(1) or real(conn))
    conn = sqlite3.connect(seeded)
    conn.execute(
        "DELETE FROM articles WHERE rowid IN (SELECT rowid FROM articles ORDER BY rowid LIMIT ?)",
        (deleted,),
    )
    conn.commit()
    conn.close()
    archive = open_archive(str(seeded))
    try:
        assert archive.check() == []
        assert archive.count() == 10 - deleted
    finally:
        archive.close()
    assert calls == ([1] if deleted > 8 else [])
    assert _vocab(sqlite3.connect(seeded)) == _fresh_vocab(seeded, tmp_path)


def test_a_committed_writer_mark_is_reported(seeded):
    conn = sqlite3.connect(seeded)
    conn.execute("INSERT INTO irarchive_writing(one) VALUES (1)")
    conn.commit()
    conn.close()
    archive = open_archive(str(seeded))
    try:
        assert archive.check() == [
            "irarchive_writing holds a committed row, so changes other tools make skip "
            "the index queue: delete it (irarchive db check --repair)"
        ]
    finally:
        archive.close()


def test_repair_removes_a_committed_writer_mark_so_changes_queue_again(cli, seeded):
    conn = sqlite3.connect(seeded)
    conn.execute("INSERT INTO irarchive_writing(one) VALUES (1)")
    conn.commit()
    conn.close()
    r = cli("db", "check", "--repair")
    assert r.code == 0, r.err
    assert "repaired: index queue: removed a committed writer mark" in r.err
    conn = sqlite3.connect(seeded)
    assert conn.execute("SELECT count(*) FROM irarchive_writing").fetchone()[0] == 0
    conn.execute("DELETE FROM articles WHERE rowid = (SELECT min(rowid) FROM articles)")
    conn.commit()
    assert indexing.pending(conn) == 1  # another tool's change is queued again
    conn.close()
    assert cli("db", "check").code == 0


def _vocab_indexes(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'vocab' "
        "AND sql IS NOT NULL ORDER BY name"
    )
    return [r[0] for r in rows]


def test_a_full_vocabulary_rebuild_keeps_its_indexes(cli, seeded, tmp_path):
    """Above VOCAB_REBUILD_AT queued rows the vocabulary is rebuilt whole, without its
    indexes and then indexed again: the same indexes as the migrations make."""
    conn = sqlite3.connect(seeded)
    rows = [
        (f"{i:016x}", f"Walrus summit number {i} in Tashkent", "Tusks.", "x")
        for i in range(indexing.VOCAB_REBUILD_AT + 5)
    ]
    conn.executemany("INSERT INTO articles(id, title, excerpt, added_at) VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    r = cli("search", "walrsu", "--json", "-n", "1")  # a typo: read through the indexes
    assert r.code == 0, r.err
    assert "Walrus summit" in __import__("json").loads(r.out)[0]["title"]
    conn = sqlite3.connect(seeded)
    assert indexing.pending(conn) == 0
    assert _vocab_indexes(conn) == sorted(migrations.VOCAB_INDEXES, key=lambda s: s.split()[2])
    assert _vocab(conn) == _fresh_vocab(seeded, tmp_path)
    assert cli("db", "check").code == 0


def test_a_correction_reads_the_vocabulary_by_index_never_whole(seeded):
    """Each vocabulary read of a correction seeks an index by length (m007): at a
    million articles a scan of the words sharing a first letter cost ~11 ms a word."""
    archive = open_archive(str(seeded), create=False)
    real = archive.conn
    reads: list[tuple[str, tuple]] = []

    class Spy:  # the statements as run, with their parameters unexpanded
        def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
            reads.append((sql, params))
            return real.execute(sql, params)

    archive.conn = Spy()  # type: ignore[assignment]
    try:
        for min_df, lead in ((2, 1), (1, 2)):
            archive.vocab_near("kazakstan", 2, min_df=min_df, lead=lead)
        assert len(reads) == 4
        plans = [
            " ".join(r[-1] for r in real.execute("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in reads
        ]
    finally:
        archive.conn = real
        archive.close()
    assert "INDEX vocab_common (<expr>=? AND term>? AND term<?)" in plans[0], plans
    assert "INDEX vocab_k2 (<expr>=? AND <expr>=?" in plans[1], plans
    assert "PRIMARY KEY (term>? AND term<?)" in plans[2], plans
    assert "INDEX vocab_k2 (<expr>=? AND <expr>=?" in plans[3], plans
    assert not any("SCAN" in p for p in plans), plans
