"""Turn archive articles into citation formats: BibTeX/biblatex, RIS, CSL-JSON, Markdown.

Every exporter takes an iterable of article dicts (the archive contract: ``id``, ``slug``,
``title``, ``authors``, ``date``, ``excerpt``, ``truncated``, ``category``, ``url``,
``doi``, ``source``, ``added_at``, ``extra``) and *yields* ``str`` chunks, one per record
plus framing, so a million-article export streams instead of being built in memory.  The
module is pure (stdlib only, no I/O, no printing) so the CLI, scripts and tests share one
implementation.

Hostile data never raises and never becomes markup
--------------------------------------------------
Archive text is scraped, so every value goes through ``text.clean_line`` first: ANSI
escape sequences are stripped whole, C0/C1 control characters and DEL are dropped (the
ones that act as line breaks become spaces), bidi embedding/override/isolate characters
(U+202A-U+202E, U+2066-U+2069, marks; "Trojan Source") and lone surrogates (unencodable as
UTF-8) are removed, and runs of whitespace collapse to one space.  Wrong types (numbers,
lists, ``None``) and missing keys are tolerated; non-mapping items export as empty
records so the record count always equals the input count.  Each format then applies its
own escaping (see :func:`bibtex_escape`, ``text.markdown_escape``).

Citation key scheme (stable across exports, unique)
---------------------------------------------------
``<word><year>-<id16>``, e.g. ``sco2022-3f9a0c1e2b4d5a6f``:

* ``word``: the first *significant* word of the title, ASCII-folded (NFKD, accents
  dropped) and lower-cased, skipping a frozen stop-word list, pure numbers and
  one-letter tokens, cut to 24 characters; if the title has none (e.g. a Persian title)
  the slug is tried, then the literal ``article``.
* ``year``: the article's year, omitted when undated (``sco-3f9a0c1e2b4d5a6f``).
* ``id16``: the article's 16-hex-digit archive id (lower-cased).  A malformed id is
  replaced by the first 16 hex digits of SHA-256 over the id string (or, if the id is
  empty, over slug/url/title/date) so the key is still a deterministic function of the
  article.

Why the whole id rather than ``a``/``b`` suffixes or a 4-digit id prefix: a key must be
the same in every export, whatever else is exported with it.  Order-based suffixes change
when the selection changes, and a short prefix collides (65 536 values shared by every
``iran2023`` article).  The archive id is unique and stable, so the key is unique by
construction; the word and year only make it readable.  Only if the *same* key occurs
twice in one export (duplicate or forged ids) does the second get ``a``, the third ``b``
and so on, deterministically in input order; such keys cannot collide with a plain key
because a plain key has exactly 16 characters after its only ``-``.  Detecting that
costs one remembered key per exported article (~100 bytes each).
The stop-word list below is part of the scheme: editing it would change existing keys.

CSL type
--------
CSL-JSON items use type ``webpage``: a think-tank analysis published on the
organisation's own site is neither a periodical article (``article-newspaper`` implies a
newspaper and issue) nor a blog post (``post-weblog``); ``webpage`` is what Zotero maps
RIS ``ELEC`` and biblatex ``@online`` to, so the three exports describe the same thing.

Field mapping notes
-------------------
* ``authors`` are CSL name objects (``{"family", "given", "suffix"}`` or ``{"literal"}``):
  biblatex ``author = {Family, Given and Family, Jr., Given and {Organisation}}``
  (organisations in an extra pair of braces, so they are never split into first and
  last names), RIS one ``AU  - Family, Given[, Suffix]`` line each (an organisation
  with a trailing comma, EndNote's corporate-author mark), CSL ``author`` as is.
* ``doi``: biblatex ``doi``, RIS ``DO``, CSL ``DOI``.
* The archive id is kept where no standard style prints it: biblatex/BibTeX
  ``irarchive-id`` (not in the biblatex data model, so biber drops it before any style
  sees it, and BibTeX styles ignore unknown fields); in RIS and CSL-JSON the citation
  key, which ends in the id, is the record's ``ID`` / item ``id``, which styles never
  print (CSL-JSON's ``custom`` object would do too, but citeproc-py warns about it).
* ``added_at`` (the day the archive captured the page) is the access date, written only
  with a URL (an access date says when the URL was read): biblatex ``urldate``, RIS
  ``Y2``, CSL ``accessed``.
* Undated articles have no date field at all, and in BibTeX no ``urldate`` either:
  biblatex's standard styles take the label year from ``urldate`` when there is no date
  (labelling the article with the year it was archived), while biblatex-apa, the standard
  styles without ``urldate``, and pandoc all print "n.d.". The alternatives were tried
  and fail: ``year = {n.d.}`` makes pandoc print "n.d.n.d." (APA) and "n.d." twice
  (Chicago); ``date = {n.d.}`` is dropped by biber, which then falls back to ``urldate``
  again. RIS and CSL keep the access date (no consumer takes a label from it).
* ``category`` is a subject area, so it is a keyword (``keywords``/``KW``/``keyword``),
  followed by the researcher's tags (one ``KW`` line each; comma-joined elsewhere),
  not a container title; the optional ``publisher`` argument (the think tank) is the
  container: biblatex ``organization``, RIS ``PB``, CSL ``container-title``.
* Titles protect words that sentence-casing styles (biblatex-apa) would lower-case:
  capitalised words that do not start the title or a subtitle, and words with capitals
  inside (``SCO``, ``iPhone``), as Zotero's Better BibTeX does; runs of them share one
  group (``{Central Asia}``). Literal braces are written ``\\{``/``\\}`` when they are
  balanced (pandoc and pylatexenc read these back; they drop ``\\textbraceleft``), else
  as ``\\textbraceleft{}``/``\\textbraceright{}``, which cannot unbalance the file.
* A truncated excerpt gets a trailing ``…`` so the abstract does not pass for complete.
* Only http(s) URLs are exported; others (``javascript:``, ``file:``) are dropped.
* Invalid or unparseable dates (``2022-02-30``) export as undated rather than guessed.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from irarchive.text import clean_line, markdown_escape

__all__ = [
    "bibtex",
    "bibtex_escape",
    "citation_key",
    "csl_json",
    "markdown_reading_list",
    "parse_date",
    "ris",
]

# --------------------------------------------------------------------------- cleaning


def _field(article: Mapping[str, Any], name: str) -> str:
    """Cleaned text of one article field; missing keys and None both give ""."""
    return clean_line(article.get(name))


def _keywords(article: Mapping[str, Any]) -> list[str]:
    """The category, then the researcher's tags (each once): the article's keywords."""
    found = [_field(article, "category")]
    tags = article.get("tags")
    if isinstance(tags, (list, tuple)):
        found += [clean_line(t) for t in tags]
    return [k for k in dict.fromkeys(found) if k]


def _excerpt(article: Mapping[str, Any]) -> str:
    """Cleaned excerpt with an ellipsis when the archive marks it as truncated."""
    text = _field(article, "excerpt")
    if text and article.get("truncated") is True and not text.endswith(("…", "...")):
        text += "…"
    return text


def _as_mapping(item: Any) -> Mapping[str, Any]:
    """Non-mapping items export as empty records so counts stay aligned with input."""
    return item if isinstance(item, Mapping) else {}


_NAME_PARTS = ("family", "given", "suffix")


def _names(article: Mapping[str, Any]) -> list[dict[str, str]]:
    """The article's authors as cleaned CSL name objects; anything malformed is skipped.

    A person keeps ``family`` (required), ``given`` and ``suffix``; everything else is a
    ``literal``. A bare string counts as a literal (it was never split into parts).
    """
    raw = article.get("authors")
    if not isinstance(raw, (list, tuple)):
        return []
    out: list[dict[str, str]] = []
    for item in raw:
        if isinstance(item, str):
            item = {"literal": item}
        if not isinstance(item, Mapping):
            continue
        family = clean_line(item.get("family"))
        if family:
            name = {"family": family}
            for part in _NAME_PARTS[1:]:
                value = clean_line(item.get(part))
                if value:
                    name[part] = value
        else:
            literal = clean_line(item.get("literal")) or clean_line(item.get("given"))
            if not literal:
                continue
            name = {"literal": literal}
        if name not in out:
            out.append(name)
    return out


def _name_text(name: Mapping[str, str]) -> str:
    """A name as written in running text: ``John Smith Jr.`` or the literal."""
    if "literal" in name:
        return name["literal"]
    return " ".join(name[p] for p in ("given", "family", "suffix") if p in name)


_DOI_RE = re.compile(r"10\.\d{4,9}/[^\s{}\\\"<>]+")


def _doi(article: Mapping[str, Any]) -> str | None:
    """The article's DOI if it is one (a bare ``10.x/y``; braces and spaces never pass)."""
    value = _field(article, "doi")
    return value if _DOI_RE.fullmatch(value) else None


