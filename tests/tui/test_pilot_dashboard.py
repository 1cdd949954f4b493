"""The dashboard's behaviour, driven by Pilot on a fixed terminal size (fakes in conftest.py)."""

from __future__ import annotations


import numpy as np
import pytest

from fusion.corrections import DISCLAIMER, correction_for
from tui.app import make_app
from tui.screens.calibration import CalibrationScreen
from tui.screens.summary import SummaryScreen
from tui.widgets._format import signed_deg
from tui.widgets import AlertPanel, CalibrationStatus, LinkStatus, TiltChart, TiltGauge, WhyLine

SIZE = (120, 40)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_shown_tilt_follows_each_batch(fakes, seed, wait_for, text_of):
    rng = np.random.default_rng(seed)
    tilt = rng.uniform(-8, 8, 40)
    source = fakes.source(fakes.tilt_batches(tilt, chunk=10), gated=True)
    app = make_app(source, fakes.pipeline())
    async with app.run_test(size=SIZE) as pilot:
        gauge = app.query_one(TiltGauge)
        assert gauge.shown_tilt == "—"
        for batch_index in range(4):
            source.release()
            await wait_for(pilot, lambda: app.state.output is not None
                           and app.state.output.t[-1] == (batch_index * 10 + 9) / fakes.rate_hz)
            expected = signed_deg(tilt[batch_index * 10 + 9])
            assert gauge.shown_tilt == expected
            assert gauge.has_class("-neutral")
        assert app.query_one(TiltChart).samples == 40


async def test_sustained_posterior_tilt_shows_alert_with_corrections_and_disclaimer(fakes, wait_for, text_of):
    # 1 s neutral, then 4 s at -22°: the fake pipeline alerts after its 2 s hold.
    tilt = np.concatenate([np.full(50, 1.0), np.full(200, -22.0)])
    pipeline = fakes.pipeline(hold_s=2.0)
    app = make_app(fakes.source(fakes.tilt_batches(tilt)), pipeline)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        gauge = app.query_one(TiltGauge)
        assert gauge.has_class("-posterior")
        panel = app.query_one(AlertPanel)
        assert panel.has_class("-visible") and panel.has_class("-ongoing")
        assert "posterior tilt -22° for 2 s while sitting" in text_of(app.query_one(WhyLine))
        posterior = correction_for("posterior")
        assert text_of(panel.query_one("#alert-title")) == posterior.title
        now = text_of(panel.query_one("#alert-now"))
        assert "sitting bones" in now and "walk for a minute" in now  # what helps in the chair now
        assert not panel.query_one("#alert-corrections").display  # the programme is one key away
        await pilot.press("x")
        await pilot.pause()
        assert panel.query_one("#alert-corrections").display
        corrections = text_of(panel.query_one("#alert-corrections"))
        for section in posterior.sections:
            for item in section.items:
                assert item.text in corrections
        anterior_only = {i.text for s in correction_for("anterior").sections for i in s.items} - {
            i.text for s in posterior.sections for i in s.items}
        assert not any(text in corrections for text in anterior_only)
        assert text_of(panel.query_one("#alert-disclaimer")) == DISCLAIMER
        shown = [w for w in app.query("Static, Label") if DISCLAIMER in text_of(w)]
        assert len(shown) == 1, "the disclaimer is shown once"


