"""Folding, tokenising and neutralising text. Pure functions, no I/O.

The same folding runs when an article is indexed and when a query is parsed, so
``turkiye`` meets ``Türkiye``, ``china's`` meets ``China’s``, ``US`` meets ``U.S.``
and ``indopacific`` meets ``Indo-Pacific``. SQLite's ``unicode61`` tokenizer with
``remove_diacritics 2`` then does case and accent folding inside the index;
``tokens`` reproduces that in Python for reranking.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any


class lazy_re:  # noqa: N801 - used like re.compile
    """A regex compiled on first use.

    Every command imports this module, and most use few of its patterns: compiling
    them all up front cost several milliseconds of each start-up.
    """

    __slots__ = ("__dict__", "_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(*self._args)
        value = getattr(compiled, name)
        # Kept as an attribute: later look-ups skip this method (imports use some of
        # these patterns millions of times).
        self.__dict__[name] = value
        return value


# Apostrophes and quote-like marks that join letters: China’s -> Chinas, O'Neill -> ONeill.
_APOSTROPHE = lazy_re(r"(?<=[^\W\d_])['’ʼ‘`´](?=[^\W\d_])")
# Possessives: Turkey's -> Turkey (the joined "Turkeys" is indexed as well).
_POSSESSIVE = lazy_re(r"(?<=[^\W\d_])['’ʼ]s\b")
_POSSESSIVE_WORD = lazy_re(r"[^\W_]+['’ʼ]s\b")
# Dotted abbreviations: U.S. -> US, e.g. -> eg.
_DOTTED = lazy_re(r"(?<![\w.])(?:[^\W\d_]\.){2,}(?!\w)")
# Words joined by hyphens or dashes: Indo-Pacific, Russia–Ukraine.
_APOSTROPHES = "'’ʼ‘`´"
_DOTTED_HINT = lazy_re(r"\.\w\.")
_DASH_CHARS = "-‐‑‒–—"
_TO_HYPHEN = str.maketrans(dict.fromkeys(_DASH_CHARS, "-"))
# Text without any of these is left as it is by ``index_text``.
_REWRITTEN = lazy_re("[" + re.escape(_APOSTROPHES + _DASH_CHARS + ".") + "]")
_COMBINING = lazy_re("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = lazy_re(r"[^\W_]+")

STOPWORDS = frozenset(
    """a an and are as at be but by for from has have in into is it its of on or that the
    their this to was were will with between over after about than under""".split()
)


def _nfkc(s: str) -> str:
    return s if s.isascii() else unicodedata.normalize("NFKC", s)


def strip_marks(s: str) -> str:
    """Remove diacritics: Türkiye -> Turkiye (letters of other scripts are kept)."""
    if s.isascii():
        return s
    return _COMBINING.sub("", unicodedata.normalize("NFKD", s))


def ascii_fold(s: str) -> str:
    """Lower-case, accent-free form used for identity keys and slugs."""
    return strip_marks(_nfkc(s)).casefold()


def index_text(s: str | None) -> str:
    """The text the full-text index sees: normalised, with joined forms added.

    Kept cheap because it runs for every article imported, a million times for a
    big archive: each rewrite is guarded by a plain substring test, so text without
    apostrophes, dotted abbreviations or hyphens skips the regex passes.
    """
    if not s:
        return ""
    s = _nfkc(s)
    if not _REWRITTEN.search(s):
        return s  # no apostrophe, dot or dash: nothing below applies (most titles)
    if any(q in s for q in _APOSTROPHES):
        # "Turkey’s" is indexed as "Turkey", so it meets "turkey", plus the joined
        # "Turkeys" at the end (earlier archives indexed only that form).
        joined_possessives = [m.group() for m in _POSSESSIVE_WORD.finditer(s)]
        s = _POSSESSIVE.sub("", s)
        s = _APOSTROPHE.sub("", s)
        if joined_possessives:
            s += " " + " ".join(_APOSTROPHE.sub("", w) for w in joined_possessives)
    if _DOTTED_HINT.search(s):
        s = _DOTTED.sub(lambda m: m.group().replace(".", ""), s)
    if any(d in s for d in _DASH_CHARS):
        dashed = s.translate(_TO_HYPHEN)
        joined = [
            "".join(parts)
            for w in dashed.split()
            if "-" in w and len(parts := _WORD.findall(w.replace("-", " "))) > 1
        ]
        if joined:
            s = s + " " + " ".join(joined)
    return s


def fts_text(s: str | None) -> str:
    """The text the full-text index holds: the words as written, then their joined forms.

    The words keep their order, so a phrase of the words as typed matches (``"China’s
    summit"``, ``"U.S. election"``, ``"Indo-Pacific"``, tokenised by SQLite as ``china s``,
    ``u s``, ``indo pacific``): that is what Datasette and ``sqlite-utils search`` send.
    The forms ``index_text`` adds or rewrites (``Chinas``, ``US``, ``IndoPacific``,
    ``ONeill``) follow at the end, where they cannot break a phrase, so irarchive's own
    folded query words meet them too.
    """
    if not s:
        return ""
    s = _nfkc(s)
    folded = index_text(s)
    if folded == s:
        return s
    written = set(_WORD.findall(s.casefold()))
    extra = [w for w in _WORD.findall(folded) if w.casefold() not in written]
    return s + " " + " ".join(dict.fromkeys(extra)) if extra else s


def tokens(s: str | None) -> list[str]:
    """Folded word tokens, as the index stores them (case and accents removed)."""
    if not s:
        return []
    return _WORD.findall(strip_marks(index_text(s)).casefold())


def written_tokens(s: str | None) -> list[str]:
    """Folded tokens of the words as written, as SQLite's tokenizer splits them.

    ``U.S.`` is ``u s`` and ``China’s`` is ``china s``: the order the index keeps
    them in (see ``fts_text``), so a phrase in these tokens is an index phrase.
    """
    if not s:
        return []
    return _WORD.findall(strip_marks(_nfkc(s)).casefold())


def fold_possessives(s: str) -> str:
    """Drop the possessive 's: "Turkey's" -> "Turkey" (other apostrophes stay)."""
    if not any(q in s for q in _APOSTROPHES):
        return s
    return _POSSESSIVE.sub("", s)


