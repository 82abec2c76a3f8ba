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
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; write it with IRARCHIVE_SNAPSHOTS=update"
    assert text == path.read_text(encoding="utf-8")


def assert_fits(text: str, width: int) -> None:
    """Every line at most ``width`` cells; the borders whole (no clipped right edge)."""
    from rich.cells import cell_len

    lines = text.splitlines()
    assert lines, text
    for line in lines:
        assert cell_len(line) <= width, (width, line)
        assert line[-1] in "┓┃┩│┘┤╮╯", line  # the right border is there on every line
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
    assert wide[1].split("┃")[1:-1] == [
        " id               ",
        " date       ",
        wide[1].split("┃")[3],
        " category                ",
    ]
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
    cli(
        "import",
        "-",
        stdin=b'{"title": "A short one", "date": "2022-01-02", "category": "Economy"}',
    )
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


# ---- a real terminal: the pager --------------------------------------------------------


def run_pty(
    *args: str,
    env: dict[str, str] | None = None,
    rows: int = 24,
    cols: int = 100,
    interrupt_after: bytes | None = None,
):
    """``python -m irarchive ARGS`` on a pseudo-terminal; (exit code, what the screen got)."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import subprocess
    import termios
    import time

    from tests.conftest import IRARCHIVE

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    full_env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
    for name in ("COLUMNS", "LINES"):  # the size is the pty's (rich reads these first)
        full_env.pop(name, None)
    proc = subprocess.Popen(
        [*IRARCHIVE, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=full_env,
        start_new_session=True,
        # Ctrl-C does what it does at a terminal even when the suite itself runs with
        # SIGINT ignored (a background job, nohup), which the child would inherit.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    got = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the other side closed
                    break
                if not chunk:
                    break
                got += chunk
                if interrupt_after is not None and interrupt_after in got:
                    proc.send_signal(signal.SIGINT)
                    interrupt_after = None
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, got.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.fixture
def pager_file(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A pager that records what it is given (a shell command, as $PAGER may be)."""
    paged = tmp_path / "paged.txt"
    return paged, {"IRARCHIVE_PAGER": f"cat > {paged}", "PAGER": "false"}


def test_long_output_on_a_terminal_goes_to_the_pager(seeded, pager_file) -> None:
    paged, env = pager_file
    code, screen = run_pty("list", env=env, rows=10)
    assert code == 0
    text = paged.read_text(encoding="utf-8")
    assert "2022 SCO Summit in Samarkand" in text and "┏" in text
    assert "Samarkand" not in screen  # the table went to the pager, not the screen


def test_pager_falls_back_to_PAGER(seeded, pager_file) -> None:
    paged, env = pager_file
    env = {"PAGER": env["IRARCHIVE_PAGER"]}
    code, _ = run_pty("list", env=env, rows=10)
    assert code == 0 and "Samarkand" in paged.read_text(encoding="utf-8")


@pytest.mark.parametrize("how", [("--no-pager", "list"), ("list", "--no-pager")])
def test_no_pager_prints_to_the_terminal(seeded, pager_file, how) -> None:
    paged, env = pager_file
    code, screen = run_pty(*how, env=env, rows=10)
    assert code == 0
    assert not paged.exists()
    assert "Samarkand" in screen


def test_a_missing_pager_prints_to_the_terminal(seeded) -> None:
    code, screen = run_pty("list", env={"IRARCHIVE_PAGER": "no-such-pager-here -R"}, rows=10)
    assert code == 0
    assert "Samarkand" in screen and "not found" not in screen


def test_short_output_and_pipes_never_page(seeded, pager_file) -> None:
    from tests.conftest import run_proc

    paged, env = pager_file
    code, screen = run_pty("list", "-n", "1", env=env, rows=40)
    assert code == 0 and "Samarkand" not in screen and "CICA" in screen
    assert not paged.exists()
    r = run_proc("list", "-f", "table", env=env)  # a pipe, even with a table asked for
    assert r.code == 0 and "Samarkand" in r.out
    assert not paged.exists()


