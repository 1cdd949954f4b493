"""Recordings: round trip, one-line reads, torn lines, crash safety, sync policy, speed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from firmware_interface.errors import RecordingFormatError, UsageError
from firmware_interface.recording import (FORMAT_VERSION, RecordingWriter, open_recording_stream,
                                          read_recording, summarize)
from firmware_interface.recording import writer as writer_module
from firmware_interface.samples import Marker, SampleBatch, SourceInfo

INFO = SourceInfo(device="Simulated IMU", profile="sim", sample_rate_hz=100.0,
                  address="00:11:22:33:44:55", extra={"scenario": "desk", "seed": 3})
T_TOLERANCE_S = 5e-7       # %.6f
RELATIVE_TOLERANCE = 5e-7  # %.7g


def make_batch(rng: np.random.Generator, n: int, t0_s: float = 0.0, rate_hz: float = 100.0,
               markers: tuple[Marker, ...] = ()) -> SampleBatch:
    t = t0_s + np.arange(n) / rate_hz + rng.uniform(0, 0.2 / rate_hz, n)
    acc = rng.normal(0, 2.0, (n, 3)) + [0.0, 9.81, 0.0]
    gyr = rng.normal(0, 0.5, (n, 3))
    return SampleBatch(t, acc, gyr, markers)


def assert_same_samples(actual: SampleBatch, expected: SampleBatch) -> None:
    assert len(actual) == len(expected)
    np.testing.assert_allclose(actual.t, expected.t, rtol=0, atol=T_TOLERANCE_S)
    np.testing.assert_allclose(actual.acc, expected.acc, rtol=RELATIVE_TOLERANCE, atol=1e-300)
    np.testing.assert_allclose(actual.gyr, expected.gyr, rtol=RELATIVE_TOLERANCE, atol=1e-300)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_keeps_samples_markers_and_metadata(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gap = Marker(2.0, "gap", end_s=2.4, data={"lost_samples": 40})
    note = Marker(1.5, "note", text='sitting, "desk"\nline two \u2028 \u00e9')
    batches = [make_batch(rng, 150), make_batch(rng, 100, t0_s=2.4, markers=(gap,))]
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(batches[0])
        writer.add_marker(note)
        writer.add_metadata("calibration", {"kind": "stand", "quaternion": [1.0, 0.0, 0.0, 0.0]})
        writer.append(batches[1])
        assert writer.samples_written == 250

    recording = read_recording(path)
    assert recording.format_version == FORMAT_VERSION
    assert recording.torn_lines == 0
    assert recording.info == INFO
    assert_same_samples(recording.batch, SampleBatch.concatenate(batches))
    assert recording.batch.markers == (note, gap)  # sorted by t_s
    assert recording.metadata["calibration"] == [{"kind": "stand",
                                                  "quaternion": [1.0, 0.0, 0.0, 0.0]}]
    assert recording.metadata["started"][0]["tiltwatch_version"]
    assert "source" not in recording.metadata and "marker" not in recording.metadata


@settings(max_examples=30, deadline=None)
@given(exponents=st.lists(st.floats(-9, 4), min_size=6, max_size=6),
       signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=6, max_size=6),
       t0_s=st.floats(0, 1e5))
def test_values_of_any_magnitude_round_trip_within_documented_precision(
        tmp_path_factory: pytest.TempPathFactory, exponents: list[float], signs: list[float],
        t0_s: float) -> None:
    values = np.array(signs) * 10.0 ** np.array(exponents)
    batch = SampleBatch([t0_s, t0_s + 0.01], np.tile(values[:3], (2, 1)), np.tile(values[3:], (2, 1)))
    path = tmp_path_factory.mktemp("prec") / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(batch)
    # The writer's precision, read as any CSV tool would (tiltwatch's reader also drops rows no
    # IMU can produce, e.g. 10^4 rad/s).
    table = np.loadtxt(path, delimiter=",", comments="#", skiprows=1, ndmin=2)
    assert_same_samples(SampleBatch(table[:, 0], table[:, 1:4], table[:, 4:7]), batch)


def test_one_line_numpy_read_gives_the_samples(tmp_path: Path) -> None:
    batch = make_batch(np.random.default_rng(5), 50, markers=(Marker(0.2, "note", text="a,b"),))
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(batch)
        writer.add_metadata("calibration", {"kind": "sit"})
    table = np.genfromtxt(path, delimiter=",", names=True, comments="#")
    assert table.dtype.names == ("t", "ax", "ay", "az", "gx", "gy", "gz")
    np.testing.assert_allclose(table["t"], batch.t, atol=T_TOLERANCE_S)
    np.testing.assert_allclose(table["gz"], batch.gyr[:, 2], rtol=RELATIVE_TOLERANCE)


def test_one_line_pandas_read_gives_the_samples(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    batch = make_batch(np.random.default_rng(6), 50, markers=(Marker(0.2, "note"),))
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(batch)
    frame = pandas.read_csv(path, comment="#")
    assert list(frame.columns) == ["t", "ax", "ay", "az", "gx", "gy", "gz"]
    np.testing.assert_allclose(frame["ay"].to_numpy(), batch.acc[:, 1], rtol=RELATIVE_TOLERANCE)


def test_a_spooled_stream_gives_the_samples_of_the_text_in_every_pass(tmp_path: Path) -> None:
    """``spool=True``: passes read the samples the validating read parsed (binary), not the text
    again: the same batches and markers, passes may interleave, and ``close`` ends it."""
    path = tmp_path / "s.csv"
    rng = np.random.default_rng(5)
    with RecordingWriter(path, INFO) as writer:
        writer.append(make_batch(rng, 3000))
        writer.append(make_batch(rng, 2000, t0_s=31.0, markers=(Marker(30.5, "gap", end_s=31.0),)))
    text = open_recording_stream(path, chunk_s=7.0)
    spooled = open_recording_stream(path, chunk_s=7.0, spool=True)
    expected = list(text.batches())
    first, second = spooled.batches(), spooled.batches()
    interleaved = [(next(first), next(second)) for _ in range(2)]
    assert [a.t[0] for a, _ in interleaved] == [b.t[0] for _, b in interleaved] == [e.t[0] for e in expected[:2]]
    for actual in (list(spooled.batches()), [*[a for a, _ in interleaved], *first]):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            np.testing.assert_array_equal(a.t, e.t)
            np.testing.assert_array_equal(a.acc, e.acc)
            np.testing.assert_array_equal(a.gyr, e.gyr)
            assert a.markers == e.markers
    spooled.close()
    assert [len(b) for b in spooled.batches()] == [len(e) for e in expected]  # the text again


def test_writer_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("precious\n")
    with pytest.raises(UsageError, match="already exists"):
        RecordingWriter(path, INFO)
    assert path.read_text() == "precious\n"
    with RecordingWriter(path, INFO, overwrite=True) as writer:
        writer.append(make_batch(np.random.default_rng(0), 3))
    assert len(read_recording(path).batch) == 3


def test_writer_drops_and_counts_samples_the_reader_would_reject(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(SampleBatch([1.0, 1.1, 1.2], np.ones((3, 3)), np.zeros((3, 3))))
        # back in time, a repeated time, a NaN, and a step below the 1 µs written
        writer.append(SampleBatch([0.5, 1.3, 1.3, 1.4, 1.5, 1.5000001, 1.6],
                                  np.ones((7, 3)), np.zeros((7, 3))))
        nan_batch = SampleBatch([1.7, 1.8], [[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]], np.zeros((2, 3)))
        writer.append(nan_batch)
        assert (writer.samples_written, writer.samples_dropped) == (8, 4)
        for key in ("source", "marker", "dropped", "Bad Key"):
            with pytest.raises(ValueError, match="metadata key"):
                writer.add_metadata(key, {})
    recording = read_recording(path)
    np.testing.assert_allclose(recording.batch.t, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8])
    assert recording.metadata["dropped"] == [{"samples": 4}]


def test_each_append_reaches_the_os_and_fsync_runs_at_most_once_per_interval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now_s": 1000.0}
    fsync_times: list[float] = []
    monkeypatch.setattr(writer_module.time, "monotonic", lambda: clock["now_s"])
    real_fsync = os.fsync
    monkeypatch.setattr(writer_module.os, "fsync",
                        lambda fd: (fsync_times.append(clock["now_s"]), real_fsync(fd)))
    rng = np.random.default_rng(1)
    path = tmp_path / "rec.csv"
    writer = RecordingWriter(path, INFO)
    for i in range(50):  # 50 batches, 0.1 s apart
        clock["now_s"] += 0.1
        writer.append(make_batch(rng, 10, t0_s=i * 0.1))
        # Visible to another reader at once: nothing waits in Python's buffer.
        assert len(read_recording(path).batch) == 10 * (i + 1)
    writer.close()
    intervals = np.diff(fsync_times[:-1])  # the last one is close()
    assert len(fsync_times) in range(5, 8)
    assert (intervals >= 1.0 - 1e-9).all() and (intervals <= 1.1 + 1e-9).all()


def _write_sample_file(tmp_path: Path, rows: int = 30) -> tuple[Path, SampleBatch]:
    batch = make_batch(np.random.default_rng(9), rows)
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(batch)
    return path, batch


@pytest.mark.parametrize("cut_chars", [1, 5, 20, 45])
def test_torn_last_row_is_ignored_and_counted(tmp_path: Path, cut_chars: int) -> None:
    path, batch = _write_sample_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-cut_chars])
    recording = read_recording(path)
    assert recording.torn_lines == 1
    assert_same_samples(recording.batch, SampleBatch(batch.t[:-1], batch.acc[:-1], batch.gyr[:-1]))


def test_torn_last_marker_line_is_ignored_and_counted(tmp_path: Path) -> None:
    path, batch = _write_sample_file(tmp_path)
    with open(path, "a") as file:
        file.write('# marker {"t_s": 0.1, "kind": "no')
    recording = read_recording(path)
    assert recording.torn_lines == 1 and recording.batch.markers == ()
    assert len(recording.batch) == len(batch)


def test_truncation_inside_the_file_is_rejected_with_its_line(tmp_path: Path) -> None:
    path, _ = _write_sample_file(tmp_path)
    lines = path.read_text().split("\n")
    lines[10] = lines[10][:12]  # a row cut short, followed by more rows
    path.write_text("\n".join(lines))
    with pytest.raises(RecordingFormatError, match="line 11.*truncated or corrupt"):
        read_recording(path)


def test_corrupt_metadata_line_is_rejected_with_its_line(tmp_path: Path) -> None:
    path, _ = _write_sample_file(tmp_path)
    with open(path, "a") as file:
        file.write('# marker {"t_s": 0.1, "kind"\n0.999999,1,2,3,4,5,6\n')
    with pytest.raises(RecordingFormatError, match="marker' line does not hold a JSON object"):
        read_recording(path)


def test_future_format_version_is_rejected(tmp_path: Path) -> None:
    path, _ = _write_sample_file(tmp_path)
    path.write_text(path.read_text().replace("# tiltwatch-recording 1", "# tiltwatch-recording 2"))
    with pytest.raises(RecordingFormatError, match="format version 2 is newer .* upgrade"):
        read_recording(path)


def test_recording_without_source_line_is_rejected(tmp_path: Path) -> None:
    path, _ = _write_sample_file(tmp_path)
    text = "\n".join(line for line in path.read_text().split("\n") if not line.startswith("# source"))
    path.write_text(text)
    with pytest.raises(RecordingFormatError, match="no '# source' line"):
        read_recording(path)


def test_summary_merges_gap_markers_with_timing_gaps(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    first, second, third = make_batch(rng, 200), make_batch(rng, 100, 3.0), make_batch(rng, 100, 6.0)
    marked = Marker(1.995, "gap", end_s=3.0)  # reported by the source, also seen in timing
    short = Marker(0.5, "gap", end_s=0.52)  # too short for timing to see
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(SampleBatch(first.t, first.acc, first.gyr, (short,)))
        writer.append(SampleBatch(second.t, second.acc, second.gyr, (marked,)))
        writer.append(third)  # an unreported hole between 3.99 and 6.0
        writer.add_metadata("calibration", {"kind": "stand"})
    summary = summarize(read_recording(path))
    assert summary.samples == 400
    assert summary.nominal_rate_hz == 100.0
    assert summary.duration_s == pytest.approx(third.t[-1] - first.t[0])
    assert summary.mean_rate_hz == pytest.approx(399 / summary.duration_s)
    assert len(summary.gaps) == 3
    assert summary.gaps[0] == (0.5, 0.52)
    assert summary.gaps[1] == (pytest.approx(first.t[-1], abs=1e-6),
                               pytest.approx(second.t[0], abs=1e-6))
    assert summary.gaps[2] == (pytest.approx(second.t[-1], abs=1e-6),
                               pytest.approx(third.t[0], abs=1e-6))
    assert summary.gap_total_s == pytest.approx(sum(b - a for a, b in summary.gaps))
    assert summary.markers == {"gap": 2}
    assert summary.metadata == {"started": 1, "calibration": 1}
    decoded = json.loads(json.dumps(summary.to_json()))
    assert decoded["gaps"][2][1] == pytest.approx(third.t[0], abs=1e-6)
    assert decoded["profile"] == "sim" and decoded["format_version"] == 1
    assert "3 totalling" in summary.to_text()


_KILLED_WRITER = textwrap.dedent("""
    import asyncio, sys, time
    import numpy as np
    from firmware_interface.recording import RecordingWriter
    from firmware_interface.samples import SampleBatch, SourceInfo
    from firmware_interface.sources import PacedSource, record_stream

    async def main():
        n = 100 * 120
        t = np.arange(n) / 100.0
        batch = SampleBatch(t, np.ones((n, 3)), np.zeros((n, 3)))
        info = SourceInfo("Simulated IMU", "sim", 100.0)
        with RecordingWriter(sys.argv[1], info) as writer:
            source = PacedSource(batch, info, speed=1.0, chunk_s=0.05)
            print(time.time(), flush=True)
            await record_stream(source, writer, None)

    asyncio.run(main())
