"""irarchive dedupe: finding likely duplicates, merging them, and what a merge keeps."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.test_import_matching import articles, rows, write


@pytest.fixture
def dupes(cli, seeded, tmp_path):
    """The seed plus duplicates an import keeps apart (records of one file are never
    matched to each other): a whole and a truncated copy of one article from two
    sites, two urls that differ in form only, and a seed title with an en dash."""
    recs = [
        {
            "title": "Caspian Transit",
            "date": "2022-10-12",
            "url": "https://mirror.example/caspian",
            "excerpt": "The start […]",
            "author": "Ann Lee",
            "doi": "10.5555/caspian",
        },
        {
            "title": "Caspian  transit",
            "date": "2022-10",
            "url": "https://e.org/caspian",
            "excerpt": "The whole article, not truncated.",
        },
        {"title": "Gas prices", "date": "2020-05-01", "url": "https://e.org/gas/"},
        {"title": "Gas prices rise", "date": "2020-06-01", "url": "HTTPS://E.ORG/gas#top"},
        {"title": "Post-Pandemic India–Central Asia Dialogue", "date": "2022-02-02"},
    ]
    r = cli("import", write(tmp_path, "mirror.jsonl", recs))
    assert "5 added" in r.err, r
    return seeded


def groups_of(out: str) -> set[tuple]:
    found: dict[str, list] = {}
    for line in out.splitlines():
        group, score, why, _id, _date, title = line.split("\t")
        found.setdefault(group, [score, why]).append(title)
    return {(v[0], v[1], *sorted(v[2:])) for v in found.values()}


def test_dedupe_lists_groups_with_reason_and_score(cli, dupes):
    r = cli("dedupe")
    assert r.code == 0, r
    assert groups_of(r.out) == {
        ("100.0", "same title and date", "Caspian Transit", "Caspian transit"),
        ("100.0", "same url", "Gas prices", "Gas prices rise"),
        (
            "97.6",
            "similar title",
            "Post-Pandemic India-Central Asia Dialogue",
            "Post-Pandemic India–Central Asia Dialogue",
        ),
    }
    assert r.err == "3 groups; merge them with --merge\n"
    data = json.loads(cli("dedupe", "--json").out)
    assert [d["keep"] for d in data] == [True, False] * 3
    # The whole excerpt is kept over the truncated one; the seed's excerpt over none.
    kept = {d["title"] for d in data if d["keep"]}
    assert "Caspian  transit" in kept and "Post-Pandemic India-Central Asia Dialogue" in kept
    assert groups_of(cli("dedupe", "--min-score", "99").out) == {
        ("100.0", "same title and date", "Caspian Transit", "Caspian transit"),
        ("100.0", "same url", "Gas prices", "Gas prices rise"),
    }


def test_merge_refuses_on_a_pipe_without_yes_and_dry_run_changes_nothing(cli, dupes):
    from tests.conftest import digest

    before = digest(dupes)
    r = cli("dedupe", "--merge")
    assert r.code == 2
    assert r.err.endswith(
        "Error: refusing to merge 6 articles into 3 without confirmation: not a terminal; "
        "add --yes (or see what would change with --dry-run)\n"
    )
    r = cli("dedupe", "--merge", "--dry-run")
    assert r.code == 0 and "would merge 6 articles into 3" in r.err
    assert digest(dupes) == before


def test_merge_keeps_the_richest_fields_annotations_and_old_refs(cli, dupes):
    caspian = {a["url"]: a for a in articles(dupes) if a["title"].startswith("Caspian")}
    whole, short = caspian["https://e.org/caspian"], caspian["https://mirror.example/caspian"]
    conn = sqlite3.connect(dupes)
    with conn:
        conn.executemany(
            "INSERT INTO tags VALUES (?, ?, '2026-01-01T00:00:00Z')",
            [(whole["id"], "energy"), (short["id"], "energy"), (short["id"], "caspian")],
        )
        conn.executemany(
            "INSERT INTO notes(article_id, created_at, text) VALUES (?, ?, ?)",
            [
                (whole["id"], "2026-01-01T00:00:00Z", "same text"),
                (short["id"], "2026-01-02T00:00:00Z", "same text"),
                (short["id"], "2026-01-03T00:00:00Z", "only on the mirror"),
            ],
        )
        conn.execute("INSERT INTO lists VALUES ('read', '2026-01-01T00:00:00Z', NULL)")
        conn.executemany(
            "INSERT INTO list_items VALUES ('read', ?, ?, '2026-01-01T00:00:00Z')",
            [(1, "a510295c9c3d6635"), (2, short["id"]), (3, "141e649dec283798")],
        )
    conn.close()
    r = cli("dedupe", "--merge", "--yes")
    assert r.code == 0, r
    assert r.err.endswith("merged 6 articles into 3; their old ids and slugs still resolve\n")
    after = articles(dupes)
    assert len(after) == 15 - 3
    [kept] = [a for a in after if a["title"].startswith("Caspian")]
    assert kept["id"] == whole["id"]  # the whole excerpt decides
    assert kept["excerpt"] == "The whole article, not truncated." and kept["truncated"] == 0
    assert kept["date"] == "2022-10"  # the kept article's own
    # What only the other had: its authors and DOI.
    assert (kept["authors"], kept["doi"]) == (
        '[{"family": "Lee", "given": "Ann"}]',
        "10.5555/caspian",
    )
    assert rows(dupes, "SELECT tag FROM tags WHERE article_id = ? ORDER BY tag", kept["id"]) == [
        ("caspian",),
        ("energy",),
    ]
    assert rows(dupes, "SELECT article_id, text FROM notes ORDER BY created_at") == [
        (kept["id"], "same text"),
        (kept["id"], "only on the mirror"),
    ]
    assert rows(dupes, "SELECT position, article_id FROM list_items ORDER BY position") == [
        (1, "a510295c9c3d6635"),
        (2, kept["id"]),
        (3, "141e649dec283798"),
    ]
    # The merged article's id and slug still find the kept one.
    for ref in (short["id"], short["slug"]):
        shown = json.loads(cli("show", ref, "--json").out)
        assert shown["id"] == kept["id"], ref
    [seed_kept] = [a for a in after if a["title"].startswith("Post-Pandemic")]
    assert seed_kept["id"] == "d16cca66f1440967"  # an excerpt beats none
    assert cli("db", "check").code == 0
    assert cli("dedupe").err == "no likely duplicates\n"
    found = json.loads(cli("search", "caspian transit", "--json").out)
    assert [a["id"] for a in found] == [kept["id"]]


def test_one_undo_entry_holds_every_article_of_the_run(cli, dupes):
    from irarchive.store import open_archive, undo
    from tests.conftest import digest

    conn = sqlite3.connect(dupes)
    # Feed items delivered two of the duplicates: a merge moves them to the kept one.
    conn.executemany(
        "INSERT INTO source_items(feed_url, article_id, url) "
        "SELECT 'https://example.org/feed', id, 'https://example.org/' || id FROM articles "
        "WHERE id IN (SELECT id FROM articles ORDER BY rowid DESC LIMIT ?)",
        [(len(rows(dupes, "SELECT id FROM articles")),)],
    )
    conn.commit()
    conn.close()
    before = digest(dupes)
    names = ("tags", "aliases", "source_items")
    tables = {t: rows(dupes, f"SELECT * FROM {t} ORDER BY 1, 2") for t in names}
    assert tables["source_items"]
    assert cli("dedupe", "--merge", "--yes").code == 0
    assert rows(dupes, "SELECT * FROM source_items ORDER BY 1, 2") != tables["source_items"]
    archive = open_archive(str(dupes))
    try:
        [entry] = undo.entries(archive.conn)
        assert (entry.action, entry.articles) == ("dedupe", 6)
        archive.conn.execute("BEGIN IMMEDIATE")
        undo.restore_last(archive.conn)
        archive.conn.execute("COMMIT")
    finally:
        archive.close()
    assert digest(dupes) == before
    assert {t: rows(dupes, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables} == tables
    assert cli("db", "check").code == 0


def test_min_score_is_checked(cli, seeded):
    r = cli("dedupe", "--min-score", "101")
    assert (r.code, r.err) == (2, "Error: --min-score must be between 0 and 100, not 101\n")


def test_finding_is_bounded_by_blocks(cli, empty, tmp_path):
    """Titles alike but far apart in time, or starting differently, are not compared."""
    recs = [
        {"title": "Energy security in Central Asia", "date": "2020-01-01"},
        {"title": "Energy security in Central Asia!", "date": "2020-01-09"},
        {"title": "Energy security in Central Asia?", "date": "2020-01-02"},
    ]
    cli("import", write(tmp_path, "a.jsonl", recs))
    data = json.loads(cli("dedupe", "--json").out)
    assert sorted(d["date"] for d in data) == ["2020-01-01", "2020-01-02"]


@pytest.mark.parametrize(
    ("answer", "code", "said"), [(b"n\n", 1, "nothing merged"), (b"y\n", 0, "merged 6")]
)
def test_merge_asks_on_a_terminal(dupes, answer, code, said):
    """stdin and stderr on a terminal: it asks, and only 'y' merges."""
    import os
    import pty
    import subprocess

    from tests.conftest import IRARCHIVE, digest

    before = digest(dupes)
    main, side = pty.openpty()
    proc = subprocess.Popen(
        [*IRARCHIVE, "--db", str(dupes), "dedupe", "--merge"],
        stdin=side,
        stdout=subprocess.DEVNULL,
        stderr=side,
    )
    os.close(side)
    seen = b""
    try:
        while b"[y/N] " not in seen:
            chunk = os.read(main, 1024)
            assert chunk, seen
            seen += chunk
        assert b"Merge 6 articles into 3? [y/N] " in seen
        os.write(main, answer)
        assert proc.wait(timeout=60) == code
        try:
            while chunk := os.read(main, 1024):
                seen += chunk
        except OSError:  # the terminal closes with the process
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert said.encode() in seen
    assert (digest(dupes) == before) is (code == 1)
