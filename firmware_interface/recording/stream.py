"""Read a recording or a generic CSV in chunks, in memory that does not grow with its length.

``open_recording_stream(path)`` reads the file once to validate it (``scan.py``: every error is
raised there, as one ``RecordingFormatError`` line) and to learn what the whole needs
(``info``, ``markers``, ``metadata``, ``stats``, ``warnings``). Each ``stream.batches()`` then reads
the file again from the start, with the same checks, and yields the samples as ``SampleBatch``
chunks; call it again for another pass. With ``spool=True`` the validating read also copies the
samples, in binary, to an unnamed temporary file that each pass reads instead of parsing the text
again (for a command that makes several passes). ``read_recording`` gives the same samples as one
batch.
"""

from __future__ import annotations

import bisect
import math
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from firmware_interface.recording.lines import Line
from firmware_interface.recording.scan import (Layout, RowChecker, Scanned, StreamStats, as_rows, parts,
                                               scan_file)
from firmware_interface.recording.spool import SampleList, SampleSpool, SampleStore
from firmware_interface.recording.units import Units
from firmware_interface.samples import Marker, SampleBatch

DEFAULT_CHUNK_ROWS = 65_536


class RecordingStream:
    """A validated recording or generic CSV, read in chunks; see the module docstring.

    ``info``, ``markers`` (all, sorted by ``t_s``), ``metadata`` (other ``#`` entries by key),
    ``format_version`` (``None`` for a generic CSV), ``torn_lines``, ``warnings`` (one line each,
    for the user) and ``stats`` are known on opening.
    """

    def __init__(self, path: Path, units: Units, scanned: Scanned, chunk_rows: int,
                 chunk_s: float | None, spool: SampleStore | None = None) -> None:
        self.path = path
        self.units = units
        self.info = scanned.info
        self.markers: tuple[Marker, ...] = scanned.markers
        self.metadata: Mapping[str, list[dict[str, Any]]] = scanned.metadata
        self.format_version: int | None = scanned.format_version
        self.torn_lines = scanned.torn_lines
        self.warnings: tuple[str, ...] = scanned.warnings
        self.stats: StreamStats = scanned.stats
        self._layout: Layout = scanned.layout
        self._chunk_rows = chunk_rows
        self._chunk_s = chunk_s
        self._spool = spool

    def close(self) -> None:
        """Remove the spooled samples, if any (passes after this read the file again)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def __iter__(self) -> Iterator[SampleBatch]:
        return self.batches()

    def batches(self, chunk_rows: int | None = None, chunk_s: float | None = None) -> Iterator[SampleBatch]:
        """One pass over the samples, from the start, in chunks (the stream's own by default).

        Each marker rides with the first batch whose last sample is at or after its ``t_s``
        (the last batch takes any later ones), so concatenating the batches gives every sample
        and every marker exactly once, as ``read_recording`` returns them.
        """
        chunk_rows, chunk_s = _chunking(chunk_rows or self._chunk_rows, chunk_s or self._chunk_s)
        if self._spool is not None:
            tables = self._spool.tables()
        else:
            name = str(self.path)
            checker = RowChecker(name, self._layout.columns, self.units)
            tables = (checker.kept(*as_rows(part))[0] for part in parts(name, self._layout.last_line)
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
                          chunk_s: float | None = None, spool: bool = False) -> RecordingStream:
    """Validate the file at ``path`` (one read, constant memory) and return its stream.

    ``units``: what a generic CSV's columns are in (default SI, checked against the data; a
    tiltwatch recording is always SI). Batches hold ``chunk_rows`` samples, or, if ``chunk_s`` is
    given, the samples of consecutive windows ``t0 + k·chunk_s <= t < t0 + (k+1)·chunk_s``
    (``t0`` the first sample; empty windows are skipped). ``spool``: keep the samples in a
    temporary file for the passes (see the module doc; ``close()`` removes it). Raises
    ``RecordingFormatError``.
    """
    chunk_rows, chunk_s = _chunking(chunk_rows, chunk_s)
    from firmware_interface.recording import phone  # a phone app's export reads like a generic CSV

    kept = SampleSpool() if spool else None
    try:
        export = phone.open_export(path, units=units, chunk_rows=chunk_rows, chunk_s=chunk_s, spool=kept)
        if export is not None:
            return export
        scanned = scan_file(str(path), units, keep=None if kept is None else kept.write)
    except BaseException:
        if kept is not None:
            kept.close()
        raise
    return RecordingStream(Path(path), units, scanned, chunk_rows, chunk_s, kept)


def read_whole(path: str | Path, units: Units = Units()) -> tuple[RecordingStream, SampleBatch]:
    """The stream and all its samples in one batch, from the validating pass alone (one read)."""
    from firmware_interface.recording import phone

    kept = SampleList()
    export = phone.open_export(path, units=units, chunk_rows=DEFAULT_CHUNK_ROWS, spool=kept)
    if export is not None:
        return export, _batch(np.concatenate(list(kept.tables())), ())
    scanned = scan_file(str(path), units, keep=kept.write)
    stream = RecordingStream(Path(path), units, scanned, DEFAULT_CHUNK_ROWS, None)
    return stream, _batch(np.concatenate(list(kept.tables())), stream.markers)


def _chunking(chunk_rows: int, chunk_s: float | None) -> tuple[int, float | None]:
    if chunk_rows < 1 or (chunk_s is not None and not (math.isfinite(chunk_s) and chunk_s > 0)):
        raise ValueError(f"chunk_rows must be >= 1 and chunk_s > 0, got {chunk_rows}, {chunk_s}")
    return chunk_rows, chunk_s


def _batch(table: np.ndarray, markers: Sequence[Marker]) -> SampleBatch:
    return SampleBatch(table[:, 0], table[:, 1:4], table[:, 4:7], tuple(markers))


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


