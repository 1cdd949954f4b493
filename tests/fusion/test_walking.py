"""Walking detector: steps at 50/100/200 Hz, slow gait; squats, sit-to-stand, standing and noise
are not walking; lost samples make no steps; streaming == batch. Synthetic signals only."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fusion._motion import Motion  # noqa: E402
from firmware_interface.conventions import STANDARD_GRAVITY  # noqa: E402
from fusion.walking import WalkingDetector, WalkingParams  # noqa: E402

RATES = [50.0, 100.0, 200.0]


def _sensor_frame(vertical: np.ndarray, rng: np.random.Generator, sway: np.ndarray | None = None) -> np.ndarray:
    """(N, 3) specific force of a sensor mounted at a random tilt: gravity plus the vertical
    acceleration along its up axis, plus a horizontal sway (m/s²) on a perpendicular axis."""
    up = rng.normal(size=3)
    up /= np.linalg.norm(up)
    side = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    side /= np.linalg.norm(side)
    acc = (STANDARD_GRAVITY + vertical)[:, None] * up[None, :]
    if sway is not None:
        acc += sway[:, None] * side[None, :]
    return acc


def _gait(rate_hz: float, step_hz: float, bounce_m_s2: float, seed: int, duration_s: float = 30.0,
          noise_m_s2: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Level walking: a vertical bounce at the step rate with a heel-strike harmonic, a sway at
    the stride rate, step-to-step variation of rate (3 %) and amplitude (15 %), and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    rate = step_hz * (1.0 + 0.03 * np.sin(2 * np.pi * 0.07 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(rate) / rate_hz
    amplitude = bounce_m_s2 * (1.0 + 0.15 * np.sin(phase / 2 + rng.uniform(0, 6)))
    vertical = amplitude * (np.sin(phase) + 0.3 * np.sin(2 * phase + 1.0)) + rng.normal(0, noise_m_s2, len(t))
    sway = 0.5 * bounce_m_s2 * np.sin(phase / 2)
    return t, _sensor_frame(vertical, rng, sway)


def _batch(t: np.ndarray, acc: np.ndarray, rate_hz: float = 100.0, params: WalkingParams | None = None) -> np.ndarray:
    return WalkingDetector(params, sample_rate_hz=rate_hz).update(t, acc).walking


def _stream(t: np.ndarray, acc: np.ndarray, rate_hz: float, rng: np.random.Generator,
            max_batch: int = 300) -> np.ndarray:
    """Labels of a stream cut into random batches: each batch's own labels plus the spans over
    earlier samples that later batches report."""
    detector = WalkingDetector(sample_rate_hz=rate_hz)
    walking = np.zeros(len(t), dtype=bool)
    i = 0
    while i < len(t):
        n = int(rng.integers(1, max_batch))
        out = detector.update(t[i:i + n], acc[i:i + n])
        assert len(out.walking) == len(t[i:i + n])
        walking[i:i + n] = out.walking
        for start_s, end_s in out.earlier:
            assert start_s <= end_s <= t[i]
            walking[:i] |= (t[:i] >= start_s) & (t[:i] <= end_s)
        i += n
    return walking


@pytest.mark.parametrize("rate_hz", RATES)
@pytest.mark.parametrize("step_hz,bounce", [(1.5, 1.5), (1.8, 2.5), (2.2, 3.0)])
def test_walking_is_walking_at_every_rate(rate_hz, step_hz, bounce):
    t, acc = _gait(rate_hz, step_hz, bounce, seed=int(rate_hz + 10 * step_hz))
    walking = _batch(t, acc, rate_hz)
    inner = (t > 1.0) & (t < t[-1] - 1.0)  # the judged windows reach 0.35 s short of the end
    assert walking[inner].mean() > 0.97


@pytest.mark.parametrize("rate_hz", RATES)
def test_slow_elderly_gait_is_walking(rate_hz):
    """1.4 steps/s with a small bounce (0.6 m/s² RMS), as the slow elderly walkers of real data."""
    t, acc = _gait(rate_hz, 1.4, 0.8, seed=3, noise_m_s2=0.15)
    walking = _batch(t, acc, rate_hz)
    assert walking[(t > 1.0) & (t < t[-1] - 1.0)].mean() > 0.95


def _steps_between(rate_hz: float, pieces, seed: int, noise_m_s2: float = 0.05):
    """Quiet standing with stretches of steps: ``pieces`` of (start s, end s, bounce m/s², steps
    per second), each with a heel-strike harmonic; 30 s in all."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 30.0, 1.0 / rate_hz)
    vertical = rng.normal(0, noise_m_s2, len(t))
    for start_s, end_s, bounce, step_hz in pieces:
        inside = (t >= start_s) & (t < end_s)
        phase = 2 * np.pi * step_hz * t[inside]
        vertical[inside] += bounce * (np.sin(phase) + 0.3 * np.sin(2 * phase + 1.0))
    return t, _sensor_frame(vertical, rng)


