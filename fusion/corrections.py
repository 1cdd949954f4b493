"""Corrective guidance for each detected pattern, as structured data the dashboard and reports render.

The wording is the product's own; every item traces to a line of the project's domain notes
(``shared/domain/corrections.md``). The advice follows the direction actually measured: the two
tilt patterns need opposite work, so a pattern never borrows the other's items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from firmware_interface.errors import UsageError

Pattern = Literal["anterior", "posterior", "butt_wink"]
PATTERNS: tuple[Pattern, ...] = ("anterior", "posterior", "butt_wink")

DISCLAIMER = ("tiltwatch is not a medical device; for an assessment, see a physical therapist "
              "or a qualified coach.")


@dataclass(frozen=True)
class CorrectionItem:
    text: str
    reason: str


@dataclass(frozen=True)
class CorrectionSection:
    heading: str
    """One of "Strengthen", "Stretch", "Technique", "Routine"."""
    items: tuple[CorrectionItem, ...]


@dataclass(frozen=True)
class Correction:
    pattern: Pattern
    title: str
    summary: str
    sections: tuple[CorrectionSection, ...]


_ROUTINE = CorrectionSection("Routine", (
    CorrectionItem("Warm up for at least 5 minutes with the strengthening drills, until you feel "
                   "the target muscles working.",
                   "Waking up the weak side first lets it take its share of the main workout."),
    CorrectionItem("Cool down for at least 5 minutes stretching the tight side: about 10 slow breaths "
                   "per position, easing a little further on each exhale.",
                   "Relaxed breathing lets a tight muscle lengthen; holding tense by the clock does not."),
    CorrectionItem("Repeat at least three times a week.",
                   "Imbalances built over hours of daily posture change slowly, not overnight."),
))

_ANTERIOR = Correction(
    pattern="anterior",
    title="Anterior pelvic tilt",
    summary=("Your pelvis stayed rotated forward (arched lower back, backside out). This usually goes "
             "with tight lower-back muscles and hip flexors and weak abdominals, glutes and "
             "hamstrings. Long spells in one position build it, so correct it regularly."),
    sections=(
        CorrectionSection("Strengthen", (
            CorrectionItem("Glute medius: side-lying hip abduction, pelvic drop, side plank, "
                           "standing side-on wall pelvis push.",
                           "Weak glutes let the pelvis rotate forward."),
            CorrectionItem("Glute maximus: single-leg deadlift, single-leg squat.",
                           "Weak glutes let the pelvis rotate forward."),
            CorrectionItem("Abdominals with stabilisation work such as planks and dead bugs, "
                           "not sit-ups.",
                           "Sit-ups mostly train the hip flexors, which are already tight."),
            CorrectionItem("Hamstrings: single-leg bridge, hamstring curl.",
                           "Weak hamstrings go with this pattern; cramping during these is a sign of "
                           "that weakness."),
        )),
        CorrectionSection("Stretch", (
            CorrectionItem("Lower back: child's pose, seated head-to-knee, deep squat hold.",
                           "A tight lower back pulls the pelvis into the forward tilt."),
            CorrectionItem("Hip flexors: deep-lunge (spiderman) stretch, edge-of-table hip flexor "
                           "stretch.",
                           "Tight hip flexors pull the front of the pelvis down."),
        )),
        CorrectionSection("Technique", (
            CorrectionItem("Do not add lower-back strengthening.",
                           "The lower back is already the tight side; training it makes this "
                           "pattern worse."),
        )),
        _ROUTINE,
    ),
)

_POSTERIOR = Correction(
    pattern="posterior",
    title="Posterior pelvic tilt",
    summary=("Your pelvis stayed rotated backward (backside tucked under, flat or rounded back). "
             "This pattern needs the opposite work to an anterior tilt: strengthen the lower back and "
             "hip flexors, stretch the hamstrings, glutes and abdominals."),
    sections=(
        CorrectionSection("Strengthen", (
            CorrectionItem("Lower back: back hyperextension, superman.",
                           "A weak lower back lets the pelvis tuck under."),
            CorrectionItem("Hip flexors: seated leg lift, standing knee march.",
                           "Weak hip flexors let the pelvis rotate backward."),
        )),
        CorrectionSection("Stretch", (
            CorrectionItem("Hamstrings: lying hamstring stretch with a strap or hands, step-forward "
                           "hamstring stretch.",
                           "Tight hamstrings pull the back of the pelvis down."),
            CorrectionItem("Glutes: seated figure-four stretch, lying glute stretch.",
                           "Tight glutes hold the pelvis tucked under."),
            CorrectionItem("Abdominals: cobra, lying abdominal twist.",
                           "Tight abdominals pull the front of the pelvis up."),
        )),
        _ROUTINE,
    ),
)

_BUTT_WINK = Correction(
    pattern="butt_wink",
    title="Butt wink at the bottom of the squat",
    summary=("Your pelvis tucked under and your lower back rounded at the bottom of the squat. "
             "It helps you bounce out of the hole but takes away stability; with back pain, "
             "avoid it."),
    sections=(
        CorrectionSection("Technique", (
            CorrectionItem("Stop the descent just above the point where your back starts to round.",
                           "Depth past that point is bought with the tuck."),
            CorrectionItem("Build depth gradually while you stay stable.",
                           "Depth you control is what you keep."),
            CorrectionItem("Brace before every rep: breathe into the belly and hold the pressure.",
                           "Intra-abdominal pressure keeps the lower back stable."),
            CorrectionItem("On a painful day, drop the load and do unloaded air squats through the "
                           "movement, then your corrective work.",
                           "Blood flow helps recovery better than weeks of rest."),
            CorrectionItem("Next session, swap the squat for a leg exercise that does not bother "
                           "your back, keep practising the pattern unloaded, and add weight back "
                           "gradually.",
                           "The back recovers while the movement pattern is kept."),
        )),
    ),
)

_CORRECTIONS: dict[str, Correction] = {c.pattern: c for c in (_ANTERIOR, _POSTERIOR, _BUTT_WINK)}


def correction_for(pattern: Pattern) -> Correction:
    """The guidance for one detected pattern."""
    try:
        return _CORRECTIONS[pattern]
    except KeyError:
        raise UsageError(f"unknown correction pattern {pattern!r}; expected one of "
                         f"{', '.join(PATTERNS)}") from None
