"""Squat feedback: the reps, newest first (so the newest is never cut off), and a line per set."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fusion.detection.events import SquatRep
from tui.dashboard_state import DashboardState, SetSummary
from tui.widgets._format import degrees, signed_deg, tempo
from tui.widgets._state_view import StateView, show
from tui.widgets.big_text import big_lines

LEVEL_WORDS = {"flag": "◀ BUTT WINK", "mild": "mild", "none": "ok", "not_eligible": "shallow"}


def rep_table(reps: tuple[SquatRep, ...], level_styles: dict[str, Style]) -> Table:
    """``reps`` newest first: rep, butt-wink reversal and marker, peak anterior tilt, tempo, depth."""
    table = Table(expand=True, box=None, pad_edge=False)
    # Most important first: on a narrow terminal only the last columns get cut.
    for header, min_width in (("rep", 3), ("wink", 4), ("", 11), ("peak", 4), ("tempo s", 11), ("depth", 0)):
        table.add_column(header, no_wrap=True, min_width=min_width)
    for rep in reversed(reps):
        depth = f"{rep.depth_m:.2f} m" if rep.depth_m is not None else "—"
        peak = signed_deg(rep.peak_anterior_deg) if rep.peak_anterior_deg is not None else "—"
        table.add_row(f"{rep.set}·{rep.index}", degrees(rep.wink_deg),
                      Text(LEVEL_WORDS[rep.wink_level], level_styles[rep.wink_level]), peak,
                      tempo(rep.descent_s, rep.bottom_pause_s, rep.ascent_s), depth)
    return table


def set_lines(summaries: tuple[SetSummary, ...]) -> Text:
    """One line per set: reps, butt winks, the largest reversal, rep time, depth."""
    lines = []
    for s in summaries:
        depth = f" · {s.mean_depth_m:.2f} m deep" if s.mean_depth_m is not None else ""
        lines.append(f"set {s.set}: {s.reps} reps · {s.butt_wink_reps} wink · {s.mild_wink_reps} mild · "
                     f"max {degrees(s.max_wink_deg)} · {s.mean_rep_s:.1f} s/rep{depth}")
    return Text("\n".join(lines), no_wrap=True, overflow="ellipsis")


class RepTable(StateView, Static):
    """Renders the sets (newest first), then the last ``RECENT_REPS`` reps (newest first): a
    short panel crops the oldest reps, never the newest rep or the current set's summary."""

    COMPONENT_CLASSES = {f"rep-table--{level}" for level in LEVEL_WORDS}

    def watch_state(self, state: DashboardState) -> None:
        if not state.reps:
            show(self, "No squat reps yet. In squat view (v) the reps lead the screen.")
            return
        if getattr(self, "_shown_key", None) == len(state.reps):
            return  # reps only ever get added
        styles = {level: self.get_component_rich_style(f"rep-table--{level}") for level in LEVEL_WORDS}
        show(self, Group(set_lines(state.sets[::-1]), rep_table(state.recent_reps, styles)), key=len(state.reps))


class RepCounter(StateView, Static):
    """The reps of the current set in big digits: the coach's count."""

    def watch_state(self, state: DashboardState) -> None:
        last = state.reps[-1] if state.reps else None
        count = str(last.index) if last is not None else "0"
        words = (f"reps in set {last.set}" if last is not None else "reps: waiting for the first")
        winks = sum(r.butt_wink for r in state.reps if last is not None and r.set == last.set)
        wink_line = f"{winks} butt wink{'s' if winks != 1 else ''} this set" if last is not None else ""
        show(self, "\n".join([*big_lines(count), words, wink_line]), key=(count, words, wink_line))
