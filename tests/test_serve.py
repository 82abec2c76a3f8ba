"""The web view: Datasette with irarchive's plugin, tested through Datasette's own client.

The pages as a person sees them in a real browser are in test_web_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from irarchive import search, sources, web
from irarchive.cli import main
from irarchive.store import open_archive

pytestmark = pytest.mark.usefixtures("seeded")

SAMARKAND = "2022 SCO Summit in Samarkand: Key Takeaways"
SCO_HISTORY = "Shanghai Cooperation Organization: History and Role in Regional Security"
CHINA = "China’s and India’a Summits with Central Asia: Latest Developments"
EXTRA = [
    {"title": "The Indo-Pacific Strategy of the U.S. Navy", "date": "2023-01-10"},
    {"title": "U.S. Sanctions on Russian Gas", "date": "2023-02-11", "category": "Energy"},
    {"title": "Asia Central Bank Reports", "date": "2023-03-12", "category": "Economy"},
]


def get(ds: Any, *paths: str) -> list[Any]:
    """Responses from the Datasette instance, after its start-up hooks (as serve runs them)."""

    async def fetch() -> list[Any]:
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(fetch())


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["title"] for row in response.json()]


def add(path: Path, tmp_path: Path, records: list[dict[str, Any]]) -> None:
    src = tmp_path / f"add-{len(list(tmp_path.iterdir()))}.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    archive = open_archive(str(path))
    try:
        archive.import_items(sources.read(str(src)))
    finally:
        archive.close()


@pytest.fixture
def extra(seeded: Path, tmp_path: Path) -> Path:
    add(seeded, tmp_path, EXTRA)
    return seeded


def box(query: str) -> str:
    return f"/archive/articles.json?_search={quote(query)}&_shape=array&_col=title"


# ---- the table's search box ----------------------------------------------------------------

ORDINARY = [
    ("china's", [CHINA]),
    ("China’s", [CHINA]),
    ("CHINAS", [CHINA]),
    ("indo-pacific", ["The Indo-Pacific Strategy of the U.S. Navy"]),
    ("indo pacific", ["The Indo-Pacific Strategy of the U.S. Navy"]),
    ("U.S.", ["U.S. Sanctions on Russian Gas", "The Indo-Pacific Strategy of the U.S. Navy"]),
    ("us navy", ["The Indo-Pacific Strategy of the U.S. Navy"]),
    ("türkiye", ["30th Year of Diplomatic Relations between Türkiye and Turkic Republics"]),
    ('"asia central"', ["Asia Central Bank Reports"]),
    ('"central bank"', ["Asia Central Bank Reports"]),
    ("asia -central", []),
    ('"U.S. navy"', ["The Indo-Pacific Strategy of the U.S. Navy"]),
]


@pytest.mark.parametrize(("query", "expected"), ORDINARY)
def test_search_box_answers_ordinary_input(extra: Path, query: str, expected: list[str]) -> None:
    (response,) = get(web.make_datasette(str(extra)), box(query))
    assert titles(response) == expected


def test_quoted_phrase_keeps_its_words_together(extra: Path) -> None:
    """ "central asia" finds the three articles about Central Asia, not the bank report."""
    together, apart = get(
        web.make_datasette(str(extra)), box('"central asia"'), box("central asia")
    )
    assert "Asia Central Bank Reports" not in titles(together)
    assert len(titles(together)) == 3
    assert set(titles(apart)) == {*titles(together), "Asia Central Bank Reports"}


HOSTILE_QUERIES = [
    '"',
    "'",
    '"""',
    "*",
    "(",
    ")",
    "AND",
    "OR NOT",
    "NEAR(a b)",
    "title:",
    ":",
    "^",
    "-",
    "- -",
    "a*b",
    "{x y}",
    "\\",
    "🙂",
    "؟",
    "\x00",
    "x" * 3000,
    "china's -",
    '"unbalanced',
]


def test_search_box_never_fails_on_what_people_type(extra: Path) -> None:
    responses = get(web.make_datasette(str(extra)), *[box(q) for q in HOSTILE_QUERIES])
    for query, response in zip(HOSTILE_QUERIES, responses, strict=True):
        assert response.status_code == 200, (query, response.text[:300])


