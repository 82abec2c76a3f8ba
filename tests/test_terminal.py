"""The terminal experience: tables that fit any width, panels, pager, help, messages.

Snapshot tests compare exact text with ``tests/snapshots/*.txt``; after a deliberate
change in layout, rewrite them with ``IRARCHIVE_SNAPSHOTS=update pytest tests/test_terminal.py``
and read the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run_cli

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
WIDTHS = (40, 60, 80, 120, 200)
UPDATE = os.environ.get("IRARCHIVE_SNAPSHOTS") == "update"


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch):
    """Run irarchive as if stdout were a terminal COLUMNS wide (no colour: not a real tty)."""
    monkeypatch.setattr("irarchive.cli.stdout_is_terminal", lambda: True)

    def run(width: int, *args: str):
        monkeypatch.setenv("COLUMNS", str(width))
        return run_cli("--no-pager", *args)

    return run


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def assert_fits(text: str, width: int) -> None:
    """Every line at most ``width`` cells; the borders whole (no clipped right edge)."""
    from rich.cells import cell_len

    lines = text.splitlines()
    assert lines, text
    for line in lines:
        assert cell_len(line) <= width, (width, line)
        assert line[-1] in "┓┃┩│┘┤", line  # the right border is there on every line
    assert len({cell_len(line) for line in lines}) == 1, text


COMMANDS = {
    "list": ("list",),
    "search": ("search", "summit", "-n", "5"),
    "related": ("related", "141e649dec283798", "-n", "4"),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_tables_fit_every_width(seeded, terminal, command: str, width: int) -> None:
    r = terminal(width, *COMMANDS[command])
    assert r.code == 0, r
    assert_fits(r.out, width)
    snapshot(f"{command}-{width}", r.out)


def test_title_gets_the_room_id_shortens_then_hides(seeded, terminal) -> None:
    wide = terminal(200, "list").out.splitlines()
    assert wide[1].split("┃")[1:-1] == [" id               ", " date       ",
                                         wide[1].split("┃")[3], " category                "]
    at80 = terminal(80, "list").out
    assert "┃ id       ┃ date       ┃ title" in at80  # a short id, still a prefix show takes
    assert "category" not in at80  # every seed article shares one
    at40 = terminal(40, "list").out
    assert at40.splitlines()[1].split("┃")[1:-1][0] == " date       "
    assert " id " not in at40 and "category" not in at40


def test_short_ids_in_the_table_are_refs_show_accepts(seeded, terminal, cli) -> None:
    out = terminal(80, "list", "-n", "1").out
    short = out.splitlines()[3].split("│")[1].strip()
    assert len(short) == 8
    r = cli("show", short, "--json")
    assert r.code == 0 and r.out.count(short) >= 1


def test_shared_category_is_hidden_only_when_room_is_short(seeded, terminal, cli) -> None:
    narrow = terminal(100, "list").out
    assert "category" not in narrow and "International Relations" not in narrow
    wide = terminal(200, "list", "-n", "2").out
    assert "International Relations" in wide  # enough room: nothing is hidden
    cli("import", "-", stdin=b'{"title": "A short one", "date": "2022-01-02", "category": "Economy"}')
    mixed = terminal(80, "list", "-n", "12").out  # categories differ: kept, cut to fit
    assert "┃ category       ┃" in mixed and "│ International… │" in mixed and "│ Economy" in mixed
    assert_fits(mixed, 80)


def test_fields_chosen_are_never_dropped(seeded, terminal) -> None:
    r = terminal(60, "list", "-n", "2", "--fields", "id,date,category,title,excerpt")
    assert r.code == 0
    header = r.out.splitlines()[1]
    for name in ("id", "date", "category", "title", "excerpt"):
        assert name in header
    assert_fits(r.out, 60)
