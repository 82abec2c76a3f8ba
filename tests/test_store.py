"""The archive file: seed, schema and migrations, locations, creation."""

from __future__ import annotations

import json
import sqlite3

import pytest
import sqlite_utils

from irarchive import migrations, seed
from irarchive.errors import ArchiveError, NewerSchema
from irarchive.store import EXPECTED_COLUMNS, Filters, open_archive
from tests.conftest import ROOT, run_cli

SEED_JSON = ROOT / "data" / "seed.json"
LISTING = ROOT / "data" / "listings" / "international-relations-listing.txt"


def test_committed_seed_equals_a_fresh_generation():
    assert SEED_JSON.read_text("utf-8") == seed.render_seed(str(LISTING))


def test_seed_has_ten_articles_with_expected_range():
    records = json.loads(SEED_JSON.read_text("utf-8"))
    assert len(records) == 10
    assert min(r["date"] for r in records) == "2021-12-27"
    assert max(r["date"] for r in records) == "2022-11-01"
    assert {r["category"] for r in records} == {"International Relations"}
    assert len({r["id"] for r in records}) == 10


def test_seed_text_is_what_the_package_ships():
    assert json.loads(seed.seed_text()) == json.loads(SEED_JSON.read_text("utf-8"))


def test_schema_shape(tmp_path):
    archive = open_archive(str(tmp_path / "a.db"))
    db = sqlite_utils.Database(archive.conn)
    assert db["articles"].columns_dict == EXPECTED_COLUMNS
    assert set(db.table_names()) >= {"articles", "articles_fts", "titles_fts", "vocab", "acronyms"}
    indexes = {i.name for i in db["articles"].indexes}
    assert indexes == {
        "articles_id",
        "articles_slug",
        "articles_date",
        "articles_category",
        "articles_url",
        "articles_title_key",
    }
    assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert archive.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000


def test_fresh_archive_is_at_latest_version_and_reopens(tmp_path):
    path = str(tmp_path / "a.db")
    archive = open_archive(path, seed=seed.load_seed)
    assert archive.created
    assert archive.count() == 10
    version = archive.conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == migrations.LATEST
    archive.close()
    again = open_archive(path, seed=seed.load_seed)
    assert not again.created
    assert again.count() == 10
    assert again.check() == []


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "a.db"
    open_archive(str(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerSchema) as info:
        open_archive(str(path))
    assert "written by a newer irarchive (schema 99" in str(info.value)
    assert path.read_bytes() == before


def test_migrations_run_in_order_from_an_older_version(tmp_path, monkeypatch):
    """A later migration is applied on open, exactly once, inside a transaction."""
    path = str(tmp_path / "a.db")
    open_archive(path).close()
    calls = []

    def m_next_add_table(conn):
        if conn.execute("PRAGMA database_list").fetchone()[2]:  # not the in-memory model
            calls.append(1)
        conn.execute("CREATE TABLE m_next_table (x TEXT)")

    latest = migrations.LATEST
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m_next_add_table])
    monkeypatch.setattr(migrations, "LATEST", latest + 1)
    archive = open_archive(path)
    assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == latest + 1
    archive.close()
    open_archive(path).close()
    assert calls == [1]


