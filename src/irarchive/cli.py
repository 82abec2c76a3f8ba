"""The irarchive command line: parse, call the library, render, map errors to exit codes.

The only module that imports typer. Exit codes: 0 success (also for empty
results), 1 runtime error (not found, bad archive, failed import), 2 usage error
(bad option, date, field), 130 interrupted.
"""

import os
import sys
from datetime import date
from enum import Enum
from typing import Annotated, Any, NoReturn

import typer

from irarchive import __version__
from irarchive.errors import Ambiguous, IrarchiveError

EXIT_HELP = """Exit codes: 0 success (also when nothing matches), 1 error (not found, bad \
archive, failed import), 2 usage error (bad option, date or field), 130 interrupted."""

app = typer.Typer(
    name="irarchive",
    help="Browse, search and cite an archive of dated articles.\n\n" + EXIT_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Inspect and manage the archive file.", no_args_is_help=True)
app.add_typer(db_app, name="db")


class Fmt(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"


class Sort(str, Enum):
    date = "date"
    title = "title"


class InFmt(str, Enum):
    listing = "listing"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


class DateOrder(str, Enum):
    dmy = "dmy"
    mdy = "mdy"


# ---- settings and helpers ------------------------------------------------------------


class State:
    """Global options, kept on the click context."""

    def __init__(self, db: str | None, no_seed: bool) -> None:
        self.db = db
        self.no_seed = no_seed
        self._archive: Any = None

    def path(self) -> str:
        return self.db or default_db_path()

    def archive(self) -> Any:
        if self._archive is None:
            from irarchive.store import open_archive

            seeder = None if self.no_seed else _load_seed
            path = self.path()
            self._archive = open_archive(path, seed=seeder)
            if self._archive.created:
                what = (
                    "an empty archive"
                    if self.no_seed
                    else (f"a new archive with the bundled seed ({self._archive.count()} articles)")
                )
                err(f"Created {what} at {path}")
        return self._archive


def _load_seed(archive: Any) -> None:
    from irarchive.seed import load_seed  # only when an archive is being created

    load_seed(archive)


def default_db_path() -> str:
    """The per-user data dir: $XDG_DATA_HOME/irarchive/archive.db on Linux."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        # What platformdirs computes on these systems, without its import cost on
        # every start-up.
        base = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.join(
            os.path.expanduser("~"), ".local", "share"
        )
        return os.path.join(base, "irarchive", "archive.db")
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("irarchive", appauthor=False), "archive.db")


def err(message: str) -> None:
    """One message on stderr; control and bidi characters (in file names, say) made visible."""
    from irarchive.text import neutralise

    sys.stderr.write(neutralise(message, keep_newlines=True).replace("\r", "^M") + "\n")
    sys.stderr.flush()


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if obj is None:
        obj = ctx.find_root().obj = State(None, False)
    return obj


def choose_format(fmt: Fmt | None, json_: bool) -> str:
    if json_:
        if fmt is not None and fmt != Fmt.json:
            raise typer.BadParameter("--json and --format disagree; give one of them")
        return "json"
    if fmt is not None:
        return fmt.value
    return "table" if stdout_is_terminal() else "tsv"


def _finite(value: float, name: str) -> float:
    """Reject NaN (it passes every range check and then matches nothing)."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{name} must be a number from 0 to 100, not {value}")
    return value


def today() -> date:
    override = os.environ.get("IRARCHIVE_TODAY")  # for reproducible tests and examples
    return date.fromisoformat(override) if override else date.today()


def make_filters(
    since: str | None, until: str | None, on: str | None, undated: bool, category: list[str] | None
) -> tuple[Any, Any]:
    from irarchive.dates import resolve_filters
    from irarchive.store import Filters

    period = resolve_filters(since, until, on, today=today())
    if undated and period is not None:
        raise typer.BadParameter("--undated cannot be combined with date filters")
    cats = tuple(c.strip() for c in category or () if c.strip())
    return Filters(period=period, undated=undated, categories=cats), period


def print_renderable(renderable: Any) -> None:
    from irarchive.output import console

    console(sys.stdout).print(renderable)


def emit(
    records: list[dict[str, Any]] | Any,
    fmt: str,
    fields: list[str] | None,
    default_fields: tuple[str, ...],
    *,
    highlight: dict[str, list[str]] | None = None,
) -> int:
    """Write records in ``fmt``; returns how many."""
    from irarchive import output

    if fmt == "table":
        records = list(records)
        if not records:
            return 0  # the caller says "no articles match" on stderr
        print_renderable(
            output.render_table(records, fields or default_fields, highlight_terms=highlight)
        )
        return len(records)
    n = output.write_records(records, fmt, sys.stdout, fields=fields, default_fields=default_fields)
    sys.stdout.flush()
    return n


# ---- completion (runs on every TAB: stdlib and store only, never rich or rapidfuzz) ----


def _completion_archive(ctx: typer.Context) -> Any:
    """The archive, opened read-only for completion; None if there is none (never created)."""
    path = ctx.find_root().params.get("db") or os.environ.get("IRARCHIVE_DB") or default_db_path()
    if not os.path.isfile(path):
        return None
    from irarchive.store import open_archive

    try:
        return open_archive(path, create=False, readonly=True)
    except IrarchiveError:
        return None


def _keep_typed(incomplete: str, values: list[str]) -> list[str]:
    """Completions that begin with exactly what was typed.

    Typer drops candidates that do not start with the typed text, and matching here
    ignores case (as the filters do), so "inter" completes to "international Relations".
    """
    return [incomplete + v[len(incomplete) :] for v in values]


class _Candidate(str):
    """A completion already matched to what was typed (case-insensitively, and
    possibly quoted for the shell), so Typer's own prefix filter keeps it."""

    def startswith(self, *args: Any) -> bool:
        return True


def _for_shell(incomplete: str, values: list[str]) -> list[str]:
    """Candidates safe to hand to the shell.

    Those with control or bidi characters are dropped (a newline would become a
    second candidate, ESC and BEL would reach the terminal). Bash inserts what it
    gets verbatim, so there each is shell-quoted: a category ``x; touch f`` must
    arrive as one quoted word, not a command. zsh and fish quote for themselves.
    """
    import shlex

    from irarchive.text import neutralise

    shell = os.environ.get("_IRARCHIVE_COMPLETE", "")
    out: list[str] = []
    for value in _keep_typed(incomplete, values):
        if neutralise(value) != value or not value.isprintable():
            continue
        out.append(_Candidate(shlex.quote(value)) if "bash" in shell else value)
    return out


def complete_ref(ctx: typer.Context, incomplete: str) -> list[str]:
    """Slugs and ids starting with what has been typed."""
    import sqlite3

    archive = _completion_archive(ctx)
    if archive is None:
        return []
    try:
        return _for_shell(incomplete, archive.ref_completions(incomplete))
    except sqlite3.Error:
        return []
    finally:
        archive.close()


def complete_category(ctx: typer.Context, incomplete: str) -> list[str]:
    """The archive's categories starting with what has been typed (any case)."""
    import sqlite3

    archive = _completion_archive(ctx)
    if archive is None:
        return []
    try:
        return _for_shell(incomplete, archive.category_completions(incomplete))
    except sqlite3.Error:
        return []
    finally:
        archive.close()


# ---- options shared by listing commands ------------------------------------------------

SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="DATE",
        help="From this date on (inclusive): 2022, 2022-03, 2022-03-14, 'March 2022', "
        "7d, 6w, 3m, 1y, today, yesterday.",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="DATE",
        help="Up to and including this date (a year or month means its last day).",
    ),
]
OnOpt = Annotated[
    str | None, typer.Option("--on", metavar="DATE", help="Within this day, month or year.")
]
CategoryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--category",
        "-c",
        help="Only this category (case-insensitive; repeat for several).",
        autocompletion=complete_category,
    ),
]
FormatOpt = Annotated[
    Fmt | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format. Default: table on a terminal, tab-separated lines "
        "(no header) on a pipe.",
        case_sensitive=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shortcut for --format json.")]
FieldsOpt = Annotated[
    str | None,
    typer.Option("--fields", help="Comma-separated fields, in order (e.g. id,date,title)."),
]


# ---- root ---------------------------------------------------------------------------------


def _version(value: bool) -> None:
    if value:
        print(f"irarchive {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="IRARCHIVE_DB",
            metavar="PATH",
            help="Archive file [env IRARCHIVE_DB; default: the user data dir, see 'db path']. "
            "Created and seeded with the bundled articles if missing.",
        ),
    ] = None,
    no_seed: Annotated[
        bool, typer.Option("--no-seed", help="When creating a new archive, leave it empty.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Browse, search and cite an archive of dated articles."""
    # click treats an empty IRARCHIVE_DB as unset; an empty path is a mistake, never
    # a quiet fall-back to the default archive.
    if db is None and "IRARCHIVE_DB" in os.environ:
        db = os.environ["IRARCHIVE_DB"]
    if db is not None and not db.strip():
        raise typer.BadParameter("the archive path is empty; give a path or unset IRARCHIVE_DB")
    ctx.obj = State(db, no_seed)


# ---- list -------------------------------------------------------------------------------


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    on: OnOpt = None,
    undated: Annotated[bool, typer.Option("--undated", help="Only articles with no date.")] = False,
    category: CategoryOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            help="At most N articles; 0 = all. Default: 20 in a terminal table, all otherwise.",
        ),
    ] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="Order by date (newest first) or title.")
    ] = Sort.date,
    reverse: Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")] = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
    fields: FieldsOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say on stderr how dates were read.")
    ] = False,
) -> None:
    """List articles, newest first, optionally within dates or categories."""
    from irarchive.model import FIELDS
    from irarchive.output import DEFAULT_TABLE_FIELDS, parse_fields

    out_fmt = choose_format(fmt, json_)
    chosen = parse_fields(fields, FIELDS)
    filters, period = make_filters(since, until, on, undated, category)
    if verbose:
        err(
            "dates: "
            + (period.describe() if period else "no date filter")
            + (" (undated only)" if undated else "")
        )
    archive = state(ctx).archive()
    effective = limit if limit not in (None, 0) else None
    default_cut = limit is None and out_fmt == "table"
    if default_cut:
        effective = 20
    rows = archive.list_articles(filters, sort=sort.value, reverse=reverse, limit=effective)
    shown = emit(rows, out_fmt, chosen, DEFAULT_TABLE_FIELDS)
    if out_fmt == "table":
        if shown == 0:
            err("no articles match")
        elif default_cut and shown == 20:
            total = archive.count_articles(filters)
            if total > shown:
                err(f"showing {shown} of {total} (use --limit 0 for all)")


