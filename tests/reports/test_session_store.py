"""The session store: migrations, permissions, damage, concurrent readers, and its commands."""

from __future__ import annotations

import json
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from firmware_interface.simulator import simulate
from fusion.analysis import analyze_batch
from fusion.session import SessionAnalysis
from tui.cli import main
from tui.reports.json_report import analysis_json
from tui.store import SessionStore, StoreError, save_session
from tui.store.db import DB_NAME, SCHEMA_VERSION, migrate
from tui.store.headline import headline

RECORDINGS = Path(__file__).parents[2] / "recordings"


@pytest.fixture(scope="module")
def desk() -> SessionAnalysis:
    session = simulate("desk", sample_rate_hz=50.0, seed=2)
    analysis = analyze_batch(session.batch, session.info)
    return replace(analysis, source=replace(analysis.source, started_utc="2026-11-20T09:00:00+00:00"))


@pytest.fixture(scope="module")
def squat() -> SessionAnalysis:
    session = simulate("squat", sample_rate_hz=50.0, seed=3)
    analysis = analyze_batch(session.batch, session.info)
    return replace(analysis, source=replace(analysis.source, started_utc="2026-11-21T18:00:00+00:00"))


def test_the_store_is_private_and_round_trips_a_session(tmp_path, desk):
    directory = tmp_path / "data"
    session_id = save_session(None, desk, directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / DB_NAME).stat().st_mode) == 0o600
    with SessionStore(directory) as store:
        [stored] = store.sessions()
        assert stored.id == session_id and stored.kind == "desk"
        assert stored.headline == headline(analysis_json(desk))
        assert store.analysis(session_id) == json.loads(json.dumps(analysis_json(desk)))
        rate, deg = store.series(session_id)
        assert rate == 10.0 and len(deg) == len(desk.tilt.deg)


def test_analysing_the_same_recording_again_replaces_its_session(tmp_path, desk):
    recording = tmp_path / "r.csv"
    recording.write_text("t,ax,ay,az,gx,gy,gz\n")
    first = save_session(recording, desk, tmp_path)
    assert save_session(recording, desk, tmp_path) == first
    recording.unlink()
    with SessionStore(tmp_path) as store:
        [stored] = store.sessions()
        assert stored.recording_missing  # marked, still listed and readable
        assert store.analysis(first)["samples"] == desk.samples


def test_a_version_1_store_is_migrated_with_its_headline_figures(tmp_path, squat):
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, target=1)
    obj = analysis_json(squat)
    db.execute("INSERT INTO sessions (recording, started_utc, kind, duration_s, analysis, saved_utc) "
               "VALUES (NULL, '2026-01-05T10:00:00+00:00', 'squat', 60.0, ?, 'x')", (json.dumps(obj),))
    db.close()
    with SessionStore(tmp_path) as store:
        [stored] = store.sessions()
        assert stored.headline == headline(obj) and stored.headline.reps == len(squat.reps) > 0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_store_from_a_newer_version_is_refused_in_one_line(tmp_path):
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer tiltwatch"):
        SessionStore(tmp_path)


def test_a_damaged_database_is_one_line_and_analyze_still_prints(tmp_path, capsys):
    (tmp_path / DB_NAME).write_bytes(b"this is not a database" * 100)
    assert main(["sessions", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err and "Traceback" not in err
    assert main(["analyze", str(RECORDINGS / "squat-session.csv"), "--json", "--data-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["reps"] and "not saved in the session store" in err


def test_one_damaged_session_does_not_take_the_others_down(tmp_path, desk, squat):
    a = save_session(None, desk, tmp_path)
    b = save_session(None, squat, tmp_path)
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute("UPDATE sessions SET analysis = '{broken' WHERE id = ?", (a,))
    db.commit()
    db.close()
    with SessionStore(tmp_path) as store:
        assert [s.id for s in store.sessions()] == [a, b]
        with pytest.raises(StoreError, match=f"session {a}'s stored analysis is damaged"):
            store.analysis(a)
        assert store.analysis(b)["reps"]


def test_readers_work_while_a_writer_holds_a_transaction(tmp_path, desk, squat):
    save_session(None, desk, tmp_path)
    with SessionStore(tmp_path) as writer, SessionStore(tmp_path) as reader:
        writer._db.execute("BEGIN IMMEDIATE")
        writer._db.execute("UPDATE sessions SET kind = 'mixed'")
        assert [s.kind for s in reader.sessions()] == ["desk"]  # the committed state, without waiting
        writer._db.execute("COMMIT")
        assert [s.kind for s in reader.sessions()] == ["mixed"]


def test_sessions_history_and_compare_commands(tmp_path, capsys):
    files = sorted(str(p) for p in RECORDINGS.glob("*.csv"))
    assert main(["analyze", *files, "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["sessions", "--json", "--data-dir", str(tmp_path)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(s["kind"] for s in listed) == ["desk", "squat"]
    assert main(["history", "--weeks", "520", "--json", "--data-dir", str(tmp_path)]) == 0
    weeks = json.loads(capsys.readouterr().out)
    assert sum(w["sessions"] for w in weeks) == 2 and sum(w["squat_reps"] for w in weeks) == 10
    assert main(["history", "--days", "7", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["compare", str(listed[0]["id"]), files[1], "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "squat reps" in out and "differences that matter" in out
    assert main(["compare", "99", "1", "--data-dir", str(tmp_path)]) == 2
    assert "no session 99" in capsys.readouterr().err


def test_no_store_leaves_the_store_alone(tmp_path):
    assert main(["analyze", str(RECORDINGS / "desk-stretch.csv"), "--no-store", "--data-dir", str(tmp_path)]) == 0
    assert not (tmp_path / DB_NAME).exists()


def test_a_stored_session_loads_back_as_a_typed_analysis(tmp_path, squat, desk):
    from tui.reports.text_report import format_summary

    for analysis in (squat, desk):
        session_id = save_session(None, analysis, tmp_path)
        with SessionStore(tmp_path) as store:
            loaded = store.load(session_id)
        assert analysis_json(loaded) == json.loads(json.dumps(analysis_json(analysis)))
        assert loaded.settings == analysis.settings and loaded.kind == analysis.kind
        assert len(loaded.tilt.deg) == len(analysis.tilt.deg)
        assert format_summary(loaded).splitlines()[0] == format_summary(analysis).splitlines()[0]


def test_a_finished_recording_is_analysed_and_stored(tmp_path):
    from tui.store import save_recording

    session_id = save_recording(RECORDINGS / "squat-session.csv", directory=tmp_path)
    with SessionStore(tmp_path) as store:
        stored = store.session(session_id)
    assert stored.kind == "squat" and stored.headline.reps == 10 and stored.started_utc.startswith("2026-11-24")
