"""The alert on show: what to do right now, the longer programme one key away, the disclaimer.
(Why it was raised is on the why line above, with the activity it applies to.)"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from fusion.corrections import DISCLAIMER, Correction, Pattern, correction_for
from tui.dashboard_state import DashboardState, ShownAlert
from tui.widgets._format import clock
from tui.widgets._state_view import StateView, show

WALK = "Or stand up and walk for a minute (hours in one position build the pattern)."
# What helps in the chair (or on the feet) now; the programme (corrections.py) is for later.
NOW_ACTIONS: dict[tuple[Pattern, str], tuple[str, ...]] = {
    ("anterior", "sitting"): ("Sit back onto your sitting bones, ease the arch; feet flat.", WALK),
    ("posterior", "sitting"): ("Roll off your tailbone onto your sitting bones, sit tall; feet flat.", WALK),
    ("anterior", "standing"): ("Stand tall, weight even on both feet; ease the arch of your lower back.",
                               "Or walk for a minute."),
    ("posterior", "standing"): ("Stand tall, weight even on both feet; let your backside untuck.",
                                "Or walk for a minute."),
}


def now_actions(alert: ShownAlert) -> tuple[str, ...]:
    """What to do right now for ``alert`` (a butt wink: the squat technique cues)."""
    if alert.pattern == "butt_wink":
        technique = correction_for("butt_wink").sections[0].items
        return tuple(item.text for item in technique[:3])
    return NOW_ACTIONS.get((alert.pattern, alert.activity), NOW_ACTIONS[(alert.pattern, "sitting")])


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
        return f"Alerts snoozed for {clock(state.snooze_left_s)}: z for longer or to resume."
    return ("No alert. When a tilt lasts or a squat rep winks, what to do about it shows here.\n"
            "c: calibrate · v: desk / squat / auto view · w: 1 or 10 min chart")


def keys_line(state: DashboardState, programme_shown: bool) -> str:
    step = state.snooze_step + 1 if state.snoozed else 0
    steps = state.snooze_steps_s
    snooze = (f"z: snooze {steps[step] / 60:.0f} min" if step < len(steps)
              else "z: end snooze")
    programme = "x: hide the programme" if programme_shown else "x: the longer programme"
    return f"{programme} · {snooze} · m: mute"


class AlertPanel(StateView, VerticalScroll):
    """Renders ``state.alert``; hidden by snooze or mute (the pipeline still records alerts)."""

    COMPONENT_CLASSES = {"alert-panel--heading", "alert-panel--reason"}
    DEFAULT_CSS = """
    AlertPanel > .alert-panel--heading { text-style: bold; }
    AlertPanel > .alert-panel--reason { text-style: italic; color: $text-muted; }
    AlertPanel #alert-title { text-style: bold; }
    AlertPanel #alert-now { text-style: bold; }
    AlertPanel #alert-keys { color: $text-muted; }
    AlertPanel #alert-disclaimer { margin-top: 1; }
    AlertPanel .alert-part { display: none; }
    AlertPanel.-visible .alert-part { display: block; }
    AlertPanel.-visible #alert-idle { display: none; }
    AlertPanel #alert-corrections { display: none; margin-top: 1; }
    AlertPanel.-visible.-programme #alert-corrections { display: block; }
    """
    programme_shown: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Static("", id="alert-idle")
        yield Static("", id="alert-title", classes="alert-part")
        yield Static("", id="alert-now", classes="alert-part")
        yield Static("", id="alert-keys", classes="alert-part")
        yield Static("", id="alert-corrections")
        yield Static(DISCLAIMER, id="alert-disclaimer", classes="alert-part")

    def watch_programme_shown(self, shown: bool) -> None:
        self.set_class(shown, "-programme")
        self.watch_state(self.state)

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
        show(self.query_one("#alert-now", Static), "\n".join(f"▸ {line}" for line in now_actions(alert)))
        show(self.query_one("#alert-keys", Static), keys_line(state, self.programme_shown))
        corrections = self.query_one("#alert-corrections", Static)
        if self.programme_shown and getattr(corrections, "_shown_key", None) != alert.pattern:
            show(corrections, correction_text(
                correction,
                self.get_component_rich_style("alert-panel--heading"),
                self.get_component_rich_style("alert-panel--reason"),
            ), key=alert.pattern)
