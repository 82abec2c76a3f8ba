"""Mapping author and DOI fields of input records onto ``Article.authors`` and ``doi``.

Authors are stored as a list of CSL-JSON name objects (see ``model.Name``): a person
is ``{"family": ..., "given": ...}`` (``given`` and ``suffix`` optional), anything that
cannot be split into family and given names (an organisation, a one-word byline, a
name with no spaces) is ``{"literal": ...}``. Splitting happens once, here, on import,
so every export prints the same names and a wrong split can be corrected by importing
the record again with name objects.

Accepted shapes, under the keys ``author``, ``authors``, ``creator``, ``creators``,
``dc:creator`` and ``byline`` (first non-empty one wins; the others stay in ``extra``):

* a string: ``"John Smith"``, ``"Smith, John"`` (one person, BibTeX order),
  ``"A and B"``, ``"A, B and C"``, ``"A & B"``, ``"A; B"``, ``"Smith, John and Doe,
  Jane"``, ``"By John Smith"``, RSS's ``"js@example.org (John Smith)"``;
* a list of such strings (each element is one name) or of objects;
* objects with ``given``/``family`` (also ``first``/``last``, ``givenName``/
  ``familyName``, ``firstName``/``lastName``), ``literal``, or ``name`` (feedparser's
  ``author_detail``, schema.org ``Person``/``Organization``);
* a JSON array in a string (how the CSV export writes the field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from irarchive.model import Name

#: Input keys (lower-cased) that carry the authors, in order of preference.
AUTHOR_KEYS = ("authors", "author", "creators", "creator", "dc:creator", "byline")
DOI_KEYS = ("doi",)

#: Words that mark a name as an organisation rather than a person.
_ORG_WORDS = frozenset(
    """academy agency association bank board bureau center centre college commission
    committee company corporation corp council department desk editorial editors
    embassy foundation forum fund government group inc institut institute institution
    journal laboratory league llc ltd media ministry network news newsroom observatory
    office organisation organization party press programme program project research
    review school secretariat service services society staff studies team times trust
    union university""".split()
)
#: Lower-case words that belong to the family name ("Ludwig van Beethoven").
_PARTICLES = frozenset("al bin da das de del della der di dos du el ibn la le van von zu".split())
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())
_SEPARATORS = re.compile(r"\s*;\s*|\s+(?:and|&)\s+", re.IGNORECASE)
_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(.+?)\s*<\S+@\S+>\s*$")
_BARE_EMAIL = re.compile(r"^\S+@\S+\.\w+$")
_BY = re.compile(r"^by\s+", re.IGNORECASE)
_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_MAX_NAMES = 1000  # a bound against hostile input; real bylines have a handful
_MAX_EMAIL_BYLINE = 320

_GIVEN_KEYS = ("given", "givenname", "given_name", "first", "firstname", "first_name", "forename")
_FAMILY_KEYS = ("family", "familyname", "family_name", "last", "lastname", "last_name", "surname")
_LITERAL_KEYS = ("literal", "name", "fullname", "full_name", "displayname", "display_name")


def _squash(text: str) -> str:
    return " ".join(text.split())


def _has_org_word(text: str) -> bool:
    words = [w.strip(".,()'’").lower() for w in text.split()]
    return any(w in _ORG_WORDS for w in words) or text.lower().startswith("the ")


def _is_org(name: str) -> bool:
    """Is one name (not a list of them) an organisation or otherwise not a person's?"""
    return _has_org_word(name) or any(c.isdigit() for c in name) or len(name.split()) > 5


def _person_like(text: str) -> bool:
    """Does this look like one person's name ("John Smith", "Smith, John")?"""
    if _has_org_word(text):
        return False
    words = text.replace(",", " ").split()
    return 2 <= len(words) <= 4 and all(w[0].isupper() or w in _PARTICLES for w in words)


def _person(given: str, family: str, suffix: str = "") -> Name:
    name: Name = {"family": family}
    if given:
        name["given"] = given
    if suffix:
        name["suffix"] = suffix
    return name


def parse_name(text: str) -> Name | None:
    """One name as written: ``John Smith``, ``Smith, John``, ``Smith, Jr., John``."""
    text = _squash(text)
    # The e-mail patterns backtrack quadratically on long runs of "@": real bylines
    # with an address are short, so longer text is never tried against them.
    email = "@" in text and len(text) <= _MAX_EMAIL_BYLINE
    if email:
        for pattern in (_EMAIL_NAME, _NAME_EMAIL):
            m = pattern.match(text)
            if m:
                text = _squash(m[1])
    text = _BY.sub("", text).strip(" ,;")
    if not text or (email and _BARE_EMAIL.match(text)):
        return None
    if _is_org(text):
        return {"literal": text}
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 1 and all(parts):
        if len(parts) == 2 and parts[1].lower() in _SUFFIXES:
            person = parse_name(parts[0])
            if person and "family" in person:
                return _person(person.get("given", ""), person["family"], parts[1])
            return {"literal": text}
        if len(parts) == 2:
            return _person(parts[1], parts[0])
        if len(parts) == 3 and parts[1].lower() in _SUFFIXES:
            return _person(parts[2], parts[0], parts[1])
        return {"literal": text}
    words = text.split()
    suffix = ""
    if len(words) > 2 and words[-1].lower() in _SUFFIXES:
        suffix = words.pop()
    if len(words) < 2:
        return {"literal": text}
    start = len(words) - 1
    while start > 1 and words[start - 1] in _PARTICLES:
        start -= 1
    return _person(" ".join(words[:start]), " ".join(words[start:]), suffix)


