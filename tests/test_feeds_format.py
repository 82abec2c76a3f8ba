"""The saved-feed input in the format registry: ``import -f feed``, its suffixes, its guard.

A saved feed is declared once, as ``formats.FEED_IN``; it is read whole by
``sources.remote.import_file`` and never by a line reader (``sources.read``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from irarchive import formats
from irarchive.errors import ImportFailed
from irarchive.sources import read, remote
from tests.conftest import ROOT

RSS = (ROOT / "tests" / "fixtures" / "feeds" / "wordpress-page1.xml").read_bytes()
SELF = "https://eurasian-research.example/category/international-relations/feed/"


def stored(db) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT title, source FROM articles ORDER BY date DESC").fetchall()
    conn.close()
    return rows


def test_format_feed_imports_a_saved_feed_whatever_its_name(cli, empty, tmp_path):
    path = tmp_path / "saved-feed.txt"
    path.write_bytes(RSS)
    r = cli("import", "-f", "feed", str(path))
    assert r.code == 0, r
    rows = stored(empty)
    assert len(rows) == 4
    assert rows[0][0] == "Kazakhstan\u2019s Snap Presidential Election: Results and Outlook"
    assert {source for _, source in rows} == {SELF}  # imported as a feed, not as a listing
    assert r.err.startswith(f"{path} (feed {SELF}): 4 added, 0 updated, 0 unchanged, 0 rejected")


def test_format_feed_reads_standard_input_whole(cli, empty):
    r = cli("import", "-f", "feed", "-", stdin=RSS)
    assert r.code == 0, r
    assert {source for _, source in stored(empty)} == {SELF}
    assert len(stored(empty)) == 4


def test_what_is_not_a_feed_on_standard_input_is_one_clear_error(cli, empty):
    r = cli("import", "-f", "feed", "-", stdin=b"November 1, 2022\nA title\n")
    assert r.code == 1, r
    assert r.err == "Error: <stdin> is not a feed (neither RSS, Atom nor JSON Feed)\n"
    assert stored(empty) == []


def test_another_format_on_a_feed_file_is_still_that_format(cli, empty, tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    r = cli("import", "-f", "json", str(path))
    assert r.code == 1, r
    # Read as JSON, as asked (and refused as JSON), not taken for a feed.
    assert r.err == (
        f"Error: {path}:1:1: invalid JSON: Expecting value; nothing from this file was imported\n"
    )
    assert stored(empty) == []


def test_import_help_lists_the_feed_format_and_its_endings(cli):
    r = cli("import", "--help")
    assert r.code == 0, r
    text = " ".join(r.out.split())
    assert "feed: a saved RSS 0.9x/1.0/2.0, Atom or JSON Feed" in text
    assert ".xml .rss .atom .rdf" in text


def test_feed_files_are_recognised_by_the_registry_suffixes(tmp_path, monkeypatch):
    plain = b"not a feed at all\n"
    (tmp_path / "a.feed").write_bytes(plain)
    (tmp_path / "a.xml").write_bytes(plain)
    assert remote.looks_like_feed_file(str(tmp_path / "a.xml"))  # by its ending alone
    assert not remote.looks_like_feed_file(str(tmp_path / "a.feed"))
    moved = replace(formats.FEED_IN, suffixes=(".feed",))
    inputs = tuple(moved if f is formats.FEED_IN else f for f in formats.INPUTS)
    monkeypatch.setattr(formats, "FEED_IN", moved)
    monkeypatch.setattr(formats, "INPUTS", inputs)
    assert remote.looks_like_feed_file(str(tmp_path / "a.feed"))
    assert not remote.looks_like_feed_file(str(tmp_path / "a.xml"))


@pytest.mark.parametrize("fmt", ["feed", None])
def test_a_line_reader_is_never_asked_to_read_a_feed(tmp_path, fmt):
    path = tmp_path / "feed.rss"
    path.write_bytes(RSS)
    with pytest.raises(ImportFailed, match=r"feed input .* is read whole, not line by line"):
        list(read(str(path), fmt=fmt))
