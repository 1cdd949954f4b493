"""Whether the zero is set and can be trusted: calibration, axis, slipped sensor."""

from __future__ import annotations

from textual.widgets import Static

from tui.dashboard_state import DashboardState
from tui.widgets._state_view import StateView, show

CALIBRATION_POSTURES = {"stand": "standing", "sit": "sitting"}


def calibration_lines(state: DashboardState) -> list[str]:
    output = state.output
    quality = output.quality if output is not None else None
    lines = []
    if state.calibrating:
        posture = CALIBRATION_POSTURES[state.calibrating]
        lines.append(f"Setting the {posture} neutral: hold still ({state.calibration_still_s:.1f} s so far)")
    elif quality is not None and quality.calibrated:
        note = f"{state.calibration_note} · " if state.calibration_note else "Neutral set · "
        lines.append(f"{note}c re-zero standing · s sitting")
    else:
        lines.append("No neutral yet · c standing · s sitting")
    if quality is not None:
        axis = "found" if quality.axis_known else "assumed from mounting"
        lines.append(f"Left-right axis {axis}")
        if quality.sensor_slipped:
            lines.append("⚠ sensor slipped: re-zero (c)")
    return lines


class CalibrationStatus(StateView, Static):
    """Renders the quality flags of the latest output and any pending calibration request."""

    def watch_state(self, state: DashboardState) -> None:
        show(self, "\n".join(calibration_lines(state)))
        quality = state.output.quality if state.output is not None else None
        self.set_class(quality is not None and quality.sensor_slipped, "-slipped")
        self.set_class(quality is None or not quality.calibrated, "-uncalibrated")
        self.set_class(state.calibrating is not None, "-calibrating")
