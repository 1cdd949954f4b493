"""The only async glue between a sample source and the dashboard.

``run_bridge`` iterates the source on the event loop, appends each batch to the recording (if
any) and hands it to the ``AnalysisWorker``; it never waits for the analysis, so the link is
read, and every sample recorded, however far the pipeline lags. Source errors end the loop with
a ``SourceFailed`` message, never a traceback on the user's terminal.
"""

from __future__ import annotations

import asyncio
import logging
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

    def update(self, batch: SampleBatch) -> PipelineOutput: ...

    def finish(self) -> PipelineOutput: ...

    def request_calibration(self, kind: str = "stand") -> None: ...


class RecorderLike(Protocol):
    def append(self, batch: SampleBatch) -> None: ...

    def add_metadata(self, key: str, entry: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


async def run_bridge(
    source: Source,
    worker: AnalysisWorker,
    post: Callable[[Message], object],
    *,
    recorder: RecorderLike | None = None,
) -> None:
    """Run source -> recording -> ``worker`` until the source ends (then ``worker.end_of_stream``)
    or fails (then ``post(SourceFailed)``)."""
    try:
        async for batch in source:
            # The link's own arrival stamp when it has one (event-loop clock = time.monotonic).
            arrived_at_s = getattr(source, "last_notification_at_s", None) or time.monotonic()
            if recorder is not None:
                recorder.append(batch)  # first: an analysis failure must not lose raw samples
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
