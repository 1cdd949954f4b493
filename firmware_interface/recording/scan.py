"""The validating pass over a recording or generic CSV: everything the whole file must satisfy.

``scan_file`` reads the file once in bounded memory (``lines.py``) and raises every error as one
``RecordingFormatError`` line: header, ``#`` lines (``metadata.py``), a torn last line, units
(``units.py``), time that does not increase. It gathers what the whole needs: ``SourceInfo``,
markers, metadata, warnings and ``StreamStats`` (gaps, dropped rows).

Rows no IMU can produce (‖a‖ > 50 g or ‖ω‖ > 50 rad/s) are dropped, counted and replaced by a
``gap`` marker; more than ``MAX_DROPPED_FRACTION`` of them is an error (the units are wrong).
Timing gaps are found against the median interval of the first rows. ``parts`` and
``RowChecker`` are shared with every later reading pass (``stream.py``), so all passes agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording import csv_import
from firmware_interface.recording.lines import Line, iter_blocks
from firmware_interface.recording.metadata import MetadataLines
from firmware_interface.recording.units import (MAX_ACC_M_S2, MAX_GYRO_RAD_S, WINDOW_ROWS, Units,
                                                WindowStats, check_units)
from firmware_interface.samples import Marker, SourceInfo

CSV_DEVICE = "CSV import"
CSV_PROFILE = "csv"
PARSE_ROWS = 16_384
"""Rows parsed per ``np.loadtxt`` call: bounds memory, keeps parsing vectorised."""
GAP_FACTOR = 3.0
"""A sample interval longer than this many median intervals is a gap."""
MAX_LISTED_GAPS = 10_000
"""Gaps (and dropped-row markers) listed one by one; beyond, they are only counted."""
MAX_DROPPED_FRACTION = 0.01
MAX_DROPPED_ALWAYS_TOLERATED = 10


@dataclass(frozen=True)
class StreamStats:
    """Counts over the whole file, gathered while validating it."""

    samples: int
    start_s: float
    end_s: float
    median_interval_s: float
    """Median sample interval of the first ``WINDOW_ROWS`` samples (``nan`` below 2 samples)."""
    gaps: tuple[tuple[float, float], ...]
    """Timing gaps (last sample before, first after), the first ``MAX_LISTED_GAPS`` of them."""
    gap_count: int
    gap_total_s: float
    longest_gap_s: float
    dropped_rows: int
    """Rows beyond any IMU's range, not returned."""


@dataclass(frozen=True)
class Layout:
    """Where the samples are, for the reading passes."""

    columns: tuple[int, ...]
    header_line: int
    last_line: int
    """The last line the batches read (a torn last line is excluded)."""


@dataclass(frozen=True, eq=False)
class Scanned:
    """What the validating pass learnt about the whole file."""

    info: SourceInfo
    markers: tuple[Marker, ...]
    """All of them, sorted by ``t_s`` (including one per run of dropped rows)."""
    metadata: Mapping[str, list[dict[str, Any]]]
    format_version: int | None
    torn_lines: int
    warnings: tuple[str, ...]
    stats: StreamStats
    layout: Layout


def scan_file(name: str, units: Units, *, keep: Callable[[np.ndarray], None] | None = None) -> Scanned:
    """Validate the file; raise ``RecordingFormatError`` with one clear line. ``keep`` is handed
    the samples as they are read, as (N, 7) SI tables in file order (all of them once the scan
    returns)."""
    return _Scan(name, units, keep).run()


def parts(name: str, last_line: int | None = None) -> Iterator[Line | tuple[list[str], list[int]]]:
    """The file in order: the header, ``#`` lines and an incomplete last line as ``Line``s, data
    rows as ``(rows, line numbers)`` lists of up to about ``PARSE_ROWS``; the same in every pass."""
    header_seen = False
    rows: list[str] = []
    numbers: list[int] = []
    for block in iter_blocks(name, last_line):
        if block.plain and header_seen and block.last_complete:
            rows.extend(block.lines)  # compact CSV rows only: no per-line work
            numbers.extend(range(block.first_number, block.first_number + len(block.lines)))
        else:
            last_index = len(block.lines) - 1
            for index, text in enumerate(block.lines):
                text = text.strip()
                if not text:
                    continue
                line = Line(block.first_number + index, text, block.last_complete or index < last_index)
                if text[0] == "#" or not header_seen or not line.complete:
                    if rows:
                        yield rows, numbers
                        rows, numbers = [], []
                    header_seen = header_seen or text[0] != "#"
                    yield line
                else:
                    rows.append(text)
                    numbers.append(line.number)
        if len(rows) >= PARSE_ROWS:
            yield rows, numbers
            rows, numbers = [], []
    if rows:
        yield rows, numbers


def as_rows(part: Line | tuple[list[str], list[int]]) -> tuple[list[str], list[int]]:
    return ([part.text], [part.number]) if isinstance(part, Line) else part


