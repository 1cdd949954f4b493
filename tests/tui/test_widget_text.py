"""What the widgets write, from states built by hand (no app running)."""

from __future__ import annotations

import math

from rich.style import Style

from firmware_interface.samples import StreamHealth
from fusion.detection.events import SquatRep
from fusion.outputs import HoldProgress
from tui.dashboard_state import DashboardState
from tui.widgets.rep_table import LEVEL_WORDS, rep_table
from tui.widgets.why_line import why_text

HEALTH = StreamHealth(state="streaming")


def test_hold_line_reads_like_the_issue(fakes):
    output = fakes.output_at(41.0, "posterior", tilt_deg=-22.0)
    output = type(output)(**{**output.__dict__, "hold": HoldProgress("posterior", -22.0, 41.0, 60.0, -20.0)})
    state = DashboardState().with_outputs([output], HEALTH)
    assert why_text(state) == "posterior −22° for 41 of 60 s while sitting, threshold −20°"


def test_why_line_for_each_status(fakes):
    def why(status, **kwargs):
        return why_text(DashboardState().with_outputs([fakes.output_at(1.0, status, **kwargs)], HEALTH))
    assert why("uncalibrated", calibrated=False).startswith("Provisional tilt")
    assert why("paused", activity="walking") == "No posture judgement while walking."
    assert why("neutral") == "Within your neutral range."
    assert why("anterior", tilt_deg=14.0) == "anterior +14°, beyond your neutral range"
    assert why_text(DashboardState()) == "Waiting for the first samples…"


def test_rep_rows_show_unknown_wink_and_phases_as_dashes(text_of):
    reps = (SquatRep(1, 1, 0.0, 1.0, 2.0, math.nan, "not_eligible", depth_m=None, descent_s=1.2),
            SquatRep(1, 2, 3.0, 4.0, 5.0, 14.4, "flag", depth_m=0.41, descent_s=1.0, bottom_pause_s=0.25,
                     ascent_s=0.8))
    lines = text_of(rep_table(reps, {level: Style() for level in LEVEL_WORDS})).splitlines()
    # Newest first: the rep that just winked is never the one cut off.
    assert lines[1].split() == ["1·2", "14°", "◀", "BUTT", "WINK", "—", "1.0/0.2/0.8", "0.41", "m"]
    assert lines[2].split() == ["1·1", "—", "shallow", "—", "1.2/—/—", "—"]
