"""The current tilt: a big number, the status word, the activity and a bar on a fixed scale."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits, Label

from tui.dashboard_state import DashboardState
from tui.widgets._format import MINUS, signed_deg
from tui.widgets._state_view import StateView, show

STATUS_WORDS = {
    "neutral": "NEUTRAL",
    "anterior": "ANTERIOR TILT",
    "posterior": "POSTERIOR TILT",
    "uncalibrated": "NOT CALIBRATED",
    "paused": "PAUSED",
}
STATUS_CLASSES = tuple(f"-{status}" for status in STATUS_WORDS)


class TiltBar(Widget):
    """A horizontal scale from posterior (left) to anterior (right) with a marker at the tilt."""

    DEFAULT_CSS = """
    TiltBar { height: 1; }
    """
    SCALE_DEG = 30.0
    tilt_deg: reactive[float] = reactive(math.nan)

    def render(self) -> Text:
        left, right = "P ", " A"
        width = max(3, self.size.width - len(left) - len(right))
        cells = ["─"] * width
        centre = width // 2
        cells[centre] = "┼"
        if math.isfinite(self.tilt_deg):
            clipped = max(-self.SCALE_DEG, min(self.SCALE_DEG, self.tilt_deg))
            position = round((clipped + self.SCALE_DEG) / (2 * self.SCALE_DEG) * (width - 1))
            cells[position] = "●"
        return Text(left + "".join(cells) + right)


class TiltGauge(StateView, Vertical):
    """Renders ``state.output``: the latest tilt, its status and the activity."""

    DEFAULT_CSS = """
    TiltGauge { height: auto; }
    TiltGauge #tilt-row { height: 3; }
    TiltGauge #tilt-value { width: auto; margin-right: 2; }
    TiltGauge #tilt-words { width: 1fr; }
    TiltGauge #tilt-status { text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="tilt-row"):
            yield Digits("—", id="tilt-value")
            with Vertical(id="tilt-words"):
                yield Label("", id="tilt-status")
                yield Label("", id="tilt-activity")
        yield TiltBar(id="tilt-bar")

    @property
    def shown_tilt(self) -> str:
        """The tilt as displayed (tests read this)."""
        return self.query_one("#tilt-value", Digits).value

    def watch_state(self, state: DashboardState) -> None:
        output = state.output
        tilt_deg = output.latest_tilt_deg if output is not None else math.nan
        status = output.status if output is not None else "uncalibrated"
        # Digits draws only ASCII signs in its large font.
        self.query_one("#tilt-value", Digits).update(signed_deg(tilt_deg, 1).replace(MINUS, "-"))
        show(self.query_one("#tilt-status", Label), STATUS_WORDS[status])
        show(self.query_one("#tilt-activity", Label), state.activity or "waiting for samples")
        self.query_one(TiltBar).tilt_deg = tilt_deg
        for status_class in STATUS_CLASSES:
            self.set_class(status_class == f"-{status}", status_class)
