"""The analysis in passes over a stream: the same result as over the samples in memory, with the
calibration search of fusion.calibration found the same way in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.recording import RecordingWriter, open_recording_stream, read_recording
from firmware_interface.simulator import simulate
from fusion._quaternion import earth_up_in_sensor
from fusion.analysis import analyze_batch, analyze_passes
from fusion.calibration import CalibrationParams, find_standing_neutral
from fusion.neutral_search import CHUNK_S, _StillWindowSearch
from fusion.pipeline import Pipeline
from fusion.settings import Settings
from tui.reports.json_report import analysis_json


@pytest.mark.parametrize("scenario, seed", [("squat", 4), ("desk", 6)])
def test_a_file_read_in_passes_gives_the_analysis_of_the_whole_batch(tmp_path, scenario, seed):
    session = simulate(scenario, sample_rate_hz=50.0, seed=seed)
    path = tmp_path / "s.csv"
    with RecordingWriter(path, session.info) as writer:
        writer.append(session.batch)
    stream = open_recording_stream(path, chunk_s=CHUNK_S)
    streamed = analyze_passes(stream.batches, stream.info)
    recording = read_recording(path)  # the samples as written (rounded to the file's digits)
    whole = analyze_batch(recording.batch, recording.info)
    assert analysis_json(streamed, include_series=True) == analysis_json(whole, include_series=True)


@pytest.mark.parametrize("chunk", [7, 100, 1000])
def test_the_still_window_search_finds_what_the_whole_recording_search_finds(chunk):
    session = simulate("desk", sample_rate_hz=50.0, seed=8)
    batch = session.batch
    q = Pipeline(Settings(), 50.0).orientation.update(batch)
    up = earth_up_in_sensor(q)
    # Candidates: samples near the first pose, in runs broken now and then.
    candidate = (np.degrees(np.arccos(np.clip(up @ up[0], -1, 1))) < 10.0) & (np.arange(len(batch)) % 997 > 5)
    params = CalibrationParams()
    expected = find_standing_neutral(batch.t, batch.acc, batch.gyr, q, candidate, params)
    search = _StillWindowSearch(params)
    for a in range(0, len(batch), chunk):
        b = a + chunk
        search.update(batch.t[a:b], batch.acc[a:b], batch.gyr[a:b], q[a:b], candidate[a:b])
    found = search.finish()
    assert expected is not None and found is not None
    assert found.still_window == expected.still_window
    np.testing.assert_array_equal(found.up_sensor, expected.up_sensor)
