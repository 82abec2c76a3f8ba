"""A read-only web view of the archive through Datasette (the optional ``web`` extra).

``irarchive serve`` and the tests build the server with ``make_datasette``, so the
tests cover the configuration people actually get. This module never imports
Datasette at import time; the Datasette glue (hooks, the search page's route and
template) is the plugin in ``irarchive.web.plugin``, which Datasette also loads on
its own through the ``datasette`` entry point, so a plain ``datasette archive.db``
gets the same search, page and settings.

What the web view adds to plain Datasette, each a pure function here:

* ``search_expression``: the table's search box folds what people type the way
  irarchive indexes it (``China’s`` -> ``chinas``, ``U.S.`` -> ``us``,
  ``indo-pacific`` -> ``indo AND pacific``), so ``chinas`` meets ``China’s``
  and ``us`` meets ``U.S.`` as irarchive's own search does. (Since m005 the
  index also answers the phrases plain Datasette makes of such input.)
  ``"a phrase"`` keeps its words together through ``has_phrases``, checked on
  the matching rows; ``-word`` excludes.
* ``search_page``: irarchive's own ranked, typo-tolerant search
  (``irarchive.search``) with year and category facets, for the page at
  ``/DATABASE/-/search``.
* ``build_metadata``: hidden internal tables, facets, newest first.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

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

#: Tables that only serve the search code, feed bookkeeping (`irarchive sources list`
#: shows the followed sources) or curation's machinery (edits, aliases, undo, the
#: index queue); hidden from Datasette's lists. The researcher's tags, notes and
#: reading lists are shown beside the articles.
INTERNAL_TABLES = (
    "vocab",
    "acronyms",
    "articles_fts_vocab",
    "sources",
    "source_items",
    "edits",
    "aliases",
    "undo_log",
    "index_queue",
    "irarchive_writing",
    "titles_fts",
)

#: Results per page on the search page.
PAGE_SIZE = 20
#: Characters of the excerpt shown under each result.
EXCERPT_CHARS = 240


class WebUnavailable(IrarchiveError):
    """Datasette is not installed."""


class CannotServe(IrarchiveError):
    """Datasette cannot open this archive file."""


def database_name(path: str) -> str:
    """The name Datasette gives a database file: its file name without the extension."""
    return os.path.splitext(os.path.basename(path))[0]


def _tilde(name: str) -> str:
    """Datasette's encoding of a name in a URL path (``my db`` -> ``my+db``, ``#`` -> ``~23``)."""
    from datasette.utils import tilde_encode

    return tilde_encode(name)


def search_path(name: str) -> str:
    """The URL path of the search page of database ``name`` (percent-safe)."""
    return f"/{_tilde(name)}/-/search"


def table_path(path: str) -> str:
    """The URL path of the articles table of the archive file ``path``."""
    return f"/{_tilde(database_name(path))}/articles"


