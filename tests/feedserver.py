"""A local HTTP server on 127.0.0.1 for the feed tests: fixture feeds and misbehaviours.

Routes map a path (with its query) to a handler; each handler gets the request
handler object and writes the response itself, so a test can serve exactly the
bytes and headers a real site sends, or misbehave (stall, trickle, loop, bomb).
Every request is recorded with its headers. Slow handlers watch ``stopping`` so the
server shuts down at once when the test ends.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml; charset=utf-8"
HTML = "text/html; charset=UTF-8"

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.requests.append((self.path, dict(self.headers.items())))
        route = self.server.routes.get(self.path)
        if route is None:
            send(self, 404, b"<html><body>Not Found</body></html>", HTML)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeouts, size caps): expected

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # connections stay open between requests


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Handler]
    requests: list[tuple[str, dict[str, str]]]
    stopping: threading.Event
    connections: int = 0

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1  # one call per connection accepted
        return True


def send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


#: A CA and a certificate for 127.0.0.1 it signed (fixtures/tls/README.md).
TLS = Path(__file__).resolve().parent / "fixtures" / "tls"


class FeedServer:
    """The running server: ``url(path)``, ``serve(path, ...)``, ``route(path, fn)``.

    ``tls=True`` serves HTTPS with ``TLS / "server.pem"``, which only ``TLS / "ca.pem"``
    vouches for. ``keep_alive=True`` speaks HTTP/1.1 and keeps connections open (every
    response then needs a length: ``send`` gives one; the stalling and trickling
    handlers, which end their bodies by closing, are for the default server).
    """

    def __init__(self, *, tls: bool = False, keep_alive: bool = False) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        self.scheme = "https" if tls else "http"
        if tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(TLS / "server.pem", TLS / "server-key.pem")
            # The handshake runs when the server accepts; a client that refuses the
            # certificate makes accept() fail, which socketserver ignores.
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.routes = {}
        self.httpd.requests = []
        self.httpd.stopping = threading.Event()
        # shutdown() waits for serve_forever's next poll: 0.5 s by default, which was
        # most of each feed test's time.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return self.httpd.requests

    @property
    def connections(self) -> int:
        """How many connections clients opened."""
        return self.httpd.connections

    @property
    def stopping(self) -> threading.Event:
        return self.httpd.stopping

    def route(self, path: str, handler: Handler) -> str:
        self.httpd.routes[path] = handler
        return self.url(path)

    def serve(
        self,
        path: str,
        fixture: str | bytes,
        content_type: str = RSS,
        *,
        status: int = 200,
        etag: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve a fixture (or bytes); with ``etag``, a matching If-None-Match gets a 304."""
        body = fixture if isinstance(fixture, bytes) else (FEEDS / fixture).read_bytes()
        extra = dict(headers or {})
        if etag:
            extra["ETag"] = etag
            extra["Last-Modified"] = "Tue, 01 Nov 2022 06:10:22 GMT"

        def handler(h: BaseHTTPRequestHandler) -> None:
            if etag and h.headers.get("If-None-Match") == etag:
                h.send_response(304)
                h.send_header("ETag", etag)
                h.end_headers()
                return
            send(h, status, body, content_type, extra)

        return self.route(path, handler)

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


# ---- misbehaving handlers ---------------------------------------------------------------


def status_then(codes: list[tuple[int, dict[str, str]]], then: Handler) -> Handler:
    """Answer with each (status, headers) once, in order, then hand over to ``then``."""
    left = list(codes)

    def handler(h: BaseHTTPRequestHandler) -> None:
        if left:
            code, headers = left.pop(0)
            send(h, code, b"<html><body>busy</body></html>", HTML, headers)
        else:
            then(h)

    return handler


def stalls(server: FeedServer, seconds: float = 5.0) -> Handler:
    """Send headers, then nothing (until the test ends or ``seconds`` pass)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.end_headers()
        h.wfile.flush()
        server.stopping.wait(seconds)

    return handler


def trickles(server: FeedServer, every: float = 0.05, seconds: float = 300.0) -> Handler:
    """A byte at a time, for longer than any test runs: each read is quick, the whole
    answer never comes (until the client hangs up or the server stops)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.end_headers()
        h.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel>")
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end and not server.stopping.wait(every):
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:  # the client gave up: what a fetch with a deadline does
            return

    return handler


def huge(size: int, *, declare_length: bool) -> Handler:
    """``size`` bytes of a feed-looking body, with or without a Content-Length."""
    head = b"<?xml version='1.0'?><rss version='2.0'><channel><title>big</title>"

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        if declare_length:
            h.send_header("Content-Length", str(size))
        h.end_headers()
        h.wfile.write(head)
        block = b" " * 65536
        sent = len(head)
        while sent < size:
            piece = block[: size - sent]
            h.wfile.write(piece)
            sent += len(piece)

    return handler


_BOMB: bytes | None = None


def gzip_bomb() -> Handler:
    """About 60 KiB on the wire that inflate to 60 MiB (made once, before any request)."""
    global _BOMB
    if _BOMB is None:
        _BOMB = gzip.compress(b"<?xml version='1.0'?>" + b" " * (60 * 1024 * 1024), 9)
    body = _BOMB

    def handler(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, body, RSS, {"Content-Encoding": "gzip"})

    return handler


def gzipped(fixture: str, content_type: str = RSS) -> Handler:
    body = gzip.compress((FEEDS / fixture).read_bytes())

    def handler(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, body, content_type, {"Content-Encoding": "gzip"})

    return handler


def redirect(to: str, status: int = 301) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler
