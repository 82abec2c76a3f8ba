"""irarchive stats: counts per year, month and category on the bundled seed, exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irarchive.analysis import fill_periods
from irarchive.output import bar, sparkline
from tests.conftest import run

pytestmark = pytest.mark.usefixtures("archive_path")


def add_articles(tmp_path: Path, capsys: pytest.CaptureFixture[str], *lines: str) -> None:
    src = tmp_path / "more.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run(capsys, "import", str(src))[0] == 0


def test_by_year_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats", "--json")
    assert (code, err) == (0, "")
    assert out == '[\n{"period": "2021", "count": 1},\n{"period": "2022", "count": 9}\n]\n'


def test_by_month_tsv_fills_empty_months(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats", "--by", "month", "--format", "tsv")
    assert (code, err) == (0, "")
    assert out == (
        "2021-12\t1\n2022-01\t2\n2022-02\t3\n2022-03\t1\n2022-04\t0\n2022-05\t1\n"
        "2022-06\t0\n2022-07\t0\n2022-08\t0\n2022-09\t1\n2022-10\t0\n2022-11\t1\n"
    )


def test_date_filter_extends_range_to_its_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--since", "2020", "--until", "2023", "-f", "csv")
    assert code == 0
    assert out == "period,count\n2020,0\n2021,1\n2022,9\n2023,0\n"


def test_query_and_month_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--by", "month", "--on", "2022-09", "-q", "samarkand")
    assert (code, out) == (0, "2022-09\t1\n")
    code, out, _ = run(capsys, "stats", "-q", "summit", "--json")
    assert json.loads(out) == [{"period": "2022", "count": 3}]


def test_by_category(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--by", "category", "--json")
    assert json.loads(out) == [{"category": "International Relations", "count": 10}]
    code, out, _ = run(capsys, "stats", "--by", "category", "-c", "nothing", "-f", "csv")
    assert (code, out) == (0, "category,count\n")


def test_table_has_bars_and_sparkline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats", "--format", "table")
    assert (code, err) == (0, "")
    assert out == (
        "┏━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
        "┃period ┃ count ┃                                         ┃\n"
        "┡━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
        "│2021   │     1 │ ████▌                                   │\n"
        "│2022   │     9 │ ████████████████████████████████████████│\n"
        "└───────┴───────┴─────────────────────────────────────────┘\n"
        "2021..2022  ▂█\n"
        "total: 10\n"
    )


def test_undated_and_year_only_are_reported_not_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_articles(
        tmp_path,
        capsys,
        '{"title": "An Undated Note on Caspian Shipping", "excerpt": "Caspian lanes."}',
        '{"title": "A Year-Only Review of Caspian Ports", "date": "2019", "excerpt": "Ports."}',
    )
    code, out, err = run(capsys, "stats", "-q", "caspian", "-f", "tsv")
    assert (code, out, err) == (0, "2019\t1\n", "not counted: 1 undated article\n")
    code, out, err = run(capsys, "stats", "-q", "caspian", "--by", "month", "-f", "tsv")
    assert (code, out) == (0, "")
    assert err == (
        "not counted: 1 undated article\nnot counted: 1 dated only to the year (see --by year)\n"
    )
    # A date filter leaves undated articles out by definition: nothing to report.
    code, out, err = run(capsys, "stats", "-q", "caspian", "--on", "2019", "-f", "tsv")
    assert (out, err) == ("2019\t1\n", "")


def test_nothing_matches_on_a_terminal_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "stats", "-f", "table", "-q", "zzzzqqq")
    assert (code, out, err) == (0, "", "no articles match\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "week"], "Error: Invalid value for '--by': 'week' is not one of"),
        (["-q", "   "], "Error: the query '   ' has no words to search for"),
        (["--since", "2023", "--until", "2022"], "Error: --since 2023 (2023-01-01) is after"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, "stats", *args)
    assert (code, out) == (2, "")
    assert err.startswith(message)


def test_fill_periods_crosses_year_end() -> None:
    rows = fill_periods([("2021-11", 2), ("2022-02", 1)])
    assert [r["period"] for r in rows] == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert [r["count"] for r in rows] == [2, 0, 0, 1]
    assert fill_periods([]) == []
    assert fill_periods([], "2020", "2021") == [
        {"period": "2020", "count": 0},
        {"period": "2021", "count": 0},
    ]


def test_chart_helpers() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert bar(0, 9, 10) == ""
    assert bar(9, 9, 10) == "█" * 10
    assert bar(1, 9, 10) == "█▏"
