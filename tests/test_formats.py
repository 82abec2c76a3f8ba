"""The format registry: one declaration per format, the same columns and the id everywhere."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from irarchive import formats
from irarchive.errors import NotFound
from irarchive.store import open_archive
from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("seeded")

SEED_IDS = {
    "141e649dec283798", "a510295c9c3d6635", "32df31479cf58241", "65541e609222b495",
    "7c24afc7070dfa8e", "d16cca66f1440967", "138ba6c2277b77e8", "6b77fb39ae23803c",
    "b45d0497dac015c8", "6e62dd74be740d30",
}  # fmt: skip
# A command line per listing command that finds several seed articles.
COMMANDS = {
    formats.LIST: ["list", "--since", "2022-09"],
    formats.SEARCH: ["search", "sco"],
    formats.SHOW: ["show", "a510295c9c3d6635", "7c24afc7070dfa8e"],
    formats.RELATED: ["related", "a510295c9c3d6635", "-n", "3"],
    formats.EXPORT: ["export", "--since", "2022-09"],
}


def _run(*argv: str) -> tuple[int, str, str]:
    r = run_cli(*argv)
    return r.code, r.out, r.err


def _stdout(argv: list[str]) -> str:
    code, out, err = _run(*argv)
    assert code == 0, (argv, err)
    return out


def test_names_are_unique_per_command() -> None:
    for command in [*formats.LISTING, formats.EXPORT]:
        names = [f.name for f in formats.outputs_for(command)]
        assert len(names) == len(set(names)), command
    assert len({f.name for f in formats.INPUTS}) == len(formats.INPUTS)


def test_every_writer_and_reader_loads() -> None:
    for f in (*formats.OUTPUTS, *formats.INPUTS):
        assert callable(f.load()), f.name


@pytest.mark.parametrize("command", [formats.LIST, formats.SEARCH, formats.RELATED])
def test_csv_has_the_columns_of_tsv_in_the_same_order(command: str) -> None:
    as_csv, as_tsv = (_stdout([*COMMANDS[command], "-f", f]) for f in ("csv", "tsv"))
    header, *rows = list(csv.reader(io.StringIO(as_csv)))
    article = ["slug", "title", "authors", "date", "excerpt", "truncated", "category", "url",
               "doi", "tags", "source", "added_at", "extra"]  # fmt: skip
    expected = {
        formats.LIST: ["id", *article],
        formats.SEARCH: ["id", "rank", "score", "matched", *article],
        formats.RELATED: ["id", "rank", "score", "shared", *article],
    }[command]
    assert header == expected  # every field, the id first
    assert rows == [line.split("\t") for line in as_tsv.splitlines()]
    assert len(rows) >= 2


@pytest.mark.parametrize("command", [formats.LIST, formats.SEARCH, formats.RELATED])
def test_lines_on_a_pipe_have_the_short_columns_of_the_table(command: str) -> None:
    lines = _stdout(COMMANDS[command]).splitlines()
    records = [json.loads(line) for line in _stdout([*COMMANDS[command], "-f", "jsonl"])
               .splitlines()]  # fmt: skip
    columns = ["id", "date", "title", "category"]
    if command != formats.LIST:
        columns = ["id", "rank", "score", "date", "title", "category"]
    assert lines == [
        "\t".join(f"{r[c]:.1f}" if c == "score" else str(r[c]) for c in columns) for r in records
    ]


@pytest.mark.parametrize("fmt", [[], ["-f", "tsv"]])
@pytest.mark.parametrize("command", [formats.SEARCH, formats.RELATED, formats.LIST])
def test_tsv_first_column_is_an_id_show_accepts(command: str, fmt: list[str]) -> None:
    out = _stdout([*COMMANDS[command], *fmt])
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert ids and set(ids) <= SEED_IDS
    shown = json.loads(_stdout(["show", *ids, "--json"]))
    assert [a["id"] for a in (shown if isinstance(shown, list) else [shown])] == ids


def _ids_in_output(argv: list[str]) -> tuple[set[str], str]:
    code, out, err = _run(*argv)
    assert code == 0, (argv, err)
    assert err == "" or argv[0] == "related", err  # related's table names the article
    # A narrow table shows ids shortened to 8 digits (a prefix show accepts).
    found = set(re.findall(r"(?<![0-9a-f])[0-9a-f]{8,16}(?![0-9a-f])", out))
    return {i for i in SEED_IDS if any(i.startswith(t) for t in found)}, out


@pytest.mark.parametrize(
    ("command", "fmt"),
    [
        (command, f.name)
        for command in COMMANDS
        for f in formats.outputs_for(command)
        if not f.terminal
    ],
)
def test_every_format_carries_each_article_id(command: str, fmt: str) -> None:
    """Each written article's id is in the output, whatever the format."""
    wanted, _ = _ids_in_output([*COMMANDS[command], "-f", "json"])
    if command == formats.SHOW:
        wanted, _ = _ids_in_output([*COMMANDS[command], "-f", "jsonl"])
    assert len(wanted) >= 2
    got, out = _ids_in_output([*COMMANDS[command], "-f", fmt])
    assert got == wanted, out


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != formats.EXPORT])
def test_the_terminal_table_carries_the_id(command: str) -> None:
    wanted, _ = _ids_in_output([*COMMANDS[command], "-f", "jsonl"])
    # show draws panels unless fields are chosen; its panels carry the id too.
    got, out = _ids_in_output([*COMMANDS[command], "-f", "table"])
    assert got == wanted, out


