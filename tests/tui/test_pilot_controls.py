"""The dashboard's keys: replay controls, views, the calibration wizard refusing motion."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.samples import SampleBatch, SourceInfo
from tests.tui.conftest import RATE_HZ, FakePipeline, FakeSource, tilt_batches, wait_until
from tests.tui.snapshot_apps import squat_app
from tui.app import make_app
from tui.replay_source import SPEEDS, ControlledReplay
from tui.screens.calibration import CalibrationScreen
from tui.widgets import TiltChart
from tui.widgets.replay_bar import ReplayBar

SIZE = (120, 40)


def _replay(seconds: float = 120.0, speed: float = 1.0) -> ControlledReplay:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    acc = np.zeros((len(t), 3))
    acc[:, 0] = np.where((t % 60) > 45, -22.0, 0.0)  # 15 s tucked under each minute: an alert after 5 s
    info = SourceInfo(device="session.csv", profile="recording", sample_rate_hz=RATE_HZ)
    return ControlledReplay(SampleBatch(t, acc, np.zeros((len(t), 3))), info, speed=speed)


def _replay_app(source: ControlledReplay):
    pipelines = []

    def new_pipeline() -> FakePipeline:
        pipelines.append(FakePipeline(hold_s=5.0))
        return pipelines[-1]

    return make_app(source, new_pipeline(), mode="replay", pipeline_factory=new_pipeline), pipelines


async def test_replay_pause_speed_and_seek_forward_and_back():
    source = _replay()
    source.paused = True
    app, pipelines = _replay_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right")  # +10 s while paused: fast-forwarded, still paused
        await wait_until(pilot, lambda: app.state.position_s >= 9.9)
        assert source.paused and app.state.replay.paused
        await pilot.pause(0.3)
        assert app.state.position_s < 10.1, "a paused replay does not move"
        await pilot.press("]")  # +1 min
        await wait_until(pilot, lambda: app.state.position_s >= 69.9)
        shown = str(app.query_one(ReplayBar).render())
        assert "paused 01:09 / 01:59 · ×1" in shown or "paused 01:10 / 01:59 · ×1" in shown
        for expected in (2.0, 5.0):
            await pilot.press("plus")
            assert source.speed == expected and app.state.replay.speed == expected
        await pilot.press("minus", "minus", "minus", "minus")
        assert source.speed == SPEEDS[0] == 0.5
        first = app.pipeline
        await pilot.press("left")  # back 10 s: a fresh pipeline takes the recording again
        await wait_until(pilot, lambda: app.pipeline is not first and app.state.now_s is not None
                         and app.state.position_s >= 59.9)
        assert app.state.position_s < 60.1
        # The chart starts over too, from the samples the new pipeline has shown: 0 to 60 s.
        assert abs(app.query_one(TiltChart).samples - (60 * RATE_HZ + 1)) <= 1
        assert app.state.alerts_total == 1  # the one at 00:50, raised again by the fresh pipeline
        await pilot.press("space")
        assert not source.paused
        await wait_until(pilot, lambda: app.state.position_s > 60.5, timeout_s=10)


async def test_jump_to_the_next_alert_lands_just_before_it():
    source = _replay()
    source.paused = True
    app, _ = _replay_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.replay_events is not None, timeout_s=20)
        # The fake alerts 5 s into each tucked-under stretch: at 50 s and 110 s.
        assert [round(t) for t in app.replay_events.alerts_s] == [50, 110]
        await pilot.press("n")
        await wait_until(pilot, lambda: app.state.position_s >= 46.9)
        assert app.state.alerts_total == 0
        await pilot.press("space")  # play on: the alert arrives within the lead time
        await wait_until(pilot, lambda: app.state.alerts_total == 1, timeout_s=15)
        await pilot.press("space", "n")
        await wait_until(pilot, lambda: app.state.position_s >= 106.9)


async def test_view_key_cycles_desk_squat_auto_and_the_squat_view_leads_with_reps():
    app = squat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        assert app.state.view_mode == "auto" and app.screen.has_class("-squat-focus")
        assert app.query_one("#squat").display
        await pilot.press("v")  # auto -> desk
        await pilot.pause()
        assert app.state.view_mode == "desk" and not app.screen.has_class("-squat-focus")
        assert not app.query_one("#squat").display and app.query_one("#reps").display
        await pilot.press("v")  # desk -> squat
        assert app.state.view_mode == "squat" and app.screen.has_class("-squat-focus")
        # In a set the descent's forward tilt is not a warning: no ANTERIOR TILT word.
        assert "ANTERIOR" not in str(app.query_one("#tilt-status").render())


async def test_calibration_refuses_motion_with_the_reason_then_completes_when_still():
    tilt = np.concatenate([np.linspace(0, 8, 50), np.zeros(50)])
    source = FakeSource(tilt_batches(tilt, chunk=10), gated=True)
    pipeline = FakePipeline()  # a re-zero: the tilt against the old zero shows the movement
    pipeline.still = False
    app = make_app(source, pipeline)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")  # nothing read yet: not sitting, so it asks for the standing zero
        wizard = app.screen
        assert isinstance(wizard, CalibrationScreen) and wizard.step == "stand"
        assert pipeline.requests == ["stand"]
        source.release(3)
        await wait_until(pilot, lambda: app.state.output is not None and app.state.now_s >= 29 / RATE_HZ)
        await pilot.pause()
        motion = str(wizard.query_one("#wizard-motion").render())
        assert motion.startswith("Not still: the pelvis moved") and "count starts again" in motion
        assert app.state.calibrating == "stand"
        pipeline.still = True
        source.release(5)
        await wait_until(pilot, lambda: wizard.step == "offer-sit")
        assert str(wizard.query_one("#wizard-motion").render()) == ""


async def test_replay_of_a_sample_recording_jumps_to_the_next_rep_through_the_real_pipeline():
    from fusion.pipeline import Pipeline
    from tui.replay_source import controlled_replay

    source = controlled_replay("recordings/squat-session.csv", speed=1.0)
    source.paused = True

    def new_pipeline() -> Pipeline:
        return Pipeline.for_source(source.info)

    app = make_app(source, new_pipeline(), mode="replay", pipeline_factory=new_pipeline)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.replay_events is not None, timeout_s=120)
        reps_s = app.replay_events.reps_s
        assert reps_s, "the sample squat session has reps"
        await pilot.press("r")
        # The pipeline holds back less than a show hop of the samples read.
        await wait_until(pilot, lambda: app.state.position_s >= reps_s[0] - 3.0 - Pipeline.SHOW_HOP_S, timeout_s=60)
        await pilot.press("space")  # play: the rep the jump aimed at is counted within a few seconds
        await wait_until(pilot, lambda: len(app.state.reps) >= 1, timeout_s=60)
        assert app.state.reps[0].start_s - float(source.batch.t[0]) == pytest.approx(reps_s[0], abs=0.01)


def test_desktop_notifications_are_optional():
    from tui.desktop_notify import DesktopNotifier

    class NoWorkers:
        def run_worker(self, *args, **kwargs):
            raise AssertionError("nothing is sent when notifications are off")

    notifier = DesktopNotifier(enabled=False)
    assert not notifier.available
    notifier.send(NoWorkers(), "Anterior tilt", "why")  # a no-op, never an error


async def test_a_slipped_sensor_prompts_once_for_a_recalibration():
    source = FakeSource(tilt_batches(np.zeros(100), chunk=10), gated=True)
    pipeline = FakePipeline()
    app = make_app(source, pipeline)
    async with app.run_test(size=SIZE) as pilot:
        source.release()
        await wait_until(pilot, lambda: app.state.output is not None)
        pipeline.slipped = True
        source.release(3)
        await wait_until(pilot, lambda: app.state.now_s is not None and app.state.now_s >= 39 / RATE_HZ)
        await pilot.pause()
        prompts = [n for n in app._notifications if "slipped" in n.message]
        assert len(prompts) == 1 and "press c" in prompts[0].message
        assert str(app.query_one("#calibration").render()).startswith("⚠ the sensor seems to have slipped")
