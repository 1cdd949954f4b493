"""One sensor's three axes over time, read from a CSV in chunks: ``Channel.chunks()``.

Phone apps write CSV in the user's locale: comma, tab or semicolon between cells, and a decimal
comma with the latter two. Rows where any used cell is empty or NaN (phyphox pads the shorter
columns of a table that way) are skipped; a row whose time does not exceed the time before it
(duplicated or reordered sensor events) is skipped and counted. Numbers are parsed a chunk of
lines at a time (``np.loadtxt``); a cell that is not a number is an error naming its line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording.phone.members import Member

SEPARATORS = (",", "\t", ";")


@dataclass(frozen=True)
class Dialect:
    separator: str
    decimal_comma: bool

    @classmethod
    def sniff(cls, header: str, first_row: str) -> Dialect:
        """The separator that splits the header into most cells; a decimal comma when cells are
        separated by something else and the data holds commas."""
        separator = max(SEPARATORS, key=header.count)
        return cls(separator, separator != "," and "," in first_row)

    def cells(self, line: str) -> list[str]:
        return [cell.strip().strip('"').strip() for cell in line.split(self.separator)]


@dataclass
class ReadTally:
    """What a reading pass skipped, for the warnings."""

    padded_rows: int = 0
    """Rows without a number in a used column (NaN or empty)."""
    unordered_rows: int = 0
    """Rows whose time did not exceed the one before."""
    uncovered_samples: int = 0
    """Accelerometer samples with no gyroscope (or gravity) sample around them."""


@dataclass(frozen=True)
class Channel:
    """Columns ``time`` and ``axes`` (x, y, z) of one CSV; time in s after ``time_scale`` and
    ``time_origin`` (in the file's unit), values times ``sign``."""

    member: Member
    dialect: Dialect
    header_line: int
    time_column: int
    axes: tuple[int, int, int]
    what: str
    """What the channel measures, for messages: "accelerometer", "gyroscope"..."""
    time_scale: float = 1.0
    time_origin: float = 0.0
    sign: float = 1.0

    def chunks(self, tally: ReadTally) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(t (n,), values (n, 3)) with t strictly increasing across chunks; the rows skipped
        are counted in ``tally``."""
        columns = (self.time_column, *self.axes)
        last_t = -math.inf
        for first, lines in self.member.lines():
            start = max(0, self.header_line - first + 1)
            if start >= len(lines):
                continue
            rows = [line for line in lines[start:] if line.strip()]
            table = self._parse(rows, first + start, columns)
            usable = np.isfinite(table).all(axis=1)
            tally.padded_rows += int((~usable).sum())
            table = table[usable]
            t = (table[:, 0] - self.time_origin) * self.time_scale
            before = np.maximum.accumulate(np.concatenate([[last_t], t]))[:-1]
            ordered = t > before
            tally.unordered_rows += int((~ordered).sum())
            if not ordered.all():
                table, t = table[ordered], t[ordered]
            if len(t):
                last_t = float(t[-1])
                yield t, self.sign * table[:, 1:4]

    def first_time(self) -> float:
        """The time of the first usable row, in the file's unit (before scale and origin)."""
        for first, lines in self.member.lines():
            start = max(0, self.header_line - first + 1)
            for offset, line in enumerate(lines[start:]):
                if not line.strip():
                    continue
                row = self._parse([line], first + start + offset, (self.time_column, *self.axes))
                if np.isfinite(row).all():
                    return float(row[0, 0])
        raise RecordingFormatError(self.member.label, f"the {self.what} file has a header but no samples")

    def _parse(self, rows: list[str], first_line: int, columns: tuple[int, ...]) -> np.ndarray:
        if not rows:
            return np.empty((0, len(columns)))
        text = [row.replace(",", ".") for row in rows] if self.dialect.decimal_comma else rows
        try:
            return np.loadtxt(text, delimiter=self.dialect.separator, usecols=columns, ndmin=2,
                              dtype=np.float64, quotechar='"')
        except ValueError:
            return np.array([self._parse_slowly(row, first_line + i, columns) for i, row in enumerate(text)],
                            dtype=np.float64).reshape(-1, len(columns))

    def _parse_slowly(self, row: str, line: int, columns: tuple[int, ...]) -> list[float]:
        """One row, with empty or missing cells as NaN (padding); anything else not a number is
        an error naming the line."""
        cells = self.dialect.cells(row)
        values = []
        for column in columns:
            cell = cells[column] if column < len(cells) else ""
            try:
                values.append(float(cell) if cell else math.nan)
            except ValueError:
                raise RecordingFormatError(self.member.label, f"the {self.what} file has {cell!r} "
                                                              "where a number was expected", line) from None
        return values
