"""The tilt over the last minute (or ten) as a braille line, with the zones shaded in their colours.

Samples are kept as the range of tilt in each ``BUCKET_S`` slice (a few thousand slices for ten
minutes, whatever the sample rate), and the plot is redrawn only when it would change: a new
pixel column, a new scale, a resize, or new zones.
"""

from __future__ import annotations

import functools
import math
from typing import Iterable

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from fusion.outputs import PipelineOutput
from tui.dashboard_state import Thresholds
from tui.widgets._format import MINUS
from tui.widgets._styles import CachedComponentStyles

GUTTER = 5
"""Characters left of the plot for the degree labels."""
BUCKET_S = 0.05
"""Time resolution of what the chart keeps (a pixel column is never narrower at 1 minute)."""
WINDOWS_S = (60.0, 600.0)
MAX_PENDING = 256
"""Outputs kept unsliced at most (while the chart is hidden it is not drawn)."""
DEFAULT_SPAN_DEG = 30.0
"""Posture lives within ±30°: the scale grows (in steps of 10°) only for tilts beyond it."""
# Braille dot bits, by [pixel row within the cell][pixel column within the cell].
_DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)


class TiltChart(CachedComponentStyles, Widget):
    """Plots tilt (anterior up) against stream time; keeps only the longest window it can show."""

    COMPONENT_CLASSES = {"tilt-chart--axis", "tilt-chart--neutral", "tilt-chart--anterior",
                         "tilt-chart--posterior", "tilt-chart--anterior-zone", "tilt-chart--posterior-zone",
                         "tilt-chart--threshold"}
    DEFAULT_CSS = """
    TiltChart { height: 10; }
    TiltChart > .tilt-chart--axis { color: $text-muted; }
    TiltChart > .tilt-chart--threshold { color: $text-muted; }
    """
    window_s: reactive[float] = reactive(WINDOWS_S[0])
    thresholds: reactive[Thresholds | None] = reactive(None)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._bucket = np.empty(0, dtype=np.int64)
        self._low = np.empty(0)
        self._high = np.empty(0)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        """(t, tilt) received but not in the slices yet: they are made when the plot is drawn."""
        self._newest: int | None = None
        """The newest slice, received or made."""
        self._samples = 0
        self._drawn_key: tuple | None = None
        self._lines: list[Strip] | None = None

    @property
    def samples(self) -> int:
        """Samples received for the plot (tests read this)."""
        return self._samples

    @property
    def first_s(self) -> float | None:
        """Stream time of the oldest tilt on the chart, to a bucket (tests read this)."""
        self._make_slices()
        return float(self._bucket[0]) * BUCKET_S if len(self._bucket) else None

    def clear(self) -> None:
        """Forget what was plotted (a replay starting over)."""
        self._bucket, self._low, self._high = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
        self._pending, self._newest = [], None
        self._samples = 0
        self.refresh()

    def toggle_window(self) -> None:
        self.window_s = WINDOWS_S[(WINDOWS_S.index(self.window_s) + 1) % len(WINDOWS_S)]

    def extend(self, outputs: Iterable[PipelineOutput]) -> None:
        pieces = [(o.t, o.tilt_deg) for o in outputs if len(o.t)]
        if not pieces:
            return
        self._pending += pieces
        self._samples += sum(len(t) for t, _ in pieces)
        t, tilt = pieces[-1]
        if math.isfinite(t[-1]) and math.isfinite(tilt[-1]):
            self._newest = max(self._newest if self._newest is not None else -math.inf,
                               math.floor(t[-1] / BUCKET_S))
        else:  # rare: the newest finite sample is further back
            self._make_slices()
        if len(self._pending) >= MAX_PENDING:
            self._make_slices()
        if self._view_key() != self._drawn_key:
            self.refresh()

    def _make_slices(self) -> None:
        """The pending samples into slices (the lowest and highest tilt of each ``BUCKET_S``),
        those older than the longest window dropped. Redraws happen a few times a second: the
        slices are made then, in one go, rather than at every redraw's samples."""
        if not self._pending:
            return
        t = np.concatenate([t for t, _ in self._pending])
        tilt = np.concatenate([tilt for _, tilt in self._pending])
        self._pending = []
        finite = np.isfinite(tilt) & np.isfinite(t)
        t, tilt = t[finite], tilt[finite]
        if len(t):
            bucket = np.floor(t / BUCKET_S).astype(np.int64)
            starts = np.flatnonzero(np.diff(bucket, prepend=bucket[0] - 1))
            bucket = np.concatenate([self._bucket, bucket[starts]])
            low = np.concatenate([self._low, np.minimum.reduceat(tilt, starts)])
            high = np.concatenate([self._high, np.maximum.reduceat(tilt, starts)])
            if len(self._bucket) and bucket[len(self._bucket)] <= self._bucket[-1]:
                # The first new slice continues the last one kept.
                n = len(self._bucket)
                low[n - 1] = min(low[n - 1], low[n])
                high[n - 1] = max(high[n - 1], high[n])
                bucket, low, high = np.delete(bucket, n), np.delete(low, n), np.delete(high, n)
            keep = bucket > bucket[-1] - max(WINDOWS_S) / BUCKET_S
            self._bucket, self._low, self._high = bucket[keep], low[keep], high[keep]
        self._newest = int(self._bucket[-1]) if len(self._bucket) else None

    def watch_window_s(self) -> None:
        self.refresh()

    def watch_thresholds(self) -> None:
        self.refresh()

    def _plot_size(self) -> tuple[int, int]:
        return self.size.width - GUTTER, self.size.height - 1

    def _view_key(self) -> tuple:
        """What the drawing depends on: redraw only when this changes."""
        width, _ = self._plot_size()
        newest = self._newest
        column_s = self.window_s / max(1, 2 * width)
        column = None if newest is None else math.floor(newest * BUCKET_S / column_s)
        return (column, self.size, self.window_s, self.thresholds, self.app.theme)

    def _pixel_ranges(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest tilt per pixel column (two per character), NaN where no data."""
        columns = 2 * width
        low = np.full(columns, np.inf)
        high = np.full(columns, -np.inf)
        if len(self._bucket):
            end_s = (self._bucket[-1] + 1) * BUCKET_S
            position = (self._bucket * BUCKET_S - (end_s - self.window_s)) / self.window_s * columns
            shown = position >= 0
            column = np.clip(position[shown].astype(int), 0, columns - 1)
            np.minimum.at(low, column, self._low[shown])
            np.maximum.at(high, column, self._high[shown])
        empty = ~np.isfinite(low)
        low[empty], high[empty] = np.nan, np.nan
        return low, high

    def render_line(self, y: int) -> Strip:
        key = self._view_key()
        if self._lines is None or key != self._drawn_key:
            self._lines, self._drawn_key = self._draw(), key
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        self._lines = None
        super().notify_style_update()

    def _draw(self) -> list[Strip]:
        """The plot's lines, built as segments directly (a ``Text`` went through two conversions
        on its way to the screen, most of a redraw's cost)."""
        width, rows = self._plot_size()
        if width < 4 or rows < 2:
            return []
        self._make_slices()
        base = self.visual_style.rich_style
        colours: dict[str, Style] = {}
        shades: dict[str, Style] = {}

        def colour(name: str) -> Style:
            if name not in colours:
                colours[name] = Style(color=self.component_style(name).color)
            return colours[name]

        def shade(zone: str) -> Style:
            # The zone's tint, blended over the widget's background by the stylesheet.
            if zone not in shades:
                shades[zone] = (Style(bgcolor=self.component_style(f"tilt-chart--{zone}-zone").bgcolor)
                                if zone != "neutral" else Style())
            return shades[zone]

        axis = colour("tilt-chart--axis")
        low, high = self._pixel_ranges(width)
        largest = np.nanmax(np.abs(np.concatenate([low, high]))) if np.isfinite(low).any() else 0.0
        span_deg = max(DEFAULT_SPAN_DEG, 10.0 * math.ceil(largest / 10.0))
        pixel_rows = 4 * rows
        deg_per_pixel = 2 * span_deg / pixel_rows

        def pixel_of(value_deg: np.ndarray) -> np.ndarray:
            # Pixel row 0 at the top (+span); the line joins each column to the one before.
            return np.clip(((span_deg - value_deg) / deg_per_pixel).astype(int), 0, pixel_rows - 1)

        has = np.isfinite(low)
        top = np.where(has, pixel_of(np.nan_to_num(high)), pixel_rows)
        bottom = np.where(has, pixel_of(np.nan_to_num(low)), -1)
        joined_top, joined_bottom = top.copy(), bottom.copy()
        both = has[1:] & has[:-1]
        joined_top[1:][both] = np.minimum(top[1:], bottom[:-1] + 1)[both]
        joined_bottom[1:][both] = np.maximum(bottom[1:], top[:-1] - 1)[both]
        # Two pixels thick at least: a flat line stays a line, not a row of single dots.
        joined_bottom = np.where(has, np.maximum(joined_bottom, np.minimum(joined_top + 1, pixel_rows - 1)), -1)
        rows_index = np.arange(pixel_rows)[:, None]
        lit = (rows_index >= joined_top[None, :]) & (rows_index <= joined_bottom[None, :])
        cells = (lit.reshape(rows, 4, width, 2) * _DOT_BITS[None, :, None, :]).sum(axis=(1, 3))

        thresholds = self.thresholds
        cell_centre_deg = span_deg - (np.arange(rows) + 0.5) * 4 * deg_per_pixel
        zero_row = min(rows - 1, int(span_deg / (4 * deg_per_pixel)))
        threshold_rows = {}
        if thresholds is not None:
            for value in (thresholds.anterior_deg, thresholds.posterior_deg):
                threshold_rows[min(rows - 1, max(0, int((span_deg - value) / (4 * deg_per_pixel))))] = value
        # Every cell as its braille character at once (a run of drawn cells is then a slice).
        braille = (cells + 0x2800).astype("<u4").tobytes().decode("utf-32-le")
        drawn_cells = (cells > 0).tolist()
        lines = []
        for row in range(rows):
            segments = []
            row_zone = thresholds.zone(cell_centre_deg[row]) if thresholds is not None else "neutral"
            row_shade = shade(row_zone)
            line_style = base + colour(f"tilt-chart--{row_zone}") + row_shade
            label = {0: _label(span_deg), rows - 1: _label(-span_deg), zero_row: "0"}.get(row, "")
            if row in threshold_rows and not label:
                label = _label(threshold_rows[row])
            segments.append(Segment(f"{label:>{GUTTER - 1}} ", base + axis))
            blank = "─" if row == zero_row else "┈" if row in threshold_rows else " "
            blank_style = base + colour("tilt-chart--threshold" if row in threshold_rows else "tilt-chart--axis") + row_shade
            drawn = drawn_cells[row]
            offset = row * width
            # One append per run of empty or drawn cells: a redraw costs per run, not per cell.
            start = 0
            for stop in range(1, width + 1):
                if stop == width or drawn[stop] != drawn[start]:
                    if drawn[start]:
                        segments.append(Segment(braille[offset + start:offset + stop], line_style))
                    else:
                        segments.append(Segment(blank * (stop - start), blank_style))
                    start = stop
            lines.append(segments)
        window = f"{MINUS}{self.window_s / 60:.0f} min"
        lines.append([Segment(" " * GUTTER + window.ljust(width - 3) + "now", base + axis)])
        return [Strip(_with_offsets(segments, y)).adjust_cell_length(GUTTER + width, base)
                for y, segments in enumerate(lines)]


def _with_offsets(segments: list[Segment], y: int) -> list[Segment]:
    """Each segment's position in the widget, as Textual marks the text it renders (text selection
    reads it; the screen is the same as the plot's text would give)."""
    marked, x = [], 0
    for segment in segments:
        marked.append(Segment(segment.text, segment.style + _offset_style(x, y)))
        x += len(segment.text)
    return marked


@functools.lru_cache(maxsize=4096)
def _offset_style(x: int, y: int) -> Style:
    """Kept: making a style with metadata costs three times adding it (a plot has a few thousand cells)."""
    return Style.from_meta({"offset": (x, y)})


def _label(value_deg: float) -> str:
    return f"{value_deg:+.0f}".replace("-", MINUS)
