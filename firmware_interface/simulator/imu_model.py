"""From ideal sacrum kinematics to what a real sensor delivers: mounting, soft-tissue
artifact, scale/cross-axis error, biases (turn-on and Gauss–Markov instability), white noise,
quantisation and saturation, then timestamp drift/jitter/duplicates and packet loss.

Each imperfection is a field of ``ImuImperfections``; zero (or None) switches it off. The
values of ``ImuImperfections.typical()`` come from the "Simulator parameters" table of
shared/domain/biomechanics.md. Every random draw comes from the generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from firmware_interface.errors import UsageError
from firmware_interface.samples import Marker
from firmware_interface.conventions import DEFAULT_SENSOR_TO_BODY, STANDARD_GRAVITY

from ._rotation import axis_angle_to_matrix, euler_zyx_to_matrix, quat_to_matrix
from .kinematics import PelvisMotion

SOFT_TISSUE_BAND_HZ = (2.0, 8.0)
SOFT_TISSUE_REFERENCE_RAD_S = 0.5
"""Pelvis angular speed at which the soft-tissue artifact reaches its full amplitude."""
SOFT_TISSUE_REFERENCE_ACC = 2.0
"""Linear acceleration (m/s²) at which the artifact reaches its full amplitude."""


@dataclass(frozen=True)
class ImuImperfections:
    """Sensor and link imperfections. The default instance is noise-free (``none()``)."""

    gyro_noise_dps_rthz: float = 0.0
    """Gyro white-noise density, °/s/√Hz (per-sample σ = density·√rate)."""
    acc_noise_ug_rthz: float = 0.0
    """Accelerometer white-noise density, µg/√Hz."""
    gyro_bias_dps: float = 0.0
    """σ of the per-axis turn-on gyro bias, °/s."""
    acc_bias_mg: float = 0.0
    """σ of the per-axis turn-on accelerometer bias, mg."""
    gyro_bias_instability_dph: float = 0.0
    """Stationary σ of the gyro's Gauss–Markov bias drift, °/h (starts at 0)."""
    gyro_bias_tau_s: float = 500.0
    acc_bias_instability_ug: float = 0.0
    acc_bias_tau_s: float = 800.0
    scale_error: float = 0.0
    """Per-axis scale-factor error, uniform within ±this fraction (both sensors)."""
    cross_axis: float = 0.0
    """Cross-axis coupling, uniform within ±this fraction."""
    acc_range_g: float | None = None
    """Full scale for quantisation and saturation (None: no quantisation)."""
    gyro_range_dps: float | None = None
    adc_bits: int = 16
    soft_tissue_deg: float = 0.0
    """RMS wobble of the sensor on the skin (2–8 Hz) at full movement speed; zero when still."""
    timestamp_jitter_s: float = 0.0
    """Uniform ± jitter on device timestamps."""
    duplicate_timestamp_prob: float = 0.0
    """Per-sample probability that the next 1–2 samples repeat this timestamp."""
    clock_drift_ppm: float = 0.0
    """Device clock rate error (signed)."""
    loss_fraction: float = 0.0
    """Independent per-sample loss probability."""
    burst_prob: float = 0.0
    """Per-sample probability that a burst loss starts (reported by a gap marker)."""
    burst_samples: tuple[int, int] = (5, 30)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "burst_samples":
                if len(value) != 2 or not 1 <= value[0] <= value[1]:
                    raise UsageError(f"ImuImperfections.burst_samples must be (min, max) with 1 <= min <= max, got {value!r}")
            elif value is not None and not (np.isfinite(value) and value >= 0) and f.name != "clock_drift_ppm":
                raise UsageError(f"ImuImperfections.{f.name} must be >= 0, got {value!r}")
        for name in ("loss_fraction", "burst_prob", "duplicate_timestamp_prob"):
            if getattr(self, name) >= 1.0:
                raise UsageError(f"ImuImperfections.{name} must be below 1, got {getattr(self, name)!r}")
        if not 4 <= self.adc_bits <= 32:
            raise UsageError(f"ImuImperfections.adc_bits must be within 4–32, got {self.adc_bits!r}")
        if self.gyro_bias_tau_s <= 0 or self.acc_bias_tau_s <= 0:
            raise UsageError("ImuImperfections bias time constants must be > 0 s")

    @classmethod
    def none(cls) -> ImuImperfections:
        """A perfect sensor on a perfect link."""
        return cls()

    @classmethod
    def typical(cls) -> ImuImperfections:
        """A consumer MEMS IMU strapped to the skin over BLE."""
        return cls(
            gyro_noise_dps_rthz=0.007,
            acc_noise_ug_rthz=120.0,
            gyro_bias_dps=0.7,
            acc_bias_mg=20.0,
            gyro_bias_instability_dph=5.0,
            acc_bias_instability_ug=36.0,
            scale_error=0.0075,
            cross_axis=0.01,
            acc_range_g=16.0,
            gyro_range_dps=2000.0,
            soft_tissue_deg=1.0,
            timestamp_jitter_s=0.003,
            duplicate_timestamp_prob=0.002,
            clock_drift_ppm=2.0,
            loss_fraction=0.01,
            burst_prob=0.002,
        )


