"""Scenarios as data: a session is a sequence of frozen segments.

Every segment knows its duration, so ``Scenario.duration_s`` is exact before simulating.
Subject-dependent amplitudes (sitting angles, squat depth, sway, ...) are drawn from the
simulation seed unless a segment overrides them (the ``None`` fields below). Timing fields
have fixed defaults; rep-to-rep timing variability inside a ``SquatSet`` is renormalised so
the set still lasts exactly ``duration_s``.

Posture rules: ``Stand``, ``Walk``, ``SitDown``, ``SquatSet``, ``HipHinges`` and ``Lie`` start
and end standing; ``Sit`` and ``StandUp`` start sitting; ``SitDown`` ends sitting. A session
starts with ``Stand`` of at least 5 s (the default calibration window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Literal, Union

import numpy as np

from firmware_interface.errors import UsageError

Posture = Literal["upright", "habitual", "slumped", "arched"]
Depth = Literal["half", "parallel", "deep"]
POSTURES: tuple[Posture, ...] = ("upright", "habitual", "slumped", "arched")
DEPTHS: tuple[Depth, ...] = ("half", "parallel", "deep")
CALIBRATION_STAND_S = 5.0
"""The default standing calibration window every session starts with."""


def _positive(owner: str, **values: float | None) -> None:
    for name, value in values.items():
        if value is not None and not (np.isfinite(value) and value > 0):
            raise UsageError(f"{owner}.{name} must be a positive number of seconds/units, got {value!r}")


@dataclass(frozen=True)
class Stand:
    """Quiet standing with postural sway; ``tilt_deg`` holds a posture offset vs neutral
    (blended in and out over up to 2 s) for designed standing tilt."""

    duration_s: float
    sway_deg: float | None = None
    """RMS sagittal sway, 0.1–1 Hz; None = the subject's (0.3–1°); 0 = perfectly still."""
    tilt_deg: float = 0.0
    starts: ClassVar[str] = "standing"
    ends: ClassVar[str] = "standing"

    def __post_init__(self) -> None:
        _positive("Stand", duration_s=self.duration_s)
        if self.sway_deg is not None and not (0 <= self.sway_deg <= 5):
            raise UsageError(f"Stand.sway_deg must be within 0–5°, got {self.sway_deg!r}")
        if not -60 <= self.tilt_deg <= 60:
            raise UsageError(f"Stand.tilt_deg must be within ±60°, got {self.tilt_deg!r}")
        if self.tilt_deg and self.duration_s < 2.0:
            raise UsageError("Stand with tilt_deg needs duration_s >= 2 s to blend in and out")


@dataclass(frozen=True)
class Walk:
    """Level walking: vertical bounce, pelvic rotation/obliquity at stride frequency, forward
    speed; starts and stops within the first/last second and turns by ``turn_deg`` at the start."""

    duration_s: float
    speed_mps: float | None = None
    step_hz: float | None = None
    """Step frequency (two steps per stride); None = the subject's (1.6–2.0 Hz)."""
    turn_deg: float | None = None
    """Heading change at the start; None = random within ±180°."""
    starts: ClassVar[str] = "standing"
    ends: ClassVar[str] = "standing"

    def __post_init__(self) -> None:
        _positive("Walk", duration_s=self.duration_s, speed_mps=self.speed_mps, step_hz=self.step_hz)
        if self.duration_s < 3.0:
            raise UsageError(f"Walk.duration_s must be >= 3 s (start and stop), got {self.duration_s!r}")


@dataclass(frozen=True)
class SitDown:
    """Stand-to-sit: forward lean, hips drop onto the seat, settle at the next ``Sit``'s angle."""

    duration_s: float = 2.0
    drop_m: float | None = None
    """Pelvis vertical displacement; None = the subject's (0.30–0.45 m)."""
    peak_deg: float | None = None
    """Forward pitch peak vs the sitting angle; None = the subject's (+20..+40°)."""
    starts: ClassVar[str] = "standing"
    ends: ClassVar[str] = "sitting"

    def __post_init__(self) -> None:
        _positive("SitDown", duration_s=self.duration_s, drop_m=self.drop_m, peak_deg=self.peak_deg)


