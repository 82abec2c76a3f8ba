"""irarchive import: every format, aliases, dates, idempotency, atomicity, extras."""

from __future__ import annotations

import json
import sqlite3

import pytest

from irarchive import store
from irarchive.sources import Rejected, read
from tests.conftest import ROOT

LISTING = ROOT / "data" / "listings" / "international-relations-listing.txt"


def rows(db) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    out = [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY id")]
    conn.close()
    return out


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


RECORDS = [
    {
        "title": "Alpha Summit",
        "date": "2022-11-01",
        "description": "About alpha […]",
        "link": "https://e.org/a",
        "section": "Politics",
        "author": "Ann",
        "tags": ["x", "y"],
    },
    {"headline": "Beta Talks", "pubDate": "Tue, 01 Nov 2022 10:00:00 +0000", "summary": "Beta"},
    {"title": "Gamma", "published": "2022-03"},
]


def check_alpha_beta_gamma(cli):
    data = json.loads(cli("list", "--json", "--sort", "title").out)
    assert [a["title"] for a in data] == ["Alpha Summit", "Beta Talks", "Gamma"]
    alpha, beta, gamma = data
    assert alpha["excerpt"] == "About alpha" and alpha["truncated"] is True
    assert alpha["url"] == "https://e.org/a" and alpha["category"] == "Politics"
    assert alpha["extra"] == {"tags": ["x", "y"]}
    assert alpha["authors"] == [{"literal": "Ann"}] and beta["authors"] == []
    assert beta["date"] == "2022-11-01" and beta["excerpt"] == "Beta"
    assert gamma["date"] == "2022-03" and gamma["excerpt"] is None


def test_import_json_array(cli, empty, tmp_path):
    f = write(tmp_path, "a.json", json.dumps(RECORDS))
    r = cli("import", f)
    assert r.code == 0, r
    assert r.err == f"{f}: 3 added, 0 updated, 0 unchanged, 0 rejected\n"
    check_alpha_beta_gamma(cli)


def test_import_json_object_with_articles_list(cli, empty, tmp_path):
    f = write(tmp_path, "a.json", json.dumps({"source": "feed", "articles": RECORDS}))
    assert cli("import", f).code == 0
    check_alpha_beta_gamma(cli)


def test_import_jsonl(cli, empty, tmp_path):
    f = write(tmp_path, "a.jsonl", "\n".join(json.dumps(r) for r in RECORDS) + "\n")
    assert cli("import", f).code == 0
    check_alpha_beta_gamma(cli)


def test_import_csv_and_tsv(cli, empty, tmp_path):
    csv_text = 'title,date,summary,url,note\n"Alpha, the first",2022-01-05,"Hi ""there""",,n1\n'
    f = write(tmp_path, "a.csv", csv_text)
    assert cli("import", f).code == 0
    tsv = write(tmp_path, "b.tsv", "title\tdate\tnote\nTab One\t2021\tn2\n")
    assert cli("import", tsv).code == 0
    data = {a["title"]: a for a in json.loads(cli("list", "--json").out)}
    assert data["Alpha, the first"]["excerpt"] == 'Hi "there"'
    assert data["Alpha, the first"]["extra"] == {"note": "n1"}
    assert data["Tab One"]["date"] == "2021" and data["Tab One"]["extra"] == {"note": "n2"}


def test_import_listing_and_format_sniffing_from_stdin(cli, empty):
    listing = LISTING.read_bytes()
    r = cli("import", "-", stdin=listing)
    assert (r.code, r.err) == (0, "<stdin>: 10 added, 0 updated, 0 unchanged, 0 rejected\n")
    r = cli("import", "-", "--format", "jsonl", stdin=b'{"title": "From stdin", "date": "2020"}\n')
    assert (r.code, r.err) == (0, "<stdin>: 1 added, 0 updated, 0 unchanged, 0 rejected\n")
    assert [a["title"] for a in json.loads(cli("list", "--json", "--on", "2020").out)] == [
        "From stdin"
    ]


def test_seed_listing_import_matches_bundled_seed_ids(cli, empty):
    assert cli("import", str(LISTING)).code == 0
    got = {a["id"] for a in json.loads(cli("list", "--json").out)}
    bundled = {r["id"] for r in json.loads((ROOT / "data" / "seed.json").read_text("utf-8"))}
    assert got == bundled


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-11-01", "2022-11-01"),
        ("2022-11", "2022-11"),
        ("2022", "2022"),
        ("November 1, 2022", "2022-11-01"),
        ("Nov 1, 2022", "2022-11-01"),
        ("1 November 2022", "2022-11-01"),
        ("Tue, 01 Nov 2022 10:00:00 +0000", "2022-11-01"),
        ("2022-11-01T23:30:00Z", "2022-11-01"),
        ("2022-11-01 08:00:00", "2022-11-01"),
        ("25/12/2022", "2022-12-25"),
        ("", None),
    ],
)
def test_record_dates(value, expected, tmp_path):
    f = write(tmp_path, "d.jsonl", json.dumps({"title": "T", "date": value}) + "\n")
    (item,) = list(read(f))
    assert item.date == expected


