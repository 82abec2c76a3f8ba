"""Reliability by class: special and protected files given as output or archive paths.

Every member of a class runs through the real command and must end in one
``Error:`` line, exit 1 or 2, the archive unchanged and the special file still what
it was. Devices are made with ``mknod`` in tmp_path when running as root (so a bug
could never replace the machine's /dev/null); otherwise /dev/null itself is used,
which an ordinary user cannot replace anyway.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from tests.conftest import digest


def make_device(path: Path) -> Path:
    """A character device like /dev/null at ``path`` (root), else /dev/null itself."""
    if os.geteuid() == 0:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return path
    return Path("/dev/null")


def make_special(kind: str, tmp: Path, holder: list) -> Path:
    p = tmp / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "device":
        p = make_device(p)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(p))
        holder.append(s)
    elif kind == "folder":
        p.mkdir()
    elif kind.startswith("link-to-"):
        target = make_special(kind[len("link-to-") :], tmp, holder)
        p.symlink_to(target)
    else:
        raise AssertionError(kind)
    return p


SPECIAL = ["fifo", "device", "socket", "folder", "link-to-fifo", "link-to-device", "link-to-folder"]


def _mode(p: Path) -> int:
    return stat.S_IFMT(os.stat(p).st_mode)


def _one_error(r, code: int, needle: str) -> None:
    assert r.code == code, r
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r
    assert needle in r.err, r
    assert "Traceback" not in r.err


# ---- export -o: the archive and its side files -------------------------------------


def _archive_spellings(db: Path, tmp: Path) -> dict[str, Path]:
    hard = tmp / "hard.db"
    os.link(db, hard)
    link = tmp / "link.db"
    link.symlink_to(db)
    sub = tmp / "sub"
    sub.mkdir()
    return {
        "itself": db,
        "relative-dots": sub / ".." / db.name,
        "hard-link": hard,
        "symlink": link,
        "wal": Path(f"{db}-wal"),
        "shm": Path(f"{db}-shm"),
        "journal": Path(f"{db}-journal"),
    }


@pytest.mark.parametrize(
    "spelling", ["itself", "relative-dots", "hard-link", "symlink", "wal", "shm", "journal"]
)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_never_writes_the_archive(tmp_path, seeded, cli, spelling, fmt):
    target = _archive_spellings(seeded, tmp_path)[spelling]
    before = seeded.read_bytes()
    side = {
        s: Path(f"{seeded}{s}").read_bytes()
        for s in ("-wal", "-shm")
        if Path(f"{seeded}{s}").exists()
    }
    r = cli("export", "-f", fmt, "-o", str(target))
    _one_error(r, 1, "is the archive or one of its files")
    assert seeded.read_bytes() == before
    for s, data in side.items():
        assert Path(f"{seeded}{s}").read_bytes() == data
    if spelling in ("journal",):
        assert not target.exists()
    assert digest(seeded) == digest(seeded) and cli("db", "check").code == 0


@pytest.mark.parametrize("kind", SPECIAL)
def test_export_refuses_special_files(tmp_path, seeded, cli, kind):
    holder: list = []
    target = make_special(kind, tmp_path, holder)
    mode = _mode(target)
    is_link = target.is_symlink()
    r = cli("export", "-f", "json", "-o", str(target))
    _one_error(
        r, 1, "folder; give a file name" if "folder" in kind else "give the name of a regular file"
    )
    assert _mode(target) == mode and target.is_symlink() == is_link
    assert not list(tmp_path.glob(".special-*.tmp")) and not list(tmp_path.glob(".null*.tmp"))
    for s in holder:
        s.close()


def test_export_writes_through_a_symlink_and_keeps_the_link(tmp_path, seeded, cli):
    real = tmp_path / "real.json"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "out.json"
    link.symlink_to(real)
    r = cli("export", "-f", "json", "-o", str(link))
    assert r.code == 0, r
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("[\n{") and stat.S_IMODE(real.stat().st_mode) == 0o640


def test_export_to_a_new_and_an_existing_file(tmp_path, seeded, cli):
    new = tmp_path / "new.json"
    assert cli("export", "-f", "json", "-o", str(new)).code == 0
    assert new.read_text().startswith("[\n{")
    assert cli("export", "-f", "json", "-o", str(new), "-n", "1").code == 0
    assert new.read_text().count('"id"') == 1


# ---- --db / IRARCHIVE_DB: only regular files or missing paths become archives ----------


@pytest.mark.parametrize("kind", [k for k in SPECIAL if "folder" not in k])
@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("command", [("list",), ("db", "init"), ("db", "check")])
def test_special_files_never_become_archives(tmp_path, cli, monkeypatch, kind, how, command):
    holder: list = []
    target = make_special(kind, tmp_path, holder)
    mode = _mode(target)
    if how == "env":
        monkeypatch.setenv("IRARCHIVE_DB", str(target))
        r = cli(*command)
    else:
        r = cli("--db", str(target), *command)
    _one_error(r, 1, "is not a regular file")
    assert _mode(target) == mode and not list(tmp_path.glob(".special-*"))
    for s in holder:
        s.close()


@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_db_path_is_an_error_not_the_default(tmp_path, cli, monkeypatch, how, value):
    from irarchive.cli import default_db_path

    if how == "env":
        monkeypatch.setenv("IRARCHIVE_DB", value)
        r = cli("list")
    else:
        r = cli("--db", value, "list")
    _one_error(r, 2, "empty")
    assert not os.path.exists(default_db_path())
