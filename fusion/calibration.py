"""Neutral posture in the sensor frame: what zero tilt means.

* Standing neutral (and optionally sitting neutral): the earth's up direction seen by the sensor
  while the wearer stands (sits) still; each still window is graded (length, angular rate,
  acceleration spread, wander) against what real people standing still show, and refused with a
  one-line reason only when it plainly is no still posture. Taken from the filter's quaternions,
  so any fixed filter offset cancels in the tilt.
* Left axis: the documented default mounting (``conventions.py``) until ``fusion.axis`` finds it
  from the wearer's movements.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from firmware_interface.errors import CalibrationRejected
from fusion import _quaternion as quat
from firmware_interface.conventions import DEFAULT_LEFT_AXIS_SENSOR, STANDARD_GRAVITY

NeutralKind = Literal["stand", "sit"]
AxisSource = Literal["default", "functional"]


@dataclass(frozen=True)
class CalibrationParams:
    window_s: float = 5.0
    """Still time the streaming calibrator waits for, and the longest window the analysis grades (s)."""
    min_window_s: float = 3.0
    """A still window shorter than this is used with a warning (s)."""
    shortest_window_s: float = 0.5
    """A window shorter than this is refused: too short to tell a posture from a pass through it."""
    max_gyro_deg_s: float = 6.0
    """Stillness: the 95th percentile of the angular rate about the window's mean (so gyroscope bias
    does not count). Real people standing still with a waist sensor: median 3.5°/s, 90th
    percentile 6°/s. Above it the window is used with a warning."""
    refuse_gyro_deg_s: float = 20.0
    """Above this the window is plainly not a still posture and is refused."""
    max_gyro_bias_deg_s: float = 10.0
    """Gyroscope bias the still-window search tolerates before the bias is learnt (°/s; consumer
    parts are off by up to 10°/s at switch-on)."""
    max_acc_deviation_g: float = 0.05
    """Stillness: the 95th percentile of | ‖a‖ − median ‖a‖ | (g); above it, a warning."""
    refuse_acc_deviation_g: float = 0.2
    """Above this the body was plainly moving: refused."""
    max_acc_scale_error_g: float = 0.15
    """Refused if the window's median ‖a‖ is this far from 1 g: not a working accelerometer at rest."""
    max_motion_deg: float = 3.0
    """Stillness: the up direction stays within this of its mean (standing sway is 0.3–1° RMS);
    above it, a warning."""
    refuse_motion_deg: float = 10.0
    """Above this the pelvis turned too far to be one posture: refused."""
    axis_min_rate_deg_s: float = 15.0
    """Functional axis: samples rotating faster than this (horizontal part) count as movement."""
    axis_min_excursion_deg: float = 12.0
    """Functional axis: a movement (a run of samples turning faster than ``axis_min_rate_deg_s``)
    counts only if it turns the pelvis at least this far from where it started. Hinges, squats and
    sit-to-stands turn it 20–90°; walking sways and fidgets stay within a few degrees, and their
    sway turns mostly about the forward axis (obliquity), which would mislead the search."""
    axis_min_rotation_deg: float = 60.0
    """Functional axis: accumulated movement rotation needed, e.g. three 20° hinges down and up."""
    axis_min_dominance: float = 0.6
    """Functional axis: share of the movement's angular-rate energy about the found axis (a whole desk
    session with fidgets and walking gives about 0.7 and still an axis within 1°)."""
    axis_max_tilt_from_horizontal_deg: float = 20.0
    """Functional axis: how far the axis may lie from horizontal at neutral."""

    def __post_init__(self) -> None:
        for name in ("window_s", "min_window_s", "shortest_window_s", "max_gyro_deg_s", "refuse_gyro_deg_s",
                     "max_gyro_bias_deg_s", "max_acc_deviation_g", "refuse_acc_deviation_g", "max_acc_scale_error_g",
                     "max_motion_deg", "refuse_motion_deg", "axis_min_rate_deg_s", "axis_min_excursion_deg",
                     "axis_min_rotation_deg", "axis_max_tilt_from_horizontal_deg"):
            if not getattr(self, name) > 0:
                raise ValueError(f"CalibrationParams.{name} must be > 0, got {getattr(self, name)!r}")
        if not self.shortest_window_s <= self.min_window_s <= self.window_s:
            raise ValueError("CalibrationParams: shortest_window_s <= min_window_s <= window_s is needed")
        for good, refuse in (("max_gyro_deg_s", "refuse_gyro_deg_s"), ("max_acc_deviation_g", "refuse_acc_deviation_g"),
                             ("max_motion_deg", "refuse_motion_deg")):
            if getattr(self, good) > getattr(self, refuse):
                raise ValueError(f"CalibrationParams.{good} must not exceed {refuse}")
        if not 0 < self.axis_min_dominance <= 1:
            raise ValueError(f"CalibrationParams.axis_min_dominance must be in (0, 1], got {self.axis_min_dominance!r}")


