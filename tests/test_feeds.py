"""Following feeds end to end: import URL, sources add/list/remove, update, --backfill.

Every test runs a real HTTP server on 127.0.0.1 (tests/feedserver.py) serving fixture
feeds in the shapes real sites emit, and asserts the exact articles stored.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from irarchive.sources import http
from tests.conftest import PROXY_VARIABLES, ROOT
from tests.feedserver import (
    ATOM,
    HTML,
    FeedServer,
    gzip_bomb,
    huge,
    redirect,
    stalls,
    status_then,
    trickles,
)

LISTING = str(ROOT / "data" / "listings" / "international-relations-listing.txt")
CAT = "/category/international-relations/"
FEED = CAT + "feed/"
ERI = "https://eurasian-research.example/"


@pytest.fixture(autouse=True)
def fast_http(monkeypatch):
    """Short timeouts and no real sleeping; no proxy between the tests and 127.0.0.1."""
    for var in PROXY_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    waits: list[float] = []
    monkeypatch.setattr(
        http,
        "DEFAULT_SETTINGS",
        replace(http.DEFAULT_SETTINGS, connect_timeout=2, total_timeout=2, sleep=waits.append),
    )
    return waits


def articles(db) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY date DESC, title")]
    conn.close()
    for r in rows:
        r["extra"] = json.loads(r["extra"]) if r["extra"] else {}
        r["authors"] = json.loads(r["authors"]) if r["authors"] else []
    return rows


def snapshot(db) -> list[tuple]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT * FROM articles ORDER BY rowid").fetchall()
    conn.close()
    return rows


def wordpress(server: FeedServer, etag: str | None = '"wp-1"') -> str:
    server.serve(FEED, "wordpress-page1.xml", etag=etag)
    server.serve(FEED + "?paged=2", "wordpress-page2.xml")
    return server.serve(CAT, "category-page.html", HTML)


KAZ = {
    "title": "Kazakhstan’s Snap Presidential Election: Results and Outlook",
    # Mon, 21 Nov 2022 01:30:00 +0600: the publisher's day, not UTC's (20 November).
    "date": "2022-11-21",
    "excerpt": "On November 20, 2022, Kazakhstan held a snap presidential election, the "
    "first since the constitutional referendum of June 2022. Incumbent President "
    "Kassym-Jomart Tokayev won with 81.3% of the vote & a turnout of 69.4%.",
    "truncated": 1,
    "category": "International Relations",
    "url": ERI + "kazakhstans-snap-presidential-election-results-and-outlook/",
    # dc:creator, mapped as every import maps authors (CSL name objects).
    "authors": [{"family": "Aben", "given": "Dauren"}],
    "extra": {
        "categories": ["International Relations", "Kazakhstan", "Elections"],
        "guid": ERI + "?p=21502",
    },
}


def test_import_wordpress_feed_url_stores_exact_articles(cli, empty, server):
    url = wordpress(server)
    r = cli("import", server.url(FEED))
    assert r.code == 0, r
    assert r.err == f"{server.url(FEED)}: 4 added, 0 updated, 0 unchanged, 0 rejected\n"
    got = articles(empty)
    assert [a["title"] for a in got] == [
        KAZ["title"],
        "The Sixth CICA Summit: Asian Vision of the Global Development",
        "2022 SCO Summit in Samarkand: Key Takeaways",
        "30th Year of Diplomatic Relations between Türkiye and Turkic Republics",
    ]
    kaz = got[0]
    assert {k: kaz[k] for k in KAZ} == KAZ
    assert kaz["source"] == server.url(FEED)
    cica = got[1]
    # "[…]" and the "The post … appeared first on …" footer are gone; truncated is set.
    assert cica["excerpt"].endswith("disruption of supply chains,")
    assert cica["truncated"] == 1 and cica["date"] == "2022-11-01"
    assert cica["authors"] == [{"family": "Tskhay", "given": "Aliya"}]
    assert cica["extra"]["categories"] == ["International Relations", "CICA"]
    # The same article the listing text gives (its id is the listing's).
    assert cica["id"] == "141e649dec283798"
    assert url  # the category page is served too (autodiscovery test below)


def test_feed_and_listing_text_give_the_same_articles_in_either_order(cli, tmp_path, server):
    wordpress(server)
    feed = server.url(FEED)
    results = {}
    for order in ("listing-first", "feed-first"):
        db = str(tmp_path / f"{order}.db")
        assert cli("--db", db, "--no-seed", "db", "init").code == 0
        steps = [LISTING, feed] if order == "listing-first" else [feed, LISTING]
        for step in steps:
            assert cli("--db", db, "import", step).code == 0
        # Importing both again changes nothing, in either order.
        again = [cli("--db", db, "import", s).err for s in (feed, LISTING, feed)]
        assert again == [
            f"{feed}: 0 added, 0 updated, 4 unchanged, 0 rejected\n",
            f"{LISTING}: 0 added, 0 updated, 10 unchanged, 0 rejected\n",
            f"{feed}: 0 added, 0 updated, 4 unchanged, 0 rejected\n",
        ]
        results[order] = {
            a["id"]: (a["title"], a["date"], a["excerpt"], a["url"], a["authors"])
            for a in articles(db)
        }
    assert len(results["listing-first"]) == 11  # 10 in the listing + 1 only in the feed
    assert results["listing-first"] == results["feed-first"]
    with_links = [v for v in results["feed-first"].values() if v[3]]
    assert len(with_links) == 4


def test_listing_then_feed_reports_filled_in_articles(cli, seeded, server):
    wordpress(server)
    r = cli("import", server.url(FEED))
    assert r.err == f"{server.url(FEED)}: 1 added, 3 updated, 0 unchanged, 0 rejected\n"
    sco = next(a for a in articles(seeded) if a["id"] == "a510295c9c3d6635")
    assert sco["url"] == ERI + "2022-sco-summit-in-samarkand-key-takeaways/"
    assert sco["source"] == "international-relations-listing.txt"  # first source kept
    assert sco["authors"] == [{"literal": "Eurasian Research Institute"}]


def test_page_url_finds_the_category_feed_by_autodiscovery(cli, empty, server):
    page = wordpress(server)
    server.serve("/feed/", "atom.xml", ATOM)  # the site-wide feed: not the one wanted
    r = cli("import", page)
    assert r.code == 0, r
    assert r.err == (
        f"{page} (feed {server.url(FEED)}): 4 added, 0 updated, 0 unchanged, 0 rejected\n"
    )


def test_wordpress_page_without_feed_links_uses_its_feed_path(cli, empty, server):
    wordpress(server)
    page = server.serve(CAT, "wordpress-no-links.html", HTML)
    r = cli("import", page)
    assert r.code == 0, r
    assert len(articles(empty)) == 4


def test_atom_feed_with_html_title_authors_and_time_zones(cli, empty, server):
    url = server.serve("/atom.xml", "atom.xml", ATOM)
    assert cli("import", url).code == 0
    got = articles(empty)
    assert [(a["title"], a["date"], a["category"], a["truncated"]) for a in got] == [
        # published 2022-11-03T00:30:00+05:00: the publisher's day.
        ("Trans-Caspian Pipeline: Back on the Agenda?", "2022-11-03", "Energy", 1),
        ("Aktau Port Expansion", "2022-10-12", None, 0),
    ]
    assert got[0]["excerpt"] == (
        "Turkmen gas to Europe across the Caspian: the idea returns as Europe looks for suppliers…"
    )
    assert got[0]["authors"] == [
        {"family": "Umarova", "given": "Nargiza"},
        {"family": "Dadabaev", "given": "Timur"},
    ]
    assert got[0]["extra"] == {
        "categories": ["Energy", "Caspian Sea"],
        "guid": "tag:caspian-notes.example,2022-11-03:/posts/trans-caspian-pipeline/",
    }
    assert got[1]["excerpt"] == (
        "Kazakhstan’s Caspian port of Aktau is growing as the Middle Corridor gains traffic."
    )


def test_json_feed(cli, empty, server):
    url = server.serve("/feed.json", "feed.json", "application/feed+json")
    assert cli("import", url).code == 0
    got = articles(empty)
    assert [(a["title"], a["date"], a["excerpt"], a["url"]) for a in got] == [
        (
            "The Middle Corridor After 2022",
            "2022-11-03",  # 2022-11-03T23:30:00-05:00 stays the 3rd
            "Why the Middle Corridor matters now.",
            "https://steppe-review.example/2022/11/middle-corridor",
        ),
        (
            "Water Sharing in Central Asia",
            "2022-10-20",
            "The Amu Darya and Syr Darya basins.",
            "https://steppe-review.example/2022/10/water",
        ),
    ]
    assert got[0]["authors"] == [
        {"family": "Sadykova", "given": "Aigerim"},
        {"family": "Burnashev", "given": "Rustam"},
    ]
    assert got[1]["authors"] == [{"literal": "Steppe Review Editors"}]  # the feed's authors


def test_feed_with_a_bad_date_imports_the_rest_and_reads_other_languages(cli, empty, server):
    url = server.serve("/tr/feed/", "bad-date-tr.xml")
    r = cli("import", url)
    assert r.code == 0, r
    assert r.err == (
        f"{url}: 2 added, 0 updated, 0 unchanged, 1 rejected\n"
        f"  rejected {url}:2: bad date: 'yakında' is not a date I know "
        "(use ISO 2022-11-01, 'November 1, 2022', …)\n"
    )
    got = articles(empty)
    assert [(a["title"], a["date"], a["truncated"]) for a in got] == [
        ("6. CICA Zirvesi: Küresel Kalkınmanın Asya Vizyonu", "2022-11-01", 1),
        ("Саммит СВМДА в Астане", "2022-10-13", 0),
    ]
    assert got[0]["excerpt"] == (
        "Avrasya ülkelerindeki siyasi durum sıklıkla tartışılan konulardan biridir."
    )


def test_saved_feed_file_imports_like_its_url(cli, empty, server, tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes((ROOT / "tests" / "fixtures" / "feeds" / "wordpress-page1.xml").read_bytes())
    r = cli("import", str(path))
    assert r.code == 0, r
    got = articles(empty)
    assert len(got) == 4
    # The feed names its own address (atom:link rel="self"): that is the source.
    assert {a["source"] for a in got} == {ERI + "category/international-relations/feed/"}


# ---- sources and update ------------------------------------------------------------------


def test_sources_add_list_update_remove(cli, empty, server):
    page = wordpress(server)
    atom = server.serve("/atom.xml", "atom.xml", ATOM)
    r = cli("sources", "add", page, "--name", "eri")
    assert r.code == 0, r
    assert r.err == (
        f"following 'eri': {page} (feed {server.url(FEED)}), rss20, 4 items now; "
        "import them with: irarchive update eri\n"
    )
    r = cli("sources", "add", atom, "--category", "Energy Notes")
    assert r.err.startswith("following 'caspian-policy-notes': ")
    assert cli("sources", "add", atom).err == (
        "Error: a source with this URL is already followed ('caspian-policy-notes'); "
        "see: irarchive sources list\n"
    )
    assert articles(empty) == []  # adding checks the feed but imports nothing

    r = cli("update")
    assert (r.code, r.err) == (
        0,
        "caspian-policy-notes: added: 2 added, 0 updated, 0 unchanged\n"
        "eri: added: 4 added, 0 updated, 0 unchanged\n",
    )
    got = articles(empty)
    assert len(got) == 6
    # --category files the source's articles; their own categories stay in extra.
    atom_rows = [a for a in got if a["source"] == atom]
    assert {a["category"] for a in atom_rows} == {"Energy Notes"}
    assert atom_rows[0]["extra"]["categories"] == ["Energy", "Caspian Sea"]

    r = cli("sources", "list", "--json")
    listed = {s["name"]: s for s in json.loads(r.out)}
    assert listed["eri"]["feed_url"] == server.url(FEED)
    assert listed["eri"]["feed_type"] == "rss20"
    assert listed["eri"]["items"] == 4 and listed["caspian-policy-notes"]["items"] == 2
    assert listed["eri"]["etag"] == '"wp-1"' and listed["eri"]["last_error"] is None
    assert listed["eri"]["new_item_at"] is not None

    # The second update sends the ETag back; the 304 costs no parsing.
    r = cli("update", "eri")
    assert r.err == "eri: unchanged (not modified since the last check)\n"
    assert server.requests[-1][1].get("If-None-Match") == '"wp-1"'

    r = cli("sources", "remove", "eri")
    assert r.err == f"stopped following 'eri' ({page}); its articles stay\n"
    assert len(articles(empty)) == 6
    assert [s["name"] for s in json.loads(cli("sources", "list", "--json").out)] == [
        "caspian-policy-notes"
    ]
    assert cli("update", "eri").err == (
        "Error: no source named 'eri'; followed: caspian-policy-notes "
        "(see: irarchive sources list)\n"
    )


def test_sources_list_on_a_pipe_is_tab_separated(cli, empty, server):
    wordpress(server)
    cli("sources", "add", server.url(FEED), "--name", "eri", "--no-check")
    assert cli("sources", "list").out == f"eri\t{server.url(FEED)}\t\tnever\t\t0\t\n"


def test_update_json_for_scripts(cli, empty, server):
    wordpress(server)
    cli("sources", "add", server.url(FEED), "--name", "eri")
    r = cli("update", "--json")
    assert r.code == 0 and r.err == ""
    assert json.loads(r.out) == {
        "sources": [
            {
                "name": "eri",
                "url": server.url(FEED),
                "feed_url": server.url(FEED),
                "feed_type": "rss20",
                "status": "added",
                "pages": 1,
                "added": 4,
                "updated": 0,
                "unchanged": 0,
                "rejected": 0,
                "rejections": [],
                "error": None,
            }
        ]
    }


def test_backfill_walks_wordpress_pages_until_the_site_says_no_more(cli, empty, server):
    wordpress(server)
    cli("sources", "add", server.url(FEED), "--name", "eri")
    r = cli("update", "--backfill")
    assert r.err == "eri: added: 7 added, 0 updated, 0 unchanged from 2 pages\n"
    paths = [p for p, _ in server.requests]
    assert paths[-2:] == [FEED + "?paged=2", FEED + "?paged=3"]  # 404 ends the walk
    assert len(articles(empty)) == 7


def test_backfill_follows_atom_next_links(cli, empty, server):
    server.serve("/atom.xml", "atom.xml", ATOM)
    server.serve("/atom-page2.xml", "atom-page2.xml", ATOM)
    cli("sources", "add", server.url("/atom.xml"), "--name", "caspian")
    r = cli("update", "--backfill")
    assert r.err == "caspian: added: 3 added, 0 updated, 0 unchanged from 2 pages\n"
    assert [a["title"] for a in articles(empty)][-1] == "Caspian Summit in Ashgabat"


def test_backfill_stops_at_the_page_limit(cli, empty, server):
    wordpress(server)
    cli("sources", "add", server.url(FEED), "--name", "eri")
    r = cli("update", "--backfill", "--max-pages", "1")
    assert r.err == "eri: added: 4 added, 0 updated, 0 unchanged\n"


def test_retry_after_is_honoured_then_the_feed_imports(cli, empty, server, fast_http):
    server.serve("/ok.xml", "wordpress-page1.xml")
    ok = server.httpd.routes["/ok.xml"]
    server.route("/feed.xml", status_then([(429, {"Retry-After": "3"}), (503, {})], ok))
    cli("sources", "add", server.url("/feed.xml"), "--name", "busy", "--no-check")
    r = cli("update")
    assert (r.code, r.err) == (0, "busy: added: 4 added, 0 updated, 0 unchanged\n")
    assert fast_http == [3.0, 2.0]  # Retry-After, then the backoff for the 2nd retry


# ---- failures: one line each, recorded, nothing changed, the others still update ----------


#: The total deadline for the stalled and trickling sources (seconds).
SHORT_DEADLINE = 1.5

SLOW_FAILURES = ("stalled", "trickling")
FAILURES = {
    "404": (lambda s: s.url("/missing/feed/"), "HTTP 404 Not Found"),
    "500": (
        lambda s: s.route("/err", status_then([(500, {})] * 10, lambda h: None)),
        "HTTP 500 Internal Server Error (after 3 retries)",
    ),
    "malformed": (
        lambda s: s.serve("/broken.xml", "malformed.xml"),
        "malformed XML at line 13, column 4 (mismatched tag)",
    ),
    "html page": (
        lambda s: s.serve("/about/", "not-a-feed.html", HTML),
        'is an HTML page with no feed links (<link rel="alternate" '
        'type="application/rss+xml">); give the URL of its feed',
    ),
    "stalled": (
        lambda s: s.route("/stall", stalls(s)),
        f"no complete answer within {SHORT_DEADLINE} s",
    ),
    "trickling": (
        lambda s: s.route("/trickle", trickles(s)),
        f"no complete answer within {SHORT_DEADLINE} s",
    ),
    "30 MiB with Content-Length": (
        lambda s: s.route("/big", huge(30 * 2**20, declare_length=True)),
        "the response is larger than 20 MiB (31,457,280 bytes); not imported",
    ),
    "30 MiB without Content-Length": (
        lambda s: s.route("/big-chunked", huge(30 * 2**20, declare_length=False)),
        "the response is larger than 20 MiB",
    ),
    "gzip bomb": (
        lambda s: s.route("/bomb", gzip_bomb()),
        "the response decompresses to more than 20 MiB",
    ),
    "redirect loop": (
        lambda s: (
            s.route("/a", redirect("/b")),
            s.route("/b", redirect(s.url("/a"), 302)),
        )[0],
        "redirect loop (",
    ),
    "redirect to a file URL": (
        lambda s: s.route("/to-file", redirect("file:///etc/passwd")),
        "redirected to a non-http(s) URL (file:///etc/passwd)",
    ),
    "refused": (lambda s: _closed_port_url(), "connection refused"),
}


def _closed_port_url() -> str:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    return f"http://127.0.0.1:{port}/feed/"


@pytest.mark.parametrize(
    "kind",
    # The trickle lasts seconds (the server stops it after 5 s), and a stall waits for the
    # deadline twice: start them first.
    [
        pytest.param(k, marks=[pytest.mark.slow, pytest.mark.waits]) if k in SLOW_FAILURES else k
        for k in FAILURES
    ],
)
def test_a_failing_source_is_one_line_recorded_and_changes_nothing(
    cli, seeded, server, kind, monkeypatch
):
    make, reason = FAILURES[kind]
    if kind in ("stalled", "trickling"):
        # Short enough for a quick test, long enough for the healthy source beside it
        # to answer on a loaded machine.
        monkeypatch.setattr(
            http, "DEFAULT_SETTINGS", replace(http.DEFAULT_SETTINGS, total_timeout=SHORT_DEADLINE)
        )
    wordpress(server)
    bad = make(server)
    assert cli("sources", "add", bad, "--name", "bad", "--no-check").code == 0
    assert cli("sources", "add", server.url(FEED), "--name", "good").code == 0
    before = snapshot(seeded)
    r = cli("update", "bad")
    assert r.code == 1
    assert r.err.startswith("bad: failed: ") and r.err.count("\n") == 1
    assert reason in r.err
    assert snapshot(seeded) == before
    # Together with a healthy source: that one still updates; the exit code is 1.
    r = cli("update")
    assert r.code == 1
    lines = r.err.splitlines()
    assert lines[0].startswith("bad: failed: ") and lines[1].startswith("good: added: 1 added")
    listed = {s["name"]: s for s in json.loads(cli("sources", "list", "--json").out)}
    assert reason in listed["bad"]["last_error"] and listed["bad"]["failures"] == 2
    assert listed["good"]["last_error"] is None


def test_import_of_a_failing_url_says_why_and_exits_1(cli, seeded, server):
    before = snapshot(seeded)
    r = cli("import", server.url("/missing/feed/"))
    assert (r.code, r.err) == (
        1,
        f"Error: {server.url('/missing/feed/')}: HTTP 404 Not Found\n",
    )
    assert snapshot(seeded) == before


def test_non_http_urls_are_refused(cli, seeded):
    r = cli("sources", "add", "ftp://example.org/feed")
    assert (r.code, r.err) == (
        2,
        "Error: 'ftp://example.org/feed' is not an http(s) URL; "
        "give e.g. https://example.org/feed/\n",
    )


# ---- https ----------------------------------------------------------------------------------


@pytest.fixture
def tls_server():
    """A local HTTPS server whose certificate only tests/fixtures/tls/ca.pem vouches for."""
    s = FeedServer(tls=True)
    yield s
    s.close()


@pytest.fixture
def ca_bundles_read(monkeypatch):
    """Counts the CA bundles read; this process's TLS context is made anew for the test."""
    import ssl

    reads: list[str | None] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self, *args, **kwargs):
        reads.append(kwargs.get("cafile", args[0] if args else None))  # httpx < 0.28: cafile=
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    http.tls_context.cache_clear()
    yield reads
    http.tls_context.cache_clear()  # no later test sees this test's SSL_CERT_FILE


