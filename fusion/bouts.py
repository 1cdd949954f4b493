"""Movement bouts: stretches of movement between two moments at rest, the one segmentation that
activity (transfers, "other") and squat reps share.

A moment is at rest when the 0.3-s windows covering it are quiet (gyroscope, vertical
acceleration spread, and its mean at the resting level). Each bout is integrated to a vertical
position with zero velocity at the rests around its movements (``fusion.vertical``), after
removing the part of the accelerometer bias that follows the pelvic pitch
(:func:`pitch_bias_coefficient`): the zero-velocity update removes only a constant one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion.vertical import leaky_integrate, zupt_displacement

@dataclass(frozen=True)
class BoutParams:
    rest_window_s: float = 0.3
    """A moment is "at rest" when a window this long is quiet (skdh uses 0.3 s)."""
    rest_acc_sd: float = 0.2
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
    rest_acc_steady: float = 0.1
    """m/s²: ... or the window's mean equals the means of the two windows before it within this
    (0.9 s at one level). A seated or re-settled pelvis rests at a new level (an accelerometer
    bias of 20–60 mg projects anew when the pelvis turns: 0.2–0.3 m/s² seen in real sit-downs);
    braking, at the end of a descent or of a squat's ascent, passes within about half a second."""
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
    rest: np.ndarray | None = None
    """Per sample: at rest (the short rests the bout joined across, and its two ends)."""

    @property
    def net_m(self) -> float:
        return float(self.position[-1]) if len(self.position) else 0.0


def quiet_windows(acc_z: np.ndarray, gyr: np.ndarray, window: int, params: BoutParams,
                  level: np.ndarray | None = None) -> np.ndarray:
    """Per sample: the trailing window of ``window`` samples ending here is quiet (moving sums).
    ``level``: the resting level of ``acc_z`` per sample (None: the mean is not tested); a
    window whose mean is off that level is still quiet if it equals the mean of the window before
    it (``rest_acc_steady``). The first ``window - 1`` entries describe partial windows and are False."""
    n = len(acc_z)

    def trailing_mean(x):
        c = np.concatenate(([0.0], np.cumsum(x)))
        return (c[window:] - c[:-window]) / window if n >= window else np.zeros(0)

    mean = trailing_mean(acc_z)
    sd = np.sqrt(np.maximum(trailing_mean(acc_z ** 2) - mean ** 2, 0.0))
    gyro_mean = trailing_mean(np.linalg.norm(gyr, axis=1))
    quiet = (sd < params.rest_acc_sd) & (gyro_mean < params.rest_gyr)
    if level is not None and n >= window:
        # The mean holds the bias along gravity, so it is compared with the resting level.
        # Steady for three windows in a row (0.9 s): longer than braking lasts.
        steady = np.zeros(len(mean), dtype=bool)
        steady[2 * window:] = ((np.abs(mean[2 * window:] - mean[window:-window]) < params.rest_acc_steady)
                               & (np.abs(mean[2 * window:] - mean[:-2 * window]) < params.rest_acc_steady))
        quiet &= (np.abs(mean - level[window - 1:]) < params.rest_acc_level) | steady
    return np.concatenate([np.zeros(min(n, window - 1), dtype=bool), quiet])


