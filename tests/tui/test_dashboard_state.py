"""What the dashboard keeps between batches (pure, no Textual)."""

from __future__ import annotations

import pytest

from firmware_interface.samples import StreamHealth
from fusion.detection.events import SquatRep, TiltAlert
from tui.dashboard_state import RECENT_REPS, SET_LINGER_S, SNOOZE_STEPS_S, DashboardState

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
@pytest.mark.parametrize("presses", [1, 2, 3])
def test_snooze_lasts_its_stream_time_then_alerts_show_again(fakes, start_s, presses):
    state = DashboardState().with_outputs([fakes.output_at(start_s, "posterior", alerts=[alert(start_s)])], HEALTH)
    for _ in range(presses):
        state = state.toggled_snooze()
    snooze_s = SNOOZE_STEPS_S[presses - 1]
    assert snooze_s == (5 * 60, 15 * 60, 60 * 60)[presses - 1]
    assert state.snoozed and not state.alert_visible
    assert state.snooze_left_s == pytest.approx(snooze_s)
    state = state.with_outputs([fakes.output_at(start_s + snooze_s - 1.0, "posterior")], HEALTH)
    assert not state.alert_visible and state.snooze_left_s == pytest.approx(1.0)
    state = state.with_outputs([fakes.output_at(start_s + snooze_s, "posterior")], HEALTH)
    assert not state.snoozed and state.alert_visible


def test_snooze_after_the_longest_resumes_and_mute_is_independent(fakes):
    state = DashboardState().with_outputs([fakes.output_at(5.0, "posterior", alerts=[alert(5.0)])], HEALTH)
    assert not state.toggled_snooze().toggled_snooze().toggled_snooze().toggled_snooze().snoozed
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


def test_squat_focus_follows_the_view_mode_and_a_set_under_way(fakes):
    standing = DashboardState().with_outputs([fakes.output_at(1.0, activity="standing")], HEALTH)
    assert not standing.squat_focus and standing.with_view_mode("squat").squat_focus
    squatting = standing.with_outputs([fakes.output_at(2.0, "anterior", activity="squatting")], HEALTH)
    assert squatting.squat_focus and not squatting.with_view_mode("desk").squat_focus
    after_rep = standing.with_outputs([fakes.output_at(3.0, activity="standing", reps=[rep(1, 1, 2.0, "none")])],
                                      HEALTH)
    assert after_rep.squat_focus  # resting between reps
    later = after_rep.with_outputs([fakes.output_at(3.0 + SET_LINGER_S + 1.0, activity="standing")], HEALTH)
    assert not later.squat_focus


def test_thresholds_are_the_current_activitys_and_zone_time_adds_up_in_any_batches(fakes):
    import numpy as np
    from dataclasses import replace as dc_replace

    from fusion.detection.sustained_tilt import SustainedTiltParams, time_in_zone

    params = SustainedTiltParams()
    rng = np.random.default_rng(4)
    t = np.arange(400) / 50.0
    tilt = rng.uniform(-30, 30, len(t))
    activity = np.where(np.arange(len(t)) < 200, "sitting", "standing").astype(object)
    whole = time_in_zone(t, tilt, activity, params)
    outputs = []
    for a, b in ((0, 7), (7, 150), (150, 151), (151, 400)):
        one = fakes.output_at(0.0)
        outputs.append(dc_replace(one, t=t[a:b], tilt_deg=tilt[a:b], activity=activity[a:b],
                                  obliquity_deg=np.zeros(b - a), quaternion=np.zeros((b - a, 4))))
    state = DashboardState(tilt_params=params).with_outputs(outputs, HEALTH)
    for name in ("sitting", "standing"):
        for zone in ("neutral", "anterior", "posterior"):
            assert state.zone_time_s[name][zone] == pytest.approx(whole[name][zone])
    assert (state.thresholds.anterior_deg, state.thresholds.posterior_deg) == params.thresholds_deg("standing")
    assert state.thresholds.zone(params.standing_anterior_deg + 1) == "anterior"