def test_https_from_an_unknown_authority_is_refused(cli, seeded, tls_server, ca_bundles_read):
    wordpress(tls_server)
    before = snapshot(seeded)
    r = cli("import", tls_server.url(FEED))
    assert r.code == 1, r
    assert r.err.startswith(
        f"Error: {tls_server.url(FEED)}: TLS/certificate problem ([SSL: CERTIFICATE_VERIFY_FAILED]"
    ), r
    assert r.err.count("\n") == 1
    assert snapshot(seeded) == before


def test_https_feeds_share_one_tls_context_and_honour_ssl_cert_file(
    cli, empty, tls_server, ca_bundles_read, monkeypatch
):
    """SSL_CERT_FILE names the authorities to trust, as for httpx itself. Reading a CA
    bundle costs ~25 ms of CPU: an update of many feeds and pages reads it once."""
    from tests.feedserver import TLS

    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    wordpress(tls_server)
    tls_server.serve("/other/feed/", "wordpress-page2.xml")
    assert cli("sources", "add", tls_server.url(FEED), "--name", "eri").code == 0
    assert cli("sources", "add", tls_server.url("/other/feed/"), "--name", "other").code == 0
    http.tls_context.cache_clear()  # as in a new process
    ca_bundles_read.clear()
    fetches = len(tls_server.requests)
    r = cli("update", "--backfill")
    assert r.code == 0, r
    assert sorted(p for p, _ in tls_server.requests[fetches:]) == [
        "/category/international-relations/feed/",
        "/category/international-relations/feed/?paged=2",
        "/category/international-relations/feed/?paged=3",
        "/other/feed/",
        "/other/feed/?paged=2",
    ]
    assert ca_bundles_read == [str(TLS / "ca.pem")]
    assert len(articles(empty)) == 7


