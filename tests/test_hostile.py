"""Hostile inputs: article data, queries, options, dates, input files and archive files.

Every case pins the exit code, the one-line message, that no exception escaped and,
where the command could write, that the archive is byte-for-byte (or row-for-row)
unchanged. Commands run in-process through ``cli.main`` (which owns the exit-code
mapping); a few run as real subprocesses, where a traceback would actually show.
This file holds the one copy of each hostile class (bad dates, encodings, malformed
files, hostile queries); other files test the normal behaviour.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from irarchive import migrations
from irarchive.errors import ArchiveError
from irarchive.model import FIELDS
from irarchive.store import open_archive
from tests.conftest import Result, checkpoint, digest, run_cli, run_proc

# ---- helpers -----------------------------------------------------------------------------


def file_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def assert_clean_error(r: Result, code: int, message: str) -> None:
    """Exit ``code`` with exactly one stderr line, equal to ``message`` (or starting so)."""
    assert (r.code, r.exception) == (code, None), r
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 1, r.err
    if message.endswith("…"):
        assert lines[0].startswith(message[:-1]), lines[0]
    else:
        assert lines[0] == message


@pytest.fixture
def db(seeded: Path) -> Path:
    """A seeded archive (its path is passed with --db)."""
    return seeded


# Characters no terminal-facing output may contain raw: C0 (bar tab/newline), DEL, C1,
# bidi embeddings/overrides/isolates and marks.
TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
SGR = re.compile("\x1b\\[[0-9;]*m")

# ---- hostile article data ----------------------------------------------------------------

PAYLOADS: dict[str, str] = {
    "markup_bold": "[bold]x[/bold]",
    "markup_link": "[link=file:///etc/passwd]x[/link]",
    "markup_close": "[/items] [/] [red on white]",
    "ansi_sgr": "red \x1b[31mALERT\x1b[0m done",
    "osc8_link": "\x1b]8;;http://x\x1b\\click\x1b]8;;\x1b\\",
    "osc_title": "\x1b]0;owned\x07 title",
    "csi_c1": "c1 csi \x9b31m red \x9b2J",
    "cursor_moves": "\x1b[2J\x1b[H\x1b[1A\x1b[K erased",
    "c0_controls": "bell\x07 back\x08space form\x0cfeed vt\x0b cr\rreturn esc\x1b",
    "c1_controls": "nel\x85 ssa\x86 st\x9c osc\x9d apc\x9f",
    "del": "del\x7fchar",
    "bidi_override": "invoice \u202etxt.exe\u202c end",
    "bidi_isolates": "\u2066isolate\u2069 \u2067rtl\u2069 \u2068fsi\u2069 \u200f\u200e\u061c",
    "zero_width": "zero\u200bwidth\u200cjoin\u200dnb\ufeffsp\u2060wj",
    "nul": "nul\x00inside",
    "emoji": "emoji 🎉 👩‍👩‍👧 🇺🇳 ✅",
    "arabic": "العلاقات الدولية في آسيا الوسطى",
    "persian": "روابط بین‌الملل و امنیت منطقه‌ای",
    "hebrew_mixed": "שלום abc 123 עולם",
    "cyrillic": "Международные отношения и Шанхайская организация",
    "combining": "Z̷̢͎a̸̛l̵̨g̴o̶ e\u0301\u0301\u0301",
    "surrogate_like": "math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and CJK 中文标题",
    "newlines": "line one\nline two\r\nline three\ttabbed",
    "huge": "H" * 100_000,
}


def hostile_records() -> list[dict]:
    recs = []
    for i, (name, payload) in enumerate(PAYLOADS.items()):
        recs.append(
            {
                "title": f"{payload} hostile{i:02d}",
                "date": f"2021-06-{i + 1:02d}",
                "excerpt": f"needleword {payload} end",
                "category": "Hostile",
                "url": f"https://example.invalid/{name}?q={payload[:50]}",
                "note": payload,
                "nested": {"payload": payload, "list": [payload, 1, None, True]},
            }
        )
    return recs


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed plus every hostile record, imported once through the CLI; copied per test."""
    folder = tmp_path_factory.mktemp("hostile")
    path, src = folder / "hostile.db", folder / "hostile.json"
    recs = hostile_records()
    src.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
    r = run_cli("--db", str(path), "import", str(src))
    assert r.code == 0, r
    assert r.err.splitlines() == [
        f"Created a new archive with the bundled seed (10 articles) at {path}",
        f"{src}: {len(recs)} added, 0 updated, 0 unchanged, 0 rejected",
    ]
    checkpoint(path)
    return path


@pytest.fixture
def hostile_db(hostile_template: Path, tmp_path: Path) -> tuple[Path, list[dict]]:
    path = tmp_path / "hostile.db"
    shutil.copyfile(hostile_template, path)
    return path, hostile_records()


def _expected(rec: dict) -> dict:
    """What the archive keeps: titles and excerpts are stripped of outer whitespace."""
    return {
        "title": rec["title"].strip(),
        "excerpt": rec["excerpt"].strip(),
        "url": rec["url"].strip(),
        "extra": {"note": rec["note"], "nested": rec["nested"]},
    }


