"""Tags and notes travel: export as JSONL, import into a fresh archive, export again:
identical. And re-importing a source never removes or overwrites the work done here."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.test_properties import profile

words = st.text(alphabet="abcdefghij klmnoé—ŞЖ", min_size=1, max_size=20).filter(str.strip)
tags = st.lists(
    st.text(alphabet="abcxyzé ", min_size=1, max_size=10).filter(lambda t: t.strip()),
    max_size=3,
)
notes = st.lists(
    st.tuples(
        st.sampled_from(["2026-01-01T00:00:00Z", "2026-02-03T04:05:06Z"]),
        st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and "\x00" not in t),
    ),
    max_size=3,
)
record = st.fixed_dictionaries(
    {
        "title": words,
        "date": st.one_of(st.none(), st.sampled_from(["2022-01-02", "2022-03", "2021"])),
        "excerpt": st.one_of(st.none(), words),
        "url": st.one_of(st.none(), st.sampled_from(["https://e.org/a", "https://e.org/b/"])),
        "tags": tags,
        "notes": notes,
    }
)


def annotated_export(db: Path) -> list[dict]:
    """``export -f jsonl`` with each article's tags and notes (read from the archive
    when the export does not carry them itself)."""
    r = run_cli("--db", str(db), "export", "-f", "jsonl")
    assert r.code == 0, r
    out = [json.loads(line) for line in r.out.splitlines()]
    conn = sqlite3.connect(db)
    try:
        for rec in out:
            rec.setdefault(
                "tags",
                [
                    t
                    for (t,) in conn.execute(
                        "SELECT tag FROM tags WHERE article_id = ? ORDER BY tag", (rec["id"],)
                    )
                ],
            )
            rec.setdefault(
                "notes",
                [
                    {"created_at": c, "text": t}
                    for c, t in conn.execute(
                        "SELECT created_at, text FROM notes WHERE article_id = ? "
                        "ORDER BY created_at, id",
                        (rec["id"],),
                    )
                ],
            )
    finally:
        conn.close()
    return out


hex_id = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)


@pytest.mark.slow
@profile(25)
@given(st.lists(st.tuples(hex_id, record), min_size=1, max_size=5, unique_by=lambda t: t[0]))
def test_export_import_export_is_identical(tmp_path_factory, pairs):
    """Records as irarchive exports them (with an id: only those carry annotations)."""
    folder = tmp_path_factory.mktemp("rt")
    src = folder / "in.jsonl"
    recs = [r for _, r in pairs]
    lines = [
        json.dumps({"id": i, **r, "notes": [{"created_at": c, "text": t} for c, t in r["notes"]]})
        for i, r in pairs
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first, second = folder / "a.db", folder / "b.db"
    for db in (first, second):
        assert run_cli("--db", str(db), "--no-seed", "db", "init").code == 0
    assert run_cli("--db", str(first), "import", str(src)).code == 0
    exported = annotated_export(first)
    # Every tag and note given is there (normalised), on the article it was given with.
    given_tags = {" ".join(t.split()).casefold() for r in recs for t in r["tags"]}
    assert {t for rec in exported for t in rec["tags"]} == given_tags
    given_notes = {(c, t) for r in recs for c, t in r["notes"]}
    assert {(n["created_at"], n["text"]) for rec in exported for n in rec["notes"]} == given_notes
    dump = folder / "export.jsonl"
    dump.write_text("\n".join(json.dumps(r) for r in exported) + "\n", encoding="utf-8")
    r = run_cli("--db", str(second), "import", str(dump))
    assert r.code == 0, r
    assert annotated_export(second) == exported
    # And importing the export again changes nothing.
    r = run_cli("--db", str(second), "import", str(dump))
    assert r.err.endswith(f" 0 added, 0 updated, {len(exported)} unchanged, 0 rejected\n"), r
    assert annotated_export(second) == exported