@dataclass(frozen=True)
class Sit:
    """Sitting in a posture, with Poisson posture shifts and fidgets (9 and 13 per 15 min)."""

    duration_s: float
    posture: Posture = "habitual"
    tilt_deg: float | None = None
    """Sitting angle vs standing neutral; None = the subject's angle for ``posture``."""
    shifts: bool = True
    fidgets: bool = True
    starts: ClassVar[str] = "sitting"
    ends: ClassVar[str] = "sitting"

    def __post_init__(self) -> None:
        _positive("Sit", duration_s=self.duration_s)
        if self.posture not in POSTURES:
            raise UsageError(f"Sit.posture must be one of {', '.join(POSTURES)}, got {self.posture!r}")
        if self.tilt_deg is not None and not -60 <= self.tilt_deg <= 40:
            raise UsageError(f"Sit.tilt_deg must be within -60..+40°, got {self.tilt_deg!r}")


@dataclass(frozen=True)
class StandUp:
    """Sit-to-stand: forward pitch peak before seat-off, then the hips rise to standing."""

    duration_s: float = 1.8
    peak_deg: float | None = None
    starts: ClassVar[str] = "sitting"
    ends: ClassVar[str] = "standing"

    def __post_init__(self) -> None:
        _positive("StandUp", duration_s=self.duration_s, peak_deg=self.peak_deg)


@dataclass(frozen=True)
class SquatSet:
    """``reps`` squats. ``butt_wink``: True/False, or the probability that each rep winks."""

    reps: int = 5
    depth: Depth = "parallel"
    butt_wink: bool | float = False
    descent_s: float = 1.8
    bottom_s: float = 0.3
    """Pause at the bottom (0 allowed)."""
    ascent_s: float = 1.2
    between_reps_s: float = 1.0
    depth_m: float | None = None
    """Pelvis (hip-centre) drop; None = the subject's for ``depth``."""
    peak_deg: float | None = None
    """Global anterior pelvic pitch before any reversal; None = the subject's (+20..+40°)."""
    wink_deg: float | None = None
    """Designed reversal of wink reps; None = drawn 8–25° per rep (clean reps 0–4°)."""
    starts: ClassVar[str] = "standing"
    ends: ClassVar[str] = "standing"

    def __post_init__(self) -> None:
        if not isinstance(self.reps, (int, np.integer)) or self.reps < 1:
            raise UsageError(f"SquatSet.reps must be a positive integer, got {self.reps!r}")
        if self.depth not in DEPTHS:
            raise UsageError(f"SquatSet.depth must be one of {', '.join(DEPTHS)}, got {self.depth!r}")
        if not 0.0 <= float(self.butt_wink) <= 1.0:
            raise UsageError(f"SquatSet.butt_wink must be a bool or a probability 0–1, got {self.butt_wink!r}")
        _positive("SquatSet", descent_s=self.descent_s, ascent_s=self.ascent_s,
                  depth_m=self.depth_m, peak_deg=self.peak_deg)
        if self.descent_s < 0.8:
            raise UsageError(f"SquatSet.descent_s must be >= 0.8 s, got {self.descent_s!r}")
        if self.bottom_s < 0 or self.between_reps_s < 0:
            raise UsageError("SquatSet.bottom_s and between_reps_s must be >= 0")
        if self.wink_deg is not None and not 0 <= self.wink_deg <= 40:
            raise UsageError(f"SquatSet.wink_deg must be within 0–40°, got {self.wink_deg!r}")

    @property
    def duration_s(self) -> float:
        rep_s = self.descent_s + self.bottom_s + self.ascent_s
        return self.reps * rep_s + (self.reps - 1) * self.between_reps_s


