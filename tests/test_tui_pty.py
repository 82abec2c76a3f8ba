"""browse --pick in a real terminal (a pty), in a shell pipeline, as a person uses it."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import on_a_terminal

pytest.importorskip("textual")

#: Each test mostly waits (for the program to draw, then for a quiet second): started
#: first (``slow``) and between tests that compute (``waits``), those waits overlap
#: other workers' work instead of ending the run.
pytestmark = [pytest.mark.slow, pytest.mark.waits]

SAMARKAND = "a510295c9c3d6635"  # "2022 SCO Summit in Samarkand: Key Takeaways" in the seed
PY = f"{sys.executable} -m irarchive"


class Terminal:
    """A shell command on its own pseudo-terminal (its controlling tty, so /dev/tty works)."""

    def __init__(self, command: str, env: dict[str, str], cwd: Path) -> None:
        self.screen = b""
        self.proc, self.fd = on_a_terminal(
            ["/bin/bash", "-c", "set -o pipefail; " + command], env=env, cwd=cwd
        )
        self.code: int | None = None

    def read(self, seconds: float) -> bytes:
        """What the program drew in the next ``seconds`` (less if it exits)."""
        got = b""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                break
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the other side closed: the program ended
                break
            if not data:
                break
            got += data
        self.screen += got
        return got

    def wait_for(self, needle: bytes, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while needle not in self.screen:
            if time.monotonic() > end:
                raise AssertionError(f"{needle!r} never appeared on the terminal")
            self.read(0.2)

    def settle(self, quiet: float = 1.0, timeout: float = 60) -> None:
        """Wait until nothing has been drawn for ``quiet`` seconds."""
        end = time.monotonic() + timeout
        while self.read(quiet):
            if time.monotonic() > end:
                raise AssertionError("the terminal never went quiet")

    def type(self, keys: str) -> None:
        for key in keys:
            os.write(self.fd, key.encode())
            time.sleep(0.05)

    def wait(self, timeout: float = 60) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read(0.1)
            if (code := self.proc.poll()) is not None:
                self.code = code
                return code
        raise AssertionError("the program did not exit")

    def close(self) -> None:
        """Kill and reap whatever is left (also when the test failed)."""
        if self.code is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        os.close(self.fd)


@pytest.fixture
def terminal(seeded, tmp_path):
    env = dict(os.environ, IRARCHIVE_DB=str(seeded), TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    opened: list[Terminal] = []

    def start(command: str) -> Terminal:
        t = Terminal(command, env, tmp_path)
        opened.append(t)
        return t

    yield start
    for t in opened:
        t.close()


def test_pick_a_typod_search_in_a_pipeline(terminal, tmp_path):
    t = terminal(
        f"{PY} browse --pick | tee picked.txt | xargs {PY} show --json > shown.json; "
        "echo $? > code.txt"
    )
    t.wait_for(b"Cooperation")  # the newest articles are listed
    t.type("samarknd")  # a typo
    t.settle()
    assert b"Samarkand" in t.screen
    t.type("\r")
    assert t.wait() == 0
    assert (tmp_path / "code.txt").read_text() == "0\n"
    assert (tmp_path / "picked.txt").read_text() == SAMARKAND + "\n"
    assert json.loads((tmp_path / "shown.json").read_text())["id"] == SAMARKAND


@pytest.mark.parametrize("key", ["\x1b", "\x03"])  # Esc, Ctrl-C
def test_cancel_prints_nothing_and_exits_130(terminal, tmp_path, key):
    t = terminal(f"{PY} browse --pick > picked.txt; echo $? > code.txt")
    t.wait_for(b"Cooperation")
    t.settle()
    t.type(key)
    t.wait()
    assert (tmp_path / "code.txt").read_text() == "130\n"
    assert (tmp_path / "picked.txt").read_text() == ""


def test_pick_json_prints_what_show_json_prints(terminal, tmp_path, seeded):
    t = terminal(f"{PY} browse --pick --json 'samarkand' > picked.json")
    t.wait_for(b"Samarkand")
    t.settle()
    t.type("\r")
    assert t.wait() == 0
    shown = subprocess.run(
        [sys.executable, "-m", "irarchive", "--db", str(seeded), "show", SAMARKAND, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (tmp_path / "picked.json").read_text() == shown.stdout


def test_pick_draws_on_the_terminal_when_stdin_and_stderr_are_redirected(terminal, tmp_path):
    # Like fzf: the keys come from /dev/tty and the screen goes there too.
    t = terminal(f"{PY} browse --pick < /dev/null 2> err.txt > picked.txt; echo $? > code.txt")
    t.wait_for(b"Cooperation")
    t.type("iranian")
    t.settle()
    t.type("\r")
    t.wait()
    assert (tmp_path / "code.txt").read_text() == "0\n"
    assert (tmp_path / "picked.txt").read_text() == "6b77fb39ae23803c\n"
    assert (tmp_path / "err.txt").read_text() == ""
