"""Reliability by class: CSV cells a spreadsheet would run as formulas (OWASP CSV injection).

Every text cell of a CSV export that starts with ``=``, ``+``, ``-``, ``@``, tab or
CR is prefixed with ``'``; re-importing the export gives back the exact text
(including text that itself starts with quotes); JSON stays exact.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
TITLES = [
    '=HYPERLINK("http://evil","x")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "'=already quoted",
    "''+twice",
    "'plain quote",
    "a=b is fine",
    "- dash list item",
    "−unicode minus is not a trigger",
]


def _records():
    return [
        {"title": t, "excerpt": t, "category": t, "url": t, "date": f"2022-01-{i + 1:02d}"}
        for i, t in enumerate(TITLES)
    ] + [
        {"title": f"Tab {i}", "excerpt": f"{c}starts", "date": "2022-02-01"}
        for i, c in enumerate(["\t", "\r"])
    ]


@pytest.fixture
def archive(tmp_path, db_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0 and "0 rejected" in r.err, r
    return db_path


@pytest.mark.parametrize(
    "command", [("list", "-f", "csv"), ("export", "-f", "csv"), ("search", "quote", "-f", "csv")]
)
def test_no_csv_cell_starts_like_a_formula(archive, cli, command):
    r = cli(*command)
    assert r.code == 0, r
    rows = list(csv.reader(io.StringIO(r.out)))
    assert len(rows) > 1
    for row in rows[1:]:
        for value in row:
            assert value[:1] not in TRIGGERS, (value, row)


def test_csv_export_reimports_exactly(archive, tmp_path, cli, monkeypatch):
    exported = tmp_path / "out.csv"
    assert cli("export", "-o", str(exported)).code == 0
    before = json.loads(cli("list", "--json", "--sort", "title").out)
    fresh = tmp_path / "fresh.db"
    monkeypatch.setenv("IRARCHIVE_DB", str(fresh))
    r = cli("--no-seed", "import", str(exported))
    assert r.code == 0 and "0 rejected" in r.err, r
    after = json.loads(cli("list", "--json", "--sort", "title").out)
    keys = ("id", "title", "url", "category")
    assert [{k: a[k] for k in keys} for a in after] == [{k: b[k] for k in keys} for b in before]
    # Excerpts survive too, but a leading tab or CR is shown visibly in CSV (as ever).
    assert [a["excerpt"] for a in after][: len(TITLES)] == [b["excerpt"] for b in before][
        : len(TITLES)
    ]


def test_json_keeps_the_exact_text(archive, cli):
    data = json.loads(cli("list", "--json", "--limit", "0").out)
    assert sorted(a["title"] for a in data if a["title"] in TITLES) == sorted(TITLES)
