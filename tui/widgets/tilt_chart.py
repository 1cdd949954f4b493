"""The tilt over the last minute: one column per time slice, the range of tilt in that slice."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
from rich.text import Text
from textual.widget import Widget

from fusion.outputs import PipelineOutput
from tui.widgets._format import MINUS

GUTTER = 5
"""Characters left of the plot for the degree labels."""


class TiltChart(Widget):
    """Plots tilt (anterior up) against stream time; keeps only the window it shows."""

    COMPONENT_CLASSES = {"tilt-chart--axis", "tilt-chart--anterior", "tilt-chart--posterior"}
    DEFAULT_CSS = """
    TiltChart { height: 10; }
    TiltChart > .tilt-chart--axis { color: $text-muted; }
    """

    def __init__(self, window_s: float = 60.0, min_span_deg: float = 20.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.window_s = window_s
        self.min_span_deg = min_span_deg
        self._t = np.empty(0)
        self._tilt_deg = np.empty(0)

    @property
    def samples(self) -> int:
        """Samples held for the plot (tests read this)."""
        return len(self._t)

    def extend(self, outputs: Iterable[PipelineOutput]) -> None:
        outputs = [o for o in outputs if len(o.t)]
        if not outputs:
            return
        t = np.concatenate([self._t, *(o.t for o in outputs)])
        tilt = np.concatenate([self._tilt_deg, *(o.tilt_deg for o in outputs)])
        keep = t >= t[-1] - self.window_s
        self._t, self._tilt_deg = t[keep], tilt[keep]
        self.refresh()

    def render(self) -> Text:
        width = self.size.width - GUTTER
        rows = self.size.height - 1
        if width < 4 or rows < 2:
            return Text("")
        axis = self.get_component_rich_style("tilt-chart--axis")
        anterior = self.get_component_rich_style("tilt-chart--anterior")
        posterior = self.get_component_rich_style("tilt-chart--posterior")
        low, high, finite = self._column_ranges(width)
        span_deg = self._span_deg(low[finite], high[finite])
        # Row r covers tilts in [top - (r + 1) * step, top - r * step).
        step = 2 * span_deg / rows
        zero_row = min(rows - 1, int(span_deg / step))
        text = Text()
        for row in range(rows):
            row_high = span_deg - row * step
            row_low = row_high - step
            label = {0: _label(span_deg), rows - 1: _label(-span_deg), zero_row: "0"}.get(row, "")
            text.append(f"{label:>{GUTTER - 1}} ", axis)
            filled = finite & (high >= row_low) & (low < row_high)
            style = anterior if row_low + row_high >= 0 else posterior
            blank = "─" if row == zero_row else " "
            # One append per run of equal cells: a redraw costs per run, not per cell.
            edges = np.flatnonzero(np.diff(filled.astype(np.int8))) + 1
            for start, stop in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(filled)]])):
                is_filled = bool(filled[start])
                text.append(("█" if is_filled else blank) * int(stop - start), style if is_filled else axis)
            text.append("\n")
        text.append(" " * GUTTER + f"{MINUS}{self.window_s:.0f} s".ljust(width - 3) + "now", axis)
        return text

    def _column_ranges(self, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        low = np.full(width, np.inf)
        high = np.full(width, -np.inf)
        valid = np.isfinite(self._tilt_deg)
        if len(self._t) and valid.any():
            start = self._t[-1] - self.window_s
            column = np.floor((self._t[valid] - start) / self.window_s * width).astype(int)
            column = np.clip(column, 0, width - 1)
            np.minimum.at(low, column, self._tilt_deg[valid])
            np.maximum.at(high, column, self._tilt_deg[valid])
        return low, high, np.isfinite(low)

    def _span_deg(self, low: np.ndarray, high: np.ndarray) -> float:
        largest = max(np.abs(low).max(initial=0.0), np.abs(high).max(initial=0.0))
        return max(self.min_span_deg, 10.0 * math.ceil(largest / 10.0))


def _label(value_deg: float) -> str:
    return f"{value_deg:+.0f}".replace("-", MINUS)
