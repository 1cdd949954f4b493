"""What the dashboard shows, accumulated from pipeline outputs. Pure data, no Textual.

The pipeline decides (tilt, status, holds, alerts, reps); this only keeps what the screen needs
between batches: the latest output, the alert on show, the reps so far, and the user's snooze,
mute and calibration requests. Times are stream (device) seconds, so a replay at any speed
snoozes for the same stretch of recording.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Iterable, Literal

import numpy as np

from firmware_interface.samples import SourceInfo, StreamHealth
from fusion.corrections import Pattern
from fusion.detection.events import SquatRep, TiltAlert
from fusion.detection.squat import SetSummary, summarize_sets
from fusion.detection.sustained_tilt import SustainedTiltParams, time_in_zone
from fusion.outputs import PipelineOutput

SNOOZE_STEPS_S = (5 * 60.0, 15 * 60.0, 60 * 60.0)
"""Each press of the snooze key silences alerts for the next of these (then snooze ends)."""


def snooze_steps(first_s: float) -> tuple[float, ...]:
    """The snooze lengths for a first snooze of ``first_s`` (the setting): it, then the default
    steps longer than it."""
    return (first_s, *(step for step in SNOOZE_STEPS_S if step > first_s))
RECENT_REPS = 8
"""Reps the rep table lists at most (set summaries count them all)."""
SET_LINGER_S = 20.0
"""In auto mode the squat view stays this long after the last rep (rest between reps of a set)."""

StreamState = Literal["starting", "running", "ended", "failed"]
CalibrationKind = Literal["stand", "sit"]
ViewMode = Literal["desk", "squat", "auto"]
VIEW_MODES: tuple[ViewMode, ...] = ("desk", "squat", "auto")
Zone = Literal["neutral", "anterior", "posterior"]


@dataclass(frozen=True)
class ShownAlert:
    """The alert on the panel: its pattern picks the corrections, ``why`` explains it."""

    pattern: Pattern
    why: str
    t_s: float
    ongoing: bool
    """The tilt that raised it is still going on (always False for a butt-wink rep)."""
    activity: str = ""
    """What the wearer was doing (the advice for right now depends on it)."""


@dataclass(frozen=True)
class ReplayPace:
    speed: float | None
    """Speed factor; None = as fast as possible."""
    duration_s: float | None
    paused: bool = False
    measured_speed: float | None = None
    """Recording seconds shown per wall second lately (None until measured)."""


@dataclass(frozen=True)
class Thresholds:
    """The active thresholds vs the standing neutral (degrees): the zones the gauge and chart draw."""

    anterior_deg: float
    posterior_deg: float
    activity: str

    def zone(self, tilt_deg: float) -> Zone:
        if tilt_deg > self.anterior_deg:
            return "anterior"
        if tilt_deg < self.posterior_deg:
            return "posterior"
        return "neutral"


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
    alert_patterns: tuple[Pattern, ...] = ()
    """Each pattern alerted this session, in the order first seen (the corrections that apply)."""
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
    view_mode: ViewMode = "auto"
    """desk: posture first; squat: reps first; auto: reps first while a set is under way."""
    tilt_params: SustainedTiltParams | None = None
    """The pipeline's sustained-tilt parameters: the zones drawn and timed (None: not known)."""
    sitting_reference_deg: float | None = None
    """The sitting neutral against the standing one, when a sitting calibration was made."""
    snooze_step: int = -1
    """Index in ``snooze_steps_s`` of the snooze on (-1: none)."""
    snooze_steps_s: tuple[float, ...] = SNOOZE_STEPS_S
    """The snooze lengths each press of the key steps through (from the alert settings)."""
    zone_time_s: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Seconds shown neutral / anterior / posterior per judged activity, this session."""

    @property
    def activity(self) -> str:
        if self.output is None or not len(self.output.activity):
            return ""
        return str(self.output.activity[-1])

    @property
    def recent_reps(self) -> tuple[SquatRep, ...]:
        return self.reps[-RECENT_REPS:]

    @property
    def obliquity_deg(self) -> float:
        if self.output is None or not len(self.output.obliquity_deg):
            return math.nan
        return float(self.output.obliquity_deg[-1])

    @property
    def thresholds(self) -> Thresholds | None:
        """The zones for the current activity (standing's while the activity is not judged)."""
        if self.tilt_params is None:
            return None
        for activity in (self.activity, "standing"):
            limits = self.tilt_params.thresholds_deg(activity, self.sitting_reference_deg) if activity else None
            if limits is not None:
                return Thresholds(limits[0], limits[1], activity)
        return None

    @property
    def in_set(self) -> bool:
        """A squat set is under way: squatting now, or a rep ended moments ago."""
        if self.activity == "squatting":
            return True
        return bool(self.reps) and self.now_s is not None and self.now_s - self.reps[-1].end_s < SET_LINGER_S

    @property
    def squat_focus(self) -> bool:
        """Reps lead the screen, and anterior tilt in a descent is not a warning."""
        return self.view_mode == "squat" or (self.view_mode == "auto" and self.in_set)

    @property
    def position_s(self) -> float:
        """Where the screen is, from the session's first sample (what is shown, not what the
        source has read ahead)."""
        return (self.now_s - self.start_s) if self.now_s is not None and self.start_s is not None else 0.0

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
        outputs = list(outputs)
        state = replace(self, health=health, stream="running" if self.stream == "starting" else self.stream)
        for output in outputs:
            state = state._with_output(output)
        # Zone time once for all the outputs of a redraw: it adds up the same in any batches.
        return replace(state, zone_time_s=_added_zone_time(self.zone_time_s, self.output, outputs, state.tilt_params,
                                                           state.sitting_reference_deg))

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
                               ongoing=output.status == tilt_alert.direction, activity=tilt_alert.activity)
        flagged = [rep for rep in output.reps if rep.butt_wink]
        for rep in flagged:
            alert = ShownAlert("butt_wink", _rep_why(rep), rep.end_s, ongoing=False, activity="squatting")
        return replace(
            state,
            calibration_note=output.calibration_event or state.calibration_note,
            alert=alert,
            tilt_alert=output.alerts[-1] if output.alerts else state.tilt_alert,
            alerts_total=state.alerts_total + len(output.alerts) + len(flagged),
            alert_patterns=_with_new(state.alert_patterns, [a.direction for a in output.alerts]
                                     + ["butt_wink"] * bool(flagged)),
            reps=state.reps + tuple(output.reps),
        )

    def with_calibrating(self, kind: CalibrationKind | None, still_s: float) -> DashboardState:
        return replace(self, calibrating=kind, calibration_still_s=still_s)

    def toggled_snooze(self) -> DashboardState:
        """The next snooze length (by default 5, 15, 60 min from now), then off."""
        step = self.snooze_step + 1 if self.snoozed else 0
        if step >= len(self.snooze_steps_s) or self.now_s is None:
            return replace(self, snoozed_until_s=None, snooze_step=-1)
        return replace(self, snoozed_until_s=self.now_s + self.snooze_steps_s[step], snooze_step=step)

    def with_view_mode(self, mode: ViewMode) -> DashboardState:
        return replace(self, view_mode=mode)

    def toggled_mute(self) -> DashboardState:
        return replace(self, muted=not self.muted)


