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
   ``BoutTracker`` first removes the part of the bias that follows the pelvic pitch (a
   sensor-frame accelerometer bias, :func:`pitch_bias_coefficient`): the update removes only a
   constant one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fusion._quaternion import earth_up_in_sensor
from firmware_interface.conventions import STANDARD_GRAVITY


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
    rest_acc_level: float = 0.15
    """m/s²: the window's mean may differ this much from the resting level (the slow average
    below). Needed: as a descent is braked, the pelvis stops pitching and the deceleration
    peaks smoothly, so for a few tenths of a second neither the SD nor the gyro tells it from
    rest, yet the pelvis still moves at 0.1–0.3 m/s; a zero-velocity update there loses the
    rest of the descent."""
    level_tau_s: float = 10.0
    """Time constant of the resting level of the vertical acceleration (its bias along
    gravity: the pelvis cannot keep accelerating, so the long-term mean is bias)."""
    max_bout_s: float = 60.0
    """Longer movement without rest (walking) is not integrated as one piece."""
    join_rest_s: float = 1.5
    """Movements separated by a shorter rest form one bout (a pause at the bottom of a squat)."""
    max_gap_s: float = 0.8
    """A longer sample interval cuts the bout (its integral cannot be trusted). Shorter bursts
    of lost samples (BLE drops 5–30 in a row: 0.6 s at 50 Hz) are bridged: the trapezoid rule interpolates
    the acceleration linearly across them."""
    acc_bias_sd_m_s2: float = 0.3
    """Prior SD of the accelerometer bias per axis (consumer MEMS: 20–60 mg), for
    :func:`pitch_bias_coefficient`."""
    closure_sd_m_s: float = 0.05
    """SD of the velocity a movement appears to gain between two rests from other errors (noise,
    lost samples, orientation error), for :func:`pitch_bias_coefficient`."""


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
    pitch_bias_m_s2: float = 0.0
    """The part of the vertical acceleration's bias that follows sin(pitch), removed before
    integrating (0 when the pitch is unknown)."""

    @property
    def net_m(self) -> float:
        return float(self.position[-1]) if len(self.position) else 0.0