# ---- keep-alive -----------------------------------------------------------------------------


@pytest.fixture
def keep_alive_server():
    """A local server that keeps connections open between requests (HTTP/1.1)."""
    s = FeedServer(keep_alive=True)
    yield s
    s.close()


def test_an_update_reuses_its_connections(cli, empty, keep_alive_server):
    """Two sources on one site, both backfilled: five requests, two connections (each
    fetch opened its own before). The body of an error answer is not read, so the
    404 that ends a backfill ends its connection too. Finding a feed from its page
    (two requests) reuses the connection as well."""
    server = keep_alive_server
    wordpress(server)
    server.serve("/other/feed/", "wordpress-page2.xml")
    assert cli("sources", "add", server.url(CAT), "--name", "eri").code == 0
    assert [p for p, _ in server.requests] == [CAT, FEED]
    assert server.connections == 1
    assert cli("sources", "add", server.url("/other/feed/"), "--name", "other").code == 0
    before = (len(server.requests), server.connections)
    r = cli("update", "--backfill")
    assert r.code == 0, r
    assert len(server.requests) - before[0] == 5
    assert server.connections - before[1] == 2
    assert len(articles(empty)) == 7


def test_a_kept_connection_left_garbled_is_replaced_not_fatal(cli, empty, keep_alive_server):
    """A server that writes more than the Content-Length it declared leaves the extra
    bytes on the connection, where the next request would read them as its answer. That
    next fetch is tried once more on a new connection instead of failing."""
    from tests.feedserver import FEEDS, RSS

    server = keep_alive_server
    body = (FEEDS / "wordpress-page1.xml").read_bytes()

    def too_long(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body + b"<!-- written after the length was sent -->")

    server.route("/a/feed/", too_long)
    server.serve("/b/feed/", "wordpress-page2.xml")
    for name in ("a", "b"):
        assert cli("sources", "add", server.url(f"/{name}/feed/"), "--name", name).code == 0
    r = cli("update")
    assert (r.code, r.err) == (
        0,
        "a: added: 4 added, 0 updated, 0 unchanged\nb: added: 3 added, 0 updated, 0 unchanged\n",
    )


