"""The irarchive command line: parse, call the library, render, map errors to exit codes.

The only module that imports typer. Exit codes: 0 success (also for empty
results), 1 runtime error (not found, bad archive, failed import), 2 usage error
(bad option, date, field), 130 interrupted.
"""

import copy
import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from irarchive import __version__, formats
from irarchive.errors import Ambiguous, IrarchiveError, NotFound, UsageError

if TYPE_CHECKING:
    from irarchive.dates import Period
    from irarchive.formats import OutputFormat
    from irarchive.output import View
    from irarchive.store import Archive, Filters

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
sources_app = typer.Typer(
    help="Follow feeds and sites; 'irarchive update' imports what is new.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")


EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "list": [
        ("irarchive list --since 2022-03", "articles from March 2022 on, newest first"),
        ('irarchive list -c "international relations" --on 2022', "one category, one year"),
        ("irarchive list --sort title -n 0", "every article, by title"),
        ("irarchive list --json | jq -r '.[].title'", "titles, for scripts"),
    ],
    "show": [
        ("irarchive show 141e649d", "by id or an id prefix (4+ hex digits)"),
        ("irarchive show iranian-nuclear-deal-crisis", "by slug"),
        ('irarchive show "sco summit samarkand"', "by title; typos are fine"),
        ("irarchive show 141e649d --json", "the whole record as JSON"),
    ],
    "search": [
        ('irarchive search "central asia energy"', "best matches first"),
        ('irarchive search "shanghai cooperation" --since 2022', "within dates"),
        ("irarchive search nuclear -t --explain", "titles only, saying why each matched"),
        ("irarchive search summit --json -n 5", "the top five as JSON"),
    ],
    "import": [
        ("irarchive import articles.jsonl", "add or update; re-running changes nothing"),
        ("irarchive import export.csv --dry-run", "what would change, writing nothing"),
        ("irarchive import feed.json --map category_guess=category", "a field renamed"),
        ("curl -s URL | irarchive import - -f json", "from standard input"),
    ],
    "dedupe": [
        ("irarchive dedupe", "likely duplicates, with a reason and a score"),
        ("irarchive dedupe --merge --dry-run", "what a merge would do"),
        ("irarchive dedupe --merge --yes --min-score 95", "merge the surest, without asking"),
    ],
    "stats": [
        ("irarchive stats", "articles per year"),
        ("irarchive stats --by month --since 2021", "per month, with a sparkline"),
        ("irarchive stats --by category -q energy", "where a topic appears"),
    ],
    "related": [
        ("irarchive related 141e649d", "the ten most alike"),
        ("irarchive related 2022-sco-summit-samarkand-key -n 3 --json", "the top three as JSON"),
    ],
    "export": [
        ("irarchive export > refs.bib", "everything as BibTeX (the default)"),
        ("irarchive export -o refs.ris --since 2022", "RIS, chosen by the file's ending"),
        ('irarchive export -q "central asia" -f csl-json', "CSL-JSON for Zotero"),
        ("irarchive export -f csv -o all.csv", "every field, for a spreadsheet"),
    ],
    "serve": [
        ("irarchive serve --open", "search in the web browser"),
        ("irarchive serve --port 9000 --title 'Our archive'", "another port and title"),
    ],
    "edit": [
        ('irarchive edit 141e649d -s title="The Sixth CICA Summit"', "fix a title"),
        ('irarchive edit 141e649d -s date=2022-11-02 -s "authors=Jane Doe"', "two fields"),
        ("irarchive edit 141e649d --reset all", "the source's values again"),
        ("irarchive edit 141e649d", "what is edited"),
    ],
    "rm": [
        ("irarchive rm 141e649d", "asks first, on a terminal"),
        ("irarchive rm 141e649d a510295c --dry-run", "what would go, with annotations"),
        ("irarchive search spam | cut -f1 | xargs irarchive rm --yes", "in a script"),
    ],
    "undo": [
        ("irarchive undo", "bring back what the last edit, rm or merge changed"),
        ("irarchive undo --list", "what can be undone, newest first"),
    ],
    "tag": [
        ("irarchive tag 141e649d +energy +to-read", "add two tags"),
        ("irarchive tag 141e649d -to-read", "remove one (irarchive undo puts it back)"),
        ("irarchive search gas | cut -f1 | xargs irarchive tag +energy", "tag search results"),
    ],
    "tags": [
        ("irarchive tags", "every tag with its count"),
        ("irarchive list --tag energy --tag -read", "articles tagged energy, not read"),
    ],
    "note": [
        ('irarchive note 141e649d -m "Compare with the 2019 summit."', "add a dated note"),
        ("irarchive note 141e649d", "write it in $VISUAL or $EDITOR"),
        ("irarchive note 141e649d --list", "its notes, oldest first"),
        ("irarchive search --in notes summit", "search your notes"),
    ],
    "lists add": [
        ("irarchive lists add thesis 141e649d a510295c", "start or extend a reading list"),
        ("irarchive search cica -n 3 | cut -f1 | xargs irarchive lists add thesis", "results"),
    ],
    "lists show": [
        ("irarchive lists show thesis", "its articles in list order"),
        ("irarchive lists show thesis --json", "as JSON"),
    ],
    "lists export": [
        ("irarchive lists export thesis -o thesis.bib", "cite it, in list order"),
        ("irarchive lists export thesis -f markdown", "a Markdown reading list"),
    ],
    "lists remove": [
        ("irarchive lists remove thesis 141e649d", "take one article off"),
        ("irarchive lists remove thesis --yes", "the whole list (the articles stay)"),
    ],
    "db path": [
        ("irarchive db path", "where the archive is"),
        ("irarchive --db news.db db path", "with --db"),
    ],
    "db init": [
        ("irarchive db init", "create it with the bundled articles"),
        ("irarchive db init --empty --db news.db", "an empty one elsewhere"),
    ],
    "db info": [
        ("irarchive db info", "counts, dates, categories"),
        ("irarchive db info --json", "the same as JSON"),
    ],
    "db check": [
        ("irarchive db check", "integrity and search index"),
        ("irarchive db check && echo healthy", "in a script: exit 1 on a problem"),
        ("irarchive db check --repair", "rebuild the search index, slugs, vocabulary"),
    ],
}


def examples(command: str) -> str:
    """The ``Examples:`` epilog of a command's --help, in gh style (kept as written)."""
    rows = EXAMPLES[command]
    width = max(len(c) for c, _ in rows)
    lines = [f"  $ {c.ljust(width)}   # {what}" for c, what in rows]
    return "\b\nExamples:\n" + "\n".join(lines)


OVERVIEW = """Usage: irarchive [OPTIONS] COMMAND [ARGS]...

  Browse, search and cite an archive of dated articles.

Most used:
  irarchive list --since 2022-03          articles from March 2022 on, newest first
  irarchive search "central asia energy"  find articles; typos are fine
  irarchive show 141e649d                 one article in full (id prefix, slug or title)
  irarchive browse                        search as you type, interactively
  irarchive export -o refs.bib            cite them as BibTeX
  irarchive import articles.jsonl         add articles from a file (or a feed URL)
  irarchive update                        fetch what the followed sources published

Commands: {commands}
Run 'irarchive COMMAND --help' for its options and examples, 'irarchive --help' for all.
"""


def overview() -> str:
    """The short overview ``irarchive`` alone prints; the command list comes from the app."""
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    names += [g.name for g in app.registered_groups if g.name]
    return OVERVIEW.format(commands=", ".join(names))


