"""Vertical motion of the pelvis from the earth-frame acceleration: the "depth" signal that
sit/stand transfers and squat reps are found in.

A sit-down, a stand-up and a squat move the pelvis 0.2–0.6 m vertically in 1–3 s; the vertical
acceleration is small next to gravity (about 1–2 m/s²), and an accelerometer bias of 20–60 mg
along gravity would swamp a plain double integral within seconds. So a movement is integrated
between two moments at rest with zero velocity at both (``zupt_displacement``): the bias along
gravity becomes a linear velocity drift and is removed exactly. ``fusion.bouts`` finds those
moments; ``zigzag`` and ``find_dips`` read turning points and down-and-up dips off the position.
"""

from __future__ import annotations

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from fusion._quaternion import earth_up_in_sensor

def vertical_acceleration(acc: np.ndarray, quaternion: np.ndarray) -> np.ndarray:
    """Earth-frame vertical acceleration (m/s², up positive, gravity removed) per sample."""
    up = earth_up_in_sensor(quaternion)  # third row of R(q): (R acc)_z = up · acc
    return np.einsum("ij,ij->i", up, np.asarray(acc, dtype=float)) - STANDARD_GRAVITY


def leaky_integrate(x: np.ndarray, dt: np.ndarray, tau_s: float, y0: float = 0.0) -> np.ndarray:
    """y' = x - y/tau, sampled: y[n] = exp(-dt[n]/tau) y[n-1] + x[n] dt[n]. Vectorised in blocks
    (closed form with cumulative sums; blocks keep exp() in range)."""
    x = np.asarray(x, dtype=float)
    dt = np.asarray(dt, dtype=float)
    out = np.empty_like(x)
    decay = np.cumsum(dt / tau_s)
    start = 0
    while start < len(x):
        stop = int(np.searchsorted(decay, decay[start] + 20.0, side="right"))
        stop = max(stop, start + 1)
        d = decay[start:stop] - decay[start] + dt[start] / tau_s
        weighted = np.cumsum(np.exp(d) * x[start:stop] * dt[start:stop])
        out[start:stop] = np.exp(-d) * (y0 + weighted)
        y0 = float(out[stop - 1])
        start = stop
    return out


def zupt_displacement(t: np.ndarray, acc_z: np.ndarray) -> np.ndarray:
    """Vertical position (m, 0 at the start) over one movement assumed at rest at both ends:
    the velocity integral is corrected linearly so it is zero at the start and the end."""
    t = np.asarray(t, dtype=float)
    if len(t) < 2:
        return np.zeros(len(t))
    dt = np.diff(t)
    velocity = np.concatenate(([0.0], np.cumsum(0.5 * (acc_z[1:] + acc_z[:-1]) * dt)))
    velocity -= velocity[-1] * (t - t[0]) / (t[-1] - t[0])
    return np.concatenate(([0.0], np.cumsum(0.5 * (velocity[1:] + velocity[:-1]) * dt)))


def zigzag(values: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Turning points of a signal that moved at least ``threshold`` between them.

    Returns (indices, kinds) with kind +1 for a peak and -1 for a valley, alternating. The last
    pivot is tentative (the signal may still move past it).
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    # Only local extrema (and the ends) can be pivots; walking them is cheap.
    d = np.sign(np.diff(values))
    turns = np.flatnonzero(d[1:] != d[:-1]) + 1
    candidates = np.concatenate(([0], turns, [len(values) - 1]))
    pivots: list[int] = []
    kinds: list[int] = []
    mode = 0  # 0: undecided, +1: tracking a peak, -1: tracking a valley
    hi = lo = int(candidates[0])
    for i in candidates[1:]:
        v = values[i]
        if mode >= 0:
            if v > values[hi]:
                hi = int(i)
            elif values[hi] - v >= threshold:
                pivots.append(hi)
                kinds.append(1)
                mode, lo = -1, int(i)
                continue
        if mode <= 0:
            if v < values[lo]:
                lo = int(i)
            elif v - values[lo] >= threshold:
                pivots.append(lo)
                kinds.append(-1)
                mode, hi = 1, int(i)
    if mode == 1:
        pivots.append(hi)
        kinds.append(1)
    elif mode == -1:
        pivots.append(lo)
        kinds.append(-1)
    return np.asarray(pivots, dtype=int), np.asarray(kinds, dtype=int)


def find_dips(z: np.ndarray, min_depth_m: float, max_net_fraction: float,
              hysteresis_fraction: float = 0.6) -> list[tuple[int, int, int]]:
    """Down-and-back-up movements of a bout's position ``z``: (top before, bottom, top after)
    indices, each going down at least ``min_depth_m`` and coming back to within
    ``max_net_fraction`` of its depth. The bout's ends are at rest, so they count as tops."""
    pivots, kinds = zigzag(z, min_depth_m * hysteresis_fraction)
    if len(pivots) == 0:
        return []
    if kinds[0] == -1:
        pivots, kinds = np.concatenate(([0], pivots)), np.concatenate(([1], kinds))
    if kinds[-1] == -1:
        pivots, kinds = np.concatenate((pivots, [len(z) - 1])), np.concatenate((kinds, [1]))
    dips = []
    for k in range(1, len(pivots) - 1):
        if kinds[k] != -1:
            continue
        a, v, b = int(pivots[k - 1]), int(pivots[k]), int(pivots[k + 1])
        depth = 0.5 * (z[a] + z[b]) - z[v]
        if depth >= min_depth_m and abs(z[b] - z[a]) <= max_net_fraction * depth:
            dips.append((a, v, b))
    return dips