def test_unchanged_feeds_keep_the_connection(cli, empty, keep_alive_server):
    """The common update, every feed answering 304 Not Modified, uses one connection."""
    server = keep_alive_server
    server.serve("/a/feed/", "wordpress-page1.xml", etag='"a1"')
    server.serve("/b/feed/", "wordpress-page2.xml", etag='"b1"')
    for name in ("a", "b"):
        assert cli("sources", "add", server.url(f"/{name}/feed/"), "--name", name).code == 0
    assert cli("update").code == 0
    before = (len(server.requests), server.connections)
    r = cli("update")
    assert r.err == (
        "a: unchanged (not modified since the last check)\n"
        "b: unchanged (not modified since the last check)\n"
    )
    assert (len(server.requests) - before[0], server.connections - before[1]) == (2, 1)


def test_a_fetch_never_sends_the_cookies_an_earlier_one_got(cli, empty, keep_alive_server):
    """Sharing a connection shares nothing else: a cookie set by the first page of a
    backfill is not sent with the second."""
    from tests.feedserver import FEEDS, RSS, send

    server = keep_alive_server
    body = (FEEDS / "wordpress-page1.xml").read_bytes()
    server.route(FEED, lambda h: send(h, 200, body, RSS, {"Set-Cookie": "session=abc; Path=/"}))
    server.serve(FEED + "?paged=2", "wordpress-page2.xml")
    assert cli("sources", "add", server.url(FEED), "--name", "eri").code == 0
    assert cli("update", "--backfill").code == 0
    sent = dict(server.requests)
    assert "Cookie" not in sent[FEED + "?paged=2"]
    assert server.connections == 2  # one for 'sources add', one for the update


