"""Search: find the article a person half-remembers. No printing.

Two stages, so the cost does not grow with the archive:

1. Candidates from SQLite's FTS5 index over folded words. Each query word becomes
   an OR-group of its alternatives: the word as a prefix, spelling corrections from
   the archive's vocabulary (words within one or two edits, OSA distance, found with
   rapidfuzz over a small slice of the vocabulary table; a word the archive has is
   never corrected), and acronym expansions learned at import time. Groups are
   ANDed. If no title then has every word (one may be a typo that is itself a word),
   the groups are also ORed over titles only, and, if nothing at all was found, over
   titles and excerpts. Each pass returns at most ``CANDIDATES`` rows, best bm25
   first (title weighted 10:1).
2. Rerank those with rapidfuzz: how much of the query each candidate's title and
   excerpt cover (idf-weighted; exact > one edit > prefix > two edits > fuzzy), and
   how well; title coverage counts most, so any full title hit (90+) outranks any
   excerpt-only hit (45 at most). The last tenth rewards similar length and order,
   the query's words standing together in the title, and excerpt agreement. Scores
   are 0-100; below ``min_score`` is dropped.

Query syntax: words (any order, typos allowed), ``"a phrase"`` for words together,
``-word`` to exclude. Everything else is treated as text, never as FTS5 syntax. A
blank query is a ``UsageError``; only stop-words must appear together in a title;
a query with nothing searchable (punctuation, emoji) finds nothing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from irarchive.errors import Ambiguous, NotFound, UsageError
from irarchive.store import Archive, Filters
from irarchive.text import (
    STOPWORDS,
    fold_possessives,
    lazy_re,
    plain_tokens,
    title_initials,
    tokens,
    written_tokens,
)

CANDIDATES = 300
#: Where ``search`` looks: titles, excerpts and notes, or only the notes.
SCOPES = ("all", "notes")
#: A hit only in the notes scores at most this: below any excerpt hit (45), above
#: the default ``--min-score`` when the notes have every word.
NOTE_ONLY_MAX = 42.0
# Matches ranked per pass (the newest added); more cost one posting-list seek each.
RANK_WINDOW = 600
# Candidates kept from a pass the window cut (at least; three pages when paging).
KEEP_CUT = 60
# Candidates per pass when every result is wanted (``limit=None``).
ALL_CANDIDATES = 5000
# A word in this many articles (and 1% of them) is not also searched as a prefix.
COMMON_MIN_DF = 1000
# Queries of up to this many words retry with all words but one when one is a miss.
MAX_SUBSET_WORDS = 5
DEFAULT_MIN_SCORE = 40.0
# A score every query word reaches in the title (exactly or nearly) gets past.
MAX_QUERY_WORDS = 12
MAX_CORRECTIONS = 8
# A word in at most RARE_DF articles also gets words COMMONER times as common.
RARE_DF = 3
COMMONER = 50
# A word still being typed (``typing=True``) is searched as itself and at most these
# many of its commonest completions.
TYPING_COMPLETIONS = 24
# While a word is typed, the every-word pass over titles and excerpts ranks only its
# newest this many matches (or as many as results wanted; ``RANK_WINDOW`` otherwise).
TYPING_FILL = 300
# Per-term match results kept across searches (typing repeats most of them).
FOUND_CACHE = 16384
_PHRASE = lazy_re(r'"([^"]*)"')
_LETTERS_DIGITS = lazy_re(r"([a-z]{1,2})(\d{1,3})")


@dataclass
class Term:
    """One query word and what it may match."""

    word: str
    prefix: bool
    corrections: list[str] = field(default_factory=list)
    expansions: list[list[str]] = field(default_factory=list)
    weight: float = 1.0
    # Edit distance of each correction, and whether the word as typed also begins
    # some archive word (then it may be a prefix rather than a typo).
    distance: dict[str, int] = field(default_factory=dict)
    is_prefix: bool = False
    # Other forms of the word as typed: the bare word of a possessive.
    variants: list[str] = field(default_factory=list)
    # The last word of a query still being typed (``search(typing=True)``), and the
    # commonest words it begins, searched by name instead of as a prefix (None: as
    # a prefix).
    partial: bool = False
    completions: list[str] | None = None

    def alternatives(self) -> set[str]:
        return {self.word, *self.corrections, *self.variants}


@dataclass
class Query:
    terms: list[Term]
    phrases: list[list[str]]
    excluded: list[str]
    stop_only: bool = False
    #: A phrase's words as written (``"U.S. election"``: ``u s election``) where they
    #: differ from its folded words (``us election``); the index holds the former.
    written: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    #: ``search(typing=True)`` read the last word as unfinished, and that changed the
    #: search: the same text followed by a space may find other articles.
    unfinished: bool = False

    def phrases_words(self) -> set[str]:
        return {w for p in self.phrases for w in p}


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
    quoted = _PHRASE.findall(text)
    phrases = [plain_tokens(p) for p in quoted]
    written = {
        tuple(folded): as_written
        for folded, p in zip(phrases, quoted, strict=True)
        if (as_written := written_tokens(p)) != folded and len(as_written) > 1
    }
    rest = _PHRASE.sub(" ", text)
    excluded: list[str] = []
    words: list[str] = []
    split: dict[str, list[str]] = {}
    variants: dict[str, str] = {}
    for chunk in rest.split():
        if chunk.startswith("-") and len(chunk) > 1 and chunk[1].isalnum():
            excluded += plain_tokens(chunk[1:])
            continue
        parts = plain_tokens(chunk)
        base = plain_tokens(fold_possessives(chunk))
        if base != parts and len(base) == len(parts):
            # "turkey's": the possessive as typed first (it is distinctive: "uk's"),
            # the bare word as a variant, so "Turkey" titles are found as well.
            variants.update((p, b) for p, b in zip(parts, base, strict=True) if p != b)
        if len(parts) > 1 and _joins(chunk) and min(len(p) for p in parts) <= 2:
            # "g-7", "covid-19", "f-16": one word, as the index also joins them; its
            # parts stay an alternative ("G 7" written apart).
            word = "".join(parts)
            split[word] = parts
            words.append(word)
        else:
            words += parts
    for p in phrases:
        words += p
    phrases = [p for p in phrases if len(p) > 1]
    words = list(dict.fromkeys(words))
    content = [w for w in words if w not in STOPWORDS]
    stop_only = bool(words) and not content
    chosen = (content or words)[:MAX_QUERY_WORDS]
    terms = [Term(w, prefix=len(w) >= 3) for w in chosen]
    for t in terms:
        if t.word in variants:
            t.variants = [variants[t.word]]
            t.distance[variants[t.word]] = 4  # below the form typed: "uk's" is not "uk"
        parts = split.get(t.word) or _letters_digits(t.word)
        if parts:
            t.expansions = [parts]
    return Query(terms, phrases, excluded, stop_only, written)


def _joins(chunk: str) -> bool:
    """Is the chunk words joined by hyphens or dashes ("g-7", "indo-pacific")?"""
    return any(d in chunk for d in "-‐‑‒–—")


def _letters_digits(word: str) -> list[str] | None:
    """ "g7" -> ["g", "7"]: short letter+digit names are also written apart or hyphenated."""
    m = _LETTERS_DIGITS.fullmatch(word)
    return [m.group(1), m.group(2)] if m else None


_SOUNDS = (
    ("tion", "xn"), ("sion", "xn"), ("shun", "xn"), ("shon", "xn"), ("cion", "xn"),
    ("ph", "f"), ("ck", "k"), ("kh", "k"), ("gh", "g"), ("sh", "x"), ("ch", "x"),
    ("y", "i"), ("z", "s"), ("q", "k"), ("c", "k"), ("w", "v"),
)  # fmt: skip


def sound_key(word: str) -> str:
    """A rough English sound key: "elecshun" and "election" -> "elkxn".

    Common spellings of one sound are merged, doubled letters collapsed and vowels
    after the first letter dropped. Used only to pick corrections among words
    already near in length and first letters, so it can afford to be crude.
    """
    w = word.lower()
    for a, b in _SOUNDS:
        w = w.replace(a, b)
    out = w[:1]
    for c in w[1:]:
        if c in "aeiou" or c == out[-1]:
            continue
        out += c
    return out


def _quote(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


def _all_of(words: list[str]) -> str:
    """Words that must all be present, anywhere."""
    return "(" + " AND ".join(_quote(w) for w in words) + ")"


def _phrase(query: Query, words: list[str]) -> str:
    """Words that must stand together, in order: an FTS5 phrase (the index keeps positions).

    A phrase written with punctuation (``"U.S. election"``) is found as written
    (``u s election``), or by its folded words anywhere; a phrase of content words
    also with a token between words (a possessive ``s``). ``has_phrases`` checks
    those looser matches on the bounded candidates (the joined forms such as ``us``
    sit at the end of an indexed title).
    """
    alts = [_quote(" ".join(words))]
    as_written = query.written.get(tuple(words))
    if as_written is not None:
        alts = [_quote(" ".join(as_written)), _all_of(words)]
    elif not STOPWORDS.intersection(words):
        # "turkey summit" in "Turkey’s summit" (indexed "turkey s summit"): a token
        # may stand between. Stop-words are in most titles: those phrases stay exact.
        near = " ".join(_quote(w) for w in words)
        alts.append(f"NEAR({near}, {len(words) - 1})")
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


def _group(term: Term) -> str:
    if term.completions is not None:
        alts = [_quote(w) for w in (term.word, *term.completions)]
    else:
        alts = [_quote(term.word) + ("*" if term.prefix else "")]
    alts += [_quote(c) for c in (*term.corrections, *term.variants)]
    alts += [_all_of(e) for e in term.expansions]
    return "(" + " OR ".join(alts) + ")"


def build_match(query: Query, *, title_only: bool, mode: str) -> str:
    """The FTS5 expression: one bracketed OR-group per word, ANDed or ORed.

    Every word is quoted, so nothing a user types is read as FTS5 syntax.
    """
    column = "title" if title_only else None
    # With AND, a word a phrase below already requires as it is needs no group of
    # its own (the index would read its posting list twice).
    required = set()
    if mode == "and":
        required = {w for p in query.phrases if tuple(p) not in query.written for w in p}
    groups = [
        _group(t)
        for t in query.terms
        if t.word not in required or t.prefix or t.corrections or t.variants or t.expansions
    ]
    # FTS5's AND binds tighter than OR: without the brackets a phrase ANDed on
    # below would constrain only the last group. One column filter over the whole
    # OR is several times faster than one per group.
    parts = []
    if groups:
        expr = "(" + (" AND " if mode == "and" else " OR ").join(groups) + ")"
        parts.append(f"{column} : {expr}" if column else expr)
    for p in query.phrases:
        parts.append(f"{column} : {_phrase(query, p)}" if column else _phrase(query, p))
    expr = " AND ".join(parts)
    if query.excluded and expr:
        expr = f"({expr}) NOT (" + " OR ".join(_quote(w) for w in query.excluded) + ")"
    return expr


def expand(archive: Archive, query: Query) -> None:
    """Fill in corrections, acronym expansions and idf weights from the archive."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    words = [t.word for t in query.terms]
    known = archive.vocab_lookup(words)
    total = max(archive.total_docs(), 1)
    common = max(COMMON_MIN_DF, total // 100)
    for term in query.terms:
        df = known.get(term.word)
        if df is not None and df >= common:
            # A word in over 1% of articles: its own matches are plenty, and
            # merging the posting lists of every longer word is what costs.
            term.prefix = False
        longer: list[tuple[str, int]] = []
        if term.partial and term.prefix:
            # Its completions by name: FTS5 reads a prefix's matches all at once
            # ("tran": 500,000), named words one by one, newest first, as needed.
            longer = archive.vocab_completions(term.word, TYPING_COMPLETIONS + 1)
            term.completions = [w for w, _ in longer[:TYPING_COMPLETIONS]]
            term.is_prefix = df is None and bool(longer)
        else:
            term.is_prefix = df is None and term.prefix and archive.vocab_has_prefix(term.word)
        edits = _max_edits(term.word)
        # A word the archive does not have is corrected even when it begins some
        # archive word: "gurd" begins "gurdwara" but was meant as "guard". A word
        # it has only a few times may be a typo in the archive itself
        # ("governnment"): then much commoner words one edit away are added.
        rare = df is not None and df <= RARE_DF and len(term.word) >= 5
        # A word still being typed that begins common archive words is taken as
        # unfinished rather than as a typo ("turk" of "turkey"; not "sumit", which
        # begins only the rare "sumitomo" but was meant as "summit").
        typed_on = bool(longer) and longer[0][1] >= COMMONER
        if (
            len(longer) > TYPING_COMPLETIONS
            or (typed_on and (df is None or rare))
            or (longer and len(term.word) < 3)
        ):
            query.unfinished = True
        if (df is None or rare) and edits and not term.word.isdigit() and not typed_on:
            # Words seen twice or more first: most of a big vocabulary is words
            # seen once, and reading them all is the slow part of a correction.
            for min_df in (2, 1):
                # Words seen once are most of a big vocabulary: for them, only those
                # sharing the first two letters (or the second and third).
                lead = 1 if min_df > 1 else 2
                near = dict(archive.vocab_near(term.word, edits, min_df=min_df, lead=lead))
                found = process.extract(
                    term.word, list(near), scorer=OSA.distance, score_cutoff=edits, limit=None
                )
                if any(cand != term.word for cand, _, _ in found):
                    break
            scored = sorted((d, -near[cand], cand) for cand, d, _ in found if cand != term.word)
            if rare:
                scored = [x for x in scored if x[0] == 1 and -x[1] >= COMMONER * df]
            elif not scored and len(term.word) >= 5:
                # Spelt as it sounds ("elecshun"): the same sound key, a few edits away.
                key = sound_key(term.word)
                scored = sorted(
                    (edits + 1, -n, cand)
                    for cand, n in near.items()
                    if cand != term.word and sound_key(cand) == key
                )[:MAX_CORRECTIONS]
            # The closest words, and those one edit further: the nearest vocabulary
            # word is often not the one meant ("cooperaton" is one edit from both
            # "cooperation" and "cooperator"); the reranker sorts them out.
            if scored:
                cutoff = scored[0][0] + 1
                chosen = [(c, d) for d, _, c in scored if d <= cutoff][:MAX_CORRECTIONS]
                term.corrections = [c for c, _ in chosen]
                term.distance = {**dict(chosen), **term.distance}
                dfs = archive.vocab_lookup(term.corrections)
                df = max([df or 0, *dfs.values()]) or None
        if len(term.word) >= 2:
            learned = [e.split() for e in archive.expansions(term.word)]
            term.expansions = [*term.expansions, *(e for e in learned if e not in term.expansions)]
        term.weight = math.log(1 + total / (df or 1)) if df else math.log(1 + total)


class _Found(NamedTuple):
    """How well one query term is present in one field."""

    score: float = 0.0
    word: str | None = None
    pos: int = -1


def _coverage(term: Term, words: Sequence[str], fuzzy: Any) -> _Found:
    """How well one query term is present in a list of folded words (0..1)."""
    from rapidfuzz.fuzz import ratio as fuzz_ratio

    if term.word in words:
        return _Found(1.0, term.word, words.index(term.word))
    alts = term.alternatives()
    stems = tuple(c for c in term.corrections if len(c) >= 4)
    best = _Found()
    for i, w in enumerate(words):
        if w in alts:
            # One edit beats two; a typed prefix beats a correction of it.
            s = 0.94 - 0.02 * term.distance.get(w, 1) - (0.06 if term.is_prefix else 0.0)
        elif term.prefix and w.startswith(term.word):
            s = 0.9
        elif stems and w.startswith(stems):
            s = 0.85
        else:
            continue
        if s > best.score:
            best = _Found(s, w, i)
    if best.score == 0.0 and len(term.word) >= 5:
        # Plain edit similarity: WRatio would let "scuttled" match a lone "t".
        match = fuzzy.extractOne(term.word, words, scorer=fuzz_ratio, score_cutoff=80)
        if match:
            best = _Found(0.75 * match[1] / 100, match[0], match[2])
    return best


def _expansion_at(term: Term, words: Sequence[str]) -> int:
    """Position in ``words`` where one of the term's expansions starts, or -1."""
    words = tuple(words)
    for e in term.expansions:
        n, wanted = len(e), tuple(e)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == wanted:
                return i
    return -1


def _proximity(positions: list[int]) -> float:
    """How far consecutive query words sit together, in order, in the title (0..1).

    Adjacent counts 1, and a quarter less for each word between (a dropped stop-word:
    "organization turkic" in "Organization of Turkic States"); reversed counts half.
    """
    pairs = list(zip(positions, positions[1:], strict=False))
    if not pairs:
        return 1.0
    total = 0.0
    for a, b in pairs:
        if a < 0 or b < 0:
            continue
        gap = b - a
        if gap > 0:
            total += max(0.0, 1.0 - 0.25 * (gap - 1))
        elif gap < 0:
            total += max(0.0, 0.5 - 0.25 * (-gap - 1))
    return total / len(pairs)


@functools.lru_cache(maxsize=2048)
def _article_words(
    title: str, excerpt: str | None
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A candidate's plain title words, title words, title initials and excerpt words.

    Cached: typing a query letter by letter in ``browse`` searches again on every key,
    and most candidates recur from one key to the next; reading their words is most of
    the cost of scoring them. Tuples of strings, as ``_FOUND``'s entries: the garbage
    collector stops tracking those once it has seen them, so the caches add nothing
    to what a collection walks (lists and class instances it walks every time).
    """
    return (
        tuple(plain_tokens(title)),
        tuple(tokens(title)),
        tuple(title_initials(title)),
        tuple(tokens(excerpt)),
    )


# How each term is present in a title and an excerpt: the two ``_Found`` as one flat
# tuple (see above: a tuple holding tuples may take more than one collection).
_FOUND: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _term_key(term: Term) -> tuple[Any, ...]:
    """What ``_term_found`` reads of a term (its weight is applied outside)."""
    return (
        term.word,
        term.prefix,
        term.is_prefix,
        tuple(term.corrections),
        tuple(term.variants),
        tuple(tuple(e) for e in term.expansions),
        tuple(sorted(term.distance.items())),
    )


def _term_found(
    term: Term, title_words: Sequence[str], initials: Sequence[str], excerpt_words: Sequence[str]
) -> tuple[_Found, _Found]:
    """How well one term is present in a title and in an excerpt."""
    from rapidfuzz import process

    t = _coverage(term, title_words, process)
    if t.score < 0.9:
        at = _expansion_at(term, title_words)
        if at >= 0:
            t = _Found(0.9, term.word, at)
        elif term.word in initials and (term.expansions or len(term.word) >= 3):
            # Initials of a title phrase ("Shanghai Cooperation Organization" ->
            # sco). Two letters are too easily a chance ("Ukraine Sign" -> us)
            # unless the archive has defined the acronym somewhere.
            t = _Found(0.9 if term.expansions else 0.8, term.word, -1)
    e = _coverage(term, excerpt_words, process)
    if e.score < 0.9 and _expansion_at(term, excerpt_words) >= 0:
        e = _Found(0.9, term.word, -1)
    return t, e


def score_candidate(
    query: Query, article: dict[str, Any], keys: list[tuple[Any, ...]] | None = None
) -> tuple[float, dict, list[str]]:
    """Score one candidate 0-100: title coverage first, then excerpt, order and proximity.

    ``keys``: ``_term_key`` of each query term, when scoring many candidates.
    """
    from rapidfuzz import fuzz

    # title_words has the joined forms of hyphenated words, so "indopacific" meets
    # "Indo-Pacific"; plain has the title's words only.
    plain, title_words, initials, excerpt_words = _article_words(
        article["title"], article.get("excerpt")
    )
    total_w = sum(t.weight for t in query.terms) or 1.0
    title_cov = excerpt_cov = 0.0
    matched: dict[str, list[str]] = {"title": [], "excerpt": []}
    why: list[str] = []
    positions: list[int] = []
    if keys is None:
        keys = [_term_key(t) for t in query.terms]
    for term, term_key in zip(query.terms, keys, strict=True):
        # Typing a query searches again on every key with mostly the same words and
        # candidates: how a term is present in a text is kept (it depends only on
        # what ``_term_key`` holds and on the text).
        key = (term_key, article["title"], article.get("excerpt"))
        found = _FOUND.get(key)
        if found is None:
            t, e = _term_found(term, title_words, initials, excerpt_words)
            if len(_FOUND) >= FOUND_CACHE:
                _FOUND.clear()
            found = _FOUND[key] = (*t, *e)
        t_score, t_word, pos, e_score, e_word, _ = found
        title_cov += term.weight * t_score
        excerpt_cov += term.weight * e_score
        if t_word and not (0 <= pos < len(plain) and plain[pos] == t_word) and t_word in plain:
            # A possessive as typed ("uk's") is a joined form added at the end of
            # the indexed words; where the title has it is where the plain words do.
            pos = plain.index(t_word)
        positions.append(pos if pos < len(plain) else -1)
        if t_word:
            matched["title"].append(t_word)
        if e_word:
            matched["excerpt"].append(e_word)
        where = "title" if t_score else "excerpt" if e_score else "nowhere"
        detail = t_word or e_word
        why.append(
            f"{term.word!r} -> {where}" + (f" ({detail})" if detail and detail != term.word else "")
        )
    title_cov /= total_w
    excerpt_cov /= total_w
    order = fuzz.token_sort_ratio(" ".join(t.word for t in query.terms), " ".join(plain)) / 100
    prox = _proximity(positions)
    # Title coverage counts in both main terms, excerpt coverage only in the second:
    # an excerpt-only hit scores at most 45, a full title hit 90 or more. The last
    # tenth separates equal title hits: similar length and word order, the query's
    # words together, and the excerpt agreeing.
    score = 100 * (
        0.45 * title_cov
        + 0.45 * max(title_cov, excerpt_cov)
        + title_cov * (0.04 * order + 0.04 * prox + 0.02 * excerpt_cov)
    )
    if len(query.terms) > 1:
        why.append(f"words together in title: {prox:.0%}")
    return min(score, 100.0), matched, why


def search(
    archive: Archive,
    text: str,
    *,
    filters: Filters | None = None,
    limit: int | None = 20,
    min_score: float = DEFAULT_MIN_SCORE,
    title_only: bool = False,
    offset: int = 0,
    sort: str = "score",
    reverse: bool = False,
    scope: str = "all",
    typing: bool = False,
) -> Result:
    """Ranked articles for a free-text query (best first, at most ``limit``).

    ``offset`` skips that many of the best results (paging: ``offset=20, limit=20``
    is the second page of twenty). ``limit=None`` returns every result that passes
    ``min_score`` among up to ``ALL_CANDIDATES`` candidates per pass; ``count``
    says cheaply how many articles match, for "showing 20 of N". ``sort="date"``
    orders the results found by date, newest first (``reverse`` flips either order).

    The work per query is bounded: a pass over common words ranks only the
    ``RANK_WINDOW`` most recently added matches (see ``Archive.fts_candidates``).
    The researcher's notes are searched too (``scope="notes"``: only them), see
    ``_note_hits``. A blank query is a usage error; a query with no searchable words (only
    punctuation or emoji) finds nothing.

    ``typing``: the text is being typed (search as you type), so a last word not yet
    followed by a space is taken as unfinished: when it begins archive words it is
    not corrected as a typo, and when it begins very many it stands for its
    ``TYPING_COMPLETIONS`` commonest (more letters narrow it down). While a word is
    typed, the passes that fill the rows below the titles with every word are bounded
    (see ``_find``): the next key searches again. Complete words, and every word of a
    text ending in a space, are searched as without ``typing``.
    """
    if not text.strip():
        raise UsageError("the search query is empty; give some words to look for")
    if sort not in ("score", "date"):
        raise UsageError(f"unknown sort {sort!r}; use score or date")
    if scope not in SCOPES:
        raise UsageError(f"unknown --in {scope!r}; use {' or '.join(SCOPES)}")
    filters = filters or Filters()
    offset = max(0, int(offset))
    query = _parse_typed(text) if typing else parse_query(text)
    if not query.terms:
        return Result([], query)
    expand(archive, query)
    if query.stop_only:
        # Only common words: they must appear together in a title, or nearly every
        # article would match; a single common word matches nothing.
        if len(query.terms) == 1:
            return Result([], query)
        _as_title_phrase(query)
        title_only = True
    if limit is None or sort == "date":
        wanted, window, cap = ALL_CANDIDATES, None, ALL_CANDIDATES
    else:
        wanted = offset + limit
        cap = max(CANDIDATES, wanted)
        window = max(RANK_WINDOW, wanted)
    if scope == "notes":
        hits = _note_hits(archive, query, filters, [], min_score, cap, only=True)
    else:
        quick = typing and any(t.partial for t in query.terms)
        hits = _find(archive, query, filters, title_only, min_score, cap, window, wanted, quick)
        if not title_only and archive.has_notes():
            hits = _note_hits(archive, query, filters, hits, min_score, cap, only=False)
    hits.sort(key=lambda h: (-h.score, h.bm25, -(_date_key(h.article)), h.article["id"]))
    if sort == "date":
        # Newest first (oldest with ``reverse``), undated last; equal dates by score.
        dated = [h for h in hits if h.article.get("date")]
        dated.sort(key=lambda h: _date_key(h.article), reverse=not reverse)
        hits = dated + [h for h in hits if not h.article.get("date")]
    elif reverse:
        hits.reverse()
    hits = hits[offset:]
    if limit:
        hits = hits[:limit]
    result = Result(hits, query)
    if not hits and not offset:
        result.suggestions = suggest(archive, query)
    return result


def _parse_typed(text: str) -> Query:
    """``parse_query`` for a text being typed (``typing=True``): its last word may be
    unfinished (``_mark_partial``). A last word of one letter after other words is left
    out until its second letter ("shanghai cooperation o"): as itself it matches almost
    nothing, and two letters begin its completions. The query is then ``unfinished``.
    """
    query = parse_query(text)
    _mark_partial(query, text)
    if len(query.terms) > 1 and any(t.partial and len(t.word) == 1 for t in query.terms):
        query = parse_query(text[:-1])
        query.unfinished = True
    return query


def _mark_partial(query: Query, text: str) -> None:
    """Mark the term of the word the text ends in, if it may not be finished yet."""
    if not text or not text[-1].isalnum():
        return  # a space, a closing quote: the last word is complete
    chunk = text.split()[-1]
    if chunk.startswith("-") or text.count('"') % 2:
        return  # an exclusion, or a word inside an unfinished phrase
    parts = plain_tokens(chunk)
    if not parts:
        return
    quoted = query.phrases_words()
    for term in query.terms:
        if term.word in (parts[-1], "".join(parts)) and term.word not in quoted:
            term.partial = True
            # Two letters typed are the start of a word ("ca" of "caspian"), searched
            # as its commonest completions (finished, "ca" is a word of its own).
            term.prefix = len(term.word) >= 2


def _as_title_phrase(query: Query) -> None:
    query.phrases = [[t.word for t in query.terms]]
    for t in query.terms:
        t.prefix = False
        t.completions = None


def _find(
    archive: Archive,
    query: Query,
    filters: Filters,
    title_only: bool,
    min_score: float,
    cap: int,
    window: int | None,
    wanted: int,
    quick: bool = False,
) -> list[Hit]:
    """Candidates from the index, reranked: every word first, then most of them.

    ``quick``: a word is being typed (``search(typing=True)``) and the next key will
    search again, so the passes after the titles with every word, which only fill
    the rows below those, are bounded (``TYPING_FILL``). When a bound left matches
    out, ``query.unfinished`` is set: the text finished may find other articles.
    """
    n = len(query.terms)
    hits: list[Hit] = []
    candidates: list = []
    # Title passes ask the title-only index, unless a -word must be absent from
    # the excerpt too.
    titles = not query.excluded
    quick = quick and window is not None and not title_only
    fill = max(TYPING_FILL, wanted)

    def every_match(match: str, title_index: bool, *, bounded: bool = False) -> list:
        """Up to ``cap`` matches ranked; fewer for common words (the window cut):
        a bounded slice has no single best anyway. ``bounded``: the newest ``fill``."""
        if bounded:
            # Not cut by the window, every match is ranked, as without the bound: only
            # a cut pass (more matches than ``fill``) keeps fewer, and says so.
            found, cut = archive.fts_ranked(
                match,
                filters,
                cap,
                window=fill,
                limit_if_cut=_keep(cap, wanted),
                titles=title_index,
            )
            query.unfinished = query.unfinished or cut
            return found
        return archive.fts_ranked(
            match, filters, cap, window=window, limit_if_cut=_keep(cap, wanted), titles=title_index
        )[0]

    if not title_only and window is not None:
        # Titles first: a title with every word outranks any excerpt-only hit, so
        # when enough titles have every word, the excerpts need no ranking at all.
        match = build_match(query, title_only=True, mode="and")
        candidates = archive.fts_ranked(
            match, filters, _keep(cap, wanted), window=window, titles=titles
        )[0]
        hits = _rerank(query, candidates, False, min_score)
    if title_only or window is None or len(hits) < wanted:
        # Typed, only the newest matches: what ranks below the titles with every
        # word (the excerpts, titles with some of the words) is for the rows below.
        more = every_match(
            build_match(query, title_only=title_only, mode="and"),
            titles and title_only,
            bounded=quick,
        )
        seen = {h.article["id"] for h in hits}
        hits += _rerank(query, [c for c in more if c[0]["id"] not in seen], title_only, min_score)
        candidates += more
    seen = {h.article["id"] for h in hits}
    if n > 1 and not query.stop_only:
        # No title has every word: one of them may be a typo that is itself a word
        # ("scuttled" for "scuttles"), so also take titles with most of the words
        # (titles only: ten times cheaper than ranking every excerpt with a common
        # word), and failing that any article with some of them.
        found = len(candidates)
        for title_or in (True, False):
            if _has_title_with_every_word(hits, n) if title_or else found:
                break
            more: list = []
            if title_or and 2 < n <= MAX_SUBSET_WORDS:
                # Titles with all words but one, each a bounded query of its own:
                # ranking every title with any of the words is what costs.
                # Typed, a screenful each: the rows below the titles with every word.
                keep = wanted if quick else _keep(cap, wanted)
                for skip in range(n):
                    part = Query(
                        [t for i, t in enumerate(query.terms) if i != skip], [], query.excluded
                    )
                    sub = build_match(part, title_only=True, mode="and")
                    rows = archive.fts_ranked(sub, filters, keep, window=window, titles=titles)[0]
                    query.unfinished = query.unfinished or (quick and len(rows) >= keep)
                    more += rows
            if not more:
                in_titles = title_only or title_or
                more = every_match(
                    build_match(query, title_only=in_titles, mode="or"), titles and in_titles
                )
            found += len(more)
            fresh = {c[0]["id"]: c for c in more if c[0]["id"] not in seen}
            hits += _rerank(query, list(fresh.values()), title_only, min_score)
            seen |= set(fresh)
    return hits


def _keep(cap: int, wanted: int) -> int:
    """Candidates reranked from a pass cut by the window: a few pages' worth."""
    return min(cap, max(KEEP_CUT, 3 * wanted))


def count(
    archive: Archive,
    text: str,
    *,
    filters: Filters | None = None,
    title_only: bool = False,
    typing: bool = False,
) -> int:
    """About how many articles a query finds: those with every word (cheap).

    The number behind "showing 20 of N". It counts index matches, so it can differ
    a little from the results ``search(limit=None)`` returns (those below
    ``min_score`` or failing a phrase are not shown; typo fallbacks add some).
    ``typing`` as in ``search``.
    """
    if not text.strip():
        raise UsageError("the search query is empty; give some words to look for")
    query = _parse_typed(text) if typing else parse_query(text)
    if not query.terms:
        return 0
    expand(archive, query)
    if query.stop_only:
        if len(query.terms) == 1:
            return 0
        _as_title_phrase(query)
        title_only = True
    match = build_match(query, title_only=title_only, mode="and")
    return archive.fts_count(match, filters or Filters())


def _has_title_with_every_word(hits: list[Hit], words: int) -> bool:
    """Some title matched every query word, exactly or within a typo (score 80+).

    Then the ORed fallback query (the slowest one at a million articles) is skipped.
    """
    return any(len(h.matched["title"]) == words and h.score >= 80 for h in hits)


def has_phrases(query: Query, article: dict[str, Any], title_only: bool) -> bool:
    """Every quoted phrase appears as consecutive words (in the title, or the excerpt)."""
    if not query.phrases:
        return True
    texts = [article["title"]] if title_only else [article["title"], article.get("excerpt")]
    texts = [t for t in texts if t]
    # Folded words ("Turkey’s summit" is "turkey summit") or the words as written.
    joined = [" " + " ".join(tokens(t)) + " " for t in texts]
    joined += [" " + " ".join(written_tokens(t)) + " " for t in texts]
    wanted = [
        [" " + " ".join(p) + " "]
        + [" " + " ".join(w) + " " for w in [query.written.get(tuple(p))] if w]
        for p in query.phrases
    ]
    return all(any(w in j for w in ws for j in joined) for ws in wanted)


def _rerank(
    query: Query, candidates: list[tuple[dict[str, Any], float]], title_only: bool, min_score: float
) -> list[Hit]:
    hits = []
    keys = [_term_key(t) for t in query.terms]
    for article, bm25 in candidates:
        if not has_phrases(query, article, title_only):
            continue
        score, matched, why = score_candidate(query, article, keys)
        score = round(score, 1)  # as shown; equal shown scores fall back to bm25
        if title_only and not matched["title"]:
            continue
        if score >= min_score:
            hits.append(Hit(article, score, matched, why, bm25))
    return hits


def _date_key(article: dict[str, Any]) -> int:
    d = article.get("date") or ""
    digits = (d.replace("-", "") + "0000")[:8]
    return int(digits) if digits.isdigit() else 0


def suggest(archive: Archive, query: Query) -> list[str]:
    """Closest archive words for each query word ("did you mean …")."""
    from rapidfuzz import fuzz, process

    out: list[str] = []
    known = archive.vocab_lookup([t.word for t in query.terms])
    for term in query.terms:
        if term.corrections:
            out += term.corrections[:1]
            continue
        if term.word in known or len(term.word) < 3:
            continue  # a word the archive has needs no "did you mean"
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
        if not ref.strip():
            raise
    result = search(archive, ref, limit=5, title_only=True, min_score=60)
    hits = result.hits
    if hits and (len(hits) == 1 or hits[0].score - hits[1].score >= 8):
        return hits[0].article
    if hits:
        raise Ambiguous(
            f"{ref!r} matches several titles; use an id or slug", [h.article for h in hits]
        )
    raise NotFound(ref)


def _note_match(query: Query) -> str:
    """The FTS5 expression over ``notes_fts`` (plain unicode61 words): every word as
    a prefix or one of its corrections, phrases' words present, exclusions absent."""
    groups = []
    for t in query.terms:
        alts = [_quote(t.word) + "*"] + [_quote(c) for c in (*t.corrections, *t.variants)]
        groups.append("(" + " OR ".join(alts) + ")")
    expr = "(" + " AND ".join(groups) + ")"
    for p in query.phrases:
        expr += f" AND {_all_of(p)}"
    if query.excluded:
        expr += " NOT (" + " OR ".join(_quote(w) for w in query.excluded) + ")"
    return expr


def _note_hits(
    archive: Archive,
    query: Query,
    filters: Filters,
    hits: list[Hit],
    min_score: float,
    cap: int,
    *,
    only: bool,
) -> list[Hit]:
    """``hits`` with what the notes add: ``matched["notes"]`` on each (the words its
    notes matched), and articles found only through their notes.

    With ``only``, the notes alone are searched and scored 0-100 by how much of the
    query they cover; otherwise a notes-only article scores ``NOTE_ONLY_MAX`` at most,
    below every title or excerpt hit, and an article already found keeps its score.
    """
    by_id = {h.article["id"]: h for h in hits}
    for h in hits:
        h.matched["notes"] = []
    total_w = sum(t.weight for t in query.terms) or 1.0
    for article, texts in archive.note_candidates(_note_match(query), filters, cap):
        words = [w for text in texts for w in tokens(text)]
        cov, found = 0.0, []
        for term in query.terms:
            c = _coverage(term, words, _NoFuzzy)
            cov += term.weight * c.score
            if c.word:
                found.append(c.word)
        cov /= total_w
        known = by_id.get(article["id"])
        if known is not None:
            known.matched["notes"] = found
            continue
        score = round(100 * cov if only else NOTE_ONLY_MAX * cov, 1)
        if score < min_score:
            continue
        why = [f"{t.word!r} -> notes" for t in query.terms]
        hit = Hit(article, score, {"title": [], "excerpt": [], "notes": found}, why, 0.0)
        hits.append(hit)
        by_id[article["id"]] = hit
    return hits


class _NoFuzzy:
    """Notes are matched on words, prefixes and corrections only (no edit-distance scan)."""

    @staticmethod
    def extractOne(*args: Any, **kwargs: Any) -> None:  # noqa: N802 - rapidfuzz's name
        return None