# ---- global options on either side of the subcommand -----------------------------------


def test_global_options_work_after_the_subcommand(tmp_path, cli, seeded) -> None:
    other = tmp_path / "news.db"
    r = cli("list", "--db", str(other), "--no-seed", "--json")
    assert (r.code, r.out) == (0, "[]\n")
    assert r.err == f"Created an empty archive at {other}\n"
    r = cli("db", "path", f"--db={other}")
    assert r.out == f"{other}\n"
    r = cli("search", "--", "--db")  # after --, it is a query, not an option
    assert r.code == 0 and "No such option" not in r.err


def test_hoisting_keeps_order_and_values() -> None:
    from irarchive.cli import hoist_global_options

    assert hoist_global_options(["list", "--db", "x.db", "-n", "3"]) == [
        "--db",
        "x.db",
        "list",
        "-n",
        "3",
    ]
    assert hoist_global_options(["show", "--", "--no-pager"]) == ["show", "--", "--no-pager"]
    assert hoist_global_options(["--db"]) == ["--db"]  # click says what is missing


# ---- show: the panel ---------------------------------------------------------------------

LONG = {
    "title": "A very long title about [bold]x[/bold] things that goes on and on and on "
    "well past the width of a narrow terminal window",
    "date": "2022-01-05",
    "url": "https://example.org/a/very/long/path/that/will/not/fit/in/a/sixty/column/panel?x=1",
    "extra": {"category_guess": "Economy", "tags": ["a", "b"]},
    "excerpt": "Short.",
}


@pytest.fixture
def long_article(seeded, cli) -> None:
    import json

    r = cli("import", "-", "-f", "jsonl", stdin=(json.dumps(LONG) + "\n").encode())
    assert r.code == 0, r


def test_show_puts_the_whole_title_inside_the_panel(long_article, terminal) -> None:
    out = terminal(60, "show", "very long title").out
    lines = out.splitlines()
    assert set(lines[0][1:-1]) == {"─"}  # nothing cut into the top border
    inside = " ".join(line.strip("│ ") for line in lines[1:4])
    assert " ".join(inside.split()) == LONG["title"]
    assert_fits("\n".join(lines[:-1]), 60)


def test_show_extra_is_key_value_lines(long_article, terminal) -> None:
    out = terminal(100, "show", "very long title").out
    assert "│ category_guess: Economy " in out and '│ tags: ["a", "b"] ' in out
    assert "{" not in out


def test_show_on_a_pipe_has_the_extra_lines_too(long_article, cli) -> None:
    plain = cli("show", "very long title").out  # a pipe: the same lines, unboxed
    assert '\ncategory_guess: Economy\ntags: ["a", "b"]\n' in plain


def test_show_url_is_one_piece(long_article, terminal) -> None:
    at100 = terminal(100, "show", "very long title").out
    assert f"│ url: {LONG['url']} " in at100  # fits: inside the panel
    at60 = terminal(60, "show", "very long title").out
    assert at60.splitlines()[-1] == f"url: {LONG['url']}"  # under it, never in fragments
    assert "url:" not in at60.split("╰")[0]


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.org/a?b=1", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://example.org/x y", False),
        ("[link=file:///etc/passwd]x[/link]", False),
    ],
)
def test_show_url_is_a_hyperlink_only_for_web_addresses(url: str, linked: bool) -> None:
    import io

    from irarchive.output import console, render_panel

    buf = io.StringIO()
    con = console(buf, force_terminal=True, width=100)
    con.print(render_panel({"title": "T", "url": url, "id": "0123456789abcdef"}))
    out = buf.getvalue()
    if linked:
        assert f";{url}\x1b\\" in out  # OSC 8 ; params ; URL ST
    else:
        assert "\x1b]8;" not in out, repr(out)


