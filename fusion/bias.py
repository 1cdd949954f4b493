"""Gyroscope bias learnt while the sensor is at rest (the shape of x-io Fusion's ``FusionBias``).

Samples are cut into fixed spans of device time (``chunk_s``) counted from the first sample, so
the estimate does not depend on how the stream was split into batches: streaming and batch runs
give the same bias for every sample. A span counts as rest when the gyroscope and accelerometer
barely vary within it; after ``rest_min_s`` of continuous rest each further rest span moves the
estimate towards the span's mean rate (a running mean at first, then an exponential average with
time constant ``tau_s``). The bias applied to a sample is the estimate from spans that ended
before it, so the correction is causal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fusion._spans import SpanSplitter


@dataclass(frozen=True)
class GyroBiasParams:
    chunk_s: float = 0.25
    """Length of the spans that are tested for rest, seconds."""
    rest_gyro_sd_deg_s: float = 3.0
    """Rest: the gyroscope's standard deviation within the span (norm over the axes) stays below
    this (°/s). Real people standing, sitting or lying still, with the sensor at the waist: median
    0.6–0.9°/s, 90th percentile 2–4°/s (sway, breathing). A standard deviation, not the largest
    deviation, so the test does not tighten as the sample rate grows."""
    rest_acc_sd_m_s2: float = 0.25
    """Rest: the accelerometer's standard deviation within the span stays below this (m/s²);
    still people: median 0.07–0.14, 90th percentile 0.17–0.21."""
    rest_min_s: float = 1.0
    """Continuous rest needed before spans update the estimate, seconds."""
    rest_max_tilt_deg: float = 2.0
    """Rest: the mean accelerometer direction stays within this of where the rest began, so a
    slow steady rotation is not mistaken for bias (standing sway is 0.3–1° RMS)."""
    max_bias_deg_s: float = 10.0
    """A span whose mean rate exceeds this is motion, not bias (°/s): consumer gyroscopes are off
    by up to 10°/s at switch-on (BMI160's limit); a slow turn below it is caught by the tilt test."""
    tau_s: float = 20.0
    """Time constant of the estimate once enough rest has been seen, seconds of rest."""

    def __post_init__(self) -> None:
        for name in ("chunk_s", "rest_gyro_sd_deg_s", "rest_acc_sd_m_s2", "rest_max_tilt_deg",
                     "max_bias_deg_s", "tau_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"GyroBiasParams.{name} must be > 0, got {getattr(self, name)!r}")
        if self.rest_min_s < 0:
            raise ValueError(f"GyroBiasParams.rest_min_s must be >= 0, got {self.rest_min_s!r}")


class GyroBiasEstimator:
    def __init__(self, params: GyroBiasParams = GyroBiasParams()) -> None:
        self.params = params
        self._rest_gyro_sd_rad_s = np.radians(params.rest_gyro_sd_deg_s)
        self._max_bias_rad_s = np.radians(params.max_bias_deg_s)
        self.reset()

    def reset(self) -> None:
        self._bias = (0.0, 0.0, 0.0)
        self._rest_s = 0.0
        self._learnt_s = 0.0
        self._rest_acc_direction = (0.0, 0.0, 0.0)  # where the current rest began
        self._spans = SpanSplitter(self.params.chunk_s)

    @property
    def bias_rad_s(self) -> np.ndarray:
        return np.array(self._bias)

    @property
    def at_rest(self) -> bool:
        """The last ended spans were rest for at least ``rest_min_s``."""
        return self._rest_s >= self.params.rest_min_s

    def update(self, t: np.ndarray, gyr: np.ndarray, acc: np.ndarray) -> list[tuple[int, tuple[float, float, float], bool]]:
        """Runs of samples with one bias: ``(stop, bias, at_rest)``, each run from the previous
        run's ``stop`` (0 first) to its own, the last to ``len(t)``; ``bias`` (rad/s) is to be
        subtracted from those samples, ``at_rest`` whether the sensor was at rest before them.
        (Runs, not per-sample arrays: the orientation filter takes them per sample as floats.)"""
        runs = []
        done = 0
        for span in self._spans.split(t, gyr, acc):
            if span.stop > done:
                runs.append((span.stop, self._bias, self.at_rest))
                done = span.stop
            self._end_span(span.t, *span.columns, span.duration_s)
        runs.append((len(t), self._bias, self.at_rest))
        return runs

    def _end_span(self, t: np.ndarray, gyr: np.ndarray, acc: np.ndarray, span_s: float) -> None:
        p = self.params
        if len(t) < 2 or span_s > 2.0 * p.chunk_s:  # a gap inside the span breaks the rest
            self._rest_s = 0.0
            return
        # Both sensors' means and variances in few NumPy calls: a span holds tens of samples,
        # where each call's fixed cost outweighs its arithmetic.
        columns = np.concatenate((gyr, acc), axis=1)
        mean = columns.sum(axis=0) / len(t)
        deviation = columns - mean
        gx, gy, gz, ax, ay, az = mean.tolist()
        gvx, gvy, gvz, avx, avy, avz = (np.einsum("ij,ij->j", deviation, deviation) / len(t)).tolist()
        acc_norm = max(math.sqrt(ax * ax + ay * ay + az * az), 1e-12)
        acc_direction = (ax / acc_norm, ay / acc_norm, az / acc_norm)
        is_rest = (gvx + gvy + gvz < self._rest_gyro_sd_rad_s ** 2
                   and avx + avy + avz < p.rest_acc_sd_m_s2 ** 2
                   and gx * gx + gy * gy + gz * gz < self._max_bias_rad_s ** 2)
        if is_rest and self._rest_s > 0:
            cosine = sum(a * b for a, b in zip(acc_direction, self._rest_acc_direction))
            is_rest = math.degrees(math.acos(min(max(cosine, -1.0), 1.0))) <= p.rest_max_tilt_deg
        if not is_rest:
            self._rest_s = 0.0
            return
        if self._rest_s == 0.0:
            self._rest_acc_direction = acc_direction
        self._rest_s += span_s
        if self._rest_s >= p.rest_min_s:
            self._learnt_s += span_s
            # Running mean until tau_s of rest has been seen, then an exponential average.
            weight = max(span_s / p.tau_s, span_s / self._learnt_s)
            self._bias = tuple(b + weight * (m - b) for b, m in zip(self._bias, (gx, gy, gz)))
