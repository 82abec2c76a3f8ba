"""Reliability by class: archives whose schema is not the one irarchive made.

Foreign objects planted in a real archive (triggers, views, tables, indexes) are
named by ``db check``; a foreign trigger stops every import before it can run.
Files carrying irarchive's application id but not its schema, and bad schema
versions, are refused byte for byte unchanged.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path

import pytest

from irarchive import migrations
from tests.conftest import digest


def plant(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.executescript(sql)
    conn.close()


FOREIGN = {
    "trigger-after-insert": (
        "trigger",
        "evil",
        "CREATE TRIGGER evil AFTER INSERT ON articles BEGIN "
        "DELETE FROM articles WHERE rowid <> new.rowid; END;",
    ),
    "trigger-before-update": (
        "trigger",
        "evil2",
        "CREATE TRIGGER evil2 BEFORE UPDATE ON articles BEGIN DELETE FROM articles; END;",
    ),
    "trigger-on-vocab": (
        "trigger",
        "evil3",
        "CREATE TRIGGER evil3 AFTER INSERT ON vocab BEGIN DELETE FROM articles; END;",
    ),
    "view": ("view", "v", "CREATE VIEW v AS SELECT title FROM articles;"),
    "table": ("table", "my_notes", "CREATE TABLE my_notes(x);"),
    "index": ("index", "articles_title", "CREATE INDEX articles_title ON articles(title);"),
    "changed-index": (
        "index",
        "articles_date",
        "DROP INDEX articles_date; CREATE INDEX articles_date ON articles(date_end);",
    ),
}


@pytest.mark.parametrize("member", list(FOREIGN))
def test_db_check_names_every_foreign_object(seeded, cli, member):
    kind, name, sql = FOREIGN[member]
    plant(seeded, sql)
    r = cli("db", "check")
    assert r.code == 1, r
    assert f"{kind} '{name}'" in r.err, r
    assert "Traceback" not in r.err
    # Reads still work.
    assert cli("list", "--json").code == 0


@pytest.mark.parametrize("member", [m for m in FOREIGN if m.startswith("trigger")])
@pytest.mark.parametrize("dry_run", [False, True])
def test_imports_refuse_to_run_foreign_triggers(tmp_path, seeded, cli, member, dry_run):
    kind, name, sql = FOREIGN[member]
    plant(seeded, sql)
    before = digest(seeded)
    src = tmp_path / "new.jsonl"
    src.write_text(
        "\n".join(json.dumps({"title": f"New {i}", "date": "2023-01-0{i}"}) for i in range(1, 4))
    )
    r = cli("import", str(src), *(["--dry-run"] if dry_run else []))
    assert r.code == 1, r
    assert r.err.count("\n") == 1 and r.err.startswith("Error: "), r
    assert f"'{name}'" in r.err and "irarchive db check" in r.err, r
    assert digest(seeded) == before


def test_an_archive_exactly_as_made_passes(seeded, cli):
    r = cli("db", "check")
    assert r.code == 0 and r.out.startswith("ok: 10 articles"), r


# ---- files carrying our application id, and bad schema versions -------------------------


def _ours(path: Path, sql: str, version: int) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


IMPOSTORS = {
    "no-tables-v1": ("", 1),
    "other-table-v1": ("CREATE TABLE t(x); INSERT INTO t VALUES (1);", 1),
    "articles-other-columns": ("CREATE TABLE articles(id, title);", 1),
    "other-table-v0": ("CREATE TABLE t(x); INSERT INTO t VALUES (1);", 0),
}


@pytest.mark.parametrize("member", list(IMPOSTORS))
def test_a_foreign_file_with_our_application_id_is_left_byte_for_byte(tmp_path, cli, member):
    sql, version = IMPOSTORS[member]
    path = tmp_path / "impostor.db"
    _ours(path, sql, version)
    before = path.read_bytes()
    for command in (("list",), ("db", "check"), ("db", "info")):
        r = cli("--db", str(path), *command)
        assert r.code == 1, r
        assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r
        assert "left untouched" in r.err, r
        assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


@pytest.mark.parametrize("version", [-1, -2, -(2**31), 2, 2**31 - 1])
def test_schema_versions_out_of_range_are_refused(seeded, cli, version):
    gc.collect()  # the in-process CLI's own connection from creating the archive
    conn = sqlite3.connect(seeded)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = seeded.read_bytes()
    r = cli("list")
    assert r.code == 1, r
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r
    assert seeded.read_bytes() == before


def test_the_kept_latest_schema_is_what_the_migrations_make():
    """Opening an archive compares it with ``store/schema_latest.py`` instead of running
    every migration in memory; that file must be what the migrations make (after a new
    migration: python tests/fixtures/make_schema_latest.py)."""
    from irarchive import migrations
    from irarchive.store import schema_latest
    from irarchive.store.opening import built_schema, expected_schema

    assert schema_latest.VERSION == migrations.LATEST
    assert schema_latest.SCHEMA == built_schema(migrations.LATEST)
    assert expected_schema(migrations.LATEST) is schema_latest.SCHEMA
    assert expected_schema(migrations.LATEST - 1) == built_schema(migrations.LATEST - 1)