SUFFIXES = [(s, f.name) for f in formats.outputs_for(formats.EXPORT) for s in f.suffixes]


@pytest.mark.parametrize(("suffix", "name"), SUFFIXES)
def test_export_picks_the_format_from_the_file_suffix(
    tmp_path: Path, suffix: str, name: str
) -> None:
    target = tmp_path / f"refs{suffix.upper()}"  # suffixes match in any case
    code, out, err = _run("export", "--since", "2022-09", "-o", str(target))
    assert (code, out) == (0, "")
    assert err == f"exported 2 articles as {name} to {target}\n"
    _, direct, _ = _run("export", "--since", "2022-09", "-f", name)
    assert target.read_text("utf-8") == direct


def test_export_suffixes_name_known_formats() -> None:
    assert dict(SUFFIXES)[".bib"] == "bibtex"
    assert dict(SUFFIXES)[".json"] == "json"
    assert dict(SUFFIXES)[".md"] == "markdown"


def test_an_explicit_format_beats_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "refs.bib"
    code, _, err = _run("export", "--since", "2022-09", "-f", "ris", "-o", str(target))
    assert code == 0 and err.endswith(f"as ris to {target}\n")
    assert target.read_text("utf-8").startswith("TY  - ELEC\n")


def test_an_unknown_suffix_asks_for_a_format(tmp_path: Path) -> None:
    names = ", ".join(f.name for f in formats.outputs_for(formats.EXPORT))
    code, out, err = _run("export", "-o", str(tmp_path / "refs.txt"))
    assert (code, out) == (2, "")
    assert err == f"Error: choose an export format with --format ({names})\n"


@pytest.mark.parametrize("ref", ["nothing-like-this", "it's; rm -rf ~", "deadbeef"])
def test_not_found_carries_the_reference(seeded: Path, ref: str) -> None:
    from irarchive.search import resolve

    archive = open_archive(str(seeded))
    try:
        with pytest.raises(NotFound) as caught:
            resolve(archive, ref)
    finally:
        archive.close()
    assert caught.value.ref == ref
    assert str(caught.value) == f"no article {ref!r}"


def test_not_found_hint_quotes_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run("show", "it's; rm -rf ~")
    assert (code, out) == (1, "")
    assert err == (
        "Error: no article \"it's; rm -rf ~\" (try: irarchive search 'it'\"'\"'s; rm -rf ~')\n"
    )


def test_the_archive_is_closed_when_a_command_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from irarchive.store.archive import Archive

    closed: list[str] = []
    real_close = Archive.close

    def spy(self: Archive) -> None:
        closed.append(self.path)
        real_close(self)

    monkeypatch.setattr(Archive, "close", spy)
    assert _run("list", "--json")[0] == 0
    assert len(closed) == 1
    assert _run("show", "no-such-article")[0] == 1  # also when the command fails
    assert len(closed) == 2
