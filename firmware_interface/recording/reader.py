"""Read a tiltwatch recording or a generic CSV file into one ``SampleBatch``.

Both are the same CSV table (``csv_import.py``); a recording adds ``#`` lines carrying the
format version, the ``SourceInfo``, markers and other metadata as JSON. A recording's writer ends
every line with a newline, so a last line without one was cut by a crash: it is dropped and
counted in ``torn_lines``. Damage anywhere else is a ``RecordingFormatError``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording import csv_import
from firmware_interface.samples import Marker, SampleBatch, SourceInfo

FORMAT_NAME = "tiltwatch-recording"
FORMAT_VERSION = 1
SOURCE_KEY = "source"
MARKER_KEY = "marker"

CSV_DEVICE = "CSV import"
CSV_PROFILE = "csv"

_BINARY_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "a ZIP archive (.zip, .npz, .xlsx)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF", "a PDF document"),
)


@dataclass(frozen=True, eq=False)
class Recording:
    """Everything in one file: the samples with their markers, and the metadata."""

    info: SourceInfo
    batch: SampleBatch
    """All samples; ``batch.markers`` holds every marker, sorted by ``t_s``."""
    metadata: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Every other ``# key {json}`` line by key, in file order (``started``, ``calibration``...)."""
    format_version: int | None = FORMAT_VERSION
    """``None`` for a generic CSV file."""
    torn_lines: int = 0
    """Incomplete last lines ignored (0 or 1): a crash cut the final write."""
    path: Path | None = None


