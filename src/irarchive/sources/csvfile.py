"""CSV and TSV with a header row. Ragged rows are rejected with their line number."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import IO, Any

from irarchive.errors import ImportFailed
from irarchive.output import formula_unsafe
from irarchive.sources import Raw, Rejected, decoding

# One cell may be as long as a whole record may be (a bigger one fails the file
# with its line: CSV cannot resynchronise after it).
csv.field_size_limit(min(sys.maxsize, decoding.MAX_RECORD_CHARS))


def read(
    stream: IO[str], *, name: str, delimiter: str, date_order: str | None = None
) -> Iterator[Raw]:
    """The rows of a CSV/TSV stream as dicts keyed by the header, with their line."""
    # TSV has no quoting (the tsv output writes none): a cell starting with '"' is
    # text, not the start of a quoted field that swallows the rest of the file.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(stream, delimiter=delimiter, strict=True, quoting=quoting)
    try:
        header = next(reader, None)
        if header is None:
            return
        header = decoding.unique_names([h.strip().lstrip("\ufeff") for h in header])
        if not any(h.lower() in ("title", "headline", "name") for h in header):
            raise ImportFailed(
                f"{name}:1: the header row has no 'title' column "
                f"(found: {', '.join(header)[:200]}); "
                "add a header row naming the columns"
            )
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                reason = f"row has {len(row)} cells but the header has {len(header)}"
                yield Rejected(name, reader.line_num, reason)
                continue
            if delimiter == ",":  # undo the CSV output's formula-injection prefix
                row = [formula_unsafe(cell) for cell in row]
            yield reader.line_num, extras_from_json(dict(zip(header, row, strict=False)))
    except csv.Error as exc:
        raise ImportFailed(f"{name}:{reader.line_num}: malformed CSV: {exc}") from None


def extras_from_json(rec: dict[str, Any]) -> dict[str, Any]:
    """The ``extra`` column as the csv output writes it: JSON object text, or empty.

    An empty cell means no extras; text that is a JSON object becomes the extras
    object; anything else stays the text it is (kept as an extra called "extra").
    """
    for key in rec:
        if key.lower() != "extra":
            continue
        text = rec[key].strip()
        if not text:
            del rec[key]
        elif text.startswith("{"):
            try:
                value = decoding.make_decoder().decode(text)
            except (ValueError, RecursionError):
                break
            if isinstance(value, dict) and decoding.problem(value) is None:
                rec[key] = value
        break
    return rec
