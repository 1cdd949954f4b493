"""Ideal IMU readings for a known orientation trajectory (tests with exact truth, no simulator).

``imu_from_orientation`` returns what a perfect sensor with orientation ``q`` (sensor-to-earth)
reads: the gyroscope at sample i is the constant rate that takes q[i-1] to q[i] (the step a
filter integrates), the accelerometer is the specific force Rᵀ(a_lin + g·e_z).
"""

from __future__ import annotations

import numpy as np

from fusion import _quaternion as quat
from firmware_interface.conventions import STANDARD_GRAVITY


def imu_from_orientation(t: np.ndarray, q: np.ndarray, lin_acc_earth: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    relative = quat.multiply(quat.conjugate(q[:-1]), q[1:])
    relative *= np.where(relative[:, :1] < 0, -1.0, 1.0)
    angle = 2.0 * np.arctan2(np.linalg.norm(relative[:, 1:], axis=1), relative[:, 0])
    axis = quat.normalize(relative[:, 1:])
    dt = np.diff(t)
    rate = np.divide(angle, dt, out=np.zeros_like(angle), where=dt > 0)[:, None] * axis
    gyr = np.vstack([rate[:1], rate])
    force_earth = np.tile([0.0, 0.0, STANDARD_GRAVITY], (len(t), 1))
    if lin_acc_earth is not None:
        force_earth = force_earth + lin_acc_earth
    acc = quat.rotate(quat.conjugate(q), force_earth)
    return acc, gyr


def random_unit_quaternion(rng: np.random.Generator) -> np.ndarray:
    return quat.normalize(rng.normal(size=4))


def wobble(t: np.ndarray, q0: np.ndarray, rng: np.random.Generator, amplitude_deg: float = 40.0) -> np.ndarray:
    """A smooth random rotation around ``q0``: sums of sines about the three earth axes."""
    angles = np.zeros((len(t), 3))
    for axis in range(3):
        for _ in range(3):
            freq_hz = rng.uniform(0.1, 0.8)
            angles[:, axis] += np.radians(amplitude_deg / 3) * np.sin(2 * np.pi * freq_hz * t + rng.uniform(0, 2 * np.pi))
    q = np.tile(q0, (len(t), 1))
    for axis in range(3):
        unit = np.zeros(3)
        unit[axis] = 1.0
        q = quat.multiply(quat.from_axis_angle(np.tile(unit, (len(t), 1)), angles[:, axis]), q)
    return q


def inclination_error_deg(q_est: np.ndarray, q_true: np.ndarray) -> np.ndarray:
    return np.degrees(quat.inclination_error_rad(q_est, q_true))
