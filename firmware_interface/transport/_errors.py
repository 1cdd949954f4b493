"""bleak and OS errors -> ``firmware_interface.errors``, at the transport boundary only."""

from __future__ import annotations

import contextlib
from typing import Iterator

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

from firmware_interface.errors import BluetoothUnavailableError, BluetoothUnavailableReason

_REASONS = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: BluetoothUnavailableReason.NO_BLUETOOTH,
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: BluetoothUnavailableReason.NO_BLUETOOTH,
    BleakBluetoothNotAvailableReason.POWERED_OFF: BluetoothUnavailableReason.POWERED_OFF,
    BleakBluetoothNotAvailableReason.DENIED_BY_USER: BluetoothUnavailableReason.DENIED,
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: BluetoothUnavailableReason.DENIED,
    BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN: BluetoothUnavailableReason.DENIED,
}

# What BlueZ/D-Bus say when the adapter is missing, off or forbidden (bleak passes them as text).
_MESSAGE_REASONS = (
    ("no bluetooth adapters found", BluetoothUnavailableReason.NO_BLUETOOTH),
    ("adapter not found", BluetoothUnavailableReason.NO_BLUETOOTH),
    ("org.bluez.error.notready", BluetoothUnavailableReason.POWERED_OFF),
    ("not powered", BluetoothUnavailableReason.POWERED_OFF),
    ("accessdenied", BluetoothUnavailableReason.DENIED),
    ("not authorized", BluetoothUnavailableReason.DENIED),
)


def unavailable_reason(error: BaseException) -> BluetoothUnavailableReason | None:
    """The 'Bluetooth unavailable' reason an error stands for, or ``None`` for other errors."""
    if isinstance(error, BleakBluetoothNotAvailableError):
        return _REASONS.get(error.reason, BluetoothUnavailableReason.UNKNOWN)
    if isinstance(error, PermissionError):
        return BluetoothUnavailableReason.DENIED
    if isinstance(error, FileNotFoundError):  # no D-Bus system socket: no Bluetooth stack at all
        return BluetoothUnavailableReason.NO_BLUETOOTH
    if isinstance(error, BleakError):
        text = str(error).lower()
        return next((reason for fragment, reason in _MESSAGE_REASONS if fragment in text), None)
    return None


@contextlib.contextmanager
def adapter_errors() -> Iterator[None]:
    """Raise ``BluetoothUnavailableError`` for adapter problems; let everything else through."""
    try:
        yield
    except (BleakError, OSError) as error:
        reason = unavailable_reason(error)
        if reason is None:
            raise
        raise BluetoothUnavailableError(reason, str(error).splitlines()[0] if str(error) else "") from error
