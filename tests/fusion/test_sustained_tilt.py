"""Sustained-tilt detector: thresholds, hysteresis, hold, fidgets, re-alerts, stand-ups, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.errors import UsageError
from fusion.detection.sustained_tilt import (
    SustainedTiltDetector, SustainedTiltParams, detect_sustained_tilt)

RATE_HZ = 50.0


def _timeline(*pieces: tuple[float, float, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate (duration_s, tilt_deg, activity) pieces into sample arrays."""
    t, tilt, act = [], [], []
    start = 0.0
    for duration_s, angle, activity in pieces:
        n = int(round(duration_s * RATE_HZ))
        t.append(start + np.arange(n) / RATE_HZ)
        tilt.append(np.full(n, angle, dtype=float))
        act.append(np.full(n, activity, dtype=object))
        start += n / RATE_HZ
    return np.concatenate(t), np.concatenate(tilt), np.concatenate(act).astype(str)


def _noisy(tilt: np.ndarray, seed: int, sd_deg: float = 0.7) -> np.ndarray:
    return tilt + np.random.default_rng(seed).normal(0.0, sd_deg, len(tilt))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slumped_sitting_alerts_after_hold_and_episode_starts_at_crossing(seed):
    t, tilt, act = _timeline((10, 0, "standing"), (20, -12, "sitting"), (120, -26, "sitting"),
                             (30, -12, "sitting"))
    episodes, alerts = detect_sustained_tilt(t, _noisy(tilt, seed), act)
    assert len(episodes) == 1 and len(alerts) == 1
    ep = episodes[0]
    assert ep.direction == "posterior" and ep.activity == "sitting"
    assert ep.start_s == pytest.approx(30.0, abs=0.1)
    assert ep.end_s == pytest.approx(150.0, abs=0.1)
    assert ep.threshold_deg == -20.0 and ep.peak_deg < -26.0
    alert = alerts[0]
    assert alert.t_s == pytest.approx(90.0, abs=0.1)  # crossing + 60 s hold
    assert alert.duration_s == pytest.approx(60.0, abs=0.1)
    assert "posterior" in alert.why and "sitting" in alert.why and "-20" in alert.why


def test_shorter_than_hold_reports_hold_progress_but_no_episode():
    det = SustainedTiltDetector()
    t, tilt, act = _timeline((10, 0, "standing"), (20, 14, "standing"))
    out = det.update(t, tilt, act)
    assert out.episodes == () and out.alerts == ()
    assert out.status == "anterior"
    assert out.hold is not None and out.hold.direction == "anterior"
    assert out.hold.elapsed_s == pytest.approx(20.0, abs=0.05) and out.hold.hold_s == 30.0
    assert det.finish().episodes == ()


@pytest.mark.parametrize("seed", [3, 4])
def test_fidget_shorter_than_tolerance_keeps_the_episode(seed):
    # Standing anterior 14° with a 3 s fidget back to neutral after 20 s: hold still counts from 10 s.
    t, tilt, act = _timeline((10, 0, "standing"), (20, 14, "standing"), (3, 2, "standing"),
                             (30, 14, "standing"), (10, 0, "standing"))
    episodes, alerts = detect_sustained_tilt(t, _noisy(tilt, seed, 0.3), act)
    assert len(episodes) == 1 and len(alerts) == 1
    assert episodes[0].start_s == pytest.approx(10.0, abs=0.1)
    assert alerts[0].t_s == pytest.approx(40.0, abs=0.1)


def test_return_longer_than_tolerance_ends_the_candidate():
    t, tilt, act = _timeline((10, 0, "standing"), (20, 14, "standing"), (6, 2, "standing"),
                             (20, 14, "standing"), (10, 0, "standing"))
    episodes, alerts = detect_sustained_tilt(t, tilt, act)
    assert episodes == () and alerts == ()


def test_hysteresis_keeps_a_reported_episode_alive_just_inside_threshold():
    # 9° is inside the 10° threshold but within the 3° hysteresis: once reported (35 s beyond a
    # 30 s hold) the episode is not "back inside" there.
    t, tilt, act = _timeline((5, 0, "standing"), (35, 12, "standing"), (30, 9, "standing"),
                             (10, 0, "standing"))
    episodes, alerts = detect_sustained_tilt(t, tilt, act)
    assert len(episodes) == 1 and len(alerts) == 1
    assert episodes[0].end_s == pytest.approx(70.0, abs=0.05)
    # Starting needs the real threshold: hovering at 9° never starts one.
    t, tilt, act = _timeline((5, 0, "standing"), (60, 9, "standing"))
    assert detect_sustained_tilt(t, tilt, act) == ((), ())


def test_hovering_at_the_threshold_is_not_sustained():
    # Beyond for 20 s, then 40 s just inside (within the hysteresis band): the hold time was never
    # spent beyond the threshold, so nothing is reported (the "80 % of the hold beyond" rule).
    t, tilt, act = _timeline((5, 0, "standing"), (20, 12, "standing"), (40, 9, "standing"),
                             (10, 0, "standing"))
    assert detect_sustained_tilt(t, tilt, act) == ((), ())


def test_episode_ends_when_the_wearer_stands_up():
    # Slumped for 2 min, then a 2 s transition and standing at the same reading: the sitting
    # episode ends when the transition starts, and standing is judged against its own thresholds.
    t, tilt, act = _timeline((5, 0, "standing"), (120, -25, "sitting"), (2, 10, "other"),
                             (60, -9, "standing"))
    episodes, alerts = detect_sustained_tilt(t, tilt, act)
    sitting = [e for e in episodes if e.activity == "sitting"]
    standing = [e for e in episodes if e.activity == "standing"]
    assert len(sitting) == 1 and sitting[0].end_s == pytest.approx(125.0, abs=0.05)
    assert len(standing) == 1 and standing[0].start_s == pytest.approx(127.0, abs=0.05)
    assert standing[0].threshold_deg == -8.0
    assert [a.activity for a in alerts] == ["sitting", "standing"]


