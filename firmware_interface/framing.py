"""Byte-stream framing and fixed-point unpacking shared by the device profiles.

Notifications are treated as a byte stream (protocols.md §7.4): a frame may be split across
notifications or several frames may share one. ``FrameWalker`` finds frames by header and length,
steps one byte on anything it cannot recognise (so a corrupt byte costs one frame, not the stream)
and carries an incomplete tail to the next notification. Nothing here raises on input bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

NEED_MORE = 0
"""``frame_length`` result: the bytes so far are a plausible frame start, wait for more."""

_INT16_LE = np.dtype("<i2")


@dataclass
class FrameWalker:
    """Splits a byte stream into frames that start with ``header``.

    ``frame_length(buffer, start)`` looks at the candidate frame at ``buffer[start:]`` (which begins
    with ``header``) and returns its length in bytes, ``NEED_MORE`` when more bytes are needed to tell,
    or ``None`` when the bytes there are not a frame start (the walker then resynchronises by one byte).
    """

    header: bytes
    frame_length: Callable[[bytes, int], int | None]
    max_frame_bytes: int
    skipped_bytes: int = 0
    """Bytes discarded while resynchronising (not part of any frame)."""
    _pending: bytes = field(default=b"", repr=False)

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data`` to the stream and return the complete frames now available."""
        buffer = self._pending + bytes(data)
        frames: list[bytes] = []
        position = 0
        while True:
            start = buffer.find(self.header, position)
            if start < 0:
                # Keep a trailing partial header: it may be completed by the next notification.
                keep = _partial_header_suffix(buffer, self.header, position)
                self.skipped_bytes += len(buffer) - position - keep
                position = len(buffer) - keep
                break
            self.skipped_bytes += start - position
            length = self.frame_length(buffer, start)
            if length is None:
                self.skipped_bytes += 1
                position = start + 1
                continue
            if length == NEED_MORE or start + length > len(buffer):
                position = start
                break
            frames.append(buffer[start:start + length])
            position = start + length
        tail = buffer[position:]
        if len(tail) > self.max_frame_bytes:
            # A header that never completes must not hold the stream hostage.
            self.skipped_bytes += len(tail) - self.max_frame_bytes
            tail = tail[-self.max_frame_bytes:]
        self._pending = tail
        return frames

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect, the old tail cannot be continued)."""
        self.skipped_bytes += len(self._pending)
        self._pending = b""


def _partial_header_suffix(buffer: bytes, header: bytes, position: int) -> int:
    """Length of the longest suffix of ``buffer[position:]`` that is a proper prefix of ``header``."""
    for size in range(min(len(header) - 1, len(buffer) - position), 0, -1):
        if buffer.endswith(header[:size]):
            return size
    return 0


def int16_fields(data: bytes, offset: int, count: int) -> np.ndarray:
    """``count`` little-endian int16 values starting at ``offset``, as float64."""
    return np.frombuffer(data, dtype=_INT16_LE, count=count, offset=offset).astype(np.float64)


def int16_rows(data: bytes, offset: int, rows: int, words_per_row: int) -> np.ndarray:
    """A (rows, words_per_row) float64 array of consecutive little-endian int16 records."""
    flat = np.frombuffer(data, dtype=_INT16_LE, count=rows * words_per_row, offset=offset)
    return flat.reshape(rows, words_per_row).astype(np.float64)


def to_int16(values: np.ndarray, scale: float) -> np.ndarray:
    """Quantise SI ``values`` to int16 counts (``counts = values / scale``), saturating like a sensor."""
    counts = np.rint(np.asarray(values, dtype=np.float64) / scale)
    return np.clip(counts, -32768, 32767).astype("<i2")
