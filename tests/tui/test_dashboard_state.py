"""What the dashboard keeps between batches (pure, no Textual)."""

from __future__ import annotations

import pytest

from firmware_interface.samples import StreamHealth
from fusion.detection.events import SquatRep, TiltAlert
from tui.dashboard_state import RECENT_REPS, SNOOZE_S, DashboardState

HEALTH = StreamHealth(state="streaming")


def alert(t_s: float, direction: str = "posterior") -> TiltAlert:
    return TiltAlert(t_s, direction, -22.0, 41.0, "sitting", -20.0, 40.0, t_s - 41.0)


def rep(set_: int, index: int, wink_deg: float, level: str, descent_s=1.0, ascent_s=2.0) -> SquatRep:
    return SquatRep(set_, index, 0.0, 1.0, 2.0, wink_deg, level, descent_s=descent_s, ascent_s=ascent_s)


def test_alert_is_ongoing_until_the_status_leaves_its_direction(fakes):
    state = DashboardState().with_outputs(
        [fakes.output_at(1.0), fakes.output_at(2.0, "posterior", alerts=[alert(2.0)])], HEALTH)
    assert state.alert.pattern == "posterior" and state.alert.ongoing and state.alert_visible
    assert state.tilt_alert == alert(2.0)
    state = state.with_outputs([fakes.output_at(3.0, "posterior")], HEALTH)
    assert state.alert.ongoing
    state = state.with_outputs([fakes.output_at(4.0, "neutral")], HEALTH)
    assert not state.alert.ongoing and state.alert_visible, "a resolved alert keeps its corrections"
    assert state.alerts_total == 1


def test_a_flagged_rep_raises_a_butt_wink_alert_and_mild_does_not(fakes):
    state = DashboardState().with_outputs([fakes.output_at(1.0, reps=[rep(1, 1, 6.0, "mild")])], HEALTH)
    assert state.alert is None
    state = state.with_outputs([fakes.output_at(2.0, reps=[rep(1, 2, 14.0, "flag")])], HEALTH)
    assert state.alert.pattern == "butt_wink" and not state.alert.ongoing
    assert "set 1 rep 2" in state.alert.why and "14°" in state.alert.why
    assert state.alerts_total == 1


@pytest.mark.parametrize("start_s", [0.0, 1234.5, 86_000.0])
def test_snooze_lasts_its_stream_time_then_alerts_show_again(fakes, start_s):
    state = DashboardState().with_outputs([fakes.output_at(start_s, "posterior", alerts=[alert(start_s)])], HEALTH)
    state = state.toggled_snooze()
    assert state.snoozed and not state.alert_visible
    assert state.snooze_left_s == pytest.approx(SNOOZE_S)
    state = state.with_outputs([fakes.output_at(start_s + SNOOZE_S - 1.0, "posterior")], HEALTH)
    assert not state.alert_visible and state.snooze_left_s == pytest.approx(1.0)
    state = state.with_outputs([fakes.output_at(start_s + SNOOZE_S, "posterior")], HEALTH)
    assert not state.snoozed and state.alert_visible


def test_snooze_again_resumes_and_mute_is_independent(fakes):
    state = DashboardState().with_outputs([fakes.output_at(5.0, "posterior", alerts=[alert(5.0)])], HEALTH)
    assert not state.toggled_snooze().toggled_snooze().snoozed
    muted = state.toggled_mute()
    assert muted.muted and not muted.alert_visible
    assert muted.toggled_mute().alert_visible


def test_snooze_before_any_sample_does_nothing():
    assert not DashboardState().toggled_snooze().snoozed


def test_recent_reps_are_the_last_few_and_sets_count_them_all(fakes):
    reps = [rep(1 + i // 6, 1 + i % 6, float(i), "flag" if i % 5 == 0 else "none") for i in range(12)]
    state = DashboardState().with_outputs([fakes.output_at(float(i), reps=[r]) for i, r in enumerate(reps)], HEALTH)
    assert state.recent_reps == tuple(reps[-RECENT_REPS:])
    assert [(s.set, s.reps, s.butt_wink_reps, s.max_wink_deg) for s in state.sets] == [(1, 6, 2, 5.0), (2, 6, 1, 11.0)]


def test_stream_time_span_and_activity_come_from_the_outputs(fakes):
    state = DashboardState().with_outputs(
        [fakes.output_at(10.0, activity="standing"), fakes.output_at(12.5, activity="sitting")], HEALTH)
    assert (state.start_s, state.now_s, state.activity, state.stream) == (10.0, 12.5, "sitting", "running")


def test_an_output_without_samples_brings_events_but_keeps_the_reading(fakes):
    state = DashboardState().with_outputs([fakes.output_at(1.0, "posterior", tilt_deg=-22.0, alerts=[alert(1.0)])],
                                          HEALTH)
    end = fakes.output_at(1.0, "neutral", reps=[rep(1, 1, 12.0, "flag")])
    end = type(end)(**{**end.__dict__, "t": end.t[:0], "tilt_deg": end.tilt_deg[:0], "activity": end.activity[:0],
                       "quaternion": end.quaternion[:0], "obliquity_deg": end.obliquity_deg[:0]})
    state = state.with_outputs([end], HEALTH)
    assert state.output.latest_tilt_deg == -22.0 and state.now_s == 1.0
    assert state.alert.pattern == "butt_wink" and len(state.reps) == 1