class Command(typer.core.TyperCommand):
    """A command whose usage line reads ``search [OPTIONS] QUERY``, not ``{QUERY}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [
            p[1:-1] if p.startswith("{") and p.endswith("}") else p
            for p in super().collect_usage_pieces(ctx)
        ]


def _choices(name: str, values: Iterable[str]) -> Any:
    """A typer choice type over names from the registry (typer shows and checks them)."""
    return Enum(name, {v: v for v in values}, type=str)


# Derived from the format registry: a format added there reaches every command.
Fmt = _choices("Fmt", (f.name for f in formats.outputs_for(formats.LIST)))
ExportFmt = _choices("ExportFmt", (f.name for f in formats.outputs_for(formats.EXPORT)))
InFmt = _choices("InFmt", (f.name for f in formats.INPUTS))
StatsBy = _choices("StatsBy", formats.STATS_BY)


class Sort(str, Enum):
    date = "date"
    title = "title"


class SearchIn(str, Enum):
    all = "all"
    notes = "notes"


class SearchSort(str, Enum):
    score = "score"
    date = "date"


class DateOrder(str, Enum):
    dmy = "dmy"
    mdy = "mdy"


# ---- settings and helpers ------------------------------------------------------------


class State:
    """Global options, kept on the click context."""

    def __init__(self, db: str | None, no_seed: bool, pager: bool = True) -> None:
        self.db = db
        self.no_seed = no_seed
        self.pager = pager
        self._archive: Archive | None = None

    def path(self) -> str:
        return self.db or default_db_path()

    def close(self) -> None:
        """Close the archive if a command opened it (registered to run when it ends)."""
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def archive(self) -> "Archive":
        """The archive, opened (created and seeded if missing) on first use."""
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


def _load_seed(archive: "Archive") -> None:
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
    root = ctx.find_root()
    if root.obj is None:
        root.obj = State(None, False)
        root.call_on_close(root.obj.close)
    return root.obj


def choose_format(fmt: Enum | None, json_: bool, command: str) -> "OutputFormat | None":
    """The format asked for with --format or --json; None when neither was given."""
    if json_:
        if fmt is not None and fmt.value != formats.JSON_SHORTCUT.name:
            raise UsageError("--json and --format disagree; give one of them")
        return formats.JSON_SHORTCUT
    return formats.output(fmt.value, command) if fmt is not None else None


def shown_format(fmt: "OutputFormat | None") -> "OutputFormat":
    """The format written: as chosen, else a table on a terminal and lines on a pipe."""
    if fmt is not None:
        return fmt
    return formats.TERMINAL_DEFAULT if stdout_is_terminal() else formats.PIPE_DEFAULT


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
    since: str | None,
    until: str | None,
    on: str | None,
    undated: bool,
    category: list[str] | None,
    tag: list[str] | None = None,
) -> "tuple[Filters, Period | None]":
    from irarchive.dates import resolve_filters
    from irarchive.store import Filters

    period = resolve_filters(since, until, on, today=today())
    if undated and period is not None:
        raise UsageError("--undated cannot be combined with date filters")
    cats = tuple(c.strip() for c in category or () if c.strip())
    tags: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    if tag:
        from irarchive.store.annotations import tag_filter

        tags, without = tag_filter(tag)
    return (
        Filters(period=period, undated=undated, categories=cats, tags=tags, without_tags=without),
        period,
    )


def nothing_matches(archive: "Archive", sel: "Selection") -> str:
    """Why a filter found nothing: the dates asked for against those the archive holds."""
    period, since = sel.period, sel.since
    if period is None:
        return "no articles match"
    info = archive.info()
    first, last = info["first_date"], info["last_date"]
    asked = f"--since {since} ({period.start})" if since else f"{period.start}"
    if last is None:
        return "no articles match: no article in the archive has a date"
    if period.start.isoformat() > last:
        return f"no articles match: the newest article is dated {last}, before {asked}"
    if period.end.isoformat() < first:
        return f"no articles match: the oldest article is dated {first}, after {period.end}"
    return f"no articles match within {period.describe()}"


def print_renderable(renderable: Any) -> None:
    """Print to stdout; on a terminal, output taller than the screen goes to the pager."""
    from irarchive.output import console

    con = console(sys.stdout)
    ctx = click_context()
    if not (stdout_is_terminal() and con.is_terminal) or (ctx is not None and not state(ctx).pager):
        con.print(renderable, crop=False)  # a long url line wraps in the terminal
        return
    with con.capture() as captured:
        con.print(renderable, crop=False)  # a long url line wraps in the terminal
    text = captured.get()
    if text.count("\n") < con.height or not page(text):
        sys.stdout.write(text)


def click_context() -> "typer.Context | None":
    from typer._click.globals import get_current_context

    return get_current_context(silent=True)


def pager_command() -> str:
    """The pager, as git and gh choose it: $IRARCHIVE_PAGER, else $PAGER, else less -FRX."""
    for name in ("IRARCHIVE_PAGER", "PAGER"):
        value = os.environ.get(name)
        if value is not None:
            return value.strip()
    return "less -FRX"


def page(text: str) -> bool:
    """Show ``text`` through the pager; False when there is none (``cat``, empty, missing)."""
    import shutil
    import subprocess

    command = pager_command()
    first = command.split()[0] if command else ""
    if command in ("", "cat") or ("=" not in first and not shutil.which(first)):
        return False  # no pager here: print as it is
    env = {**os.environ}
    env.setdefault("LESS", "FRX")  # like git: quit if one screen, keep colours, no clear
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    try:
        # A shell runs it, as git does: $PAGER may carry options ("less -S").
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert proc.stdin is not None
    try:
        proc.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the reader quit the pager before reading everything
    while True:
        try:
            proc.wait()
            break
        except KeyboardInterrupt:
            continue  # Ctrl-C belongs to the pager (less uses it to stop a search)
    if proc.returncode == 127:  # the shell found no such command
        return False
    return True


def emit(
    records: Iterable[dict[str, Any]],
    fmt: "OutputFormat | None",
    fields: list[str] | None,
    view: "View",
    *,
    highlight: dict[str, list[str]] | None = None,
    single: bool = False,
    empty: str | None = None,
) -> int:
    """Write records as ``view`` presents them in ``fmt`` (None: the default); returns how many.

    The one place output is dispatched: the terminal table is drawn here with rich,
    every other format is written by ``output.write`` through the format registry.
    ``empty``: what to say on stderr when a terminal table would have no rows (a
    machine format says "nothing" by its own empty output).
    """
    from irarchive import output

    if fmt is None and fields is None and view.text is not None and not stdout_is_terminal():
        shown = list(records)
        sys.stdout.write(view.text(shown))
        return len(shown)
    explicit = fmt is not None
    fmt = shown_format(fmt)
    if fmt.terminal:
        shown = list(records)
        if not shown:
            if empty is not None:
                err(empty)
            return 0
        print_renderable(view.render(shown, fields, highlight=highlight))
        return len(shown)
    columns = view.fields_for(fmt, fields, explicit=explicit)
    n = output.write(fmt, records, sys.stdout, fields=columns, single=single)
    sys.stdout.flush()
    return n


# ---- completion (runs on every TAB: stdlib and store only, never rich or rapidfuzz) ----


def _completion_archive(ctx: typer.Context) -> "Archive | None":
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


def _complete(ctx: typer.Context, incomplete: str, lookup: str) -> list[str]:
    """Candidates from the archive's ``lookup`` method, quoted for the shell."""
    import sqlite3

    archive = _completion_archive(ctx)
    if archive is None:
        return []
    try:
        return _for_shell(incomplete, getattr(archive, lookup)(incomplete))
    except sqlite3.Error:
        return []
    finally:
        archive.close()


def complete_ref(ctx: typer.Context, incomplete: str) -> list[str]:
    """Slugs and ids starting with what has been typed."""
    return _complete(ctx, incomplete, "ref_completions")


def complete_category(ctx: typer.Context, incomplete: str) -> list[str]:
    """The archive's categories starting with what has been typed (any case)."""
    return _complete(ctx, incomplete, "category_completions")


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
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="TAG",
        help="Only articles with this tag (case-insensitive; repeat: all must match); "
        "--tag -TAG (or --tag=-TAG) leaves out articles with it.",
        autocompletion=lambda ctx, incomplete: _complete(ctx, incomplete, "tag_completions"),
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
UndatedOpt = Annotated[bool, typer.Option("--undated", help="Only articles with no date.")]
SortOpt = Annotated[Sort, typer.Option("--sort", help="Order by date (newest first) or title.")]
ReverseOpt = Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")]


# ---- options shared by commands that read or change the archive --------------------------

DateOrderOpt = Annotated[
    DateOrder | None,
    typer.Option(
        "--date-order", help="Read numeric dates like 01/02/2022 as day/month or month/day."
    ),
]
YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask (needed off a terminal, as in a script).")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
]


# ---- option groups: options that always go together, read in one place ------------------


def _option_group(
    name: str, options: dict[str, tuple[Any, Any]], read: Callable[..., Any]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Put ``options`` (name: (annotation, default)) where the command has the keyword-only
    parameter ``name``, and call the command with ``read(**their values)`` as ``name``.

    Typer reads a command's options from its signature, so the group's options appear
    in every command's --help, in that place, while each command receives one value.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)
        params: list[inspect.Parameter] = []
        for p in signature.parameters.values():
            if p.name != name:
                params.append(p)
                continue
            params += [
                inspect.Parameter(n, p.kind, default=default, annotation=annotation)
                for n, (annotation, default) in options.items()
            ]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = read(**{n: kwargs.pop(n) for n in options})
            return func(*args, **kwargs)

        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params} | {
            "return": signature.return_annotation
        }
        return command

    return decorate


@dataclass(frozen=True)
class Selection:
    """What the filter options chose: the store's filters, their period, the dates as typed."""

    filters: "Filters"
    period: "Period | None"
    since: str | None
    until: str | None
    on: str | None


