"""The generic CSV table: a header row naming ``t,ax,ay,az,gx,gy,gz`` and numeric rows.

A tiltwatch recording is this same table plus ``#`` metadata lines (see ``reader.py`` and
docs/recording-format.md), so both go through these functions. Units are SI: seconds, m/s²,
rad/s. Columns may come in any order, extra columns are ignored, and whitespace around names
and numbers is tolerated. Parsing is vectorised (``np.loadtxt`` over the data lines); a
line-by-line pass runs only after a failure, to name the first bad line and column.
"""

from __future__ import annotations

import csv
import math
from typing import Sequence

import numpy as np

from firmware_interface.errors import RecordingFormatError

COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
"""Required columns, in the order ``parse_rows`` returns them."""
HEADER = ",".join(COLUMNS)
EXPECTED = f"a header row naming {HEADER} (s, m/s², rad/s)"


def parse_header(path: str, header: str, line: int) -> tuple[int, ...]:
    """Return the index of each of ``COLUMNS`` in the comma-separated ``header``."""
    names = [name.strip().strip('"').strip().lower() for name in _cells(header)]
    if len(names) == 1:
        for separator, label in ((";", "semicolons"), ("\t", "tabs")):
            if separator in header:
                raise RecordingFormatError(
                    path, f"columns are separated by {label}; expected commas and {EXPECTED}", line)
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise RecordingFormatError(
            path, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                  f"expected {EXPECTED}", line)
    duplicated = [c for c in COLUMNS if names.count(c) > 1]
    if duplicated:
        raise RecordingFormatError(path, f"column {duplicated[0]} appears more than once", line)
    return tuple(names.index(c) for c in COLUMNS)


def parse_rows(path: str, rows: Sequence[str], line_numbers: Sequence[int],
               column_indices: Sequence[int]) -> np.ndarray:
    """Parse data rows into an (N, 7) float array in ``COLUMNS`` order.

    Raises ``RecordingFormatError`` naming the line and column of the first non-numeric or
    non-finite cell or short row. (Whether time increases is checked by the caller, after rows
    no IMU can produce are set aside: see ``stream.py``.)
    """
    if not rows:
        return np.empty((0, len(COLUMNS)))
    try:
        table = np.loadtxt(rows, delimiter=",", quotechar='"', usecols=column_indices, ndmin=2,
                           dtype=np.float64)
    except ValueError as exc:
        _locate_bad_cell(path, rows, line_numbers, column_indices)
        # The slow pass found nothing numpy rejected: report numpy's own reason.
        raise RecordingFormatError(path, f"cannot parse the numbers: {exc}") from exc
    if not np.isfinite(table).all():
        row, col = np.argwhere(~np.isfinite(table))[0]
        raise RecordingFormatError(
            path, f"column {COLUMNS[col]} is {float(table[row, col])!r}; expected a finite number",
            line_numbers[row], COLUMNS[col])
    return table


def row_is_valid(row: str, column_indices: Sequence[int]) -> bool:
    """Whether one data row holds a finite number in every required column."""
    cells = _cells(row)
    return len(cells) > max(column_indices) and all(
        _is_finite_number(cells[i].strip()) for i in column_indices)


def rate_from_interval(median_interval_s: float) -> float:
    """Nominal rate from the median sample interval (robust to gaps and jitter), to 0.001 Hz."""
    return round(1.0 / median_interval_s, 3) if median_interval_s > 0 else 0.0


def check_time_increases(path: str, t: np.ndarray, line_numbers: Sequence[int],
                         previous_t: float = -np.inf) -> None:
    """Raise naming the first line where ``t`` does not exceed the time before it."""
    not_increasing = np.flatnonzero(np.diff(t, prepend=previous_t) <= 0)
    if len(not_increasing):
        i = int(not_increasing[0])
        before = t[i - 1] if i else previous_t
        raise RecordingFormatError(
            path, f"time does not increase (t={t[i]:.6f} after t={before:.6f}); "
                  "expected strictly increasing t", int(line_numbers[i]), "t")


def _locate_bad_cell(path: str, rows: Sequence[str], line_numbers: Sequence[int],
                     column_indices: Sequence[int]) -> None:
    needed = max(column_indices) + 1
    for row, line in zip(rows, line_numbers):
        cells = _cells(row)
        if len(cells) < needed:
            raise RecordingFormatError(
                path, f"row has {len(cells)} cells, expected at least {needed}; "
                      "the file is truncated or corrupt here", line)
        for name, index in zip(COLUMNS, column_indices):
            cell = cells[index].strip()
            if not _is_finite_number(cell):
                shown = repr(cell) if cell else "empty"
                raise RecordingFormatError(
                    path, f"column {name} is {shown}; expected a number", line, name)


def _cells(row: str) -> list[str]:
    # Same quoting rule as the np.loadtxt call: '"' quotes a cell that may hold commas.
    return next(csv.reader([row]), [])


def _is_finite_number(cell: str) -> bool:
    # Python's float() accepts digit separators ("1_0"); CSV readers do not.
    if "_" in cell:
        return False
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False
