"""Offline analysis of a whole session: the typed :class:`~fusion.session.SessionAnalysis`.

It runs the same :class:`~fusion.pipeline.Pipeline` as the live dashboard, in chunks, with one
difference only: the calibration is known before the first sample (from the given windows, or
the best still standing stretch anywhere in the recording; without one, a provisional reference
that serves the measures within a rep), so the tilt is reported from the start of the recording.
Reading files is the caller's business; rendering is ``tui.reports``'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from firmware_interface.samples import SampleBatch, SourceInfo
from firmware_interface.errors import CalibrationRejected
from fusion._quaternion import angle_between, earth_up_in_sensor, normalize
from fusion.activity import ActivityClassifier, activity_spans
from fusion.axis import AxisFinder, early_descent_lean, find_left_axis
from fusion.calibration import Calibration, calibration_from_window, find_standing_neutral
from fusion.vertical import vertical_acceleration
from fusion.detection.squat import summarize_sets
from fusion.detection.sustained_tilt import time_in_zone
from fusion.pipeline import Pipeline, PipelineOutput
from fusion.session import (CalibrationSummary, SessionAnalysis, SessionQuality, SessionSource, TiltSeries,
                            ZoneTime)
from fusion.settings import Settings

SERIES_RATE_HZ = 10.0
"""Rate of the tilt series kept with the analysis."""
CHUNK_S = 10.0
"""Analysis feeds the pipeline in chunks of this much device time (results do not depend on it)."""
NO_NEUTRAL_MESSAGE = ("no still standing period found: tilt against neutral and posture episodes are "
                      "unavailable (give one with --calibration stand=A:B); reps, depth, tempo and "
                      "butt wink are still measured")


def analyze_batch(batch: SampleBatch, info: SourceInfo, settings: Settings | None = None,
                  calibration_windows: dict[str, tuple[float, float]] | None = None,
                  progress: Callable[[float], None] | None = None,
                  source: SessionSource | None = None) -> SessionAnalysis:
    """The analysis of one stream of samples. ``calibration_windows``: ``stand``/``sit``/``hinge``
    → (start, end) seconds from the first sample. ``progress`` is called with the fraction done;
    ``source`` names the session (default: from ``info``)."""
    settings = settings or Settings()
    pipeline = Pipeline.for_source(info, settings)
    t0 = float(batch.t[0]) if len(batch) else 0.0
    quaternion = pipeline.orientation.update(batch)
    if progress is not None:
        progress(0.5)  # the orientation filter is about half of the work
    reference, calibration = _calibrate(batch, quaternion, t0, calibration_windows or {},
                                        pipeline.orientation.gyro_bias_rad_s, settings, info.sample_rate_hz)
    pipeline.set_calibration(reference)

    outputs: list[PipelineOutput] = []
    chunks = _chunks(batch.t, CHUNK_S)
    for k, (start, stop) in enumerate(chunks):
        chunk = SampleBatch(batch.t[start:stop], batch.acc[start:stop], batch.gyr[start:stop])
        outputs.append(pipeline.update_oriented(chunk, quaternion[start:stop]))
        if progress is not None and k % 30 == 29:
            progress(0.5 + 0.5 * (k + 1) / len(chunks))
    final = pipeline.finish()
    source = source or SessionSource(info.device, info.profile, info.sample_rate_hz)
    return _session(batch, source, t0, outputs, final, pipeline.calibration, calibration, settings)


def _chunks(t: np.ndarray, chunk_s: float) -> list[tuple[int, int]]:
    if len(t) == 0:
        return []
    edges = np.searchsorted(t, np.arange(t[0], t[-1], chunk_s)[1:], side="left")
    bounds = np.concatenate(([0], edges, [len(t)]))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


EARLY_DESCENT_FLIP = 0.3
"""The axis found is turned round when the pelvis turns backwards about it in the first half of
its descents more than this (``early_descent_lean``; on real squat sets +0.1 to +0.95 with the
right sign, gross butt winks included, and -0.74 to -0.97 with the wrong one)."""
WALKING_POSE_MAX_DEG = 20.0
"""A standing neutral found in a session that walks lies within this of the walking pose (the
pelvis upright; the 11.6° sit/stand cut-point of Vähä-Ypyä is measured from it)."""


def _standing_candidates(batch: SampleBatch, quaternion: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray,
                         settings: Settings, sample_rate_hz: float) -> np.ndarray:
    """Samples that may be standing, from the movement cues alone (no neutral yet): the activity
    classifier's postures against the first pose, and, where the wearer walks, near the walking pose."""
    classifier = ActivityClassifier(settings.activity, sample_rate_hz)
    up = earth_up_in_sensor(quaternion)
    away_deg = np.degrees(angle_between(up, up[:1]))
    labels = np.empty(len(batch), dtype="<U9")
    nan = np.full(len(batch), np.nan)
    for start, stop in _chunks(batch.t, CHUNK_S):
        out = classifier.update(batch.t[start:stop], acc_z[start:stop], gyr[start:stop], nan[start:stop],
                                nan[start:stop], away_deg[start:stop], up[start:stop], batch.acc[start:stop])
        labels[start:stop] = out.labels
        for span in out.revisions:
            earlier = (batch.t >= span.start_s) & (batch.t <= span.end_s) & (batch.t < batch.t[start])
            labels[earlier] = span.activity
    for span in classifier.finish().revisions:
        labels[(batch.t >= span.start_s) & (batch.t <= span.end_s)] = span.activity
    standing = labels == "standing"
    walking = labels == "walking"
    if walking.sum() >= sample_rate_hz * 5:
        walking_up = normalize(up[walking].mean(axis=0))
        standing &= np.degrees(angle_between(up, walking_up[None, :])) <= WALKING_POSE_MAX_DEG
    return standing