def filter_options(*, undated: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--since, --until, --on (, --undated), --category and --tag, as ``sel: Selection``."""

    def read(
        since: str | None,
        until: str | None,
        on: str | None,
        category: list[str] | None,
        tag: list[str] | None,
        undated: bool = False,
    ) -> Selection:
        filters, period = make_filters(since, until, on, undated, category, tag)
        return Selection(filters, period, since, until, on)

    options: dict[str, tuple[Any, Any]] = {
        "since": (SinceOpt, None),
        "until": (UntilOpt, None),
        "on": (OnOpt, None),
    }
    if undated:
        options["undated"] = (UndatedOpt, False)
    options |= {"category": (CategoryOpt, None), "tag": (TagOpt, None)}
    return _option_group("sel", options, read)


@dataclass(frozen=True)
class OutputChoice:
    """What --format, --json (and --fields) chose: None is the default for where stdout goes."""

    format: "OutputFormat | None"
    fields: list[str] | None = None


def output_options(
    command: str, view: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--format and --json for ``command`` (and --fields of ``output.<view>``), as ``out``."""

    def read(fmt: Enum | None, json_: bool, fields: str | None = None) -> OutputChoice:
        chosen = choose_format(fmt, json_, command)
        if view is None:
            return OutputChoice(chosen)
        from irarchive import output

        return OutputChoice(chosen, output.parse_fields(fields, getattr(output, view).fields))

    options: dict[str, tuple[Any, Any]] = {"fmt": (FormatOpt, None), "json_": (JsonOpt, False)}
    if view is not None:
        options["fields"] = (FieldsOpt, None)
    return _option_group("out", options, read)


def refs_arg(help: str) -> Any:
    """A ``REF...`` argument (one or more articles, completed from the archive)."""
    return Annotated[
        list[str], typer.Argument(metavar="REF...", help=help, autocompletion=complete_ref)
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
    no_pager: Annotated[
        bool,
        typer.Option(
            "--no-pager",
            help="Print long output straight to the terminal [default pager: "
            "$IRARCHIVE_PAGER, else $PAGER, else 'less -FRX'].",
        ),
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
        raise UsageError("the archive path is empty; give a path or unset IRARCHIVE_DB")
    ctx.obj = State(db, no_seed, pager=not no_pager)
    ctx.call_on_close(ctx.obj.close)


# ---- list -------------------------------------------------------------------------------


#: One article, as ``related`` and ``note`` take it.
RefArg = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        help="Article id, slug, unique id prefix, or title.",
        autocompletion=complete_ref,
    ),
]


@app.command("list", cls=Command, epilog=examples("list"))
@output_options(formats.LIST, "ARTICLES")
@filter_options(undated=True)
def list_cmd(
    ctx: typer.Context,
    *,
    sel: Selection,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            metavar="N",
            help="At most N articles; 0 = all. Default: 20 in a terminal table, all otherwise.",
        ),
    ] = None,
    sort: SortOpt = Sort.date,
    reverse: ReverseOpt = False,
    out: OutputChoice,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say on stderr how dates were read.")
    ] = False,
) -> None:
    """List articles, newest first, optionally within dates or categories."""
    from irarchive import output

    if verbose:
        err(
            "dates: "
            + (sel.period.describe() if sel.period else "no date filter")
            + (" (undated only)" if sel.filters.undated else "")
        )
    archive = state(ctx).archive()
    effective = limit if limit not in (None, 0) else None
    table = shown_format(out.format).terminal
    default_cut = limit is None and table
    if default_cut:
        effective = 20
    rows = archive.list_articles(sel.filters, sort=sort.value, reverse=reverse, limit=effective)
    shown = emit(rows, out.format, out.fields, output.ARTICLES)
    if table:
        if shown == 0:
            err(nothing_matches(archive, sel))
        elif default_cut and shown == 20:
            total = archive.count_articles(sel.filters)
            if total > shown:
                err(f"showing {shown} of {total} (use --limit 0 for all)")


# ---- show -------------------------------------------------------------------------------


@app.command("show", cls=Command, epilog=examples("show"))
@output_options(formats.SHOW, "CARDS")
def show_cmd(
    ctx: typer.Context,
    refs: refs_arg("Article id, slug, unique id prefix, or title (exact, then fuzzy)."),
    *,
    out: OutputChoice,
) -> None:
    """Show articles in full: title, date, category, url, source and excerpt."""
    from irarchive import output
    from irarchive.store.annotations import with_notes

    archive = state(ctx).archive()
    articles = list(with_notes(archive.conn, _resolve_all(archive, refs)))
    # One REF prints one JSON object, several an array.
    emit(articles, out.format, out.fields, output.CARDS, single=len(refs) == 1)


# ---- search -----------------------------------------------------------------------------


@app.command("search", cls=Command, epilog=examples("search"))
@output_options(formats.SEARCH, "SEARCH_RESULTS")
@filter_options()
def search_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            metavar="QUERY",
            help='Words to find; typos are fine. "a phrase" keeps words together, -word excludes.',
        ),
    ],
    *,
    sel: Selection,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            metavar="N",
            help="At most N results; 0 = all that pass --min-score.",
        ),
    ] = 20,
    title_only: Annotated[
        bool, typer.Option("--title-only", "-t", help="Match titles only.")
    ] = False,
    scope: Annotated[
        SearchIn,
        typer.Option(
            "--in",
            help="Where to look: all (titles, excerpts, and your notes at a lower weight) "
            "or notes (only your notes).",
        ),
    ] = SearchIn.all,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score",
            min=0,
            max=100,
            callback=lambda v: _finite(v, "--min-score"),
            metavar="SCORE",
            help="Hide results scoring below this (0-100).",
        ),
    ] = 40.0,
    explain: Annotated[
        bool, typer.Option("--explain", help="Say on stderr why each result matched.")
    ] = False,
    sort: Annotated[
        SearchSort,
        typer.Option("--sort", help="Order by score (best first) or date (newest first)."),
    ] = SearchSort.score,
    reverse: ReverseOpt = False,
    out: OutputChoice,
) -> None:
    """Search titles and excerpts, forgiving typos, accents and acronyms."""
    from irarchive import output
    from irarchive.search import ALL_CANDIDATES, count, search

    if title_only and scope is SearchIn.notes:
        raise UsageError("--title-only and --in notes exclude each other; give one")
    archive = state(ctx).archive()
    result = search(
        archive,
        query,
        filters=sel.filters,
        limit=limit or None,
        min_score=min_score,
        title_only=title_only,
        sort=sort.value,
        reverse=reverse,
        scope=scope.value,
    )
    records = [h.to_dict(i) for i, h in enumerate(result.hits, start=1)]
    highlight = {
        h.article["id"]: h.matched["title"] + [t.word for t in result.query.terms]
        for h in result.hits
    }
    emit(records, out.format, out.fields, output.SEARCH_RESULTS, highlight=highlight)
    if explain:
        for i, h in enumerate(result.hits, start=1):
            err(f"{i}. {output.cell(h.article['title'])} [{h.score:.1f}]: " + "; ".join(h.why))
    if not records and shown_format(out.format).terminal:
        hint = f"; did you mean: {' '.join(result.suggestions)}" if result.suggestions else ""
        err(nothing_matches(archive, sel) + hint)
    elif scope is SearchIn.notes:
        pass  # the count below is of titles and excerpts
    elif limit == 0 or (shown_format(out.format).terminal and len(records) == limit):
        # How many more there are: a cheap count of the articles with every word.
        total = count(archive, query, filters=sel.filters, title_only=title_only)
        if total > len(records):
            if limit:
                err(f"showing {len(records)} of about {total} (use --limit 0 for all)")
            else:
                err(
                    f"{total - len(records)} more articles have these words but are not "
                    f"shown: they score below --min-score or rank below the first "
                    f"{ALL_CANDIDATES} candidates; narrow the query or the dates"
                )


# ---- import -----------------------------------------------------------------------------


@app.command("import", cls=Command, epilog=examples("import"))
def import_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE|URL...",
            help="Files to read ("
            + ", ".join(f.name for f in formats.INPUTS)
            + "; see --format); - reads stdin. A URL is fetched once: "
            "a feed, a page naming its feed, or a WordPress page (its /feed/).",
        ),
    ],
    in_fmt: Annotated[
        InFmt | None,
        typer.Option(
            "--format",
            "-f",
            help=formats.describe(formats.INPUTS)
            + ". Default: from the file's ending ("
            + formats.suffix_help(formats.INPUTS)
            + "), else from its content.",
            case_sensitive=False,
        ),
    ] = None,
    date_order: DateOrderOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Any rejected record aborts its file.")
    ] = False,
    dry_run: DryRunOpt = False,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the summary, every rejection included, as JSON.")
    ] = False,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="SRC=FIELD",
            help="Read the input field SRC as FIELD (title, excerpt, url, date, category, "
            "source_id); repeat for several, e.g. --map category_guess=category.",
        ),
    ] = None,
) -> None:
    """Import articles from files or URLs; each is all-or-nothing, re-importing changes nothing."""
    from irarchive import ingest, output, sources
    from irarchive.errors import ImportFailed, UsageError
    from irarchive.sources import remote
    from irarchive.store import combine

    rename = parse_map(map_ or [], tuple(sources.ALIASES))

    if files.count("-") > 1:  # the second read would find stdin used up (and closed)
        raise UsageError("- (standard input) can be given only once")
    archive = state(ctx).archive()
    results = []
    failed = 0
    order = date_order.value if date_order else None
    for path in files:
        if (
            remote.is_url(path)
            or (in_fmt is not None and formats.input_format(in_fmt.value).document)
            or (in_fmt is None and remote.looks_like_feed_file(path))
        ):
            ok = _import_feed(archive, path, order, dry_run, strict, results)
            failed += not ok
            continue
        if in_fmt is None and combine.is_archive_file(path):
            ok = _import_archive(archive, path, dry_run, results)
            failed += not ok
            continue
        opened = _open_input(path)
        progress, done = _progress(path, opened)
        try:
            items = ingest.read_prepared(
                path,
                fmt=in_fmt.value if in_fmt else None,
                date_order=date_order.value if date_order else None,
                stdin=sys.stdin.buffer if path == "-" else None,
                rename=rename or None,
                opened=opened,
            )
            report = archive.import_items(items, dry_run=dry_run, strict=strict, progress=progress)
        except ImportFailed as exc:
            done()
            failed += 1
            err(f"Error: {exc}")
            results.append({"file": sources.display_name(path), "error": str(exc)})
            continue
        except BaseException:
            done()  # Ctrl-C: the progress line is cleared before "Interrupted" is printed
            raise
        finally:
            if opened is not None:
                opened.close()
        done()
        name = sources.display_name(path)
        results.append({"file": name, **report.to_dict()})
        _say_imported(name, report, dry_run)
    if json_:
        sys.stdout.write(output.dumps({"dry_run": dry_run, "files": results}, indent=2) + "\n")
    if failed:
        raise typer.Exit(1)


