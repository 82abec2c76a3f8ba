"""The listing text format: a category heading, then date / title / excerpt blocks.

    International Relations

    November 1, 2022

    The Sixth CICA Summit: Asian Vision of the Global Development

    The political situation … supply chains, […]
    September 30, 2022
    …

Parsed line by line, not by blank-line blocks: in the published listing a date
line directly follows the previous excerpt. A line is a date line only when the
whole line is a date. The records are mapped to articles by ``sources.to_articles``,
as those of every reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from irarchive.dates import parse_record_date
from irarchive.sources import Raw, Rejected, decoding
from irarchive.sources.decoding import bounded_lines
from irarchive.text import lazy_re

# Every date form has a decimal digit; most title lines are ruled out by this alone.
_DIGIT = lazy_re(r"\d")


def _as_date(line: str, date_order: str | None) -> str | None:
    if not line or len(line) > 40 or not _DIGIT.search(line):
        return None
    try:
        return parse_record_date(line, date_order)
    except ValueError:
        return None


def read(stream: IO[str], *, name: str, date_order: str | None = None) -> Iterator[Raw]:
    """Raw records (title, ISO date, excerpt text, category) with the line of their date.

    ``date_order`` decides which lines are dates: an ambiguous ``01/02/2022`` line is
    a date line only when it is given.
    """
    category: str | None = None
    seen_content = False
    date: str | None = None
    date_line = 0
    title: str | None = None
    excerpt: list[str] = []
    size = 0  # characters of the record so far: many lines add up to one bounded record

    def finish() -> Raw | Rejected:
        if size > decoding.MAX_RECORD_CHARS:
            limit = decoding.MAX_RECORD_CHARS
            return Rejected(name, date_line, f"record longer than {limit:,} characters")
        record = {"title": title, "date": date, "excerpt": " ".join(excerpt)}
        if category is not None:
            record["category"] = category
        return date_line, record

    for lineno, raw in bounded_lines(stream):
        if raw is None:
            yield Rejected(
                name, lineno, f"line longer than {decoding.MAX_RECORD_CHARS:,} characters"
            )
            continue
        line = raw.strip().lstrip("\ufeff")
        parsed = _as_date(line, date_order)
        if parsed is not None:
            if date is not None:
                if title is None:
                    yield Rejected(name, date_line, "date line with no title after it")
                else:
                    yield finish()
            date, date_line, title, excerpt, size = parsed, lineno, None, [], 0
            seen_content = True
            continue
        if not line:
            continue
        if date is None:
            if not seen_content:
                category = " ".join(line.split())
                seen_content = True
            else:
                yield Rejected(
                    name,
                    lineno,
                    "text with no date line before it (expected e.g. 'November 1, 2022')",
                )
            continue
        size += len(line) + (title is not None)  # words are joined by one space
        if size > decoding.MAX_RECORD_CHARS:
            continue  # the record is rejected when it ends; keep nothing more of it
        if title is None:
            title = " ".join(line.split())
        else:
            excerpt.append(" ".join(line.split()))
    if date is not None:
        if title is None:
            yield Rejected(name, date_line, "date line with no title after it")
        else:
            yield finish()
