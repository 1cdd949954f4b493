"""Read a whole recording or generic CSV into one ``SampleBatch``.

This is the chunked reader of ``stream.py`` keeping the samples of its validating pass: same
checks, same samples as its batches. A
recording's writer ends every line with a newline, so a last line without one was cut by a crash:
it is dropped and counted in ``torn_lines``. Damage anywhere else is a ``RecordingFormatError``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from firmware_interface.recording.metadata import FORMAT_VERSION
from firmware_interface.recording.scan import StreamStats
from firmware_interface.recording.stream import read_whole
from firmware_interface.recording.units import Units
from firmware_interface.samples import Marker, SampleBatch, SourceInfo


@dataclass(frozen=True, eq=False)
class Recording:
    """Everything in one file: the samples with their markers, and the metadata."""

    info: SourceInfo
    batch: SampleBatch
    """All samples; ``batch.markers`` holds every marker, sorted by ``t_s``."""
    stats: StreamStats
    """Counts gathered while validating the file (gaps, rows dropped)."""
    metadata: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Every other ``# key {json}`` line by key, in file order (``started``, ``calibration``...)."""
    format_version: int | None = FORMAT_VERSION
    """``None`` for a generic CSV file."""
    torn_lines: int = 0
    """Incomplete last lines ignored (0 or 1): a crash cut the final write."""
    path: Path | None = None
    warnings: tuple[str, ...] = ()
    """Odd but readable data (rows dropped, an absurd nominal rate ignored), one line each."""

    @property
    def markers(self) -> tuple[Marker, ...]:
        return self.batch.markers


def read_recording(path: str | os.PathLike[str], units: Units = Units()) -> Recording:
    """Read a recording or a generic CSV; raise ``RecordingFormatError`` with one clear line."""
    stream, batch = read_whole(Path(path), units)
    return Recording(stream.info, batch, stream.stats, stream.metadata, stream.format_version,
                     stream.torn_lines, Path(path), stream.warnings)