def _import_archive(archive: "Archive", path: str, dry_run: bool, results: list) -> bool:
    """``import OTHER.db``: another archive's articles and annotations, in one transaction."""
    from irarchive.errors import ImportFailed
    from irarchive.store import combine

    try:
        report = combine.import_archive(archive, path, dry_run=dry_run)
    except ImportFailed as exc:
        err(f"Error: {exc}")
        results.append({"file": path, "error": str(exc)})
        return False
    results.append({"file": path, **report.to_dict()})
    _say_imported(path, report.articles, dry_run)
    counts = [
        (report.tags, "tag"),
        (report.notes, "note"),
        (report.lists, "list"),
        (report.list_items, "list item"),
        (report.aliases, "alias"),
        (report.edits, "edit"),
    ]
    said = ", ".join(
        f"{n:,} {word}{'' if n == 1 else ('es' if word == 'alias' else 's')}" for n, word in counts
    )
    err(f"  {'would add' if dry_run else 'added'} {said}")
    return True


def _say_imported(label: str, report: Any, dry_run: bool) -> None:
    """One import's summary on stderr: counts, then the first 20 rejections."""
    added, updated = ("would add", "would update") if dry_run else ("added", "updated")
    err(
        f"{label}: {report.added:,} {added}, {report.updated:,} {updated}, "
        f"{report.unchanged:,} unchanged, {report.rejected_count:,} rejected"
    )
    for line in report.rejected[:20]:
        err(f"  rejected {line}")
    if report.rejected_count > 20:
        kept = len(report.rejected)
        err(
            f"  … and {report.rejected_count - 20:,} more (use --json to see "
            + ("all)" if kept == report.rejected_count else f"the first {kept})")
        )


def _import_feed(
    archive: Any, target: str, date_order: str | None, dry_run: bool, strict: bool, results: list
) -> bool:
    """``import URL`` or ``import feed.xml``: one line on stderr; False if it failed."""
    from irarchive.errors import ImportFailed
    from irarchive.sources import remote
    from irarchive.sources.feeds import NotAFeed
    from irarchive.sources.http import FetchFailed

    try:
        if remote.is_url(target):
            with _spinner(f"fetching {target}"):
                outcome = remote.import_url(
                    archive, target, date_order=date_order, dry_run=dry_run, strict=strict
                )
        else:
            stdin = sys.stdin.buffer if target == "-" else None
            outcome = remote.import_file(
                archive, target, date_order=date_order, dry_run=dry_run, strict=strict, stdin=stdin
            )
    except (FetchFailed, NotAFeed, ImportFailed) as exc:
        err(f"Error: {exc}")
        results.append({"file": target, "error": str(exc)})
        return False
    report = outcome.report
    results.append({"file": target, "feed_url": outcome.feed_url, **report.to_dict()})
    via = f" (feed {outcome.feed_url})" if outcome.feed_url not in (None, target) else ""
    _say_imported(f"{target}{via}", report, dry_run)
    return True


