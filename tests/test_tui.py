"""irarchive browse, driven through Textual's Pilot: typing, keys, filters, pick mode."""

from __future__ import annotations

import asyncio
import functools
from datetime import date
from pathlib import Path

import pytest

from tests.tui_data import ARTICLES, HOSTILE_TITLE

pytest.importorskip("textual")

from textual import events  # noqa: E402
from textual.worker import WorkerCancelled  # noqa: E402

from irarchive.tui.app import BrowseApp  # noqa: E402
from irarchive.tui.category_picker import CategoryPicker  # noqa: E402
from irarchive.tui.collector import QuietCollector  # noqa: E402
from irarchive.tui.date_dialog import DateDialog  # noqa: E402
from irarchive.tui.detail import DetailScreen  # noqa: E402
from irarchive.tui.help import HelpScreen  # noqa: E402
from irarchive.tui.related import RelatedScreen  # noqa: E402

SAMARKAND = "b5282ea7a8789fd0"
SCO_HISTORY = "b1974b0baafe3c3c"
IRAN = "6b77fb39ae23803c"  # has no url
HOSTILE = "327e1e58faab89d2"
TODAY = date(2026, 11, 27)


def run_async(test):
    """Run an async test with asyncio (no pytest async plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return wrapper


class UnfrozenCollector(QuietCollector):
    """The browser's collector without its one full collection and freeze at start-up.

    In a test process that collection walks every test module and library loaded
    (120 ms an app, a fifth of a browse test's CPU); the tests of the collector
    itself (``freeze=True``) keep it.
    """

    def settle(self) -> None:
        pass


class Browser:
    """Opened URLs, and the app."""

    def __init__(self, db: Path, *, freeze: bool = False, **kwargs) -> None:
        self.opened: list[str] = []
        self.app = BrowseApp(str(db), today=TODAY, open_url=self.opened.append, **kwargs)
        if not freeze:
            self.app.collector = UnfrozenCollector()


async def settle(pilot) -> None:
    """Wait until every search, page and lookup worker has finished and the screen is drawn."""
    app = pilot.app
    quiet = 0
    for _ in range(100):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            # A newer search (a key, or the archive changing under the browser) took
            # this one's place: wait for that one next round.
            pass
        await pilot.pause()
        # Quiet for three rounds in a row: drawing the rows that just arrived can ask
        # for more pages (on a loaded machine that comes a round later).
        quiet = quiet + 1 if not app.workers._workers and not app._typed else 0
        if quiet == 3:
            return
    raise AssertionError("the browser did not settle")


def ids(app: BrowseApp) -> list[str]:
    found = app.results.results
    return [found.rows[i]["id"] for i in range(found.total) if i in found.rows]


def screen_text(app: BrowseApp) -> str:
    """What is on screen, as plain text, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def record_searches(app: BrowseApp) -> list[str]:
    """The texts the app searches from now on (answers from its cache are not searches)."""
    searched: list[str] = []
    real = app.reader.query

    def query(text, filters, generation, first=40):
        searched.append(text)
        return real(text, filters, generation, first)

    app.reader.query = query
    return searched


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


@run_async
async def test_empty_query_lists_newest_first_with_counts(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert ids(b.app)[:2] == [SAMARKAND, SCO_HISTORY]
        assert b.app.results.results.total == len(ARTICLES)
        status = str(b.app.query_one("#status").render())
        assert f"{len(ARTICLES)} articles" in status and f"archive: {len(ARTICLES)}" in status


@run_async
async def test_typing_searches_as_you_type_and_forgives_typos(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "samarknd sumit")
        await settle(pilot)
        assert ids(b.app)[0] == SAMARKAND
        assert "Samarkand" in screen_text(b.app)
        # Every keystroke got results on screen (its own or a later one's).
        assert len(b.app.latencies) == len("samarknd sumit") + 1
        await pilot.press("ctrl+a", "ctrl+k")  # clear the box: back to the newest
        await settle(pilot)
        assert b.app.results.results.total == len(ARTICLES)


@run_async
async def test_moving_updates_the_preview(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # arrows work from the search box
        assert b.app.results.cursor == 1
        await pilot.press("tab")  # to the list
        await pilot.press("j", "j", "k")
        assert b.app.results.cursor == 2
        await pilot.pause()
        preview = b.app.query_one("#preview").text
        assert "Turkmenistan-Russia" in screen_text(b.app)
        # The preview shows the highlighted article, and only it.
        assert preview.startswith(b.app.results.current["title"].split()[0])
        assert b.app.results.current["date"] in preview
        await pilot.press("end")
        await settle(pilot)
        assert b.app.results.cursor == len(ARTICLES) - 1
        await pilot.press("home")
        assert b.app.results.cursor == 0
        await pilot.press("pagedown")
        assert b.app.results.cursor > 10
        await pilot.press("pageup")
        assert b.app.results.cursor == 0


@run_async
async def test_enter_opens_the_article_and_escape_goes_back(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert isinstance(b.app.screen, DetailScreen)
        assert b.app.screen.article["id"] == SAMARKAND
        assert "https://example.org/sco-samarkand" in screen_text(b.app)
        await pilot.press("escape")
        assert not isinstance(b.app.screen, DetailScreen)


@run_async
async def test_o_opens_the_url_or_says_there_is_none(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "o")  # escape: from the search box to the list
        assert b.opened == ["https://example.org/sco-samarkand"]
        await pilot.press("slash")
        await type_text(pilot, "iranian nuclear")
        await settle(pilot)
        assert ids(b.app)[0] == IRAN
        await pilot.press("escape", "o")
        await pilot.pause()
        assert b.opened == ["https://example.org/sco-samarkand"]
        messages = [n.message for n in b.app._notifications]
        assert "This article has no url" in messages


@run_async
async def test_y_and_b_copy_the_id_and_the_bibtex_entry(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "y")
        assert b.app.clipboard == SAMARKAND
        await pilot.press("b")
        assert b.app.clipboard.startswith("@online{")
        assert "Samarkand" in b.app.clipboard and "https://example.org/sco-samarkand" in (
            b.app.clipboard
        )
        await pilot.press("enter", "y")  # keys work on the full-screen article too
        assert b.app.clipboard == SAMARKAND


@run_async
async def test_r_shows_related_articles_and_opens_one(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "j", "r")  # the SCO history article
        await settle(pilot)
        assert isinstance(b.app.screen, RelatedScreen)
        related = [r.article["id"] for r in b.app.screen.related]
        assert related[0] == SAMARKAND
        await pilot.press("enter")
        assert isinstance(b.app.screen, DetailScreen)
        assert b.app.screen.article["id"] == SAMARKAND


@run_async
async def test_d_filters_by_date_and_shows_bad_dates_in_the_app(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "d")
        assert isinstance(b.app.screen, DateDialog)
        await type_text(pilot, "2022-13")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(b.app.screen, DateDialog)  # still asking, not crashed
        assert "Error: bad date '2022-13'" in screen_text(b.app)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "2022-02..2022-06")
        await pilot.press("enter")
        await settle(pilot)
        found = b.app.results.results
        dates = sorted(found.rows[i]["date"] for i in range(found.total))
        assert dates == ["2022-02-01", "2022-02-07"]
        assert "dates: 2022-02..2022-06" in str(b.app.query_one("#status").render())
        await pilot.press("d", "ctrl+a", "ctrl+k", "enter")  # empty clears the filter
        await settle(pilot)
        assert b.app.results.results.total == len(ARTICLES)


@run_async
async def test_c_picks_a_category(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "c")
        await settle(pilot)
        assert isinstance(b.app.screen, CategoryPicker)
        assert "Energy" in b.app.screen.categories
        # (all categories) first, then sorted: [italic]cat[/], Economy, Energy, …
        for _ in range(1 + b.app.screen.categories.index("Energy")):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        found = b.app.results.results
        assert {found.rows[i]["category"] for i in range(found.total)} == {"Energy"}
        assert found.total == 2


@run_async
async def test_question_mark_shows_help(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "question_mark")
        assert isinstance(b.app.screen, HelpScreen)
        assert "copy the BibTeX entry" in screen_text(b.app)
        await pilot.press("escape")
        assert not isinstance(b.app.screen, HelpScreen)


@run_async
async def test_q_quits(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "q")
        await pilot.pause()
    assert b.app.return_value is None and b.app.return_code == 0


@pytest.mark.parametrize("key", ["enter", "escape", "ctrl+c"])
@run_async
async def test_pick_mode_returns_the_chosen_article_or_nothing(tui_db, key):
    b = Browser(tui_db, pick=True)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "shanghai history")
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
    chosen = b.app.return_value
    assert (chosen["id"] if chosen else None) == (SCO_HISTORY if key == "enter" else None)


@run_async
async def test_narrow_terminal_puts_the_preview_below(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        preview = b.app.query_one("#preview")
        results = b.app.query_one("#results")
        assert preview.region.x > results.region.x
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert b.app.screen.has_class("-narrow")
        assert preview.region.y > results.region.y and preview.region.width == 60
        text = screen_text(b.app)
        assert "2022-09-30 2022 SCO Summit in Samarkand" in text
        assert "samarkand" not in str(b.app.query_one("#status").render())


@run_async
async def test_article_data_is_never_markup_or_terminal_control(tmp_path, tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await type_text(pilot, "red evil")
        await settle(pilot)
        assert ids(b.app)[0] == HOSTILE
        listed = screen_text(b.app)
        # Row and preview: the brackets are shown, escapes made visible, bidi neutralised.
        assert listed.count("[bold]x[/]") == 2
        assert "^[[31mred^[[0m" in listed and "<U+202E>evil" in listed
        assert "\x1b" not in listed and "\u202e" not in listed
        await pilot.press("enter")
        detail = screen_text(b.app)
        assert "[bold]x[/]" in detail and "[link=http://evil.example]click[/link]" in detail
        assert "[italic]cat[/]" in detail and "^[[2J" in detail
        assert "\x1b" not in detail


@run_async
async def test_help_shows_the_archive_path_literally(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("[red]x").mkdir()
    db = Path("[red]x/a.db")
    assert cli("--db", str(db), "db", "init").code == 0
    b = Browser(db)
    async with b.app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "question_mark")
        assert "[red]x/a.db" in screen_text(b.app)


def test_browse_without_a_terminal_says_to_use_list_or_search(cli, seeded):
    r = cli("browse")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        "Error: browse needs a terminal; in scripts use 'irarchive search' or "
        "'irarchive list' (or 'irarchive browse --pick')\n"
    )


def test_browse_json_needs_pick(cli, seeded):
    r = cli("browse", "--json")
    assert r.code == 2 and "--json applies to --pick" in r.err


def test_browse_bad_date_is_a_usage_error(cli, seeded, monkeypatch):
    monkeypatch.setattr("irarchive.cli._isatty", lambda stream: True)
    monkeypatch.setattr("irarchive.cli.stdout_is_terminal", lambda: True)
    r = cli("browse", "--since", "2022-13")
    assert r.code == 2 and r.err.startswith("Error: bad date '2022-13'")


@pytest.mark.parametrize(("colorfgbg", "light"), [("0;15", True), ("0;7", True), ("15;0", False)])
def test_a_light_terminal_gets_the_light_theme(monkeypatch, tui_db, colorfgbg, light):
    from irarchive import cli as cli_module

    monkeypatch.setenv("COLORFGBG", colorfgbg)
    assert cli_module._light_terminal() is light
    app = BrowseApp(str(tui_db), light=cli_module._light_terminal())
    assert app.theme == ("textual-light" if light else "textual-dark")


@pytest.mark.parametrize("args", [("--help",), ("list", "--json"), ("search", "sco", "--json")])
def test_other_commands_never_import_textual(seeded, args):
    import subprocess
    import sys

    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['irarchive', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('irarchive', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('TEXTUAL=%s\\n' % ('textual' in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.stderr.splitlines()[-1] == "TEXTUAL=False"


@run_async
async def test_the_listing_is_loaded_page_by_page_as_it_scrolls(tui_db, monkeypatch):
    monkeypatch.setattr("irarchive.tui.source.PAGE", 5)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        found = b.app.results.results
        # The rows on screen (0-16) are loaded, in pages of 5: rows 0-19.
        assert found.total == len(ARTICLES) and sorted(found.rows) == list(range(20))
        await pilot.press("tab", "end")
        await settle(pilot)
        # The pages on screen (rows 29-45) arrived, and those two screens above them
        # (read ahead, see the next test).
        assert b.app.results.current["title"] == "Regional Trade Bulletin number 1"
        assert sorted(found.rows) == list(range(46))
        assert "loading" not in screen_text(b.app)
        assert not b.app.results.children  # rows are drawn, never made widgets


@run_async
async def test_counting_and_paging_never_repr_the_rows(tui_db, monkeypatch):
    # Textual describes a worker by the repr of its arguments unless told otherwise:
    # for a page or a count that is every row loaded so far, on the UI thread.
    from irarchive.tui.source import Results

    described: list[int] = []
    monkeypatch.setattr(Results, "__repr__", lambda self: described.append(1) or "Results")
    monkeypatch.setattr("irarchive.tui.source.PAGE", 5)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "end")  # pages load
        await settle(pilot)
        await type_text(pilot, "bulletin")  # each keystroke's results are counted
        await settle(pilot)
        assert len(b.app.results.results.rows) > 5 and b.app.results.results.counted
    assert described == []


@run_async
async def test_the_scrollbar_is_redrawn_only_when_it_looks_different(tui_db, monkeypatch):
    from textual.scrollbar import ScrollBar

    from irarchive.store import Filters
    from irarchive.tui.source import Results

    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        listed = b.app.results
        rows = dict(listed.results.rows)
        redrawn: list[ScrollBar] = []
        refresh = ScrollBar.refresh

        def counted_refresh(self, *args, **kwargs):
            redrawn.append(self)
            return refresh(self, *args, **kwargs)

        monkeypatch.setattr(ScrollBar, "refresh", counted_refresh)

        def show(total: int, counted: bool = True) -> Results:
            found = Results("x", Filters(), total, dict(rows), counted=counted)
            redrawn.clear()
            listed.show(found)
            return found

        show(31_316)
        assert redrawn and listed.virtual_size.height == 31_316
        show(27_043)  # its thumb at its smallest, at the top, as before
        assert not redrawn and listed.virtual_size.height == 27_043
        assert listed.vertical_scrollbar.window_virtual_size == 27_043
        # A keystroke's first screenful, not counted yet: the range stays as it was...
        found = show(45, counted=False)
        assert not redrawn and listed.virtual_size.height == 27_043
        redrawn.clear()
        listed.counted(found, 20_000)  # ... until the count, which looks the same
        assert not redrawn and listed.virtual_size.height == 20_000
        show(60)  # a short list: a long thumb
        assert redrawn and listed.virtual_size.height == 60
        await pilot.press("tab", "end")  # the cursor stays on the rows found
        assert listed.cursor == 59


@run_async
async def test_the_preview_repaints_only_the_lines_that_look_different(tui_db, monkeypatch):
    from irarchive.tui.preview import Preview

    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        pane = b.app.query_one(Preview)
        before = pane.text.splitlines()
        assert b.app.results.current["id"] == SAMARKAND
        drawn: list[int] = []
        real = Preview.render_line

        def render_line(self, y):
            drawn.append(y)
            return real(self, y)

        monkeypatch.setattr(Preview, "render_line", render_line)
        await pilot.press("tab", "j")  # the next article: also in Politics, shorter
        await settle(pilot)
        assert b.app.results.current["id"] == SCO_HISTORY
        after = pane.text.splitlines()
        height = pane.scrollable_content_region.height
        lines = [(before + [""] * height)[:height], (after + [""] * height)[:height]]
        changed = {y for y in range(height) if lines[0][y] != lines[1][y]}
        assert "category: Politics" in before and "category: Politics" in after
        assert drawn and set(drawn) <= changed and len(changed) < height // 2
        shown = screen_text(b.app)  # the lines kept are the new article's too
        assert "founded in 2001" in shown and "Leaders met in Samarkand" not in shown


@run_async
async def test_moving_reads_the_rows_two_screens_ahead(tui_db, monkeypatch):
    monkeypatch.setattr("irarchive.tui.source.PAGE", 5)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 12)) as pilot:
        await settle(pilot)
        listed = b.app.results
        found = listed.results
        height = listed.scrollable_content_region.height
        assert 3 * height + 5 < found.total
        assert max(found.rows) < height + 5  # the rows on screen, in pages of 5
        await pilot.press("tab")
        await settle(pilot)
        drawn = listed.drawn
        await pilot.press("j")
        await settle(pilot)
        # Down to three screens from the top: a PgDn or two will find them loaded.
        assert set(range(3 * height)) <= set(found.rows)
        assert max(found.rows) < 3 * height + 5
        # Drawn: the two rows the cursor left and came to, not the pages read ahead.
        assert listed.drawn - drawn == 2
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        top = listed.scroll_offset.y
        assert top > 0 and "loading" not in screen_text(b.app)
        assert set(range(min(top + 3 * height, found.total))) <= set(found.rows)


@run_async
async def test_mouse_click_highlights_then_opens(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#results", offset=(5, 2))
        assert b.app.results.cursor == 2 and not isinstance(b.app.screen, DetailScreen)
        await pilot.click("#results", offset=(5, 2))
        assert isinstance(b.app.screen, DetailScreen)
        assert b.app.screen.article["title"].startswith("Turkmenistan-Russia")


# ---- what a keystroke costs: a screenful searched, counted after, recent texts cached ----


class CountGate:
    """Holds every count until ``release()``: what the screen shows while counting."""

    def __init__(self, monkeypatch) -> None:
        import threading

        from irarchive.tui.source import Reader

        self.open = threading.Event()
        real = Reader.count

        def count(reader, results):
            # Held until released, or until a newer keystroke makes it stale (as the
            # real count is then cancelled): a held stale count would keep a worker
            # thread of the app's pool, and the pool has only a few.
            for _ in range(1000):
                if self.open.wait(0.01) or reader._wanted != results.generation:
                    break
            return real(reader, results)

        monkeypatch.setattr(Reader, "count", count)

    def release(self) -> None:
        self.open.set()


def status(app: BrowseApp) -> str:
    return str(app.query_one("#status").render())


async def shown(pilot, text: str) -> None:
    """Wait (up to 20 s: the machine may be busy) until results for ``text`` are shown."""
    for _ in range(1000):
        await pilot.pause()
        found = pilot.app.results.results
        if found.text == text and found.generation == pilot.app.generation and found.rows:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"results for {text!r} never came")


@run_async
async def test_the_count_says_at_least_n_until_the_results_are_counted(tui_db, monkeypatch):
    monkeypatch.setattr(BrowseApp, "rows_wanted", lambda self: 5)
    monkeypatch.setattr("irarchive.tui.source.PAGE", 10)
    gate = CountGate(monkeypatch)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await shown(pilot, "")  # the first page is on screen, its count held back
        assert "≥ 10 articles" in status(b.app)
        assert b.app.results.results.total == 10 and not b.app.results.results.counted
        gate.release()
        await settle(pilot)
        assert f"{len(ARTICLES)} articles" in status(b.app) and "≥" not in status(b.app)
        gate.open.clear()
        await type_text(pilot, "bulletin")
        await shown(pilot, "bulletin")
        # Five rows searched for; the rest of the 40 bulletins are not known yet.
        assert sorted(b.app.results.results.rows) == [0, 1, 2, 3, 4]
        assert "≥ 5 results" in status(b.app)
        gate.release()
        await settle(pilot)
        assert "40 results" in status(b.app) and "≥" not in status(b.app)


@run_async
async def test_an_answer_that_arrives_while_the_browser_closes_is_dropped(tui_db, monkeypatch):
    # Quitting while a count is being read: the count's answer reaches the app after
    # its widgets are gone. It is dropped, not shown (which failed: no status line).
    gate = CountGate(monkeypatch)
    b = Browser(tui_db)
    real_close_all = b.app._close_all
    answered = []

    async def close_all() -> None:
        await real_close_all()  # the screens and their widgets are gone now
        workers = [w for w in b.app.workers if w.group == "count" and not w.is_finished]
        gate.release()
        for _ in range(1000):
            if all(w.is_finished for w in workers):
                break
            await asyncio.sleep(0.01)
        answered.extend(w.state.name for w in workers)

    async with b.app.run_test(size=(120, 30)) as pilot:
        await type_text(pilot, "bulletin")
        await shown(pilot, "bulletin")
        assert "≥" in status(b.app)  # still counting
        b.app._close_all = close_all
    assert answered == ["SUCCESS"]  # the count was read, and its answer dropped without error


@run_async
async def test_search_rows_load_as_they_scroll_in_and_never_repeat(tui_db, monkeypatch):
    monkeypatch.setattr(BrowseApp, "rows_wanted", lambda self: 3)
    monkeypatch.setattr("irarchive.tui.source.PAGE", 7)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 12)) as pilot:
        await type_text(pilot, "regional bulletin")
        await settle(pilot)
        await pilot.press("tab", "end")
        await settle(pilot)
        shown = ids(b.app)
        assert len(shown) == len(set(shown)) == b.app.results.results.total == 40
        assert sorted(b.app.results.results.rows) == list(range(40))
        assert b.app.results.current["title"].startswith("Regional Trade Bulletin")
        assert "loading" not in screen_text(b.app)


@run_async
async def test_end_on_a_long_search_goes_a_bounded_way_and_says_so(tui_db, monkeypatch):
    monkeypatch.setattr(BrowseApp, "rows_wanted", lambda self: 3)
    monkeypatch.setattr("irarchive.tui.source.PAGE", 7)
    monkeypatch.setattr("irarchive.tui.results.END_JUMP", 10)
    monkeypatch.setattr("irarchive.tui.app.END_JUMP", 10)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 12)) as pilot:
        await type_text(pilot, "regional bulletin")
        await settle(pilot)
        await pilot.press("tab")
        await settle(pilot)
        loaded = len(b.app.results.results.rows)  # the rows on screen
        assert loaded < 20
        await pilot.press("end")
        await settle(pilot)
        # End ranks 10 rows more than are loaded, not all 40.
        assert b.app.results.cursor == loaded + 9
        assert len(b.app.results.results.rows) < 40
        status = str(b.app.query_one("#status").render())
        assert f"End: row {loaded + 10} of 40 (End again: 10 on)" in status, status
        assert b.app.results.current["title"].startswith("Regional Trade Bulletin")
        # Again: 10 rows past those loaded by now (or the cursor, if further).
        reach = max(len(b.app.results.results.rows), b.app.results.cursor + 1) + 10
        await pilot.press("end")
        await settle(pilot)
        assert b.app.results.cursor == min(reach, 40) - 1
        await pilot.press("end", "end", "end")
        await settle(pilot)
        assert b.app.results.cursor == 39  # the last row: no note any more
        assert "End:" not in str(b.app.query_one("#status").render())
        assert b.app.results.current["title"].startswith("Regional Trade Bulletin")


@run_async
async def test_results_of_a_stale_keystroke_are_never_shown(tui_db, monkeypatch):
    import threading

    b = Browser(tui_db)
    late = threading.Event()
    real = b.app.reader.query

    def query(text, filters, generation, first=40):
        found = real(text, filters, generation, first)
        if text == "iran":  # answered, then held until a newer keystroke is on screen
            late.wait(10)
        return found

    b.app.reader.query = query
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "iran")
        await pilot.pause()
        await type_text(pilot, "ian nuclear")
        await shown(pilot, "iranian nuclear")
        newer = ids(b.app)
        late.set()  # now the stale answer arrives
        await settle(pilot)
        assert b.app.results.results.text == "iranian nuclear"
        assert ids(b.app) == newer and newer[0] == IRAN


@run_async
async def test_a_text_searched_a_moment_ago_is_shown_without_searching(tui_db):
    b = Browser(tui_db)
    searched = record_searches(b.app)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "samarkand")
        await settle(pilot)
        first = ids(b.app)
        assert searched[-1] == "samarkand"
        searched.clear()
        await pilot.press("space")  # "samarkand ": the same words
        await settle(pilot)
        await pilot.press("backspace", "backspace", "d")  # "samarkan", then back
        await settle(pilot)
        assert searched == []  # all three texts were searched while typing
        assert b.app.query_text == "samarkand" and ids(b.app) == first
        assert b.app.results.results.generation == b.app.generation
        # Every key got results on screen (and the empty box at the start did).
        assert len(b.app.latencies) == 1 + len("samarkand") + 4
        await pilot.press("s")
        await settle(pilot)
        assert searched == ["samarkands"]


