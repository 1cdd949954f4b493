"""The typed analysis and its renderers: the JSON contract of docs/analysis-json.md and the text."""

from __future__ import annotations

import dataclasses
import json

import pytest

from firmware_interface.simulator import simulate
from fusion.analysis import analyze_batch
from fusion.session import SessionAnalysis
from tui.reports.json_report import SCHEMA, SCHEMA_VERSION, analysis_json
from tui.reports.text_report import duration_text, format_summary

# Schema 1 fields in their order; 1.1 appends its own after them.
SCHEMA_1_FIELDS = ["schema", "source", "duration_s", "samples", "calibration", "activities", "transitions",
                   "episodes", "alerts", "reps", "sets", "time_in_zone_s", "unavailable", "warnings", "quality",
                   "corrections", "disclaimer", "settings"]
SCHEMA_1_1_FIELDS = ["schema_version", "kind", "started_utc", "activity_totals_s"]


@pytest.fixture(scope="module")
def squat() -> SessionAnalysis:
    session = simulate("squat", sample_rate_hz=50.0, seed=3)
    return analyze_batch(session.batch, session.info)


@pytest.fixture(scope="module")
def desk() -> SessionAnalysis:
    session = simulate("desk", sample_rate_hz=50.0, seed=2)
    return analyze_batch(session.batch, session.info)


def test_the_analysis_is_frozen_and_typed(squat):
    with pytest.raises(dataclasses.FrozenInstanceError):
        squat.samples = 0  # type: ignore[misc]
    assert squat.reps and all(dataclasses.is_dataclass(r) for r in squat.reps)
    assert squat.kind == "squat"
    assert squat.tilt.rate_hz == 10.0 and len(squat.tilt.deg) == pytest.approx(squat.duration_s * 10, abs=2)


def test_json_keeps_schema_1_fields_in_order_and_appends_the_new_ones(squat, desk):
    for analysis in (squat, desk):
        result = analysis_json(analysis)
        assert list(result) == SCHEMA_1_FIELDS + SCHEMA_1_1_FIELDS
        assert result["schema"] == SCHEMA and result["schema_version"] == SCHEMA_VERSION
        json.dumps(result, allow_nan=False)  # numbers that cannot be known are null, never NaN
    assert list(analysis_json(squat, include_series=True))[-1] == "tilt"


def test_json_rows_have_the_documented_fields(squat):
    result = analysis_json(squat, include_series=True)
    assert list(result["reps"][0]) == ["set", "index", "start_s", "bottom_s", "end_s", "butt_wink", "wink_level",
                                       "wink_deg", "depth_m", "peak_anterior_deg", "lockout_deg", "descent_s",
                                       "bottom_pause_s", "ascent_s", "wink_onset_depth_m"]
    assert list(result["sets"][0]) == ["set", "reps", "start_s", "end_s", "mean_depth_m", "mean_rep_s",
                                       "max_wink_deg", "butt_wink_reps", "mild_wink_reps", "eligible_reps"]
    assert list(result["calibration"])[:2] == ["source", "stand_window_s"]
    assert result["tilt"]["t_s"][:3] == [0.0, 0.1, 0.2]
    assert len(result["tilt"]["t_s"]) == len(result["tilt"]["deg"])
    assert result["reps"][0]["start_s"] == round(squat.reps[0].start_s, 3)  # times from the first sample


def test_text_summary_gives_sets_reps_tempo_and_desk_shares(squat, desk):
    text = format_summary(squat)
    assert "set 1:" in text and "tempo" in text and "depth" in text
    desk_text = format_summary(desk)
    assert "sitting:" in desk_text and "neutral" in desk_text and "%" in desk_text
    assert "not a medical device" in desk_text


@pytest.mark.parametrize("seconds, text", [(12.4, "12 s"), (600, "10 min"), (3600 * 2 + 300, "2 h 05 min")])
def test_durations_read_in_hours_and_minutes(seconds, text):
    assert duration_text(seconds) == text


def test_analyze_several_files_prints_one_object_each(capsys):
    from pathlib import Path

    from tui.cli import main

    recordings = sorted(str(p) for p in (Path(__file__).parents[2] / "recordings").glob("*.csv"))
    assert main(["analyze", *recordings, "--json"]) == 0
    objects = json.loads(capsys.readouterr().out)
    assert [o["source"]["file"] for o in objects] == recordings
    assert all(o["started_utc"] for o in objects)  # tiltwatch recordings say when they started
