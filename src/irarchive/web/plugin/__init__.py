"""irarchive's Datasette plugin: folded search, the search page, quiet user errors.

Datasette loads it through the ``datasette`` entry point (so a plain
``datasette archive.db`` gets it), and ``irarchive serve`` registers it itself.
Every hook acts only on irarchive archives (recognised by SQLite's application
id), except the quiet error handler, which applies to the whole server.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import Response, hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode

from irarchive import web
from irarchive.errors import IrarchiveError
from irarchive.migrations import APPLICATION_ID

NAME = "irarchive.web.plugin"
_ARCHIVES: dict[str, bool] = {}


def register() -> None:
    """Register this plugin with Datasette unless its entry point already did."""
    from datasette.plugins import pm

    module = sys.modules[__name__]
    if not pm.is_registered(module):
        pm.register(module, name=NAME)


def _file_is_archive(path: str | None) -> bool:
    if not path:
        return False
    if path not in _ARCHIVES:
        try:
            from urllib.parse import quote

            conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
            try:
                _ARCHIVES[path] = (
                    conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
                )
            finally:
                conn.close()
        except sqlite3.Error:
            return False
    return _ARCHIVES[path]


def _archive_db(datasette: Any, name: str) -> Any | None:
    db = datasette.databases.get(name)
    return db if db is not None and _file_is_archive(db.path) else None


# ---- configuration -------------------------------------------------------------------


@hookimpl
def get_metadata(datasette: Any, key: str, database: str | None, table: str | None) -> dict:
    """irarchive's table settings for every archive served (local metadata still wins)."""
    names = [n for n, db in datasette.databases.items() if _file_is_archive(db.path)]
    return {"databases": {n: web.build_metadata(n)["databases"][n] for n in names}}


@hookimpl(trylast=True)
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """On archives, the search box folds and quotes what people type (see web.search_expression).

    ``trylast``: Datasette's own ``escape_fts`` is registered first and replaced here.
    """
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            return
    except sqlite3.Error:
        return
    conn.create_function("escape_fts", 1, web.search_expression, deterministic=True)
    conn.create_function(
        "irarchive_phrases",
        3,
        lambda q, t, e: int(web.has_phrases(q, t, e)),
        deterministic=True,
    )


@hookimpl
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """``"quoted words"`` in the search box must stand together, not just all appear."""

    async def inner() -> Any:
        text = request.args.get("_search")
        if (
            table != "articles"
            or not text
            or request.args.get("_searchmode") == "raw"
            or not web.wants_phrases(text)
            or _archive_db(datasette, database) is None
        ):
            return None
        return FilterArguments(
            ["irarchive_phrases(:irarchive_search, title, excerpt)"],
            {"irarchive_search": text},
            [],
        )

    return inner


_TABLE_PATH = re.compile(r"^/(?P<db>[^/]+)/articles(?:\.\w+)?$")


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Keep the sort column among ``_col`` selections.

    Datasette (0.64, 0.65) builds invalid SQL ("incomplete input") for the next-page
    link of a rowid table sorted by a column that ``_col`` left out.
    """

    def wrap(app: Any) -> Any:
        async def fixed(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and b"col=" in scope.get("query_string", b""):
                scope = _with_sort_column(datasette, scope)
            await app(scope, receive, send)

        return fixed

    return wrap


def _with_sort_column(datasette: Any, scope: dict) -> dict:
    m = _TABLE_PATH.match(scope.get("path", ""))
    if not m:
        return scope
    try:
        db = datasette.get_database(route=tilde_decode(m.group("db")))
    except KeyError:
        return scope
    if not _file_is_archive(db.path):
        return scope
    args = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    keys = {k for k, _ in args}
    sort = next((v for k, v in args if k in ("_sort", "_sort_desc")), None) or "date_start"
    cols = [v for k, v in args if k == "_col"]
    changed = args
    if "_col" in keys and sort not in cols and sort != "rowid":
        changed = [*args, ("_col", sort)]
    elif "_nocol" in keys and ("_nocol", sort) in args:
        changed = [(k, v) for k, v in args if (k, v) != ("_nocol", sort)]
    if changed is args:
        return scope
    return {**scope, "query_string": urlencode(changed).encode("latin-1")}


# ---- the search page ----------------------------------------------------------------------


@hookimpl
def register_routes(datasette: Any) -> list:
    return [(r"^/(?P<database>[^/]+)/-/search$", search_view)]


async def search_view(datasette: Any, request: Any) -> Any:
    """``/DATABASE/-/search?q=…&year=…&category=…&page=…``: irarchive's ranked search."""
    from datasette.utils.asgi import NotFound

    try:
        db = datasette.get_database(route=tilde_decode(request.url_vars["database"]))
    except KeyError:
        raise NotFound("no such database") from None
    if not _file_is_archive(db.path):
        raise NotFound(f"{db.name} is not an irarchive archive")
    await datasette.ensure_permissions(request.actor, [("view-database", db.name), "view-instance"])
    args = request.args
    q, year, category = args.get("q", ""), args.get("year", ""), args.get("category", "")
    try:
        number = max(1, int(args.get("page", "1")))
    except ValueError:
        number = 1

    def work(conn: sqlite3.Connection) -> tuple[web.Page | None, str, dict[str, int]]:
        from irarchive.store import Archive

        factory = conn.row_factory
        conn.row_factory = None
        try:
            archive = Archive(conn, db.path, readonly=True)
            page = web.search_page(archive, q=q, year=year, category=category, page=number)
            ids = [r["id"] for r in page.rows]
            marks = ", ".join("?" * len(ids))
            sql = f"SELECT id, rowid FROM articles WHERE id IN ({marks})"
            rowids = dict(conn.execute(sql, ids))
            return page, "", rowids
        except IrarchiveError as exc:
            return None, str(exc), {}
        finally:
            conn.row_factory = factory

    page, error, rowids = await db.execute_fn(work)
    params = {"q": q, "year": year, "category": category}

    def link(**changes: Any) -> str:
        merged = {**params, **changes}
        return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", None, 1)})

    for row in page.rows if page else []:
        row["href"] = datasette.urls.row(db.name, "articles", str(rowids.get(row["id"], "")))
    html = await datasette.render_template(
        "irarchive_search.html",
        {
            "database": db.name,
            "heading": datasette.metadata("title") or db.name,
            "page": page,
            "error": error,
            "q": q,
            "year": year,
            "category": category,
            "link": link,
            "table_url": datasette.urls.table(db.name, "articles"),
            "page_size": web.PAGE_SIZE,
        },
        request=request,
    )
    return Response.html(html, status=400 if error else 200)