class _spinner:
    """A transient spinner on stderr while the network is waited for; nothing on a pipe."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.status: Any = None

    def __enter__(self) -> "_spinner":
        if sys.stderr.isatty():
            from irarchive import output

            self.status = output.console(sys.stderr).status(output.cell(self.text))
            self.status.start()
        return self

    def update(self, text: str) -> None:
        if self.status is not None:
            from irarchive import output

            self.status.update(output.cell(text))

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


def parse_map(specs: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """``--map SRC=FIELD`` options as {src: field}, checked."""
    rename: dict[str, str] = {}
    for spec in specs:
        src, sep, field = spec.partition("=")
        src, field = src.strip(), field.strip().lower()
        if not sep or not src or field not in fields:
            raise UsageError(
                f"--map {spec!r}: expected SRC=FIELD with FIELD one of: {', '.join(fields)}"
            )
        if src.lower() in {s.lower() for s in rename}:
            raise UsageError(f"--map {spec!r}: {src} is mapped twice")
        rename[src] = field
    return rename


def _open_input(path: str) -> "Any":
    """A regular file opened for the import, so its progress can be followed; else None."""
    if path == "-" or not os.path.isfile(path):
        return None  # stdin, or an error the reader reports in its own words
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by import_cmd
    except OSError:
        return None


def _progress(path: str, opened: Any = None) -> tuple[Any, Any]:
    """A progress bar on stderr for big files on a terminal; no-ops otherwise.

    With the file's size known it shows the bytes read as a percentage and the time
    left; records are counted the way the summary counts them (1,234).
    """
    size = os.fstat(opened.fileno()).st_size if opened is not None else 0
    if not sys.stderr.isatty() or size < 5_000_000:
        return None, lambda: None
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from irarchive import output

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[records]:,} records"),
        TimeRemainingColumn(),
        console=output.console(sys.stderr),
        transient=True,
    )
    task = bar.add_task(f"importing {os.path.basename(path)}", total=size, records=0)
    fd = opened.fileno()

    def update(n: int) -> None:
        try:
            read = os.lseek(fd, 0, os.SEEK_CUR)  # shared with a reader process, if any
        except OSError:
            read = 0
        bar.update(task, completed=min(read, size), records=n)

    try:
        bar.start()
    except BaseException:  # Ctrl-C while the first frame is drawn: clear it still
        bar.stop()
        raise
    return update, bar.stop


# ---- sources and update ------------------------------------------------------------------

SOURCE_TABLE_FIELDS = ("name", "url", "type", "checked", "new item", "items", "last error")


def _utc_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A feed URL, or a page naming its feed.")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Short name for update/remove (default: from the feed)."),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            "-c",
            help="File this source's articles under CATEGORY (their own stay in extra).",
        ),
    ] = None,
    no_check: Annotated[
        bool,
        typer.Option("--no-check", help="Do not fetch the URL now to check that it is a feed."),
    ] = False,
) -> None:
    """Follow a feed or site; 'irarchive update' then imports its new items."""
    from irarchive.sources import http, remote
    from irarchive.store import sources as stored

    url = http.check_url(url)
    archive = state(ctx).archive()
    archive._require_writable()
    feed = feed_url = None
    if not no_check:
        with _spinner(f"checking {url}"):
            response, feed_url = remote.locate_feed(url)
            feed = remote._parse(response, feed_url)
    chosen = name or _default_source_name(archive, url, feed.title if feed else None)
    stored.add_source(archive, name=chosen, url=url, category=category, now=_utc_now())
    if feed is not None:
        stored.record_check(
            archive,
            chosen,
            now=_utc_now(),
            feed_url=feed_url,
            feed_type=feed.kind,
            title=feed.title,
        )
        where = f" (feed {feed_url})" if feed_url != url else ""
        count = len(feed.records)
        err(
            f"following {chosen!r}: {url}{where}, {feed.kind}, {count} item"
            f"{'' if count == 1 else 's'} now; import them with: irarchive update {chosen}"
        )
    else:
        err(f"following {chosen!r}: {url}; import its items with: irarchive update {chosen}")


def _default_source_name(archive: Any, url: str, title: str | None) -> str:
    from urllib.parse import urlsplit

    from irarchive.model import base_slug
    from irarchive.store import sources as stored

    base = base_slug(title) if title else ""
    if not base or base == "article":
        base = (urlsplit(url).hostname or "source").removeprefix("www.")
    taken = {s.name for s in stored.list_sources(archive)}
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


@sources_app.command("list")
@output_options(formats.SOURCES)
def sources_list(ctx: typer.Context, *, out: OutputChoice) -> None:
    """Followed sources: url, feed type, last check, last new item, items, last error."""
    from irarchive import output
    from irarchive.store import sources as stored

    out_fmt = out.format
    found = stored.list_sources(state(ctx).archive())
    raw_fields = (*stored.SOURCE_FIELDS, "items")
    if out_fmt is not None and out_fmt.default_fields != formats.COLUMNS:
        # The data formats (json, jsonl, csv, tsv) carry every stored field, exactly.
        emit([s.to_dict() for s in found], out_fmt, None, output.View(raw_fields, raw_fields))
        return
    table = shown_format(out_fmt).terminal

    def when(stamp: str | None) -> str:
        # A table shows minutes in UTC; text formats keep the exact ISO stamp.
        return (stamp[:16].replace("T", " ") if table else stamp) if stamp else ""

    rows = [
        {
            "name": s.name,
            # The feed actually fetched (a page's feed is found once, then kept).
            "url": (s.feed_url or s.url) if table else s.url,
            "type": s.feed_type or "",
            "checked": when(s.checked_at) or "never",
            "new item": when(s.new_item_at),
            "items": s.items,
            "last error": s.last_error or "",
        }
        for s in found
    ]
    if not rows:
        if table:
            err("no sources followed; add one with: irarchive sources add URL")
        return
    emit(rows, out_fmt, None, output.View(SOURCE_TABLE_FIELDS, SOURCE_TABLE_FIELDS))


@sources_app.command("remove")
def sources_remove(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(metavar="NAME...", help="Source names.")],
) -> None:
    """Stop following sources; the articles they brought stay in the archive."""
    from irarchive.store import sources as stored

    archive = state(ctx).archive()
    for name in names:
        stored.get_source(archive, name)  # all names checked before any is removed
    for name in names:
        removed = stored.remove_source(archive, name)
        err(f"stopped following {removed.name!r} ({removed.url}); its articles stay")


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="[NAME...]", help="Sources to update (default: all of them)."),
    ] = None,
    backfill: Annotated[
        bool,
        typer.Option(
            "--backfill",
            help="Also walk older feed pages (?paged=N, Atom rel=next) until nothing is new.",
        ),
    ] = False,
    max_pages: Annotated[
        int,
        typer.Option("--max-pages", min=1, metavar="N", help="With --backfill: at most N pages."),
    ] = 10,
    date_order: DateOrderOpt = None,
    json_: Annotated[
        bool,
        typer.Option("--json", help="Print every source's outcome as JSON on stdout, for scripts."),
    ] = False,
) -> None:
    """Fetch every followed source (or the NAMEs) and import what is new."""
    from irarchive import output
    from irarchive.sources import http, remote
    from irarchive.store import sources as stored

    archive = state(ctx).archive()
    archive._require_writable()
    chosen = [stored.get_source(archive, n) for n in dict.fromkeys(names or [])]
    if not names:
        chosen = stored.list_sources(archive)
        if not chosen:
            err("no sources followed; add one with: irarchive sources add URL")
            return
    outcomes = []
    # The sources and pages share their connections to a server (keep-alive).
    with _spinner("") as spin, http.keep_alive():
        for i, source in enumerate(chosen, start=1):
            spin.update(f"[{i}/{len(chosen)}] {source.name}: {source.feed_url or source.url}")
            outcome = remote.update_source(
                archive,
                source,
                backfill=backfill,
                max_pages=max_pages,
                date_order=date_order.value if date_order else None,
                now=_utc_now(),
            )
            outcomes.append(outcome)
            if not json_:
                err(_outcome_line(outcome))
    if json_:
        sys.stdout.write(
            output.dumps({"sources": [o.to_dict() for o in outcomes]}, indent=2) + "\n"
        )
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


def _outcome_line(o: Any) -> str:
    from irarchive.output import cell

    name = cell(o.name)
    if o.status == "failed":
        return f"{name}: failed: {cell(o.error)}"
    if o.status == "not modified":
        return f"{name}: unchanged (not modified since the last check)"
    r = o.report
    pages = f" from {o.pages} pages" if o.pages > 1 else ""
    line = (
        f"{name}: {o.status}: {r.added} added, {r.updated} updated, {r.unchanged} unchanged{pages}"
    )
    if r.rejected:
        line += f", {r.rejected_count} rejected\n" + "\n".join(
            f"  rejected {cell(x)}" for x in r.rejected[:20]
        )
    return line


# ---- db -----------------------------------------------------------------------------------


@db_app.command("path", cls=Command, epilog=examples("db path"))
def db_path(ctx: typer.Context) -> None:
    """Print where the archive is (from --db, IRARCHIVE_DB or the user data dir)."""
    print(state(ctx).path())


@db_app.command("init", cls=Command, epilog=examples("db init"))
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


@db_app.command("info", cls=Command, epilog=examples("db info"))
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
        (
            f"dates: {info['first_date']} .. {info['last_date']}"
            if info["first_date"]
            else "dates: none"
        )
        + (f" ({info['undated']} undated)" if info["undated"] else ""),
        f"schema version: {info['schema_version']}",
        f"size: {info['size_bytes']:,} bytes",
        "categories:",
    ]
    lines += [
        f"  {output.cell(c['category'] or '(none)')}: {c['count']}" for c in info["categories"]
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@db_app.command("check", cls=Command, epilog=examples("db check"))
def db_check(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rebuild what is derived from the articles (search index, vocabulary, "
            "slugs, notes index, acronyms, irarchive's indexes and triggers); articles "
            "and annotations are never touched.",
        ),
    ] = False,
) -> None:
    """Check integrity and that the search index matches the articles (exit 1 if not)."""
    from irarchive.store import editing

    archive = state(ctx).archive()
    problems = archive.check()
    if archive.index_error:
        # The queue of other tools' changes could not be replayed: the index is
        # damaged, whatever else the checks say about it.
        problems = [p for p in problems if not p.startswith("full-text index")]
        problems.insert(
            0,
            f"full-text index: damaged ({archive.index_error}); "
            "irarchive db check --repair rebuilds it",
        )
    if repair:
        from irarchive.store.repair import repair as rebuild

        editing.require_safe(archive, "nothing was repaired (drop them first)")
        for p in problems:
            err(f"problem: {p}")
        for line in rebuild(archive.conn):
            err(f"repaired: {line}")
        problems = archive.check()
    if problems:
        for p in problems:
            err(f"problem: {p}")
        if not repair and not any("--repair" in p for p in problems):
            err("(irarchive db check --repair rebuilds the search index, vocabulary and slugs)")
    orphaned = editing.orphans(archive.conn)
    if orphaned:
        err(
            "note: "
            + editing.annotation_words(orphaned)
            + " belong to articles that are no longer in the archive; they are kept, "
            "and importing those articles again (same ids) brings them back"
        )
    if problems:
        raise typer.Exit(1)
    print(f"ok: {archive.count()} articles, index consistent")


# ---- analyst commands -----------------------------------------------------------------


QueryOpt = Annotated[
    str | None,
    typer.Option(
        "--query",
        "-q",
        help="Only articles matching these words (as in 'search': typos, accents, "
        '"phrases" and -exclusions; every match counts, not just the best).',
    ),
]


@app.command("stats", cls=Command, epilog=examples("stats"))
@output_options(formats.STATS)
@filter_options()
def stats_cmd(
    ctx: typer.Context,
    by: Annotated[
        StatsBy, typer.Option("--by", help="Count per year, month or category.")
    ] = formats.STATS_BY[0],
    *,
    sel: Selection,
    query: QueryOpt = None,
    out: OutputChoice,
) -> None:
    """Count articles per year, month or category, with a bar chart and sparkline."""
    from irarchive import analysis, output

    archive = state(ctx).archive()
    result = analysis.stats(archive, sel.filters, by=by.value, query=query)
    shown = emit(result.rows, out.format, None, output.stats_view(result.key))
    if not shown and shown_format(out.format).terminal:
        err(nothing_matches(archive, sel))
    # Left out of the series, said on stderr so machine output stays a plain series.
    if result.undated:
        err(f"not counted: {result.undated} undated article{'s' if result.undated > 1 else ''}")
    if result.coarse:
        err(f"not counted: {result.coarse} dated only to the year (see --by year)")


@app.command("related", cls=Command, epilog=examples("related"))
@output_options(formats.RELATED, "RELATED")
def related_cmd(
    ctx: typer.Context,
    ref: RefArg,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=0, metavar="N", help="At most N articles; 0 = all candidates."
        ),
    ] = 10,
    *,
    out: OutputChoice,
) -> None:
    """Articles most like REF: the most distinctive words they share (score 0-100)."""
    from irarchive import analysis, output

    archive = state(ctx).archive()
    article = _resolve_all(archive, [ref])[0]
    found = analysis.related(archive, article, limit=limit)
    records = [r.to_dict(i) for i, r in enumerate(found, start=1)]
    if not shown_format(out.format).terminal:
        emit(records, out.format, out.fields, output.RELATED)
        return
    err(f"like: {output.cell(article['title'])} ({article['id']})")
    if records:
        emit(records, out.format, out.fields, output.RELATED)
    else:
        err("no related articles: it shares no distinctive words with any other")


# ---- export (and lists export) ----------------------------------------------------------

ExportFormatOpt = Annotated[
    ExportFmt | None,
    typer.Option(
        "--format",
        "-f",
        help=formats.describe(formats.outputs_for(formats.EXPORT))
        + ". Default: from the -o file's ending ("
        + formats.suffix_help(formats.outputs_for(formats.EXPORT))
        + "), else bibtex.",
        case_sensitive=False,
    ),
]
OutputFileOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write FILE (replaced only once complete) instead of standard output.",
    ),
]
PublisherOpt = Annotated[
    str | None,
    typer.Option(
        "--publisher",
        help="Publishing organisation for the citations (biblatex organization, RIS PB, "
        "CSL container-title).",
    ),
]


@app.command("export", cls=Command, epilog=examples("export"))
@filter_options(undated=True)
def export_cmd(
    ctx: typer.Context,
    fmt: ExportFormatOpt = None,
    output_path: OutputFileOpt = None,
    *,
    sel: Selection,
    query: QueryOpt = None,
    sort: SortOpt = Sort.date,
    reverse: ReverseOpt = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, metavar="N", help="At most N articles; 0 = all.")
    ] = 0,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="For "
            + ", ".join(f.name for f in formats.outputs_for(formats.EXPORT) if f.takes_fields)
            + ": comma-separated fields, in order.",
        ),
    ] = None,
    publisher: PublisherOpt = None,
) -> None:
    """Export articles as citations (BibTeX, RIS, CSL-JSON), a reading list, or data."""
    from irarchive import analysis, output

    chosen_fmt = export_format(fmt, output_path)
    chosen = output.parse_fields(fields, output.EXPORTED.fields)
    if chosen is not None and not chosen_fmt.takes_fields:
        takes = [f.name for f in formats.outputs_for(formats.EXPORT) if f.takes_fields]
        raise UsageError(f"--fields applies to {', '.join(takes)}, not {chosen_fmt.name}")
    archive = state(ctx).archive()
    _check_export_target(archive, output_path)  # before the query
    match = analysis.match_expression(archive, query) if query is not None else None
    records = archive.list_articles(
        sel.filters, match=match, sort=sort.value, reverse=reverse, limit=limit or None
    )
    _write_export(archive, records, chosen_fmt, output_path, chosen, publisher)


def _check_export_target(archive: "Archive", path: str | None) -> None:
    """Refuse an output file that cannot be written (or is the archive) before any work."""
    if path not in (None, "-"):
        from irarchive.safeio import archive_files, output_target

        output_target(path, protected=archive_files(archive.path))


def _write_export(
    archive: "Archive",
    records: Iterable[dict[str, Any]],
    fmt: "OutputFormat",
    path: str | None,
    fields: list[str] | None,
    publisher: str | None,
    *,
    of: str = "",
) -> None:
    """Write an export to stdout, or to ``path`` whole or not at all (saying so on stderr)."""
    from irarchive import output

    columns = output.EXPORTED.fields_for(fmt, fields)
    if fmt is formats.JSONL and columns is None:
        from irarchive.store.annotations import with_notes

        records = with_notes(archive.conn, records)  # the whole record: notes too
    if path in (None, "-"):
        output.write(fmt, records, sys.stdout, fields=columns, publisher=publisher)
        sys.stdout.flush()
        return
    from irarchive.safeio import archive_files, atomic_output

    with atomic_output(path, protected=archive_files(archive.path)) as out:
        n = output.write(fmt, records, out, fields=columns, publisher=publisher)
    err(f"exported {n} article{'' if n == 1 else 's'}{of} as {fmt.name} to {path}")


def export_format(fmt: Enum | None, path: str | None) -> "OutputFormat":
    """The export format: as given, else the one the output file's suffix names."""
    if fmt is not None:
        return formats.output(fmt.value, formats.EXPORT)
    if path in (None, "-"):
        return formats.output("bibtex", formats.EXPORT)  # the common case: citations
    found = formats.output_for_path(path, formats.EXPORT)
    if found is None:
        names = ", ".join(f.name for f in formats.outputs_for(formats.EXPORT))
        raise UsageError(f"choose an export format with --format ({names})")
    return found