LISTINGS = {
    "list": ["list", "--category", "hostile", "--limit", "0"],
    "search": ["search", "--limit", "0", "--min-score", "0", "needleword"],
}


@pytest.mark.parametrize("command", list(LISTINGS))
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_hostile_data_round_trips_exactly_in_json(hostile_db, cli, command, fmt):
    path, recs = hostile_db
    r = cli(
        "--db",
        str(path),
        *LISTINGS[command],
        "--format",
        fmt,
        "--fields",
        "title,excerpt,url,extra",
    )
    assert (r.code, r.exception) == (0, None), r
    # Even JSON is terminal-safe: controls and bidi characters appear as \u escapes.
    assert not TERMINAL_UNSAFE.search(r.out)
    if fmt == "json":
        got = json.loads(r.out)
    else:
        got = [json.loads(line) for line in r.out.splitlines()]
    want = sorted((_expected(rec) for rec in recs), key=lambda d: d["title"])
    got = sorted(
        ({k: d[k] for k in ("title", "excerpt", "url", "extra")} for d in got),
        key=lambda d: d["title"],
    )
    assert got == want


TERMINAL_FORMATS = ["table", "tsv", "csv", "markdown"]


@pytest.mark.parametrize("command", list(LISTINGS))
@pytest.mark.parametrize("fmt", TERMINAL_FORMATS)
def test_hostile_data_is_neutralised_in_text_formats(hostile_db, cli, command, fmt):
    path, recs = hostile_db
    fields = "title,excerpt,url,extra" if command == "list" else "title,excerpt,url,extra"
    r = cli("--db", str(path), *LISTINGS[command], "--format", fmt, "--fields", fields)
    assert (r.code, r.exception) == (0, None), r
    bad = TERMINAL_UNSAFE.findall(r.out)
    assert not bad, sorted(set(bad))
    # Markup is shown literally, never interpreted (rich would have eaten the brackets).
    for literal in ("[bold]x[/bold]", "[link=file:///etc/passwd]x[/link]", "[/items]"):
        shown = literal if fmt != "markdown" else re.sub(r"([\[\]])", r"\\\1", literal)
        if fmt == "table":
            # A table may wrap a long cell; compare with the box drawing removed.
            flat = re.sub(r"\s*[│┃]\s*", "", r.out.replace("\n", ""))
            assert literal.replace(" ", "") in flat.replace(" ", "")
        else:
            assert shown in r.out
    # ESC shows as a visible caret form.
    assert ("^\\[\\[31m" if fmt == "markdown" else "^[[31m") in r.out
    flat = r.out.replace("\n", "").replace(" ", "").replace("│", "")
    # hostile23 has the 100 KB title: a terminal table shows its first 2,000 characters.
    assert "hostile22" in flat and ("hostile23" in flat) == (fmt != "table")


def test_hostile_table_with_forced_colour_has_only_our_own_styling(hostile_db, cli, monkeypatch):
    path, _ = hostile_db
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    for args in (
        ["list", "--category", "hostile", "--limit", "0", "--format", "table"],
        ["search", "--limit", "0", "--min-score", "0", "--format", "table", "needleword"],
    ):
        r = cli("--db", str(path), *args, "--fields", "title,excerpt,url,extra")
        assert r.code == 0, r.err
        stripped = SGR.sub("", r.out)
        assert not TERMINAL_UNSAFE.search(stripped), sorted(set(TERMINAL_UNSAFE.findall(stripped)))
        assert "\x1b]8" not in r.out  # no OSC 8 hyperlink reaches the terminal


def _ids(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, title FROM articles WHERE category = 'Hostile'"))
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["panel", "plain", "json", "tsv", "markdown", "csv"])
def test_show_hostile_articles(hostile_db, cli, mode):
    path, recs = hostile_db
    ids = _ids(path)
    by_title = {t: i for i, t in ids.items()}
    for rec in recs:
        want = _expected(rec)
        art_id = by_title[want["title"]]
        args = ["--db", str(path), "show", art_id]
        if mode == "panel":
            args += ["--format", "table"]
        elif mode != "plain":
            args += ["--format", mode]
        r = cli(*args)
        assert (r.code, r.exception) == (0, None), r
        if mode == "json":
            got = json.loads(r.out)
            assert {k: got[k] for k in want} == want
            assert not TERMINAL_UNSAFE.search(r.out)
        else:
            bad = TERMINAL_UNSAFE.findall(r.out)
            assert not bad, (rec["title"][:40], sorted(set(bad)))
            flat = re.sub(r"[\s│╭╮╰╯─]", "", r.out)
            # The id and the title's visible tail show in every mode.
            assert art_id in flat, (mode, r.out[:300])
            if mode != "panel" or len(want["title"]) < 90:  # a panel cuts a long title
                assert f"hostile{recs.index(rec):02d}" in flat, (mode, r.out[:300])


def test_hostile_titles_as_show_references_do_not_crash(hostile_db, cli):
    path, recs = hostile_db
    for rec in recs:
        r = cli("--db", str(path), "show", "--format", "json", rec["title"])
        assert r.code in (0, 1) and r.exception is None, r
        assert not TERMINAL_UNSAFE.search(r.err), r.err[:200]
        if r.code == 0:
            assert json.loads(r.out)["title"] == rec["title"].strip()


