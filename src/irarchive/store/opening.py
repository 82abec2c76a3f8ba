"""Opening an archive: the one place an archive file is opened, created and migrated."""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import time
from collections.abc import Callable

from irarchive import migrations
from irarchive.errors import ArchiveError, NewerSchema, UsageError
from irarchive.store import indexing
from irarchive.store.archive import Archive
from irarchive.store.transactions import transaction

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 120_000  # writers queue behind a long import instead of failing


def _connect(path: str, *, readonly: bool, immutable: bool = False) -> sqlite3.Connection:
    if readonly:
        from urllib.parse import quote

        uri = f"file:{quote(os.path.abspath(path))}?mode=ro" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.create_function("casefold", 1, _casefold, deterministic=True)
    return conn


def _casefold(value: object) -> object:
    """Unicode case folding for SQL (NOCASE folds only ASCII letters)."""
    return value.casefold() if isinstance(value, str) else value


def _existing_size(path: str) -> int:
    """The size of the regular file at ``path``, -1 if there is none; refuse anything else.

    Only a regular file, or a path where nothing is, may become an archive: a
    device, FIFO or socket reports size 0 and would otherwise be replaced by a new
    archive (as root, that is /dev/null gone). Symlinks are followed.
    """
    if not path.strip():
        raise UsageError("the archive path is empty; give --db PATH or unset IRARCHIVE_DB")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return -1  # nothing there (yet): it may be created
    except OSError as exc:
        raise ArchiveError(f"cannot open {path} ({exc.strerror}); choose another --db") from None
    if stat.S_ISDIR(st.st_mode):
        raise ArchiveError(f"{path} is a directory; give a file path for the archive (--db)")
    if not stat.S_ISREG(st.st_mode):
        raise ArchiveError(
            f"{path} is not a regular file (a device, FIFO or socket); it was left untouched: "
            "give a file path for the archive (--db)"
        )
    return st.st_size


def _looks_like_sqlite(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == SQLITE_HEADER


# ---- the expected schema -------------------------------------------------------------

_INTERNAL = ("sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4", "sqlite_sequence")


def expected_schema(version: int) -> dict[str, tuple[str, str, str]]:
    """name -> (type, table, sql) of what the migrations up to ``version`` create.

    Built by running those migrations on an in-memory database, so it can never
    drift from them. That costs 10-25 ms (the data-moving migrations import half the
    package), paid by every command that opens an archive, so the latest schema's
    answer is kept in ``store/schema_latest.py``, which a test compares with a fresh
    build (regenerate it with ``python tests/fixtures/make_schema_latest.py``).
    """
    from irarchive.store import schema_latest

    if version == schema_latest.VERSION == migrations.LATEST:
        return schema_latest.SCHEMA
    return built_schema(version)


def built_schema(version: int) -> dict[str, tuple[str, str, str]]:
    """``expected_schema`` as the migrations make it, on an in-memory database."""
    return _expected(tuple(migrations.MIGRATIONS[:version]))


def render_schema_module(version: int = migrations.LATEST) -> str:
    """The text of ``store/schema_latest.py`` for ``version``."""
    lines = [
        '"""The schema the migrations make, kept so that opening an archive need not build it.',
        "",
        "Made by ``python tests/fixtures/make_schema_latest.py``; do not edit. A test compares",
        "it with the migrations run on an in-memory database (tests/test_reliability_schema.py).",
        '"""',
        "",
        f"VERSION = {version}",
        "",
        "SCHEMA: dict[str, tuple[str, str, str]] = {",
    ]
    for name, (kind, table, sql) in sorted(built_schema(version).items()):
        lines.append(f"    {name!r}: (")
        lines.append(f"        {kind!r},")
        lines.append(f"        {table!r},")
        lines.append(f"        {sql!r},  # noqa: E501")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=8)
def _expected(steps: tuple[migrations.Migration, ...]) -> dict[str, tuple[str, str, str]]:
    conn = sqlite3.connect(":memory:")
    try:
        for step in steps:
            step(conn)
        return _schema(conn)
    finally:
        conn.close()


