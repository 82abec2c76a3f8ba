"""The researcher's own annotations on articles: tags and dated notes.

Both refer to an article by its ``id`` (never its rowid), so they outlive re-imports,
merges and a delete followed by ``undo``. Every change is one transaction; removing a
tag is recorded in the undo log first (``store.undo``), adding one is not destructive.

Tags are normalised once, here: NFKC, trimmed, case-folded, inner whitespace collapsed
to one space, so ``Energy``, ``ENERGY`` and `` energy `` are one tag. Notes are kept
exactly as written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from irarchive.errors import IrarchiveError, UsageError
from irarchive.store import transactions

if TYPE_CHECKING:
    from irarchive.store.archive import Archive


def utc_now() -> str:
    """Now, as the archive stores times: ``2026-12-02T00:55:00Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown(text: str) -> str:
    from irarchive.text import neutralise

    return neutralise(text)


def normalise_tag(raw: str) -> str:
    """The stored form of a tag, or a ``UsageError`` naming it and what is wrong."""
    from irarchive.model import check_tag

    tag, problem = check_tag(raw)
    if problem == "is empty":
        raise UsageError("a tag is empty; give some text, e.g. +energy")
    if problem:
        raise UsageError(f"tag {_shown(tag[:80])!r} {problem}")
    return tag