def test_no_judgement_while_walking_or_uncalibrated():
    t, tilt, act = _timeline((120, 20, "walking"), (120, 20, "lying"), (60, 20, "squatting"))
    assert detect_sustained_tilt(t, tilt, act) == ((), ())
    det = SustainedTiltDetector()
    assert det.update(t[:100], tilt[:100], act[:100]).status == "paused"
    t, tilt, act = _timeline((120, np.nan, "sitting"))
    out = SustainedTiltDetector().update(t, tilt, act)
    assert out.status == "uncalibrated" and out.episodes == ()


def test_sitting_reference_moves_the_thresholds():
    # -15° vs standing is fine with no sitting calibration (threshold -20°), but with an upright
    # sitting neutral at -2° it is 13° slumped from it (threshold -10° from the reference).
    t, tilt, act = _timeline((5, 0, "standing"), (90, -15, "sitting"))
    assert detect_sustained_tilt(t, tilt, act) == ((), ())
    episodes, alerts = detect_sustained_tilt(t, tilt, act, sitting_reference_deg=-2.0)
    assert len(episodes) == 1 and episodes[0].threshold_deg == pytest.approx(-12.0)
    assert len(alerts) == 1


def test_re_alert_interval_within_a_long_episode_and_after_a_new_one():
    # A long episode reminds every re_alert_s.
    t, tilt, act = _timeline((5, 0, "sitting"), (300, -25, "sitting"), (10, -10, "sitting"))
    _, alerts = detect_sustained_tilt(t, tilt, act, params=SustainedTiltParams(re_alert_s=120.0))
    assert [a.t_s for a in alerts] == pytest.approx([65.0, 185.0], abs=0.05)
    # A new episode soon after an alert is recorded, but its alert waits for the interval.
    t, tilt, act = _timeline((5, 0, "sitting"), (245, -25, "sitting"), (10, -10, "sitting"),
                             (200, -25, "sitting"))
    episodes, alerts = detect_sustained_tilt(t, tilt, act, params=SustainedTiltParams(re_alert_s=300.0))
    assert len(episodes) == 2 and episodes[1].start_s == pytest.approx(260.0, abs=0.05)
    assert [a.t_s for a in alerts] == pytest.approx([65.0, 365.0], abs=0.05)


def test_streaming_in_small_batches_equals_one_batch():
    rng = np.random.default_rng(7)
    t, tilt, act = _timeline((5, 0, "standing"), (100, -24, "sitting"), (4, -12, "sitting"),
                             (80, -24, "sitting"), (3, 5, "other"), (50, 13, "standing"))
    tilt = _noisy(tilt, 7, 1.5)
    whole, whole_alerts = detect_sustained_tilt(t, tilt, act)
    det = SustainedTiltDetector()
    episodes, alerts = {}, []
    i = 0
    while i < len(t):
        n = int(rng.integers(1, 200))
        out = det.update(t[i:i + n], tilt[i:i + n], act[i:i + n])
        episodes.update({e.start_s: e for e in out.episodes})
        alerts.extend(out.alerts)
        i += n
    episodes.update({e.start_s: e for e in det.finish().episodes})
    assert tuple(sorted(episodes.values(), key=lambda e: e.start_s)) == whole
    assert tuple(alerts) == whole_alerts
    assert len(whole) == 2


def test_gap_longer_than_tolerance_ends_episode():
    t, tilt, act = _timeline((5, 0, "standing"), (40, 14, "standing"))
    t2, tilt2, act2 = _timeline((40, 14, "standing"))
    t_all = np.concatenate([t, t2 + t[-1] + 20.0])  # a 20 s hole in the data
    episodes, _ = detect_sustained_tilt(t_all, np.concatenate([tilt, tilt2]),
                                        np.concatenate([act, act2]))
    assert len(episodes) == 2
    assert episodes[0].end_s == pytest.approx(t[-1])
    assert episodes[1].start_s == pytest.approx(t[-1] + 20.0)


def test_params_are_validated():
    with pytest.raises(UsageError, match="hold_sitting_s"):
        SustainedTiltParams(hold_sitting_s=0)
    with pytest.raises(UsageError, match="standing_anterior_deg"):
        SustainedTiltParams(standing_anterior_deg=-3)
    with pytest.raises(UsageError, match="too narrow"):
        SustainedTiltParams(standing_anterior_deg=2, standing_posterior_deg=-2, hysteresis_deg=3)


def test_time_in_zone_per_activity():
    from fusion.detection.sustained_tilt import time_in_zone
    t, tilt, act = _timeline((10, 0, "standing"), (30, 12, "standing"), (60, -25, "sitting"),
                             (40, -10, "sitting"), (20, 0, "walking"))
    zones = time_in_zone(t, tilt, act)
    assert zones["standing"] == pytest.approx({"neutral": 10.0, "anterior": 30.0, "posterior": 0.0}, abs=0.05)
    assert zones["sitting"] == pytest.approx({"neutral": 40.0, "anterior": 0.0, "posterior": 60.0}, abs=0.05)
    # With an upright sitting neutral at -2°, -10° is 8° from it: still neutral; -25° is posterior.
    zones = time_in_zone(t, tilt, act, sitting_reference_deg=-2.0)
    assert zones["sitting"]["posterior"] == pytest.approx(60.0, abs=0.05)
