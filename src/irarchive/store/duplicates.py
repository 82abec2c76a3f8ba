"""Finding and merging duplicate articles (``irarchive dedupe``), and the keys that say
two records are the same article (used by the import's matching too).

Two articles are likely the same when their urls normalise alike (scheme and host
case, trailing slash, fragment and ``utm_*`` parameters ignored), or when their
titles fold alike (as ``Article.key`` folds them) and their dates overlap, or when
title and excerpt are near-identical (rapidfuzz) within a few days of each other.
The work is bounded at a million articles: pairs are only looked for inside blocks
(one url key, one folded title, or one date window and title prefix), never across
the whole archive.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from irarchive.text import ascii_fold


def title_key(title: str | None) -> str:
    """A title folded as ``Article.key`` folds it: accents, case and spacing ignored."""
    return " ".join(ascii_fold(title or "").split())


def _ascii_lower(text: str) -> str:
    return text.translate(_LOWER)


_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def url_key(url: str) -> str:
    """The coarse key ``migrations.URL_KEY_SQL`` computes for a stored url, in Python."""
    cut = url.split("#", 1)[0].split("?", 1)[0]
    return _ascii_lower(cut).rstrip("/")


def normal_url(url: str | None) -> str | None:
    """A url as compared for identity: scheme and host lower-cased, default port,
    trailing slash, fragment and ``utm_*`` parameters dropped."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.scheme or not parts.netloc:
        return text.split("#", 1)[0].rstrip("/")
    scheme = parts.scheme.lower()
    host = parts.netloc.lower()
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, host, parts.path.rstrip("/"), urlencode(query), ""))
