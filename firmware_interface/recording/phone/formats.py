"""Which phone app wrote an export, recognised from the CSVs' headers, and its sensors as channels.

**phyphox** names each CSV after the experiment's export set (``Raw Data.csv``...), so only the
header says what a table holds: a ``Time (s)`` column followed by ``Acceleration x (m/s^2)``...
(acceleration with g), ``Gyroscope x (rad/s)``..., or ``Linear Acceleration x (m/s^2)``...
(gravity removed: refused, tilt is measured against gravity). One table may hold several sensors,
each after a time column of its own. Times count from the experiment's start; tables of two
exports are put on one clock with each export's ``meta/time.csv`` (the system time at START).

**Sensor Logger** writes one CSV per sensor, all with the header ``time,seconds_elapsed,z,y,x``
(``time`` in epoch ns); which sensor a file holds is only in its name, as the app writes it
(``TotalAcceleration``, ``Accelerometer``, ``Gravity``, ``Gyroscope``), all in m/s² and rad/s.
Android's ``TotalAcceleration`` includes gravity. iOS logs only the user acceleration
(``Accelerometer``) and ``Gravity``, whose sum is the specific force, but with every sign turned
round unless "Standardise Units & Frames" was on; which one a file uses is read from the data:
worn top up (docs/phone.md), gravity reads positive on the phone's y axis in the standard frame.

Axes: the phone's x (screen right), y (screen top), z (out of the screen) are tiltwatch's sensor
axes when the phone is worn as docs/phone.md says, so they pass through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.errors import RecordingFormatError
from firmware_interface.recording.phone.channels import Channel, Dialect, ReadTally
from firmware_interface.recording.phone.members import Member
from firmware_interface.recording.phone.merge import aligned

PHYPHOX = "phyphox"
SENSOR_LOGGER = "Sensor Logger"
MIN_UPRIGHT_GRAVITY_M_S2 = 0.5 * STANDARD_GRAVITY
"""Median gravity along the phone's y axis below which the phone was not worn top up."""

_PHYPHOX_TIME = re.compile(r"time \(s\)", re.IGNORECASE)
_PHYPHOX_AXIS = re.compile(r"(linear acceleration|acceleration|gyroscope) ([xyz]) \((m/s\^2|rad/s)\)",
                           re.IGNORECASE)
_PHYPHOX_KINDS = {"acceleration": "accelerometer", "gyroscope": "gyroscope",
                  "linear acceleration": "linear acceleration"}
_LOGGER_COLUMNS = {"time", "seconds_elapsed", "x", "y", "z"}
_LOGGER_SENSORS = {"totalacceleration": "total acceleration", "accelerometer": "user acceleration",
                   "gravity": "gravity", "gyroscope": "gyroscope"}
PHYPHOX_EXPECTED = ('phyphox tables ("Time (s)","Acceleration x (m/s^2)",… and '
                    '"Time (s)","Gyroscope x (rad/s)",…)')
LOGGER_EXPECTED = "Sensor Logger CSVs (time,seconds_elapsed,z,y,x)"


@dataclass(frozen=True)
class PhoneExport:
    """The sensors of one recording from a phone app, ready to be read in chunks."""

    app: str
    accelerometer: Channel
    gyroscope: Channel
    gravity: Channel | None = None
    """Added to the accelerometer's user acceleration (Sensor Logger on iOS)."""
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def tables(self, tally: ReadTally) -> Iterator[np.ndarray]:
        """(n, 7) ``t,ax,ay,az,gx,gy,gz`` tables in s, m/s², rad/s, on the accelerometer's clock."""
        acc = self.accelerometer.chunks(tally)
        if self.gravity is not None:
            acc = ((t, user + gravity) for t, user, gravity in aligned(acc, self.gravity.chunks(tally), tally))
        for t, a, g in aligned(acc, self.gyroscope.chunks(tally), tally):
            yield np.column_stack([t, a, g])


