"""The Textual dashboard: ``make_app`` builds it (CLI and tests), ``run_dashboard`` runs it.

The app owns the ``DashboardState`` reactive that every widget binds to, the key bindings, the
bridge (reading the source and recording, on the event loop) and the analysis thread (the
pipeline). It redraws at a fixed rate from what the analysis produced. It never judges posture:
the pipeline does, the widgets render.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import deque
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Literal

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Header

from firmware_interface.errors import CalibrationRejected, TiltwatchError
from firmware_interface.samples import StreamHealth
from firmware_interface.sources import Source
from tui.analysis_worker import AnalysisWorker
from tui.bridge import PipelineLike, ReceivedCount, RecorderLike, run_bridge
from tui.dashboard_state import CalibrationKind, DashboardState, ReplayPace
from tui.messages import OutputMailbox, SourceEnded, SourceFailed
from tui.recorder import GuardedRecorder
from tui.widgets import AlertPanel, CalibrationStatus, LinkStatus, RepTable, TiltChart, TiltGauge, WhyLine

Mode = Literal["live", "replay"]
CATCH_UP_BATCH_S = 1.0
"""Stream time in one catch-up update at most: the screen still moves in steps of a second when
the analysis lags, and a calibration key waits for one such update at most."""
QUIT_BRIDGE_S = 0.3
"""How long quitting waits for the source's iteration to end."""
QUIT_ANALYSIS_S = 0.4
"""On quit, the backlog is analysed for this long at most (the recording has it all anyway)."""
REDRAW_HZ = 15.0
"""Redraws per second, whatever the sample rate: a fast stream skips frames, never outputs."""


