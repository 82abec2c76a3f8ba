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

from irarchive.text import ascii_fold, lazy_re


def title_key(title: str | None) -> str:
    """A title folded as ``Article.key`` folds it: accents, case and spacing ignored."""
    if not title:
        return ""
    if title.isascii():  # NFKC and mark stripping leave ASCII as it is: 20x faster
        return " ".join(title.lower().split())
    return " ".join(ascii_fold(title).split())


def title_hash(title: str | None) -> int:
    """The stored key of a title (column ``title_key``, migration m008): a 32-bit hash
    of ``title_key(title)``. Equal folded titles have equal keys; a few unequal ones
    share a key too, so whoever looks a title up by it compares the folded titles."""
    return key_hash(title_key(title))


def key_hash(key: str) -> int:
    """``title_hash`` of a title whose ``title_key`` is ``key``."""
    import zlib

    crc = zlib.crc32(key.encode("utf-8", "surrogatepass"))
    return crc - 0x1_0000_0000 if crc >= 0x8000_0000 else crc  # SQLite's 4-byte integers


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


# ---- finding ------------------------------------------------------------------------

import sqlite3  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date, timedelta  # noqa: E402

_NUMBERS = lazy_re(r"\d+")
SAME_URL = "same url"
SAME_TITLE = "same title and date"
SIMILAR = "similar title and excerpt"
SIMILAR_TITLE = "similar title"
#: Near-identical articles are looked for among those at most this many days apart,
#: with titles starting alike (the block): bounded work at any archive size.
FUZZY_DAYS = 3
FUZZY_PREFIX = 6
DEFAULT_MIN_SCORE = 90.0


@dataclass
class Group:
    """Articles that are likely one article: ``ids[0]`` is the one a merge keeps."""

    ids: list[str]
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


