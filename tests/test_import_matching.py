"""Import matching: a record is the article it is by id, alias, url, or title and date;
tags, notes and edits made here survive every re-import."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irarchive.store.duplicates import normal_url, url_key

LISTING = """International Relations

March 14, 2022
China and India in Central Asia
The summits of March […]
"""


def rows(db, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def articles(db) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY rowid")]
    finally:
        conn.close()


def write(tmp_path, name: str, records: list[dict] | str) -> str:
    path = tmp_path / name
    if isinstance(records, str):
        path.write_text(records, encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://E.org/x/", "https://e.org/x"),
        ("HTTPS://e.org/x#part", "https://e.org/x"),
        ("https://e.org/x?utm_source=feed&id=3", "https://e.org/x?id=3"),
        ("https://e.org/x/?UTM_medium=a", "https://e.org/x"),
    ],
)
def test_urls_that_differ_only_in_form_normalise_alike(a, b):
    assert normal_url(a) == normal_url(b)
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("https://e.org/x", "https://e.org/y"), ("https://e.org/x?id=3", "https://e.org/x?id=4")],
)
def test_different_urls_stay_different(a, b):
    assert normal_url(a) != normal_url(b)


def test_the_url_key_in_sql_is_the_one_in_python(empty):
    from irarchive.migrations import URL_KEY_SQL

    conn = sqlite3.connect(empty)
    for url in ("https://E.org/A/b/?q=1#f", "http://x.org", "https://x.org/#?a", "a?b#c/"):
        got = conn.execute(f"SELECT {URL_KEY_SQL} FROM (SELECT ? AS url)", (url,)).fetchone()[0]
        assert got == url_key(url)
    conn.close()


def test_listing_and_json_of_the_same_article_are_one_row_in_either_order(cli, empty, tmp_path):
    listing = write(tmp_path, "ir.txt", LISTING)
    record = {
        "title": "China and India in Central Asia",
        "date": "2022-03-14",
        "url": "https://e.org/china-india",
        "excerpt": "The summits of March brought the two powers to the region.",
        "author": "Ann Lee",
    }
    jsonl = write(tmp_path, "ir.jsonl", [record])
    assert cli("import", listing).code == 0
    [before] = articles(empty)
    r = cli("import", jsonl)
    assert r.err == f"{jsonl}: 0 added, 1 updated, 0 unchanged, 0 rejected\n"
    [after] = articles(empty)
    assert (after["id"], after["slug"]) == (before["id"], before["slug"])
    assert after["url"] == record["url"] and after["truncated"] == 0
    # The JSON record's own id now names the same article.
    aliases = rows(empty, "SELECT article_id, kind FROM aliases")
    assert aliases == [(before["id"], "id")]
    # The listing again: the richer JSON fields stay (a truncated excerpt and no url
    # never erase a whole excerpt and a url).
    r = cli("import", listing)
    assert "0 added" in r.err
    [again] = articles(empty)
    assert again["url"] == record["url"] and again["excerpt"] == record["excerpt"]
    assert cli("db", "check").code == 0


def test_json_first_then_listing_is_one_row(cli, empty, tmp_path):
    jsonl = write(
        tmp_path,
        "ir.jsonl",
        [{"title": "China and India in Central Asia", "date": "2022-03", "url": "https://e.org/c"}],
    )
    assert cli("import", jsonl).code == 0
    r = cli("import", write(tmp_path, "ir.txt", LISTING))
    assert "0 added, 1 updated" in r.err
    [only] = articles(empty)
    assert only["url"] == "https://e.org/c" and only["excerpt"] == "The summits of March"


def test_a_changed_url_updates_in_place_and_the_old_id_resolves(cli, empty, tmp_path):
    rec = {"title": "Caspian Transit", "date": "2022-10-12", "url": "https://e.org/caspian"}
    first = write(tmp_path, "feed.jsonl", [rec])
    assert cli("import", first).code == 0
    [before] = articles(empty)
    moved = write(tmp_path, "feed.jsonl", [dict(rec, url="https://e.org/2022/caspian")])
    r = cli("import", moved)
    assert r.err == f"{moved}: 0 added, 1 updated, 0 unchanged, 0 rejected\n"
    [after] = articles(empty)
    assert after["id"] == before["id"] and after["url"] == "https://e.org/2022/caspian"
    assert len(rows(empty, "SELECT * FROM aliases WHERE article_id = ?", before["id"])) == 1
    # Re-importing it again changes nothing: the alias leads to the same article.
    r = cli("import", moved)
    assert r.err == f"{moved}: 0 added, 0 updated, 1 unchanged, 0 rejected\n"


def test_a_url_in_another_form_is_the_same_article(cli, empty, tmp_path):
    assert cli("import", write(tmp_path, "a.jsonl", [{"title": "A", "url": "https://e.org/a"}]))
    r = cli(
        "import",
        write(tmp_path, "b.jsonl", [{"title": "A (updated)", "url": "HTTPS://E.ORG/a/?utm_x=1"}]),
    )
    assert "0 added, 1 updated" in r.err
    [only] = articles(empty)
    assert only["title"] == "A (updated)"


def test_a_mirror_with_another_link_from_another_source_stays_apart(cli, empty, tmp_path):
    rec = {"title": "Caspian Transit", "date": "2022-10-12", "url": "https://e.org/caspian"}
    cli("import", write(tmp_path, "a.jsonl", [rec]))
    r = cli("import", write(tmp_path, "b.jsonl", [dict(rec, url="https://mirror.example/c")]))
    assert "1 added" in r.err
    assert len(articles(empty)) == 2


def test_overlapping_dates_match_but_other_dates_do_not(cli, empty, tmp_path):
    cli("import", write(tmp_path, "a.jsonl", [{"title": "Gas Deal", "date": "2022-02"}]))
    r = cli("import", write(tmp_path, "b.jsonl", [{"title": "GAS  deal", "date": "2022-02-07"}]))
    assert "0 added, 1 updated" in r.err
    r = cli("import", write(tmp_path, "c.jsonl", [{"title": "Gas Deal", "date": "2022-04-01"}]))
    assert "1 added" in r.err


def test_edited_fields_win_over_a_reimport_and_keep_the_source_value(cli, empty, tmp_path):
    rec = {"title": "Caspian Transit", "date": "2022-10-12", "excerpt": "Old", "category": "A"}
    f = write(tmp_path, "a.jsonl", [rec])
    cli("import", f)
    [a] = articles(empty)
    conn = sqlite3.connect(empty)
    with conn:  # as `irarchive edit --set title=... --set category=...` leaves it
        conn.execute(
            "UPDATE articles SET title = 'Caspian Routes', category = 'B' WHERE id = ?", (a["id"],)
        )
        conn.executemany(
            "INSERT INTO edits(article_id, field, value, source_value, edited_at) "
            "VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z')",
            [
                (a["id"], "title", json.dumps("Caspian Routes"), json.dumps("Caspian Transit")),
                (a["id"], "category", json.dumps("B"), json.dumps("A")),
            ],
        )
    conn.close()
    r = cli("import", write(tmp_path, "a.jsonl", [dict(rec, excerpt="New", category="C")]))
    assert r.err.endswith(": 0 added, 1 updated, 0 unchanged, 0 rejected\n"), r
    [after] = articles(empty)
    assert (after["title"], after["category"], after["excerpt"]) == ("Caspian Routes", "B", "New")
    assert rows(empty, "SELECT field, source_value FROM edits ORDER BY field") == [
        ("category", json.dumps("C")),
        ("title", json.dumps("Caspian Transit")),
    ]
    assert cli("db", "check").code == 0
    assert "Caspian Routes" in cli("search", "routes", "--json").out


def test_tags_and_notes_in_a_record_are_added_once_and_never_removed(cli, empty, tmp_path):
    rec = {
        "id": "0123456789abcdef",
        "title": "Caspian Transit",
        "tags": ["Energy", " Caspian  sea "],
        "notes": [{"created_at": "2026-01-01T10:00:00Z", "text": "read twice"}],
    }
    f = write(tmp_path, "a.jsonl", [rec])
    assert "1 added" in cli("import", f).err
    assert cli("import", f).code == 0
    assert rows(empty, "SELECT tag FROM tags ORDER BY tag") == [("caspian sea",), ("energy",)]
    assert rows(empty, "SELECT created_at, text FROM notes") == [
        ("2026-01-01T10:00:00Z", "read twice")
    ]
    conn = sqlite3.connect(empty)
    with conn:  # made here, after the import
        conn.execute("INSERT INTO tags VALUES ('0123456789abcdef', 'mine', '2026-01-02T00:00:00Z')")
        conn.execute(
            "INSERT INTO notes(article_id, created_at, text) "
            "VALUES ('0123456789abcdef', '2026-01-02T00:00:00Z', 'my note')"
        )
    conn.close()
    again = write(tmp_path, "a.jsonl", [dict(rec, tags=["other"], notes=[])])
    assert cli("import", again).code == 0
    assert [t for (t,) in rows(empty, "SELECT tag FROM tags ORDER BY tag")] == [
        "caspian sea",
        "energy",
        "mine",
        "other",
    ]
    assert len(rows(empty, "SELECT * FROM notes")) == 2
    assert rows(empty, "SELECT extra FROM articles") == [(None,)]


def test_two_records_sharing_a_url_in_one_file_stay_two(cli, empty, tmp_path):
    recs = [
        {"title": "One", "url": "https://e.org/same"},
        {"title": "Two", "url": "https://e.org/same/"},
    ]
    assert "2 added" in cli("import", write(tmp_path, "a.jsonl", recs)).err


def test_an_archive_of_schema_4_is_upgraded_and_matches_by_url(cli, db_path, tmp_path):
    """The released schema (4) gains the url index (m008) on first open; nothing else."""
    from irarchive import migrations

    conn = sqlite3.connect(db_path)
    for step in migrations.MIGRATIONS[:4]:
        step(conn)
    conn.execute(
        "INSERT INTO articles(id, slug, title, date, date_start, date_end, url, added_at) "
        "VALUES ('00000000000000aa', 'old', 'Old title', '2001', '2001-01-01', '2001-12-31', "
        "'https://e.org/old/', '2001-01-01T00:00:00Z')"
    )
    conn.execute("PRAGMA user_version = 4")
    conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
    conn.commit()
    conn.close()
    assert cli("db", "check").code == 0  # opening upgrades it (and indexes the new row)
    assert rows(db_path, "PRAGMA user_version") == [(migrations.LATEST,)]
    assert rows(db_path, "SELECT name FROM sqlite_master WHERE name = 'articles_url'") == [
        ("articles_url",)
    ]
    rec = [{"title": "New title", "url": "https://E.org/old"}]
    r = cli("import", write(tmp_path, "a.jsonl", rec))
    assert r.err.endswith(": 0 added, 1 updated, 0 unchanged, 0 rejected\n"), r
    assert rows(db_path, "SELECT id, title FROM articles") == [("00000000000000aa", "New title")]
    plan = rows(
        db_path,
        f"EXPLAIN QUERY PLAN SELECT id FROM articles WHERE url IS NOT NULL "
        f"AND {migrations.URL_KEY_SQL} IN ('x')",
    )
    assert "articles_url" in repr(plan)


def test_records_sharing_a_url_in_different_batches_of_one_file_stay_two(cli, empty, tmp_path):
    """The second is read after the first was written (a batch holds 1,000 records)."""
    filler = [{"title": f"Filler {i}", "url": f"https://e.org/f{i}"} for i in range(1000)]
    recs = [{"title": "One", "url": "https://e.org/same"}, *filler]
    recs.append({"title": "Two", "url": "https://e.org/same/"})
    cli("import", write(tmp_path, "first.jsonl", [{"title": "Not empty"}]))  # no bulk load
    assert "1,002 added" in cli("import", write(tmp_path, "a.jsonl", recs)).err
    assert rows(empty, "SELECT count(*) FROM aliases") == [(0,)]  # "Two" is not "One"


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüİıçşÉÜ"
_FOLD = {"é": "e", "ü": "u", "ç": "c", "ş": "s", "É": "E", "Ü": "U"}


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(st.text(_LETTERS, min_size=1, max_size=9), min_size=1, max_size=5),
    flips=st.lists(st.sampled_from(["same", "upper", "lower", "fold"]), min_size=45, max_size=45),
    gaps=st.lists(st.sampled_from([" ", "  ", "\u00a0"]), min_size=5, max_size=5),
)
def test_a_title_in_another_case_spacing_or_accents_on_the_same_day_matches(
    tmp_path_factory, words, flips, gaps
):
    """Case, spacing and accents do not keep a record from the article it is (same day)."""
    from hypothesis import assume

    from irarchive.model import Article
    from irarchive.store import open_archive
    from irarchive.store.duplicates import title_key

    stored = " ".join(words)
    chars = []
    for n, c in enumerate(stored):
        how = flips[n % len(flips)]
        if c == " ":
            chars.append(gaps[n % len(gaps)])
        elif how == "fold":
            chars.append(_FOLD.get(c, c))
        else:
            chars.append(c.upper() if how == "upper" else c.lower() if how == "lower" else c)
    variant = "".join(chars)
    assume(title_key(variant) == title_key(stored))
    path = tmp_path_factory.mktemp("m") / "a.db"
    archive = open_archive(str(path))
    try:
        noise = [
            Article(title=f"{w} other {n}", date="2022-03-04", source="listing")
            for n, w in enumerate(words * 3)
        ]
        archive.import_items([*noise, Article(title=stored, date="2022-03-04", source="listing")])
        report = archive.import_items(
            # With a link: its id differs from the stored one, so only the title matches.
            [
                Article(
                    title=variant,
                    date="2022-03-04",
                    source="feed.json",
                    url="https://example.org/a",
                    excerpt="More.",
                )
            ]
        )
        assert (report.added, report.updated + report.unchanged) == (0, 1), (stored, variant)
    finally:
        archive.close()


def test_a_title_another_tool_changed_is_matched_by_its_new_title(cli, empty, tmp_path):
    """The stored title key (m008) follows a title changed by another tool: the next
    import finds the article by its new title."""
    first = write(tmp_path, "a.jsonl", [{"title": "Old Name Of It", "date": "2022-03-04"}])
    assert cli("import", first).code == 0
    conn = sqlite3.connect(empty)
    conn.execute("UPDATE articles SET title = 'The New Name' WHERE title = 'Old Name Of It'")
    conn.commit()
    conn.close()
    renamed = write(
        tmp_path, "b.jsonl", [{"title": "THE  new name", "date": "2022-03-04", "excerpt": "x"}]
    )
    r = cli("import", renamed)
    assert r.err == f"{renamed}: 0 added, 1 updated, 0 unchanged, 0 rejected\n"
    assert [a["title"] for a in articles(empty)] == ["THE  new name"]  # one article
    assert cli("db", "check").code == 0


def test_db_check_reports_a_stale_title_key_and_repair_sets_it(cli, empty, tmp_path):
    path = write(tmp_path, "a.jsonl", [{"title": "Grain Deal", "date": "2022-07-22"}])
    assert cli("import", path).code == 0
    conn = sqlite3.connect(empty)
    conn.execute("UPDATE articles SET title_key = title_key + 1")  # queues nothing
    conn.commit()
    conn.close()
    r = cli("db", "check")
    assert (r.code, r.err.splitlines()[0]) == (
        1,
        "problem: title keys: 1 articles have a stale key, so an import cannot match "
        "records to them by title (irarchive db check --repair sets them)",
    )
    r = cli("db", "check", "--repair")
    assert r.code == 0 and "title keys: set 1 stale key\n" in r.out + r.err
    assert cli("db", "check").code == 0
    again = write(tmp_path, "b.jsonl", [{"title": "grain deal", "date": "2022-07-22"}])
    assert "0 added" in cli("import", again).err
