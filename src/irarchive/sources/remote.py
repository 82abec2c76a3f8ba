"""Importing from the web: find the feed, fetch it (``http``), parse it (``feeds``),
map its items onto articles (``record_to_article``, as for files), match them to
stored articles and import them in one transaction (``store.sources``).

Used by ``irarchive import URL``, ``import FILE.xml`` and ``irarchive update``.
Nothing here prints; each source's outcome comes back as an ``Outcome``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import IO, Any

from irarchive.errors import ImportFailed, IrarchiveError
from irarchive.model import Article
from irarchive.sources import Rejected, record_to_article
from irarchive.sources.feeds import Feed, NotAFeed

DEFAULT_MAX_PAGES = 10


@dataclass
class Outcome:
    """What checking one source did: its status and the import report, or the error."""

    name: str
    url: str
    feed_url: str | None = None
    feed_type: str | None = None
    title: str | None = None
    status: str = "unchanged"  # added | updated | unchanged | not modified | failed
    report: Any = None  # store.ImportReport
    error: str | None = None
    pages: int = 0
    etag: str | None = None
    last_modified: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "url": self.url,
            "feed_url": self.feed_url,
            "feed_type": self.feed_type,
            "status": self.status,
            "pages": self.pages,
        }
        if self.report is not None:
            out.update(self.report.to_dict())
        else:
            out.update({"added": 0, "updated": 0, "unchanged": 0, "rejected": 0, "rejections": []})
        out["error"] = self.error
        return out


def is_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def looks_like_feed_file(path: str) -> bool:
    """A saved feed: by its ending (the registry's ``feed`` suffixes), else by its first bytes."""
    from irarchive import formats

    if path == "-" or not os.path.isfile(path):
        return False
    if formats.input_for_path(path) is formats.FEED_IN:
        return True
    from irarchive.sources.feeds import sniff

    with open(path, "rb") as f:
        head = f.read(4096)
    kind = sniff(head)
    if kind == "xml":
        return True
    return kind == "json" and b"jsonfeed.org/version" in head


# ---- finding and fetching the feed ---------------------------------------------------------


def locate_feed(url: str, settings: Any = None) -> tuple[Any, str]:
    """Fetch ``url``; if it is an HTML page, find its feed and fetch that.

    Autodiscovery first (``<link rel="alternate" ...>``), then a WordPress page's
    ``/feed/``. Returns the feed's response and its URL.
    """
    from irarchive.sources import http

    with http.keep_alive():
        return _locate_feed(url, settings)


def _locate_feed(url: str, settings: Any) -> tuple[Any, str]:
    from irarchive.sources import feeds, http

    response = http.fetch(url, settings=settings)
    if feeds.sniff(response.content, response.media_type) != "html":
        return response, url
    page = feeds.discover(response.content, url=response.url)
    if page.feeds:
        feed_url = page.feeds[0][0]
    elif page.wordpress:
        feed_url = feeds.wordpress_feed_url(response.url)
    else:
        raise NotAFeed(
            f'{url} is an HTML page with no feed links (<link rel="alternate" '
            'type="application/rss+xml">); give the URL of its feed'
        )
    feed_response = http.fetch(feed_url, settings=settings)
    if feeds.sniff(feed_response.content, feed_response.media_type) == "html":
        raise NotAFeed(f"{url}: the feed it names ({feed_url}) is an HTML page, not a feed")
    return feed_response, feed_url


def _parse(response: Any, feed_url: str) -> Feed:
    from irarchive.sources import feeds

    return feeds.parse(response.content, url=feed_url, media_type=response.media_type)


# ---- mapping ------------------------------------------------------------------------------


def feed_items(
    feed: Feed,
    *,
    source: str,
    name: str,
    date_order: str | None = None,
    category: str | None = None,
    first_line: int = 1,
) -> list[Article | Rejected]:
    """A feed's raw records as articles, through the same mapping as JSON and CSV records.

    ``line`` in a rejection is the item's position in the feed (1 = first item).
    The guid goes to ``extra`` (matching uses links, titles and dates, which the
    listing text shares; a guid it does not have). ``category`` (a source's
    ``--category``) files every item there; the feed's own categories stay in
    ``extra["categories"]``.
    """
    out: list[Article | Rejected] = []
    for i, record in enumerate(feed.records, start=first_line):
        item = record_to_article(record, name=name, line=i, source=source, date_order=date_order)
        if isinstance(item, Article):
            extra = dict(item.extra)
            if item.source_id:
                extra["guid"] = item.source_id
            item = replace(item, source_id=None, extra=extra, category=category or item.category)
        out.append(item)
    return out


# ---- importing ----------------------------------------------------------------------------


def import_items(
    archive: Any,
    items: list[Article | Rejected],
    *,
    feed_url: str,
    dry_run: bool = False,
    strict: bool = False,
) -> Any:
    """Match and import one feed's items in one transaction; returns the ImportReport."""
    from irarchive.store.sources import match_items, remember_items

    matched: list[Article] = []

    def tracked() -> Any:
        for item in match_items(archive, feed_url, items):
            if isinstance(item, Article):
                matched.append(item)
            yield item

    return archive.import_items(
        tracked(),
        dry_run=dry_run,
        strict=strict,
        before_commit=lambda _report: remember_items(archive, feed_url, matched),
    )


def _outcome(name: str, feed_url: str, feed: Feed) -> Outcome:
    """The outcome of reading ``name``: what its feed's first page says about it."""
    return Outcome(
        name=name, url=name, feed_url=feed_url, feed_type=feed.kind, title=feed.title, pages=1
    )


def _imported(
    archive: Any,
    outcome: Outcome,
    items: list[Article | Rejected],
    *,
    dry_run: bool = False,
    strict: bool = False,
) -> Outcome:
    """Import ``items`` into ``outcome``'s feed and note the report and status on it."""
    assert outcome.feed_url is not None
    report = import_items(archive, items, feed_url=outcome.feed_url, dry_run=dry_run, strict=strict)
    outcome.report = report
    outcome.status = "added" if report.added else "updated" if report.updated else "unchanged"
    return outcome


def import_url(
    archive: Any,
    url: str,
    *,
    date_order: str | None = None,
    dry_run: bool = False,
    strict: bool = False,
    settings: Any = None,
) -> Outcome:
    """``irarchive import URL``: fetch once (a feed, or a page naming one) and import."""
    from irarchive.sources import http

    http.check_url(url)
    response, feed_url = locate_feed(url, settings)
    feed = _parse(response, feed_url)
    outcome = _outcome(url, feed_url, feed)
    items = feed_items(feed, source=feed_url, name=feed_url, date_order=date_order)
    return _imported(archive, outcome, items, dry_run=dry_run, strict=strict)


def import_file(
    archive: Any,
    path: str,
    *,
    date_order: str | None = None,
    dry_run: bool = False,
    strict: bool = False,
    stdin: IO[bytes] | None = None,
) -> Outcome:
    """``irarchive import feed.xml`` (or ``-f feed FILE``): a saved feed, imported as its
    URL would be; ``-`` reads ``stdin`` whole.

    Its articles' source is the feed's own address when it names one (RSS/Atom
    ``rel="self"``, JSON Feed ``feed_url``), so importing the saved copy and
    following the live feed give the same articles.
    """
    from irarchive.sources import feeds

    if path == "-":
        if stdin is None:
            raise ImportFailed("<stdin>: no standard input to read the feed from")
        content = stdin.read(feeds_max_bytes() + 1)
        name = "stdin"
    else:
        try:
            with open(path, "rb") as f:
                content = f.read(feeds_max_bytes() + 1)
        except OSError as exc:
            raise ImportFailed(f"{path}: cannot read ({exc.strerror})") from None
        name = os.path.basename(path)
    if len(content) > feeds_max_bytes():
        raise ImportFailed(f"{path}: larger than {feeds_max_bytes() // 2**20} MiB; not imported")
    try:
        feed = feeds.parse(content, url="<stdin>" if path == "-" else path)
    except NotAFeed as exc:
        raise ImportFailed(str(exc)) from None
    source = feed.self_url or name
    outcome = _outcome(path, source, feed)
    items = feed_items(feed, source=source, name=path, date_order=date_order)
    return _imported(archive, outcome, items, dry_run=dry_run, strict=strict)


def feeds_max_bytes() -> int:
    from irarchive.sources import http

    return http.DEFAULT_SETTINGS.max_bytes


# ---- update -----------------------------------------------------------------------------


def update_source(
    archive: Any,
    source: Any,
    *,
    backfill: bool = False,
    max_pages: int = DEFAULT_MAX_PAGES,
    date_order: str | None = None,
    settings: Any = None,
    now: str,
) -> Outcome:
    """Check one followed source and import what is new; failures come back in the Outcome.

    A 304 costs no parsing. Every page read (``--backfill``) is imported in the
    same single transaction. The outcome is recorded on the source either way.
    """
    from irarchive.sources import http
    from irarchive.store import sources as stored

    outcome = Outcome(name=source.name, url=source.url, feed_url=source.feed_url)
    try:
        if source.feed_url:
            etag = None if backfill else source.etag
            since = None if backfill else source.last_modified
            try:
                response = http.fetch(
                    source.feed_url, etag=etag, last_modified=since, settings=settings
                )
                feed_url = source.feed_url
            except http.FetchFailed as exc:
                # The feed moved (a new theme, a renamed category): find it again
                # from the page the source was added with.
                gone = exc.reason.startswith(("HTTP 404", "HTTP 410"))
                if not gone or source.url == source.feed_url:
                    raise
                response, feed_url = locate_feed(source.url, settings)
        else:
            response, feed_url = locate_feed(source.url, settings)
        outcome.feed_url = feed_url
        outcome.etag, outcome.last_modified = response.etag, response.last_modified
        if response.not_modified:
            outcome.status = "not modified"
            outcome.etag = outcome.etag or source.etag
            outcome.last_modified = outcome.last_modified or source.last_modified
            stored.record_check(
                archive,
                source.name,
                now=now,
                etag=outcome.etag,
                last_modified=outcome.last_modified,
            )
            return outcome
        feed = _parse(response, feed_url)
        outcome.feed_type, outcome.title, outcome.pages = feed.kind, feed.title, 1
        items = feed_items(
            feed, source=feed_url, name=feed_url, date_order=date_order, category=source.category
        )
        if backfill:
            items += _older_pages(
                archive,
                feed,
                feed_url,
                outcome,
                max_pages=max_pages,
                date_order=date_order,
                category=source.category,
                settings=settings,
            )
        _imported(archive, outcome, items)
    except IrarchiveError as exc:
        outcome.status = "failed"
        outcome.error = getattr(exc, "reason", None) or str(exc)
        stored.record_check(archive, source.name, now=now, error=outcome.error)
        return outcome
    stored.record_check(
        archive,
        source.name,
        now=now,
        feed_url=outcome.feed_url,
        feed_type=outcome.feed_type,
        title=outcome.title,
        etag=outcome.etag,
        last_modified=outcome.last_modified,
        new_items=bool(outcome.report and outcome.report.added),
    )
    return outcome


def _older_pages(
    archive: Any,
    first: Feed,
    feed_url: str,
    outcome: Outcome,
    *,
    max_pages: int,
    date_order: str | None,
    category: str | None,
    settings: Any,
) -> list[Article | Rejected]:
    """Walk older pages (Atom/JSON ``next``, else WordPress ``?paged=N``).

    Stops at the page limit, at a page with no items, at a page that repeats one
    already read (a site that ignores ``paged``), at a page whose items are all in
    the archive already, or when the site says there is no such page (404/410).
    """
    from irarchive.sources import feeds, http
    from irarchive.store.sources import known_count

    items: list[Article | Rejected] = []
    seen = {_record_key(r) for r in first.records}
    current = first
    line = len(first.records) + 1
    for number in range(2, max_pages + 1):
        if current.next_url:
            url = current.next_url
        elif first.kind.startswith("rss"):
            url = feeds.page_url(feed_url, number)
        else:
            break
        try:
            response = http.fetch(url, settings=settings)
        except http.FetchFailed as exc:
            if exc.reason.startswith(("HTTP 404", "HTTP 410")):
                break
            raise
        page = _parse(response, url)
        keys = {_record_key(r) for r in page.records}
        if not page.records or keys <= seen:
            break
        seen |= keys
        outcome.pages = number
        mapped = feed_items(
            page,
            source=feed_url,
            name=feed_url,
            date_order=date_order,
            category=category,
            first_line=line,
        )
        line += len(page.records)
        items += mapped
        articles = [a for a in mapped if isinstance(a, Article)]
        if articles and known_count(archive, feed_url, articles) == len(articles):
            break
        current = page
    return items


def _record_key(record: Any) -> str:
    if not isinstance(record, dict):
        return repr(record)
    return str(record.get("guid") or record.get("url") or record.get("title"))