@pytest.mark.parametrize("rate_hz", RATES)
def test_a_walk_is_marked_from_its_first_step_to_its_last(rate_hz):
    """Standing still before and after: none of it is walking (marking whole windows put up to
    a window of walking before the first step), and the walk is, to its last step."""
    t, acc = _steps_between(rate_hz, [(8.0, 20.0, 2.0, 1.8)], seed=11)
    walking = _batch(t, acc, rate_hz)
    assert not walking[(t < 7.8) | (t > 20.2)].any()
    assert walking[(t > 8.3) & (t < 19.7)].all()


@pytest.mark.parametrize("rate_hz", RATES)
def test_a_few_steps_are_no_walk(rate_hz):
    """Two seconds of steps (the wobble after getting up from lying, a shuffle in place) are no
    walk; three seconds are (Mobilise-D's bouts hold at least three strides of each foot), also
    streamed."""
    t, acc = _steps_between(rate_hz, [(8.0, 10.0, 2.0, 2.0)], seed=18)
    assert not _batch(t, acc, rate_hz).any()
    t, acc = _steps_between(rate_hz, [(8.0, 11.0, 2.0, 2.0)], seed=18)
    walking = _batch(t, acc, rate_hz)
    assert walking[(t > 8.3) & (t < 10.7)].all() and not walking[(t < 7.8) | (t > 11.2)].any()
    assert np.array_equal(_stream(t, acc, rate_hz, np.random.default_rng(18)), walking)


@pytest.mark.parametrize("rate_hz", RATES)
def test_a_short_pause_stays_inside_the_walk_and_a_long_one_does_not(rate_hz):
    """Stopping for 2 s (at a door) is part of the walk (the Mobilise-D bout definition allows
    pauses up to 3 s); standing for 5 s between two walks is not."""
    t, acc = _steps_between(rate_hz, [(3.0, 12.0, 2.0, 1.8), (14.0, 26.0, 2.0, 1.8)], seed=12)
    walking = _batch(t, acc, rate_hz)
    assert walking[(t > 3.5) & (t < 25.5)].all()
    assert np.array_equal(_stream(t, acc, rate_hz, np.random.default_rng(12)), walking)
    t, acc = _steps_between(rate_hz, [(3.0, 11.0, 2.0, 1.8), (16.0, 26.0, 2.0, 1.8)], seed=13)
    assert not _batch(t, acc, rate_hz)[(t > 11.5) & (t < 15.5)].any()


@pytest.mark.parametrize("rate_hz", RATES)
def test_weaker_steps_carry_a_walk_on_but_start_none(rate_hz):
    """Steps at a sixth of the bounce (0.25 m/s² RMS, below the start level: a turn, shuffling)
    continue a walk at its cadence; alone, or rocking at another period after the walk, they
    are no walk."""
    walk = (3.0, 10.0, 2.0, 1.8)
    t, acc = _steps_between(rate_hz, [walk, (10.0, 16.0, 0.33, 1.8), (16.0, 26.0, 2.0, 1.8)], seed=14)
    walking = _batch(t, acc, rate_hz)
    assert walking[(t > 3.5) & (t < 25.5)].all()
    assert np.array_equal(_stream(t, acc, rate_hz, np.random.default_rng(14)), walking)
    t, acc = _steps_between(rate_hz, [(5.0, 25.0, 0.33, 1.8)], seed=15)
    assert not _batch(t, acc, rate_hz).any()
    t, acc = _steps_between(rate_hz, [walk, (10.0, 25.0, 0.33, 1.3)], seed=16)
    assert not _batch(t, acc, rate_hz)[t > 13.5].any()


