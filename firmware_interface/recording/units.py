"""Units of a file's columns, and the physical checks that catch the wrong ones.

tiltwatch reads s, m/s² and rad/s. Other loggers write ms/µs/ns timestamps, g, or deg/s; read
as SI those are silent nonsense (milliseconds become hours of standing). So unless the user
states a unit, the data must look like that unit, judged from its first ``WINDOW_ROWS`` rows (from
``MIN_ROWS_TIME`` rows on for time, ``MIN_ROWS_MOTION`` for the others):

- time: the median step must imply ``MIN_RATE_HZ``–``MAX_RATE_HZ``; if it does in ms, µs or ns
  instead, the error says so and how to state it;
- acceleration: ‖a‖ at rest is gravity, so a median ‖a‖ near 1 means g;
- rate: a pelvis turns at well under 3 rad/s most of the time, and rarely beyond 15 rad/s; a
  median or 99th percentile beyond those is deg/s.

Rows beyond what any IMU measures (``MAX_ACC_M_S2``, ``MAX_GYRO_RAD_S``) are dropped by the reader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording.metadata import MAX_RATE_HZ, MIN_RATE_HZ

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
ACC_UNITS = {"m/s2": 1.0, "g": STANDARD_GRAVITY}
GYRO_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180.0}

WINDOW_ROWS = 65_536
"""Rows the unit checks and the nominal interval are judged on (11 min at 100 Hz)."""
MIN_ROWS_TIME = 3
MIN_ROWS_MOTION = 32
"""Fewer rows than these are too few to judge the time / the acceleration and rate units by."""
MAX_ACC_M_S2 = 50.0 * STANDARD_GRAVITY
MAX_GYRO_RAD_S = 50.0
"""Beyond what an IMU worn on a person can report: typical full scales are ±16 g and ±2000 °/s
(34.9 rad/s), and a pelvis turns far slower."""
G_MEDIAN_RANGE = (0.5, 2.0)
"""Median ‖a‖ of data in g (1 at rest)."""
SI_MEDIAN_ACC_RANGE = (6.0, 14.0)
"""Median ‖a‖ of data in m/s² (9.81 at rest); outside it only a warning."""
MAX_MEDIAN_GYRO_RAD_S = 3.0
MAX_P99_GYRO_RAD_S = 15.0


@dataclass(frozen=True)
class Units:
    """The units a generic CSV's columns are in; ``None`` means SI, checked against the data."""

    time: str | None = None
    acc: str | None = None
    gyro: str | None = None

    def __post_init__(self) -> None:
        for value, known in ((self.time, TIME_UNITS), (self.acc, ACC_UNITS), (self.gyro, GYRO_UNITS)):
            if value is not None and value not in known:
                raise ValueError(f"unknown unit {value!r}; expected one of {', '.join(known)}")

    @property
    def is_si(self) -> bool:
        return self.time in (None, "s") and self.acc in (None, "m/s2") and self.gyro in (None, "rad/s")

    def to_si(self, table: np.ndarray) -> np.ndarray:
        """The (N, 7) ``t,ax..gz`` table in s, m/s², rad/s (a new array if any unit is not SI)."""
        if self.is_si:
            return table
        scale = np.repeat([TIME_UNITS[self.time or "s"], ACC_UNITS[self.acc or "m/s2"],
                           GYRO_UNITS[self.gyro or "rad/s"]], [1, 3, 3])
        return table * scale


@dataclass(frozen=True)
class WindowStats:
    """What the unit checks look at, over the first ``WINDOW_ROWS`` rows (in the stated units)."""

    rows: int
    median_interval: float
    median_acc: float
    median_gyro: float
    p99_gyro: float

    @classmethod
    def of(cls, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> WindowStats:
        with np.errstate(over="ignore", invalid="ignore"):  # absurd rows are dropped later
            acc_norm, gyro_norm = np.linalg.norm(acc, axis=1), np.linalg.norm(gyr, axis=1)
            return cls(len(acc), float(np.median(np.diff(t))) if len(t) > 1 else math.nan,
                       float(np.median(acc_norm)), float(np.median(gyro_norm)),
                       float(np.percentile(gyro_norm, 99)))


def check_units(name: str, units: Units, stats: WindowStats, *, is_recording: bool) -> list[str]:
    """Raise ``RecordingFormatError`` when a generic CSV's column is likely in another unit than
    read; return warnings for data that is odd but may be right. A tiltwatch recording's units are
    fixed by its format, so there every finding is a warning."""
    errors, warnings = _findings(units, stats)
    if errors and not is_recording:
        raise RecordingFormatError(name, errors[0])
    return [error.partition("; pass --")[0] for error in errors] + warnings


def _findings(units: Units, stats: WindowStats) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    if units.time is None and stats.rows >= MIN_ROWS_TIME and math.isfinite(stats.median_interval):
        errors.extend(_time_findings(stats.median_interval))
    if stats.rows < MIN_ROWS_MOTION:
        return errors, warnings
    if units.acc is None:
        low, high = G_MEDIAN_RANGE
        if low <= stats.median_acc <= high:
            errors.append(f"acceleration looks like g, not m/s² (median |a| = {stats.median_acc:.3g}; "
                          "9.81 expected at rest); pass --acc-unit g")
        elif not SI_MEDIAN_ACC_RANGE[0] <= stats.median_acc <= SI_MEDIAN_ACC_RANGE[1]:
            warnings.append(f"median |a| is {stats.median_acc:.3g} m/s², not about 9.81 (gravity): "
                            "is gravity removed, or the unit not m/s²?")
    if units.gyro is None and (stats.median_gyro > MAX_MEDIAN_GYRO_RAD_S
                               or stats.p99_gyro > MAX_P99_GYRO_RAD_S):
        errors.append(f"angular rate looks like deg/s, not rad/s (median |ω| = {stats.median_gyro:.3g}, "
                      f"99th percentile {stats.p99_gyro:.3g}; a pelvis rarely exceeds "
                      f"{MAX_MEDIAN_GYRO_RAD_S:g} rad/s); pass --gyro-unit deg/s "
                      "(or --gyro-unit rad/s to read it as is)")
    return errors, warnings


def _time_findings(median_interval: float) -> list[str]:
    rate_hz = 1.0 / median_interval
    if MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        return []
    likely = next((unit for unit, factor in TIME_UNITS.items() if unit != "s"
                   and MIN_RATE_HZ <= 1.0 / (median_interval * factor) <= MAX_RATE_HZ), None)
    read_as = f"t steps by {median_interval:.6g} (median), i.e. {rate_hz:.3g} Hz if in seconds"
    if likely is not None:
        rate_in_unit = 1.0 / (median_interval * TIME_UNITS[likely])
        return [f"{read_as}; t looks like {likely} ({rate_in_unit:.4g} Hz); pass --time-unit {likely}"]
    return [f"{read_as}, outside the {MIN_RATE_HZ:g}–{MAX_RATE_HZ:g} Hz of an IMU; expected t in "
            "seconds; pass --time-unit s|ms|us|ns to state its unit"]
