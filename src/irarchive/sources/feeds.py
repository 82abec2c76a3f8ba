"""Parsing feeds and pages: bytes in, raw records out. Never touches the network.

- RSS 0.9x/1.0/2.0 and Atom through feedparser (imported only here, only when a
  feed is parsed); JSON Feed 1.0/1.1 with ``json`` (feedparser 6.0 does not read it).
- HTML pages: feed autodiscovery (``<link rel="alternate" type="application/rss+xml|
  atom+xml|feed+json">``) with ``html.parser``; a WordPress page without such links
  has its feed at ``<page>/feed/``.
- Each entry becomes a *raw record* (a dict with ``title``, ``url``, ``date``,
  ``excerpt``, ``truncated``, ``category``, ``categories``, ``authors``, ``guid``)
  that goes through the same mapping onto articles as the JSON and CSV readers
  (``sources.record_to_article``): ``authors`` (dc:creator, author, authors) become
  the article's authors there, categories the category (first) and ``extra``.

Dates stay the text the feed gave (``Tue, 01 Nov 2022 23:30:00 +0300``), so the
import keeps the day as the publisher wrote it instead of feedparser's UTC
conversion (which would move that article to 2022-11-01 20:30 UTC, the right day
here, but the wrong one for an article published at 01:00 +0300).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from irarchive.errors import IrarchiveError
from irarchive.text import lazy_re

FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
    "application/rdf+xml": "rss",
    "application/xml": "rss",
    "text/xml": "rss",
}
#: Longest excerpt cut from full content when a feed gives no summary.
EXCERPT_MAX = 600


class NotAFeed(IrarchiveError):
    """Bytes that are not a feed (malformed XML, an HTML page without feed links, ...)."""


@dataclass
class Feed:
    """A parsed feed: what kind, its title, its entries as raw records, the next page."""

    kind: str  # rss20, rss10, atom10, json11, ...
    title: str | None
    records: list[dict[str, Any]]
    next_url: str | None = None
    link: str | None = None
    self_url: str | None = None  # where the feed says it lives (rel="self", feed_url)


@dataclass
class Page:
    """An HTML page: the feeds it links to, and whether it is a WordPress page."""

    feeds: list[tuple[str, str, str]] = field(default_factory=list)  # (url, type, title)
    wordpress: bool = False


# ---- telling feeds, JSON feeds and HTML apart --------------------------------------------


def sniff(content: bytes, media_type: str = "") -> str:
    """``"json"``, ``"xml"`` or ``"html"`` from the first bytes (and the media type)."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return "json"
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return "html"
    if head.startswith(b"<?xml") or head.startswith(b"<rss") or head.startswith(b"<feed"):
        return "xml"
    if head.startswith(b"<rdf") or b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
        return "xml"
    if "html" in media_type:
        return "html"
    if "json" in media_type:
        return "json"
    if b"<html" in head or b"<head" in head or b"<body" in head:
        return "html"
    return "xml" if head.startswith(b"<") else "unknown"


def parse(content: bytes, *, url: str, media_type: str = "") -> Feed:
    """Parse a feed of any supported kind; ``NotAFeed`` with a one-line reason if it is not."""
    kind = sniff(content, media_type)
    if kind == "json":
        return parse_json_feed(content, url=url)
    if kind == "html":
        raise NotAFeed(f"{url} is an HTML page, not a feed")
    if kind == "unknown":
        raise NotAFeed(f"{url} is not a feed (neither RSS, Atom nor JSON Feed)")
    return parse_xml_feed(content, url=url)


def parse_xml_feed(content: bytes, *, url: str) -> Feed:
    """RSS 0.9x/1.0/2.0 or Atom, through feedparser."""
    import feedparser

    d = feedparser.parse(content, response_headers={"content-location": url})
    problem = d.get("bozo_exception")
    if problem is not None and type(problem).__name__ == "SAXParseException":
        # feedparser's loose parser would guess around broken XML; a feed that is
        # not well-formed is refused, except for HTML entities (&nbsp;) that RSS
        # writers often leave in, which the loose parser reads correctly.
        if "undefined entity" not in str(problem):
            line = getattr(problem, "getLineNumber", lambda: None)()
            col = getattr(problem, "getColumnNumber", lambda: None)()
            where = f" at line {line}, column {col}" if line else ""
            raise NotAFeed(f"{url}: malformed XML{where} ({problem.getMessage()})")
    if not d.get("version"):
        raise NotAFeed(f"{url} is not a feed (neither RSS, Atom nor JSON Feed)")
    feed = d.get("feed", {})
    next_url = self_url = None
    for link in feed.get("links", []):
        if link.get("rel") == "next" and link.get("href"):
            next_url = urljoin(url, link["href"])
        elif link.get("rel") == "self" and link.get("href"):
            self_url = link["href"]
    records = [_entry_record(e, url) for e in d.get("entries", [])]
    return Feed(
        kind=d["version"],
        title=_plain(feed.get("title")),
        records=records,
        next_url=next_url,
        link=feed.get("link"),
        self_url=self_url if self_url and self_url.startswith(("http://", "https://")) else None,
    )


