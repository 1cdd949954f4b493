"""The whole-session calibration of ``tiltwatch analyze``, found in passes over the samples with
bounded memory: the standing neutral (given windows, or the best still standing stretch anywhere)
and the pelvis's left-right axis, known before the pipeline judges the first sample.

Each pass reads the session again (``Passes``: a file's samples are spooled in binary by
``open_recording_stream(spool=True)``, so a pass costs little); the filter's quaternions of the
first pass are kept in an anonymous temporary file, so the later passes read them instead of
filtering again.
What stays in memory is per sample a time (8 bytes) and an activity code (1 byte), the samples of
the still windows being graded (up to ``window_s``), and the angular rates of the early descents.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from firmware_interface.errors import CalibrationRejected
from firmware_interface.samples import SampleBatch
from fusion._quaternion import angle_between, earth_up_in_sensor, normalize
from fusion.activity import ActivityClassifier
from fusion.axis import AxisFinder, descent_lean, early_descent_mask, find_left_axis
from fusion.calibration import (STANDARD_GRAVITY, Calibration, CalibrationParams, calibration_from_window)
from fusion.detection.events import ACTIVITIES
from fusion.orientation import OrientationEstimator
from fusion.session import CalibrationSummary
from fusion.settings import Settings
from fusion.vertical import vertical_acceleration

Passes = Callable[[], Iterable[SampleBatch]]
"""Starts one pass over a session's samples, in chunks of ``CHUNK_S`` of device time (windows
``t0 + k·CHUNK_S <= t < t0 + (k+1)·CHUNK_S`` from the first sample ``t0``), the same every time."""
CHUNK_S = 10.0

EARLY_DESCENT_FLIP = 0.3
"""The axis found is turned round when the pelvis turns backwards about it in the first half of
its descents more than this (``early_descent_lean``; on real squat sets +0.1 to +0.95 with the
right sign, gross butt winks included, and -0.74 to -0.97 with the wrong one)."""
WALKING_POSE_MAX_DEG = 20.0
"""A standing neutral found in a session that walks lies within this of the walking pose (the
pelvis upright; the 11.6° sit/stand cut-point of Vähä-Ypyä is measured from it)."""
NO_NEUTRAL_MESSAGE = ("no still standing period found: tilt against neutral and posture episodes are "
                      "unavailable (give one with --calibration stand=A:B); reps, depth, tempo and "
                      "butt wink are still measured")
_RETRY_STEP_S = 0.5
"""Still windows start this far apart along a quiet run (as ``find_standing_neutral``)."""


def activity_codes(labels: np.ndarray) -> np.ndarray:
    """Activity names as one byte each (indices into ``ACTIVITIES``)."""
    codes = np.full(len(labels), 255, dtype=np.uint8)
    for k, name in enumerate(ACTIVITIES):
        codes[labels == name] = k
    if (codes == 255).any():
        raise ValueError(f"unknown activity {labels[codes == 255][0]!r}")
    return codes


def relabel(t: np.ndarray, codes: np.ndarray, start_s: float, end_s: float, activity: str, before: int) -> None:
    """Apply a revision of the activity: samples in [start_s, end_s] among the first ``before``
    (``t`` increasing) become ``activity``."""
    lo = int(np.searchsorted(t, start_s, side="left"))
    hi = min(int(np.searchsorted(t, end_s, side="right")), before)
    codes[lo:hi] = ACTIVITIES.index(activity)


class QuaternionCache:
    """The orientation filter's output of the first pass, replayed beside later passes."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # unnamed, removed on close, readable by us alone

    def append(self, quaternion: np.ndarray) -> None:
        self._file.write(np.ascontiguousarray(quaternion, dtype=np.float64).tobytes())

    def replay(self, passes: Passes) -> Iterator[tuple[SampleBatch, np.ndarray]]:
        self._file.seek(0)
        for batch in passes():
            data = self._file.read(32 * len(batch))
            yield batch, np.frombuffer(data, dtype=np.float64).reshape(len(batch), 4).copy()

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class SessionCalibration:
    """What the first passes found: the reference the pipeline starts with, where it came from,
    and the session's quaternions (``quaternions.replay``) and sample times."""

    reference: Calibration
    summary: CalibrationSummary
    quaternions: QuaternionCache
    t: np.ndarray


