"""Simulator -> recording -> replay -> analyze, through the real commands and the real pipeline."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from firmware_interface.recording import read_recording
from firmware_interface.simulator import SCENARIOS, simulate
from firmware_interface.sources import replay_source
from fusion.evaluation import match_events
from fusion.pipeline import Pipeline
from tui.cli import main

CONTRACT = {"duration_s", "activities", "episodes", "reps", "tilt"}
ACTIVITIES = {"standing", "sitting", "walking", "squatting", "lying", "other"}


def cli_json(argv, capsys):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


async def replayed_reps(path):
    """What the dashboard's pipeline sees when the file is replayed (as fast as possible)."""
    source = replay_source(path, speed=None)
    pipeline = Pipeline.for_source(source.info)
    reps = []
    async for batch in source:
        reps.extend(pipeline.update(batch).reps)
    return reps


@pytest.mark.parametrize("seed", [5, 6])
def test_squat_session_end_to_end(tmp_path, capsys, seed):
    path = tmp_path / "squats.csv"
    assert main(["record", str(path), "--simulate", "--scenario", "squat", "--seed", str(seed)]) == 0
    capsys.readouterr()
    truth = simulate(SCENARIOS["squat"](np.random.default_rng(seed)), sample_rate_hz=100.0, seed=seed).truth

    result = cli_json(["analyze", str(path), "--json", "--series"], capsys)
    assert CONTRACT <= result.keys()
    recording = read_recording(path)
    assert result["duration_s"] == pytest.approx(recording.batch.t[-1] - recording.batch.t[0], abs=1e-3)
    # Activities tile the session in time order with known labels.
    spans = result["activities"]
    assert spans[0]["start_s"] == 0 and spans[-1]["end_s"] == pytest.approx(result["duration_s"], abs=1e-3)
    assert all(a["end_s"] == b["start_s"] for a, b in zip(spans, spans[1:]))
    assert {s["activity"] for s in spans} <= ACTIVITIES and "squatting" in {s["activity"] for s in spans}
    # The series is 10 Hz, relative to the first sample, and follows the true tilt.
    series = result["tilt"]
    assert np.allclose(np.diff(series["t_s"]), 0.1, atol=1e-6)
    t0 = recording.batch.t[0]
    deg = np.array([np.nan if v is None else v for v in series["deg"]])
    true = truth.tilt_at(np.asarray(series["t_s"]) + t0)
    finite = np.isfinite(deg)
    assert finite.mean() > 0.99
    assert np.sqrt(np.mean((deg[finite] - true[finite]) ** 2)) < 3.0
    # Reps against the truth: bottoms within 1 s, most reps found, wink flags mostly right.
    reps = result["reps"]
    assert {"set", "start_s", "bottom_s", "end_s", "butt_wink", "wink_deg"} <= reps[0].keys()
    pairs, counts = match_events([r["bottom_s"] + t0 for r in reps], [r.bottom_s for r in truth.reps], 1.0)
    assert counts.tp >= 0.8 * len(truth.reps) and counts.fp <= 1
    agree = [reps[i]["butt_wink"] == truth.reps[j].butt_wink for i, j in pairs]
    assert np.mean(agree) >= 0.8
    # Replaying the recording through the live pipeline finds the same reps.
    live = asyncio.run(replayed_reps(path))
    assert len(live) == len(reps)
    for live_rep, rep in zip(live, reps):
        assert live_rep.bottom_s - t0 == pytest.approx(rep["bottom_s"], abs=0.05)


def test_desk_sample_flags_the_slump(capsys):
    result = cli_json(["analyze", "recordings/desk-stretch.csv", "--json"], capsys)
    posterior = [e for e in result["episodes"] if e["direction"] == "posterior"]
    assert len(posterior) == 1 and posterior[0]["activity"] == "sitting"
    # The slump in the sample starts 70 s in and lasts 150 s.
    assert 60 < posterior[0]["start_s"] < 90 and 200 < posterior[0]["end_s"] < 235
    assert [c["pattern"] for c in result["corrections"]] == ["posterior"]
    assert result["alerts"] and "while sitting" in result["alerts"][0]["why"]
    assert "not a medical device" in result["disclaimer"]
