"""``tiltwatch export --csv DIR``: the analysis as plain CSV files a spreadsheet opens.

One file per table, times in seconds from the session's start, angles in degrees (anterior
positive), depths in metres; an empty cell where a value is unknown. Existing files are never
overwritten.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from firmware_interface.errors import UsageError
from fusion.session import SessionAnalysis

FILES = ("tilt.csv", "activities.csv", "episodes.csv", "alerts.csv", "reps.csv")


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def tables(analysis: SessionAnalysis) -> dict[str, tuple[Sequence[str], Iterable[Sequence[str]]]]:
    """{file name: (header, rows)}, rows as text cells."""
    a = analysis
    t = a.tilt.t_s
    labels = np.full(len(t), "", dtype=object)
    for span in a.activities:
        labels[(t >= span.start_s) & (t <= span.end_s)] = span.activity
    tilt_rows = ((f"{ti:.1f}", _cell(float(d), 2), label) for ti, d, label in zip(t.tolist(), a.tilt.deg, labels))
    return {
        "tilt.csv": (("t_s", "tilt_deg", "activity"), tilt_rows),
        "activities.csv": (("start_s", "end_s", "activity"),
                           ((_cell(s.start_s, 2), _cell(s.end_s, 2), s.activity) for s in a.activities)),
        "episodes.csv": (("start_s", "end_s", "direction", "activity", "peak_deg", "threshold_deg"),
                         ((_cell(e.start_s, 2), _cell(e.end_s, 2), e.direction, e.activity, _cell(e.peak_deg, 1),
                           _cell(e.threshold_deg, 1)) for e in a.episodes)),
        "alerts.csv": (("t_s", "direction", "angle_deg", "duration_s", "activity", "episode_start_s"),
                       ((_cell(al.t_s, 2), al.direction, _cell(al.angle_deg, 1), _cell(al.duration_s, 1),
                         al.activity, _cell(al.episode_start_s, 2)) for al in a.alerts)),
        "reps.csv": (("set", "rep", "start_s", "bottom_s", "end_s", "depth_m", "descent_s", "bottom_pause_s",
                      "ascent_s", "wink_deg", "wink_level", "butt_wink"),
                     ((str(r.set), str(r.index), _cell(r.start_s, 2), _cell(r.bottom_s, 2), _cell(r.end_s, 2),
                       _cell(r.depth_m, 3), _cell(r.descent_s, 2), _cell(r.bottom_pause_s, 2), _cell(r.ascent_s, 2),
                       _cell(r.wink_deg, 1), r.wink_level, str(r.butt_wink).lower()) for r in a.reps)),
    }


def check_directory(directory: Path) -> None:
    """``UsageError`` unless ``directory`` is a folder (or can become one) holding none of ``FILES``."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; --csv takes a folder to write {', '.join(FILES)} into")
    taken = [name for name in FILES if (directory / name).exists() or (directory / name).is_symlink()]
    if taken:
        raise UsageError(f"{directory} already holds {', '.join(taken)}; choose a new or empty folder "
                         "(exports never overwrite files)")


def export_csv(analysis: SessionAnalysis, directory: Path) -> list[Path]:
    """Write ``FILES`` into ``directory`` (created if missing); ``UsageError`` if any exists."""
    check_directory(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, (header, rows) in tables(analysis).items():
            path = directory / name
            with open(path, "x", newline="", encoding="utf-8") as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
            written.append(path)
    except OSError as error:
        raise UsageError(f"cannot write into {directory} ({error.strerror or error})") from None
    return written
