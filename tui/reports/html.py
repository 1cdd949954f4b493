"""``tiltwatch report``: one self-contained HTML file for a coach or physiotherapist.

Everything is inline: the CSS, and the plots as SVG drawn by matplotlib (``figures.py``). The file
names no URL at all, so it opens offline and fetches nothing. Text from the analysis is escaped.
"""

from __future__ import annotations

import html
import math
from typing import Iterable, Sequence

from fusion.corrections import DISCLAIMER, correction_for
from fusion.session import SessionAnalysis
from tui.reports import figures
from tui.reports.text_report import WINK_WORDS, duration_text

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:62rem;margin:1.5rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555;margin-top:0}.figures{display:flex;flex-wrap:wrap;gap:.6rem 1.6rem;margin:1rem 0}
.figures div{min-width:8rem}.figures b{display:block;font-size:1.3rem}
svg{max-width:100%;height:auto}table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right}
.flag{color:#c0392b;font-weight:600}.note{color:#555;font-size:.92rem}
.disclaimer{margin-top:2rem;padding:.6rem .8rem;background:#f6f6f6;border-left:4px solid #999}
"""


def clock(seconds: float) -> str:
    """``h:mm:ss`` from the session's start."""
    if not math.isfinite(seconds):
        return "?"
    whole = int(round(max(0.0, seconds)))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _number(value: float | None, fmt: str) -> str:
    return "?" if value is None or not math.isfinite(value) else format(value, fmt)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] = ()) -> str:
    """A table of already-escaped cells; ``numeric`` columns align right."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i < len(numeric) and numeric[i] else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(analysis: SessionAnalysis) -> str:
    """The report as one HTML document."""
    a = analysis
    e = html.escape
    title = f"Pelvic tilt report: {a.source.file or a.source.device}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body>",
        "<h1>Pelvic tilt report</h1>",
        f'<p class="meta">{e(_meta_line(a))}</p>',
        _headline(a),
        "<h2>Tilt over time</h2>",
        figures.svg(figures.timeline_figure(a)),
        '<p class="note">Tilt of the pelvis against the standing neutral, anterior (top forward) '
        "positive. Shading behind the line: green is the neutral band of the activity at that time, "
        "orange beyond its anterior threshold, blue beyond its posterior threshold (only standing and "
        "sitting are judged). Coloured columns are sustained-tilt episodes; triangles are alerts. "
        "Below: what the wearer was doing.</p>",
        _zones_section(a),
        _alerts_section(a),
        _episodes_section(a),
        _squats_section(a),
        _quality_section(a),
        _corrections_section(a),
        f'<p class="disclaimer">{e(DISCLAIMER)}</p>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta_line(a: SessionAnalysis) -> str:
    when = f"started {a.source.started_utc}, " if a.source.started_utc else ""
    return (f"{a.source.device} ({a.source.profile}, {a.source.sample_rate_hz:g} Hz): {when}"
            f"{duration_text(a.duration_s)}, {a.kind} session")


def _headline(a: SessionAnalysis) -> str:
    items = [("duration", duration_text(a.duration_s))]
    totals = a.activity_totals_s()
    for zone in a.time_in_zone:
        if zone.total_s > 0:
            items.append((f"{zone.activity}, neutral", f"{duration_text(zone.total_s)}, "
                                                       f"{zone.neutral_s / zone.total_s:.0%}"))
    if "walking" in totals:
        items.append(("walking", duration_text(totals["walking"])))
    items.append(("tilt alerts", str(len(a.alerts))))
    if a.reps:
        flagged = sum(r.butt_wink for r in a.reps)
        items.append(("squat reps", f"{len(a.reps)} in {len(a.sets)} set{'s' if len(a.sets) != 1 else ''}"))
        items.append(("butt wink", f"{flagged} of {sum(r.wink_level != 'not_eligible' for r in a.reps)} judged"))
    cells = "".join(f"<div>{html.escape(label)}<b>{html.escape(value)}</b></div>" for label, value in items)
    return f'<div class="figures">{cells}</div>'


def _zones_section(a: SessionAnalysis) -> str:
    figure = figures.zones_figure(a)
    if figure is None:
        return "<h2>Time in zone</h2><p>No standing or sitting was judged.</p>"
    rows = [(html.escape(z.activity), duration_text(z.total_s),
             *(f"{duration_text(v)} ({v / z.total_s:.0%})" for v in (z.neutral_s, z.anterior_s, z.posterior_s)))
            for z in a.time_in_zone if z.total_s > 0]
    return ("<h2>Time in zone</h2>" + figures.svg(figure)
            + _table(("activity", "judged", "neutral", "anterior", "posterior"), rows, (False, True, True, True, True)))


def _alerts_section(a: SessionAnalysis) -> str:
    if not a.alerts:
        return "<h2>Alerts</h2><p>No sustained-tilt alert.</p>"
    rows = [(clock(al.t_s), html.escape(al.direction), f"{al.angle_deg:+.0f}°", duration_text(al.duration_s),
             html.escape(al.activity), html.escape(al.why)) for al in a.alerts]
    return "<h2>Alerts</h2>" + _table(("at", "direction", "tilt", "held", "while", "why"), rows,
                                      (True, False, True, True))


def _episodes_section(a: SessionAnalysis) -> str:
    if not a.episodes:
        return "<h2>Sustained tilt episodes</h2><p>None.</p>"
    rows = [(clock(ep.start_s), clock(ep.end_s), duration_text(ep.end_s - ep.start_s), html.escape(ep.direction),
             html.escape(ep.activity), f"{ep.peak_deg:+.0f}°", f"{ep.threshold_deg:+.0f}°")
            for ep in a.episodes if ep.end_s is not None]
    return "<h2>Sustained tilt episodes</h2>" + _table(
        ("from", "to", "for", "direction", "while", "peak", "threshold"), rows, (True, True, True))


def _squats_section(a: SessionAnalysis) -> str:
    if not a.reps:
        return ""
    set_rows = [(str(s.set), str(s.reps), f"{clock(s.start_s)}–{clock(s.end_s)}", _number(s.mean_depth_m, ".2f") + " m",
                 f"{s.mean_rep_s:.1f} s", f"{s.butt_wink_reps} of {s.eligible_reps} (mild {s.mild_wink_reps})",
                 _number(s.max_wink_deg, ".0f") + "°") for s in a.sets]
    rep_rows = []
    for r in a.reps:
        verdict = html.escape(WINK_WORDS[r.wink_level])
        rep_rows.append((f"{r.set}.{r.index}", clock(r.bottom_s), _number(r.depth_m, ".2f") + " m",
                         f"{_number(r.descent_s, '.1f')} / {_number(r.bottom_pause_s, '.1f')} / "
                         f"{_number(r.ascent_s, '.1f')} s", _number(r.wink_deg, ".0f") + "°",
                         f'<span class="flag">{verdict}</span>' if r.butt_wink else verdict))
    chart = figures.reps_figure(a)
    assert chart is not None
    return ("<h2>Squats</h2>" + _table(("set", "reps", "when", "mean depth", "per rep", "butt wink",
                                        "largest reversal"), set_rows, (True, True, False, True, True, False, True))
            + figures.svg(chart)
            + '<p class="note">Bars: depth of the pelvis drop. Markers: the butt-wink reversal (how far the pelvis '
              f"tucked under at the bottom); dashed line: flagged from {a.settings.squat.wink_flag_deg:g}°, "
              f"dotted: mild from {a.settings.squat.wink_mild_deg:g}°.</p>"
            + _table(("rep", "bottom at", "depth", "tempo down / pause / up", "reversal", "butt wink"), rep_rows,
                     (False, True, True, True, True)))


def _quality_section(a: SessionAnalysis) -> str:
    cal = a.calibration
    if not cal.calibrated:
        lines = [f"Not calibrated: {cal.message}"]
    else:
        window = cal.stand_window_s
        lines = [f"Standing neutral from the {cal.source}"
                 + (f" {clock(window[0])}–{clock(window[1])}" if window else "") + "; left-right axis "
                 + ("found from movement." if cal.axis == "functional" else "assumed from the default mounting.")]
        lines.extend(f"Calibration: {w}" for w in cal.warnings)
    if a.quality.sensor_slipped:
        lines.append("The sensor seems to have slipped during the session: later tilt may be offset.")
    if a.quality.gaps:
        lines.append(f"{a.quality.gaps} gap(s) in the data.")
    return "<h2>Calibration and data</h2>" + "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _corrections_section(a: SessionAnalysis) -> str:
    if not a.patterns:
        return "<h2>What to work on</h2><p>No sustained tilt or butt wink was found in this session.</p>"
    out = ["<h2>What to work on</h2>"]
    for pattern in a.patterns:
        c = correction_for(pattern)  # type: ignore[arg-type]
        out.append(f"<h3>{html.escape(c.title)}</h3><p>{html.escape(c.summary)}</p>")
        for section in c.sections:
            items = "".join(f"<li>{html.escape(i.text)} <span class=\"note\">{html.escape(i.reason)}</span></li>"
                            for i in section.items)
            out.append(f"<h4>{html.escape(section.heading)}</h4><ul>{items}</ul>")
    return "".join(out)
