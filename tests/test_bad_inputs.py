"""Hostile and mistaken input files through `info`, `analyze` and `record --input`.

Every input is generated here (no real data). Each gives its one-line error and exit 2, or the
right result; never a traceback or a hang. Property tests: arbitrary bytes and arbitrary rows
never raise anything but tiltwatch's own errors.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from firmware_interface.errors import TiltwatchError
from firmware_interface.recording import RecordingWriter, open_recording_stream, read_recording
from firmware_interface.samples import SampleBatch, SourceInfo
from tui.cli import main

RATE_HZ = 100.0
SECONDS = 20.0
HEADER = "t,ax,ay,az,gx,gy,gz"


def motion(n: int = int(SECONDS * RATE_HZ), seed: int = 0) -> np.ndarray:
    """(n, 7) plausible SI rows: gravity on +y, a slow sway, sensor noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    sway = 0.2 * np.sin(2 * np.pi * 0.3 * t)
    acc = np.column_stack([9.80665 * np.sin(sway), 9.80665 * np.cos(sway), np.zeros(n)])
    gyr = np.column_stack([np.zeros(n), np.zeros(n), 0.2 * 2 * np.pi * 0.3 * np.cos(2 * np.pi * 0.3 * t)])
    return np.column_stack([t, acc + rng.normal(0, 0.05, (n, 3)), gyr + rng.normal(0, 0.01, (n, 3))])


def csv_text(table: np.ndarray, line_end: str = "\n") -> str:
    rows = [",".join(repr(v) for v in row) for row in table.tolist()]
    return line_end.join([HEADER, *rows]) + line_end


def scaled(time: float = 1.0, acc: float = 1.0, gyro: float = 1.0, t0: float = 0.0) -> str:
    table = motion()
    table[:, 0] = (table[:, 0] + t0) * time
    table[:, 1:4] *= acc
    table[:, 4:7] *= gyro
    return csv_text(table)


def recording_text(tmp_path: Path, rate_hz: float = RATE_HZ) -> str:
    path = tmp_path / "made.csv"
    table = motion()
    with RecordingWriter(path, SourceInfo("Simulated IMU", "sim", RATE_HZ)) as writer:
        writer.append(SampleBatch(table[:, 0], table[:, 1:4], table[:, 4:7]))
    text = path.read_text()
    path.unlink()
    return text.replace('"sample_rate_hz": 100.0', f'"sample_rate_hz": {rate_hz}')


def with_row(text: str, row: str, at: int | None = None) -> str:
    lines = text.splitlines()
    lines.insert(len(lines) if at is None else at, row)
    return "\n".join(lines) + "\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


COMMANDS = ("info", "analyze", "record")


def run_command(capsys: pytest.CaptureFixture[str], command: str, path: Path, *options: str
                ) -> tuple[int, str, str]:
    if command == "record":
        return run(capsys, "record", str(path.parent / f"out-{time.monotonic_ns()}.csv"),
                   "--input", str(path), *options)
    return run(capsys, command, str(path), "--json", *options)


