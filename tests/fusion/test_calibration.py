"""Neutral calibration (accept still, reject motion with a reason), streaming calibrator, functional axis."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fusion._imu_synth import imu_from_orientation, random_unit_quaternion  # noqa: E402

from firmware_interface.errors import CalibrationRejected  # noqa: E402
from fusion import _quaternion as quat  # noqa: E402
from fusion.axis import AxisFinder, find_left_axis  # noqa: E402
from fusion.calibration import NeutralCalibrator, calibration_from_window  # noqa: E402
from firmware_interface.conventions import DEFAULT_LEFT_AXIS_SENSOR  # noqa: E402
from fusion.orientation import estimate_orientation  # noqa: E402

SEEDS = [1, 2, 3]
RATE_HZ = 100.0


def _noisy(rng, acc, gyr):
    return (acc + rng.normal(0, 0.02, acc.shape),
            gyr + np.radians(rng.uniform(-1, 1, 3)) + rng.normal(0, np.radians(0.1), gyr.shape))


def _still(rng, q_sensor, duration_s=6.0):
    t = np.arange(0, duration_s, 1 / RATE_HZ)
    acc, gyr = imu_from_orientation(t, np.tile(q_sensor, (len(t), 1)))
    acc, gyr = _noisy(rng, acc, gyr)
    return t, acc, gyr, estimate_orientation(t, acc, gyr)


@pytest.mark.parametrize("seed", SEEDS)
def test_standing_still_is_accepted(seed):
    rng = np.random.default_rng(seed)
    q_sensor = random_unit_quaternion(rng)
    t, acc, gyr, q = _still(rng, q_sensor)
    cal = calibration_from_window(t, acc, gyr, q, 1.0, 5.0)
    true_up = quat.earth_up_in_sensor(q_sensor)
    assert np.degrees(quat.angle_between(cal.up_sensor, true_up)) < 0.5
    assert cal.axis_source == "default" and cal.sit_up_sensor is None
    assert abs(cal.left_axis_sensor @ cal.up_sensor) < 1e-12
    assert cal.left_axis_sensor @ DEFAULT_LEFT_AXIS_SENSOR > 0
    assert cal.still_window == (1.0, 5.0)


def _slow_tilt(rng, total_deg):
    t = np.arange(0, 6, 1 / RATE_HZ)
    q0 = random_unit_quaternion(rng)
    axis = np.tile(quat.normalize(np.cross(quat.earth_up_in_sensor(q0), rng.normal(size=3))), (len(t), 1))
    q_true = quat.multiply(q0, quat.from_axis_angle(axis, np.radians(total_deg) * t / 6.0))
    acc, gyr = _noisy(rng, *imu_from_orientation(t, q_true))
    return t, acc, gyr, estimate_orientation(t, acc, gyr)


@pytest.mark.parametrize("seed", SEEDS)
def test_slow_tilt_during_the_window_is_graded_and_a_large_one_refused(seed):
    """Slow steady rotation: the rate looks like a constant bias, the up direction does not.
    12° over the recording is a swaying stand (used, with a warning); 40° is no posture."""
    rng = np.random.default_rng(seed)
    cal = calibration_from_window(*_slow_tilt(rng, 12.0), 0.5, 5.5)
    assert not cal.grade.good and any("tilted by" in w for w in cal.grade.warnings)
    assert cal.grade.motion_deg > 3.0
    with pytest.raises(CalibrationRejected, match="tilted by") as rejected:
        calibration_from_window(*_slow_tilt(rng, 40.0), 0.5, 5.5)
    assert rejected.value.motion_deg > 10.0


def test_motion_jolts_and_short_windows_are_graded_or_refused():
    rng = np.random.default_rng(7)
    t, acc, gyr, q = _still(rng, random_unit_quaternion(rng))
    assert calibration_from_window(t, acc, gyr, q, 0.5, 5.5).grade.good
    swaying = gyr.copy()
    swaying[300:360] += np.radians([0.0, 10.0, 0.0])  # 0.6 s of turning at 10°/s: a sway
    graded = calibration_from_window(t, acc, swaying, q, 0.5, 5.5).grade
    assert not graded.good and "turned at up to" in graded.warnings[0]
    turning = gyr.copy()
    turning[200:400] += np.radians([0.0, 40.0, 0.0])  # 2 s at 40°/s: not a still posture
    with pytest.raises(CalibrationRejected, match="turned at up to"):
        calibration_from_window(t, acc, turning, q, 0.5, 5.5)
    spiky = gyr.copy()
    spiky[[100, 250, 400]] += np.radians([0.0, 10.0, 0.0])  # three noisy samples: still a still stand
    assert calibration_from_window(t, acc, spiky, q, 0.5, 5.5).grade.good
    jolted = acc.copy()
    jolted[200:300] *= 1.3  # a second of 0.3 g: moving
    with pytest.raises(CalibrationRejected, match="acceleration changed"):
        calibration_from_window(t, jolted, gyr, q, 0.5, 5.5)
    short = calibration_from_window(t, acc, gyr, q, 1.0, 2.0).grade
    assert not short.good and "lasted 1.0 s" in short.warnings[0]
    with pytest.raises(CalibrationRejected, match="lasted 0.3 s"):
        calibration_from_window(t, acc, gyr, q, 1.0, 1.3)
    with pytest.raises(CalibrationRejected, match="standing calibration first"):
        calibration_from_window(t, acc, gyr, q, 0.5, 5.5, kind="sit")


def test_sitting_neutral_is_added_to_a_standing_one():
    rng = np.random.default_rng(8)
    q_stand = random_unit_quaternion(rng)
    t, acc, gyr, q = _still(rng, q_stand)
    stand = calibration_from_window(t, acc, gyr, q, 0.5, 5.5)
    q_sit = quat.multiply(q_stand, quat.from_axis_angle(stand.left_axis_sensor, np.radians(15.0)))
    t, acc, gyr, q = _still(rng, q_sit)
    both = calibration_from_window(t, acc, gyr, q, 0.5, 5.5, kind="sit", base=stand)
    assert np.array_equal(both.up_sensor, stand.up_sensor)
    assert abs(np.degrees(quat.angle_between(both.sit_up_sensor, stand.up_sensor)) - 15.0) < 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_streaming_calibrator_takes_the_first_still_window(seed):
    rng = np.random.default_rng(seed)
    q0 = random_unit_quaternion(rng)
    t = np.arange(0, 12, 1 / RATE_HZ)
    # 3 s of swaying, then still.
    angle = np.radians(10.0) * np.sin(2 * np.pi * 0.5 * t) * (t < 3.0)
    axis = np.tile(quat.normalize(np.cross(quat.earth_up_in_sensor(q0), [1.0, 0.0, 0.0])), (len(t), 1))
    q_true = quat.multiply(q0, quat.from_axis_angle(axis, angle))
    acc, gyr = imu_from_orientation(t, q_true)
    acc = acc + rng.normal(0, 0.02, acc.shape)
    gyr = gyr + rng.normal(0, np.radians(0.1), gyr.shape)
    q = estimate_orientation(t, acc, gyr)
    results = []
    for size in (7, 50):
        calibrator = NeutralCalibrator()
        found = [c for a in range(0, len(t), size)
                 if (c := calibrator.update(t[a:a + size], acc[a:a + size], gyr[a:a + size], q[a:a + size]))]
        assert len(found) == 1 and calibrator.done
        results.append(found[0])
    assert results[0].made_at_s == results[1].made_at_s
    assert 3.0 + 5.0 <= results[0].made_at_s <= 3.0 + 5.5
    assert np.degrees(quat.angle_between(results[0].up_sensor, quat.earth_up_in_sensor(q0))) < 0.5


def _hinges(rng, mounting, n=3, peak_deg=50.0):
    """Standing, then ``n`` hip hinges; sensor-to-earth truth for a pelvis frame (x fwd, y left, z up)."""
    t = np.arange(0, 4 + 4.0 * n, 1 / RATE_HZ)
    phase = np.clip(t - 4.0, 0, None) % 4.0
    active = t >= 4.0
    angle = np.radians(peak_deg) * 0.5 * (1 - np.cos(2 * np.pi * np.minimum(phase, 3.0) / 3.0)) * active
    pelvis = quat.from_axis_angle(np.tile([0.0, 1.0, 0.0], (len(t), 1)), angle)  # anterior = +about left
    sensor = quat.multiply(pelvis, np.tile(mounting, (len(t), 1)))
    acc, gyr = imu_from_orientation(t, sensor)
    return t, acc + rng.normal(0, 0.02, acc.shape), gyr + rng.normal(0, np.radians(0.1), gyr.shape)


@pytest.mark.parametrize("seed", SEEDS)
def test_functional_axis_from_hinges_with_any_mounting(seed):
    rng = np.random.default_rng(seed)
    mounting = random_unit_quaternion(rng)  # sensor -> pelvis
    t, acc, gyr = _hinges(rng, mounting)
    q = estimate_orientation(t, acc, gyr)
    stand = calibration_from_window(t, acc, gyr, q, 0.5, 3.8)
    left = find_left_axis(t, gyr, q, stand.up_sensor)
    true_left = quat.rotate(quat.conjugate(mounting), [0.0, 1.0, 0.0])
    assert np.degrees(np.arccos(np.clip(left @ true_left, -1, 1))) < 2.0  # the sign is right too

    finder = AxisFinder(stand.up_sensor)
    for a in range(0, len(t), 25):
        finder.update(t[a:a + 25], gyr[a:a + 25], q[a:a + 25])
    assert np.degrees(np.arccos(np.clip(finder.axis @ true_left, -1, 1))) < 2.0


def test_functional_axis_needs_enough_movement():
    rng = np.random.default_rng(5)
    t, acc, gyr = _hinges(rng, random_unit_quaternion(rng), n=1, peak_deg=15.0)
    q = estimate_orientation(t, acc, gyr)
    stand = calibration_from_window(t, acc, gyr, q, 0.5, 3.8)
    with pytest.raises(CalibrationRejected, match="only .* of movement"):
        find_left_axis(t, gyr, q, stand.up_sensor)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_first_half_of_descents_tells_forward_from_backward(seed):
    """Squats (butt winks included) turn the pelvis forward while it starts down: positive about
    the true left axis, negative about the reversed one."""
    from firmware_interface.simulator import simulate
    from fusion.axis import early_descent_lean
    from fusion.vertical import vertical_acceleration

    session = simulate("squat", sample_rate_hz=100.0, seed=seed)
    batch = session.batch
    q = estimate_orientation(batch.t, batch.acc, batch.gyr)
    acc_z = vertical_acceleration(batch.acc, q)
    lean = early_descent_lean(batch.t, acc_z, batch.gyr, DEFAULT_LEFT_AXIS_SENSOR)
    assert lean > 0.3
    assert early_descent_lean(batch.t, acc_z, batch.gyr, -DEFAULT_LEFT_AXIS_SENSOR) == pytest.approx(-lean)