# ---- show -------------------------------------------------------------------------------


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    refs: Annotated[
        list[str],
        typer.Argument(
            metavar="REF...",
            help="Article id, slug, unique id prefix, or title (exact, then fuzzy).",
            autocompletion=complete_ref,
        ),
    ],
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
    fields: FieldsOpt = None,
) -> None:
    """Show articles in full: title, date, category, url, source and excerpt."""
    from irarchive import output
    from irarchive.model import FIELDS
    from irarchive.search import resolve

    chosen = output.parse_fields(fields, FIELDS)
    if json_ and fmt is not None and fmt != Fmt.json:
        raise typer.BadParameter("--json and --format disagree; give one of them")
    archive = state(ctx).archive()
    articles = [resolve(archive, ref) for ref in refs]
    if json_ or fmt == Fmt.json:
        if len(articles) == 1:
            output.write_json_one(articles[0], sys.stdout, chosen)
        else:
            output.write_json(articles, sys.stdout, chosen)
        return
    if fmt is not None and fmt != Fmt.table:
        emit(articles, fmt.value, chosen, FIELDS)
        return
    if chosen:  # the chosen fields as a table (terminal) or tab-separated lines (pipe)
        table = fmt == Fmt.table or stdout_is_terminal()
        emit(articles, "table" if table else "tsv", chosen, FIELDS)
        return
    if fmt == Fmt.table or stdout_is_terminal():
        for a in articles:
            print_renderable(output.render_panel(a))
        return
    sys.stdout.write("\n".join(output.plain_article(a) for a in articles))