@dataclass(frozen=True)
class Mounting:
    """How the sensor sits on the sacrum, as a recipe resolved with each session's seed.

    The offsets are a rotation (ZYX: yaw, pitch, roll about the pelvis's up, left and forward
    axes) applied on top of the default mounting of ``firmware_interface.conventions``. Positive pitch
    tips the sensor's top forward, as the sloping back of the sacrum does.
    """

    pitch_deg: float = 0.0
    pitch_sd_deg: float = 0.0
    yaw_deg: float = 0.0
    roll_deg: float = 0.0
    yaw_roll_spread_deg: float = 0.0
    """Extra yaw and roll, each uniform within ±this."""
    random_orientation: bool = False
    """Ignore the above: a uniformly random sensor orientation."""

    @classmethod
    def default(cls) -> Mounting:
        """Exactly the default mounting of firmware_interface.conventions."""
        return cls()

    @classmethod
    def default_with_misalignment(cls, pitch_mean_deg: float = 20.0, pitch_sd_deg: float = 8.0,
                                  yaw_roll_spread_deg: float = 10.0) -> Mounting:
        """Pitch offset N(20°, 8°) from the pelvis, yaw and roll U(-10°, +10°)."""
        return cls(pitch_deg=pitch_mean_deg, pitch_sd_deg=pitch_sd_deg, yaw_roll_spread_deg=yaw_roll_spread_deg)

    @classmethod
    def offset(cls, pitch_deg: float = 0.0, yaw_deg: float = 0.0, roll_deg: float = 0.0) -> Mounting:
        """A fixed, known misalignment."""
        return cls(pitch_deg=pitch_deg, yaw_deg=yaw_deg, roll_deg=roll_deg)

    @classmethod
    def random(cls) -> Mounting:
        return cls(random_orientation=True)

    def resolve(self, rng: np.random.Generator) -> np.ndarray:
        """The sensor-to-pelvis rotation (3, 3): v_pelvis = R @ v_sensor."""
        if self.random_orientation:
            q = rng.standard_normal(4)
            return quat_to_matrix(q / np.linalg.norm(q))
        pitch = self.pitch_deg + self.pitch_sd_deg * rng.standard_normal()
        yaw, roll = self.yaw_deg, self.roll_deg
        if self.yaw_roll_spread_deg:
            yaw += rng.uniform(-self.yaw_roll_spread_deg, self.yaw_roll_spread_deg)
            roll += rng.uniform(-self.yaw_roll_spread_deg, self.yaw_roll_spread_deg)
        offset = euler_zyx_to_matrix(*np.radians([yaw, pitch, roll]))
        return offset @ DEFAULT_SENSOR_TO_BODY


@dataclass(frozen=True, eq=False)
class SensedStream:
    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    delivered_index: np.ndarray
    """For each delivered sample, its index in the nominal (truth) sample grid."""
    markers: tuple[Marker, ...]


def _band_limited(n: int, sample_rate_hz: float, band_hz: tuple[float, float],
                  rng: np.random.Generator) -> np.ndarray:
    """(n, 3) noise with unit RMS per axis, restricted to a band, amplitude falling as 1/f
    (tissue wobble is mostly slow; a flat spectrum would swamp the gyro with its derivative)."""
    spectrum = np.fft.rfft(rng.standard_normal((n, 3)), axis=0)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    outside = (freqs < band_hz[0]) | (freqs > band_hz[1])
    spectrum *= np.where(outside, 0.0, 1.0 / np.maximum(freqs, band_hz[0]))[:, None]
    noise = np.fft.irfft(spectrum, n=n, axis=0)
    rms = np.sqrt(np.mean(noise**2, axis=0))
    return noise / np.where(rms > 0, rms, 1.0)


