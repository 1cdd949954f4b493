"""Write a tiltwatch recording: append-only CSV with ``#`` JSON metadata lines.

Layout and guarantees are in docs/recording-format.md. Lines are handed to the operating system
at most ``write_interval_s`` after they were appended (by default at once, so a killed process
loses nothing already appended; the live dashboard batches them, see ``LIVE_WRITE_INTERVAL_S``)
and ``os.fsync``ed at most once per ``sync_interval_s`` (so a power cut loses about the last
second). ``close`` writes everything.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping

import numpy as np

from firmware_interface.errors import UsageError
from firmware_interface.recording.csv_import import HEADER
from firmware_interface.recording.metadata import FORMAT_NAME, FORMAT_VERSION, MARKER_KEY, SOURCE_KEY
from firmware_interface.samples import Marker, SampleBatch, SourceInfo

STARTED_KEY = "started"
DROPPED_KEY = "dropped"
T_DECIMALS = 6
ROW_FORMAT = f"%.{T_DECIMALS}f" + ",%.7g" * 6 + "\n"
"""t to 1 µs; acc and gyr to 7 significant digits (relative error ≤ 5e-7)."""
_ROWS_PER_WRITE = 10_000
LIVE_WRITE_INTERVAL_S = 0.25
"""How long a live recording keeps appended lines before handing them to the OS: a write system
call per notification (50 a second from a WitMotion at 200 Hz) was a visible share of the
dashboard's CPU; a killed process loses at most this much, a power cut about ``sync_interval_s``."""
_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_RESERVED_KEYS = {FORMAT_NAME, SOURCE_KEY, MARKER_KEY, STARTED_KEY, DROPPED_KEY}


def tiltwatch_version() -> str:
    try:
        return package_metadata.version("tiltwatch")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def marker_to_json(marker: Marker) -> dict[str, Any]:
    """The object of a ``# marker`` line."""
    return {"t_s": marker.t_s, "kind": marker.kind, "end_s": marker.end_s,
            "text": marker.text, "data": dict(marker.data)}


def source_info_to_json(info: SourceInfo) -> dict[str, Any]:
    """The object of the ``# source`` line."""
    return {"device": info.device, "profile": info.profile,
            "sample_rate_hz": info.sample_rate_hz, "address": info.address,
            "extra": dict(info.extra)}


def _json_line(key: str, entry: Mapping[str, Any]) -> str:
    # ASCII-only JSON keeps each entry on one line whatever the text (no U+2028 surprises).
    return f"# {key} {json.dumps(entry, ensure_ascii=True, allow_nan=False)}\n"


def _create_private(path: Path, overwrite: bool) -> Any:
    """Open ``path`` for writing, readable by the user only (0600: it is health data); never
    through a symbolic link, and never over an existing file unless ``overwrite``."""
    if path.is_symlink():
        raise UsageError(f"{path} is a symbolic link; recordings are never written through links; "
                         "choose a new file name")
    flags = (os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
             | getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists; choose a new file name "
                         "(recordings are never overwritten)") from None
    except OSError as exc:
        raise UsageError(f"cannot create {path} ({exc.strerror or exc})") from None
    if overwrite and hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # an overwritten file keeps its mode otherwise
    return open(fd, "w", encoding="ascii", newline="\n")  # the descriptor, with the text layer


