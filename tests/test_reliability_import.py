"""Reliability by class: what an import keeps, and what it refuses, for hostile records.

Data-loss class: every value in the input ends up in the archive (under its own
name, or a suffixed one when names collide), or the record is rejected with
file:line; a value is never silently dropped or changed in type.
"""

from __future__ import annotations

import json

import pytest


def leaves(value) -> list:
    """Every scalar in a decoded value, duplicates kept (keys are not values)."""
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    return [value]


def pairs_leaves(text: str) -> list:
    """The scalars of a JSON text, duplicate keys included."""
    return leaves(
        json.loads(text, object_pairs_hook=lambda ps: {i: v for i, (_, v) in enumerate(ps)})
    )


def exported(cli) -> list[dict]:
    r = cli("list", "--json", "--limit", "0")
    assert r.code == 0, r
    return json.loads(r.out)


def stored_leaves(rec: dict) -> list:
    kept = {k: rec[k] for k in ("title", "date", "excerpt", "category", "url")}
    return leaves(kept) + leaves(rec["extra"])


def _contains(have: list, want: list) -> bool:
    pool = [json.dumps(x, sort_keys=True) for x in have]
    for w in want:
        key = json.dumps(w, sort_keys=True)
        if key not in pool:
            return False
        pool.remove(key)
    return True


# Each JSON member is one record; the same text is imported as .json and .jsonl.
JSON_MEMBERS = {
    "duplicate-key": '{"title": "A", "x": "one", "x": "two"}',
    "duplicate-key-thrice": '{"title": "A", "x": 1, "x": 2, "x": 3, "x_2": 4}',
    "duplicate-title": '{"title": "A", "title": "B"}',
    "nested-duplicate": '{"title": "A", "m": {"k": 1, "k": 2}}',
    "extra-collides": '{"title": "A", "x": "outer", "extra": {"x": "inner"}}',
    "extra-empty-string": '{"title": "A", "extra": ""}',
    "extra-json-string": '{"title": "A", "extra": "{\\"a\\": 1}"}',
    "extra-text": '{"title": "A", "extra": "plain words"}',
    "extra-number": '{"title": "A", "extra": 5}',
    "extra-list": '{"title": "A", "extra": [1, {"b": 2}]}',
    "extra-nested-collision": '{"title": "A", "extra": {"x": 1, "x": 2}, "x": 3}',
    "case-variants": '{"title": "A", "Title": "B", "TITLE": "C"}',
}


@pytest.mark.parametrize("member", list(JSON_MEMBERS))
@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_records_keep_every_value(tmp_path, db_path, cli, member, suffix):
    text = JSON_MEMBERS[member]
    src = tmp_path / f"in{suffix}"
    src.write_text(f"[{text}]" if suffix == ".json" else text + "\n", encoding="utf-8")
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0, r
    [rec] = exported(cli)
    assert _contains(stored_leaves(rec), pairs_leaves(text)), (rec, pairs_leaves(text))
    if member.startswith("extra-") and member != "extra-collides":
        # A non-object "extra" keeps its type: it is a value, not the extras object.
        raw = json.loads(text)
        if not isinstance(raw.get("extra"), dict):
            assert rec["extra"]["extra"] == raw["extra"], rec


CSV_MEMBERS = {
    "duplicate-header": ("title,x,x\nA,one,two\n", ["A", "one", "two"]),
    "duplicate-header-thrice": ("title,x,x,x_2,x\nA,1,2,3,4\n", ["A", "1", "2", "3", "4"]),
    "duplicate-title-column": ("title,title\nA,B\n", ["A", "B"]),
    "extra-collides": ('title,x,extra\nA,outer,"{""x"": ""inner""}"\n', ["A", "outer", "inner"]),
    "extra-not-json": ("title,extra\nA,plain words\n", ["A", "plain words"]),
    "extra-json-list": ('title,extra\nA,"[1, 2]"\n', ["A", "[1, 2]"]),
}


@pytest.mark.parametrize(
    "member, delimiter",
    [(m, d) for m in CSV_MEMBERS for d in (",", "\t") if d == "," or '"' not in CSV_MEMBERS[m][0]],
)
def test_csv_records_keep_every_value(tmp_path, db_path, cli, member, delimiter):
    text, values = CSV_MEMBERS[member]
    suffix = ".csv"
    if delimiter == "\t":  # quoted CSV cells have no TSV form: those members are CSV only
        text, suffix = text.replace(",", "\t"), ".tsv"
    src = tmp_path / f"in{suffix}"
    src.write_text(text, encoding="utf-8")
    r = cli("--no-seed", "import", str(src))
    assert r.code == 0, r
    [rec] = exported(cli)
    assert _contains([str(x) for x in stored_leaves(rec)], values), rec
