"""Motion simulator: sacrum kinematics and a sacral IMU's readings, with ground truth.

    session = simulate(SCENARIOS["desk"](rng), sample_rate_hz=100.0, seed=1,
                       imperfections=ImuImperfections.typical(),
                       mounting=Mounting.default_with_misalignment())
    session.batch, session.info, session.truth

Modules: ``scenario`` (segments as data, named scenarios), ``subject`` (random subject
parameters), ``kinematics`` (segments -> pelvis motion and ideal readings), ``imu_model``
(sensor and link imperfections, mounting), ``truth`` (ground truth, episode rules),
``session`` (``simulate``).
"""

from .imu_model import ImuImperfections, Mounting
from .scenario import (
    CALIBRATION_STAND_S,
    SCENARIOS,
    HipHinges,
    Lie,
    Scenario,
    Sit,
    SitDown,
    SquatSet,
    Stand,
    StandUp,
    Walk,
)
from .session import SimulatedSession, simulate
from .subject import Subject
from .truth import EpisodeRules, GroundTruth, TruthEpisode, TruthRep, TruthTransition

__all__ = [
    "CALIBRATION_STAND_S",
    "SCENARIOS",
    "EpisodeRules",
    "GroundTruth",
    "HipHinges",
    "ImuImperfections",
    "Lie",
    "Mounting",
    "Scenario",
    "SimulatedSession",
    "Sit",
    "SitDown",
    "SquatSet",
    "Stand",
    "StandUp",
    "Subject",
    "TruthEpisode",
    "TruthRep",
    "TruthTransition",
    "Walk",
    "simulate",
]