# ---- help ----------------------------------------------------------------------------------

ALL_COMMANDS = [
    ("list",),
    ("show",),
    ("search",),
    ("import",),
    ("stats",),
    ("related",),
    ("export",),
    ("serve",),
    ("db", "path"),
    ("db", "init"),
    ("db", "info"),
    ("db", "check"),
    ("tag",),
    ("tags",),
    ("note",),
    ("lists", "add"),
    ("lists", "show"),
    ("lists", "export"),
    ("lists", "remove"),
]


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_two_to_four_examples(cli, command) -> None:
    r = cli(*command, "--help")
    assert r.code == 0
    examples = r.out.split("Examples:\n", 1)[1].splitlines()
    runs = [
        line for line in examples if line.startswith("    $ irarchive ") or "| irarchive" in line
    ]
    assert 2 <= len(runs) <= 4, r.out
    assert all(" # " in line for line in runs)  # each says what it does
    assert " ".join(command) in " ".join(runs)


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("search", "Usage: irarchive search [OPTIONS] QUERY\n"),
        ("show", "Usage: irarchive show [OPTIONS] REF...\n"),
        ("related", "Usage: irarchive related [OPTIONS] REF\n"),
    ],
)
def test_usage_lines_name_the_arguments(cli, command, usage) -> None:
    out = cli(command, "--help").out
    assert out.startswith(usage)
    assert "<int" not in out and "<float" not in out and "{" not in out.splitlines()[0]


def test_limits_show_N_not_a_range(cli) -> None:
    for command in ("list", "search", "related", "export"):
        assert "--limit N " in cli(command, "--help").out


def test_examples_from_help_run(seeded, cli) -> None:
    """The examples that need no other file work on the bundled articles."""
    for args in (
        ("list", "--since", "2022-03"),
        ("list", "-c", "international relations", "--on", "2022"),
        ("show", "141e649d"),
        ("show", "iranian-nuclear-deal-crisis"),
        ("show", "sco summit samarkand"),
        ("search", "central asia energy"),
        ("related", "2022-sco-summit-samarkand-key", "-n", "3", "--json"),
        ("stats", "--by", "category", "-q", "energy"),
        ("export", "-q", "central asia", "-f", "csl-json"),
    ):
        r = cli(*args)
        assert (r.code, r.exception) == (0, None), (args, r)
        assert r.out, args


def test_bare_irarchive_shows_an_overview(cli) -> None:
    r = cli()
    assert r.code == 2 and r.out == ""
    lines = r.err.splitlines()
    assert lines[0] == "Usage: irarchive [OPTIONS] COMMAND [ARGS]..."
    assert "Most used:" in lines
    assert any(line.startswith("  irarchive search ") for line in lines)
    assert len(lines) < 20  # short: the full list is --help
    assert "--install-completion" not in r.err
    # Every command the app has is named, so a new one is never missing from it.
    listed = next(line for line in lines if line.startswith("Commands: "))
    names = {n.strip() for n in listed.removeprefix("Commands: ").split(",")}
    assert {"list", "show", "search", "browse", "import", "update", "sources", "db"} <= names


def test_export_to_a_json_file_is_json(seeded, cli, tmp_path) -> None:
    import json

    r = cli("export", "-o", str(tmp_path / "refs.json"))
    assert r.code == 0 and r.err.endswith(f"as json to {tmp_path / 'refs.json'}\n")
    assert len(json.loads((tmp_path / "refs.json").read_text(encoding="utf-8"))) == 10


def test_export_without_format_or_file_writes_bibtex(seeded, cli) -> None:
    r = cli("export", "-n", "1")
    assert r.code == 0
    assert r.out.startswith("@online{sixth2022-141e649dec283798,\n")
    assert "else bibtex" in " ".join(cli("export", "--help").out.split())


# ---- messages ------------------------------------------------------------------------------