def _schema(conn: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
    return {
        name: (kind, table, " ".join((sql or "").split()))
        for kind, name, table, sql in rows
        if name not in _INTERNAL
    }


def schema_differences(conn: sqlite3.Connection, version: int) -> list[tuple[str, str, str]]:
    """What differs from the schema irarchive makes: (what, type, name) triples.

    ``what`` is ``foreign`` (not made by irarchive), ``missing`` or ``changed``.
    """
    want = expected_schema(version)
    have = _schema(conn)
    out = []
    for name, (kind, _table, sql) in sorted(have.items()):
        if name not in want:
            out.append(("foreign", kind, name))
        elif want[name][0] != kind or want[name][2] != sql:
            out.append(("changed", kind, name))
    out += [
        ("missing", kind, name) for name, (kind, _, _) in sorted(want.items()) if name not in have
    ]
    return out


def _migrate(conn: sqlite3.Connection, path: str, version: int) -> None:
    for number in range(version, migrations.LATEST):
        with transaction(conn):
            migrations.MIGRATIONS[number](conn)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")


def open_archive(
    path: str,
    *,
    create: bool = True,
    seed: Callable[[Archive], None] | None = None,
    readonly: bool = False,
    upgrade: bool = True,
) -> Archive:
    """Open (creating, migrating and seeding as needed) the archive at ``path``.

    ``upgrade=False`` (read-only only) reads an archive of an older schema as it is,
    never migrating it: ``import OTHER.db`` reads another archive that way.

    The only place an archive is opened. A new archive is built in a temporary
    file beside the target and renamed into place, so a crash while creating it
    never leaves a half-made archive behind. An existing file is never replaced.
    """
    path = os.fspath(path)
    exists = _existing_size(path) > 0
    if not exists:
        if not create:
            raise ArchiveError(
                f"no archive at {path}; create it with: irarchive --db {path} db init"
            )
        archive = _create(path, seed)
        if readonly:
            archive.readonly = True
        return archive
    try:
        if not _looks_like_sqlite(path):
            raise ArchiveError(
                f"{path} is not an irarchive archive (not an SQLite file); "
                "it was left untouched: choose another --db"
            )
    except PermissionError:
        raise ArchiveError(f"cannot read {path}: permission denied") from None
    writable = (
        not readonly
        and os.access(path, os.W_OK)
        and os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)
    )
    try:
        conn = _connect(path, readonly=not writable)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if not writable:
            try:
                conn = _read_only_snapshot(path)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            except sqlite3.DatabaseError:
                raise _damaged(path, exc) from None
        else:
            raise _damaged(path, exc) from None
    if app_id != migrations.APPLICATION_ID:
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        conn.close()
        if has_tables or version:
            raise ArchiveError(
                f"{path} is an SQLite database but not an irarchive archive; "
                "it was left untouched: choose another --db"
            )
        conn = _connect(path, readonly=not writable)
    if version < 0:
        conn.close()
        raise ArchiveError(
            f"{path} has an impossible schema version ({version}); it was left untouched: "
            "restore a backup, or choose another --db"
        )
    if version > migrations.LATEST:
        conn.close()
        raise NewerSchema(
            f"{path} was written by a newer irarchive (schema {version}, this one knows "
            f"{migrations.LATEST}); upgrade irarchive: pip install -U irarchive"
        )
    try:
        differences = schema_differences(conn, version)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _damaged(path, exc) from None
    # Tables are the data: one missing or changed (or anything at all in a file that
    # was never migrated) means this is not an archive. A missing index or a foreign
    # trigger or view is for 'db check' to report.
    lacking = [
        f"{kind} '{name}'"
        for what, kind, name in differences
        if version == 0 or (kind == "table" and what != "foreign")
    ]
    if lacking:
        # Checked before anything could write (a migration, the switch to WAL): a
        # file that only carries our application id is left exactly as it was.
        conn.close()
        raise ArchiveError(
            f"{path} is not an irarchive archive of schema {version} (missing or changed: "
            f"{', '.join(lacking[:3])}{', …' if len(lacking) > 3 else ''}); "
            "it was left untouched: restore a backup, or choose another --db"
        )
    foreign_triggers = [name for what, kind, name in differences if kind == "trigger"]
    try:
        if version < migrations.LATEST and (writable or upgrade):
            if not writable:
                raise ArchiveError(
                    f"{path} needs upgrading to schema {migrations.LATEST} but is read-only; "
                    "open it once with write access"
                )
            _migrate(conn, path, version)
        if writable and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # Switching to WAL rewrites the file header, once in an archive's life: do
            # it only to a sound file, so a damaged one is left byte for byte as it was.
            verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(" ".join(verdict.split()))
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -32000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        index_error = None
        if writable and not foreign_triggers and indexing.has_pending(conn):
            try:
                _sync_index(conn)
            except sqlite3.DatabaseError as exc:
                # A damaged full-text index (its rows deleted with sqlite3, say) is
                # derived data: the archive still opens, so that reading the articles
                # and 'db check --repair' (which rebuilds the index) work. Anything
                # else (busy, disk full) fails the opening as before.
                if not _index_damage(exc):
                    raise
                index_error = str(exc)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _damaged(path, exc) from None
    archive = Archive(conn, path, readonly=not writable)
    archive.foreign_triggers = foreign_triggers
    archive.index_error = index_error
    return archive