def parse_json_feed(content: bytes, *, url: str) -> Feed:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAFeed(f"{url}: invalid JSON ({exc})") from None
    version = doc.get("version", "") if isinstance(doc, dict) else ""
    if not isinstance(version, str) or "jsonfeed.org" not in version:
        raise NotAFeed(f"{url} is JSON but not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise NotAFeed(f"{url}: the JSON Feed has no 'items' list")
    feed_authors = _json_authors(doc)
    records = []
    for item in items:
        if not isinstance(item, dict):
            records.append(item)  # rejected by the mapping, with its position
            continue
        summary = _text_of(item.get("summary"))
        content_html = item.get("content_html")
        if isinstance(content_html, str) and content_html.strip():
            full = html_to_text(content_html)
        else:
            full = _text_of(item.get("content_text"))
        excerpt, truncated = excerpt_of(summary, full)
        tags = [str(t).strip() for t in item.get("tags") or [] if str(t).strip()]
        record: dict[str, Any] = {
            "title": _plain(_text_of(item.get("title"))) or _untitled(excerpt),
            "url": _url(item.get("url") or item.get("external_url"), url),
            "date": _text_of(item.get("date_published")) or _text_of(item.get("date_modified")),
            "excerpt": excerpt,
            "truncated": truncated,
        }
        _add_common(record, tags, _json_authors(item) or feed_authors, _text_of(item.get("id")))
        records.append(record)
    next_url = doc.get("next_url") if isinstance(doc.get("next_url"), str) else None
    return Feed(
        kind="json" + version.rstrip("/").rsplit("/", 1)[-1].replace(".", ""),
        title=_text_of(doc.get("title")),
        records=records,
        next_url=urljoin(url, next_url) if next_url else None,
        link=_text_of(doc.get("home_page_url")),
        self_url=_self(doc.get("feed_url")),
    )


def _self(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().startswith(("http://", "https://")):
        return value.strip()
    return None


def _json_authors(obj: dict[str, Any]) -> list[str]:
    found = obj.get("authors")
    if not isinstance(found, list):
        found = [obj["author"]] if isinstance(obj.get("author"), dict) else []
    return [str(a["name"]).strip() for a in found if isinstance(a, dict) and a.get("name")]


# ---- entries to raw records --------------------------------------------------------------


def _entry_record(e: Any, feed_url: str) -> dict[str, Any]:
    title = _plain(e.get("title"))
    if title and (e.get("title_detail") or {}).get("type") == "text/html":
        title = html_to_text(title)
    contents = [c.get("value", "") for c in e.get("content") or [] if c.get("value")]
    full = html_to_text(contents[0]) if contents else None
    raw_summary = e.get("summary")
    # feedparser fills summary from content:encoded when there is no description.
    summary = html_to_text(raw_summary) if raw_summary and raw_summary not in contents else None
    excerpt, truncated = excerpt_of(summary, full)
    tags = [str(t.get("term")).strip() for t in e.get("tags") or [] if t.get("term")]
    authors = [
        str(a.get("name") or a.get("email")).strip()
        for a in e.get("authors") or []
        if a.get("name") or a.get("email")
    ]
    if not authors and e.get("author"):
        authors = [str(e["author"]).strip()]
    record: dict[str, Any] = {
        "title": title or _untitled(excerpt),
        "url": _url(e.get("link"), feed_url),
        "date": e.get("published") or e.get("updated") or e.get("created"),
        "excerpt": excerpt,
        "truncated": truncated,
    }
    _add_common(record, tags, authors, e.get("id"))
    return record


def _add_common(record: dict[str, Any], tags: list[str], authors: list[str], guid: Any) -> None:
    tags = list(dict.fromkeys(tags))
    if tags:
        record["category"] = tags[0]
        record["categories"] = tags
    if authors:
        record["authors"] = list(dict.fromkeys(authors))
    if guid:
        record["guid"] = str(guid).strip()


def _untitled(excerpt: str | None) -> str | None:
    """RSS allows an item without a title: its first words stand in, as feed readers do."""
    if not excerpt:
        return None
    words = excerpt.split()
    return " ".join(words[:12]) + (" …" if len(words) > 12 else "")


def _url(value: Any, base: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return urljoin(base, value.strip())


def _text_of(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _plain(value: Any) -> str | None:
    return _text_of(value)


# ---- HTML to text, and the endings that mean "cut short" --------------------------------

_BLOCK = frozenset(
    "p br div li ul ol h1 h2 h3 h4 h5 h6 blockquote tr td th table section article figure "
    "figcaption header footer pre hr dd dt".split()
)
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "svg"})

_APPEARED_FIRST = lazy_re(r"\s*The post .{1,400}? appeared first on .{1,300}?\.?\s*$")
_READ_MORE = lazy_re(
    r"\s*(?:[\[(]\s*)?(?:Continue reading|Read more|Read the full (?:article|story)|Keep reading"
    r"|Devamını oku|Devamı|Читать далее|Подробнее|Толығырақ|Batafsil)\b.{0,200}$",
    re.IGNORECASE | re.DOTALL,
)
_ELLIPSIS_MARK = lazy_re(r"\s*\[\s*(?:…|\.\.\.|&hellip;)\s*\]\s*$")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str | None) -> str | None:
    """Visible text of an HTML fragment, entities decoded, whitespace collapsed."""
    if not html:
        return None
    if "<" not in html and "&" not in html:
        return " ".join(html.split()) or None
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split()) or None


