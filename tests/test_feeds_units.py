"""The parts of following feeds one at a time: fetching, parsing, dates, start-up cost."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib
from dataclasses import replace

import httpx
import pytest

from irarchive.dates import parse_record_date
from irarchive.sources import feeds, http
from tests.conftest import PROXY_VARIABLES
from tests.feedserver import RSS, redirect, status_then


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in PROXY_VARIABLES:
        monkeypatch.delenv(var, raising=False)


def settings(**kw) -> http.Settings:
    waits: list[float] = []
    base = http.Settings(connect_timeout=2, total_timeout=2, sleep=waits.append)
    return replace(base, **kw)


# ---- fetching ---------------------------------------------------------------------------


def test_fetch_sends_user_agent_and_returns_bytes_and_validators(server):
    url = server.serve("/f.xml", "atom.xml", etag='"v1"')
    r = http.fetch(url, settings=settings())
    assert r.status == 200 and r.content.startswith(b"<?xml") and not r.not_modified
    assert (r.etag, r.last_modified) == ('"v1"', "Tue, 01 Nov 2022 06:10:22 GMT")
    headers = server.requests[-1][1]
    assert headers["User-Agent"].startswith("irarchive/") and "(+https://" in headers["User-Agent"]
    again = http.fetch(url, etag=r.etag, last_modified=r.last_modified, settings=settings())
    assert again.not_modified and again.content == b""
    assert server.requests[-1][1]["If-Modified-Since"] == "Tue, 01 Nov 2022 06:10:22 GMT"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies_are_decoded(server, encoding):
    from tests.feedserver import FEEDS, send

    raw = (FEEDS / "atom.xml").read_bytes()
    body = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    url = server.route("/c", lambda h: send(h, 200, body, RSS, {"Content-Encoding": encoding}))
    assert http.fetch(url, settings=settings()).content == raw


def test_a_gzip_bomb_is_stopped_without_inflating_it_whole(server):
    import tracemalloc

    from tests.feedserver import gzip_bomb

    url = server.route("/bomb", gzip_bomb())  # 60 MiB inflated
    tracemalloc.start()
    try:
        with pytest.raises(http.FetchFailed) as exc:
            http.fetch(url, settings=settings(max_decoded_bytes=4 * 2**20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exc.value.reason.startswith("the response decompresses to more than 4 MiB")
    assert peak < 12 * 2**20  # the cap and one step, never the 60 MiB


def test_retry_after_as_an_http_date_and_exponential_backoff(server):
    waits: list[float] = []
    server.serve("/ok", b"<rss version='2.0'><channel></channel></rss>")
    handler = server.httpd.routes["/ok"]
    url = server.route(
        "/r",
        status_then(
            [
                (503, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}),  # in the past: 0 s
                (502, {}),
                (500, {}),
            ],
            handler,
        ),
    )
    r = http.fetch(url, settings=settings(sleep=waits.append, backoff=0.5))
    assert r.status == 200
    assert waits == [0.0, 1.0, 2.0]


def test_a_retry_after_longer_than_the_bound_fails_at_once(server):
    waits: list[float] = []
    url = server.route("/slowdown", status_then([(429, {"Retry-After": "3600"})], lambda h: None))
    with pytest.raises(http.FetchFailed) as exc:
        http.fetch(url, settings=settings(sleep=waits.append))
    assert exc.value.reason == (
        "HTTP 429 Too Many Requests (the server asks to retry after 3600 s)"
    )
    assert waits == []


def test_more_than_five_redirects_fail(server):
    for i in range(7):
        server.route(f"/r{i}", redirect(f"/r{i + 1}"))
    with pytest.raises(http.FetchFailed) as exc:
        http.fetch(server.url("/r0"), settings=settings())
    assert exc.value.reason.startswith("more than 5 redirects (last: ")


def test_a_relative_redirect_is_followed(server):
    server.serve("/new/feed/", "atom.xml")
    server.route("/old/feed/", redirect("../../new/feed/", 308))
    r = http.fetch(server.url("/old/feed/"), settings=settings())
    assert r.url == server.url("/new/feed/")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "cannot resolve the host name (DNS); check the URL and the network",
        ),
        (
            httpx.ConnectError(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed"
            ),
            "TLS/certificate problem ([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: self-signed)",
        ),
        (httpx.ConnectTimeout("timed out"), "no connection within 2 s"),
        (httpx.ReadTimeout("timed out"), "no complete answer within 2 s"),
    ],
)
def test_network_failures_are_one_line(error, reason):
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    s = settings(transport=httpx.MockTransport(fail))
    with pytest.raises(http.FetchFailed) as exc:
        http.fetch("https://feeds.example/x", settings=s)
    assert exc.value.reason == reason
    assert str(exc.value) == f"https://feeds.example/x: {reason}"


@pytest.mark.parametrize("url", ["ftp://x.org/feed", "file:///etc/passwd", "javascript:1", "x"])
def test_only_http_and_https(url):
    from irarchive.errors import UsageError

    with pytest.raises(UsageError):
        http.fetch(url, settings=settings())


# ---- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "media", "kind"),
    [
        (b"\xef\xbb\xbf<?xml version='1.0'?><rss>", "", "xml"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'>", "", "xml"),
        (b'  {"version": "https://jsonfeed.org/version/1.1"}', "", "json"),
        (b"<!DOCTYPE html><html>", "", "html"),
        (b"<div>hello</div>", "text/html", "html"),
        (b"plain words", "text/plain", "unknown"),
    ],
)
def test_sniff(head, media, kind):
    assert feeds.sniff(head, media) == kind


@pytest.mark.parametrize(
    ("summary", "excerpt", "truncated"),
    [
        ("Text, [&#8230;]", "Text,", True),
        ("<p>Text [...]</p>", "Text", True),
        ('Text. <a href="/x">Continue reading <span>Title</span> &rarr;</a>', "Text.", True),
        ("Text. Read more", "Text.", True),
        ("Текст. Читать далее", "Текст.", True),
        (
            '<p>Text.</p><p>The post <a href="/x">Title</a> appeared first on '
            '<a href="/">Site</a>.</p>',
            "Text.",
            False,
        ),
        ("<p>A &amp; B<br/>C</p><script>alert(1)</script>", "A & B C", False),
        ("[bold]not markup[/bold]", "[bold]not markup[/bold]", False),
    ],
)
def test_excerpts_are_text_and_endings_mean_truncated(summary, excerpt, truncated):
    assert feeds.excerpt_of(feeds.html_to_text(summary), None) == (excerpt, truncated)


def test_full_content_without_a_summary_is_cut_to_an_excerpt():
    text, truncated = feeds.excerpt_of(None, "word " * 400)
    assert truncated and len(text) <= feeds.EXCERPT_MAX and text.endswith("word")


def test_discovery_prefers_the_page_own_feed_and_skips_comment_feeds():
    html = b"""<html><head><base href="https://site.example/blog/">
    <link rel="alternate" type="application/rss+xml" title="Comments" href="comments/feed/">
    <link rel="alternate" type="application/atom+xml" href="/atom.xml">
    <link rel="alternate" type="application/feed+json" href="/feed.json">
    <link rel="stylesheet" href="/x.css">
    </head></html>"""
    page = feeds.discover(html, url="https://site.example/blog/")
    assert page.feeds[0] == ("https://site.example/atom.xml", "atom", "")
    assert page.feeds[-1][0] == "https://site.example/blog/comments/feed/"
    assert not page.wordpress


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"items": []}', "is JSON but not a JSON Feed (no jsonfeed.org version)"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": 3}', "has no 'items' list"),
        (b"{not json", "invalid JSON"),
        (b"<html><body>hi</body></html>", "is an HTML page, not a feed"),
    ],
)
def test_things_that_are_not_feeds(content, message):
    with pytest.raises(feeds.NotAFeed) as exc:
        feeds.parse(content, url="https://x.example/f")
    assert message in str(exc.value)


def test_undefined_html_entities_in_rss_are_read_not_refused():
    feed = feeds.parse(
        b'<rss version="2.0"><channel><item><title>A&nbsp;B</title><pubDate>2022-11-01'
        b"</pubDate></item></channel></rss>",
        url="https://x.example/f",
    )
    assert feed.records[0]["title"] == "A B"


def test_wordpress_paging_urls():
    assert feeds.page_url("https://s.example/category/x/feed/", 2) == (
        "https://s.example/category/x/feed/?paged=2"
    )
    assert feeds.page_url("https://s.example/?feed=rss2&paged=2", 3) == (
        "https://s.example/?feed=rss2&paged=3"
    )
    assert feeds.wordpress_feed_url("https://s.example/category/x") == (
        "https://s.example/category/x/feed/"
    )


# ---- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("1 Kasım 2022", "2022-11-01"),
        ("1 KASIM 2022", "2022-11-01"),
        ("Perşembe, 3 Kasım 2022", "2022-11-03"),
        ("1 ноября 2022", "2022-11-01"),
        ("1 ноября 2022 г.", "2022-11-01"),
        ("1 қараша 2022", "2022-11-01"),
        ("2022 жылғы 1 қараша", "2022-11-01"),
        ("1-noyabr, 2022", "2022-11-01"),
        ("3-noyabr 2022-yil", "2022-11-03"),
        ("Thursday, 3 November 2022", "2022-11-03"),
        ("3rd of November 2022", "2022-11-03"),
        ("Nov 1st, 2022", "2022-11-01"),
        ("2022/11/01", "2022-11-01"),
        ("2022.11.01", "2022-11-01"),
        ("Kasım 2022", "2022-11"),
        ("Tue, 01 Nov 2022 23:30:00 +0300", "2022-11-01"),
    ],
)
def test_dates_in_the_sources_languages_and_forms(text, iso):
    assert parse_record_date(text) == iso


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("01/02/2022", "is ambiguous (day/month or month/day?): use --date-order dmy|mdy"),
        ("32 ноября 2022", "day 32 does not exist in November 2022"),
        ("2022/13/01", "month 13 does not exist"),
        ("Astana 2022 summit", "is not a date I know"),
        ("1 2 ноября 2022", "is not a date I know"),
        ("May 2022: Summit", "is not a date I know"),
        ("1 ноября 2022!!", "is not a date I know"),
    ],
)
def test_not_dates_and_ambiguous_dates_are_refused(text, reason):
    with pytest.raises(ValueError) as exc:
        parse_record_date(text)
    assert reason in str(exc.value)


# ---- start-up: the fetching libraries stay out of every other command ----------------------

PROBE = """
import sys, runpy
sys.argv = ["irarchive", *{args!r}]
try:
    runpy.run_module("irarchive", run_name="__main__")