@run_async
async def test_a_query_longer_than_the_box_scrolls_to_the_cursor(tui_db):
    b = Browser(tui_db)
    async with b.app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        # Pasted, then typed: both move the cursor past the box's right edge (typing
        # all 58 keys, each a search, cost this test 6 s).
        pilot.app.query_one("#search").post_message(
            events.Paste("samarkand summit shanghai cooperation organization ")
        )
        await settle(pilot)
        await type_text(pilot, "history")
        await settle(pilot)
        box = screen_text(b.app).splitlines()[0]
        # The end of the text, where the cursor is, is in view; its start scrolled away.
        assert "organization history" in box and not box.strip().startswith("samarkand")
        await pilot.press("home")
        await pilot.pause()
        assert screen_text(b.app).splitlines()[0].strip().startswith("samarkand")


class QueryGate:
    """Holds every search until ``release()`` (or fails it with ``error``)."""

    def __init__(self, monkeypatch, error: Exception | None = None) -> None:
        import threading

        from irarchive.tui.source import Reader

        self.open = threading.Event()
        self.waiting = threading.Event()
        real = Reader.query

        def query(reader, text, *args):
            if text.strip():
                self.waiting.set()
                self.open.wait(10)
                if error is not None:
                    raise error
            return real(reader, text, *args)

        monkeypatch.setattr(Reader, "query", query)

    def release(self) -> None:
        self.open.set()


