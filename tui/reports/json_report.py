"""The ``tiltwatch analyze --json`` object (``docs/analysis-json.md``) of a
:class:`~fusion.session.SessionAnalysis`.

The fields of schema ``tiltwatch-analysis 1`` keep their order, rounding and meaning; later minor
versions (``schema_version``) only add fields, after the original ones.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from fusion.corrections import DISCLAIMER, correction_for
from fusion.session import CalibrationSummary, SessionAnalysis

SCHEMA = "tiltwatch-analysis 1"
SCHEMA_VERSION = "1.1"
"""``major.minor``: the major is the number in ``SCHEMA``; a minor version only adds fields."""
UNAVAILABLE_WITHOUT_NEUTRAL = ("tilt", "episodes", "alerts", "time_in_zone")


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def analysis_json(analysis: SessionAnalysis, include_series: bool = False) -> dict[str, Any]:
    """The analysis as the JSON object of the schema (plain dicts, lists and numbers; no NaN)."""
    a = analysis
    source: dict[str, Any] = {"device": a.source.device, "profile": a.source.profile,
                              "sample_rate_hz": a.source.sample_rate_hz}
    if a.source.file is not None:
        source["file"] = a.source.file
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "source": source,
        "duration_s": _r(a.duration_s),
        "samples": a.samples,
        "calibration": _calibration_json(a.calibration),
        "activities": [{"start_s": _r(s.start_s), "end_s": _r(s.end_s), "activity": s.activity}
                       for s in a.activities],
        "transitions": [{"kind": tr.kind, "start_s": _r(tr.start_s), "end_s": _r(tr.end_s)} for tr in a.transitions],
        "episodes": [{"start_s": _r(e.start_s), "end_s": _r(e.end_s), "direction": e.direction,
                      "activity": e.activity, "peak_deg": _r(e.peak_deg, 1), "threshold_deg": _r(e.threshold_deg, 1)}
                     for e in a.episodes],
        "alerts": [{"t_s": _r(al.t_s), "direction": al.direction, "angle_deg": _r(al.angle_deg, 1),
                    "duration_s": _r(al.duration_s, 1), "activity": al.activity,
                    "threshold_deg": _r(al.threshold_deg, 1), "hold_s": _r(al.hold_s, 1),
                    "episode_start_s": _r(al.episode_start_s), "why": al.why} for al in a.alerts],
        "reps": [{"set": r.set, "index": r.index, "start_s": _r(r.start_s), "bottom_s": _r(r.bottom_s),
                  "end_s": _r(r.end_s), "butt_wink": r.butt_wink, "wink_level": r.wink_level,
                  "wink_deg": _r(r.wink_deg, 1), "depth_m": _r(r.depth_m, 2),
                  "peak_anterior_deg": _r(r.peak_anterior_deg, 1), "lockout_deg": _r(r.lockout_deg, 1),
                  "descent_s": _r(r.descent_s, 2), "bottom_pause_s": _r(r.bottom_pause_s, 2),
                  "ascent_s": _r(r.ascent_s, 2),
                  "wink_onset_depth_m": _r(r.wink_onset_depth_m, 2)} for r in a.reps],  # the last added in 1.1
        "sets": [{k: (_r(v) if isinstance(v, float) else v) for k, v in asdict(s).items()} for s in a.sets],
        "time_in_zone_s": {z.activity: {"neutral": _r(z.neutral_s, 1), "anterior": _r(z.anterior_s, 1),
                                        "posterior": _r(z.posterior_s, 1)} for z in a.time_in_zone},
        "unavailable": ({} if a.quality.calibrated else
                        {key: a.calibration.message or "no standing neutral" for key in UNAVAILABLE_WITHOUT_NEUTRAL}),
        "warnings": list(a.warnings),
        "quality": {"calibrated": a.quality.calibrated, "axis_known": a.quality.axis_known,
                    "sensor_slipped": a.quality.sensor_slipped, "gaps": a.quality.gaps},
        "corrections": [_correction_json(p) for p in a.patterns],
        "disclaimer": DISCLAIMER,
        "settings": a.settings.to_json(),
        # Added in 1.1.
        "schema_version": SCHEMA_VERSION,
        "kind": a.kind,
        "started_utc": a.source.started_utc,
        "activity_totals_s": {k: _r(v, 1) for k, v in a.activity_totals_s().items()},
    }
    if include_series:
        result["tilt"] = {"t_s": [round(float(x), 2) for x in a.tilt.t_s],
                          "deg": [_r(v, 2) for v in a.tilt.deg.tolist()]}
    return result


def _calibration_json(c: CalibrationSummary) -> dict[str, Any]:
    note: dict[str, Any] = {"source": c.source}
    if c.message is not None:
        note["message"] = c.message
    if c.stand_window_s is not None:
        note["stand_window_s"] = [round(c.stand_window_s[0], 3), round(c.stand_window_s[1], 3)]
    if c.stillness is not None:
        g = c.stillness
        note["stillness"] = {"duration_s": _r(g.duration_s, 2), "rate_deg_s": _r(g.rate_deg_s, 2),
                             "jolt_g": _r(g.jolt_g, 3), "motion_deg": _r(g.motion_deg, 2), "good": g.good}
        note["warnings"] = list(g.warnings)
    if c.axis_window_s is not None:
        note["axis_window_s"] = list(c.axis_window_s)
    if c.axis_found_at_s is not None:
        note["axis_found_at_s"] = round(c.axis_found_at_s, 3)
    if c.early_descent_lean is not None:
        note["early_descent_lean"] = round(c.early_descent_lean, 3)
    note["axis"] = c.axis
    if c.sit_window_s is not None:
        note["sit_window_s"] = list(c.sit_window_s)
    return note


def _correction_json(pattern: str) -> dict[str, Any]:
    c = correction_for(pattern)  # type: ignore[arg-type]
    return {"pattern": c.pattern, "title": c.title, "summary": c.summary,
            "sections": [{"heading": s.heading, "items": [{"text": i.text, "reason": i.reason} for i in s.items]}
                         for s in c.sections]}