class RowChecker:
    """Text rows -> SI samples, dropping rows beyond any IMU's range and checking that time
    increases; the same object type in the validating pass and in every reading pass."""

    def __init__(self, name: str, columns: tuple[int, ...], units: Units) -> None:
        self.name = name
        self.columns = columns
        self.units = units
        self.last_t = -math.inf

    def kept(self, rows: list[str], lines: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kept rows, every parsed row, mask of the dropped ones)."""
        table = self.units.to_si(csv_import.parse_rows(self.name, rows, lines, self.columns))
        with np.errstate(over="ignore"):  # 1e300 squared is inf, which is beyond range too
            absurd = ((np.linalg.norm(table[:, 1:4], axis=1) > MAX_ACC_M_S2)
                      | (np.linalg.norm(table[:, 4:7], axis=1) > MAX_GYRO_RAD_S))
        kept = table[~absurd] if absurd.any() else table
        kept_lines = np.asarray(lines)[~absurd] if absurd.any() else lines
        csv_import.check_time_increases(self.name, kept[:, 0], kept_lines, self.last_t)
        if len(kept):
            self.last_t = float(kept[-1, 0])
        return kept, table, absurd


class _Scan:
    """The validating pass: header, comments, torn last line, unit checks, gaps, dropped rows."""

    def __init__(self, name: str, units: Units, keep: Callable[[np.ndarray], None] | None = None) -> None:
        self.name = name
        self.keep = keep
        self.units = units
        self.header: Line | None = None
        self.columns: tuple[int, ...] = ()
        self.metadata = MetadataLines(name)
        self.checker: RowChecker | None = None
        self.window: list[tuple[np.ndarray, np.ndarray]] = []  # (kept t, all parsed rows) until judged
        self.window_rows = 0
        self.window_stats: WindowStats | None = None
        self.warnings: list[str] = []
        self.samples = 0
        self.start_s = math.nan
        self.timing_gaps = TimingGaps()
        self.dropped = 0
        self.first_dropped_line = 0
        self.dropped_markers: list[Marker] = []
        self.open_run: list[Any] | None = None  # [t before the run, rows in it]

    def run(self) -> Scanned:
        last_line, torn, torn_row = 0, 0, None
        for line in parts(self.name):
            if not isinstance(line, Line):
                self._add(*line)
                last_line = line[1][-1]
                continue
            if not line.complete:  # always the last line
                if line.text[0] == "#":
                    if self.metadata.version is None:  # a comment of a generic CSV, complete or not
                        self.metadata.add(line.number, line.text[1:].strip())
                        last_line = line.number
                    else:
                        torn = 1
                    break
                if self.header is not None:
                    torn_row = line
                    break
            last_line = line.number
            if line.text[0] == "#":
                self.metadata.add(line.number, line.text[1:].strip())
            elif self.header is None:
                self.header = line
                self.columns = csv_import.parse_header(self.name, line.text, line.number)
                self.checker = RowChecker(self.name, self.columns, self.units)
        version = self.metadata.version
        if torn_row is not None:
            if version is None and csv_import.row_is_valid(torn_row.text, self.columns):
                self._add([torn_row.text], [torn_row.number])
                last_line = torn_row.number
            else:
                torn = 1
        if self.header is None:
            raise RecordingFormatError(self.name, f"the file is empty; expected {csv_import.EXPECTED}")
        if not self.samples:
            if self.dropped:
                raise RecordingFormatError(self.name, f"all {self.dropped} rows are beyond any IMU's "
                                                      "range; expected m/s² and rad/s")
            raise RecordingFormatError(self.name, "the file has a header but no samples")
        self._judge_window()
        self._check_dropped()
        return self._result(version, torn, last_line)

    def _result(self, version: int | None, torn: int, last_line: int) -> Scanned:
        assert self.header is not None and self.window_stats is not None and self.checker is not None
        median = self.window_stats.median_interval
        rate_hz = csv_import.rate_from_interval(median) if math.isfinite(median) else 0.0
        if version is None:
            info = SourceInfo(device=CSV_DEVICE, profile=CSV_PROFILE, sample_rate_hz=rate_hz)
            markers: list[Marker] = []
            metadata: dict[str, list[dict[str, Any]]] = {}
        else:
            if not self.units.is_si:
                raise RecordingFormatError(self.name, "is a tiltwatch recording, always in s, m/s² "
                                                      "and rad/s; unit options apply to generic CSV files")
            parsed = self.metadata.result(rate_hz)
            info, markers, metadata = parsed.info, parsed.markers, parsed.entries
            self.warnings.extend(parsed.warnings)
        markers = sorted([*markers, *self.dropped_markers], key=lambda m: m.t_s)
        gaps = self.timing_gaps
        stats = StreamStats(self.samples, self.start_s, self.checker.last_t, median, tuple(gaps.gaps),
                            gaps.count, gaps.total_s, gaps.longest_s, self.dropped)
        layout = Layout(self.columns, self.header.number, last_line)
        return Scanned(info, tuple(markers), metadata, version, torn, tuple(self.warnings), stats, layout)

    def _add(self, rows: list[str], numbers: list[int]) -> None:
        assert self.checker is not None
        before_t = self.checker.last_t
        kept, table, absurd = self.checker.kept(rows, numbers)
        if absurd.any():
            self._note_dropped(table, absurd, numbers, before_t)
        elif self.open_run is not None and len(kept):
            self._close_run(float(kept[0, 0]))
        if not len(kept):
            return
        if self.keep is not None:
            self.keep(kept)
        if not self.samples:
            self.start_s = float(kept[0, 0])
        self.samples += len(kept)
        if self.window_stats is None:
            self.window.append((kept[:, 0], table))
            self.window_rows += len(table)
            if self.window_rows >= WINDOW_ROWS:
                self._judge_window()
        else:
            self.timing_gaps.add(kept[:, 0], self.window_stats.median_interval)

    def _judge_window(self) -> None:
        """Check the units on the first rows, then find the gaps in them."""
        if self.window_stats is not None:
            return
        t = np.concatenate([t for t, _ in self.window])[:WINDOW_ROWS]
        table = np.concatenate([table for _, table in self.window])[:WINDOW_ROWS]
        self.window_stats = WindowStats.of(t, table[:, 1:4], table[:, 4:7])
        is_recording = self.metadata.version is not None
        self.warnings.extend(check_units(self.name, self.units, self.window_stats, is_recording=is_recording))
        for t, _ in self.window:
            self.timing_gaps.add(t, self.window_stats.median_interval)
        self.window = []

    def _note_dropped(self, table: np.ndarray, absurd: np.ndarray, numbers: list[int],
                      before_t: float) -> None:
        """Count the dropped rows and mark each run of them as a gap between its neighbours."""
        if not self.dropped:
            self.first_dropped_line = numbers[int(np.argmax(absurd))]
        self.dropped += int(absurd.sum())
        previous_t = before_t
        for i, is_absurd in enumerate(absurd.tolist()):
            if not is_absurd:
                if self.open_run is not None:
                    self._close_run(float(table[i, 0]))
                previous_t = float(table[i, 0])
            elif self.open_run is None:
                self.open_run = [previous_t, 1]
            else:
                self.open_run[1] += 1

    def _close_run(self, end_s: float) -> None:
        assert self.open_run is not None
        start_s, count = self.open_run
        self.open_run = None
        if math.isfinite(start_s) and len(self.dropped_markers) < MAX_LISTED_GAPS:
            self.dropped_markers.append(Marker(start_s, "gap", end_s=end_s,
                                               text="rows beyond any IMU's range dropped",
                                               data={"dropped_rows": count}))

    def _check_dropped(self) -> None:
        if not self.dropped:
            return
        total = self.dropped + self.samples
        limits = f"|a| > {MAX_ACC_M_S2:.0f} m/s² (50 g) or |ω| > {MAX_GYRO_RAD_S:g} rad/s"
        if self.dropped > max(MAX_DROPPED_ALWAYS_TOLERATED, MAX_DROPPED_FRACTION * total):
            raise RecordingFormatError(
                self.name, f"{self.dropped} of {total} rows ({100 * self.dropped / total:.1f}%) are "
                           f"beyond any IMU's range ({limits}), first on line {self.first_dropped_line}; "
                           "expected m/s² and rad/s (--acc-unit, --gyro-unit)")
        self.warnings.append(f"dropped {self.dropped} row{'s' if self.dropped > 1 else ''} beyond any "
                             f"IMU's range ({limits}), first on line {self.first_dropped_line}; "
                             "each run of them is a gap")


class TimingGaps:
    """Timing gaps in a stream of sample times, as they go by: an interval longer than
    ``GAP_FACTOR`` median intervals. All are counted and summed; the first ``MAX_LISTED_GAPS``
    are listed as (before, after) times."""

    def __init__(self) -> None:
        self.gaps: list[tuple[float, float]] = []
        self.count = 0
        self.total_s = 0.0
        self.longest_s = 0.0
        self._last_t = -math.inf

    def add(self, t: np.ndarray, median_interval: float) -> None:
        before = np.concatenate([[self._last_t], t[:-1]])
        self._last_t = float(t[-1])
        # The first sample has no interval before it (-inf); a nan median finds no gap.
        jumps = np.flatnonzero((t - before > GAP_FACTOR * median_interval) & np.isfinite(before))
        if not len(jumps):
            return
        lengths = t[jumps] - before[jumps]
        self.count += len(jumps)
        self.total_s += float(lengths.sum())
        self.longest_s = max(self.longest_s, float(lengths.max()))
        room = max(0, MAX_LISTED_GAPS - len(self.gaps))
        self.gaps.extend(zip(before[jumps[:room]].tolist(), t[jumps[:room]].tolist()))
