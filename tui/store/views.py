"""What ``tiltwatch sessions``, ``history`` and ``compare`` print, from the stored sessions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Mapping, Sequence

from tui.reports.text_report import duration_text
from tui.store.db import StoredSession

BAR_CHARS = " ▏▎▍▌▋▊▉█"
BAR_WIDTH = 20


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def headline_text(s: StoredSession) -> str:
    h = s.headline
    parts = []
    if h.sitting_s > 0:
        parts.append(f"sitting {duration_text(h.sitting_s)}, neutral {_pct(_share(h.sitting_neutral_s, h.sitting_judged_s))}")
        parts.append(f"{h.anterior_alerts + h.posterior_alerts} alerts, {h.standing_breaks} breaks")
    if h.reps:
        parts.append(f"{h.reps} reps in {h.sets} sets, wink {_pct(_share(h.wink_reps, h.eligible_reps))}")
    return "; ".join(parts) or "no sitting or squats"


def sessions_json(sessions: Sequence[StoredSession]) -> list[dict[str, Any]]:
    return [{"id": s.id, "started_utc": s.started_utc, "kind": s.kind, "duration_s": round(s.duration_s, 1),
             "recording": s.recording, "recording_missing": s.recording_missing, **asdict(s.headline)}
            for s in sessions]


def format_sessions(sessions: Sequence[StoredSession]) -> str:
    if not sessions:
        return "no sessions stored yet ('tiltwatch analyze FILE' or a live session adds one)"
    lines = [f"{'id':>4}  {'started':16}  {'kind':6}  {'duration':>10}  figures"]
    for s in sessions:
        missing = "  (recording missing)" if s.recording_missing else ""
        lines.append(f"{s.id:>4}  {s.started:%Y-%m-%d %H:%M}  {s.kind:6}  {duration_text(s.duration_s):>10}  "
                     f"{headline_text(s)}{missing}")
    return "\n".join(lines)


@dataclass(frozen=True)
class HistoryRow:
    """One day or week of sessions."""

    start: date
    sessions: int
    sitting_s: float
    sitting_neutral_share: float | None
    """Of the time judged while sitting."""
    anterior_alerts_per_sitting_h: float | None
    posterior_alerts_per_sitting_h: float | None
    standing_breaks: int
    squat_reps: int
    butt_wink_rate: float | None
    """Flagged reps among those deep enough to judge."""


def history_rows(sessions: Sequence[StoredSession], first: date, last: date, weekly: bool) -> list[HistoryRow]:
    """One row per day (or Monday-started week) from ``first`` to ``last``, empty ones included."""
    def period(d: date) -> date:
        return d - timedelta(days=d.weekday()) if weekly else d

    groups: dict[date, list[StoredSession]] = {}
    for s in sessions:
        groups.setdefault(period(s.started.date()), []).append(s)
    rows = []
    start, step = period(first), timedelta(days=7 if weekly else 1)
    while start <= last:
        group = groups.get(start, [])
        sitting = sum(s.headline.sitting_s for s in group)
        judged = sum(s.headline.sitting_judged_s for s in group)
        hours = sitting / 3600.0
        eligible = sum(s.headline.eligible_reps for s in group)
        rows.append(HistoryRow(
            start=start, sessions=len(group), sitting_s=sitting,
            sitting_neutral_share=_share(sum(s.headline.sitting_neutral_s for s in group), judged),
            anterior_alerts_per_sitting_h=_share(sum(s.headline.anterior_alerts for s in group), hours),
            posterior_alerts_per_sitting_h=_share(sum(s.headline.posterior_alerts for s in group), hours),
            standing_breaks=sum(s.headline.standing_breaks for s in group),
            squat_reps=sum(s.headline.reps for s in group),
            butt_wink_rate=_share(sum(s.headline.wink_reps for s in group), eligible)))
        start += step
    return rows


def history_json(rows: Sequence[HistoryRow]) -> list[dict[str, Any]]:
    return [{**asdict(r), "start": r.start.isoformat()} for r in rows]


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``fraction`` (0..1) of ``width`` cells, in eighths of a cell."""
    eighths = int(round(max(0.0, min(1.0, fraction)) * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (BAR_CHARS[part] if part else "")).ljust(width)


def format_history(rows: Sequence[HistoryRow], weekly: bool) -> str:
    if not any(r.sessions for r in rows):
        return "no sessions in this period ('tiltwatch sessions' lists them all)"
    longest = max(r.sitting_s for r in rows) or 1.0
    header = (f"{'week of' if weekly else 'day':10}  {'sitting':>10}  {'neutral':>7}  {'ant/h':>5}  {'post/h':>6}  "
              f"{'breaks':>6}  {'reps':>5}  {'wink':>5}  sitting time (█) ")
    lines = [header]
    for r in rows:
        def rate(x: float | None) -> str:
            return "-" if x is None else f"{x:.1f}"
        lines.append(f"{r.start.isoformat():10}  {duration_text(r.sitting_s) if r.sessions else '-':>10}  "
                     f"{_pct(r.sitting_neutral_share):>7}  {rate(r.anterior_alerts_per_sitting_h):>5}  "
                     f"{rate(r.posterior_alerts_per_sitting_h):>6}  {r.standing_breaks if r.sessions else '-':>6}  "
                     f"{r.squat_reps if r.sessions else '-':>5}  {_pct(r.butt_wink_rate):>5}  "
                     f"{bar(r.sitting_s / longest)}")
    lines.append("neutral: share of the judged sitting time within the thresholds; ant/h, post/h: sustained-tilt "
                 "alerts per sitting hour; wink: butt-wink reps of the reps deep enough to judge")
    return "\n".join(lines)


@dataclass(frozen=True)
class Figure:
    label: str
    a: float | None
    b: float | None
    unit: str
    better: str
    """``"higher"``, ``"lower"`` or ``""`` (neither)."""
    worth_noting: float
    """A difference at least this large is called out."""


def compare_figures(a: Mapping[str, Any], b: Mapping[str, Any], ha, hb) -> list[Figure]:
    """The figures two sessions are compared by (``a``, ``b``: analysis JSON; ``ha``, ``hb``: headlines)."""
    def per_hour(count: int, seconds: float) -> float | None:
        return _share(count, seconds / 3600.0)

    def max_wink(x: Mapping[str, Any]) -> float | None:
        winks = [s["max_wink_deg"] for s in x.get("sets", ()) if s.get("max_wink_deg") is not None]
        return max(winks) if winks else None

    def mean_rep_s(x: Mapping[str, Any]) -> float | None:
        reps = x.get("reps", ())
        return sum(r["end_s"] - r["start_s"] for r in reps) / len(reps) if reps else None

    return [
        Figure("duration", a["duration_s"] / 60, b["duration_s"] / 60, "min", "", 5.0),
        Figure("sitting", ha.sitting_s / 60, hb.sitting_s / 60, "min", "", 10.0),
        Figure("neutral while sitting", _pct_value(ha.sitting_neutral_s, ha.sitting_judged_s),
               _pct_value(hb.sitting_neutral_s, hb.sitting_judged_s), "%", "higher", 10.0),
        Figure("anterior alerts per sitting hour", per_hour(ha.anterior_alerts, ha.sitting_s),
               per_hour(hb.anterior_alerts, hb.sitting_s), "/h", "lower", 0.5),
        Figure("posterior alerts per sitting hour", per_hour(ha.posterior_alerts, ha.sitting_s),
               per_hour(hb.posterior_alerts, hb.sitting_s), "/h", "lower", 0.5),
        Figure("standing breaks", ha.standing_breaks, hb.standing_breaks, "", "higher", 2.0),
        Figure("squat reps", ha.reps, hb.reps, "", "", 3.0),
        Figure("mean depth", _cm(ha.mean_depth_m), _cm(hb.mean_depth_m), "cm", "", 5.0),
        Figure("time per rep", mean_rep_s(a), mean_rep_s(b), "s", "", 0.5),
        Figure("butt-wink reps", _pct_value(ha.wink_reps, ha.eligible_reps),
               _pct_value(hb.wink_reps, hb.eligible_reps), "%", "lower", 15.0),
        Figure("largest wink", max_wink(a), max_wink(b), "°", "lower", 3.0),
    ]


def _pct_value(part: float, whole: float) -> float | None:
    share = _share(part, whole)
    return None if share is None else 100.0 * share


def _cm(m: float | None) -> float | None:
    return None if m is None else 100.0 * m


def format_compare(name_a: str, name_b: str, figures: Sequence[Figure]) -> str:
    def num(x: float | None, unit: str) -> str:
        if x is None:
            return "-"
        text = f"{x:.1f}" if unit in ("%", "°", "/h", "s") or x % 1 else f"{x:.0f}"
        return f"{text} {unit}" if unit.isalpha() and unit != "s" else text + unit

    width = max(len(f.label) for f in figures)
    lines = [f"{'':{width}}  {name_a:>14}  {name_b:>14}  difference"]
    notes = []
    for f in figures:
        if f.a is None and f.b is None:
            continue
        diff = None if f.a is None or f.b is None else f.b - f.a
        lines.append(f"{f.label:{width}}  {num(f.a, f.unit):>14}  {num(f.b, f.unit):>14}  "
                     f"{'' if diff is None else num(diff, f.unit) if diff < 0 else '+' + num(diff, f.unit)}")
        if diff is not None and abs(diff) >= f.worth_noting and f.better:
            improved = (diff > 0) == (f.better == "higher")
            notes.append(f"{f.label} {'improved' if improved else 'worsened'} by {abs(diff):.1f}{f.unit}")
    lines.append("differences that matter: " + ("; ".join(notes) if notes else "none"))
    return "\n".join(lines)