@dataclass(frozen=True, eq=False)
class Calibration:
    up_sensor: np.ndarray
    """Unit earth-up direction in the sensor frame at standing neutral."""
    left_axis_sensor: np.ndarray
    """Unit pelvis left axis in the sensor frame, perpendicular to ``up_sensor``."""
    axis_source: AxisSource = "default"
    sit_up_sensor: np.ndarray | None = None
    """Unit earth-up direction in the sensor frame at sitting neutral, if one was taken."""
    made_at_s: float = float("nan")
    still_window: tuple[float, float] = (float("nan"), float("nan"))
    grade: StillnessGrade | None = None
    """How still the standing window was (None for a provisional reference)."""
    provisional: bool = False
    """Not a neutral: the first pose seen, a reference for movements within a rep (a butt wink is
    a reversal of tilt and needs only the axis) and for the tilt shown before calibration, never
    judged or reported as tilt against neutral."""

    @classmethod
    def standing(cls, up_sensor: np.ndarray, made_at_s: float = float("nan"),
                 still_window: tuple[float, float] = (float("nan"), float("nan")),
                 grade: StillnessGrade | None = None) -> Calibration:
        """A standing neutral with the default-mounting left axis."""
        up = quat.normalize(np.asarray(up_sensor, dtype=np.float64))
        return cls(up, _perpendicular_unit(DEFAULT_LEFT_AXIS_SENSOR, up), "default", None, made_at_s, still_window,
                   grade)

    @classmethod
    def provisional_from(cls, up_sensor: np.ndarray) -> Calibration:
        """A provisional reference (see ``provisional``) with the default-mounting left axis."""
        return replace(cls.standing(up_sensor), provisional=True)

    def with_left_axis(self, left_axis_sensor: np.ndarray) -> Calibration:
        """This calibration with a functionally found left axis."""
        return replace(self, left_axis_sensor=_perpendicular_unit(left_axis_sensor, self.up_sensor),
                       axis_source="functional")

    def with_sitting(self, sit_up_sensor: np.ndarray) -> Calibration:
        return replace(self, sit_up_sensor=quat.normalize(np.asarray(sit_up_sensor, dtype=np.float64)))


def _perpendicular_unit(axis: np.ndarray, up: np.ndarray) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    return quat.normalize(axis - np.dot(axis, up) * up)


@dataclass(frozen=True)
class StillnessGrade:
    """How still a calibration window was, measured as ``CalibrationParams`` describes."""

    duration_s: float
    rate_deg_s: float
    """95th percentile of the angular rate about the window's mean."""
    jolt_g: float
    """95th percentile of | ‖a‖ − median ‖a‖ |."""
    motion_deg: float
    """How far the up direction wandered from its mean."""
    warnings: tuple[str, ...] = ()
    """Why the window is less than a good still stand (empty: good)."""

    @property
    def good(self) -> bool:
        return not self.warnings

    @property
    def score(self) -> float:
        """Higher is better: length (up to the calibrator's window) against unsteadiness."""
        return min(self.duration_s, 5.0) - self.rate_deg_s / 3.0 - 20.0 * self.jolt_g - self.motion_deg / 2.0


