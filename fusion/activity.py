"""Vertical motion of the pelvis from the earth-frame acceleration: the "depth" signal that
activity transitions and squat reps are found in.

A sit-down, a stand-up and a squat move the pelvis 0.2–0.6 m vertically in 1–3 s; the vertical
acceleration is small next to gravity (about 1–2 m/s²), and an accelerometer bias of 20–60 mg
along gravity would swamp a plain double integral within seconds. So, streaming and identical
to batch processing:

1. remove the slowly varying offset of the vertical acceleration (first-order high-pass,
   ``offset_tau_s``): the pelvis cannot keep accelerating, so its long-term mean is bias;
2. integrate to a velocity and again to a position with leaky integrators (``tau_s``), which
   keeps the 0.2–0.5 Hz movements and forgets drift;
3. ``zupt_displacement`` refines a single movement between two moments at rest (zero-velocity
   update at both ends), for depth and net height change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion._quaternion import earth_up_in_sensor
from fusion.conventions import STANDARD_GRAVITY


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


@dataclass(frozen=True)
class VerticalParams:
    offset_tau_s: float = 10.0
    """Time constant of the vertical-acceleration offset (bias) tracker."""
    tau_s: float = 4.0
    """Leak time constant of the velocity and position integrators."""
    max_step_s: float = 0.05
    """Longest sample interval integrated as is; a longer one (a gap) only decays the state."""


@dataclass(frozen=True, eq=False)
class VerticalBatch:
    t: np.ndarray
    acc_z: np.ndarray
    """Vertical acceleration as measured (gravity removed, offset kept), m/s²: for ZUPT refinement."""
    centred_acc_z: np.ndarray
    """Vertical acceleration with its slow offset removed, m/s²."""
    velocity: np.ndarray
    """High-passed vertical velocity, m/s."""
    position: np.ndarray
    """High-passed vertical position, m (dips during squats and sit-downs)."""


class VerticalMotion:
    """Streaming: feed (t, vertical acceleration) batches; state carries across them."""

    def __init__(self, params: VerticalParams | None = None):
        self.params = params or VerticalParams()
        self.reset()

    def reset(self) -> None:
        self._last_t: float | None = None
        self._offset_state: float | None = None
        self._v = 0.0
        self._p = 0.0

    def update(self, t: np.ndarray, acc_z: np.ndarray) -> VerticalBatch:
        p = self.params
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        if len(t) == 0:
            empty = np.zeros(0)
            return VerticalBatch(empty, empty, empty, empty, empty)
        acc_z = np.where(np.isfinite(acc_z), acc_z, 0.0)
        previous = self._last_t if self._last_t is not None else t[0]
        dt_full = np.diff(t, prepend=previous)
        dt_full = np.clip(dt_full, 0.0, None)
        dt = np.minimum(dt_full, p.max_step_s)
        if self._offset_state is None:
            self._offset_state = float(acc_z[0]) * p.offset_tau_s  # start at the first reading
        # Offset: leaky integral of acc scaled by 1/tau is its exponential moving average.
        offset_state = leaky_integrate(acc_z, dt, p.offset_tau_s, self._offset_state)
        centred = acc_z - offset_state / p.offset_tau_s
        # A gap decays the integrators by its full length but adds nothing.
        decay_extra = np.exp(-(dt_full - dt) / p.tau_s)
        v = _leaky_with_extra_decay(centred, dt, p.tau_s, self._v, decay_extra)
        pos = _leaky_with_extra_decay(v, dt, p.tau_s, self._p, decay_extra)
        self._offset_state = float(offset_state[-1])
        self._v, self._p = float(v[-1]), float(pos[-1])
        self._last_t = float(t[-1])
        return VerticalBatch(t=t, acc_z=acc_z, centred_acc_z=centred, velocity=v, position=pos)


def _leaky_with_extra_decay(x, dt, tau_s, y0, decay_extra):
    gaps = np.flatnonzero(decay_extra < 1.0)
    if len(gaps) == 0:
        return leaky_integrate(x, dt, tau_s, y0)
    out = np.empty_like(x)
    bounds = np.concatenate(([0], gaps, [len(x)]))
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a == b:
            continue
        y0 = y0 * decay_extra[a]
        out[a:b] = leaky_integrate(x[a:b], dt[a:b], tau_s, y0)
        y0 = float(out[b - 1])
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


@dataclass(frozen=True)
class BoutParams:
    rest_window_s: float = 0.3
    """A moment is "at rest" when a window this long is quiet (skdh uses 0.3 s)."""
    rest_acc_sd: float = 0.12
    """m/s²: SD of the vertical acceleration in the window."""
    rest_gyr: float = 0.12
    """rad/s: mean gyro norm in the window (about 7°/s). Needed: a steady descent has little
    acceleration, but the pelvis pitches throughout every squat and sit-to-stand."""
    max_bout_s: float = 60.0
    """Longer movement without rest (walking) is not integrated as one piece."""
    join_rest_s: float = 1.5
    """Movements separated by a shorter rest form one bout (a pause at the bottom of a squat)."""
    max_gap_s: float = 0.1
    """A longer sample interval cuts the bout (its integral cannot be trusted)."""


@dataclass(frozen=True, eq=False)
class Bout:
    """A stretch of movement between two moments at rest, integrated with zero velocity at both."""

    t: np.ndarray
    acc_z: np.ndarray
    position: np.ndarray
    """m, 0 at the start; zero-velocity update at both ends."""
    start_index: int
    """Index into the caller's stream of the first sample (counted from the tracker's start)."""
    complete: bool
    """Rest at both ends (else it was cut by a gap or by ``max_bout_s``; position is NaN)."""

    @property
    def net_m(self) -> float:
        return float(self.position[-1]) if len(self.position) else 0.0


def quiet_windows(acc_z: np.ndarray, gyr: np.ndarray, window: int, params: BoutParams) -> np.ndarray:
    """Per sample: the trailing window of ``window`` samples ending here is quiet (moving sums).
    The first ``window - 1`` entries describe partial windows and are False."""
    n = len(acc_z)

    def trailing_mean(x):
        c = np.concatenate(([0.0], np.cumsum(x)))
        return (c[window:] - c[:-window]) / window if n >= window else np.zeros(0)

    mean = trailing_mean(acc_z)
    sd = np.sqrt(np.maximum(trailing_mean(acc_z ** 2) - mean ** 2, 0.0))
    # The mean is not tested: it holds the accelerometer bias along gravity.
    quiet = (sd < params.rest_acc_sd) & (trailing_mean(np.linalg.norm(gyr, axis=1)) < params.rest_gyr)
    return np.concatenate([np.zeros(min(n, window - 1), dtype=bool), quiet])


class BoutTracker:
    """Streaming: buffers samples since the last rest and returns each bout once it closed.

    A sample is at rest when every window covering it is quiet. A bout is a run of samples not at
    rest, integrated from the rest sample before it to the rest sample after it.
    """

    def __init__(self, params: BoutParams | None = None, sample_rate_hz: float = 100.0):
        self.params = params or BoutParams()
        self._window = max(2, int(round(self.params.rest_window_s * sample_rate_hz)))
        self.reset()

    def reset(self) -> None:
        self._t = np.zeros(0)
        self._acc = np.zeros(0)
        self._quiet = np.zeros(0, dtype=bool)
        self._extra: dict[str, np.ndarray] = {}
        self._tail_acc = np.zeros(0)
        self._tail_gyr = np.zeros((0, 3))
        self._offset = 0  # stream index of self._t[0]

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray,
               **extra: np.ndarray) -> list[tuple[Bout, dict[str, np.ndarray]]]:
        """``acc_z``: vertical acceleration (m/s², gravity removed); ``gyr`` (N, 3) rad/s.
        ``extra`` per-sample arrays (e.g. tilt) are cut alongside each bout."""
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        if len(t) == 0:
            return []
        # Quiet flags of the new samples, with the previous window - 1 samples as context.
        acc_ctx = np.concatenate([self._tail_acc, acc_z])
        gyr_ctx = np.concatenate([self._tail_gyr, np.asarray(gyr, dtype=float).reshape(-1, 3)])
        quiet = quiet_windows(acc_ctx, gyr_ctx, self._window, self.params)[-len(t):]
        keep = self._window - 1
        self._tail_acc = acc_ctx[-keep:]
        self._tail_gyr = gyr_ctx[-keep:]
        self._t = np.concatenate([self._t, t])
        self._acc = np.concatenate([self._acc, acc_z])
        self._quiet = np.concatenate([self._quiet, quiet])
        for k, v in extra.items():
            self._extra[k] = np.concatenate([self._extra.get(k, np.zeros(0)), np.asarray(v, dtype=float)])
        return self._scan()

    def _rest(self) -> np.ndarray:
        # At rest only when every window covering the sample is quiet: a window that holds
        # the first moments of a movement is not, so the anchor stays before the onset.
        rest = self._quiet.copy()
        for k in range(1, self._window):
            rest[:-k] &= self._quiet[k:]
        rest[len(rest) - self._window + 1:] = False  # their later windows are not in yet
        return rest

    def _cut(self, i0: int, i1: int, complete: bool, rest: np.ndarray):
        t = self._t[i0:i1 + 1]
        acc = self._acc[i0:i1 + 1]
        pos = _piecewise_zupt(t, acc, rest[i0:i1 + 1]) if complete else np.full(len(t), np.nan)
        bout = Bout(t=t, acc_z=acc, position=pos, start_index=self._offset + i0, complete=complete)
        return bout, {k: v[i0:i1 + 1] for k, v in self._extra.items()}

    def _drop(self, i: int) -> None:
        self._t, self._acc, self._quiet = self._t[i:], self._acc[i:], self._quiet[i:]
        self._extra = {k: v[i:] for k, v in self._extra.items()}
        self._offset += i

    def _chain_end(self, rest: np.ndarray, m0: int) -> int | None:
        """The rest sample closing the movement that starts at ``m0``, joining movements
        separated by less than ``join_rest_s`` of rest; None while that is not known yet."""
        t = self._t
        i = m0
        while True:
            after = np.flatnonzero(rest[i:])
            if len(after) == 0:
                return None
            end = i + int(after[0])
            nxt = np.flatnonzero(~rest[end:])
            if len(nxt) == 0:
                return end if t[-1] - t[end] >= self.params.join_rest_s else None
            i = end + int(nxt[0])
            if t[i - 1] - t[end] >= self.params.join_rest_s:
                return end

    def _scan(self):
        p = self.params
        out = []
        while len(self._t) > 1:
            rest = self._rest()
            moving = np.flatnonzero(~rest)
            if len(moving) == 0:
                self._drop(len(self._t) - 1)
                break
            m0 = int(moving[0])
            if m0 > 1:
                self._drop(m0 - 1)  # keep the last rest sample as the anchor
                continue
            end = self._chain_end(rest, m0)
            gaps = np.flatnonzero(np.diff(self._t) > p.max_gap_s)
            gap = int(gaps[0]) if len(gaps) else None
            if gap is not None and (end is None or gap < end):
                if gap >= m0:
                    out.append(self._cut(0, gap, False, rest))
                self._drop(gap + 1)
                continue
            if end is None:
                if self._t[-1] - self._t[0] > p.max_bout_s:
                    out.append(self._cut(0, len(self._t) - 1, False, rest))
                    self._drop(len(self._t) - 1)
                break
            out.append(self._cut(0, end, bool(rest[0]) and self._t[end] - self._t[0] <= p.max_bout_s, rest))
            self._drop(end)
        return out


def _piecewise_zupt(t: np.ndarray, acc_z: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Position over movements separated by rests: each movement is integrated between the
    rest samples around it; the position holds still while at rest."""
    pos = np.zeros(len(t))
    moving = np.flatnonzero(~rest)
    if len(moving) == 0:
        return pos
    starts = moving[np.concatenate(([True], np.diff(moving) > 1))]
    stops = moving[np.concatenate((np.diff(moving) > 1, [True]))]
    level = 0.0
    last = 0
    for a, b in zip(starts, stops):
        a0, b1 = max(int(a) - 1, 0), min(int(b) + 1, len(t) - 1)
        pos[last:a0 + 1] = level
        pos[a0:b1 + 1] = level + zupt_displacement(t[a0:b1 + 1], acc_z[a0:b1 + 1])
        level = float(pos[b1])
        last = b1
    pos[last:] = level
    return pos
