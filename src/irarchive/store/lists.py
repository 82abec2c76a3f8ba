"""Reading lists: named, ordered selections of articles.

A list is found by its name in any case (``Thesis`` = ``thesis``) and shown as it was
first written. Items refer to articles by ``id`` and keep the order they were added
in (``position``); adding an article already on the list leaves it where it is.
Removing items or a whole list is recorded in the undo log first.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from irarchive.errors import IrarchiveError, UsageError
from irarchive.store.annotations import transaction, utc_now

if TYPE_CHECKING:
    from irarchive.store.archive import Archive

NAME_MAX = 100


class NoSuchList(IrarchiveError):
    """No reading list has that name."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        from irarchive.text import neutralise

        hint = (
            f"; the lists are: {', '.join(neutralise(k) for k in known[:10])}"
            if known
            else "; create one with: irarchive lists add NAME REF..."
        )
        super().__init__(f"no reading list {neutralise(name)!r}{hint}")
        self.name = name


def check_name(raw: str) -> str:
    """A list name as given, trimmed; a ``UsageError`` when it cannot be one."""
    from irarchive.text import neutralise

    name = " ".join(raw.split())
    if not name:
        raise UsageError("the list name is empty; give a name, e.g. thesis")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise UsageError(
            f"list name {neutralise(name)!r} may not contain control or invisible characters"
        )
    if len(name) > NAME_MAX:
        raise UsageError(
            f"list name {neutralise(name[:40])!r}… is longer than {NAME_MAX} characters"
        )
    return name


def find(conn: sqlite3.Connection, name: str) -> str | None:
    """The stored name of the list called ``name`` in any case, or None."""
    wanted = name.casefold()
    for (stored,) in conn.execute("SELECT name FROM lists ORDER BY name"):
        if stored.casefold() == wanted:
            return stored
    return None


def _require(conn: sqlite3.Connection, name: str) -> str:
    stored = find(conn, name)
    if stored is None:
        known = [r[0] for r in conn.execute("SELECT name FROM lists ORDER BY name")]
        raise NoSuchList(name, known)
    return stored


@dataclass
class Added:
    """What ``lists add`` did."""

    name: str
    created: bool
    added: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)


def add(
    archive: Archive, name: str, articles: Sequence[dict[str, Any]], *, now: str | None = None
) -> Added:
    """Append articles to a list (created if new), in the order given, in one transaction."""
    name = check_name(name)
    stamp = now or utc_now()
    with transaction(archive) as c:
        stored = find(c, name)
        result = Added(stored or name, stored is None)
        if stored is None:
            c.execute("INSERT INTO lists(name, created_at) VALUES (?, ?)", (name, stamp))
        on_list = {
            r[0]
            for r in c.execute("SELECT article_id FROM list_items WHERE list = ?", (result.name,))
        }
        position = c.execute(
            "SELECT coalesce(max(position), 0) FROM list_items WHERE list = ?", (result.name,)
        ).fetchone()[0]
        for article in articles:
            if article["id"] in on_list:
                result.already.append(article)
                continue
            position += 1
            c.execute(
                "INSERT INTO list_items(list, position, article_id, added_at) VALUES (?, ?, ?, ?)",
                (result.name, position, article["id"], stamp),
            )
            on_list.add(article["id"])
            result.added.append(article)
    return result


def items(archive: Archive, name: str) -> tuple[str, list[dict[str, Any]]]:
    """The list's stored name and its articles, in list order."""
    from irarchive.store.archive import _row_to_dict

    c = archive.conn
    stored = _require(c, name)
    rows = c.execute(
        f"SELECT {archive._columns('a')} FROM list_items li "
        "JOIN articles a ON a.id = li.article_id WHERE li.list = ? ORDER BY li.position",
        (stored,),
    )
    return stored, [_row_to_dict(r) for r in rows]


def all_lists(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every list with how many articles it holds, by name (any case)."""
    rows = conn.execute(
        "SELECT l.name, count(a.id), l.created_at FROM lists l "
        "LEFT JOIN list_items li ON li.list = l.name "
        "LEFT JOIN articles a ON a.id = li.article_id "
        "GROUP BY l.name ORDER BY lower(l.name), l.name"
    )
    return [{"name": n, "count": k, "created_at": t} for n, k, t in rows]


@dataclass
class Removed:
    """What ``lists remove`` did (or would do)."""

    name: str
    whole: bool
    removed: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)


def plan_remove(archive: Archive, name: str, articles: Sequence[dict[str, Any]] | None) -> Removed:
    """What removing ``articles`` (None: the whole list) would remove; changes nothing."""
    stored, on_list = items(archive, name)
    if articles is None:
        return Removed(stored, True, on_list)
    ids = {a["id"] for a in on_list}
    plan = Removed(stored, False)
    for article in {a["id"]: a for a in articles}.values():
        (plan.removed if article["id"] in ids else plan.missing).append(article)
    return plan


def remove(archive: Archive, plan: Removed, *, now: str | None = None) -> Removed:
    """Carry out ``plan`` in one transaction, recorded in the undo log first."""
    from irarchive.store import undo

    stamp = now or utc_now()
    with transaction(archive) as c:
        _require(c, plan.name)
        ids = [a["id"] for a in plan.removed]
        what = "list" if plan.whole else f"{len(ids)} article{'s' if len(ids) != 1 else ''} from"
        if ids:
            undo.record(c, "lists remove", f"removed {what} {plan.name!r}", ids, now=stamp)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            c.execute(
                f"DELETE FROM list_items WHERE list = ? AND article_id IN ({marks})",
                [plan.name, *chunk],
            )
        if plan.whole:
            c.execute("DELETE FROM list_items WHERE list = ?", (plan.name,))
            c.execute("DELETE FROM lists WHERE name = ?", (plan.name,))
    return plan