def grade_still(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, quaternion: np.ndarray,
                params: CalibrationParams = CalibrationParams()) -> tuple[np.ndarray, StillnessGrade]:
    """Grade a calibration window; return the mean earth-up direction in the sensor frame and the grade.

    A window that is imperfect (short, swaying) is graded with warnings; ``CalibrationRejected``
    (naming what was wrong) is raised only when it plainly is not a still posture.
    """
    p = params
    duration_s = float(t[-1] - t[0]) if len(t) else 0.0
    if duration_s < p.shortest_window_s - 1e-9 or len(t) < 5:
        raise CalibrationRejected(f"the still window lasted {duration_s:.1f} s; at least "
                                  f"{p.shortest_window_s:g} s of standing or sitting still is needed "
                                  f"({p.min_window_s:g} s or more is better)")
    # The 95th percentile: a stand with a few noisy samples is still a still stand.
    rate_deg_s = float(np.percentile(np.degrees(np.linalg.norm(gyr - gyr.mean(axis=0), axis=1)), 95))
    if rate_deg_s > p.refuse_gyro_deg_s:
        raise CalibrationRejected(f"the pelvis turned at up to {rate_deg_s:.1f}°/s during calibration (a still "
                                  f"posture stays below {p.refuse_gyro_deg_s:g}°/s); hold still and try again",
                                  motion_deg=float(rate_deg_s))
    acc_norm_g = np.linalg.norm(acc, axis=1) / STANDARD_GRAVITY
    median_g = float(np.median(acc_norm_g))
    if abs(median_g - 1.0) > p.max_acc_scale_error_g:
        raise CalibrationRejected(f"the accelerometer read {median_g:.2f} g at rest (about 1 g expected); "
                                  "check the sensor and the acceleration unit")
    jolt_g = float(np.percentile(np.abs(acc_norm_g - median_g), 95))
    if jolt_g > p.refuse_acc_deviation_g:
        raise CalibrationRejected(f"the body moved during calibration (acceleration changed by {jolt_g:.2f} g; a still "
                                  f"posture stays within {p.refuse_acc_deviation_g:g} g); hold still and try again")
    up = quat.earth_up_in_sensor(quaternion)
    mean_up = quat.normalize(up.mean(axis=0))
    # The filter's view, and the accelerometer's own (tenths of the window, noise averaged), so
    # a slow steady turn that an unlearnt gyroscope bias could hide is still seen.
    acc_up = quat.normalize(np.array([part.mean(axis=0) for part in np.array_split(acc, min(10, len(acc)))]))
    motion_deg = float(max(np.degrees(quat.angle_between(up, mean_up)).max(),
                           np.degrees(quat.angle_between(acc_up, quat.normalize(acc.mean(axis=0)))).max()))
    if motion_deg > p.refuse_motion_deg:
        raise CalibrationRejected(f"the pelvis tilted by {motion_deg:.1f}° during calibration (one posture stays "
                                  f"within {p.refuse_motion_deg:g}°); hold still and try again", motion_deg=motion_deg)
    warnings = []
    if duration_s < p.min_window_s - 1e-9:
        warnings.append(f"the still window lasted {duration_s:.1f} s ({p.min_window_s:g} s or more is better)")
    if rate_deg_s > p.max_gyro_deg_s:
        warnings.append(f"the pelvis turned at up to {rate_deg_s:.1f}°/s (still standing stays below "
                        f"{p.max_gyro_deg_s:g}°/s)")
    if jolt_g > p.max_acc_deviation_g:
        warnings.append(f"the acceleration varied by {jolt_g:.2f} g (still standing stays within "
                        f"{p.max_acc_deviation_g:g} g)")
    if motion_deg > p.max_motion_deg:
        warnings.append(f"the pelvis tilted by {motion_deg:.1f}° (still standing stays within {p.max_motion_deg:g}°)")
    return mean_up, StillnessGrade(duration_s, rate_deg_s, jolt_g, motion_deg, tuple(warnings))