# ---- search -----------------------------------------------------------------------------


@app.command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words to find; typos are fine. "a phrase" keeps words together, -word excludes.'
        ),
    ],
    since: SinceOpt = None,
    until: UntilOpt = None,
    on: OnOpt = None,
    category: CategoryOpt = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=0, help="At most N results; 0 = all that pass --min-score."
        ),
    ] = 20,
    title_only: Annotated[
        bool, typer.Option("--title-only", "-t", help="Match titles only.")
    ] = False,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score",
            min=0,
            max=100,
            callback=lambda v: _finite(v, "--min-score"),
            help="Hide results scoring below this (0-100).",
        ),
    ] = 40.0,
    explain: Annotated[
        bool, typer.Option("--explain", help="Say on stderr why each result matched.")
    ] = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
    fields: FieldsOpt = None,
) -> None:
    """Search titles and excerpts, forgiving typos, accents and acronyms."""
    from irarchive import output
    from irarchive.search import search

    out_fmt = choose_format(fmt, json_)
    chosen = output.parse_fields(fields, output.SEARCH_FIELDS)
    filters, _ = make_filters(since, until, on, False, category)
    archive = state(ctx).archive()
    result = search(
        archive,
        query,
        filters=filters,
        limit=limit or None,
        min_score=min_score,
        title_only=title_only,
    )
    records = [h.to_dict(i) for i, h in enumerate(result.hits, start=1)]
    highlight = {
        h.article["id"]: h.matched["title"] + [t.word for t in result.query.terms]
        for h in result.hits
    }
    emit(records, out_fmt, chosen, output.DEFAULT_SEARCH_TABLE_FIELDS, highlight=highlight)
    if explain:
        for i, h in enumerate(result.hits, start=1):
            err(f"{i}. {output.cell(h.article['title'])} [{h.score:.1f}]: " + "; ".join(h.why))
    if not records and out_fmt == "table":
        hint = f"; did you mean: {' '.join(result.suggestions)}" if result.suggestions else ""
        err(f"no articles match{hint}")


