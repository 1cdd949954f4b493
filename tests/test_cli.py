"""The command line: every user error is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_interface.recording import read_recording
from tui.cli import main, parse_calibration_spec

ROOT = Path(__file__).resolve().parents[1]
SQUAT_SAMPLE = ROOT / "recordings" / "squat-session.csv"


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write(tmp_path, name, text, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


GOOD_ROWS = "0.00,0,0,9.81,0,0,0\n0.01,0,0,9.81,0,0,0\n"


@pytest.mark.parametrize("content, fragments", [
    ("t,ax,ay,az,gx,gy\n0,0,0,9.8,0,0\n", ("gz",)),
    ("t,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n0.01,0,abc,9.8,0,0,0\n", ("line 3", "ay")),
    ("t,ax,ay,az,gx,gy,gz\n0.02,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n", ("line 3",)),
    ("", ("empty",)),
    ("t,ax,ay,az,gx,gy,gz\n", ()),
])
@pytest.mark.parametrize("command", ["info", "analyze"])
def test_bad_csv_files_get_one_line_errors(tmp_path, capsys, content, fragments, command):
    path = write(tmp_path, "bad.csv", content)
    code, out, err = run([command, path], capsys)
    assert_one_line_error(code, err, "bad.csv", *fragments)
    assert out == ""


def test_foreign_and_missing_files(tmp_path, capsys):
    png = write(tmp_path, "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), mode="wb")
    code, _, err = run(["analyze", png], capsys)
    assert_one_line_error(code, err, "photo.png")
    code, _, err = run(["info", str(tmp_path / "nope.csv")], capsys)
    assert_one_line_error(code, err, "nope.csv")


@pytest.mark.parametrize("argv, fragment", [
    (["analyze"], "required"),
    (["analyze", "x.csv", "--bogus"], "--bogus"),
    (["replay", "x.csv", "--speed", "-2"], "positive"),
    (["record", "out.csv", "--seconds", "zero"], "positive"),
    (["demo", "--sensor", "fitbit"], "fitbit"),
    (["frobnicate"], "frobnicate"),
])
def test_wrong_arguments(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code != 0
    _, err = capsys.readouterr()
    assert_one_line_error(exited.value.code, err, fragment)


@pytest.mark.parametrize("spec, fragment", [
    ("stand=5:2", "START < END"),
    ("stand=a:b", "non-numeric"),
    ("sit=0:5", "stand=A:B"),
    ("walk=0:5", "stand, sit or hinge"),
    ("stand=0:5,stand=1:6", "twice"),
])
def test_bad_calibration_windows(capsys, spec, fragment):
    code, _, err = run(["analyze", str(SQUAT_SAMPLE), "--calibration", spec], capsys)
    assert_one_line_error(code, err, "--calibration", fragment)


def test_calibration_window_where_the_wearer_moves_is_rejected(capsys):
    # 15-25 s of the squat sample holds squats: no still neutral there.
    code, _, err = run(["analyze", str(SQUAT_SAMPLE), "--calibration", "stand=15:25"], capsys)
    assert_one_line_error(code, err, "calibration")


def test_calibration_spec_parses():
    assert parse_calibration_spec("stand=0:5, sit=60:65,hinge=10:20") == {
        "stand": (0.0, 5.0), "sit": (60.0, 65.0), "hinge": (10.0, 20.0)}
    assert parse_calibration_spec(None) == {}


def test_record_never_overwrites(tmp_path, capsys):
    out = tmp_path / "keep.csv"
    out.write_text("precious")
    code, _, err = run(["record", str(out), "--simulate", "--seconds", "1"], capsys)
    assert_one_line_error(code, err, "already exists")
    assert out.read_text() == "precious"


def test_record_needs_a_source(tmp_path, capsys):
    code, _, err = run(["record", str(tmp_path / "x.csv")], capsys)
    assert_one_line_error(code, err, "no sensor given")


@pytest.mark.parametrize("faults", ["disconnect@", "loss=150%", "explode@3"])
def test_bad_fault_specs(tmp_path, capsys, faults):
    code, _, err = run(["record", str(tmp_path / "x.csv"), "--emulate", "wt901", "--faults", faults,
                        "--seconds", "1"], capsys)
    assert_one_line_error(code, err, "fault")
    assert not (tmp_path / "x.csv").exists()


def test_unknown_scenario(tmp_path, capsys):
    code, _, err = run(["record", str(tmp_path / "x.csv"), "--simulate", "--scenario", "yoga"], capsys)
    assert_one_line_error(code, err, "yoga")


def test_bad_settings_value(capsys):
    code, _, err = run(["analyze", str(SQUAT_SAMPLE), "--hold-sitting-s", "-5"], capsys)
    assert_one_line_error(code, err, "hold_sitting_s")


def test_info_json_and_text(capsys):
    code, out, err = run(["info", str(SQUAT_SAMPLE), "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["samples"] > 10_000 and info["mean_rate_hz"] == pytest.approx(100, rel=0.1)
    code, out, _ = run(["info", str(SQUAT_SAMPLE)], capsys)
    assert code == 0 and "samples" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("tiltwatch ")


@pytest.mark.parametrize("command", ["demo", "live", "replay", "record", "info", "analyze", "scan"])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert "usage: tiltwatch " + command in capsys.readouterr().out


def test_record_from_an_emulated_sensor_with_faults(tmp_path, capsys):
    """The issue's done criterion, shortened: the recording spans the whole time with the link
    drop marked as one gap, and `info` reports the malformed packets skipped."""
    out = tmp_path / "dot.csv"
    code, _, err = run(["record", str(out), "--emulate", "dot", "--seconds", "7",
                        "--faults", "disconnect@2,malformed=3%"], capsys)
    assert code == 0, err
    code, text, err = run(["info", str(out), "--json"], capsys)
    assert code == 0, err
    info = json.loads(text)
    assert info["nominal_rate_hz"] == 60
    assert info["duration_s"] == pytest.approx(7.0, abs=0.2)
    assert info["markers"].get("reconnect") == 1
    # Each skipped malformed packet is a missing sample, marked too; the link drop is one gap.
    link_gaps = [m for m in read_recording(out).batch.markers
                 if m.kind == "gap" and m.data.get("detected_by") == "link loss"]
    assert len(link_gaps) == 1
    assert link_gaps[0].end_s - link_gaps[0].t_s == pytest.approx(2.0, abs=0.6)  # back after 2 s
    # One DOT notification carries one sample: each malformed one is one sample missing.
    link_down_s = link_gaps[0].end_s - link_gaps[0].t_s
    assert info["samples"] == pytest.approx((info["duration_s"] - link_down_s) * 60 - info["malformed"], rel=0.03)
    assert info["malformed"] > 0


def test_record_to_a_full_disk_is_one_line_and_keeps_what_was_written(tmp_path, capsys, monkeypatch):
    import errno
    import io
    import os

    import firmware_interface.recording.writer as writer_module

    class DiskFullAfter(io.FileIO):  # the raw OS write fails as a full disk does
        def write(self, data):
            if self.tell() + len(data) > 20_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return super().write(data)

    def small_disk_open(path, mode="r", encoding=None, newline=None):
        return io.TextIOWrapper(io.BufferedWriter(DiskFullAfter(path, mode)), encoding=encoding, newline=newline)

    monkeypatch.setattr(writer_module, "open", small_disk_open, raising=False)
    out = tmp_path / "x.csv"
    code, _, err = run(["record", str(out), "--simulate", "--scenario", "desk", "--seconds", "60"], capsys)
    assert_one_line_error(code, err, "No space left on device", "keeps its")
    assert len(read_recording(out).batch) > 0


def test_sigterm_stops_a_headless_recording_with_its_health_line(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "x.csv"
    process = subprocess.Popen([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())",
                                "record", str(out), "--emulate", "wt901", "--seed", "1"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # margin for a loaded machine
        while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 5000):
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err.decode()
    recording = read_recording(out)
    (health,) = recording.metadata["health"]
    assert health["samples"] == len(recording.batch) > 0


def test_analyze_progress_only_on_a_terminal(monkeypatch, capsys):
    import io

    from tui import cli

    assert cli._progress_on_terminal("analyzing x.csv") is None  # stderr captured: not a terminal

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(cli.sys, "stderr", terminal)
    progress = cli._progress_on_terminal("analyzing x.csv")
    for fraction in (0.0, 0.004, 0.5, 1.0):
        progress(fraction)
    progress.done()
    assert terminal.getvalue() == "\ranalyzing x.csv   0%\ranalyzing x.csv  50%\ranalyzing x.csv 100%\r\x1b[K"


def test_analyze_json_piped_prints_nothing_on_stderr(capsys):
    code, out, err = run(["analyze", str(SQUAT_SAMPLE), "--json"], capsys)
    assert code == 0 and err == "" and json.loads(out)
