"""Squat reps: segmentation, depth, tempo, butt wink, eligibility, sets, gaps, transitions."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fusion._motion import Motion, _ease  # noqa: E402
from fusion.detection.squat import SquatDetector, SquatParams, detect_squats, summarize_sets


def _match(reps, truth, tol_s=0.5):
    assert len(reps) == len(truth)
    for rep, (start, bottom, end, wink) in zip(reps, truth):
        assert abs(rep.bottom_s - bottom) < tol_s
        assert start - 0.5 < rep.start_s < bottom < end + 0.5 and rep.end_s > rep.bottom_s


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reps_depth_and_butt_wink_levels(seed):
    m = Motion().hold(5)
    winks = (0, 12, 6, 20, 0)
    for w in winks:
        m.squat(depth_m=0.45, wink_deg=w).hold(0.5 * seed)
    m.hold(5)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    reps = detect_squats(t, tilt, acc, gyr)
    _match(reps, m.reps)
    assert [r.wink_level for r in reps] == ["none", "flag", "mild", "flag", "none"]
    # Without a pause at the top (seed 0) the tops' zero-velocity instants are estimated from
    # the band-passed position, not observed at a rest: depth within 0.08 m there.
    depth_tol = 0.05 if seed else 0.08
    for rep, w in zip(reps, winks):
        assert rep.wink_deg == pytest.approx(w, abs=3.0)
        assert rep.depth_m == pytest.approx(0.45, abs=depth_tol)
        assert rep.peak_anterior_deg == pytest.approx(30, abs=2)
        assert abs(rep.lockout_deg) < 2
        assert rep.descent_s == pytest.approx(1.6, abs=0.6) and rep.ascent_s == pytest.approx(1.2, abs=0.5)
        if w:  # the simulated tuck starts 0.4 s before the bottom of a 1.6-s descent
            assert rep.wink_onset_depth_m == pytest.approx(0.45 * _ease(1 - 0.4 / 1.6), abs=depth_tol + 0.03)
        else:
            assert rep.wink_onset_depth_m is None
    assert {r.set for r in reps} == {1} and [r.index for r in reps] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_a_tuck_late_in_a_paused_bottom_is_a_butt_wink(seed):
    """The pelvis stays at full depth for 1.2 s and tucks 12° under in its second half: the
    reversal is at the bottom however long the bottom lasts."""
    m = Motion().hold(5)
    start = m.t_s
    m.move(1.6, -0.45, 30.0, "squatting")
    bottom = m.t_s
    m.hold(0.6, "squatting").hold(0.6, "squatting", tilt_deg=18.0)
    m.move(1.2, 0.45, 0.0, "squatting")
    m.reps.append((start, bottom, m.t_s, 12.0))
    m.hold(5)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    reps = detect_squats(t, tilt, acc, gyr)
    _match(reps, m.reps, tol_s=1.3)
    assert reps[0].wink_level == "flag" and reps[0].wink_deg == pytest.approx(12.0, abs=3.0)


@pytest.mark.parametrize("seed", [3, 4])
def test_shallow_reps_are_not_eligible_and_slow_deep_reps_are(seed):
    m = Motion().hold(5)
    m.squat(depth_m=0.25, pitch_deg=15, wink_deg=15).hold(1)
    m.squat(depth_m=0.55, pitch_deg=35, wink_deg=15, descent_s=3, pause_s=1, ascent_s=2).hold(5)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    reps = detect_squats(t, tilt, acc, gyr)
    _match(reps, m.reps, tol_s=1.0)
    assert reps[0].wink_level == "not_eligible"
    assert reps[1].wink_level == "flag" and reps[1].bottom_pause_s > 0.5


def test_sets_split_by_rest_and_summaries():
    m = Motion().hold(5)
    for _ in range(3):
        m.squat().hold(0.3)
    m.hold(30)
    for w in (15, 0):
        m.squat(wink_deg=w).hold(0.3)
    m.hold(5)
    t, tilt, acc, gyr, _ = m.arrays(5)
    reps = detect_squats(t, tilt, acc, gyr)
    assert [(r.set, r.index) for r in reps] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]
    summaries = summarize_sets(reps)
    assert [s.reps for s in summaries] == [3, 2]
    assert summaries[0].butt_wink_reps == 0 and summaries[1].butt_wink_reps == 1
    assert summaries[1].max_wink_deg == pytest.approx(15, abs=3)


def test_sit_down_and_stand_up_are_not_reps():
    m = Motion().hold(5).move(2.0, -0.4, -15, tilt_peak_deg=25).hold(10, "sitting")
    m.move(1.5, 0.4, 0, tilt_peak_deg=30).hold(5)
    t, tilt, acc, gyr, _ = m.arrays(6)
    assert detect_squats(t, tilt, acc, gyr) == ()


def test_rep_cut_by_a_gap_is_dropped_and_the_next_rep_still_counts():
    m = Motion().hold(5).squat().hold(3).squat().hold(5)
    t, tilt, acc, gyr, _ = m.arrays(7)
    bottom = m.reps[0][1]
    keep = (t < bottom - 0.6) | (t > bottom + 0.6)  # 1.2 s of the first rep lost
    reps = detect_squats(t[keep], tilt[keep], acc[keep], gyr[keep])
    assert len(reps) == 1 and abs(reps[0].bottom_s - m.reps[1][1]) < 0.5


def test_uncalibrated_tilt_keeps_reps_but_no_wink_judgement():
    m = Motion().hold(5).squat(wink_deg=15).hold(5)
    t, tilt, acc, gyr, _ = m.arrays(8)
    reps = detect_squats(t, np.full_like(tilt, np.nan), acc, gyr)
    assert len(reps) == 1 and reps[0].wink_level == "not_eligible" and reps[0].peak_anterior_deg is None


def _min_jerk(x):
    x = np.clip(x, 0.0, 1.0)
    return 10 * x ** 3 - 15 * x ** 4 + 6 * x ** 5


def _slow_reps(rate_hz, seed, reps=4, depth_m=0.3, descent_s=2.2, ascent_s=1.2, between_s=0.6):
    """Minimum-jerk squats whose pelvis stops pitching halfway down: while the descent is braked
    the gyro is quiet and the deceleration changes slowly, yet the pelvis still moves."""
    dt = 1.0 / rate_hz
    z, tilt, bottoms = [np.zeros(int(3 * rate_hz))], [np.zeros(int(3 * rate_hz))], []
    for _ in range(reps):
        s = np.arange(int(descent_s * rate_hz)) * dt
        z.append(-depth_m * _min_jerk(s / descent_s))
        tilt.append(30 * _min_jerk(s / (0.5 * descent_s)))
        bottoms.append(sum(map(len, z)) * dt)
        s = np.arange(int(ascent_s * rate_hz)) * dt
        z.append(-depth_m * (1 - _min_jerk(s / ascent_s)))
        tilt.append(30 * (1 - _min_jerk((s - 0.5 * ascent_s) / (0.5 * ascent_s))))
        z.append(np.zeros(int(between_s * rate_hz)))
        tilt.append(np.zeros(int(between_s * rate_hz)))
    z.append(np.zeros(int(3 * rate_hz)))
    tilt.append(np.zeros(int(3 * rate_hz)))
    z, tilt = np.concatenate(z), np.concatenate(tilt)
    t = np.arange(len(z)) * dt
    rng = np.random.default_rng(seed)
    acc = np.gradient(np.gradient(z, t), t) + 0.2 + rng.normal(0, 0.02, len(z))
    gyr = np.zeros((len(z), 3))
    gyr[:, 0] = np.radians(np.gradient(tilt, t)) + rng.normal(0, 0.002, len(z))
    return t, tilt, acc, gyr, bottoms


@pytest.mark.parametrize("rate_hz,seed", [(50.0, 11), (100.0, 12), (200.0, 13)])
def test_braked_descent_with_still_pelvis_is_not_taken_for_rest(rate_hz, seed):
    t, tilt, acc, gyr, bottoms = _slow_reps(rate_hz, seed)
    reps = detect_squats(t, tilt, acc, gyr, sample_rate_hz=rate_hz)
    assert len(reps) == len(bottoms)
    for rep, bottom in zip(reps, bottoms):
        assert abs(rep.bottom_s - bottom) < 0.3
        assert rep.depth_m == pytest.approx(0.3, abs=0.04)


def test_streaming_matches_batch():
    m = Motion().hold(5)
    for w in (0, 14, 0):
        m.squat(wink_deg=w).hold(1.0)
    m.hold(20).squat().hold(5)
    t, tilt, acc, gyr, _ = m.arrays(9)
    whole = detect_squats(t, tilt, acc, gyr)
    det = SquatDetector()
    rng = np.random.default_rng(9)
    streamed = []
    i = 0
    while i < len(t):
        n = int(rng.integers(1, 80))
        streamed.extend(det.update(t[i:i + n], tilt[i:i + n], acc[i:i + n], gyr[i:i + n]).reps)
        i += n
    assert len(whole) == 4 and tuple(streamed) == whole


def test_walking_and_sitting_labels_exclude_reps():
    m = Motion().hold(5).squat().hold(5)
    t, tilt, acc, gyr, labels = m.arrays(10)
    assert len(detect_squats(t, tilt, acc, gyr)) == 1
    for label in ("walking", "sitting"):
        assert detect_squats(t, tilt, acc, gyr, activity=np.where(labels == "squatting", label, labels)) == ()


@pytest.mark.parametrize("rate_hz", [50.0, 100.0, 200.0])
def test_walking_bounce_is_not_a_rep(rate_hz):
    """Steps at 1.8 Hz bounce the pelvis +-0.025 m and rock it +-2 deg (pelvic tilt range in gait
    is about 3-4 deg): no rep even without activity labels."""
    rng = np.random.default_rng(int(rate_hz))
    t = np.arange(int(60 * rate_hz)) / rate_hz
    w = 2 * np.pi * 1.8
    z = 0.025 * np.sin(w * t)
    acc = -0.025 * w ** 2 * np.sin(w * t) + 0.1 + rng.normal(0, 0.1, len(t))
    tilt = 2 * np.sin(w * t / 2)
    gyr = np.zeros((len(t), 3))
    gyr[:, 0] = np.radians(np.gradient(tilt, t)) + rng.normal(0, 0.02, len(t))
    gyr[:, 2] = 0.3 * np.sin(w * t / 2)
    assert detect_squats(t, tilt, acc, gyr, sample_rate_hz=rate_hz) == ()
    assert z.max() - z.min() < 0.06


def test_params_validated():
    from firmware_interface.errors import UsageError
    with pytest.raises(UsageError, match="butt-wink"):
        SquatParams(wink_mild_deg=12, wink_flag_deg=10)


@pytest.mark.xfail(strict=True, reason="the rep cycles are found in a band-passed position that a "
                   "0.3-0.4 m/s2 bias following the pitch swamps for 0.18 m reps without pauses; the "
                   "pitch-bias fit of fusion.activity needs rests around the set (not ported yet)")
@pytest.mark.parametrize("rate_hz,seed,bias_m_s2", [(50.0, 21, 0.4), (100.0, 22, -0.4), (200.0, 23, 0.3)])
def test_accelerometer_bias_that_follows_the_pitch_does_not_flatten_shallow_reps(rate_hz, seed, bias_m_s2):
    """A sensor-frame accelerometer bias adds ``c sin(pitch)`` to the vertical acceleration; the
    zero-velocity update alone removes only its constant part, and 0.4 m/s² over reps without a
    pause at the bottom or the top takes most of their 0.18 m. Streaming still equals batch."""
    m = Motion(rate_hz=rate_hz).hold(5)
    for _ in range(5):
        m.squat(depth_m=0.18, descent_s=1.8, pause_s=0.0, ascent_s=1.6, pitch_deg=28).hold(0.2)
    m.hold(5)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    acc = acc + bias_m_s2 * np.sin(np.radians(tilt))
    reps = detect_squats(t, tilt, acc, gyr, sample_rate_hz=rate_hz)
    _match(reps, m.reps)
    for rep in reps:
        assert rep.depth_m == pytest.approx(0.18, abs=0.04)
    det = SquatDetector(sample_rate_hz=rate_hz)
    rng = np.random.default_rng(seed)
    streamed, i = [], 0
    while i < len(t):
        n = int(rng.integers(1, 3 * rate_hz))
        streamed.extend(det.update(t[i:i + n], tilt[i:i + n], acc[i:i + n], gyr[i:i + n]).reps)
        i += n
    assert tuple(streamed) == reps


def _stream(t, tilt, acc, gyr, rate_hz, seed, max_batch):
    det = SquatDetector(sample_rate_hz=rate_hz)
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while i < len(t):
        n = int(rng.integers(1, max_batch))
        out.extend(det.update(t[i:i + n], tilt[i:i + n], acc[i:i + n], gyr[i:i + n]).reps)
        i += n
    return tuple(out + list(det.flush().reps))


@pytest.mark.parametrize("rate_hz,seed", [(50.0, 31), (100.0, 32), (200.0, 33)])
def test_continuous_reps_from_a_recording_that_starts_one_second_before_the_first(rate_hz, seed):
    """No pause at the top nor at the bottom, 1 s of standing before the set: no rest to anchor
    a rep on, only the turning points of the vertical position. Streaming equals batch."""
    m = Motion(rate_hz=rate_hz).hold(1.0)
    for _ in range(8):
        m.squat(depth_m=0.45, descent_s=1.4, pause_s=0.0, ascent_s=1.2)
    m.hold(2.0)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    reps = detect_squats(t, tilt, acc, gyr, sample_rate_hz=rate_hz)
    _match(reps, m.reps)
    assert np.median([r.depth_m for r in reps]) == pytest.approx(0.45, abs=0.08)
    assert [r.index for r in reps] == list(range(1, 9)) and {r.set for r in reps} == {1}
    assert _stream(t, tilt, acc, gyr, rate_hz, seed, int(2 * rate_hz)) == reps


@pytest.mark.parametrize("rate_hz,seed", [(50.0, 41), (100.0, 42), (200.0, 43)])
def test_slow_tempo_set_of_twelve(rate_hz, seed):
    """2.5 s down, 0.5 s at the bottom, 2 s up, 12 reps in a row (0 reps before the cycles)."""
    m = Motion(rate_hz=rate_hz).hold(1.0)
    for _ in range(12):
        m.squat(depth_m=0.45, descent_s=2.5, pause_s=0.5, ascent_s=2.0)
    m.hold(3.0)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    reps = detect_squats(t, tilt, acc, gyr, sample_rate_hz=rate_hz)
    assert len(reps) == 12
    for rep, (start, bottom, end, _) in zip(reps, m.reps):
        assert start < rep.bottom_s < end and abs(rep.bottom_s - bottom) < 0.7
        # No rest at the top: the depth comes out 10-25% short (the band-passed tops lead).
        assert 0.32 < rep.depth_m < 0.58
    assert _stream(t, tilt, acc, gyr, rate_hz, seed, 150) == reps


@pytest.mark.parametrize("rate_hz,seed", [(100.0, 44), (50.0, 45)])
def test_a_stream_that_starts_mid_rep_finds_the_reps_after_it(rate_hz, seed):
    """A sensor connected during a set: the first sample is mid-descent, accelerating, so it is
    no estimate of the accelerometer's bias; the reps that follow are found all the same."""
    m = Motion(rate_hz=rate_hz)
    for _ in range(8):
        m.squat(depth_m=0.45, pause_s=0.0)
    m.hold(3.0)
    t, tilt, acc, gyr, _ = m.arrays(seed)
    first_start, first_bottom, _, _ = m.reps[0]
    cut = int(np.searchsorted(t, first_start + 0.3 * (first_bottom - first_start)))
    reps = detect_squats(t[cut:], tilt[cut:], acc[cut:], gyr[cut:], sample_rate_hz=rate_hz)
    _match([r for r in reps if r.bottom_s > m.reps[1][0]], m.reps[1:])
    # No rest at the top, as in the continuous set above: the depth is that set's.
    assert np.median([r.depth_m for r in reps[-7:]]) == pytest.approx(0.45, abs=0.08)
    assert _stream(t[cut:], tilt[cut:], acc[cut:], gyr[cut:], rate_hz, seed, 40) == reps