def calibration_from_window(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, quaternion: np.ndarray,
                            start_s: float, end_s: float, kind: NeutralKind = "stand",
                            base: Calibration | None = None,
                            params: CalibrationParams = CalibrationParams()) -> Calibration:
    """A neutral from the samples in [start_s, end_s].

    ``kind="stand"`` returns a standing calibration (keeping ``base``'s functional axis, if any);
    ``kind="sit"`` adds a sitting neutral to ``base``, which must be a standing calibration.
    """
    if kind not in ("stand", "sit"):
        raise ValueError(f"kind must be 'stand' or 'sit', got {kind!r}")
    if kind == "sit" and base is None:
        raise CalibrationRejected("a sitting neutral needs a standing calibration first")
    t = np.asarray(t, dtype=np.float64)
    inside = (t >= start_s) & (t <= end_s)
    up, grade = grade_still(t[inside], np.asarray(acc)[inside], np.asarray(gyr)[inside],
                            np.asarray(quaternion)[inside], params)
    if kind == "sit":
        return base.with_sitting(up)
    standing = Calibration.standing(up, made_at_s=float(end_s), still_window=(float(start_s), float(end_s)),
                                    grade=grade)
    if base is not None and base.axis_source == "functional":
        standing = standing.with_left_axis(base.left_axis_sensor)
    return standing


class NeutralCalibrator:
    """Streaming neutral calibration: the first still window of ``params.window_s`` that passes.

    Feed it every batch with the filter's quaternions; pass the gyroscope with the filter's bias
    removed (``OrientationEstimator.gyro_bias_rad_s``) so a sensor's turn-on bias does not look
    like motion. ``update`` returns the Calibration once, then None. ``still_s`` is the progress
    for the screen; ``last_rejection`` says why a still-looking window was refused.
    """

    def __init__(self, params: CalibrationParams = CalibrationParams(), kind: NeutralKind = "stand",
                 base: Calibration | None = None) -> None:
        if kind == "sit" and base is None:
            raise CalibrationRejected("a sitting neutral needs a standing calibration first")
        self.params = params
        self.kind = kind
        self.base = base
        # Candidate runs only: the gyroscope bias may not be learnt yet; grade_still then judges
        # the rate about its mean.
        self._max_gyro_rad_s = np.radians(params.max_gyro_deg_s + params.max_gyro_bias_deg_s)
        self.reset()

    def reset(self) -> None:
        self.done = False
        self.last_rejection: str | None = None
        self.still_s = 0.0
        self._run_start_s: float | None = None
        self._t = np.empty(0)
        self._acc = np.empty((0, 3))
        self._gyr = np.empty((0, 3))
        self._q = np.empty((0, 4))

    def update(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, quaternion: np.ndarray) -> Calibration | None:
        if self.done or len(t) == 0:
            return None
        p = self.params
        quiet = ((np.linalg.norm(gyr, axis=1) < self._max_gyro_rad_s)
                 & (np.abs(np.linalg.norm(acc, axis=1) / STANDARD_GRAVITY - 1.0) < p.max_acc_scale_error_g))
        all_t = np.concatenate([self._t, t])
        all_acc = np.concatenate([self._acc, acc])
        all_gyr = np.concatenate([self._gyr, gyr])
        all_q = np.concatenate([self._q, quaternion])
        offset = len(self._t)
        result = None
        i = 0
        while i < len(t):
            # The run of quiet samples containing i starts after the last loud sample before it.
            loud = np.flatnonzero(~quiet[i:])
            run_end = i + (loud[0] if len(loud) else len(t) - i)  # first loud sample at or after i
            if run_end > i:
                run_start_s = self._run_start_s if self._run_start_s is not None else float(t[i])
                ready = np.flatnonzero(t[i:run_end] - run_start_s >= p.window_s - 1e-9)
                if len(ready):
                    k = i + int(ready[0])
                    result = self._try(all_t, all_acc, all_gyr, all_q, offset + k, float(t[k]) - p.window_s)
                    if result is not None:
                        self.still_s = p.window_s
                        break
                    # Slide the window on: the run may settle (filter start-up, a last sway).
                    self._run_start_s = run_start_s + _RETRY_STEP_S
                    i = k + 1
                    continue
                self._run_start_s = run_start_s
                self.still_s = float(t[run_end - 1]) - run_start_s
            if run_end < len(t):
                self._run_start_s = None
                self.still_s = 0.0
            i = run_end + 1
        keep = all_t >= all_t[-1] - p.window_s - 1.0
        self._t, self._acc, self._gyr, self._q = all_t[keep], all_acc[keep], all_gyr[keep], all_q[keep]
        return result

    def _try(self, t, acc, gyr, q, end_index: int, start_s: float) -> Calibration | None:
        window = slice(int(np.searchsorted(t, start_s - 1e-9)), end_index + 1)
        try:
            calibration = calibration_from_window(t[window], acc[window], gyr[window], q[window],
                                                  start_s, float(t[end_index]), self.kind, self.base, self.params)
        except CalibrationRejected as rejected:
            self.last_rejection = str(rejected)
            return None
        if calibration.grade is not None and not calibration.grade.good:
            # Live, the wearer is standing for it: wait for a good window.
            self.last_rejection = "; ".join(calibration.grade.warnings)
            return None
        self.done = True
        return calibration


