"""The full-text index answers phrases: in sqlite-utils, plain Datasette and irarchive.

Tools that quote what people type send phrases to FTS5: ``china's`` becomes
``"china's"``, which SQLite tokenises as the phrase ``china s``; ``U.S.`` becomes
``u s`` and ``indo-pacific`` becomes ``indo pacific``. The index (migration m005)
keeps word positions and holds each title's words as written, in order, so those
phrases match; irarchive's own folded words (``chinas``, ``us``, ``indopacific``)
meet the joined forms indexed after them.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from irarchive import migrations, sources
from irarchive.model import base_slug
from irarchive.search import search
from irarchive.store import open_archive
from irarchive.store.opening import schema_differences
from irarchive.text import index_text, title_initials

CHINA = "China’s and India’s Summits with Central Asia"
NAVY = "The Indo-Pacific Strategy of the U.S. Navy"
GAS = "U.S. Sanctions on Russian Gas"
BANK = "Asia Central Bank Reports"
TURKEY = "Turkey's Summit in Ankara"
RECORDS = [
    {"title": CHINA, "date": "2022-03-14", "excerpt": "Leaders met in Ashgabat."},
    {"title": NAVY, "date": "2023-01-10", "excerpt": "Ships of the fleet."},
    {"title": GAS, "date": "2023-02-11", "excerpt": "Sanctions on the pipeline."},
    {"title": BANK, "date": "2023-03-12", "excerpt": "Rates held at 5%."},
    {"title": TURKEY, "date": "2023-04-01", "excerpt": "A summit of neighbours."},
    {"title": "O'Neill Visits Kabul", "date": "2023-05-02"},
]

#: What people type, and the titles each must find (in any order).
ORDINARY = [
    ("china's", {CHINA}),
    ("China’s", {CHINA}),
    ("CHINA’S summits", {CHINA}),
    ("indo-pacific", {NAVY}),
    ("Indo-Pacific strategy", {NAVY}),
    ("U.S.", {NAVY, GAS}),
    ("u.s. navy", {NAVY}),
    ('"central asia"', {CHINA}),
    ('"asia central"', {BANK}),
    ('"U.S. Navy"', {NAVY}),
    ('"of the U.S."', {NAVY}),
    ("turkey's summit", {TURKEY}),
]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    path = tmp_path / "phrases.db"
    archive = open_archive(str(path))
    try:
        archive.import_items(sources.read(str(_write(tmp_path / "in.jsonl", RECORDS))))
    finally:
        archive.close()
    return path


@pytest.mark.parametrize(("query", "expected"), ORDINARY)
def test_sqlite_utils_search_answers_ordinary_input(
    archive_path: Path, query: str, expected: set[str]
) -> None:
    """``table.search(q, quote=True)``: the API behind ``sqlite-utils search --quote``."""
    import sqlite_utils

    db = sqlite_utils.Database(str(archive_path))
    try:
        table = db["articles"]
        assert table.detect_fts() == "articles_fts"
        assert {row["title"] for row in table.search(query, quote=True)} == expected
    finally:
        db.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("china's", {CHINA}), ("U.S.", {NAVY, GAS}), ('"central asia"', {CHINA})],
)
def test_sqlite_utils_cli_search(archive_path: Path, query: str, expected: set[str]) -> None:
    from click.testing import CliRunner
    from sqlite_utils.cli import cli

    result = CliRunner().invoke(
        cli, ["search", str(archive_path), "articles", query, "--quote", "-c", "title"]
    )
    assert result.exit_code == 0, result.output
    assert {row["title"] for row in json.loads(result.output)} == expected


def _datasette_titles(path: Path, query: str) -> list[str]:
    """Titles plain Datasette finds for ``query``: its own quoting, sent as a raw query.

    With irarchive installed, its plugin folds the search box's words; Datasette's
    ``_searchmode=raw`` bypasses that, so quoting with Datasette's ``escape_fts``
    sends exactly what Datasette without the plugin sends to the index.
    """
    from datasette.app import Datasette
    from datasette.utils import escape_fts

    ds = Datasette(files=[str(path)])

    async def fetch() -> Any:
        await ds.invoke_startup()
        q = quote(escape_fts(query))
        return await ds.client.get(
            f"/{path.stem}/articles.json?_search={q}&_searchmode=raw&_shape=array&_col=title"
        )

    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()]


@pytest.mark.parametrize(("query", "expected"), ORDINARY)
def test_plain_datasette_search_answers_ordinary_input(
    archive_path: Path, query: str, expected: set[str]
) -> None:
    assert set(_datasette_titles(archive_path, query)) == expected


@pytest.mark.parametrize(("query", "expected"), ORDINARY)
def test_irarchive_search_answers_the_same_input(
    archive_path: Path, query: str, expected: set[str]
) -> None:
    archive = open_archive(str(archive_path), readonly=True)
    try:
        found = {h.article["title"] for h in search(archive, query).hits}
    finally:
        archive.close()
    assert expected <= found


def test_irarchive_phrase_keeps_words_together(archive_path: Path) -> None:
    archive = open_archive(str(archive_path), readonly=True)
    try:
        together = {h.article["title"] for h in search(archive, '"central asia"').hits}
        apart = {h.article["title"] for h in search(archive, "central asia").hits}
        stop_words = [h.article["title"] for h in search(archive, "of the").hits]
    finally:
        archive.close()
    assert together == {CHINA}
    assert apart == {CHINA, BANK}
    # Only common words: they must stand together in a title.
    assert stop_words == [NAVY]


# ---- upgrading an archive made before m005 ---------------------------------------------


def _old_fts_title(title: str) -> str:
    """How archives before m005 indexed a title: folded text, possessives dropped."""
    initials = title_initials(title)
    return index_text(title) + (" " + " ".join(initials) if initials else "")


def _make_v3_archive(path: Path, records: list[dict[str, Any]]) -> None:
    """An archive as irarchive made it at schema 3 (detail=column, folded titles).

    Written with SQL, as that version wrote it: today's writer knows only today's
    indexes.
    """
    from irarchive.dates import date_range

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for step in migrations.MIGRATIONS[:3]:
            step(conn)
        conn.execute("PRAGMA user_version = 3")
        conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
        jsonl = _write(path.with_suffix(".jsonl"), records)
        ids = [a.article_id() for a in sources.read(str(jsonl))]
        for rowid, (r, article_id) in enumerate(zip(records, ids, strict=True), 1):
            start, end = date_range(r["date"])
            conn.execute(
                "INSERT INTO articles(rowid, id, slug, title, date, date_start, date_end, "
                "excerpt, category, source, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rowid,
                    article_id,
                    base_slug(r["title"]),
                    r["title"],
                    r["date"],
                    start,
                    end,
                    r.get("excerpt"),
                    None,
                    jsonl.name,
                    "2024-01-01T00:00:00Z",
                ),
            )
            conn.execute(
                "INSERT INTO articles_fts(rowid, title, excerpt) VALUES (?, ?, ?)",
                (rowid, _old_fts_title(r["title"]), r.get("excerpt") or ""),
            )
        conn.execute(
            "INSERT INTO vocab(term, df) SELECT term, doc FROM articles_fts_vocab "
            "WHERE length(term) BETWEEN 2 AND 40"
        )
        conn.execute("COMMIT")
        assert (
            "detail=column"
            in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()[
                0
            ]
        )
    finally:
        conn.close()


def test_upgrade_from_schema_3_rebuilds_the_index(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    _make_v3_archive(path, RECORDS)
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.OperationalError, match="phrase queries are not supported"):
            conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"u s\"'")
    conn.close()

    archive = open_archive(str(path))
    try:
        conn = archive.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
        assert schema_differences(conn, migrations.LATEST) == []
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()
        assert "detail=full" in sql[0]
        assert archive.check() == []
        assert archive.count() == len(RECORDS)
        # Every article is in the new index, with the words as written, in order.
        phrase = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
        assert conn.execute(phrase, ('"u s"',)).fetchone()[0] == 2
        assert conn.execute(phrase, ('"china s"',)).fetchone()[0] == 1
        assert conn.execute(phrase, ('"turkey s summit"',)).fetchone()[0] == 1
        assert conn.execute(phrase, ("indopacific",)).fetchone()[0] == 1
        assert conn.execute(phrase, ("ashgabat",)).fetchone()[0] == 1
        # The typo-correction word list was refreshed from the new index ("neill" is
        # new: the old index held only the joined "oneill").
        assert conn.execute("SELECT df FROM vocab WHERE term = 'neill'").fetchone() == (1,)
        assert {h.article["title"] for h in search(archive, "U.S.").hits} == {NAVY, GAS}
        assert [h.article["title"] for h in search(archive, "ashgabt").hits] == [CHINA]
    finally:
        archive.close()
    assert _datasette_titles(path, "china's") == [CHINA]


def test_updates_after_the_upgrade_keep_the_index_in_step(tmp_path: Path) -> None:
    """An edited article is deleted from the index as m005 indexed it, then re-added."""
    path = tmp_path / "v3.db"
    _make_v3_archive(path, RECORDS)
    archive = open_archive(str(path))
    try:
        edited = [{**RECORDS[1], "excerpt": "Carriers of the fleet."}]
        report = archive.import_items(sources.read(str(_write(tmp_path / "e.jsonl", edited))))
        assert (report.added, report.updated) == (0, 1)
        assert archive.check() == []
        conn = archive.conn
        phrase = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
        assert conn.execute(phrase, ('"carriers of the fleet"',)).fetchone()[0] == 1
        assert conn.execute(phrase, ('"ships of the fleet"',)).fetchone()[0] == 0
        assert conn.execute(phrase, ('"the indo pacific"',)).fetchone()[0] == 1
        # The title-only index was told to forget the old entry before the new one.
        conn.execute("CREATE VIRTUAL TABLE temp.tv USING fts5vocab(main, titles_fts, 'row')")
        assert conn.execute("SELECT doc, cnt FROM temp.tv WHERE term = 'indo'").fetchone() == (1, 1)
        titles = "SELECT count(*) FROM titles_fts WHERE titles_fts MATCH ?"
        assert conn.execute(titles, ('"the indo pacific"',)).fetchone()[0] == 1
    finally:
        archive.close()


def test_unindex_removes_an_article_from_both_indexes(archive_path: Path) -> None:
    """What an update does to the indexes: forget the old text, then add the new."""
    from irarchive.store import indexing
    from irarchive.store.duplicates import title_hash
    from irarchive.store.writer import fts_title, index, unindex

    archive = open_archive(str(archive_path))
    try:
        conn = archive.conn
        rowid, title, excerpt = conn.execute(
            "SELECT rowid, title, excerpt FROM articles WHERE title = ?", (BANK,)
        ).fetchone()
        conn.execute("BEGIN")
        with indexing.writing(conn):  # the writer keeps the index: no queued change
            unindex(conn, rowid, title, excerpt)
            new_title = "Asia Reserve Bank Reports"
            index(conn, [(rowid, fts_title(new_title), excerpt)])
            conn.execute(  # and the title key, as the writer does (m008)
                "UPDATE articles SET title = ?, title_key = ? WHERE rowid = ?",
                (new_title, title_hash(new_title), rowid),
            )
        conn.execute("COMMIT")
        for table in ("articles_fts", "titles_fts"):
            found = f"SELECT rowid FROM {table} WHERE {table} MATCH ?"
            assert conn.execute(found, ('"central bank"',)).fetchall() == []
            assert conn.execute(found, ('"reserve bank"',)).fetchall() == [(rowid,)]
        assert archive.check() == []
    finally:
        archive.close()


@pytest.mark.parametrize("writer", ["same", "other"])
def test_filtered_search_sees_articles_added_since(
    archive_path: Path, tmp_path: Path, writer: str
) -> None:
    """The filter's article list is reused between passes, never across a change."""
    from datetime import date

    from irarchive.dates import parse_period
    from irarchive.store import Filters

    filters = Filters(period=parse_period("2023-03", today=date(2024, 1, 1)))
    reader = open_archive(str(archive_path))
    try:
        assert [h.article["title"] for h in search(reader, "bank", filters=filters).hits] == [BANK]
        new = [{"title": "Central Bank of Asia Cuts Rates", "date": "2023-03-20"}]
        items = sources.read(str(_write(tmp_path / "new.jsonl", new)))
        if writer == "same":
            reader.import_items(items)
        else:
            other = open_archive(str(archive_path))
            try:
                other.import_items(items)
            finally:
                other.close()
        found = {h.article["title"] for h in search(reader, "bank", filters=filters).hits}
    finally:
        reader.close()
    assert found == {BANK, "Central Bank of Asia Cuts Rates"}


