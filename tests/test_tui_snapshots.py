"""SVG snapshots of the browser's screens (pytest-textual-snapshot).

Update after an intended change of the look: ``pytest tests/test_tui_snapshots.py
--snapshot-update``, then look at the new SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tui import TODAY, settle
from tests.tui_data import write_jsonl

pytest.importorskip("pytest_textual_snapshot")

from irarchive.tui.app import BrowseApp  # noqa: E402


@pytest.fixture
def app(tmp_path: Path, cli, monkeypatch) -> BrowseApp:
    # A relative archive path, so the help screen shows the same text on every machine.
    monkeypatch.chdir(tmp_path)
    r = cli("--db", "tui.db", "--no-seed", "import", str(write_jsonl(tmp_path / "a.jsonl")))
    assert r.code == 0, r
    return BrowseApp("tui.db", today=TODAY, open_url=lambda url: None)


def test_main_screen(snap_compare, app):
    async def typed(pilot):
        await settle(pilot)
        for key in "shanghai":
            await pilot.press(key)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 24), run_before=typed)


def test_main_screen_narrow(snap_compare, app):
    assert snap_compare(app, terminal_size=(60, 20), run_before=settle)


def test_detail_view(snap_compare, app):
    async def opened(pilot):
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 24), run_before=opened)


def test_help(snap_compare, app):
    async def helped(pilot):
        await settle(pilot)
        await pilot.press("escape", "question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=helped)