@dataclass
class _Lines:
    """The file's non-blank lines, sorted into header, data rows and ``#`` comments."""

    header: str | None = None
    header_line: int = 0
    rows: list[str] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)
    """(line number, text after ``#``)."""
    last_line_complete: bool = True
    last_line: int = 0


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording or a generic CSV; raise ``RecordingFormatError`` with one clear line."""
    name = str(path)
    text = _decode(name, _read_bytes(name))
    lines = _split(text)
    version = _format_version(name, lines.comments)
    torn = _drop_torn_last_line(lines, version is not None)
    if lines.header is None:
        raise RecordingFormatError(name, f"the file is empty; expected {csv_import.EXPECTED}")
    columns = csv_import.parse_header(name, lines.header, lines.header_line)
    if not lines.rows:
        raise RecordingFormatError(name, "the file has a header but no samples")
    table = csv_import.parse_rows(name, lines.rows, lines.row_lines, columns)

    if version is None:
        info = SourceInfo(device=CSV_DEVICE, profile=CSV_PROFILE,
                          sample_rate_hz=csv_import.estimate_rate_hz(table[:, 0]))
        markers: list[Marker] = []
        metadata: dict[str, list[dict[str, Any]]] = {}
    else:
        info, markers, metadata = _parse_metadata(name, lines.comments)
    markers.sort(key=lambda m: m.t_s)
    batch = SampleBatch(table[:, 0], table[:, 1:4], table[:, 4:7], tuple(markers))
    return Recording(info, batch, metadata, version, torn, Path(path))


def _read_bytes(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except FileNotFoundError:
        raise RecordingFormatError(name, "no such file") from None
    except IsADirectoryError:
        raise RecordingFormatError(name, "is a directory; expected a CSV file") from None
    except OSError as exc:
        raise RecordingFormatError(name, f"cannot read the file ({exc.strerror or exc})") from None


def _decode(name: str, raw: bytes) -> str:
    kind = next((label for signature, label in _BINARY_SIGNATURES if raw.startswith(signature)), None)
    if kind is None and b"\x00" in raw[:65536]:
        kind = "a binary file"
    if kind is None:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            kind = "not UTF-8 text"
    if kind is not None:
        raise RecordingFormatError(name, f"is {kind}, not a CSV recording; "
                                         f"expected text with {csv_import.EXPECTED}")
    if text.lstrip()[:1] in ("{", "["):
        raise RecordingFormatError(name, f"looks like JSON, not a CSV recording; "
                                         f"expected {csv_import.EXPECTED}")
    return text.replace("\r\n", "\n")


def _split(text: str) -> _Lines:
    lines = _Lines(last_line_complete=text.endswith("\n"))
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        lines.last_line = number
        if stripped[0] == "#":
            lines.comments.append((number, stripped[1:].strip()))
        elif lines.header is None:
            lines.header, lines.header_line = stripped, number
        else:
            lines.rows.append(stripped)
            lines.row_lines.append(number)
    return lines


def _drop_torn_last_line(lines: _Lines, is_recording: bool) -> int:
    """Drop a last line cut short by a crash; return how many lines were dropped (0 or 1).

    In a recording every complete line ends with a newline. A generic CSV may simply lack
    the final newline, so there the last row is dropped only if it does not parse.
    """
    if lines.last_line_complete or lines.last_line == lines.header_line:
        return 0
    if lines.comments and lines.comments[-1][0] == lines.last_line:
        if not is_recording:
            return 0
        lines.comments.pop()
        return 1
    if is_recording or (lines.header is not None and not _row_parses(lines)):
        lines.rows.pop()
        lines.row_lines.pop()
        return 1
    return 0


def _row_parses(lines: _Lines) -> bool:
    try:
        columns = csv_import.parse_header("", lines.header or "", lines.header_line)
    except RecordingFormatError:
        return True  # the header error is the one to report
    return csv_import.row_is_valid(lines.rows[-1], columns)


def _format_version(name: str, comments: list[tuple[int, str]]) -> int | None:
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


def _parse_metadata(name: str, comments: list[tuple[int, str]]
                    ) -> tuple[SourceInfo, list[Marker], dict[str, list[dict[str, Any]]]]:
    info: SourceInfo | None = None
    markers: list[Marker] = []
    metadata: dict[str, list[dict[str, Any]]] = {}
    for number, content in comments:
        key, _, value = content.partition(" ")
        if key == FORMAT_NAME:
            continue
        try:
            entry = json.loads(value)
        except json.JSONDecodeError:
            entry = None
        if not isinstance(entry, dict):
            raise RecordingFormatError(name, f"the '# {key}' line does not hold a JSON object; "
                                             "expected '# key {...}'", number)
        if key == SOURCE_KEY:
            if info is not None:
                raise RecordingFormatError(name, "a second '# source' line; expected one", number)
            info = _source_info(name, entry, number)
        elif key == MARKER_KEY:
            markers.append(_marker(name, entry, number))
        else:
            metadata.setdefault(key, []).append(entry)
    if info is None:
        raise RecordingFormatError(name, "the recording has no '# source' line; expected one "
                                         "after the format line")
    return info, markers, metadata


def _source_info(name: str, entry: dict[str, Any], line: int) -> SourceInfo:
    try:
        return SourceInfo(device=str(entry["device"]), profile=str(entry["profile"]),
                          sample_rate_hz=float(entry["sample_rate_hz"]),
                          address=str(entry.get("address", "")),
                          extra=dict(entry.get("extra") or {}))
    except (KeyError, TypeError, ValueError):
        raise RecordingFormatError(name, "the source line needs device, profile and "
                                         "sample_rate_hz", line) from None


def _marker(name: str, entry: dict[str, Any], line: int) -> Marker:
    try:
        end_s = entry.get("end_s")
        return Marker(t_s=float(entry["t_s"]), kind=str(entry["kind"]),  # type: ignore[arg-type]
                      end_s=None if end_s is None else float(end_s),
                      text=str(entry.get("text", "")), data=dict(entry.get("data") or {}))
    except (KeyError, TypeError, ValueError):
        raise RecordingFormatError(name, "a marker needs numeric t_s and a kind "
                                         "(end_s, text, data optional)", line) from None