def _moving_average(x: np.ndarray, window: int) -> np.ndarray:
    window = max(int(window), 1)
    kernel = np.ones(window) / window
    return np.convolve(x, kernel, mode="same")


def _gauss_markov(t: np.ndarray, sigma: float, tau_s: float, rng: np.random.Generator) -> np.ndarray:
    """(N, 3) first-order Gauss–Markov process starting at 0, stationary σ ``sigma``.

    Simulated on a coarse grid (a fraction of tau) and interpolated: the process is slow.
    """
    step_s = min(1.0, tau_s / 20.0)
    n = int(np.ceil((t[-1] - t[0]) / step_s)) + 2
    decay = np.exp(-step_s / tau_s)
    shocks = sigma * np.sqrt(1.0 - decay**2) * rng.standard_normal((n, 3))
    state = np.zeros((n, 3))
    for k in range(1, n):
        state[k] = decay * state[k - 1] + shocks[k]
    coarse_t = t[0] + step_s * np.arange(n)
    return np.stack([np.interp(t, coarse_t, state[:, i]) for i in range(3)], axis=-1)


def _misalignment_matrix(scale: float, cross: float, rng: np.random.Generator) -> np.ndarray:
    m = np.eye(3) + np.diag(rng.uniform(-scale, scale, 3))
    off = ~np.eye(3, dtype=bool)
    m[off] += rng.uniform(-cross, cross, 6)
    return m


