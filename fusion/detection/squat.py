"""Squat reps from the sacrum: segmentation, depth, tempo, butt wink, sets.

How (biomechanics notes §2.3, §3.4 and "Recommended defaults"):

1. Reps are down-and-up cycles of the pelvis's vertical position
   (``fusion.detection.rep_signal``): the vertical velocity is zero at the top and at the
   bottom of every rep, paused or not, so no rest is needed between reps nor before the set,
   and the pelvis need not come back to its starting orientation. Each half-rep is integrated
   with zero velocity at its two turning points. Pelvic pitch is not used to find reps: a gross
   butt wink can bring it back to neutral at the very bottom, and it is unknown until the
   pelvis axis is.
2. A cycle is a rep when the pelvis drops at least ``min_depth_m``, comes back up to within
   ``max_net_fraction`` of the depth, lasts ``min_rep_s``–``max_rep_s`` and the pelvis turns
   through a range of at least ``min_rotation_deg`` (a squat turns it 17–38°; a vertical
   bounce without hip flexion, such as a step, is no squat).
3. Bottom: the lowest point; the bottom plateau is where the pelvis stays within
   ``bottom_band_fraction`` of the depth of it. Tempo: descent (start to plateau), bottom pause
   (the plateau), ascent (plateau to end).
4. Butt wink: the largest drop of pelvic pitch below the most anterior pitch reached so far on
   the way down, over the bottom window (from where the pelvis enters the lowest 20% of its
   drop to the end of the bottom plateau). It is a reversal inside the rep, so the pitch's offset does not matter (no
   standing neutral is needed, only the left-right axis). Levels: >= 10° flag, >= 5° mild,
   else none; "not_eligible" when the rep is too shallow (drop < 0.30 m and the pelvis turned
   < 20° on the way down: a posterior reversal is uncommon above about 90° of knee flexion) or
   the pitch is unknown.
5. Sets: a rest longer than ``set_break_s`` between reps starts a new set.

Streaming: a rep is reported when its closing top is confirmed: when the next rep starts down,
or ``CycleParams.top_hold_s`` after the pelvis stops rising. ``flush`` reports a last rep whose
top is not confirmed yet (end of a recording).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.errors import UsageError
from fusion.bouts import BoutParams
from fusion.detection.events import ButtWinkLevel, SquatRep
from fusion.detection.rep_signal import Cycle, CycleParams, CycleTracker, main_rotation


@dataclass(frozen=True)
class SquatParams:
    min_depth_m: float = 0.12
    """A sacral sensor drops about 15% less than the hip centre; half squats drop 0.20–0.30 m."""
    max_net_fraction: float = 0.5
    min_rep_s: float = 0.8
    max_rep_s: float = 10.0
    min_rotation_deg: float = 8.0
    """Range of the pelvis's rotation over the rep, about the cycle's main gyro axis (no
    calibrated axis needed); a squat turns it 17–38° (less between reps that stay pitched
    forward), a step rocks it a few degrees back and forth."""
    max_posterior_end_deg: float = 15.0
    """A rep ending this far posterior of where it started is sitting down (NaN pitch: not checked)."""
    bottom_band_fraction: float = 0.05
    wink_bottom_fraction: float = 0.2
    """The butt wink's bottom window opens when the pelvis comes within this fraction of the
    depth of its lowest point, and closes when it rises out of the bottom plateau
    (``bottom_band_fraction``). A posterior reversal appears between about 90° and 140° of knee
    flexion, the last part of the drop; on a smooth descent the pelvis has dropped 80% of the
    way at 70% of the descent's time, the window's start in the biomechanics notes. Measured on
    height rather than time, a descent that began with a shallower dip does not open the window
    on that dip, and a slow or paused bottom is covered whole (a tuck during a 1-s pause is at
    full depth)."""
    wink_mild_deg: float = 5.0
    wink_flag_deg: float = 10.0
    wink_smoothing_s: float = 0.2
    eligible_depth_m: float = 0.30
    eligible_rotation_deg: float = 20.0
    """Pitch rise over the descent that makes a shallow rep eligible for the wink judgement."""
    set_break_s: float = 10.0
    max_excluded_fraction: float = 0.5
    """A cycle whose descent or ascent is labelled walking, sitting or lying for more than this
    fraction is no rep (stairs and turning while walking make down-and-up cycles of 0.1–0.4 m
    with large rotations: only the activity labels tell them from squats)."""
    cycles: CycleParams = field(default_factory=CycleParams)

    def __post_init__(self) -> None:
        if not 0.0 < self.wink_mild_deg <= self.wink_flag_deg <= 45.0:
            raise UsageError("butt-wink thresholds must satisfy 0 < mild <= flag <= 45 degrees, got "
                             f"mild {self.wink_mild_deg}, flag {self.wink_flag_deg}")
        if not 0.05 <= self.min_depth_m <= 1.0:
            raise UsageError(f"min_depth_m must be in [0.05, 1.0] m, got {self.min_depth_m}")
        if not 0.0 < self.min_rep_s < self.max_rep_s <= 30.0:
            raise UsageError(f"rep duration limits must satisfy 0 < min < max <= 30 s, got "
                             f"{self.min_rep_s}, {self.max_rep_s}")
        if not 1.0 <= self.set_break_s <= 600.0:
            raise UsageError(f"set_break_s must be in [1, 600] s, got {self.set_break_s}")


@dataclass(frozen=True)
class RepMeasurement:
    """One rep before it is numbered within its set."""

    start_s: float
    bottom_s: float
    end_s: float
    depth_m: float
    descent_s: float
    bottom_pause_s: float
    ascent_s: float
    wink_deg: float
    wink_level: ButtWinkLevel
    peak_anterior_deg: float | None
    lockout_deg: float | None
    wink_onset_depth_m: float | None = None


def measure_rep(t: np.ndarray, z: np.ndarray, tilt_deg: np.ndarray, rotation_deg: np.ndarray,
                params: SquatParams, tilt_calibrated: bool = True) -> RepMeasurement | None:
    """Measure one down-and-up cycle of the vertical position ``z`` (m) that starts and ends at
    its turning points (tops); None if it is not a squat rep. ``rotation_deg``: the pelvis's
    rotation about the cycle's main gyro axis, 0 at the start; ``tilt_deg``: pelvic pitch, any
    offset, NaN where unknown; ``tilt_calibrated``: its zero is a standing neutral (else no
    peak or lockout angle is reported)."""
    p = params
    if len(t) < 5:
        return None
    ib = int(np.argmin(z))
    top0, top1 = float(z[0]), float(z[-1])
    depth = 0.5 * (top0 + top1) - float(z[ib])
    if depth < p.min_depth_m or abs(top1 - top0) > p.max_net_fraction * depth:
        return None
    band = p.bottom_band_fraction * depth
    low = z <= z[ib] + band
    b0 = ib - int(np.argmin(low[ib::-1])) + 1 if not low[:ib + 1].all() else 0
    b1 = ib + int(np.argmin(low[ib:])) - 1 if not low[ib:].all() else len(z) - 1
    # Start and end: where the pelvis leaves / regains its top height (within the band).
    above_start = np.flatnonzero(z[:b0] >= top0 - band)
    above_end = np.flatnonzero(z[b1:] >= top1 - band)
    if len(above_start) == 0 or len(above_end) == 0:
        return None
    i0 = int(above_start[-1])
    i1 = b1 + int(above_end[0])
    if not p.min_rep_s <= t[i1] - t[i0] <= p.max_rep_s:
        return None
    if np.ptp(rotation_deg[i0:i1 + 1]) < p.min_rotation_deg:
        return None
    # A squat ends standing as it began; ending far posterior of the start is sitting down
    # (sitting rests the pelvis posterior of standing), which a dip in the transfer can mimic.
    tilt = np.asarray(tilt_deg, dtype=float)
    if tilt[i1] < tilt[i0] - p.max_posterior_end_deg:
        return None
    # The bottom window: from the last entry into the wink band before the lowest point to the
    # end of the bottom plateau; pitch returning once the pelvis rises is standing up, not a wink.
    near_bottom = z[:ib + 1] <= z[ib] + p.wink_bottom_fraction * depth
    w0 = ib - int(np.argmin(near_bottom[::-1])) + 1 if not near_bottom.all() else 0
    wink, level, peak, lockout, onset = _butt_wink(t, tilt, i0, ib, max(w0, i0), b1, i1, depth, p)
    if not tilt_calibrated:
        peak = lockout = None
    onset_depth = top0 - float(z[onset]) if onset is not None and level in ("flag", "mild") else None
    return RepMeasurement(
        start_s=float(t[i0]), bottom_s=float(t[ib]), end_s=float(t[i1]), depth_m=depth,
        descent_s=float(t[b0] - t[i0]), bottom_pause_s=float(t[b1] - t[b0]),
        ascent_s=float(t[i1] - t[b1]), wink_deg=wink, wink_level=level,
        peak_anterior_deg=peak, lockout_deg=lockout, wink_onset_depth_m=onset_depth)


def _smooth(t: np.ndarray, x: np.ndarray, width_s: float) -> np.ndarray:
    """Centred moving average over about ``width_s``: the reversal is a peak-to-trough range,
    which sensor noise and soft-tissue wobble would otherwise inflate."""
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    k = int(round(width_s / dt)) if dt > 0 else 1
    if k < 2 or len(x) < k:
        return x
    padded = np.concatenate([np.full(k // 2, x[0]), x, np.full(k - 1 - k // 2, x[-1])])
    return np.convolve(padded, np.ones(k) / k, mode="valid")


def _butt_wink(t, tilt, i0, ib, w0, w1, i1, depth, p: SquatParams):
    """The reversal (deg): the largest drop below the most anterior tilt reached so far, at a
    sample of the bottom window ``w0``..``w1``; its level, the peak and lockout tilts, and the
    index where the reversal began (the running maximum its largest drop falls from)."""
    if not np.isfinite(tilt[i0:i1 + 1]).all():
        return float("nan"), "not_eligible", None, None, None
    tilt = _smooth(t, tilt, p.wink_smoothing_s)
    peak = float(tilt[i0:ib + 1].max())  # most anterior on the way down
    lockout = float(np.median(tilt[i1:][t[i1:] <= t[i1] + 0.3]))
    segment = tilt[i0:w1 + 1]
    drops = np.maximum.accumulate(segment) - segment
    deepest = w0 - i0 + int(np.argmax(drops[w0 - i0:]))
    wink = float(drops[deepest])
    onset = i0 + int(np.argmax(segment[:deepest + 1]))
    level: ButtWinkLevel
    if depth < p.eligible_depth_m and peak - tilt[i0] < p.eligible_rotation_deg:
        level = "not_eligible"
    elif wink >= p.wink_flag_deg:
        level = "flag"
    elif wink >= p.wink_mild_deg:
        level = "mild"
    else:
        level = "none"
    return wink, level, peak, lockout, onset


@dataclass(frozen=True)
class SquatUpdate:
    reps: tuple[SquatRep, ...] = ()
    """Reps completed (and confirmed) in this batch."""


_EXCLUDED_ACTIVITIES = ("walking", "sitting", "lying")


class SquatDetector:
    """Streaming rep detector. Inputs per batch: ``t``, ``tilt_deg`` (pelvic pitch about the
    left-right axis, anterior positive, any offset; NaN where the axis is unknown), the
    earth-frame vertical acceleration ``acc_z`` (m/s², gravity removed) and ``gyr`` (N, 3)
    rad/s. Each rep is reported as soon as its closing top is confirmed (rep-by-rep feedback).
    ``rest`` says what a moment at rest is (the activity's movement bouts use the same);
    ``sample_rate_hz`` sizes its window in samples."""

    def __init__(self, params: SquatParams | None = None, rest: BoutParams | None = None,
                 sample_rate_hz: float = 100.0):
        self.params = params or SquatParams()
        self._cycles = CycleTracker(self.params.cycles, rest, sample_rate_hz)
        self.reset()

    def reset(self) -> None:
        self._cycles.reset()
        self._last_end_s = -np.inf
        self._set = 0
        self._index = 0

    def update(self, t: np.ndarray, tilt_deg: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray,
               activity: np.ndarray | None = None, tilt_calibrated: bool = True) -> SquatUpdate:
        """``activity`` (optional): a cycle labelled walking, sitting or lying for most of its
        samples is no rep. ``tilt_calibrated``: ``tilt_deg`` is against a standing neutral
        (else the reps carry no peak-anterior or lockout angle; the wink needs no neutral)."""
        t = np.asarray(t, dtype=float)
        if len(t) == 0:
            return SquatUpdate()
        excluded = np.zeros(len(t))
        if activity is not None:
            excluded = np.isin(np.asarray(activity).astype(str), _EXCLUDED_ACTIVITIES).astype(float)
        cycles = self._cycles.update(t, acc_z, gyr, tilt=np.asarray(tilt_deg, dtype=float),
                                     excluded=excluded)
        return SquatUpdate(reps=self._reps(cycles, tilt_calibrated))

    def flush(self, tilt_calibrated: bool = True) -> SquatUpdate:
        """End of the stream: the last rep, if the pelvis rose back but its top is not confirmed."""
        return SquatUpdate(reps=self._reps(self._cycles.flush(), tilt_calibrated))

    def _reps(self, cycles: list[Cycle], tilt_calibrated: bool) -> tuple[SquatRep, ...]:
        reps = []
        for c in cycles:
            # Either half mostly walking, sitting or lying: not a squat (e.g. sitting down,
            # then the band-pass alone bringing the position back up while the wearer sits).
            excluded = c.extra["excluded"]
            if max(excluded[:c.bottom_index + 1].mean(), excluded[c.bottom_index:].mean()) > \
                    self.params.max_excluded_fraction:
                continue
            rotation = np.degrees(main_rotation(c.t, c.gyr))
            m = measure_rep(c.t, c.position, c.extra["tilt"], rotation, self.params, tilt_calibrated)
            if m is not None:
                reps.append(self._number(m))
        return tuple(reps)

    def _number(self, m: RepMeasurement) -> SquatRep:
        if self._set == 0 or m.start_s - self._last_end_s > self.params.set_break_s:
            self._set += 1
            self._index = 0
        self._index += 1
        self._last_end_s = m.end_s
        return SquatRep(
            set=self._set, index=self._index, start_s=m.start_s, bottom_s=m.bottom_s,
            end_s=m.end_s, wink_deg=m.wink_deg, wink_level=m.wink_level, depth_m=m.depth_m,
            peak_anterior_deg=m.peak_anterior_deg, lockout_deg=m.lockout_deg,
            descent_s=m.descent_s, bottom_pause_s=m.bottom_pause_s, ascent_s=m.ascent_s,
            wink_onset_depth_m=m.wink_onset_depth_m)


def detect_squats(t: np.ndarray, tilt_deg: np.ndarray, acc_z: np.ndarray,
                  gyr: np.ndarray, activity: np.ndarray | None = None,
                  params: SquatParams | None = None, sample_rate_hz: float = 100.0,
                  tilt_calibrated: bool = True) -> tuple[SquatRep, ...]:
    """Batch helper: every rep of a whole recording (the last one flushed at its end)."""
    detector = SquatDetector(params, sample_rate_hz=sample_rate_hz)
    reps = detector.update(t, tilt_deg, acc_z, gyr, activity, tilt_calibrated).reps
    return reps + detector.flush(tilt_calibrated).reps


@dataclass(frozen=True)
class SetSummary:
    set: int
    reps: int
    start_s: float
    end_s: float
    mean_depth_m: float | None
    mean_rep_s: float
    max_wink_deg: float | None
    butt_wink_reps: int
    mild_wink_reps: int
    eligible_reps: int


def summarize_sets(reps: tuple[SquatRep, ...] | list[SquatRep]) -> tuple[SetSummary, ...]:
    """One summary per set, in order."""
    summaries = []
    for number in sorted({r.set for r in reps}):
        rs = [r for r in reps if r.set == number]
        depths = [r.depth_m for r in rs if r.depth_m is not None]
        winks = [r.wink_deg for r in rs if r.wink_level != "not_eligible" and np.isfinite(r.wink_deg)]
        summaries.append(SetSummary(
            set=number, reps=len(rs), start_s=rs[0].start_s, end_s=rs[-1].end_s,
            mean_depth_m=float(np.mean(depths)) if depths else None,
            mean_rep_s=float(np.mean([r.end_s - r.start_s for r in rs])),
            max_wink_deg=float(max(winks)) if winks else None,
            butt_wink_reps=sum(r.wink_level == "flag" for r in rs),
            mild_wink_reps=sum(r.wink_level == "mild" for r in rs),
            eligible_reps=sum(r.wink_level != "not_eligible" for r in rs)))
    return tuple(summaries)
