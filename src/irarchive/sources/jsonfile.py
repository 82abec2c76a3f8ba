"""JSON (an array, or an object holding an ``articles`` list) and JSON Lines.

A top-level array is decoded one element at a time from a sliding buffer, so a
file of a million records is read in constant memory. Syntax errors stop the
file (nothing of it is stored) and name the line and column. Readers yield raw
records; ``date_order`` is accepted as by every reader and not needed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from irarchive.errors import ImportFailed
from irarchive.sources import decoding

_CHUNK = 1 << 20
_MAX_OBJECT = 2 * decoding.MAX_RECORD_CHARS  # a top-level object is read whole
_TOO_DEEP = object()  # a value the decoder could not reach the end of
_WS = " \t\r\n"
_LIST_KEYS = ("articles", "items", "records", "data", "entries", "results")


def _fail(name: str, line: int, col: int, msg: str) -> ImportFailed:
    return ImportFailed(
        f"{name}:{line}:{col}: invalid JSON: {msg}; nothing from this file was imported"
    )


def _checked(name: str, line: int, value: Any) -> Any:
    """The value, or a rejection saying why it cannot be stored (see ``decoding``)."""
    from irarchive.sources import Rejected

    reason = decoding.problem(value)
    return value if reason is None else Rejected(name, line, reason)


def _too_deep(name: str, line: int, col: int) -> ImportFailed:
    return _fail(name, line, col, f"nested more than {decoding.MAX_DEPTH} levels deep")


def read_jsonl(
    stream: IO[str], *, name: str, date_order: str | None = None
) -> Iterator[tuple[int, Any]]:
    """The records of a JSON Lines stream, each with its line number."""
    from irarchive.sources import Rejected

    decoder = decoding.make_decoder()
    for lineno, line in decoding.bounded_lines(stream):
        if line is None:
            limit = decoding.MAX_RECORD_CHARS
            yield lineno, Rejected(name, lineno, f"line longer than {limit:,} characters")
            continue
        text = line.strip()
        if not text:
            continue
        try:
            value, end = decoder.raw_decode(text)
        except json.JSONDecodeError as exc:
            raise _fail(name, lineno, exc.colno, exc.msg) from None
        except RecursionError:
            reason = f"nested more than {decoding.MAX_DEPTH} levels deep"
            yield lineno, Rejected(name, lineno, reason)
            continue
        if text[end:].strip():
            raise _fail(name, lineno, end + 1, "extra data after the record (one object per line)")
        yield lineno, _checked(name, lineno, value)


def read_json(
    stream: IO[str], *, name: str, date_order: str | None = None
) -> Iterator[tuple[int, Any]]:
    """The records of a JSON array (or an object's list), each with the line it starts on."""
    from irarchive.sources import Rejected

    decoder = decoding.make_decoder()
    buf = stream.read(_CHUNK)
    line = 1  # line number at buf[mark]
    mark = 0  # newlines before buf[mark] are already counted in ``line``
    pos = 0
    eof = False

    def more() -> bool:
        nonlocal buf, pos, line, mark, eof
        if eof:
            return False
        chunk = stream.read(_CHUNK)
        if not chunk:
            eof = True
            return False
        line = line_at(pos)
        buf = buf[pos:] + chunk
        pos = mark = 0
        return True

    def line_at(at: int) -> int:
        # Counted incrementally from the last position asked for: counting from the
        # start of the buffer for every record made big arrays quadratic.
        nonlocal line, mark
        if at >= mark:
            line += buf.count("\n", mark, at)
            mark = at
            return line
        return line - buf.count("\n", at, mark)

    def skip_ws() -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf) or not more():
                return

    def where(at: int) -> tuple[int, int]:
        col = at - (buf.rfind("\n", 0, at) + 1) + 1
        return line_at(at), col

    skip_ws()
    if pos >= len(buf):
        return
    if buf[pos] != "[":
        # An object: read it whole and look for the list of articles inside.
        # Read whole (bounded): a bigger object should be an array or JSONL.
        rest = buf[pos:] + stream.read(_MAX_OBJECT)
        if stream.read(1):
            raise _fail(
                name,
                line_at(pos),
                1,
                f"a top-level object over {_MAX_OBJECT:,} characters; "
                "give its articles as a JSON array or JSON Lines",
            )
        line = line_at(pos)
        try:
            value = decoder.decode(rest)
        except json.JSONDecodeError as exc:
            raise _fail(name, line + exc.lineno - 1, exc.colno, exc.msg) from None
        except RecursionError:
            raise _too_deep(name, line, 1) from None
        if isinstance(value, dict):
            for key in _LIST_KEYS:
                if isinstance(value.get(key), list):
                    for item in value[key]:
                        yield line, _checked(name, line, item)
                    return
            yield line, _checked(name, line, value)
            return
        raise _fail(name, line, 1, "expected an array of articles or an object with 'articles'")
    pos += 1
    first = True
    while True:
        skip_ws()
        if pos >= len(buf):
            raise _fail(name, *where(pos), "the array is not closed (missing ']')")
        if buf[pos] == "]":
            pos += 1
            skip_ws()
            if pos < len(buf):
                raise _fail(name, *where(pos), "extra data after the closing ']'")
            return
        if not first:
            if buf[pos] != ",":
                raise _fail(name, *where(pos), "expected ',' or ']' between records")
            pos += 1
            skip_ws()
        first = False
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                # A value that reaches the end of the buffer may be cut short (a number).
                if end < len(buf) or eof:
                    break
                if not more():
                    break
            except json.JSONDecodeError as exc:
                # More input can only help an error at the very end of what is read
                # (a literal or escape cut in two, a string not closed yet); any other
                # is reported now, not after buffering the rest of the file.
                cut = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")
                if not cut or not more():
                    raise _fail(name, *where(exc.pos), exc.msg) from None
            except RecursionError:
                value = _TOO_DEEP
                end = decoding.value_end(buf, pos)
                while end is None and more():
                    end = decoding.value_end(buf, pos)
                if end is None:
                    raise _too_deep(name, *where(pos)) from None
                break
        start_line = line_at(pos)
        pos = end
        if value is _TOO_DEEP:
            reason = f"nested more than {decoding.MAX_DEPTH} levels deep"
            yield start_line, Rejected(name, start_line, reason)
            continue
        yield start_line, _checked(name, start_line, value)
