"""The authors and doi fields: import mapping, storage, output, and the schema 2 upgrade."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
import sqlite_utils

from irarchive import migrations
from irarchive.sources.authors import parse_authors, parse_doi
from irarchive.store import EXPECTED_COLUMNS, open_archive
from tests.conftest import FIXTURES
from tests.fixtures.make_v1_archive import V1_RECORDS

J = {"family": "Smith", "given": "John"}
D = {"family": "Doe", "given": "Jane"}
ERI = {"literal": "Eurasian Research Institute"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("John Smith", [J]),
        ("Smith, John", [J]),
        ("By John Smith", [J]),
        ("John Smith and Jane Doe", [J, D]),
        ("John Smith & Jane Doe", [J, D]),
        ("John Smith; Jane Doe", [J, D]),
        ("Smith, John and Doe, Jane", [J, D]),
        ("John Smith, Jane Doe and Bob Roe", [J, D, {"family": "Roe", "given": "Bob"}]),
        ("Smith, J. R.", [{"family": "Smith", "given": "J. R."}]),
        ("Van Buren, Martin", [{"family": "Van Buren", "given": "Martin"}]),
        ("Ludwig van Beethoven", [{"family": "van Beethoven", "given": "Ludwig"}]),
        ("John Smith, Jr.", [{"family": "Smith", "given": "John", "suffix": "Jr."}]),
        ("Smith, Jr., John", [{"family": "Smith", "given": "John", "suffix": "Jr."}]),
        ("js@example.org (John Smith)", [J]),
        ("John Smith <js@example.org>", [J]),
        ("js@example.org", []),
        ("Eurasian Research Institute", [ERI]),
        (
            "Center for Strategic and International Studies",
            [{"literal": "Center for Strategic and International Studies"}],
        ),
        ("Reuters", [{"literal": "Reuters"}]),
        ("Smith, John and Eurasian Research Institute", [J, ERI]),
        ("Jane Doe & Eurasian Research Institute", [D, ERI]),
        ("Research and Development Team", [{"literal": "Research and Development Team"}]),
        ("Мурат Алиев", [{"family": "Алиев", "given": "Мурат"}]),
        (["Smith, John", "Jane Doe"], [J, D]),
        ([{"name": "John Smith"}, {"given": "Jane", "family": "Doe"}], [J, D]),
        ({"firstName": "John", "lastName": "Smith"}, [J]),
        ({"@type": "Organization", "name": "ERI"}, [{"literal": "ERI"}]),
        ({"literal": "Jane Doe"}, [{"literal": "Jane Doe"}]),
        ('[{"family": "Smith", "given": "John"}]', [J]),
        ("John Smith and John Smith", [J]),
        ("", []),
        (None, []),
        ({"email": "x@example.org"}, []),
    ],
)
def test_author_shapes(value, expected):
    assert parse_authors(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.5555/abc.123", "10.5555/abc.123"),
        ("doi:10.5555/ABC", "10.5555/ABC"),
        ("https://doi.org/10.5555/x(1)", "10.5555/x(1)"),
        ("http://dx.doi.org/10.5555/x", "10.5555/x"),
        ("https://example.org/10.5555/x", None),
        ("not a doi", None),
        (10.5, None),
    ],
)
def test_doi_forms(value, expected):
    assert parse_doi(value) == expected


def _import(cli, tmp_path, records, name="in.json"):
    path = tmp_path / name
    path.write_text(json.dumps(records), "utf-8")
    r = cli("import", str(path))
    assert r.code == 0, r
    return r


def _by_title(cli):
    return {a["title"]: a for a in json.loads(cli("list", "--json").out)}


def test_import_maps_every_author_key_and_doi(cli, db_path, tmp_path):
    cli("db", "init", "--empty")
    _import(
        cli,
        tmp_path,
        [
            {"title": "A", "author": "John Smith", "doi": "doi:10.5555/a"},
            {"title": "B", "Authors": ["Smith, John", {"given": "Jane", "family": "Doe"}]},
            {"title": "C", "creator": "Eurasian Research Institute"},
            {"title": "D", "dc:creator": "John Smith and Jane Doe"},
            {"title": "E", "byline": "By Jane Doe", "author": ""},
            {"title": "F", "author": {"name": "Jane Doe"}, "creator": "John Smith"},
            {"title": "G", "author": 42, "doi": "see the website"},
            {"title": "H"},
        ],
    )
    got = _by_title(cli)
    assert {t: (a["authors"], a["doi"]) for t, a in got.items()} == {
        "A": ([J], "10.5555/a"),
        "B": ([J, D], None),
        "C": ([ERI], None),
        "D": ([J, D], None),
        "E": ([D], None),
        "F": ([D], None),
        "G": ([{"literal": "42"}], None),
        "H": ([], None),
    }
    # The keys used are gone from extra; a second author key and a non-DOI stay there.
    assert got["A"]["extra"] == {} and got["E"]["extra"] == {}
    assert got["F"]["extra"] == {"creator": "John Smith"}
    assert got["G"]["extra"] == {"doi": "see the website"}


def test_show_lists_authors_and_doi(cli, db_path, tmp_path):
    cli("db", "init", "--empty")
    _import(
        cli,
        tmp_path,
        [{"title": "A", "author": "Smith, John; [bold]Eve", "doi": "10.5555/a", "date": "2022"}],
    )
    out = cli("show", "A").out
    assert out == (
        "A\n"
        "authors: John Smith; [bold]Eve\n"
        "date: 2022\n"
        "doi: 10.5555/a\n"
        "source: in.json\n"
        f"id: {json.loads(cli('show', 'A', '--json').out)['id']}\n"
        "slug: a\n"
    )


def test_show_panel_lists_authors(cli, db_path, tmp_path):
    from rich.console import Console

    from irarchive import output

    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    rec = {"title": "T", "authors": [J, ERI], "doi": "10.5555/x", "id": "0" * 16}
    console.print(output.render_panel(rec))
    text = console.export_text()
    console.file.close()
    assert "authors: John Smith; Eurasian Research Institute" in text
    assert "doi: 10.5555/x" in text


def test_fields_authors_in_tsv_csv_and_json(cli, db_path, tmp_path):
    cli("db", "init", "--empty")
    _import(cli, tmp_path, [{"title": "A", "author": ["Jane Doe", "Eurasian Research Institute"]}])
    assert cli("list", "--fields", "title,authors").out == (
        "A\tJane Doe; Eurasian Research Institute\n"
    )
    assert cli("list", "--format", "csv", "--fields", "title,authors,doi").out == (
        "title,authors,doi\n"
        'A,"[{""family"": ""Doe"", ""given"": ""Jane""}, '
        '{""literal"": ""Eurasian Research Institute""}]",\n'
    )
    assert json.loads(cli("list", "--json", "--fields", "authors,doi").out) == [
        {"authors": [D, ERI], "doi": None}
    ]


def test_table_gets_an_authors_column_only_when_some_row_has_authors(cli, db_path, tmp_path):
    cli("db", "init", "--empty")
    _import(cli, tmp_path, [{"title": "Plain", "date": "2022"}])
    header = cli("list", "--format", "table").out.splitlines()[1]
    assert "authors" not in header
    _import(cli, tmp_path, [{"title": "Signed", "date": "2021", "byline": "Jane Doe"}], "b.json")
    out = cli("list", "--format", "table").out
    assert [c.strip() for c in out.splitlines()[1].strip("┃").split("┃")] == [
        "id", "date", "title", "authors", "category"
    ]  # fmt: skip
    assert "Jane Doe" in out
    # Scripts reading the default tab-separated columns see no new column.
    assert cli("list").out.splitlines()[1].split("\t")[1:] == ["2021", "Signed", ""]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_export_then_reimport_is_unchanged(cli, db_path, tmp_path, fmt):
    cli("db", "init", "--empty")
    _import(
        cli,
        tmp_path,
        [
            {"title": "A", "author": "Smith, John and Doe, Jane", "doi": "10.5555/a"},
            {"title": "B", "author": [{"literal": "Jane Doe"}]},  # a literal stays a literal
        ],
    )
    out = tmp_path / f"out.{fmt}"
    assert cli("export", "-f", fmt, "-o", str(out)).code == 0
    r = cli("import", str(out))
    assert r.err == f"{out}: 0 added, 0 updated, 2 unchanged, 0 rejected\n"


def test_changed_authors_update_in_place(cli, db_path, tmp_path):
    cli("db", "init", "--empty")
    _import(cli, tmp_path, [{"title": "A", "author": "John Smith"}])
    before = _by_title(cli)["A"]
    r = _import(cli, tmp_path, [{"title": "A", "author": "Jane Doe", "doi": "10.5555/a"}])
    assert r.err.endswith(": 0 added, 1 updated, 0 unchanged, 0 rejected\n")
    after = _by_title(cli)["A"]
    assert (after["id"], after["authors"], after["doi"]) == (before["id"], [D], "10.5555/a")


# ---- upgrade from schema 1 --------------------------------------------------------------


@pytest.fixture
def v1_archive(tmp_path):
    path = tmp_path / "v1.db"
    shutil.copyfile(FIXTURES / "archive-v1.db", path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    return path


def test_upgrade_adds_columns_and_moves_authors_out_of_extra(v1_archive, cli):
    before = sqlite3.connect(v1_archive)
    ids = dict(before.execute("SELECT title, id FROM articles"))
    before.close()
    archive = open_archive(str(v1_archive))
    assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert sqlite_utils.Database(archive.conn)["articles"].columns_dict == EXPECTED_COLUMNS
    assert archive.check() == []
    archive.close()
    got = {a["title"]: a for a in json.loads(cli("--db", str(v1_archive), "list", "--json").out)}
    assert {t: a["id"] for t, a in got.items()} == ids
    caspian = got["Caspian Transit After the War"]
    assert caspian["authors"] == [J, {"family": "Aliyeva", "given": "Leyla"}]
    assert caspian["doi"] == "10.5555/caspian.2022" and caspian["extra"] == {}
    assert got["Energy Notes"]["authors"] == [ERI]
    memo = got["Undated Memo"]
    assert memo["authors"] == [{"family": "Aliyev", "given": "Murad"}]
    assert memo["extra"] == {"tags": ["memo"]}
    assert got["Plain Record"]["authors"] == [] and got["Plain Record"]["extra"] == {
        "note": "no author here"
    }
    seed = got["Iranian Nuclear Deal Crisis"]
    assert (seed["authors"], seed["doi"], seed["extra"]) == ([], None, {})


def test_reimport_after_upgrade_changes_nothing(v1_archive, cli, tmp_path):
    records = tmp_path / "v1.json"
    records.write_text(json.dumps(V1_RECORDS), "utf-8")
    r = cli("--db", str(v1_archive), "import", str(records))
    assert r.err == f"{records}: 0 added, 0 updated, {len(V1_RECORDS)} unchanged, 0 rejected\n"
    assert cli("--db", str(v1_archive), "db", "check").code == 0


def test_name_key_order_does_not_make_an_update(tmp_path):
    """Another reader (feeds) may build name objects with keys in any order."""
    from irarchive.model import Article

    archive = open_archive(str(tmp_path / "a.db"))
    first = Article(title="T", authors=({"given": "Jane", "family": "Doe"},), doi="10.5555/t")
    again = Article(title="T", authors=({"family": "Doe", "given": "Jane"},), doi="10.5555/t")
    assert archive.import_items([first]).added == 1
    report = archive.import_items([again])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    assert next(archive.list_articles())["authors"] == [D]
    archive.close()


def _deep(depth: int) -> list:
    root: list = []
    node = root
    for _ in range(depth):
        node.append([])
        node = node[0]
    return root


@pytest.mark.parametrize(
    "value",
    [
        "@" * 200_000,  # quadratic for the e-mail patterns without a length bound
        "a@" * 100_000 + " (x)",
        "x " * 50_000 + "<" + "@" * 50_000 + ">",
        " and ".join(f"Person{i} Name{i}" for i in range(5_000)),
        [f"Name{i} Family{i}" for i in range(5_000)],
        _deep(50_000),
        [{"family": ["not", "text"], "given": {"x": 1}}, {"literal": None}, 3.5, None],
        "\x1b[31mRed\x1b[0m Smith \u202eevil\u202c",
    ],
    ids=["at-run", "at-pairs", "angle-run", "many-and", "many-list", "deep", "types", "ctrl"],
)
def test_hostile_author_values_are_bounded(value):
    names = parse_authors(value)
    assert len(names) <= 1000
    for name in names:
        assert set(name) <= {"family", "given", "suffix", "literal"}
        assert all(isinstance(v, str) and v for v in name.values())


def test_hostile_authors_print_neutralised(cli, db_path, tmp_path):
    cli("db", "init", "--empty")
    _import(cli, tmp_path, [{"title": "A", "author": "\x1b[31mRed\x1b[0m Smith \u202eevil"}])
    out = cli("show", "A").out
    assert "\x1b" not in out and "\u202e" not in out
    assert out.splitlines()[1].startswith("authors: ^[[31mRed^[[0m Smith")