def assert_one_line_error(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert pattern in err, err


# name -> (content maker, expected substring of the one-line error)
ERRORS: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "non-UTF-8": (lambda p: (HEADER + "\n0,1,2,3,\xe9\n").encode("latin-1"), "not UTF-8 text"),
    "PNG": (lambda p: b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "is a PNG image"),
    "gzip": (lambda p: gzip.compress(scaled().encode()), "gzip-compressed"),
    "UTF-16": (lambda p: scaled().encode("utf-16"), "is a binary file"),
    "JSON": (lambda p: b'{"t": [0, 0.01]}', "looks like JSON"),
    "semicolons": (lambda p: scaled().replace(",", ";").encode(), "separated by semicolons"),
    "empty": (lambda p: b"", "the file is empty"),
    "header only": (lambda p: (HEADER + "\n").encode(), "header but no samples"),
    "cut mid-file": (lambda p: with_row(scaled(), "0.5,1,2", at=50).encode(), "truncated or corrupt"),
    "nan cell": (lambda p: with_row(scaled(), "99,nan,1,1,0,0,0").encode(), "expected a finite number"),
    "time in ms": (lambda p: scaled(time=1e3).encode(), "--time-unit ms"),
    "time in us": (lambda p: scaled(time=1e6).encode(), "--time-unit us"),
    "time in ns": (lambda p: scaled(time=1e9).encode(), "--time-unit ns"),
    "epoch time in ms": (lambda p: scaled(time=1e3, t0=1.76e9).encode(), "--time-unit ms"),
    "epoch time in ns": (lambda p: scaled(time=1e9, t0=1.76e9).encode(), "--time-unit ns"),
    "10 kHz": (lambda p: scaled(time=0.01).encode(), "outside the 1–2000 Hz"),
    "acceleration in g": (lambda p: scaled(acc=1 / 9.80665).encode(), "--acc-unit g"),
    "rates in deg/s": (lambda p: scaled(gyro=180 / math.pi * 20).encode(), "--gyro-unit deg/s"),
    "mostly absurd rows": (lambda p: scaled(acc=1e3).encode(), "beyond any IMU's range"),
    "NaN rate in metadata": (lambda p: recording_text(p, rate_hz=math.nan).encode(), "strict JSON, no NaN"),
    "Infinity in a marker": (lambda p: with_row(recording_text(p), '# marker {"t_s": Infinity, "kind": "note"}').encode(),
                             "strict JSON, no NaN"),
    "marker ending before it starts": (
        lambda p: with_row(recording_text(p), '# marker {"t_s": 5, "kind": "gap", "end_s": 4}').encode(),
        "end_s (if any) not before t_s"),
    "broken metadata mid-file": (lambda p: with_row(recording_text(p), '# calibration {"kind": ', at=10).encode(),
                                 "does not hold a JSON object"),
    "recording without source": (lambda p: "\n".join(l for l in recording_text(p).splitlines()
                                                      if not l.startswith("# source")).encode(),
                                 "no '# source' line"),
    "PDF": (lambda p: b"%PDF-1.7\n" + bytes(range(256)), "is a PDF document"),
    "XLSX": (lambda p: b"PK\x03\x04" + bytes(200), "is a ZIP archive"),
    "Windows-1252 text": (lambda p: ("t,ax,ay,az,gx,gy,gz,Bemerkung\n0,0,9.8,0,0,0,0,Rücken\n").encode("cp1252"),
                          "not UTF-8 text"),
    "zeros after a valid start": (lambda p: scaled().encode() + bytes(3 << 20), "is a binary file"),
    "HTML saved as .csv": (lambda p: b"<html><body>t,ax</body></html>\n", "missing columns"),
    "only comments": (lambda p: b"# nothing here\n# at all\n", "the file is empty"),
    "missing columns": (lambda p: b"t,ax,ay,az\n0,1,2,3\n", "missing columns gx, gy, gz"),
    "duplicate column": (lambda p: (HEADER + ",ax\n0,0,9.8,0,0,0,0,1\n").encode(), "appears more than once"),
    "tabs": (lambda p: scaled().replace(",", "\t").encode(), "separated by tabs"),
    "time going back": (lambda p: with_row(scaled(), "1.0,0,9.8,0,0,0,0").encode(), "time does not increase"),
    "repeated time": (lambda p: with_row(scaled(), "19.99,0,9.8,0,0,0,0").encode(), "time does not increase"),
    "overflowing number": (lambda p: with_row(scaled(), "30,1e309,9.8,0,0,0,0").encode(), "expected a finite number"),
    "text in a number column": (lambda p: with_row(scaled(), "30,abc,9.8,0,0,0,0").encode(), "column ax is 'abc'"),
    "newer format": (lambda p: recording_text(p).replace("recording 1", "recording 2").encode(),
                     "format version 2 is newer"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_gives_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        case: str, command: str) -> None:
    make, pattern = ERRORS[case]
    path = tmp_path / "input.csv"
    path.write_bytes(make(tmp_path))
    code, _, err = run_command(capsys, command, path)
    assert_one_line_error(code, err, pattern)


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_path_directory_and_device(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           command: str) -> None:
    for path, pattern in ((tmp_path / "nope.csv", "no such file"), (tmp_path, "is a directory"),
                          (Path(os.devnull), "is a device")):
        code, _, err = run_command(capsys, command, path)
        assert_one_line_error(code, err, pattern)


# name -> (content maker, options, what info must show)
READABLE: dict[str, tuple[Callable[[Path], bytes], tuple[str, ...], Callable[[dict], bool]]] = {
    "CR-only line ends": (lambda p: csv_text(motion(), "\r").encode(), (),
                          lambda s: s["samples"] == 2000 and s["nominal_rate_hz"] == 100.0),
    "CRLF line ends": (lambda p: csv_text(motion(), "\r\n").encode(), (),
                       lambda s: s["samples"] == 2000),
    "time in ms, stated": (lambda p: scaled(time=1e3).encode(), ("--time-unit", "ms"),
                           lambda s: abs(s["duration_s"] - 19.99) < 1e-6),
    "epoch time in ns, stated": (lambda p: scaled(time=1e9, t0=1.76e9).encode(), ("--time-unit", "ns"),
                                 lambda s: abs(s["duration_s"] - 19.99) < 1e-5 and s["gap_count"] == 0),
    "epoch seconds": (lambda p: scaled(t0=1.76e9).encode(), (),
                      lambda s: s["nominal_rate_hz"] == 100.0 and s["gap_count"] == 0),
    "acceleration in g, stated": (lambda p: scaled(acc=1 / 9.80665).encode(), ("--acc-unit", "g"),
                                  lambda s: s["samples"] == 2000 and not s["warnings"]),
    "rates in deg/s, stated": (lambda p: scaled(gyro=180 / math.pi * 20).encode(), ("--gyro-unit", "deg/s"),
                               lambda s: s["samples"] == 2000 and not s["warnings"]),
    "one absurd row (1e6 everywhere) at the end": (
        lambda p: with_row(scaled(), ",".join(["1e6"] * 7)).encode(), (),
        lambda s: s["samples"] == 2000 and s["dropped_rows"] == 1 and s["duration_s"] < 20),
    "one absurd row mid-file": (
        lambda p: with_row(scaled(), ",".join(["1e6"] * 7), at=1000).encode(), (),
        lambda s: s["dropped_rows"] == 1 and s["markers"] == {"gap": 1} and s["gap_count"] == 1),
    "one 1e7-s gap": (
        lambda p: csv_text(np.concatenate([motion()[:1000], motion()[1000:] + [1e7, 0, 0, 0, 0, 0, 0]])).encode(),
        (), lambda s: s["gap_count"] == 1 and s["longest_gap_s"] > 1e7 - 1),
    "torn last row of a recording": (lambda p: recording_text(p).encode()[:-20], (),
                                     lambda s: s["torn_lines"] == 1 and s["samples"] == 1999),
    "negative rate in metadata": (lambda p: recording_text(p, rate_hz=-5.0).encode(), (),
                                  lambda s: s["nominal_rate_hz"] == 100.0 and "sample_rate_hz -5.0" in s["warnings"][0]),
    "torn last marker line": (lambda p: (recording_text(p) + '# marker {"t_s": 1, "ki').encode(), (),
                              lambda s: s["torn_lines"] == 1 and s["samples"] == 2000),
    "BOM, quoted cells, comments and blank lines": (
        lambda p: ("\ufeff# logger v2\n\n" + scaled().replace(HEADER, '"t","ax","ay","az","gx","gy","gz"')).encode(),
        (), lambda s: s["samples"] == 2000),
    "two rows only": (lambda p: csv_text(motion()[:2]).encode(), (), lambda s: s["samples"] == 2),
    "0.001 Hz rate in metadata": (lambda p: recording_text(p, rate_hz=0.001).encode(), (),
                                  lambda s: s["nominal_rate_hz"] == 100.0 and len(s["warnings"]) == 1),
}


@pytest.mark.parametrize("case", list(READABLE))
def test_odd_but_readable_input_gives_the_right_result(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       case: str) -> None:
    make, options, check = READABLE[case]
    path = tmp_path / "input.csv"
    path.write_bytes(make(tmp_path))
    code, out, err = run_command(capsys, "info", path, *options)
    assert code == 0, err
    summary = json.loads(out)
    assert check(summary), summary
    assert all(line.startswith("tiltwatch info: warning: ") for line in err.splitlines())
    assert len(err.splitlines()) == len(summary["warnings"])
    out_path = tmp_path / "copy.csv"
    code, _, err = run(capsys, "record", str(out_path), "--input", str(path), *options)
    assert code == 0, err
    assert err.count("tiltwatch record: warning: ") == len(summary["warnings"])
    assert len(read_recording(out_path).batch) == summary["samples"]


@pytest.mark.parametrize("case", ["CR-only line ends", "time in ms, stated", "one absurd row (1e6 everywhere) at the end"])
def test_analyze_reads_odd_input_like_clean_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  case: str) -> None:
    make, options, _ = READABLE[case]
    odd, clean = tmp_path / "odd.csv", tmp_path / "clean.csv"
    odd.write_bytes(make(tmp_path))
    clean.write_text(scaled())
    code, out, err = run(capsys, "analyze", str(odd), "--json", *options)
    assert code == 0, err
    code, clean_out, _ = run(capsys, "analyze", str(clean), "--json")
    odd_result, clean_result = json.loads(out), json.loads(clean_out)
    for result in (odd_result, clean_result):
        result.pop("source")
    assert odd_result == clean_result


