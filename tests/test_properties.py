"""Property tests: random command lines never crash, and exports re-import exactly.

* Random options and values for every command (hostile strings included) run through
  ``cli.main``: the exit code is 0, 1 or 2, no exception escapes, and every failure
  says why on stderr.
* Any set of articles imported, exported as JSON or JSONL (and CSV where the values
  are representable), and imported into a fresh archive gives identical rows: the
  same ids, slugs, fields, dates, extras and timestamps.
* The streaming JSON reader reports true line numbers whatever its buffer size.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irarchive.sources import ALIASES, jsonfile
from tests.conftest import checkpoint, run_cli

SLOW = os.environ.get("IRARCHIVE_SLOW") == "1"
CLI_EXAMPLES = 1000 if SLOW else 300
ROUND_TRIP_EXAMPLES = 300 if SLOW else 40


def profile(examples: int) -> settings:
    """No deadline (the machine is shared and busy); fixtures are reused on purpose."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# ---- random command lines ------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "-",
    "--",
    "-1d",
    "0",
    "-5",
    "1e309",
    "nan",
    "99999999999999999999",
    "2022",
    "2022-13-01",
    "2022-02-30",
    "March 2022",
    "7d",
    "today",
    "next tuesday",
    "[bold]x[/bold]",
    "[link=file:///etc/passwd]x[/link]",
    "\x1b[31mred\x1b]8;;http://x\x1b\\",
    "\u202eevil",
    "nul\x00",
    "'; DROP TABLE articles; --",
    '"unclosed',
    "NEAR(a b",
    "title:x",
    "a*",
    ".*+?[](){}|\\^$",
    "Шанхай",
    "العلاقات",
    "🎉",
    "sco",
    "summit",
    "id,title",
    "title,nope",
    "json",
    "table",
    "x" * 5000,
]
value = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))

LISTING_OPTS = [
    "--since",
    "--until",
    "--on",
    "--category",
    "-c",
    "--limit",
    "-n",
    "--format",
    "-f",
    "--fields",
    "--sort",
]
FLAGS = {
    "list": ["--undated", "--reverse", "-r", "--json", "-v", "--verbose"],
    "search": ["--title-only", "-t", "--explain", "--json"],
    "show": ["--json"],
    "import": ["--strict", "--dry-run", "--json"],
    "stats": ["--json"],
    "related": ["--json"],
    "export": ["--undated", "--reverse"],
}
OPTIONS = {
    "list": LISTING_OPTS,
    "search": [*LISTING_OPTS, "--min-score"],
    "show": ["--format", "--fields"],
    "import": ["--format", "-f", "--date-order"],
    "stats": ["--by", "--since", "--until", "--on", "--category", "-q", "--query", "--format"],
    "related": ["--limit", "--format", "--fields"],
    "export": [*LISTING_OPTS, "--query", "--publisher"],
}
GOOD_VALUES = {
    "--format": ["table", "json", "jsonl", "csv", "tsv", "markdown", "bibtex", "ris", "listing"],
    "-f": ["json", "csv", "tsv", "markdown", "jsonl"],
    "--sort": ["date", "title"],
    "--date-order": ["dmy", "mdy"],
    "--by": ["year", "month", "category"],
    "--limit": ["0", "1", "3", "20"],
    "--min-score": ["0", "40", "100", "101", "-1"],
    "--fields": ["id,title", "rank,score,title", "extra", "title,date,url"],
}


