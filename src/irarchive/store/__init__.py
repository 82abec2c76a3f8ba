"""The archive: one SQLite file, opened and migrated in exactly one place (``open_archive``).

The package owns all SQL: ``opening`` creates, opens and migrates; ``archive`` reads,
checks and runs the import transaction; ``writer`` prepares and upserts articles.
"""

from irarchive.store.archive import EXPECTED_COLUMNS, Archive, Filters
from irarchive.store.opening import BUSY_TIMEOUT_MS, SQLITE_HEADER, open_archive
from irarchive.store.writer import (
    BATCH,
    ImportReport,
    Prepared,
    fts_excerpt,
    fts_title,
    prepare,
)

__all__ = [
    "BATCH",
    "BUSY_TIMEOUT_MS",
    "EXPECTED_COLUMNS",
    "SQLITE_HEADER",
    "Archive",
    "Filters",
    "ImportReport",
    "Prepared",
    "fts_excerpt",
    "fts_title",
    "open_archive",
    "prepare",
]