def calibrate_session(passes: Passes, orientation: OrientationEstimator, settings: Settings, sample_rate_hz: float,
                      windows: dict[str, tuple[float, float]], progress: Callable[[float], None] | None = None,
                      expected_samples: int | None = None) -> SessionCalibration:
    """Run ``orientation`` over the session (it keeps its final gyro bias, as the pipeline will
    use it), then find the reference for the whole session (a standing neutral, or a provisional
    one when none is found) and its left-right axis. ``windows``: ``stand``/``sit``/``hinge`` →
    (start, end) seconds from the first sample. ``progress`` is called with the fraction done
    (during the first pass when ``expected_samples`` is given)."""
    report = progress or (lambda fraction: None)
    params = settings.calibration
    cache = QuaternionCache()
    t_parts, acc_z_parts = [], []
    taken: dict[str, _Window] = {}
    for batch in passes():
        q = orientation.update(batch)
        cache.append(q)
        if not t_parts:
            t0 = float(batch.t[0])
            taken = {kind: _Window(t0 + a, t0 + b) for kind, (a, b) in windows.items()}
        t_parts.append(batch.t.copy())  # not a view: that would keep the whole chunk read alive
        acc_z_parts.append(vertical_acceleration(batch.acc, q))
        for window in taken.values():
            window.take(batch.t, batch.acc, batch.gyr, q)
        if expected_samples and len(t_parts) % 30 == 0:
            report(0.3 * min(1.0, sum(map(len, t_parts)) / expected_samples))
    report(0.3)
    bias = orientation.gyro_bias_rad_s
    t = np.concatenate(t_parts) if t_parts else np.empty(0)
    del t_parts
    t0 = float(t[0]) if len(t) else 0.0
    acc_z = np.concatenate(acc_z_parts) if acc_z_parts else np.empty(0)
    del acc_z_parts
    early = early_descent_mask(t, acc_z)
    del acc_z

    message = None
    if "stand" in taken:
        w = taken["stand"]
        calibration = calibration_from_window(*w.arrays(bias), w.start_s, w.end_s, "stand", params=params)
        source = "windows"
    else:
        calibration = _best_standing_stretch(passes, cache, t, bias, settings, sample_rate_hz, report)
        if calibration is None:
            source, message = "none", NO_NEUTRAL_MESSAGE
            first = next(cache.replay(passes), None)
            calibration = Calibration.provisional_from(earth_up_in_sensor(first[1][:1])[0] if first else [0, 0, 1.0])
        else:
            source = "best still standing period"
    report(0.6)
    stand_window = stillness = None
    if not calibration.provisional:
        stand_window = (calibration.still_window[0] - t0, calibration.still_window[1] - t0)
        stillness = calibration.grade
    axis_found_at = lean = None
    if "hinge" in taken:
        wt, _, wgyr, wq = taken["hinge"].arrays(bias)
        calibration = calibration.with_left_axis(find_left_axis(wt, wgyr, wq, calibration.up_sensor, params))
    else:
        # As live: the first movements that reveal the axis, but applied from the start.
        finder = AxisFinder(calibration.up_sensor, params)
        descent_gyr, pos = [], 0
        for batch, q in cache.replay(passes):
            gyr = batch.gyr - bias
            if axis_found_at is None:
                axis = finder.update(batch.t, gyr, q)
                if axis is not None:
                    calibration = calibration.with_left_axis(axis)
                    axis_found_at = float(batch.t[-1] - t0)
            descent_gyr.append(gyr[early[pos:pos + len(batch)]])
            pos += len(batch)
        if calibration.axis_source == "functional":
            # The whole session is at hand: its descents check which way is forward. A set of
            # squats with no standing rest between them, or a neutral taken at a rep's top (still
            # pitched forward), can leave the found axis the wrong way round.
            lean = descent_lean(np.concatenate(descent_gyr) if descent_gyr else np.empty((0, 3)),
                                calibration.left_axis_sensor)
            if lean < -EARLY_DESCENT_FLIP:
                calibration = calibration.with_left_axis(-calibration.left_axis_sensor)
    sit_window = None
    if "sit" in taken:
        if calibration.provisional:
            raise CalibrationRejected("a sitting window needs a standing neutral: give stand=A:B as well")
        w = taken["sit"]
        calibration = calibration_from_window(*w.arrays(bias), w.start_s, w.end_s, "sit", base=calibration,
                                              params=params)
        sit_window = windows["sit"]
    report(0.7)
    summary = CalibrationSummary(
        source=source, axis=calibration.axis_source, message=message, stand_window_s=stand_window,
        stillness=stillness, sit_window_s=sit_window, axis_window_s=windows.get("hinge"),
        axis_found_at_s=axis_found_at, early_descent_lean=lean)
    return SessionCalibration(calibration, summary, cache, t)


