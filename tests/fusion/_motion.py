"""Hand-made pelvis motion for detector unit tests: vertical position and tilt profiles, and
the vertical acceleration an ideal sensor would read (plus bias and noise)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _ease(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends (cosine ramp)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


@dataclass
class Motion:
    rate_hz: float = 100.0
    t_s: float = 0.0
    z: list = field(default_factory=list)
    tilt: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    reps: list = field(default_factory=list)  # (start_s, bottom_s, end_s, wink_deg)

    def _times(self, duration_s):
        n = int(round(duration_s * self.rate_hz))
        return np.arange(n) / self.rate_hz, n

    @property
    def _z0(self):
        return next((float(a[-1]) for a in reversed(self.z) if len(a)), 0.0)

    @property
    def _tilt0(self):
        return next((float(a[-1]) for a in reversed(self.tilt) if len(a)), 0.0)

    def hold(self, duration_s, label="standing", tilt_deg=None):
        s, n = self._times(duration_s)
        self.z.append(np.full(n, self._z0))
        target = self._tilt0 if tilt_deg is None else tilt_deg
        self.tilt.append(self._tilt0 + (target - self._tilt0) * _ease(s / 0.5))
        self.labels.append(np.full(n, label, dtype=object))
        self.t_s += n / self.rate_hz
        return self

    def move(self, duration_s, dz_m, tilt_to_deg, label="other", tilt_peak_deg=None):
        s, n = self._times(duration_s)
        x = s / duration_s
        self.z.append(self._z0 + dz_m * _ease(x))
        base = self._tilt0 + (tilt_to_deg - self._tilt0) * _ease(x)
        bump = 0.0 if tilt_peak_deg is None else (tilt_peak_deg - max(self._tilt0, tilt_to_deg)) * np.sin(np.pi * x) ** 2
        self.tilt.append(base + bump)
        self.labels.append(np.full(n, label, dtype=object))
        self.t_s += n / self.rate_hz
        return self

    def squat(self, depth_m=0.45, descent_s=1.6, pause_s=0.3, ascent_s=1.2, pitch_deg=30.0,
              wink_deg=0.0, wink_s=0.4):
        start = self.t_s
        tilt0 = self._tilt0
        s, n = self._times(descent_s)
        x = s / descent_s
        self.z.append(self._z0 - depth_m * _ease(x))
        # tilt rises to the peak, then (if winking) drops over the last wink_s of the descent
        rise = tilt0 + (pitch_deg - tilt0) * _ease(x / max(1e-9, 1 - wink_s / descent_s)) if wink_deg else \
            tilt0 + (pitch_deg - tilt0) * _ease(x)
        drop = wink_deg * _ease((s - (descent_s - wink_s)) / wink_s) if wink_deg else 0.0
        self.tilt.append(rise - drop)
        self.labels.append(np.full(n, "squatting", dtype=object))
        self.t_s += n / self.rate_hz
        bottom = self.t_s
        self.hold(pause_s, "squatting")
        self.move(ascent_s, depth_m, tilt0, "squatting")
        self.reps.append((start, bottom, self.t_s, wink_deg))
        return self

    def arrays(self, seed=0, bias=0.2, noise=0.05):
        z = np.concatenate(self.z)
        t = np.arange(len(z)) / self.rate_hz
        rng = np.random.default_rng(seed)
        acc_z = np.gradient(np.gradient(z, t), t) + bias + rng.normal(0, noise, len(z))
        true_tilt = np.concatenate(self.tilt)
        gyr = np.zeros((len(z), 3))
        gyr[:, 0] = np.radians(np.gradient(true_tilt, t)) + rng.normal(0, 0.002, len(z))
        tilt = true_tilt + rng.normal(0, 0.3, len(z))
        return t, tilt, acc_z, gyr, np.concatenate(self.labels).astype(str)
