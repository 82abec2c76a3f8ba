"""Curating by hand: ``edit``, ``rm``, ``undo`` and ``db check --repair`` (issue 13)."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irarchive.store import open_archive

from .conftest import IRARCHIVE, digest, on_a_terminal, run_cli, run_proc

IRAN = "6b77fb39ae23803c"  # "Iranian Nuclear Deal Crisis", slug iranian-nuclear-deal-crisis
SCO = "a510295c9c3d6635"  # "2022 SCO Summit in Samarkand: Key Takeaways"
ANNOTATIONS = ("tags", "notes", "lists", "list_items", "aliases", "edits")


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every article (with its rowid) and every annotation row, exactly as stored."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {"articles": conn.execute("SELECT rowid, * FROM articles ORDER BY rowid").fetchall()}
        for table in ANNOTATIONS:
            out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        return out
    finally:
        conn.close()


def annotate(db: Path, article_id: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO tags VALUES (?, 'energy', '2026-01-01T00:00:00Z')", (article_id,))
    conn.execute(
        "INSERT INTO notes(article_id, created_at, text) VALUES (?, '2026-01-02T00:00:00Z', ?)",
        (article_id, "Compare with the 2015 text"),
    )
    conn.execute("INSERT OR IGNORE INTO lists VALUES ('thesis', '2026-01-01T00:00:00Z', NULL)")
    conn.execute(
        "INSERT INTO list_items VALUES ('thesis', 1, ?, '2026-01-03T00:00:00Z')", (article_id,)
    )
    conn.commit()
    conn.close()


def show(cli, ref: str) -> dict:
    r = cli("show", ref, "--json")
    assert r.code == 0, r
    return json.loads(r.out)


def search_ids(cli, query: str) -> list[str]:
    r = cli("search", query, "--json")
    assert r.code == 0, r
    return [a["id"] for a in json.loads(r.out)]


# ---- edit ---------------------------------------------------------------------------------


def test_edit_title_moves_the_slug_and_the_old_slug_still_resolves(cli, seeded):
    r = cli("edit", "iranian-nuclear-deal-crisis", "--set", "title=Quokka Accord Talks")
    assert r.code == 0, r
    assert r.err == (
        f"edited {IRAN}:\n"
        "  title: 'Iranian Nuclear Deal Crisis' -> 'Quokka Accord Talks'\n"
        "  slug: iranian-nuclear-deal-crisis -> quokka-accord-talks "
        "(the old slug still finds it)\n"
        "undo with: irarchive undo\n"
    )
    # The index was kept in the same transaction (not left for the next open to replay).
    assert sqlite3.connect(seeded).execute("SELECT count(*) FROM index_queue").fetchone() == (0,)
    article = show(cli, "iranian-nuclear-deal-crisis")
    assert (article["id"], article["slug"], article["title"]) == (
        IRAN,
        "quokka-accord-talks",
        "Quokka Accord Talks",
    )
    assert show(cli, "quokka-accord-talks")["id"] == IRAN
    # The search index follows: the new title is found, the old title words are gone.
    assert search_ids(cli, "quokka accord") == [IRAN]
    assert IRAN not in search_ids(cli, "nuclear deal crisis")
    conn = sqlite3.connect(seeded)
    assert conn.execute("SELECT alias, article_id, kind FROM aliases").fetchall() == [
        ("iranian-nuclear-deal-crisis", IRAN, "slug")
    ]
    assert conn.execute("SELECT field, value, source_value FROM edits").fetchall() == [
        ("title", '"Quokka Accord Talks"', '"Iranian Nuclear Deal Crisis"')
    ]
    conn.close()
    assert (cli("db", "check").code, cli("db", "check").err) == (0, "")


def test_edit_reads_values_as_an_import_reads_them(cli, seeded):
    r = cli(
        "edit",
        IRAN,
        "--set",
        "date=March 5, 2022",
        "--set",
        "authors=Smith, John and Eurasian Research Institute",
        "--set",
        "doi=https://doi.org/10.5555/ABC.1",
        "--set",
        "excerpt=  The deal, again. […]",
        "--set",
        "url= https://example.org/iran ",
        "--set",
        "Category=Security",
    )
    assert r.code == 0, r
    a = show(cli, IRAN)
    assert a["date"] == "2022-03-05"
    assert a["authors"] == [
        {"family": "Smith", "given": "John"},
        {"literal": "Eurasian Research Institute"},
    ]
    assert a["doi"] == "10.5555/ABC.1"
    assert (a["excerpt"], a["truncated"]) == ("The deal, again.", True)
    assert a["url"] == "https://example.org/iran"
    assert a["category"] == "Security"
    assert a["slug"] == "iranian-nuclear-deal-crisis"  # the title did not change
    # The date filters see the new date (date_start and date_end follow).
    listed = json.loads(cli("list", "--on", "2022-03-05", "--json").out)
    assert [x["id"] for x in listed] == [IRAN]
    edits = dict(
        sqlite3.connect(seeded).execute("SELECT field, source_value FROM edits").fetchall()
    )
    assert sorted(edits) == ["authors", "category", "date", "doi", "excerpt", "url"]
    assert json.loads(edits["date"]) == "2022-01-28"
    assert json.loads(edits["authors"]) == []
    # Setting an empty value clears a field.
    assert cli("edit", IRAN, "--set", "doi=", "--set", "authors=").code == 0
    a = show(cli, IRAN)
    assert (a["doi"], a["authors"]) == (None, [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "date=2022-02-30"],
            "Error: --set date: day 30 does not exist in February 2022\n",
        ),
        (
            ["--set", "date=01/02/2022"],
            "Error: --set date: '01/02/2022' is ambiguous (day/month or month/day?): "
            "use edit --date-order dmy|mdy\n",
        ),
        (
            ["--set", "doi=not a doi"],
            "Error: --set doi: 'not a doi' is not a DOI; give 10.NNNN/…, doi:10.… or "
            "https://doi.org/10.… (or empty to remove it)\n",
        ),
        (
            ["--set", "colour=red"],
            "Error: --set 'colour=red': expected FIELD=VALUE with FIELD one of: title, "
            "authors, date, excerpt, truncated, category, url, doi\n",
        ),
        (["--set", "title"], None),
        (["--set", "title=  "], "Error: --set title: a title cannot be empty\n"),
        (
            ["--set", "title=A", "--set", "title=B"],
            "Error: --set title is given twice; give each field once\n",
        ),
        (
            ["--reset", "title"],
            f"Error: title of {IRAN} was not edited here, so there is nothing to reset "
            "(irarchive edit REF --set FIELD=VALUE changes it)\n",
        ),
        (
            ["--set", "truncated=maybe"],
            "Error: --set truncated: expected true or false, not 'maybe'\n",
        ),
    ],
)
def test_edit_refuses_bad_values_and_changes_nothing(cli, seeded, args, message):
    before = tables(seeded)
    r = cli("edit", IRAN, *args)
    assert r.code == 2, r
    if message is None:
        assert r.err.startswith("Error: --set 'title': expected FIELD=VALUE"), r.err
    else:
        assert r.err == message
    assert tables(seeded) == before


def test_edit_date_error_matches_the_import_message(cli, seeded):
    """The same reason an import gives for the same bad date (read by the same code)."""
    from irarchive.dates import parse_record_date

    with pytest.raises(ValueError) as raised:
        parse_record_date("2022-02-30")
    r = cli("edit", IRAN, "--set", "date=2022-02-30")
    assert r.err == f"Error: --set date: {raised.value}\n"


def test_reset_puts_the_source_value_back_and_drops_the_edit(cli, seeded):
    original = show(cli, IRAN)
    assert cli("edit", IRAN, "-s", "title=Changed Once", "-s", "date=2023").code == 0
    assert cli("edit", IRAN, "-s", "title=Changed Twice").code == 0
    conn = sqlite3.connect(seeded)
    assert conn.execute("SELECT field, value, source_value FROM edits ORDER BY 1").fetchall() == [
        ("date", '"2023"', '"2022-01-28"'),
        ("title", '"Changed Twice"', '"Iranian Nuclear Deal Crisis"'),  # still the source's
    ]
    listing = cli("edit", IRAN)
    assert listing.out.splitlines()[1].startswith(
        "title: 'Changed Twice' (source: 'Iranian Nuclear Deal Crisis'; edited "
    )
    r = cli("edit", "changed-twice", "--reset", "title")
    assert r.code == 0, r
    assert "  title: 'Changed Twice' -> 'Iranian Nuclear Deal Crisis' (the source's value)" in r.err
    assert conn.execute("SELECT field FROM edits").fetchall() == [("date",)]
    back = show(cli, IRAN)
    assert (back["title"], back["slug"]) == (original["title"], original["slug"])
    # Both later slugs keep resolving.
    assert show(cli, "changed-once")["id"] == show(cli, "changed-twice")["id"] == IRAN
    assert cli("edit", IRAN, "--reset", "all").code == 0
    assert show(cli, IRAN) == original
    assert conn.execute("SELECT count(*) FROM edits").fetchone()[0] == 0
    # Setting a field back to the source's value by hand drops its edit too.
    assert cli("edit", IRAN, "-s", "date=2024").code == 0
    assert cli("edit", IRAN, "-s", "date=2022-01-28").code == 0
    assert conn.execute("SELECT count(*) FROM edits").fetchone()[0] == 0
    conn.close()


def test_edit_dry_run_shows_the_change_and_writes_nothing(cli, seeded):
    before = tables(seeded)
    r = cli("edit", IRAN, "--set", "title=Dry Title", "--dry-run")
    assert r.code == 0, r
    assert r.err == (
        f"would edit {IRAN}:\n"
        "  title: 'Iranian Nuclear Deal Crisis' -> 'Dry Title'\n"
        "  slug: iranian-nuclear-deal-crisis -> dry-title (the old slug still finds it)\n"
    )
    assert tables(seeded) == before
    conn = sqlite3.connect(seeded)
    assert conn.execute("SELECT count(*) FROM undo_log").fetchone()[0] == 0


def test_edit_with_the_current_values_changes_nothing(cli, seeded):
    before = tables(seeded)
    r = cli("edit", IRAN, "--set", "title=Iranian Nuclear Deal Crisis")
    assert (r.code, r.err) == (
        0,
        f"{IRAN}: nothing to change (the fields already hold these values)\n",
    )
    assert tables(seeded) == before


def test_markup_in_edited_values_is_printed_literally(cli, seeded):
    hostile = "[bold red]Loud[/bold red] \x1b[31mred\x1b[0m \u202eevil"
    r = cli("edit", IRAN, "--set", f"title={hostile}")
    assert r.code == 0, r
    assert "[bold red]Loud[/bold red] ^[[31mred^[[0m <U+202E>evil" in r.err
    assert "\x1b" not in r.err and "\u202e" not in r.err
    assert show(cli, IRAN)["title"] == hostile  # stored exactly
    listed = cli("edit", IRAN)
    assert "[bold red]Loud[/bold red] ^[[31mred^[[0m <U+202E>evil" in listed.out
    assert "\x1b" not in listed.out
    text = cli("show", IRAN)  # plain text on a pipe
    assert "[bold red]Loud[/bold red]" in text.out and "\x1b" not in text.out


def test_edit_unknown_ref_names_the_fix(cli, seeded):
    r = cli("edit", "no-such-article", "--set", "title=X")
    assert (r.code, r.err) == (
        1,
        "Error: no article 'no-such-article' (try: irarchive search no-such-article)\n",
    )


# ---- undo of edit and rm ------------------------------------------------------------------


def test_undo_restores_byte_identical_records_after_edit(cli, seeded):
    annotate(seeded, IRAN)
    before = tables(seeded)
    assert cli("edit", IRAN, "-s", "title=New [i]Title[/i]", "-s", "authors=Jane Doe").code == 0
    assert cli("edit", IRAN, "-s", "excerpt=Short.").code == 0
    assert tables(seeded) != before
    first = cli("undo")
    assert first.code == 0, first
    stamp = first.err.split("made at ")[1]
    assert first.err == (
        f"undone: edit excerpt, truncated of {IRAN} (New [i]Title[/i]), made at {stamp}"
    )
    assert stamp.endswith("Z\n") and stamp.startswith("20")
    assert cli("undo").code == 0
    assert tables(seeded) == before
    assert search_ids(cli, "iranian nuclear")[:1] == [IRAN]
    assert search_ids(cli, "new title") == []
    assert cli("db", "check").code == 0


def test_rm_removes_articles_and_annotations_and_undo_brings_all_back(cli, seeded):
    annotate(seeded, IRAN)
    annotate(seeded, SCO)
    before = tables(seeded)
    r = cli("rm", IRAN, "2022-sco-summit-samarkand-key", "--yes")
    assert r.code == 0, r
    assert r.err == (
        "removed 2 articles (with 2 tags, 2 notes, 2 reading-list places); "
        "undo with: irarchive undo\n"
        f"  {IRAN}  2022-01-28  Iranian Nuclear Deal Crisis\n"
        f"  {SCO}  2022-09-30  2022 SCO Summit in Samarkand: Key Takeaways\n"
    )
    assert sqlite3.connect(seeded).execute("SELECT count(*) FROM index_queue").fetchone() == (0,)
    after = tables(seeded)
    assert len(after["articles"]) == 8
    for table in ("tags", "notes", "list_items"):
        assert after[table] == [], table
    assert cli("show", IRAN).code == 1
    assert IRAN not in search_ids(cli, "iranian nuclear deal")
    assert cli("db", "check").code == 0
    listed = json.loads(cli("undo", "--list", "--json").out)
    assert [(e["action"], e["articles"]) for e in listed] == [("rm", 2)]
    assert listed[0]["summary"] == "rm 2 articles with 2 tags, 2 notes, 2 reading-list places"
    r = cli("undo")
    assert r.code == 0, r
    assert tables(seeded) == before
    assert search_ids(cli, "iranian nuclear deal")[:1] == [IRAN]
    assert cli("db", "check").code == 0
    assert json.loads(cli("undo", "--list", "--json").out) == []


def test_rm_dry_run_lists_and_keeps_everything(cli, seeded):
    annotate(seeded, IRAN)
    before = tables(seeded)
    r = cli("rm", IRAN, "--dry-run")
    assert (r.code, r.err) == (
        0,
        "would remove 1 article (with 1 tag, 1 note, 1 reading-list place):\n"
        f"  {IRAN}  2022-01-28  Iranian Nuclear Deal Crisis\n",
    )
    assert tables(seeded) == before


def test_rm_refuses_on_a_pipe_without_yes(seeded):
    """A real process whose stdin is not a terminal: nothing to ask, so it refuses."""
    before = digest(seeded)
    r = run_proc("rm", IRAN, env={"IRARCHIVE_DB": str(seeded)})
    assert r.code == 2, r
    assert r.err == (
        "Error: rm would delete 1 article and there is no terminal to ask: add --yes to "
        "delete (or --dry-run to see what would go)\n"
    )
    assert r.out == ""
    assert digest(seeded) == before
    piped = run_proc("rm", IRAN, env={"IRARCHIVE_DB": str(seeded)}, stdin=b"y\n")
    assert piped.code == 2, piped  # "y" on a pipe is not an answer
    assert digest(seeded) == before


def _on_a_terminal(args: list[str], answer: bytes, db: Path) -> tuple[int, bytes]:
    """Run irarchive with a pty as stdin/stdout/stderr, answer its question, return all."""
    proc, fd = on_a_terminal([*IRARCHIVE, *args], env={**os.environ, "IRARCHIVE_DB": str(db)})
    screen = b""
    answered = False
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                raise AssertionError(f"no output; the screen so far: {screen!r}")
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            screen += data
            if not answered and b"[y/N]" in screen:
                os.write(fd, answer)
                answered = True
    finally:
        code = proc.wait()
        os.close(fd)
    return code, screen


def test_rm_asks_on_a_terminal(seeded):
    annotate(seeded, IRAN)
    before = tables(seeded)
    code, screen = _on_a_terminal(["rm", IRAN], b"n\n", seeded)
    assert code == 1, screen
    assert b"Delete 1 article (with 1 tag, 1 note, 1 reading-list place)? [y/N]" in screen
    assert b"Cancelled; nothing was changed" in screen
    assert tables(seeded) == before
    code, screen = _on_a_terminal(["rm", IRAN], b"y\n", seeded)
    assert code == 0, screen
    assert b"removed 1 article" in screen
    assert [r[1] for r in tables(seeded)["articles"]].count(IRAN) == 0


def test_undo_with_nothing_to_undo(cli, seeded):
    r = cli("undo")
    assert (r.code, r.err) == (1, "Error: nothing to undo (the undo log is empty)\n")
    assert cli("undo", "--list", "--json").out == "[]\n"


def test_undo_refuses_to_throw_away_later_changes_on_a_pipe(cli, seeded):
    assert cli("edit", IRAN, "-s", "title=Edited Title").code == 0
    conn = sqlite3.connect(seeded)
    conn.execute("INSERT INTO tags VALUES (?, 'later', '2026-12-31T00:00:00Z')", (IRAN,))
    conn.commit()
    with_tag = tables(seeded)
    r = cli("undo")
    assert r.code == 2, r
    stamp = r.err.split("Crisis), ")[1].split(")")[0]
    assert r.err == (
        f"Error: the last change (edit title of {IRAN} (Iranian Nuclear Deal Crisis), "
        f"{stamp}) was followed by other changes to its articles; undoing it would throw "
        "those away too: run 'irarchive undo --yes' to do it anyway\n"
    )
    assert tables(seeded) == with_tag
    assert cli("undo", "--yes").code == 0
    assert show(cli, IRAN)["title"] == "Iranian Nuclear Deal Crisis"
    assert conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
    conn.close()


def test_undo_list_keeps_at_least_twenty_entries(cli, seeded):
    for n in range(22):
        assert cli("edit", IRAN, "-s", f"title=Title number {n}").code == 0
    listed = json.loads(cli("undo", "--list", "--json").out)
    assert len(listed) == 22
    assert listed[0]["summary"] == f"edit title of {IRAN} (Title number 20)"
    assert list(listed[0]) == ["entry", "at", "action", "articles", "summary"]
    for _ in range(22):
        assert cli("undo").code == 0
    assert show(cli, IRAN)["title"] == "Iranian Nuclear Deal Crisis"


TEXT_CHARS = st.characters(blacklist_categories=("Cs",))
EDIT_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "title": st.text(TEXT_CHARS, min_size=1, max_size=30).filter(lambda t: t.strip()),
        "category": st.text(TEXT_CHARS, max_size=10),
        "url": st.text(max_size=20),
        "excerpt": st.text(TEXT_CHARS, max_size=40),
        "date": st.dates().map(lambda d: d.isoformat()),
    },
).filter(bool)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=EDIT_VALUES)
def test_any_edit_is_undone_byte_for_byte(seeded_template, tmp_path_factory, values):
    import shutil

    db = tmp_path_factory.mktemp("edit") / "a.db"
    shutil.copyfile(seeded_template, db)
    open_archive(str(db)).close()
    annotate(db, IRAN)
    before = tables(db)
    args = [x for name, value in values.items() for x in ("--set", f"{name}={value}")]
    r = run_cli("--db", str(db), "edit", IRAN, *args)
    assert r.code == 0, r
    if "nothing to change" not in r.err:
        assert run_cli("--db", str(db), "db", "check").code == 0
        assert run_cli("--db", str(db), "undo").code == 0
    assert tables(db) == before
    assert run_cli("--db", str(db), "db", "check").code == 0


# ---- kill -9 during a large rm ------------------------------------------------------------


def _big_archive(path: Path, n: int) -> list[str]:
    from irarchive.model import Article

    archive = open_archive(str(path))
    try:
        archive.import_items(
            Article(
                title=f"Article {i} on the Caspian pipeline",
                date=f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}",
                excerpt=f"Body {i} on gas and the Shanghai Cooperation Organization (SCO).",
                url=f"https://example.org/{i}",
            )
            for i in range(n)
        )
        archive.conn.execute(
            "INSERT INTO tags SELECT id, 'pipeline', '2026-01-01T00:00:00Z' FROM articles"
        )
        return [r[0] for r in archive.conn.execute("SELECT id FROM articles")]
    finally:
        archive.close()


def _annotations_digest(db: Path) -> str:
    import hashlib

    return hashlib.sha256(repr(tables(db)).encode("utf-8", "surrogatepass")).hexdigest()


@pytest.mark.slow
@pytest.mark.waits
def test_kill_9_during_a_large_rm_leaves_before_or_after(tmp_path):
    db = tmp_path / "big.db"
    ids = _big_archive(db, 8_000)
    before = _annotations_digest(db)
    # What the archive looks like once the rm is done (on a copy, run to the end).
    done = tmp_path / "done.db"
    src, dst = sqlite3.connect(db), sqlite3.connect(done)
    src.backup(dst)
    src.close()
    dst.close()
    finished = run_proc("--db", str(done), "rm", "--yes", *ids[:6_000], timeout=600)
    assert finished.code == 0, finished
    after = _annotations_digest(done)
    assert after != before
    # Killed at different points of its transaction: as soon as it holds the write
    # lock, and later on (the sleeps pick points; nothing asserts how long it takes).
    for n, wait in enumerate((0.0, 0.3, 0.8)):
        attempt = tmp_path / f"attempt{n}.db"
        src, dst = sqlite3.connect(db), sqlite3.connect(attempt)
        src.backup(dst)
        src.close()
        dst.close()
        _rm_killed(attempt, ids[:6_000], wait)
        state = _annotations_digest(attempt)
        assert state in (before, after), f"attempt {n} left the archive between"
        r = run_cli("--db", str(attempt), "db", "check")
        assert r.code == 0, r
        conn = sqlite3.connect(attempt)
        assert conn.execute("SELECT count(*) FROM undo_log").fetchone()[0] == (state == after)
        conn.close()
        if state == before:
            # The interrupted change never happened: running it again finishes it.
            assert run_proc("--db", str(attempt), "rm", "--yes", *ids[:6_000]).code == 0
            assert _annotations_digest(attempt) == after


def _rm_killed(db: Path, ids: list[str], wait: float) -> bool:
    """Start ``rm --yes IDS``, SIGKILL it ``wait`` s after it takes the write lock.

    Returns whether it was killed while holding the lock (it may have finished first).
    """
    proc = subprocess.Popen(
        [*IRARCHIVE, "--db", str(db), "rm", "--yes", *ids],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed = False
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        while proc.poll() is None:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:  # locked: the rm is in its transaction
                time.sleep(wait)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed = True
                break
            time.sleep(0.005)
    finally:
        probe.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return killed


# ---- db check --repair -----------------------------------------------------------------------


def _all_data(db: Path) -> str:
    """Digest of the articles and every annotation table (what repair must never change)."""
    return _annotations_digest(db)


def test_repair_rebuilds_a_damaged_index_and_missing_slugs(cli, seeded):
    annotate(seeded, IRAN)
    healthy = _all_data(seeded)
    conn = sqlite3.connect(seeded)
    acronyms = conn.execute("SELECT * FROM acronyms ORDER BY 1, 2").fetchall()
    assert ("jcpoa", "joint comprehensive plan of action", 1) in acronyms
    conn.execute("DELETE FROM articles_fts_data WHERE id > 10")
    conn.execute("DELETE FROM notes_fts_data WHERE id > 1")
    conn.execute("UPDATE articles SET slug = NULL WHERE rowid <= 3")
    conn.execute("DELETE FROM vocab")
    conn.execute("DELETE FROM acronyms")
    conn.commit()
    conn.close()
    damaged = cli("db", "check")
    assert damaged.code == 1
    assert damaged.err.startswith(
        "problem: full-text index: damaged (database disk image is malformed); "
        "irarchive db check --repair rebuilds it\n"
    ), damaged.err
    assert cli("search", "sco").code == 1  # what a damaged index does to search
    assert cli("list", "-n", "1").code == 0  # the articles still read
    r = cli("db", "check", "--repair")
    assert r.code == 0, r
    assert r.out == "ok: 10 articles, index consistent\n"
    repaired = [line for line in r.err.splitlines() if line.startswith("repaired: ")]
    assert repaired == [
        "repaired: slugs: gave 3 articles a slug",
        "repaired: search index and vocabulary: rebuilt from 10 articles",
        "repaired: notes index: rebuilt from 1 note",
        "repaired: acronyms: 4 definitions re-learned from the articles",
    ]
    # The slugs come back as they were, and nothing else changed.
    assert _all_data(seeded) == healthy
    assert search_ids(cli, "sco")[:2] == [SCO, "7c24afc7070dfa8e"]
    assert search_ids(cli, "shangai cooperaton")[:1] == ["7c24afc7070dfa8e"]  # vocab is back
    assert search_ids(cli, "JCPOA")[:1] == [IRAN]  # acronyms are back
    conn = sqlite3.connect(seeded)
    assert conn.execute("SELECT * FROM acronyms ORDER BY 1, 2").fetchall() == acronyms
    assert conn.execute(
        "SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'compare'"
    ).fetchall() == [(1,)]
    conn.close()
    assert cli("db", "check").code == 0


def test_repair_changes_no_article_or_annotation_of_a_healthy_archive(cli, seeded, tmp_path):
    annotate(seeded, IRAN)
    assert cli("edit", SCO, "-s", "title=Renamed Summit").code == 0
    before = _all_data(seeded)
    vocab = sqlite3.connect(seeded).execute("SELECT * FROM vocab ORDER BY 1").fetchall()
    r = cli("db", "check", "--repair")
    assert r.code == 0, r
    assert _all_data(seeded) == before
    assert sqlite3.connect(seeded).execute("SELECT * FROM vocab ORDER BY 1").fetchall() == vocab


def test_repair_recreates_a_dropped_unique_slug_index_after_fixing_duplicates(cli, seeded):
    conn = sqlite3.connect(seeded)
    conn.execute("DROP INDEX articles_slug")
    conn.execute("UPDATE articles SET slug = 'same-slug' WHERE id IN (?, ?)", (IRAN, SCO))
    conn.commit()
    conn.close()
    r = cli("db", "check")
    assert r.code == 1
    assert "problem: schema: index 'articles_slug' is missing" in r.err
    r = cli("db", "check", "--repair")
    assert r.code == 0, r
    assert "repaired: slugs: gave 1 article a unique slug" in r.err
    assert "repaired: schema: index 'articles_slug' recreated" in r.err
    slugs = [show(cli, IRAN)["slug"], show(cli, SCO)["slug"]]
    assert "same-slug" in slugs and len(set(slugs)) == 2


def test_repair_refuses_on_an_archive_with_foreign_triggers(cli, seeded):
    conn = sqlite3.connect(seeded)
    conn.execute("CREATE TRIGGER wipe AFTER UPDATE ON articles BEGIN DELETE FROM articles; END")
    conn.commit()
    conn.close()
    before = digest(seeded)
    r = cli("db", "check", "--repair")
    assert r.code == 1
    assert r.err.startswith("Error: ") and "'wipe'" in r.err and "nothing was repaired" in r.err
    assert digest(seeded) == before
    r = cli("rm", IRAN, "--yes")
    assert r.code == 1 and "nothing was removed" in r.err
    assert digest(seeded) == before


def test_db_check_reports_orphaned_annotations_and_keeps_them(cli, seeded):
    annotate(seeded, IRAN)
    conn = sqlite3.connect(seeded)
    conn.execute("DELETE FROM articles WHERE id = ?", (IRAN,))
    conn.commit()
    conn.close()
    r = cli("db", "check")
    assert r.code == 0, r
    assert r.err == (
        "note: 1 tag, 1 note, 1 reading-list place belong to articles that are no longer "
        "in the archive; they are kept, and importing those articles again (same ids) "
        "brings them back\n"
    )
    counts = [len(tables(seeded)[t]) for t in ("tags", "notes", "list_items")]
    assert counts == [1, 1, 1]
    assert cli("db", "check", "--repair").code == 0
    assert [len(tables(seeded)[t]) for t in ("tags", "notes", "list_items")] == [1, 1, 1]


# ---- aliases ------------------------------------------------------------------------------


def test_a_merged_id_and_its_prefix_resolve_to_the_article_it_became(cli, seeded):
    merged = "00000000deadbeef"
    conn = sqlite3.connect(seeded)
    conn.execute("INSERT INTO aliases VALUES (?, ?, 'id', 'x')", (merged, IRAN))
    conn.execute("INSERT INTO aliases VALUES ('older-slug', ?, 'slug', 'x')", (merged,))
    conn.commit()
    conn.close()
    assert show(cli, merged)["id"] == IRAN
    assert show(cli, "00000000dead")["id"] == IRAN
    assert show(cli, "older-slug")["id"] == IRAN  # an alias of an alias


def test_an_unsealed_entry_is_judged_by_the_timestamps_of_later_rows(seeded):
    """Entries written by other commands without ``undo.seal`` (a merge, say)."""
    from irarchive.store import undo

    archive = open_archive(str(seeded))
    c = archive.conn
    try:
        c.execute("BEGIN IMMEDIATE")
        undo.record(c, "merge", "merged", [IRAN], now="2026-02-01T00:00:00Z")
        c.execute("INSERT INTO tags VALUES (?, 'same-moment', '2026-02-01T00:00:00Z')", (IRAN,))
        c.execute("COMMIT")
        assert undo.changed_since(c) is False
        c.execute(
            "INSERT INTO notes(article_id, created_at, text) VALUES (?, ?, 'later')",
            (IRAN, "2026-02-02T00:00:00Z"),
        )
        assert undo.changed_since(c) is True
    finally:
        archive.close()


def test_db_check_finds_index_damage_that_no_queued_change_reveals(cli, seeded):
    """Rows deleted from the index's own tables: nothing is queued, search just breaks."""
    before = _all_data(seeded)
    conn = sqlite3.connect(seeded)
    conn.execute("DELETE FROM articles_fts_data WHERE id > 10")
    conn.commit()
    conn.close()
    r = cli("db", "check")
    assert (r.code, r.err) == (
        1,
        "problem: full-text index: damaged (database disk image is malformed); "
        "irarchive db check --repair rebuilds it\n",
    )
    search = cli("search", "sco")
    assert search.code == 1 and "irarchive db check --repair" in search.err
    assert cli("db", "check", "--repair").code == 0
    assert (cli("db", "check").code, _all_data(seeded)) == (0, before)
