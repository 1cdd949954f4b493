"""Errors a user can cause or meet: each turns into one clear line in the CLI and the TUI.

Bytes from the air never raise (decoders count and skip them); these are for bad files,
bad arguments, and sensors or adapters that are missing.
"""

from __future__ import annotations

import enum


class TiltwatchError(Exception):
    """Root of every error tiltwatch reports to the user as one line."""


class RecordingFormatError(TiltwatchError):
    """A recording or CSV file that cannot be read; names the file, and line/column where known."""

    def __init__(self, path: str, message: str, line: int | None = None, column: str | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}")


class BluetoothUnavailableReason(enum.Enum):
    NO_BLUETOOTH = "no Bluetooth adapter found"
    POWERED_OFF = "the Bluetooth adapter is off"
    DENIED = "permission to use Bluetooth was denied"
    UNKNOWN = "Bluetooth is not available"


class BluetoothUnavailableError(TiltwatchError):
    def __init__(self, reason: BluetoothUnavailableReason, detail: str = ""):
        self.reason = reason
        super().__init__(reason.value + (f" ({detail})" if detail else ""))


class SensorNotFoundError(TiltwatchError):
    def __init__(self, identifier: str, seconds: float):
        self.identifier = identifier
        super().__init__(f"no sensor matching {identifier!r} found within {seconds:g} s; "
                         "is it switched on, charged and near this computer?")


class UnsupportedSensorError(TiltwatchError):
    def __init__(self, name: str, address: str, supported: str):
        self.name = name
        self.address = address
        super().__init__(f"{name or 'unnamed device'} ({address}) is not a supported sensor; "
                         f"supported profiles: {supported}")


class CalibrationRejected(TiltwatchError):
    """The wearer moved during a calibration window (or the window was too short)."""

    def __init__(self, reason: str, motion_deg: float | None = None):
        self.reason = reason
        self.motion_deg = motion_deg
        super().__init__(reason)


class UsageError(TiltwatchError):
    """A wrong command-line argument or option value."""


class SensorConnectionError(TiltwatchError):
    """A sensor was found but connecting to it or configuring it kept failing."""

    def __init__(self, name: str, address: str, detail: str):
        self.name = name
        self.address = address
        super().__init__(f"could not connect to {name or 'the sensor'} ({address}): {detail}")