def test_unit_options_are_refused_for_a_tiltwatch_recording(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rec.csv"
    path.write_text(recording_text(tmp_path))
    code, _, err = run(capsys, "info", str(path), "--time-unit", "ms")
    assert_one_line_error(code, err, "unit options apply to generic CSV files")


def test_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for command in (["info", str(fifo)], ["analyze", str(fifo)],
                    ["record", str(tmp_path / "out.csv"), "--input", str(fifo)]):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "tui.cli", *command], capture_output=True,
                              text=True, timeout=60)
        assert time.monotonic() - started < 30
        assert_one_line_error(done.returncode, done.stderr, "is a FIFO (named pipe)")


def test_huge_sparse_file_is_refused_without_reading_it(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sparse.csv"
    path.write_text(scaled())
    os.truncate(path, 2 * 1024 ** 3)
    started = time.monotonic()
    code, _, err = run(capsys, "info", str(path))
    assert time.monotonic() - started < 5
    assert_one_line_error(code, err, "is a binary file")


def test_one_huge_line_is_refused_in_bounded_memory(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "line.csv"
    path.write_text(HEADER + "\n" + "1," * 10_000_000)  # 20 MB, no line end
    code, _, err = run(capsys, "info", str(path))
    assert_one_line_error(code, err, "line 2: the line is longer than 1 MiB")


def test_dangling_symlink_output_is_refused_with_true_advice(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text(scaled())
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "elsewhere" / "target.csv")
    code, _, err = run(capsys, "record", str(link), "--input", str(source))
    assert_one_line_error(code, err, "is a symbolic link")
    assert "overwriting" not in err
    assert not (tmp_path / "elsewhere").exists()


def test_recordings_are_readable_by_the_user_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text(scaled())
    out = tmp_path / "out.csv"
    old_umask = os.umask(0o022)
    try:
        code, _, err = run(capsys, "record", str(out), "--input", str(source))
    finally:
        os.umask(old_umask)
    assert code == 0, err
    assert out.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content, pattern", [
    (b"[squat]\nwink_flag_deg = 1\xff\n", "not UTF-8 text"),
    (b"[squat]\nwink_flag_deg = [1, 2]\n", "must be a number, got [1, 2]"),
    (b"[squat]\nwink_flag_deg = inf\n", "must be a finite number, got inf"),
    (b"[squat]\nwink_flag_deg = nan\n", "must be a finite number, got nan"),
    (b"[sustained_tilt]\nhold_sitting_s = -inf\n", "must be a finite number"),
])
def test_bad_config_gives_one_line_error_and_never_non_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            content: bytes, pattern: str) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(content)
    data = tmp_path / "in.csv"
    data.write_text(scaled())
    code, out, err = run(capsys, "analyze", str(data), "--json", "--config", str(config))
    assert_one_line_error(code, err, pattern)
    assert out == ""


