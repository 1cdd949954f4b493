"""The pipeline as live and replay feed it: hops, no alert during a long squat set, no neutral."""

from __future__ import annotations

import time

import numpy as np
import pytest

from firmware_interface.samples import SampleBatch
from firmware_interface.simulator import Scenario, simulate
from firmware_interface.simulator.scenario import SquatSet, Stand
from fusion.pipeline import Pipeline
from fusion.settings import Settings


def _feed(pipeline: Pipeline, batch: SampleBatch, size: int):
    outputs = [pipeline.update(SampleBatch(batch.t[i:i + size], batch.acc[i:i + size], batch.gyr[i:i + size]))
               for i in range(0, len(batch), size)]
    return outputs + [pipeline.finish()]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_long_squat_set_is_not_sustained_anterior_tilt(seed):
    """12 reps at 2.5 s down, 0.5 s at the bottom, 2 s up (over a minute of squatting, the
    pelvis forward most of the time): squatting is not standing tilted, so no alert."""
    scenario = Scenario((Stand(8.0, sway_deg=0.2),
                         SquatSet(12, "parallel", descent_s=2.5, bottom_s=0.5, ascent_s=2.0, between_reps_s=0.0),
                         Stand(10.0)))
    session = simulate(scenario, sample_rate_hz=100.0, seed=seed)
    outputs = _feed(Pipeline(Settings(), 100.0), session.batch, 10)
    assert not [a for out in outputs for a in out.alerts]
    assert not [e for out in outputs for e in out.episodes]
    assert sum(len(out.reps) for out in outputs) >= 10


def test_output_is_the_same_however_the_stream_is_cut():
    session = simulate("squat", sample_rate_hz=100.0, seed=3)
    runs = []
    for size in (1, 7, 100):
        outputs = _feed(Pipeline(Settings(), 100.0), session.batch, size)
        shown = np.concatenate([out.tilt_deg for out in outputs])
        reps = [(r.set, r.index, r.bottom_s, r.depth_m) for out in outputs for r in out.reps]
        runs.append((shown, reps))
        assert len(shown) == len(session.batch)
    for shown, reps in runs[1:]:
        np.testing.assert_array_equal(shown, runs[0][0])
        assert reps == runs[0][1]


def test_detection_runs_every_second_while_the_pelvis_turns_and_every_two_while_it_keeps_still():
    """Reps reach the screen a second sooner in a squat set; quiet posture costs half the hops."""
    session = simulate("squat", sample_rate_hz=100.0, seed=3)
    batch, pipeline = session.batch, Pipeline(Settings(), 100.0)
    detected_at = []  # sample count when a detection's output came (it revises the hop's labels)
    for i in range(len(batch)):
        if pipeline.update(SampleBatch(batch.t[i:i + 1], batch.acc[i:i + 1], batch.gyr[i:i + 1])).activity_revisions:
            detected_at.append(i + 1)
    hops_s = np.diff(detected_at) / 100.0  # to a show hop (a hop is a whole number of show hops)
    one, two = np.abs(hops_s - 1.0) <= Pipeline.SHOW_HOP_S, np.abs(hops_s - 2.0) <= Pipeline.SHOW_HOP_S
    assert np.all(one | two) and one.any() and two.any()
    squatting = np.asarray(session.truth.activity)[np.asarray(detected_at[1:]) - 1] == "squatting"
    assert np.mean(one[squatting]) > 0.9
    assert np.mean(two[~squatting]) > 0.8


def test_samples_until_shown_counts_down_to_an_output_that_shows_samples():
    session = simulate("desk", sample_rate_hz=100.0, seed=1)
    batch, pipeline = session.batch, Pipeline(Settings(), 100.0)
    hop = pipeline.samples_until_shown  # one show hop at 100 Hz
    assert hop == round(Pipeline.SHOW_HOP_S * 100) > 1
    assert len(pipeline.update(SampleBatch(batch.t[:1], batch.acc[:1], batch.gyr[:1])).t) == 0
    assert pipeline.samples_until_shown == hop - 1
    assert len(pipeline.update(SampleBatch(batch.t[1:hop], batch.acc[1:hop], batch.gyr[1:hop])).t) == hop
    assert pipeline.samples_until_shown == hop


def test_squat_sets_are_squatting_including_the_turns_between_reps():
    from fusion.analysis import analyze_batch

    session = simulate("squat", sample_rate_hz=100.0, seed=5)
    result = analyze_batch(session.batch, session.info)
    t0 = session.batch.t[0]
    squatting = [(a.start_s + t0, a.end_s + t0) for a in result.activities if a.activity == "squatting"]
    truth = np.asarray(session.truth.activity) == "squatting"
    inside = np.zeros(len(session.truth.t), dtype=bool)
    for start, end in squatting:
        inside |= (session.truth.t >= start) & (session.truth.t <= end)
    assert (inside & truth).sum() >= 0.85 * truth.sum()
    assert (inside & ~truth).sum() <= 0.1 * truth.sum()


def test_once_calibrated_the_status_never_says_uncalibrated():
    """Moving (sitting down, a squat set) pauses the posture judgement; it does not undo the
    calibration on screen."""
    session = simulate("desk", sample_rate_hz=100.0, seed=1)
    pipeline = Pipeline(Settings(), 100.0)
    statuses = [out.status for out in _feed(pipeline, session.batch, 5) if out.quality.calibrated]
    assert statuses and "uncalibrated" not in statuses and "paused" in statuses


def test_a_huge_gap_costs_what_the_samples_cost():
    """Stages count hops and windows in samples or look back a bounded time, so a 1e9-s gap
    inside a stream is stepped over at once, never walked hop by hop (a bound of CPU time, far
    above what 20 s of samples cost even on a loaded machine)."""
    session = simulate("desk", sample_rate_hz=100.0, seed=4)
    b = session.batch
    n = 2000
    t = b.t[:n].copy()
    t[n // 2:] += 1e9
    started = time.process_time()
    outputs = _feed(Pipeline(Settings(), 100.0), SampleBatch(t, b.acc[:n], b.gyr[:n]), 10)
    assert time.process_time() - started < 10.0
    assert sum(len(out.t) for out in outputs) == n
    assert np.all(np.isfinite(np.concatenate([out.tilt_deg for out in outputs])))
