"""Tags and notes: ``tag``, ``tags``, ``note``, ``--tag`` filters, ``search --in notes``,
and tags and notes in every output format."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import IRARCHIVE, digest

CICA = "141e649dec283798"  # The Sixth CICA Summit: Asian Vision of the Global Development
SCO = "a510295c9c3d6635"  # 2022 SCO Summit in Samarkand: Key Takeaways
IRAN = "6b77fb39ae23803c"  # Iranian Nuclear Deal Crisis
TURKIC = "32df31479cf58241"  # 30th Year of Diplomatic Relations between Türkiye and …


def ids(out: str) -> list[str]:
    return [line.split("\t")[0] for line in out.splitlines() if line]


def tag(cli, *args: str):
    r = cli("tag", *args)
    assert r.code == 0, r
    return r


# ---- tag -------------------------------------------------------------------------------


def test_tag_adds_and_removes_and_reports_per_article(cli, seeded):
    r = tag(cli, CICA, "2022-sco-summit-samarkand-key", "+Energy", "+To  Read")
    assert r.out == ""
    assert r.err == (
        f"{CICA} (The Sixth CICA Summit: Asian Vision of the Global Development): "
        "added energy, to read; tags: energy, to read\n"
        f"{SCO} (2022 SCO Summit in Samarkand: Key Takeaways): "
        "added energy, to read; tags: energy, to read\n"
    )
    r = tag(cli, CICA, "-ENERGY", "+gas")
    assert r.err == (
        f"{CICA} (The Sixth CICA Summit: Asian Vision of the Global Development): "
        "added gas; removed energy; tags: gas, to read\n"
    )
    r = tag(cli, CICA, "+GAS")
    assert r.err.endswith(": unchanged; tags: gas, to read\n")
    data = json.loads(cli("show", CICA, "--json").out)
    assert data["tags"] == ["gas", "to read"]


def test_tags_are_case_and_width_insensitive(cli, seeded):
    tag(cli, IRAN, "+Ｎｕｃｌｅａｒ  Deal")  # fullwidth letters, two spaces
    tag(cli, SCO, "+NUCLEAR deal")
    assert json.loads(cli("tags", "--json").out) == [{"tag": "nuclear deal", "count": 2}]
    assert set(ids(cli("list", "--tag", "Nuclear DEAL").out)) == {IRAN, SCO}


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("+", "Error: a tag is empty; give some text, e.g. +energy"),
        ("+  ", "Error: a tag is empty; give some text, e.g. +energy"),
        ("++x", "Error: tag '+x' may not start with + or -"),
        ("+-x", "Error: tag '-x' may not start with + or -"),
        ("+a,b", "Error: tag 'a,b' may not contain a comma (one tag per +TAG)"),
        ("+a\x1b[31mb", "Error: tag 'a^[[31mb' may not contain control or invisible characters"),
        ("+a\u202eb", "Error: tag 'a<U+202E>b' may not contain control or invisible characters"),
        ("+" + "x" * 65, f"Error: tag '{'x' * 65}' is longer than 64 characters"),
    ],
)
def test_bad_tags_are_usage_errors_naming_the_tag(cli, seeded, arg, message):
    before = digest(seeded)
    r = cli("tag", CICA, arg)
    assert (r.code, r.err, r.exception) == (2, message + "\n", None)
    assert digest(seeded) == before
    assert json.loads(cli("tags", "--json").out) == []


@pytest.mark.parametrize(
    "args",
    [[CICA], ["+energy"], [CICA, "+x", "-x"]],
    ids=["no tag", "no article", "added and removed"],
)
def test_tag_needs_an_article_and_a_tag(cli, seeded, args):
    r = cli("tag", *args)
    assert r.code == 2 and r.err.startswith("Error: ") and r.err.count("\n") == 1, r


def test_a_bad_reference_changes_nothing(cli, seeded):
    r = cli("tag", CICA, "no-such-article-here", "+energy")
    assert r.code == 1 and "no article 'no-such-article-here'" in r.err
    assert json.loads(cli("tags", "--json").out) == []


def test_removing_a_tag_is_recorded_for_undo_and_adding_is_not(cli, seeded):
    from irarchive.store import open_archive, undo

    tag(cli, CICA, SCO, "+energy", "+gas")
    archive = open_archive(str(seeded))
    try:
        assert undo.entries(archive.conn) == []
    finally:
        archive.close()
    tag(cli, CICA, SCO, "-energy")
    archive = open_archive(str(seeded))
    try:
        c = archive.conn
        [entry] = undo.entries(c)
        assert (entry.action, entry.summary, entry.articles) == (
            "untag",
            "removed tag energy from 2 articles",
            2,
        )
        c.execute("BEGIN IMMEDIATE")
        undo.restore_last(c)
        c.execute("COMMIT")
    finally:
        archive.close()
    assert json.loads(cli("show", CICA, "--json").out)["tags"] == ["energy", "gas"]


def test_tags_lists_counts_in_every_format(cli, seeded):
    tag(cli, CICA, SCO, IRAN, "+b")
    tag(cli, CICA, "+a")
    assert json.loads(cli("tags", "--json").out) == [
        {"tag": "b", "count": 3},
        {"tag": "a", "count": 1},
    ]
    assert cli("tags").out == "b\t3\na\t1\n"
    assert cli("tags", "-f", "csv").out == "tag,count\nb,3\na,1\n"
    table = cli("tags", "-f", "table").out
    assert "│ b   │     3 │" in table and "│ a   │     1 │" in table


def test_tags_says_when_there_are_none(cli, seeded, monkeypatch):
    assert cli("tags").out == ""
    r = cli("tags", "-f", "table")
    assert (r.out, r.err) == ("", "no tags yet; add some with: irarchive tag REF +TAG\n")


# ---- --tag filters -----------------------------------------------------------------------


@pytest.fixture(params=["rare tags", "common tags"])
def tagged(cli, seeded, request, monkeypatch):
    """CICA: asia, summit; SCO: asia, summit, sco; IRAN: asia. The others: none.

    Run twice: with the tags read from the tag index, and checked row by row (as a
    tag on very many articles is).
    """
    if request.param == "common tags":
        monkeypatch.setattr("irarchive.store.archive.COMMON_TAG", 0)
    tag(cli, CICA, SCO, IRAN, "+asia")
    tag(cli, CICA, SCO, "+summit")
    tag(cli, SCO, "+sco")
    return seeded


def test_tag_filters_are_anded_and_exclude(cli, tagged):
    assert ids(cli("list", "--tag", "asia").out) == [CICA, SCO, IRAN]
    assert ids(cli("list", "--tag", "asia", "--tag", "SUMMIT").out) == [CICA, SCO]
    assert ids(cli("list", "--tag", "asia", "--tag", "summit", "--tag", "sco").out) == [SCO]
    assert ids(cli("list", "--tag", "asia", "--tag", "-summit").out) == [IRAN]
    assert ids(cli("list", "--tag=-asia").out) == [
        i for i in ids(cli("list").out) if i not in (CICA, SCO, IRAN)
    ]
    assert len(ids(cli("list", "--tag", "-asia").out)) == 7
    assert cli("list", "--tag", "nothing-has-it").out == ""
    # With a limit (the newest N) the filters are checked row by row.
    assert ids(cli("list", "--tag", "asia", "--tag", "-summit", "-n", "5").out) == [IRAN]
    assert ids(cli("list", "--tag", "summit", "-n", "1").out) == [CICA]
    assert len(ids(cli("list", "--tag", "-asia", "-n", "5").out)) == 5


def test_a_tag_both_required_and_excluded_is_a_usage_error(cli, tagged):
    r = cli("list", "--tag", "asia", "--tag", "-Asia")
    assert (r.code, r.err) == (2, "Error: --tag 'asia' is both required and excluded\n")


def test_tag_filters_search(cli, tagged):
    found = ids(cli("search", "summit").out)
    assert SCO in found and CICA in found and len(found) > 2
    assert ids(cli("search", "summit", "--tag", "summit", "--tag", "-sco").out) == [CICA]
    assert ids(cli("search", "summit", "--tag", "-summit").out) == [
        i for i in found if i not in (CICA, SCO)
    ]


def test_tag_filters_stats_and_export(cli, tagged):
    rows = json.loads(cli("stats", "--tag", "asia", "--json").out)
    assert rows == [{"period": "2022", "count": 3}]
    rows = json.loads(cli("stats", "--tag", "asia", "--tag", "-summit", "--json").out)
    assert rows == [{"period": "2022", "count": 1}]
    items = json.loads(cli("export", "-f", "csl-json", "--tag", "summit").out)
    assert [i["id"].rsplit("-", 1)[1] for i in items] == [CICA, SCO]
    exported = cli("export", "-f", "jsonl", "--tag", "-asia").out.splitlines()
    assert len(exported) == 7


def test_bad_tag_filter_is_a_usage_error(cli, seeded):
    for command in (["list"], ["search", "x"], ["stats"], ["export"]):
        r = cli(*command, "--tag", "a,b")
        assert (r.code, r.err) == (
            2,
            "Error: tag 'a,b' may not contain a comma (one tag per +TAG)\n",
        ), command


def test_tag_filters_use_the_tag_index(seeded):
    """At a million articles a tag filter must not read every row: the plan seeks tags."""
    from irarchive.store import Filters, open_archive

    archive = open_archive(str(seeded))
    try:
        clauses, params = archive._where(Filters(tags=("energy",)))
        plan = archive.conn.execute(
            f"EXPLAIN QUERY PLAN SELECT rowid FROM articles WHERE {' AND '.join(clauses)}",
            params,
        ).fetchall()
        assert any("tags_tag" in row[-1] or "PRIMARY KEY" in row[-1] for row in plan), plan
    finally:
        archive.close()


# ---- tags in every output ------------------------------------------------------------------


def test_tags_in_json_follow_doi_and_are_sorted(cli, tagged):
    data = json.loads(cli("show", SCO, "--json").out)
    keys = list(data)
    assert keys[keys.index("doi") + 1 : keys.index("doi") + 3] == ["tags", "notes"]
    assert data["tags"] == ["asia", "sco", "summit"]
    rows = json.loads(cli("list", "--json").out)
    assert all(list(r)[list(r).index("doi") + 1] == "tags" for r in rows)
    assert {r["id"]: r["tags"] for r in rows}[TURKIC] == []
    hits = json.loads(cli("search", "samarkand", "--json").out)
    assert hits[0]["tags"] == ["asia", "sco", "summit"]
    line = json.loads(cli("export", "-f", "jsonl", "--tag", "sco").out)
    assert line["tags"] == ["asia", "sco", "summit"]


def test_tags_in_csv_and_tsv(cli, tagged):
    rows = list(csv.DictReader(io.StringIO(cli("list", "-f", "csv").out)))
    by_id = {r["id"]: r for r in rows}
    assert json.loads(by_id[SCO]["tags"]) == ["asia", "sco", "summit"]
    assert by_id[TURKIC]["tags"] == ""
    line = next(x for x in cli("list", "-f", "tsv").out.splitlines() if x.startswith(SCO))
    assert "asia, sco, summit" in line.split("\t")  # tags have no commas: unambiguous


def test_tags_in_citations(cli, tagged):
    bib = cli("export", "-f", "bibtex", "--tag", "sco").out
    assert "  keywords = {International Relations, asia, sco, summit},\n" in bib
    ris = cli("export", "-f", "ris", "--tag", "sco").out
    assert "KW  - International Relations\nKW  - asia\nKW  - sco\nKW  - summit\n" in ris
    [item] = json.loads(cli("export", "-f", "csl-json", "--tag", "sco").out)
    assert item["keyword"] == "International Relations, asia, sco, summit"
    untagged = cli("export", "-f", "ris", "--tag", "-asia", "-n", "1").out
    assert untagged.count("KW  - ") == 1


def test_table_has_a_tags_column_only_when_a_shown_article_has_tags(cli, tagged):
    header = cli("list", "-f", "table", "-n", "3").out.splitlines()[1]
    assert "tags" in header
    row = next(x for x in cli("list", "-f", "table", "-n", "3").out.splitlines() if "a510295c" in x)
    assert "asia, sco, summit" in row
    plain = cli("list", "-f", "table", "--tag", "-asia", "-n", "3").out.splitlines()[1]
    assert "tags" not in plain and "title" in plain


def test_show_panel_and_plain_text_show_tags(cli, tagged):
    assert "│ tags: asia, sco, summit" in cli("show", SCO, "-f", "table").out
    assert "\ntags: asia, sco, summit\n" in cli("show", SCO).out


def test_markup_in_tags_is_printed_literally(cli, seeded):
    r = tag(cli, SCO, "+[bold]x[/bold]", "+[link=http://e.vil]y")
    assert "added [bold]x[/bold], [link=http://e.vil]y" in r.err
    table = cli("list", "-f", "table", "--tag", "[BOLD]x[/BOLD]").out
    assert "[bold]x[/bold]" in table and "\x1b" not in table
    assert "tags: [bold]x[/bold], [link=http://e.vil]y" in cli("show", SCO, "-f", "table").out
    assert "│ [bold]x[/bold]" in cli("tags", "-f", "table").out


# ---- notes -------------------------------------------------------------------------------


def test_note_appends_dated_notes_with_paragraphs(cli, seeded):
    r = cli("note", IRAN, "-m", "First thought.", "-m", "Second paragraph.")
    assert r.code == 0 and r.out == ""
    assert r.err == f"{IRAN} (Iranian Nuclear Deal Crisis): note added (1 note)\n"
    r = cli("note", "iranian-nuclear-deal-crisis", "-m", "Later.")
    assert r.err.endswith("note added (2 notes)\n")
    notes = json.loads(cli("note", IRAN, "--list", "--json").out)
    assert [n["text"] for n in notes] == ["First thought.\n\nSecond paragraph.", "Later."]
    for n in notes:
        assert time.strptime(n["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert json.loads(cli("note", IRAN, "--json").out) == notes
    assert json.loads(cli("show", IRAN, "--json").out)["notes"] == notes
    line = json.loads(cli("export", "-f", "jsonl", "--on", "2022-01-28").out)
    assert line["notes"] == notes
    # The data formats other than JSON Lines keep the documented article fields.
    assert "notes" not in json.loads(cli("export", "-f", "json", "--on", "2022-01-28").out)[0]
    assert "notes" not in json.loads(cli("list", "--json", "--on", "2022-01-28").out)[0]


def test_note_list_formats_and_empty(cli, seeded):
    r = cli("note", IRAN, "--list", "-f", "table")
    assert r.out == "" and r.err == (
        f"{IRAN} (Iranian Nuclear Deal Crisis) has no notes; "
        f"add one with: irarchive note {IRAN} -m TEXT\n"
    )
    assert cli("note", IRAN, "--list").out == ""
    cli("note", IRAN, "-m", "two\nlines")
    assert cli("note", IRAN, "--list").out.split("\t")[1] == "two lines\n"


def test_an_empty_note_is_refused(cli, seeded):
    r = cli("note", IRAN, "-m", "  ")
    assert (r.code, r.err) == (2, "Error: the note is empty; give some text with -m\n")
    assert json.loads(cli("note", IRAN, "--json").out) == []


def test_note_needs_a_terminal_for_the_editor(cli, seeded):
    r = cli("note", IRAN)
    assert (r.code, r.err) == (
        2,
        "Error: note opens an editor only on a terminal; give the text with -m TEXT "
        "(or list the notes with --list)\n",
    )
    assert json.loads(cli("note", IRAN, "--json").out) == []


def test_markup_in_notes_is_printed_literally(cli, seeded):
    cli("note", IRAN, "-m", "[bold red]loud[/] \x1b]8;;http://e.vil\x07link\x1b]8;;\x07")
    panel = cli("show", IRAN, "-f", "table").out
    assert "[bold red]loud[/] ^[]8;;http://e.vil^Glink" in panel and "\x1b" not in panel
    table = cli("note", IRAN, "--list", "-f", "table").out
    assert "[bold red]loud[/]" in table and "\x1b" not in table
    assert "[bold red]loud[/]" in cli("show", IRAN).out


EDITOR_SCRIPT = """\
import sys
path = sys.argv[-1]
text = open(path, encoding="utf-8").read()
open(sys.argv[1], "w", encoding="utf-8").write(text)  # what the editor was shown
with open(path, "a", encoding="utf-8") as f:
    f.write(sys.argv[2])
