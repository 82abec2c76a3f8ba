"""Scoring reads a candidate's words once: browse searches again on every key."""

from __future__ import annotations

from irarchive import search

ARTICLE = {
    "title": "Iranian Nuclear Deal Crisis",
    "excerpt": "The Joint Comprehensive Plan of Action (JCPOA) agreement signed in 2015",
}


def test_a_candidates_words_are_read_once_and_never_served_stale(monkeypatch):
    read: list[str | None] = []
    real = search.tokens

    def tokens(s):
        read.append(s)
        return real(s)

    monkeypatch.setattr(search, "tokens", tokens)
    search._article_words.cache_clear()
    query = search.parse_query("nuclear jcpoa")
    first = search.score_candidate(query, ARTICLE)
    assert read == [ARTICLE["title"], ARTICLE["excerpt"]]
    assert search.score_candidate(query, dict(ARTICLE)) == first  # a new dict, same text
    assert len(read) == 2
    changed = dict(ARTICLE, excerpt="Talks resumed in Vienna")
    score, matched, _ = search.score_candidate(query, changed)
    assert read[-1] == "Talks resumed in Vienna"  # other text is read again
    assert matched["excerpt"] != first[1]["excerpt"] and score < first[0]


def test_how_a_term_is_present_is_kept_per_term_and_text():
    # Kept by everything the match reads of a term: the same word searched another
    # way is never answered from what was kept for the first.
    search._FOUND.clear()
    prefix = search.parse_query("nucl")
    assert search.score_candidate(prefix, ARTICLE)[1]["title"] == ["nuclear"]
    exact = search.parse_query("nucl")
    exact.terms[0].prefix = False
    assert search.score_candidate(exact, ARTICLE)[1]["title"] == []
    corrected = search.parse_query("nucl")
    corrected.terms[0].prefix = False
    corrected.terms[0].corrections = ["deal"]
    assert search.score_candidate(corrected, ARTICLE)[1]["title"] == ["deal"]
    assert search.score_candidate(prefix, ARTICLE)[1]["title"] == ["nuclear"]
    assert search._FOUND  # and it was kept


def test_the_kept_words_and_matches_are_not_walked_by_the_garbage_collector():
    # Tuples of strings and numbers: once a collection has seen them, Python stops
    # tracking them, so big caches do not make every later collection longer.
    import gc

    search._FOUND.clear()
    search._article_words.cache_clear()
    search.score_candidate(search.parse_query("iran nuclear jcpoa"), ARTICLE)
    kept = [
        *search._FOUND,
        *search._FOUND.values(),
        search._article_words(ARTICLE["title"], ARTICLE["excerpt"]),
    ]
    assert len(kept) == 7
    # A collection untracks a tuple whose items are all untracked by then, so nested
    # tuples go from the inside out, at worst one level a collection (Python 3.10 walks
    # them in an order that needs that): a key is four levels deep.
    for _ in range(4):
        gc.collect()
    assert [gc.is_tracked(k) for k in kept] == [False] * 7


def test_candidate_rows_are_read_once_and_never_served_stale(tmp_path, monkeypatch):
    import json
    import sqlite3

    from irarchive.sources import read
    from irarchive.store import Filters, open_archive

    source = tmp_path / "in.jsonl"
    records = [dict(ARTICLE, date=f"2022-0{n}-01", title=f"{ARTICLE['title']} {n}") for n in (1, 2)]
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    archive = open_archive(str(tmp_path / "a.db"))
    archive.import_items(list(read(str(source), fmt="jsonl")))
    reads: list[str] = []
    archive.conn.set_trace_callback(
        lambda sql: reads.append(sql) if "FROM articles WHERE rowid IN" in sql else None
    )
    try:

        def found() -> list[str]:
            return [a["excerpt"] for a, _ in archive.fts_ranked('"nuclear"', Filters(), 10)[0]]

        assert found() == [ARTICLE["excerpt"]] * 2 and len(reads) == 1
        assert found() == [ARTICLE["excerpt"]] * 2 and len(reads) == 1  # kept
        # The articles returned are the caller's own to change.
        archive.fts_ranked('"nuclear"', Filters(), 10)[0][0][0]["excerpt"] = "mine"
        assert found() == [ARTICLE["excerpt"]] * 2
        # Another program changes the archive: the rows are read again.
        other = sqlite3.connect(str(tmp_path / "a.db"))
        with other:
            other.execute("UPDATE articles SET excerpt = 'Talks resumed' WHERE title LIKE '%1'")
        other.close()
        assert sorted(found()) == sorted([ARTICLE["excerpt"], "Talks resumed"])
        assert len(reads) == 2
        # Full, the kept rows are dropped, never the rows being read.
        monkeypatch.setattr("irarchive.store.archive.KEPT_ROWS", 1)
        archive._rows[1].pop(next(iter(archive._rows[1])))
        assert sorted(found()) == sorted([ARTICLE["excerpt"], "Talks resumed"])
    finally:
        archive.close()
