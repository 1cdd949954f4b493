"""The session's summary when it ends: time in each zone per activity, alerts, reps and butt-wink
rate, the corrections for the patterns measured, and the not-a-medical-device line once."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from fusion.corrections import DISCLAIMER, correction_for
from tui.dashboard_state import DashboardState
from tui.widgets._format import duration

ZONES = ("neutral", "anterior", "posterior")


def zone_table(state: DashboardState) -> Table | Text:
    rows = {activity: zones for activity, zones in state.zone_time_s.items() if sum(zones.values()) > 0}
    if not rows:
        return Text("No calibrated posture time to report (no standing zero was set, or nothing judged).")
    table = Table(box=None, pad_edge=False, expand=False)
    table.add_column("activity")
    for zone in ZONES:
        table.add_column(zone, justify="right")
    for activity, zones in rows.items():
        total = sum(zones.values())
        table.add_row(activity, *(f"{duration(zones.get(z, 0.0))} {100 * zones.get(z, 0.0) / total:3.0f}%"
                                   for z in ZONES))
    return table


def session_lines(state: DashboardState) -> str:
    duration_text = duration(state.now_s - state.start_s) if state.now_s is not None and state.start_s is not None else "—"
    device = state.info.device if state.info is not None else "unknown source"
    lines = [f"{device} · {duration_text} of samples · {state.alerts_total} alert(s)"]
    if state.alert is not None:
        lines.append(f"Last alert: {state.alert.why}")
    reps = state.reps
    if reps:
        eligible = [r for r in reps if r.wink_level != "not_eligible"]
        winks = sum(r.butt_wink for r in reps)
        rate = f"{100 * winks / len(eligible):.0f}% of {len(eligible)} deep enough to judge" if eligible else "none deep enough to judge"
        lines.append(f"Squats: {len(reps)} reps in {len(state.sets)} set(s) · butt wink on {winks} ({rate})")
    else:
        lines.append("Squats: no reps.")
    return "\n".join(lines)


def corrections_text(state: DashboardState) -> Group | Text:
    if not state.alert_patterns:
        return Text("No pattern was alerted this session: nothing to correct from it.")
    parts = []
    for pattern in state.alert_patterns:
        correction = correction_for(pattern)
        parts.append(Text(correction.title, style="bold"))
        parts.append(Text(correction.summary))
        for section in correction.sections:
            parts.append(Text(f"{section.heading}: " + " ".join(item.text for item in section.items)))
        parts.append(Text(""))
    return Group(*parts)


class SummaryScreen(ModalScreen[None]):
    """``closing``: the session is over and any of the keys leaves the app; otherwise (a replay
    that reached its end) escape goes back to the dashboard."""

    DEFAULT_CSS = """
    SummaryScreen { align: center middle; }
    SummaryScreen #summary { width: 100%; max-width: 110; height: 100%; max-height: 48;
                              border: round $primary; padding: 0 1; background: $surface; }
    SummaryScreen .summary-heading { text-style: bold; margin-top: 1; }
    SummaryScreen #summary-disclaimer { color: $text-muted; text-style: italic; margin-top: 1; }
    """
    BINDINGS = [
        Binding("q", "leave(True)", "Quit", id="summary-quit"),
        Binding("escape", "leave(False)", "Back", id="summary-back"),
        Binding("enter", "leave(False)", "Close", show=False, id="summary-close"),
    ]

    def __init__(self, state: DashboardState, *, closing: bool) -> None:
        super().__init__()
        self.session = state
        self.closing = closing

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary"):
            yield Static(session_lines(self.session), id="summary-session")
            yield Static("Time in each zone", classes="summary-heading")
            yield Static(zone_table(self.session), id="summary-zones")
            yield Static("What the measured patterns call for", classes="summary-heading")
            yield Static(corrections_text(self.session), id="summary-corrections")
            yield Static(DISCLAIMER, id="summary-disclaimer")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#summary").border_title = "Session summary"
        self.query_one("#summary").border_subtitle = ("q / esc / enter: leave" if self.closing
                                                      else "esc: back to the dashboard · q: quit")

    async def action_leave(self, quit_app: bool) -> None:
        if self.closing:
            await self.app.run_action("quit")  # the session is closed: this leaves
        elif quit_app:
            await self.app.run_action("quit_now")  # the summary is on screen already
        else:
            self.dismiss()