@app.command("serve", cls=Command, epilog=examples("serve"))
def serve_cmd(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, metavar="PORT", help="Port.")
    ] = 8001,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps it to this computer."),
    ] = "127.0.0.1",
    open_: Annotated[
        bool, typer.Option("--open", help="Open the search page in a web browser.")
    ] = False,
    title: Annotated[
        str | None, typer.Option("--title", help="Site title (default: irarchive).")
    ] = None,
) -> None:
    """Search and browse the archive in a web browser, read-only, via Datasette (extra 'web')."""
    from irarchive import web

    web.require()
    archive = state(ctx).archive()
    path = archive.path
    archive.close()
    ds = web.make_datasette(path, title=title)
    url = web.url(host, port, web.search_path(web.database_name(path)))
    if host not in ("127.0.0.1", "localhost", "::1"):
        err(f"warning: listening on {host}: other computers can read the archive")
    err(f"Serving {path} read-only at {url} (Ctrl-C to stop)")
    if open_:
        import webbrowser

        webbrowser.open(url)
    web.serve(ds, host=host, port=port)


@app.command("browse")
@filter_options()
def browse_cmd(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(
            metavar="[QUERY]", help="Start with this search (default: the newest articles)."
        ),
    ] = None,
    *,
    sel: Selection,
    pick: Annotated[
        bool,
        typer.Option(
            "--pick",
            help="Choose an article for a script: Enter prints its id (exit 0), "
            "Esc or Ctrl-C prints nothing (exit 130). Draws on the terminal even when "
            "stdout is a pipe.",
        ),
    ] = False,
    json_: Annotated[
        bool,
        typer.Option(
            "--json", help="With --pick: print the chosen article as JSON (as show --json)."
        ),
    ] = False,
) -> None:
    """Browse interactively: search as you type, preview, open, copy, pick (keys: ? in the app)."""
    from irarchive import output

    if json_ and not pick:
        raise UsageError("--json applies to --pick; without it browse prints nothing")
    if not pick and not (_isatty(sys.stdin) and stdout_is_terminal()):
        _fail(
            "Error: browse needs a terminal; in scripts use 'irarchive search' or "
            "'irarchive list' (or 'irarchive browse --pick')",
            2,
        )
    # The date dialog's form of the same filter: SINCE..UNTIL (--on X is X..X).
    since, until, on = sel.since, sel.until, sel.on
    dates_text = (
        f"{on}..{on}" if on else (f"{since or ''}..{until or ''}" if since or until else "")
    )
    archive = state(ctx).archive()  # created, seeded or migrated here, as by every command
    from irarchive.tui import FRAMES_PER_SECOND

    # Textual reads its frame rate when first imported; a rate the person set wins.
    # Not left set: programs started from the browser (a web browser) do not need it.
    own_rate = "TEXTUAL_FPS" not in os.environ
    if own_rate:
        os.environ["TEXTUAL_FPS"] = str(FRAMES_PER_SECOND)
    try:
        from irarchive.tui.app import BrowseApp
    finally:
        if own_rate:
            os.environ.pop("TEXTUAL_FPS", None)
    from irarchive.tui.terminal import on_terminal

    app_ = BrowseApp(
        archive.path,
        query=query or "",
        filters=sel.filters,
        dates_text=dates_text,
        pick=pick,
        search_process=True,
        today=today(),
        light=_light_terminal(),
    )
    if pick:
        with on_terminal():
            chosen = app_.run()
    else:
        chosen = app_.run()
    if app_.return_code:
        raise SystemExit(app_.return_code)
    if not pick:
        return
    if chosen is None:
        raise SystemExit(130)
    if json_:
        # Exactly what ``show --json ID`` prints: one object.
        from irarchive.store.annotations import with_notes

        picked = list(with_notes(archive.conn, [archive.get(chosen["id"])]))
        emit(picked, formats.JSON_SHORTCUT, None, output.CARDS, single=True)
    else:
        sys.stdout.write(chosen["id"] + "\n")
    sys.stdout.flush()


# ---- curating: edit, rm, undo ---------------------------------------------------------------


def _confirm(question: str, yes: bool, refusal: str) -> None:
    """Ask ``question`` on a terminal; on a pipe (no one to ask) refuse unless --yes.

    The answer is read from stdin, so stdin must be a terminal; the question goes to
    stderr, so ``irarchive rm X | cat`` still asks.
    """
    if yes:
        return
    if not _isatty(sys.stdin):
        raise UsageError(refusal)
    from irarchive.output import cell

    if not typer.confirm(cell(question), default=False, err=True):
        _fail("Cancelled; nothing was changed", 1)


def _shown(value: Any, limit: int = 70) -> str:
    """A field's value in one line of a change report (data, never markup)."""
    from irarchive.model import authors_text
    from irarchive.output import cell

    if value is None or value == []:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = authors_text(value) if isinstance(value, list) else str(value)
    text = " ".join(cell(text).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _article_line(a: dict[str, Any]) -> str:
    from irarchive.output import cell

    return f"  {a['id']}  {a.get('date') or '----------':<10}  {cell(a['title'])[:100]}"


@app.command("edit", cls=Command, epilog=examples("edit"))
def edit_cmd(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help="Article id, slug (an old slug too), unique id prefix, or exact title.",
            autocompletion=complete_ref,
        ),
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            metavar="FIELD=VALUE",
            help="Change a field (title, authors, date, excerpt, truncated, category, url, "
            "doi), read as an import reads it; an empty VALUE clears it. Repeatable.",
        ),
    ] = None,
    reset: Annotated[
        list[str] | None,
        typer.Option(
            "--reset",
            metavar="FIELD",
            help="Put back the source's value of an edited field ('all' for every one).",
        ),
    ] = None,
    date_order: DateOrderOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Correct an article's fields; the id stays, re-imports keep the edit (--reset undoes it)."""
    from irarchive.store import editing

    archive = state(ctx).archive()
    sets = editing.parse_sets(set_ or [], date_order=date_order.value if date_order else None)
    article = archive.get(ref)
    if not sets and not reset:
        edited = editing.edits_of(archive.conn, article["id"])
        if not edited:
            err(f"no field of {article['id']} is edited here (change one with --set FIELD=VALUE)")
            return
        for name, (value, source, at) in sorted(edited.items()):
            sys.stdout.write(f"{name}: {_shown(value)} (source: {_shown(source)}; edited {at})\n")
        return
    if not dry_run:
        editing.require_safe(archive, "nothing was edited")
    result = editing.edit(archive.conn, article, sets, reset or [], now=_utc_now(), dry_run=dry_run)
    if not result.changes:
        err(f"{article['id']}: nothing to change (the fields already hold these values)")
        return
    err(f"{'would edit' if dry_run else 'edited'} {article['id']}:")
    for c in result.changes:
        how = " (the source's value)" if c.reset else ""
        err(f"  {c.field}: {_shown(c.old)} -> {_shown(c.new)}{how}")
    if result.new_slug and result.new_slug != result.old_slug:
        err(f"  slug: {result.old_slug} -> {result.new_slug} (the old slug still finds it)")
    if not dry_run:
        err("undo with: irarchive undo")


