"""Where a validating read keeps the samples it parsed, so that later passes need not parse the
text again: in memory (``SampleList``, to return a whole file at once) or in an unnamed temporary
file (``SampleSpool``, for passes over a file of any length in bounded memory)."""

from __future__ import annotations

import tempfile
from typing import Iterator, Protocol

import numpy as np

_COLUMNS = 7  # t, acc (3), gyr (3): SI, float64


class SampleStore(Protocol):
    def write(self, table: np.ndarray) -> None: ...
    def tables(self) -> Iterator[np.ndarray]: ...
    def close(self) -> None: ...


class SampleList:
    """The (N, 7) tables in memory."""

    def __init__(self) -> None:
        self._tables: list[np.ndarray] = []

    def write(self, table: np.ndarray) -> None:
        self._tables.append(table)

    def tables(self) -> Iterator[np.ndarray]:
        return iter(self._tables)

    def close(self) -> None:
        self._tables = []


class SampleSpool:
    """The (N, 7) tables in an unnamed temporary file (removed on close, readable by this process
    alone; in ``TMPDIR``), read back in order as often as needed: 56 bytes a sample on disk."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._rows: list[int] = []

    def write(self, table: np.ndarray) -> None:
        self._file.write(np.ascontiguousarray(table, dtype=np.float64).tobytes())
        self._rows.append(len(table))

    def tables(self) -> Iterator[np.ndarray]:
        offset = 0
        for n in self._rows:
            self._file.seek(offset)  # each pass keeps its own place: passes may interleave
            data = bytearray(self._file.read(8 * _COLUMNS * n))
            offset += len(data)
            yield np.frombuffer(data, dtype=np.float64).reshape(n, _COLUMNS)

    def close(self) -> None:
        self._file.close()