def _calibrate(batch: SampleBatch, quaternion: np.ndarray, t0: float,
               windows: dict[str, tuple[float, float]], gyro_bias: np.ndarray,
               settings: Settings, sample_rate_hz: float) -> tuple[Calibration, CalibrationSummary]:
    """The reference for the whole recording (a standing neutral, or a provisional one when none
    is found) and a summary saying where it came from and how good it is."""
    t, acc, gyr = batch.t, batch.acc, batch.gyr - gyro_bias
    acc_z = vertical_acceleration(acc, quaternion)
    params = settings.calibration
    message = None
    if "stand" in windows:
        a, b = windows["stand"]
        calibration = calibration_from_window(t, acc, gyr, quaternion, t0 + a, t0 + b, "stand", params=params)
        source = "windows"
    else:
        calibration = find_standing_neutral(t, acc, gyr, quaternion,
                                            _standing_candidates(batch, quaternion, acc_z, gyr, settings, sample_rate_hz),
                                            params)
        if calibration is None:
            source, message = "none", NO_NEUTRAL_MESSAGE
            calibration = Calibration.provisional_from(earth_up_in_sensor(quaternion[:1])[0] if len(t) else [0, 0, 1.0])
        else:
            source = "best still standing period"
    stand_window = stillness = None
    if not calibration.provisional:
        stand_window = (calibration.still_window[0] - t0, calibration.still_window[1] - t0)
        stillness = calibration.grade
    axis_window = axis_found_at = lean = None
    if "hinge" in windows:
        axis_window = windows["hinge"]
        inside = (t >= t0 + axis_window[0]) & (t <= t0 + axis_window[1])
        axis = find_left_axis(t[inside], gyr[inside], quaternion[inside], calibration.up_sensor, params)
        calibration = calibration.with_left_axis(axis)
    else:
        # As live: the first movements that reveal the axis, but applied from the start.
        finder = AxisFinder(calibration.up_sensor, params)
        for start, stop in _chunks(t, CHUNK_S):
            axis = finder.update(t[start:stop], gyr[start:stop], quaternion[start:stop])
            if axis is not None:
                calibration = calibration.with_left_axis(axis)
                axis_found_at = float(t[stop - 1] - t0)
                break
        if calibration.axis_source == "functional":
            # The whole recording is at hand: its descents check which way is forward. A set of
            # squats with no standing rest between them, or a neutral taken at a rep's top (still
            # pitched forward), can leave the found axis the wrong way round.
            lean = early_descent_lean(t, acc_z, gyr, calibration.left_axis_sensor)
            if lean < -EARLY_DESCENT_FLIP:
                calibration = calibration.with_left_axis(-calibration.left_axis_sensor)
    sit_window = None
    if "sit" in windows:
        if calibration.provisional:
            raise CalibrationRejected("a sitting window needs a standing neutral: give stand=A:B as well")
        sit_window = windows["sit"]
        calibration = calibration_from_window(t, acc, gyr, quaternion, t0 + sit_window[0], t0 + sit_window[1],
                                              "sit", base=calibration, params=params)
    return calibration, CalibrationSummary(
        source=source, axis=calibration.axis_source, message=message, stand_window_s=stand_window,
        stillness=stillness, sit_window_s=sit_window, axis_window_s=axis_window,
        axis_found_at_s=axis_found_at, early_descent_lean=lean)