@st.composite
def command_lines(draw, files: list[str]) -> list[str]:
    command = draw(st.sampled_from([*OPTIONS, "db"]))
    if command == "db":
        sub = draw(st.sampled_from(["path", "init", "info", "check", "nope", ""]))
        args = ["db", sub] if sub else ["db"]
        if sub in ("init", "info") and draw(st.booleans()):
            args.append("--empty" if sub == "init" else "--json")
        return args
    args = [command]
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 3)) == 0:
            args.append(draw(st.sampled_from(FLAGS[command])))
            continue
        opt = draw(st.sampled_from(OPTIONS[command]))
        choices = GOOD_VALUES.get(opt)
        good = choices and draw(st.integers(0, 3)) > 0
        val = draw(st.sampled_from(choices)) if good else draw(value)
        args.append(f"{opt}={val}" if draw(st.booleans()) else opt)
        if not args[-1].startswith(f"{opt}="):
            args.append(val)
    if command == "import":
        args += draw(st.lists(st.sampled_from(files), min_size=1, max_size=3))
    elif command in ("show", "related"):
        args += draw(st.lists(value, min_size=1, max_size=2))
    elif command == "search":
        args += ["--", draw(value)]
    elif command == "export" and draw(st.booleans()):
        args += ["-o", files[0] + ".export-out"]
    return args


@pytest.fixture
def cli_archive(seeded: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    db = seeded
    files = []
    samples = {
        "good.jsonl": '{"title": "Fuzz one", "date": "2022-01-01"}\n',
        "good.json": '[{"title": "Fuzz [bold]two[/bold]", "date": "2022-02"}]',
        "good.csv": "title,date\nFuzz three,2022\n",
        "bad.json": '[{"title": ',
        "ragged.csv": "title,date\nx\n",
        "junk.bin": "\x00\x01\x02",
        "listing.txt": "Cat\n\nMarch 1, 2022\nFuzz four\nexcerpt […]\n",
    }
    for name, text in samples.items():
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        files.append(str(p))
    (tmp_path / "adir").mkdir()
    files += [str(tmp_path / "adir"), str(tmp_path / "missing.json"), "-"]
    return db, files


@pytest.mark.slow
def test_random_command_lines_never_crash(cli_archive):
    db, files = cli_archive
    seen_codes: dict[int, int] = {}

    @profile(CLI_EXAMPLES)
    @given(args=command_lines(files), stdin=st.sampled_from([b"", b'{"title": "stdin one"}\n']))
    def check(args: list[str], stdin: bytes) -> None:
        r = run_cli("--db", str(db), *args, stdin=stdin)
        seen_codes[r.code] = seen_codes.get(r.code, 0) + 1
        assert r.exception is None, (args, r)
        assert r.code in (0, 1, 2), (args, r)
        if r.code != 0:
            # Every failure says why: an error line, db check's problems, or usage help.
            why = ("Error: ", "problem: ", "Usage: irarchive")
            assert any(line.startswith(why) for line in r.err.splitlines()), (args, r)

    check()
    # The archive survived all of it.
    r = run_cli("--db", str(db), "db", "check")
    assert r.code == 0, r
    print(f"\nrandom command lines: {sum(seen_codes.values())} runs, exit codes {seen_codes}")


# ---- round trip ----------------------------------------------------------------------------

_TAKEN = {alias for names in ALIASES.values() for alias in names} | {
    "id",
    "slug",
    "added_at",
    "source",
    "extra",
    "truncated",
}
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
extra_keys = st.text(min_size=1, max_size=12).filter(lambda k: k.lower() not in _TAKEN)


def dates() -> st.SearchStrategy[str | None]:
    day = st.dates().map(lambda d: d.isoformat())
    return st.one_of(st.none(), day, day.map(lambda d: d[:7]), day.map(lambda d: d[:4])).filter(
        lambda d: d is None or d >= "0001"
    )


def articles(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    marker_text = st.one_of(text, text.map(lambda t: t + " […]"), text.map(lambda t: t + "[...]"))
    return st.fixed_dictionaries(
        {"title": text.filter(lambda t: t.strip())},
        optional={
            "date": dates(),
            "excerpt": st.one_of(st.none(), marker_text),
            "category": st.one_of(st.none(), text),
            "url": st.one_of(st.none(), text.map(lambda t: "https://example.invalid/" + t)),
            "truncated": st.booleans(),
            "extra": st.dictionaries(extra_keys, json_values, max_size=3),
        },
    )


any_text = st.text(max_size=40)
# CSV cells are neutralised (controls shown as ^X) and tabs become spaces: plain text only.
csv_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs"),
        blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029",
    ),
    max_size=40,
)