def test_stream_batches_equal_the_whole_file_in_any_chunking(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(with_row(scaled(), ",".join(["1e6"] * 7), at=700))
    whole = read_recording(path)
    for chunking in ({"chunk_rows": 1}, {"chunk_rows": 333}, {"chunk_rows": 10 ** 6}, {"chunk_s": 0.7},
                     {"chunk_s": 100.0}):
        stream = open_recording_stream(path, **chunking)
        for _ in range(2):  # a stream restarts from the beginning
            batches = list(stream.batches())
            joined = SampleBatch.concatenate(batches)
            np.testing.assert_array_equal(joined.t, whole.batch.t)
            np.testing.assert_array_equal(joined.acc, whole.batch.acc)
            np.testing.assert_array_equal(joined.gyr, whole.batch.gyr)
            assert joined.markers == whole.batch.markers == stream.markers
            if "chunk_s" in chunking:
                windows = [np.unique(np.floor((b.t - b.t[0] * 0 - whole.batch.t[0]) / chunking["chunk_s"]))
                           for b in batches]
                assert all(len(w) == 1 for w in windows)
            else:
                assert all(len(b) == chunking["chunk_rows"] for b in batches[:-1])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=2000),
                         st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass")),
                         st.lists(st.sampled_from([HEADER, "# tiltwatch-recording 1", '# source {"device": "x", '
                                                   '"profile": "sim", "sample_rate_hz": 100}', "0,0,9.8,0,0,0,0",
                                                   "0.01,0,9.8,0,0,0,0", "# marker {}", "\r", "\n", ",", "1e6",
                                                   '"', "nan", "0.005"]), max_size=40)
                         .map(lambda parts: "".join(parts).encode())))
