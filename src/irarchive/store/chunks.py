"""IN lists of any length, run in chunks SQLite accepts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

#: Values per ``IN (...)`` list: under the 999 bound parameters older SQLite builds allow.
IN_CHUNK = 900


def rows_in(conn: sqlite3.Connection, sql: str, values: Sequence[Any]) -> Iterator[Any]:
    """The rows of ``sql`` for every value of ``values``, ``IN_CHUNK`` at a time.

    ``sql`` holds one ``{marks}``, where the chunk's ``?, ?, ...`` goes, and no other
    parameter.
    """
    for i in range(0, len(values), IN_CHUNK):
        chunk = list(values[i : i + IN_CHUNK])
        yield from conn.execute(sql.replace("{marks}", ", ".join("?" * len(chunk))), chunk)
