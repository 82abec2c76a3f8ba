"""Analyst features: coverage over time, "more like this" and export. No printing.

* ``stats``: article counts per year, month or category, counted by SQLite
  (GROUP BY over the date index) so the cost is one index scan, not a million
  rows in Python. Empty periods inside the range are filled with zeros here.
* ``related``: articles sharing the most *distinctive* words with a given one.
  The archive's own document frequencies (the ``vocab`` table, refreshed from the
  FTS5 vocabulary on import) give each word an idf weight; the article's best
  words become one OR query to the full-text index, and the candidates are
  reranked by cosine similarity of tf-idf vectors (title words count triple).
* ``atomic_output``: the file ``export -o FILE`` writes, replaced only once complete
  (the formats themselves are written by ``output.write``).

A ``--query`` for stats and export reuses search's query understanding (typo
corrections, acronyms, phrases, exclusions) but counts *every* match, where
``search`` returns only the best few hundred.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from irarchive.errors import UsageError
from irarchive.store import Archive, Filters
from irarchive.text import STOPWORDS, fold_possessives, plain_tokens, title_initials

TITLE_WEIGHT = 3.0  # a word in the title says more about the subject than one in the excerpt
QUERY_TERMS = 12  # distinctive words sent to the index
CANDIDATES = 200  # index hits reranked


# ---- query --------------------------------------------------------------------------


def match_expression(archive: Archive, text: str) -> str:
    """The FTS5 expression ``search`` would use first (all words, with alternatives).

    Raises UsageError when the query has no searchable words.
    """
    from irarchive.search import build_match, expand, parse_query

    query = parse_query(text)
    if not query.terms:
        raise UsageError(f"the query {text!r} has no words to search for")
    expand(archive, query)
    title_only = False
    if query.stop_only:
        # As in search: only common words must appear together in a title.
        query.phrases = [[t.word for t in query.terms]]
        title_only = True
        for t in query.terms:
            t.prefix = False
    return build_match(query, title_only=title_only, mode="and")


# ---- stats ----------------------------------------------------------------------------


@dataclass
class Stats:
    """Counts in order; ``undated``/``coarse`` say what the series leaves out."""

    by: str
    rows: list[dict[str, Any]]
    undated: int = 0
    coarse: int = 0  # dated less precisely than ``by`` (a year-only date, by month)

    @property
    def key(self) -> str:
        """The name of the rows' first column: ``category``, or ``period`` for dates."""
        return "category" if self.by == "category" else "period"


def _period_number(period: str) -> int:
    """A year (``2022``) or month (``2022-03``) as a number that counts up by one."""
    if len(period) == 4:
        return int(period)
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def _period_text(number: int, by_month: bool) -> str:
    if not by_month:
        return f"{number:04d}"
    year, month = divmod(number, 12)
    return f"{year:04d}-{month + 1:02d}"


def _bounds(filters: Filters, by: str) -> tuple[str | None, str | None]:
    """The filter's own period ends, when given (open ends are not extended to)."""
    period = filters.period
    if period is None:
        return None, None
    width = 4 if by == "year" else 7
    lo = period.start.isoformat()[:width] if period.start.year > 1 else None
    hi = period.end.isoformat()[:width] if period.end.year < 9999 else None
    return lo, hi


def fill_periods(
    counts: list[tuple[str, int]], lo: str | None = None, hi: str | None = None
) -> list[dict[str, Any]]:
    """Every period from the first to the last (or ``lo``..``hi``), zeros included."""
    have = dict(counts)
    keys = sorted(have)
    first = min(filter(None, (lo, keys[0] if keys else None)), default=None)
    last = max(filter(None, (hi, keys[-1] if keys else None)), default=None)
    if first is None or last is None:
        return []
    # Counted as numbers, not strings: "9999" + 1 is "10000", which sorts before
    # "9999" as text and made the loop endless. Years are 1..9999, so a series is
    # at most 119,988 months long.
    by_month = len(first) > 4
    have_n = {_period_number(p): n for p, n in have.items()}
    return [
        {"period": _period_text(k, by_month), "count": have_n.get(k, 0)}
        for k in range(_period_number(first), _period_number(last) + 1)
    ]


def stats(
    archive: Archive, filters: Filters, *, by: str = "year", query: str | None = None
) -> Stats:
    """Article counts per year, month or category, honouring filters and a query."""
    match = match_expression(archive, query) if query is not None else None
    if by == "category":
        counts = archive.category_counts(filters, match=match)
        return Stats(by, [{"category": c, "count": n} for c, n in counts])
    series, undated, coarse = archive.period_counts(filters, by, match=match)
    lo, hi = _bounds(filters, by)
    return Stats(by, fill_periods(series, lo, hi), undated=undated, coarse=coarse)


# ---- related --------------------------------------------------------------------------


