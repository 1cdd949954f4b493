"""Pelvic tilt and obliquity from orientation and a calibration, and sensor-slip detection.

With ``u`` the earth's up direction seen by the sensor now, ``u0`` the same at neutral, ``L``
the pelvis's left axis and ``F = L × u0`` its forward axis (all in the sensor frame): a pelvis
rotated anteriorly by θ about ``L`` sees ``u = u0·cos θ − F·sin θ``. Tilt and obliquity are the
pitch and roll of the yaw-pitch-roll (ZYX) decomposition of the pelvis relative to neutral:

    tilt      = asin(−u·F) = atan2(−u·F, √((u·L)² + (u·u0)²))   (sagittal, anterior positive)
    obliquity = atan2(u·L, u·u0)                                 (frontal, positive = left side up)

Heading never enters, so a 6-axis filter's free heading does not matter.

Slip: a sensor that moved on the skin shows up as a neutral that no longer fits while the wearer
holds still: a frontal offset (the sensor turned in the plane of the back) or a sagittal offset
outside what standing and sitting produce. Spans of ``slip_span_s`` are judged still when the up
direction moves less than ``still_tolerance_deg`` within them; after ``slip_still_s`` of such
spans whose mean pose is upright (within ``upright_limit_deg``, so lying down does not count) but
outside the posture envelope, ``sensor_slipped`` is raised until a new calibration is set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion import _quaternion as quat
from fusion._spans import SpanSplitter
from fusion.calibration import Calibration


@dataclass(frozen=True)
class TiltParams:
    slip_span_s: float = 1.0
    still_tolerance_deg: float = 2.0
    slip_still_s: float = 20.0
    """Still time needed before a neutral that no longer fits is called a slip."""
    slip_obliquity_deg: float = 8.0
    """Frontal offset beyond which a long still period means a slip (pelvic obliquity held still is small)."""
    slip_anterior_deg: float = 25.0
    """Held anterior tilt beyond this (vs standing) is not a posture: active range is about 13 ± 5°."""
    slip_posterior_deg: float = -40.0
    """Held posterior tilt beyond this (vs standing); slumped sitting reaches about −30°."""
    upright_limit_deg: float = 55.0
    """Poses further than this from standing neutral are lying or bending, never judged for slip."""

    def __post_init__(self) -> None:
        for name in ("slip_span_s", "still_tolerance_deg", "slip_still_s", "slip_obliquity_deg",
                     "slip_anterior_deg", "upright_limit_deg"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TiltParams.{name} must be > 0, got {getattr(self, name)!r}")
        if not self.slip_posterior_deg < 0:
            raise ValueError(f"TiltParams.slip_posterior_deg must be < 0, got {self.slip_posterior_deg!r}")


@dataclass(frozen=True, eq=False)
class TiltBatch:
    t: np.ndarray
    tilt_deg: np.ndarray
    """Sagittal tilt vs standing neutral, anterior positive; NaN without a calibration."""
    pitch_deg: np.ndarray
    """Sagittal tilt vs the reference in use, the neutral or a provisional one (the first pose):
    its changes are right wherever the axis is, its offset only with a neutral. NaN without any."""
    away_deg: np.ndarray
    """Angle between the up direction now and at the reference (all planes): lying is far from
    standing whichever way the wearer lies. NaN without a reference."""
    obliquity_deg: np.ndarray
    """Frontal tilt vs standing neutral, left side up positive; NaN without a calibration."""
    sit_tilt_deg: np.ndarray
    """Sagittal tilt vs the sitting neutral; NaN without one."""
    still: np.ndarray
    """Per sample: inside a span judged still (known only once the span has ended, so lagging by up to a span)."""
    calibrated: bool
    axis_known: bool
    sensor_slipped: bool

    def __len__(self) -> int:
        return len(self.t)


def pelvis_axes(neutral_up: np.ndarray, left_axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, F) of the module doc: the left axis made perpendicular to the neutral up, and forward."""
    left = quat.normalize(left_axis - np.dot(left_axis, neutral_up) * neutral_up)
    return left, quat.cross(left, neutral_up)