class QuietTracker:
    """Streaming :func:`quiet_windows`: per new sample, is the trailing window quiet, with the
    resting level of the vertical acceleration carried across batches (the running mean for the
    first ``level_tau_s`` of the stream, then its exponential moving average; a gap counts as at
    most 0.1 s so it does not reweight the average: no single first sample sets the level)."""

    def __init__(self, params: BoutParams, sample_rate_hz: float) -> None:
        self.params = params
        self.window = max(2, int(round(params.rest_window_s * sample_rate_hz)))
        self.reset()

    def reset(self) -> None:
        self._tail_acc = np.zeros(0)
        self._tail_gyr = np.zeros((0, 3))
        self._tail_level = np.zeros(0)
        self._level_state: float | None = None
        self._level_sum = 0.0
        self._level_count = 0
        self._level_elapsed_s = 0.0
        self._last_t: float | None = None

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        acc_z = np.where(np.isfinite(acc_z), acc_z, 0.0)
        gyr = np.asarray(gyr, dtype=float).reshape(-1, 3)
        # The two windows before this one are the context (the steadiness test).
        acc_ctx = np.concatenate([self._tail_acc, acc_z])
        gyr_ctx = np.concatenate([self._tail_gyr, np.where(np.isfinite(gyr), gyr, 0.0)])
        level_ctx = np.concatenate([self._tail_level, self._resting_level(t, acc_z)])
        quiet = quiet_windows(acc_ctx, gyr_ctx, self.window, self.params, level_ctx)[-len(t):]
        keep = 3 * self.window - 1
        self._tail_acc, self._tail_gyr, self._tail_level = acc_ctx[-keep:], gyr_ctx[-keep:], level_ctx[-keep:]
        return quiet

    def _resting_level(self, t: np.ndarray, acc_z: np.ndarray) -> np.ndarray:
        tau = self.params.level_tau_s
        previous = self._last_t if self._last_t is not None else t[0]
        dt = np.clip(np.diff(t, prepend=previous), 0.0, 0.1)
        self._last_t = float(t[-1])
        level = np.empty(len(t))
        elapsed = self._level_elapsed_s + np.cumsum(dt)
        early = int(np.searchsorted(elapsed, tau, side="right"))  # samples still in the running mean
        if early:
            sums = self._level_sum + np.cumsum(acc_z[:early])
            counts = self._level_count + np.arange(1, early + 1)
            level[:early] = sums / counts
            self._level_sum, self._level_count = float(sums[-1]), int(counts[-1])
        if early < len(t):
            start = level[early - 1] if early else self._level_sum / max(self._level_count, 1)
            if self._level_state is None:
                self._level_state = float(start) * tau
            state = leaky_integrate(acc_z[early:], dt[early:], tau, self._level_state)
            self._level_state = float(state[-1])
            level[early:] = state / tau
        self._level_elapsed_s = float(elapsed[-1])
        return level


class BoutTracker:
    """Streaming: buffers samples since the last rest and returns each bout once it closed.

    A sample is at rest when every window covering it is quiet. A bout is a run of samples not at
    rest, integrated from the rest sample before it to the rest sample after it.
    """

    def __init__(self, params: BoutParams | None = None, sample_rate_hz: float = 100.0):
        self.params = params or BoutParams()
        self._quiet_tracker = QuietTracker(self.params, sample_rate_hz)
        self._window = self._quiet_tracker.window
        self.reset()

    def reset(self) -> None:
        self._quiet_tracker.reset()
        self._t = np.zeros(0)
        self._acc = np.zeros(0)
        self._quiet = np.zeros(0, dtype=bool)
        self._extra: dict[str, np.ndarray] = {}
        self._offset = 0  # stream index of self._t[0]
        self._seen = 0  # samples received
        self._ended = False  # finish() was called: no later samples will come

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray,
               **extra: np.ndarray) -> list[tuple[Bout, dict[str, np.ndarray]]]:
        """``acc_z``: vertical acceleration (m/s², gravity removed); ``gyr`` (N, 3) rad/s.
        ``extra`` per-sample arrays are cut alongside each bout; ``tilt`` (pelvic pitch, degrees,
        NaN when unknown), if given, also corrects the integral (:func:`pitch_bias_coefficient`)."""
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        if len(t) == 0:
            return []
        quiet = self._quiet_tracker.update(t, acc_z, gyr)
        self._t = np.concatenate([self._t, t])
        self._acc = np.concatenate([self._acc, acc_z])
        self._quiet = np.concatenate([self._quiet, quiet])
        first_window = self._window - 1  # stream index of the first sample with a whole window
        if self._seen <= first_window < self._seen + len(t) and self._offset == 0:
            # The stream's first samples have no whole window behind them: they are as quiet as
            # the first whole window, so a recording that starts at rest starts with a rest.
            self._quiet[:first_window] = self._quiet[first_window]
        self._seen += len(t)
        for k, v in extra.items():
            self._extra[k] = np.concatenate([self._extra.get(k, np.zeros(0)), np.asarray(v, dtype=float)])
        return self._scan()

    def finish(self) -> list[tuple[Bout, dict[str, np.ndarray]]]:
        """End of the stream: the bout in progress closes if the stream ends at rest (the final
        rest need not last ``join_rest_s``: nothing can follow it)."""
        self._ended = True
        return self._scan()

    def _rest(self) -> np.ndarray:
        # At rest only when every window covering the sample is quiet: a window that holds
        # the first moments of a movement is not, so the anchor stays before the onset.
        rest = self._quiet.copy()
        for k in range(1, self._window):
            rest[:-k] &= self._quiet[k:]
        if not self._ended:
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
                    pitch_bias_m_s2=coefficient, rest=rest[i0:i1 + 1].copy())
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
                return end if self._ended or t[-1] - t[end] >= self.params.join_rest_s else None
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
