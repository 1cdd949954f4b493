"""The lines of a text file, read in bounded memory, whatever the file holds.

The first defence of every reader: a path that is not a regular file (a FIFO, a device) is refused
before anything is read, so it can never block; binary content and non-UTF-8 text are refused at
the first block that shows them (a 2 GB sparse file stops at its first zero byte); a line longer
than ``MAX_LINE_BYTES`` is refused when it gets that long (a 200 MB single line costs 1 MiB);
line ends may be LF, CRLF or CR alone (old Mac exports).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterator

from firmware_interface.errors import RecordingFormatError

BLOCK_BYTES = 1 << 20
MAX_LINE_BYTES = 1 << 20
"""Recording rows are ~70 bytes and metadata lines a few hundred; 1 MiB is corruption."""

from firmware_interface.recording.csv_import import EXPECTED as EXPECTED_TEXT

_BINARY_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "a ZIP archive (.zip, .npz, .xlsx)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF", "a PDF document"),
)
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Line:
    number: int
    """1-based line number in the file."""
    text: str
    """Without its line end and surrounding whitespace; never empty (blank lines are skipped)."""
    complete: bool
    """False only for a last line that has no line end (cut by a crash, or a file without a final newline)."""


def _not_csv(name: str, kind: str, line: int | None = None) -> RecordingFormatError:
    return RecordingFormatError(name, f"is {kind}, not a CSV recording; expected text with {EXPECTED_TEXT}", line)


def _open_regular_file(name: str) -> int:
    """A file descriptor of a regular file, or a one-line error; never blocks (``O_NONBLOCK``)."""
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise RecordingFormatError(name, "no such file") from None
    except IsADirectoryError:
        raise RecordingFormatError(name, "is a directory; expected a CSV file") from None
    except OSError as exc:
        raise RecordingFormatError(name, f"cannot read the file ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise RecordingFormatError(name, "is a directory; expected a CSV file")
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    raise RecordingFormatError(name, f"is {kind}; expected a regular CSV file")


@dataclass(frozen=True)
class Block:
    """Consecutive lines of the file, as read: blank ones included, line ends removed."""

    first_number: int
    lines: list[str]
    plain: bool
    """No comment, blank line or whitespace anywhere: every line is a compact CSV row (the fast path)."""
    last_complete: bool = True
    """False when the block's last line is the file's last and has no line end."""


def iter_blocks(name: str, last_line: int | None = None) -> Iterator[Block]:
    """The lines of the file ``name`` (up to line ``last_line`` if given), in blocks of about
    ``BLOCK_BYTES``.

    Raises ``RecordingFormatError`` for a missing or non-regular file, binary content, text that
    is not UTF-8, JSON, and over-long lines.
    """
    fd = _open_regular_file(name)
    with os.fdopen(fd, "rb", buffering=0) as file:
        pending = b""  # an unfinished line (and a CR that may start a CRLF) carried to the next block
        number = 0  # lines before this block
        first = True
        while True:
            block = file.read(BLOCK_BYTES)
            if not block:
                break
            if first:
                block = _check_start(name, block)
                first = False
            elif b"\x00" in block:
                raise _not_csv(name, "a binary file", number + pending.count(b"\n") + 1)
            data = pending + block
            pending = b""
            if data.endswith(b"\r"):  # maybe the first half of a CRLF
                data, pending = data[:-1], b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            cut = data.rfind(b"\n") + 1
            pending = data[cut:] + pending
            if cut:
                text = _decode(name, data[:cut - 1], number)
                lines = text.split("\n")
                if last_line is not None and number + len(lines) > last_line:
                    yield _block(number + 1, lines[:max(0, last_line - number)], text)
                    return
                yield _block(number + 1, lines, text)
                number += len(lines)
            if len(pending) > MAX_LINE_BYTES:
                raise RecordingFormatError(
                    name, f"the line is longer than {MAX_LINE_BYTES >> 20} MiB; expected "
                          "CSV rows of a few dozen characters", number + 1)
        if first or not pending or (last_line is not None and number >= last_line):
            return
        # What is left has no line end, except for a CR held back above.
        text = _decode(name, pending.replace(b"\r", b"\n"), number)
        lines = text.split("\n")
        if text.endswith("\n"):
            yield _block(number + 1, lines[:-1], text)
        else:
            yield Block(number + 1, lines[:max(0, (last_line or 1 << 62) - number)], False, last_complete=False)


def _block(first_number: int, lines: list[str], text: str) -> Block:
    plain = "#" not in text and " " not in text and "\t" not in text and "" not in lines
    return Block(first_number, lines, plain)


def _check_start(name: str, block: bytes) -> bytes:
    kind = next((label for signature, label in _BINARY_SIGNATURES if block.startswith(signature)), None)
    if kind is None and b"\x00" in block:
        kind = "a binary file"
    if kind is not None:
        raise _not_csv(name, kind)
    block = block.removeprefix(_UTF8_BOM)
    if block.lstrip()[:1] in (b"{", b"["):
        raise RecordingFormatError(name, f"looks like JSON, not a CSV recording; expected {EXPECTED_TEXT}")
    return block


def _decode(name: str, data: bytes, lines_before: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = lines_before + data.count(b"\n", 0, exc.start) + 1
        raise _not_csv(name, "not UTF-8 text", line) from None