def test_hostile_data_through_a_real_process(hostile_db):
    path, recs = hostile_db
    for args in (
        ["list", "--category", "hostile", "--format", "table", "--limit", "0"],
        ["search", "needleword", "--format", "table", "--limit", "0", "--min-score", "0"],
        ["db", "info"],
        ["db", "check"],
    ):
        r = run_proc("--db", str(path), *args)
        assert (r.code, r.exception) == (0, None), r
        assert not TERMINAL_UNSAFE.search(r.out)


def test_empty_titles_are_rejected_with_file_and_line(tmp_path, db, cli):
    src = tmp_path / "empty-titles.json"
    src.write_text(
        '[\n{"title": "kept one", "date": "2022-01-01"},\n{"title": ""},\n'
        '{"title": "   \\t "},\n{"date": "2022-01-02"},\n{"title": null}\n]\n',
        encoding="utf-8",
    )
    before = digest(db)
    r = cli("--db", str(db), "import", str(src))
    assert r.code == 0
    assert r.err.splitlines() == [
        f"{src}: 1 added, 0 updated, 0 unchanged, 4 rejected",
        *(
            f"  rejected {src}:{n}: record has no title (expected a 'title' field)"
            for n in (3, 4, 5, 6)
        ),
    ]
    strict = tmp_path / "strict.json"
    strict.write_text('[{"title": "new one"},\n{"title": ""}]', encoding="utf-8")
    after_first = digest(db)
    assert after_first != before
    r = cli("--db", str(db), "import", "--strict", str(strict))
    assert_clean_error(
        r,
        1,
        f"Error: {strict}:2: record has no title (expected a 'title' field) "
        "(--strict: nothing from this file was imported)",
    )
    assert digest(db) == after_first


# ---- queries ---------------------------------------------------------------------------
# Every hostile query of the suite, once: FTS5 syntax, SQL injection, regex syntax,
# controls, scripts and sizes. Each runs through the CLI in JSON and as a table.

SCO_HISTORY = "Shanghai Cooperation Organization: History and Role in Regional Security"
SCO_SUMMIT = "2022 SCO Summit in Samarkand: Key Takeaways"
SUMMITS = {
    SCO_SUMMIT,
    "The Sixth CICA Summit: Asian Vision of the Global Development",
    "China’s and India’a Summits with Central Asia: Latest Developments",
}

# Queries whose words are operators, SQL, regex or symbols only: nothing to find.
FIND_NOTHING = [
    '"unclosed phrase',
    '"',
    '""',
    "a AND",
    "AND",
    "OR",
    "excerpt:",
    "-summit",
    "-shanghai",
    "--",
    "-",
    "*",
    "^",
    ":",
    "(",
    ")",
    "[",
    "{}",
    "rank:1",
    "rowid:1",
    "'; DROP TABLE articles; --",
    "1' OR '1'='1",
    '" OR 1=1 --',
    "1=1 OR 'a'='a'",
    "x UNION SELECT * FROM sqlite_master",
    ".*+?[](){}|\\^$",
    "[[:alpha:]]+",
    "\\",
    "%",
    "_",
    "nul\x00byte",
    "\x00\x1b[31m",
    "\x1b[31mred",
    "\u202eevil",
    "🎉",
    "😀",
    "ﬁnance",
    "Шанхайская",
    "ШОС",
    "العلاقات",
    "上海合作组织",
    "a" * 10_000,
    "x" * 100_000,
]
# Queries with a real word among the syntax: the word's articles come first.
SCO_500 = ",".join(["sco"] * 500)
FIND_FIRST = {
    '"shanghai': [SCO_HISTORY],
    'shanghai"': [SCO_HISTORY],
    "shang*": [SCO_HISTORY],
    "shanghai -samarkand": [SCO_HISTORY],
    "NEAR(sco shanghai, 2)": [SCO_HISTORY],
    "🇰🇿 🕌 Samarkand 🚀": [SCO_SUMMIT],
    "summit + sco": [SCO_SUMMIT],
    **dict.fromkeys(
        ["(sco", "((sco", "sco)", "^sco", "OR sco", "sco AND", "\u202esco", SCO_500],
        sorted({SCO_SUMMIT, SCO_HISTORY}),
    ),
    **dict.fromkeys(
        ["- summit", "sum*", "^summit", "(summit", "summit OR", "summit " * 2_000], sorted(SUMMITS)
    ),
}
# Syntax with words whose results are the ranker's business: they only must not fail.
ANY_RESULT = [
    "NOT",
    "a NOT",
    "AND OR NOT",
    "a AND NOT",
    "NEAR",
    "NEAR(",
    "NEAR(a b",
    "NEAR(summit sco, 2)",
    "title:summit",
    "title:shanghai",
    "{title excerpt}:sco",
    "excerpt : sco",
    "sco NOT samarkand",
    "(?i)summit",
    "summit); DELETE FROM articles; --",
    "shanghai " * 1_500,
]
QUERIES = [*FIND_NOTHING, *FIND_FIRST, *ANY_RESULT]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q[:30]))
def test_query_strings_never_crash_or_change_the_archive(db, cli, query):
    before = digest(db)
    r = cli("--db", str(db), "search", "--format", "json", "--", query)
    assert (r.code, r.err, r.exception) == (0, "", None), r
    titles = [a["title"] for a in json.loads(r.out)]
    if query in FIND_NOTHING:
        assert titles == []
    elif query in FIND_FIRST:
        want = FIND_FIRST[query]
        assert sorted(titles[: len(want)]) == want, titles
    r = cli("--db", str(db), "search", "--format", "table", "--", query)
    assert (r.code, r.exception) == (0, None), r
    assert not TERMINAL_UNSAFE.search(r.out + r.err)
    assert digest(db) == before


