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
        # Samples not yet in a complete span, as the batches brought them: joined only once a
        # span may be complete (a live hop brings a fraction of a span).
        self._pieces: list[tuple[np.ndarray, ...]] = []
        self._pending = 0  # samples in them
        self._start_t = 0.0  # the first pending sample's time
        self._latest_t = -np.inf  # the latest pending sample's time

    def split(self, t: np.ndarray, *columns: np.ndarray) -> list[Span]:
        """The spans completed by this batch (in order); the rest is kept for the next batch."""
        if len(t) == 0:
            return []
        pending = self._pending
        if not self._pieces:
            self._start_t = float(t[0])
        self._pieces.append((t, *columns))
        self._pending += len(t)
        self._latest_t = max(self._latest_t, float(t.max()))
        if self._latest_t < self._start_t + self.span_s:
            return []  # every sample is before the first span's end: nothing completes
        all_t, *all_columns = (np.concatenate(column) if len(self._pieces) > 1 else np.asarray(column[0])
                               for column in zip(*self._pieces))
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
        rest_t = all_t[start:]
        self._pieces = [(rest_t, *(c[start:] for c in all_columns))]
        self._pending = len(rest_t)
        self._start_t, self._latest_t = float(rest_t[0]), float(rest_t.max())
        return spans
