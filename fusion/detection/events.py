"""What the detectors report: episodes, alerts and squat reps.

Times are device seconds of the stream (the analysis JSON makes them relative to the first
sample); angles are degrees, because these objects go straight to screens and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["anterior", "posterior"]
Activity = Literal["standing", "sitting", "walking", "squatting", "lying", "other"]
ACTIVITIES: tuple[Activity, ...] = ("standing", "sitting", "walking", "squatting", "lying", "other")


@dataclass(frozen=True)
class TiltEpisode:
    """Sustained tilt beyond a threshold. ``end_s`` is None while it is still going on."""

    start_s: float
    """When the tilt first crossed the threshold (not when the hold time ran out)."""
    end_s: float | None
    direction: Direction
    activity: Activity
    peak_deg: float
    threshold_deg: float


@dataclass(frozen=True)
class TiltAlert:
    """An episode that lasted the hold time; carries its 'why'."""

    t_s: float
    direction: Direction
    angle_deg: float
    duration_s: float
    activity: Activity
    threshold_deg: float
    hold_s: float
    episode_start_s: float

    @property
    def why(self) -> str:
        return (f"{self.direction} tilt {self.angle_deg:+.0f}° for {self.duration_s:.0f} s while "
                f"{self.activity} (threshold {self.threshold_deg:+.0f}°, hold {self.hold_s:.0f} s)")


ButtWinkLevel = Literal["none", "mild", "flag", "not_eligible"]


@dataclass(frozen=True)
class SquatRep:
    set: int
    """1-based set number within the session."""
    index: int
    """1-based rep number within its set."""
    start_s: float
    bottom_s: float
    end_s: float
    wink_deg: float
    """Butt-wink reversal: most anterior tilt on the way down minus the lowest tilt in the bottom window."""
    wink_level: ButtWinkLevel
    depth_m: float | None = None
    peak_anterior_deg: float | None = None
    lockout_deg: float | None = None
    descent_s: float | None = None
    bottom_pause_s: float | None = None
    ascent_s: float | None = None
    wink_onset_depth_m: float | None = None
    """How far the pelvis had dropped when the tuck began (the most anterior tilt before the
    reversal): where to stop the descent for now. None without a reversal worth naming."""

    @property
    def butt_wink(self) -> bool:
        return self.wink_level == "flag"
