"""A recording replayed under the user's control: pause, speed, seek.

``ControlledReplay`` is a ``Source`` like any other: the dashboard's bridge iterates it and the
same pipeline analyses what it yields, so a replay shows what the live session showed. It
releases samples on a fixed wall-clock tick (``TICK_S``), however fast the speed: at 50x a tick
carries 2.5 s of recording instead of 500 tiny chunks, so the speed shown is the speed run.

Seeking forward yields the skipped samples at once (the pipeline still sees every sample, so
holds, alerts and reps stay those of the whole recording). Seeking backward cannot un-feed a
pipeline: ``rewind_to`` restarts the iteration from the first sample, fast-forwarding to the
position; the app pairs it with a fresh pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections import deque
from typing import AsyncGenerator, AsyncIterator, Callable

import numpy as np

from firmware_interface.errors import UsageError
from firmware_interface.recording import Units, read_recording
from firmware_interface.samples import SampleBatch, SourceInfo, StreamHealth

TICK_S = 0.05
"""Wall time between two releases of samples while playing."""
FAST_FORWARD_CHUNK_S = 1.0
"""Recording time per batch while seeking forward (the pipeline takes any batch size)."""
MAX_BACKLOG_TICKS = 10
"""Ticks of recording the analysis may lag before the replay waits for it."""
SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
"""The speeds the speed keys step through."""
_RATE_WINDOW_S = 2.0


class ControlledReplay:
    """Replays ``batch`` at ``speed`` (None: as fast as possible) until its end; controllable."""

    def __init__(self, batch: SampleBatch, info: SourceInfo, *, speed: float | None = 1.0,
                 warnings: tuple[str, ...] = ()) -> None:
        if len(batch) == 0:
            raise UsageError("the recording has no samples to replay")
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise UsageError(f"speed must be a positive number, got {speed!r}")
        self.batch = batch
        self.warnings = warnings
        self._info = info
        self._t0 = float(batch.t[0])
        self.duration_s = float(batch.t[-1]) - self._t0
        self.speed = speed
        self.paused = False
        self._next = 0
        """Index of the next sample to release."""
        self._target_s: float | None = None
        """Position to fast-forward to (from the first sample), if seeking."""
        self._anchor: tuple[float, float] | None = None
        """(wall clock, position) the pace is measured from; reset by every control."""
        self.backlog_s: Callable[[], float] = lambda: 0.0
        """Recording time handed on but not analysed yet (the app sets it): the replay waits while
        it exceeds ``MAX_BACKLOG_TICKS`` ticks' worth, so the pace shown is the pace run."""
        self._changed = asyncio.Event()
        self._health = StreamHealth(state="connecting")
        self._recent: deque[tuple[float, int]] = deque()

    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def health(self) -> StreamHealth:
        return self._health

    @property
    def position_s(self) -> float:
        """Recording time released so far, from the first sample."""
        if self._next == 0:
            return 0.0
        return float(self.batch.t[self._next - 1]) - self._t0

    def set_speed(self, speed: float | None) -> None:
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be > 0 or None, got {speed!r}")
        self.speed = speed
        self._control()

    def step_speed(self, faster: bool) -> float | None:
        """The next speed in ``SPEEDS`` up (or down) from the current one; returns it."""
        current = self.speed if self.speed is not None else SPEEDS[-1]
        if faster:
            self.set_speed(next((s for s in SPEEDS if s > current + 1e-9), SPEEDS[-1]))
        else:
            self.set_speed(next((s for s in reversed(SPEEDS) if s < current - 1e-9), SPEEDS[0]))
        return self.speed

    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        self._control()
        return self.paused

    def seek_forward_to(self, position_s: float) -> bool:
        """Fast-forward to ``position_s``; False if it lies behind (use ``rewind_to``)."""
        if position_s < self.position_s:
            return False
        self._target_s = min(position_s, self.duration_s)
        self._control()
        return True

    def rewind_to(self, position_s: float) -> None:
        """Start again from the first sample and fast-forward to ``position_s`` (a new pipeline
        must take the samples: the caller builds it)."""
        self._next = 0
        self._recent.clear()
        self._target_s = max(0.0, min(position_s, self.duration_s))
        self._control()

    def _control(self) -> None:
        self._anchor = None
        self._changed.set()

    def __aiter__(self) -> AsyncIterator[SampleBatch]:
        return self._chunks()

    async def _chunks(self) -> AsyncGenerator[SampleBatch, None]:
        clock = asyncio.get_running_loop()
        t = self.batch.t
        self._health = StreamHealth(state="streaming", message=self._message())
        try:
            while self._next < len(t):
                if self._target_s is not None:
                    stop_s = min(self._target_s, self.position_s + FAST_FORWARD_CHUNK_S)
                    if stop_s >= self._target_s:
                        self._target_s = None
                    await asyncio.sleep(0)
                elif self.paused:
                    self._health = StreamHealth(state="streaming", samples=self._health.samples,
                                                rate_hz=0.0, message=self._message())
                    self._changed.clear()
                    await self._changed.wait()
                    continue
                elif self.speed is None:
                    stop_s = self.position_s + FAST_FORWARD_CHUNK_S
                    await asyncio.sleep(0)
                else:
                    if self._anchor is None:
                        self._anchor = (clock.time(), self.position_s)
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), TICK_S)
                    if self._changed.is_set():
                        continue  # a control re-anchors the pace first
                    if self.backlog_s() > MAX_BACKLOG_TICKS * TICK_S * self.speed:
                        self._anchor = None  # the analysis sets the pace: wait, then go on from here
                        continue
                    wall_s, from_s = self._anchor
                    stop_s = from_s + (clock.time() - wall_s) * self.speed
                stop = int(np.searchsorted(t, self._t0 + stop_s, side="right"))
                if stop <= self._next:
                    continue
                chunk = self._slice(self._next, stop)
                self._next = stop
                self._update_health(chunk)
                yield chunk
        finally:
            self._health = StreamHealth(state="ended", samples=self._health.samples, gaps=self._health.gaps,
                                        last_gap=self._health.last_gap, message=f"{self._info.device}: ended")

    def _slice(self, start: int, stop: int) -> SampleBatch:
        t = self.batch.t
        first_s = float(t[start]) if start > 0 else -math.inf
        last_s = float(t[stop - 1]) if stop < len(t) else math.inf
        markers = tuple(m for m in self.batch.markers if first_s <= m.t_s <= last_s)
        return SampleBatch(t[start:stop], self.batch.acc[start:stop], self.batch.gyr[start:stop], markers)

    def _update_health(self, chunk: SampleBatch) -> None:
        self._recent.append((float(chunk.t[-1]), len(chunk)))
        while self._recent[-1][0] - self._recent[0][0] > _RATE_WINDOW_S:
            self._recent.popleft()
        span_s = self._recent[-1][0] - self._recent[0][0]
        rate_hz = sum(n for _, n in list(self._recent)[1:]) / span_s if span_s > 0 else 0.0
        gaps = [m for m in chunk.markers if m.kind == "gap"]
        self._health = StreamHealth(state="streaming", samples=self._health.samples + len(chunk), rate_hz=rate_hz,
                                    gaps=self._health.gaps + len(gaps),
                                    last_gap=gaps[-1] if gaps else self._health.last_gap,
                                    message=self._message())

    def _message(self) -> str:
        if self.paused:
            return f"{self._info.device}: paused"
        pace = "as fast as possible" if self.speed is None else f"at {self.speed:g}x"
        return f"{self._info.device}: replaying {pace}"


def controlled_replay(path: str | os.PathLike[str], speed: float | None = 1.0,
                      units: Units = Units()) -> ControlledReplay:
    """A controllable replay of a recording or generic CSV (``RecordingFormatError`` if unreadable)."""
    recording = read_recording(path, units)
    return ControlledReplay(recording.batch, recording.info, speed=speed, warnings=recording.warnings)