def test_query_lists_do_not_overlap():
    assert len(QUERIES) == len(set(QUERIES)) == 80


@pytest.mark.parametrize("query", ["", " ", "\t\n"])
def test_empty_query_is_a_usage_error(db, cli, query):
    r = cli("--db", str(db), "search", "--", query)
    assert_clean_error(r, 2, "Error: the search query is empty; give some words to look for")


def test_sql_injection_queries_leave_every_table(db, cli):
    for query in ("'; DROP TABLE articles; --", "x'); DROP TABLE vocab; --"):
        cli("--db", str(db), "search", "--", query)
        cli("--db", str(db), "show", "--", query)
    r = cli("--db", str(db), "db", "check")
    assert r.code == 0 and r.out == "ok: 10 articles, index consistent\n"


# ---- options ---------------------------------------------------------------------------

FIELD_LIST = ", ".join(FIELDS)
#: ``show`` also has the notes, after the tags.
SHOW_FIELD_LIST = FIELD_LIST.replace("tags, ", "tags, notes, ")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("id,title; DROP TABLE articles", "'title; drop table articles'"),
        ("title FROM articles--", "'title from articles--'"),
        ("* ", "'*'"),
        ("rowid", "'rowid'"),
        ("nope", "'nope'"),
        ("id,date_start", "'date_start'"),
    ],
)
def test_fields_injection_and_unknown_fields(db, cli, value, shown):
    before = digest(db)
    for command, fields in ((["list"], FIELD_LIST), (["show", "sco"], SHOW_FIELD_LIST)):
        r = cli("--db", str(db), *command, "--fields", value)
        assert_clean_error(r, 2, f"Error: unknown field {shown}; choose from: {fields}")
    assert digest(db) == before


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_empty_fields(db, cli, value):
    r = cli("--db", str(db), "list", "--fields", value)
    assert_clean_error(r, 2, f"Error: --fields is empty; choose from: {FIELD_LIST}")


def test_unknown_search_field(db, cli):
    r = cli("--db", str(db), "search", "--fields", "rank,nope", "summit")
    assert_clean_error(r, 2, "Error: unknown field 'nope'; choose from: rank, score, matched, …")


@pytest.mark.parametrize("value", ["date; DROP TABLE articles", "title--", "rowid", "date desc"])
def test_sort_injection(db, cli, value):
    before = digest(db)
    r = cli("--db", str(db), "list", "--sort", value)
    assert_clean_error(
        r,
        2,
        f"Error: Invalid value for '--sort': '{value}' is not one of 'date', 'title'. "
        "(see 'irarchive list --help')",
    )
    assert digest(db) == before


@pytest.mark.parametrize(
    "value",
    [
        "x' OR '1'='1",
        "International Relations' --",
        'International Relations") OR (1=1',
        "'; DROP TABLE articles; --",
        "%",
        "_",
        "*",
    ],
)
def test_category_injection_matches_nothing(db, cli, value):
    before = digest(db)
    r = cli("--db", str(db), "list", "--category", value, "--format", "json")
    assert (r.code, r.out, r.err) == (0, "[]\n", "")
    r = cli("--db", str(db), "search", "--category", value, "--format", "json", "summit")
    assert (r.code, r.out, r.err, r.exception) == (0, "[]\n", "", None)
    assert digest(db) == before


# ---- dates -------------------------------------------------------------------------------

ACCEPTED = (
    "2022, 2022-03, 2022-03-14, March 2022, 14 March 2022, March 14, 2022, "
    "7d, 6w, 3m, 1y, today or yesterday"
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2022-13-01", "month 13 does not exist"),
        ("2022-02-30", "day 30 does not exist in February 2022"),
        ("2022-02-29", "day 29 does not exist in February 2022"),
        ("2022-00", "month 0 does not exist"),
        ("0000", "year 0 is out of range"),
        ("99999", "that is not a date form I know"),
        ("-1d", "that is not a date form I know"),
        ("next tuesday", "that is not a date form I know"),
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("2022-01-01; DROP TABLE articles", "that is not a date form I know"),
        ("99999y", "that is before year 1"),
        ("\x1b[31m2022", "that is not a date form I know"),
    ],
)
@pytest.mark.parametrize("option", ["--since", "--until", "--on"])
def test_bad_dates_are_usage_errors(db, cli, value, reason, option):
    # "--since=-1d" keeps the value from being read as an option.
    for command in (["list"], ["search", "summit"], ["export", "-f", "ris"], ["stats"]):
        r = cli("--db", str(db), command[0], f"{option}={value}", *command[1:])
        assert_clean_error(r, 2, f"Error: bad date {value!r}: {reason}; use {ACCEPTED}")
        assert r.out == ""


