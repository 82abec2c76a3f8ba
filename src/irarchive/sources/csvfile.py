"""CSV and TSV with a header row. Ragged rows are rejected with their line number."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import IO

from irarchive.errors import ImportFailed
from irarchive.sources import Raw, Rejected

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def read(
    stream: IO[str], *, name: str, delimiter: str, date_order: str | None = None
) -> Iterator[Raw]:
    """The rows of a CSV/TSV stream as dicts keyed by the header, with their line."""
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip().lstrip("\ufeff") for h in header]
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
            yield reader.line_num, dict(zip(header, row, strict=False))
    except csv.Error as exc:
        raise ImportFailed(f"{name}:{reader.line_num}: malformed CSV: {exc}") from None
