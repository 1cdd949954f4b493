"""Guided calibration: stand still (the standing zero), optionally sit tall (the sitting zero),
optionally a few hip hinges (the pelvis's left-right axis).

The wizard asks the pipeline for each neutral and then only reads what the pipeline reports
(still time so far, the ``still`` flag, calibration notes, ``axis_known``); it never judges
stillness itself. It warns before zeroing "standing" while the dashboard reads sitting.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, ProgressBar, Static

from tui.dashboard_state import DashboardState

Step = Literal["sitting-warning", "stand", "offer-sit", "sit", "offer-hinge", "hinge", "done"]
DEFAULT_WINDOW_S = 5.0

INSTRUCTIONS: dict[Step, str] = {
    "sitting-warning": ("The dashboard reads that you are SITTING. The standing zero must be taken "
                        "standing, or every standing posture will read as tilted.\n"
                        "Stand up in your usual posture, then press enter (esc: cancel)."),
    "stand": "Stand tall in your usual relaxed posture, arms by your sides, and keep still.",
    "offer-sit": ("Standing zero set.\nOptional: sit tall in your chair, feet flat on the floor, then "
                  "press s to set the sitting zero (enter: skip)."),
    "sit": "Sit tall, feet flat, and keep still.",
    "offer-hinge": ("Optional: do three slow hip hinges (hands on hips, bend forward from the hips with "
                    "a straight back, come back up) so the left–right axis of your pelvis is found.\n"
                    "Press h to start (enter: skip)."),
    "hinge": "Hinge slowly forward from the hips and back up, three times.",
    "done": "Calibration done. Press enter to go back to the dashboard.",
}


def motion_reason(state: DashboardState) -> str | None:
    """Why the still count is not running, in words, from the latest output (None if still)."""
    output = state.output
    if output is None or output.quality.still:
        return None
    tilt = output.tilt_deg[np.isfinite(output.tilt_deg)]
    moved = float(tilt.max() - tilt.min()) if len(tilt) > 1 else math.nan
    how = f"the pelvis moved {moved:.1f}° just now" if math.isfinite(moved) and moved >= 0.5 else "the sensor is moving"
    return f"Not still: {how}. The count starts again once you keep still."


class CalibrationScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CalibrationScreen { align: center middle; }
    CalibrationScreen #wizard { width: 100%; max-width: 76; height: auto; border: round $primary;
                                padding: 0 1; background: $surface; }
    CalibrationScreen #wizard-step { text-style: bold; }
    CalibrationScreen #wizard-motion { color: $warning; text-style: bold; }
    CalibrationScreen #wizard-progress { margin: 1 0; }
    CalibrationScreen #wizard-axis { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "next", "Next / skip", id="wizard-next"),
        Binding("s", "sit", "Sitting zero", id="wizard-sit"),
        Binding("h", "hinge", "Hinges", id="wizard-hinge"),
        Binding("escape", "dismiss", "Close", id="wizard-close"),
        Binding("q", "app.quit", "Quit", show=False, id="wizard-quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.step: Step = "stand"
        self._requested: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="wizard"):
            yield Static("", id="wizard-step")
            yield Static("", id="wizard-text")
            yield ProgressBar(total=DEFAULT_WINDOW_S, show_eta=False, id="wizard-progress")
            yield Static("", id="wizard-motion")
            yield Static("", id="wizard-axis")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#wizard").border_title = "Calibration"
        state: DashboardState = self.app.state
        self._go("sitting-warning" if state.activity == "sitting" else "stand")
        self.watch(self.app, "state", self._follow, init=True)

    @property
    def window_s(self) -> float:
        settings = getattr(self.app.pipeline, "settings", None)
        return getattr(getattr(settings, "calibration", None), "window_s", DEFAULT_WINDOW_S)

    def _go(self, step: Step) -> None:
        self.step = step
        if step in ("stand", "sit"):
            self._requested = step
            if not self.app.request_calibration(step):
                self.step = "offer-hinge" if step == "sit" else "done"
        self._show(self.app.state)

    def _follow(self, state: DashboardState) -> None:
        if self.step in ("stand", "sit") and self._requested == self.step and state.calibrating is None:
            # The pipeline took the neutral (its note says so): on to the next step.
            self._requested = None
            self.step = "offer-sit" if self.step == "stand" else "offer-hinge"
        elif self.step == "hinge" and state.output is not None and state.output.quality.axis_known:
            self.step = "done"
        self._show(state)

    def _show(self, state: DashboardState) -> None:
        counting = self.step in ("stand", "sit")
        number = {"sitting-warning": "Step 1 of 3", "stand": "Step 1 of 3: standing zero",
                  "offer-sit": "Step 2 of 3: sitting zero (optional)", "sit": "Step 2 of 3: sitting zero",
                  "offer-hinge": "Step 3 of 3: hip hinges (optional)", "hinge": "Step 3 of 3: hip hinges",
                  "done": "Done"}[self.step]
        self.query_one("#wizard-step", Static).update(number)
        text = INSTRUCTIONS[self.step]
        if counting:
            left_s = max(0.0, self.window_s - state.calibration_still_s)
            text += f"\nHold still: {left_s:.0f} s to go ({state.calibration_still_s:.1f} of {self.window_s:.0f} s)."
        self.query_one("#wizard-text", Static).update(text)
        progress = self.query_one("#wizard-progress", ProgressBar)
        progress.display = counting
        progress.update(total=self.window_s, progress=min(state.calibration_still_s, self.window_s))
        self.query_one("#wizard-motion", Static).update((motion_reason(state) or "") if counting else "")
        quality = state.output.quality if state.output is not None else None
        axis = ("found from your movement ✓" if quality is not None and quality.axis_known
                else "assumed from how the sensor is worn")
        self.query_one("#wizard-axis", Static).update(f"Left–right axis: {axis}. {state.calibration_note}".strip())

    def action_next(self) -> None:
        if self.step == "sitting-warning":
            self._go("stand")
        elif self.step in ("offer-sit", "sit"):
            self._go("offer-hinge")
        elif self.step in ("offer-hinge", "hinge", "done"):
            self.dismiss()

    def action_sit(self) -> None:
        if self.step == "offer-sit":
            self._go("sit")

    def action_hinge(self) -> None:
        if self.step == "offer-hinge":
            self._go("hinge")