@app.command("rm", cls=Command, epilog=examples("rm"))
def rm_cmd(
    ctx: typer.Context,
    refs: refs_arg("Article ids, slugs, unique id prefixes or exact titles."),
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Delete articles with their tags, notes and list places ('irarchive undo' restores them)."""
    from irarchive.store import editing

    archive = state(ctx).archive()
    articles = list({a["id"]: a for a in (archive.get(ref) for ref in refs)}.values())
    n = len(articles)
    what = f"{n:,} article{'' if n == 1 else 's'}"
    counts = editing.annotation_counts(archive.conn, [a["id"] for a in articles])
    with_words = editing.annotation_words(counts)
    with_ = f" (with {with_words})" if with_words else ""
    if dry_run:
        err(f"would remove {what}{with_}:")
        for a in articles:
            err(_article_line(a))
        return
    editing.require_safe(archive, "nothing was removed")
    if not yes:
        if _isatty(sys.stdin):
            for a in articles:
                err(_article_line(a))
        _confirm(
            f"Delete {what}{with_}?",
            yes,
            f"rm would delete {what}{with_} and there is no terminal to ask: "
            "add --yes to delete (or --dry-run to see what would go)",
        )
    result = editing.remove(archive.conn, articles, now=_utc_now())
    n = len(result.articles)
    words = editing.annotation_words(result.annotations)
    err(
        f"removed {n:,} article{'' if n == 1 else 's'}"
        + (f" (with {words})" if words else "")
        + "; undo with: irarchive undo"
    )
    if yes or not _isatty(sys.stdin):
        for a in result.articles:
            err(_article_line(a))


UNDO_FIELDS = ("entry", "at", "action", "articles", "summary")


@app.command("undo", cls=Command, epilog=examples("undo"))
def undo_cmd(
    ctx: typer.Context,
    list_: Annotated[
        bool,
        typer.Option("--list", "-l", help="List the changes that can be undone, newest first."),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Undo even when the articles changed after (that later work is lost).",
        ),
    ] = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Undo the last edit, rm or merge: articles and annotations come back as they were."""
    from irarchive import output
    from irarchive.store import editing, undo

    archive = state(ctx).archive()
    if list_:
        out_fmt = choose_format(fmt, json_, formats.LIST)
        rows = [
            {
                "entry": e.id,
                "at": e.at,
                "action": e.action,
                "articles": e.articles,
                "summary": e.summary,
            }
            for e in undo.entries(archive.conn)
        ]
        if not rows and shown_format(out_fmt).terminal:
            err("nothing to undo")
            return
        emit(rows, out_fmt, None, output.View(UNDO_FIELDS, UNDO_FIELDS))
        return
    if fmt is not None or json_:
        raise UsageError("--format and --json apply to --list")
    editing.require_safe(archive, "nothing was undone")
    try:
        entry = editing.undo_last(archive.conn, force=yes)
    except editing.LaterChanges as exc:
        if not _isatty(sys.stdin):
            raise
        _confirm(
            f"The last change ({exc.entry.summary}) was followed by other changes to its "
            "articles; undoing it throws those away too. Undo?",
            False,
            str(exc),
        )
        entry = editing.undo_last(archive.conn, force=True)
    if entry is None:
        _fail("Error: nothing to undo (the undo log is empty)", 1)
    err(f"undone: {entry.summary}, made at {entry.at}")


# ---- curation: duplicates ------------------------------------------------------------------


@app.command("dedupe", cls=Command, epilog=examples("dedupe"))
@output_options(formats.DEDUPE, "DUPLICATES")
def dedupe_cmd(
    ctx: typer.Context,
    merge: Annotated[
        bool,
        typer.Option("--merge", help="Merge each group into its richest article (asks first)."),
    ] = False,
    yes: YesOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --merge: show what would merge; change nothing.")
    ] = False,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score",
            help="Only groups whose every pair scores at least this (0-100; same url or "
            "same title and date score 100).",
        ),
    ] = 90.0,
    *,
    out: OutputChoice,
) -> None:
    """List likely duplicate articles (same url, same title and date, or near-identical)."""
    from irarchive import output
    from irarchive.store import duplicates

    min_score = _finite(min_score, "--min-score")
    if not 0 <= min_score <= 100:
        raise UsageError(f"--min-score must be between 0 and 100, not {min_score:g}")
    archive = state(ctx).archive()
    groups = duplicates.find(archive.conn, min_score=min_score)
    rows = [
        {"group": n, "score": g.score, "reason": g.reason, "keep": i == 0, **archive.get(aid)}
        for n, g in enumerate(groups, 1)
        for i, aid in enumerate(g.ids)
    ]
    emit(rows, out.format, out.fields, output.DUPLICATES)
    if not groups:
        err("no likely duplicates")
        return
    what = f"{len(rows)} articles into {len(groups)}"
    if not merge:
        err(f"{len(groups)} group{'s' if len(groups) != 1 else ''}; merge them with --merge")
        return
    if dry_run:
        err(f"would merge {what} (the first of each group is kept)")
        return
    if not yes:
        if not (_isatty(sys.stdin) and _isatty(sys.stderr)):
            raise UsageError(
                f"refusing to merge {what} without confirmation: not a terminal; "
                "add --yes (or see what would change with --dry-run)"
            )
        sys.stderr.write(f"Merge {what}? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            err("nothing merged")
            raise typer.Exit(1)
    report = duplicates.merge(archive, groups, now=_utc_now())
    err(
        f"merged {report.merged + report.groups} articles into {report.groups}; "
        "their old ids and slugs still resolve"
    )


def _isatty(stream: Any) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _light_terminal() -> bool:
    """COLORFGBG (set by rxvt, Konsole, iTerm2 and others) says the background is light."""
    background = os.environ.get("COLORFGBG", "").rpartition(";")[2]
    return background in ("7", "15")


# ---- curation: tags, notes, reading lists ---------------------------------------------------


def _about(article: dict[str, Any]) -> str:
    """An article in one line of a report: its id and (shortened) title."""
    from irarchive.output import cell

    title = cell(article.get("title"))
    return f"{article['id']} ({title[:60] + '…' if len(title) > 61 else title})"


def _resolve_all(archive: "Archive", refs: list[str]) -> list[dict[str, Any]]:
    from irarchive.search import resolve

    return [resolve(archive, ref) for ref in refs]


@app.command(
    "tag",
    cls=Command,
    epilog=examples("tag"),
    context_settings={"ignore_unknown_options": True},
)
def tag_cmd(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="REF... +TAG... -TAG...",
            help="Articles (id, slug, id prefix or title, as in show) and tags: +TAG adds, "
            "-TAG removes; in any order. A tag that looks like an option goes after --.",
            autocompletion=complete_ref,
        ),
    ],
) -> None:
    """Add and remove tags on articles (tags are case-insensitive; removing can be undone)."""
    from irarchive.store import annotations

    refs, add, remove = annotations.split_tag_args(args)
    archive = state(ctx).archive()
    articles = _resolve_all(archive, refs)
    for change in annotations.change_tags(archive, articles, add, remove):
        done = [f"added {', '.join(change.added)}"] if change.added else []
        done += [f"removed {', '.join(change.removed)}"] if change.removed else []
        now = ", ".join(change.tags) if change.tags else "(none)"
        err(f"{_about(change.article)}: {'; '.join(done) or 'unchanged'}; tags: {now}")


@app.command("tags", cls=Command, epilog=examples("tags"))
@output_options(formats.TAGS)
def tags_cmd(ctx: typer.Context, *, out: OutputChoice) -> None:
    """List the tags in use, with how many articles have each (most used first)."""
    from irarchive import output
    from irarchive.store import annotations

    rows = annotations.tag_counts(state(ctx).archive().conn)
    empty = "no tags yet; add some with: irarchive tag REF +TAG"
    emit(rows, out.format, None, output.TAG_COUNTS, empty=empty)