def _vertical_motion(m: Motion, seed: int) -> tuple[np.ndarray, np.ndarray]:
    t, _, acc_z, _, _ = m.arrays(seed)
    return t, _sensor_frame(acc_z, np.random.default_rng(seed))


@pytest.mark.parametrize("rate_hz", RATES)
@pytest.mark.parametrize("rep_s", [2.0, 2.6, 3.3])
def test_squat_sets_are_not_walking(rate_hz, rep_s):
    """Back-to-back deep squats at 0.3–0.5 reps/s: large and periodic, but slow."""
    m = Motion(rate_hz=rate_hz).hold(3)
    for _ in range(10):
        m.squat(depth_m=0.5, descent_s=0.5 * rep_s, pause_s=0.0, ascent_s=0.4 * rep_s).hold(0.1 * rep_s)
    m.hold(3)
    t, acc = _vertical_motion(m, seed=int(rep_s * 10))
    assert np.abs(np.linalg.norm(acc, axis=1) - STANDARD_GRAVITY).max() > 1.5
    assert not _batch(t, acc, rate_hz).any()


@pytest.mark.parametrize("rate_hz", RATES)
def test_sit_to_stand_and_standing_are_not_walking(rate_hz):
    m = (Motion(rate_hz=rate_hz).hold(5).move(1.2, -0.4, -15).hold(6, "sitting", -15)
         .move(1.0, 0.4, 0).hold(3).move(0.8, -0.4, -15).hold(2, "sitting").move(0.8, 0.4, 0).hold(5))
    t, acc = _vertical_motion(m, seed=5)
    assert not _batch(t, acc, rate_hz).any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_is_not_walking(seed):
    """Quiet standing (sensor noise) and broadband shaking of 1 m/s² show no steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 60.0, 0.01)
    for sd in (0.05, 1.0):
        acc = _sensor_frame(rng.normal(0, sd, len(t)), rng)
        assert not _batch(t, acc).any()


@pytest.mark.parametrize("rate_hz", RATES)
def test_stream_equals_batch(rate_hz):
    """Random batch sizes (1 to 300 samples), duplicate timestamps and a lost second."""
    t, acc = _gait(rate_hz, 1.8, 2.0, seed=7, duration_s=40.0)
    standing = (t > 15.0) & (t < 22.0)
    acc[standing] = acc[standing] / np.linalg.norm(acc[standing], axis=1)[:, None] * STANDARD_GRAVITY
    keep = (t < 30.0) | (t > 31.0)
    t, acc = t[keep], acc[keep]
    t[100:110] = t[100]  # duplicate timestamps
    batch = _batch(t, acc, rate_hz)
    assert batch.any() and not batch.all()
    for seed in range(3):
        assert np.array_equal(_stream(t, acc, rate_hz, np.random.default_rng(seed)), batch)
    assert np.array_equal(_stream(t, acc, rate_hz, np.random.default_rng(9), max_batch=2), batch)


@pytest.mark.parametrize("rate_hz", RATES)
def test_lost_samples_make_no_steps(rate_hz):
    """Standing still, but the reading rises by 1.5 m/s² across a 0.15-s gap 1.8 times a second
    (and falls back between them): bridged, it is a step-rate square wave, which without gaps
    is walking. Also a reading that jumps across a 0.3-s gap every 3 s."""
    rng = np.random.default_rng(4)
    t = np.arange(0.0, 30.0, 1.0 / rate_hz)
    level = 1.5 * (np.floor(t * 3.6) % 2)
    acc = _sensor_frame(level + rng.normal(0, 0.05, len(t)), rng)
    assert _batch(t, acc, rate_hz)[(t > 3.0) & (t < 27.0)].all()
    rising = (t * 1.8) % 1.0 > 1.0 - 0.15 * 1.8
    assert not _batch(t[~rising], acc[~rising], rate_hz).any()
    level = 1.5 * (np.floor(t / 3.0) % 2)
    acc = _sensor_frame(level + rng.normal(0, 0.05, len(t)), rng)
    lost = (t % 3.0) > 3.0 - 0.3
    assert not _batch(t[~lost], acc[~lost], rate_hz).any()


def test_walking_goes_on_after_a_gap():
    t, acc = _gait(100.0, 1.8, 2.0, seed=8)
    keep = (t < 12.0) | (t > 13.0)
    walking = _batch(t[keep], acc[keep])
    tk = t[keep]
    assert walking[(tk > 1.0) & (tk < 11.0)].all() and walking[(tk > 14.0) & (tk < 29.0)].all()


def _simulated(scenario, rate_hz: float, seed: int):
    from firmware_interface.simulator import ImuImperfections, simulate

    session = simulate(scenario, sample_rate_hz=rate_hz, seed=seed, imperfections=ImuImperfections.typical())
    batch = session.batch
    index = np.clip(np.searchsorted(session.truth.t, batch.t), 0, len(session.truth.t) - 1)
    return batch.t, batch.acc, session.truth.activity[index]


@pytest.mark.parametrize("rate_hz,seed", [(50.0, 21), (100.0, 22), (200.0, 23)])
def test_simulated_walk_is_walking(rate_hz, seed):
    from firmware_interface.simulator import Scenario, Stand, Walk

    t, acc, truth = _simulated(Scenario((Stand(6.0), Walk(25.0), Stand(6.0))), rate_hz, seed)
    walking = _batch(t, acc, rate_hz)
    walk = truth == "walking"
    inner = walk & (t > t[walk][0] + 1.5) & (t < t[walk][-1] - 1.5)
    assert walking[inner].mean() > 0.95
    away = (t < t[walk][0] - 1.0) | (t > t[walk][-1] + 1.0)
    assert not walking[away].any()


@pytest.mark.parametrize("name,seed", [("squat", 31), ("squat", 32), ("desk", 33)])
def test_simulated_squats_and_desk_work_are_not_walking(name, seed):
    """Only the desk scenario's walk is walking."""
    t, acc, truth = _simulated(name, 50.0, seed)
    walking = _batch(t, acc, 50.0)
    walk = truth == "walking"
    near = np.zeros(len(t), dtype=bool)
    for s in t[np.flatnonzero(np.diff(walk.astype(int)) != 0)]:
        near |= np.abs(t - s) < 1.0
    assert not walking[~walk & ~near].any()
    if walk.any():
        assert walking[walk & ~near].mean() > 0.95