def quiet_windows(acc_z: np.ndarray, gyr: np.ndarray, window: int, params: BoutParams,
                  level: np.ndarray | None = None) -> np.ndarray:
    """Per sample: the trailing window of ``window`` samples ending here is quiet (moving sums).
    ``level``: the resting level of ``acc_z`` per sample (None: the mean is not tested).
    The first ``window - 1`` entries describe partial windows and are False."""
    n = len(acc_z)

    def trailing_mean(x):
        c = np.concatenate(([0.0], np.cumsum(x)))
        return (c[window:] - c[:-window]) / window if n >= window else np.zeros(0)

    mean = trailing_mean(acc_z)
    sd = np.sqrt(np.maximum(trailing_mean(acc_z ** 2) - mean ** 2, 0.0))
    quiet = (sd < params.rest_acc_sd) & (trailing_mean(np.linalg.norm(gyr, axis=1)) < params.rest_gyr)
    if level is not None and n >= window:
        # The mean holds the bias along gravity, so it is compared with the resting level.
        quiet &= np.abs(mean - level[window - 1:]) < params.rest_acc_level
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
        self._tail_level = np.zeros(0)
        self._level_state: float | None = None
        self._last_t: float | None = None
        self._offset = 0  # stream index of self._t[0]

    def _resting_level(self, t: np.ndarray, acc_z: np.ndarray) -> np.ndarray:
        """Exponential moving average of the vertical acceleration (``level_tau_s``); a gap
        counts as at most 0.1 s so it does not reweight the average."""
        tau = self.params.level_tau_s
        finite = np.where(np.isfinite(acc_z), acc_z, 0.0)
        previous = self._last_t if self._last_t is not None else t[0]
        dt = np.clip(np.diff(t, prepend=previous), 0.0, 0.1)
        if self._level_state is None:
            self._level_state = float(finite[0]) * tau
        state = leaky_integrate(finite, dt, tau, self._level_state)
        self._level_state = float(state[-1])
        self._last_t = float(t[-1])
        return state / tau

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray,
               **extra: np.ndarray) -> list[tuple[Bout, dict[str, np.ndarray]]]:
        """``acc_z``: vertical acceleration (m/s², gravity removed); ``gyr`` (N, 3) rad/s.
        ``extra`` per-sample arrays are cut alongside each bout; ``tilt`` (pelvic pitch, degrees,
        NaN when unknown), if given, also corrects the integral (:func:`pitch_bias_coefficient`)."""
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        if len(t) == 0:
            return []
        # Quiet flags of the new samples, with the previous window - 1 samples as context.
        acc_ctx = np.concatenate([self._tail_acc, acc_z])
        gyr_ctx = np.concatenate([self._tail_gyr, np.asarray(gyr, dtype=float).reshape(-1, 3)])
        level_ctx = np.concatenate([self._tail_level, self._resting_level(t, acc_z)])
        quiet = quiet_windows(acc_ctx, gyr_ctx, self._window, self.params, level_ctx)[-len(t):]
        keep = self._window - 1
        self._tail_acc = acc_ctx[-keep:]
        self._tail_gyr = gyr_ctx[-keep:]
        self._tail_level = level_ctx[-keep:]
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
        coefficient = 0.0
        if not complete:
            pos = np.full(len(t), np.nan)
        else:
            corrected = acc
            if "tilt" in self._extra:
                # The rest around the bout: the window before its first sample and after its last.
                around = np.zeros(len(self._t), dtype=bool)
                around[max(i0 - self._window + 1, 0):i1 + self._window] = True
                around &= rest
                sin_pitch = np.sin(np.radians(self._extra["tilt"]))
                coefficient = pitch_bias_coefficient(t, acc, sin_pitch[i0:i1 + 1], rest[i0:i1 + 1],
                                                     float(np.mean(self._acc[around])),
                                                     float(np.mean(sin_pitch[around])),
                                                     self.params)
                if coefficient:
                    corrected = acc - coefficient * sin_pitch[i0:i1 + 1]
            pos = _piecewise_zupt(t, corrected, rest[i0:i1 + 1])
        bout = Bout(t=t, acc_z=acc, position=pos, start_index=self._offset + i0, complete=complete,
                    pitch_bias_m_s2=coefficient)
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
            # Keep the rest window before the movement: its last sample is the anchor, and the
            # window gives the resting level of the acceleration.
            if len(moving) == 0:
                self._drop(max(len(self._t) - self._window, 0))
                break
            m0 = int(moving[0])
            if m0 > self._window:
                self._drop(m0 - self._window)
                continue
            a0 = max(m0 - 1, 0)
            end = self._chain_end(rest, m0)
            gaps = np.flatnonzero(np.diff(self._t) > p.max_gap_s)
            gap = int(gaps[0]) if len(gaps) else None
            if gap is not None and (end is None or gap < end):
                if gap >= m0:
                    out.append(self._cut(a0, gap, False, rest))
                self._drop(gap + 1)
                continue
            if end is None:
                if self._t[-1] - self._t[a0] > p.max_bout_s:
                    out.append(self._cut(a0, len(self._t) - 1, False, rest))
                    self._drop(len(self._t) - 1)
                break
            out.append(self._cut(a0, end, bool(rest[a0]) and self._t[end] - self._t[a0] <= p.max_bout_s, rest))
            self._drop(end)
        return out


def pitch_bias_coefficient(t: np.ndarray, acc_z: np.ndarray, sin_pitch: np.ndarray, rest: np.ndarray,
                           rest_acc: float, rest_sin_pitch: float, params: BoutParams) -> float:
    """The coefficient ``c`` (m/s²) of the vertical acceleration's error that follows the pitch.

    An accelerometer bias ``b`` (sensor frame) adds ``b · up`` to the vertical acceleration,
    ``up`` being the earth's up in the sensor frame: as the pelvis pitches by θ this changes by
    about ``c sin θ`` (c is the bias along the sensor axis that turns towards vertical), up to
    0.3 m/s² over a squat. A zero-velocity update removes only a constant bias, so the rest leaves
    a bump of up to 0.1 m in the position: reps look shallow and drift apart. The level at rest
    (``rest_acc`` at ``rest_sin_pitch``) gives the constant part; ``c`` is then the least-squares
    fit to the velocity each movement gains between its two moments at rest, which must be zero,
    shrunk towards 0 by the prior of the bias (ridge): small movements with little pitch, such as
    fidgets, cannot tell a bias from the other errors. 0 when the pitch is unknown in the bout."""
    if not (np.isfinite(sin_pitch).all() and np.isfinite(rest_acc) and np.isfinite(rest_sin_pitch)):
        return 0.0
    pull = pitch_time = 0.0
    for a, b in _movements(rest):
        seg = slice(a, b + 1)
        gained = np.trapezoid(acc_z[seg] - rest_acc, t[seg])
        pitched = np.trapezoid(sin_pitch[seg] - rest_sin_pitch, t[seg])
        pull += gained * pitched
        pitch_time += pitched ** 2
    return float(pull / (pitch_time + (params.closure_sd_m_s / params.acc_bias_sd_m_s2) ** 2))