@hookimpl
def extra_template_vars(template: str, database: str, table: str, datasette: Any) -> dict:
    """Tells templates/table.html to lay out the articles table of an archive as text."""
    articles = (
        template == "table.html"
        and table == "articles"
        and database is not None
        and _archive_db(datasette, database) is not None
    )
    return {"irarchive_articles": articles}


@hookimpl
def database_actions(datasette: Any, actor: Any, database: str, request: Any) -> list:
    if _archive_db(datasette, database) is None:
        return []
    return [{"href": web.search_path(database), "label": "Search the articles (ranked)"}]


@hookimpl
def table_actions(datasette: Any, actor: Any, database: str, table: str, request: Any) -> list:
    if table != "articles" or _archive_db(datasette, database) is None:
        return []
    return [{"href": web.search_path(database), "label": "Ranked, typo-tolerant search"}]


@hookimpl
def render_cell(value: Any, column: str, table: str, database: str, datasette: Any) -> Any:
    """Article text in the table shows control and bidi characters as visible marks."""
    if not isinstance(value, str) or table != "articles":
        return None
    from markupsafe import escape

    from irarchive.text import neutralise

    shown = neutralise(value, keep_newlines=True)
    if shown == value or _archive_db(datasette, database) is None:
        return None
    return escape(shown)


# ---- errors ---------------------------------------------------------------------------------


@hookimpl
def startup(datasette: Any) -> None:
    """Replace Datasette's error handler with one that logs no traceback for a user's error."""
    from datasette.plugins import pm

    if pm.get_plugin("datasette.handle_exception") is not None:
        pm.unregister(name="datasette.handle_exception")
        pm.register(QuietErrors(), name="irarchive.quiet_errors")


class QuietErrors:
    """Datasette's default error handler, minus the traceback for 4xx errors.

    A bad query string, an FTS syntax error in ``_searchmode=raw`` or a bad
    ``_size`` is the user's input, not a bug: Datasette already logs the failing
    SQL in one line, and printed 440 lines of traceback with locals on top.
    Server errors (5xx) still go to the default handler, traceback included.
    """

    def __init__(self) -> None:
        self.__name__ = "irarchive.quiet_errors"  # Datasette lists plugins by __name__

    @hookimpl(trylast=True)
    def handle_exception(self, datasette: Any, request: Any, exception: Exception) -> Any:
        from datasette import handle_exception as default
        from datasette.utils.asgi import Base400
        from datasette.views.base import DatasetteError

        status = getattr(exception, "status", 500)
        user_error = isinstance(exception, Base400) or (
            isinstance(exception, DatasetteError) and 400 <= status < 500
        )
        if not user_error:
            return default.handle_exception(datasette, request, exception)

        async def inner() -> Any:
            from markupsafe import Markup

            info: dict[str, Any] = {}
            title = None
            message: Any = exception.args[0] if exception.args else str(exception)
            if isinstance(exception, DatasetteError):
                info = dict(exception.error_dict or {})
                message = exception.message
                if exception.message_is_html:
                    message = Markup(message)
                title = exception.title
            info.update({"ok": False, "error": message, "status": status, "title": title})
            headers: dict[str, str] = {}
            if datasette.cors:
                from datasette.utils import add_cors_headers

                add_cors_headers(headers)
            if request.path.split("?")[0].endswith(".json"):
                return Response.json(info, status=status, headers=headers)
            template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
            body = await template.render_async(
                dict(
                    info,
                    urls=datasette.urls,
                    app_css_hash=datasette.app_css_hash(),
                    menu_links=lambda: [],
                )
            )
            return Response.html(body, status=status, headers=headers)

        return inner