def tag_filter(specs: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--tag T`` / ``--tag -T`` values as (tags required, tags excluded)."""
    want: list[str] = []
    without: list[str] = []
    for spec in specs:
        text = spec.strip()
        if text.startswith("-"):
            without.append(normalise_tag(text[1:]))
        else:
            want.append(normalise_tag(text[1:] if text.startswith("+") else text))
    both = set(want) & set(without)
    if both:
        raise UsageError(f"--tag {sorted(both)[0]!r} is both required and excluded")
    return tuple(dict.fromkeys(want)), tuple(dict.fromkeys(without))


def split_tag_args(args: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """``tag`` arguments as (refs, tags to add, tags to remove), in the order given.

    ``+T`` adds and ``-T`` removes; anything else is an article reference, so refs
    and tags may come in any order (``xargs`` appends refs after the tags).
    """
    refs: list[str] = []
    add: list[str] = []
    remove: list[str] = []
    for arg in args:
        if arg[:1] == "+":
            add.append(normalise_tag(arg[1:]))
        elif arg[:1] == "-" and arg != "-":
            remove.append(normalise_tag(arg[1:]))
        else:
            refs.append(arg)
    add, remove = list(dict.fromkeys(add)), list(dict.fromkeys(remove))
    both = set(add) & set(remove)
    if both:
        raise UsageError(f"tag {sorted(both)[0]!r} is both added and removed; give one")
    if not refs or not (add or remove):
        raise UsageError(
            "give at least one article and one +TAG or -TAG, e.g. irarchive tag 141e649d +energy"
        )
    return refs, add, remove


@contextmanager
def transaction(archive: Archive) -> Iterator[sqlite3.Connection]:
    """One write transaction on a writable archive, its write errors said with its path."""
    archive._require_writable()
    with transactions.transaction(archive.conn, path=archive.path) as c:
        yield c


# ---- tags ---------------------------------------------------------------------------


@dataclass
class TagChange:
    """What ``tag`` did to one article."""

    article: dict[str, Any]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def change_tags(
    archive: Archive,
    articles: Sequence[dict[str, Any]],
    add: Sequence[str],
    remove: Sequence[str],
    *,
    now: str | None = None,
) -> list[TagChange]:
    """Add and remove (normalised) tags on articles, in one transaction.

    Removing tags is recorded in the undo log first; a tag already there (or
    already absent) is left as it is.
    """
    from irarchive.store import undo

    stamp = now or utc_now()
    unique = list({a["id"]: a for a in articles}.values())
    changes: list[TagChange] = []
    with transaction(archive) as c:
        current = {a["id"]: set(tags_of(c, a["id"])) for a in unique}
        losing = [a["id"] for a in unique if current[a["id"]] & set(remove)]
        if losing:
            gone = ", ".join(remove)
            undo.record(
                c,
                "untag",
                f"removed tag{'s' if len(remove) > 1 else ''} {gone} from "
                f"{len(losing)} article{'s' if len(losing) > 1 else ''}",
                losing,
                now=stamp,
            )
        for a in unique:
            have = current[a["id"]]
            change = TagChange(a)
            for tag in add:
                if tag not in have:
                    c.execute(
                        "INSERT INTO tags(article_id, tag, added_at) VALUES (?, ?, ?)",
                        (a["id"], tag, stamp),
                    )
                    change.added.append(tag)
            for tag in remove:
                if tag in have:
                    c.execute("DELETE FROM tags WHERE article_id = ? AND tag = ?", (a["id"], tag))
                    change.removed.append(tag)
            change.tags = sorted((have | set(change.added)) - set(change.removed))
            changes.append(change)
    return changes


def tags_of(conn: sqlite3.Connection, article_id: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT tag FROM tags WHERE article_id = ? ORDER BY tag", (article_id,)
        )
    ]


def tag_counts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every tag in use with how many articles have it, most used first."""
    rows = conn.execute(
        "SELECT tag, count(*) FROM tags JOIN articles ON articles.id = tags.article_id "
        "GROUP BY tag ORDER BY count(*) DESC, tag"
    )
    return [{"tag": t, "count": n} for t, n in rows]


# ---- notes --------------------------------------------------------------------------


def add_note(
    archive: Archive, article: dict[str, Any], text: str, *, now: str | None = None
) -> dict[str, str]:
    """Append a dated note to an article; the text is kept exactly (not empty)."""
    if not text.strip():
        raise UsageError("the note is empty; give some text with -m")
    stamp = now or utc_now()
    with transaction(archive) as c:
        c.execute(
            "INSERT INTO notes(article_id, created_at, text) VALUES (?, ?, ?)",
            (article["id"], stamp, text),
        )
    return {"created_at": stamp, "text": text}


def notes_of(conn: sqlite3.Connection, article_id: str) -> list[dict[str, str]]:
    """An article's notes in the order they were written."""
    rows = conn.execute(
        "SELECT created_at, text FROM notes WHERE article_id = ? ORDER BY created_at, id",
        (article_id,),
    )
    return [{"created_at": t, "text": x} for t, x in rows]


def notes_by_article(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, list[dict]]:
    """Notes of many articles at once (a page of results, an export batch)."""
    found: dict[str, list[dict]] = {}
    wanted = list(dict.fromkeys(ids))
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        for article_id, stamp, text in conn.execute(
            f"SELECT article_id, created_at, text FROM notes WHERE article_id IN ({marks}) "
            "ORDER BY article_id, created_at, id",
            chunk,
        ):
            found.setdefault(article_id, []).append({"created_at": stamp, "text": text})
    return found


def with_notes(
    conn: sqlite3.Connection, records: Iterable[dict[str, Any]], batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Records with their ``notes`` list added after ``tags`` (streamed in batches)."""
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM notes)").fetchone()[0]:
        for rec in records:
            yield _place_notes(rec, [])
        return
    pending: list[dict[str, Any]] = []
    for rec in records:
        pending.append(rec)
        if len(pending) >= batch:
            yield from _attach(conn, pending)
            pending = []
    yield from _attach(conn, pending)


def _attach(conn: sqlite3.Connection, records: list[dict[str, Any]]) -> Iterator[dict]:
    found = notes_by_article(conn, (r["id"] for r in records))
    for rec in records:
        yield _place_notes(rec, found.get(rec["id"], []))


def _place_notes(rec: dict[str, Any], notes: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in rec.items():
        out[key] = value
        if key == "tags":
            out["notes"] = notes
    out.setdefault("notes", notes)
    return out


#: The line in the editor's file below which the new note is written (git's scissors).
MARKER = "# ------------------------ >8 ------------------------"


def note_template(article: dict[str, Any], notes: Sequence[dict[str, str]]) -> str:
    """What the editor opens: the existing notes for reference, then the marker."""
    lines = [f"# Notes on: {_shown(article.get('title') or '')} ({article['id']})"]
    if notes:
        for note in notes:
            lines.append("#")
            lines.append(f"# {note['created_at']}")
            lines += [f"#   {_shown(line)}" for line in note["text"].splitlines()]
    else:
        lines.append("# (no notes yet)")
    lines += [
        "#",
        "# Write the new note below the line; everything above it is ignored.",
        "# An empty note saves nothing.",
        MARKER,
        "",
    ]
    return "\n".join(lines)


def note_from_edit(text: str) -> str:
    """The note written in the editor: what is below the marker, trimmed.

    Without the marker (deleted by hand), every line not starting with ``#``.
    """
    if MARKER in text:
        body = text.split(MARKER, 1)[1]
    else:
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    lines = [line.rstrip() for line in body.splitlines()]
    return "\n".join(lines).strip("\n").strip()


class EditorFailed(IrarchiveError):
    """The editor could not be run or exited with an error; nothing was saved."""


def edit_text(editor: Sequence[str], template: str) -> str:
    """Open ``template`` in the editor (an argv, as git splits ``$EDITOR``) and return
    what the file holds when it exits."""
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="irarchive-note-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(template)
        try:
            status = _run_keeping_ctrl_c_for_it([*editor, path])
        except OSError as exc:
            raise EditorFailed(
                f"cannot run the editor {' '.join(editor)!r} ({exc.strerror}); "
                "set $VISUAL or $EDITOR, or give the note with -m TEXT"
            ) from None
        if status != 0:
            raise EditorFailed(
                f"the editor {' '.join(editor)!r} exited with status {status}; nothing was saved"
            )
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def _run_keeping_ctrl_c_for_it(argv: list[str]) -> int:
    """Run the editor and wait. Ctrl-C belongs to it (vi uses it), as in git: the
    terminal sends SIGINT to the whole foreground group, and irarchive must not die
    of it while the person is still writing. Ignored here from before the editor
    starts; the editor itself gets the default back."""
    import signal
    import subprocess
    import threading

    if threading.current_thread() is not threading.main_thread():
        return subprocess.call(argv)

    def default_ctrl_c() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.Popen(argv, preexec_fn=default_ctrl_c).wait()
    finally:
        signal.signal(signal.SIGINT, old)
