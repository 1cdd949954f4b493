"""The ``#`` lines of a recording: format version, ``source``, markers and other metadata.

Each ``# key {json}`` line holds one strict JSON object (no ``NaN`` or ``Infinity``: the writer
never emits them, so one in a file is damage). A ``source`` rate that no IMU has (not finite,
not 1–2000 Hz) is ignored with a warning and the rate of the data is used instead.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from firmware_interface.errors import RecordingFormatError
from firmware_interface.samples import Marker, SourceInfo

FORMAT_NAME = "tiltwatch-recording"
FORMAT_VERSION = 1
SOURCE_KEY = "source"
MARKER_KEY = "marker"
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 2000.0
"""Sample rates any wearable IMU can be set to; outside them a rate or a time unit is wrong."""


MAX_MARKERS = 200_000
"""Markers a recording may hold: a flaky link marks a gap every few seconds (about 10,000 in 8
hours); this many is one every 0.15 s of a working day, a broken file, refused before it costs
more than about 100 MB."""
MAX_ENTRIES_PER_KEY = 1_000
"""Other metadata lines kept per key (the last ones): a session writes a few (``started``,
``calibration``, ``health``); millions of them must not cost memory."""


@dataclass
class Metadata:
    info: SourceInfo
    markers: list[Marker]
    """In file order."""
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class MetadataLines:
    """The ``#`` lines of a file, taken one by one as they are read, in bounded memory.

    The first ``#`` line decides what the file is: ``# tiltwatch-recording N`` (the writer puts
    it on line 2) makes it a recording, whose every later ``#`` line is a ``key {json}`` entry
    parsed on arrival; anything else makes it a generic CSV, whose ``#`` lines are comments and
    are not kept at all (a file of millions of them costs no memory).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.decided = False
        self.version: int | None = None
        self._source: tuple[dict[str, Any], int] | None = None
        self._markers: list[Marker] = []
        self._entries: dict[str, deque[dict[str, Any]]] = {}
        self._entry_counts: dict[str, int] = {}

    def add(self, number: int, content: str) -> None:
        """One ``#`` line (``content`` without the ``#``); raises ``RecordingFormatError``."""
        key, _, value = content.partition(" ")
        if not self.decided:
            self.decided = True
            self.version = _version(self.name, value, number) if key == FORMAT_NAME else None
            return
        if self.version is None or key == FORMAT_NAME:
            return
        try:
            entry = json.loads(value, parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # not JSON, NaN/Infinity, or nested too deep
            entry = None
        if not isinstance(entry, dict):
            raise RecordingFormatError(self.name, f"the '# {key}' line does not hold a JSON object "
                                                  "(strict JSON, no NaN); expected '# key {...}'", number)
        if key == SOURCE_KEY:
            if self._source is not None:
                raise RecordingFormatError(self.name, "a second '# source' line; expected one", number)
            self._source = (entry, number)
        elif key == MARKER_KEY:
            if len(self._markers) >= MAX_MARKERS:
                raise RecordingFormatError(self.name, f"more than {MAX_MARKERS} markers; expected a few "
                                                      "per hour of recording", number)
            self._markers.append(_marker(self.name, entry, number))
        else:
            self._entries.setdefault(key, deque(maxlen=MAX_ENTRIES_PER_KEY)).append(entry)
            self._entry_counts[key] = self._entry_counts.get(key, 0) + 1

    def result(self, data_rate_hz: float) -> Metadata:
        """The recording's source (its rate checked against ``data_rate_hz``), markers and entries."""
        if self._source is None:
            raise RecordingFormatError(self.name, "the recording has no '# source' line; expected one "
                                                  "after the format line")
        warnings: list[str] = []
        info = _source_info(self.name, *self._source, data_rate_hz, warnings)
        for key, count in self._entry_counts.items():
            if count > MAX_ENTRIES_PER_KEY:
                warnings.append(f"{count} '# {key}' lines; kept the last {MAX_ENTRIES_PER_KEY}")
        return Metadata(info, self._markers, {key: list(kept) for key, kept in self._entries.items()}, warnings)


def _version(name: str, value: str, number: int) -> int:
    try:
        version = int(value.strip())
    except ValueError:
        raise RecordingFormatError(name, f"unreadable format version {value.strip()!r}; "
                                         f"expected '# {FORMAT_NAME} {FORMAT_VERSION}'", number) from None
    if version > FORMAT_VERSION:
        raise RecordingFormatError(name, f"format version {version} is newer than this tiltwatch reads "
                                         f"({FORMAT_VERSION}); upgrade tiltwatch", number)
    if version < 1:
        raise RecordingFormatError(name, f"format version {version} does not exist; expected {FORMAT_VERSION}",
                                   number)
    return version


def _reject_constant(constant: str) -> Any:
    raise ValueError(constant)


def _source_info(name: str, entry: dict[str, Any], line: int, data_rate_hz: float,
                 warnings: list[str]) -> SourceInfo:
    try:
        info = SourceInfo(device=str(entry["device"]), profile=str(entry["profile"]),
                          sample_rate_hz=float(entry["sample_rate_hz"]),
                          address=str(entry.get("address", "")),
                          extra=dict(entry.get("extra") or {}))
    except (KeyError, TypeError, ValueError, OverflowError):
        raise RecordingFormatError(name, "the source line needs device, profile and "
                                         "sample_rate_hz", line) from None
    if not MIN_RATE_HZ <= info.sample_rate_hz <= MAX_RATE_HZ:
        warnings.append(f"line {line}: the source's sample_rate_hz {entry['sample_rate_hz']!r} is "
                        f"not a rate from {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz; using the rate of "
                        f"the data ({data_rate_hz:g} Hz)")
        info = SourceInfo(info.device, info.profile, data_rate_hz, info.address, info.extra)
    return info


def _marker(name: str, entry: dict[str, Any], line: int) -> Marker:
    try:
        end_s = entry.get("end_s")
        marker = Marker(t_s=float(entry["t_s"]), kind=str(entry["kind"]),  # type: ignore[arg-type]
                        end_s=None if end_s is None else float(end_s),
                        text=str(entry.get("text", "")), data=dict(entry.get("data") or {}))
    except (KeyError, TypeError, ValueError, OverflowError):
        raise RecordingFormatError(name, "a marker needs numeric t_s and a kind "
                                         "(end_s, text, data optional)", line) from None
    if not math.isfinite(marker.t_s) or not (marker.end_s is None or marker.end_s >= marker.t_s):
        raise RecordingFormatError(name, "a marker's t_s must be finite and its end_s (if any) "
                                         "not before t_s", line)
    return marker
