"""Ground truth carried with every simulated session.

Tilt is the pelvis's sagittal angle relative to the subject's standing neutral, anterior
positive, in degrees: the pitch of the ZYX (yaw, pitch, roll) decomposition of the pelvis
orientation, i.e. ``asin(-R[2, 0])``, how far the pelvis's forward axis dips below the
horizon. Obliquity is the roll of that decomposition. At standing neutral the pelvis frame
(x forward, y left, z up) is level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .subject import Subject

TransitionKind = Literal["sit_down", "stand_up", "hinge", "lie_down", "get_up"]


@dataclass(frozen=True)
class EpisodeRules:
    """How truth sustained-tilt episodes are defined (the biomechanics "Recommended defaults",
    expressed against the standing neutral).

    An episode is a maximal interval of one activity (standing or sitting) where the
    noise-free tilt is beyond that activity's threshold, with excursions back inside shorter
    than ``fidget_tolerance_s`` merged, kept only when it lasts at least the activity's hold
    time. It starts at the first crossing and ends at the last sample beyond the threshold.
    """

    standing_anterior_deg: float = 10.0
    standing_posterior_deg: float = -8.0
    sitting_anterior_deg: float = 5.0
    """+8° vs a sitting reference is about +5° vs standing."""
    sitting_posterior_deg: float = -20.0
    """-10° vs a sitting reference is about -20° vs standing."""
    fidget_tolerance_s: float = 5.0
    standing_hold_s: float = 30.0
    sitting_hold_s: float = 60.0

    def thresholds(self, activity: str) -> tuple[float, float, float] | None:
        """(anterior_deg, posterior_deg, hold_s) for an activity, or None if not judged."""
        if activity == "standing":
            return self.standing_anterior_deg, self.standing_posterior_deg, self.standing_hold_s
        if activity == "sitting":
            return self.sitting_anterior_deg, self.sitting_posterior_deg, self.sitting_hold_s
        return None


@dataclass(frozen=True)
class TruthTransition:
    kind: TransitionKind
    start_s: float
    end_s: float


@dataclass(frozen=True)
class TruthEpisode:
    start_s: float
    end_s: float
    direction: Literal["anterior", "posterior"]
    activity: Literal["standing", "sitting"]
    peak_deg: float
    """Most extreme tilt inside the episode."""
    threshold_deg: float


@dataclass(frozen=True)
class TruthRep:
    set: int
    """1-based squat set number in the session."""
    index: int
    """1-based rep number within its set."""
    start_s: float
    bottom_s: float
    """End of the descent: the pelvis first reaches its lowest point (a pause may follow)."""
    end_s: float
    butt_wink: bool
    """The designed reversal is >= 10°."""
    wink_deg: float
    """Reversal realised in the truth tilt: max tilt from start to bottom minus the minimum
    from 70 % of the descent to bottom + 0.3 s."""
    depth_m: float
    """Designed drop of the hip centre."""
    designed_wink_deg: float
    peak_deg: float
    """Designed peak global anterior tilt in the descent."""


BOTTOM_WINDOW_START_FRACTION = 0.7
BOTTOM_WINDOW_AFTER_S = 0.3


def realised_wink_deg(t: np.ndarray, tilt_deg: np.ndarray, start_s: float, bottom_s: float) -> float:
    """The butt-wink reversal of one rep as the biomechanics reference defines it."""
    descent = (t >= start_s) & (t <= bottom_s)
    window_start = start_s + BOTTOM_WINDOW_START_FRACTION * (bottom_s - start_s)
    window = (t >= window_start) & (t <= bottom_s + BOTTOM_WINDOW_AFTER_S)
    return float(tilt_deg[descent].max() - tilt_deg[window].min())


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the True runs of a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def find_episodes(t: np.ndarray, tilt_deg: np.ndarray, activity: np.ndarray,
                  rules: EpisodeRules = EpisodeRules()) -> list[TruthEpisode]:
    """Sustained-tilt episodes of a noise-free tilt trace under ``rules``."""
    episodes: list[TruthEpisode] = []
    if not len(t):
        return episodes
    change = np.flatnonzero(activity[1:] != activity[:-1]) + 1
    block_starts = np.concatenate([[0], change])
    block_stops = np.concatenate([change, [len(t)]])
    for b0, b1 in zip(block_starts, block_stops):
        limits = rules.thresholds(str(activity[b0]))
        if limits is None:
            continue
        anterior_deg, posterior_deg, hold_s = limits
        tb, xb = t[b0:b1], tilt_deg[b0:b1]
        for direction, beyond, threshold in (("anterior", xb > anterior_deg, anterior_deg),
                                             ("posterior", xb < posterior_deg, posterior_deg)):
            starts, stops = _runs(beyond)
            if not len(starts):
                continue
            # Merge runs whose gap back inside is shorter than the fidget tolerance.
            gap_s = tb[starts[1:]] - tb[stops[:-1] - 1]
            keep = np.concatenate([[True], gap_s >= rules.fidget_tolerance_s])
            merged_starts = starts[keep]
            merged_stops = np.concatenate([stops[:-1][keep[1:]], [stops[-1]]])
            for s, e in zip(merged_starts, merged_stops):
                if tb[e - 1] - tb[s] < hold_s:
                    continue
                segment = xb[s:e]
                peak = float(segment.max() if direction == "anterior" else segment.min())
                episodes.append(TruthEpisode(float(tb[s]), float(tb[e - 1]), direction,
                                             str(activity[b0]), peak, threshold))
    return sorted(episodes, key=lambda e: e.start_s)


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """What really happened, at every nominal sample time (before any loss)."""

    t: np.ndarray
    """(N,) nominal sample times in seconds (true time, no drift or jitter)."""
    tilt_deg: np.ndarray
    obliquity_deg: np.ndarray
    pelvis_quat: np.ndarray
    """(N, 4) pelvis-to-earth, scalar first; pelvis frame x forward, y left, z up."""
    sensor_quat: np.ndarray
    """(N, 4) true sensor-to-earth for the rigid mounting (soft-tissue artifact excluded)."""
    mounting: np.ndarray
    """(3, 3) sensor-to-pelvis rotation: v_pelvis = mounting @ v_sensor."""
    position_m: np.ndarray
    """(N, 3) sensor position in the earth frame."""
    activity: np.ndarray
    """(N,) str: standing, sitting, walking, squatting, lying, other (transitions, hinge bends)."""
    transitions: tuple[TruthTransition, ...]
    reps: tuple[TruthRep, ...]
    episodes: tuple[TruthEpisode, ...]
    subject: Subject
    rules: EpisodeRules = field(default_factory=EpisodeRules)
    sample_rate_hz: float = 100.0

    def tilt_at(self, t: np.ndarray | float) -> np.ndarray:
        """True tilt (degrees) linearly interpolated at arbitrary times."""
        return np.interp(t, self.t, self.tilt_deg)

    def obliquity_at(self, t: np.ndarray | float) -> np.ndarray:
        return np.interp(t, self.t, self.obliquity_deg)

    def activity_at(self, t: np.ndarray | float) -> np.ndarray:
        """Activity label of the nearest nominal sample."""
        index = np.clip(np.round(np.asarray(t) * self.sample_rate_hz).astype(int), 0, len(self.t) - 1)
        return self.activity[index]
