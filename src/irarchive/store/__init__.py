"""The archive: one SQLite file, opened and migrated in exactly one place (``open_archive``).

The package owns all SQL: ``opening`` creates, opens and migrates; ``archive`` reads,
checks and runs the import transaction; ``writer`` prepares and upserts articles.
"""

from irarchive.store.archive import EXPECTED_COLUMNS, Archive, Filters
from irarchive.store.opening import open_archive
from irarchive.store.writer import BATCH, Prepared, prepare

__all__ = [
    "BATCH",
    "EXPECTED_COLUMNS",
    "Archive",
    "Filters",
    "Prepared",
    "open_archive",
    "prepare",
]
