"""The one registry of formats: every output, export and input format, declared once.

A format's name, help, writer or reader, default fields, file suffixes and the
commands that accept it live here and nowhere else: the CLI derives its ``--format``
choices and help from this table, ``output.write`` and ``sources.read`` dispatch
through it, and ``export -o FILE`` / ``import FILE`` pick a format by its suffixes.
A new format is one more entry.

Standard library only, and writers/readers are named by ``module:function`` and
imported on first use, so every command's start-up stays fast.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Commands that write records (the names of the CLI commands); ``import`` reads INPUTS.
LIST, SEARCH, SHOW, RELATED, STATS, EXPORT = "list", "search", "show", "related", "stats", "export"
SOURCES = "sources"  # ``sources list``
# Curation: ``tags`` (tags with counts), ``note`` (``note REF --list``), ``lists``
# (``lists`` and ``lists show NAME``), ``dedupe`` (groups of likely duplicates).
TAGS, NOTE, LISTS = "tags", "note", "lists"
DEDUPE = "dedupe"
#: Commands that print listings of records (they share one set of formats).
LISTING = frozenset({LIST, SEARCH, SHOW, RELATED, STATS, SOURCES, TAGS, NOTE, LISTS, DEDUPE})

#: ``default_fields`` of a format: the record as it is (JSON), every field with the id
#: first (CSV/TSV data), the command's short columns (what a person reads: its table),
#: or the writer's own choice (citations). Output on a pipe with no format chosen is
#: TSV with the short columns, the id first (``| cut -f1`` gives references).
ALL, DATA, COLUMNS, OWN = "all", "data", "columns", "own"


def _load(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class OutputFormat:
    """A way to write records.

    ``kind`` says how the writer is called (see ``output.write``): ``"records"``
    writers take ``(records, out, fields)``; ``"citations"`` writers take
    ``(records, publisher=...)`` and yield text; ``"terminal"`` means rendered with
    rich for a person (the CLI draws it, with the command's own renderer).
    """

    name: str
    help: str
    writer: str
    commands: frozenset[str]
    kind: str = "records"
    default_fields: str = COLUMNS
    suffixes: tuple[str, ...] = ()

    def load(self) -> Callable[..., Any]:
        return _load(self.writer)

    @property
    def terminal(self) -> bool:
        return self.kind == "terminal"

    @property
    def takes_fields(self) -> bool:
        """Whether ``--fields`` changes what is written."""
        return self.default_fields != OWN


#: ``InputFormat.kind``: read record by record from a text stream by ``sources.read``,
#: or read whole (its bytes parsed at once) and imported by the reader itself.
RECORDS, DOCUMENT = "records", "document"


@dataclass(frozen=True)
class InputFormat:
    """A way to read records from a text stream, or a whole document.

    A ``"records"`` reader yields ``(line, record)`` pairs (a record is a dict of raw
    fields, or anything else, which is rejected) or ``sources.Rejected`` for what it
    cannot read; ``sources.read`` maps records to articles in one place. ``options``
    are passed to the reader as keywords.

    A ``"document"`` format (a saved feed) is never line-read: its reader is the
    importer that takes the whole file, ``sources.remote.import_file``, and
    ``sources.read`` refuses it.
    """

    name: str
    help: str
    reader: str
    suffixes: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    kind: str = RECORDS

    def load(self) -> Callable[..., Any]:
        return _load(self.reader)

    @property
    def document(self) -> bool:
        """Whether the file is read whole by its own importer, not by ``sources.read``."""
        return self.kind == DOCUMENT


_EVERYWHERE = LISTING | {EXPORT}

TABLE = OutputFormat(
    "table",
    "a table on the terminal",
    "irarchive.output:render_table",
    LISTING,
    kind="terminal",
)
JSON = OutputFormat(
    "json",
    "one JSON array of objects",
    "irarchive.output:write_json",
    _EVERYWHERE,
    default_fields=ALL,
    suffixes=(".json",),
)
JSONL = OutputFormat(
    "jsonl",
    "one JSON object per line",
    "irarchive.output:write_jsonl",
    _EVERYWHERE,
    default_fields=ALL,
    suffixes=(".jsonl", ".ndjson"),
)
CSV = OutputFormat(
    "csv",
    "comma-separated with a header row, every field",
    "irarchive.output:write_csv",
    _EVERYWHERE,
    default_fields=DATA,
    suffixes=(".csv",),
)
TSV = OutputFormat(
    "tsv",
    "tab-separated lines, no header, every field",
    "irarchive.output:write_tsv",
    _EVERYWHERE,
    default_fields=DATA,
    suffixes=(".tsv", ".tab"),
)
MARKDOWN = OutputFormat(
    "markdown",
    "a Markdown table",
    "irarchive.output:write_markdown",
    LISTING,
)


def _citations(name: str, help: str, writer: str, *suffixes: str) -> OutputFormat:
    """An export-only format whose writer (in ``citations``) picks its own fields."""
    return OutputFormat(name, help, "irarchive.citations:" + writer, frozenset({EXPORT}),
                        kind="citations", default_fields=OWN, suffixes=suffixes)  # fmt: skip


BIBTEX = _citations("bibtex", "biblatex @online entries", "bibtex", ".bib", ".bibtex")
RIS = _citations("ris", "RIS records (Zotero, EndNote, Mendeley)", "ris", ".ris")
CSL_JSON = _citations("csl-json", "CSL-JSON items (pandoc, Zotero)", "csl_json")
# Named "markdown" on export, where a Markdown file is read by people: a reading list
# with links, not a table of columns.
READING_LIST = _citations(
    MARKDOWN.name, "a Markdown reading list", "markdown_reading_list", ".md", ".markdown"
)

#: Every output format; a name is unique among the formats of one command.
OUTPUTS: tuple[OutputFormat, ...] = (
    # Citations first: export lists them before the data formats.
    BIBTEX,
    RIS,
    CSL_JSON,
    READING_LIST,
    TABLE,
    JSON,
    JSONL,
    CSV,
    TSV,
    MARKDOWN,
)

#: Defaults when no ``--format`` is given: a table for a person, lines for a pipe.
TERMINAL_DEFAULT = TABLE
PIPE_DEFAULT = TSV
#: What ``--json`` stands for.
JSON_SHORTCUT = JSON
#: What ``stats`` counts by: the first column of its records (not a format, but a
#: choice the CLI derives the same way).
STATS_BY: tuple[str, ...] = ("year", "month", "category")

_CSV_READER = "irarchive.sources.csvfile:read"
_JSON_READERS = "irarchive.sources.jsonfile:"
LISTING_TEXT = InputFormat(
    "listing",
    "a category heading, then date / title / excerpt blocks",
    "irarchive.sources.listing:read",
    suffixes=(".txt", ".listing"),
)
JSON_IN = InputFormat("json", "a JSON array, or an object with an 'articles' list",
                      _JSON_READERS + "read_json", suffixes=(".json",))  # fmt: skip
JSONL_IN = InputFormat("jsonl", "JSON Lines, one object per line",
                       _JSON_READERS + "read_jsonl", suffixes=(".jsonl", ".ndjson"))  # fmt: skip
CSV_IN = InputFormat("csv", "CSV with a header row", _CSV_READER, suffixes=(".csv",),
                     options=(("delimiter", ","),))  # fmt: skip
TSV_IN = InputFormat("tsv", "TSV with a header row", _CSV_READER, suffixes=(".tsv", ".tab"),
                     options=(("delimiter", "\t"),))  # fmt: skip
# A saved feed is parsed whole, as ``import URL`` parses a fetched one.
FEED_IN = InputFormat(
    "feed",
    "a saved RSS 0.9x/1.0/2.0, Atom or JSON Feed",
    "irarchive.sources.remote:import_file",
    suffixes=(".xml", ".rss", ".atom", ".rdf"),
    kind=DOCUMENT,
)

#: Every input format, in the order ``import --help`` lists them.
INPUTS: tuple[InputFormat, ...] = (LISTING_TEXT, JSON_IN, JSONL_IN, CSV_IN, TSV_IN, FEED_IN)


# ---- lookups ----------------------------------------------------------------------


def outputs_for(command: str) -> tuple[OutputFormat, ...]:
    """The output formats ``command`` accepts, in registry order."""
    return tuple(f for f in OUTPUTS if command in f.commands)


def output(name: str, command: str) -> OutputFormat:
    """The output format called ``name`` for ``command`` (the CLI has checked the name)."""
    for f in outputs_for(command):
        if f.name == name:
            return f
    raise KeyError(f"{command} has no output format {name!r}")


def output_for_path(path: str, command: str) -> OutputFormat | None:
    """The output format a file name's suffix implies for ``command``, if any."""
    suffix = os.path.splitext(path)[1].lower()
    for f in outputs_for(command):
        if suffix in f.suffixes:
            return f
    return None


def input_format(name: str) -> InputFormat:
    """The input format called ``name`` (the CLI has checked the name)."""
    for f in INPUTS:
        if f.name == name:
            return f
    raise KeyError(f"no input format {name!r}")


def input_for_path(path: str) -> InputFormat | None:
    """The input format a file name's suffix implies, if any."""
    suffix = os.path.splitext(path)[1].lower()
    for f in INPUTS:
        if suffix in f.suffixes:
            return f
    return None


def detect_input(name: str, head: str) -> InputFormat:
    """The input format of a file: from its suffix, else from its first characters."""
    by_suffix = input_for_path(name)
    if by_suffix is not None:
        return by_suffix
    stripped = head.lstrip()
    if stripped.startswith("["):
        return JSON_IN
    if stripped.startswith("{"):
        first, _, rest = stripped.partition("\n")
        one_per_line = first.rstrip().endswith("}") and (
            not rest.strip() or rest.lstrip().startswith("{")
        )
        return JSONL_IN if one_per_line else JSON_IN
    first_line = stripped.partition("\n")[0]
    if "\t" in first_line:
        return TSV_IN
    if "," in first_line and "title" in first_line.lower():
        return CSV_IN
    return LISTING_TEXT


def describe(formats: tuple[OutputFormat, ...] | tuple[InputFormat, ...]) -> str:
    """``name: help; ...`` for option help text."""
    return "; ".join(f"{f.name}: {f.help}" for f in formats)


def suffix_help(formats: tuple[OutputFormat, ...] | tuple[InputFormat, ...]) -> str:
    """The suffixes the formats claim, for option help text (``.bib .ris ...``)."""
    return " ".join(s for f in formats for s in f.suffixes)