""")


@pytest.mark.parametrize("run_s", [1.6, 2.3])
def test_sigkilled_writer_loses_at_most_the_last_second(tmp_path: Path, run_s: float) -> None:
    path = tmp_path / "killed.csv"
    process = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)],
                               stdout=subprocess.PIPE, text=True)
    try:
        started_wall_s = float(process.stdout.readline())
        time.sleep(max(0.0, started_wall_s + run_s - time.time()))
        killed_wall_s = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        process.kill()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    recording = read_recording(path)  # every complete row parses; a torn one is tolerated
    assert recording.torn_lines in (0, 1)
    covered_s = recording.batch.t[-1] - recording.batch.t[0]
    assert covered_s >= (killed_wall_s - started_wall_s) - 1.0
    np.testing.assert_allclose(recording.batch.t, np.arange(len(recording.batch)) / 100.0, atol=1e-6)


def test_reading_an_hour_at_100_hz_takes_a_few_seconds_at_most(tmp_path: Path) -> None:
    rows = 100 * 3600
    batch = make_batch(np.random.default_rng(7), rows)
    path = tmp_path / "hour.csv"
    started_s = time.perf_counter()
    with RecordingWriter(path, INFO) as writer:
        for piece in batch.split(100 * 60):
            writer.append(piece)
    write_s = time.perf_counter() - started_s
    started_s = time.perf_counter()
    recording = read_recording(path)
    read_s = time.perf_counter() - started_s
    assert len(recording.batch) == rows
    assert read_s < 5.0 and write_s < 10.0, (read_s, write_s)


def test_writer_batches_its_writes_and_keeps_the_same_samples_in_any_batches(tmp_path: Path) -> None:
    """With a write interval the lines wait in memory (the dashboard's 0.25 s); closing writes
    them all, with the markers and metadata where they were appended. Which samples are kept
    (non-finite or non-increasing ones dropped) does not depend on the batching."""
    t = np.array([1.0, 1.1, np.nan, 1.2, 0.5, 1.3, 1.3, 1.4, 9.0, 1.5, 1.6])
    acc = np.ones((len(t), 3))
    acc[8] = np.nan  # a later time on a bad sample does not raise the bar
    gyr = np.zeros((len(t), 3))
    marker = Marker(1.25, "stall", end_s=1.3)
    files = {}
    for name, cuts, interval_s in (("one", [], 0.0), ("each", list(range(1, len(t))), 0.0),
                                   ("some", [2, 3, 9], 60.0)):
        path = files[name] = tmp_path / f"{name}.csv"
        with RecordingWriter(path, INFO, sync_interval_s=60.0, write_interval_s=interval_s) as writer:
            for a, b in zip([0, *cuts], [*cuts, len(t)]):
                markers = (marker,) if a <= 3 < b else ()
                writer.append(SampleBatch(t[a:b], acc[a:b], gyr[a:b], markers))
                if a <= 5 < b:
                    writer.add_metadata("calibration", {"note": "zero set"})
            if interval_s:
                assert "1.100000" not in path.read_text()  # still in memory
        assert (writer.samples_written, writer.samples_dropped) == (7, 4), name
        recording = read_recording(path)
        np.testing.assert_allclose(recording.batch.t, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6])
        assert recording.metadata["dropped"] == [{"samples": 4}]
        assert [m.kind for m in recording.batch.markers] == ["stall"]
    rows = {name: [line for line in path.read_text().splitlines() if not line.startswith("#")]
            for name, path in files.items()}
    assert rows["one"] == rows["each"] == rows["some"]
    lines = files["some"].read_text().splitlines()  # the marker before its batch's samples
    assert lines.index(next(line for line in lines if line.startswith("# marker"))) < lines.index(
        next(line for line in lines if line.startswith("1.200000")))