def test_arbitrary_bytes_never_crash_the_reader(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    try:
        read_recording(path)
    except TiltwatchError as error:
        assert "\n" not in str(error)


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.one_of(finite_or_not, st.floats(-100, 100)), min_size=7, max_size=7),
                     max_size=60),
       recording=st.booleans())
def test_arbitrary_rows_never_crash_the_reader(tmp_path: Path, rows: list[list[float]], recording: bool) -> None:
    lines = [HEADER] + (["# tiltwatch-recording 1", '# source {"device": "x", "profile": "sim", '
                         '"sample_rate_hz": 100}'] if recording else [])
    lines += [",".join(repr(v) for v in row) for row in rows]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    try:
        result = read_recording(path)
    except TiltwatchError as error:
        assert "\n" not in str(error)
    else:
        assert np.isfinite(result.batch.t).all() and (np.diff(result.batch.t) > 0).all()
        assert (np.linalg.norm(result.batch.gyr, axis=1) <= 50).all()


def test_a_huge_gap_costs_neither_time_nor_memory_in_record_input(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import tracemalloc

    table = motion()
    table[1000:, 0] += 1e7
    source = tmp_path / "gap.csv"
    source.write_text(csv_text(table))
    tracemalloc.start()
    try:
        code, _, err = run(capsys, "record", str(tmp_path / "out.csv"), "--input", str(source))
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, err
    assert peak_bytes < 50e6  # replay used to lay out one 0.1-s span per 1e8 spans of the gap (GBs)
    assert len(read_recording(tmp_path / "out.csv").batch) == len(table)


def test_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    data = tmp_path / "in.csv"
    data.write_text(scaled())
    code, out, err = run(capsys, "info", str(data))  # info reads no config: unaffected
    assert code == 0
    code, out, err = run(capsys, "analyze", str(data), "--config", str(fifo))
    assert_one_line_error(code, err, "not a regular file; expected a TOML settings file")


def _peak_bytes_of(action: Callable[[], object]) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


COMMENT_LINES = 200_000


def test_a_file_of_comment_lines_costs_no_memory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Many ``#`` comments amid a generic CSV's rows: the right result, in bounded
    memory (comments used to be kept, about 100 bytes each)."""
    lines = scaled().splitlines()
    path = tmp_path / "comments.csv"
    path.write_text("\n".join([lines[0], *["# exported by some logger"] * COMMENT_LINES, *lines[1:]]) + "\n")
    started = time.monotonic()
    result: list[tuple[int, str, str]] = []
    peak = _peak_bytes_of(lambda: result.append(run(capsys, "info", "--json", str(path))))
    code, out, err = result[0]
    assert code == 0, err
    assert json.loads(out)["samples"] == len(lines) - 1
    assert peak < 20e6
    assert time.monotonic() - started < 60


def test_a_recording_with_many_metadata_lines_keeps_the_last_per_key(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from firmware_interface.recording.metadata import MAX_ENTRIES_PER_KEY

    lines = 20 * MAX_ENTRIES_PER_KEY
    path = tmp_path / "notes.csv"
    path.write_text(recording_text(tmp_path) + "".join(f'# note {{"i": {i}}}\n' for i in range(lines)))
    code, _, err = run(capsys, "info", str(path))
    assert code == 0, err
    assert f"{lines} '# note' lines; kept the last {MAX_ENTRIES_PER_KEY}" in err
    notes_kept = open_recording_stream(path).metadata["note"]
    assert [entry["i"] for entry in notes_kept] == list(range(lines - MAX_ENTRIES_PER_KEY, lines))


def test_too_many_markers_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from firmware_interface.recording import metadata

    monkeypatch.setattr(metadata, "MAX_MARKERS", 1000)  # the real cap is 200,000: same code path
    markers = "".join(f'# marker {{"t_s": {i / 100}, "kind": "note"}}\n' for i in range(1001))
    path = tmp_path / "markers.csv"
    path.write_text(recording_text(tmp_path) + markers)
    for command in COMMANDS:
        code, _, err = run_command(capsys, command, path)
        assert_one_line_error(code, err, "more than 1000 markers; expected a few per hour")
