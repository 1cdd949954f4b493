"""The only async glue between a sample source and the dashboard.

``run_bridge`` iterates the source, feeds every batch to the pipeline, appends it to the
recording (if any) and posts ``PipelineUpdated``. The pipeline sees every sample; only redraws
are coalesced (see ``OutputMailbox``). Errors end the loop with a ``SourceFailed`` message, never
a traceback on the user's terminal.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Protocol

from textual.message import Message

from firmware_interface.errors import TiltwatchError
from firmware_interface.samples import SampleBatch
from firmware_interface.sources import Source
from fusion.outputs import PipelineOutput

from tui.messages import OutputMailbox, PipelineUpdated, SourceEnded, SourceFailed

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
    pipeline: PipelineLike,
    mailbox: OutputMailbox,
    post: Callable[[Message], object],
    *,
    recorder: RecorderLike | None = None,
) -> None:
    """Run source -> pipeline -> recording -> ``mailbox`` and ``post`` until the source ends or fails."""
    try:
        async for batch in source:
            if recorder is not None:
                # Record first: a pipeline failure must not lose raw samples.
                recorder.append(batch)
            mailbox.put(pipeline.update(batch))
            post(PipelineUpdated(source.health))
            # Let the screen draw between batches even when a replay runs as fast as possible.
            await asyncio.sleep(0)
    except TiltwatchError as error:
        post(SourceFailed(str(error), source.health))
    except asyncio.CancelledError:
        raise
    except Exception as error:  # reported on screen and logged with its traceback
        logger.exception("dashboard bridge stopped")
        post(SourceFailed(f"{type(error).__name__}: {error}", source.health))
    else:
        # Close the episodes still open, so the last alert's state is final.
        mailbox.put(pipeline.finish())
        post(SourceEnded(source.health))