def _escape_html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def build_metadata(name: str, *, title: str | None = None) -> dict[str, Any]:
    """Datasette metadata for the archive served as database ``name``."""
    columns = "".join(
        f"<dt>{c}</dt><dd>{_escape_html(d)}</dd>" for c, d in COLUMN_DESCRIPTIONS.items()
    )
    search = _escape_html(search_path(name))
    table = _escape_html(f"/{_tilde(name)}/articles")
    return {
        "title": title or "irarchive",
        "source": "irarchive",
        "license": "Excerpts quoted for research; the articles' rights stay with their publishers",
        "databases": {
            name: {
                "description_html": (
                    f'<a href="{search}">Search the articles</a> (ranked, typo-tolerant, '
                    f'with year and category facets), or <a href="{table}">browse the '
                    "articles table</a> (filters, sorting, JSON and CSV)."
                ),
                "tables": {
                    "articles": {
                        "description_html": (
                            "Articles, newest first. The search box ignores case, accents, "
                            'apostrophes and hyphens; "quoted words" stay together, -word '
                            f'excludes. <a href="{search}">Ranked, typo-tolerant search</a>.'
                            f"<details><summary>What the columns mean</summary>"
                            f'<dl class="column-descriptions">{columns}</dl></details>'
                        ),
                        "facets": ["category", {"date": "date_start"}],
                        "sortable_columns": ["date_start", "date", "title", "category", "added_at"],
                        "sort_desc": "date_start",
                        "label_column": "title",
                        # Declared explicitly, so search works whatever the FTS table's
                        # declaration looks like to Datasette's detect_fts.
                        "fts_table": "articles_fts",
                        "fts_pk": "rowid",
                    },
                    **{t: {"hidden": True} for t in INTERNAL_TABLES},
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
    """A Datasette instance serving ``path`` read-only and live, with irarchive's plugin.

    Opened as a mutable file, which Datasette reads through ``mode=ro`` connections:
    never written, and an import made while it runs shows on the next page load
    (immutable mode would keep showing the file as it was at start-up).
    """
    require()
    if any(c in os.path.abspath(path) for c in "?#%"):
        # Datasette opens "file:PATH?mode=ro" without quoting PATH: SQLite would read
        # another file, or none.
        raise CannotServe(
            f"Datasette cannot open {path}: its path contains '?', '#' or '%'; "
            "rename it or serve a copy (irarchive --db COPY serve)"
        )
    from datasette.app import Datasette

    from irarchive.web import plugin

    plugin.register()
    return Datasette(
        files=[os.path.abspath(path)],
        metadata=build_metadata(database_name(path), title=title),
        settings={"facet_time_limit_ms": 1000},
    )


def serve(ds: Any, *, host: str, port: int) -> None:
    """Run Datasette's startup hooks, then serve until interrupted (blocks)."""
    import asyncio

    import uvicorn

    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)


def url(host: str, port: int, path: str) -> str:
    """``http://HOST:PORT/PATH`` with an IPv6 host bracketed and the path percent-encoded."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{quote(path, safe='/~-_.+')}"


# ---- the table's search box --------------------------------------------------------


def _quote(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


#: An FTS5 expression that matches nothing (no indexed word is this long).
NOTHING = _quote("x" * 200)


def search_expression(text: str | None) -> str:
    """An FTS5 expression for what a person typed into the table's search box.

    Words are folded as the index folds them and ANDed; ``-word`` excludes.
    Every word is quoted, so nothing typed is FTS5 syntax. Quoted phrases match
    their words here; ``has_phrases`` then keeps them together (folded, so
    ``"turkey summit"`` also finds "Turkey’s Summit").
    """
    from irarchive.search import parse_query

    query = parse_query(text or "")
    if not query.terms:
        return NOTHING
    expr = " AND ".join(_quote(t.word) for t in query.terms)
    if query.excluded:
        expr = f"({expr}) NOT (" + " OR ".join(_quote(w) for w in query.excluded) + ")"
    return expr


def has_phrases(text: str | None, title: str | None, excerpt: str | None) -> bool:
    """Every ``"quoted phrase"`` of ``text`` appears, words together, in title or excerpt."""
    from irarchive.search import has_phrases as _has
    from irarchive.search import parse_query

    query = parse_query(text or "")
    if not query.phrases:
        return True
    return _has(query, {"title": title or "", "excerpt": excerpt}, False)


def wants_phrases(text: str | None) -> bool:
    """The query has a quoted phrase of two words or more."""
    from irarchive.search import parse_query

    return bool(text) and '"' in text and bool(parse_query(text).phrases)


# ---- the search page ------------------------------------------------------------------


@dataclass
class Page:
    """What the search page shows: results, their count and the facets."""

    q: str
    year: str
    category: str
    page: int
    total: int
    rows: list[dict[str, Any]]
    years: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    ranked: bool
    suggestions: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _year_filter(year: str) -> Any:
    from irarchive.dates import Period
    from irarchive.errors import UsageError

    if not (len(year) == 4 and year.isdigit() and year != "0000"):
        raise UsageError(f"bad year {year!r}: use four digits, like 2022")
    y = int(year)
    return Period(date(y, 1, 1), date(y, 12, 31))


def _excerpt_start(excerpt: str | None) -> str:
    from irarchive.text import one_line

    if not excerpt:
        return ""
    s = one_line(excerpt)
    if len(s) <= EXCERPT_CHARS:
        return s
    cut = s[:EXCERPT_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut[EXCERPT_CHARS // 2 :] else cut) + " …"


def _safe_url(u: str | None) -> str | None:
    """Only web links: a ``javascript:`` or ``data:`` url in an article is never a link."""
    if not u:
        return None
    u = u.strip()
    return u if u.lower().startswith(("http://", "https://")) and " " not in u else None


def _shown(article: dict[str, Any], score: float | None) -> dict[str, Any]:
    """An article as the page shows it: neutralised text, a safe link, the excerpt's start."""
    from irarchive.text import one_line

    return {
        "id": article["id"],
        "title": one_line(article["title"]),
        "date": article.get("date") or "",
        "category": one_line(article.get("category") or ""),
        "excerpt": _excerpt_start(article.get("excerpt")),
        "url": _safe_url(article.get("url")),
        "score": score,
    }


def _year_of(article: dict[str, Any]) -> str:
    d = article.get("date") or ""
    return d[:4] if len(d) >= 4 else "undated"


def _sorted_years(counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Newest year first, undated last."""
    return sorted(counts, key=lambda yc: (yc[0] != "undated", yc[0]), reverse=True)


def _clamp(page: int, total: int) -> int:
    return min(page, max(1, -(-total // PAGE_SIZE)))


def search_page(
    archive: Any, *, q: str = "", year: str = "", category: str = "", page: int = 1
) -> Page:
    """The search page's content: ranked hits for ``q`` (newest articles without one).

    Raises ``UsageError`` for a malformed year; any query text is fine.
    """
    from irarchive import search
    from irarchive.store import Filters

    q, year, category = q.strip()[:2000], year.strip(), category.strip()
    page = max(1, page)
    filters = Filters(
        period=_year_filter(year) if year and year != "undated" else None,
        undated=year == "undated",
        categories=(category,) if category else (),
    )
    if q:
        result = search.search(archive, q, filters=filters, limit=0)
        hits = result.hits
        page = _clamp(page, len(hits))
        start, end = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
        years = Counter(_year_of(h.article) for h in hits)
        cats = Counter(h.article.get("category") or "" for h in hits)
        return Page(
            q,
            year,
            category,
            page,
            len(hits),
            [_shown(h.article, round(h.score, 1)) for h in hits[start:end]],
            _sorted_years(years.items()),
            sorted(((c, n) for c, n in cats.items() if c), key=lambda cn: (-cn[1], cn[0])),
            True,
            result.suggestions if not hits else [],
        )
    total = archive.count_articles(filters)
    page = _clamp(page, total)  # past the end: the last page, not a walk over every row
    listed = archive.list_articles(filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows = [_shown(a, None) for a in listed]
    series, undated, _ = archive.period_counts(filters, "year")
    years_list = [(y, n) for y, n in series if n] + ([("undated", undated)] if undated else [])
    cats_list = [(c, n) for c, n in archive.category_counts(filters) if c]
    return Page(q, year, category, page, total, rows, _sorted_years(years_list), cats_list, False)
