"""Guided warm-up and cool-down routines for a measured pattern, and the breath pacer that runs them.

Content follows the project's domain notes (``shared/domain/corrections.md``, "Routine" and the
pattern sections), in the product's own words, like ``fusion.corrections``:

- Warm-up: activation drills for the weak side of the pattern, at least five minutes.
- Cool-down: static stretches of the tight side, at least five minutes.
- Paced by breathing, not the clock: about ten slow breaths per position, easing a little
  further on each exhale. Drills take one slow rep per breath.
- A butt wink's warm-up is bracing and unloaded squats stopped just above the wink ("Squatting");
  its cool-down is the corrective work of the wearer's tilt pattern, which must be the direction
  actually measured, so without one the routine has no cool-down and says why.

A block shorter than five minutes repeats its circuit until it is long enough. ``RoutinePlayer``
walks the steps from elapsed time given to it (no clock of its own), so tests drive it directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from firmware_interface.errors import UsageError
from fusion.corrections import PATTERNS, Pattern

BREATH_IN_S = 4.0
BREATH_OUT_S = 6.0
"""A slow breath (six a minute), with the longer exhale the stretch deepens on."""
BREATH_S = BREATH_IN_S + BREATH_OUT_S
BREATHS_PER_POSITION = 10
MIN_BLOCK_S = 300.0

TiltPattern = Literal["anterior", "posterior"]


@dataclass(frozen=True)
class Exercise:
    name: str
    target: str
    """The muscles it works or stretches."""
    how: str
    """One line: the position and what to do on each breath."""
    per_side: bool = False


@dataclass(frozen=True)
class RoutineStep:
    """One exercise on one side, held (or repeated) for ``breaths`` breaths."""

    block: str
    exercise: Exercise
    side: Literal["left", "right"] | None
    round: int
    rounds: int
    breaths: int = BREATHS_PER_POSITION

    @property
    def duration_s(self) -> float:
        return self.breaths * BREATH_S

    @property
    def title(self) -> str:
        side = f" ({self.side} side)" if self.side else ""
        return f"{self.exercise.name}{side}"


@dataclass(frozen=True)
class RoutineBlock:
    title: str
    purpose: str
    steps: tuple[RoutineStep, ...]

    @property
    def duration_s(self) -> float:
        return sum(step.duration_s for step in self.steps)


@dataclass(frozen=True)
class Routine:
    pattern: Pattern
    title: str
    blocks: tuple[RoutineBlock, ...]
    note: str = ""
    """Why a block is missing, when one is."""

    @property
    def steps(self) -> tuple[RoutineStep, ...]:
        return tuple(step for block in self.blocks for step in block.steps)

    @property
    def duration_s(self) -> float:
        return sum(block.duration_s for block in self.blocks)


def _block(title: str, purpose: str, exercises: tuple[Exercise, ...]) -> RoutineBlock:
    """The circuit (each side of a one-sided exercise in turn), repeated to at least MIN_BLOCK_S."""
    sides = [(e, side) for e in exercises for side in (("left", "right") if e.per_side else (None,))]
    rounds = math.ceil(MIN_BLOCK_S / (len(sides) * BREATHS_PER_POSITION * BREATH_S))
    steps = tuple(RoutineStep(title, exercise, side, r + 1, rounds)
                  for r in range(rounds) for exercise, side in sides)
    return RoutineBlock(title, purpose, steps)


_WARM_UP = "Warm-up"
_COOL_DOWN = "Cool-down"

_ANTERIOR_WARM_UP = (
    Exercise("Side-lying hip abduction", "glute medius",
             "Lie on your side, legs long. Exhale: lift the top leg a little behind your body; "
             "inhale: lower it.", per_side=True),
    Exercise("Single-leg bridge", "hamstrings and glutes",
             "On your back, one foot planted, the other leg raised. Exhale: push the hips up; "
             "inhale: lower. Cramping hamstrings mean they are weak: ease off, keep going.",
             per_side=True),
    Exercise("Dead bug", "abdominals",
             "On your back, arms up, knees above hips. Exhale: reach one arm and the opposite leg "
             "away, lower back kept on the floor; inhale: return, then the other pair."),
)
_ANTERIOR_COOL_DOWN = (
    Exercise("Child's pose", "lower back",
             "Kneel, sit back onto your heels and reach your arms forward along the floor. "
             "Sink a little further on each exhale."),
    Exercise("Deep-lunge (spiderman) stretch", "hip flexors",
             "Long lunge, back knee down, hands inside the front foot. Let the hips sink on each "
             "exhale.", per_side=True),
    Exercise("Deep squat hold", "lower back",
             "Squat as deep as is comfortable, heels down, holding on to something if needed. "
             "Relax into it on each exhale."),
)
_POSTERIOR_WARM_UP = (
    Exercise("Superman", "lower back",
             "Face down, arms overhead. Exhale: lift arms, chest and legs a little; inhale: lower."),
    Exercise("Seated leg lift", "hip flexors",
             "Sit tall at the front of a chair. Exhale: lift one straight leg a few centimetres; "
             "inhale: lower.", per_side=True),
    Exercise("Standing knee march", "hip flexors",
             "Stand tall. Exhale: lift one knee to hip height; inhale: lower it. Alternate legs."),
)
_POSTERIOR_COOL_DOWN = (
    Exercise("Lying hamstring stretch", "hamstrings",
             "On your back, one leg raised straight, held with a strap or your hands. Draw it a "
             "little closer on each exhale.", per_side=True),
    Exercise("Seated figure-four stretch", "glutes",
             "Sit tall, one ankle across the other knee. Lean forward from the hips a little "
             "further on each exhale.", per_side=True),
    Exercise("Cobra", "abdominals",
             "Face down, hands under the shoulders. Press the chest up, hips on the floor; "
             "let the belly lengthen on each exhale."),
)
_BUTT_WINK_WARM_UP = (
    Exercise("Belly breath and brace", "trunk",
             "Stand tall. Inhale into the belly; exhale against a tight brace, as before a lift."),
    Exercise("Air squat to just above the wink", "squat pattern",
             "No load. Brace, descend slowly and stop just before your lower back starts to "
             "round; one squat per breath."),
)

_TILT_BLOCKS: dict[str, tuple[RoutineBlock, RoutineBlock]] = {
    "anterior": (
        _block(_WARM_UP, "Wake up the weak side: glutes, hamstrings and abdominals.", _ANTERIOR_WARM_UP),
        _block(_COOL_DOWN, "Stretch the tight side: lower back and hip flexors.", _ANTERIOR_COOL_DOWN),
    ),
    "posterior": (
        _block(_WARM_UP, "Wake up the weak side: lower back and hip flexors.", _POSTERIOR_WARM_UP),
        _block(_COOL_DOWN, "Stretch the tight side: hamstrings, glutes and abdominals.",
               _POSTERIOR_COOL_DOWN),
    ),
}
_TITLES = {"anterior": "Anterior tilt routine", "posterior": "Posterior tilt routine",
           "butt_wink": "Butt wink routine"}


def routine_for(pattern: Pattern, tilt_pattern: TiltPattern | None = None) -> Routine:
    """The routine for a measured pattern. For ``"butt_wink"``, ``tilt_pattern`` (the wearer's
    measured sitting or standing tilt, if any) chooses the cool-down stretches."""
    if pattern not in PATTERNS:
        raise UsageError(f"unknown routine pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    if pattern != "butt_wink":
        return Routine(pattern, _TITLES[pattern], _TILT_BLOCKS[pattern])
    warm_up = _block(_WARM_UP, "Brace and rehearse the squat without load, stopping above the wink.",
                     _BUTT_WINK_WARM_UP)
    if tilt_pattern is None:
        return Routine(pattern, _TITLES[pattern], (warm_up,),
                       note="No cool-down yet: its stretches follow your measured tilt pattern. "
                            "Wear the sensor at the desk or standing to measure it.")
    if tilt_pattern not in _TILT_BLOCKS:
        raise UsageError(f"unknown tilt pattern {tilt_pattern!r}; expected anterior or posterior")
    cool_down = _TILT_BLOCKS[tilt_pattern][1]
    return Routine(pattern, _TITLES[pattern], (warm_up, cool_down))


@dataclass(frozen=True)
class PacerState:
    """Where a routine is, for display."""

    step_index: int
    """0-based; equals the number of steps when finished."""
    step_count: int
    step: RoutineStep | None
    breath: int
    """1-based breath within the step."""
    inhaling: bool
    phase_fraction: float
    """How far through the current inhale or exhale, 0..1."""
    step_left_s: float
    block_left_s: float
    routine_left_s: float
    paused: bool
    finished: bool


class RoutinePlayer:
    """Steps through a routine as time is given to it; pause, skip and back as a player does."""

    def __init__(self, routine: Routine) -> None:
        self.routine = routine
        self._steps = routine.steps
        self._index = 0
        self._in_step_s = 0.0
        self.paused = False

    @property
    def finished(self) -> bool:
        return self._index >= len(self._steps)

    def advance(self, elapsed_s: float) -> None:
        """Let ``elapsed_s`` of time pass (ignored while paused)."""
        if self.paused or elapsed_s <= 0.0:
            return
        self._in_step_s += elapsed_s
        while not self.finished and self._in_step_s >= self._steps[self._index].duration_s:
            self._in_step_s -= self._steps[self._index].duration_s
            self._index += 1
        if self.finished:
            self._in_step_s = 0.0

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def skip(self) -> None:
        """To the start of the next step (or the end)."""
        self._index = min(self._index + 1, len(self._steps))
        self._in_step_s = 0.0

    def back(self) -> None:
        """To the start of the previous step (the current one when at the first)."""
        self._index = max(self._index - 1, 0)
        self._in_step_s = 0.0

    def state(self) -> PacerState:
        n = len(self._steps)
        if self.finished:
            return PacerState(n, n, None, 0, False, 0.0, 0.0, 0.0, 0.0, self.paused, True)
        step = self._steps[self._index]
        breath_index, in_breath_s = divmod(self._in_step_s, BREATH_S)
        inhaling = in_breath_s < BREATH_IN_S
        fraction = in_breath_s / BREATH_IN_S if inhaling else (in_breath_s - BREATH_IN_S) / BREATH_OUT_S
        step_left = step.duration_s - self._in_step_s
        later = self._steps[self._index + 1:]
        block_left = step_left + sum(s.duration_s for s in later if s.block == step.block)
        routine_left = step_left + sum(s.duration_s for s in later)
        return PacerState(self._index, n, step, int(breath_index) + 1, inhaling, fraction,
                          step_left, block_left, routine_left, self.paused, False)