def test_search_page_never_fails_on_what_people_type(extra: Path) -> None:
    urls = [f"/archive/-/search?q={quote(q)}" for q in HOSTILE_QUERIES]
    urls += ["/archive/-/search?page=-3", "/archive/-/search?page=x", "/archive/-/search?page=9999"]
    responses = get(web.make_datasette(str(extra)), *urls)
    for url, response in zip(urls, responses, strict=True):
        assert response.status_code == 200, (url, response.text[:300])


def test_expression_is_quoted_words_only() -> None:
    assert web.search_expression("China’s U.S. indo-pacific") == (
        '"chinas" AND "us" AND "indo" AND "pacific"'
    )
    assert web.search_expression("asia -central") == '("asia") NOT ("central")'
    assert web.search_expression("?!") == web.NOTHING


def test_a_users_error_logs_no_traceback(extra: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Raw FTS syntax is the user's input: a 400 with the reason, one log line, no traceback."""
    ds = web.make_datasette(str(extra))
    capsys.readouterr()
    raw, size = get(
        ds,
        "/archive/articles.json?_search=%22&_searchmode=raw",
        "/archive/articles.json?_size=lots",
    )
    assert raw.status_code == 400
    assert raw.json()["error"] == "unterminated string"
    assert size.status_code == 400
    logged = capsys.readouterr()
    assert "Traceback" not in logged.out + logged.err
    assert len((logged.out + logged.err).splitlines()) <= 1


# ---- the search page ---------------------------------------------------------------------


def page_titles(html: str) -> list[str]:
    import html as html_lib
    import re

    found = re.findall(r'<div class="title"><a href="[^"]*">(.*?)</a></div>', html)
    return [html_lib.unescape(t) for t in found]


@pytest.mark.parametrize("query", ["samarqand", "shangai cooperaton", "SCO", "central asia"])
def test_search_page_ranks_like_the_cli(extra: Path, query: str) -> None:
    (response,) = get(web.make_datasette(str(extra)), f"/archive/-/search?q={quote(query)}")
    assert response.status_code == 200
    archive = open_archive(str(extra), readonly=True)
    try:
        cli_order = [h.article["title"] for h in search.search(archive, query, limit=0).hits]
    finally:
        archive.close()
    assert cli_order
    assert page_titles(response.text) == cli_order


def test_search_page_first_hits(seeded: Path) -> None:
    ds = web.make_datasette(str(seeded))
    samarqand, shanghai = get(
        ds, "/archive/-/search?q=samarqand", "/archive/-/search?q=shangai+cooperaton"
    )
    assert page_titles(samarqand.text) == [SAMARKAND]
    assert page_titles(shanghai.text)[0] == SCO_HISTORY


def test_search_page_facets_and_filters(extra: Path) -> None:
    ds = web.make_datasette(str(extra))
    everything, in_2023, energy, bad = get(
        ds,
        "/archive/-/search",
        "/archive/-/search?year=2023",
        "/archive/-/search?q=gas&category=energy",
        "/archive/-/search?year=20x2",
    )
    text = everything.text
    assert "13 articles, newest first" in text
    assert '<a href="?year=2023">2023</a> <span class="count">3</span>' in text
    assert '<a href="?year=2022">2022</a> <span class="count">9</span>' in text
    assert '<a href="?category=International+Relations">International Relations</a>' in text
    assert page_titles(text)[0] == "Asia Central Bank Reports"  # newest first
    assert sorted(page_titles(in_2023.text)) == sorted(e["title"] for e in EXTRA)
    assert page_titles(energy.text) == ["U.S. Sanctions on Russian Gas"]
    assert bad.status_code == 400
    assert "bad year &#39;20x2&#39;: use four digits, like 2022" in bad.text


def test_search_page_pages(seeded: Path, tmp_path: Path) -> None:
    add(seeded, tmp_path, [{"title": f"Caspian report {i}"} for i in range(25)])
    ds = web.make_datasette(str(seeded))
    first, second, beyond = get(
        ds,
        "/archive/-/search?q=caspian",
        "/archive/-/search?q=caspian&page=2",
        "/archive/-/search?q=caspian&page=99",
    )
    assert page_titles(beyond.text) == page_titles(second.text)  # past the end: the last page
    assert len(page_titles(first.text)) == web.PAGE_SIZE
    assert len(page_titles(second.text)) == 25 - web.PAGE_SIZE
    assert set(page_titles(first.text)).isdisjoint(page_titles(second.text))
    assert 'href="?q=caspian&amp;page=2" rel="next"' in first.text


def test_search_page_shows_hostile_text_as_text(seeded: Path, tmp_path: Path) -> None:
    add(
        seeded,
        tmp_path,
        [
            {
                "title": "<script>alert(1)</script> Caspian \u202eevil",
                "url": "javascript:alert(1)",
                "excerpt": "<img src=x onerror=alert(1)>",
            }
        ],
    )
    (response,) = get(web.make_datasette(str(seeded)), "/archive/-/search?q=caspian")
    html = response.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Caspian &lt;U+202E&gt;evil" in html
    assert "\u202e" not in html
    assert "javascript:" not in html


# ---- configuration, plain datasette, live data, paging ----------------------------------------


def test_internal_tables_hidden_and_database_page(seeded: Path) -> None:
    ds = web.make_datasette(str(seeded))
    db, page, table = get(ds, "/archive.json", "/archive", "/archive/articles")
    hidden = {t["name"] for t in db.json()["tables"] if t["hidden"]}
    shown = {t["name"] for t in db.json()["tables"] if not t["hidden"]}
    assert shown == {"articles", "tags", "notes", "lists", "list_items"}
    assert {"vocab", "acronyms", "articles_fts", "articles_fts_vocab", "notes_fts"} <= hidden
    assert "titles_fts" in hidden
    assert {"edits", "aliases", "undo_log", "index_queue", "irarchive_writing"} <= hidden
    assert "select * from acronyms" not in page.text
    assert "select * from articles" in page.text
    assert 'href="/archive/-/search">Search the articles</a>' in page.text
    # Column descriptions fold away instead of filling the first screen.
    assert "<summary>What the columns mean</summary>" in table.text
    assert "td.col-excerpt { min-width: 28em" in table.text  # title and excerpt read as text
    assert 'name="_search"' in table.text


def test_plain_datasette_gets_the_plugin(seeded: Path) -> None:
    """`datasette archive.db`: no irarchive metadata given, the plugin supplies it."""
    from datasette.app import Datasette

    web.plugin.register()
    ds = Datasette(files=[str(seeded)])
    db, found, page, home = get(
        ds, "/archive.json", box("china's"), "/archive/-/search?q=samarqand", "/archive"
    )
    assert "select * from articles" in home.text
    hidden = {t["name"] for t in db.json()["tables"] if t["hidden"]}
    assert {"vocab", "acronyms"} <= hidden
    assert titles(found) == [CHINA]
    assert page_titles(page.text) == [SAMARKAND]


def test_plain_datasette_leaves_other_databases_alone(tmp_path: Path) -> None:
    from datasette.app import Datasette

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (title TEXT)")
        conn.execute("CREATE VIRTUAL TABLE notes_fts USING fts5(title, content=notes)")
        conn.execute("INSERT INTO notes VALUES ('red fox')")
        conn.execute("INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')")
    conn.close()
    web.plugin.register()
    ds = Datasette(files=[str(other)])
    found, page, table = get(
        ds, "/other/notes.json?_search=fox&_shape=array", "/other/-/search?q=fox", "/other/notes"
    )
    assert titles(found) == ["red fox"]
    assert page.status_code == 404
    assert table.status_code == 200 and "td.col-excerpt" not in table.text


def test_entry_point_names_the_plugin() -> None:
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="datasette") if e.name == "irarchive"]
    assert ep.value == "irarchive.web.plugin"


