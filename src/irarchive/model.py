"""The article record, its stable id and slug, and the JSON contract.

An article's ``id`` is derived from the source record itself (its own id field if it
has one, else its url and title, else its title and date), so the same record gets
the same id on every machine and importing a file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from irarchive.text import STOPWORDS, ascii_fold, lazy_re

#: Keys of every article object in JSON output, in order (the documented schema).
#: ``tags`` is not a column of ``articles``: it is read from the ``tags`` table.
FIELDS: tuple[str, ...] = (
    "id",
    "slug",
    "title",
    "authors",
    "date",
    "excerpt",
    "truncated",
    "category",
    "url",
    "doi",
    "tags",
    "source",
    "added_at",
    "extra",
)

#: One author: a CSL-JSON name object, ``{"family": ..., "given": ...}`` (``given`` and
#: ``suffix`` optional) for a person, ``{"literal": ...}`` for an organisation or a name
#: that cannot be split. CSL-JSON's own shape, so citation formats need no guessing.
Name = dict[str, str]

ID_LENGTH = 16  # hex digits of sha256: 64 bits, collision-free far beyond 1M articles
SLUG_WORDS = 5
SLUG_MAX = 48


@dataclass(frozen=True)
class Article:
    """One article as read from an input file, before it is stored."""

    title: str
    date: str | None = None
    excerpt: str | None = None
    truncated: bool = False
    category: str | None = None
    url: str | None = None
    source: str | None = None
    source_id: str | None = None
    #: An irarchive id carried by the record itself (re-importing an export keeps ids).
    given_id: str | None = None
    slug: str | None = None
    added_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Name objects (see ``Name``), in byline order; empty when unknown.
    authors: tuple[Name, ...] = ()
    #: A bare DOI (``10.1234/abc``), without ``https://doi.org/``.
    doi: str | None = None
    #: Normalised tags the record carries (an irarchive export's ``tags``), sorted.
    tags: tuple[str, ...] = ()
    #: Notes the record carries, as ``(created_at, text)`` pairs in creation order.
    notes: tuple[tuple[str, str], ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Positional fields instead of a per-object dict of names: import workers
        # send millions of these through a pipe (about half the pickling cost). The
        # instance dict holds exactly the fields, in order (set by ``__init__`` or
        # ``article_from_values``, never after: the class is frozen).
        return (article_from_values, (tuple(self.__dict__.values()),))

    @classmethod
    def plain(
        cls,
        title: str,
        date: str | None,
        excerpt: str | None,
        truncated: bool,
        category: str | None,
        url: str | None,
        source: str | None,
    ) -> Article:
        """``Article(title=..., ..., source=...)`` with every other field at its
        default, built at a third of the cost: an import makes one per record."""
        # source_id, given_id, slug, added_at, extra, authors, doi, tags, notes
        rest = (None, None, None, None, {}, (), None, (), ())
        return article_from_values((title, date, excerpt, truncated, category, url, source, *rest))

    def key(self, title_key: str | None = None) -> str:
        """The identity of the record: what makes two records the same article.

        ``title_key``: the title folded as here (``store.duplicates.title_key``), when
        the caller has it already (an import folds each title once).
        """
        if self.source_id:
            return "sid\x1f" + self.source_id.strip()
        title = title_key if title_key is not None else " ".join(ascii_fold(self.title).split())
        if self.url:
            return "url\x1f" + self.url.strip() + "\x1f" + title
        return "td\x1f" + title + "\x1f" + (self.date or "")

    def article_id(self, title_key: str | None = None) -> str:
        """Stable 16-hex-digit id derived from the record's identity (``title_key``: see
        ``key``)."""
        if self.given_id:
            return self.given_id
        import hashlib  # only imports need it; kept off the read path's start-up

        return hashlib.sha256(self.key(title_key).encode("utf-8")).hexdigest()[:ID_LENGTH]


_ARTICLE_FIELDS = tuple(Article.__dataclass_fields__)
_new_article = object.__new__


def article_from_values(values: tuple[Any, ...]) -> Article:
    """The article with these field values, in field order, without ``__init__``'s
    per-field ``object.__setattr__`` calls (a frozen dataclass sets fields that way)."""
    a = _new_article(Article)
    a.__dict__.update(zip(_ARTICLE_FIELDS, values, strict=True))
    return a


def name_text(name: Any) -> str:
    """One author as people write it: ``John Smith``, ``John Smith Jr.``, or the literal."""
    if not isinstance(name, dict):
        return str(name) if isinstance(name, str) else ""
    if name.get("literal"):
        return str(name["literal"])
    parts = [name.get("given"), name.get("family"), name.get("suffix")]
    return " ".join(str(p) for p in parts if p)


def authors_text(authors: Any) -> str:
    """Authors for one line of text: ``John Smith; Eurasian Research Institute``.

    Semicolons, because a name can hold a comma (``Smith, Jr.``); importing this text
    gives the same people back.
    """
    if not isinstance(authors, (list, tuple)):
        return ""
    return "; ".join(t for t in (name_text(n) for n in authors) if t)


TAG_MAX = 64


def check_tag(raw: str) -> tuple[str, str | None]:
    """A tag's stored form (NFKC, stripped, casefolded, inner spaces collapsed) and what
    is wrong with it, or None when it is a valid tag."""
    import unicodedata

    tag = " ".join(unicodedata.normalize("NFKC", raw).strip().casefold().split())
    if not tag:
        return tag, "is empty"
    if tag[0] in "+-":
        return tag, "may not start with + or -"
    if "," in tag:
        return tag, "may not contain a comma (one tag per +TAG)"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in tag):
        return tag, "may not contain control or invisible characters"
    if len(tag) > TAG_MAX:
        return tag, f"is longer than {TAG_MAX} characters"
    return tag, None


def tag_or_none(raw: Any) -> str | None:
    """The stored form of a tag, or None when it is not a valid tag (``check_tag``).
    Reading an import uses it: a record's ``tags`` that are not all valid stay in
    ``extra`` untouched."""
    if not isinstance(raw, str):
        return None
    tag, problem = check_tag(raw)
    return None if problem else tag


ID_PATTERN = lazy_re(r"[0-9a-f]{16}")

_SLUG_WORD = lazy_re(r"[a-z0-9]+")
_QUOTES = lazy_re(r"['’ʼ‘`´]")


def base_slug(title: str, folded: str | None = None) -> str:
    """A short, typeable slug from the first words of a title (``sco-summit-in-samarkand``).

    ``folded``: ``ascii_fold(title)``, when the caller has it already.
    """
    if folded is None:
        folded = ascii_fold(title)
    words = _SLUG_WORD.findall(_QUOTES.sub("", folded))
    words = [w for w in words if w not in STOPWORDS] or words
    slug = "-".join(words[:SLUG_WORDS])
    if len(slug) <= SLUG_MAX:  # the usual title: its first words all fit
        return slug or "article"
    slug = ""
    for word in words[:SLUG_WORDS]:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:SLUG_MAX]
    return slug or "article"