def _id(article: Mapping[str, Any]) -> str:
    """The archive id as exported in the fields no style prints (see module docstring)."""
    return _field(article, "id")


# ------------------------------------------------------------------------------ dates

_DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_STAMP_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_BIB_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _valid_parts(year: int, month: int | None, day: int | None) -> tuple[int, ...] | None:
    """Validate a (possibly partial) calendar date; invalid dates count as undated."""
    if year < 1:
        return None
    if month is None:
        return (year,)
    if not 1 <= month <= 12:
        return None
    if day is None:
        return (year, month)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return (year, month, day)


def parse_date(value: Any) -> tuple[int, ...] | None:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` into 1-3 ints, else None.

    Partial dates keep their precision (CSL date-parts, RIS ``2022/09//``) instead of
    being padded to a fake first-of-month, which would misstate the source.
    """
    if not isinstance(value, str):
        return None
    m = _DATE_RE.fullmatch(value.strip())
    if not m:
        return None
    y, mo, d = m.groups()
    return _valid_parts(int(y), int(mo) if mo else None, int(d) if d else None)


def _access_date(article: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """Day the archive fetched the page (``added_at``): the honest "accessed" date."""
    value = article.get("added_at")
    if not isinstance(value, str):
        return None
    m = _STAMP_RE.fullmatch(value.strip())
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    return (year, month, day) if _valid_parts(year, month, day) else None


def _iso(parts: tuple[int, ...]) -> str:
    """ISO 8601 (EDTF level 0) text for full or partial date parts, as biblatex wants."""
    return "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])])


def _human_date(parts: tuple[int, ...] | None) -> str:
    """Locale-independent English date ("30 September 2022"), "n.d." when undated."""
    if parts is None:
        return "n.d."
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return f"{_MONTHS[parts[1] - 1]} {parts[0]}"
    return f"{parts[2]} {_MONTHS[parts[1] - 1]} {parts[0]}"


# ------------------------------------------------------------------------------- URLs

_URL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


def _clean_url(value: Any) -> str | None:
    """Return an http(s) URL safe to embed anywhere, or None.

    Only http/https survive: a ``javascript:`` or ``file:`` URL in a reading list or a
    rendered bibliography is an attack, not a citation.  Characters that could break an
    enclosing format (space, braces, backslash, quotes, angle brackets, non-ASCII) are
    percent-encoded, which leaves the URL equivalent.
    """
    text = clean_line(value) if isinstance(value, str) else ""
    if not text:
        return None
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(text, safe=_URL_SAFE)


# ---------------------------------------------------------------------- citation keys

#: Frozen: part of the key scheme (see module docstring); editing it changes keys.
_STOPWORDS = frozenset(
    """a an the of in on at to for and or but nor by with from as into onto over under
    about after before between against among during without within via vs versus is
    are was were be been its it this that these those what why how who when where
    which whether new""".split()
)
_KEY_APOSTROPHES_RE = re.compile(r"[.'’`´]")
_KEY_TOKEN_RE = re.compile(r"[a-z0-9]+")
_HEX16_RE = re.compile(r"[0-9a-f]{16}")