sys.exit(int(sys.argv[3]))
"""


@pytest.fixture
def fake_editor(tmp_path):
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    seen = tmp_path / "seen.txt"

    def command(write: str, status: int = 0) -> str:
        import shlex

        return shlex.join([sys.executable, str(script), str(seen), write, str(status)])

    return command, seen


@pytest.fixture
def on_a_terminal(monkeypatch):
    from irarchive import cli as cli_module

    monkeypatch.setattr(cli_module, "_isatty", lambda stream: True)
    monkeypatch.setattr(cli_module, "stdout_is_terminal", lambda: True)


def test_note_in_the_editor_shows_existing_notes_and_saves_what_is_below(
    cli, seeded, fake_editor, on_a_terminal, monkeypatch
):
    command, seen = fake_editor
    cli("note", IRAN, "-m", "Old [note].")
    monkeypatch.setenv("EDITOR", "false")
    monkeypatch.setenv("VISUAL", command("Written in\nthe editor.  \n\n"))
    r = cli("note", IRAN)
    assert r.code == 0, r
    assert r.err.endswith("note added (2 notes)\n")
    shown = seen.read_text()
    assert shown.startswith(f"# Notes on: Iranian Nuclear Deal Crisis ({IRAN})\n#\n# ")
    assert "#   Old [note].\n" in shown
    assert shown.endswith("# ------------------------ >8 ------------------------\n")
    notes = json.loads(cli("note", IRAN, "--json").out)
    assert [n["text"] for n in notes] == ["Old [note].", "Written in\nthe editor."]


def test_editor_with_nothing_written_saves_nothing(
    cli, seeded, fake_editor, on_a_terminal, monkeypatch
):
    command, _ = fake_editor
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", command("\n   \n"))
    r = cli("note", IRAN)
    assert (r.code, r.err) == (0, "nothing saved: the note was empty\n")
    assert json.loads(cli("note", IRAN, "--json").out) == []


def test_an_editor_that_fails_saves_nothing(cli, seeded, fake_editor, on_a_terminal, monkeypatch):
    command, _ = fake_editor
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", command("text", status=3))
    r = cli("note", IRAN)
    assert (
        r.code == 1
        and r.err.startswith("Error: the editor '")
        and r.err.endswith("exited with status 3; nothing was saved\n")
    )
    monkeypatch.setenv("EDITOR", "/no/such/editor --wait")
    r = cli("note", IRAN)
    assert r.code == 1 and r.err.startswith(
        "Error: cannot run the editor '/no/such/editor --wait' (No such file or directory)"
    )
    assert json.loads(cli("note", IRAN, "--json").out) == []


INTERRUPTING_EDITOR = """\
import os, signal, sys, time
os.kill(os.getppid(), signal.SIGINT)  # Ctrl-C reaches irarchive too, as on a terminal
time.sleep(0.2)
with open(sys.argv[-1], "a", encoding="utf-8") as f:
    f.write("From a tty.\\n")