@run_async
async def test_garbage_collection_waits_for_a_keystrokes_results_and_no_longer(tui_db, monkeypatch):
    import gc

    gate = QueryGate(monkeypatch)
    b = Browser(tui_db, freeze=True)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert gc.isenabled() and gc.get_freeze_count() > 0  # what lives on is frozen
        await type_text(pilot, "bulletin")
        for _ in range(500):
            if gate.waiting.is_set():
                break
            await asyncio.sleep(0.02)
        assert gate.waiting.is_set() and not gc.isenabled()  # searching: no collection
        gate.release()
        await shown(pilot, "bulletin")
        for _ in range(500):  # until the frame that drew them has been counted as shown
            if not b.app._typed:
                break
            await asyncio.sleep(0.02)
        assert not b.app._typed and gc.isenabled()
    # Closed: nothing left frozen or disabled in the program that ran the browser.
    assert gc.isenabled() and gc.get_freeze_count() == 0


@run_async
async def test_a_failed_search_lets_garbage_collection_run_again(tui_db, monkeypatch):
    import gc
    import sqlite3

    gate = QueryGate(monkeypatch, error=sqlite3.DatabaseError("database disk image is malformed"))
    gate.release()
    b = Browser(tui_db, freeze=True)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        for _ in range(500):
            if "Error" in status(b.app):
                break
            await asyncio.sleep(0.02)
        assert "Error: database disk image is malformed" in status(b.app)
        assert gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0


