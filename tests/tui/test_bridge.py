"""The bridge without Textual: every batch reaches the pipeline and the recording; errors become messages."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.errors import RecordingFormatError
from tui.bridge import run_bridge
from tui.messages import OutputMailbox, PipelineUpdated, SourceEnded, SourceFailed


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_every_batch_is_processed_recorded_and_announced(fakes, seed):
    n = int(np.random.default_rng(seed).integers(20, 200))
    batches = fakes.tilt_batches(np.random.default_rng(seed).normal(0, 5, n), chunk=7)
    pipeline, recorder, posted = fakes.pipeline(), fakes.recorder(), []
    mailbox = OutputMailbox()
    await run_bridge(fakes.source(batches), pipeline, mailbox, posted.append, recorder=recorder)
    assert pipeline.batches == len(batches)
    assert recorder.samples == n
    updates = [m for m in posted if isinstance(m, PipelineUpdated)]
    assert len(updates) == len(batches)
    assert isinstance(posted[-1], SourceEnded) and posted[-1].health.state == "ended"
    outputs = mailbox.take()
    assert pipeline.finished == 1 and len(outputs) == len(batches) + 1, "finish() closes open episodes"
    assert np.array_equal(np.concatenate([o.t for o in outputs]), np.concatenate([b.t for b in batches]))


def test_updates_coalesce_but_the_mailbox_keeps_every_output(fakes):
    mailbox = OutputMailbox()
    first, second = (PipelineUpdated(fakes.source([]).health) for _ in range(2))
    assert first.can_replace(second)
    assert not first.can_replace(SourceEnded(fakes.source([]).health))
    mailbox.put(fakes.output_at(1.0))
    mailbox.put(fakes.output_at(2.0))
    assert [o.t[0] for o in mailbox.take()] == [1.0, 2.0]
    assert mailbox.take() == ()


async def test_a_tiltwatch_error_ends_with_its_one_line(fakes):
    error = RecordingFormatError("session.csv", "time does not increase", line=12)
    posted = []
    await run_bridge(fakes.source(fakes.tilt_batches(np.zeros(10)), fail_with=error), fakes.pipeline(),
                     OutputMailbox(), posted.append)
    assert isinstance(posted[-1], SourceFailed)
    assert posted[-1].message == "session.csv, line 12: time does not increase"


async def test_an_unexpected_error_is_reported_with_its_type(fakes):
    class BrokenPipeline(fakes.pipeline):
        def update(self, batch):
            raise ZeroDivisionError("division by zero")

    recorder, posted = fakes.recorder(), []
    await run_bridge(fakes.source(fakes.tilt_batches(np.zeros(10))), BrokenPipeline(), OutputMailbox(),
                     posted.append, recorder=recorder)
    assert [type(m) for m in posted] == [SourceFailed]
    assert posted[0].message == "ZeroDivisionError: division by zero"
    assert recorder.samples == 5, "the batch was recorded before the pipeline failed"
