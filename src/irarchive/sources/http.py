"""Retrieving feeds and pages over HTTP: bytes and metadata, never parsing.

Kept apart from parsing (``sources.feeds``) as lemon24/reader keeps its retrievers
apart from its parsers: everything here is about being a polite and safe client.

- ``User-Agent: irarchive/VERSION (+URL)``;
- conditional GET: the ETag / Last-Modified of the last fetch go back as
  If-None-Match / If-Modified-Since, and a 304 comes back with no body to parse;
- timeouts: 10 s to connect, 60 s for the whole response (a server trickling one
  byte a second is cut off too);
- at most 3 retries, with exponential backoff, on 429 and 5xx, honouring
  ``Retry-After`` (seconds or an HTTP date) up to a bound;
- a cap on the bytes received (20 MiB) and on the bytes they decompress to (gzip
  bombs), both checked while streaming;
- only http and https, also for redirects, at most 5 of them, loops named as such;
- ``HTTPS_PROXY`` and friends are honoured by httpx.

httpx is imported only when something is fetched. Waiting and the clock are
injectable so tests of retries and timeouts never sleep for real.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from irarchive import __version__
from irarchive.errors import IrarchiveError, UsageError

if TYPE_CHECKING:
    import ssl

PROJECT_URL = "https://example.invalid/irarchive"
USER_AGENT = f"irarchive/{__version__} (+{PROJECT_URL})"
MiB = 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_INFLATE_STEP = 1024 * 1024  # at most this much inflated per call: memory stays ~ the cap


class FetchFailed(IrarchiveError):
    """A URL could not be fetched (network, TLS, HTTP status, size, redirects, timeout)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Settings:
    """How to fetch. The defaults are the documented ones; tests shrink the waits."""

    connect_timeout: float = 10.0
    total_timeout: float = 60.0
    max_bytes: int = 20 * MiB
    max_decoded_bytes: int = 20 * MiB
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubled for each next one
    max_retry_after: float = 120.0  # a longer Retry-After is a failure, not a wait
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    #: For tests: an httpx transport (e.g. httpx.MockTransport); None = the network.
    transport: Any = None


#: What ``fetch`` uses when given no settings (tests replace it with shorter waits).
DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True)
class Response:
    """What a fetch returned. ``status`` is 200-ish, or 304 with an empty ``content``."""

    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"').lower()
        return None


