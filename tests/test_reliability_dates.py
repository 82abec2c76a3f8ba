"""Reliability by class: dates at the edges of the calendar, and impossible times.

Years 1, 1000 and 9999 at every precision go through every command that does
period arithmetic (stats by year and month, with and without filters, list and
export with date filters). The failure this class found was a loop that never
ended (and grew until memory ran out), so each command runs under ``bounded``: a
time and memory budget that fails the test, as a process with a timeout would,
without the cost of starting ~280 processes.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import bounded, run_cli

EDGE_DATES = [
    "0001",
    "0001-01",
    "0001-01-01",
    "1000-06",
    "1000-06-15",
    "9999",
    "9999-12",
    "9999-12-31",
]


def run(db, *args: str):
    """``irarchive --db DB ARGS`` in-process, stopped if it runs away; no exception escapes."""
    with bounded(seconds=30):
        r = run_cli("--db", str(db), *args)
    assert r.exception is None, r
    return r


def _archive(tmp_path, dates: list[str]):
    db = tmp_path / "a.db"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"title": f"On {d}", "date": d}) + "\n" for d in dates))
    r = run(db, "--no-seed", "import", str(src))
    assert r.code == 0 and "0 rejected" in r.err, r.err
    return db


def _periods(lo: str, hi: str, by: str) -> list[str]:
    if by == "year":
        return [f"{y:04d}" for y in range(int(lo), int(hi) + 1)]
    a = int(lo[:4]) * 12 + int(lo[5:7]) - 1
    b = int(hi[:4]) * 12 + int(hi[5:7]) - 1
    return [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(a, b + 1)]


@pytest.mark.parametrize("date", EDGE_DATES)
@pytest.mark.parametrize(
    "filters",
    [(), ("--since", "0001"), ("--until", "9999"), ("--on", "9999"), ("--since", "9999-12")],
    ids=["none", "since-1", "until-9999", "on-9999", "since-9999-12"],
)
def test_one_article_at_the_edge(tmp_path, date, filters):
    db = _archive(tmp_path, [date])
    for by in ("year", "month"):
        r = run(db, "stats", "--by", by, "--json", *filters)
        assert r.code == 0, r.err
        rows = json.loads(r.out)
        counted = sum(x["count"] for x in rows)
        in_filter = not filters or not (
            (filters[0] == "--on" and not date.startswith("9999"))
            or (filters == ("--since", "9999-12") and not date.startswith("9999"))
        )
        if by == "month" and len(date) == 4:
            assert counted == 0
            assert ("dated only to the year" in r.err) == in_filter, r.err
        else:
            assert counted == (1 if in_filter else 0), (rows[:3], r.err)
        periods = [x["period"] for x in rows]
        assert periods == sorted(periods) and all(
            len(p) == (4 if by == "year" else 7) for p in periods
        )
        assert all(p <= "9999-12" for p in periods)
    for command in (("list", "--json"), ("export", "-f", "bibtex"), ("stats",)):
        r = run(db, *command, *filters)
        assert r.code == 0, r.err


@pytest.mark.parametrize("by", ["year", "month"])
def test_the_whole_calendar_in_one_series(tmp_path, by):
    db = _archive(tmp_path, ["0001-01-01", "1000-06-15", "9999-12-31"])
    r = run(db, "stats", "--by", by, "--json")
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    lo, hi = ("0001", "9999") if by == "year" else ("0001-01", "9999-12")
    assert [x["period"] for x in rows] == _periods(lo, hi, by)
    assert sum(x["count"] for x in rows) == 3


BAD_TIMES = ["T99:99:99", "T24:00", "T23:60", "T25:00:00", "T12:30:61", " 99:00"]
GOOD_TIMES = ["T00:00", "T23:59", "T23:59:59", "T23:59:60", " 12:30:00", "T10:00:00Z"]


@pytest.mark.parametrize("time", BAD_TIMES + GOOD_TIMES)
def test_times_of_day_are_checked(time):
    from irarchive.dates import parse_record_date

    text = f"2022-03-04{time}"
    if time in BAD_TIMES:
        with pytest.raises(ValueError, match="time"):
            parse_record_date(text)
    else:
        assert parse_record_date(text) == "2022-03-04"
