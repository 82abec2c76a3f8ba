"""Search results a person can act on: misses found as a new user, paging, counts, order.

Small archives built through the library for each case, so every expectation is
visible in the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irarchive.analysis import related
from irarchive.search import count, search
from irarchive.sources import read
from irarchive.store import Archive, open_archive

ARTICLES = [
    ("G7 Summit Opens in Hiroshima", "2023-05-19", "Leaders of the G7 met in Japan."),
    ("G-7 Finance Ministers Agree on Tax", "2021-06-05", "The G-7 deal sets a global rate."),
    ("Seven Wonders Summit of Travel", "2020-01-01", "A summit about seven sights."),
    ("China’s Belt and Road Initiative in Kyrgyzstan", "2019-04-01", "Loans and roads."),
    ("Road Safety Initiative Launched", "2019-05-01", "A belt of new signs on the road."),
    ("Belt Tightening as Road Budget Shrinks", "2018-02-01", "An initiative is cut."),
    ("Kyrgyzstan Election: Japarov Wins", "2021-01-11", "Voters chose the president."),
    ("Kyrgyzstan Mining Law Changes", "2020-07-01", "Gold mines and elections ahead."),
    ("Electricity Prices in Kazakhstan", "2022-01-05", "Elections are due next year."),
    ("Turkey’s Energy Plans for 2030", "2022-06-01", "Turkey’s grid grows."),
    ("Turkey Signs Gas Deal", "2022-07-01", "Ankara signs with Baku."),
    ("Kazakhstan’s Oil Exports Towards Europe", "2022-03-01", "Kazakhstan’s oil moves "
     "towards Europe, although slowly, through the Caspian pipeline."),
    ("Kazakhstan Oil Pipeline Plans", "2022-04-01", "Kazakhstan ships oil towards Europe "
     "although the Caspian route is long."),
]  # fmt: skip


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    folder = tmp_path_factory.mktemp("results")
    src = folder / "a.jsonl"
    src.write_text(
        "".join(
            json.dumps({"title": t, "date": d, "excerpt": e, "category": "News"}) + "\n"
            for t, d, e in ARTICLES
        ),
        encoding="utf-8",
    )
    archive = open_archive(str(folder / "a.db"))
    archive.import_items(list(read(str(src), fmt="jsonl")), now="2024-01-01T00:00:00Z")
    yield archive
    archive.close()


def titles(archive: Archive, query: str, **kw) -> list[str]:
    return [h.article["title"] for h in search(archive, query, **kw).hits]


# ---- misses found by trying it as a new user ---------------------------------------------

G7 = {"G7 Summit Opens in Hiroshima", "G-7 Finance Ministers Agree on Tax"}


@pytest.mark.parametrize("query", ["G7", "g-7", "G-7", "g7"])
def test_g7_however_written_finds_both_spellings(archive: Archive, query: str) -> None:
    assert set(titles(archive, query)[:2]) == G7


def test_g_7_summit_finds_what_g7_summit_finds(archive: Archive) -> None:
    assert titles(archive, "g-7 summit")[:1] == titles(archive, "G7 summit")[:1]
    assert titles(archive, "g-7 summit")[:1] == ["G7 Summit Opens in Hiroshima"]


def test_belt_road_initiative_skips_the_stop_word_gap(archive: Archive) -> None:
    found = titles(archive, "belt road initiative")
    assert found[:1] == ["China’s Belt and Road Initiative in Kyrgyzstan"]


def test_two_misspellings_one_phonetic(archive: Archive) -> None:
    # "kirgizstan" is two edits from Kyrgyzstan; "elecshun" is spelt as it sounds.
    assert titles(archive, "kirgizstan elecshun")[:1] == ["Kyrgyzstan Election: Japarov Wins"]
    assert titles(archive, "elecshun")[:1] == ["Kyrgyzstan Election: Japarov Wins"]


@pytest.mark.parametrize("query", ["turkey's", "turkey’s"])
def test_possessives_fold_in_search(archive: Archive, query: str) -> None:
    # The possessive as typed ranks first (it is the distinctive form: "uk's"), and
    # titles with the bare word are found too, as title hits just below.
    hits = search(archive, query).hits
    assert hits[0].article["title"] == "Turkey’s Energy Plans for 2030"
    plain = next(h for h in hits if h.article["title"] == "Turkey Signs Gas Deal")
    assert plain.matched["title"] == ["turkey"] and plain.score >= 80


def test_plain_word_finds_the_possessive_title(archive: Archive) -> None:
    found = titles(archive, "turkey")
    assert set(found[:2]) == {"Turkey’s Energy Plans for 2030", "Turkey Signs Gas Deal"}
    hit = next(h for h in search(archive, "turkey").hits if "’s" in h.article["title"])
    assert hit.matched["title"] == ["turkey"] and hit.score >= 95


def test_related_folds_possessives_and_drops_function_words(archive: Archive) -> None:
    article = archive.get("Kazakhstan’s Oil Exports Towards Europe")
    found = related(archive, article, limit=1)
    assert found[0].article["title"] == "Kazakhstan Oil Pipeline Plans"
    shared = found[0].shared
    assert "kazakhstan" in shared
    assert "kazakhstans" not in shared
    assert not {"towards", "although"} & set(shared)


# ---- paging, counts and order ---------------------------------------------------------


def test_offset_pages_through_the_same_ranking(archive: Archive) -> None:
    whole = titles(archive, "kazakhstan", limit=None, min_score=0)
    assert len(whole) >= 3
    assert titles(archive, "kazakhstan", limit=2, offset=1, min_score=0) == whole[1:3]
    assert titles(archive, "kazakhstan", limit=2, offset=len(whole), min_score=0) == []


def test_count_is_the_number_of_articles_with_every_word(archive: Archive) -> None:
    assert count(archive, "kazakhstan") == 3
    assert count(archive, "europe") == 2  # one title, one excerpt only
    assert count(archive, "kazakhstan oil") == 2
    assert count(archive, "xyzzy") == 0


def test_sort_by_date_newest_first_and_reversed(archive: Archive) -> None:
    by_date = search(archive, "kazakhstan", sort="date", limit=None, min_score=0).hits
    dates = [h.article["date"] for h in by_date]
    assert dates == sorted(dates, reverse=True) and len(dates) == 3
    oldest = search(archive, "kazakhstan", sort="date", reverse=True, limit=1, min_score=0)
    assert [h.article["date"] for h in oldest.hits] == [min(dates)]


# ---- through the command line ------------------------------------------------------------


@pytest.fixture
def cli_archive(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IRARCHIVE_DB", archive.path)
    return Path(archive.path)


def test_cli_sort_date(cli_archive: Path, cli) -> None:
    r = cli("search", "kazakhstan", "--sort", "date", "--min-score", "0", "-f", "tsv",
            "--fields", "date")  # fmt: skip
    assert r.out.split() == ["2022-04-01", "2022-03-01", "2022-01-05"]
    r = cli("search", "kazakhstan", "--sort", "date", "-r", "--min-score", "0", "-f", "tsv",
            "--fields", "date")  # fmt: skip
    assert r.out.split() == ["2022-01-05", "2022-03-01", "2022-04-01"]


def test_cli_table_says_showing_n_of_total(cli_archive: Path, cli) -> None:
    r = cli("search", "kazakhstan", "-n", "2", "-f", "table", "--min-score", "0")
    assert r.code == 0
    assert r.err == "showing 2 of about 3 (use --limit 0 for all)\n"


def test_cli_limit_0_says_how_many_more_exist(cli_archive: Path, cli) -> None:
    r = cli("search", "europe", "-n", "0", "--json", "--min-score", "90")
    shown = json.loads(r.out)
    assert [a["title"] for a in shown] == ["Kazakhstan’s Oil Exports Towards Europe"]
    assert r.err.startswith("1 more articles have these words but are not shown")


def test_cli_limit_0_is_quiet_when_all_are_shown(cli_archive: Path, cli) -> None:
    r = cli("search", "kazakhstan", "-n", "0", "--json", "--min-score", "0")
    assert len(json.loads(r.out)) == 3
    assert r.err == ""


def test_related_term_counts_fold_possessives_and_function_words() -> None:
    from irarchive.analysis import term_counts

    counts = term_counts(
        {"title": "Kazakhstan’s Oil", "excerpt": "Kazakhstan’s oil goes towards Europe, although"}
    )
    assert "kazakhstan" in counts
    assert not {"kazakhstans", "towards", "although"} & set(counts)


def test_window_ranks_only_the_newest_matches(archive: Archive) -> None:
    from irarchive.store import Filters

    everything, cut = archive.fts_ranked('"kazakhstan"', Filters(), 100)
    assert len(everything) == 3 and not cut
    rowids = {
        r[0]
        for r in archive.conn.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"kazakhstan\"' "
            "ORDER BY rowid DESC LIMIT 2"
        )
    }
    windowed, cut = archive.fts_ranked('"kazakhstan"', Filters(), 100, window=2)
    assert cut and len(windowed) == 2
    ids = {c[0]["id"] for c in windowed}
    got = {
        r[0]
        for r in archive.conn.execute("SELECT rowid FROM articles WHERE id IN (?, ?)", sorted(ids))
    }
    assert got == rowids