def find_standing_neutral(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, quaternion: np.ndarray,
                          standing: np.ndarray, params: CalibrationParams = CalibrationParams()) -> Calibration | None:
    """The best still standing window anywhere in a recording, or None.

    ``standing`` marks the samples that may be standing (from the movement cues: after a
    sit-to-stand, before a sit-down, between squat reps, next to walking). Windows of up to
    ``window_s`` slide over every quiet run of at least ``shortest_window_s``; each is graded
    (:func:`grade_still`) and the best wins: good before imperfect, then by
    :attr:`StillnessGrade.score`. ``gyr`` with the filter's bias removed.
    """
    p = params
    t = np.asarray(t, dtype=np.float64)
    max_rate = np.radians(p.max_gyro_deg_s + p.max_gyro_bias_deg_s)
    quiet = (np.asarray(standing, dtype=bool) & (np.linalg.norm(gyr, axis=1) < max_rate)
             & (np.abs(np.linalg.norm(acc, axis=1) / STANDARD_GRAVITY - 1.0) < p.max_acc_scale_error_g))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    best: tuple[tuple[bool, float], Calibration] | None = None
    for start, stop in zip(edges[::2], edges[1::2]):
        run_t = t[start:stop]
        if run_t[-1] - run_t[0] < p.shortest_window_s:
            continue
        for window_start_s in np.arange(run_t[0], max(run_t[-1] - p.window_s, run_t[0]) + 1e-9, _RETRY_STEP_S):
            a = start + int(np.searchsorted(run_t, window_start_s))
            b = start + int(np.searchsorted(run_t, window_start_s + p.window_s, side="right"))
            try:
                calibration = calibration_from_window(t[a:b], acc[a:b], gyr[a:b], quaternion[a:b],
                                                      float(t[a]), float(t[b - 1]), "stand", params=p)
            except CalibrationRejected:
                continue
            key = (calibration.grade.good, calibration.grade.score)
            if best is None or key > best[0]:
                best = (key, calibration)
    return None if best is None else best[1]


_RETRY_STEP_S = 0.5
"""After a refused still window, the next one tried starts this much later."""
