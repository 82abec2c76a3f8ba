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
    gc.collect()
    gc.collect()  # a tuple holding tuples may be seen before them: untracked next time
    assert [gc.is_tracked(k) for k in kept] == [False] * 7
