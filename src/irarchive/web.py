"""A read-only web view of the archive through Datasette (the optional ``web`` extra).

``irarchive serve`` and the tests build the server with ``make_datasette``, so the
tests cover the configuration people actually get: the archive opened immutable
(read-only, no locking, never written), search through the archive's FTS5 table,
facets on category and date, newest first, and column descriptions.

The full-text index holds *folded* text (see ``text.index_text``) with SQLite's
``unicode61 remove_diacritics 2`` tokenizer, so Datasette's search box finds
``turkiye`` in "Türkiye" and ``samarkand`` in "Samarkand" without any plugin.
"""

from __future__ import annotations

import os
from typing import Any

from irarchive.errors import IrarchiveError

INSTALL_HINT = "install the web extra: pip install 'irarchive[web]'"

COLUMN_DESCRIPTIONS = {
    "id": "Stable article id (16 hex digits); 'irarchive show ID' prints the article",
    "slug": "Short unique name made from the title",
    "title": "Title as published",
    "date": "Publication date, as precise as known: YYYY, YYYY-MM or YYYY-MM-DD",
    "date_start": "First day the date can mean (sort and filter on this)",
    "date_end": "Last day the date can mean (2022-03 ends on 2022-03-31)",
    "excerpt": "The beginning of the article, as the source listing shows it",
    "truncated": "1 if the excerpt stops before the end of the article",
    "category": "Subject area given by the source",
    "url": "Where the article is published",
    "source": "File the article was imported from",
    "added_at": "When the article entered the archive (UTC)",
    "extra": "Other fields from the import, as JSON",
    "authors": 'Authors as a JSON array of CSL names: {"family", "given"} or {"literal"}',
    "doi": "DOI, without https://doi.org/",
}

PER_YEAR_SQL = (
    "select substr(date_start, 1, 4) as year, count(*) as articles from articles "
    "where date_start is not null group by year order by year"
)


class WebUnavailable(IrarchiveError):
    """Datasette is not installed."""


def database_name(path: str) -> str:
    """The name Datasette gives a database file: its file name without the extension."""
    return os.path.splitext(os.path.basename(path))[0]


def build_metadata(path: str, *, title: str | None = None) -> dict[str, Any]:
    """Datasette metadata for an archive file: descriptions, facets, sorting, search."""
    name = database_name(path)
    return {
        "title": title or "irarchive",
        "description": (
            "Dated articles kept with irarchive. Search titles and excerpts (accents and "
            "case do not matter), filter by category or date, and sort by date."
        ),
        "source": f"irarchive archive {os.path.basename(path)}",
        "license": "Excerpts quoted for research; the articles' rights stay with their publishers",
        "databases": {
            name: {
                "description": "One row per article; see the column descriptions.",
                "tables": {
                    "articles": {
                        "description": "Articles, newest first.",
                        "columns": COLUMN_DESCRIPTIONS,
                        "facets": ["category", {"date": "date_start"}],
                        "sortable_columns": ["date_start", "date", "title", "category", "added_at"],
                        "sort_desc": "date_start",
                        "label_column": "title",
                        # Declared explicitly, so search works whatever the FTS table's
                        # declaration looks like to Datasette's detect_fts.
                        "fts_table": "articles_fts",
                        "fts_pk": "rowid",
                    },
                    "vocab": {"hidden": True},
                    "acronyms": {"hidden": True},
                    "articles_fts_vocab": {"hidden": True},
                },
                "queries": {
                    "articles_per_year": {
                        "title": "Articles per year",
                        "description": "How many dated articles each year has.",
                        "sql": PER_YEAR_SQL,
                    }
                },
            }
        },
    }


def require() -> None:
    """Fail with the install hint when Datasette is missing (checked before any work)."""
    import importlib.util

    if importlib.util.find_spec("datasette") is None:
        raise WebUnavailable(INSTALL_HINT)


def make_datasette(path: str, *, title: str | None = None) -> Any:
    """A Datasette instance serving ``path`` immutable, with irarchive's metadata."""
    require()
    from datasette.app import Datasette

    return Datasette(
        immutables=[os.path.abspath(path)],
        metadata=build_metadata(path, title=title),
        settings={"facet_time_limit_ms": 1000},
    )


def table_path(path: str) -> str:
    """The URL path of the articles table."""
    return f"/{database_name(path)}/articles"


def serve(ds: Any, *, host: str, port: int) -> None:
    """Run Datasette's startup hooks, then serve until interrupted (blocks)."""
    import asyncio

    import uvicorn

    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