# ---- import -----------------------------------------------------------------------------


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...", help="Listing text, JSON, JSONL, CSV or TSV files; - reads stdin."
        ),
    ],
    in_fmt: Annotated[
        InFmt | None,
        typer.Option(
            "--format",
            "-f",
            help="Input format (default: from the file name, else sniffed).",
            case_sensitive=False,
        ),
    ] = None,
    date_order: Annotated[
        DateOrder | None,
        typer.Option(
            "--date-order", help="Read numeric dates like 01/02/2022 as day/month or month/day."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Any rejected record aborts its file.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Import articles; each file is all-or-nothing, re-importing changes nothing."""
    from irarchive import ingest, output, sources
    from irarchive.errors import ImportFailed, UsageError

    if files.count("-") > 1:  # the second read would find stdin used up (and closed)
        raise UsageError("- (standard input) can be given only once")
    archive = state(ctx).archive()
    results = []
    failed = 0
    for path in files:
        progress, done = _progress(path)
        try:
            items = ingest.read_prepared(
                path,
                fmt=in_fmt.value if in_fmt else None,
                date_order=date_order.value if date_order else None,
                stdin=sys.stdin.buffer if path == "-" else None,
            )
            report = archive.import_items(items, dry_run=dry_run, strict=strict, progress=progress)
        except ImportFailed as exc:
            done()
            failed += 1
            err(f"Error: {exc}")
            results.append({"file": sources.display_name(path), "error": str(exc)})
            continue
        done()
        name = sources.display_name(path)
        results.append({"file": name, **report.to_dict()})
        added, updated = ("would add", "would update") if dry_run else ("added", "updated")
        err(
            f"{name}: {report.added} {added}, {report.updated} {updated}, "
            f"{report.unchanged} unchanged, {report.rejected_count} rejected"
        )
        for line in report.rejected[:20]:
            err(f"  rejected {line}")
        if report.rejected_count > 20:
            kept = len(report.rejected)
            err(
                f"  … and {report.rejected_count - 20:,} more (use --json to see "
                + ("all)" if kept == report.rejected_count else f"the first {kept})")
            )
    if json_:
        sys.stdout.write(output.dumps({"dry_run": dry_run, "files": results}, indent=2) + "\n")
    if failed:
        raise typer.Exit(1)


def _progress(path: str) -> tuple[Any, Any]:
    """A progress callback on stderr for big files on a terminal; no-ops otherwise."""
    size = os.path.getsize(path) if path != "-" and os.path.isfile(path) else 0
    if not sys.stderr.isatty() or size < 5_000_000:
        return None, lambda: None
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from irarchive import output

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=output.console(sys.stderr),
        transient=True,
    )
    task = bar.add_task(f"importing {os.path.basename(path)}", total=None)
    bar.start()
    return (lambda n: bar.update(task, completed=n)), bar.stop


# ---- db -----------------------------------------------------------------------------------


@db_app.command("path")
def db_path(ctx: typer.Context) -> None:
    """Print where the archive is (from --db, IRARCHIVE_DB or the user data dir)."""
    print(state(ctx).path())


@db_app.command("init")
def db_init(
    ctx: typer.Context,
    empty: Annotated[
        bool, typer.Option("--empty", help="Create it without the bundled seed.")
    ] = False,
) -> None:
    """Create the archive (seeded with the bundled articles unless --empty)."""
    st = state(ctx)
    if empty:
        st.no_seed = True
    path = st.path()
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        archive = st.archive()
        err(f"The archive at {path} already exists ({archive.count()} articles); left as it is")
        return
    st.archive()


@db_app.command("info")
def db_info(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Article count, date range, categories, schema version, size and location."""
    from irarchive import output

    info = state(ctx).archive().info()
    if json_:
        sys.stdout.write(output.dumps(info, indent=2) + "\n")
        return
    lines = [
        f"path: {info['path']}",
        f"articles: {info['articles']}",
        f"dates: {info['first_date'] or '-'} .. {info['last_date'] or '-'}"
        + (f" ({info['undated']} undated)" if info["undated"] else ""),
        f"schema version: {info['schema_version']}",
        f"size: {info['size_bytes']:,} bytes",
        "categories:",
    ]
    lines += [
        f"  {output.cell(c['category'] or '(none)')}: {c['count']}" for c in info["categories"]
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@db_app.command("check")
def db_check(ctx: typer.Context) -> None:
    """Check integrity and that the search index matches the articles (exit 1 if not)."""
    archive = state(ctx).archive()
    problems = archive.check()
    if problems:
        for p in problems:
            err(f"problem: {p}")
        raise typer.Exit(1)
    print(f"ok: {archive.count()} articles, index consistent")


# ---- analyst commands -----------------------------------------------------------------


class StatsBy(str, Enum):
    year = "year"
    month = "month"
    category = "category"


class ExportFmt(str, Enum):
    bibtex = "bibtex"
    ris = "ris"
    csl_json = "csl-json"
    markdown = "markdown"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


QueryOpt = Annotated[
    str | None,
    typer.Option(
        "--query",
        "-q",
        help="Only articles matching these words (as in 'search': typos, accents, "
        '"phrases" and -exclusions; every match counts, not just the best).',
    ),
]


@app.command("stats")
def stats_cmd(
    ctx: typer.Context,
    by: Annotated[
        StatsBy, typer.Option("--by", help="Count per year, month or category.")
    ] = StatsBy.year,
    since: SinceOpt = None,
    until: UntilOpt = None,
    on: OnOpt = None,
    category: CategoryOpt = None,
    query: QueryOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Count articles per year, month or category, with a bar chart and sparkline."""
    from irarchive import analysis, output

    out_fmt = choose_format(fmt, json_)
    filters, _ = make_filters(since, until, on, False, category)
    result = analysis.stats(state(ctx).archive(), filters, by=by.value, query=query)
    key = "category" if by == StatsBy.category else "period"
    if out_fmt == "table":
        if result.rows:
            print_renderable(output.render_stats(result.rows, key))
        else:
            err("no articles match")
    else:
        emit(result.rows, out_fmt, [key, "count"], (key, "count"))
    # Left out of the series, said on stderr so machine output stays a plain series.
    if result.undated:
        err(f"not counted: {result.undated} undated article{'s' if result.undated > 1 else ''}")
    if result.coarse:
        err(f"not counted: {result.coarse} dated only to the year (see --by year)")


@app.command("related")
def related_cmd(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help="Article id, slug, unique id prefix, or title.",
            autocompletion=complete_ref,
        ),
    ],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="At most N articles; 0 = all candidates.")
    ] = 10,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
    fields: FieldsOpt = None,
) -> None:
    """Articles most like REF: the most distinctive words they share (score 0-100)."""
    from irarchive import analysis, output
    from irarchive.search import resolve

    out_fmt = choose_format(fmt, json_)
    chosen = output.parse_fields(fields, analysis.RELATED_FIELDS)
    archive = state(ctx).archive()
    article = resolve(archive, ref)
    found = analysis.related(archive, article, limit=limit)
    records = [r.to_dict(i) for i, r in enumerate(found, start=1)]
    if out_fmt != "table":
        emit(records, out_fmt, chosen, analysis.DEFAULT_RELATED_TABLE_FIELDS)
        return
    err(f"like: {output.cell(article['title'])} ({article['id']})")
    if records:
        emit(records, out_fmt, chosen, analysis.DEFAULT_RELATED_TABLE_FIELDS)
    else:
        err("no related articles: it shares no distinctive words with any other")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFmt | None,
        typer.Option(
            "--format",
            "-f",
            help="bibtex (biblatex @online), ris, csl-json, markdown (a reading list), "
            "json, jsonl or csv. Default: from the -o file ending (.bib .ris .md .jsonl .csv).",
            case_sensitive=False,
        ),
    ] = None,
    output_path: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write FILE (replaced only once complete) instead of standard output.",
        ),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    on: OnOpt = None,
    undated: Annotated[bool, typer.Option("--undated", help="Only articles with no date.")] = False,
    category: CategoryOpt = None,
    query: QueryOpt = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="Order by date (newest first) or title.")
    ] = Sort.date,
    reverse: Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="At most N articles; 0 = all.")
    ] = 0,
    fields: Annotated[
        str | None,
        typer.Option("--fields", help="For json, jsonl and csv: comma-separated fields, in order."),
    ] = None,
    publisher: Annotated[
        str | None,
        typer.Option(
            "--publisher",
            help="Publishing organisation for the citations (biblatex organization, RIS PB, "
            "CSL container-title).",
        ),
    ] = None,
) -> None:
    """Export articles as citations (BibTeX, RIS, CSL-JSON), a reading list, or data."""
    from irarchive import analysis, output
    from irarchive.model import FIELDS

    chosen_fmt = analysis.format_for(output_path, fmt.value if fmt else None)
    chosen = output.parse_fields(fields, FIELDS)
    if chosen is not None and chosen_fmt not in ("json", "jsonl", "csv"):
        raise typer.BadParameter(f"--fields applies to json, jsonl and csv, not {chosen_fmt}")
    filters, _ = make_filters(since, until, on, undated, category)
    archive = state(ctx).archive()
    if output_path not in (None, "-"):
        from irarchive.safeio import archive_files, output_target

        output_target(output_path, protected=archive_files(archive.path))  # before the query
    match = analysis.match_expression(archive, query) if query is not None else None
    records = archive.matching_articles(
        filters, match=match, sort=sort.value, reverse=reverse, limit=limit or None
    )
    if output_path in (None, "-"):
        analysis.export(records, chosen_fmt, sys.stdout, fields=chosen, publisher=publisher)
        sys.stdout.flush()
        return
    from irarchive.safeio import archive_files, atomic_output

    with atomic_output(output_path, protected=archive_files(archive.path)) as out:
        n = analysis.export(records, chosen_fmt, out, fields=chosen, publisher=publisher)
    err(f"exported {n} article{'' if n == 1 else 's'} as {chosen_fmt} to {output_path}")


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port.")] = 8001,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps it to this computer."),
    ] = "127.0.0.1",
    open_: Annotated[
        bool, typer.Option("--open", help="Open the articles page in a web browser.")
    ] = False,
    title: Annotated[
        str | None, typer.Option("--title", help="Site title (default: irarchive).")
    ] = None,
) -> None:
    """Browse the archive in a web browser, read-only, through Datasette (extra 'web')."""
    from irarchive import web

    web.require()
    archive = state(ctx).archive()
    archive.checkpoint()
    path = archive.path
    ds = web.make_datasette(path, title=title)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}{web.table_path(path)}"
    if host not in ("127.0.0.1", "localhost", "::1"):
        err(f"warning: listening on {host}: other computers can read the archive")
    err(f"Serving {path} read-only at {url} (Ctrl-C to stop)")
    if open_:
        import webbrowser

        webbrowser.open(url)
    web.serve(ds, host=host, port=port)


# ---- entry point -----------------------------------------------------------------------------


def _fail(message: str, code: int) -> NoReturn:
    err(message)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every outcome to a documented exit code."""
    # typer 0.28 vendors click; its exceptions live in typer._click (pinned in pyproject).
    import sqlite3

    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    args = sys.argv[1:] if argv is None else argv
    _prepare_streams()
    try:
        command = typer.main.get_command(app)
        rv = command.main(args=args, prog_name="irarchive", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except SystemExit as exc:
        # typer handles EPIPE itself (wraps stdout to stay quiet, then exits 1). The
        # reader of a pipe going away (| head -1) is not an error: exit 0.
        if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            _quiet_broken_pipe()
            raise SystemExit(0) from None
        raise
    except Ambiguous as exc:
        from irarchive.output import cell

        lines = [f"Error: {exc}"] + [
            f"  {c['id']}  {c.get('date') or '----------'}  {cell(c['title'])[:100]}"
            for c in exc.candidates
        ]
        _fail("\n".join(lines), exc.exit_code)
    except IrarchiveError as exc:
        hint = ""
        if type(exc).__name__ == "NotFound":
            hint = f" (try: irarchive search {_shell_quote(_not_found_ref(exc))})"
        _fail(f"Error: {exc}{hint}", exc.exit_code)
    except NoArgsIsHelpError as exc:
        _fail(exc.format_message(), exc.exit_code)
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "irarchive"
        message = " ".join(exc.format_message().split())
        _fail(f"Error: {message} (see '{where} --help')", exc.exit_code)
    except typer.Abort:
        _fail("Aborted", 1)
    except KeyboardInterrupt:
        _fail("Interrupted", 130)
    except BrokenPipeError:
        _quiet_broken_pipe()
        code = 0
    except sqlite3.DatabaseError as exc:
        # Opening reads only the header and schema; damage deeper in the file shows
        # up when a query reaches it, in whichever command that happens to be.
        _fail(f"Error: {_sqlite_message(exc)}", 1)
    except (OSError, UnicodeError, ValueError, RecursionError, MemoryError) as exc:
        # The backstop: each known cause is fixed where it arises (stream set-up
        # above, bounds in the readers); whatever still escapes is one line, not a
        # traceback, unless IRARCHIVE_DEBUG asks for it.
        if os.environ.get("IRARCHIVE_DEBUG"):
            import traceback

            traceback.print_exc()
        if isinstance(exc, OSError):
            _quiet_broken_pipe()  # drop buffered output: the final flush must not fail
        _fail(f"Error: {_backstop_message(exc)}", 1)
    if code == 130:
        err("Interrupted")
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:  # the disk filled up on the last buffered bytes
        _quiet_broken_pipe()
        _fail(f"Error: {_backstop_message(exc)}", 1)
    raise SystemExit(code)


class _ClosedStream:
    """Stands in for a standard stream whose descriptor was closed when we started."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.errors = "backslashreplace"
        self.encoding = "utf-8"

    def _closed(self, *args: Any, **kwargs: Any) -> NoReturn:
        import errno

        raise OSError(errno.EBADF, f"{self.name} is closed")

    write = read = readline = fileno = _closed

    @property
    def buffer(self) -> NoReturn:
        self._closed()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _prepare_streams() -> None:
    """Make the standard streams safe to use whatever state they came in.

    A descriptor 0-2 closed at start-up is opened on /dev/null first, so no file
    opened later (the archive) can take its number and receive our output; the
    Python stream for it then fails with a clear message when used. Output that
    the encoding cannot hold (PYTHONIOENCODING=ascii, an ASCII locale) is written
    with backslash escapes instead of failing: in JSON those are valid escapes.
    """
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            try:
                os.open(os.devnull, flags)  # takes the lowest free number: this one
            except OSError:
                pass
    if sys.stdin is None:
        sys.stdin = _ClosedStream("standard input")  # type: ignore[assignment]
    if sys.stdout is None:
        sys.stdout = _ClosedStream("standard output")  # type: ignore[assignment]
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - nothing can be said anyway
    import codecs

    codecs.register_error("irarchive-escape", _u_escape)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if encoding in ("utf-8", "utf8") or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(errors="irarchive-escape")
        except (ValueError, OSError, LookupError):
            pass


def _u_escape(exc: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: characters the stream cannot hold become ``\\uXXXX``.

    Unlike ``backslashreplace`` (``\\xfc``) these are valid JSON escapes, so JSON
    written to an ASCII-only stdout stays JSON; in text they are still readable.
    """
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        n = ord(ch)
        if n > 0xFFFF:
            n -= 0x10000
            out.append(f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}")
        else:
            out.append(f"\\u{n:04x}")
    return "".join(out), exc.end


def _backstop_message(exc: BaseException) -> str:
    """One line for an error that escaped every specific handler."""
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        if exc.filename:
            return f"{exc.filename}: {what}"
        if "standard" in what:
            return f"cannot write the output: {what}"
        return f"cannot write the output: {what}" if exc.errno in _OUTPUT_ERRNOS else what
    if isinstance(exc, UnicodeError):
        return (
            f"text that this locale's encoding cannot hold ({exc}); use a UTF-8 locale "
            "(LANG=C.UTF-8) or PYTHONIOENCODING=utf-8"
        )
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller input or --limit"
    if isinstance(exc, RecursionError):
        return "the data is nested too deeply to process"
    return f"{exc} (set IRARCHIVE_DEBUG=1 to see where)"


_OUTPUT_ERRNOS = {28, 5, 9, 27, 122}  # ENOSPC, EIO, EBADF, EFBIG, EDQUOT


def _sqlite_message(exc: Exception) -> str:
    """One line for an SQLite error that escaped the library (damage or contention)."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"the archive is busy ({text}); another irarchive is writing to it, try again"
    return (
        f"the archive cannot be read ({text}); it was left untouched: "
        "run 'irarchive db check', restore a backup, or choose another --db"
    )


def _not_found_ref(exc: Exception) -> str:
    text = str(exc)
    return text[len("no article ") :].strip("'\"") if text.startswith("no article ") else text


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head``): stop quietly, without Python's flush error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