def test_empty_result_says_why_on_a_terminal(seeded, terminal) -> None:
    r = terminal(100, "list", "--since", "3m")
    assert (r.code, r.out) == (0, "")
    assert r.err == (
        "no articles match: the newest article is dated 2022-11-01, "
        "before --since 3m (2026-08-27)\n"
    )
    r = terminal(100, "list", "--until", "1990")
    assert r.err == "no articles match: the oldest article is dated 2021-12-27, after 1990-12-31\n"
    r = terminal(100, "search", "summit", "--since", "2023")
    assert r.err.startswith("no articles match: the newest article is dated 2022-11-01")
    r = terminal(100, "stats", "--since", "2023")
    assert r.err == (
        "no articles match: the newest article is dated 2022-11-01, before --since 2023 "
        "(2023-01-01)\n"
    )


def test_empty_result_on_a_pipe_says_nothing(seeded, cli) -> None:
    r = cli("list", "--since", "3m")
    assert (r.code, r.out, r.err) == (0, "", "")


def test_short_id_prefix_says_four_digits(seeded, cli) -> None:
    r = cli("show", "9db")
    assert r.code == 1
    assert r.err == (
        "Error: no article '9db'; id prefixes need at least 4 hex digits "
        "(try: irarchive search 9db)\n"
    )
    assert "hex digits" not in cli("show", "zzz").err


def test_db_info_on_an_empty_archive_says_dates_none(tmp_path, cli) -> None:
    r = cli("--db", str(tmp_path / "e.db"), "--no-seed", "db", "info")
    assert r.code == 0
    assert "\ndates: none\n" in r.out


def test_sort_title_ignores_leading_quotes_and_punctuation(tmp_path, cli) -> None:
    import json

    db = str(tmp_path / "t.db")
    titles = ["“Second Life” at twenty", "Third thing", "'Alpha' first", "...and Beta", "(Gamma)"]
    lines = "".join(json.dumps({"title": t, "date": "2022-01-01"}) + "\n" for t in titles)
    assert (
        cli("--db", db, "--no-seed", "import", "-", "-f", "jsonl", stdin=lines.encode()).code == 0
    )
    r = cli("--db", db, "list", "--sort", "title", "--fields", "title")
    assert r.out.splitlines() == [
        "'Alpha' first",
        "...and Beta",
        "(Gamma)",
        "“Second Life” at twenty",
        "Third thing",
    ]


# ---- import: --map, progress and Ctrl-C ------------------------------------------------------


def test_map_reads_a_field_as_another(tmp_path, cli) -> None:
    import json

    db = str(tmp_path / "m.db")
    lines = (
        json.dumps({"title": "A", "category_guess": "Economy", "category": "Old"})
        + "\n"
        + json.dumps({"title": "B", "Headline_Text": "ignored", "when": "2022-03-04"})
        + "\n"
    )
    maps = ("--map", "category_guess=category", "--map", "WHEN=date")
    r = cli("--db", db, "--no-seed", "import", "-", "-f", "jsonl", *maps, stdin=lines.encode())
    assert (r.code, r.err.splitlines()[-1]) == (
        0,
        "<stdin>: 2 added, 0 updated, 0 unchanged, 0 rejected",
    )
    got = {a["title"]: a for a in json.loads(cli("--db", db, "list", "--json").out)}
    assert got["A"]["category"] == "Economy"
    assert got["A"]["extra"] == {"original_category": "Old"}  # replaced, not lost
    assert got["B"]["date"] == "2022-03-04" and "when" not in got["B"]["extra"]


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("category_guess", "expected SRC=FIELD"),
        ("a=colour", "expected SRC=FIELD"),
        ("=title", "expected SRC=FIELD"),
    ],
)
def test_map_rejects_bad_specs(tmp_path, cli, spec, why) -> None:
    r = cli("--db", str(tmp_path / "m.db"), "import", "-", "--map", spec, stdin=b"")
    assert r.code == 2
    assert r.err == (
        f"Error: --map {spec!r}: {why} with FIELD one of: "
        "title, excerpt, url, date, category, source_id\n"
    )


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """A JSONL file big enough (over 5 MB) for a progress bar."""
    import json

    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as f:
        for i in range(60_000):
            f.write(
                json.dumps(
                    {
                        "title": f"Article number {i} about things",
                        "date": "2022-01-01",
                        "excerpt": "word " * 12,
                    }
                )
                + "\n"
            )
    assert big.stat().st_size > 5_000_000
    return big