class TiltwatchApp(App[int]):
    """Live or replayed pelvic-tilt dashboard. Exits with 0 (or 1 if the source failed)."""

    CSS_PATH = "tiltwatch.tcss"
    TITLE = "tiltwatch"
    # Screen classes the stylesheet uses to fit 80x24 as well as large terminals.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("c", "calibrate('stand')", "Zero standing", id="calibrate-stand",
                tooltip="Stand in your neutral posture and keep still: that becomes zero tilt"),
        Binding("s", "calibrate('sit')", "Zero sitting", id="calibrate-sit",
                tooltip="Sit in your neutral posture and keep still: that becomes the sitting zero"),
        Binding("z", "snooze", "Snooze 15 min", id="snooze",
                tooltip="Hide alerts for 15 minutes of stream time (press again to resume)"),
        Binding("m", "mute", "Mute", id="mute", tooltip="Hide alerts until pressed again"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Stop, flush the recording and exit"),
        # In a terminal Ctrl+C arrives as a key, not SIGINT: it quits as users expect of a CLI.
        Binding("ctrl+c", "quit", show=False, priority=True),
    ]

    state: reactive[DashboardState] = reactive(DashboardState, always_update=True)

    def __init__(self, source: Source, pipeline: PipelineLike, *, recorder: RecorderLike | None = None,
                 title: str = "tiltwatch", mode: Mode = "live") -> None:
        super().__init__()
        self.source = source
        self.pipeline = pipeline
        self.title = title
        self.sub_title = mode
        self.recorder = GuardedRecorder(recorder) if recorder is not None else None
        self._mailbox = OutputMailbox()
        self._worker = AnalysisWorker(
            pipeline, self._mailbox, max_batch_samples=max(1, round(CATCH_UP_BATCH_S * source.info.sample_rate_hz)),
            on_failure=lambda message: self.post_message(SourceFailed(message, self.source.health)),
            on_finished=lambda: self.post_message(SourceEnded(self.source.health)))
        self._received = ReceivedCount()
        self._recording_stop_shown = False
        self._redraw_timer: Timer | None = None
        self.screen_latencies_s: deque[float] = deque(maxlen=100_000)
        """Host seconds from a batch's arrival to the redraw that showed it (benchmarks)."""
        recording = getattr(recorder, "path", None)
        self.set_reactive(TiltwatchApp.state, DashboardState(
            info=source.info, mode=mode, health=source.health,
            recording=str(recording) if recording is not None else ("on" if recorder else None),
            replay=_replay_pace(source) if mode == "replay" else None,
        ))

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            with Vertical(id="posture"):
                yield TiltGauge(id="gauge").data_bind(TiltwatchApp.state)
                yield CalibrationStatus(id="calibration").data_bind(TiltwatchApp.state)
            yield LinkStatus(id="link").data_bind(TiltwatchApp.state)
        yield WhyLine(id="why").data_bind(TiltwatchApp.state)
        yield TiltChart(id="chart")
        with Horizontal(id="bottom"):
            yield AlertPanel(id="alert").data_bind(TiltwatchApp.state)
            yield RepTable(id="reps").data_bind(TiltwatchApp.state)
        yield Footer()

    def on_mount(self) -> None:
        self._worker.start()
        self._run_bridge()
        # A fixed redraw rate, whatever the sample rate: every output is applied at the next tick.
        self._redraw_timer = self.set_interval(1.0 / REDRAW_HZ, self._redraw)

    @work(exclusive=True, group="bridge", exit_on_error=False)
    async def _run_bridge(self) -> None:
        await run_bridge(self.source, self._worker, self.post_message, recorder=self.recorder,
                         received=self._received)

    def _redraw(self) -> None:
        """Apply every output waiting in the mailbox and the link's health; widgets redraw once."""
        timed = self._mailbox.take_timed()
        health = self._health()
        behind_s = self._worker.behind_s
        stopped = self.recorder.stopped_short if self.recorder is not None else None
        if stopped and not self._recording_stop_shown:
            self._recording_stop_shown = True
            self.notify(self.recorder.stopped_reason, title="Recording", severity="error", timeout=15)
        previous = self.state
        if (not timed and health == previous.health and round(behind_s, 1) == round(previous.analysis_behind_s, 1)
                and (stopped or "") == previous.recording_stopped):
            return
        outputs = [output for output, _ in timed]
        state = previous.with_outputs(outputs, health)
        state = replace(state.with_calibrating(self.pipeline.calibrating, self.pipeline.calibration_still_s),
                        analysis_behind_s=behind_s, recording_stopped=stopped or "")
        for output in outputs:
            if output.calibration_event:
                self.notify(output.calibration_event, title="Calibration")
                self._record_calibration(output.calibration_event)
        if state.alert is not previous.alert and state.alert_visible:
            self.bell()
        if outputs:
            for chart in self.query(TiltChart):  # none while the app is closing
                chart.extend(outputs)
        self.state = state
        now_s = time.monotonic()
        self.screen_latencies_s.extend(now_s - arrived for _, arrived in timed if arrived is not None)

    def _health(self) -> StreamHealth:
        """The source's health, with the loss ``tiltwatch info`` will read from the recording."""
        health = self.source.health
        return replace(health, loss_pct=self._received.loss_pct(self.source.info.sample_rate_hz))

    @on(SourceEnded)
    def _show_end(self, message: SourceEnded) -> None:
        self._redraw()
        self.state = replace(self.state, health=self._health(), stream="ended",
                             stream_message="Source ended: press q to quit.")

    @on(SourceFailed)
    def _show_failure(self, message: SourceFailed) -> None:
        self._redraw()
        self.state = replace(self.state, health=replace(message.health, loss_pct=self._health().loss_pct),
                             stream="failed",
                             stream_message=message.message)
        self.notify(message.message, title="Source stopped", severity="error", timeout=10)

    def action_calibrate(self, kind: CalibrationKind) -> None:
        try:
            self._worker.request_calibration(kind)
        except CalibrationRejected as rejection:
            self.notify(str(rejection), title="Calibration", severity="warning")
            return
        self.state = self.state.with_calibrating(self.pipeline.calibrating, self.pipeline.calibration_still_s)

    def action_snooze(self) -> None:
        self.state = self.state.toggled_snooze()

    def action_mute(self) -> None:
        self.state = self.state.toggled_mute()

    async def action_quit(self) -> None:
        """Stop reading the link, close the recording (all it received is written), exit."""
        await self._stop_bridge()
        self._worker.stop(timeout_s=QUIT_ANALYSIS_S)
        self._redraw_timer.stop()
        self._redraw()  # calibrations made in the last outputs go in the recording too
        self.close_recording()
        self.exit(1 if self.state.stream == "failed" else 0)

    def on_unmount(self) -> None:
        # Also reached when the app stops by other means than ``q``: nothing waits for the analysis.
        self._worker.stop(timeout_s=0)
        self.close_recording()

    async def _stop_bridge(self) -> None:
        """Cancel the bridge; a source that does not end within ``QUIT_BRIDGE_S`` is left to the
        source's own closing (every sample it delivered is recorded already)."""
        for worker in self.workers:
            if worker.group == "bridge":
                worker.cancel()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(QUIT_BRIDGE_S):
                        await asyncio.gather(worker.wait(), return_exceptions=True)

    def _record_calibration(self, note: str) -> None:
        """Keep each calibration in the session metadata, so a replay can use the same neutral."""
        calibration = getattr(self.pipeline, "calibration", None)
        if self.recorder is None or calibration is None:
            return
        sitting = calibration.sit_up_sensor
        self.recorder.add_metadata("calibration", {
            "note": note,
            "made_at_s": calibration.made_at_s,
            "still_window_s": list(calibration.still_window),
            "axis_source": calibration.axis_source,
            "up_sensor": calibration.up_sensor.tolist(),
            "left_axis_sensor": calibration.left_axis_sensor.tolist(),
            "sit_up_sensor": None if sitting is None else sitting.tolist(),
        })

    def close_recording(self) -> None:
        """The link's final health goes in the recording for ``tiltwatch info``, then it closes."""
        if self.recorder is not None:
            self.recorder.close(health=self.source.health.to_json())


