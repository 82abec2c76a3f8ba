"""Reliability by class, the small ones: Unicode case, non-numbers, read-only dry runs,
TSV quotes and non-text values in text fields."""

from __future__ import annotations

import json
import os

import pytest

CATEGORIES = ["КАТЕГОРИЯ", "Économie", "İstanbul notes", "ΣΟΦΊΑ", "straße", "Plain"]


@pytest.fixture
def cats(tmp_path, db_path, cli):
    src = tmp_path / "c.jsonl"
    src.write_text(
        "".join(
            json.dumps({"title": f"On {c}", "category": c, "date": "2022-01-01"}) + "\n"
            for c in CATEGORIES
        )
    )
    assert cli("--no-seed", "import", str(src)).code == 0
    return db_path


@pytest.mark.parametrize(
    "category, case",
    # An all-ASCII filter (STRASSE) keeps the indexed ASCII-only comparison, so it does
    # not reach straße; any non-ASCII filter is compared with full case folding.
    [
        (c, k)
        for c in CATEGORIES
        for k in ("lower", "upper", "same")
        if (c, k) != ("straße", "upper")
    ],
)
def test_category_matching_ignores_case_beyond_ascii(cats, cli, category, case):
    given = {"lower": category.lower(), "upper": category.upper(), "same": category}[case]
    for command in (("list",), ("stats", "--by", "category"), ("export", "-f", "json")):
        r = cli(
            *command,
            "--json" if command[0] != "export" else "--sort",
            *(["date"] if command[0] == "export" else []),
            "--category",
            given,
        )
        assert r.code == 0, r
        data = json.loads(r.out)
        assert len(data) == 1, (given, data)


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "inf", "-inf", "1e999"])
def test_min_score_must_be_a_number(seeded, cli, value):
    r = cli("search", "summit", "--min-score", value)
    assert r.code == 2 and r.err.startswith("Error: ") and r.err.count("\n") == 1, r
    assert "--min-score" in r.err


@pytest.mark.parametrize("value", ["0", "40", "100", "99.5"])
def test_min_score_numbers_still_work(seeded, cli, value):
    assert cli("search", "summit", "--min-score", value, "--json").code == 0


@pytest.fixture
def read_only_archive(seeded, cli, monkeypatch):
    """The archive opened read-only, the way a read-only file or folder opens it."""
    import irarchive.store.opening as opening

    real = opening.os.access
    monkeypatch.setattr(
        opening.os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode)
    )
    return seeded


@pytest.mark.parametrize("records", [0, 1, 3])
def test_dry_run_works_on_a_read_only_archive(tmp_path, read_only_archive, cli, records):
    before = read_only_archive.read_bytes()
    src = tmp_path / "new.jsonl"
    src.write_text("".join(json.dumps({"title": f"New {i}"}) + "\n" for i in range(records)))
    r = cli("import", str(src), "--dry-run")
    assert r.code == 0, r
    assert f"{records} would add" in r.err
    assert read_only_archive.read_bytes() == before
    plain = cli("import", str(src))
    assert plain.code == 1 and "read-only" in plain.err


@pytest.mark.parametrize(
    "cell",
    ['"quoted start', 'mid"quote', '"fully quoted"', '""', 'ends with "'],
)
def test_tsv_cells_with_double_quotes(tmp_path, db_path, cli, cell):
    src = tmp_path / "q.tsv"
    src.write_text(f"title\tnote\nFirst\t{cell}\nSecond\tplain\n")
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0 and "2 added" in r.err, r
    data = {a["title"]: a for a in json.loads(cli("list", "--json").out)}
    assert data["First"]["extra"]["note"] == cell


@pytest.mark.parametrize(
    "value",
    [{"a": 1}, [{"a": 1}], [[1, 2]], {}],
    ids=["object", "list-of-objects", "list-of-lists", "empty-object"],
)
@pytest.mark.parametrize("field", ["title", "excerpt", "category", "url"])
def test_objects_in_text_fields_are_never_stored_as_python_repr(
    tmp_path, db_path, cli, field, value
):
    rec = {"title": "Plain title", field: value}
    src = tmp_path / "o.jsonl"
    src.write_text(json.dumps(rec) + "\n")
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0, r
    out = cli("list", "--json").out
    assert "{'a'" not in out and "[1, 2]" not in out.replace("[[1, 2]]", "")
    data = json.loads(out)
    if field == "title":
        assert data == [] and "rejected" in r.err
    else:
        [a] = data
        assert a[field] is None and a["extra"][field] == value
