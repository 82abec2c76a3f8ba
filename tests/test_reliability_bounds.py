"""Reliability by class: records at and beyond each bound of the parsing layer.

Each class has members on both sides of its bound: nesting depth (64), integer
digits (4,000), record length, rejections kept (100), plus values no bound makes
storable (lone surrogates, NaN, Infinity). Whatever is accepted must print back as
strict JSON (RFC 8259: no NaN, no lone surrogates); whatever is refused is a
rejection with file:line, the other records still imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from irarchive.sources import decoding


def strict_loads(text: str):
    """An RFC 8259 parser: NaN/Infinity refused, text must be valid UTF-8."""

    def no_constants(name: str):
        raise ValueError(f"{name} is not JSON")

    text.encode("utf-8")  # raises on a lone surrogate
    return json.loads(text, parse_constant=no_constants)


def nested(depth: int) -> str:
    """A record whose nesting is ``depth`` levels (the record object itself is 1)."""
    inner = "[" * (depth - 1) + "1" + "]" * (depth - 1)
    return '{"title": "Deep", "x": ' + inner + "}"


def big_int(digits: int) -> str:
    return '{"title": "Big", "n": ' + "7" * digits + "}"


MAX = decoding.MAX_DEPTH
DIGITS = decoding.MAX_INT_DIGITS
# member -> (one JSON record, accepted?)
MEMBERS = {
    "depth-2": (nested(2), True),
    f"depth-{MAX - 1}": (nested(MAX - 1), True),
    f"depth-{MAX}": (nested(MAX), True),
    f"depth-{MAX + 1}": (nested(MAX + 1), False),
    "depth-500": (nested(500), False),
    "depth-980": (nested(980), False),
    "depth-100000": (nested(100_000), False),
    "deep-objects-200": ('{"title": "D", "x": ' + '{"a": ' * 199 + "1" + "}" * 199 + "}", False),
    "surrogate-title": ('{"title": "bad \\ud800 title"}', False),
    "surrogate-low-excerpt": ('{"title": "t", "excerpt": "x\\udfff"}', False),
    "surrogate-high-at-end": ('{"title": "t", "category": "a\\ud83d"}', False),
    "surrogate-extra-value": ('{"title": "t", "x": ["ok", "\\udc80"]}', False),
    "surrogate-extra-key": ('{"title": "t", "k\\ud800": 1}', False),
    "surrogate-pair-is-fine": ('{"title": "smile \\ud83d\\ude00"}', True),
    f"int-{DIGITS}-digits": (big_int(DIGITS), True),
    f"int-{DIGITS + 1}-digits": (big_int(DIGITS + 1), False),
    "int-5000-digits": (big_int(5000), False),
    "int-200000-digits": (big_int(200_000), False),
    "negative-int-4000-digits": ('{"title": "Neg", "n": -' + "7" * DIGITS + "}", True),
    "NaN": ('{"title": "t", "n": NaN}', False),
    "Infinity": ('{"title": "t", "n": Infinity}', False),
    "-Infinity": ('{"title": "t", "n": [-Infinity]}', False),
    "1e999": ('{"title": "t", "n": 1e999}', False),
    "-1e999": ('{"title": "t", "n": {"m": -1e999}}', False),
    "1e308-is-fine": ('{"title": "t", "n": 1e308}', True),
}


@pytest.mark.parametrize("member", list(MEMBERS))
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_records_beyond_a_bound_are_rejected_and_output_stays_strict_json(
    tmp_path, db_path, cli, member, fmt
):
    record, accepted = MEMBERS[member]
    good = '{"title": "Good one", "date": "2022-01-01"}'
    src = tmp_path / f"in.{fmt}"
    if fmt == "json":
        src.write_text(f"[\n{good},\n{record},\n{good.replace('one', 'two')}\n]\n")
        line = 3
    else:
        src.write_text(f"{good}\n{record}\n{good.replace('one', 'two')}\n")
        line = 2
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0, r
    assert "Traceback" not in r.err
    if accepted:
        assert "0 rejected" in r.err, r
    else:
        assert f"1 rejected\n  rejected {src}:{line}: " in r.err, r
    for command in (("list", "--json"), ("export", "-f", "jsonl"), ("search", "good", "--json")):
        out = cli(*command)
        assert out.code == 0, out
        text = out.out if command[1] != "-f" else "[" + ",".join(out.out.split("\n")[:-1]) + "]"
        data = strict_loads(text)
        assert len(data) == (3 if accepted and command[0] != "search" else 2)
    for fmt_out in ("csv", "tsv", "markdown"):
        assert cli("list", "-f", fmt_out).code == 0


@pytest.mark.parametrize("cells", [("x\ud800",), ("\udfff", "ok")])
def test_csv_cells_from_a_surrogateescaped_decoder_never_reach_the_archive(cells):
    # The CSV reader decodes strictly (invalid UTF-8 stops the file); decoded
    # records still pass through the same check before they are stored.
    assert decoding.problem({"title": "t", "x": list(cells)}) is not None


# ---- record length: a line longer than the bound is rejected, memory stays bounded -------


@pytest.mark.parametrize("extra", [-1, 0, 1, 1000])
def test_lines_around_the_length_bound(tmp_path, db_path, cli, monkeypatch, extra):
    limit = 4096
    monkeypatch.setattr(decoding, "MAX_RECORD_CHARS", limit)
    head = '{"title": "Long", "x": "'
    body = "y" * (limit - len(head) - 2 + extra)
    line = head + body + '"}\n'
    assert len(line) == limit + extra + 1  # the bound counts characters before the newline
    src = tmp_path / "long.jsonl"
    src.write_text('{"title": "Short"}\n' + line + '{"title": "After"}\n')
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0, r
    if extra <= 0:
        assert "3 added" in r.err and "0 rejected" in r.err, r
    else:
        assert f"rejected {src}:2: line longer than {limit:,} characters" in r.err, r
        assert "2 added" in r.err


@pytest.mark.parametrize("count", [0, 1, 100, 101, 2500])
def test_rejections_are_counted_and_the_first_100_kept(tmp_path, db_path, cli, count):
    src = tmp_path / "many.jsonl"
    src.write_text('{"title": "Kept"}\n' + "{}\n" * count)
    r = cli("--no-seed", "import", str(src), "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)["files"][0]
    assert summary["added"] == 1 and summary["rejected"] == count
    assert len(summary["rejections"]) == min(count, decoding.KEEP_REJECTIONS)
    if count:
        assert (
            summary["rejections"][0] == f"{src}:2: record has no title (expected a 'title' field)"
        )
    assert summary["rejections"] == [
        f"{src}:{n}: record has no title (expected a 'title' field)"
        for n in range(2, 2 + min(count, 100))
    ]


# Runs irarchive and records its peak resident memory (VmHWM) at exit. VmHWM belongs
# to the process image, so unlike ru_maxrss it does not include the pages a child
# shares with a big parent (an xdist worker) between fork and exec.
PEAK_RSS = """
import atexit, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(out, "w") as f:
                    f.write(line.split()[1])
