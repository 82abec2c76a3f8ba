"""``search(typing=True)``: search as you type, where the last word may be unfinished.

On ``fixtures/realistic.jsonl`` (see test_search.py). A text ending in a space, or
whose last word is complete, is searched exactly as without ``typing``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irarchive import search as search_mod
from irarchive.search import count, search
from irarchive.sources import read
from irarchive.store import Archive, open_archive

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "realistic.jsonl"
SCO_SUMMIT = "2022 SCO Summit in Samarkand: Key Takeaways"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    archive = open_archive(str(tmp_path_factory.mktemp("typing") / "real.db"))
    archive.import_items(list(read(str(FIXTURE), fmt="jsonl")), now="2024-01-01T00:00:00Z")
    yield archive
    archive.close()


def ids(result) -> list[str]:
    return [h.article["id"] for h in result.hits]


def spy(monkeypatch, method: str) -> list:
    """The first argument of each call of ``Archive.<method>`` from now on."""
    seen: list = []
    real = getattr(Archive, method)

    def spied(self, first, *args, **kwargs):
        seen.append(first)
        return real(self, first, *args, **kwargs)

    monkeypatch.setattr(Archive, method, spied)
    return seen


@pytest.fixture
def matches(monkeypatch) -> list[str]:
    """The FTS5 expressions the searches ask the index for."""
    return spy(monkeypatch, "fts_ranked")


def test_a_word_being_typed_is_searched_as_its_commonest_completions(
    archive: Archive, matches: list[str], monkeypatch
) -> None:
    monkeypatch.setattr(search_mod, "TYPING_COMPLETIONS", 2)
    result = search(archive, "tur", typing=True, limit=10)
    # "turkish" and "turkmenistan" are the commonest words beginning with "tur".
    assert matches and all('"tur"*' not in m for m in matches)
    assert all('"turkish"' in m and '"turkmenistan"' in m for m in matches)
    assert all('"turkiye"' not in m for m in matches)
    assert result.hits and result.query.unfinished
    words = [w for h in result.hits for w in h.matched["title"]]
    assert set(words) <= {"tur", "turkish", "turkmenistan"}
    # The count is of what is searched: fewer words, fewer articles.
    assert 0 < count(archive, "tur", typing=True) < count(archive, "tur")


def test_a_word_with_few_completions_finds_what_its_prefix_finds(
    archive: Archive, matches: list[str]
) -> None:
    # "turkmen" (a word) begins a few words: named, they find what "turkmen"* finds,
    # and the space that finishes the word changes nothing.
    typed = search(archive, "turkmen", typing=True, limit=10)
    assert all('"turkmen"*' not in m and '"turkmenistan"' in m for m in matches)
    assert not typed.query.unfinished
    assert ids(typed) == ids(search(archive, "turkmen", limit=10))


def test_a_text_ending_in_a_space_is_searched_as_without_typing(archive: Archive) -> None:
    for text in ["tur ", "sa ", "samarkand sumit ", '"regional security"', "iran -nuclear"]:
        assert ids(search(archive, text, typing=True)) == ids(search(archive, text)), text
        assert count(archive, text, typing=True) == count(archive, text), text


def test_two_letters_being_typed_begin_a_word(archive: Archive) -> None:
    typed = search(archive, "sa", typing=True, limit=5)
    assert typed.query.unfinished
    assert typed.hits and all(
        any(w.startswith("sa") for w in h.matched["title"]) for h in typed.hits
    )
    # Finished, "sa" is a word of its own: no title has it.
    assert search(archive, "sa", limit=5).hits == []


def test_a_word_being_typed_is_not_corrected_while_it_begins_common_words(
    archive: Archive, monkeypatch
) -> None:
    near = spy(monkeypatch, "vocab_near")
    typed = search(archive, "turkm", typing=True)
    assert near == [] and typed.query.terms[0].corrections == []
    search(archive, "turkm")
    assert near == ["turkm", "turkm"]  # finished, it is looked up as a possible typo
    # A word that begins no common word is corrected while typed: "sumit" -> summit,
    # and "countr", though it begins the rare "countries" and "country".
    assert [h.article["title"] for h in search(archive, "samarkand sumit", typing=True).hits][
        :1
    ] == [SCO_SUMMIT]
    assert "counter" in search(archive, "countr", typing=True).query.terms[0].corrections


def test_a_cut_completion_list_says_the_search_was_unfinished(
    archive: Archive, monkeypatch
) -> None:
    monkeypatch.setattr(search_mod, "TYPING_COMPLETIONS", 50)
    assert not search(archive, "turkmen", typing=True).query.unfinished
    monkeypatch.setattr(search_mod, "TYPING_COMPLETIONS", 1)
    # More completions than kept: the finished word may find others.
    assert search(archive, "turkmen", typing=True).query.unfinished


def test_a_kept_filter_finds_the_same_without_reading_each_match(tmp_path, monkeypatch) -> None:
    import sqlite3
    from datetime import date

    from irarchive.dates import resolve_filters
    from irarchive.store import Filters

    path = tmp_path / "kept.db"
    writer = open_archive(str(path))
    writer.import_items(list(read(str(FIXTURE), fmt="jsonl")), now="2024-01-01T00:00:00Z")
    writer.close()
    # This archive is small: filters select few enough articles to be intersected
    # in Python (FILTER_FIRST); a million-article archive's "since 2020" is not.
    monkeypatch.setattr("irarchive.store.archive.FILTER_FIRST", 0)
    archive = open_archive(str(path), create=False, readonly=True)
    since = Filters(period=resolve_filters("2022", None, None, today=date(2026, 11, 27)))
    queries = ["cooperation", "central asia", "turkmenistan gas", "tur"]
    before = {q: ids(search(archive, q, filters=since, typing=True)) for q in queries}
    counted = {q: count(archive, q, filters=since, typing=True) for q in queries}
    assert all(before.values()) and all(counted.values())
    assert counted["tur"] < count(archive, "tur", typing=True)  # the filter counts
    archive.keep_filter(since)
    statements: list[str] = []
    archive.conn.set_trace_callback(statements.append)
    after = {q: ids(search(archive, q, filters=since, typing=True)) for q in queries}
    archive.conn.set_trace_callback(None)
    assert after == before
    walks = [s for s in statements if "ORDER BY f.rowid DESC" in s]
    assert walks and all("irarchive_kept" in s and "JOIN" not in s for s in walks)
    # Counted the same, without reading each match's row either.
    statements.clear()
    archive.conn.set_trace_callback(statements.append)
    assert {q: count(archive, q, filters=since, typing=True) for q in queries} == counted
    archive.conn.set_trace_callback(None)
    counts = [s for s in statements if "count(*)" in s]
    assert len(counts) == 4 and all("irarchive_kept" in s and "JOIN" not in s for s in counts)
    # Another program adds an article of 2023: the kept rowids are out of date.
    other = sqlite3.connect(path)
    other.execute(
        "INSERT INTO articles (id, slug, title, date, date_start, date_end, added_at) "
        "VALUES ('new1', 'new1', 'Cooperation Cooperation', '2023-05-05', '2023-05-05', "
        "'2023-05-05', '2024-01-01')"
    )
    other.commit()
    other.close()
    statements.clear()
    archive.conn.set_trace_callback(statements.append)
    search(archive, "cooperation", filters=since, typing=True)
    archive.conn.set_trace_callback(None)
    assert not any("irarchive_kept" in s for s in statements)
    archive.close()


# Imported oldest first (rowid order is what the index walks newest first).
FILL = [
    {"title": "Caspian Pipeline Deal Signed", "date": "2020-01-01", "excerpt": "Oil."},
    {"title": "Caspian Summit Ends", "date": "2020-02-01", "excerpt": "The pipeline is late."},
    *(
        {"title": f"Market News {n}", "date": f"2021-0{n}-01", "excerpt": "Caspian pipeline."}
        for n in range(1, 5)
    ),
]


@pytest.fixture(scope="module")
def fill_archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    import json

    folder = tmp_path_factory.mktemp("fill")
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in FILL), encoding="utf-8")
    archive = open_archive(str(folder / "fill.db"))
    archive.import_items(list(read(str(source), fmt="jsonl")))
    yield archive
    archive.close()


def titles(result) -> list[str]:
    return [h.article["title"] for h in result.hits]


def test_while_a_word_is_typed_the_rows_below_the_titles_come_from_the_newest_matches(
    fill_archive: Archive, monkeypatch
) -> None:
    # One title has every word; the rows below it are filled from the newest
    # matches of every word anywhere (at least as many as results wanted).
    monkeypatch.setattr(search_mod, "TYPING_FILL", 1)
    typed = search(fill_archive, "caspian pipelin", typing=True, limit=3)
    assert titles(typed) == ["Caspian Pipeline Deal Signed", "Market News 4", "Market News 3"]
    # Older matches were left out: the finished text may find others.
    assert typed.query.unfinished
    finished = ["Caspian Pipeline Deal Signed", "Caspian Summit Ends", "Market News 4"]
    assert titles(search(fill_archive, "caspian pipeline", limit=3)) == finished
    assert titles(search(fill_archive, "caspian pipeline ", typing=True, limit=3)) == finished
    # A window that holds every match finds what the search of the finished text finds.
    monkeypatch.setattr(search_mod, "TYPING_FILL", 6)
    typed = search(fill_archive, "caspian pipelin", typing=True, limit=3)
    assert titles(typed) == finished and not typed.query.unfinished


def test_while_a_word_is_typed_titles_with_all_words_but_one_are_a_screenful_each(
    fill_archive: Archive, monkeypatch
) -> None:
    limits: dict[str, list[int]] = {}
    real = Archive.fts_ranked

    def fts_ranked(self, match, filters, limit, **kwargs):
        limits.setdefault(match, []).append(limit)
        return real(self, match, filters, limit, **kwargs)

    monkeypatch.setattr(Archive, "fts_ranked", fts_ranked)
    # No title has all three words: titles with two of them are asked for, each pair
    # ranked for as many rows as are wanted while the last word is typed.
    typed = search(fill_archive, "caspian summit pipelin", typing=True, limit=1)
    pairs = [m for m in limits if m.startswith("title : ") and m.count(" AND ") == 1]
    assert len(pairs) == 3 and all(limits[m] == [1] for m in pairs)
    assert titles(typed)[:1] == ["Caspian Summit Ends"]
    assert typed.query.unfinished  # a pair had as many titles as asked for: maybe more
    limits.clear()
    search(fill_archive, "caspian summit pipeline", limit=1)
    pairs = [m for m in limits if m.startswith("title : ") and m.count(" AND ") == 1]
    assert len(pairs) == 3 and all(limits[m] == [search_mod.KEEP_CUT] for m in pairs)


def test_a_typed_word_within_the_window_ranks_every_match_as_without_typing(tmp_path) -> None:
    # More matches than a pass keeps when cut (KEEP_CUT), fewer than the window
    # (TYPING_FILL): nothing is cut, so every match is ranked, as the CLI does. The
    # best ones (a near-miss title word, long excerpts: the lowest bm25) are found
    # while "zebra" is still being typed, and nothing is said to be unfinished.
    archive = open_archive(str(tmp_path / "a.db"), seed=None)
    records = [
        {
            "title": f"Report {i} on the zebru herds" if i < 40 else f"Report {i} on herds",
            "date": f"2020-01-{1 + i % 28:02d}",
            "excerpt": "zebra " + " ".join(f"w{j}" for j in range(300 if i < 40 else 5)),
            "url": f"https://example.invalid/{i}",
        }
        for i in range(2 * search_mod.KEEP_CUT + 80)
    ]
    assert search_mod.KEEP_CUT < len(records) <= search_mod.TYPING_FILL
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    archive.import_items(list(read(str(source), fmt="jsonl")), now="2024-01-01T00:00:00Z")
    try:
        typed = search(archive, "zebra", typing=True, limit=10)
        assert titles(typed) == titles(search(archive, "zebra", limit=10))
        assert all("zebru" in t for t in titles(typed))
        assert not typed.query.unfinished
    finally:
        archive.close()


def test_a_word_begun_with_one_letter_keeps_the_other_words_results(archive: Archive) -> None:
    # "o" of "organization": one letter is matched as itself and finds nothing; while
    # it is typed, the results of the words before it stay on screen.
    before = search(archive, "shanghai cooperation ", typing=True, limit=5)
    assert before.hits
    typed = search(archive, "shanghai cooperation o", typing=True, limit=5)
    assert ids(typed) == ids(before)
    assert typed.query.unfinished  # "o " is searched as typed, not taken from a cache
    # Finished, or searched as in the CLI, the letter counts: nothing matches it.
    assert not search(archive, "shanghai cooperation o ", typing=True, limit=5).hits
    assert not search(archive, "shanghai cooperation o", limit=5).hits
    # The count behind "N results" is the same search's.
    assert count(archive, "shanghai cooperation o", typing=True) == count(
        archive, "shanghai cooperation", typing=True
    )
    assert count(archive, "shanghai cooperation o") == 0
