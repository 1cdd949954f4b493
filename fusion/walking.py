"""Walking from the pelvis's step bounce: a regular 1.2–3.5 Hz oscillation of the acceleration.

Every step lifts and drops the pelvis, so the magnitude of the specific force swings by 1–4 m/s²
once per step (elderly slow walkers at 1.4 steps/s and young fast walkers at 2.3 alike), and
the swing repeats one step and one stride (two steps) later: step and stride regularity,
Moe-Nilssen and Helbostad 2004. The magnitude needs no orientation and no mounting.

Streaming, with a cost per sample that does not depend on the batch size, and identical to one
batch however the stream is cut:

1. the magnitude is averaged over fixed frames of device time (``frame_s``, 25 Hz): the same
   grid at 50, 100 and 200 Hz input, duplicate timestamps merge, and the box average cancels
   what would alias into the step band;
2. a band-pass on the frames (a smoothing minus a centred baseline, one short FIR) keeps the
   step band. Heel-strike impacts and sensor noise above ~4 Hz do not repeat from step to step
   and hid the regularity of real 200 Hz recordings; squats and sit-to-stands (0.2–0.5 Hz) lie
   below the band;
3. each window of ``window_s`` ending at a frame is judged. It starts a walk when every third of
   it bounces (each step, not one burst: a sit-down next to quiet sitting), the slow part below
   the band swings less than the bounce (walking keeps the pelvis at a steady height; a squat or
   a sit-to-stand is a slow excursion whose harmonics also reach the band), and, for some step
   period, the band correlates with itself one step and one stride later. Overlapping a walk,
   the same rules at lower levels and the walk's cadence carry it on (turns, shuffling);
4. such a window marks its frames walking from its first step peak (or its start, inside a
   walk) to its last; a pause of up to ``max_break_s`` between marked stretches is walking too,
   and a walk counts once its steps span ``min_walk_s``.

On the realdata development split (benchmarks/walking_eval.py) steps 1–3 took SisFall walking
from 0.41 to 0.98 of the time and HAPT walking recall from 0.81 to 0.96, with no walking in squat
sets, sit-to-stands or knee bends. In Mobilise-D's simulated daily activities (short walks with
turns; one participant with multiple sclerosis) only 38 % of the windows inside walking bouts met
the first rules; carrying walks on, 3-s pauses and marking from step to step took the bout time
found from 0.67 to 0.79 and the time outside bouts left alone from 0.93 to 0.95, and HAPT's false
walking in postures from 0.1–0.3 % to 0.01 % of the time.

Lost samples: frames across a gap up to ``max_gap_s`` hold the last value (a flat stretch makes
no step); a longer gap leaves its frames invalid, and a band value that needs one is left out.
Live delay: a window is judged once the band at its last frame is known (half the baseline,
0.3 s, plus the open hop, up to ``hop_s``), so the first samples of a walk are labelled walking
once its steps span ``min_walk_s`` (about 3 s late), through ``WalkingUpdate.earlier``; later
samples of a walk once a window holds a step after them (within about a step and 0.5 s), and a
pause inside a walk when the walk goes on after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class WalkingParams:
    frame_s: float = 0.04
    """Frame of the averaged magnitude (25 Hz). The step band ends near 4 Hz, so 25 Hz holds it
    with room; averaging over exactly one frame nulls 25, 50, … Hz, the frequencies that would
    alias onto the band."""
    smooth_s: float = 0.12
    """Box length of the smoothing (applied twice: a 0.2-s triangle, about -3 dB at 3.5 Hz).
    Removes heel-strike impacts and noise, which differ from step to step."""
    baseline_s: float = 0.6
    """Centred box subtracted as the baseline: gravity, posture and movements slower than about
    1 Hz (squats and transfers at 0.2–0.5 Hz keep under 15 % of their amplitude)."""
    hop_s: float = 0.2
    """Frames are closed and their windows judged in groups this long (every window is still
    judged), so that a call with one sample costs next to nothing and the cost per sample does
    not grow as batches shrink. Adds up to this much to the live delay."""
    window_s: float = 2.5
    """Judged window: at 1.2 steps/s it holds a stride (1.7 s) with 0.8 s of pairs to correlate,
    and about three steps at any walking speed."""
    min_step_hz: float = 1.2
    max_step_hz: float = 3.5
    """Step rates searched for (slow elderly gait ~1.3 steps/s, running ~3). Below 1.2 the stride
    of a brisk squat set (2 s per rep) would fit too."""
    min_bounce_rms_m_s2: float = 0.3
    """RMS of the step band in each part of the window, to start a walk. Quiet standing, sitting
    and lying show 0.01–0.06; walking 0.4–5 (slow shuffling young walkers the least)."""
    bounce_parts: int = 3
    """The window is cut into this many parts, each about one step at ``min_step_hz``, and the
    bounce is the RMS of the weakest part: walking bounces at every step, while a sit-down or a
    stand-up is one burst (with its ringing) next to quiet standing or sitting."""
    max_slow_ratio: float = 0.5
    """Largest SD of the slow part (the baseline, below the step band) in the window, as a
    fraction of the step bounce's RMS. Walking carries the pelvis at a steady height: only the
    step bounce leaks into the baseline (0.05–0.3 of it; up to 0.46 in 95 % of daily-life walks
    with turns). A squat, a sit-to-stand or getting up from lying is a slow excursion (0.7–2
    times the bounce its own harmonics put into the step band; its wobbles 0.55–0.6)."""
    min_regularity: float = 0.4
    """Smaller of the step and stride autocorrelations at the best step period, to start a walk.
    Straight walking: 0.6–1; about a room (turns, short bouts) and the asymmetric gait of multiple
    sclerosis 0.4–0.7 (Mobilise-D: median 0.45 inside walking bouts). Postures, transfers, squats,
    handling things: median 0.15–0.25, three windows in four below 0.35 (best of many lags)."""
    continue_bounce_rms_m_s2: float = 0.15
    """A walk goes on through windows bouncing half the start level in every part: turning steps,
    shuffling and carrying lift the pelvis less (0.1–0.3 in the Mobilise-D turns)..."""
    continue_regularity: float = 0.3
    """... this regular (turns and irregular steps between regular ones: 0.3–0.5) ..."""
    cadence_tolerance: float = 0.15
    """... at the step period of the last window that started a walk, within this fraction: a walk
    keeps its cadence (step-time variability 2–5 % healthy, about 10 % in pathological gait);
    handling things or shifting from foot to foot after a walk rocks at any period."""
    min_valid_fraction: float = 0.6
    """A window with fewer valid band values (lost samples) is not judged: 1.5 s of 2.5 s still
    holds about three steps."""
    max_break_s: float = 3.0
    """A pause between steps this short stays in the walk (stopping at a door): the Mobilise-D
    walking-bout definition (Kluge et al. 2021; mobgap's bout assembly) joins strides 3 s apart."""
    min_walk_s: float = 2.5
    """A walk is reported once its steps span this long: Mobilise-D's walking bouts hold three
    strides of each foot (six steps: 2.5 s at a brisk 2.4 steps/s); the wobble after getting up
    from a chair or from lying passes for one window of steps, at most 1.5–2.2 s of them."""
    max_gap_s: float = 0.1
    """Longest stretch without samples bridged by holding the last value; a longer one would put
    a jump, which looks like a step, into the band."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"WalkingParams.{f.name} must be a positive finite number, got {value!r}")
        if self.min_step_hz >= self.max_step_hz:
            raise ValueError(f"WalkingParams.min_step_hz ({self.min_step_hz}) must be below max_step_hz "
                             f"({self.max_step_hz})")
        if self.max_step_hz * self.frame_s > 0.25:
            raise ValueError(f"WalkingParams.frame_s ({self.frame_s}) must hold at least 4 frames per step "
                             f"at max_step_hz ({self.max_step_hz})")
        if 2.0 / self.min_step_hz >= self.window_s:
            raise ValueError(f"WalkingParams.window_s ({self.window_s}) must be longer than a stride at "
                             f"min_step_hz (2/{self.min_step_hz} s)")
        if self.min_regularity > 1.0 or self.min_valid_fraction > 1.0 or self.cadence_tolerance >= 1.0:
            raise ValueError("WalkingParams.min_regularity and min_valid_fraction must be at most 1, "
                             "cadence_tolerance below 1")
        if (self.continue_bounce_rms_m_s2 > self.min_bounce_rms_m_s2
                or self.continue_regularity > self.min_regularity):
            raise ValueError("WalkingParams.continue_bounce_rms_m_s2 and continue_regularity must not exceed "
                             "min_bounce_rms_m_s2 and min_regularity (going on asks less than starting)")
        if self.smooth_s >= self.baseline_s:
            raise ValueError(f"WalkingParams.smooth_s ({self.smooth_s}) must be shorter than baseline_s "
                             f"({self.baseline_s})")


@dataclass(frozen=True, eq=False)
class WalkingUpdate:
    walking: np.ndarray
    """Per sample of this batch: walking (known by now)."""
    earlier: tuple[tuple[float, float], ...] = ()
    """Walking spans (s, inclusive) over samples of earlier batches, judged only now."""


def _odd_frames(seconds: float, frame_s: float) -> int:
    return 2 * int(round(seconds / frame_s / 2.0 - 0.5)) + 1


def _band_kernel(params: WalkingParams) -> np.ndarray:
    """FIR of the band-pass on frames: smoothing (box twice) minus the centred baseline box."""
    smooth = _odd_frames(params.smooth_s, params.frame_s)
    base = _odd_frames(params.baseline_s, params.frame_s)
    box = np.ones(smooth) / smooth
    triangle = np.convolve(box, box)
    kernel = -np.ones(base) / base
    middle = (base - len(triangle)) // 2
    kernel[middle:middle + len(triangle)] += triangle
    return kernel


class WalkingDetector:
    """Streaming walking detector; see the module docstring."""

    def __init__(self, params: WalkingParams | None = None, sample_rate_hz: float = 100.0):
        self.params = params or WalkingParams()
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise ValueError(f"sample_rate_hz must be a positive number, got {sample_rate_hz!r}")
        # Everything runs on the detector's own frame grid: the input rate does not matter.
        p = self.params
        self._kernel = _band_kernel(p)
        self._window = int(round(p.window_s / p.frame_s))
        self._hop = max(1, int(round(p.hop_s / p.frame_s)))
        step_lags = np.arange(int(math.ceil(1.0 / (p.max_step_hz * p.frame_s))),
                              int(math.floor(1.0 / (p.min_step_hz * p.frame_s))) + 1)
        self._step_lags = step_lags
        self._lags = np.union1d(step_lags, 2 * step_lags)  # only these are looked at
        self._step_at = np.searchsorted(self._lags, step_lags)  # columns of the step and stride lags
        self._stride_at = np.searchsorted(self._lags, 2 * step_lags)
        # Per lag and window position n: the position n - lag, and whether it is in the window.
        n = np.arange(self._window)
        self._shifted = np.clip(n[None, :] - self._lags[:, None], 0, None)
        self._in_window = n[None, :] >= self._lags[:, None]
        self._parts = np.array_split(n, p.bounce_parts)  # window positions of each part
        self.reset()

    def reset(self) -> None:
        # Samples of the open hop (frame, t, magnitude, stream index), kept raw until it closes
        # so that each frame's mean is the same however the stream was cut.
        self._open: list[tuple[np.ndarray, ...]] = []
        self._hop_end = -np.inf  # first frame after the open hop
        self._hop_end_raw = -np.inf  # the same on the time grid (t / frame_s), before any gap is shortened
        # Batches not looked at yet (t, acc, stream index of the first sample): while their
        # samples stay inside the open hop, a call only stores them.
        self._incoming: list[tuple[np.ndarray, np.ndarray, int]] = []
        self._last_raw = -np.inf  # frame of the last sample on the time grid
        self._frame_offset = 0.0  # frames left out of long gaps so far
        self._last_frame: int | None = None  # last closed frame
        self._last_value = 0.0  # its mean magnitude, held across short gaps
        self._last_t = -np.inf  # its last sample
        self._seen = 0  # samples received
        self._previous_t = -np.inf  # last sample of the previous batch
        # Closed frames waiting for the band FIR, and band positions kept for the windows; each
        # row: value, valid, then the frame's first/last sample time and stream index (band rows
        # add the slow part, the baseline).
        self._fir_tail = np.zeros((len(self._kernel) - 1, 6))  # as after a long gap: invalid,
        self._fir_tail[:, 4:6] = -1  # no samples, so that the first frames are judged like later ones
        self._band_tail = np.zeros((0, 7))
        self._band_count = 0  # band positions produced so far
        self._marked_until = -2  # last band position marked walking (none yet: positions start at 0)
        self._last_walked: tuple[int, float] | None = None  # last sample marked walking (index, t)
        self._walk_start_t = -np.inf  # first step of the walk in progress
        self._pending: list[tuple[int, int, float, float]] = []  # its runs, while shorter than min_walk_s
        self._cadence_lag = 0  # step period (frames) of the last window that started a walk
        self._new_band = 0  # band positions added by this batch

    def update(self, t: np.ndarray, acc: np.ndarray) -> WalkingUpdate:
        """``t`` (N,) s; ``acc`` (N, 3) specific force in the sensor frame, m/s² (its magnitude
        separated walking on real recordings as well as the vertical acceleration did, and
        needs no orientation)."""
        t = np.asarray(t, dtype=float).reshape(-1)
        acc = np.asarray(acc, dtype=float).reshape(-1, 3)
        n = len(t)
        first_index = self._seen
        self._seen += n
        walking = np.zeros(n, dtype=bool)
        if n == 0:
            return WalkingUpdate(walking=walking)
        self._incoming.append((t, acc, first_index))
        latest = float(t.max()) / self.params.frame_s
        if latest < self._hop_end_raw:  # still inside the open hop: nothing to judge yet
            self._previous_t = float(t[-1])
            return WalkingUpdate(walking=walking)
        t_in, acc_in = (np.concatenate(c) for c in zip(*((c[0], c[1]) for c in self._incoming)))
        index = np.arange(self._incoming[0][2], first_index + n)
        self._incoming = []
        magnitude = np.linalg.norm(acc_in, axis=1)
        usable = np.isfinite(t_in) & np.isfinite(magnitude)  # the rest is treated as lost
        frame = self._frames(t_in[usable])
        self._open.append((frame, t_in[usable], magnitude[usable], index[usable]))
        if len(frame):
            self._extend_band(self._close_frames(*(np.concatenate(c) for c in zip(*self._open))))
        earlier: list[tuple[float, float]] = []
        for i0, i1, t0, t1 in self._judge():
            if i1 >= first_index:
                walking[max(i0 - first_index, 0):i1 - first_index + 1] = True
            if i0 < first_index:
                earlier.append((t0, t1 if i1 < first_index else self._previous_t))
        self._previous_t = float(t[-1])
        return WalkingUpdate(walking=walking, earlier=tuple(earlier))

    def _frames(self, t: np.ndarray) -> np.ndarray:
        """Frame of each sample: time going back stays in the current frame, and a gap longer
        than a window (and the FIR) counts as just that long, since nothing before it is used."""
        raw = np.maximum.accumulate(np.maximum(np.floor(t / self.params.frame_s), self._last_raw))
        if len(raw) == 0:
            return np.zeros(0, dtype=np.int64)
        longest = self._window + len(self._kernel) + 1
        jumps = np.diff(raw, prepend=self._last_raw if np.isfinite(self._last_raw) else raw[0])
        offset = self._frame_offset + np.cumsum(np.maximum(jumps - longest, 0.0))
        self._last_raw, self._frame_offset = float(raw[-1]), float(offset[-1])
        return (raw - offset).astype(np.int64)

    def _close_frames(self, frame: np.ndarray, t: np.ndarray, magnitude: np.ndarray,
                      index: np.ndarray) -> np.ndarray:
        """Rows (value, valid, first t, last t, first index, last index) of every frame before
        the hop of the last sample, empty frames included; that hop stays open."""
        last = int(frame[-1]) // self._hop * self._hop
        self._hop_end = last + self._hop
        self._hop_end_raw = self._hop_end + self._frame_offset
        closed = int(np.searchsorted(frame, last, side="left"))
        self._open = [(frame[closed:], t[closed:], magnitude[closed:], index[closed:])]
        first = self._last_frame + 1 if self._last_frame is not None else (int(frame[0]) if closed else last)
        if first >= last:
            return np.zeros((0, 6))
        starts = np.flatnonzero(np.diff(frame[:closed], prepend=-np.inf) != 0)
        ends = np.append(starts[1:], closed)
        counts = ends - starts
        # Mean per frame, summed in sample order (the same sum whatever the batch cut).
        total = np.zeros(len(starts))
        for k in range(int(counts.max()) if len(counts) else 0):
            total += np.where(k < counts, magnitude[np.minimum(starts + k, closed - 1)], 0.0)
        rows = np.zeros((last - first, 6))
        filled = frame[starts] - first
        rows[:, 4:6] = -1  # no samples
        rows[filled, 0] = total / np.maximum(counts, 1)
        rows[filled, 1] = 1.0
        rows[filled, 2], rows[filled, 3] = t[starts], t[ends - 1]
        rows[filled, 4], rows[filled, 5] = index[starts], index[ends - 1]
        # Empty frames hold the last value when the samples around them are close enough.
        has = np.zeros(len(rows), dtype=bool)
        has[filled] = True
        where = np.arange(len(rows))
        before = np.maximum.accumulate(np.where(has, where, -1))
        after = np.minimum.accumulate(np.where(has, where, len(rows))[::-1])[::-1]
        previous_value = np.where(before >= 0, rows[np.maximum(before, 0), 0], self._last_value)
        previous_t = np.where(before >= 0, rows[np.maximum(before, 0), 3], self._last_t)
        next_t = np.where(after < len(rows), rows[np.minimum(after, len(rows) - 1), 2], t[closed])
        empty = ~has
        rows[empty, 0] = previous_value[empty]
        rows[empty, 1] = (next_t - previous_t <= self.params.max_gap_s)[empty]
        self._last_frame = last - 1
        if has.any():
            k = int(filled[-1])
            self._last_value, self._last_t = float(rows[k, 0]), float(rows[k, 3])
        return rows

    def _extend_band(self, frames: np.ndarray) -> None:
        """Band-pass the new frames (FIR with the previous frames as context); a band value is
        valid when every frame under the kernel is."""
        size = len(self._kernel)
        context = np.concatenate([self._fir_tail, frames])
        self._fir_tail = context[-(size - 1):]
        m = len(context) - size + 1
        if m <= 0:
            return
        values = np.where(context[:, 1] > 0, context[:, 0], 0.0)
        band = np.zeros(m)
        slow = np.zeros(m)
        invalid = np.zeros(m)
        for k, weight in enumerate(self._kernel):
            band += weight * values[k:k + m]
            slow += values[k:k + m]
            invalid += context[k:k + m, 1] == 0
        rows = np.concatenate([context[size // 2:size // 2 + m], np.zeros((m, 1))], axis=1)
        rows[:, 0] = np.where(invalid == 0, band, 0.0)
        rows[:, 1] = invalid == 0
        rows[:, 6] = np.where(invalid == 0, slow / size, 0.0)
        self._band_tail = np.concatenate([self._band_tail, rows])
        self._band_count += m
        self._new_band = m

    def _judge(self) -> list[tuple[int, int, float, float]]:
        """Judge the windows ending at the new band positions; returns the runs of frames newly
        marked walking as (first, last stream index, first, last sample time)."""
        w = self._window
        tail = self._band_tail
        new, self._new_band = self._new_band, 0
        count = min(new, len(tail) - w + 1)
        runs: list[tuple[int, int, float, float]] = []
        if count > 0:
            offset = self._band_count - len(tail)  # band position of tail[0]
            ends = np.arange(len(tail) - count, len(tail))
            judged = self._windows_walk(tail[:, 0], tail[:, 6], tail[:, 1] > 0, ends, self._marked_until + 1 - offset)
            for first, last in self._new_marks(ends + offset, *judged):
                runs.append(self._samples_of(tail[first - offset:last - offset + 1]))
        self._band_tail = tail[-(w - 1):]
        return self._walks_of([r for r in runs if r[0] >= 0])

    def _walks_of(self, runs: list[tuple[int, int, float, float]]) -> list[tuple[int, int, float, float]]:
        """The runs of samples to report: each reaches back to the walk before it when the pause
        between them is at most ``max_break_s``, and a walk's runs are held back until its steps
        span ``min_walk_s`` (a shorter walk is never reported)."""
        p = self.params
        walks = []
        for i0, i1, t0, t1 in runs:
            if self._last_walked is not None and t0 - self._last_walked[1] <= p.max_break_s:
                i0, t0 = min(i0, self._last_walked[0]), min(t0, self._last_walked[1])
            else:
                self._walk_start_t, self._pending = t0, []
            self._last_walked = (i1, t1)
            self._pending.append((i0, i1, t0, t1))
            if t1 - self._walk_start_t >= p.min_walk_s:
                walks += self._pending
                self._pending = []
        return walks

    def _windows_walk(self, band: np.ndarray, slow: np.ndarray, valid: np.ndarray, ends: np.ndarray,
                      joined_from: int):
        """Per window ending at ``ends``: whether it starts a walk (enough valid values, a step
        bounce in every part, no larger slow swing, regularity), whether it may carry one on (the
        same at the ``continue_`` levels), its step period (frames), its first and last step (the
        band reaching the window's RMS: a steady bounce peaks at 1.4 times it, the shift before
        the first heel strike stays below). Weak windows no walk can reach are not correlated:
        past ``joined_from`` with no candidate before them in this call to mark further."""
        p = self.params
        w = self._window
        starts_walk, goes_on = np.zeros(len(ends), dtype=bool), np.zeros(len(ends), dtype=bool)
        lag, first, last = (np.zeros(len(ends), dtype=np.int64) for _ in range(3))
        candidate_before = False
        for lo in range(0, len(ends), 512):  # chunks bound the (windows, lags, w) arrays
            e = ends[lo:lo + 512]
            positions = e[:, None] - w + 1 + np.arange(w)[None, :]
            x = band[positions]
            v = valid[positions].astype(float)
            count = v.sum(axis=1)
            # The bounce of the weakest part: every step must bounce, not one burst.
            rms = np.min([np.sqrt((x[:, k] ** 2).sum(axis=1) / np.maximum(v[:, k].sum(axis=1), 1.0))
                          for k in self._parts], axis=0)
            bounce = np.sqrt((x * x).sum(axis=1) / np.maximum(count, 1.0))
            s = slow[positions] * v
            slow_mean = s.sum(axis=1) / np.maximum(count, 1.0)
            slow_sd = np.sqrt(np.maximum((s * s).sum(axis=1) / np.maximum(count, 1.0) - slow_mean ** 2, 0.0))
            candidate = ((count >= p.min_valid_fraction * w) & (rms >= p.continue_bounce_rms_m_s2)
                         & (slow_sd <= p.max_slow_ratio * bounce))
            reachable = candidate_before | (np.cumsum(candidate) - candidate > 0) | (e - w + 1 <= joined_from)
            candidate_before = candidate_before or bool(candidate.any())
            candidate &= (rms >= p.min_bounce_rms_m_s2) | reachable
            # Regularity, the costly part, only where the rest passes (at a desk: hardly ever).
            where = np.flatnonzero(candidate)
            if len(where) == 0:
                continue
            x, v, rms, bounce = x[where], v[where], rms[where], bounce[where]
            r = self._autocorrelation(x, v)
            both = np.minimum(r[:, self._step_at], r[:, self._stride_at])
            best = both.argmax(axis=1)
            regularity = both[np.arange(len(where)), best]
            steps = (np.abs(x) >= bounce[:, None]) & (v > 0)
            at = lo + where
            starts_walk[at] = (rms >= p.min_bounce_rms_m_s2) & (regularity >= p.min_regularity)
            goes_on[at] = regularity >= p.continue_regularity
            lag[at] = self._step_lags[best]
            first[at] = steps.argmax(axis=1)
            last[at] = w - 1 - steps[:, ::-1].argmax(axis=1)
        return starts_walk, goes_on, lag, first, last

    def _autocorrelation(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Per window (rows of ``x``, invalid values 0, ``v`` 1 where valid) and lag: the
        normalised autocorrelation over the pairs of valid values (n - lag, n) in the window.
        With every value valid (nearly always) the energies after and before each lag are
        differences of one cumulative sum."""
        xs = x[:, self._shifted] * self._in_window
        pairs = np.einsum("wn,wln->wl", x, xs)
        energy = np.cumsum(x * x, axis=1)
        late = energy[:, -1:] - energy[:, self._lags - 1]
        early = energy[:, self._window - 1 - self._lags]
        gaps = np.flatnonzero(~v.all(axis=1))
        if len(gaps):
            vs = v[gaps][:, self._shifted] * self._in_window
            late[gaps] = np.einsum("wn,wln->wl", x[gaps] ** 2, vs)
            early[gaps] = np.einsum("wln,wn->wl", xs[gaps] ** 2, v[gaps])
        return pairs / np.sqrt(np.maximum(late * early, 1e-12))

    def _new_marks(self, ends: np.ndarray, starts_walk: np.ndarray, goes_on: np.ndarray, lag: np.ndarray,
                   first: np.ndarray, last: np.ndarray) -> list[tuple[int, int]]:
        """Band positions newly marked walking, as runs (first, last), by the windows ending at
        ``ends`` (band positions), in order: from the first step (or the window's start, where it
        overlaps the walk marked so far) to the last, for a window that starts a walk or that may
        carry one on and overlaps it at its cadence."""
        p = self.params
        runs: list[tuple[int, int]] = []
        for k in np.flatnonzero(goes_on | starts_walk):
            start = int(ends[k]) - self._window + 1
            joined = start <= self._marked_until + 1
            if starts_walk[k]:
                self._cadence_lag = int(lag[k])
            elif not (joined and self._cadence_lag
                      and abs(lag[k] - self._cadence_lag) <= p.cadence_tolerance * self._cadence_lag):
                continue
            a = max(start if joined else start + int(first[k]), self._marked_until + 1)
            b = start + int(last[k])
            if b < a:
                continue
            if runs and a == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
            self._marked_until = b
        return runs

    @staticmethod
    def _samples_of(rows: np.ndarray) -> tuple[int, int, float, float]:
        filled = np.flatnonzero(rows[:, 4] >= 0)
        if len(filled) == 0:
            return (-1, -1, 0.0, 0.0)
        a, b = rows[filled[0]], rows[filled[-1]]
        return (int(a[4]), int(b[5]), float(a[2]), float(b[3]))