def test_ambiguous_numeric_date_rejected_unless_order_given(cli, empty, tmp_path):
    f = write(tmp_path, "d.csv", "title,date\nOne,01/02/2022\nTwo,2022-01-01\n")
    r = cli("import", f)
    assert r.code == 0
    assert r.err == (
        f"{f}: 1 added, 0 updated, 0 unchanged, 1 rejected\n"
        f"  rejected {f}:2: bad date: '01/02/2022' is ambiguous (day/month or month/day?): "
        "use --date-order dmy|mdy\n"
    )
    assert cli("import", f, "--date-order", "dmy").code == 0
    dates = {a["title"]: a["date"] for a in json.loads(cli("list", "--json").out)}
    assert dates == {"One": "2022-02-01", "Two": "2022-01-01"}
    empty2 = tmp_path / "e2.db"
    assert cli("--db", str(empty2), "--no-seed", "import", f, "--date-order", "mdy").code == 0
    dates = {
        a["title"]: a["date"] for a in json.loads(cli("--db", str(empty2), "list", "--json").out)
    }
    assert dates["One"] == "2022-01-02"


def test_reimport_is_idempotent(cli, empty, tmp_path):
    f = write(tmp_path, "a.json", json.dumps(RECORDS))
    cli("import", f)
    before = rows(empty)
    r = cli("import", f)
    assert r.err == f"{f}: 0 added, 0 updated, 3 unchanged, 0 rejected\n"
    assert rows(empty) == before


def test_changed_record_updates_in_place(cli, empty, tmp_path):
    f = write(tmp_path, "a.json", json.dumps(RECORDS))
    cli("import", f)
    ids = {a["title"]: (a["id"], a["slug"]) for a in json.loads(cli("list", "--json").out)}
    changed = [dict(RECORDS[0], description="New text"), *RECORDS[1:]]
    g = write(tmp_path, "b.json", json.dumps(changed))
    r = cli("import", g)
    assert r.err == f"{g}: 0 added, 1 updated, 2 unchanged, 0 rejected\n"
    data = {a["title"]: a for a in json.loads(cli("list", "--json").out)}
    assert data["Alpha Summit"]["excerpt"] == "New text"
    assert (data["Alpha Summit"]["id"], data["Alpha Summit"]["slug"]) == ids["Alpha Summit"]
    assert cli("db", "check").code == 0
    assert cli("search", "new text", "--json").out.count('"Alpha Summit"') == 1


def test_distinct_titles_sharing_url_or_date_are_not_merged(cli, empty, tmp_path):
    recs = [
        {"title": "One", "url": "https://e.org/same", "date": "2022-01-01"},
        {"title": "Two", "url": "https://e.org/same", "date": "2022-01-01"},
        {"title": "Three", "date": "2022-01-01"},
    ]
    f = write(tmp_path, "a.json", json.dumps(recs))
    assert "3 added" in cli("import", f).err
    assert len(json.loads(cli("list", "--json").out)) == 3


def test_same_identity_different_content_in_one_file_keeps_both(cli, empty, tmp_path):
    recs = [
        {"title": "Morning news", "date": "2010-01-01", "description": "first segment"},
        {"title": "Morning news", "date": "2010-01-01", "description": "second segment"},
        {"title": "Morning news", "date": "2010-01-01", "description": "first segment"},
    ]
    f = write(tmp_path, "a.jsonl", "\n".join(json.dumps(r) for r in recs))
    r = cli("import", f)
    assert r.err == f"{f}: 2 added, 0 updated, 1 unchanged, 0 rejected\n"
    slugs = sorted(a["slug"] for a in json.loads(cli("list", "--json").out))
    assert slugs[0] == "morning-news" and slugs[1].startswith("morning-news-")
    r = cli("import", f)
    assert r.err == f"{f}: 0 added, 0 updated, 3 unchanged, 0 rejected\n"