def test_update_with_no_sources_says_how_to_add_one(cli, seeded):
    r = cli("update")
    assert (r.code, r.err) == (0, "no sources followed; add one with: irarchive sources add URL\n")


def test_update_shows_progress_on_a_terminal_only(tmp_path, server):
    """On a terminal stderr shows which source is being fetched; on a pipe only the lines."""
    import os
    import time

    from tests.feedserver import FEEDS, RSS, send
    from tests.test_startup import run_in_pty

    body = (FEEDS / "wordpress-page1.xml").read_bytes()

    def slowish(h):
        time.sleep(0.5)  # long enough for the spinner to be drawn
        send(h, 200, body, RSS)

    url = server.route("/slow/feed/", slowish)
    db = str(tmp_path / "p.db")
    env = dict(os.environ, COLUMNS="100", TERM="xterm", IRARCHIVE_DB=db)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(var, None)
    assert cli_ok(["--no-seed", "sources", "add", url, "--name", "eri", "--no-check"], env)
    code, shown = run_in_pty(["update"], env, stream="stderr", timeout=60)
    assert code == 0
    assert f"[1/1] eri: {url}" in shown
    assert "eri: added: 4 added, 0 updated, 0 unchanged" in shown


def cli_ok(args: list[str], env: dict[str, str]) -> bool:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "irarchive", *args], env=env, capture_output=True)
    return r.returncode == 0