@run_async
async def test_garbage_collection_waits_for_a_moves_frame_and_a_pages_arrival(tui_db, monkeypatch):
    import gc

    from irarchive.tui.results import ResultList

    monkeypatch.setattr("irarchive.tui.source.PAGE", 5)
    collecting: list[bool] = []  # gc.isenabled() as each line of the list was drawn
    real = ResultList.render_line

    def render_line(self, y):
        collecting.append(gc.isenabled())
        return real(self, y)

    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 20)) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await settle(pilot)
        monkeypatch.setattr(ResultList, "render_line", render_line)
        await pilot.press("pagedown")  # the cursor to the last row on screen
        await settle(pilot)
        moved = len(collecting)
        await pilot.press("pagedown", "pagedown")  # rows not loaded: drawn as they arrive
        await settle(pilot)
        assert "loading" not in screen_text(b.app) and b.app.results.current is not None
        assert moved >= 2 and len(collecting) > moved
        assert not any(collecting)  # no line was drawn while a collection could run
        assert gc.isenabled()  # and once drawn, collections run as usual


@run_async
async def test_garbage_collection_is_held_a_bounded_time(tui_db, monkeypatch):
    import gc

    from irarchive.tui import collector

    monkeypatch.setattr("irarchive.tui.app.CHECK_CHANGES_EVERY", 0.05)
    monkeypatch.setattr(collector, "HOLD_AT_MOST", 0.2)
    gate = QueryGate(monkeypatch)  # the search never answers (until the end)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        for _ in range(500):
            if gate.waiting.is_set():
                break
            await asyncio.sleep(0.02)
        assert gate.waiting.is_set() and not gc.isenabled()
        for _ in range(250):
            if gc.isenabled():
                break
            await asyncio.sleep(0.02)
        assert gc.isenabled() and b.app._typed  # released, results still awaited
        gate.release()
        await settle(pilot)
    assert gc.isenabled()