def test_unknown_fields_round_trip_through_json_export(cli, empty, tmp_path):
    f = write(tmp_path, "a.json", json.dumps(RECORDS))
    cli("import", f)
    exported = cli("list", "--json").out
    out = tmp_path / "export.json"
    out.write_text(exported, "utf-8")
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "--no-seed", "import", str(out)).code == 0
    again = cli("--db", str(other), "list", "--json").out
    assert json.loads(again) == json.loads(exported)


def test_rejections_are_reported_and_strict_aborts_the_file(cli, empty, tmp_path):
    f = write(
        tmp_path,
        "a.jsonl",
        '{"title": "Good"}\n{"date": "2020"}\n{"title": "Bad", "date": "2020-13-01"}\n',
    )
    r = cli("import", f)
    assert r.code == 0
    assert r.err == (
        f"{f}: 1 added, 0 updated, 0 unchanged, 2 rejected\n"
        f"  rejected {f}:2: record has no title (expected a 'title' field)\n"
        f"  rejected {f}:3: bad date: month 13 does not exist\n"
    )
    g = write(tmp_path, "b.jsonl", '{"title": "Fine"}\n{"date": "2020"}\n')
    before = rows(empty)
    r = cli("import", g, "--strict")
    assert r.code == 1
    assert r.err == (
        f"Error: {g}:2: record has no title (expected a 'title' field) "
        "(--strict: nothing from this file was imported)\n"
    )
    assert rows(empty) == before


def test_dry_run_writes_nothing_and_reports(cli, empty, tmp_path):
    f = write(tmp_path, "a.json", json.dumps(RECORDS))
    before = rows(empty)
    r = cli("import", f, "--dry-run", "--json")
    assert r.code == 0
    assert json.loads(r.out)["files"][0]["added"] == 3
    assert json.loads(r.out)["dry_run"] is True
    assert r.err == f"{f}: 3 would add, 0 would update, 0 unchanged, 0 rejected\n"
    assert rows(empty) == before


def test_json_summary_lists_every_rejection(cli, empty, tmp_path):
    f = write(tmp_path, "a.jsonl", "".join(f'{{"x": {i}}}\n' for i in range(25)))
    r = cli("import", f, "--json")
    summary = json.loads(r.out)["files"][0]
    assert summary["rejected"] == 25 and len(summary["rejections"]) == 25
    assert r.err.endswith("  … and 5 more (use --json to see all)\n")


def test_failure_mid_file_leaves_archive_unchanged(tmp_path, monkeypatch):
    """Atomicity: an exception after some batches were written rolls everything back."""
    from irarchive.model import Article

    archive = store.open_archive(str(tmp_path / "a.db"))
    archive.import_items([Article(title="Kept", date="2020")])
    before = rows(tmp_path / "a.db")

    def items():
        for i in range(store.BATCH * 3):
            yield Article(title=f"Article {i}", date="2021")
        raise OSError("disk went away")

    with pytest.raises(OSError):
        archive.import_items(items())
    assert rows(tmp_path / "a.db") == before
    assert archive.check() == []


def test_bulk_import_into_empty_archive_restores_indexes(tmp_path):
    from irarchive.model import Article

    archive = store.open_archive(str(tmp_path / "a.db"))
    report = archive.import_items(
        Article(title=f"Same Title Words Here Now {i}", date=f"20{10 + i % 10}")
        for i in range(2500)
    )
    assert report.added == 2500
    names = {
        r[0] for r in archive.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert {"articles_slug", "articles_date", "articles_category", "articles_id"} <= names
    slugs = [r[0] for r in archive.conn.execute("SELECT slug FROM articles")]
    assert len(set(slugs)) == 2500 and None not in slugs
    assert archive.check() == []


def test_listing_rejection_objects_render_with_file_and_line(tmp_path):
    f = write(tmp_path, "x.txt", "Cat\nstray\n")
    (item,) = list(read(f))
    assert isinstance(item, Rejected)
    assert (
        str(item) == f"{f}:2: text with no date line before it (expected e.g. 'November 1, 2022')"
    )
