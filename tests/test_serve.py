"""The web view: Datasette, configured by irarchive.web, tested through its own client."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from irarchive import sources, web  # noqa: E402
from irarchive.store import open_archive  # noqa: E402

pytestmark = pytest.mark.usefixtures("seeded")


def get(ds: Any, *paths: str) -> list[Any]:
    """Responses from the Datasette instance, after its start-up hooks (as serve runs them)."""

    async def fetch() -> list[Any]:
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(fetch())


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()]


def test_search_box_finds_words_and_ignores_accents(seeded: Path) -> None:
    ds = web.make_datasette(str(seeded))
    plain, folded, accented, none = get(
        ds,
        "/archive/articles.json?_search=samarkand&_shape=array",
        "/archive/articles.json?_search=turkiye&_shape=array",
        "/archive/articles.json?_search=T%C3%BCrkiye&_shape=array",
        "/archive/articles.json?_search=zzzqqq&_shape=array",
    )
    assert titles(plain) == ["2022 SCO Summit in Samarkand: Key Takeaways"]
    turkiye = ["30th Year of Diplomatic Relations between Türkiye and Turkic Republics"]
    assert titles(folded) == titles(accented) == turkiye
    assert titles(none) == []


def test_table_is_newest_first_with_facets(seeded: Path) -> None:
    (page,) = get(web.make_datasette(str(seeded)), "/archive/articles.json?_size=3&_shape=objects")
    data = page.json()
    assert [r["date"] for r in data["rows"]] == ["2022-11-01", "2022-09-30", "2022-05-03"]
    assert data["filtered_table_rows_count"] == 10
    facets = data["facet_results"]
    assert [(f["value"], f["count"]) for f in facets["category"]["results"]] == [
        ("International Relations", 10)
    ]
    assert facets["date_start"]["type"] == "date"
    assert len(facets["date_start"]["results"]) == 10


def test_metadata_and_html_page(seeded: Path) -> None:
    ds = web.make_datasette(str(seeded))
    meta, html, db, per_year = get(
        ds,
        "/-/metadata.json",
        "/archive/articles",
        "/archive.json",
        "/archive/articles_per_year.json?_shape=array",
    )
    data = meta.json()
    assert data["title"] == "irarchive"
    assert data["source"] == "irarchive archive archive.db"
    table = data["databases"]["archive"]["tables"]["articles"]
    assert table["columns"] == web.COLUMN_DESCRIPTIONS
    assert set(table["columns"]) == {c for c, *_ in _columns(seeded)}
    assert html.status_code == 200
    assert 'name="_search"' in html.text  # the search box
    assert "Publication date, as precise as known" in html.text
    hidden = {t["name"] for t in db.json()["tables"] if t["hidden"]}
    assert {"vocab", "acronyms", "articles_fts_vocab"} <= hidden
    assert per_year.json() == [{"year": "2021", "articles": 1}, {"year": "2022", "articles": 9}]
    assert ds.databases["archive"].is_mutable is False


def _columns(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return [(r[1],) for r in conn.execute("PRAGMA table_info(articles)")]


def test_plain_datasette_detects_the_search_index(seeded: Path) -> None:
    """`datasette ARCHIVE` offers a search box: it finds articles_fts by its content= clause."""
    from datasette.utils import detect_fts

    with sqlite3.connect(seeded) as conn:
        assert detect_fts(conn, "articles") == "articles_fts"


def test_serve_command_prints_url_and_serves_checkpointed_archive(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    # Another process still has the archive open after writing: its changes sit in the
    # write-ahead log, which an immutable reader ignores unless serve checkpoints first.
    src = tmp_path / "new.jsonl"
    src.write_text('{"title": "Caspian Caviar Diplomacy", "date": "2023-04-01"}\n')
    writer = open_archive(str(seeded))
    writer.import_items(sources.read(str(src)))
    served: dict[str, Any] = {}
    monkeypatch.setattr(web, "serve", lambda ds, **kw: served.update(ds=ds, **kw))
    try:
        r = cli("serve", "--port", "8123")
    finally:
        writer.close()
    assert (r.code, r.out) == (0, "")
    assert r.err == (
        f"Serving {seeded} read-only at http://127.0.0.1:8123/archive/articles (Ctrl-C to stop)\n"
    )
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    (found,) = get(served["ds"], "/archive/articles.json?_search=caviar&_shape=array")
    assert titles(found) == ["Caspian Caviar Diplomacy"]


def test_serve_without_datasette_names_the_extra(monkeypatch: pytest.MonkeyPatch, cli) -> None:
    monkeypatch.setitem(sys.modules, "datasette", None)  # find_spec then reports it missing
    r = cli("serve")
    assert (r.code, r.err) == (1, "Error: install the web extra: pip install 'irarchive[web]'\n")


def test_serve_warns_when_listening_beyond_this_computer(
    seeded: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    monkeypatch.setattr(web, "serve", lambda ds, **kw: None)
    r = cli("serve", "--host", "0.0.0.0")
    assert r.code == 0
    assert r.err == (
        "warning: listening on 0.0.0.0: other computers can read the archive\n"
        f"Serving {seeded} read-only at http://0.0.0.0:8001/archive/articles (Ctrl-C to stop)\n"
    )
