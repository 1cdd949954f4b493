"""Offline analysis of a whole recording: the ``tiltwatch analyze`` JSON contract.

It runs the same :class:`~fusion.pipeline.Pipeline` as the live dashboard, in chunks, with one
difference only: the calibration is known before the first sample (from the given windows, or
the best still standing stretch anywhere in the recording; without one, a provisional reference
that serves the measures within a rep), so the tilt is reported from the start of the recording.
The schema is documented in ``docs/analysis-json.md``; later versions extend it, never break it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Callable

import numpy as np

from firmware_interface.recording import Recording
from firmware_interface.samples import SampleBatch, SourceInfo
from firmware_interface.errors import CalibrationRejected
from fusion._quaternion import angle_between, earth_up_in_sensor, normalize
from fusion.activity import ActivityClassifier, activity_spans
from fusion.axis import AxisFinder, early_descent_lean, find_left_axis
from fusion.calibration import Calibration, calibration_from_window, find_standing_neutral
from fusion.vertical import vertical_acceleration
from fusion.corrections import DISCLAIMER, correction_for
from fusion.detection.squat import summarize_sets
from fusion.detection.sustained_tilt import time_in_zone
from fusion.pipeline import Pipeline, PipelineOutput
from fusion.settings import Settings

SCHEMA = "tiltwatch-analysis 1"
SERIES_RATE_HZ = 10.0
CHUNK_S = 10.0
"""Analysis feeds the pipeline in chunks of this much device time (results do not depend on it)."""


def analyze_recording(recording: Recording, settings: Settings | None = None,
                      calibration_windows: dict[str, tuple[float, float]] | None = None,
                      include_series: bool = False,
                      progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    result = analyze_batch(recording.batch, recording.info, settings, calibration_windows, include_series, progress)
    result["source"]["file"] = str(recording.path)
    return result


def analyze_batch(batch: SampleBatch, info: SourceInfo, settings: Settings | None = None,
                  calibration_windows: dict[str, tuple[float, float]] | None = None,
                  include_series: bool = False,
                  progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """The analysis JSON (a dict) for one stream of samples. Times in the result are seconds
    from the first sample; angles are degrees. ``progress`` is called with the fraction done."""
    settings = settings or Settings()
    pipeline = Pipeline.for_source(info, settings)
    t0 = float(batch.t[0]) if len(batch) else 0.0
    quaternion = pipeline.orientation.update(batch)
    if progress is not None:
        progress(0.5)  # the orientation filter is about half of the work
    reference, calibration_note = _calibrate(batch, quaternion, t0, calibration_windows or {},
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
    return _report(batch, info, t0, outputs, final, pipeline.calibration, calibration_note, settings, include_series)


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
               settings: Settings, sample_rate_hz: float) -> tuple[Calibration, dict[str, Any]]:
    """The reference for the whole recording (a standing neutral, or a provisional one when none
    is found) and a note saying where it came from and how good it is."""
    t, acc, gyr = batch.t, batch.acc, batch.gyr - gyro_bias
    acc_z = vertical_acceleration(acc, quaternion)
    params = settings.calibration
    note: dict[str, Any] = {}
    if "stand" in windows:
        a, b = windows["stand"]
        calibration = calibration_from_window(t, acc, gyr, quaternion, t0 + a, t0 + b, "stand", params=params)
        note["source"] = "windows"
    else:
        calibration = find_standing_neutral(t, acc, gyr, quaternion,
                                            _standing_candidates(batch, quaternion, acc_z, gyr, settings, sample_rate_hz),
                                            params)
        if calibration is None:
            note["source"] = "none"
            note["message"] = ("no still standing period found: tilt against neutral and posture episodes are "
                               "unavailable (give one with --calibration stand=A:B); reps, depth, tempo and "
                               "butt wink are still measured")
            calibration = Calibration.provisional_from(earth_up_in_sensor(quaternion[:1])[0] if len(t) else [0, 0, 1.0])
        else:
            note["source"] = "best still standing period"
    if not calibration.provisional:
        note["stand_window_s"] = [round(calibration.still_window[0] - t0, 3), round(calibration.still_window[1] - t0, 3)]
        grade = calibration.grade
        note["stillness"] = {"duration_s": _r(grade.duration_s, 2), "rate_deg_s": _r(grade.rate_deg_s, 2),
                             "jolt_g": _r(grade.jolt_g, 3), "motion_deg": _r(grade.motion_deg, 2),
                             "good": grade.good}
        note["warnings"] = list(grade.warnings)
    if "hinge" in windows:
        a, b = windows["hinge"]
        inside = (t >= t0 + a) & (t <= t0 + b)
        axis = find_left_axis(t[inside], gyr[inside], quaternion[inside], calibration.up_sensor, params)
        calibration = calibration.with_left_axis(axis)
        note["axis_window_s"] = [a, b]
    else:
        # As live: the first movements that reveal the axis, but applied from the start.
        finder = AxisFinder(calibration.up_sensor, params)
        for start, stop in _chunks(t, CHUNK_S):
            axis = finder.update(t[start:stop], gyr[start:stop], quaternion[start:stop])
            if axis is not None:
                calibration = calibration.with_left_axis(axis)
                note["axis_found_at_s"] = round(float(t[stop - 1] - t0), 3)
                break
        if calibration.axis_source == "functional":
            # The whole recording is at hand: its descents check which way is forward. A set of
            # squats with no standing rest between them, or a neutral taken at a rep's top (still
            # pitched forward), can leave the found axis the wrong way round.
            lean = early_descent_lean(t, acc_z, gyr, calibration.left_axis_sensor)
            note["early_descent_lean"] = round(lean, 3)
            if lean < -EARLY_DESCENT_FLIP:
                calibration = calibration.with_left_axis(-calibration.left_axis_sensor)
    note["axis"] = calibration.axis_source
    if "sit" in windows:
        if calibration.provisional:
            raise CalibrationRejected("a sitting window needs a standing neutral: give stand=A:B as well")
        a, b = windows["sit"]
        calibration = calibration_from_window(t, acc, gyr, quaternion, t0 + a, t0 + b, "sit",
                                              base=calibration, params=params)
        note["sit_window_s"] = [a, b]
    return calibration, note


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def _report(batch: SampleBatch, info: SourceInfo, t0: float, outputs: list[PipelineOutput],
            final: PipelineOutput, calibration: Calibration | None, calibration_note: dict[str, Any],
            settings: Settings, include_series: bool) -> dict[str, Any]:
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
    duration_s = float(t[-1] - t[0]) if len(t) else 0.0

    activities = [{"start_s": _r(span.start_s - t0), "end_s": _r(span.end_s - t0), "activity": span.activity}
                  for span in activity_spans(t, activity)]

    episodes: dict[tuple[float, str], Any] = {}
    alerts = []
    reps = []
    transitions = []
    for out in [*outputs, final]:
        for e in out.episodes:
            episodes[(e.start_s, e.direction)] = e  # later states replace earlier ones
        alerts.extend(out.alerts)
        reps.extend(out.reps)
        transitions.extend(out.transitions)

    episode_rows = [{"start_s": _r(e.start_s - t0), "end_s": _r((e.end_s if e.end_s is not None else t[-1]) - t0),
                     "direction": e.direction, "activity": e.activity, "peak_deg": _r(e.peak_deg, 1),
                     "threshold_deg": _r(e.threshold_deg, 1)}
                    for e in sorted(episodes.values(), key=lambda e: e.start_s)]
    rep_rows = [{"set": r.set, "index": r.index, "start_s": _r(r.start_s - t0), "bottom_s": _r(r.bottom_s - t0),
                 "end_s": _r(r.end_s - t0), "butt_wink": r.butt_wink, "wink_level": r.wink_level,
                 "wink_deg": _r(r.wink_deg, 1), "depth_m": _r(r.depth_m, 2),
                 "peak_anterior_deg": _r(r.peak_anterior_deg, 1), "lockout_deg": _r(r.lockout_deg, 1),
                 "descent_s": _r(r.descent_s, 2), "bottom_pause_s": _r(r.bottom_pause_s, 2),
                 "ascent_s": _r(r.ascent_s, 2)} for r in reps]
    set_rows = []
    for s in summarize_sets(reps):
        row = asdict(s)
        row["start_s"], row["end_s"] = _r(s.start_s - t0), _r(s.end_s - t0)
        set_rows.append({k: (_r(v) if isinstance(v, float) else v) for k, v in row.items()})
    alert_rows = [{"t_s": _r(a.t_s - t0), "direction": a.direction, "angle_deg": _r(a.angle_deg, 1),
                   "duration_s": _r(a.duration_s, 1), "activity": a.activity,
                   "threshold_deg": _r(a.threshold_deg, 1), "hold_s": _r(a.hold_s, 1),
                   "episode_start_s": _r(a.episode_start_s - t0), "why": a.why} for a in alerts]

    patterns = []
    for direction in ("anterior", "posterior"):
        if any(e["direction"] == direction for e in episode_rows):
            patterns.append(direction)
    if any(r.butt_wink for r in reps):
        patterns.append("butt_wink")

    result: dict[str, Any] = {
        "schema": SCHEMA,
        "source": {"device": info.device, "profile": info.profile, "sample_rate_hz": info.sample_rate_hz},
        "duration_s": _r(duration_s),
        "samples": int(len(t)),
        "calibration": calibration_note,
        "activities": activities,
        "transitions": [{"kind": tr.kind, "start_s": _r(tr.start_s - t0), "end_s": _r(tr.end_s - t0)}
                        for tr in transitions],
        "episodes": episode_rows,
        "alerts": alert_rows,
        "reps": rep_rows,
        "sets": set_rows,
        "time_in_zone_s": {activity_name: {zone: _r(seconds, 1) for zone, seconds in zones.items()}
                           for activity_name, zones in time_in_zone(
                               t, tilt, activity, settings.sustained_tilt,
                               Pipeline.sitting_reference_deg(calibration)).items()},
        "unavailable": ({} if calibration is not None else
                        {key: calibration_note.get("message", "no standing neutral")
                         for key in ("tilt", "episodes", "alerts", "time_in_zone")}),
        "warnings": list(calibration_note.get("warnings", [])),
        "quality": {"calibrated": calibration is not None,
                    "axis_known": calibration is not None and calibration.axis_source == "functional",
                    "sensor_slipped": bool(final.quality.sensor_slipped),
                    "gaps": sum(1 for m in batch.markers if m.kind == "gap")},
        "corrections": [_correction_json(p) for p in patterns],
        "disclaimer": DISCLAIMER,
        "settings": settings.to_json(),
    }
    if include_series:
        result["tilt"] = _series(t, tilt, t0)
    return result


def _correction_json(pattern: str) -> dict[str, Any]:
    c = correction_for(pattern)  # type: ignore[arg-type]
    return {"pattern": c.pattern, "title": c.title, "summary": c.summary,
            "sections": [{"heading": s.heading, "items": [{"text": i.text, "reason": i.reason} for i in s.items]}
                         for s in c.sections]}


def _series(t: np.ndarray, tilt: np.ndarray, t0: float) -> dict[str, list]:
    """The tilt sampled on a regular 10 Hz grid (the nearest earlier sample; null where unknown)."""
    if len(t) == 0:
        return {"t_s": [], "deg": []}
    grid = np.arange(t0, t[-1] + 1e-9, 1.0 / SERIES_RATE_HZ)
    index = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 1)
    values = tilt[index]
    return {"t_s": [round(float(x - t0), 2) for x in grid],
            "deg": [None if not np.isfinite(v) else round(float(v), 2) for v in values]}


def format_summary(result: dict[str, Any]) -> str:
    """The readable summary ``tiltwatch analyze`` prints without --json."""
    lines = [f"{result['source']['device']}: {result['samples']} samples, {result['duration_s']:.1f} s"]
    cal = result["calibration"]
    if cal.get("source") == "none":
        lines.append(f"calibration: {cal['message']}")
    elif cal.get("warnings"):
        lines.append("calibration: the standing window was imperfect: " + "; ".join(cal["warnings"]))
    else:
        lines.append(f"calibration: standing neutral from the {cal['source']} "
                     f"{cal['stand_window_s'][0]:.1f}-{cal['stand_window_s'][1]:.1f} s; "
                     f"left-right axis {'found from movement' if cal['axis'] == 'functional' else 'assumed (default mounting)'}")
    totals: dict[str, float] = {}
    for a in result["activities"]:
        totals[a["activity"]] = totals.get(a["activity"], 0.0) + a["end_s"] - a["start_s"]
    lines.append("activities: " + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(totals.items(), key=lambda kv: -kv[1])))
    lines.append(f"sustained tilt episodes: {len(result['episodes'])}")
    for e in result["episodes"]:
        lines.append(f"  {e['start_s']:8.1f}-{e['end_s']:8.1f} s  {e['direction']:9s} while {e['activity']}, "
                     f"peak {e['peak_deg']:+.0f}°")
    if result["reps"]:
        lines.append(f"squat reps: {len(result['reps'])} in {len(result['sets'])} set(s)")
        for r in result["reps"]:
            flag = {"flag": "BUTT WINK", "mild": "mild wink", "none": "", "not_eligible": "(too shallow to judge)"}[r["wink_level"]]
            lines.append(f"  set {r['set']} rep {r['index']}: bottom at {r['bottom_s']:.1f} s, "
                         f"reversal {r['wink_deg'] if r['wink_deg'] is not None else float('nan'):.0f}°  {flag}")
    if result["corrections"]:
        lines.append("suggested corrections: " + ", ".join(c["title"] for c in result["corrections"])
                     + " (see --json for the full guidance)")
    lines.append(result["disclaimer"])
    return "\n".join(lines)