def _best_standing_stretch(passes: Passes, cache: QuaternionCache, t: np.ndarray, bias: np.ndarray,
                           settings: Settings, sample_rate_hz: float,
                           report: Callable[[float], None]) -> Calibration | None:
    """The best still standing window among the samples that may be standing, from the movement
    cues alone (no neutral yet): the activity classifier's postures against the first pose, and,
    where the wearer walks, near the walking pose."""
    classifier = ActivityClassifier(settings.activity, sample_rate_hz)
    codes = np.zeros(len(t), dtype=np.uint8)
    first_up = None
    pos = 0
    for batch, q in cache.replay(passes):
        n = len(batch)
        up = earth_up_in_sensor(q)
        first_up = up[:1] if first_up is None else first_up
        nan = np.full(n, np.nan)
        out = classifier.update(batch.t, vertical_acceleration(batch.acc, q), batch.gyr - bias, nan, nan,
                                np.degrees(angle_between(up, first_up)), up, batch.acc)
        codes[pos:pos + n] = activity_codes(out.labels)
        for span in out.revisions:
            relabel(t, codes, span.start_s, span.end_s, span.activity, before=pos)
        pos += n
    for span in classifier.finish().revisions:
        relabel(t, codes, span.start_s, span.end_s, span.activity, before=len(t))
    report(0.4)
    walking = codes == ACTIVITIES.index("walking")
    walking_up = None
    if walking.sum() >= sample_rate_hz * 5:
        ups, pos = [], 0
        for batch, q in cache.replay(passes):
            ups.append(earth_up_in_sensor(q)[walking[pos:pos + len(batch)]])
            pos += len(batch)
        walking_up = normalize(np.concatenate(ups).mean(axis=0))
    report(0.45)
    search = _StillWindowSearch(settings.calibration)
    standing = codes == ACTIVITIES.index("standing")
    pos = 0
    for batch, q in cache.replay(passes):
        candidate = standing[pos:pos + len(batch)]
        if walking_up is not None:
            up = earth_up_in_sensor(q)
            candidate = candidate & (np.degrees(angle_between(up, walking_up[None, :])) <= WALKING_POSE_MAX_DEG)
        search.update(batch.t, batch.acc, batch.gyr - bias, q, candidate)
        pos += len(batch)
    return search.finish()