def plain_tokens(s: str | None) -> list[str]:
    """Folded tokens without the added joined forms (for display-side matching)."""
    if not s:
        return []
    s = _DOTTED.sub(lambda m: m.group().replace(".", ""), _APOSTROPHE.sub("", _nfkc(s)))
    return _WORD.findall(strip_marks(s).casefold())


_CONNECTORS = frozenset({"of", "and", "for", "the", "on", "de", "du", "la", "in"})

# Runs of capitalised words in titles give acronyms by their initials:
# "Shanghai Cooperation Organization" -> sco, "European Union" -> eu.
_PUNCT = "\"'“”‘’()[]{}:;,.!?"
_RUN_END = ":;,.!?)]"


def title_initials(title: str | None) -> list[str]:
    """Acronym tokens for runs of capitalised words in a title.

    Both with and without the small connecting words: "Joint Comprehensive Plan of
    Action" gives ``jcpoa`` and ``jcpa``.
    """
    if not title:
        return []
    out: list[str] = []
    run: list[str] = []  # initials of the current run of capitalised words
    conns: list[int] = []  # the positions in ``run`` of its connecting words

    def flush() -> None:
        while conns and conns[-1] == len(run) - 1:
            conns.pop()
            run.pop()
        if len(run) >= 2:
            if conns:
                candidates = _run_candidates(run, conns)
            else:  # the usual run: every word's initial, and no parts to add
                candidates = ["".join(run)]
            for acro in candidates:
                if 2 <= len(acro) <= 8 and acro not in out:
                    out.append(acro)
        run.clear()
        conns.clear()

    # A plain loop over words: several times faster than a regex over the title,
    # and this runs for every article imported.
    for raw in title.split():
        word = raw.strip(_PUNCT)
        if not word:
            if run:
                flush()
            continue
        initial = word[0]
        if initial.isupper():
            run.append(initial.lower())
        elif run and word.lower() in _CONNECTORS:
            conns.append(len(run))
            run.append(initial)
        else:
            if run:
                flush()
            continue
        if raw[-1] in _RUN_END:
            flush()
    flush()
    if title.isascii() or all(a.isascii() for a in out):
        return out
    return [strip_marks(a) for a in out]


def _run_candidates(run: list[str], conns: list[int]) -> list[str]:
    """A run's acronyms: all initials, those of the main words, and each part between
    connecting words (at positions ``conns``) that is shorter than the run."""
    skip = set(conns)
    candidates = ["".join(run), "".join(c for i, c in enumerate(run) if i not in skip)]
    part = ""
    for i, c in enumerate(run):
        if i in skip:
            if 2 <= len(part) < len(run):
                candidates.append(part)
            part = ""
        else:
            part += c
    if 2 <= len(part) < len(run):  # the part after the last connecting word
        candidates.append(part)
    return candidates


# "Shanghai Cooperation Organization (SCO)", "European Union (EU-27)".
_ACRO_DEF = lazy_re(r"\(\s*([A-Z][A-Za-z]{1,9})(?:[-–]\d+)?\s*\)")


def acronym_definitions(text: str | None) -> list[tuple[str, str]]:
    """Learn (acronym, expansion) pairs from text like "Plan of Action (JCPOA)".

    The expansion is the shortest run of words before the parenthesis whose
    initials spell the acronym, connecting words optional.
    """
    if not text or "(" not in text:
        return []
    pairs: list[tuple[str, str]] = []
    for m in _ACRO_DEF.finditer(text):
        acro = m.group(1)
        letters = [c.lower() for c in acro if c.isupper()]
        if len(letters) < 2 or len(letters) != sum(1 for c in acro if c.isalpha() and c.isupper()):
            continue
        before = _WORD.findall(strip_marks(text[: m.start()]))[-(len(acro) * 2 + 2) :]
        expansion = _match_initials(before, acro.lower())
        if expansion:
            pairs.append((acro.lower(), " ".join(w.lower() for w in expansion)))
    return pairs