@pytest.fixture
def few_long(tmp_path: Path) -> Path:
    """Over 5 MB too, in 6,000 records with long excerpts: imported in a fifth of the
    time ``big`` takes, for a test that waits for the whole import."""
    import json

    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(6_000):
            record = {"title": f"Article number {i} about things", "date": "2022-01-01"}
            f.write(json.dumps({**record, "excerpt": "word " * 170}) + "\n")
    assert path.stat().st_size > 5_000_000
    return path


@pytest.mark.slow
def test_import_progress_shows_percentage_eta_and_counts_like_the_summary(
    tmp_path, few_long
) -> None:
    import re

    big = few_long
    code, screen = run_pty("--db", str(tmp_path / "p.db"), "--no-seed", "import", str(big))
    assert code == 0, screen
    frames = screen.split("\r")
    bar = [f for f in frames if "importing big.jsonl" in f]
    assert bar, screen
    last = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", bar[-1])
    assert re.search(r" 100% 6,000 records \d+:\d\d:\d\d", last), last
    assert screen.rstrip().endswith(f"{big}: 6,000 added, 0 updated, 0 unchanged, 0 rejected")
    assert "\x1b[2K" in screen[screen.rindex("records") :]  # the bar is gone before it


def test_ctrl_c_clears_the_progress_line_before_interrupted(tmp_path, big) -> None:
    code, screen = run_pty(
        "--db",
        str(tmp_path / "p.db"),
        "--no-seed",
        "import",
        str(big),
        interrupt_after=b" records",
    )
    assert code == 130, screen
    assert screen.rstrip().endswith("Interrupted")
    before = screen[: screen.rindex("Interrupted")]
    last_bar = before.rindex(" records")
    # After the last frame of the bar, the line is erased (rich: ESC[2K) before the message.
    assert "\x1b[2K" in before[last_bar:], repr(before[last_bar - 80 :])


# ---- the README shows real output ------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "irarchive list --since 2022",
        "irarchive show iranian-nuclear-deal-crisis",
        'irarchive search "shangai cooperaton"',
        "irarchive stats",
    ],
)
def test_readme_terminal_examples_are_real_output_at_100_columns(seeded, terminal, command):
    import shlex

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    lines = readme.split("\n")
    start = lines.index(f"$ {command}") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("$ ", "```")))
    r = terminal(100, *shlex.split(command)[1:])
    assert r.code == 0
    assert r.out.rstrip("\n").split("\n") == lines[start:end]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("by", ["year", "category"])
def test_stats_chart_fits_every_width(seeded, terminal, by: str, width: int) -> None:
    r = terminal(width, "stats", "--by", by)
    assert r.code == 0
    table = r.out.split("\n└")[0] + "\n└" + r.out.split("\n└")[1].split("\n")[0]
    assert_fits(table, width)
    bars = [line.split("│")[3] for line in table.splitlines() if line.startswith("│")]
    header = table.splitlines()[1]
    assert f"┃{'period' if by == 'year' else 'category'} " in header  # the label column whole
    assert not any("…" in b for b in bars)  # no bar cut by rich
    longest = max(len(b.strip()) for b in bars)
    if width >= 120:
        assert longest == 40  # the full bar
    elif width == 40:
        assert 1 <= longest < 40 and len(table.splitlines()[0]) == width  # shortened to fit