@app.command("note", cls=Command, epilog=examples("note"))
@output_options(formats.NOTE)
def note_cmd(
    ctx: typer.Context,
    ref: RefArg,
    message: Annotated[
        list[str] | None,
        typer.Option(
            "--message",
            "-m",
            metavar="TEXT",
            help="The note's text; repeat for paragraphs (as git commit -m). Without -m, "
            "$VISUAL or $EDITOR opens (on a terminal only).",
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", "-l", help="Show the article's notes, oldest first.")
    ] = False,
    *,
    out: OutputChoice,
) -> None:
    """Add a dated note to an article (-m TEXT, or in your editor), or list its notes."""
    from irarchive import output
    from irarchive.store import annotations

    out_fmt = out.format
    if message and list_:
        raise UsageError("-m adds a note and --list shows them; give one")
    if not message and not list_ and out_fmt is None:
        if not (_isatty(sys.stdin) and stdout_is_terminal()):
            raise UsageError(
                "note opens an editor only on a terminal; give the text with -m TEXT "
                "(or list the notes with --list)"
            )
    archive = state(ctx).archive()
    article = _resolve_all(archive, [ref])[0]
    if list_ or (not message and out_fmt is not None):
        notes = annotations.notes_of(archive.conn, article["id"])
        how = f"add one with: irarchive note {article['id']} -m TEXT"
        emit(notes, out_fmt, None, output.NOTES, empty=f"{_about(article)} has no notes; {how}")
        return
    if message:
        text = "\n\n".join(m.strip("\n") for m in message)
    else:
        import shlex

        editor = shlex.split(
            os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi", posix=True
        ) or ["vi"]
        template = annotations.note_template(
            article, annotations.notes_of(archive.conn, article["id"])
        )
        text = annotations.note_from_edit(annotations.edit_text(editor, template))
        if not text:
            err("nothing saved: the note was empty")
            return
    note = annotations.add_note(archive, article, text)
    if out_fmt is not None:
        emit([note], out_fmt, None, output.NOTES, single=True)
    count = len(annotations.notes_of(archive.conn, article["id"]))
    err(f"{_about(article)}: note added ({count} note{'s' if count != 1 else ''})")


lists_app = typer.Typer(
    help="Reading lists: named, ordered selections of articles. Alone, lists them.",
    invoke_without_command=True,
)
app.add_typer(lists_app, name="lists")

ListNameArg = Annotated[str, typer.Argument(metavar="NAME", help="The list's name (any case).")]
ListRefsArg = refs_arg("Articles: id, slug, unique id prefix, or title (as in show).")


@lists_app.callback(invoke_without_command=True)
def lists_root(ctx: typer.Context, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Reading lists: named, ordered selections of articles. Alone, lists them with counts."""
    if ctx.invoked_subcommand is not None:
        return  # --format and --json are this listing's; a subcommand has its own
    from irarchive import output
    from irarchive.store import lists

    rows = lists.all_lists(state(ctx).archive().conn)
    empty = "no reading lists yet; start one with: irarchive lists add NAME REF..."
    emit(rows, choose_format(fmt, json_, formats.LISTS), None, output.LIST_COUNTS, empty=empty)


@lists_app.command("add", cls=Command, epilog=examples("lists add"))
def lists_add(ctx: typer.Context, name: ListNameArg, refs: ListRefsArg) -> None:
    """Append articles to a reading list (created if new), in the order given."""
    from irarchive.store import lists

    archive = state(ctx).archive()
    articles = _resolve_all(archive, refs)
    result = lists.add(archive, name, articles)
    n = len(result.added)
    new = " (a new list)" if result.created else ""
    err(f"added {n} article{'s' if n != 1 else ''} to {result.name!r}{new}")
    for article in result.already:
        err(f"  already on it: {_about(article)}")


@lists_app.command("show", cls=Command, epilog=examples("lists show"))
@output_options(formats.LISTS, "LISTED")
def lists_show(ctx: typer.Context, name: ListNameArg, *, out: OutputChoice) -> None:
    """Show a reading list's articles, in list order."""
    from irarchive import output
    from irarchive.store import lists

    archive = state(ctx).archive()
    stored, articles = lists.items(archive, name)
    records = [{"position": i, **a} for i, a in enumerate(articles, start=1)]
    emit(records, out.format, out.fields, output.LISTED, empty=f"the list {stored!r} is empty")


@lists_app.command("export", cls=Command, epilog=examples("lists export"))
def lists_export(
    ctx: typer.Context,
    name: ListNameArg,
    fmt: ExportFormatOpt = None,
    output_path: OutputFileOpt = None,
    publisher: PublisherOpt = None,
) -> None:
    """Export a reading list in list order, in any export format (BibTeX by default)."""
    from irarchive.store import lists

    chosen_fmt = export_format(fmt, output_path)
    archive = state(ctx).archive()
    _check_export_target(archive, output_path)
    stored, articles = lists.items(archive, name)
    _write_export(archive, articles, chosen_fmt, output_path, None, publisher, of=f" of {stored!r}")


@lists_app.command("remove", cls=Command, epilog=examples("lists remove"))
def lists_remove(
    ctx: typer.Context,
    name: ListNameArg,
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[REF...]",
            help="Articles to take off the list; none: remove the whole list.",
            autocompletion=complete_ref,
        ),
    ] = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Remove articles from a reading list, or the whole list (the articles stay; undoable)."""
    from irarchive.store import lists

    archive = state(ctx).archive()
    articles = _resolve_all(archive, refs) if refs else None
    plan = lists.plan_remove(archive, name, articles)
    for article in plan.missing:
        err(f"not on {plan.name!r}: {_about(article)}")
    n = len(plan.removed)
    what = (
        f"the list {plan.name!r} ({n} article{'s' if n != 1 else ''})"
        if plan.whole
        else f"{n} article{'s' if n != 1 else ''} from {plan.name!r}"
    )
    if not plan.whole and not n:
        err("nothing to remove")
        return
    if dry_run:
        err(f"would remove {what}")
        for article in plan.removed:
            err(f"  {_about(article)}")
        return
    _confirm(
        f"Remove {what}?",
        yes,
        "lists remove changes the archive; confirm with --yes "
        "(or see what it would do with --dry-run)",
    )
    lists.remove(archive, plan)
    err(f"removed {what}")


# ---- entry point -----------------------------------------------------------------------------


def _fail(message: str, code: int) -> NoReturn:
    err(message)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every outcome to a documented exit code."""
    # typer 0.28 vendors click; its exceptions live in typer._click (pinned in pyproject).
    import sqlite3

    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    _prepare_streams()
    try:
        command = typer.main.get_command(app_for(args))
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
    except NotFound as exc:
        import re
        import shlex

        why = ""
        if re.fullmatch(r"[0-9a-fA-F]{1,3}", exc.ref.strip()):
            why = "; id prefixes need at least 4 hex digits"
        _fail(f"Error: {exc}{why} (try: irarchive search {shlex.quote(exc.ref)})", exc.exit_code)
    except IrarchiveError as exc:
        _fail(f"Error: {exc}", exc.exit_code)
    except NoArgsIsHelpError as exc:
        if exc.ctx is not None and exc.ctx.parent is None:  # bare "irarchive": the overview
            _fail(overview().rstrip("\n"), exc.exit_code)
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


_ONE_COMMAND: dict[str, typer.Typer] = {}


def app_for(args: list[str]) -> typer.Typer:
    """The app to build for this command line: when it names a subcommand, the root
    with that subcommand alone.

    typer builds every command's options before it parses anything (8 ms for all 28
    here, 1 ms for one); a run uses one. The root's own options, its callback and the
    subcommand are the same objects either way, so the run, its help and its errors
    are too. The root's help, shell completion and a name
    that is no subcommand (click suggests the near ones) get the whole app. ``args``
    have their global options in front (``hoist_global_options``).
    """
    name = _subcommand_name(args)
    if name is None or "_IRARCHIVE_COMPLETE" in os.environ:
        return app
    one = _ONE_COMMAND.get(name)
    if one is None:
        from typer.main import get_command_name

        commands = [
            c
            for c in app.registered_commands
            if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == name
        ]
        groups = [g for g in app.registered_groups if g.name == name]
        if not commands and not groups:
            return app
        one = _ONE_COMMAND[name] = copy.copy(app)
        one.registered_commands, one.registered_groups = commands, groups
    return one


def _subcommand_name(args: list[str]) -> str | None:
    """The subcommand ``args`` name, if only global options come before it."""
    i = 0
    while width := _global_option_at(args, i):
        i += width
    return args[i] if i < len(args) and not args[i].startswith("-") else None


#: Options of the root command, accepted on either side of the subcommand.
GLOBAL_FLAGS = ("--no-seed", "--no-pager")
GLOBAL_VALUED = ("--db",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options given after the subcommand in front of it.

    ``irarchive list --db news.db`` then means ``irarchive --db news.db list``, as in
    gh and git. Nothing after ``--`` moves (it may be a search for "--db").
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--":
            rest += args[i:]
            break
        width = _global_option_at(args, i)
        (front if width else rest).extend(args[i : i + (width or 1)])
        i += width or 1
    return front + rest


def _global_option_at(args: list[str], i: int) -> int:
    """How many of ``args`` from ``i`` on are one global option (0: none is)."""
    arg = args[i] if i < len(args) else ""
    if arg in GLOBAL_FLAGS or any(arg.startswith(o + "=") for o in GLOBAL_VALUED):
        return 1
    if arg in GLOBAL_VALUED and i + 1 < len(args):
        return 2
    return 0


def _sqlite_message(exc: Exception) -> str:
    """One line for an SQLite error that escaped the library (damage or contention)."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"the archive is busy ({text}); another irarchive is writing to it, try again"
    return (
        f"the archive cannot be read ({text}); it was left untouched: "
        "run 'irarchive db check --repair' (it rebuilds the search index from the "
        "articles), restore a backup, or choose another --db"
    )


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head``): stop quietly, without Python's flush error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
