"""Pick mode draws on the terminal even when stdin or stderr is redirected (like fzf).

Textual reads keys from standard input and draws on standard error; in
``irarchive browse --pick | xargs …`` standard output is the pipe and is left
alone (the chosen id goes there), while a redirected stdin or stderr is pointed
at ``/dev/tty`` for the life of the app and restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from irarchive.errors import UsageError


class NoTerminal(UsageError):
    """There is no terminal to draw the browser on."""


@contextmanager
def on_terminal() -> Iterator[None]:
    moved: list[tuple[int, int]] = []
    if not (os.isatty(0) and os.isatty(2)):
        try:
            tty = os.open("/dev/tty", os.O_RDWR)
        except OSError:
            raise NoTerminal(
                "browse --pick needs a terminal to draw on (no /dev/tty); "
                "in scripts use 'irarchive search' or 'irarchive list'"
            ) from None
        try:
            for fd in (0, 2):
                if not os.isatty(fd):
                    moved.append((fd, os.dup(fd)))
                    os.dup2(tty, fd)
        finally:
            os.close(tty)
    try:
        yield
    finally:
        for fd, saved in moved:
            os.dup2(saved, fd)
            os.close(saved)
