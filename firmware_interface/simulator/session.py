"""``simulate``: scenario + seed -> what the sensor delivers, with the ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_interface.errors import UsageError
from firmware_interface.samples import SampleBatch, SourceInfo

from ._rotation import make_continuous, matrix_to_quat
from .imu_model import ImuImperfections, Mounting, sense
from .kinematics import simulate_motion
from .scenario import SCENARIOS, Scenario
from .subject import Subject
from .truth import EpisodeRules, GroundTruth, TruthRep, find_episodes, realised_wink_deg

WINK_FLAG_DEG = 10.0
"""A rep is a designed butt wink when its designed reversal is at least this."""


@dataclass(frozen=True, eq=False)
class SimulatedSession:
    batch: SampleBatch
    """What the sensor delivers: lost samples removed, device timestamps, gap markers."""
    info: SourceInfo
    truth: GroundTruth
    delivered_index: np.ndarray
    """(len(batch),) index of each delivered sample in ``truth.t``."""
    scenario: Scenario
    imperfections: ImuImperfections


def simulate(scenario: Scenario | str, sample_rate_hz: float = 100.0, seed: int = 0,
             imperfections: ImuImperfections = ImuImperfections.typical(),
             mounting: Mounting = Mounting.default_with_misalignment(),
             rules: EpisodeRules = EpisodeRules()) -> SimulatedSession:
    """Simulate a sacral IMU session. Deterministic for a given seed.

    ``scenario`` may be a ``Scenario`` or the name of one in ``SCENARIOS`` (built from the seed).
    The subject, the motion details, the mounting and the sensor errors each draw from their
    own stream of ``numpy.random.default_rng(seed)``, so switching an imperfection off does not
    change the motion.
    """
    if not (np.isfinite(sample_rate_hz) and 10.0 <= sample_rate_hz <= 1000.0):
        raise UsageError(f"sample rate must be within 10–1000 Hz, got {sample_rate_hz!r}")
    scenario_rng, subject_rng, motion_rng, mounting_rng, sensor_rng = np.random.default_rng(seed).spawn(5)
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise UsageError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
        scenario = SCENARIOS[scenario](scenario_rng)
    subject = Subject.draw(subject_rng)
    motion = simulate_motion(scenario, subject, sample_rate_hz, motion_rng)
    sensor_to_pelvis = mounting.resolve(mounting_rng)
    stream = sense(motion, sensor_to_pelvis, imperfections, sample_rate_hz, sensor_rng)

    tilt_deg = np.degrees(motion.tilt_rad)
    reps = tuple(
        TruthRep(r.set, r.index, r.start_s, r.bottom_s, r.end_s,
                 butt_wink=r.designed_wink_deg >= WINK_FLAG_DEG,
                 wink_deg=realised_wink_deg(motion.t, tilt_deg, r.start_s, r.bottom_s),
                 depth_m=r.depth_m, designed_wink_deg=r.designed_wink_deg, peak_deg=r.peak_deg)
        for r in motion.reps)
    truth = GroundTruth(
        t=motion.t,
        tilt_deg=tilt_deg,
        obliquity_deg=np.degrees(motion.obliquity_rad),
        pelvis_quat=make_continuous(matrix_to_quat(motion.pelvis_to_earth)),
        sensor_quat=make_continuous(matrix_to_quat(motion.pelvis_to_earth @ sensor_to_pelvis)),
        mounting=sensor_to_pelvis,
        position_m=motion.position_m,
        activity=motion.activity,
        transitions=motion.transitions,
        reps=reps,
        episodes=tuple(find_episodes(motion.t, tilt_deg, motion.activity, rules)),
        subject=subject,
        rules=rules,
        sample_rate_hz=sample_rate_hz,
    )
    info = SourceInfo(device="tiltwatch simulator", profile="sim", sample_rate_hz=float(sample_rate_hz),
                      extra={"scenario": scenario.name, "seed": int(seed)})
    batch = SampleBatch(stream.t, stream.acc, stream.gyr, stream.markers)
    return SimulatedSession(batch, info, truth, stream.delivered_index, scenario, imperfections)