@dataclass(frozen=True)
class HipHinges:
    """Forward bends from the hips (large anterior pelvic rotation, small drop), standing between.

    Labelled ``other`` while bending and ``standing`` in the pauses between hinges.
    """

    count: int = 3
    bend_s: float = 2.0
    hold_s: float = 1.0
    return_s: float = 2.0
    pause_s: float = 2.0
    angle_deg: float | None = None
    """Peak anterior pelvic rotation; None = the subject's (45–70°)."""
    starts: ClassVar[str] = "standing"
    ends: ClassVar[str] = "standing"

    def __post_init__(self) -> None:
        if not isinstance(self.count, (int, np.integer)) or self.count < 1:
            raise UsageError(f"HipHinges.count must be a positive integer, got {self.count!r}")
        _positive("HipHinges", bend_s=self.bend_s, return_s=self.return_s, angle_deg=self.angle_deg)
        if self.hold_s < 0 or self.pause_s < 0:
            raise UsageError("HipHinges.hold_s and pause_s must be >= 0")

    @property
    def duration_s(self) -> float:
        return self.count * (self.bend_s + self.hold_s + self.return_s) + (self.count - 1) * self.pause_s


@dataclass(frozen=True)
class Lie:
    """Lie down supine (``down_s``, labelled other), lie, get up (``up_s``); ends standing."""

    duration_s: float = 60.0
    down_s: float = 3.0
    up_s: float = 3.0
    starts: ClassVar[str] = "standing"
    ends: ClassVar[str] = "standing"

    def __post_init__(self) -> None:
        _positive("Lie", duration_s=self.duration_s, down_s=self.down_s, up_s=self.up_s)
        if self.duration_s < self.down_s + self.up_s + 1.0:
            raise UsageError("Lie.duration_s must exceed down_s + up_s by at least 1 s")


Segment = Union[Stand, Walk, SitDown, Sit, StandUp, SquatSet, HipHinges, Lie]
SEGMENT_TYPES = (Stand, Walk, SitDown, Sit, StandUp, SquatSet, HipHinges, Lie)


