"""The current tilt: a big number, the status in words, obliquity, and a posterior–anterior gauge
whose neutral band and zones are drawn from the active thresholds."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget
from textual.widgets import Label, Static

from tui.dashboard_state import DashboardState, Thresholds
from tui.widgets._format import MINUS, signed_deg
from tui.widgets._state_view import StateView, show
from tui.widgets._styles import CachedComponentStyles, KeptLinesLabel, KeptLinesStatic
from tui.widgets.big_text import big_lines

STATUS_WORDS = {
    "neutral": "NEUTRAL",
    "anterior": "ANTERIOR TILT",
    "posterior": "POSTERIOR TILT",
    "uncalibrated": "NOT CALIBRATED",
    "paused": "NOT JUDGED NOW",
}
STATUS_CLASSES = (*(f"-{status}" for status in STATUS_WORDS), "-set")
GAUGE_SCALE_DEG = 30.0
"""The gauge spans ±30°: posture at a desk lives well inside it; beyond, the marker pins to the end."""
MARKER_LINES_KEPT = 64
"""Marker positions whose lines the bar keeps (a few cells are visited at a time)."""
ZONE_GLYPHS = {"posterior": "╍", "neutral": "━", "anterior": "╍"}
"""Zones differ in shape as well as colour, so they read without colour (NO_COLOR)."""


class ZoneBar(CachedComponentStyles, Widget):
    """Posterior (left) to anterior (right): neutral band, zones beyond the thresholds, a marker.

    A new tilt redraws the bar only when the marker moves to another cell or zone: the tilt
    changes by tenths of a degree at every redraw, the bar by one cell per 1-2 degrees. The
    marker wanders among a few cells, so the lines drawn for each are kept until the size,
    thresholds or styles change (turning the text into lines was most of a redraw's cost).
    """

    COMPONENT_CLASSES = {"zone-bar--neutral", "zone-bar--anterior", "zone-bar--posterior",
                         "zone-bar--marker", "zone-bar--label"}
    DEFAULT_CSS = """
    ZoneBar { height: 2; }
    ZoneBar > .zone-bar--marker { text-style: bold reverse; }
    ZoneBar > .zone-bar--label { color: $text-muted; }
    """
    tilt_deg: reactive[float] = reactive(math.nan, repaint=False)
    thresholds: reactive[Thresholds | None] = reactive(None)
    _drawn_key: tuple | None = None

    _drawn_lines: dict[tuple, list[Strip]] | None = None

    def watch_tilt_deg(self) -> None:
        if self._marker_key() != self._drawn_key:
            self.refresh()

    def render_line(self, y: int) -> Strip:
        key = (self._marker_key(), self.size, self.thresholds, self.app.theme)
        if self._drawn_lines is None or len(self._drawn_lines) >= MARKER_LINES_KEPT:
            self._drawn_lines = {}
        lines = self._drawn_lines.get(key)
        if lines is None:
            width, height = self.size
            lines = self._drawn_lines[key] = Visual.to_strips(self, visualize(self, self.render()), width, height,
                                                              self.visual_style)
        self._drawn_key = key[0]
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        self._drawn_lines = None
        super().notify_style_update()

    def _width(self) -> int:
        return max(9, self.size.width)

    def _column(self, value_deg: float) -> int:
        width, scale = self._width(), GAUGE_SCALE_DEG
        clipped = max(-scale, min(scale, value_deg))
        return min(width - 1, int((clipped + scale) / (2 * scale) * width))

    def _zone(self, value_deg: float) -> str:
        return self.thresholds.zone(value_deg) if self.thresholds is not None else "neutral"

    def _marker_key(self) -> tuple:
        """What the drawing depends on besides the thresholds and the size (those refresh it)."""
        if not math.isfinite(self.tilt_deg):
            return (self._width(), None, None)
        return (self._width(), self._column(self.tilt_deg), self._zone(self.tilt_deg))

    def render(self) -> Text:
        width = self._width()
        scale = GAUGE_SCALE_DEG
        thresholds = self.thresholds
        column, zone = self._column, self._zone
        styles = {name: self.component_style(f"zone-bar--{name}")
                  for name in ("neutral", "anterior", "posterior", "marker")}
        marker = column(self.tilt_deg) if math.isfinite(self.tilt_deg) else None
        centre = column(0.0)
        cells = [("┿" if cell == centre else ZONE_GLYPHS[z], z)
                 for cell, z in ((c, zone(-scale + (c + 0.5) * 2 * scale / width)) for c in range(width))]
        if marker is not None:
            cells[marker] = ("●", "marker")
        bar = Text(no_wrap=True, overflow="crop")
        start = 0
        for cell in range(1, width + 1):  # one append per run of one zone
            if cell == width or cells[cell][1] != cells[start][1]:
                name = cells[start][1]
                style = (styles[zone(self.tilt_deg)] + styles["marker"]) if name == "marker" else styles[name]
                bar.append("".join(glyph for glyph, _ in cells[start:cell]), style)
                start = cell
        labels = [" "] * width
        marks = [(0, f"P {MINUS}{scale:.0f}"), (column(0.0), "0")]
        if thresholds is not None:
            marks += [(column(thresholds.posterior_deg), signed_deg(thresholds.posterior_deg)),
                      (column(thresholds.anterior_deg), signed_deg(thresholds.anterior_deg))]
        ends = f"+{scale:.0f} A"
        marks.append((width - len(ends), ends))
        taken = -1
        for position, label in sorted(marks):
            start = max(0, min(width - len(label), position - (len(label) // 2 if 0 < position < width - len(label) else 0)))
            if start <= taken:
                continue
            labels[start:start + len(label)] = label
            taken = start + len(label)
        bar.append("\n")
        bar.append("".join(labels[:width]), self.component_style("zone-bar--label"))
        return bar


class TiltGauge(StateView, Vertical):
    """Renders ``state.output``: the latest tilt, its status, activity, obliquity and the gauge."""

    DEFAULT_CSS = """
    TiltGauge { height: auto; }
    TiltGauge #tilt-row { height: 3; }
    TiltGauge #tilt-value { width: auto; min-width: 16; margin-right: 2; text-style: bold; }
    TiltGauge #tilt-words { width: 1fr; }
    TiltGauge #tilt-status { text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="tilt-row"):
            yield KeptLinesStatic("", id="tilt-value")
            with Vertical(id="tilt-words"):
                yield Label("", id="tilt-status")
                yield Label("", id="tilt-activity")
                yield KeptLinesLabel("", id="tilt-obliquity")
        yield ZoneBar(id="tilt-bar")

    @property
    def shown_tilt(self) -> str:
        """The tilt as displayed (tests read this)."""
        return getattr(self, "_shown_tilt", "—")

    def watch_state(self, state: DashboardState) -> None:
        output = state.output
        tilt_deg = output.latest_tilt_deg if output is not None else math.nan
        status = output.status if output is not None else "uncalibrated"
        self._shown_tilt = signed_deg(tilt_deg)
        number = self._shown_tilt.replace(MINUS, "-") if math.isfinite(tilt_deg) else "--"
        value, words, activity, obliquity, bar = self._parts()
        show(value, "\n".join(big_lines(number)), key=number, fixed_size=True)
        in_set = state.squat_focus and status in ("anterior", "neutral", "paused")
        show(words, set_status(state) if in_set else STATUS_WORDS[status])
        show(activity, activity_line(state))
        show(obliquity, f"obliquity {signed_deg(state.obliquity_deg)} (left–right)")
        bar.tilt_deg = round(tilt_deg, 1) if math.isfinite(tilt_deg) else math.nan
        bar.thresholds = state.thresholds
        shown_class = "-set" if in_set else f"-{status}"
        if not self.has_class(shown_class):  # a class change restyles the whole gauge
            for status_class in STATUS_CLASSES:
                self.set_class(status_class == shown_class, status_class)

    def _parts(self) -> tuple[Static, Label, Label, Label, ZoneBar]:
        """The children redrawn at every update (looked up once)."""
        parts = getattr(self, "_found_parts", None)
        if parts is None:
            parts = self._found_parts = (
                self.query_one("#tilt-value", Static), self.query_one("#tilt-status", Label),
                self.query_one("#tilt-activity", Label), self.query_one("#tilt-obliquity", Label),
                self.query_one(ZoneBar))
        return parts


def set_status(state: DashboardState) -> str:
    """In a squat set the descent's forward tilt is the movement, not a posture to correct."""
    if state.reps:
        last = state.reps[-1]
        return f"SQUAT SET {last.set} · {last.index} REPS"
    return "SQUAT SET"


def activity_line(state: DashboardState) -> str:
    if state.output is None:
        return "waiting for samples"
    thresholds = state.thresholds
    band = (f" · neutral {signed_deg(thresholds.posterior_deg)}…{signed_deg(thresholds.anterior_deg)}"
            if thresholds is not None and state.activity == thresholds.activity else "")
    return f"{state.activity or 'activity unknown'}{band}"