def test_the_collector_releases_a_hold_older_than_its_limit():
    import gc

    from irarchive.tui.collector import HOLD_AT_MOST

    now = [100.0]
    quiet = QuietCollector(clock=lambda: now[0])
    try:
        quiet.hold()
        now[0] += HOLD_AT_MOST * 0.9
        quiet.limit()
        assert not gc.isenabled()
        now[0] += HOLD_AT_MOST * 0.2
        quiet.limit()
        assert gc.isenabled()
        quiet.hold()  # the next key holds it again, for as long
        assert not gc.isenabled()
    finally:
        quiet.close()
    assert gc.isenabled()


@run_async
async def test_results_cached_before_another_program_changed_the_archive_are_not_shown(
    tui_db, tmp_path, cli, monkeypatch
):
    import json

    monkeypatch.setattr("irarchive.tui.app.CHECK_CHANGES_EVERY", 0.05)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "samarkand")
        await settle(pilot)
        assert ids(b.app) == [SAMARKAND]
        await pilot.press("ctrl+a", "ctrl+k")
        await settle(pilot)
        # Another program adds an article while the browser is open.
        extra = tmp_path / "more.jsonl"
        new = {"title": "Samarkand Revisited", "date": "2023-01-05", "category": "Politics"}
        extra.write_text(json.dumps(new) + "\n", encoding="utf-8")
        r = cli("--db", str(tui_db), "import", str(extra))
        assert r.code == 0, r
        for _ in range(200):  # until the browser has looked (every 0.05 s here)
            await pilot.pause()
            if f"archive: {len(ARTICLES) + 1}" in status(b.app):
                break
            await asyncio.sleep(0.02)
        assert f"archive: {len(ARTICLES) + 1}" in status(b.app)
        await type_text(pilot, "samarkand")  # searched a moment ago: was in the cache
        await settle(pilot)
        titles = [
            b.app.results.results.rows[i]["title"] for i in sorted(b.app.results.results.rows)
        ]
        assert "Samarkand Revisited" in titles and len(titles) == 2


@run_async
async def test_the_categories_are_read_once_and_again_after_another_program_changed_them(
    tui_db, tmp_path, cli, monkeypatch
):
    import json

    from irarchive.tui.source import Reader

    monkeypatch.setattr("irarchive.tui.app.CHECK_CHANGES_EVERY", 0.05)
    reads = []
    real = Reader.categories
    monkeypatch.setattr(Reader, "categories", lambda r: reads.append(1) or real(r))
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for _ in range(2):  # the second time from what the first read
            await pilot.press("escape", "c")
            await settle(pilot)
            assert isinstance(b.app.screen, CategoryPicker)
            assert "Folklore" not in b.app.screen.categories
            await pilot.press("escape")
            await settle(pilot)
        assert len(reads) == 1
        # Another program adds an article of a new category while the browser is open.
        extra = tmp_path / "more.jsonl"
        new = {"title": "Tales of the Steppe", "date": "2023-01-05", "category": "Folklore"}
        extra.write_text(json.dumps(new) + "\n", encoding="utf-8")
        assert cli("--db", str(tui_db), "import", str(extra)).code == 0
        for _ in range(200):  # until the browser has looked (every 0.05 s here)
            await pilot.pause()
            if f"archive: {len(ARTICLES) + 1}" in status(b.app):
                break
            await asyncio.sleep(0.02)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(b.app.screen, CategoryPicker)
        assert "Folklore" in b.app.screen.categories and len(reads) == 2


