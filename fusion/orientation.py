"""Orientation from accelerometer and gyroscope: ahrs's Madgwick filter, fed carefully.

ahrs stays the fusion engine: each sample is one ``Madgwick.updateIMU`` call. What this module
adds is computed per batch with NumPy, so the per-sample Python work is that call and nothing
else:

* initialisation from the first accelerometer sample (zero heading) instead of identity;
* time steps from the device timestamps; a gap longer than ``max_gap_s`` (or a repeated
  timestamp) is not integrated, and the filter trusts the accelerometer more for
  ``recovery_s`` afterwards, as it does after a reset;
* gyroscope bias learnt while at rest (``bias.py``) and subtracted;
* a gain that depends on the situation: higher at rest, lower in motion, and scaled down to zero
  as the accelerometer's magnitude departs from 1 g (squats, sit-to-stand, impacts);
* a work-around for ahrs 0.4 returning the previous orientation unchanged whenever the
  gyroscope sample is exactly zero (quantised sensors at rest): such samples get a rate of
  1e-12 rad/s, which integrates to nothing but lets the accelerometer correction run.

Output quaternions are (w, x, y, z), sensor-to-earth, earth z up, heading arbitrary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ahrs.filters import Madgwick

from firmware_interface.samples import SampleBatch
from fusion import _quaternion as quat
from fusion.bias import GyroBiasEstimator, GyroBiasParams
from fusion.conventions import STANDARD_GRAVITY

_NEGLIGIBLE_RATE_RAD_S = 1e-12


@dataclass(frozen=True)
class OrientationParams:
    gain: float = 0.033
    """Madgwick gain (beta) in motion with a trustworthy accelerometer."""
    rest_gain: float = 0.1
    """Gain while the bias estimator sees rest: the accelerometer reads gravity only."""
    startup_gain: float = 0.5
    """Gain right after a reset or a gap, ramping down to the normal gain over ``recovery_s``."""
    recovery_s: float = 2.0
    acc_trust_start_g: float = 0.05
    """The gain starts to fall once | ‖a‖ − g | exceeds this (in g)..."""
    acc_trust_end_g: float = 0.25
    """... and reaches zero (gyroscope only) at this deviation (in g)."""
    max_gap_s: float = 0.1
    """A longer step between samples is a gap: not integrated."""
    gyro_bias: GyroBiasParams | None = GyroBiasParams()
    """None: no bias estimation."""

    def __post_init__(self) -> None:
        for name in ("gain", "rest_gain", "startup_gain"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"OrientationParams.{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("recovery_s", "max_gap_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"OrientationParams.{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.acc_trust_start_g < self.acc_trust_end_g:
            raise ValueError("OrientationParams needs 0 <= acc_trust_start_g < acc_trust_end_g, got "
                             f"{self.acc_trust_start_g!r} and {self.acc_trust_end_g!r}")


class OrientationEstimator:
    """Streaming orientation: ``update(batch)`` returns one quaternion per sample; state carries over."""

    def __init__(self, params: OrientationParams = OrientationParams()) -> None:
        self.params = params
        self._madgwick = Madgwick(gain=params.gain)
        self._bias = GyroBiasEstimator(params.gyro_bias) if params.gyro_bias is not None else None
        self.reset()

    def reset(self) -> None:
        self._q: np.ndarray | None = None
        self._last_t: float | None = None
        self._recovery_start_s = -np.inf
        if self._bias is not None:
            self._bias.reset()

    @property
    def gyro_bias_rad_s(self) -> np.ndarray:
        """The current gyroscope bias estimate (zeros without bias estimation)."""
        return self._bias.bias_rad_s if self._bias is not None else np.zeros(3)

    @property
    def quaternion(self) -> np.ndarray | None:
        """The latest orientation, or None before the first sample."""
        return None if self._q is None else self._q.copy()

    def update(self, batch: SampleBatch) -> np.ndarray:
        n = len(batch)
        out = np.empty((n, 4))
        if n == 0:
            return out
        gyr, dt, gain = self._prepare(batch.t, batch.acc, batch.gyr)
        acc = batch.acc
        madgwick = self._madgwick
        start = 0
        q = self._q
        if q is None:
            q = quat.from_gravity(acc[0])
            out[0] = q
            start = 1
        for i in range(start, n):
            madgwick.gain = gain[i]
            q = madgwick.updateIMU(q, gyr[i], acc[i], dt[i])
            out[i] = q
        self._q = q
        return out

    def _prepare(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per sample and vectorised: corrected gyroscope, time step and gain."""
        p = self.params
        previous_t = t[0] if self._last_t is None else self._last_t
        raw_dt = np.diff(t, prepend=previous_t)
        gap = raw_dt > p.max_gap_s
        if self._last_t is None:
            gap[0] = True  # the first sample after a reset starts a recovery ramp too
        # Neither a gap nor a repeated or out-of-order timestamp is integrated.
        dt = np.where(gap | (raw_dt <= 0.0), 0.0, raw_dt)
        self._last_t = float(t[-1])
        recovery_start = np.maximum.accumulate(np.where(gap, t, self._recovery_start_s))
        self._recovery_start_s = float(recovery_start[-1])
        ramp = np.clip(1.0 - (t - recovery_start) / p.recovery_s, 0.0, 1.0)

        rest = np.zeros(len(t), dtype=bool)
        if self._bias is not None:
            bias, rest = self._bias.update(t, gyr, acc)
            gyr = gyr - bias
        gyr = np.where(np.any(gyr != 0.0, axis=1, keepdims=True), gyr, [_NEGLIGIBLE_RATE_RAD_S, 0.0, 0.0])

        acc_deviation_g = np.abs(np.linalg.norm(acc, axis=1) / STANDARD_GRAVITY - 1.0)
        trust = np.clip((p.acc_trust_end_g - acc_deviation_g) / (p.acc_trust_end_g - p.acc_trust_start_g), 0.0, 1.0)
        base_gain = np.where(rest, p.rest_gain, p.gain)
        gain = trust * (base_gain + ramp * np.maximum(p.startup_gain - base_gain, 0.0))
        return gyr, dt, gain


def estimate_orientation(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                         params: OrientationParams | None = None) -> np.ndarray:
    """Batch orientation: (N, 4) unit quaternions (w, x, y, z), sensor-to-earth, earth z up.

    ``t`` in s, ``acc`` in m/s², ``gyr`` in rad/s (sensor frame). The same kernel as the
    streaming ``OrientationEstimator``, so both agree sample for sample.
    """
    return OrientationEstimator(params or OrientationParams()).update(SampleBatch(t, acc, gyr))