def test_failing_migration_rolls_back(tmp_path, monkeypatch):
    path = str(tmp_path / "a.db")
    open_archive(path).close()

    def m_next_broken(conn):
        conn.execute("CREATE TABLE half (x TEXT)")
        raise RuntimeError("boom")

    latest = migrations.LATEST
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m_next_broken])
    monkeypatch.setattr(migrations, "LATEST", latest + 1)
    with pytest.raises(RuntimeError):
        open_archive(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0


def _listing_plans(archive, filters: Filters) -> list[str]:
    """The query plan of every statement a page of the listing further down runs."""
    statements: list[str] = []
    archive.conn.set_trace_callback(statements.append)
    try:
        list(archive.list_articles(filters, limit=3, offset=2))  # among the dated ones
    finally:
        archive.conn.set_trace_callback(None)
    return [
        row[3]
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
        for row in archive.conn.execute("EXPLAIN QUERY PLAN " + sql)
    ]


@pytest.mark.parametrize("since", [None, "2022-01-01"])
def test_a_page_of_the_listing_follows_the_date_index_without_sorting(tmp_path, since):
    # Newest first, ties by id, is the index's own order (m009): a page further down
    # skips the rows before it in the index, not by reading and sorting them all.
    from datetime import date

    from irarchive.dates import Period

    archive = open_archive(str(tmp_path / "a.db"), seed=seed.load_seed)
    period = Period(date.fromisoformat(since), date(9999, 12, 31)) if since else None
    plans = _listing_plans(archive, Filters(period=period))
    assert any("articles_date" in p for p in plans), plans
    assert not any("TEMP B-TREE" in p for p in plans), plans


def test_m009_puts_the_id_in_the_date_index_of_an_older_archive(tmp_path):
    path = str(tmp_path / "a.db")
    archive = open_archive(path, seed=seed.load_seed)
    before = [a["id"] for a in archive.list_articles()]
    archive.close()
    conn = sqlite3.connect(path)  # the archive as schema 8 left it
    conn.execute("DROP INDEX articles_date")
    conn.execute("CREATE INDEX articles_date ON articles(date_start, date_end)")
    conn.execute("PRAGMA user_version = 8")
    conn.commit()
    conn.close()
    archive = open_archive(path)
    version = archive.conn.execute("PRAGMA user_version").fetchone()[0]
    sql = archive.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_date'")
    assert version == migrations.LATEST >= 9
    assert sql.fetchone()[0] == "CREATE INDEX articles_date ON articles(date_start, date_end, id)"
    assert archive.check() == []
    assert [a["id"] for a in archive.list_articles()] == before
    assert not any("TEMP B-TREE" in p for p in _listing_plans(archive, Filters()))


def test_non_archive_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(ArchiveError, match="is an SQLite database but not an irarchive archive"):
        open_archive(str(path))


def test_default_location_is_created_and_seeded_once(cli, isolated_env):
    expected = isolated_env / ".local" / "share" / "irarchive" / "archive.db"
    r = cli("db", "path")
    assert (r.code, r.out) == (0, f"{expected}\n")
    assert not expected.exists()
    r = cli("db", "info", "--json")
    assert r.code == 0
    assert json.loads(r.out)["articles"] == 10
    assert r.err == f"Created a new archive with the bundled seed (10 articles) at {expected}\n"
    r = cli("db", "info", "--json")
    assert r.err == ""


def test_env_var_and_option_choose_the_archive(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("IRARCHIVE_DB", str(tmp_path / "env.db"))
    assert cli("db", "path").out == f"{tmp_path / 'env.db'}\n"
    assert cli("--db", str(tmp_path / "opt.db"), "db", "path").out == f"{tmp_path / 'opt.db'}\n"


def test_no_seed_and_init_empty(cli, tmp_path):
    r = cli("--db", str(tmp_path / "a.db"), "--no-seed", "db", "info", "--json")
    assert json.loads(r.out)["articles"] == 0
    assert r.err.startswith("Created an empty archive at ")
    r = cli("--db", str(tmp_path / "b.db"), "db", "init", "--empty")
    assert r.code == 0
    r = cli("--db", str(tmp_path / "b.db"), "db", "info", "--json")
    assert json.loads(r.out)["articles"] == 0


def test_init_on_existing_archive_leaves_it(cli, seeded):
    r = cli("db", "init")
    assert r.code == 0
    assert r.err == f"The archive at {seeded} already exists (10 articles); left as it is\n"


def test_db_info_text_and_json(cli, seeded):
    r = cli("db", "info", "--json")
    info = json.loads(r.out)
    assert info["articles"] == 10
    assert info["first_date"] == "2021-12-27" and info["last_date"] == "2022-11-01"
    assert info["categories"] == [{"category": "International Relations", "count": 10}]
    assert info["schema_version"] == migrations.LATEST
    assert info["path"] == str(seeded)
    text = cli("db", "info").out
    assert "articles: 10\n" in text
    assert "dates: 2021-12-27 .. 2022-11-01\n" in text
    assert "  International Relations: 10\n" in text


def test_db_check_ok_and_detects_unindexed_rows(cli, seeded):
    r = cli("db", "check")
    assert (r.code, r.out) == (0, "ok: 10 articles, index consistent\n")
    conn = sqlite3.connect(seeded)
    # A writer that claims to keep the index itself (the marker irarchive's import
    # sets inside its transaction), then commits without doing so.
    conn.execute("INSERT INTO irarchive_writing(one) VALUES (1)")
    conn.execute(
        "INSERT INTO articles(id, slug, title, added_at) VALUES ('0123456789abcdef', 'x', 'x', 'y')"
    )
    conn.execute("DELETE FROM irarchive_writing")
    conn.commit()
    conn.close()
    r = cli("db", "check")
    assert r.code == 1
    assert "problem: full-text index: 1 articles are not indexed" in r.err


def test_creation_failure_leaves_no_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ArchiveError, match="cannot create the folder"):
        open_archive(str(blocker / "sub" / "a.db"))


def test_a_new_archive_is_on_the_disk_before_it_has_its_name(tmp_path, monkeypatch):
    """The archive is built in a temporary file without syncing each step; that file
    is synced once before the rename, and the folder after it. The archive then
    opens with the usual durability (synchronous=NORMAL, WAL). Windows syncs only a
    file open for writing; this test's fsync refuses the others as Windows does."""
    import errno
    import fcntl
    import os
    import stat

    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        writable = (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE) != os.O_RDONLY
        if stat.S_ISREG(st.st_mode) and not writable:
            raise OSError(errno.EBADF, "Bad file descriptor")  # as Windows answers
        events.append(("fsync", (st.st_dev, st.st_ino)))
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append(("rename", os.fspath(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    path = tmp_path / "new.db"
    archive = open_archive(str(path))
    try:
        assert archive.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert archive.check() == []
    finally:
        archive.close()
    temporary = events[1][1]
    assert temporary.startswith(f"{tmp_path}/.new.db.") and temporary.endswith(".tmp")
    file, folder = os.stat(path), os.stat(tmp_path)  # the renamed file is the one synced
    assert events == [
        ("fsync", (file.st_dev, file.st_ino)),
        ("rename", temporary),
        ("fsync", (folder.st_dev, folder.st_ino)),
    ]


@pytest.mark.parametrize("n", [0, 1, 899, 900, 901, 1800, 1801, 2500])
def test_rows_in_finds_every_value_of_an_in_list_of_any_length(n):
    """IN lists are run 900 values at a time (older SQLite builds allow 999 parameters):
    each side of a chunk boundary, every value is found once, in chunk order."""
    from irarchive.store.chunks import IN_CHUNK, rows_in

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(3000)])
    wanted = list(range(n - 1, -1, -1))  # descending: the order of chunks is kept
    got = list(rows_in(conn, "SELECT k, v FROM t WHERE k IN ({marks}) ORDER BY k DESC", wanted))
    assert got == [(k, f"v{k}") for k in wanted]
    assert IN_CHUNK <= 999


def test_a_write_transaction_is_all_or_nothing_and_names_a_busy_file(tmp_path):
    from irarchive.store.transactions import transaction

    path = tmp_path / "t.db"
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        conn.execute("CREATE TABLE t(x)")
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ZeroDivisionError), transaction(conn):
            conn.execute("INSERT INTO t VALUES (2)")
            _ = 1 / 0
        with transaction(conn, dry_run=True):
            conn.execute("INSERT INTO t VALUES (3)")
        assert [r[0] for r in other.execute("SELECT x FROM t")] == [1]
        assert not conn.in_transaction
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file
        with pytest.raises(ArchiveError) as exc, transaction(conn, path="t.db"):
            pass
        assert str(exc.value) == (
            "t.db is busy: another irarchive is writing to it; try again when it finishes"
        )
        with pytest.raises(sqlite3.OperationalError, match="locked"), transaction(conn):
            pass
        other.execute("ROLLBACK")
    finally:
        conn.close()
        other.close()


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    """An archive of 12 dated articles (two on one day) and 5 undated ones."""
    folder = tmp_path_factory.mktemp("offset")
    src, db = folder / "a.jsonl", folder / "a.db"
    records = [
        {"title": f"Dated {i:02d}", "date": f"2020-{1 + i % 11:02d}-0{1 + i % 2}"}
        for i in range(12)
    ] + [{"title": f"Undated {i}"} for i in range(5)]
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert run_cli("--db", str(db), "--no-seed", "import", str(src)).code == 0
    archive = open_archive(str(db), readonly=True)
    yield archive
    archive.close()


@pytest.mark.parametrize("sort", ["date", "title"])
@pytest.mark.parametrize("limit", [None, 1, 4, 30])
def test_an_offset_listing_is_the_same_rows_as_skipping_them(listed, sort, limit):
    """Every offset, through the dated articles, across to the undated ones and past the end."""
    archive = listed
    everything = [a["id"] for a in archive.list_articles(Filters(), sort=sort)]
    assert len(everything) == 17
    for offset in range(0, 20):
        page = [
            a["id"] for a in archive.list_articles(Filters(), sort=sort, limit=limit, offset=offset)
        ]
        end = None if limit is None else offset + limit
        assert page == everything[offset:end], (offset, limit)