def test_a_possessive_counts_where_it_stands_in_the_title(tmp_path: Path) -> None:
    """ "sydney's respond": the title with "Sydney’s … respond" beats "Sydneysiders respond".

    The possessive as typed matches the joined form indexed after the title's words;
    its place for "words together" is where the title has it.
    """
    path = tmp_path / "p.db"
    records = [
        {"title": "Urban water usage: Sydneysiders respond", "date": "2004-10-22"},
        {"title": "Sydney’s Muslim youth respond to Govt plan", "date": "2015-03-21"},
    ]
    archive = open_archive(str(path))
    try:
        archive.import_items(sources.read(str(_write(tmp_path / "p.jsonl", records))))
        hits = search(archive, "sydney's respond").hits
    finally:
        archive.close()
    assert [h.article["title"] for h in hits] == [records[1]["title"], records[0]["title"]]
    # --explain: "sydneys" is word 1 and "respond" word 4, two words between.
    assert "words together in title: 50%" in hits[0].why


def test_upgrade_forgets_changes_queued_for_the_old_index(tmp_path: Path) -> None:
    """A queue of changes for the old index (curation's m004) is done with after m005."""
    path = tmp_path / "v3.db"
    _make_v3_archive(path, RECORDS)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE index_queue (seq INTEGER PRIMARY KEY, row INTEGER NOT NULL, "
            "old_title TEXT, old_excerpt TEXT, was_indexed INTEGER NOT NULL)"
        )
        conn.execute("INSERT INTO index_queue(row, old_title, was_indexed) VALUES (1, 'x', 1)")
    conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrations.m005_index_positions(conn)
    finally:
        conn.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0
        found = "SELECT count(*) FROM titles_fts WHERE titles_fts MATCH '\"u s\"'"
        assert conn.execute(found).fetchone()[0] == 2
    conn.close()