@dataclass
class _Window:
    """Samples inside a user's window [start_s, end_s], gathered in a pass."""

    start_s: float
    end_s: float
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def take(self, t: np.ndarray, acc: np.ndarray, gyr_raw: np.ndarray, q: np.ndarray) -> None:
        inside = (t >= self.start_s) & (t <= self.end_s)
        if inside.any():
            self.parts.append((t[inside], acc[inside], gyr_raw[inside], q[inside]))

    def arrays(self, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return np.empty(0), np.empty((0, 3)), np.empty((0, 3)), np.empty((0, 4))
        t, acc, gyr, q = (np.concatenate(c) for c in zip(*self.parts))
        return t, acc, gyr - bias, q


class _StillWindowSearch:
    """``fusion.calibration.find_standing_neutral`` over a stream: quiet runs of the candidate
    samples, windows of ``window_s`` every 0.5 s along each run, the best graded window kept
    (good before imperfect, then by score); only the samples of the open windows are held."""

    def __init__(self, params: CalibrationParams) -> None:
        self.p = params
        self.best: tuple[tuple[bool, float], Calibration] | None = None
        self._run = np.empty((0, 11))  # rows t, acc, gyr, quaternion of the current quiet run
        self._run_start: float | None = None
        self._run_end = 0.0
        self._next_window = 0

    def update(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, q: np.ndarray, candidate: np.ndarray) -> None:
        max_rate = np.radians(self.p.max_gyro_deg_s + self.p.max_gyro_bias_deg_s)
        quiet = (candidate & (np.linalg.norm(gyr, axis=1) < max_rate)
                 & (np.abs(np.linalg.norm(acc, axis=1) / STANDARD_GRAVITY - 1.0) < self.p.max_acc_scale_error_g))
        edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
        if len(edges) == 0 or edges[0] > 0:
            self._end_run()  # the run open at the end of the last batch stops before this one
        if len(edges) == 0:
            return
        rows = np.column_stack([t, acc, gyr, q])
        for start, stop in zip(edges[::2], edges[1::2]):
            if self._run_start is None:
                self._run_start = float(t[start])
            self._run = np.concatenate([self._run, rows[start:stop]])
            self._run_end = float(t[stop - 1])
            self._grade_passed_windows()
            if stop < len(t):
                self._end_run()

    def finish(self) -> Calibration | None:
        self._end_run()
        return None if self.best is None else self.best[1]

    def _window_start_s(self, k: int) -> float:
        assert self._run_start is not None
        # As np.arange(run_start, stop, step), which steps by (start + step) - start.
        return self._run_start + k * ((self._run_start + _RETRY_STEP_S) - self._run_start)

    def _grade_passed_windows(self) -> None:
        """Grade the windows the run has gone past (a sample later than their end), then drop
        the samples no open window needs."""
        while self._window_start_s(self._next_window) + self.p.window_s < self._run_end:
            self._grade(self._window_start_s(self._next_window))
            self._next_window += 1
        self._run = self._run[int(np.searchsorted(self._run[:, 0], self._window_start_s(self._next_window))):]

    def _end_run(self) -> None:
        if self._run_start is None:
            return
        start, end = self._run_start, self._run_end
        if end - start >= self.p.shortest_window_s:
            count = len(np.arange(start, max(end - self.p.window_s, start) + 1e-9, _RETRY_STEP_S))
            for k in range(self._next_window, count):
                self._grade(self._window_start_s(k))
        self._run, self._run_start, self._next_window = np.empty((0, 11)), None, 0

    def _grade(self, window_start_s: float) -> None:
        run = self._run
        a = int(np.searchsorted(run[:, 0], window_start_s))
        b = int(np.searchsorted(run[:, 0], window_start_s + self.p.window_s, side="right"))
        if b <= a:
            return
        t, acc, gyr, q = run[a:b, 0], run[a:b, 1:4], run[a:b, 4:7], run[a:b, 7:11]
        try:
            calibration = calibration_from_window(t, acc, gyr, q, float(t[0]), float(t[-1]), "stand", params=self.p)
        except CalibrationRejected:
            return
        key = (calibration.grade.good, calibration.grade.score)
        if self.best is None or key > self.best[0]:
            self.best = (key, calibration)