def test_imports_show_up_while_serving(seeded: Path, tmp_path: Path) -> None:
    """Live data: no restart needed (an immutable archive showed the old rows)."""
    ds = web.make_datasette(str(seeded))

    async def scenario() -> tuple[Any, Any]:
        await ds.invoke_startup()
        first = await ds.client.get("/archive/articles.json?_search=caviar&_shape=array")
        add(seeded, tmp_path, [{"title": "Caspian Caviar Diplomacy", "date": "2023-04-01"}])
        again = await ds.client.get("/archive/articles.json?_search=caviar&_shape=array")
        return first, again

    first, again = asyncio.run(scenario())
    assert titles(first) == []
    assert titles(again) == ["Caspian Caviar Diplomacy"]
    assert ds.databases["archive"].is_mutable


@pytest.mark.parametrize(
    "selection",
    ["_col=title&_col=date", "_col=title", "_nocol=date_start", "_col=title&_sort=title"],
)
def test_column_selection_pages_through_every_result(
    seeded: Path, tmp_path: Path, selection: str
) -> None:
    add(
        seeded,
        tmp_path,
        [{"title": f"Iraq report {i}", "date": f"2020-01-{1 + i % 3:02d}"} for i in range(17)],
    )
    ds = web.make_datasette(str(seeded))

    async def walk() -> list[str]:
        await ds.invoke_startup()
        seen: list[str] = []
        url = f"/archive/articles.json?_search=iraq&{selection}&_size=5"
        while url:
            response = await ds.client.get(url)
            assert response.status_code == 200, response.text
            data = response.json()
            index = data["columns"].index("title")
            seen += [row[index] for row in data["rows"]]
            url = data["next_url"] and data["next_url"].replace("http://localhost", "")
        return seen

    seen = asyncio.run(walk())
    assert sorted(seen) == sorted(f"Iraq report {i}" for i in range(17))


