"""Down-and-up cycles of the pelvis's vertical position, streaming, without waiting for rest.

The vertical velocity is zero at the top and at the bottom of every squat, with or without a
pause, so a rep is one cycle of the vertical position: top, bottom, top. Two stages:

1. Where the turning points are: the vertical acceleration is band-passed into a position
   (the offset, a running mean that starts from the first rest, removed, then two leaky
   integrators, which keep 0.1–1 Hz movements and forget bias drift; after two quiet windows
   in a row the velocity is zero and the position holds, so a pause does not drift into a
   false turning point) and its turning points are tracked with a hysteresis (a zigzag). A top is
   confirmed when the pelvis drops again (the next rep) or after ``top_hold_s`` without
   rising further (the wearer stands); it is measured once ``top_hold_s`` plus two rest
   windows of data after it are in.
2. How far the pelvis went: the raw vertical acceleration is integrated again over each half
   of the cycle with zero velocity at both of its turning points, so a constant bias becomes
   a linear velocity drift and is removed per half-rep (``zupt_displacement``). The
   band-passed turning points lead the true ones by about 0.1 s, when the pelvis still moves
   at 0.1–0.2 m/s, so they are refined: a top next to a moment at rest (a pause at the top,
   standing before or after the set) moves into that rest, where the velocity is truly zero;
   the bottom is the instant, within ``bottom_search_s`` of the band-passed one, that brings the
   pelvis back to the height it started from (a bottom placed too early or too late deepens
   one half and flattens the other; an error that follows the pelvis's rotation, such as a
   gyro scale off by 20%, does the same). The depth is the mean of the drop and the rise.

Only the current cycle is buffered (at most ``max_cycle_s`` plus a few seconds); cost per
sample does not depend on batch size beyond the per-call overhead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fusion.bouts import BoutParams, QuietTracker
from fusion.vertical import leaky_integrate, zupt_displacement


@dataclass(frozen=True)
class CycleParams:
    hysteresis_m: float = 0.07
    """Band-passed position change that confirms a turning point (walking bounces about 0.05 m)."""
    top_hold_s: float = 0.6
    """A top with no further rise for this long is confirmed (the wearer stands after a rep)."""
    max_cycle_s: float = 12.0
    """A longer down-and-up is not one rep (slow tempo 2.5 + 0.5 + 2 s is 5 s)."""
    max_gap_s: float = 0.8
    """A longer sample interval breaks the cycle being tracked: its integral cannot be trusted."""
    offset_tau_s: float = 10.0
    """Time constant of the vertical-acceleration offset (bias) removed before integrating: the
    pelvis cannot keep accelerating, so the long-term mean is bias. It starts as the mean so far,
    not as the first sample: a stream may start mid-rep (a sensor connected during a set), 1-2
    m/s² off, which the integrators would turn into metres of drift swallowing the first reps."""
    rest_weight: float = 70.0
    """Until the offset holds ``offset_tau_s`` of weight, a sample at rest (``hold_acc_sd``) counts
    this many times one in motion: inverse variances, (1 m/s² of squat / 0.12 m/s² at rest)² ≈
    70. At rest the acceleration is all bias; a partial cycle's mean is off by its velocity
    change over its length. A stream that starts at rest settles in its first half second."""
    tau_s: float = 4.0
    """Leak time constant of the band-passing velocity and position integrators: keeps the
    0.1–1 Hz movements of squats, forgets drift."""
    max_step_s: float = 0.05
    """Longest sample interval integrated as is; a longer one (lost samples) counts as this."""
    hold_acc_sd: float = 0.12
    """m/s²: the band-passed position holds only where the vertical acceleration's spread is
    below this, stricter than a movement bout's rest: a false hold flattens a rep, and a rest at
    a new level (a bottom pause pitched forward) does not hold it either."""
    bottom_search_s: float = 0.6
    """The zero-velocity bottom is looked for this far around the band-passed position's bottom
    (whose timing the band-pass and a drifting bias shift)."""


@dataclass(frozen=True, eq=False)
class Cycle:
    """One top-bottom-top cycle, its samples and its zero-velocity-updated position."""

    t: np.ndarray
    position: np.ndarray
    """m, 0 at the first top; each half integrated with zero velocity at its two ends."""
    bottom_index: int
    """Turning point between the halves (index into ``t``)."""
    start_index: int
    """Stream index of the first sample (counted from the tracker's start)."""
    gyr: np.ndarray
    """(N, 3) rad/s over the cycle."""
    extra: dict[str, np.ndarray]


@dataclass(frozen=True)
class _Point:
    """A sample of the band-passed position: stream index, time, value."""

    i: int
    t: float
    z: float


class CycleTracker:
    """Streaming: feed (t, vertical acceleration, per-sample extras) batches; returns every
    completed cycle once its closing top is confirmed. ``flush`` closes a cycle whose last top
    is not confirmed yet (end of a recording)."""

    def __init__(self, params: CycleParams | None = None, rest: BoutParams | None = None,
                 sample_rate_hz: float = 100.0):
        """``rest``: what counts as a moment at rest, as for the movement bouts."""
        self.params = params or CycleParams()
        self.rest = replace(rest or BoutParams(), rest_acc_sd=self.params.hold_acc_sd, rest_acc_steady=0.0)
        self._quiet_tracker = QuietTracker(self.rest, sample_rate_hz)
        self._sample_period_s = 1.0 / sample_rate_hz
        self._window = self._quiet_tracker.window
        self.reset()

    def reset(self) -> None:
        self._quiet_tracker.reset()
        self._offset_state: float | None = None  # leaky sums of the weighted acceleration and of the weights
        self._offset_weight = 0.0
        self._v = self._p = 0.0
        self._quiet_before = np.zeros(self._window - 1, dtype=bool)
        self._t = np.zeros(0)
        self._acc = np.zeros(0)
        self._pos = np.zeros(0)
        self._quiet = np.zeros(0, dtype=bool)
        self._gyr = np.zeros((0, 3))
        self._extra: dict[str, np.ndarray] = {}
        self._offset = 0  # stream index of self._t[0]
        self._pending: list[tuple[_Point, _Point, _Point]] = []  # closed, waiting for data
        self._restart()

    def _restart(self) -> None:
        """Forget the turning points (start, or after a gap)."""
        self._mode = 0  # +1 tracking a top (rising), -1 tracking a bottom, 0 undecided
        self._hi: _Point | None = None  # running extremes
        self._lo: _Point | None = None
        self._top0: _Point | None = None  # confirmed top that starts the cycle
        self._bottom: _Point | None = None  # confirmed bottom of that cycle

    def _band_position(self, t: np.ndarray, acc_z: np.ndarray, quiet: np.ndarray) -> np.ndarray:
        """Band-passed position; velocity 0 and position held while at rest. Runs of equal
        rest state are integrated in one go each."""
        band = self.params
        acc = np.where(np.isfinite(acc_z), acc_z, 0.0)
        previous = t[0] if len(self._t) == 0 else self._t[-1]
        dt = np.minimum(np.clip(np.diff(t, prepend=previous), 0.0, None), band.max_step_s)
        centred = acc - self._acc_offset(acc, dt, quiet)
        position = np.empty(len(t))
        # Held only after two quiet windows in a row: a braked descent can look still for one.
        held = quiet & np.concatenate([self._quiet_before, quiet])[:len(quiet)]
        self._quiet_before = np.concatenate([self._quiet_before, quiet])[-(self._window - 1):]
        edges = np.flatnonzero(np.diff(held.astype(np.int8))) + 1
        for a, b in zip(np.concatenate(([0], edges)), np.concatenate((edges, [len(t)]))):
            if held[a]:
                self._v = 0.0
                position[a:b] = self._p
                continue
            v = leaky_integrate(centred[a:b], dt[a:b], band.tau_s, self._v)
            position[a:b] = leaky_integrate(v, dt[a:b], band.tau_s, self._p)
            self._v, self._p = float(v[-1]), float(position[b - 1])
        return position

    def _acc_offset(self, acc: np.ndarray, dt: np.ndarray, quiet: np.ndarray) -> np.ndarray:
        """Per sample: the leaky mean over ``offset_tau_s``, rest-weighted until it settles."""
        tau = self.params.offset_tau_s
        weight = np.where(quiet, self.params.rest_weight, 1.0)
        if self._offset_state is None:
            # The first sample counts for one nominal sample period (its own dt is 0).
            self._offset_weight = weight[0] * self._sample_period_s
            self._offset_state = float(acc[0]) * self._offset_weight
        if self._offset_weight >= tau:
            sums = leaky_integrate(acc, dt, tau, self._offset_state)
            self._offset_state = float(sums[-1])
            return sums / tau
        weights = leaky_integrate(weight, dt, tau, self._offset_weight)
        sums = leaky_integrate(acc * weight, dt, tau, self._offset_state)
        full = np.flatnonzero(weights >= tau)
        if len(full) == 0:
            self._offset_state, self._offset_weight = float(sums[-1]), float(weights[-1])
            return sums / weights
        # Settled at sample k: from there on an even leaky mean, started from the mean so far
        # carried with a time constant's weight (which an even leaky mean keeps).
        k = int(full[0]) + 1
        offset = sums / weights
        self._offset_state, self._offset_weight = float(offset[k - 1]) * tau, tau
        if k < len(acc):
            even = leaky_integrate(acc[k:], dt[k:], tau, self._offset_state)
            offset[k:] = even / tau
            self._offset_state = float(even[-1])
        return offset

    def _point(self, i: int) -> _Point:
        k = i - self._offset
        return _Point(i, float(self._t[k]), float(self._pos[k]))

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray, **extra: np.ndarray) -> list[Cycle]:
        """``acc_z``: vertical acceleration (m/s², gravity removed); ``gyr`` (N, 3) rad/s;
        ``extra`` per-sample arrays are cut alongside each cycle."""
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        if len(t) == 0:
            return []
        quiet = self._quiet_tracker.update(t, acc_z, gyr)
        position = self._band_position(t, acc_z, quiet)
        first = self._offset + len(self._t)
        gap_before = len(self._t) > 0 and t[0] - self._t[-1] > self.params.max_gap_s
        had_previous = len(self._t) > 0
        self._t = np.concatenate([self._t, t])
        self._acc = np.concatenate([self._acc, np.where(np.isfinite(acc_z), acc_z, 0.0)])
        self._pos = np.concatenate([self._pos, position])
        self._quiet = np.concatenate([self._quiet, quiet])
        gyr = np.asarray(gyr, dtype=float).reshape(-1, 3)
        self._gyr = np.concatenate([self._gyr, np.where(np.isfinite(gyr), gyr, 0.0)])
        for k, v in extra.items():
            self._extra[k] = np.concatenate([self._extra.get(k, np.zeros(0)), np.asarray(v, dtype=float)])
        gaps = set((first + np.flatnonzero(np.diff(t) > self.params.max_gap_s) + 1).tolist())
        if gap_before:
            gaps.add(first)
        # Candidates: local extrema of the band-passed position, the batch's last sample (its
        # running extreme so far) and gap edges. An extra, non-extreme candidate only confirms
        # a turning point earlier; the turning points themselves do not change.
        lead = 1 if had_previous else 0
        pos = self._pos[first - self._offset - lead:]
        d = np.sign(np.diff(pos))
        turns = np.flatnonzero(d[1:] != d[:-1]) + 1 + first - lead
        candidates = sorted(set(turns.tolist()) | gaps | {first, first + len(t) - 1})
        out: list[Cycle] = []
        for i in candidates:
            if i in gaps:
                self._restart()
            out.extend(self._step(self._point(i)))
        out.extend(self._measure_ready(force=False))
        self._trim()
        return out

    def _step(self, p: _Point) -> list[Cycle]:
        h = self.params.hysteresis_m
        if self._mode == 0:
            self._hi = p if self._hi is None or p.z > self._hi.z else self._hi
            self._lo = p if self._lo is None or p.z < self._lo.z else self._lo
            if self._hi.z - p.z >= h:
                self._top0, self._mode, self._lo = self._hi, -1, p
            elif p.z - self._lo.z >= h:
                self._mode, self._hi = 1, p  # started low: no top before this bottom
            return []
        if self._mode == -1:
            if p.z < self._lo.z:
                self._lo = p
            elif p.z - self._lo.z >= h:
                self._bottom = self._lo if self._top0 is not None else None
                self._mode, self._hi = 1, p
            return []
        # Between candidates the position is monotonic: if it ends above the running top it
        # rose past it (no hold), else it stayed below it all along.
        if p.z > self._hi.z:
            self._hi = p
            return []
        out = self._hold_check(p.t)
        if self._hi.z - p.z >= h:
            out.extend(self._close(self._hi))
            self._top0, self._mode, self._lo = self._hi, -1, p
        return out

    def _hold_check(self, now_s: float) -> list[Cycle]:
        """Confirm the running top once it has held for ``top_hold_s``."""
        if self._mode != 1 or self._bottom is None or now_s - self._hi.t < self.params.top_hold_s:
            return []
        return self._close(self._hi)

    def flush(self) -> list[Cycle]:
        """End of the stream: close a cycle that has risen back but whose top is not confirmed,
        and measure the cycles still waiting for data after their top."""
        if self._mode == 1 and self._bottom is not None:
            self._close(self._hi)
        return self._measure_ready(force=True)

    def _close(self, top1: _Point) -> list[Cycle]:
        """The running top closes the cycle; it is measured once ``top_hold_s`` of data after
        its top is in (the rest that may follow it), so streaming gives the batch result."""
        top0, bottom = self._top0, self._bottom
        self._bottom = None
        self._top0 = top1
        if top0 is not None and bottom is not None:
            self._pending.append((top0, bottom, top1))
        return self._measure_ready(force=False)

    def _measure_ready(self, force: bool) -> list[Cycle]:
        out = []
        while self._pending:
            top0, bottom, top1 = self._pending[0]
            ahead_s = self.params.top_hold_s + 2 * self.rest.rest_window_s
            horizon = int(np.searchsorted(self._t, top1.t + ahead_s, side="right"))
            if horizon >= len(self._t) and not force:
                break
            self._pending.pop(0)
            cycle = self._measure(top0.i - self._offset, bottom.i - self._offset, top1.i - self._offset, horizon)
            if cycle is not None:
                out.append(cycle)
        return out

    def _measure(self, a: int, m: int, c: int, horizon: int) -> Cycle | None:
        """Integrate one cycle (buffer indices of its tops ``a``, ``c`` and bottom ``m``; quiet
        flags are looked at up to ``horizon``)."""
        # Tops next to a rest: zero velocity there. Quiet flags describe the trailing window:
        # the last quiet window before the descent (above the lowest quarter of the
        # band-passed cycle) and the first after the ascent.
        pos = self._pos
        raised = pos > pos[m] + 0.25 * (pos[c] - pos[m])
        down = m - int(np.argmax(raised[m::-1]))  # last raised sample before the bottom
        w = self._window
        before = np.flatnonzero(self._quiet[a:down + 1])
        if len(before) and before[-1] >= w - 1:
            # The first sample of the last quiet window: the window's last may be the onset.
            a += int(before[-1]) - (w - 1)
            # From a rest the pelvis's height and rotation can be followed directly for a few
            # seconds (the resting level is the bias): better than the band-passed position,
            # which leads and drifts, to tell the rest after the ascent from a pause at the
            # bottom. A rest after the ascent: above half the depth, turned back by more than
            # half the largest rotation since the rest, and past half the band-passed rise (any
            # one alone can fail: a bias that follows the pitch raises the height during a
            # pause at the bottom; a gross butt wink turns the pelvis back to neutral there).
            level = float(np.mean(self._acc[a:a + w]))
            seg = slice(a, max(horizon, c + 1))
            height = _integrate_twice(self._t[seg], self._acc[seg] - level)
            angle = np.abs(main_rotation(self._t[seg], self._gyr[seg]))
            lowest = int(np.argmin(height[:c + 1 - a]))
            followed = np.zeros(len(pos), dtype=bool)
            turned_back = angle < 0.5 * angle[:c + 1 - a].max()
            followed[a:a + len(height)] = (height > 0.5 * height[lowest]) & turned_back
            raised = followed & (pos > pos[m] + 0.5 * (pos[c] - pos[m]))
            m_low = a + lowest
        else:
            m_low = m
        up = m_low + int(np.argmax(raised[m_low:]))  # first raised sample after the bottom
        after = np.flatnonzero(self._quiet[up:horizon])
        if len(after) and raised[up]:
            c = up + int(after[0])  # the end of the first quiet window after the ascent
        t = self._t[a:c + 1]
        acc = self._acc[a:c + 1]
        if len(t) < 5 or not a < m < c or t[-1] - t[0] > self.params.max_cycle_s:
            return None
        b = _closing_bottom(t, acc, m - a, self.params.bottom_search_s)
        return Cycle(t=t, position=_half_zupt(t, acc, b), bottom_index=b, start_index=a + self._offset,
                     gyr=self._gyr[a:c + 1], extra={k: v[a:c + 1] for k, v in self._extra.items()})

    def _trim(self) -> None:
        """Keep the samples a cycle may still need: from the cycle's top, or from the running
        top that may start the next one, but never more than ``max_cycle_s`` (a cycle longer
        than that is no rep)."""
        p = self.params
        # A margin beyond max_cycle_s (the top's confirmation and look-ahead): what is dropped
        # here could not have made a rep in one long batch either.
        oldest_s = self._t[-1] - (p.max_cycle_s + 2 * p.top_hold_s + 2 * self.rest.rest_window_s + 1.0)
        k = max(0, int(np.searchsorted(self._t, oldest_s)) - 1)
        if self._bottom is not None and self._bottom.i - self._offset < k:
            self._bottom = None
        # A top older than that keeps its height (the turning points do not change) but moves
        # to the oldest sample kept: a rest before the descent moves it on anyway.
        moved = _Point(self._offset + k, float(self._t[k]), 0.0)
        if self._top0 is not None and self._top0.i < moved.i:
            self._top0 = _Point(moved.i, moved.t, self._top0.z)
        if self._hi is not None and self._hi.i < moved.i:
            self._hi = _Point(moved.i, moved.t, self._hi.z)
        if self._lo is not None and self._lo.i < moved.i:
            self._lo = _Point(moved.i, moved.t, self._lo.z)
        needed = [q.i for q in (self._top0, self._hi if self._mode >= 0 else None) if q is not None]
        needed += [top0.i for top0, _, _ in self._pending]
        keep_from = min(needed + [self._offset + len(self._t) - 1])
        k = keep_from - self._offset
        self._t, self._acc, self._pos = self._t[k:], self._acc[k:], self._pos[k:]
        self._quiet, self._gyr = self._quiet[k:], self._gyr[k:]
        self._extra = {key: v[k:] for key, v in self._extra.items()}
        self._offset += k


