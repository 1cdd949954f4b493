"""The ``#`` lines of a recording: format version, ``source``, markers and other metadata.

Each ``# key {json}`` line holds one strict JSON object (no ``NaN`` or ``Infinity``: the writer
never emits them, so one in a file is damage). A ``source`` rate that no IMU has (not finite,
not 1–2000 Hz) is ignored with a warning and the rate of the data is used instead.
"""

from __future__ import annotations

import json
import math
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


@dataclass
class Metadata:
    info: SourceInfo
    markers: list[Marker]
    """In file order."""
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def format_version(name: str, comments: list[tuple[int, str]]) -> int | None:
    """The version on the ``# tiltwatch-recording N`` line, or ``None`` for a generic CSV."""
    for number, content in comments:
        key, _, value = content.partition(" ")
        if key != FORMAT_NAME:
            continue
        try:
            version = int(value.strip())
        except ValueError:
            raise RecordingFormatError(name, f"unreadable format version {value.strip()!r}; "
                                             f"expected '# {FORMAT_NAME} {FORMAT_VERSION}'",
                                       number) from None
        if version > FORMAT_VERSION:
            raise RecordingFormatError(
                name, f"format version {version} is newer than this tiltwatch reads "
                      f"({FORMAT_VERSION}); upgrade tiltwatch", number)
        if version < 1:
            raise RecordingFormatError(name, f"format version {version} does not exist; "
                                             f"expected {FORMAT_VERSION}", number)
        return version
    return None


def _reject_constant(constant: str) -> Any:
    raise ValueError(constant)


def parse_metadata(name: str, comments: list[tuple[int, str]], data_rate_hz: float) -> Metadata:
    """The source, markers and other entries of a recording's ``#`` lines (``(line, text)``)."""
    info: SourceInfo | None = None
    markers: list[Marker] = []
    entries: dict[str, list[dict[str, Any]]] = {}
    warnings: list[str] = []
    for number, content in comments:
        key, _, value = content.partition(" ")
        if key == FORMAT_NAME:
            continue
        try:
            entry = json.loads(value, parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # not JSON, NaN/Infinity, or nested too deep
            entry = None
        if not isinstance(entry, dict):
            raise RecordingFormatError(name, f"the '# {key}' line does not hold a JSON object "
                                             "(strict JSON, no NaN); expected '# key {...}'", number)
        if key == SOURCE_KEY:
            if info is not None:
                raise RecordingFormatError(name, "a second '# source' line; expected one", number)
            info = _source_info(name, entry, number, data_rate_hz, warnings)
        elif key == MARKER_KEY:
            markers.append(_marker(name, entry, number))
        else:
            entries.setdefault(key, []).append(entry)
    if info is None:
        raise RecordingFormatError(name, "the recording has no '# source' line; expected one "
                                         "after the format line")
    return Metadata(info, markers, entries, warnings)


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
