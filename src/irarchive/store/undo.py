"""The undo log: what a destructive change replaced, kept so ``irarchive undo`` can restore it.

Every command that deletes or rewrites articles (``rm``, ``edit``, ``dedupe --merge``,
...) calls ``record`` inside its own transaction, *before* changing anything, with
the ids it is about to touch. The entry holds those articles' rows exactly as they
are (every column, and the rowid) together with everything that refers to them:
tags, notes, reading-list places, aliases and edits. ``restore_last`` puts all of
that back as it was and drops the entry, so undo gives byte-identical records. The
newest ``KEEP`` entries are kept (the issue asks for at least 20).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

KEEP = 50

#: Tables holding rows about an article, and the column naming it.
_RELATED = {
    "tags": "article_id",
    "notes": "article_id",
    "list_items": "article_id",
    "aliases": "article_id",
    "edits": "article_id",
    # Which feed item each article is: a merge moves these to the kept article.
    "source_items": "article_id",
}


@dataclass(frozen=True)
class Entry:
    """One undoable change, as ``irarchive undo --list`` shows it."""

    id: int
    action: str
    at: str
    summary: str
    articles: int


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _rows(conn: sqlite3.Connection, table: str, column: str, ids: list[str]) -> list[dict]:
    cols = _columns(conn, table)
    select = (
        ", ".join(["rowid AS _rowid_", *cols])
        if table in ("articles", "notes")
        else ", ".join(cols)
    )
    out: list[dict] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        cur = conn.execute(f"SELECT {select} FROM {table} WHERE {column} IN ({marks})", chunk)
        names = [d[0] for d in cur.description]
        out += [dict(zip(names, row, strict=True)) for row in cur]
    return out


def snapshot(conn: sqlite3.Connection, article_ids: list[str]) -> dict[str, Any]:
    """The articles with these ids and every row referring to them, as they are now."""
    ids = list(dict.fromkeys(article_ids))
    state: dict[str, Any] = {"ids": ids, "articles": _rows(conn, "articles", "id", ids)}
    for table, column in _RELATED.items():
        state[table] = _rows(conn, table, column, ids)
    # The reading lists those places are on, so removing a whole list is undoable.
    names = sorted({item["list"] for item in state["list_items"]})
    state["lists"] = _rows(conn, "lists", "name", names) if names else []
    return state


def record(
    conn: sqlite3.Connection, action: str, summary: str, article_ids: list[str], *, now: str
) -> int:
    """Save the current state of ``article_ids`` before ``action`` changes them.

    Must run inside the caller's write transaction, so the entry exists exactly when
    the change does. Returns the entry's id.
    """
    payload = json.dumps(snapshot(conn, article_ids), ensure_ascii=False)
    cur = conn.execute(
        "INSERT INTO undo_log(action, at, summary, payload) VALUES (?, ?, ?, ?)",
        (action, now, summary, payload),
    )
    conn.execute(
        "DELETE FROM undo_log WHERE id <= (SELECT id FROM undo_log ORDER BY id DESC "
        "LIMIT 1 OFFSET ?)",
        (KEEP,),
    )
    return int(cur.lastrowid or 0)


def entries(conn: sqlite3.Connection, limit: int = KEEP) -> list[Entry]:
    """The undoable changes, newest first."""
    rows = conn.execute(
        "SELECT id, action, at, summary, json_array_length(payload, '$.ids') "
        "FROM undo_log ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [Entry(*row) for row in rows]


def restore_last(conn: sqlite3.Connection) -> Entry | None:
    """Undo the newest entry inside the caller's transaction; None when there is none.

    Articles and their related rows are put back exactly as recorded: rows the
    change created for those ids (a merged article's aliases, new tags) are removed
    first. The full-text index follows through the m004 queue (``indexing.sync``).
    """
    from irarchive.store import indexing

    row = conn.execute(
        "SELECT id, action, at, summary, payload FROM undo_log ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    entry_id, action, at, summary, payload = row
    state = json.loads(payload)
    ids: list[str] = state["ids"]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        for table, column in _RELATED.items():
            if table in state:  # entries recorded before a table was kept leave it be
                conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)
        conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk)
    # A later change may have given an old rowid or slug to another article: the
    # restored one then takes a new rowid, or the id-suffixed slug.
    for lst in state.get("lists", []):  # entries recorded before lists were kept have none
        _insert(conn, "lists", dict(lst), ignore=True)
    for article in state["articles"]:
        article = dict(article)
        rowid = article.pop("_rowid_")
        if conn.execute("SELECT 1 FROM articles WHERE rowid = ?", (rowid,)).fetchone():
            rowid = None
        if (
            article.get("slug")
            and conn.execute("SELECT 1 FROM articles WHERE slug = ?", (article["slug"],)).fetchone()
        ):
            article["slug"] = f"{article['slug']}-{article['id'][:6]}"
        _insert(conn, "articles", {"rowid": rowid, **article} if rowid else article)
    for table in _RELATED:
        for related in state.get(table, []):
            related = dict(related)
            if table == "notes":
                related.pop("_rowid_", None)
                if conn.execute("SELECT 1 FROM notes WHERE id = ?", (related["id"],)).fetchone():
                    related.pop("id")
            _insert(conn, table, related, replace=table in ("aliases", "list_items"))
    conn.execute("DELETE FROM undo_log WHERE id = ?", (entry_id,))
    indexing.sync(conn)
    return Entry(entry_id, action, at, summary, len(ids))


def _insert(
    conn: sqlite3.Connection, table: str, row: dict, *, replace: bool = False, ignore: bool = False
) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE" if ignore else "INSERT"
    conn.execute(
        f"INSERT INTO {table}({names}) VALUES ({marks})".replace("INSERT", verb, 1),
        list(row.values()),
    )


def _state_digest(conn: sqlite3.Connection, ids: list[str]) -> str:
    import hashlib

    blob = json.dumps(snapshot(conn, ids), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def seal(conn: sqlite3.Connection, entry_id: int) -> None:
    """Remember, in the entry, the state its change left (call it after the change,
    inside the same transaction), so ``changed_since`` can tell whether undoing it
    would also throw away something done later. Optional: an unsealed entry is
    judged by the timestamps of the rows about its articles instead."""
    row = conn.execute("SELECT payload FROM undo_log WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        return
    state = json.loads(row[0])
    state["after"] = _state_digest(conn, state["ids"])
    conn.execute(
        "UPDATE undo_log SET payload = ? WHERE id = ?",
        (json.dumps(state, ensure_ascii=False), entry_id),
    )


def changed_since(conn: sqlite3.Connection) -> bool:
    """Has anything about the newest entry's articles changed since its change was made?

    True means ``restore_last`` would also undo that later work (a tag added, a
    re-import, another edit not recorded in the log).
    """
    row = conn.execute("SELECT at, payload FROM undo_log ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return False
    at, payload = row
    state = json.loads(payload)
    ids: list[str] = state["ids"]
    if "after" in state:
        return _state_digest(conn, ids) != state["after"]
    stamps = {
        "tags": "added_at",
        "notes": "created_at",
        "list_items": "added_at",
        "aliases": "created_at",
        "edits": "edited_at",
    }
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        for table, stamp in stamps.items():
            later = conn.execute(
                f"SELECT 1 FROM {table} WHERE article_id IN ({marks}) AND {stamp} > ? LIMIT 1",
                [*chunk, at],
            ).fetchone()
            if later:
                return True
    return False