"""


@pytest.mark.parametrize("ctrl_c", [False, True], ids=["plain", "ctrl-c in the editor"])
def test_note_editor_in_a_real_terminal(seeded, fake_editor, tmp_path, ctrl_c):
    """A real process on a pseudo-terminal: the editor runs and the note is saved, also
    when Ctrl-C was pressed in the editor (it is the editor's, not irarchive's)."""
    import pty
    import shlex

    command, seen = fake_editor
    editor = command("From a tty.\n")
    if ctrl_c:
        script = tmp_path / "interrupting.py"
        script.write_text(INTERRUPTING_EDITOR)
        editor = shlex.join([sys.executable, str(script)])
    env = {**os.environ, "IRARCHIVE_DB": str(seeded), "EDITOR": editor}
    env.pop("VISUAL", None)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*IRARCHIVE, "note", IRAN], stdin=slave, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        output = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed: the process has ended
                break
            if not chunk:
                break
            output += chunk
        assert proc.wait(timeout=60) == 0, output
    finally:
        os.close(master)
    assert b"note added (1 note)" in output
    if not ctrl_c:
        assert "Iranian Nuclear Deal Crisis" in seen.read_text()
    conn = sqlite3.connect(seeded)
    try:
        assert conn.execute("SELECT text FROM notes").fetchall() == [("From a tty.",)]
    finally:
        conn.close()


# ---- notes in search -----------------------------------------------------------------------


def test_search_finds_notes_below_title_matches(cli, seeded):
    before = json.loads(cli("search", "summit", "--json").out)
    assert all("notes" not in h["matched"] for h in before)  # no notes: as it was
    cli("note", IRAN, "-m", "Discussed at the Samarkand summit? Check.")
    cli("note", SCO, "-m", "The summit in Samarkand.")
    hits = json.loads(cli("search", "samarkand", "--json").out)
    assert [h["id"] for h in hits] == [SCO, IRAN]
    assert hits[0]["score"] >= 90 and hits[0]["matched"]["notes"] == ["samarkand"]
    assert hits[1]["score"] == 42.0
    assert hits[1]["matched"] == {"title": [], "excerpt": [], "notes": ["samarkand"]}
    assert [h["id"] for h in json.loads(cli("search", "samarkand", "-t", "--json").out)] == [SCO]


def test_search_in_notes_only(cli, seeded):
    cli("note", IRAN, "-m", "Energy corridor through Türkiye")
    cli("note", CICA, "-m", "Mentions energy prices")
    hits = json.loads(cli("search", "--in", "notes", "energy turkiye", "--json").out)
    assert [(h["id"], h["score"]) for h in hits] == [(IRAN, 100.0)]
    hits = json.loads(cli("search", "--in", "notes", "energ", "--json").out)
    assert {h["id"] for h in hits} == {IRAN, CICA}
    hits = json.loads(cli("search", "--in", "notes", "energy -prices", "--json").out)
    assert [h["id"] for h in hits] == [IRAN]
    assert cli("search", "--in", "notes", "samarkand").out == ""
    r = cli("search", "--in", "notes", "-t", "energy")
    said = "Error: --title-only and --in notes exclude each other; give one\n"
    assert (r.code, r.err) == (2, said)
    tag(cli, IRAN, "+x")
    assert ids(cli("search", "--in", "notes", "energy", "--tag", "-x").out) == [CICA]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_re_importing_an_export_with_tags_and_notes_changes_nothing(cli, seeded, tmp_path, fmt):
    tag(cli, SCO, "+asia", "+sco")
    cli("note", SCO, "-m", "a note")
    before = digest(seeded)
    target = tmp_path / f"all.{fmt}"
    assert cli("export", "-o", str(target)).code == 0
    r = cli("import", str(target))
    assert r.code == 0 and "0 added, 0 updated, 10 unchanged, 0 rejected" in r.err, r
    assert digest(seeded) == before
    assert json.loads(cli("show", SCO, "--json").out)["extra"] == {}


# ---- properties ------------------------------------------------------------------------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet="aB ｅ\t\u3000\u00a0-+,.", max_size=12)))
@example("  Ｅnergy \u3000 Gas ")
def test_any_tag_text_is_normalised_for_good_or_refused_by_name(raw):
    from irarchive.errors import UsageError
    from irarchive.store.annotations import normalise_tag

    try:
        tag_ = normalise_tag(raw)
    except UsageError as exc:
        assert str(exc).startswith(("a tag is empty", "tag '", 'tag "'))
        assert "\n" not in str(exc) and "\x1b" not in str(exc)
        return
    assert normalise_tag(tag_) == tag_  # stored tags are already normal
    assert normalise_tag(tag_.upper()) == tag_ or tag_.upper().casefold() != tag_
    assert tag_ == tag_.strip() and "  " not in tag_ and 0 < len(tag_) <= 64
    assert tag_[0] not in "+-" and "," not in tag_


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tags=st.lists(
        st.text(
            st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn")), min_size=1
        ).filter(lambda t: t.strip() and t.strip()[0] not in "+-" and "," not in t),
        min_size=1,
        max_size=4,
    )
)
def test_tags_round_trip_through_tag_show_and_list(cli, seeded, tags):
    from irarchive.model import check_tag

    # Only tags valid in their stored form: NFKC can lengthen a tag past 64 characters
    # ("Ŀ" is "l·") or give it a leading sign or a comma; those are refused (other tests).
    valid = [t for t in tags if check_tag(t)[1] is None]
    wanted = {check_tag(t)[0] for t in valid}
    plus = ["+" + t for t in valid]
    if not plus:
        return
    conn = sqlite3.connect(seeded)  # each example starts untagged (the fixture is shared)
    with conn:
        conn.execute("DELETE FROM tags")
    conn.close()
    r = cli("tag", IRAN, *plus)
    assert r.code == 0, r
    assert json.loads(cli("show", IRAN, "--json").out)["tags"] == sorted(wanted)
    for t in wanted:
        assert IRAN in ids(cli("list", "--tag", t).out)
    r = cli("tag", IRAN, "--", *("-" + t for t in sorted(wanted)))  # -h: after --
    assert r.code == 0 and json.loads(cli("show", IRAN, "--json").out)["tags"] == []


def test_tag_completion_offers_tags_in_use_keeping_the_sign(cli, seeded):
    from irarchive.store import open_archive

    tag(cli, CICA, "+energy", "+Energy Security", "+gas")
    archive = open_archive(str(seeded), readonly=True)
    try:
        assert archive.tag_completions("EN") == ["energy", "energy security"]
        assert archive.tag_completions("-ener") == ["-energy", "-energy security"]
        assert archive.tag_completions("x") == []
    finally:
        archive.close()
