"""irarchive stats: counts per year, month and category on the bundled seed, exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irarchive.analysis import fill_periods
from irarchive.output import bar, sparkline

pytestmark = pytest.mark.usefixtures("seeded")


def add_articles(tmp_path: Path, cli, *lines: str) -> None:
    src = tmp_path / "more.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("import", str(src)).code == 0


def test_by_year_json(cli) -> None:
    r = cli("stats", "--json")
    assert (r.code, r.err) == (0, "")
    assert r.out == '[\n{"period": "2021", "count": 1},\n{"period": "2022", "count": 9}\n]\n'


def test_by_month_tsv_fills_empty_months(cli) -> None:
    r = cli("stats", "--by", "month", "--format", "tsv")
    assert (r.code, r.err) == (0, "")
    assert r.out == (
        "2021-12\t1\n2022-01\t2\n2022-02\t3\n2022-03\t1\n2022-04\t0\n2022-05\t1\n"
        "2022-06\t0\n2022-07\t0\n2022-08\t0\n2022-09\t1\n2022-10\t0\n2022-11\t1\n"
    )


def test_date_filter_extends_range_to_its_bounds(cli) -> None:
    r = cli("stats", "--since", "2020", "--until", "2023", "-f", "csv")
    assert r.code == 0
    assert r.out == "period,count\n2020,0\n2021,1\n2022,9\n2023,0\n"


def test_query_and_month_filter(cli) -> None:
    r = cli("stats", "--by", "month", "--on", "2022-09", "-q", "samarkand")
    assert (r.code, r.out) == (0, "2022-09\t1\n")
    r = cli("stats", "-q", "summit", "--json")
    assert json.loads(r.out) == [{"period": "2022", "count": 3}]


def test_by_category(cli) -> None:
    r = cli("stats", "--by", "category", "--json")
    assert json.loads(r.out) == [{"category": "International Relations", "count": 10}]
    r = cli("stats", "--by", "category", "-c", "nothing", "-f", "csv")
    assert (r.code, r.out) == (0, "category,count\n")


def test_table_has_bars_and_sparkline(cli) -> None:
    r = cli("stats", "--format", "table")
    assert (r.code, r.err) == (0, "")
    assert r.out == (
        "┏━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
        "┃period ┃ count ┃                                         ┃\n"
        "┡━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
        "│2021   │     1 │ ████▌                                   │\n"
        "│2022   │     9 │ ████████████████████████████████████████│\n"
        "└───────┴───────┴─────────────────────────────────────────┘\n"
        "2021..2022  ▂█\n"
        "total: 10\n"
    )


def test_undated_and_year_only_are_reported_not_counted(tmp_path: Path, cli) -> None:
    add_articles(
        tmp_path,
        cli,
        '{"title": "An Undated Note on Caspian Shipping", "excerpt": "Caspian lanes."}',
        '{"title": "A Year-Only Review of Caspian Ports", "date": "2019", "excerpt": "Ports."}',
    )
    r = cli("stats", "-q", "caspian", "-f", "tsv")
    assert (r.code, r.out, r.err) == (0, "2019\t1\n", "not counted: 1 undated article\n")
    r = cli("stats", "-q", "caspian", "--by", "month", "-f", "tsv")
    assert (r.code, r.out) == (0, "")
    assert r.err == (
        "not counted: 1 undated article\nnot counted: 1 dated only to the year (see --by year)\n"
    )
    # A date filter leaves undated articles r.out by definition: nothing to report.
    r = cli("stats", "-q", "caspian", "--on", "2019", "-f", "tsv")
    assert (r.out, r.err) == ("2019\t1\n", "")


def test_nothing_matches_on_a_terminal_table(cli) -> None:
    r = cli("stats", "-f", "table", "-q", "zzzzqqq")
    assert (r.code, r.out, r.err) == (0, "", "no articles match\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "week"], "Error: Invalid value for '--by': 'week' is not one of"),
        (["-q", "   "], "Error: the query '   ' has no words to search for"),
        (["--since", "2023", "--until", "2022"], "Error: --since 2023 (2023-01-01) is after"),
    ],
)
def test_usage_errors(cli, args: list[str], message: str) -> None:
    r = cli("stats", *args)
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(message)


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
