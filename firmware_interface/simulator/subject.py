"""Randomised subject parameters, drawn once per simulated session from its seed.

Ranges follow the "Simulator parameters" table of shared/domain/biomechanics.md. Angles are
stored in degrees relative to the subject's standing neutral, anterior positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

SITTING_RANGES_DEG: Mapping[str, tuple[float, float]] = {
    # Kept clear of the episode thresholds (sitting: > +5°, < -20° vs standing) so that the
    # designed "arched" and "slumped" stretches are flagged and the others are not.
    "upright": (-5.0, 3.0),
    "habitual": (-19.0, -11.0),
    "slumped": (-30.0, -23.0),
    "arched": (8.0, 14.0),
}
SQUAT_DEPTH_RANGES_M: Mapping[str, tuple[float, float]] = {
    # For a 1.75 m adult; scaled with height.
    "half": (0.20, 0.30),
    "parallel": (0.35, 0.45),
    "deep": (0.45, 0.60),
}
SQUAT_PEAK_RANGE_DEG = (20.0, 40.0)
REFERENCE_HEIGHT_M = 1.75


@dataclass(frozen=True)
class Subject:
    height_m: float
    standing_tilt_deg: float
    """Absolute ASIS–PSIS tilt while standing (information only: truth tilt is relative to it)."""
    female: bool
    sway_deg: float
    """RMS sagittal sway in standing."""
    sitting_deg: Mapping[str, float] = field(default_factory=dict)
    """Centre angle per sitting posture."""
    sit_drop_m: float = 0.38
    transfer_peak_deg: float = 30.0
    """Forward pitch peak of sit-to-stand / stand-to-sit vs the sitting angle."""
    squat_depth_m: Mapping[str, float] = field(default_factory=dict)
    squat_peak_deg: float = 30.0
    hinge_deg: float = 55.0
    step_hz: float = 1.8
    step_length_m: float = 0.65
    bounce_m: float = 0.02
    """Amplitude of the vertical pelvis oscillation while walking."""

    @property
    def hip_height_m(self) -> float:
        return 0.52 * self.height_m

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Subject:
        female = bool(rng.random() < 0.5)
        height_m = float(np.clip(rng.normal(1.64 if female else 1.78, 0.07), 1.50, 1.98))
        scale = height_m / REFERENCE_HEIGHT_M
        # Women sit with more anterior tilt (Dunk & Callaghan): shift within the habitual range.
        sitting = {}
        for posture, (lo, hi) in SITTING_RANGES_DEG.items():
            centre = rng.uniform(lo, hi) if posture != "habitual" else (
                rng.uniform((lo + hi) / 2, hi) if female else rng.uniform(lo, (lo + hi) / 2))
            sitting[posture] = float(centre)
        return cls(
            height_m=height_m,
            standing_tilt_deg=float(np.clip(rng.normal(12.0, 5.0), 0.0, 25.0)),
            female=female,
            sway_deg=float(rng.uniform(0.3, 1.0)),
            sitting_deg=sitting,
            sit_drop_m=float(rng.uniform(0.30, 0.45)),
            transfer_peak_deg=float(rng.uniform(20.0, 40.0)),
            squat_depth_m={k: float(rng.uniform(lo, hi) * scale) for k, (lo, hi) in SQUAT_DEPTH_RANGES_M.items()},
            squat_peak_deg=float(rng.uniform(24.0, 36.0)),
            hinge_deg=float(rng.uniform(45.0, 70.0)),
            step_hz=float(rng.uniform(1.6, 2.0)),
            step_length_m=float(rng.uniform(0.60, 0.75) * scale),
            bounce_m=float(rng.uniform(0.015, 0.025)),
        )
