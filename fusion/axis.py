"""The pelvis's left-right axis in the sensor frame, found from the wearer's own movements.

The dominant horizontal rotation axis during hip hinges, squats or sit-to-stands (principal
component of the angular rate with its vertical part removed), signed so that the movement away
from neutral (hip flexion) is anterior tilt. The sensor may then be worn in any orientation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.errors import CalibrationRejected
from fusion import _quaternion as quat
from fusion.calibration import CalibrationParams, _perpendicular_unit
from fusion.vertical import leaky_integrate

_REST_RATE_RAD_S = np.radians(3.0)
"""Slower than this (all axes) is rest, for the axis sign."""
_STANDING_RAD = np.radians(8.0)
"""A rest this close to the standing neutral is standing."""
_FIRST_MOVE_RAD = np.radians(8.0)
"""How far a movement must go from its rest pose before its direction counts."""
_SITTING_MIN_RAD = np.radians(5.0)
_SITTING_MAX_RAD = np.radians(50.0)
_MIN_FIRST_MOVE_VOTES = 0.5
"""Net hinge/squat evidence along the axis (in unit votes) needed to decide the sign from it."""
_SITTING_REST_S = 30.0
"""Sitting rest needed before the sitting posture decides the axis sign."""


@dataclass
class _Departure:
    """Leaving a standing rest: which way the pelvis first went, and how far it went."""

    rest_up: np.ndarray
    first_direction: np.ndarray | None = None
    """Unit rotation vector from ``rest_up`` to the first pose more than _FIRST_MOVE_RAD away."""
    farthest_rad: float = 0.0


@dataclass
class _Movement:
    """A run of turning samples, kept apart until it proves large enough to count."""

    start_up: np.ndarray
    scatter: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    away_from_neutral: np.ndarray = field(default_factory=lambda: np.zeros(3))
    rotation_rad: float = 0.0
    excursion_rad: float = 0.0


class AxisFinder:
    """Streaming functional axis: accumulates hinge, squat and sit-to-stand rotation.

    ``update`` returns the current left axis (unit, sensor frame) once enough movement about
    one dominant horizontal axis was seen, else None; later movements keep refining it.
    ``reason`` says what is still missing. The sign comes from hip flexion: a hinge or a squat
    leaves standing by tilting the pelvis forward (anterior); in a session with neither, from
    sitting, which rests the pelvis posterior of standing.
    """

    def __init__(self, up_sensor: np.ndarray, params: CalibrationParams = CalibrationParams()) -> None:
        self.up_sensor = quat.normalize(np.asarray(up_sensor, dtype=np.float64))
        self.params = params
        self._min_rate_rad_s = np.radians(params.axis_min_rate_deg_s)
        self._min_excursion_rad = np.radians(params.axis_min_excursion_deg)
        self.reset()

    def reset(self) -> None:
        self._scatter = np.zeros((3, 3))
        self._away_from_neutral = np.zeros(3)
        self._rotation_rad = 0.0
        self._first_moves = np.zeros(3)
        self._departure: _Departure | None = None
        self._sitting_away = np.zeros(3)
        self._sitting_s = 0.0
        self._last_t: float | None = None
        self._movement: _Movement | None = None
        self.axis: np.ndarray | None = None
        self.reason = "no movement seen yet: do 3 slow hip hinges or squats"

    def update(self, t: np.ndarray, gyr: np.ndarray, quaternion: np.ndarray) -> np.ndarray | None:
        if len(t):
            up = quat.earth_up_in_sensor(np.asarray(quaternion, dtype=np.float64))
            # Rotation about the vertical (turning, walking) says nothing about the left axis.
            horizontal = gyr - np.sum(gyr * up, axis=1, keepdims=True) * up
            rate = np.linalg.norm(horizontal, axis=1)
            dt = np.clip(np.diff(t, prepend=t[0] if self._last_t is None else self._last_t), 0.0, 0.1)
            self._last_t = float(t[-1])
            resting = np.linalg.norm(gyr, axis=1) < _REST_RATE_RAD_S
            moving = (rate > self._min_rate_rad_s).astype(np.int8)
            edges = np.flatnonzero(np.diff(np.concatenate(([0], moving, [0]))))
            for start, stop in zip(edges[::2], edges[1::2]):
                if start > 0 and self._movement is not None:
                    self._end_movement()  # the previous batch's movement stopped at this batch's start
                self._extend_movement(horizontal[start:stop], up[start:stop], rate[start:stop], dt[start:stop])
                if stop < len(t):
                    self._end_movement()
            if not moving[-1] and self._movement is not None:
                self._end_movement()
            self._track_departures(up, resting)
            self._add_sitting_rest(up[resting], dt[resting])
            self._evaluate()
        return None if self.axis is None else self.axis.copy()

    def _track_departures(self, up: np.ndarray, resting: np.ndarray) -> None:
        """Each stretch of motion that leaves a standing rest votes with the way it first went."""
        edges = np.flatnonzero(np.diff(np.concatenate(([0], (~resting).astype(np.int8), [0]))))
        cursor = 0
        for start, stop in zip(edges[::2], edges[1::2]):
            if start > cursor:  # rest samples before this stretch: it departs from the last one
                self._close_departure(up[start - 1])
            self._extend_departure(up[start:stop])
            cursor = stop
        if cursor < len(up):
            self._close_departure(up[-1])

    def _add_sitting_rest(self, up: np.ndarray, dt: np.ndarray) -> None:
        """Rest held 5–50° from the standing neutral (short of lying): the wearer sitting."""
        away_rad = quat.angle_between(up, self.up_sensor[None, :])
        sitting = (away_rad > _SITTING_MIN_RAD) & (away_rad < _SITTING_MAX_RAD)
        self._sitting_away += (quat.cross(self.up_sensor, up[sitting]) * dt[sitting, None]).sum(axis=0)
        self._sitting_s += float(dt[sitting].sum())

    def _close_departure(self, rest_up: np.ndarray) -> None:
        """A rest: the motion before it counts if it left standing and came back to standing (a
        hinge, a squat, picking something up). A sit-down does not: it may start backwards."""
        standing = quat.angle_between(rest_up[None, :], self.up_sensor[None, :])[0] < _STANDING_RAD
        d = self._departure
        if (standing and d is not None and d.first_direction is not None
                and d.farthest_rad >= self._min_excursion_rad):
            self._first_moves += d.first_direction
        self._departure = _Departure(rest_up.copy()) if standing else None

    def _extend_departure(self, up: np.ndarray) -> None:
        d = self._departure
        if d is None:
            return
        away = quat.angle_between(up, d.rest_up[None, :])
        d.farthest_rad = max(d.farthest_rad, float(away.max()))
        if d.first_direction is None:
            left = np.flatnonzero(away > _FIRST_MOVE_RAD)
            if len(left):
                d.first_direction = quat.normalize(quat.cross(d.rest_up, up[left[0]]))

    def _extend_movement(self, horizontal: np.ndarray, up: np.ndarray, rate: np.ndarray, dt: np.ndarray) -> None:
        m = self._movement or _Movement(start_up=up[0].copy())
        m.scatter += (horizontal * dt[:, None]).T @ horizontal
        m.away_from_neutral += quat.cross(self.up_sensor, up).sum(axis=0)
        m.rotation_rad += float(np.sum(rate * dt))
        m.excursion_rad = max(m.excursion_rad, float(np.max(quat.angle_between(up, m.start_up[None, :]))))
        self._movement = m

    def _end_movement(self) -> None:
        m, self._movement = self._movement, None
        if m is not None and m.excursion_rad >= self._min_excursion_rad:
            self._scatter += m.scatter
            self._away_from_neutral += m.away_from_neutral
            self._rotation_rad += m.rotation_rad

    def _evaluate(self) -> None:
        p = self.params
        rotation_deg = np.degrees(self._rotation_rad)
        if rotation_deg < p.axis_min_rotation_deg:
            self.reason = (f"only {rotation_deg:.0f}° of movement seen ({p.axis_min_rotation_deg:g}° needed): "
                           "do 3 slow hip hinges or squats")
            return
        eigenvalues, eigenvectors = np.linalg.eigh(self._scatter)
        dominance = eigenvalues[-1] / eigenvalues.sum()
        if dominance < p.axis_min_dominance:
            self.reason = (f"the movement turned about several axes ({dominance:.0%} about the main one, "
                           f"{p.axis_min_dominance:.0%} needed): bend straight forward")
            return
        axis = eigenvectors[:, -1]
        off_horizontal_deg = float(np.degrees(np.arcsin(min(abs(np.dot(axis, self.up_sensor)), 1.0))))
        if off_horizontal_deg > p.axis_max_tilt_from_horizontal_deg:
            self.reason = (f"the movement's axis is {off_horizontal_deg:.0f}° from horizontal "
                           f"(at most {p.axis_max_tilt_from_horizontal_deg:g}°): bend straight forward")
            return
        # Anterior tilt about L moves the sensed up direction by −θ about L: u0 × u ≈ −sin θ · L.
        # Hinges and squats leave standing anteriorly (hip flexion); failing those, chair sitting
        # rests posterior of standing (biomechanics notes §1.2); failing both, these movements
        # spend their time mostly anterior of neutral.
        first_moves = float(np.dot(axis, self._first_moves))
        if abs(first_moves) >= _MIN_FIRST_MOVE_VOTES:
            reversed_axis = first_moves > 0
        elif self._sitting_s >= _SITTING_REST_S:
            reversed_axis = np.dot(axis, self._sitting_away) < 0
        else:
            reversed_axis = np.dot(axis, self._away_from_neutral) > 0
        if reversed_axis:
            axis = -axis
        self.axis = _perpendicular_unit(axis, self.up_sensor)
        self.reason = ""


def find_left_axis(t: np.ndarray, gyr: np.ndarray, quaternion: np.ndarray, up_sensor: np.ndarray,
                   params: CalibrationParams = CalibrationParams()) -> np.ndarray:
    """The pelvis's left axis (unit, sensor frame) from hinges, squats or sit-to-stands.

    ``gyr`` in rad/s (bias removed if known), ``quaternion`` from the orientation filter,
    ``up_sensor`` from the standing neutral. Raises ``CalibrationRejected`` saying what was missing.
    """
    finder = AxisFinder(up_sensor, params)
    axis = finder.update(np.asarray(t, dtype=np.float64), np.asarray(gyr, dtype=np.float64), quaternion)
    if axis is None:
        raise CalibrationRejected(f"could not find the pelvis axis: {finder.reason}")
    return axis


def early_descent_lean(t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray, left_axis: np.ndarray) -> float:
    """How the pelvis turns about ``left_axis`` in the first half of its descents (moving down
    and still speeding down, before any braking), from -1 (all backwards) to +1 (all forwards).
    Hip flexion tilts the pelvis forward there in squats and sit-downs alike; a butt wink comes
    later, in the braking half. ``acc_z``: vertical acceleration, gravity removed."""
    return descent_lean(np.asarray(gyr, dtype=float)[early_descent_mask(t, acc_z)], left_axis)


def early_descent_mask(t: np.ndarray, acc_z: np.ndarray) -> np.ndarray:
    """The samples in the first half of a descent. ``acc_z``'s offset over 10 s is removed and
    the velocity leaks over 2 s: only when the pelvis moves matters."""
    t = np.asarray(t, dtype=float)
    if len(t) < 3:
        return np.zeros(len(t), dtype=bool)
    # In place where it can be: a whole day's analysis holds these at once.
    dt = np.diff(t, prepend=t[0])
    np.clip(dt, 0.0, 0.05, out=dt)
    acc_z = np.asarray(acc_z, dtype=float)
    acc = acc_z if np.isfinite(acc_z).all() else np.where(np.isfinite(acc_z), acc_z, 0.0)
    centred = leaky_integrate(acc, dt, 10.0, float(acc[0]) * 10.0)
    centred /= 10.0
    np.subtract(acc, centred, out=centred)
    velocity = leaky_integrate(centred, dt, 2.0)
    return (velocity < -_DESCENT_SPEED_M_S) & (centred < 0.0)


def descent_lean(descent_gyr: np.ndarray, left_axis: np.ndarray) -> float:
    """``early_descent_lean`` from the angular rates of the early-descent samples alone."""
    rate = np.asarray(descent_gyr, dtype=float).reshape(-1, 3) @ np.asarray(left_axis, dtype=float)
    total = float(np.sum(np.abs(rate)))
    return float(np.sum(rate)) / total if total > 0 else 0.0


_DESCENT_SPEED_M_S = 0.1
"""A pelvis going down faster than this is descending (squats and sit-downs: 0.2–0.6 m/s)."""