def _rep_why(rep: SquatRep) -> str:
    # Only flagged reps get here, and a flag always comes with a measured reversal.
    return (f"butt wink on set {rep.set} rep {rep.index}: the pelvis tucked under by "
            f"{rep.wink_deg:.0f}° at the bottom")


def _added_zone_time(totals: Mapping[str, Mapping[str, float]], previous: PipelineOutput | None,
                     outputs: list[PipelineOutput], params: SustainedTiltParams | None,
                     sitting_reference_deg: float | None) -> Mapping[str, Mapping[str, float]]:
    """``totals`` plus the time ``outputs`` (in stream order, after ``previous``) show in each
    zone. Each calibrated output counts from the sample before its first (the last of the output
    before it), so fed in any batches the totals are those of one call over the whole session;
    consecutive calibrated outputs are counted in one call."""
    if params is None:
        return totals
    runs: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    run_open = False
    for output in outputs:
        if not len(output.t):
            continue
        if not output.quality.calibrated:
            run_open = False
        else:
            follows = previous is not None and len(previous.t) > 0 and previous.t[-1] < output.t[0]
            if not (run_open and follows):  # else the run ends with the sample before this output
                runs.append([])
                if follows:
                    runs[-1].append((previous.t[-1:], previous.tilt_deg[-1:], previous.activity[-1:].astype(object)))
            run_open = True
            runs[-1].append((output.t, output.tilt_deg, output.activity.astype(object)))
        previous = output
    if not runs:
        return totals
    merged = {name: dict(zones) for name, zones in totals.items()}
    for run in runs:
        t, tilt, activity = (np.concatenate(arrays) for arrays in zip(*run))
        for name, zones in time_in_zone(t, tilt, activity, params, sitting_reference_deg).items():
            into = merged.setdefault(name, {})
            for zone, seconds in zones.items():
                into[zone] = into.get(zone, 0.0) + seconds
    return merged


def _with_new(patterns: tuple[Pattern, ...], seen: list[Pattern]) -> tuple[Pattern, ...]:
    for pattern in seen:
        if pattern not in patterns:
            patterns = patterns + (pattern,)
    return patterns