except SystemExit:
    pass
sys.stderr.write("LOADED=" + ",".join(m for m in ("httpx", "feedparser") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [("--help",), ("list", "--json"), ("import", "{listing}"), ("sources", "list")],
)
def test_httpx_and_feedparser_load_only_to_fetch_or_parse_feeds(seeded, args):
    from tests.conftest import ROOT

    listing = str(ROOT / "data" / "listings" / "international-relations-listing.txt")
    args = tuple(a.format(listing=listing) for a in args)
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "IRARCHIVE_DB": str(seeded)},
    )
    assert r.stderr.rsplit("LOADED=", 1)[1] == ""


LAUGHS = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))


def test_a_billion_laughs_is_refused_not_expanded():
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{LAUGHS}]>'
        '<rss version="2.0"><channel><item><title>&l9;</title></item></channel></rss>'
    )
    try:
        feed = feeds.parse(doc.encode(), url="https://x.example/f")
    except feeds.NotAFeed as exc:  # expat >= 2.4 stops it
        assert "limit on input amplification factor" in str(exc)
    else:  # an older expat: feedparser's loose parser leaves the entity as it is
        assert [r["title"] for r in feed.records] == ["&l9;"]


def test_external_entities_are_never_read():
    doc = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><item><title>a&x;b</title></item></channel></rss>'
    )
    feed = feeds.parse(doc.encode(), url="https://x.example/f")
    assert [r["title"] for r in feed.records] == ["ab"]