def test_an_item_whose_title_was_edited_updates_its_article(cli, empty, server):
    """Matched by its link, not duplicated: same id and slug, new title."""
    url = server.serve(FEED, "wordpress-page1.xml")
    assert cli("import", url).code == 0
    before = {a["url"]: (a["id"], a["slug"]) for a in articles(empty)}
    edited = (
        (ROOT / "tests" / "fixtures" / "feeds" / "wordpress-page1.xml")
        .read_text("utf-8")
        .replace(
            "<title>2022 SCO Summit in Samarkand: Key Takeaways</title>",
            "<title>2022 SCO Summit in Samarkand: Key Takeaways and Outlook</title>",
        )
    )
    server.serve(FEED, edited.encode("utf-8"))
    r = cli("import", url)
    assert r.err == f"{url}: 0 added, 1 updated, 3 unchanged, 0 rejected\n"
    after = {a["url"]: (a["id"], a["slug"], a["title"]) for a in articles(empty)}
    sco = ERI + "2022-sco-summit-in-samarkand-key-takeaways/"
    assert after[sco] == (*before[sco], "2022 SCO Summit in Samarkand: Key Takeaways and Outlook")
    assert len(after) == 4


def test_an_article_removed_here_does_not_come_back_from_its_feed(cli, empty, server):
    wordpress(server, etag=None)
    assert cli("sources", "add", server.url(FEED), "--name", "eri").code == 0
    assert cli("update").code == 0
    sco = {a["url"]: a for a in articles(empty)}[SCO_URL]
    assert cli("rm", sco["id"], "--yes").code == 0
    r = cli("update")
    assert r.code == 0, r.err
    assert SCO_URL not in {a["url"] for a in articles(empty)}
    assert len(articles(empty)) == 3
    assert cli("undo").code == 0  # undo is how it comes back
    assert {a["url"]: a["id"] for a in articles(empty)}[SCO_URL] == sco["id"]
    r = cli("update")
    assert r.code == 0 and len(articles(empty)) == 4