def tilt_angles_rad(up: np.ndarray, neutral_up: np.ndarray, left_axis: np.ndarray,
                    axes: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(tilt, obliquity) in radians of up-directions ``up`` (N, 3) against a neutral, see module
    doc. ``axes``: ``pelvis_axes(neutral_up, left_axis)`` if the caller keeps them."""
    left, forward = pelvis_axes(neutral_up, left_axis) if axes is None else axes
    u_forward = up @ forward
    u_up = up @ neutral_up
    u_left = up @ left
    return np.arctan2(-u_forward, np.hypot(u_left, u_up)), np.arctan2(u_left, u_up)


class TiltEstimator:
    def __init__(self, calibration: Calibration | None = None, params: TiltParams = TiltParams()) -> None:
        self.params = params
        self._still_tolerance_rad = np.radians(params.still_tolerance_deg)
        self._spans = SpanSplitter(params.slip_span_s)
        self.set_calibration(calibration)

    def set_calibration(self, calibration: Calibration | None) -> None:
        """A new (re-)calibration: clears the slip flag and the still-period history."""
        self.calibration = calibration
        self.reset()

    def reset(self) -> None:
        self.sensor_slipped = False
        self._spans.reset()
        self._outside_s = 0.0
        self._still_until_s = -np.inf

    def update(self, t: np.ndarray, quaternion: np.ndarray) -> TiltBatch:
        t = np.asarray(t, dtype=np.float64)
        up = quat.earth_up_in_sensor(np.asarray(quaternion, dtype=np.float64))
        cal = self.calibration
        nan = np.full(len(t), np.nan)
        if cal is None:
            pitch = obliquity = sit_tilt = away = nan
        else:
            pitch, obliquity = (np.degrees(a) for a in tilt_angles_rad(up, cal.up_sensor, cal.left_axis_sensor))
            away = np.degrees(quat.angle_between(up, cal.up_sensor[None, :]))
            sit_tilt = (np.degrees(tilt_angles_rad(up, cal.sit_up_sensor, cal.left_axis_sensor)[0])
                        if cal.sit_up_sensor is not None else nan)
        calibrated = cal is not None and not cal.provisional
        tilt = pitch if calibrated else nan
        if not calibrated:
            obliquity = nan
        still = np.zeros(len(t), dtype=bool)
        for span in self._spans.split(t, up, tilt, obliquity):
            self._judge_span(span.t, *span.columns, span.duration_s)
        still[t <= self._still_until_s] = True
        return TiltBatch(t, tilt, pitch, away, obliquity, sit_tilt, still, calibrated=calibrated,
                         axis_known=cal is not None and cal.axis_source == "functional",
                         sensor_slipped=self.sensor_slipped)

    def _judge_span(self, t: np.ndarray, up: np.ndarray, tilt_deg: np.ndarray, obliquity_deg: np.ndarray,
                    duration_s: float) -> None:
        p = self.params
        mean_up = quat.normalize(up.mean(axis=0))
        is_still = (duration_s <= 2.0 * p.slip_span_s
                    and np.max(quat.angle_between(up, mean_up)) < self._still_tolerance_rad)
        if not is_still:
            self._outside_s = 0.0
            return
        self._still_until_s = float(t[-1])
        if self.calibration is None or self.calibration.provisional:
            return
        tilt = float(np.mean(tilt_deg))
        obliquity = float(np.mean(obliquity_deg))
        upright = max(abs(tilt), abs(obliquity)) < p.upright_limit_deg
        outside = (abs(obliquity) > p.slip_obliquity_deg or tilt > p.slip_anterior_deg
                   or tilt < p.slip_posterior_deg)
        self._outside_s = self._outside_s + duration_s if (upright and outside) else 0.0
        if self._outside_s >= p.slip_still_s:
            self.sensor_slipped = True
