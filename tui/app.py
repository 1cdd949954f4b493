"""The Textual dashboard: ``make_app`` builds it (CLI and tests); ``tui.dashboard.run_dashboard`` runs it.

The app owns the ``DashboardState`` reactive that every widget binds to, the key bindings, the
bridge (reading the source and recording, on the event loop) and the analysis thread (the
pipeline). It redraws as the analysis shows new samples, once per show hop (at most
``MAX_REDRAW_HZ``). It never judges posture: the pipeline does, the widgets render.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Literal, TypeVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header

from firmware_interface.errors import CalibrationRejected
from firmware_interface.samples import StreamHealth
from firmware_interface.sources import Source
from fusion.settings import AlertParams
from tui.analysis_worker import AnalysisWorker
from tui.bridge import PipelineLike, ReceivedCount, RecorderLike, run_bridge
from tui.dashboard_state import VIEW_MODES, CalibrationKind, DashboardState, ViewMode, snooze_steps
from tui.desktop_notify import DesktopNotifier
from tui.messages import OutputMailbox, OutputsWaiting, SourceEnded, SourceFailed
from tui.recorder import GuardedRecorder
from tui.replay_source import ControlledReplay
from tui.screens.actions import SCREEN_BINDINGS, ScreenActions
from tui.screens.calibration import CalibrationScreen
from tui.screens.replay import (REPLAY_ACTIONS, REPLAY_BINDINGS, ReplayActions, ReplayEvents, ShownPace,
                               find_replay_events, replay_pace)
from tui.screens.summary import SummaryScreen
from tui.widgets import (AlertPanel, CalibrationStatus, LinkStatus, RepCounter, RepTable, TiltChart, TiltGauge,
                         WhyLine)
from tui.widgets._state_view import StateView
from tui.widgets.replay_bar import ReplayBar

StateViewWidget = TypeVar("StateViewWidget", bound=StateView)

Mode = Literal["live", "replay"]
CATCH_UP_BATCH_S = 1.0
"""Stream time in one catch-up update at most: the screen still moves in steps of a second when
the analysis lags, and a calibration key waits for one such update at most."""
QUIT_BRIDGE_S = 0.3
"""How long quitting waits for the source's iteration to end."""
QUIT_ANALYSIS_S = 0.4
"""On quit, the backlog is analysed for this long at most (the recording has it all anyway)."""
MAX_REDRAW_HZ = 20.0
"""The screen is redrawn when the analysis shows new samples: once per show hop of samples
(``Pipeline.SHOW_HOP_S``, 0.06 s: about 17 redraws a second in real time), so a sample reaches the
screen a show hop after it arrived at most, not a hop and a frame. Never more often than this,
whatever the sample rate or the pace of a replay: a fast stream skips frames, never outputs."""
IDLE_REDRAW_HZ = 4.0
"""... and at least this often while no samples come (the link's health, a stall, a paused replay)."""