@run_async
async def test_the_rows_preview_and_status_line_change_together(tui_db):
    # One frame draws a keystroke's results: the preview is not left to the list's
    # Highlighted message, which arrives a message (often a frame) later.
    from irarchive.tui.preview import Preview

    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        found = b.app.results.results  # the newest articles
        again = found.copy(b.app.generation + 1)
        again.rows = {0: found.rows[1], 1: found.rows[0]}
        again.total = 2
        b.app.generation += 1
        b.app.show_results(again)
        # No await: nothing else has run yet.
        assert b.app.query_one(Preview).article is again.rows[0]
        assert str(b.app.query_one("#status").render()).startswith("2 articles")
        await settle(pilot)


@run_async
async def test_the_preview_is_drawn_again_only_for_another_article(tui_db, monkeypatch):
    from irarchive.tui import preview as preview_mod

    drawn: list[str] = []
    real = preview_mod.render.preview

    def counted(article, terms):
        drawn.append(article["id"] if article else "")
        return real(article, terms)

    monkeypatch.setattr(preview_mod.render, "preview", counted)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        pane = b.app.query_one(preview_mod.Preview)
        article, terms = dict(pane.article), list(pane._terms)
        drawn.clear()
        pane.show(dict(article), terms)  # a new search's equal copy of it
        assert drawn == []
        pane.show(dict(article, title="Another title"), terms)
        assert drawn == [article["id"]]


@run_async
async def test_a_keystroke_counts_as_shown_once_the_list_has_drawn_it(tui_db):
    # A cached text is answered at once, before the key's echo is drawn: the
    # refresh that follows may not draw the list yet, and is not its "on screen".
    b = Browser(tui_db)
    painted_when_timed: list[tuple[int, int]] = []

    class Timed(list):
        def append(self, item):
            painted_when_timed.append((b.app.results.painted, b.app.generation))
            super().append(item)

    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "samarkand")
        await settle(pilot)
        b.app.latencies = Timed()
        painted_when_timed.clear()
        await pilot.press("space")  # from the cache
        await settle(pilot)
        await pilot.press("backspace")  # from the cache
        await settle(pilot)
        assert len(painted_when_timed) == 2
        assert all(painted == generation for painted, generation in painted_when_timed)


@run_async
async def test_a_space_after_an_unfinished_word_searches_again(tui_db, monkeypatch):
    # While typed, a word is searched as its commonest completions (none here): the
    # space that finishes it may find more, so it is not answered from the cache.
    from irarchive import search as search_mod

    monkeypatch.setattr(search_mod, "TYPING_COMPLETIONS", 0)
    b = Browser(tui_db)
    searched = record_searches(b.app)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "samar")
        await settle(pilot)
        assert ids(b.app) == [] and b.app.results.results.unfinished
        searched.clear()
        await pilot.press("space")
        await settle(pilot)
        assert searched == ["samar "]
        assert SAMARKAND in ids(b.app)  # "samar" finished: a prefix of "samarkand"
        await pilot.press("backspace")  # "samar" again: its own results, cached
        await settle(pilot)
        assert searched == ["samar "]


@pytest.mark.parametrize(("set_by_user", "seen"), [(None, "120"), ("30", "30")])
def test_browse_asks_textual_for_120_frames_a_second(cli, seeded, monkeypatch, set_by_user, seen):
    # Textual reads TEXTUAL_FPS when first imported: the browser's module is imported
    # with it set (unless the person set it), and it is not left set afterwards.
    import os
    import sys
    import types

    from irarchive.tui import FRAMES_PER_SECOND

    assert str(FRAMES_PER_SECOND) == "120"
    at_import: list[str | None] = []

    class FakeApp:
        return_code = 0

        def __init__(self, *args, **kwargs) -> None:
            pass

        def run(self) -> None:
            return None

    def module_attr(name: str):
        if name != "BrowseApp":
            raise AttributeError(name)
        at_import.append(os.environ.get("TEXTUAL_FPS"))
        return FakeApp

    fake = types.ModuleType("irarchive.tui.app")
    fake.__getattr__ = module_attr
    monkeypatch.setitem(sys.modules, "irarchive.tui.app", fake)
    if set_by_user is None:
        monkeypatch.delenv("TEXTUAL_FPS", raising=False)
    else:
        monkeypatch.setenv("TEXTUAL_FPS", set_by_user)
    monkeypatch.setattr("irarchive.cli._isatty", lambda stream: True)
    monkeypatch.setattr("irarchive.cli.stdout_is_terminal", lambda: True)
    r = cli("browse")
    assert r.code == 0, r.err
    assert at_import == [seen]
    assert os.environ.get("TEXTUAL_FPS") == set_by_user


@run_async
async def test_with_a_date_filter_its_articles_are_kept_after_the_paint(tui_db, monkeypatch):
    # The count after the first paint reads which articles the filter selects once;
    # the searches of the keystrokes that follow test their matches against them.
    from irarchive.dates import resolve_filters
    from irarchive.store import Filters

    monkeypatch.setattr("irarchive.tui.source.PAGE", 2)  # a full first page: counted after

    period = resolve_filters("2022", None, None, today=TODAY)
    b = Browser(tui_db, filters=Filters(period=period), dates_text="2022")
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        archive = b.app.reader._archive
        kept = archive._kept[1]
        listed = b.app.reader.run(
            lambda a: {
                a.conn.execute("SELECT rowid FROM articles WHERE id = ?", (r["id"],)).fetchone()[0]
                for r in a.list_articles(Filters(period=period), limit=None)
            }
        )
        assert kept and kept == listed


