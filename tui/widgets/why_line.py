"""One line that says why the dashboard looks the way it does: the hold under way or the last alert."""

from __future__ import annotations

from textual.widgets import Static

from tui.dashboard_state import DashboardState
from tui.widgets._format import clock, signed_deg
from tui.widgets._state_view import StateView, show


def why_text(state: DashboardState) -> str:
    output = state.output
    if output is None:
        return "Waiting for the first samples…"
    if output.status == "uncalibrated":
        return ("Provisional tilt, against your first pose: stand still in your neutral posture "
                "and that becomes zero.")
    if output.hold is not None:
        hold = output.hold
        activity = f" while {state.activity}" if state.activity else ""
        return (f"{hold.direction} {signed_deg(hold.angle_deg)} for {hold.elapsed_s:.0f} of "
                f"{hold.hold_s:.0f} s{activity}, threshold {signed_deg(hold.threshold_deg)}")
    if state.squat_focus and output.status != "posterior":
        return "Squat set: leaning forward going down is normal; butt wink is checked per rep."
    if output.status == "paused":
        return f"No posture judgement while {state.activity or 'moving'}."
    if output.status in ("anterior", "posterior"):
        alert = state.tilt_alert
        if alert is not None and alert.direction == output.status:
            return f"Alerted: {alert.why}"
        return f"{output.status} {signed_deg(output.latest_tilt_deg)}, beyond your neutral range"
    if state.alert is not None and state.now_s is not None:
        return f"Within your neutral range. Last alert {clock(state.now_s - state.alert.t_s)} ago: {state.alert.why}"
    return "Within your neutral range."


class WhyLine(StateView, Static):
    """Renders the hold progress (``HoldProgress``) or the reason for the current state."""

    DEFAULT_CSS = """
    WhyLine { height: auto; max-height: 2; }
    """

    def watch_state(self, state: DashboardState) -> None:
        show(self, why_text(state))
        self.set_class(state.output is not None and state.output.hold is not None, "-holding")
