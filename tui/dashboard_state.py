"""What the dashboard shows, accumulated from pipeline outputs. Pure data, no Textual.

The pipeline decides (tilt, status, holds, alerts, reps); this only keeps what the screen needs
between batches: the latest output, the alert on show, the reps so far, and the user's snooze,
mute and calibration requests. Times are stream (device) seconds, so a replay at any speed
snoozes for the same stretch of recording.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Literal

from firmware_interface.samples import SourceInfo, StreamHealth
from fusion.corrections import Pattern
from fusion.detection.events import SquatRep, TiltAlert
from fusion.detection.squat import SetSummary, summarize_sets
from fusion.outputs import PipelineOutput

SNOOZE_S = 15 * 60.0
"""How long one press of the snooze key silences alerts."""
RECENT_REPS = 8
"""Reps the rep table lists (set summaries count them all)."""

StreamState = Literal["starting", "running", "ended", "failed"]
CalibrationKind = Literal["stand", "sit"]


@dataclass(frozen=True)
class ShownAlert:
    """The alert on the panel: its pattern picks the corrections, ``why`` explains it."""

    pattern: Pattern
    why: str
    t_s: float
    ongoing: bool
    """The tilt that raised it is still going on (always False for a butt-wink rep)."""


@dataclass(frozen=True)
class ReplayPace:
    speed: float | None
    """Speed factor; None = as fast as possible."""
    duration_s: float | None


@dataclass(frozen=True, eq=False)
class DashboardState:
    """Everything the widgets render; replaced (never mutated) on each update."""

    info: SourceInfo | None = None
    mode: Literal["live", "replay"] = "live"
    health: StreamHealth = StreamHealth()
    stream: StreamState = "starting"
    stream_message: str = ""
    """Why the stream ended or failed, one line."""
    output: PipelineOutput | None = None
    start_s: float | None = None
    """Stream time of the first sample seen."""
    now_s: float | None = None
    """Stream time of the latest sample."""
    alert: ShownAlert | None = None
    """The latest alert of any kind: what the alert panel shows."""
    tilt_alert: TiltAlert | None = None
    """The latest sustained-tilt alert: what the why line cites while the tilt lasts."""
    alerts_total: int = 0
    reps: tuple[SquatRep, ...] = ()
    muted: bool = False
    snoozed_until_s: float | None = None
    calibrating: CalibrationKind | None = None
    """The neutral the pipeline is waiting for a still window to set, if any."""
    calibration_still_s: float = 0.0
    calibration_note: str = ""
    """The pipeline's last calibration event ("standing neutral set", a rejection)."""
    recording: str | None = None
    """What is being recorded to (a path), or None."""
    recording_stopped: str = ""
    """Why the recording stopped before the session (a full disk), one line; empty while it runs."""
    analysis_behind_s: float = 0.0
    """Stream time received (and recorded) but not analysed yet: the screen lags by this much."""
    replay: ReplayPace | None = None
    """Set when the source tells its replay pace (``speed``, ``duration_s`` attributes)."""

    @property
    def activity(self) -> str:
        if self.output is None or not len(self.output.activity):
            return ""
        return str(self.output.activity[-1])

    @property
    def recent_reps(self) -> tuple[SquatRep, ...]:
        return self.reps[-RECENT_REPS:]

    @property
    def sets(self) -> tuple[SetSummary, ...]:
        return summarize_sets(self.reps)

    @property
    def snoozed(self) -> bool:
        return (self.snoozed_until_s is not None and self.now_s is not None
                and self.now_s < self.snoozed_until_s)

    @property
    def snooze_left_s(self) -> float:
        return max(0.0, self.snoozed_until_s - self.now_s) if self.snoozed else 0.0

    @property
    def alert_visible(self) -> bool:
        return self.alert is not None and not self.muted and not self.snoozed

    def with_outputs(self, outputs: Iterable[PipelineOutput], health: StreamHealth) -> DashboardState:
        """The state after ``outputs`` (in stream order) and the source's latest health."""
        state = replace(self, health=health, stream="running" if self.stream == "starting" else self.stream)
        for output in outputs:
            state = state._with_output(output)
        return state

    def _with_output(self, output: PipelineOutput) -> DashboardState:
        has_samples = len(output.t) > 0
        state = replace(
            self,
            # An output without samples (the end-of-stream one) brings events, not a new reading.
            output=output if has_samples else self.output,
            start_s=self.start_s if self.start_s is not None or not has_samples else float(output.t[0]),
            now_s=float(output.t[-1]) if has_samples else self.now_s,
        )
        alert = state.alert
        if alert is not None and alert.ongoing and has_samples and output.status != alert.pattern:
            alert = replace(alert, ongoing=False)
        for tilt_alert in output.alerts:
            alert = ShownAlert(tilt_alert.direction, tilt_alert.why, tilt_alert.t_s,
                               ongoing=output.status == tilt_alert.direction)
        flagged = [rep for rep in output.reps if rep.butt_wink]
        for rep in flagged:
            alert = ShownAlert("butt_wink", _rep_why(rep), rep.end_s, ongoing=False)
        return replace(
            state,
            calibration_note=output.calibration_event or state.calibration_note,
            alert=alert,
            tilt_alert=output.alerts[-1] if output.alerts else state.tilt_alert,
            alerts_total=state.alerts_total + len(output.alerts) + len(flagged),
            reps=state.reps + tuple(output.reps),
        )

    def with_calibrating(self, kind: CalibrationKind | None, still_s: float) -> DashboardState:
        return replace(self, calibrating=kind, calibration_still_s=still_s)

    def toggled_snooze(self) -> DashboardState:
        if self.snoozed or self.now_s is None:
            return replace(self, snoozed_until_s=None)
        return replace(self, snoozed_until_s=self.now_s + SNOOZE_S)

    def toggled_mute(self) -> DashboardState:
        return replace(self, muted=not self.muted)


def _rep_why(rep: SquatRep) -> str:
    # Only flagged reps get here, and a flag always comes with a measured reversal.
    return (f"butt wink on set {rep.set} rep {rep.index}: the pelvis tucked under by "
            f"{rep.wink_deg:.0f}° at the bottom")
