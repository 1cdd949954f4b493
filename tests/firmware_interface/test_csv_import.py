"""Generic CSV files: the tolerated variations, and one clear error line for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording import read_recording, summarize


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def csv_text(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> str:
    table = np.column_stack([t, acc, gyr]).tolist()  # Python floats: repr() round-trips
    rows = [",".join(repr(value) for value in row) for row in table]
    return "t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generic_csv_reads_exactly_with_estimated_rate(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rate_hz = rng.choice([50.0, 100.0, 200.0])
    n = 500
    t = 3.0 + np.arange(n) / rate_hz + rng.normal(0, 0.02 / rate_hz, n)
    acc, gyr = rng.normal(0, 3, (n, 3)) + [0.0, 9.81, 0.0], rng.normal(0, 1, (n, 3))
    recording = read_recording(write(tmp_path, csv_text(t, acc, gyr)))
    assert recording.format_version is None and recording.torn_lines == 0
    assert (recording.info.device, recording.info.profile) == ("CSV import", "csv")
    assert recording.info.sample_rate_hz == pytest.approx(rate_hz, rel=0.01)
    np.testing.assert_array_equal(recording.batch.t, t)  # repr() round-trips exactly
    np.testing.assert_array_equal(recording.batch.acc, acc)
    np.testing.assert_array_equal(recording.batch.gyr, gyr)
    assert recording.batch.markers == () and recording.metadata == {}


def test_any_column_order_extra_columns_whitespace_crlf_bom_and_comments(tmp_path: Path) -> None:
    text = ("\ufeff# exported by some logger\r\n"
            ' "GZ" , label, t ,ax,ay,az,gx,gy, temp_c \r\n'
            "0.3, sitting, 0.00, 1.0, 9.8, 0.1, 0.01, 0.02, 36.5\r\n"
            "\r\n"
            "# a comment between rows\r\n"
            "0.4 ,standing,0.01,1.1,9.7,0.2,0.03,0.04,n/a\r\n"
            "0.5,standing,0.02,1.2,9.6,0.3,0.05,0.06,36.6")  # no final newline
    recording = read_recording(write(tmp_path, text))
    np.testing.assert_array_equal(recording.batch.t, [0.0, 0.01, 0.02])
    np.testing.assert_array_equal(recording.batch.acc, [[1.0, 9.8, 0.1], [1.1, 9.7, 0.2],
                                                        [1.2, 9.6, 0.3]])
    np.testing.assert_array_equal(recording.batch.gyr, [[0.01, 0.02, 0.3], [0.03, 0.04, 0.4],
                                                        [0.05, 0.06, 0.5]])
    assert recording.torn_lines == 0


def test_quoted_cells_including_commas_in_ignored_columns(tmp_path: Path) -> None:
    text = ('"t","ax","ay","az","gx","gy","gz","note"\n'
            '"0.0","1","2","3","4","5","6","sat down, slouched"\n'
            '0.01,1,2,3,4,5,6,"stood up"\n')
    recording = read_recording(write(tmp_path, text))
    np.testing.assert_array_equal(recording.batch.t, [0.0, 0.01])
    np.testing.assert_array_equal(recording.batch.gyr, [[4, 5, 6], [4, 5, 6]])
    path = write(tmp_path, text + '0.02,1,2,"3,5",4,5,6,""\n', "bad.csv")
    with pytest.raises(RecordingFormatError, match=r"line 4: column az is '3,5'"):
        read_recording(path)


def test_torn_last_row_of_a_generic_csv_is_ignored_and_counted(tmp_path: Path) -> None:
    text = "t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n0.02,1,2,3"
    recording = read_recording(write(tmp_path, text))
    assert recording.torn_lines == 1
    np.testing.assert_array_equal(recording.batch.t, [0.0, 0.01])


def test_timing_gaps_in_a_generic_csv_are_summarised(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    t = np.concatenate([np.arange(0, 2, 0.01), np.arange(2.5, 3, 0.01), np.arange(3.04, 4, 0.01)])
    acc = rng.normal(size=(len(t), 3)) + [0.0, 9.81, 0.0]
    path = write(tmp_path, csv_text(t, acc, rng.normal(size=(len(t), 3))))
    summary = summarize(read_recording(path))
    # 0.5 s and 0.05 s holes are gaps (> 3 x 10 ms); jitter-free 10 ms steps are not.
    assert summary.gaps == (pytest.approx((1.99, 2.5)), pytest.approx((2.99, 3.04)))
    assert summary.gap_total_s == pytest.approx(0.51 + 0.05)
    assert summary.nominal_rate_hz == pytest.approx(100.0)
    assert summary.format_version is None and summary.device == "CSV import"
    assert json.loads(json.dumps(summary.to_json()))["gaps"][0] == pytest.approx([1.99, 2.5])


def test_rate_estimate_ignores_gaps(tmp_path: Path) -> None:
    t = np.concatenate([np.arange(0, 1, 0.005), np.arange(5, 6, 0.005)])
    acc = np.tile([0.0, 9.81, 0.0], (len(t), 1))
    recording = read_recording(write(tmp_path, csv_text(t, acc, np.zeros((len(t), 3)))))
    assert recording.info.sample_rate_hz == pytest.approx(200.0)


HEADER = "t,ax,ay,az,gx,gy,gz\n"
BAD_TEXT_CASES = {
    "missing columns": ("t,ax,ay,az,gx\n0,1,2,3,4\n", 1, r"missing columns gy, gz; expected a header"),
    "non-numeric cell": (HEADER + "0,1,2,3,4,5,6\n0.01,1,2,x3,4,5,6\n", 3, r"column az is 'x3'"),
    "empty cell": (HEADER + "0,1,2,3,4,5,6\n0.01,1,,3,4,5,6\n", 3, r"column ay is empty"),
    "nan cell": (HEADER + "0,1,2,3,4,nan,6\n", 2, r"column gy is nan; expected a finite number"),
    "time not increasing": (HEADER + "0,1,2,3,4,5,6\n0.02,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n", 4,
                            r"time does not increase"),
    "repeated time": (HEADER + "0,1,2,3,4,5,6\n0,1,2,3,4,5,6\n", 3, r"time does not increase"),
    "short row mid-file": (HEADER + "0,1,2,3,4,5,6\n0.01,1,2\n0.02,1,2,3,4,5,6\n", 3,
                           r"row has 3 cells, expected at least 7"),
    "empty file": ("", None, r"the file is empty"),
    "only blank lines": ("\n \n\n", None, r"the file is empty"),
    "header only": (HEADER, None, r"header but no samples"),
    "semicolons": ("t;ax;ay;az;gx;gy;gz\n0;1;2;3;4;5;6\n", 1, r"separated by semicolons"),
    "json file": ('{"t": [0, 1], "ax": [1, 2]}\n', None, r"looks like JSON"),
    "bad version line": ("t,ax,ay,az,gx,gy,gz\n# tiltwatch-recording one\n0,1,2,3,4,5,6\n", 2,
                         r"unreadable format version 'one'"),
}


@pytest.mark.parametrize("case", list(BAD_TEXT_CASES))
def test_bad_text_gives_one_line_naming_file_line_and_problem(tmp_path: Path, case: str) -> None:
    text, line, pattern = BAD_TEXT_CASES[case]
    path = write(tmp_path, text)
    with pytest.raises(RecordingFormatError, match=pattern) as caught:
        read_recording(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert caught.value.line == line
    if line is not None:
        assert f"line {line}:" in message


@pytest.mark.parametrize("content, pattern", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "is a PNG image"),
    (b"PK\x03\x04" + bytes(100), r"is a ZIP archive"),
    (b"t,ax\x00\x01\x02", "is a binary file"),
    ("t,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n".encode("utf-16"), "is a binary file"),
    (b"t,ax,ay,az,gx,gy,gz\n\xff\xfe\xfa,1,2\n", "not UTF-8 text"),
])
def test_binary_or_foreign_files_are_rejected(tmp_path: Path, content: bytes, pattern: str) -> None:
    path = tmp_path / "mistake.csv"
    path.write_bytes(content)
    with pytest.raises(RecordingFormatError, match=pattern) as caught:
        read_recording(path)
    assert "expected text with a header row naming t,ax,ay,az,gx,gy,gz" in str(caught.value)


def test_missing_path_and_directory_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(RecordingFormatError, match=r"nope\.csv: no such file"):
        read_recording(tmp_path / "nope.csv")
    with pytest.raises(RecordingFormatError, match="is a directory"):
        read_recording(tmp_path)
