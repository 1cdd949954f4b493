"""Read a recording or a generic CSV in chunks, in memory that does not grow with its length.

``open_recording_stream(path)`` reads the file once to validate it and learn what the whole
needs (``info``, ``markers``, ``metadata``, ``stats``, ``warnings``): every error is raised
there, as one ``RecordingFormatError`` line. Each ``stream.batches()`` then reads the file again
from the start, with the same checks, and yields the samples as ``SampleBatch`` chunks; call it
again for another pass. ``read_recording`` is this stream concatenated.

Rows no IMU can produce (‖a‖ > 50 g or ‖ω‖ > 50 rad/s) are dropped, counted and replaced by a
``gap`` marker; more than ``MAX_DROPPED_FRACTION`` of them is an error (the units are wrong).
Columns whose units look wrong are an error naming the likely unit and the option that states
it (``units.py``). Timing gaps are found against the median interval of the first rows.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording import csv_import
from firmware_interface.recording.lines import Line, iter_blocks
from firmware_interface.recording.metadata import format_version, parse_metadata
from firmware_interface.recording.units import (MAX_ACC_M_S2, MAX_GYRO_RAD_S, WINDOW_ROWS, Units,
                                                WindowStats, check_units)
from firmware_interface.samples import Marker, SampleBatch, SourceInfo

CSV_DEVICE = "CSV import"
CSV_PROFILE = "csv"
PARSE_ROWS = 16_384
"""Rows parsed per ``np.loadtxt`` call: bounds memory, keeps parsing vectorised."""
DEFAULT_CHUNK_ROWS = 65_536
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
class _Layout:
    columns: tuple[int, ...]
    header_line: int
    last_line: int
    """The last line the batches read (a torn last line is excluded)."""


class RecordingStream:
    """A validated recording or generic CSV, read in chunks; see the module docstring.

    ``info``, ``markers`` (all, sorted by ``t_s``), ``metadata`` (other ``#`` entries by key),
    ``format_version`` (``None`` for a generic CSV), ``torn_lines``, ``warnings`` (one line each,
    for the user) and ``stats`` are known on opening.
    """

    def __init__(self, path: Path, units: Units, layout: _Layout, info: SourceInfo,
                 markers: tuple[Marker, ...], metadata: Mapping[str, list[dict[str, Any]]],
                 format_version: int | None, torn_lines: int, warnings: tuple[str, ...],
                 stats: StreamStats, chunk_rows: int, chunk_s: float | None) -> None:
        self.path = path
        self.units = units
        self.info = info
        self.markers = markers
        self.metadata = metadata
        self.format_version = format_version
        self.torn_lines = torn_lines
        self.warnings = warnings
        self.stats = stats
        self._layout = layout
        self._chunk_rows = chunk_rows
        self._chunk_s = chunk_s

    def __iter__(self) -> Iterator[SampleBatch]:
        return self.batches()

    def batches(self, chunk_rows: int | None = None, chunk_s: float | None = None) -> Iterator[SampleBatch]:
        """One pass over the samples, from the start, in chunks (the stream's own by default).

        Each marker rides with the first batch whose last sample is at or after its ``t_s``
        (the last batch takes any later ones), so concatenating the batches gives every sample
        and every marker exactly once, as ``read_recording`` returns them.
        """
        chunk_rows, chunk_s = _chunking(chunk_rows or self._chunk_rows, chunk_s or self._chunk_s)
        name = str(self.path)
        checker = _RowChecker(name, self._layout.columns, self.units)
        tables = (checker.kept(*_as_rows(part))[0] for part in _parts(name, self._layout.last_line)
                  if not isinstance(part, Line) or part.number > self._layout.header_line
                  and part.text[0] != "#")
        marker_times = [m.t_s for m in self.markers]
        attached = 0
        previous: np.ndarray | None = None
        for table in _cut(tables, chunk_rows, chunk_s, self.stats.start_s):
            if previous is not None:
                until = bisect.bisect_right(marker_times, float(previous[-1, 0]))
                yield _batch(previous, self.markers[attached:until])
                attached = max(attached, until)
            previous = table
        if previous is not None:
            yield _batch(previous, self.markers[attached:])


def open_recording_stream(path: str | Path, *, units: Units = Units(), chunk_rows: int = DEFAULT_CHUNK_ROWS,
                          chunk_s: float | None = None) -> RecordingStream:
    """Validate the file at ``path`` (one read, constant memory) and return its stream.

    ``units``: what a generic CSV's columns are in (default SI, checked against the data; a
    tiltwatch recording is always SI). Batches hold ``chunk_rows`` samples, or, if ``chunk_s`` is
    given, the samples of consecutive windows ``t0 + k·chunk_s <= t < t0 + (k+1)·chunk_s``
    (``t0`` the first sample; empty windows are skipped). Raises ``RecordingFormatError``.
    """
    chunk_rows, chunk_s = _chunking(chunk_rows, chunk_s)
    return _Scan(str(path), units).run(Path(path), chunk_rows, chunk_s)


def read_whole(path: str | Path, units: Units = Units()) -> tuple[RecordingStream, SampleBatch]:
    """The stream and all its samples in one batch, from the validating pass alone (one read)."""
    scan = _Scan(str(path), units, keep_samples=True)
    stream = scan.run(Path(path), DEFAULT_CHUNK_ROWS, None)
    table = np.concatenate(scan.kept_tables)
    return stream, _batch(table, stream.markers)


def _chunking(chunk_rows: int, chunk_s: float | None) -> tuple[int, float | None]:
    if chunk_rows < 1 or (chunk_s is not None and not (math.isfinite(chunk_s) and chunk_s > 0)):
        raise ValueError(f"chunk_rows must be >= 1 and chunk_s > 0, got {chunk_rows}, {chunk_s}")
    return chunk_rows, chunk_s


def _batch(table: np.ndarray, markers: Sequence[Marker]) -> SampleBatch:
    return SampleBatch(table[:, 0], table[:, 1:4], table[:, 4:7], tuple(markers))


def _parts(name: str, last_line: int | None = None) -> Iterator[Line | tuple[list[str], list[int]]]:
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


def _as_rows(part: Line | tuple[list[str], list[int]]) -> tuple[list[str], list[int]]:
    return ([part.text], [part.number]) if isinstance(part, Line) else part


def _cut(tables: Iterable[np.ndarray], chunk_rows: int, chunk_s: float | None,
         t0: float) -> Iterator[np.ndarray]:
    """Re-cut consecutive (N, 7) tables into chunks of ``chunk_rows`` rows or ``chunk_s`` windows."""
    carry = np.empty((0, 7))
    for table in tables:
        carry = np.concatenate([carry, table]) if len(carry) else table
        if chunk_s is None:
            whole = len(carry) - len(carry) % chunk_rows
            for start in range(0, whole, chunk_rows):
                yield carry[start:start + chunk_rows]
            carry = carry[whole:]
        elif len(carry):
            window = np.floor((carry[:, 0] - t0) / chunk_s)
            done = int(np.searchsorted(window, window[-1], side="left"))
            yield from _split_windows(carry[:done], window[:done])
            carry = carry[done:]
    if len(carry):
        yield from (_split_windows(carry, np.floor((carry[:, 0] - t0) / chunk_s))
                    if chunk_s is not None else [carry])


def _split_windows(table: np.ndarray, window: np.ndarray) -> Iterator[np.ndarray]:
    bounds = [0, *(np.flatnonzero(np.diff(window)) + 1).tolist(), len(table)]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        if stop > start:
            yield table[start:stop]


class _RowChecker:
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

    def __init__(self, name: str, units: Units, keep_samples: bool = False) -> None:
        self.name = name
        self.kept_tables: list[np.ndarray] = []
        self.keep_samples = keep_samples
        self.units = units
        self.header: Line | None = None
        self.columns: tuple[int, ...] = ()
        self.comments: list[tuple[int, str]] = []
        self.checker: _RowChecker | None = None
        self.window: list[tuple[np.ndarray, np.ndarray]] = []  # (kept t, all parsed rows) until judged
        self.window_rows = 0
        self.window_stats: WindowStats | None = None
        self.warnings: list[str] = []
        self.samples = 0
        self.start_s = math.nan
        self.gaps: list[tuple[float, float]] = []
        self.gap_count = 0
        self.gap_total_s = 0.0
        self.longest_gap_s = 0.0
        self.gap_last_t = -math.inf
        self.dropped = 0
        self.first_dropped_line = 0
        self.dropped_markers: list[Marker] = []
        self.open_run: list[Any] | None = None  # [t before the run, rows in it]

    def run(self, path: Path, chunk_rows: int, chunk_s: float | None) -> RecordingStream:
        last_line, torn, torn_row = 0, 0, None
        for line in _parts(self.name):
            if not isinstance(line, Line):
                self._add(*line)
                last_line = line[1][-1]
                continue
            if not line.complete:  # always the last line
                if line.text[0] == "#":
                    torn_comment = (line.number, line.text[1:].strip())
                    if format_version(self.name, self.comments) is None:
                        self.comments.append(torn_comment)
                        last_line = line.number
                    else:
                        torn = 1
                    break
                if self.header is not None:
                    torn_row = line
                    break
            last_line = line.number
            if line.text[0] == "#":
                self.comments.append((line.number, line.text[1:].strip()))
            elif self.header is None:
                self.header = line
                self.columns = csv_import.parse_header(self.name, line.text, line.number)
                self.checker = _RowChecker(self.name, self.columns, self.units)
        version = format_version(self.name, self.comments)
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
        return self._stream(path, version, torn, last_line, chunk_rows, chunk_s)

    def _stream(self, path: Path, version: int | None, torn: int, last_line: int,
                chunk_rows: int, chunk_s: float | None) -> RecordingStream:
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
            parsed = parse_metadata(self.name, self.comments, rate_hz)
            info, markers, metadata = parsed.info, parsed.markers, parsed.entries
            self.warnings.extend(parsed.warnings)
        markers = sorted([*markers, *self.dropped_markers], key=lambda m: m.t_s)
        stats = StreamStats(self.samples, self.start_s, self.checker.last_t, median, tuple(self.gaps),
                            self.gap_count, self.gap_total_s, self.longest_gap_s, self.dropped)
        layout = _Layout(self.columns, self.header.number, last_line)
        return RecordingStream(path, self.units, layout, info, tuple(markers), metadata, version, torn,
                               tuple(self.warnings), stats, chunk_rows, chunk_s)

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
        if self.keep_samples:
            self.kept_tables.append(kept)
        if not self.samples:
            self.start_s = float(kept[0, 0])
        self.samples += len(kept)
        if self.window_stats is None:
            self.window.append((kept[:, 0], table))
            self.window_rows += len(table)
            if self.window_rows >= WINDOW_ROWS:
                self._judge_window()
        else:
            self._find_gaps(kept[:, 0])

    def _judge_window(self) -> None:
        """Check the units on the first rows, then find the gaps in them."""
        if self.window_stats is not None:
            return
        t = np.concatenate([t for t, _ in self.window])[:WINDOW_ROWS]
        table = np.concatenate([table for _, table in self.window])[:WINDOW_ROWS]
        self.window_stats = WindowStats.of(t, table[:, 1:4], table[:, 4:7])
        is_recording = format_version(self.name, self.comments) is not None
        self.warnings.extend(check_units(self.name, self.units, self.window_stats, is_recording=is_recording))
        for t, _ in self.window:
            self._find_gaps(t)
        self.window = []

    def _find_gaps(self, t: np.ndarray) -> None:
        assert self.window_stats is not None
        before = np.concatenate([[self.gap_last_t], t[:-1]])
        self.gap_last_t = float(t[-1])
        # The first sample has no interval before it (-inf); a nan median finds no gap.
        jumps = np.flatnonzero((t - before > GAP_FACTOR * self.window_stats.median_interval)
                               & np.isfinite(before))
        if not len(jumps):
            return
        lengths = t[jumps] - before[jumps]
        self.gap_count += len(jumps)
        self.gap_total_s += float(lengths.sum())
        self.longest_gap_s = max(self.longest_gap_s, float(lengths.max()))
        room = max(0, MAX_LISTED_GAPS - len(self.gaps))
        self.gaps.extend(zip(before[jumps[:room]].tolist(), t[jumps[:room]].tolist()))

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
