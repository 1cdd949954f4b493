"""The alert on show, the corrections for its pattern, and the not-a-medical-device line."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from fusion.corrections import DISCLAIMER, Correction, correction_for
from tui.dashboard_state import DashboardState
from tui.widgets._format import clock
from tui.widgets._state_view import StateView, show


def correction_text(correction: Correction, heading: Style, reason: Style) -> Group:
    """The summary, then each section's items as bullets with their reasons (hanging indent)."""
    parts: list[RenderableType] = [Text(correction.summary)]
    for section in correction.sections:
        parts.append(Text(f"\n{section.heading}", heading))
        items = Table.grid(padding=(0, 1))
        items.add_column(width=1)
        items.add_column(ratio=1)
        for item in section.items:
            items.add_row("•", Text.assemble(item.text, "\n", (item.reason, reason)))
        parts.append(items)
    return Group(*parts)


def idle_text(state: DashboardState) -> str:
    if state.muted:
        return "Alerts muted: press m to unmute."
    if state.snoozed:
        return f"Alerts snoozed for {clock(state.snooze_left_s)}: press z to resume."
    return "No alert. Corrections show here when a sustained tilt or a butt wink is detected."


class AlertPanel(StateView, VerticalScroll):
    """Renders ``state.alert``; hidden by snooze or mute (the pipeline still records alerts)."""

    COMPONENT_CLASSES = {"alert-panel--heading", "alert-panel--reason"}
    DEFAULT_CSS = """
    AlertPanel > .alert-panel--heading { text-style: bold; }
    AlertPanel > .alert-panel--reason { text-style: italic; color: $text-muted; }
    AlertPanel #alert-title { text-style: bold; }
    AlertPanel #alert-disclaimer { margin-top: 1; }
    AlertPanel .alert-part { display: none; }
    AlertPanel.-visible .alert-part { display: block; }
    AlertPanel.-visible #alert-idle { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="alert-idle")
        yield Static("", id="alert-title", classes="alert-part")
        yield Static("", id="alert-why", classes="alert-part")
        yield Static("", id="alert-corrections", classes="alert-part")
        yield Static(DISCLAIMER, id="alert-disclaimer", classes="alert-part")

    def watch_state(self, state: DashboardState) -> None:
        visible = state.alert_visible
        self.set_class(visible, "-visible")
        self.set_class(visible and state.alert.ongoing, "-ongoing")
        show(self.query_one("#alert-idle", Static), idle_text(state))
        if not visible:
            return
        alert = state.alert
        correction = correction_for(alert.pattern)
        title = correction.title if alert.ongoing or alert.pattern == "butt_wink" else (
            f"{correction.title} (back within range now)")
        show(self.query_one("#alert-title", Static), title)
        show(self.query_one("#alert-why", Static), f"Why: {alert.why}")
        corrections = self.query_one("#alert-corrections", Static)
        if getattr(corrections, "_shown_key", None) != alert.pattern:
            show(corrections, correction_text(
                correction,
                self.get_component_rich_style("alert-panel--heading"),
                self.get_component_rich_style("alert-panel--reason"),
            ), key=alert.pattern)
