"""Analyse a recording file: read in passes (memory does not grow with its length), named by its
path and the wall-clock start its ``# started`` line gives."""

from __future__ import annotations

import os
from typing import Callable, Sequence

from firmware_interface.recording import Units, open_recording_stream
from fusion.analysis import analyze_passes
from fusion.neutral_search import CHUNK_S
from fusion.session import SessionAnalysis, SessionSource
from fusion.settings import Settings


def analyze_file(path: str | os.PathLike[str], settings: Settings | None = None,
                 windows: dict[str, tuple[float, float]] | None = None, units: Units = Units(),
                 progress: Callable[[float], None] | None = None,
                 warn: Callable[[Sequence[str]], None] | None = None) -> SessionAnalysis:
    """Raises a one-line ``TiltwatchError`` for a file that is not a recording; ``warn`` gets the
    file's warnings before the analysis starts."""
    # The analysis passes over the samples several times: parse the text once.
    stream = open_recording_stream(path, units=units, chunk_s=CHUNK_S, spool=True)
    try:
        if warn is not None:
            warn(stream.warnings)
        info = stream.info
        started = (stream.metadata.get("started") or [{}])[0].get("host_time_utc")
        source = SessionSource(info.device, info.profile, info.sample_rate_hz, str(stream.path),
                               started if isinstance(started, str) else None)
        return analyze_passes(stream.batches, info, settings, windows, progress, source, stream.stats.samples)
    finally:
        stream.close()
