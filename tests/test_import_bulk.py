"""A bulk load (an import into an empty archive) builds the same archive as any other
import of the same file: every column, alias, tag, note, acronym, word of the
vocabulary and search result, and ``db check`` passes on both."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from irarchive.sources import read
from irarchive.store import open_archive
from irarchive.store.writer import BulkKeys

NOW = "2024-05-06T07:08:09Z"
WORDS = ["energy", "security", "turkic", "summit", "caspian", "grain", "water", "trade"]


def records() -> list[dict]:
    """Three batches' worth, with every case the writer treats apart."""
    out: list[dict] = []
    for i in range(2600):
        w = WORDS[i % len(WORDS)]
        rec: dict = {
            "title": f"{w.title()} talks {i // 3} in Central Asia",  # shared slugs
            "date": f"20{10 + i % 12}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "excerpt": f"The {w} question, part {i}: {WORDS[(i * 7) % len(WORDS)]} and more.",
            "category": ["Energy", "Security", "Trade"][i % 3],
        }
        if i % 5 == 0:
            rec["url"] = f"https://example.invalid/{i}"
        if i % 11 == 0:
            del rec["date"]  # undated
        if i % 13 == 0:
            rec["title"] = f"Shanghai Cooperation Organisation (SCO) summit nº {i}"
        if i % 17 == 0:
            rec["title"] = f"Türkiye–Kazakhstan Çooperation {i}"
        if i % 19 == 0:
            rec["id"] = f"{i:016x}"
            rec["tags"] = ["energy", "to-read"]
            rec["notes"] = [{"created_at": "2024-01-01T00:00:00Z", "text": f"note {i}"}]
        out.append(rec)
    out.append(dict(out[10]))  # the same record again: unchanged
    out.append({**out[20], "excerpt": "Another text for the same identity."})  # alt id
    out.append({**out[1500], "excerpt": "Changed in a later batch."})
    out.append(dict(out[2400]))
    return out


def load(tmp_path: Path, name: str, path: Path, *, bulk: bool) -> tuple[Path, list[str]]:
    db = tmp_path / name
    archive = open_archive(str(db))  # new and empty
    statements: list[str] = []
    try:
        archive.bulk_loads = bulk
        archive.conn.set_trace_callback(statements.append)
        report = archive.import_items(read(str(path)), now=NOW)
        archive.conn.set_trace_callback(None)
        assert report.rejected_count == 0
        assert archive.check() == []
    finally:
        archive.close()
    return db, statements


def content(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        out = {
            table: conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
            for table in ("articles", "notes")
        }
        for table in (
            "tags",
            "aliases",
            "acronyms",
            "vocab",
            "articles_fts_config",
            "titles_fts_config",
        ):
            out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        out["schema"] = conn.execute(
            # (a bulk load also runs PRAGMA optimize, which may add sqlite_stat1)
            "SELECT type, name, sql FROM sqlite_master WHERE name != 'sqlite_stat1' ORDER BY name"
        ).fetchall()
        for word in [*WORDS, "sco", "turkiye", "kazakhstan", "talks", "central asia"]:
            for table in ("articles_fts", "titles_fts"):
                out[f"{table} {word}"] = conn.execute(
                    f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rank, rowid",
                    (f'"{word}"',),
                ).fetchall()
        return out
    finally:
        conn.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def normal(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    db, statements = load(tmp_path_factory.mktemp("normal"), "n.db", source, bulk=False)
    assert not any("irarchive_bulk" in s for s in statements)  # it did take the other path
    return content(db)


def test_a_bulk_load_builds_the_same_archive_as_a_normal_import(tmp_path, source, normal):
    db, statements = load(tmp_path, "b.db", source, bulk=True)
    assert any("DROP INDEX articles_id" in s for s in statements)  # it was a bulk load
    got = content(db)
    assert len(got["articles"]) > 2500 and got["tags"] and got["notes"] and got["acronyms"]
    assert got.keys() == normal.keys()
    for part, rows in normal.items():
        assert got[part] == rows, part


@pytest.mark.parametrize("when", ["at once", "in a later batch", "past the memory bound"])
def test_ids_or_slugs_sharing_a_hash_fall_back_to_the_index(
    tmp_path, source, normal, monkeypatch, when
):
    """Two texts with one hash (or more articles than the in-memory look-up may hold):
    the bulk load builds the unique indexes there and then and goes on with them; the
    archive is the same as ever."""
    if when == "past the memory bound":
        monkeypatch.setattr(BulkKeys, "LIMIT", 1500)
    elif when == "at once":
        monkeypatch.setattr(BulkKeys, "hash_text", staticmethod(lambda text: 7))
    else:
        # An id of the first batch and one of the third collide.
        items = list(read(str(source)))
        pair = {items[5].article_id(), items[2300].article_id()}
        monkeypatch.setattr(
            BulkKeys, "hash_text", staticmethod(lambda text: 7 if text in pair else hash(text))
        )
    db, statements = load(tmp_path, "c.db", source, bulk=True)
    rebuilt = [n for n, s in enumerate(statements) if s.startswith("CREATE UNIQUE INDEX")]
    inserts = [n for n, s in enumerate(statements) if s.startswith("INSERT INTO articles(")]
    assert rebuilt and rebuilt[0] < inserts[-1]  # built during the load, not at its end
    if when != "at once":
        assert rebuilt[0] > inserts[0]
    got = content(db)
    for part, rows in normal.items():
        assert got[part] == rows, part
