"""The replay's position, length, speed and keys, on one line (hidden in live sessions)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.dashboard_state import DashboardState
from tui.widgets._format import clock
from tui.widgets._state_view import StateView, show


def replay_bar_text(state: DashboardState, width: int) -> str:
    pace = state.replay
    if pace is None:
        return ""
    where = f"{'⏸ paused' if pace.paused else '▶'} {clock(state.position_s)}"
    if pace.duration_s is not None:
        where += f" / {clock(pace.duration_s)}"
    where += " · max speed" if pace.speed is None else f" · ×{pace.speed:g}"
    if not pace.paused and pace.measured_speed is not None and (
            pace.speed is None or pace.measured_speed < 0.8 * pace.speed):
        where += f" (running at ×{pace.measured_speed:.0f}: the analysis's pace)"
    keys = "space pause · ←/→ 10 s · [/] 1 min · +/− speed · n next alert · r next rep"
    return f"{where}   {keys}" if len(where) + 3 + len(keys) <= width else f"{where} · space ←→ [] +− n r"


class ReplayBar(StateView, Static):
    DEFAULT_CSS = """
    ReplayBar { height: 1; padding: 0 1; display: none; }
    ReplayBar.-replay { display: block; }
    """

    def watch_state(self, state: DashboardState) -> None:
        self.set_class(state.replay is not None, "-replay")
        if state.replay is not None:
            line = replay_bar_text(state, self.content_size.width)
            show(self, Text(line), key=line, fixed_size=True)  # plain text: "[/]" is not markup