def recognise(name: str, members: list[Member]) -> PhoneExport | None:
    """The export the CSVs make up; ``None`` if none of them is a phone app's table. Raises
    ``RecordingFormatError`` for an incomplete export or one mixing apps."""
    phyphox: list[tuple[str, Channel]] = []
    logger: list[tuple[str, Channel]] = []
    meta: dict[str, list[Member]] = {}
    for member in members:
        head = member.head(2)
        if not head:
            continue
        dialect = Dialect.sniff(head[0], head[1] if len(head) > 1 else "")
        cells = dialect.cells(head[0])
        if "system time" in (cell.lower() for cell in cells):
            meta.setdefault(member.export, []).append(member)
        phyphox.extend(_phyphox_channels(member, dialect, cells))
        logger.extend(_logger_channels(member, dialect, cells))
    if phyphox and logger:
        raise RecordingFormatError(name, "mixes phyphox and Sensor Logger files; expected one export")
    if phyphox:
        return _phyphox_export(name, phyphox, meta)
    if logger:
        return _logger_export(name, logger)
    return None


def _header_line(member: Member) -> int:
    for first, lines in member.lines():
        for offset, line in enumerate(lines):
            if line.strip():
                return first + offset
    return 1


def _phyphox_channels(member: Member, dialect: Dialect, cells: list[str]) -> Iterator[tuple[str, Channel]]:
    groups: list[tuple[int, dict[str, dict[str, int]]]] = []
    for index, cell in enumerate(cells):
        if _PHYPHOX_TIME.fullmatch(cell):
            groups.append((index, {}))
        elif (match := _PHYPHOX_AXIS.fullmatch(cell)) and groups:
            kind = _PHYPHOX_KINDS[match.group(1).lower()]
            groups[-1][1].setdefault(kind, {})[match.group(2).lower()] = index
    for time_column, kinds in groups:
        for kind, axes in kinds.items():
            if len(axes) == 3:
                yield kind, Channel(member, dialect, _header_line(member), time_column,
                                    (axes["x"], axes["y"], axes["z"]), kind)


def _logger_channels(member: Member, dialect: Dialect, cells: list[str]) -> Iterator[tuple[str, Channel]]:
    lowered = [cell.lower() for cell in cells]
    if not _LOGGER_COLUMNS <= set(lowered):
        return
    kind = _LOGGER_SENSORS.get(member.stem.lower())
    if kind is not None:
        yield kind, Channel(member, dialect, _header_line(member), lowered.index("time"),
                            (lowered.index("x"), lowered.index("y"), lowered.index("z")), kind,
                            time_scale=1e-9)


def _single(name: str, app: str, found: list[tuple[str, Channel]], kind: str) -> Channel | None:
    channels = [channel for k, channel in found if k == kind]
    if len(channels) > 1:
        raise RecordingFormatError(name, f"holds {len(channels)} {app} {kind} tables "
                                         f"({', '.join(c.member.label for c in channels)}); expected one "
                                         "recording: pass a folder or zip with a single export")
    return channels[0] if channels else None


def _phyphox_export(name: str, found: list[tuple[str, Channel]], meta: dict[str, list[Member]]) -> PhoneExport:
    acc = _single(name, PHYPHOX, found, "accelerometer")
    gyro = _single(name, PHYPHOX, found, "gyroscope")
    if acc is None and _single(name, PHYPHOX, found, "linear acceleration") is not None:
        raise RecordingFormatError(name, "holds phyphox's Linear Acceleration (gravity removed), but tilt is "
                                         "measured against gravity; export 'Acceleration with g' instead")
    if acc is None or gyro is None:
        has, lacks = ("gyroscope", "accelerometer (Acceleration with g)") if acc is None else \
            ("accelerometer", "gyroscope")
        raise RecordingFormatError(name, f"is a phyphox export with the {has} but no {lacks}; tiltwatch needs "
                                         "both, recorded together (see docs/phone.md)")
    if acc.member.export != gyro.member.export:
        starts = {export: _phyphox_start(name, meta.get(export, [])) for export in (acc.member.export,
                                                                                   gyro.member.export)}
        if None in starts.values():
            raise RecordingFormatError(name, "has the phyphox accelerometer and gyroscope in two exports "
                                             "without meta/time.csv, so their clocks cannot be put together; "
                                             "record both sensors in one experiment")
        # Gyroscope time on the accelerometer's clock: t_acc = t_gyro + (start_gyro - start_acc).
        gyro = replace(gyro, time_origin=starts[acc.member.export] - starts[gyro.member.export])
    return PhoneExport(PHYPHOX, acc, gyro, extra={"app": PHYPHOX, "accelerometer": acc.member.file_name,
                                                  "gyroscope": gyro.member.file_name})


