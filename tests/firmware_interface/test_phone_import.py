"""Phone exports (phyphox, Sensor Logger) written from the simulator read back as its samples,
stream like any recording, analyse like a generic CSV, and fail in one line when incomplete."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording import Units, open_recording_stream, read_recording
from firmware_interface.simulator import ImuImperfections, simulate
from tests.firmware_interface._phone_files import (PhoneSamples, phyphox_tables, sensor_logger_files,
                                                   steady_sensor_logger, write_folder, write_zip)
from tui.cli import main

# Phones stamp events in ns: no duplicated timestamps (those are tested on their own below).
PHONE = dataclasses.replace(ImuImperfections.typical(), duplicate_timestamp_prob=0.0)


@pytest.fixture(scope="module")
def squats():
    session = simulate("squat", sample_rate_hz=200.0, seed=3, imperfections=PHONE)
    return session, PhoneSamples.of(session)


LAYOUTS = {
    "phyphox comma zip": lambda s, d: write_zip(d / "phyphox.zip", phyphox_tables(s)),
    "phyphox tab folder": lambda s, d: write_folder(d / "phyphox", phyphox_tables(s, separator="\t")),
    "phyphox semicolon decimal comma one padded table": lambda s, d: write_zip(
        d / "raw.zip", phyphox_tables(s, separator=";", decimal_comma=True, one_table=True)),
    "phyphox tab decimal comma CSV": lambda s, d: write_folder(
        d / "one", phyphox_tables(s, separator="\t", decimal_comma=True, one_table=True)) / "Raw Data.csv",
    "Sensor Logger Android zip": lambda s, d: write_zip(d / "android.zip", sensor_logger_files(s)),
    "Sensor Logger iOS folder": lambda s, d: write_folder(d / "ios", sensor_logger_files(s, platform="ios")),
}


def _expected_at(samples: PhoneSamples, session, t: np.ndarray):
    """The simulator's accelerometer and gyroscope at the accelerometer's instants ``t``."""
    index = np.searchsorted(samples.acc_t, t - 1e-6)
    assert np.abs(samples.acc_t[index] - t).max() < 1e-6
    return samples.acc[index], session.batch.gyr[::2][index]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_export_reads_back_the_simulated_samples(tmp_path: Path, squats, layout: str) -> None:
    session, samples = squats
    recording = read_recording(LAYOUTS[layout](samples, tmp_path))
    assert recording.info.profile == "phone"
    batch = recording.batch
    # Every accelerometer sample the gyroscope brackets is kept: all but those in its packet gaps.
    assert len(batch.t) >= 0.99 * len(samples.acc_t)
    acc, gyro = _expected_at(samples, session, batch.t)
    assert np.allclose(batch.acc, acc, rtol=1e-8, atol=1e-6)
    # The gyroscope is interpolated from half a sample away: well within its noise but at the
    # fastest turns of a squat.
    error = np.abs(batch.gyr - gyro)
    assert np.median(error) < 0.005 and np.percentile(error, 99) < 0.08
    assert abs(recording.info.sample_rate_hz - 100.0) < 2.0


@pytest.mark.parametrize("chunk_rows, chunk_s", [(777, None), (65_536, 1.0)])
def test_streaming_gives_the_whole_read_in_any_chunks(tmp_path: Path, squats, chunk_rows, chunk_s) -> None:
    path = LAYOUTS["Sensor Logger iOS folder"](squats[1], tmp_path)
    whole = read_recording(path).batch
    stream = open_recording_stream(path, chunk_rows=chunk_rows, chunk_s=chunk_s)
    batches = list(stream.batches())
    assert len(batches) > 1
    for name in ("t", "acc", "gyr"):
        assert np.array_equal(np.concatenate([getattr(b, name) for b in batches]), getattr(whole, name))
    assert stream.stats.samples == len(whole.t)


def test_two_exports_are_put_on_one_clock_by_their_start_times(tmp_path: Path, squats) -> None:
    _, samples = squats
    whole = read_recording(LAYOUTS["phyphox comma zip"](samples, tmp_path)).batch
    tables = phyphox_tables(samples)
    later = dataclasses.replace(samples, gyro_t=samples.gyro_t - 2.0)  # its run started 2 s later
    gyro_tables = phyphox_tables(later)
    gyro_tables["meta/time.csv"] = gyro_tables["meta/time.csv"].replace("1.764650000E+09", "1.764650002E+09")
    folder = tmp_path / "two"
    folder.mkdir()
    write_zip(folder / "acc.zip", {k: v for k, v in tables.items() if k != "Gyroscope.csv"})
    write_zip(folder / "gyro.zip", {k: v for k, v in gyro_tables.items() if k != "Accelerometer.csv"})
    merged = read_recording(folder).batch
    # Shifting by 2 s and back rounds the last bits: a sample at an edge may fall either side.
    assert abs(len(merged.t) - len(whole.t)) <= 1
    index = np.searchsorted(whole.t, merged.t - 1e-9)
    assert np.abs(whole.t[index] - merged.t).max() < 1e-9 and np.allclose(merged.gyr, whole.gyr[index], atol=1e-6)


def test_duplicated_timestamps_are_skipped_and_counted(tmp_path: Path, squats) -> None:
    _, samples = squats
    repeated = dataclasses.replace(samples, gyro_t=np.repeat(samples.gyro_t, 2)[: len(samples.gyro_t)],
                                   )
    path = write_zip(tmp_path / "dup.zip", sensor_logger_files(repeated))
    recording = read_recording(path)
    assert any("time did not increase were skipped" in w for w in recording.warnings)


def test_memory_does_not_grow_with_the_length_of_the_export(tmp_path: Path, monkeypatch) -> None:
    # Memory is bounded by the lines parsed at once and the rows the unit checks look at; scaled
    # down here so that short files are already far beyond both.
    monkeypatch.setattr("firmware_interface.recording.phone.members.PARSE_LINES", 1024)
    monkeypatch.setattr("firmware_interface.recording.phone.WINDOW_ROWS", 4096)
    peaks = {}
    for minutes in (4, 12):
        path = steady_sensor_logger(tmp_path / f"{minutes}.zip", minutes)
        tracemalloc.start()
        try:
            stream = open_recording_stream(path, chunk_rows=2048)
            samples = sum(len(batch.t) for batch in stream.batches())
            peaks[minutes] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert samples == stream.stats.samples >= minutes * 6000 - 2
    # Holding the samples would take 2.7 MB more for 12 min than for 4.
    assert peaks[12] < peaks[4] + 0.5e6, peaks


def _cli_squat_reps(path: Path, capsys) -> list[dict]:
    assert main(["analyze", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["reps"]


def test_phone_export_analyses_like_the_generic_csv(tmp_path: Path, squats, capsys) -> None:
    session, samples = squats
    phone = LAYOUTS["Sensor Logger Android zip"](samples, tmp_path)
    recording = read_recording(phone)
    acc, gyro = _expected_at(samples, session, recording.batch.t)
    generic = tmp_path / "generic.csv"
    np.savetxt(generic, np.column_stack([recording.batch.t, acc, gyro]), delimiter=",", fmt="%.9g",
               header="t,ax,ay,az,gx,gy,gz", comments="")
    from_phone, from_csv = _cli_squat_reps(phone, capsys), _cli_squat_reps(generic, capsys)
    assert len(from_phone) == len(from_csv) >= 0.8 * len(session.truth.reps)
    bottoms = np.array([r["bottom_s"] for r in from_phone]) - np.array([r["bottom_s"] for r in from_csv])
    assert np.abs(bottoms).max() < 0.3
    assert [r["butt_wink"] for r in from_phone] == [r["butt_wink"] for r in from_csv]


def _without(files: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in files.items() if k not in names}


INCOMPLETE = {
    "phyphox accelerometer only": (lambda s: _without(phyphox_tables(s), "Gyroscope.csv"),
                                   "with the accelerometer but no gyroscope"),
    "phyphox gyroscope only": (lambda s: _without(phyphox_tables(s), "Accelerometer.csv"),
                               "with the gyroscope but no accelerometer"),
    "phyphox linear acceleration": (lambda s: phyphox_tables(s, linear=True), "Linear Acceleration"),
    "Sensor Logger without gyroscope": (lambda s: _without(sensor_logger_files(s), "Gyroscope.csv"),
                                        "no Gyroscope.csv"),
    "Sensor Logger user acceleration only": (
        lambda s: _without(sensor_logger_files(s), "TotalAcceleration.csv", "Gravity.csv"), "gravity removed"),
    "Sensor Logger gyroscope only": (
        lambda s: _without(sensor_logger_files(s), "TotalAcceleration.csv", "Gravity.csv", "Accelerometer.csv"),
        "without an accelerometer"),
    "two phyphox recordings": (lambda s: phyphox_tables(s) | {"b/Accelerometer.csv": phyphox_tables(s)[
        "Accelerometer.csv"]}, "2 phyphox accelerometer tables"),
    "phyphox and Sensor Logger": (lambda s: phyphox_tables(s) | {f"logger/{k}": v for k, v in sensor_logger_files(s).items()},
                                  "mixes phyphox"),
    "foreign zip": (lambda s: {"notes.csv": "a,b\n1,2\n", "readme.txt": "hello"}, "is a zip archive without a phone export"),
    "empty zip": (lambda s: {}, "is a zip archive without a phone export"),
    "sideways iOS phone": (lambda s: sensor_logger_files(dataclasses.replace(
        s, acc=s.acc[:, [1, 0, 2]], gravity=s.gravity[:, [1, 0, 2]]), platform="ios"), "not worn top up"),
}


@pytest.mark.parametrize("case", INCOMPLETE)
@pytest.mark.parametrize("command", ["analyze", "info"])
def test_incomplete_or_foreign_exports_fail_in_one_line(tmp_path: Path, squats, capsys, case, command) -> None:
    short = dataclasses.replace(squats[1], acc_t=squats[1].acc_t[:300], acc=squats[1].acc[:300],
                                gravity=squats[1].gravity[:300], gyro_t=squats[1].gyro_t[:300],
                                gyro=squats[1].gyro[:300])
    build, message = INCOMPLETE[case]
    path = write_zip(tmp_path / "export.zip", build(short))
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and str(path) in err


def test_info_names_a_phone_export_as_such(tmp_path: Path, squats, capsys) -> None:
    path = write_zip(tmp_path / "export.zip", phyphox_tables(squats[1]))
    assert main(["info", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{path} (phone export)"


def test_a_bad_cell_and_unit_options_are_named(tmp_path: Path, squats) -> None:
    files = phyphox_tables(squats[1])
    lines = files["Gyroscope.csv"].split("\n")
    lines[5] = lines[5].replace("E", "Q", 1)
    path = write_zip(tmp_path / "bad.zip", files | {"Gyroscope.csv": "\n".join(lines)})
    with pytest.raises(RecordingFormatError, match=r"Gyroscope.csv, line 6: the gyroscope file has '.*Q"):
        read_recording(path)
    with pytest.raises(RecordingFormatError, match="unit options apply to generic CSV files"):
        read_recording(LAYOUTS["phyphox comma zip"](squats[1], tmp_path), Units(acc="g"))


def test_generic_csv_and_recordings_are_not_taken_for_phone_exports(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("t,ax,ay,az,gx,gy,gz\n0,0,9.8,0,0,0,0\n0.01,0,9.8,0,0,0,0\n")
    assert read_recording(path).info.profile == "csv"
    folder = tmp_path / "folder"
    shutil.copytree(tmp_path, folder, ignore=shutil.ignore_patterns("folder"))
    with pytest.raises(RecordingFormatError, match="is a directory without a phone export"):
        read_recording(folder)
