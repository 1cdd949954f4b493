"""The report's plots, drawn with matplotlib from a ``SessionAnalysis``: SVG text or PNG bytes.

matplotlib is the optional extra ``report`` (``pip install 'tiltwatch[report]'``): only reports
need it, and it is far heavier than the rest of tiltwatch. ``require_matplotlib`` says so in one
line when it is missing. Figures are built on ``matplotlib.figure.Figure`` with the Agg/SVG
canvases, never pyplot: no window, no global state, safe beside the dashboard.

Long sessions are decimated before drawing: the tilt line keeps each of ``TILT_BUCKETS`` time
buckets' lowest and highest value (in their order), so an 8-hour day draws about 4,000 points
and no peak is lost; activity spans shorter than a bucket are merged into their neighbours'
colour band only when they are drawn, never in the analysis.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import numpy as np

from firmware_interface.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from fusion.session import SessionAnalysis

INSTALL_HINT = "reports need matplotlib: pip install 'tiltwatch[report]'"
TILT_BUCKETS = 2000
"""Time buckets of the tilt line (each drawn as its min and max): about one per pixel column."""
ACTIVITY_COLOURS = {"standing": "#4c9a2a", "sitting": "#3b6ea8", "walking": "#e0a100", "squatting": "#b04a9c",
                    "lying": "#7a7a7a", "other": "#c8c8c8"}
ZONE_COLOURS = {"neutral": "#dff0d8", "anterior": "#fbe3c9", "posterior": "#d9e6f5"}
ZONE_LINE_COLOURS = {"neutral": "#4c9a2a", "anterior": "#d9822b", "posterior": "#3b6ea8"}
WINK_COLOURS = {"flag": "#c0392b", "mild": "#e67e22", "none": "#4c9a2a", "not_eligible": "#9e9e9e"}
WINK_LABELS = {"flag": "butt wink", "mild": "mild wink", "none": "no wink", "not_eligible": "too shallow to judge"}
WIDTH_IN = 10.0
DPI = 110


def require_matplotlib() -> None:
    """Raise a one-line ``UsageError`` naming the extra to install when matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def _figure(height_in: float, rows: int = 1, height_ratios: list[float] | None = None) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False,
                           gridspec_kw={"height_ratios": height_ratios} if height_ratios else None)[:, 0]
    return figure, list(axes)


