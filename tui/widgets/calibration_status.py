"""Whether the zero is set and can be trusted, in one line: slipped sensor, calibration, axis."""

from __future__ import annotations

from textual.widgets import Static

from tui.dashboard_state import DashboardState
from tui.widgets._state_view import StateView, show

CALIBRATION_POSTURES = {"stand": "standing", "sit": "sitting"}


def calibration_line(state: DashboardState) -> str:
    """The most important calibration fact now (a slipped sensor first)."""
    output = state.output
    quality = output.quality if output is not None else None
    if quality is not None and quality.sensor_slipped:
        return "⚠ the sensor seems to have slipped: press c to re-calibrate"
    if state.calibrating:
        posture = CALIBRATION_POSTURES[state.calibrating]
        return f"Setting the {posture} zero: hold still ({state.calibration_still_s:.1f} s)"
    if quality is None or not quality.calibrated:
        return "No zero yet: press c to calibrate"
    note = state.calibration_note or "zero set"
    if "axis" in note:
        return note
    return f"{note} · {'axis found' if quality.axis_known else 'axis assumed'}"


class CalibrationStatus(StateView, Static):
    """Renders the quality flags of the latest output and any pending calibration request."""

    def watch_state(self, state: DashboardState) -> None:
        show(self, calibration_line(state))
        quality = state.output.quality if state.output is not None else None
        self.set_class(quality is not None and quality.sensor_slipped, "-slipped")
        self.set_class(quality is None or not quality.calibrated, "-uncalibrated")
        self.set_class(state.calibrating is not None, "-calibrating")
