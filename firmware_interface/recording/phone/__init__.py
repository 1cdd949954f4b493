"""Phone exports (phyphox, Sensor Logger) read like any recording: ``open_export``.

A zip, a folder, or one of their CSVs is recognised from the CSV headers (``formats.py``); the
accelerometer and gyroscope are merged onto the accelerometer's clock (``merge.py``) in chunks,
so memory does not grow with the length of the recording. ``PhoneExportStream`` has the
interface of ``RecordingStream`` (``info``, ``stats``, ``warnings``, ``batches()``...), so analyze,
replay, ``record --input`` and ``info`` read a phone export as they read a generic CSV.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording import csv_import
from firmware_interface.recording.phone.channels import ReadTally
from firmware_interface.recording.phone.formats import (LOGGER_EXPECTED, PHYPHOX_EXPECTED, PhoneExport,
                                                        recognise)
from firmware_interface.recording.phone.members import export_members, is_container
from firmware_interface.recording.scan import StreamStats, TimingGaps
from firmware_interface.recording.spool import SampleStore
from firmware_interface.recording.units import WINDOW_ROWS, Units, WindowStats, check_units
from firmware_interface.samples import Marker, SampleBatch, SourceInfo

PHONE_PROFILE = "phone"

__all__ = ["PHONE_PROFILE", "PhoneExportStream", "open_export"]


class PhoneExportStream:
    """A validated phone export, read in chunks; the interface of ``RecordingStream``."""

    format_version: int | None = None
    torn_lines = 0
    markers: tuple[Marker, ...] = ()
    metadata: Mapping[str, list[dict[str, Any]]] = {}

    def __init__(self, path: Path, export: PhoneExport, chunk_rows: int, chunk_s: float | None,
                 spool: SampleStore | None = None) -> None:
        self.path = path
        self.units = Units()
        self._export = export
        self._chunk_rows = chunk_rows
        self._chunk_s = chunk_s
        self._spool = spool
        tally = ReadTally()
        gaps = _GapCount()
        for table in export.tables(tally):
            gaps.add(table)
            if spool is not None:
                spool.write(table)
        if not gaps.samples:
            raise RecordingFormatError(str(path), f"the {export.app} export has no accelerometer sample "
                                                  "with a gyroscope sample around it; expected both sensors "
                                                  "recorded at the same time")
        self.stats = gaps.stats()
        assert gaps.window is not None
        warnings = list(export.warnings) + check_units(str(path), self.units, gaps.window, is_recording=True)
        if tally.uncovered_samples:
            warnings.append(f"{tally.uncovered_samples} accelerometer samples outside the gyroscope's (or "
                            "gravity's) time span or in its gaps were left out")
        if tally.unordered_rows:
            warnings.append(f"{tally.unordered_rows} rows whose time did not increase were skipped")
        self.warnings: tuple[str, ...] = tuple(warnings)
        rate_hz = csv_import.rate_from_interval(self.stats.median_interval_s)
        self.info = SourceInfo(device=f"{export.app} export", profile=PHONE_PROFILE,
                               sample_rate_hz=rate_hz if math.isfinite(rate_hz) else 0.0, extra=export.extra)

    def __iter__(self) -> Iterator[SampleBatch]:
        return self.batches()

    def close(self) -> None:
        """Remove the spooled samples, if any."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def batches(self, chunk_rows: int | None = None, chunk_s: float | None = None) -> Iterator[SampleBatch]:
        """One pass over the samples, from the start, as ``RecordingStream.batches`` cuts them."""
        from firmware_interface.recording.stream import _batch, _chunking, _cut

        chunk_rows, chunk_s = _chunking(chunk_rows or self._chunk_rows, chunk_s or self._chunk_s)
        tables = self._spool.tables() if self._spool is not None else self._export.tables(ReadTally())
        for table in _cut(tables, chunk_rows, chunk_s, self.stats.start_s):
            yield _batch(table, ())


def open_export(path: str | Path, *, units: Units = Units(), chunk_rows: int, chunk_s: float | None = None,
                spool: SampleStore | None = None) -> PhoneExportStream | None:
    """The phone export at ``path`` (zip, folder or CSV), validated; ``None`` for a file no phone
    app wrote (a recording or generic CSV). ``spool`` keeps its samples for the passes (see
    ``recording.stream``). Raises ``RecordingFormatError``."""
    path = Path(path)
    name = str(path)
    container = is_container(path)
    if not container and not path.is_file():
        return None  # the recording reader names what is wrong with it
    export = recognise(name, export_members(path))
    if export is None:
        if container:
            kind = "a directory" if path.is_dir() else "a zip archive"
            raise RecordingFormatError(name, f"is {kind} without a phone export: no {PHYPHOX_EXPECTED} or "
                                             f"{LOGGER_EXPECTED} in it; expected a CSV file or a phone export")
        return None
    if units != Units():
        raise RecordingFormatError(name, f"is a {export.app} export, always in s, m/s² and rad/s; unit "
                                         "options apply to generic CSV files")
    return PhoneExportStream(path, export, chunk_rows, chunk_s, spool)


class _GapCount:
    """``StreamStats`` of the merged samples, as the recording reader counts them."""

    def __init__(self) -> None:
        self.samples = 0
        self.start_s = self.end_s = math.nan
        self.window: WindowStats | None = None
        self._window: list[np.ndarray] = []
        self.timing_gaps = TimingGaps()

    def add(self, table: np.ndarray) -> None:
        if not len(table):
            return
        if not self.samples:
            self.start_s = float(table[0, 0])
        self.samples += len(table)
        self.end_s = float(table[-1, 0])
        if self.window is None:
            self._window.append(table)
            if sum(map(len, self._window)) >= WINDOW_ROWS:
                self._judge()
        else:
            self.timing_gaps.add(table[:, 0], self.window.median_interval)

    def stats(self) -> StreamStats:
        self._judge()
        assert self.window is not None
        gaps = self.timing_gaps
        return StreamStats(self.samples, self.start_s, self.end_s, self.window.median_interval,
                           tuple(gaps.gaps), gaps.count, gaps.total_s, gaps.longest_s, 0)

    def _judge(self) -> None:
        if self.window is not None:
            return
        tables, self._window = self._window, []
        first = np.concatenate(tables)[:WINDOW_ROWS] if tables else np.empty((0, 7))
        self.window = WindowStats.of(first[:, 0], first[:, 1:4], first[:, 4:7])
        for table in tables:
            self.timing_gaps.add(table[:, 0], self.window.median_interval)
