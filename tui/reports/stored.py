"""A stored session back as a ``SessionAnalysis``: its ``analyze --json`` object and tilt series
from the session store, so a report or export of a session needs no new analysis (an 8-hour
session renders in seconds instead of re-reading its recording for minutes).

The JSON keeps what the renderers show, rounded (times to the ms, angles to 0.1°), and the series
is stored in float32: a stored session renders as its analysis did, to that rounding.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from fusion.activity import ActivitySpan, Transition
from fusion.calibration import StillnessGrade
from fusion.detection.events import SquatRep, TiltAlert, TiltEpisode
from fusion.detection.squat import SetSummary
from fusion.session import (CalibrationSummary, SessionAnalysis, SessionQuality, SessionSource, TiltSeries,
                            ZoneTime)
from fusion.settings import Settings


def stored_analysis(data_dir: str | None, session_id: int) -> SessionAnalysis:
    """Session ``session_id`` of the store in ``data_dir``; ``StoreError`` (one line) if absent or damaged."""
    from tui.store import SessionStore

    with SessionStore(data_dir) as store:
        store.session(session_id)
        obj = store.analysis(session_id)
        rate_hz, deg = store.series(session_id)
    return analysis_from_json(obj, TiltSeries(rate_hz, deg))


def _number(value: float | None) -> float:
    """JSON has no NaN: an unknown number is stored as null."""
    return float("nan") if value is None else float(value)


def _tuple(value: Any) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def _settings(sections: Mapping[str, Mapping[str, Any]]) -> Settings:
    return Settings().with_overrides({f"{section}.{key}": value for section, values in sections.items()
                                      for key, value in values.items()}, source="stored analysis")


def _calibration(c: Mapping[str, Any]) -> CalibrationSummary:
    g = c.get("stillness")
    stillness = None if g is None else StillnessGrade(g["duration_s"], g["rate_deg_s"], g["jolt_g"], g["motion_deg"],
                                                      tuple(c.get("warnings", ())))
    return CalibrationSummary(source=c["source"], axis=c["axis"], message=c.get("message"),
                              stand_window_s=_tuple(c.get("stand_window_s")), stillness=stillness,
                              sit_window_s=_tuple(c.get("sit_window_s")), axis_window_s=_tuple(c.get("axis_window_s")),
                              axis_found_at_s=c.get("axis_found_at_s"), early_descent_lean=c.get("early_descent_lean"))


def analysis_from_json(obj: Mapping[str, Any], tilt: TiltSeries) -> SessionAnalysis:
    """The inverse of ``json_report.analysis_json`` (to its rounding), with the tilt series."""
    src = obj["source"]
    rep_fields = ("set", "index", "start_s", "bottom_s", "end_s", "wink_deg", "wink_level", "depth_m",
                  "peak_anterior_deg", "lockout_deg", "descent_s", "bottom_pause_s", "ascent_s")
    return SessionAnalysis(
        source=SessionSource(src["device"], src["profile"], src["sample_rate_hz"], src.get("file"),
                             obj.get("started_utc")),
        duration_s=obj["duration_s"],
        samples=obj["samples"],
        calibration=_calibration(obj["calibration"]),
        activities=tuple(ActivitySpan(s["start_s"], s["end_s"], s["activity"]) for s in obj["activities"]),
        transitions=tuple(Transition(t["kind"], t["start_s"], t["end_s"]) for t in obj["transitions"]),
        episodes=tuple(TiltEpisode(e["start_s"], e["end_s"], e["direction"], e["activity"], e["peak_deg"],
                                   e["threshold_deg"]) for e in obj["episodes"]),
        alerts=tuple(TiltAlert(a["t_s"], a["direction"], a["angle_deg"], a["duration_s"], a["activity"],
                               a["threshold_deg"], a["hold_s"], a["episode_start_s"]) for a in obj["alerts"]),
        reps=tuple(SquatRep(**{k: r[k] for k in rep_fields} | {"wink_deg": _number(r["wink_deg"])})
                   for r in obj["reps"]),
        sets=tuple(SetSummary(**s) for s in obj["sets"]),
        time_in_zone=tuple(ZoneTime(name, z["neutral"], z["anterior"], z["posterior"])
                           for name, z in obj["time_in_zone_s"].items()),
        quality=SessionQuality(**obj["quality"]),
        settings=_settings(obj["settings"]),
        tilt=TiltSeries(tilt.rate_hz, np.asarray(tilt.deg, dtype=float)),
    )