def decimated(t: np.ndarray, values: np.ndarray, buckets: int = TILT_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """Each bucket's lowest and highest value at their own times, in time order (NaN kept as
    breaks); the series itself when it is shorter than two points per bucket."""
    if len(t) <= 2 * buckets:
        return t, values
    edges = np.linspace(0, len(t), buckets + 1).astype(int)
    keep: list[int] = []
    for start, stop in zip(edges[:-1], edges[1:]):
        chunk = values[start:stop]
        finite = np.isfinite(chunk)
        chosen = set()
        if finite.any():
            chosen |= {start + int(np.nanargmin(chunk)), start + int(np.nanargmax(chunk))}
        if not finite.all():
            chosen.add(start + int(np.argmin(finite)))  # a NaN: the line breaks there
        keep.extend(sorted(chosen))
    index = np.array(keep)
    return t[index], values[index]


def _time_axis(analysis: SessionAnalysis) -> tuple[float, str]:
    """Scale and label of the time axis: minutes for sessions under 2 h, hours beyond."""
    return (3600.0, "time (h)") if analysis.duration_s >= 7200 else (60.0, "time (min)")


def _shade_zones(ax: Axes, analysis: SessionAnalysis, scale: float, y_low: float, y_high: float) -> None:
    """Behind the tilt: the neutral band and the zones beyond it, during each judged activity
    (one collection per zone and pair of thresholds: a day's hundreds of spans draw at once)."""
    params = analysis.settings.sustained_tilt
    spans: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for span in analysis.activities:
        thresholds = params.thresholds_deg(span.activity)
        if thresholds is not None:
            spans.setdefault(thresholds, []).append((span.start_s / scale, (span.end_s - span.start_s) / scale))
    for (anterior, posterior), bars in spans.items():
        for zone, low, high in (("neutral", posterior, anterior), ("anterior", anterior, y_high),
                                ("posterior", y_low, posterior)):
            ax.broken_barh(bars, (low, high - low), color=ZONE_COLOURS[zone], lw=0)


def _merged_spans(analysis: SessionAnalysis, min_s: float) -> list[tuple[float, float, str]]:
    """Activity spans for drawing: consecutive spans of one activity joined; spans shorter than
    ``min_s`` (narrower than a bucket) joined to the span before them."""
    spans: list[list] = []
    for span in analysis.activities:
        if spans and (spans[-1][2] == span.activity or span.end_s - span.start_s < min_s):
            spans[-1][1] = span.end_s
        else:
            spans.append([span.start_s, span.end_s, span.activity])
    return [(a, b, name) for a, b, name in spans]


def _draw_tilt(ax: Axes, analysis: SessionAnalysis, scale: float) -> None:
    tilt = analysis.tilt
    t, deg = decimated(tilt.t_s, tilt.deg)
    finite = deg[np.isfinite(deg)]
    y_low = min(-25.0, float(finite.min()) - 3) if len(finite) else -25.0
    y_high = max(25.0, float(finite.max()) + 3) if len(finite) else 25.0
    _shade_zones(ax, analysis, scale, y_low, y_high)
    ax.plot(t / scale, deg, color="#222222", lw=0.7)
    # Episodes as bars along the edge their tilt went beyond: the zones behind stay readable.
    for episode in analysis.episodes:
        edge = y_high if episode.direction == "anterior" else y_low
        ax.hlines(edge, episode.start_s / scale, episode.end_s / scale, color=ZONE_LINE_COLOURS[episode.direction],
                  lw=7, clip_on=False)
    if analysis.alerts:
        ax.scatter([a.t_s / scale for a in analysis.alerts], [a.angle_deg for a in analysis.alerts], marker="v",
                   s=40, color="#c0392b", zorder=3)
    ax.set_ylim(y_low, y_high)
    ax.set_ylabel("pelvic tilt (°)\nanterior +")
    ax.axhline(0, color="#888888", lw=0.5)
    ax.tick_params(labelbottom=False)


def _draw_activities(ax: Axes, analysis: SessionAnalysis, scale: float) -> None:
    """The activity timeline, with the legend of both panels below it."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    min_s = analysis.duration_s / TILT_BUCKETS
    by_activity: dict[str, list[tuple[float, float]]] = {}
    for start, end, name in _merged_spans(analysis, min_s):
        by_activity.setdefault(name, []).append((start / scale, (end - start) / scale))
    for name in sorted(by_activity, key=list(ACTIVITY_COLOURS).index):
        ax.broken_barh(by_activity[name], (0, 1), color=ACTIVITY_COLOURS[name], label=name)
    ax.set_yticks([])
    ax.set_ylim(0, 1)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=ZONE_COLOURS[z], label=f"{z} zone") for z in ZONE_COLOURS]
    handles += [Line2D([], [], color=ZONE_LINE_COLOURS["anterior"], lw=5, label="episode"),
                Line2D([], [], color="#c0392b", marker="v", ls="", label="alert")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.9), ncol=6, fontsize=8, frameon=False)


def timeline_figure(analysis: SessionAnalysis) -> Figure:
    """Tilt over time over the shaded zones, episodes and alerts; the activity timeline below."""
    scale, label = _time_axis(analysis)
    figure, (tilt_ax, activity_ax) = _figure(4.2, rows=2, height_ratios=[5, 1])
    _draw_tilt(tilt_ax, analysis, scale)
    _draw_activities(activity_ax, analysis, scale)
    activity_ax.set_xlabel(label)
    activity_ax.set_xlim(0, max(analysis.duration_s, 1e-9) / scale)
    return figure


def _draw_reps(depth_ax: Axes, analysis: SessionAnalysis) -> None:
    reps = analysis.reps
    x = np.arange(len(reps))
    depth_ax.bar(x, [r.depth_m if r.depth_m is not None else np.nan for r in reps], color="#b8c7dc")
    depth_ax.set_ylabel("depth (m), bars")
    depth_ax.set_xticks(x, [f"{r.set}.{r.index}" for r in reps], fontsize=7)
    depth_ax.set_xlabel("set.rep")
    wink_ax = depth_ax.twinx()
    winks = np.array([r.wink_deg for r in reps], dtype=float)
    for level, colour in WINK_COLOURS.items():
        chosen = [i for i, r in enumerate(reps) if r.wink_level == level]
        if chosen:
            wink_ax.scatter(x[chosen], winks[chosen], color=colour, marker="D" if level == "flag" else "o",
                            s=36 if level == "flag" else 22, zorder=3, label=WINK_LABELS[level])
    squat = analysis.settings.squat
    wink_ax.axhline(squat.wink_flag_deg, color=WINK_COLOURS["flag"], lw=0.6, ls="--")
    wink_ax.axhline(squat.wink_mild_deg, color=WINK_COLOURS["mild"], lw=0.6, ls=":")
    wink_ax.set_ylabel("butt-wink reversal (°), markers")
    finite = winks[np.isfinite(winks)]
    wink_ax.set_ylim(0, max(squat.wink_flag_deg * 1.5, float(finite.max()) * 1.15 if len(finite) else 0.0))
    wink_ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=4)


def reps_figure(analysis: SessionAnalysis) -> Figure | None:
    """Per rep: depth (bars) and butt-wink reversal (markers coloured by verdict); None without reps."""
    if not analysis.reps:
        return None
    figure, (ax,) = _figure(3.0)
    _draw_reps(ax, analysis)
    return figure


def _judged_zones(analysis: SessionAnalysis) -> list:
    return [z for z in analysis.time_in_zone if z.total_s > 0]


def _draw_zones(ax: Axes, analysis: SessionAnalysis) -> None:
    zones = _judged_zones(analysis)
    y = np.arange(len(zones))
    left = np.zeros(len(zones))
    for zone in ("neutral", "anterior", "posterior"):
        minutes = np.array([getattr(z, f"{zone}_s") for z in zones]) / 60.0
        ax.barh(y, minutes, left=left, color=ZONE_LINE_COLOURS[zone], label=zone, height=0.6)
        left += minutes
    ax.set_yticks(y, [z.activity for z in zones])
    ax.set_xlabel("minutes in each zone")
    ax.legend(loc="lower right", fontsize=8, frameon=False, ncol=3)


def zones_figure(analysis: SessionAnalysis) -> Figure | None:
    """Time in each zone per judged activity, as stacked bars in minutes; None if nothing judged."""
    if not _judged_zones(analysis):
        return None
    figure, (ax,) = _figure(0.9 + 0.45 * len(_judged_zones(analysis)))
    _draw_zones(ax, analysis)
    return figure


def summary_figure(analysis: SessionAnalysis) -> Figure:
    """One figure for ``--png``: the timeline, then the reps or, without reps, the time in zone."""
    from matplotlib.figure import Figure

    scale, label = _time_axis(analysis)
    lower = _draw_reps if analysis.reps else _draw_zones if _judged_zones(analysis) else None
    ratios = [5, 1, 3] if lower else [5, 1]
    figure = Figure(figsize=(WIDTH_IN, 7.0 if lower else 4.2), dpi=DPI, layout="constrained")
    grid = figure.add_gridspec(len(ratios), 1, height_ratios=ratios)
    tilt_ax = figure.add_subplot(grid[0])
    activity_ax = figure.add_subplot(grid[1], sharex=tilt_ax)
    _draw_tilt(tilt_ax, analysis, scale)
    _draw_activities(activity_ax, analysis, scale)
    activity_ax.set_xlabel(label)
    activity_ax.set_xlim(0, max(analysis.duration_s, 1e-9) / scale)
    tilt_ax.set_title(f"{analysis.source.device}: {analysis.kind} session", fontsize=10, pad=12)
    if lower is not None:
        lower(figure.add_subplot(grid[2]), analysis)
    return figure


def svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: text kept as text, no XML prolog,
    metadata, comments or namespace declarations (an HTML parser needs none, and none names a URL)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tiltwatch"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                       "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    return text.strip()


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
