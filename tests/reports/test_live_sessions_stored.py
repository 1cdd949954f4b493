"""A live session is recorded into the store's private folder and stored with its analysis when
the dashboard ends (the dashboard itself is driven in tests/tui; here the CLI's two ends)."""

from __future__ import annotations

import json
import stat

import pytest

from fusion.settings import Settings
from tui.cli import _store_live_session, main
from tui.cli_parser import build_parser
from tui.store import new_recording_path


def test_a_live_session_is_recorded_in_a_private_folder_under_a_new_name(tmp_path):
    first = new_recording_path("demo", tmp_path)
    first.write_text("t\n")
    second = new_recording_path("demo", tmp_path)
    assert first != second and first.parent == second.parent == tmp_path / "recordings"
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700


def test_the_finished_recording_is_analysed_and_listed_in_sessions(tmp_path, capsys):
    recording = new_recording_path("live", tmp_path)
    assert main(["record", str(recording), "--simulate", "--scenario", "squat", "--seconds", "60"]) == 0
    capsys.readouterr()
    _store_live_session(recording, Settings(), str(tmp_path))
    err = capsys.readouterr().err
    assert "stored" in err and str(recording) in err
    assert main(["sessions", "--json", "--data-dir", str(tmp_path)]) == 0
    sessions = json.loads(capsys.readouterr().out)
    assert len(sessions) == 1 and sessions[0]["kind"] in ("squat", "mixed")


def test_a_recording_that_cannot_be_analysed_is_kept_and_said_in_one_line(tmp_path, capsys):
    recording = new_recording_path("live", tmp_path)
    recording.write_text("this is not a recording\n")
    _store_live_session(recording, Settings(), str(tmp_path))
    lines = capsys.readouterr().err.strip().splitlines()
    assert "not stored" in lines[-1] and "tiltwatch analyze" in lines[-1] and recording.exists()


@pytest.mark.parametrize("command", ["demo", "live"])
def test_record_and_no_record_exclude_each_other(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--record", "x.csv", "--no-record"])
    assert exit_.value.code == 2
    assert "--no-record" in capsys.readouterr().err
