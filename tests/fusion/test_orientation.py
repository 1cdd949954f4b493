"""Orientation estimation: known rotations, stream == batch, the ahrs work-arounds, bias, gaps, BROAD."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from ahrs.filters import Madgwick

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fusion._imu_synth import (  # noqa: E402
    imu_from_orientation, inclination_error_deg, random_unit_quaternion, wobble,
)

from firmware_interface.samples import SampleBatch  # noqa: E402
from fusion import _quaternion as quat  # noqa: E402
from fusion import estimate_orientation  # noqa: E402
from fusion.orientation import OrientationEstimator, OrientationParams  # noqa: E402

BROAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "broad"
SEEDS = [1, 2, 3]


def _irregular_times(rng: np.random.Generator, duration_s: float, rate_hz: float) -> np.ndarray:
    """Jittered sampling with a few dropped runs of samples (BLE loss)."""
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz + rng.uniform(-0.002, 0.002, n)
    keep = np.ones(n, dtype=bool)
    for start in rng.integers(0, n - 30, 3):
        keep[start:start + rng.integers(5, 30)] = False
    return np.sort(t[keep])


@pytest.mark.parametrize("seed", SEEDS)
def test_stream_equals_batch(seed):
    rng = np.random.default_rng(seed)
    t = _irregular_times(rng, 20.0, 100.0)
    q_true = wobble(t, random_unit_quaternion(rng), rng)
    acc, gyr = imu_from_orientation(t, q_true)
    acc += rng.normal(0, 0.05, acc.shape)
    gyr += rng.normal(0, 0.002, gyr.shape) + np.radians([0.5, -0.3, 0.2])

    batch = estimate_orientation(t, acc, gyr)
    estimator = OrientationEstimator()
    cuts = np.sort(rng.choice(np.arange(1, len(t)), size=60, replace=False))
    pieces = [estimator.update(SampleBatch(t[a:b], acc[a:b], gyr[a:b]))
              for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(t)])]
    stream = np.concatenate(pieces)
    assert stream.shape == (len(t), 4)
    np.testing.assert_allclose(stream, batch, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_tracks_a_known_rotation(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(0, 30, 0.01)
    q_true = wobble(t, random_unit_quaternion(rng), rng, amplitude_deg=60.0)
    acc, gyr = imu_from_orientation(t, q_true)
    q = estimate_orientation(t, acc, gyr)
    error = inclination_error_deg(q, q_true)
    assert error[0] < 1e-4  # initialised from gravity
    assert np.sqrt(np.mean(error ** 2)) < 0.5


def test_empty_batch_and_reset():
    rng = np.random.default_rng(4)
    t = np.arange(0, 5, 0.01)
    acc, gyr = imu_from_orientation(t, wobble(t, random_unit_quaternion(rng), rng))
    estimator = OrientationEstimator()
    assert estimator.update(SampleBatch.empty()).shape == (0, 4)
    first = estimator.update(SampleBatch(t, acc, gyr))
    estimator.reset()
    np.testing.assert_array_equal(estimator.update(SampleBatch(t, acc, gyr)), first)


@pytest.mark.parametrize("seed", SEEDS)
def test_exactly_zero_gyroscope_still_corrects(seed):
    """ahrs 0.4 Madgwick skips the whole update when the gyro reads exactly 0 (quantised at rest)."""
    rng = np.random.default_rng(seed)
    q_rest = random_unit_quaternion(rng)
    t = np.arange(0, 4, 0.01)
    acc, _ = imu_from_orientation(t, np.tile(q_rest, (len(t), 1)))
    # The first sample is a jolt: initialisation from it is 15° off.
    jolt_axis = quat.normalize(np.cross(acc[0], rng.normal(size=3)))
    jolt = quat.from_axis_angle(jolt_axis, np.radians(15.0))
    acc[0] = quat.rotate(jolt, acc[0])
    gyr = np.zeros_like(acc)
    params = OrientationParams(gyro_bias=None)
    q = estimate_orientation(t, acc, gyr, params)
    assert inclination_error_deg(q[:1], q_rest[None])[0] > 10.0
    assert inclination_error_deg(q[-1:], q_rest[None])[0] < 0.3


@pytest.mark.parametrize("seed", SEEDS)
def test_gyro_bias_learnt_at_rest(seed):
    rng = np.random.default_rng(seed)
    bias = np.radians(rng.uniform(-1.5, 1.5, 3))
    t = np.arange(0, 10, 0.01)
    acc, gyr = imu_from_orientation(t, np.tile(random_unit_quaternion(rng), (len(t), 1)))
    gyr = gyr + bias + rng.normal(0, np.radians(0.1), gyr.shape)
    acc = acc + rng.normal(0, 0.02, acc.shape)
    estimator = OrientationEstimator()
    estimator.update(SampleBatch(t, acc, gyr))
    assert np.degrees(np.abs(estimator.gyro_bias_rad_s - bias)).max() < 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_bias_estimation_helps_through_motion(seed):
    """10 s at rest, then 60 s of motion with a biased gyro: the learnt bias lowers the error."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 70, 0.01)
    q0 = random_unit_quaternion(rng)
    q_true = np.where((t < 10)[:, None], q0, wobble(t - 10, q0, rng, amplitude_deg=20.0))
    acc, gyr = imu_from_orientation(t, quat.normalize(q_true))
    gyr = gyr + np.radians(rng.choice([-1, 1], 3) * 2.0)
    moving = t > 10
    with_bias = inclination_error_deg(estimate_orientation(t, acc, gyr)[moving], q_true[moving])
    without = inclination_error_deg(
        estimate_orientation(t, acc, gyr, OrientationParams(gyro_bias=None))[moving], q_true[moving])
    assert np.sqrt(np.mean(with_bias ** 2)) < 0.5 * np.sqrt(np.mean(without ** 2))


