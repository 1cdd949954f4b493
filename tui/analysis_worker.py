"""The pipeline on its own thread, so the screen and the link never wait for the analysis.

The bridge hands every batch to ``AnalysisWorker.submit`` (after recording it) and returns at
once: nothing is dropped, the backlog just grows. The thread wakes once enough samples wait for
the pipeline to show some (``samples_until_shown``: a sensor notifying one sample at a time would
otherwise wake it, and the redraw after it, for outputs that show nothing). It takes every batch waiting,
up to ``max_batch_samples``, as one batch (the pipeline gives the same result for any batch
sizes, and bigger batches cost less per sample), so a worker that fell behind catches up. The
app reads ``behind_s`` to say so. Outputs go to the ``OutputMailbox`` the app drains at each
redraw, each with the host times the newest and the oldest of the samples it shows arrived
(sample-to-screen latency; the pipeline may hold samples back until its show hop fills); one that
shows samples calls ``on_output`` (the app redraws then).

A thread rather than a process: the pipeline object stays where the keys can reach it
(calibration requests, ``calibrating``), and Python switches threads every few milliseconds
(``sys.getswitchinterval``), so the UI thread answers keys while an update runs.
``benchmarks/live_cost.py`` measures the key latency this gives under load.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Callable

from firmware_interface.errors import TiltwatchError
from firmware_interface.samples import SampleBatch

from tui.messages import OutputMailbox

if TYPE_CHECKING:
    from tui.bridge import PipelineLike

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_SAMPLES = 200
"""Samples in one catch-up update at most (1 s at 200 Hz): bounds how long a calibration key
waits for the update in progress."""


class AnalysisWorker:
    """Feeds submitted batches through ``pipeline`` on a daemon thread, in order, all of them."""

    def __init__(self, pipeline: PipelineLike, mailbox: OutputMailbox, *,
                 on_output: Callable[[], None] = lambda: None,
                 on_failure: Callable[[str], None] = lambda message: None,
                 on_finished: Callable[[], None] = lambda: None,
                 max_batch_samples: int = DEFAULT_MAX_BATCH_SAMPLES) -> None:
        if max_batch_samples < 1:
            raise ValueError("max_batch_samples must be >= 1")
        self.pipeline = pipeline
        self._mailbox = mailbox
        self._on_output = on_output
        self._on_failure = on_failure
        self._on_finished = on_finished
        self._max_batch_samples = max_batch_samples
        self._waiting: deque[tuple[SampleBatch, float]] = deque()
        self._waiting_samples = 0
        self._arrivals: deque[list] = deque()
        """[samples, host arrival time] of the samples submitted and not shown yet, oldest first."""
        self._wake_samples = 1  # samples the pipeline needs before its next update shows any
        self._wake = threading.Condition()
        self._pipeline_lock = threading.Lock()
        self._ending = False
        self._stopping = False
        self._stop_by_s = 0.0
        self._failed = False
        self._submitted_t_s: float | None = None
        self._analysed_t_s: float | None = None
        self.samples_analysed = 0
        self.update_cpu_s = 0.0
        """CPU time spent in ``pipeline.update`` (diagnostics, benchmarks)."""
        self._thread = threading.Thread(target=self._run, name="tiltwatch-analysis", daemon=True)

    # -- the bridge's side (event-loop thread) ---------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, batch: SampleBatch, arrived_at_s: float | None = None) -> None:
        """Queue ``batch`` (arrived at host time ``arrived_at_s``, ``time.monotonic`` clock)."""
        arrived_at_s = time.monotonic() if arrived_at_s is None else arrived_at_s
        with self._wake:
            self._waiting.append((batch, arrived_at_s))
            self._waiting_samples += len(batch)
            if len(batch):
                self._arrivals.append([len(batch), arrived_at_s])
                if self._analysed_t_s is None:  # nothing analysed yet: behind since the first sample
                    self._analysed_t_s = float(batch.t[0])
                self._submitted_t_s = float(batch.t[-1])
            if self._waiting_samples >= self._wake_samples:
                self._wake.notify()

    def end_of_stream(self) -> None:
        """The source ended: analyse what waits, ``finish()`` the pipeline, call ``on_finished``."""
        with self._wake:
            self._ending = True
            self._wake.notify()

    def stop(self, timeout_s: float = 0.5) -> None:
        """Quit: analyse what waits for at most ``timeout_s``, then stop after the update in
        progress; any backlog left is in the recording already."""
        with self._wake:
            self._stopping = True
            self._stop_by_s = time.monotonic() + timeout_s
            self._wake.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    # -- the keys' side (UI thread) --------------------------------------------------------------

    def request_calibration(self, kind: str) -> None:
        """Forwarded to the pipeline between two updates (``CalibrationRejected`` passes through)."""
        with self._pipeline_lock:
            self.pipeline.request_calibration(kind=kind)

    def use_alert_settings(self, settings) -> None:
        """New thresholds and hold times (the settings screen), between two updates."""
        with self._pipeline_lock:
            self.pipeline.use_alert_settings(settings)

    @property
    def behind_s(self) -> float:
        """Device time received but not analysed yet."""
        submitted, analysed = self._submitted_t_s, self._analysed_t_s
        return 0.0 if submitted is None or analysed is None else max(0.0, submitted - analysed)

    @property
    def backlog_batches(self) -> int:
        return len(self._waiting)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the worker thread -----------------------------------------------------------------------

    def _take(self) -> tuple[list[tuple[SampleBatch, float]], bool] | None:
        """The next batches to analyse and whether the stream then ends; None to stop now."""
        with self._wake:
            while not (self._waiting_samples >= self._wake_samples or self._ending or self._stopping):
                self._wake.wait()
            if self._stopping and (not self._waiting or time.monotonic() >= self._stop_by_s):
                return None
            taken, samples = [], 0
            while self._waiting and (not taken or samples + len(self._waiting[0][0]) <= self._max_batch_samples):
                item = self._waiting.popleft()
                taken.append(item)
                samples += len(item[0])
            self._waiting_samples -= samples
            return taken, self._ending and not self._waiting

    def _run(self) -> None:
        try:
            while (work := self._take()) is not None:
                taken, last = work
                if taken:
                    batch = SampleBatch.concatenate(b for b, _ in taken)
                    started_cpu_s = time.thread_time()
                    with self._pipeline_lock:
                        output = self.pipeline.update(batch)
                    self.update_cpu_s += time.thread_time() - started_cpu_s
                    self.samples_analysed += len(batch)
                    if len(batch):
                        self._analysed_t_s = float(batch.t[-1])
                    self._mailbox.put(output, *self._shown_arrivals(len(output.t)))
                    if len(output.t):
                        self._on_output()
                    with self._wake:
                        self._wake_samples = self.pipeline.samples_until_shown
                if last:
                    with self._pipeline_lock:
                        output = self.pipeline.finish()
                    self._mailbox.put(output, *self._shown_arrivals(len(output.t)))
                    self._on_finished()
                    return
        except TiltwatchError as error:
            self._fail(str(error))
        except Exception as error:  # reported on screen and logged with its traceback
            logger.exception("analysis stopped")
            self._fail(f"{type(error).__name__}: {error}")

    def _shown_arrivals(self, shown: int) -> tuple[float | None, float | None]:
        """When the newest and the oldest of the next ``shown`` samples arrived (they leave the
        queue of arrivals); None for an output that shows no samples."""
        newest = oldest = None
        with self._wake:
            while shown and self._arrivals:
                entry = self._arrivals[0]
                oldest = entry[1] if oldest is None else oldest
                newest = entry[1]
                used = min(shown, entry[0])
                entry[0] -= used
                shown -= used
                if entry[0] == 0:
                    self._arrivals.popleft()
        return newest, oldest

    def _fail(self, message: str) -> None:
        self._failed = True
        self._on_failure(message)