def test_dash_date_without_equals_is_a_usage_error(db, cli):
    r = cli("--db", str(db), "list", "--since", "-1d")
    assert_clean_error(
        r, 2, f"Error: bad date '-1d': that is not a date form I know; use {ACCEPTED}"
    )


@pytest.mark.parametrize("value", ["2024-02-29", "0001", "9999-12-31", "99999d", "0d"])
def test_extreme_but_valid_dates(db, cli, value):
    r = cli("--db", str(db), "list", "--since", value, "--format", "json")
    assert r.code == 0, r.err
    assert isinstance(json.loads(r.out), list)


# ---- input files -------------------------------------------------------------------------


TRAILING_COMMA = '{"title": "b",}'


def _json_error(text: str) -> str:
    """The column and message Python's own json module reports: 3.13 counts the column
    differently and words this one "Illegal trailing comma before end of object"."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{exc.colno}: invalid JSON: {exc.msg}"
    raise AssertionError(f"{text!r} is valid JSON")


@pytest.fixture
def archive_before(db):
    """The seeded archive and its digest; asserts it is unchanged afterwards."""
    before = digest(db)
    yield db
    assert digest(db) == before


def _import(cli, db: Path, path: Path | str, *extra: str) -> Result:
    return cli("--db", str(db), "import", *extra, str(path))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "arr.json",
            '[{"title": "a"},\n {"title": "b" "date": 1}]',
            "{p}:2:16: invalid JSON: Expecting ',' delimiter",
        ),
        (
            "open.json",
            '[{"title": "a"}',
            "{p}:1:16: invalid JSON: the array is not closed (missing ']')",
        ),
        (
            "trail.json",
            '[{"title": "a"}]\n]',
            "{p}:2:1: invalid JSON: extra data after the closing ']'",
        ),
        (
            "obj.json",
            '{"articles": [\n{"title": "a"},\n{"title": }]}',
            "{p}:3:11: invalid JSON: Expecting value",
        ),
        (
            "word.json",
            '[\n{"title": "ok"},\n{"title": oops}\n]',
            "{p}:3:11: invalid JSON: Expecting value",
        ),
        (
            "scalar.json",
            "42",
            "{p}:1:1: invalid JSON: expected an array of articles or an object with 'articles'",
        ),
        (
            "lines.jsonl",
            '{"title": "a"}\n' + TRAILING_COMMA + "\n",
            f"{{p}}:2:{_json_error(TRAILING_COMMA)}",
        ),
        (
            "two.jsonl",
            '{"title": "a"} {"title": "b"}\n',
            "{p}:1:15: invalid JSON: extra data after the record (one object per line)",
        ),
        (
            "nohdr.csv",
            "a,2022-01-01\nb,2022-01-02\n",
            "{p}:1: the header row has no 'title' column (found: a, 2022-01-01); "
            "add a header row naming the columns",
        ),
        (
            "quote.csv",
            'title,date\n"unclosed,2022\nnext,2022\n',
            "{p}:…",
        ),
    ],
)
def test_malformed_files_name_line_and_column(
    tmp_path, cli, archive_before, name, content, message
):
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    r = _import(cli, archive_before, p)
    msg = message.format(p=p)
    if msg.endswith("…"):
        assert_clean_error(r, 1, f"Error: {msg}")
    elif "header row" in msg:
        assert_clean_error(r, 1, f"Error: {msg}")
    else:
        assert_clean_error(r, 1, f"Error: {msg}; nothing from this file was imported")


def test_json_error_positions_survive_big_buffers(tmp_path, cli, archive_before):
    # The error sits after several MiB of records: the sliding buffer must keep count.
    good = ",\n".join(json.dumps({"title": f"t{i}", "excerpt": "x" * 300}) for i in range(12_000))
    p = tmp_path / "late.json"
    p.write_text("[\n" + good + ',\n{"title": tru}\n]\n', encoding="utf-8")
    r = _import(cli, archive_before, p)
    assert_clean_error(
        r,
        1,
        f"Error: {p}:12002:11: invalid JSON: Expecting value; nothing from this file was imported",
    )


def test_ragged_csv_rows_are_rejected_with_lines(tmp_path, db, cli):
    p = tmp_path / "ragged.csv"
    p.write_text("title,date\nok,2022-01-01\nb,2022-01-02,extra\nc\n", encoding="utf-8")
    r = _import(cli, db, p)
    assert r.code == 0
    assert r.err.splitlines() == [
        f"{p}: 1 added, 0 updated, 0 unchanged, 2 rejected",
        f"  rejected {p}:3: row has 3 cells but the header has 2",
        f"  rejected {p}:4: row has 1 cells but the header has 2",
    ]


def test_listing_with_a_title_but_no_date(tmp_path, cli, archive_before):
    p = tmp_path / "nodate.txt"
    p.write_text("Category\n\nA title with no date\n\nsome excerpt\n", encoding="utf-8")
    r = _import(cli, archive_before, p)
    assert (r.code, r.exception) == (0, None), r
    assert r.err.splitlines() == [
        f"{p}: 0 added, 0 updated, 0 unchanged, 2 rejected",
        f"  rejected {p}:3: text with no date line before it (expected e.g. 'November 1, 2022')",
        f"  rejected {p}:5: text with no date line before it (expected e.g. 'November 1, 2022')",
    ]
    r = _import(cli, archive_before, p, "--strict")
    assert_clean_error(
        r,
        1,
        f"Error: {p}:3: text with no date line before it (expected e.g. 'November 1, 2022') "
        "(--strict: nothing from this file was imported)",
    )


@pytest.mark.parametrize(
    "name", ["empty.json", "empty.jsonl", "empty.csv", "empty.tsv", "empty.txt", "blank.json"]
)
def test_empty_files_import_nothing(tmp_path, cli, archive_before, name):
    p = tmp_path / name
    p.write_text("\n  \n" if name.startswith("blank") else "", encoding="utf-8")
    r = _import(cli, archive_before, p)
    assert (r.code, r.err) == (0, f"{p}: 0 added, 0 updated, 0 unchanged, 0 rejected\n")


@pytest.mark.parametrize("name", ["junk.bin", "junk.json", "junk.csv", "junk.txt"])
def test_binary_junk_is_refused(tmp_path, cli, archive_before, name):
    p = tmp_path / name
    p.write_bytes(bytes(range(256)) * 40 + os.urandom(4096))
    r = _import(cli, archive_before, p)
    assert_clean_error(
        r,
        1,
        f"Error: {p} looks like a binary file (it has NUL bytes); "
        "give a listing, JSON, JSONL, CSV or TSV file",
    )


@pytest.mark.parametrize("name", ["latin1.json", "latin1.jsonl", "latin1.csv", "latin1.txt"])
@pytest.mark.parametrize("late", [False, True], ids=["early", "after-64k"])
def test_invalid_utf8_is_refused(tmp_path, cli, archive_before, name, late):
    p = tmp_path / name
    pad = ("x" * 100 + "\n") * 800 if late else ""
    body = {
        "latin1.json": '[{"title": "ok"},\n{"title": "' + pad.replace("\n", " ") + 'caf\xe9"}]',
        "latin1.jsonl": '{"title": "ok"}\n{"title": "' + pad.replace("\n", " ") + 'caf\xe9"}\n',
        "latin1.csv": "title,date\nok,2022\n" + pad.replace("\n", ",2022\n") + "caf\xe9,2022\n",
        "latin1.txt": "Cat\n\nMarch 1, 2022\nok\n" + pad + "caf\xe9\n",
    }[name]
    p.write_bytes(body.encode("latin-1"))
    r = _import(cli, archive_before, p)
    assert_clean_error(
        r,
        1,
        f"Error: {p} is not valid UTF-8 (byte 0xe9); convert it, e.g. iconv -f latin1 -t utf-8",
    )


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8])
@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "txt"])
def test_utf16_and_utf8_bom_files_import_correctly(tmp_path, db, cli, bom, fmt):
    title = f"BOM {fmt} Привет café العربية 🎉"
    text = {
        "json": json.dumps([{"title": title, "date": "2022-03-01"}], ensure_ascii=False),
        "jsonl": json.dumps({"title": title, "date": "2022-03-01"}, ensure_ascii=False) + "\n",
        "csv": f"title,date\n{title},2022-03-01\n",
        "tsv": f"title\tdate\n{title}\t2022-03-01\n",
        "txt": f"Category\n\nMarch 1, 2022\n{title}\nexcerpt\n",
    }[fmt]
    encoding = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}.get(
        bom, "utf-8"
    )
    p = tmp_path / f"bom.{fmt}"
    p.write_bytes(bom + text.encode(encoding))
    r = _import(cli, db, p)
    assert (r.code, r.err) == (0, f"{p}: 1 added, 0 updated, 0 unchanged, 0 rejected\n")
    r = cli(
        "--db", str(db), "list", "--on", "2022-03-01", "--format", "json", "--fields", "title,date"
    )
    assert json.loads(r.out) == [{"title": title, "date": "2022-03-01"}]


@pytest.mark.slow
def test_a_50_mb_single_line(tmp_path, cli, db):
    """A 50 MB JSONL line is over the record bound (8 Mi characters, which keeps any
    import under 200 MiB): rejected at its line, nothing stored; a 50 MB line of text
    is no record either. Records just under the bound: test_reliability_bounds."""
    before = digest(db)
    big = tmp_path / "big.jsonl"
    excerpt = "word " * 10_000_000
    big.write_text(json.dumps({"title": "huge", "date": "2022-04-01", "excerpt": excerpt}) + "\n")
    assert big.stat().st_size > 50_000_000
    r = _import(cli, db, big)
    assert (r.code, r.err) == (
        0,
        f"{big}: 0 added, 0 updated, 0 unchanged, 1 rejected\n"
        f"  rejected {big}:1: line longer than 8,388,608 characters\n",
    )
    assert digest(db) == before
    before = digest(db)
    line = tmp_path / "line.txt"
    line.write_text("y" * 50_000_000)
    r = _import(cli, db, line)
    assert (r.code, r.exception) == (0, None), r
    assert digest(db) == before
    del excerpt


def test_a_directory_and_a_missing_file(tmp_path, cli, archive_before):
    d = tmp_path / "folder.json"
    d.mkdir()
    r = _import(cli, archive_before, d)
    assert_clean_error(r, 1, f"Error: {d} is a directory; give the files inside it instead")
    m = tmp_path / "missing.json"
    r = _import(cli, archive_before, m)
    assert_clean_error(r, 1, f"Error: {m}: no such file")


def test_one_bad_file_does_not_stop_or_spoil_the_others(tmp_path, db, cli):
    good = tmp_path / "good.jsonl"
    good.write_text('{"title": "fine one", "date": "2022-05-01"}\n', encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "would be added"}\n{oops\n', encoding="utf-8")
    r = cli("--db", str(db), "import", str(bad), str(good))
    assert (r.code, r.exception) == (1, None), r
    assert r.err.splitlines() == [
        f"Error: {bad}:2:2: invalid JSON: Expecting property name enclosed in double quotes; "
        "nothing from this file was imported",
        f"{good}: 1 added, 0 updated, 0 unchanged, 0 rejected",
    ]
    titles = [a["title"] for a in json.loads(cli("--db", str(db), "list", "--json").out)]
    assert "fine one" in titles and "would be added" not in titles


def test_duplicate_records(tmp_path, db, cli):
    p = tmp_path / "dup.json"
    rec = {"title": "Twice", "date": "2022-01-01", "url": "https://example.invalid/a"}
    p.write_text(json.dumps([rec, rec, dict(rec, title="Twice ")]), encoding="utf-8")
    r = _import(cli, db, p)
    assert (r.code, r.err) == (0, f"{p}: 1 added, 0 updated, 2 unchanged, 0 rejected\n")
    before = digest(db)
    r = _import(cli, db, p)
    assert (r.code, r.err) == (0, f"{p}: 0 added, 0 updated, 3 unchanged, 0 rejected\n")
    assert digest(db) == before


def test_stdin_junk(db, cli):
    before = digest(db)
    r = cli("--db", str(db), "import", "--format", "jsonl", "-", stdin=b"\xff\xfe\x00junk\x00")
    assert_clean_error(r, 1, "Error: <stdin>…")
    assert digest(db) == before


# ---- archive files -------------------------------------------------------------------------


def test_a_directory_as_db(tmp_path, cli):
    d = tmp_path / "dir.db"
    d.mkdir()
    r = cli("--db", str(d), "list")
    assert_clean_error(r, 1, f"Error: {d} is a directory; give a file path for the archive (--db)")
    assert list(d.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    # Fixed bytes and ids: parallel workers must collect the same tests.
    [b"hello\n", b"SQLite format 2\x00" + b"\x00" * 200, random.Random(8192).randbytes(8192)],
    ids=["text", "sqlite-2-header", "random-bytes"],
)
def test_a_non_sqlite_file_is_left_untouched(tmp_path, cli, content):
    p = tmp_path / "not.db"
    p.write_bytes(content)
    for args in (["list"], ["import", os.devnull], ["db", "check"], ["db", "init"]):
        r = cli("--db", str(p), *args)
        assert_clean_error(
            r,
            1,
            f"Error: {p} is not an irarchive archive (not an SQLite file); "
            "it was left untouched: choose another --db",
        )
    assert p.read_bytes() == content
    assert sorted(x.name for x in tmp_path.iterdir()) == ["home", "not.db"]  # no -wal, -shm


def test_another_apps_sqlite_file_is_left_untouched(tmp_path, cli):
    p = tmp_path / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    content = p.read_bytes()
    r = cli("--db", str(p), "import", os.devnull)
    assert_clean_error(
        r,
        1,
        f"Error: {p} is an SQLite database but not an irarchive archive; "
        "it was left untouched: choose another --db",
    )
    assert p.read_bytes() == content


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 3]
    elif how == "header":
        data[16:100] = b"\xff" * 84
    elif how == "pages":
        page = int.from_bytes(data[16:18], "big") or 65536
        for i in range(2 * page, len(data) - page, 3 * page):
            data[i + 8 : i + page] = os.urandom(page - 8)
    elif how == "schema":
        data[100:4096] = b"\x00" * (4096 - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("journal", ["wal", "delete"])
@pytest.mark.parametrize("how", ["truncated", "header", "pages", "schema"])
def test_a_damaged_archive_is_refused_without_being_modified(tmp_path, cli, how, journal):
    p = tmp_path / "damaged.db"
    r = cli("--db", str(p), "db", "init")
    assert r.code == 0
    src = tmp_path / "more.jsonl"
    src.write_text(
        "\n".join(
            json.dumps({"title": f"Article number {i}", "excerpt": "text " * 50})
            for i in range(400)
        ),
        encoding="utf-8",
    )
    assert cli("--db", str(p), "import", str(src)).code == 0
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if journal == "delete":  # an archive last written in rollback mode (no WAL yet)
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    _damage(p, how)
    content = p.read_bytes()
    outcomes = []
    for args in (
        ["list", "--format", "json", "--limit", "0"],
        ["search", "article"],
        ["show", "article-number-1"],
        ["db", "info"],
        ["db", "check"],
        ["import", str(src)],
        ["db", "init"],
    ):
        r = cli("--db", str(p), *args)
        assert r.exception is None, r
        outcomes.append(r.code)
        if r.code != 0:
            assert r.err.startswith(("Error: ", "problem: ")), r.err
            assert r.code == 1
    # Something must notice: db check at least.
    assert outcomes[4] == 1
    assert p.read_bytes() == content
    assert (
        not (tmp_path / "damaged.db-wal").exists()
        or (tmp_path / "damaged.db-wal").stat().st_size == 0
    )


def test_a_damaged_archive_through_a_real_process(tmp_path, cli):
    p = tmp_path / "damaged.db"
    assert cli("--db", str(p), "db", "init").code == 0
    _damage(p, "truncated")
    content = p.read_bytes()
    for args in (["list"], ["db", "check"], ["import", os.devnull]):
        r = run_proc("--db", str(p), *args)  # a real process: a traceback would show here
        assert r.code == 1 and r.err.startswith("Error: ") and r.err.count("\n") == 1, r
    assert p.read_bytes() == content


def test_a_newer_schema_is_refused_with_the_upgrade_message(tmp_path, db, cli):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    content = file_bytes(db)
    for args in (["list"], ["import", os.devnull], ["db", "check"]):
        r = cli("--db", str(db), *args)
        assert_clean_error(
            r,
            1,
            f"Error: {db} was written by a newer irarchive (schema 99, this one knows "
            f"{migrations.LATEST}); "
            "upgrade irarchive: pip install -U irarchive",
        )
    assert file_bytes(db) == content


# Read-only archives. The tests run as root here, where file modes do not stop
# writes; the immutable attribute does (chattr +i), so it stands in for chmod 0444
# when it is available. The store's own read-only path is tested directly too.


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable for this process, whatever its privileges."""
    if not _is_root():
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root without a working chattr +i: cannot make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_archive_reads_and_refuses_writes(tmp_path, db, cli):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    content = file_bytes(db)
    src = tmp_path / "new.jsonl"
    src.write_text('{"title": "should not land"}\n', encoding="utf-8")
    with read_only(db):
        r = cli("--db", str(db), "list", "--format", "json")
        assert r.code == 0 and len(json.loads(r.out)) == 10
        assert cli("--db", str(db), "db", "check").code == 0
        r = cli("--db", str(db), "import", str(src))
        assert_clean_error(
            r,
            1,
            f"Error: {db} is read-only here; reading works, but to change it make the file "
            "and its folder writable or copy it elsewhere",
        )
    assert file_bytes(db) == content