def main_rotation(t: np.ndarray, gyr: np.ndarray) -> np.ndarray:
    """Rotation angle (rad, 0 at the start) about the main axis of ``gyr`` (either sign)."""
    dt = np.diff(t, prepend=t[0])
    _, vectors = np.linalg.eigh(gyr.T @ (gyr * dt[:, None]))
    return np.cumsum(gyr @ vectors[:, -1] * dt)


def _integrate_twice(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Position from acceleration ``x``, starting at rest at 0 (trapezoid rule)."""
    dt = np.diff(t)
    v = np.concatenate(([0.0], np.cumsum(0.5 * (x[1:] + x[:-1]) * dt)))
    return np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)))


def _half_zupt(t: np.ndarray, x: np.ndarray, bottom: int) -> np.ndarray:
    """Double integral of ``x`` with zero velocity at the start, at ``bottom`` and at the end."""
    down = zupt_displacement(t[:bottom + 1], x[:bottom + 1])
    up = zupt_displacement(t[bottom:], x[bottom:])
    return np.concatenate([down, down[-1] + up[1:]])


def _closing_bottom(t: np.ndarray, acc: np.ndarray, guess: int, search_s: float) -> int:
    """The bottom (zero velocity between the two tops) that brings the pelvis back to the height
    it started from, within ``search_s`` of ``guess``: the rep ends standing as it began, and
    a bottom placed too early or too late deepens one half and flattens the other.

    Closed form for every candidate b at once: with V the velocity integral from the start and
    P its integral, the zero-velocity-updated drop over [0, b] is V(b)·(t_b − t_0)/2 − P(b) and
    the rise over [b, n] is P(n) − P(b) − (V(n) + V(b))·(t_n − t_b)/2."""
    dt = np.diff(t)
    v = np.concatenate(([0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * dt)))
    p = np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)))
    lo = max(1, int(np.searchsorted(t, t[guess] - search_s)))
    hi = min(len(t) - 2, int(np.searchsorted(t, t[guess] + search_s, side="right")) - 1)
    if hi < lo:
        return min(max(guess, 1), len(t) - 2)
    b = np.arange(lo, hi + 1)
    drop = v[b] * (t[b] - t[0]) / 2 - p[b]
    rise = p[-1] - p[b] - (v[-1] + v[b]) * (t[-1] - t[b]) / 2
    mismatch = np.where((drop > 0) & (rise > 0), np.abs(rise - drop) / np.maximum(rise + drop, 1e-9), np.inf)
    return int(b[np.argmin(mismatch)]) if np.isfinite(mismatch).any() else guess
