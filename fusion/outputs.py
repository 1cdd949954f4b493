"""What the pipeline reports per batch: the types the dashboard, the detectors and the analysis share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # annotations only: the detectors import this module
    from fusion.detection.events import Direction, SquatRep, TiltAlert, TiltEpisode

TiltStatus = Literal["uncalibrated", "neutral", "anterior", "posterior", "paused"]
"""``paused``: no posture judgement right now (walking, in a transition, lying)."""


@dataclass(frozen=True)
class TiltQuality:
    calibrated: bool = False
    """A standing neutral is known."""
    axis_known: bool = False
    """The pelvis's left-right axis was found functionally (else the default mounting is assumed)."""
    sensor_slipped: bool = False
    """The neutral drifted while the wearer was still: ask for a re-zero."""
    still: bool = False


@dataclass(frozen=True)
class HoldProgress:
    """An episode under way that has not yet alerted: 'anterior +12° for 7.2 of 30 s'."""

    direction: Direction
    angle_deg: float
    elapsed_s: float
    hold_s: float
    threshold_deg: float


@dataclass(frozen=True, eq=False)
class PipelineOutput:
    """What one batch produced. Arrays are per sample; events are those that happened in it."""

    t: np.ndarray
    quaternion: np.ndarray
    tilt_deg: np.ndarray
    """Pelvic tilt vs the standing neutral, anterior positive. Before a calibration (``quality.calibrated``
    False) it is measured against the first pose seen: shown, never judged."""
    obliquity_deg: np.ndarray
    activity: np.ndarray
    """Per-sample activity label (str)."""
    status: TiltStatus
    quality: TiltQuality
    hold: HoldProgress | None = None
    episodes: tuple[TiltEpisode, ...] = ()
    """Episodes that started, changed or ended in this batch (latest state of each)."""
    alerts: tuple[TiltAlert, ...] = ()
    reps: tuple[SquatRep, ...] = ()
    transitions: tuple = ()
    """Sit-to-stand / stand-to-sit transitions detected in this batch (``fusion.activity.Transition``)."""
    activity_revisions: tuple = ()
    """Corrected labels for samples of earlier batches (``fusion.activity.ActivitySpan``, in order):
    a movement is recognised when it ends."""
    calibration_event: str | None = None
    """A one-line note when a calibration was made or rejected in this batch."""

    @property
    def latest_tilt_deg(self) -> float:
        return float(self.tilt_deg[-1]) if len(self.tilt_deg) else float("nan")