class RecordingWriter:
    """Append samples, markers and metadata to a new recording file."""

    def __init__(self, path: str | os.PathLike[str], info: SourceInfo, *,
                 overwrite: bool = False, sync_interval_s: float = 1.0, write_interval_s: float = 0.0) -> None:
        if sync_interval_s <= 0:
            raise ValueError("sync_interval_s must be > 0")
        if not 0 <= write_interval_s <= sync_interval_s:
            raise ValueError("write_interval_s must be between 0 and sync_interval_s")
        self.path = Path(path)
        self.info = info
        self._sync_interval_s = sync_interval_s
        self._write_interval_s = write_interval_s
        self._pending: list[str | SampleBatch] = []
        """Metadata lines and batches appended but not handed to the OS yet, in order."""
        self._last_write_s = -np.inf
        self._file = _create_private(self.path, overwrite)
        self._samples_written = 0
        self._samples_dropped = 0
        self._last_t_s = -np.inf
        self._last_sync_s = -np.inf
        started = {"host_time_utc": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                   "tiltwatch_version": tiltwatch_version()}
        self._queue(f"{HEADER}\n# {FORMAT_NAME} {FORMAT_VERSION}\n"
                    + _json_line(SOURCE_KEY, source_info_to_json(info))
                    + _json_line(STARTED_KEY, started))

    @property
    def samples_written(self) -> int:
        return self._samples_written

    @property
    def samples_dropped(self) -> int:
        return self._samples_dropped

    @property
    def closed(self) -> bool:
        return self._file.closed

    def append(self, batch: SampleBatch) -> None:
        """Write the batch's markers, then its samples (handed to the OS with the next write).

        A non-finite sample, or one whose time (to the µs written) does not exceed every earlier
        sample's kept, is not written but counted in ``samples_dropped``: the reader would reject
        the file, and one bad sample must not end a long recording. Which samples are kept does
        not depend on how they were batched.
        """
        self._queue(batch)

    def _rows(self, batches: list[SampleBatch]) -> str:
        """The CSV lines of the samples of ``batches`` that are kept (counted as written or dropped)."""
        t = np.round(np.concatenate([b.t for b in batches]), T_DECIMALS)
        acc, gyr = np.concatenate([b.acc for b in batches]), np.concatenate([b.gyr for b in batches])
        finite = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        # A dropped sample never raises the bar: kept ones are the only earlier times that count.
        previous_max = np.maximum.accumulate(np.concatenate([[self._last_t_s], np.where(finite, t, -np.inf)[:-1]]))
        keep = finite & (t > previous_max)
        table = np.column_stack([t, acc, gyr])[keep]
        parts = []
        for start in range(0, len(table), _ROWS_PER_WRITE):
            rows = table[start:start + _ROWS_PER_WRITE]
            parts.append((ROW_FORMAT * len(rows)) % tuple(rows.ravel().tolist()))
        if len(table):
            self._last_t_s = float(table[-1, 0])
        self._samples_written += len(table)
        self._samples_dropped += len(t) - len(table)
        return "".join(parts)

    def add_marker(self, marker: Marker) -> None:
        self._queue(_json_line(MARKER_KEY, marker_to_json(marker)))

    def add_metadata(self, key: str, entry: Mapping[str, Any]) -> None:
        """Append a ``# key {json}`` line, e.g. ``add_metadata("calibration", {...})``."""
        if not _KEY_PATTERN.match(key) or key in _RESERVED_KEYS:
            raise ValueError(f"metadata key {key!r} must match {_KEY_PATTERN.pattern} and not be "
                             f"one of {sorted(_RESERVED_KEYS)}")
        self._queue(_json_line(key, entry))

    def flush(self) -> None:
        """Hand everything to the OS and ``fsync`` now."""
        self._hand_over()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync_s = time.monotonic()

    def close(self) -> None:
        """Record how many samples were dropped (if any), flush, fsync and close."""
        if not self._file.closed:
            self._hand_over()  # the counts include every sample appended
            if self._samples_dropped:
                self._queue(_json_line(DROPPED_KEY, {"samples": self._samples_dropped}))
            self.flush()
            self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _queue(self, item: str | SampleBatch) -> None:
        if self._file.closed:
            raise ValueError(f"{self.path} is closed")
        self._pending.append(item)
        now_s = time.monotonic()
        if now_s - self._last_sync_s >= self._sync_interval_s:
            self.flush()
        elif now_s - self._last_write_s >= self._write_interval_s:
            self._hand_over()

    def _hand_over(self) -> None:
        """Everything appended so far to the OS, in one write: the samples of consecutive batches
        are formatted together (a batch's markers go before its samples)."""
        self._last_write_s = time.monotonic()
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        parts: list[str] = []
        batches: list[SampleBatch] = []
        for item in pending:
            if isinstance(item, str) or item.markers:
                if batches:
                    parts.append(self._rows(batches))
                    batches = []
                parts.append(item if isinstance(item, str)
                             else "".join(_json_line(MARKER_KEY, marker_to_json(m)) for m in item.markers))
            if not isinstance(item, str) and len(item):
                batches.append(item)
        if batches:
            parts.append(self._rows(batches))
        self._file.write("".join(parts))
        self._file.flush()