ROW = (
    "id, slug, title, date, date_start, date_end, excerpt, truncated, category, url, source, "
    "added_at, extra"
)


def rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        got = conn.execute(f"SELECT {ROW} FROM articles ORDER BY id").fetchall()
    finally:
        conn.close()
    # extra is JSON text: compare it as data, not as a spelling.
    return [(*r[:-1], json.loads(r[-1]) if r[-1] else {}) for r in got]


def _write_input(path: Path, recs: list[dict]) -> None:
    path.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def empty_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh empty archive, created once; each example starts from copies of it."""
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    assert run_cli("--db", str(path), "--no-seed", "db", "init").code == 0
    checkpoint(path)
    return path


def _round_trip(tmp: Path, recs: list[dict], fmt: str, empty: Path) -> None:
    first, second = tmp / "first.db", tmp / "second.db"
    shutil.copyfile(empty, first)
    shutil.copyfile(empty, second)
    src = tmp / "input.json"
    _write_input(src, recs)
    r = run_cli("--db", str(first), "--no-seed", "import", str(src))
    assert r.code == 0, r
    r = run_cli("--db", str(first), "list", "--format", fmt, "--limit", "0")
    assert r.code == 0, r
    exported = tmp / f"export.{fmt}"
    exported.write_text(r.out, encoding="utf-8")
    r = run_cli("--db", str(second), "--no-seed", "import", str(exported))
    assert r.code == 0, r
    assert r.err.endswith(" 0 rejected\n"), r
    assert rows(second) == rows(first)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_exports_re_import_identically(fmt, empty_archive):
    @profile(ROUND_TRIP_EXAMPLES)
    @given(recs=st.lists(articles(any_text), min_size=1, max_size=6))
    def check(recs: list[dict]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            _round_trip(Path(tmp), recs, fmt, empty_archive)

    check()


@pytest.mark.slow
def test_csv_exports_re_import_identically(empty_archive):
    @profile(ROUND_TRIP_EXAMPLES)
    @given(recs=st.lists(articles(csv_text), min_size=1, max_size=6))
    def check(recs: list[dict]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            _round_trip(Path(tmp), recs, "csv", empty_archive)

    check()


def test_the_seed_round_trips_through_every_machine_format(tmp_path, seeded):
    base = seeded
    for fmt in ("json", "jsonl", "csv"):
        r = run_cli("--db", str(base), "list", "--format", fmt, "--limit", "0")
        assert r.code == 0, r
        exported = tmp_path / f"seed.{fmt}"
        exported.write_text(r.out, encoding="utf-8")
        copy = tmp_path / f"copy-{fmt}.db"
        r = run_cli("--db", str(copy), "--no-seed", "import", str(exported))
        assert r.code == 0, r
        assert r.err.splitlines()[-1] == (
            f"{exported}: 10 added, 0 updated, 0 unchanged, 0 rejected"
        )
        assert rows(copy) == rows(base)


# ---- the streaming JSON reader ------------------------------------------------------------


@profile(200 if SLOW else 60)
@given(
    recs=st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=3), max_size=12),
    gaps=st.lists(
        st.sampled_from(["", " ", "\n", "\n\n", "\t", " \r\n "]), min_size=40, max_size=40
    ),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_json_reader_reports_true_line_numbers(monkeypatch, recs, gaps, chunk):
    parts = ["[", gaps[0]]
    starts = []
    for i, rec in enumerate(recs):
        if i:
            parts += [gaps[(2 * i) % 40], ",", gaps[(2 * i + 1) % 40]]
        starts.append("".join(parts).replace("\r\n", "\n").count("\n") + 1)
        parts.append(json.dumps(rec, ensure_ascii=False))
    parts += [gaps[-1], "]"]
    text = "".join(parts)
    monkeypatch.setattr(jsonfile, "_CHUNK", chunk)
    stream = io.StringIO(text.replace("\r\n", "\n"))
    got = list(jsonfile.read_json(stream, name="x.json"))
    assert [v for _, v in got] == recs
    assert [line for line, _ in got] == starts