def _match_initials(words: list[str], acro: str) -> list[str] | None:
    """Walk back from the end of ``words`` consuming initials of ``acro``."""
    i = len(acro) - 1
    j = len(words) - 1
    taken: list[str] = []
    while i >= 0 and j >= 0:
        w = words[j]
        if w[0].lower() == acro[i]:
            taken.append(w)
            i -= 1
        elif w.lower() in _CONNECTORS and taken:
            taken.append(w)
        else:
            return None
        j -= 1
    if i >= 0:
        return None
    return list(reversed(taken))


# --- unsafe characters: one definition, three treatments --------------------------------
# Data shown to people must not drive a terminal or reorder text: C0 and C1 controls,
# DEL, and the bidi embedding/override/isolate/mark characters ("Trojan Source").
# ``neutralise`` makes them visible (terminal and text formats), ``clean_line`` removes
# them (citations), ``JSON_UNSAFE`` finds the ones JSON would leave raw.

_BIDI_POINTS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
_BIDI = "".join(map(chr, _BIDI_POINTS))
_C1 = "\x7f-\x9f"
_UNSAFE = lazy_re(r"[\x00-\x08\x0b-\x1f" + _C1 + _BIDI + r"]")
_UNSAFE_WITH_NL = lazy_re(r"[\x00-\x1f" + _C1 + _BIDI + r"]")
#: What JSON text leaves unescaped but a terminal would act on (C0 is escaped by JSON).
JSON_UNSAFE = lazy_re("[" + _C1 + "\u2028\u2029" + _BIDI + "]")
#: For ``clean_line``: the same set plus line separators, BOM and lone surrogates
#: (unencodable as UTF-8).
_UNCLEAN = lazy_re("[\x00-\x1f" + _C1 + "\u2028\u2029" + _BIDI + "\ufeff\ud800-\udfff]")
#: Whole ANSI/VT escape sequences (CSI, OSC, two-byte ESC x) so no "[31m" debris remains.
_ANSI = lazy_re(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# Everything str.splitlines() treats as a line boundary, plus tab, becomes a space, so
# one-record-per-line formats (RIS) can never be split by data; the rest is dropped.
_LINE_BREAKS = (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0x2028, 0x2029)
_SPACES = lazy_re(r" {2,}")
_CLEAN_TABLE: dict[int, str | None] = {
    **dict.fromkeys((*range(0x20), *range(0x7F, 0xA0), *_BIDI_POINTS, 0xFEFF), None),
    **dict.fromkeys(range(0xD800, 0xE000), None),
    **dict.fromkeys(_LINE_BREAKS, " "),
}


def clean_line(value: Any) -> str:
    """``value`` as a single-line, control-free string ("" for None/unusable types).

    Numbers are stringified (a title may legitimately be ``1984``); containers and other
    objects are ignored rather than rendered as Python reprs.
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
    else:
        return ""
    # A regex search is much cheaper than translate(), and almost every real value is
    # clean, so translate() only runs when there is work to do.
    if _UNCLEAN.search(text):
        if "\x1b" in text or "\x9b" in text:
            text = _ANSI.sub("", text)
        text = text.translate(_CLEAN_TABLE)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


#: ASCII punctuation that can open or close inline markup anywhere in a line, in
#: CommonMark, GFM or pandoc: emphasis, code, links/images (``!`` needs ``[``, ``(`` needs
#: ``]``), autolinks/raw HTML, entities, strikethrough, table cells, math, and the
#: backslash itself. Backslash-escaping ASCII punctuation is always literal.
_MD_INLINE = lazy_re(r"([\\`*_\[\]<>&~|$])")
#: Constructs that only matter at the start of a line (headings, lists, quotes).
_MD_LINE_START = lazy_re(r"^(?:([#+=-])|(\d+)([.)]))")


def markdown_escape(text: str) -> str:
    """Backslash-escape Markdown specials in already-cleaned, single-line ``text``.

    Line-start constructs (``#``, ``-``, ``+``, ``1.``) are escaped only at the start of
    the text, so ordinary hyphens and hashes stay readable in the Markdown source while
    the text is still safe if a caller puts it at the beginning of a line.
    """
    escaped = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(
        lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], escaped, count=1
    )


def _visible(m: re.Match[str]) -> str:
    c = m.group()
    o = ord(c)
    if o < 0x20:
        return "^" + chr(o + 0x40)
    if o == 0x7F:
        return "^?"
    return f"<U+{o:04X}>"


def neutralise(s: str, *, keep_newlines: bool = False) -> str:
    """Make control, escape and bidi characters visible (ESC -> ``^[``, U+202E -> ``<U+202E>``).

    Terminal output of article data goes through this, so an article cannot move the
    cursor, change colours, set the window title, open a hyperlink (OSC 8) or
    reorder text (Trojan-Source style).
    """
    pattern = _UNSAFE if keep_newlines else _UNSAFE_WITH_NL
    if keep_newlines:
        s = s.replace("\t", " ")
    return pattern.sub(_visible, s)


def one_line(s: str) -> str:
    """Collapse all whitespace (incl. newlines) to single spaces and neutralise the rest."""
    return neutralise(" ".join(s.split()))
