"""Squat feedback: the last reps (depth, wink, level, tempo) and a summary row per set."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fusion.detection.events import SquatRep
from tui.dashboard_state import DashboardState, SetSummary
from tui.widgets._format import degrees, tempo
from tui.widgets._state_view import StateView, show

LEVEL_WORDS = {"flag": "BUTT WINK", "mild": "mild", "none": "ok", "not_eligible": "shallow"}


def rep_table(reps: tuple[SquatRep, ...], level_styles: dict[str, Style]) -> Table:
    table = Table(expand=True, box=None, pad_edge=False)
    # Most important first: on a narrow terminal only the last column (depth) gets cut.
    for header, min_width in (("rep", 3), ("wink", 4), ("", 9), ("tempo s", 11), ("depth", 0)):
        table.add_column(header, no_wrap=True, min_width=min_width)
    for rep in reps:
        depth = f"{rep.depth_m:.2f} m" if rep.depth_m is not None else "—"
        table.add_row(f"{rep.set}·{rep.index}", degrees(rep.wink_deg),
                      Text(LEVEL_WORDS[rep.wink_level], level_styles[rep.wink_level]),
                      tempo(rep.descent_s, rep.bottom_pause_s, rep.ascent_s), depth)
    return table


def set_table(summaries: tuple[SetSummary, ...]) -> Table:
    table = Table(expand=True, box=None, pad_edge=False)
    for header in ("set", "reps", "winks", "mild", "max", "rep s", "depth"):
        table.add_column(header, no_wrap=True, min_width=len(header))
    for summary in summaries:
        depth = f"{summary.mean_depth_m:.2f} m" if summary.mean_depth_m is not None else "—"
        table.add_row(str(summary.set), str(summary.reps), str(summary.butt_wink_reps), str(summary.mild_wink_reps),
                      degrees(summary.max_wink_deg), f"{summary.mean_rep_s:.1f}", depth)
    return table


class RepTable(StateView, Static):
    """Renders ``state.recent_reps`` and ``state.sets``; level colours come from the stylesheet."""

    COMPONENT_CLASSES = {f"rep-table--{level}" for level in LEVEL_WORDS}

    def watch_state(self, state: DashboardState) -> None:
        if not state.reps:
            show(self, "No squat reps yet.")
            return
        if getattr(self, "_shown_key", None) == len(state.reps):
            return  # reps only ever get added
        styles = {level: self.get_component_rich_style(f"rep-table--{level}") for level in LEVEL_WORDS}
        show(self, Group(rep_table(state.recent_reps, styles), Text(""), set_table(state.sets)),
             key=len(state.reps))
