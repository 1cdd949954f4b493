"""Squat feedback: the last reps (depth, wink, level, tempo) and one line per set."""

from __future__ import annotations

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fusion.detection.events import SquatRep
from tui.dashboard_state import DashboardState, SetSummary
from tui.widgets._format import seconds
from tui.widgets._state_view import StateView

LEVEL_WORDS = {"flag": "BUTT WINK", "mild": "mild", "none": "ok", "not_eligible": "shallow"}


def rep_table(reps: tuple[SquatRep, ...], level_styles: dict[str, Style]) -> Table:
    table = Table(expand=True, box=None, pad_edge=False)
    for header in ("set·rep", "depth", "wink", "", "down/pause/up s"):
        table.add_column(header, no_wrap=True)
    for rep in reps:
        depth = f"{rep.depth_m:.2f} m" if rep.depth_m is not None else "—"
        tempo = "/".join(seconds(v, 1).removesuffix(" s") for v in (rep.descent_s, rep.bottom_pause_s, rep.ascent_s))
        table.add_row(f"{rep.set}·{rep.index}", depth, f"{rep.wink_deg:.0f}°",
                      Text(LEVEL_WORDS[rep.wink_level], level_styles[rep.wink_level]), tempo)
    return table


def set_line(summary: SetSummary) -> str:
    tempo = (f", down {seconds(summary.mean_descent_s, 1)} up {seconds(summary.mean_ascent_s, 1)}"
             if summary.mean_descent_s is not None or summary.mean_ascent_s is not None else "")
    return (f"Set {summary.set}: {summary.reps} reps, {summary.flagged} butt wink, {summary.mild} mild, "
            f"max wink {summary.max_wink_deg:.0f}°{tempo}")


class RepTable(StateView, Static):
    """Renders ``state.recent_reps`` and ``state.sets``; level colours come from the stylesheet."""

    COMPONENT_CLASSES = {f"rep-table--{level}" for level in LEVEL_WORDS}

    def watch_state(self, state: DashboardState) -> None:
        if not state.reps:
            self.update("No squat reps yet.")
            return
        styles = {level: self.get_component_rich_style(f"rep-table--{level}") for level in LEVEL_WORDS}
        table = rep_table(state.recent_reps, styles)
        summaries = Text("\n".join(set_line(s) for s in state.sets))
        grid = Table.grid(expand=True)
        grid.add_row(table)
        grid.add_row(summaries)
        self.update(grid)