@pytest.mark.parametrize("seed", SEEDS)
def test_recovers_after_a_gap(seed):
    """A 2 s link loss while the sensor turns 30°: the rotation is missed, the error closes again."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 10, 0.01)
    q0 = random_unit_quaternion(rng)
    axis = quat.normalize(rng.normal(size=3))
    angle = np.radians(30.0) * np.clip((t - 4.0) / 2.0, 0.0, 1.0)
    q_true = quat.multiply(quat.from_axis_angle(np.tile(axis, (len(t), 1)), angle), q0)
    acc, gyr = imu_from_orientation(t, q_true)
    keep = (t < 4.0) | (t >= 6.0)
    q = estimate_orientation(t[keep], acc[keep], gyr[keep])
    error = inclination_error_deg(q, q_true[keep])
    after = t[keep] - 6.0
    assert error[after >= 0][0] > 5.0  # the gap really lost the rotation...
    assert error[after > 2.5].max() < 0.5  # ...and the filter recovered within recovery_s


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_acceleration_barely_tilts_the_estimate(seed):
    """Sit-to-stand-like forward/upward accelerations of 0.3 g must not be read as tilt."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 30, 0.01)
    q_true = np.tile(random_unit_quaternion(rng), (len(t), 1))
    # Bounded velocity (zero-mean pulses), after 2 s of standing still.
    pulse = np.sin(2 * np.pi * t / 1.5) * ((t % 3.0) < 1.5) * (t >= 3.0)
    lin = 0.3 * 9.81 * pulse[:, None] * quat.normalize(np.array([1.0, 0.0, 0.6]))
    acc, gyr = imu_from_orientation(t, q_true, lin)
    gyr = gyr + rng.normal(0, np.radians(0.1), gyr.shape)
    error = inclination_error_deg(estimate_orientation(t, acc, gyr), q_true)
    plain = inclination_error_deg(
        Madgwick(gyr=gyr, acc=acc, frequency=100.0, gain=0.033).Q, q_true)
    assert np.sqrt(np.mean(error ** 2)) < 1.0
    assert np.sqrt(np.mean(error ** 2)) < 0.8 * np.sqrt(np.mean(plain ** 2))


@pytest.mark.skipif(not BROAD.is_dir(), reason="shared BROAD data not present")
def test_broad_excerpt_beats_plain_madgwick():
    """Regression on 100 s of real data (BROAD trial 21, fast combined motion; CC BY 4.0)."""
    data = np.load(BROAD / "21_undisturbed_fast_combined.npz")
    fs = float(data["sampling_rate"])
    n = int(100 * fs)
    acc = data["acc"][:n].astype(float)
    gyr = data["gyr"][:n].astype(float)
    truth = data["opt_quat"][:n].astype(float)
    valid = data["movement"][:n] & np.all(np.isfinite(truth), axis=1)
    t = np.arange(n) / fs

    def rmse(q):
        return float(np.sqrt(np.mean(inclination_error_deg(q[valid], truth[valid]) ** 2)))

    ours = rmse(estimate_orientation(t, acc, gyr))
    plain = rmse(Madgwick(gyr=gyr, acc=acc, frequency=fs, gain=0.033).Q)
    assert ours < 0.8 * plain
    assert ours < 2.0


def test_params_are_validated():
    with pytest.raises(ValueError, match="gain"):
        OrientationParams(gain=-1.0)
    with pytest.raises(ValueError, match="acc_trust"):
        replace(OrientationParams(), acc_trust_g=(0.5, 0.1))
