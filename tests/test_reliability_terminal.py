"""Reliability by class: huge articles on a terminal.

What a terminal shows is bounded (characters and lines per field), so ``show`` of a
4 MB article renders at once; the full text stays available with ``--json`` and on
a pipe. Members sit on both sides of the bound.
"""

from __future__ import annotations

import json
import shutil

import pytest

from irarchive import output
from tests.conftest import checkpoint, run_cli

LIMIT = output.TERMINAL_MAX_CHARS
SIZES = [LIMIT - 1, LIMIT, LIMIT + 1, 4_000_000]


@pytest.fixture(scope="module")
def big_template(tmp_path_factory):
    """The huge articles, imported once for the module (about 12 MB of text)."""
    records = [
        {"title": f"Size {n}", "slug": f"size-{n}", "excerpt": "x" * n, "date": "2022-01-01"}
        for n in SIZES
    ]
    records.append({"title": "T" * 4_000_000, "slug": "long-title", "excerpt": "short"})
    records.append({"title": "Lines", "slug": "lines", "excerpt": "line\n" * 200_000 + "end"})
    folder = tmp_path_factory.mktemp("huge")
    src, db = folder / "big.jsonl", folder / "big.db"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    r = run_cli("--db", str(db), "--no-seed", "import", str(src))
    assert r.code == 0 and "0 rejected" in r.err, r
    checkpoint(db)
    return db, {r["slug"]: r for r in records}


@pytest.fixture
def big(big_template, db_path):
    """A copy of the module's archive of huge articles at ``db_path``; the records."""
    template, records = big_template
    shutil.copyfile(template, db_path)
    return records


@pytest.mark.parametrize("slug", [f"size-{n}" for n in SIZES] + ["long-title", "lines"])
def test_show_on_a_terminal_is_bounded_and_json_is_whole(big, cli, slug):
    panel = cli("show", slug, "--format", "table")
    assert panel.code == 0, panel
    size = len(big[slug]["excerpt"]) + len(big[slug]["title"])
    clipped = size > LIMIT + 10 and slug != f"size-{LIMIT}"
    assert len(panel.out) < 3 * LIMIT + 20_000
    assert ("--json" in panel.out) == clipped, panel.out[-500:]
    table = cli("list", "--format", "table", "--fields", "title,excerpt", "--limit", "0")
    assert table.code == 0 and len(table.out) < 8 * (3 * LIMIT + 20_000)
    data = json.loads(cli("show", slug, "--json").out)
    assert data["excerpt"] == big[slug]["excerpt"] and data["title"] == big[slug]["title"]
    plain = cli("show", slug).out  # a pipe: the whole text
    assert big[slug]["title"] in plain
