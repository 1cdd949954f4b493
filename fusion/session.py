"""The analysis of one session as a typed value: what ``fusion.analysis`` returns and every
renderer (JSON, text, the session store, reports) reads.

Times (``*_s``) are seconds from the session's first sample; angles (``*_deg``) are degrees of
pelvic tilt against the standing neutral, anterior positive. Values are kept unrounded; the
renderers round. Event types are the detectors' own (``fusion.detection.events``), shifted to
session time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fusion.activity import ActivitySpan, Transition
from fusion.calibration import StillnessGrade
from fusion.detection.events import SquatRep, TiltAlert, TiltEpisode
from fusion.detection.squat import SetSummary
from fusion.settings import Settings

JUDGED_ZONES = ("neutral", "anterior", "posterior")


@dataclass(frozen=True)
class SessionSource:
    device: str
    profile: str
    sample_rate_hz: float
    """Nominal rate of the source."""
    file: str | None = None
    """The file analysed, when there was one."""
    started_utc: str | None = None
    """ISO 8601 wall-clock time of the first sample, when the recording says (``# started``)."""


@dataclass(frozen=True)
class CalibrationSummary:
    """Where the standing neutral and the left-right axis came from, and how good they are."""

    source: str
    """``"windows"``, ``"best still standing period"`` or ``"none"``."""
    axis: str
    """``"functional"`` (found from movement) or ``"default"`` (assumed mounting)."""
    message: str | None = None
    """With source ``"none"``: what is missing and what to do about it."""
    stand_window_s: tuple[float, float] | None = None
    stillness: StillnessGrade | None = None
    sit_window_s: tuple[float, float] | None = None
    axis_window_s: tuple[float, float] | None = None
    axis_found_at_s: float | None = None
    early_descent_lean: float | None = None
    """How much the pelvis turned backwards in the first half of descents about the axis found
    (−1..1); set when the axis was found functionally."""

    @property
    def calibrated(self) -> bool:
        return self.source != "none"

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.stillness.warnings if self.stillness is not None else ()


@dataclass(frozen=True)
class ZoneTime:
    """Seconds spent in each zone (beyond that activity's thresholds) during one judged activity."""

    activity: str
    neutral_s: float
    anterior_s: float
    posterior_s: float

    @property
    def total_s(self) -> float:
        return self.neutral_s + self.anterior_s + self.posterior_s


@dataclass(frozen=True)
class SessionQuality:
    calibrated: bool
    axis_known: bool
    sensor_slipped: bool
    gaps: int


@dataclass(frozen=True)
class TiltSeries:
    """The tilt on a regular grid from 0 s (the latest sample at or before each grid time; NaN
    where not calibrated)."""

    rate_hz: float
    deg: np.ndarray = field(compare=False, repr=False)

    @property
    def t_s(self) -> np.ndarray:
        return np.arange(len(self.deg)) / self.rate_hz


@dataclass(frozen=True)
class SessionAnalysis:
    source: SessionSource
    duration_s: float
    samples: int
    calibration: CalibrationSummary
    activities: tuple[ActivitySpan, ...]
    transitions: tuple[Transition, ...]
    episodes: tuple[TiltEpisode, ...]
    """Sustained tilt episodes; ``end_s`` is always set (the end of the session at the latest)."""
    alerts: tuple[TiltAlert, ...]
    reps: tuple[SquatRep, ...]
    sets: tuple[SetSummary, ...]
    time_in_zone: tuple[ZoneTime, ...]
    quality: SessionQuality
    settings: Settings
    tilt: TiltSeries

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.calibration.warnings

    @property
    def patterns(self) -> tuple[str, ...]:
        """The patterns found, each with its corrections: sustained ``anterior`` / ``posterior``
        tilt and ``butt_wink``."""
        found = [d for d in ("anterior", "posterior") if any(e.direction == d for e in self.episodes)]
        if any(r.butt_wink for r in self.reps):
            found.append("butt_wink")
        return tuple(found)

    def activity_totals_s(self) -> dict[str, float]:
        """Seconds per activity, most first."""
        totals: dict[str, float] = {}
        for span in self.activities:
            totals[span.activity] = totals.get(span.activity, 0.0) + span.end_s - span.start_s
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    @property
    def kind(self) -> str:
        """``"squat"`` (reps and little sitting), ``"desk"`` (no reps), or ``"mixed"``."""
        if not self.reps:
            return "desk"
        sitting_s = self.activity_totals_s().get("sitting", 0.0)
        return "mixed" if sitting_s >= 600.0 else "squat"