# ---- the serve command -----------------------------------------------------------------------


def test_serve_command_prints_the_search_page_url(
    seeded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(web, "serve", lambda ds, **kw: served.update(ds=ds, **kw))
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--port", "8123"])
    assert exc.value.code == 0
    assert capsys.readouterr().err == (
        f"Serving {seeded} read-only at http://127.0.0.1:8123/archive/-/search (Ctrl-C to stop)\n"
    )
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    (page,) = get(served["ds"], "/archive/-/search?q=samarqand")
    assert page_titles(page.text) == [SAMARKAND]


def test_serve_url_is_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "my archive é.db"
    monkeypatch.setattr(web, "serve", lambda ds, **kw: None)
    with pytest.raises(SystemExit):
        main(["--db", str(path), "serve", "--host", "::1", "--port", "8124"])
    err = capsys.readouterr().err
    url = "http://[::1]:8124/my+archive+~C3~A9/-/search"
    assert err.endswith(f"Serving {path} read-only at {url} (Ctrl-C to stop)\n")
    ds = web.make_datasette(str(path))
    (page,) = get(ds, "/my+archive+~C3~A9/-/search?q=samarqand")
    assert page_titles(page.text) == [SAMARKAND]


def test_serve_refuses_a_path_datasette_cannot_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a#b.db"
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(path), "serve"])
    assert exc.value.code == 1
    assert capsys.readouterr().err.endswith(
        f"Error: Datasette cannot open {path}: its path contains '?', '#' or '%'; "
        "rename it or serve a copy (irarchive --db COPY serve)\n"
    )


def test_serve_without_datasette_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "datasette", None)  # find_spec then reports it missing
    with pytest.raises(SystemExit) as exc:
        main(["serve"])
    assert exc.value.code == 1
    assert capsys.readouterr().err == "Error: install the web extra: pip install 'irarchive[web]'\n"


def test_serve_warns_when_listening_beyond_this_computer(
    seeded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(web, "serve", lambda ds, **kw: None)
    with pytest.raises(SystemExit):
        main(["serve", "--host", "0.0.0.0"])
    assert capsys.readouterr().err.startswith(
        "warning: listening on 0.0.0.0: other computers can read the archive\n"
    )


def test_plain_datasette_detects_the_search_index(seeded: Path) -> None:
    """`datasette ARCHIVE` offers a search box: it finds articles_fts by its content= clause."""
    from datasette.utils import detect_fts

    with sqlite3.connect(seeded) as conn:
        assert detect_fts(conn, "articles") == "articles_fts"
    conn.close()
