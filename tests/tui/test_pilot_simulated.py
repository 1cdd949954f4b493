"""The dashboard on the real pipeline and the simulator: what a user of ``tiltwatch demo`` sees."""

from __future__ import annotations

import pytest

from firmware_interface.sources import simulator_source
from fusion.corrections import correction_for
from fusion.pipeline import Pipeline
from tui.app import make_app
from tui.widgets import AlertPanel, RepTable, TiltChart, TiltGauge
from tui.widgets.tilt_chart import BUCKET_S
from tui.widgets.tilt_gauge import ZoneBar

SIZE = (120, 40)


@pytest.mark.parametrize("seed", [1, 2])
async def test_squat_session_lists_reps_sets_and_butt_wink_corrections(seed, wait_for, text_of):
    source = simulator_source("squat", seed=seed, speed=None)
    app = make_app(source, Pipeline.for_source(source.info), mode="replay")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended", timeout_s=60)
        await pilot.pause()
        state = app.state
        assert state.reps, "the simulated squat session has reps"
        assert [s.reps for s in state.sets] and sum(s.reps for s in state.sets) == len(state.reps)
        table = text_of(app.query_one(RepTable))
        last = state.reps[-1]
        assert f"{last.set}·{last.index}" in table
        flagged = [r for r in state.reps if r.butt_wink]
        if flagged:
            assert state.alert.pattern == "butt_wink"
            panel = app.query_one(AlertPanel)
            assert panel.has_class("-visible")
            assert text_of(panel.query_one("#alert-title")) == correction_for("butt_wink").title


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_moving_tilt_shows_within_5_s_then_the_neutral_is_set(seed, wait_for):
    source = simulator_source("mixed", seed=seed, speed=20.0)
    app = make_app(source, Pipeline.for_source(source.info))
    async with app.run_test(size=SIZE) as pilot:
        gauge = app.query_one(TiltGauge)
        marker = gauge.query_one(ZoneBar)  # the gauge's marker moves by tenths of a degree
        await wait_for(pilot, lambda: gauge.shown_tilt != "—", timeout_s=30)
        first_shown = marker.tilt_deg
        await wait_for(pilot, lambda: marker.tilt_deg != first_shown, timeout_s=30)
        # The chart keeps every output the screen was handed, so the first tilt shown is known
        # however late a busy machine let this test look (its polling is wall-clock).
        chart = app.query_one(TiltChart)
        assert chart.first_s - app.state.start_s < 5.0 + BUCKET_S, "a moving tilt within 5 s of stream time"
        await wait_for(pilot, lambda: not gauge.has_class("-uncalibrated"), timeout_s=30)
        assert app.state.output.quality.calibrated
        await pilot.press("q")
