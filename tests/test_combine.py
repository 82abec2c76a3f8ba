"""irarchive import OTHER.db: another archive's articles and annotations, all or nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

from tests.conftest import IRARCHIVE, checkpoint
from tests.test_import_matching import articles, rows, write

#: Stamped with the time of the run: two runs of one import differ only there.
VOLATILE = {"tags": "added_at", "aliases": "created_at", "undo_log": "at"}


def all_tables(db: Path) -> dict[str, str]:
    """A digest per real table (articles, annotations, index shadow tables, undo log...):
    the archive as a whole, read without changing it. Run-time stamps are left out."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out = {}
        for name in names:
            cur = conn.execute(f"SELECT * FROM {name}")
            cols = [d[0] for d in cur.description]
            skip = cols.index(VOLATILE[name]) if VOLATILE.get(name) in cols else None
            found = sorted(repr(tuple(v for i, v in enumerate(r) if i != skip)) for r in cur)
            out[name] = hashlib.sha256(
                "\n".join(found).encode("utf-8", "surrogatepass")
            ).hexdigest()
        return out
    finally:
        conn.close()


def annotate(db: Path) -> None:
    """Tags, notes, a list, an alias and an edit in the seeded archive at ``db``."""
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO tags VALUES (?, ?, '2026-01-01T00:00:00Z')",
            [("6b77fb39ae23803c", "iran"), ("a510295c9c3d6635", "sco")],
        )
        conn.executemany(
            "INSERT INTO notes(article_id, created_at, text) VALUES (?, ?, ?)",
            [
                ("6b77fb39ae23803c", "2026-01-01T00:00:00Z", "check the JCPOA text"),
                ("6b77fb39ae23803c", "2026-01-02T00:00:00Z", "second note"),
            ],
        )
        conn.execute("INSERT INTO lists VALUES ('thesis', '2026-01-01T00:00:00Z', 'chapter 2')")
        conn.executemany(
            "INSERT INTO list_items VALUES ('thesis', ?, ?, '2026-01-01T00:00:00Z')",
            [(1, "a510295c9c3d6635"), (2, "6b77fb39ae23803c")],
        )
        conn.execute(
            "INSERT INTO aliases VALUES ('old-iran-slug', '6b77fb39ae23803c', 'slug', "
            "'2026-01-01T00:00:00Z')"
        )
        conn.execute("UPDATE articles SET category = 'Security' WHERE id = '6b77fb39ae23803c'")
        conn.execute(
            "INSERT INTO edits VALUES ('6b77fb39ae23803c', 'category', '\"Security\"', "
            "'\"International Relations\"', '2026-01-01T00:00:00Z')"
        )
    conn.close()


def test_import_another_archive_merges_articles_and_annotations(cli, seeded, tmp_path):
    other = tmp_path / "other.db"
    shutil.copy(seeded, other)
    annotate(other)
    extra = [{"title": "Caspian Transit", "date": "2022-10-12", "url": "https://e.org/c"}]
    assert cli("--db", str(other), "import", write(tmp_path, "x.jsonl", extra)).code == 0
    checkpoint(other)
    untouched = other.read_bytes()
    # Here: the same seed, with a note of our own and the same first note already.
    conn = sqlite3.connect(seeded)
    with conn:
        conn.executemany(
            "INSERT INTO notes(article_id, created_at, text) VALUES (?, ?, ?)",
            [
                ("6b77fb39ae23803c", "2026-01-01T00:00:00Z", "check the JCPOA text"),
                ("6b77fb39ae23803c", "2026-03-01T00:00:00Z", "mine"),
            ],
        )
        conn.execute("INSERT INTO lists VALUES ('thesis', '2025-01-01T00:00:00Z', NULL)")
        conn.execute(
            "INSERT INTO list_items VALUES ('thesis', 1, '141e649dec283798', "
            "'2025-01-01T00:00:00Z')"
        )
    conn.close()
    r = cli("import", str(other))
    assert r.code == 0, r
    assert r.err == (
        f"{other}: 1 added, 0 updated, 10 unchanged, 0 rejected\n"
        "  added 2 tags, 1 note, 0 lists, 2 list items, 1 alias, 1 edit\n"
    )
    assert other.read_bytes() == untouched  # never modified
    assert rows(seeded, "SELECT text FROM notes ORDER BY created_at") == [
        ("check the JCPOA text",),
        ("second note",),
        ("mine",),
    ]
    assert rows(seeded, "SELECT position, article_id FROM list_items ORDER BY position") == [
        (1, "141e649dec283798"),
        (2, "a510295c9c3d6635"),
        (3, "6b77fb39ae23803c"),
    ]
    assert json.loads(cli("show", "old-iran-slug", "--json").out)["category"] == "Security"
    assert rows(seeded, "SELECT field, value FROM edits") == [("category", '"Security"')]
    assert cli("db", "check").code == 0
    # Importing it again adds nothing.
    r = cli("import", str(other))
    assert r.err == (
        f"{other}: 0 added, 0 updated, 11 unchanged, 0 rejected\n"
        "  added 0 tags, 0 notes, 0 lists, 0 list items, 0 aliases, 0 edits\n"
    )