async def test_hold_progress_is_explained_before_the_alert(fakes, wait_for, text_of):
    tilt = np.full(60, 15.0)  # 1.2 s anterior: under the 2 s hold
    app = make_app(fakes.source(fakes.tilt_batches(tilt)), fakes.pipeline(hold_s=2.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        why = app.query_one(WhyLine)
        assert why.has_class("-holding")
        assert str(why.render()) == "anterior +15° for 1 of 2 s while sitting, threshold +10°"
        assert not app.query_one(AlertPanel).has_class("-visible")


async def test_c_and_s_request_calibration_and_keep_it_in_the_recording(fakes, wait_for, text_of):
    source = fakes.source(fakes.tilt_batches(np.zeros(100)), gated=True)
    pipeline = fakes.pipeline(calibrated=False)
    recorder = fakes.recorder()
    app = make_app(source, pipeline, recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        source.release()
        await wait_for(pilot, lambda: app.state.output is not None)
        assert app.query_one(TiltGauge).has_class("-uncalibrated")
        await pilot.press("s")  # a sitting neutral needs a standing one first
        assert pipeline.requests == [] and recorder.metadata == []
        assert any(n.severity == "warning" and "standing first" in n.message for n in app._notifications)
        await pilot.press("c")  # the wizard: the dashboard reads sitting, so it warns first
        wizard = app.screen
        assert isinstance(wizard, CalibrationScreen) and wizard.step == "sitting-warning"
        assert "SITTING" in text_of(wizard.query_one("#wizard-text")) and pipeline.requests == []
        await pilot.press("enter")  # stood up: zero standing
        assert pipeline.requests == ["stand"]
        assert app.state.calibrating == "stand"
        assert app.query_one(CalibrationStatus).has_class("-calibrating")
        source.release()
        await wait_for(pilot, lambda: app.state.calibrating is None)
        await wait_for(pilot, lambda: wizard.step == "offer-sit")
        (key, entry), = recorder.metadata
        assert key == "calibration" and entry["note"] == "stand neutral set"
        assert entry["still_window_s"] == [0.1, 0.18] and entry["sit_up_sensor"] is None
        assert app.query_one(TiltGauge).has_class("-neutral")
        assert text_of(app.query_one(CalibrationStatus)).startswith("stand neutral set")
        await pilot.press("s")
        assert pipeline.requests == ["stand", "sit"]
        assert app.state.calibrating == "sit" and wizard.step == "sit"
        source.release()
        await wait_for(pilot, lambda: wizard.step == "offer-hinge")
        await pilot.press("enter")  # skip the hinges
        assert not isinstance(app.screen, CalibrationScreen)


async def test_snooze_hides_the_alert_and_pressing_again_shows_it(fakes, wait_for, text_of):
    tilt = np.concatenate([np.zeros(10), np.full(150, -25.0)])
    app = make_app(fakes.source(fakes.tilt_batches(tilt)), fakes.pipeline(hold_s=1.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        panel = app.query_one(AlertPanel)
        assert panel.has_class("-visible")
        for minutes in (5, 15, 60):
            await pilot.press("z")
            assert not panel.has_class("-visible")
            assert app.state.snooze_left_s == minutes * 60
            assert "snoozed" in text_of(panel.query_one("#alert-idle"))
        await pilot.press("z")
        assert panel.has_class("-visible")
        await pilot.press("m")
        assert not panel.has_class("-visible")
        assert "muted" in text_of(panel.query_one("#alert-idle"))


async def test_q_exits_with_the_recorder_closed_after_every_sample(quit_app, fakes, wait_for, text_of):
    batches = fakes.tilt_batches(np.zeros(500))
    source = fakes.source(batches, gated=True)
    recorder = fakes.recorder()
    app = make_app(source, fakes.pipeline(), recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        source.release(30)
        await wait_for(pilot, lambda: recorder.samples == 150)
        await quit_app(pilot)  # through the summary
    assert recorder.closed == 1
    assert recorder.samples == 150
    assert app.return_code == 0


async def test_source_error_is_a_notification_and_a_status_line_not_a_traceback(fakes, wait_for, text_of):
    from firmware_interface.errors import SensorNotFoundError

    source = fakes.source(fakes.tilt_batches(np.zeros(20)), fail_with=SensorNotFoundError("WT9*", 10))
    app = make_app(source, fakes.pipeline())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "failed")
        await pilot.pause()
        assert app.is_running
        link = app.query_one(LinkStatus)
        assert link.has_class("-trouble")
        assert "no sensor matching 'WT9*'" in text_of(link)
        assert any(n.severity == "error" and "WT9*" in n.message for n in app._notifications)


async def test_replay_end_keeps_the_app_open_and_says_ended(fakes, wait_for, text_of):
    app = make_app(fakes.source(fakes.tilt_batches(np.zeros(25))), fakes.pipeline(), mode="replay")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        assert app.is_running
        link_text = text_of(app.query_one(LinkStatus))
        assert "ended" in link_text and "▶ 00:00" in link_text
        assert isinstance(app.screen, SummaryScreen)  # the session's summary; esc goes back
        await pilot.press("escape")
        assert not isinstance(app.screen, SummaryScreen) and app.is_running


async def test_a_fast_replay_loses_no_alert_and_no_chart_sample(fakes, wait_for, text_of):
    # Ten episodes of 3 s at -22° (alerting after the 2 s hold), 1 s neutral between them.
    cycle = np.concatenate([np.full(150, -22.0), np.zeros(50)])
    tilt = np.tile(cycle, 10)
    app = make_app(fakes.source(fakes.tilt_batches(tilt)), fakes.pipeline(hold_s=2.0), mode="replay")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        assert app.state.alerts_total == 10
        assert app.query_one(TiltChart).samples == len(tilt)


async def test_replay_shows_position_duration_and_speed_when_the_source_tells_them(fakes, wait_for, text_of):
    source = fakes.source(fakes.tilt_batches(np.zeros(100), chunk=10), gated=True)
    source.speed, source.duration_s = 2.0, 125.0
    app = make_app(source, fakes.pipeline(), mode="replay")
    async with app.run_test(size=SIZE) as pilot:
        source.release(10)
        await wait_for(pilot, lambda: app.state.now_s == 99 / fakes.rate_hz)
        assert "▶ 00:01 / 02:05 ×2" in text_of(app.query_one(LinkStatus))


async def test_q_leaves_a_readable_recording_with_every_sample_and_the_calibration(quit_app, fakes, wait_for, tmp_path):
    from firmware_interface.recording import RecordingWriter, read_recording

    tilt = np.random.default_rng(7).normal(0, 3, 300)
    source = fakes.source(fakes.tilt_batches(tilt), gated=True)
    path = tmp_path / "session.csv"
    writer = RecordingWriter(path, source.info)
    app = make_app(source, fakes.pipeline(calibrated=False), recorder=writer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        source.release(40)
        await wait_for(pilot, lambda: writer.samples_written == 200)
        await quit_app(pilot)  # through the summary
    assert writer.closed
    recording = read_recording(path)
    np.testing.assert_allclose(recording.batch.acc[:, 0], tilt[:200], rtol=5e-7)  # 7 significant digits
    assert [c["note"] for c in recording.metadata["calibration"]] == ["stand neutral set"]


async def test_link_status_shows_rate_loss_gaps_and_battery(fakes, wait_for, text_of):
    from firmware_interface.samples import Marker, StreamHealth

    source = fakes.source(fakes.tilt_batches(np.zeros(20)), gated=True)
    app = make_app(source, fakes.pipeline())
    async with app.run_test(size=SIZE) as pilot:
        source.release()
        await wait_for(pilot, lambda: app.state.output is not None)
        source.next_health = StreamHealth(state="reconnecting", rate_hz=97.5, loss_pct=2.5, gaps=3,
                                     last_gap=Marker(10.0, "gap", end_s=11.25), battery_pct=41,
                                     message="reconnecting in 2 s (attempt 3)")
        source.release()
        await wait_for(pilot, lambda: app.state.health.state == "reconnecting")
        await pilot.pause()
        link = app.query_one(LinkStatus)
        text = text_of(link)
        # The loss is that of the samples received, as `tiltwatch info` counts it in the recording.
        lines = text.splitlines()
        # Trouble first, so a short panel never loses it.
        assert lines[0] == "⚠ reconnecting: reconnecting in 2 s (attempt 3)"
        for expected in ("Fake IMU (sim, 50 Hz)", "reconnecting 98 Hz · loss 0.0%",
                         "gaps 3 (last 1.2 s) · bad 0 · batt 41%"):
            assert expected in text
        assert link.has_class("-trouble")
        assert link.has_class("-trouble")