def _replay_pace(source: Source) -> ReplayPace | None:
    """The pace a replay source reports, if it reports one (``speed`` and ``duration_s``)."""
    if not hasattr(source, "speed"):
        return None
    return ReplayPace(speed=source.speed, duration_s=getattr(source, "duration_s", None))


def make_app(source: Source, pipeline: PipelineLike, *, recorder: RecorderLike | None = None,
             title: str = "tiltwatch", mode: Mode = "live") -> TiltwatchApp:
    """The one factory for the CLI and the tests."""
    return TiltwatchApp(source, pipeline, recorder=recorder, title=title, mode=mode)


def run_dashboard(open_source: Callable[[], AbstractAsyncContextManager[Source]], *, mode: Mode = "live",
                  record_path: str | None = None, settings: object | None = None,
                  headless: bool = False) -> int:
    """Open the source, build its pipeline (and recording), run the dashboard; the exit code.
    ``headless``: no terminal output (tests and benchmarks; keys only by signal).

    A source that failed while the dashboard ran is raised again as a ``TiltwatchError`` once the
    screen is gone, so the CLI prints its line and exits non-zero.
    """
    from firmware_interface.recording import RecordingWriter
    from fusion.pipeline import Pipeline

    async def run() -> int:
        async with open_source() as source:
            pipeline = Pipeline.for_source(source.info, settings=settings)
            recorder = RecordingWriter(Path(record_path), source.info) if record_path else None
            app = make_app(source, pipeline, recorder=recorder, mode=mode)
            loop = asyncio.get_running_loop()
            # SIGTERM (and a SIGINT sent from outside: in the terminal Ctrl+C is a key) quit like q.
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, lambda: asyncio.ensure_future(app.run_action("quit")))
            try:
                code = await app.run_async(headless=headless)
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
                app.close_recording()  # done already unless the app failed to start
        if app.state.stream == "failed":
            # Repeat the one line on the terminal the dashboard has left.
            raise TiltwatchError(app.state.stream_message)
        return code if code is not None else 0

    return asyncio.run(run())
