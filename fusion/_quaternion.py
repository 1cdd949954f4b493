"""Vectorised quaternion helpers: scalar first (w, x, y, z), sensor-to-earth (see conventions.py).

Every function takes arrays of shape (..., 4) / (..., 3) and works row-wise, so the stages can
treat a whole batch at once.
"""

from __future__ import annotations

import numpy as np

EARTH_UP = np.array([0.0, 0.0, 1.0])


def normalize(v: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (rows of zeros stay zero)."""
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (..., 3) arrays: ``np.cross``'s values, at half its fixed cost
    (it is called on a few rows per detection hop, where that cost is all there is)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack(np.broadcast_arrays(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product p ⊗ q."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )


def conjugate(q: np.ndarray) -> np.ndarray:
    return np.asarray(q, dtype=np.float64) * np.array([1.0, -1.0, -1.0, -1.0])


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by ``q`` (sensor frame -> earth frame for a sensor-to-earth q)."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    w = q[..., :1]
    u = q[..., 1:]
    # v' = v + 2w(u × v) + 2u × (u × v), valid for unit q.
    uv = cross(u, v)
    return v + 2.0 * w * uv + 2.0 * cross(u, uv)


def earth_up_in_sensor(q: np.ndarray) -> np.ndarray:
    """The earth's up direction expressed in the sensor frame: Rᵀ e_z, the third row of R(q)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    up = np.empty(q.shape[:-1] + (3,))
    up[..., 0], up[..., 1], up[..., 2] = 2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)
    return up


def from_axis_angle(axis: np.ndarray, angle_rad: np.ndarray | float) -> np.ndarray:
    axis = normalize(axis)
    half = 0.5 * np.asarray(angle_rad, dtype=np.float64)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def from_two_vectors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The shortest rotation taking direction ``a`` onto direction ``b`` (row-wise)."""
    a = normalize(a)
    b = normalize(b)
    w = 1.0 + np.sum(a * b, axis=-1, keepdims=True)
    xyz = cross(a, b)
    opposite = w[..., 0] < 1e-12
    if np.any(opposite):
        # a = -b: any axis perpendicular to a will do.
        helper = np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        xyz = np.where(opposite[..., None], normalize(cross(a, helper)), xyz)
        w = np.where(opposite[..., None], 0.0, w)
    return normalize(np.concatenate([w, xyz], axis=-1))


def from_gravity(acc: np.ndarray) -> np.ndarray:
    """Sensor-to-earth orientation with zero heading whose earth z matches the measured up ``acc``."""
    return from_two_vectors(acc, np.broadcast_to(EARTH_UP, np.shape(acc)))


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in radians between rows of ``a`` and ``b`` (robust near 0 and π)."""
    a = normalize(a)
    b = normalize(b)
    return np.arctan2(np.linalg.norm(cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def inclination_error_rad(q_est: np.ndarray, q_true: np.ndarray) -> np.ndarray:
    """BROAD's inclination error: 2·arccos(√(w² + z²)) of q_est ⊗ q_true⁻¹ (heading ignored)."""
    q_err = multiply(q_est, conjugate(q_true))
    return 2.0 * np.arccos(np.clip(np.sqrt(q_err[..., 0] ** 2 + q_err[..., 3] ** 2), 0.0, 1.0))