def _phyphox_start(name: str, members: list[Member]) -> float | None:
    """System time (s since the epoch) of experiment time 0, from an export's ``meta/time.csv``."""
    for member in members:
        head = member.head(2)
        if len(head) < 2:
            continue
        dialect = Dialect.sniff(head[0], head[1])
        cells = [c.lower() for c in dialect.cells(head[0])]
        row = dialect.cells(head[1].replace(",", ".") if dialect.decimal_comma else head[1])
        try:
            return float(row[cells.index("system time")]) - float(row[cells.index("experiment time")])
        except (ValueError, IndexError):
            raise RecordingFormatError(member.label, "cannot read phyphox's start time; expected "
                                                     "'experiment time' and 'system time' numbers") from None
    return None


def _logger_export(name: str, found: list[tuple[str, Channel]]) -> PhoneExport:
    total = _single(name, SENSOR_LOGGER, found, "total acceleration")
    user = _single(name, SENSOR_LOGGER, found, "user acceleration")
    gravity = _single(name, SENSOR_LOGGER, found, "gravity")
    gyro = _single(name, SENSOR_LOGGER, found, "gyroscope")
    if total is None and user is not None and gravity is None:
        raise RecordingFormatError(name, "is a Sensor Logger export whose Accelerometer.csv has gravity removed, "
                                         "and there is no Gravity.csv or TotalAcceleration.csv to restore it; "
                                         "enable the Gravity sensor (or TotalAcceleration) in the app")
    if total is None and user is None:
        raise RecordingFormatError(name, "is a Sensor Logger export without an accelerometer; expected "
                                         "TotalAcceleration.csv (Android) or Accelerometer.csv + Gravity.csv")
    if gyro is None:
        raise RecordingFormatError(name, "is a Sensor Logger export with the accelerometer but no "
                                         "Gyroscope.csv; enable the Gyroscope sensor in the app")
    base = total if total is not None else user
    assert base is not None
    origin = base.first_time()
    extra: dict[str, Any] = {"app": SENSOR_LOGGER, "start_epoch_s": origin * 1e-9, "gyroscope": gyro.member.file_name}
    gyro = replace(gyro, time_origin=origin)
    if total is not None:
        extra["accelerometer"] = total.member.file_name
        return PhoneExport(SENSOR_LOGGER, replace(total, time_origin=origin), gyro, extra=extra)
    assert user is not None and gravity is not None
    sign = _gravity_sign(gravity)
    extra |= {"accelerometer": user.member.file_name, "gravity": gravity.member.file_name,
              "signs": "standard" if sign > 0 else "iOS (turned round)"}
    return PhoneExport(SENSOR_LOGGER, replace(user, time_origin=origin, sign=sign), gyro,
                       replace(gravity, time_origin=origin, sign=sign), extra=extra)


def _gravity_sign(gravity: Channel) -> float:
    """+1 if gravity reads up the phone's y axis (standard frame, worn top up), -1 if down (iOS)."""
    for _, values in gravity.chunks(ReadTally()):
        median_y = float(np.median(values[:, 1]))
        if abs(median_y) < MIN_UPRIGHT_GRAVITY_M_S2:
            raise RecordingFormatError(gravity.member.label, f"gravity along the phone's y axis is {median_y:.2f} "
                                                             "m/s² (median): the phone was not worn top up, so the "
                                                             "signs cannot be told; see docs/phone.md")
        return 1.0 if median_y > 0 else -1.0
    raise RecordingFormatError(gravity.member.label, "the gravity file has a header but no samples")