class _Pairs:
    """Union-find over article ids, remembering each group's weakest link and reasons."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.edges: list[tuple[str, str, float, str]] = []

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def add(self, a: str, b: str, score: float, reason: str) -> None:
        if a == b:
            return
        self.edges.append((a, b, score, reason))
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[tuple[list[str], float, list[str]]]:
        members: dict[str, list[str]] = {}
        for x in self.parent:
            members.setdefault(self.find(x), []).append(x)
        score: dict[str, float] = {}
        reasons: dict[str, list[str]] = {}
        for a, _b, s, r in self.edges:
            root = self.find(a)
            score[root] = min(score.get(root, 100.0), s)
            if r not in reasons.setdefault(root, []):
                reasons[root].append(r)
        return [(sorted(m), score[root], reasons[root]) for root, m in members.items()]


def find(conn: sqlite3.Connection, *, min_score: float = DEFAULT_MIN_SCORE) -> list[Group]:
    """Likely duplicates, each group ordered keeper first; groups sorted by score, then date.

    One pass over the url index (same normalised url), one pass over the date index
    (same folded title with overlapping dates; near-identical title and excerpt within
    ``FUZZY_DAYS`` days and the same title start, scored with rapidfuzz), and one over
    the undated articles (same folded title).
    """
    pairs = _Pairs()
    _same_urls(conn, pairs)
    _by_date(conn, pairs, min_score)
    _undated(conn, pairs)
    out = []
    for ids, score, reasons in pairs.groups():
        if score < min_score:
            continue
        out.append(Group(_keeper_first(conn, ids), score, reasons))
    out.sort(key=lambda g: (-g.score, g.ids[0]))
    return out


def _same_urls(conn: sqlite3.Connection, pairs: _Pairs) -> None:
    from irarchive.migrations import URL_KEY_SQL

    block: list[tuple[str, str]] = []
    last = None
    rows = conn.execute(
        f"SELECT {URL_KEY_SQL} AS k, id, url FROM articles WHERE url IS NOT NULL ORDER BY k"
    )
    for key, article_id, url in rows:
        if key != last:
            _url_block(block, pairs)
            block, last = [], key
        block.append((article_id, url))
    _url_block(block, pairs)


def _url_block(block: list[tuple[str, str]], pairs: _Pairs) -> None:
    if len(block) < 2:
        return
    first: dict[str | None, str] = {}
    for article_id, url in block:
        norm = normal_url(url)
        if norm in first:
            pairs.add(first[norm], article_id, 100.0, SAME_URL)
        else:
            first[norm] = article_id


def _by_date(conn: sqlite3.Connection, pairs: _Pairs, min_score: float) -> None:
    from rapidfuzz import fuzz

    titled: dict[str, list[tuple[str, str]]] = {}  # title key -> [(id, date_end)]
    recent: deque[tuple[str, str, str]] = deque()  # (date_start, title key, id)
    near: dict[str, list[tuple[str, str, str, str]]] = {}  # prefix -> [(start, id, t, ex)]
    near_order: deque[tuple[str, str]] = deque()  # (date_start, prefix)
    current = None
    year_ago = days_ago = ""
    rows = conn.execute(
        "SELECT id, title, date_start, date_end, substr(excerpt, 1, 400) FROM articles "
        "WHERE date_start IS NOT NULL ORDER BY date_start, date_end, id"
    )
    for article_id, title, start, end, excerpt in rows:
        if start != current:
            current = start
            day = date.fromisoformat(start)
            year_ago = (day - timedelta(days=366)).isoformat()
            days_ago = (day - timedelta(days=FUZZY_DAYS)).isoformat()
            while recent and recent[0][0] < year_ago:
                _, old_key, old_id = recent.popleft()
                kept = [e for e in titled.get(old_key, []) if e[0] != old_id]
                if kept:
                    titled[old_key] = kept
                else:
                    titled.pop(old_key, None)
            while near_order and near_order[0][0] < days_ago:
                _, prefix = near_order.popleft()
                entries = [e for e in near.get(prefix, []) if e[0] >= days_ago]
                if entries:
                    near[prefix] = entries
                else:
                    near.pop(prefix, None)
        key = title_key(title)
        matched = False
        for other_id, other_end in titled.get(key, []):
            if other_end >= start:  # ordered by start: overlap needs only this test
                pairs.add(other_id, article_id, 100.0, SAME_TITLE)
                matched = True
                break
        titled.setdefault(key, []).append((article_id, end))
        recent.append((start, key, article_id))
        if start != end:
            continue  # only articles dated to the day are compared loosely
        prefix = key[:FUZZY_PREFIX]
        if not matched:
            for _s, other_id, other_key, other_excerpt in near.get(prefix, []):
                score = _similarity(fuzz, key, excerpt, other_key, other_excerpt)
                if score >= min_score:
                    why = SIMILAR if excerpt and other_excerpt else SIMILAR_TITLE
                    pairs.add(other_id, article_id, score, why)
        near.setdefault(prefix, []).append((start, article_id, key, excerpt or ""))
        near_order.append((start, prefix))


def _similarity(fuzz, key: str, excerpt: str | None, other_key: str, other_excerpt: str) -> float:
    """Title similarity, averaged with the excerpts' when both have one (0-100).

    Titles with different numbers ("Part 1"/"Part 2", "2021"/"2022") are different
    articles however alike the rest is: 0.
    """
    if _NUMBERS.findall(key) != _NUMBERS.findall(other_key):
        return 0.0
    title = fuzz.ratio(key, other_key)
    if title < 80:
        return title
    if excerpt and other_excerpt:
        return round((title + fuzz.ratio(excerpt, other_excerpt)) / 2, 1)
    return round(title, 1)


def _undated(conn: sqlite3.Connection, pairs: _Pairs) -> None:
    first: dict[str, str] = {}
    for article_id, title in conn.execute(
        "SELECT id, title FROM articles WHERE date_start IS NULL ORDER BY rowid"
    ):
        key = title_key(title)
        if key in first:
            pairs.add(first[key], article_id, 100.0, SAME_TITLE)
        else:
            first[key] = article_id


def _richness(row: dict) -> tuple:
    """Which article of a group a merge keeps: a whole excerpt over a truncated one, the
    longest excerpt, then the one with more of url/authors/doi, then the earliest added."""
    return (
        _excerpt_rank(row),
        len(row["excerpt"] or ""),
        bool(row["url"]) + bool(row["authors"]) + bool(row["doi"]),
        [-ord(c) for c in row["added_at"] or ""],
    )


def _excerpt_rank(row: dict) -> int:
    """2: a whole excerpt, 1: a truncated one, 0: none."""
    if not row["excerpt"]:
        return 0
    return 1 if row["truncated"] else 2


def _rows(conn: sqlite3.Connection, ids: list[str]) -> list[dict]:
    marks = ", ".join("?" * len(ids))
    cur = conn.execute(f"SELECT rowid AS _rowid_, * FROM articles WHERE id IN ({marks})", ids)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur]


def _keeper_first(conn: sqlite3.Connection, ids: list[str]) -> list[str]:
    rows = sorted(_rows(conn, ids), key=_richness, reverse=True)
    return [r["id"] for r in rows]


def article_rows(conn: sqlite3.Connection, ids: list[str]) -> Iterator[tuple[str, dict]]:
    """(id, row) for the ids, in the order given."""
    by_id = {r["id"]: r for r in _rows(conn, ids)}
    for i in ids:
        if i in by_id:
            yield i, by_id[i]


# ---- merging ------------------------------------------------------------------------


@dataclass
class MergeReport:
    groups: int = 0
    merged: int = 0  # articles merged into another (and gone)
    undo_id: int | None = None


def merge(archive, groups: list[Group], *, now: str, dry_run: bool = False) -> MergeReport:
    """Merge each group into its first (richest) article, in one transaction.

    The kept article takes the best of each field (see ``_combined``); tags are
    unioned, notes moved (a note whose text the kept article has is dropped),
    reading-list places moved (where the kept article is not in that list already),
    aliases and edits moved, and every merged id and slug becomes an alias, so old
    references keep resolving. One undo entry holds every article of every group.
    """
    from irarchive.store import indexing, undo
    from irarchive.store.transactions import transaction

    archive._require_writable()
    c = archive.conn
    report = MergeReport()
    with transaction(c, dry_run=dry_run):
        # Groups found before the transaction: keep only ids that still exist.
        live = []
        for g in groups:
            ids = [i for i, _ in article_rows(c, g.ids)]
            if len(ids) > 1:
                live.append(Group(ids, g.score, g.reasons))
        every = [i for g in live for i in g.ids]
        if live:
            report.undo_id = undo.record(
                c,
                "dedupe",
                f"merged {len(every) - len(live)} duplicate articles into {len(live)}",
                every,
                now=now,
            )
        for g in live:
            _merge_group(c, g.ids, now)
            report.groups += 1
            report.merged += len(g.ids) - 1
        indexing.sync(c)
    return report


def _combined(rows: list[dict]) -> dict:
    """The kept article's new values: its own, with what only the others have."""
    import json

    keep = dict(rows[0])
    best = max(rows, key=lambda r: (_excerpt_rank(r), len(r["excerpt"] or "")))
    keep["excerpt"], keep["truncated"] = best["excerpt"], best["truncated"]
    for f in ("url", "authors", "doi", "category", "date", "date_start", "date_end"):
        if not keep[f]:
            donor = next((r for r in rows[1:] if r[f]), None)
            if donor is not None:
                if f == "date":
                    keep["date_start"], keep["date_end"] = donor["date_start"], donor["date_end"]
                keep[f] = donor[f]
    keep["added_at"] = min(r["added_at"] for r in rows)
    extra: dict = {}
    for r in reversed(rows):
        if r["extra"]:
            extra.update(json.loads(r["extra"]))
    keep["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None
    return keep


def _merge_group(c: sqlite3.Connection, ids: list[str], now: str) -> None:
    rows = [row for _, row in article_rows(c, ids)]
    keeper, others = rows[0]["id"], rows[1:]
    new = _combined(rows)
    other_ids = [r["id"] for r in others]
    marks = ", ".join("?" * len(other_ids))
    # The others go first, so their slugs are free to become aliases.
    c.execute(f"DELETE FROM articles WHERE id IN ({marks})", other_ids)
    c.execute(
        "UPDATE articles SET excerpt = ?, truncated = ?, url = ?, authors = ?, doi = ?, "
        "category = ?, date = ?, date_start = ?, date_end = ?, added_at = ?, extra = ? "
        "WHERE id = ?",
        (
            new["excerpt"],
            new["truncated"],
            new["url"],
            new["authors"],
            new["doi"],
            new["category"],
            new["date"],
            new["date_start"],
            new["date_end"],
            new["added_at"],
            new["extra"],
            keeper,
        ),
    )
    c.execute(
        f"INSERT OR IGNORE INTO tags(article_id, tag, added_at) "
        f"SELECT ?, tag, added_at FROM tags WHERE article_id IN ({marks})",
        [keeper, *other_ids],
    )
    c.execute(f"DELETE FROM tags WHERE article_id IN ({marks})", other_ids)
    c.execute(
        f"DELETE FROM notes WHERE article_id IN ({marks}) AND (text IN "
        "(SELECT text FROM notes WHERE article_id = ?) OR id NOT IN "
        f"(SELECT min(id) FROM notes WHERE article_id IN ({marks}) GROUP BY text))",
        [*other_ids, keeper, *other_ids],
    )
    c.execute(
        f"UPDATE notes SET article_id = ? WHERE article_id IN ({marks})", [keeper, *other_ids]
    )
    for lst, article_id in c.execute(
        f"SELECT list, article_id FROM list_items WHERE article_id IN ({marks}) ORDER BY position",
        other_ids,
    ).fetchall():
        if c.execute(
            "SELECT 1 FROM list_items WHERE list = ? AND article_id = ?", (lst, keeper)
        ).fetchone():
            c.execute("DELETE FROM list_items WHERE list = ? AND article_id = ?", (lst, article_id))
        else:
            c.execute(
                "UPDATE list_items SET article_id = ? WHERE list = ? AND article_id = ?",
                (keeper, lst, article_id),
            )
    c.execute(
        f"UPDATE aliases SET article_id = ? WHERE article_id IN ({marks})", [keeper, *other_ids]
    )
    c.execute(
        f"INSERT OR IGNORE INTO edits(article_id, field, value, source_value, edited_at) "
        f"SELECT ?, field, value, source_value, edited_at FROM edits WHERE article_id IN ({marks})",
        [keeper, *other_ids],
    )
    c.execute(f"DELETE FROM edits WHERE article_id IN ({marks})", other_ids)
    c.execute(
        "INSERT OR IGNORE INTO source_items(feed_url, article_id, url) "
        f"SELECT feed_url, ?, url FROM source_items WHERE article_id IN ({marks})",
        [keeper, *other_ids],
    )
    c.execute(f"DELETE FROM source_items WHERE article_id IN ({marks})", other_ids)
    aliases = [(r["id"], "id") for r in others]
    aliases += [(r["slug"], "slug") for r in others if r["slug"]]
    c.executemany(
        "INSERT OR REPLACE INTO aliases(alias, article_id, kind, created_at) VALUES (?, ?, ?, ?)",
        [(alias, keeper, kind, now) for alias, kind in aliases],
    )
