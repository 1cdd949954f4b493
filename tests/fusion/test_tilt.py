"""Tilt and obliquity from known poses (any mounting), sitting reference, slip detection."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fusion._imu_synth import random_unit_quaternion  # noqa: E402

from fusion import _quaternion as quat  # noqa: E402
from fusion.calibration import Calibration  # noqa: E402
from fusion.tilt import TiltEstimator  # noqa: E402

SEEDS = [1, 2, 3]
X, Y, Z = np.eye(3)


def _pelvis(yaw_deg, tilt_deg, obliquity_deg):
    """Pelvis-to-earth, ZYX: yaw about up, pitch (anterior tilt) about left, roll about forward."""
    n = len(np.atleast_1d(tilt_deg))
    rot = lambda axis, deg: quat.from_axis_angle(np.tile(axis, (n, 1)), np.radians(np.atleast_1d(deg)))  # noqa: E731
    return quat.multiply(quat.multiply(rot(Z, yaw_deg), rot(Y, tilt_deg)), rot(X, obliquity_deg))


def _calibration_for(mounting):
    """Exact neutral for a sensor -> pelvis mounting quaternion."""
    to_sensor = quat.conjugate(mounting)
    return Calibration(quat.rotate(to_sensor, Z), quat.rotate(to_sensor, Y), "functional")


@pytest.mark.parametrize("seed", SEEDS)
def test_known_tilt_and_obliquity_with_any_mounting(seed):
    rng = np.random.default_rng(seed)
    mounting = random_unit_quaternion(rng)
    tilt = rng.uniform(-60, 60, 200)
    obliquity = rng.uniform(-30, 30, 200)
    yaw = rng.uniform(-180, 180, 200)
    q_sensor = quat.multiply(_pelvis(yaw, tilt, obliquity), np.tile(mounting, (200, 1)))
    out = TiltEstimator(_calibration_for(mounting)).update(np.arange(200) * 0.01, q_sensor)
    np.testing.assert_allclose(out.tilt_deg, tilt, atol=1e-9)
    np.testing.assert_allclose(out.obliquity_deg, obliquity, atol=1e-9)
    assert out.calibrated and out.axis_known and not out.sensor_slipped


def test_anterior_is_positive_for_the_default_mounting():
    """Default mounting: sensor +y up the spine, +z out of the back. Bending forward tilts +y forward."""
    cal = Calibration.standing(np.array([0.0, 1.0, 0.0]))
    # The pelvis rotates forward by 20°: the sensed up direction turns towards sensor −z... by −20° about left.
    up = quat.rotate(quat.from_axis_angle(cal.left_axis_sensor, np.radians(-20.0)), cal.up_sensor)
    q = quat.from_two_vectors(up, Z)
    out = TiltEstimator(cal).update(np.array([0.0]), q[None])
    assert out.tilt_deg[0] == pytest.approx(20.0)
    assert not out.axis_known


def test_without_calibration_everything_is_nan():
    out = TiltEstimator().update(np.arange(3) * 0.01, np.tile([1.0, 0, 0, 0], (3, 1)))
    assert np.all(np.isnan(out.tilt_deg)) and np.all(np.isnan(out.obliquity_deg)) and not out.calibrated


def test_sitting_reference():
    mounting = random_unit_quaternion(np.random.default_rng(4))
    cal = _calibration_for(mounting)
    sit_up = quat.rotate(quat.conjugate(mounting), quat.rotate(quat.conjugate(_pelvis(0, -15, 0)[0]), Z))
    cal = cal.with_sitting(sit_up)
    q = quat.multiply(_pelvis([0, 0], [-15, -25], [0, 0]), np.tile(mounting, (2, 1)))
    out = TiltEstimator(cal).update(np.array([0.0, 0.01]), q)
    np.testing.assert_allclose(out.sit_tilt_deg, [0.0, -10.0], atol=1e-9)


def _hold(mounting, tilt_deg, obliquity_deg, seconds, rng, start_s=0.0):
    t = start_s + np.arange(0, seconds, 0.01)
    wobble = rng.normal(0, 0.2, len(t))
    return t, quat.multiply(_pelvis(np.zeros(len(t)), tilt_deg + wobble, obliquity_deg + wobble),
                            np.tile(mounting, (len(t), 1)))


@pytest.mark.parametrize("seed", SEEDS)
def test_slip_is_flagged_for_a_held_frontal_offset_and_cleared_by_recalibration(seed):
    rng = np.random.default_rng(seed)
    mounting = random_unit_quaternion(rng)
    estimator = TiltEstimator(_calibration_for(mounting))
    t, q = _hold(mounting, 0.0, 12.0, 30.0, rng)
    flags = [estimator.update(t[a:a + 37], q[a:a + 37]).sensor_slipped for a in range(0, len(t), 37)]
    assert not flags[0] and flags[-1]
    # Stillness is known once a span has ended: all but the last span's samples.
    assert TiltEstimator(_calibration_for(mounting)).update(t, q).still[:-150].all()
    estimator.set_calibration(_calibration_for(mounting))
    assert not estimator.update(t[:5] + 40.0, q[:5]).sensor_slipped


@pytest.mark.parametrize("tilt_deg, obliquity_deg", [(12.0, 0.0), (-25.0, 2.0), (-90.0, 0.0), (0.0, 85.0)])
def test_real_postures_and_lying_are_not_slips(tilt_deg, obliquity_deg):
    rng = np.random.default_rng(9)
    mounting = random_unit_quaternion(rng)
    estimator = TiltEstimator(_calibration_for(mounting))
    t, q = _hold(mounting, tilt_deg, obliquity_deg, 40.0, rng)
    assert not estimator.update(t, q).sensor_slipped


def test_moving_is_never_a_slip():
    rng = np.random.default_rng(10)
    mounting = random_unit_quaternion(rng)
    t = np.arange(0, 60, 0.01)
    q = quat.multiply(_pelvis(np.zeros(len(t)), 20 * np.sin(t), 12 + 5 * np.sin(3 * t)), np.tile(mounting, (len(t), 1)))
    out = TiltEstimator(_calibration_for(mounting)).update(t, q)
    assert not out.sensor_slipped and not out.still.any()
