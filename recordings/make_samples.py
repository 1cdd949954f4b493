"""Regenerate the sample recordings shipped in this folder (deterministic: fixed seeds).

    python recordings/make_samples.py

squat-session.csv: a short squat session, 2 sets of 5 parallel-depth reps, butt wink on some.
desk-stretch.csv:  six minutes at a desk: upright, a sustained slump (flagged), upright again,
                   stand up and walk a few steps.
Both are made by the motion simulator with its typical consumer-sensor imperfections, at 100 Hz.
"""

from __future__ import annotations

from pathlib import Path

from firmware_interface.recording import RecordingWriter
from firmware_interface.simulator import Scenario, simulate
from firmware_interface.simulator.scenario import Sit, SitDown, SquatSet, Stand, StandUp, Walk

HERE = Path(__file__).resolve().parent

SAMPLES = {
    "squat-session.csv": (Scenario((
        Stand(8.0, sway_deg=0.2), Stand(4.0),
        SquatSet(5, "parallel", butt_wink=0.5, descent_s=1.8, bottom_s=0.3, ascent_s=1.3, between_reps_s=1.2),
        Stand(40.0),
        SquatSet(5, "deep", butt_wink=0.7, descent_s=2.0, bottom_s=0.4, ascent_s=1.4, between_reps_s=1.5),
        Stand(8.0),
    ), name="sample squat session"), 7),
    "desk-stretch.csv": (Scenario((
        Stand(8.0, sway_deg=0.2), SitDown(2.0),
        Sit(60.0, "upright"), Sit(150.0, "slumped"), Sit(90.0, "upright"),
        StandUp(1.8), Stand(6.0), Walk(20.0), Stand(6.0),
    ), name="sample desk stretch"), 11),
}


def main() -> None:
    for name, (scenario, seed) in SAMPLES.items():
        session = simulate(scenario, sample_rate_hz=100.0, seed=seed)
        path = HERE / name
        with RecordingWriter(path, session.info, overwrite=True) as writer:
            writer.append(session.batch)
        print(f"{path.name}: {len(session.batch)} samples, {scenario.duration_s:.0f} s")


if __name__ == "__main__":
    main()
