"""Bounds and checks of the parsing layer, shared by the JSON and CSV readers.

Each function here is small and pure. Together they make sure that whatever an
input file holds, a decoded record either keeps every value or is rejected with
its line, and that everything stored can be printed again as strict JSON:

* duplicate keys (JSON objects, CSV headers) are kept under suffixed names;
* nesting deeper than ``MAX_DEPTH`` is refused (deeper values could be stored but
  not printed again: Python's JSON encoder recurses);
* lone surrogates (``"\\ud800"``) cannot be encoded as UTF-8 and are refused;
* ``NaN``/``Infinity`` and numbers beyond ``MAX_INT_DIGITS`` digits are refused
  (RFC 8259 has no NaN; Python refuses to print integers over 4,300 digits);
* a record (a line, an array element) longer than ``MAX_RECORD_CHARS`` is refused
  without holding more than that in memory;
* rejections are counted, and only the first ``KEEP_REJECTIONS`` are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import IO, Any

#: Deepest nesting of objects and arrays in one record (the record itself is 1).
MAX_DEPTH = 64
#: Longest integer, in decimal digits, kept in a record (Python prints up to 4,300).
MAX_INT_DIGITS = 4000
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))  # fewer bits: certainly in bounds
#: Longest single record (a JSONL or listing line, an array element), in characters.
MAX_RECORD_CHARS = 8 * 1024 * 1024
#: Rejections kept word for word per file; the rest are only counted.
KEEP_REJECTIONS = 100


class TooManyDigits(str):
    """An integer literal too long to convert: ``problem`` rejects its record."""


def bounded_int(text: str) -> int | TooManyDigits:
    """``parse_int`` for json: never converts a huge literal (quadratic before 3.11)."""
    return int(text) if len(text) <= MAX_INT_DIGITS + 1 else TooManyDigits(text)


def make_decoder() -> Any:
    """The JSON decoder every reader uses: duplicate keys kept, huge integers flagged."""
    import json

    return json.JSONDecoder(object_pairs_hook=keep_duplicates, parse_int=bounded_int)


_SLUG = None


def safe_slug(value: Any) -> bool:
    """Is ``value`` a slug irarchive could have made: lowercase words joined by ``-``?

    Slugs are typed and completed in shells, so any other slug given by an input
    file is regenerated from the title instead of being stored.
    """
    global _SLUG
    if _SLUG is None:
        import re

        _SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
    return isinstance(value, str) and len(value) <= 120 and _SLUG.fullmatch(value) is not None


def unique_key(taken: Any, key: str) -> str:
    """``key``, or ``key_2``, ``key_3``… : the first name not in ``taken``."""
    if key not in taken:
        return key
    n = 2
    while f"{key}_{n}" in taken:
        n += 1
    return f"{key}_{n}"


def keep_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json: a repeated key is kept as ``key_2`` (never dropped)."""
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    out = {}
    for key, value in pairs:
        out[unique_key(out, key)] = value
    return out


def unique_names(names: list[str]) -> list[str]:
    """Column names with repeats suffixed (``title,x,x`` -> ``title,x,x_2``)."""
    taken: set[str] = set()
    out = []
    for name in names:
        name = unique_key(taken | set(names[len(out) + 1 :]) if name in taken else taken, name)
        taken.add(name)
        out.append(name)
    return out


def problem(value: Any) -> str | None:
    """Why a decoded record cannot be stored and printed back exactly, or None.

    Iterative, so a record nested a million deep costs no Python stack.
    """
    if type(value) is dict and _TEXT_ONLY.issuperset(map(type, value.values())):
        # The usual record, an object of text fields, checked by C loops alone: this
        # runs for every record of an import. Keys and values can only hold a lone
        # surrogate, which UTF-8 refuses; the loop below finds it to name it.
        try:
            "".join(value).encode("utf-8")
            "".join(value.values()).encode("utf-8")
        except (UnicodeEncodeError, TypeError):  # TypeError: a key that is not text
            pass
        else:
            return None
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, TooManyDigits):
            return f"a number with more than {MAX_INT_DIGITS:,} digits"
        if isinstance(v, str):
            if not v.isascii() and _has_surrogate(v):
                return f"text with an invalid character (a lone surrogate) near {_show(v)}"
        elif isinstance(v, bool) or v is None:
            continue
        elif isinstance(v, int):
            if v.bit_length() > _MAX_INT_BITS and len(str(abs(v))) > MAX_INT_DIGITS:
                return f"a number with more than {MAX_INT_DIGITS:,} digits"
        elif isinstance(v, float):
            if not math.isfinite(v):
                return f"{v!r} is not a JSON number (NaN and Infinity are not allowed)"
        elif isinstance(v, (dict, list)):
            if depth > MAX_DEPTH:
                return f"nested more than {MAX_DEPTH} levels deep"
            if isinstance(v, dict):
                stack.extend((k, depth) for k in v)
                stack.extend((x, depth + 1) for x in v.values())
            else:
                stack.extend((x, depth + 1) for x in v)
    return None


_TEXT_ONLY = frozenset({str})


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _show(text: str) -> str:
    for i, ch in enumerate(text):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return ascii(text[max(0, i - 10) : i + 1])
    return ascii(text[:20])


_TOKENS = None


def value_end(text: str, pos: int) -> int | None:
    """Where the JSON array or object starting at ``text[pos]`` ends, without decoding.

    Brackets are counted outside strings, so a value too deep for the decoder can
    still be stepped over (and rejected) instead of failing the whole file. None
    when the text ends first.
    """
    global _TOKENS
    if _TOKENS is None:
        import re

        _TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
    depth = 0
    for m in _TOKENS.finditer(text, pos):
        ch = m.group()
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return m.end()
    return None


def bounded_lines(stream: IO[str], limit: int | None = None) -> Iterator[tuple[int, str | None]]:
    """(line number, line) pairs; a line longer than ``limit`` comes as (number, None).

    The over-long line is skipped in pieces of ``limit`` characters, so memory stays
    bounded whatever the input (``yes | tr -d '\\n'``).
    """
    limit = limit or MAX_RECORD_CHARS
    lineno = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and line[-1] not in "\r\n":
            while line and line[-1] not in "\r\n":
                line = stream.readline(limit)
            yield lineno, None
            continue
        yield lineno, line