def _json_feed(items: list[dict]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()


SCO_TITLE = "2022 SCO Summit in Samarkand: Key Takeaways"
SCO_URL = ERI + "2022-sco-summit-in-samarkand-key-takeaways/"


def test_a_json_record_with_the_same_link_and_title_is_the_same_article(
    cli, empty, server, tmp_path
):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps([{"title": SCO_TITLE, "url": SCO_URL, "date": "2022-09-30"}]))
    assert cli("import", str(path)).code == 0
    url = server.serve(FEED, "wordpress-page1.xml")
    r = cli("import", url)
    assert r.err == f"{url}: 3 added, 1 updated, 0 unchanged, 0 rejected\n"
    sco = [a for a in articles(empty) if a["title"] == SCO_TITLE]
    assert len(sco) == 1 and sco[0]["authors"] == [{"literal": "Eurasian Research Institute"}]


def test_same_title_and_date_but_another_link_is_another_article(cli, seeded, server):
    wordpress(server)
    assert cli("import", server.url(FEED)).code == 0  # the SCO article now has its link
    other = server.serve(
        "/mirror.json",
        _json_feed(
            [
                {
                    "id": "m1",
                    "url": "https://mirror.example/sco",
                    "title": SCO_TITLE,
                    "date_published": "2022-09-30",
                }
            ]
        ),
        "application/feed+json",
    )
    r = cli("import", other)
    assert r.err == f"{other}: 1 added, 0 updated, 0 unchanged, 0 rejected\n"
    assert sorted(a["url"] for a in articles(seeded) if a["title"] == SCO_TITLE) == [
        SCO_URL,
        "https://mirror.example/sco",
    ]


