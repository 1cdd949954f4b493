"""A :class:`~fusion.session.SessionAnalysis` back from its ``analyze --json`` object (a stored
session, or a saved JSON file), so every renderer works on stored sessions too. Values come back
as the JSON rounded them; the tilt series comes from ``series`` (or the object's ``tilt``)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

from fusion.activity import ActivitySpan, Transition
from fusion.calibration import StillnessGrade
from fusion.detection.events import SquatRep, TiltAlert, TiltEpisode
from fusion.detection.squat import SetSummary
from fusion.session import (CalibrationSummary, SessionAnalysis, SessionQuality, SessionSource, TiltSeries,
                            ZoneTime)
from fusion.settings import Settings


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def _pair(x: Any) -> tuple[float, float] | None:
    return None if x is None else (float(x[0]), float(x[1]))


def settings_from_json(data: Mapping[str, Any]) -> Settings:
    """``Settings.to_json()`` read back, nested sections included."""
    def build(current: Any, values: Mapping[str, Any]) -> Any:
        updates = {}
        for key, value in values.items():
            default = getattr(current, key)
            updates[key] = (build(default, value) if dataclasses.is_dataclass(default) else
                            tuple(value) if isinstance(default, tuple) else value)
        return dataclasses.replace(current, **updates)

    return build(Settings(), data)


def analysis_from_json(obj: Mapping[str, Any], series: tuple[float, np.ndarray] | None = None) -> SessionAnalysis:
    """Raises ``KeyError``/``TypeError``/``ValueError`` when ``obj`` is not an analysis object."""
    src, cal = obj["source"], obj["calibration"]
    grade = cal.get("stillness")
    if series is None and "tilt" in obj:
        series = (10.0, np.array([_f(v) for v in obj["tilt"]["deg"]]))
    return SessionAnalysis(
        source=SessionSource(src["device"], src["profile"], src["sample_rate_hz"], src.get("file"),
                             obj.get("started_utc")),
        duration_s=float(obj["duration_s"]),
        samples=int(obj["samples"]),
        calibration=CalibrationSummary(
            source=cal["source"], axis=cal["axis"], message=cal.get("message"),
            stand_window_s=_pair(cal.get("stand_window_s")),
            stillness=None if grade is None else StillnessGrade(
                _f(grade["duration_s"]), _f(grade["rate_deg_s"]), _f(grade["jolt_g"]), _f(grade["motion_deg"]),
                tuple(cal.get("warnings", ()))),
            sit_window_s=_pair(cal.get("sit_window_s")), axis_window_s=_pair(cal.get("axis_window_s")),
            axis_found_at_s=cal.get("axis_found_at_s"), early_descent_lean=cal.get("early_descent_lean")),
        activities=tuple(ActivitySpan(a["start_s"], a["end_s"], a["activity"]) for a in obj["activities"]),
        transitions=tuple(Transition(t["kind"], t["start_s"], t["end_s"]) for t in obj["transitions"]),
        episodes=tuple(TiltEpisode(e["start_s"], e["end_s"], e["direction"], e["activity"], _f(e["peak_deg"]),
                                   _f(e["threshold_deg"])) for e in obj["episodes"]),
        alerts=tuple(TiltAlert(a["t_s"], a["direction"], _f(a["angle_deg"]), _f(a["duration_s"]), a["activity"],
                               _f(a["threshold_deg"]), _f(a["hold_s"]), a["episode_start_s"]) for a in obj["alerts"]),
        reps=tuple(SquatRep(r["set"], r["index"], r["start_s"], r["bottom_s"], r["end_s"], _f(r["wink_deg"]),
                            r["wink_level"], r["depth_m"], r["peak_anterior_deg"], r["lockout_deg"], r["descent_s"],
                            r["bottom_pause_s"], r["ascent_s"], r.get("wink_onset_depth_m")) for r in obj["reps"]),
        sets=tuple(SetSummary(**s) for s in obj["sets"]),
        time_in_zone=tuple(ZoneTime(name, _f(z["neutral"]), _f(z["anterior"]), _f(z["posterior"]))
                           for name, z in obj["time_in_zone_s"].items()),
        quality=SessionQuality(**obj["quality"]),
        settings=settings_from_json(obj["settings"]),
        tilt=TiltSeries(*(series or (10.0, np.empty(0)))),
    )