def _index_damage(exc: sqlite3.DatabaseError) -> bool:
    """Is this error SQLite finding a full-text index's data damaged?"""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None and code & 0xFF == 11:  # SQLITE_CORRUPT and its extended codes
        return True
    text = str(exc)
    return "malformed" in text or "vtable constructor failed" in text


def _sync_index(conn: sqlite3.Connection) -> None:
    """Bring the index up to date with changes other tools made (m004's queue)."""
    with transaction(conn):
        indexing.sync(conn)


def _read_only_snapshot(path: str) -> sqlite3.Connection:
    """Read an archive SQLite cannot open read-only in place (a read-only folder).

    Without a ``-wal`` file, immutable mode reads it exactly. With one, immutable
    mode would silently ignore the changes in it (and plain read-only mode needs to
    create the ``-shm`` file, which the folder forbids), so the archive and its
    ``-wal`` are copied to a temporary folder, removed at exit, and read there.
    """
    wal = path + "-wal"
    if not (os.path.isfile(wal) and os.path.getsize(wal) > 0):
        return _connect(path, readonly=True, immutable=True)
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="irarchive-read-only-")
    try:
        copy = os.path.join(folder, "archive.db")
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, copy + "-wal")
        conn = _connect(copy, readonly=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # replays the WAL
    except (OSError, sqlite3.DatabaseError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ArchiveError(
            f"{path} has recent changes in {wal} that cannot be read in a read-only "
            f"folder ({exc}); make the folder writable once, or copy the archive with "
            "its -wal file elsewhere"
        ) from None
    atexit.register(shutil.rmtree, folder, True)
    return conn


def _damaged(path: str, exc: Exception) -> ArchiveError:
    return ArchiveError(
        f"{path} is damaged or not an archive ({exc}); it was left untouched: "
        "restore a backup, or choose another --db"
    )


def _sync(path: str, *, directory: bool = False) -> None:
    """Flush the file ``path``, or with ``directory`` the folder's entries, to the disk.

    A folder that cannot be synced (Windows cannot open one; some network file
    systems refuse) is left as it is: the rename has happened either way.
    """
    # Windows syncs only a file open for writing; folders open read-only (POSIX).
    flags = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if directory else os.O_RDWR
    try:
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        if not directory:
            raise


def _create(path: str, seed: Callable[[Archive], None] | None) -> Archive:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(
            f"cannot create the folder {folder} ({exc.strerror}); "
            "use --db or IRARCHIVE_DB to put the archive somewhere writable"
        ) from None
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{time.time_ns()}.tmp")
    try:
        conn = _connect(tmp, readonly=False)
        # 8 KiB pages waste less of each page on rows of a few hundred bytes (about
        # 4% of the articles table instead of 8%); set before the first table.
        conn.execute("PRAGMA page_size = 8192")
        # Nothing is worth keeping until the file is whole and renamed into place, so
        # the steps write without syncing (a sync for each migration's commit was half
        # of a 27 ms creation); the file is synced once, before it gets its name.
        conn.execute("PRAGMA synchronous = OFF")
        _migrate(conn, tmp, 0)
        archive = Archive(conn, tmp, readonly=False)
        if seed is not None:
            seed(archive)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        _sync(tmp)
        if _existing_size(path) > 0:
            raise ArchiveError(f"{path} appeared while it was being created; run the command again")
        os.replace(tmp, path)
        _sync(folder, directory=True)  # the new name, too, survives a power cut
    except OSError as exc:  # permission denied, no space, read-only file system...
        raise ArchiveError(
            f"cannot create {path} ({exc.strerror}); "
            "use --db or IRARCHIVE_DB to put the archive somewhere writable"
        ) from None
    except sqlite3.OperationalError as exc:
        raise ArchiveError(
            f"cannot create {path} ({exc}); "
            "use --db or IRARCHIVE_DB to put the archive somewhere writable"
        ) from None
    finally:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
    archive = open_archive(path, create=False)
    archive.created = True
    return archive