class TiltwatchApp(ScreenActions, ReplayActions, App[int]):
    """Live or replayed pelvic-tilt dashboard. Exits with 0 (or 1 if the source failed)."""

    CSS_PATH = "tiltwatch.tcss"
    TITLE = "tiltwatch"
    # Screen classes the stylesheet uses to fit 80x24 as well as large terminals.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (160, "-huge")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall"), (50, "-towering")]
    BINDINGS = [
        Binding("c", "calibrate", "Calibrate", id="calibrate",
                tooltip="Guided calibration: stand still (then optionally sit tall and a few hip hinges)"),
        Binding("s", "quick_calibrate('sit')", "Zero sitting", show=False, id="calibrate-sit",
                tooltip="Sit in your neutral posture and keep still: that becomes the sitting zero"),
        Binding("v", "cycle_view", "View", id="view", tooltip="Desk, squat or auto (squat view while a set is on)"),
        Binding("w", "toggle_window", "1/10 min", show=False, id="chart-window", tooltip="Chart the last minute or ten"),
        Binding("z", "snooze", "Snooze", id="snooze", tooltip="Hide alerts for 5, 15, then 60 minutes; then resume"),
        Binding("x", "toggle_programme", "Programme", show=False, id="programme",
                tooltip="The longer programme (strengthen, stretch, routine) for the pattern measured"),
        Binding("m", "mute", "Mute", show=False, id="mute", tooltip="Hide alerts until pressed again"),
        *SCREEN_BINDINGS,
        Binding("q", "quit", "Quit", id="quit", tooltip="Stop, flush the recording, show the summary"),
        # In a terminal Ctrl+C arrives as a key, not SIGINT: it quits as users expect of a CLI.
        Binding("ctrl+c", "quit_now", show=False, priority=True),
        *REPLAY_BINDINGS,
    ]

    # No repaint of its own: the views it is handed to redraw what changed (a repaint here would
    # redraw the whole screen at every update).
    state: reactive[DashboardState] = reactive(DashboardState, always_update=True, repaint=False)

    def __init__(self, source: Source, pipeline: PipelineLike, *, recorder: RecorderLike | None = None,
                 title: str = "tiltwatch", mode: Mode = "live", view: ViewMode = "auto",
                 pipeline_factory: Callable[[], PipelineLike] | None = None, bell: bool = False,
                 desktop_notifications: bool = True, snooze_s: float = AlertParams.snooze_s,
                 config_path: Path | str | None = None, data_dir: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.pipeline = pipeline
        self.title = title
        self.sub_title = mode
        self.recorder = GuardedRecorder(recorder) if recorder is not None else None
        self.bell_on_alert = bell
        self.desktop = DesktopNotifier(enabled=desktop_notifications)
        self.replay_events: ReplayEvents | None = None
        self.config_path = config_path
        self._settings_edited = False
        self.data_dir = data_dir
        """The session store the history screen reads (None: the default one)."""
        """The settings file the settings screen saves to (None: the default one)."""
        self._pipeline_factory = pipeline_factory
        self._mailbox = OutputMailbox()
        self._worker = self._new_worker()
        self._received = ReceivedCount()
        self._pace = ShownPace()
        self._recording_stop_shown = False
        self._session_closed = False
        self._last_redraw_s = -math.inf
        self._pending_redraw: Timer | None = None
        self._idle_redraw_timer: Timer | None = None
        self._redraws_stopped = False
        self._views: list[StateView] = []
        self.screen_latencies_s: deque[float] = deque(maxlen=100_000)
        """Host seconds from the arrival of the newest sample an output shows to the redraw that
        showed it: how far the screen lags the sensor (benchmarks)."""
        self.oldest_sample_latencies_s: deque[float] = deque(maxlen=100_000)
        """The same from its oldest sample: the longest any sample waited to be drawn."""
        recording = getattr(recorder, "path", None)
        self.set_reactive(TiltwatchApp.state, DashboardState(
            info=source.info, mode=mode, health=source.health,
            recording=str(recording) if recording is not None else ("on" if recorder else None),
            replay=replay_pace(source) if mode == "replay" else None, view_mode=view,
            tilt_params=_tilt_params(pipeline),
            snooze_steps_s=snooze_steps(snooze_s),
        ))

    def _new_worker(self) -> AnalysisWorker:
        if isinstance(self.source, ControlledReplay):
            self.source.backlog_s = lambda: self._worker.behind_s
        return AnalysisWorker(
            self.pipeline, self._mailbox,
            max_batch_samples=max(1, round(CATCH_UP_BATCH_S * self.source.info.sample_rate_hz)),
            on_output=lambda: self.post_message(OutputsWaiting()),
            on_failure=lambda message: self.post_message(SourceFailed(message, self.source.health)),
            on_finished=lambda: self.post_message(SourceEnded(self.source.health)))

    def compose(self) -> ComposeResult:
        view = self._state_view
        yield Header()
        with Horizontal(id="top"):
            with Vertical(id="posture"):
                yield view(TiltGauge(id="gauge"))
                yield view(CalibrationStatus(id="calibration"))
            yield view(LinkStatus(id="link"))
        yield view(ReplayBar(id="replay"))
        yield view(WhyLine(id="why"))
        with Horizontal(id="squat"):
            yield view(RepCounter(id="rep-count"))
            yield view(RepTable(id="set-reps"))
        yield TiltChart(id="chart")
        with Horizontal(id="bottom"):
            yield view(AlertPanel(id="alert"))
            yield view(RepTable(id="reps"))
        yield Footer()

    def _state_view(self, view: StateViewWidget) -> StateViewWidget:
        """``view`` shows every state the app takes, from the one current once it is mounted."""
        self._views.append(view)
        view.call_later(lambda: view.start_showing(self.state))
        return view

    def watch_state(self, state: DashboardState) -> None:
        for view in self._views:
            view.show_state(state)

    def on_mount(self) -> None:
        self._chart = self.query_one(TiltChart)  # fed at every redraw: looked up once
        self._worker.start()
        self._run_bridge()
        self._apply_view(self.state)
        self._idle_redraw_timer = self.set_interval(1.0 / IDLE_REDRAW_HZ, self._redraw_if_idle)
        if self.replay is not None and self._pipeline_factory is not None:
            self._find_replay_events()

    @work(exclusive=True, group="bridge", exit_on_error=False)
    async def _run_bridge(self) -> None:
        await run_bridge(self.source, self._worker, self.post_message, recorder=self.recorder,
                         received=self._received)

    @work(thread=True, exclusive=True, group="replay-events", exit_on_error=False)
    def _find_replay_events(self) -> None:
        events = find_replay_events(self.replay, self._pipeline_factory)
        self.call_from_thread(setattr, self, "replay_events", events)

    @on(OutputsWaiting)
    def _request_redraw(self) -> None:
        """Redraw now, or once ``MAX_REDRAW_HZ`` allows (one redraw waits at most)."""
        if self._redraws_stopped or self._pending_redraw is not None:
            return
        wait_s = self._last_redraw_s + 1.0 / MAX_REDRAW_HZ - time.monotonic()
        if wait_s <= 0:
            self._redraw()
        else:
            self._pending_redraw = self.set_timer(wait_s, self._redraw)

    def _redraw_if_idle(self) -> None:
        if time.monotonic() - self._last_redraw_s >= 1.0 / IDLE_REDRAW_HZ:
            self._request_redraw()

    def _redraw(self) -> None:
        """Apply every output waiting in the mailbox and the link's health; widgets redraw once."""
        self._last_redraw_s = time.monotonic()
        if self._pending_redraw is not None:
            self._pending_redraw.stop()
            self._pending_redraw = None
        timed = self._mailbox.take_timed()
        health = self._health()
        behind_s = self._worker.behind_s
        stopped = self.recorder.stopped_short if self.recorder is not None else None
        if stopped and not self._recording_stop_shown:
            self._recording_stop_shown = True
            self.notify(self.recorder.stopped_reason, title="Recording", severity="error", timeout=15)
        previous = self.state
        replay = replay_pace(self.source, self._pace.speed(previous.now_s)) if previous.mode == "replay" else None
        if (not timed and health == previous.health and round(behind_s, 1) == round(previous.analysis_behind_s, 1)
                and (stopped or "") == previous.recording_stopped and replay == previous.replay):
            return
        outputs = [output for output, _, _ in timed]
        state = previous.with_outputs(outputs, health)
        state = replace(state.with_calibrating(self.pipeline.calibrating, self.pipeline.calibration_still_s),
                        analysis_behind_s=behind_s, recording_stopped=stopped or "", replay=replay,
                        sitting_reference_deg=_sitting_reference_deg(self.pipeline))
        for output in outputs:
            if output.calibration_event:
                self.notify(output.calibration_event, title="Calibration")
                self._record_calibration(output.calibration_event)
        self._prompt_on_changes(previous, state)
        if outputs and self._chart.is_attached:  # not while the app is closing
            self._chart.extend(outputs)
            self._chart.thresholds = state.thresholds
        if state.squat_focus != previous.squat_focus or bool(state.reps) != bool(previous.reps):
            self._apply_view(state)
        self.state = state
        now_s = time.monotonic()
        self.screen_latencies_s.extend(now_s - newest for _, newest, _ in timed if newest is not None)
        self.oldest_sample_latencies_s.extend(now_s - oldest for _, _, oldest in timed if oldest is not None)

    def _prompt_on_changes(self, previous: DashboardState, state: DashboardState) -> None:
        """A new alert reaches the wearer (toast, desktop, bell if asked); a slipped sensor asks
        for a re-calibration once per slip."""
        if state.alert is not previous.alert and state.alert_visible:
            title = "Butt wink" if state.alert.pattern == "butt_wink" else f"{state.alert.pattern.capitalize()} tilt"
            self.desktop.send(self, title, state.alert.why)
            if self.bell_on_alert:
                self.bell()
        slipped = state.output is not None and state.output.quality.sensor_slipped
        was_slipped = previous.output is not None and previous.output.quality.sensor_slipped
        if slipped and not was_slipped:
            self.notify("The sensor seems to have slipped (the zero moved while you kept still): press c to "
                        "re-calibrate.", title="Calibration", severity="warning", timeout=20)

    def _apply_view(self, state: DashboardState) -> None:
        self.screen.set_class(state.squat_focus, "-squat-focus")
        self.screen.set_class(not state.reps, "-no-reps")  # the alert panel takes the row

    def _health(self) -> StreamHealth:
        """The source's health, with the loss ``tiltwatch info`` will read from the recording."""
        health = self.source.health
        return replace(health, loss_pct=self._received.loss_pct(self.source.info.sample_rate_hz))

    def refresh_replay(self) -> None:
        self._pace = ShownPace()
        self.state = replace(self.state, replay=replay_pace(self.source))

    def restart_session(self, position_s: float) -> None:
        """Seek backwards: a fresh pipeline takes the recording again from its first sample,
        fast-forwarded to ``position_s``; the screen starts over from what it produces."""
        if self._pipeline_factory is None or self.replay is None:
            self.notify("This replay cannot go backwards.", title="Replay", severity="warning")
            return
        for worker in self.workers:
            if worker.group == "bridge":
                worker.cancel()
        self._worker.stop(timeout_s=0)
        edited = getattr(self.pipeline, "settings", None) if self._settings_edited else None
        self.pipeline = self._pipeline_factory()
        if edited is not None:  # what the settings screen saved holds for the replay's restart
            self.pipeline.use_alert_settings(edited)
        self._mailbox = OutputMailbox()
        self._worker = self._new_worker()
        self._received = ReceivedCount()
        self._pace = ShownPace()
        self.replay.rewind_to(position_s)
        previous = self.state
        self.state = DashboardState(info=previous.info, mode=previous.mode, health=self._health(),
                                    replay=replay_pace(self.source), view_mode=previous.view_mode,
                                    tilt_params=previous.tilt_params, muted=previous.muted,
                                    snooze_steps_s=previous.snooze_steps_s)
        for chart in self.query(TiltChart):
            chart.clear()
        self._worker.start()
        self._run_bridge()

    @on(SourceEnded)
    def _show_end(self, message: SourceEnded) -> None:
        self._redraw()
        self.state = replace(self.state, health=self._health(), stream="ended",
                             stream_message="Source ended: press q to quit.")
        if self.state.mode == "replay" and not isinstance(self.screen, SummaryScreen):
            # The recording is over: its summary (esc returns to the dashboard to look back).
            self.push_screen(SummaryScreen(self.state, closing=False))

    @on(SourceFailed)
    def _show_failure(self, message: SourceFailed) -> None:
        self._redraw()
        self.state = replace(self.state, health=replace(message.health, loss_pct=self._health().loss_pct),
                             stream="failed",
                             stream_message=message.message)
        self.notify(message.message, title="Source stopped", severity="error", timeout=10)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS:
            return self.replay is not None
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Calibrate", "Guided calibration: stand still, sit tall, hip hinges", self.action_calibrate)
        for mode in VIEW_MODES:
            yield SystemCommand(f"View: {mode}", f"Show the {mode} view", lambda m=mode: self.action_view(m))
        yield SystemCommand("Chart: 1 or 10 minutes", "Switch the chart's window", self.action_toggle_window)
        yield SystemCommand("Snooze alerts", "5, then 15, then 60 minutes", self.action_snooze)
        yield SystemCommand("Programme", "Show or hide the longer programme for the alert",
                            self.action_toggle_programme)
        yield from self.screen_commands()

    def action_calibrate(self) -> None:
        self.push_screen(CalibrationScreen())

    def action_quick_calibrate(self, kind: CalibrationKind) -> None:
        self.request_calibration(kind)

    def request_calibration(self, kind: CalibrationKind) -> bool:
        """Ask the pipeline for a neutral; False (and a notification) if it refuses."""
        try:
            self._worker.request_calibration(kind)
        except CalibrationRejected as rejection:
            self.notify(str(rejection), title="Calibration", severity="warning")
            return False
        self.state = self.state.with_calibrating(self.pipeline.calibrating, self.pipeline.calibration_still_s)
        return True

    def action_cycle_view(self) -> None:
        self.action_view(VIEW_MODES[(VIEW_MODES.index(self.state.view_mode) + 1) % len(VIEW_MODES)])

    def action_view(self, mode: ViewMode) -> None:
        self.state = self.state.with_view_mode(mode)
        self._apply_view(self.state)
        self.notify(f"{mode} view", timeout=2)

    def action_toggle_window(self) -> None:
        self.query_one(TiltChart).toggle_window()

    def action_toggle_programme(self) -> None:
        panel = self.query_one(AlertPanel)
        panel.programme_shown = not panel.programme_shown
        if panel.programme_shown:  # on a small terminal it starts below the fold: bring it up
            panel.call_after_refresh(panel.scroll_to_widget, panel.query_one("#alert-corrections"), top=True)

    def action_snooze(self) -> None:
        self.state = self.state.toggled_snooze()

    def action_mute(self) -> None:
        self.state = self.state.toggled_mute()

    async def action_quit(self) -> None:
        """Stop reading the link, close the recording, then show the session's summary (a key
        there leaves); from the summary, quit."""
        if self._session_closed:
            self.exit(self._exit_code())
            return
        await self.close_session()
        await self.push_screen(SummaryScreen(self.state, closing=True))

    async def action_quit_now(self) -> None:
        """Quit without the summary (SIGTERM)."""
        await self.close_session()
        self.exit(self._exit_code())

    def _exit_code(self) -> int:
        return 1 if self.state.stream == "failed" else 0

    async def close_session(self) -> None:
        """Stop the bridge and the analysis, take the last outputs, close the recording."""
        if self._session_closed:
            return
        self._session_closed = True
        await self._stop_bridge()
        self._worker.stop(timeout_s=QUIT_ANALYSIS_S)
        self._stop_redraws()
        self._redraw()  # calibrations made in the last outputs go in the recording too
        self.close_recording()

    def _stop_redraws(self) -> None:
        self._redraws_stopped = True
        for timer in (self._idle_redraw_timer, self._pending_redraw):
            if timer is not None:
                timer.stop()

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
        if self.recorder is not None and calibration is not None:
            self.recorder.add_calibration(note, calibration)

    def close_recording(self) -> None:
        """The link's final health goes in the recording for ``tiltwatch info``, then it closes."""
        if self.recorder is not None:
            self.recorder.close(health=self.source.health.to_json())


def _tilt_params(pipeline: PipelineLike):
    """The pipeline's sustained-tilt parameters (None for a pipeline without settings)."""
    settings = getattr(pipeline, "settings", None)
    return getattr(settings, "sustained_tilt", None)


def _sitting_reference_deg(pipeline: PipelineLike) -> float | None:
    reference = getattr(type(pipeline), "sitting_reference_deg", None)
    return reference(getattr(pipeline, "calibration", None)) if reference is not None else None


def make_app(source: Source, pipeline: PipelineLike, **options) -> TiltwatchApp:
    """The one factory for the CLI and the tests (``options``: ``TiltwatchApp``'s keywords)."""
    return TiltwatchApp(source, pipeline, **options)
