"""Reading lists: ``lists add/show/export/remove`` and ``lists``; and browse with --tag."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from tests.conftest import digest

CICA = "141e649dec283798"  # 2022-11-01
SCO = "a510295c9c3d6635"  # 2022-09-30
IRAN = "6b77fb39ae23803c"  # 2022-01-28
TURKIC = "32df31479cf58241"  # 2022-05-03


def ids(out: str) -> list[str]:
    return [line.split("\t")[1] for line in out.splitlines() if line]


@pytest.fixture
def thesis(cli, seeded):
    r = cli("lists", "add", "Thesis", IRAN, CICA, "iranian-nuclear-deal-crisis", TURKIC)
    assert r.code == 0, r
    return seeded


def test_lists_add_creates_appends_in_order_and_skips_repeats(cli, seeded):
    r = cli("lists", "add", "Thesis", IRAN, CICA)
    assert (r.code, r.out, r.err) == (0, "", "added 2 articles to 'Thesis' (a new list)\n")
    r = cli("lists", "add", "THESIS", CICA, TURKIC, "iranian-nuclear-deal-crisis")
    assert r.err == (
        "added 1 article to 'Thesis'\n"
        f"  already on it: {CICA} (The Sixth CICA Summit: Asian Vision of the Global Development)\n"
        f"  already on it: {IRAN} (Iranian Nuclear Deal Crisis)\n"
    )
    # List order, not date order; position numbers from 1.
    assert ids(cli("lists", "show", "thesis").out) == [IRAN, CICA, TURKIC]
    assert [line.split("\t")[0] for line in cli("lists", "show", "thesis").out.splitlines()] == [
        "1",
        "2",
        "3",
    ]


def test_lists_lists_every_list_with_counts(cli, thesis):
    cli("lists", "add", "another one", SCO)
    rows = json.loads(cli("lists", "--json").out)
    assert [(r["name"], r["count"]) for r in rows] == [("another one", 1), ("Thesis", 3)]
    assert all(r["created_at"].endswith("Z") for r in rows)
    table = cli("lists", "-f", "table").out
    assert "Thesis" in table and "another one" in table


def test_no_lists_yet(cli, seeded):
    r = cli("lists", "-f", "table")
    assert (r.code, r.out) == (0, "")
    assert r.err == "no reading lists yet; start one with: irarchive lists add NAME REF...\n"
    assert json.loads(cli("lists", "--json").out) == []


def test_lists_show_formats(cli, thesis):
    data = json.loads(cli("lists", "show", "thesis", "--json").out)
    assert [(d["position"], d["id"]) for d in data] == [(1, IRAN), (2, CICA), (3, TURKIC)]
    assert list(data[0])[:3] == ["position", "id", "slug"] and "tags" in data[0]
    table = cli("lists", "show", "thesis", "-f", "table").out
    assert table.index("Iranian") < table.index("CICA") < table.index("Türkiye")
    out = cli("lists", "show", "thesis", "--fields", "position,title", "-f", "csv").out
    assert out.splitlines()[:2] == ["position,title", "1,Iranian Nuclear Deal Crisis"]


def test_an_unknown_list_names_the_lists(cli, thesis):
    r = cli("lists", "show", "nope")
    assert (r.code, r.err) == (1, "Error: no reading list 'nope'; the lists are: Thesis\n")
    r = cli("lists", "export", "nope")
    assert r.code == 1 and r.err.startswith("Error: no reading list 'nope'")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "Error: the list name is empty; give a name, e.g. thesis"),
        ("a\x1bb", "Error: list name 'a^[b' may not contain control or invisible characters"),
    ],
)
def test_bad_list_names(cli, seeded, name, message):
    r = cli("lists", "add", name, CICA)
    assert (r.code, r.err) == (2, message + "\n")


def test_a_bad_reference_adds_nothing(cli, seeded):
    r = cli("lists", "add", "thesis", CICA, "no-such-article-here")
    assert r.code == 1
    assert json.loads(cli("lists", "--json").out) == []


def test_lists_export_keeps_list_order(cli, thesis):
    bib = cli("lists", "export", "thesis").out
    keys = [line.split("{", 1)[1].rstrip(",") for line in bib.splitlines() if line.startswith("@")]
    assert [k[-16:] for k in keys] == [IRAN, CICA, TURKIC]
    items = json.loads(cli("lists", "export", "thesis", "-f", "csl-json").out)
    assert [i["id"][-16:] for i in items] == [IRAN, CICA, TURKIC]
    md = cli("lists", "export", "thesis", "-f", "markdown").out
    assert md.index("Iranian") < md.index("CICA") < md.index("Türkiye")
    lines = cli("lists", "export", "thesis", "-f", "jsonl").out.splitlines()
    assert [json.loads(x)["id"] for x in lines] == [IRAN, CICA, TURKIC]
    assert all("notes" in json.loads(x) for x in lines)


def test_lists_export_to_a_file_by_its_ending(cli, thesis, tmp_path):
    target = tmp_path / "thesis.ris"
    r = cli("lists", "export", "thesis", "-o", str(target))
    assert r.err == f"exported 3 articles of 'Thesis' as ris to {target}\n"
    text = target.read_text()
    assert text.index("Iranian") < text.index("CICA") < text.index("Türkiye")


def test_lists_remove_refuses_off_a_terminal_without_yes(cli, thesis):
    before = cli("lists", "show", "thesis", "--json").out
    r = cli("lists", "remove", "thesis", CICA)
    assert (r.code, r.err) == (
        2,
        "Error: lists remove changes the archive; confirm with --yes "
        "(or see what it would do with --dry-run)\n",
    )
    r = cli("lists", "remove", "thesis")
    assert r.code == 2
    r = cli("lists", "remove", "thesis", CICA, "--dry-run")
    assert (r.code, r.err) == (
        0,
        "would remove 1 article from 'Thesis'\n"
        f"  {CICA} (The Sixth CICA Summit: Asian Vision of the Global Development)\n",
    )
    assert cli("lists", "show", "thesis", "--json").out == before


def test_lists_remove_items_keeps_the_order_of_the_rest(cli, thesis):
    before = digest(thesis)
    r = cli("lists", "remove", "thesis", CICA, SCO, "--yes")
    assert r.err == (
        f"not on 'Thesis': {SCO} (2022 SCO Summit in Samarkand: Key Takeaways)\n"
        "removed 1 article from 'Thesis'\n"
    )
    assert ids(cli("lists", "show", "thesis").out) == [IRAN, TURKIC]
    assert digest(thesis) == before  # the articles themselves stay
    r = cli("lists", "remove", "thesis", SCO, "--yes")
    assert r.err.endswith("nothing to remove\n") and r.code == 0


def test_removing_a_whole_list_can_be_undone(cli, thesis):
    from irarchive.store import open_archive, undo

    r = cli("lists", "remove", "THESIS", "-y")
    assert r.err == "removed the list 'Thesis' (3 articles)\n"
    assert json.loads(cli("lists", "--json").out) == []
    archive = open_archive(str(thesis))
    try:
        c = archive.conn
        assert [e.action for e in undo.entries(c)] == ["lists remove"]
        c.execute("BEGIN IMMEDIATE")
        undo.restore_last(c)
        c.execute("COMMIT")
    finally:
        archive.close()
    assert ids(cli("lists", "show", "thesis").out) == [IRAN, CICA, TURKIC]
    assert [r["name"] for r in json.loads(cli("lists", "--json").out)] == ["Thesis"]


def test_lists_remove_asks_on_a_terminal(cli, thesis, monkeypatch):
    from irarchive import cli as cli_module

    monkeypatch.setattr(cli_module, "_isatty", lambda stream: True)
    monkeypatch.setattr(cli_module, "stdout_is_terminal", lambda: True)
    r = cli("lists", "remove", "thesis", CICA, stdin=b"n\n")
    assert r.code == 1 and "Remove 1 article from 'Thesis'? [y/N]" in r.err
    assert len(json.loads(cli("lists", "show", "thesis", "--json").out)) == 3
    r = cli("lists", "remove", "thesis", CICA, stdin=b"y\n")
    assert r.code == 0 and r.err.endswith("removed 1 article from 'Thesis'\n")
    assert [a["id"] for a in json.loads(cli("lists", "show", "thesis", "--json").out)] == [
        IRAN,
        TURKIC,
    ]


def test_list_names_are_data_not_markup(cli, seeded):
    cli("lists", "add", "[bold]mine[/]", CICA)
    table = cli("lists", "-f", "table").out
    assert "[bold]mine[/]" in table
    assert "[bold]mine[/]" in cli("lists", "show", "[BOLD]MINE[/]", "-f", "table").err + (
        cli("lists", "--json").out
    )


def test_list_items_refer_to_articles_by_id(cli, thesis):
    conn = sqlite3.connect(thesis)
    try:
        rows = conn.execute("SELECT article_id FROM list_items ORDER BY position").fetchall()
    finally:
        conn.close()
    assert rows == [(IRAN,), (CICA,), (TURKIC,)]


# ---- browse --tag -------------------------------------------------------------------------


def test_browse_filters_by_tag_and_keeps_it_through_the_date_dialog(cli, seeded):
    pytest.importorskip("textual")
    from datetime import date

    from irarchive.store import Filters
    from irarchive.tui.app import BrowseApp
    from irarchive.tui.date_dialog import DateDialog
    from tests.test_tui import ids, screen_text, settle

    cli("tag", CICA, SCO, IRAN, "+asia")
    cli("tag", IRAN, "+old")
    cli("tag", SCO, "+[i]x[/i]")
    cli("note", CICA, "-m", "[bold]my[/] note")

    async def run() -> None:
        app = BrowseApp(
            str(seeded),
            filters=Filters(tags=("asia",), without_tags=("old",)),
            today=date(2026, 11, 27),
        )
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert ids(app) == [CICA, SCO]
            assert "tag: asia, -old" in str(app.query_one("#status").render())
            preview = screen_text(app)
            assert "tags: asia" in preview and "[bold]my[/] note" in preview
            await pilot.press("down")
            await pilot.pause()
            assert "tags: [i]x[/i], asia" in screen_text(app)
            await pilot.press("escape", "d")
            assert isinstance(app.screen, DateDialog)
            for ch in "2022..2022":
                await pilot.press(ch)
            await pilot.press("enter")
            await settle(pilot)
            assert ids(app) == [CICA, SCO]
            assert "tag: asia, -old" in str(app.query_one("#status").render())

    asyncio.run(run())
