"""The only async glue between a sample source and the dashboard.

``run_bridge`` iterates the source on the event loop, appends each batch to the recording (if
any) and hands it to the ``AnalysisWorker``; it never waits for the analysis, so the link is
read, and every sample recorded, however far the pipeline lags. Source errors end the loop with
a ``SourceFailed`` message, never a traceback on the user's terminal.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Callable, Protocol

from textual.message import Message

from firmware_interface.errors import TiltwatchError
from firmware_interface.samples import SampleBatch
from firmware_interface.sources import Source
from fusion.outputs import PipelineOutput

from tui.analysis_worker import AnalysisWorker
from tui.messages import SourceFailed

logger = logging.getLogger(__name__)


class PipelineLike(Protocol):
    """What the dashboard needs from ``fusion.pipeline.Pipeline``."""

    calibrating: str | None
    calibration_still_s: float
    samples_until_shown: int

    def update(self, batch: SampleBatch) -> PipelineOutput: ...

    def finish(self) -> PipelineOutput: ...

    def request_calibration(self, kind: str = "stand") -> None: ...

    def use_alert_settings(self, settings: Any) -> None: ...


class RecorderLike(Protocol):
    def append(self, batch: SampleBatch) -> None: ...

    def add_metadata(self, key: str, entry: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class ReceivedCount:
    """Samples the bridge received (and recorded) and the device time they span: the loss the
    link panel shows, by the definition ``tiltwatch info`` applies to the recording (samples
    against the nominal rate over the span), so the two agree."""

    def __init__(self) -> None:
        self.samples = 0
        self.first_t_s: float | None = None
        self.last_t_s: float | None = None

    def add(self, batch: SampleBatch) -> None:
        # As the recording keeps them: a sample whose time is not finite, or does not increase,
        # is not one more. A loop over floats: most batches hold one to ten samples.
        last = self.last_t_s
        for t in batch.t.tolist():
            if math.isfinite(t) and (last is None or t > last):
                if self.first_t_s is None:
                    self.first_t_s = t
                last = t
                self.samples += 1
        self.last_t_s = last

    def loss_pct(self, nominal_rate_hz: float) -> float:
        if self.samples < 2 or nominal_rate_hz <= 0:
            return 0.0
        expected = (self.last_t_s - self.first_t_s) * nominal_rate_hz + 1
        return max(0.0, 100.0 * (1.0 - self.samples / expected))


async def run_bridge(
    source: Source,
    worker: AnalysisWorker,
    post: Callable[[Message], object],
    *,
    recorder: RecorderLike | None = None,
    received: ReceivedCount | None = None,
) -> None:
    """Run source -> recording -> ``worker`` until the source ends (then ``worker.end_of_stream``)
    or fails (then ``post(SourceFailed)``)."""
    try:
        async for batch in source:
            # The link's own arrival stamp when it has one (event-loop clock = time.monotonic).
            arrived_at_s = getattr(source, "last_notification_at_s", None) or time.monotonic()
            if recorder is not None:
                recorder.append(batch)  # first: an analysis failure must not lose raw samples
            if received is not None:
                received.add(batch)
            worker.submit(batch, arrived_at_s)
            # A replay as fast as possible must still let the screen and keys in between batches.
            await asyncio.sleep(0)
    except TiltwatchError as error:
        post(SourceFailed(str(error), source.health))
    except asyncio.CancelledError:
        raise
    except Exception as error:  # reported on screen and logged with its traceback
        logger.exception("dashboard bridge stopped")
        post(SourceFailed(f"{type(error).__name__}: {error}", source.health))
    else:
        worker.end_of_stream()