@dataclass(frozen=True)
class Scenario:
    """A validated sequence of segments."""

    segments: tuple[Segment, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        segments = tuple(self.segments)
        object.__setattr__(self, "segments", segments)
        if not segments:
            raise UsageError("a scenario needs at least one segment")
        for i, seg in enumerate(segments):
            if not isinstance(seg, SEGMENT_TYPES):
                raise UsageError(f"segment {i} is {type(seg).__name__}, expected one of "
                                 + ", ".join(t.__name__ for t in SEGMENT_TYPES))
        first = segments[0]
        if not isinstance(first, Stand) or first.duration_s < CALIBRATION_STAND_S or first.tilt_deg:
            raise UsageError(f"a scenario must start with Stand(duration_s >= {CALIBRATION_STAND_S:g}) "
                             "at neutral (the calibration window)")
        posture = "standing"
        for i, seg in enumerate(segments):
            if seg.starts != posture:
                fix = "SitDown()" if posture == "standing" else "StandUp()"
                raise UsageError(f"segment {i} ({type(seg).__name__}) needs the subject {seg.starts}, "
                                 f"but they are {posture}; insert {fix} before it")
            posture = seg.ends

    @property
    def duration_s(self) -> float:
        return float(sum(seg.duration_s for seg in self.segments))


# --- named scenarios --------------------------------------------------------------------------

def _calibration_stand(rng: np.random.Generator) -> Stand:
    # The wearer is asked to stand still: sway at the low end of the range.
    return Stand(float(rng.uniform(6.0, 9.0)), sway_deg=0.2)


def _sit_down(rng: np.random.Generator) -> SitDown:
    return SitDown(float(rng.uniform(1.3, 2.6)))


def _stand_up(rng: np.random.Generator) -> StandUp:
    return StandUp(float(rng.uniform(1.2, 2.5)))


def desk(rng: np.random.Generator) -> Scenario:
    """About 15 min at a desk: varied postures with sustained slumped and arched stretches
    (long enough to be flagged), a short slump that is not, a walk, and sitting again."""
    u = rng.uniform
    return Scenario((
        _calibration_stand(rng),
        _sit_down(rng),
        Sit(u(60, 100), "upright"),
        Sit(u(120, 180), "habitual"),
        Sit(u(150, 220), "slumped"),
        Sit(u(30, 60), "upright"),
        Sit(u(90, 140), "arched"),
        Sit(u(60, 100), "habitual"),
        _stand_up(rng),
        Stand(u(5, 15)),
        Walk(u(40, 80)),
        Stand(u(3, 8)),
        _sit_down(rng),
        Sit(u(20, 35), "slumped"),
        Sit(u(100, 160), "habitual"),
        _stand_up(rng),
        Stand(u(8, 12)),
    ), name="desk")


def squat(rng: np.random.Generator) -> Scenario:
    """Stand, then 2–3 sets of 5 reps with mixed butt wink and standing rest between sets."""
    n_sets = int(rng.integers(2, 4))
    depths = rng.choice(np.array(DEPTHS), size=n_sets)
    wink_prob = {"half": 0.2, "parallel": 0.5, "deep": 0.7}
    segments: list[Segment] = [_calibration_stand(rng), Stand(float(rng.uniform(3, 6)))]
    for k, depth in enumerate(depths):
        segments.append(SquatSet(5, str(depth), butt_wink=wink_prob[str(depth)],
                                 descent_s=float(rng.uniform(1.2, 2.6)),
                                 bottom_s=float(rng.uniform(0.0, 0.8)),
                                 ascent_s=float(rng.uniform(0.9, 1.8)),
                                 between_reps_s=float(rng.uniform(0.3, 1.8))))
        segments.append(Stand(float(rng.uniform(45, 90)) if k < n_sets - 1 else float(rng.uniform(5, 10))))
    return Scenario(tuple(segments), name="squat")


def hinge(rng: np.random.Generator) -> Scenario:
    """Stand, 3 hip hinges (a functional-calibration movement), stand, walk, stand."""
    return Scenario((
        _calibration_stand(rng),
        HipHinges(3, bend_s=float(rng.uniform(1.5, 2.5)), hold_s=float(rng.uniform(0.5, 1.5)),
                  return_s=float(rng.uniform(1.5, 2.5)), pause_s=float(rng.uniform(1.0, 2.5))),
        Stand(float(rng.uniform(8, 15))),
        Walk(float(rng.uniform(15, 30))),
        Stand(float(rng.uniform(5, 10))),
    ), name="hinge")


def mixed(rng: np.random.Generator) -> Scenario:
    """A bit of everything: walking, sitting (with a flagged slump), a sustained anterior
    standing tilt, hinges, a squat set, lying."""
    u = rng.uniform
    return Scenario((
        _calibration_stand(rng),
        Walk(u(20, 40)),
        Stand(u(3, 6)),
        _sit_down(rng),
        Sit(u(40, 70), "upright"),
        Sit(u(90, 130), "slumped"),
        _stand_up(rng),
        Stand(u(40, 60), tilt_deg=float(u(12, 16))),
        Stand(u(4, 8)),
        HipHinges(3),
        Stand(u(5, 10)),
        SquatSet(5, "deep", butt_wink=0.5),
        Stand(u(10, 20)),
        Lie(u(30, 50)),
        Stand(u(3, 6)),
        Walk(u(15, 30)),
        Stand(u(5, 10)),
    ), name="mixed")


SCENARIOS: dict[str, Callable[[np.random.Generator], Scenario]] = {
    "desk": desk,
    "squat": squat,
    "hinge": hinge,
    "mixed": mixed,
}
"""Named scenarios: each builds a randomised ``Scenario`` from a generator."""
