"""The readable summary ``tiltwatch analyze`` prints without ``--json``."""

from __future__ import annotations

import math

from fusion.corrections import DISCLAIMER, correction_for
from fusion.session import SessionAnalysis

WINK_WORDS = {"flag": "BUTT WINK", "mild": "mild wink", "none": "no wink", "not_eligible": "too shallow to judge"}


def duration_text(seconds: float) -> str:
    """``2 h 05 min``, ``12 min``, ``40 s``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _num(x: float | None, fmt: str, missing: str = "?") -> str:
    return missing if x is None or not math.isfinite(x) else format(x, fmt)


def format_summary(analysis: SessionAnalysis) -> str:
    a = analysis
    lines = [f"{a.source.device}: {a.samples} samples, {duration_text(a.duration_s)} ({a.duration_s:.1f} s), "
             f"{a.kind} session"]
    cal = a.calibration
    if not cal.calibrated:
        lines.append(f"calibration: {cal.message}")
    elif cal.warnings:
        lines.append("calibration: the standing window was imperfect: " + "; ".join(cal.warnings))
    else:
        assert cal.stand_window_s is not None
        lines.append(f"calibration: standing neutral from the {cal.source} "
                     f"{cal.stand_window_s[0]:.1f}-{cal.stand_window_s[1]:.1f} s; left-right axis "
                     f"{'found from movement' if cal.axis == 'functional' else 'assumed (default mounting)'}")
    lines.append("activities: " + ", ".join(f"{k} {duration_text(v)}" for k, v in a.activity_totals_s().items()))
    lines.extend(_posture_lines(a))
    lines.append(f"sustained tilt episodes: {len(a.episodes)}")
    for e in a.episodes:
        lines.append(f"  {e.start_s:8.1f}-{e.end_s:8.1f} s  {e.direction:9s} while {e.activity}, "
                     f"{duration_text(e.end_s - e.start_s)}, peak {e.peak_deg:+.0f}°")
    lines.extend(_squat_lines(a))
    if a.patterns:
        lines.append("suggested corrections: " + ", ".join(correction_for(p).title for p in a.patterns)  # type: ignore[arg-type]
                     + " (see --json for the full guidance)")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def _posture_lines(a: SessionAnalysis) -> list[str]:
    """Time judged in each posture, in hours and minutes, with the share in each zone."""
    lines = []
    for zone in a.time_in_zone:
        total = zone.total_s
        if total <= 0:
            continue
        lines.append(f"{zone.activity}: {duration_text(total)} judged — neutral {zone.neutral_s / total:.0%}, "
                     f"anterior {zone.anterior_s / total:.0%}, posterior {zone.posterior_s / total:.0%}")
    return lines


def _squat_lines(a: SessionAnalysis) -> list[str]:
    if not a.reps:
        return []
    lines = [f"squat reps: {len(a.reps)} in {len(a.sets)} set(s)"]
    for s in a.sets:
        lines.append(f"  set {s.set}: {s.reps} reps at {s.start_s:.1f}-{s.end_s:.1f} s, mean depth "
                     f"{_num(s.mean_depth_m, '.2f')} m, {s.mean_rep_s:.1f} s per rep, butt wink on "
                     f"{s.butt_wink_reps} of {s.eligible_reps} judged (mild {s.mild_wink_reps}), "
                     f"largest reversal {_num(s.max_wink_deg, '.0f')}°")
        for r in (r for r in a.reps if r.set == s.set):
            lines.append(f"    rep {r.index}: depth {_num(r.depth_m, '.2f')} m, tempo "
                         f"{_num(r.descent_s, '.1f')}/{_num(r.bottom_pause_s, '.1f')}/{_num(r.ascent_s, '.1f')} s "
                         f"(down/pause/up), reversal {_num(r.wink_deg, '.0f')}° {WINK_WORDS[r.wink_level]}"
                         + (f", the tuck began {r.wink_onset_depth_m:.2f} m down" if r.wink_onset_depth_m is not None
                            else ""))
    return lines