def test_partial_reps_are_shallower_than_full_ones():
    m = Motion().hold(3)
    for depth in (0.45, 0.2, 0.45, 0.2, 0.45, 0.2):
        m.squat(depth_m=depth, pitch_deg=30 if depth > 0.3 else 18, pause_s=0.0)
    m.hold(3)
    t, tilt, acc, gyr, _ = m.arrays(51)
    reps = detect_squats(t, tilt, acc, gyr)
    assert len(reps) == 6
    full, partial = [r.depth_m for r in reps[::2]], [r.depth_m for r in reps[1::2]]
    # Medians, as the real-data depth check compares them: the last partial rep, whose top is
    # in the closing rest, reads about 0.05 m deep whatever the offset's start, and left
    # max/min within a millimetre of failing.
    assert np.median(partial) < 0.6 * np.median(full) and max(partial) < 0.65 * min(full)


def test_wink_needs_no_neutral_only_the_axis():
    """The reversal is measured inside the rep: an arbitrary offset of the pitch changes neither
    the wink nor the level; without a real neutral no peak or lockout angle is reported."""
    m = Motion().hold(3)
    for w in (0, 15, 0, 15):
        m.squat(depth_m=0.45, wink_deg=w, pause_s=0.0)
    m.hold(3)
    t, tilt, acc, gyr, _ = m.arrays(52)
    calibrated = detect_squats(t, tilt, acc, gyr)
    offset = detect_squats(t, tilt + 17.0, acc, gyr, tilt_calibrated=False)
    assert [r.wink_level for r in offset] == [r.wink_level for r in calibrated] == ["none", "flag", "none", "flag"]
    assert [r.wink_deg for r in offset] == pytest.approx([r.wink_deg for r in calibrated], abs=1e-9)
    assert all(r.peak_anterior_deg is None and r.lockout_deg is None for r in offset)
    assert all(r.peak_anterior_deg is not None for r in calibrated)


def test_unknown_pitch_keeps_continuous_reps_depth_and_tempo():
    m = Motion().hold(1)
    for _ in range(5):
        m.squat(depth_m=0.4, pause_s=0.0)
    m.hold(2)
    t, tilt, acc, gyr, _ = m.arrays(53)
    reps = detect_squats(t, np.full_like(tilt, np.nan), acc, gyr)
    _match(reps, m.reps)
    assert all(r.wink_level == "not_eligible" and r.depth_m > 0.3 and r.descent_s > 0.5 for r in reps)


def test_hip_hinge_without_a_drop_is_not_a_rep():
    m = Motion().hold(3)
    for _ in range(3):
        m.move(1.5, -0.03, 60, "other").move(1.5, 0.03, 0, "other").hold(0.5)
    m.hold(3)
    t, tilt, acc, gyr, _ = m.arrays(54)
    assert detect_squats(t, tilt, acc, gyr) == ()
