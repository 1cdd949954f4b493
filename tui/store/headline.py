"""The figures a session is listed, charted and compared by, taken from its analysis JSON (the
``analyze --json`` object, any 1.x version), so stored sessions of older versions have them too."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class Headline:
    sitting_s: float
    sitting_neutral_s: float
    """Time judged neutral while sitting (0 without a standing neutral)."""
    sitting_judged_s: float
    standing_s: float
    anterior_alerts: int
    """Sustained-tilt alerts while sitting, by direction."""
    posterior_alerts: int
    standing_breaks: int
    """Sit-to-stand transitions."""
    reps: int
    sets: int
    wink_reps: int
    eligible_reps: int
    mean_depth_m: float | None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def headline(analysis: Mapping[str, Any]) -> Headline:
    totals: dict[str, float] = {}
    for span in analysis.get("activities", ()):
        totals[span["activity"]] = totals.get(span["activity"], 0.0) + span["end_s"] - span["start_s"]
    sitting_zone = analysis.get("time_in_zone_s", {}).get("sitting", {})
    reps = analysis.get("reps", ())
    depths = [r["depth_m"] for r in reps if r.get("depth_m") is not None]
    sitting_alerts = [a for a in analysis.get("alerts", ()) if a.get("activity") == "sitting"]
    return Headline(
        sitting_s=totals.get("sitting", 0.0),
        sitting_neutral_s=float(sitting_zone.get("neutral") or 0.0),
        sitting_judged_s=float(sum(v or 0.0 for v in sitting_zone.values())),
        standing_s=totals.get("standing", 0.0),
        anterior_alerts=sum(a["direction"] == "anterior" for a in sitting_alerts),
        posterior_alerts=sum(a["direction"] == "posterior" for a in sitting_alerts),
        standing_breaks=sum(t["kind"] == "sit_to_stand" for t in analysis.get("transitions", ())),
        reps=len(reps),
        sets=len(analysis.get("sets", ())),
        wink_reps=sum(bool(r.get("butt_wink")) for r in reps),
        eligible_reps=sum(r.get("wink_level") != "not_eligible" for r in reps),
        mean_depth_m=sum(depths) / len(depths) if depths else None,
    )


def session_kind(h: Headline) -> str:
    """As ``SessionAnalysis.kind``: ``desk`` without reps, ``squat`` with under 10 min sitting."""
    if not h.reps:
        return "desk"
    return "mixed" if h.sitting_s >= 600.0 else "squat"