def test_params_are_validated():
    with pytest.raises(ValueError, match="min_regularity"):
        WalkingParams(min_regularity=-0.1)
    with pytest.raises(ValueError, match="min_step_hz"):
        WalkingParams(min_step_hz=4.0)
    with pytest.raises(ValueError, match="window_s"):
        WalkingParams(window_s=1.5)
    with pytest.raises(ValueError, match="frame_s"):
        WalkingParams(frame_s=0.1)
    with pytest.raises(ValueError, match="continue_regularity"):
        WalkingParams(continue_regularity=0.6)
    with pytest.raises(ValueError, match="cadence_tolerance"):
        WalkingParams(cadence_tolerance=1.0)
    with pytest.raises(ValueError, match="sample_rate_hz"):
        WalkingDetector(sample_rate_hz=0.0)


def test_empty_batch_and_reset():
    detector = WalkingDetector()
    out = detector.update(np.zeros(0), np.zeros((0, 3)))
    assert out.walking.shape == (0,) and out.earlier == ()
    t, acc = _gait(100.0, 1.8, 2.0, seed=9, duration_s=10.0)
    first = detector.update(t, acc).walking
    detector.reset()
    assert np.array_equal(detector.update(t, acc).walking, first)


def test_a_long_pause_in_the_stream_costs_nothing():
    """A day-long gap (or a clock jump) between two walks: both are walking, nothing blows up."""
    t, acc = _gait(100.0, 1.8, 2.0, seed=10, duration_s=20.0)
    t2 = np.concatenate([t, t + 86400.0])
    walking = _batch(t2, np.concatenate([acc, acc]))
    first, second = walking[:len(t)], walking[len(t):]
    assert first.mean() > 0.95
    # Judged the same, but for the end of the stream (not judged yet: the FIR and the open hop).
    assert np.array_equal(first[t < t[-1] - 0.6], second[t < t[-1] - 0.6])