def _key_word(text: str) -> str | None:
    """First significant ASCII word of *text*, or None."""
    folded = unicodedata.normalize("NFKD", _KEY_APOSTROPHES_RE.sub("", text))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    for m in _KEY_TOKEN_RE.finditer(ascii_text):
        token = m.group()
        if len(token) > 1 and not token.isdigit() and token not in _STOPWORDS:
            return token[:24]
    return None


def _key_id(article: Mapping[str, Any]) -> str:
    """The 16-hex-digit id part of the key: the archive id, or a stable hash of the data."""
    raw = article.get("id")
    if isinstance(raw, str):
        candidate = raw.strip().lower()
        if _HEX16_RE.fullmatch(candidate):
            return candidate
    if isinstance(raw, str) and raw:
        basis = "id\0" + raw
    else:
        basis = "\0".join(
            ["data", *(str(article.get(name)) for name in ("slug", "url", "title", "date"))]
        )
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def citation_key(article: Mapping[str, Any]) -> str:
    """Stable citation key ``<word><year>-<id16>`` (see module docstring for the scheme).

    This is the key an article gets in every export; only a second occurrence of the
    same key within one export is suffixed (by :class:`_KeyAllocator`).
    """
    article = _as_mapping(article)
    word = _key_word(_field(article, "title")) or _key_word(_field(article, "slug"))
    parts = parse_date(article.get("date"))
    year = str(parts[0]) if parts else ""
    return f"{word or 'article'}{year}-{_key_id(article)}"


