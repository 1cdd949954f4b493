"""Vectorised rotation helpers (rotation matrices and scalar-first quaternions).

Kept private to the simulator: the fusion stages have their own orientation code, and the
simulator must not depend on it (its ground truth is what that code is tested against).
"""

from __future__ import annotations

import numpy as np


def euler_zyx_to_matrix(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """R = Rz(yaw) @ Ry(pitch) @ Rx(roll) for arrays of angles in radians: shape (..., 3, 3)."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    r = np.empty(np.shape(yaw) + (3, 3))
    r[..., 0, 0] = cy * cp
    r[..., 0, 1] = cy * sp * sr - sy * cr
    r[..., 0, 2] = cy * sp * cr + sy * sr
    r[..., 1, 0] = sy * cp
    r[..., 1, 1] = sy * sp * sr + cy * cr
    r[..., 1, 2] = sy * sp * cr - cy * sr
    r[..., 2, 0] = -sp
    r[..., 2, 1] = cp * sr
    r[..., 2, 2] = cp * cr
    return r


def euler_zyx_rates_to_body(pitch: np.ndarray, roll: np.ndarray, yaw_rate: np.ndarray,
                            pitch_rate: np.ndarray, roll_rate: np.ndarray) -> np.ndarray:
    """Angular velocity in the rotated (body) frame for R = Rz(yaw) Ry(pitch) Rx(roll): (N, 3)."""
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    return np.stack(
        [
            roll_rate - yaw_rate * sp,
            pitch_rate * cr + yaw_rate * cp * sr,
            -pitch_rate * sr + yaw_rate * cp * cr,
        ],
        axis=-1,
    )


def axis_angle_to_matrix(rotation_vector: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vectors (..., 3) in radians to matrices (..., 3, 3)."""
    v = np.asarray(rotation_vector, dtype=np.float64)
    angle = np.linalg.norm(v, axis=-1)
    safe = np.where(angle > 1e-12, angle, 1.0)
    k = v / safe[..., None]
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    kmat = np.stack([np.stack([zero, -kz, ky], -1),
                     np.stack([kz, zero, -kx], -1),
                     np.stack([-ky, kx, zero], -1)], -2)
    s = np.sin(angle)[..., None, None]
    c = (1.0 - np.cos(angle))[..., None, None]
    return np.eye(3) + s * kmat + c * (kmat @ kmat)


def matrix_to_quat(r: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) to unit quaternions (..., 4), scalar first, w >= 0."""
    r = np.asarray(r, dtype=np.float64)
    m00, m11, m22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    # Each candidate is 4x the square of one component; use the largest for stability.
    candidates = np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                           1 - m00 + m11 - m22, 1 - m00 - m11 + m22], axis=-1)
    best = np.argmax(candidates, axis=-1)
    q = np.empty(r.shape[:-2] + (4,))
    root = np.sqrt(np.maximum(np.take_along_axis(candidates, best[..., None], -1)[..., 0], 1e-300))
    half = 0.5 * root
    inv = 0.5 / root
    w = np.select([best == 0, best == 1, best == 2, best == 3],
                  [half, (r[..., 2, 1] - r[..., 1, 2]) * inv, (r[..., 0, 2] - r[..., 2, 0]) * inv,
                   (r[..., 1, 0] - r[..., 0, 1]) * inv])
    x = np.select([best == 0, best == 1, best == 2, best == 3],
                  [(r[..., 2, 1] - r[..., 1, 2]) * inv, half, (r[..., 0, 1] + r[..., 1, 0]) * inv,
                   (r[..., 0, 2] + r[..., 2, 0]) * inv])
    y = np.select([best == 0, best == 1, best == 2, best == 3],
                  [(r[..., 0, 2] - r[..., 2, 0]) * inv, (r[..., 0, 1] + r[..., 1, 0]) * inv, half,
                   (r[..., 1, 2] + r[..., 2, 1]) * inv])
    z = np.select([best == 0, best == 1, best == 2, best == 3],
                  [(r[..., 1, 0] - r[..., 0, 1]) * inv, (r[..., 0, 2] + r[..., 2, 0]) * inv,
                   (r[..., 1, 2] + r[..., 2, 1]) * inv, half])
    q[..., 0], q[..., 1], q[..., 2], q[..., 3] = w, x, y, z
    q *= np.where(q[..., :1] < 0, -1.0, 1.0)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4), scalar first, to rotation matrices (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    r = np.empty(q.shape[:-1] + (3, 3))
    r[..., 0, 0] = 1 - 2 * (y * y + z * z)
    r[..., 0, 1] = 2 * (x * y - w * z)
    r[..., 0, 2] = 2 * (x * z + w * y)
    r[..., 1, 0] = 2 * (x * y + w * z)
    r[..., 1, 1] = 1 - 2 * (x * x + z * z)
    r[..., 1, 2] = 2 * (y * z - w * x)
    r[..., 2, 0] = 2 * (x * z - w * y)
    r[..., 2, 1] = 2 * (y * z + w * x)
    r[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return r


def make_continuous(q: np.ndarray) -> np.ndarray:
    """Flip signs so consecutive quaternions lie in the same hemisphere (q and -q are one rotation)."""
    if len(q) < 2:
        return q
    flips = np.sum(q[1:] * q[:-1], axis=-1) < 0
    parity = np.concatenate([[0], np.cumsum(flips) % 2])
    return q * np.where(parity == 1, -1.0, 1.0)[:, None]
