"""Write simulated sessions in the layouts phone apps export (phyphox, Sensor Logger), for tests.

The phone is worn as docs/phone.md says, so its axes are the simulated sensor's. Each sensor gets
a clock of its own: the session is simulated at twice the rate and the accelerometer takes the
even samples, the gyroscope the odd ones (half a sample later).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.simulator import SimulatedSession
from firmware_interface.simulator._rotation import quat_to_matrix

EPOCH_NS = 1_764_650_000_000_000_000


@dataclass(frozen=True)
class PhoneSamples:
    """What the phone's sensors measured, each on its own clock (s, m/s², rad/s, sensor frame)."""

    acc_t: np.ndarray
    acc: np.ndarray
    gravity: np.ndarray
    """Gravity's share of ``acc`` (specific force, up positive), as the phone's OS estimates it."""
    gyro_t: np.ndarray
    gyro: np.ndarray

    @classmethod
    def of(cls, session: SimulatedSession) -> PhoneSamples:
        batch = session.batch
        sensor_to_earth = quat_to_matrix(session.truth.sensor_quat[session.delivered_index])
        gravity = np.einsum("nji,j->ni", sensor_to_earth, np.array([0.0, 0.0, STANDARD_GRAVITY]))
        return cls(batch.t[::2], batch.acc[::2], gravity[::2], batch.t[1::2], batch.gyr[1::2])


def _number(value: float, decimal_comma: bool) -> str:
    text = f"{value:.9E}"
    return text.replace(".", ",") if decimal_comma else text


def _table(header: list[str], columns: list[np.ndarray], separator: str, decimal_comma: bool) -> str:
    """A phyphox table: quoted header, columns padded with NaN to the longest."""
    length = max(len(c) for c in columns)
    lines = [separator.join(f'"{name}"' for name in header)]
    padded = [np.concatenate([c, np.full(length - len(c), np.nan)]) for c in columns]
    for row in np.column_stack(padded):
        lines.append(separator.join("NaN" if np.isnan(v) else _number(v, decimal_comma) for v in row))
    return "\n".join(lines) + "\n"


def phyphox_tables(samples: PhoneSamples, *, separator: str = ",", decimal_comma: bool = False,
                   one_table: bool = False, linear: bool = False) -> dict[str, str]:
    """The CSVs of a phyphox export: {name in the zip: text}."""
    acc_name = "Linear Acceleration" if linear else "Acceleration"
    acc_values = samples.acc - samples.gravity if linear else samples.acc
    acc_header = ["Time (s)", *(f"{acc_name} {a} (m/s^2)" for a in "xyz"), "Absolute acceleration (m/s^2)"]
    gyro_header = ["Time (s)", *(f"Gyroscope {a} (rad/s)" for a in "xyz"), "Absolute (rad/s)"]
    acc_columns = [samples.acc_t, *acc_values.T, np.linalg.norm(acc_values, axis=1)]
    gyro_columns = [samples.gyro_t, *samples.gyro.T, np.linalg.norm(samples.gyro, axis=1)]
    start = _number(1764650000.0, decimal_comma)
    meta = {"meta/time.csv": separator.join(f'"{c}"' for c in ("event", "experiment time", "system time",
                                                               "system time text"))
            + "\n" + separator.join(["START", _number(0.0, decimal_comma), start, "2025-12-02 04:33:20"]) + "\n",
            "meta/device.csv": '"property","value"\n"deviceModel","simulated phone"\n'}
    if one_table:
        return {"Raw Data.csv": _table(acc_header + gyro_header, acc_columns + gyro_columns, separator,
                                       decimal_comma)} | meta
    return {"Accelerometer.csv": _table(acc_header, acc_columns, separator, decimal_comma),
            "Gyroscope.csv": _table(gyro_header, gyro_columns, separator, decimal_comma)} | meta


def sensor_logger_files(samples: PhoneSamples, *, platform: str = "android") -> dict[str, str]:
    """The CSVs of a Sensor Logger export: {file name: text}. iOS: user acceleration and gravity
    with every sign turned round (the app's default, "Standardise Units & Frames" off)."""
    def table(t: np.ndarray, xyz: np.ndarray) -> str:
        ns = EPOCH_NS + np.round(t * 1e9).astype(np.int64)
        lines = ["time,seconds_elapsed,z,y,x"]
        lines += [f"{n},{s!r},{v[2]!r},{v[1]!r},{v[0]!r}" for n, s, v in
                  zip(ns.tolist(), (t - samples.acc_t[0]).tolist(), xyz.tolist())]
        return "\n".join(lines) + "\n"

    user = samples.acc - samples.gravity
    files = {"Gyroscope.csv": table(samples.gyro_t, samples.gyro),
             "Metadata.csv": f"version,device name,recording time,platform\n3,simulated,2025-12-02,{platform}\n"}
    if platform == "ios":
        return files | {"Accelerometer.csv": table(samples.acc_t, -user),
                        "Gravity.csv": table(samples.acc_t, -samples.gravity)}
    return files | {"TotalAcceleration.csv": table(samples.acc_t, samples.acc),
                    "Accelerometer.csv": table(samples.acc_t, user),
                    "Gravity.csv": table(samples.acc_t, samples.gravity)}


def write_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def write_folder(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def steady_sensor_logger(path: Path, minutes: float, rate_hz: float = 100.0) -> Path:
    """A long Android Sensor Logger export of a still, upright phone (noise only), written fast."""
    rng = np.random.default_rng(0)
    t = np.arange(int(minutes * 60 * rate_hz)) / rate_hz

    def table(times: np.ndarray, xyz: np.ndarray) -> str:
        ns = EPOCH_NS + np.round(times * 1e9).astype(np.int64)
        buffer = io.StringIO()
        np.savetxt(buffer, np.column_stack([ns, times, xyz[:, ::-1]]), delimiter=",",
                   fmt=["%d", "%.6f", "%.6g", "%.6g", "%.6g"], header="time,seconds_elapsed,z,y,x", comments="")
        return buffer.getvalue()

    acc = np.array([0.0, STANDARD_GRAVITY, 0.3]) + rng.normal(0.0, 0.05, (len(t), 3))
    gyro = rng.normal(0.0, 0.01, (len(t), 3))
    return write_zip(path, {"TotalAcceleration.csv": table(t, acc),
                            "Gyroscope.csv": table(t + 0.4 / rate_hz, gyro)})