@dataclass
class Related:
    """One similar article, its similarity (0-100) and the words that weighed most."""

    article: dict[str, Any]
    score: float
    shared: list[str] = field(default_factory=list)

    def to_dict(self, rank: int) -> dict[str, Any]:
        return {"rank": rank, "score": self.score, "shared": self.shared, **self.article}


# Function words that say nothing about a subject, beyond search's short list.
RELATED_STOPWORDS = STOPWORDS | frozenset(
    """about above across after again against all also although among amongst another any
    because been before being below both can could did does doing down during each either
    even ever every few further had having he her here hers him his how however if more most
    much must my neither no nor not now off once only other our out own per rather same she
    should since so some still such then there these they those though through thus too
    toward towards until upon us very via we what when where whether which while who whom
    whose why within without would yet you your""".split()
)


def _useful(term: str) -> bool:
    return len(term) >= 2 and not term.isdigit() and term not in RELATED_STOPWORDS


def _words(text: str | None) -> list[str]:
    """Folded words with possessives folded: "Kazakhstan’s" counts as "kazakhstan"."""
    return plain_tokens(fold_possessives(text)) if text else []


def term_counts(article: dict[str, Any], acronyms: Container[str] = ()) -> dict[str, float]:
    """Term weights before idf: sub-linear frequency, times ``TITLE_WEIGHT`` in the title.

    A title's capitalised runs also give their initials ("Shanghai Cooperation
    Organization" -> sco), but only those in ``acronyms`` (defined somewhere in the
    archive): "History and Role" -> hr is noise, and a rare one at that.
    """
    title = article.get("title") or ""
    in_title = [t for t in _words(title) if _useful(t)]
    in_title += [t for t in title_initials(title) if t in acronyms]
    counts = Counter(in_title)
    counts.update(t for t in _words(article.get("excerpt")) if _useful(t))
    titled = set(in_title)
    # Sub-linear tf: a word repeated five times is not five times the subject.
    return {
        t: (1 + math.log(tf)) * (TITLE_WEIGHT if t in titled else 1.0) for t, tf in counts.items()
    }


def _vector(counts: dict[str, float], idf: dict[str, float]) -> dict[str, float]:
    return {t: w * idf[t] for t, w in counts.items() if t in idf}


def _idf(archive: Archive, terms: Iterable[str], total: int) -> dict[str, float]:
    """log(1 + N/df) from the archive's vocabulary; words it does not know are ignored."""
    terms = list(dict.fromkeys(terms))
    out: dict[str, float] = {}
    for i in range(0, len(terms), 500):  # stay far below SQLite's bound-parameter limit
        for term, df in archive.vocab_lookup(terms[i : i + 500]).items():
            out[term] = math.log(1 + total / max(df, 1))
    return out


def _norm(vec: dict[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vec.values())) or 1.0


def related(archive: Archive, article: dict[str, Any], *, limit: int = 10) -> list[Related]:
    """Articles most similar to ``article`` (itself excluded), best first."""
    total = max(archive.count(), 1)
    ref_counts = term_counts(article, archive.known_acronyms(title_initials(article["title"])))
    df = archive.vocab_lookup(list(ref_counts))
    idf = {t: math.log(1 + total / max(n, 1)) for t, n in df.items()}
    ref_vec = _vector(ref_counts, idf)
    # Words only this article has cannot find another one; the rest by weight.
    shared_df = [t for t in ref_vec if df.get(t, 0) >= 2]
    probes = sorted(shared_df, key=lambda t: (-ref_vec[t], t))[:QUERY_TERMS]
    if not probes:
        return []
    match = " OR ".join('"' + t.replace('"', "") + '"' for t in probes)
    candidates = [
        a
        for a, _ in archive.fts_candidates(match, Filters(), CANDIDATES + 1)
        if a["id"] != article["id"]
    ][:CANDIDATES]
    acronyms = archive.known_acronyms(t for a in candidates for t in title_initials(a["title"]))
    cand_counts = [term_counts(a, acronyms) for a in candidates]
    idf.update(_idf(archive, {t for c in cand_counts for t in c if t not in idf}, total))
    ref_norm = _norm(ref_vec)
    out = []
    for cand, counts in zip(candidates, cand_counts, strict=True):
        vec = _vector(counts, idf)
        contrib = {t: ref_vec[t] * w for t, w in vec.items() if t in ref_vec}
        score = 100 * sum(contrib.values()) / (ref_norm * _norm(vec))
        shared = sorted(contrib, key=lambda t: (-contrib[t], t))[:8]
        out.append(Related(cand, round(min(score, 100.0), 1), shared))
    out.sort(key=lambda r: (-r.score, r.article["id"]))
    return out[:limit] if limit else out


# ---- export ---------------------------------------------------------------------------


def atomic_output(path: str) -> Any:
    """Kept for callers of the old name: see ``irarchive.safeio.atomic_output``."""
    from irarchive.safeio import atomic_output as safe

    return safe(path)
