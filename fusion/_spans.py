"""Cut a sample stream into fixed spans of device time, the same way however it is batched.

A span starts at a sample and holds every sample earlier than ``start + span_s``; it is complete
when the first sample after it arrives. Stages that judge whole spans (rest, stillness) use this
so that streaming and batch runs agree sample for sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Span:
    t: np.ndarray
    columns: tuple[np.ndarray, ...]
    duration_s: float
    """From the span's first sample to the first sample after it."""
    stop: int
    """Index in the current batch of the first sample after the span."""


class SpanSplitter:
    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self.reset()

    def reset(self) -> None:
        self._t = np.empty(0)
        self._columns: tuple[np.ndarray, ...] | None = None

    def split(self, t: np.ndarray, *columns: np.ndarray) -> list[Span]:
        """The spans completed by this batch (in order); the rest is kept for the next batch."""
        if len(t) == 0:
            return []
        pending = len(self._t)
        all_t = np.concatenate([self._t, t])
        if self._columns is None:
            all_columns = tuple(np.asarray(c) for c in columns)
        else:
            all_columns = tuple(np.concatenate([old, new]) for old, new in zip(self._columns, columns))
        spans = []
        start = 0
        while True:
            # max(): out-of-order timestamps must still move on.
            end = max(int(np.searchsorted(all_t, all_t[start] + self.span_s, side="left")), start + 1)
            if end >= len(all_t):
                break
            spans.append(Span(all_t[start:end], tuple(c[start:end] for c in all_columns),
                              float(all_t[end] - all_t[start]), end - pending))
            start = end
        self._t = all_t[start:]
        self._columns = tuple(c[start:] for c in all_columns)
        return spans