def _movements(rest: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each movement with the rest sample on either side."""
    moving = np.flatnonzero(~rest)
    if len(moving) == 0:
        return []
    starts = moving[np.concatenate(([True], np.diff(moving) > 1))]
    stops = moving[np.concatenate((np.diff(moving) > 1, [True]))]
    return [(max(int(a) - 1, 0), min(int(b) + 1, len(rest) - 1)) for a, b in zip(starts, stops)]


def _piecewise_zupt(t: np.ndarray, acc_z: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Position over movements separated by rests: each movement is integrated between the
    rest samples around it; the position holds still while at rest."""
    pos = np.zeros(len(t))
    level = 0.0
    last = 0
    for a0, b1 in _movements(rest):
        pos[last:a0 + 1] = level
        pos[a0:b1 + 1] = level + zupt_displacement(t[a0:b1 + 1], acc_z[a0:b1 + 1])
        level = float(pos[b1])
        last = b1
    pos[last:] = level
    return pos


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


@dataclass(frozen=True)
class Transition:
    kind: str
    """"sit_to_stand" or "stand_to_sit"."""
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ActivitySpan:
    start_s: float
    end_s: float
    activity: str


@dataclass(frozen=True)
class ActivityParams:
    min_transfer_m: float = 0.2
    """Net vertical displacement of a sit-to-stand or stand-to-sit (skdh uses 0.125 m; a
    sacral sensor moves 0.25–0.45 m in one, a seated posture shift up to about 0.15 m)."""
    min_transfer_speed_m_s: float = 0.2
    """Peak vertical speed of a transfer (skdh's 0.2 m/s)."""
    max_transfer_bout_s: float = 10.0
    """A longer bout (walking about, a squat set) is no single transfer or hinge."""
    other_tilt_excursion_deg: float = 25.0
    """A bout that turns the pelvis this far and is neither a transfer nor a squat (a hip
    hinge, picking something up) is "other"."""
    walk_window_s: float = 2.0
    walk_acc_sd: float = 1.0
    """m/s²: SD of the step-band (above about 1 Hz) vertical acceleration over the window;
    walking bounces about 2 m/s², squats and transfers have little energy there."""
    walk_min_step_hz: float = 1.2
    walk_max_step_hz: float = 3.5
    """Step frequencies counted as walking (mean crossing rate of the detrended acceleration / 2)."""
    walk_max_gap_s: float = 0.1
    """Step-band values whose 0.5-s moving average spans a longer sample interval are left out
    of the walking windows (the acceleration jumps across a gap of lost samples)."""
    walk_min_periodicity: float = 0.45
    """Normalised autocorrelation of the step-band acceleration one step period later: steps
    repeat (walking 0.6–0.8), the up-and-down bursts of a fast deep squat do not (below 0.35),
    though they can be as large and cross zero as often."""
    lying_tilt_deg: float = 60.0
    """|tilt| from the standing neutral beyond which the trunk is lying (Vähä-Ypyä: 65° lie/sit)."""
    lying_hold_s: float = 3.0
    squat_set_gap_s: float = 5.0
    """Squatting bouts closer than this are one set: the pause between them is squatting too."""
    sit_tiebreak_deg: float = -12.0
    """A "standing" posture held this far posterior for ``tiebreak_hold_s`` is sitting (11.6°)."""
    tiebreak_hold_s: float = 5.0
    min_dip_m: float = 0.12
    """Squat-like dips (for the "squatting" label), as SquatParams.min_depth_m."""
    max_dip_net_fraction: float = 0.5
    bouts: BoutParams = field(default_factory=BoutParams)

    def __post_init__(self) -> None:
        from firmware_interface.errors import UsageError

        if not 0.05 <= self.min_transfer_m <= 0.6:
            raise UsageError(f"min_transfer_m must be in [0.05, 0.6] m, got {self.min_transfer_m}")
        if not 30.0 <= self.lying_tilt_deg <= 90.0:
            raise UsageError(f"lying_tilt_deg must be in [30, 90] degrees, got {self.lying_tilt_deg}")
        if not -45.0 <= self.sit_tiebreak_deg <= -5.0:
            raise UsageError(f"sit_tiebreak_deg must be in [-45, -5] degrees, got {self.sit_tiebreak_deg}")
        if not 0.0 < self.walk_min_step_hz < self.walk_max_step_hz:
            raise UsageError("walk_min_step_hz must be positive and below walk_max_step_hz")


@dataclass(frozen=True, eq=False)
class ActivityUpdate:
    labels: np.ndarray
    """Per-sample activity of this batch (str). Movements are recognised when they end, so a
    transfer or a squat set is labelled in the batch where its bout closes (about 1.5 s after
    the wearer comes to rest); samples of earlier batches are corrected in ``revisions``."""
    transitions: tuple[Transition, ...] = ()
    revisions: tuple[ActivitySpan, ...] = ()
    """Corrected labels for samples delivered in earlier batches (apply in order; each covers
    the earlier samples with ``start_s <= t <= end_s``)."""


class ActivityClassifier:
    """Standing, sitting, walking, squatting, lying, other from the sacrum sensor alone.

    A transition-driven state machine (biomechanics notes §3.3): movement bouts between rests
    are integrated to a vertical displacement (zero-velocity updates at the rests); a bout that
    lowers the pelvis by ``min_transfer_m`` or more is a stand-to-sit, one that raises it a
    sit-to-stand, one with down-and-up dips is squatting, one that turns the pelvis far is
    "other"; between bouts the posture holds. Walking (a large vertical bounce at 1.2–3.5
    steps/s that repeats one step period later) overrides and leaves the wearer standing. Lying: the pelvis beyond
    ±60° from the standing neutral for 3 s. Tie-breaker for a missed stand-to-sit: "standing"
    held 12° or more posterior for 5 s is sitting. Before calibration (NaN tilt) only the
    movement cues are used.

    Live delay: a bout is judged when it ends plus ``BoutParams.join_rest_s`` of rest; walking
    once a window (2 s) shows steps, plus 0.25 s (the centred moving average); the last 0.25 s
    of a batch and stretches over lost samples are labelled walking in later batches'
    ``revisions``.
    """

    def __init__(self, params: ActivityParams | None = None, sample_rate_hz: float = 100.0):
        self.params = params or ActivityParams()
        self._rate_hz = float(sample_rate_hz)
        self._bouts = BoutTracker(self.params.bouts, sample_rate_hz)
        self.reset()

    def reset(self) -> None:
        self._bouts.reset()
        self._posture = "standing"
        self._tail_t = np.zeros(0)
        self._tail_acc = np.zeros(0)
        self._walked_until_s = -np.inf  # end of the walking reported so far (labels or revisions)
        self._walk_held = False  # judgement of the last window without a gap
        self._tiebreak_since: float | None = None
        self._last_squat_end_s = -np.inf

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray, tilt_deg: np.ndarray) -> ActivityUpdate:
        """``acc_z``: earth-frame vertical acceleration (m/s², gravity removed, see
        :func:`vertical_acceleration`); ``gyr`` (N, 3) rad/s; ``tilt_deg`` vs the standing
        neutral (NaN before calibration)."""
        p = self.params
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        tilt = np.asarray(tilt_deg, dtype=float)
        n = len(t)
        if n == 0:
            return ActivityUpdate(labels=np.empty(0, dtype="<U9"))
        walking, walked_earlier = self._walking(t, acc_z)
        # Posture changes (time, posture) and painted spans, in time order, then one pass.
        changes: list[tuple[float, str]] = []
        spans: list[tuple[float, float, str]] = []
        transitions: list[Transition] = []
        posture = self._posture
        walk_edges = np.flatnonzero(np.diff(np.concatenate([walking.astype(np.int8), [0]])) == -1)
        walk_ends = [float(t[i]) for i in walk_edges]
        last_bout_end_s = -np.inf
        for bout, extra in self._bouts.update(t, acc_z, gyr, tilt=tilt, walking=walking.astype(float)):
            if not bout.complete or extra["walking"].mean() > 0.5:
                continue
            # Walking that ended since the last bout left the wearer standing.
            if any(last_bout_end_s < w <= bout.t[0] for w in walk_ends):
                posture = "standing"
            last_bout_end_s = float(bout.t[-1])
            z = bout.position
            bt = bout.t
            net = bout.net_m
            bout_tilt = extra["tilt"]
            lying_at = np.isfinite(bout_tilt) & (np.abs(bout_tilt) >= p.lying_tilt_deg)
            dips = find_dips(z, p.min_dip_m, p.max_dip_net_fraction)
            if lying_at[-1] or lying_at[0]:
                # Lying down or getting up: a change of posture but not a sit/stand transfer.
                spans.append((float(bt[0]), float(bt[-1]), "other"))
                posture = "lying" if lying_at[-1] else ("standing" if net >= p.min_transfer_m else "sitting")
                changes.append((float(bt[-1]), posture))
            elif (abs(net) >= p.min_transfer_m and not dips and bt[-1] - bt[0] <= p.max_transfer_bout_s
                  and _peak_speed_m_s(bt, z) >= p.min_transfer_speed_m_s):
                # Span: from leaving the start height to reaching the end height (3% of the move).
                moved = np.abs(z) > 0.03 * abs(net)
                arrived = np.abs(z - net) < 0.03 * abs(net)
                i0 = int(np.argmax(moved))
                i1 = i0 + int(np.argmax(arrived[i0:]))
                new = "sitting" if net < 0 else "standing"
                if (new == "sitting") != (posture == "sitting"):
                    transitions.append(Transition("stand_to_sit" if net < 0 else "sit_to_stand",
                                                  float(bt[i0]), float(bt[i1])))
                spans.append((float(bt[i0]), float(bt[i1]), "other"))
                posture = new
                changes.append((float(bt[i1]), posture))
            elif dips:
                start_s, end_s = float(bt[dips[0][0]]), float(bt[dips[-1][2]])
                if start_s - self._last_squat_end_s <= p.squat_set_gap_s:
                    start_s = self._last_squat_end_s  # the pause between reps of one set
                spans.append((start_s, end_s, "squatting"))
                self._last_squat_end_s = end_s
            elif np.isfinite(bout_tilt).any() and bt[-1] - bt[0] <= p.max_transfer_bout_s:
                # Turning far and back (a hinge, picking something up); a posture shift that
                # stays turned is not "other".
                finite = bout_tilt[np.isfinite(bout_tilt)]
                away = np.minimum(np.abs(finite - finite[0]), np.abs(finite - finite[-1]))
                if away.max() >= p.other_tilt_excursion_deg:
                    spans.append((float(bt[0]), float(bt[-1]), "other"))
        changes += [(w, "standing") for w in walk_ends]
        labels = np.empty(n, dtype="<U9")
        labels[:] = self._posture
        revisions: list[ActivitySpan] = []
        for when, what in sorted(changes, key=lambda c: c[0]):
            labels[t > when] = what
            self._posture = what
            if when < t[0]:
                revisions.append(ActivitySpan(when, float(t[0]), what))
        for start_s, end_s, what in spans:
            labels[(t >= start_s) & (t <= end_s)] = what
            if start_s < t[0]:
                revisions.append(ActivitySpan(start_s, min(end_s, float(t[0])), what))
        labels[walking] = "walking"
        revisions += [ActivitySpan(start_s, end_s, "walking") for start_s, end_s in walked_earlier]
        self._apply_posture_cues(t, tilt, labels)
        return ActivityUpdate(labels=labels, transitions=tuple(transitions), revisions=tuple(revisions))

    def _walking(self, t: np.ndarray, acc_z: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
        """Windows of ``walk_window_s`` that show steps: a large step-band bounce at a step rate,
        repeating one step period later. Returns the walking samples of this batch and the
        walking spans (s) over samples of earlier batches (windows judged only now).

        A window is judged once the 0.25-s half width of the centred moving average after its
        last sample has arrived. Streaming gives the batch result exactly (with the spans)."""
        p = self.params
        w = max(4, int(round(p.walk_window_s * self._rate_hz)))
        half = max(1, int(round(0.25 * self._rate_hz)))
        ctx_t = np.concatenate([self._tail_t, t])
        ctx = np.concatenate([self._tail_acc, acc_z])
        # Keep what the next first window (ending at the first sample not judged yet) needs.
        keep = w - 1 + 2 * half
        self._tail_t, self._tail_acc = ctx_t[-keep:], ctx[-keep:]
        walking = np.zeros(len(t), dtype=bool)
        if len(ctx) < w + 2 * half:
            return walking, []
        # Step-band part: the acceleration minus its centred 0.5-s moving average, for samples
        # whose average is complete. Squats and transfers (0.2–0.5 Hz) mostly vanish from it;
        # the 1.5–2 Hz step bounce stays.
        c0 = np.concatenate(([0.0], np.cumsum(ctx)))
        k = 2 * half + 1
        band = ctx[half:len(ctx) - half] - (c0[k:] - c0[:-k]) / k
        band_t = ctx_t[half:len(ctx) - half]
        # Band values whose moving average spans a gap of lost samples are left out: across a
        # gap the acceleration jumps (a squat's 4–5 m/s² ascent peak next to its braking),
        # which looks like a large, fast bounce.
        gaps = np.concatenate(([0], np.cumsum(np.diff(ctx_t) > p.walk_max_gap_s)))
        valid = gaps[k - 1:] == gaps[:len(ctx) - k + 1]
        band = np.where(valid, band, 0.0)

        def window_sum(x):
            c = np.concatenate(([0.0], np.cumsum(x)))
            return c[w:] - c[:-w]

        count = window_sum(valid.astype(float))
        mean = window_sum(band) / np.maximum(count, 1.0)
        sd = np.sqrt(np.maximum(window_sum(band ** 2) / np.maximum(count, 1.0) - mean ** 2, 0.0))
        # Step rate: mean crossings between consecutive valid samples over their time.
        pair = np.concatenate(([False], valid[1:] & valid[:-1]))
        crossed = np.concatenate(([False], (band[1:] > 0) != (band[:-1] > 0))) & pair
        paired_s = window_sum(np.where(pair, np.diff(band_t, prepend=band_t[0]), 0.0))
        step_hz = window_sum(crossed.astype(float)) / 2.0 / np.maximum(paired_s, 1e-6)
        flag = ((sd >= p.walk_acc_sd) & (step_hz >= p.walk_min_step_hz) & (step_hz <= p.walk_max_step_hz)
                & (_step_periodicity(band, valid, w, self._rate_hz, p) >= p.walk_min_periodicity))
        # A window with less than 3/4 of its band values valid (1.5 s, about three steps) is
        # not judged. Every sample of a window that shows steps is walking, and so is the
        # stretch between two such windows with only unjudged ones between them: walking goes
        # on through lost samples.
        judged = np.flatnonzero(count >= 0.75 * w)
        earlier: list[tuple[float, float]] = []
        if len(judged) == 0:
            return walking, earlier
        steps = flag[judged]
        before = np.concatenate(([self._walk_held], steps[:-1]))
        after = np.concatenate((steps[1:], [False]))
        run_starts = judged[steps & ~before] + w - 1
        run_ends = judged[steps & ~after] + w - 1
        spans = [[float(band_t[e - w + 1]), None] for e in run_starts]
        if steps[0] and self._walk_held:
            spans.insert(0, [self._walked_until_s, None])  # a run from the previous batch goes on
        for span, e in zip(spans, run_ends):
            span[1] = float(band_t[e])
        if steps[-1]:
            spans[-1][1] = float(band_t[judged[-1] + w - 1])  # may go on in the next batch
        self._walk_held = bool(steps[-1])
        for start_s, end_s in spans:
            walking |= (t >= start_s) & (t <= end_s)
            # Samples up to ``_walked_until_s`` are walking already (spans arrive in order).
            start_s = max(start_s, self._walked_until_s)
            if start_s < t[0]:
                earlier.append((start_s, min(end_s, float(t[0]))))
            self._walked_until_s = max(self._walked_until_s, end_s)
        return walking, earlier

    def _apply_posture_cues(self, t: np.ndarray, tilt: np.ndarray, labels: np.ndarray) -> None:
        """The sitting tie-breaker: "standing" held far posterior is sitting. Sample by sample
        only where the condition holds (few samples)."""
        p = self.params
        posterior = np.isfinite(tilt) & (tilt <= p.sit_tiebreak_deg) & (labels == "standing")
        if not posterior.any():
            self._tiebreak_since = None
            return
        runs_end = np.flatnonzero(np.diff(np.concatenate([posterior.astype(np.int8), [0]])) == -1)
        runs_start = np.flatnonzero(np.diff(np.concatenate([[0], posterior.astype(np.int8)])) == 1)
        for a, b in zip(runs_start, runs_end):
            since = self._tiebreak_since if (a == 0 and self._tiebreak_since is not None) else float(t[a])
            due = np.flatnonzero(t[a:b + 1] - since >= p.tiebreak_hold_s)
            if len(due):
                i = a + int(due[0])
                labels[i:][labels[i:] == "standing"] = "sitting"
                self._posture = "sitting"
                self._tiebreak_since = None
                return
            self._tiebreak_since = since if b == len(t) - 1 else None
        if not posterior[-1]:
            self._tiebreak_since = None


def _step_periodicity(band: np.ndarray, valid: np.ndarray, window: int, rate_hz: float,
                      params: ActivityParams) -> np.ndarray:
    """Per trailing window of ``band`` (0 where not ``valid``): how regularly it repeats at a
    step period (1/``walk_max_step_hz`` to 1/``walk_min_step_hz``): the best, over the
    periods, of the smaller normalised autocorrelation one step and one stride (two steps)
    later, over the pairs of valid samples (step and stride regularity, Moe-Nilssen and
    Helbostad 2004). Walking repeats (0.6–0.8); the bursts of a fast squat or a sit-to-stand
    swing once or twice and do not. Periods on a 0.02-s grid: at 1.5–3 steps/s a lag off by
    0.01 s still correlates at 0.98 or more."""
    lags = np.arange(max(1, int(np.floor(rate_hz / params.walk_max_step_hz))),
                     int(np.ceil(rate_hz / params.walk_min_step_hz)) + 1,
                     max(1, int(round(0.02 * rate_hz))))
    squared = band ** 2
    ends = np.arange(window - 1, len(band))

    def correlation(lag):
        def pair_sums(x):
            # Sum over n from e - window + 1 + lag to e, per window end e (x indexed by n - lag).
            c = np.concatenate(([0.0], np.cumsum(x)))
            return c[ends - lag + 1] - c[ends - window + 1]

        pairs = pair_sums(band[lag:] * band[:-lag])
        late = pair_sums(squared[lag:] * valid[:-lag])
        early = pair_sums(squared[:-lag] * valid[lag:])
        return pairs / np.sqrt(np.maximum(late * early, 1e-12))

    best = np.full(len(ends), -1.0)
    for lag in lags[2 * lags < window]:
        best = np.maximum(best, np.minimum(correlation(lag), correlation(2 * lag)))
    return best


def _peak_speed_m_s(t: np.ndarray, z: np.ndarray) -> float:
    """Peak vertical speed over 0.1-s steps (duplicate timestamps and jitter averaged out)."""
    step = max(1, int(np.searchsorted(t, t[0] + 0.1)))
    if len(t) <= step:
        return 0.0
    dt = t[step:] - t[:-step]
    return float(np.max(np.abs(z[step:] - z[:-step]) / np.maximum(dt, 1e-3)))


def classify_activity(t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray, tilt_deg: np.ndarray,
                      params: ActivityParams | None = None, sample_rate_hz: float = 100.0
                      ) -> tuple[np.ndarray, tuple[Transition, ...]]:
    """Batch helper: per-sample labels of a whole recording and its transitions."""
    out = ActivityClassifier(params, sample_rate_hz).update(t, acc_z, gyr, tilt_deg)
    return out.labels, out.transitions


def activity_spans(t: np.ndarray, labels: np.ndarray) -> list[ActivitySpan]:
    """Runs of equal labels as spans (end = the next span's start, or the last sample)."""
    if len(t) == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(t) - 1]))
    return [ActivitySpan(float(t[a]), float(t[b]), str(labels[a])) for a, b in zip(starts, ends)]
