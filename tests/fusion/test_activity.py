"""Activity: transfers, squatting, walking, lying, tie-breaker, stream vs batch, no calibration."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fusion._motion import Motion  # noqa: E402
from fusion.bouts import BoutParams, BoutTracker  # noqa: E402
from fusion.activity import (ActivityClassifier, ActivityParams,  # noqa: E402
                             classify_activity)
from fusion.detection.squat import detect_squats  # noqa: E402
from fusion.evaluation import activity_accuracy  # noqa: E402


def _desk(m: Motion) -> Motion:
    return (m.hold(6).move(2.0, -0.38, -15, tilt_peak_deg=25).hold(40, "sitting", -15)
            .hold(20, "sitting", 2).move(1.6, 0.38, 0, tilt_peak_deg=30).hold(10))


def _walk(t, acc, tilt, gyr, start_s, end_s, seed):
    """Add steps: 1.8 Hz vertical bounce of 2.5 m/s² and some pelvic rotation."""
    inside = (t >= start_s) & (t < end_s)
    rng = np.random.default_rng(seed)
    acc = acc.copy()
    gyr = gyr.copy()
    acc[inside] += 2.5 * np.sin(2 * np.pi * 1.8 * t[inside]) + rng.normal(0, 0.3, inside.sum())
    gyr[inside, 2] += 0.4 * np.sin(2 * np.pi * 0.9 * t[inside])
    return acc, gyr


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sit_down_and_stand_up_are_transitions_and_postures(seed):
    m = _desk(Motion())
    t, tilt, acc, gyr, truth = m.arrays(seed)
    labels, transitions = classify_activity(t, acc, gyr, tilt)
    assert [tr.kind for tr in transitions] == ["stand_to_sit", "sit_to_stand"]
    assert transitions[0].start_s == pytest.approx(6.0, abs=0.5)
    assert transitions[1].start_s == pytest.approx(68.0, abs=0.5)
    accuracy, _ = activity_accuracy(t, labels, t, truth, 1.0)
    assert accuracy > 0.97
    # Upright sitting (+2°, like standing) is still sitting: the transfer decided it.
    assert (labels[(t > 50) & (t < 66)] == "sitting").all()


def test_no_calibration_uses_movement_cues_only():
    m = _desk(Motion())
    t, tilt, acc, gyr, truth = m.arrays(3)
    labels, transitions = classify_activity(t, acc, gyr, np.full_like(tilt, np.nan))
    assert [tr.kind for tr in transitions] == ["stand_to_sit", "sit_to_stand"]
    assert activity_accuracy(t, labels, t, truth, 1.0)[0] > 0.95


def test_a_squat_set_is_no_transfer_and_left_to_the_squat_detector():
    """Down-and-up dips change no posture: the squat detector finds the reps and the pipeline
    labels them squatting (tests/fusion/test_pipeline.py)."""
    m = Motion().hold(5)
    for _ in range(3):
        m.squat().hold(1.8)
    m.hold(5)
    t, tilt, acc, gyr, truth = m.arrays(4)
    labels, transitions = classify_activity(t, acc, gyr, tilt)
    assert transitions == ()
    assert set(labels) <= {"standing", "other"}
    assert (labels[t > m.reps[-1][2] + 1.0] == "standing").all()


def test_walking_is_detected_and_stands_the_wearer_up():
    m = Motion().hold(5).move(2.0, -0.38, -18, tilt_peak_deg=25).hold(20, "sitting").hold(30, "walking", 0).hold(10)
    t, tilt, acc, gyr, truth = m.arrays(5)
    acc, gyr = _walk(t, acc, tilt, gyr, 27.0, 57.0, 5)
    labels, _ = classify_activity(t, acc, gyr, tilt)
    assert (labels[(t > 29) & (t < 56)] == "walking").mean() > 0.95
    assert (labels[t > 58] == "standing").all()


def test_lying_and_the_sitting_tie_breaker():
    # Lying: tilt beyond 60° after a lowering bout.
    m = Motion().hold(5).move(3.0, -0.6, -85).hold(20, "lying").move(3.0, 0.6, 0).hold(8)
    t, tilt, acc, gyr, truth = m.arrays(6)
    labels, transitions = classify_activity(t, acc, gyr, tilt)
    assert (labels[(t > 10) & (t < 27)] == "lying").all()
    assert (labels[t > 33] == "standing").all() and transitions == ()
    # A missed sit-down (no bout: the tracker never saw it) shows as a long posterior "standing".
    t = np.arange(0, 30, 0.01)
    tilt = np.where(t < 5, 0.0, -18.0)
    labels, _ = classify_activity(t, np.zeros_like(t), np.zeros((len(t), 3)), tilt)
    assert (labels[t < 9.9] == "standing").all() and (labels[t > 10.1] == "sitting").all()


def test_streaming_labels_and_revisions_rebuild_the_batch_labels():
    m = _desk(Motion())
    t, tilt, acc, gyr, _ = m.arrays(7)
    batch_labels, batch_transitions = classify_activity(t, acc, gyr, tilt)
    clf = ActivityClassifier()
    labels = np.empty(len(t), dtype="<U9")
    transitions = []
    rng = np.random.default_rng(7)
    i = 0
    while i < len(t):
        n = int(rng.integers(5, 150))
        out = clf.update(t[i:i + n], acc[i:i + n], gyr[i:i + n], tilt[i:i + n])
        labels[i:i + n] = out.labels
        for span in out.revisions:
            labels[(t >= span.start_s) & (t <= span.end_s) & (t < t[i])] = span.activity
        transitions.extend(out.transitions)
        i += n
    assert tuple(transitions) == batch_transitions
    # Live labels lag at most the bout closing delay; after revisions they agree almost fully.
    assert (labels == batch_labels).mean() > 0.97


def test_params_validated():
    from firmware_interface.errors import UsageError
    with pytest.raises(UsageError, match="lying_tilt_deg"):
        ActivityParams(lying_tilt_deg=10)


@pytest.mark.parametrize("seed", [0, 1])
def test_acceleration_pulses_without_rotation_are_not_rest(seed):
    """A push and a braking pulse of 0.6 s each, back to back (SD and gyro as at rest at their peaks, the
    mean off the resting level and changing from one window to the next): one movement, not
    rests; the resting level (a bias of 0.3 m/s²) is no movement. (A level that holds for two
    windows is a rest at a new level: a pelvis that turned re-projects the accelerometer bias.)"""
    rate_hz = 100.0
    rng = np.random.default_rng(seed)
    pulse = 0.5 * np.sin(np.pi * np.arange(60) / 60)
    acc = np.concatenate([np.zeros(300), pulse, -pulse, np.zeros(300)])
    t = np.arange(len(acc)) / rate_hz
    expected = np.trapezoid(np.concatenate(([0.0], np.cumsum(acc[1:] + acc[:-1]) / 2 / rate_hz)), t)
    acc += 0.3 + rng.normal(0, 0.02, len(acc))
    gyr = rng.normal(0, 0.002, (len(acc), 3))
    bouts = [b for b, _ in BoutTracker(BoutParams(), rate_hz).update(t, acc, gyr) if b.complete]
    assert len(bouts) == 1
    assert bouts[0].t[0] <= 3.0 and bouts[0].t[-1] >= 4.2
    assert bouts[0].net_m == pytest.approx(expected, abs=0.03)


def _fast_deep_squats(rate_hz: float, seed: int, drop_s: float | None = None):
    """8 deep (0.55 m), fast squats back to back: ascents peak near 5 m/s² vertical, and the
    step band shows 1.2–3.5 zero crossings per second, as in walking. ``drop_s``: lose the
    samples of 0.4 s from then (a BLE gap at the top of an ascent)."""
    m = Motion(rate_hz=rate_hz).hold(5)
    for _ in range(8):
        m.squat(depth_m=0.55, descent_s=0.9, pause_s=0.0, ascent_s=0.75).hold(0.2)
    m.hold(5)
    t, tilt, acc, gyr, truth = m.arrays(seed)
    if drop_s is not None:
        keep = (t < drop_s) | (t >= drop_s + 0.4)
        t, tilt, acc, gyr, truth = t[keep], tilt[keep], acc[keep], gyr[keep], truth[keep]
    return m, t, tilt, acc, gyr


@pytest.mark.parametrize("rate_hz", [50.0, 100.0, 200.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_deep_squats_are_not_walking(rate_hz, seed):
    m, t, tilt, acc, gyr = _fast_deep_squats(rate_hz, seed)
    assert np.abs(acc).max() > 4.0  # as fast as the squats that passed for walking
    labels, transitions = classify_activity(t, acc, gyr, tilt, sample_rate_hz=rate_hz)
    assert not (labels == "walking").any() and transitions == ()
    # The reps themselves (and their "squatting" label) are the squat detector's.
    assert len(detect_squats(t, tilt, acc, gyr, sample_rate_hz=rate_hz)) == len(m.reps)
    # A gap at the top of an ascent (acceleration jumping across it) is no step either.
    top_s = m.reps[3][1] + 0.5
    _, t, tilt, acc, gyr = _fast_deep_squats(rate_hz, seed, drop_s=top_s)
    labels, _ = classify_activity(t, acc, gyr, tilt, sample_rate_hz=rate_hz)
    assert not (labels == "walking").any()


def _simulated_walk(rate_hz: float, seed: int):
    from firmware_interface.simulator import ImuImperfections, Scenario, Stand, Walk, simulate
    from fusion.vertical import vertical_acceleration
    from fusion.orientation import OrientationEstimator

    scenario = Scenario((Stand(6.0), Walk(25.0), Stand(6.0)))
    session = simulate(scenario, sample_rate_hz=rate_hz, seed=seed, imperfections=ImuImperfections.typical())
    batch = session.batch
    acc_z = vertical_acceleration(batch.acc, OrientationEstimator().update(batch))
    truth = session.truth.activity[np.clip(np.searchsorted(session.truth.t, batch.t), 0, len(session.truth.t) - 1)]
    return batch.t, acc_z, batch.gyr, truth


@pytest.mark.parametrize("rate_hz,seed", [(50.0, 11), (100.0, 12), (200.0, 13)])
def test_simulated_walking_is_walking_live_and_in_batch(rate_hz, seed):
    """Walking from the simulator (typical IMU errors and BLE loss) stays walking; streamed in
    random batches, labels plus revisions give the batch labels."""
    t, acc_z, gyr, truth = _simulated_walk(rate_hz, seed)
    tilt = np.full(len(t), np.nan)
    labels, _ = classify_activity(t, acc_z, gyr, tilt, sample_rate_hz=rate_hz)
    walking = truth == "walking"
    inner = walking & (t > t[walking][0] + 1.0) & (t < t[walking][-1] - 1.0)
    assert (labels[inner] == "walking").mean() > 0.97
    # Standing more than 1 s from the walk (the scoring's margin around a change) is not walking.
    away = (t < t[walking][0] - 1.0) | (t > t[walking][-1] + 1.0)
    assert not (labels[away] == "walking").any()
    clf = ActivityClassifier(sample_rate_hz=rate_hz)
    live = np.empty(len(t), dtype="<U9")
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(t):
        n = int(rng.integers(1, 200))
        out = clf.update(t[i:i + n], acc_z[i:i + n], gyr[i:i + n], tilt[i:i + n])
        live[i:i + n] = out.labels
        for span in out.revisions:
            live[(t >= span.start_s) & (t <= span.end_s) & (t < t[i])] = span.activity
        i += n
    assert ((live == "walking") == (labels == "walking")).all()


def test_walking_stays_walking_when_the_bout_around_it_closes_later():
    """Getting up and walking off at once, then bending down: one movement bout, mostly not
    walking, that closes seconds after the walk. Streamed in 1-s batches (the pipeline's hop),
    the posture change it revises over the earlier samples leaves the steps walking."""
    m = (Motion().hold(5).move(2.0, -0.38, -18, tilt_peak_deg=25).hold(20, "sitting")
         .move(1.6, 0.38, 0, tilt_peak_deg=30).hold(5, "walking", 0).move(4.0, 0.0, 45).move(4.0, 0.0, 0).hold(8))
    t, tilt, acc, gyr, truth = m.arrays(6)
    acc, gyr = _walk(t, acc, tilt, gyr, 28.6, 33.6, 6)
    labels, _ = classify_activity(t, acc, gyr, tilt)
    clf = ActivityClassifier()
    live = np.empty(len(t), dtype="<U9")
    for i in range(0, len(t), 100):
        out = clf.update(t[i:i + 100], acc[i:i + 100], gyr[i:i + 100], tilt[i:i + 100])
        live[i:i + 100] = out.labels
        for span in out.revisions:
            live[(t >= span.start_s) & (t <= span.end_s) & (t < t[i])] = span.activity
    steps = (t > 29.5) & (t < 33.0)
    assert (labels[steps] == "walking").all()
    assert (live[steps] == "walking").all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bias_following_the_pitch_is_estimated_only_from_clear_pitching(seed):
    """A squat with 0.4 m/s² of bias per unit sin(pitch) yields that coefficient; a fidget (a few
    degrees for half a second) gives too little evidence and stays near 0; unknown tilt gives 0."""
    rate_hz = 100.0
    squat = Motion(rate_hz=rate_hz).hold(3).squat(depth_m=0.3, pause_s=0.0).hold(3)
    fidget = Motion(rate_hz=rate_hz).hold(3).move(0.5, 0.01, 0, tilt_peak_deg=6).hold(3)
    for motion, expected, tol in ((squat, 0.4, 0.1), (fidget, 0.0, 0.05)):
        t, tilt, acc, gyr, _ = motion.arrays(seed)
        acc = acc + 0.4 * np.sin(np.radians(tilt))
        for given, want in ((tilt, expected), (np.full(len(t), np.nan), 0.0)):
            bouts = [b for b, _ in BoutTracker(BoutParams(), rate_hz).update(t, acc, gyr, tilt=given)
                     if b.complete]
            assert len(bouts) == 1
            assert bouts[0].pitch_bias_m_s2 == pytest.approx(want, abs=tol)
