"""Write transactions: the one place a change to the archive begins, commits or rolls back.

Every write (an import, an edit, tags, a merge, a migration, a repair) runs in one
``BEGIN IMMEDIATE`` … ``COMMIT``; whatever goes wrong inside rolls all of it back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from irarchive.errors import ArchiveError


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, path: str | None = None, dry_run: bool = False
) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it or none of it (``dry_run``: always none of it).

    With ``path``, SQLite's failures to write (disk full, busy, read-only) come out as
    an ``ArchiveError`` naming the file and what to do; without it, as they are.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if path is None:
            raise
        raise write_error(path, exc) from None
    try:
        yield conn
        conn.execute("ROLLBACK" if dry_run else "COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if path is not None and isinstance(exc, sqlite3.OperationalError):
            raise write_error(path, exc) from None
        raise


def write_error(path: str, exc: sqlite3.OperationalError) -> ArchiveError:
    """SQLite's failure to write ``path``, said so that the user knows what to do."""
    msg = str(exc)
    if "full" in msg:
        return ArchiveError(f"the disk is full while writing {path}; the archive was not changed")
    if "locked" in msg or "busy" in msg:
        return ArchiveError(
            f"{path} is busy: another irarchive is writing to it; try again when it finishes"
        )
    if "readonly" in msg or "read-only" in msg:
        return ArchiveError(f"{path} is read-only; make it writable or use another --db")
    return ArchiveError(f"cannot write {path}: {msg}; the archive was not changed")