def _split_names(text: str) -> list[str]:
    """A byline string as separate names ("A, B and C"; "Smith, John and Doe, Jane")."""
    text = _squash(text)
    if _has_org_word(text) and ";" not in text:
        # "Centre for Strategic and International Studies" is one name; "John Smith
        # and Eurasian Research Institute" is two: split only beside a person's name.
        chunks = _SEPARATORS.split(text)
        if not (
            any(_person_like(c) for c in chunks)
            and all(_person_like(c) or _has_org_word(c) for c in chunks)
        ):
            return [text]
    names: list[str] = []
    for chunk in _SEPARATORS.split(text):
        parts = [p.strip() for p in chunk.split(",") if p.strip()]
        if len(parts) <= 1:
            names += parts
        elif len(parts) == 2 and (
            len(parts[0].split()) == 1
            or len(parts[1].split()) == 1
            or parts[1].lower() in _SUFFIXES
            or all(len(w.rstrip(".")) == 1 for w in parts[1].split())
        ):
            # "Smith, John", "Van Buren, Martin", "Smith, J. R.", "John Smith, Jr.": one person
            names.append(chunk)
        elif len(parts) == 3 and parts[1].lower() in _SUFFIXES:
            names.append(chunk)  # "Smith, Jr., John"
        elif all(len(p.split()) == 1 for p in parts) and len(parts) % 2 == 0:
            names += [f"{a}, {b}" for a, b in zip(parts[::2], parts[1::2], strict=True)]
        else:
            names += parts  # "John Smith, Jane Doe"
    return names


def _from_object(obj: dict[str, Any]) -> Name | None:
    keys = {str(k).lower(): v for k, v in obj.items()}

    def first(candidates: tuple[str, ...]) -> str:
        for key in candidates:
            value = keys.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                text = _squash(str(value))
                if text:
                    return text
        return ""

    family, given = first(_FAMILY_KEYS), first(_GIVEN_KEYS)
    particle = first(("non-dropping-particle", "dropping-particle"))
    if family:
        return _person(given, f"{particle} {family}" if particle else family, first(("suffix",)))
    literal = first(_LITERAL_KEYS)
    if literal:
        kind = str(keys.get("@type") or keys.get("type") or "").lower()
        if kind == "organization" or keys.get("literal"):
            return {"literal": literal}
        return parse_name(literal)
    return {"literal": given} if given else None


def parse_authors(value: Any) -> list[Name]:
    """The authors in any accepted input shape, as name objects (duplicates dropped)."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        value = str(value)
    names: list[Name | None] = []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                return parse_authors(decoded)
        names = [parse_name(n) for n in _split_names(stripped)[:_MAX_NAMES]]
    elif isinstance(value, dict):
        names = [_from_object(value)]
    elif isinstance(value, (list, tuple)):
        for item in value[:_MAX_NAMES]:
            if isinstance(item, dict):
                names.append(_from_object(item))
            elif isinstance(item, str):
                names.append(parse_name(item))
            elif isinstance(item, (list, tuple)):
                # One level of nesting ([["A", "B"]]), never recursion into hostile depth.
                names += [parse_name(x) for x in item[:_MAX_NAMES] if isinstance(x, str)]
    out: list[Name] = []
    for name in names[:_MAX_NAMES]:
        if name and name not in out:
            out.append(name)
    return out


def parse_doi(value: Any) -> str | None:
    """A bare DOI (``10.1234/abc``) from ``doi:``/``https://doi.org/`` forms, else None."""
    if not isinstance(value, str):
        return None
    m = _DOI.match(value.strip())
    return m[1] if m else None


def _take(
    rec: dict[str, Any],
    lowered: dict[str, Any],
    used: set[Any],
    keys: tuple[str, ...],
    parse: Callable[[Any], Any],
    empty: tuple[Any, ...] = (None, ""),
) -> Any:
    """The first value under one of ``keys`` that ``parse`` accepts; keys consumed go to ``used``.

    ``lowered`` maps lower-cased key -> original key. An empty value is consumed (it
    says nothing); a value ``parse`` rejects is left unused, so it stays in ``extra``.
    """
    for alias in keys:
        key = lowered.get(alias)
        if key is None or key in used:
            continue
        if rec[key] in empty:
            used.add(key)
            continue
        found = parse(rec[key])
        if found:
            used.add(key)
            return found
    return None


def take_authors(rec: dict[str, Any], lowered: dict[str, Any], used: set[Any]) -> list[Name]:
    """The authors of one input record (see ``_take``)."""
    return _take(rec, lowered, used, AUTHOR_KEYS, parse_authors, (None, "", [])) or []


def take_doi(rec: dict[str, Any], lowered: dict[str, Any], used: set[Any]) -> str | None:
    """The DOI of one input record (see ``_take``); a non-DOI value stays in extra."""
    return _take(rec, lowered, used, DOI_KEYS, parse_doi)


def take_authors_doi(
    rec: dict[str, Any], lowered: dict[str, Any], used: set[Any]
) -> tuple[list[Name], str | None]:
    """``take_authors`` and ``take_doi`` together."""
    return take_authors(rec, lowered, used), take_doi(rec, lowered, used)


def move_from_extra(
    extra: dict[str, Any], authors: list[Name], doi: str | None
) -> tuple[list[Name], str | None]:
    """Fill missing authors/doi from ``extra`` (an export made before these fields
    existed keeps them there), removing the keys used from ``extra``."""
    if authors and doi:
        return authors, doi
    lowered: dict[str, Any] = {}
    for key in extra:
        lowered.setdefault(str(key).lower(), key)
    used: set[Any] = set()
    if not authors:
        authors = take_authors(extra, lowered, used)
    if not doi:
        doi = take_doi(extra, lowered, used)
    for key in used:
        del extra[key]
    return authors, doi