def _alpha_suffix(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa: bijective base-26 so suffixes never run out."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


class _KeyAllocator:
    """Hands out unique keys within one export, suffixing only true duplicates.

    Counting per base key (not probing a, b, c... in a loop) keeps a pathological
    export of one id repeated a million times linear.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._dupes: dict[str, int] = {}

    def __call__(self, article: Mapping[str, Any]) -> str:
        key = citation_key(article)
        if key not in self._seen:
            self._seen.add(key)
            return key
        n = self._dupes.get(key, 0) + 1
        self._dupes[key] = n
        return key + _alpha_suffix(n)


# ----------------------------------------------------------------------------- BibTeX

_BIB_ESCAPES = {
    "\\": r"\textbackslash{}",
    # Never "\{": BibTeX and biber count braces without honouring backslashes, so an
    # unbalanced "\{" would swallow the rest of the file.  These macros are balanced.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIB_SPECIAL_RE = re.compile(r"[\\{}&%$#_~^]")
#: Dotted acronyms ("U.S.") or runs of letters/digits.
_BIB_WORD_RE = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+")
#: What may join protected words into one group: spaces and hyphens/dashes.
_BIB_JOIN_RE = re.compile(r"[ \-‐‑–—]+")
#: Text after which the next word starts a sentence or subtitle.
_BIB_SENTENCE_END_RE = re.compile(r"[:.?!]\s+$")


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _escaper(text: str) -> Any:
    """A function escaping LaTeX specials in parts of *text*."""
    if ("{" in text or "}" in text) and _balanced(text):
        # Balanced braces as \{ and \}: BibTeX counts them as a pair either way, and
        # pandoc and pylatexenc read them back as braces (they drop \textbraceleft).
        table = {**_BIB_ESCAPES, "{": r"\{", "}": r"\}"}
    else:
        table = _BIB_ESCAPES
    return lambda part: _BIB_SPECIAL_RE.sub(lambda m: table[m.group()], part)


def _needs_protection(word: str, initial: bool) -> bool:
    """Would a sentence-casing style wrongly lower-case this word?"""
    if any(c.isupper() for c in word[1:]):
        return True  # SCO, U.S., iPhone
    return word[0].isupper() and not initial


def bibtex_escape(text: str, *, protect_case: bool = False) -> str:
    """Escape LaTeX specials in already-cleaned *text*; non-ASCII stays UTF-8.

    With *protect_case* (titles), words a sentence-casing style must not lower-case
    are wrapped in braces: words with a capital after their first character (``SCO``,
    ``U.S.``, ``iPhone``) and capitalised words that do not start the title or a
    subtitle (``Türkiye``), a run of them in one group (``{Central Asia}``). Only
    letter/digit runs (and the spaces or hyphens between them) are wrapped, so a brace
    group never starts with a backslash (which BibTeX would treat as a "special
    character" with odd case rules).
    """
    escape = _escaper(text)
    if not protect_case:
        return escape(text)
    out: list[str] = []
    pos = 0
    group: list[str] = []  # the protected run being built: words and their joiners

    def close() -> None:
        if group:
            out.append("{" + "".join(group) + "}")
            group.clear()

    for m in _BIB_WORD_RE.finditer(text):
        between = text[pos : m.start()]
        word = m.group()
        # Only the text since the last word can end a sentence ("U.S." is one word).
        initial = pos == 0 or bool(_BIB_SENTENCE_END_RE.search(between))
        protect = _needs_protection(word, initial)
        if protect and group and _BIB_JOIN_RE.fullmatch(between):
            group += [between, word]
        else:
            close()
            out.append(escape(between))
            if protect:
                group.append(word)
            else:
                out.append(word)
        pos = m.end()
    close()
    out.append(escape(text[pos:]))
    return "".join(out)


_BIB_AND_RE = re.compile(r"\band\b", re.IGNORECASE)


def _bib_name_part(text: str) -> str:
    """One part of a BibTeX name, braced when BibTeX would split it (``and``, comma)."""
    escaped = bibtex_escape(text)
    return "{" + escaped + "}" if "," in text or _BIB_AND_RE.search(text) else escaped


def _bib_name(name: Mapping[str, str]) -> str:
    """``Family, Given``, ``Family, Suffix, Given`` or ``{Organisation}`` (never split)."""
    if "literal" in name:
        return "{" + bibtex_escape(name["literal"]) + "}"
    family = _bib_name_part(name["family"])
    if "given" not in name and " " in name["family"] and not family.startswith("{"):
        family = "{" + family + "}"  # "Van Buren" alone would become first + last name
    parts = [family]
    if "suffix" in name:
        parts.append(_bib_name_part(name["suffix"]))
    if "given" in name:
        parts.append(_bib_name_part(name["given"]))
    elif "suffix" in name:
        parts.append("")
    return ", ".join(parts)


def _bibtex_entry(article: Mapping[str, Any], key: str, publisher: str) -> str:
    """One biblatex ``@online`` entry; empty fields are omitted rather than emitted blank."""
    fields: list[tuple[str, str]] = []
    names = _names(article)
    if names:
        fields.append(("author", "{" + " and ".join(_bib_name(n) for n in names) + "}"))
    title = _field(article, "title")
    if title:
        fields.append(("title", "{" + bibtex_escape(title, protect_case=True) + "}"))
    parts = parse_date(article.get("date"))
    if parts:
        fields.append(("date", "{" + _iso(parts) + "}"))
        # year/month for classic BibTeX styles; biber prefers ``date`` when both exist.
        fields.append(("year", "{" + str(parts[0]) + "}"))
        if len(parts) > 1:
            fields.append(("month", _BIB_MONTHS[parts[1] - 1]))  # macro: works in both
    doi = _doi(article)
    if doi:
        fields.append(("doi", "{" + doi + "}"))  # verbatim in biblatex, like url
    url = _clean_url(article.get("url"))
    if url:
        # biblatex reads url verbatim, so no LaTeX escaping; braces/backslashes are
        # already percent-encoded by _clean_url.
        fields.append(("url", "{" + url + "}"))
        accessed = _access_date(article)
        # Undated: no urldate, or biblatex's standard styles label the entry with the
        # year it was archived (their labeldate falls back to urldate).
        if accessed and parts:
            fields.append(("urldate", "{" + _iso(accessed) + "}"))
    for name, value in (
        ("abstract", _excerpt(article)),
        ("keywords", ", ".join(_keywords(article))),
        ("organization", publisher),
        ("irarchive-id", _id(article)),
    ):
        if value:
            fields.append((name, "{" + bibtex_escape(value) + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@online{{{key},\n{body}\n}}\n" if body else f"@online{{{key}\n}}\n"


def bibtex(articles: Iterable[Mapping[str, Any]], *, publisher: str | None = None) -> Iterator[str]:
    """Yield one biblatex ``@online`` entry per article, separated by blank lines.

    *publisher* (the think tank or site) becomes ``organization``, the @online field
    biblatex styles print for the publishing body.
    """
    next_key = _KeyAllocator()
    pub = clean_line(publisher)
    for i, item in enumerate(articles):
        article = _as_mapping(item)
        yield ("\n" if i else "") + _bibtex_entry(article, next_key(article), pub)


# -------------------------------------------------------------------------------- RIS


def _ris_date(parts: tuple[int, ...]) -> str:
    """RIS ``DA`` is ``YYYY/MM/DD/other``; unknown month/day stay empty (``2022/09//``)."""
    padded = [f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])]
    padded += [""] * (3 - len(padded))
    return "/".join(padded) + "/"


def _ris_name(name: Mapping[str, str]) -> str:
    """RIS ``AU``: ``Family, Given[, Suffix]``; an organisation with a trailing comma
    (``Eurasian Research Institute,``), EndNote's mark of a corporate author: readers that
    split names at the comma (pandoc, checked in the golden tests) then see one family
    name with no given name, where a bare name would become "Institute, E. R."."""
    if "literal" in name:
        return name["literal"] + ","
    return ", ".join(name[p] for p in ("family", "given", "suffix") if p in name)


def ris(articles: Iterable[Mapping[str, Any]], *, publisher: str | None = None) -> Iterator[str]:
    """Yield one RIS record (``TY  - ELEC`` ... ``ER  - ``) per article.

    ``ELEC`` (web page) is the RIS type Zotero, EndNote and Mendeley map to a web
    page/online source.  Values are single-line by construction (see text.clean_line) so a
    title can never smuggle in an extra tag.  ``Y2`` carries the access date, as Zotero
    writes it; *publisher* becomes ``PB``; ``ID`` is the citation key shared with the
    other exports (it ends in the archive id, and no style prints it).  Lines end in
    ``\\n``; the importers named above accept it.
    """
    next_key = _KeyAllocator()
    pub = clean_line(publisher)
    for item in articles:
        article = _as_mapping(item)
        lines = ["TY  - ELEC"]
        lines += [f"AU  - {_ris_name(n)}" for n in _names(article)]
        title = _field(article, "title")
        if title:
            lines.append(f"TI  - {title}")
        parts = parse_date(article.get("date"))
        if parts:
            lines.append(f"PY  - {parts[0]:04d}")
            lines.append(f"DA  - {_ris_date(parts)}")
        doi = _doi(article)
        if doi:
            lines.append(f"DO  - {doi}")
        url = _clean_url(article.get("url"))
        if url:
            lines.append(f"UR  - {url}")
            accessed = _access_date(article)
            if accessed:
                lines.append(f"Y2  - {_ris_date(accessed)}")
        for tag, value in (
            ("AB", _excerpt(article)),
            *(("KW", k) for k in _keywords(article)),
            ("PB", pub),
        ):
            if value:
                lines.append(f"{tag}  - {value}")
        lines.append(f"ID  - {next_key(article)}")
        lines.append("ER  - ")
        yield "\n".join(lines) + "\n\n"


# --------------------------------------------------------------------------- CSL-JSON

CSL_TYPE = "webpage"


def _csl_item(article: Mapping[str, Any], key: str, publisher: str) -> dict[str, Any]:
    """One CSL-JSON item; absent data is omitted (the schema has no nulls)."""
    item: dict[str, Any] = {"id": key, "type": CSL_TYPE}
    names = _names(article)
    if names:
        item["author"] = names
    title = _field(article, "title")
    if title:
        item["title"] = title
    parts = parse_date(article.get("date"))
    if parts:
        item["issued"] = {"date-parts": [list(parts)]}
    doi = _doi(article)
    if doi:
        item["DOI"] = doi
    url = _clean_url(article.get("url"))
    if url:
        item["URL"] = url
        accessed = _access_date(article)
        if accessed:
            item["accessed"] = {"date-parts": [list(accessed)]}
    excerpt = _excerpt(article)
    if excerpt:
        item["abstract"] = excerpt
    keywords = _keywords(article)
    if keywords:
        # A subject area, not the website's name, so it is a keyword and not the
        # container-title (styles would print it as the publication). CSL's keyword
        # is one string; tags follow the category, comma-separated.
        item["keyword"] = ", ".join(keywords)
    if publisher:
        # For a webpage the container is the website; also setting "publisher" makes
        # author-less styles (Harvard) print the organisation twice.
        item["container-title"] = publisher
    return item


def csl_json(
    articles: Iterable[Mapping[str, Any]], *, publisher: str | None = None
) -> Iterator[str]:
    """Yield a CSL-JSON array, streamed as ``[``, items joined by ``,\\n``, ``]``.

    Item ids are the same citation keys as the BibTeX export, so a pandoc document can
    switch between the .bib and the .json without touching its ``[@key]`` citations.
    """
    next_key = _KeyAllocator()
    pub = clean_line(publisher)
    first = True
    yield "["
    for item in articles:
        article = _as_mapping(item)
        data = json.dumps(_csl_item(article, next_key(article), pub), ensure_ascii=False)
        yield ("\n" if first else ",\n") + data
        first = False
    yield "]\n" if first else "\n]\n"


# --------------------------------------------------------------------------- Markdown


def markdown_reading_list(
    articles: Iterable[Mapping[str, Any]], *, publisher: str | None = None
) -> Iterator[str]:
    """Yield a Markdown reading list: a header, then one bullet per article.

    ``- **Title**, by A and B (30 September 2022; id 0123456789abcdef). [link](url) — excerpt…``.
    Input order is kept (grouping would need the whole input in memory; callers sort
    before exporting).
    Titles and excerpts are escaped so data never becomes markup; URLs are restricted
    to http(s) and percent-encoded so they cannot end the link early. *publisher* is
    accepted as by every citation writer and not shown.
    """
    yield "# Reading list\n\n"
    for item in articles:
        article = _as_mapping(item)
        title = _field(article, "title")
        head = f"**{markdown_escape(title)}**" if title else "*\\(untitled\\)*"
        names = [markdown_escape(_name_text(n)) for n in _names(article)]
        by = ", by " + ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else ""
        by = by or (", by " + names[0] if names else "")
        # The id too, so an entry leads back to its article (irarchive show ID).
        ref = markdown_escape(_field(article, "id"))
        when = _human_date(parse_date(article.get("date")))
        line = f"- {head}{by} ({when}; id {ref})." if ref else f"- {head}{by} ({when})."
        url = _clean_url(article.get("url"))
        if url:
            line += " [link](" + url.replace("(", "%28").replace(")", "%29") + ")"
        excerpt = _excerpt(article)
        if excerpt:
            line += " — " + markdown_escape(excerpt)
        yield line + "\n"