def _quantise(x: np.ndarray, full_scale: float | None, bits: int) -> np.ndarray:
    if full_scale is None:
        return x
    lsb = full_scale / 2 ** (bits - 1)
    counts = np.clip(np.round(x / lsb), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return counts * lsb


def _soft_tissue(motion: PelvisMotion, mounting: np.ndarray, amplitude_rad: float,
                 sample_rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """(N, 3) small wobble rotation of the sensor (sensor frame), mostly about the pelvis's
    left axis, scaled by how fast the pelvis moves."""
    n = len(motion.t)
    linear = np.linalg.norm(motion.acc_world - [0.0, 0.0, STANDARD_GRAVITY], axis=-1)
    speed = (np.linalg.norm(motion.gyr_pelvis, axis=-1) / SOFT_TISSUE_REFERENCE_RAD_S
             + linear / SOFT_TISSUE_REFERENCE_ACC)
    envelope = np.clip(_moving_average(speed, 0.5 * sample_rate_hz), 0.0, 1.0)
    band = (SOFT_TISSUE_BAND_HZ[0], min(SOFT_TISSUE_BAND_HZ[1], 0.4 * sample_rate_hz))
    wobble_pelvis = _band_limited(n, sample_rate_hz, band, rng) * [0.4, 1.0, 0.4]
    return (amplitude_rad * envelope)[:, None] * (wobble_pelvis @ mounting)


def _timestamps(t: np.ndarray, imp: ImuImperfections, rng: np.random.Generator) -> np.ndarray:
    device_t = t * (1.0 + imp.clock_drift_ppm * 1e-6)
    if imp.timestamp_jitter_s:
        device_t = device_t + rng.uniform(-imp.timestamp_jitter_s, imp.timestamp_jitter_s, len(t))
    if imp.duplicate_timestamp_prob:
        stamped = device_t.copy()  # runs repeat an original stamp, so they never chain
        for k in np.flatnonzero(rng.random(len(t)) < imp.duplicate_timestamp_prob):
            device_t[k + 1:k + 1 + int(rng.integers(1, 3))] = stamped[k]
    return np.maximum.accumulate(np.maximum(device_t, 0.0))


def _losses(n: int, imp: ImuImperfections, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(lost, in_burst) boolean masks."""
    lost = rng.random(n) < imp.loss_fraction
    starts = np.flatnonzero(rng.random(n) < imp.burst_prob)
    lengths = rng.integers(imp.burst_samples[0], imp.burst_samples[1] + 1, len(starts))
    edges = np.zeros(n + 1, dtype=np.int64)
    np.add.at(edges, starts, 1)
    np.add.at(edges, np.minimum(starts + lengths, n), -1)
    in_burst = np.cumsum(edges[:-1]) > 0
    return lost | in_burst, in_burst


def _gap_markers(device_t: np.ndarray, lost: np.ndarray, in_burst: np.ndarray) -> tuple[Marker, ...]:
    """One gap marker per run of lost samples that contains a burst: from the last delivered
    sample before it to the first delivered one after it."""
    edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    markers = []
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if not in_burst[start:stop].any():
            continue
        t_s = device_t[start - 1] if start > 0 else device_t[start]
        end_s = device_t[stop] if stop < len(device_t) else device_t[stop - 1]
        markers.append(Marker(float(t_s), "gap", end_s=float(end_s), data={"samples": int(stop - start)}))
    return tuple(markers)


def sense(motion: PelvisMotion, mounting: np.ndarray, imp: ImuImperfections, sample_rate_hz: float,
          rng: np.random.Generator) -> SensedStream:
    """What the sensor delivers for ``motion`` when mounted with ``mounting`` (sensor-to-pelvis)."""
    n = len(motion.t)
    # Independent streams per imperfection, so switching one off leaves the others unchanged.
    (tissue_rng, gyro_rng, acc_rng, gm_rng, noise_rng, time_rng, loss_rng) = rng.spawn(7)
    sensor_to_earth = motion.pelvis_to_earth @ mounting
    acc = np.einsum("nji,nj->ni", sensor_to_earth, motion.acc_world)
    gyr = motion.gyr_pelvis @ mounting

    if imp.soft_tissue_deg:
        wobble = _soft_tissue(motion, mounting, np.radians(imp.soft_tissue_deg), sample_rate_hz, tissue_rng)
        wobble_to_sensor = axis_angle_to_matrix(wobble)
        acc = np.einsum("nji,nj->ni", wobble_to_sensor, acc)
        gyr = np.einsum("nji,nj->ni", wobble_to_sensor, gyr) + np.gradient(wobble, 1.0 / sample_rate_hz, axis=0)

    gyr = gyr @ _misalignment_matrix(imp.scale_error, imp.cross_axis, gyro_rng).T
    acc = acc @ _misalignment_matrix(imp.scale_error, imp.cross_axis, acc_rng).T

    g = STANDARD_GRAVITY
    gyr = gyr + np.radians(imp.gyro_bias_dps) * gyro_rng.standard_normal(3)
    acc = acc + imp.acc_bias_mg * 1e-3 * g * acc_rng.standard_normal(3)
    gyro_gm_rng, acc_gm_rng = gm_rng.spawn(2)
    if imp.gyro_bias_instability_dph:
        gyr = gyr + _gauss_markov(motion.t, np.radians(imp.gyro_bias_instability_dph) / 3600.0,
                                  imp.gyro_bias_tau_s, gyro_gm_rng)
    if imp.acc_bias_instability_ug:
        acc = acc + _gauss_markov(motion.t, imp.acc_bias_instability_ug * 1e-6 * g, imp.acc_bias_tau_s, acc_gm_rng)

    gyro_noise_rng, acc_noise_rng = noise_rng.spawn(2)
    root_rate = np.sqrt(sample_rate_hz)
    if imp.gyro_noise_dps_rthz:
        gyr = gyr + np.radians(imp.gyro_noise_dps_rthz) * root_rate * gyro_noise_rng.standard_normal((n, 3))
    if imp.acc_noise_ug_rthz:
        acc = acc + imp.acc_noise_ug_rthz * 1e-6 * g * root_rate * acc_noise_rng.standard_normal((n, 3))

    acc = _quantise(acc, None if imp.acc_range_g is None else imp.acc_range_g * g, imp.adc_bits)
    gyr = _quantise(gyr, None if imp.gyro_range_dps is None else np.radians(imp.gyro_range_dps), imp.adc_bits)

    device_t = _timestamps(motion.t, imp, time_rng)
    lost, in_burst = _losses(n, imp, loss_rng)
    delivered = np.flatnonzero(~lost)
    return SensedStream(device_t[delivered], acc[delivered], gyr[delivered], delivered,
                        _gap_markers(device_t, lost, in_burst))
