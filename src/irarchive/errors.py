"""Errors raised by the irarchive library.

Every message is written for the person at the terminal: one line saying what is
wrong and, where there is one, the fix. The CLI prints ``Error: <message>`` and
maps the class to an exit code (see ``exit_code``).
"""

from __future__ import annotations


class IrarchiveError(Exception):
    """Base class of every error the library raises on purpose."""

    exit_code = 1


class UsageError(IrarchiveError):
    """The command line asked for something impossible (bad date, unknown field)."""

    exit_code = 2


class BadDate(UsageError):
    """A date or period could not be understood."""


class ArchiveError(IrarchiveError):
    """The archive file cannot be opened, read or written."""


class NewerSchema(ArchiveError):
    """The archive was written by a newer irarchive than this one."""


class NotFound(IrarchiveError):
    """No article matches a reference; ``ref`` is the reference as given."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no article {ref!r}")
        self.ref = ref


class Ambiguous(IrarchiveError):
    """A reference matches several articles."""

    def __init__(self, message: str, candidates: list[dict] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class ImportFailed(IrarchiveError):
    """An input file could not be imported; the archive was left unchanged."""