@pytest.mark.parametrize(
    ("method", "keys"),
    [("count", tuple("bulletin")), ("categories", ("escape", "c")), ("related", ("escape", "r"))],
)
@run_async
async def test_a_failed_read_is_said_in_the_status_line(tui_db, monkeypatch, method, keys):
    """Every read off the app's thread (not only the search) says its error."""
    import sqlite3

    from irarchive.tui.source import Reader

    def broken(*args, **kwargs):
        raise sqlite3.DatabaseError(f"{method}: database disk image is malformed")

    monkeypatch.setattr(Reader, method, broken)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        assert f"Error: {method}: database disk image is malformed" in status(b.app)


@run_async
async def test_a_failed_look_for_changes_is_left_to_the_next_search(tui_db, monkeypatch):
    import sqlite3

    from irarchive.tui.source import Reader

    looked = []

    def broken(reader):
        looked.append(1)
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr("irarchive.tui.app.CHECK_CHANGES_EVERY", 0.05)
    monkeypatch.setattr(Reader, "version", broken)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for _ in range(200):
            if looked:
                break
            await asyncio.sleep(0.02)
        await settle(pilot)
        assert looked and "Error" not in status(b.app)


@run_async
async def test_a_keystroke_draws_only_the_rows_that_look_different(tui_db, monkeypatch):
    # Rows are kept by what they show (article, where its title is highlighted, width,
    # cursor), so the next keystroke's results draw only rows not drawn alike before,
    # though the query's words changed ("trad" to "trade" highlights the same words).
    from irarchive.tui import render
    from irarchive.tui import results as results_mod

    drawn: list[tuple[str, tuple]] = []
    real = results_mod.render.row_segments

    def counted(article, spans, width, console):
        drawn.append((article["id"], spans))
        return real(article, spans, width, console)

    monkeypatch.setattr(results_mod.render, "row_segments", counted)
    lines: list[int] = []
    render_line = results_mod.ResultList.render_line

    def line(self, y):
        lines.append(y)
        return render_line(self, y)

    monkeypatch.setattr(results_mod.ResultList, "render_line", line)
    b = Browser(tui_db)
    async with b.app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        listed = b.app.results

        def on_screen() -> list[tuple[str, tuple]]:
            top = listed.scroll_offset.y
            shown = range(top, top + listed.scrollable_content_region.height)
            rows = [listed.results.rows.get(i) for i in shown]
            return [(a["id"], render.matched_spans(a["title"], listed.terms(a))) for a in rows if a]

        await type_text(pilot, "regional trad")
        await settle(pilot)
        before = set(on_screen())
        words = dict(listed.results.terms)
        drawn.clear()
        lines.clear()
        await pilot.press("e")
        await settle(pilot)
        now = on_screen()
        assert listed.results.terms != words  # the query's words changed
        assert len(now) > 10 and sum(row in before for row in now) > 10
        assert sorted(set(drawn)) == sorted(row for row in now if row not in before)
        # Only the lines that changed go through Textual's line pipeline again (and
        # the first, so the frame that shows the results draws the list).
        changed = {y for y, row in enumerate(now) if row not in before}
        assert set(lines) <= changed | {0}
        assert "Regional Trade Bulletin" in screen_text(b.app)
        # A row whose highlighted words change is drawn again.
        first = listed.results.rows[listed.scroll_offset.y + 1]
        listed.results.terms[first["id"]] = ["bulletin"]
        listed._keys.clear()  # as a new page of rows does
        drawn.clear()
        listed.refresh()
        await settle(pilot)
        assert [row[0] for row in drawn] == [first["id"]]


def test_each_title_highlights_its_matched_and_typed_words_once(tui_db):
    from irarchive.store import Filters
    from irarchive.tui.source import Reader

    reader = Reader(str(tui_db))
    try:
        reader.want(1)
        found = reader.query("samarkand summit", Filters(), 1, 40)
        terms = found.terms[SAMARKAND]
        assert {"samarkand", "summit"} <= set(terms)
        assert len(terms) == len(set(terms))
    finally:
        reader.close()


ROW_TITLES = [
    "2022 SCO Summit in Samarkand: Key Takeaways",
    "Shanghai Cooperation Organization: History and Role in Regional Security in Eurasia",
    "中国与中亚峰会：最新进展与合作前景",  # two cells a character: cut inside one
    "Türkiye’s “Middle Corridor” 🚆 and the Trans-Caspian route",
    "Cafe\u0301 diplomacy",  # a combining mark
    HOSTILE_TITLE,
    "",
]


@pytest.mark.parametrize("width", [4, 12, 20, 35, 69, 70, 101])
@pytest.mark.parametrize("title", ROW_TITLES)
def test_a_row_drawn_directly_is_the_row_text_rendered(title, width):
    # The list draws rows as segments made directly; they must be exactly what
    # rendering the row's Text gives: the same cells, styles and segments.
    from rich.console import Console

    from irarchive.tui import render

    console = Console(width=200, color_system="truecolor")
    for dated, category in [
        ("2022-09-30", "Politics"),
        (None, None),
        ("2022-W39", "International Relations and Security"),
        ("２０２２年九月", "能源"),
    ]:
        article = {"title": title, "date": dated, "category": category}
        for terms in ([], ["samarkand", "sco"], ["shangh", "regional", "security"], ["中国"]):
            spans = render.matched_spans(title, terms)
            expected = list(render.row(article, spans, width).render(console, end=""))
            assert render.row_segments(article, spans, width, console) == expected