def test_a_feed_that_moved_is_found_again_from_its_page(cli, empty, server):
    page = wordpress(server)
    cli("sources", "add", page, "--name", "eri")
    assert cli("update").code == 0
    # The site moves its feed: the old address is gone, the page names the new one.
    del server.httpd.routes[FEED]
    server.serve(CAT + "rss/", "wordpress-page1.xml")
    html = (ROOT / "tests" / "fixtures" / "feeds" / "category-page.html").read_text("utf-8")
    server.serve(CAT, html.replace(FEED, CAT + "rss/").encode("utf-8"), HTML)
    r = cli("update")
    assert (r.code, r.err) == (0, "eri: unchanged: 0 added, 0 updated, 4 unchanged\n")
    listed = json.loads(cli("sources", "list", "--json").out)
    assert listed[0]["feed_url"] == server.url(CAT + "rss/")


def test_import_url_dry_run_and_json(cli, seeded, server):
    url = server.serve(FEED, "wordpress-page1.xml")
    before = snapshot(seeded)
    r = cli("import", url, "--dry-run", "--json")
    assert r.code == 0
    assert json.loads(r.out) == {
        "dry_run": True,
        "files": [
            {
                "file": url,
                "feed_url": url,
                "added": 1,
                "updated": 3,
                "unchanged": 0,
                "rejected": 0,
                "rejections": [],
            }
        ],
    }
    assert r.err == f"{url}: 1 would add, 3 would update, 0 unchanged, 0 rejected\n"
    assert snapshot(seeded) == before
    conn = sqlite3.connect(seeded)
    assert conn.execute("SELECT count(*) FROM source_items").fetchone()[0] == 0
    conn.close()
