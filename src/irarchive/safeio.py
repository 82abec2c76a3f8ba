"""Writing output files safely: the one check of an ``-o`` path, and atomic replacement.

An output path may name a regular file (replaced only once the new content is
complete) or a path that does not exist yet. A symlink is followed: its target is
written and the link stays a link. Everything else is refused before anything is
written: a folder, a device (``/dev/full``, ``/dev/stdout`` through a link), a FIFO,
a socket, and the archive itself with its ``-wal``, ``-shm`` and ``-journal`` files,
compared by inode, so a hard link or another spelling of the path is caught too.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from irarchive.errors import IrarchiveError

#: The files SQLite keeps beside a database: writing over any of them damages it.
SIDE_FILES = ("", "-wal", "-shm", "-journal")


class UnsafeOutput(IrarchiveError):
    """An output path that must not be written (the archive, a device, a folder)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def archive_files(path: str) -> list[str]:
    """The archive and the side files SQLite keeps beside it."""
    return [path + suffix for suffix in SIDE_FILES]


def output_target(path: str, *, protected: Iterable[str] = ()) -> str:
    """The regular file that writing ``path`` should replace, or raise ``UnsafeOutput``.

    Symlinks are resolved, so the returned path is where the bytes will go.
    ``protected`` names files that must never be written (the archive's own files);
    they are compared by inode when they exist and by resolved path when not.
    """
    if not path:
        raise UnsafeOutput("the output file name is empty; give a file name or - for stdout")
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UnsafeOutput(f"cannot write {path}: {exc.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UnsafeOutput(f"{path} is a folder; give a file name to write to")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UnsafeOutput(
            f"{path} is {_kind(st.st_mode)}; give the name of a regular file to write"
            + " (or leave out -o for standard output)"
        )
    for other in protected:
        same = False
        if st is not None:
            try:
                o = os.stat(other)
                same = (o.st_dev, o.st_ino) == (st.st_dev, st.st_ino)
            except OSError:
                same = False
        else:
            same = os.path.realpath(other) == target
        if same:
            raise UnsafeOutput(
                f"{path} is the archive or one of its files; it was left untouched: "
                "choose another output file"
            )
    return target


@contextmanager
def atomic_output(path: str, *, protected: Iterable[str] = ()) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` only once fully written.

    Checked with ``output_target`` first. Written to a temporary file in the target's
    folder, flushed to disk, then renamed over the target (through a symlink, the
    link's target; the link stays). On any error the temporary file is removed and
    ``path`` is left as it was. An existing file keeps its permission bits.
    """
    target = output_target(path, protected=list(protected))
    folder = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise UnsafeOutput(f"cannot write {path}: {exc.strerror}") from None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder
        )
    except OSError as exc:
        raise IrarchiveError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise IrarchiveError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