def check_url(url: str) -> str:
    """The URL if it is one irarchive fetches (http or https with a host), else UsageError."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url!r} is not an http(s) URL; give e.g. https://example.org/feed/")
    return url.strip()


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    settings: Settings | None = None,
) -> Response:
    """GET ``url`` politely; raise ``FetchFailed`` with a one-line reason on any failure."""
    s = settings or DEFAULT_SETTINGS
    check_url(url)
    conditional: dict[str, str] = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    pool = _POOL.get()
    if pool is None:  # a fetch on its own: a client for it alone
        with _client(s) as client:
            status, response, attempt = _get_with_retries(client, url, s, conditional)
    else:
        client = pool.get(s)
        if client is None:
            client = pool[s] = _client(s)
        client.cookies.clear()  # as with a client of its own: no cookies from before
        try:
            status, response, attempt = _get_with_retries(client, url, s, conditional)
        except _BrokenConnection:
            # A kept connection the server had closed meanwhile, or one left mid-answer
            # (a body longer than its Content-Length): once more on a new one.
            with _client(s) as fresh:
                status, response, attempt = _get_with_retries(fresh, url, s, conditional)
    if 300 <= status < 400 and status != 304:
        raise FetchFailed(url, f"HTTP {status} redirect without a Location header")
    if status >= 400:
        tried = f" (after {attempt} retries)" if attempt else ""
        phrase = response.get("reason", "")
        raise FetchFailed(url, f"HTTP {status}{' ' + phrase if phrase else ''}{tried}")
    return Response(
        url=response["url"],
        status=status,
        content=response.get("content", b""),
        content_type=response["headers"].get("content-type", ""),
        etag=response["headers"].get("etag"),
        last_modified=response["headers"].get("last-modified"),
    )


#: The clients of the enclosing ``keep_alive()`` block, by the Settings they were made for.
_POOL: contextvars.ContextVar[dict[Settings, Any] | None] = contextvars.ContextVar(
    "irarchive_http_pool", default=None
)


@contextlib.contextmanager
def keep_alive() -> Iterator[None]:
    """Fetches in this block share their connections (HTTP keep-alive).

    An ``update`` fetches a site's feed and then its older pages; ``import URL`` a
    page and then its feed. Each fetch on its own opens a new connection (and, over
    HTTPS, a new TLS handshake, a round trip or two to a distant server); here the
    next fetch from the same server reuses it. Nothing else is shared: every fetch
    starts without cookies, as on a client of its own. Blocks nest: an inner one
    uses the outer one's connections.
    """
    if _POOL.get() is not None:
        yield
        return
    clients: dict[Settings, Any] = {}
    token = _POOL.set(clients)
    try:
        yield
    finally:
        _POOL.reset(token)
        for client in clients.values():
            client.close()


def _client(s: Settings) -> Any:
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(s.total_timeout, connect=s.connect_timeout),
        follow_redirects=False,
        transport=s.transport,
        headers={
            "User-Agent": s.user_agent,
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.7, "
            "*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        },
        verify=tls_context(),
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every fetch in this process, made once.

    httpx makes a context for every client it builds, and making one reads the whole
    CA bundle (certifi's, or ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR`` as httpx reads
    them): about 25 ms of CPU for every source checked and every page backfilled.
    This is the context httpx would make; one serves any number of connections.
    """
    import httpx

    return httpx.create_ssl_context()


class _BrokenConnection(FetchFailed):
    """The connection failed mid-request (reset, closed, or garbled by the server)."""