def test_the_store_read_only_path(tmp_path, db):
    """The read-only code path itself, independent of who runs the tests."""
    before = digest(db)
    archive = open_archive(str(db), readonly=True)
    try:
        assert archive.readonly
        assert archive.count() == 10
        with pytest.raises(ArchiveError, match="is read-only here; reading works"):
            archive.import_items([])
    finally:
        archive.close()
    assert digest(db) == before


def test_a_read_only_folder(tmp_path, cli):
    folder = tmp_path / "ro"
    folder.mkdir()
    p = folder / "archive.db"
    assert cli("--db", str(p), "db", "init").code == 0
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    content = p.read_bytes()
    src = tmp_path / "new.jsonl"
    src.write_text('{"title": "should not land"}\n', encoding="utf-8")
    with read_only(folder):
        r = cli("--db", str(p), "list", "--format", "json")
        assert r.code == 0, r.err
        assert len(json.loads(r.out)) == 10
        r = cli("--db", str(p), "import", str(src))
        assert_clean_error(r, 1, f"Error: {p} is read-only here…")
        new = folder / "new.db"
        r = cli("--db", str(new), "list")
        assert_clean_error(r, 1, f"Error: cannot create {new}…")
    assert p.read_bytes() == content
    assert sorted(x.name for x in folder.iterdir()) == ["archive.db"]


def test_an_unwritable_data_dir(tmp_path, cli, monkeypatch):
    # A data dir under a regular file cannot be created, even by root.
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "data"))
    r = cli("list")
    assert_clean_error(
        r,
        1,
        f"Error: cannot create the folder {blocker / 'data' / 'irarchive'} (Not a directory); "
        "use --db or IRARCHIVE_DB to put the archive somewhere writable",
    )
    # And one that exists but cannot be written.
    data = tmp_path / "data"
    (data / "irarchive").mkdir(parents=True)
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    with read_only(data / "irarchive"):
        r = cli("list")
        assert_clean_error(r, 1, f"Error: cannot create {data / 'irarchive' / 'archive.db'}…")
        assert r.err.endswith("use --db or IRARCHIVE_DB to put the archive somewhere writable\n")
    assert list((data / "irarchive").iterdir()) == []
