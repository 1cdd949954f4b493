"""The bridge and the analysis thread without Textual: every batch is recorded and analysed, in
order; the analysis never holds up the link; errors become messages."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from firmware_interface.errors import RecordingFormatError
from tui.analysis_worker import AnalysisWorker
from tui.bridge import ReceivedCount, run_bridge
from tui.messages import OutputMailbox, SourceEnded, SourceFailed


def started_worker(pipeline, mailbox, posted, **kwargs) -> tuple[AnalysisWorker, threading.Event]:
    done = threading.Event()
    worker = AnalysisWorker(pipeline, mailbox, on_failure=lambda m: (posted.append(SourceFailed(m, None)), done.set()),
                            on_finished=lambda: (posted.append(SourceEnded(None)), done.set()), **kwargs)
    worker.start()
    return worker, done


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_every_batch_is_recorded_and_analysed_in_order(fakes, seed):
    n = int(np.random.default_rng(seed).integers(20, 200))
    batches = fakes.tilt_batches(np.random.default_rng(seed).normal(0, 5, n), chunk=7)
    pipeline, recorder, posted, mailbox = fakes.pipeline(), fakes.recorder(), [], OutputMailbox()
    worker, done = started_worker(pipeline, mailbox, posted, max_batch_samples=21)
    await run_bridge(fakes.source(batches), worker, posted.append, recorder=recorder)
    assert done.wait(10)
    assert recorder.samples == n
    assert isinstance(posted[-1], SourceEnded)
    outputs = mailbox.take()
    assert pipeline.finished == 1 and len(outputs[-1].t) == 0, "finish() closes open episodes"
    assert np.array_equal(np.concatenate([o.t for o in outputs]), np.concatenate([b.t for b in batches]))
    assert all(len(o.t) <= 21 for o in outputs)


async def test_a_slow_analysis_holds_up_neither_the_link_nor_the_recording(fakes):
    release = threading.Event()

    class SlowPipeline(fakes.pipeline):
        def update(self, batch):
            release.wait(10)
            return super().update(batch)

    batches = fakes.tilt_batches(np.zeros(100), chunk=5)
    pipeline, recorder, posted, mailbox = SlowPipeline(), fakes.recorder(), [], OutputMailbox()
    worker, done = started_worker(pipeline, mailbox, posted)
    await run_bridge(fakes.source(batches), worker, posted.append, recorder=recorder)
    assert recorder.samples == 100, "every sample recorded while the analysis is stuck"
    assert worker.behind_s > 0
    release.set()
    assert done.wait(10)
    assert sum(len(o.t) for o in mailbox.take()) == 100
    assert pipeline.batches < len(batches), "the backlog is caught up in bigger batches"
    assert worker.behind_s == 0


def test_the_mailbox_keeps_every_output_with_its_arrival(fakes):
    mailbox = OutputMailbox()
    mailbox.put(fakes.output_at(1.0), arrived_at_s=10.0, first_arrived_at_s=9.5)
    mailbox.put(fakes.output_at(2.0))
    assert [(o.t[0], newest, oldest) for o, newest, oldest in mailbox.take_timed()] == [(1.0, 10.0, 9.5),
                                                                                    (2.0, None, None)]
    assert mailbox.take() == ()


async def test_a_tiltwatch_error_ends_with_its_one_line(fakes):
    error = RecordingFormatError("session.csv", "time does not increase", line=12)
    posted = []
    worker, _ = started_worker(fakes.pipeline(), OutputMailbox(), posted)
    await run_bridge(fakes.source(fakes.tilt_batches(np.zeros(10)), fail_with=error), worker, posted.append)
    worker.stop()
    assert isinstance(posted[-1], SourceFailed)
    assert posted[-1].message == "session.csv, line 12: time does not increase"


async def test_an_unexpected_analysis_error_is_reported_with_its_type(fakes):
    class BrokenPipeline(fakes.pipeline):
        def update(self, batch):
            raise ZeroDivisionError("division by zero")

    recorder, posted = fakes.recorder(), []
    worker, done = started_worker(BrokenPipeline(), OutputMailbox(), posted)
    await run_bridge(fakes.source(fakes.tilt_batches(np.zeros(10))), worker, posted.append, recorder=recorder)
    assert done.wait(10)
    assert [type(m) for m in posted] == [SourceFailed]
    assert posted[0].message == "ZeroDivisionError: division by zero"
    assert recorder.samples == 10, "every batch was recorded although the pipeline failed"


def test_stop_returns_promptly_and_leaves_the_backlog(fakes):
    release = threading.Event()

    class SlowPipeline(fakes.pipeline):
        def update(self, batch):
            release.wait(0.2)
            return super().update(batch)

    worker, _ = started_worker(SlowPipeline(), OutputMailbox(), [], max_batch_samples=5)
    for batch in fakes.tilt_batches(np.zeros(500), chunk=5):
        worker.submit(batch)
    started_s = time.monotonic()
    worker.stop(timeout_s=0.3)
    while worker.alive and time.monotonic() - started_s < 5:
        time.sleep(0.01)
    assert not worker.alive
    # The update in progress (0.2 s here) may finish after the 0.3 s; a real one takes ms.
    assert time.monotonic() - started_s < 0.3 + 0.2 + 0.5, "margin for a loaded machine"
    assert worker.samples_analysed < 500


def test_the_received_count_keeps_the_samples_a_recording_keeps():
    """The link panel's loss counts what the recording will hold: times that are not finite or
    do not increase are not samples, however the batches were cut."""
    from firmware_interface.samples import SampleBatch

    times = [0.0, 0.01, np.nan, 0.01, 0.02, np.inf, 0.015, 0.05, 0.06]
    for cut in (1, 2, 4, len(times)):
        received = ReceivedCount()
        for i in range(0, len(times), cut):
            t = np.array(times[i:i + cut])
            received.add(SampleBatch(t, np.zeros((len(t), 3)), np.zeros((len(t), 3))))
        assert (received.samples, received.first_t_s, received.last_t_s) == (5, 0.0, 0.06)
        assert received.loss_pct(100.0) == pytest.approx(100 * (1 - 5 / 7))


def test_the_analysis_wakes_only_when_the_pipeline_can_show_samples(fakes):
    """A sensor notifying one sample at a time: the pipeline is updated once a show hop's samples
    wait (an update before that shows nothing), and the end of the stream takes the rest."""
    class HopPipeline(fakes.pipeline):
        samples_until_shown = 5

        def __init__(self):
            super().__init__()
            self.sizes = []

        def update(self, batch):
            self.sizes.append(len(batch))
            return super().update(batch)

    pipeline, posted, mailbox = HopPipeline(), [], OutputMailbox()
    worker, done = started_worker(pipeline, mailbox, posted)
    for batch in fakes.tilt_batches(np.zeros(12), chunk=1):
        worker.submit(batch)
    worker.end_of_stream()
    assert done.wait(10)
    assert sum(pipeline.sizes) == 12
    assert all(size >= 5 for size in pipeline.sizes[:-1]) and len(pipeline.sizes) <= 3


def test_each_output_carries_when_its_newest_and_oldest_samples_arrived(fakes):
    """The pipeline holds samples back until its show hop fills: an output's samples may have
    arrived in several batches, some of them before the previous output."""
    class HopPipeline(fakes.pipeline):
        """Shows samples in whole hops of 4, as the real pipeline does."""

        def __init__(self):
            super().__init__()
            self._held = []

        @property
        def samples_until_shown(self):
            return 4 - sum(len(b) for b in self._held)

        def update(self, batch):
            joined = SampleBatch.concatenate([*self._held, batch])
            shown = len(joined) // 4 * 4
            rest = joined.t[shown:]
            self._held = [SampleBatch(rest, joined.acc[shown:], joined.gyr[shown:])] if len(rest) else []
            return super().update(SampleBatch(joined.t[:shown], joined.acc[:shown], joined.gyr[:shown]))

    from firmware_interface.samples import SampleBatch

    pipeline, posted, mailbox = HopPipeline(), [], OutputMailbox()
    worker, done = started_worker(pipeline, mailbox, posted)
    for arrived_at_s, batch in zip((10.0, 11.0, 12.0), fakes.tilt_batches(np.zeros(9), chunk=3)):
        worker.submit(batch, arrived_at_s)
        waited_s = time.monotonic()
        while worker.backlog_batches and time.monotonic() - waited_s < 10:  # one batch per update
            time.sleep(0.001)
    worker.end_of_stream()
    assert done.wait(10)
    timed = [(len(o.t), newest, oldest) for o, newest, oldest in mailbox.take_timed() if len(o.t)]
    assert timed == [(4, 11.0, 10.0), (4, 12.0, 11.0)]