def _get_with_retries(
    client: Any, url: str, s: Settings, conditional: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    """The answer, after up to ``s.retries`` retries of a 429 or 5xx; and the retries."""
    attempt = 0
    while True:
        status, response = _get_following_redirects(client, url, s, conditional)
        if status not in RETRY_STATUSES or attempt >= s.retries:
            return status, response, attempt
        wait = _retry_wait(response, attempt, s)
        if wait is None:
            return status, response, attempt
        attempt += 1
        s.sleep(wait)


def _retry_wait(response: dict[str, Any], attempt: int, s: Settings) -> float | None:
    """Seconds to wait before the next try, or None when the server asks for too long."""
    backoff = s.backoff * (2**attempt)
    after = response["headers"].get("retry-after")
    if not after:
        return backoff
    after = after.strip()
    if after.isdigit():
        wait = float(after)
    else:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(after)
        except (TypeError, ValueError):
            return backoff
        from datetime import datetime, timezone

        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        wait = max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    if wait > s.max_retry_after:
        response["reason"] = (
            response.get("reason", "") + f" (the server asks to retry after {int(wait)} s)"
        ).strip()
        return None
    return wait


def _get_following_redirects(
    client: Any, url: str, s: Settings, conditional: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    seen = [url]
    current = url
    for _ in range(s.max_redirects + 1):
        status, response = _get_once(client, current, s, conditional)
        if status in (301, 302, 303, 307, 308) and response["headers"].get("location"):
            target = urljoin(current, response["headers"]["location"].strip())
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise FetchFailed(url, f"redirected to a non-http(s) URL ({target[:200]})")
            if target in seen:
                raise FetchFailed(url, f"redirect loop ({' -> '.join([*seen, target])[:300]})")
            seen.append(target)
            current = target
            continue
        return status, response
    raise FetchFailed(url, f"more than {s.max_redirects} redirects (last: {current[:200]})")


def _get_once(
    client: Any, url: str, s: Settings, conditional: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """One request (with the conditional-GET headers), its body streamed under the
    size caps and the total deadline."""
    import httpx

    start = s.clock()
    try:
        with client.stream("GET", url, headers=conditional) as r:
            headers = {k.lower(): v for k, v in r.headers.items()}
            info: dict[str, Any] = {
                "url": str(r.url),
                "headers": headers,
                "reason": r.reason_phrase,
            }
            if r.status_code == 304:
                r.read()  # nothing to read, but read: the connection can then be kept
                return r.status_code, info
            if r.status_code in (301, 302, 303, 307, 308) or r.status_code >= 400:
                return r.status_code, info  # the body of an error or redirect is not read
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > s.max_bytes:
                raise FetchFailed(url, _too_big(int(length), s.max_bytes))
            info["content"] = _read_body(r, url, headers.get("content-encoding", ""), start, s)
            return r.status_code, info
    except httpx.TimeoutException as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            raise FetchFailed(url, f"no connection within {s.connect_timeout:g} s") from None
        raise FetchFailed(url, f"no complete answer within {s.total_timeout:g} s") from None
    except httpx.TooManyRedirects:  # pragma: no cover - redirects are followed by hand
        raise FetchFailed(url, "too many redirects") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise _BrokenConnection(url, _network_reason(exc)) from None
    except httpx.HTTPError as exc:
        raise FetchFailed(url, _network_reason(exc)) from None


def _too_big(size: int, cap: int) -> str:
    return f"the response is larger than {cap / MiB:g} MiB ({size:,} bytes); not imported"


def _read_body(r: Any, url: str, encoding: str, start: float, s: Settings) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        decoder: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    elif encoding in ("", "identity"):
        decoder = None
    else:
        raise FetchFailed(url, f"unsupported Content-Encoding {encoding!r}")
    received = 0
    out = bytearray()
    # No chunk size: each network read is handed over as it arrives (a size makes
    # httpx gather that many bytes first, so a server trickling a byte at a time
    # would only meet the deadline check below every 64 KiB).
    for chunk in r.iter_raw():
        received += len(chunk)
        if received > s.max_bytes:
            raise FetchFailed(url, _too_big(received, s.max_bytes))
        if s.clock() - start > s.total_timeout:
            raise FetchFailed(url, f"no complete answer within {s.total_timeout:g} s")
        if decoder is None:
            out += chunk
            continue
        data = chunk
        while data:
            # max_length bounds what one call may inflate: a bomb is stopped at the cap,
            # never inflated whole into memory.
            room = min(s.max_decoded_bytes - len(out) + 1, _INFLATE_STEP)
            try:
                piece = decoder.decompress(data, room)
            except zlib.error as exc:
                raise FetchFailed(url, f"the {encoding} body is corrupt ({exc})") from None
            out += piece
            if len(out) > s.max_decoded_bytes:
                raise FetchFailed(
                    url,
                    f"the response decompresses to more than {s.max_decoded_bytes / MiB:g} MiB "
                    f"({received:,} bytes compressed); not imported",
                )
            data = decoder.unconsumed_tail
    if decoder is None and len(out) > s.max_decoded_bytes:
        raise FetchFailed(url, _too_big(len(out), s.max_decoded_bytes))
    if decoder is not None:
        out += decoder.flush()
    return bytes(out)


def _network_reason(exc: Exception) -> str:
    """One line for a network failure: DNS, refused, TLS, reset."""
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if (
        "name or service not known" in low
        or "nodename nor servname" in low
        or ("temporary failure in name resolution" in low)
        or "getaddrinfo failed" in low
        or "no address associated" in low
    ):
        return "cannot resolve the host name (DNS); check the URL and the network"
    if "certificate" in low or "ssl" in low or "tls" in low:
        return f"TLS/certificate problem ({text[:200]})"
    if "connection refused" in low:
        return "connection refused"
    if "unsupportedprotocol" in low or "unsupported protocol" in low:
        return "not an http(s) URL"
    return f"network error ({type(exc).__name__}: {text[:200]})"