def _session(batch: SampleBatch, source: SessionSource, t0: float, outputs: list[PipelineOutput],
             final: PipelineOutput, calibration: Calibration | None, calibration_summary: CalibrationSummary,
             settings: Settings) -> SessionAnalysis:
    t = batch.t
    # Only calibrated tilt is reported (the pipeline shows a provisional one before that).
    tilt = (np.concatenate([o.tilt_deg if o.quality.calibrated else np.full(len(o.t), np.nan) for o in outputs])
            if outputs else np.empty(0))
    activity = np.concatenate([o.activity for o in outputs]) if outputs else np.empty(0, dtype="<U9")
    for out in outputs:
        before = t < out.t[0]
        for span in out.activity_revisions:
            activity[(t >= span.start_s) & (t <= span.end_s) & before] = span.activity
    for span in final.activity_revisions:
        activity[(t >= span.start_s) & (t <= span.end_s)] = span.activity

    episodes = {}
    alerts, reps, transitions = [], [], []
    for out in [*outputs, final]:
        for e in out.episodes:
            episodes[(e.start_s, e.direction)] = e  # later states replace earlier ones
        alerts.extend(out.alerts)
        reps.extend(out.reps)
        transitions.extend(out.transitions)
    end_s = float(t[-1]) if len(t) else t0
    zones = time_in_zone(t, tilt, activity, settings.sustained_tilt, Pipeline.sitting_reference_deg(calibration))
    return SessionAnalysis(
        source=source,
        duration_s=end_s - t0,
        samples=int(len(t)),
        calibration=calibration_summary,
        activities=tuple(replace(s, start_s=s.start_s - t0, end_s=s.end_s - t0) for s in activity_spans(t, activity)),
        transitions=tuple(replace(tr, start_s=tr.start_s - t0, end_s=tr.end_s - t0) for tr in transitions),
        episodes=tuple(replace(e, start_s=e.start_s - t0, end_s=(e.end_s if e.end_s is not None else end_s) - t0)
                       for e in sorted(episodes.values(), key=lambda e: e.start_s)),
        alerts=tuple(replace(a, t_s=a.t_s - t0, episode_start_s=a.episode_start_s - t0) for a in alerts),
        reps=tuple(replace(r, start_s=r.start_s - t0, bottom_s=r.bottom_s - t0, end_s=r.end_s - t0) for r in reps),
        # Summarised on device time, then shifted: the same figures as from the shifted reps.
        sets=tuple(replace(s, start_s=s.start_s - t0, end_s=s.end_s - t0) for s in summarize_sets(reps)),
        time_in_zone=tuple(ZoneTime(name, z["neutral"], z["anterior"], z["posterior"]) for name, z in zones.items()),
        quality=SessionQuality(calibrated=calibration is not None,
                               axis_known=calibration is not None and calibration.axis_source == "functional",
                               sensor_slipped=bool(final.quality.sensor_slipped),
                               gaps=sum(1 for m in batch.markers if m.kind == "gap")),
        settings=settings,
        tilt=_series(t, tilt, t0),
    )


def _series(t: np.ndarray, tilt: np.ndarray, t0: float) -> TiltSeries:
    """The tilt on a regular grid from ``t0`` (the latest sample at or before each grid time)."""
    if len(t) == 0:
        return TiltSeries(SERIES_RATE_HZ, np.empty(0))
    grid = np.arange(t0, t[-1] + 1e-9, 1.0 / SERIES_RATE_HZ)
    index = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 1)
    return TiltSeries(SERIES_RATE_HZ, tilt[index])
