"""Search: find the article a person half-remembers. No printing.

Two stages, so the cost does not grow with the archive:

1. Candidates from SQLite's FTS5 index over folded words. Each query word becomes
   an OR-group of its alternatives: the word as a prefix, spelling corrections from
   the archive's vocabulary (found with rapidfuzz over a small slice of the
   vocabulary table), and acronym expansions learned at import time. Groups are
   ANDed; if that finds nothing, they are ORed. At most ``CANDIDATES`` rows come back,
   best bm25 first (title weighted 10:1).
2. Rerank those with rapidfuzz: how much of the query each candidate's title and
   excerpt cover, and how well; title coverage counts most, so a title hit
   outranks an excerpt-only hit. Scores are 0-100; below ``min_score`` is dropped.

Query syntax: words (any order, typos allowed), ``"a phrase"`` for words together,
``-word`` to exclude. Everything else is treated as text, never as FTS5 syntax.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from irarchive.errors import Ambiguous, NotFound
from irarchive.store import Archive, Filters
from irarchive.text import STOPWORDS, plain_tokens, title_initials, tokens

CANDIDATES = 300
DEFAULT_MIN_SCORE = 40.0
MAX_QUERY_WORDS = 12
_PHRASE = re.compile(r'"([^"]*)"')


@dataclass
class Term:
    """One query word and what it may match."""

    word: str
    prefix: bool
    corrections: list[str] = field(default_factory=list)
    expansions: list[list[str]] = field(default_factory=list)
    weight: float = 1.0

    def alternatives(self) -> set[str]:
        return {self.word, *self.corrections}


@dataclass
class Query:
    terms: list[Term]
    phrases: list[list[str]]
    excluded: list[str]
    stop_only: bool = False


@dataclass
class Hit:
    article: dict[str, Any]
    score: float
    matched: dict[str, list[str]]
    why: list[str]
    bm25: float

    def to_dict(self, rank: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "score": round(self.score, 1),
            "matched": self.matched,
            **self.article,
        }


@dataclass
class Result:
    hits: list[Hit]
    query: Query
    suggestions: list[str] = field(default_factory=list)


def _max_edits(word: str) -> int:
    if len(word) <= 3:
        return 0
    if len(word) <= 5:
        return 1
    return 2


def parse_query(text: str) -> Query:
    """Split a query into words, "phrases" and -exclusions (all folded)."""
    text = text[:2000]
    phrases = [plain_tokens(p) for p in _PHRASE.findall(text)]
    rest = _PHRASE.sub(" ", text)
    excluded: list[str] = []
    words: list[str] = []
    for chunk in rest.split():
        if chunk.startswith("-") and len(chunk) > 1 and chunk[1].isalnum():
            excluded += plain_tokens(chunk[1:])
        else:
            words += plain_tokens(chunk)
    for p in phrases:
        words += p
    phrases = [p for p in phrases if len(p) > 1]
    words = list(dict.fromkeys(words))
    content = [w for w in words if w not in STOPWORDS]
    stop_only = bool(words) and not content
    chosen = (content or words)[:MAX_QUERY_WORDS]
    terms = [Term(w, prefix=len(w) >= 3) for w in chosen]
    return Query(terms, phrases, excluded, stop_only)


def _quote(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


def _group(term: Term, column: str | None) -> str:
    alts = [_quote(term.word) + ("*" if term.prefix else "")]
    alts += [_quote(c) for c in term.corrections]
    alts += ['"' + " ".join(e) + '"' for e in term.expansions]
    expr = "(" + " OR ".join(alts) + ")"
    return f"{column} : {expr}" if column else expr


def build_match(query: Query, *, title_only: bool, mode: str) -> str:
    column = "title" if title_only else None
    groups = [_group(t, column) for t in query.terms]
    joiner = " AND " if mode == "and" else " OR "
    expr = joiner.join(groups)
    for p in query.phrases:
        phrase = '"' + " ".join(p) + '"'
        expr += f" AND {column} : {phrase}" if column else f" AND {phrase}"
    if query.excluded and expr:
        expr = f"({expr}) NOT (" + " OR ".join(_quote(w) for w in query.excluded) + ")"
    return expr


def expand(archive: Archive, query: Query) -> None:
    """Fill in corrections, acronym expansions and idf weights from the archive."""
    from rapidfuzz.distance import OSA

    words = [t.word for t in query.terms]
    known = archive.vocab_lookup(words)
    total = max(archive.total_docs(), 1)
    for term in query.terms:
        df = known.get(term.word)
        has_prefix = df is not None or (term.prefix and archive.vocab_has_prefix(term.word))
        edits = _max_edits(term.word)
        if not has_prefix and edits and not term.word.isdigit():
            near = archive.vocab_near(term.word, edits)
            scored = []
            for cand, cand_df in dict(near).items():
                d = OSA.distance(term.word, cand, score_cutoff=edits)
                if d <= edits:
                    scored.append((d, -cand_df, cand))
            scored.sort()
            best = [c for d, _, c in scored if d == scored[0][0]][:3] if scored else []
            term.corrections = best
            dfs = archive.vocab_lookup(best)
            df = max(dfs.values()) if dfs else None
        for expansion in archive.expansions(term.word) if len(term.word) >= 2 else []:
            term.expansions.append(expansion.split())
        term.weight = math.log(1 + total / (df or 1)) if df else math.log(1 + total)


def _coverage(term: Term, words: list[str], fuzzy: Any) -> tuple[float, str | None]:
    """How well one query term is present in a list of folded words (0..1)."""
    alts = term.alternatives()
    best, how = 0.0, None
    for w in words:
        if w == term.word:
            return 1.0, w
        if w in alts:
            best, how = max((best, how), (0.92, w), key=lambda x: x[0])
        elif term.prefix and w.startswith(term.word):
            best, how = max((best, how), (0.9, w), key=lambda x: x[0])
        elif any(w.startswith(c) for c in term.corrections if len(c) >= 4):
            best, how = max((best, how), (0.85, w), key=lambda x: x[0])
    if best == 0.0 and len(term.word) >= 5:
        match = fuzzy.extractOne(term.word, words, score_cutoff=80)
        if match:
            best, how = 0.75 * match[1] / 100, match[0]
    return best, how


def _expansion_hit(term: Term, text_words: list[str]) -> bool:
    joined = " " + " ".join(text_words) + " "
    return any(" " + " ".join(e) + " " in joined for e in term.expansions)


def score_candidate(query: Query, article: dict[str, Any]) -> tuple[float, dict, list[str]]:
    from rapidfuzz import fuzz, process

    title_words = plain_tokens(article["title"])
    initials = title_initials(article["title"])
    excerpt_words = tokens(article.get("excerpt"))
    total_w = sum(t.weight for t in query.terms) or 1.0
    title_cov = excerpt_cov = 0.0
    matched: dict[str, list[str]] = {"title": [], "excerpt": []}
    why: list[str] = []
    for term in query.terms:
        t_score, t_how = _coverage(term, title_words, process)
        if t_score < 0.88 and (term.word in initials or _expansion_hit(term, title_words)):
            t_score, t_how = 0.9, term.word
        e_score, e_how = _coverage(term, excerpt_words, process)
        if e_score < 0.88 and _expansion_hit(term, excerpt_words):
            e_score, e_how = 0.9, term.word
        title_cov += term.weight * t_score
        excerpt_cov += term.weight * e_score
        if t_how:
            matched["title"].append(t_how)
        if e_how:
            matched["excerpt"].append(e_how)
        where = "title" if t_score else "excerpt" if e_score else "nowhere"
        detail = t_how or e_how
        why.append(
            f"{term.word!r} -> {where}" + (f" ({detail})" if detail and detail != term.word else "")
        )
    title_cov /= total_w
    excerpt_cov /= total_w
    order = (
        fuzz.token_sort_ratio(" ".join(t.word for t in query.terms), " ".join(title_words)) / 100
    )
    # Title coverage counts in both terms, excerpt coverage only in the second: an
    # excerpt-only hit scores at most 45, any full title hit 90 or more.
    score = 100 * (0.45 * title_cov + 0.45 * max(title_cov, excerpt_cov) + 0.1 * order * title_cov)
    if query.terms:
        score = min(score, 100.0)
    return score, matched, why


def search(
    archive: Archive,
    text: str,
    *,
    filters: Filters | None = None,
    limit: int | None = 20,
    min_score: float = DEFAULT_MIN_SCORE,
    title_only: bool = False,
) -> Result:
    """Ranked articles for a free-text query (best first, at most ``limit``)."""
    filters = filters or Filters()
    query = parse_query(text)
    if not query.terms:
        return Result([], query)
    expand(archive, query)
    if query.stop_only:
        # Only common words: they must appear together in a title, or nearly every
        # article would match; a single common word matches nothing.
        if len(query.terms) == 1:
            return Result([], query)
        query.phrases = [[t.word for t in query.terms]]
        title_only = True
        for t in query.terms:
            t.prefix = False
    candidates = archive.fts_candidates(
        build_match(query, title_only=title_only, mode="and"), filters, CANDIDATES
    )
    if not candidates and len(query.terms) > 1:
        candidates = archive.fts_candidates(
            build_match(query, title_only=title_only, mode="or"), filters, CANDIDATES
        )
    hits = []
    for article, bm25 in candidates:
        score, matched, why = score_candidate(query, article)
        if title_only and not matched["title"]:
            continue
        if score >= min_score:
            hits.append(Hit(article, score, matched, why, bm25))
    hits.sort(key=lambda h: (-round(h.score, 1), h.bm25, -(_date_key(h.article)), h.article["id"]))
    if limit:
        hits = hits[:limit]
    result = Result(hits, query)
    if not hits:
        result.suggestions = suggest(archive, query)
    return result


def _date_key(article: dict[str, Any]) -> int:
    d = article.get("date") or ""
    digits = (d.replace("-", "") + "0000")[:8]
    return int(digits) if digits.isdigit() else 0


def suggest(archive: Archive, query: Query) -> list[str]:
    """Closest archive words for each query word ("did you mean …")."""
    from rapidfuzz import fuzz, process

    out: list[str] = []
    for term in query.terms:
        if term.corrections:
            out += term.corrections[:1]
            continue
        near = [t for t, _ in archive.vocab_near(term.word, 3)] if term.word else []
        match = process.extractOne(term.word, near, scorer=fuzz.ratio, score_cutoff=60)
        if match and match[0] != term.word:
            out.append(match[0])
    return list(dict.fromkeys(out))


def resolve(archive: Archive, ref: str) -> dict[str, Any]:
    """An article by id, slug, id prefix or title; fuzzy title only when unambiguous."""
    try:
        return archive.get(ref)
    except NotFound:
        pass
    result = search(archive, ref, limit=5, title_only=True, min_score=60)
    hits = result.hits
    if hits and (len(hits) == 1 or hits[0].score - hits[1].score >= 8):
        return hits[0].article
    if hits:
        raise Ambiguous(
            f"{ref!r} matches several titles; use an id or slug", [h.article for h in hits]
        )
    raise NotFound(f"no article {ref!r}")
