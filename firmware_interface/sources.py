"""Sources: async iterables of ``SampleBatch`` with ``info`` and ``health``.

``PacedSource`` streams an in-memory batch at the pace of its device timestamps; it serves both
recording replay (``replay_source``) and the simulator's stream (``simulator_source``).
``record_stream`` copies any source into a ``RecordingWriter`` (the headless ``record`` command).
``opened`` lets these sources share the ``async with`` used for BLE sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections import deque
from typing import AsyncGenerator, AsyncIterator, Protocol, TypeVar

import numpy as np

from firmware_interface.errors import UsageError
from firmware_interface.recording import RecordingWriter, Units, read_recording
from firmware_interface.samples import Marker, SampleBatch, SourceInfo, StreamHealth

_RATE_WINDOW_S = 2.0
"""Device time over which ``health.rate_hz`` is measured."""


class Source(Protocol):
    """What the bridge, the pipeline runner and ``record_stream`` consume."""

    @property
    def info(self) -> SourceInfo: ...

    @property
    def health(self) -> StreamHealth: ...

    def __aiter__(self) -> AsyncIterator[SampleBatch]: ...


SourceT = TypeVar("SourceT")


class PacedSource:
    """Yield ``batch`` in chunks of ``chunk_s`` device time, paced by its timestamps.

    ``speed``: 1.0 is real time, 2.0 twice as fast, ``None`` as fast as possible (no sleeping,
    but control returns to the event loop between chunks). A chunk is released once the device
    time it covers has elapsed; every release time is computed from one anchor, so lateness never
    accumulates. Markers travel in the chunk whose span contains ``t_s`` (earlier ones in the
    first chunk, later ones in the last); a chunk with markers but no samples is still yielded.
    With ``loop=True`` the batch repeats forever, time continuing (offset by duration + one
    median interval per pass). ``warnings``: what the user should know about the data (e.g. rows
    a file reader dropped), one line each.
    """

    def __init__(self, batch: SampleBatch, info: SourceInfo, *, speed: float | None = 1.0,
                 chunk_s: float = 0.1, loop: bool = False, warnings: tuple[str, ...] = ()) -> None:
        if len(batch) == 0:
            raise ValueError("PacedSource needs at least one sample")
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number or None, got {speed!r}")
        if not (math.isfinite(chunk_s) and chunk_s > 0):
            raise ValueError(f"chunk_s must be > 0, got {chunk_s!r}")
        self._batch = batch
        self._info = info
        self.warnings = warnings
        self._speed = speed
        self._chunk_s = chunk_s
        self._loop = loop
        self._health = StreamHealth(state="connecting")
        self._iterator: AsyncGenerator[SampleBatch, None] | None = None

    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def health(self) -> StreamHealth:
        return self._health

    def __aiter__(self) -> AsyncIterator[SampleBatch]:
        self._iterator = self._chunks()
        return self._iterator

    async def aclose(self) -> None:
        """Stop the iteration in progress, if any (its health becomes ``ended``)."""
        if self._iterator is not None:
            await self._iterator.aclose()

    def _spans(self) -> list[tuple[int, int, int, tuple[Marker, ...]]]:
        """(span index, first sample, stop sample, markers) for each span with samples or markers.

        Span ``i`` covers device time ``[t0 + i * chunk_s, t0 + (i + 1) * chunk_s)``.
        """
        t = self._batch.t
        # Per sample, not per span: a long gap (1e7 s) costs nothing.
        span_of_sample = np.floor((t - t[0]) / self._chunk_s).astype(np.int64)
        last_span = int(span_of_sample[-1])
        markers_by_span: dict[int, list[Marker]] = {}
        for marker in self._batch.markers:
            span = min(max(math.floor((marker.t_s - t[0]) / self._chunk_s), 0), last_span)
            markers_by_span.setdefault(span, []).append(marker)
        starts = np.flatnonzero(np.diff(span_of_sample, prepend=-1))
        bounds = {int(span_of_sample[start]): (int(start), int(stop))
                  for start, stop in zip(starts, [*starts[1:], len(t)])}
        spans = sorted(set(bounds) | set(markers_by_span))
        return [(i, *bounds.get(i, (int(np.searchsorted(span_of_sample, i)),) * 2),
                 tuple(markers_by_span.get(i, ()))) for i in spans]

    async def _chunks(self) -> AsyncGenerator[SampleBatch, None]:
        spans = self._spans()
        t, acc, gyr = self._batch.t, self._batch.acc, self._batch.gyr
        pass_s = float(t[-1] - t[0]) + (float(np.median(np.diff(t))) if len(t) > 1 else self._chunk_s)
        t0 = float(t[0])
        clock = asyncio.get_running_loop()
        anchor = clock.time()
        recent: deque[tuple[float, int]] = deque()
        samples = 0
        offset_s = 0.0
        self._health = StreamHealth(state="streaming", message=self._message())
        try:
            while True:
                for index, start, stop, markers in spans:
                    chunk = SampleBatch(t[start:stop] + offset_s, acc[start:stop], gyr[start:stop],
                                        _shifted(markers, offset_s) if offset_s else markers)
                    end_s = t0 + offset_s + (index + 1) * self._chunk_s
                    if self._speed is None:
                        await asyncio.sleep(0)
                    else:
                        await asyncio.sleep(max(0.0, anchor + (end_s - t0) / self._speed
                                                - clock.time()))
                    samples += len(chunk)
                    if len(chunk):
                        recent.append((float(chunk.t[-1]), len(chunk)))
                        while recent[-1][0] - recent[0][0] > _RATE_WINDOW_S:
                            recent.popleft()
                    self._health = self._updated_health(chunk, samples, recent)
                    yield chunk
                if not self._loop:
                    break
                offset_s += pass_s
        finally:
            self._health = StreamHealth(state="ended", samples=samples,
                                        gaps=self._health.gaps, last_gap=self._health.last_gap,
                                        message=f"{self._info.device}: ended")

    def _updated_health(self, chunk: SampleBatch, samples: int,
                        recent: deque[tuple[float, int]]) -> StreamHealth:
        gaps = [m for m in chunk.markers if m.kind == "gap"]
        span_s = recent[-1][0] - recent[0][0] if len(recent) > 1 else 0.0
        # Samples after the oldest chunk's last one, over the time they span.
        rate_hz = sum(n for _, n in list(recent)[1:]) / span_s if span_s > 0 else 0.0
        return StreamHealth(state="streaming", samples=samples, rate_hz=rate_hz,
                            gaps=self._health.gaps + len(gaps),
                            last_gap=gaps[-1] if gaps else self._health.last_gap,
                            message=self._message())

    def _message(self) -> str:
        pace = "as fast as possible" if self._speed is None else f"at {self._speed:g}x"
        return f"{self._info.device}: streaming {pace}" + (", looping" if self._loop else "")


def _shifted(markers: tuple[Marker, ...], offset_s: float) -> tuple[Marker, ...]:
    return tuple(Marker(m.t_s + offset_s, m.kind, None if m.end_s is None else m.end_s + offset_s,
                        m.text, m.data) for m in markers)


def replay_source(path: str | os.PathLike[str], speed: float | None = 1.0, *,
                  chunk_s: float = 0.1, loop: bool = False, units: Units = Units()) -> PacedSource:
    """Replay a recording or a generic CSV file, its columns in ``units`` (``RecordingFormatError``
    if unreadable)."""
    recording = read_recording(path, units)
    return PacedSource(recording.batch, recording.info, speed=speed, chunk_s=chunk_s, loop=loop,
                       warnings=recording.warnings)


def simulator_source(scenario: str, *, sample_rate_hz: float = 100.0, seed: int | None = None,
                     speed: float | None = 1.0, chunk_s: float = 0.1, loop: bool = False
                     ) -> PacedSource:
    """Stream a simulated session of the named scenario (``UsageError`` for an unknown name).

    ``seed=None`` draws one; the simulator records the seed used in ``info.extra``.
    """
    from firmware_interface.simulator import SCENARIOS, simulate

    if scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    session = simulate(SCENARIOS[scenario](np.random.default_rng(seed)),
                       sample_rate_hz=sample_rate_hz, seed=seed)
    return PacedSource(session.batch, session.info, speed=speed, chunk_s=chunk_s, loop=loop)


@contextlib.asynccontextmanager
async def opened(source: SourceT) -> AsyncIterator[SourceT]:
    """``async with opened(source) as s`` for sources that need no connection; closes the
    source's iteration (``aclose``) on exit, like the BLE source's own context manager."""
    try:
        yield source
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


async def record_stream(source: Source, writer: RecordingWriter, seconds: float | None) -> int:
    """Append batches from ``source`` to ``writer`` until the source ends or ``seconds`` of
    device time (from the first sample) are written; return the samples written.

    On cancellation (Ctrl-C) everything received so far is already written; the writer is
    flushed and the cancellation propagates (``writer.samples_written`` has the count).
    """
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be > 0 or None, got {seconds!r}")
    written_before = writer.samples_written
    stop_s: float | None = None
    iterator = aiter(source)
    try:
        async for batch in iterator:
            if stop_s is None and seconds is not None and len(batch):
                stop_s = float(batch.t[0]) + seconds
            if stop_s is not None and (batch.t[-1:] >= stop_s).any():
                keep = batch.t < stop_s
                writer.append(SampleBatch(batch.t[keep], batch.acc[keep], batch.gyr[keep],
                                          tuple(m for m in batch.markers if m.t_s < stop_s)))
                break
            writer.append(batch)
    finally:
        # What the link looked like, for `tiltwatch info` (malformed packets leave no other trace).
        # A full disk is already on its way up: a second error here would only hide it.
        with contextlib.suppress(OSError):
            writer.add_metadata("health", source.health.to_json())
            writer.flush()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return writer.samples_written - written_before