atexit.register(peak)
from irarchive.cli import main
main(sys.argv[1:])
"""


def _max_rss_mib_of(args: list[str], stdin_path: Path) -> tuple[int, float]:
    """Run irarchive with ``stdin_path`` as stdin; its exit code and peak RSS in MiB."""
    peak = stdin_path.with_suffix(".peak")
    with open(stdin_path, "rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, str(peak), *args],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=600,
        )
    assert b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc.returncode, int(peak.read_text()) / 1024


#: Rejected lines per memory test. Peak RSS stays where 100 lines leave it (about 22 MiB,
#: give or take 4) however many are rejected; keeping every rejection (as
#: ``ImportReport.reject`` once did) adds about 30 to 40 MiB at this count, growing
#: with the count (200 MiB at 1.5 million, which this test used to import).
MANY_REJECTIONS = 250_000
#: Allowed growth of peak RSS over the same import of 100 lines.
REJECTIONS_GROWTH_MIB = 10


@pytest.mark.slow
@pytest.mark.parametrize(
    "member, fmt",
    [("{}\n", "jsonl"), ("junk\n", "listing"), (" ,1\n", "csv")],
    ids=["empty-objects", "junk-lines", "csv-no-title"],
)
def test_many_rejections_keep_memory_bounded(tmp_path, member, fmt):
    head = "title,x\n" if fmt == "csv" else ""
    peaks = []
    for count in (100, MANY_REJECTIONS):
        data = tmp_path / f"input{count}"
        data.write_text(head + member * count)
        db = tmp_path / f"a{count}.db"
        code, rss = _max_rss_mib_of(
            ["--db", str(db), "--no-seed", "import", "-", "--format", fmt], data
        )
        assert code == 0
        peaks.append(rss)
    few, many = peaks
    assert many - few < REJECTIONS_GROWTH_MIB, f"{few:.0f} MiB, then {many:.0f} MiB"


def test_a_syntax_error_is_reported_when_it_is_read_not_at_the_end(tmp_path):
    """The array's first record is broken; the rest of the input never comes."""
    db = tmp_path / "a.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "irarchive",
            "--db",
            str(db),
            "--no-seed",
            "import",
            "-",
            "--format",
            "json",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    stdin = proc.stdin

    def feed() -> None:
        try:
            stdin.write(b'[{"title": "a",, }\n' + b'{"title": "filler"},\n' * 200_000)
            stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the importer stopped reading: what the test wants

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        code = proc.wait(timeout=60)  # stdin is still open: only the error can end it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        writer.join(timeout=60)
        try:
            stdin.close()
        except BrokenPipeError:
            pass
    err = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    assert code == 1
    assert err.splitlines()[-1].startswith(
        "Error: <stdin>:1:16: invalid JSON: Expecting property name"
    ), err


def test_dev_zero_is_refused_at_once(seeded, cli):
    r = cli("import", "/dev/zero")
    assert r.code == 1 and "binary file" in r.err and r.err.count("\n") == 1, r


@pytest.mark.parametrize("extra", [-1, 0, 1, 5000])
def test_listing_records_around_the_length_bound(tmp_path, db_path, cli, monkeypatch, extra):
    """Many short lines add up: a listing record (title + excerpt lines) is bounded too."""
    limit = 4096
    monkeypatch.setattr(decoding, "MAX_RECORD_CHARS", limit)
    title = "Long Record"
    # Each excerpt line of 99 characters adds 100 (the space joining it to the rest).
    lines, size = [], len(title)
    while size + 100 <= limit + extra:
        lines.append("x" * 99)
        size += 100
    tail = limit + extra - size
    if tail > 1:
        lines.append("y" * (tail - 1))
        size += tail
    assert size == limit + extra
    body = "\n".join(lines)
    src = tmp_path / "long.txt"
    src.write_text(
        "International Relations\n\nJanuary 2, 2022\n\nShort One\n\nfine\n"
        f"January 3, 2022\n\n{title}\n\n{body}\n"
        "January 4, 2022\n\nAfter It\n\nfine\n"
    )
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0, r
    if extra <= 0:
        assert "3 added" in r.err and "0 rejected" in r.err, r
    else:
        assert f"rejected {src}:8: record longer than {limit:,} characters" in r.err, r
        assert "2 added" in r.err, r