def test_an_article_both_have_under_other_ids_is_one_article(cli, db_path, tmp_path):
    """Here the listing made the article; there a JSON file did: matched by title and
    date, and OTHER's tags follow it to this archive's id."""
    listing = write(tmp_path, "ir.txt", "Politics\n\nMarch 14, 2022\nGas Deal\nThe deal […]\n")
    other = tmp_path / "other.db"
    cli("--db", str(other), "--no-seed", "db", "init")
    rec = [{"title": "Gas Deal", "date": "2022-03-14", "url": "https://e.org/gas"}]
    assert cli("--db", str(other), "import", write(tmp_path, "g.jsonl", rec)).code == 0
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("INSERT INTO tags SELECT id, 'x', '2026-01-01T00:00:00Z' FROM articles")
    conn.close()
    cli("--no-seed", "db", "init")
    assert cli("import", listing).code == 0
    [here] = articles(db_path)
    r = cli("import", str(other))
    assert r.err.startswith(f"{other}: 0 added, 1 updated"), r
    [after] = articles(db_path)
    assert after["id"] == here["id"] and after["url"] == "https://e.org/gas"
    assert rows(db_path, "SELECT article_id, tag FROM tags") == [(here["id"], "x")]


def test_an_older_schema_archive_is_read_as_it_is(cli, db_path, tmp_path):
    """Schema 1 (no authors, no annotations): read, never migrated."""
    from irarchive import migrations

    other = tmp_path / "old.db"
    conn = sqlite3.connect(other)
    migrations.m001_create_articles(conn)
    conn.execute(
        "INSERT INTO articles(id, slug, title, date, date_start, date_end, added_at) "
        "VALUES ('00000000000000aa', 'old', 'Old one', '2001', '2001-01-01', '2001-12-31', "
        "'2001-01-01T00:00:00Z')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    cli("--no-seed", "db", "init")
    r = cli("import", str(other))
    assert r.err.startswith(f"{other}: 1 added"), r
    assert other.read_bytes() == before
    assert rows(db_path, "SELECT id, title, date FROM articles") == [
        ("00000000000000aa", "Old one", "2001")
    ]


def test_refusals_name_the_fix(cli, seeded, tmp_path):
    r = cli("import", str(seeded))
    assert (r.code, r.err) == (
        1,
        f"Error: {seeded} is the archive being imported into; give another archive's file\n",
    )
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t(a)")
    conn.commit()
    conn.close()
    r = cli("import", str(foreign))
    assert (r.code, r.err) == (
        1,
        f"Error: {foreign} is an SQLite database but not an irarchive archive; "
        "export its rows as JSON or CSV and import that\n",
    )


def test_dry_run_writes_nothing(cli, seeded, tmp_path):
    other = tmp_path / "other.db"
    cli("--db", str(other), "--no-seed", "db", "init")
    new = [{"id": "00000000000000ab", "title": "New", "tags": ["t"]}]
    cli("--db", str(other), "import", write(tmp_path, "a.jsonl", new))
    before = all_tables(seeded)
    r = cli("import", str(other), "--dry-run")
    assert r.err.startswith(f"{other}: 1 would add"), r
    assert "would add 1 tag" in r.err
    assert all_tables(seeded) == before


def _big_archive(cli, path: Path, tmp_path: Path, n: int, *, twins: bool = False) -> None:
    """An archive of ``n`` articles (with ``twins``: pairs alike in title and date)."""
    recs = []
    for i in range(n // 2 if twins else n):
        day = f"20{10 + i % 10}-0{1 + i % 9}-1{i % 9}"
        rec = {"title": f"Report {i} on trade", "date": day, "excerpt": "word " * 40}
        if twins:
            recs.append(dict(rec, url=f"https://a.example/{i}"))
            recs.append(dict(rec, url=f"https://b.example/{i}", excerpt="short"))
        else:
            recs.append(dict(rec, tags=[f"t{i % 7}"]))
    cli("--db", str(path), "--no-seed", "db", "init")
    assert cli("--db", str(path), "import", write(tmp_path, f"{path.stem}.jsonl", recs)).code == 0
    checkpoint(path)


#: Runs irarchive with one function wrapped to SIGKILL the process on its Nth call:
#: a kill -9 at a known point inside the transaction, not a guess at the time.
KILLER = """
import os, signal, sys, importlib
module, name, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
owner, _, attr = name.rpartition(".")
target = importlib.import_module(module)
holder = getattr(target, owner) if owner else target
original = getattr(holder, attr)
calls = [0]
def wrapped(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
setattr(holder, attr, wrapped)
from irarchive.cli import main
main(sys.argv[4:])
"""


def _kill_mid_way(where: str, nth: int, args: list[str]) -> subprocess.CompletedProcess:
    module, _, name = where.partition(":")
    proc = subprocess.run(
        [IRARCHIVE[0], "-c", KILLER, module, name, str(nth), *args],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    return proc


def test_kill_9_during_import_of_another_archive_leaves_before_or_after(cli, tmp_path, db_path):
    other = tmp_path / "other.db"
    _big_archive(cli, other, tmp_path, 3000)
    cli("--no-seed", "db", "init")
    assert cli("import", write(tmp_path, "one.jsonl", [{"title": "Mine", "tags": ["m"]}])).code == 0
    checkpoint(db_path)
    before = all_tables(db_path)
    ref = tmp_path / "ref.db"
    shutil.copy(db_path, ref)
    assert cli("--db", str(ref), "import", str(other)).code == 0
    checkpoint(ref)
    after = all_tables(ref)
    # After two of its three batches of articles were written.
    _kill_mid_way(
        "irarchive.store.writer:_BatchWriter.write", 3, ["--db", str(db_path), "import", str(other)]
    )
    assert all_tables(db_path) == before
    assert cli("db", "check").code == 0
    assert cli("import", str(other)).code == 0
    assert all_tables(db_path) == after


def test_kill_9_during_dedupe_merge_leaves_before_or_after(cli, tmp_path, db_path):
    _big_archive(cli, db_path, tmp_path, 1000, twins=True)
    before = all_tables(db_path)
    ref = tmp_path / "ref.db"
    shutil.copy(db_path, ref)
    r = cli("--db", str(ref), "dedupe", "--merge", "--yes")
    assert r.code == 0 and "merged 1000 articles into 500" in r.err, r
    checkpoint(ref)
    after = all_tables(ref)
    # After 250 of its 500 groups were merged.
    _kill_mid_way(
        "irarchive.store.duplicates:_merge_group",
        251,
        ["--db", str(db_path), "dedupe", "--merge", "--yes"],
    )
    assert all_tables(db_path) == before
    assert cli("db", "check").code == 0
    assert cli("dedupe", "--merge", "--yes").code == 0
    assert all_tables(db_path) == after


def test_the_other_copy_only_adds_what_this_one_lacks(cli, seeded, tmp_path):
    other = tmp_path / "other.db"
    shutil.copy(seeded, other)
    conn = sqlite3.connect(other)
    with conn:  # there: another category, and a url this archive does not have
        conn.execute(
            "UPDATE articles SET category = 'Theirs', url = 'https://e.org/sco' "
            "WHERE id = 'a510295c9c3d6635'"
        )
    conn.close()
    conn = sqlite3.connect(seeded)
    with conn:  # here: a doi the other does not have
        conn.execute("UPDATE articles SET doi = '10.5555/sco' WHERE id = 'a510295c9c3d6635'")
    conn.close()
    r = cli("import", str(other))
    assert r.err.startswith(f"{other}: 0 added, 1 updated, 9 unchanged"), r
    [(category, url, doi)] = rows(
        seeded, "SELECT category, url, doi FROM articles WHERE id = 'a510295c9c3d6635'"
    )
    assert (category, url, doi) == ("International Relations", "https://e.org/sco", "10.5555/sco")