def excerpt_of(summary: str | None, full: str | None) -> tuple[str | None, bool]:
    """The excerpt text and whether it was cut short.

    The summary, less WordPress's "The post … appeared first on …" footer; a
    ``[…]`` or "Continue reading" ending means the source showed only the
    beginning. Without a summary, the first words of the full text (cut there).
    """
    truncated = False
    text = summary
    if text:
        text = _APPEARED_FIRST.sub("", text)
        cut = _READ_MORE.sub("", text)
        if cut != text:
            text, truncated = cut, True
        cut = _ELLIPSIS_MARK.sub("", text)
        if cut != text:
            text, truncated = cut, True
        text = text.strip() or None
        return text, truncated or False
    if full:
        full = _APPEARED_FIRST.sub("", full).strip()
        if len(full) <= EXCERPT_MAX:
            return full or None, False
        cut = full[:EXCERPT_MAX].rsplit(" ", 1)[0].rstrip(" ,;:")
        return cut, True
    return None, False


# ---- HTML pages: autodiscovery ----------------------------------------------------------


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []
        self.base: str | None = None
        self.wordpress = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            kind = a.get("type", "").split(";")[0].strip().lower()
            if "alternate" in rels and kind in FEED_TYPES and a.get("href"):
                self.links.append((a["href"], kind, a.get("title", "")))
            if "wp-content" in a.get("href", "") or "api.w.org" in rels:
                self.wordpress = True
        elif tag == "meta" and a.get("name", "").lower() == "generator":
            self.wordpress = self.wordpress or a.get("content", "").lower().startswith("wordpress")
        elif tag in ("script", "img") and "/wp-content/" in (a.get("src") or ""):
            self.wordpress = True


def discover(html: bytes, *, url: str) -> Page:
    """The feeds an HTML page links to (best first) and whether it is a WordPress page.

    Comment feeds come last; a feed under the page's own path (a category page's
    ``/category/x/feed/``) comes first, since that is the one the page shows.
    """
    finder = _LinkFinder()
    try:
        finder.feed(html[: 2 * 1024 * 1024].decode("utf-8", errors="replace"))
        finder.close()
    except AssertionError:  # html.parser on hopeless markup
        pass
    base = urljoin(url, finder.base) if finder.base else url
    page_path = urlsplit(url).path.rstrip("/")
    seen: set[str] = set()
    ranked = []
    for order, (href, kind, title) in enumerate(finder.links):
        target = urljoin(base, href.strip())
        if target in seen or urlsplit(target).scheme not in ("http", "https"):
            continue
        seen.add(target)
        comments = "comment" in target.lower() or "comment" in title.lower()
        under_page = bool(page_path) and urlsplit(target).path.startswith(page_path + "/")
        ranked.append(((comments, not under_page, order), (target, FEED_TYPES[kind], title)))
    ranked.sort(key=lambda r: r[0])
    return Page(feeds=[r[1] for r in ranked], wordpress=finder.wordpress)


def wordpress_feed_url(page_url: str) -> str:
    """A WordPress page's feed: ``https://site/category/x/`` -> ``.../category/x/feed/``."""
    parts = urlsplit(page_url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path + "feed/", parts.query, ""))


def page_url(feed_url: str, page: int) -> str:
    """WordPress paging: the feed URL with ``paged=N`` set."""
    parts = urlsplit(feed_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "paged"]
    query.append(("paged", str(page)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
