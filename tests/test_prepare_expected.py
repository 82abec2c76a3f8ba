"""The import reader prepares every record exactly as before it was made faster.

``fixtures/prepared-expected.json`` holds, computed by the earlier code, each record
of ``fixtures/prepare-cases.jsonl`` (Unicode folding, dashes, apostrophes, dotted
abbreviations, acronyms, aliases, extras, ids, records the decoder rejects) and a
digest of ``fixtures/realistic.jsonl``: the article as read and the values stored
from it (id, indexed title, slug base, acronyms, title key). Any change in them
would change what an import stores.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from irarchive import ingest
from irarchive.model import Article
from irarchive.store import Prepared, prepare

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_spec = importlib.util.spec_from_file_location(
    "make_prepared_expected", FIXTURES / "make_prepared_expected.py"
)
assert _spec is not None and _spec.loader is not None
maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(maker)

EXPECTED = json.loads((FIXTURES / "prepared-expected.json").read_text("utf-8"))
CASES = FIXTURES / "prepare-cases.jsonl"


def test_every_case_is_prepared_as_before():
    got = maker.prepared_rows(CASES)
    want = EXPECTED["prepare-cases.jsonl"]
    assert len(got) == len(want)
    for line, (g, w) in enumerate(zip(got, want, strict=True), 1):
        assert g == w, f"item {line}"


def test_the_realistic_archive_is_prepared_as_before():
    assert (
        maker.digest(maker.prepared_rows(FIXTURES / "realistic.jsonl"))
        == EXPECTED["realistic.jsonl"]
    )


@pytest.mark.parametrize("name", ["prepare-cases.jsonl", "realistic.jsonl"])
def test_the_worker_hands_over_the_same_items(name):
    """Through the reader process and its pipe, items arrive exactly as prepared."""
    path = FIXTURES / name
    with open(path, "rb") as opened:
        got = maker.as_rows(ingest._from_worker(str(path), {}, opened), path)
    if name == "realistic.jsonl":
        assert maker.digest(got) == EXPECTED[name]
    else:
        assert got == EXPECTED[name]


def test_a_plain_article_is_the_dataclass_with_its_defaults():
    """``Article.plain`` skips ``__init__``: it must give what ``__init__`` gives."""
    fields = ("T", "2020", "E", True, "C", "https://x.invalid/", "s")
    names = ("title", "date", "excerpt", "truncated", "category", "url", "source")
    fast, slow = Article.plain(*fields), Article(**dict(zip(names, fields, strict=True)))
    assert fast == slow
    assert list(fast.__dict__.items()) == list(slow.__dict__.items())
    assert fast.extra is not Article.plain(*fields).extra  # a fresh dict each time


def test_articles_and_prepared_items_pickle_back_exactly():
    a = Article(
        title="T",
        date="2020-01-02",
        excerpt="E",
        source_id="g",
        given_id="0123456789abcdef",
        slug="t",
        added_at="2024-01-01T00:00:00Z",
        extra={"k": [1, {"x": None}]},
        authors=({"family": "Smith", "given": "J"},),
        doi="10.1/x",
        tags=("a", "b"),
        notes=(("2024-01-01T00:00:00Z", "n"),),
    )
    back = pickle.loads(pickle.dumps(a, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == a and type(back) is Article
    p = prepare(replace(a, given_id=None))
    again = pickle.loads(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == p and type(again) is Prepared and type(again.article) is Article
