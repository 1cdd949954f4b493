"""`tiltwatch report` (self-contained HTML, PNG) and `tiltwatch export --csv`."""

from __future__ import annotations

import csv
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from firmware_interface.recording import RecordingWriter
from firmware_interface.simulator import simulate
from fusion.analysis import analyze_batch
from fusion.corrections import DISCLAIMER
from tui.cli import main
from tui.reports import figures
from tui.reports.csv_export import FILES, tables
from tui.reports.html import render_html


@pytest.fixture(scope="module")
def squat_file(tmp_path_factory) -> Path:
    session = simulate("squat", sample_rate_hz=50.0, seed=3)
    path = tmp_path_factory.mktemp("rec") / "squat.csv"
    with RecordingWriter(path, session.info) as writer:
        writer.append(session.batch)
    return path


@pytest.fixture(scope="module")
def desk():
    session = simulate("desk", sample_rate_hz=50.0, seed=2)
    return analyze_batch(session.batch, session.info)


class _Collect(HTMLParser):
    """Every tag and attribute, to look for anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((k, v or "") for k, v in attrs)


def _assert_self_contained(page: str) -> None:
    assert not re.search(r"(?i)(https?:|ftp:|file:|data:|//[a-z0-9])", page), "the report names a URL"
    parser = _Collect()
    parser.feed(page)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parser.tags)
    for name, value in parser.attributes:
        if name in ("href", "xlink:href", "src"):
            assert value.startswith("#"), (name, value)
    # References inside the SVGs (clip paths, markers) point at ids defined in the page.
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    for target in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', page):
        assert (target[0] or target[1]) in ids


def test_desk_report_is_one_offline_file_with_every_section(desk) -> None:
    page = render_html(desk)
    _assert_self_contained(page)
    assert page.count("<svg") == 2  # tilt + activity timeline, time in zone (no reps)
    for heading in ("Tilt over time", "Time in zone", "Alerts", "Sustained tilt episodes", "What to work on"):
        assert f"<h2>{heading}</h2>" in page
    assert DISCLAIMER in page
    assert desk.alerts and all(alert.why in page.replace("&#x27;", "'") for alert in desk.alerts)
    for pattern in desk.patterns:
        assert {"anterior": "Anterior pelvic tilt", "posterior": "Posterior pelvic tilt"}[pattern] in page


def test_report_command_writes_html_and_png_of_a_squat_recording(squat_file: Path, tmp_path: Path) -> None:
    html_path, png_path = tmp_path / "r.html", tmp_path / "r.png"
    assert main(["report", str(squat_file), "--html", str(html_path), "--png", str(png_path)]) == 0
    page = html_path.read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert "<h2>Squats</h2>" in page and page.count("<svg") == 3 and "butt-wink reversal" in page
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*partial"))


def test_long_tilt_series_are_decimated_keeping_every_extreme() -> None:
    t = np.arange(100_000) / 10.0
    values = np.sin(t / 50.0) + np.where(np.arange(len(t)) % 997 == 0, 5.0, 0.0)
    values[500:700] = np.nan
    dt, dv = figures.decimated(t, values, buckets=500)
    assert len(dt) <= 2 * 500 + 2 and np.all(np.diff(dt) > 0)  # min and max per bucket, NaN at the 2 gap edges
    assert np.nanmax(dv) == np.nanmax(values) and np.nanmin(dv) == np.nanmin(values)
    assert np.isnan(dv).any()  # the gap stays a break in the line


@pytest.mark.parametrize("argv, message", [
    (["--png", "out.svg"], "expected a file name ending in .png"),
    ([], "nothing to write"),
])
def test_report_arguments_fail_in_one_line(squat_file: Path, tmp_path: Path, capsys, argv, message) -> None:
    argv = [a if not a.startswith("out") else str(tmp_path / a) for a in argv]
    assert main(["report", str(squat_file), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err


def test_report_never_replaces_its_input(squat_file: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "rec.png"
    copy.write_bytes(b"not really")
    assert main(["report", str(copy), "--png", str(copy)]) == 2
    assert "is the input itself" in capsys.readouterr().err
    assert copy.read_bytes() == b"not really"


def test_without_matplotlib_the_report_says_how_to_install_it(squat_file, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert main(["report", str(squat_file), "--html", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "tiltwatch report: reports need matplotlib: pip install 'tiltwatch[report]'"


def test_export_writes_plain_csv_tables(squat_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "export"
    assert main(["export", str(squat_file), "--csv", str(out)]) == 0
    read = {name: list(csv.DictReader(open(out / name, encoding="utf-8"))) for name in FILES}
    assert len(read["reps.csv"]) >= 10 and {"depth_m", "wink_deg", "butt_wink"} <= read["reps.csv"][0].keys()
    tilt = read["tilt.csv"]
    assert float(tilt[1]["t_s"]) == pytest.approx(0.1) and {r["activity"] for r in tilt} >= {"standing", "squatting"}
    assert [r["activity"] for r in read["activities.csv"]][:2] == ["standing", "squatting"]
    # Never overwritten: a second export into the same folder is refused, the files unchanged.
    before = (out / "reps.csv").read_bytes()
    assert main(["export", str(squat_file), "--csv", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err and (out / "reps.csv").read_bytes() == before


def test_export_tables_match_the_analysis(desk) -> None:
    exported = {name: list(rows) for name, (_, rows) in tables(desk).items()}
    assert len(exported["tilt.csv"]) == len(desk.tilt.deg)
    assert len(exported["episodes.csv"]) == len(desk.episodes) and len(exported["alerts.csv"]) == len(desk.alerts)
    assert [row[2] for row in exported["episodes.csv"]] == [e.direction for e in desk.episodes]
    missing = ~np.isfinite(desk.tilt.deg)
    assert all((row[1] == "") == bool(m) for row, m in zip(exported["tilt.csv"], missing))


def test_a_stored_session_reports_without_a_new_analysis(squat_file: Path, tmp_path: Path, monkeypatch) -> None:
    """`report SESSION`: the stored JSON and series give the same page as the file's analysis."""
    from_file, from_store = tmp_path / "file.html", tmp_path / "store.html"
    assert main(["report", str(squat_file), "--html", str(from_file)]) == 0  # analysed, and saved as session 1

    def no_analysis(*args, **kwargs):
        raise AssertionError("a stored session must not be analysed again")

    monkeypatch.setattr("fusion.analysis.analyze_passes", no_analysis)
    assert main(["report", "1", "--html", str(from_store)]) == 0
    # The same page but for the last digit of numbers the store kept rounded (19.46° is 19.5° stored,
    # shown 20°) and the plots' coordinates.
    def shape(page: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL))

    assert shape(from_store.read_text()) == shape(from_file.read_text())
    assert from_store.read_text().count("<svg") == 3


def test_an_unknown_session_fails_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["export", "7", "--csv", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no session 7" in err
